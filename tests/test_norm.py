"""learnkit.norm against torch: BatchNorm1d (train/eval, running statistics, 2-D and 3-D), LayerNorm, RMSNorm,
forward and backward, state dicts swapped both ways, the hand-derived BatchNorm backward, and bad input."""
import math, pytest, torch
from torch import nn
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from learnkit.norm import BatchNorm1d, LayerNorm, RMSNorm, batch_norm_backward

torch.manual_seed(0); torch.set_num_threads(1)  # tiny tensors: one thread is fastest on a shared CPU

def _randomise(m):
    with torch.no_grad():
        for p in m.parameters(): p.uniform_(0.5, 1.5)
    return m

def _grads(m, x, g):
    x = x.clone().requires_grad_()
    m.zero_grad(); (m(x) * g).sum().backward()
    return x.grad, {n: p.grad.clone() for n, p in m.named_parameters()}

@pytest.mark.parametrize('shape', [(16, 7), (8, 7, 5)])
@pytest.mark.parametrize('momentum', [0.1, 0.3, None])
def test_batchnorm_matches_torch_over_steps(shape, momentum):
    ours = _randomise(BatchNorm1d(7, momentum=momentum))
    ref = nn.BatchNorm1d(7, momentum=momentum)
    ref.load_state_dict(ours.state_dict())
    for step in range(4):
        x = torch.randn(shape) * (step + 1) + step
        g = torch.randn(shape)
        gx, gp = _grads(ours, x, g)
        rx, rp = _grads(ref, x, g)
        torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-4)
        for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(ours.running_mean, ref.running_mean)
        torch.testing.assert_close(ours.running_var, ref.running_var)
        assert ours.num_batches_tracked.item() == ref.num_batches_tracked.item() == step + 1
    ours.eval(); ref.eval()
    x = torch.randn(shape)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours(x[:1]), ref(x[:1]), atol=1e-5, rtol=1e-5)  # eval: a batch of one is fine

@pytest.mark.parametrize('kw', [dict(affine=False), dict(track_running_stats=False), dict(eps=1e-3)])
def test_batchnorm_options(kw):
    ours, ref = BatchNorm1d(5, **kw), nn.BatchNorm1d(5, **kw)
    assert set(ours.state_dict()) == set(ref.state_dict())
    x = torch.randn(10, 5) * 3
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    ours.eval(); ref.eval()
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)

def test_batchnorm_state_dict_swaps_both_ways():
    ours = BatchNorm1d(6)
    for _ in range(3): ours(torch.randn(12, 6) + 2)
    ref = nn.BatchNorm1d(6); ref.load_state_dict(ours.state_dict())
    back = BatchNorm1d(6); back.load_state_dict(ref.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    for m in (ours, ref, back): m.eval()
    x = torch.randn(4, 6)
    torch.testing.assert_close(back(x), ref(x)); torch.testing.assert_close(ours(x), ref(x))

def test_batchnorm_bad_input():
    bn = BatchNorm1d(4)
    with pytest.raises(ValueError, match='expected 4 features.*got 3'): bn(torch.randn(8, 3))
    with pytest.raises(ValueError, match='more than 1 value per channel'): bn(torch.randn(1, 4))
    with pytest.raises(ValueError, match='more than 1 value per channel'): bn(torch.randn(1, 4, 1))
    with pytest.raises(ValueError, match='2-D .* or 3-D .*got a 4-D'): bn(torch.randn(2, 4, 3, 3))
    bn.eval(); assert bn(torch.randn(1, 4)).shape == (1, 4)

@pytest.mark.parametrize('shape', [(32, 9), (6, 9, 4)])
def test_hand_backward_matches_autograd(shape):
    x = (torch.randn(shape, dtype=torch.float64) * 3 + 1).requires_grad_()
    w = torch.rand(9, dtype=torch.float64, requires_grad=True); b = torch.randn(9, dtype=torch.float64, requires_grad=True)
    g = torch.randn(shape, dtype=torch.float64)
    (F.batch_norm(x, None, None, w, b, training=True, eps=1e-5) * g).sum().backward()
    dx, dw, db = batch_norm_backward(g, x.detach(), w.detach(), eps=1e-5)
    torch.testing.assert_close(dx, x.grad); torch.testing.assert_close(dw, w.grad); torch.testing.assert_close(db, b.grad)
    dx1, _, _ = batch_norm_backward(g, x.detach())  # weight None means gamma = 1
    torch.testing.assert_close(dx1 * w.detach().view((1, -1) + (1,) * (len(shape) - 2)), dx)
    with pytest.raises(ValueError, match='grad_output has shape'): batch_norm_backward(g[:2], x.detach())

@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 40), c=st.integers(1, 12), scale=st.floats(0.01, 100), shift=st.floats(-50, 50))
def test_hand_backward_property(n, c, scale, shift):
    "For any batch, the hand gradient equals autograd's and is orthogonal to the ones vector and to x-hat."
    x = (torch.randn(n, c, dtype=torch.float64) * scale + shift).requires_grad_()
    g = torch.randn(n, c, dtype=torch.float64)
    (F.batch_norm(x, None, None, training=True) * g).sum().backward()
    dx, _, _ = batch_norm_backward(g, x.detach())
    torch.testing.assert_close(dx, x.grad, atol=1e-8, rtol=1e-6)
    # orthogonal to the ones vector always; to x-hat exactly when eps = 0 (with eps, x-hat is scaled by sigma^2/(sigma^2+eps))
    dx0, _, _ = batch_norm_backward(g, x.detach(), eps=0.0)
    xhat = (x.detach() - x.detach().mean(0)) / x.detach().std(0, correction=0)
    tol = 1e-9 * (1 + dx0.abs().max().item() * n)
    assert dx.sum(0).abs().max() < 1e-9 * (1 + dx.abs().max().item() * n)
    assert dx0.sum(0).abs().max() < tol and (dx0 * xhat).sum(0).abs().max() < tol

@pytest.mark.parametrize('shape,norm', [((5, 10), 10), ((3, 4, 10), 10), ((3, 4, 6, 10), (6, 10))])
def test_layernorm_matches_torch(shape, norm):
    ours = LayerNorm(norm); ref = nn.LayerNorm(norm)
    with torch.no_grad(): ours.weight.uniform_(0.5, 1.5); ours.bias.normal_()
    ref.load_state_dict(ours.state_dict())
    x, g = torch.randn(shape) * 4 + 1, torch.randn(shape)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
    torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-4)
    for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-4, rtol=1e-4)
    back = LayerNorm(norm); back.load_state_dict(ref.state_dict()); torch.testing.assert_close(back(x), ref(x), atol=1e-5, rtol=1e-5)

@pytest.mark.parametrize('kw', [dict(elementwise_affine=False), dict(bias=False), dict(eps=1e-2)])
def test_layernorm_options(kw):
    ours, ref = LayerNorm(8, **kw), nn.LayerNorm(8, **kw)
    assert set(ours.state_dict()) == set(ref.state_dict())
    x = torch.randn(3, 8)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)

@pytest.mark.parametrize('eps', [None, 1e-6])
@pytest.mark.parametrize('shape,norm', [((5, 10), 10), ((3, 4, 10), (4, 10))])
def test_rmsnorm_matches_torch(shape, norm, eps):
    ours = RMSNorm(norm, eps=eps); ref = nn.RMSNorm(norm, eps=eps)
    with torch.no_grad(): ours.weight.uniform_(0.5, 1.5)
    ref.load_state_dict(ours.state_dict())
    x, g = torch.randn(shape) * 3, torch.randn(shape)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
    torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-4); torch.testing.assert_close(gp['weight'], rp['weight'], atol=1e-4, rtol=1e-4)
    back = RMSNorm(norm, eps=eps); back.load_state_dict(ref.state_dict()); torch.testing.assert_close(back(x), ref(x), atol=1e-5, rtol=1e-5)

def test_rmsnorm_no_affine_and_dtype():
    x = torch.randn(4, 16, dtype=torch.float64)
    torch.testing.assert_close(RMSNorm(16, elementwise_affine=False)(x), nn.RMSNorm(16, elementwise_affine=False, dtype=torch.float64)(x))
    assert set(RMSNorm(16, elementwise_affine=False).state_dict()) == set()

def test_layer_and_rms_bad_input():
    with pytest.raises(ValueError, match=r'last 1 dimension\(s\) are \(10,\), got input of shape \(4, 9\)'): LayerNorm(10)(torch.randn(4, 9))
    with pytest.raises(ValueError, match=r'are \(3, 10\)'): RMSNorm((3, 10))(torch.randn(10))
    with pytest.raises(ValueError, match='RMSNorm'): RMSNorm(5)(torch.randn(2, 6))

def test_swap_into_a_model():
    "A small model built with our layers loads into the same model built with torch's, and gives the same outputs."
    def build(bn, ln, rms): return nn.Sequential(nn.Linear(6, 8), bn(8), nn.Tanh(), nn.Linear(8, 8), ln(8), rms(8), nn.Linear(8, 3))
    ours = build(BatchNorm1d, LayerNorm, RMSNorm)
    for _ in range(3): ours(torch.randn(16, 6))
    ref = build(nn.BatchNorm1d, nn.LayerNorm, nn.RMSNorm); ref.load_state_dict(ours.state_dict())
    ours.eval(); ref.eval(); x = torch.randn(5, 6)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)

# torch.compile, TorchScript, import cost and help(): torch's twins compile without graph breaks and script, so ours do too

@pytest.mark.parametrize('momentum', [0.1, None])
def test_batchnorm_compiles_without_graph_breaks(momentum):
    "`momentum=None` (a plain average of all batches) used `.item()`, a graph break; the weight 1/k is now a tensor."
    bn = BatchNorm1d(6, momentum=momentum)
    ex = torch._dynamo.explain(bn)(torch.randn(10, 6))
    assert ex.graph_break_count == 0, [str(b.reason).splitlines()[0] for b in ex.break_reasons]
    torch._dynamo.reset()
    ours, ref = torch.compile(BatchNorm1d(6, momentum=momentum), backend='eager', fullgraph=True), nn.BatchNorm1d(6, momentum=momentum)
    for step in range(3):
        x = torch.randn(10, 6) * (step + 1) + step
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours.running_mean, ref.running_mean); torch.testing.assert_close(ours.running_var, ref.running_var)
    torch._dynamo.reset()

@pytest.mark.parametrize('m', [LayerNorm(6), RMSNorm(6), RMSNorm(6, eps=1e-6)], ids=['LayerNorm', 'RMSNorm', 'RMSNorm-eps'])
def test_layer_and_rms_compile_without_graph_breaks(m):
    ex = torch._dynamo.explain(m)(torch.randn(3, 4, 6))
    assert ex.graph_break_count == 0, [str(b.reason).splitlines()[0] for b in ex.break_reasons]
    torch._dynamo.reset()

def test_batchnorm_momentum_none_float64_is_torchs():
    "The plain average's weight 1/k is computed in the buffers' dtype: float64 running statistics agree to float64 precision."
    ours, ref = BatchNorm1d(5, momentum=None, dtype=torch.float64), nn.BatchNorm1d(5, momentum=None, dtype=torch.float64)
    for step in range(7): x = torch.randn(9, 5, dtype=torch.float64) * 3 + step; ours(x); ref(x)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(ours.running_var, ref.running_var, atol=1e-12, rtol=1e-12)

SCRIPT_CASES = [(LayerNorm, nn.LayerNorm, 8, {}, (3, 5, 8)), (LayerNorm, nn.LayerNorm, (5, 8), dict(bias=False), (3, 5, 8)),
                (LayerNorm, nn.LayerNorm, 8, dict(elementwise_affine=False), (4, 8)),
                (RMSNorm, nn.RMSNorm, 8, {}, (3, 5, 8)), (RMSNorm, nn.RMSNorm, 8, dict(eps=1e-6, elementwise_affine=False), (4, 8)),
                (BatchNorm1d, nn.BatchNorm1d, 8, {}, (6, 8)), (BatchNorm1d, nn.BatchNorm1d, 8, dict(momentum=None), (6, 8, 3)),
                (BatchNorm1d, nn.BatchNorm1d, 8, dict(affine=False), (6, 8)), (BatchNorm1d, nn.BatchNorm1d, 8, dict(track_running_stats=False), (6, 8, 3))]

@pytest.mark.parametrize('ours,ref,arg,kw,shape', SCRIPT_CASES, ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_scripts_where_torch_scripts(ours, ref, arg, kw, shape):
    "`torch.jit.script` works on our layers wherever it works on torch's, and the scripted module gives torch's numbers."
    r = ref(arg, **kw); torch.jit.script(r)  # torch's twin scripts...
    o = ours(arg, **kw); o.load_state_dict(r.state_dict())
    s = torch.jit.script(o)  # ...and so does ours
    for train in (True, False):
        s.train(train); r.train(train)
        for _ in range(2):
            x = torch.randn(shape) * 2 + 1
            torch.testing.assert_close(s(x), r(x), atol=1e-5, rtol=1e-5)
    for k, v in r.state_dict().items(): torch.testing.assert_close(s.state_dict()[k], v)

def test_scripted_errors_still_name_the_shapes():
    with pytest.raises(torch.jit.Error, match=r'expected 4 features in dimension 1, got 3 \(input shape \(8, 3\)\)'):
        torch.jit.script(BatchNorm1d(4))(torch.randn(8, 3))
    with pytest.raises(torch.jit.Error, match=r'last 1 dimension\(s\) are \(10,\), got input of shape \(4, 9\)'):
        torch.jit.script(LayerNorm(10))(torch.randn(4, 9))

@pytest.mark.parametrize('kw', [{}, dict(bias=False), dict(affine=False), dict(affine=False, bias=False), dict(track_running_stats=False, bias=False)])
def test_batchnorm_bias_argument_is_torchs(kw):
    "`nn.BatchNorm1d(C, bias=False)` learns a scale but no shift; ours took no `bias` argument (TypeError)."
    ours, ref = BatchNorm1d(5, **kw), nn.BatchNorm1d(5, **kw)
    assert set(ours.state_dict()) == set(ref.state_dict()) and repr(ours) == repr(ref)
    ours.load_state_dict(ref.state_dict())
    if ours.weight is not None:
        with torch.no_grad(): ours.weight.uniform_(0.5, 1.5); ref.weight.copy_(ours.weight)
    for train in (True, False):
        ours.train(train); ref.train(train)
        x = torch.randn(10, 5, 3) * 3 + 1
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    s = torch.jit.script(BatchNorm1d(5, **kw)); s(torch.randn(6, 5))

@pytest.mark.parametrize('ours,ref,arg,kw', [(LayerNorm, nn.LayerNorm, 6, {}), (LayerNorm, nn.LayerNorm, 6, dict(bias=False)),
                                             (LayerNorm, nn.LayerNorm, (2, 6), dict(elementwise_affine=False)),
                                             (RMSNorm, nn.RMSNorm, 6, {}), (RMSNorm, nn.RMSNorm, 6, dict(eps=1e-6))])
def test_reprs_are_torchs(ours, ref, arg, kw):
    assert repr(ours(arg, **kw)) == repr(ref(arg, **kw))

@pytest.mark.parametrize('make', [lambda **k: BatchNorm1d(4, **k), lambda **k: LayerNorm(4, **k)], ids=['BatchNorm1d', 'LayerNorm'])
def test_mixed_dtypes_are_a_loud_error(make):
    "torch raises 'mixed dtype' for a float64 input to a float32 layer (and the reverse); ours silently returned float64."
    with pytest.raises(ValueError, match=r'float64.*float32'): make()(torch.randn(8, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r'float32.*float64'): make(dtype=torch.float64)(torch.randn(8, 4))
    with pytest.raises(ValueError, match=r'float64.*float32'): make().eval()(torch.randn(8, 4, dtype=torch.float64))

def test_mixed_dtypes_torch_accepts():
    "What torch accepts, we accept with torch's output dtype: no parameters or buffers, or a half/bfloat16 input to float32 parameters."
    torch.manual_seed(1)
    x64 = torch.randn(8, 4, dtype=torch.float64)
    assert BatchNorm1d(4, affine=False, track_running_stats=False)(x64).dtype == torch.float64
    assert LayerNorm(4, elementwise_affine=False)(x64).dtype == torch.float64
    for dt in (torch.bfloat16, torch.float16):
        x = torch.randn(8, 4, 3).to(dt)
        for ours, ref in ((BatchNorm1d(4), nn.BatchNorm1d(4)), (LayerNorm(3), nn.LayerNorm(3)), (RMSNorm(3), nn.RMSNorm(3))):
            o, r = ours(x), ref(x)
            assert o.dtype == r.dtype == dt, (type(ours).__name__, o.dtype, r.dtype)
            torch.testing.assert_close(o.float(), r.float(), atol=0.05, rtol=0.05)
    # RMSNorm: torch returns the input's dtype whatever the weight's (ours promoted a float32 input to float64)
    assert RMSNorm(4, dtype=torch.float64)(torch.randn(8, 4)).dtype == nn.RMSNorm(4, dtype=torch.float64)(torch.randn(8, 4)).dtype == torch.float32

def test_scripted_mixed_dtype_error_names_the_dtypes():
    with pytest.raises(torch.jit.Error, match=r'input is torch.float64 but the layer is torch.float32'):
        torch.jit.script(BatchNorm1d(4))(torch.randn(8, 4, dtype=torch.float64))

@pytest.mark.parametrize('dt', [torch.bfloat16, torch.float16])
def test_rmsnorm_low_precision_eps_is_torchs(dt):
    "torch computes a half/bfloat16 RMSNorm in float32 with float32's eps; ours added bfloat16's eps (0.0078): ~0 for small inputs."
    x = torch.tensor([[1e-4, -2e-4, 3e-4], [1., 2., -3.]]).to(dt)
    for kw in ({}, dict(dtype=dt)):
        o, r = RMSNorm(3, **kw)(x), nn.RMSNorm(3, **kw)(x)
        assert o.dtype == r.dtype == dt
        torch.testing.assert_close(o, r)

def test_batchnorm_without_running_stats_refuses_a_batch_of_one_in_eval():
    "With track_running_stats=False, eval mode still uses the batch's statistics: torch refuses a batch of one; ours returned the bias."
    with pytest.raises(ValueError): nn.BatchNorm1d(4, track_running_stats=False).eval()(torch.randn(1, 4))
    with pytest.raises(ValueError, match=r'more than 1 value per channel.*track_running_stats=False'):
        BatchNorm1d(4, track_running_stats=False).eval()(torch.randn(1, 4))
    with pytest.raises(torch.jit.Error, match=r'track_running_stats=False'):
        torch.jit.script(BatchNorm1d(4, track_running_stats=False).eval())(torch.randn(1, 4, 1))
    BatchNorm1d(4).eval()(torch.randn(1, 4)); BatchNorm1d(4, track_running_stats=False).eval()(torch.randn(1, 4, 2))  # fine, as torch

# The fast path: BatchNorm1d, BatchNorm2d and LayerNorm run their backward through an autograd.Function that uses the
# lesson's hand-derived formulas; proved with gradcheck in float64 and against torch's layers in train and eval.

from learnkit.norm import BatchNorm2d, _BatchNormFn, _LayerNormFn

@pytest.mark.parametrize('shape', [(6, 4), (5, 4, 3), (2, 4, 1)])
@pytest.mark.parametrize('affine', ['both', 'weight', 'none'])
def test_batchnorm_function_gradcheck(shape, affine):
    x = (torch.randn(shape, dtype=torch.float64) * 3 + 1).requires_grad_()
    w = (torch.rand(4, dtype=torch.float64) + 0.5).requires_grad_() if affine != 'none' else None
    b = torch.randn(4, dtype=torch.float64, requires_grad=True) if affine == 'both' else None
    assert torch.autograd.gradcheck(lambda *a: _BatchNormFn.apply(a[0], w if w is None else a[1], b if b is None else a[-1], 1e-5)[0],
                                    tuple(t for t in (x, w, b) if t is not None))

@pytest.mark.parametrize('shape,norm', [((5, 6), (6,)), ((3, 4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((7,), (7,))])
@pytest.mark.parametrize('affine', ['both', 'weight', 'none'])
def test_layernorm_function_gradcheck(shape, norm, affine):
    D = math.prod(norm)
    x = (torch.randn(shape, dtype=torch.float64) * 2 - 1).requires_grad_()
    w = (torch.rand(norm, dtype=torch.float64) + 0.5).requires_grad_() if affine != 'none' else None
    b = torch.randn(norm, dtype=torch.float64, requires_grad=True) if affine == 'both' else None
    args = tuple(t for t in (x, w, b) if t is not None)
    assert torch.autograd.gradcheck(lambda *a: _LayerNormFn.apply(a[0], a[1] if w is not None else None, a[-1] if b is not None else None, D, 1e-5), args)

def test_second_derivative_is_a_loud_error():
    "The backward is computed outside autograd: a second derivative raises instead of coming out silently wrong."
    for m, x in ((BatchNorm1d(3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)),
                 (LayerNorm(3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64))):
        x.requires_grad_()
        gx, = torch.autograd.grad(m(x).pow(3).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match='once_differentiable|double backward|second'):
            gx.sum().backward()

@pytest.mark.parametrize('kw', [dict(), dict(momentum=None), dict(affine=False), dict(track_running_stats=False),
                                dict(momentum=0.3, eps=1e-3), dict(bias=False)])
@pytest.mark.parametrize('shape', [(12, 5), (6, 5, 4)])
def test_batchnorm1d_float64_train_and_eval_is_torchs(kw, shape):
    "Train steps (outputs, every gradient, running statistics) then eval, in float64: torch's numbers to 1e-10."
    ours, ref = BatchNorm1d(5, dtype=torch.float64, **kw), nn.BatchNorm1d(5, dtype=torch.float64, **kw)
    if ours.weight is not None:
        with torch.no_grad(): ours.weight.uniform_(0.5, 1.5)
    if ours.bias is not None:
        with torch.no_grad(): ours.bias.normal_()
    ref.load_state_dict(ours.state_dict())
    for step in range(4):
        x, g = torch.randn(shape, dtype=torch.float64) * (step + 1) + 3 * step, torch.randn(shape, dtype=torch.float64)
        gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
        torch.testing.assert_close(gx, rx, atol=1e-10, rtol=1e-9)
        for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-10, rtol=1e-9)
        for n, v in ref.named_buffers(): torch.testing.assert_close(dict(ours.named_buffers())[n], v, atol=1e-12, rtol=1e-12)
    ours.eval(); ref.eval()
    x, g = torch.randn(shape, dtype=torch.float64) + 2, torch.randn(shape, dtype=torch.float64)
    gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
    torch.testing.assert_close(gx, rx, atol=1e-10, rtol=1e-9)
    for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-10, rtol=1e-9)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-10, rtol=1e-9)

@pytest.mark.parametrize('kw', [dict(), dict(momentum=None), dict(affine=False), dict(track_running_stats=False), dict(bias=False)])
def test_batchnorm2d_matches_torch_over_steps(kw):
    ours, ref = BatchNorm2d(6, **kw), nn.BatchNorm2d(6, **kw)
    assert set(ours.state_dict()) == set(ref.state_dict()) and repr(ours) == repr(ref)
    if ours.weight is not None:
        with torch.no_grad(): ours.weight.uniform_(0.5, 1.5)
    ref.load_state_dict(ours.state_dict())
    for step in range(4):
        x, g = torch.randn(8, 6, 5, 7) * (step + 1) + step, torch.randn(8, 6, 5, 7)
        gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
        torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-4)
        for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-4, rtol=1e-4)
        for n, v in ref.named_buffers(): torch.testing.assert_close(dict(ours.named_buffers())[n], v)
    ours.eval(); ref.eval()
    x, g = torch.randn(3, 6, 4, 4) * 2, torch.randn(3, 6, 4, 4)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
    torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-4)
    for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-4, rtol=1e-4)
    if ours.running_mean is not None: torch.testing.assert_close(ours(x[:1]), ref(x[:1]), atol=1e-5, rtol=1e-5)

def test_batchnorm2d_float64_gradcheck_and_state_dict():
    bn = BatchNorm2d(3, dtype=torch.float64)
    x = torch.randn(4, 3, 2, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: (bn.weight.data.copy_(w.detach()), F.batch_norm(x, None, None, w, b, True))[1], (x, bn.weight, bn.bias))
    assert torch.autograd.gradcheck(lambda x: bn(x), (x,))
    ref = nn.BatchNorm2d(3, dtype=torch.float64); ref.load_state_dict(bn.state_dict())
    back = BatchNorm2d(3, dtype=torch.float64); back.load_state_dict(ref.state_dict())

def test_batchnorm2d_bad_input_and_script():
    bn = BatchNorm2d(4)
    with pytest.raises(ValueError, match=r'BatchNorm2d: expected a 4-D \(N, C, H, W\) input, got a 3-D'): bn(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match=r'BatchNorm2d: expected 4 features in dimension 1, got 3 \(input shape \(2, 3, 5, 5\)\)'): bn(torch.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match='more than 1 value per channel'): bn(torch.randn(1, 4, 1, 1))
    bn(torch.randn(1, 4, 2, 1))  # one image, two positions: fine, as torch
    with pytest.raises(ValueError, match='float64.*float32'): bn(torch.randn(2, 4, 3, 3, dtype=torch.float64))
    s, r = torch.jit.script(BatchNorm2d(4)), nn.BatchNorm2d(4)
    for train in (True, False):
        s.train(train); r.train(train)
        x = torch.randn(3, 4, 5, 5) * 2 + 1
        torch.testing.assert_close(s(x), r(x), atol=1e-5, rtol=1e-5)
    ex = torch._dynamo.explain(BatchNorm2d(4))(torch.randn(3, 4, 5, 5))
    assert ex.graph_break_count == 0
    torch._dynamo.reset()

@pytest.mark.parametrize('shape,norm,kw', [((4, 7, 10), 10, {}), ((2, 3, 4, 6), (4, 6), {}), ((2, 3, 4, 6), (3, 4, 6), dict(bias=False)),
                                          ((5, 8), 8, dict(elementwise_affine=False)), ((8,), 8, {}), ((3, 5, 6), 6, dict(eps=1e-2))])
def test_layernorm_float64_any_leading_dims_is_torchs(shape, norm, kw):
    ours, ref = LayerNorm(norm, dtype=torch.float64, **kw), nn.LayerNorm(norm, dtype=torch.float64, **kw)
    with torch.no_grad():
        for p in ours.parameters(): p.uniform_(-1.5, 1.5)
    ref.load_state_dict(ours.state_dict())
    x, g = torch.randn(shape, dtype=torch.float64) * 3 + 2, torch.randn(shape, dtype=torch.float64)
    gx, gp = _grads(ours, x, g); rx, rp = _grads(ref, x, g)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(gx, rx, atol=1e-10, rtol=1e-9)
    for n in gp: torch.testing.assert_close(gp[n], rp[n], atol=1e-10, rtol=1e-9)

def test_layernorm_non_contiguous_input_and_batch_of_one():
    ln, ref = LayerNorm(6), nn.LayerNorm(6)
    x = torch.randn(6, 5, 3).transpose(0, 2)  # (3, 5, 6), not contiguous
    g = torch.randn(3, 5, 6)
    gx, _ = _grads(ln, x, g); rx, _ = _grads(ref, x, g)
    torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ln(x[:1, :1]), ref(x[:1, :1]), atol=1e-5, rtol=1e-5)

def test_batchnorm_large_mean_is_accurate():
    "Statistics are summed around the mean (two passes): with a large common offset ours stays as close to float64 as torch's."
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        x = torch.randn(64, 8, generator=gen) * 0.01 + 1000
        for ours, ref, xx in ((BatchNorm1d(8), nn.BatchNorm1d(8), x), (LayerNorm(64), nn.LayerNorm(64), x.T)):
            truth = type(ref)(ref.weight.shape[0], dtype=torch.float64)(xx.double())
            assert (ours(xx) - truth).abs().max() <= 2 * (ref(xx) - truth).abs().max() + 1e-4

def test_grad_hists_ticks_carry_their_power_of_ten():
    "plot_grad_hists labels each tick with its own exponent (`-2e-4`): no offset text under the axis to collide with a long x-label."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from learnkit.norm import ActivationStats, plot_grad_hists
    m = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    with ActivationStats(m) as st: (1e-4 * m(torch.randn(16, 5)).sum()).backward()
    fig, ax = plt.subplots()
    plot_grad_hists(st, ax).set_xlabel('a long label, as the lesson writes one')
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert ax.xaxis.get_offset_text().get_text() == '', ax.xaxis.get_offset_text().get_text()
    assert any('e-' in l for l in labels) and '0' in labels, labels
    plt.close(fig)
