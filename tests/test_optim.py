"""learnkit.optim against torch.optim: the same numbers step for step, checkpoints that move both ways, torch's errors."""
import copy, itertools, math
import pytest, torch
from torch import nn
from hypothesis import given, settings, strategies as st
from learnkit.optim import SGD, RMSprop, Adam, AdamW, lr_find, warmup_cosine, LRFinder

def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()

def _twins(ours, theirs, kw, steps=100, switch_at=None, seed=0):
    "Train a model with our optimiser and its copy with torch's on the same batches; a third parameter never gets a gradient."
    a = _model(seed); b = copy.deepcopy(a)
    ea, eb = nn.Parameter(torch.ones(4, dtype=torch.float64)), nn.Parameter(torch.ones(4, dtype=torch.float64))
    oa, ob = ours(list(a.parameters()) + [ea], **kw), theirs(list(b.parameters()) + [eb], **kw)
    gen = torch.Generator().manual_seed(seed)
    X, Y = torch.randn(64, 5, generator=gen, dtype=torch.float64), torch.randn(64, 3, generator=gen, dtype=torch.float64)
    for i in range(steps):
        if switch_at == i:  # a checkpoint mid-run: each optimiser continues from the other's state
            sa, sb = oa.state_dict(), ob.state_dict()
            oa2, ob2 = ours(list(a.parameters()) + [ea], **kw), theirs(list(b.parameters()) + [eb], **kw)
            oa2.load_state_dict(sb); ob2.load_state_dict(sa); oa, ob = oa2, ob2
        j = slice(i % 8 * 8, (i % 8 + 1) * 8)
        for m, o in ((a, oa), (b, ob)):
            o.zero_grad(); ((m(X[j]) - Y[j]) ** 2).mean().backward(); o.step()
    assert torch.equal(ea, eb) and (ea == 1).all()  # a parameter without a gradient never moves
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))

SGD_KW = [dict(lr=0.05, momentum=mo, dampening=da, nesterov=ne, weight_decay=wd, maximize=mx)
          for mo, da, ne, wd, mx in itertools.product([0, 0.9], [0, 0.1], [False, True], [0, 0.01], [False, True])
          if not (ne and (mo == 0 or da))]
RMS_KW = [dict(lr=0.01, alpha=al, momentum=mo, centered=c, weight_decay=wd, maximize=mx)
          for al, mo, c, wd, mx in itertools.product([0.99, 0.9], [0, 0.9], [False, True], [0, 0.01], [False, True])]
ADAM_KW = [dict(lr=0.01, betas=b, amsgrad=a, weight_decay=wd, maximize=mx, decoupled_weight_decay=dw)
           for b, a, wd, mx, dw in itertools.product([(0.9, 0.999), (0.8, 0.95)], [False, True], [0, 0.01], [False, True], [False, True])]
ADAMW_KW = [dict(lr=0.01, amsgrad=a, weight_decay=wd, maximize=mx, eps=eps)
            for a, wd, mx, eps in itertools.product([False, True], [0, 0.01, 0.1], [False, True], [1e-8, 1e-3])]

@pytest.mark.parametrize('kw', SGD_KW)
def test_sgd_matches_torch(kw): assert _twins(SGD, torch.optim.SGD, kw) < 1e-6

@pytest.mark.parametrize('kw', RMS_KW)
def test_rmsprop_matches_torch(kw): assert _twins(RMSprop, torch.optim.RMSprop, kw) < 1e-6

@pytest.mark.parametrize('kw', ADAM_KW)
def test_adam_matches_torch(kw): assert _twins(Adam, torch.optim.Adam, kw) < 1e-6

@pytest.mark.parametrize('kw', ADAMW_KW)
def test_adamw_matches_torch(kw): assert _twins(AdamW, torch.optim.AdamW, kw) < 1e-6

@pytest.mark.parametrize('ours,theirs,kw', [(SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
                                            (RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
                                            (Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
                                            (AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1))])
def test_checkpoints_move_both_ways_mid_run(ours, theirs, kw):
    "state_dict saved at step 50 by one is loaded by the other, and both continuations stay equal to the uninterrupted run"
    assert _twins(ours, theirs, kw, switch_at=50) < 1e-6
    a = _model(); oa = ours(a.parameters(), **kw); b = copy.deepcopy(a); ob = ours(b.parameters(), **kw)
    X = torch.randn(8, 5, dtype=torch.float64)
    for m, o in ((a, oa), (b, ob)):
        for _ in range(3): o.zero_grad(); m(X).pow(2).mean().backward(); o.step()
    oc = ours(b.parameters(), **kw); oc.load_state_dict(copy.deepcopy(oa.state_dict()))  # a fresh optimiser from a saved checkpoint
    for m, o in ((a, oa), (b, oc)):
        for _ in range(3): o.zero_grad(); m(X).pow(2).mean().backward(); o.step()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))

def test_param_groups_with_their_own_settings():
    a = _model(); b = copy.deepcopy(a)
    ga = [{'params': a[0].parameters(), 'lr': 0.1}, {'params': a[2].parameters(), 'weight_decay': 0.5}]
    gb = [{'params': b[0].parameters(), 'lr': 0.1}, {'params': b[2].parameters(), 'weight_decay': 0.5}]
    oa, ob = AdamW(ga, lr=0.01), torch.optim.AdamW(gb, lr=0.01)
    X = torch.randn(8, 5, dtype=torch.float64)
    for m, o in ((a, oa), (b, ob)):
        for _ in range(20): o.zero_grad(); m(X).pow(2).mean().backward(); o.step()
    assert all(torch.allclose(p, q, atol=1e-12) for p, q in zip(a.parameters(), b.parameters()))

def test_closure_returns_loss_and_float32():
    w = nn.Parameter(torch.tensor([1.0, -2.0])); v = nn.Parameter(w.detach().clone())
    oa, ob = Adam([w], lr=0.1), torch.optim.Adam([v], lr=0.1)
    for _ in range(10):
        la = oa.step(lambda: (oa.zero_grad(), (w ** 2).sum().backward(), (w ** 2).sum())[-1])
        lb = ob.step(lambda: (ob.zero_grad(), (v ** 2).sum().backward(), (v ** 2).sum())[-1])
        assert torch.equal(la, lb)
    assert torch.equal(w, v) and w.dtype == torch.float32 and oa.state[w]['step'].dtype == torch.float32

def test_defaults_are_torchs():
    import inspect
    for ours, theirs in ((SGD, torch.optim.SGD), (RMSprop, torch.optim.RMSprop), (Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)):
        po, pt = inspect.signature(ours.__init__).parameters, inspect.signature(theirs.__init__).parameters
        assert list(po) == list(pt), ours.__name__
        assert [p.default for p in po.values()] == [p.default for p in pt.values()], ours.__name__
        assert [p.kind for p in po.values()] == [p.kind for p in pt.values()], ours.__name__

@settings(max_examples=40, deadline=None)
@given(scale=st.floats(1e-6, 1e6), n=st.integers(1, 20), lr=st.floats(1e-4, 1e-1))
def test_adam_first_step_is_lr_whatever_the_gradient_scale(scale, n, lr):
    w = nn.Parameter(torch.zeros(n, dtype=torch.float64))
    w.grad = scale * torch.tensor([(-1.0) ** k * (1 + 10 * k) for k in range(n)], dtype=torch.float64)  # mixed signs and sizes
    Adam([w], lr=lr, eps=0.0).step()
    assert torch.allclose(w.abs(), torch.full_like(w, lr), rtol=1e-9)

@settings(max_examples=30, deadline=None)
@given(g=st.floats(-10, 10).filter(lambda v: abs(v) > 1e-3), beta=st.floats(0.0, 0.95), lr=st.floats(1e-3, 1.0))
def test_momentum_steady_step_is_lr_over_one_minus_beta(g, beta, lr):
    w = nn.Parameter(torch.zeros(1, dtype=torch.float64)); o = SGD([w], lr=lr, momentum=beta)
    for _ in range(2000): w.grad = torch.full_like(w, g); before = w.item(); o.step()
    assert math.isclose(before - w.item(), lr * g / (1 - beta), rel_tol=1e-6)

@pytest.mark.parametrize('make,match', [
    (lambda p: SGD(p, lr=-0.1), 'invalid learning rate'), (lambda p: SGD(p, momentum=-1), 'momentum'),
    (lambda p: SGD(p, nesterov=True), 'Nesterov'), (lambda p: SGD(p, weight_decay=-1), 'weight_decay'),
    (lambda p: Adam(p, betas=(1.0, 0.9)), 'index 0'), (lambda p: AdamW(p, betas=(0.9, -0.1)), 'index 1'),
    (lambda p: Adam(p, eps=-1), 'epsilon'), (lambda p: RMSprop(p, alpha=-0.5), 'alpha'),
    (lambda p: Adam(p, lr=float('nan')), 'learning rate')])
def test_bad_settings_raise_like_torch(make, match):
    with pytest.raises(ValueError, match=match): make([nn.Parameter(torch.zeros(2))])

def test_bad_params_and_torch_only_paths_raise():
    with pytest.raises(TypeError, match='single Tensor'): SGD(torch.zeros(3, requires_grad=True))
    with pytest.raises(TypeError, match='iterable'): Adam(5)
    with pytest.raises(ValueError, match='empty'): AdamW([])  # torch's own message for no parameters
    p = [nn.Parameter(torch.zeros(2))]
    for make in (lambda: Adam(p, fused=True), lambda: AdamW(p, capturable=True), lambda: SGD(p, differentiable=True),
                 lambda: RMSprop(p, differentiable=True)):
        with pytest.raises(NotImplementedError, match='torch.optim'): make()
    with pytest.raises(TypeError, match='Tensor lr'): Adam(p, lr=torch.tensor(0.1))
    z = nn.Parameter(torch.zeros(2, dtype=torch.complex64)); z.grad = torch.ones_like(z)
    with pytest.raises(NotImplementedError, match='complex'): Adam([z]).step()
    e = nn.Embedding(4, 2, sparse=True); e(torch.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError, match='sparse'): Adam(e.parameters()).step()

def test_foreach_is_accepted_and_changes_nothing():
    assert _twins(AdamW, torch.optim.AdamW, dict(lr=0.01, foreach=True), steps=20) < 1e-6

def test_warmup_cosine_shape():
    o = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=2.0); s = warmup_cosine(o, 10, 110, 0.1); lrs = []
    for _ in range(150): lrs.append(o.param_groups[0]['lr']); o.step(); s.step()
    assert math.isclose(lrs[0], 2 / 11) and math.isclose(lrs[9], 2 * 10 / 11) and math.isclose(lrs[10], 2.0)
    assert math.isclose(lrs[60], 2 * (0.1 + 0.9 * 0.5)) and all(math.isclose(v, 0.2) for v in lrs[110:])
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    with pytest.raises(ValueError, match='warmup'): warmup_cosine(o, 20, 10)

def test_warmup_cosine_is_importable_from_gpt_too():
    import learnkit.gpt
    assert callable(learnkit.gpt.warmup_cosine)

def test_lr_find_restores_and_suggests():
    torch.manual_seed(0)
    X = torch.randn(256, 10); Y = X @ torch.randn(10, 1)
    m = nn.Linear(10, 1); before = copy.deepcopy(m.state_dict())
    opt = SGD(m.parameters(), lr=0.123, momentum=0.9); gen = torch.Generator().manual_seed(0)
    def loss_fn(split):
        i = torch.randint(256, (32,), generator=gen); return ((m(X[i]) - Y[i]) ** 2).mean()
    r = lr_find(m, loss_fn, opt, n_steps=80)
    assert isinstance(r, LRFinder) and all(torch.equal(v, before[k]) for k, v in m.state_dict().items())
    assert opt.param_groups[0]['lr'] == 0.123 and not opt.state  # the optimiser is restored too
    assert len(r.lrs) == len(r.losses) and all(a < b for a, b in zip(r.lrs, r.lrs[1:]))
    assert 1e-4 < r.suggestion < 1.0 and r.lrs[0] <= r.lr_steep <= r.lrs[-1]
    with pytest.raises(ValueError, match='start_lr'): lr_find(m, loss_fn, opt, start_lr=1.0, end_lr=0.1)

def test_in_fit():
    from learnkit.train import fit
    torch.manual_seed(0); m = nn.Linear(3, 1); X = torch.randn(32, 3); Y = X.sum(1, keepdim=True)
    h = fit(lambda split: ((m(X) - Y) ** 2).mean(), AdamW(m.parameters(), lr=0.05), 100, eval_every=50, live=False)
    assert h.val_loss[-1] < 0.1 * h.val_loss[0]
