"""physml.ising against exact results: enumeration, transfer matrices, Onsager."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from physml import ising, spins, statmech


@pytest.mark.parametrize("n", [2, 3, 5, 8, 11, 14])
@pytest.mark.parametrize(
    ("beta", "J", "h"), [(0.7, 1.0, 0.3), (1.3, -0.8, 0.5), (0.2, 1.5, -1.0), (2.0, 1.0, 0.0)]
)
def test_transfer_matrix_matches_enumeration(n, beta, J, h):
    energies = ising.chain_energy(spins.enumerate_spins(n), J, h)
    assert float(ising.chain_log_partition(n, beta, J, h)) == pytest.approx(
        float(statmech.log_partition(energies, beta)), rel=1e-12
    )


def test_transfer_matrix_survives_large_beta():
    # ground state all up: E0 = -N (J + h); ln Z -> -beta E0
    value = float(ising.chain_log_partition(20, 1e4, 1.0, 0.1))
    assert value == pytest.approx(1e4 * 20 * 1.1, rel=1e-12)


@pytest.mark.parametrize(("beta", "J", "h"), [(0.5, 1.0, 0.2), (1.0, 0.5, -0.3), (2.0, 1.0, 0.05)])
def test_chain_magnetization_is_minus_df_dh(beta, J, h):
    by_autodiff = -jax.grad(lambda hh: ising.chain_free_energy_density(beta, J, hh))(h)
    assert float(ising.chain_magnetization(beta, J, h)) == pytest.approx(float(by_autodiff), rel=1e-10)


@pytest.mark.parametrize("T", [0.2, 1.0, 5.0])
def test_chain_never_orders_and_has_finite_correlation_length(T):
    assert float(ising.chain_magnetization(1 / T, 1.0, 0.0)) == 0.0
    assert float(ising.chain_correlation_length(1 / T, 1.0)) == pytest.approx(
        -1 / np.log(np.tanh(1 / T)), rel=1e-10
    )


def test_chain_correlation_matches_enumeration():
    n, beta = 14, 0.8
    configs = spins.enumerate_spins(n)
    p = statmech.boltzmann_probabilities(ising.chain_energy(configs, 1.0), beta)
    for r in (1, 2, 3):
        corr = float(jnp.sum(p * configs[:, 0] * configs[:, r]))
        t = np.tanh(beta)
        exact = (t**r + t ** (n - r)) / (1 + t**n)
        assert corr == pytest.approx(exact, rel=1e-10)


def test_lattice_energy_matches_a_loop():
    s = np.asarray(ising.random_spins(jax.random.key(3), 5))
    loop = 0.0
    for i, j in itertools.product(range(5), range(5)):
        loop -= 0.7 * s[i, j] * (s[(i + 1) % 5, j] + s[i, (j + 1) % 5]) + 0.2 * s[i, j]
    assert float(ising.lattice_energy(s, 0.7, 0.2)) == pytest.approx(loop, rel=1e-6)


def test_onsager_values():
    assert ising.ONSAGER_TC == pytest.approx(2.269185314, rel=1e-9)
    assert float(ising.onsager_magnetization(ising.ONSAGER_TC * 1.0001)) == 0.0
    assert float(ising.onsager_magnetization(1.0)) == pytest.approx(0.99927, abs=1e-5)


def exact_level_probabilities(L, beta, J=1.0, h=0.0):
    configs = spins.enumerate_spins(L * L).reshape(-1, L, L)
    energies = np.asarray(ising.lattice_energy(configs, J, h))
    p = np.asarray(statmech.boltzmann_probabilities(energies, beta))
    levels = np.unique(np.round(energies, 6))
    return levels, np.array([p[np.isclose(energies, e)].sum() for e in levels])


def chi2_pvalue(observed_energies, levels, probabilities):
    counts = np.array([np.sum(np.isclose(observed_energies, e)) for e in levels])
    assert counts.sum() == len(observed_energies), "a sample has an energy the lattice cannot have"
    expected = probabilities * counts.sum()
    keep = expected >= 5
    obs = np.r_[counts[keep], counts[~keep].sum()]
    exp = np.r_[expected[keep], expected[~keep].sum()]
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("beta", [0.25, 0.44])
def test_metropolis_samples_the_boltzmann_distribution(beta):
    """χ² test of energy histograms on a 4×4 lattice (checkerboard needs even L) against
    exact enumeration of its 2^16 states. 4000 independent chains, 40 sweeps each, one
    sample per chain. Fixed seed; a correct sampler fails with probability 1e-3."""
    L, chains = 4, 4000
    key_init, key_run = jax.random.split(jax.random.key(11))
    s0 = ising.random_spins(key_init, L, (chains,))
    run = jax.vmap(lambda k, s: ising.metropolis(k, s, beta, 40)[0])
    final = run(jax.random.split(key_run, chains), s0)
    levels, probabilities = exact_level_probabilities(L, beta)
    energies = np.asarray(ising.lattice_energy(final))
    assert chi2_pvalue(energies, levels, probabilities) > 1e-3


def test_metropolis_detects_a_wrong_temperature():
    """The same test has power: samples at beta = 0.44 fail against the beta = 0.40 weights."""
    L, chains = 4, 4000
    s0 = ising.random_spins(jax.random.key(5), L, (chains,))
    final = jax.vmap(lambda k, s: ising.metropolis(k, s, 0.44, 40)[0])(
        jax.random.split(jax.random.key(6), chains), s0
    )
    levels, probabilities = exact_level_probabilities(L, 0.40)
    assert chi2_pvalue(np.asarray(ising.lattice_energy(final)), levels, probabilities) < 1e-3


def test_wolff_samples_the_boltzmann_distribution():
    """χ² test of Wolff energy histograms on a 3×3 lattice against exact enumeration:
    one chain, a sample every 5 cluster flips, 4000 samples. Fixed seed; a correct sampler
    fails with probability 1e-3 (samples this far apart are effectively independent here)."""
    L, beta = 3, 0.4
    s = np.ones((L, L))
    key = jax.random.key(7)
    energies = []
    for i in range(20_000):
        s, _ = ising.wolff_step(jax.random.fold_in(key, i), s, beta)
        if i % 5 == 4:
            energies.append(float(ising.lattice_energy(s)))
    levels, probabilities = exact_level_probabilities(L, beta)
    assert chi2_pvalue(np.array(energies), levels, probabilities) > 1e-3


@pytest.mark.parametrize("L", [2, 3, 4, 5, 7, 8, 9])
def test_sublattices_are_a_proper_colouring(L):
    masks = ising.sublattices(L, L)
    cover = np.sum(masks, axis=0)
    assert np.all(cover == 1), "every site in exactly one colour"
    for mask in masks:
        for shift, axis in ((1, 0), (1, 1)):
            assert not np.any(mask & np.roll(mask, shift, axis)), "two neighbours share a colour"
    assert len(masks) == (2 if L % 2 == 0 else 4)


def test_sublattices_reject_a_lattice_without_neighbours():
    with pytest.raises(ValueError, match="at least 2"):
        ising.sublattices(1, 4)


@pytest.mark.parametrize("beta", [0.3, 0.6])
def test_metropolis_on_a_3x3_lattice_samples_the_boltzmann_distribution(beta):
    """χ² test of the energy histogram on a 3×3 lattice (odd: four colour classes) against
    exact enumeration of its 512 states. 4000 independent chains, 40 sweeps, one sample per
    chain. Fixed seed; a correct sampler fails with probability 1e-3."""
    L, chains = 3, 4000
    key_init, key_run = jax.random.split(jax.random.key(17))
    s0 = ising.random_spins(key_init, L, (chains,))
    final = jax.vmap(lambda k, s: ising.metropolis(k, s, beta, 40)[0])(jax.random.split(key_run, chains), s0)
    levels, probabilities = exact_level_probabilities(L, beta)
    assert chi2_pvalue(np.asarray(ising.lattice_energy(final)), levels, probabilities) > 1e-3


def test_specific_heat_and_susceptibility_match_enumeration():
    """Fluctuation estimators on 200 000 exact Boltzmann draws of a 4×4 lattice at T = 2.5,
    against the exact values; 5 standard errors (batch means over 100 batches): a correct
    estimator fails with probability below 1e-5."""
    L, T, n = 4, 2.5, 16
    configs = spins.enumerate_spins(n).reshape(-1, L, L)
    energy = np.asarray(ising.lattice_energy(configs)) / n
    m = np.asarray(configs.sum(axis=(1, 2))) / n
    p = np.asarray(statmech.boltzmann_probabilities(energy * n, 1 / T))
    exact_c = float(statmech.heat_capacity(energy * n, 1 / T)) / n
    exact_chi = n * (p @ m**2 - (p @ np.abs(m)) ** 2) / T
    draws = np.asarray(jax.random.choice(jax.random.key(23), energy.size, (100, 2000), p=jnp.asarray(p)))
    c = np.asarray(ising.specific_heat(energy[draws], T, n))
    chi = np.asarray(ising.susceptibility(m[draws], T, n))
    for batches, exact in ((c, exact_c), (chi, exact_chi)):
        error = batches.std(ddof=1) / np.sqrt(batches.size)
        assert abs(batches.mean() - exact) < 5 * error, (batches.mean(), exact, error)
        assert error < 0.02 * exact  # sharp enough to mean something


@pytest.mark.slow
@pytest.mark.parametrize("T", [1.5, 2.0])
def test_metropolis_magnetization_matches_onsager_at_L32(T):
    """|m| at L = 32 from 16 independent chains (ordered start, 500 sweeps burn-in, 2000
    measured); error bar from the spread of the chain means; within 3 sigma of Onsager."""
    chains, L = 16, 32
    s0 = jnp.ones((chains, L, L), jnp.float32)
    run = jax.vmap(lambda k, s: ising.metropolis(k, s, 1 / T, 2500)[1].magnetization)
    m = np.abs(np.asarray(run(jax.random.split(jax.random.key(13), chains), s0))[:, 500:])
    means = m.mean(axis=1)
    sigma = means.std(ddof=1) / np.sqrt(chains)
    exact = float(ising.onsager_magnetization(T))
    assert abs(means.mean() - exact) < 3 * sigma + 1e-12, (means.mean(), exact, sigma)
    assert sigma < 2e-3  # the test is sharp enough to mean something


def test_binder_crossing_interpolates():
    t = np.array([1.0, 2.0, 3.0])
    assert ising.binder_crossing(t, [0.5, 0.4, 0.3], [0.6, 0.4 - 1e-9, 0.1]) == pytest.approx(2.0, abs=1e-6)
    assert np.isnan(ising.binder_crossing(t, [0.5, 0.5, 0.5], [0.1, 0.1, 0.1]))  # no crossing


@pytest.mark.slow
def test_binder_crossing_locates_onsager_tc():
    """Binder cumulants of L = 8, 16, 32 (16 replicas x 4000 measured sweeps per temperature,
    fixed seed) cross within 2 % of Onsager's T_c."""
    T = np.linspace(2.1, 2.45, 8)
    U = {
        L: np.asarray(
            ising.binder_cumulant(
                ising.temperature_scan(jax.random.key(L), L, T, 5000, 1000, 16).magnetization
            )
        )
        for L in (8, 16, 32)
    }
    for small, large in ((8, 16), (16, 32)):
        crossing = ising.binder_crossing(T, U[small], U[large])
        assert abs(crossing / ising.ONSAGER_TC - 1) < 0.02, (small, large, crossing)


@pytest.mark.parametrize(
    ("beta", "J", "h"), [(100.0, -4.0, 2.0), (100.0, 5.0, -3.0), (50.0, -1.0, 3.0), (0.3, -0.5, 0.1)]
)
def test_chain_free_energy_is_finite_in_float32(beta, J, h):
    """The scaled eigenvalues keep float32 finite and accurate, antiferromagnets included."""
    single = ising.chain_free_energy_density(np.float32(beta), np.float32(J), np.float32(h))
    assert single.dtype == jnp.float32
    assert float(single) == pytest.approx(float(ising.chain_free_energy_density(beta, J, h)), rel=1e-5)
