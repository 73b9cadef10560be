"""Benchmark of learnkit.conv on the CPU (a plain script, not a test).

1. Forward + backward of the `unfold` `conv2d` against `F.conv2d` at batch 64, 16 -> 32 channels, 28x28, 3x3, padding 1
   (the lesson's aim: within 2x of `F.conv2d`), and where the time goes: each piece of our forward and of the backward
   derived in the lesson (input gradient = full convolution with the flipped kernels, weight gradient = one matmul of
   the saved columns) against torch's own pieces, and the `F.unfold`/`F.fold` pair that autograd's backward would use.
   The same at stride 2, where the library's input gradient takes the `K^T G` + `F.fold` route instead (inserting zeros
   between the output gradient's values measured slower in the lesson).
2. The loop version `conv2d_naive` against both on a smaller case (batch 8, 1 -> 8 channels, 8x8, 3x3, padding 1).
3. A depthwise convolution (`groups=32`, 32 channels, 28x28, 3x3, `padding='same'`) against `F.conv2d`.

Each figure is the median of several timed runs after warm-up (`learnkit.utils.timed`); the ratio is taken from
interleaved rounds so that load from other processes hits both sides alike.
usage: python benchmarks/bench_conv.py [--threads N] [--rounds R]   (default: one thread, 5 rounds)
"""
import argparse, statistics, torch, torch.nn.functional as F
from learnkit.utils import timed
from learnkit.conv import conv2d, conv2d_naive, _windows, _conv2d_cols, _conv2d_input_grad


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
    ap.add_argument('--threads', type=int, default=1, help='torch threads (default 1; 0: torch decides)')
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

    xd, wd = x.detach(), w.detach()
    t = lambda f: timed(f, repeat=5, warmup=1) * 1e3
    for stride in (1, 2):
        out, cols = _conv2d_cols(xd, wd, None, (stride, stride), [1, 1, 1, 1], (1, 1), 1)
        g = torch.randn_like(out)
        L = out.shape[2] * out.shape[3]
        pieces = {
            'F.unfold (im2col)': t(lambda: F.unfold(xd, 3, padding=1, stride=stride)),
            'our columns (Tensor.unfold + one copy)': t(lambda: _windows(xd, (3, 3), (stride, stride), [1, 1, 1, 1], (1, 1))),
            'our forward (columns + bmm)': t(lambda: _conv2d_cols(xd, wd, None, (stride, stride), [1, 1, 1, 1], (1, 1), 1)),
            ('our input grad (full conv, flipped kernels)' if stride == 1 else 'our input grad (stride > 1: K^T G + F.fold)'): t(lambda: _conv2d_input_grad(g, wd, [28, 28], (stride, stride), [1, 1, 1, 1], (1, 1), 1)),
            'our weight grad (one bmm of saved columns)': t(lambda: torch.bmm(g.reshape(64, 32, L), cols.transpose(1, 2)).sum(0)),
            'autograd route to the input grad: K^T G + F.fold': t(lambda: F.fold(wd.reshape(32, -1).T @ g.reshape(64, 32, L), (28, 28), 3, padding=1, stride=stride)),
            'torch forward (F.conv2d)': t(lambda: F.conv2d(xd, wd, padding=1, stride=stride)),
            'torch input grad': t(lambda: torch.nn.grad.conv2d_input(xd.shape, wd, g, stride=stride, padding=1)),
            'torch weight grad': t(lambda: torch.nn.grad.conv2d_weight(xd, wd.shape, g, stride=stride, padding=1)),
        }
        print(f"  where the time goes, stride {stride} (ms, median of 5 after a warm-up):")
        for k, v in pieces.items(): print(f"    {k:50s} {v:8.2f}")
        if stride == 1:
            ours2, theirs2 = [], []
            for _ in range(a.rounds):
                ours2.append(timed(lambda: fwd_bwd(conv2d, x, w, b, padding=1, stride=2), repeat=5, warmup=1))
                theirs2.append(timed(lambda: fwd_bwd(F.conv2d, x, w, b, padding=1, stride=2), repeat=5, warmup=1))
            print(f"\nforward+backward at stride 2 (else as above): conv2d {statistics.median(ours2)*1e3:.2f} ms, F.conv2d "
                  f"{statistics.median(theirs2)*1e3:.2f} ms, ratio {statistics.median(ours2)/statistics.median(theirs2):.2f}x")

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
