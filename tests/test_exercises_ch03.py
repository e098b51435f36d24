"""Chapter 3's checkers: the chapter registers its exercises, each known-wrong answer gets its
own message, the statistical check of the Langevin step passes right steps and fails wrong ones
deterministically, and the widget draws a deterministic figure."""

from __future__ import annotations

import math

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from conftest import ROOT, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml import langevin, laplace
from physml.exercises import check, exercises_in
from physml.exercises.ch03 import (
    _CASES_3_6,
    BOX,
    CURVATURE,
    L_STAR,
    LAPLACE_BETAS,
    TARGET_FRACTION,
    WELL,
    X_STAR,
    barrier,
    basin_fractions,
    beta_target,
    crossover_exact,
    crossover_laplace,
    draw_basin_masses,
    exact_free_energy,
    exp_loss,
    jarzynski_reference,
    laplace_free_energy_reference,
    narrow_fraction,
    ula_stationary_variance,
    ula_step_reference,
)
from physml.exercises.widgets import WidgetExercise
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "03_zero_temperature.ipynb"
IDS = ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]

SOLUTIONS = reference_answers(NOTEBOOK)


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("03_zero_temperature")] == IDS
    assert sorted(SOLUTIONS) == IDS


# ---------------------------------------------------------------- exercise 3.1


def F_laplace(beta):
    return L_STAR + np.log(beta * CURVATURE / (2 * np.pi)) / (2 * beta)


def test_the_reference_is_the_package_laplace_free_energy_and_the_exact_F_is_stirling():
    assert X_STAR == pytest.approx(math.log(2)) and L_STAR == pytest.approx(2 - 2 * math.log(2))
    for beta in LAPLACE_BETAS:
        package = laplace.laplace_free_energy(exp_loss, beta, jnp.array([X_STAR]))
        assert laplace_free_energy_reference(beta) == pytest.approx(float(package), rel=1e-12)
    for beta in (0.5, 1.0, 2.0, 10.0):
        closed_form = 2 * math.log(beta) - math.lgamma(2 * beta) / beta  # Z = Γ(2β)/β^{2β}
        assert exact_free_energy(beta) == pytest.approx(closed_form, abs=1e-10)
    # the success message's "like −1/(24β²)": Laplace's next term, c = 1/24
    assert float(laplace.laplace_correction(exp_loss, jnp.array([X_STAR]))) == pytest.approx(1 / 24)
    assert exact_free_energy(10.0) - F_laplace(10.0) == pytest.approx(-1 / 2400, rel=0.01)


WRONG_3_1 = {
    "no 1/β": (lambda b: L_STAR + 0.5 * np.log(b * 2 / (2 * np.pi)), "the 1/β is missing"),
    "sign": (lambda b: L_STAR - np.log(b * 2 / (2 * np.pi)) / (2 * b), "the sign of the logarithm"),
    "curvature at 0": (lambda b: L_STAR + np.log(b / (2 * np.pi)) / (2 * b), "L''(x*) = e^{x*} = 2"),
    "Z": (lambda b: np.exp(-b * L_STAR) * np.sqrt(2 * np.pi / (2 * b)), "that is Laplace's Z"),
    "ln Z": (lambda b: -b * L_STAR - 0.5 * np.log(b * 2 / (2 * np.pi)), "that is Laplace's ln Z"),
    "no 2π": (lambda b: L_STAR + np.log(2 * b) / (2 * b), "the 2π is missing"),
    "no ½": (lambda b: L_STAR + np.log(b * 2 / (2 * np.pi)) / b, "the ½ is missing"),
    "T for β": (lambda b: F_laplace(1 / b), "the argument is the inverse temperature β"),
    "exact": (lambda b: 2 * math.log(b) - math.lgamma(2 * b) / b, "that is the exact free energy"),
    "L* only": (lambda b: L_STAR, "that is L*, the β → ∞ limit"),
    "wrong L*": (lambda b: F_laplace(b) - L_STAR + 1.0, "off by +0.386294 at every β"),
    "off": (lambda b: F_laplace(b) * (1 + 0.1 * (b > 1)), "expected F_Laplace = 0.50081"),
    "float32 digits": (lambda b: float(np.float32(F_laplace(b))), "significant digits"),
    "two values": (lambda b: (F_laplace(b), b), "you returned 2 values"),
    "array": (lambda b: np.full(3, F_laplace(b)), "an array of shape (3,); expected one number"),
    "None": (lambda b: None, "forget a `return`"),
    "nan": (lambda b: math.nan, "NaN"),
    "raises": (lambda b: 1 / 0, "raised ZeroDivisionError"),
    "not callable": (0.5, "expected a function"),
}


@pytest.mark.parametrize("name", sorted(WRONG_3_1))
def test_wrong_answers_to_3_1(name):
    assert_wrong("3.1", *WRONG_3_1[name])


def test_3_1_accepts_float32_jax_and_the_package():
    assert check("3.1", lambda b: jnp.float32(L_STAR) + jnp.log(jnp.float32(b) / jnp.pi) / (2 * b)).passed
    assert check("3.1", lambda b: laplace.laplace_free_energy(exp_loss, b, jnp.array([X_STAR]))).passed


# ---------------------------------------------------------------- exercise 3.2


def test_the_crossover_and_the_numbers_the_solution_quotes():
    exact, estimate = crossover_exact(), crossover_laplace()
    assert estimate == pytest.approx(math.log(16) / 0.2)
    assert round(exact, 2) == 13.64
    assert round((estimate - exact) / exact, 3) == 0.017  # "1.7 % below Laplace's estimate"
    assert (estimate - exact) / exact > 0.01 + 0.002  # Laplace's estimate fails the 1 % check
    assert round(barrier(), 2) == -0.52
    assert basin_fractions(exact) == pytest.approx([0.5, 0.5], abs=1e-10)
    assert round(basin_fractions(1.0)[1], 2) == 0.76  # the wide basin at β = 1
    assert basin_fractions(100.0)[1] < 1e-3


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (13.8629, "is Laplace's estimate"),
        (13.86, "The exact masses cross 1.7% lower"),
        (1 / 13.64, "is the temperature T* = 1/β*"),
        (1 / 13.86, "is the temperature T* = 1/β*"),
        (27.73, "twice Laplace's estimate"),
        (6.93, "half of Laplace's estimate"),
        (20.0, "already holds more than half"),
        (13.2, "still holds less than half"),
        (0.5, "still holds less than half"),
        (1e5, "essentially all the mass"),
        (0.0, "not an inverse temperature"),
        (-13.64, "not an inverse temperature"),
        ("13.64", "not a string"),
        (np.array([13.64, 13.64]), "shape (2,)"),
        (float("nan"), "NaN"),
    ],
)
def test_wrong_answers_to_3_2(answer, phrase):
    assert_wrong("3.2", answer, phrase)


@pytest.mark.parametrize("answer", [13.64, 13.55, 13.75, np.float32(13.6367), np.array(13.64)])
def test_answers_to_3_2_within_tolerance(answer):
    assert check("3.2", answer).passed


def test_the_crossover_does_not_depend_on_the_box():
    """Answers computed in another box pass: at β* the tails beyond ±4 weigh nothing."""
    with jax.enable_x64(True):
        wider = laplace.crossover_beta_exact(
            lambda x: laplace.double_well_loss(WELL, x), (-6.0, barrier(), 6.0), (5.0, 50.0), n_cells=8192
        )
    assert wider == pytest.approx(crossover_exact(), rel=1e-9)


# ---------------------------------------------------------------- exercise 3.3


def step_with(noise=lambda eta, beta: np.sqrt(2 * eta / beta), drift=-1.0):
    def ula_step(key, theta, grad_L, eta, beta):
        xi = jax.random.normal(key, jnp.shape(theta))
        return theta + drift * eta * grad_L(theta) + noise(eta, beta) * xi

    return ula_step


def finite(beta):
    return beta < math.inf


WRONG_3_3 = {
    "no β": (step_with(lambda eta, beta: np.sqrt(2 * eta) * finite(beta)), "√(2η) without β"),
    "T for β": (step_with(lambda eta, beta: np.sqrt(2 * eta * beta) * finite(beta)), "√(2ηβ)"),
    "T for β, at β = ∞": (step_with(lambda eta, beta: np.sqrt(2 * eta * beta)), "(√(2ηβ) is infinite)"),
    "no 2": (step_with(lambda eta, beta: np.sqrt(eta / beta)), "the factor 2 is missing"),
    "no η": (step_with(lambda eta, beta: np.sqrt(2 / beta)), "√(2/β) without η"),
    "no sqrt": (step_with(lambda eta, beta: 2 * eta / beta), "that is the variance"),
    "β outside": (step_with(lambda eta, beta: np.sqrt(2 * eta) / beta), "β belongs under the square root"),
    "η outside": (step_with(lambda eta, beta: eta * np.sqrt(2 / beta)), "η√(2/β)"),
    "noise off by 30 %": (step_with(lambda eta, beta: 1.3 * np.sqrt(2 * eta / beta)), "expected 2η/β = 0.05"),
    "ascent": (step_with(drift=+1.0), "climbs the loss"),
    "no step size": (
        lambda key, theta, g, eta, beta: (
            theta - g(theta) + np.sqrt(2 * eta / beta) * jax.random.normal(key, theta.shape)
        ),
        "the gradient step needs the step size",
    ),
    "no drift": (
        lambda key, theta, g, eta, beta: (
            theta + np.sqrt(2 * eta / beta) * jax.random.normal(key, theta.shape)
        ),
        "θ unchanged",
    ),
    "half drift": (step_with(drift=-0.5), "expected θ − η∇L(θ) = [0.5375, -1.0, 1.4]"),
    "ignores the key": (
        lambda key, theta, g, eta, beta: (
            theta
            - eta * g(theta)
            + np.sqrt(2 * eta / beta) * jax.random.normal(jax.random.key(0), theta.shape)
        ),
        "the noise ignores the key",
    ),
    "global generator": (
        lambda key, theta, g, eta, beta: (
            theta
            - eta * g(theta)
            + np.sqrt(2 * eta / beta) * np.random.default_rng().normal(size=np.shape(theta))
        ),
        "not from a global generator",
    ),
    "one draw": (
        lambda key, theta, g, eta, beta: (
            theta - eta * g(theta) + np.sqrt(2 * eta / beta) * jax.random.normal(key)
        ),
        "one random number for the whole array",
    ),
    "no noise": (lambda key, theta, g, eta, beta: theta - eta * g(theta), "there is no noise"),
    "uniform noise": (
        lambda key, theta, g, eta, beta: (
            theta - eta * g(theta) + np.sqrt(2 * eta / beta) * jax.random.uniform(key, theta.shape)
        ),
        "the noise has mean zero",
    ),
    "biased stationary": (
        # right at θ = 1.5, where the one-step test looks, but too hot near the minimum
        lambda key, theta, g, eta, beta: (
            theta
            - eta * g(theta)
            + np.sqrt(2 * eta / beta)
            * np.where(np.abs(theta) < 1, 1.3, 1.0)
            * jax.random.normal(key, theta.shape)
        ),
        "ULA's exact stationary value is 1/(βk(1 − kη/2)) = 0.1389",
    ),
    "scalar": (lambda key, theta, g, eta, beta: float(np.mean(theta)), "you returned one number"),
    "wrong shape": (lambda key, theta, g, eta, beta: np.zeros((2, 2)), "returned shape (2, 2)"),
    "tuple": (lambda key, theta, g, eta, beta: (theta, key), "returned 2 values"),
    "None": (lambda key, theta, g, eta, beta: None, "forget a `return`"),
    "nan": (lambda key, theta, g, eta, beta: theta * np.nan, "NaN"),
    "raises": (lambda key, theta, g, eta, beta: 1 / 0, "raised ZeroDivisionError"),
    "wrong arity": (lambda key, theta: theta, "raised TypeError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_3_3))
def test_wrong_answers_to_3_3(name):
    assert_wrong("3.3", *WRONG_3_3[name])


def test_3_3_passes_right_steps_with_other_random_draws():
    """The statistical check accepts correct steps whose noise differs from the reference's draws
    (a split key, float32, a key folded with a constant)."""

    def split_first(key, theta, grad_L, eta, beta):
        _, sub = jax.random.split(key)
        return ula_step_reference(sub, theta, grad_L, eta, beta)

    def float32(key, theta, grad_L, eta, beta):
        theta = jnp.asarray(theta, jnp.float32)
        xi = jax.random.normal(key, theta.shape, jnp.float32)
        return theta - eta * grad_L(theta) + jnp.sqrt(2 * eta / beta) * xi

    def folded(key, theta, grad_L, eta, beta):
        return ula_step_reference(jax.random.fold_in(key, 7), theta, grad_L, eta, beta)

    for step in (ula_step_reference, split_first, float32, folded):
        result = check("3.3", step)
        assert result.passed, result.message
        assert "0.1389" in result.message and "0.1250" in result.message


def test_the_stationary_variance_is_that_of_langevin_ula():
    """ULA_STEPS steps from 0 reach the exact AR(1) variance to ~1e-12, as langevin.ula says."""
    k, eta, beta = 2.0, 0.1, 4.0
    assert ula_stationary_variance() == pytest.approx(1 / (beta * k * (1 - k * eta / 2)))
    transient = (1 - k * eta) ** (2 * 60)
    assert transient < 1e-11


# ---------------------------------------------------------------- exercise 3.4


def test_the_target_and_the_numbers_the_hints_and_solution_quote():
    b = beta_target()
    assert narrow_fraction(b) == pytest.approx(TARGET_FRACTION, abs=1e-10)
    assert 34 < b < 38  # hint 3
    assert round(b, 1) == 35.7
    laplace_estimate = (0.5 * math.log(16) + math.log(9)) / 0.1
    assert round(laplace_estimate, 1) == 35.8
    assert round(b / crossover_exact(), 1) == 2.6


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (1 / 35.74, "is the temperature T = 1/β"),
        (13.64, "is the crossover β*"),
        (0.9, "is the target share itself"),
        (90.0, "is the target share itself"),
        (20.0, "too hot"),
        (33.0, "too hot"),
        (39.0, "too cold"),
        (5000.0, "essentially all the mass"),
        (0.0, "not an inverse temperature"),
        ("35.7", "not a string"),
        (True, "bool"),
    ],
)
def test_wrong_answers_to_3_4(answer, phrase):
    assert_wrong("3.4", answer, phrase)


@pytest.mark.parametrize("answer", [35.74, 35.84, 35.0, 36.5, np.float32(35.7)])
def test_answers_to_3_4_within_tolerance(answer):
    assert check("3.4", answer).passed


def test_the_log_slider_can_reach_the_tolerance():
    """Slider values are 10**(0.002 j): several lie within the accepted band."""
    betas = 10.0 ** np.arange(-1, 3.0001, 0.002)
    near = betas[(betas > 30) & (betas < 42)]
    assert sum(abs(narrow_fraction(b) - TARGET_FRACTION) <= 0.01 for b in near) >= 5


def test_draw_basin_masses_returns_a_deterministic_figure():
    fig = draw_basin_masses(20.0)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    share = basin_fractions(20.0)
    assert f"narrow basin {share[0]:.1%}" in fig.get_suptitle()
    assert png_bytes(fig) == png_bytes(draw_basin_masses(20.0))
    assert png_bytes(draw_basin_masses(50.0)) != png_bytes(fig)
    for bad in (0.0, -1.0, 2e3, math.inf, math.nan):
        with pytest.raises(ValueError, match="beta must be positive"):
            draw_basin_masses(bad)


def test_draw_basin_masses_shows_a_normalized_density():
    left = draw_basin_masses(5.0).axes[0]
    x, density = (np.asarray(a) for a in left.lines[0].get_data())
    assert x[0] == BOX[0] and x[-1] == BOX[1]
    assert np.trapezoid(density, x) == pytest.approx(1.0, rel=1e-4)


def test_the_widget_checks_the_beta_on_its_slider():
    slider = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=3, step=0.002, description="β")
    widget = WidgetExercise("3.4", controls={"beta": slider}, draw=draw_basin_masses, answer="beta")
    assert "too hot" in widget.check().message
    widget.set(beta=10**1.554)
    assert widget.check().passed
    assert "beta_90 = 35.81" in widget.feedback.value


# ---------------------------------------------------------------- exercise 3.5

WRONG_3_5 = {
    "var/k": (lambda v, k: v / k, "that is Var/k"),
    "β": (lambda v, k: 1 / (k * v), "that is β = 1/T"),
    "k/var": (lambda v, k: k / v, "that is k/Var"),
    "half": (lambda v, k: k * v / 2, "the temperature is twice that"),
    "twice": (lambda v, k: 2 * k * v, "not 2k · Var"),
    "variance": (lambda v, k: v, "that is the variance itself"),
    "k squared": (lambda v, k: k**2 * v, "that is k² · Var"),
    "sqrt": (lambda v, k: np.sqrt(k * v), "without a square root"),
    "off": (lambda v, k: k * v + 0.01, "expected T = k · Var = 0.08"),
    "math only": (lambda v, k: math.fsum([k * v]), "raised TypeError"),
    "sum": (lambda v, k: np.sum(k * v), "has shape (); expected (3,)"),
    "None": (lambda v, k: None, "forget a `return`"),
    "string": (lambda v, k: "T", "not a string"),
}


@pytest.mark.parametrize("name", sorted(WRONG_3_5))
def test_wrong_answers_to_3_5(name):
    assert_wrong("3.5", *WRONG_3_5[name])


def test_3_5_accepts_float32_jax():
    assert check("3.5", lambda v, k: jnp.asarray(k, jnp.float32) * jnp.asarray(v, jnp.float32)).passed


def test_equipartition_holds_for_langevin_sgd_predictions():
    """The relation the exercise teaches, against the package: k Σ = ηc/(2B) in the small-η limit."""
    x, y = langevin.regression_data(jax.random.key(3), 500, scales=(1.0,), noise=0.5)
    noise = langevin.gradient_noise(x, y)
    sigma = langevin.predict_sgd_covariance(x, y, 0.1, 4)[0, 0]
    answer = SOLUTIONS["3.5"]
    assert answer(sigma, noise.hessian[0, 0]) == pytest.approx(0.1 * noise.covariance[0, 0] / 8, rel=1e-10)


# ---------------------------------------------------------------- exercise 3.6


def dF(w, beta):
    return -(scipy.special.logsumexp(-beta * np.asarray(w)) - np.log(len(w))) / beta


def naive(w, beta):
    return -np.log(np.mean(np.exp(-beta * np.asarray(w)))) / beta


def test_the_reference_is_log_sum_exp_and_finite_for_every_case():
    for works, beta, _ in _CASES_3_6:
        assert jarzynski_reference(works, beta) == pytest.approx(dF(works, beta), rel=1e-13)
    works, beta, _ = _CASES_3_6[4]  # βW = −1000, 0, 1000: −5 + ln 3 / 200
    assert jarzynski_reference(works, beta) == pytest.approx(-5 + math.log(3) / 200, rel=1e-13)


WRONG_3_6 = {
    "naive": (naive, "underflows to 0 for βW ≈ 1000"),
    "naive overflow": (lambda w, b: dF(w, b) if w.min() > -100 else -np.inf, "overflows to inf"),
    "mean work": (lambda w, b: np.mean(w), "that is the mean work ⟨W⟩"),
    "sign": (lambda w, b: -dF(w, b), "the sign is wrong"),
    "exponent sign": (
        lambda w, b: (scipy.special.logsumexp(b * w) - np.log(len(w))) / b,
        "sign in the exponent",
    ),
    "sum": (lambda w, b: -scipy.special.logsumexp(-b * w) / b, "you summed e^{−βW} instead of averaging"),
    "T for β": (lambda w, b: dF(w, 1 / b), "you used T for β"),
    "no 1/β": (lambda w, b: b * dF(w, b), "the 1/β in front of the logarithm is missing"),
    "cumulant": (lambda w, b: np.mean(w) - b * np.var(w) / 2, "second-cumulant approximation"),
    "off": (lambda w, b: dF(w, b) + 0.1, "expected ΔF = "),
    "estimate tuple": (lambda w, b: langevin.jarzynski_estimate(w, b), "return only its free_energy"),
    "float32 digits": (lambda w, b: float(np.float32(dF(w, b))), "significant digits"),
    "array": (lambda w, b: -np.log(np.exp(-b * w)) / b, "expected one number"),
    "None": (lambda w, b: None, "forget a `return`"),
    "raises": (lambda w, b: 1 / 0, "raised ZeroDivisionError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_3_6))
def test_wrong_answers_to_3_6(name):
    assert_wrong("3.6", *WRONG_3_6[name])


def test_3_6_accepts_the_package_and_float32_jax():
    assert check("3.6", lambda w, b: langevin.jarzynski_estimate(w, b).free_energy).passed
    in_float32 = lambda w, b: -(jax.nn.logsumexp(-b * jnp.asarray(w, jnp.float32)) - jnp.log(len(w))) / b
    assert check("3.6", in_float32).passed
