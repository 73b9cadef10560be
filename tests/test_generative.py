"""learnkit.generative: the yardstick (Fréchet distance, sample_quality), the VAE's pieces against torch.distributions,
the GAN step, and the recipes on short runs."""
import math
import pytest, torch
from learnkit.generative import (digit_images, image_grid, train_digit_classifier, frechet_distance, sample_quality,
                                 kl_standard_normal, reparameterise, VAE, vae_loss, fit_vae, gan_step, DigitGenerator,
                                 DigitDiscriminator, fit_gan, reset_parameters_, mlp)

torch.set_num_threads(1)  # small models: one thread avoids oversubscribing the cores pytest-xdist already uses
X, Y = digit_images()

@pytest.fixture(scope='module')
def classifier():  # a quick one: 12 epochs on 600 digits (2 at lr 0.1, 10 at 0.01)
    return train_digit_classifier(X[:600], Y[:600], epochs=12, generator=torch.Generator())

def test_digit_images():
    assert X.shape == (1797, 1, 8, 8) and X.dtype == torch.float32 and X.min() == 0 and X.max() == 1
    assert Y.shape == (1797,) and set(Y.tolist()) == set(range(10))

def test_image_grid_layout():
    g = image_grid(X[:12], nrow=5)
    assert g.shape == (3 * 9 - 1, 5 * 9 - 1)
    assert torch.equal(g[:8, 9:17], X[1, 0]) and torch.equal(g[9:17, :8], X[5, 0]) and (g[:, 8] == 0).all()
    assert (image_grid(X[:2], nrow=2, pad_value=0.5)[:, 8] == 0.5).all()

def test_frechet_distance_of_a_sample_to_itself_is_zero():
    a = torch.randn(500, 6, generator=torch.Generator(), dtype=torch.float64)
    assert abs(frechet_distance(a, a)) < 1e-9

def test_frechet_distance_matches_a_direct_computation():
    g = torch.Generator()
    a = torch.randn(800, 5, generator=g, dtype=torch.float64) @ torch.randn(5, 5, generator=g, dtype=torch.float64)
    b = torch.randn(700, 5, generator=g, dtype=torch.float64) @ torch.randn(5, 5, generator=g, dtype=torch.float64) + 1
    S1, S2 = torch.cov(a.T), torch.cov(b.T)
    # Tr((S1 S2)^{1/2}) from the eigenvalues of the non-symmetric product (the same as those of S1^½ S2 S1^½)
    direct = (a.mean(0) - b.mean(0)).pow(2).sum() + (S1 + S2).trace() - 2 * torch.linalg.eigvals(S1 @ S2).sqrt().real.sum()
    assert math.isclose(frechet_distance(a, b), direct.item(), rel_tol=1e-9)
    assert math.isclose(frechet_distance(a, b), frechet_distance(b, a), rel_tol=1e-9)  # symmetric

def test_frechet_distance_1d_closed_form():
    e = torch.randn(200_000, 1, generator=torch.Generator(), dtype=torch.float64)
    # the same e on both sides, so the sample moments give d^2 = (2 - 1.5 mean(e))^2 + (0.5 - 2)^2 var(e) exactly
    exact = (2 - 1.5 * e.mean().item()) ** 2 + 2.25 * e.var().item()
    assert abs(frechet_distance(1 + 0.5 * e, -1 + 2 * e) - exact) < 1e-9
    assert abs(frechet_distance(1 + 0.5 * e, -1 + 2 * e) - 6.25) < 0.02

def test_frechet_distance_errors():
    with pytest.raises(ValueError, match=r'\(N, D\)'): frechet_distance(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(ValueError, match='at least 2'): frechet_distance(torch.randn(1, 3), torch.randn(10, 3))

def test_sample_quality_numbers_and_errors(classifier):
    real = sample_quality(X[600:1200], classifier, X[1200:])
    assert set(real) == {'confident', 'classes', 'evenness', 'fd'} and real['classes'] == 10 and real['evenness'] > 0.9
    one = sample_quality(X[Y == 0][:50], classifier, X)
    assert one['evenness'] < 0.3 and one['classes'] <= 3
    noise = sample_quality(torch.rand(300, 1, 8, 8, generator=torch.Generator()), classifier, X)
    assert noise['fd'] > 5 * real['fd'] and noise['confident'] < real['confident']
    with pytest.raises(ValueError, match=r'\(N, 1, 8, 8\).*\(10, 8, 8\)'): sample_quality(X[:10, 0], classifier, X)
    with pytest.raises(ValueError, match=r'\[0, 1\]'): sample_quality(X[:10] * 16, classifier, X)
    with pytest.raises(TypeError, match='float'): sample_quality((X[:10] * 16).long(), classifier, X)

def test_classifier_is_deterministic_given_a_generator():
    a = train_digit_classifier(X[:100], Y[:100], epochs=1, generator=torch.Generator())
    b = train_digit_classifier(X[:100], Y[:100], epochs=1, generator=torch.Generator())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())) and not a.training
    assert a[:-1](X[:3]).shape == (3, 256) and a(X[:3]).shape == (3, 10)

def test_kl_against_torch_distributions():
    g = torch.Generator(); mu, logvar = torch.randn(2, 7, 4, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    ref = torch.distributions.kl_divergence(q, torch.distributions.Normal(0., 1.)).sum(-1)
    assert torch.allclose(kl_standard_normal(mu, logvar), ref, atol=1e-12)
    assert kl_standard_normal(torch.zeros(3), torch.zeros(3)).item() == 0
    with pytest.raises(ValueError, match='differ'): kl_standard_normal(torch.zeros(3), torch.zeros(4))

def test_reparameterise_distribution_and_gradient():
    mu = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([0.0, math.log(0.25)], dtype=torch.float64, requires_grad=True)
    z = reparameterise(mu.expand(200_000, 2), logvar.expand(200_000, 2), torch.Generator())
    assert torch.allclose(z.mean(0), mu.detach(), atol=0.01) and torch.allclose(z.std(0), torch.tensor([1.0, 0.5], dtype=torch.float64), atol=0.01)
    z.pow(2).mean(0).sum().backward()  # d/dmu E[z^2] = 2 mu
    assert torch.allclose(mu.grad, 2 * mu.detach(), atol=0.02)
    with pytest.raises(ValueError, match='differ'): reparameterise(torch.zeros(3, 2), torch.zeros(3, 1))

def test_vae_shapes_loss_and_sampling():
    vae = VAE(latent=3, hidden=16)
    logits, mu, logvar = vae(X[:5], generator=torch.Generator())
    assert logits.shape == (5, 1, 8, 8) and mu.shape == logvar.shape == (5, 3)
    loss = vae_loss(logits, X[:5], mu, logvar)
    rec = torch.nn.functional.binary_cross_entropy_with_logits(logits, X[:5], reduction='sum') / 5
    assert torch.allclose(loss, rec + kl_standard_normal(mu, logvar).mean())
    assert torch.allclose(vae_loss(logits, X[:5], mu, logvar, beta=0.0), rec)
    s1, s2 = vae.sample(4, generator=torch.Generator()), vae.sample(4, generator=torch.Generator())
    assert s1.shape == (4, 1, 8, 8) and torch.equal(s1, s2) and 0 <= s1.min() and s1.max() <= 1
    with pytest.raises(ValueError, match=r'\(N, 1, 8, 8\)'): vae.encode(torch.rand(2, 64))

def test_fit_vae_learns_and_repeats():
    vae, secs = fit_vae(X[:300], 60, hidden=32, generator=torch.Generator())
    vae_b, _ = fit_vae(X[:300], 60, hidden=32, generator=torch.Generator())
    assert secs > 0 and not vae.training
    assert all(torch.equal(p, q) for p, q in zip(vae.parameters(), vae_b.parameters()))
    untrained = reset_parameters_(VAE(hidden=32), torch.Generator())
    def loss(m): return vae_loss(*(lambda o: (o[0], X[:300], o[1], o[2]))(m(X[:300], generator=torch.Generator()))).item()
    assert loss(vae) < loss(untrained)

def test_gan_step_updates_both_players_and_losses():
    G, D = mlp(2, 8, 2), mlp(2, 8, 1)
    Dn = torch.nn.Sequential(D, torch.nn.Flatten(0))
    og, od = torch.optim.SGD(G.parameters(), 0.1), torch.optim.SGD(D.parameters(), 0.1)
    g0, d0 = [p.clone() for p in G.parameters()], [p.clone() for p in D.parameters()]
    real, z = torch.randn(16, 2, generator=torch.Generator()), torch.randn(16, 2, generator=torch.Generator())
    d_loss, g_loss = gan_step(G, Dn, og, od, real, z)
    assert all(not torch.equal(a, b) for a, b in zip(g0, G.parameters())) and all(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))
    assert d_loss > 0 and g_loss > 0
    _, g_sat = gan_step(G, Dn, og, od, real, z, saturating=True)
    assert g_sat < 0  # log(1 - D) is negative

def test_non_saturating_gradient_at_the_start():
    a = torch.tensor(-6.0, requires_grad=True)
    sat, = torch.autograd.grad(torch.nn.functional.logsigmoid(-a), a)
    non, = torch.autograd.grad(-torch.nn.functional.logsigmoid(a), a)
    assert math.isclose(sat.item(), -torch.sigmoid(a).item(), rel_tol=1e-5) and math.isclose(non.item(), torch.sigmoid(a).item() - 1, rel_tol=1e-5)

def test_digit_gan_shapes_and_fit_gan():
    G, D, secs = fit_gan(X[:300], 5, generator=torch.Generator())
    s = G.sample(6, generator=torch.Generator())
    assert s.shape == (6, 1, 8, 8) and 0 <= s.min() and s.max() <= 1 and not G.training and secs > 0
    assert D(s).shape == (6,)
    with pytest.raises(ValueError, match=r'\(N, 32\)'): G(torch.randn(3, 8))
