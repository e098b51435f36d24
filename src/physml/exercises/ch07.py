r"""Exercises of "Physics as inductive bias" (``exercises/07_physics_as_inductive_bias.ipynb``).

The values a checker compares to are the chapter's: pair forces and plaquettes are written out in NumPy
(:func:`pair_forces_reference`, :func:`plaquette_reference`, :func:`gauge_transform_reference` — a
compilation per shape of :func:`physml.forces.pair_forces` would slow the first check down), and
``tests/test_exercises_ch07.py`` proves them equal to :func:`physml.forces.pair_forces`,
:func:`physml.gauge.plaquette_angles` and :func:`physml.gauge.gauge_transform`; the symmetric part and
the error ratio come from :func:`physml.onsager.symmetrize` and :func:`physml.onsager.expected_error_ratio`,
the learned Landau model from :func:`physml.landau.train_ode` and :func:`physml.landau.learned_tc`, and the
energy errors of an HNN and a baseline from :func:`physml.hnn.train`, :func:`physml.hnn.rollout` and
:func:`physml.hnn.energy_error`. The tests check each against an independent computation: forces summed
pair by pair, plaquettes as loops over sites, the ratio :math:`(n+1)/(2n)` from the projection onto the
symmetric matrices, the zero of a ``np.polyfit`` line, the energy :math:`\frac12(p^2 + q^2)` along the
rollouts. Random numbers come from fixed ``jax.random`` keys (:func:`standard_normal`, :func:`uniform`);
everything is float64.

Conventions: :math:`r_{ij} = x_i - x_j`, :math:`F_i = \sum_{j\ne i} f(|r_{ij}|)\,\hat r_{ij}` with
:math:`f > 0` repulsive; links ``theta[mu - 1, x1, x2]`` on an :math:`L\times L` torus and
:math:`\theta_P(x) = \theta_1(x) + \theta_2(x+\hat1) - \theta_1(x+\hat2) - \theta_2(x)`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from .. import hnn, landau, onsager
from .._checks import is_real
from ..integrators import harmonic_oscillator
from ..plotting import Scene, figure, with_scene
from ._core import (
    FLOAT32_ADVICE,
    Wrong,
    as_array,
    as_float,
    call_quietly,
    close,
    exercise,
    in_float64,
    nonfinite,
    show,
    tolerance,
)

NOTEBOOK = "07_physics_as_inductive_bias"

#: Relative tolerance of the diagnoses, wide enough for answers computed in float32.
_LOOSE = 1e-4


#: Length of every random draw of this module (one compiled function serves them all).
_DRAW = 4096


@functools.lru_cache(maxsize=64)
def _draw(seed: int, normal: bool) -> np.ndarray:
    with jax.enable_x64(True):
        sample = jax.random.normal if normal else jax.random.uniform
        values = np.asarray(sample(jax.random.key(seed), (_DRAW,), jnp.float64))
    values.setflags(write=False)
    return values


def standard_normal(seed: int, size: int) -> np.ndarray:
    """The first ``size`` of 4096 standard normal numbers drawn from ``jax.random.key(seed)``, float64."""
    if not (0 < size <= _DRAW):
        raise ValueError(f"size must be between 1 and {_DRAW}, got {size!r}")
    return _draw(seed, True)[:size].copy()


def uniform(seed: int, size: int) -> np.ndarray:
    """The first ``size`` of 4096 numbers uniform on [0, 1) drawn from ``jax.random.key(seed)``, float64."""
    if not (0 < size <= _DRAW):
        raise ValueError(f"size must be between 1 and {_DRAW}, got {size!r}")
    return _draw(seed, False)[:size].copy()


def _shape_of(raw: Any) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(raw))
    except Exception:
        return None


# ------------------------------------------------------------------------ exercise 7.1


class TanhForce:
    r"""A small fixed network as a force magnitude, :math:`f(r) = \sum_k a_k\tanh(w_k r + c_k)`.

    Works elementwise on a number, a NumPy array or a JAX array (also under ``jit``).

    Attributes:
        a, w, c: the weights, float64 arrays of shape ``(H,)``.
    """

    def __init__(self, a: ArrayLike, w: ArrayLike, c: ArrayLike) -> None:
        self.a, self.w, self.c = (np.asarray(v, dtype=np.float64) for v in (a, w, c))

    def __call__(self, r: Any) -> Any:
        xp = jnp if isinstance(r, jax.Array) else np
        r = xp.asarray(r)
        shape = (1,) * r.ndim + (-1,)
        hidden = xp.tanh(r[..., None] * self.w.reshape(shape) + self.c.reshape(shape))
        return xp.sum(hidden * self.a.reshape(shape), axis=-1)

    def __repr__(self) -> str:
        return "a small tanh network f(r)"


def spring_magnitude(r: Any) -> Any:
    r"""A spring of unit stiffness and rest length, :math:`f(r) = -(r - 1)`: repulsive when compressed."""
    return 1.0 - r


def inverse_square_magnitude(r: Any) -> Any:
    r"""A repulsive inverse-square force, :math:`f(r) = 1/(2r^2)`."""
    return 0.5 / r**2


#: The force magnitudes of exercise 7.1, by name.
MAGNITUDES_7_1: dict[str, Any] = {
    "a spring f(r) = 1 − r": spring_magnitude,
    "an inverse square f(r) = 1/(2r²)": inverse_square_magnitude,
    "a small tanh network f(r)": TanhForce([0.8, -0.5, 0.3], [1.3, -0.7, 2.1], [-0.4, 0.9, 0.2]),
}
#: The cases of exercise 7.1, ``(magnitude name, N, D, seed)``; positions are normal with unit spread.
SPECS_7_1: tuple[tuple[str, int, int, int], ...] = (
    ("a spring f(r) = 1 − r", 3, 2, 711),
    ("a spring f(r) = 1 − r", 2, 1, 712),
    ("an inverse square f(r) = 1/(2r²)", 6, 3, 713),
    ("a small tanh network f(r)", 6, 2, 714),
    ("a small tanh network f(r)", 2, 3, 715),
    ("an inverse square f(r) = 1/(2r²)", 3, 1, 716),
)


class Case71(NamedTuple):
    """One case of exercise 7.1.

    Attributes:
        label: a few words for messages.
        f: the force magnitude, a function of the distance.
        x: positions, float64, shape ``(N, D)``.
        forces: the pair forces of ``f`` at ``x`` (:func:`pair_forces_reference`), float64, ``(N, D)``.
    """

    label: str
    f: Any
    x: np.ndarray
    forces: np.ndarray


def positions_7_1(seed: int, n: int, dim: int) -> np.ndarray:
    """``n`` positions in ``dim`` dimensions, standard normal (:func:`standard_normal`), float64."""
    return standard_normal(seed, n * dim).reshape(n, dim)


def pair_forces_reference(f: Any, x: np.ndarray) -> np.ndarray:
    r""":math:`F_i = \sum_{j\ne i} f(|r_{ij}|)\,\hat r_{ij}` in NumPy, float64, shape ``(N, D)``: the same
    forces as :func:`physml.forces.pair_forces` (the tests prove it), without a compilation per shape."""
    r, d, magnitude = pair_terms(f, x)
    return np.sum((magnitude / np.where(d > 0, d, 1.0))[..., None] * r, axis=1)


@functools.cache
def cases_7_1() -> tuple[Case71, ...]:
    """The cases of exercise 7.1 (:data:`SPECS_7_1`) and their forces (:func:`pair_forces_reference`)."""
    cases = []
    for name, n, dim, seed in SPECS_7_1:
        f, x = MAGNITUDES_7_1[name], positions_7_1(seed, n, dim)
        label = f"{name}, N = {n} particles in D = {dim}"
        cases.append(Case71(label, f, x, pair_forces_reference(f, x)))
    return tuple(cases)


def pair_terms(f: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""For every ordered pair: :math:`r_{ij} = x_i - x_j` ``(N, N, D)``, :math:`|r_{ij}|` ``(N, N)`` and
    :math:`f(|r_{ij}|)` ``(N, N)``, with 0 on the diagonal (:math:`j = i`); NumPy, float64."""
    r = x[:, None, :] - x[None, :, :]
    d = np.sqrt(np.sum(r**2, axis=-1))
    off = ~np.eye(x.shape[0], dtype=bool)
    magnitude = np.where(off, np.asarray(f(np.where(off, d, 1.0)), dtype=np.float64), 0.0)
    return r, d, magnitude


def _variants_7_1(case: Case71) -> list[tuple[np.ndarray, str]]:
    r, d, f = pair_terms(case.f, case.x)
    unit = r / np.where(d > 0, d, 1.0)[..., None]
    upper = np.triu(np.ones_like(d), 1)[..., None]
    return [
        (
            -case.forces,
            "the sign is flipped: r̂_ij points from j to i, r_ij = x_i − x_j, so f > 0 pushes i away.",
        ),
        (
            np.sum(f[..., None] * r, axis=1),
            "the direction is not normalised: f(r) r_ij has length f(r)·r; divide r_ij by its length r.",
        ),
        (2 * case.forces, "twice the forces: each pair acts once on i (and once, oppositely, on j)."),
        (case.forces / 2, "half the forces: F_i sums f r̂_ij over every j ≠ i, not half of them."),
        (
            np.sum((f[..., None] * unit) * upper, axis=1),
            "only the pairs j > i are summed, so the forces do not add up to zero: Newton's third law is "
            "broken. Sum over every j ≠ i (or add each pair force to i and subtract it from j).",
        ),
    ]


def _forces_value(raw: Any, case: Case71, where: str) -> np.ndarray:
    n, dim = case.x.shape
    if nonfinite(raw) == "nan":
        raise Wrong(
            f"{where} your forces contain NaN — the term j = i? r_ii = 0, so r_ii/|r_ii| is 0/0: skip j = i."
        )
    if nonfinite(raw) is not None:
        raise Wrong(f"{where} your forces contain an infinity — f(0) from the term j = i? Skip j = i.")
    shape = _shape_of(raw)
    if shape == (n, n, dim):
        raise Wrong(
            f"{where} you return shape {shape}, one force per pair: sum over j to get F_i, "
            f"shape ({n}, {dim}).",
        )
    if shape == (dim, n) and dim != n:
        raise Wrong(
            f"{where} you return shape {shape}, transposed: one row per particle, shape ({n}, {dim})."
        )
    if shape in ((n,), (n, n)):
        raise Wrong(f"{where} you return shape {shape}, magnitudes: F_i is a vector, shape ({n}, {dim}).")
    return as_array(raw, (n, dim), what=f"the forces {where}")


@exercise(
    "7.1",
    title="Newton's third law by construction",
    answer="pair_total_forces",
    notebook=NOTEBOOK,
    time_limit=30.0,  # the first check compiles the package's forces for six shapes
    hints=(
        "F_i = Σ_{j≠i} f(|r_ij|) r_ij/|r_ij| with r_ij = x_i − x_j: the force of j on i, along the line "
        "from j to i, repulsive for f > 0.",
        "r = x[:, None, :] - x[None, :, :] has shape (N, N, D); its length d = np.linalg.norm(r, axis=-1) "
        "is 0 on the diagonal — leave j = i out (mask it, or loop over j != i).",
        "Loop: for i, for j != i: rij = x[i] - x[j]; d = np.linalg.norm(rij); F[i] += f(d) * rij / d.",
    ),
)
def check_pair_total_forces(answer: Any) -> str | None:
    r"""``answer(f, x)`` returns :func:`physml.forces.pair_forces` for every case of :func:`cases_7_1`."""
    for case in cases_7_1():
        where = f"for {case.label}"
        raw = call_quietly(answer, case.f, case.x.copy(), what=f"{where}: your pair_total_forces")
        got = _forces_value(raw, case, where)
        scale = float(np.max(np.abs(case.forces)))
        rtol = tolerance(raw)
        if close(got, case.forces, rtol, rtol * scale):
            continue
        for value, text in _variants_7_1(case):
            if not close(value, case.forces, _LOOSE, _LOOSE * scale) and close(
                got, value, _LOOSE, _LOOSE * scale
            ):
                raise Wrong(f"{where}: {text}")
        if close(got, case.forces, _LOOSE, _LOOSE * scale):
            raise Wrong(f"{where} your forces agree only to float32 digits. {FLOAT32_ADVICE}")
        total = got.sum(axis=0)
        if np.max(np.abs(total)) > _LOOSE * scale:
            raise Wrong(
                f"{where} your forces add up to {show(total)}, not zero: Newton's third law is broken — each "
                "pair must push i and j equally and oppositely."
            )
        raise Wrong(
            f"{where} you return {show(got[0])} for particle 0; the force on it is {show(case.forces[0])}."
        )
    return (
        "Each pair force f(r) r̂_ij is antisymmetric in i and j, so ΣF_i = 0 whatever f is: a network that "
        "learns only the scalar f(r) conserves momentum by construction — the next cell checks it."
    )


def numpy_forces(fn: Any) -> Any:
    """Wrap a NumPy function ``x (N, D) -> forces (N, D)`` so that JAX can trace it
    (``jax.pure_callback``), e.g. for :func:`physml.forces.simulate`."""

    def wrapped(x: Array) -> Array:
        spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
        return jax.pure_callback(lambda y: np.asarray(fn(np.asarray(y)), dtype=y.dtype), spec, x)

    return wrapped


# ------------------------------------------------------------------------ exercise 7.2

#: The lattices of exercise 7.2, ``(L, seed, kind)``; ``kind`` is ``"hot"`` (angles uniform in
#: [-π, π)), ``"large"`` (uniform in [-8, 8), not wrapped), ``"gauge"`` (a hot start after a random
#: gauge transformation) or ``"one link"`` (θ₁(0, 0) = 1, all else 0).
SPECS_7_2: tuple[tuple[int, int, str], ...] = (
    (3, 721, "one link"),
    (4, 722, "hot"),
    (2, 723, "hot"),
    (3, 724, "large"),
    (5, 725, "hot"),
    (4, 726, "gauge"),
)


class Case72(NamedTuple):
    """One configuration of exercise 7.2.

    Attributes:
        label: a few words for messages.
        theta: link angles, float64, shape ``(2, L, L)``.
        plaquettes: the plaquette angles (:func:`plaquette_reference`), float64, shape ``(L, L)``.
    """

    label: str
    theta: np.ndarray
    plaquettes: np.ndarray


def gauge_transform_reference(theta: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    r""":math:`\theta_\mu(x) + \alpha(x) - \alpha(x + \hat\mu)` in NumPy, not wrapped (the tests prove
    it equal to :func:`physml.gauge.gauge_transform` modulo :math:`2\pi`); shapes ``(2, L, L)``
    and ``(L, L)``."""
    return theta + np.stack([alpha - _up(alpha, 0), alpha - _up(alpha, 1)])


def plaquette_reference(theta: np.ndarray) -> np.ndarray:
    r""":math:`\theta_P(x) = \theta_1(x) + \theta_2(x+\hat1) - \theta_1(x+\hat2) - \theta_2(x)` in NumPy, not
    wrapped: the same as :func:`physml.gauge.plaquette_angles` (the tests prove it); shape ``(L, L)``."""
    t1, t2 = theta
    return t1 + _up(t2, 0) - _up(t1, 1) - t2


def links_7_2(L: int, seed: int, kind: str) -> np.ndarray:
    """The links of one configuration of :data:`SPECS_7_2`, float64, shape ``(2, L, L)``, from
    :func:`uniform` numbers."""
    if kind == "one link":
        theta = np.zeros((2, L, L))
        theta[0, 0, 0] = 1.0
        return theta
    u = uniform(seed, 3 * L * L)
    theta = (8.0 if kind == "large" else np.pi) * (2 * u[: 2 * L * L] - 1).reshape(2, L, L)
    if kind == "gauge":
        theta = gauge_transform_reference(theta, np.pi * (2 * u[2 * L * L :] - 1).reshape(L, L))
    return theta


@functools.cache
def cases_7_2() -> tuple[Case72, ...]:
    """The configurations of exercise 7.2 (:data:`SPECS_7_2`) and their plaquette angles
    (:func:`plaquette_reference`)."""
    cases = []
    names = {"hot": "random links", "large": "links of large angles", "one link": "θ₁(0, 0) = 1, all else 0"}
    for L, seed, kind in SPECS_7_2:
        theta = links_7_2(L, seed, kind)
        text = names.get(kind, "random links after a random gauge transformation")
        cases.append(Case72(f"{text} on the {L}×{L} torus", theta, plaquette_reference(theta)))
    return tuple(cases)


def _up(a: np.ndarray, axis: int, n: int = 1) -> np.ndarray:
    """:math:`a(x + n\\hat\\mu)` for the lattice axis ``axis`` (0 for direction 1, 1 for direction 2)."""
    return np.roll(a, -n, axis=axis)


def _variants_7_2(theta: np.ndarray) -> list[tuple[np.ndarray, str]]:
    t1, t2 = theta[0], theta[1]
    return [
        (
            -(t1 + _up(t2, 0) - _up(t1, 1) - t2),
            "the orientation is reversed (the sign of θ_P): go anticlockwise, "
            "θ₁(x) + θ₂(x+1̂) − θ₁(x+2̂) − θ₂(x).",
        ),
        (
            t1 + _up(t2, 0, -1) - _up(t1, 1, -1) - t2,
            "the shifts go the wrong way: θ₂(x+1̂) is np.roll(theta[1], -1, axis=0) — roll by −1 brings the "
            "neighbour at x+1̂ to x.",
        ),
        (
            t1 + _up(t2, 1) - _up(t1, 0) - t2,
            "the shifts are along the wrong axes: x+1̂ moves along axis 0 of an (L, L) array, "
            "x+2̂ along axis 1.",
        ),
        (
            t2 + _up(t1, 0) - _up(t2, 1) - t1,
            "the link directions are swapped: theta[0] holds θ₁, the links from x to x+1̂ (along axis 0), and "
            "theta[1] holds θ₂.",
        ),
        (
            t1 + _up(t2, 0) + _up(t1, 1) + t2,
            "all four links are added: the two links walked backwards, θ₁(x+2̂) and θ₂(x), enter with a minus "
            "sign (U† = e^{−iθ}).",
        ),
    ]


def _angle_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:math:`|a - b|` modulo :math:`2\\pi`, in :math:`[0, \\pi]`."""
    return np.abs(np.angle(np.exp(1j * (a - b))))


def _plaquette_value(raw: Any, case: Case72, where: str) -> np.ndarray:
    L = case.theta.shape[-1]
    if nonfinite(raw) is not None:
        raise Wrong(f"{where} your plaquettes contain {nonfinite(raw).lstrip('+')}.")
    if not isinstance(raw, (str, bytes)) and _shape_of(raw) == (L, L) and np.iscomplexobj(raw):
        raise Wrong(
            f"{where} you return complex numbers, U_P = e^{{iθ_P}}; the exercise asks for the angle θ_P."
        )
    shape = _shape_of(raw)
    if shape == (L - 1, L - 1):
        raise Wrong(
            f"{where} you return shape {shape}: the boundary plaquettes are missing. The lattice is a torus: "
            "shift with np.roll, not by slicing."
        )
    if shape == () and raw is not None and not isinstance(raw, (str, bytes)):
        raise Wrong(f"{where} you return one number; θ_P is a field, one angle per site, shape ({L}, {L}).")
    return as_array(raw, (L, L), what=f"the plaquettes {where}")


@exercise(
    "7.2",
    title="The plaquette",
    answer="plaquette",
    notebook=NOTEBOOK,
    hints=(
        "θ_P(x) = θ₁(x) + θ₂(x+1̂) − θ₁(x+2̂) − θ₂(x): once around the unit square with corner x, "
        "anticlockwise; the links walked backwards count with a minus sign.",
        "theta[0] is θ₁ and theta[1] is θ₂, arrays indexed [x1, x2]; f(x+1̂) is np.roll(f, -1, axis=0) and "
        "f(x+2̂) is np.roll(f, -1, axis=1) — periodic, as the torus needs.",
        "t1, t2 = theta; return t1 + np.roll(t2, -1, axis=0) - np.roll(t1, -1, axis=1) - t2",
    ),
)
def check_plaquette(answer: Any) -> str | None:
    r"""``answer(theta)`` equals :func:`physml.gauge.plaquette_angles` modulo :math:`2\pi` on every
    configuration of :func:`cases_7_2`."""
    for case in cases_7_2():
        where = f"for {case.label}"
        raw = call_quietly(answer, case.theta.copy(), what=f"{where}: your plaquette")
        got = _plaquette_value(raw, case, where)
        rtol = max(tolerance(raw), 1e-9)
        if np.all(_angle_gap(got, case.plaquettes) <= rtol * 20):
            continue
        for value, text in _variants_7_2(case.theta):
            if np.max(_angle_gap(value, case.plaquettes)) > _LOOSE and np.all(
                _angle_gap(got, value) <= _LOOSE
            ):
                raise Wrong(f"{where}: {text}")
        if np.allclose(got, np.cos(case.plaquettes), atol=_LOOSE):
            raise Wrong(
                f"{where} you return cos θ_P, the term of the Wilson action; the exercise asks for "
                "θ_P itself."
            )
        if np.all(_angle_gap(got, case.plaquettes) <= _LOOSE):
            raise Wrong(f"{where} your angles agree only to float32 digits. {FLOAT32_ADVICE}")
        _check_gauge_invariance(answer, case, got, where)
        site = np.unravel_index(int(np.argmax(_angle_gap(got, case.plaquettes))), got.shape)
        raise Wrong(
            f"{where} your θ_P at x = {tuple(int(i) for i in site)} is {got[site]:.4g}; it should be "
            f"{case.plaquettes[site]:.4g} (mod 2π)."
        )
    return (
        "θ_P is a closed loop, so a gauge transformation α(x) cancels around it: the check also fed you "
        "gauge-transformed links. A network that sees only plaquettes is gauge invariant by construction."
    )


def _check_gauge_invariance(answer: Any, case: Case72, got: np.ndarray, where: str) -> None:
    L = case.theta.shape[-1]
    moved = gauge_transform_reference(case.theta, np.pi * (2 * uniform(727, L * L) - 1).reshape(L, L))
    raw = call_quietly(answer, moved, what=f"{where}: your plaquette")
    if nonfinite(raw) is None and _shape_of(raw) == (L, L) and not np.iscomplexobj(raw):
        other = as_array(raw, (L, L))
        if np.max(_angle_gap(other, got)) > _LOOSE:
            raise Wrong(
                f"{where} your result is not gauge invariant: after a random gauge transformation of the "
                "links it changes. Only a closed loop of links (with the backward ones subtracted) is "
                "invariant."
            )


# ------------------------------------------------------------------------ exercise 7.3


class Case73(NamedTuple):
    """One matrix of exercise 7.3: a label, the matrix ``W`` (as handed over) and ``sym W``, float64."""

    label: str
    W: np.ndarray
    symmetric: np.ndarray


@functools.cache
def cases_7_3() -> tuple[Case73, ...]:
    """The matrices of exercise 7.3: a 2×2 and a 4×4 of integers, a random 5×5, a symmetric 3×3, an
    antisymmetric 3×3 and a 1×1; ``sym W`` from :func:`physml.onsager.symmetrize`."""
    rng = positions_7_1(731, 5, 5)
    sym = rng[:3, :3] + rng[:3, :3].T
    matrices = [
        ("the 2×2 matrix [[1, 2], [4, 3]] (integers)", np.array([[1, 2], [4, 3]])),
        ("a random 5×5 matrix", rng),
        ("a symmetric 3×3 matrix", sym),
        (
            "a 4×4 matrix of integers",
            np.array([[1, 2, 5, 7], [9, 11, 14, 15], [3, 1, 7, 6], [-1, -3, 9, 2]]),
        ),
        ("an antisymmetric 3×3 matrix", rng[:3, 2:] - rng[:3, 2:].T),
        ("the 1×1 matrix [[2.5]]", np.array([[2.5]])),
    ]
    return tuple(Case73(label, W, in_float64(onsager.symmetrize, W)) for label, W in matrices)


def _variants_7_3(W: np.ndarray) -> list[tuple[np.ndarray, str]]:
    W = W.astype(np.float64)
    sym = 0.5 * (W + W.T)
    upper = np.triu(W) + np.triu(W, 1).T

    def projection(value: np.ndarray, side: str) -> str:
        far, near = np.linalg.norm(W - value), np.linalg.norm(W - sym)
        return (
            f"you copy the {side} triangle: symmetric, and a projection (doing it twice changes nothing), "
            f"but not the orthogonal one — it is {far:.3g} from W, ½(W + Wᵀ) only {near:.3g}. Average W_ij "
            "and W_ji."
        )

    return [
        (W.T, "that is Wᵀ, the transpose, not symmetric: average W and Wᵀ."),
        (W + W.T, "that is W + Wᵀ, twice the symmetric part: divide by 2."),
        (upper, projection(upper, "upper")),
        (np.tril(W) + np.tril(W, -1).T, projection(np.tril(W) + np.tril(W, -1).T, "lower")),
        (0.5 * (W - W.T), "that is ½(W − Wᵀ), the antisymmetric part — what symmetrising removes."),
        (W @ W.T, "that is W Wᵀ: symmetric, but a product, not the nearest symmetric matrix to W."),
        (W.T @ W, "that is Wᵀ W: symmetric, but a product, not the nearest symmetric matrix to W."),
        (np.floor_divide(W + W.T, 2), "that is an integer division, (W + Wᵀ) // 2: use / 2 (or 0.5 *)."),
        (W, "that is W unchanged; it is not symmetric."),
    ]


@exercise(
    "7.3",
    title="Symmetrise an Onsager estimate",
    answer="symmetrize",
    notebook=NOTEBOOK,
    hints=(
        "Onsager: the true response matrix is symmetric. The symmetric matrix nearest to W (in the sum of "
        "squares of the entries) keeps what W and Wᵀ agree on.",
        "Average each entry with its mirror image: S_ij = (W_ij + W_ji)/2. W.T is the transpose.",
        "return (W + W.T) / 2",
    ),
)
def check_symmetrize(answer: Any) -> str | None:
    r"""``answer(W)`` returns :func:`physml.onsager.symmetrize` of every matrix of :func:`cases_7_3`."""
    for case in cases_7_3():
        where = f"for {case.label}"
        n = case.W.shape[0]
        raw = call_quietly(answer, case.W.copy(), what=f"{where}: your symmetrize")
        if nonfinite(raw) is not None:
            raise Wrong(f"{where} your result contains {nonfinite(raw).lstrip('+')}.")
        got = as_array(raw, what=f"the result {where}")
        if got.shape != (n, n):
            raise Wrong(
                f"{where} you return shape {got.shape}; the symmetric part of W has its shape, ({n}, {n})."
            )
        scale = max(float(np.max(np.abs(case.W))), 1.0)
        rtol = tolerance(raw)
        if close(got, case.symmetric, rtol, rtol * scale):
            continue
        for value, text in _variants_7_3(case.W):
            if not close(value, case.symmetric, _LOOSE, _LOOSE * scale) and close(
                got, value, _LOOSE, _LOOSE * scale
            ):
                raise Wrong(f"{where}: {text}")
        if close(got, case.symmetric, _LOOSE, _LOOSE * scale):
            raise Wrong(f"{where} your result agrees only to float32 digits. {FLOAT32_ADVICE}")
        if not close(got, got.T, _LOOSE, _LOOSE * scale):
            raise Wrong(
                f"{where} your result is not symmetric: entry (0, 1) is {got[0, 1]:.4g}, "
                f"entry (1, 0) {got[1, 0]:.4g}."
            )
        raise Wrong(f"{where} you return {show(got[0])} in row 0; ½(W + Wᵀ) has {show(case.symmetric[0])}.")
    return (
        "½(W + Wᵀ) is the orthogonal projection onto the symmetric matrices: what it removes, ½(W − Wᵀ), is "
        "orthogonal to every symmetric matrix — the true L included — so the error can only shrink."
    )


# ------------------------------------------------------------------------ exercise 7.4

#: Number of forces of exercise 7.4.
N_7_4 = 6
#: Accepted relative distance from (n + 1)/(2n).
RTOL_7_4 = 1e-3


def error_ratio_reference() -> float:
    r""":math:`(n+1)/(2n)` for :math:`n` = :data:`N_7_4`: :func:`physml.onsager.expected_error_ratio`."""
    return onsager.expected_error_ratio(N_7_4)


def _variants_7_4() -> list[tuple[float, str]]:
    n, ref = N_7_4, error_ratio_reference()
    return [
        (0.5, "that is the limit of many forces, n → ∞; for n = 6 the diagonal adds a little: (n + 1)/(2n)."),
        (
            (n - 1) / (2 * n),
            "that is the fraction the symmetrisation removes, (n − 1)/(2n): the antisymmetric directions. "
            "The ratio asks what is left.",
        ),
        (1 / ref, "that is the inverse, raw over symmetrised: the symmetrised error is the smaller one."),
        (
            math.sqrt(ref),
            "that is the ratio of the norms ‖·‖_F; the question is about mean squared errors, (n + 1)/(2n).",
        ),
        (100 * ref, "that is a percentage; give the ratio as a number between 0 and 1."),
        ((n + 1) / n, "that is (n + 1)/n: the symmetric directions are n(n + 1)/2 of the n² — mind the ½."),
        (1 / n, "that is 1/n, the diagonal's share; the off-diagonal symmetric directions are kept too."),
        (n / (2 * n + 2), "that is n/(2n + 2); count the symmetric directions: n(n + 1)/2 out of n²."),
    ]


@exercise(
    "7.4",
    title="Predict the error ratio",
    answer="ratio",
    notebook=NOTEBOOK,
    hints=(
        "The noise spreads the error of Ŵ evenly over all n² directions of the space of matrices (on "
        "average); symmetrising keeps the symmetric directions and removes the antisymmetric ones.",
        "The symmetric n×n matrices form a space of dimension n(n + 1)/2, the antisymmetric ones n(n − 1)/2.",
        "ratio = (n + 1) / (2 * n) with n = 6.",
    ),
)
def check_ratio(answer: Any) -> str | None:
    r"""``answer`` is within :data:`RTOL_7_4` (relative) of :func:`error_ratio_reference`."""
    value = as_float(answer, what="ratio")
    ref = error_ratio_reference()
    if close(value, ref, RTOL_7_4):
        return (
            f"(n + 1)/(2n) = 7/12 ≈ {ref:.4f}: of the n² = 36 directions of the error, the 15 antisymmetric "
            "ones are projected out and the 21 symmetric ones stay. The measured ratio in the next cell "
            "agrees within its standard error."
        )
    said = f"you give {value:.6g}"
    for variant, text in _variants_7_4():
        if close(value, variant, RTOL_7_4):
            raise Wrong(f"{said}: {text}")
    if close(value, ref, 0.05):
        raise Wrong(f"{said}, near the answer — a measurement? Give the exact ratio for n = {N_7_4}.")
    if not 0 < value <= 1:
        raise Wrong(f"{said}: symmetrising never increases the error, so the ratio lies between 0 and 1.")
    raise Wrong(f"{said}; count the directions of the error that survive symmetrisation, for n = {N_7_4}.")


# ------------------------------------------------------------------------ exercise 7.5

#: The Landau theory that generates the data of exercise 7.5.
PARAMS_7_5 = landau.LandauParams(a0=1.0, Tc=1.5, b=1.0)
#: Training temperatures of exercise 7.5, all below T_c.
TEMPERATURES_7_5 = (0.5, 0.675, 0.85, 1.025, 1.2)
#: Seed of the data of exercise 7.5.
DATA_SEED_7_5 = 750
#: Seed of the initial parameters of exercise 7.5.
MODEL_SEED_7_5 = 751
#: Adam steps of exercise 7.5.
STEPS_7_5 = 1000
#: Accepted relative distance from the learned T_c.
RTOL_7_5 = 1e-5


class Landau75(NamedTuple):
    r"""The learned Landau model of exercise 7.5, float64.

    Attributes:
        temperatures: training temperatures, shape ``(k,)``.
        a_values: the learned :math:`a_\theta(T) = c_0 + c_1T` there, shape ``(k,)``.
        c: :math:`(c_0, c_1)`, shape ``(2,)``.
        tc: the learned :math:`T_c = -c_0/c_1` (:func:`physml.landau.learned_tc`).
        final_loss: the training loss at the last step.
    """

    temperatures: np.ndarray
    a_values: np.ndarray
    c: np.ndarray
    tc: float
    final_loss: float


@functools.cache
def landau_model_7_5() -> Landau75:
    """Train :class:`physml.landau.StructuredLandau` (:func:`physml.landau.train_ode`) on relaxations at
    :data:`TEMPERATURES_7_5` generated by :data:`PARAMS_7_5`, from fixed keys; about 5 s the first time."""
    with jax.enable_x64(True):
        temperatures = jnp.asarray(TEMPERATURES_7_5, jnp.float64)
        data = landau.landau_data(jax.random.key(DATA_SEED_7_5), PARAMS_7_5, temperatures)
        model, losses = landau.train_ode(jax.random.key(MODEL_SEED_7_5), "structured", data, steps=STEPS_7_5)
        return Landau75(
            np.asarray(temperatures),
            np.asarray(model.a(temperatures)),
            np.asarray(model.c),
            float(landau.learned_tc(model)),
            float(losses[-1]),
        )


def _variants_7_5() -> list[tuple[float, str]]:
    m = landau_model_7_5()
    c0, c1 = m.c
    return [
        (
            float(m.temperatures[-1]),
            "that is the highest training temperature, where |a| is smallest — but a(T) is not zero there "
            f"(a = {m.a_values[-1]:.4g}). Extrapolate the line to a = 0.",
        ),
        (
            PARAMS_7_5.Tc,
            f"that is the T_c = {PARAMS_7_5.Tc:g} of the generator, which the model never saw. The "
            "model's line crosses zero at a slightly different T: the noise of the data moved c₀ and c₁. "
            "Give the model's.",
        ),
        (-c1 / c0, "that is −c₁/c₀ = 1/T_c, upside down: a = c₀ + c₁T vanishes at T = −c₀/c₁."),
        (c0 / c1, "the sign is wrong: c₀ + c₁T = 0 at T = −c₀/c₁."),
        (c1, "that is the slope c₁ of the line; its zero is T = −c₀/c₁."),
        (c0, "that is the intercept c₀, a(0); its zero is T = −c₀/c₁."),
        (-c0, "that is −c₀; divide by the slope: T_c = −c₀/c₁."),
        (float(np.mean(m.temperatures)), "that is the mean training temperature; find where a(T) = 0."),
    ]


@exercise(
    "7.5",
    title="Read T_c off a learned a(T)",
    answer="Tc",
    notebook=NOTEBOOK,
    time_limit=60.0,  # the first check trains the model; no learner code runs here
    hints=(
        "The structured model writes a(T) = c₀ + c₁T: the table's points lie on a straight line, and the "
        "transition is where a changes sign.",
        "np.polyfit(temperatures, a_values, 1) returns (c₁, c₀), the slope first; the zero of c₀ + c₁T is "
        "T = −c₀/c₁.",
        "c1, c0 = np.polyfit(temperatures, a_values, 1); Tc = -c0 / c1",
    ),
)
def check_tc(answer: Any) -> str | None:
    r"""``answer`` is within :data:`RTOL_7_5` of the learned :math:`T_c` of :func:`landau_model_7_5`."""
    value = as_float(answer, what="Tc")
    m = landau_model_7_5()
    if close(value, m.tc, RTOL_7_5):
        gap = m.tc - PARAMS_7_5.Tc
        return (
            f"T_c = {m.tc:.5f}, {gap:+.1e} from the generator's {PARAMS_7_5.Tc:g}, extrapolated from "
            f"temperatures ≤ {m.temperatures[-1]:g}. The form a(T) = c₀ + c₁T is what makes the "
            "extrapolation possible: a black box has no line to extend."
        )
    said = f"you give {value:.6g}"
    for variant, text in _variants_7_5():
        if close(value, variant, RTOL_7_5):
            raise Wrong(f"{said}: {text}")
    if close(value, m.tc, 1e-2):
        raise Wrong(
            f"{said}, close to the model's T_c but not within {RTOL_7_5:g}: the points lie exactly on a "
            "line; fit it with all the digits."
        )
    if value <= m.temperatures[-1]:
        raise Wrong(
            f"you give {value:.6g}, inside the training range: there a(T) < 0 (ordered). The transition lies "
            f"above {m.temperatures[-1]:g}, where the line reaches zero."
        )
    raise Wrong(f"you give {value:.6g}; the line a(T) = c₀ + c₁T through the table reaches zero elsewhere.")


# ------------------------------------------------------------------------ exercise 7.6

#: The initial state (q, p) of the rollouts of exercise 7.6, on the unit spring (energy ½).
X0_7_6 = (1.0, 0.0)
#: Rollout step of exercise 7.6.
DT_7_6 = 0.1
#: Rollout horizon of exercise 7.6.
T_MAX_7_6 = 100.0
#: The relative energy error asked for in exercise 7.6.
THRESHOLD_7_6 = 0.1
#: The step of the slider of exercise 7.6, and the accepted distance from the crossing.
SLIDER_STEP_7_6 = 0.5
#: Training recipe of exercise 7.6 (data seed, model seed, trajectories, width, Adam steps, learning rate).
RECIPE_7_6 = (792, 793, 25, 32, 500, 3e-3)
#: Samples per training trajectory of exercise 7.6.
POINTS_7_6 = 30
#: Duration of each training trajectory.
DURATION_7_6 = 3.0
#: Range of the energies of the training trajectories.
ENERGIES_7_6 = (0.2, 1.0)
#: Standard deviation of the noise on every component of the training data.
NOISE_7_6 = 0.1


def spring_data_7_6() -> hnn.PhaseData:
    r"""The training data of exercise 7.6: noisy samples along exact orbits of the unit spring,
    :math:`q = A\sin(\varphi + t)`, :math:`p = A\cos(\varphi + t)`, :math:`A = \sqrt{2E}`, with :math:`E`
    uniform in :data:`ENERGIES_7_6`, :math:`\varphi` uniform, and noise :data:`NOISE_7_6` on every component
    of :math:`x` and :math:`\dot x = (p, -q)` — the recipe of :func:`physml.hnn.phase_space_data`, written out
    in NumPy to spare its compilation. Float64 JAX arrays."""
    seed, n = RECIPE_7_6[0], RECIPE_7_6[2]
    u = uniform(seed, 2 * n)
    energy = ENERGIES_7_6[0] + (ENERGIES_7_6[1] - ENERGIES_7_6[0]) * u[:n]
    t = np.linspace(0.0, DURATION_7_6, POINTS_7_6)
    phase = 2 * np.pi * u[n:, None] + t[None, :]
    amplitude = np.sqrt(2 * energy)[:, None]
    q, p = (amplitude * np.sin(phase)).ravel(), (amplitude * np.cos(phase)).ravel()
    eps = NOISE_7_6 * standard_normal(seed + 1, 4 * q.size).reshape(4, q.size)
    x, dx = np.stack([q, p], axis=1) + eps[:2].T, np.stack([p, -q], axis=1) + eps[2:].T
    with jax.enable_x64(True):
        columns = (x, dx, np.tile(t, n), np.repeat(energy, POINTS_7_6), np.repeat(np.arange(n), POINTS_7_6))
        return hnn.PhaseData(*(jnp.asarray(c) for c in columns))


class Rollouts76(NamedTuple):
    """The energy errors of exercise 7.6, float64.

    Attributes:
        t: times, shape ``(n + 1,)``.
        hnn: the HNN's relative energy error, shape ``(n + 1,)``.
        baseline: the baseline's, shape ``(n + 1,)``.
    """

    t: np.ndarray
    hnn: np.ndarray
    baseline: np.ndarray


@functools.cache
def rollouts_7_6() -> Rollouts76:
    """Train an HNN and a baseline on :func:`spring_data_7_6` (:func:`physml.hnn.train`, :data:`RECIPE_7_6`),
    roll both out from :data:`X0_7_6` to :data:`T_MAX_7_6` (:func:`physml.hnn.rollout`) and measure their
    relative energy errors (:func:`physml.hnn.energy_error`); about 5 s."""
    _, model_seed, _, width, steps, lr = RECIPE_7_6
    spring = harmonic_oscillator()
    n_steps = round(T_MAX_7_6 / DT_7_6)
    with jax.enable_x64(True):
        data, x0 = spring_data_7_6(), jnp.asarray(X0_7_6, jnp.float64)
        errors = []
        for kind in ("hnn", "baseline"):
            key = jax.random.key(model_seed)
            model, _ = hnn.train(key, kind, data, width=width, steps=steps, learning_rate=lr)
            errors.append(np.asarray(hnn.energy_error(spring, hnn.rollout(model, x0, DT_7_6, n_steps))))
    return Rollouts76(DT_7_6 * np.arange(n_steps + 1), *errors)


def first_crossing(t: np.ndarray, error: np.ndarray, threshold: float = THRESHOLD_7_6) -> float | None:
    """The first time at which ``error`` exceeds ``threshold``, or ``None``."""
    above = np.flatnonzero(error > threshold)
    return float(t[above[0]]) if above.size else None


def stays_above(t: np.ndarray, error: np.ndarray, threshold: float = THRESHOLD_7_6) -> float | None:
    """The time after which ``error`` stays above ``threshold`` to the end, or ``None``."""
    if error[-1] <= threshold:
        return None
    below = np.flatnonzero(error <= threshold)
    return float(t[below[-1] + 1]) if below.size else float(t[0])


def _check_horizon(horizon: Any) -> float:
    if not (is_real(horizon) and math.isfinite(horizon) and 0 < horizon <= T_MAX_7_6):
        raise ValueError(f"horizon must be a number in (0, {T_MAX_7_6:g}], got {horizon!r}")
    return float(horizon)


def _horizon_scene() -> Scene:
    """The figure of exercise 7.6 and the function that moves it to a horizon: the two errors, title."""
    r = rollouts_7_6()
    fig, ax = figure(figsize=(7.0, 3.8))
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.88)
    errors = [
        ax.semilogy(r.t, error, color=colour, lw=1.0, label=name)[0]
        for error, colour, name in ((r.baseline, "#c44e52", "baseline"), (r.hnn, "#4c72b0", "HNN"))
    ]
    threshold = ax.axhline(THRESHOLD_7_6, color="#222222", lw=1, ls="--", label=f"{THRESHOLD_7_6:g}")
    ax.set_xlim(0, T_MAX_7_6)
    ax.set_ylim(1e-6, 3)
    ax.set_xlabel("time t")
    ax.set_ylabel("relative energy error")
    legend = ax.legend(loc="lower right", fontsize="x-small")
    ax.yaxis.set_minor_locator(NullLocator())
    title = fig.suptitle("", fontsize="medium")

    def move(horizon: float) -> list[Artist]:
        h = _check_horizon(horizon)
        upto = r.t <= h + 1e-9
        for line, error in zip(errors, (r.baseline, r.hnn), strict=True):
            line.set_data(r.t[upto][1:], np.maximum(error[upto][1:], 1e-8))
        worst_b, worst_h = float(np.max(r.baseline[upto])), float(np.max(r.hnn[upto]))
        title.set_text(f"up to t = {h:g}: largest error baseline {worst_b:.3g}, HNN {worst_h:.3g}")
        return [*errors, threshold, legend, title]

    return fig, move


@with_scene(_horizon_scene)
def draw_horizon(horizon: float) -> Figure:
    r"""The widget's figure for exercise 7.6: the relative energy errors of the HNN and the baseline from
    :math:`t = 0` to ``horizon`` (log axis), the threshold, and the largest error of each so far."""
    fig, move = _horizon_scene()
    move(horizon)
    return fig


@exercise(
    "7.6",
    title="The rollout horizon (widget)",
    answer="horizon",
    notebook=NOTEBOOK,
    time_limit=120.0,  # the first check trains both networks; no learner code runs here
    hints=(
        "Slide the horizon from the start: the title gives the largest error of each model up to that "
        "time. You want the first time the baseline's error passes the dashed line.",
        "The HNN's error stays at a few per cent for the whole run; the baseline's grows. The check accepts "
        "the crossing to within one step of the slider (0.5).",
        "Move the slider one step at a time near t ≈ 20 until 'largest error baseline' just exceeds 0.1.",
    ),
)
def check_horizon(answer: Any) -> str | None:
    r"""``answer`` is within :data:`SLIDER_STEP_7_6` of the first time the baseline's energy error of
    :func:`rollouts_7_6` exceeds :data:`THRESHOLD_7_6`."""
    if is_real(answer) and math.isinf(answer) and answer > 0:
        raise Wrong(
            "horizon = inf, never? The baseline's error does cross; it is the HNN's that never does. "
            "Find the baseline's first crossing."
        )
    value = as_float(answer, what="horizon")
    if not 0 < value:
        raise Wrong(
            f"horizon = {value:g} is not a time after the start; the rollouts run from t = 0 to "
            f"{T_MAX_7_6:g}."
        )
    r = rollouts_7_6()
    t_star, settled = first_crossing(r.t, r.baseline), stays_above(r.t, r.baseline)
    if abs(value - t_star) <= SLIDER_STEP_7_6:
        return (
            f"The baseline's error first exceeds {THRESHOLD_7_6:g} at t = {t_star:.1f} and stays above from "
            f"t = {settled:.1f}; the HNN's never exceeds {np.max(r.hnn):.2g} up to t = {T_MAX_7_6:g}. Both "
            "fit the field equally well: the HNN's field conserves its own energy exactly, so the error "
            "cannot accumulate."
        )
    _wrong_horizon(value, r, t_star, settled)
    return None


def _wrong_horizon(value: float, r: Rollouts76, t_star: float, settled: float | None) -> None:
    said = f"horizon = {value:g}"
    if value > T_MAX_7_6 + SLIDER_STEP_7_6:
        raise Wrong(f"{said} is beyond the rollouts, which end at t = {T_MAX_7_6:g}.")
    if value > T_MAX_7_6 - SLIDER_STEP_7_6:
        raise Wrong(
            f"{said} is the end of the slider, not a crossing: slide back to where the baseline's error "
            f"first passes {THRESHOLD_7_6:g}."
        )
    hnn_cross = first_crossing(r.t, r.hnn)
    if hnn_cross is not None and abs(value - hnn_cross) <= SLIDER_STEP_7_6:
        raise Wrong(f"{said} is where the HNN's error crosses; the question is about the baseline.")
    if settled is not None and abs(value - settled) <= SLIDER_STEP_7_6:
        raise Wrong(
            f"{said} is where the baseline's error stays above {THRESHOLD_7_6:g} for good; it first "
            "exceeded it earlier, on a peak of its wobble."
        )
    worst = float(np.max(r.baseline[r.t <= value + 1e-9]))
    if value < t_star:
        raise Wrong(
            f"up to {said} the baseline's largest error is only {worst:.3g}, below {THRESHOLD_7_6:g}: "
            "move later."
        )
    raise Wrong(
        f"by {said} the baseline's error has reached {worst:.3g}: it exceeded {THRESHOLD_7_6:g} earlier."
    )
