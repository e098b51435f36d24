r"""Complete-intersection Calabi–Yau threefolds (CICYs): configuration matrices and exact Euler numbers.

A CICY lives in a product of projective spaces
:math:`A = \mathbb P^{n_1}\times\dots\times\mathbb P^{n_m}` as the common zero set of :math:`K`
generic polynomials; polynomial :math:`j` is homogeneous of degree :math:`q^r_j \ge 0` in the
coordinates of factor :math:`r`. The configuration matrix lists the factors and the degrees,

.. math::

    X = \left[\begin{array}{c|ccc} n_1 & q^1_1 & \cdots & q^1_K \\ \vdots & & & \\
    n_m & q^m_1 & \cdots & q^m_K \end{array}\right],
    \qquad \dim_{\mathbb C} X = \sum_r n_r - K = 3 ,

written here in one line as ``[4|5]`` (the quintic) or ``[3|3 0 1; 3|0 3 1]`` (row ``n|q``
per factor). With :math:`J_r` the hyperplane class of :math:`\mathbb P^{n_r}` and
:math:`D_j = \sum_r q^r_j J_r` the class of equation :math:`j`, the adjunction formula gives
the total Chern class of :math:`X` as a class on :math:`A`,

.. math::

    c(X) = \frac{\prod_r (1 + J_r)^{n_r + 1}}{\prod_j (1 + D_j)} ,
    \qquad c_1(X) = \sum_r \Big(n_r + 1 - \sum_j q^r_j\Big) J_r ,

so :math:`X` is Calabi–Yau (:math:`c_1 = 0`) exactly when every row sums to :math:`n_r + 1`.
The numerator and denominator say that, as a virtual bundle, :math:`TX` has the Chern roots
:math:`J_r` (each :math:`n_r + 1` times) minus the :math:`D_j`, with power sums
:math:`p_k = \sum_r (n_r+1) J_r^k - \sum_j D_j^k`; Newton's identity
:math:`6c_3 = p_1^3 - 3p_1p_2 + 2p_3` with :math:`p_1 = c_1 = 0` leaves

.. math::

    c_3(X) = \tfrac13\Big(\sum_r (n_r + 1) J_r^3 - \sum_j D_j^3\Big), \qquad
    \chi(X) = \int_X c_3 = \int_A c_3 \prod_j D_j ,

an integral computed in the ring :math:`\mathbb Z[J_1,\dots,J_m]/(J_r^{n_r + 1})` with
:math:`\int_A \prod_r J_r^{n_r} = 1` (:func:`euler_number`, exact integer arithmetic). For a
Calabi–Yau threefold :math:`\chi = 2(h^{1,1} - h^{2,1})`. When every Kähler class of
:math:`X` comes from the ambient factors (a *favourable* CICY) :math:`h^{1,1} = m` and so
:math:`h^{2,1} = m - \chi/2` (:func:`favourable_hodge_numbers`); that fails, for instance, for
the Tian–Yau cover ``[3|3 0 1; 3|0 3 1]`` (:math:`\chi=-18`, :math:`h^{1,1}=14` not 2) and
Schoen's ``[1|1 1; 2|3 0; 2|0 3]`` (:math:`\chi=0`, :math:`h^{1,1}=19`).

Permuting rows or columns changes nothing: :func:`canonical_form` picks one representative.
Some configurations describe a manifold that a smaller one already describes
(:func:`exclusion_reason`): a column with a single entry 1 is a hyperplane,
:math:`\mathbb P^{n-1} \subset \mathbb P^n`; a single entry 2 in a :math:`\mathbb P^2` is a
conic :math:`\cong \mathbb P^1` (degrees double) and in a :math:`\mathbb P^3` a quadric
:math:`\cong \mathbb P^1\times\mathbb P^1`; a column of degree :math:`(1, k)` on two
:math:`\mathbb P^1` factors alone is the graph of a map :math:`\mathbb P^1\to\mathbb P^1`, a
:math:`\mathbb P^1`. A block-diagonal matrix is a product (e.g. :math:`T^2\times K3`,
:math:`\chi = 0`), not an irreducible threefold. :func:`enumerate_configurations` lists every
configuration with none of these, up to permutations: with at most :math:`m` factors
(:math:`\sum_r n_r \le m + 6` then, since every column has degree :math:`\ge 2`) there are
5, 46, 267, 1089, 3398 and 8209 for :math:`m \le 1,\dots,6`, with
:math:`-200 \le \chi \le 0` (68 distinct values for :math:`m \le 5`).
Compared with the CICY list of Candelas et al. (7890 matrices): where we checked it (its
entries with :math:`\chi \le -116`, all with :math:`m \le 4`) every listed configuration is
here and none has a column of the four kinds above; for :math:`m \le 2` the two sets agree
exactly, while ours has 8 more with :math:`m = 3`, 24 with :math:`m = 4` and 27 with
:math:`m = 5`, which the list leaves out as redundant under further identities (such as
ineffective splittings). The list keeps 22 block-diagonal products.

:func:`feature_matrix` and :func:`euler_numbers` turn configurations into inputs and targets
for learning :math:`\chi` from the matrix, as in He (2017), Bull, He, Jejjala & Mishra
(2018) and Erbin & Finotello (2021), who learned Hodge numbers of the 7890 CICYs.

References: P. Candelas, A. M. Dale, C. A. Lütken and R. Schimmrigk, "Complete intersection
Calabi–Yau manifolds", Nucl. Phys. B 298, 493 (1988), and their list of 7890 configuration
matrices with Euler and Hodge numbers (Tian–Yau's cover is entry 536, Schoen's entry 14);
T. Hübsch, *Calabi–Yau Manifolds: A Bestiary for Physicists* (World Scientific, 1992);
G. Tian and S.-T. Yau, "Three-dimensional algebraic manifolds with :math:`c_1 = 0` and
:math:`\chi = -6`" (1987); C. Schoen, "On fiber products of rational elliptic surfaces with
section", Math. Z. 197, 177 (1988).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._checks import check_count, is_int

__all__ = [
    "Configuration",
    "HodgeNumbers",
    "canonical_form",
    "configuration",
    "enumerate_configurations",
    "euler_number",
    "euler_numbers",
    "exclusion_reason",
    "favourable_hodge_numbers",
    "feature_matrix",
    "random_configurations",
]


class Configuration(NamedTuple):
    r"""A CICY configuration matrix (build it with :func:`configuration`, which checks it).

    ``str(config)`` is the one-line notation ``[n_1|q q ...; n_2|q q ...]``: ``[4|5]``,
    ``[2|3; 2|3]`` (the bicubic), ``[3|3 0 1; 3|0 3 1]``.

    Attributes:
        dims: :math:`(n_1, \dots, n_m)`, the ambient space :math:`\prod_r \mathbb P^{n_r}`.
        degrees: :math:`q^r_j`, one row per projective factor and one column per equation, a
            tuple of ``m`` tuples of length ``K``.
    """

    dims: tuple[int, ...]
    degrees: tuple[tuple[int, ...], ...]

    @property
    def num_factors(self) -> int:
        """:math:`m`, the number of projective factors."""
        return len(self.dims)

    @property
    def num_equations(self) -> int:
        """:math:`K`, the number of equations."""
        return len(self.degrees[0])

    def __str__(self) -> str:
        rows = (f"{n}|" + " ".join(map(str, row)) for n, row in zip(self.dims, self.degrees, strict=True))
        return "[" + "; ".join(rows) + "]"


class HodgeNumbers(NamedTuple):
    """The Hodge numbers :math:`(h^{1,1}, h^{2,1})` of a Calabi–Yau threefold."""

    h11: int
    h21: int


def _integer_array(value: Any, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError:
        raise ValueError(f"{name} must be a rectangular array of integers, got {value!r}") from None
    if array.size == 0:
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got {value!r} (dtype {array.dtype})")
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    return array.astype(np.int64)


def configuration(dims: Sequence[int], degrees: Sequence[Sequence[int]]) -> Configuration:
    r"""A checked :class:`Configuration` of a Calabi–Yau threefold in :math:`\prod_r\mathbb P^{n_r}`.

    Checks: integer entries; one row of ``degrees`` per factor; :math:`q^r_j \ge 0`; no
    equation of degree zero; the Calabi–Yau condition :math:`\sum_j q^r_j = n_r + 1` in every
    row; dimension :math:`\sum_r n_r - K = 3`. Rows and columns are numbered from 0.

    Args:
        dims: :math:`n_r \ge 1`, length :math:`m`.
        degrees: the degrees :math:`q^r_j`, shape ``(m, K)`` (nested sequences or an integer array).

    Returns:
        the :class:`Configuration`, with Python ints.

    Raises:
        ValueError: naming the entry, row or column that breaks a condition.
    """
    n = _integer_array(dims, "dims", 1)
    q = _integer_array(degrees, "degrees", 2)
    if n.size == 0 or np.any(n < 1):
        raise ValueError(f"dims must be integers n_r >= 1 (one per factor P^n_r), got {n.tolist()}")
    if q.shape[0] != n.size or q.shape[1] < 1:
        raise ValueError(
            f"degrees must have one row per projective factor ({n.size} here) and at least one "
            f"column (one per equation), got shape {q.shape}"
        )
    if np.any(q < 0):
        r, j = np.argwhere(q < 0)[0]
        raise ValueError(f"degrees must be >= 0: row {r} (P^{n[r]}), column {j} holds {q[r, j]}")
    if np.any(q.sum(axis=0) == 0):
        j = np.flatnonzero(q.sum(axis=0) == 0)[0]
        raise ValueError(f"column {j} has degree 0 in every factor: a constant, not an equation")
    if np.any(q.sum(axis=1) != n + 1):
        r = np.flatnonzero(q.sum(axis=1) != n + 1)[0]
        raise ValueError(
            f"row {r} (P^{n[r]}): degrees sum to {q[r].sum()}, "
            f"the Calabi–Yau condition needs n+1 = {n[r] + 1}"
        )
    if n.sum() - q.shape[1] != 3:
        raise ValueError(
            f"the complete intersection has dimension sum(n_r) - K = {n.sum()} - {q.shape[1]} = "
            f"{n.sum() - q.shape[1]}; a threefold needs 3"
        )
    return Configuration(tuple(n.tolist()), tuple(tuple(row) for row in q.tolist()))


def _checked(config: Any) -> Configuration:
    if not isinstance(config, Configuration):
        raise ValueError(
            f"expected a Configuration (from configuration(dims, degrees)), got {type(config).__name__}"
        )
    return configuration(config.dims, config.degrees)


# ---------------------------------------------------------------------- the Euler number


def _times_class(poly: dict, column: Sequence[int], dims: Sequence[int]) -> dict:
    r"""``poly`` times :math:`D = \sum_r q^r J_r` in :math:`\mathbb Z[J]/(J_r^{n_r+1})`;
    a polynomial is a dict from exponent tuples to integer coefficients."""
    product: dict = {}
    for exponent, coefficient in poly.items():
        for r, q in enumerate(column):
            if q and exponent[r] < dims[r]:
                raised = (*exponent[:r], exponent[r] + 1, *exponent[r + 1 :])
                product[raised] = product.get(raised, 0) + coefficient * q
    return product


def euler_number(config: Configuration) -> int:
    r"""The Euler number :math:`\chi = \int_A c_3 \prod_j D_j` of a CICY threefold, exactly.

    Uses :math:`3c_3 = \sum_r (n_r + 1) J_r^3 - \sum_j D_j^3` (valid because :math:`c_1 = 0`;
    module docstring) and multiplies truncated polynomials in Python integers: a fraction of a
    millisecond for a matrix with five factors.

    Args:
        config: a :class:`Configuration`.

    Returns:
        :math:`\chi`, a Python int: ``[4|5]`` gives -200, ``[2|3; 2|3]`` -162.
    """
    config = _checked(config)
    dims, columns = config.dims, list(zip(*config.degrees, strict=True))
    unit = (0,) * len(dims)
    volume: dict = {unit: 1}  # the class of X: prod_j D_j
    for column in columns:
        volume = _times_class(volume, column, dims)
    three_c3: dict = {}  # sum_r (n_r + 1) J_r^3 - sum_j D_j^3
    for r, n in enumerate(dims):
        if n >= 3:  # J_r^3 = 0 in P^1 and P^2
            three_c3[(*unit[:r], 3, *unit[r + 1 :])] = n + 1
    for column in columns:
        cube = functools.reduce(lambda p, _: _times_class(p, column, dims), range(3), {unit: 1})
        for exponent, coefficient in cube.items():
            three_c3[exponent] = three_c3.get(exponent, 0) - coefficient
    total = sum(
        coefficient * volume.get(tuple(n - e for n, e in zip(dims, exponent, strict=True)), 0)
        for exponent, coefficient in three_c3.items()
    )
    return total // 3


def favourable_hodge_numbers(config: Configuration) -> HodgeNumbers:
    r"""Hodge numbers :math:`h^{1,1} = m`, :math:`h^{2,1} = m - \chi/2`, valid for favourable CICYs only.

    Favourable: every Kähler class of :math:`X` is the restriction of one of the :math:`m`
    ambient hyperplane classes. Many CICYs are (the quintic (1, 101), the bicubic (2, 83), the
    tetraquadric (4, 68)), but not all: for ``[3|3 0 1; 3|0 3 1]`` this returns (2, 11),
    while the true values are (14, 23). :math:`\chi = 2(h^{1,1} - h^{2,1})` holds either way.

    Args:
        config: a :class:`Configuration`.

    Returns:
        :class:`HodgeNumbers` ``(h11, h21)``.
    """
    config = _checked(config)
    m = config.num_factors
    return HodgeNumbers(m, m - euler_number(config) // 2)


# -------------------------------------------------------- redundancy and canonical form


def _column_reduction(dims: Sequence[int], column: Sequence[int]) -> str | None:
    """Why a column cuts out a factor that a smaller ambient space already describes, or None."""
    support = [r for r, q in enumerate(column) if q]
    if len(support) == 1:
        r = support[0]
        n, q = dims[r], column[r]
        if q == 1:
            return f"a hyperplane in P^{n} (single entry 1), i.e. P^{n - 1}"
        if q == 2 and n == 2:
            return "a conic in P^2 (single entry 2), i.e. P^1 with doubled degrees"
        if q == 2 and n == 3:
            return "a quadric in P^3 (single entry 2), i.e. P^1 x P^1"
    if len(support) == 2 and all(dims[r] == 1 for r in support) and 1 in (column[r] for r in support):
        degree = tuple(column[r] for r in support)
        return f"a curve of degree {degree} in P^1 x P^1 alone, the graph of a map, i.e. P^1"
    return None


def _blocks(dims: Sequence[int], degrees: Sequence[Sequence[int]]) -> list[list[int]]:
    """Rows grouped into the connected blocks of the matrix (rows linked by shared equations)."""
    masks = [sum(1 << r for r, q in enumerate(c) if q) for c in zip(*degrees, strict=True)]
    blocks, left = [], (1 << len(dims)) - 1
    while left:
        block, grown = left & -left, 0
        while grown != block:
            grown = block
            block |= functools.reduce(int.__or__, (mask for mask in masks if mask & block), 0)
        blocks.append([r for r in range(len(dims)) if block >> r & 1])
        left &= ~block
    return blocks


def exclusion_reason(config: Configuration) -> str | None:
    r"""Why :func:`enumerate_configurations` leaves ``config`` out, or ``None`` if it keeps it.

    Left out: a block-diagonal matrix (a product of lower-dimensional Calabi–Yau manifolds),
    and a column that is a hyperplane, a conic in :math:`\mathbb P^2`, a quadric in
    :math:`\mathbb P^3` or a graph in :math:`\mathbb P^1\times\mathbb P^1` (the manifold
    then has a configuration in a smaller ambient space; module docstring).

    Args:
        config: a :class:`Configuration`.

    Returns:
        a sentence naming the rows or the column, or ``None``.
    """
    config = _checked(config)
    blocks = _blocks(config.dims, config.degrees)
    if len(blocks) > 1:
        return f"block diagonal, rows {blocks}: a product of lower-dimensional Calabi–Yau manifolds"
    for j, column in enumerate(zip(*config.degrees, strict=True)):
        reason = _column_reduction(config.dims, column)
        if reason is not None:
            return f"column {j} is {reason}"
    return None


def _ranks(keys: list) -> list[int]:
    lookup = {k: i for i, k in enumerate(sorted(set(keys)))}
    return [lookup[k] for k in keys]


def _row_classes(dims: Sequence[int], degrees: Sequence[Sequence[int]]) -> list[int]:
    """Labels of the rows that permutations of rows and columns preserve: a row is known by
    its n_r and by the entries it has in which columns (each column known by its entries)."""
    if len(set(dims)) == len(dims):
        return _ranks(list(dims))
    columns = [tuple(sorted(c)) for c in zip(*degrees, strict=True)]
    return _ranks(
        [(n, tuple(sorted(zip(row, columns, strict=True)))) for n, row in zip(dims, degrees, strict=True)]
    )


def _canonical(dims: Sequence[int], degrees: Sequence[Sequence[int]]) -> Configuration:
    labels = _row_classes(dims, degrees)
    order = sorted(range(len(labels)), key=lambda r: -labels[r])
    blocks = [list(g) for _, g in itertools.groupby(order, key=lambda r: labels[r])]
    if math.prod(math.factorial(len(b)) for b in blocks) > 100_000:
        raise ValueError(
            f"{Configuration(tuple(dims), tuple(degrees))} has too many interchangeable rows to try"
        )
    columns = list(zip(*degrees, strict=True))
    best_rows, best = None, None
    for rows in itertools.product(*map(itertools.permutations, blocks)):
        rows = sum(rows, ())
        candidate = sorted((tuple(c[r] for r in rows) for c in columns), reverse=True)
        if best is None or candidate > best:
            best_rows, best = rows, candidate
    return Configuration(tuple(dims[r] for r in best_rows), tuple(zip(*best, strict=True)))


def canonical_form(config: Configuration) -> Configuration:
    r"""The representative of ``config`` under permutations of rows and of columns.

    Rows are ordered by a signature that permutations preserve (:math:`n_r` first, largest
    first; then the row's entries, each paired with its column's sorted entries); rows with
    equal signatures are tried in every order, each with its columns sorted in decreasing
    lexicographic order, and the lexicographically largest column list wins.
    Two configurations related by permutations give the same result, and
    ``canonical_form(canonical_form(c)) == canonical_form(c)``.

    Args:
        config: a :class:`Configuration`.

    Returns:
        the canonical :class:`Configuration` (rows sorted by decreasing :math:`n_r`).
    """
    config = _checked(config)
    return _canonical(config.dims, config.degrees)


# ------------------------------------------------------------------------ the data sets


def _dims_lists(max_factors: int, max_dim: int) -> Iterable[tuple[int, ...]]:
    for m in range(1, max_factors + 1):
        for dims in itertools.combinations_with_replacement(range(max_dim, 0, -1), m):
            if 1 <= sum(dims) - 3 <= m + 3:  # K >= 1; every column has degree >= 2
                yield dims


def _column_multisets(dims: tuple[int, ...]) -> Iterable[tuple[tuple[int, ...], ...]]:
    """Every multiset of K allowed columns whose rows sum to n_r + 1 (depth-first search).

    Columns are tried in decreasing lexicographic order. Columns and what is left of the row
    sums are packed 5 bits a row into one integer, with a guard bit on top of each field:
    ``c <= b`` row by row exactly when ``(b | G) - c`` keeps every guard bit ``G``."""
    fields = [5 * r for r in range(len(dims))]
    guard = sum(16 << f for f in fields)
    candidates = sorted(
        (c for c in itertools.product(*(range(n + 2) for n in dims)) if sum(c) >= 2),
        reverse=True,
    )
    candidates = [c for c in candidates if _column_reduction(dims, c) is None]
    codes = [sum(x << f for x, f in zip(c, fields, strict=True)) for c in candidates]
    sizes = [sum(c) for c in candidates]
    first = [next((i for i, c in enumerate(candidates) if c[0] <= v), len(candidates)) for v in range(16)]
    index = {code: i for i, code in enumerate(codes)}

    def extend(start: int, left: int, budget: int, total: int, chosen: tuple) -> Iterable[tuple]:
        if left == 1:  # the last column is what is left of the budget
            i = index.get(budget, -1)
            if i >= start:
                yield (*chosen, candidates[i])
            return
        for i in range(max(start, first[budget & 15]), len(codes)):
            rest = total - sizes[i]
            if rest >= 2 * (left - 1) and ((budget | guard) - codes[i]) & guard == guard:
                yield from extend(i, left - 1, budget - codes[i], rest, (*chosen, candidates[i]))

    budget = sum((n + 1) << f for n, f in zip(dims, fields, strict=True))
    yield from extend(0, sum(dims) - 3, budget, sum(dims) + len(dims), ())


@functools.lru_cache(maxsize=8)
def _enumerate(max_factors: int, max_dim: int) -> tuple[Configuration, ...]:
    found = set()
    for dims in _dims_lists(max_factors, max_dim):
        for columns in _column_multisets(dims):
            degrees = tuple(zip(*columns, strict=True))
            if len(_blocks(dims, degrees)) == 1:
                found.add(_canonical(dims, degrees))
    return tuple(sorted(found, key=lambda c: (c.num_factors, c.num_equations, c)))


def enumerate_configurations(max_factors: int = 5, max_dim: int = 7) -> tuple[Configuration, ...]:
    r"""Every CICY threefold configuration with at most ``max_factors`` factors, up to permutations.

    Each is in :func:`canonical_form` and has no :func:`exclusion_reason`; sorted by
    :math:`m`, then :math:`K`, then the matrix. ``max_dim`` bounds every :math:`n_r`; 7 is no
    bound (:math:`n_r \le 7` always holds). Counts: 5, 46, 267, 1089, 3398, 8209 for
    ``max_factors`` 1–6 (on two busy cores 0.3 s for 1089, 2–5 s for 3398, 36 s for 8209;
    the result is cached).

    Args:
        max_factors: :math:`1 \le m_{\max} \le 6`.
        max_dim: :math:`n_{\max} \ge 1`.

    Returns:
        a tuple of :class:`Configuration`.
    """
    max_factors = check_count(max_factors, "max_factors")
    max_dim = check_count(max_dim, "max_dim")
    if max_factors > 6:
        raise ValueError(f"max_factors must be <= 6 (the search grows fast), got {max_factors}")
    return _enumerate(max_factors, min(max_dim, 7))


def random_configurations(
    key: Array, count: int, *, max_factors: int = 5, max_dim: int = 7
) -> list[Configuration]:
    """``count`` distinct configurations drawn uniformly from :func:`enumerate_configurations`.

    Deterministic given ``key``; distinct up to permutations, none with an
    :func:`exclusion_reason`. With the defaults the pool holds 3398 configurations, 68 % of
    them with five factors.

    Args:
        key: a ``jax.random`` key.
        count: how many, at most the size of the pool.
        max_factors: bound on :math:`m` (see :func:`enumerate_configurations`).
        max_dim: bound on every :math:`n_r`.

    Returns:
        a list of :class:`Configuration`, in canonical form, in the order drawn.
    """
    count = check_count(count, "count")
    pool = enumerate_configurations(max_factors, max_dim)
    if count > len(pool):
        raise ValueError(
            f"count must be at most {len(pool)}, the number of distinct configurations with "
            f"max_factors={max_factors}, max_dim={max_dim}; got {count}"
        )
    picks = jax.random.choice(key, len(pool), (count,), replace=False)
    return [pool[i] for i in np.asarray(picks).tolist()]


def _checked_list(configs: Any) -> list[Configuration]:
    configs = list(configs)
    if not configs:
        raise ValueError("configs must hold at least one Configuration")
    return [_checked(c) for c in configs]


def feature_matrix(
    configs: Iterable[Configuration], *, shape: tuple[int, int] | None = None
) -> Float[Array, "count m_max k_max_plus_1"]:
    r"""Zero-padded canonical configuration matrices, inputs for a network that predicts :math:`\chi`.

    Entry ``[i, r, 0]`` is :math:`n_r` and ``[i, r, 1 + j]`` is :math:`q^r_j` of the
    :func:`canonical_form` of ``configs[i]``; missing rows and columns are 0 (a zero row reads as
    :math:`\mathbb P^0`, a point: padding changes nothing).

    Args:
        configs: :class:`Configuration` objects.
        shape: ``(m_max, K_max)``; by default the largest :math:`m` and :math:`K` present.

    Returns:
        array of shape ``(count, m_max, K_max + 1)``, JAX's default float dtype.
    """
    canonical = [canonical_form(c) for c in _checked_list(configs)]
    if shape is None:
        shape = (max(c.num_factors for c in canonical), max(c.num_equations for c in canonical))
    if not (isinstance(shape, tuple) and len(shape) == 2 and all(is_int(s) and s >= 1 for s in shape)):
        raise ValueError(f"shape must be a pair of positive integers (m_max, K_max), got {shape!r}")
    features = np.zeros((len(canonical), shape[0], shape[1] + 1))
    for i, c in enumerate(canonical):
        if c.num_factors > shape[0] or c.num_equations > shape[1]:
            raise ValueError(
                f"configs[{i}] = {c} has shape {(c.num_factors, c.num_equations)}, beyond {shape}"
            )
        features[i, : c.num_factors, 0] = c.dims
        features[i, : c.num_factors, 1 : 1 + c.num_equations] = c.degrees
    return jnp.asarray(features, dtype=jnp.result_type(float))


def euler_numbers(configs: Iterable[Configuration]) -> Int[Array, " count"]:
    """The :func:`euler_number` of each configuration, as a JAX integer array of shape ``(count,)``."""
    return jnp.asarray([euler_number(c) for c in _checked_list(configs)], dtype=jnp.result_type(int))
