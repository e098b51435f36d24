r"""Exercises of "Frontiers" (``exercises/09_frontiers.ipynb``).

The values a checker compares to are the chapter's: Euler numbers and Hodge numbers from
:func:`physml.frontiers.cicy.euler_number` and :func:`physml.frontiers.cicy.favourable_hodge_numbers`;
the :math:`\Delta\chi^2 = 1` interval of a profile by linear interpolation between grid points
(:func:`interval_reference`); Hessian errors :math:`\sigma_i = \sqrt{2(H^{-1})_{ii}}`
(:func:`hessian_errors_reference`, as :func:`physml.frontiers.surrogate.hessian_errors`); the learning
coefficient as the least-squares slope against :math:`\ln n` (:func:`slope_reference`, as
:func:`physml.frontiers.slt.learning_coefficient`). ``tests/test_exercises_ch09.py``
checks each against an independent computation: the published Euler and Hodge numbers, profiles of
exact parabolas, exact straight lines, Gaussian likelihoods whose covariance is known.
Everything is float64.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from ..frontiers import cicy
from ._core import Wrong, as_array, as_number, call_quietly, close, exercise, nonfinite, show, tolerance

NOTEBOOK = "09_frontiers"

#: Relative tolerance of the diagnoses.
_LOOSE = 1e-4


def _number(raw: Any, what: str) -> float:
    """One number from an answer (:func:`as_number`), naming NaN and infinities as such."""
    if nonfinite(raw) is not None:
        raise Wrong(f"{what} is {nonfinite(raw).lstrip('+')}.")
    return as_number(raw, what=what)


# ------------------------------------------------------------------------ exercise 9.1

#: The complete intersections in one projective space of exercise 9.1: (n, degrees), with the
#: name each is known by.
CASES_9_1: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("the quintic [4 | 5]", 4, (5,)),
    ("[5 | 2 4]", 5, (2, 4)),
    ("[5 | 3 3]", 5, (3, 3)),
    ("[6 | 2 2 3]", 6, (2, 2, 3)),
    ("[7 | 2 2 2 2]", 7, (2, 2, 2, 2)),
)


def euler_reference(n: int, degrees: tuple[int, ...]) -> int:
    r""":math:`\chi` of the complete intersection of degrees ``degrees`` in :math:`\mathbb P^n`:
    :func:`physml.frontiers.cicy.euler_number` of the one-row configuration."""
    return cicy.euler_number(cicy.configuration((n,), [list(degrees)]))


def _series(degrees: tuple[int, ...], power: int) -> list[int]:
    """Coefficients of J^0..J^3 of (1 + J)^power / prod_j (1 + q_j J), exact integers."""
    c = [math.comb(power, k) for k in range(4)]
    for q in degrees:  # divide by (1 + qJ): c_k <- c_k - q c_{k-1}
        for k in range(1, 4):
            c[k] -= q * c[k - 1]
    return c


def _variants_9_1(n: int, degrees: tuple[int, ...]) -> list[tuple[float, str]]:
    ref = euler_reference(n, degrees)
    product = math.prod(degrees)
    c = _series(degrees, n + 1)
    return [
        (
            c[3],
            f"that is c₃ alone, the coefficient of J³ ({c[3]}); integrate over X: multiply by the "
            f"classes of the equations, Π q_j = {product}.",
        ),
        (-ref, "that is −χ: the sign is off. Expand 1/(1 + qJ) = 1 − qJ + q²J² − q³J³ …"),
        (
            _series(degrees, n)[3] * product,
            "that uses (1 + J)ⁿ; the tangent bundle of Pⁿ gives (1 + J)ⁿ⁺¹.",
        ),
        (
            c[2] * product,
            "that is the J² coefficient, c₂; the Euler number of a threefold is the top class c₃.",
        ),
        (ref / 2, "that is χ/2: no factor ½ in χ = ∫ c₃."),
        (1 - ref / 2, "that is h²'¹ = h¹'¹ − χ/2 (with h¹'¹ = 1), not χ — exercise 9.2."),
    ]


@exercise(
    "9.1",
    title="The Euler number of a complete intersection",
    answer="euler_number",
    notebook=NOTEBOOK,
    hints=(
        "Write c(X) = (1 + J)ⁿ⁺¹ / Π_j (1 + q_j J) as a power series in J, up to J³: multiply by "
        "(1 + J)ⁿ⁺¹ and divide by each (1 + qJ) in turn, keeping integer coefficients.",
        "Dividing a series c by (1 + qJ): for k = 1, 2, 3 in turn, c[k] -= q * c[k - 1].",
        "χ = c[3] * product(degrees): the coefficient of J³, integrated over X, which is Π q_j times a "
        "hyperplane class in Pⁿ raised to the power n − K = 3.",
    ),
)
def check_euler_number(answer: Any) -> str | None:
    r"""``answer(n, degrees)`` returns :func:`euler_reference` for every case of :data:`CASES_9_1`."""
    for label, n, degrees in CASES_9_1:
        where = f"for {label}"
        value = _number(
            call_quietly(answer, n, list(degrees), what=f"{where}: your euler_number"), f"χ {where}"
        )
        ref = euler_reference(n, degrees)
        if value == ref:
            continue
        said = f"{where} you give {value:.6g}"
        for variant, text in _variants_9_1(n, degrees):
            if variant != ref and close(value, variant, _LOOSE):
                raise Wrong(f"{said}: {text}")
        if not value.is_integer():
            raise Wrong(f"{said}: not an integer. Keep the coefficients as Python integers, not floats.")
        raise Wrong(f"{said}; the Euler number is an even integer between −200 and 0 for these.")
    return (
        "χ = −200 for the quintic: the number every string theorist knows, from two lines of "
        "polynomial arithmetic. The Euler number of every configuration in the chapter's data set comes "
        "out the same way."
    )


# ------------------------------------------------------------------------ exercise 9.2

#: The configurations of exercise 9.2: (name, dims, degrees), all favourable.
CASES_9_2: tuple[tuple[str, tuple[int, ...], tuple[tuple[int, ...], ...]], ...] = (
    ("the quintic [4 | 5]", (4,), ((5,),)),
    ("the bicubic in P² × P²", (2, 2), ((3,), (3,))),
    ("the tetraquadric in P¹ × P¹ × P¹ × P¹", (1, 1, 1, 1), ((2,), (2,), (2,), (2,))),
    ("[7 | 2 2 2 2]", (7,), ((2, 2, 2, 2),)),
)


def hodge_reference(dims: tuple[int, ...], degrees: tuple[tuple[int, ...], ...]) -> tuple[int, int]:
    r""":math:`(h^{1,1}, h^{2,1})` of a favourable configuration:
    :func:`physml.frontiers.cicy.favourable_hodge_numbers`."""
    h11, h21 = cicy.favourable_hodge_numbers(cicy.configuration(dims, [list(row) for row in degrees]))
    return int(h11), int(h21)


def _variants_9_2(dims: tuple[int, ...], degrees: tuple[tuple[int, ...], ...]) -> list[tuple[tuple, str]]:
    h11, h21 = hodge_reference(dims, degrees)
    chi = 2 * (h11 - h21)
    K = len(degrees[0])
    return [
        (
            (h21, h11),
            "the two are swapped: h¹'¹ counts the Kähler classes (one per projective factor), "
            "h²'¹ the complex-structure deformations.",
        ),
        ((h11, h11 + chi // 2), "h²'¹ = h¹'¹ + χ/2 has the sign of χ wrong: χ = 2(h¹'¹ − h²'¹)."),
        ((h11, h11 - chi), "that is h¹'¹ − χ; χ = 2(h¹'¹ − h²'¹), so h²'¹ = h¹'¹ − χ/2."),
        ((h11, -chi // 2), "h²'¹ is h¹'¹ − χ/2: you left out h¹'¹."),
        (
            (K, K - chi // 2),
            "h¹'¹ of a favourable configuration is the number of projective factors (rows), "
            "not of equations (columns).",
        ),
        (
            (sum(dims), sum(dims) - chi // 2),
            "h¹'¹ is the number of projective factors, one Kähler class "
            "each — not the dimension of the ambient space.",
        ),
    ]


def _pair(raw: Any, where: str) -> tuple[float, float]:
    if nonfinite(raw) is not None:
        raise Wrong(f"{where} your result contains {nonfinite(raw).lstrip('+')}.")
    got = as_array(raw, what=f"the result {where}")
    if got.shape != (2,):
        raise Wrong(f"{where} you return shape {got.shape}; expected two numbers, (h11, h21).")
    return float(got[0]), float(got[1])


@exercise(
    "9.2",
    title="Hodge numbers of a favourable CICY",
    answer="hodge_numbers",
    notebook=NOTEBOOK,
    hints=(
        "For a favourable CICY every Kähler class comes from a projective factor: h¹'¹ is the number of "
        "rows of the configuration matrix.",
        "The Euler number of a Calabi–Yau threefold is χ = 2(h¹'¹ − h²'¹); the package gives χ: "
        "cicy.euler_number(cicy.configuration(dims, degrees)).",
        "h11 = len(dims); h21 = h11 - chi // 2; return (h11, h21).",
    ),
)
def check_hodge_numbers(answer: Any) -> str | None:
    r"""``answer(dims, degrees)`` returns :func:`hodge_reference` for every case of :data:`CASES_9_2`."""
    for label, dims, degrees in CASES_9_2:
        where = f"for {label}"
        raw = call_quietly(
            answer, list(dims), [list(row) for row in degrees], what=f"{where}: your hodge_numbers"
        )
        got = _pair(raw, where)
        ref = hodge_reference(dims, degrees)
        if got == ref:
            continue
        said = f"{where} you give ({got[0]:g}, {got[1]:g})"
        for variant, text in _variants_9_2(dims, degrees):
            if variant != ref and got == tuple(float(v) for v in variant):
                raise Wrong(f"{said}: {text}")
        if got[0] != ref[0]:
            raise Wrong(f"{said}: h¹'¹ is {ref[0]} — the number of projective factors.")
        raise Wrong(f"{said}: h²'¹ is {ref[1]}. Use χ = 2(h¹'¹ − h²'¹).")
    return (
        "(1, 101) for the quintic, (2, 83) for the bicubic: a hundred and one ways to deform one shape. "
        "The rule h¹'¹ = number of factors holds for favourable configurations only; for the others, "
        "h¹'¹ is larger, and that is what makes it worth learning."
    )


# ------------------------------------------------------------------------ exercise 9.3


class Profile93(NamedTuple):
    """One profile of exercise 9.3: a label, the grid of the parameter, the profiled χ² on it."""

    label: str
    grid: np.ndarray
    chi2: np.ndarray


def interval_reference(grid: Any, chi2: Any, delta: float = 1.0) -> tuple[float, float]:
    r"""Where a profile crosses :math:`\chi^2_{\min} + \Delta` on either side of its lowest grid point,
    by linear interpolation between neighbouring grid points; ``grid`` increasing, the crossing inside
    it on both sides."""
    grid, chi2 = np.asarray(grid, np.float64), np.asarray(chi2, np.float64)
    i, level = int(np.argmin(chi2)), float(np.min(chi2)) + delta
    left = np.nonzero(chi2[:i] > level)[0][-1]
    right = i + np.nonzero(chi2[i:] > level)[0][0]

    def cross(a: int, b: int) -> float:
        return float(grid[a] + (level - chi2[a]) * (grid[b] - grid[a]) / (chi2[b] - chi2[a]))

    return cross(left, left + 1), cross(right - 1, right)


@functools.cache
def profiles_9_3() -> tuple[Profile93, ...]:
    """The profiles of exercise 9.3: a parabola on a coarse grid, one whose minimum falls between grid
    points, and an asymmetric one (a quartic term), each with a constant offset."""
    coarse = np.linspace(-3.0, 3.0, 13)
    fine = np.linspace(0.2, 0.8, 61)
    skew = np.linspace(1.0, 4.0, 31)
    return (
        Profile93("a parabola (θ/σ)² with σ = 1, on a grid of step 0.5", coarse, coarse**2 + 41.0),
        Profile93(
            "a parabola centred at 0.537 with σ = 0.05, on a grid of step 0.01",
            fine,
            ((fine - 0.537) / 0.05) ** 2 + 102.3,
        ),
        Profile93(
            "an asymmetric profile (a quartic term on the right)",
            skew,
            ((skew - 2.2) / 0.4) ** 2 + np.where(skew > 2.2, ((skew - 2.2) / 0.5) ** 4, 0.0) + 250.0,
        ),
    )


def _variants_9_3(profile: Profile93) -> list[tuple[tuple[float, float], str]]:
    lo, hi = interval_reference(profile.grid, profile.chi2)
    i = int(np.argmin(profile.chi2))
    level = profile.chi2[i] + 1.0
    inside = profile.grid[profile.chi2 <= level]
    return [
        (interval_reference(profile.grid, profile.chi2, 4.0), "that is Δχ² = 4, two standard deviations."),
        (
            interval_reference(profile.grid, profile.chi2, 2.3),
            "that is Δχ² = 2.3, the 68 % region of two "
            "parameters jointly; a profile of one parameter uses Δχ² = 1.",
        ),
        (
            interval_reference(profile.grid, profile.chi2, 0.5),
            "that is Δχ² = ½, which is Δ(−ln L) = ½ in "
            "χ² units: χ² = −2 ln L, so one standard deviation is Δχ² = 1.",
        ),
        (
            (float(inside[0]), float(inside[-1])),
            "those are the outermost grid points inside the interval; "
            "interpolate between them and their neighbours outside for the crossing.",
        ),
        ((hi - lo, 0.5 * (hi - lo)), "those are the width and the half width; return the two ends."),
        (
            (profile.grid[i] - 0.5 * (hi - lo), profile.grid[i] + 0.5 * (hi - lo)),
            "a symmetric interval around "
            "the lowest grid point: read the two crossings separately — a profile need not be symmetric.",
        ),
    ]


@exercise(
    "9.3",
    title="The Δχ² = 1 interval of a profile",
    answer="delta_chi2_interval",
    notebook=NOTEBOOK,
    hints=(
        "One standard deviation of one parameter: where the profile rises by Δχ² = 1 above its minimum, "
        "on each side. The crossing falls between two grid points: interpolate linearly.",
        "Let i = np.argmin(chi2) and level = chi2[i] + 1. On the left, find the last grid point before i "
        "with chi2 > level; the crossing lies between it and the next point.",
        "Between points a and b: θ = grid[a] + (level − chi2[a]) (grid[b] − grid[a]) / (chi2[b] − chi2[a]); "
        "or np.interp(level, chi2[b::-1], grid[b::-1]) on the decreasing left branch.",
    ),
)
def check_delta_chi2_interval(answer: Any) -> str | None:
    r"""``answer(grid, chi2)`` returns :func:`interval_reference` for every profile of :func:`profiles_9_3`,
    to 1 % of a grid step."""
    for profile in profiles_9_3():
        where = f"for {profile.label}"
        raw = call_quietly(answer, profile.grid.copy(), profile.chi2.copy(), what=f"{where}: your function")
        got = _pair(raw, where)
        ref = interval_reference(profile.grid, profile.chi2)
        step = float(profile.grid[1] - profile.grid[0])
        if close(np.array(got), np.array(ref), 0.0, 0.01 * step):
            continue
        said = f"{where} you give ({got[0]:.5g}, {got[1]:.5g})"
        for variant, text in _variants_9_3(profile):
            if close(np.array(got), np.array(variant), 0.0, 0.01 * step):
                raise Wrong(f"{said}: {text}")
        if got[0] > got[1]:
            raise Wrong(f"{said}: the lower end comes first.")
        if close(np.array(got), np.array(ref), 0.0, 0.5 * step):
            raise Wrong(
                f"{said}, within half a grid step of ({ref[0]:.5g}, {ref[1]:.5g}): interpolate "
                "linearly between the grid points on either side of each crossing."
            )
        raise Wrong(f"{said}; the profile crosses its minimum + 1 at ({ref[0]:.5g}, {ref[1]:.5g}).")
    return (
        "On the asymmetric profile the interval is lopsided, as a Hessian error (symmetric by "
        "construction) cannot be: the profile is the more honest of the two when χ² is not quadratic."
    )


# ------------------------------------------------------------------------ exercise 9.4


def hessians_9_4() -> tuple[tuple[str, np.ndarray], ...]:
    r"""The Hessians of :math:`\chi^2` of exercise 9.4: diagonal, correlated 2×2 (:math:`\rho = -0.9`)
    and a correlated 3×3 like the chapter's fit of :math:`(A, a, b)`."""
    cov2 = np.array([[0.04, -0.9 * 0.2 * 0.5], [-0.9 * 0.2 * 0.5, 0.25]])
    sd = np.array([0.3, 0.02, 0.15])
    corr = np.array([[1.0, 0.8, 0.6], [0.8, 1.0, 0.7], [0.6, 0.7, 1.0]])
    cov3 = corr * np.outer(sd, sd)
    return (
        ("a diagonal Hessian diag(8, 50)", np.diag([8.0, 50.0])),
        ("a 2×2 Hessian with correlation −0.9", 2 * np.linalg.inv(cov2)),
        ("a 3×3 Hessian with strong correlations", 2 * np.linalg.inv(cov3)),
    )


def hessian_errors_reference(H: Any) -> np.ndarray:
    r""":math:`\sigma_i = \sqrt{2(H^{-1})_{ii}}`: the :math:`\Delta\chi^2 = 1` errors from the Hessian
    :math:`H` of :math:`\chi^2` at its minimum (covariance :math:`2H^{-1}`)."""
    return np.sqrt(2.0 * np.diag(np.linalg.inv(np.asarray(H, np.float64))))


def _variants_9_4(H: np.ndarray) -> list[tuple[np.ndarray, str]]:
    inverse = np.diag(np.linalg.inv(H))
    return [
        (
            np.sqrt(inverse),
            "a factor √2 short: that is √(H⁻¹)ᵢᵢ, right for the Hessian of −ln L; χ² = −2 ln L, "
            "so the covariance is 2H⁻¹.",
        ),
        (
            np.sqrt(2.0 / np.diag(H)),
            "that is √(2/Hᵢᵢ): it ignores the correlations. Invert the whole "
            "matrix first, then take the diagonal.",
        ),
        (2.0 * inverse, "those are the variances, 2(H⁻¹)ᵢᵢ: take the square root."),
        (np.sqrt(4.0 * inverse), "a factor √2 too large: Δχ² = 1 means covariance 2H⁻¹, not 4H⁻¹."),
        (np.sqrt(np.abs(2.0 * np.diag(H))), "that is √(2Hᵢᵢ): the errors come from the inverse Hessian."),
    ]


@exercise(
    "9.4",
    title="Errors from the Hessian of χ²",
    answer="hessian_errors",
    notebook=NOTEBOOK,
    hints=(
        "Near its minimum, χ²(θ) ≈ χ²_min + ½ δθᵀ H δθ. One standard deviation is where χ² has risen by 1.",
        "χ² = −2 ln L, so the Gaussian likelihood exp(−χ²/2) has covariance (H/2)⁻¹ = 2H⁻¹.",
        "return np.sqrt(2 * np.diag(np.linalg.inv(H)))",
    ),
)
def check_hessian_errors(answer: Any) -> str | None:
    r"""``answer(H)`` returns :func:`hessian_errors_reference` for every Hessian of :func:`hessians_9_4`."""
    for label, H in hessians_9_4():
        where = f"for {label}"
        raw = call_quietly(answer, H.copy(), what=f"{where}: your hessian_errors")
        if nonfinite(raw) is not None:
            raise Wrong(f"{where} your result contains {nonfinite(raw).lstrip('+')}.")
        got = as_array(raw, what=f"the result {where}")
        k = H.shape[0]
        if got.shape != (k,):
            raise Wrong(f"{where} you return shape {got.shape}; expected one error per parameter, ({k},).")
        ref = hessian_errors_reference(H)
        if close(got, ref, max(tolerance(raw), 1e-8)):
            continue
        for variant, text in _variants_9_4(H):
            if not close(variant, ref, _LOOSE) and close(got, variant, _LOOSE):
                raise Wrong(f"{where}: {text}")
        raise Wrong(f"{where} you return {show(got)}; the Δχ² = 1 errors are {show(ref)}.")
    return (
        "With correlation −0.9 the error of each parameter is 2.3 times what √(2/Hᵢᵢ) says: the data "
        "pin down a combination of the parameters far better than each one alone."
    )


# ------------------------------------------------------------------------ exercise 9.5


class Sweep95(NamedTuple):
    """One data set of exercise 9.5: a label, the sample sizes, the excess free energy
    :math:`F_n - nL_n(\\hat w)` at each, and the coefficient it was built from."""

    label: str
    ns: np.ndarray
    excess: np.ndarray
    lam: float


def slope_reference(ns: Any, excess: Any) -> float:
    r"""The least-squares slope of ``excess`` against :math:`\ln n`."""
    return float(np.polyfit(np.log(np.asarray(ns, np.float64)), np.asarray(excess, np.float64), 1)[0])


@functools.cache
def sweeps_9_5() -> tuple[Sweep95, ...]:
    """The data of exercise 9.5: exact lines :math:`\\lambda\\ln n + c` (λ = 1 and ½) and a line with
    fixed :math:`O(1)` wiggles, as a measured free energy has."""
    ns = np.unique(np.round(np.logspace(1, 6, 16)))
    wiggle = 0.15 * np.sin(np.arange(ns.size) * 2.1)
    return (
        Sweep95("a regular model (a straight line in ln n)", ns, 1.0 * np.log(ns) + 0.7, 1.0),
        Sweep95("a singular model (a straight line in ln n)", ns, 0.5 * np.log(ns) - 0.3, 0.5),
        Sweep95("a measured curve with wiggles of size 0.15", ns, 0.5 * np.log(ns) + 1.1 + wiggle, 0.5),
    )


def _variants_9_5(sweep: Sweep95) -> list[tuple[float, str]]:
    ref = slope_reference(sweep.ns, sweep.excess)
    ends = float((sweep.excess[-1] - sweep.excess[0]) / (np.log(sweep.ns[-1]) - np.log(sweep.ns[0])))
    return [
        (
            ref * math.log(10),
            "that is the slope against log₁₀ n; the free energy grows as λ ln n, natural log.",
        ),
        (ref * math.log(2), "that is the slope against log₂ n; use the natural log, ln n."),
        (
            float(np.polyfit(sweep.ns, sweep.excess, 1)[0]),
            "that is the slope against n itself; plot against ln n.",
        ),
        (2 * ref, "that is 2λ: BIC writes λ = d/2, so d = 2λ — the question asks for λ."),
        (float(np.polyfit(np.log(sweep.ns), sweep.excess, 1)[1]), "that is the intercept; λ is the slope."),
        (ends, "that is the slope between the first and the last point; fit all of them by least squares."),
    ]


@exercise(
    "9.5",
    title="The learning coefficient from a measured slope",
    answer="learning_coefficient",
    notebook=NOTEBOOK,
    hints=(
        "F_n − nL_n(ŵ) ≈ λ ln n + const: λ is the slope of a straight line in ln n.",
        "Fit by least squares through all the points: np.polyfit(x, y, 1) returns (slope, intercept).",
        "return np.polyfit(np.log(ns), excess, 1)[0]",
    ),
)
def check_learning_coefficient(answer: Any) -> str | None:
    r"""``answer(ns, excess)`` returns :func:`slope_reference` for every data set of :func:`sweeps_9_5`."""
    for sweep in sweeps_9_5():
        where = f"for {sweep.label}"
        raw = call_quietly(answer, sweep.ns.copy(), sweep.excess.copy(), what=f"{where}: your function")
        value = _number(raw, f"λ {where}")
        ref = slope_reference(sweep.ns, sweep.excess)
        if close(value, ref, max(tolerance(raw), 1e-8)):
            continue
        said = f"{where} you give {value:.6g}"
        for variant, text in _variants_9_5(sweep):
            if not close(variant, ref, _LOOSE) and close(value, variant, _LOOSE):
                raise Wrong(f"{said}: {text}")
        raise Wrong(f"{said}; the least-squares slope against ln n is {ref:.6g}.")
    return (
        "λ = 1 = d/2 for the regular model, as BIC says; λ = ½ for the singular one, which BIC would "
        "also call d/2 = 1. The wiggles of a measured curve move the slope by a few hundredths."
    )
