"""physml.diffusion against exact results: the closed-form score of a blurred Gaussian
mixture, the identities of denoising score matching, mixture weights recovered by annealed
Langevin dynamics, and a trained score network measured against the exact score.

Statistical tests use fixed keys and state their false-failure rates (z against 3.29:
1e-3 each); where the sampler is only asymptotically exact the tolerance is stated with the
measured systematic error it covers.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physml import diffusion as df
from physml import ebm

Z = 3.29
RING = ebm.ring_mixture(8, 2.0, 0.25)
TWO = ebm.Mixture(jnp.array([[-1.5, 0.0], [1.5, 0.0]]), 0.3, jnp.array([0.25, 0.75]))


def exact_score(mixture):
    return lambda x, sigma: df.mixture_score(mixture, x, sigma)


@pytest.mark.parametrize("sigma", [0.0, 0.07, 0.5, 3.0])
def test_mixture_score_is_the_gradient_of_the_blurred_log_density(sigma):
    x = jax.random.normal(jax.random.key(0), (50, 2)) * 2.0
    blurred = df.blurred_mixture(RING, sigma)
    by_autodiff = jax.vmap(jax.grad(lambda p: ebm.mixture_log_density(blurred, p)))(x)
    np.testing.assert_allclose(
        np.asarray(df.mixture_score(RING, x, sigma)), np.asarray(by_autodiff), rtol=1e-11
    )
    assert blurred.std == pytest.approx(math.sqrt(0.25**2 + sigma**2), rel=1e-15)


def test_mixture_score_takes_one_level_per_point():
    x = jax.random.normal(jax.random.key(1), (6, 2))
    sigmas = jnp.linspace(0.1, 2.0, 6)
    batched = df.mixture_score(RING, x, sigmas)
    for a in range(6):
        np.testing.assert_allclose(
            np.asarray(batched[a]), np.asarray(df.mixture_score(RING, x[a], sigmas[a])), rtol=1e-13
        )


def test_noise_levels_fall_geometrically():
    sigmas = np.asarray(df.noise_levels(4.0, 0.05, 12))
    assert sigmas[0] == pytest.approx(4.0, rel=1e-12) and sigmas[-1] == pytest.approx(0.05, rel=1e-12)
    np.testing.assert_allclose(sigmas[1:] / sigmas[:-1], (0.05 / 4.0) ** (1 / 11), rtol=1e-12)
    with pytest.raises(ValueError, match="sigma_min"):
        df.noise_levels(0.1, 1.0)


def batch_losses(score, key, x, sigmas, batches):
    """dsm_loss on each of ``batches`` equal parts of ``x``, with its own key."""
    loss = jax.jit(jax.vmap(lambda k, p: df.dsm_loss(score, k, p, sigmas)))
    return np.asarray(loss(jax.random.split(key, batches), x.reshape(batches, -1, 2)))


def test_dsm_loss_of_the_exact_score_obeys_tweedies_identity():
    r"""For the exact score, E|σ s*(x̃) + z|² = 2 - E σ²|s*(x̃)|² (d = 2). The left side from
    dsm_loss on 40 batches of 2000 data points; the right side from 100000 independent noisy
    points. |z| < 3.29 with both errors: false failure 1e-3."""
    sigmas = df.noise_levels()
    data = ebm.sample_mixture(jax.random.key(2), RING, 80_000)
    losses = batch_losses(exact_score(RING), jax.random.key(3), data, sigmas, 40)
    k_x, k_level, k_noise = jax.random.split(jax.random.key(4), 3)
    x = ebm.sample_mixture(k_x, RING, 100_000)
    sigma = sigmas[jax.random.randint(k_level, (x.shape[0],), 0, sigmas.shape[0])]
    noisy = x + sigma[:, None] * jax.random.normal(k_noise, x.shape)
    rhs = np.asarray(2.0 - sigma**2 * jnp.sum(df.mixture_score(RING, noisy, sigma) ** 2, axis=-1))
    error = math.hypot(losses.std(ddof=1) / math.sqrt(losses.size), rhs.std(ddof=1) / math.sqrt(rhs.size))
    assert abs(losses.mean() - rhs.mean()) < Z * error, (losses.mean(), rhs.mean(), error)


def test_dsm_loss_penalizes_a_wrong_score_by_its_squared_error():
    r"""Shifting the score by a constant c adds exactly E σ²|c|² = |c|² E[σ²] to the expected
    loss (the cross term E[(σ s* + z)·c σ] vanishes by Tweedie's formula). Same key and data
    for both losses; the difference is compared with the exact value, |z| < 3.29."""
    sigmas = df.noise_levels()
    c = jnp.array([0.3, -0.2])
    data = ebm.sample_mixture(jax.random.key(5), RING, 80_000)
    exact = batch_losses(exact_score(RING), jax.random.key(6), data, sigmas, 40)
    shifted = batch_losses(lambda x, s: df.mixture_score(RING, x, s) + c, jax.random.key(6), data, sigmas, 40)
    diff = shifted - exact
    expected = float(c @ c * jnp.mean(sigmas**2))
    assert abs(diff.mean() - expected) < Z * diff.std(ddof=1) / math.sqrt(diff.size), (diff.mean(), expected)


def test_annealed_langevin_recovers_the_mixture_weights_that_plain_langevin_misses():
    """Two modes at (±1.5, 0), width 0.3, weights 0.25 and 0.75. With the exact score,
    annealed Langevin (12 levels from 4 to 0.05, 100 steps each, ε = 0.3) puts 0.252 of
    8000 samples in the left mode (measured with another key; standard error 0.005):
    the fraction must be within 0.02 of 0.25 (four standard errors). Langevin at the last
    level alone, as many steps from the same start, keeps the split of the starting points
    between the two basins and misses by > 0.1."""
    sigmas = df.noise_levels()
    annealed = df.sample(jax.random.key(7), exact_score(TWO), 8000, sigmas)
    assert abs(float(jnp.mean(annealed[:, 0] < 0)) - 0.25) < 0.02
    plain = df.sample(jax.random.key(7), exact_score(TWO), 8000, sigmas[-1:], 100 * sigmas.shape[0])
    assert float(jnp.mean(plain[:, 0] < 0)) - 0.25 > 0.1
    # the samples sit on the modes: mean log-density within 0.05 nats of the exact -0.992
    reference = float(
        jnp.mean(ebm.mixture_log_density(TWO, ebm.sample_mixture(jax.random.key(8), TWO, 100_000)))
    )
    assert abs(float(jnp.mean(ebm.mixture_log_density(TWO, annealed))) - reference) < 0.05


def test_annealed_langevin_step_is_langevin_at_the_current_level():
    sigmas = jnp.array([2.0, 0.5])
    score = exact_score(RING)
    sampler = df.annealed_langevin(score, sigmas, steps_per_level=3, epsilon=0.2)
    state = sampler.init(jnp.array([0.4, -1.0]))
    for t in range(8):
        key = jax.random.key(t)
        new = sampler.step(key, state)
        sigma = sigmas[min(t // 3, 1)]
        dt = 0.1 * sigma**2
        x = state.position
        expected = x + dt * score(x, sigma) + jnp.sqrt(2 * dt) * jax.random.normal(key, (2,))
        np.testing.assert_allclose(np.asarray(new.position), np.asarray(expected), rtol=1e-13)
        state = new


@pytest.mark.slow
def test_a_trained_score_network_nearly_reaches_the_exact_score():
    """12000 Adam updates (batch 256) on 10000 points of the ring: the held-out DSM loss comes
    within 0.01 of the exact score's (the excess is E σ²|s_θ - s*|²; it starts above 0.4), and
    4000 samples of annealed Langevin with the network score have a mean log-density within
    0.15 nats of the data's own (-2.14; the exact score's sampler gets within 0.05)."""
    sigmas = df.noise_levels().astype(jnp.float32)
    data = ebm.sample_mixture(jax.random.key(10), RING, 10_000).astype(jnp.float32)
    heldout = ebm.sample_mixture(jax.random.key(11), RING, 40_000).astype(jnp.float32)
    model = df.ScoreNetwork(jax.random.key(12), dtype=jnp.float32)  # as in a chapter, and 2x faster
    key = jax.random.key(13)
    before = float(df.dsm_loss(model, key, heldout, sigmas))
    model, losses = df.train_score(jax.random.key(14), model, data, 12_000, sigmas)
    after = float(df.dsm_loss(model, key, heldout, sigmas))
    exact = float(df.dsm_loss(exact_score(RING), key, heldout, sigmas))
    assert before - exact > 0.4 and 0 < after - exact < 0.01, (before, after, exact)
    assert losses.shape == (12_000,)
    samples = df.sample(jax.random.key(15), model, 4000, sigmas)
    reference = float(jnp.mean(ebm.mixture_log_density(RING, heldout)))
    assert abs(float(jnp.mean(ebm.mixture_log_density(RING, samples))) - reference) < 0.15


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: df.train_score(
                jax.random.key(0), df.ScoreNetwork(jax.random.key(0)), jnp.zeros(5), 10, [1.0]
            ),
            "shape",
        ),
        (lambda: df.annealed_langevin(exact_score(RING), jnp.array([1.0]), epsilon=0.0), "epsilon"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
