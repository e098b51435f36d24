r"""Exercises of "The classical mechanics of learning" (``exercises/05_mechanics_of_learning.ipynb``).

Every value a checker compares to is computed here, in float64 whatever JAX's default precision,
from NumPy, JAX or diffrax directly: one leapfrog step written out, the harmonic oscillator's exact
solution, the optimal heavy-ball momentum :math:`\beta^* = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2`,
explicit Euler's exact energy growth :math:`H_n = (1 + \omega^2h^2)^n H_0`, an explicit-Euler Kepler
orbit bisected for the largest step that stays bound, a fine gradient flow of a small ReLU network
(diffrax) and :func:`jax.grad`; the modified loss is :func:`physml.dynamics.modified_loss`.
``tests/test_exercises_ch05.py`` checks each reference against an independent computation (a
simulation, a spectral radius, a matrix exponential).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import ArrayLike, Float
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from .. import dynamics
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
    in_float64,
    nonfinite,
    show,
    tolerance,
)

NOTEBOOK = "05_mechanics_of_learning"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4

Force = Callable[[Any], Any]
Step = Callable[[Any, Any, Force, float], tuple[Any, Any]]

# ------------------------------------------------------------------------ exercise 5.1

#: Angular frequency of the harmonic oscillator the order of exercise 5.1 is measured on.
OMEGA_5_1 = 2.0
#: Its start: two oscillators a quarter period apart, :math:`q_0 = (1, 0)`, :math:`p_0 = (0, \omega)`.
Q0_5_1, P0_5_1 = np.array([1.0, 0.0]), np.array([0.0, OMEGA_5_1])
#: Duration and numbers of steps of the order measurement (:math:`dt = 0.1 \dots 0.0125`).
ORDER_TIME, ORDER_STEPS = 5.0, (50, 100, 200, 400)
#: The state a single step is compared from (exercise 5.1): a generic point of a Kepler orbit.
Q_STEP, P_STEP, DT_STEP = np.array([0.9, -0.6]), np.array([0.35, 0.8]), 0.1
#: Three bodies, each in its own Kepler field: the any-shape test, shape ``(3, 2)``.
Q_BATCH = np.array([[0.9, -0.6], [1.5, 0.0], [-0.4, 1.1]])
P_BATCH = np.array([[0.35, 0.8], [0.0, 0.5], [-0.9, -0.2]])
#: The reversibility test: this many steps of :data:`DT_REVERSE` forward, then as many back.
REVERSE_STEPS, DT_REVERSE = 60, 0.1
#: Below this measured slope an order-2 answer is not accepted.
MIN_ORDER = 1.8


def kepler_state(e: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    r"""The aphelion of the Kepler orbit of eccentricity ``e`` and semi-major axis 1 (``GM = 1``):
    :math:`q = (1 + e, 0)`, :math:`p = (0, \sqrt{(1 - e)/(1 + e)})`; energy :math:`-1/2`, period
    :math:`2\pi`."""
    if not 0 <= e < 1:
        raise ValueError(f"the eccentricity of a bound orbit lies in [0, 1), got {e}")
    return np.array([1.0 + e, 0.0]), np.array([0.0, math.sqrt((1.0 - e) / (1.0 + e))])


@jax.jit
def kepler_force(q: Float[ArrayLike, "*bodies 2"]) -> Float[jax.Array, "*bodies 2"]:
    r"""The Kepler force :math:`F = -q/|q|^3` (``GM = m = 1``), over the last axis, as ``jax.numpy``."""
    q = jnp.asarray(q)
    return -q / jnp.sqrt(jnp.sum(q**2, axis=-1, keepdims=True)) ** 3


@jax.jit
def oscillator_force(q: Float[ArrayLike, "*shape"]) -> Float[jax.Array, "*shape"]:
    r"""The harmonic force :math:`F = -\omega^2 q` with :math:`\omega` = :data:`OMEGA_5_1`."""
    return -(OMEGA_5_1**2) * jnp.asarray(q)


def _kepler_np(q: np.ndarray) -> np.ndarray:
    return -q / np.sqrt(np.sum(q**2, axis=-1, keepdims=True)) ** 3


def kepler_energy(q: Float[ArrayLike, "... 2"], p: Float[ArrayLike, "... 2"]) -> np.ndarray:
    r""":math:`H = |p|^2/2 - 1/|q|` over the last axis, float64."""
    q, p = np.asarray(q, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return 0.5 * np.sum(p**2, axis=-1) - 1.0 / np.sqrt(np.sum(q**2, axis=-1))


def leapfrog_reference(q: Any, p: Any, force: Force, dt: float) -> tuple[np.ndarray, np.ndarray]:
    r"""One leapfrog (velocity Verlet, kick–drift–kick) step for :math:`H = p^2/2 + V(q)`:

    .. math::

        p_{1/2} = p + \tfrac{dt}{2} F(q), \qquad q_1 = q + dt\,p_{1/2}, \qquad
        p_1 = p_{1/2} + \tfrac{dt}{2} F(q_1),

    with :math:`F = -\nabla V` given as ``force`` (unit mass). ``q`` and ``p`` have any one shape.
    """
    p = p + 0.5 * dt * force(q)
    q = q + dt * p
    return q, p + 0.5 * dt * force(q)


def _dkd(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    q = q + 0.5 * h * p
    p = p + h * f(q)
    return q + 0.5 * h * p, p


def _euler(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    return q + h * p, p + h * f(q)


def _kick_drift(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    p = p + h * f(q)
    return q + h * p, p


def _drift_kick(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    q = q + h * p
    return q, p + h * f(q)


def _full_kicks(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    p = p + h * f(q)
    q = q + h * p
    return q, p + h * f(q)


def _no_second_kick(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    p = p + 0.5 * h * f(q)
    return q + h * p, p


def _no_first_kick(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    q = q + h * p
    return q, p + 0.5 * h * f(q)


def _old_force(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    force = f(q)
    p = p + 0.5 * h * force
    return q + h * p, p + 0.5 * h * force


def _drift_with_old_momentum(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    q1 = q + h * p
    return q1, p + 0.5 * h * (f(q) + f(q1))


def _half_drift(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    p = p + 0.5 * h * f(q)
    q = q + 0.5 * h * p
    return q, p + 0.5 * h * f(q)


def _minus_force(q: Any, p: Any, f: Force, h: float) -> tuple[Any, Any]:
    return leapfrog_reference(q, p, lambda x: -f(x), h)


_KICKS = "Leapfrog kicks half a step, p ← p + (dt/2)·force(q), drifts a whole step with that momentum, "
_KICKS += "q ← q + dt·p, and kicks half a step again with the force at the new position."

#: Known wrong steps of exercise 5.1 and their diagnoses; ``{slope}`` is the measured order.
VARIANTS_5_1: dict[str, tuple[Step, str]] = {
    "explicit Euler": (
        _euler,
        "that is an explicit Euler step: both updates use the old (q, p). It is first order (the measured "
        "global error falls like dt^{slope}), its energy grows, and a step with −dt does not undo it. "
        + _KICKS,
    ),
    "symplectic Euler, kick then drift": (
        _kick_drift,
        "that is symplectic Euler (a whole kick, then the drift): symplectic, so its energy error stays "
        "bounded, but first order (measured slope {slope}) and not time-reversible — its inverse is "
        "drift-then-kick. Split the kick into two halves around the drift.",
    ),
    "symplectic Euler, drift then kick": (
        _drift_kick,
        "that is symplectic Euler (the drift with the old momentum, then a whole kick): symplectic, so its "
        "energy error stays bounded, but first order (measured slope {slope}) and not time-reversible. "
        + _KICKS,
    ),
    "whole kicks": (
        _full_kicks,
        "both kicks use the whole dt, so each step gives the momentum twice the force: the method follows "
        "the wrong equation and its error does not shrink with dt (measured slope {slope}). Each kick is a "
        "half kick, (dt/2)·force.",
    ),
    "second kick missing": (
        _no_second_kick,
        "the second half kick is missing: the momentum receives only half the force each step, and the "
        "error does not shrink with dt (measured slope {slope}). End with p ← p + (dt/2)·force(q_new).",
    ),
    "first kick missing": (
        _no_first_kick,
        "the first half kick is missing: the drift uses the old momentum and the momentum receives only "
        "half the force (measured slope {slope}). Start with p ← p + (dt/2)·force(q).",
    ),
    "old force": (
        _old_force,
        "the second half kick uses the force at the old position. Evaluate force(q) again after the drift: "
        "the two half kicks straddle it, which makes the step second order and reversible (yours: measured "
        "slope {slope}).",
    ),
    "drift with the old momentum": (
        _drift_with_old_momentum,
        "the drift uses the momentum from before the first half kick: q ← q + dt·p misses the "
        "(dt²/2)·force term, and the step is first order (measured slope {slope}). Drift with the "
        "half-kicked momentum.",
    ),
    "half drift": (
        _half_drift,
        "the drift moves q by only (dt/2)·p: the drift is a whole step, q ← q + dt·p_half (measured slope "
        "{slope}: the error does not shrink with dt).",
    ),
    "force sign": (
        _minus_force,
        "the force already carries its minus sign (force = −∇V): kick with p ← p + (dt/2)·force(q). With "
        "the sign flipped the oscillator's spring pushes outwards (measured slope {slope}).",
    ),
}


def _pair(raw: Any, shape: tuple[int, ...], where: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The learner's ``(q, p)``, float64, and the tolerance their precision allows."""
    if raw is None:
        raise Wrong(f"{where} your step returned None — did you forget a `return`?")
    if not isinstance(raw, (tuple, list)):
        raise Wrong(f"{where} your step returned {describe(raw)}; return the pair (q, p) as a tuple.")
    if len(raw) != 2:
        raise Wrong(f"{where} your step returned {len(raw)} values; return the pair (q, p).")
    kind = nonfinite(raw[0]) or nonfinite(raw[1])
    if kind is not None:
        raise Wrong(f"{where} your step returned {kind.lstrip('+')} — the step diverged.")
    q = as_array(raw[0], shape, what=f"the q your step returned {where}")
    p = as_array(raw[1], shape, what=f"the p your step returned {where}")
    return q, p, tolerance(raw[0], raw[1])


def _step(answer: Any, q: np.ndarray, p: np.ndarray, force: Force, dt: float, where: str) -> tuple:
    raw = call_quietly(answer, q.copy(), p.copy(), force, dt, what="your leapfrog_step")
    return _pair(raw, q.shape, where)


def _matches(
    got: tuple[np.ndarray, np.ndarray], expected: tuple[np.ndarray, np.ndarray], rtol: float
) -> bool:
    scale = max(float(np.max(np.abs(expected[0]))), float(np.max(np.abs(expected[1]))), 1.0)
    return close(got[0], expected[0], rtol, rtol * scale) and close(got[1], expected[1], rtol, rtol * scale)


def oscillator_exact(t: Float[ArrayLike, " n"]) -> tuple[np.ndarray, np.ndarray]:
    r"""The exact motion from :data:`Q0_5_1`, :data:`P0_5_1` under :func:`oscillator_force`:
    :math:`q(t) = q_0\cos\omega t + (p_0/\omega)\sin\omega t`, :math:`p = \dot q`; shapes ``(n, 2)``."""
    wt = OMEGA_5_1 * np.asarray(t, dtype=np.float64)[:, None]
    q = Q0_5_1 * np.cos(wt) + P0_5_1 / OMEGA_5_1 * np.sin(wt)
    p = -Q0_5_1 * OMEGA_5_1 * np.sin(wt) + P0_5_1 * np.cos(wt)
    return q, p


def global_errors(step: Any, steps: tuple[int, ...] = ORDER_STEPS) -> np.ndarray:
    r"""The largest error :math:`\max_k \max(|q_k - q(t_k)|, |p_k - p(t_k)|/\omega)` of ``step`` on the
    oscillator over :math:`[0, T]` (:data:`ORDER_TIME`), for each number of steps in ``steps``.

    ``step(q, p, force, dt)`` is called one step at a time (a learner's function); a failure becomes
    :class:`~physml.exercises.Wrong`.
    """
    errors = []
    for n in steps:
        dt = ORDER_TIME / n
        q, p = Q0_5_1.copy(), P0_5_1.copy()
        qs, ps = [q], [p]
        for k in range(n):
            q, p, _ = _step(
                step, q, p, oscillator_force, dt, f"on the oscillator (dt = {dt:g}, step {k + 1})"
            )
            qs.append(q)
            ps.append(p)
        q_exact, p_exact = oscillator_exact(dt * np.arange(n + 1))
        errors.append(
            max(np.max(np.abs(np.array(qs) - q_exact)), np.max(np.abs(np.array(ps) - p_exact)) / OMEGA_5_1)
        )
    return np.array(errors)


def measured_order(errors: Float[ArrayLike, " n"], steps: tuple[int, ...] = ORDER_STEPS) -> float:
    r"""The least-squares slope of :math:`\ln(\text{error})` against :math:`\ln dt`."""
    dts = ORDER_TIME / np.asarray(steps, dtype=np.float64)
    errors = np.maximum(np.asarray(errors, dtype=np.float64), 1e-300)
    return float(np.polyfit(np.log(dts), np.log(errors), 1)[0])


def reversal_error(step: Any) -> float:
    r"""How far :data:`REVERSE_STEPS` steps of :data:`DT_REVERSE` on the Kepler orbit (from its
    aphelion, through the perihelion), followed by as many of :math:`-dt`, land from the start:
    :math:`\max(|q - q_0|, |p - p_0|)`."""
    q0, p0 = kepler_state()
    q, p = q0.copy(), p0.copy()
    for dt in (DT_REVERSE, -DT_REVERSE):
        for k in range(REVERSE_STEPS):
            q, p, _ = _step(step, q, p, kepler_force, dt, f"on the Kepler orbit (dt = {dt:g}, step {k + 1})")
    return float(max(np.max(np.abs(q - q0)), np.max(np.abs(p - p0))))


def _one_step_kind(got: tuple[np.ndarray, np.ndarray], rtol: float) -> str | None:
    args = (Q_STEP, P_STEP, _kepler_np, DT_STEP)
    if _matches(got, leapfrog_reference(*args), rtol):
        return "kick–drift–kick"
    if _matches(got, _dkd(*args), rtol):
        return "drift–kick–drift"
    return None


@exercise(
    "5.1",
    title="One leapfrog step: second order and time-reversible",
    answer="leapfrog_step",
    notebook=NOTEBOOK,
    hints=(
        "Split the step into three: half a kick of the momentum by the force, a whole drift of the "
        "position with the new momentum, and another half kick with the force at the new position.",
        "p_half = p + (dt/2)·force(q); q_new = q + dt·p_half; p_new = p_half + (dt/2)·force(q_new). Use "
        "only array arithmetic, so that q and p may have any shape.",
        "def leapfrog_step(q, p, force, dt): p = p + 0.5 * dt * force(q); q = q + dt * p; return q, p + "
        "0.5 * dt * force(q)",
    ),
    time_limit=30.0,
)
def check_leapfrog_step(answer: Any) -> str | None:
    r"""``answer(q, p, force, dt)`` is one leapfrog step: it matches kick–drift–kick (or drift–kick–drift)
    on a Kepler orbit for shapes ``(2,)`` and ``(3, 2)``, its global error on the oscillator falls like
    :math:`dt^2`, and stepping with :math:`-dt` undoes it to rounding."""
    where = f"from q = {show(Q_STEP)}, p = {show(P_STEP)} (Kepler force, dt = {DT_STEP:g})"
    q1, p1, rtol = _step(answer, Q_STEP, P_STEP, kepler_force, DT_STEP, where)
    kind = _one_step_kind((q1, p1), rtol)
    if kind is None and _one_step_kind((p1, q1), rtol) is not None:
        raise Wrong(f"{where} your step returned (p, q); return (q, p), in that order.")
    errors = global_errors(answer)
    slope = measured_order(errors)
    if kind is None:
        args = (Q_STEP, P_STEP, _kepler_np, DT_STEP)
        for _, (variant, text) in VARIANTS_5_1.items():
            if _matches((q1, p1), variant(*args), max(rtol, _LOOSE)):
                raise Wrong(text.format(slope=f"{round(slope, 2) + 0.0:.2f}"))
    reversal = reversal_error(answer)
    reversible = reversal <= max(rtol, 1e-9) * 10
    if kind is None:
        raise Wrong(_diagnose_5_1(slope, reversible, reversal, (q1, p1)))
    q3, p3, rtol3 = _step(answer, Q_BATCH, P_BATCH, kepler_force, DT_STEP, "for q, p of shape (3, 2)")
    step = leapfrog_reference if kind == "kick–drift–kick" else _dkd
    if not _matches((q3, p3), step(Q_BATCH, P_BATCH, _kepler_np, DT_STEP), rtol3):
        raise Wrong(
            "for q, p of shape (3, 2) — three bodies, each in its own Kepler field — your step returns "
            "something else than for one body. Write it with whole-array arithmetic (no q[0], q[1])."
        )
    if slope < MIN_ORDER or not reversible:  # cannot happen for an exact leapfrog step; kept as a guard
        raise Wrong(_diagnose_5_1(slope, reversible, reversal, (q1, p1)))
    note = " Symmetric and symplectic: its energy error stays bounded over many orbits."
    if kind == "drift–kick–drift":
        note = (
            " Yours is drift–kick–drift (position Verlet), leapfrog with the half steps on the drift: the "
            "same method seen half a step later. Accepted."
        )
    return (
        f"Second order: the global error on the oscillator falls like dt^{slope:.2f} ({errors[0]:.2g} at dt "
        f"= {ORDER_TIME / ORDER_STEPS[0]:g}, {errors[-1]:.2g} at {ORDER_TIME / ORDER_STEPS[-1]:g}). "
        f"Reversible: {REVERSE_STEPS} Kepler steps, then {REVERSE_STEPS} with −dt, land {reversal:.1g} from "
        f"the start.{note}"
    )


def _diagnose_5_1(slope: float, reversible: bool, reversal: float, got: tuple[np.ndarray, np.ndarray]) -> str:
    back = f"{REVERSE_STEPS} steps forward and {REVERSE_STEPS} with −dt land {reversal:.2g} from the start"
    if slope < 0.5:
        return (
            f"the error does not shrink as dt → 0 (measured slope {slope:.2f} on the oscillator): the "
            "step does not follow q̇ = p, ṗ = force(q). Check each factor of dt. " + _KICKS
        )
    if slope < 1.5:
        state = "time-reversible" if reversible else f"not time-reversible ({back})"
        return f"first order (the measured global error falls like dt^{slope:.2f}) and {state}. " + _KICKS
    if not reversible:
        return (
            f"second order (measured slope {slope:.2f}), but not time-reversible: {back}. A Runge–Kutta "
            "midpoint step is second order too, but not symmetric; kick–drift–kick with equal half kicks "
            "undoes itself exactly under dt → −dt."
        )
    expected = leapfrog_reference(Q_STEP, P_STEP, _kepler_np, DT_STEP)
    return (
        f"order {slope:.2f} and reversible, but not the leapfrog step: from q = {show(Q_STEP)}, p = "
        f"{show(P_STEP)} with dt = {DT_STEP:g} you return q = {show(got[0])}, p = {show(got[1])}; "
        f"kick–drift–kick gives q = {show(expected[0])}, p = {show(expected[1])}."
    )


# ------------------------------------------------------------------------ exercise 5.2

#: The condition numbers exercise 5.2 is checked at, in order (κ = 1 last: every variant gives 0 there).
KAPPAS_5_2 = (100.0, 4.0, 1e4, 2.5, 1.0)


def optimal_momentum_reference(kappa: Any) -> Any:
    r"""Polyak's optimal momentum for a quadratic with Hessian eigenvalues in :math:`[\mu, L]`,
    :math:`\kappa = L/\mu \ge 1`:

    .. math::

        \beta^* = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2, \qquad
        \eta^* = \frac{4}{(\sqrt L + \sqrt\mu)^2},

    where the modes :math:`\mu` and :math:`L` both sit at a double root of
    :math:`z^2 - (1 + \beta - \eta\lambda)z + \beta`; every mode then contracts by
    :math:`|z| = \sqrt{\beta^*}` per step.
    """
    root = np.sqrt(np.asarray(kappa, dtype=np.float64))
    return ((root - 1) / (root + 1)) ** 2


def _variants_5_2(kappa: float) -> list[tuple[float, str]]:
    s = math.sqrt(kappa)
    rate = (s - 1) / (s + 1)
    gd = (kappa - 1) / (kappa + 1)
    return [
        (
            rate,
            "that is (√κ − 1)/(√κ + 1), the heavy ball's contraction per step at the optimum, |z| = √β* "
            "(and Nesterov's momentum coefficient). The roots of z² − (1 + β − ηλ)z + β multiply to β, so "
            "at a double root |z|² = β: square it.",
        ),
        (
            gd,
            "that is (κ − 1)/(κ + 1), the contraction of plain gradient descent at its best step 2/(L + μ) "
            "— a rate, not a momentum, and the slow one that momentum improves on.",
        ),
        (gd**2, "that is ((κ − 1)/(κ + 1))²: the square roots of κ are missing — β* = ((√κ − 1)/(√κ + 1))²."),
        (
            -rate,
            "a negative momentum: that is (1 − √κ)/(1 + √κ), κ inverted (μ/L instead of L/μ) and the "
            "square missing. κ = L/μ ≥ 1, and β* is the square of the contraction (√κ − 1)/(√κ + 1).",
        ),
        (-gd, "a negative momentum: κ = L/μ ≥ 1 is inverted, and that is gradient descent's rate, not β*."),
        (1 - 4 / s, "that is 1 − 4/√κ, the large-κ approximation of β*; give the exact value."),
        (1 - 2 / s, "that is 1 − 2/√κ, the large-κ approximation of the contraction √β*, not β* itself."),
        (1 - 1 / s, "that is 1 − 1/√κ, a rule of thumb; the optimum is ((√κ − 1)/(√κ + 1))²."),
        (1 - 1 / kappa, "that is 1 − 1/κ; the optimum is ((√κ − 1)/(√κ + 1))²."),
    ]


@exercise(
    "5.2",
    title="The optimal momentum of the heavy ball",
    answer="optimal_momentum",
    notebook=NOTEBOOK,
    hints=(
        "On a mode of curvature λ the heavy ball is θ_{t+1} = (1 + β − ηλ)θ_t − βθ_{t−1}, with "
        "characteristic polynomial z² − (1 + β − ηλ)z + β. Complex roots have |z| = √β: every such mode "
        "contracts alike.",
        "Choose η and β so that the extreme modes sit on double roots of opposite sign: 1 + β − ημ = 2√β "
        "and 1 + β − ηL = −2√β. Subtract the two equations, then add them.",
        "Subtracting gives η(L − μ) = 4√β, adding gives η(L + μ) = 2(1 + β); so √β = (√κ − 1)/(√κ + 1): "
        "return ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2.",
    ),
)
def check_optimal_momentum(answer: Any) -> str | None:
    r"""``answer(kappa)`` returns :math:`\beta^*` at each of :data:`KAPPAS_5_2`."""
    for kappa in KAPPAS_5_2:
        where = f"for κ = {kappa:g}"
        raw = call_quietly(answer, kappa, what="your optimal_momentum")
        if isinstance(raw, tuple):
            raise Wrong(f"{where} you returned {len(raw)} values; return only the momentum β*.")
        kind = nonfinite(raw)
        if kind is not None:
            note = " At κ = 1 (all curvatures equal) β* = 0: avoid dividing by √κ − 1." if kappa == 1 else ""
            raise Wrong(f"{where} you returned {kind.lstrip('+')}.{note}")
        got = as_number(raw, what=f"the value returned {where}")
        expected = float(optimal_momentum_reference(kappa))
        if close(got, expected, tolerance(raw), 1e-12):
            continue
        for value, text in _variants_5_2(kappa):
            if close(got, value, _LOOSE, 1e-12):
                raise Wrong(f"{where} you returned {got:.6g}: {text}")
        if close(got, expected, _LOOSE, 1e-7):
            raise Wrong(f"{where} your answer agrees with β* only to float32 digits. {FLOAT32_ADVICE}")
        raise Wrong(f"{where} you returned {got:.6g}; the optimal momentum is β* = {expected:.6g}.")
    kappa = KAPPAS_5_2[0]
    rate_gd, rate_hb = (kappa - 1) / (kappa + 1), math.sqrt(float(optimal_momentum_reference(kappa)))
    return (
        f"β* = ((√κ − 1)/(√κ + 1))², with η* = 4/(√L + √μ)². At κ = {kappa:g} the heavy ball contracts "
        f"every mode by √β* = {rate_hb:.3g} per step, gradient descent at its best step by (κ − 1)/(κ + 1) "
        f"= {rate_gd:.3f}: {math.log(rate_hb) / math.log(rate_gd):.1f} times as many steps. Iterations grow "
        "like √κ instead of κ. (Inverting κ leaves β* unchanged.)"
    )


# ------------------------------------------------------------------------ exercise 5.3

#: Cases ``(q0, p0, omega, h, n)`` of exercise 5.3, in order; ω ≠ 1 and both q0, p0 ≠ 0 come first.
CASES_5_3: tuple[tuple[float, float, float, float, int], ...] = (
    (0.5, 1.0, 3.0, 0.04, 100),
    (1.0, 0.0, 1.0, 0.1, 100),
    (0.3, -1.2, 2.5, 0.04, 400),
    (-2.0, 0.5, 0.5, 0.2, 50),
)


def euler_energy_reference(q0: float, p0: float, omega: float, h: float, n: int) -> float:
    r"""The energy of :math:`H = (p^2 + \omega^2q^2)/2` after ``n`` explicit Euler steps of size ``h``.

    A step :math:`q \leftarrow q + hp`, :math:`p \leftarrow p - h\omega^2q` multiplies :math:`H` exactly by
    :math:`1 + \omega^2h^2` (the cross terms cancel), so :math:`H_n = (1 + \omega^2h^2)^n H_0`.
    """
    return 0.5 * (p0**2 + omega**2 * q0**2) * (1 + omega**2 * h**2) ** n


def _simulated_energy(step: Step, q0: float, p0: float, omega: float, h: float, n: int) -> float:
    q, p = np.float64(q0), np.float64(p0)
    for _ in range(n):
        q, p = step(q, p, lambda x: -(omega**2) * x, h)
    return float(0.5 * (p**2 + omega**2 * q**2))


def _variants_5_3(q0: float, p0: float, omega: float, h: float, n: int) -> list[tuple[float, str]]:
    H0 = 0.5 * (p0**2 + omega**2 * q0**2)
    g = 1 + omega**2 * h**2
    return [
        (
            H0 * (1 + n * omega**2 * h**2),
            "that is H₀(1 + nω²h²), linear growth. Each step multiplies H by 1 + ω²h²: the growth compounds.",
        ),
        (
            H0 * math.exp(n * omega**2 * h**2),
            "that is H₀·exp(nω²h²), the small-h approximation; the factor per step is exactly 1 + ω²h².",
        ),
        (
            H0,
            "that is H₀: the exact flow conserves H, but explicit Euler does not — each step multiplies it "
            "by 1 + ω²h².",
        ),
        (
            _simulated_energy(_kick_drift, q0, p0, omega, h, n),
            "that is the energy after symplectic Euler steps, which stays within O(h) of H₀. Explicit "
            "Euler updates q and p both from the old state: q ← q + hp, p ← p − hω²q.",
        ),
        (
            _simulated_energy(_drift_kick, q0, p0, omega, h, n),
            "that is the energy after symplectic Euler steps (drift, then kick with the new q), which "
            "stays bounded. Explicit Euler updates q and p both from the old state.",
        ),
        (
            _simulated_energy(leapfrog_reference, q0, p0, omega, h, n),
            "that is the energy after leapfrog steps, which stays bounded; the question asks about "
            "explicit Euler.",
        ),
        (
            H0 * g ** (n / 2),
            "that is H₀(1 + ω²h²)^(n/2), the growth of the amplitude; the energy is its square.",
        ),
        (
            H0 * g ** (2 * n),
            "that is H₀(1 + ω²h²)^(2n); the energy grows by 1 + ω²h² per step, not its square.",
        ),
        (H0 * g ** (n - 1), "that is H₀(1 + ω²h²)^(n−1): one step short — n steps give n factors."),
        (H0 * g ** (n + 1), "that is H₀(1 + ω²h²)^(n+1): one factor too many — n steps give n factors."),
        (H0 * (1 + omega * h**2) ** n, "the factor per step is 1 + ω²h² (ω squared), not 1 + ωh²."),
        (H0 * (1 + omega * h) ** n, "the factor per step is 1 + ω²h², not 1 + ωh."),
        (H0 * (1 + h**2) ** n, "the factor per step is 1 + ω²h²: ω is missing."),
        (H0 * (1 + omega**2 * h**2 / 2) ** n, "the factor per step is 1 + ω²h², not 1 + ω²h²/2."),
        (
            H0 * (1 - omega**2 * h**2) ** n,
            "explicit Euler adds energy: the factor is 1 + ω²h², not 1 − ω²h².",
        ),
        (g**n, "that is the ratio H_n/H₀; multiply by H₀ = (p₀² + ω²q₀²)/2."),
        (2 * H0 * g**n, "a factor 2 too large: H = (p² + ω²q²)/2 has a ½."),
        (0.5 * (p0**2 + q0**2) * g**n, "H₀ is (p₀² + ω²q₀²)/2: ω is missing from the potential energy."),
        (0.5 * (p0**2 + omega * q0**2) * g**n, "H₀ is (p₀² + ω²q₀²)/2: ω² (not ω) multiplies q₀²."),
    ]


@exercise(
    "5.3",
    title="How fast explicit Euler pumps energy into an oscillator",
    answer="euler_energy",
    notebook=NOTEBOOK,
    hints=(
        "Write one explicit Euler step for H = (p² + ω²q²)/2: q₁ = q + hp, p₁ = p − hω²q. Expand p₁² + "
        "ω²q₁² and watch the cross terms.",
        "The cross terms −2hω²pq and +2hω²qp cancel: p₁² + ω²q₁² = (1 + ω²h²)(p² + ω²q²). Every step "
        "multiplies H by the same factor.",
        "return 0.5 * (p0**2 + omega**2 * q0**2) * (1 + omega**2 * h**2) ** n",
    ),
)
def check_euler_energy(answer: Any) -> str | None:
    r"""``answer(q0, p0, omega, h, n)`` returns :math:`(1 + \omega^2h^2)^n H_0` on :data:`CASES_5_3`."""
    for case in CASES_5_3:
        q0, p0, omega, h, n = case
        where = f"for q₀ = {q0:g}, p₀ = {p0:g}, ω = {omega:g}, h = {h:g}, n = {n}"
        raw = call_quietly(answer, *case, what="your euler_energy")
        if isinstance(raw, tuple):
            raise Wrong(f"{where} you returned {len(raw)} values; return only the energy H_n.")
        got = as_number(raw, what=f"the value returned {where}")
        expected = euler_energy_reference(*case)
        if close(got, expected, tolerance(raw), 1e-12):
            continue
        for value, text in _variants_5_3(*case):
            if close(got, value, _LOOSE, 1e-12):
                raise Wrong(f"{where} you returned {got:.6g}: {text}")
        if close(got, expected, 1e-3):
            raise Wrong(
                f"{where} you returned {got:.6g}, within 0.1 % of H_n = {expected:.6g} but not equal: "
                "rounding, or a slightly different step? The closed form is exact."
            )
        raise Wrong(f"{where} you returned {got:.6g}; after {n} explicit Euler steps H = {expected:.6g}.")
    q0, p0, omega, h, n = CASES_5_3[0]
    ratio = euler_energy_reference(*CASES_5_3[0]) / euler_energy_reference(q0, p0, omega, h, 0)
    return (
        f"H_n = (1 + ω²h²)^n H₀ exactly: with ωh = {omega * h:g}, {n} steps multiply the energy by "
        f"{ratio:.3f} — over a time t = nh the growth is about exp(ω²h·t), slower for smaller h but never "
        "zero. A symplectic method (symplectic Euler, leapfrog) keeps H within O(h) of H₀ for all time."
    )


# ------------------------------------------------------------------------ exercise 5.4

#: Eccentricity of the orbit and number of periods (of the exact orbit, :math:`2\pi` each) of 5.4.
E_5_4, PERIODS_5_4 = 0.5, 3
#: Slider range and step of the widget (the step :math:`h`).
H_MIN, H_MAX, H_STEP = 0.005, 0.2, 0.001
#: Accepted distance from the limit: two slider steps.
H_TOLERANCE = 2 * H_STEP
#: The orbits are computed for this many steps and cut at :math:`\lceil 2\pi N/h\rceil` (one compilation).
_MAX_STEPS = math.ceil(2 * math.pi * PERIODS_5_4 / H_MIN) + 1


def steps_for(h: float) -> int:
    r"""The number of steps of size ``h`` that cover :data:`PERIODS_5_4` periods,
    :math:`\lceil 2\pi N/h\rceil`."""
    return math.ceil(2 * math.pi * PERIODS_5_4 / h)


@functools.partial(jax.jit, static_argnames="method")
def _kepler_run(h: jax.Array, q0: jax.Array, p0: jax.Array, method: str) -> jax.Array:
    """``_MAX_STEPS`` steps from ``(q0, p0)``: the states ``(q, p)`` stacked, shape
    ``(_MAX_STEPS + 1, 4)``."""

    def force(q: jax.Array) -> jax.Array:
        return -q / jnp.sqrt(jnp.sum(q**2)) ** 3

    def step(state: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
        q, p = state[:2], state[2:]
        if method == "euler":
            q, p = q + h * p, p + h * force(q)
        else:
            p = p + 0.5 * h * force(q)
            q = q + h * p
            p = p + 0.5 * h * force(q)
        state = jnp.concatenate([q, p])
        return state, state

    start = jnp.concatenate([q0, p0])
    _, states = jax.lax.scan(step, start, length=_MAX_STEPS)
    return jnp.concatenate([start[None], states])


class KeplerRun(NamedTuple):
    """An orbit of exercise 5.4, float64: positions ``(n + 1, 2)``, momenta and energies ``(n + 1,)``."""

    q: np.ndarray
    p: np.ndarray
    energy: np.ndarray
    times: np.ndarray


def kepler_run(h: float, method: str = "euler") -> KeplerRun:
    r"""The Kepler orbit of :data:`E_5_4` from its aphelion (:func:`kepler_state`), integrated for
    :func:`steps_for` ``(h)`` steps by explicit Euler (``"euler"``: :math:`q \leftarrow q + hp`,
    :math:`p \leftarrow p + hF(q)`) or leapfrog (``"leapfrog"``), in float64."""
    if not (math.isfinite(h) and H_MIN <= h <= 1.0):
        raise ValueError(f"h must lie in [{H_MIN:g}, 1], got {h}")
    if method not in ("euler", "leapfrog"):
        raise ValueError(f"method must be 'euler' or 'leapfrog', got {method!r}")
    q0, p0 = kepler_state(E_5_4)
    n = steps_for(h)
    states = in_float64(
        lambda: _kepler_run(jnp.asarray(h, jnp.float64), jnp.asarray(q0), jnp.asarray(p0), method)
    )[: n + 1]
    q, p = states[:, :2], states[:, 2:]
    return KeplerRun(q, p, kepler_energy(q, p), h * np.arange(n + 1))


def stays_bound(h: float) -> bool:
    """True when the explicit Euler orbit's energy stays negative at every step of :func:`kepler_run`."""
    return bool(np.max(kepler_run(h).energy) < 0)


def _bisect(predicate: Callable[[float], bool], low: float, high: float) -> float:
    """The boundary in ``[low, high]`` of a predicate true at ``low`` and false at ``high`` (60 halvings)."""
    if not (predicate(low) and not predicate(high)):
        raise ValueError(f"the predicate must hold at {low} and fail at {high}")
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if predicate(middle) else (low, middle)
    return 0.5 * (low + high)


@functools.cache
def escape_limit() -> float:
    r"""The largest :math:`h` at which the explicit Euler orbit of exercise 5.4 stays bound
    (:math:`E < 0` at every step) for :data:`PERIODS_5_4` periods, by bisection in float64.
    ``tests/test_exercises_ch05.py`` checks on every slider value that the bound steps form one interval."""
    return _bisect(stays_bound, 0.1, 0.16)


@functools.cache
def final_energy_limit() -> float:
    r"""The largest :math:`h` at which the energy *after* the last step is negative (it may have crossed
    zero on the way): a mistaken reading of exercise 5.4."""
    return _bisect(lambda h: bool(kepler_run(h).energy[-1] < 0), 0.1, 0.16)


def _escape_time(run: KeplerRun) -> float:
    return float(run.times[np.argmax(run.energy >= 0)])


def _kepler_orbits_scene() -> Scene:
    """The figure of exercise 5.4 and the function that moves it to a step: orbits, energies, title."""
    fig, (left, right) = figure(ncols=2, figsize=(9.0, 3.8), width_ratios=(1, 1.2))
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.135, top=0.91, wspace=0.21)  # no layout engine: fast
    angle = np.linspace(0, 2 * np.pi, 400)
    x, y = E_5_4 + np.cos(angle), math.sqrt(1 - E_5_4**2) * np.sin(angle)  # focus at the origin
    left.plot(x, y, "--", color="#9aa5b1", lw=1, label="exact orbit")
    (euler_orbit,) = left.plot([], [], color="#c44e52", lw=1.1, label="explicit Euler")
    (leapfrog_orbit,) = left.plot([], [], color="#4c72b0", lw=1.1, label="leapfrog")
    (sun,) = left.plot([0], [0], "*", color="#f2a900", ms=11, zorder=3)
    left.set_xlim(-3.0, 2.5)
    left.set_ylim(-2.2, 2.2)
    left.set_aspect("equal")
    left.set_xlabel("x (semi-major axes)")
    left.set_ylabel("y (semi-major axes)")
    left_legend = left.legend(loc="lower left", fontsize="x-small")
    (euler_energy,) = right.plot([], [], color="#c44e52", lw=1.3, label="explicit Euler")
    (leapfrog_energy,) = right.plot([], [], color="#4c72b0", lw=1.3, label="leapfrog")
    zero = right.axhline(0.0, color="#222222", lw=0.8)
    exact = right.axhline(-0.5, color="#9aa5b1", lw=0.8, ls="--", label="exact, E = −1/2")
    right.set_ylim(-0.8, 0.4)
    right.set_xlim(0, PERIODS_5_4 * 1.05)
    right.set_xlabel("time t (periods of the exact orbit)")
    right.set_ylabel("energy E (units of GMm/a)")
    right_legend = right.legend(loc="upper left", fontsize="x-small")
    title = fig.suptitle("", fontsize="medium")

    def move(h: float) -> list[Artist]:
        if not (math.isfinite(h) and H_MIN <= h <= 0.5):
            raise ValueError(f"h must lie in [{H_MIN:g}, 0.5], got {h}")
        euler, leapfrog = kepler_run(h), kepler_run(h, "leapfrog")
        euler_orbit.set_data(euler.q[:, 0], euler.q[:, 1])
        leapfrog_orbit.set_data(leapfrog.q[:, 0], leapfrog.q[:, 1])
        euler_energy.set_data(euler.times / (2 * np.pi), euler.energy)
        leapfrog_energy.set_data(leapfrog.times / (2 * np.pi), leapfrog.energy)
        if np.max(euler.energy) < 0:
            verdict = f"Euler stays bound (max E = {np.max(euler.energy):.3f})"
        else:
            verdict = f"Euler escapes: E ≥ 0 first at t = {_escape_time(euler):.2f}"
        drift = np.max(np.abs(leapfrog.energy + 0.5))
        title.set_text(
            f"h = {h:.3f} ({2 * math.pi / h:.0f} steps per period): {verdict}; leapfrog |ΔE| ≤ {drift:.2g}"
        )
        orbits = [euler_orbit, leapfrog_orbit, sun, left_legend]
        return [*orbits, euler_energy, leapfrog_energy, zero, exact, right_legend, title]

    return fig, move


@with_scene(_kepler_orbits_scene)
def draw_kepler_orbits(h: float) -> Figure:
    r"""The widget's figure for exercise 5.4 at step ``h``: left, the exact orbit and the explicit Euler and
    leapfrog orbits over :data:`PERIODS_5_4` periods; right, their energies against time."""
    fig, move = _kepler_orbits_scene()
    move(h)
    return fig


@exercise(
    "5.4",
    title="The largest step at which an Euler orbit stays bound (widget)",
    answer="h_max",
    notebook=NOTEBOOK,
    hints=(
        "Move h up from small values and watch the red energy curve: it jumps up at every perihelion "
        "passage, where the planet is fastest and the force strongest.",
        "The orbit is bound while E < 0. Find the h at which the red curve first touches E = 0 within the "
        "three periods — the figure's title says whether Euler stays bound, and the largest E it reached.",
        "The limit lies between 0.12 and 0.14: step the slider by 0.001 there and keep the largest h whose "
        "title still says 'stays bound'.",
    ),
)
def check_h_max(answer: Any) -> str | None:
    r"""``answer`` is within :data:`H_TOLERANCE` of :func:`escape_limit`."""
    value = as_float(answer, what="h_max")
    limit = escape_limit()
    accepted = f"(the check accepts ±{H_TOLERANCE:g} around the limit)"
    if value <= 0:
        raise Wrong(f"h = {value:g} is not a time step: it must be positive {accepted}.")
    if value >= 1:
        raise Wrong(
            f"h = {value:g} is no step for an orbit of period 2π ≈ 6.28 — a number of steps? h is the time "
            f"step; {value:g} steps per period would be h = 2π/{value:g} = {2 * math.pi / value:.4g}."
        )
    if abs(value - limit) <= H_TOLERANCE:
        leapfrog = kepler_run(limit, "leapfrog")
        side = ""
        if value > limit:
            escape = _escape_time(kepler_run(value))
            side = f" (At your h, just above h*, the orbit reaches E = 0 at t = {escape:.2f}.)"
        speed = math.sqrt((1 + E_5_4) / (1 - E_5_4))
        return (
            f"h* = {limit:.4f}, {2 * math.pi / limit:.0f} steps per period. Explicit Euler's error is "
            f"largest near perihelion: at speed {speed:.3f} and distance {1 - E_5_4:g} one step would cover "
            f"{limit * speed / (1 - E_5_4):.0%} of the distance to the Sun, and the first passage lifts E "
            "from −0.5 to 0. Leapfrog at h* keeps |E − E₀| ≤ "
            f"{np.max(np.abs(leapfrog.energy + 0.5)):.2g}.{side}"
        )
    final = final_energy_limit()
    if limit + H_TOLERANCE < value <= final + H_TOLERANCE:
        run = kepler_run(value)
        raise Wrong(
            f"at h = {value:.4g} the energy ends negative, but on the way it rose to E = "
            f"{np.max(run.energy):.3f} ≥ 0 at t = {_escape_time(run):.2f}: the orbit was unbound there. The "
            f"question asks for E < 0 at every step {accepted}."
        )
    if value < limit:
        run = kepler_run(value)
        raise Wrong(
            f"at h = {value:.4g} the Euler orbit stays bound (its energy reaches at most "
            f"{np.max(run.energy):.3f}) — bound, but not the largest such step: raise h until E touches 0 "
            f"{accepted}."
        )
    run = kepler_run(value)
    raise Wrong(
        f"at h = {value:.4g} the Euler orbit becomes unbound: E ≥ 0 first at t = {_escape_time(run):.2f} "
        f"(the period is 2π ≈ 6.28). Lower h {accepted}."
    )


# ------------------------------------------------------------------------ exercise 5.5

#: Sizes of the network of exercise 5.5: inputs, hidden units, outputs, samples.
D_IN, HIDDEN, D_OUT, SAMPLES = 3, 5, 2, 16
#: Times at which the hidden gradient flow is saved, and its fixed step (Tsit5; ReLU kinks rule out
#: adaptive steps at tight tolerances).
FLOW_TIMES, FLOW_DT = np.linspace(0.0, 3.0, 7), 2e-3
#: A per-unit quantity whose largest change along the flow, relative to the weights' squared size, stays
#: below this counts as conserved (wide enough for float32 answers).
CONSERVED_TOLERANCE = 1e-4

Params = dict[str, np.ndarray]


def relu_network(params: dict[str, Any], x: Any) -> Any:
    r""":math:`f(x) = W_2\,\mathrm{relu}(W_1x + b_1) + b_2` for a batch ``x`` of shape ``(n, d)``:
    ``W1`` ``(h, d)``, ``b1`` ``(h,)``, ``W2`` ``(k, h)``, ``b2`` ``(k,)``; returns ``(n, k)``
    (``jax.numpy``)."""
    hidden = jax.nn.relu(jnp.dot(x, params["W1"].T) + params["b1"][None, :])
    return jnp.dot(hidden, params["W2"].T) + params["b2"][None, :]


def conserved_reference(W1: Any, b1: Any, W2: Any, b2: Any) -> np.ndarray:
    r"""The conserved quantity of each hidden unit :math:`j` under gradient flow,

    .. math::

        Q_j = \lVert W_1[j,:]\rVert^2 + b_1[j]^2 - \lVert W_2[:,j]\rVert^2 ,

    Noether's charge of the rescaling :math:`(W_1[j,:], b_1[j]) \to c\,(W_1[j,:], b_1[j])`,
    :math:`W_2[:,j] \to W_2[:,j]/c`, which leaves the network unchanged because
    :math:`\mathrm{relu}(cz) = c\,\mathrm{relu}(z)` for :math:`c > 0`. ``b2`` takes no part. Shape ``(h,)``.
    """
    W1, b1, W2 = (np.asarray(a, dtype=np.float64) for a in (W1, b1, W2))
    return np.sum(W1**2, axis=1) + b1**2 - np.sum(W2**2, axis=0)


def _random_params(seed: int, scale_in: float = 1.0) -> Params:
    keys = jax.random.split(jax.random.key(seed), 4)
    with jax.enable_x64(True):
        return {
            "W1": np.asarray(scale_in * jax.random.normal(keys[0], (HIDDEN, D_IN), jnp.float64)),
            "b1": np.asarray(0.8 * jax.random.normal(keys[1], (HIDDEN,), jnp.float64)),
            "W2": np.asarray(jax.random.normal(keys[2], (D_OUT, HIDDEN), jnp.float64) / math.sqrt(HIDDEN)),
            "b2": np.asarray(0.3 * jax.random.normal(keys[3], (D_OUT,), jnp.float64)),
        }


@functools.cache
def hidden_data() -> tuple[np.ndarray, np.ndarray]:
    r"""The hidden regression data of exercise 5.5: :math:`x` ``(16, 3)`` standard normal from
    ``jax.random.key(55)``, targets :math:`y = \sin(xM)` ``(16, 2)``, float64."""
    mix = np.array([[1.0, -0.5], [0.3, 0.8], [-0.7, 0.2]])
    with jax.enable_x64(True):
        x = np.asarray(jax.random.normal(jax.random.key(55), (SAMPLES, D_IN), jnp.float64))
    return x, np.sin(x @ mix)


def network_loss(params: dict[str, Any]) -> Any:
    r"""The hidden loss :math:`L = \frac{1}{2n}\sum_i \lVert f(x_i) - y_i\rVert^2` on :func:`hidden_data`."""
    x, y = hidden_data()
    return 0.5 * jnp.mean(jnp.sum((relu_network(params, x) - y) ** 2, axis=-1))


@functools.cache
def flow_path() -> tuple[Params, ...]:
    r"""Gradient flow :math:`\dot\theta = -\nabla L` of :func:`network_loss` from ``_random_params(56)``,
    saved at :data:`FLOW_TIMES`: diffrax's Tsit5 with the fixed step :data:`FLOW_DT`, in float64."""
    start = _random_params(56, scale_in=1 / math.sqrt(D_IN))
    hidden_data()  # drawn outside the trace below
    with jax.enable_x64(True):
        flat, unravel = ravel_pytree({k: jnp.asarray(v) for k, v in start.items()})
        term = diffrax.ODETerm(lambda t, y, args: -jax.grad(lambda z: network_loss(unravel(z)))(y))
        solution = diffrax.diffeqsolve(
            term,
            diffrax.Tsit5(),
            t0=0.0,
            t1=float(FLOW_TIMES[-1]),
            dt0=FLOW_DT,
            y0=flat,
            saveat=diffrax.SaveAt(ts=jnp.asarray(FLOW_TIMES)),
            max_steps=math.ceil(FLOW_TIMES[-1] / FLOW_DT) + 10,
        )
        return tuple({k: np.asarray(v) for k, v in unravel(y).items()} for y in solution.ys)


@functools.cache
def check_params() -> Params:
    """A second set of weights, on which the formula of exercise 5.5 is compared directly."""
    return _random_params(57)


def _norms(params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: the squared incoming weights, the squared bias, the squared outgoing weights."""
    return np.sum(params["W1"] ** 2, axis=1), params["b1"] ** 2, np.sum(params["W2"] ** 2, axis=0)


def _variants_5_5(params: Params) -> list[tuple[np.ndarray, bool, str]]:
    """Quantities from natural mistakes: value, whether gradient flow conserves it, and why it is wrong."""
    w_in, b_in, w_out = _norms(params)
    q = w_in + b_in - w_out
    return [
        (
            w_in - w_out,
            False,
            "that is ‖W₁[j,:]‖² − ‖W₂[:,j]‖² without the bias. The rescaling multiplies b₁[j] along with "
            "W₁[j,:] — relu(c(w·x + b)) = c·relu(w·x + b) — so b₁[j]² belongs with the incoming weights.",
        ),
        (-q, True, "conserved, but with the opposite sign: the statement counts the incoming side positive."),
        (
            -(w_in - w_out),
            False,
            "the sign is reversed (the incoming side counts positive), and the bias b₁[j] is missing: it "
            "is rescaled with W₁[j,:].",
        ),
        (
            0.5 * q,
            True,
            "conserved, but half of Q_j: the statement's squared norms come with coefficient ±1.",
        ),
        (2 * q, True, "conserved, but twice Q_j: the statement's squared norms come with coefficient ±1."),
        (
            q - float(np.sum(params["b2"] ** 2)),
            False,
            "‖b₂‖² takes no part: the output bias is not rescaled with unit j (and is shared by all units).",
        ),
        (
            np.sqrt(w_in + b_in) - np.sqrt(w_out),
            False,
            "that is a difference of norms, not of squared norms. Along the flow d‖a‖²/dt = 2a·ȧ, and the "
            "symmetry makes the incoming and outgoing terms equal — for squared norms.",
        ),
        (
            (w_in + b_in) / w_out,
            False,
            "a ratio of squared norms is not conserved. The rescaling c multiplies it by c⁴; gradient flow "
            "conserves the difference.",
        ),
        (
            np.sqrt((w_in + b_in) / w_out),
            False,
            "a ratio of norms is not conserved (the rescaling multiplies it by c²); gradient flow "
            "conserves the difference of squared norms.",
        ),
        (
            np.sqrt((w_in + b_in) * w_out),
            False,
            "the product ‖(W₁[j,:], b₁[j])‖·‖W₂[:,j]‖ is invariant under the rescaling — the symmetry "
            "leaves it alone — but gradient flow does not conserve it. Noether's quantity is the charge of "
            "the symmetry's generator: a difference of squared norms.",
        ),
        (
            (w_in + b_in) * w_out,
            False,
            "the product of squared norms is invariant under the rescaling but not conserved by the flow; "
            "Noether's quantity is the difference.",
        ),
        (
            w_in + b_in + w_out,
            False,
            "a sum of squared norms is not conserved: the outgoing side enters with a minus sign.",
        ),
    ]


def _conserved_call(answer: Any, params: Params, where: str) -> Any:
    raw = call_quietly(answer, *(params[k].copy() for k in ("W1", "b1", "W2", "b2")), what="your conserved")
    if isinstance(raw, tuple):
        raise Wrong(f"{where} you returned {len(raw)} values; return one array of shape ({HIDDEN},).")
    return raw


def _drift(answer: Any) -> tuple[float, int, float, float]:
    """The largest change of the learner's quantity along :func:`flow_path`: (relative, unit, start, end)."""
    path = flow_path()
    values = []
    for index, params in enumerate(path):
        raw = _conserved_call(answer, params, f"at t = {FLOW_TIMES[index]:g} of the flow")
        values.append(as_array(raw, (HIDDEN,), what="your conserved quantity").copy())
    values = np.array(values)
    change = np.abs(values - values[0])
    scale = max(float(np.max(np.sum(_norms(path[0]), axis=0))), 1.0)
    t, unit = np.unravel_index(int(np.argmax(change)), change.shape)
    return float(change[t, unit] / scale), int(unit), float(values[0, unit]), float(values[t, unit])


@exercise(
    "5.5",
    title="The conserved quantity of each hidden unit (Noether)",
    answer="conserved",
    notebook=NOTEBOOK,
    hints=(
        "The rescaling of unit j multiplies everything that enters the unit by c and everything that "
        "leaves it by 1/c. Which parameters enter unit j? The bias b₁[j] is added before the ReLU.",
        "Differentiate L(c·W₁[j,:], c·b₁[j], W₂[:,j]/c) at c = 1: W₁[j]·∂L/∂W₁[j] + b₁[j]·∂L/∂b₁[j] − "
        "W₂[:,j]·∂L/∂W₂[:,j] = 0. Under gradient flow d‖a‖²/dt = −2a·∂L/∂a for each block a.",
        "return np.sum(W1**2, axis=1) + b1**2 - np.sum(W2**2, axis=0) — rows of W1, columns of W2.",
    ),
    time_limit=30.0,
)
def check_conserved(answer: Any) -> str | None:
    r"""``answer(W1, b1, W2, b2)`` returns :func:`conserved_reference` on :func:`check_params`, and its
    value does not change along the hidden gradient flow :func:`flow_path`."""
    params = check_params()
    where = f"on weights W1 {params['W1'].shape}, b1 {params['b1'].shape}, W2 {params['W2'].shape}"
    raw = _conserved_call(answer, params, where)
    expected = conserved_reference(*(params[k] for k in ("W1", "b1", "W2", "b2")))
    scale = max(float(np.max(np.sum(_norms(params), axis=0))), 1.0)
    got = as_array(raw, what=f"the value returned {where}")
    if got.size == 1:
        if close(float(got.reshape(())), float(np.sum(expected)), _LOOSE, _LOOSE * scale):
            raise Wrong(
                f"{where} you returned one number, Σ_j Q_j = {float(got.reshape(())):.5g}. It is conserved, "
                "but it is only the sum: every hidden unit has its own rescaling c_j, hence its own "
                f"conserved quantity. Return the vector of shape ({HIDDEN},)."
            )
        raise Wrong(f"{where} you returned one number; return one value per hidden unit, shape ({HIDDEN},).")
    if got.shape != (HIDDEN,):
        raise Wrong(
            f"{where} you returned shape {got.shape}; expected ({HIDDEN},), one value per hidden unit. Unit "
            "j has incoming weights W1[j, :] (a row) and outgoing weights W2[:, j] (a column)."
        )
    rtol = tolerance(raw)
    if close(got, expected, rtol, rtol * scale):
        drift, unit, start, end = _drift(answer)
        if drift > CONSERVED_TOLERANCE:  # cannot happen for the exact formula; kept as a guard
            raise Wrong(
                f"your quantity for unit {unit} changed along the flow from {start:.6g} to {end:.6g}."
            )
        path = flow_path()
        loss0, loss1 = float(in_float64(network_loss, path[0])), float(in_float64(network_loss, path[-1]))
        return (
            "Q_j = ‖W₁[j,:]‖² + b₁[j]² − ‖W₂[:,j]‖², one per unit: along a gradient flow that lowers the "
            f"hidden loss from {loss0:.3f} to {loss1:.3f} it changes by at most {drift:.1g} (relative) — "
            "rounding. Gradient descent breaks it at second order: each step changes Q_j by exactly "
            "η²(‖∂L/∂(W₁[j], b₁[j])‖² − ‖∂L/∂W₂[:,j]‖²)."
        )
    for value, conserved, text in _variants_5_5(params):
        if close(got, value, _LOOSE, _LOOSE * scale):
            if conserved:
                raise Wrong(text)
            drift, unit, start, end = _drift(answer)
            raise Wrong(
                f"{text} (Along a gradient flow of a hidden loss your quantity for unit {unit} moves from "
                f"{start:.4g} to {end:.4g}.)"
            )
    if close(got, expected, _LOOSE, _LOOSE * scale):
        raise Wrong(f"your values agree with Q_j only to float32 digits. {FLOAT32_ADVICE}")
    drift, unit, start, end = _drift(answer)
    if drift > CONSERVED_TOLERANCE:
        raise Wrong(
            f"not conserved: along a gradient flow of a hidden loss your quantity for unit {unit} moves "
            f"from {start:.4g} to {end:.4g}. On weights W1 {params['W1'].shape}, b1 {params['b1'].shape}, "
            f"W2 {params['W2'].shape} you return {show(got)}; expected {show(expected)}."
        )
    raise Wrong(
        f"conserved along the flow, but not Q_j: {where} you return {show(got)}; expected {show(expected)} "
        "(incoming squared norm plus squared bias, minus outgoing squared norm)."
    )


# ------------------------------------------------------------------------ exercise 5.6


def _quadratic_5_6(theta: Any) -> Any:
    return 0.5 * (3.0 * theta[0] ** 2 + 2.0 * theta[0] * theta[1] + 2.0 * theta[1] ** 2) - theta[1]


def _logcosh_5_6(theta: Any) -> Any:
    return jnp.sum(jnp.log(jnp.cosh(theta - jnp.array([0.5, -1.0, 0.2])))) + 0.3 * theta[0] * theta[2]


def _rosenbrock_5_6(theta: Any) -> Any:
    return (1 - theta[0]) ** 2 + 10.0 * (theta[1] - theta[0] ** 2) ** 2


def _wave_5_6(theta: Any) -> Any:
    return jnp.sin(theta[0]) * jnp.cos(2 * theta[1]) + 0.25 * jnp.sum(theta**2)


class ModifiedCase(NamedTuple):
    """A test case of exercise 5.6: a loss, a step size, a point, and a label."""

    loss: Callable[[Any], Any]
    eta: float
    theta: np.ndarray
    label: str


#: The cases of exercise 5.6, in order (none at a critical point, where every variant agrees).
CASES_5_6: tuple[ModifiedCase, ...] = (
    ModifiedCase(_quadratic_5_6, 0.1, np.array([1.0, -0.5]), "a 2-D quadratic"),
    ModifiedCase(_logcosh_5_6, 0.05, np.array([2.0, -2.0, 1.0]), "a 3-D log-cosh loss"),
    ModifiedCase(_rosenbrock_5_6, 0.02, np.array([-0.5, 0.8]), "a Rosenbrock valley"),
    ModifiedCase(_wave_5_6, 0.3, np.array([0.4, 1.1]), "a wavy 2-D loss"),
)


@functools.cache
def _value_and_grad(loss: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return jax.jit(jax.value_and_grad(loss))


def loss_and_gradient_norm(loss: Callable[[Any], Any], theta: Any) -> tuple[float, float]:
    r""":math:`L(\theta)` and :math:`\lVert\nabla L(\theta)\rVert^2`, by :func:`jax.grad` in float64."""

    def both() -> jax.Array:
        value, grad = _value_and_grad(loss)(jnp.asarray(theta, dtype=jnp.float64))
        return jnp.stack([value, jnp.sum(grad**2)])

    value, gnorm = in_float64(both)
    return float(value), float(gnorm)


def modified_loss_reference(loss: Callable[[Any], Any], eta: float) -> Callable[[Any], Any]:
    r"""The modified loss of gradient descent with step :math:`\eta`,

    .. math::

        \tilde L(\theta) = L(\theta) + \frac{\eta}{4}\lVert\nabla L(\theta)\rVert^2 ,

    whose gradient flow :math:`\dot\theta = -\nabla\tilde L` passes through the iterates of
    :math:`\theta_{k+1} = \theta_k - \eta\nabla L(\theta_k)` at :math:`t = k\eta` up to :math:`O(\eta^2)`
    per step (one order better than the flow of :math:`L`); backward error analysis.
    """
    return dynamics.modified_loss(loss, eta)


def _variants_5_6(value: float, gnorm: float, eta: float) -> list[tuple[float, str]]:
    return [
        (
            value + eta / 2 * gnorm,
            "the coefficient is η/2; it is η/4. GD's first correction to the flow is −(η/2)∇²L∇L, and "
            "∇‖∇L‖² = 2∇²L∇L: the 2 halves the coefficient.",
        ),
        (
            value - eta / 4 * gnorm,
            "the sign of the correction is flipped: GD follows the flow of L + (η/4)‖∇L‖², which penalizes "
            "large gradients — an implicit bias towards flat regions.",
        ),
        (value + eta * gnorm, "the coefficient is η/4, not η."),
        (value - eta / 2 * gnorm, "both the sign and the factor are off: L̃ = L + (η/4)‖∇L‖²."),
        (value + eta / 4 * math.sqrt(gnorm), "the norm of the gradient enters squared: (η/4)‖∇L‖²."),
        (eta / 4 * gnorm, "that is only the correction (η/4)‖∇L‖²; the modified loss is L plus it."),
        (value + eta**2 / 4 * gnorm, "the correction is first order in η: (η/4)‖∇L‖², not (η²/4)‖∇L‖²."),
        (value + gnorm / 4, "η is missing: the correction is (η/4)‖∇L‖²."),
        (value, "that is L itself; the modified loss adds (η/4)‖∇L‖²."),
    ]


@exercise(
    "5.6",
    title="The modified loss that gradient descent follows",
    answer="modified_loss",
    notebook=NOTEBOOK,
    hints=(
        "Backward error analysis: look for a flow θ̇ = −∇L − η·g(θ) whose solution at t = η matches one GD "
        "step to O(η³). Expand θ(η) in a Taylor series and compare with θ − η∇L.",
        "The flow of −∇L over a time η overshoots GD by (η²/2)∇²L∇L; the correction g = ½∇²L∇L removes it, "
        "and ∇²L∇L = ½∇‖∇L‖². So the modified flow is the gradient flow of L + (η/4)‖∇L‖².",
        "def modified_loss(loss, eta): grad = jax.grad(loss); return lambda theta: loss(theta) + eta / 4 * "
        "jnp.sum(grad(theta) ** 2)",
    ),
)
def check_modified_loss(answer: Any) -> str | None:
    r"""``answer(loss, eta)`` returns a function whose value is :math:`L + (\eta/4)\lVert\nabla L\rVert^2`
    on each of :data:`CASES_5_6`."""
    for case in CASES_5_6:
        where = f"for {case.label} with η = {case.eta:g} at θ = {show(case.theta)}"
        modified = call_quietly(answer, case.loss, case.eta, what="your modified_loss")
        if not callable(modified):
            raise Wrong(
                f"{where} modified_loss returned {describe(modified)}; return a function of theta (e.g. a "
                "lambda or an inner def)."
            )
        raw = call_quietly(modified, case.theta.copy(), what="the function modified_loss returned")
        got = as_number(raw, what=f"the modified loss {where}")
        value, gnorm = loss_and_gradient_norm(case.loss, case.theta)
        expected = value + case.eta / 4 * gnorm
        if close(got, expected, tolerance(raw), 1e-12):
            continue
        for candidate, text in _variants_5_6(value, gnorm, case.eta):
            if close(got, candidate, _LOOSE, 1e-12):
                raise Wrong(f"{where} you return {got:.6g}: {text}")
        if close(got, expected, _LOOSE, 1e-7):
            raise Wrong(f"{where} your value agrees with L̃ only to float32 digits. {FLOAT32_ADVICE}")
        c = (got - value) / gnorm
        raise Wrong(
            f"{where} you return {got:.6g}; L̃ = L + (η/4)‖∇L‖² = {value:.6g} + {case.eta / 4:g} × "
            f"{gnorm:.6g} = {expected:.6g}. Yours reads as L + c‖∇L‖² with c = {c:.4g}, where η/4 = "
            f"{case.eta / 4:g}."
        )
    case = CASES_5_6[2]
    gnorm = loss_and_gradient_norm(case.loss, case.theta)[1]
    return (
        "L̃ = L + (η/4)‖∇L‖²: one step of gradient descent matches the flow of L̃ over a time η up to "
        "O(η³), the flow of L only up to O(η²). The correction penalizes steep gradients — on the "
        f"Rosenbrock valley at η = {case.eta:g} it adds {case.eta / 4 * gnorm:.3g} — so GD drifts towards "
        "flatter regions: an implicit regularization that grows with the step size."
    )
