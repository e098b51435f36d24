"""physml.nqs.lattice and physml.nqs.operators against independent constructions: Hamiltonians
as Kronecker products of Pauli matrices, the sparse matrix, and the connected elements."""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse

from physml.nqs import exact, lattice, operators

PAULI = {
    "x": np.array([[0.0, 1.0], [1.0, 0.0]]),
    "y": np.array([[0.0, -1.0j], [1.0j, 0.0]]),
    "z": np.array([[1.0, 0.0], [0.0, -1.0]]),
}

LATTICES = {
    "chain2": lattice.chain(2),
    "chain3": lattice.chain(3),
    "chain4-open": lattice.chain(4, pbc=False),
    "chain5": lattice.chain(5),
    "chain6": lattice.chain(6),
    "chain7-open": lattice.chain(7, pbc=False),
    "square2x2": lattice.square(2, 2),
    "square2x3": lattice.square(2, 3),
    "square4x2": lattice.square(4, 2),
}


def hamiltonians() -> list:
    """TFIM, Heisenberg and (on bipartite lattices) Marshall-rotated Heisenberg on every lattice."""
    cases = []
    for name, lat in LATTICES.items():
        cases.append(pytest.param(operators.tfim(lat, J=0.7, h=1.3), id=f"tfim-{name}"))
        cases.append(pytest.param(operators.heisenberg(lat, J=0.9, marshall=False), id=f"heis-{name}"))
        if lat.bipartite:
            cases.append(pytest.param(operators.heisenberg(lat, J=0.9), id=f"marshall-{name}"))
    return cases


#: connected() compiled once per Hamiltonian and shape (a Hamiltonian is hashable: a static argument).
connected_jit = jax.jit(operators.connected, static_argnums=0)


def pauli_string(n: int, **sites: str) -> np.ndarray:
    """A product of Pauli matrices on the given sites (``pauli_string(4, s0="z", s2="z")``), as a
    Kronecker product with site 0 leftmost (the most significant bit)."""
    factors = [PAULI[sites[f"s{j}"]] if f"s{j}" in sites else np.eye(2) for j in range(n)]
    return functools.reduce(np.kron, factors)


def kron_hamiltonian(ham: operators.LocalHamiltonian) -> np.ndarray:
    """The dense Hamiltonian written from its definition, independently of the package."""
    n = ham.n_sites
    H = np.zeros((2**n, 2**n), dtype=complex)
    for i, j in ham.lattice.bonds:
        if ham.kind == "tfim":
            H -= ham.J * pauli_string(n, **{f"s{i}": "z", f"s{j}": "z"})
        else:
            for a in "xyz":  # J S_i . S_j with S = sigma / 2
                H += ham.J / 4 * pauli_string(n, **{f"s{i}": a, f"s{j}": a})
    if ham.kind == "tfim":
        for i in range(n):
            H -= ham.h * pauli_string(n, **{f"s{i}": "x"})
    if ham.marshall:
        U = pauli_string(n, **{f"s{i}": "z" for i in np.flatnonzero(ham.lattice.sublattice)})
        H = U @ H @ U.conj().T
    assert np.abs(H.imag).max() == 0.0
    return H.real


def connected_matrix(ham: operators.LocalHamiltonian) -> np.ndarray:
    """Row k of H from the connected elements of configuration k: H[k, index(s'_m)] += mels[m]."""
    s = lattice.all_configurations(ham.n_sites)
    s_conn, mels = connected_jit(ham, s)
    assert s_conn.shape == (2**ham.n_sites, ham.n_connected, ham.n_sites)
    H = np.zeros((2**ham.n_sites,) * 2)
    rows = np.repeat(np.arange(2**ham.n_sites), ham.n_connected)
    np.add.at(H, (rows, np.asarray(lattice.configuration_index(s_conn)).ravel()), np.asarray(mels).ravel())
    return H


# ----------------------------------------------------------------------------- lattices


def test_chain_bonds():
    assert lattice.chain(5).bonds.tolist() == [[0, 1], [0, 4], [1, 2], [2, 3], [3, 4]]
    assert lattice.chain(5, pbc=False).bonds.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    assert lattice.chain(2).bonds.tolist() == [[0, 1]]  # the two periodic bonds coincide
    assert lattice.chain(6).sublattice.tolist() == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize(
    ("lx", "ly", "pbc", "n_bonds"), [(3, 3, True, 18), (4, 5, True, 40), (3, 4, False, 17)]
)
def test_square_bonds_are_the_nearest_neighbours(lx, ly, pbc, n_bonds):
    lat = lattice.square(lx, ly, pbc)
    assert lat.n_sites == lx * ly and lat.shape == (lx, ly) and lat.n_bonds == n_bonds
    assert np.all(lat.bonds[:, 0] < lat.bonds[:, 1])
    assert len({tuple(b) for b in lat.bonds.tolist()}) == n_bonds
    x, y = np.divmod(lat.bonds, ly)
    dx, dy = np.abs(x[:, 0] - x[:, 1]), np.abs(y[:, 0] - y[:, 1])
    step = lambda d, L: (d == 1) | (pbc & (d == L - 1))
    assert np.all((step(dx, lx) & (dy == 0)) | (step(dy, ly) & (dx == 0)))
    if pbc:
        assert np.all(np.bincount(lat.bonds.ravel()) == 4)


def test_sides_of_two_give_each_pair_once():
    assert lattice.square(2, 2).bonds.tolist() == [[0, 1], [0, 2], [1, 3], [2, 3]]  # a ring of 4
    assert lattice.square(2, 3).n_bonds == 3 + 6


@pytest.mark.parametrize(
    ("lat", "bipartite"),
    [
        (lattice.chain(6), True),
        (lattice.chain(7), False),
        (lattice.chain(7, pbc=False), True),
        (lattice.square(4, 2), True),
        (lattice.square(3, 3), False),
        (lattice.square(2, 3), False),
        (lattice.square(3, 3, pbc=False), True),
    ],
)
def test_bipartite(lat, bipartite):
    assert lat.bipartite is bipartite


def test_lattices_compare_and_hash_by_value():
    assert lattice.chain(6) == lattice.chain(6) and hash(lattice.chain(6)) == hash(lattice.chain(6))
    assert lattice.chain(6) != lattice.chain(6, pbc=False)
    assert operators.tfim(lattice.chain(6)) == operators.tfim(lattice.chain(6))
    assert operators.tfim(lattice.chain(6)) != operators.tfim(lattice.chain(6), h=0.5)


def test_configurations_follow_the_bit_convention():
    n = 5
    s = np.asarray(lattice.all_configurations(n))
    k = np.arange(2**n)
    assert s.shape == (32, 5) and s.dtype == np.float64
    for i in range(n):
        np.testing.assert_array_equal(s[:, i], 1 - 2 * ((k >> (n - 1 - i)) & 1))
    assert (s[0] == 1).all() and (s[-1] == -1).all()
    np.testing.assert_array_equal(lattice.configuration_index(s), k)
    assert lattice.all_configurations(3, jnp.float32).dtype == jnp.float32


def test_configuration_index_in_jit_with_batches():
    s = lattice.all_configurations(6).reshape(4, 16, 6)
    np.testing.assert_array_equal(jax.jit(lattice.configuration_index)(s), np.arange(64).reshape(4, 16))


# ---------------------------------------------------------------- the three matrices agree


@pytest.mark.parametrize("ham", hamiltonians())
def test_connected_and_sparse_match_the_pauli_matrices(ham):
    dense = kron_hamiltonian(ham)
    np.testing.assert_allclose(operators.sparse_matrix(ham).toarray(), dense, rtol=0, atol=1e-13)
    np.testing.assert_allclose(connected_matrix(ham), dense, rtol=0, atol=1e-13)
    s = lattice.all_configurations(ham.n_sites)
    np.testing.assert_allclose(operators.diagonal(ham, s), np.diag(dense), rtol=0, atol=1e-13)


@pytest.mark.parametrize("ham", hamiltonians())
def test_matrix_free_operator_matches_the_sparse_matrix(ham, key):
    x = np.asarray(jax.random.normal(key, (2**ham.n_sites,)))
    expected = operators.sparse_matrix(ham) @ x
    np.testing.assert_allclose(operators.linear_operator(ham).matvec(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "lat", [lattice.chain(6), lattice.chain(8, pbc=False), lattice.square(2, 2), lattice.square(4, 2)]
)
@pytest.mark.parametrize("marshall", [True, False])
def test_heisenberg_conserves_sz_and_the_sector_matrix_is_the_restriction(lat, marshall, key):
    ham = operators.heisenberg(lat, marshall=marshall)
    full = operators.sparse_matrix(ham).toarray()
    basis = operators.sector_basis(lat.n_sites, "sz0")
    outside = np.setdiff1d(np.arange(2**lat.n_sites), basis)
    assert np.all(full[np.ix_(basis, outside)] == 0)
    np.testing.assert_array_equal(
        operators.sparse_matrix(ham, sector="sz0").toarray(), full[np.ix_(basis, basis)]
    )
    x = np.asarray(jax.random.normal(key, (basis.size,)))
    np.testing.assert_allclose(
        operators.linear_operator(ham, sector="sz0").matvec(x), full[np.ix_(basis, basis)] @ x, atol=1e-13
    )


def test_sparse_matrix_is_csr_and_symmetric():
    H = operators.sparse_matrix(operators.tfim(lattice.square(2, 3), h=0.4))
    assert isinstance(H, scipy.sparse.csr_matrix)
    assert abs(H - H.T).max() == 0


@pytest.mark.parametrize("n", [2, 4, 6, 10])
def test_sector_basis(n):
    basis = operators.sector_basis(n, "sz0")
    assert basis.size == math.comb(n, n // 2)
    assert np.all(np.diff(basis) > 0)
    s = np.asarray(lattice.all_configurations(n))[basis]
    assert np.all(s.sum(axis=1) == 0)
    np.testing.assert_array_equal(operators.sector_basis(n, None), np.arange(2**n))


# ----------------------------------------------------------------------- Marshall sign rule


@pytest.mark.parametrize(
    "lat", [lattice.chain(6), lattice.chain(8), lattice.chain(7, pbc=False), lattice.square(4, 2)]
)
def test_marshall_rotation_keeps_the_spectrum(lat):
    plain = np.linalg.eigvalsh(kron_hamiltonian(operators.heisenberg(lat, marshall=False)))
    rotated = np.linalg.eigvalsh(kron_hamiltonian(operators.heisenberg(lat, marshall=True)))
    np.testing.assert_allclose(rotated, plain, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "lat", [lattice.chain(8), lattice.chain(10), lattice.square(2, 2), lattice.square(4, 2)]
)
def test_marshall_ground_state_has_one_sign(lat):
    """The singlet ground state (unique on these lattices) is positive after the rotation, in the
    S^z = 0 sector and on all states; without it, amplitudes of both signs appear."""
    for sector in ("sz0", None):
        rotated = exact.dense_ground_state(operators.heisenberg(lat), sector=sector).vector
        assert rotated.min() >= -1e-12
        plain = exact.dense_ground_state(operators.heisenberg(lat, marshall=False), sector=sector).vector
        assert plain.min() < -1e-2  # the rule matters: the plain ground state is not positive
        np.testing.assert_allclose(np.abs(plain), np.abs(rotated), atol=1e-10)


def test_tfim_ground_state_is_positive():
    for lat in (lattice.chain(9), lattice.square(2, 3)):
        assert exact.dense_ground_state(operators.tfim(lat, h=0.8)).vector.min() > 0


# --------------------------------------------------------------------- connected elements


@pytest.mark.parametrize(
    "ham",
    [
        operators.tfim(lattice.chain(6), h=0.6),
        operators.heisenberg(lattice.chain(6)),
        operators.heisenberg(lattice.square(4, 2), marshall=False),
    ],
    ids=["tfim", "marshall", "heisenberg"],
)
def test_local_energy_of_an_eigenstate_is_its_energy(ham):
    """E_loc(s) = sum_m mels_m psi(s'_m) / psi(s) = E_0 wherever psi(s) != 0: connected() and the
    exact ground state agree configuration by configuration."""
    gs = exact.dense_ground_state(ham)
    s = lattice.all_configurations(ham.n_sites)
    s_conn, mels = connected_jit(ham, s)
    psi = gs.vector
    local = np.sum(np.asarray(mels) * psi[np.asarray(lattice.configuration_index(s_conn))], axis=-1)
    support = np.abs(psi) > 1e-4
    np.testing.assert_allclose(local[support] / psi[support], gs.energy, rtol=0, atol=1e-8)
    assert support.sum() >= math.comb(ham.n_sites, ham.n_sites // 2)


@pytest.mark.parametrize(
    "ham", [operators.tfim(lattice.chain(5), h=0.3), operators.heisenberg(lattice.square(2, 2))]
)
def test_connected_batches_jit_and_vmap(ham, key):
    s = jnp.where(jax.random.bernoulli(key, 0.5, (2, 3, ham.n_sites)), 1.0, -1.0)
    s_conn, mels = operators.connected(ham, s)
    assert s_conn.shape == (2, 3, ham.n_connected, ham.n_sites) and mels.shape == (2, 3, ham.n_connected)
    one = [operators.connected(ham, s[a, b]) for a in range(2) for b in range(3)]
    np.testing.assert_array_equal(np.stack([c for c, _ in one]).reshape(s_conn.shape), s_conn)
    np.testing.assert_array_equal(np.stack([m for _, m in one]).reshape(mels.shape), mels)
    by_vmap = jax.vmap(jax.vmap(functools.partial(operators.connected, ham)))(s)
    by_static = connected_jit(ham, s)
    by_filter_jit = eqx.filter_jit(operators.connected)(ham, s)  # the Hamiltonian as a traced pytree
    for got in (by_vmap, by_static, by_filter_jit):
        np.testing.assert_array_equal(got[0], s_conn)
        np.testing.assert_allclose(got[1], mels, rtol=1e-15)


def test_connected_keeps_the_dtype_and_converts_integers():
    ham = operators.tfim(lattice.chain(4))
    for model in (ham, operators.heisenberg(lattice.chain(4))):
        s_conn, mels = operators.connected(model, jnp.array([1.0, -1.0, 1.0, 1.0], jnp.float32))
        assert s_conn.dtype == jnp.float32 and mels.dtype == jnp.float32
    s_conn, mels = operators.connected(ham, np.array([1, -1, 1, 1]))
    assert mels.dtype == jnp.float64 and mels.tolist() == [0.0, -1.0, -1.0, -1.0, -1.0]


def test_zero_heisenberg_elements_are_harmless():
    """A parallel bond has element 0 and its entry is s itself (same S^z, finite psi)."""
    ham = operators.heisenberg(lattice.chain(8))
    s = lattice.all_configurations(8)
    s_conn, mels = connected_jit(ham, s)
    off, moved = np.asarray(mels[:, 1:]), np.asarray(s_conn[:, 1:])
    np.testing.assert_array_equal(moved[off == 0], np.broadcast_to(s[:, None], moved.shape)[off == 0])
    assert set(np.unique(off)) == {-0.5, 0.0}
    np.testing.assert_array_equal(moved.sum(axis=-1), np.broadcast_to(s.sum(axis=-1)[:, None], off.shape))


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda: lattice.chain(1), "n must be an integer >= 2"),
        (lambda: lattice.chain(4.0), "n must be an integer >= 2"),
        (lambda: lattice.square(1, 4), "lx must be an integer >= 2"),
        (lambda: lattice.all_configurations(0), "between 1 and 24"),
        (lambda: operators.heisenberg(lattice.chain(5)), "bipartite"),
        (lambda: operators.heisenberg(lattice.square(3, 3)), "bipartite"),
        (lambda: operators.heisenberg(lattice.chain(4), marshall=1), "True or False"),
        (lambda: operators.tfim("chain"), "expected a Lattice"),
        (lambda: operators.tfim(lattice.chain(4), h=float("nan")), "h must be a finite real number"),
        (lambda: operators.connected(operators.tfim(lattice.chain(4)), jnp.ones(5)), r"shape \(\.\.\., 4\)"),
        (lambda: operators.connected(lattice.chain(4), jnp.ones(4)), "expected a LocalHamiltonian"),
        (lambda: operators.sector_basis(6, "sz1"), "unknown sector"),
        (lambda: operators.sector_basis(5, "sz0"), "even number of sites"),
        (lambda: operators.sector_basis(1, None), "between 2 and"),
        (
            lambda: operators.sparse_matrix(operators.tfim(lattice.chain(4)), sector="sz0"),
            "does not conserve",
        ),
        (
            lambda: operators.sparse_matrix(operators.heisenberg(lattice.chain(4)), sector="Sz0"),
            "unknown sector",
        ),
    ],
)
def test_bad_input_is_a_clear_value_error(make, phrase):
    with pytest.raises(ValueError, match=phrase):
        make()
