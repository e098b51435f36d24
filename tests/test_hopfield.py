"""physml.hopfield against exact results: hand formulas, enumeration, Lyapunov functions,
exact Boltzmann weights, and the Amit–Gutfreund–Sompolinsky capacity."""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from physml import hopfield, spins, statmech


def integer_couplings(patterns) -> np.ndarray:
    """N W with integer entries, in exact integer arithmetic."""
    xi = np.asarray(patterns, dtype=np.int64)
    c = xi.T @ xi
    np.fill_diagonal(c, 0)
    return c


@jax.jit
def single_updates(W, s, sites):
    """The state before each single-spin update, in the order given by `sites`."""
    return jax.lax.scan(lambda x, i: (hopfield.update_spin(W, x, i), x), s, sites)[1]


# Few sizes, many seeds: each size compiles once.
SIZES = st.sampled_from([5, 32])
LOADS = st.sampled_from([1, 4, 9])


def test_hebbian_weights_match_the_hand_formula():
    xi = np.asarray(hopfield.random_patterns(jax.random.key(1), 3, 7))
    W = np.asarray(hopfield.hebbian_weights(xi))
    by_hand = np.zeros((7, 7))
    for i, j in itertools.product(range(7), range(7)):
        if i != j:
            by_hand[i, j] = sum(xi[mu, i] * xi[mu, j] for mu in range(3)) / 7
    np.testing.assert_allclose(W, by_hand, rtol=1e-6, atol=0)
    assert (W == W.T).all()
    assert (np.diag(W) == 0).all()
    assert set(np.unique(xi)) == {-1.0, 1.0}


def test_zero_rows_store_nothing():
    xi = hopfield.random_patterns(jax.random.key(2), 4, 9)
    padded = jnp.concatenate([xi, jnp.zeros((3, 9), xi.dtype)])
    np.testing.assert_array_equal(hopfield.hebbian_weights(padded), hopfield.hebbian_weights(xi))


def test_energy_and_overlap_match_sums():
    xi = hopfield.random_patterns(jax.random.key(3), 2, 6, dtype=jnp.float64)
    W = np.asarray(hopfield.hebbian_weights(xi))
    s = np.asarray(hopfield.random_patterns(jax.random.key(4), 5, 6, dtype=jnp.float64))
    for row in s:
        double_sum = -0.5 * sum(W[i, j] * row[i] * row[j] for i in range(6) for j in range(6))
        assert float(hopfield.energy(W, row)) == pytest.approx(double_sum, rel=1e-12)
        assert float(hopfield.overlap(xi[0], row)) == pytest.approx(np.dot(xi[0], row) / 6, rel=1e-12)
    np.testing.assert_allclose(hopfield.energy(W, s), [hopfield.energy(W, r) for r in s], rtol=1e-12)
    assert float(hopfield.overlap(xi[0], xi[0])) == 1.0
    assert float(hopfield.overlap(xi[0], -xi[0])) == -1.0


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        hopfield.hebbian_weights(jnp.ones(5))
    with pytest.raises(ValueError, match="n >= 1"):
        hopfield.random_patterns(jax.random.key(0), 3, 0)
    W, s = jnp.zeros((4, 4)), jnp.ones(4)
    with pytest.raises(ValueError, match="max_sweeps"):
        hopfield.recall(jax.random.key(0), W, s, max_sweeps=0)
    with pytest.raises(ValueError, match="max_sweeps"):
        hopfield.recall_synchronous(W, s, max_sweeps=0)
    with pytest.raises(ValueError, match="at least one pattern"):
        hopfield.capacity_curve(jax.random.key(0), 100, [0.001, 0.1])
    with pytest.raises(ValueError, match="flips"):
        hopfield.capacity_curve(jax.random.key(0), 100, [0.1], flips=101)


def test_sweep_order_is_a_permutation_and_flip_bits_flips_exactly_k():
    order = np.asarray(hopfield.sweep_order(jax.random.key(5), 50))
    assert sorted(order) == list(range(50))
    s = hopfield.random_patterns(jax.random.key(6), 1, 50)[0]
    flipped = jax.vmap(lambda k: hopfield.flip_bits(jax.random.key(7), s, k))(jnp.arange(51))
    np.testing.assert_array_equal(np.sum(np.asarray(flipped) != np.asarray(s), axis=1), np.arange(51))


@settings(max_examples=40)
@given(n=SIZES, p=LOADS, seed=st.integers(0, 2**31 - 1))
def test_energy_never_increases_under_asynchronous_updates(n, p, seed):
    """After every single update, in exact integer arithmetic (energies scaled by N): the
    change is -2|h_i| N when the spin flips and 0 otherwise."""
    k_pat, k_start, k_order = jax.random.split(jax.random.key(seed), 3)
    xi = hopfield.random_patterns(k_pat, p, n, dtype=jnp.float64)
    W, C = hopfield.hebbian_weights(xi), integer_couplings(xi)
    s = hopfield.random_patterns(k_start, 1, n, dtype=jnp.float64)[0]
    order = hopfield.sweep_order(k_order, n)
    states = np.asarray(single_updates(W, s, jnp.tile(order, 3)), dtype=np.int64)
    scaled_energy = -np.einsum("ti,ij,tj->t", states, C, states)  # 2 N E, an integer
    assert (np.diff(scaled_energy) <= 0).all()
    fields = states @ C  # N h
    sites, t = np.tile(np.asarray(order), 3)[:-1], np.arange(3 * n - 1)
    flipped = states[t + 1, sites] != states[t, sites]
    expected = np.where(flipped, -4 * np.abs(fields[t, sites]), 0)
    np.testing.assert_array_equal(np.diff(scaled_energy), expected)
    # the last sweep ended where async_sweep ends
    end = hopfield.async_sweep(k_order, W, jnp.asarray(states[-2 * n], dtype=jnp.float64))
    np.testing.assert_array_equal(np.asarray(end), states[-n])


@settings(max_examples=40)
@given(n=SIZES, p=LOADS, flips=st.integers(0, 30), seed=st.integers(0, 2**31 - 1))
def test_event_driven_recall_is_repeated_asynchronous_sweeps(n, p, flips, seed):
    """`recall` (fields kept up to date, jumps to the next unstable neuron) visits the same
    states as `async_sweep` called with the same keys; integer couplings make both exact."""
    k_pat, k_flip, k_run = jax.random.split(jax.random.key(seed), 3)
    xi = hopfield.random_patterns(k_pat, p, n, dtype=jnp.float64)
    C = jnp.asarray(integer_couplings(xi), dtype=jnp.float64)
    s = hopfield.flip_bits(k_flip, xi[0], min(flips, n))
    out = hopfield.recall(k_run, C, s, max_sweeps=200)
    key, sweeps, changed = k_run, 0, True
    while changed and sweeps < 200:
        key, sub = jax.random.split(key)
        new = hopfield.async_sweep(sub, C, s)
        changed, s, sweeps = bool(jnp.any(new != s)), new, sweeps + 1
    np.testing.assert_array_equal(np.asarray(out.state), np.asarray(s))
    assert int(out.sweeps) == sweeps
    assert int(out.period) == 1 and bool(hopfield.is_fixed_point(C, out.state))


@pytest.mark.parametrize(("p", "flips"), [(1, 80), (5, 40)])
def test_stored_patterns_are_fixed_points_and_are_retrieved(p, flips):
    """P = 1, and P << N (N = 200, P = 5, fixed key): every pattern is an exact fixed point
    and is recovered exactly (overlap 1) from a copy with 80 (P = 1) or 40 (P = 5) of its
    200 bits flipped."""
    k_pat, k_flip, k_run = jax.random.split(jax.random.key(8), 3)
    xi = hopfield.random_patterns(k_pat, p, 200)
    W = hopfield.hebbian_weights(xi)
    assert bool(jnp.all(hopfield.is_fixed_point(W, xi)))
    for mu in range(p):
        noisy = hopfield.flip_bits(jax.random.fold_in(k_flip, mu), xi[mu], flips)
        assert int(jnp.sum(noisy != xi[mu])) == flips
        out = hopfield.recall(jax.random.fold_in(k_run, mu), W, noisy)
        assert float(hopfield.overlap(xi[mu], out.state)) == 1.0
        assert int(out.period) == 1


def test_one_pattern_more_than_half_flipped_falls_into_its_mirror_image():
    """E(-s) = E(s): with P = 1 the minima are +xi and -xi, and more than N/2 flipped bits
    lead to -xi."""
    xi = hopfield.random_patterns(jax.random.key(9), 1, 200)
    W = hopfield.hebbian_weights(xi)
    out = hopfield.recall(jax.random.key(10), W, hopfield.flip_bits(jax.random.key(11), xi[0], 120))
    assert float(hopfield.overlap(xi[0], out.state)) == -1.0


def test_enumeration_of_a_tiny_network():
    """All 2^10 states of N = 10 with P = 2 (fixed key): stored patterns are strict local
    minima of E; fixed points of the dynamics are exactly the states no single flip lowers;
    recall from every state ends in one. Run on N W (integer couplings, the same dynamics)
    so that every energy difference is exact."""
    n = 10
    xi = hopfield.random_patterns(jax.random.key(12), 2, n, dtype=jnp.float64)
    C = jnp.asarray(integer_couplings(xi), dtype=jnp.float64)
    np.testing.assert_allclose(C, n * hopfield.hebbian_weights(xi), rtol=1e-14)
    states = spins.enumerate_spins(n).astype(jnp.float64)
    E = np.asarray(hopfield.energy(C, states))  # N times the energy
    index = np.arange(2**n)
    # enumerate_spins: spin i is bit n-1-i of the row index
    single_flip = np.stack([E[index ^ (1 << (n - 1 - i))] - E for i in range(n)], axis=1)
    for pattern in np.asarray(xi):
        row = int(np.dot((pattern > 0).astype(int), 1 << np.arange(n - 1, -1, -1)))
        assert (single_flip[row] > 0).all(), "a stored pattern is a strict local minimum"
        assert (single_flip[2**n - 1 - row] > 0).all(), "and so is its mirror image"
    local_minimum = (single_flip >= 0).all(axis=1)
    assert 4 <= local_minimum.sum() < 2**n
    np.testing.assert_array_equal(np.asarray(hopfield.is_fixed_point(C, states)), local_minimum)
    out = jax.vmap(hopfield.recall, in_axes=(0, None, 0))(
        jax.random.split(jax.random.key(13), 2**n), C, states
    )
    assert (np.asarray(out.period) == 1).all()
    assert np.asarray(hopfield.is_fixed_point(C, out.state)).all()
    assert (np.asarray(hopfield.energy(C, out.state)) <= E).all()


def test_synchronous_dynamics_can_cycle_where_asynchronous_settles():
    W = hopfield.hebbian_weights(jnp.array([[1.0, 1.0]]))
    s = jnp.array([1.0, -1.0])
    np.testing.assert_array_equal(hopfield.sync_step(W, s), -s)
    np.testing.assert_array_equal(hopfield.sync_step(W, hopfield.sync_step(W, s)), s)
    out = hopfield.recall_synchronous(W, s)
    assert int(out.period) == 2
    settled = hopfield.recall(jax.random.key(0), W, s)
    assert int(settled.period) == 1
    assert abs(float(hopfield.overlap(jnp.array([1.0, 1.0]), settled.state))) == 1.0


@settings(max_examples=40)
@given(n=SIZES, p=LOADS, seed=st.integers(0, 2**31 - 1))
def test_synchronous_dynamics_ends_in_a_fixed_point_or_a_two_cycle(n, p, seed):
    """L(t) = -s(t+1)^T W s(t) never increases (exact, integer couplings), and the run stops
    with period 1 or 2 (Goles et al. 1985)."""
    k_pat, k_start = jax.random.split(jax.random.key(seed))
    xi = hopfield.random_patterns(k_pat, p, n, dtype=jnp.float64)
    C = jnp.asarray(integer_couplings(xi), dtype=jnp.float64)
    s = hopfield.random_patterns(k_start, 1, n, dtype=jnp.float64)[0]
    trajectory = [np.asarray(s, dtype=np.int64)]
    for _ in range(12):
        trajectory.append(
            np.asarray(hopfield.sync_step(C, jnp.asarray(trajectory[-1], jnp.float64)), np.int64)
        )
    lyapunov = [-a @ np.asarray(C, np.int64) @ b for a, b in itertools.pairwise(trajectory)]
    assert (np.diff(lyapunov) <= 0).all()
    out = hopfield.recall_synchronous(C, s, max_sweeps=500)
    assert int(out.period) in (1, 2)
    if int(out.period) == 2:
        twice = hopfield.sync_step(C, hopfield.sync_step(C, out.state))
        np.testing.assert_array_equal(np.asarray(twice), np.asarray(out.state))


@functools.cache
def glauber_final_states(beta, chains=4000, sweeps=20):
    xi = hopfield.random_patterns(jax.random.key(14), 2, 6, dtype=jnp.float64)
    W = hopfield.hebbian_weights(xi)
    k_start, k_run = jax.random.split(jax.random.key(15))
    s0 = hopfield.random_patterns(k_start, chains, 6, dtype=jnp.float64)
    final, energies = jax.vmap(lambda k, s: hopfield.glauber(k, W, s, beta, sweeps))(
        jax.random.split(k_run, chains), s0
    )
    np.testing.assert_allclose(energies[:, -1], hopfield.energy(W, final), rtol=1e-12, atol=1e-12)
    return W, np.asarray(final)


def state_chi2_pvalue(W, final, beta):
    n = final.shape[1]
    configs = spins.enumerate_spins(n).astype(jnp.float64)
    p = np.asarray(statmech.boltzmann_probabilities(hopfield.energy(W, configs), beta))
    rows = ((final > 0).astype(int) @ (1 << np.arange(n - 1, -1, -1))).astype(int)
    counts = np.bincount(rows, minlength=2**n)
    expected = p * len(rows)
    keep = expected >= 5
    obs, exp = np.r_[counts[keep], counts[~keep].sum()], np.r_[expected[keep], expected[~keep].sum()]
    return stats.chisquare(obs, exp).pvalue


def test_glauber_samples_the_boltzmann_distribution():
    """χ² test of the histogram of all 2^6 states (N = 6, P = 2, beta = 3) against the exact
    Boltzmann weights: 4000 independent chains, 20 sweeps, one sample each. Fixed seed; a
    correct sampler fails with probability 1e-3."""
    W, final = glauber_final_states(3.0)
    assert state_chi2_pvalue(W, final, 3.0) > 1e-3


def test_glauber_test_detects_a_wrong_temperature():
    """The same test has power: samples at beta = 3 fail against the weights at beta = 2.4."""
    W, final = glauber_final_states(3.0)
    assert state_chi2_pvalue(W, final, 2.4) < 1e-3


def test_half_crossing_interpolates():
    a = np.array([0.1, 0.2, 0.3, 0.4])
    assert hopfield.half_crossing(a, [1.0, 0.8, 0.4, 0.1]) == pytest.approx(0.275)
    assert np.isnan(hopfield.half_crossing(a, [1.0, 0.9, 0.8, 0.7]))
    assert hopfield.half_crossing(a, [0.3, 0.2, 0.1, 0.0]) == 0.1


def test_capacity_at_low_load_with_noisy_starts():
    """At alpha = 0.05 almost every pattern is retrieved from 10 % flipped bits."""
    c = hopfield.capacity_curve(jax.random.key(16), 100, [0.03, 0.05], samples=128, flips=10)
    assert c.n_patterns.tolist() == [3, 5]
    assert (c.retrieval >= 0.97).all() and (c.converged == 1).all()
    assert (c.tested >= 128).all()


@pytest.mark.slow
def test_capacity_curve_collapses_near_the_ags_value():
    r"""Retrieval (overlap >= 0.95 after recall from the pattern) against alpha = P/N for
    N = 100, 200, 400, 256 recalls per load, fixed key.

    Measured crossings of 1/2 with these keys: 0.207, 0.194, 0.168 (fit a + b/sqrt(N):
    a = 0.134). Over 12 other keys: 0.212 ± 0.006, 0.190 ± 0.003, 0.173 ± 0.003 (mean ±
    spread), a = 0.134 ± 0.008. The crossings lie above alpha_c = 0.138 by a finite-size
    shift of about 0.72/sqrt(N) (0.74, 0.73, 0.70 times N^{-1/2} on average): at finite N
    the retrieval state survives by fluctuation a little past alpha_c, and the drop is
    smeared over a width that also shrinks like N^{-1/2}. Stated bands: each crossing in
    0.138 + [0.45, 1.0]/sqrt(N) (at least 4 spreads from the means); the extrapolation to
    N -> infinity within 0.138 ± 0.03 (3.5 spreads). Exact fixed points disappear
    earlier, and earlier for larger N (all N bits must be stable at once).
    """
    alphas = np.arange(0.08, 0.2601, 0.01)
    sizes = np.array([100, 200, 400])
    crossings, fixed = [], []
    for n in sizes:
        c = hopfield.capacity_curve(jax.random.key(int(n)), int(n), alphas, samples=256)
        assert (c.converged == 1).all()
        assert c.retrieval[0] >= 0.95 and c.retrieval[-1] <= 0.4
        crossings.append(hopfield.half_crossing(c.alpha, c.retrieval))
        fixed.append(hopfield.half_crossing(c.alpha, c.fixed_point))
    crossings, fixed = np.array(crossings), np.array(fixed)
    shift = (crossings - hopfield.AGS_ALPHA_C) * np.sqrt(sizes)
    assert ((shift > 0.45) & (shift < 1.0)).all(), crossings
    assert (np.diff(crossings) < 0).all()
    _, intercept = np.polyfit(1 / np.sqrt(sizes), crossings, 1)
    assert abs(intercept - hopfield.AGS_ALPHA_C) < 0.03, intercept
    assert (fixed < crossings).all() and (np.diff(fixed) < 0).all(), fixed
