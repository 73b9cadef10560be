"Tests of learnkit.rnn against torch: RNNCell, RNN (weights copied both ways), clip_grad_norm_, the name encoding and classifier, bad input."
import math
import pytest, torch, torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from learnkit.rnn import (VOCAB, normalize_name, encode_name, pad_names, RNNCell, RNN, clip_grad_norm_,
                          NameClassifier, predict)

D = torch.float64


def _grads(f, *ts):
    "Output of f(*ts) and the gradients of a fixed non-uniform weighted sum of it with respect to every tensor in ts."
    for t in ts: t.grad = None
    out = f(*ts)
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum((o * torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view(o.shape)).sum() for o in outs)
    loss.backward()
    return [o.detach() for o in outs], [t.grad.clone() for t in ts]


def _param_grads(m): return {n: p.grad.clone() for n, p in m.named_parameters()}


@pytest.mark.parametrize('nonlinearity', ['tanh', 'relu'])
@pytest.mark.parametrize('bias', [True, False])
def test_rnncell_matches_torch(nonlinearity, bias):
    gen = torch.Generator().manual_seed(0)
    ours = RNNCell(5, 7, bias=bias, nonlinearity=nonlinearity, dtype=D)
    ref = nn.RNNCell(5, 7, bias=bias, nonlinearity=nonlinearity, dtype=D)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in ref.named_parameters()]
    ref.load_state_dict(ours.state_dict())
    x, h = torch.randn(3, 5, generator=gen, dtype=D, requires_grad=True), torch.randn(3, 7, generator=gen, dtype=D, requires_grad=True)
    (o1,), g1 = _grads(ours, x, h); p1 = _param_grads(ours)
    (o2,), g2 = _grads(ref, x, h); p2 = _param_grads(ref)
    torch.testing.assert_close(o1, o2)
    for a, b in zip(g1, g2): torch.testing.assert_close(a, b)
    for n in p1: torch.testing.assert_close(p1[n], p2[n])


def test_rnncell_unbatched_and_default_state():
    ours, ref = RNNCell(4, 3), nn.RNNCell(4, 3)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(4)
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours(x, torch.ones(3)), ref(x, torch.ones(3)))
    torch.testing.assert_close(ours(x[None]), ref(x[None]))


def test_rnncell_init_matches_torch_range():
    c = RNNCell(10, 400)
    k = 1 / math.sqrt(400)
    assert all(p.abs().max() <= k for p in c.parameters()) and c.weight_hh.abs().max() > 0.9 * k


@pytest.mark.parametrize('num_layers', [1, 2, 3])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('with_h0', [False, True])
def test_rnn_matches_torch_ours_to_torch(num_layers, batch_first, with_h0):
    gen = torch.Generator().manual_seed(num_layers * 10 + batch_first * 2 + with_h0)
    ours = RNN(6, 5, num_layers=num_layers, batch_first=batch_first, dtype=D)
    ref = nn.RNN(6, 5, num_layers=num_layers, batch_first=batch_first, dtype=D)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in ref.named_parameters()]
    ref.load_state_dict(ours.state_dict())
    T, B = 7, 4
    x = torch.randn(*((B, T) if batch_first else (T, B)), 6, generator=gen, dtype=D, requires_grad=True)
    h0 = torch.randn(num_layers, B, 5, generator=gen, dtype=D, requires_grad=True)
    args = (x, h0) if with_h0 else (x,)
    o1, g1 = _grads(ours, *args); p1 = _param_grads(ours)
    o2, g2 = _grads(ref, *args); p2 = _param_grads(ref)
    assert o1[0].shape == o2[0].shape and o1[1].shape == o2[1].shape == (num_layers, B, 5)
    for a, b in zip(o1 + g1, o2 + g2): torch.testing.assert_close(a, b)
    for n in p1: torch.testing.assert_close(p1[n], p2[n])


def test_rnn_torch_to_ours_relu_no_bias_unbatched():
    ref = nn.RNN(3, 4, num_layers=2, nonlinearity='relu', bias=False)
    ours = RNN(3, 4, 2, 'relu', False)  # torch's positional order
    ours.load_state_dict(ref.state_dict())
    x, h0 = torch.randn(5, 3), torch.randn(2, 4)
    for a, b in zip(ours(x), ref(x)): torch.testing.assert_close(a, b)
    for a, b in zip(ours(x, h0), ref(x, h0)): torch.testing.assert_close(a, b)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 6), B=st.integers(1, 4), I=st.integers(1, 5), H=st.integers(1, 5), L=st.integers(1, 3))
def test_rnn_property_matches_torch(T, B, I, H, L):
    ours, ref = RNN(I, H, L, dtype=D), nn.RNN(I, H, L, dtype=D)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(T, B, I, dtype=D)
    for a, b in zip(ours(x), ref(x)): torch.testing.assert_close(a, b)


@pytest.mark.parametrize('norm_type', [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize('max_norm', [0.1, 1.0, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    gen = torch.Generator().manual_seed(1)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    ps1 = [torch.randn(*s, generator=gen, requires_grad=True) for s in shapes]
    ps2 = [p.detach().clone().requires_grad_() for p in ps1]
    for p1, p2 in zip(ps1, ps2):
        g = torch.randn(p1.shape, generator=gen) * 3
        p1.grad, p2.grad = g.clone(), g.clone()
    n1 = clip_grad_norm_(ps1, max_norm, norm_type)
    n2 = nn.utils.clip_grad_norm_(ps2, max_norm, norm_type)
    torch.testing.assert_close(n1, n2)
    for p1, p2 in zip(ps1, ps2): torch.testing.assert_close(p1.grad, p2.grad)


def test_clip_grad_norm_single_tensor_none_grads_and_nonfinite():
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    p.grad = torch.tensor([3., 4.])
    assert clip_grad_norm_([p, q], 1.0).item() == pytest.approx(5.0)  # q has no grad: skipped
    torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.8]), atol=1e-6, rtol=0)
    p.grad = torch.tensor([0.3, 0.4])
    clip_grad_norm_(p, 1.0)  # a single tensor, under the threshold: unchanged
    torch.testing.assert_close(p.grad, torch.tensor([0.3, 0.4]))
    assert clip_grad_norm_([q], 1.0).item() == 0.0
    p.grad = torch.tensor([float('nan'), 1.])
    with pytest.raises(RuntimeError, match='non-finite|nan'): clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_is_differentiable_through_training():
    m = nn.Linear(3, 2)
    F.mse_loss(m(torch.randn(4, 3) * 100), torch.zeros(4, 2)).backward()
    total = clip_grad_norm_(m.parameters(), 0.5)
    after = torch.stack([p.grad.norm() for p in m.parameters()]).norm()
    assert total > 0.5 and after.item() == pytest.approx(0.5, rel=1e-4)


def test_encoding_and_documented_replacements():
    assert normalize_name('Müller') == 'muller' and normalize_name('Łukasz') == 'lukasz' and normalize_name('Groß') == 'gross'
    assert normalize_name("  O'Brien ") == "o'brien"
    assert encode_name('Ab').tolist() == [0, 1] and encode_name('Dvořák').tolist() == [VOCAB.index(c) for c in 'dvorak']
    x, lengths = pad_names(['Li', 'Nakamura'])
    assert x.shape == (8, 2) and lengths.tolist() == [2, 8] and x[2:, 0].eq(0).all()


@pytest.mark.parametrize('bad, match', [('', 'empty'), ('   ', 'empty'), ('R2-D2', "'2'"), ('Maxa/B', "'/'"), ('李', "'李'")])
def test_encode_errors(bad, match):
    with pytest.raises(ValueError, match=match): encode_name(bad)


def test_encode_type_error():
    with pytest.raises(TypeError, match='str'): encode_name(42)


def test_bad_shapes_give_clear_errors():
    cell, rnn = RNNCell(4, 3), RNN(4, 3, num_layers=2)
    with pytest.raises(ValueError, match=r'\(batch, 4\).*got \(2, 5\)'): cell(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r'hx of shape \(2, 3\)'): cell(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match='feature = 4'): rnn(torch.zeros(5, 2, 6))
    with pytest.raises(ValueError, match='empty sequence'): rnn(torch.zeros(0, 2, 4))
    with pytest.raises(ValueError, match='empty sequence'): RNN(4, 3, batch_first=True)(torch.zeros(2, 0, 4))
    with pytest.raises(ValueError, match=r'hx of shape \(2, 2, 3\)'): rnn(torch.zeros(5, 2, 4), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="'tanh' or 'relu'"): RNNCell(4, 3, nonlinearity='sigmoid')
    with pytest.raises(ValueError, match='num_layers'): RNN(4, 3, num_layers=0)
    with pytest.raises(ValueError, match='no names'): pad_names([])


@pytest.mark.parametrize('kind', ['rnn', 'torch_rnn', 'gru'])
def test_classifier_padding_does_not_change_logits(kind):
    m = NameClassifier(['a', 'b', 'c'], hidden_size=8, rnn=kind)
    x, lengths = pad_names(['Li', 'Nakamura', 'Kowalski'])
    batched = m(x, lengths)
    alone = torch.cat([m(encode_name(n)[:, None]) for n in ['Li', 'Nakamura', 'Kowalski']])
    torch.testing.assert_close(batched, alone, atol=1e-6, rtol=1e-5)


def test_classifier_state_dict_swaps_with_torch_rnn_and_backward():
    ours = NameClassifier(['x', 'y'], hidden_size=6, num_layers=2, rnn='rnn')
    ref = NameClassifier(['x', 'y'], hidden_size=6, num_layers=2, rnn='torch_rnn')
    ref.load_state_dict(ours.state_dict())
    x, lengths = pad_names(['Smith', 'Ng', 'Rossi'])
    y = torch.tensor([0, 1, 0])
    F.cross_entropy(ours(x, lengths), y).backward(); F.cross_entropy(ref(x, lengths), y).backward()
    torch.testing.assert_close(ours(x, lengths), ref(x, lengths))
    for (n, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()): torch.testing.assert_close(p.grad, q.grad, msg=n)


def test_classifier_and_predict_errors_and_output():
    m = NameClassifier(['English', 'Japanese', 'Polish'], hidden_size=8)
    out = predict('Nakamura', m, k=2)
    assert len(out) == 2 and out[0][1] >= out[1][1] and {c for c, _ in out} <= set(m.classes)
    assert sum(p for _, p in predict('Nakamura', m, k=10)) == pytest.approx(1.0, abs=1e-5)
    assert m.training  # predict restores the mode
    with pytest.raises(ValueError, match='empty'): predict('', m)
    with pytest.raises(ValueError, match='outside the vocabulary'): predict('X Æ A-12', m)
    with pytest.raises(ValueError, match='rnn must be one of'): NameClassifier(['a'], rnn='lstm')
    with pytest.raises(ValueError, match=r'\(T, B\)'): m(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match='lengths'): m(torch.zeros(3, 2, dtype=torch.long), torch.tensor([4, 1]))
