"""Chapter 9's checkers: each reference is checked against the package and an independent result
(published Euler and Hodge numbers, the crossings of exact parabolas, the known covariance behind a
Hessian, exact straight lines), each known-wrong answer gets its own message, float32 answers pass."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import ROOT, assert_distinct, assert_wrong, reference_answers

from physml.exercises import check, exercises_in
from physml.exercises.ch09 import (
    CASES_9_1,
    CASES_9_2,
    _variants_9_1,
    _variants_9_2,
    _variants_9_3,
    _variants_9_4,
    _variants_9_5,
    euler_reference,
    hessian_errors_reference,
    hessians_9_4,
    hodge_reference,
    interval_reference,
    profiles_9_3,
    slope_reference,
    sweeps_9_5,
)
from physml.frontiers import slt, surrogate

NOTEBOOK = ROOT / "exercises" / "09_frontiers.ipynb"
IDS = ["9.1", "9.2", "9.3", "9.4", "9.5"]

SOLUTIONS = reference_answers(NOTEBOOK)


def reachable(ref, variants, rtol=5e-4):
    """The messages of the variants that differ from the reference (the others are guarded against in
    the checker), after checking that those variants differ from it and from each other."""
    ref = np.asarray(ref, np.float64)
    far = [
        (v, t)
        for v, t in variants
        if np.max(np.abs(np.asarray(v, np.float64) - ref)) > rtol * np.max(np.abs(ref))
    ]
    assert_distinct([ref] + [v for v, _ in far], rtol=rtol)
    return {t for _, t in far}


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("09_frontiers")] == IDS
    assert sorted(SOLUTIONS) == IDS


@pytest.mark.parametrize("exercise", IDS)
def test_the_reference_solutions_pass(exercise):
    result = check(exercise, SOLUTIONS[exercise])
    assert result.passed, result.message


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("exercise", IDS)
def test_placeholders_are_not_attempted(exercise):
    for placeholder in (None, ..., stub):
        result = check(exercise, placeholder)
        assert result.status == "not attempted" and result.points == 0


@pytest.mark.parametrize("exercise", IDS)
@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda *a: None, "None"),
        (lambda *a: "12", "text"),
        (lambda *a: math.nan, "nan"),
        (lambda *a: 1 / 0, "ZeroDivisionError"),
        (42, "function"),
    ],
)
def test_bad_answers_get_a_message(exercise, answer, phrase):
    assert_wrong(exercise, answer, phrase)


# ---------------------------------------------------------------- exercise 9.1

#: Published Euler numbers (Candelas, Dale, Lütken & Schimmrigk 1988; Hübsch, "Calabi-Yau Manifolds").
PUBLISHED_CHI = {
    (4, (5,)): -200,
    (5, (2, 4)): -176,
    (5, (3, 3)): -144,
    (6, (2, 2, 3)): -144,
    (7, (2, 2, 2, 2)): -128,
}


@pytest.mark.parametrize("label, n, degrees", CASES_9_1)
def test_euler_references_are_the_published_numbers(label, n, degrees):
    assert euler_reference(n, degrees) == PUBLISHED_CHI[n, degrees]
    assert len(reachable(euler_reference(n, degrees), _variants_9_1(n, degrees), rtol=1e-3)) >= 5


def test_euler_number_diagnoses():
    solution = SOLUTIONS["9.1"]
    c3_only = lambda n, q: solution(n, q) // math.prod(q)
    assert_wrong("9.1", c3_only, "c₃ alone")
    assert_wrong("9.1", lambda n, q: -solution(n, q), "sign")
    assert_wrong("9.1", lambda n, q: solution(n, q) / 2, "χ/2")
    assert_wrong("9.1", lambda n, q: solution(n, q) + 0.5, "not an integer")
    assert_wrong("9.1", lambda n, q: 7, "even integer")

    def wrong_power(n, degrees):  # (1 + J)^n instead of (1 + J)^(n+1)
        c = [math.comb(n, k) for k in range(4)]
        for q in degrees:
            for k in range(1, 4):
                c[k] -= q * c[k - 1]
        return c[3] * math.prod(degrees)

    assert_wrong("9.1", wrong_power, "(1 + J)ⁿ⁺¹")
    assert check("9.1", lambda n, q: float(solution(n, q))).passed
    assert check("9.1", lambda n, q: np.float32(solution(n, q))).passed


# ---------------------------------------------------------------- exercise 9.2

PUBLISHED_HODGE = {"quintic": (1, 101), "bicubic": (2, 83), "tetraquadric": (4, 68), "[7 | 2 2 2 2]": (1, 65)}


@pytest.mark.parametrize("label, dims, degrees", CASES_9_2)
def test_hodge_references_are_the_published_numbers(label, dims, degrees):
    expected = next(v for k, v in PUBLISHED_HODGE.items() if k in label)
    assert hodge_reference(dims, degrees) == expected
    variants = [v for v, _ in _variants_9_2(dims, degrees) if v != expected]
    assert len(set(variants)) >= 4


def test_hodge_number_diagnoses():
    solution = SOLUTIONS["9.2"]
    assert_wrong("9.2", lambda d, q: solution(d, q)[::-1], "swapped")
    assert_wrong("9.2", lambda d, q: (len(d), len(d) + (len(d) - solution(d, q)[1])), "sign of χ")
    assert_wrong("9.2", lambda d, q: (len(d), 2 * solution(d, q)[1] - len(d)), "h¹'¹ − χ")
    assert_wrong("9.2", lambda d, q: (len(q[0]), len(q[0]) + solution(d, q)[1] - len(d)), "rows")
    assert_wrong("9.2", lambda d, q: (sum(d), sum(d) + solution(d, q)[1] - len(d)), "ambient")
    assert_wrong("9.2", lambda d, q: (1, 2, 3), "two numbers")
    assert check("9.2", lambda d, q: np.array(solution(d, q), dtype=np.float32)).passed


# ---------------------------------------------------------------- exercise 9.3


def test_interval_reference_on_exact_parabolas():
    coarse, centred, skew = profiles_9_3()
    assert interval_reference(coarse.grid, coarse.chi2) == pytest.approx(
        (-1.0, 1.0), abs=1e-12
    )  # on grid points
    lo, hi = interval_reference(centred.grid, centred.chi2)
    # linear interpolation of a parabola errs by at most step²/(8σ²) in χ², i.e. < 0.01 step here
    assert lo == pytest.approx(0.537 - 0.05, abs=0.1 * 0.01) and hi == pytest.approx(
        0.537 + 0.05, abs=0.1 * 0.01
    )
    lo, hi = interval_reference(skew.grid, skew.chi2)
    assert 2.2 - lo == pytest.approx(0.4, abs=0.1 * 0.1)  # the quadratic side
    assert hi - 2.2 < 0.4  # the quartic term pulls the upper end in


def test_interval_reference_agrees_with_the_surrogate_profiles_on_a_parabola():
    grid = np.linspace(-3.0, 3.0, 61)
    chi2 = (grid / 0.7) ** 2 + 5.0
    spline = surrogate._interval(grid, chi2 - 5.0, 0.0)
    assert np.asarray(interval_reference(grid, chi2)) == pytest.approx(spline, abs=0.01 * 0.1)


def test_every_interval_diagnosis_is_reachable_and_distinct():
    messages = set()
    for profile in profiles_9_3():
        ref = interval_reference(profile.grid, profile.chi2)
        step = profile.grid[1] - profile.grid[0]
        variants = _variants_9_3(profile)
        far = [(v, t) for v, t in variants if np.max(np.abs(np.subtract(v, ref))) > 0.01 * step]
        values = [ref] + [v for v, _ in far]
        for i in range(len(values)):
            for j in range(i):
                assert np.max(np.abs(np.subtract(values[i], values[j]))) > 0.01 * step, (i, j)
        messages |= {t for _, t in far}
    assert messages == {t for _, t in _variants_9_3(profiles_9_3()[1])}


def test_interval_diagnoses():
    solution = SOLUTIONS["9.3"]
    assert_wrong("9.3", lambda g, c: solution(g, c)[::-1], "lower end")
    assert_wrong("9.3", lambda g, c: interval_reference(g, c, 4.0), "two standard deviations")
    assert_wrong("9.3", lambda g, c: interval_reference(g, c, 0.5), "−2 ln L")

    def grid_points(g, c):
        inside = g[c <= c.min() + 1.0]
        return inside[0], inside[-1]

    assert_wrong("9.3", grid_points, "outermost grid points")
    assert check("9.3", lambda g, c: np.float32(solution(g, c))).passed


# ---------------------------------------------------------------- exercise 9.4


def test_hessian_errors_reference_recovers_the_covariance_behind_each_hessian():
    expected = [(np.sqrt(1 / 4), np.sqrt(1 / 25)), (0.2, 0.5), (0.3, 0.02, 0.15)]
    messages = set()
    for (_, H), sd in zip(hessians_9_4(), expected, strict=True):
        assert hessian_errors_reference(H) == pytest.approx(sd, rel=1e-12)
        assert hessian_errors_reference(H) == pytest.approx(surrogate.hessian_errors(H), rel=1e-12)
        messages |= reachable(hessian_errors_reference(H), _variants_9_4(H))
    assert len(messages) == len(_variants_9_4(hessians_9_4()[1][1]))  # each diagnosis somewhere


def test_hessian_error_diagnoses():
    assert_wrong("9.4", lambda H: np.sqrt(np.diag(np.linalg.inv(H))), "√2")
    assert_wrong("9.4", lambda H: np.sqrt(2 / np.diag(H)), "correlations")
    assert_wrong("9.4", lambda H: 2 * np.diag(np.linalg.inv(H)), "square root")
    assert_wrong("9.4", lambda H: np.sqrt(2 * np.diag(np.linalg.inv(H)))[:1], "one error per parameter")
    assert check("9.4", lambda H: np.float32(np.sqrt(2 * np.diag(np.linalg.inv(H))))).passed


# ---------------------------------------------------------------- exercise 9.5


def test_slope_reference_is_exact_on_lines_and_equals_the_package():
    messages = set()
    for sweep in sweeps_9_5():
        ref = slope_reference(sweep.ns, sweep.excess)
        assert ref == pytest.approx(slt.learning_coefficient(sweep.ns, sweep.excess).slope, rel=1e-12)
        if "straight line" in sweep.label:
            assert ref == pytest.approx(sweep.lam, rel=1e-12)
        else:
            assert abs(ref - sweep.lam) < 0.05  # wiggles of 0.15 move the slope by a few hundredths
        messages |= reachable(ref, _variants_9_5(sweep))
    assert len(messages) == len(_variants_9_5(sweeps_9_5()[2]))  # each diagnosis somewhere


def test_learning_coefficient_diagnoses():
    solution = SOLUTIONS["9.5"]
    assert_wrong("9.5", lambda ns, e: np.polyfit(np.log10(ns), e, 1)[0], "log₁₀")
    assert_wrong("9.5", lambda ns, e: np.polyfit(ns, e, 1)[0], "against n itself")
    assert_wrong("9.5", lambda ns, e: 2 * solution(ns, e), "2λ")
    assert_wrong("9.5", lambda ns, e: np.polyfit(np.log(ns), e, 1)[1], "intercept")
    assert_wrong("9.5", lambda ns, e: (e[-1] - e[0]) / np.log(ns[-1] / ns[0]), "first and the last")
    assert_wrong("9.5", lambda ns, e: np.polyfit(np.log(ns), e, 1), "shape")
    assert check("9.5", lambda ns, e: np.float32(solution(ns, e))).passed
