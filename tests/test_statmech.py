"""physml.statmech and physml.spins against exact results."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from physml import spins, statmech


@pytest.mark.parametrize("n", [1, 3, 8, 12])
@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 7.5])
@pytest.mark.parametrize("B", [1.0, -0.4])
def test_paramagnet_partition_function_by_enumeration(n, beta, B):
    energies = spins.paramagnet_energy(spins.enumerate_spins(n), B)
    exact = n * np.log(2 * np.cosh(beta * B))
    assert float(statmech.log_partition(energies, beta)) == pytest.approx(exact, rel=1e-12, abs=1e-12)
    assert float(spins.paramagnet_log_partition(n, beta, B)) == pytest.approx(exact, rel=1e-12, abs=1e-12)


def test_enumeration_is_every_configuration_once():
    configs = np.asarray(spins.enumerate_spins(10))
    assert configs.shape == (1024, 10)
    assert set(np.unique(configs)) == {-1, 1}
    assert len({row.tobytes() for row in configs}) == 1024
    assert (configs[0] == -1).all() and (configs[-1] == 1).all()


def test_enumeration_rejects_bad_sizes():
    with pytest.raises(ValueError, match="between 0 and"):
        spins.enumerate_spins(-1)
    with pytest.raises(ValueError, match="between 0 and"):
        spins.enumerate_spins(40)


@pytest.mark.parametrize("beta", [1e2, 1e3, 1e4])
def test_no_overflow_at_large_beta(beta):
    energies = spins.paramagnet_energy(spins.enumerate_spins(8), 1.0)
    log_z = statmech.log_partition(energies, beta)
    # ln Z = 8 beta + 8 ln(1 + e^{-2 beta}) -> 8 beta.
    assert float(log_z) == pytest.approx(8 * beta, rel=1e-12)
    p = statmech.boltzmann_probabilities(energies, beta)
    assert np.isfinite(np.asarray(p)).all()
    assert float(p[-1]) == pytest.approx(1.0, abs=1e-12)
    assert float(statmech.free_energy(energies, beta)) == pytest.approx(-8.0, rel=1e-12)


def test_the_chapters_numbers():
    energies = spins.paramagnet_energy(spins.enumerate_spins(8), 1.0)
    log_z = statmech.log_partition(energies, 1.0)
    assert float(jnp.exp(6.0 - log_z)) == pytest.approx(np.exp(6) / (2 * np.cosh(1)) ** 8, rel=1e-12)
    assert round(float(jnp.exp(6.0 - log_z)), 3) == 0.049
    assert f"{float(jnp.exp(-log_z)):.1e}" == "1.2e-04"


@given(
    energies=st.lists(st.floats(-50, 50), min_size=1, max_size=30),
    beta=st.floats(0, 100),
)
def test_probabilities_are_a_distribution(energies, beta):
    p = np.asarray(statmech.boltzmann_probabilities(jnp.array(energies), beta))
    assert (p >= 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # lower energy is never less likely
    order = np.argsort(energies, kind="stable")
    assert (np.diff(p[order]) <= 1e-15 + 1e-12 * p[order][:-1]).all()


@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_mean_energy_is_minus_derivative_of_log_z(beta):
    energies = spins.paramagnet_energy(spins.enumerate_spins(6), 0.7)
    by_autodiff = -jax.grad(lambda b: statmech.log_partition(energies, b))(beta)
    by_sum = statmech.mean_energy(energies, beta)
    exact = -6 * 0.7 * np.tanh(beta * 0.7)
    assert float(by_autodiff) == pytest.approx(exact, rel=1e-12)
    assert float(by_sum) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0, 50.0])
def test_entropy_and_heat_capacity_of_free_spins(beta):
    n, B = 7, 0.8
    energies = spins.paramagnet_energy(spins.enumerate_spins(n), B)
    p = np.asarray(statmech.boltzmann_probabilities(energies, beta))
    by_sum = -np.sum(p[p > 0] * np.log(p[p > 0]))
    y = beta * B
    exact_s = n * (np.log(2 * np.cosh(y)) - y * np.tanh(y))
    exact_c = n * (y / np.cosh(y)) ** 2
    assert float(statmech.entropy(energies, beta)) == pytest.approx(exact_s, rel=1e-9, abs=1e-9)
    assert by_sum == pytest.approx(exact_s, rel=1e-9, abs=1e-9)
    assert float(statmech.heat_capacity(energies, beta)) == pytest.approx(exact_c, rel=1e-9, abs=1e-12)
    second = jax.grad(jax.grad(lambda b: statmech.log_partition(energies, b)))(beta)
    assert float(beta**2 * second) == pytest.approx(exact_c, rel=1e-7, abs=1e-12)
    if beta > 0:
        F = float(statmech.free_energy(energies, beta))
        assert float(statmech.entropy(energies, beta)) == pytest.approx(
            beta * (float(statmech.mean_energy(energies, beta)) - F), rel=1e-9, abs=1e-9
        )
    assert float(statmech.free_entropy(energies, beta)) == pytest.approx(
        n * np.log(2 * np.cosh(y)), rel=1e-12
    )


def test_entropy_limits():
    energies = spins.paramagnet_energy(spins.enumerate_spins(5), 1.0)
    assert float(statmech.entropy(energies, 0.0)) == pytest.approx(5 * np.log(2), rel=1e-12)
    assert float(statmech.entropy(energies, 1e4)) == pytest.approx(0.0, abs=1e-12)
