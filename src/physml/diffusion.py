r"""A toy diffusion model in two dimensions: denoising score matching and annealed Langevin
sampling.

Blur the data density :math:`p` with Gaussian noise of width :math:`\sigma`,
:math:`p_\sigma = p * \mathcal N(0, \sigma^2 I)`. For large :math:`\sigma` the blurred
density is one broad Gaussian, easy to sample; for small :math:`\sigma` it is the data. A
network :math:`s_\theta(x, \sigma)` learns the *score* :math:`\nabla_x \ln p_\sigma(x)` of
every level by denoising score matching (Vincent 2011),

.. math::

    \ell(\theta) = \mathbb{E}_{\sigma}\, \mathbb{E}_{x\sim p}\, \mathbb{E}_{z\sim\mathcal N(0,I)}
    \big|\sigma\, s_\theta(x + \sigma z, \sigma) + z\big|^2 ,

whose minimizer is the exact score (the target :math:`-z/\sigma` is the score of the
noising kernel, and its average given the noisy point is :math:`\nabla\ln p_\sigma`). It
never needs :math:`p` itself, only samples. Samples are then drawn by *annealed Langevin
dynamics* (Song and Ermon 2019): Langevin dynamics at temperature 1 on the loss
:math:`-\ln p_{\sigma_i}` — the unadjusted algorithm :func:`physml.langevin.ula` with the
score in place of :math:`-\nabla L` — at noise levels :math:`\sigma_1 > \dots > \sigma_L`
in turn, each level starting from the samples of the one before, with a step
:math:`dt_i = \frac{\epsilon}{2}\,\sigma_i^2` proportional to the level's variance:

.. math::

    x \leftarrow x + dt_i\, s_\theta(x, \sigma_i) + \sqrt{2\,dt_i}\;\xi .

This is simulated annealing in reverse: the temperature-like noise level falls, and the
chain follows the sharpening density instead of freezing in the first well it finds.

The data here are the Gaussian mixtures of :mod:`physml.ebm`, whose blurred densities and
scores are known in closed form (:func:`mixture_score`): the exact score is the oracle for
both the training and the sampler. Points have shape ``(..., 2)``; a score takes one point
of shape ``(2,)`` and a noise level to a vector of shape ``(2,)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float

from .ebm import Mixture
from .langevin import Sampler, run_chains

__all__ = [
    "AnnealedState",
    "ScoreNetwork",
    "annealed_langevin",
    "blurred_mixture",
    "dsm_loss",
    "mixture_score",
    "noise_levels",
    "sample",
    "train_score",
]

Score = Callable[[Array, Array], Array]


def noise_levels(sigma_max: float = 4.0, sigma_min: float = 0.05, n: int = 12) -> Float[Array, " n"]:
    r"""``n`` noise levels falling geometrically from :math:`\sigma_{\max}` to :math:`\sigma_{\min}`.

    :math:`\sigma_{\max}` should be about the largest distance between data points, so that
    :math:`p_{\sigma_{\max}}` is one broad blob (Song and Ermon 2020); :math:`\sigma_{\min}`
    below the smallest feature of the data.
    """
    if not 0 < sigma_min < sigma_max or n < 2:
        raise ValueError(f"need 0 < sigma_min < sigma_max and n >= 2, got {sigma_min}, {sigma_max}, {n}")
    return jnp.exp(jnp.linspace(math.log(sigma_max), math.log(sigma_min), n))


def blurred_mixture(mixture: Mixture, sigma: float) -> Mixture:
    r""":math:`p_\sigma = p * \mathcal N(0, \sigma^2 I)` of an isotropic mixture: the same means and
    weights, width :math:`\sqrt{s^2 + \sigma^2}`."""
    return Mixture(mixture.means, math.sqrt(mixture.std**2 + sigma**2), mixture.weights)


def mixture_score(mixture: Mixture, x: Float[ArrayLike, "... 2"], sigma: Float[ArrayLike, ...]) -> Array:
    r"""Exact score of the blurred mixture, :math:`\nabla_x \ln p_\sigma(x) = \sum_k r_k(x)\,
    (\mu_k - x)/(s^2 + \sigma^2)`, with :math:`r_k` the responsibilities (posterior weights of
    the components) at :math:`x`. ``sigma`` broadcasts against the leading axes of ``x``.
    """
    x = jnp.asarray(x)
    return _mixture_score(mixture, x, jnp.asarray(sigma, x.dtype))


@jax.jit
def _mixture_score(mixture: Mixture, x: Array, sigma: Array) -> Array:
    var = jnp.broadcast_to(mixture.std**2 + sigma**2, x.shape[:-1])[..., None]
    batch = (1,) * (x.ndim - 1)
    diff = mixture.means.reshape(batch + mixture.means.shape) - x[..., None, :]  # (..., k, 2)
    log_w = jnp.log(mixture.weights).reshape(batch + mixture.weights.shape)
    r = jax.nn.softmax(log_w - jnp.sum(diff**2, axis=-1) / (2 * var), axis=-1)  # (..., k)
    return jnp.sum(r[..., None] * diff, axis=-2) / var


class ScoreNetwork(eqx.Module):
    r"""A noise-conditional score :math:`s_\theta(x, \sigma) = f_\theta(x, \ln\sigma)/\sigma`, with
    :math:`f_\theta` an ``equinox.nn.MLP`` from :math:`\mathbb{R}^3` to :math:`\mathbb{R}^2`.

    Dividing by :math:`\sigma` makes the network's output of order 1 at every level (the
    score of :math:`p_\sigma` is of order :math:`1/\sigma` where the data are sharp; Song and
    Ermon 2020). ``dtype`` is that of the parameters (default: JAX's default float); train
    on data of the same dtype.
    """

    mlp: eqx.nn.MLP

    def __init__(self, key: Array, width: int = 64, depth: int = 3, dtype=None):
        self.mlp = eqx.nn.MLP(3, 2, width, depth, activation=jax.nn.silu, dtype=dtype, key=key)

    def __call__(self, x: Float[Array, " 2"], sigma: Float[Array, ""]) -> Float[Array, " 2"]:
        sigma = jnp.asarray(sigma, x.dtype)
        return self.mlp(jnp.concatenate([x, jnp.log(sigma)[None]])) / sigma


@eqx.filter_jit
def dsm_loss(
    score: Score, key: Array, x: Float[Array, "m 2"], sigmas: Float[Array, " levels"]
) -> Float[Array, ""]:
    r"""The denoising score-matching loss on a batch,
    :math:`\frac1m\sum_a |\sigma_a s(x_a + \sigma_a z_a, \sigma_a) + z_a|^2`, with one level
    :math:`\sigma_a` drawn uniformly from ``sigmas`` and one :math:`z_a \sim \mathcal N(0, I)`
    per point.

    For the exact score its expectation is :math:`2 - \mathbb{E}_\sigma \sigma^2\,
    \mathbb{E}_{p_\sigma}|\nabla\ln p_\sigma|^2` (by Tweedie's formula
    :math:`\mathbb{E}[z\,|\,\tilde x] = -\sigma\nabla\ln p_\sigma(\tilde x)`); any other score
    adds :math:`\mathbb{E}\,\sigma^2 |s - \nabla\ln p_\sigma|^2`.
    """
    k_level, k_noise = jax.random.split(key)
    sigma = sigmas[jax.random.randint(k_level, (x.shape[0],), 0, sigmas.shape[0])]
    z = jax.random.normal(k_noise, x.shape, x.dtype)
    predicted = jax.vmap(score)(x + sigma[:, None] * z, sigma)
    return jnp.mean(jnp.sum((sigma[:, None] * predicted + z) ** 2, axis=-1))


def train_score(
    key: Array,
    model: ScoreNetwork,
    data: Float[ArrayLike, "n 2"],
    steps: int,
    sigmas: Float[ArrayLike, " levels"],
    *,
    batch: int = 256,
    learning_rate: float = 3e-3,
) -> tuple[ScoreNetwork, Float[Array, " steps"]]:
    """Train a score network by :func:`dsm_loss` with Adam (cosine-decayed learning rate), in
    one jit-compiled ``lax.scan`` of ``steps`` updates on batches drawn from ``data``.

    Returns:
        the trained model, and the loss of every update, shape ``(steps,)``.
    """
    data = jnp.asarray(data)
    if data.ndim != 2 or data.shape[-1] != 2:
        raise ValueError(f"data must have shape (n, 2), got {data.shape}")
    if steps < 1 or batch < 1 or not learning_rate > 0:
        raise ValueError(
            f"need steps, batch >= 1 and learning_rate > 0; got {steps}, {batch}, {learning_rate}"
        )
    return _train_score(key, model, data, steps, jnp.asarray(sigmas, data.dtype), batch, learning_rate)


@eqx.filter_jit
def _train_score(key, model, data, steps, sigmas, batch, learning_rate):
    params, static = eqx.partition(model, eqx.is_array)
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))

    def update(carry, k):
        p, opt_state = carry
        k_batch, k_loss = jax.random.split(k)
        x = data[jax.random.randint(k_batch, (batch,), 0, data.shape[0])]
        loss, grads = jax.value_and_grad(lambda q: dsm_loss(eqx.combine(q, static), k_loss, x, sigmas))(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(update, (params, optimizer.init(params)), jax.random.split(key, steps))
    return eqx.combine(params, static), losses


class AnnealedState(NamedTuple):
    """State of one chain of :func:`annealed_langevin`.

    Attributes:
        position: the point, shape ``(2,)``.
        count: steps taken so far (an int32 scalar); it sets the current noise level.
    """

    position: Array
    count: Array


def annealed_langevin(
    score: Score, sigmas: Float[ArrayLike, " levels"], steps_per_level: int = 100, epsilon: float = 0.3
) -> Sampler:
    r"""Annealed Langevin dynamics as an ``(init, step)`` pair (run it with
    :func:`physml.langevin.run_chains` for ``len(sigmas) * steps_per_level`` steps).

    Step :math:`t` is at level :math:`i = \lfloor t/T\rfloor` (:math:`T` = ``steps_per_level``,
    held at the last level afterwards) with :math:`dt_i = \frac{\epsilon}{2}\sigma_i^2`:
    :math:`x \leftarrow x + dt_i\, s(x, \sigma_i) + \sqrt{2 dt_i}\,\xi`. At a fixed
    level this is the unadjusted Langevin algorithm at :math:`\beta = 1` for
    :math:`-\ln p_{\sigma_i}`, whose stationary law differs from :math:`p_{\sigma_i}` by
    :math:`O(dt_i)`; measured in the level's own variance :math:`s^2 + \sigma_i^2` (data of
    width :math:`s`) the step is at most :math:`\epsilon/2`.

    Args:
        score: :math:`s(x, \sigma)`, from a point of shape ``(2,)`` and a level to ``(2,)``.
        sigmas: the levels :math:`\sigma_1 > \dots > \sigma_L` (:func:`noise_levels`).
        steps_per_level: :math:`T`.
        epsilon: :math:`\epsilon > 0`, twice the step in units of the level's variance
            :math:`\sigma_i^2`.
    """
    sigmas = jnp.asarray(sigmas)
    if sigmas.ndim != 1 or sigmas.shape[0] < 1 or steps_per_level < 1 or not epsilon > 0:
        raise ValueError("need a 1-D array of noise levels, steps_per_level >= 1 and epsilon > 0")
    dts = 0.5 * epsilon * sigmas**2

    def init(position: Float[ArrayLike, " 2"]) -> AnnealedState:
        return AnnealedState(jnp.asarray(position), jnp.zeros((), jnp.int32))

    def step(key: Array, state: AnnealedState) -> AnnealedState:
        level = jnp.minimum(state.count // steps_per_level, sigmas.shape[0] - 1)
        x, dt = state.position, dts[level].astype(state.position.dtype)
        x = x + dt * score(x, sigmas[level]) + jnp.sqrt(2 * dt) * jax.random.normal(key, x.shape, x.dtype)
        return AnnealedState(x, state.count + 1)

    return Sampler(init, step)


def sample(
    key: Array,
    score: Score,
    n: int,
    sigmas: Float[ArrayLike, " levels"],
    steps_per_level: int = 100,
    epsilon: float = 0.3,
    denoise: bool = True,
) -> Float[Array, "n 2"]:
    r"""``n`` samples by :func:`annealed_langevin` from :math:`\mathcal N(0, \sigma_1^2 I)`.

    With ``denoise`` the last step is Tweedie's formula :math:`\hat x = x + \sigma_L^2 s(x,
    \sigma_L)`, the posterior mean of the clean point, which removes the remaining noise of
    width :math:`\sigma_L` (Song and Ermon 2020).
    """
    sigmas = jnp.asarray(sigmas)
    sampler = annealed_langevin(score, sigmas, steps_per_level, epsilon)
    k_init, k_run = jax.random.split(key)
    x0 = sigmas[0] * jax.random.normal(k_init, (n, 2), sigmas.dtype)
    total = sigmas.shape[0] * steps_per_level
    final, _ = run_chains(k_run, sampler, x0, total, thin=total)
    x = final.position
    if denoise:
        x = x + sigmas[-1] ** 2 * jax.vmap(score, in_axes=(0, None))(x, sigmas[-1])
    return x
