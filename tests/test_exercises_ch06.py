"""Chapter 6's checkers: each reference is checked against an independent computation (np.polyfit,
the features written out, scipy's null space, a direct SVD of noisy data, the prefactors by hand),
each known-wrong answer gets its own message, float32 answers pass, and the widget draws a
deterministic figure with a static fallback."""

from __future__ import annotations

import math

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.stats
from conftest import ROOT, assert_distinct, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml.discovery import conservation, powerlaw
from physml.exercises import check, exercises_in
from physml.exercises.ch06 import (
    AU_KM,
    COLLISIONS_6_2,
    DT_6_5,
    E_6_3,
    GAP_CRITERION,
    GENERATED_6_1,
    IAU_SUN_OVER_JUPITER,
    LIBRARY_6_5,
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    LOG_SIGMA_STEP,
    LOG_SIGMA_TOLERANCE,
    NOISE_6_5,
    NULL_TOLERANCE,
    SEED_6_5,
    SEEDS_6_4,
    STARTS_6_5,
    YEAR_DAYS,
    Collision1D,
    _variants_6_1,
    _variants_6_2,
    _variants_6_6,
    collisions_6_2,
    data_6_3,
    data_6_5,
    delta_phi_reference,
    draw_noise_gap,
    fit_6_5,
    fit_reference,
    gap_curves,
    gaps_6_4,
    generated_table,
    jupiter_mass_reference,
    mean_gap,
    null_residual,
    null_space_6_3,
    recovery_window,
    sigma_crossing,
    single_crossings,
    singular_values_6_4,
    tables_6_1,
    trajectories_6_5,
    true_coefficients_6_5,
)
from physml.exercises.widgets import WidgetExercise
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "06_discovering_laws.ipynb"
IDS = ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6"]

SOLUTIONS = reference_answers(NOTEBOOK)


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("06_discovering_laws")] == IDS
    assert sorted(SOLUTIONS) == IDS


@pytest.mark.parametrize("exercise", IDS)
def test_the_reference_solutions_pass(exercise):
    result = check(exercise, SOLUTIONS[exercise])
    assert result.passed, result.message


# ---------------------------------------------------------------- exercise 6.1


@pytest.mark.parametrize("index", range(3))
def test_the_reference_fit_is_least_squares_on_log_log_axes(index):
    table = tables_6_1()[index]
    slope, intercept = np.polyfit(np.log(table.x), np.log(table.y), 1)
    n, c = fit_reference(table.x, table.y)
    assert n == pytest.approx(slope, rel=1e-12)
    assert c == pytest.approx(math.exp(intercept), rel=1e-12)
    regression = scipy.stats.linregress(np.log(table.x), np.log(table.y))
    assert n == pytest.approx(regression.slope, rel=1e-12)


def test_the_generated_tables_follow_their_laws():
    for (_, seed, size, n, c, (lo, hi), noise), table in zip(GENERATED_6_1, tables_6_1(), strict=False):
        assert table.x.shape == table.y.shape == (size,)
        assert np.all(np.diff(table.x) > 0) and lo <= table.x[0] and table.x[-1] <= hi
        x, y = generated_table(jax.random.key(seed), size, n, c, (lo, hi), 0.0)
        assert np.array_equal(x, table.x)
        assert fit_reference(x, y) == pytest.approx((n, c), rel=1e-12)  # noiseless: the law itself
        # with noise, the fitted exponent is within 4 standard errors of the true one: for Gaussian
        # scatter a false failure has probability 6e-5 (and the seed is fixed)
        fit = powerlaw.fit_power_law(table.x, table.y)
        assert abs(fit.exponent - n) < 4 * fit.exponent_stderr
        residual = np.log(table.y) - np.log(c) - n * np.log(table.x)
        assert 0.3 * noise < np.std(residual) < 2 * noise
    moons = tables_6_1()[-1]
    assert moons.x == pytest.approx(powerlaw.jupiter_moons().a) and len(moons.x) == 6


@pytest.mark.parametrize("index", range(2))
def test_the_variants_of_6_1_are_told_apart(index):
    """On the generated tables, checked first; on the moons some variants nearly coincide with the fit
    (the two-point slope differs by 2e-5), and the checker skips those there."""
    table = tables_6_1()[index]
    pairs = [fit_reference(table.x, table.y)] + [(n, c) for n, c, _ in _variants_6_1(table)]
    assert_distinct(pairs)


def fe(formula):
    """A fit_exponent built from the log-log least-squares line."""

    def fit_exponent(x, y):
        n, log_c = np.polyfit(np.log(x), np.log(y), 1)
        return formula(n, log_c, x, y)

    return fit_exponent


def two_point(x, y):
    n = (np.log(y[-1]) - np.log(y[0])) / (np.log(x[-1]) - np.log(x[0]))
    return n, y[0] / x[0] ** n


def curve_fit_linear(x, y):
    """Least squares on y itself (not on its logarithm), by Gauss-Newton from the log-log fit."""
    n, log_c = np.polyfit(np.log(x), np.log(y), 1)
    theta = np.array([n, log_c])
    for _ in range(50):
        model = np.exp(theta[1]) * x ** theta[0]
        jac = np.stack([model * np.log(x), model], axis=1)
        theta = theta + np.linalg.lstsq(jac, y - model, rcond=None)[0]
    return theta[0], np.exp(theta[1])


WRONG_6_1 = {
    "linear axes": (lambda x, y: tuple(np.polyfit(x, y, 1)), "a straight line on linear axes"),
    "ln C": (fe(lambda n, b, x, y: (n, b)), "the second number is ln C, the intercept"),
    "polyfit as is": (lambda x, y: np.polyfit(np.log(x), np.log(y), 1), "the second number is ln C"),
    "log10 C": (lambda x, y: tuple(np.polyfit(np.log10(x), np.log10(y), 1)), "the second number is log₁₀ C"),
    "exp of a log10 intercept": (
        lambda x, y: (lambda n, b: (n, np.exp(b)))(*np.polyfit(np.log10(x), np.log10(y), 1)),
        "C = 10**intercept",
    ),
    "10** of a ln intercept": (fe(lambda n, b, x, y: (n, 10**b)), "C = exp(intercept)."),
    "swapped": (
        lambda x, y: (lambda n, b: (n, np.exp(b)))(*np.polyfit(np.log(y), np.log(x), 1)),
        "x and y are swapped",
    ),
    "P squared": (
        lambda x, y: (lambda n, b: (n, np.exp(b)))(*np.polyfit(np.log(x), np.log(y**2), 1)),
        "that is the law of y², not of y",
    ),
    "two points": (two_point, "the line through the first and the last point only"),
    "two-point slope": (
        lambda x, y: (two_point(x, y)[0], fe(lambda n, b, x, y: np.exp(b))(x, y)),
        "the exponent is the slope between the first and the last point",
    ),
    "order": (fe(lambda n, b, x, y: (np.exp(b), n)), "the order is reversed"),
    "order with ln C": (fe(lambda n, b, x, y: (b, n)), "the order is reversed"),
    "Kepler's exponent": (
        lambda x, y: (1.5, np.exp(np.mean(np.log(y) - 1.5 * np.log(x)))),
        "exactly 3/2, Kepler's exponent",
    ),
    "C off": (fe(lambda n, b, x, y: (n, np.exp(b) * 1.01)), "n is right, but the least-squares fit has C"),
    "linear least squares": (curve_fit_linear, "least squares on (ln x, ln y) gives n = 1.49468"),
    "float32 digits": (fe(lambda n, b, x, y: (n * (1 + 3e-6), np.exp(b))), "only to float32 digits"),
    "three values": (fe(lambda n, b, x, y: (n, np.exp(b), 0.0)), "returned 3 values"),
    "one number": (fe(lambda n, b, x, y: n), "an array of shape (); return the pair (n, C)"),
    "one float": (fe(lambda n, b, x, y: float(n)), "a float; return the pair (n, C) as a tuple"),
    "array of three": (fe(lambda n, b, x, y: np.array([n, b, 0])), "an array of shape (3,)"),
    "nan": (lambda x, y: (np.nan, 1.0), "returned nan"),
    "log of negative": (
        lambda x, y: (np.polyfit(np.log(x), np.log(y), 1)[0], np.mean(np.log(x - 100.0))),
        "a logarithm of a non-positive number",
    ),
    "string": (lambda x, y: ("1.5", "0.4"), "not a string"),
    "None": (lambda x, y: None, "forget a `return`"),
    "raises": (lambda x, y: x[100], "raised IndexError"),
    "wrong arity": (lambda x: x, "raised TypeError"),
    "not callable": ((1.5, 0.4), "expected a function"),
}


@pytest.mark.parametrize("name", sorted(WRONG_6_1))
def test_wrong_answers_to_6_1(name):
    assert_wrong("6.1", *WRONG_6_1[name])


def test_6_1_accepts_float32_jax_and_linregress():
    def float32(x, y):
        lx, ly = jnp.log(jnp.asarray(x, jnp.float32)), jnp.log(jnp.asarray(y, jnp.float32))
        xc = lx - lx.mean()
        n = jnp.sum(xc * (ly - ly.mean())) / jnp.sum(xc**2)
        return n, jnp.exp(ly.mean() - n * lx.mean())

    result = check("6.1", float32)
    assert result.passed, result.message
    regression = lambda x, y: (lambda r: (r.slope, math.exp(r.intercept)))(
        scipy.stats.linregress(np.log(x), np.log(y))
    )
    assert check("6.1", regression).passed
    assert check("6.1", lambda x, y: np.array(fit_reference(x, y))).passed
    assert "the four Galilean moons alone 1.4999997" in check("6.1", SOLUTIONS["6.1"]).message


# ---------------------------------------------------------------- exercise 6.2


def written_out(case):
    m1, m2, v1, v2, w1, w2 = case
    return np.array(
        [
            m1 * w1 - m1 * v1,
            m2 * w2 - m2 * v2,
            m1 * w1**2 / 2 - m1 * v1**2 / 2,
            m2 * w2**2 / 2 - m2 * v2**2 / 2,
        ]
    )


@pytest.mark.parametrize("index", range(len(COLLISIONS_6_2)))
def test_the_collisions_obey_their_restitution_and_the_reference_is_the_formula(index):
    case = collisions_6_2()[index]
    e = COLLISIONS_6_2[index][1]
    assert case.v1 > case.v2  # the particles approach
    assert case.v2_after - case.v1_after == pytest.approx(e * (case.v1 - case.v2), rel=1e-12, abs=1e-15)
    d = delta_phi_reference(case)
    assert d == pytest.approx(written_out(case), rel=1e-12, abs=1e-15)
    assert d[0] + d[1] == pytest.approx(0.0, abs=1e-15)  # momentum is conserved
    # the energy lost is μ(1 − e²)u²/2 with the reduced mass μ and the approach speed u
    mu = case.m1 * case.m2 / (case.m1 + case.m2)
    assert -(d[2] + d[3]) == pytest.approx(
        0.5 * mu * (1 - e**2) * (case.v1 - case.v2) ** 2, rel=1e-10, abs=1e-15
    )


def test_the_variants_of_6_2_are_told_apart_on_the_first_collision():
    case = collisions_6_2()[0]
    assert COLLISIONS_6_2[0][1] < 1  # inelastic: swapping the particles is not flipping the sign
    assert_distinct([delta_phi_reference(case)] + [v for v, _ in _variants_6_2(case)])


def dp(formula):
    return lambda m1, m2, v1, v2, w1, w2: formula(m1, m2, v1, v2, w1, w2)


def features(m1, m2, v1, v2):
    return np.array([m1 * v1, m2 * v2, 0.5 * m1 * v1**2, 0.5 * m2 * v2**2])


WRONG_6_2 = {
    "sign": (
        dp(lambda m1, m2, v1, v2, w1, w2: features(m1, m2, v1, v2) - features(m1, m2, w1, w2)),
        "the sign is reversed",
    ),
    "no half": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (
                features(m1, m2, w1, w2) * [1, 1, 2, 2] - features(m1, m2, v1, v2) * [1, 1, 2, 2]
            )
        ),
        "with its ½",
    ),
    "sign and no half": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (
                (features(m1, m2, v1, v2) - features(m1, m2, w1, w2)) * [1, 1, 2, 2]
            )
        ),
        "and the kinetic energy is missing its ½",
    ),
    "particle by particle": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (features(m1, m2, w1, w2) - features(m1, m2, v1, v2))[[0, 2, 1, 3]]
        ),
        "yours are particle by particle",
    ),
    "energies first": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (features(m1, m2, w1, w2) - features(m1, m2, v1, v2))[[2, 3, 0, 1]]
        ),
        "the energies come first",
    ),
    "particles swapped": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (features(m1, m2, w1, w2) - features(m1, m2, v1, v2))[[1, 0, 3, 2]]
        ),
        "particles 1 and 2 are swapped",
    ),
    "velocities": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: np.array(
                [w1 - v1, w2 - v2, 0.5 * m1 * (w1**2 - v1**2), 0.5 * m2 * (w2**2 - v2**2)]
            )
        ),
        "multiply by the masses",
    ),
    "no masses": (
        dp(lambda m1, m2, v1, v2, w1, w2: features(1, 1, w1, w2) - features(1, 1, v1, v2)),
        "the masses are missing",
    ),
    "energy without mass": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: np.array(
                [m1 * (w1 - v1), m2 * (w2 - v2), 0.5 * (w1**2 - v1**2), 0.5 * (w2**2 - v2**2)]
            )
        ),
        "the energies are missing their masses",
    ),
    "square of the change": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: np.array(
                [m1 * (w1 - v1), m2 * (w2 - v2), 0.5 * m1 * (w1 - v1) ** 2, 0.5 * m2 * (w2 - v2) ** 2]
            )
        ),
        "the square of the change",
    ),
    "after": (dp(lambda m1, m2, v1, v2, w1, w2: features(m1, m2, w1, w2)), "that is Φ(after)"),
    "before": (dp(lambda m1, m2, v1, v2, w1, w2: features(m1, m2, v1, v2)), "that is Φ(before)"),
    "totals": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: np.array(
                [m1 * (w1 - v1) + m2 * (w2 - v2), 0.5 * m1 * (w1**2 - v1**2) + 0.5 * m2 * (w2**2 - v2**2)]
            )
        ),
        "the total momentum and energy changes?",
    ),
    "one energy wrong": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (
                (features(m1, m2, w1, w2) - features(m1, m2, v1, v2)) * [1, 1, 1, 0.5]
            )
        ),
        "(wrong: Δ(½m₂v₂²))",
    ),
    "float32 digits": (
        dp(lambda m1, m2, v1, v2, w1, w2: (features(m1, m2, w1, w2) - features(m1, m2, v1, v2)) * (1 + 3e-6)),
        "only to float32 digits",
    ),
    "2 by 2": (
        dp(
            lambda m1, m2, v1, v2, w1, w2: (features(m1, m2, w1, w2) - features(m1, m2, v1, v2)).reshape(2, 2)
        ),
        "shape (2, 2); expected (4,)",
    ),
    "None": (dp(lambda *args: None), "forget a `return`"),
    "nan": (dp(lambda *args: np.full(4, np.nan)), "contains NaN"),
    "string": (dp(lambda *args: "[0, 0, 0, 0]"), "not a string"),
    "raises": (dp(lambda m1, m2, v1, v2, w1, w2: m1 / 0), "raised ZeroDivisionError"),
    "five arguments": (lambda m1, m2, v1, v2, w1: 0, "raised TypeError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_6_2))
def test_wrong_answers_to_6_2(name):
    assert_wrong("6.2", *WRONG_6_2[name])


def test_6_2_accepts_a_tuple_float32_and_jax():
    good = lambda m1, m2, v1, v2, w1, w2: features(m1, m2, w1, w2) - features(m1, m2, v1, v2)
    assert check("6.2", lambda *args: tuple(good(*args))).passed
    assert check("6.2", lambda *args: good(*args).astype(np.float32)).passed
    as_jax = lambda m1, m2, v1, v2, w1, w2: jnp.array(
        [m1 * (w1 - v1), m2 * (w2 - v2), m1 * (w1**2 - v1**2) / 2, m2 * (w2**2 - v2**2) / 2]
    )
    assert check("6.2", as_jax).passed
    assert delta_phi_reference(Collision1D(1.0, 3.0, 2.0, -1.0, -2.5, 0.5)) == pytest.approx(
        [-4.5, 4.5, 1.125, -1.125]
    )


# ---------------------------------------------------------------- exercise 6.3

PX = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
PY = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
KE = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0])


def test_the_null_space_is_momentum_and_agrees_with_scipy():
    A, labels = data_6_3()
    assert A.shape == (40, 6)
    assert labels == ("m₁v₁ₓ", "m₁v₁ᵧ", "m₂v₂ₓ", "m₂v₂ᵧ", "½m₁|v₁|²", "½m₂|v₂|²")
    ns = null_space_6_3()
    exact = scipy.linalg.null_space(A)
    assert ns.dimension == exact.shape[1] == 2
    # the two bases span the same plane: the projector onto one reproduces the other
    q, _ = np.linalg.qr(ns.basis)
    assert q @ (q.T @ exact) == pytest.approx(exact, abs=1e-10)
    for c in (PX, PY, PX - 2 * PY):
        assert null_residual(A, c) < 1e-15
    # every collision loses kinetic energy: the energy column sum is negative throughout
    assert np.all(A @ KE < 0)
    assert null_residual(A, KE) > 0.05
    assert 0 < E_6_3 < 1


def rounded_basis():
    """Momentum's x component with one coefficient off by 1e-4, and y."""
    return np.array([[1.0, 0.0, 0.9999, 0.0, 0.0, 0.0], PY])


WRONG_6_3 = {
    "x only": (PX, "you give 1"),
    "three with energy": (np.array([PX, PY, KE]), "includes kinetic energy"),
    "energy alone": (KE, "includes kinetic energy"),
    "energy and momentum mixed": (np.array([PX + KE, PY]), "includes kinetic energy"),
    "zero vector": (np.zeros(6), "that is the zero vector"),
    "a zero row": (np.array([PX, np.zeros(6)]), "vector 2 is zero"),
    "1-D features": (np.array([1.0, 1.0, 0.0, 0.0]), "each vector has 4 entries; it needs 6"),
    "transposed": (np.array([PX, PY]).T, "one vector per column"),
    "component-major order": (
        np.array([[1.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]]),
        "it would be with the columns in another order",
    ),
    "dependent": (np.array([PX, PY, PX + PY]), "they are not independent: they span only 2 dimensions"),
    "dependent pair": (np.array([PX, -3 * PX]), "span only 1 dimension"),
    "one combination": (PX + PY, "the data conserve 2 independent quantities and you give 1"),
    "rounded": (rounded_basis(), "close to conserved but not exactly"),
    "not conserved": (np.array([1.0, 0.0, -1.0, 0.0, 0.0, 0.0]), "is not conserved: ‖Ac‖/‖A‖‖c‖ ="),
    "three dimensions": (np.zeros((2, 3, 6)), "shape (2, 3, 6)"),
    "nan": (np.array([PX, PY * np.nan]), "contain nan"),
    "string": ("momentum", "not a string"),
    "function": (lambda: np.array([PX, PY]), "did you forget to call it?"),
    "None": (None, "not attempted"),
}


@pytest.mark.parametrize("name", sorted(WRONG_6_3))
def test_wrong_answers_to_6_3(name):
    answer, phrase = WRONG_6_3[name]
    if phrase == "not attempted":
        assert check("6.3", answer).status == "not attempted"
        return
    assert_wrong("6.3", answer, phrase)


def test_6_3_accepts_any_basis_of_the_span():
    A, _ = data_6_3()
    for answer in (
        np.array([PX, PY]),
        np.array([PY, PX]),
        np.array([-2 * PX, 3.5 * PY]),
        np.array([PX + PY, PX - PY]),
        null_space_6_3().basis.T,
        scipy.linalg.null_space(A).T,
        scipy.linalg.null_space(A).T.astype(np.float32),
        [[1, 0, 1, 0, 0, 0], [0, 1, 0, 1, 0, 0]],
    ):
        result = check("6.3", answer)
        assert result.passed, result.message
    assert NULL_TOLERANCE < null_residual(A, rounded_basis()[0]) < 1e-2  # a near miss is caught


# ---------------------------------------------------------------- exercise 6.4

SLIDER = np.round(np.arange(LOG_SIGMA_MIN, LOG_SIGMA_MAX + 1e-9, LOG_SIGMA_STEP), 2)


def direct_gap(seed, sigma):
    """The gap s₆/s₇ of one data set written out: collisions, noise, ΔΦ by hand, column-normalised SVD."""
    key_collide, key_noise = jax.random.split(jax.random.key(seed))
    clean = conservation.collide_1d(key_collide, 50)
    noisy = conservation.add_noise(clean, key_noise, sigma)
    m = noisy.masses

    def phi(v):
        return np.concatenate([m * v, 0.5 * m * v**2, v, v**2], axis=1)

    A = phi(noisy.v_after) - phi(noisy.v_before)
    s = scipy.linalg.svdvals(A / np.linalg.norm(A, axis=0))
    return s[5] / s[6]


def test_the_gap_is_the_ratio_of_the_sixth_to_the_seventh_singular_value():
    for index, seed in enumerate(SEEDS_6_4):
        for sigma in (1e-3, 2e-2):
            assert gaps_6_4([sigma])[index, 0] == pytest.approx(direct_gap(seed, sigma), rel=1e-9)
    values = singular_values_6_4(1e-3)
    assert values.shape == (4, 8)
    assert values[:, 5] / values[:, 6] == pytest.approx(gaps_6_4([1e-3])[:, 0], rel=1e-12)


def test_the_gap_falls_like_one_over_sigma_and_crosses_the_criterion_once():
    gaps = mean_gap(10**SLIDER)
    small = SLIDER <= -3
    slope = np.polyfit(SLIDER[small], np.log10(gaps[small]), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.02)
    below = gaps < GAP_CRITERION
    first = int(np.argmax(below))
    assert np.all(np.diff(np.log(gaps[: first + 1])) < 0)  # falls monotonically up to the crossing
    assert np.all(below[first:])  # and stays below
    target = sigma_crossing()
    assert mean_gap([target])[0] == pytest.approx(GAP_CRITERION, rel=1e-9)
    assert 10 ** SLIDER[first - 1] < target <= 10 ** SLIDER[first]
    assert 0.003 < target < 0.008 and round(target, 3) == 0.005  # the numbers the hint and solution quote
    assert np.allclose(gap_curves()[1], mean_gap(np.logspace(LOG_SIGMA_MIN, LOG_SIGMA_MAX, 81)))


def test_single_crossings_of_two_data_sets_lie_outside_the_band():
    crossings = np.array(single_crossings())
    assert round(float(crossings.min()), 4) == 0.0035 and round(float(crossings.max()), 4) == 0.0067
    distance = np.abs(np.log10(crossings / sigma_crossing()))
    assert np.sum(distance > LOG_SIGMA_TOLERANCE) == 2  # data sets 2 and 3 get their diagnosis
    for index, crossing in enumerate(crossings):
        assert gaps_6_4([crossing])[index, 0] == pytest.approx(GAP_CRITERION, rel=1e-9)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (-2.3, "is log₁₀ σ, the slider's position"),
        (-5.0, "is not a noise level"),
        (0.0, "is not a noise level"),
        (0.001, "the mean gap is still"),
        (0.0085, "it fell below 10 at a smaller σ"),
        (0.03, "the gap has nearly closed"),
        (2.0, "noise as large as the speeds"),
        (0.00668, "the gap of data set 2 alone crosses 10"),
        (0.00353, "the gap of data set 3 alone crosses 10"),
        ("0.005", "not a string"),
        (np.array([0.005, 0.005]), "shape (2,)"),
        (True, "bool"),
        (math.nan, "NaN"),
    ],
)
def test_wrong_answers_to_6_4(answer, phrase):
    assert_wrong("6.4", answer, phrase)


@pytest.mark.parametrize("answer", [0.0049, 0.004, 0.006, 10**-2.3, np.float32(0.005), np.array(0.005)])
def test_answers_to_6_4_within_the_band(answer):
    result = check("6.4", answer)
    assert result.passed, result.message


def test_the_band_is_two_slider_steps():
    target = sigma_crossing()
    assert check("6.4", target * 10 ** (0.99 * LOG_SIGMA_TOLERANCE)).passed
    assert check("6.4", target / 10 ** (0.99 * LOG_SIGMA_TOLERANCE)).passed
    assert not check("6.4", target * 10 ** (1.01 * LOG_SIGMA_TOLERANCE)).passed
    assert not check("6.4", target / 10 ** (1.01 * LOG_SIGMA_TOLERANCE)).passed


def test_draw_noise_gap_returns_a_deterministic_figure():
    fig = draw_noise_gap(1e-3)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "the laws stand out" in fig.get_suptitle()
    assert "the laws are lost" in draw_noise_gap(0.05).get_suptitle()
    assert png_bytes(fig) == png_bytes(draw_noise_gap(1e-3))
    assert fig.axes[0].lines[0].get_ydata() == pytest.approx(singular_values_6_4(1e-3)[0])
    assert draw_noise_gap(np.float32(0.01)).get_suptitle().startswith("σ = 0.01:")
    for bad in (0.0, 1e-5, 2.0, math.inf, math.nan, "0.01", True):
        with pytest.raises(ValueError, match="sigma must"):
            draw_noise_gap(bad)


def test_the_widget_checks_the_slider_and_has_a_static_image():
    slider = widgets.FloatLogSlider(
        value=1e-3, base=10, min=LOG_SIGMA_MIN, max=LOG_SIGMA_MAX, step=LOG_SIGMA_STEP
    )
    widget = WidgetExercise("6.4", controls={"sigma": slider}, draw=draw_noise_gap, answer="sigma")
    bundle = widget._repr_mimebundle_()
    assert bundle["image/png"] and "static view at sigma = 0.001" in bundle["text/plain"]
    assert "the mean gap is still" in widget.check().message
    widget.set(sigma=10**-2.3)
    assert widget.check().passed
    assert "sigma_lost = 0.005012" in widget.feedback.value


# ---------------------------------------------------------------- exercise 6.5


def duffing(t, state):
    x, y = state
    return [y, -x - 0.2 * y - x**3]


def test_the_trajectories_are_the_duffing_oscillator_plus_the_stated_noise():
    observed = trajectories_6_5()
    assert observed.shape == (3, 401, 2)
    with jax.enable_x64(True):
        noise = np.asarray(jax.random.normal(jax.random.key(SEED_6_5), observed.shape, jnp.float64))
    clean = observed - NOISE_6_5 * noise
    t = DT_6_5 * np.arange(401)
    for start, path in zip(STARTS_6_5, clean, strict=True):
        exact = scipy.integrate.solve_ivp(duffing, (0, t[-1]), start, t_eval=t, rtol=1e-11, atol=1e-12).y.T
        assert np.max(np.abs(path - exact)) < 1e-6  # RK4 with step 0.0125
    assert np.std(noise) == pytest.approx(1.0, rel=0.05)


def test_the_regression_problem_is_the_library_and_central_differences():
    theta, x_dot = data_6_5()
    x = trajectories_6_5()
    X, Y = x[..., 0].ravel(), x[..., 1].ravel()
    by_hand = np.stack([np.ones_like(X), X, Y, X**2, X * Y, Y**2, X**3, X**2 * Y, X * Y**2, Y**3], axis=1)
    assert LIBRARY_6_5.names == ("1", "x", "y", "x^2", "x y", "y^2", "x^3", "x^2 y", "x y^2", "y^3")
    assert theta == pytest.approx(by_hand, rel=1e-14)
    middle = (x[:, 2:] - x[:, :-2]) / (2 * DT_6_5)
    assert x_dot.reshape(3, 401, 2)[:, 1:-1] == pytest.approx(middle, rel=1e-12, abs=1e-12)


def test_the_true_terms_are_recovered_on_one_interval_ending_at_the_damping():
    truth = true_coefficients_6_5() != 0
    assert truth.sum() == 4
    thresholds = np.geomspace(1e-4, 10, 801)
    good = np.array([np.array_equal(fit_6_5(t) != 0, truth) for t in thresholds])
    where = np.flatnonzero(good)
    assert np.all(good[where[0] : where[-1] + 1])  # one interval
    low, high = recovery_window()
    assert thresholds[where[0]] < 1.05 * low and high < 1.05 * thresholds[where[-1]]
    assert 0.015 < low < 0.025 and 0.18 < high < 0.2  # the numbers the statement and message quote
    # the upper end is the size of the damping coefficient of the four-term fit, refitted by lstsq
    theta, x_dot = data_6_5()
    damping = np.linalg.lstsq(theta[:, [1, 2, 6]], x_dot[:, 1], rcond=None)[0][1]
    assert fit_6_5(0.1)[2, 1] == pytest.approx(damping, rel=1e-10)
    assert np.array_equal(fit_6_5(abs(damping) * (1 - 1e-9)) != 0, truth)
    assert fit_6_5(abs(damping) * (1 + 1e-9))[2, 1] == 0
    # no threshold keeps a spurious term and cuts a true one at once
    for t in thresholds:
        found = fit_6_5(t) != 0
        assert not ((found & ~truth).any() and (truth & ~found).any())


def test_cutting_the_damping_raises_the_residual_by_one_to_two_percent():
    theta, x_dot = data_6_5()
    from physml.discovery import equations as sindy

    path = sindy.threshold_path(theta, x_dot, np.geomspace(1e-3, 10, 81))
    full = path.residuals[0]
    four, three = path.n_terms == 4, path.n_terms == 3
    assert path.residuals[four].max() <= 1.001 * full
    assert 1.01 < path.residuals[three].min() / full < 1.02
    assert (
        three.sum() >= 10
    )  # a second long plateau of the count, over half a decade: the model without damping


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (0.0, "plain least squares"),
        (0.001, "13 spurious terms survive: x^2 y in y' (+0.024)"),
        (0.01, "1 spurious term survives: x^2 y in y' (+0.0201) — raise λ"),
        (0.3, "true terms are cut: y in y' (-0.199)"),
        (0.5, "lower λ"),
        (5.0, "every term is cut"),
        (-0.05, "at least 0"),
        ("0.05", "not a string"),
        ([0.05, 0.05], "shape (2,)"),
        (True, "bool"),
        (math.nan, "NaN"),
        (math.inf, "infinity"),
    ],
)
def test_wrong_answers_to_6_5(answer, phrase):
    assert_wrong("6.5", answer, phrase)


@pytest.mark.parametrize("answer", [0.021, 0.05, 0.1, 0.18, np.float32(0.05), 1 / 20])
def test_thresholds_in_the_window_pass(answer):
    result = check("6.5", answer)
    assert result.passed, result.message
    assert "x' = 1.005 y; y' = -0.983 x - 0.190 y - 0.975 x^3" in result.message


# ---------------------------------------------------------------- exercise 6.6


def test_jupiters_mass_from_the_prefactors_by_hand():
    planets, moons = powerlaw.kepler_planets(), powerlaw.jupiter_moons()
    galilean = np.array([g == "galilean" for g in moons.group])
    # the prefactor at the exponent 3/2, as a least-squares fit with the slope held fixed
    c_sun = np.exp(np.mean(np.log(planets.period * YEAR_DAYS) - 1.5 * np.log(planets.a * AU_KM)))
    c_jup = np.exp(np.mean(np.log(moons.period[galilean]) - 1.5 * np.log(moons.a[galilean])))
    assert jupiter_mass_reference() == pytest.approx((c_sun / c_jup) ** 2, rel=1e-12)
    assert jupiter_mass_reference() * IAU_SUN_OVER_JUPITER == pytest.approx(1.0, abs=1e-3)
    assert round(1 / jupiter_mass_reference(), 1) == 1047.8  # the number the message quotes


def test_the_variants_of_6_6_are_told_apart():
    values = [jupiter_mass_reference()] + [v for v, _ in _variants_6_6()]
    assert_distinct(values, rtol=1e-2)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (1047.8, "the inverted ratio"),
        (0.0309, "that is the ratio of the prefactors"),
        (32.37, "inverted, and not squared"),
        (2.395e16, "the units are not converted"),
        (4.175e-17, "inverted, and the units are not converted"),
        (7.154e-9, "the times are not"),
        (3.195e21, "the lengths are not"),
        (9.108e-7, "squared once too often"),
        (1 / 1028.48, "that uses all six moons with a free exponent"),
        (1.898e27, "looks like kilograms"),
        (1 / 1040, "within 1 % of 1/1047.8"),
        (1 / 1000, "the prefactors give M_J/M_Sun"),
        (-9.5e-4, "must be positive"),
        ("1/1047", "not a string"),
        (math.inf, "infinity"),
    ],
)
def test_wrong_answers_to_6_6(answer, phrase):
    assert_wrong("6.6", answer, phrase)


def test_6_6_accepts_the_reasonable_routes():
    planets, moons = powerlaw.kepler_planets(), powerlaw.jupiter_moons()
    free_sun = powerlaw.fit_power_law(planets.a, planets.period).prefactor * YEAR_DAYS / AU_KM**1.5
    galilean = moons.select("galilean")
    routes = {
        "reference": jupiter_mass_reference(),
        "free exponents, Galilean moons": (
            free_sun / powerlaw.fit_power_law(galilean.a, galilean.period).prefactor
        )
        ** 2,
        "six moons at 3/2": powerlaw.central_mass_ratio(moons, planets),
        "a 365-day year": jupiter_mass_reference() * (365 / YEAR_DAYS) ** 2,
        "float32": np.float32(jupiter_mass_reference()),
    }
    for name, value in routes.items():
        result = check("6.6", value)
        assert result.passed, (name, result.message)
    assert "within the accepted 0.2%" in check("6.6", routes["six moons at 3/2"]).message
    assert "within the accepted" not in check("6.6", routes["reference"]).message
