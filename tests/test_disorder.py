"""physml.disorder: exact transfer-matrix products, and self-averaging measured."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physml import disorder, ising, spins, statmech


@pytest.mark.parametrize("n", [2, 5, 9, 12])
def test_random_chain_matches_enumeration(n):
    J, h = disorder.sample_disorder(jax.random.key(n), n, J_spread=0.8, h_spread=0.7)
    configs = spins.enumerate_spins(n).astype(float)
    energies = -jnp.sum(J[None, :] * configs * jnp.roll(configs, -1, axis=-1), axis=-1) - configs @ h
    for beta in (0.3, 1.7):
        assert float(disorder.random_chain_log_partition(beta, J, h)) == pytest.approx(
            float(statmech.log_partition(energies, beta)), rel=1e-12
        )


def test_uniform_couplings_reduce_to_the_clean_chain():
    n = 1000
    value = disorder.random_chain_log_partition(0.9, jnp.full(n, 1.2), jnp.full(n, 0.4))
    assert float(value) == pytest.approx(float(ising.chain_log_partition(n, 0.9, 1.2, 0.4)), rel=1e-12)


def test_long_chains_and_low_temperature_do_not_overflow():
    J, h = disorder.sample_disorder(jax.random.key(0), 100_000)
    f = disorder.free_energy_density(50.0, disorder.Disorder(J, h))
    assert np.isfinite(float(f))
    # at low T the free energy approaches the ground-state energy per spin, bounded by -mean|J| - mean|h|
    assert float(f) >= float(-jnp.mean(jnp.abs(J)) - jnp.mean(jnp.abs(h))) - 1e-9


@pytest.mark.slow
def test_free_energy_density_is_self_averaging():
    """Sample-to-sample spread of f over 256 disorder samples, for N = 64 ... 4096: the log-log
    slope is -1/2 within 0.08 (the slope's own sampling error is about 0.03)."""
    sizes = np.array([64, 256, 1024, 4096])
    spreads = []
    for i, n in enumerate(sizes):
        sample = disorder.sample_disorder(jax.random.key(100 + i), int(n), samples=256)
        spreads.append(float(jnp.std(disorder.free_energy_density(1.0, sample))))
    slope = np.polyfit(np.log(sizes), np.log(spreads), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.08), slope
