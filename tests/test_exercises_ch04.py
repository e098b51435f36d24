"""Chapter 4's checkers: the references are exact (closed forms, dense Hessians, direct
simulation, a least-squares fit), each known-wrong answer gets its own message, float32 answers
pass, and the widget draws a deterministic figure with a static fallback."""

from __future__ import annotations

import functools
import math

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import nbformat
import numpy as np
import optax
import pytest
import scipy.sparse.linalg
from conftest import ROOT, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml.exercises import check, exercises_in
from physml.exercises.ch04 import (
    A_4_1,
    GD_STEPS,
    NOT_CRITICAL,
    TABLE_N,
    TABLE_P,
    THETA0_4_1,
    THETA_DEAN_MAJUMDAR,
    critical_points,
    double_well_loss,
    draw_gd_on_quadratic,
    escape_steps_linear,
    escape_steps_reference,
    fit_log_fraction,
    gd_on_quadratic,
    heavy_ball_limit,
    kind_of,
    largest_stable_step,
    quadratic_spectrum,
    sharpness_cases,
)
from physml.exercises.widgets import WidgetExercise
from physml.grading.notebooks import solution_sources
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "04_landscapes.ipynb"
IDS = ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6"]

SOLUTIONS = reference_answers(NOTEBOOK)


# Derivatives of the checkers' losses, compiled once per loss (the losses are cached objects).
@functools.cache
def grad_of(loss):
    return jax.jit(jax.grad(loss))


@functools.cache
def hessian_of(loss):
    return jax.jit(jax.hessian(loss))


@functools.cache
def hvp_of(loss):
    return jax.jit(lambda theta, v: jax.jvp(jax.grad(loss), (theta,), (v,))[1])


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("04_landscapes")] == IDS
    assert sorted(SOLUTIONS) == IDS


# ---------------------------------------------------------------- exercise 4.1

ETA_STAR = 2 / (2 + math.sqrt(2.44))


def test_the_spectrum_and_the_limit_are_the_closed_forms():
    eigenvalues, vectors = quadratic_spectrum()
    assert eigenvalues == pytest.approx([2 - math.sqrt(2.44), 2 + math.sqrt(2.44)], rel=1e-14)
    assert vectors.T @ A_4_1 @ vectors == pytest.approx(np.diag(eigenvalues), abs=1e-14)
    assert largest_stable_step() == pytest.approx(ETA_STAR, rel=1e-14)
    # the numbers the solution and the success message quote
    assert (round(eigenvalues[1], 3), round(eigenvalues[0], 3), round(ETA_STAR, 4)) == (3.562, 0.438, 0.5615)
    assert round(1 - ETA_STAR * eigenvalues[0], 3) == 0.754


def test_gradient_descent_on_the_quadratic_is_the_closed_form_and_stable_only_below_the_limit():
    eigenvalues, vectors = quadratic_spectrum()
    for eta in (0.1, 0.5, 0.7):
        modes = gd_on_quadratic(eta) @ vectors
        t = np.arange(GD_STEPS + 1)[:, None]
        exact = (1 - eta * eigenvalues) ** t * (THETA0_4_1 @ vectors)
        # rounding in the iteration is relative to the larger mode, step by step
        scale = np.linalg.norm(exact, axis=1, keepdims=True) * (t + 1)
        assert np.all(np.abs(modes - exact) <= 1e-14 * scale)
    assert np.linalg.norm(gd_on_quadratic(0.99 * ETA_STAR, 3000)[-1]) < 1e-10
    assert np.linalg.norm(gd_on_quadratic(1.01 * ETA_STAR, 3000)[-1]) > 1e10
    assert np.linalg.norm(gd_on_quadratic(2 / 3, 100)[-1]) > 1e10  # 2/max(diag A) diverges


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (1 / (2 + math.sqrt(2.44)), "a factor 2 below the limit"),
        (2 / (2 - math.sqrt(2.44)), "that is 2/λ_min"),
        (2 / 3, "2/max(diag A)"),
        (0.5, "converges fastest"),
        (2 / 4.2, "Gershgorin"),
        (3.562, "λ_max itself"),
        (7.124, "that is 2λ_max"),
        (0.3, "stable, but not the largest stable step"),
        (0.54, "Push η up until the top mode oscillates without growing"),
        (0.58, "diverges: the top mode grows by |1 − ηλ_max| = 1.066"),
        (0.0, "not a step size"),
        (-0.56, "not a step size"),
        ("0.56", "not a string"),
        (np.array([0.56, 0.56]), "shape (2,)"),
        (True, "bool"),
        (math.nan, "NaN"),
    ],
)
def test_wrong_answers_to_4_1(answer, phrase):
    assert_wrong("4.1", answer, phrase)


@pytest.mark.parametrize(
    "answer", [ETA_STAR, 0.986 * ETA_STAR, 1.014 * ETA_STAR, 0.562, np.float32(0.5615), np.array(0.56)]
)
def test_answers_to_4_1_within_tolerance(answer):
    assert check("4.1", answer).passed


def test_an_answer_just_above_the_limit_passes_with_a_note():
    assert (
        "1.0% above η*: there the top mode grows by 1.0200 per step" in check("4.1", 1.01 * ETA_STAR).message
    )


def test_draw_gd_on_quadratic_returns_a_deterministic_figure():
    fig = draw_gd_on_quadratic(0.3)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert "the loss falls" in fig.get_suptitle()
    assert "the loss grows" in draw_gd_on_quadratic(0.6).get_suptitle()
    assert png_bytes(fig) == png_bytes(draw_gd_on_quadratic(0.3))
    assert png_bytes(draw_gd_on_quadratic(0.5)) != png_bytes(fig)
    loss_line = fig.axes[1].lines[0]
    thetas = gd_on_quadratic(0.3)
    assert loss_line.get_ydata() == pytest.approx(0.5 * np.einsum("ti,ij,tj->t", thetas, A_4_1, thetas))
    for bad in (0.0, -0.1, 2.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="eta must lie in"):
            draw_gd_on_quadratic(bad)
    with pytest.raises(ValueError, match="positive step size"):
        gd_on_quadratic(-1.0)


def slider():
    return widgets.FloatSlider(value=0.1, min=0.02, max=0.8, step=0.002, description="η")


def test_the_slider_can_reach_the_tolerance():
    values = 0.02 + 0.002 * np.arange(391)
    assert sum(check("4.1", float(v)).passed for v in values if 0.54 < v < 0.58) >= 5


def test_the_widget_checks_the_eta_on_its_slider_and_has_a_static_image():
    widget = WidgetExercise("4.1", controls={"eta": slider()}, draw=draw_gd_on_quadratic, answer="eta")
    bundle = widget._repr_mimebundle_()
    assert bundle["image/png"] and "static view at eta = 0.1" in bundle["text/plain"]
    assert "stable, but not the largest" in widget.check().message
    widget.set(eta=0.562)
    assert widget.check().passed
    assert "eta_max = 0.562" in widget.feedback.value


# ---------------------------------------------------------------- exercise 4.2


def test_the_critical_points_are_critical_with_the_stated_hessians():
    kinds = []
    for point in critical_points():
        theta = jnp.asarray(point.theta)
        assert np.linalg.norm(grad_of(point.loss)(theta)) <= 1e-15, point.label
        assert np.asarray(hessian_of(point.loss)(theta)) == pytest.approx(point.hessian, abs=1e-12)
        kinds.append(kind_of(np.linalg.eigvalsh(point.hessian)))
    cubic = ["minimum", "maximum", "saddle", "saddle"]
    assert kinds == [*cubic, "saddle", "saddle", "saddle", "maximum", "minimum", "saddle"]
    indices = [int(np.sum(np.linalg.eigvalsh(p.hessian) < 0)) for p in critical_points()]
    assert indices[6] == 2 and indices[-1] == 2  # the two index-2 saddles of the success message
    grad = grad_of(critical_points()[0].loss)(jnp.asarray(NOT_CRITICAL))
    assert np.asarray(grad) == pytest.approx([9.0, -2.25])


def rule(decide):
    """A classify that checks the gradient and then applies ``decide`` to the dense Hessian."""

    def classify(loss, theta):
        theta = jnp.asarray(theta)
        if np.linalg.norm(grad_of(loss)(theta)) > 1e-6:
            raise ValueError("not a critical point")
        return decide(np.asarray(hessian_of(loss)(theta)))

    return classify


def eig_kind(H):
    return kind_of(np.linalg.eigvalsh(H))


def two_d_test(H):
    """The textbook 2-D second-derivative test, applied in any dimension."""
    det, trace = np.linalg.det(H), np.trace(H)
    return "saddle" if det < 0 else "minimum" if trace > 0 else "maximum"


def no_gradient_check(loss, theta):
    return eig_kind(np.asarray(hessian_of(loss)(jnp.asarray(theta))))


def exact_zero_check(loss, theta):
    if np.any(np.asarray(grad_of(loss)(jnp.asarray(theta))) != 0):
        raise ValueError("not a critical point")
    return no_gradient_check(loss, theta)


def always_raises(loss, theta):
    raise ValueError("not a critical point")


def asserting(loss, theta):
    assert np.linalg.norm(grad_of(loss)(jnp.asarray(theta))) < 1e-6
    return no_gradient_check(loss, theta)


SWAP = {"minimum": "maximum", "maximum": "minimum", "saddle": "saddle"}

WRONG_4_2 = {
    "swapped": (rule(lambda H: SWAP[eig_kind(H)]), "the signs are read backwards"),
    "determinant": (
        rule(lambda H: "minimum" if np.linalg.det(H) > 0 else "saddle"),
        "det > 0 at both a minimum and a maximum in 2-D",
    ),
    "absolute values": (rule(lambda H: eig_kind(np.abs(H))), "cannot tell them apart"),
    "trace": (
        rule(lambda H: "minimum" if np.trace(H) > 0 else "maximum" if np.trace(H) < 0 else "saddle"),
        "Their sum (the trace, 2) is positive, but one eigenvalue is negative",
    ),
    "diagonal": (rule(lambda H: kind_of(np.diag(H))), "are all positive, but it is not diagonal"),
    "2-D test in 4-D": (rule(two_d_test), "counts negative eigenvalues only modulo 2"),
    "det < 0 in 3-D": (
        rule(lambda H: "saddle" if np.linalg.det(H) < 0 else eig_kind(H)),
        "det < 0 means a saddle only in 2-D",
    ),
    "always saddle": (rule(lambda H: "saddle"), "that is a minimum (index 0"),
    "no gradient check": (no_gradient_check, "Raise ValueError when ‖∇L‖ > 1e-06"),
    "exact zero": (exact_zero_check, "not with zero"),
    "always raises": (always_raises, "but ∇L = 0 there: it is a critical point"),
    "assert": (asserting, "raise ValueError there (ValueError, not AssertionError)"),
    "tuple": (rule(lambda H: (eig_kind(H), int(np.sum(np.linalg.eigvalsh(H) < 0)))), "return only the kind"),
    "number": (rule(lambda H: 1), "expected one of the strings"),
    "abbreviation": (rule(lambda H: eig_kind(H)[:3]), "returned 'min'; expected one of"),
    "None": (rule(lambda H: None), "forget a `return`"),
    "raises": (lambda loss, theta: 1 / 0, "raised ZeroDivisionError"),
    "not callable": ("saddle", "expected a function"),
}


@pytest.mark.parametrize("name", sorted(WRONG_4_2))
def test_wrong_answers_to_4_2(name):
    assert_wrong("4.2", *WRONG_4_2[name])


def test_4_2_accepts_capitals_and_spaces():
    """(Float32, JAX's default, is covered by the notebook: its solutions run there in float32.)"""
    assert check("4.2", rule(lambda H: f" {eig_kind(H).capitalize()} ")).passed


# ---------------------------------------------------------------- exercise 4.3


def test_the_cases_spectra_are_the_dense_hessians():
    for case in sharpness_cases():
        dense = np.linalg.eigvalsh(np.asarray(hessian_of(case.loss)(jnp.asarray(case.theta))))
        assert dense == pytest.approx(case.eigenvalues, abs=1e-12)
    lam = [case.eigenvalues for case in sharpness_cases()]
    assert -lam[1][0] > lam[1][-1] > 0  # the most negative eigenvalue outweighs λ_max
    assert lam[2][-1] - lam[2][-2] == pytest.approx(0.5)
    assert lam[3][0] < 0 < lam[3][-1]  # the network: negative curvature at initialization
    assert len(sharpness_cases()[3].theta) == 33


def hvp(loss, theta, v):
    return hvp_of(loss)(jnp.asarray(theta), v)


def power(loss, theta, key, num_iter=300, shift=0.0):
    """The unit vector after ``num_iter`` steps of power iteration on H − shift·I."""
    v = jax.random.normal(key, jnp.shape(theta))
    v = v / jnp.linalg.norm(v)
    for _ in range(num_iter):
        w = hvp(loss, theta, v) - shift * v
        v = w / jnp.linalg.norm(w)
    return v


def rayleigh(loss, theta, v):
    return v @ hvp(loss, theta, v)


def plain_power(loss, theta, key):
    return rayleigh(loss, theta, power(loss, theta, key))


def norm_hv(loss, theta, key):
    return jnp.linalg.norm(hvp(loss, theta, power(loss, theta, key)))


def shift_not_undone(loss, theta, key):
    lam0 = plain_power(loss, theta, key)
    if lam0 > 0:
        return lam0
    v = power(loss, theta, key, shift=lam0)
    return v @ (hvp(loss, theta, v) - lam0 * v)


def few_iterations(loss, theta, key):
    lam0 = rayleigh(loss, theta, power(loss, theta, key, num_iter=5))
    return lam0 if lam0 > 0 else rayleigh(loss, theta, power(loss, theta, key, 5, lam0))


def dense(loss, theta):
    return np.linalg.eigvalsh(np.asarray(hessian_of(loss)(jnp.asarray(theta))))


WRONG_4_3 = {
    "plain power iteration": (plain_power, "the eigenvalue of largest |λ|: plain power iteration"),
    "norm of Hv": (norm_hv, "‖Hv‖ has no sign"),
    "shift not undone": (shift_not_undone, "is λ_max − λ_min"),
    "few iterations": (few_iterations, "increase the number of iterations"),
    "smallest": (lambda loss, theta, key: dense(loss, theta)[0], "is the smallest eigenvalue"),
    "trace": (lambda loss, theta, key: dense(loss, theta).sum(), "is the trace"),
    "too large": (lambda loss, theta, key: 2 * dense(loss, theta)[-1], "no Rayleigh quotient"),
    "too small": (lambda loss, theta, key: dense(loss, theta)[0] - 5, "below every eigenvalue"),
    "tuple": (lambda loss, theta, key: (dense(loss, theta)[-1], theta), "return only the eigenvalue"),
    "vector": (lambda loss, theta, key: dense(loss, theta), "expected one number"),
    "nan": (lambda loss, theta, key: math.nan, "NaN"),
    "None": (lambda loss, theta, key: None, "forget a `return`"),
    "raises": (lambda loss, theta, key: 1 / 0, "raised ZeroDivisionError"),
    "wrong arity": (lambda loss, theta: 1.0, "raised TypeError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_4_3))
def test_wrong_answers_to_4_3(name):
    assert_wrong("4.3", *WRONG_4_3[name])


def lanczos(loss, theta, key):
    d = len(theta)
    operator = scipy.sparse.linalg.LinearOperator(
        (d, d), matvec=lambda v: np.asarray(hvp(loss, theta, jnp.asarray(v))), dtype=np.float64
    )
    v0 = np.asarray(jax.random.normal(key, (d,)))
    return scipy.sparse.linalg.eigsh(operator, k=1, which="LA", v0=v0)[0][0]


def test_4_3_accepts_the_reference_and_lanczos():
    """(Float32, JAX's default, is covered by the notebook: its solutions run there in float32.)"""
    for answer in (SOLUTIONS["4.3"], lanczos):
        result = check("4.3", answer)
        assert result.passed, result.message
        assert not result.message.endswith("...")


# ---------------------------------------------------------------- exercise 4.4


def test_the_escape_count_is_gradient_descent_on_the_double_well():
    step = jax.jit(lambda theta: theta - 0.1 * jax.grad(double_well_loss)(theta))
    theta, count = jnp.array([1e-6, 0.0]), 0
    while abs(theta[0]) < 0.1:
        theta, count = step(theta), count + 1
    assert count == escape_steps_reference() == 121
    assert theta[1] == 0.0
    # the numbers the solution and the messages quote
    assert round(escape_steps_linear(), 1) == 120.8
    assert round(math.log(1e5), 1) == 11.5 and round(math.log(1e5) / 0.1) == 115
    with pytest.raises(ValueError, match="need 0 < eps < radius"):
        escape_steps_reference(eps=0.2)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (115.13, "gradient flow's escape time ln(r/ε)/|λ| counted in steps of η"),
        (115, "ln(r/ε)/(η|λ|)"),
        (12.1, "that is a time, t = steps · η = 121 × 0.1"),
        (11.51, "the escape time of gradient flow"),
        (52.46, "mixes logarithms: log₁₀(r/ε) over ln(1 + η)"),
        (278.1, "mixes logarithms: ln(r/ε) over log₁₀(1 + η)"),
        (50, "a base-10 logarithm"),
        (145, "the count to reach |x| = 1"),
        (0, "a number of steps is positive"),
        (-109.3, "a number of steps is positive"),
        (1e6, "never leaves it"),
        (130, "is too many"),
        (100, "is too few"),
        ("121", "not a string"),
        (math.inf, "infinity"),
    ],
)
def test_wrong_answers_to_4_4(answer, phrase):
    assert_wrong("4.4", answer, phrase)


@pytest.mark.parametrize("answer", [121, 120, 122, 120.79, np.int64(121), np.float32(121.0)])
def test_answers_to_4_4_within_tolerance(answer):
    assert check("4.4", answer).passed


def test_a_fractional_count_passes_with_a_note():
    assert "Steps come whole: the first t with |x_t| ≥ r is 121." in check("4.4", 120.79).message
    assert "Steps come whole" not in check("4.4", 121).message


# ---------------------------------------------------------------- exercise 4.5

THETA_LSQ = -np.polyfit(TABLE_N, np.log(TABLE_P), 2)[0]


def test_the_table_and_its_fit():
    assert TABLE_P[0] == pytest.approx((math.pi - 2 * math.sqrt(2)) / (4 * math.pi), rel=1e-15)
    theta, b, c = fit_log_fraction()
    assert [theta, b, c] == pytest.approx(
        [THETA_LSQ, *np.polyfit(TABLE_N, np.log(TABLE_P), 2)[1:]], rel=1e-10
    )
    # the numbers the solution and the success message quote
    assert (round(theta, 4), round(b, 3), round(c, 3)) == (0.2740, -0.398, -0.032)
    assert round(THETA_DEAN_MAJUMDAR, 4) == 0.2747
    assert f"{TABLE_P[-1]:.1e}" == "9.7e-10"  # P_8, against 2^(1-8) ≈ 0.008
    n = TABLE_N.astype(float)
    no_linear = -np.linalg.lstsq(np.stack([n**2, np.ones(6)], 1), np.log(TABLE_P), rcond=None)[0][0]
    assert round(no_linear, 2) == 0.31
    with pytest.raises(ValueError, match="3 distinct sizes"):
        fit_log_fraction([3, 3, 4], [0.1, 0.1, 0.01])
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        fit_log_fraction([3, 4, 5], [0.1, 0.0, 0.01])


def test_the_table_agrees_with_monte_carlo():
    """P_4 from 200 000 GOE matrices (a fixed key): the binomial count lies within 5 standard errors
    of the table's, which a correct table fails with probability below 1e-6. (P_3 is checked
    against its closed form above.)"""
    samples, n = 200_000, 4
    g = jax.random.normal(jax.random.key(44), (samples, n, n))
    eigenvalues = np.linalg.eigvalsh(np.asarray(g + jnp.swapaxes(g, 1, 2)))
    hits = int(np.sum(eigenvalues[:, 0] > 0))
    p = TABLE_P[n - 3]
    assert abs(hits - samples * p) <= 5 * math.sqrt(samples * p * (1 - p))


def test_a_second_difference_and_the_asymptotic_rate_pass():
    logp = np.log(TABLE_P)
    second_difference = -(logp[4] - 2 * logp[3] + logp[2]) / 2  # at n = 6, free of b and c
    assert check("4.5", second_difference).passed
    assert check("4.5", THETA_DEAN_MAJUMDAR).passed


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (0.30959, "that fits ln P_n = −θn² + c"),
        (0.33327, "that fits ln P_n = −θn²:"),
        (0.33098, "at n = 3"),
        (0.31018, "at n = 5: one ratio of neighbours still carries the linear term"),
        (0.30059, "at n = 7"),
        (THETA_LSQ / math.log(10), "that is θ for log₁₀ P_n"),
        (THETA_LSQ / math.log(2), "that is θ for log₂ P_n"),
        (-THETA_LSQ, "the sign is wrong"),
        (3.412, "The source's law 2^(1−n) would mean a straight line of slope −ln 2"),
        (-3.412, "the slope of ln P_n against n"),
        (math.log(2), "the rate of the source's law P_n = 2^(1−n)"),
        (-0.398, "the linear coefficient b"),
        (0.398, "minus the linear coefficient b"),
        (0.35, "too large"),
        (0.2, "too small"),
        ("0.274", "not a string"),
        (math.nan, "NaN"),
    ],
)
def test_wrong_answers_to_4_5(answer, phrase):
    assert_wrong("4.5", answer, phrase)


@pytest.mark.parametrize("answer", [THETA_LSQ, 0.274, 0.27, 0.279, np.float32(0.274)])
def test_answers_to_4_5_within_tolerance(answer):
    assert check("4.5", answer).passed


# ---------------------------------------------------------------- exercise 4.6


@pytest.mark.parametrize(("lam", "beta"), [(4.0, 0.9), (0.5, 0.5), (3.0, 0.3)])
def test_the_heavy_ball_limit_is_where_a_root_reaches_minus_one_and_optax_diverges(lam, beta):
    eta = float(heavy_ball_limit(lam, beta))
    roots = np.roots([1.0, -(1 + beta - eta * lam), beta])
    assert np.max(np.abs(roots)) == pytest.approx(1.0, abs=1e-12)
    assert np.min(np.abs(roots + 1)) == pytest.approx(0.0, abs=1e-12)

    def final(factor, n_steps=1000):
        opt = optax.sgd(factor * eta, momentum=beta)

        def step(_, carry):
            theta, state = carry
            updates, state = opt.update(lam * theta, state)
            return optax.apply_updates(theta, updates), state

        theta0 = jnp.array([1.0])
        theta, _ = jax.jit(lambda c: jax.lax.fori_loop(0, n_steps, step, c))((theta0, opt.init(theta0)))
        return abs(float(theta[0]))

    assert final(0.99) < 1e-6
    assert final(1.01) > 1e6


def hb(formula):
    return lambda lam_max, beta: formula(lam_max, beta)


WRONG_4_6 = {
    "gradient descent": (hb(lambda l, b: 2 / l), "plain gradient descent's 2/λ_max"),
    "effective step": (hb(lambda l, b: 2 * (1 - b) / l), "from the 'effective step' η/(1 − β)"),
    "inverted": (hb(lambda l, b: 2 / ((1 - b) * l)), "the limit is finite as β → 1"),
    "no 2": (hb(lambda l, b: (1 + b) / l), "a factor 2 too small"),
    "damped": (hb(lambda l, b: 2 * (1 + b) / ((1 - b) * l)), "the damped form v ← βv + (1 − β)∇L"),
    "λ upstairs": (hb(lambda l, b: 2 * (1 + b) * l), "λ_max belongs in the denominator"),
    "β squared": (hb(lambda l, b: 2 * (1 + b**2) / l), "β, not β², enters"),
    "off": (hb(lambda l, b: 2 * (1 + b) / l + 0.1), "stable up to η = 0.95"),
    "float32 digits": (hb(lambda l, b: float(np.float32(2 * (1 + b) / l)) * (1 + 1e-6)), "float32 digits"),
    "None": (hb(lambda l, b: None), "forget a `return`"),
    "raises": (hb(lambda l, b: 1 / 0), "raised ZeroDivisionError"),
    "string": (hb(lambda l, b: "2(1+β)/λ"), "not a string"),
}


@pytest.mark.parametrize("name", sorted(WRONG_4_6))
def test_wrong_answers_to_4_6(name):
    assert_wrong("4.6", *WRONG_4_6[name])


def test_4_6_accepts_float32_and_jax():
    assert check("4.6", lambda l, b: jnp.float32(2) * (1 + jnp.float32(b)) / jnp.float32(l)).passed
    assert check("4.6", lambda l, b: 2.0 * (1.0 + b) / l).passed


# ---------------------------------------------------------------- the notebook


def test_the_solutions_quote_the_numbers_the_checkers_compute():
    sources = solution_sources(nbformat.read(NOTEBOOK, as_version=4))
    cells = {
        c.metadata["physml"]["exercise"]: c.source
        for c in nbformat.read(NOTEBOOK, as_version=4).cells
        if c.metadata.get("physml", {}).get("role") == "solution"
    }
    assert set(sources) == set(IDS)
    assert "3.562" in cells["4.1"] and "0.5615" in cells["4.1"] and "0.754" in cells["4.1"]
    assert "120.8" in cells["4.4"] and "gives 121" in cells["4.4"] and "115 steps" in cells["4.4"]
    assert "0.2740" in cells["4.5"] and "-0.398" in cells["4.5"] and "0.2747" in cells["4.5"]
    assert SOLUTIONS["4.4"] == escape_steps_reference()
    assert SOLUTIONS["4.1"] == pytest.approx(ETA_STAR, rel=1e-12)
    assert SOLUTIONS["4.5"] == pytest.approx(THETA_LSQ, rel=1e-12)
    assert SOLUTIONS["4.6"](4.0, 0.9) == pytest.approx(0.95)
