r"""Extrapolating across a phase transition: Landau theory as the structure of a neural ODE.

Landau's free energy of an order parameter :math:`m` (a magnetization) near a critical
temperature :math:`T_c` is

.. math::

    F(m, T) = \tfrac12 a(T)\, m^2 + \tfrac14 b\, m^4, \qquad a(T) = a_0 (T - T_c),\quad b > 0,

and with a kinetic coefficient of 1 the order parameter relaxes down its gradient
(model A of Hohenberg and Halperin, without noise):

.. math::

    \frac{dm}{dt} = -\frac{\partial F}{\partial m} = -a(T)\, m - b\, m^3 .

Below :math:`T_c` (:math:`a < 0`) the minima are :math:`m^* = \pm\sqrt{-a/b}` and the
relaxation rate there is :math:`-2a`; above :math:`T_c` the only minimum is :math:`m^* = 0`,
approached at the rate :math:`a`; at :math:`T_c` the decay is algebraic,
:math:`m \sim (2bt)^{-1/2}` (critical slowing down). The equation is of Bernoulli type:
:math:`u = m^2` obeys :math:`\dot u = -2au - 2bu^2`, linear in :math:`1/u`, so

.. math::

    m(t)^2 = \frac{a\, m_0^2\, e^{-2at}}{a + b m_0^2 (1 - e^{-2at})}
    \quad (a \ne 0), \qquad m(t)^2 = \frac{m_0^2}{1 + 2bm_0^2 t} \quad (a = 0),

with the sign of :math:`m_0` (:func:`landau_solution`, which writes both cases as one
formula with :math:`\varphi(x) = (e^x - 1)/x`). It generates the data and checks the integrator.

The experiment. Relaxation trajectories :math:`m(t)` are recorded at temperatures *below*
:math:`T_c` only (:func:`landau_data`), and two neural ODEs are fitted to them by
backpropagating through a fixed-step RK4 solver (Chen et al. 2018; :func:`train_ode`):

* :class:`StructuredLandau`, :math:`\dot m = -(c_0 + c_1 T)\, m - b_\theta m^3`: Landau's form,
  three numbers, the transition at :math:`T_c = -c_0/c_1` (:func:`learned_tc`);
* :class:`BlackBoxODE`, :math:`\dot m = \mathrm{MLP}_\theta(m, T)`, conditioned on :math:`T`
  but told nothing else.

Only the first knows that :math:`T` enters through a coefficient that changes sign, so
only the first can predict what was never seen — that the magnetization vanishes above
:math:`T_c`, and how fast it decays there (:func:`extrapolation`). The black box's answer
above :math:`T_c` depends on how its tanh units happen to continue past the data.

Measured (float32; eight seeds of data and of initial parameters; :math:`a_0 = T_c = b = 1`;
five temperatures on [0.3, 0.8] × six initial values × 21 times on [0, 8], noise 0.01;
1000 Adam steps each; ``tests/test_landau.py`` holds three seeds to the 2 % claim):

* The structured model fits to the noise floor (mean squared error 0.93–1.08 × 10⁻⁴) and
  finds :math:`T_c` = 0.998–1.003. Above :math:`T_c` it predicts :math:`m^* = 0` and
  relaxation rates 0.195–0.202 at :math:`T = 1.2` (exact: 0.2) and 0.492–0.503 at 1.5 (0.5);
  its trajectories there are off by at most 0.0024 (RMS).
* The black boxes fit less well (2.6–8.6 × 10⁻⁴) and disagree with each other and with the
  physics wherever the data are silent. From :math:`m_0 = 0.5` they end at :math:`m` between
  −0.085 and 0.092 at :math:`T = 1.2` and between −0.11 and 0.22 at 1.5 (two of eight stay
  within 0.05 of 0 at both), with rates 0.10–0.45 and 0.20–0.75 — every seed off by half or
  more at 1.2 — and trajectory errors 0.05–0.13 and 0.04–0.24 (even inside the data, at
  :math:`T = 0.55`, their rates are 0.60–0.71 against 0.9). Already at
  :math:`T = 0.9`, below :math:`T_c` but outside the data, one of eight relaxes to the wrong
  sign (−0.22 for +0.32): nothing in an MLP knows the symmetry :math:`m \to -m`. Trained three
  times longer, they fit to 1.4–2.1 × 10⁻⁴ and miss above :math:`T_c` as much (trajectory
  errors 0.04–0.13 at 1.2; again one of eight takes the wrong sign at 0.9).
* The same seed trained alone (:func:`train_ode`) or batched (:func:`train_ensemble`), whose
  rounding differs, gives the same structured model to rounding — its optimum is unique —
  but black boxes that differ visibly (:math:`m(100)` at :math:`T = 1.2` by up to 0.01 in
  three seeds checked): nothing pins down a black box where the data are silent.

References: L. D. Landau, "On the theory of phase transitions", Zh. Eksp. Teor. Fiz. 7, 19
(1937); P. C. Hohenberg and B. I. Halperin, Rev. Mod. Phys. 49, 435 (1977); R. T. Q. Chen,
Y. Rubanova, J. Bettencourt and D. Duvenaud, "Neural ordinary differential equations",
NeurIPS (2018).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_count, check_positive, is_real, to_device

__all__ = [
    "LEARNING_RATES",
    "BlackBoxODE",
    "Extrapolation",
    "LandauData",
    "LandauParams",
    "StructuredLandau",
    "equilibrium_magnetization",
    "extrapolation",
    "free_energy",
    "landau_data",
    "landau_rhs",
    "landau_solution",
    "learned_tc",
    "predicted_equilibrium",
    "relaxation_rate",
    "rollout",
    "train_ensemble",
    "train_ode",
]

#: Adam's default initial step size for each kind of model, used by train_ode and train_ensemble.
LEARNING_RATES = {"structured": 0.1, "blackbox": 0.01}


class LandauParams(NamedTuple):
    r"""The Landau free energy :math:`F = \frac12 a_0 (T - T_c) m^2 + \frac14 b m^4`.

    Attributes:
        a0: slope :math:`a_0 > 0` of :math:`a(T) = a_0 (T - T_c)`, per unit temperature and time.
        Tc: critical temperature :math:`T_c`.
        b: quartic coefficient :math:`b > 0`.
    """

    a0: float = 1.0
    Tc: float = 1.0
    b: float = 1.0


class LandauData(NamedTuple):
    """Relaxation trajectories at several temperatures (:func:`landau_data`).

    Attributes:
        temperatures: shape ``(n_T,)``.
        m0: initial magnetizations, shape ``(n_T, n_initial)``.
        times: observation times, from 0, shape ``(n_t,)``.
        m: noisy :math:`m(t)`, shape ``(n_T, n_initial, n_t)``.
        clean: the exact :math:`m(t)` (:func:`landau_solution`), same shape.
    """

    temperatures: Array
    m0: Array
    times: Array
    m: Array
    clean: Array


class Extrapolation(NamedTuple):
    r"""A model's predictions against Landau theory at given temperatures (:func:`extrapolation`).

    Attributes:
        temperatures: shape ``(k,)``.
        m_star: the model's :math:`m(t_{\max})` from :math:`m_0 = 0.5`, shape ``(k,)``.
        m_star_true: :math:`\sqrt{\max(-a, 0)/b}`, shape ``(k,)``.
        rate: the model's linear relaxation rate :math:`-\partial_m \dot m` at ``m_star``, shape ``(k,)``.
        rate_true: :func:`relaxation_rate`, shape ``(k,)``.
        trajectory_error: root-mean-square error of the model's trajectories against the exact
            ones, over the initial values and times given, shape ``(k,)``, units of :math:`m`.
        times: the times of the compared trajectories, shape ``(n_t,)``.
        trajectories: the model's trajectories from each initial value at each temperature,
            shape ``(k, n_initial, n_t)``.
        exact: :func:`landau_solution` at the same temperatures, initial values and times,
            shape ``(k, n_initial, n_t)``.
    """

    temperatures: Array
    m_star: Array
    m_star_true: Array
    rate: Array
    rate_true: Array
    trajectory_error: Array
    times: Array
    trajectories: Array
    exact: Array


# ---------------------------------------------------------------- validation (NumPy, no compiling)


def _params(params: Any) -> LandauParams:
    if not isinstance(params, LandauParams):
        raise ValueError(f"params must be a physml.landau.LandauParams, got {type(params).__name__}")
    a0, b = check_positive(params.a0, "a0"), check_positive(params.b, "b")
    if not (is_real(params.Tc) and math.isfinite(params.Tc)):
        raise ValueError(f"Tc must be a finite number, got {params.Tc!r}")
    return LandauParams(a0, float(params.Tc), b)


def _real(x: Any, name: str, ndim: int | None = None) -> Array:
    if isinstance(x, jax.core.Tracer):
        return x
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of real numbers") from err
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if ndim is not None and (a.ndim != ndim or a.size == 0):
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return to_device(x)


def _times(times: Any) -> Array:
    times = _real(times, "times", ndim=1)
    if isinstance(times, jax.core.Tracer):
        return times
    t = np.asarray(times)
    if t.shape[0] < 2 or t[0] != 0 or not np.all(np.diff(t) > 0):
        raise ValueError("times must be at least two increasing values starting at 0")
    return times


def _floats(*xs: Array) -> list[Array]:
    """The arrays in one float dtype, broadcast to one shape (explicitly: rank promotion may raise)."""
    dtype = jnp.result_type(*xs, float)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in xs))
    return [jnp.broadcast_to(x, shape).astype(dtype) for x in xs]


# ----------------------------------------------------------------------------- the theory


def _rhs(a: Array, b: Any, m: Array) -> Array:
    return -a * m - b * m**3


def _coefficients(params: Any) -> Array:
    """``(a0, Tc, b)`` as an array, traced by the compiled functions (new values do not recompile)."""
    return jax.device_put(np.asarray(_params(params), dtype=jnp.result_type(float)))


@functools.partial(jax.jit, static_argnums=0)
def _theory(what: str, coefficients: Array, T: Array, m: Array) -> Array:
    T, m = _floats(T, m)
    a0, Tc, b = coefficients.astype(T.dtype)
    a = a0 * (T - Tc)
    if what == "F":
        return 0.5 * a * m**2 + 0.25 * b * m**4
    if what == "rhs":
        return _rhs(a, b, m)
    if what == "m*":
        return jnp.sqrt(jnp.maximum(-a, 0.0) / b)
    return jnp.where(a > 0, a, -2 * a)


def free_energy(
    params: LandauParams, m: Float[ArrayLike, ...], T: Float[ArrayLike, ...]
) -> Float[Array, ...]:
    r"""The Landau free energy :math:`F(m, T) = \frac12 a(T) m^2 + \frac14 b m^4`, :math:`a = a_0(T - T_c)`.

    Args:
        params: :class:`LandauParams`.
        m: magnetizations; ``T``: temperatures; broadcast together.
    """
    return _theory("F", _coefficients(params), _real(T, "T"), _real(m, "m"))


def landau_rhs(params: LandauParams, m: Float[ArrayLike, ...], T: Float[ArrayLike, ...]) -> Float[Array, ...]:
    r"""The relaxational dynamics :math:`\dot m = -\partial F/\partial m = -a(T) m - b m^3`.

    Args:
        params: :class:`LandauParams`.
        m: magnetizations; ``T``: temperatures; broadcast together.

    Returns:
        :math:`dm/dt`, the broadcast shape, per unit time.
    """
    return _theory("rhs", _coefficients(params), _real(T, "T"), _real(m, "m"))


def equilibrium_magnetization(params: LandauParams, T: Float[ArrayLike, ...]) -> Float[Array, ...]:
    r"""The stable magnetization :math:`m^* = \sqrt{\max(-a(T), 0)/b}` (the positive branch):
    :math:`\sqrt{a_0 (T_c - T)/b}` below :math:`T_c` (mean-field :math:`\beta = 1/2`), 0 above."""
    T = _real(T, "T")
    return _theory("m*", _coefficients(params), T, T)


def relaxation_rate(params: LandauParams, T: Float[ArrayLike, ...]) -> Float[Array, ...]:
    r"""The linear relaxation rate at the stable equilibrium, :math:`\partial^2 F/\partial m^2` at
    :math:`m^*`: :math:`a(T)` above :math:`T_c`, :math:`-2a(T)` below, 0 at :math:`T_c`."""
    T = _real(T, "T")
    return _theory("rate", _coefficients(params), T, T)


def _phi(x: Array) -> Array:
    r""":math:`\varphi(x) = (e^x - 1)/x`, :math:`\varphi(0) = 1`, smooth (a Taylor series near 0)."""
    small = jnp.abs(x) < 1e-3
    safe = jnp.where(small, 1.0, x)
    series = 1 + x / 2 * (1 + x / 3 * (1 + x / 4 * (1 + x / 5)))
    return jnp.where(small, series, jnp.expm1(safe) / safe)


def _solution(a: Array, b: Any, m0: Array, t: Array) -> Array:
    s = a * t
    up = s > 0  # each form on its own side, so neither overflows (nor its derivative)
    lo, hi = jnp.where(up, 0.0, s), jnp.where(up, s, 0.0)
    c = 2 * b * m0**2 * t
    m_lo = m0 / jnp.sqrt(jnp.exp(2 * lo) + c * _phi(2 * lo))
    m_hi = m0 * jnp.exp(-hi) / jnp.sqrt(1 + c * _phi(-2 * hi))
    return jnp.where(up, m_hi, m_lo)


@jax.jit
def _solution_at(coefficients: Array, m0: Array, T: Array, t: Array) -> Array:
    m0, T, t = _floats(m0, T, t)
    a0, Tc, b = coefficients.astype(T.dtype)
    return _solution(a0 * (T - Tc), b, m0, t)


def landau_solution(
    params: LandauParams, m0: Float[ArrayLike, ...], T: Float[ArrayLike, ...], t: Float[ArrayLike, ...]
) -> Float[Array, ...]:
    r"""The exact relaxation :math:`m(t)` from :math:`m(0) = m_0` at temperature :math:`T`.

    With :math:`s = a(T)\,t` and :math:`\varphi(x) = (e^x - 1)/x` the Bernoulli solution is

    .. math::

        m(t) = \frac{m_0}{\sqrt{e^{2s} + 2bm_0^2\, t\,\varphi(2s)}}
             = \frac{m_0\, e^{-s}}{\sqrt{1 + 2bm_0^2\, t\,\varphi(-2s)}},

    one formula for :math:`a < 0`, :math:`a = 0` (:math:`m_0/\sqrt{1 + 2bm_0^2t}`) and
    :math:`a > 0`; the first form is used for :math:`s \le 0`, the second for :math:`s > 0`,
    so nothing overflows as :math:`t \to \infty` (:math:`m \to \operatorname{sign}(m_0)\, m^*`).
    Differentiable in every argument.

    Args:
        params: :class:`LandauParams`.
        m0: initial magnetizations; ``T``: temperatures; ``t``: times :math:`\ge 0`;
            broadcast together.

    Returns:
        :math:`m(t)`, the broadcast shape.
    """
    t = _real(t, "t")
    if not isinstance(t, jax.core.Tracer) and np.any(np.asarray(t) < 0):
        raise ValueError("t must be >= 0 (backwards in time the solution can blow up)")
    return _solution_at(_coefficients(params), _real(m0, "m0"), _real(T, "T"), t)


def landau_data(
    key: Array,
    params: LandauParams,
    temperatures: Float[ArrayLike, " n_T"],
    *,
    n_initial: int = 6,
    times: Float[ArrayLike, " n_t"] | None = None,
    noise: float = 0.01,
) -> LandauData:
    r"""Noisy relaxation trajectories :math:`m(t)` at each temperature, from random :math:`m_0`.

    The initial magnetizations have log-uniform magnitudes in :math:`[0.05, 1.2]` — small ones
    grow away from the unstable :math:`m = 0`, large ones shrink — and alternating signs.
    The observations are :func:`landau_solution` plus iid :math:`\mathcal N(0, \sigma^2)` noise.

    Args:
        key: PRNG key for the initial values and the noise.
        params: :class:`LandauParams`.
        temperatures: shape ``(n_T,)``.
        n_initial: trajectories per temperature.
        times: increasing observation times from 0, shape ``(n_t,)``; default 21 points on [0, 8].
        noise: standard deviation :math:`\sigma \ge 0`, units of :math:`m`.

    Returns:
        :class:`LandauData`, in the float dtype of ``temperatures`` and ``times``.
    """
    params = _params(params)
    temperatures = _real(temperatures, "temperatures", ndim=1)
    times = _times(np.linspace(0.0, 8.0, 21) if times is None else times)
    n_initial = check_count(n_initial, "n_initial")
    if not (is_real(noise) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    coefficients = jnp.asarray([*params, noise], dtype=jnp.result_type(float))
    return _landau_data(key, coefficients, temperatures, times, n_initial)


@functools.partial(jax.jit, static_argnums=4)
def _landau_data(key: Array, coefficients: Array, temperatures: Array, times: Array, n_initial: int):
    dtype = jnp.result_type(temperatures, times, float)
    temperatures, times = temperatures.astype(dtype), times.astype(dtype)
    a0, Tc, b, noise = coefficients.astype(dtype)
    k_m, k_e = jax.random.split(key)
    grid = (temperatures.shape[0], n_initial, times.shape[0])
    u = jax.random.uniform(k_m, (math.prod(grid[:2]),), dtype, math.log(0.05), math.log(1.2))
    size = jnp.exp(u).reshape(grid[:2])  # random numbers drawn flat: 1-D shapes compile faster
    m0 = size * jnp.where(jnp.arange(n_initial) % 2 == 0, 1.0, -1.0)[None].astype(dtype)
    T, m0_, t = (jnp.broadcast_to(x, grid) for x in (temperatures[:, None, None], m0[..., None], times))
    clean = _solution(a0 * (T - Tc), b, m0_, t)
    m = clean + noise * jax.random.normal(k_e, (math.prod(grid),), dtype).reshape(grid)
    return LandauData(temperatures, m0, times, m, clean)


# -------------------------------------------------------------------------------- models


class StructuredLandau(eqx.Module):
    r"""Landau's form with learned coefficients: :math:`\dot m = -(c_0 + c_1 T)\, m - b_\theta m^3`.

    :math:`b_\theta = \operatorname{softplus}(\beta) > 0`, so the quartic term always bounds the
    free energy. Three parameters :math:`(c_0, c_1, \beta)`, initialised as normal numbers of
    standard deviation 0.1. The learned critical temperature is :math:`-c_0/c_1` (:func:`learned_tc`).

    Args:
        key: PRNG key for the initial parameters.
    """

    c: Array
    beta: Array

    def __init__(self, *, key: Array):
        theta = 0.1 * jax.random.normal(key, (3,), dtype=jnp.result_type(float))
        self.c, self.beta = theta[:2], theta[2]

    def a(self, T: Float[Array, ...]) -> Float[Array, ...]:
        r"""The learned quadratic coefficient :math:`a_\theta(T) = c_0 + c_1 T`."""
        return self.c[0] + self.c[1] * T

    @property
    def b(self) -> Array:
        r"""The learned quartic coefficient :math:`b_\theta > 0`."""
        return jax.nn.softplus(self.beta)

    def __call__(self, m: Float[Array, ...], T: Float[Array, ...]) -> Float[Array, ...]:
        """:math:`dm/dt` for magnetizations and temperatures of one shape."""
        return _rhs(self.a(T), self.b, m)


class BlackBoxODE(eqx.Module):
    r"""A neural vector field conditioned on temperature: :math:`\dot m = \mathrm{MLP}_\theta(m, T)`.

    Inputs :math:`(m, T)`, two hidden tanh layers of ``width`` units, one linear output;
    equinox's default initialisation. Nothing tells it about the symmetry :math:`m \to -m`,
    the form of :math:`F` or the transition.

    Args:
        width: hidden width.
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP

    def __init__(self, width: int = 32, *, key: Array):
        self.mlp = _mlp(key, check_count(width, "width"))  # one compiled call for all the weights

    def __call__(self, m: Float[Array, ...], T: Float[Array, ...]) -> Float[Array, ...]:
        """:math:`dm/dt` for magnetizations and temperatures of one shape."""
        inputs = jnp.stack([m.reshape(-1), T.reshape(-1)], axis=-1)
        return jax.vmap(self.mlp)(inputs).reshape(m.shape)


@eqx.filter_jit
def _mlp(key: Array, width: int) -> eqx.nn.MLP:
    return eqx.nn.MLP(2, "scalar", width, 2, activation=jnp.tanh, key=key)


class _Exact(eqx.Module):
    """The true Landau vector field, as a model (coefficients ``(a0, Tc, b)``)."""

    coefficients: Array

    def __call__(self, m: Array, T: Array) -> Array:
        a0, Tc, b = self.coefficients.astype(m.dtype)
        return _rhs(a0 * (T - Tc), b, m)


Field = Callable[[Array, Array], Array]


def _field(model: Any) -> Any:
    if isinstance(model, LandauParams):
        return _Exact(_coefficients(model))
    if not callable(model):
        raise ValueError(
            f"the vector field must be a model, LandauParams or f(m, T), got {type(model).__name__}"
        )
    return model


# ------------------------------------------------------------------------------ rollouts


def _rk4_step(field: Field, m: Array, T: Array, h: Array) -> Array:
    k1 = field(m, T)
    k2 = field(m + h / 2 * k1, T)
    k3 = field(m + h / 2 * k2, T)
    k4 = field(m + h * k3, T)
    return m + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _rollout(field: Field, m0: Array, T: Array, times: Array, substeps: int) -> Array:
    h = jnp.repeat(jnp.diff(times) / substeps, substeps)  # one scan over every RK4 step
    step = lambda m, h: (_rk4_step(field, m, T, h),) * 2
    _, path = jax.lax.scan(step, m0, h)
    return jnp.moveaxis(jnp.concatenate([m0[None], path[substeps - 1 :: substeps]]), 0, -1)


@eqx.filter_jit
def _rollout_at(field: Field, m0: Array, T: Array, times: Array, substeps: int) -> Array:
    m0, T = _floats(m0, T)
    return _rollout(field, m0, T, times.astype(m0.dtype), substeps)


def rollout(
    field: Any,
    m0: Float[ArrayLike, ...],
    T: Float[ArrayLike, ...],
    times: Float[ArrayLike, " n_t"],
    *,
    substeps: int = 1,
) -> Float[Array, "... n_t"]:
    r"""Integrate :math:`\dot m = f(m, T)` by classical RK4 from :math:`m(0) = m_0`.

    Each interval :math:`[t_i, t_{i+1}]` is split into ``substeps`` equal steps
    :math:`h = (t_{i+1} - t_i)/k`, all in one ``lax.scan``, so the rollout is differentiable
    (:func:`train_ode` backpropagates through it). Global error :math:`O(h^4)`; the same
    method as :func:`physml.integrators.rk4`.

    Args:
        field: a :class:`StructuredLandau`, a :class:`BlackBoxODE`, :class:`LandauParams`
            (the true dynamics) or any ``f(m, T)`` acting elementwise on arrays of one shape.
        m0: initial magnetizations; ``T``: temperatures; broadcast together.
        times: increasing times from 0, shape ``(n_t,)``.
        substeps: RK4 steps per interval.

    Returns:
        :math:`m` at ``times``, shape ``broadcast(m0, T) + (n_t,)``; ``[..., 0]`` is :math:`m_0`.
    """
    field, substeps = _field(field), check_count(substeps, "substeps")
    return _rollout_at(field, _real(m0, "m0"), _real(T, "T"), _times(times), substeps)


def predicted_equilibrium(
    model: Any,
    T: Float[ArrayLike, ...],
    m0: Float[ArrayLike, ...] = 0.5,
    t_max: float = 100.0,
    *,
    dt: float = 0.1,
) -> Float[Array, ...]:
    r"""Where a model's relaxation ends up: :math:`m(t_{\max})` from :math:`m_0`, by RK4.

    With the true dynamics this is :math:`\operatorname{sign}(m_0)\, m^*` up to a factor
    :math:`e^{-\lambda t_{\max}}`, :math:`\lambda` the :func:`relaxation_rate` — slow near
    :math:`T_c`, where the relaxation time diverges (at :math:`T_c`,
    :math:`m \approx (2bt_{\max})^{-1/2}`: 0.07 for :math:`t_{\max} = 100`).

    Args:
        model: as ``field`` of :func:`rollout`.
        T: temperatures; ``m0``: initial magnetizations; broadcast together.
        t_max: integration time :math:`> 0`.
        dt: RK4 step, rounded so that it divides ``t_max``.

    Returns:
        :math:`m(t_{\max})`, the broadcast shape.
    """
    t_max = check_positive(t_max, "t_max")
    steps = max(1, round(t_max / check_positive(dt, "dt")))
    return rollout(model, m0, T, np.asarray([0.0, t_max]), substeps=steps)[..., -1]


# ------------------------------------------------------------------------------ training


def _check_data(data: Any) -> LandauData:
    if not isinstance(data, LandauData):
        raise ValueError(f"data must be a physml.landau.LandauData, got {type(data).__name__}")
    temperatures = _real(data.temperatures, "data.temperatures", ndim=1)
    times = _times(data.times)
    m0, m = _real(data.m0, "data.m0", ndim=2), _real(data.m, "data.m", ndim=3)
    if m0.shape[0] != temperatures.shape[0] or m.shape != (*m0.shape, times.shape[0]):
        raise ValueError(
            f"data.m0 must have shape (n_T, n_initial) and data.m (n_T, n_initial, n_t), with n_T = "
            f"{temperatures.shape[0]} and n_t = {times.shape[0]}; got {m0.shape} and {m.shape}"
        )
    dtype = jnp.result_type(m, float)
    return LandauData(*(jnp.asarray(x, dtype) for x in (temperatures, m0, times, m, m)))  # clean: unused


def _check_training(kind: Any, steps: Any, learning_rate: Any, width: Any, substeps: Any) -> tuple:
    if kind not in LEARNING_RATES:
        raise ValueError(f"kind must be 'structured' or 'blackbox', got {kind!r}")
    learning_rate = LEARNING_RATES[kind] if learning_rate is None else learning_rate
    return (
        check_count(steps, "steps"),
        check_positive(learning_rate, "learning_rate"),
        check_count(width, "width"),
        check_count(substeps, "substeps"),
    )


@eqx.filter_jit
def _new_model(key: Array, kind: str, width: int, dtype: Any) -> Any:
    model = StructuredLandau(key=key) if kind == "structured" else BlackBoxODE(width, key=key)
    return jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, model)


@eqx.filter_jit
def _new_models(keys: Array, kind: str, width: int, dtype: Any) -> Any:
    return eqx.filter_vmap(lambda key: _new_model(key, kind, width, dtype))(keys)


def _fit(model: Any, data: LandauData, hyper: Array, steps: int, substeps: int) -> tuple[Any, Array]:
    params, static = eqx.partition(model, eqx.is_inexact_array)
    schedule = optax.cosine_decay_schedule(hyper[0], steps)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))
    T = jnp.broadcast_to(data.temperatures[:, None], data.m0.shape)

    def loss(p: Any) -> Array:
        path = _rollout(eqx.combine(p, static), data.m0, T, data.times, substeps)
        return jnp.mean((path - data.m) ** 2)

    def step(carry: tuple, _: None) -> tuple[tuple, Array]:
        params, opt_state = carry
        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), length=steps)
    return eqx.combine(params, static), losses


_train = eqx.filter_jit(_fit)
_train_many = eqx.filter_jit(eqx.filter_vmap(_fit, in_axes=(eqx.if_array(0), 0, None, None, None)))


def train_ode(
    key: Array,
    kind: str,
    data: LandauData,
    *,
    steps: int = 1000,
    learning_rate: float | None = None,
    width: int = 32,
    substeps: int = 1,
) -> tuple[StructuredLandau | BlackBoxODE, Float[Array, " steps"]]:
    r"""Fit a neural ODE to relaxation trajectories by full-batch Adam through an RK4 rollout.

    Minimises the trajectory mean squared error
    :math:`\mathcal L = \langle (\hat m_\theta(t_j; m_0, T) - m_{\rm obs}(t_j))^2\rangle`,
    :math:`\hat m_\theta` from :func:`rollout` of the model with ``substeps`` RK4 steps per
    observation interval, its gradient by backpropagation through the solver (the
    discretise-then-optimise form of Chen et al. 2018). Adam, cosine-decayed step size,
    gradients clipped to norm 1 (an early diverging rollout otherwise throws a black box far
    off). One compiled ``lax.scan`` (recompiled only for a new kind, width, data shape, dtype,
    ``steps`` or ``substeps``; ``learning_rate`` is traced).

    Args:
        key: PRNG key for the initial parameters; the result is deterministic given it.
        kind: ``"structured"`` (:class:`StructuredLandau`) or ``"blackbox"`` (:class:`BlackBoxODE`).
        data: training trajectories, :class:`LandauData`.
        steps: number of Adam steps.
        learning_rate: Adam's initial step size; default 0.1 for the structured model (three
            parameters), 0.01 for the black box (``LEARNING_RATES``).
        width: hidden width of the black box (ignored for the structured model).
        substeps: RK4 steps per observation interval.

    Returns:
        the trained model and :math:`\mathcal L` at each step, shape ``(steps,)``.
    """
    data = _check_data(data)
    steps, learning_rate, width, substeps = _check_training(kind, steps, learning_rate, width, substeps)
    dtype = data.m.dtype
    model = _new_model(key, kind, width, dtype)
    return _train(model, data, jnp.asarray([learning_rate], dtype), steps, substeps)


def train_ensemble(
    keys: Array,
    kind: str,
    data: LandauData | list[LandauData],
    *,
    steps: int = 1000,
    learning_rate: float | None = None,
    width: int = 32,
    substeps: int = 1,
) -> tuple[list[Any], Float[Array, "k steps"]]:
    r"""Train :math:`k` models side by side, one per key (and per data set), vectorised by ``vmap``.

    The training of :func:`train_ode`, batched: a single small network leaves the processor
    mostly idle, so eight black boxes train in the time of about three and a half alone. A
    key gives the model of ``train_ode(key, ...)`` up to rounding — which a black box's
    training can amplify (module docstring).

    Args:
        keys: PRNG keys, shape ``(k,)`` (e.g. ``jax.random.split(key, k)``).
        kind: ``"structured"`` or ``"blackbox"``.
        data: one :class:`LandauData` for all models, or a list of ``k`` of one shape.
        steps: number of Adam steps.
        learning_rate: Adam's initial step size (default as in :func:`train_ode`).
        width: hidden width of the black boxes.
        substeps: RK4 steps per observation interval.

    Returns:
        the ``k`` trained models, and their losses, shape ``(k, steps)``.
    """
    if not (
        isinstance(keys, jax.Array) and keys.ndim == 1 and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key)
    ):
        raise ValueError(
            f"keys must be a 1-D array of PRNG keys (jax.random.split), got {type(keys).__name__} "
            f"of shape {np.shape(keys)}"
        )
    k = keys.shape[0]
    datasets = [_check_data(d) for d in ([data] * k if isinstance(data, LandauData) else data)]
    if len(datasets) != k or len({tuple(x.shape for x in d) for d in datasets}) != 1:
        raise ValueError(f"data must be one LandauData or a list of {k} of one shape (one per key)")
    steps, learning_rate, width, substeps = _check_training(kind, steps, learning_rate, width, substeps)
    dtype = datasets[0].m.dtype
    stacked = LandauData(*(jnp.asarray(np.stack(xs), dtype) for xs in zip(*datasets, strict=True)))
    models = _new_models(keys, kind, width, dtype)
    models, losses = _train_many(models, stacked, jnp.asarray([learning_rate], dtype), steps, substeps)
    host = jax.tree.map(lambda a: np.asarray(a) if eqx.is_array(a) else a, models)
    pick = lambda i: jax.tree.map(lambda a: jax.device_put(a[i]) if isinstance(a, np.ndarray) else a, host)
    return [pick(i) for i in range(k)], losses  # sliced on the host: no compiled program per leaf


def learned_tc(model: StructuredLandau) -> Float[Array, ""]:
    r"""The critical temperature of a :class:`StructuredLandau`, where :math:`a_\theta(T) = c_0 + c_1T`
    changes sign: :math:`T_c = -c_0/c_1`."""
    if not isinstance(model, StructuredLandau):
        raise ValueError(
            f"learned_tc needs a StructuredLandau (a black box has no T_c), got {type(model).__name__}"
        )
    return _tc(model.c)


@jax.jit
def _tc(c: Array) -> Array:
    return -c[0] / c[1]


# ------------------------------------------------------------------------- extrapolation


@eqx.filter_jit
def _extrapolate(field: Field, coefficients: Array, T: Array, m0: Array, times: Array, n: int, t_max: float):
    T, m0, times = (x.astype(jnp.result_type(T, float)) for x in (T, m0, times))
    a0, Tc, b = coefficients.astype(T.dtype)
    start = jnp.full_like(T, 0.5)
    m_star = _rollout(field, start, T, jnp.asarray([0.0, t_max], T.dtype), n)[:, -1]
    rate = -jax.jvp(lambda m: field(m, T), (m_star,), (jnp.ones_like(m_star),))[1]
    grid_m0, grid_T = (jnp.broadcast_to(x, (T.shape[0], m0.shape[0])) for x in (m0[None], T[:, None]))
    path = _rollout(field, grid_m0, grid_T, times, 4)
    grid = (*grid_m0.shape, times.shape[0])
    m0_, T_, t_ = (jnp.broadcast_to(x, grid) for x in (grid_m0[..., None], grid_T[..., None], times))
    exact = _solution(a0 * (T_ - Tc), b, m0_, t_)
    error = jnp.sqrt(jnp.mean((path - exact) ** 2, axis=(1, 2)))
    a = a0 * (T - Tc)
    return Extrapolation(
        T,
        m_star,
        jnp.sqrt(jnp.maximum(-a, 0.0) / b),
        rate,
        jnp.where(a > 0, a, -2 * a),
        error,
        times,
        path,
        exact,
    )


def extrapolation(
    model: Any,
    params: LandauParams,
    temperatures: Float[ArrayLike, " k"],
    *,
    m0: Float[ArrayLike, " n_initial"] = (-1.0, -0.3, 0.3, 1.0),
    times: Float[ArrayLike, " n_t"] | None = None,
    t_max: float = 100.0,
) -> Extrapolation:
    r"""Compare a model with Landau theory at given temperatures (say, above :math:`T_c`).

    Measures the state reached from :math:`m_0 = 0.5` after :math:`t_{\max}` (as
    :func:`predicted_equilibrium`, steps of 0.1), the linear relaxation rate
    :math:`-\partial_m f_\theta(m^*, T)` there, and the RMS error against :func:`landau_solution`
    of the trajectories from ``m0`` over ``times`` (four RK4 steps per interval, so that the
    error is the vector field's, not the solver's: :math:`< 10^{-5}` for the true field). The
    compared trajectories are returned too, for plotting. One compiled program per model type
    and shape.

    Args:
        model: as ``field`` of :func:`rollout`.
        params: the true :class:`LandauParams`.
        temperatures: shape ``(k,)``.
        m0: initial values of the compared trajectories, shape ``(n_initial,)``.
        times: their observation times, from 0; default 21 points on [0, 8].
        t_max: integration time for the equilibrium.

    Returns:
        :class:`Extrapolation`.
    """
    field, coefficients = _field(model), _coefficients(params)
    temperatures = _real(temperatures, "temperatures", ndim=1)
    m0 = _real(m0, "m0", ndim=1)
    times = _times(np.linspace(0.0, 8.0, 21) if times is None else times)
    t_max = check_positive(t_max, "t_max")
    return _extrapolate(field, coefficients, temperatures, m0, times, max(1, round(t_max / 0.1)), t_max)
