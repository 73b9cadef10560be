"""The diagnostics of learnkit.norm on models that are not the lesson's: activation and gradient statistics agree with a manual
forward pass and autograd, hooks come off, the ratios are what they claim, and the plots draw."""
import math, pytest, torch
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from torch import nn
import torch.nn.functional as F
from learnkit.norm import (ActivationStats, UpdateRatios, grad_data_ratios, plot_act_hists, plot_grad_hists,
                            plot_saturation, plot_weight_grads, plot_update_ratios)

torch.manual_seed(0); torch.set_num_threads(1)  # tiny tensors: one thread is fastest on a shared CPU

class Block(nn.Module):
    "A model that is not an nn.Sequential, with a ReLU and a GELU inside a residual block."
    def __init__(self):
        super().__init__()
        self.inp, self.act1, self.mid, self.act2, self.out = nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 2)
    def forward(self, x):
        h = self.act1(self.inp(x))
        return self.out(h + self.act2(self.mid(h)))

def test_stats_match_manual_forward_and_autograd():
    m, x = Block(), torch.randn(32, 5)
    with ActivationStats(m, types=(nn.ReLU, nn.GELU)) as st:
        loss = m(x).pow(2).sum(); loss.backward()
    assert list(st.modules) == ['act1', 'act2']
    h = F.relu(m.inp(x)); a2 = F.gelu(m.mid(h))
    torch.testing.assert_close(st.acts['act1'], h.detach()); torch.testing.assert_close(st.acts['act2'], a2.detach())
    assert math.isclose(st.stats['act1']['mean'][0], h.mean().item(), rel_tol=1e-5)
    h2, a22 = F.relu(m.inp(x)), None
    h2.retain_grad(); a22 = F.gelu(m.mid(h2)); a22.retain_grad()
    m.out(h2 + a22).pow(2).sum().backward()
    torch.testing.assert_close(st.grads['act2'], a22.grad); torch.testing.assert_close(st.grads['act1'], h2.grad)
    assert math.isclose(st.stats['act2']['grad_std'][0], a22.grad.std().item(), rel_tol=1e-5)

def test_hooks_are_removed_and_names_work():
    m = Block()
    st = ActivationStats(m, names=['mid'], sat=0.5)
    m(torch.randn(4, 5)); st.remove(); m(torch.randn(4, 5))
    assert len(st.stats['mid']['mean']) == 1 and not m.mid._forward_hooks
    with pytest.raises(ValueError, match="no submodules named \\['nope'\\]"): ActivationStats(m, names=['nope'])
    with pytest.raises(ValueError, match='no submodule of types'): ActivationStats(m, types=(nn.Tanh,))

def test_saturation_share():
    m = nn.Sequential(nn.Linear(3, 50), nn.Tanh())
    with torch.no_grad(): m[0].weight.mul_(100)
    with ActivationStats(m) as st: m(torch.randn(64, 3))
    t = st.acts['1']
    assert st.stats['1']['sat'][0] == pytest.approx((t.abs() > 0.97).float().mean().item())
    assert st.stats['1']['sat'][0] > 0.8

def test_grad_data_ratios_and_update_ratios():
    m = Block(); x, y = torch.randn(64, 5), torch.randn(64, 2)
    with pytest.raises(ValueError, match='no gradients'): grad_data_ratios(m)
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    ud = UpdateRatios(m)
    assert set(ud.params) == {'inp.weight', 'mid.weight', 'out.weight'}
    for _ in range(3):
        opt.zero_grad(); F.mse_loss(m(x), y).backward()
        r = grad_data_ratios(m)
        w = m.mid.weight
        assert r['mid.weight'] == pytest.approx((w.grad.std() / w.std()).item())
        before = w.detach().clone()
        with ud: opt.step()
        expected = math.log10(((w.detach() - before).std() / before.std()).item())  # SGD: update = -lr * grad
        assert ud.ratios['mid.weight'][-1] == pytest.approx(expected, rel=1e-4)
        assert ud.ratios['mid.weight'][-1] == pytest.approx(math.log10(0.01 * r['mid.weight']), rel=1e-3)
    assert all(len(v) == 3 for v in ud.ratios.values())

def test_update_ratios_with_adam():
    "The tracker measures the step the optimiser really took, whatever the optimiser."
    m = Block(); opt = torch.optim.Adam(m.parameters(), lr=1e-3); ud = UpdateRatios(m)
    for _ in range(2):
        opt.zero_grad(); m(torch.randn(8, 5)).pow(2).sum().backward()
        before = {n: p.detach().clone() for n, p in m.named_parameters()}
        with ud: opt.step()
        for n, r in ud.ratios.items():
            p = dict(m.named_parameters())[n].detach()
            assert r[-1] == pytest.approx(math.log10(((p - before[n]).std() / before[n].std()).item()), rel=1e-5)
    assert all(len(r) == 2 and math.isfinite(r[-1]) for r in ud.ratios.values())

def test_plots_draw():
    m = nn.Sequential(nn.Linear(4, 20), nn.Tanh(), nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 3))
    with ActivationStats(m) as st: F.cross_entropy(m(torch.randn(16, 4)), torch.randint(0, 3, (16,))).backward()
    fig, axs = plt.subplots(1, 4)
    plot_act_hists(st, axs[0]); plot_grad_hists(st, axs[1]); plot_saturation(st.acts['1'], ax=axs[2]); plot_weight_grads(m, axs[3])
    assert len(axs[0].lines) == 2 and len(axs[3].lines) == 3
    ud = UpdateRatios(m)
    with ud: pass
    plot_update_ratios(ud, smooth=1)
    for ax in (plot_act_hists(st), plot_grad_hists(st), plot_saturation(st.acts['1']), plot_weight_grads(m)):  # no ax: a new figure each
        assert ax.figure is not fig and len(ax.lines) + len(ax.images) > 0
    with pytest.raises(ValueError, match=r'expected \(N, C\)'): plot_saturation(torch.randn(3, 4, 5))
    plt.close('all')
