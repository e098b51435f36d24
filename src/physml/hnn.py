r"""Hamiltonian neural networks: learning a vector field that conserves an energy by construction.

A Hamiltonian system with coordinates :math:`q \in \mathbb{R}^d` and momenta :math:`p` moves by
Hamilton's equations; with the state :math:`x = (q, p) \in \mathbb{R}^{2d}` they read

.. math::

    \dot q = \frac{\partial H}{\partial p}, \quad \dot p = -\frac{\partial H}{\partial q}
    \qquad\Longleftrightarrow\qquad
    \dot x = \Omega\,\nabla H(x), \quad \Omega = \begin{pmatrix}0 & I_d\\ -I_d & 0\end{pmatrix}.

A field of this form has two properties *whatever* :math:`H` is. Its Jacobian
:math:`A = \Omega\,\nabla^2 H` is a Hamiltonian matrix, :math:`A^\top\Omega + \Omega A =
\nabla^2H^\top - \nabla^2 H = 0`, so the field is divergence-free,
:math:`\operatorname{tr} A = 0` (Liouville: the flow preserves phase-space volume), and along
its exact flow :math:`\dot H = \nabla H^\top\Omega\,\nabla H = 0` (:math:`\Omega` is
antisymmetric): :math:`H` is conserved.

A *Hamiltonian neural network* (:class:`HNN`, Greydanus, Dzamba & Yosinski 2019) learns a
scalar :math:`H_\theta(x)` and predicts :math:`\dot x = \Omega\,\nabla H_\theta(x)`, the
gradient taken by autodiff. Both properties then hold for every :math:`\theta` — before, during
and after training — and the flow of the learned field conserves :math:`H_\theta` exactly. A
:class:`Baseline` network predicts :math:`\dot x = f_\theta(x)` directly: nothing forbids a
small divergence, and a small divergence is what makes a trajectory spiral in or out,
step after step, over a long rollout. Both are trained (:func:`train`) on the same noisy
samples of :math:`(x, \dot x)` (:func:`phase_space_data`), by the squared error of the
predicted field, and rolled out from the same initial states (:func:`rollout`,
:func:`compare_rollouts`); the true energy along a rollout (:func:`energy_error`) tells them
apart.

Energies are measured from the bottom of the well, :math:`E(x) = H(x) - H(0)`: the spring
:math:`\frac12(p^2 + \omega^2q^2)` and, for :func:`physml.integrators.pendulum` (whose
:math:`H = \frac12p^2 - \omega_0^2\cos q`), :math:`E = \frac12 p^2 + \omega_0^2(1 - \cos q)`.

What the measurements show (the chapter's recipe: 25 trajectories of 30 points over
:math:`t \in [0, 3]`, energies in :math:`[0.2, 1]`, noise 0.1; width 64, 2000 Adam steps;
four initial states rolled out to :math:`t = 300`; five seeds, float32 and float64 data): both
networks fit the field equally well — training loss at the noise floor, 0.018–0.021 on the
spring and 0.016–0.019 on the pendulum, and :math:`4\times10^{-4}`–:math:`1.3\times10^{-3}`
on clean held-out data — and both lose the phase by :math:`t \approx 100` (rollout errors
the size of the orbit). The energy tells them apart: the HNN's relative error oscillates and
stays bounded, 0.004–0.03 at :math:`t = 300` (median over the states; never above 0.12),
while the baseline's drifts, to 0.3–1 when its orbits spiral in and beyond :math:`10^2` when
they spiral out; the ratio is 20 or more for every seed — what Greydanus et al. found. At
:math:`t = 10` the two are comparable (0.004–0.05 against 0.01–0.18). ``tests/test_hnn.py``
holds three seeds to a tenfold ratio.

Reference: S. Greydanus, M. Dzamba and J. Yosinski, *Hamiltonian Neural Networks*, NeurIPS
2019 (arXiv:1906.01563).
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

from ._checks import check_count, check_positive, is_real, to_device
from ._training import adam_scan, draw_blocks, tanh_mlp
from .integrators import Hamiltonian

__all__ = [
    "HNN",
    "Baseline",
    "PhaseData",
    "RolloutComparison",
    "compare_rollouts",
    "energy_error",
    "field_loss",
    "phase_space_data",
    "rollout",
    "sample_states",
    "train",
    "true_field",
]

# RK4 steps of the reference integration per recorded interval (data and true rollouts)
_SUBSTEPS = 10


# ----------------------------------------------------------------------------- the physics


def _symplectic(g: Array) -> Array:
    """:math:`\\Omega g` for :math:`g = (g_q, g_p)`: the vector :math:`(g_p, -g_q)`."""
    d = g.shape[-1] // 2
    return jnp.concatenate([g[..., d:], -g[..., :d]], axis=-1)


def _check_system(system: Any) -> Hamiltonian:
    if not isinstance(system, Hamiltonian):
        raise ValueError(
            "system must be a physml.integrators.Hamiltonian(kinetic, potential), such as "
            f"harmonic_oscillator() or pendulum(); got {type(system).__name__}"
        )
    return system


def _total(system: Hamiltonian, x: Array) -> Array:
    d = x.shape[-1] // 2
    return system.kinetic(x[d:]) + system.potential(x[:d])


def true_field(system: Hamiltonian) -> Callable[[Array], Array]:
    r"""The true vector field :math:`\dot x = \Omega\,\nabla H(x)` of a system, on flat states.

    Args:
        system: a :class:`physml.integrators.Hamiltonian`.

    Returns:
        a function from one state :math:`x = (q, p)`, shape ``(2d,)``, to :math:`\dot x`, shape ``(2d,)``.
    """
    return _TrueField(_check_system(system))


class _TrueField(eqx.Module):
    """``true_field`` as a module: one compiled rollout serves every call with the same system."""

    system: Hamiltonian

    def __call__(self, x: Array) -> Array:
        return _symplectic(jax.grad(lambda y: _total(self.system, y))(x))


@eqx.filter_jit
def _energies(system: Hamiltonian, x: Array) -> Array:
    """:math:`H(x) - H(0)` over the leading axes of ``x`` (shape ``(..., 2d)``)."""
    flat = x.reshape(-1, x.shape[-1])
    ground = _total(system, jnp.zeros_like(flat[0]))
    return (jax.vmap(lambda y: _total(system, y))(flat) - ground).reshape(x.shape[:-1])


# -------------------------------------------------------------------------- integration


def _rk4_step(field: Callable, x: Array, h: Array) -> Array:
    k1 = field(x)
    k2 = field(x + h / 2 * k1)
    k3 = field(x + h / 2 * k2)
    k4 = field(x + h * k3)
    return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _path(field: Callable, x0: Array, h: Array, n_records: int, every: int) -> Array:
    """``n_records`` records, one every ``every`` RK4 steps of size ``h``, after ``x0``."""

    def block(x: Array, _: None) -> tuple[Array, Array]:
        x = jax.lax.fori_loop(0, every, lambda _, y: _rk4_step(field, y, h), x)
        return x, x

    _, xs = jax.lax.scan(block, x0, length=n_records)
    return jnp.concatenate([x0[None], xs])


@eqx.filter_jit
def _paths(field: Callable, x0: Array, h: Array, n_records: int, every: int) -> Array:
    return jax.vmap(lambda x: _path(field, x, h, n_records, every))(x0)


# ------------------------------------------------------------------------------ the data


def _check_energy_range(energy_range: Any) -> tuple[float, float]:
    ok = isinstance(energy_range, tuple | list) and len(energy_range) == 2
    if not (ok and all(is_real(e) and math.isfinite(e) for e in energy_range)):
        raise ValueError(f"energy_range must be a pair of numbers (lo, hi), got {energy_range!r}")
    lo, hi = (float(e) for e in energy_range)
    if not 0 < lo <= hi:
        raise ValueError(f"energy_range must satisfy 0 < lo <= hi, got {energy_range!r}")
    return lo, hi


def _shell_states(
    system: Hamiltonian, uniform: Array, normal: Array, bounds: Array, n: int, d: int
) -> tuple[Array, Array]:
    """``n`` states on random energy shells (see ``sample_states``) from blocks of random
    numbers (``draw_blocks``), and the largest relative mismatch between the starting energies and
    their targets (0 when :math:`T = |p|^2/2`)."""
    uniform, normal = uniform[: 2 * n].reshape(n, 2), normal[: n * d].reshape(n, d)
    target = bounds[0] + (bounds[1] - bounds[0]) * uniform[:, 0]
    p = jnp.sqrt(2 * target)[:, None] * normal / jnp.linalg.norm(normal, axis=1, keepdims=True)
    x0 = jnp.concatenate([jnp.zeros_like(p), p], axis=1)
    mismatch = jnp.max(jnp.abs(_energies(system, x0) / target - 1))
    # one period 2π/ω of small oscillations, ω² = tr ∇²V(0) / d the mean curvature of V at 0
    curvature = jnp.trace(jax.hessian(system.potential)(jnp.zeros(d, bounds.dtype))) / d
    h = 2 * jnp.pi * uniform[:, 1] / jnp.sqrt(curvature) / 64
    x = jax.vmap(lambda a, s: _path(_TrueField(system), a, s, 1, 64)[-1])(x0, h)
    return x, jnp.where(curvature > 0, mismatch, jnp.inf)


def _random_numbers(key: Array, n: int, d: int, dtype: Any) -> tuple[Array, Array]:
    """Blocks of uniform (2n) and normal (nd) numbers for ``_shell_states``."""
    k_uniform, k_normal = jax.random.split(key)
    return draw_blocks(k_uniform, False, 2 * n, dtype), draw_blocks(k_normal, True, n * d, dtype)


def _check_shell(mismatch: Array) -> None:
    if not float(mismatch) < 1e-4:
        raise ValueError(
            "random states need a kinetic energy T(p) = |p|^2 / 2 (unit mass) and a potential with "
            "a strict minimum at q = 0, as in harmonic_oscillator() and pendulum()"
        )


_sample = eqx.filter_jit(_shell_states)


def sample_states(
    key: Array, system: Hamiltonian, n: int, *, dof: int = 1, energy_range: tuple[float, float] = (0.2, 1.0)
) -> Float[Array, "n dim"]:
    r"""Random states of a system with energies :math:`E = H(x) - H(0)` uniform in a range.

    Each state starts at the bottom of the well, :math:`q = 0`, :math:`p = \sqrt{2E}\,\hat u`
    (:math:`\hat u` a random unit vector; this needs :math:`T = \frac12\lVert p\rVert^2` and the
    minimum of :math:`V` at :math:`q = 0`), and is carried along its orbit by the true flow for
    a random time in :math:`[0, 2\pi/\omega)`, :math:`\omega^2 = \operatorname{tr}\nabla^2V(0)/d`
    (for :math:`d = 1`, one period of small oscillations): a random phase.

    Args:
        key: PRNG key.
        system: a :class:`physml.integrators.Hamiltonian`, e.g. ``harmonic_oscillator()``.
        n: number of states.
        dof: degrees of freedom :math:`d`.
        energy_range: ``(lo, hi)`` with :math:`0 < lo \le hi`, in the system's energy units.

    Returns:
        the states :math:`x = (q, p)`, shape ``(n, 2d)``, in JAX's default float dtype.
    """
    system = _check_system(system)
    n, d = check_count(n, "n"), check_count(dof, "dof")
    bounds = jnp.asarray(_check_energy_range(energy_range), jnp.result_type(float))
    x, mismatch = _sample(system, *_random_numbers(key, n, d, bounds.dtype), bounds, n, d)
    _check_shell(mismatch)
    return x


class PhaseData(NamedTuple):
    r"""Samples of a vector field along trajectories (:func:`phase_space_data`).

    Attributes:
        x: states :math:`x = (q, p)` (with noise), shape ``(n, 2d)``, trajectory by trajectory.
        dx: time derivatives :math:`\dot x` (with noise), shape ``(n, 2d)``.
        t: the time of each sample on its trajectory, shape ``(n,)``.
        energy: the true energy :math:`E = H - H(0)` of each sample's trajectory, shape ``(n,)``.
        trajectory: the index of each sample's trajectory, integers, shape ``(n,)``.
    """

    x: Array
    dx: Array
    t: Array
    energy: Array
    trajectory: Array


def phase_space_data(
    key: Array,
    system: Hamiltonian,
    n_trajectories: int,
    *,
    points: int = 30,
    t_max: float = 3.0,
    energy_range: tuple[float, float] = (0.2, 1.0),
    noise: float = 0.1,
    dof: int = 1,
) -> PhaseData:
    r"""Training data as in Greydanus et al. (2019): noisy states and derivatives along trajectories.

    Initial states come from :func:`sample_states`; each trajectory is integrated by RK4 with
    10 steps between samples, and sampled at ``points`` times :math:`t_k = k\,t_{\max}/(\text{points} - 1)`;
    the derivatives are the true field :math:`\Omega\nabla H` at the clean states. Then
    independent Gaussian noise of standard deviation :math:`\sigma` = ``noise`` is added to every
    component of the states and of the derivatives. (Greydanus et al. add it to the states only.)

    Args:
        key: PRNG key; the clean trajectories depend on it alone, not on ``noise``.
        system: a :class:`physml.integrators.Hamiltonian` with :math:`T = \frac12\lVert p\rVert^2`.
        n_trajectories: number of trajectories.
        points: samples per trajectory, at least 2.
        t_max: length of each trajectory, in the system's time units.
        energy_range: ``(lo, hi)``, energies :math:`H - H(0)` of the trajectories, uniform.
        noise: :math:`\sigma \ge 0`.
        dof: degrees of freedom :math:`d`.

    Returns:
        :class:`PhaseData` of ``n_trajectories * points`` samples, in JAX's default float dtype.
    """
    system = _check_system(system)
    n = check_count(n_trajectories, "n_trajectories")
    points = check_count(points, "points", least=2)
    t_max = check_positive(t_max, "t_max")
    if not (is_real(noise) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    bounds = jnp.asarray(_check_energy_range(energy_range), jnp.result_type(float))
    d = check_count(dof, "dof")
    k_states, k_noise = jax.random.split(key)
    uniform, normal = _random_numbers(k_states, n, d, bounds.dtype)
    eps = draw_blocks(k_noise, True, 4 * n * points * d, bounds.dtype)
    numbers = jnp.asarray([t_max / ((points - 1) * _SUBSTEPS), noise], bounds.dtype)
    data, mismatch = _data(system, uniform, normal, eps, bounds, numbers, (n, d, points))
    _check_shell(mismatch)
    return data


@eqx.filter_jit
def _data(
    system: Hamiltonian,
    uniform: Array,
    normal: Array,
    eps: Array,
    bounds: Array,
    numbers: Array,
    sizes: tuple[int, int, int],
) -> tuple[PhaseData, Array]:
    (n, d, points), (h, noise), field = sizes, numbers, _TrueField(system)
    x0, mismatch = _shell_states(system, uniform, normal, bounds, n, d)
    x = jax.vmap(lambda a: _path(field, a, h, points - 1, _SUBSTEPS))(x0).reshape(n * points, 2 * d)
    eps = noise * eps[: 4 * n * points * d].reshape(2, n * points, 2 * d)
    t = jnp.tile(jnp.arange(points, dtype=x.dtype) * (h * _SUBSTEPS), n)
    energy = jnp.repeat(_energies(system, x0), points)
    data = PhaseData(x + eps[0], jax.vmap(field)(x) + eps[1], t, energy, jnp.repeat(jnp.arange(n), points))
    return data, mismatch


# ---------------------------------------------------------------------------- the networks


def _check_dims(dim: Any, width: Any, depth: Any) -> tuple[int, int, int]:
    dim = check_count(dim, "dim (the phase-space dimension 2d)", least=2)
    if dim % 2:
        raise ValueError(f"dim is the phase-space dimension 2d and must be even, got {dim}")
    return dim, check_count(width, "width"), check_count(depth, "depth")


class HNN(eqx.Module):
    r"""A Hamiltonian neural network: a learned energy :math:`H_\theta(x)` and its field.

    :math:`H_\theta` is a multilayer perceptron ``dim → width → … → 1`` with ``depth`` hidden
    layers and tanh activations (smooth, so that the field and its Jacobian are too). Acts on
    one state; ``jax.vmap`` it over a batch.

    Args:
        dim: the phase-space dimension :math:`2d`.
        width: hidden width.
        depth: number of hidden layers.
        key: PRNG key for the initial weights (equinox's default initialisation).
    """

    mlp: eqx.nn.MLP

    def __init__(self, dim: int, width: int = 64, depth: int = 2, *, key: Array):
        dim, width, depth = _check_dims(dim, width, depth)
        self.mlp = tanh_mlp(dim, "scalar", width, depth, key)

    def hamiltonian(self, x: Float[Array, " dim"]) -> Float[Array, ""]:
        r"""The learned energy :math:`H_\theta(x)`."""
        return self.mlp(x)

    def vector_field(self, x: Float[Array, " dim"]) -> Float[Array, " dim"]:
        r"""The predicted field :math:`\dot x = \Omega\nabla H_\theta`.

        That is :math:`(\partial H_\theta/\partial p, -\partial H_\theta/\partial q)`, by autodiff.
        """
        return _symplectic(jax.grad(self.mlp)(x))

    def __call__(self, x: Float[Array, " dim"]) -> Float[Array, " dim"]:
        return self.vector_field(x)


class Baseline(eqx.Module):
    r"""The baseline: a multilayer perceptron that predicts the field, :math:`\dot x = f_\theta(x)`.

    ``dim → width → … → dim``, ``depth`` hidden layers, tanh activations — the same network as
    :class:`HNN`'s but for the output layer, and with no structure imposed on the field.

    Args:
        dim: the phase-space dimension :math:`2d`.
        width: hidden width.
        depth: number of hidden layers.
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP

    def __init__(self, dim: int, width: int = 64, depth: int = 2, *, key: Array):
        dim, width, depth = _check_dims(dim, width, depth)
        self.mlp = tanh_mlp(dim, dim, width, depth, key)

    def vector_field(self, x: Float[Array, " dim"]) -> Float[Array, " dim"]:
        r"""The predicted :math:`\dot x = f_\theta(x)`."""
        return self.mlp(x)

    def __call__(self, x: Float[Array, " dim"]) -> Float[Array, " dim"]:
        return self.vector_field(x)


_MODELS = {"hnn": HNN, "baseline": Baseline}


# ----------------------------------------------------------------------------- training


def _check_data(data: Any) -> PhaseData:
    if not isinstance(data, PhaseData):
        raise ValueError(f"data must be a PhaseData (from phase_space_data), got {type(data).__name__}")
    x, dx = to_device(data.x), to_device(data.dx)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] % 2 or x.shape[1] == 0 or dx.shape != x.shape:
        raise ValueError(f"data.x and data.dx must have one shape (n, 2d), got {x.shape} and {dx.shape}")
    if not (jnp.issubdtype(x.dtype, jnp.floating) and jnp.issubdtype(dx.dtype, jnp.floating)):
        raise ValueError(f"data.x and data.dx must be float arrays, got {x.dtype} and {dx.dtype}")
    if not (np.isfinite(np.asarray(x)).all() and np.isfinite(np.asarray(dx)).all()):
        raise ValueError("data.x or data.dx holds NaN or infinite values")
    return data._replace(x=x, dx=dx.astype(x.dtype))


def _mse(model: eqx.Module, x: Array, dx: Array) -> Array:
    return jnp.mean((jax.vmap(model.vector_field)(x) - dx) ** 2)


_jit_mse = eqx.filter_jit(_mse)


def field_loss(model: HNN | Baseline, data: PhaseData) -> Float[Array, ""]:
    r"""The mean squared error of a field, :math:`\frac{1}{2dn}\sum_i\lVert\hat f(x_i) - \dot x_i\rVert^2`.

    Args:
        model: an :class:`HNN` or :class:`Baseline` (anything with ``vector_field``).
        data: :class:`PhaseData` (e.g. a held-out set).

    Returns:
        the loss, a scalar — the objective :func:`train` minimises.
    """
    data = _check_data(data)
    _as_field(model)
    return _jit_mse(model, data.x, data.dx)


@eqx.filter_jit
def _train(model: eqx.Module, x: Array, dx: Array, lr: Array, steps: int) -> tuple[eqx.Module, Array]:
    return adam_scan(model, lambda m: _mse(m, x, dx), lr, steps)


def train(
    key: Array,
    kind: str,
    data: PhaseData,
    *,
    width: int = 64,
    steps: int = 2000,
    learning_rate: float = 1e-3,
) -> tuple[HNN | Baseline, Float[Array, " steps"]]:
    r"""Train an :class:`HNN` or a :class:`Baseline` on the field samples, by full-batch Adam.

    Minimises :func:`field_loss`, :math:`\mathcal L = \frac{1}{2dn}\sum_i\lVert\hat f_\theta(x_i) -
    \dot x_i\rVert^2`, with :math:`\hat f_\theta = \Omega\nabla H_\theta` for the HNN (the loss
    then holds second derivatives of the network) and :math:`f_\theta` for the baseline; the
    step size decays from ``learning_rate`` to 0 on a cosine schedule. The whole run is one
    compiled ``lax.scan``, recompiled only for a new kind, width, shape, dtype or number of
    steps (``learning_rate`` is traced).

    Args:
        key: PRNG key for the initial weights; the result is deterministic given it.
        kind: ``"hnn"`` or ``"baseline"``.
        data: :class:`PhaseData`; the model is cast to the dtype of ``data.x``.
        width: hidden width (two hidden layers).
        steps: number of Adam steps.
        learning_rate: Adam's initial step size.

    Returns:
        the trained model and the loss at each step, shape ``(steps,)``.
    """
    if kind not in _MODELS:
        raise ValueError(f'kind must be "hnn" or "baseline", got {kind!r}')
    data = _check_data(data)
    steps = check_count(steps, "steps")
    learning_rate = check_positive(learning_rate, "learning_rate")
    model = _MODELS[kind](data.x.shape[1], width, key=key)
    model = jax.tree.map(lambda a: a.astype(data.x.dtype) if eqx.is_inexact_array(a) else a, model)
    return _train(model, data.x, data.dx, jnp.asarray(learning_rate, data.x.dtype), steps)


# ------------------------------------------------------------------------------ rollouts


def _as_field(model: Any, name: str = "model", functions: bool = False) -> Callable[[Array], Array]:
    if callable(getattr(model, "vector_field", None)):
        return model.vector_field
    if functions and callable(model):
        return model
    what = "a model with vector_field(x)" + (" or a function x -> dx/dt" if functions else "")
    raise ValueError(f"{name} must be {what}, got {type(model).__name__}")


def _check_states(x0: Any) -> Array:
    try:
        x0 = to_device(x0)
    except TypeError as err:
        raise ValueError("x0 must be a float array of shape (2d,) or (k, 2d)") from err
    if x0.ndim not in (1, 2) or x0.shape[-1] == 0 or x0.shape[-1] % 2 or x0.size == 0:
        raise ValueError(f"x0 must have shape (2d,) or (k, 2d), got {x0.shape}")
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        raise ValueError(f"x0 must be a float array, got dtype {x0.dtype}")
    if not np.isfinite(np.asarray(x0)).all():
        raise ValueError("x0 holds NaN or infinite values")
    return x0


def rollout(
    model_or_field: HNN | Baseline | Callable[[Array], Array],
    x0: Float[ArrayLike, "*k dim"],
    dt: float,
    n_steps: int,
) -> Float[Array, "*k n_steps_plus_1 dim"]:
    r"""Integrate a learned (or any) field :math:`\dot x = f(x)` by classical RK4 with a fixed step.

    .. math::

        k_1 = f(x_n),\ k_2 = f(x_n + \tfrac h2 k_1),\ k_3 = f(x_n + \tfrac h2 k_2),\
        k_4 = f(x_n + hk_3),\quad x_{n+1} = x_n + \tfrac h6(k_1 + 2k_2 + 2k_3 + k_4),

    one compiled ``lax.scan`` (differentiable; ``dt`` is traced). Fourth order: along an
    :class:`HNN`'s own field :math:`H_\theta` is conserved to :math:`O(h^4)`.

    Args:
        model_or_field: an :class:`HNN` or :class:`Baseline` (its ``vector_field`` is used), or a
            function from a state of shape ``(2d,)`` to :math:`\dot x`, e.g. :func:`true_field`.
        x0: the initial state, shape ``(2d,)``, or ``k`` of them, shape ``(k, 2d)``.
        dt: step size :math:`h > 0`.
        n_steps: number of steps.

    Returns:
        the trajectory :math:`x_0, \dots, x_n`, shape ``(n_steps + 1, 2d)`` (``(k, n_steps + 1, 2d)``).
    """
    field = _as_field(model_or_field, "model_or_field", functions=True)
    x0 = _check_states(x0)
    dt = check_positive(dt, "dt")
    n_steps = check_count(n_steps, "n_steps")
    paths = _paths(field, x0.reshape(-1, x0.shape[-1]), np.asarray(dt, x0.dtype), n_steps, 1)
    return paths.reshape(*x0.shape[:-1], n_steps + 1, x0.shape[-1])


def energy_error(system: Hamiltonian, trajectory: Float[ArrayLike, "*k n dim"]) -> Float[Array, "*k n"]:
    r"""The relative error of the true energy along a trajectory, :math:`|E(x_t) - E(x_0)| / E(x_0)`.

    :math:`E = H - H(0)`, the energy above the bottom of the well (see the module docstring).

    Args:
        system: the :class:`physml.integrators.Hamiltonian` the trajectory should follow.
        trajectory: states :math:`x_0, x_1, \dots`, shape ``(n, 2d)`` or ``(..., n, 2d)``.

    Returns:
        the relative error at each time, shape ``(n,)`` (``(..., n)``); 0 at the start.
    """
    system, x = _check_system(system), jnp.asarray(trajectory)
    if x.ndim < 2 or x.shape[-1] == 0 or x.shape[-1] % 2 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"trajectory must be a float array of shape (..., n, 2d), got {x.dtype} {x.shape}")
    return _energy_error(system, x)


@eqx.filter_jit
def _energy_error(system: Hamiltonian, x: Array) -> Array:
    e = _energies(system, x)
    return jnp.abs(e - e[..., :1]) / e[..., :1]


@eqx.filter_jit
def _errors(system: Hamiltonian, predicted: Array, true: Array) -> tuple[Array, Array]:
    """The rollout and energy errors of ``compare_rollouts``, in one compiled program."""
    return jnp.linalg.norm(predicted - true, axis=-1), _energy_error(system, predicted)


class RolloutComparison(NamedTuple):
    r"""A model's rollouts against the true ones (:func:`compare_rollouts`).

    Attributes:
        t: the times, shape ``(n + 1,)``.
        true: the true trajectories, shape ``(k, n + 1, 2d)``.
        predicted: the model's trajectories from the same states, shape ``(k, n + 1, 2d)``.
        rollout_error: :math:`\lVert x_{\text{model}}(t) - x_{\text{true}}(t)\rVert`, shape ``(k, n + 1)``.
        energy_error: the relative true-energy error of the model's trajectories
            (:func:`energy_error`), shape ``(k, n + 1)``.
    """

    t: Array
    true: Array
    predicted: Array
    rollout_error: Array
    energy_error: Array


def compare_rollouts(
    system: Hamiltonian,
    model: HNN | Baseline,
    x0: Float[ArrayLike, "k dim"],
    *,
    dt: float = 0.1,
    t_max: float = 100.0,
) -> RolloutComparison:
    r"""Roll a trained model out from initial states and measure it against the true flow.

    The model's field is integrated by :func:`rollout` with step ``dt``; the true field
    (:func:`true_field`) by RK4 with step ``dt / 10``, recorded every ``dt`` (its own energy
    error, on the spring with :math:`\omega = 1` and ``dt = 0.1``, is :math:`1.4\times10^{-10}`
    at :math:`t = 100`).

    Args:
        system: the true :class:`physml.integrators.Hamiltonian`.
        model: a trained :class:`HNN` or :class:`Baseline`.
        x0: initial states, shape ``(k, 2d)`` (e.g. from :func:`sample_states`).
        dt: time between records and the model's RK4 step.
        t_max: the horizon; ``round(t_max / dt)`` steps.

    Returns:
        a :class:`RolloutComparison`.
    """
    system = _check_system(system)
    _as_field(model)
    x0 = _check_states(x0).reshape(-1, jnp.shape(x0)[-1])
    dt, t_max = check_positive(dt, "dt"), check_positive(t_max, "t_max")
    n = max(1, round(t_max / dt))
    predicted = rollout(model, x0, dt, n)
    true = _paths(true_field(system), x0, np.asarray(dt / _SUBSTEPS, x0.dtype), n, _SUBSTEPS)
    dtype = np.dtype(x0.dtype)
    t = jax.device_put(np.asarray(dt, dtype) * np.arange(n + 1, dtype=dtype))  # on the host
    return RolloutComparison(t, true, predicted, *_errors(system, predicted, true))
