"Tests of learnkit.rnn against torch: RNNCell, GRUCell, LSTMCell, RNN (weights copied both ways), clip_grad_norm_, the name encoding and classifier, bad input."
import math
import pytest, torch, torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from learnkit.rnn import (VOCAB, normalize_name, encode_name, pad_names, RNNCell, RNN, clip_grad_norm_,
                          NameClassifier, predict, GRUCell, LSTMCell)

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


# torch's other arguments of nn.RNN: dropout, bidirectional, proj_size, PackedSequence input (issue 13)

def _pair(*args, **kw):
    "Our RNN and nn.RNN built with the same arguments, torch's loaded with our weights."
    ours, ref = RNN(*args, dtype=D, **kw), nn.RNN(*args, dtype=D, **kw)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in ref.named_parameters()]
    ref.load_state_dict(ours.state_dict())
    return ours, ref


def test_rnn_signature_is_torchs():
    import inspect
    names = list(inspect.signature(RNN.__init__).parameters)[1:]
    torch_names = [n for n in inspect.signature(nn.RNNBase.__init__).parameters if n not in ('self', 'mode')]
    torch_names.insert(3, 'nonlinearity')  # nn.RNN takes nonlinearity fourth, then RNNBase's order
    assert names == torch_names


@pytest.mark.parametrize('num_layers', [2, 3])
def test_rnn_dropout_eval_equals_torch_and_train_matches_torch_rng(num_layers):
    ours, ref = _pair(4, 5, num_layers, dropout=0.5)
    x = torch.randn(6, 3, 4, dtype=D)
    ours.eval(); ref.eval()
    for a, b in zip(ours(x), ref(x)): torch.testing.assert_close(a, b)
    ours.train(); ref.train()
    torch.manual_seed(7); o1 = ours(x)
    torch.manual_seed(7); o2 = ref(x)
    for a, b in zip(o1, o2): torch.testing.assert_close(a, b)  # the same masks from the same seed: torch's numbers
    torch.manual_seed(8); o3 = ours(x)
    assert not torch.allclose(o1[0], o3[0])  # dropout is really on in training mode
    torch.testing.assert_close(o1[1][0], ref(x)[1][0])  # layer 0's final state is never dropped


def test_rnn_dropout_statistics_and_errors():
    ours = RNN(3, 200, 2, dropout=0.3)
    x = torch.randn(1, 1, 3)
    with torch.no_grad():
        ours.weight_hh_l1.zero_(); ours.bias_ih_l1.zero_(); ours.bias_hh_l1.zero_()
        ours.weight_ih_l1.copy_(torch.eye(200) * 1e-3)  # layer 1 ~ linear read-out of layer 0, so zeros mark dropped units
        ours.bias_ih_l0.fill_(0.5)
    zeros = torch.stack([(ours(x)[0] == 0).float().mean() for _ in range(200)]).mean()
    assert abs(zeros.item() - 0.3) < 0.02
    with pytest.raises(ValueError, match=r'range \[0, 1\]'): RNN(3, 4, 2, dropout=1.5)
    with pytest.raises(ValueError, match=r'range \[0, 1\]'): RNN(3, 4, 2, dropout='0.5')
    with pytest.warns(UserWarning, match='num_layers greater than 1'): RNN(3, 4, 1, dropout=0.5)


def test_rnn_proj_size_refused_like_torch():
    with pytest.raises(ValueError, match='proj_size.*only supported for LSTM'): RNN(3, 4, proj_size=2)
    with pytest.raises(ValueError, match='proj_size.*only supported for LSTM'): nn.RNN(3, 4, proj_size=2)


@pytest.mark.parametrize('num_layers', [1, 2])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('nonlinearity', ['tanh', 'relu'])
def test_rnn_bidirectional_matches_torch(num_layers, batch_first, nonlinearity):
    ours, ref = _pair(4, 3, num_layers, nonlinearity, batch_first=batch_first, bidirectional=True)
    x = torch.randn(*((2, 5) if batch_first else (5, 2)), 4, dtype=D, requires_grad=True)
    h0 = torch.randn(2 * num_layers, 2, 3, dtype=D, requires_grad=True)
    o1, g1 = _grads(ours, x, h0); p1 = _param_grads(ours)
    o2, g2 = _grads(ref, x, h0); p2 = _param_grads(ref)
    for a, b in zip(o1 + g1, o2 + g2): torch.testing.assert_close(a, b)
    for n in p1: torch.testing.assert_close(p1[n], p2[n])
    for a, b in zip(ours(x[0] if batch_first else x[:, 0]), ref(x[0] if batch_first else x[:, 0])): torch.testing.assert_close(a, b)  # unbatched


@pytest.mark.parametrize('bidirectional', [False, True])
@pytest.mark.parametrize('enforce_sorted', [False, True])
def test_rnn_packed_sequence_matches_torch(bidirectional, enforce_sorted):
    ours, ref = _pair(4, 3, 2, bidirectional=bidirectional)
    lengths = torch.tensor([5, 3, 3, 1]) if enforce_sorted else torch.tensor([3, 5, 1, 3])
    x = torch.randn(5, 4, 4, dtype=D, requires_grad=True)
    pack = lambda t: nn.utils.rnn.pack_padded_sequence(t, lengths, enforce_sorted=enforce_sorted)
    h0 = torch.randn(2 * (1 + bidirectional), 4, 3, dtype=D)
    for args in ((), (h0,)):
        (out1, h1), (out2, h2) = ours(pack(x), *args), ref(pack(x), *args)
        assert isinstance(out1, nn.utils.rnn.PackedSequence)
        torch.testing.assert_close(out1.data, out2.data); torch.testing.assert_close(h1, h2)
        assert torch.equal(out1.batch_sizes, out2.batch_sizes)
        for a, b in zip(nn.utils.rnn.pad_packed_sequence(out1), nn.utils.rnn.pad_packed_sequence(out2)): torch.testing.assert_close(a, b)
    (o1, _), g1 = _grads(lambda t: tuple(v.data if isinstance(v, nn.utils.rnn.PackedSequence) else v for v in ours(pack(t))), x)
    (o2, _), g2 = _grads(lambda t: tuple(v.data if isinstance(v, nn.utils.rnn.PackedSequence) else v for v in ref(pack(t))), x)
    torch.testing.assert_close(g1[0], g2[0])


def test_rnn_packed_errors_and_repr():
    rnn = RNN(4, 3, 2, bidirectional=True)
    p = nn.utils.rnn.pack_padded_sequence(torch.zeros(5, 2, 4), torch.tensor([5, 2]))
    with pytest.raises(ValueError, match=r'hx of shape \(4, 2, 3\)'): rnn(p, torch.zeros(2, 2, 3))
    with pytest.raises(ValueError, match='feature = 4'): rnn(nn.utils.rnn.pack_padded_sequence(torch.zeros(5, 2, 6), torch.tensor([5, 2])))
    assert repr(RNN(4, 3, 2, dropout=0.5, bidirectional=True)).endswith("dropout=0.5, bidirectional=True)")


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=4), L=st.integers(1, 2), bidirectional=st.booleans(),
       enforce_sorted=st.booleans(), with_h0=st.booleans())
def test_rnn_packed_property_matches_torch(lengths, L, bidirectional, enforce_sorted, with_h0):
    if enforce_sorted: lengths = sorted(lengths, reverse=True)
    ours, ref = _pair(3, 2, L, bidirectional=bidirectional)
    x = torch.randn(max(lengths), len(lengths), 3, dtype=D)
    p = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=enforce_sorted)
    args = (torch.randn(L * (1 + bidirectional), len(lengths), 2, dtype=D),) if with_h0 else ()
    (o1, h1), (o2, h2) = ours(p, *args), ref(p, *args)
    torch.testing.assert_close(o1.data, o2.data); torch.testing.assert_close(h1, h2)


def test_rnncell_signature_and_device_dtype_like_torch():
    import inspect
    assert list(inspect.signature(RNNCell.__init__).parameters) == list(inspect.signature(nn.RNNCell.__init__).parameters)
    for cls, ref in ((RNNCell, nn.RNNCell), (RNN, nn.RNN)):
        m, r = cls(3, 4, device='meta', dtype=torch.float16), ref(3, 4, device='meta', dtype=torch.float16)
        assert {(n, p.device.type, p.dtype) for n, p in m.named_parameters()} == {(n, p.device.type, p.dtype) for n, p in r.named_parameters()}


@pytest.mark.parametrize('args, kw', [((0, 4), {}), ((3, 0), {}), ((3, -1), {}), ((3.0, 4), {}), ((3, 4.0), {}),
                                      ((3, 4), dict(bias=1)), ((3, 4), dict(batch_first=1)), ((3, 4), dict(num_layers=0))])
def test_rnn_constructor_refuses_what_torch_refuses(args, kw):
    "Sizes of 0, negative or float sizes and non-bool flags: the error type and message torch gives, never a silent RNN."
    with pytest.raises(Exception) as ref: nn.RNN(*args, **kw)
    with pytest.raises(ref.type) as got: RNN(*args, **kw)
    assert str(ref.value).split(',')[0].split(' got')[0] in str(got.value), (str(ref.value), str(got.value))


def test_rnncell_hidden_size_zero_like_torch():
    "torch's RNNCell accepts hidden_size 0 (an empty state); ours too, instead of dividing by zero in the init."
    ours, ref = RNNCell(3, 0), nn.RNNCell(3, 0)
    assert ours(torch.randn(2, 3)).shape == ref(torch.randn(2, 3)).shape == (2, 0)


def test_rnn_input_dtype_mismatch_is_torchs_error():
    "A float64 input to a float32 RNN: torch's ValueError naming both dtypes and the two fixes."
    x = torch.randn(3, 2, 5, dtype=D)
    with pytest.raises(ValueError) as ref: nn.RNN(5, 4)(x)
    with pytest.raises(ValueError) as got: RNN(5, 4)(x)
    assert str(got.value) == str(ref.value)


@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('batched', [True, False])
def test_grucell_matches_torch_forward_and_backward(bias, batched):
    "Weights copied from ours to nn.GRUCell (float64): the same next state, input/state gradients and parameter gradients."
    gen = torch.Generator().manual_seed(3 + bias + 2 * batched)
    ours, ref = GRUCell(5, 7, bias=bias, dtype=D), nn.GRUCell(5, 7, bias=bias, dtype=D)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in ref.named_parameters()]
    ref.load_state_dict(ours.state_dict())
    shp = (3,) if batched else ()
    x, h = torch.randn(*shp, 5, generator=gen, dtype=D, requires_grad=True), torch.randn(*shp, 7, generator=gen, dtype=D, requires_grad=True)
    (o1,), g1 = _grads(ours, x, h); p1 = _param_grads(ours)
    (o2,), g2 = _grads(ref, x, h); p2 = _param_grads(ref)
    torch.testing.assert_close(o1, o2)
    for a, b in zip(g1, g2): torch.testing.assert_close(a, b)
    for n in p1: torch.testing.assert_close(p1[n], p2[n])


@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('batched', [True, False])
def test_lstmcell_matches_torch_forward_and_backward(bias, batched):
    "Weights copied from nn.LSTMCell to ours (float64): the same (h, c), and the same gradients for x, h, c and every parameter."
    gen = torch.Generator().manual_seed(11 + bias + 2 * batched)
    ours, ref = LSTMCell(4, 6, bias=bias, dtype=D), nn.LSTMCell(4, 6, bias=bias, dtype=D)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in ref.named_parameters()]
    ours.load_state_dict(ref.state_dict())
    shp = (2,) if batched else ()
    x, h, c = [torch.randn(*shp, n, generator=gen, dtype=D, requires_grad=True) for n in (4, 6, 6)]
    o1, g1 = _grads(lambda x, h, c: ours(x, (h, c)), x, h, c); p1 = _param_grads(ours)
    o2, g2 = _grads(lambda x, h, c: ref(x, (h, c)), x, h, c); p2 = _param_grads(ref)
    for a, b in zip(o1 + g1, o2 + g2): torch.testing.assert_close(a, b)
    for n in p1: torch.testing.assert_close(p1[n], p2[n])


def test_gated_cells_default_state_unroll_and_init():
    "hx=None is zeros; unrolled over a sequence the cells match nn.GRU / nn.LSTM; every parameter uniform in ±1/sqrt(H)."
    gru, lstm = GRUCell(3, 5, dtype=D), LSTMCell(3, 5, dtype=D)
    tg, tl = nn.GRU(3, 5, dtype=D), nn.LSTM(3, 5, dtype=D)
    tg.load_state_dict({f'{n}_l0': p for n, p in gru.state_dict().items()}); tl.load_state_dict({f'{n}_l0': p for n, p in lstm.state_dict().items()})
    xs = torch.randn(6, 2, 3, dtype=D)
    h, hc = None, None
    for x in xs: h, hc = gru(x, h), lstm(x, hc)
    torch.testing.assert_close(h, tg(xs)[1][0]); torch.testing.assert_close(hc[0], tl(xs)[1][0][0]); torch.testing.assert_close(hc[1], tl(xs)[1][1][0])
    torch.testing.assert_close(gru(xs[0]), gru(xs[0], torch.zeros(2, 5, dtype=D)))
    for a, b in zip(lstm(xs[0]), lstm(xs[0], (torch.zeros(2, 5, dtype=D), torch.zeros(2, 5, dtype=D)))): torch.testing.assert_close(a, b)
    for m in (GRUCell(10, 400), LSTMCell(10, 400)):
        assert all(p.abs().max() <= 1 / 20 for p in m.parameters()) and m.weight_hh.abs().max() > 0.9 / 20


def test_gated_cells_signature_and_errors():
    import inspect
    for cls, ref in ((GRUCell, nn.GRUCell), (LSTMCell, nn.LSTMCell)):
        assert list(inspect.signature(cls.__init__).parameters) == list(inspect.signature(ref.__init__).parameters)
        m, r = cls(3, 4, device='meta', dtype=torch.float16), ref(3, 4, device='meta', dtype=torch.float16)
        assert {(n, p.device.type, p.dtype) for n, p in m.named_parameters()} == {(n, p.device.type, p.dtype) for n, p in r.named_parameters()}
    with pytest.raises(ValueError, match=r'GRUCell expects input of shape \(batch, 3\).*got \(2, 5\)'): GRUCell(3, 4)(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r'hx of shape \(2, 4\)'): GRUCell(3, 4)(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r'LSTMCell expects hx'): LSTMCell(3, 4)(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r'c of shape \(2, 4\)'): LSTMCell(3, 4)(torch.zeros(2, 3), (torch.zeros(2, 4), torch.zeros(2, 5)))
    assert LSTMCell(3, 4)(torch.zeros(3))[1].shape == nn.LSTMCell(3, 4)(torch.zeros(3))[1].shape == (4,)
