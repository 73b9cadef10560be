"""learnkit.fitting held to "torch's numbers or a loud error": `numerical_grad` against torch.autograd (float64,
tensors, numpy arrays, a batch), and clear errors for input it cannot differentiate."""
import math, pydoc
import numpy as np, pytest, torch
from hypothesis import given, settings, strategies as st
import learnkit.fitting as fitting
from learnkit.fitting import numerical_grad

def autograd(f, x):
    "torch's gradient of scalar `f` at float64 `x` (a tensor)."
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(f(x), x)[0]

FUNS = {  # name -> a scalar function of a float64 tensor
    'cubic': lambda x: (x**3 - 2*x).sum(),
    'sin times x': lambda x: (torch.sin(x) * x).sum(),
    'logsumexp': lambda x: torch.logsumexp(x.reshape(-1), 0),
    'rational': lambda x: (1 / (1 + x**2)).sum(),
    'mse of a line': lambda x: ((x * torch.linspace(0, 1, x.shape[-1], dtype=x.dtype) - 0.3)**2).mean(),
}

@pytest.mark.parametrize('name', FUNS)
@pytest.mark.parametrize('shape', [(), (1,), (5,), (2, 3)], ids=str)
def test_tensor_float64_matches_autograd(name, shape):
    torch.manual_seed(0)
    x = torch.randn(shape, dtype=torch.float64) if shape else torch.tensor(0.7, dtype=torch.float64)
    if name == 'mse of a line' and not shape: x = x.reshape(1)
    g = numerical_grad(FUNS[name], x)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float64 and g.shape == x.shape
    torch.testing.assert_close(g, autograd(FUNS[name], x), rtol=1e-6, atol=1e-8)

def test_batch_matches_autograd():
    "A batch of 8 rows of 5 logits: the mean cross-entropy's gradient, entry by entry, is torch's."
    torch.manual_seed(1)
    X, y = torch.randn(8, 5, dtype=torch.float64), torch.randint(0, 5, (8,))
    f = lambda X: torch.nn.functional.cross_entropy(X, y)
    torch.testing.assert_close(numerical_grad(f, X), autograd(f, X), rtol=1e-6, atol=1e-9)

def test_numpy_and_float_inputs_match_autograd():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    g = numerical_grad(lambda v: (np.sin(v) * v).sum(), x)
    assert isinstance(g, np.ndarray) and g.shape == x.shape
    np.testing.assert_allclose(g, autograd(lambda t: (torch.sin(t) * t).sum(), torch.tensor(x)).numpy(), rtol=1e-7)
    s = numerical_grad(lambda v: math.exp(-v) * v**2, 1.3)
    assert isinstance(s, float)
    assert math.isclose(s, autograd(lambda t: torch.exp(-t) * t**2, torch.tensor(1.3, dtype=torch.float64)).item(), rel_tol=1e-7)

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=1, max_size=6), st.floats(-2, 2))
def test_property_polynomial(xs, a):
    "Any point, any coefficient: a cubic's central-difference gradient matches autograd."
    f = lambda t: (a * t**3 + t**2 - t).sum()
    x = torch.tensor(xs, dtype=torch.float64)
    torch.testing.assert_close(numerical_grad(f, x), autograd(f, x), rtol=1e-5, atol=1e-6)

def test_x_not_modified_and_no_graph():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    before = x.detach().clone()
    g = numerical_grad(lambda t: (t**2).sum(), x)
    assert torch.equal(x.detach(), before) and not g.requires_grad and x.grad is None
    a = np.array([1.0, 2.0]); numerical_grad(lambda v: (v**2).sum(), a); assert a.tolist() == [1.0, 2.0]

def test_float32_tensor_keeps_dtype_or_refuses_a_vanishing_step():
    x = torch.tensor([1.0, -2.0])  # float32
    g = numerical_grad(lambda t: (t**2).sum(), x, eps=1e-2)
    assert g.dtype == torch.float32
    torch.testing.assert_close(g, torch.tensor([2.0, -4.0]), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match='float32'): numerical_grad(lambda t: (t**2).sum(), torch.tensor([1000.0]), eps=1e-6)

# Loud errors

def test_not_callable():
    with pytest.raises(TypeError, match='callable'): numerical_grad(3.0, 1.0)
    with pytest.raises(TypeError, match='callable'): numerical_grad(np.array([1.0]), lambda x: x)

@pytest.mark.parametrize('dtype', [torch.int64, torch.int32, torch.bool, torch.complex64])
def test_non_float_tensor(dtype):
    with pytest.raises(TypeError, match='floating'): numerical_grad(lambda t: t.sum(), torch.ones(3, dtype=dtype))

def test_non_float_array_and_bad_types():
    with pytest.raises(TypeError, match='floating'): numerical_grad(lambda v: v.sum(), np.array([1, 2]))
    with pytest.raises(TypeError, match='floating'): numerical_grad(lambda v: v, True)
    with pytest.raises(TypeError, match='x'): numerical_grad(lambda v: v, 'a')

@pytest.mark.parametrize('eps', [0, 0.0, -1e-6, float('nan'), float('inf')])
def test_bad_eps(eps):
    with pytest.raises(ValueError, match='eps'): numerical_grad(lambda v: v**2, 1.0, eps=eps)

def test_non_scalar_output():
    with pytest.raises(ValueError, match='single number'): numerical_grad(lambda t: t**2, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match='single number'): numerical_grad(lambda v: v**2, np.ones(3))
    numerical_grad(lambda t: (t**2).sum().reshape(1), torch.ones(3, dtype=torch.float64))  # one element: fine, as in torch

def test_empty_x():
    with pytest.raises(ValueError, match='at least one'): numerical_grad(lambda v: 0.0, np.zeros(0))
    with pytest.raises(ValueError, match='at least one'): numerical_grad(lambda v: v.sum(), torch.zeros(0, dtype=torch.float64))

def test_non_contiguous_inputs():
    "A transposed tensor or array: the gradient lands on the right entries."
    W = torch.arange(12., dtype=torch.float64).reshape(4, 3)
    X = torch.randn(3, 4, dtype=torch.float64).T
    f = lambda t: (t * W).sum() + (t**2).sum()
    torch.testing.assert_close(numerical_grad(f, X), autograd(f, X))
    A, Wn = np.arange(6.).reshape(2, 3).T, np.arange(6.).reshape(3, 2)
    np.testing.assert_allclose(numerical_grad(lambda v: (v * Wn).sum(), A), Wn, rtol=1e-7, atol=1e-8)

def test_f_mutating_its_argument_does_not_move_x():
    def f(v): v += 1.0; return (v**2).sum()
    x = torch.tensor([0.5, -2.0], dtype=torch.float64)
    torch.testing.assert_close(numerical_grad(f, x), 2 * (x + 1))
    assert x.tolist() == [0.5, -2.0]

def test_width_for_depth_key_counts_pieces():
    "The exercise key's piece count is 2^d, and least squares (torch, float64) agrees: 2^d one-layer ReLUs fit the depth-d sawtooth exactly, 2^d - 1 evenly spaced do not."
    from learnkit.fitting import _pieces
    assert [_pieces({'test_depth': d}) for d in range(1, 8)] == [2**d for d in range(1, 8)]
    x = torch.linspace(0, 1, 1001, dtype=torch.float64)
    def saw(d):
        y = x
        for _ in range(d): y = 2 * torch.relu(y) - 4 * torch.relu(y - 0.5)
        return y
    def fit_mse(y, n):
        X = torch.stack([torch.relu(x - k / n) for k in range(n)] + [torch.ones_like(x)], 1)
        return ((X @ torch.linalg.lstsq(X, y[:, None]).solution - y[:, None])**2).mean().item()
    for d in range(1, 5):
        assert fit_mse(saw(d), 2**d) < 1e-20 and fit_mse(saw(d), 2**d - 1) > 1e-2
