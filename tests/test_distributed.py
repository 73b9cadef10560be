"""learnkit.distributed and fit under torch.distributed: two gloo processes on the loopback interface, bounded timeouts."""
import copy, os, subprocess, sys, textwrap
import pytest, torch, torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from learnkit.distributed import launch, average_gradients, broadcast_parameters, shard

torch.manual_seed(0)
MODEL = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).double()
X, Y = torch.randn(32, 6, dtype=torch.float64), torch.randn(32, 3, dtype=torch.float64)

def _loss(m, x, y): return ((m(x) - y) ** 2).mean()

def _rank_info(rank, world): return rank, world, dist.get_rank(), dist.get_world_size()
def _fails(rank, world):
    if rank == 1: raise ValueError('rank one says no')
    dist.barrier(); return rank
def _sleeps(rank, world): import time; time.sleep(60)

def test_launch_runs_every_rank_and_returns_by_rank():
    assert launch(_rank_info, 2, timeout=60) == [(0, 2, 0, 2), (1, 2, 1, 2)]
    assert not dist.is_initialized()

def test_launch_passes_on_a_failure_and_stops_the_others():
    with pytest.raises(RuntimeError, match='rank 1 of 2 failed(.|\n)*rank one says no'): launch(_fails, 2, timeout=60)

def test_launch_times_out_and_checks_arguments():
    with pytest.raises(TimeoutError, match='no result'): launch(_sleeps, 2, timeout=3)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match='world_size'): launch(_rank_info, bad)

def _hand_grads(rank, world):
    m = copy.deepcopy(MODEL); _loss(m, *shard(X, Y)).backward(); average_gradients(m.parameters())
    return [p.grad for p in m.parameters()]

def test_hand_allreduce_gives_the_single_process_gradient():
    m = copy.deepcopy(MODEL); _loss(m, X, Y).backward()
    for world in (2, 4):
        for grads in launch(_hand_grads, world, timeout=60):
            assert max((a - b).abs().max().item() for a, b in zip(grads, [p.grad for p in m.parameters()])) < 1e-6

def _ddp_params(rank, world, k=5):
    m = DDP(copy.deepcopy(MODEL)); opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    for i in range(k):
        x, y = shard(X.roll(i, 0), Y.roll(i, 0)); opt.zero_grad(); _loss(m, x, y).backward(); opt.step()
    return [p.detach() for p in m.parameters()]

def test_ddp_equals_single_process_on_the_concatenated_batch():
    m = copy.deepcopy(MODEL); opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    for i in range(5): opt.zero_grad(); _loss(m, X.roll(i, 0), Y.roll(i, 0)).backward(); opt.step()
    r0, r1 = launch(_ddp_params, 2, timeout=60)
    assert max((a - b).abs().max().item() for a, b in zip(r0, m.parameters())) < 1e-6
    assert all(torch.equal(a, b) for a, b in zip(r0, r1))

def _broadcast(rank, world):
    torch.rand(rank + 1); m = nn.Linear(3, 3); broadcast_parameters(m)
    return m.weight.detach()

def test_broadcast_makes_ranks_identical():
    a, b = launch(_broadcast, 2, timeout=60)
    assert torch.equal(a, b)

def test_shard_without_a_group_and_errors():
    assert torch.equal(shard(X), X) and all(torch.equal(a, b) for a, b in zip(shard(X, Y), (X, Y)))
def _odd_shard(rank, world): return shard(torch.zeros(5))
def test_shard_refuses_uneven_batches():
    with pytest.raises(RuntimeError, match='does not split evenly'): launch(_odd_shard, 2, timeout=60)

SCRIPT = '''
import torch, torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from learnkit.train import fit
from learnkit.distributed import shard
dist.init_process_group('gloo'); torch.set_num_threads(1)
g = torch.Generator()  # the same default seed on every rank: the same global batches
X, Y = torch.randn(512, 4, generator=g), torch.randn(512, 1, generator=g)
Y = X.sum(1, keepdim=True)
model = DDP(nn.Linear(4, 1))
def loss_fn(split):
    i = torch.randint(512, (32,), generator=g)
    x, y = shard(X[i], Y[i]); return ((model(x) - y) ** 2).mean()
hist = fit(loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), 60, eval_every=20, eval_iters=2, model=model)
print(f'RANK {dist.get_rank()} LAST {hist.val_loss[-1]:.6f} FIRST {hist.val_loss[0]:.6f}')
dist.destroy_process_group()
'''

def test_fit_under_torchrun_trains_and_only_rank0_prints(tmp_path):
    path = tmp_path / 'fit_script.py'; path.write_text(SCRIPT)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert sum('step' in l and 'train' in l and 'val' in l for l in lines) == 1  # fit's table header: rank 0 only
    last = {l.split()[1]: (float(l.split()[3]), float(l.split()[5])) for l in lines if l.startswith('RANK')}
    assert set(last) == {'0', '1'} and last['0'] == last['1']  # every process holds the same averaged history
    assert last['0'][0] < 0.1 * last['0'][1]
