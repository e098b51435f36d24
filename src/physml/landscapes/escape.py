r"""Escaping saddles: how long gradient descent lingers near a strict saddle, and why it
almost never stays.

Near a strict saddle :math:`\theta_s` (Hessian eigenvalue :math:`\lambda_{\min} < 0`),
gradient descent is linear: the component along the unstable eigenvector grows by
:math:`1 + \eta|\lambda_{\min}|` per step while the stable ones shrink. Started at distance
:math:`\epsilon` (with an order-one overlap on the unstable direction), it reaches distance
:math:`r` after

.. math::

    n(\epsilon) \approx \frac{\ln(r/\epsilon)}{\ln(1 + \eta|\lambda_{\min}|)} \ \text{steps},
    \qquad
    t(\epsilon) \approx \frac{\ln(r/\epsilon)}{|\lambda_{\min}|} \ \text{for the flow}
    \ (\eta \to 0),

up to an :math:`\epsilon`-independent offset: the time diverges only logarithmically as the
start approaches the saddle. The set of starts that converge *to* the saddle is its stable
manifold (measure zero), so random starts end in minima with probability one; gradient
noise removes even that exception. Conventions as in :mod:`physml.landscapes`: a loss maps
shape ``(d,)`` to a scalar; distances are Euclidean.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .curvature import hessian_spectrum
from .functions import Loss, _as_vector, _check_count, _check_positive, _is_real

__all__ = [
    "Escape",
    "EscapeScan",
    "Fates",
    "escape_scan",
    "escape_time",
    "noisy_escape_times",
    "predicted_escape_steps",
    "predicted_escape_time",
    "saddle_fates",
]


class Escape(NamedTuple):
    """The escape of gradient descent from a ball around a saddle.

    Attributes:
        steps: the number of steps :math:`n` after which :math:`\\lVert\\theta_n -
            \\theta_s\\rVert \\ge r` for the first time (``max_steps`` if never).
        time: :math:`n\\eta`, the same in units of gradient-flow time.
        escaped: whether it left the ball within ``max_steps`` steps (False also when the
            iterates became non-finite, which stops the run).
        position: the last position, shape ``(d,)``.
    """

    steps: Array
    time: Array
    escaped: Array
    position: Array


def _direction(direction: ArrayLike | None, key: Array | None, d: int, dtype: jnp.dtype) -> Array:
    if direction is None:
        if key is None:
            raise ValueError("pass a unit direction or a key to draw a random one")
        direction = jax.random.normal(key, (d,), dtype)
    u = _as_vector(direction, "direction", d)
    norm = float(jnp.linalg.norm(u))
    if norm == 0:
        raise ValueError("direction must be non-zero")
    return (u / norm).astype(dtype)


def _check_eps(eps: float, radius: float) -> float:
    if not (_is_real(eps) and math.isfinite(eps) and 0 <= eps < radius):
        raise ValueError(f"eps must be a number with 0 <= eps < radius = {radius}, got {eps!r}")
    return float(eps)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _escape(
    loss: Loss,
    max_steps: int,
    noisy: bool,
    theta0: Array,
    saddle: Array,
    lr: Array,
    radius: Array,
    noise: Array,
    key: Array,
) -> Escape:
    grad = jax.grad(loss)

    def outside(theta: Array) -> Array:
        return jnp.linalg.norm(theta - saddle) >= radius

    def cond(carry: tuple[Array, Array]) -> Array:
        t, theta = carry
        return (t < max_steps) & ~outside(theta) & jnp.all(jnp.isfinite(theta))

    def body(carry: tuple[Array, Array]) -> tuple[Array, Array]:
        t, theta = carry
        theta = theta - lr * grad(theta)
        if noisy:
            theta = theta + noise * jax.random.normal(jax.random.fold_in(key, t), theta.shape, theta.dtype)
        return t + 1, theta

    steps, theta = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), theta0))
    return Escape(steps, steps * lr, outside(theta), theta)


def escape_time(
    loss: Loss,
    saddle: Float[ArrayLike, " d"],
    *,
    eps: float,
    lr: float,
    radius: float,
    key: Array | None = None,
    direction: Float[ArrayLike, " d"] | None = None,
    max_steps: int = 100_000,
) -> Escape:
    r"""Steps of gradient descent from distance :math:`\epsilon` of a saddle to distance :math:`r`.

    Starts at :math:`\theta_0 = \theta_s + \epsilon u` (:math:`u` the unit ``direction``, or a
    random one from ``key``) and iterates :math:`\theta_{t+1} = \theta_t - \eta\nabla
    L(\theta_t)` until :math:`\lVert\theta_t - \theta_s\rVert \ge r`. The count behaves as
    :func:`~physml.landscapes.predicted_escape_steps` plus an :math:`\epsilon`-independent
    offset (which depends on :math:`u`'s overlap with the unstable eigenvector and on the
    landscape beyond the linear region). A start on the stable manifold —
    :math:`\epsilon = 0`, or :math:`u` orthogonal to every unstable direction of a quadratic
    saddle — never escapes: ``escaped`` is False after ``max_steps``.

    Args:
        loss: ``loss(theta) -> scalar``.
        saddle: :math:`\theta_s`, shape ``(d,)``.
        eps: :math:`0 \le \epsilon < r`.
        lr: :math:`\eta > 0`.
        radius: :math:`r > 0`.
        key: PRNG key for a random direction (when ``direction`` is not given).
        direction: :math:`u`, shape ``(d,)`` (normalised here).
        max_steps: the most steps taken.

    Returns:
        an :class:`~physml.landscapes.Escape`.
    """
    saddle = _as_vector(saddle, "saddle")
    lr, radius = _check_positive(lr, "lr (the learning rate)"), _check_positive(radius, "radius")
    eps = _check_eps(eps, radius)
    max_steps = _check_count(max_steps, "max_steps")
    u = _direction(direction, key, saddle.shape[0], saddle.dtype)
    zero = jnp.zeros((), saddle.dtype)
    return _escape(loss, max_steps, False, saddle + eps * u, saddle, lr, radius, zero, jax.random.key(0))


def predicted_escape_steps(
    eps: Float[ArrayLike, ...], radius: float, lr: float, lam_min: float
) -> Float[Array, ...]:
    r"""Linear prediction for gradient descent, :math:`n = \ln(r/\epsilon)/\ln(1+\eta|\lambda_{\min}|)`.

    ``lam_min`` is the most negative Hessian eigenvalue at the saddle (:math:`< 0`). As
    :math:`\eta\to0`, :math:`\eta n \to \ln(r/\epsilon)/|\lambda_{\min}|`
    (:func:`~physml.landscapes.predicted_escape_time`), since :math:`\ln(1+x) = x - x^2/2 + \dots`.
    """
    lr, radius = _check_positive(lr, "lr (the learning rate)"), _check_positive(radius, "radius")
    rate = _check_negative(lam_min)
    return jnp.log(radius / _positive_array(eps)) / math.log1p(lr * rate)


def predicted_escape_time(eps: Float[ArrayLike, ...], radius: float, lam_min: float) -> Float[Array, ...]:
    r"""Linear prediction for gradient flow, :math:`t = \ln(r/\epsilon)/|\lambda_{\min}|`."""
    radius = _check_positive(radius, "radius")
    return jnp.log(radius / _positive_array(eps)) / _check_negative(lam_min)


def _check_negative(lam_min: float) -> float:
    if not (_is_real(lam_min) and math.isfinite(lam_min) and lam_min < 0):
        raise ValueError(
            "lam_min is the most negative Hessian eigenvalue at a strict saddle and must be < 0, "
            f"got {lam_min!r}"
        )
    return -float(lam_min)


def _positive_array(eps: ArrayLike) -> Array:
    eps = jnp.asarray(eps, dtype=jnp.result_type(float))
    if not bool(jnp.all((eps > 0) & jnp.isfinite(eps))):
        raise ValueError("eps must be positive and finite")
    return eps


class EscapeScan(NamedTuple):
    r"""Escape steps against the starting distance, and the fitted slope.

    Attributes:
        eps: the starting distances :math:`\epsilon_k`, shape ``(n,)``.
        steps: the escape steps :math:`n(\epsilon_k)`, shape ``(n,)``.
        slope: least-squares slope of :math:`n` against :math:`\ln(1/\epsilon)`, in steps.
        time_slope: ``slope`` times :math:`\eta`, in units of flow time.
        predicted_slope: :math:`1/\ln(1 + \eta|\lambda_{\min}|)`, the discrete map's.
        flow_time_slope: :math:`1/|\lambda_{\min}|`, the flow's (the :math:`\eta\to0` limit
            of ``time_slope``).
        lam_min: :math:`\lambda_{\min}`, the most negative Hessian eigenvalue at the saddle.
    """

    eps: Array
    steps: Array
    slope: float
    time_slope: float
    predicted_slope: float
    flow_time_slope: float
    lam_min: float


def escape_scan(
    loss: Loss,
    saddle: Float[ArrayLike, " d"],
    eps_values: Float[ArrayLike, " n"],
    *,
    lr: float,
    radius: float,
    key: Array | None = None,
    direction: Float[ArrayLike, " d"] | None = None,
    max_steps: int = 100_000,
) -> EscapeScan:
    r"""Escape steps for a range of starting distances, and their slope against :math:`\ln(1/\epsilon)`.

    Runs :func:`~physml.landscapes.escape_time` for every :math:`\epsilon` (all along the
    same direction, so the offset is common) and fits :math:`n = a + s\ln(1/\epsilon)` by
    least squares. The slope measures the growth rate at the saddle,
    :math:`s = 1/\ln(1 + \eta|\lambda_{\min}|)`, with :math:`\lambda_{\min}` taken from the
    dense Hessian at ``saddle`` (small :math:`d`). Each count is an integer, so :math:`s`
    carries a rounding error of order one step over the range of :math:`n`; use
    :math:`\epsilon` spanning many decades.

    Args:
        loss: ``loss(theta) -> scalar``.
        saddle: :math:`\theta_s`, a strict saddle, shape ``(d,)``.
        eps_values: starting distances, shape ``(n,)``, :math:`n \ge 2`, all in :math:`(0, r)`.
        lr, radius, key, direction, max_steps: as in :func:`~physml.landscapes.escape_time`.

    Returns:
        an :class:`~physml.landscapes.EscapeScan`.

    Raises:
        ValueError: if ``saddle`` is not a strict saddle, or a run does not escape.
    """
    saddle = _as_vector(saddle, "saddle")
    lr, radius = _check_positive(lr, "lr (the learning rate)"), _check_positive(radius, "radius")
    max_steps = _check_count(max_steps, "max_steps")
    eps = np.asarray(eps_values, dtype=float)
    if eps.ndim != 1 or eps.size < 2 or not np.all((eps > 0) & (eps < radius)):
        raise ValueError(f"eps_values must be a 1-D array of at least 2 values in (0, radius = {radius})")
    lam_min = float(hessian_spectrum(loss, saddle)[0])
    if lam_min >= 0:
        raise ValueError(f"not a strict saddle: the smallest Hessian eigenvalue is {lam_min:.3g} >= 0")
    u = _direction(direction, key, saddle.shape[0], saddle.dtype)
    eps_j = jnp.asarray(eps, saddle.dtype)
    zero = jnp.zeros((), saddle.dtype)
    run = jax.vmap(
        lambda e: _escape(loss, max_steps, False, saddle + e * u, saddle, lr, radius, zero, jax.random.key(0))
    )
    result = run(eps_j)
    if not bool(jnp.all(result.escaped)):
        raise ValueError(
            f"some runs did not escape within max_steps = {max_steps}: raise max_steps, or the "
            "direction lies on the stable manifold"
        )
    steps = np.asarray(result.steps, dtype=float)
    slope, _ = np.polyfit(np.log(1.0 / eps), steps, 1)
    rate = -lam_min
    return EscapeScan(
        eps_j, result.steps, float(slope), float(slope * lr), 1.0 / math.log1p(lr * rate), 1.0 / rate, lam_min
    )


def noisy_escape_times(
    loss: Loss,
    saddle: Float[ArrayLike, " d"],
    *,
    key: Array,
    n_runs: int,
    lr: float,
    noise_std: float,
    radius: float,
    eps: float = 0.0,
    direction: Float[ArrayLike, " d"] | None = None,
    max_steps: int = 100_000,
) -> Escape:
    r"""Escape of noisy gradient descent, :math:`\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t) +
    \sigma\xi_t`, :math:`\xi_t \sim \mathcal N(0, I_d)`, for ``n_runs`` independent runs.

    By default each run starts exactly at the saddle (:math:`\epsilon = 0`), where plain
    gradient descent stays forever. The noise puts a component on the unstable direction,
    which then grows: for a quadratic saddle that component is exactly Gaussian,
    :math:`x_t \sim \mathcal N\big(0, \sigma^2\frac{(1+a)^{2t} - 1}{(1+a)^2 - 1}\big)` with
    :math:`a = \eta|\lambda_{\min}|`, so escape takes
    :math:`\approx \ln\big(r\sqrt{a(2+a)}/\sigma\big)/\ln(1+a)` steps, give or take
    :math:`O(1/a)` — finite, and only logarithmic in the noise.

    Args:
        loss: ``loss(theta) -> scalar``.
        saddle: :math:`\theta_s`, shape ``(d,)``.
        key: PRNG key; run :math:`k` uses ``jax.random.split(key, n_runs)[k]`` (and the
            direction, if drawn, comes from a key split off first).
        n_runs: number of independent runs.
        lr: :math:`\eta > 0`.
        noise_std: :math:`\sigma > 0`, the noise added per step.
        radius: :math:`r > 0`.
        eps: starting distance :math:`0 \le \epsilon < r` along ``direction`` (random if not given).
        direction: unit vector :math:`u`, shape ``(d,)``.
        max_steps: the most steps per run.

    Returns:
        an :class:`~physml.landscapes.Escape` whose fields have a leading axis of length ``n_runs``.
    """
    saddle = _as_vector(saddle, "saddle")
    n_runs = _check_count(n_runs, "n_runs")
    lr, radius = _check_positive(lr, "lr (the learning rate)"), _check_positive(radius, "radius")
    noise_std = _check_positive(noise_std, "noise_std")
    eps = _check_eps(eps, radius)
    max_steps = _check_count(max_steps, "max_steps")
    k_dir, k_runs = jax.random.split(key)
    theta0 = saddle
    if eps > 0:
        theta0 = saddle + eps * _direction(direction, k_dir, saddle.shape[0], saddle.dtype)
    sigma = jnp.asarray(noise_std, saddle.dtype)
    run = jax.vmap(lambda k: _escape(loss, max_steps, True, theta0, saddle, lr, radius, sigma, k))
    return run(jax.random.split(k_runs, n_runs))


class Fates(NamedTuple):
    """Where gradient descent ends from many starts.

    Attributes:
        at_minimum: fraction of starts that end within ``tol`` of each given minimum, shape ``(k,)``.
        at_saddle: fraction that end within ``tol`` of the saddle.
        elsewhere: the remaining fraction (not converged, or at another critical point).
        final: the final positions, shape ``(n, d)``.
    """

    at_minimum: Array
    at_saddle: Array
    elsewhere: Array
    final: Array


def saddle_fates(
    loss: Loss,
    starts: Float[ArrayLike, "n d"],
    *,
    saddle: Float[ArrayLike, " d"],
    minima: Float[ArrayLike, "k d"],
    lr: float,
    n_steps: int,
    tol: float = 1e-6,
) -> Fates:
    r"""Run gradient descent from every start for ``n_steps`` steps and count where each ends.

    The stable manifold of a strict saddle has measure zero, so starts drawn from any
    density — however close to the saddle — end at a minimum with probability one (Lee et al.
    2016), while starts placed exactly on the stable manifold converge to the saddle. For the
    :func:`~physml.landscapes.double_well`: ``starts = saddle + 1e-3 * jax.random.normal(key, (n, 2))``
    all reach :math:`(\pm1, 0)`, about half each; ``starts.at[:, 0].set(0.0)`` all reach the saddle.

    Args:
        loss: ``loss(theta) -> scalar``.
        starts: starting points, shape ``(n, d)``.
        saddle: :math:`\theta_s`, shape ``(d,)``.
        minima: the minima to count, shape ``(k, d)``.
        lr: :math:`\eta > 0`.
        n_steps: steps of gradient descent per start.
        tol: the distance within which a final point counts as having reached a point.

    Returns:
        a :class:`~physml.landscapes.Fates`.
    """
    saddle = _as_vector(saddle, "saddle")
    d = saddle.shape[0]
    starts = jnp.asarray(starts, saddle.dtype)
    minima = jnp.asarray(minima, saddle.dtype)
    if starts.ndim != 2 or starts.shape[1] != d or starts.shape[0] == 0:
        raise ValueError(f"starts must have shape (n, {d}), got {starts.shape}")
    if minima.ndim != 2 or minima.shape[1] != d:
        raise ValueError(f"minima must have shape (k, {d}), got {minima.shape}")
    if not bool(jnp.all(jnp.isfinite(starts))):
        raise ValueError("starts must be finite")
    lr = _check_positive(lr, "lr (the learning rate)")
    n_steps = _check_count(n_steps, "n_steps")
    tol = _check_positive(tol, "tol")
    final = _final_points(loss, n_steps, starts, jnp.asarray(lr, saddle.dtype))
    near_min = jnp.linalg.norm(final[:, None, :] - minima[None, :, :], axis=-1) <= tol
    near_saddle = jnp.linalg.norm(final - saddle[None, :], axis=-1) <= tol
    n = starts.shape[0]
    at_minimum = jnp.sum(near_min, axis=0) / n
    at_saddle = jnp.sum(near_saddle) / n
    elsewhere = jnp.sum(~(jnp.any(near_min, axis=1) | near_saddle)) / n
    return Fates(at_minimum, at_saddle, elsewhere, final)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _final_points(loss: Loss, n_steps: int, starts: Array, lr: Array) -> Array:
    grad = jax.grad(loss)
    descend = lambda theta: jax.lax.fori_loop(0, n_steps, lambda _, th: th - lr * grad(th), theta)
    return jax.vmap(descend)(starts)
