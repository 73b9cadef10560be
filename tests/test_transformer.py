"Tests of learnkit.transformer: blocks against torch's layers (weights copied, forward and backward), causality, padding, errors, the date data, and a tiny overfit."
import datetime as dt, random
import pytest, torch, torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from learnkit import utils
from learnkit.transformer import (EncoderBlock, DecoderBlock, Transformer, CharTokenizer, DATE_FORMATS, format_date, random_date_pair,
                                  all_dates, split_dates, date_pairs, encode_pairs, exact_match, ordinal)

D, H = 16, 4
KW = dict(dim_feedforward=4 * D, dropout=0.0, batch_first=True, norm_first=True)  # the lesson's settings


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).requires_grad_()


def _out_and_grads(f, *ts):
    for t in ts: t.grad = None
    out = f(*ts)
    g = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)  # fixed, non-uniform upstream gradient
    (out * g).sum().backward()
    return out.detach(), [t.grad.clone() for t in ts]


def _pad(B, S, lengths):
    return torch.arange(S)[None] >= torch.tensor(lengths)[:, None]


# ---------------------------------------------------------------- shapes

def test_shapes():
    enc, dec = EncoderBlock(D, H, **KW), DecoderBlock(D, H, **KW)
    x, mem = torch.randn(3, 7, D), torch.randn(3, 5, D)
    assert enc(x).shape == (3, 7, D)
    assert dec(x, mem).shape == (3, 7, D)
    out, w = dec(x, mem, need_weights=True)
    assert out.shape == (3, 7, D) and w.shape == (3, H, 7, 5)
    assert enc.linear1.out_features == 4 * D and EncoderBlock(D, H, dim_feedforward=24).linear1.out_features == 24
    assert EncoderBlock(D, H).linear1.out_features == 2048  # torch's default
    m = Transformer(11, 13, d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=1, max_len=20)
    src, tgt = torch.randint(3, 11, (2, 9)), torch.randint(3, 13, (2, 6))
    logits, loss = m(src, tgt, tgt)
    assert logits.shape == (2, 6, 13) and loss.dim() == 0
    assert m(src, tgt)[1] is None
    memory, pad = m.encode(src)
    assert memory.shape == (2, 9, D) and pad.shape == (2, 9)
    lg, ws = m.decode(tgt, memory, pad, need_weights=True)
    assert ws.shape == (1, 2, H, 6, 9) and torch.allclose(lg, logits)


# ---------------------------------------------------------------- against torch

@pytest.mark.parametrize('norm_first', [True, False])
def test_encoder_block_matches_torch(norm_first):
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0, batch_first=True, norm_first=norm_first).double()
    ours = EncoderBlock(D, H, 4 * D, 0.0, batch_first=True, norm_first=norm_first).double().copy_from_torch(ref)
    pad = _pad(2, 6, [6, 4])
    x = _x(2, 6, D)
    a, ga = _out_and_grads(lambda x: ours(x, src_key_padding_mask=pad), x)
    b, gb = _out_and_grads(lambda x: ref(x, src_key_padding_mask=pad), x)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(ga[0], gb[0])
    # parameter gradients too (q/k/v stacked as torch packs them)
    pa = ours.self_attn.in_proj_weight.grad
    torch.testing.assert_close(pa, ref.self_attn.in_proj_weight.grad)
    torch.testing.assert_close(ours.linear1.weight.grad, ref.linear1.weight.grad)


@pytest.mark.parametrize('norm_first', [True, False])
def test_decoder_block_matches_torch(norm_first):
    torch.manual_seed(1)
    ref = nn.TransformerDecoderLayer(D, H, 4 * D, dropout=0.0, batch_first=True, norm_first=norm_first).double()
    ours = DecoderBlock(D, H, 4 * D, 0.0, batch_first=True, norm_first=norm_first).double().copy_from_torch(ref)
    mpad = _pad(2, 7, [7, 3])
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    y, mem = _x(2, 5, D, seed=1), _x(2, 7, D, seed=2)
    a, ga = _out_and_grads(lambda y, m: ours(y, m, tgt_is_causal=True, memory_key_padding_mask=mpad), y, mem)
    b, gb = _out_and_grads(lambda y, m: ref(y, m, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=mpad), y, mem)
    torch.testing.assert_close(a, b)
    for u, v in zip(ga, gb): torch.testing.assert_close(u, v)
    torch.testing.assert_close(ours.multihead_attn.out_proj.weight.grad, ref.multihead_attn.out_proj.weight.grad)


def test_decoder_block_non_causal_matches_torch():
    ref = nn.TransformerDecoderLayer(D, H, 4 * D, dropout=0.0, batch_first=True, norm_first=True)
    ours = DecoderBlock(D, H, **KW).copy_from_torch(ref)
    y, mem = torch.randn(2, 5, D), torch.randn(2, 7, D)
    torch.testing.assert_close(ours(y, mem), ref(y, mem))


def test_copy_from_torch_rejects_mismatch():
        with pytest.raises(RuntimeError): EncoderBlock(D, H).copy_from_torch(nn.TransformerEncoderLayer(D, H, 8 * D, batch_first=True))


# ---------------------------------------------------------------- causality and padding

@settings(max_examples=15, deadline=None)
@given(t=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_changing_future_decoder_tokens_never_changes_earlier_outputs(t, seed):
    torch.manual_seed(0)
    m = Transformer(12, 12, d_model=D, nhead=H, num_encoder_layers=1, num_decoder_layers=2, max_len=16).eval()
    g = torch.Generator().manual_seed(seed)
    src, tgt = torch.randint(3, 12, (2, 6), generator=g), torch.randint(3, 12, (2, 8), generator=g)
    changed = tgt.clone(); changed[:, t:] = torch.randint(3, 12, (2, 8 - t), generator=g)
    a, b = m(src, tgt)[0], m(src, changed)[0]
    assert torch.equal(a[:, :t], b[:, :t])


def test_encoder_block_is_causal_flag():
    enc = EncoderBlock(D, H, **KW).eval()
    x = torch.randn(1, 6, D); x2 = x.clone(); x2[:, 4:] = torch.randn(1, 2, D)
    assert torch.equal(enc(x, is_causal=True)[:, :4], enc(x2, is_causal=True)[:, :4])
    assert not torch.allclose(enc(x)[:, :4], enc(x2)[:, :4])


def test_padding_is_respected():
    enc = EncoderBlock(D, H, **KW)
    x, pad = torch.randn(2, 6, D), _pad(2, 6, [6, 3])
    noisy = x.clone(); noisy[pad] = 100 * torch.randn(int(pad.sum()), D)
    torch.testing.assert_close(enc(x, src_key_padding_mask=pad)[1, :3], enc(noisy, src_key_padding_mask=pad)[1, :3])
    # in the model: extra padding on the input never changes the output
    torch.manual_seed(0)
    m = Transformer(12, 12, d_model=D, nhead=H, max_len=16).eval()
    src, tgt = torch.randint(3, 12, (2, 5)), torch.randint(3, 12, (2, 4))
    longer = torch.cat([src, torch.zeros(2, 4, dtype=torch.long)], 1)
    torch.testing.assert_close(m(src, tgt)[0], m(longer, tgt)[0])
    # and the loss ignores pad targets
    tgt_p = tgt.clone(); tgt_p[:, 2:] = 0
    logits = m(src, tgt)[0]
    torch.testing.assert_close(m(src, tgt, tgt_p)[1], F.cross_entropy(logits[:, :2].flatten(0, 1), tgt_p[:, :2].flatten()))


# ---------------------------------------------------------------- bad input

def test_bad_input_errors():
    with pytest.raises(ValueError, match='divisible by nhead=5'): EncoderBlock(16, 5)
    with pytest.raises(ValueError, match='divisible'): DecoderBlock(16, 3)
    with pytest.raises(ValueError, match='divisible'): Transformer(10, 10, d_model=16, nhead=6)
    m = Transformer(12, 12, d_model=D, nhead=H, max_len=8)
    with pytest.raises(ValueError, match='max_len=8'): m(torch.randint(3, 12, (1, 9)), torch.randint(3, 12, (1, 3)))
    with pytest.raises(ValueError, match='max_len=8'): m(torch.randint(3, 12, (1, 5)), torch.randint(3, 12, (1, 9)))
    with pytest.raises(ValueError, match='max_len'): m.generate(torch.randint(3, 12, (1, 5)), 8)
    with pytest.raises(ValueError, match='torch.long'): m(torch.rand(1, 5), torch.randint(3, 12, (1, 3)))
    with pytest.raises(ValueError, match="targets must have tgt's shape"): m(torch.randint(3, 12, (1, 5)), torch.randint(3, 12, (1, 3)), torch.randint(3, 12, (1, 4)))
    enc, dec = EncoderBlock(D, H, **KW), DecoderBlock(D, H, **KW)
    x = torch.randn(2, 6, D)
    with pytest.raises(ValueError, match=r'key_padding_mask must have shape .*\(2, 6\)'): enc(x, src_key_padding_mask=torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='attn_mask'): enc(x, src_mask=torch.ones(5, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='d_model=16'): enc(torch.randn(2, 6, 8))
    with pytest.raises(ValueError, match='d_model=16'): enc(torch.randn(6, D))
    with pytest.raises(ValueError, match='batch size'): dec(x, torch.randn(3, 4, D))
    with pytest.raises(ValueError, match='attn_mask'): dec(x, torch.randn(2, 4, D), memory_mask=torch.ones(6, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='temperature'): m.generate(torch.randint(3, 12, (1, 5)), 3, temperature=-1)
    with pytest.raises(ValueError, match="activation"): EncoderBlock(D, H, activation='tanhh')
    with pytest.raises(ValueError, match=r"unknown characters \['é'\]"): CharTokenizer().encode('3 février 2021')
    with pytest.raises(ValueError): exact_match(['a'], ['a', 'b'])
    with pytest.raises(ValueError): split_dates(n_test=40000, n_val=1000)
    with pytest.raises(ValueError): format_date(dt.date(2021, 3, 3), '{day}', case='title')


# ---------------------------------------------------------------- the date data

def test_date_generator_is_reproducible_and_targets_are_iso_dates():
    a = [random_date_pair(random.Random(7)) for _ in range(3)]
    b = [random_date_pair(random.Random(7)) for _ in range(3)]
    assert a == b
    rng = random.Random(3)
    pairs = [random_date_pair(rng) for _ in range(2000)]
    assert pairs != [random_date_pair(random.Random(4)) for _ in range(2000)]
    for text, iso in pairs:
        d = dt.date.fromisoformat(iso)  # raises if not a valid date
        assert d.isoformat() == iso and len(iso) == 10 and dt.date(1950, 1, 1) <= d <= dt.date(2049, 12, 31)
    assert format_date(dt.date(2021, 3, 3), 'the {ord} of {month}, {year}') == 'the 3rd of March, 2021'
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '31st']


def test_every_text_determines_its_date():
    "No text is written for two different dates: the generator only makes learnable examples."
    seen = {}
    for d in all_dates()[::5]:
        for fmt in DATE_FORMATS:
            t = format_date(d, fmt, 'lower')
            assert seen.setdefault(t, d) == d, (t, seen[t], d)


def test_split_dates_and_pairs():
    tr, va, te = split_dates(2000, 1000, seed=0)
    assert (len(va), len(te)) == (1000, 2000) and len(tr) + 3000 == len(all_dates())
    assert not (set(tr) & set(te)) and not (set(tr) & set(va)) and not (set(va) & set(te))
    assert split_dates(2000, 1000, seed=0) == (tr, va, te) and split_dates(2000, 1000, seed=1)[2] != te
    p = date_pairs(te[:50], seed=1)
    assert p == date_pairs(te[:50], seed=1) and [x[1] for x in p] == [d.isoformat() for d in te[:50]]
    tok = CharTokenizer()
    src, tgt = encode_pairs(tok, p[:4])
    assert tgt.shape == (4, 12) and (tgt[:, 0] == tok.bos_id).all() and (tgt[:, -1] == tok.eos_id).all()
    assert [tok.decode(s) for s in src] == [x[0] for x in p[:4]]


def test_char_tokenizer_date_reader_use():
    "The date reader's tokenizer: <pad>, <bos>, <eos> first, then the sorted characters; decode skips specials and stops at <eos>."
    tok = CharTokenizer()
    assert tok.itos[:3] == ['<pad>', '<bos>', '<eos>'] and (tok.pad_id, tok.bos_id, tok.eos_id) == (0, 1, 2)
    assert len(tok) == tok.vocab_size == 3 + len(set(tok.chars)) and tok.itos[3:] == sorted(tok.itos[3:])
    ids = tok.encode('2021-03-03', bos=True, eos=True)
    assert isinstance(ids, list) and ids[0] == 1 and ids[-1] == 2 and tok.decode(ids) == '2021-03-03'
    assert tok.decode(torch.tensor(ids + tok.encode('xyz'))) == '2021-03-03'  # stops at the first <eos>
    assert tok.decode([0, 1] + tok.encode('ab') + [0]) == 'ab'  # specials skipped
    b = tok.batch(['3/3/21', 'March 3, 2021'], bos=True)
    assert b.shape == (2, 14) and b.dtype == torch.long and (b[0, 7:] == tok.pad_id).all()
    assert [tok.decode(r) for r in b] == ['3/3/21', 'March 3, 2021']
    with pytest.raises(ValueError, match='outside the vocabulary'): tok.decode([len(tok)])
    with pytest.raises(ValueError, match='distinct'): CharTokenizer('ab', specials=('<pad>', '<pad>'))
    with pytest.raises(ValueError, match='also characters'): CharTokenizer('ab|', specials=('|',))


def test_char_tokenizer_gpt_use():
    "GPT's tokenizer: CharTokenizer(text, specials=()) numbers the sorted characters 0..V-1 and has no specials."
    text = 'hello world\nO Romeo'
    tok = CharTokenizer(text, specials=())
    assert tok.itos == sorted(set(text)) and len(tok) == tok.vocab_size == len(set(text))
    assert (tok.pad_id, tok.bos_id, tok.eos_id) == (None, None, None)
    ids = tok.encode('hello')
    assert ids == [sorted(set(text)).index(c) for c in 'hello'] and tok.decode(ids) == 'hello'
    assert tok.decode(torch.tensor(tok.encode(text))) == text  # no id is special: everything round-trips
    with pytest.raises(ValueError, match="'<bos>'"): tok.encode('hello', bos=True)
    with pytest.raises(ValueError, match="'<eos>'"): tok.encode('hello', eos=True)
    with pytest.raises(ValueError, match="'<pad>'"): tok.batch(['hello', 'he'])
    with pytest.raises(ValueError, match="unknown characters"): tok.encode('hellz')
    only_eos = CharTokenizer('ab', specials=('<eos>',))
    assert only_eos.eos_id == 0 and only_eos.pad_id is None and only_eos.decode([1, 2, 0, 1]) == 'ab'


def test_exact_match():
    assert exact_match(['2021-03-03', '2021-03-04'], ['2021-03-03', '2021-03-03']) == 0.5


# ---------------------------------------------------------------- generation and a tiny overfit

def test_generate_reproducible_and_greedy():
    m = Transformer(12, 12, d_model=D, nhead=H, max_len=16).eval()
    src = torch.randint(3, 12, (3, 5))
    utils.set_seed(0); a = m.generate(src, 6, temperature=1.0, top_k=5)
    utils.set_seed(0); b = m.generate(src, 6, temperature=1.0, top_k=5)
    assert torch.equal(a, b) and (a[:, 0] == m.bos_id).all()
    assert torch.equal(m.generate(src, 6), m.generate(src, 6, temperature=1.0, top_k=1))


@pytest.fixture
def one_thread():
    "Tiny models train faster on one thread, and do not fight the other tests' threads for the cores."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_tiny_overfit(one_thread):
    utils.set_seed(0)
    tok = CharTokenizer()
    pairs = date_pairs(all_dates()[::4000], seed=0)  # 10 dates
    src, tgt = encode_pairs(tok, pairs)
    m = Transformer(len(tok), len(tok), d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1, max_len=48)
    opt = torch.optim.Adam(m.parameters(), lr=5e-3)
    for _ in range(100):
        loss = m(src, tgt[:, :-1], tgt[:, 1:])[1]
        opt.zero_grad(); loss.backward(); opt.step()
    assert loss.item() < 0.05
    assert exact_match(m.translate([p[0] for p in pairs], tok), [p[1] for p in pairs]) == 1.0
    assert m.training  # translate restores the mode


# ---------------------------------------------------------------- torch's arguments, defaults and masks (issue 13)

import inspect

@pytest.mark.parametrize('ours, theirs', [(EncoderBlock, nn.TransformerEncoderLayer), (DecoderBlock, nn.TransformerDecoderLayer)])
def test_signatures_are_torchs(ours, theirs):
    "Same argument names, order and defaults as torch's layers (ours may add keyword-only extras), so torch-style calls mean the same."
    for f in ('__init__', 'forward'):
        a, b = inspect.signature(getattr(ours, f)).parameters, inspect.signature(getattr(theirs, f)).parameters
        pos = [p for p in a.values() if p.kind != p.KEYWORD_ONLY]
        assert [p.name for p in pos] == list(b), (f, [p.name for p in pos], list(b))
        for p in pos:
            d = b[p.name].default
            assert p.default is d or p.default == d, (f, p.name, p.default, d)


def _seq_first_pair(cls, ref_cls, *args, **kw):
    torch.manual_seed(0)
    ref = ref_cls(*args, **kw).double().eval()
    return cls(*args, **kw).double().eval().copy_from_torch(ref), ref


def test_torch_defaults_give_torchs_numbers():
    "`EncoderBlock(d, h)` is `nn.TransformerEncoderLayer(d, h)`: post-norm, MLP 2048, (length, batch, d) tensors."
    ours, ref = _seq_first_pair(EncoderBlock, nn.TransformerEncoderLayer, D, H)
    x = torch.randn(7, 3, D, dtype=torch.float64)  # (S, B, E): torch's default layout
    torch.testing.assert_close(ours(x), ref(x))
    pad = _pad(3, 7, [7, 5, 2])
    torch.testing.assert_close(ours(x, src_key_padding_mask=pad)[:2], ref(x, src_key_padding_mask=pad)[:2])
    ours, ref = _seq_first_pair(DecoderBlock, nn.TransformerDecoderLayer, D, H)
    y, mem = torch.randn(5, 3, D, dtype=torch.float64), torch.randn(7, 3, D, dtype=torch.float64)
    torch.testing.assert_close(ours(y, mem), ref(y, mem))  # no mask: not causal, as in torch
    torch.testing.assert_close(ours(y, mem, memory_key_padding_mask=pad), ref(y, mem, memory_key_padding_mask=pad))


def test_positional_torch_call():
    "Positional arguments mean what they mean in torch (the 7th is batch_first, the 8th norm_first)."
    args = (D, H, 24, 0.0, F.gelu, 1e-6, True, True)
    ours, ref = _seq_first_pair(EncoderBlock, nn.TransformerEncoderLayer, *args)
    assert ours.batch_first and ours.norm_first and ours.linear1.out_features == 24
    x = torch.randn(2, 5, D, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x))
    ours, ref = _seq_first_pair(DecoderBlock, nn.TransformerDecoderLayer, *args)
    mem = torch.randn(2, 3, D, dtype=torch.float64)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    pad = _pad(2, 3, [3, 1])
    torch.testing.assert_close(ours(x, mem, causal, None, None, pad, True), ref(x, mem, causal, None, None, pad, True))


@pytest.mark.parametrize('kind', ['bool', 'float', 'hint'])
def test_masks_use_torchs_convention(kind):
    "A torch-style causal mask (bool True = masked, or float -inf) gives torch's numbers; the is_causal hint alone builds it."
    T = 5
    mask = {'bool': nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64) < 0,
            'float': nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64), 'hint': None}[kind]
    ref_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    ours, ref = _seq_first_pair(EncoderBlock, nn.TransformerEncoderLayer, D, H, 4 * D, 0.0, batch_first=True, norm_first=True)
    x = torch.randn(2, T, D, dtype=torch.float64)
    torch.testing.assert_close(ours(x, mask, is_causal=kind == 'hint'), ref(x, ref_mask, is_causal=True))
    ours, ref = _seq_first_pair(DecoderBlock, nn.TransformerDecoderLayer, D, H, 4 * D, 0.0, batch_first=True)
    mem = torch.randn(2, 4, D, dtype=torch.float64)
    torch.testing.assert_close(ours(x, mem, mask, tgt_is_causal=kind == 'hint'), ref(x, mem, ref_mask, tgt_is_causal=True))
    mm = nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)[:, :4]  # cross-attention mask (T, S)
    torch.testing.assert_close(ours(x, mem, memory_mask=mm < 0), ref(x, mem, memory_mask=mm))
    torch.testing.assert_close(ours(x, mem, memory_is_causal=True), ref(x, mem, memory_mask=mm, memory_is_causal=True))


def test_torch_state_dict_loads_and_device_dtype():
    ref = nn.TransformerDecoderLayer(D, H, 32, batch_first=True)
    ours = DecoderBlock(D, H, 32, batch_first=True, dtype=torch.float64, device='cpu')
    assert all(p.dtype == torch.float64 for p in ours.parameters())
    assert set(ours.state_dict()) == set(ref.state_dict())
    ours.load_state_dict(ref.state_dict())  # strict: every name matches
    assert ours.self_attn.in_proj_weight.dtype == torch.float64


def test_activation_module_and_dropout_default():
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(D, H, 32, activation=nn.GELU(), batch_first=True).eval()
    ours = EncoderBlock(D, H, 32, activation=nn.GELU(), batch_first=True).eval().copy_from_torch(ref)
    assert ours.dropout.p == 0.1 == ref.dropout.p
    x = torch.randn(2, 4, D)
    torch.testing.assert_close(ours(x), ref(x))


def test_errors_name_the_layout():
    enc = EncoderBlock(D, H)  # seq-first by default, like torch
    with pytest.raises(ValueError, match=r'\(length, batch, d_model\)'): enc(torch.randn(3, 5, 8))
    with pytest.raises(ValueError, match='not nn.Transformer'): Transformer(16.0, 10)


@pytest.mark.parametrize('batch_first', [False, True])
def test_attention_submodules_keep_torchs_layout(batch_first):
    "A block's `self_attn`/`multihead_attn` read the block's layout, as in torch: torch-style code calling the sub-module gets torch's numbers."
    for cls, ref_cls in [(EncoderBlock, nn.TransformerEncoderLayer), (DecoderBlock, nn.TransformerDecoderLayer)]:
        ours, ref = _seq_first_pair(cls, ref_cls, D, H, 4 * D, 0.0, batch_first=batch_first)
        assert ours.self_attn.batch_first == ref.self_attn.batch_first == batch_first
        x = torch.randn(5, 3, D, dtype=torch.float64)  # (L, B, E) or (B, L, E): the same tensor read in the block's layout
        torch.testing.assert_close(ours.self_attn(x, x, x)[0], ref.self_attn(x, x, x)[0])
        torch.testing.assert_close(ours(x), ref(x)) if cls is EncoderBlock else torch.testing.assert_close(ours(x, x), ref(x, x))
    assert ours.multihead_attn.batch_first == ref.multihead_attn.batch_first
