r"""Exact results for spin Hamiltonians: Lanczos and dense diagonalization, the free-fermion
solution of the periodic transverse-field Ising chain, and observables of a state vector.

State vectors are NumPy arrays over a basis of integer states in the bit convention of
:mod:`physml.nqs.lattice` (:math:`s_i = 1 - 2 b_i(k)`, site 0 the most significant bit):
all :math:`2^N` states, or the increasing list of a sector from
:func:`~physml.nqs.operators.sector_basis`.

**The periodic TFIM chain in closed form.** With :math:`H = -J\sum_i \sigma^z_i\sigma^z_{i+1}
- h\sum_i\sigma^x_i` and :math:`\sigma^{N} \equiv \sigma^0`, the Jordan–Wigner fermions
:math:`\sigma^x_i = 1 - 2c^\dagger_i c_i` turn :math:`H` into a quadratic form in each sector of
the parity :math:`P = \prod_i\sigma^x_i = (-1)^{N_F}`; in the even sector :math:`P = +1` the
boundary bond makes the fermions antiperiodic, with momenta

.. math::

    k \in K_+ = \Big\{\tfrac{\pi(2m-1)}{N} : m = 1, \dots, N\Big\}
    \quad (\text{i.e. } k = \pm\pi(2m-1)/N,\ m = 1..N/2 \text{ for even } N),

and a Bogoliubov rotation gives :math:`H_+ = \sum_{k\in K_+}\varepsilon_k(\gamma_k^\dagger\gamma_k -
\tfrac12)` with :math:`\varepsilon_k = 2\sqrt{J^2 + h^2 - 2Jh\cos k}`. For :math:`h > 0` the
off-diagonal elements :math:`-h` are negative, so (Perron–Frobenius) the ground state is unique
with positive amplitudes and therefore has :math:`P = +1`; it is the Bogoliubov vacuum,

.. math::

    E_0 = -\frac12\sum_{k\in K_+}\varepsilon_k ,

with :math:`h \to |h|` (the rotation :math:`\prod_i\sigma^z_i` maps :math:`h \to -h`). For odd
:math:`N`, :math:`k = \pi` is an unpaired mode whose occupation parity fixes to zero; it
contributes :math:`-(|h| + J)`, which is :math:`-\varepsilon_\pi/2` unless :math:`J < -|h|`.
Per site in the infinite chain,
:math:`e_0 = -\frac{2}{\pi}(|J| + |h|)\,\mathrm E\!\big(\tfrac{4|Jh|}{(|J|+|h|)^2}\big)` with
:math:`\mathrm E` the complete elliptic integral of the second kind; at the critical point
:math:`h = J` this is :math:`-4J/\pi`.

Reference: P. Pfeuty, *Ann. Phys.* **57**, 79 (1970).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import scipy.special
from jaxtyping import ArrayLike, Float, Inexact, Int
from scipy.sparse.linalg import eigsh

from .._checks import is_int, is_real
from .._threads import blas_threads
from .operators import LocalHamiltonian, _check_hamiltonian, linear_operator, sector_basis, sparse_matrix

__all__ = [
    "MAX_DENSE_DIM",
    "TFIM_CRITICAL_ENERGY_DENSITY",
    "GroundState",
    "correlation_zz",
    "dense_ground_state",
    "energy_of",
    "ground_state",
    "magnetization_x",
    "tfim_chain_energy",
    "tfim_chain_energy_density",
]

#: Largest Hilbert-space dimension :func:`dense_ground_state` accepts (a 4096² matrix is 128 MB).
MAX_DENSE_DIM = 4096
#: Ground-state energy per site of the infinite critical TFIM chain (:math:`h = J = 1`), :math:`-4/\pi`.
TFIM_CRITICAL_ENERGY_DENSITY = -4.0 / math.pi


class GroundState(NamedTuple):
    """The lowest eigenpairs of a Hamiltonian.

    Attributes:
        energy: the lowest eigenvalue (a float) — or, when ``k > 1`` states were asked for,
            the ``k`` lowest in increasing order, shape ``(k,)``.
        vector: the normalized eigenvector, shape ``(dim,)`` — or ``(dim, k)``, one column
            each. The global sign is fixed: the entry of largest magnitude (the first one, if
            symmetry makes several equal) is positive.
        basis: the basis-state indices of the entries, shape ``(dim,)``.
    """

    energy: Any
    vector: np.ndarray
    basis: np.ndarray


def _fix_sign(vectors: np.ndarray) -> np.ndarray:
    """Make the first entry of largest magnitude of each column positive. Symmetric states have
    several entries of equal magnitude, equal only up to rounding: entries within 1e-6 of the
    largest count as tied, and the lowest index wins, so the sign does not depend on rounding."""
    size = np.abs(vectors)
    first = np.argmax(size >= (1 - 1e-6) * size.max(axis=0), axis=0)
    return vectors * np.where(vectors[first, np.arange(vectors.shape[1])] < 0, -1.0, 1.0)


def _check_k(k: Any, dim: int) -> int:
    if not (is_int(k) and 1 <= k <= dim):
        raise ValueError(f"k must be an integer between 1 and the dimension {dim}, got {k!r}")
    return int(k)


def _result(energies: np.ndarray, vectors: np.ndarray, basis: np.ndarray, k: int) -> GroundState:
    order = np.argsort(energies)[:k]
    energies, vectors = energies[order], _fix_sign(vectors[:, order])
    if k == 1:
        return GroundState(float(energies[0]), vectors[:, 0], basis)
    return GroundState(energies, vectors, basis)


def dense_ground_state(ham: LocalHamiltonian, *, sector: str | None = None, k: int = 1) -> GroundState:
    """The ``k`` lowest eigenpairs by full diagonalization (``numpy.linalg.eigh``, one BLAS
    thread) of the dense matrix, for dimensions up to :data:`MAX_DENSE_DIM`; see
    :func:`ground_state`."""
    ham = _check_hamiltonian(ham)
    basis = sector_basis(ham.n_sites, sector)
    if basis.size > MAX_DENSE_DIM:
        raise ValueError(
            f"a dense matrix of dimension {basis.size} is too large (at most {MAX_DENSE_DIM}); "
            "use ground_state (Lanczos)"
        )
    k = _check_k(k, basis.size)
    matrix = sparse_matrix(ham, sector=sector).toarray()
    with blas_threads(1):
        energies, vectors = np.linalg.eigh(matrix)
    return _result(energies, vectors, basis, k)


def ground_state(
    ham: LocalHamiltonian, *, sector: str | None = None, k: int = 1, tol: float = 1e-10
) -> GroundState:
    r"""The ``k`` lowest eigenpairs by Lanczos (``scipy.sparse.linalg.eigsh``, ``which="SA"``).

    On the full space the Hamiltonian is applied matrix-free
    (:func:`~physml.nqs.operators.linear_operator`: no matrix is stored, and each product
    costs about as much as a sparse one); in the ``"sz0"`` sector through its sparse matrix.
    The start vector is fixed (entry :math:`j` is :math:`1 + 0.5(\{j\varphi\} - 0.5)`,
    :math:`\varphi` the golden ratio): results are reproducible, and the vector overlaps
    strongly with a positive (Perron–Frobenius) ground state without sharing any lattice
    symmetry. BLAS runs on one thread during the solve (faster on 2 cores).

    Lanczos builds its subspace from one start vector, which has a single component in each
    eigenspace: of a degenerate level (a triplet, a pair of momenta :math:`\pm q`) it finds
    one vector, perhaps more through rounding errors, and with ``k > 1`` the next levels may
    be skipped. The lowest level is always right. For several levels of a symmetric model,
    use a smaller sector or :func:`dense_ground_state`.

    Args:
        ham: the Hamiltonian.
        sector: ``None`` (all :math:`2^N` states) or ``"sz0"`` (Heisenberg only).
        k: number of eigenpairs.
        tol: relative accuracy of the Ritz pairs (ARPACK's ``tol``); the energy error is of
            the order of its square.

    Returns:
        a :class:`GroundState`.

    Example:
        >>> from physml.nqs import lattice, operators
        >>> round(ground_state(operators.tfim(lattice.chain(8), h=1.0)).energy, 6)
        -10.251662
    """
    ham = _check_hamiltonian(ham)
    basis = sector_basis(ham.n_sites, sector)
    k = _check_k(k, basis.size)
    if not (is_real(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    ncv = min(basis.size, max(2 * k + 1, 12))
    if k >= basis.size - 1 or ncv <= k:  # too small for ARPACK
        return dense_ground_state(ham, sector=sector, k=k)
    phase = (np.arange(basis.size) * ((math.sqrt(5.0) - 1.0) / 2.0)) % 1.0
    operator = linear_operator(ham, sector=sector)
    with blas_threads(1):
        energies, vectors = eigsh(operator, k=k, which="SA", v0=1.0 + 0.5 * (phase - 0.5), ncv=ncv, tol=tol)
    return _result(energies, vectors, basis, k)


def _as_state(vector: ArrayLike) -> np.ndarray:
    v = np.asarray(vector)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"a state vector must be one-dimensional and non-empty, got shape {v.shape}")
    norm = np.vdot(v, v).real
    if not (np.isfinite(norm) and norm > 0):
        raise ValueError("a state vector must be finite and non-zero")
    return v


def _infer_sector(n: int, dim: int) -> str | None:
    if dim == 2**n:
        return None
    if n % 2 == 0 and dim == math.comb(n, n // 2):
        return "sz0"
    raise ValueError(
        f"a state of {n} sites has 2**{n} entries (all states) or C({n}, {n // 2}) (the S^z = 0 "
        f"sector), got {dim}"
    )


def energy_of(ham: LocalHamiltonian, vector: Inexact[ArrayLike, " dim"]) -> float:
    r"""The Rayleigh quotient :math:`E[\psi] = \langle\psi|H|\psi\rangle / \langle\psi|\psi\rangle`,
    which is :math:`\ge E_0` for every :math:`\psi` (the variational principle).

    ``vector`` (real or complex, any normalization) lives on all :math:`2^N` states or, for
    Heisenberg, on the ``"sz0"`` sector — told apart by its length.
    """
    ham = _check_hamiltonian(ham)
    v = _as_state(vector)
    sector = _infer_sector(ham.n_sites, v.size)
    if sector is not None and ham.kind == "tfim":
        raise ValueError("the TFIM does not conserve S^z: give a vector on all 2**N states")
    operator = linear_operator(ham, sector=sector)
    h_v = operator.matvec(v.real) + (1j * operator.matvec(v.imag) if np.iscomplexobj(v) else 0.0)
    return float(np.vdot(v, h_v).real / np.vdot(v, v).real)


def correlation_zz(
    vector: Inexact[ArrayLike, " dim"],
    n: int,
    r: int | Int[ArrayLike, " rs"],
    *,
    basis: ArrayLike | None = None,
) -> float | Float[np.ndarray, " rs"]:
    r"""The correlation :math:`\langle\sigma^z_0\sigma^z_r\rangle =
    \sum_k |\psi_k|^2 s_0(k)\,s_r(k) / \sum_k|\psi_k|^2` between site 0 and site ``r``.

    Args:
        vector: the state, on all :math:`2^n` states or on the ``"sz0"`` sector (told apart
            by its length), or on the states listed in ``basis``.
        n: number of sites.
        r: a site, ``0 <= r < n``, or an array of sites.
        basis: the basis-state index of each entry (e.g. :attr:`GroundState.basis`).

    Returns:
        a float for one ``r``, an array of the shape of ``r`` otherwise.
    """
    v = _as_state(vector)
    if not (is_int(n) and n >= 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if basis is None:
        basis = sector_basis(n, _infer_sector(n, v.size))
    basis = np.asarray(basis)
    if basis.shape != v.shape:
        raise ValueError(f"basis has shape {basis.shape}, the vector {v.shape}")
    rs = np.asarray(r)
    if not (np.issubdtype(rs.dtype, np.integer) and np.all((rs >= 0) & (rs < n))):
        raise ValueError(f"r must be sites between 0 and {n - 1}, got {r!r}")
    p = np.abs(v) ** 2 / np.vdot(v, v).real
    bit0 = (basis >> (n - 1)) & 1
    out = np.array([p @ (1 - 2 * (bit0 ^ ((basis >> (n - 1 - site)) & 1))) for site in rs.ravel()])
    return float(out[0]) if rs.ndim == 0 else out.reshape(rs.shape)


def magnetization_x(vector: Inexact[ArrayLike, " dim"], n: int) -> float:
    r"""The transverse magnetization per site :math:`\frac1N\sum_i\langle\sigma^x_i\rangle`, for a
    state on all :math:`2^n` states (:math:`\sigma^x` leaves every :math:`S^z` sector).

    For a TFIM ground state it equals :math:`-\frac1N\,\partial E_0/\partial h`
    (Hellmann–Feynman).
    """
    v = _as_state(vector)
    if not (is_int(n) and n >= 1 and v.size == 2**n):
        raise ValueError(
            f"magnetization_x needs a vector on all 2**n states, got {v.size} entries for n = {n!r}"
        )
    total = sum(np.vdot(v.reshape(2**i, 2, -1), v.reshape(2**i, 2, -1)[:, ::-1, :]).real for i in range(n))
    return float(total / (n * np.vdot(v, v).real))


def _check_chain_length(n: Any) -> int:
    if not (is_int(n) and n >= 3):
        raise ValueError(f"the closed form is for periodic chains of n >= 3 sites, got {n!r}")
    return int(n)


def tfim_chain_energy(n: int, J: float = 1.0, h: float = 1.0) -> float:
    r"""Exact ground-state energy of the periodic TFIM chain of ``n`` sites (module docstring),

    .. math::

        E_0 = -\sum_{m=1}^{N} \sqrt{J^2 + h^2 - 2J|h|\cos\tfrac{\pi(2m-1)}{N}}
        \qquad (N \text{ even}),

    with the :math:`k = \pi` term replaced by :math:`-(|h| + J)` for odd :math:`N`.
    Computed in float64 (NumPy) whatever JAX's precision. By Hellmann–Feynman its derivatives
    give :math:`\langle\sigma^x\rangle = -\frac1N\partial_h E_0` and
    :math:`\langle\sigma^z_0\sigma^z_1\rangle = -\frac1N\partial_J E_0`.

    Args:
        n: number of sites, ``n >= 3`` (on :func:`~physml.nqs.lattice.chain` with 2 sites the
            two bonds coincide, and the formula counts them twice).
        J: the coupling.
        h: the transverse field.

    Example:
        >>> round(tfim_chain_energy(20, 1.0, 1.0), 9)
        -25.490989686
    """
    n = _check_chain_length(n)
    if not (is_real(J) and is_real(h) and math.isfinite(J) and math.isfinite(h)):
        raise ValueError(f"J and h must be finite real numbers, got {J!r}, {h!r}")
    J, h = float(J), abs(float(h))
    m = np.arange(1, n + 1)
    k = np.pi * (2 * m - 1) / n
    paired = 2 * m - 1 != n  # k = pi, for odd n only, is the unpaired mode
    half_eps = np.sqrt(np.maximum(J**2 + h**2 - 2 * J * h * np.cos(k[paired]), 0.0))
    return float(-np.sum(half_eps) - (0.0 if n % 2 == 0 else h + J))


def tfim_chain_energy_density(J: float = 1.0, h: float = 1.0) -> float:
    r"""Ground-state energy per site of the infinite TFIM chain,
    :math:`e_0 = -\frac1{2\pi}\int_{-\pi}^{\pi}\sqrt{J^2 + h^2 - 2Jh\cos k}\,dk
    = -\frac2\pi(|J|+|h|)\,\mathrm E\big(\tfrac{4|Jh|}{(|J|+|h|)^2}\big)`;
    :math:`-4/\pi` at :math:`h = J = 1` (:data:`TFIM_CRITICAL_ENERGY_DENSITY`)."""
    if not (is_real(J) and is_real(h) and math.isfinite(J) and math.isfinite(h)):
        raise ValueError(f"J and h must be finite real numbers, got {J!r}, {h!r}")
    a, b = abs(J), abs(h)
    if a + b == 0:
        return 0.0
    return float(-2.0 / math.pi * (a + b) * scipy.special.ellipe(4 * a * b / (a + b) ** 2))
