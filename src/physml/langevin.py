r"""Langevin dynamics: sampling :math:`e^{-\beta L}`, annealing to its minimum, the noise of
SGD, and Jarzynski's equality for a dragged particle.

Overdamped Langevin dynamics on a loss :math:`L: \mathbb{R}^d \to \mathbb{R}` at inverse
temperature :math:`\beta`,

.. math::

    d\theta = -\nabla L(\theta)\, dt + \sqrt{2/\beta}\; dW_t ,

has the Gibbs distribution :math:`p_\beta(\theta) = e^{-\beta L(\theta)}/Z_\beta` as its
stationary law. As :math:`\beta \to \infty` the noise vanishes, the dynamics becomes
gradient flow and :math:`p_\beta` concentrates on the minima of :math:`L`: the
zero-temperature limit. The module provides

- two samplers of :math:`p_\beta` in discrete time, the unadjusted Langevin algorithm
  (:func:`ula`, Euler–Maruyama, biased by :math:`O(dt)`) and the Metropolis-adjusted one
  (:func:`mala`, exact for every step size), and :func:`gradient_descent`, their
  :math:`\beta = \infty` limit;
- simulated annealing: the same samplers with :math:`\beta` a function of the step
  (:func:`geometric_schedule`, :func:`linear_schedule`, :func:`logarithmic_schedule`);
- the stationary spread of minibatch SGD on linear regression, measured
  (:func:`measure_sgd_covariance`) and predicted (:func:`predict_sgd_covariance`);
- a particle in a harmonic trap driven out of equilibrium, its work, and the Jarzynski
  estimate of the free-energy change (:func:`trap_work`, :func:`jarzynski_estimate`).

Conventions: a loss takes one position of shape ``(d,)`` to a scalar; temperatures are in
units of the loss (:math:`k_B = 1`); time is measured so that the mobility is 1 (the
friction coefficient is absorbed into :math:`t`). Every iterative method is an
``(init, step)`` pair (:class:`Sampler`) acting on one chain with its state in a
``NamedTuple``; :func:`run` iterates a step with ``lax.scan``, :func:`run_chains` does so
for many chains at once with ``vmap``. Randomness comes only from the ``key`` passed in.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jaxtyping import Array, ArrayLike, Float

from ._checks import is_int as _is_int
from ._checks import is_real as _is_real

__all__ = [
    "GradientNoise",
    "JarzynskiEstimate",
    "LangevinState",
    "MALAState",
    "SGDSpread",
    "SGDState",
    "Sampler",
    "TrapProtocol",
    "TrapState",
    "double_well",
    "drag_mean_work",
    "geometric_schedule",
    "gradient_descent",
    "gradient_noise",
    "jarzynski_estimate",
    "linear_schedule",
    "logarithmic_schedule",
    "mala",
    "measure_sgd_covariance",
    "predict_sgd_covariance",
    "regression_data",
    "run",
    "run_chains",
    "sgd",
    "squared_error",
    "trap_equilibrium",
    "trap_free_energy",
    "trap_sampler",
    "trap_work",
    "ula",
]

Loss = Callable[[Array], Array]
#: A schedule maps the step number :math:`t = 0, 1, \dots` to an inverse temperature.
Schedule = Callable[[Array], Array]


class Sampler(NamedTuple):
    """An iterative method as an ``(init, step)`` pair (as in optax and jax-md).

    Attributes:
        init: ``init(position) -> state``, the state at a starting point.
        step: ``step(key, state) -> state``, one step of the method, pure and jit-able.
    """

    init: Callable[[Array], Any]
    step: Callable[[Array, Any], Any]


class LangevinState(NamedTuple):
    """State of one chain of :func:`ula` or :func:`gradient_descent`.

    Attributes:
        position: :math:`\\theta`, shape ``(d,)``.
        loss: :math:`L(\\theta)`, a scalar.
        grad: :math:`\\nabla L(\\theta)`, shape ``(d,)``.
        count: steps taken so far (an int32 scalar); a schedule reads :math:`\\beta` from it.
    """

    position: Array
    loss: Array
    grad: Array
    count: Array


class MALAState(NamedTuple):
    """State of one chain of :func:`mala`: that of :class:`LangevinState` and the last step's
    Metropolis–Hastings acceptance.

    Attributes:
        position: :math:`\\theta`, shape ``(d,)``.
        loss: :math:`L(\\theta)`, a scalar.
        grad: :math:`\\nabla L(\\theta)`, shape ``(d,)``.
        count: steps taken so far (an int32 scalar).
        accept_prob: acceptance probability of the last proposal (1 in the initial state);
            its mean along a run is the acceptance rate, with less noise than ``accepted``.
        accepted: whether the last proposal was accepted.
    """

    position: Array
    loss: Array
    grad: Array
    count: Array
    accept_prob: Array
    accepted: Array


# ------------------------------------------------------------------------------ samplers


def _check_step(step_size: float, name: str = "step_size") -> None:
    if not (_is_real(step_size) and math.isfinite(step_size) and step_size > 0):
        raise ValueError(f"{name} must be a positive finite number, got {step_size!r}")


def _check_beta(beta: float | Schedule, allow_inf: bool) -> None:
    if callable(beta):
        return
    ok = _is_real(beta) and beta > 0 and (allow_inf or math.isfinite(beta))
    if not ok:
        allowed = "positive (inf for gradient descent)" if allow_inf else "positive and finite"
        raise ValueError(f"beta must be {allowed} or a schedule t -> beta, got {beta!r}")


def _beta_at(beta: float | Schedule, count: Array) -> Array:
    return beta(count) if callable(beta) else jnp.asarray(beta)


def _initial(value_and_grad: Callable, position: ArrayLike) -> tuple[Array, Array, Array]:
    position = jnp.asarray(position)
    if position.ndim != 1 or not jnp.issubdtype(position.dtype, jnp.floating):
        raise ValueError(
            f"a position must be a 1-D float array of shape (d,), got shape {position.shape} "
            f"and dtype {position.dtype}; use shape (1,) for a one-dimensional loss"
        )
    value, grad = value_and_grad(position)
    return position, value, grad


def ula(loss: Loss, step_size: float, beta: float | Schedule = 1.0) -> Sampler:
    r"""The unadjusted Langevin algorithm: Euler–Maruyama for :math:`d\theta = -\nabla L\,dt +
    \sqrt{2/\beta}\,dW`,

    .. math::

        \theta_{t+1} = \theta_t - \nabla L(\theta_t)\, dt + \sqrt{2\,dt/\beta_t}\;\xi_t,
        \qquad \xi_t \sim \mathcal N(0, I_d).

    Its stationary law differs from :math:`e^{-\beta L}` by :math:`O(dt)`. For
    :math:`L = \frac12 k\theta^2` the chain is the AR(1) process
    :math:`\theta_{t+1} = (1 - k\,dt)\theta_t + \sqrt{2dt/\beta}\,\xi_t`, whose stationary
    variance :math:`v` solves :math:`v = (1-k\,dt)^2 v + 2dt/\beta`:

    .. math::

        v = \frac{1}{\beta k\,(1 - k\,dt/2)} = \frac{1}{\beta k} + \frac{dt}{2\beta} + O(dt^2),

    finite for :math:`0 < k\,dt < 2` (beyond, the chain diverges).

    Args:
        loss: :math:`L`, a callable from one position of shape ``(d,)`` to a scalar.
        step_size: :math:`dt > 0`.
        beta: :math:`\beta`, a positive number (``math.inf`` gives gradient descent), or a
            schedule ``t -> beta`` for simulated annealing (``t`` is the step number).

    Returns:
        a :class:`Sampler` with states :class:`LangevinState`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> sampler = ula(lambda th: 0.5 * th @ th, step_size=0.1, beta=2.0)
        >>> final, trace = run(jax.random.key(0), sampler.step, sampler.init(jnp.zeros(1)), 1000)
        >>> trace.position.shape
        (1000, 1)
    """
    _check_step(step_size)
    _check_beta(beta, allow_inf=True)
    step_size, beta = float(step_size), beta if callable(beta) else float(beta)
    value_and_grad = jax.value_and_grad(loss)

    def init(position: Float[ArrayLike, " d"]) -> LangevinState:
        position, value, grad = _initial(value_and_grad, position)
        return LangevinState(position, value, grad, jnp.zeros((), jnp.int32))

    def step(key: Array, state: LangevinState) -> LangevinState:
        x = state.position
        scale = jnp.sqrt(2.0 * step_size / _beta_at(beta, state.count))
        x = (x - step_size * state.grad + scale * jax.random.normal(key, x.shape, x.dtype)).astype(x.dtype)
        value, grad = value_and_grad(x)
        return LangevinState(x, value, grad, state.count + 1)

    return Sampler(init, step)


def gradient_descent(loss: Loss, step_size: float) -> Sampler:
    r"""Gradient descent :math:`\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)`: :func:`ula` at
    :math:`\beta = \infty`, with the same states.

    Its ``step`` takes a key like every sampler's (and ignores it), so gradient descent and
    Langevin dynamics run through :func:`run` from the same start side by side.
    """
    return ula(loss, step_size, math.inf)


def mala(loss: Loss, step_size: float, beta: float | Schedule = 1.0) -> Sampler:
    r"""The Metropolis-adjusted Langevin algorithm: an :func:`ula` step as a proposal,

    .. math::

        \theta' = \theta - \nabla L(\theta)\,dt + \sqrt{2\,dt/\beta}\;\xi, \qquad
        q(\theta'|\theta) \propto \exp\!\Big(-\frac{\beta\,|\theta' - \theta + dt\,\nabla
        L(\theta)|^2}{4\,dt}\Big),

    accepted with probability :math:`\min\big(1, e^{-\beta[L(\theta') - L(\theta)]}\,
    q(\theta|\theta')/q(\theta'|\theta)\big)`, otherwise the chain stays. The chain then
    satisfies detailed balance with respect to :math:`e^{-\beta L}` exactly, for every
    :math:`dt`: the step size sets the efficiency (through the acceptance rate), not the
    answer. A proposal whose loss is NaN is rejected. With a schedule, each step is exact
    for the :math:`\beta` of that step.

    Args:
        loss: :math:`L`, a callable from one position of shape ``(d,)`` to a scalar.
        step_size: :math:`dt > 0`.
        beta: :math:`\beta > 0` (finite), or a schedule ``t -> beta``.

    Returns:
        a :class:`Sampler` with states :class:`MALAState`.

    Reference:
        G. O. Roberts and R. L. Tweedie, Bernoulli 2, 341 (1996).
    """
    _check_step(step_size)
    _check_beta(beta, allow_inf=False)
    step_size, beta = float(step_size), beta if callable(beta) else float(beta)
    value_and_grad = jax.value_and_grad(loss)

    def init(position: Float[ArrayLike, " d"]) -> MALAState:
        position, value, grad = _initial(value_and_grad, position)
        one = jnp.ones((), value.dtype)
        return MALAState(position, value, grad, jnp.zeros((), jnp.int32), one, jnp.ones((), bool))

    def step(key: Array, state: MALAState) -> MALAState:
        k_move, k_accept = jax.random.split(key)
        b = _beta_at(beta, state.count)
        x, gx = state.position, state.grad
        noise = jax.random.normal(k_move, x.shape, x.dtype)
        y = (x - step_size * gx + jnp.sqrt(2.0 * step_size / b) * noise).astype(x.dtype)
        ly, gy = value_and_grad(y)
        log_q_forward = -b * jnp.sum((y - x + step_size * gx) ** 2) / (4 * step_size)
        log_q_backward = -b * jnp.sum((x - y + step_size * gy) ** 2) / (4 * step_size)
        log_ratio = -b * (ly - state.loss) + log_q_backward - log_q_forward
        accept_prob = jnp.where(jnp.isnan(log_ratio), 0.0, jnp.exp(jnp.minimum(log_ratio, 0.0)))
        accept_prob = accept_prob.astype(state.accept_prob.dtype)
        accepted = jax.random.uniform(k_accept, (), accept_prob.dtype) < accept_prob
        pick = lambda new, old: jnp.where(accepted, new, old)
        return MALAState(
            pick(y, x), pick(ly, state.loss), pick(gy, gx), state.count + 1, accept_prob, accepted
        )

    return Sampler(init, step)


def _advance(step: Callable, state: Any, keys: Array) -> Any:
    return jax.lax.scan(lambda s, k: (step(k, s), None), state, keys)[0]


def run(
    key: Array,
    step: Callable[[Array, Any], Any],
    state: Any,
    n_steps: int,
    *,
    burn_in: int = 0,
    thin: int = 1,
) -> tuple[Any, Any]:
    r"""Iterate ``step`` for ``burn_in + n_steps`` steps with ``lax.scan``; record every
    ``thin``-th state after the burn-in.

    Step :math:`i` (counting from 0) uses the :math:`i`-th key of
    ``jax.random.split(key, burn_in + n_steps)``, so a run is the same path whatever
    ``burn_in`` and ``thin`` are: ``run(key, step, s, n, burn_in=b, thin=m)`` records the
    states after steps :math:`b + m, b + 2m, \dots, b + n` of the plain run of :math:`b + n`
    steps. Jit-compiled per ``step`` function and lengths; ``vmap`` it over keys and
    states for many chains (or use :func:`run_chains`).

    Args:
        key: PRNG key.
        step: ``step(key, state) -> state``, e.g. ``sampler.step`` of a :class:`Sampler`.
        state: the initial state, e.g. ``sampler.init(position)``.
        n_steps: steps after the burn-in, a positive multiple of ``thin``.
        burn_in: steps run first and not recorded.
        thin: record one state every ``thin`` steps; ``thin=n_steps`` records only the last.

    Returns:
        the final state, and the recorded states stacked along a new leading axis of length
        ``n_steps // thin`` (a state ``NamedTuple`` whose fields have that axis in front).
    """
    for name, value, least in (("n_steps", n_steps, 1), ("burn_in", burn_in, 0), ("thin", thin, 1)):
        if not _is_int(value) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if n_steps % thin:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of thin = {thin}")
    return _run(key, step, state, int(n_steps), int(burn_in), int(thin))


@functools.partial(jax.jit, static_argnames=("step", "n_steps", "burn_in", "thin"))
def _run(key: Array, step: Callable, state: Any, n_steps: int, burn_in: int, thin: int) -> tuple[Any, Any]:
    keys = jax.random.split(key, burn_in + n_steps)
    state = _advance(step, state, keys[:burn_in])

    def record(s: Any, block: Array) -> tuple[Any, Any]:
        s = _advance(step, s, block)
        return s, s

    return jax.lax.scan(record, state, keys[burn_in:].reshape(n_steps // thin, thin))


def run_chains(
    key: Array,
    sampler: Sampler,
    positions: Float[ArrayLike, "chains d"],
    n_steps: int,
    *,
    burn_in: int = 0,
    thin: int = 1,
) -> tuple[Any, Any]:
    """:func:`run` for many independent chains at once (``vmap``), one from each row of ``positions``.

    Chain :math:`c` uses the key ``jax.random.split(key, chains)[c]``.

    Returns:
        the final states (fields with a leading ``chains`` axis) and the recorded states
        (fields with leading axes ``(chains, n_steps // thin)``).
    """
    positions = jnp.asarray(positions)
    if positions.ndim != 2:
        raise ValueError(f"positions must have shape (chains, d), got {positions.shape}")
    states = jax.vmap(sampler.init)(positions)
    keys = jax.random.split(key, positions.shape[0])
    return jax.vmap(lambda k, s: run(k, sampler.step, s, n_steps, burn_in=burn_in, thin=thin))(keys, states)


# ----------------------------------------------------------------------------- annealing


def double_well(theta: Float[ArrayLike, " d"], height: float = 1.0, tilt: float = 0.0) -> Float[Array, ""]:
    r"""A (tilted) double well in every coordinate, :math:`L(\theta) = \sum_i \big[h\,(\theta_i^2 -
    1)^2 + c\,\theta_i\big]`.

    With ``tilt`` :math:`c = 0` the wells at :math:`\theta_i = \pm 1` are equally deep and
    :math:`h` is the barrier between them. A tilt :math:`c > 0` lowers the well near
    :math:`-1` and raises the one near :math:`+1`: by :math:`\approx 2c` between the two
    minima and by :math:`\approx h - c` from the upper minimum to the barrier top near
    :math:`\theta = c/4h`. Gradient descent started in the upper (local) well stays there;
    annealing can leave it.
    """
    theta = jnp.asarray(theta)
    return jnp.sum(height * (theta**2 - 1.0) ** 2 + tilt * theta)


def _check_betas(*betas: float) -> None:
    if not all(_is_real(b) and 0 < b < math.inf for b in betas):
        raise ValueError(f"inverse temperatures must be positive and finite, got {betas}")


def _check_length(n_steps: int) -> None:
    if not _is_int(n_steps) or n_steps < 2:
        raise ValueError(f"a schedule needs n_steps >= 2, got {n_steps!r}")


def geometric_schedule(beta_start: float, beta_end: float, n_steps: int) -> Schedule:
    r"""Geometric cooling, :math:`\beta_t = \beta_0\,(\beta_1/\beta_0)^{t/(n-1)}` for
    :math:`0 \le t \le n-1`, then :math:`\beta_1`: the temperature falls by a constant factor
    each step."""
    _check_betas(beta_start, beta_end)
    _check_length(n_steps)
    log_ratio = math.log(beta_end / beta_start)

    def schedule(t: Array) -> Array:
        frac = jnp.clip(jnp.asarray(t) / (n_steps - 1), 0.0, 1.0)
        return beta_start * jnp.exp(log_ratio * frac)

    return schedule


def linear_schedule(beta_start: float, beta_end: float, n_steps: int) -> Schedule:
    r""":math:`\beta_t = \beta_0 + (\beta_1 - \beta_0)\,t/(n-1)` for :math:`0 \le t \le n-1`,
    then :math:`\beta_1`."""
    _check_betas(beta_start, beta_end)
    _check_length(n_steps)

    def schedule(t: Array) -> Array:
        frac = jnp.clip(jnp.asarray(t) / (n_steps - 1), 0.0, 1.0)
        return beta_start + (beta_end - beta_start) * frac

    return schedule


def logarithmic_schedule(beta_start: float, time_scale: float = 1.0) -> Schedule:
    r"""Logarithmic cooling, :math:`\beta_t = \beta_0 \ln(e + t/\tau)`, i.e.
    :math:`T_t = T_0/\ln(e + t/\tau)`.

    The classical schedule that is slow enough to reach the global minimum with probability
    tending to 1 when :math:`T_0` exceeds the depth of the deepest non-global well (Geman and
    Geman 1984; Hajek 1988) — and too slow for most practical purposes.
    """
    _check_betas(beta_start)
    if not (_is_real(time_scale) and 0 < time_scale < math.inf):
        raise ValueError(f"time_scale must be positive and finite, got {time_scale!r}")
    return lambda t: beta_start * jnp.log(math.e + jnp.asarray(t) / time_scale)


# ---------------------------------------------------------------------- SGD as Langevin


class SGDState(NamedTuple):
    """State of one :func:`sgd` chain.

    Attributes:
        position: the parameters :math:`w`, shape ``(p,)``.
        count: steps taken so far (an int32 scalar).
    """

    position: Array
    count: Array


def _check_batch(batch_size: int) -> None:
    if not _is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def squared_error(w: Float[Array, " p"], example: tuple[Array, Array]) -> Float[Array, ""]:
    r"""The per-example loss of linear regression, :math:`\ell(w; x, y) = \frac12 (x\cdot w - y)^2`,
    for ``example = (x, y)`` with ``x`` of shape ``(p,)``."""
    x, y = example
    return 0.5 * (x @ w - y) ** 2


def sgd(
    example_loss: Callable[[Array, Any], Array], data: Any, learning_rate: float, batch_size: int
) -> Sampler:
    r"""Minibatch stochastic gradient descent as an ``(init, step)`` pair,

    .. math::

        w_{t+1} = w_t - \frac{\eta}{B}\sum_{j=1}^{B} \nabla_w\, \ell(w_t; z_{i_j}),
        \qquad i_1, \dots, i_B \ \text{uniform on}\ \{1..N\},\ \text{with replacement}.

    Drawing with replacement makes the batches of different steps independent and the
    minibatch gradient an unbiased estimate of :math:`\nabla L`, :math:`L = \frac1N\sum_i
    \ell(w; z_i)`, with covariance :math:`C(w)/B` (:math:`C` the covariance of the
    per-example gradients over the data set). Without replacement it would be
    :math:`C/B \cdot (N-B)/(N-1)`.

    Args:
        example_loss: :math:`\ell(w; z)`, from parameters of shape ``(p,)`` and one example
            (a pytree of arrays without the leading data axis) to a scalar; e.g.
            :func:`squared_error`.
        data: the data set, a pytree of arrays sharing a leading axis of length :math:`N`
            (e.g. ``(x, y)``).
        learning_rate: :math:`\eta > 0`.
        batch_size: :math:`B \ge 1`.

    Returns:
        a :class:`Sampler` with states :class:`SGDState` (the key draws the batch).
    """
    _check_step(learning_rate, "learning_rate")
    sizes = {a.shape[0] if a.ndim else -1 for a in map(jnp.asarray, jax.tree_util.tree_leaves(data))}
    if len(sizes) != 1 or min(sizes) < 1:
        raise ValueError(f"data must be arrays sharing a non-empty leading axis, got leading sizes {sizes}")
    _check_batch(batch_size)
    learning_rate, batch_size = float(learning_rate), int(batch_size)
    data = jax.tree_util.tree_map(jnp.asarray, data)

    def init(position: Float[ArrayLike, " p"]) -> SGDState:
        position = jnp.asarray(position)
        if position.ndim != 1:
            raise ValueError(f"parameters must have shape (p,), got {position.shape}")
        return SGDState(position, jnp.zeros((), jnp.int32))

    step = functools.partial(_sgd_step, example_loss, data, learning_rate, batch_size)
    return Sampler(init, step)


def _sgd_step(
    example_loss: Callable, data: Any, learning_rate: Any, batch_size: int, key: Array, state: SGDState
) -> SGDState:
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    idx = jax.random.randint(key, (batch_size,), 0, n)
    batch = jax.tree_util.tree_map(lambda a: a[idx], data)
    grad = jnp.mean(jax.vmap(jax.grad(example_loss), in_axes=(None, 0))(state.position, batch), axis=0)
    return SGDState((state.position - learning_rate * grad).astype(state.position.dtype), state.count + 1)


def regression_data(
    key: Array, n: int, scales: Float[ArrayLike, " p"] = (1.0, 0.5), noise: float = 0.5
) -> tuple[Float[Array, "n p"], Float[Array, " n"]]:
    r"""Synthetic linear-regression data, :math:`y_i = x_i\cdot w^* + \sigma\epsilon_i` with
    :math:`w^* = (1, \dots, 1)`.

    Inputs :math:`x_{ia} = s_a z_{ia}` with :math:`z, \epsilon` independent standard normal:
    the Hessian of the loss is :math:`\approx \operatorname{diag}(s_a^2)` and, the model being
    well specified, the per-example gradient covariance at the minimum is
    :math:`\approx \sigma^2 \operatorname{diag}(s_a^2)` (both exactly in
    :func:`gradient_noise`).

    Args:
        key: PRNG key.
        n: number of examples :math:`N`.
        scales: :math:`s_a`, one per input dimension, shape ``(p,)``.
        noise: :math:`\sigma \ge 0`, the standard deviation of the label noise.

    Returns:
        inputs ``x`` of shape ``(n, p)`` and labels ``y`` of shape ``(n,)``.
    """
    scales = jnp.asarray(scales, dtype=float)
    if scales.ndim != 1 or not bool(jnp.all(scales > 0)) or n < 1 or not noise >= 0:
        raise ValueError(
            f"need n >= 1, positive scales of shape (p,), noise >= 0; got {n}, {scales}, {noise}"
        )
    k_x, k_y = jax.random.split(key)
    x = jax.random.normal(k_x, (n, scales.shape[0]), scales.dtype) * scales[None, :]
    y = jnp.sum(x, axis=1) + noise * jax.random.normal(k_y, (n,), scales.dtype)
    return x, y


class GradientNoise(NamedTuple):
    r"""The minimum of the linear-regression loss and the two matrices of SGD's noise theory.

    Attributes:
        minimizer: :math:`\hat w`, the least-squares solution, shape ``(p,)``.
        hessian: :math:`H = \frac1N \sum_i x_i x_i^\top`, shape ``(p, p)``.
        covariance: :math:`C = \frac1N\sum_i r_i^2\, x_i x_i^\top` with residuals
            :math:`r_i = x_i\cdot\hat w - y_i`: the covariance of the per-example gradients
            :math:`g_i = r_i x_i` at :math:`\hat w` (their mean is zero there), ``(p, p)``.
    """

    minimizer: np.ndarray
    hessian: np.ndarray
    covariance: np.ndarray


def _regression_arrays(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],) or x.shape[0] < x.shape[1]:
        raise ValueError(
            f"need x of shape (n, p) with n >= p and y of shape (n,), got {x.shape} and {y.shape}"
        )
    return x, y


def gradient_noise(x: Float[ArrayLike, "n p"], y: Float[ArrayLike, " n"]) -> GradientNoise:
    r"""Minimizer, Hessian :math:`H` and per-example gradient covariance :math:`C` of
    :math:`L(w) = \frac{1}{2N}\sum_i (x_i\cdot w - y_i)^2` (float64, NumPy)."""
    x, y = _regression_arrays(x, y)
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    r = x @ w - y
    n = x.shape[0]
    return GradientNoise(w, x.T @ x / n, (x * r[:, None] ** 2).T @ x / n)


def predict_sgd_covariance(
    x: Float[ArrayLike, "n p"],
    y: Float[ArrayLike, " n"],
    learning_rate: float,
    batch_size: int,
    *,
    exact: bool = False,
) -> np.ndarray:
    r"""The stationary covariance :math:`\Sigma = \langle (w - \hat w)(w - \hat w)^\top\rangle` of
    :func:`sgd` with :func:`squared_error` on the data ``(x, y)``.

    Write :math:`w = \hat w + \delta`. A step with the batch :math:`\{i_j\}` is the linear
    random map :math:`\delta' = (I - \eta A)\delta + \eta b` with :math:`A = \frac1B\sum_j
    x_{i_j}x_{i_j}^\top` and :math:`b = -\frac1B\sum_j r_{i_j}x_{i_j}`, independent of
    :math:`\delta`, with :math:`\langle A\rangle = H`, :math:`\langle b\rangle = 0`,
    :math:`\langle bb^\top\rangle = C/B`. So :math:`\langle\delta\rangle \to 0` and the
    second moment obeys :math:`\Sigma = \langle (I-\eta A)\Sigma(I-\eta A)\rangle + \eta^2 C/B`,
    i.e. exactly

    .. math::

        H\Sigma + \Sigma H - \eta\Big[\tfrac1B M(\Sigma) + \big(1 - \tfrac1B\big) H\Sigma H\Big]
        = \frac{\eta}{B}\, C, \qquad M(\Sigma) = \frac1N\sum_i (x_i^\top\Sigma x_i)\, x_i x_i^\top .

    With ``exact=True`` this linear system (size :math:`p^2`) is solved as it stands: the
    stationary covariance of the discrete-time iteration at any :math:`\eta` at which it is
    stable in mean square (else ``ValueError``). By default the :math:`O(\eta)` bracket is
    dropped, leaving the Lyapunov equation of Mandt, Hoffman and Blei (2017),

    .. math::

        H\Sigma + \Sigma H = \frac{\eta}{B}\, C, \qquad
        \Sigma = \frac{\eta}{2B}\, C H^{-1} \ \text{when}\ [C, H] = 0,

    the small-:math:`\eta` limit, with relative error :math:`O(\eta\,\lambda_{\max}(H))` (and
    larger where the inputs are heavy-tailed, through :math:`M`). When :math:`C` and
    :math:`H` commute, along a common eigenvector (curvature :math:`h`, gradient variance
    :math:`c`) the variance is :math:`T_{\rm eff}/h`, the Gibbs spread of
    :math:`e^{-L/T_{\rm eff}}` at an effective temperature :math:`T_{\rm eff} = \eta c/(2B)
    \propto \eta/B`. The temperature is the same in every direction only if :math:`C \propto I`;
    for well-specified regression :math:`C \approx \sigma^2 H` and the spread is instead
    isotropic, :math:`\Sigma \approx \eta\sigma^2/(2B)\, I`.

    Args:
        x: inputs, shape ``(n, p)``.
        y: labels, shape ``(n,)``.
        learning_rate: :math:`\eta > 0`.
        batch_size: :math:`B \ge 1`.
        exact: solve the exact discrete-time equation instead of its small-:math:`\eta` limit.

    Returns:
        :math:`\Sigma`, shape ``(p, p)``, float64.
    """
    _check_step(learning_rate, "learning_rate")
    _check_batch(batch_size)
    x, _ = _regression_arrays(x, y)
    _, H, C = gradient_noise(x, y)
    eta, B, p = learning_rate, batch_size, x.shape[1]
    if not exact:
        return scipy.linalg.solve_continuous_lyapunov(H, eta / B * C)
    eye = np.eye(p)
    outer = np.einsum("ia,ib->iab", x, x).reshape(x.shape[0], p * p)
    M = outer.T @ outer / x.shape[0]  # vec(M(S)) = M vec(S)
    drift = np.kron(eye, H) + np.kron(H, eye)
    second = M / B + (1 - 1 / B) * np.kron(H, H)
    moment_map = np.eye(p * p) - eta * drift + eta**2 * second  # S -> <(I - ηA) S (I - ηA)>
    if np.max(np.abs(np.linalg.eigvals(moment_map))) >= 1:
        raise ValueError(
            f"SGD with learning_rate {eta} and batch_size {B} diverges in mean square on this data"
        )
    sigma = np.linalg.solve(drift - eta * second, (eta / B * C).reshape(-1)).reshape(p, p)
    return 0.5 * (sigma + sigma.T)


class SGDSpread(NamedTuple):
    r"""The measured stationary spread of SGD around the minimum.

    Attributes:
        covariance: :math:`\langle (w - \hat w)(w-\hat w)^\top\rangle`, averaged over every
            step after the burn-in and over the chains, shape ``(p, p)``.
        stderr: its standard error, from the spread of the per-chain averages (the chains
            are independent), shape ``(p, p)``.
        minimizer: :math:`\hat w`, shape ``(p,)``.
    """

    covariance: Array
    stderr: Array
    minimizer: Array


def measure_sgd_covariance(
    key: Array,
    x: Float[ArrayLike, "n p"],
    y: Float[ArrayLike, " n"],
    learning_rate: float,
    batch_size: int,
    *,
    n_steps: int,
    chains: int = 256,
    burn_in: int | None = None,
) -> SGDSpread:
    r"""Run ``chains`` independent :func:`sgd` chains on linear regression and measure the
    stationary covariance of :math:`w - \hat w`.

    Every chain starts at the minimizer :math:`\hat w`; the stationary mean is exactly
    :math:`\hat w` (see :func:`predict_sgd_covariance`), so deviations are taken from it,
    not from a sample mean. The covariance relaxes as :math:`e^{-2\eta h_{\min} t}`
    (:math:`h_{\min}` the smallest eigenvalue of :math:`H`); the default burn-in is
    :math:`5/(\eta h_{\min})` steps, ten relaxation times. The statistical error of a chain
    falls like :math:`(\eta h\, n_{\rm steps})^{-1/2}`: small learning rates need
    proportionally more steps.

    Args:
        key: PRNG key.
        x: inputs, shape ``(n, p)``.
        y: labels, shape ``(n,)``.
        learning_rate: :math:`\eta`.
        batch_size: :math:`B`.
        n_steps: steps measured per chain, after the burn-in.
        chains: independent chains.
        burn_in: steps discarded first (default :math:`\lceil 5/(\eta h_{\min})\rceil`).

    Returns:
        an :class:`SGDSpread`.
    """
    _check_step(learning_rate, "learning_rate")
    _check_batch(batch_size)
    noise = gradient_noise(x, y)
    if burn_in is None:
        burn_in = math.ceil(5.0 / (learning_rate * float(np.linalg.eigvalsh(noise.hessian)[0])))
    if not _is_int(n_steps) or n_steps < 1 or not _is_int(chains) or chains < 2:
        raise ValueError(f"need n_steps >= 1 and chains >= 2, got {n_steps!r} and {chains!r}")
    if not _is_int(burn_in) or burn_in < 0:
        raise ValueError(f"burn_in must be a non-negative integer, got {burn_in!r}")
    x = jnp.asarray(x)
    w_hat = jnp.asarray(noise.minimizer, x.dtype)
    per_chain = _sgd_second_moments(
        key,
        x,
        jnp.asarray(y, x.dtype),
        w_hat,
        float(learning_rate),
        int(batch_size),
        n_steps,
        burn_in,
        int(chains),
    )
    return SGDSpread(
        jnp.mean(per_chain, axis=0), jnp.std(per_chain, axis=0, ddof=1) / math.sqrt(chains), w_hat
    )


@functools.partial(jax.jit, static_argnames=("batch_size", "chains"))
def _sgd_second_moments(
    key: Array,
    x: Array,
    y: Array,
    centre: Array,
    learning_rate: Array,
    batch_size: int,
    n_steps: Array,
    burn_in: Array,
    chains: int,
) -> Array:
    """Per chain, the time average of :math:`(w - w_0)(w - w_0)^\\top` over ``n_steps`` steps
    after ``burn_in``, all chains started at ``centre``. Only the batch size and the number of
    chains are compiled in, so a scan over learning rates and lengths compiles once."""
    step = functools.partial(_sgd_step, squared_error, (x, y), learning_rate, batch_size)

    def one_chain(k: Array) -> Array:
        k_burn, k_run = jax.random.split(k)
        state = SGDState(centre, jnp.zeros((), jnp.int32))
        state = jax.lax.fori_loop(0, burn_in, lambda i, s: step(jax.random.fold_in(k_burn, i), s), state)

        def accumulate(i: Array, carry: tuple[SGDState, Array]) -> tuple[SGDState, Array]:
            s, total = carry
            s = step(jax.random.fold_in(k_run, i), s)
            d = s.position - centre
            return s, total + jnp.outer(d, d)

        zero = jnp.zeros((centre.shape[0], centre.shape[0]), centre.dtype)
        return jax.lax.fori_loop(0, n_steps, accumulate, (state, zero))[1] / n_steps

    return jax.vmap(one_chain)(jax.random.split(key, chains))


# ------------------------------------------------------------------------------ Jarzynski


class TrapProtocol(NamedTuple):
    r"""A harmonic trap :math:`H(x, \lambda) = \frac12 k\,(x - c)^2` whose stiffness and centre
    move linearly in time, :math:`\lambda(t) = (k(t), c(t))` from ``(k0, c0)`` at
    :math:`t = 0` to ``(k1, c1)`` at :math:`t = \tau` (``duration``), constant afterwards.

    ``TrapProtocol(k0=1, k1=4)`` stiffens the trap; ``TrapProtocol(k0=1, k1=1, c1=2)`` drags it.

    Attributes:
        k0: initial stiffness (> 0).
        k1: final stiffness (> 0).
        c0: initial centre.
        c1: final centre.
        duration: :math:`\tau > 0`, in units of the mobility (time for the relaxation rate
            :math:`k` to act is :math:`1/k`).
    """

    k0: float = 1.0
    k1: float = 1.0
    c0: float = 0.0
    c1: float = 0.0
    duration: float = 1.0

    def at(self, t: Array) -> tuple[Array, Array]:
        """Stiffness and centre at time ``t`` (clipped to ``[0, duration]``)."""
        s = jnp.clip(t / self.duration, 0.0, 1.0)
        return self.k0 + (self.k1 - self.k0) * s, self.c0 + (self.c1 - self.c0) * s


class TrapState(NamedTuple):
    """State of one trajectory of :func:`trap_sampler`.

    Attributes:
        position: the particle's position :math:`x`, a scalar.
        work: the work :math:`W` done on it so far, a scalar.
        count: steps taken so far (an int32 scalar).
    """

    position: Array
    work: Array
    count: Array


def _check_protocol(protocol: TrapProtocol, beta: float) -> None:
    if not (protocol.k0 > 0 and protocol.k1 > 0 and protocol.duration > 0):
        raise ValueError(f"need positive stiffnesses and duration, got {protocol}")
    _check_betas(beta)


def _trap_energy(x: Array, k: Array, c: Array) -> Array:
    return 0.5 * k * (x - c) ** 2


def trap_sampler(protocol: TrapProtocol, beta: float, n_steps: int) -> Sampler:
    r"""The overdamped particle :math:`dx = -\partial_x H(x, \lambda_t)\,dt + \sqrt{2/\beta}\,dW`
    in a driven trap, as an ``(init, step)`` pair accumulating the work

    .. math::

        W = \int_0^\tau \frac{\partial H}{\partial\lambda}\,\dot\lambda\; dt
        \;\to\; \sum_{n=0}^{N-1} \big[H(x_n, \lambda_{n+1}) - H(x_n, \lambda_n)\big],

    with :math:`dt = \tau/N` and :math:`\lambda_n = \lambda(n\,dt)`. Each step first changes
    :math:`\lambda` at fixed :math:`x` (that energy change is work), then moves :math:`x` at
    fixed :math:`\lambda_{n+1}` (that energy change is heat) by the exact Ornstein–Uhlenbeck
    propagator of the harmonic trap,

    .. math::

        x_{n+1} = c + (x_n - c)\,e^{-k\,dt} + \sqrt{\frac{1 - e^{-2k\,dt}}{\beta k}}\;\xi_n .

    That move leaves :math:`e^{-\beta H(\cdot, \lambda_{n+1})}` invariant, so Jarzynski's
    equality :math:`\langle e^{-\beta W}\rangle = e^{-\beta\Delta F}` holds exactly at every
    :math:`N` (Crooks 1998), not only as :math:`dt \to 0`; the sum converges to the integral
    as :math:`dt \to 0`. Steps beyond :math:`N` hold :math:`\lambda` fixed and add no work.

    Args:
        protocol: the :class:`TrapProtocol`.
        beta: :math:`\beta > 0`.
        n_steps: :math:`N`, steps over the protocol's duration.

    Returns:
        a :class:`Sampler`; ``init(x)`` takes a scalar position (draw it with
        :func:`trap_equilibrium`), its states are :class:`TrapState`.
    """
    _check_protocol(protocol, beta)
    if not _is_int(n_steps) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    dt = protocol.duration / n_steps

    def init(position: Float[ArrayLike, ""]) -> TrapState:
        position = jnp.asarray(position, dtype=float)
        if position.ndim != 0:
            raise ValueError(f"the particle's position is a scalar, got shape {position.shape}")
        return TrapState(position, jnp.zeros_like(position), jnp.zeros((), jnp.int32))

    def step(key: Array, state: TrapState) -> TrapState:
        x = state.position
        k_old, c_old = protocol.at(state.count * dt)
        k, c = protocol.at((state.count + 1) * dt)
        work = state.work + _trap_energy(x, k, c) - _trap_energy(x, k_old, c_old)
        decay = jnp.exp(-k * dt)
        spread = jnp.sqrt(-jnp.expm1(-2 * k * dt) / (beta * k))
        x = c + (x - c) * decay + spread * jax.random.normal(key, (), x.dtype)
        return TrapState(x.astype(state.position.dtype), work.astype(state.work.dtype), state.count + 1)

    return Sampler(init, step)


def trap_equilibrium(key: Array, protocol: TrapProtocol, beta: float, n: int) -> Float[Array, " n"]:
    r"""``n`` independent positions from the initial equilibrium :math:`\mathcal N(c_0, 1/(\beta k_0))`."""
    _check_protocol(protocol, beta)
    return protocol.c0 + jax.random.normal(key, (n,), dtype=float) / math.sqrt(beta * protocol.k0)


def trap_work(
    key: Array, protocol: TrapProtocol, beta: float, n_trajectories: int, n_steps: int = 200
) -> Float[Array, " n_trajectories"]:
    r"""The work :math:`W` of ``n_trajectories`` independent trajectories of :func:`trap_sampler`,
    each started from the initial equilibrium (:func:`trap_equilibrium`).

    Returns:
        :math:`W`, shape ``(n_trajectories,)``, in units of the energy (:math:`\beta W` is
        dimensionless).
    """
    sampler = trap_sampler(protocol, beta, n_steps)
    k_init, k_run = jax.random.split(key)
    x0 = trap_equilibrium(k_init, protocol, beta, n_trajectories)
    keys = jax.random.split(k_run, n_trajectories)
    final = jax.vmap(lambda k, x: run(k, sampler.step, sampler.init(x), n_steps, thin=n_steps)[0])(keys, x0)
    return final.work


def trap_free_energy(protocol: TrapProtocol, beta: float) -> float:
    r"""Exact :math:`\Delta F = F(\lambda_1) - F(\lambda_0) = \frac{1}{2\beta}\ln\frac{k_1}{k_0}`.

    From :math:`Z(k, c) = \int e^{-\beta k (x-c)^2/2}dx = \sqrt{2\pi/(\beta k)}` and
    :math:`F = -\beta^{-1}\ln Z`; moving the centre changes nothing (:math:`\Delta F = 0`
    for a drag).
    """
    _check_protocol(protocol, beta)
    return 0.5 * math.log(protocol.k1 / protocol.k0) / beta


def drag_mean_work(protocol: TrapProtocol) -> float:
    r"""Exact mean work of dragging the trap at constant speed :math:`v = (c_1 - c_0)/\tau`
    (continuous time, :math:`k_0 = k_1 = k`),

    .. math::

        \langle W\rangle = v^2\Big[\tau - \frac{1 - e^{-k\tau}}{k}\Big] \;\ge\; 0 = \Delta F .

    The mean lag :math:`\langle x - c\rangle = -(v/k)(1 - e^{-kt})` gives the power
    :math:`-k v\langle x - c\rangle`. The work is Gaussian (the dynamics is linear), and
    Jarzynski's equality then forces :math:`\operatorname{Var}W = 2\langle W\rangle/\beta`
    (so the result does not depend on :math:`\beta`); for slow drags
    :math:`\langle W\rangle \approx v^2\tau`, the Stokes drag.
    """
    if protocol.k0 != protocol.k1 or protocol.k0 <= 0 or protocol.duration <= 0:
        raise ValueError(f"a drag needs k0 == k1 > 0 and a positive duration, got {protocol}")
    k, tau = protocol.k0, protocol.duration
    v = (protocol.c1 - protocol.c0) / tau
    return v**2 * (tau + math.expm1(-k * tau) / k)


class JarzynskiEstimate(NamedTuple):
    r"""Jarzynski's estimate of :math:`\Delta F` from work samples, with its uncertainty.

    Attributes:
        free_energy: :math:`\widehat{\Delta F} = -\beta^{-1}\ln\overline{e^{-\beta W}}`.
        stderr: its standard error, :math:`\sigma_\rho/(\beta\sqrt n)` with :math:`\sigma_\rho`
            the standard deviation of :math:`\rho = e^{-\beta W}/\overline{e^{-\beta W}}`
            (delta method).
        bias: the leading bias :math:`\mathbb E\widehat{\Delta F} - \Delta F \approx
            \sigma_\rho^2/(2\beta n) > 0`: for few samples the estimate lies above
            :math:`\Delta F` on average, towards :math:`\langle W\rangle`.
        mean_work: :math:`\overline{W}`, which the second law puts above :math:`\Delta F`.
        mean_work_stderr: its standard error.
        n: the number of samples.
    """

    free_energy: float
    stderr: float
    bias: float
    mean_work: float
    mean_work_stderr: float
    n: int


def jarzynski_estimate(work: Float[ArrayLike, " n"], beta: float) -> JarzynskiEstimate:
    r"""Estimate :math:`\Delta F` from the work of :math:`n` independent trajectories by
    Jarzynski's equality :math:`\langle e^{-\beta W}\rangle = e^{-\beta\Delta F}`.

    Computed in float64 with log-sum-exp, :math:`\widehat{\Delta F} = -\beta^{-1}[\ln\sum_i
    e^{-\beta W_i} - \ln n]`, so large works do not overflow. The average is dominated by the
    rare trajectories with :math:`W < \Delta F`; when the dissipated work
    :math:`\beta(\langle W\rangle - \Delta F)` is several units, the few samples that
    matter make both the estimate and its error bar unreliable (Gore, Ritort and Bustamante
    2003); ``bias`` and ``stderr`` are the leading terms of the expansion in :math:`1/n`.

    Reference:
        C. Jarzynski, Phys. Rev. Lett. 78, 2690 (1997); D. M. Zuckerman and T. B. Woolf,
        Phys. Rev. Lett. 89, 180602 (2002).
    """
    work = np.asarray(work, dtype=np.float64)
    if work.ndim != 1 or work.size < 2 or not np.all(np.isfinite(work)):
        raise ValueError(f"work must be a 1-D array of at least 2 finite values, got shape {work.shape}")
    _check_betas(beta)
    n = work.size
    a = -beta * work
    shift = a.max()
    rho = np.exp(a - shift)
    rho /= rho.mean()
    var_rho = rho.var(ddof=1)
    free_energy = -(shift + math.log(np.mean(np.exp(a - shift)))) / beta
    return JarzynskiEstimate(
        float(free_energy),
        float(math.sqrt(var_rho / n) / beta),
        float(var_rho / (2 * n * beta)),
        float(work.mean()),
        float(work.std(ddof=1) / math.sqrt(n)),
        n,
    )
