r"""Symplectic maps from a learned generating function: a network whose every output is a
canonical transformation.

A type-2 generating function :math:`F_2(q, P) = q\cdot P + G(q, P)` defines a map
:math:`(q, p) \mapsto (Q, P)` of :math:`\mathbb{R}^{2d}` by

.. math::

    p = \frac{\partial F_2}{\partial q} = P + \nabla_q G(q, P), \qquad
    Q = \frac{\partial F_2}{\partial P} = q + \nabla_P G(q, P).

The first equation is implicit in :math:`P`; :class:`GeneratingMap` solves it by Newton's
method, :math:`P \leftarrow P - (I + \nabla_P\nabla_q G)^{-1}(P + \nabla_q G - p)`. Whatever
:math:`G` is, the map is exactly symplectic, :math:`J^\top\Omega J = \Omega` with
:math:`J = \partial(Q, P)/\partial(q, p)` and :math:`\Omega = \begin{pmatrix}0 & I\\ -I & 0\end{pmatrix}`
(up to the solve's accuracy): :math:`dF_2 = p\,dq + Q\,dP + d(q\cdot P)` makes
:math:`p\,dq - P\,dQ` exact, so :math:`dq\wedge dp = dQ\wedge dP`. It needs
:math:`I + \nabla_P\nabla_q G` invertible, so :math:`G` small — a map near the identity, as one
time step is.

With :math:`G = hH(q, P)` for :math:`H = T(p) + V(q)` the equations are explicit:
:math:`P = p - h\nabla V(q)`, :math:`Q = q + h\nabla T(P)` — symplectic Euler in its
kick-drift order (:func:`physml.integrators.symplectic_euler`). A network
:math:`G_\theta = h\,g_\theta` (:class:`GeneratorMLP`) trained on pairs of the exact time-:math:`h`
flow (:func:`map_data`, :func:`train_map`) learns a symplectic step, whose energy stays bounded
along :func:`iterate`; a network :math:`x + h\,\mathrm{MLP}(x)` (:class:`MLPMap`) of the same
accuracy is not symplectic (:func:`symplecticity_residual`), and its energy drifts.

Measured (pendulum, :math:`h = 0.1`, 256 pairs, 1000 steps, float32, key 1): both networks
learn the step to a relative error of 0.009 (explicit Euler's is 0.038); the symplecticity
residual of the generating map is :math:`10^{-7}` (float32 rounding;
:math:`10^{-16}` in float64), of the MLP map :math:`3\times10^{-3}`, of explicit Euler
:math:`h^2\cos q`. Along :math:`10^4` steps from :math:`(q, p) = (1, 0)`, :math:`H = -0.540`,
the generating map's energy stays in :math:`[-0.549, -0.540]` with the same mean at the
start and at the end, while the MLP map's spirals into the bottom of the well
(:math:`H \to -0.98`); from :math:`(2, 0)`, :math:`H = 0.416`, the generating map's stays in
:math:`[0.409, 0.418]` and the MLP map's falls to 0.12. Which way a non-symplectic map
drifts depends on its weights (the chapter's spirals outwards); that it drifts does not.

References: H. Goldstein, *Classical Mechanics*, chapter 9; E. Hairer, C. Lubich and
G. Wanner, *Geometric Numerical Integration* (Springer, 2006), section VI.5; R. Chen and
M. Tao, *Data-driven prediction of general Hamiltonian dynamics via learning
exactly-symplectic maps*, ICML (2021).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_count, check_positive, is_real
from ._training import adam_scan, tanh_mlp
from .integrators import Hamiltonian, Integrator, State, rk4

__all__ = [
    "GeneratingMap",
    "GeneratorMLP",
    "MLPMap",
    "MapData",
    "integrator_map",
    "iterate",
    "map_data",
    "map_error",
    "phase_energy",
    "symplecticity_residual",
    "train_map",
]

KINDS = ("generating", "mlp")


def _split(x: Array) -> tuple[Array, Array]:
    d = x.shape[-1] // 2
    return x[..., :d], x[..., d:]


def _check_states(x: Any, name: str = "x", batch: bool | None = None) -> Array:
    """Phase-space points ``(..., 2d)`` (``(2d,)`` if ``batch`` is False, ``(n, 2d)`` if True)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{name} must be a float array, got dtype {x.dtype}")
    ndim_ok = x.ndim >= 1 if batch is None else x.ndim == (2 if batch else 1)
    if not ndim_ok or x.shape[-1] == 0 or x.shape[-1] % 2:
        shape = {None: "(..., 2d)", True: "(n, 2d)", False: "(2d,)"}[batch]
        raise ValueError(f"{name} must have shape {shape} with an even last axis (q, p), got {x.shape}")
    if not isinstance(x, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


# ----------------------------------------------------------------------------- the maps


class GeneratorMLP(eqx.Module):
    r"""A generating function :math:`G_\theta(q, P) = s\, g_\theta(q, P)`, :math:`g_\theta` an MLP
    ``2d → width → width → 1`` (tanh).

    With the scale :math:`s` the time step :math:`h`, :math:`g_\theta` learns a function of
    order one (:math:`g \approx H` for small :math:`h`).

    Args:
        dim: degrees of freedom :math:`d`.
        width: hidden width.
        scale: :math:`s > 0`.
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP
    scale: float = eqx.field(static=True)

    def __init__(self, dim: int, width: int = 32, *, scale: float = 1.0, key: Array):
        dim, width = check_count(dim, "dim"), check_count(width, "width")
        self.mlp = tanh_mlp(2 * dim, "scalar", width, 2, key)
        self.scale = check_positive(scale, "scale")

    def __call__(self, q: Float[Array, " d"], P: Float[Array, " d"]) -> Float[Array, ""]:
        return self.scale * self.mlp(jnp.concatenate([q, P]))


class GeneratingMap(eqx.Module):
    r"""The canonical map of the generating function :math:`q\cdot P + G(q, P)`:
    :math:`p = P + \nabla_q G(q, P)`, :math:`Q = q + \nabla_P G(q, P)`.

    ``GeneratingMap(GeneratorMLP(d, key=key))`` is a learnable symplectic map;
    ``GeneratingMap(lambda q, P: h * H(q, P))`` is the map of any given :math:`G`. The
    implicit equation is solved by ``n_newton`` Newton steps (``jax.jacfwd`` for the
    :math:`d\times d` matrix :math:`I + \nabla_P\nabla_q G`) from the fixed-point guess
    :math:`P_0 = p - \nabla_q G(q, p)`, which converge quadratically when :math:`G` is small
    (for :math:`G = h\,g` the guess is off by :math:`O(h^2)`); :meth:`implicit_residual`
    tells how well. Autodiff goes through the last step (:meth:`solve`).

    Attributes:
        generator: :math:`G(q, P)`, two arrays of shape ``(d,)`` to a scalar.
        n_newton: number of Newton steps.
    """

    generator: Callable[[Array, Array], Array]
    n_newton: int = eqx.field(static=True, default=3)

    def __check_init__(self) -> None:
        if not callable(self.generator):
            raise ValueError(f"generator must be a function G(q, P), got {type(self.generator).__name__}")
        check_count(self.n_newton, "n_newton")

    def _residual(self, q: Array, p: Array, P: Array) -> Array:
        return P + jax.grad(self.generator, argnums=0)(q, P) - p

    def _newton(self, q: Array, p: Array, P: Array) -> Array:
        def residual(P: Array) -> tuple[Array, Array]:
            r = self._residual(q, p, P)
            return r, r

        A, r = jax.jacfwd(residual, has_aux=True)(P)
        return P - (r / A[0, 0] if P.shape[0] == 1 else jnp.linalg.solve(A, r))

    def solve(self, x: Float[Array, " 2d"]) -> Float[Array, " d"]:
        r"""The new momentum :math:`P`, the root of :math:`P + \nabla_q G(q, P) - p`.

        Derivatives (by the state or by parameters in :math:`G`) flow through the last Newton
        step only: Newton's iteration map has zero derivative at its fixed point, so at the
        root one step's derivative is the implicit function's,
        :math:`\partial P/\partial\cdot = -(I + \nabla_P\nabla_q G)^{-1}\partial r/\partial\cdot`,
        and the backward pass costs one step, not ``n_newton`` (S. Bolte, E. Pauwels and
        S. Vaiter, *One-step differentiation of iterative algorithms*, NeurIPS 2023). Their
        error is that of the last step's input, so they converge one step after :math:`P`:
        with :math:`G = s\,g` for a random tanh MLP :math:`g`, the symplecticity residual is
        :math:`10^{-10}` after 2 steps and :math:`10^{-16}` after 3 at :math:`s = 0.3`.
        """
        q, p = _split(x)
        params, static = eqx.partition((self, q, p), eqx.is_array)
        frozen, q0, p0 = eqx.combine(jax.lax.stop_gradient(params), static)
        P = p0 - jax.grad(frozen.generator, argnums=0)(q0, p0)
        for _ in range(self.n_newton - 1):
            P = frozen._newton(q0, p0, P)
        return self._newton(q, p, P)

    def implicit_residual(self, x: Float[Array, " 2d"]) -> Float[Array, " d"]:
        r"""How well :meth:`solve` solved the implicit equation: :math:`P + \nabla_q G(q, P) - p`."""
        q, p = _split(x)
        return self._residual(q, p, self.solve(x))

    def __call__(self, x: Float[Array, " 2d"]) -> Float[Array, " 2d"]:
        q, _ = _split(x)
        P = self.solve(x)
        return jnp.concatenate([q + jax.grad(self.generator, argnums=1)(q, P), P])


class MLPMap(eqx.Module):
    r"""A generic (not symplectic) map :math:`x \mapsto x + s\,\mathrm{MLP}_\theta(x)`, MLP
    ``2d → width → width → 2d`` (tanh), for comparison with :class:`GeneratingMap`.

    Args:
        dim: degrees of freedom :math:`d`.
        width: hidden width.
        scale: :math:`s > 0` (the time step, so that the MLP learns a velocity).
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP
    scale: float = eqx.field(static=True)

    def __init__(self, dim: int, width: int = 32, *, scale: float = 1.0, key: Array):
        dim, width = check_count(dim, "dim"), check_count(width, "width")
        self.mlp = tanh_mlp(2 * dim, 2 * dim, width, 2, key)
        self.scale = check_positive(scale, "scale")

    def __call__(self, x: Float[Array, " 2d"]) -> Float[Array, " 2d"]:
        return x + self.scale * self.mlp(x)


def integrator_map(integrator: Integrator, dt: float) -> Callable[[Array], Array]:
    r"""One step of a :class:`physml.integrators.Integrator` as a map of phase space,
    :math:`x = (q, p) \mapsto (q_1, p_1)`, for :func:`symplecticity_residual` and :func:`iterate`.

    Args:
        integrator: e.g. ``physml.integrators.euler(pendulum())``.
        dt: the step :math:`h`.
    """
    if not isinstance(integrator, Integrator):
        raise ValueError(
            f"integrator must be a physml.integrators.Integrator, got {type(integrator).__name__}"
        )
    if not (is_real(dt) and math.isfinite(dt)):
        raise ValueError(f"dt must be a finite number, got {dt!r}")

    def step(x: Array) -> Array:
        q, p = _split(x)
        new = integrator.step(State(q, p, jnp.zeros((), x.dtype)), dt)
        return jnp.concatenate([new.q, new.p])

    return step


# ------------------------------------------------------------------------ diagnostics


def symplecticity_residual(
    map_fn: Callable[[Array], Array], x: Float[ArrayLike, "... 2d"]
) -> Float[Array, ...]:
    r"""How far a map is from symplectic at ``x``,
    :math:`\max_{ij}\lvert(J^\top\Omega J - \Omega)_{ij}\rvert` with :math:`J = \partial\Phi/\partial x`
    by ``jax.jacfwd``.

    Args:
        map_fn: :math:`\Phi`, ``(2d,) -> (2d,)``.
        x: states, shape ``(..., 2d)``, ordered :math:`(q_1..q_d, p_1..p_d)`.

    Returns:
        the residual at each state, shape ``(...)``.
    """
    if not callable(map_fn):
        raise ValueError(f"map_fn must be a function (2d,) -> (2d,), got {type(map_fn).__name__}")
    x = _check_states(x)
    return _symplecticity(map_fn, x.reshape(-1, x.shape[-1])).reshape(x.shape[:-1])


@eqx.filter_jit
def _symplecticity(map_fn: Callable, x: Array) -> Array:
    d = x.shape[-1] // 2
    eye, zero = jnp.eye(d, dtype=x.dtype), jnp.zeros((d, d), x.dtype)
    omega = jnp.block([[zero, eye], [-eye, zero]])

    def one(z: Array) -> Array:
        J = jax.jacfwd(map_fn)(z)
        return jnp.max(jnp.abs(J.T @ omega @ J - omega))

    return jax.vmap(one)(x)


@eqx.filter_jit
def _iterate(map_fn: Callable, x0: Array, n: int) -> Array:
    def step(x: Array, _: None) -> tuple[Array, Array]:
        y = map_fn(x)
        return y, y

    _, xs = jax.lax.scan(step, x0, length=n)
    return jnp.concatenate([x0[None], xs])


def iterate(map_fn: Callable[[Array], Array], x0: Float[ArrayLike, " 2d"], n: int) -> Float[Array, "n+1 2d"]:
    r"""The orbit :math:`x_0, \Phi(x_0), \dots, \Phi^n(x_0)` of a map, one compiled ``lax.scan``.

    Args:
        map_fn: :math:`\Phi`, ``(2d,) -> (2d,)`` (a model, or :func:`integrator_map`).
        x0: the initial state, shape ``(2d,)``.
        n: number of iterations.

    Returns:
        the states, shape ``(n + 1, 2d)``.
    """
    if not callable(map_fn):
        raise ValueError(f"map_fn must be a function (2d,) -> (2d,), got {type(map_fn).__name__}")
    return _iterate(map_fn, _check_states(x0, "x0", batch=False), check_count(n, "n"))


def phase_energy(system: Hamiltonian, x: Float[ArrayLike, "... 2d"]) -> Float[Array, ...]:
    r"""The energy :math:`H(q, p) = T(p) + V(q)` of states :math:`x = (q, p)`, shape ``(...)``."""
    if not isinstance(system, Hamiltonian):
        raise ValueError(f"system must be a physml.integrators.Hamiltonian, got {type(system).__name__}")
    x = _check_states(x)
    return _phase_energy(system, x)


@eqx.filter_jit
def _phase_energy(system: Hamiltonian, x: Array) -> Array:
    q, p = _split(x.reshape(-1, x.shape[-1]))
    return (jax.vmap(system.kinetic)(p) + jax.vmap(system.potential)(q)).reshape(x.shape[:-1])


# ----------------------------------------------------------------------------- the data


class MapData(NamedTuple):
    r"""Pairs of states one time step apart under the exact flow (:func:`map_data`).

    Attributes:
        x: initial states :math:`(q, p)`, shape ``(n, 2d)``.
        y: :math:`\Phi_h(x)`, shape ``(n, 2d)``.
        dt: the time step :math:`h`.
    """

    x: Array
    y: Array
    dt: float


@eqx.filter_jit
def _flow(system: Hamiltonian, x: Array, h: Array, substeps: int) -> Array:
    step = rk4(system).step

    def one(z: Array) -> Array:
        q, p = _split(z)
        s = jax.lax.fori_loop(0, substeps, lambda _, s: step(s, h), State(q, p, jnp.zeros((), z.dtype)))
        return jnp.concatenate([s.q, s.p])

    return jax.vmap(one)(x)


def map_data(
    key: Array,
    system: Hamiltonian,
    n: int,
    dt: float,
    *,
    dim: int = 1,
    q_max: float = 2.5,
    p_max: float = 2.0,
    substeps: int = 32,
) -> MapData:
    r"""``n`` states uniform in :math:`[-q_{max}, q_{max}]^d\times[-p_{max}, p_{max}]^d` and their
    images under the time-:math:`h` flow of ``system``, by ``substeps`` steps of
    :func:`physml.integrators.rk4` (error :math:`O(h (h/m)^4)` for :math:`m` substeps).

    Args:
        key: PRNG key.
        system: a :class:`physml.integrators.Hamiltonian`, e.g. ``pendulum()``.
        n: number of pairs.
        dt: the time step :math:`h > 0`.
        dim: degrees of freedom :math:`d`.
        q_max: half-width of the box of coordinates (the default 2.5 and ``p_max`` = 2 hold
            every pendulum libration of amplitude up to 2.5, :math:`H = -\cos 2.5 = 0.80`).
        p_max: half-width of the box of momenta.
        substeps: RK4 steps per time step.

    Returns:
        :class:`MapData` in JAX's default float dtype.
    """
    if not isinstance(system, Hamiltonian):
        raise ValueError(f"system must be a physml.integrators.Hamiltonian, got {type(system).__name__}")
    n, dim, substeps = check_count(n, "n"), check_count(dim, "dim"), check_count(substeps, "substeps")
    dt, q_max, p_max = (
        check_positive(dt, "dt"),
        check_positive(q_max, "q_max"),
        check_positive(p_max, "p_max"),
    )
    dtype = jnp.result_type(float)
    half = jnp.concatenate([jnp.full(dim, q_max, dtype), jnp.full(dim, p_max, dtype)])
    x = jax.random.uniform(key, (n, 2 * dim), dtype, -1.0, 1.0) * half[None]
    y = _flow(system, x, jnp.asarray(dt / substeps, dtype), substeps)
    return MapData(x, y, dt)


# ------------------------------------------------------------------------------ training


def _check_data(data: Any) -> MapData:
    if not isinstance(data, MapData):
        raise ValueError(f"data must be a physml.generating.MapData, got {type(data).__name__}")
    x = _check_states(data.x, "data.x", batch=True)
    y = _check_states(jnp.asarray(data.y, x.dtype), "data.y", batch=True)
    if y.shape != x.shape:
        raise ValueError(f"data.y has shape {y.shape}, data.x {x.shape}")
    return MapData(x, y, check_positive(data.dt, "data.dt"))


def map_error(map_fn: Callable[[Array], Array], data: MapData) -> Float[Array, ""]:
    r"""The relative error of a learned step,
    :math:`\big(\sum\lVert\Phi_\theta(x) - y\rVert^2 / \sum\lVert y - x\rVert^2\big)^{1/2}`
    (1 is as bad as the identity map).

    Args:
        map_fn: :math:`\Phi_\theta`, ``(2d,) -> (2d,)``.
        data: :class:`MapData`.
    """
    if not callable(map_fn):
        raise ValueError(f"map_fn must be a function (2d,) -> (2d,), got {type(map_fn).__name__}")
    data = _check_data(data)
    return _map_error(map_fn, data.x, data.y)


@eqx.filter_jit
def _map_error(map_fn: Callable, x: Array, y: Array) -> Array:
    return jnp.sqrt(jnp.sum((jax.vmap(map_fn)(x) - y) ** 2) / jnp.sum((y - x) ** 2))


@eqx.filter_jit
def _train(model: Any, x: Array, y: Array, hyper: Array, steps: int) -> tuple[Any, Array]:
    def loss(m: Any) -> Array:
        return jnp.mean(jnp.sum((jax.vmap(m)(x) - y) ** 2, axis=-1)) / hyper[1] ** 2

    return adam_scan(model, loss, hyper[0], steps)


def train_map(
    key: Array,
    kind: str,
    data: MapData,
    *,
    steps: int = 2000,
    learning_rate: float = 1e-2,
    width: int = 32,
    n_newton: int = 3,
) -> tuple[GeneratingMap | MLPMap, Float[Array, " steps"]]:
    r"""Fit a map to pairs of the flow by full-batch Adam (cosine-decayed step) on
    :math:`\mathcal L = \frac{1}{n h^2}\sum_k \lVert\Phi_\theta(x_k) - y_k\rVert^2`.

    ``kind="generating"``: ``GeneratingMap(GeneratorMLP(d, width, scale=h), n_newton)``,
    differentiated through its (last) Newton step; ``kind="mlp"``: ``MLPMap(d, width, scale=h)``.
    One compiled ``lax.scan`` (``learning_rate`` traced).

    Args:
        key: PRNG key for the initial weights.
        kind: ``"generating"`` or ``"mlp"``.
        data: :class:`MapData`.
        steps: number of Adam steps.
        learning_rate: Adam's initial step size.
        width: hidden width.
        n_newton: Newton steps of the generating map.

    Returns:
        the trained map and :math:`\mathcal L` at each step, shape ``(steps,)``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    data = _check_data(data)
    steps, learning_rate = check_count(steps, "steps"), check_positive(learning_rate, "learning_rate")
    d, dtype = data.x.shape[1] // 2, data.x.dtype
    if kind == "generating":
        model = GeneratingMap(
            GeneratorMLP(d, width, scale=data.dt, key=key), check_count(n_newton, "n_newton")
        )
    else:
        model = MLPMap(d, width, scale=data.dt, key=key)
    model = jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, model)
    hyper = jnp.asarray([learning_rate, data.dt], dtype)
    return _train(model, data.x, data.y, hyper, steps)
