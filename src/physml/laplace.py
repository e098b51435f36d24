r"""The zero-temperature limit of a loss: free energies, Laplace's method, basins, Gibbs regression.

A loss :math:`L(\theta)` on parameters :math:`\theta \in \mathbb{R}^d` defines the Gibbs
(Boltzmann) distribution at inverse temperature :math:`\beta` and its free energy

.. math::

    p_\beta(\theta) = \frac{e^{-\beta L(\theta)}}{Z(\beta)}, \qquad
    Z(\beta) = \int d\theta\, e^{-\beta L(\theta)}, \qquad
    F(\beta) = -\frac{1}{\beta} \ln Z(\beta) .

As :math:`\beta \to \infty` the distribution collapses onto the minimizer :math:`\theta^*`
and :math:`F \to L^* = L(\theta^*)`. Laplace's method gives the approach: expanding
:math:`L \approx L^* + \frac12 u^\top H u` with :math:`u = \theta - \theta^*` and
:math:`H` the Hessian at :math:`\theta^*`, the integral is Gaussian,

.. math::

    \ln Z \approx -\beta L^* + \frac d2 \ln\frac{2\pi}{\beta} - \frac12 \ln\det H, \qquad
    F \approx L^* + \frac{d}{2\beta}\ln\frac{\beta}{2\pi} + \frac{1}{2\beta}\ln\det H ,

exact when :math:`L` is quadratic. Otherwise :math:`\ln Z = \ln Z_{\rm Laplace} +
c/\beta + O(\beta^{-2})` (:func:`laplace_correction` gives :math:`c`), so the relative
error of :math:`Z` falls like :math:`1/\beta` and the error of :math:`F` like
:math:`1/\beta^2`.
With several minima each basin :math:`i` holds a mass :math:`Z_i`, and the same expansion
gives :math:`\ln Z_i \approx -\beta L_i + \frac d2 \ln\frac{2\pi}{\beta} - \frac12 \ln\det
H_i`: a lower minimum wins on energy, a flatter one (smaller :math:`\det H_i`) on entropy,
and the two trade places at a crossover :math:`\beta^*` (:func:`crossover_beta_laplace`,
:func:`crossover_beta_exact`, and the double well of :func:`double_well`).

The exact :math:`Z` in one or two dimensions comes from quadrature on a bounded box
(:func:`log_partition_grid`; in 1-D also :func:`log_partition_adaptive`), always through
log-sum-exp, so every :math:`\beta` from 0 to :math:`10^4` and beyond is finite. The
Gaussian case in any dimension is linear regression (:func:`gibbs_regression`), where
the Gibbs distribution is the Bayesian posterior.

Conventions:

- a loss is a callable from :math:`\theta` of shape ``(d,)`` to a scalar; a 1-D
  elementwise function such as ``lambda x: x**2 / 2`` also works (its output of shape
  ``(1,)`` is read as a scalar). It must be written in ``jax.numpy``: Hessians and
  gradients are taken by autodiff, and grids are evaluated by a compiled ``vmap``, cached
  for each loss object (reuse one function rather than a fresh ``lambda`` in a loop);
- ``bounds`` is ``(low, high)`` in 1-D, or ``((low_1, high_1), (low_2, high_2))``;
- ``beta`` may be a scalar or an array of any shape: results carry its shape (followed by
  a basin axis where there are several basins). Units: :math:`\beta` is 1/loss;
- float64 (``jax.config.update("jax_enable_x64", True)``) is assumed for the accuracies
  stated here; in float32, :math:`\beta L` is rounded to about :math:`10^{-7}\beta |L|`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate
import scipy.optimize
import scipy.special
from jaxtyping import Array, ArrayLike, Float, Int

from . import statmech

__all__ = [
    "DoubleWell",
    "GibbsPosterior",
    "barrier_location",
    "basin_labels",
    "basin_log_masses",
    "basin_log_masses_1d",
    "crossover_beta_exact",
    "crossover_beta_laplace",
    "double_well",
    "double_well_loss",
    "find_minimum",
    "free_energy_gap",
    "free_energy_grid",
    "gibbs_regression",
    "laplace_basin_log_masses",
    "laplace_correction",
    "laplace_free_energy",
    "laplace_log_partition",
    "log_partition_adaptive",
    "log_partition_grid",
    "regression_log_evidence",
    "regression_loss",
]

Loss = Callable[[Array], Array]


# ------------------------------------------------------------------------------ plumbing


def _float() -> jnp.dtype:
    """JAX's default float: float64 under ``jax_enable_x64``, else float32 (no truncation warning)."""
    return jax.dtypes.canonicalize_dtype(jnp.float64)


def _scalar(loss: Loss) -> Loss:
    """``loss`` with its output read as a scalar (a 1-D elementwise loss returns shape (1,))."""
    return functools.partial(_scalar_value, loss)


def _scalar_value(loss: Loss, theta: Array) -> Array:
    return jnp.reshape(loss(theta), ())


def _check_loss(loss: Loss, d: int) -> None:
    """A ValueError unless ``loss`` maps a point of shape (d,) to a single number."""
    out = jax.eval_shape(loss, jax.ShapeDtypeStruct((d,), _float()))
    if not hasattr(out, "shape") or math.prod(out.shape) != 1:
        raise ValueError(f"the loss must map a point of shape ({d},) to a scalar, got {out}")


def _bounds(bounds: ArrayLike) -> np.ndarray:
    """``bounds`` as a float array of shape (d, 2) with d in {1, 2} and low < high, or a ValueError."""
    b = np.asarray(bounds, dtype=float)
    if b.shape == (2,):
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] not in (1, 2):
        raise ValueError(f"bounds must be (low, high) or ((low_1, high_1), (low_2, high_2)), got {bounds}")
    if not (np.isfinite(b).all() and (b[:, 0] < b[:, 1]).all()):
        raise ValueError(f"bounds must be finite with low < high, got {bounds}")
    return b


def _beta(beta: ArrayLike, *, positive: bool) -> Array:
    """``beta`` as a float array, every entry finite and > 0 (or >= 0), or a ValueError."""
    b = jnp.asarray(beta, dtype=_float())
    ok = np.all(np.isfinite(np.asarray(b))) and np.all(np.asarray(b) > 0 if positive else np.asarray(b) >= 0)
    if not ok:
        need = "> 0" if positive else ">= 0"
        raise ValueError(f"beta must be finite and {need}, got {beta}")
    return b


def _cell_centres(bounds: np.ndarray, n_grid: int) -> tuple[list[np.ndarray], float]:
    """Midpoints of ``n_grid`` equal cells on each axis, and the log of a cell's volume."""
    if int(n_grid) != n_grid or n_grid < 1:
        raise ValueError(f"n_grid must be a positive integer, got {n_grid}")
    n = int(n_grid)
    h = (bounds[:, 1] - bounds[:, 0]) / n
    axes = [lo + (np.arange(n) + 0.5) * step for (lo, _), step in zip(bounds, h, strict=True)]
    return axes, float(np.sum(np.log(h)))


def _grid_points(bounds: np.ndarray, n_grid: int) -> tuple[Array, float]:
    axes, log_cell = _cell_centres(bounds, n_grid)
    mesh = np.meshgrid(*axes, indexing="ij")
    return jnp.asarray(np.stack([m.ravel() for m in mesh], axis=-1)), log_cell


def _widths(bounds: np.ndarray, n_grid: int) -> tuple[tuple[int, ...], np.ndarray]:
    """The grid's shape and its cell widths along each axis."""
    return (int(n_grid),) * bounds.shape[0], (bounds[:, 1] - bounds[:, 0]) / int(n_grid)


@eqx.filter_jit
def _values(loss: Loss, points: Array) -> Array:
    return jax.vmap(_scalar(loss))(points)


@eqx.filter_jit
def _fun(loss: Loss, theta: Array) -> Array:
    return _scalar(loss)(theta)


@eqx.filter_jit
def _jac(loss: Loss, theta: Array) -> Array:
    return jax.grad(_scalar(loss))(theta)


@eqx.filter_jit
def _hess(loss: Loss, theta: Array) -> Array:
    return jax.hessian(_scalar(loss))(theta)


def _losses_at(loss: Loss, points: Array) -> Array:
    _check_loss(loss, points.shape[1])
    values = _values(loss, points)
    if not bool(jnp.all(jnp.isfinite(values))):
        raise ValueError("the loss is not finite everywhere on the grid")
    return values


def _check_resolution(
    values: Array, shape: tuple[int, ...], h: np.ndarray, beta: Array, labels: Array | None = None
) -> None:
    r"""A ValueError if a cell is wider than the thermal width :math:`\sigma = (\beta L'')^{-1/2}`
    along some axis at the lowest cell (of each label), with :math:`L''` by second differences
    and the largest :math:`\beta`: there the midpoint rule's error would exceed ~1e-8."""
    beta_max = float(jnp.max(beta)) if beta.size else 0.0
    if beta_max == 0:
        return
    v = np.asarray(values, dtype=float).reshape(shape)
    lab = None if labels is None else np.asarray(labels).reshape(shape)
    for group in [None] if lab is None else np.unique(lab):
        idx = np.unravel_index(np.argmin(v if group is None else np.where(lab == group, v, np.inf)), shape)
        for axis, step in enumerate(h):
            if not 0 < idx[axis] < shape[axis] - 1:
                continue
            lo, hi = list(idx), list(idx)
            lo[axis], hi[axis] = idx[axis] - 1, idx[axis] + 1
            curvature = (v[tuple(hi)] - 2 * v[idx] + v[tuple(lo)]) / step**2
            if beta_max * curvature * step**2 > 1:
                sigma = 1 / math.sqrt(beta_max * curvature)
                raise ValueError(
                    f"the grid is too coarse at beta = {beta_max:g}: cells {step:.3g} wide against a "
                    f"thermal width {sigma:.3g} at the lowest cell; use {math.ceil(step / sigma)} times "
                    "more cells, or a smaller box"
                )


def _trailing(x: ArrayLike, batch_ndim: int) -> Array:
    """A 1-D array of per-basin numbers shaped to broadcast after ``batch_ndim`` axes of beta."""
    x = jnp.asarray(x)
    return x.reshape((1,) * batch_ndim + x.shape)


@jax.jit
def _log_masses(values: Array, labels: Array, beta: Array, log_cells: Array) -> Array:
    r""":math:`\ln Z_i = -\beta L_{\min} + \ln \sum_{c \in i} e^{-\beta (L_c - L_{\min})} + \ln h_i` for each
    label :math:`i`, shape ``beta.shape + (m,)`` with ``m = log_cells.shape[0]``.

    One :math:`\beta` at a time (``lax.map``), so memory stays that of the grid.
    """
    n_labels = log_cells.shape[0]
    v_min = jnp.min(values)
    shifted = values - v_min
    masks = labels[None, :] == jnp.arange(n_labels)[:, None]

    def one(b: Array) -> Array:
        x = jnp.where(masks, -b * shifted[None, :], -jnp.inf)
        return -b * v_min + jax.nn.logsumexp(x, axis=-1) + log_cells

    return jax.lax.map(one, beta.ravel()).reshape((*beta.shape, n_labels))


@jax.jit
def _free_energy(values: Array, beta: Array, log_cell: Array) -> Array:
    v_min = jnp.min(values)
    shifted = values - v_min
    sums = jax.lax.map(lambda b: jax.nn.logsumexp(-b * shifted), beta.ravel()).reshape(beta.shape)
    return v_min - (sums + log_cell) / beta


# ------------------------------------------------------------------ quadrature (exact Z)


def log_partition_grid(
    loss: Loss, beta: Float[ArrayLike, "*b"], bounds: ArrayLike, n_grid: int = 1024
) -> Float[Array, "*b"]:
    r""":math:`\ln Z(\beta) = \ln \int_D e^{-\beta L(\theta)}\, d\theta` on a box :math:`D`, by midpoints.

    The box is cut into ``n_grid`` equal cells per axis (``n_grid**d`` in all) of widths
    :math:`h_k`; with cell centres :math:`\theta_c` and :math:`L_{\min} = \min_c
    L(\theta_c)`,

    .. math::

        \ln Z \approx -\beta L_{\min} + \ln \sum_c e^{-\beta (L(\theta_c) - L_{\min})}
        + \sum_k \ln h_k ,

    where every exponent is :math:`\le 0` and the largest term is 1: finite for every
    :math:`\beta \ge 0`.

    Error: for a smooth integrand :math:`f = e^{-\beta L}` the midpoint rule errs by
    :math:`\frac{h^2}{24}\int_D \nabla^2 f + O(h^4)` (Euler–Maclaurin), which in 1-D is
    :math:`\frac{h^2}{24}[f'(b) - f'(a)]`: only the ends of the box contribute. When
    :math:`f` is negligible at the ends, the error is exponentially small instead: for a
    Gaussian of width :math:`\sigma` it is a relative :math:`2 e^{-2\pi^2\sigma^2/h^2}`
    (:math:`5\times 10^{-9}` at :math:`h = \sigma`, below :math:`10^{-16}` at :math:`h \le
    0.6\,\sigma`). The thermal width at a minimum is :math:`\sigma = (\beta
    \lambda_{\max}(H))^{-1/2}`, so resolve it: at :math:`\beta = 10^4` and unit curvature,
    :math:`\sigma = 0.01`, and the default 1024 cells cover a box 6 wide. A ValueError
    says when a cell at the lowest grid point is wider than :math:`\sigma` along an axis
    (curvature by second differences, at the largest :math:`\beta`). The box itself
    is part of the problem: :math:`Z` here is the integral over :math:`D`, not
    :math:`\mathbb{R}^d`.

    Args:
        loss: :math:`L`, a callable from :math:`\theta` of shape ``(d,)`` to a scalar,
            finite on the box.
        beta: inverse temperature(s) :math:`\beta \ge 0`, any shape.
        bounds: the box: ``(low, high)`` in 1-D, ``((low_1, high_1), (low_2, high_2))`` in 2-D.
        n_grid: cells per axis.

    Returns:
        :math:`\ln Z`, shape of ``beta``.

    Example:
        >>> round(float(log_partition_grid(lambda x: x**2 / 2, 1.0, (-12, 12))), 6)  # ln sqrt(2 pi)
        0.918939
    """
    b = _bounds(bounds)
    beta = _beta(beta, positive=False)
    points, log_cell = _grid_points(b, n_grid)
    values = _losses_at(loss, points)
    _check_resolution(values, *_widths(b, n_grid), beta)
    return _log_masses(values, jnp.zeros(values.shape, int), beta, jnp.array([log_cell]))[..., 0]


def free_energy_grid(
    loss: Loss, beta: Float[ArrayLike, "*b"], bounds: ArrayLike, n_grid: int = 1024
) -> Float[Array, "*b"]:
    r""":math:`F(\beta) = -\frac1\beta \ln \int_D e^{-\beta L(\theta)}\, d\theta`, by the midpoint rule.

    Computed as :math:`L_{\min} - \frac1\beta \bigl[\ln \sum_c e^{-\beta(L(\theta_c) -
    L_{\min})} + \sum_k \ln h_k\bigr]`, so :math:`F - L_{\min}` keeps its relative
    accuracy however large :math:`\beta` is. Rule, error and arguments as in
    :func:`log_partition_grid`; here :math:`\beta > 0`.

    Returns:
        :math:`F`, shape of ``beta``, in the units of the loss.
    """
    b = _bounds(bounds)
    beta = _beta(beta, positive=True)
    points, log_cell = _grid_points(b, n_grid)
    values = _losses_at(loss, points)
    _check_resolution(values, *_widths(b, n_grid), beta)
    return _free_energy(values, beta, jnp.asarray(log_cell))


def log_partition_adaptive(
    loss: Loss, beta: float, bounds: ArrayLike, minimum: ArrayLike, rtol: float = 1e-12
) -> tuple[float, float]:
    r"""1-D cross-check: :math:`\ln Z` by adaptive Gauss–Kronrod quadrature (``scipy.integrate.quad``).

    Integrates the shifted integrand :math:`e^{-\beta(L(\theta) - L^*)} \le 1` with
    :math:`L^* = L(\theta^*)`, telling the integrator where its peak is (a narrow peak at
    large :math:`\beta` would otherwise be missed), and returns

    .. math::

        \ln Z = -\beta L^* + \ln \int_a^b e^{-\beta (L(\theta) - L^*)}\, d\theta .

    Args:
        loss: a 1-D loss (see the module conventions).
        beta: inverse temperature :math:`\beta \ge 0`, a scalar.
        bounds: ``(low, high)``.
        minimum: the location :math:`\theta^*` of the global minimum, shape ``()`` or ``(1,)``.
        rtol: relative tolerance asked of the integrator.

    Returns:
        :math:`\ln Z`, and the integrator's estimate of its absolute error.
    """
    b = _bounds(bounds)
    if b.shape[0] != 1:
        raise ValueError("adaptive quadrature is offered in 1-D only")
    beta = float(_beta(beta, positive=False))
    theta = np.asarray(minimum, dtype=float).reshape(-1)
    if theta.shape != (1,):
        raise ValueError(f"minimum must be one point of a 1-D loss, got shape {np.shape(minimum)}")
    _check_loss(loss, 1)
    f = lambda x: float(_fun(loss, jnp.asarray([x], dtype=_float())))
    l_star = f(theta[0])
    a, c = b[0]
    peak = [theta[0]] if a < theta[0] < c else None
    integrand = lambda x: math.exp(-beta * (f(x) - l_star))
    value, err, *rest = scipy.integrate.quad(
        integrand, a, c, points=peak, epsabs=0.0, epsrel=rtol, limit=1000, full_output=1
    )
    if len(rest) > 1 or not value > 0:  # a message means scipy flagged the result
        raise ValueError(
            f"adaptive quadrature failed at beta={beta} (loosen rtol; float32 resolves about 1e-7): "
            f"{rest[-1] if rest else value}"
        )
    return -beta * l_star + math.log(value), err / value


# ----------------------------------------------------------------------------- minima


def find_minimum(loss: Loss, start: Float[ArrayLike, " d"], gtol: float = 1e-9) -> Float[Array, " d"]:
    r"""A local minimizer :math:`\theta^*` of ``loss``, by a trust-region Newton method from ``start``.

    ``scipy.optimize.minimize(method="trust-exact")`` with the gradient and Hessian of the
    loss by autodiff: Newton steps (quadratic convergence near the minimum, one step for a
    quadratic loss) inside a trust region that keeps each step safe where the Hessian is
    indefinite. Where the trust region stalls (loss differences below rounding, at
    :math:`|\theta - \theta^*| \sim \sqrt{\epsilon |L^*|/k}`), plain Newton steps
    :math:`\theta \leftarrow \theta - H^{-1}\nabla L`, which use the gradient alone,
    finish the job. The result must have :math:`|\nabla L| \le` ``gtol`` and a positive
    definite Hessian (else a ValueError). Which minimum it finds depends on ``start``;
    nothing keeps it inside any box.

    Args:
        loss: the loss (see the module conventions).
        start: the starting point, shape ``(d,)`` (a scalar is read as ``(1,)``).
        gtol: gradient tolerance.

    Returns:
        :math:`\theta^*`, shape ``(d,)``.
    """
    x0 = np.atleast_1d(np.asarray(start, dtype=float))
    if x0.ndim != 1 or not np.isfinite(x0).all():
        raise ValueError(f"start must be a finite point of shape (d,), got {start}")
    _check_loss(loss, x0.shape[0])
    value = lambda x: float(_fun(loss, jnp.asarray(x)))
    grad = lambda x: np.asarray(_jac(loss, jnp.asarray(x)), dtype=float)
    hessian = lambda x: np.asarray(_hess(loss, jnp.asarray(x)), dtype=float)
    res = scipy.optimize.minimize(
        value, x0, jac=grad, hess=hessian, method="trust-exact", options={"gtol": gtol}
    )
    # Polish with plain Newton steps, which need the gradient only: the trust region stops
    # where loss differences drop below rounding, |theta - theta*| ~ sqrt(eps |L*| / k).
    x, g = res.x, grad(res.x)
    for _ in range(8):
        if not np.all(np.isfinite(g)) or np.linalg.norm(g) <= gtol * 1e-3:
            break
        try:
            step = np.linalg.solve(hessian(x), g)
        except np.linalg.LinAlgError:
            break
        g_new = grad(x - step)
        if not np.linalg.norm(g_new) < np.linalg.norm(g):
            break
        x, g = x - step, g_new
    if not (np.all(np.isfinite(x)) and np.linalg.norm(g) <= gtol):
        raise ValueError(
            f"no minimum found from {x0}: stopped at {x} with |grad L| = {np.linalg.norm(g):.3g}"
        )
    if not np.all(np.linalg.eigvalsh(0.5 * (hessian(x) + hessian(x).T)) > 0):
        raise ValueError(f"from {x0} the search stopped at {x}, a stationary point that is not a minimum")
    return jnp.asarray(x)


def _minima(minima: ArrayLike) -> Array:
    m = jnp.asarray(minima, dtype=_float())
    m = m.reshape(1, -1) if m.ndim <= 1 else m
    if m.ndim != 2 or m.shape[1] < 1:
        raise ValueError(f"minima must have shape (d,) or (m, d), got {jnp.shape(minima)}")
    return m


@eqx.filter_jit
def _value_and_hessian(loss: Loss, minima: Array) -> tuple[Array, Array]:
    f = _scalar(loss)
    return jax.vmap(f)(minima), jax.vmap(jax.hessian(f))(minima)


def _curvature(loss: Loss, minima: Array) -> tuple[np.ndarray, np.ndarray]:
    r"""Loss and :math:`\ln\det H` at each minimum; a ValueError where :math:`H` is not positive definite."""
    _check_loss(loss, minima.shape[1])
    values, hessians = (np.asarray(a, dtype=float) for a in _value_and_hessian(loss, minima))
    logdets = np.empty(len(minima))
    for i, h in enumerate(hessians):
        try:
            chol = np.linalg.cholesky(0.5 * (h + h.T))
        except np.linalg.LinAlgError:
            raise ValueError(
                f"the Hessian at {np.asarray(minima[i])} is not positive definite: not a minimum"
            ) from None
        logdets[i] = 2.0 * np.sum(np.log(np.diag(chol)))
    return values, logdets


def laplace_basin_log_masses(
    loss: Loss, beta: Float[ArrayLike, "*b"], minima: Float[ArrayLike, "m d"]
) -> Float[Array, "*b m"]:
    r"""Laplace's mass of each basin, :math:`\ln Z_i \approx -\beta L_i + \frac d2\ln\frac{2\pi}{\beta}
    - \frac12\ln\det H_i`.

    :math:`L_i` and :math:`H_i` (by ``jax.hessian``) are the loss and its Hessian at the
    minimum :math:`\theta_i`. Exact for a quadratic well on :math:`\mathbb{R}^d`;
    otherwise :math:`\ln Z_i` errs by :math:`c_i/\beta + O(\beta^{-2})`
    (:func:`laplace_correction`).

    Args:
        loss: the loss (see the module conventions).
        beta: inverse temperature(s) :math:`\beta > 0`, any shape.
        minima: the minima :math:`\theta_i`, shape ``(m, d)`` (or ``(d,)`` for one), e.g.
            from :func:`find_minimum`. A ValueError if a Hessian is not positive definite.

    Returns:
        :math:`\ln Z_i`, shape ``beta.shape + (m,)``.
    """
    beta = _beta(beta, positive=True)
    minima = _minima(minima)
    values, logdets = _curvature(loss, minima)
    d = minima.shape[1]
    b = beta[..., None]
    values, logdets = _trailing(values, beta.ndim), _trailing(logdets, beta.ndim)
    return -b * values + 0.5 * d * jnp.log(2 * jnp.pi / b) - 0.5 * logdets


def laplace_log_partition(
    loss: Loss, beta: Float[ArrayLike, "*b"], minima: Float[ArrayLike, "m d"]
) -> Float[Array, "*b"]:
    r"""Laplace's :math:`\ln Z \approx -\beta L^* + \frac d2\ln\frac{2\pi}{\beta} - \frac12\ln\det H`.

    With several minima (``minima`` of shape ``(m, d)``) the basins' masses of
    :func:`laplace_basin_log_masses` are summed (by log-sum-exp). Arguments as there.

    Returns:
        :math:`\ln Z`, shape of ``beta``.
    """
    return jax.nn.logsumexp(laplace_basin_log_masses(loss, beta, minima), axis=-1)


def laplace_free_energy(
    loss: Loss, beta: Float[ArrayLike, "*b"], minima: Float[ArrayLike, "m d"]
) -> Float[Array, "*b"]:
    r"""Laplace's :math:`F \approx L^* + \frac{d}{2\beta}\ln\frac{\beta}{2\pi} + \frac{1}{2\beta}\ln\det H`.

    With several minima, :math:`F = -\frac1\beta \ln\sum_i Z_i` over the basins'
    Laplace masses, computed relative to the lowest :math:`L_i` so that :math:`F - L^*`
    keeps its accuracy at large :math:`\beta`. Exact for a quadratic loss; otherwise it
    errs by :math:`-c/\beta^2 + O(\beta^{-3})` (:func:`laplace_correction`). Arguments as
    in :func:`laplace_basin_log_masses`.

    Returns:
        :math:`F`, shape of ``beta``.
    """
    beta = _beta(beta, positive=True)
    minima = _minima(minima)
    values, logdets = _curvature(loss, minima)
    d = minima.shape[1]
    b = beta[..., None]
    shifted, logdets = _trailing(values - values.min(), beta.ndim), _trailing(logdets, beta.ndim)
    rel = -b * shifted + 0.5 * d * jnp.log(2 * jnp.pi / b) - 0.5 * logdets
    return values.min() - jax.nn.logsumexp(rel, axis=-1) / beta


def laplace_correction(loss: Loss, minima: Float[ArrayLike, "m d"]) -> Float[Array, " m"]:
    r"""The next term of Laplace's method: :math:`c` in :math:`\ln Z = \ln Z_{\rm Laplace} + c/\beta +
    O(\beta^{-2})`.

    With :math:`G = H^{-1}` and the third and fourth derivatives :math:`L_{ijk}`,
    :math:`L_{ijkl}` at the minimum (by autodiff; sums over repeated indices),

    .. math::

        c = -\frac18 L_{ijkl} G_{ij} G_{kl}
            + \frac18 L_{ijk} L_{lmn} G_{ij} G_{kl} G_{mn}
            + \frac1{12} L_{ijk} L_{lmn} G_{il} G_{jm} G_{kn} ,

    from the fourth and sixth Gaussian moments of :math:`u = \theta - \theta^*` (covariance
    :math:`G/\beta`) in :math:`\langle e^{-\beta(L_{ijk}u^3/6 + L_{ijkl}u^4/24)}\rangle`.
    In 1-D, :math:`c = -L''''/(8k^2) + 5L'''^2/(24k^3)` with :math:`k = L''`. Hence the
    relative error of Laplace's :math:`Z` is :math:`c/\beta + O(\beta^{-2})` and the
    error of its free energy is :math:`F - F_{\rm Laplace} = -c/\beta^2 + O(\beta^{-3})`.
    The expansion is asymptotic, about one minimum, on :math:`\mathbb{R}^d`.

    Args:
        loss: the loss (see the module conventions); four times differentiable.
        minima: the minimum :math:`\theta^*`, shape ``(d,)``, or several, shape ``(m, d)``
            (then :math:`c_i` of each basin's mass :math:`Z_i`).

    Returns:
        :math:`c` (dimensionless): a scalar for one minimum of shape ``(d,)``, else shape ``(m,)``.
    """
    theta = _minima(minima)
    _curvature(loss, theta)  # a clear error if this is not a minimum
    c = _correction(loss, theta)
    return c[0] if jnp.ndim(minima) <= 1 else c


@eqx.filter_jit
def _correction(loss: Loss, minima: Array) -> Array:
    return jax.vmap(functools.partial(_one_correction, loss))(minima)


def _one_correction(loss: Loss, theta: Array) -> Array:
    hess = jax.hessian(_scalar(loss))
    G = jnp.linalg.inv(hess(theta))
    T = jax.jacfwd(hess)(theta)
    Q = jax.jacfwd(jax.jacfwd(hess))(theta)
    quartic = jnp.einsum("ijkl,ij,kl->", Q, G, G)
    loops = jnp.einsum("ijk,lmn,ij,kl,mn->", T, T, G, G, G)
    theta_graph = jnp.einsum("ijk,lmn,il,jm,kn->", T, T, G, G, G)
    return -quartic / 8 + loops / 8 + theta_graph / 12


# ----------------------------------------------------------------------------- basins


def barrier_location(loss: Loss, left: float, right: float, n_scan: int = 2001) -> float:
    r"""The highest point of a 1-D loss between two minima: :math:`\arg\max_{[\text{left},\text{right}]} L`.

    A scan of ``n_scan`` points brackets the maximum, and ``scipy.optimize.brentq``
    finds :math:`L'(\theta_b) = 0` (derivative by autodiff) in that bracket to about
    :math:`10^{-12}`.

    Returns:
        :math:`\theta_b`, a float.
    """
    lo, hi = sorted((float(left), float(right)))
    if not lo < hi:
        raise ValueError(f"need two distinct points, got {left} and {right}")
    _check_loss(loss, 1)
    x = np.linspace(lo, hi, n_scan)
    values = np.asarray(_values(loss, jnp.asarray(x[:, None])))
    i = int(np.argmax(values))
    if i in (0, n_scan - 1):
        raise ValueError(f"the loss has no interior maximum between {left} and {right}")
    g = lambda t: float(_jac(loss, jnp.asarray([t], dtype=_float()))[0])
    a, b = x[i - 1], x[i + 1]
    if g(a) * g(b) > 0:  # pragma: no cover - a maximum of a smooth loss changes the slope's sign
        return float(x[i])
    return float(scipy.optimize.brentq(g, a, b, xtol=1e-13, rtol=4 * np.finfo(float).eps))


def _interval_values(loss: Loss, edges: np.ndarray, n_cells: int, beta: Array) -> tuple[Array, Array, Array]:
    """Loss at the midpoints of ``n_cells`` cells in each interval, their labels and log cell
    widths; a ValueError if the cells do not resolve each basin at the largest ``beta``."""
    if int(n_cells) != n_cells or n_cells < 1:
        raise ValueError(f"n_cells must be a positive integer, got {n_cells}")
    centres, labels, log_h = [], [], []
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        axes, log_cell = _cell_centres(np.array([[a, b]]), n_cells)
        centres.append(axes[0])
        labels.append(np.full(int(n_cells), i))
        log_h.append(log_cell)
    values = _losses_at(loss, jnp.asarray(np.concatenate(centres))[:, None])
    n = int(n_cells)
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        _check_resolution(values[i * n : (i + 1) * n], (n,), np.array([(b - a) / n]), beta)
    return values, jnp.asarray(np.concatenate(labels)), jnp.asarray(log_h)


def _edges(edges: ArrayLike) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or len(e) < 2 or not np.isfinite(e).all() or not (np.diff(e) > 0).all():
        raise ValueError(f"edges must be increasing finite numbers, at least two, got {edges}")
    return e


def basin_log_masses_1d(
    loss: Loss, beta: Float[ArrayLike, "*b"], edges: ArrayLike, n_cells: int = 4096
) -> Float[Array, "*b m"]:
    r"""Exact mass of each basin of a 1-D loss, :math:`\ln Z_i = \ln\int_{e_i}^{e_{i+1}} e^{-\beta L}d\theta`.

    ``edges`` :math:`e_0 < e_1 < \dots < e_m` are the ends of the box and, between them,
    the barriers (:func:`barrier_location`) that separate the basins. Each interval gets
    ``n_cells`` cells of the midpoint rule, with log-sum-exp as in
    :func:`log_partition_grid`. Splitting at a barrier costs no accuracy: there
    :math:`f = e^{-\beta L}` has :math:`f' = 0`, so the midpoint rule's :math:`h^2` end
    term vanishes at the cut (and :math:`f` is smallest there). A ValueError if the cells
    are wider than the thermal width at a basin's lowest point, as in
    :func:`log_partition_grid`.

    Args:
        loss: a 1-D loss (see the module conventions).
        beta: inverse temperature(s) :math:`\beta \ge 0`, any shape.
        edges: box ends and barriers, shape ``(m + 1,)``, increasing.
        n_cells: cells per interval.

    Returns:
        :math:`\ln Z_i`, shape ``beta.shape + (m,)``; their log-sum-exp is :math:`\ln Z`.
    """
    e = _edges(edges)
    beta = _beta(beta, positive=False)
    values, labels, log_h = _interval_values(loss, e, n_cells, beta)
    return _log_masses(values, labels, beta, log_h)


@eqx.filter_jit
def _descend(loss: Loss, points: Array, step_size: float, n_steps: int) -> Array:
    grad = jax.vmap(jax.grad(_scalar(loss)))
    return jax.lax.fori_loop(0, n_steps, lambda _, x: x - step_size * grad(x), points)


def basin_labels(
    loss: Loss,
    points: Float[ArrayLike, "n d"],
    minima: Float[ArrayLike, "m d"],
    step_size: float,
    n_steps: int,
) -> Int[Array, " n"]:
    r"""Which minimum gradient descent reaches from each point: the index of the nearest
    minimum after ``n_steps`` steps :math:`\theta \leftarrow \theta - \eta \nabla L(\theta)`.

    Gradient descent is stable where :math:`\eta < 2/\lambda_{\max}(H)` along its path;
    a point whose descent overflows raises a ValueError (lower ``step_size``). Points on
    a ridge between basins (a set of measure zero, stalled at a saddle) go to whichever
    minimum is nearer to where they stopped. In 1-D, :func:`basin_log_masses_1d` with the
    barriers as edges needs no descent.

    Args:
        loss: the loss (see the module conventions).
        points: starting points, shape ``(n, d)``.
        minima: the minima, shape ``(m, d)``.
        step_size: :math:`\eta`, in units of (parameter)²/loss.
        n_steps: number of steps.

    Returns:
        an index into ``minima`` for each point, shape ``(n,)``.
    """
    points = jnp.asarray(points, dtype=_float())
    minima = _minima(minima)
    if points.ndim != 2 or points.shape[1] != minima.shape[1]:
        raise ValueError(f"points must have shape (n, {minima.shape[1]}), got {points.shape}")
    if not step_size > 0 or int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"need step_size > 0 and n_steps >= 0, got {step_size} and {n_steps}")
    _check_loss(loss, points.shape[1])
    end = _descend(loss, points, float(step_size), int(n_steps))
    if not bool(jnp.all(jnp.isfinite(end))):
        raise ValueError("gradient descent diverged: lower step_size below 2 / (largest curvature)")
    d2 = jnp.sum((end[:, None, :] - minima[None, :, :]) ** 2, axis=-1)
    return jnp.argmin(d2, axis=-1)


def basin_log_masses(
    loss: Loss,
    beta: Float[ArrayLike, "*b"],
    bounds: ArrayLike,
    minima: Float[ArrayLike, "m d"],
    *,
    step_size: float,
    n_steps: int = 2000,
    n_grid: int = 256,
) -> Float[Array, "*b m"]:
    r"""Exact mass of each basin on a grid, :math:`\ln Z_i = \ln\int_{D_i} e^{-\beta L}\,d\theta` in 1-D, 2-D.

    The basin :math:`D_i` of minimum :math:`i` is the set of points of the box from which
    gradient descent reaches it; each cell of the midpoint grid of
    :func:`log_partition_grid` goes, whole, to the basin of its centre
    (:func:`basin_labels`). Cells cut by a basin boundary are misassigned in part, an
    error of :math:`O(h)` relative to the weight near the boundary, :math:`e^{-\beta
    (L_{\rm saddle} - L_i)}` relative to :math:`Z_i`; away from the boundaries the rule's
    error is that of :func:`log_partition_grid`. The masses sum to the grid's :math:`Z`.

    Args:
        loss: the loss (see the module conventions).
        beta: inverse temperature(s) :math:`\beta \ge 0`, any shape.
        bounds: the box, as in :func:`log_partition_grid`.
        minima: the minima, shape ``(m, d)``.
        step_size: gradient descent's step :math:`\eta`, as in :func:`basin_labels`.
        n_steps: gradient descent's number of steps.
        n_grid: cells per axis.

    Returns:
        :math:`\ln Z_i`, shape ``beta.shape + (m,)`` (:math:`-\infty` for a basin that no
        cell reaches).
    """
    b = _bounds(bounds)
    beta = _beta(beta, positive=False)
    minima = _minima(minima)
    if minima.shape[1] != b.shape[0]:
        raise ValueError(f"minima of dimension {minima.shape[1]} in a box of dimension {b.shape[0]}")
    points, log_cell = _grid_points(b, n_grid)
    values = _losses_at(loss, points)
    labels = basin_labels(loss, points, minima, step_size, n_steps)
    _check_resolution(values, *_widths(b, n_grid), beta, labels)
    return _log_masses(values, labels, beta, jnp.full(minima.shape[0], log_cell))


# ---------------------------------------------------------------- energy against entropy


def crossover_beta_laplace(
    loss_narrow: float, loss_wide: float, curvature_narrow: float, curvature_wide: float
) -> float:
    r"""Laplace's crossover :math:`\beta^* = \ln(k_n/k_w) / 2(L_w - L_n)`, where two basins have equal mass.

    Derivation: by Laplace, :math:`\ln Z_i = -\beta L_i + \frac d2\ln\frac{2\pi}{\beta} -
    \frac12\ln k_i` with :math:`k_i = \det H_i` (the curvature :math:`L''` in 1-D). The
    :math:`\beta`-dependence through :math:`\frac d2 \ln\frac{2\pi}\beta` is the same for
    both basins, so :math:`Z_n = Z_w` when

    .. math::

        -\beta L_n - \tfrac12 \ln k_n = -\beta L_w - \tfrac12\ln k_w
        \iff \beta^* = \frac{\ln(k_n/k_w)}{2(L_w - L_n)} .

    For :math:`\beta < \beta^*` the flat (wide, :math:`k_w < k_n`) basin holds more mass —
    entropy wins — and for :math:`\beta > \beta^*` the deeper narrow one does — energy
    wins. The prediction errs by the Laplace corrections :math:`c_i/\beta`
    (:func:`laplace_correction`): :math:`\beta^*(L_w - L_n) = \frac12\ln(k_n/k_w) +
    (c_w - c_n)/\beta^* + O(\beta^{*-2})`.

    Args:
        loss_narrow: the narrow minimum's loss :math:`L_n`.
        loss_wide: the wide minimum's loss :math:`L_w > L_n`.
        curvature_narrow: :math:`k_n`, the narrow minimum's :math:`L''` (:math:`\det H` in d-D).
        curvature_wide: :math:`k_w`, with :math:`0 < k_w < k_n`.

    Returns:
        :math:`\beta^* > 0`, a float; a ValueError if the deeper basin is not the narrower one.
    """
    kn, kw = float(curvature_narrow), float(curvature_wide)
    gap = float(loss_wide) - float(loss_narrow)
    if not (kn > 0 and kw > 0):
        raise ValueError(f"curvatures must be positive, got {kn} and {kw}")
    if not (gap > 0 and kn > kw):
        raise ValueError(
            "no crossover: it needs the narrow basin deeper (loss_narrow < loss_wide) and narrower "
            f"(curvature_narrow > curvature_wide), got losses {loss_narrow}, {loss_wide} "
            f"and curvatures {kn}, {kw}"
        )
    return math.log(kn / kw) / (2 * gap)


def crossover_beta_exact(
    loss: Loss, edges: ArrayLike, bracket: tuple[float, float], n_cells: int = 4096
) -> float:
    r"""The exact :math:`\beta^*` at which the two basins of a 1-D loss hold equal mass (by ``brentq``).

    Solves :math:`\ln Z_0(\beta) = \ln Z_1(\beta)` for the basins
    :math:`[e_0, e_1]` and :math:`[e_1, e_2]` of :func:`basin_log_masses_1d` (the loss is
    evaluated on the grid once; each :math:`\beta` is a log-sum-exp), to a relative
    :math:`10^{-13}` in :math:`\beta`.

    Args:
        loss: a 1-D loss (see the module conventions).
        edges: ``(low, barrier, high)``.
        bracket: :math:`(\beta_{\rm lo}, \beta_{\rm hi})` with the mass difference of
            opposite signs at the two ends (a ValueError otherwise), e.g. a factor of a
            few around :func:`crossover_beta_laplace`.
        n_cells: cells per basin.

    Returns:
        :math:`\beta^*`, a float.
    """
    e = _edges(edges)
    if len(e) != 3:
        raise ValueError(f"edges must be (low, barrier, high), got {edges}")
    lo, hi = (float(x) for x in bracket)
    if not 0 < lo < hi < np.inf:
        raise ValueError(f"bracket must be 0 < lo < hi < inf, got {bracket}")
    values, labels, log_h = _interval_values(loss, e, n_cells, jnp.asarray(hi))
    shifted = np.asarray(values - jnp.min(values))
    masks = [np.asarray(labels) == i for i in range(2)]
    log_h = np.asarray(log_h)

    def difference(beta: float) -> float:
        z = [scipy.special.logsumexp(-beta * shifted[m]) + log_h[i] for i, m in enumerate(masks)]
        return float(z[0] - z[1])

    if difference(lo) * difference(hi) > 0:
        raise ValueError(f"the basins' masses do not cross inside the bracket {bracket}")
    return float(scipy.optimize.brentq(difference, lo, hi, xtol=1e-300, rtol=1e-13))


class DoubleWell(NamedTuple):
    r"""A 1-D double well with a narrow deep minimum and a wide shallow one (see :func:`double_well`).

    Attributes:
        loss_narrow: the narrow minimum's loss :math:`L_n`.
        loss_wide: the wide minimum's loss :math:`L_w`.
        curvature_narrow: the curvature :math:`k_n = L''(x_n)`.
        curvature_wide: the curvature :math:`k_w = L''(x_w)`.
        x_narrow: the narrow minimum's location :math:`x_n`.
        x_wide: the wide minimum's location :math:`x_w`.
        anharmonicity: :math:`g \ge 0`, in 1/(parameter units)².
        sharpness: :math:`\gamma > 0`, in 1/loss units.
    """

    loss_narrow: float
    loss_wide: float
    curvature_narrow: float
    curvature_wide: float
    x_narrow: float
    x_wide: float
    anharmonicity: float
    sharpness: float


def double_well(
    energy_gap: float = 0.1,
    curvature_narrow: float = 16.0,
    curvature_wide: float = 1.0,
    separation: float = 2.0,
    anharmonicity: float = 0.5,
    sharpness: float = 20.0,
) -> DoubleWell:
    r"""A double well whose narrow minimum is lower and whose wide minimum wins at moderate :math:`\beta`.

    The loss is the smooth minimum of two wells,

    .. math::

        L(x) = -\frac1\gamma \ln\bigl(e^{-\gamma q_n(x)} + e^{-\gamma q_w(x)}\bigr), \qquad
        q_i(x) = L_i + k_i\Bigl(\frac{u^2}{2} + \frac{g\,u^4}{4}\Bigr),\ u = x - x_i ,

    itself a free energy at inverse temperature :math:`\gamma`, which tends to
    :math:`\min(q_n, q_w)` as :math:`\gamma \to \infty`. The narrow minimum sits at
    :math:`x_n = -s/2` with :math:`L_n = 0`, the wide one at :math:`x_w = +s/2` with
    :math:`L_w` = ``energy_gap``. Near each minimum the other well's weight is below
    :math:`e^{-36} \approx 2\times10^{-16}` (checked here), so to float64 precision the
    minima are at :math:`x_i` with loss :math:`L_i`, curvature :math:`L''(x_i) = k_i`,
    :math:`L''' = 0` and :math:`L'''' = 6 g k_i`. The anharmonicity :math:`g` sets how
    far from Gaussian the wells are: Laplace's corrections are
    :math:`c_i = -3g/(4k_i)` (:func:`laplace_correction`), so the wide well departs
    most, and :math:`g = 0` makes both wells exactly parabolic up to the barrier.

    With the defaults (:math:`L_w - L_n = 0.1`, :math:`k_n/k_w = 16`, :math:`s = 2`,
    :math:`g = 0.5`, :math:`\gamma = 20`) Laplace's crossover is
    :math:`\beta^* = \ln 16 / 0.2 = 13.86` and the exact one 13.64 (1.6 % lower, as the
    corrections :math:`c_w = -0.375`, :math:`c_n = -0.023` predict). The barrier is at
    :math:`x_b = -0.518` with :math:`L(x_b) = 1.90`, 1.80 above the wide minimum, so at
    :math:`\beta^*` the density on the barrier is :math:`e^{-24.5}` of that at the wide
    minimum: the basins are well defined. The wide basin holds 76 % of the mass at
    :math:`\beta = 1` (in the box :math:`[-4, 4]`), 50 % at :math:`\beta^*`, 2.6 % at
    :math:`\beta = 50`.

    Args:
        energy_gap: :math:`L_w - L_n > 0`.
        curvature_narrow: :math:`k_n`, the narrow minimum's curvature.
        curvature_wide: :math:`k_w`, with :math:`0 < k_w < k_n`.
        separation: :math:`s = x_w - x_n > 0`.
        anharmonicity: :math:`g \ge 0`.
        sharpness: :math:`\gamma > 0`.

    Returns:
        the :class:`DoubleWell`; evaluate it with :func:`double_well_loss`.
    """
    if not energy_gap > 0:
        raise ValueError(f"energy_gap must be > 0 (the narrow well is the lower), got {energy_gap}")
    if not curvature_narrow > curvature_wide > 0:
        raise ValueError(
            f"need curvature_narrow > curvature_wide > 0, got {curvature_narrow} and {curvature_wide}"
        )
    if not (separation > 0 and anharmonicity >= 0 and sharpness > 0):
        raise ValueError(
            "need separation > 0, anharmonicity >= 0, sharpness > 0, "
            f"got {separation}, {anharmonicity}, {sharpness}"
        )
    well = DoubleWell(
        0.0,
        float(energy_gap),
        float(curvature_narrow),
        float(curvature_wide),
        -separation / 2,
        separation / 2,
        float(anharmonicity),
        float(sharpness),
    )
    (qw_at_n, qn_at_w) = (_well(well, 1, well.x_narrow), _well(well, 0, well.x_wide))
    margin = sharpness * min(qw_at_n - well.loss_narrow, qn_at_w - well.loss_wide)
    if margin < 36:
        raise ValueError(
            "the wells overlap: sharpness * (height of one well at the other's minimum) = "
            f"{margin:.3g} < 36, so the minima would move; raise sharpness or separation"
        )
    return well


def _well(well: DoubleWell, i: int, x):
    level, k, centre = (
        (well.loss_narrow, well.curvature_narrow, well.x_narrow)
        if i == 0
        else (well.loss_wide, well.curvature_wide, well.x_wide)
    )
    u = x - centre
    return level + k * (u**2 / 2 + well.anharmonicity * u**4 / 4)


def double_well_loss(well: DoubleWell, x: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
    r"""The loss :math:`L(x)` of :func:`double_well`, elementwise on ``x`` of any shape.

    Pass ``functools.partial(double_well_loss, well)`` wherever this module takes a loss.
    """
    x = jnp.asarray(x, dtype=_float())
    g = well.sharpness
    return -jnp.logaddexp(-g * _well(well, 0, x), -g * _well(well, 1, x)) / g


# ------------------------------------------------------------- Gibbs linear regression


def regression_loss(
    w: Float[ArrayLike, " d"], X: Float[ArrayLike, "n d"], y: Float[ArrayLike, " n"], ridge: float = 0.0
) -> Float[Array, ""]:
    r"""The ridge loss :math:`L(w) = \frac12\lVert y - Xw\rVert^2 + \frac\lambda2 \lVert w\rVert^2`.

    ``ridge`` is :math:`\lambda`; ``w`` has shape ``(d,)``, ``X`` ``(n, d)``, ``y`` ``(n,)``.
    """
    w, X, y = jnp.asarray(w), jnp.asarray(X), jnp.asarray(y)
    return 0.5 * jnp.sum((y - X @ w) ** 2) + 0.5 * ridge * jnp.sum(w**2)


class GibbsPosterior(NamedTuple):
    r"""The Gibbs distribution :math:`e^{-\beta L(w)}/Z` of the ridge loss: see :func:`gibbs_regression`.

    Attributes:
        mean: :math:`\mu = A^{-1}X^\top y`, shape ``(d,)``: the ridge solution, for every :math:`\beta`.
        covariance: :math:`\Sigma = (\beta A)^{-1}`, shape ``(d, d)``.
        min_loss: :math:`L^* = L(\mu)`.
        log_partition: :math:`\ln Z = -\beta L^* + \frac d2\ln\frac{2\pi}\beta - \frac12\ln\det A`.
        free_energy: :math:`F = L^* + \frac{d}{2\beta}\ln\frac\beta{2\pi} + \frac1{2\beta}\ln\det A`.
    """

    mean: Array
    covariance: Array
    min_loss: Array
    log_partition: Array
    free_energy: Array


def _regression_inputs(X, y, beta, ridge):
    X, y = jnp.asarray(X, dtype=_float()), jnp.asarray(y, dtype=_float())
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"need X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
    beta = float(_beta(beta, positive=True))
    if not (np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be finite and >= 0, got {ridge}")
    return X, y, beta, float(ridge)


@jax.jit
def _gibbs(X: Array, y: Array, beta: Array, ridge: Array) -> tuple[Array, GibbsPosterior]:
    r"""The posterior from the upper Cholesky factor :math:`R` of :math:`A = X^\top X + \lambda I`
    (:math:`R^\top R = A`), itself from a QR factorization of :math:`[X; \sqrt\lambda I]`;
    also returns :math:`|R_{ii}|` for the singularity check."""
    d = X.shape[1]
    X_aug = jnp.concatenate([X, jnp.sqrt(ridge) * jnp.eye(d, dtype=X.dtype)], axis=0)
    y_aug = jnp.concatenate([y, jnp.zeros(d, dtype=y.dtype)])
    Q, R = jnp.linalg.qr(X_aug, mode="reduced")
    mean = jax.scipy.linalg.solve_triangular(R, Q.T @ y_aug, lower=False)
    diag = jnp.abs(jnp.diag(R))
    logdet = 2 * jnp.sum(jnp.log(diag))
    R_inv = jax.scipy.linalg.solve_triangular(R, jnp.eye(d, dtype=X.dtype), lower=False)
    covariance = R_inv @ R_inv.T / beta
    l_star = regression_loss(mean, X, y, ridge)
    log_z = -beta * l_star + 0.5 * d * jnp.log(2 * jnp.pi / beta) - 0.5 * logdet
    free = l_star + 0.5 * d * jnp.log(beta / (2 * jnp.pi)) / beta + 0.5 * logdet / beta
    return diag, GibbsPosterior(mean, covariance, l_star, log_z, free)


def gibbs_regression(
    X: Float[ArrayLike, "n d"], y: Float[ArrayLike, " n"], beta: float, ridge: float = 0.0
) -> GibbsPosterior:
    r"""The Gibbs distribution of linear regression, in closed form: a Gaussian.

    For :math:`L(w) = \frac12\lVert y - Xw\rVert^2 + \frac\lambda2\lVert w\rVert^2`,
    completing the square with :math:`A = X^\top X + \lambda I` gives
    :math:`L(w) = L^* + \frac12 (w-\mu)^\top A (w - \mu)`, so
    :math:`e^{-\beta L(w)}/Z = \mathcal N(w;\ \mu,\ (\beta A)^{-1})` with :math:`\mu =
    A^{-1}X^\top y` and the :math:`\ln Z` and :math:`F` of Laplace's formula, here exact.

    Correspondence with Bayesian regression: data :math:`y = Xw + \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, \sigma^2 I)`, and prior :math:`w \sim \mathcal
    N(0, \tau^2 I)` give the posterior :math:`\propto e^{-\lVert y - Xw\rVert^2/2\sigma^2
    - \lVert w\rVert^2/2\tau^2} = e^{-\beta L(w)}` exactly when

    .. math::

        \beta = \frac1{\sigma^2}\ \text{(the noise precision)}, \qquad
        \lambda = \frac{\sigma^2}{\tau^2}\ \text{(so } \beta\lambda = 1/\tau^2\text{)} .

    At fixed :math:`\lambda` the mean does not depend on :math:`\beta`: it is the ridge
    solution, and :math:`\beta \to \infty` shrinks the covariance like :math:`1/\beta`
    onto it (the zero-temperature limit: the minimizer). At a fixed prior :math:`\tau`,
    :math:`\lambda = 1/(\beta\tau^2) \to 0` as :math:`\beta \to \infty`, and the mean
    tends to the least-squares solution, at a distance :math:`O(1/\beta)`. With
    :math:`\lambda = 0` (a flat prior) the mean is the least-squares solution at every
    :math:`\beta`.

    Numerics: the Cholesky factor :math:`R` of :math:`A` (:math:`R^\top R = A`) comes from
    a QR factorization of the stacked matrix :math:`[X;\ \sqrt\lambda I]`, which never
    forms :math:`X^\top X` (whose condition number is the square of :math:`X`'s); then
    :math:`\mu` by a triangular solve, :math:`\ln\det A = 2\sum_i \ln|R_{ii}|` and
    :math:`\Sigma = R^{-1}R^{-\top}/\beta`.

    Args:
        X: design matrix, shape ``(n, d)``.
        y: targets, shape ``(n,)``.
        beta: inverse temperature :math:`\beta > 0`, a scalar, in 1/(units of y)².
        ridge: :math:`\lambda \ge 0`. A ValueError if :math:`A` is singular.

    Returns:
        a :class:`GibbsPosterior`.
    """
    X, y, beta, ridge = _regression_inputs(X, y, beta, ridge)
    diag, posterior = _gibbs(X, y, jnp.asarray(beta, dtype=X.dtype), jnp.asarray(ridge, dtype=X.dtype))
    diag = np.asarray(diag)
    if not diag.min() > np.finfo(diag.dtype).eps * sum(X.shape) * diag.max():
        raise ValueError("X^T X + ridge * I is singular (fewer independent data than weights): use ridge > 0")
    return posterior


def regression_log_evidence(
    X: Float[ArrayLike, "n d"], y: Float[ArrayLike, " n"], beta: float, ridge: float
) -> Float[Array, ""]:
    r"""Log marginal likelihood :math:`\ln p(y \mid X)` of Bayesian regression, from the partition function.

    With noise precision :math:`\beta = 1/\sigma^2` and prior precision
    :math:`\beta\lambda = 1/\tau^2` (see :func:`gibbs_regression`),

    .. math::

        p(y\mid X) = \int dw\ \mathcal N(y;\ Xw,\ \sigma^2 I)\, \mathcal N(w;\ 0,\ \tau^2 I)
        = \Bigl(\frac{\beta}{2\pi}\Bigr)^{n/2} \Bigl(\frac{\beta\lambda}{2\pi}\Bigr)^{d/2} Z(\beta),

    the Gaussian :math:`\mathcal N(y;\ 0,\ \sigma^2 I + \tau^2 XX^\top)`. Needs
    :math:`\lambda > 0` (a flat prior has no normalization).

    Returns:
        :math:`\ln p(y\mid X)` in nats, a scalar.
    """
    X, y, beta, ridge = _regression_inputs(X, y, beta, ridge)
    if not ridge > 0:
        raise ValueError("the evidence needs a proper prior: ridge > 0")
    n, d = X.shape
    log_z = gibbs_regression(X, y, beta, ridge).log_partition
    return 0.5 * n * math.log(beta / (2 * math.pi)) + 0.5 * d * math.log(beta * ridge / (2 * math.pi)) + log_z


# ----------------------------------------------------------------------- discrete states


def free_energy_gap(losses: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""For finitely many states, :math:`L^* - F(\beta) = \frac1\beta \ln\sum_x e^{-\beta(L(x) - L^*)}
    \in [0, \frac{\ln n}{\beta}]`.

    :math:`L^* = \min_x L(x)` and :math:`F = -\frac1\beta\ln\sum_x e^{-\beta L(x)}` over
    :math:`n` states. The sum has :math:`n` terms, each :math:`\le 1`, one of them
    :math:`e^0 = 1`, hence the bounds; equivalently :math:`L^* - F = S/\beta - (\langle
    L\rangle - L^*)` with the entropy :math:`S \le \ln n`. So :math:`F \to L^*` at
    least as fast as :math:`\ln n/\beta`, and :math:`L^* - F \to \ln g/\beta` with
    :math:`g` the number of states at the minimum. Computed with
    :func:`physml.statmech.log_partition` of the shifted losses, so the bounds hold in
    floating point too.

    Args:
        losses: :math:`L(x)` of every state, shape ``(states,)``, finite.
        beta: inverse temperature :math:`\beta > 0`.

    Returns:
        :math:`L^* - F \ge 0`, in the units of the loss.
    """
    values = np.asarray(losses, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"losses must be a non-empty 1-D array of finite numbers, got shape {values.shape}")
    beta = _beta(beta, positive=True)
    if beta.ndim != 0:
        raise ValueError("beta must be a scalar")
    return _gap(jnp.asarray(losses, dtype=_float()), beta)


@jax.jit
def _gap(losses: Array, beta: Array) -> Array:
    return statmech.log_partition(losses - jnp.min(losses), beta) / beta
