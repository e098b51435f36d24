r"""Conservation laws as null spaces: find what collisions conserve from before/after data.

A quantity :math:`Q = \sum_j c_j \phi_j` built from candidate features :math:`\phi_j`
(momenta, kinetic energies, velocities, …) is conserved in every observed collision
:math:`i` when

.. math::

    \sum_j c_j \,[\phi_j(\text{after}_i) - \phi_j(\text{before}_i)] = 0
    \quad\text{for all } i, \qquad\text{i.e.}\qquad A c = 0, \quad
    A_{ij} = \Delta\phi_j^{(i)} .

So the conservation laws are the null space of the :math:`n \times F` matrix :math:`A`
(:func:`delta_phi`), found from its singular values (:func:`null_space`); a basis of the
null space mixes the laws, and the *sparsest* null vectors (:func:`sparsest_null_vectors`)
are the ones a physicist would write down: :math:`m_1v_1 + m_2v_2` and
:math:`\tfrac12 m_1v_1^2 + \tfrac12 m_2v_2^2`.

The data come from simulated two-body collisions with restitution :math:`e`
(:func:`collide_1d`, :func:`collide_2d`): momentum is conserved always, kinetic energy only
for :math:`e = 1`; measurement noise (:func:`add_noise`) closes the gap between the zero and
the non-zero singular values (:func:`gap_versus_noise`).

Everything is NumPy in float64 (small dense linear algebra and an enumeration of supports),
whatever JAX's ``jax_enable_x64``; randomness comes from JAX keys.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np
from jaxtyping import ArrayLike, Float

from physml._checks import check_count, check_positive, is_int, is_real

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURES",
    "Collisions",
    "NoiseScan",
    "NullSpace",
    "SparseLaw",
    "add_noise",
    "collide_1d",
    "collide_2d",
    "delta_phi",
    "feature_matrix",
    "gap_versus_noise",
    "law_string",
    "null_space",
    "resolve_impact",
    "sparsest_null_vectors",
]

#: The per-particle features (mass, velocity, squared speed, momentum and kinetic energy).
FEATURES = ("m", "v", "v2", "mv", "KE")
#: The library used when none is named (momenta, kinetic energies, velocities, squared speeds).
DEFAULT_FEATURES = ("mv", "KE", "v", "v2")

_EPS = np.finfo(np.float64).eps


class Collisions(NamedTuple):
    r"""Observed two-body collisions (float64 NumPy arrays).

    Attributes:
        masses: shape ``(n, k)``: the masses of the ``k`` particles in each of ``n`` collisions.
        v_before: velocities before, shape ``(n, k)`` in 1-D or ``(n, k, 2)`` in 2-D.
        v_after: velocities after, same shape as ``v_before``.
        restitution: the coefficient of restitution :math:`e` of the simulation.
        normal: 2-D only: the unit line of centres from particle 1 to 2 at impact, shape
            ``(n, 2)``; ``None`` in 1-D (the line is the axis).
    """

    masses: np.ndarray
    v_before: np.ndarray
    v_after: np.ndarray
    restitution: float
    normal: np.ndarray | None = None


# ------------------------------------------------------------------------- simulation


def _numpy_rng(key: Any) -> np.random.Generator:
    """A NumPy generator seeded by a JAX key's bits (the same with or without x64)."""
    try:
        bits = np.asarray(jax.random.key_data(key)).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"key must be a jax.random key, got {key!r}") from None
    return np.random.default_rng(bits)


def _check_restitution(e: Any) -> float:
    if not (is_real(e) and 0.0 <= e <= 1.0):
        raise ValueError(f"restitution must be a number in [0, 1], got {e!r}")
    return float(e)


def _check_mass_range(mass_range: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(m) for m in mass_range)
    except (TypeError, ValueError):
        raise ValueError(f"mass_range must be a pair (low, high), got {mass_range!r}") from None
    if not (0 < lo <= hi < math.inf):
        raise ValueError(f"mass_range must satisfy 0 < low <= high < inf, got {mass_range!r}")
    return lo, hi


def resolve_impact(
    m1: Float[ArrayLike, " n"],
    m2: Float[ArrayLike, " n"],
    v1: Float[ArrayLike, "n d"],
    v2: Float[ArrayLike, "n d"],
    normal: Float[ArrayLike, "n d"],
    restitution: float,
) -> tuple[Float[np.ndarray, "n d"], Float[np.ndarray, "n d"]]:
    r"""Velocities after an impulsive contact along a unit ``normal`` (from particle 1 to 2).

    With the approach speed :math:`u_n = (v_1 - v_2)\cdot\hat n > 0` and the reduced mass
    :math:`\mu = m_1 m_2/(m_1 + m_2)`, the impulse :math:`J = (1 + e)\,\mu\,u_n` gives

    .. math::

        v_1' = v_1 - \frac{J}{m_1}\hat n, \qquad v_2' = v_2 + \frac{J}{m_2}\hat n ,

    which conserves momentum exactly, reverses the normal relative velocity with factor
    :math:`e` (:math:`u_n' = -e\,u_n`), leaves the tangential components alone and loses the
    kinetic energy :math:`\tfrac12\mu(1 - e^2)u_n^2`. In 1-D (:math:`\hat n = 1`) this is
    :math:`v_1' = [m_1v_1 + m_2v_2 - m_2 e(v_1 - v_2)]/(m_1 + m_2)` and symmetrically.
    """
    m1, m2 = np.asarray(m1, np.float64)[:, None], np.asarray(m2, np.float64)[:, None]
    v1, v2, normal = (np.asarray(a, np.float64) for a in (v1, v2, normal))
    u_n = np.sum((v1 - v2) * normal, axis=-1, keepdims=True)
    impulse = (1.0 + restitution) * m1 * m2 / (m1 + m2) * u_n
    return v1 - impulse / m1 * normal, v2 + impulse / m2 * normal


def collide_1d(
    key: Any,
    n: int,
    *,
    restitution: float = 1.0,
    mass_range: tuple[float, float] = (0.5, 2.0),
    speed: float = 1.0,
) -> Collisions:
    r"""``n`` head-on collisions of two particles on a line (:func:`resolve_impact` with :math:`\hat n = 1`).

    Each collision draws its own masses, uniform in ``mass_range``, and velocities uniform in
    :math:`[-s, s]` (:math:`s` = ``speed``), ordered so that particle 1, on the left, is the
    faster: :math:`v_1 > v_2`, so the two approach.

    The masses must vary from collision to collision: with the same masses every time,
    :math:`m_1v_1` is just a multiple of :math:`v_1`, and :math:`v_1 + v_2` (equal masses)
    or :math:`v_1 + (m_2/m_1)v_2` becomes a spurious "conserved quantity" of the data.
    ``mass_range=(1.0, 1.0)`` shows it.

    Args:
        key: a ``jax.random`` key.
        n: number of collisions (at least 1).
        restitution: :math:`e \in [0, 1]`: 1 elastic, 0 perfectly inelastic (the particles
            stick together), in between partially elastic.
        mass_range: ``(low, high)`` with :math:`0 < \text{low} \le \text{high}`.
        speed: largest initial speed :math:`s > 0`.

    Returns:
        :class:`Collisions` with ``masses``, ``v_before``, ``v_after`` of shape ``(n, 2)``.
    """
    rng = _numpy_rng(key)
    n = check_count(n, "n")
    e = _check_restitution(restitution)
    lo, hi = _check_mass_range(mass_range)
    speed = check_positive(speed, "speed")
    masses = rng.uniform(lo, hi, size=(n, 2))
    v = np.sort(rng.uniform(-speed, speed, size=(n, 2)), axis=1)[:, ::-1]
    v1, v2 = resolve_impact(masses[:, 0], masses[:, 1], v[:, :1], v[:, 1:], np.ones((n, 1)), e)
    return Collisions(masses, np.ascontiguousarray(v), np.concatenate([v1, v2], axis=1), e)


def collide_2d(
    key: Any,
    n: int,
    *,
    restitution: float = 1.0,
    mass_range: tuple[float, float] = (0.5, 2.0),
    speed: float = 1.0,
) -> Collisions:
    r"""``n`` collisions of two smooth disks in the plane (:func:`resolve_impact`).

    Masses uniform in ``mass_range`` per collision; velocity components uniform in
    :math:`[-s, s]`. The impact geometry is that of a uniform beam: the impact parameter
    :math:`b` is uniform in :math:`(-D, D)` (:math:`D` the sum of the radii), so the line of
    centres :math:`\hat n` makes the angle :math:`\alpha = \arcsin(b/D)` with the relative
    velocity :math:`v_1 - v_2` and the disks always approach. Only the normal component of
    the relative velocity changes (reversed with factor :math:`e`); the disks are smooth, so
    the tangential components are unchanged. Momentum is conserved in both components,
    kinetic energy only for :math:`e = 1`.

    Args:
        key: a ``jax.random`` key.
        n: number of collisions (at least 1).
        restitution: :math:`e \in [0, 1]`.
        mass_range: ``(low, high)`` with :math:`0 < \text{low} \le \text{high}`.
        speed: the velocity components' range :math:`s > 0`.

    Returns:
        :class:`Collisions` with ``masses`` of shape ``(n, 2)``, velocities of shape
        ``(n, 2, 2)`` (collision, particle, component) and ``normal`` of shape ``(n, 2)``.
    """
    rng = _numpy_rng(key)
    n = check_count(n, "n")
    e = _check_restitution(restitution)
    lo, hi = _check_mass_range(mass_range)
    speed = check_positive(speed, "speed")
    masses = rng.uniform(lo, hi, size=(n, 2))
    v = rng.uniform(-speed, speed, size=(n, 2, 2))
    alpha = np.arcsin(rng.uniform(-1.0, 1.0, size=n))
    u = v[:, 0] - v[:, 1]
    norm = np.linalg.norm(u, axis=1, keepdims=True)
    u_hat = np.where(norm > 0, u / np.where(norm > 0, norm, 1.0), np.array([1.0, 0.0]))
    c, s = np.cos(alpha)[:, None], np.sin(alpha)[:, None]
    normal = np.concatenate([c * u_hat[:, :1] - s * u_hat[:, 1:], s * u_hat[:, :1] + c * u_hat[:, 1:]], 1)
    v1, v2 = resolve_impact(masses[:, 0], masses[:, 1], v[:, 0], v[:, 1], normal, e)
    return Collisions(masses, v, np.stack([v1, v2], axis=1), e, normal)


def add_noise(collisions: Collisions, key: Any, sigma: float, *, relative: bool = False) -> Collisions:
    r"""The same collisions with measurement noise on every observed velocity.

    Before and after are measured independently: :math:`v \to v + \sigma\,\xi` with
    :math:`\xi` standard normal per component, or with ``relative=True``
    :math:`v \to v + \sigma\,|v|\,\xi` (a relative precision :math:`\sigma`). The masses are
    taken as known exactly. The same ``key`` gives the same :math:`\xi` for every
    :math:`\sigma`, so a scan over :math:`\sigma` is smooth.
    """
    c = _check_collisions(collisions)
    if not (is_real(sigma) and math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    rng = _numpy_rng(key)

    def noisy(v: np.ndarray) -> np.ndarray:
        xi = rng.standard_normal(v.shape)
        if not relative:
            return v + sigma * xi
        size = np.abs(v) if v.ndim == 2 else np.linalg.norm(v, axis=-1, keepdims=True)
        return v + sigma * size * xi

    return c._replace(v_before=noisy(c.v_before), v_after=noisy(c.v_after))


# --------------------------------------------------------------------------- features

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_COMPONENTS = ("ₓ", "ᵧ")


def _check_collisions(c: Any) -> Collisions:
    if not isinstance(c, Collisions):
        raise ValueError(f"expected Collisions, got {type(c).__name__}")
    m, vb, va = (np.asarray(a, np.float64) for a in (c.masses, c.v_before, c.v_after))
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(f"masses must have shape (n, k), got {m.shape}")
    if vb.shape != va.shape or vb.shape not in (m.shape, (*m.shape, 2)):
        raise ValueError(
            f"v_before and v_after must both have shape {m.shape} (1-D) or {(*m.shape, 2)} (2-D), "
            f"got {vb.shape} and {va.shape}"
        )
    if not (np.isfinite(m).all() and np.isfinite(vb).all() and np.isfinite(va).all()):
        raise ValueError("collisions contain NaN or infinity")
    return c._replace(masses=m, v_before=vb, v_after=va)


def _check_features(features: Any) -> tuple[str, ...]:
    if isinstance(features, str) or not isinstance(features, Sequence) or not features:
        raise ValueError(f"features must be a non-empty sequence of names from {FEATURES}, got {features!r}")
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; choose from {FEATURES}")
    if len(set(features)) != len(features):
        raise ValueError(f"features must not repeat, got {features!r}")
    return tuple(features)


def _feature(name: str, m: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Columns ``(n, cols)`` and labels of one feature for all particles (particle-major)."""
    n, k = m.shape
    planar = v.ndim == 3
    speed2 = np.sum(v * v, axis=-1) if planar else v * v
    i = [str(j + 1).translate(_SUB) for j in range(k)]
    vs = [f"|v{s}|²" if planar else f"v{s}²" for s in i]
    if name == "m":
        return m, [f"m{s}" for s in i]
    if name == "v2":
        return speed2, vs
    if name == "KE":
        return 0.5 * m * speed2, [f"½m{s}{w}" for s, w in zip(i, vs, strict=True)]
    if name == "v":
        values, labels = v, [f"v{s}" for s in i]
    else:  # "mv"
        values, labels = (m[..., None] if planar else m) * v, [f"m{s}v{s}" for s in i]
    if planar:
        return values.reshape(n, 2 * k), [f"{lab}{comp}" for lab in labels for comp in _COMPONENTS]
    return values, labels


def feature_matrix(
    collisions: Collisions, features: Sequence[str] = DEFAULT_FEATURES, when: str = "before"
) -> tuple[Float[np.ndarray, "n F"], tuple[str, ...]]:
    r"""The feature matrix :math:`\Phi_{ij} = \phi_j(\text{state}_i)` before or after each collision.

    Features (per particle, for each particle in turn):

    ======  =========================  ==============================  ===========================
    name    1-D                        2-D                             labels
    ======  =========================  ==============================  ===========================
    ``m``   :math:`m`                  :math:`m`                       m₁
    ``v``   :math:`v`                  :math:`v_x, v_y` (2 columns)    v₁ / v₁ₓ, v₁ᵧ
    ``v2``  :math:`v^2`                :math:`|v|^2`                   v₁² / \|v₁\|²
    ``mv``  :math:`mv`                 :math:`mv_x, mv_y` (2 columns)  m₁v₁ / m₁v₁ₓ, m₁v₁ᵧ
    ``KE``  :math:`\tfrac12 mv^2`      :math:`\tfrac12 m|v|^2`         ½m₁v₁² / ½m₁\|v₁\|²
    ======  =========================  ==============================  ===========================

    Columns come in the order of ``features``, then particle, then component.

    Args:
        collisions: :class:`Collisions`.
        features: names from ``FEATURES``.
        when: ``"before"`` or ``"after"``.

    Returns:
        ``(Phi, labels)``: ``Phi`` of shape ``(n, F)`` (float64) and ``F`` labels.
    """
    c = _check_collisions(collisions)
    features = _check_features(features)
    if when not in ("before", "after"):
        raise ValueError(f'when must be "before" or "after", got {when!r}')
    v = c.v_before if when == "before" else c.v_after
    columns, labels = zip(*(_feature(f, c.masses, v) for f in features), strict=True)
    return np.concatenate(columns, axis=1), tuple(lab for group in labels for lab in group)


def delta_phi(
    collisions: Collisions, features: Sequence[str] = DEFAULT_FEATURES
) -> tuple[Float[np.ndarray, "n F"], tuple[str, ...]]:
    r"""The change of every feature in every collision, :math:`A = \Phi(\text{after}) - \Phi(\text{before})`.

    A conserved combination :math:`\sum_j c_j\phi_j` is a null vector: :math:`Ac = 0`.

    Returns:
        ``(A, labels)`` with ``A`` of shape ``(n, F)``, float64.
    """
    after, labels = feature_matrix(collisions, features, "after")
    before, _ = feature_matrix(collisions, features, "before")
    return after - before, labels


# -------------------------------------------------------------------------- null space


class NullSpace(NamedTuple):
    r"""The numerical null space of :math:`A`, from the SVD of its column-normalised form.

    Attributes:
        singular_values: of :math:`\hat A = A D^{-1}` (see :func:`null_space`), descending,
            length ``F`` (padded with zeros when :math:`n < F`).
        basis: a basis of the null space of :math:`A` itself, shape ``(F, dimension)``: the
            vectors :math:`c = D^{-1}w` for an orthonormal basis :math:`w` of the null space
            of :math:`\hat A`, each scaled to unit length. Orthogonal in the normalised
            coordinates, where units do not matter, and in general not in raw units.
        dimension: the number of singular values at or below ``tolerance`` (or as requested).
        gap: smallest kept over largest discarded singular value — the evidence that the
            null space is real; ``inf`` if the discarded value is exactly zero, ``None`` if
            nothing or everything is discarded.
        tolerance: the absolute threshold used on ``singular_values``.
        column_scale: the column norms :math:`D` that :math:`A` was divided by, shape ``(F,)``.
    """

    singular_values: np.ndarray
    basis: np.ndarray
    dimension: int
    gap: float | None
    tolerance: float
    column_scale: np.ndarray


def _as_matrix(A: Any) -> np.ndarray:
    try:
        A = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"A must be a real matrix: {err}") from None
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"A must have shape (n, F) with n, F >= 1, got {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError("A contains NaN or infinity")
    return A


def _column_scale(A: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(A, axis=0)
    return np.where(norms > 0, norms, 1.0)


def _check_rtol(rtol: Any, shape: tuple[int, int]) -> float:
    if rtol is None:
        return max(shape) * _EPS
    if not (is_real(rtol) and math.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a finite number >= 0 or None, got {rtol!r}")
    return float(rtol)


def null_space(
    A: Float[ArrayLike, "n F"], *, rtol: float | None = None, dimension: int | None = None
) -> NullSpace:
    r"""Null space of :math:`A` by singular value decomposition, with the evidence for its dimension.

    The columns are first scaled to unit Euclidean norm, :math:`\hat A = A D^{-1}` with
    :math:`D = \operatorname{diag}(\lVert A_{:,j}\rVert)`, and the SVD
    :math:`\hat A = U \Sigma V^\top` is taken of :math:`\hat A`. A null vector :math:`w` of
    :math:`\hat A` is the null vector :math:`c = D^{-1}w` of :math:`A`, so exact null spaces
    are unchanged, but the *decision* which singular values count as zero no longer depends on
    units: measured in raw units, a feature that merely changes little (velocities in km/s next
    to energies in J) would look conserved, and a rescaled column would change the answer.
    After scaling, :math:`\sigma_\text{max} \in [1, \sqrt F]` (unless :math:`A = 0`). A
    column that is exactly zero (a feature that never changes, such as a mass) is left as it
    is: a one-feature law. No column is judged small *relative to the others* — that would
    depend on units again (in SI units a star's kinetic energy is :math:`10^{34}` times its
    speed). The flip side: a feature whose change is pure rounding error is amplified to a
    unit column and not recognised as conserved; compute conserved features exactly.

    Singular values :math:`\sigma_i \le \text{tol} = r\,\sigma_\text{max}` are zero, with the
    default :math:`r = \max(n, F)\,\epsilon` (NumPy's ``matrix_rank`` rule: the rounding
    error of an SVD of an :math:`n \times F` matrix). Noisy data need a larger ``rtol``, or a
    ``dimension`` fixed by the user; the ``gap`` says how clearly the data decide.

    Args:
        A: the matrix, shape ``(n, F)``, e.g. from :func:`delta_phi`.
        rtol: relative tolerance :math:`r \ge 0`; ``None`` for the default.
        dimension: keep exactly this many smallest singular directions instead of thresholding.

    Returns:
        a :class:`NullSpace`.

    Example:
        >>> null_space([[1.0, -1.0], [2.0, -2.0]]).dimension
        1
    """
    A = _as_matrix(A)
    n, F = A.shape
    r = _check_rtol(rtol, A.shape)
    scale = _column_scale(A)
    _, s, vt = np.linalg.svd(A / scale, full_matrices=n < F)
    s = np.concatenate([s, np.zeros(F - s.size)])
    tolerance = r * s[0]
    if dimension is None:
        k = int(np.sum(s <= tolerance))
    elif is_int(dimension) and 0 <= dimension <= F:
        k = int(dimension)
    else:
        raise ValueError(f"dimension must be an integer between 0 and {F}, got {dimension!r}")
    gap = None
    if 0 < k < F:
        gap = math.inf if s[F - k] == 0 else float(s[F - k - 1] / s[F - k])
    basis = vt[F - k :].T / scale[:, None]
    basis = basis / np.linalg.norm(basis, axis=0)
    return NullSpace(s, basis, k, gap, float(tolerance), scale)


# ----------------------------------------------------------------------- sparse laws


class SparseLaw(NamedTuple):
    r"""A conserved combination :math:`\sum_j c_j \phi_j` with few non-zero coefficients.

    Attributes:
        coefficients: :math:`c`, shape ``(F,)``, exactly zero off the support, scaled so that
            the largest :math:`|c_j|` is 1 and the first non-zero one is positive.
        support: indices of the non-zero coefficients.
        residual: :math:`\lVert \hat A w\rVert / (\sigma_\text{max}\lVert w\rVert)` in the
            column-normalised coordinates of :func:`null_space` (:math:`w = Dc`): the relative
            size of the violation, the number compared to ``rtol``.
    """

    coefficients: np.ndarray
    support: tuple[int, ...]
    residual: float


def sparsest_null_vectors(
    A: Float[ArrayLike, "n F"], *, rtol: float | None = None, max_support: int | None = None
) -> list[SparseLaw]:
    r"""A basis of sparse null vectors of :math:`A`: the conservation laws as one would write them.

    The null space (dimension :math:`k`, from :func:`null_space` with the same ``rtol``) is
    spanned by many bases; this one is built greedily from the sparsest vectors. Supports
    :math:`S` are enumerated by increasing size (then in column order); :math:`S` holds a law
    when the column-normalised :math:`\hat A_{:,S}` has a singular value at or below the
    tolerance of :func:`null_space`. The vector is kept if all its coefficients on :math:`S`
    are non-zero (otherwise a smaller support holds it) and it is independent of the vectors
    kept so far (its component orthogonal to them, in normalised coordinates, exceeds
    :math:`\max(10^{-8}, \sqrt{r})`). The search stops at :math:`k` vectors, or when the
    supports up to ``max_support`` are exhausted (then fewer are returned).

    Cost: at most :math:`\sum_{s \le s_\text{max}} \binom{F}{s}` SVDs of :math:`F\times s`
    matrices (the triangular factor of :math:`\hat A`, so independent of :math:`n`) — fine
    for :math:`F \lesssim 16`; above 20 columns ``max_support`` is required.

    Args:
        A: shape ``(n, F)``, e.g. from :func:`delta_phi`.
        rtol: as in :func:`null_space`.
        max_support: largest support size tried (default ``F``).

    Returns:
        a list of :class:`SparseLaw`, sparsest first.
    """
    A = _as_matrix(A)
    F = A.shape[1]
    if max_support is None:
        if F > 20:
            raise ValueError(f"A has {F} columns: set max_support to bound the 2^F supports")
        max_support = F
    max_support = min(check_count(max_support, "max_support"), F)
    ns = null_space(A, rtol=rtol)
    if ns.dimension == 0:
        return []
    r = _check_rtol(rtol, A.shape)
    scaled = A / ns.column_scale
    R = np.linalg.qr(scaled, mode="r")
    sigma_max = ns.singular_values[0]
    threshold = max(1e-8, math.sqrt(r))
    found: list[np.ndarray] = []
    laws: list[SparseLaw] = []
    for size in range(1, max_support + 1):
        for S in itertools.combinations(range(F), size):
            _, s, vt = np.linalg.svd(R[:, S], full_matrices=True)
            s = np.concatenate([s, np.zeros(size - s.size)])
            for j in np.flatnonzero(s <= ns.tolerance):
                w = np.zeros(F)
                w[list(S)] = vt[j]
                if np.abs(vt[j]).min() <= threshold:
                    continue
                orth = w - sum((q @ w) * q for q in found)
                if np.linalg.norm(orth) <= threshold:
                    continue
                found.append(orth / np.linalg.norm(orth))
                laws.append(_law(w, S, scaled, ns.column_scale, sigma_max))
                if len(laws) == ns.dimension:
                    return laws
    return laws


def _law(
    w: np.ndarray, S: tuple[int, ...], scaled: np.ndarray, scale: np.ndarray, sigma_max: float
) -> SparseLaw:
    c = w / scale
    c = c / c[np.argmax(np.abs(c))]
    c = c * np.sign(c[S[0]]) + 0.0  # + 0.0 turns -0.0 into 0.0
    residual = float(np.linalg.norm(scaled @ w) / sigma_max) if sigma_max > 0 else 0.0
    return SparseLaw(c, S, residual)


def law_string(law: SparseLaw, labels: Sequence[str], *, digits: int = 3) -> str:
    """A law as text, e.g. ``"m₁v₁ + m₂v₂ = const"``.

    Coefficients are printed with ``digits`` significant digits, and omitted when they round
    to 1: ``"v₁ − 0.5 v₂ = const"``.
    """
    if not isinstance(law, SparseLaw):
        raise ValueError(f"law must be a SparseLaw, got {type(law).__name__}")
    if len(labels) != law.coefficients.size:
        raise ValueError(f"need {law.coefficients.size} labels, got {len(labels)}")
    digits = check_count(digits, "digits")
    terms = []
    for j in law.support:
        c = float(law.coefficients[j])
        size = f"{abs(c):.{digits}g}"
        term = labels[j] if size == "1" else f"{size} {labels[j]}"
        if terms:
            terms.append(f"{'+' if c > 0 else '−'} {term}")
        else:
            terms.append(term if c > 0 else f"−{term}")
    return " ".join(terms) + " = const"


# ------------------------------------------------------------------------------ noise


class NoiseScan(NamedTuple):
    r"""Singular values of :math:`\hat A` as the measurement noise grows (:func:`gap_versus_noise`).

    Attributes:
        sigmas: the noise levels, shape ``(S,)``.
        singular_values: shape ``(S, F)``, each row descending.
        dimension: the number of laws in the noiseless data.
        gap: :math:`\sigma_{F-k}/\sigma_{F-k+1}` at that dimension :math:`k` for each noise
            level, shape ``(S,)`` (``inf`` when the data are exact to the last bit, ``nan`` if
            :math:`k = 0`).
        labels: the feature labels.
    """

    sigmas: np.ndarray
    singular_values: np.ndarray
    dimension: int
    gap: np.ndarray
    labels: tuple[str, ...]


def gap_versus_noise(
    key: Any,
    sigmas: Float[ArrayLike, " S"],
    *,
    n: int = 50,
    restitution: float = 1.0,
    features: Sequence[str] = DEFAULT_FEATURES,
    dim: int = 1,
    relative: bool = False,
) -> NoiseScan:
    r"""How measurement noise closes the gap that reveals the conservation laws.

    Simulates ``n`` collisions (:func:`collide_1d` or :func:`collide_2d`), finds the number
    :math:`k` of laws in the exact data, then for each noise level :math:`\sigma` adds noise
    (:func:`add_noise`, the same standard normal draws scaled by :math:`\sigma`, so the curves
    are smooth) and records the singular values of the column-normalised :math:`\hat A` and
    the gap between the :math:`k` smallest and the rest. The gap falls like :math:`1/\sigma`
    once noise exceeds rounding, and the laws are lost when it approaches 1.

    Args:
        key: a ``jax.random`` key.
        sigmas: noise levels :math:`\ge 0` (absolute, in units of ``speed`` = 1; relative if
            ``relative``).
        n: number of collisions.
        restitution: :math:`e`.
        features: the feature library.
        dim: 1 or 2 (space dimension of the collisions).
        relative: relative rather than absolute noise.

    Returns:
        a :class:`NoiseScan`.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if sigmas.size == 0 or not np.isfinite(sigmas).all() or (sigmas < 0).any():
        raise ValueError(f"sigmas must be finite numbers >= 0, got {sigmas!r}")
    if dim not in (1, 2):
        raise ValueError(f"dim must be 1 or 2, got {dim!r}")
    try:
        key_collide, key_noise = jax.random.split(key)
    except (TypeError, ValueError):
        raise ValueError(f"key must be a jax.random key, got {key!r}") from None
    collide = collide_1d if dim == 1 else collide_2d
    clean = collide(key_collide, n, restitution=restitution)
    A, labels = delta_phi(clean, features)
    k = null_space(A).dimension
    values = np.array(
        [
            null_space(
                delta_phi(add_noise(clean, key_noise, float(s), relative=relative), features)[0]
            ).singular_values
            for s in sigmas
        ]
    )
    F = values.shape[1]
    if 0 < k < F:
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = values[:, F - k - 1] / values[:, F - k]
    else:
        gap = np.full(sigmas.size, np.nan)
    return NoiseScan(sigmas, values, k, gap, labels)
