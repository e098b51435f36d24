"""Chapter 5's checkers: each reference is checked against an independent computation (the exact
oscillator, a spectral radius, a simulation, a matrix exponential, the symmetry itself), each
known-wrong answer gets its own message, float32 answers pass, and the widget draws a deterministic
figure with a static fallback."""

from __future__ import annotations

import math

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import nbformat
import numpy as np
import pytest
import scipy.linalg
from conftest import ROOT, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml.exercises import check, exercises_in
from physml.exercises.ch05 import (
    CASES_5_3,
    CASES_5_6,
    DT_STEP,
    FLOW_TIMES,
    H_MAX,
    H_MIN,
    H_STEP,
    KAPPAS_5_2,
    P_STEP,
    PERIODS_5_4,
    Q_STEP,
    VARIANTS_5_1,
    _variants_5_2,
    _variants_5_3,
    _variants_5_5,
    _variants_5_6,
    check_params,
    conserved_reference,
    draw_kepler_orbits,
    escape_limit,
    euler_energy_reference,
    final_energy_limit,
    flow_path,
    global_errors,
    kepler_run,
    kepler_state,
    leapfrog_reference,
    loss_and_gradient_norm,
    measured_order,
    modified_loss_reference,
    network_loss,
    optimal_momentum_reference,
    oscillator_exact,
    reversal_error,
    stays_bound,
    steps_for,
)
from physml.exercises.widgets import WidgetExercise
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "05_mechanics_of_learning.ipynb"
IDS = ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6"]

SOLUTIONS = reference_answers(NOTEBOOK)


def assert_distinct(values, rtol=1e-3):
    """Every pair of candidate answers differs by more than ``rtol`` (relative): each diagnosis
    is reachable."""
    values = [np.asarray(v, dtype=np.float64) for v in values]
    for i in range(len(values)):
        for j in range(i):
            gap = np.max(np.abs(values[i] - values[j]))
            assert gap > rtol * max(np.max(np.abs(values[i])), np.max(np.abs(values[j])), 1e-3), (i, j)


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("05_mechanics_of_learning")] == IDS
    assert sorted(SOLUTIONS) == IDS


# ---------------------------------------------------------------- exercise 5.1


def kepler_np(q):
    return -q / np.linalg.norm(q, axis=-1, keepdims=True) ** 3


def test_the_oscillator_solution_is_exact_and_leapfrog_is_second_order_and_reversible():
    t = np.linspace(0.0, 5.0, 11)
    q, p = oscillator_exact(t)
    assert q[0] == pytest.approx([1.0, 0.0]) and p[0] == pytest.approx([0.0, 2.0])
    assert 0.5 * np.sum(p**2, axis=1) + 2.0 * np.sum(q**2, axis=1) == pytest.approx(
        np.full(11, 4.0), rel=1e-14
    )
    # leapfrog on the oscillator is a rotation with cos(ω̃h) = 1 − ω²h²/2: the phase error is ≈ ω³h²t/24
    errors = global_errors(leapfrog_reference)
    assert measured_order(errors) == pytest.approx(2.0, abs=0.01)
    assert errors[0] == pytest.approx(8 * 0.1**2 * 5 / 24, rel=0.05)
    assert reversal_error(leapfrog_reference) < 1e-13
    # symplectic: the step's Jacobian on the (nonlinear) Kepler field has determinant 1
    step = lambda y: jnp.concatenate(
        leapfrog_reference(y[:2], y[2:], lambda q: -q / jnp.linalg.norm(q) ** 3, 0.3)
    )
    jacobian = jax.jacfwd(step)(jnp.concatenate([jnp.asarray(Q_STEP), jnp.asarray(P_STEP)]))
    assert float(jnp.linalg.det(jacobian)) == pytest.approx(1.0, abs=1e-13)


def test_the_known_wrong_steps_differ_from_leapfrog_and_from_each_other():
    steps = [leapfrog_reference] + [variant for variant, _ in VARIANTS_5_1.values()]
    values = [np.concatenate(s(Q_STEP, P_STEP, kepler_np, DT_STEP)) for s in steps]
    for i in range(len(values)):
        for j in range(i):
            assert np.max(np.abs(values[i] - values[j])) > 1e-3, (i, j)


def lf(q, p, force, dt):
    p = p + 0.5 * dt * force(q)
    q = q + dt * p
    return q, p + 0.5 * dt * force(q)


def euler(q, p, force, dt):
    return q + dt * p, p + dt * force(q)


def kick_drift(q, p, force, dt):
    p = p + dt * force(q)
    return q + dt * p, p


def drift_kick(q, p, force, dt):
    q = q + dt * p
    return q, p + dt * force(q)


def whole_kicks(q, p, force, dt):
    p = p + dt * force(q)
    q = q + dt * p
    return q, p + dt * force(q)


def no_second_kick(q, p, force, dt):
    p = p + 0.5 * dt * force(q)
    return q + dt * p, p


def no_first_kick(q, p, force, dt):
    q = q + dt * p
    return q, p + 0.5 * dt * force(q)


def old_force(q, p, force, dt):
    f = force(q)
    p = p + 0.5 * dt * f
    return q + dt * p, p + 0.5 * dt * f


def drift_with_old_momentum(q, p, force, dt):
    q_new = q + dt * p
    return q_new, p + 0.5 * dt * (force(q) + force(q_new))


def half_drift(q, p, force, dt):
    p = p + 0.5 * dt * force(q)
    q = q + 0.5 * dt * p
    return q, p + 0.5 * dt * force(q)


def gradient_sign(q, p, force, dt):
    p = p - 0.5 * dt * force(q)
    q = q + dt * p
    return q, p - 0.5 * dt * force(q)


def midpoint(q, p, force, dt):
    """Runge–Kutta's explicit midpoint rule: second order, not symmetric."""
    q_mid, p_mid = q + 0.5 * dt * p, p + 0.5 * dt * force(q)
    return q + dt * p_mid, p + dt * force(q_mid)


def yoshida(q, p, force, dt):
    """Three leapfrog steps composed into a fourth-order, symmetric method."""
    w1 = 1 / (2 - 2 ** (1 / 3))
    for w in (w1, 1 - 2 * w1, w1):
        q, p = lf(q, p, force, w * dt)
    return q, p


def indexing(q, p, force, dt):
    """Leapfrog written for one planar body only."""
    p = np.array([p[0], p[1]]) + 0.5 * dt * np.asarray(force(q))[:2]
    q = np.array([q[0] + dt * p[0], q[1] + dt * p[1]])
    return q, p + 0.5 * dt * np.asarray(force(q))


WRONG_5_1 = {
    "explicit Euler": (
        euler,
        "that is an explicit Euler step: both updates use the old (q, p). It is first order",
    ),
    "kick then drift": (kick_drift, "symplectic Euler (a whole kick, then the drift)"),
    "drift then kick": (drift_kick, "symplectic Euler (the drift with the old momentum, then a whole kick)"),
    "whole kicks": (whole_kicks, "both kicks use the whole dt"),
    "no second kick": (no_second_kick, "the second half kick is missing"),
    "no first kick": (no_first_kick, "the first half kick is missing"),
    "old force": (old_force, "the second half kick uses the force at the old position"),
    "old momentum": (drift_with_old_momentum, "the drift uses the momentum from before the first half kick"),
    "half drift": (half_drift, "the drift moves q by only (dt/2)·p"),
    "sign": (gradient_sign, "the force already carries its minus sign"),
    "midpoint": (midpoint, "second order (measured slope 2.0"),
    "yoshida": (yoshida, "and reversible, but not the leapfrog step"),
    "swapped": (lambda q, p, force, dt: lf(q, p, force, dt)[::-1], "return (q, p), in that order"),
    "stacked": (lambda q, p, force, dt: np.stack(lf(q, p, force, dt)), "return the pair (q, p) as a tuple"),
    "three values": (lambda q, p, force, dt: (*lf(q, p, force, dt), dt), "returned 3 values"),
    "one body only": (indexing, "has shape (2, 2); expected shape (3, 2)"),
    "diverges": (lambda q, p, force, dt: (q / 0.0, p), "returned inf — the step diverged"),
    "None": (lambda q, p, force, dt: None, "forget a `return`"),
    "raises": (lambda q, p, force, dt: 1 / 0, "raised ZeroDivisionError"),
    "not callable": ((Q_STEP, P_STEP), "expected a function"),
}


@pytest.mark.parametrize("name", sorted(WRONG_5_1))
def test_wrong_answers_to_5_1(name):
    assert_wrong("5.1", *WRONG_5_1[name])


def test_the_measured_slopes_quoted_for_euler_type_steps():
    # explicit Euler's error, e^{ω²ht/2} − 1, is first order but not yet asymptotic at dt = 0.1
    assert 1.0 < measured_order(global_errors(euler)) < 1.3
    assert measured_order(global_errors(kick_drift)) == pytest.approx(1.0, abs=0.1)
    assert abs(measured_order(global_errors(whole_kicks))) < 0.3  # inconsistent: the error stays O(1)
    assert measured_order(global_errors(yoshida)) == pytest.approx(4.0, abs=0.2)
    assert reversal_error(yoshida) < 1e-12 and reversal_error(midpoint) > 1e-2


def test_5_1_accepts_drift_kick_drift_float32_and_jax():
    def dkd(q, p, force, dt):
        q = q + 0.5 * dt * p
        p = p + dt * force(q)
        return q + 0.5 * dt * p, p

    assert "drift–kick–drift (position Verlet)" in check("5.1", dkd).message

    def single(q, p, force, dt):
        q, p = jnp.asarray(q, jnp.float32), jnp.asarray(p, jnp.float32)
        force32 = lambda x: jnp.asarray(force(x), jnp.float32)
        return lf(q, p, force32, jnp.float32(dt))

    result = check("5.1", single)
    assert result.passed, result.message
    assert check("5.1", SOLUTIONS["5.1"]).passed


# ---------------------------------------------------------------- exercise 5.2


def spectral_radius(eta, beta, mu, L):
    """The slowest contraction of the heavy ball over curvatures in [mu, L] (fine grid)."""
    lam = np.linspace(mu, L, 2001)
    b = 1 + beta - eta * lam
    disc = np.sqrt((b**2 - 4 * beta).astype(complex))
    return float(np.max(np.maximum(np.abs((b + disc) / 2), np.abs((b - disc) / 2))))


@pytest.mark.parametrize("kappa", [4.0, 100.0])
def test_the_optimal_momentum_minimizes_the_spectral_radius(kappa):
    mu, L = 1.0, kappa
    beta = float(optimal_momentum_reference(kappa))
    eta = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2
    best = spectral_radius(eta, beta, mu, L)
    assert best == pytest.approx(math.sqrt(beta), rel=1e-6)
    for d_eta, d_beta in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3), (1e-3, 1e-3), (-1e-3, -1e-3)]:
        assert spectral_radius(eta * (1 + d_eta), beta + d_beta, mu, L) > best
    assert float(optimal_momentum_reference(1 / kappa)) == pytest.approx(beta, rel=1e-14)  # κ ↔ 1/κ


def test_the_variants_of_5_2_are_told_apart_at_the_first_kappa():
    kappa = KAPPAS_5_2[0]
    assert_distinct([optimal_momentum_reference(kappa)] + [v for v, _ in _variants_5_2(kappa)])


def om(formula):
    return lambda kappa: formula(kappa)


WRONG_5_2 = {
    "rate": (
        om(lambda k: (math.sqrt(k) - 1) / (math.sqrt(k) + 1)),
        "so at a double root |z|² = β: square it",
    ),
    "GD rate": (om(lambda k: (k - 1) / (k + 1)), "the contraction of plain gradient descent"),
    "no square roots": (om(lambda k: ((k - 1) / (k + 1)) ** 2), "the square roots of κ are missing"),
    "inverted rate": (
        om(lambda k: (1 - math.sqrt(k)) / (1 + math.sqrt(k))),
        "κ inverted (μ/L instead of L/μ)",
    ),
    "inverted GD": (om(lambda k: (1 - k) / (1 + k)), "is inverted, and that is gradient descent's rate"),
    "asymptotic β": (om(lambda k: 1 - 4 / math.sqrt(k)), "the large-κ approximation of β*"),
    "asymptotic rate": (om(lambda k: 1 - 2 / math.sqrt(k)), "approximation of the contraction √β*"),
    "rule of thumb": (om(lambda k: 1 - 1 / math.sqrt(k)), "a rule of thumb"),
    "1 - 1/κ": (om(lambda k: 1 - 1 / k), "that is 1 − 1/κ"),
    "off": (om(lambda k: 0.5), "the optimal momentum is β* = 0.669421"),
    "tuple": (om(lambda k: (4.0, 0.5)), "return only the momentum β*"),
    "0/0 at κ = 1": (
        om(
            lambda k: (
                (np.float64(math.sqrt(k)) - 1) ** 3
                / ((math.sqrt(k) + 1) ** 2 * (np.float64(math.sqrt(k)) - 1))
            )
        ),
        "avoid dividing by √κ − 1",
    ),
    "float32 digits": (
        om(lambda k: float(np.float32(optimal_momentum_reference(k))) * (1 + 2e-6)),
        "only to float32 digits",
    ),
    "None": (om(lambda k: None), "forget a `return`"),
    "string": (om(lambda k: "0.67"), "not a string"),
}


@pytest.mark.parametrize("name", sorted(WRONG_5_2))
def test_wrong_answers_to_5_2(name):
    assert_wrong("5.2", *WRONG_5_2[name])


def test_5_2_accepts_float32_jax_and_the_mu_l_form():
    assert check(
        "5.2", lambda k: ((jnp.sqrt(jnp.float32(k)) - 1) / (jnp.sqrt(jnp.float32(k)) + 1)) ** 2
    ).passed
    assert check("5.2", lambda k: (1 - 2 / (1 + math.sqrt(k))) ** 2).passed
    assert KAPPAS_5_2[-1] == 1.0  # every variant vanishes there: it is checked last


# ---------------------------------------------------------------- exercise 5.3


def simulate(q0, p0, omega, h, n, dtype=np.float64):
    q, p = dtype(q0), dtype(p0)
    for _ in range(n):
        q, p = q + dtype(h) * p, p - dtype(h * omega**2) * q
    return dtype(0.5) * (p**2 + dtype(omega**2) * q**2)


@pytest.mark.parametrize("case", CASES_5_3)
def test_explicit_euler_multiplies_the_energy_by_one_plus_omega_h_squared(case):
    assert euler_energy_reference(*case) == pytest.approx(float(simulate(*case)), rel=1e-12)


def test_the_variants_of_5_3_are_told_apart_on_the_first_case():
    case = CASES_5_3[0]
    assert_distinct([euler_energy_reference(*case)] + [v for v, _ in _variants_5_3(*case)])


def ee(formula):
    return lambda q0, p0, omega, h, n: formula(0.5 * (p0**2 + omega**2 * q0**2), q0, p0, omega, h, n)


def symplectic_euler_energy(q0, p0, omega, h, n):
    q, p = q0, p0
    for _ in range(n):
        p = p - h * omega**2 * q
        q = q + h * p
    return 0.5 * (p**2 + omega**2 * q**2)


WRONG_5_3 = {
    "linear": (ee(lambda H, q, p, w, h, n: H * (1 + n * w**2 * h**2)), "linear growth"),
    "exponential": (ee(lambda H, q, p, w, h, n: H * math.exp(n * w**2 * h**2)), "the small-h approximation"),
    "conserved": (ee(lambda H, q, p, w, h, n: H), "the exact flow conserves H"),
    "symplectic Euler": (symplectic_euler_energy, "the energy after symplectic Euler steps"),
    "amplitude": (
        ee(lambda H, q, p, w, h, n: H * (1 + w**2 * h**2) ** (n / 2)),
        "the growth of the amplitude",
    ),
    "squared factor": (ee(lambda H, q, p, w, h, n: H * (1 + w**2 * h**2) ** (2 * n)), "not its square"),
    "one short": (ee(lambda H, q, p, w, h, n: H * (1 + w**2 * h**2) ** (n - 1)), "one step short"),
    "one too many": (ee(lambda H, q, p, w, h, n: H * (1 + w**2 * h**2) ** (n + 1)), "one factor too many"),
    "ω not squared": (ee(lambda H, q, p, w, h, n: H * (1 + w * h**2) ** n), "not 1 + ωh²"),
    "ωh": (ee(lambda H, q, p, w, h, n: H * (1 + w * h) ** n), "not 1 + ωh."),
    "no ω": (ee(lambda H, q, p, w, h, n: H * (1 + h**2) ** n), "ω is missing."),
    "half": (ee(lambda H, q, p, w, h, n: H * (1 + w**2 * h**2 / 2) ** n), "not 1 + ω²h²/2"),
    "losing": (ee(lambda H, q, p, w, h, n: H * (1 - w**2 * h**2) ** n), "explicit Euler adds energy"),
    "ratio": (ee(lambda H, q, p, w, h, n: (1 + w**2 * h**2) ** n), "that is the ratio H_n/H₀"),
    "no half": (ee(lambda H, q, p, w, h, n: 2 * H * (1 + w**2 * h**2) ** n), "has a ½"),
    "H0 without ω": (
        ee(lambda H, q, p, w, h, n: 0.5 * (p**2 + q**2) * (1 + w**2 * h**2) ** n),
        "ω is missing from the potential energy",
    ),
    "H0 with ω": (
        ee(lambda H, q, p, w, h, n: 0.5 * (p**2 + w * q**2) * (1 + w**2 * h**2) ** n),
        "ω² (not ω) multiplies q₀²",
    ),
    "nearly": (ee(lambda H, q, p, w, h, n: H * (1 + w**2 * h**2) ** n * (1 + 3e-4)), "within 0.1 %"),
    "off": (ee(lambda H, q, p, w, h, n: 1.0), "after 100 explicit Euler steps H = 6.78"),
    "tuple": (ee(lambda H, q, p, w, h, n: (H, n)), "return only the energy"),
    "None": (ee(lambda H, q, p, w, h, n: None), "forget a `return`"),
    "nan": (ee(lambda H, q, p, w, h, n: math.nan), "NaN"),
}


@pytest.mark.parametrize("name", sorted(WRONG_5_3))
def test_wrong_answers_to_5_3(name):
    assert_wrong("5.3", *WRONG_5_3[name])


def test_5_3_accepts_a_simulation_in_float64_and_in_float32():
    assert check("5.3", lambda q0, p0, omega, h, n: simulate(q0, p0, omega, h, n)).passed
    assert check("5.3", lambda q0, p0, omega, h, n: simulate(q0, p0, omega, h, n, np.float32)).passed


# ---------------------------------------------------------------- exercise 5.4

SLIDER = np.round(H_MIN + H_STEP * np.arange(round((H_MAX - H_MIN) / H_STEP) + 1), 3)


def test_the_euler_and_leapfrog_orbits_are_the_steps_written_out():
    q0, p0 = kepler_state(0.5)
    assert 0.5 * p0 @ p0 - 1 / np.linalg.norm(q0) == pytest.approx(-0.5, rel=1e-15)
    h = 0.05
    run, frog = kepler_run(h), kepler_run(h, "leapfrog")
    assert len(run.q) == steps_for(h) + 1 == math.ceil(6 * math.pi / h) + 1
    q, p = q0.copy(), p0.copy()
    for k in range(200):
        q, p = q + h * p, p + h * kepler_np(q)
        assert np.allclose(run.q[k + 1], q, rtol=1e-12, atol=1e-14)
    q, p = q0.copy(), p0.copy()
    for _ in range(200):
        q, p = lf(q, p, kepler_np, h)
    assert frog.q[200] == pytest.approx(q, rel=1e-12)
    assert np.max(np.abs(frog.energy + 0.5)) < 0.01  # leapfrog's energy error stays small
    assert run.energy[-1] > run.energy[0] + 0.1  # Euler's grows
    with pytest.raises(ValueError, match="h must lie in"):
        kepler_run(0.0)
    with pytest.raises(ValueError, match="method must be"):
        kepler_run(0.05, "rk4")


def test_the_bound_steps_form_one_interval_on_the_slider():
    limit = escape_limit()
    bound = np.array([stays_bound(float(h)) for h in SLIDER])
    assert bound[0] and not bound[-1]
    assert np.all(bound == (SLIDER < limit)), SLIDER[bound != (SLIDER < limit)]
    assert 0.1308 < limit < 0.1310 and round(limit, 4) == 0.1309  # the number the solution quotes
    assert round(2 * math.pi / limit) == 48
    assert stays_bound(limit * (1 - 1e-9)) and not stays_bound(limit * (1 + 1e-9))
    assert limit + 2 * H_STEP < final_energy_limit() < limit + 4 * H_STEP
    assert PERIODS_5_4 == 3


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (0.12, "stays bound (its energy reaches at most"),
        (0.05, "bound, but not the largest such step"),
        (0.14, "becomes unbound: E ≥ 0 first at t ="),
        (0.1335, "on the way it rose to E ="),
        (0.6, "becomes unbound: E ≥ 0 first at t = 4.20"),
        (48, "a number of steps?"),
        (0.0, "not a time step"),
        (-0.13, "not a time step"),
        ("0.13", "not a string"),
        (np.array([0.13, 0.13]), "shape (2,)"),
        (True, "bool"),
        (math.nan, "NaN"),
    ],
)
def test_wrong_answers_to_5_4(answer, phrase):
    assert_wrong("5.4", answer, phrase)


@pytest.mark.parametrize("answer", [0.129, 0.13, 0.131, 0.132, np.float32(0.1309), np.array(0.13)])
def test_answers_to_5_4_within_tolerance(answer):
    assert check("5.4", answer).passed


def test_an_answer_just_above_the_limit_passes_with_a_note():
    assert "just above h*, the orbit reaches E = 0 at t =" in check("5.4", 0.132).message
    assert "just above" not in check("5.4", 0.13).message


def test_draw_kepler_orbits_returns_a_deterministic_figure():
    fig = draw_kepler_orbits(0.05)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "Euler stays bound" in fig.get_suptitle()
    assert "Euler escapes" in draw_kepler_orbits(0.15).get_suptitle()
    assert png_bytes(fig) == png_bytes(draw_kepler_orbits(0.05))
    assert fig.axes[1].lines[0].get_ydata() == pytest.approx(kepler_run(0.05).energy)
    for bad in (0.0, 0.001, 0.6, math.inf, math.nan):
        with pytest.raises(ValueError, match="h must lie in"):
            draw_kepler_orbits(bad)


def test_the_widget_checks_the_step_on_its_slider_and_has_a_static_image():
    slider = widgets.FloatSlider(value=0.05, min=H_MIN, max=H_MAX, step=H_STEP, description="h")
    widget = WidgetExercise("5.4", controls={"h": slider}, draw=draw_kepler_orbits, answer="h")
    bundle = widget._repr_mimebundle_()
    assert bundle["image/png"] and "static view at h = 0.05" in bundle["text/plain"]
    assert "bound, but not the largest" in widget.check().message
    widget.set(h=0.13)
    assert widget.check().passed
    assert "h_max = 0.13" in widget.feedback.value


# ---------------------------------------------------------------- exercise 5.5


def rescaled(params, unit, c):
    new = {k: np.array(v) for k, v in params.items()}
    new["W1"][unit] *= c
    new["b1"][unit] *= c
    new["W2"][:, unit] /= c
    return new


def test_the_rescaling_is_a_symmetry_and_q_is_conserved_along_the_flow():
    params = flow_path()[0]
    loss = float(network_loss(params))
    for unit, c in ((0, 2.0), (3, 0.3)):
        assert float(network_loss(rescaled(params, unit, c))) == pytest.approx(loss, rel=1e-13)
    charges = np.array([conserved_reference(*(p[k] for k in ("W1", "b1", "W2", "b2"))) for p in flow_path()])
    assert np.max(np.abs(charges - charges[0])) < 1e-7
    assert float(network_loss(flow_path()[-1])) < 0.3 * loss  # the flow goes somewhere
    no_bias = np.array([np.sum(p["W1"] ** 2, 1) - np.sum(p["W2"] ** 2, 0) for p in flow_path()])
    assert np.max(np.abs(no_bias - no_bias[0])) > 0.01  # the diagnosis of a forgotten bias has teeth
    assert len(FLOW_TIMES) == len(flow_path())


def test_a_gradient_descent_step_changes_q_by_exactly_eta_squared_times_the_gradient_norms():
    params = {k: jnp.asarray(v) for k, v in check_params().items()}
    grads = jax.grad(network_loss)(params)
    eta = 0.1
    stepped = {k: params[k] - eta * grads[k] for k in params}
    charge = lambda p: conserved_reference(p["W1"], p["b1"], p["W2"], p["b2"])
    predicted = eta**2 * (
        np.sum(np.asarray(grads["W1"]) ** 2, 1)
        + np.asarray(grads["b1"]) ** 2
        - np.sum(np.asarray(grads["W2"]) ** 2, 0)
    )
    assert charge(stepped) - charge(params) == pytest.approx(predicted, rel=1e-9, abs=1e-15)


def test_the_variants_of_5_5_are_told_apart():
    params = check_params()
    reference = conserved_reference(*(params[k] for k in ("W1", "b1", "W2", "b2")))
    assert_distinct([reference] + [v for v, _, _ in _variants_5_5(params)])


def q_ref(W1, b1, W2, b2):
    return np.sum(W1**2, 1) + b1**2 - np.sum(W2**2, 0)


WRONG_5_5 = {
    "no bias": (
        lambda W1, b1, W2, b2: np.sum(W1**2, 1) - np.sum(W2**2, 0),
        "b₁[j]² belongs with the incoming",
    ),
    "sum": (lambda W1, b1, W2, b2: np.sum(q_ref(W1, b1, W2, b2)), "it is only the sum"),
    "sign": (lambda W1, b1, W2, b2: -q_ref(W1, b1, W2, b2), "with the opposite sign"),
    "sign and no bias": (lambda W1, b1, W2, b2: np.sum(W2**2, 0) - np.sum(W1**2, 1), "the sign is reversed"),
    "half": (lambda W1, b1, W2, b2: 0.5 * q_ref(W1, b1, W2, b2), "but half of Q_j"),
    "twice": (lambda W1, b1, W2, b2: 2 * q_ref(W1, b1, W2, b2), "but twice Q_j"),
    "output bias": (lambda W1, b1, W2, b2: q_ref(W1, b1, W2, b2) - np.sum(b2**2), "‖b₂‖² takes no part"),
    "norms": (
        lambda W1, b1, W2, b2: np.sqrt(np.sum(W1**2, 1) + b1**2) - np.sqrt(np.sum(W2**2, 0)),
        "a difference of norms, not of squared norms",
    ),
    "ratio": (
        lambda W1, b1, W2, b2: (np.sum(W1**2, 1) + b1**2) / np.sum(W2**2, 0),
        "a ratio of squared norms is not conserved",
    ),
    "ratio of norms": (
        lambda W1, b1, W2, b2: np.sqrt((np.sum(W1**2, 1) + b1**2) / np.sum(W2**2, 0)),
        "a ratio of norms is not conserved",
    ),
    "product": (
        lambda W1, b1, W2, b2: np.sqrt((np.sum(W1**2, 1) + b1**2) * np.sum(W2**2, 0)),
        "invariant under the rescaling — the symmetry leaves it alone — but gradient flow does not "
        "conserve it",
    ),
    "product of squares": (
        lambda W1, b1, W2, b2: (np.sum(W1**2, 1) + b1**2) * np.sum(W2**2, 0),
        "the product of squared norms is invariant",
    ),
    "plus": (lambda W1, b1, W2, b2: np.sum(W1**2, 1) + b1**2 + np.sum(W2**2, 0), "a sum of squared norms"),
    "columns of W1": (lambda W1, b1, W2, b2: np.sum(W1**2, 0), "expected (5,), one value per hidden unit"),
    "rows of W2": (lambda W1, b1, W2, b2: np.sum(W2**2, 1), "W2[:, j] (a column)"),
    "squares of b1 only": (lambda W1, b1, W2, b2: b1**2, "not conserved: along a gradient flow"),
    "conserved but different": (
        lambda W1, b1, W2, b2: q_ref(W1, b1, W2, b2) ** 3,
        "conserved along the flow, but not Q_j",
    ),
    "float32 digits": (
        lambda W1, b1, W2, b2: q_ref(W1, b1, W2, b2).astype(np.float32).astype(np.float64) * (1 + 3e-6),
        "only to float32 digits",
    ),
    "one number": (lambda W1, b1, W2, b2: 1.0, "return one value per hidden unit"),
    "tuple": (lambda W1, b1, W2, b2: (q_ref(W1, b1, W2, b2), 0), "return one array of shape (5,)"),
    "None": (lambda W1, b1, W2, b2: None, "forget a `return`"),
    "raises": (lambda W1, b1, W2, b2: W1[10], "raised IndexError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_5_5))
def test_wrong_answers_to_5_5(name):
    assert_wrong("5.5", *WRONG_5_5[name])


def test_5_5_accepts_float32_and_jax():
    assert check("5.5", lambda W1, b1, W2, b2: q_ref(W1, b1, W2, b2).astype(np.float32)).passed
    assert check("5.5", SOLUTIONS["5.5"]).passed


# ---------------------------------------------------------------- exercise 5.6

A_5_6 = np.array([[3.0, 1.0], [1.0, 2.0]])


def test_one_gd_step_follows_the_flow_of_the_modified_loss_to_third_order():
    """On L = ½θᵀAθ the flow of L̃ = L + (η/4)‖∇L‖² = ½θᵀ(A + ηA²/2)θ over a time η is
    exp(−η(A + ηA²/2))θ, exactly; one GD step is (1 − ηA)θ."""
    theta = np.array([1.0, -0.5])
    loss = lambda th: 0.5 * th @ (jnp.asarray(A_5_6) @ th)
    errors_modified, errors_plain = [], []
    for eta in (0.02, 0.01):
        gd = theta - eta * A_5_6 @ theta
        errors_modified.append(
            np.linalg.norm(gd - scipy.linalg.expm(-eta * (A_5_6 + eta * A_5_6 @ A_5_6 / 2)) @ theta)
        )
        errors_plain.append(np.linalg.norm(gd - scipy.linalg.expm(-eta * A_5_6) @ theta))
    hessian = jax.jit(jax.hessian(modified_loss_reference(loss, 0.02)))(jnp.asarray(theta))
    assert np.asarray(hessian) == pytest.approx(A_5_6 + 0.02 * A_5_6 @ A_5_6 / 2, rel=1e-12)
    assert math.log2(errors_modified[0] / errors_modified[1]) == pytest.approx(3.0, abs=0.05)
    assert math.log2(errors_plain[0] / errors_plain[1]) == pytest.approx(2.0, abs=0.05)


def test_the_variants_of_5_6_are_told_apart_on_every_case():
    for case in CASES_5_6:
        value, gnorm = loss_and_gradient_norm(case.loss, case.theta)
        assert gnorm > 0.1  # not a critical point, where every variant agrees
        candidates = [value + case.eta / 4 * gnorm] + [v for v, _ in _variants_5_6(value, gnorm, case.eta)]
        assert_distinct(candidates)


def ml(correction):
    def modified_loss(loss, eta):
        grad = jax.grad(loss)
        return lambda theta: correction(loss(theta), jnp.sum(grad(theta) ** 2), eta)

    return modified_loss


WRONG_5_6 = {
    "η/2": (ml(lambda L, G, eta: L + eta / 2 * G), "the 2 halves the coefficient"),
    "sign": (ml(lambda L, G, eta: L - eta / 4 * G), "the sign of the correction is flipped"),
    "η": (ml(lambda L, G, eta: L + eta * G), "the coefficient is η/4, not η."),
    "sign and η/2": (ml(lambda L, G, eta: L - eta / 2 * G), "both the sign and the factor are off"),
    "norm": (ml(lambda L, G, eta: L + eta / 4 * jnp.sqrt(G)), "enters squared"),
    "correction only": (ml(lambda L, G, eta: eta / 4 * G), "that is only the correction"),
    "η²": (ml(lambda L, G, eta: L + eta**2 / 4 * G), "the correction is first order in η"),
    "no η": (ml(lambda L, G, eta: L + G / 4), "η is missing"),
    "L": (ml(lambda L, G, eta: L), "that is L itself"),
    "global eta": (
        ml(lambda L, G, eta: L + 0.3 / 4 * G),
        "reads as L + c‖∇L‖² with c = 0.075, where η/4 = 0.025",
    ),
    "float32 digits": (ml(lambda L, G, eta: (L + eta / 4 * G) * (1 + 3e-6)), "only to float32 digits"),
    "a number": (lambda loss, eta: 1.0, "return a function of theta"),
    "None function": (lambda loss, eta: lambda theta: None, "forget a `return`"),
    "vector": (lambda loss, eta: lambda theta: jnp.zeros(3), "expected one number"),
    "raises": (
        lambda loss, eta: lambda theta: 1 / 0,
        "the function modified_loss returned raised ZeroDivisionError",
    ),
    "wrong arity": (lambda loss: loss, "raised TypeError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_5_6))
def test_wrong_answers_to_5_6(name):
    assert_wrong("5.6", *WRONG_5_6[name])


def test_5_6_accepts_float32_and_a_hand_written_gradient_norm():
    def float32(loss, eta):
        grad = jax.grad(loss)
        return lambda theta: jnp.float32(loss(theta) + eta / 4 * jnp.sum(grad(theta) ** 2))

    assert check("5.6", float32).passed

    def by_vjp(loss, eta):
        def modified(theta):
            value, pullback = jax.vjp(loss, jnp.asarray(theta))
            (g,) = pullback(jnp.ones_like(value))
            return value + eta / 4 * jnp.dot(g, g)

        return modified

    assert check("5.6", by_vjp).passed


# ---------------------------------------------------------------- the notebook


def test_the_solutions_quote_the_numbers_the_checkers_compute():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = {
        c.metadata["physml"]["exercise"]: c.source
        for c in nb.cells
        if c.metadata.get("physml", {}).get("role") == "solution"
    }
    assert set(cells) == set(IDS)
    limit = escape_limit()
    assert f"h^* = {limit:.4f}" in cells["5.4"] and "48 steps" in cells["5.4"]
    assert SOLUTIONS["5.4"] == pytest.approx(0.130, abs=1e-9)
    assert not stays_bound(0.131) and stays_bound(0.130)  # the solution's "a little above, the planet leaves"
    assert SOLUTIONS["5.2"](100.0) == pytest.approx((9 / 11) ** 2)
    assert SOLUTIONS["5.3"](*CASES_5_3[0]) == pytest.approx(euler_energy_reference(*CASES_5_3[0]), rel=1e-14)
    assert np.max(np.abs(kepler_run(limit, "leapfrog").energy + 0.5)) == pytest.approx(0.02, abs=0.002)
