r"""Exercises of "Discovering laws from data" (``exercises/06_discovering_laws.ipynb``).

Every value a checker compares to comes from :mod:`physml.discovery`: the log–log fit
:func:`~physml.discovery.powerlaw.fit_power_law`, the feature changes
:func:`~physml.discovery.conservation.delta_phi` and the null space
:func:`~physml.discovery.conservation.null_space` of simulated collisions, the noise scan
:func:`~physml.discovery.conservation.gap_versus_noise`, sequentially thresholded least squares
:func:`~physml.discovery.equations.stlsq`, and Jupiter's mass
:func:`~physml.discovery.powerlaw.central_mass_ratio`. ``tests/test_exercises_ch06.py`` checks
each reference against an independent computation (``np.polyfit``, the formulas written out,
``scipy.linalg.null_space``, a direct SVD of noisy data, ``scipy.integrate.solve_ivp``, the prefactors by
hand). Data are generated from fixed ``jax.random`` keys or read from the tables shipped with the package.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from .._checks import is_real
from ..discovery import conservation, equations, powerlaw
from ..plotting import Scene, figure, with_scene
from ._core import (
    FLOAT32_ADVICE,
    Wrong,
    as_array,
    as_float,
    as_number,
    call_quietly,
    close,
    describe,
    exercise,
    nonfinite,
    show,
    tolerance,
)

NOTEBOOK = "06_discovering_laws"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4

# ------------------------------------------------------------------------ exercise 6.1


class PowerTable(NamedTuple):
    """A table of exercise 6.1: a label for messages, and positive columns ``x``, ``y`` (float64)."""

    label: str
    x: np.ndarray
    y: np.ndarray


#: The generated tables of exercise 6.1: ``(label, seed, points, exponent, prefactor, x range, noise)``.
GENERATED_6_1: tuple[tuple[str, int, int, float, float, tuple[float, float], float], ...] = (
    ("table A", 61, 8, 1.5, 0.4, (0.3, 40.0), 0.03),
    ("table B", 62, 12, -0.5, 2.5, (1.0, 1000.0), 0.05),
)


def generated_table(
    key: jax.Array, size: int, exponent: float, prefactor: float, x_range: tuple[float, float], noise: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""A power law with multiplicative noise, float64:

    .. math::

        y_i = C\,x_i^{n}\,e^{\epsilon\,\xi_i}, \qquad \ln x_i \sim U(\ln x_\text{lo}, \ln x_\text{hi}),
        \quad \xi_i \sim N(0, 1),

    with :math:`x` sorted ascending; ``noise`` is :math:`\epsilon` (a relative scatter).
    Returns ``(x, y)``, each of shape ``(size,)``.
    """
    lo, hi = x_range
    if not (0 < lo < hi and prefactor > 0 and noise >= 0 and size >= 3):
        raise ValueError("need 0 < x_lo < x_hi, a positive prefactor, noise >= 0 and size >= 3")
    key_x, key_noise = jax.random.split(key)
    with jax.enable_x64(True):
        u = np.asarray(jax.random.uniform(key_x, (size,), jnp.float64))
        xi = np.asarray(jax.random.normal(key_noise, (size,), jnp.float64))
    x = np.sort(np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))))
    return x, prefactor * x**exponent * np.exp(noise * xi)


@functools.cache
def tables_6_1() -> tuple[PowerTable, ...]:
    """The tables exercise 6.1 fits, in order: :data:`GENERATED_6_1`, then Jupiter's six moons
    (semi-major axis in km, period in days, from :func:`~physml.discovery.powerlaw.jupiter_moons`)."""
    tables = []
    for name, seed, size, n, c, x_range, noise in GENERATED_6_1:
        x, y = generated_table(jax.random.key(seed), size, n, c, x_range, noise)
        tables.append(PowerTable(f"{name} ({size} points, x from {x[0]:.3g} to {x[-1]:.3g})", x, y))
    moons = powerlaw.jupiter_moons()
    tables.append(PowerTable("Jupiter's six moons (a in km, P in days)", moons.a, moons.period))
    return tuple(tables)


def fit_reference(x: Float[ArrayLike, " N"], y: Float[ArrayLike, " N"]) -> tuple[float, float]:
    r"""The exponent and prefactor :math:`(\hat n, \hat C)` of :math:`y = Cx^n` by least squares on
    :math:`(\ln x_i, \ln y_i)`: :func:`~physml.discovery.powerlaw.fit_power_law`."""
    fit = powerlaw.fit_power_law(x, y)
    return fit.exponent, fit.prefactor


def _line(u: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of ``w`` against ``u``."""
    slope, intercept = np.polyfit(u, w, 1)
    return float(slope), float(intercept)


def _variants_6_1(table: PowerTable) -> list[tuple[float, float, str]]:
    """Answers ``(n, C)`` from natural mistakes on ``table``, and the diagnosis of each."""
    lx, ly = np.log(table.x), np.log(table.y)
    n, log_c = _line(lx, ly)
    _, log10_c = _line(np.log10(table.x), np.log10(table.y))
    n_swapped, b_swapped = _line(ly, lx)
    slope, intercept = _line(table.x, table.y)
    n_two = float((ly[-1] - ly[0]) / (lx[-1] - lx[0]))
    n_sq, log_c_sq = _line(lx, 2 * ly)
    c = math.exp(log_c)
    return [
        (
            slope,
            intercept,
            "that is the slope and intercept of y against x, a straight line on linear axes. A power "
            "law is a straight line on log–log axes: fit ln y = ln C + n ln x.",
        ),
        (n, log_c, "n is right, but the second number is ln C, the intercept: return C = exp(intercept)."),
        (n, log10_c, "n is right, but the second number is log₁₀ C: return C itself."),
        (
            n,
            math.exp(log10_c),
            "n is right, but C = exp(intercept) of a fit in log₁₀: with base-10 logarithms the intercept "
            "is log₁₀ C, so C = 10**intercept (or fit with natural logs throughout).",
        ),
        (
            n,
            10**log_c,
            "n is right, but C = 10**intercept of a fit with natural logarithms: there the intercept is "
            "ln C, so C = exp(intercept).",
        ),
        (
            n_swapped,
            math.exp(b_swapped),
            "x and y are swapped: that is the fit of ln x against ln y, whose slope is about 1/n. Fit "
            "ln y (the second argument) against ln x.",
        ),
        (
            n_sq,
            math.exp(log_c_sq),
            "that is the law of y², not of y: Kepler's P² ∝ a³ has exponent 3 — fit y itself, whose "
            "exponent is half of that.",
        ),
        (
            n_two,
            math.exp(ly[0] - n_two * lx[0]),
            "that is the line through the first and the last point only; least squares uses every point.",
        ),
        (
            n_two,
            c,
            "the exponent is the slope between the first and the last point only; least squares uses "
            "every point.",
        ),
    ]


def _pair_6_1(raw: Any, where: str) -> tuple[float, float, float]:
    """The learner's ``(n, C)`` as floats, and the tolerance their precision allows."""
    if raw is None:
        raise Wrong(f"{where} your function returned None — did you forget a `return`?")
    if isinstance(raw, np.ndarray) or hasattr(raw, "shape"):
        if tuple(getattr(raw, "shape", ())) != (2,):
            raise Wrong(f"{where} your function returned {describe(raw)}; return the pair (n, C).")
        items: list[Any] = [raw[0], raw[1]]
    elif isinstance(raw, (tuple, list)):
        if len(raw) != 2:
            raise Wrong(f"{where} your function returned {len(raw)} values; return the pair (n, C).")
        items = list(raw)
    else:
        raise Wrong(f"{where} your function returned {describe(raw)}; return the pair (n, C) as a tuple.")
    kind = nonfinite(items[0]) or nonfinite(items[1])
    if kind is not None:
        raise Wrong(
            f"{where} your function returned {kind.lstrip('+')} — a logarithm of a non-positive number, "
            "or exp of something huge?"
        )
    n = as_number(items[0], what=f"the exponent n you return {where}")
    c = as_number(items[1], what=f"the prefactor C you return {where}")
    return n, c, tolerance(items[0], items[1], raw)


@exercise(
    "6.1",
    title="The exponent and prefactor of a power law by a log–log fit",
    answer="fit_exponent",
    notebook=NOTEBOOK,
    hints=(
        "Take logarithms: y = C xⁿ becomes ln y = ln C + n ln x, a straight line in (ln x, ln y) with "
        "slope n and intercept ln C.",
        "np.polyfit(u, w, 1) returns [slope, intercept] of the least-squares line w ≈ slope·u + "
        "intercept. Use u = ln x, w = ln y, and undo the logarithm of the intercept.",
        "n, log_c = np.polyfit(np.log(x), np.log(y), 1); return n, np.exp(log_c)",
    ),
)
def check_fit_exponent(answer: Any) -> str | None:
    r"""``answer(x, y)`` returns :func:`fit_reference` on each of :func:`tables_6_1`."""
    for table in tables_6_1():
        where = f"on {table.label}"
        raw = call_quietly(answer, table.x.copy(), table.y.copy(), what="your fit_exponent")
        n, c, rtol = _pair_6_1(raw, where)
        n_ref, c_ref = fit_reference(table.x, table.y)
        if close(n, n_ref, rtol) and close(c, c_ref, rtol):
            continue
        got = f"{where} you return n = {n:.6g}, C = {c:.6g}"
        if close(c, n_ref, _LOOSE) and (close(n, c_ref, _LOOSE) or close(n, math.log(c_ref), _LOOSE)):
            raise Wrong(f"{got}: the order is reversed — return (n, C), the exponent first.")
        for n_var, c_var, text in _variants_6_1(table):
            if close(n_var, n_ref, _LOOSE) and close(c_var, c_ref, _LOOSE):
                continue  # indistinguishable from the fit on this table
            if close(n, n_var, _LOOSE) and close(c, c_var, _LOOSE):
                raise Wrong(f"{got}: {text}")
        if close(n, n_ref, _LOOSE) and close(c, c_ref, _LOOSE):
            raise Wrong(f"{got}, which agrees with the fit only to float32 digits. {FLOAT32_ADVICE}")
        if close(n, n_ref, _LOOSE):
            raise Wrong(
                f"{got}: n is right, but the least-squares fit has C = {c_ref:.6g} = exp(intercept) of "
                "the line ln y = ln C + n ln x."
            )
        if n == 1.5 and n_ref != 1.5:
            raise Wrong(
                f"{got}: exactly 3/2, Kepler's exponent — but this table's least-squares exponent is "
                f"{n_ref:.6g}. Fit n from the data rather than assume it."
            )
        raise Wrong(
            f"{got}; least squares on (ln x, ln y) gives n = {n_ref:.6g}, C = {c_ref:.6g}. Fit "
            "ln y = ln C + n ln x by ordinary least squares, every point with the same weight."
        )
    moons = tables_6_1()[-1]
    inner = powerlaw.jupiter_moons().select("galilean")
    n_all, n_galilean = fit_reference(moons.x, moons.y)[0], fit_reference(inner.a, inner.period)[0]
    return (
        f"Least squares on log–log axes. Jupiter's moons give n = {n_all:.5f}; the four Galilean moons "
        f"alone {n_galilean:.7f}. The difference is physics: Jupiter's equatorial bulge adds to the "
        "inverse-square pull close in and shortens the periods of Amalthea and Thebe."
    )


# ------------------------------------------------------------------------ exercise 6.2

#: The feature library of exercise 6.2, in the package's order: m₁v₁, m₂v₂, ½m₁v₁², ½m₂v₂².
FEATURES_6_2 = ("mv", "KE")
#: The collisions of exercise 6.2: ``(seed, restitution)``; the first is partially elastic, so that
#: swapping the particles differs from flipping the sign.
COLLISIONS_6_2: tuple[tuple[int, float], ...] = ((621, 0.5), (622, 1.0), (623, 0.0), (624, 0.8))


class Collision1D(NamedTuple):
    """One head-on collision: masses, velocities before and after (floats)."""

    m1: float
    m2: float
    v1: float
    v2: float
    v1_after: float
    v2_after: float


@functools.cache
def collisions_6_2() -> tuple[Collision1D, ...]:
    """The collisions of exercise 6.2, one from each :func:`~physml.discovery.conservation.collide_1d`
    call of :data:`COLLISIONS_6_2`."""
    out = []
    for seed, e in COLLISIONS_6_2:
        c = conservation.collide_1d(jax.random.key(seed), 1, restitution=e)
        out.append(
            Collision1D(
                *(float(c.masses[0, i]) for i in range(2)),
                *(float(c.v_before[0, i]) for i in range(2)),
                *(float(c.v_after[0, i]) for i in range(2)),
            )
        )
    return tuple(out)


def delta_phi_reference(case: Collision1D) -> np.ndarray:
    r"""The change of the features :math:`(m_1v_1, m_2v_2, \tfrac12m_1v_1^2, \tfrac12m_2v_2^2)` in one
    collision, after minus before: :func:`~physml.discovery.conservation.delta_phi`, shape ``(4,)``."""
    collision = conservation.Collisions(
        np.array([[case.m1, case.m2]]),
        np.array([[case.v1, case.v2]]),
        np.array([[case.v1_after, case.v2_after]]),
        restitution=math.nan,
    )
    return conservation.delta_phi(collision, FEATURES_6_2)[0][0]


def _variants_6_2(case: Collision1D) -> list[tuple[np.ndarray, str]]:
    m1, m2, v1, v2, w1, w2 = case
    dp1, dp2 = m1 * (w1 - v1), m2 * (w2 - v2)
    dk1, dk2 = 0.5 * m1 * (w1**2 - v1**2), 0.5 * m2 * (w2**2 - v2**2)
    after = np.array([m1 * w1, m2 * w2, 0.5 * m1 * w1**2, 0.5 * m2 * w2**2])
    before = np.array([m1 * v1, m2 * v2, 0.5 * m1 * v1**2, 0.5 * m2 * v2**2])
    return [
        (-(after - before), "the sign is reversed: ΔΦ is after minus before, Φ(after) − Φ(before)."),
        (
            np.array([dp1, dp2, 2 * dk1, 2 * dk2]),
            "the energies are twice too large: the kinetic energy is ½mv², with its ½.",
        ),
        (
            np.array([-dp1, -dp2, -2 * dk1, -2 * dk2]),
            "the sign is reversed (ΔΦ is after minus before) and the kinetic energy is missing its ½.",
        ),
        (
            np.array([dp1, dk1, dp2, dk2]),
            "the entries are in the wrong order: yours are particle by particle (m₁v₁, ½m₁v₁², m₂v₂, …). "
            "The order is feature by feature: [m₁v₁, m₂v₂, ½m₁v₁², ½m₂v₂²].",
        ),
        (
            np.array([dk1, dk2, dp1, dp2]),
            "the energies come first; the order is [m₁v₁, m₂v₂, ½m₁v₁², ½m₂v₂²], momenta first.",
        ),
        (
            np.array([dp2, dp1, dk2, dk1]),
            "particles 1 and 2 are swapped: the first entry is the change of m₁v₁.",
        ),
        (
            np.array([w1 - v1, w2 - v2, dk1, dk2]),
            "the first two entries are the changes of the velocities; the features are the momenta "
            "m₁v₁ and m₂v₂ — multiply by the masses.",
        ),
        (
            np.array([w1 - v1, w2 - v2, 0.5 * (w1**2 - v1**2), 0.5 * (w2**2 - v2**2)]),
            "the masses are missing: the features are the momenta mv and the kinetic energies ½mv².",
        ),
        (
            np.array([dp1, dp2, 0.5 * (w1**2 - v1**2), 0.5 * (w2**2 - v2**2)]),
            "the energies are missing their masses: the kinetic energy is ½mv².",
        ),
        (
            np.array([dp1, dp2, 0.5 * m1 * (w1 - v1) ** 2, 0.5 * m2 * (w2 - v2) ** 2]),
            "the energies are ½m(Δv)², the square of the change; the feature's change is ½m(v_after² − v²).",
        ),
        (
            after,
            "that is Φ(after), the features after the collision; ΔΦ is their change, Φ(after) − Φ(before).",
        ),
        (before, "that is Φ(before), the features before the collision; ΔΦ = Φ(after) − Φ(before)."),
    ]


@exercise(
    "6.2",
    title="The change of the features in one collision",
    answer="delta_phi_one",
    notebook=NOTEBOOK,
    hints=(
        "Compute the four features (m₁v₁, m₂v₂, ½m₁v₁², ½m₂v₂²) once with the velocities before and once "
        "with the velocities after; the masses do not change.",
        "ΔΦ = Φ(after) − Φ(before): after minus before, in the order [momentum 1, momentum 2, energy 1, "
        "energy 2], as one array of shape (4,).",
        "return np.array([m1 * (v1_after - v1), m2 * (v2_after - v2), 0.5 * m1 * (v1_after**2 - v1**2), "
        "0.5 * m2 * (v2_after**2 - v2**2)])",
    ),
)
def check_delta_phi_one(answer: Any) -> str | None:
    r"""``answer(m1, m2, v1, v2, v1_after, v2_after)`` returns :func:`delta_phi_reference` on each of
    :func:`collisions_6_2`."""
    for index, case in enumerate(collisions_6_2()):
        where = (
            f"for collision {index + 1} (m₁ = {case.m1:.4g}, m₂ = {case.m2:.4g}, v₁ = {case.v1:.4g}, "
            f"v₂ = {case.v2:.4g} → {case.v1_after:.4g}, {case.v2_after:.4g})"
        )
        raw = call_quietly(answer, *case, what="your delta_phi_one")
        got = as_array(raw, what=f"the value returned {where}")
        if got.shape == (2,):
            raise Wrong(
                f"{where} you returned 2 numbers — the total momentum and energy changes? ΔΦ has one entry "
                "per feature and particle: [Δ(m₁v₁), Δ(m₂v₂), Δ(½m₁v₁²), Δ(½m₂v₂²)]."
            )
        if got.shape != (4,):
            raise Wrong(
                f"{where} you returned shape {got.shape}; expected (4,): [Δ(m₁v₁), Δ(m₂v₂), Δ(½m₁v₁²), "
                "Δ(½m₂v₂²)]."
            )
        expected = delta_phi_reference(case)
        scale = float(np.max(np.abs(expected)))
        rtol = tolerance(raw)
        if close(got, expected, rtol, rtol * scale):
            continue
        for value, text in _variants_6_2(case):
            if close(got, value, _LOOSE, _LOOSE * scale):
                raise Wrong(f"{where} you return {show(got)}: {text}")
        if close(got, expected, _LOOSE, _LOOSE * scale):
            raise Wrong(f"{where} your values agree with ΔΦ only to float32 digits. {FLOAT32_ADVICE}")
        wrong = [i for i in range(4) if not close(got[i], expected[i], _LOOSE, _LOOSE * scale)]
        names = ", ".join(("Δ(m₁v₁)", "Δ(m₂v₂)", "Δ(½m₁v₁²)", "Δ(½m₂v₂²)")[i] for i in wrong)
        raise Wrong(f"{where} you return {show(got)}; ΔΦ = {show(expected)} (wrong: {names}).")
    case = collisions_6_2()[0]
    d = delta_phi_reference(case)
    lost = -(d[2] + d[3]) / (0.5 * case.m1 * case.v1**2 + 0.5 * case.m2 * case.v2**2)
    return (
        f"ΔΦ = Φ(after) − Φ(before). In collision 1 (restitution e = {COLLISIONS_6_2[0][1]:g}) the momenta "
        f"change by {d[0]:+.4f} and {d[1]:+.4f}, which cancel; the energies by {d[2]:+.4f} and {d[3]:+.4f}, "
        f"which do not: {lost:.0%} of the kinetic energy is lost. Stacking one such row per collision "
        "gives the matrix whose null space holds the conservation laws."
    )


# ------------------------------------------------------------------------ exercise 6.3

#: The data of exercise 6.3: ``collide_2d(jax.random.key(SEED_6_3), N_6_3, restitution=E_6_3)``.
SEED_6_3, N_6_3, E_6_3 = 63, 40, 0.6
#: Its features: m₁v₁ₓ, m₁v₁ᵧ, m₂v₂ₓ, m₂v₂ᵧ, ½m₁|v₁|², ½m₂|v₂|².
FEATURES_6_3 = ("mv", "KE")
#: A vector counts as conserved when ‖Ac‖ ≤ this × ‖A‖₂‖c‖ (float32 answers pass, rounded ones do not).
NULL_TOLERANCE = 1e-6


@functools.cache
def data_6_3() -> tuple[np.ndarray, tuple[str, ...]]:
    r"""The matrix :math:`A = \Delta\Phi` of exercise 6.3, shape ``(40, 6)``, and its column labels:
    :func:`~physml.discovery.conservation.delta_phi` of 40 collisions of smooth disks in the plane with
    restitution 0.6 (:func:`~physml.discovery.conservation.collide_2d`)."""
    collisions = conservation.collide_2d(jax.random.key(SEED_6_3), N_6_3, restitution=E_6_3)
    return conservation.delta_phi(collisions, FEATURES_6_3)


@functools.cache
def null_space_6_3() -> conservation.NullSpace:
    """The null space of :func:`data_6_3` (:func:`~physml.discovery.conservation.null_space`)."""
    return conservation.null_space(data_6_3()[0])


def null_residual(A: Float[ArrayLike, "n F"], c: Float[ArrayLike, " F"]) -> float:
    r"""How far ``c`` is from conserved: :math:`\lVert Ac\rVert / (\lVert A\rVert_2\,\lVert c\rVert)`,
    0 for a null vector, at most 1; unchanged by rescaling ``c``."""
    A, c = np.asarray(A, dtype=np.float64), np.asarray(c, dtype=np.float64)
    return float(np.linalg.norm(A @ c) / (np.linalg.norm(A, 2) * np.linalg.norm(c)))


def _law_text(c: np.ndarray, labels: tuple[str, ...]) -> str:
    terms = []
    for coefficient, label in zip(c, labels, strict=True):
        if coefficient == 0:
            continue
        size = f"{abs(coefficient):.3g}"
        term = label if size == "1" else f"{size} {label}"
        terms.append(
            ("− " if coefficient < 0 else "+ ") + term if terms else ("−" if coefficient < 0 else "") + term
        )
    return " ".join(terms) if terms else "0"


def _vectors_6_3(raw: Any, F: int, labels: tuple[str, ...]) -> tuple[np.ndarray, float]:
    """The learner's vectors as rows ``(k, F)``, and the tolerance their precision allows."""
    kind = nonfinite(raw)
    if kind is not None:
        raise Wrong(f"your vectors contain {kind.lstrip('+')}.")
    got = as_array(raw, what="your answer")
    features = ", ".join(labels)
    if got.ndim == 1:
        got = got[None, :]
    if got.ndim != 2 or got.size == 0:
        raise Wrong(f"your answer has shape {got.shape}; give the vectors as the rows of an array (k, {F}).")
    if got.shape[1] != F:
        if got.shape[0] == F:
            raise Wrong(
                f"your array has shape {got.shape}: one vector per column. Put one vector per row, shape "
                f"({got.shape[1]}, {F}) — transpose it."
            )
        raise Wrong(
            f"each vector has {got.shape[1]} entries; it needs {F}, one coefficient per column of A: "
            f"{features}. In the plane each momentum has two components."
        )
    return got, max(tolerance(raw), NULL_TOLERANCE)


def _component_major(c: np.ndarray) -> np.ndarray:
    """A vector written for the order m₁v₁ₓ, m₂v₂ₓ, m₁v₁ᵧ, m₂v₂ᵧ, … moved to the package's order."""
    return c[[0, 2, 1, 3, 4, 5]]


def _diagnose_row(index: int, c: np.ndarray, A: np.ndarray, labels: tuple[str, ...], tol: float) -> str:
    residual = null_residual(A, c)
    which = f"vector {index + 1}, {_law_text(c, labels)}"
    momentum = c.copy()
    momentum[4:] = 0.0
    if np.any(c[4:] != 0) and (not np.any(momentum) or null_residual(A, momentum) <= tol):
        ke = A[:, 4] + A[:, 5]
        return (
            f"{which}, includes kinetic energy (‖Ac‖/‖A‖‖c‖ = {residual:.2g}). These collisions have "
            f"restitution e = {E_6_3:g}: every one loses kinetic energy (the changes of ½m₁|v₁|² + ½m₂|v₂|² "
            f"are all negative, {np.max(ke):.3g} at most). Only the momentum is conserved here."
        )
    if null_residual(A, _component_major(c)) <= tol:
        return (
            f"{which}, is not conserved (‖Ac‖/‖A‖‖c‖ = {residual:.2g}), but it would be with the columns in "
            f"another order: A's columns are {', '.join(labels)} — particle 1's x and y first, then "
            "particle 2's."
        )
    if residual < 1e-2:
        return (
            f"{which}, is close to conserved but not exactly: ‖Ac‖/‖A‖‖c‖ = {residual:.2g}, where a "
            f"conserved vector gives rounding error (≤ {NULL_TOLERANCE:g}). Rounded coefficients? Give "
            "them exactly, or to full precision."
        )
    worst = int(np.argmax(np.abs(A @ c)))
    return (
        f"{which}, is not conserved: ‖Ac‖/‖A‖‖c‖ = {residual:.2g}, where a conserved vector gives 0 up "
        f"to rounding (≤ {NULL_TOLERANCE:g}). In collision {worst + 1} it changes by "
        f"{float(A[worst] @ c):.3g}."
    )


@exercise(
    "6.3",
    title="The conserved quantities of inelastic collisions in the plane",
    answer="conserved",
    notebook=NOTEBOOK,
    hints=(
        "A combination c·φ is conserved when it does not change in any collision: Ac = 0 for the matrix A "
        "of changes. Which combinations of the six columns should stay the same when two disks collide "
        "with some loss of energy?",
        "Momentum is conserved in every collision, component by component: m₁v₁ₓ + m₂v₂ₓ and m₁v₁ᵧ + "
        "m₂v₂ᵧ. Kinetic energy is not, for e < 1. Check your vectors with A @ c.",
        "conserved = np.array([[1, 0, 1, 0, 0, 0], [0, 1, 0, 1, 0, 0]]) — the columns are m₁v₁ₓ, "
        "m₁v₁ᵧ, m₂v₂ₓ, m₂v₂ᵧ, ½m₁|v₁|², ½m₂|v₂|².",
    ),
)
def check_conserved(answer: Any) -> str | None:
    r"""``answer`` is a basis of the null space of :func:`data_6_3`, one vector per row, any scaling: each
    row has :func:`null_residual` at most :data:`NULL_TOLERANCE` (or the learner's float precision), the
    rows are independent, and there are as many as the null space's dimension."""
    A, labels = data_6_3()
    ns = null_space_6_3()
    vectors, tol = _vectors_6_3(answer, A.shape[1], labels)
    largest = np.max(np.abs(vectors), axis=1, keepdims=True)
    vectors = vectors / np.where(largest > 0, largest, 1.0)  # each row's largest entry ±1: no overflow
    norms = np.linalg.norm(vectors, axis=1)
    if np.all(norms == 0):
        raise Wrong(
            "that is the zero vector: 0·φ is 'conserved' by every data set and says nothing. A law needs "
            "a nonzero c with Ac = 0."
        )
    if np.any(norms == 0):
        raise Wrong(f"vector {int(np.argmax(norms == 0)) + 1} is zero; every vector of a basis is nonzero.")
    for index, c in enumerate(vectors):
        if null_residual(A, c) > tol:
            raise Wrong(_diagnose_row(index, c, A, labels, tol))
    unit = vectors / norms[:, None]
    singular = np.linalg.svd(unit, compute_uv=False)
    rank = int(np.sum(singular > 1e-6 * singular[0]))
    count = len(vectors)
    if rank < count:
        raise Wrong(
            f"your {count} vectors are conserved, but they are not independent: they span only {rank} "
            f"dimension{'s' if rank > 1 else ''} — one is a combination of the others. Give a basis: "
            f"{ns.dimension} independent vectors."
        )
    if rank < ns.dimension:
        return_text = (
            f"{'it is' if count == 1 else 'they are'} conserved, but the data conserve {ns.dimension} "
            f"independent quantities and you give {count}"
        )
        raise Wrong(
            f"{return_text}. Each component of a vector quantity is its own law: what else does every "
            "collision leave unchanged?"
        )
    gap = ns.gap
    return (
        f"A basis of the {ns.dimension}-dimensional null space: total momentum, in x and in y (any "
        f"combination of the two is conserved too, which is why the check compares spans). The singular "
        f"values of the column-normalised A fall from {ns.singular_values[-ns.dimension - 1]:.2g} to "
        f"{ns.singular_values[-ns.dimension]:.1g}, a gap of {gap:.1e}. With restitution e = {E_6_3:g} "
        "every collision loses kinetic energy, so energy is not among them."
    )


# ------------------------------------------------------------------------ exercise 6.4

#: The data sets of exercise 6.4: one seed each for :func:`~physml.discovery.conservation.gap_versus_noise`
#: (50 elastic head-on collisions, the package's default features).
SEEDS_6_4 = (640, 641, 642, 643)
#: The criterion: the laws are lost where the mean gap (geometric mean over the data sets) falls below this.
GAP_CRITERION = 10.0
#: The slider: :math:`\log_{10}\sigma` from, to, and its step.
LOG_SIGMA_MIN, LOG_SIGMA_MAX, LOG_SIGMA_STEP = -4.0, 0.0, 0.05
#: Accepted distance of :math:`\log_{10}\sigma` from the crossing: two slider steps (a factor 1.26).
LOG_SIGMA_TOLERANCE = 2 * LOG_SIGMA_STEP
#: The grid of the gap curves drawn by the widget.
SIGMA_GRID = np.logspace(LOG_SIGMA_MIN, LOG_SIGMA_MAX, 81)


def gaps_6_4(sigmas: Float[ArrayLike, " S"]) -> np.ndarray:
    r"""The gap :math:`s_{F-k}/s_{F-k+1}` between the singular values of the column-normalised
    :math:`\Delta\Phi` (:math:`k = 2` laws, :math:`F = 8` features, so :math:`s_6/s_7`) of each data set of
    :data:`SEEDS_6_4` at each noise level :math:`\sigma`:
    :func:`~physml.discovery.conservation.gap_versus_noise`. Shape ``(len(SEEDS_6_4), S)``."""
    sigmas = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    return np.array([conservation.gap_versus_noise(jax.random.key(s), sigmas).gap for s in SEEDS_6_4])


def mean_gap(sigmas: Float[ArrayLike, " S"]) -> np.ndarray:
    r"""The geometric mean of :func:`gaps_6_4` over the data sets, shape ``(S,)``."""
    return np.exp(np.mean(np.log(gaps_6_4(sigmas)), axis=0))


@functools.cache
def gap_curves() -> tuple[np.ndarray, np.ndarray]:
    """:func:`gaps_6_4` and :func:`mean_gap` on :data:`SIGMA_GRID` (computed once, for the widget)."""
    gaps = gaps_6_4(SIGMA_GRID)
    return gaps, np.exp(np.mean(np.log(gaps), axis=0))


def _crossing(gap_of: Callable[[float], float], criterion: float = GAP_CRITERION) -> float:
    """The noise level where ``gap_of`` falls to ``criterion``, by bisection in :math:`\\log\\sigma`."""
    low, high = LOG_SIGMA_MIN, math.log10(0.1)
    if not (gap_of(10**low) > criterion > gap_of(10**high)):
        raise ValueError(f"the gap does not cross {criterion} between 1e{low:g} and 1e{high:g}")
    for _ in range(50):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if gap_of(10**middle) > criterion else (low, middle)
    return 10 ** (0.5 * (low + high))


@functools.cache
def sigma_crossing() -> float:
    r"""The noise level at which the mean gap of exercise 6.4 falls to :data:`GAP_CRITERION`, by bisection.
    ``tests/test_exercises_ch06.py`` checks that the mean gap falls monotonically on the slider."""
    return _crossing(lambda s: float(mean_gap([s])[0]))


@functools.cache
def single_crossings() -> tuple[float, ...]:
    """Where each data set's own gap falls to :data:`GAP_CRITERION` (a mistaken reading of 6.4)."""
    return tuple(_crossing(lambda s, i=i: float(gaps_6_4([s])[i, 0])) for i in range(len(SEEDS_6_4)))


@functools.cache
def _noisy_data() -> tuple[tuple[conservation.Collisions, jax.Array], ...]:
    """The clean collisions and noise keys of each data set, as :func:`gap_versus_noise` draws them."""
    out = []
    for seed in SEEDS_6_4:
        key_collide, key_noise = jax.random.split(jax.random.key(seed))
        out.append((conservation.collide_1d(key_collide, 50), key_noise))
    return tuple(out)


def singular_values_6_4(sigma: float) -> np.ndarray:
    r"""The singular values of the column-normalised :math:`\Delta\Phi` of each data set of exercise 6.4
    at noise ``sigma``: :func:`~physml.discovery.conservation.null_space` of
    :func:`~physml.discovery.conservation.delta_phi` of :func:`~physml.discovery.conservation.add_noise`.
    Shape ``(len(SEEDS_6_4), 8)``."""
    return np.array(
        [
            conservation.null_space(
                conservation.delta_phi(conservation.add_noise(clean, key, sigma))[0]
            ).singular_values
            for clean, key in _noisy_data()
        ]
    )


def _noise_gap_scene() -> Scene:
    """The figure of exercise 6.4 and the function that moves it to a noise level: singular values,
    the slider's line, title."""
    gaps, mean = gap_curves()
    fig, (left, right) = figure(ncols=2, figsize=(9.0, 3.8))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.28)  # no layout engine: fast
    index = np.arange(1, 9)
    spectra = [
        left.semilogy(index, np.ones(8), "o-", ms=3.5, lw=1, color=f"C{i}", label=f"data set {i + 1}")[0]
        for i in range(len(SEEDS_6_4))
    ]
    left.axvspan(6.5, 8.5, color="#9aa5b1", alpha=0.2, lw=0)
    left.set_ylim(1e-7, 10)
    left.set_xlim(0.5, 8.5)
    left.set_xlabel("index of singular value")
    left.set_ylabel("singular value of ΔΦ (normalised)")
    left_legend = left.legend(loc="lower left", fontsize="x-small")
    for i, row in enumerate(gaps):
        right.loglog(SIGMA_GRID, row, lw=0.8, color=f"C{i}", alpha=0.6)
    right.loglog(SIGMA_GRID, mean, lw=2, color="#222222", label="mean gap (geometric)")
    right.axhline(GAP_CRITERION, color="#c44e52", lw=1, ls="--", label=f"criterion, gap = {GAP_CRITERION:g}")
    slider_line = right.axvline(SIGMA_GRID[0], color="#4c72b0", lw=1.2, label="σ on the slider")
    right.set_xlabel("velocity noise σ (units of the largest speed)")
    right.set_ylabel("gap s₆/s₇")
    right.set_ylim(0.8, 3e3)
    right_legend = right.legend(loc="upper right", fontsize="x-small")
    for axis in (left.yaxis, right.xaxis, right.yaxis):  # minor ticks cost half the rendering time
        axis.set_minor_locator(NullLocator())
    left.yaxis.set_major_locator(LogLocator(numticks=5))
    title = fig.suptitle("", fontsize="medium")

    def move(sigma: float) -> list[Artist]:
        if not (is_real(sigma) and math.isfinite(sigma)):
            raise ValueError(f"sigma must be a finite number, got {sigma!r}")
        if not (10**LOG_SIGMA_MIN * 0.999 <= sigma <= 10**LOG_SIGMA_MAX * 1.001):
            raise ValueError(f"sigma must lie in [1e{LOG_SIGMA_MIN:g}, 1e{LOG_SIGMA_MAX:g}], got {sigma}")
        values = singular_values_6_4(sigma)
        for spectrum, row in zip(spectra, values, strict=True):
            spectrum.set_ydata(row)
        slider_line.set_xdata([sigma, sigma])
        now = float(np.exp(np.mean(np.log(values[:, 5] / values[:, 6]))))
        verdict = "the laws stand out" if now >= GAP_CRITERION else "the laws are lost"
        title.set_text(f"σ = {sigma:.3g}: mean gap {now:.3g} — {verdict}")
        return [*spectra, left_legend, slider_line, right_legend, title]

    return fig, move


@with_scene(_noise_gap_scene)
def draw_noise_gap(sigma: float) -> Figure:
    r"""The widget's figure for exercise 6.4 at noise ``sigma``: left, the singular values of
    :math:`\Delta\Phi` of the four data sets; right, their gaps against :math:`\sigma`, the mean gap,
    and the criterion."""
    fig, move = _noise_gap_scene()
    move(sigma)
    return fig


@exercise(
    "6.4",
    title="The noise level at which the conservation laws are lost (widget)",
    answer="sigma_lost",
    notebook=NOTEBOOK,
    hints=(
        "Start at small σ and move right: two singular values sit far below the others (momentum and "
        "energy), and the gap between the sixth and the seventh shrinks as the noise grows.",
        "The figure's title gives the mean gap at the slider's σ. Find where it crosses 10: the black "
        "curve on the right meets the dashed red line.",
        "The crossing lies between σ = 0.003 and 0.008; step the slider there and record the σ at which "
        "the title first says 'the laws are lost'.",
    ),
)
def check_sigma_lost(answer: Any) -> str | None:
    r"""``answer`` is within a factor :math:`10^{0.1}` (:data:`LOG_SIGMA_TOLERANCE`) of
    :func:`sigma_crossing`."""
    value = as_float(answer, what="sigma_lost")
    target = sigma_crossing()
    accepted = f"(the check accepts a factor {10**LOG_SIGMA_TOLERANCE:.2f} either side of the crossing)"
    if value <= 0:
        if LOG_SIGMA_MIN <= value <= LOG_SIGMA_MAX and abs(value - math.log10(target)) <= LOG_SIGMA_TOLERANCE:
            raise Wrong(
                f"{value:g} is log₁₀ σ, the slider's position; record σ itself, 10**{value:g} = "
                f"{10**value:.3g}."
            )
        raise Wrong(f"σ = {value:g} is not a noise level: it must be positive {accepted}.")
    if value >= 1:
        raise Wrong(
            f"σ = {value:g} is noise as large as the speeds themselves; the laws are lost long before "
            f"{accepted}."
        )
    distance = math.log10(value / target)
    gap = float(mean_gap([value])[0])
    if abs(distance) <= LOG_SIGMA_TOLERANCE:
        low, high = min(single_crossings()), max(single_crossings())
        return (
            f"The mean gap falls to {GAP_CRITERION:g} at σ = {target:.2g}, 0.5 % of the largest speed; at "
            f"your σ it is {gap:.3g}. The gap falls like 1/σ: noise lifts the vanishing singular values "
            f"in proportion to σ while the others stay put. The four data sets cross between σ = {low:.2g} "
            f"and {high:.2g} — more collisions would buy a larger gap only like √n."
        )
    for index, crossing in enumerate(single_crossings()):
        if abs(math.log10(value / crossing)) <= 0.5 * LOG_SIGMA_TOLERANCE:
            raise Wrong(
                f"at σ = {value:.3g} the gap of data set {index + 1} alone crosses {GAP_CRITERION:g}; the "
                f"criterion is the mean gap over the four data sets (the black curve), {gap:.3g} there "
                f"{accepted}."
            )
    if distance < 0:
        raise Wrong(
            f"at σ = {value:.3g} the mean gap is still {gap:.3g} ≥ {GAP_CRITERION:g}: the laws still stand "
            f"out. Raise σ {accepted}."
        )
    if gap < 3:
        raise Wrong(
            f"at σ = {value:.3g} the mean gap is {gap:.3g}: the gap has nearly closed, but the criterion is "
            f"the σ where it first falls below {GAP_CRITERION:g}, at a smaller σ {accepted}."
        )
    raise Wrong(
        f"at σ = {value:.3g} the mean gap is already {gap:.3g} < {GAP_CRITERION:g}; it fell below "
        f"{GAP_CRITERION:g} at a smaller σ. Lower σ {accepted}."
    )


# ------------------------------------------------------------------------ exercise 6.5

#: The damped Duffing oscillator of exercise 6.5, :math:`\dot x = y`, :math:`\dot y = -x - 0.2y - x^3`:
#: ``(term, equation) -> coefficient`` in :data:`LIBRARY_6_5` (equation 0 is x', 1 is y').
TRUE_TERMS_6_5: dict[tuple[str, int], float] = {
    ("y", 0): 1.0,
    ("x", 1): -1.0,
    ("y", 1): -0.2,
    ("x^3", 1): -1.0,
}
#: The candidate terms: all monomials in (x, y) up to degree 3 (10 terms).
LIBRARY_6_5 = equations.polynomial_library(2, 3)
#: Starts of the three trajectories, sampling interval, samples per trajectory, noise and its seed.
STARTS_6_5 = ((2.0, 0.0), (0.0, 2.5), (-1.0, 1.0))
DT_6_5, SAMPLES_6_5, NOISE_6_5, SEED_6_5 = 0.05, 401, 0.05, 65
#: The thresholds the reference scans (:func:`~physml.discovery.equations.threshold_path`).
THRESHOLDS_6_5 = np.geomspace(1e-3, 10.0, 161)


def true_coefficients_6_5() -> np.ndarray:
    r""":math:`\Xi` of the damped Duffing oscillator in :data:`LIBRARY_6_5`, shape ``(10, 2)``."""
    xi = np.zeros((len(LIBRARY_6_5), 2))
    for (term, equation), value in TRUE_TERMS_6_5.items():
        xi[LIBRARY_6_5.names.index(term), equation] = value
    return xi


@functools.cache
def trajectories_6_5() -> np.ndarray:
    r"""The observed states of exercise 6.5, shape ``(3, 401, 2)``: the damped Duffing oscillator
    integrated by :meth:`~physml.discovery.equations.SindyModel.simulate` (RK4, four steps per sample, in
    float64) from :data:`STARTS_6_5`, sampled every :data:`DT_6_5`, plus white noise of standard
    deviation :data:`NOISE_6_5` from ``jax.random.key(SEED_6_5)``."""
    model = equations.SindyModel(true_coefficients_6_5(), LIBRARY_6_5)
    substeps = 4
    t = np.arange((SAMPLES_6_5 - 1) * substeps + 1) * (DT_6_5 / substeps)
    with jax.enable_x64(True):
        clean = np.stack([np.asarray(model.simulate(jnp.asarray(s, jnp.float64), t)) for s in STARTS_6_5])
        clean = clean[:, ::substeps]
        noise = np.asarray(jax.random.normal(jax.random.key(SEED_6_5), clean.shape, jnp.float64))
    return clean + NOISE_6_5 * noise


@functools.cache
def data_6_5() -> tuple[np.ndarray, np.ndarray]:
    r"""The regression problem of exercise 6.5: :math:`\Theta` (shape ``(1203, 10)``, the library on every
    sample) and :math:`\dot X` (shape ``(1203, 2)``, :func:`~physml.discovery.equations.finite_difference` of
    each trajectory)."""
    x = trajectories_6_5()
    theta = LIBRARY_6_5.numpy(x.reshape(-1, 2))
    return theta, equations.finite_difference(x, DT_6_5).reshape(-1, 2)


def fit_6_5(threshold: float) -> np.ndarray:
    r""":func:`~physml.discovery.equations.stlsq` on :func:`data_6_5` at ``threshold``: :math:`\Xi`, shape
    ``(10, 2)``."""
    theta, x_dot = data_6_5()
    return equations.stlsq(theta, x_dot, threshold=threshold)


@functools.cache
def recovery_window() -> tuple[float, float]:
    """The smallest and largest of :data:`THRESHOLDS_6_5` at which the fit selects exactly the true terms
    (:meth:`~physml.discovery.equations.ThresholdPath.recovers`)."""
    theta, x_dot = data_6_5()
    path = equations.threshold_path(theta, x_dot, THRESHOLDS_6_5)
    good = np.flatnonzero(path.recovers(true_coefficients_6_5() != 0))
    return float(THRESHOLDS_6_5[good[0]]), float(THRESHOLDS_6_5[good[-1]])


def _terms(mask: np.ndarray, xi: np.ndarray, most: int = 5) -> str:
    """The terms of ``mask`` with their coefficients in ``xi``, largest first, at most ``most`` of them."""
    rows, cols = np.nonzero(mask)
    order = np.argsort(-np.abs(xi[rows, cols]), kind="stable")
    names = [
        f"{LIBRARY_6_5.names[rows[k]]} in {('x', 'y')[cols[k]]}' ({xi[rows[k], cols[k]]:+.3g})" for k in order
    ]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


@exercise(
    "6.5",
    title="The sparsity threshold that recovers an equation of motion",
    answer="threshold",
    notebook=NOTEBOOK,
    hints=(
        "Run discovery.threshold_path(theta, x_dot, thresholds) over a range such as np.geomspace(1e-3, 10, "
        "81) and look at the number of terms kept and the relative residual against the threshold.",
        "Below the right range, terms that only fit the noise survive (many terms, same residual); above "
        "it, a true term is cut and the residual rises. The smallest true coefficient sets the upper end.",
        "The sparsest model whose residual is still that of the full least-squares fit (within 0.1 %) has "
        "4 terms; choose a threshold in the middle of the range that gives it, around 0.05.",
    ),
)
def check_threshold(answer: Any) -> str | None:
    r"""``answer`` is a threshold at which :func:`fit_6_5` selects exactly the terms of
    :data:`TRUE_TERMS_6_5`."""
    value = as_float(answer, what="threshold")
    if value < 0:
        raise Wrong(f"λ = {value:g}: a threshold is a coefficient size, at least 0.")
    xi = fit_6_5(value)
    truth = true_coefficients_6_5() != 0
    found = xi != 0
    if np.array_equal(found, truth):
        low, high = recovery_window()
        model = equations.SindyModel(xi, LIBRARY_6_5)
        return (
            f"At λ = {value:g} the fit keeps exactly the true terms: {'; '.join(model.equations())}. Every "
            f"λ from about {low:.2g} to {high:.2g} does: below, terms that fit the noise survive; above, the "
            "damping, the smallest true term, is cut first — and the residual hardly notices, because the "
            "noise dominates it."
        )
    if not found.any():
        raise Wrong(f"at λ = {value:g} every term is cut: no coefficient is that large. Lower λ.")
    spurious, dropped = found & ~truth, truth & ~found
    reference = fit_6_5(0.0)
    parts = []
    if spurious.any():
        count = int(spurious.sum())
        parts.append(
            f"{count} spurious term{'s' if count > 1 else ''} survive{'' if count > 1 else 's'}: "
            f"{_terms(spurious, xi)}"
        )
    if dropped.any():
        parts.append(f"true terms are cut: {_terms(dropped, reference)} (their least-squares coefficients)")
    advice = "raise λ" if spurious.any() else "lower λ"  # no λ gives both here (tested)
    if value == 0:
        return_text = "λ = 0 is plain least squares: every term of the library is kept"
        raise Wrong(f"{return_text}. Raise λ above the size of the coefficients that only fit the noise.")
    raise Wrong(f"at λ = {value:g}, {'; '.join(parts)} — {advice}.")


# ------------------------------------------------------------------------ exercise 6.6

#: The units exercise 6.6 converts between (IAU 2012: the au is exact; a Julian year is 365.25 days).
AU_KM, YEAR_DAYS = 149_597_870.7, 365.25
#: Accepted relative distance from the reference mass ratio.
MASS_TOLERANCE = 2e-3
#: :math:`M_\odot/M_\mathrm{J}` of the IAU (2009 system of astronomical constants), for the message.
IAU_SUN_OVER_JUPITER = 1047.348644


@functools.cache
def jupiter_mass_reference() -> float:
    r"""Jupiter's mass in solar masses from Kepler's third law: the prefactors of the planets and of the
    four Galilean moons at the exponent fixed to 3/2, :math:`M_\mathrm{J}/M_\odot = (C_\odot/C_\mathrm{J})^2`
    (:func:`~physml.discovery.powerlaw.central_mass_ratio`)."""
    moons = powerlaw.jupiter_moons().select("galilean")
    return powerlaw.central_mass_ratio(moons, powerlaw.kepler_planets())


def _variants_6_6() -> list[tuple[float, str]]:
    ref = jupiter_mass_reference()
    planets, moons = powerlaw.kepler_planets(), powerlaw.jupiter_moons()
    galilean = moons.select("galilean")
    c_sun = powerlaw.fit_prefactor(planets.a, planets.period, 1.5)  # years per au^1.5
    c_jup = powerlaw.fit_prefactor(galilean.a, galilean.period, 1.5)  # days per km^1.5
    # both exponents free, all six moons, the prefactors converted as if the exponent were 3/2
    c_sun_free = powerlaw.fit_power_law(planets.a, planets.period).prefactor * YEAR_DAYS / AU_KM**1.5
    free = (c_sun_free / powerlaw.fit_power_law(moons.a, moons.period).prefactor) ** 2
    return [
        (1 / ref, "that is M_Sun/M_J, the inverted ratio: Jupiter is the lighter body."),
        (
            math.sqrt(ref),
            "that is the ratio of the prefactors, C_Sun/C_J. Since C = 2π/√(GM), the masses go as 1/C²: "
            "square it.",
        ),
        (1 / math.sqrt(ref), "that is C_J/C_Sun: inverted, and not squared — M ∝ 1/C²."),
        (
            (c_sun / c_jup) ** 2,
            "the units are not converted: the planets' C is in years/au^1.5, the moons' in days/km^1.5. "
            "Convert both tables to the same units first.",
        ),
        (
            (c_jup / c_sun) ** 2,
            "inverted, and the units are not converted (years/au^1.5 against days/km^1.5).",
        ),
        (
            ref / YEAR_DAYS**2,
            "the lengths are converted but the times are not: off by 365.25². Periods in days for both.",
        ),
        (ref * AU_KM**3, "the times are converted but the lengths are not: off by (km per au)³."),
        (
            ref**2,
            "squared once too often: the ratio of the prefactors K of P² = K a³ is already the mass ratio "
            "(K = 4π²/GM).",
        ),
        (
            free,
            "that uses all six moons with a free exponent. Amalthea and Thebe feel Jupiter's equatorial "
            "bulge, which steepens the fitted slope and moves the intercept; fix the exponent at 3/2 and "
            "use the four Galilean moons.",
        ),
    ]


@exercise(
    "6.6",
    title="Jupiter's mass from the prefactors of Kepler's law",
    answer="jupiter_mass",
    notebook=NOTEBOOK,
    hints=(
        "Newton's form of the third law is P = C a^{3/2} with C = 2π/√(GM): the prefactor weighs the "
        "central body, so M_J/M_Sun = (C_Sun/C_J)², with both C in the same units.",
        "At a fixed exponent 3/2 the least-squares prefactor is the geometric mean of P/a^{3/2}: "
        "np.exp(np.mean(np.log(P) - 1.5 * np.log(a))). Convert the planets to km and days first "
        "(1 au = 149 597 870.7 km, 1 year = 365.25 days).",
        "c_sun = geometric mean of (365.25 P)/(149597870.7 a)^{3/2} over the planets, c_jup = that of "
        "P/a^{3/2} over the Galilean moons; jupiter_mass = (c_sun / c_jup) ** 2.",
    ),
)
def check_jupiter_mass(answer: Any) -> str | None:
    r"""``answer`` is within :data:`MASS_TOLERANCE` (relative) of :func:`jupiter_mass_reference`."""
    value = as_float(answer, what="jupiter_mass")
    ref = jupiter_mass_reference()
    if value <= 0:
        raise Wrong(f"{value:g} is not a mass ratio: it must be positive.")
    if abs(value / ref - 1) <= MASS_TOLERANCE:
        note = ""
        if abs(value / ref - 1) > 1e-4:
            note = (
                f" (Yours differs from 1/{1 / ref:.1f}, the Galilean moons at the exponent 3/2, by "
                f"{abs(value / ref - 1):.2%}: within the accepted {MASS_TOLERANCE:.1%}.)"
            )
        return (
            f"M_J/M_Sun = {ref:.4e} = 1/{1 / ref:.1f}; the IAU's value is 1/{IAU_SUN_OVER_JUPITER:.2f}. "
            "The exponent is universal, the prefactor weighs the central body: two tables of periods "
            f"weigh Jupiter to {abs(ref * IAU_SUN_OVER_JUPITER - 1):.2%}.{note}"
        )
    if 1e26 < value < 1e28:
        raise Wrong(f"{value:.4g} looks like kilograms; give the ratio M_J/M_Sun, a pure number.")
    for candidate, text in _variants_6_6():
        if abs(value / candidate - 1) <= MASS_TOLERANCE:
            raise Wrong(f"you give {value:.4g}: {text}")
    if abs(value / ref - 1) <= 1e-2:
        raise Wrong(
            f"you give {value:.5g} = 1/{1 / value:.1f}, within 1 % of 1/{1 / ref:.1f} but not within "
            f"{MASS_TOLERANCE:.1%}: rounded constants? Use 1 au = {AU_KM:,.1f} km and 1 year = "
            f"{YEAR_DAYS} days, and the exponent fixed at 3/2."
        )
    raise Wrong(
        f"you give {value:.4g} = 1/{1 / value:.4g}; the prefactors give M_J/M_Sun = (C_Sun/C_J)² = "
        f"{ref:.4g} = 1/{1 / ref:.1f}."
    )
