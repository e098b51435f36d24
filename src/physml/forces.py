r"""Learned forces that obey Newton's third law: momentum and energy conservation as an
architecture, not as something a network has to learn.

The system: :math:`N` particles in :math:`D` dimensions, positions :math:`x \in \mathbb{R}^{N\times D}`,
masses :math:`m_i`, with a spring between *every* pair (:class:`SpringSystem`),

.. math::

    U(x) = \sum_{i<j} \phi(r_{ij}), \qquad \phi(r) = \tfrac12 k (r - r_0)^2, \qquad
    F_i = -\nabla_i U = \sum_{j \ne i} f(r_{ij})\, \hat r_{ij},

with :math:`r_{ij} = \lVert x_i - x_j\rVert`, :math:`\hat r_{ij} = (x_i - x_j)/r_{ij}` and
:math:`f = -\phi'`. All springs share :math:`k` and :math:`r_0`, so one function :math:`f` of
the distance describes every pair.

Any pair force of the form :math:`F_{ij} = f(r_{ij})\,\hat r_{ij}` (:func:`pair_forces`) is

* *antisymmetric*, :math:`F_{ji} = -F_{ij}`, so :math:`\sum_i F_i = 0` and the total momentum
  :math:`P = \sum_i m_i v_i` is conserved exactly (to rounding, also by velocity Verlet);
* *central*, hence *conservative*: :math:`F = -\nabla \sum_{i<j} v(r_{ij})` with :math:`v' = -f`,
  so the Jacobian :math:`\partial F_i/\partial x_k` is symmetric and the energy is conserved.

Three networks fit the same force data (:func:`force_data`, :func:`train_forces`):
:class:`PairForce` learns the scalar :math:`f_\theta(r)` and has both properties whatever its
weights; :class:`PotentialNet` learns :math:`V_\theta(x)` and sets :math:`F = -\nabla V_\theta`,
conservative but not translation invariant, so :math:`\sum_i F_i \ne 0` and momentum drifts;
:class:`FreeForce` maps all coordinates to all forces and conserves neither.
:func:`simulate` runs velocity Verlet and :func:`conservation_drift` measures
:math:`\max_t \lVert P(t) - P(0)\rVert` and :math:`\max_t \lvert E(t) - E(0)\rvert`.

Measured (:math:`N = 5`, :math:`D = 2`, 256 configurations with noise 0.01 from key 0,
2000 steps from key 0, float32): the relative force error on 256 fresh configurations
(key 1) is 0.033 for the pair network, 0.43 for the potential network and 0.96 for the
free one — the same data, three priors. Along :math:`10^4` Verlet steps (:math:`h = 0.01`)
from the reference shape with random velocities of zero sum, the pair network's total
momentum moves by :math:`2\times10^{-6}` (float32 rounding, as the true system's; below
:math:`10^{-12}` in float64), the potential network's by 3.4 and the free one's by 0.8; the
energy of the pair network's own potential stays within :math:`3\times10^{-5}`, like the
true system's.

References: P. W. Battaglia et al., *Interaction networks for learning about objects,
relations and physics*, NeurIPS (2016); S. Greydanus, M. Dzamba and J. Yosinski,
*Hamiltonian neural networks*, NeurIPS (2019); L. Verlet, Phys. Rev. 159, 98 (1967).
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
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_count, check_positive, is_real
from ._training import adam_scan, tanh_mlp

__all__ = [
    "Drift",
    "ForceData",
    "FreeForce",
    "PairForce",
    "PotentialNet",
    "SpringSystem",
    "Trajectory",
    "conservation_drift",
    "force_data",
    "force_error",
    "kinetic_energy",
    "pair_forces",
    "reference_shape",
    "simulate",
    "spring_forces",
    "spring_potential",
    "spring_system",
    "total_momentum",
    "train_forces",
]

KINDS = ("pair", "potential", "free")


# ------------------------------------------------------------------------------ checks


def _concrete(x: Array) -> np.ndarray | None:
    return None if isinstance(x, jax.core.Tracer) else np.asarray(x)


def _check_positions(x: Any, name: str = "x", batch: bool = False) -> Array:
    x, shape = jnp.asarray(x), "(n, N, D)" if batch else "(N, D)"
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{name} must be a float array, got dtype {x.dtype}")
    if x.ndim != (3 if batch else 2) or x.shape[-2] < 2 or x.shape[-1] < 1:
        raise ValueError(f"{name} must have shape {shape} with N >= 2 particles, got {x.shape}")
    if (c := _concrete(x)) is not None and not np.all(np.isfinite(c)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


def _check_masses(masses: Any, n: int) -> Array:
    m = jnp.asarray(masses)
    if m.shape != (n,) or not jnp.issubdtype(m.dtype, jnp.floating):
        raise ValueError(f"masses must be a float array of shape ({n},), got {m.dtype} {m.shape}")
    if (c := _concrete(m)) is not None and not np.all(np.isfinite(c) & (c > 0)):
        raise ValueError("masses must be positive and finite")
    return m


# ------------------------------------------------------------------------- the system


class SpringSystem(NamedTuple):
    r"""Particles joined pairwise by identical springs, :math:`U = \sum_{i<j}\frac12 k(r_{ij} - r_0)^2`.

    Attributes:
        masses: :math:`m_i > 0`, shape ``(N,)``.
        k: spring constant :math:`k > 0`, force per unit length.
        r0: rest length :math:`r_0 > 0`.
        dim: spatial dimension :math:`D`.
    """

    masses: Array
    k: float
    r0: float
    dim: int


def spring_system(
    n_particles: int = 5, dim: int = 2, *, k: float = 1.0, r0: float = 1.0, masses: ArrayLike | None = None
) -> SpringSystem:
    r"""A :class:`SpringSystem`: ``n_particles`` in ``dim`` dimensions, all pairs joined by springs.

    Args:
        n_particles: :math:`N \ge 2`.
        dim: :math:`D \ge 1`.
        k: spring constant :math:`k > 0`.
        r0: rest length :math:`r_0 > 0`.
        masses: shape ``(N,)``, positive (unit masses if omitted).
    """
    n = check_count(n_particles, "n_particles", least=2)
    dim = check_count(dim, "dim")
    dtype = jnp.result_type(float)
    masses = jnp.ones(n, dtype) if masses is None else _check_masses(masses, n)
    return SpringSystem(masses, check_positive(k, "k"), check_positive(r0, "r0"), dim)


def _check_system(system: Any) -> SpringSystem:
    if not isinstance(system, SpringSystem):
        raise ValueError(f"system must be a physml.forces.SpringSystem, got {type(system).__name__}")
    return system


@functools.cache
def _incidence(n: int) -> np.ndarray:
    """The ``(N, P)`` incidence matrix of the pairs i < j, column ``e_i - e_j``: ``B.T @ x`` are the
    separations, ``B @ f`` adds each pair force to i and subtracts it from j (faster than scatters)."""
    i, j = np.triu_indices(n, k=1)
    b = np.zeros((n, i.size))
    b[i, np.arange(i.size)], b[j, np.arange(i.size)] = 1.0, -1.0
    return b


def _separations(x: Array) -> tuple[Array, Array]:
    """Distances :math:`r_{ij}` (``(P,)``, pairs :math:`i<j`) and a safe unit vector of each (``(P, D)``)."""
    r = jnp.asarray(_incidence(x.shape[0]), x.dtype).T @ x  # x_i - x_j, exactly
    d2 = jnp.sum(r**2, axis=-1, keepdims=True)
    ok = d2 > 0
    d = jnp.sqrt(jnp.where(ok, d2, 1.0))  # no NaN gradient for coincident particles
    return d[:, 0], jnp.where(ok, r / d, 0.0)


def spring_potential(system: SpringSystem, x: Float[ArrayLike, "N D"]) -> Float[Array, ""]:
    r"""The spring energy :math:`U = \sum_{i<j} \frac12 k (r_{ij} - r_0)^2` at positions ``x``, ``(N, D)``."""
    system = _check_system(system)
    return _spring_potential(_check_positions(x), system.k, system.r0)


@jax.jit
def _spring_potential(x: Array, k: Array, r0: Array) -> Array:
    d, _ = _separations(x)
    return 0.5 * k * jnp.sum((d - r0) ** 2)


def spring_forces(system: SpringSystem, x: Float[ArrayLike, "N D"]) -> Float[Array, "N D"]:
    r"""The exact spring forces on positions ``x`` (``(N, D)``), :math:`F = -\nabla U`:
    :math:`F_i = -k\sum_{j\ne i}(1 - r_0/r_{ij})(x_i - x_j)`, shape ``(N, D)``."""
    system = _check_system(system)
    return _spring_forces(_check_positions(x), system.k, system.r0)


@jax.jit
def _spring_forces(x: Array, k: Array, r0: Array) -> Array:
    diff = x[:, None, :] - x[None, :, :]
    d = jnp.sqrt(jnp.sum(diff**2, axis=-1) + jnp.eye(x.shape[0], dtype=x.dtype))
    return -k * jnp.sum((1.0 - r0 / d)[..., None] * diff, axis=1)


def pair_forces(f: Callable[[Array], Array], x: Float[ArrayLike, "N D"]) -> Float[Array, "N D"]:
    r"""Central pair forces from a scalar function of the distance,
    :math:`F_i = \sum_{j\ne i} f(r_{ij})\,\hat r_{ij}`.

    Each pair :math:`i<j` is evaluated once, its force added to :math:`i` and subtracted from
    :math:`j`: :math:`\sum_i F_i = 0` to rounding. Coincident particles exert no force on each
    other (and give no NaN gradient).

    Args:
        f: the force magnitude :math:`f(r)` (positive: repulsive), a function of one scalar.
        x: positions, shape ``(N, D)``.

    Returns:
        the forces, shape ``(N, D)``.
    """
    return _pair_forces(f, jnp.asarray(x))


@eqx.filter_jit
def _pair_forces(f: Callable[[Array], Array], x: Array) -> Array:
    d, unit = _separations(x)
    return jnp.asarray(_incidence(x.shape[0]), x.dtype) @ (jax.vmap(f)(d)[:, None] * unit)


# --------------------------------------------------------------------------- the data


class ForceData(NamedTuple):
    """Configurations and the forces on them (:func:`force_data`).

    Attributes:
        positions: shape ``(n, N, D)``.
        forces: exact forces plus noise, shape ``(n, N, D)``.
    """

    positions: Array
    forces: Array


def reference_shape(system: SpringSystem) -> Float[Array, "N D"]:
    r"""The regular :math:`N`-gon (evenly spaced points for :math:`D = 1`) at the size that
    minimises :math:`U`: for distances :math:`s c_{ij}`, :math:`s = r_0\sum c_{ij}/\sum c_{ij}^2`.

    For :math:`D \ge 2` it is an equilibrium (by symmetry every force is radial, and the
    size makes it vanish). Centred on the origin, in the first two coordinates.
    """
    system = _check_system(system)
    return _reference_shape(system.masses.shape[0], system.dim, system.r0)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _reference_shape(n: int, dim: int, r0: Array) -> Array:
    dtype = jnp.result_type(float)
    if dim == 1:
        unit = (jnp.arange(n, dtype=dtype) - (n - 1) / 2)[:, None]
    else:
        angle = 2 * jnp.pi * jnp.arange(n, dtype=dtype) / n
        unit = jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=1)
        unit = jnp.concatenate([unit, jnp.zeros((n, dim - 2), dtype)], axis=1)
    c, _ = _separations(unit)
    return r0 * jnp.sum(c) / jnp.sum(c**2) * unit


def force_data(
    key: Array,
    system: SpringSystem,
    n_samples: int,
    *,
    jitter: float = 0.15,
    spread: float = 1.0,
    noise: float = 0.01,
) -> ForceData:
    r"""Random configurations around :func:`reference_shape` and their forces plus noise.

    Each configuration is the reference shape with every coordinate jittered by
    :math:`\mathcal N(0, (\sigma r_0)^2)`, then a random orthogonal transformation (Haar) and a
    translation uniform in :math:`[-a, a]^D`; the forces are :func:`spring_forces` plus
    :math:`\mathcal N(0, \eta^2)` noise on every component.

    Args:
        key: PRNG key.
        system: a :class:`SpringSystem`.
        n_samples: number of configurations.
        jitter: :math:`\sigma \ge 0`, in units of :math:`r_0`.
        spread: :math:`a \ge 0`, the half-width of the translations.
        noise: :math:`\eta \ge 0`, in force units.

    Returns:
        :class:`ForceData` in JAX's default float dtype.
    """
    system = _check_system(system)
    n_samples = check_count(n_samples, "n_samples")
    for name, value in (("jitter", jitter), ("spread", spread), ("noise", noise)):
        if not (is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return _force_data(key, reference_shape(system), n_samples, system.k, system.r0, (jitter, spread, noise))


@functools.partial(jax.jit, static_argnums=2)
def _force_data(key: Array, shape: Array, n_samples: int, k: Array, r0: Array, scales: tuple) -> ForceData:
    (n, dim), dtype, (jitter, spread, noise) = shape.shape, shape.dtype, scales
    k_jit, k_rot, k_shift, k_noise = jax.random.split(key, 4)
    x = shape[None] + jitter * r0 * jax.random.normal(k_jit, (n_samples, n, dim), dtype)
    rotations = jax.random.orthogonal(k_rot, dim, (n_samples,), dtype)
    shifts = jax.random.uniform(k_shift, (n_samples, 1, dim), dtype, -spread, spread)
    x = jnp.einsum("sij,snj->sni", rotations, x) + shifts
    f = jax.vmap(lambda y: _spring_forces(y, k, r0))(x)
    return ForceData(x, f + noise * jax.random.normal(k_noise, f.shape, dtype))


# ------------------------------------------------------------------------- the networks


@functools.cache
def _gauss_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(order)


class PairForce(eqx.Module):
    r"""A learned central pair force, :math:`F_i = \sum_{j\ne i} f_\theta(r_{ij})\hat r_{ij}`.

    :math:`f_\theta`: an MLP ``1 → width → width → 1`` (tanh) of the distance. Conserves
    momentum and energy for any weights.

    Args:
        width: hidden width.
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP

    def __init__(self, width: int = 32, *, key: Array):
        self.mlp = tanh_mlp("scalar", "scalar", check_count(width, "width"), 2, key)

    def magnitude(self, r: Float[Array, ""]) -> Float[Array, ""]:
        r"""The force magnitude :math:`f_\theta(r)` at one distance (positive: repulsive)."""
        return self.mlp(r)

    def forces(self, x: Float[Array, "N D"]) -> Float[Array, "N D"]:
        """The forces on all particles, shape ``(N, D)`` (:func:`pair_forces`)."""
        return pair_forces(self.mlp, x)

    def potential(self, x: Float[Array, "N D"], order: int = 64) -> Float[Array, ""]:
        r"""The energy whose negative gradient is :meth:`forces`,
        :math:`U_\theta = \sum_{i<j} v_\theta(r_{ij})`, :math:`v_\theta(r) = -\int_0^r f_\theta(s)\,ds`,
        by Gauss–Legendre quadrature with ``order`` nodes (exact to rounding for smooth
        :math:`f_\theta` on distances of a few units).
        """
        d, _ = _separations(jnp.asarray(x))
        t, w = (jnp.asarray(a, d.dtype) for a in _gauss_legendre(order))
        s = 0.5 * d[:, None] * (1.0 + t[None, :])
        f = jax.vmap(jax.vmap(self.mlp))(s)
        return -jnp.sum(0.5 * d * jnp.sum(w[None, :] * f, axis=1))


def _coordinates_mlp(n_particles: int, dim: int, out: Any, width: int, key: Array) -> eqx.nn.MLP:
    size = check_count(n_particles, "n_particles", least=2) * check_count(dim, "dim")
    out = size if out is None else out
    return tanh_mlp(size, out, check_count(width, "width"), 2, key)


class PotentialNet(eqx.Module):
    r"""A learned potential, :math:`F = -\nabla V_\theta(x)`, :math:`V_\theta` an MLP
    ``N·D → width → width → 1`` (tanh) of all coordinates. Conservative, but not translation
    invariant: :math:`\sum_i F_i \ne 0`, so momentum is not conserved.

    Args:
        n_particles: :math:`N`.
        dim: :math:`D`.
        width: hidden width.
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP

    def __init__(self, n_particles: int, dim: int, width: int = 32, *, key: Array):
        self.mlp = _coordinates_mlp(n_particles, dim, "scalar", width, key)

    def potential(self, x: Float[Array, "N D"]) -> Float[Array, ""]:
        r"""The learned energy :math:`V_\theta(x)`."""
        return self.mlp(jnp.ravel(x))

    def forces(self, x: Float[Array, "N D"]) -> Float[Array, "N D"]:
        r"""The forces :math:`-\nabla V_\theta(x)`, shape ``(N, D)``."""
        return -jax.grad(self.potential)(x)


class FreeForce(eqx.Module):
    r"""An unconstrained force field, :math:`F = \mathrm{MLP}_\theta(x)`, ``N·D → width → width → N·D``
    (tanh). Conserves neither momentum nor energy.

    Args:
        n_particles: :math:`N`.
        dim: :math:`D`.
        width: hidden width.
        key: PRNG key for the initial weights.
    """

    mlp: eqx.nn.MLP

    def __init__(self, n_particles: int, dim: int, width: int = 32, *, key: Array):
        self.mlp = _coordinates_mlp(n_particles, dim, None, width, key)

    def forces(self, x: Float[Array, "N D"]) -> Float[Array, "N D"]:
        """The forces on all particles, shape ``(N, D)``."""
        return self.mlp(jnp.ravel(x)).reshape(x.shape)


# --------------------------------------------------------------------------- training


def _check_data(data: Any) -> ForceData:
    if not isinstance(data, ForceData):
        raise ValueError(f"data must be a physml.forces.ForceData, got {type(data).__name__}")
    x = _check_positions(data.positions, "data.positions", batch=True)
    f = _check_positions(jnp.asarray(data.forces, x.dtype), "data.forces", batch=True)
    if f.shape != x.shape:
        raise ValueError(f"data.forces has shape {f.shape}, data.positions {x.shape}")
    return ForceData(x, f)


def force_error(forces_fn: Callable[[Array], Array], data: ForceData) -> Float[Array, ""]:
    r"""The relative force error over a data set,
    :math:`\big(\sum \lVert F_\theta(x) - F\rVert^2 / \sum\lVert F\rVert^2\big)^{1/2}`.

    Args:
        forces_fn: ``x (N, D) -> forces (N, D)``, e.g. ``model.forces``.
        data: :class:`ForceData`.
    """
    if not callable(forces_fn):
        raise ValueError(f"forces_fn must be a function x -> forces, got {type(forces_fn).__name__}")
    data = _check_data(data)
    return _force_error(forces_fn, data.positions, data.forces)


@eqx.filter_jit
def _force_error(forces_fn: Callable, x: Array, f: Array) -> Array:
    return jnp.sqrt(jnp.sum((jax.vmap(forces_fn)(x) - f) ** 2) / jnp.sum(f**2))


@eqx.filter_jit
def _train(model: Any, x: Array, f: Array, learning_rate: Array, steps: int) -> tuple[Any, Array]:
    return adam_scan(model, lambda m: jnp.mean((jax.vmap(m.forces)(x) - f) ** 2), learning_rate, steps)


def train_forces(
    key: Array,
    kind: str,
    data: ForceData,
    *,
    steps: int = 2000,
    learning_rate: float = 1e-2,
    width: int = 32,
) -> tuple[PairForce | PotentialNet | FreeForce, Float[Array, " steps"]]:
    r"""Fit a force network to data by full-batch Adam (cosine-decayed step) on the force MSE,
    :math:`\mathcal L = \frac{1}{nND}\sum \lVert F_\theta(x) - F\rVert^2`, in one compiled
    ``lax.scan`` (``learning_rate`` traced).

    Args:
        key: PRNG key for the initial weights.
        kind: ``"pair"`` (:class:`PairForce`), ``"potential"`` (:class:`PotentialNet`), ``"free"``.
        data: :class:`ForceData`, positions and forces of shape ``(n, N, D)``.
        steps: number of Adam steps.
        learning_rate: Adam's initial step size.
        width: hidden width.

    Returns:
        the trained model and :math:`\mathcal L` at each step, shape ``(steps,)``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    data = _check_data(data)
    steps, learning_rate = check_count(steps, "steps"), check_positive(learning_rate, "learning_rate")
    (_, n, dim), dtype = data.positions.shape, data.positions.dtype
    if kind == "pair":
        model = PairForce(width, key=key)
    else:
        model = (PotentialNet if kind == "potential" else FreeForce)(n, dim, width, key=key)
    model = jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, model)
    return _train(model, data.positions, data.forces, jnp.asarray(learning_rate, dtype), steps)


# ------------------------------------------------------------------------- simulation


class Trajectory(NamedTuple):
    """A recorded run of :func:`simulate`.

    Attributes:
        positions: shape ``(n_records, N, D)``.
        velocities: shape ``(n_records, N, D)``.
        times: shape ``(n_records,)``.
    """

    positions: Array
    velocities: Array
    times: Array


def _momentum(v: Array, m: Array) -> Array:
    return jnp.sum(m.reshape((1,) * (v.ndim - 2) + (-1, 1)) * v, axis=-2)


def _kinetic(v: Array, m: Array) -> Array:
    return 0.5 * jnp.sum(m.reshape((1,) * (v.ndim - 2) + (-1,)) * jnp.sum(v**2, axis=-1), axis=-1)


def _check_velocities(velocities: Any, masses: Any) -> tuple[Array, Array]:
    v = jnp.asarray(velocities)
    if v.ndim < 2 or not jnp.issubdtype(v.dtype, jnp.floating):
        raise ValueError(f"velocities must be a float array of shape (..., N, D), got {v.dtype} {v.shape}")
    return v, _check_masses(jnp.asarray(masses, v.dtype), v.shape[-2])


def total_momentum(velocities: Float[ArrayLike, "... N D"], masses: Float[ArrayLike, " N"]) -> Array:
    r"""The total momentum :math:`P = \sum_i m_i v_i`, shape ``(..., D)``."""
    return _momentum(*_check_velocities(velocities, masses))


def kinetic_energy(velocities: Float[ArrayLike, "... N D"], masses: Float[ArrayLike, " N"]) -> Array:
    r"""The kinetic energy :math:`T = \sum_i \frac12 m_i \lVert v_i\rVert^2`, shape ``(...)``."""
    return _kinetic(*_check_velocities(velocities, masses))


@eqx.filter_jit
def _simulate(forces_fn: Callable, x: Array, v: Array, m: Array, dt: Array, every: Array, n_records: int):
    inv_m, p = (1.0 / m)[:, None], m[:, None] * v

    def step(_: Any, s: tuple) -> tuple:
        x, p, f = s
        p = p + 0.5 * dt * f
        x = x + dt * inv_m * p
        f = forces_fn(x)
        return x, p + 0.5 * dt * f, f

    def block(s: tuple, _: None) -> tuple:
        s = jax.lax.fori_loop(0, every, step, s)
        return s, (s[0], s[1] * inv_m)

    _, (xs, vs) = jax.lax.scan(block, (x, p, forces_fn(x)), length=n_records)
    return jnp.concatenate([x[None], xs]), jnp.concatenate([(p * inv_m)[None], vs])


def simulate(
    forces_fn: Callable[[Array], Array],
    x0: Float[ArrayLike, "N D"],
    v0: Float[ArrayLike, "N D"],
    masses: Float[ArrayLike, " N"],
    dt: float,
    n_steps: int,
    *,
    every: int = 1,
) -> Trajectory:
    r"""Velocity Verlet with forces ``forces_fn``, one compiled ``lax.scan``:

    .. math::

        p_{n+1/2} = p_n + \tfrac h2 F(x_n), \quad x_{n+1} = x_n + h\,M^{-1}p_{n+1/2}, \quad
        p_{n+1} = p_{n+1/2} + \tfrac h2 F(x_{n+1}),

    carrying momenta :math:`p_i = m_i v_i` and one force evaluation a step. With
    :math:`\sum_i F_i = 0` every kick leaves :math:`\sum_i p_i` unchanged (to rounding).

    Args:
        forces_fn: ``x (N, D) -> forces (N, D)``, e.g. ``model.forces`` or
            ``functools.partial(spring_forces, system)``.
        x0: initial positions, shape ``(N, D)``.
        v0: initial velocities, shape ``(N, D)``.
        masses: shape ``(N,)``.
        dt: the step :math:`h > 0`.
        n_steps: number of steps, a multiple of ``every``.
        every: record one state every ``every`` steps.

    Returns:
        a :class:`Trajectory` of ``n_steps // every + 1`` records, the first the initial state.
    """
    if not callable(forces_fn):
        raise ValueError(f"forces_fn must be a function x -> forces, got {type(forces_fn).__name__}")
    x0 = _check_positions(x0, "x0")
    v0 = jnp.asarray(v0, x0.dtype)
    if v0.shape != x0.shape or not np.all(np.isfinite(_concrete(v0))):
        raise ValueError(f"v0 must be finite with the shape of x0 {x0.shape}, got {v0.shape}")
    m = _check_masses(jnp.asarray(masses, x0.dtype), x0.shape[0])
    dt, n_steps, every = (
        check_positive(dt, "dt"),
        check_count(n_steps, "n_steps"),
        check_count(every, "every"),
    )
    if n_steps % every:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of every = {every}")
    dtype, n_records = np.dtype(x0.dtype), n_steps // every
    xs, vs = _simulate(forces_fn, x0, v0, m, np.asarray(dt, dtype), np.asarray(every), n_records)
    times = np.asarray(dt * every, dtype) * np.arange(n_records + 1, dtype=dtype)  # on the host
    return Trajectory(xs, vs, jax.device_put(times))


class Drift(NamedTuple):
    r"""How far a run strays from conservation (:func:`conservation_drift`).

    Attributes:
        momentum: :math:`\max_t \lVert P(t) - P(0)\rVert`.
        energy: :math:`\max_t \lvert E(t) - E(0)\rvert`, :math:`E = T + U` for the given :math:`U`.
    """

    momentum: Array
    energy: Array


def conservation_drift(
    trajectory: Trajectory, masses: Float[ArrayLike, " N"], potential: Callable[[Array], Array]
) -> Drift:
    r"""Momentum and energy drift along a :class:`Trajectory`.

    Args:
        trajectory: from :func:`simulate`.
        masses: shape ``(N,)``.
        potential: :math:`U`, ``x (N, D) -> scalar``: ``functools.partial(spring_potential,
            system)`` for the true energy, or a model's own (:meth:`PairForce.potential`,
            :meth:`PotentialNet.potential`).

    Returns:
        a :class:`Drift`.
    """
    if not isinstance(trajectory, Trajectory):
        raise ValueError(f"trajectory must be a physml.forces.Trajectory, got {type(trajectory).__name__}")
    if not callable(potential):
        raise ValueError(f"potential must be a function x -> energy, got {type(potential).__name__}")
    v, m = _check_velocities(trajectory.velocities, masses)
    return _drift(trajectory.positions, v, m, potential)


@eqx.filter_jit
def _drift(x: Array, v: Array, m: Array, potential: Callable) -> Drift:
    P = _momentum(v, m)
    E = _kinetic(v, m) + jax.vmap(potential)(x)
    return Drift(jnp.max(jnp.linalg.norm(P - P[:1], axis=-1)), jnp.max(jnp.abs(E - E[0])))
