"""physml.ebm against exact results: Gaussian integrals, the exact stationary law of the
Langevin chain on a quadratic energy, closed-form mixture densities, and a measured
improvement of the held-out log-likelihood by contrastive divergence."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from physml import ebm

A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
MU = jnp.array([0.5, -1.0])
RING = ebm.ring_mixture(8, 2.0, 0.25)


def ring_energy(x):
    """E = -ln p of the ring: the model that is the data density (ln Z = 0)."""
    return -ebm.mixture_log_density(RING, x)


def quadratic(A, mu):
    return lambda x: 0.5 * (x - mu) @ A @ (x - mu)


def test_log_partition_of_a_gaussian_is_exact():
    r"""E = (x - mu)^T A (x - mu)/2 on [-8, 8]^2: Z = 2 pi / sqrt(det A). The Gaussian is
    9.7 standard deviations inside the box, and the midpoint rule converges exponentially
    for such integrands, so 128 cells per axis are exact to rounding."""
    A2, mu = jnp.array([[4.0, 1.0], [1.0, 2.0]]), jnp.array([0.3, -0.2])
    exact = math.log(2 * math.pi / math.sqrt(float(jnp.linalg.det(A2))))
    got = float(ebm.log_partition_grid(quadratic(A2, mu), 8.0, 128))
    assert got == pytest.approx(exact, abs=1e-12)


def test_log_partition_of_a_truncated_gaussian_converges_at_second_order():
    """A unit Gaussian at (1.5, -0.5) cut by the box [-2, 2]^2: Z is a product of error
    functions. The midpoint rule's error falls as h^2 (measured log-log slope in
    [1.9, 2.1]) and is below 1e-5 at 512 cells per axis."""
    a, b, L = 1.5, -0.5, 2.0
    energy = lambda x: 0.5 * ((x[0] - a) ** 2 + (x[1] - b) ** 2)
    one_axis = lambda c: (
        math.sqrt(math.pi / 2) * (special.erf((L - c) / math.sqrt(2)) + special.erf((L + c) / math.sqrt(2)))
    )
    exact = math.log(one_axis(a) * one_axis(b))
    sizes = np.array([16, 32, 64, 128])
    errors = np.array([abs(float(ebm.log_partition_grid(energy, L, int(n))) - exact) for n in sizes])
    slope = np.polyfit(np.log(2 * L / sizes), np.log(errors), 1)[0]
    assert 1.9 < slope < 2.1, (slope, errors)
    assert abs(float(ebm.log_partition_grid(energy, L, 512)) - exact) < 1e-5


def test_log_partition_is_differentiable():
    """E = a |x|^2 / 2: ln Z = ln(2 pi / a), so d ln Z / d a = -1/a = -<|x|^2/2>."""
    a = 1.7
    grad = jax.grad(lambda s: ebm.log_partition_grid(lambda x: 0.5 * s * x @ x, 8.0, 128))(a)
    assert float(grad) == pytest.approx(-1 / a, rel=1e-10)


def test_grid_log_density_is_normalized():
    centres, log_p = ebm.grid_log_density(quadratic(A, MU), 3.0, 64)
    dx = 6.0 / 64
    np.testing.assert_allclose(np.diff(centres), dx, rtol=1e-12)
    assert float(centres[0]) == pytest.approx(-3.0 + dx / 2, rel=1e-12)
    assert float(jax.nn.logsumexp(log_p) + 2 * jnp.log(dx)) == pytest.approx(0.0, abs=1e-12)
    assert log_p.shape == (64, 64)
    # entry [a, b] is the point (x_a, y_b)
    e = quadratic(A, MU)
    d = float(log_p[10, 40] - log_p[40, 10])
    assert d == pytest.approx(
        float(e(jnp.array([centres[40], centres[10]])) - e(jnp.array([centres[10], centres[40]])))
    )


def test_mixture_density_matches_scipy_and_integrates_to_one():
    one = ebm.Mixture(jnp.array([[0.4, -0.3]]), 0.7, jnp.array([1.0]))
    x = jax.random.normal(jax.random.key(1), (50, 2))
    expected = stats.multivariate_normal(mean=[0.4, -0.3], cov=0.49 * np.eye(2)).logpdf(np.asarray(x))
    np.testing.assert_allclose(ebm.mixture_log_density(one, x), expected, rtol=1e-12)
    np.testing.assert_allclose(jnp.linalg.norm(RING.means, axis=-1), 2.0, rtol=1e-12)
    assert float(jnp.sum(RING.weights)) == pytest.approx(1.0, rel=1e-12)
    # the box of half-width 4 holds the ring up to ~1e-15 of its mass; cells of sigma/4
    # make the midpoint rule exact to rounding for these Gaussians
    assert float(ebm.log_partition_grid(ring_energy, 4.0, 128)) == pytest.approx(0.0, abs=1e-10)


def test_mixture_samples_have_the_right_moments():
    """Mean 0 and covariance (R^2/2 + sigma^2) I for n >= 3 equal modes on a ring of
    radius R; 40 000 draws, each moment within 5 standard errors (false failure < 1e-5)."""
    x = np.asarray(ebm.sample_mixture(jax.random.key(2), RING, 40_000))
    var = 2.0**2 / 2 + 0.25**2
    se_mean = math.sqrt(var / len(x))
    assert (np.abs(x.mean(axis=0)) < 5 * se_mean).all()
    cov = np.cov(x.T)
    # standard errors of the sample variances and covariance from the fourth moments
    se_cov = np.sqrt(np.var((x - x.mean(0))[:, :, None] * (x - x.mean(0))[:, None, :], axis=0) / len(x))
    assert (np.abs(cov - var * np.eye(2)) < 5 * se_cov).all(), (cov, se_cov)


def langevin_moments(epsilon, steps, chains=20_000, seed=3):
    x0 = jnp.broadcast_to(MU + 3.0, (chains, 2))
    x = np.asarray(ebm.langevin(jax.random.key(seed), quadratic(A, MU), x0, epsilon, steps))
    return x.mean(axis=0), np.cov(x.T), len(x)


def ula_covariance(epsilon):
    """Exact stationary covariance of x <- x - (eps^2/2) A (x - mu) + eps eta."""
    A_ = np.asarray(A)
    return np.linalg.inv(A_) @ np.linalg.inv(np.eye(2) - epsilon**2 * A_ / 4)


@pytest.mark.parametrize(("epsilon", "steps"), [(0.15, 1500), (0.6, 100)])
def test_langevin_reproduces_the_moments_of_a_quadratic_energy(epsilon, steps):
    """20 000 independent chains started 3 units from the minimum (the start is forgotten
    to below 1e-10). Mean = mu and covariance = A^{-1} (I - eps^2 A / 4)^{-1}, the exact
    stationary law of the discretized chain (-> A^{-1} as eps -> 0), each entry within 5
    standard errors of a Gaussian sample (false failure of the 5 checks < 3e-6)."""
    mean, cov, n = langevin_moments(epsilon, steps)
    sigma = ula_covariance(epsilon)
    assert (np.abs(mean - np.asarray(MU)) < 5 * np.sqrt(np.diag(sigma) / n)).all(), mean
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / n)
    assert (np.abs(cov - sigma) < 5 * se).all(), (cov, sigma)


def test_langevin_test_sees_the_step_size_bias():
    """The same test has power: at eps = 0.6 the sample covariance is many standard
    errors away from the continuous-time answer A^{-1}."""
    _, cov, n = langevin_moments(0.6, 100)
    sigma = np.linalg.inv(np.asarray(A))
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / n)
    assert np.abs(cov - sigma).max() > 20 * se.max()


def test_reflection_folds_points_into_the_box():
    x = jnp.array([0.3, 1.2, -1.5, 3.5, -4.25, 1.0, -1.0])
    # -4.25 -> -1 + 3.25 = 2.25 -> 1 - 1.25 = -0.25 (period 4L: -4.25 is -0.25 + 4 * (-1))
    np.testing.assert_allclose(ebm.reflect(x, 1.0), [0.3, 0.8, -0.5, -0.5, -0.25, 1.0, -1.0], atol=1e-12)


def test_langevin_with_walls_samples_the_box_uniformly():
    """Zero energy with reflecting walls: the stationary law is uniform on [-1, 1]^2.
    20 000 chains, 200 steps of eps = 0.3 (diffusion length 4.2 box widths); a KS test
    per axis, each failing a correct sampler with probability 1e-3."""
    x0 = jnp.zeros((20_000, 2))
    x = np.asarray(ebm.langevin(jax.random.key(4), lambda p: 0.0 * jnp.sum(p), x0, 0.3, 200, half_width=1.0))
    assert (np.abs(x) <= 1.0).all()
    for axis in range(2):
        assert stats.kstest(x[:, axis], stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3


def test_log_likelihood_of_the_true_density():
    """With E = -ln p_true the model is the data density: ln Z = 0 and the log-likelihood
    is the exact mean of ln p_true."""
    x = ebm.sample_mixture(jax.random.key(5), RING, 2000)
    exact = float(jnp.mean(ebm.mixture_log_density(RING, x)))
    assert float(ebm.log_likelihood(ring_energy, x, 4.0, 128)) == pytest.approx(exact, abs=1e-10)


def test_bad_input_is_rejected():
    energy = quadratic(A, MU)
    with pytest.raises(ValueError, match="zero model density"):
        ebm.log_likelihood(energy, jnp.array([[0.0, 5.0]]), 4.0)
    with pytest.raises(ValueError, match="shape"):
        ebm.log_likelihood(energy, jnp.zeros(2), 4.0)
    with pytest.raises(ValueError, match="half_width"):
        ebm.log_partition_grid(energy, -1.0)
    with pytest.raises(ValueError, match="std"):
        ebm.ring_mixture(std=0.0)
    state = ebm.pcd_init(jax.random.key(0), ebm.energy_network(jax.random.key(1), 8, 1))
    with pytest.raises(ValueError, match="shape"):
        ebm.train_pcd(jax.random.key(2), state, jnp.zeros((10, 3)), 5)
    with pytest.raises(ValueError, match="steps"):
        ebm.train_pcd(jax.random.key(2), state, jnp.zeros((10, 2)), 0)
    with pytest.raises(ValueError, match="chains"):
        ebm.train_pcd(jax.random.key(2), state, jnp.zeros((10, 2)), 5, ebm.PCDConfig(chains=8))


def test_training_improves_the_held_out_log_likelihood():
    """Persistent contrastive divergence on the 8-mode ring (sigma = 0.25, radius 2, box
    [-4, 4]^2), 4000 training and 4000 held-out points, a 2-32-32-1 SiLU network, 600
    updates of 128 data points and 128 chains (20 Langevin steps of eps = 0.1), fixed
    keys, float64. Measured held-out log-likelihood per point: -4.186 nats before
    training (nearly uniform: -ln 64 = -4.159), -2.63 after, -2.163 for the true density
    (grid of 256^2 cells; 512^2 changes it by < 1e-3). The bounds below leave a margin
    of 0.2 nats on each side."""
    ring = ebm.ring_mixture()
    k_data, k_test, k_model, k_init, k_train = jax.random.split(jax.random.key(2026), 5)
    data, test = ebm.sample_mixture(k_data, ring, 4000), ebm.sample_mixture(k_test, ring, 4000)
    config = ebm.PCDConfig(batch=128, chains=128)
    model = ebm.energy_network(k_model, width=32)
    state = ebm.pcd_init(k_init, model, config)
    state, contrast = ebm.train_pcd(k_train, state, data, 600, config)
    before = float(ebm.log_likelihood(model, test, config.half_width))
    after = float(ebm.log_likelihood(state.model, test, config.half_width))
    truth = float(jnp.mean(ebm.mixture_log_density(ring, test)))
    assert before < -4.0
    assert after > before + 1.3, (before, after)
    assert truth - 0.7 < after < truth, (after, truth)
    assert contrast.shape == (600,) and np.isfinite(np.asarray(contrast)).all()
    assert (np.abs(np.asarray(state.chains)) <= config.half_width).all()
    finer = float(ebm.log_likelihood(state.model, test, config.half_width, 512))
    assert abs(finer - after) < 1e-3
