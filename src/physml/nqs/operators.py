r"""Spin Hamiltonians as local operators: the transverse-field Ising model and the Heisenberg
antiferromagnet, their connected elements, sparse matrices and matrix-free products.

Conventions (Pauli matrices :math:`\sigma^{x,y,z}`, bonds :math:`\langle ij\rangle` of a
:class:`~physml.nqs.lattice.Lattice`, configurations :math:`s_i = \pm 1` the eigenvalues of
:math:`\sigma^z_i`):

.. math::

    H_\text{TFIM} = -J \sum_{\langle ij\rangle} \sigma^z_i\sigma^z_j - h \sum_i \sigma^x_i ,
    \qquad
    H_\text{Heis} = J \sum_{\langle ij\rangle} \mathbf S_i\cdot\mathbf S_j , \quad
    \mathbf S = \tfrac12 \boldsymbol\sigma .

In the :math:`\sigma^z` basis, :math:`\mathbf S_i\cdot\mathbf S_j = \tfrac14\sigma^z_i\sigma^z_j +
\tfrac12(\sigma^+_i\sigma^-_j + \sigma^-_i\sigma^+_j)`: a diagonal :math:`\tfrac J4 s_i s_j`,
and :math:`\tfrac J2` for exchanging an antiparallel pair.

**Marshall sign rule.** On a bipartite lattice (sublattices A, B), the unitary
:math:`U = \prod_{i\in B}\sigma^z_i` multiplies a basis state by
:math:`(-1)^{\#\{i \in B:\, s_i = -1\}}`. An exchange moves one down spin between A and B,
so :math:`U H_\text{Heis} U^\dagger` has the same diagonal and every off-diagonal element
flipped to :math:`-\tfrac J2`. For :math:`J > 0` all off-diagonal elements are then
:math:`\le 0`, and by the Perron–Frobenius theorem the ground state in each connected
:math:`S^z` sector has strictly positive amplitudes: a real, positive ansatz
:math:`\psi(s) > 0` can represent it. The spectrum is unchanged. Without the rotation the
ground-state amplitudes carry the sign :math:`(-1)^{\#\{i\in B:\, s_i=-1\}}`, which a positive
ansatz cannot produce. (The TFIM needs no rotation: its off-diagonal elements
:math:`-h` are already :math:`\le 0` for :math:`h \ge 0`.)

A :class:`LocalHamiltonian` is a small immutable record (a lattice and numbers), hashable:
close over it, or pass it as a static argument of ``jax.jit``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
from jaxtyping import Array, ArrayLike, Float, Int
from scipy.sparse.linalg import LinearOperator

from .._checks import is_int, is_real
from .lattice import Lattice

__all__ = [
    "MAX_ED_SITES",
    "SECTORS",
    "LocalHamiltonian",
    "connected",
    "diagonal",
    "heisenberg",
    "linear_operator",
    "sector_basis",
    "sparse_matrix",
    "tfim",
]

#: Largest number of sites for the matrices and operators on the Hilbert space.
MAX_ED_SITES = 28
#: The symmetry sectors, ``None`` (all :math:`2^N` states) or ``"sz0"`` (:math:`\sum_i s_i = 0`).
SECTORS = (None, "sz0")


class LocalHamiltonian(NamedTuple):
    """A spin Hamiltonian on a lattice, built by :func:`tfim` or :func:`heisenberg`.

    Attributes:
        lattice: the :class:`~physml.nqs.lattice.Lattice`.
        kind: ``"tfim"`` or ``"heisenberg"``.
        J: the coupling (energy units).
        h: the transverse field of the TFIM (0 for Heisenberg).
        marshall: whether the Heisenberg model is rotated by the Marshall sign rule.
    """

    lattice: Lattice
    kind: str
    J: float
    h: float
    marshall: bool

    @property
    def n_sites(self) -> int:
        """Number of sites :math:`N`."""
        return self.lattice.n_sites

    @property
    def n_connected(self) -> int:
        """Number :math:`M` of connected elements a configuration has in :func:`connected`:
        :math:`N + 1` for the TFIM, :math:`B + 1` for Heisenberg."""
        return 1 + (self.lattice.n_sites if self.kind == "tfim" else self.lattice.n_bonds)


def _check_coupling(value: Any, name: str) -> float:
    if not (is_real(value) and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _check_lattice(lattice: Any) -> Lattice:
    if not isinstance(lattice, Lattice):
        raise ValueError(f"expected a Lattice (from chain() or square()), got {type(lattice).__name__}")
    return lattice


def tfim(lattice: Lattice, *, J: float = 1.0, h: float = 1.0) -> LocalHamiltonian:
    r"""The transverse-field Ising model
    :math:`H = -J\sum_{\langle ij\rangle}\sigma^z_i\sigma^z_j - h\sum_i\sigma^x_i`.

    Ferromagnetic for :math:`J > 0`; on the periodic chain with :math:`J = 1` the quantum
    phase transition is at :math:`h = 1`.

    Example:
        >>> from physml.nqs.lattice import chain
        >>> tfim(chain(10), h=0.5).n_connected
        11
    """
    return LocalHamiltonian(
        _check_lattice(lattice), "tfim", _check_coupling(J, "J"), _check_coupling(h, "h"), False
    )


def heisenberg(lattice: Lattice, *, J: float = 1.0, marshall: bool = True) -> LocalHamiltonian:
    r"""The Heisenberg model :math:`H = J\sum_{\langle ij\rangle}\mathbf S_i\cdot\mathbf S_j`,
    :math:`\mathbf S = \boldsymbol\sigma/2` (antiferromagnetic for :math:`J > 0`).

    With ``marshall=True`` (the default) it is rotated by :math:`U = \prod_{i\in B}\sigma^z_i`
    (module docstring), which needs a bipartite lattice: an even periodic chain, an open
    chain, or a square lattice with even sides.
    """
    lattice = _check_lattice(lattice)
    if not isinstance(marshall, bool):
        raise ValueError(f"marshall must be True or False, got {marshall!r}")
    if marshall and not lattice.bipartite:
        raise ValueError(
            f"the Marshall sign rule needs a bipartite lattice, and this {lattice.kind} of shape "
            f"{lattice.shape} (periodic, with an odd side) is not; use marshall=False"
        )
    return LocalHamiltonian(lattice, "heisenberg", _check_coupling(J, "J"), 0.0, marshall)


def _check_hamiltonian(ham: Any) -> LocalHamiltonian:
    if not isinstance(ham, LocalHamiltonian):
        raise ValueError(
            f"expected a LocalHamiltonian (from tfim() or heisenberg()), got {type(ham).__name__}"
        )
    return ham


def _as_configurations(ham: LocalHamiltonian, s: ArrayLike) -> Array:
    s = jnp.asarray(s)
    if s.ndim == 0 or s.shape[-1] != ham.n_sites:
        raise ValueError(f"configurations must have shape (..., {ham.n_sites}), got {s.shape}")
    if not jnp.issubdtype(s.dtype, jnp.floating):
        s = s.astype(jnp.result_type(float))
    return s


def _bond_products(ham: LocalHamiltonian, s: Array) -> Array:
    bonds = ham.lattice.bonds
    return s[..., bonds[:, 0]] * s[..., bonds[:, 1]]


def diagonal(ham: LocalHamiltonian, s: Float[ArrayLike, "... n"]) -> Float[Array, ...]:
    r"""The diagonal element :math:`H_{ss}`: :math:`-J\sum_{\langle ij\rangle} s_i s_j` (TFIM) or
    :math:`\tfrac J4\sum_{\langle ij\rangle} s_i s_j` (Heisenberg), for configurations
    of shape ``(..., N)``; pure JAX."""
    ham = _check_hamiltonian(ham)
    s = _as_configurations(ham, s)
    coefficient = -ham.J if ham.kind == "tfim" else ham.J / 4
    return coefficient * jnp.sum(_bond_products(ham, s), axis=-1)


def connected(
    ham: LocalHamiltonian, s: Float[ArrayLike, "... n"]
) -> tuple[Float[Array, "... m n"], Float[Array, "... m"]]:
    r"""The configurations :math:`s'` connected to :math:`s` by :math:`H`, and the elements
    :math:`H_{ss'}`, so that :math:`(H\psi)(s) = \sum_{m} \text{mels}_m\,\psi(s'_m)`.

    A fixed number :math:`M` of entries (static shapes; pure JAX, jit- and vmap-able):

    - TFIM, :math:`M = N + 1`: entry 0 is :math:`s` with :math:`-J\sum s_i s_j`; entry
      :math:`1 + i` is :math:`s` with spin :math:`i` flipped, element :math:`-h`.
    - Heisenberg, :math:`M = B + 1`: entry 0 is :math:`s` with :math:`\tfrac J4\sum s_i s_j`;
      entry :math:`1 + b` is :math:`s` with the two spins of bond :math:`b` exchanged,
      element :math:`\pm\tfrac J2` (:math:`-` with Marshall) if they are antiparallel and 0
      if parallel — then the entry is :math:`s` itself, so a zero element always multiplies
      a finite :math:`\psi(s')` of the same :math:`S^z` sector.

    Args:
        ham: the Hamiltonian.
        s: configurations of shape ``(..., N)``, entries :math:`\pm 1` (integers are
            converted to JAX's default float).

    Returns:
        ``(s_conn, mels)`` of shapes ``(..., M, N)`` and ``(..., M)``, in the dtype of ``s``.

    Example:
        >>> from physml.nqs.lattice import chain
        >>> s_conn, mels = connected(tfim(chain(4), J=1.0, h=0.5), jnp.ones(4))
        >>> mels.tolist()
        [-4.0, -0.5, -0.5, -0.5, -0.5]
    """
    ham = _check_hamiltonian(ham)
    s = _as_configurations(ham, s)
    n, batch = ham.n_sites, s.shape[:-1]
    expand = (1,) * len(batch)
    diag = diagonal(ham, s)[..., None]
    if ham.kind == "tfim":
        flip = jnp.asarray(1.0 - 2.0 * np.eye(n), s.dtype).reshape((*expand, n, n))
        moved = s[..., None, :] * flip
        off = jnp.full((*batch, n), -ham.h, s.dtype)
    else:
        bonds = jnp.asarray(ham.lattice.bonds)
        masks = jax.nn.one_hot(bonds[:, 0], n, dtype=s.dtype) + jax.nn.one_hot(bonds[:, 1], n, dtype=s.dtype)
        antiparallel = _bond_products(ham, s) < 0  # (..., B)
        flip = 1.0 - 2.0 * antiparallel[..., None] * masks.reshape(expand + masks.shape)
        moved = s[..., None, :] * flip
        element = -ham.J / 2 if ham.marshall else ham.J / 2
        off = jnp.where(antiparallel, jnp.asarray(element, s.dtype), jnp.zeros((), s.dtype))
    return jnp.concatenate([s[..., None, :], moved], axis=-2), jnp.concatenate([diag, off], axis=-1)


# ------------------------------------------------------------------ the Hilbert space


def _check_sites(n: int) -> int:
    if not (is_int(n) and 2 <= n <= MAX_ED_SITES):
        raise ValueError(f"the number of sites must be an integer between 2 and {MAX_ED_SITES}, got {n!r}")
    return int(n)


def sector_basis(n: int, sector: str | None = "sz0") -> Int[np.ndarray, " states"]:
    r"""The basis states of a symmetry sector, as increasing indices in the bit convention of
    :mod:`physml.nqs.lattice`.

    ``"sz0"``: the :math:`\binom{N}{N/2}` states with :math:`\sum_i s_i = 0` (:math:`N` even);
    ``None``: all :math:`2^N` states.
    """
    n = _check_sites(n)
    if sector not in SECTORS:
        raise ValueError(f"unknown sector {sector!r}; the sectors are {SECTORS}")
    k = np.arange(2**n, dtype=np.int64)
    if sector is None:
        return k
    if n % 2:
        raise ValueError(
            f"the sector 'sz0' (as many up as down spins) needs an even number of sites, got {n}"
        )
    return k[np.bitwise_count(k) == n // 2]


def _basis(ham: LocalHamiltonian, sector: str | None) -> np.ndarray:
    if sector is not None and ham.kind == "tfim" and sector in SECTORS:
        raise ValueError(
            f"the TFIM does not conserve S^z (its field flips spins); use sector=None, not {sector!r}"
        )
    return sector_basis(ham.n_sites, sector)


def _index_diagonal(ham: LocalHamiltonian, k: np.ndarray) -> np.ndarray:
    """:math:`H_{kk}` for basis indices ``k``, from their bits."""
    n, total = ham.n_sites, np.zeros(k.shape, dtype=np.int64)
    for i, j in ham.lattice.bonds:
        total += 1 - 2 * (((k >> (n - 1 - i)) ^ (k >> (n - 1 - j))) & 1)
    return (-ham.J if ham.kind == "tfim" else ham.J / 4) * total


def sparse_matrix(ham: LocalHamiltonian, *, sector: str | None = None) -> scipy.sparse.csr_matrix:
    r"""The Hamiltonian as a sparse matrix :math:`H_{kk'} = \langle k|H|k'\rangle` on the basis
    of ``sector`` (:func:`sector_basis`; ``"sz0"`` only for Heisenberg), built vectorised
    over all basis states; sector states are located with ``np.searchsorted``.

    Returns:
        a real symmetric ``scipy.sparse.csr_matrix`` of shape ``(dim, dim)``.
    """
    ham = _check_hamiltonian(ham)
    basis = _basis(ham, sector)
    n, dim = ham.n_sites, basis.size
    rows, cols, values = [np.arange(dim)], [np.arange(dim)], [_index_diagonal(ham, basis)]
    if ham.kind == "tfim":
        for i in range(n):
            rows.append(np.arange(dim))
            cols.append(basis ^ (1 << (n - 1 - i)))
            values.append(np.full(dim, -ham.h))
    else:
        element = -ham.J / 2 if ham.marshall else ham.J / 2
        for i, j in ham.lattice.bonds:
            src = np.flatnonzero(((basis >> (n - 1 - i)) ^ (basis >> (n - 1 - j))) & 1)
            target = basis[src] ^ ((1 << (n - 1 - i)) | (1 << (n - 1 - j)))
            rows.append(src)
            cols.append(target if sector is None else np.searchsorted(basis, target))
            values.append(np.full(src.size, element))
    matrix = scipy.sparse.coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim)
    )
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()  # diagonal elements that vanish (as many satisfied as broken bonds)
    return matrix


def linear_operator(ham: LocalHamiltonian, *, sector: str | None = None) -> LinearOperator:
    r"""The Hamiltonian as a ``scipy.sparse.linalg.LinearOperator`` for Lanczos.

    On the full space (``sector=None``) it is matrix-free: the state vector is viewed as an
    array of shape ``(2,) * N`` and a spin flip or an exchange is a reversal of one or two
    axes, applied in place with strided views — no index arrays, memory :math:`O(2^N)`.
    In the ``"sz0"`` sector it wraps :func:`sparse_matrix`.
    """
    ham = _check_hamiltonian(ham)
    if sector is not None:
        return scipy.sparse.linalg.aslinearoperator(sparse_matrix(ham, sector=sector))
    n, dim = ham.n_sites, 2**ham.n_sites
    diag = _index_diagonal(ham, _basis(ham, None))
    element = -ham.h if ham.kind == "tfim" else (-ham.J / 2 if ham.marshall else ham.J / 2)

    def matvec(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.result_type(x, np.float64)).reshape(dim)
        moved = np.zeros_like(x)  # sum of x over the moves, accumulated in place
        if ham.kind == "tfim":
            for i in range(n):
                shape = (2**i, 2, 2 ** (n - 1 - i))
                view = moved.reshape(shape)
                np.add(view, x.reshape(shape)[:, ::-1, :], out=view)
        else:
            for i, j in ham.lattice.bonds:
                shape = (2**i, 2, 2 ** (j - i - 1), 2, 2 ** (n - 1 - j))
                xs, ms = x.reshape(shape), moved.reshape(shape)
                for a, b in ((0, 1), (1, 0)):  # only antiparallel pairs are exchanged
                    view = ms[:, a, :, b, :]
                    np.add(view, xs[:, b, :, a, :], out=view)
        return diag * x + element * moved

    return LinearOperator((dim, dim), matvec=matvec, rmatvec=matvec, dtype=np.float64)
