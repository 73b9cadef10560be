"""learnkit.diffusion: the forward process (closed form against the iterated steps), the samplers (DDIM with eta = 1
is DDPM; both recover a Gaussian with the exact noise guess), guidance and the digit U-Net's shapes and errors."""
import math
import pytest, torch
from learnkit.diffusion import (noise_schedule, alpha_bars, q_step, q_sample, posterior_variance, predict_x0,
                                diffusion_loss, ddpm_sample, ddim_sigma, ddim_sample, guided, DigitUNet,
                                to_images, to_model_space, fit_digit_diffusion)

T = 100
BETAS = noise_schedule(T)

def _gaussian_eps(m, s, betas):
    "The exact noise guess E[ε | x_t] when the data is N(m, s²) in every coordinate."
    ab = alpha_bars(betas).double()
    def eps(x, t):
        a = ab[t].view(-1, *[1] * (x.dim() - 1))
        return ((1 - a).sqrt() * (x.double() - a.sqrt() * m) / (a * s ** 2 + 1 - a)).to(x.dtype)
    return eps

def test_schedule():
    assert BETAS.shape == (T,) and torch.all(BETAS[1:] > BETAS[:-1])
    torch.testing.assert_close(noise_schedule(1000)[[0, -1]], torch.tensor([1e-4, 0.02]))  # DDPM's at T = 1000
    assert alpha_bars(BETAS)[-1] < 1e-3
    for bad in [dict(n_steps=1), dict(n_steps=10, beta_1=0.5, beta_T=0.1), dict(n_steps=10, beta_1=0.1, beta_T=1.0)]:
        with pytest.raises(ValueError, match='noise_schedule'): noise_schedule(**bad)

@pytest.mark.parametrize('t', [0, 5, 30, 99])
def test_closed_form_matches_iterated_steps(t):
    "q_sample at step t is distributed as t + 1 iterated q_steps: means and covariances agree within sampling error."
    g = torch.Generator(); n = 20_000
    x0 = torch.stack([torch.rand(n, generator=g) * 2 - 1, 0.3 * torch.randn(n, generator=g) + 0.5], 1)  # a non-Gaussian cloud
    x = x0.clone()
    for s in range(t + 1): x = q_step(x, s, BETAS, generator=g)
    y = q_sample(x0, t, BETAS, generator=g)
    ab = alpha_bars(BETAS)[t]
    theory_cov = ab * x0.T.cov() + (1 - ab) * torch.eye(2)
    # the sampling error of a mean or covariance entry from 20,000 points is about 1/sqrt(20,000) ≈ 0.007
    for z in (x, y):
        assert (z.mean(0) - ab.sqrt() * x0.mean(0)).abs().max() < 0.03
        assert (z.T.cov() - theory_cov).abs().max() < 0.04
    assert (x.mean(0) - y.mean(0)).abs().max() < 0.04 and (x.T.cov() - y.T.cov()).abs().max() < 0.05

def test_q_sample_given_noise_and_per_sample_steps():
    x0, noise, t = torch.randn(3, 1, 8, 8), torch.randn(3, 1, 8, 8), torch.tensor([0, 50, 99])
    ab = alpha_bars(BETAS)[t].view(3, 1, 1, 1)
    torch.testing.assert_close(q_sample(x0, t, BETAS, noise), ab.sqrt() * x0 + (1 - ab).sqrt() * noise)
    torch.testing.assert_close(predict_x0(q_sample(x0, t, BETAS, noise), noise, ab), x0, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match='steps must be in 0..99'): q_sample(x0, 100, BETAS)
    with pytest.raises(ValueError, match=r'one per sample \(3,\)'): q_sample(x0, torch.tensor([1, 2]), BETAS)
    with pytest.raises(ValueError, match='noise of shape'): q_sample(x0, 3, BETAS, torch.randn(3, 64))

def test_ddim_eta_one_has_ddpm_variance():
    ab = alpha_bars(BETAS.double())
    torch.testing.assert_close(ddim_sigma(ab[1:], ab[:-1], eta=1.0) ** 2, posterior_variance(BETAS.double())[1:])
    assert torch.all(ddim_sigma(ab[1:], ab[:-1], eta=0.0) == 0)

def test_ddim_eta_one_all_steps_is_ddpm():
    "Same model, same generator: DDIM with eta = 1 over all T steps returns DDPM's samples."
    model = _gaussian_eps(0.5, 0.3, BETAS)
    a = ddpm_sample(model, (500, 2), BETAS, generator=torch.Generator())
    b = ddim_sample(model, (500, 2), BETAS, eta=1.0, generator=torch.Generator())
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)

@pytest.mark.parametrize('sampler', ['ddpm', 'ddim100', 'ddim20', 'ddim20_eta1'])
def test_samplers_recover_a_gaussian_with_the_exact_noise_guess(sampler):
    m, s = 0.5, 0.3
    model, g = _gaussian_eps(m, s, BETAS), torch.Generator()
    if sampler == 'ddpm': x = ddpm_sample(model, (20_000, 1), BETAS, generator=g)
    else:
        k, eta = (100, 0.0) if sampler == 'ddim100' else (20, 1.0 if sampler.endswith('eta1') else 0.0)
        x = ddim_sample(model, (20_000, 1), BETAS, k, eta, generator=g)
    assert abs(x.mean().item() - m) < 0.01
    if sampler in ('ddpm', 'ddim100'): assert abs(x.std().item() - s) < 0.1 * s  # all steps: the spread within 10%
    else: assert 0.5 * s < x.std().item() < s  # 20 large steps shrink it (each jump lands on a posterior mean)

def test_ddim_eta_zero_is_deterministic_given_the_start():
    model = _gaussian_eps(0.0, 1.0, BETAS)
    a, path = ddim_sample(model, (4, 3), BETAS, 10, generator=torch.Generator(), trajectory=True)
    assert len(path) == 11 and torch.equal(path[-1], a)
    torch.testing.assert_close(a, ddim_sample(model, (4, 3), BETAS, 10, generator=torch.Generator()))
    with pytest.raises(ValueError, match='n_steps must be in 1..100'): ddim_sample(model, (4, 3), BETAS, 101)
    with pytest.raises(ValueError, match='eta must be >= 0'): ddim_sample(model, (4, 3), BETAS, 10, eta=-1)

def test_unet_guidance_and_loss():
    torch.manual_seed(0)
    net = DigitUNet(BETAS).eval()
    x, t, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 10, 50, 99]), torch.tensor([3, 1, 4, 10])
    assert net(x, t, y).shape == (4, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(guided(net, y, 0.0)(x, t), net(x, t))  # w = 0: unconditional
        torch.testing.assert_close(guided(net, y, 1.0)(x, t), net(x, t, y), atol=1e-5, rtol=1e-5)  # w = 1: conditional
    loss = diffusion_loss(net, torch.rand(8, 1, 8, 8), BETAS, torch.randint(0, 11, (8,)), generator=torch.Generator())
    loss.backward(); assert loss.item() > 0 and all(p.grad is not None for p in net.parameters() if p.requires_grad)
    with pytest.raises(ValueError, match=r'expected \(B, 1, 8, 8\)'): net(torch.randn(4, 64), t)
    with pytest.raises(ValueError, match='3 labels for a batch of 4'): guided(net, y[:3], 2.0)(x, t)
    img = torch.rand(5, 1, 8, 8); torch.testing.assert_close(to_images(to_model_space(img)), img)

def test_fit_digit_diffusion_unconditional_ignores_labels():
    "p_uncond = 1 never shows a label: shuffled labels train the same model; bad labels or p_uncond are refused."
    X, y = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 10
    def fit(labels, p):
        torch.manual_seed(0)
        return fit_digit_diffusion(X, labels, n_steps=3, batch_size=8, p_uncond=p, generator=torch.Generator())[0]
    a, b = fit(y, 1.0), fit(y.flip(0), 1.0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = fit(y.flip(0), 0.0)  # labels used: a different model
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert not a.training and a.betas.shape == (100,)
    with pytest.raises(ValueError, match=r'expected \(40,\) labels, got \(39,\)'): fit_digit_diffusion(X, y[:39], n_steps=2)
    with pytest.raises(ValueError, match='p_uncond must be in'): fit_digit_diffusion(X, y, n_steps=2, p_uncond=1.5)
    with pytest.raises(ValueError, match='images in'): fit_digit_diffusion(X * 2, y, n_steps=2)
