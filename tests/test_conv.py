"Tests of learnkit.conv against torch: forward and backward, module state dicts, and errors on bad input."
import random
import pytest, torch, torch.nn.functional as F
from torch import nn
from learnkit.conv import conv2d, conv2d_naive, conv_out_size, max_pool2d, Conv2d, MaxPool2d


def _leaf(*shape, gen):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_()


def _grads(f, *ts):
    "Output of f(*ts) and the gradients of a random-weighted sum of it with respect to every tensor in ts."
    for t in ts:
        if t is not None: t.grad = None
    out = f(*ts)
    g = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)  # fixed, non-uniform upstream gradient
    (out * g).sum().backward()
    return out.detach(), [None if t is None else t.grad.clone() for t in ts]


def _random_conv_case(rng: random.Random, gen, dilation=True):
    B, C, O = rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 5)
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    s = rng.choice([1, 2, 3, (1, 2), (2, 1)])
    p = rng.choice([0, 1, 2, (0, 1), (2, 0)])
    d = rng.choice([1, 2, (1, 2), (2, 1)]) if dilation else 1
    dd, pp = (d, d) if isinstance(d, int) else d, (p, p) if isinstance(p, int) else p
    H = max(rng.randint(4, 11), dd[0]*(kh - 1) + 1 - 2*pp[0])  # the kernel must fit the padded input
    W = max(rng.randint(4, 11), dd[1]*(kw - 1) + 1 - 2*pp[1])
    x, w = _leaf(B, C, H, W, gen=gen), _leaf(O, C, kh, kw, gen=gen)
    b = _leaf(O, gen=gen) if rng.random() < 0.7 else None
    return x, w, b, s, p, d


@pytest.mark.parametrize('case', range(40))
def test_conv2d_matches_torch(case):
    rng, gen = random.Random(case), torch.Generator().manual_seed(case)
    x, w, b, s, p, d = _random_conv_case(rng, gen)
    ours, g_ours = _grads(lambda x, w, b: conv2d(x, w, b, s, p, d), x, w, b)
    ref, g_ref = _grads(lambda x, w, b: F.conv2d(x, w, b, s, p, d), x, w, b)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref)
    for a, e in zip(g_ours, g_ref):
        if e is not None: torch.testing.assert_close(a, e)


@pytest.mark.parametrize('case', range(12))
def test_conv2d_naive_matches_torch(case):
    rng, gen = random.Random(100 + case), torch.Generator().manual_seed(100 + case)
    x, w, b, s, p, _ = _random_conv_case(rng, gen, dilation=False)
    x, w = x[:2, :, :7, :7].detach().requires_grad_(), w  # keep the loops small
    ours, g_ours = _grads(lambda x, w, b: conv2d_naive(x, w, b, s, p), x, w, b)
    ref, g_ref = _grads(lambda x, w, b: F.conv2d(x, w, b, s, p), x, w, b)
    torch.testing.assert_close(ours, ref)
    for a, e in zip(g_ours, g_ref):
        if e is not None: torch.testing.assert_close(a, e)


def test_conv2d_float32_and_positional_args():
    gen = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(4, 3, 9, 9, generator=gen), torch.randn(6, 3, 3, 3, generator=gen), torch.randn(6, generator=gen)
    torch.testing.assert_close(conv2d(x, w, b, 2, 1, 1), F.conv2d(x, w, b, 2, 1, 1), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(conv2d(x, w), F.conv2d(x, w), atol=1e-5, rtol=1e-4)


def test_conv_out_size_matches_torch():
    for H, k, s, p, d in [(8, 3, 1, 0, 1), (28, 5, 2, 2, 1), (10, 3, 3, 1, 2), (7, 1, 1, 0, 1)]:
        assert conv_out_size(H, k, s, p, d) == F.conv2d(torch.zeros(1, 1, H, H), torch.zeros(1, 1, k, k), None, s, p, d).shape[-1]


@pytest.mark.parametrize('case', range(25))
def test_max_pool2d_matches_torch(case):
    rng, gen = random.Random(200 + case), torch.Generator().manual_seed(200 + case)
    k = rng.choice([1, 2, 3, (2, 3), (3, 2)])
    s = rng.choice([None, 1, 2, (1, 2)])
    d = rng.choice([1, 2, (1, 2)])
    kk, dd = (k, k) if isinstance(k, int) else k, (d, d) if isinstance(d, int) else d
    p = tuple(rng.randint(0, kk[i] // 2) for i in range(2))  # torch allows padding up to half the kernel size
    x = _leaf(rng.randint(1, 3), rng.randint(1, 4), rng.randint(6, 11), rng.randint(6, 11), gen=gen)
    ours, (gx,) = _grads(lambda x: max_pool2d(x, k, s, p, d), x)
    ref, (gr,) = _grads(lambda x: F.max_pool2d(x, k, s, p, d), x)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(gx, gr)


def test_max_pool2d_negative_values_with_padding():
    "Padding must never win the max: all-negative inputs."
    x = -torch.rand(2, 3, 5, 5) - 1
    torch.testing.assert_close(max_pool2d(x, 3, 2, 1), F.max_pool2d(x, 3, 2, 1))


def test_conv2d_module_state_dict_swap():
    torch.manual_seed(0)
    ours, theirs = Conv2d(3, 8, (3, 2), stride=2, padding=1, dilation=(1, 2)), nn.Conv2d(3, 8, (3, 2), stride=2, padding=1, dilation=(1, 2))
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 10, 11)
    torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-4)
    ours.load_state_dict(nn.Conv2d(3, 8, (3, 2), stride=2, padding=1, dilation=(1, 2)).state_dict())  # and back
    no_bias = Conv2d(3, 4, 3, bias=False)
    assert no_bias.bias is None and set(no_bias.state_dict()) == set(nn.Conv2d(3, 4, 3, bias=False).state_dict())


def test_conv2d_module_init_scale_like_torch():
    torch.manual_seed(0)
    w = Conv2d(16, 32, 3).weight
    bound = 1 / (16 * 9) ** 0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound


def test_modules_in_a_model_train():
    torch.manual_seed(0)
    m = nn.Sequential(Conv2d(1, 4, 3, padding=1), nn.ReLU(), MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2))
    x, y = torch.randn(8, 1, 4, 4), torch.randint(0, 2, (8,))
    F.cross_entropy(m(x), y).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


@pytest.mark.parametrize('fn', [conv2d, conv2d_naive])
def test_conv_errors(fn):
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r'input has 1 channels.*expects 3'):
        fn(torch.randn(2, 1, 8, 8), w)
    with pytest.raises(ValueError, match=r'kernel spans 11x11.*padded input is only 10x10'):
        fn(x, torch.randn(4, 3, 11, 11), None, 1, 1)
    with pytest.raises(ValueError, match=r'4-D input.*3-D input of shape \(3, 8, 8\)'):
        fn(x[0], w)
    with pytest.raises(ValueError, match=r'4-D weight'):
        fn(x, w[0])
    with pytest.raises(ValueError, match=r'bias should have shape \(4,\)'):
        fn(x, w, torch.zeros(3))
    with pytest.raises(ValueError, match='stride'):
        fn(x, w, None, 0)
    with pytest.raises(TypeError, match='padding'):
        fn(x, w, None, 1, (1, 1, 1))


def test_max_pool2d_errors():
    with pytest.raises(ValueError, match=r'4-D input.*shape \(8, 8\)'):
        max_pool2d(torch.randn(8, 8), 2)
    with pytest.raises(ValueError, match=r'kernel spans 5x5.*padded input is only 4x4'):
        max_pool2d(torch.randn(1, 1, 4, 4), 5)
    with pytest.raises(ValueError, match='padding'):
        max_pool2d(torch.randn(1, 1, 8, 8), 2, padding=2)


# ---- issue 13: torch's numbers or a loud error ----
import inspect, pydoc, warnings
from hypothesis import given, settings, strategies as st, HealthCheck


def test_conv_long_input_named():
    "A long (integer) tensor gets an error naming the dtype, not 'im2col_out_cpu not implemented for Long'."
    xl = torch.ones(1, 1, 5, 5, dtype=torch.long)
    with pytest.raises(TypeError, match=r'Conv2d.*torch\.int64.*float'):
        Conv2d(1, 1, 3)(xl)
    with pytest.raises(TypeError, match=r'conv2d.*torch\.int64.*float'):
        conv2d(xl, torch.ones(1, 1, 3, 3))
    with pytest.raises(TypeError, match=r'max_pool2d.*torch\.int64.*float'):
        max_pool2d(xl, 2)


def test_conv_mixed_dtypes_named():
    "float64 input with float32 weights: an error that names both dtypes and says how to fix it."
    with pytest.raises(TypeError, match=r'input is torch\.float64 but the weight is torch\.float32'):
        Conv2d(1, 1, 3)(torch.ones(1, 1, 5, 5, dtype=torch.float64))
    with pytest.raises(TypeError, match=r'input is torch\.float32 but the bias is torch\.float64'):
        conv2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3), torch.ones(1, dtype=torch.float64))
    with pytest.raises(TypeError, match=r'input is torch\.float32 but the weight is torch\.float64'):
        conv2d_naive(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3, dtype=torch.float64))


@pytest.mark.parametrize('k', [0, (3, 0), -1])
def test_conv_kernel_size_zero_named(k):
    with pytest.raises(ValueError, match='kernel_size'):
        Conv2d(1, 1, k)


def test_conv_module_argument_errors_like_torch():
    "The errors torch's own module raises at construction, with torch's conditions."
    for kw, pat in [(dict(groups=3), 'divisible by groups'), (dict(groups=0), 'groups'),
                    (dict(padding='same', stride=2), 'strided'), (dict(padding='bad'), 'same.*valid|valid.*same'),  # torch prints a set: its order varies with the hash seed
                    (dict(padding_mode='bad'), 'padding_mode')]:
        with pytest.raises(ValueError, match=pat): nn.Conv2d(4, 4, 3, **kw)
        with pytest.raises(ValueError, match=pat): Conv2d(4, 4, 3, **kw)


def test_conv_signature_is_torchs():
    "Torch's argument names in torch's order (functional and module)."
    # F.conv2d is a builtin without a signature; its documented one is conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)
    assert list(inspect.signature(conv2d).parameters) == ['input', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups']
    assert list(inspect.signature(Conv2d.__init__).parameters) == list(inspect.signature(nn.Conv2d.__init__).parameters)
    assert list(inspect.signature(MaxPool2d.__init__).parameters) == list(inspect.signature(nn.MaxPool2d.__init__).parameters)
    ours = list(inspect.signature(max_pool2d).parameters)
    assert ours == ['input', 'kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices']


_conv_case = st.fixed_dictionaries(dict(
    B=st.integers(1, 2), g=st.integers(1, 3), cin=st.integers(1, 2), cout=st.integers(1, 2),
    kh=st.integers(1, 4), kw=st.integers(1, 4), H=st.integers(1, 9), W=st.integers(1, 9),
    stride=st.sampled_from([1, 2, (1, 2), (3, 1)]), dilation=st.sampled_from([1, 2, (2, 1)]),
    padding=st.sampled_from([0, 1, (2, 0), 'same', 'valid']),
    padding_mode=st.sampled_from(['zeros', 'reflect', 'replicate', 'circular']), bias=st.booleans()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_conv_case, st.integers(0, 2**31 - 1))
def test_conv_module_matches_torch_property(c, seed):
    "Conv2d with groups, string padding and every padding_mode against nn.Conv2d: same parameters, output and gradients; or both raise."
    kw = dict(stride=c['stride'], padding=c['padding'], dilation=c['dilation'], groups=c['g'], bias=c['bias'],
              padding_mode=c['padding_mode'], dtype=torch.float64)
    args = (c['g'] * c['cin'], c['g'] * c['cout'], (c['kh'], c['kw']))
    try: theirs = nn.Conv2d(*args, **kw)
    except ValueError:
        with pytest.raises(ValueError): Conv2d(*args, **kw)
        return
    ours = Conv2d(*args, **kw)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(c['B'], args[0], c['H'], c['W'], dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    try: ref = theirs(x)
    except RuntimeError:  # torch cannot (kernel larger than the padded input, reflect padding too wide, ...)
        with pytest.raises((ValueError, RuntimeError)): ours(x)
        return
    out = ours(x)
    torch.testing.assert_close(out, ref)
    g = torch.randn_like(ref)
    ga = torch.autograd.grad((out * g).sum(), list(ours.parameters()))
    gb = torch.autograd.grad((ref * g).sum(), list(theirs.parameters()))
    for a, b in zip(ga, gb): torch.testing.assert_close(a, b)


def test_conv2d_functional_groups_and_same():
    gen = torch.Generator().manual_seed(0)
    x, w, b = (torch.randn(2, 6, 9, 8, generator=gen, dtype=torch.float64), torch.randn(4, 3, 2, 3, generator=gen, dtype=torch.float64),
               torch.randn(4, generator=gen, dtype=torch.float64))
    for kw in [dict(groups=2), dict(groups=2, padding='same'), dict(groups=2, padding='same', dilation=2), dict(groups=2, padding='valid', stride=2)]:
        torch.testing.assert_close(conv2d(x, w, b, **kw), F.conv2d(x, w, b, **kw))
    with pytest.raises(ValueError, match='strided'):
        conv2d(x, w, b, stride=2, padding='same', groups=2)
    with pytest.raises(ValueError, match=r'6 channels.*groups=4'):
        conv2d(x, w, b, groups=4)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 10), st.integers(1, 10), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 1), st.integers(1, 2), st.booleans(), st.integers(0, 2**31 - 1))
def test_max_pool2d_ceil_mode_property(kh, kw, H, W, sh, sw, p, d, ceil, seed):
    "max_pool2d and MaxPool2d with ceil_mode against torch: output and gradient, or both raise."
    x = torch.randn(2, 3, H, W, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).requires_grad_()
    args = ((kh, kw), (sh, sw), p, d)
    try: ref = F.max_pool2d(x, *args, ceil_mode=ceil)
    except RuntimeError:
        with pytest.raises((ValueError, RuntimeError)): max_pool2d(x, *args, ceil_mode=ceil)
        return
    out = max_pool2d(x, *args, ceil_mode=ceil)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(MaxPool2d(*args, ceil_mode=ceil)(x), nn.MaxPool2d(*args, ceil_mode=ceil)(x))
    if torch.isinf(ref).any():  # a window wholly in the padding: both give -inf, and torch's backward then writes out of
        return                  # bounds (heap corruption, an abort in torch 2.13), so it cannot referee the gradient
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad((out * g).sum(), x)[0], torch.autograd.grad((ref * g).sum(), x)[0])


def test_max_pool2d_return_indices_rejected_loudly():
    x = torch.randn(1, 1, 4, 4)
    with pytest.raises(NotImplementedError, match='return_indices'):
        max_pool2d(x, 2, return_indices=True)
    with pytest.raises(NotImplementedError, match='return_indices'):
        MaxPool2d(2, return_indices=True)


def test_conv_modules_script_like_torch():
    "torch.jit.script compiles our modules where it compiles torch's, and the scripted module gives the same numbers."
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for kw in [dict(), dict(stride=2, padding=1, groups=2), dict(padding='same', padding_mode='reflect', dilation=2)]:
            ours = Conv2d(4, 6, 3, **kw)
            s = torch.jit.script(ours)
            x = torch.randn(2, 4, 9, 9)
            torch.testing.assert_close(s(x), ours(x))
            torch.jit.script(nn.Conv2d(4, 6, 3, **kw))
        pool = MaxPool2d(3, 2, 1, ceil_mode=True)
        torch.testing.assert_close(torch.jit.script(pool)(x), pool(x))


def test_conv_modules_export_like_torch():
    "torch.export (TorchScript's successor) traces our modules, and the exported program gives the same numbers."
    torch.manual_seed(0)
    m = nn.Sequential(Conv2d(2, 4, 3, padding='same', groups=2, padding_mode='reflect'), nn.ReLU(), MaxPool2d(2, ceil_mode=True))
    x = torch.randn(2, 2, 9, 9)
    ep = torch.export.export(m, (x,))
    torch.testing.assert_close(ep.module()(x), m(x))




# The backward pass derived in the lesson (issue 16): input gradient = full convolution of the output gradient with the
# flipped kernels (zeros inserted for a stride), weight gradient = one matmul of the saved columns, in an autograd.Function.
_BACKWARD_CASES = [dict(), dict(padding=1), dict(stride=2), dict(stride=(2, 3), padding=(1, 2)), dict(stride=3, padding=2),
                   dict(padding='same'), dict(padding='same', dilation=2), dict(padding='valid', dilation=(2, 1)),
                   dict(groups=2, padding=1), dict(groups=4, stride=2), dict(dilation=2, stride=2, padding=3),
                   dict(padding=3)]  # padding wider than the kernel: the 'full' padding of the backward is negative (a crop)


@pytest.mark.parametrize('case', range(len(_BACKWARD_CASES)))
def test_conv2d_backward_gradcheck(case):
    "torch.autograd.gradcheck (float64 finite differences) on the hand-written backward, for input, weight and (every other case) bias."
    kw, bias = _BACKWARD_CASES[case], case % 2 == 0
    gen = torch.Generator().manual_seed(case)
    x, w = _leaf(1, 4, 6, 7, gen=gen), _leaf(4, 4 // kw.get('groups', 1), 3, 2, gen=gen)
    b = _leaf(4, gen=gen) if bias else None
    assert torch.autograd.gradcheck(lambda x, w, *b: conv2d(x, w, *(b or [None]), **kw), (x, w) + ((b,) if bias else ()))


@pytest.mark.parametrize('kw', _BACKWARD_CASES)
@pytest.mark.parametrize('bias', [True, False])
def test_conv2d_backward_matches_torch(kw, bias):
    "Forward and both gradients against F.conv2d (float64), with the backward pass our autograd.Function's own."
    gen = torch.Generator().manual_seed(7)
    x, w = _leaf(3, 4, 11, 9, gen=gen), _leaf(6 if kw.get('groups', 1) != 4 else 8, 4 // kw.get('groups', 1), 3, 3, gen=gen)
    b = _leaf(w.shape[0], gen=gen) if bias else None
    out = conv2d(x, w, b, **kw)
    assert type(out.grad_fn).__name__ == '_Conv2dFnBackward'  # not autograd's fold
    ours, g_ours = _grads(lambda x, w, b: conv2d(x, w, b, **kw), x, w, b)
    ref, g_ref = _grads(lambda x, w, b: F.conv2d(x, w, b, **kw), x, w, b)
    torch.testing.assert_close(ours, ref)
    for a, e in zip(g_ours, g_ref):
        if e is not None: torch.testing.assert_close(a, e)


def test_conv2d_backward_only_what_is_needed_and_float32():
    "Gradients for the input alone or the weight alone, float32 within float32 rounding of torch's."
    gen = torch.Generator().manual_seed(1)
    x, w = torch.randn(8, 16, 28, 28, generator=gen), torch.randn(32, 16, 3, 3, generator=gen) / 12
    g = torch.randn(8, 32, 14, 14, generator=gen)
    xg = x.clone().requires_grad_()
    gx = torch.autograd.grad(conv2d(xg, w, stride=2, padding=1), xg, g)[0]
    torch.testing.assert_close(gx, torch.nn.grad.conv2d_input(x.shape, w, g, stride=2, padding=1), atol=1e-4, rtol=1e-4)
    wg = w.clone().requires_grad_()
    gw = torch.autograd.grad(conv2d(x, wg, stride=2, padding=1), wg, g)[0]
    torch.testing.assert_close(gw, torch.nn.grad.conv2d_weight(x, w.shape, g, stride=2, padding=1), atol=1e-3, rtol=1e-4)


def test_conv2d_complex_gradients_like_torch():
    "Complex inputs: the backward conjugates the kernels and the columns, as torch's does."
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 6, 7, dtype=torch.complex128, generator=gen).requires_grad_()
    w = torch.randn(4, 3, 3, 2, dtype=torch.complex128, generator=gen).requires_grad_()
    ga = torch.autograd.grad(conv2d(x, w, stride=2, padding=1).abs().sum(), (x, w))
    gb = torch.autograd.grad(F.conv2d(x, w, stride=2, padding=1).abs().sum(), (x, w))
    for a, b in zip(ga, gb): torch.testing.assert_close(a, b)


def test_conv2d_double_backward_is_a_loud_error():
    "The hand-written backward is not itself differentiable: a second derivative raises instead of silently being wrong."
    x, w = torch.randn(1, 1, 5, 5, dtype=torch.float64, requires_grad=True), torch.randn(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    gx, = torch.autograd.grad(conv2d(x, w).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(gx.sum(), w)


def test_conv2d_module_uses_the_derived_backward():
    "Conv2d trains through the same autograd.Function, with nn.Conv2d's gradients."
    torch.manual_seed(3)
    ours, theirs = Conv2d(3, 6, 3, stride=2, padding=1, groups=3, dtype=torch.float64), nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    out = ours(x)
    assert type(out.grad_fn).__name__ == '_Conv2dFnBackward'
    for a, b in zip(torch.autograd.grad(out.square().sum(), list(ours.parameters())),
                    torch.autograd.grad(theirs(x).square().sum(), list(theirs.parameters()))):
        torch.testing.assert_close(a, b)
