r"""Optimizers as mechanics: momentum as a damped oscillator in discrete time, rates on
quadratics, Nesterov's ODE, the modified loss of gradient descent, and a conservation law
that gradient flow keeps and gradient descent breaks.

Five pictures, each with a measurement:

- **Momentum is a damped ball.** Heavy ball and Nesterov are discretisations of
  :math:`m\ddot x + \gamma\dot x + \nabla f(x) = 0` (:func:`momentum_from_oscillator`,
  :func:`oscillator_from_momentum`). In continuous time the mechanical energy
  :math:`E = \frac12 m\lVert\dot x\rVert^2 + f(x)` falls, :math:`\dot E = -\gamma\lVert\dot x\rVert^2`
  (:func:`damped_oscillator_flow`); along the discrete iterates it can rise
  (:func:`mechanical_energy`).
- **Momentum is faster.** On a quadratic of condition number :math:`\kappa` tuned gradient
  descent contracts by :math:`(\kappa-1)/(\kappa+1)` a step and tuned heavy ball by
  :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`: iterations grow like :math:`\kappa` and
  :math:`\sqrt\kappa` (:func:`iterations_to_tolerance`).
- **Nesterov's method is an ODE.** Its iterates with step :math:`s` follow
  :math:`\ddot x + \frac3t\dot x + \nabla f(x) = 0` at :math:`t = k\sqrt s`, and
  :math:`f(x(t)) - f^\star \le 2\lVert x_0 - x^\star\rVert^2/t^2` (:func:`sbc_flow`,
  :func:`nesterov_convex`).
- **Gradient descent follows a modified loss.** Its iterates stay :math:`O(\eta^2)` close to
  the gradient flow of :math:`\tilde L = L + \frac\eta4\lVert\nabla L\rVert^2` and only
  :math:`O(\eta)` close to that of :math:`L` (:func:`modified_loss`, :func:`backward_error`).
- **Symmetry gives a conserved quantity.** The rescaling symmetry of a hidden unit in
  :math:`f(x) = W_2\sigma(W_1x)` makes :math:`Q_j = \lVert W_1[j,:]\rVert^2 - \lVert
  W_2[:,j]\rVert^2` constant under gradient flow; gradient descent changes it by exactly
  :math:`\eta^2(\lVert g_{1,j}\rVert^2 - \lVert g_{2,j}\rVert^2)` a step (:func:`balancedness`,
  :func:`gd_balancedness`).

Conventions as in :mod:`physml.landscapes`: a loss maps one flat vector of shape ``(d,)`` to
a scalar; a step of gradient descent with learning rate :math:`\eta` covers flow time
:math:`\eta`.
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
import optax
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_count as _count
from ._checks import check_positive as _positive
from ._checks import is_real as _is_real
from .landscapes import Descent, FlowPath

__all__ = [
    "BackwardError",
    "BalanceTrace",
    "DampedMotion",
    "DampedOscillator",
    "Momentum",
    "NetworkPath",
    "TwoLayer",
    "backward_error",
    "balancedness",
    "balancedness_step_change",
    "damped_oscillator_flow",
    "gd_balancedness",
    "gd_rate",
    "heavy_ball_rate",
    "init_two_layer",
    "iterations_to_tolerance",
    "mechanical_energy",
    "modified_flow",
    "modified_loss",
    "momentum_from_oscillator",
    "nesterov_convex",
    "network_flow",
    "oscillator_from_momentum",
    "predicted_iterations",
    "rescale_hidden",
    "sbc_bound",
    "sbc_flow",
    "tuned_gd",
    "tuned_heavy_ball",
    "two_layer",
    "two_layer_loss",
]

Loss = Callable[[Array], Array]


# --------------------------------------------------------------------------- validation


def _vector(x: ArrayLike, name: str) -> Array:
    try:
        x = jnp.asarray(x)
    except TypeError as err:
        raise ValueError(f"{name} must be a 1-D float array of shape (d,)") from err
    if jnp.issubdtype(x.dtype, jnp.integer):
        x = x.astype(jnp.result_type(float))
    if not jnp.issubdtype(x.dtype, jnp.floating) or x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(
            f"{name} must be a 1-D float array of shape (d,), got shape {x.shape}, dtype {x.dtype}"
        )
    if not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name} must be finite")
    return x


# ------------------------------------------------------------- momentum as an oscillator


class DampedOscillator(NamedTuple):
    r"""A ball of mass :math:`m` with friction :math:`\gamma`, :math:`m\ddot x + \gamma\dot x +
    \nabla f(x) = 0`, stepped with time step :math:`h`."""

    mass: float
    friction: float
    dt: float


class Momentum(NamedTuple):
    r"""Learning rate :math:`\eta` and momentum :math:`\beta` of heavy ball (or Nesterov)."""

    lr: float
    momentum: float


def momentum_from_oscillator(mass: float, friction: float, dt: float) -> Momentum:
    r"""The heavy-ball parameters that discretise :math:`m\ddot x + \gamma\dot x + \nabla f(x) = 0`
    with time step :math:`h`:

    .. math::

        \eta = \frac{h^2}{m}, \qquad \beta = 1 - \frac{\gamma h}{m} .

    Derivation: take the central second difference for the acceleration, the backward
    difference for the friction and the force at :math:`x_t`,

    .. math::

        m\,\frac{x_{t+1} - 2x_t + x_{t-1}}{h^2} + \gamma\,\frac{x_t - x_{t-1}}{h} + \nabla f(x_t) = 0 ;

    solving for :math:`x_{t+1}` gives :math:`x_{t+1} = x_t + (1 - \gamma h/m)(x_t - x_{t-1}) -
    (h^2/m)\nabla f(x_t)`, Polyak's heavy ball. With :math:`v_t = (x_{t+1} - x_t)/h` it reads
    :math:`v_t = \beta v_{t-1} - (h/m)\nabla f(x_t)`, :math:`x_{t+1} = x_t + h v_t`: a kick, the
    friction as a factor :math:`\beta` on the velocity, then a drift — symplectic Euler
    (:func:`physml.integrators.symplectic_euler`) with damping. Nesterov's method (in
    :func:`physml.landscapes.nesterov`'s form) uses the same :math:`(\eta, \beta)` but takes
    the force at the look-ahead point :math:`x_t + \beta h v_{t-1}`, which adds
    :math:`\beta h\,\nabla^2 f(x)\,\dot x`, a Hessian-driven friction that vanishes as
    :math:`h \to 0`.

    Args:
        mass: :math:`m > 0`.
        friction: :math:`\gamma > 0`, with :math:`\gamma h \le m` so that :math:`0 \le \beta < 1`.
        dt: :math:`h > 0`.

    Returns:
        a :class:`Momentum` ``(lr, momentum)`` for :func:`physml.landscapes.heavy_ball`.

    Example:
        >>> momentum_from_oscillator(mass=1.0, friction=0.25, dt=1.0)
        Momentum(lr=1.0, momentum=0.75)
    """
    m, g, h = _positive(mass, "mass"), _positive(friction, "friction"), _positive(dt, "dt")
    if g * h > m:
        raise ValueError(
            f"friction * dt / mass = {g * h / m} exceeds 1, which would make the momentum negative; "
            "take a smaller step or less friction"
        )
    return Momentum(lr=h * h / m, momentum=1.0 - g * h / m)


def oscillator_from_momentum(lr: float, momentum: float, mass: float = 1.0) -> DampedOscillator:
    r"""The damped oscillator behind heavy ball with :math:`(\eta, \beta)`, inverting
    :func:`momentum_from_oscillator`:

    .. math::

        h = \sqrt{\eta m}, \qquad \gamma = \frac{(1 - \beta)\,m}{h} .

    The mass only sets the units of time: with :math:`m = 1` one step lasts
    :math:`h = \sqrt\eta` and the friction is :math:`(1 - \beta)/\sqrt\eta`. (Gradient descent,
    :math:`\beta = 0`, is the overdamped limit :math:`\gamma h = m`.)

    Args:
        lr: :math:`\eta > 0`.
        momentum: :math:`\beta \in [0, 1)`.
        mass: :math:`m > 0`.

    Returns:
        a :class:`DampedOscillator` ``(mass, friction, dt)``.
    """
    lr, mass = _positive(lr, "lr"), _positive(mass, "mass")
    if not (_is_real(momentum) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
    h = math.sqrt(lr * mass)
    return DampedOscillator(mass=mass, friction=(1.0 - momentum) * mass / h, dt=h)


def mechanical_energy(
    loss: Loss, positions: Float[ArrayLike, "n d"], dt: float, mass: float = 1.0
) -> Float[Array, " n"]:
    r"""The mechanical energy along a momentum run, :math:`E_t = \frac12 m\lVert v_{t-1}\rVert^2 + f(x_t)`
    with the velocity :math:`v_{t-1} = (x_t - x_{t-1})/h`.

    After step :math:`t` the ball is at :math:`x_t` moving with the velocity :math:`v_{t-1}`
    that brought it there (the state :math:`(x_t, v_{t-1})` of the kick–drift scheme in
    :func:`momentum_from_oscillator`). The run starts at rest, :math:`x_{-1} = x_0` (as in
    :func:`physml.landscapes.heavy_ball`), so :math:`E_0 = f(x_0)`.

    In continuous time :math:`\dot E = -\gamma\lVert\dot x\rVert^2 \le 0`
    (:func:`damped_oscillator_flow`). In discrete time :math:`E_t` can rise: on
    :math:`f = x^2/2` with :math:`\eta = 1`, :math:`\beta = 3/4` (:math:`m = h = 1`,
    :math:`\gamma = 1/4`) from :math:`x_0 = 1` the iterates are :math:`1, 0, -3/4` and
    :math:`E = 1/2, 1/2, 9/16`.

    Args:
        loss: :math:`f`, from shape ``(d,)`` to a scalar.
        positions: :math:`x_0, \dots, x_n`, shape ``(n + 1, d)`` (e.g. ``descend(...).positions``).
        dt: :math:`h > 0` (:func:`oscillator_from_momentum`).
        mass: :math:`m > 0`.

    Returns:
        :math:`E_0, \dots, E_n`, shape ``(n + 1,)``.
    """
    x = jnp.asarray(positions)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"positions must have shape (n + 1, d), got {x.shape}")
    h, m = _positive(dt, "dt"), _positive(mass, "mass")
    v = jnp.diff(x, axis=0, prepend=x[:1]) / h
    return 0.5 * m * jnp.sum(v**2, axis=1) + jax.vmap(loss)(x)


class DampedMotion(NamedTuple):
    r"""A solution of :math:`m\ddot x + \gamma\dot x + \nabla f(x) = 0` at the saved times.

    Attributes:
        times: :math:`t_k`, shape ``(n,)``.
        positions: :math:`x(t_k)`, shape ``(n, d)``.
        velocities: :math:`\dot x(t_k)`, shape ``(n, d)``.
        energy: :math:`E = \frac12 m\lVert\dot x\rVert^2 + f(x)`, shape ``(n,)``.
        dissipated: :math:`W(t) = \int_0^t\gamma\lVert\dot x\rVert^2\,dt'`, integrated with the
            motion, shape ``(n,)``; :math:`E(t) + W(t) = E(0)`.
    """

    times: Array
    positions: Array
    velocities: Array
    energy: Array
    dissipated: Array


def damped_oscillator_flow(
    loss: Loss,
    x0: Float[ArrayLike, " d"],
    t1: float,
    *,
    mass: float = 1.0,
    friction: float,
    v0: Float[ArrayLike, " d"] | None = None,
    ts: Float[ArrayLike, " n"] | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> DampedMotion:
    r"""Solve :math:`m\ddot x + \gamma\dot x + \nabla f(x) = 0` on :math:`[0, t_1]` with diffrax
    (``Tsit5``, adaptive steps), together with the dissipated work
    :math:`\dot W = \gamma\lVert\dot x\rVert^2`.

    The mechanical energy obeys :math:`\dot E = \dot x\cdot(m\ddot x + \nabla f) =
    -\gamma\lVert\dot x\rVert^2`: it never rises, and :math:`E + W` is constant (to the
    solver's tolerance). Heavy ball with :func:`momentum_from_oscillator`'s
    :math:`(\eta, \beta)` follows this motion at :math:`t = kh` as :math:`h \to 0`.

    Args:
        loss: :math:`f`, from shape ``(d,)`` to a scalar.
        x0: :math:`x(0)`, shape ``(d,)``.
        t1: final time, :math:`> 0`.
        mass: :math:`m > 0`.
        friction: :math:`\gamma \ge 0`.
        v0: :math:`\dot x(0)`, shape ``(d,)``; zero by default.
        ts: save times in :math:`[0, t_1]`, non-decreasing; 201 equally spaced by default.
        rtol, atol: the step-size controller's tolerances.

    Returns:
        a :class:`DampedMotion`.
    """
    x0 = _vector(x0, "x0")
    v0 = jnp.zeros_like(x0) if v0 is None else _vector(v0, "v0")
    if v0.shape != x0.shape:
        raise ValueError(f"v0 must have the shape of x0, {x0.shape}, got {v0.shape}")
    t1, m = _positive(t1, "t1"), _positive(mass, "mass")
    if not (_is_real(friction) and math.isfinite(friction) and friction >= 0):
        raise ValueError(f"friction must be a finite number >= 0, got {friction!r}")
    ts = _save_times(ts, 0.0, t1, x0.dtype)
    y0 = (x0, v0, jnp.zeros((), x0.dtype))
    params = jnp.asarray([m, friction], x0.dtype)
    ys = _solve(_damped_field, loss, y0, params, 0.0, t1, ts, rtol, atol)
    x, v, work = ys
    energy = 0.5 * m * jnp.sum(v**2, axis=1) + jax.vmap(loss)(x)
    return DampedMotion(ts, x, v, energy, work)


def _damped_field(t: Array, y: tuple, args: tuple) -> tuple:
    (loss, params) = args
    m, gamma = params[0], params[1]
    x, v, _ = y
    return v, -(gamma * v + jax.grad(loss)(x)) / m, gamma * jnp.sum(v**2)


def _save_times(ts: ArrayLike | None, t0: float, t1: float, dtype: Any) -> Array:
    if ts is None:
        return jnp.linspace(t0, t1, 201, dtype=dtype)
    ts_np = np.asarray(ts, dtype=float)
    if ts_np.ndim != 1 or ts_np.size == 0 or not np.all(np.isfinite(ts_np)) or np.any(np.diff(ts_np) < 0):
        raise ValueError("ts must be a non-empty, finite, non-decreasing 1-D array of times")
    if ts_np[0] < t0 or ts_np[-1] > t1:
        raise ValueError(f"ts must lie in [{t0}, {t1}], got [{ts_np[0]}, {ts_np[-1]}]")
    return jnp.asarray(ts_np, dtype)


def _solve(
    field: Callable,
    static: Any,
    y0: Any,
    data: Any,
    t0: float,
    t1: float,
    ts: Array,
    rtol: float,
    atol: float,
) -> Any:
    """diffrax Tsit5 with a PID controller; ``field(t, y, (static, data))``. ``static`` (a loss,
    an activation's name) is hashed, ``data`` and the times traced, so repeated solves of one
    problem compile once."""
    dtype = ts.dtype
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Tsit5(),
        t0=jnp.asarray(t0, dtype),
        t1=jnp.asarray(t1, dtype),
        dt0=None,
        y0=y0,
        args=(static, data),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(
            rtol=jnp.asarray(_positive(rtol, "rtol"), dtype), atol=jnp.asarray(_positive(atol, "atol"), dtype)
        ),
        max_steps=200_000,
        throw=False,
    )
    if sol.result != diffrax.RESULTS.successful:
        raise RuntimeError(f"the ODE solver stopped before t1 = {t1}: {sol.result}")
    return sol.ys


# ------------------------------------------------------------------- rates on quadratics


def _check_kappa(kappa: Any) -> float:
    if not (_is_real(kappa) and math.isfinite(kappa) and kappa >= 1):
        raise ValueError(f"kappa (the condition number L/mu) must be a finite number >= 1, got {kappa!r}")
    return float(kappa)


def gd_rate(kappa: float) -> float:
    r"""Contraction per step of gradient descent with :math:`\eta = 2/(L + \mu)` on a quadratic
    of condition number :math:`\kappa = L/\mu`: :math:`\rho = (\kappa - 1)/(\kappa + 1)`.

    Both extreme modes are multiplied by :math:`1 - \eta\lambda = \mp\rho`, so
    :math:`\lVert x_t - x^\star\rVert \le \rho^t\lVert x_0 - x^\star\rVert`, with equality when
    only the extreme eigenvalues are present. Iterations to shrink the error by :math:`\varepsilon`:
    :math:`\ln(1/\varepsilon)/\ln(1/\rho) \approx \frac\kappa2\ln(1/\varepsilon)`.
    """
    kappa = _check_kappa(kappa)
    return (kappa - 1) / (kappa + 1)


def heavy_ball_rate(kappa: float) -> float:
    r"""Asymptotic contraction per step of Polyak's tuned heavy ball (:func:`tuned_heavy_ball`):
    :math:`\rho = (\sqrt\kappa - 1)/(\sqrt\kappa + 1) = \sqrt\beta`.

    For every eigenvalue in :math:`[\mu, L]` both roots of :math:`r^2 - (1 + \beta - \eta\lambda)r
    + \beta = 0` have modulus :math:`\sqrt\beta`; at :math:`\mu` and :math:`L` the root is
    double (:math:`\pm\sqrt\beta`), so those modes decay as :math:`(c_0 + c_1t)\rho^t` — the
    factor :math:`t` costs a few extra iterations. Iterations grow like
    :math:`\frac{\sqrt\kappa}2\ln(1/\varepsilon)`.
    """
    kappa = _check_kappa(kappa)
    return (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)


def tuned_gd(L: float, mu: float) -> float:
    r"""The best constant step of gradient descent on a quadratic with Hessian eigenvalues in
    :math:`[\mu, L]`: :math:`\eta = 2/(L + \mu)`."""
    L, mu = _positive(L, "L"), _positive(mu, "mu")
    if mu > L:
        raise ValueError(f"need mu <= L, got mu = {mu}, L = {L}")
    return 2.0 / (L + mu)


def tuned_heavy_ball(L: float, mu: float) -> Momentum:
    r"""Polyak's optimal heavy ball for eigenvalues in :math:`[\mu, L]`:

    .. math::

        \eta = \frac{4}{(\sqrt L + \sqrt\mu)^2}, \qquad
        \beta = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \quad \kappa = L/\mu .

    Reference: B. T. Polyak, USSR Comput. Math. Math. Phys. 4, 1 (1964).
    """
    L, mu = _positive(L, "L"), _positive(mu, "mu")
    if mu > L:
        raise ValueError(f"need mu <= L, got mu = {mu}, L = {L}")
    root = math.sqrt(L / mu)
    return Momentum(lr=4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, momentum=((root - 1) / (root + 1)) ** 2)


def predicted_iterations(rate: float, eps: float) -> int:
    r"""Steps until :math:`\rho^t \le \varepsilon`: :math:`\lceil\ln\varepsilon/\ln\rho\rceil`
    (for :math:`0 < \rho < 1`; 0 when :math:`\rho = 0`)."""
    eps = _check_eps(eps)
    if not (_is_real(rate) and 0 <= rate < 1):
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}")
    return 0 if rate == 0 else math.ceil(math.log(eps) / math.log(rate) - 1e-12)


def _check_eps(eps: Any) -> float:
    if not (_is_real(eps) and 0 < eps < 1):
        raise ValueError(f"eps (the relative tolerance) must be a number in (0, 1), got {eps!r}")
    return float(eps)


def iterations_to_tolerance(method: str, kappa: float, eps: float) -> int:
    r"""Iterations a tuned method needs on a quadratic of condition number :math:`\kappa`, measured
    by running it.

    The problem is :math:`f(x) = \frac12(\mu x_1^2 + L x_2^2)` with :math:`\mu = 1`,
    :math:`L = \kappa`, from :math:`x_0 = (1, 1)`, :math:`x^\star = 0`. The tolerance convention:
    the answer is the first :math:`T` with

    .. math::

        \lVert x_t - x^\star\rVert \le \varepsilon\,\lVert x_0 - x^\star\rVert \quad\text{for every } t \ge T

    (heavy ball's error is not monotone in :math:`t`). Methods:

    - ``"gd"``: gradient descent, :math:`\eta = 2/(L + \mu)` (:func:`tuned_gd`); the answer is
      :func:`predicted_iterations` of :func:`gd_rate` (up to rounding when
      :math:`\ln\varepsilon/\ln\rho` is within rounding of an integer).
    - ``"heavy_ball"``: Polyak's :func:`tuned_heavy_ball`, run as ``optax.sgd(lr, momentum)``
      (:func:`physml.landscapes.heavy_ball`) from rest; a few more than
      :func:`predicted_iterations` of :func:`heavy_ball_rate`, for the double roots' factor :math:`t`.

    The run goes on in chunks of 4096 steps (one compiled ``lax.scan``, whatever
    :math:`\kappa`) until a whole chunk stays below :math:`\varepsilon`. It is float64 when
    JAX's x64 mode is on (the book's tests), else float32; ask for :math:`\varepsilon` well
    above the working precision.

    Args:
        method: ``"gd"`` or ``"heavy_ball"``.
        kappa: :math:`\kappa = L/\mu \ge 1`.
        eps: :math:`\varepsilon \in (0, 1)`.

    Returns:
        the number of iterations :math:`T`.

    Example:
        >>> iterations_to_tolerance("gd", 9.0, 1e-3)  # (8/10)^t <= 1e-3
        31
    """
    if method not in ("gd", "heavy_ball"):
        raise ValueError(f'method must be "gd" or "heavy_ball", got {method!r}')
    kappa, eps = _check_kappa(kappa), _check_eps(eps)
    lr, beta = (tuned_gd(kappa, 1.0), 0.0) if method == "gd" else tuned_heavy_ball(kappa, 1.0)
    dtype = jnp.result_type(float)
    lam, lr, beta = jnp.asarray([1.0, kappa], dtype), jnp.asarray(lr, dtype), jnp.asarray(beta, dtype)
    x0 = jnp.ones(2, dtype)
    carry = (x0, optax.sgd(1.0, momentum=0.5).init(x0))  # the trace starts at zero: at rest
    threshold = eps * float(jnp.linalg.norm(x0))
    T, done = 1, 0  # the error at t = 0 is above eps
    while True:
        carry, norms = _heavy_ball_chunk(carry, lam, lr, beta)
        above = np.nonzero(np.asarray(norms) > threshold)[0]
        if above.size == 0:  # a whole chunk below eps after the last excursion above it
            return T
        T = done + int(above[-1]) + 2
        done += _CHUNK
        if done > 10**7:
            raise RuntimeError(f"{method} did not settle below eps = {eps} in 1e7 steps (kappa = {kappa})")


_CHUNK = 4096


@jax.jit
def _heavy_ball_chunk(carry: tuple, lam: Array, lr: Array, beta: Array) -> tuple[tuple, Array]:
    """``_CHUNK`` steps of heavy ball (GD when beta = 0) on f = sum(lam x^2)/2, as
    ``optax.sgd(lr, momentum)``; returns the state and ||x_t|| after each step."""
    optimizer = optax.sgd(lr, momentum=beta)

    def step(carry: tuple, _: None) -> tuple[tuple, Array]:
        x, state = carry
        updates, state = optimizer.update(lam * x, state, x)
        x = optax.apply_updates(x, updates)
        return (x, state), jnp.linalg.norm(x)

    return jax.lax.scan(step, carry, length=_CHUNK)


# ---------------------------------------------------------------- Nesterov's ODE (SBC)


def sbc_flow(
    loss: Loss,
    x0: Float[ArrayLike, " d"],
    t1: float,
    *,
    t0: float = 1e-6,
    ts: Float[ArrayLike, " n"] | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> FlowPath:
    r"""Solve the Su–Boyd–Candès ODE, the :math:`s \to 0` limit of Nesterov's method,

    .. math::

        \ddot x + \frac{3}{t}\dot x + \nabla f(x) = 0, \qquad x(t_0) = x_0,\ \dot x(t_0) = 0,

    from a small :math:`t_0 > 0` (the friction :math:`3/t` is singular at 0) to :math:`t_1`, with
    diffrax (``Tsit5``, adaptive steps). Starting at :math:`t_0` instead of 0 moves the solution
    by :math:`O(t_0^2)`. For convex :math:`f` with minimiser :math:`x^\star`, the energy
    :math:`\mathcal E = t^2(f(x) - f^\star) + 2\lVert x + \frac t2\dot x - x^\star\rVert^2` never
    increases, so

    .. math::

        f(x(t)) - f^\star \le \frac{2\lVert x_0 - x^\star\rVert^2 + t_0^2\,(f(x_0) - f^\star)}{t^2}
        \;\to\; \frac{2\lVert x_0 - x^\star\rVert^2}{t^2}\quad(t_0 \to 0)

    (:func:`sbc_bound`). On :math:`f = \frac12\lambda x^2` the solution from :math:`t_0 = 0` is
    :math:`x(t) = x_0\,2J_1(\sqrt\lambda t)/(\sqrt\lambda t)` (Bessel).

    Args:
        loss: :math:`f`, from shape ``(d,)`` to a scalar.
        x0: :math:`x_0`, shape ``(d,)``.
        t1: final time, :math:`> t_0`.
        t0: start time, :math:`> 0`.
        ts: save times in :math:`[t_0, t_1]`; by default 201 equally spaced.
        rtol, atol: the step-size controller's tolerances.

    Returns:
        a :class:`~physml.landscapes.FlowPath` (times, positions, losses).

    Reference: W. Su, S. Boyd and E. J. Candès, JMLR 17, 1 (2016).
    """
    x0 = _vector(x0, "x0")
    t0 = _positive(t0, "t0")
    t1 = _positive(t1, "t1")
    if not t1 > t0:
        raise ValueError(f"need t1 > t0, got t0 = {t0}, t1 = {t1}")
    ts = _save_times(ts, t0, t1, x0.dtype)
    x, _ = _solve(_sbc_field, loss, (x0, jnp.zeros_like(x0)), jnp.zeros(0, x0.dtype), t0, t1, ts, rtol, atol)
    return FlowPath(ts, x, jax.vmap(loss)(x))


def _sbc_field(t: Array, y: tuple, args: tuple) -> tuple:
    loss, _ = args
    x, v = y
    return v, -3.0 / t * v - jax.grad(loss)(x)


def sbc_bound(t: Float[ArrayLike, ...], x0: Float[ArrayLike, " d"], x_star: Float[ArrayLike, " d"]) -> Array:
    r"""The Su–Boyd–Candès bound :math:`f(x(t)) - f^\star \le 2\lVert x_0 - x^\star\rVert^2/t^2`
    (for :math:`t_0 \to 0`; see :func:`sbc_flow`). Nesterov's iterates with step
    :math:`s \le 1/L` obey its discrete twin, :math:`f(x_k) - f^\star \le
    2\lVert x_0 - x^\star\rVert^2/(s(k+1)^2)`, i.e. this bound at :math:`t = (k+1)\sqrt s`."""
    gap = jnp.sum((jnp.asarray(x0) - jnp.asarray(x_star)) ** 2)
    return 2.0 * gap / jnp.asarray(t) ** 2


def nesterov_convex(loss: Loss, x0: Float[ArrayLike, " d"], step_size: float, n_steps: int) -> Descent:
    r"""Nesterov's accelerated gradient for convex functions, with the momentum :math:`(k-1)/(k+2)`:

    .. math::

        x_k = y_{k-1} - s\nabla f(y_{k-1}), \qquad y_k = x_k + \frac{k - 1}{k + 2}(x_k - x_{k-1}),
        \qquad y_0 = x_0 .

    For :math:`s \le 1/L` it guarantees :math:`f(x_k) - f^\star \le 2\lVert x_0 -
    x^\star\rVert^2/(s(k+1)^2)`; as :math:`s \to 0`, :math:`x_k \approx x(k\sqrt s)` of
    :func:`sbc_flow` (Su, Boyd and Candès 2016). The momentum grows with :math:`k`, so this is
    written out here rather than taken from optax's constant-momentum ``sgd``.

    Args:
        loss: :math:`f`, from shape ``(d,)`` to a scalar.
        x0: :math:`x_0`, shape ``(d,)``.
        step_size: :math:`s > 0`.
        n_steps: :math:`n \ge 1`.

    Returns:
        a :class:`~physml.landscapes.Descent` with :math:`x_0, \dots, x_n` and their losses.
    """
    x0 = _vector(x0, "x0")
    s = _positive(step_size, "step_size")
    n = _count(n_steps, "n_steps")
    return _nesterov_convex(loss, n, x0, jnp.asarray(s, x0.dtype))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _nesterov_convex(loss: Loss, n_steps: int, x0: Array, s: Array) -> Descent:
    grad = jax.grad(loss)

    def step(carry: tuple, k: Array) -> tuple[tuple, Array]:
        x_prev, y = carry
        x = y - s * grad(y)
        y = x + (k - 1) / (k + 2) * (x - x_prev)
        return (x, y), x

    k = jnp.arange(1, n_steps + 1, dtype=x0.dtype)
    _, xs = jax.lax.scan(step, (x0, x0), k)
    xs = jnp.concatenate([x0[None], xs])
    return Descent(xs, jax.vmap(loss)(xs))


# ------------------------------------------------------------ the modified loss of GD


def modified_loss(loss: Loss, lr: float) -> Loss:
    r"""The modified loss of gradient descent, :math:`\tilde L = L + \frac\eta4\lVert\nabla L\rVert^2`.

    Gradient descent with step :math:`\eta` follows the gradient flow of :math:`\tilde L`,
    :math:`\dot\theta = -\nabla L - \frac\eta2\nabla^2L\,\nabla L`, to :math:`O(\eta^2)` over
    a fixed time, and that of :math:`L` only to :math:`O(\eta)`: matching one step
    :math:`\theta - \eta\nabla L` with the flow's Taylor series
    :math:`\theta + \eta f + \frac{\eta^2}2 f'f + \dots` of a field :math:`f = -\nabla L + \eta f_1`
    gives :math:`f_1 = -\frac12\nabla^2L\,\nabla L = -\frac14\nabla\lVert\nabla L\rVert^2`. The
    extra term penalises sharp, steep regions: *implicit gradient regularisation*.

    Reference: D. G. T. Barrett and B. Dherin, ICLR (2021).
    """
    lr = _positive(lr, "lr")
    grad = jax.grad(loss)
    return lambda theta: loss(theta) + lr / 4 * jnp.sum(grad(theta) ** 2)


def modified_flow(
    loss: Loss,
    theta0: Float[ArrayLike, " d"],
    lr: float,
    t1: float,
    *,
    ts: Float[ArrayLike, " n"] | None = None,
    rtol: float = 1e-12,
    atol: float = 1e-14,
) -> FlowPath:
    r"""Gradient flow of :func:`modified_loss`, :math:`\dot\theta = -\nabla\tilde L(\theta)`, with
    diffrax (``Tsit5``, adaptive steps); the flow of :math:`L` itself is the same call with
    :math:`\eta` = ``lr`` = 0.

    Args:
        loss: :math:`L`, from shape ``(d,)`` to a scalar.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        lr: :math:`\eta \ge 0`.
        t1: final time, :math:`> 0`.
        ts: save times in :math:`[0, t_1]`; 201 equally spaced by default.
        rtol, atol: the step-size controller's tolerances.

    Returns:
        a :class:`~physml.landscapes.FlowPath` whose ``losses`` are those of :math:`L` (not
        :math:`\tilde L`), to compare with gradient descent's.
    """
    theta0 = _vector(theta0, "theta0")
    if not (_is_real(lr) and math.isfinite(lr) and lr >= 0):
        raise ValueError(f"lr must be a finite number >= 0, got {lr!r}")
    t1 = _positive(t1, "t1")
    ts = _save_times(ts, 0.0, t1, theta0.dtype)
    path = _solve(_modified_field, loss, theta0, jnp.asarray(lr, theta0.dtype), 0.0, t1, ts, rtol, atol)
    return FlowPath(ts, path, jax.vmap(loss)(path))


class BackwardError(NamedTuple):
    r"""How far gradient descent ends from the two flows after a time :math:`T`.

    Attributes:
        lrs: the learning rates :math:`\eta`, shape ``(k,)``.
        to_flow: :math:`\lVert\theta_{T/\eta} - \theta(T)\rVert` for the flow of :math:`L`, shape ``(k,)``.
        to_modified_flow: the same for the flow of :math:`\tilde L`, shape ``(k,)``.
        slope_flow: least-squares slope of :math:`\ln` ``to_flow`` against :math:`\ln\eta` (→ 1).
        slope_modified: the same for ``to_modified_flow`` (→ 2).
    """

    lrs: Array
    to_flow: Array
    to_modified_flow: Array
    slope_flow: float
    slope_modified: float


def backward_error(
    loss: Loss,
    theta0: Float[ArrayLike, " d"],
    t1: float,
    lrs: Float[ArrayLike, " k"],
    *,
    rtol: float = 1e-12,
    atol: float = 1e-14,
) -> BackwardError:
    r"""Run gradient descent for :math:`n = T/\eta` steps at each :math:`\eta` and measure its
    distance from the gradient flows of :math:`L` and of :math:`\tilde L = L +
    \frac\eta4\lVert\nabla L\rVert^2` at :math:`T`.

    The global errors are :math:`O(\eta)` and :math:`O(\eta^2)`: log–log slopes 1 and 2. The
    flows are solved with diffrax to tolerances far below the smallest error measured.

    Args:
        loss: :math:`L`, from shape ``(d,)`` to a scalar.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        t1: the time :math:`T > 0`; every :math:`T/\eta` must be an integer.
        lrs: learning rates, shape ``(k,)``, :math:`k \ge 2`.
        rtol, atol: tolerances of the flows.

    Returns:
        a :class:`BackwardError`.
    """
    theta0 = _vector(theta0, "theta0")
    t1 = _positive(t1, "t1")
    lrs_np = np.asarray(lrs, dtype=float)
    if lrs_np.ndim != 1 or lrs_np.size < 2 or not np.all(lrs_np > 0):
        raise ValueError("lrs must be a 1-D array of at least two positive learning rates")
    steps = np.rint(t1 / lrs_np)
    if not np.allclose(steps * lrs_np, t1, rtol=1e-12, atol=0):
        raise ValueError(f"every t1 / lr must be an integer; got t1 / lrs = {t1 / lrs_np}")
    dtype = theta0.dtype
    ends = jnp.asarray([0.0, t1], dtype)
    target = modified_flow(loss, theta0, 0.0, t1, ts=ends, rtol=rtol, atol=atol).trajectory[-1]
    to_flow, to_modified = [], []
    for lr, n in zip(lrs_np, steps, strict=True):
        end = _gd_end(loss, theta0, jnp.asarray(lr, dtype), jnp.asarray(int(n)))
        shadow = modified_flow(loss, theta0, float(lr), t1, ts=ends, rtol=rtol, atol=atol).trajectory[-1]
        to_flow.append(float(jnp.linalg.norm(end - target)))
        to_modified.append(float(jnp.linalg.norm(end - shadow)))
    log_lr = np.log(lrs_np)
    return BackwardError(
        jnp.asarray(lrs_np),
        jnp.asarray(to_flow),
        jnp.asarray(to_modified),
        float(np.polyfit(log_lr, np.log(to_flow), 1)[0]),
        float(np.polyfit(log_lr, np.log(to_modified), 1)[0]),
    )


def _modified_field(t: Array, theta: Array, args: tuple) -> Array:
    loss, lr = args
    grad = jax.grad(loss)
    return -jax.grad(lambda x: loss(x) + lr / 4 * jnp.sum(grad(x) ** 2))(theta)


@functools.partial(jax.jit, static_argnums=0)
def _gd_end(loss: Loss, theta0: Array, lr: Array, n: Array) -> Array:
    grad = jax.grad(loss)
    return jax.lax.fori_loop(0, n, lambda _, th: th - lr * grad(th), theta0)


# ------------------------------------------------------- symmetry and conservation


class TwoLayer(NamedTuple):
    r"""Weights of :math:`f(x) = W_2\,\sigma(W_1x)`.

    Attributes:
        W1: input weights, shape ``(hidden, d_in)``; row :math:`j` feeds hidden unit :math:`j`.
            To give the hidden units biases, append a constant feature 1 to every input: the
            bias is then the last entry of the row, and rescales with it.
        W2: output weights, shape ``(d_out, hidden)``; column :math:`j` reads hidden unit :math:`j`.
    """

    W1: Array
    W2: Array


_ACTIVATIONS = {"linear": lambda z: z, "relu": jax.nn.relu}


def _activation(name: str) -> Callable[[Array], Array]:
    if name not in _ACTIVATIONS:
        raise ValueError(f'activation must be "linear" or "relu", got {name!r}')
    return _ACTIVATIONS[name]


def init_two_layer(key: Array, d_in: int, hidden: int, d_out: int, *, scale: float = 1.0) -> TwoLayer:
    r"""Random weights with independent :math:`\mathcal N(0, \text{scale}^2/\text{fan-in})` entries.

    With ``scale`` of order 1 the two layers are *not* balanced: :math:`Q_j` is of order
    :math:`1 - \text{d\_out}/\text{hidden}`, and differs from unit to unit.
    """
    d_in, hidden, d_out = _count(d_in, "d_in"), _count(hidden, "hidden"), _count(d_out, "d_out")
    scale = _positive(scale, "scale")
    # One draw, split in two: one compilation per network size, not per layer shape.
    z = jax.random.normal(key, (hidden * (d_in + d_out),), jnp.result_type(float))
    W1 = scale * z[: hidden * d_in].reshape(hidden, d_in) / math.sqrt(d_in)
    W2 = scale * z[hidden * d_in :].reshape(d_out, hidden) / math.sqrt(hidden)
    return TwoLayer(W1, W2)


def _check_params(params: Any) -> TwoLayer:
    if not isinstance(params, TwoLayer):
        raise ValueError(f"params must be a physml.dynamics.TwoLayer(W1, W2), got {type(params).__name__}")
    W1, W2 = jnp.shape(params.W1), jnp.shape(params.W2)
    if len(W1) != 2 or len(W2) != 2 or W1[0] != W2[1]:
        raise ValueError(
            "W1 must have shape (hidden, d_in) and W2 shape (d_out, hidden) with the same hidden, "
            f"got {W1} and {W2}"
        )
    return params


def two_layer(
    params: TwoLayer, x: Float[ArrayLike, "... d_in"], activation: str = "linear"
) -> Float[Array, "... d_out"]:
    r"""The network :math:`f(x) = W_2\,\sigma(W_1x)`, :math:`\sigma` the identity or ReLU, on inputs
    of shape ``(..., d_in)``.

    Rescaling hidden unit :math:`j`, :math:`W_1[j,:] \to cW_1[j,:]` and :math:`W_2[:,j] \to
    W_2[:,j]/c` with :math:`c > 0`, leaves :math:`f` unchanged because :math:`\sigma(cz) =
    c\sigma(z)` (:func:`rescale_hidden`).
    """
    params = _check_params(params)
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[-1] != params.W1.shape[1]:
        raise ValueError(f"inputs must have shape (..., {params.W1.shape[1]}), got {x.shape}")
    return _activation(activation)(x @ params.W1.T) @ params.W2.T


def two_layer_loss(
    params: TwoLayer,
    X: Float[ArrayLike, "n d_in"],
    Y: Float[ArrayLike, "n d_out"],
    activation: str = "linear",
) -> Float[Array, ""]:
    r"""Mean squared error :math:`L = \frac1{2n}\sum_i\lVert f(x_i) - y_i\rVert^2` of :func:`two_layer`."""
    Y = jnp.asarray(Y)
    out = two_layer(params, X, activation)
    if out.shape != Y.shape:
        raise ValueError(f"targets must have shape {out.shape}, got {Y.shape}")
    return 0.5 * jnp.sum((out - Y) ** 2) / Y.shape[0]


def rescale_hidden(params: TwoLayer, c: Float[ArrayLike, " hidden"]) -> TwoLayer:
    r"""The symmetry :math:`W_1[j,:] \to c_jW_1[j,:]`, :math:`W_2[:,j] \to W_2[:,j]/c_j` (all
    :math:`c_j > 0`); the network function and the loss do not change."""
    params = _check_params(params)
    c = jnp.asarray(c)
    if c.shape != (params.W1.shape[0],):
        raise ValueError(
            f"c must have shape ({params.W1.shape[0]},), one factor a hidden unit, got {c.shape}"
        )
    if not isinstance(c, jax.core.Tracer) and not np.all(np.asarray(c) > 0):
        raise ValueError("the factors c must be positive (ReLU is only positively homogeneous)")
    return TwoLayer(params.W1 * c[:, None], params.W2 / c[None, :])


def balancedness(params: TwoLayer) -> Float[Array, "... hidden"]:
    r"""The conserved quantity of hidden unit :math:`j`,
    :math:`Q_j = \lVert W_1[j,:]\rVert^2 - \lVert W_2[:,j]\rVert^2`.

    Under gradient flow :math:`\dot W = -\nabla L`,
    :math:`\dot Q_j = -2(\langle W_1[j,:], g_{1,j}\rangle - \langle W_2[:,j], g_{2,j}\rangle)`,
    and the bracket is :math:`\frac{d}{dc}L(\text{rescaled by } c)\big|_{c=1} = 0`: the
    symmetry's Noether charge (Du, Hu and Lee 2018; Kunin et al. 2021). Fields may carry leading
    axes (a trajectory): ``W1`` of shape ``(..., hidden, d_in)``.
    """
    W1, W2 = jnp.asarray(params.W1), jnp.asarray(params.W2)
    return jnp.sum(W1**2, axis=-1) - jnp.sum(W2**2, axis=-2)


def balancedness_step_change(grads: TwoLayer, lr: float) -> Float[Array, " hidden"]:
    r"""The exact change of :math:`Q_j` in one gradient-descent step :math:`W \to W - \eta g`:

    .. math::

        \Delta Q_j = \eta^2\big(\lVert g_{1,j}\rVert^2 - \lVert g_{2,j}\rVert^2\big),

    with :math:`g_{1,j} = \partial L/\partial W_1[j,:]` and :math:`g_{2,j} = \partial L/\partial W_2[:,j]`.
    Expanding :math:`\lVert W_1[j,:] - \eta g_{1,j}\rVert^2 - \lVert W_2[:,j] - \eta g_{2,j}\rVert^2`,
    the terms linear in :math:`\eta` are :math:`-2\eta(\langle W_1[j,:], g_{1,j}\rangle -
    \langle W_2[:,j], g_{2,j}\rangle) = 0` by the symmetry (:func:`balancedness`); only the
    :math:`\eta^2` terms remain. Over a fixed time :math:`T` (:math:`T/\eta` steps) the changes
    add up to :math:`\eta\int_0^T(\lVert g_{1,j}\rVert^2 - \lVert g_{2,j}\rVert^2)\,dt +
    O(\eta^2)`: first order in :math:`\eta`, unless that integral vanishes.
    """
    g1, g2 = jnp.asarray(grads.W1), jnp.asarray(grads.W2)
    return lr**2 * (jnp.sum(g1**2, axis=-1) - jnp.sum(g2**2, axis=-2))


class BalanceTrace(NamedTuple):
    """Gradient descent on :func:`two_layer_loss` with the balancedness tracked.

    Attributes:
        balancedness: :math:`Q_j` after each step, :math:`t = 0, \\dots, n`, shape ``(n + 1, hidden)``.
        predicted_change: :func:`balancedness_step_change` of each step, shape ``(n, hidden)``.
        losses: the loss at :math:`t = 0, \\dots, n`, shape ``(n + 1,)``.
        params: the final weights, a :class:`TwoLayer`.
    """

    balancedness: Array
    predicted_change: Array
    losses: Array
    params: TwoLayer


def gd_balancedness(
    params: TwoLayer,
    X: Float[ArrayLike, "n d_in"],
    Y: Float[ArrayLike, "n d_out"],
    lr: float,
    n_steps: int,
    activation: str = "linear",
) -> BalanceTrace:
    r"""Full-batch gradient descent :math:`W \to W - \eta\nabla L` on :func:`two_layer_loss`, recording
    :math:`Q_j` (:func:`balancedness`) and the change :func:`balancedness_step_change` predicts
    for every step (one jit-compiled ``lax.scan``).

    Args:
        params: initial :class:`TwoLayer` weights.
        X: inputs, shape ``(n, d_in)``.
        Y: targets, shape ``(n, d_out)``.
        lr: :math:`\eta > 0`.
        n_steps: number of steps, :math:`\ge 1`.
        activation: ``"linear"`` or ``"relu"``.

    Returns:
        a :class:`BalanceTrace`.
    """
    params = _check_params(params)
    lr, n_steps = _positive(lr, "lr"), _count(n_steps, "n_steps")
    _activation(activation)
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    two_layer_loss(params, X, Y, activation)  # shape checks with clear messages
    return _gd_balancedness(activation, n_steps, params, X, Y, jnp.asarray(lr, params.W1.dtype))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _gd_balancedness(
    activation: str, n_steps: int, params: TwoLayer, X: Array, Y: Array, lr: Array
) -> BalanceTrace:
    value_and_grad = jax.value_and_grad(lambda p: two_layer_loss(p, X, Y, activation))

    def step(p: TwoLayer, _: None) -> tuple[TwoLayer, tuple]:
        value, g = value_and_grad(p)
        new = jax.tree.map(lambda w, gw: w - lr * gw, p, g)
        return new, (balancedness(new), balancedness_step_change(g, lr), value)

    final, (q, change, losses) = jax.lax.scan(step, params, length=n_steps)
    last = two_layer_loss(final, X, Y, activation)
    return BalanceTrace(
        jnp.concatenate([balancedness(params)[None], q]), change, jnp.append(losses, last), final
    )


class NetworkPath(NamedTuple):
    """Gradient flow of :func:`two_layer_loss` at the saved times.

    Attributes:
        times: :math:`t_k`, shape ``(k,)``.
        params: the weights at those times, a :class:`TwoLayer` whose fields have a leading axis
            of length ``k`` (:func:`balancedness` of it has shape ``(k, hidden)``).
        losses: the loss at those times, shape ``(k,)``.
    """

    times: Array
    params: TwoLayer
    losses: Array


def network_flow(
    params: TwoLayer,
    X: Float[ArrayLike, "n d_in"],
    Y: Float[ArrayLike, "n d_out"],
    t1: float,
    activation: str = "linear",
    *,
    ts: Float[ArrayLike, " k"] | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> NetworkPath:
    r"""Gradient flow :math:`\dot W = -\nabla L(W)` of :func:`two_layer_loss` on :math:`[0, t_1]`,
    solved with diffrax (``Tsit5``, adaptive steps) on the weights as they are (a pytree).

    Along it :func:`balancedness` is constant to the solver's tolerance, ReLU kinks included
    (with the default tolerances it moves by about :math:`10^{-9}`; each kink forces the
    step-size controller down, so with ReLU much tighter tolerances cost far more steps).

    Args:
        params: initial :class:`TwoLayer` weights.
        X: inputs, shape ``(n, d_in)``.
        Y: targets, shape ``(n, d_out)``.
        t1: final time, :math:`> 0`.
        activation: ``"linear"`` or ``"relu"``.
        ts: save times in :math:`[0, t_1]`; 201 equally spaced by default.
        rtol, atol: the step-size controller's tolerances.

    Returns:
        a :class:`NetworkPath`.
    """
    params = _check_params(params)
    _activation(activation)
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    two_layer_loss(params, X, Y, activation)  # shape checks with clear messages
    t1 = _positive(t1, "t1")
    ts = _save_times(ts, 0.0, t1, params.W1.dtype)
    path = _solve(_network_field, activation, params, (X, Y), 0.0, t1, ts, rtol, atol)
    losses = jax.vmap(lambda p: two_layer_loss(p, X, Y, activation))(path)
    return NetworkPath(ts, path, losses)


def _network_field(t: Array, params: TwoLayer, args: tuple) -> TwoLayer:
    activation, (X, Y) = args
    g = jax.grad(two_layer_loss)(params, X, Y, activation)
    return jax.tree.map(jnp.negative, g)
