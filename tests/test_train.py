"""learnkit.train: the shared training loop."""
import pytest, torch
from torch import nn
from learnkit import utils
from learnkit.train import fit, History

def _task(n=256):
    utils.set_seed(0)
    x = torch.linspace(-1, 1, n)[:, None]; y = 3 * x - 1 + 0.05 * torch.randn_like(x)
    model = nn.Linear(1, 1)
    def loss_fn(split):
        i = torch.randint(n, (32,))
        return nn.functional.mse_loss(model(x[i]), y[i])
    return model, loss_fn

def test_loss_decreases_on_regression():
    model, loss_fn = _task()
    h = fit(loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), 300, eval_every=50, live=False)
    assert h.val_loss[-1] < 0.01 < h.val_loss[0]
    assert h.eval_train_loss[-1] < h.eval_train_loss[0]
    torch.testing.assert_close(model.weight.detach(), torch.tensor([[3.]]), atol=0.1, rtol=0)

def test_history_fields():
    model, loss_fn = _task()
    h = fit(loss_fn, torch.optim.Adam(model.parameters(), lr=1e-2), 30, eval_every=10, eval_iters=3, live=False)
    assert isinstance(h, History)
    assert h.steps == list(range(1, 31)) and len(h.train_loss) == 30
    assert all(isinstance(v, float) for v in h.train_loss + h.val_loss + h.eval_train_loss)
    assert h.eval_steps == [0, 10, 20, 30] and len(h.val_loss) == len(h.eval_train_loss) == 4
    assert h.seconds > 0 and 'History(30 steps' in repr(h)
    ax = h.plot(); assert len(ax.lines) == 3

def test_eval_count_and_iters():
    calls = {'train': 0, 'val': 0}
    w = nn.Parameter(torch.ones(1))
    def loss_fn(split): calls[split] += 1; return (w ** 2).sum()
    h = fit(loss_fn, torch.optim.SGD([w], lr=0.01), 25, eval_every=10, eval_iters=4, live=False)
    assert h.eval_steps == [0, 10, 20, 25]
    assert calls['val'] == 4 * 4 and calls['train'] == 25 + 4 * 4

def test_eval_mode_no_grad_and_back_to_train():
    seen = []
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    def loss_fn(split):
        if split == 'val': seen.append((model.training, torch.is_grad_enabled()))
        return model(torch.ones(4, 2)).pow(2).mean()
    fit(loss_fn, torch.optim.SGD(model.parameters(), lr=0.01), 3, eval_every=1, eval_iters=1, model=model, live=False)
    assert seen and all(s == (False, False) for s in seen) and model.training

def test_clipping_applied():
    w = nn.Parameter(torch.zeros(4))
    fit(lambda split: 1000 * w.sum(), torch.optim.SGD([w], lr=1.0), 3, grad_clip=0.5, live=False)
    torch.testing.assert_close(w.detach(), torch.full((4,), -0.75))  # 3 steps of norm 0.5 along -(1,1,1,1)/2
    v = nn.Parameter(torch.zeros(4))
    fit(lambda split: 1000 * v.sum(), torch.optim.SGD([v], lr=1.0), 1, live=False)
    assert v.detach().abs().max() == 1000

def test_scheduler_stepped():
    w = nn.Parameter(torch.ones(1)); opt = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    fit(lambda s: (w ** 2).sum(), opt, 4, sched=sched, live=False)
    assert opt.param_groups[0]['lr'] == 1.0 / 16

def test_bad_arguments():
    w = nn.Parameter(torch.ones(1)); opt = torch.optim.SGD([w], lr=0.1)
    good = lambda s: (w ** 2).sum()
    with pytest.raises(ValueError, match='n_steps must be an integer >= 1, got 0'): fit(good, opt, 0)
    with pytest.raises(ValueError, match='eval_every'): fit(good, opt, 5, eval_every=0)
    with pytest.raises(ValueError, match='eval_iters'): fit(good, opt, 5, eval_iters=-1)
    with pytest.raises(ValueError, match='grad_clip'): fit(good, opt, 5, grad_clip=0)
    with pytest.raises(TypeError, match='Optimizer'): fit(good, [w], 5)
    with pytest.raises(TypeError, match='callable'): fit(3.0, opt, 5)
    with pytest.raises(TypeError, match='nn.Module'): fit(good, opt, 5, model='net')
    with pytest.raises(TypeError, match='step'): fit(good, opt, 5, sched=object())
    with pytest.raises(ValueError, match=r"scalar tensor.*shape \(3,\)"): fit(lambda s: w * torch.ones(3), opt, 2, live=False)
    with pytest.raises(FloatingPointError, match='step 1'): fit(lambda s: w * float('nan'), opt, 2, live=False)

def test_live_output_is_short(capsys, monkeypatch):
    # as in a plain script: once execnb has run a notebook in this process (tests/test_exercises.py), IPython's
    # singleton shell exists and fit would take the 'captured' path, which also displays the final figure
    import learnkit.train
    monkeypatch.setattr(learnkit.train, '_where', lambda: 'script')
    w = nn.Parameter(torch.ones(1))
    fit(lambda s: (w ** 2).sum(), torch.optim.SGD([w], lr=0.01), 500, eval_every=1, eval_iters=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert 10 < len(lines) <= 25 and lines[-1].split()[0] == '500'

