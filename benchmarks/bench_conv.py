"""Benchmark of learnkit.conv on the CPU (a plain script, not a test).

1. Forward + backward of the `unfold` `conv2d` against `F.conv2d` at batch 64, 16 -> 32 channels, 28x28, 3x3, padding 1
   (the lesson's aim: within 2x of `F.conv2d`).
2. The loop version `conv2d_naive` against both on a smaller case (batch 8, 1 -> 8 channels, 8x8, 3x3, padding 1).
3. A depthwise convolution (`groups=32`, 32 channels, 28x28, 3x3, `padding='same'`) against `F.conv2d`.

Each figure is the median of several timed runs after warm-up (`learnkit.utils.timed`); the ratio is taken from
interleaved rounds so that load from other processes hits both sides alike.
usage: python benchmarks/bench_conv.py [--threads N] [--rounds R]
"""
import argparse, statistics, torch, torch.nn.functional as F
from learnkit.utils import timed
from learnkit.conv import conv2d, conv2d_naive


def fwd_bwd(conv, x, w, b, **kw):
    "One forward and backward pass through `conv`, gradients for input, weight and bias."
    x.grad = w.grad = b.grad = None
    conv(x, w, b, **kw).square().sum().backward()


def case(B, C, O, H, k, gen):
    x = torch.randn(B, C, H, H, generator=gen).requires_grad_()
    w = (torch.randn(O, C, k, k, generator=gen) / (C*k*k)**0.5).requires_grad_()
    b = torch.zeros(O, requires_grad=True)
    return x, w, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    ap.add_argument('--rounds', type=int, default=5, help='interleaved rounds per comparison')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")

    x, w, b = case(64, 16, 32, 28, 3, gen)
    ours, theirs = [], []
    for _ in range(a.rounds):
        ours.append(timed(lambda: fwd_bwd(conv2d, x, w, b, padding=1), repeat=5, warmup=1))
        theirs.append(timed(lambda: fwd_bwd(F.conv2d, x, w, b, padding=1), repeat=5, warmup=1))
    t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
    ratios = sorted(o / t for o, t in zip(ours, theirs))
    print("\nforward+backward, batch 64, 16->32 channels, 28x28, 3x3, padding 1")
    print(f"  conv2d (unfold) {t_ours*1e3:8.2f} ms")
    print(f"  F.conv2d        {t_theirs*1e3:8.2f} ms")
    print(f"  ratio           {t_ours/t_theirs:8.2f}x  (per round: {', '.join(f'{r:.2f}' for r in ratios)}; aim: <= 2x)")

    xd = x.detach()
    cols = F.unfold(xd, 3, padding=1)
    t_unfold = timed(lambda: F.unfold(xd, 3, padding=1), repeat=10)
    t_fold = timed(lambda: F.fold(cols, (28, 28), 3, padding=1), repeat=10)
    kernels = w.detach().reshape(1, 32, -1).expand(cols.shape[0], -1, -1)
    t_mm = timed(lambda: torch.bmm(kernels, cols), repeat=10)
    print(f"  where the time goes: F.unfold alone {t_unfold*1e3:.2f} ms, F.fold (its backward) {t_fold*1e3:.2f} ms,"
          f" forward batched matmul {t_mm*1e3:.2f} ms: unfold+fold alone are {(t_unfold+t_fold)/t_theirs:.1f}x F.conv2d's whole step")

    x, w, b = case(8, 1, 8, 8, 3, gen)
    t_naive = timed(lambda: fwd_bwd(conv2d_naive, x, w, b, padding=1), repeat=3, warmup=1)
    t_unf = timed(lambda: fwd_bwd(conv2d, x, w, b, padding=1), repeat=20, warmup=2)
    t_torch = timed(lambda: fwd_bwd(F.conv2d, x, w, b, padding=1), repeat=20, warmup=2)
    print("\nforward+backward, batch 8, 1->8 channels, 8x8, 3x3, padding 1")
    print(f"  conv2d_naive    {t_naive*1e3:8.2f} ms   ({t_naive/t_unf:.0f}x the unfold version, {t_naive/t_torch:.0f}x F.conv2d)")
    print(f"  conv2d (unfold) {t_unf*1e3:8.2f} ms")
    print(f"  F.conv2d        {t_torch*1e3:8.2f} ms")

    x = torch.randn(64, 32, 28, 28, generator=gen).requires_grad_()
    w, b = (torch.randn(32, 1, 3, 3, generator=gen) / 3).requires_grad_(), torch.zeros(32, requires_grad=True)
    ours, theirs = [], []
    for _ in range(a.rounds):
        ours.append(timed(lambda: fwd_bwd(conv2d, x, w, b, padding='same', groups=32), repeat=5, warmup=1))
        theirs.append(timed(lambda: fwd_bwd(F.conv2d, x, w, b, padding='same', groups=32), repeat=5, warmup=1))
    t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
    print("\nforward+backward, depthwise: batch 64, 32 channels, groups=32, 28x28, 3x3, padding='same'")
    print(f"  conv2d (unfold) {t_ours*1e3:8.2f} ms")
    print(f"  F.conv2d        {t_theirs*1e3:8.2f} ms")
    print(f"  ratio           {t_ours/t_theirs:8.2f}x")


if __name__ == '__main__': main()
