"""Benchmark of learnkit.optim on the CPU (a plain script, not a test).

One `step()` of our SGD (momentum), RMSprop, Adam and AdamW on a model of about a million parameters (15 linear
layers of 256 x 256: 986,880 weights in 30 tensors), against torch's single-tensor implementation
(`foreach=False`, its default on the CPU), its `foreach=True` implementation (its default on GPUs) and, where torch
has one, its fused kernel.

Each figure is the median of several timed runs after warm-up (`learnkit.utils.timed`); the rounds are
interleaved so that load from other processes hits every implementation alike.
usage: python benchmarks/bench_optim.py [--threads N] [--rounds R]
"""
import argparse, statistics, torch
from torch import nn
from learnkit.utils import timed
from learnkit.optim import SGD, RMSprop, Adam, AdamW

CASES = [('SGD (momentum 0.9)', SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9), True),
         ('RMSprop', RMSprop, torch.optim.RMSprop, dict(lr=0.01), False),
         ('Adam', Adam, torch.optim.Adam, dict(lr=1e-3), True),
         ('AdamW', AdamW, torch.optim.AdamW, dict(lr=1e-3), True)]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--rounds', type=int, default=5)
    a = ap.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(256, 256) for _ in range(15)])
    for p in model.parameters(): p.grad = torch.randn_like(p)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters in {len(list(model.parameters()))} tensors, "
          f"{a.threads} thread(s), median of {a.rounds} rounds x 10 steps")
    for name, ours, theirs, kw, has_fused in CASES:
        impls = {'ours': lambda: ours(model.parameters(), **kw), 'torch foreach=False': lambda: theirs(model.parameters(), foreach=False, **kw),
                 'torch foreach=True': lambda: theirs(model.parameters(), foreach=True, **kw)}
        if has_fused: impls['torch fused'] = lambda: theirs(model.parameters(), fused=True, **kw)
        opts = {k: f() for k, f in impls.items()}
        times = {k: [] for k in opts}
        for _ in range(a.rounds):
            for k, o in opts.items(): times[k].append(timed(o.step, repeat=10, warmup=2))
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        cells = '   '.join(f"{k} {v:6.2f} ms" for k, v in med.items())
        print(f"{name:20s} {cells}   ours / foreach=False {med['ours'] / med['torch foreach=False']:.2f}x")

if __name__ == '__main__': main()
