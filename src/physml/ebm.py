r"""An energy-based model of 2-D data, with a partition function computed exactly on a grid.

The model is a Boltzmann distribution over points of the box :math:`D = [-L, L]^2`,

.. math::

    p_\theta(x) = \frac{e^{-E_\theta(x)}}{Z_\theta}, \qquad
    Z_\theta = \int_D e^{-E_\theta(x)}\, dx ,

and zero outside :math:`D`, with the energy :math:`E_\theta` a small neural network
(an ``equinox.nn.MLP`` from :math:`\mathbb{R}^2` to a scalar; temperature 1). Maximum
likelihood needs :math:`\nabla_\theta \ln Z_\theta = -\langle \nabla_\theta E_\theta
\rangle_{p_\theta}`, an average over the model itself. *Contrastive divergence* estimates
it from a few samples made by Langevin dynamics

.. math::

    x \leftarrow x - \frac{\epsilon^2}{2} \nabla_x E_\theta(x) + \epsilon\, \eta, \qquad
    \eta \sim \mathcal N(0, I),

and *persistent* contrastive divergence (Tieleman 2008) keeps those chains from one
parameter update to the next (here with a few restarted from uniform noise each step, as
in Du and Mordatch 2019). Training never computes :math:`Z_\theta`; in two dimensions we
can, by the midpoint rule on a fine grid with log-sum-exp,

.. math::

    \ln Z_\theta \approx \ln \sum_{c} e^{-E_\theta(x_c)} + \ln (\Delta x)^2 ,

so the true log-likelihood of held-out data is measured before and after training and set
against that of the data's own density, a Gaussian mixture known in closed form.

Conventions: points are arrays of shape ``(..., 2)``; an energy is a callable taking one
point of shape ``(2,)`` to a scalar (``vmap`` is applied here); the box half-width
:math:`L` is ``half_width``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "Mixture",
    "PCDConfig",
    "PCDState",
    "energy_network",
    "grid_log_density",
    "langevin",
    "langevin_step",
    "log_likelihood",
    "log_partition_grid",
    "mixture_log_density",
    "pcd_init",
    "reflect",
    "ring_mixture",
    "sample_mixture",
    "train_pcd",
]

Energy = Callable[[Array], Array]


# ------------------------------------------------------------------------------- data


class Mixture(NamedTuple):
    r"""An isotropic Gaussian mixture :math:`p(x) = \sum_k w_k\, \mathcal N(x; \mu_k, \sigma^2 I)` in 2-D.

    Attributes:
        means: component means :math:`\mu_k`, shape ``(k, 2)``.
        std: common standard deviation :math:`\sigma`.
        weights: mixture weights :math:`w_k`, shape ``(k,)``, summing to 1.
    """

    means: Array
    std: float
    weights: Array


def ring_mixture(n_modes: int = 8, radius: float = 2.0, std: float = 0.25) -> Mixture:
    r"""``n_modes`` equal Gaussians of width ``std`` centred on a circle of ``radius``.

    Mode :math:`k` sits at angle :math:`2\pi k/n`. Modes at radius 2 and width 0.25 are 8
    standard deviations inside the box of half-width 4, which then holds all but
    :math:`\sim 10^{-15}` of the mass.
    """
    if n_modes < 1 or radius < 0 or std <= 0:
        raise ValueError(f"need n_modes >= 1, radius >= 0, std > 0; got {n_modes}, {radius}, {std}")
    angle = 2 * jnp.pi * jnp.arange(n_modes) / n_modes
    means = radius * jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=-1)
    return Mixture(means, float(std), jnp.full(n_modes, 1.0 / n_modes))


def sample_mixture(key: Array, mixture: Mixture, n: int) -> Float[Array, "n 2"]:
    """``n`` independent draws from the mixture: a component by its weight, then a Gaussian."""
    return _sample_mixture(key, mixture, n)


@functools.partial(jax.jit, static_argnums=2)
def _sample_mixture(key: Array, mixture: Mixture, n: int) -> Array:
    k_comp, k_noise = jax.random.split(key)
    comp = jax.random.choice(k_comp, mixture.weights.shape[0], (n,), p=mixture.weights)
    return mixture.means[comp] + mixture.std * jax.random.normal(k_noise, (n, 2), mixture.means.dtype)


def mixture_log_density(mixture: Mixture, x: Float[ArrayLike, "... 2"]) -> Float[Array, ...]:
    r"""Exact :math:`\ln p(x) = \ln \sum_k w_k e^{-|x-\mu_k|^2/2\sigma^2} - \ln(2\pi\sigma^2)`."""
    return _mixture_log_density(mixture, jnp.asarray(x))


@jax.jit
def _mixture_log_density(mixture: Mixture, x: Array) -> Array:
    batch = (1,) * (x.ndim - 1)
    d2 = jnp.sum((x[..., None, :] - mixture.means.reshape(batch + mixture.means.shape)) ** 2, axis=-1)
    log_w = jnp.log(mixture.weights).reshape(batch + mixture.weights.shape)
    return jax.nn.logsumexp(log_w - d2 / (2 * mixture.std**2), axis=-1) - jnp.log(2 * jnp.pi * mixture.std**2)


# ------------------------------------------------------------------- partition function


def _check_grid(half_width: float, n_grid: int) -> None:
    if not half_width > 0 or n_grid < 1:
        raise ValueError(f"need half_width > 0 and n_grid >= 1, got {half_width} and {n_grid}")


def grid_log_density(
    energy: Energy, half_width: float, n_grid: int = 256
) -> tuple[Float[Array, " n_grid"], Float[Array, "n_grid n_grid"]]:
    r"""The normalized :math:`\ln p_\theta` at the centres of an ``n_grid × n_grid`` grid of the box.

    Cell centres :math:`x_c = -L + (c + \frac12)\Delta x`, :math:`\Delta x = 2L/n`, on both
    axes; entry ``[a, b]`` is the point :math:`(x_a, y_b)` (``indexing="ij"``; transpose for
    ``imshow``). Normalized with :func:`log_partition_grid` on the same grid, so
    :math:`\sum e^{\ln p}\,\Delta x^2 = 1`.

    Returns:
        the cell centres, shape ``(n_grid,)``, and :math:`\ln p`, shape ``(n_grid, n_grid)``.
    """
    _check_grid(half_width, n_grid)
    centres, minus_e = _grid_minus_energy(energy, half_width, n_grid)
    log_z = jax.nn.logsumexp(minus_e) + _log_cell(half_width, n_grid)
    return centres, minus_e - log_z


@eqx.filter_jit
def _grid_minus_energy(energy: Energy, half_width: float, n_grid: int) -> tuple[Array, Array]:
    dx = 2 * half_width / n_grid
    centres = -half_width + (jnp.arange(n_grid) + 0.5) * dx
    xx, yy = jnp.meshgrid(centres, centres, indexing="ij")
    points = jnp.stack([xx.ravel(), yy.ravel()], axis=-1)
    return centres, -jax.vmap(energy)(points).reshape(n_grid, n_grid)


def _log_cell(half_width: float, n_grid: int) -> float:
    return 2 * math.log(2 * half_width / n_grid)


def log_partition_grid(energy: Energy, half_width: float, n_grid: int = 256) -> Float[Array, ""]:
    r""":math:`\ln Z = \ln \int_{[-L,L]^2} e^{-E(x)}\,dx` by the midpoint rule on ``n_grid²`` cells.

    :math:`\ln Z \approx \operatorname{logsumexp}_c(-E(x_c)) + 2\ln\Delta x`, finite for any
    energies. The midpoint rule's error is :math:`O(\Delta x^2)` for a smooth :math:`E`,
    and exponentially small when :math:`e^{-E}` is smooth and negligible at the edges of
    the box (the trapezoid/midpoint rule for rapidly decaying integrands). Differentiable
    in the parameters of ``energy``.

    Args:
        energy: :math:`E`, a callable from a point of shape ``(2,)`` to a scalar.
        half_width: :math:`L`; the box is :math:`[-L, L]^2`.
        n_grid: cells per axis.
    """
    _check_grid(half_width, n_grid)
    _, minus_e = _grid_minus_energy(energy, half_width, n_grid)
    return jax.nn.logsumexp(minus_e) + _log_cell(half_width, n_grid)


def log_likelihood(
    energy: Energy, x: Float[ArrayLike, "n 2"], half_width: float, n_grid: int = 256
) -> Float[Array, ""]:
    r"""Average log-likelihood :math:`\frac1n \sum_a \ln p_\theta(x_a) = -\overline{E(x_a)} - \ln Z`, in nats.

    :math:`\ln Z` from :func:`log_partition_grid`. Points outside the box have probability
    zero under the model, so a point outside raises ``ValueError``.
    """
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[-1] != 2:
        raise ValueError(f"x must have shape (n, 2), got {x.shape}")
    if bool(jnp.any(jnp.abs(x) > half_width)):
        raise ValueError(f"points outside the box [-{half_width}, {half_width}]^2 have zero model density")
    return -_mean_energy(energy, x) - log_partition_grid(energy, half_width, n_grid)


@eqx.filter_jit
def _mean_energy(energy: Energy, x: Array) -> Array:
    return jnp.mean(jax.vmap(energy)(x))


# ----------------------------------------------------------------------------- Langevin


def reflect(x: Float[ArrayLike, ...], half_width: float) -> Float[Array, ...]:
    r"""Fold coordinates back into :math:`[-L, L]` by reflection at the walls (any distance out)."""
    y = jnp.mod(jnp.asarray(x) + half_width, 4 * half_width)
    return jnp.where(y > 2 * half_width, 4 * half_width - y, y) - half_width


def langevin_step(
    key: Array, energy: Energy, x: Float[Array, "m d"], epsilon: float, half_width: float | None = None
) -> Float[Array, "m d"]:
    r"""One unadjusted Langevin step for each row of ``x``:
    :math:`x \leftarrow x - \frac{\epsilon^2}{2}\nabla E(x) + \epsilon\,\eta`.

    As :math:`\epsilon \to 0` the chain samples :math:`p(x) \propto e^{-E(x)}`; at finite
    :math:`\epsilon` it is biased. For a quadratic :math:`E = \frac12 (x-\mu)^\top A
    (x-\mu)` its stationary law is exactly Gaussian with mean :math:`\mu` and covariance
    :math:`A^{-1}(I - \epsilon^2 A/4)^{-1}` (stable for :math:`\epsilon^2 \lambda_{\max}(A)
    < 4`). With ``half_width`` the new point is reflected into the box, which samples
    :math:`p` restricted to the box.

    Args:
        key: PRNG key.
        energy: a callable from one point of shape ``(d,)`` to a scalar.
        x: current points, shape ``(m, d)``.
        epsilon: noise scale :math:`\epsilon` (the gradient step is :math:`\epsilon^2/2`).
        half_width: box half-width :math:`L`, or ``None`` for no walls.
    """
    grad = jax.vmap(jax.grad(energy))(x)
    x = x - 0.5 * epsilon**2 * grad + epsilon * jax.random.normal(key, x.shape, x.dtype)
    return x if half_width is None else reflect(x, half_width)


def langevin(
    key: Array,
    energy: Energy,
    x: Float[Array, "m d"],
    epsilon: float,
    n_steps: int,
    half_width: float | None = None,
) -> Float[Array, "m d"]:
    """``n_steps`` Langevin steps (:func:`langevin_step`) with ``lax.scan``; returns the final points."""
    return _langevin(key, energy, jnp.asarray(x), epsilon, n_steps, half_width)


@eqx.filter_jit
def _langevin(key, energy, x, epsilon, n_steps, half_width):
    step = lambda y, k: (langevin_step(k, energy, y, epsilon, half_width), None)
    return jax.lax.scan(step, x, jax.random.split(key, n_steps))[0]


# ----------------------------------------------------------------------------- training


def energy_network(key: Array, width: int = 64, depth: int = 2) -> eqx.nn.MLP:
    r"""An energy :math:`E_\theta: \mathbb{R}^2 \to \mathbb{R}`: an ``equinox.nn.MLP`` with
    ``depth`` hidden layers of ``width`` SiLU units and a scalar output."""
    return eqx.nn.MLP(2, "scalar", width, depth, activation=jax.nn.silu, key=key)


class PCDConfig(NamedTuple):
    r"""Settings of persistent contrastive divergence.

    Attributes:
        half_width: box half-width :math:`L` (samples are reflected into the box).
        batch: data points per update.
        chains: persistent Langevin chains (the negative samples of one update).
        langevin_steps: Langevin steps per update.
        epsilon: Langevin noise scale :math:`\epsilon`.
        reinit: fraction of chains restarted from uniform noise on the box each update.
        learning_rate: Adam's step size.
        regularization: weight :math:`\lambda` of :math:`\lambda\langle E^2\rangle`
            on data and samples, which fixes the energy's free additive constant.
    """

    half_width: float = 4.0
    batch: int = 256
    chains: int = 256
    langevin_steps: int = 20
    epsilon: float = 0.1
    reinit: float = 0.05
    learning_rate: float = 2e-3
    regularization: float = 0.01


class PCDState(NamedTuple):
    """State of :func:`train_pcd`: the energy network, Adam's state and the persistent chains.

    Attributes:
        model: the energy network (an ``equinox`` module).
        opt_state: the optimizer state.
        chains: the persistent Langevin chains, shape ``(chains, 2)``.
    """

    model: Callable[[Array], Array]
    opt_state: Any
    chains: Array


def _optimizer(config: PCDConfig) -> optax.GradientTransformation:
    return optax.adam(config.learning_rate)


def pcd_init(key: Array, model: eqx.Module, config: PCDConfig | None = None) -> PCDState:
    """Start training ``model``: fresh optimizer state and chains uniform on the box.

    ``config`` defaults to ``PCDConfig()``.
    """
    config = PCDConfig() if config is None else config
    params = eqx.filter(model, eqx.is_array)
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    L = config.half_width
    chains = jax.random.uniform(key, (config.chains, 2), dtype, -L, L)
    return PCDState(model, _optimizer(config).init(params), chains)


def train_pcd(
    key: Array, state: PCDState, data: Float[ArrayLike, "n 2"], steps: int, config: PCDConfig | None = None
) -> tuple[PCDState, Float[Array, " steps"]]:
    r"""``steps`` updates of persistent contrastive divergence, in one jit-compiled ``lax.scan``.

    Each update draws a batch of data, restarts a fraction ``reinit`` of the chains from
    uniform noise, advances all chains by ``langevin_steps`` Langevin steps under the
    current energy (no gradient flows through them), and takes an Adam step on

    .. math::

        \ell(\theta) = \overline{E_\theta(x_{\rm data})} - \overline{E_\theta(x_{\rm chains})}
        + \lambda \left(\overline{E_\theta(x_{\rm data})^2} + \overline{E_\theta(x_{\rm chains})^2}\right),

    whose gradient estimates that of the negative log-likelihood when the chains sample
    :math:`p_\theta`. Call again with the returned state to continue; use the same
    ``config`` (it defaults to ``PCDConfig()``) as for :func:`pcd_init`.

    Returns:
        the new state, and the contrastive term (mean energy of the data batch minus mean
        energy of the chains) of every update, shape ``(steps,)``.

    Example:
        3000 updates with the defaults, on 5000 points of :func:`ring_mixture` and the
        network of :func:`energy_network`, take about 4 s on two CPU cores (float32,
        compilation included) and raise the held-out log-likelihood from -4.16 to about
        -2.6 nats per point; the data's own density scores -2.14.

        >>> import jax
        >>> k_data, k_net, k_init, k_train = jax.random.split(jax.random.key(0), 4)
        >>> data = sample_mixture(k_data, ring_mixture(), 5000)
        >>> state = pcd_init(k_init, energy_network(k_net))
        >>> state, contrast = train_pcd(k_train, state, data, 3000)
    """
    data = jnp.asarray(data)
    if data.ndim != 2 or data.shape[-1] != 2:
        raise ValueError(f"data must have shape (n, 2), got {data.shape}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    config = PCDConfig() if config is None else config
    if state.chains.shape != (config.chains, 2):
        raise ValueError(f"state has {state.chains.shape[0]} chains but config.chains = {config.chains}")
    return _train_pcd(key, state, data, steps, config)


@eqx.filter_jit
def _train_pcd(key, state, data, steps, config):
    params, static = eqx.partition(state.model, eqx.is_array)
    optimizer = _optimizer(config)
    L = config.half_width

    def loss(p, batch, negatives):
        model = eqx.combine(p, static)
        e_data, e_neg = jax.vmap(model)(batch), jax.vmap(model)(negatives)
        contrast = jnp.mean(e_data) - jnp.mean(e_neg)
        return contrast + config.regularization * jnp.mean(e_data**2 + e_neg**2), contrast

    def update(carry, k):
        p, opt_state, chains = carry
        k_batch, k_fresh, k_restart, k_run = jax.random.split(k, 4)
        batch = data[jax.random.randint(k_batch, (config.batch,), 0, data.shape[0])]
        fresh = jax.random.uniform(k_fresh, chains.shape, chains.dtype, -L, L)
        restart = jax.random.bernoulli(k_restart, config.reinit, (chains.shape[0], 1))
        chains = jnp.where(restart, fresh, chains)
        model = eqx.combine(p, static)
        chains = jax.lax.stop_gradient(
            langevin(k_run, model, chains, config.epsilon, config.langevin_steps, L)
        )
        grads, contrast = jax.grad(loss, has_aux=True)(p, batch, chains)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state, chains), contrast

    carry = (params, state.opt_state, state.chains)
    (params, opt_state, chains), contrast = jax.lax.scan(update, carry, jax.random.split(key, steps))
    return PCDState(eqx.combine(params, static), opt_state, chains), contrast
