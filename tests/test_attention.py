"Tests of learnkit.attention against torch: F.scaled_dot_product_attention and nn.MultiheadAttention (weights copied), forward and backward, RoPE's relative-offset property, and errors on bad input."
import math, pytest, torch, torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from learnkit.attention import (scaled_dot_product_attention, attention_weights, attention_scores, causal_mask, padding_mask,
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


def _pair(E, H, bias, gen_seed):
    torch.manual_seed(gen_seed)
    ref = nn.MultiheadAttention(E, H, bias=bias, batch_first=True).double()
    with torch.no_grad():  # torch zeroes its biases at init: randomise them so that they are really compared
        for p in ref.parameters(): p.copy_(torch.randn_like(p) * 0.5)
    return MultiHeadAttention.from_torch(ref).double(), ref


@pytest.mark.parametrize('E,H,bias', [(8, 2, True), (12, 3, False), (16, 4, True), (6, 1, True)])
def test_mha_matches_torch(E, H, bias):
    ours, ref = _pair(E, H, bias, E + H)
    gen = torch.Generator().manual_seed(E)
    B, L, S = 3, 5, 7
    x, mem = _leaf(B, L, E, gen=gen), _leaf(B, S, E, gen=gen)
    keep = torch.rand(L, S, generator=gen) > 0.4; keep[:, 0] = True
    fmask = torch.randn(L, S, generator=gen, dtype=torch.float64)
    kpm = padding_mask([7, 4, 5], S)
    kpm_f = torch.zeros(B, S, dtype=torch.float64).masked_fill(kpm, float('-inf'))  # the same padding as an additive mask
    cases = [  # (our kwargs, torch kwargs): torch's bool attn_mask means True = may NOT attend
        (dict(), dict()),
        (dict(attn_mask=keep), dict(attn_mask=~keep)),
        (dict(attn_mask=fmask), dict(attn_mask=fmask)),
        (dict(key_padding_mask=kpm), dict(key_padding_mask=kpm)),
        (dict(attn_mask=keep, key_padding_mask=kpm), dict(attn_mask=~keep, key_padding_mask=kpm)),
        (dict(attn_mask=fmask, key_padding_mask=kpm_f), dict(attn_mask=fmask, key_padding_mask=kpm_f)),
        (dict(attn_mask=fmask, key_padding_mask=kpm), dict(attn_mask=fmask, key_padding_mask=kpm_f)),
    ]
    for kw_ours, kw_ref in cases:  # cross-attention: queries from x, keys and values from mem
        o, g_o = _grads(lambda x, m: ours(x, m, m, **kw_ours), x, mem)
        r, g_r = _grads(lambda x, m: ref(x, m, m, need_weights=False, **kw_ref)[0], x, mem)
        torch.testing.assert_close(o, r, msg=lambda m: f"{kw_ours.keys()}: {m}")
        for a, e in zip(g_o, g_r): torch.testing.assert_close(a, e)
        pg_o = [p.grad.clone() for p in (ours.q_proj.weight, ours.out_proj.weight)]
        torch.testing.assert_close(pg_o[0], ref.in_proj_weight.grad[:E]); torch.testing.assert_close(pg_o[1], ref.out_proj.weight.grad)
        ours.zero_grad(); ref.zero_grad()
    # self-attention, causal, with weights per head
    c = ~causal_mask(L)
    o, w = ours(x, x, x, is_causal=True, need_weights=True)
    r, rw = ref(x, x, x, attn_mask=c, average_attn_weights=False)
    torch.testing.assert_close(o, r); torch.testing.assert_close(w, rw)
    assert w.shape == (B, H, L, L)
    torch.testing.assert_close(ours(x), ref(x, x, x, need_weights=False)[0])  # key and value default to query


def test_mha_fused_path_and_store_weights():
    ours, ref = _pair(16, 4, True, 0)
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    kpm = padding_mask([6, 3])
    slow = ours(x, is_causal=True, key_padding_mask=kpm)
    ours.fused = True
    torch.testing.assert_close(ours(x, is_causal=True, key_padding_mask=kpm), slow)
    ours.store_weights = True; ours(x, is_causal=True)
    assert ours.attn_weights.shape == (2, 4, 6, 6) and not ours.attn_weights.requires_grad


def test_mha_to_torch_and_state_dict():
    ours = MultiHeadAttention(8, 2)
    x = torch.randn(2, 4, 8)
    torch.testing.assert_close(ours.to_torch()(x, x, x, need_weights=False)[0], ours(x))
    assert set(ours.state_dict()) == {f'{p}_proj.{w}' for p in 'qkv' for w in ('weight', 'bias')} | {'out_proj.weight', 'out_proj.bias'}


def test_mha_causal_never_sees_the_future():
    torch.manual_seed(3)
    m = MultiHeadAttention(8, 2).eval()
    x = torch.randn(1, 6, 8)
    y = x.clone(); y[:, 4:] = torch.randn(1, 2, 8)  # change the future only
    torch.testing.assert_close(m(x, is_causal=True)[:, :4], m(y, is_causal=True)[:, :4])
    assert not torch.allclose(m(x)[:, :4], m(y)[:, :4]), "without the mask the past does see the future"


def test_mha_padding_does_not_change_real_tokens():
    torch.manual_seed(4)
    m = MultiHeadAttention(8, 2).eval()
    x = torch.randn(1, 3, 8)
    padded = torch.cat([x, torch.randn(1, 2, 8)], 1)  # 2 pad positions of junk
    out = m(padded, key_padding_mask=padding_mask([3], 5))
    torch.testing.assert_close(out[:, :3], m(x))


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
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool))
    assert causal_mask(2, 4).shape == (2, 4)
    assert torch.equal(padding_mask([1, 3]), torch.tensor([[False, True, True], [False, False, False]]))
    assert padding_mask([2], 4).tolist() == [[False, False, True, True]]


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
    m = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r'\(batch, length, 8\)'): m(torch.randn(4, 8))
    with pytest.raises(ValueError, match=r'\(batch, length, 8\)'): m(torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match='attn_mask'): m(q, attn_mask=torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='attn_mask'): m(q, attn_mask=torch.ones(3, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match='key_padding_mask'): m(q, key_padding_mask=torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='max_len'): padding_mask([5], 3)
    with pytest.raises(ValueError, match='copy_from_torch'): m.copy_from_torch(nn.MultiheadAttention(8, 4))


def test_attention_scores_and_show_attention():
    import matplotlib; matplotlib.use('Agg')
    from learnkit.attention import show_attention
    q, k = torch.randn(3, 4), torch.randn(5, 4)
    s = attention_scores(q, k, attn_mask=causal_mask(3, 5))
    assert torch.isinf(s[0, 1:]).all() and torch.allclose(s[2, :3], (q @ k.T / 2)[2, :3])
    torch.testing.assert_close(attention_weights(q, k), (q @ k.T / 2).softmax(-1))
    ax = show_attention(attention_weights(q, k), 'abc', 'vwxyz', title='t')
    assert [t.get_text() for t in ax.get_xticklabels()] == list('vwxyz')
    with pytest.raises(ValueError, match='one \\(L, S\\) map'): show_attention(torch.rand(2, 3, 5))


def test_mha_dropout_only_in_training():
    torch.manual_seed(6)
    m = MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 5, 8)
    m.eval(); torch.testing.assert_close(m(x), m(x))
    m.train(); assert not torch.allclose(m(x), m(x))
