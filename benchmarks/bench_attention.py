"""Benchmark of learnkit.attention on the CPU (a plain script, not a test).

Forward + backward of the hand-written `scaled_dot_product_attention` against `F.scaled_dot_product_attention`,
causal self-attention, batch 8 x 4 heads x head size 32, at sequence lengths 64, 256 and 1024 (the (T, T) map is
what grows: 16x more memory for each 4x in T), plus `MultiHeadAttention` with `fused=False` vs `fused=True`.

Each figure is the median of several timed runs after warm-up (`learnkit.utils.timed`); the ratio is taken from
interleaved rounds so that load from other processes hits both sides alike.
usage: python benchmarks/bench_attention.py [--threads N] [--rounds R] [--lengths 64 256 1024]
"""
import argparse, statistics, torch, torch.nn.functional as F
from learnkit.utils import timed
from learnkit.attention import scaled_dot_product_attention, MultiHeadAttention


def fwd_bwd(attn, q, k, v):
    "One forward and backward pass of causal attention, gradients for q, k and v."
    q.grad = k.grad = v.grad = None
    attn(q, k, v, is_causal=True).square().sum().backward()


def compare(name, f_ours, f_theirs, rounds):
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(timed(f_ours, repeat=3, warmup=1)); theirs.append(timed(f_theirs, repeat=3, warmup=1))
    t_o, t_t = statistics.median(ours), statistics.median(theirs)
    ratios = sorted(o / t for o, t in zip(ours, theirs))
    print(f"{name:34s} manual {t_o*1e3:8.2f} ms   fused {t_t*1e3:8.2f} ms   ratio {t_o/t_t:5.2f}x "
          f"(per round {', '.join(f'{r:.2f}' for r in ratios)})")
    return t_o / t_t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    ap.add_argument('--rounds', type=int, default=3, help='interleaved rounds per comparison')
    ap.add_argument('--lengths', type=int, nargs='+', default=[64, 256, 1024])
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; forward+backward, causal")
    B, H, D = 8, 4, 32
    for T in a.lengths:
        q, k, v = (torch.randn(B, H, T, D, generator=gen).requires_grad_() for _ in range(3))
        compare(f"sdpa  B={B} H={H} T={T:4d} D={D}", lambda: fwd_bwd(scaled_dot_product_attention, q, k, v),
                lambda: fwd_bwd(F.scaled_dot_product_attention, q, k, v), a.rounds)
    for T in a.lengths[:2]:
        m = MultiHeadAttention(H * D, H, batch_first=True)
        x = torch.randn(B, T, H * D, generator=gen)
        def step(fused):
            m.fused = fused; m.zero_grad(); m(x, x, x, need_weights=False, is_causal=True)[0].square().sum().backward()
        compare(f"MHA   B={B} E={H*D} T={T:4d}", lambda: step(False), lambda: step(True), a.rounds)


if __name__ == '__main__':
    main()
