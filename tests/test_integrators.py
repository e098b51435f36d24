"""physml.integrators against exact results: the oscillator's exact flow and exact one-step
maps, measured orders of convergence, exact invariants (shadow energy, angular momentum,
phase-space area), time reversibility, and the Kepler problem's exact orbit invariants."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physml import integrators as it

EPS = np.finfo(np.float64).eps

OMEGA = 1.3
OSC = it.harmonic_oscillator(OMEGA)
PENDULUM = it.pendulum()
KEPLER = it.kepler()

# Built once, so that every test reuses the compiled runs.
METHODS = {
    "euler": it.euler(OSC),
    "symplectic_euler": it.symplectic_euler(OSC),
    "symplectic_euler_drift_kick": it.symplectic_euler(OSC, order="drift-kick"),
    "leapfrog": it.leapfrog(OSC),
    "rk4": it.rk4(OSC),
}
ORDER = {"euler": 1, "symplectic_euler": 1, "symplectic_euler_drift_kick": 1, "leapfrog": 2, "rk4": 4}
PENDULUM_METHODS = {
    "euler": it.euler(PENDULUM),
    "symplectic_euler": it.symplectic_euler(PENDULUM),
    "leapfrog": it.leapfrog(PENDULUM),
    "rk4": it.rk4(PENDULUM),
}
KEPLER_METHODS = {
    "euler": it.euler(KEPLER),
    "symplectic_euler": it.symplectic_euler(KEPLER),
    "leapfrog": it.leapfrog(KEPLER),
    "rk4": it.rk4(KEPLER),
}
kepler_energy = lambda s: it.energy(KEPLER, s)


def oscillator_exact(q0, p0, t, omega=OMEGA):
    """The exact flow of H = p²/2 + ω²q²/2: a rotation of (ωq, p)."""
    c, s = np.cos(omega * t), np.sin(omega * t)
    return q0 * c + p0 / omega * s, p0 * c - omega * q0 * s


# ------------------------------------------------------------------ orders of convergence


@pytest.mark.parametrize("name", list(METHODS))
def test_measured_order_of_convergence_on_the_oscillator(name):
    """Global error at a fixed time T against the exact rotation, for h = T/64 ... T/1024:
    the log-log slope is the method's order (1, 1, 2, 4). The next term of the error is one
    power of h higher, so over this range the slope is within 0.05 of the order (measured:
    1.03, 1.01, 0.99, 2.000, 3.999)."""
    integrator, T = METHODS[name], 4.0
    q0, p0 = jnp.array([1.0]), jnp.array([0.5])
    ns = np.array([64, 128, 256, 512, 1024])
    q_exact, p_exact = oscillator_exact(1.0, 0.5, T)
    errors = []
    for n in ns:
        end = it.run(integrator, integrator.init(q0, p0), int(n), T / n, every=int(n))
        assert end.q.shape == (2, 1) and float(end.t[-1]) == pytest.approx(T, rel=1e-14)
        errors.append(math.hypot(float(end.q[-1, 0]) - q_exact, float(end.p[-1, 0]) - p_exact))
    slope = np.polyfit(np.log(T / ns), np.log(errors), 1)[0]
    assert slope == pytest.approx(ORDER[name], abs=0.05), (slope, errors)


def test_rk4_takes_a_time_dependent_vector_field():
    """q' = p, p' = cos t from rest: p = sin t, q = 1 - cos t. RK4 integrates the forcing
    exactly as Simpson's rule does, fourth order (slope within 0.05 of 4)."""
    integrator = it.rk4(lambda t, q, p: (p, jnp.cos(t) * jnp.ones_like(p)))
    T, ns = 3.0, np.array([8, 16, 32, 64])
    errors = []
    for n in ns:
        end = it.run(integrator, integrator.init(jnp.zeros(1), jnp.zeros(1)), int(n), T / n, every=int(n))
        errors.append(abs(float(end.q[-1, 0]) - (1 - np.cos(T))) + abs(float(end.p[-1, 0]) - np.sin(T)))
    assert np.polyfit(np.log(T / ns), np.log(errors), 1)[0] == pytest.approx(4.0, abs=0.05), errors


# ------------------------------------------------------------- exact one-step energy maps


@pytest.mark.parametrize("h", [0.01, 0.1, 0.5, 1.2])
def test_energy_factor_per_step_on_the_oscillator_is_exact(h):
    """Euler multiplies the energy by exactly 1 + (ωh)² a step, RK4 by exactly
    |R(iωh)|² = 1 - (ωh)⁶/72 + (ωh)⁸/576, whatever the state."""
    x = OMEGA * h
    state = it.State(jnp.array([0.7, -0.2]), jnp.array([0.1, 0.9]), jnp.zeros(()))
    E0 = float(it.energy(OSC, state))
    euler = float(it.energy(OSC, jax.jit(METHODS["euler"].step)(state, h)))
    rk4 = float(it.energy(OSC, jax.jit(METHODS["rk4"].step)(state, h)))
    assert euler / E0 == pytest.approx(1 + x**2, rel=8 * EPS)
    assert rk4 / E0 - 1 == pytest.approx(-(x**6) / 72 + x**8 / 576, abs=8 * EPS)


def test_leapfrog_conserves_the_shadow_energy_to_rounding_over_1e5_steps():
    """H̃ = p²/2 + (ω²/2)(1 - (ωh/2)²) q² is an exact invariant of the kick-drift-kick map: over
    10⁵ steps it moves only by rounding (bounded by one relative eps a step, n eps; measured
    3e-14), while H itself swings by up to (ωh/2)²/(1 - (ωh/2)²) of H̃ (exact bound, reached
    at the turning points) and does not drift."""
    h, n = 0.1, 100_000
    lf = METHODS["leapfrog"]
    path = it.run(lf, lf.init(jnp.array([1.0]), jnp.array([0.5])), n, h)
    shadow = np.asarray(it.leapfrog_shadow_energy(path, OMEGA, h))
    assert shadow.shape == (n + 1,)
    assert np.max(np.abs(shadow - shadow[0])) <= n * EPS * shadow[0]
    H = np.asarray(it.energy(OSC, path))
    c = (OMEGA * h / 2) ** 2
    assert np.all(H >= shadow * (1 - 4 * EPS)) and np.all(H <= shadow / (1 - c) * (1 + 4 * EPS))
    swing = (H.max() - H.min()) / shadow[0]
    assert 0.99 * c / (1 - c) <= swing <= c / (1 - c) * (1 + 1e-12)
    # The plain energy is *not* conserved: a test that could not tell H from H̃ would pass here too.
    assert np.max(np.abs(H - H[0])) > 1e6 * np.max(np.abs(shadow - shadow[0]))


def test_leapfrog_energy_error_on_the_pendulum_does_not_drift_over_1e5_steps():
    """No exact shadow energy is known for the pendulum, but a modified Hamiltonian H + O(h²)
    is conserved for exponentially long times: the largest energy error in the last tenth of
    10⁵ steps (some 1600 swings) equals that in the first tenth (measured: to 1e-8 relative;
    we allow 1 %), while RK4's grows tenfold (linear drift) and Euler's keeps growing."""
    n, h = 100_000, 0.1
    first_last = {}
    for name, integrator in PENDULUM_METHODS.items():
        start = integrator.init(jnp.array([2.0]), jnp.array([0.0]))
        E = np.asarray(it.energy(PENDULUM, it.run(integrator, start, n, h)))
        err = np.abs(E - E[0])
        first_last[name] = (err[: n // 10].max(), err[-n // 10 :].max())
    for name in ("leapfrog", "symplectic_euler"):
        first, last = first_last[name]
        assert last == pytest.approx(first, rel=0.01), (name, first, last)
    assert first_last["leapfrog"][0] < 0.01  # O(h²) with h = 0.1
    first, last = first_last["rk4"]
    assert 8 < last / first < 12, (first, last)  # linear: ~10× from t = T/10 to t = T
    assert first_last["euler"][1] > 3 * first_last["euler"][0]  # measured: 6.8×


# ------------------------------------------------------------------ phase-space geometry


phase_point = st.tuples(*[st.floats(-2, 2)] * 4)
step_size = st.floats(0.001, 0.5)


@settings(max_examples=50)
@given(point=phase_point, h=step_size)
def test_euler_inflates_phase_space_area_by_exactly_one_plus_h2_omega2(point, h):
    state = it.State(jnp.array(point[:2]), jnp.array(point[2:]), jnp.zeros(()))
    det = float(it.jacobian_determinant(METHODS["euler"], state, h))
    # Two degrees of freedom: det = (1 + h²ω²)²; 1 + h²ω² per degree of freedom.
    assert det == pytest.approx((1 + (h * OMEGA) ** 2) ** 2, rel=16 * EPS)


def kepler_state(point):
    """A phase-space point of the Kepler problem at a distance from the origin in [0.5, 2]."""
    angle, r, px, py = point
    return it.State(jnp.array([np.cos(angle), np.sin(angle)]) * (1.25 + 0.375 * r), jnp.array([px, py]), 0.0)


@settings(max_examples=50)
@given(point=phase_point, h=step_size)
@pytest.mark.parametrize("name", ["symplectic_euler", "leapfrog"])
def test_symplectic_methods_preserve_area_and_the_symplectic_form_on_kepler(name, point, h):
    """det J = 1 and JᵀΩJ = Ω to rounding at any state and step. With s the largest entry of J
    (at most ~60 here), det J is a sum of 24 products of four entries, so we allow 24 s⁴ eps;
    an entry of JᵀΩJ is a sum of 4 products of two, so 16 s² eps (measured: 2 s⁴ eps and
    1.8 s² eps at worst over 300 random points)."""
    integrator, state = KEPLER_METHODS[name], kepler_state(point)
    J = np.asarray(it.step_jacobian(integrator, state, h))
    assert J.shape == (4, 4)
    s = max(1.0, np.abs(J).max())
    assert float(it.jacobian_determinant(integrator, state, h)) == pytest.approx(1.0, abs=24 * EPS * s**4)
    assert float(it.symplecticity_residual(integrator, state, h)) <= 16 * EPS * s**2


@pytest.mark.parametrize("h", [0.05, 0.2])
def test_non_symplectic_methods_break_the_symplectic_form_by_the_predicted_amount(h):
    """On the oscillator with one degree of freedom JᵀΩJ = det(J) Ω: the residual is exactly
    (ωh)² for Euler and (ωh)⁶/72 - (ωh)⁸/576 for RK4."""
    state = it.State(jnp.array([0.3]), jnp.array([-1.1]), jnp.zeros(()))
    x = OMEGA * h
    euler = float(it.symplecticity_residual(METHODS["euler"], state, h))
    rk4 = float(it.symplecticity_residual(METHODS["rk4"], state, h))
    assert euler == pytest.approx(x**2, rel=1e-13)
    assert rk4 == pytest.approx(x**6 / 72 - x**8 / 576, rel=1e-8)  # cancellation in 1 - |R|²
    lf = float(it.symplecticity_residual(METHODS["leapfrog"], state, h))
    assert lf <= 4 * EPS


# ------------------------------------------------------------------------ reversibility


@settings(max_examples=50)
@given(point=phase_point, h=step_size)
def test_a_leapfrog_step_of_minus_h_undoes_a_step_of_h(point, h):
    """Leapfrog is symmetric: Φ₋ₕ ∘ Φₕ = id, to rounding (a few eps of the largest entry)."""
    step = jax.jit(KEPLER_METHODS["leapfrog"].step)
    state = kepler_state(point)
    back = step(step(state, h), -h)
    scale = float(jnp.max(jnp.abs(jnp.concatenate([state.q, state.p, step(state, h).p]))))
    assert np.allclose(back.q, state.q, rtol=0, atol=16 * EPS * scale)
    assert np.allclose(back.p, state.p, rtol=0, atol=16 * EPS * scale)
    assert abs(float(back.t)) <= 4 * EPS * h


def test_leapfrog_retraces_its_path_when_the_momenta_are_flipped():
    """Run 2000 steps (two Kepler orbits at e = 0.5), flip p, run 2000 more, flip p: back at
    the start to rounding: a handful of roundings of O(1) numbers a step, added up at most
    linearly on this integrable orbit; we allow 10 n eps (measured: 1.5 n eps). Euler does not
    come back."""
    e, n = 0.5, 2000
    orbit, start = it.kepler_orbit(e), it.kepler_initial_state(e)
    h = 2 * orbit.period / n
    flip = lambda s: it.State(s.q, -s.p, s.t)
    for name in ("leapfrog", "euler"):
        integrator = KEPLER_METHODS[name]
        out = it.run(integrator, start, n, h, every=n)
        end = it.State(out.q[-1], out.p[-1], out.t[-1])
        back = it.run(integrator, flip(end), n, h, every=n)
        error = float(jnp.max(jnp.abs(back.q[-1] - start.q)) + jnp.max(jnp.abs(-back.p[-1] - start.p)))
        if name == "leapfrog":
            assert error <= 10 * n * EPS, error
        else:
            assert error > 1e-2, error


# ------------------------------------------------------------------------------- Kepler


@given(e=st.floats(0, 0.99), a=st.floats(0.1, 10))
def test_kepler_initial_state_has_the_exact_invariants(e, a):
    state = it.kepler_initial_state(e, a)
    orbit = it.kepler_orbit(e, a)
    assert float(it.energy(KEPLER, state)) == pytest.approx(-1 / (2 * a), rel=16 * EPS / (1 - e))
    assert float(it.angular_momentum(state)) == pytest.approx(math.sqrt(a * (1 - e * e)), rel=4 * EPS)
    assert orbit.period == pytest.approx(2 * math.pi * a**1.5, rel=4 * EPS)
    assert (orbit.energy, orbit.angular_momentum) == pytest.approx((-1 / (2 * a), math.sqrt(a * (1 - e * e))))
    assert orbit.perihelion + orbit.aphelion == pytest.approx(2 * a, rel=4 * EPS)
    assert float(state.q[0]) == pytest.approx(orbit.perihelion, rel=4 * EPS) and float(state.q[1]) == 0.0


def test_kepler_half_period_reaches_aphelion():
    """After half of Kepler's period P = 2π a^{3/2} the body is at aphelion (-a(1+e), 0) with
    momentum (0, -ℓ/r_a). RK4 with 2000 steps a period is accurate to 1.1e-9 here (fourth order:
    the error at 1000 steps is 16 times larger, which we check too)."""
    e, a = 0.5, 1.7
    orbit, start = it.kepler_orbit(e, a), it.kepler_initial_state(e, a)
    target = np.array([-orbit.aphelion, 0.0, 0.0, -orbit.angular_momentum / orbit.aphelion])
    errors = []
    for n in (1000, 2000):
        out = it.run(KEPLER_METHODS["rk4"], start, n // 2, orbit.period / n, every=n // 2)
        errors.append(np.max(np.abs(np.concatenate([out.q[-1], out.p[-1]]) - target)))
    assert errors[1] < 1e-8
    assert errors[0] / errors[1] == pytest.approx(16, rel=0.1)


def test_leapfrog_conserves_angular_momentum_on_kepler_to_1e_12():
    """A kick changes p along q and a drift changes q along p: q × p is exactly conserved,
    so only rounding moves it (measured 3e-14 relative after 10⁵ steps at e = 0.9)."""
    e, per_period, periods = 0.9, 1000, 100
    orbit = it.kepler_orbit(e)
    L = it.run(
        KEPLER_METHODS["leapfrog"],
        it.kepler_initial_state(e),
        per_period * periods,
        orbit.period / per_period,
        observe=it.angular_momentum,
    )
    assert L.shape == (per_period * periods + 1,)
    assert np.max(np.abs(np.asarray(L) - orbit.angular_momentum)) <= 1e-12 * orbit.angular_momentum


def test_euler_pumps_energy_into_the_kepler_orbit_until_it_is_unbound():
    """Euler changes the energy by (h²/2)(|∇V|² + pᵀ∇²V p) + O(h³) a step, which is positive on
    a circular orbit (p ⊥ q: pᵀ∇²V p = |p|²/r³): from e = 0 with 40 steps a period the energy
    rises at every one of 2400 steps, from -1/2 to above -0.1. With 50 steps a period from
    e = 0.5, the first perihelion passage unbinds the planet (E > 0 within 5 steps) and it
    escapes. Leapfrog with that step stays bound, its energy error bounded (no drift from the
    first to the last tenth of the run) and below 10 % (measured 4.5 %)."""
    per_period, periods = 40, 60
    orbit = it.kepler_orbit(0.0)
    E = np.asarray(
        it.run(
            KEPLER_METHODS["euler"],
            it.kepler_initial_state(0.0),
            per_period * periods,
            orbit.period / per_period,
            observe=kepler_energy,
        )
    )
    assert np.all(np.diff(E) > 0) and E[-1] > -0.1, E[::per_period]

    e, per_period, periods = 0.5, 50, 30
    orbit, start = it.kepler_orbit(e), it.kepler_initial_state(e)
    h, n = orbit.period / per_period, per_period * periods
    path = it.run(KEPLER_METHODS["euler"], start, n, h)
    E = np.asarray(it.energy(KEPLER, path))
    assert np.all(E[5:] > 0), E[:10]
    assert float(jnp.linalg.norm(path.q[-1])) > 10 * orbit.aphelion
    E = np.asarray(it.run(KEPLER_METHODS["leapfrog"], start, n, h, observe=kepler_energy))
    error = np.abs(E - orbit.energy) / abs(orbit.energy)
    assert error.max() < 0.1
    assert error[-n // 10 :].max() == pytest.approx(error[: n // 10].max(), rel=0.05)


def test_rk4_energy_drifts_linearly_on_an_eccentric_orbit():
    """e = 0.9, 1000 RK4 steps a period, 100 periods. Each perihelion passage removes about the
    same energy, so the error read at aphelion grows linearly with the number of orbits: a
    straight-line fit leaves residuals below 2 % of the final error (measured 0.8 %), the
    slope is negative (RK4 loses energy), and the error after 100 orbits is within 25 % of
    100 times that after the first (measured 83: the loss per passage changes a little as the
    orbit does). Leapfrog at the same cost (4000 steps a period) does not drift: its error at
    aphelion is the same after 100 orbits as after one, and already below RK4's."""
    e, per_period, periods = 0.9, 1000, 100
    orbit, start = it.kepler_orbit(e), it.kepler_initial_state(e)
    E = np.asarray(
        it.run(
            KEPLER_METHODS["rk4"],
            start,
            per_period * periods,
            orbit.period / per_period,
            every=per_period // 2,
            observe=kepler_energy,
        )
    )
    at_aphelion = E[1::2] - orbit.energy
    k = np.arange(periods) + 0.5
    slope, intercept = np.polyfit(k, at_aphelion, 1)
    assert slope < 0
    assert np.max(np.abs(at_aphelion - (slope * k + intercept))) < 0.02 * abs(at_aphelion[-1])
    assert at_aphelion[-1] / at_aphelion[0] == pytest.approx(periods, rel=0.25)
    lf = np.asarray(
        it.run(
            KEPLER_METHODS["leapfrog"],
            start,
            4 * per_period * periods,
            orbit.period / (4 * per_period),
            every=2 * per_period,
            observe=kepler_energy,
        )
    )
    lf = lf[1::2] - orbit.energy
    assert lf[-1] == pytest.approx(lf[0], rel=1e-4)  # no drift (measured: 2e-6)
    assert np.max(np.abs(lf)) < abs(at_aphelion[-1]) / 4


# --------------------------------------------------------------------------- the runner


def test_run_records_every_kth_state_and_observations():
    lf = KEPLER_METHODS["leapfrog"]
    start = it.kepler_initial_state(0.3)
    full = it.run(lf, start, 60, 0.05)
    thin = it.run(lf, start, 60, 0.05, every=20)
    assert full.q.shape == (61, 2) and full.p.shape == (61, 2) and full.t.shape == (61,)
    assert thin.q.shape == (4, 2)
    np.testing.assert_allclose(thin.q, full.q[::20], rtol=0, atol=4 * EPS)
    np.testing.assert_allclose(thin.p, full.p[::20], rtol=0, atol=4 * EPS)
    np.testing.assert_allclose(full.t, 0.05 * np.arange(61), rtol=1e-14)
    energies = it.run(lf, start, 60, 0.05, observe=kepler_energy)
    np.testing.assert_allclose(energies, it.energy(KEPLER, full), rtol=1e-15)


def test_float32_stays_float32():
    lf = it.leapfrog(OSC)
    start = lf.init(jnp.array([1.0], jnp.float32), jnp.array([0.0], jnp.float32))
    path = it.run(lf, start, 10, 0.1)
    assert path.q.dtype == path.p.dtype == path.t.dtype == jnp.float32


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs_raise_clear_errors():
    lf = METHODS["leapfrog"]
    start = lf.init(jnp.array([1.0]), jnp.array([0.0]))
    for dt in (0.0, -0.1, float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ValueError, match="dt"):
            it.run(lf, start, 10, dt)
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n_steps"):
            it.run(lf, start, n, 0.1)
    with pytest.raises(ValueError, match="multiple of every"):
        it.run(lf, start, 10, 0.1, every=3)
    with pytest.raises(ValueError, match="same shape"):
        lf.init(jnp.array([1.0, 2.0]), jnp.array([0.0]))
    with pytest.raises(ValueError, match="same shape"):
        lf.init(jnp.ones((2, 2)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="float"):
        lf.init(jnp.array([1]), jnp.array([0]))
    with pytest.raises(ValueError, match="finite"):
        lf.init(jnp.array([np.nan]), jnp.array([0.0]))
    with pytest.raises(ValueError, match="State"):
        it.run(lf, (jnp.ones(1), jnp.ones(1), 0.0), 10, 0.1)
    with pytest.raises(ValueError, match="shape"):
        it.run(lf, it.State(jnp.ones(2), jnp.ones(3), jnp.zeros(())), 10, 0.1)
    with pytest.raises(ValueError, match="Integrator"):
        it.run(lf.step, start, 10, 0.1)
    for e in (1.0, 1.5, -0.1, float("nan"), "0.5"):
        with pytest.raises(ValueError, match=r"eccentricity must be a number in \[0, 1\)"):
            it.kepler_initial_state(e)
    with pytest.raises(ValueError, match="semi_major_axis"):
        it.kepler_orbit(0.5, 0.0)
    with pytest.raises(ValueError, match="planar"):
        it.run(it.leapfrog(KEPLER), it.State(jnp.ones(3), jnp.ones(3), jnp.zeros(())), 10, 0.1)
    with pytest.raises(ValueError, match="planar"):
        it.angular_momentum(it.State(jnp.ones(3), jnp.ones(3), jnp.zeros(())))
    with pytest.raises(ValueError, match="order"):
        it.symplectic_euler(OSC, order="drift-drift")
    with pytest.raises(ValueError, match="separable Hamiltonian"):
        it.leapfrog(lambda t, q, p: (p, -q))
    with pytest.raises(ValueError, match="omega"):
        it.harmonic_oscillator(0.0)
    with pytest.raises(ValueError, match="omega"):
        it.leapfrog_shadow_energy(start, -1.0, 0.1)
