"""physml.nqs.exact against exact results: the free-fermion solution of the TFIM chain, dense
diagonalization, perturbation theory, Hellmann–Feynman, SU(2) symmetry, the variational
principle and the reference energies of the chapter."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from physml.nqs import exact, lattice, operators

# ------------------------------------------------------------ the free-fermion closed form


@pytest.mark.parametrize("n", range(6, 17))
@pytest.mark.parametrize("h", [0.5, 1.0, 2.0])
def test_lanczos_matches_the_free_fermion_closed_form(n, h):
    """Lanczos on all 2^N states vs E_0 = -sum_k sqrt(J^2 + h^2 - 2Jh cos k) over the
    antiperiodic momenta, below, at and above the critical field."""
    energy = exact.ground_state(operators.tfim(lattice.chain(n), J=1.0, h=h)).energy
    assert energy == pytest.approx(exact.tfim_chain_energy(n, 1.0, h), rel=0, abs=1e-10)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 9])
@pytest.mark.parametrize(("J", "h"), [(-1.0, 0.3), (-0.4, 1.0), (0.7, -1.5), (1.0, 0.0)])
def test_closed_form_for_odd_chains_negative_couplings_and_fields(n, J, h):
    """Odd N (the unpaired k = pi mode), an antiferromagnetic J (frustrated for odd N), h < 0, h = 0."""
    energy = exact.dense_ground_state(operators.tfim(lattice.chain(n), J=J, h=h)).energy
    assert energy == pytest.approx(exact.tfim_chain_energy(n, J, h), rel=0, abs=1e-10)


def test_energy_density_of_the_infinite_chain():
    assert exact.tfim_chain_energy_density(1.0, 1.0) == pytest.approx(-4 / math.pi, rel=1e-15)
    assert exact.TFIM_CRITICAL_ENERGY_DENSITY == -4 / math.pi
    for J, h in [(1.0, 0.3), (1.0, 2.5), (0.5, -0.7), (-1.0, 1.0), (0.0, 2.0)]:
        quad = (
            -integrate.quad(lambda k, J=J, h=h: np.sqrt(J**2 + h**2 - 2 * J * h * np.cos(k)), 0, np.pi)[0]
            / np.pi
        )
        assert exact.tfim_chain_energy_density(J, h) == pytest.approx(quad, rel=1e-12)


@pytest.mark.parametrize("n", [100, 1000])
def test_critical_chain_has_the_conformal_finite_size_correction(n):
    """At h = J = 1 the chain is a c = 1/2 conformal field theory with velocity v = 2J:
    E_0(N) = N e_inf - pi c v / (6 N) + O(N^-3)."""
    correction = exact.tfim_chain_energy(n, 1.0, 1.0) - n * exact.TFIM_CRITICAL_ENERGY_DENSITY
    assert correction == pytest.approx(-math.pi / (6 * n), rel=5e-5 * (100 / n) ** 2)


# --------------------------------------------------------------------- Lanczos vs dense


@pytest.mark.parametrize(
    ("ham", "sector"),
    [
        (operators.tfim(lattice.chain(2), h=0.7), None),
        (operators.tfim(lattice.chain(3), h=0.7), None),
        (operators.tfim(lattice.chain(10), h=0.9), None),
        (operators.tfim(lattice.square(3, 3), h=3.0), None),
        (operators.tfim(lattice.square(4, 2), J=-0.5, h=0.4), None),
        (operators.heisenberg(lattice.chain(10)), None),
        (operators.heisenberg(lattice.chain(10)), "sz0"),
        (operators.heisenberg(lattice.chain(10), marshall=False), "sz0"),
        (operators.heisenberg(lattice.chain(9), marshall=False), None),
        (operators.heisenberg(lattice.square(4, 2), J=0.8), "sz0"),
    ],
    ids=[
        "tfim2",
        "tfim3",
        "tfim10",
        "tfim3x3",
        "tfim4x2",
        "heis10",
        "heis10-sz0",
        "heis10-plain",
        "heis9",
        "heis4x2",
    ],
)
def test_lanczos_matches_dense_diagonalization(ham, sector):
    """The lowest level and (when unique) its vector agree; the three lowest levels agree when
    they are non-degenerate, and otherwise (Lanczos finds one vector of a degenerate level,
    see ground_state) every level Lanczos returns is an eigenvalue of the dense matrix."""
    full = exact.dense_ground_state(ham, sector=sector, k=operators.sector_basis(ham.n_sites, sector).size)
    spectrum = full.energy
    single = exact.ground_state(ham, sector=sector)
    assert single.energy == pytest.approx(spectrum[0], abs=1e-10)
    np.testing.assert_array_equal(single.basis, full.basis)
    k = min(3, single.basis.size - 1)
    lanczos = exact.ground_state(ham, sector=sector, k=k)
    assert np.abs(lanczos.energy[:, None] - spectrum[None, :]).min(axis=1).max() < 1e-10
    if np.all(np.diff(spectrum[: k + 1]) > 1e-6):
        np.testing.assert_allclose(lanczos.energy, spectrum[:k], rtol=0, atol=1e-10)
    if spectrum[1] - spectrum[0] > 1e-6:  # a unique ground state: the vectors agree
        np.testing.assert_allclose(single.vector, full.vector[:, 0], rtol=0, atol=1e-7)


def test_ground_state_is_normalized_with_a_fixed_sign():
    gs = exact.ground_state(operators.heisenberg(lattice.chain(12), marshall=False), sector="sz0", k=2)
    assert gs.energy.shape == (2,) and gs.vector.shape == (math.comb(12, 6), 2)
    np.testing.assert_allclose(gs.vector.T @ gs.vector, np.eye(2), atol=1e-10)
    size = np.abs(gs.vector)
    first_largest = np.argmax(size >= (1 - 1e-6) * size.max(axis=0), axis=0)
    assert np.all(gs.vector[first_largest, [0, 1]] > 0)
    np.testing.assert_array_equal(gs.basis, operators.sector_basis(12, "sz0"))


def test_small_heisenberg_clusters():
    """Textbook values: the two-site singlet -3J/4, the four-site ring -2J (square(2, 2))."""
    assert exact.ground_state(operators.heisenberg(lattice.chain(2))).energy == pytest.approx(
        -0.75, abs=1e-12
    )
    assert exact.ground_state(operators.heisenberg(lattice.square(2, 2))).energy == pytest.approx(
        -2.0, abs=1e-12
    )


# --------------------------------------------------------------- the chapter's reference values


@pytest.mark.slow
def test_tfim_chain_of_20_spins():
    """Lanczos on all 2^20 states (matrix-free); about 3 s on 2 cores."""
    gs = exact.ground_state(operators.tfim(lattice.chain(20), J=1.0, h=1.0))
    assert gs.energy == pytest.approx(-25.490989686, rel=0, abs=1e-8)
    assert gs.energy == pytest.approx(exact.tfim_chain_energy(20, 1.0, 1.0), rel=0, abs=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("marshall", [True, False])
def test_heisenberg_chain_of_22_spins(marshall):
    """Lanczos in the S^z = 0 sector (705 432 states); about 1.5 s on 2 cores each."""
    gs = exact.ground_state(operators.heisenberg(lattice.chain(22), marshall=marshall), sector="sz0")
    assert gs.vector.shape == (705_432,)
    assert gs.energy == pytest.approx(-9.786880652, rel=0, abs=1e-8)


# ------------------------------------------------------------------------------ observables


@pytest.mark.parametrize("h", [0.02, 0.05])
def test_correlations_near_zero_field_by_perturbation_theory(h):
    """At h -> 0 the ground state is the even cat state (|up...> + |down...>)/sqrt(2) dressed by
    single flips of amplitude h/4J (a flip breaks two bonds, cost 4J); so
    <sz_0 sz_r> = 1 - h^2 / (4 J^2) + O(h^4) for every r != 0. Dense diagonalization separates
    the cat states, whose splitting is of order h^N."""
    n = 8
    gs = exact.dense_ground_state(operators.tfim(lattice.chain(n), h=h))
    correlation = exact.correlation_zz(gs.vector, n, np.arange(n))
    assert correlation[0] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(correlation[1:], 1 - h**2 / 4, rtol=0, atol=h**4)


@pytest.mark.parametrize("h", [10.0, 20.0])
def test_magnetization_at_large_field_by_perturbation_theory(h):
    """At large h the ground state is all sigma^x = +1 dressed by bond flips of amplitude J/4h
    (two spins flipped, cost 4h): <sigma^x> = 1 - J^2 / (4 h^2) + O(h^-4)."""
    n = 8
    gs = exact.ground_state(operators.tfim(lattice.chain(n), h=h))
    assert exact.magnetization_x(gs.vector, n) == pytest.approx(1 - 1 / (4 * h**2), rel=0, abs=h**-4)


@pytest.mark.parametrize("h", [0.3, 1.0, 2.0])
def test_observables_are_derivatives_of_the_closed_form(h):
    """Hellmann–Feynman: <sigma^x> = -(1/N) dE_0/dh and <sz_0 sz_1> = -(1/N) dE_0/dJ, the
    derivatives by central differences of the free-fermion energy (error ~ 1e-10)."""
    n, step = 12, 1e-5
    gs = exact.ground_state(operators.tfim(lattice.chain(n), J=1.0, h=h))
    d_h = (exact.tfim_chain_energy(n, 1.0, h + step) - exact.tfim_chain_energy(n, 1.0, h - step)) / (2 * step)
    d_J = (exact.tfim_chain_energy(n, 1.0 + step, h) - exact.tfim_chain_energy(n, 1.0 - step, h)) / (2 * step)
    assert exact.magnetization_x(gs.vector, n) == pytest.approx(-d_h / n, abs=1e-8)
    assert exact.correlation_zz(gs.vector, n, 1) == pytest.approx(-d_J / n, abs=1e-8)


@pytest.mark.parametrize("marshall", [True, False])
def test_heisenberg_correlation_from_su2_symmetry(marshall):
    """The singlet ground state is rotation invariant, so <S_0.S_1> = 3 <S^z_0 S^z_1> and
    E_0 = N J (3/4) <sz_0 sz_1> on the periodic chain; the sector vector and its embedding in
    all states give the same correlations."""
    n = 12
    ham = operators.heisenberg(lattice.chain(n), marshall=marshall)
    gs = exact.ground_state(ham, sector="sz0")
    assert exact.correlation_zz(gs.vector, n, 1) == pytest.approx(4 * gs.energy / (3 * n), abs=1e-10)
    full = np.zeros(2**n)
    full[gs.basis] = gs.vector
    r = np.arange(n)
    np.testing.assert_allclose(
        exact.correlation_zz(full, n, r), exact.correlation_zz(gs.vector, n, r), atol=1e-14
    )
    np.testing.assert_allclose(
        exact.correlation_zz(gs.vector, n, r, basis=gs.basis), exact.correlation_zz(gs.vector, n, r), atol=0
    )
    assert exact.magnetization_x(full, n) == 0.0  # sigma^x leaves the sector


def test_observables_of_product_states():
    n = 6
    up = np.zeros(2**n)
    up[0] = 1.0
    plus = np.full(2**n, 2 ** (-n / 2))  # every spin along +x
    assert exact.magnetization_x(up, n) == 0.0 and exact.magnetization_x(plus, n) == pytest.approx(
        1.0, abs=1e-14
    )
    np.testing.assert_array_equal(exact.correlation_zz(up, n, np.arange(n)), np.ones(n))
    np.testing.assert_allclose(exact.correlation_zz(plus, n, np.arange(1, n)), 0.0, atol=1e-15)
    neel = np.zeros(2**n)
    neel[int("010101", 2)] = 3.0  # unnormalized on purpose
    np.testing.assert_array_equal(exact.correlation_zz(neel, n, np.arange(n)), [1, -1, 1, -1, 1, -1])


# ------------------------------------------------------------------- the variational principle


@pytest.mark.parametrize(
    ("ham", "sector"),
    [(operators.tfim(lattice.chain(8), h=1.0), None), (operators.heisenberg(lattice.chain(10)), "sz0")],
    ids=["tfim", "heisenberg"],
)
def test_energy_of_the_ground_state_and_of_a_superposition(ham, sector):
    """<H> of the ground state is E_0; of an equal-weight mix of two eigenstates, their mean."""
    gs = exact.dense_ground_state(ham, sector=sector, k=2)
    assert exact.energy_of(ham, gs.vector[:, 0]) == pytest.approx(gs.energy[0], abs=1e-12)
    mix = gs.vector[:, 0] + 1j * gs.vector[:, 1]
    assert exact.energy_of(ham, mix) == pytest.approx(gs.energy.mean(), abs=1e-12)


TFIM8 = operators.tfim(lattice.chain(8), h=1.0)
HEIS10 = operators.heisenberg(lattice.chain(10), marshall=False)
E0 = {"tfim": exact.tfim_chain_energy(8, 1.0, 1.0), "heis": -4.515446354492}


@settings(max_examples=50)
@given(seed=st.integers(0, 2**31 - 1), complex_=st.booleans())
def test_no_state_has_less_energy_than_the_ground_state(seed, complex_):
    """The Rayleigh quotient of random real and complex vectors (keys from the seed) is >= E_0,
    and equals the quadratic form of the dense matrix."""
    key_t, key_h = jax.random.split(jax.random.key(seed))
    for ham, name, key in ((TFIM8, "tfim", key_t), (HEIS10, "heis", key_h)):
        dim = 2**8 if name == "tfim" else math.comb(10, 5)
        v = np.asarray(jax.random.normal(key, (dim,), complex if complex_ else float))
        energy = exact.energy_of(ham, v)
        assert energy >= E0[name] - 1e-12
        H = operators.sparse_matrix(ham, sector=None if name == "tfim" else "sz0")
        assert energy == pytest.approx(float((np.vdot(v, H @ v) / np.vdot(v, v)).real), abs=1e-12)


def test_heisenberg_reference_energy_of_ten_sites():
    assert exact.dense_ground_state(HEIS10, sector="sz0").energy == pytest.approx(E0["heis"], abs=1e-11)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (lambda: exact.ground_state(TFIM8, k=0), "k must be an integer"),
        (lambda: exact.ground_state(TFIM8, sector="sz0"), "does not conserve"),
        (lambda: exact.ground_state(HEIS10, sector="singlet"), "unknown sector"),
        (lambda: exact.ground_state(TFIM8, tol=0.0), "tol must be a positive"),
        (lambda: exact.ground_state("tfim"), "expected a LocalHamiltonian"),
        (lambda: exact.dense_ground_state(operators.tfim(lattice.chain(14))), "too large"),
        (lambda: exact.tfim_chain_energy(2), "n >= 3"),
        (lambda: exact.tfim_chain_energy(8, 1.0, float("inf")), "finite real"),
        (lambda: exact.tfim_chain_energy_density(1.0, None), "finite real"),
        (lambda: exact.energy_of(TFIM8, np.ones(100)), "2\\*\\*8 entries"),
        (lambda: exact.energy_of(TFIM8, np.ones(70)), "does not conserve"),
        (lambda: exact.energy_of(TFIM8, np.zeros(256)), "non-zero"),
        (lambda: exact.energy_of(TFIM8, np.ones((16, 16))), "one-dimensional"),
        (lambda: exact.correlation_zz(np.ones(256), 8, 8), "r must be sites"),
        (lambda: exact.correlation_zz(np.ones(256), 8, 1.5), "r must be sites"),
        (lambda: exact.correlation_zz(np.ones(256), 8, 1, basis=np.arange(10)), "basis has shape"),
        (lambda: exact.magnetization_x(np.ones(70), 8), "all 2\\*\\*n states"),
    ],
)
def test_bad_input_is_a_clear_value_error(call, phrase):
    with pytest.raises(ValueError, match=phrase):
        call()
