r"""Integrators for Hamiltonian systems, written out by hand: explicit Euler, symplectic
Euler, Störmer–Verlet (leapfrog) and classical Runge–Kutta, with the diagnostics that tell
them apart.

A separable Hamiltonian system has coordinates :math:`q \in \mathbb{R}^d`, momenta
:math:`p \in \mathbb{R}^d` and energy :math:`H(q, p) = T(p) + V(q)`; Hamilton's equations are

.. math::

    \dot q = \nabla T(p), \qquad \dot p = -\nabla V(q) .

Every method is an ``(init, step)`` pair (:class:`Integrator`) acting on a :class:`State`
``(q, p, t)``; ``step(state, dt)`` is one pure, jit-able step of size :math:`h` = ``dt``
(negative ``dt`` steps backwards in time) and :func:`run` iterates it with ``lax.scan``.

The symplectic methods (:func:`symplectic_euler`, :func:`leapfrog`) are compositions of
two exact flows, the *kick* :math:`p \mapsto p - h\nabla V(q)` and the *drift*
:math:`q \mapsto q + h\nabla T(p)`. Each is a shear of phase space, so their composition
preserves area (:func:`jacobian_determinant` = 1) and the symplectic form
(:func:`symplecticity_residual` = 0), and its energy error stays bounded for exponentially
long times instead of drifting. Explicit Euler and RK4 are general ODE methods (they also
take a vector field ``field(t, q, p) -> (dq/dt, dp/dt)``): neither preserves area, and their
energy errors accumulate.

Systems (unit mass, :math:`T = \frac12\lVert p\rVert^2`): :func:`harmonic_oscillator`,
:func:`pendulum` and :func:`kepler` (the two-body problem reduced to a central force,
:math:`GM = 1`), with the Kepler orbit's exact period, energy and angular momentum
(:func:`kepler_orbit`) and its perihelion as a starting point (:func:`kepler_initial_state`).

Reference: E. Hairer, C. Lubich and G. Wanner, *Geometric Numerical Integration*
(Springer, 2006), chapters I, VI and IX.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_positive as _check_positive
from ._checks import is_int as _is_int
from ._checks import is_real as _is_real

__all__ = [
    "Hamiltonian",
    "Integrator",
    "KeplerOrbit",
    "State",
    "angular_momentum",
    "energy",
    "euler",
    "hamiltonian_field",
    "harmonic_oscillator",
    "jacobian_determinant",
    "kepler",
    "kepler_initial_state",
    "kepler_orbit",
    "leapfrog",
    "leapfrog_shadow_energy",
    "pendulum",
    "rk4",
    "run",
    "step_jacobian",
    "symplectic_euler",
    "symplecticity_residual",
]


class State(NamedTuple):
    """A point of phase space at a time.

    Attributes:
        q: coordinates :math:`q`, shape ``(d,)`` (``(..., d)`` along a trajectory).
        p: momenta :math:`p`, same shape as ``q``.
        t: time :math:`t`, a scalar (``(...,)`` along a trajectory).
    """

    q: Array
    p: Array
    t: Array


class Integrator(NamedTuple):
    """A one-step method as an ``(init, step)`` pair (as in optax and jax-md).

    Attributes:
        init: ``init(q, p, t=0.0) -> State``, checks shapes and builds the state.
        step: ``step(state, dt) -> State``, one step of size ``dt``, pure and jit-able;
            ``dt`` may be negative (a step backwards in time).
    """

    init: Callable[..., State]
    step: Callable[[State, Any], State]


class Hamiltonian(NamedTuple):
    r"""A separable Hamiltonian :math:`H(q, p) = T(p) + V(q)`.

    Attributes:
        kinetic: :math:`T`, from momenta of shape ``(d,)`` to a scalar.
        potential: :math:`V`, from coordinates of shape ``(d,)`` to a scalar.
    """

    kinetic: Callable[[Array], Array]
    potential: Callable[[Array], Array]


#: A first-order system in phase-space form, ``field(t, q, p) -> (dq/dt, dp/dt)``.
VectorField = Callable[[Array, Array, Array], tuple[Array, Array]]


# --------------------------------------------------------------------------- validation


def _check_system(system: Any, what: str) -> Hamiltonian:
    if not isinstance(system, Hamiltonian):
        raise ValueError(
            f"{what} needs a separable Hamiltonian (physml.integrators.Hamiltonian(kinetic, potential)), "
            f"got {type(system).__name__}"
        )
    return system


def _check_state(state: Any) -> State:
    if not isinstance(state, State):
        raise ValueError(f"state must be a physml.integrators.State(q, p, t), got {type(state).__name__}")
    q, p, t = (jnp.asarray(x) for x in state)
    if q.ndim != 1 or q.shape[0] == 0 or p.shape != q.shape or jnp.ndim(t) != 0:
        raise ValueError(
            f"a state holds q and p of one shape (d,) and a scalar t, got q {q.shape}, p {p.shape}, "
            f"t {jnp.shape(t)}; use shape (1,) for one degree of freedom"
        )
    if not (jnp.issubdtype(q.dtype, jnp.floating) and jnp.issubdtype(p.dtype, jnp.floating)):
        raise ValueError(f"q and p must be float arrays, got dtypes {q.dtype} and {p.dtype}")
    dtype = jnp.result_type(q, p)
    return State(q.astype(dtype), p.astype(dtype), t.astype(dtype))


def _init(q: Float[ArrayLike, " d"], p: Float[ArrayLike, " d"], t: float = 0.0) -> State:
    """The state ``(q, p, t)``, after checking that ``q`` and ``p`` are finite float vectors of one shape."""
    try:
        q, p = jnp.asarray(q), jnp.asarray(p)
    except TypeError as err:
        raise ValueError("q and p must be 1-D float arrays of shape (d,)") from err
    for name, x in (("q", q), ("p", p)):
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise ValueError(f"{name} must be a float array, got dtype {x.dtype}")
    dtype = jnp.result_type(q, p)
    if q.ndim != 1 or q.shape[0] == 0 or p.shape != q.shape:
        raise ValueError(
            f"q and p must be 1-D arrays of the same shape (d,), got {q.shape} and {p.shape}; "
            "use shape (1,) for one degree of freedom"
        )
    if not _is_real(t) and not (hasattr(t, "shape") and jnp.ndim(t) == 0):
        raise ValueError(f"t must be a number, got {t!r}")
    if not isinstance(q, jax.core.Tracer) and not isinstance(p, jax.core.Tracer):
        if not (np.all(np.isfinite(np.asarray(q))) and np.all(np.isfinite(np.asarray(p)))):
            raise ValueError("q and p must be finite")
    return State(q.astype(dtype), p.astype(dtype), jnp.asarray(t, dtype))


# ------------------------------------------------------------------------------ systems


def harmonic_oscillator(omega: float = 1.0) -> Hamiltonian:
    r"""The harmonic oscillator :math:`H = \frac12\lVert p\rVert^2 + \frac12\omega^2\lVert q\rVert^2`
    (any dimension :math:`d`).

    Its flow is a rotation of phase space: :math:`q(t) = q_0\cos\omega t + (p_0/\omega)\sin\omega t`,
    :math:`p(t) = p_0\cos\omega t - \omega q_0\sin\omega t`.

    Args:
        omega: angular frequency :math:`\omega > 0`, in radians per unit time.
    """
    omega = _check_positive(omega, "omega")
    return Hamiltonian(_half_square, lambda q: 0.5 * omega**2 * jnp.sum(q**2))


def pendulum(omega0: float = 1.0) -> Hamiltonian:
    r"""The plane pendulum :math:`H = \frac12 p^2 - \omega_0^2\cos q` (angle :math:`q` from the
    bottom; :math:`\omega_0 = \sqrt{g/\ell}`, so :math:`V = -\cos q` by default).

    Coordinates of shape ``(1,)``; a vector of shape ``(d,)`` is :math:`d` independent pendula.
    Small swings have period :math:`2\pi/\omega_0`; :math:`H > \omega_0^2` rotates over the top.
    """
    omega0 = _check_positive(omega0, "omega0")
    return Hamiltonian(_half_square, lambda q: -(omega0**2) * jnp.sum(jnp.cos(q)))


def kepler() -> Hamiltonian:
    r"""The Kepler problem in the plane, :math:`H = \frac12\lVert p\rVert^2 - 1/\lVert q\rVert`.

    Two bodies attracting by gravity, reduced to the relative coordinate :math:`q \in
    \mathbb{R}^2` of a unit reduced mass in the central force :math:`-q/\lVert q\rVert^3`, with
    :math:`GM = 1`. Bound orbits (:math:`H < 0`) are ellipses with a focus at the origin; see
    :func:`kepler_orbit` for their period, energy and angular momentum.
    """
    return Hamiltonian(_half_square, _kepler_potential)


def _half_square(p: Array) -> Array:
    return 0.5 * jnp.sum(p**2)


def _kepler_potential(q: Array) -> Array:
    if jnp.shape(q) != (2,):
        raise ValueError(f"the Kepler problem is planar: q must have shape (2,), got {jnp.shape(q)}")
    return -1.0 / jnp.sqrt(jnp.sum(q**2))


class KeplerOrbit(NamedTuple):
    r"""The exact invariants of a bound Kepler orbit (:math:`GM = 1`).

    Attributes:
        period: :math:`P = 2\pi a^{3/2}` (Kepler's third law).
        energy: :math:`E = -1/(2a)`.
        angular_momentum: :math:`\ell = \sqrt{a(1 - e^2)}`.
        perihelion: closest distance :math:`r_p = a(1 - e)`.
        aphelion: farthest distance :math:`r_a = a(1 + e)`.
    """

    period: float
    energy: float
    angular_momentum: float
    perihelion: float
    aphelion: float


def _check_orbit(eccentricity: Any, semi_major_axis: Any) -> tuple[float, float]:
    if not (_is_real(eccentricity) and 0 <= eccentricity < 1):
        raise ValueError(
            f"eccentricity must be a number in [0, 1) for a bound orbit, got {eccentricity!r} "
            "(e = 1 is a parabola, e > 1 a hyperbola)"
        )
    return float(eccentricity), _check_positive(semi_major_axis, "semi_major_axis")


def kepler_orbit(eccentricity: float, semi_major_axis: float = 1.0) -> KeplerOrbit:
    r"""Period, energy, angular momentum and turning points of the Kepler ellipse with
    eccentricity :math:`e \in [0, 1)` and semi-major axis :math:`a > 0` (see :class:`KeplerOrbit`)."""
    e, a = _check_orbit(eccentricity, semi_major_axis)
    return KeplerOrbit(
        period=2 * math.pi * a**1.5,
        energy=-1 / (2 * a),
        angular_momentum=math.sqrt(a * (1 - e * e)),
        perihelion=a * (1 - e),
        aphelion=a * (1 + e),
    )


def kepler_initial_state(eccentricity: float, semi_major_axis: float = 1.0, dtype: Any = None) -> State:
    r"""The Kepler orbit of eccentricity :math:`e` and semi-major axis :math:`a` at perihelion, :math:`t = 0`.

    The body sits on the positive :math:`x` axis at :math:`r_p = a(1 - e)` and moves
    anticlockwise with the vis-viva speed :math:`v_p^2 = 2/r_p - 1/a = (1 + e)/(a(1 - e))`:

    .. math::

        q_0 = (a(1 - e),\, 0), \qquad p_0 = \Big(0,\, \sqrt{\tfrac{1 + e}{a(1 - e)}}\Big),

    so that :math:`H = -1/(2a)` and :math:`q \times p = \sqrt{a(1 - e^2)}` (:func:`kepler_orbit`).

    Args:
        eccentricity: :math:`e \in [0, 1)`.
        semi_major_axis: :math:`a > 0`.
        dtype: float dtype of the state (JAX's default float if omitted).

    Example:
        >>> s = kepler_initial_state(0.5)
        >>> [round(float(x), 6) for x in (*s.q, *s.p)]
        [0.5, 0.0, 0.0, 1.732051]
    """
    e, a = _check_orbit(eccentricity, semi_major_axis)
    dtype = jnp.result_type(float) if dtype is None else dtype
    q = jnp.array([a * (1 - e), 0.0], dtype)
    p = jnp.array([0.0, math.sqrt((1 + e) / (a * (1 - e)))], dtype)
    return State(q, p, jnp.zeros((), dtype))


def hamiltonian_field(system: Hamiltonian) -> VectorField:
    r"""Hamilton's equations as a vector field, :math:`(t, q, p) \mapsto (\nabla T(p), -\nabla V(q))`."""
    system = _check_system(system, "hamiltonian_field")
    grad_t, grad_v = jax.grad(system.kinetic), jax.grad(system.potential)
    return lambda t, q, p: (grad_t(p), -grad_v(q))


def _as_field(system: Hamiltonian | VectorField, what: str) -> VectorField:
    if isinstance(system, Hamiltonian):
        return hamiltonian_field(system)
    if callable(system):
        return system
    raise ValueError(
        f"{what} takes a Hamiltonian or a vector field field(t, q, p) -> (dq/dt, dp/dt), "
        f"got {type(system).__name__}"
    )


# ---------------------------------------------------------------------------- integrators


def _dt(dt: Any, like: Array) -> Array:
    return jnp.asarray(dt, like.dtype)


def euler(system: Hamiltonian | VectorField) -> Integrator:
    r"""Explicit (forward) Euler: both updates use the old point,

    .. math::

        q_{n+1} = q_n + h\,\dot q(t_n, q_n, p_n), \qquad p_{n+1} = p_n + h\,\dot p(t_n, q_n, p_n).

    First order, one force evaluation a step, and not symplectic: on the harmonic oscillator
    the step is the matrix :math:`\begin{pmatrix}1 & h\\ -h\omega^2 & 1\end{pmatrix}`, whose
    determinant :math:`1 + h^2\omega^2` inflates phase-space area and multiplies the energy
    by exactly :math:`1 + h^2\omega^2` every step — the orbit spirals outwards.

    Args:
        system: a :class:`Hamiltonian`, or any vector field ``field(t, q, p) -> (dq/dt, dp/dt)``.
    """
    field = _as_field(system, "euler")

    def step(state: State, dt: Any) -> State:
        q, p, t = state
        h = _dt(dt, q)
        dq, dp = field(t, q, p)
        return State(q + h * dq, p + h * dp, t + h)

    return Integrator(_init, step)


def _kick(grad_v: Callable, q: Array, p: Array, h: Array) -> Array:
    return p - h * grad_v(q)


def _drift(grad_t: Callable, q: Array, p: Array, h: Array) -> Array:
    return q + h * grad_t(p)


def symplectic_euler(system: Hamiltonian, order: str = "kick-drift") -> Integrator:
    r"""Symplectic Euler, in either order of its two exact sub-flows.

    ``order="kick-drift"`` (Hairer–Lubich–Wanner's "symplectic Euler"; the momentum uses the old
    coordinates, the coordinates the new momentum):

    .. math::

        p_{n+1} = p_n - h\nabla V(q_n), \qquad q_{n+1} = q_n + h\nabla T(p_{n+1}),

    and ``order="drift-kick"``, its adjoint, :math:`q_{n+1} = q_n + h\nabla T(p_n)`,
    :math:`p_{n+1} = p_n - h\nabla V(q_{n+1})`. Each is first order, explicit for a separable
    :math:`H`, and symplectic: a composition of two shears, so the step's Jacobian has
    determinant exactly 1. Heavy-ball momentum is the kick-drift form applied to a damped
    oscillator (:func:`physml.dynamics.oscillator_from_momentum`).

    Args:
        system: a separable :class:`Hamiltonian`.
        order: ``"kick-drift"`` or ``"drift-kick"``.
    """
    system = _check_system(system, "symplectic_euler")
    if order not in ("kick-drift", "drift-kick"):
        raise ValueError(f'order must be "kick-drift" or "drift-kick", got {order!r}')
    grad_t, grad_v = jax.grad(system.kinetic), jax.grad(system.potential)

    def kick_drift(state: State, dt: Any) -> State:
        q, p, t = state
        h = _dt(dt, q)
        p = _kick(grad_v, q, p, h)
        return State(_drift(grad_t, q, p, h), p, t + h)

    def drift_kick(state: State, dt: Any) -> State:
        q, p, t = state
        h = _dt(dt, q)
        q = _drift(grad_t, q, p, h)
        return State(q, _kick(grad_v, q, p, h), t + h)

    return Integrator(_init, kick_drift if order == "kick-drift" else drift_kick)


def leapfrog(system: Hamiltonian) -> Integrator:
    r"""Störmer–Verlet in its velocity form, kick–drift–kick (velocity Verlet):

    .. math::

        p_{n+1/2} = p_n - \tfrac h2\nabla V(q_n), \quad
        q_{n+1} = q_n + h\nabla T(p_{n+1/2}), \quad
        p_{n+1} = p_{n+1/2} - \tfrac h2\nabla V(q_{n+1}).

    It is the composition of the two symplectic Euler steps of size :math:`h/2`
    (kick-drift, then drift-kick), hence symplectic and *symmetric*: a step of :math:`-h`
    undoes a step of :math:`h` exactly, and the method is second order. The closing half
    kick's force is the next step's opening one, so a loop that carries it costs one force
    evaluation a step; this ``step``, a pure map of :math:`(q, p)` (so that its Jacobian is the
    method's), evaluates it twice. Positions and momenta come out at the same times.

    On the harmonic oscillator it conserves exactly the shadow energy
    :func:`leapfrog_shadow_energy`, so its energy error is bounded for ever (for
    :math:`\omega h < 2`); on nonlinear systems a modified Hamiltonian
    :math:`H + O(h^2)` is conserved for exponentially long times.

    Args:
        system: a separable :class:`Hamiltonian`.
    """
    system = _check_system(system, "leapfrog")
    grad_t, grad_v = jax.grad(system.kinetic), jax.grad(system.potential)

    def step(state: State, dt: Any) -> State:
        q, p, t = state
        h = _dt(dt, q)
        p = _kick(grad_v, q, p, h / 2)
        q = _drift(grad_t, q, p, h)
        return State(q, _kick(grad_v, q, p, h / 2), t + h)

    return Integrator(_init, step)


def rk4(system: Hamiltonian | VectorField) -> Integrator:
    r"""The classical fourth-order Runge–Kutta method for :math:`\dot y = f(t, y)`, :math:`y = (q, p)`:

    .. math::

        k_1 = f(t_n, y_n),\quad k_2 = f(t_n + \tfrac h2, y_n + \tfrac h2 k_1),\quad
        k_3 = f(t_n + \tfrac h2, y_n + \tfrac h2 k_2),\quad k_4 = f(t_n + h, y_n + h k_3),

    .. math::

        y_{n+1} = y_n + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4).

    Fourth order with four evaluations of :math:`f` a step; not symplectic, so on a
    Hamiltonian system its energy error accumulates. On the harmonic oscillator one step is
    :math:`R(hA)` with :math:`R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24` and :math:`A` of
    eigenvalues :math:`\pm i\omega`, so every step multiplies the energy by exactly
    :math:`\lvert R(i\omega h)\rvert^2 = 1 - (\omega h)^6/72 + (\omega h)^8/576`: a steady
    loss. On an eccentric Kepler orbit the error grows linearly in time, one increment per
    perihelion passage.

    Args:
        system: a :class:`Hamiltonian`, or any vector field ``field(t, q, p) -> (dq/dt, dp/dt)``
            (time-dependent and dissipative ones included).
    """
    field = _as_field(system, "rk4")

    def step(state: State, dt: Any) -> State:
        q, p, t = state
        h = _dt(dt, q)
        k1 = field(t, q, p)
        k2 = field(t + h / 2, q + h / 2 * k1[0], p + h / 2 * k1[1])
        k3 = field(t + h / 2, q + h / 2 * k2[0], p + h / 2 * k2[1])
        k4 = field(t + h, q + h * k3[0], p + h * k3[1])
        q = q + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        p = p + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        return State(q, p, t + h)

    return Integrator(_init, step)


# ------------------------------------------------------------------------------- running


def run(
    integrator: Integrator,
    state: State,
    n_steps: int,
    dt: float,
    *,
    every: int = 1,
    observe: Callable[[State], Any] | None = None,
) -> Any:
    r"""Take ``n_steps`` steps of size ``dt`` with ``lax.scan``, recording the trajectory.

    Args:
        integrator: an :class:`Integrator`, e.g. ``leapfrog(kepler())``.
        state: the initial :class:`State`, e.g. ``integrator.init(q0, p0)``.
        n_steps: number of steps, a positive multiple of ``every``.
        dt: step size :math:`h > 0` (to run backwards, flip the momenta).
        every: record one state every ``every`` steps.
        observe: if given, a function of one :class:`State` (say
            ``lambda s: energy(system, s)``) recorded instead of the state — a long run then
            keeps only what is measured. Define it once: it is part of the compiled program.

    Returns:
        the states (or observations) at steps :math:`0, k, 2k, \dots, n` (:math:`k` = ``every``),
        stacked on a new leading axis of length ``n_steps // every + 1``: for states, a
        :class:`State` with ``q`` and ``p`` of shape ``(n_steps // every + 1, d)`` and ``t``
        of shape ``(n_steps // every + 1,)``. The last entry is the final state.

    Example:
        >>> import jax.numpy as jnp
        >>> osc = harmonic_oscillator()
        >>> lf = leapfrog(osc)
        >>> path = run(lf, lf.init(jnp.array([1.0]), jnp.array([0.0])), 100, 0.1)
        >>> path.q.shape, round(float(path.t[-1]), 3)
        ((101, 1), 10.0)
    """
    if not isinstance(integrator, Integrator):
        raise ValueError(
            f"integrator must be a physml.integrators.Integrator, got {type(integrator).__name__}"
        )
    state = _check_state(state)
    for name, value in (("n_steps", n_steps), ("every", every)):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if n_steps % every:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of every = {every}")
    dt = _check_positive(dt, "dt (the step size)")
    if observe is not None and not callable(observe):
        raise ValueError(f"observe must be a function of a State, got {type(observe).__name__}")
    # The number of records is static; dt and ``every`` are traced, so runs of one integrator
    # with different step sizes (or ``every = n_steps`` for any n_steps) compile once.
    return _run(
        integrator.step,
        observe,
        int(n_steps) // int(every),
        state,
        jnp.asarray(dt, state.q.dtype),
        jnp.asarray(every, jnp.int32),
    )


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _run(
    step: Callable, observe: Callable | None, n_records: int, state: State, dt: Array, every: Array
) -> Any:
    look = (lambda s: s) if observe is None else observe

    def block(s: State, _: None) -> tuple[State, Any]:
        s = jax.lax.fori_loop(0, every, lambda _, x: step(x, dt), s)
        return s, look(s)

    _, recorded = jax.lax.scan(block, state, length=n_records)
    first = look(state)
    return jax.tree.map(lambda a, b: jnp.concatenate([jnp.asarray(a)[None], b]), first, recorded)


# --------------------------------------------------------------------------- diagnostics


def _over_leading_axes(fn: Callable[[Array], Array], x: Array) -> Array:
    x = jnp.asarray(x)
    flat = x.reshape(-1, x.shape[-1])
    return jax.vmap(fn)(flat).reshape(x.shape[:-1])


def energy(system: Hamiltonian, state: State) -> Float[Array, ...]:
    r"""The energy :math:`H = T(p) + V(q)` of a state, or along a trajectory.

    Args:
        system: a :class:`Hamiltonian`.
        state: a :class:`State` with ``q``, ``p`` of shape ``(..., d)``.

    Returns:
        :math:`H`, shape ``(...)``.
    """
    system = _check_system(system, "energy")
    q, p = jnp.asarray(state.q), jnp.asarray(state.p)
    if q.ndim == 0 or q.shape != p.shape:
        raise ValueError(f"q and p must have one shape (..., d), got {q.shape} and {p.shape}")
    return _over_leading_axes(system.kinetic, p) + _over_leading_axes(system.potential, q)


def angular_momentum(state: State) -> Float[Array, ...]:
    r"""The angular momentum of planar motion, :math:`\ell = q \times p = q_x p_y - q_y p_x`.

    Conserved by any central force, exactly by the flow and — to rounding — by
    :func:`leapfrog` and :func:`symplectic_euler` (a kick adds a multiple of :math:`q` to
    :math:`p`, a drift a multiple of :math:`p` to :math:`q`; neither changes :math:`q \times p`).

    Args:
        state: a :class:`State` with ``q``, ``p`` of shape ``(..., 2)``.

    Returns:
        :math:`\ell`, shape ``(...)``.
    """
    q, p = jnp.asarray(state.q), jnp.asarray(state.p)
    if q.ndim == 0 or q.shape[-1] != 2 or p.shape != q.shape:
        raise ValueError(
            f"angular momentum needs planar q and p of shape (..., 2), got {q.shape} and {p.shape}"
        )
    return q[..., 0] * p[..., 1] - q[..., 1] * p[..., 0]


def step_jacobian(integrator: Integrator, state: State, dt: float) -> Float[Array, "dim dim"]:
    r"""The Jacobian of one step, :math:`J = \partial(q_{n+1}, p_{n+1})/\partial(q_n, p_n)`,
    by forward-mode autodiff (``jax.jacfwd``).

    Rows and columns are ordered :math:`(q_1, \dots, q_d, p_1, \dots, p_d)`.

    Returns:
        :math:`J`, shape ``(2d, 2d)``.
    """
    if not isinstance(integrator, Integrator):
        raise ValueError(
            f"integrator must be a physml.integrators.Integrator, got {type(integrator).__name__}"
        )
    state = _check_state(state)
    return _step_jacobian(integrator.step, state, jnp.asarray(dt, state.q.dtype))


@functools.partial(jax.jit, static_argnums=0)
def _step_jacobian(step: Callable, state: State, dt: Array) -> Array:
    d = state.q.shape[0]

    def flat_step(z: Array) -> Array:
        new = step(State(z[:d], z[d:], state.t), dt)
        return jnp.concatenate([new.q, new.p])

    return jax.jacfwd(flat_step)(jnp.concatenate([state.q, state.p]))


def jacobian_determinant(integrator: Integrator, state: State, dt: float) -> Float[Array, ""]:
    r"""The phase-space volume factor of one step, :math:`\det J` (:func:`step_jacobian`).

    1 for a symplectic method (Liouville's theorem, kept exactly); :math:`1 + h^2\omega^2` for
    explicit Euler on the harmonic oscillator, whatever the state.
    """
    return jnp.linalg.det(step_jacobian(integrator, state, dt))


def symplecticity_residual(integrator: Integrator, state: State, dt: float) -> Float[Array, ""]:
    r"""How far one step is from symplectic: :math:`\max_{ij}\lvert(J^\top\Omega J - \Omega)_{ij}\rvert`,
    with :math:`\Omega = \begin{pmatrix}0 & I_d\\ -I_d & 0\end{pmatrix}`.

    Zero (to rounding) for :func:`symplectic_euler` and :func:`leapfrog` at every state and
    step size; :math:`O(h^2)` for explicit Euler and :math:`O(h^5)` for RK4. With one degree
    of freedom :math:`J^\top\Omega J = (\det J)\,\Omega`, so on the oscillator the residual is
    exactly :math:`h^2\omega^2` for Euler and :math:`(\omega h)^6/72 - (\omega h)^8/576` for RK4.
    """
    J = step_jacobian(integrator, state, dt)
    d = J.shape[0] // 2
    eye, zero = jnp.eye(d, dtype=J.dtype), jnp.zeros((d, d), J.dtype)
    omega = jnp.block([[zero, eye], [-eye, zero]])
    return jnp.max(jnp.abs(J.T @ omega @ J - omega))


def leapfrog_shadow_energy(state: State, omega: float, dt: float) -> Float[Array, ...]:
    r"""The energy that :func:`leapfrog` (kick–drift–kick) conserves exactly on the harmonic
    oscillator :math:`H = \frac12 p^2 + \frac12\omega^2 q^2`:

    .. math::

        \tilde H = \frac12\lVert p\rVert^2
        + \frac{\omega^2}{2}\Big(1 - \big(\tfrac{\omega h}{2}\big)^2\Big)\lVert q\rVert^2 .

    Derivation: one step is the linear map
    :math:`q' = a q + h p`, :math:`p' = a p - h\omega^2 c\, q` with :math:`a = 1 - h^2\omega^2/2`
    and :math:`c = 1 - h^2\omega^2/4`; then
    :math:`p'^2 + \omega^2 c\, q'^2 = (a^2 + h^2\omega^2 c)\,(p^2 + \omega^2 c\, q^2)` and
    :math:`a^2 + h^2\omega^2 c = 1`. So :math:`H = \tilde H + \frac{\omega^4h^2}{8} q^2` oscillates
    within :math:`[\tilde H, \tilde H/c]` and never drifts; for :math:`\omega h \ge 2` the form
    is no longer positive and the method is unstable. (The drift–kick–drift form, whose momenta
    live at half steps, conserves :math:`\frac{p^2}{2c} + \frac{\omega^2q^2}{2}` instead.)

    Args:
        state: a :class:`State` (or a trajectory, fields with leading axes).
        omega: the oscillator's :math:`\omega > 0`.
        dt: the leapfrog step :math:`h`.

    Returns:
        :math:`\tilde H`, shape ``(...)``.
    """
    omega = _check_positive(omega, "omega")
    q, p = jnp.asarray(state.q), jnp.asarray(state.p)
    c = 1.0 - (omega * dt / 2) ** 2
    return 0.5 * jnp.sum(p**2, axis=-1) + 0.5 * omega**2 * c * jnp.sum(q**2, axis=-1)
