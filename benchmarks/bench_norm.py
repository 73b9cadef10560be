"""Benchmark of learnkit.norm on the CPU (a plain script, not a test).

Forward + backward, in training mode, of our `BatchNorm1d`, `BatchNorm2d`, `LayerNorm` and `RMSNorm` against
torch's fused `nn.BatchNorm1d`, `nn.BatchNorm2d`, `nn.LayerNorm` and `nn.RMSNorm`, on the shapes they meet in practice:
BatchNorm on a batch of 512 feature vectors of 256 (the lesson's MLP, wider), on (64, 128, 256) sequences and on a
(64, 32, 28, 28) batch of CNN feature maps; LayerNorm and RMSNorm on a transformer's (16, 256, 512) activations.
BatchNorm and LayerNorm run their backward through an `autograd.Function` with the lesson's hand-derived formulas
(the aim: within 1.5x of torch's). Plus the hook overhead of `ActivationStats` and `UpdateRatios` on one
training step of the lesson's 5-layer MLP.

Each figure is the median of several timed runs after warm-up (`learnkit.utils.timed`); ratios come from
interleaved rounds so that load from other processes hits both sides alike.
usage: python benchmarks/bench_norm.py [--threads N] [--rounds R]
"""
import argparse, statistics, torch, torch.nn.functional as F
from torch import nn
from learnkit.utils import timed
from learnkit.norm import BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm, ActivationStats, UpdateRatios


def fwd_bwd(m, x):
    "One forward and backward pass through `m`."
    x.grad = None
    m(x).square().sum().backward()


def compare(name, f_ours, f_theirs, rounds, labels=('ours', 'torch')):
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(timed(f_ours, repeat=5, warmup=1)); theirs.append(timed(f_theirs, repeat=5, warmup=1))
    t_o, t_t = statistics.median(ours), statistics.median(theirs)
    print(f"{name:38s} {labels[0]} {t_o*1e3:8.2f} ms   {labels[1]} {t_t*1e3:8.2f} ms   ratio {t_o/t_t:5.2f}x")
    return t_o / t_t


def mlp():
    layers, fan = [nn.Embedding(27, 12), nn.Flatten()], 60
    for _ in range(5): layers += [nn.Linear(fan, 100, bias=False), BatchNorm1d(100), nn.Tanh()]; fan = 100
    return nn.Sequential(*layers, nn.Linear(100, 27))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--rounds', type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    print(f"torch {torch.__version__}, {a.threads} thread(s), median of {a.rounds} rounds, forward + backward")
    cases = [('BatchNorm1d (512, 256)', BatchNorm1d(256), nn.BatchNorm1d(256), (512, 256)),
             ('BatchNorm1d (64, 128, 256)', BatchNorm1d(128), nn.BatchNorm1d(128), (64, 128, 256)),
             ('BatchNorm2d (64, 32, 28, 28)', BatchNorm2d(32), nn.BatchNorm2d(32), (64, 32, 28, 28)),
             ('LayerNorm (16, 256, 512)', LayerNorm(512), nn.LayerNorm(512), (16, 256, 512)),
             ('RMSNorm (16, 256, 512)', RMSNorm(512), nn.RMSNorm(512), (16, 256, 512))]
    for name, ours, ref, shape in cases:
        x = torch.randn(shape, requires_grad=True)
        compare(name, lambda: fwd_bwd(ours, x), lambda: fwd_bwd(ref, x), a.rounds)

    X, Y = torch.randint(0, 27, (64, 5)), torch.randint(0, 27, (64,))
    def stepper(m, tracker=None):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        def step():
            loss = F.cross_entropy(m(X), Y); opt.zero_grad(); loss.backward()
            if tracker is None: opt.step()
            else:
                with tracker: opt.step()
        return step
    watched, plain = mlp(), mlp()
    st = ActivationStats(watched, keep=False)  # hooks stay on for the whole comparison
    compare('MLP step, hooks + tracker vs none', stepper(watched, UpdateRatios(watched)), stepper(plain), a.rounds,
            labels=('watched', 'plain'))
    st.remove()

if __name__ == '__main__': main()
