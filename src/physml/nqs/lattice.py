r"""Spin-½ lattices and the basis of the Hilbert space of :math:`N` spins.

A configuration is an array ``s`` of shape ``(..., N)`` with entries :math:`s_i = \pm 1`, the
eigenvalues of :math:`\sigma^z_i` (float dtype of the caller). The :math:`2^N` basis states
are numbered by an integer :math:`k` whose binary digits are the spins, site 0 the most
significant bit and bit 0 meaning spin up:

.. math::

    s_i = 1 - 2\,b_i(k), \qquad b_i(k) = \lfloor k / 2^{N-1-i} \rfloor \bmod 2, \qquad
    k = \sum_i b_i\, 2^{N-1-i} .

So :math:`k = 0` is all up and :math:`k = 2^N - 1` all down, and the state vector of
:math:`N` spins is the Kronecker product of one-site vectors with site 0 leftmost — the
order in which :math:`\sigma_0 \otimes \sigma_1 \otimes \cdots` acts. (This is the opposite
of :func:`physml.spins.enumerate_spins`, which counts up spins as ones.)

A lattice is its list of nearest-neighbour bonds, plus the two-colouring used by the
Marshall sign rule: sublattice A (``sublattice == 0``) and B (``sublattice == 1``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import is_int

__all__ = ["MAX_ENUMERATED_SITES", "Lattice", "all_configurations", "chain", "configuration_index", "square"]

#: Largest ``n`` for :func:`all_configurations` (an array of :math:`2^n n` numbers).
MAX_ENUMERATED_SITES = 24


class Lattice(NamedTuple):
    """A finite lattice of spin-½ sites.

    Attributes:
        n_sites: number of sites :math:`N`.
        bonds: nearest-neighbour pairs ``(i, j)`` with ``i < j``, each listed once, as an
            integer NumPy array of shape ``(B, 2)`` sorted by rows. Bonds are the edges of a
            simple graph: where periodic wrapping joins two sites that are already
            neighbours (a side of length 2), the pair is still listed once.
        shape: ``(N,)`` for a chain, ``(lx, ly)`` for a square lattice (site
            ``i = x * ly + y``).
        sublattice: ``(N,)`` integer array of 0 (A) and 1 (B), the checkerboard colouring
            ``(x + y) mod 2``; a proper two-colouring exactly when :attr:`bipartite`.
        kind: ``"chain"`` or ``"square"``.

    Lattices compare and hash by value, so one can be a static argument of ``jax.jit``.
    """

    n_sites: int
    bonds: np.ndarray
    shape: tuple[int, ...]
    sublattice: np.ndarray
    kind: str

    @property
    def n_bonds(self) -> int:
        """Number of bonds :math:`B`."""
        return int(self.bonds.shape[0])

    @property
    def bipartite(self) -> bool:
        """Every bond joins sublattice A to sublattice B (needed for the Marshall sign rule)."""
        return bool(np.all(self.sublattice[self.bonds[:, 0]] != self.sublattice[self.bonds[:, 1]]))

    def _key(self) -> tuple[Any, ...]:
        return (self.n_sites, self.bonds.tobytes(), self.shape, self.sublattice.tobytes(), self.kind)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lattice) and self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._key())


def _check_side(value: Any, name: str) -> int:
    if not (is_int(value) and value >= 2):
        raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    return int(value)


def _make(pairs: list[tuple[int, int]], shape: tuple[int, ...], sublattice: np.ndarray, kind: str) -> Lattice:
    bonds = np.unique(np.sort(np.asarray(pairs, dtype=np.int64), axis=1), axis=0)
    bonds = bonds[bonds[:, 0] != bonds[:, 1]]
    return Lattice(int(sublattice.size), bonds, shape, sublattice.astype(np.int64), kind)


def chain(n: int, pbc: bool = True) -> Lattice:
    r"""A chain of ``n`` sites with bonds :math:`(i, i+1)`, and :math:`(0, n-1)` if periodic.

    Bipartite for an even ``n``, or for any ``n`` with open ends; ``sublattice`` is
    :math:`i \bmod 2`. A periodic chain of 2 sites has the single bond ``(0, 1)``.

    Example:
        >>> chain(4).bonds.tolist()
        [[0, 1], [0, 3], [1, 2], [2, 3]]
    """
    n = _check_side(n, "n")
    pairs = [(i, i + 1) for i in range(n - 1)] + ([(0, n - 1)] if pbc else [])
    return _make(pairs, (n,), np.arange(n) % 2, "chain")


def square(lx: int, ly: int, pbc: bool = True) -> Lattice:
    r"""An ``lx × ly`` square lattice, site :math:`i = x\,l_y + y`, bonds to the right and up.

    Periodic in both directions if ``pbc``. ``sublattice`` is :math:`(x + y) \bmod 2`; the
    periodic lattice is bipartite when both sides are even (an odd side makes the
    wrap-around bond join two sites of the same colour).
    """
    lx, ly = _check_side(lx, "lx"), _check_side(ly, "ly")
    x, y = np.divmod(np.arange(lx * ly), ly)
    pairs = []
    for i in range(lx * ly):
        for dx, dy in ((1, 0), (0, 1)):
            xx, yy = x[i] + dx, y[i] + dy
            if pbc or (xx < lx and yy < ly):
                pairs.append((i, int((xx % lx) * ly + yy % ly)))
    return _make(pairs, (lx, ly), (x + y) % 2, "square")


def all_configurations(n: int, dtype: Any = None) -> Float[Array, "states n"]:
    r"""All :math:`2^n` configurations, row :math:`k` being :math:`s_i = 1 - 2 b_i(k)`.

    Args:
        n: number of sites, :math:`1 \le n \le 24`.
        dtype: float dtype of the result (default: JAX's default float).

    Returns:
        array of shape ``(2**n, n)``; row 0 is all :math:`+1`, the last row all :math:`-1`.
    """
    if not (is_int(n) and 1 <= n <= MAX_ENUMERATED_SITES):
        raise ValueError(f"n must be an integer between 1 and {MAX_ENUMERATED_SITES}, got {n!r}")
    k = jnp.arange(2**n, dtype=jnp.int32)[:, None]
    bits = (k >> jnp.arange(n - 1, -1, -1, dtype=jnp.int32)[None, :]) & 1
    return (1 - 2 * bits).astype(jnp.result_type(float) if dtype is None else dtype)


def configuration_index(s: Float[ArrayLike, "... n"]) -> Int[Array, ...]:
    r"""The basis index :math:`k = \sum_i b_i 2^{N-1-i}` of configurations, :math:`b_i = (1 - s_i)/2`.

    Pure JAX (jit- and vmap-able); the inverse of :func:`all_configurations`. Entries are
    read as up if positive and down otherwise.

    Args:
        s: configurations of shape ``(..., N)``, :math:`N \le 31`.

    Returns:
        integer array of shape ``(...)``.
    """
    s = jnp.asarray(s)
    n = s.shape[-1]
    if n > 31:
        raise ValueError(f"an index of {n} sites does not fit in 32 bits; at most 31 sites")
    powers = 2 ** jnp.arange(n - 1, -1, -1, dtype=jnp.int32)
    return (s <= 0).astype(jnp.int32) @ powers
