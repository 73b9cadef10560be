"Tests of learnkit.attention against torch: F.scaled_dot_product_attention and nn.MultiheadAttention (weights copied), forward and backward, RoPE's relative-offset property, and errors on bad input."
import math, pytest, torch, torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from learnkit.attention import (scaled_dot_product_attention, attention_weights, attention_scores, future_mask, padding_mask,
                                MultiHeadAttention, sinusoidal_positions, rope_frequencies, apply_rope)


def _leaf(*shape, gen, dtype=torch.float64):
    return torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_()


def _grads(f, *ts):
    "Output of f(*ts) and the gradients of a fixed, non-uniform weighted sum of it with respect to every tensor in ts."
    for t in ts: t.grad = None
    out = f(*ts)
    g = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)
    (out * g).sum().backward()
    return out.detach(), [t.grad.clone() for t in ts]


def _masks(L, S, lead, gen):
    "The masks F.scaled_dot_product_attention accepts: none, causal, bool (several broadcast shapes), float."
    keep = torch.rand(*lead, L, S, generator=gen) > 0.3
    keep[..., 0] = True  # every query sees at least one key
    return [dict(), dict(is_causal=True), dict(attn_mask=keep), dict(attn_mask=keep[..., :1, :, :] if len(lead) else keep),
            dict(attn_mask=torch.rand(L, S, generator=gen) > 0.5), dict(attn_mask=torch.randn(L, S, generator=gen, dtype=torch.float64)),
            dict(attn_mask=torch.randn(*lead, L, S, generator=gen, dtype=torch.float64).masked_fill(~keep, float('-inf'))),
            dict(scale=0.37), dict(is_causal=True, scale=2.0)]


@pytest.mark.parametrize('case', range(6))
def test_sdpa_matches_torch(case):
    gen = torch.Generator().manual_seed(case)
    lead = [(), (3,), (2, 3), (1, 2), (2, 1, 4), (2, 2)][case]
    L, S, E, Ev = [(4, 4, 8, 8), (5, 7, 3, 6), (1, 6, 4, 2), (6, 3, 5, 5), (3, 3, 2, 7), (8, 8, 16, 16)][case]
    q, k, v = _leaf(*lead, L, E, gen=gen), _leaf(*lead, S, E, gen=gen), _leaf(*lead, S, Ev, gen=gen)
    for kw in _masks(L, S, lead, gen):
        ours, g_ours = _grads(lambda q, k, v: scaled_dot_product_attention(q, k, v, **kw), q, k, v)
        ref, g_ref = _grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw), q, k, v)
        torch.testing.assert_close(ours, ref, msg=lambda m: f"{kw}: {m}")
        for a, e in zip(g_ours, g_ref): torch.testing.assert_close(a, e)


def test_sdpa_float32_and_weights_sum_to_one():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 10, 16, generator=gen) for _ in range(3))
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, is_causal=True), F.scaled_dot_product_attention(q, k, v, is_causal=True))
    w = attention_weights(q, k, is_causal=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, 10))
    assert torch.all(w.triu(1) == 0), "causal weights above the diagonal must be exactly 0"


def test_fully_masked_rows_are_zero_like_torch():
    gen = torch.Generator().manual_seed(1)
    q, k, v = _leaf(2, 3, 4, gen=gen), _leaf(2, 5, 4, gen=gen), _leaf(2, 5, 6, gen=gen)
    m = torch.ones(3, 5, dtype=torch.bool); m[1] = False
    ours, g_ours = _grads(lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v)
    ref, g_ref = _grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v)
    torch.testing.assert_close(ours, ref)
    assert torch.all(ours[:, 1] == 0) and not torch.isnan(torch.stack(g_ours[:1])).any()
    for a, e in zip(g_ours, g_ref): torch.testing.assert_close(a, e)


def test_sdpa_gqa_matches_torch():
    gen = torch.Generator().manual_seed(2)
    q, k, v = _leaf(2, 8, 5, 4, gen=gen), _leaf(2, 2, 5, 4, gen=gen), _leaf(2, 2, 5, 3, gen=gen)
    ours, g_ours = _grads(lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), q, k, v)
    ref, g_ref = _grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), q, k, v)
    torch.testing.assert_close(ours, ref)
    for a, e in zip(g_ours, g_ref): torch.testing.assert_close(a, e)


def test_dropout_zeroes_and_rescales():
    q = k = v = torch.randn(1, 64, 8)
    torch.manual_seed(0); out = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert out.shape == (1, 64, 8) and not torch.allclose(out, scaled_dot_product_attention(q, k, v))


def _pair(E, H, bias, gen_seed, batch_first=True, kdim=None, vdim=None):
    torch.manual_seed(gen_seed)
    ref = nn.MultiheadAttention(E, H, bias=bias, batch_first=batch_first, kdim=kdim, vdim=vdim, dtype=torch.float64)
    with torch.no_grad():  # torch zeroes its biases at init: randomise them so that they are really compared
        for p in ref.parameters(): p.copy_(torch.randn_like(p) * 0.5)
    ours = MultiHeadAttention(E, H, bias=bias, batch_first=batch_first, kdim=kdim, vdim=vdim, dtype=torch.float64)
    ours.load_state_dict(ref.state_dict())  # torch's state_dict loads as it is
    return ours, ref


def _close(a, b, msg=''):
    if a is None or b is None: assert a is None and b is None, msg
    else: torch.testing.assert_close(a, b, equal_nan=True, msg=lambda m: f"{msg}: {m}")


def _mha_cases(B, H, L, S, gen):
    "Every kind of mask nn.MultiheadAttention accepts, in torch's convention (bool True = masked out), with its own arguments."
    bad = torch.rand(L, S, generator=gen) > 0.6; bad[:, 0] = False  # every query keeps a key
    bad3 = torch.rand(B * H, L, S, generator=gen) > 0.6; bad3[..., 0] = False
    fmask = torch.randn(L, S, generator=gen, dtype=torch.float64)
    fmask3 = torch.randn(B * H, L, S, generator=gen, dtype=torch.float64).masked_fill(bad3, float('-inf'))
    kpm = torch.zeros(B, S, dtype=torch.bool); kpm[0, S - 2:] = True; kpm[-1, S - 1:] = True
    kpm_f = torch.zeros(B, S, dtype=torch.float64).masked_fill(kpm, float('-inf'))
    causal = torch.ones(L, S, dtype=torch.bool).triu(1)
    masks = [dict(), dict(attn_mask=bad), dict(attn_mask=bad3), dict(attn_mask=fmask), dict(attn_mask=fmask3),
             dict(key_padding_mask=kpm), dict(key_padding_mask=kpm_f), dict(attn_mask=bad, key_padding_mask=kpm),
             dict(attn_mask=fmask, key_padding_mask=kpm_f), dict(attn_mask=bad3, key_padding_mask=kpm_f),
             dict(attn_mask=causal, is_causal=True), dict(attn_mask=causal, is_causal=True, key_padding_mask=kpm)]
    flags = [dict(), dict(need_weights=False), dict(average_attn_weights=False), dict(need_weights=True, average_attn_weights=True)]
    return [{**m, **f} for m in masks for f in flags]


@pytest.mark.parametrize('E,H,bias,batch_first', [(8, 2, True, True), (12, 3, False, True), (16, 4, True, False), (6, 1, True, True)])
def test_mha_matches_torch(E, H, bias, batch_first):
    "Torch's own argument combinations, positionally and by name; outputs, weights and every gradient (float64, eval)."
    ours, ref = _pair(E, H, bias, E + H, batch_first)
    ours.eval(); ref.eval()
    gen = torch.Generator().manual_seed(E)
    B, L, S = 3, 5, 7
    shape = lambda T: (B, T, E) if batch_first else (T, B, E)
    x, mem = _leaf(*shape(L), gen=gen), _leaf(*shape(S), gen=gen)
    for kw in _mha_cases(B, H, L, S, gen):
        for self_attn in (False, True):
            if self_attn and (kw.get('attn_mask') is not None or kw.get('key_padding_mask') is not None): continue
            args = (lambda x, m: (x, x, x)) if self_attn else (lambda x, m: (x, m, m))
            o, w = ours(*args(x, mem), **kw); r, rw = ref(*args(x, mem), **kw)
            _close(o, r, str(kw)); _close(w, rw, f"weights {kw}")
            if kw.get('need_weights', True):
                assert w.shape == ((B, L, L if self_attn else S) if kw.get('average_attn_weights', True) else (B, H, L, L if self_attn else S))
            g = torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view(o.shape)
            ga = torch.autograd.grad((o * g).sum(), [x, mem, *ours.parameters()], allow_unused=True)
            gb = torch.autograd.grad((r * g).sum(), [x, mem, *ref.parameters()], allow_unused=True)
            for a, b in zip(ga, gb): _close(a, b, f"grad {kw}")
    # positional arguments in torch's order: query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal
    kpm = torch.zeros(B, S, dtype=torch.bool); kpm[1, -3:] = True
    am = torch.rand(L, S, generator=gen) > 0.7; am[:, 0] = False
    _close(ours(x, mem, mem, kpm, True, am, False)[1], ref(x, mem, mem, kpm, True, am, False)[1], 'positional')


def test_mha_unbatched_and_kdim_vdim():
    ours, ref = _pair(8, 2, True, 1, kdim=5, vdim=3); ours.eval(); ref.eval()
    q, k, v = torch.randn(4, 8, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    kpm = torch.tensor([False] * 5 + [True]); am = torch.zeros(2, 4, 6, dtype=torch.bool); am[1, :, 2] = True
    for kw in (dict(), dict(key_padding_mask=kpm), dict(attn_mask=am, average_attn_weights=False), dict(need_weights=False)):
        o, w = ours(q, k, v, **kw); r, rw = ref(q, k, v, **kw)
        _close(o, r, str(kw)); _close(w, rw, str(kw))
    assert set(ours.state_dict()) == set(ref.state_dict()) == {'q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'}


def test_mha_torch_style_causal_mask_and_tuple_result():
    "The issue-13 traps: a torch-style bool causal mask (True = masked) and `mha(q, k, v)[0]`."
    ours, ref = _pair(8, 2, True, 7); ours.eval(); ref.eval()
    x = torch.randn(2, 6, 8, dtype=torch.float64)
    tri = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)  # float -inf above the diagonal
    c = torch.ones(6, 6, dtype=torch.bool).triu(1)  # torch: True = masked
    for m in (c, tri):
        _close(ours(x, x, x, attn_mask=m)[0], ref(x, x, x, attn_mask=m)[0])
        _close(ours(x, x, x, attn_mask=m, is_causal=True)[0], ref(x, x, x, attn_mask=m, is_causal=True)[0])
    out = ours(x, x, x)
    assert isinstance(out, tuple) and len(out) == 2 and out[0].shape == (2, 6, 8) and out[1].shape == (2, 6, 6)
    assert ours(x, x, x, need_weights=False)[1] is None
    # our extension: is_causal without a mask builds it (torch raises "Need attn_mask")
    _close(ours(x, x, x, is_causal=True)[0], ref(x, x, x, attn_mask=c)[0])
    _close(ours(x, is_causal=True, need_weights=False)[0], ref(x, x, x, attn_mask=c, need_weights=False)[0])


def test_mha_all_keys_padded_like_torch():
    "A sequence whose keys are all padded: nan with the weights (torch's math path), zeros without (torch's fused kernel)."
    ours, ref = _pair(8, 2, True, 2); ours.train(); ref.train()  # train mode: torch skips its inference fast path
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    kpm = torch.tensor([[True] * 5, [False] * 3 + [True] * 2])
    for nw in (True, False):
        o, w = ours(x, x, x, key_padding_mask=kpm, need_weights=nw); r, rw = ref(x, x, x, key_padding_mask=kpm, need_weights=nw)
        _close(o, r, f'need_weights={nw}'); _close(w, rw)
    assert ours(x, x, x, key_padding_mask=kpm)[0][0].isnan().all()
    ours.fused = True
    _close(ours(x, x, x, key_padding_mask=kpm, need_weights=False)[0], ref(x, x, x, key_padding_mask=kpm, need_weights=False)[0])


def test_mha_state_dict_both_ways_and_init():
    ref = nn.MultiheadAttention(8, 2, batch_first=True)
    ours = MultiHeadAttention(8, 2, batch_first=True)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    ours.load_state_dict(ref.state_dict()); ref2 = nn.MultiheadAttention(8, 2, batch_first=True); ref2.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, 8)
    _close(ours(x, x, x)[0], ref(x, x, x)[0]); _close(ref2(x, x, x)[0], ref(x, x, x)[0])
    torch.manual_seed(0); a = nn.MultiheadAttention(8, 2, batch_first=True)
    torch.manual_seed(0); b = MultiHeadAttention(8, 2, batch_first=True)
    for (n, p), (m, q) in zip(a.state_dict().items(), b.state_dict().items()): assert n == m and torch.equal(p, q), n  # same init, same seed
    for bias in (True, False):
        m = MultiHeadAttention(8, 2, bias=bias, batch_first=True)
        _close(m.to_torch()(x, x, x)[0], m(x, x, x)[0]); _close(MultiHeadAttention.from_torch(m.to_torch())(x)[0], m(x)[0])
    torch.testing.assert_close(MultiHeadAttention(8, 2, batch_first=True).copy_from_torch(ref)(x, x, x)[0], ref(x, x, x)[0])


def test_mha_dtype_device_arguments():
    m = MultiHeadAttention(8, 2, device='cpu', dtype=torch.float64, batch_first=True)
    assert {p.dtype for p in m.parameters()} == {torch.float64} and {p.device.type for p in m.parameters()} == {'cpu'}
    r = nn.MultiheadAttention(8, 2, 0.0, True, False, False, None, None, True, 'cpu', torch.float64)
    m2 = MultiHeadAttention(8, 2, 0.0, True, False, False, None, None, True, 'cpu', torch.float64)  # torch's positional order
    m2.load_state_dict(r.state_dict()); x = torch.randn(1, 3, 8, dtype=torch.float64)
    _close(m2(x, x, x)[0], r(x, x, x)[0])
    assert MultiHeadAttention.from_torch(r).in_proj_weight.dtype == torch.float64


def test_mha_dropout_eval_and_training():
    torch.manual_seed(6)
    ref = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    m = MultiHeadAttention(8, 2, dropout=0.5, batch_first=True); m.load_state_dict(ref.state_dict())
    x = torch.randn(2, 5, 8)
    m.eval(); ref.eval(); _close(m(x, x, x)[0], ref(x, x, x)[0]); _close(m(x, x, x)[1], ref(x, x, x)[1])
    m.train(); assert not torch.allclose(m(x)[0], m(x)[0])
    torch.manual_seed(1); o1, w1 = m(x, x, x)
    assert ((w1 == 0).float().mean() > 0.2) and o1.shape == (2, 5, 8)  # torch returns the weights after dropout


def test_mha_rejects_what_it_does_not_do():
    with pytest.raises(NotImplementedError, match='add_bias_kv'): MultiHeadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(NotImplementedError, match='add_zero_attn'): MultiHeadAttention(8, 2, add_zero_attn=True)
    m = MultiHeadAttention(8, 2, batch_first=True)
    with pytest.raises(ValueError, match='only bool and floating'): m(torch.randn(1, 3, 8), attn_mask=torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='batched'): m(torch.randn(1, 3, 8), torch.randn(3, 8), torch.randn(3, 8))


def test_mha_batch_first_false_is_torchs_layout():
    ours, ref = _pair(8, 2, True, 3, batch_first=False); ours.eval(); ref.eval()
    x = torch.randn(6, 2, 8, dtype=torch.float64)  # (L, B, E)
    _close(ours(x, x, x)[0], ref(x, x, x)[0]); _close(ours(x, x, x)[1], ref(x, x, x)[1])
    assert ours(x, x, x)[0].shape == (6, 2, 8)


def test_mha_compiles_without_graph_breaks():
    import torch._dynamo as dynamo
    m = MultiHeadAttention(8, 2, batch_first=True).eval(); x = torch.randn(2, 5, 8)
    kpm = padding_mask([5, 3])
    for kw in (dict(), dict(key_padding_mask=kpm, need_weights=False), dict(is_causal=True)):
        dynamo.reset()
        ex = dynamo.explain(lambda x: m(x, x, x, **kw)[0])(x)
        assert ex.graph_break_count == 0, (kw, ex.break_reasons)
    dynamo.reset()
    ex = dynamo.explain(lambda q: scaled_dot_product_attention(q, q, q, attn_mask=~future_mask(5)))(x)
    assert ex.graph_break_count == 0, ex.break_reasons


def test_first_masked_call_does_not_import_sympy():
    import subprocess, sys
    code = ("import sys, torch; from learnkit.attention import MultiHeadAttention, scaled_dot_product_attention, future_mask\n"
            "q = torch.randn(1, 4, 8); scaled_dot_product_attention(q, q, q, attn_mask=~future_mask(4))\n"
            "m = MultiHeadAttention(8, 2, batch_first=True); m(q, q, q, attn_mask=future_mask(4), key_padding_mask=torch.zeros(1, 4, dtype=torch.bool))\n"
            "print('sympy' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ['False', 'False'], out


def test_mha_causal_never_sees_the_future():
    torch.manual_seed(3)
    m = MultiHeadAttention(8, 2, batch_first=True).eval()
    x = torch.randn(1, 6, 8)
    y = x.clone(); y[:, 4:] = torch.randn(1, 2, 8)  # change the future only
    torch.testing.assert_close(m(x, is_causal=True)[0][:, :4], m(y, is_causal=True)[0][:, :4])
    assert not torch.allclose(m(x)[0][:, :4], m(y)[0][:, :4]), "without the mask the past does see the future"


def test_mha_padding_does_not_change_real_tokens():
    torch.manual_seed(4)
    m = MultiHeadAttention(8, 2, batch_first=True).eval()
    x = torch.randn(1, 3, 8)
    padded = torch.cat([x, torch.randn(1, 2, 8)], 1)  # 2 pad positions of junk
    out = m(padded, key_padding_mask=padding_mask([3], 5))[0]
    torch.testing.assert_close(out[:, :3], m(x)[0])


def test_mha_fused_path_and_store_weights():
    ours, ref = _pair(16, 4, True, 0); ours.eval()
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    kpm = padding_mask([6, 3])
    slow = ours(x, is_causal=True, key_padding_mask=kpm, need_weights=False)[0]
    ours.fused = True
    torch.testing.assert_close(ours(x, is_causal=True, key_padding_mask=kpm, need_weights=False)[0], slow)
    torch.testing.assert_close(ours(x, is_causal=True, need_weights=False)[0], ours(x, attn_mask=future_mask(6))[0])
    ours.store_weights = True; ours(x, is_causal=True, need_weights=False)
    assert ours.attn_weights.shape == (2, 4, 6, 6) and not ours.attn_weights.requires_grad


def test_sinusoidal_positions():
    pe = sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    p, i = 7, 3
    torch.testing.assert_close(pe[p, 2*i], torch.tensor(math.sin(p / 10000 ** (2*i/16))))
    torch.testing.assert_close(pe[p, 2*i + 1], torch.tensor(math.cos(p / 10000 ** (2*i/16))))
    assert sinusoidal_positions(5, 7).shape == (5, 7)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(0, 500), n=st.integers(0, 500), shift=st.integers(-200, 200), half=st.integers(1, 16), seed=st.integers(0, 2**16))
def test_rope_depends_only_on_offset(m, n, shift, half, seed):
    "q·k after rotating q to position m and k to position n depends only on m - n."
    D, gen = 2 * half, torch.Generator().manual_seed(seed)
    q, k = torch.randn(1, D, generator=gen, dtype=torch.float64), torch.randn(1, D, generator=gen, dtype=torch.float64)
    a = (apply_rope(q, torch.tensor([m])) * apply_rope(k, torch.tensor([n]))).sum()
    m2, n2 = m + abs(shift), n + abs(shift)
    b = (apply_rope(q, torch.tensor([m2])) * apply_rope(k, torch.tensor([n2]))).sum()
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_rope_is_a_rotation_and_matches_complex_multiplication():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 10, 8, generator=gen, dtype=torch.float64)
    r = apply_rope(x)
    torch.testing.assert_close(r.norm(dim=-1), x.norm(dim=-1))  # rotations keep lengths
    torch.testing.assert_close(r[..., 0, :], x[..., 0, :])  # position 0 is not rotated
    z = torch.view_as_complex(x.reshape(*x.shape[:-1], 4, 2).contiguous())
    ang = torch.arange(10, dtype=torch.float64)[:, None] * rope_frequencies(8).double()
    torch.testing.assert_close(torch.view_as_real(z * torch.polar(torch.ones_like(ang), ang)).flatten(-2), r)
    torch.testing.assert_close(apply_rope(x, pos=torch.arange(10) + 3), apply_rope(apply_rope(x), pos=torch.full((10,), 3)))


def test_masks():
    assert torch.equal(future_mask(3), torch.tensor([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=torch.bool))
    assert future_mask(2, 4).shape == (2, 4) and future_mask(2, 4).dtype == torch.bool
    assert torch.equal(padding_mask([1, 3]), torch.tensor([[False, True, True], [False, False, False]]))
    assert padding_mask([2], 4).tolist() == [[False, False, True, True]]
    assert padding_mask([], 3).shape == (0, 3) and padding_mask(torch.tensor([0, 2])).tolist() == [[True, True], [False, False]]
    with pytest.raises(ValueError, match='no lengths'): padding_mask([])
    with pytest.raises(ValueError, match='integers'): padding_mask([1.5, 2.0])
    with pytest.raises(ValueError, match='>= 0'): padding_mask([-1, 2])
    with pytest.raises(ValueError, match=r'shape \(B,\)'): padding_mask([[1, 2]])


def test_bad_inputs():
    q = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match='divisible'): MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match='attn_mask of shape'): scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match='not both'): scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(4, 4, dtype=torch.bool), is_causal=True)
    with pytest.raises(ValueError, match='feature'): scaled_dot_product_attention(q, torch.randn(2, 4, 7), q)
    with pytest.raises(ValueError, match='same length'): scaled_dot_product_attention(q, q, torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match='even'): apply_rope(torch.randn(4, 7))
    with pytest.raises(ValueError, match='even'): rope_frequencies(5)
    with pytest.raises(ValueError, match='T=4'): apply_rope(torch.randn(4, 8), pos=torch.arange(5))
    m = MultiHeadAttention(8, 2, batch_first=True)
    with pytest.raises(ValueError, match='8 features'): m(torch.randn(4, 6))
    with pytest.raises(ValueError, match='8 features'): m(torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match='batched'): m(torch.randn(4,))
    with pytest.raises(ValueError, match='attn_mask'): m(q, attn_mask=torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='attn_mask'): m(q, attn_mask=torch.ones(3, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match='key_padding_mask'): m(q, key_padding_mask=torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='max_len'): padding_mask([5], 3)
    with pytest.raises(ValueError, match='copy_from_torch'): m.copy_from_torch(nn.MultiheadAttention(8, 4))


def test_attention_scores_and_show_attention():
    import matplotlib; matplotlib.use('Agg')
    from learnkit.attention import show_attention
    q, k = torch.randn(3, 4), torch.randn(5, 4)
    s = attention_scores(q, k, attn_mask=~future_mask(3, 5))
    assert torch.isinf(s[0, 1:]).all() and torch.allclose(s[2, :3], (q @ k.T / 2)[2, :3])
    torch.testing.assert_close(attention_weights(q, k), (q @ k.T / 2).softmax(-1))
    ax = show_attention(attention_weights(q, k), 'abc', 'vwxyz', title='t')
    assert [t.get_text() for t in ax.get_xticklabels()] == list('vwxyz')
    with pytest.raises(ValueError, match='one \\(L, S\\) map'): show_attention(torch.rand(2, 3, 5))


def test_mha_dtype_mismatch_is_a_clear_error():
    m = MultiHeadAttention(8, 2, batch_first=True)
    with pytest.raises(ValueError, match="parameters' dtype torch.float32"): m(torch.randn(1, 3, 8, dtype=torch.float64))


@settings(max_examples=25, deadline=None)
@given(H=st.integers(1, 3), d=st.integers(1, 4), B=st.integers(1, 3), L=st.integers(1, 5), S=st.integers(1, 5),
       self_attn=st.booleans(), mask=st.sampled_from(['none', 'bool2', 'bool3', 'float2', 'kpm', 'kpm_float', 'both']),
       need=st.booleans(), avg=st.booleans(), seed=st.integers(0, 10_000))
def test_mha_property_matches_torch(H, d, B, L, S, self_attn, mask, need, avg, seed):
    "Random sizes, masks (every query keeps key 0) and flags: torch's numbers, weights and input gradients (float64, eval)."
    E = H * d
    if self_attn: S = L
    ours, ref = _pair(E, H, True, seed); ours.eval(); ref.eval()
    gen = torch.Generator().manual_seed(seed)
    x, mem = _leaf(B, L, E, gen=gen), _leaf(B, S, E, gen=gen)
    bad2 = torch.rand(L, S, generator=gen) > 0.5; bad2[:, 0] = False
    bad3 = torch.rand(B * H, L, S, generator=gen) > 0.5; bad3[..., 0] = False
    kpm = torch.rand(B, S, generator=gen) > 0.5; kpm[:, 0] = False
    kw = dict(none={}, bool2=dict(attn_mask=bad2), bool3=dict(attn_mask=bad3), float2=dict(attn_mask=torch.randn(L, S, generator=gen, dtype=torch.float64)),
              kpm=dict(key_padding_mask=kpm), kpm_float=dict(key_padding_mask=torch.zeros(B, S, dtype=torch.float64).masked_fill(kpm, float('-inf'))),
              both=dict(attn_mask=bad2, key_padding_mask=kpm))[mask]
    kv = x if self_attn else mem
    o, w = ours(x, kv, kv, need_weights=need, average_attn_weights=avg, **kw)
    r, rw = ref(x, kv, kv, need_weights=need, average_attn_weights=avg, **kw)
    _close(o, r, str(kw)); _close(w, rw, 'weights')
    ga = torch.autograd.grad(o.square().sum(), [x, mem], allow_unused=True); gb = torch.autograd.grad(r.square().sum(), [x, mem], allow_unused=True)
    for a, b in zip(ga, gb): _close(a, b, 'grad')


def test_sinusoidal_positions_odd_width_uses_the_papers_frequencies():
    "An odd width keeps θ_i = base^(-2i/dim) (the formula in the docstring), not the frequencies of the next even width."
    pe = sinusoidal_positions(6, 7)
    for p, i in ((3, 1), (5, 2), (4, 3)):
        torch.testing.assert_close(pe[p, 2*i], torch.tensor(math.sin(p / 10000 ** (2*i/7))))
    for p, i in ((3, 1), (5, 2)):
        torch.testing.assert_close(pe[p, 2*i + 1], torch.tensor(math.cos(p / 10000 ** (2*i/7))))


def test_apply_rope_keeps_float64_precision_at_large_positions():
    "A float64 input is rotated with float64 angles: no float32 rounding of pos·θ (1e-5 off at position 100,000 before)."
    gen = torch.Generator().manual_seed(11)
    x, pos = torch.randn(3, 8, generator=gen, dtype=torch.float64), torch.tensor([5, 1000, 100_000])
    ang = pos.double()[:, None] * 10000.0 ** (-torch.arange(0, 8, 2, dtype=torch.float64) / 8)
    ref = torch.view_as_real(torch.view_as_complex(x.reshape(3, 4, 2).contiguous()) * torch.polar(torch.ones_like(ang), ang)).flatten(-2)
    torch.testing.assert_close(apply_rope(x, pos), ref)
    assert rope_frequencies(8, dtype=torch.float64).dtype == torch.float64 and rope_frequencies(8).dtype == torch.float32
    assert apply_rope(x.float(), pos).dtype == torch.float32

def test_defaults_are_torchs_so_seq_first_code_gets_torchs_numbers():
    "Code written for nn.MultiheadAttention's default layout (L, B, E) gets torch's numbers, not a silent batch/length swap."
    torch.manual_seed(0); ref = nn.MultiheadAttention(8, 2).double().eval()
    ours = MultiHeadAttention(8, 2, dtype=torch.float64).eval(); ours.load_state_dict(ref.state_dict())
    assert ours.batch_first is False and ref.batch_first is False
    q = torch.randn(5, 3, 8, dtype=torch.float64)  # (L, B, E)
    torch.testing.assert_close(ours(q, q, q)[0], ref(q, q, q)[0])
    torch.testing.assert_close(ours(q, q, q)[1], ref(q, q, q)[1])


def test_mask_helpers_share_one_convention_true_is_blocked():
    "Issue 17: future_mask and padding_mask both return True = blocked, the convention of torch's modules; the sdpa functions take the complement."
    for L, S in ((5, 5), (3, 6), (6, 3), (1, 1)):
        q, k = torch.zeros(L, 1, dtype=torch.float64), torch.zeros(S, 1, dtype=torch.float64)
        seen = F.scaled_dot_product_attention(q, k, torch.eye(S, dtype=torch.float64), is_causal=True) > 0  # where torch's causal attention gives weight
        assert torch.equal(future_mask(L, S), ~seen), (L, S)
    assert torch.equal(future_mask(6), nn.Transformer.generate_square_subsequent_mask(6) == float('-inf'))
    assert torch.equal(padding_mask([2, 4]), torch.tensor([[False, False, True, True], [False] * 4]))
    gen = torch.Generator().manual_seed(3)
    q, k, v = [torch.randn(2, 3, 6, 4, generator=gen, dtype=torch.float64) for _ in range(3)]
    for fn in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        torch.testing.assert_close(fn(q, k, v, attn_mask=~future_mask(6)), F.scaled_dot_product_attention(q, k, v, is_causal=True))
    # a module takes them as they are, and blocked masks combine with OR
    torch.manual_seed(0); ref = nn.MultiheadAttention(8, 2, batch_first=True).double().eval()
    ours = MultiHeadAttention(8, 2, batch_first=True, dtype=torch.float64).eval(); ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 5, 8, generator=gen, dtype=torch.float64); kpm = padding_mask([5, 3])
    for m in (ours, ref):
        a = m(x, x, x, attn_mask=future_mask(5), key_padding_mask=kpm)[0]
        b = m(x, x, x, attn_mask=(future_mask(5)[None] | kpm[:, None, :]).repeat_interleave(2, 0))[0]
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(ours(x, x, x, attn_mask=future_mask(5), key_padding_mask=kpm)[0], ref(x, x, x, attn_mask=future_mask(5), key_padding_mask=kpm)[0])


def test_old_causal_mask_fails_loudly():
    "The retired causal_mask (True = may attend) must not silently give other numbers: importing works, calling raises and names future_mask."
    from learnkit.attention import causal_mask
    with pytest.raises(RuntimeError, match='future_mask'): causal_mask(4)
