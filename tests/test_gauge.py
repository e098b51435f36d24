"""physml.gauge: gauge invariance and the lattice Stokes theorem exactly, the torus formulas
against closed forms and quadrature, the Metropolis sampler against them statistically, and
the L-CNN against a complex reference and hand-set weights that build Wilson loops."""

from __future__ import annotations

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from physml import gauge as G

ATOL = 1e-12


def links(seed: int, L: int, batch: tuple[int, ...] = ()) -> jax.Array:
    """Random link angles from NumPy (a new shape of jax.random draw costs a compilation)."""
    return jnp.asarray(np.random.default_rng(seed).uniform(-np.pi, np.pi, (*batch, 2, L, L)))


def close(a, b, atol=ATOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=atol)


# ------------------------------------------------------------------------------ the lattice


def test_cold_start_has_zero_action_and_unit_loops():
    theta = G.cold_links(6)
    assert theta.shape == (2, 6, 6)
    assert float(G.wilson_action(theta, 2.5)) == 0.0
    close(G.wilson_loop(theta, 3, 2), np.ones((6, 6)))
    assert float(G.topological_charge(theta)) == 0.0


def test_loops_action_and_charge_are_gauge_invariant():
    L = 5
    theta, alpha = links(0, L, (3,)), links(1, L, (3,))[:, 0]
    moved = G.gauge_transform(theta, alpha)
    assert float(jnp.max(jnp.abs(moved - theta))) > 1.0  # the links do change
    assert float(jnp.max(jnp.abs(moved))) <= np.pi
    for R, T in [(1, 1), (2, 3), (L, 1)]:
        close(G.wilson_loop(moved, R, T), G.wilson_loop(theta, R, T))
    close(G.wilson_action(moved, 1.3), G.wilson_action(theta, 1.3))
    close(G.topological_charge(moved), G.topological_charge(theta))
    close(G.staples(moved) * jnp.exp(1j * moved), G.staples(theta) * jnp.exp(1j * theta))


def test_random_gauge_and_links_are_uniform_angles(key):
    alpha, theta = G.random_gauge(key, 5), G.random_links(key, 5)
    assert alpha.shape == (5, 5) and theta.shape == (2, 5, 5)
    assert float(jnp.min(theta)) >= -np.pi and float(jnp.max(theta)) < np.pi


def test_small_loops_are_products_of_plaquettes():
    theta = links(2, 5)
    p = G.plaquette_angles(theta)
    up = lambda f: jnp.roll(f, -1, axis=-1)  # f(x + 2)
    right = lambda f: jnp.roll(f, -1, axis=-2)  # f(x + 1)
    close(G.wilson_loop_angle(theta, 1, 2), p + up(p))
    close(G.wilson_loop_angle(theta, 2, 1), p + right(p))
    close(G.wilson_loop(theta, 2, 2), jnp.exp(1j * (p + up(p) + right(p) + right(up(p)))))
    expected = theta[0] + right(theta[1]) - up(theta[0]) - theta[1]
    close(p, expected)
    close(jnp.sum(p), 0.0)  # every link enters two plaquettes, once each way


@settings(max_examples=12)
@given(L=st.integers(1, 6), R=st.integers(1, 6), T=st.integers(1, 6), seed=st.integers(0, 9))
def test_stokes_theorem_on_the_lattice(L, R, T, seed):
    R, T = min(R, L), min(T, L)
    theta = links(seed, L)
    p = np.asarray(G.plaquette_angles(theta))
    inside = sum(np.roll(p, (-k, -l), axis=(0, 1)) for k in range(R) for l in range(T))
    close(G.wilson_loop_angle(theta, R, T), inside, atol=1e-11)


@pytest.mark.parametrize("mu", [1, 2, -1, -2])
def test_transport_is_covariant(mu):
    L = 5
    theta, alpha = links(3, L), links(4, L)[0]
    phi = links(5, L, (3,))[:, 0] * jnp.exp(1j * links(6, L, (3,))[:, 1])
    for charge in (1, -2, 3):
        omega = jnp.exp(1j * charge * alpha)[None]
        moved = G.transport(G.gauge_transform(theta, alpha), omega * phi, mu, charge)
        close(moved, omega * G.transport(theta, phi, mu, charge))
        close(G.transport(theta, G.transport(theta, phi, mu, charge), -mu, charge), phi)


def test_transport_around_a_plaquette_is_the_holonomy():
    theta, q = links(7, 4), 2
    phi = jnp.exp(1j * links(8, 4)[0])
    around = phi
    for mu in (-2, -1, 2, 1):
        around = G.transport(theta, around, mu, q)
    close(around, jnp.exp(1j * q * G.plaquette_angles(theta)) * phi)
    close(G.transport(theta, phi, 2, charge=0), jnp.roll(phi, -1, axis=1))


# --------------------------------------------------------------------------- exact results


@pytest.mark.parametrize("beta", [0.3, 1.0, 3.0, 7.5])
def test_torus_formulas_against_closed_forms(beta):
    # V = 2: the plaquettes are opposite; Neumann's addition theorem gives I_1(2b)/I_0(2b).
    close(G.mean_plaquette_exact(beta, 2), special.iv(1, 2 * beta) / special.iv(0, 2 * beta))
    # the formula of the brief, summed directly
    V, n = 9, np.arange(-60, 61)
    I = special.iv(n, beta)
    direct = np.sum(I ** (V - 1) * (special.iv(n - 1, beta) + special.iv(n + 1, beta)) / 2) / np.sum(I**V)
    close(G.mean_plaquette_exact(beta, V), direct)
    # <cos> = (1/V) d ln Z / d beta, by a central difference of ln sum_n I_n^V
    h = 1e-5
    lnZ = lambda b: np.log(np.sum(special.iv(n, b) ** V))
    close(G.mean_plaquette_exact(beta, V), (lnZ(beta + h) - lnZ(beta - h)) / (2 * h) / V, atol=1e-9)
    close(G.mean_plaquette_exact(beta), special.iv(1, beta) / special.iv(0, beta))
    close(G.wilson_loop_exact(beta, 2, 3), (special.iv(1, beta) / special.iv(0, beta)) ** 6)


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_torus_of_three_plaquettes_by_quadrature(beta):
    # V = 3: theta_3 = -(theta_1 + theta_2); the periodic trapezoid rule is spectrally exact.
    t = 2 * np.pi * np.arange(96) / 96
    t1, t2 = np.meshgrid(t, t, indexing="ij")
    w = np.exp(beta * (np.cos(t1) + np.cos(t2) + np.cos(t1 + t2)))
    close(G.mean_plaquette_exact(beta, 3), np.sum(np.cos(t1) * w) / np.sum(w))
    close(G.wilson_loop_exact(beta, 1, 2, 3), np.sum(np.cos(t1 + t2) * w) / np.sum(w))


def test_loop_exact_limits_and_symmetries():
    betas = np.array([0.0, 0.4, 1.7, 3.0])
    close(G.wilson_loop_exact(betas, 4, 4, volume=16), np.ones(4))  # the whole torus: W = 1
    close(G.wilson_loop_exact(betas, 1, 3, 16), G.wilson_loop_exact(betas, 13, 1, 16))  # A <-> V - A
    close(G.wilson_loop_exact(betas, 2, 3, 10**6), G.wilson_loop_exact(betas, 2, 3), atol=1e-12)
    close(G.mean_plaquette_exact(0.0, 16), 0.0)
    assert G.mean_plaquette_exact(betas).shape == (4,)
    assert np.all(np.diff(G.wilson_loop_exact(betas[1:], 2, 2, 64)) > 0)


# ------------------------------------------------------------------------------ the sampler


def test_checkerboard_sets_partition_the_links_and_share_no_plaquette():
    L = 6
    masks = G._checkerboard(L)
    assert np.array_equal(masks.sum(axis=0), np.ones((2, L, L), dtype=int))
    for mask in masks:  # count, for each plaquette, the updated links it holds
        m = mask.astype(int)
        count = m[0] + np.roll(m[1], -1, axis=0) + np.roll(m[0], -1, axis=1) + m[1]
        assert count.max() == 1


@pytest.mark.parametrize("mu, site", [(0, (2, 3)), (1, (0, 3)), (1, (3, 0))])
def test_staples_give_the_local_action(mu, site):
    theta, beta = links(9, 4), 1.7
    for delta in (0.3, -2.0):
        moved = theta.at[(mu, *site)].add(delta)
        dS = G.wilson_action(moved, beta) - G.wilson_action(theta, beta)
        U, U_new = (jnp.exp(1j * t[(mu, *site)]) for t in (theta, moved))
        V = G.staples(theta)[(mu, *site)]
        close(dS, -beta * jnp.real((U_new - U) * V), atol=1e-12)


def test_overrelaxation_keeps_the_action_and_moves_the_links():
    theta = links(10, 4, (2,))
    new = G.overrelax(theta)
    close(G.wilson_action(new, 1.0), G.wilson_action(theta, 1.0), atol=1e-11)
    assert float(jnp.max(jnp.abs(jnp.exp(1j * new) - jnp.exp(1j * theta)))) > 0.5
    # each reflection is an involution: reflecting the last set again undoes it
    masks = jnp.asarray(G._checkerboard(4))
    once, _ = G._reflect(theta, masks[0])
    close(jnp.exp(1j * G._reflect(once, masks[0])[0]), jnp.exp(1j * theta))


def test_one_chain_by_hand(key):
    sampler = G.metropolis(1.0, step_size=0.5)
    chain = sampler.init(G.cold_links(4))
    step = jax.jit(sampler.step)
    for k in jax.random.split(key, 3):
        chain = step(k, chain)
    assert int(chain.proposed) == 3 * 2 * 16
    assert 0 < int(chain.accepted) < 96
    assert float(G.wilson_action(chain.theta, 1.0)) > 0
    again = G.metropolis(1.0, step_size=0.5).init(G.cold_links(4))
    for k in jax.random.split(key, 3):
        again = step(k, again)
    assert np.array_equal(np.asarray(again.theta), np.asarray(chain.theta))  # deterministic given keys


def chain_means(samples, n_chains, n_per_beta):
    """Each chain's average of cos(theta_P) over its configurations and sites."""
    c = jnp.mean(jnp.cos(G.plaquette_angles(samples.theta)), axis=(-2, -1))
    return np.asarray(c).reshape(n_chains, n_per_beta).mean(axis=1)


def t_statistic(means, value):
    """(mean - value) / standard error over i.i.d. chain means: Student-t under the null."""
    return (means.mean() - value) / (means.std(ddof=1) / np.sqrt(len(means)))


@pytest.mark.slow
def test_sampler_reproduces_the_torus_plaquette_on_4x4():
    """96 independent chains a beta, each the mean of 12 configurations: the chain means are
    i.i.d., so t = (mean - exact) / standard error is Student-t with 95 degrees of freedom, and
    |t| < 4 fails by chance with probability 1.2e-4 a beta (5e-4 for the four betas)."""
    betas, chains, n = (0.0, 0.5, 1.5, 3.0), 96, 12
    s = G.sample_configurations(jax.random.key(11), 4, np.repeat(betas, chains), n, n_thermal=60)
    assert s.theta.shape == (len(betas) * chains * n, 2, 4, 4)
    close(s.beta[:: chains * n], betas)
    means = chain_means(s, len(betas) * chains, n).reshape(len(betas), chains)
    acceptance = np.asarray(s.acceptance).reshape(len(betas), chains).mean(axis=1)
    assert acceptance[0] == 1.0  # Delta S = 0: every proposal is accepted
    assert 0.95 > acceptance[1] > acceptance[2] > acceptance[3] > 0.4
    assert abs(t_statistic(means[0], 0.0)) < 4  # beta = 0: uniform links
    for beta, m in zip(betas[1:], means[1:], strict=True):
        t = t_statistic(m, G.mean_plaquette_exact(beta, 16))
        assert abs(t) < 4, (beta, m.mean(), t)


def plaquette_cdf(beta, volume, grid):
    """The exact distribution of one plaquette angle on a torus of ``volume`` plaquettes:
    p(t) ∝ exp(beta cos t) sum_n I_n(beta)^(V-1) cos(n t), the others integrated out under
    the constraint (a convolution of V - 1 factors exp(beta cos))."""
    n = np.arange(-40, 41)
    density = np.exp(beta * np.cos(grid)) * np.sum(
        special.iv(n, beta)[:, None] ** (volume - 1) * np.cos(np.outer(n, grid)), axis=0
    )
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    return cdf / cdf[-1]


def test_sampler_on_2x2_torus_sees_the_constraint_and_the_distribution():
    """On the 2×2 torus the constraint prod U_P = 1 moves <cos theta_P> by 0.08 (beta = 2) and
    0.05 (beta = 3) from the open-boundary value I_1/I_0. 256 chains a beta, 8 configurations
    each: the torus value passes |t| < 4 (false failure 1.5e-4 a beta), and the open-boundary
    value, about 17 standard errors away, fails |t| > 5. The last plaquette angle of each chain
    is tested against the exact density by Kolmogorov–Smirnov at p > 1e-3 (false failure 1e-3
    a beta). In all about 2.3e-3."""
    betas, chains, n = (2.0, 3.0), 256, 8
    s = G.sample_configurations(jax.random.key(12), 2, np.repeat(betas, chains), n, n_thermal=100)
    means = chain_means(s, len(betas) * chains, n).reshape(len(betas), chains)
    last = G.plaquette_angles(s.theta.reshape(len(betas), chains, n, 2, 2, 2)[:, :, -1])[..., 0, 0]
    last = np.asarray(jnp.mod(last + np.pi, 2 * np.pi) - np.pi)
    grid = np.linspace(-np.pi, np.pi, 40001)
    for beta, m, x in zip(betas, means, last, strict=True):
        assert abs(t_statistic(m, G.mean_plaquette_exact(beta, 4))) < 4
        assert abs(t_statistic(m, G.mean_plaquette_exact(beta))) > 5
        cdf = plaquette_cdf(beta, 4, grid)
        assert stats.kstest(x, lambda v, cdf=cdf: np.interp(v, grid, cdf)).pvalue > 1e-3


# ------------------------------------------------------------------------------ the networks


def lcnn_reference(model, theta):
    """The L-CNN's fields in complex arithmetic, straight from the equations."""
    up = jnp.exp(1j * G.plaquette_angles(theta))
    w = jnp.stack([up, jnp.conj(up)])
    for conv, bilinear in zip(model.convs, model.bilinears, strict=True):
        shifts = [w, *(jnp.roll(w, s, axis=a) for a in (1, 2) for s in (-1, 1))]  # 0, +1, -1, +2, -2
        w = jnp.einsum("ijs,jsxy->ixy", conv[0] + 1j * conv[1], jnp.stack(shifts, axis=1))
        w = jnp.concatenate([jnp.ones_like(w[:1]), w])
        w = jnp.einsum("ijk,jxy,kxy->ixy", bilinear[0] + 1j * bilinear[1], w, w)
    return w


def test_lcnn_matches_the_complex_equations_and_is_gauge_invariant(key):
    model = G.LCNN((3, 2), key=key)
    theta = links(11, 6)
    close(eqx.filter_jit(model.features)(theta), jax.jit(lcnn_reference)(model, theta))
    assert float(G.invariance_error(jax.random.key(1), model, theta, n_transforms=3)) < 1e-12
    out = G.predict(model, jnp.stack([jnp.roll(theta, k, axis=-1) for k in range(4)]))
    close(out[1:], out[:1].repeat(3))  # and translation invariant


def test_lcnn_in_float32_is_invariant_to_rounding(key):
    model = jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a, G.LCNN(key=key))
    change = G.invariance_error(jax.random.key(2), model, links(12, 6).astype(jnp.float32))
    assert change.dtype == jnp.float32 and float(change) < 1e-5


def set_weights(model, layer, conv, bilinear):
    """Real weights ``conv`` (C, C_in, 5) and ``bilinear`` (C, C + 1, C + 1) for one layer."""
    model = eqx.tree_at(lambda m: m.convs[layer], model, jnp.zeros_like(model.convs[layer]).at[0].set(conv))
    zero = jnp.zeros_like(model.bilinears[layer])
    return eqx.tree_at(lambda m: m.bilinears[layer], model, zero.at[0].set(bilinear))


def test_lcnn_builds_wilson_loops_from_plaquettes(key):
    theta = links(13, 6)
    conv = jnp.zeros((2, 2, 5)).at[0, 0, 0].set(1.0).at[1, 0, 3].set(1.0)  # P(x), P(x + 2)
    bilinear = jnp.zeros((2, 3, 3)).at[0, 1, 2].set(1.0)  # channel 0 = P(x) P(x + 2)
    one = set_weights(G.LCNN((2,), key=key), 0, conv, bilinear)
    close(eqx.filter_jit(one.features)(theta)[0], G.wilson_loop(theta, 1, 2))
    conv2 = jnp.zeros((2, 2, 5)).at[0, 0, 0].set(1.0).at[1, 0, 1].set(1.0)  # W(x), W(x + 1)
    two = set_weights(set_weights(G.LCNN((2, 2), key=key), 0, conv, bilinear), 1, conv2, bilinear)
    readout = eqx.tree_at(lambda l: (l.weight, l.bias), two.readout, (jnp.eye(1, 4), jnp.zeros(1)))
    two = eqx.tree_at(lambda m: m.readout, two, readout)  # the site mean of Re channel 0
    close(G.predict(two, theta[None])[0], jnp.mean(G.wilson_loop(theta, 2, 2).real))


def test_plain_cnn_is_equinox_conv_and_not_gauge_invariant(key):
    model = G.PlainCNN(key=key)
    theta = links(14, 6)

    def reference(model, theta):  # equinox's own circular convolutions
        x = jnp.concatenate([jnp.cos(theta), jnp.sin(theta)])
        for conv in model.convs:
            x = jnp.tanh(conv(x))
        return model.readout(jnp.mean(x, axis=(1, 2)))

    out = G.predict(model, jnp.stack([jnp.roll(theta, (k, 3 * k), axis=(-2, -1)) for k in range(4)]))
    close(out[0], eqx.filter_jit(reference)(model, theta))
    close(out[1:], out[:1].repeat(3))  # translation invariant
    assert float(G.invariance_error(jax.random.key(3), model, theta, n_transforms=3)) > 1e-3


@pytest.mark.slow
def test_training_fits_and_is_deterministic():
    theta = links(15, 4, (32,))
    y = jnp.mean(G.wilson_loop(theta, 1, 2).real, axis=(-2, -1))
    model, losses = G.train_regressor(jax.random.key(0), "lcnn", theta, y, steps=200)
    assert losses.shape == (200,) and float(losses[-1]) < 1e-2 * float(losses[0])
    _, losses_again = G.train_regressor(jax.random.key(0), "lcnn", theta, y, steps=200)
    assert np.array_equal(np.asarray(losses), np.asarray(losses_again))
    np.testing.assert_allclose(float(G.regression_error(model, theta, y) ** 2), float(losses[-1]), rtol=1e-4)
    cnn, cnn_losses = G.train_regressor(jax.random.key(0), "cnn", theta[:4], y[:4], steps=20)
    assert float(cnn_losses[-1]) < float(cnn_losses[0]) and isinstance(cnn, G.PlainCNN)


def test_padding_with_zero_weights_changes_nothing_but_rounding():
    theta = links(16, 4, (6,))
    y = jnp.mean(G.wilson_loop(theta, 1, 2).real, axis=(-2, -1))
    plain, losses = G.train_regressor(jax.random.key(0), "cnn", theta, y, steps=30)
    padded, padded_losses = G.train_regressor(jax.random.key(0), "cnn", theta, y, steps=30, pad_to=16)
    np.testing.assert_allclose(np.asarray(padded_losses), np.asarray(losses), rtol=1e-9)
    np.testing.assert_allclose(
        np.asarray(G.predict(padded, theta)), np.asarray(G.predict(plain, theta)), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("n", [1, 5, 32, 33, 70])
def test_predict_in_blocks_equals_one_vmap(n):
    """predict() evaluates 32 configurations at a time, padding the last block: the same outputs
    as the whole batch at once, for any number of configurations."""
    theta = links(40, 4, (n,))
    for model in (G.LCNN(key=jax.random.key(1)), G.PlainCNN(key=jax.random.key(2))):
        whole = jax.jit(jax.vmap(model))(theta)
        out = G.predict(model, theta)
        assert out.shape == (n,) and out.dtype == whole.dtype
        np.testing.assert_allclose(np.asarray(out), np.asarray(whole), rtol=1e-12, atol=1e-14)
        traced = jax.jit(G.predict)(model, theta)  # inside a traced function: one piece
        np.testing.assert_allclose(np.asarray(traced), np.asarray(whole), rtol=1e-12, atol=1e-14)


def test_predict_compiles_one_program_for_every_number_of_configurations(caplog):
    model = G.PlainCNN((3,), key=jax.random.key(5))  # a shape that no other test compiles
    theta = links(41, 4, (70,))
    with jax.log_compiles(), caplog.at_level(logging.WARNING):
        for n in (1, 33, 70, 5):
            G.predict(model, theta[:n])
    compiled = [
        r.getMessage()
        for r in caplog.records
        if "Finished XLA compilation of jit(_predict)" in r.getMessage()
    ]
    assert len(compiled) == 1, compiled


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: G.random_links(jax.random.key(0), 0), "L must be"),
        (lambda: G.cold_links(2.0), "L must be"),
        (lambda: G.plaquette_angles(jnp.zeros((3, 4, 4))), r"shape \(\.\.\., 2, L, L\)"),
        (lambda: G.plaquette_angles(jnp.zeros((2, 4, 5))), "shape"),
        (lambda: G.plaquette_angles(jnp.zeros((2, 4, 4)) * 1j), "real link angles"),
        (lambda: G.plaquette_angles(jnp.full((2, 4, 4), jnp.nan)), "NaN"),
        (lambda: G.gauge_transform(jnp.zeros((2, 4, 4)), jnp.zeros((4, 5))), "alpha must have shape"),
        (lambda: G.wilson_loop(jnp.zeros((2, 4, 4)), 0, 1), "R must be an integer in"),
        (lambda: G.wilson_loop(jnp.zeros((2, 4, 4)), 1, 5), "T must be an integer in"),
        (lambda: G.wilson_action(jnp.zeros((2, 4, 4)), -1.0), "beta must be"),
        (lambda: G.transport(jnp.zeros((2, 4, 4)), jnp.ones((4, 4)), 3), "mu must be one of"),
        (lambda: G.transport(jnp.zeros((2, 4, 4)), jnp.ones((4, 4)), 1, 0.5), "charge an integer"),
        (lambda: G.transport(jnp.zeros((2, 4, 4)), jnp.ones((3, 3)), 1), "phi must have shape"),
        (lambda: G.transport(jnp.zeros((3, 2, 4, 4)), jnp.ones((4, 4)), 1), r"shape \(2, L, L\)"),
        (lambda: G.wilson_loop_exact(-1.0, 1, 1), "beta must be"),
        (lambda: G.wilson_loop_exact([1.0, np.inf], 1, 1), "beta must be"),
        (lambda: G.wilson_loop_exact(1.0, 2, 2, volume=3), "volume must be"),
        (lambda: G.mean_plaquette_exact("hot"), "beta must be"),
        (lambda: G.metropolis(1.0, step_size=0.0), "step_size must be"),
        (lambda: G.metropolis(1.0, n_overrelax=-1), "n_overrelax must be"),
        (lambda: G.metropolis(1.0).init(jnp.zeros((2, 3, 3))), "even L"),
        (lambda: G.metropolis(jnp.ones(3)).init(jnp.zeros((2, 2, 4, 4))), "shape"),
        (lambda: G.overrelax(jnp.zeros((2, 5, 5))), "even L"),
        (lambda: G.sample_configurations(jax.random.key(0), 5, [1.0], 2), "L must be an even"),
        (lambda: G.sample_configurations(jax.random.key(0), 4, [], 2), "non-empty"),
        (lambda: G.sample_configurations(jax.random.key(0), 4, [-1.0], 2), "betas must be"),
        (lambda: G.sample_configurations(jax.random.key(0), 4, [1.0], 0), "n_per_beta must be"),
        (lambda: G.sample_configurations(jax.random.key(0), 4, [1.0], 2, step_size=[1.0, 2.0]), "step_size"),
        (lambda: G.LCNN((), key=jax.random.key(0)), "channels must be"),
        (lambda: G.PlainCNN((4, 0), key=jax.random.key(0)), "channels must be"),
        (lambda: G.invariance_error(jax.random.key(0), "model", jnp.zeros((2, 4, 4))), "LCNN or a PlainCNN"),
        (lambda: G.predict(G.LCNN(key=jax.random.key(0)), jnp.zeros((0, 2, 4, 4))), "no configuration"),
        (lambda: G.predict(G.LCNN(key=jax.random.key(0)), jnp.zeros((2, 4, 4))), r"shape \(n, 2, L, L\)"),
        (
            lambda: G.train_regressor(jax.random.key(0), "mlp", jnp.zeros((2, 2, 4, 4)), [0, 1]),
            "kind must be",
        ),
        (lambda: G.train_regressor(jax.random.key(0), "lcnn", jnp.zeros((2, 4, 4)), [0, 1]), "configs must"),
        (lambda: G.train_regressor(jax.random.key(0), "lcnn", jnp.zeros((2, 2, 4, 4)), [0]), "targets must"),
        (lambda: G.train_regressor(jax.random.key(0), "cnn", jnp.zeros((2, 2, 4, 4)), [1, 1]), "different"),
        (
            lambda: G.train_regressor(jax.random.key(0), "cnn", jnp.zeros((2, 2, 4, 4)), [0, 1], steps=0),
            "steps",
        ),
        (
            lambda: G.train_regressor(jax.random.key(0), "cnn", jnp.zeros((3, 2, 4, 4)), [0, 1, 2], pad_to=2),
            "pad_to must be at least",
        ),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
