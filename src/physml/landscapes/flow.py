r"""Gradient flow and its discretisations: gradient descent, heavy ball, Nesterov, and the
step-size limit.

Gradient flow :math:`\dot\theta = -\nabla L(\theta)` decreases the loss at the rate
:math:`dL/dt = -\lVert\nabla L\rVert^2`. Gradient descent is its explicit Euler discretisation,
:math:`\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)`; on a quadratic with Hessian
eigenvalues :math:`\lambda_i` each eigen-coordinate is multiplied by :math:`1 - \eta\lambda_i`
per step, so descent is stable only for :math:`\eta < 2/\lambda_{\max}`. Trained networks
often sit at that limit: full-batch gradient descent raises the sharpness until it reaches
:math:`\approx 2/\eta` and hovers there, the *edge of stability*
(:func:`~physml.landscapes.train_with_sharpness`).

Conventions: a loss maps ``theta`` of shape ``(d,)`` to a scalar; time :math:`t` of the flow is
measured so that one step of size :math:`\eta` covers :math:`\Delta t = \eta`. The discrete
methods are optax transformations run by :func:`~physml.landscapes.descend`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float

from .curvature import _sharpness_fn
from .functions import Loss, _as_vector, _check_count, _check_positive, _is_real

__all__ = [
    "Descent",
    "FlowPath",
    "SharpnessTrace",
    "descend",
    "gd_max_step",
    "gd_quadratic_closed_form",
    "gradient_descent",
    "gradient_flow",
    "heavy_ball",
    "heavy_ball_max_step",
    "largest_stable_step",
    "nesterov",
    "nesterov_max_step",
    "train_with_sharpness",
]


# ---------------------------------------------------------------------------- the flow


class FlowPath(NamedTuple):
    """A solution of gradient flow at the requested times.

    Attributes:
        times: :math:`t_k`, shape ``(n,)``.
        trajectory: :math:`\\theta(t_k)`, shape ``(n, d)``.
        losses: :math:`L(\\theta(t_k))`, shape ``(n,)``.
    """

    times: Array
    trajectory: Array
    losses: Array


def gradient_flow(
    loss: Loss,
    theta0: Float[ArrayLike, " d"],
    t1: float,
    *,
    ts: Float[ArrayLike, " n"] | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    solver: diffrax.AbstractSolver | None = None,
    max_steps: int = 100_000,
) -> FlowPath:
    r"""Solve gradient flow :math:`\dot\theta = -\nabla L(\theta)`, :math:`\theta(0) = \theta_0`,
    on :math:`[0, t_1]` with diffrax.

    The default solver is ``diffrax.Tsit5()`` (explicit Runge–Kutta 5(4), adaptive steps from a
    PID controller with tolerances ``rtol``, ``atol``): accurate and cheap when the flow is not
    stiff. The flow is stiff when :math:`\lambda_{\max} t_1 \gg 1` for a Hessian eigenvalue far
    above the others (a quadratic with condition number :math:`10^4` followed for the time the
    slow mode needs, Rosenbrock's valley): an explicit solver must then keep
    :math:`\Delta t \lesssim 3/\lambda_{\max}` however smooth the solution is — exactly the
    step-size limit of gradient descent — and takes :math:`\sim\lambda_{\max}t_1` steps. Pass
    ``solver=diffrax.Kvaerno5()`` (implicit, L-stable; each step solves a nonlinear system with
    the dense Jacobian, so keep :math:`d` small) for those.

    Args:
        loss: ``loss(theta) -> scalar``.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        t1: final time, :math:`> 0`.
        ts: times at which to save, shape ``(n,)``, non-decreasing in :math:`[0, t_1]`; by
            default 201 equally spaced times from 0 to :math:`t_1`.
        rtol, atol: relative and absolute local error tolerances of the step-size controller.
        solver: a diffrax solver (default ``diffrax.Tsit5()``).
        max_steps: the most solver steps allowed.

    Returns:
        a :class:`~physml.landscapes.FlowPath`.

    Raises:
        RuntimeError: if the solver did not reach :math:`t_1` (too many steps: the flow is
            probably stiff, see above).

    Example:
        >>> import jax.numpy as jnp
        >>> from physml.landscapes import quadratic
        >>> path = gradient_flow(quadratic(jnp.array([1.0])), jnp.array([1.0]), 1.0)
        >>> round(float(path.trajectory[-1, 0]), 6)  # exp(-1)
        0.367879
    """
    theta0 = _as_vector(theta0, "theta0")
    t1 = _check_positive(t1, "t1")
    rtol, atol = _check_positive(rtol, "rtol"), _check_positive(atol, "atol")
    max_steps = _check_count(max_steps, "max_steps")
    if ts is None:
        ts = jnp.linspace(0.0, t1, 201, dtype=theta0.dtype)
    else:
        ts = jnp.asarray(ts, dtype=theta0.dtype)
        ts_np = np.asarray(ts)
        if ts_np.ndim != 1 or ts_np.size == 0:
            raise ValueError(f"ts must be a non-empty 1-D array of times, got shape {ts_np.shape}")
        if not (np.all(np.isfinite(ts_np)) and np.all(np.diff(ts_np) >= 0)):
            raise ValueError("ts must be finite and non-decreasing")
        if ts_np[0] < 0 or ts_np[-1] > np.asarray(t1, ts_np.dtype):  # compared in the working dtype
            raise ValueError(f"ts must lie in [0, t1] = [0, {t1}], got [{ts_np[0]}, {ts_np[-1]}]")
    solver = diffrax.Tsit5() if solver is None else solver
    if not isinstance(solver, diffrax.AbstractSolver):
        raise ValueError(f"solver must be a diffrax solver such as diffrax.Tsit5(), got {solver!r}")

    # The loss travels as ``args`` (static), times and tolerances as arrays (traced): repeated
    # flows of one loss compile once.
    dtype = theta0.dtype
    sol = diffrax.diffeqsolve(
        _FLOW_TERM,
        solver,
        t0=jnp.zeros((), dtype),
        t1=jnp.asarray(t1, dtype),
        dt0=None,
        y0=theta0,
        args=loss,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(
            rtol=jnp.asarray(rtol, dtype), atol=jnp.asarray(atol, dtype)
        ),
        max_steps=max_steps,
        throw=False,
    )
    if sol.result != diffrax.RESULTS.successful:
        raise RuntimeError(
            f"gradient flow stopped before t1 = {t1} ({sol.result}); after {int(sol.stats['num_steps'])} "
            "steps: the loss is probably stiff, pass solver=diffrax.Kvaerno5() or raise max_steps"
        )
    return FlowPath(sol.ts, sol.ys, jax.vmap(loss)(sol.ys))


def _negative_gradient(t: Array, theta: Array, loss: Loss) -> Array:
    return -jax.grad(loss)(theta)


_FLOW_TERM = diffrax.ODETerm(_negative_gradient)


# ------------------------------------------------------------------- discrete optimizers


def _check_lr(lr: float) -> float:
    return _check_positive(lr, "lr (the learning rate)")


def _check_momentum(momentum: float) -> float:
    if not (_is_real(momentum) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
    return float(momentum)


def gradient_descent(lr: float) -> optax.GradientTransformation:
    r"""Gradient descent, :math:`\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)`, as
    ``optax.sgd(lr)`` (full batch here, so no noise)."""
    return optax.sgd(_check_lr(lr))


def heavy_ball(lr: float, momentum: float) -> optax.GradientTransformation:
    r"""Polyak's heavy ball, :math:`\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t) +
    \beta(\theta_t - \theta_{t-1})`, as ``optax.sgd(lr, momentum)``.

    optax keeps a trace :math:`m_{t+1} = \nabla L(\theta_t) + \beta m_t` (:math:`m_0 = 0`) and
    steps :math:`\theta_{t+1} = \theta_t - \eta m_{t+1}`. Since :math:`\theta_t - \theta_{t-1} =
    -\eta m_t`, this is Polyak's recursion with :math:`\eta` = ``lr`` and :math:`\beta` =
    ``momentum`` exactly, started from :math:`\theta_{-1} = \theta_0` (the first step is plain
    gradient descent). On a quadratic it is stable iff :math:`0 \le \beta < 1` and
    :math:`\eta < 2(1+\beta)/\lambda_{\max}` (:func:`~physml.landscapes.heavy_ball_max_step`).
    """
    return optax.sgd(_check_lr(lr), momentum=_check_momentum(momentum))


def nesterov(lr: float, momentum: float) -> optax.GradientTransformation:
    r"""Nesterov's accelerated gradient, as ``optax.sgd(lr, momentum, nesterov=True)``.

    optax keeps :math:`m_{t+1} = g_t + \beta m_t` with :math:`g_t = \nabla L(\theta_t)` and
    steps :math:`\theta_{t+1} = \theta_t - \eta(g_t + \beta m_{t+1})`. Eliminating :math:`m`,

    .. math::

        \theta_{t+1} = \theta_t - \eta\nabla L(\theta_t) + \beta(\theta_t - \theta_{t-1})
        - \eta\beta\big(\nabla L(\theta_t) - \nabla L(\theta_{t-1})\big),

    heavy ball plus a gradient-difference correction. These iterates are the *look-ahead*
    points :math:`y_t = x_t + \beta v_t` of Nesterov's method in its velocity form
    :math:`v_{t+1} = \beta v_t - \eta\nabla L(x_t + \beta v_t)`, :math:`x_{t+1} = x_t + v_{t+1}`
    (Sutskever et al. 2013), with :math:`v_0 = 0`; so the first step is
    :math:`\theta_1 = \theta_0 - \eta(1+\beta)\nabla L(\theta_0)` (the recursion above from
    :math:`\theta_{-1} = \theta_0` with :math:`\nabla L(\theta_{-1})` read as 0). On a
    quadratic it is stable iff
    :math:`\eta < 2(1+\beta)/((1+2\beta)\lambda_{\max})` (:func:`~physml.landscapes.nesterov_max_step`).
    """
    return optax.sgd(_check_lr(lr), momentum=_check_momentum(momentum), nesterov=True)


class Descent(NamedTuple):
    """The path of a discrete optimizer.

    Attributes:
        positions: :math:`\\theta_0, \\dots, \\theta_n`, shape ``(n_steps + 1, d)``.
        losses: :math:`L(\\theta_0), \\dots, L(\\theta_n)`, shape ``(n_steps + 1,)``.
    """

    positions: Array
    losses: Array


def descend(
    loss: Loss, theta0: Float[ArrayLike, " d"], optimizer: optax.GradientTransformation, n_steps: int
) -> Descent:
    r"""Run any optax optimizer on ``loss`` for ``n_steps`` full-batch steps (one jit-compiled
    ``lax.scan``), recording every position and loss.

    Each step evaluates :math:`L` and :math:`\nabla L` at :math:`\theta_t`, then applies
    ``optimizer.update``. A diverging run is recorded as it goes (up to ``inf``/``nan``).

    Args:
        loss: ``loss(theta) -> scalar``.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        optimizer: an ``optax.GradientTransformation``, e.g.
            :func:`~physml.landscapes.gradient_descent`, :func:`~physml.landscapes.heavy_ball`,
            :func:`~physml.landscapes.nesterov` or ``optax.adam(1e-3)``.
        n_steps: number of steps, :math:`\ge 1`.

    Returns:
        a :class:`~physml.landscapes.Descent` holding :math:`n + 1` positions and losses.

    Example:
        >>> import jax.numpy as jnp
        >>> from physml.landscapes import quadratic
        >>> path = descend(quadratic(jnp.array([1.0])), jnp.array([1.0]), gradient_descent(0.5), 3)
        >>> path.positions[:, 0].tolist()  # (1 - 0.5)^t
        [1.0, 0.5, 0.25, 0.125]
    """
    theta0 = _as_vector(theta0, "theta0")
    n_steps = _check_count(n_steps, "n_steps")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}")
    return _descend(loss, optimizer, n_steps, theta0)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _descend(loss: Loss, optimizer: optax.GradientTransformation, n_steps: int, theta0: Array) -> Descent:
    value_and_grad = jax.value_and_grad(loss)

    def step(carry: tuple, _: None) -> tuple[tuple, tuple[Array, Array]]:
        theta, state = carry
        value, grad = value_and_grad(theta)
        updates, state = optimizer.update(grad, state, theta)
        return (optax.apply_updates(theta, updates), state), (theta, value)

    (theta, _), (positions, losses) = jax.lax.scan(step, (theta0, optimizer.init(theta0)), length=n_steps)
    return Descent(jnp.concatenate([positions, theta[None]]), jnp.append(losses, loss(theta)))


# --------------------------------------------------------------- quadratics, exactly


def gd_quadratic_closed_form(
    eigenvalues: Float[ArrayLike, " d"],
    theta0: Float[ArrayLike, " d"],
    lr: float,
    n_steps: int,
    center: Float[ArrayLike, " d"] | None = None,
) -> Float[Array, "n d"]:
    r"""Gradient descent on :math:`L = \frac12\sum_i\lambda_i(\theta_i - c_i)^2`, in closed form:

    .. math::

        \theta_t - c = (1 - \eta\lambda)^t\,(\theta_0 - c) \quad\text{(per coordinate)},

    decaying for :math:`|1 - \eta\lambda_i| < 1`, i.e. :math:`0 < \eta\lambda_i < 2`, oscillating
    in sign when :math:`\eta\lambda_i > 1`, and growing when :math:`\eta\lambda_i > 2`.

    Args:
        eigenvalues: :math:`\lambda_i`, shape ``(d,)``.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        lr: :math:`\eta > 0`.
        n_steps: the last step :math:`n`.
        center: :math:`c`, shape ``(d,)``; zero by default.

    Returns:
        :math:`\theta_0, \dots, \theta_n`, shape ``(n_steps + 1, d)``, like
        ``descend(quadratic(eigenvalues, center), theta0, gradient_descent(lr), n_steps).positions``.
    """
    lam = _as_vector(eigenvalues, "eigenvalues")
    theta0 = _as_vector(theta0, "theta0", lam.shape[0])
    c = jnp.zeros_like(lam) if center is None else _as_vector(center, "center", lam.shape[0])
    lr = _check_lr(lr)
    n_steps = _check_count(n_steps, "n_steps", least=0)
    t = jnp.arange(n_steps + 1)[:, None]
    return c[None, :] + jnp.power(1.0 - lr * lam[None, :], t) * (theta0 - c)[None, :]


def _check_lmax(lmax: float) -> float:
    return _check_positive(lmax, "lmax (the largest Hessian eigenvalue)")


def gd_max_step(lmax: float) -> float:
    r"""The largest stable step of gradient descent on a quadratic, :math:`\eta_c = 2/\lambda_{\max}`.

    At :math:`\eta_c` the top mode flips sign each step with constant amplitude
    (:math:`1 - \eta_c\lambda_{\max} = -1`); below it every mode decays, above it the top mode grows.
    """
    return 2.0 / _check_lmax(lmax)


def heavy_ball_max_step(lmax: float, momentum: float) -> float:
    r"""The largest stable step of heavy ball on a quadratic, :math:`\eta_c = 2(1+\beta)/\lambda_{\max}`.

    A mode of curvature :math:`\lambda` obeys :math:`x_{t+1} = (1 + \beta - \eta\lambda)x_t -
    \beta x_{t-1}`, with characteristic roots :math:`r^2 - (1+\beta-\eta\lambda)r + \beta = 0`.
    For :math:`0 \le \beta < 1` both lie inside the unit circle iff
    :math:`0 < \eta\lambda < 2(1+\beta)`; at the limit a root passes through :math:`r = -1`.
    """
    return 2.0 * (1.0 + _check_momentum(momentum)) / _check_lmax(lmax)


def nesterov_max_step(lmax: float, momentum: float) -> float:
    r"""The largest stable step of Nesterov (:func:`~physml.landscapes.nesterov`) on a quadratic,
    :math:`\eta_c = 2(1+\beta)/((1+2\beta)\lambda_{\max})`.

    A mode obeys :math:`x_{t+1} = (1+\beta)(1-\eta\lambda)x_t - \beta(1-\eta\lambda)x_{t-1}`;
    a root passes through :math:`r = -1` when :math:`(1+2\beta)(1-\eta\lambda) = -1`. Nesterov
    tolerates a smaller step than heavy ball with the same :math:`\beta`.
    """
    beta = _check_momentum(momentum)
    return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * _check_lmax(lmax))


def largest_stable_step(
    loss: Loss,
    theta0: Float[ArrayLike, " d"],
    make_optimizer: Callable[[Array], optax.GradientTransformation],
    *,
    lo: float,
    hi: float,
    n_steps: int = 2000,
    iters: int = 40,
) -> float:
    r"""The largest step size at which an optimizer still reduces the loss, by bisection.

    A step size :math:`\eta` counts as stable when :math:`n` steps of
    ``make_optimizer(eta)`` from :math:`\theta_0` end below the starting loss,
    :math:`L(\theta_n) < L(\theta_0)`. Starting from a stable ``lo`` and an unstable ``hi``,
    ``iters`` halvings leave an interval of width :math:`(hi - lo)/2^{\text{iters}}`; its lower
    end is returned. On a quadratic this measures the limits of :func:`gd_max_step`,
    :func:`heavy_ball_max_step` and :func:`nesterov_max_step` without using them. Just below a
    limit the slowest-decaying mode contracts by a factor close to 1 per step, so the answer is
    resolved to about :math:`1/n` of the limit, not to ``iters`` bits.

    The learning rate enters the compiled run as data (through
    ``optax.inject_hyperparams``), so the bisection compiles once per ``make_optimizer``.

    Args:
        loss: ``loss(theta) -> scalar``.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        make_optimizer: ``make_optimizer(learning_rate) -> optax.GradientTransformation``; it
            receives a traced array, so use optax directly, e.g.
            ``lambda lr: optax.sgd(lr, momentum=0.9)`` (the same transformation as
            :func:`heavy_ball`).
        lo: a stable step size, :math:`> 0`.
        hi: an unstable step size, :math:`> lo`.
        n_steps: steps per trial, :math:`\ge 1`.
        iters: bisection steps, :math:`\ge 1`.

    Returns:
        the largest step size found stable.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from physml.landscapes import quadratic
        >>> loss = quadratic(jnp.array([1.0, 10.0]))
        >>> round(largest_stable_step(loss, jnp.ones(2), optax.sgd, lo=0.01, hi=1.0), 3)  # 2 / 10
        0.2
    """
    theta0 = _as_vector(theta0, "theta0")
    lo, hi = _check_lr(lo), _check_lr(hi)
    n_steps, iters = _check_count(n_steps, "n_steps"), _check_count(iters, "iters")
    if not lo < hi:
        raise ValueError(f"need lo < hi, got lo = {lo}, hi = {hi}")
    optimizer = optax.inject_hyperparams(make_optimizer)
    stable = lambda lr: bool(_reduces_loss(loss, optimizer, n_steps, theta0, jnp.asarray(lr, theta0.dtype)))
    if not stable(lo):
        raise ValueError(f"lo = {lo} is not stable: the loss after {n_steps} steps is not below the start")
    if stable(hi):
        raise ValueError(f"hi = {hi} is stable: raise it until the optimizer diverges")
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if stable(mid) else (lo, mid)
    return lo


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _reduces_loss(loss: Loss, optimizer: Callable, n_steps: int, theta0: Array, lr: Array) -> Array:
    transform = optimizer(lr)
    grad = jax.grad(loss)

    def step(carry: tuple, _: None) -> tuple[tuple, None]:
        theta, state = carry
        updates, state = transform.update(grad(theta), state, theta)
        return (optax.apply_updates(theta, updates), state), None

    (theta, _), _ = jax.lax.scan(step, (theta0, transform.init(theta0)), length=n_steps)
    return loss(theta) < loss(theta0)


# -------------------------------------------------------------- the edge of stability


class SharpnessTrace(NamedTuple):
    """Full-batch gradient descent with the sharpness measured along the way.

    Attributes:
        losses: :math:`L(\\theta_t)` for :math:`t = 0, \\dots, n`, shape ``(n_steps + 1,)``.
        sharpness: :math:`\\lambda_{\\max}(H(\\theta_t))` at the steps ``sharpness_steps``,
            shape ``(n_steps // every + 1,)``.
        sharpness_steps: :math:`t = 0, k, 2k, \\dots, n` (:math:`k` = ``every``).
        theta: the final parameters :math:`\\theta_n`, shape ``(d,)``.
    """

    losses: Array
    sharpness: Array
    sharpness_steps: Array
    theta: Array


def train_with_sharpness(
    loss: Loss,
    theta0: Float[ArrayLike, " d"],
    lr: float,
    n_steps: int,
    *,
    every: int,
    key: Array,
    num_iter: int = 20,
    method: str = "lanczos",
) -> SharpnessTrace:
    r"""Full-batch gradient descent :math:`\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)`,
    recording the loss at every step and the sharpness every ``every`` steps.

    The sharpness :math:`\lambda_{\max}(H)` is computed as in
    :func:`~physml.landscapes.sharpness` (Lanczos by default, ``num_iter`` Hessian-vector
    products, a fresh random start from ``key`` each time). On networks, gradient descent first
    raises it (*progressive sharpening*) until it reaches :math:`2/\eta`, then hovers there
    while the loss keeps falling, non-monotonically: the edge of stability (Cohen et al. 2021).
    One jit-compiled pair of nested ``lax.scan`` loops; the learning rate is traced, so a sweep
    over :math:`\eta` with the same ``loss`` compiles once.

    Args:
        loss: ``loss(theta) -> scalar``.
        theta0: :math:`\theta_0`, shape ``(d,)``.
        lr: :math:`\eta > 0`.
        n_steps: number of steps, a positive multiple of ``every``.
        every: steps between sharpness measurements.
        key: PRNG key for the Lanczos start vectors.
        num_iter: Hessian-vector products per sharpness measurement.
        method: ``"lanczos"`` or ``"power"`` (see :func:`~physml.landscapes.sharpness`).

    Returns:
        a :class:`~physml.landscapes.SharpnessTrace`.
    """
    theta0 = _as_vector(theta0, "theta0")
    lr = _check_lr(lr)
    n_steps = _check_count(n_steps, "n_steps")
    every = _check_count(every, "every")
    num_iter = _check_count(num_iter, "num_iter")
    if n_steps % every:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of every = {every}")
    if method not in ("lanczos", "power"):
        raise ValueError(f'method must be "lanczos" or "power", got {method!r}')
    losses, sharp, theta = _train(loss, n_steps // every, every, method, num_iter, theta0, lr, key)
    steps = jnp.arange(0, n_steps + 1, every)
    return SharpnessTrace(losses, sharp, steps, theta)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _train(
    loss: Loss, blocks: int, every: int, method: str, num_iter: int, theta0: Array, lr: Array, key: Array
) -> tuple[Array, Array, Array]:
    value_and_grad = jax.value_and_grad(loss)
    top = _sharpness_fn(loss, method, num_iter)
    lr = jnp.asarray(lr, theta0.dtype)

    def gd_step(theta: Array, _: None) -> tuple[Array, Array]:
        value, grad = value_and_grad(theta)
        return theta - lr * grad, value

    def block(theta: Array, b: Array) -> tuple[Array, tuple[Array, Array]]:
        s = top(theta, jax.random.fold_in(key, b))
        theta, values = jax.lax.scan(gd_step, theta, length=every)
        return theta, (values, s)

    theta, (values, sharp) = jax.lax.scan(block, theta0, jnp.arange(blocks))
    last = top(theta, jax.random.fold_in(key, blocks))
    return (
        jnp.append(values.reshape(-1), loss(theta)),
        jnp.append(sharp, last),
        theta,
    )
