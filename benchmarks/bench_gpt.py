"""Benchmark of learnkit.gpt on the CPU (a plain script, not a test).

1. One training step of the GPT at nanoGPT's CPU configuration for tiny Shakespeare (4 layers, 4 heads, width 128,
   context 64, batch 12, vocabulary 65): forward, backward, gradient clipping and an AdamW step.
2. The same step with the hand-written attention (`fused=False`: learnkit.attention.scaled_dot_product_attention)
   against `F.scaled_dot_product_attention` (`fused=True`), same weights.
3. The same step with the blocks' LayerNorms as built (learnkit.norm.LayerNorm, the normalisation lesson's) against
   torch's fused `nn.LayerNorm` loaded with the same weights.

Each figure is the median of several timed steps after warm-up (`learnkit.utils.timed`); the ratio is taken from
interleaved rounds so that load from other processes hits both sides alike. Random token ids stand in for text
(the step time does not depend on which characters they are).
usage: python benchmarks/bench_gpt.py [--threads N] [--rounds R]
"""
import argparse, statistics, torch
from learnkit.utils import timed, set_seed
from learnkit.gpt import GPT, GPTConfig, configure_optimizer


def make_step(model, opt, x, y):
    def step():
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    return step


def set_fused(model, flag):
    for b in model.transformer.h: b.attn.fused = flag


def with_torch_layernorm(model):
    "A copy of `model` whose LayerNorms are torch's nn.LayerNorm holding the same weights."
    import copy
    from learnkit.norm import LayerNorm
    m = copy.deepcopy(model)
    for parent in list(m.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, LayerNorm):
                ln = torch.nn.LayerNorm(child.normalized_shape, eps=child.eps, bias=child.bias is not None)
                ln.load_state_dict(child.state_dict()); setattr(parent, name, ln)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1, help='torch threads (default 1, as in the lesson)')
    ap.add_argument('--rounds', type=int, default=5, help='interleaved rounds per comparison')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    set_seed(0)
    cfg = GPTConfig()
    model = GPT(cfg); opt = configure_optimizer(model, lr=1e-3)
    x, y = torch.randint(cfg.vocab_size, (2, 12, cfg.block_size))
    step = make_step(model, opt, x, y)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")

    manual, fused = [], []
    for _ in range(a.rounds):
        set_fused(model, False); manual.append(timed(step, repeat=10, warmup=2))
        set_fused(model, True); fused.append(timed(step, repeat=10, warmup=2))
    t_m, t_f = statistics.median(manual), statistics.median(fused)
    ratios = sorted(m / f for m, f in zip(manual, fused))
    print("\ntraining step (forward + backward + clip + AdamW), batch 12 x 64 tokens")
    print(f"  fused attention (F.scaled_dot_product_attention) {t_f*1e3:8.2f} ms  -> 2,000 steps in {2000*t_f:5.0f} s")
    print(f"  manual attention (learnkit.attention)             {t_m*1e3:8.2f} ms")
    print(f"  ratio manual / fused                              {t_m/t_f:8.2f}x  (per round: {', '.join(f'{r:.2f}' for r in ratios)})")

    tm = with_torch_layernorm(model); topt = configure_optimizer(tm, lr=1e-3)
    with torch.no_grad(): assert torch.allclose(tm(x)[0], model(x)[0], atol=1e-5)  # same function
    tstep = make_step(tm, topt, x, y)
    ours, theirs = [], []
    for _ in range(a.rounds):
        ours.append(timed(step, repeat=10, warmup=2)); theirs.append(timed(tstep, repeat=10, warmup=2))
    t_o, t_t = statistics.median(ours), statistics.median(theirs)
    ratios = sorted(o / t for o, t in zip(ours, theirs))
    print("\nthe same step, fused attention, by LayerNorm")
    print(f"  learnkit.norm.LayerNorm (the lesson's)            {t_o*1e3:8.2f} ms")
    print(f"  torch nn.LayerNorm                                {t_t*1e3:8.2f} ms")
    print(f"  ratio learnkit / torch                            {t_o/t_t:8.2f}x  (per round: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == '__main__':
    main()
