r"""Decoding: drawing the next token from logits, at fixed temperature or at fixed entropy.

A sampler is a function ``sampler(key, logits) -> token``: it draws an integer index into
the last axis of ``logits`` (shape ``(n,)``, or ``(..., n)`` for a batch, which gives one
independent token per row, shape ``(...)``). Samplers are made by small factories and
composed from two kinds of pieces: *filters* that set the logits of excluded tokens to
:math:`-\infty` (:func:`top_k_logits`, :func:`top_p_logits`), and a draw from the tempered
softmax :math:`p_i \propto e^{z_i/T}` (:func:`physml.softmax.softmax`) by the Gumbel-max
trick (:func:`jax.random.categorical`). Samplers work inside :func:`jax.jit`,
:func:`jax.lax.scan` and :func:`jax.vmap`; their arguments (``T``, ``k``, ``p``,
``target``) are checked when the sampler is made, and may also be traced values (a sweep
over ``T`` inside :func:`jax.vmap` compiles once). Each row of logits needs at least one
finite entry (:math:`-\infty` masks a token); a NaN logit makes the token undefined.

Two views of the same dial:

- **canonical** — fix the temperature :math:`T` and let the entropy of each next-token
  distribution be whatever it is (:func:`temperature`, :func:`top_k`, :func:`top_p`);
- **fixed entropy** — fix the entropy :math:`S^*` of every next-token distribution and let
  the temperature adapt to each set of logits (:func:`entropy_targeted`). This is loosely
  called "microcanonical": as in the microcanonical ensemble, a thermodynamic quantity is
  held fixed and the temperature is whatever it must be. (Strictly, the microcanonical
  ensemble fixes the energy, not the entropy; for one distribution both are monotone in
  :math:`T`, so fixing either fixes :math:`T`.)

:func:`temperature_for_entropy` solves :math:`S(T) = S^*` by bisection in :math:`\ln T`,
which always converges because :math:`S(T)` increases monotonically
(:math:`dS/dT = \operatorname{Var}(E)/T^3 \ge 0`) from :math:`\ln m` (:math:`m` tied
maximal logits) to :math:`\ln n_f` (:math:`n_f` finite logits).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from .softmax import _as_logits, _check_temperature, _concrete, _entropy, _softmax

__all__ = [
    "Sampler",
    "entropy_targeted",
    "greedy",
    "sample_many",
    "temperature",
    "temperature_for_entropy",
    "top_k",
    "top_k_logits",
    "top_p",
    "top_p_logits",
]

#: ``sampler(key, logits) -> token``: draws one index of the last axis of ``logits``.
Sampler = Callable[[Array, Array], Array]


# ----------------------------------------------------------------------------- checks


def _check_k(k: int | Array) -> int | Array:
    if isinstance(k, jax.core.Tracer):  # a traced k (inside jit or vmap) must be an integer scalar
        if k.ndim != 0 or not jnp.issubdtype(k.dtype, jnp.integer):
            raise ValueError(f"k must be a positive integer, got a traced {k.dtype} of shape {k.shape}")
        return k
    try:
        k = operator.index(k)
    except TypeError:
        raise ValueError(f"k must be a positive integer, got {k!r}") from None
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    return k


def _check_p(p: float | ArrayLike) -> None:
    if jnp.ndim(p) != 0:
        raise ValueError(f"p must be a scalar, got shape {jnp.shape(p)}")
    value = _concrete(p)
    if value is not None and not (0 < value <= 1):
        raise ValueError(f"p must be a probability mass with 0 < p <= 1, got {value}")


def _check_target(target: float | ArrayLike) -> None:
    if jnp.ndim(target) != 0:
        raise ValueError(f"target must be a scalar entropy, got shape {jnp.shape(target)}")
    value = _concrete(target)
    if value is not None and not value >= 0:  # also rejects NaN
        raise ValueError(f"target must be an entropy in nats, >= 0, got {value}")


def _check_count(name: str, value: int) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


# ----------------------------------------------------------------------------- filters


def _rank(logits: Array) -> Array:
    """Rank of each logit along the last axis: 0 for the largest, ties by lower index."""
    order = jnp.argsort(-logits, axis=-1, stable=True)
    return jnp.argsort(order, axis=-1, stable=True)


@jax.jit
def _top_k(logits: Array, k: int | Array) -> Array:
    return jnp.where(_rank(logits) < k, logits, -jnp.inf)


@jax.jit
def _top_p(logits: Array, p: float | Array) -> Array:
    order = jnp.argsort(-logits, axis=-1, stable=True)
    probs = jnp.take_along_axis(_softmax(logits), order, axis=-1)
    total = jnp.cumsum(probs, axis=-1)
    before = jnp.concatenate([jnp.zeros_like(total[..., :1]), total[..., :-1]], axis=-1)
    keep_sorted = (before < p) | (p >= 1)
    keep = jnp.take_along_axis(keep_sorted, jnp.argsort(order, axis=-1, stable=True), axis=-1)
    return jnp.where(keep, logits, -jnp.inf)


def top_k_logits(logits: Float[ArrayLike, "... n"], k: int) -> Float[Array, "... n"]:
    r"""Keep the ``k`` largest logits and set the others to :math:`-\infty` (last axis).

    Exactly :math:`\min(k, n)` entries survive: ties at the boundary are broken by index
    (lower index first). Logits that are already :math:`-\infty` stay so.

    Args:
        logits: logits, shape ``(..., n)``.
        k: number of tokens to keep, a positive integer (``k >= n`` keeps all).

    Returns:
        the logits, shape ``(..., n)``, with those of excluded tokens set to :math:`-\infty`.

    Example:
        >>> import jax.numpy as jnp
        >>> top_k_logits(jnp.array([1.0, 3.0, 2.0, 3.0]), 2).tolist()
        [-inf, 3.0, -inf, 3.0]
    """
    return _top_k(_as_logits(logits), _check_k(k))


def top_p_logits(logits: Float[ArrayLike, "... n"], p: float) -> Float[Array, "... n"]:
    r"""Nucleus filter: keep the smallest set of most probable tokens whose mass is at least ``p``.

    With probabilities :math:`\pi = \operatorname{softmax}(z)` sorted in decreasing order
    (ties by lower index), the first :math:`m` tokens are kept, where :math:`m` is the
    smallest number with :math:`\pi_{(1)} + \dots + \pi_{(m)} \ge p`. No set of fewer tokens
    has mass :math:`\ge p`, so this is the smallest such set; when several are equally
    small (tied probabilities at the boundary), the one of lower indices is kept. The most
    probable token is always kept, and ``p = 1`` keeps every finite logit (each has a
    positive probability, however small). Apply a temperature first (``logits / T``) to
    filter the tempered distribution.

    Args:
        logits: logits of the ``n`` tokens, shape ``(..., n)``.
        p: mass to keep, :math:`0 < p \le 1`.

    Returns:
        the logits, shape ``(..., n)``, with those of excluded tokens set to :math:`-\infty`.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(z), 3) for z in top_p_logits(jnp.log(jnp.array([0.5, 0.125, 0.375])), 0.8)]
        [-0.693, -inf, -0.981]
    """
    logits = _as_logits(logits)
    _check_p(p)
    return _top_p(logits, p)


# ----------------------------------------------------------------------------- draws


def _tempered(logits: Array, T: float | Array) -> Array:
    r"""Shifted logits :math:`(z_i - z_\max)/T`, with the exact limits at ``T = 0`` and ``T = inf``.

    ``T = 0`` gives 0 for the maximal logits and :math:`-\infty` for the others (uniform
    over the argmax); ``T = inf`` gives 0 for every finite logit (uniform over them).
    Masked logits stay :math:`-\infty`. ``T`` is a scalar or has shape ``(..., 1)``.
    """
    top = jnp.max(logits, axis=-1, keepdims=True)
    masked = logits == -jnp.inf
    gap = jnp.where(masked, -1.0, logits - top)
    a = jnp.where(gap == 0, 0.0, gap / T)  # no 0/0 at T = 0 for the maximal logits
    return jnp.where(masked, -jnp.inf, a)


@jax.jit
def _draw(key: Array, logits: Array, T: float | Array) -> Array:
    """One draw (per row) from the softmax of ``logits`` at temperature ``T``, 0 <= T <= inf."""
    return jax.random.categorical(key, _tempered(logits, T), axis=-1)


@jax.jit
def _draw_top_k(key: Array, logits: Array, k: int | Array, T: float | Array) -> Array:
    return _draw(key, _top_k(logits, k), T)


@jax.jit
def _draw_top_p(key: Array, logits: Array, p: float | Array, T: float | Array) -> Array:
    return _draw(key, _top_p(_tempered(logits, T), p), 1.0)


def greedy() -> Sampler:
    r"""The :math:`T \to 0` sampler: always the most probable token (the key is unused).

    Among tied maximal logits it takes the lowest index (as :func:`jax.numpy.argmax`);
    the :math:`T \to 0` limit of the softmax would share them equally.

    Example:
        >>> import jax.numpy as jnp
        >>> int(greedy()(None, jnp.array([0.1, 2.0, -1.0])))
        1
    """

    def sampler(key: Array | None, logits: Float[ArrayLike, "... n"]) -> Int[Array, ...]:
        return jnp.argmax(_as_logits(logits), axis=-1)

    return sampler


def temperature(T: float) -> Sampler:
    r"""Sample from :math:`p_i \propto e^{z_i/T}` (ancestral sampling at ``T = 1``).

    Args:
        T: temperature, :math:`0 < T < \infty` (for :math:`T \to 0` use :func:`greedy`).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> sampler = temperature(0.7)
        >>> token = sampler(jax.random.key(0), jnp.array([1.0, 2.0, 0.5]))  # an int in {0, 1, 2}
    """
    _check_temperature(T)

    def sampler(key: Array, logits: Float[ArrayLike, "... n"]) -> Int[Array, ...]:
        return _draw(key, _as_logits(logits), T)

    return sampler


def top_k(k: int, T: float = 1.0) -> Sampler:
    r"""Sample at temperature ``T`` among the ``k`` most probable tokens (:func:`top_k_logits`).

    The probabilities are :math:`p_i \propto e^{z_i/T}` on the kept tokens and 0 elsewhere.

    Args:
        k: number of tokens to keep, a positive integer.
        T: temperature, :math:`0 < T < \infty`.
    """
    k = _check_k(k)
    _check_temperature(T)

    def sampler(key: Array, logits: Float[ArrayLike, "... n"]) -> Int[Array, ...]:
        return _draw_top_k(key, _as_logits(logits), k, T)

    return sampler


def top_p(p: float, T: float = 1.0) -> Sampler:
    r"""Nucleus sampling: at temperature ``T``, among the smallest set with tempered mass :math:`\ge p`.

    The filter (:func:`top_p_logits`) acts on the *tempered* distribution
    :math:`\pi_i \propto e^{z_i/T}`, and the draw is from :math:`\pi` restricted to the
    kept tokens and renormalized.

    Args:
        p: mass to keep, :math:`0 < p \le 1`.
        T: temperature, :math:`0 < T < \infty`.
    """
    _check_p(p)
    _check_temperature(T)

    def sampler(key: Array, logits: Float[ArrayLike, "... n"]) -> Int[Array, ...]:
        return _draw_top_p(key, _as_logits(logits), p, T)

    return sampler


@functools.partial(jax.jit, static_argnames="iterations")
def _solve_temperature(logits: Array, target: float | Array, iterations: int) -> Array:
    masked = logits == -jnp.inf
    top = jnp.max(logits, axis=-1, keepdims=True)
    is_top = logits == top
    s_min = jnp.log(jnp.sum(is_top, axis=-1).astype(logits.dtype))
    s_max = jnp.log(jnp.sum(~masked, axis=-1).astype(logits.dtype))
    second = jnp.max(jnp.where(is_top, -jnp.inf, logits), axis=-1)
    bottom = jnp.min(jnp.where(masked, jnp.inf, logits), axis=-1)
    gap = top[..., 0] - second  # inf when all finite logits are equal
    spread = top[..., 0] - bottom
    # At T = gap/800 every non-maximal weight e^{-gap/T} underflows to 0, so S = ln m < target;
    # at T = spread * 1e17 every weight rounds to 1, so S = ln n_f >= target (within rounding).
    lo = jnp.log(jnp.where(jnp.isfinite(gap), gap, 1.0)) - math.log(800.0)
    hi = jnp.log(jnp.where(spread > 0, spread, 1.0)) + math.log(1e17)

    def halve(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        too_cold = _entropy(logits, jnp.exp(mid)[..., None]) < target
        return jnp.where(too_cold, mid, lo), jnp.where(too_cold, hi, mid)

    lo, hi = jax.lax.fori_loop(0, iterations, halve, (lo, hi))
    T = jnp.exp(0.5 * (lo + hi))
    return jnp.where(target <= s_min, 0.0, jnp.where(target >= s_max, jnp.inf, T))


def temperature_for_entropy(
    logits: Float[ArrayLike, "... n"], target: float, iterations: int = 64
) -> Float[Array, ...]:
    r"""The temperature :math:`T` at which the softmax of ``logits`` has entropy ``target`` (nats).

    :math:`S(T)` rises monotonically from :math:`S_{\min} = \ln m` as :math:`T \to 0`
    (:math:`m` logits equal to the maximum) to :math:`S_{\max} = \ln n_f` as
    :math:`T \to \infty` (:math:`n_f` finite logits; :math:`-\infty` marks a filtered
    token). For :math:`S_{\min} < S^* < S_{\max}` the equation :math:`S(T) = S^*` has one
    solution, found by bisection on :math:`\ln T` between a temperature where every
    non-maximal weight underflows and one where every weight rounds to 1.

    A target outside that open range is clamped to the nearer limit, and the limit is
    returned exactly: ``0.0`` when :math:`S^* \le \ln m` (the :math:`T \to 0` distribution,
    uniform over the :math:`m` maximal logits) and ``inf`` when :math:`S^* \ge \ln n_f`
    (uniform over the finite logits). :func:`entropy_targeted` draws from these limits;
    the functions of :mod:`physml.softmax` accept only :math:`0 < T < \infty`.

    Args:
        logits: logits, shape ``(..., n)``, each row with at least one finite entry.
        target: the entropy :math:`S^* \ge 0` to reach, in nats (a scalar).
        iterations: bisection steps; the default 64 resolves :math:`\ln T` to float64 precision.

    Returns:
        :math:`T`, shape ``(...)`` (one per row), in the units of the logits.

    Raises:
        ValueError: for a negative or NaN ``target`` (checked when not traced).

    Example:
        >>> import jax.numpy as jnp
        >>> from physml.softmax import entropy
        >>> z = jnp.array([3.0, 1.0, 0.0, -jnp.inf])
        >>> round(float(entropy(z, temperature_for_entropy(z, 0.5))), 6)
        0.5
        >>> float(temperature_for_entropy(z, 2.0))  # above ln 3: uniform over the finite logits
        inf
    """
    logits = _as_logits(logits)
    _check_target(target)
    iterations = _check_count("iterations", iterations)
    return _solve_temperature(logits, target, iterations)


@functools.partial(jax.jit, static_argnames="iterations")
def _draw_at_entropy(key: Array, logits: Array, target: float | Array, iterations: int) -> Array:
    T = _solve_temperature(logits, target, iterations)
    return _draw(key, logits, T[..., None])


def entropy_targeted(target: float, iterations: int = 64) -> Sampler:
    r"""Sample at the temperature that gives each next-token distribution the entropy ``target``.

    The temperature is :func:`temperature_for_entropy` of each set of logits, including its
    clamping rule: a target at or below :math:`\ln m` draws uniformly among the :math:`m`
    maximal logits (the :math:`T \to 0` limit), one at or above :math:`\ln n_f` uniformly
    among the finite logits.

    Args:
        target: the entropy :math:`S^* \ge 0` of every draw's distribution, in nats.
        iterations: bisection steps of :func:`temperature_for_entropy`.
    """
    _check_target(target)
    iterations = _check_count("iterations", iterations)

    def sampler(key: Array, logits: Float[ArrayLike, "... n"]) -> Int[Array, ...]:
        return _draw_at_entropy(key, _as_logits(logits), target, iterations)

    return sampler


def sample_many(
    sampler: Sampler, key: Array, logits: Float[ArrayLike, "... n"], count: int
) -> Int[Array, "count ..."]:
    """``count`` independent draws of ``sampler`` from the same logits (keys from ``jax.random.split``).

    Args:
        sampler: a sampler from this module, or any ``sampler(key, logits) -> token``.
        key: a PRNG key.
        logits: logits, shape ``(n,)`` or ``(..., n)``.
        count: number of draws, a positive integer.

    Returns:
        tokens, shape ``(count, ...)``.
    """
    count = _check_count("count", count)
    keys = jax.random.split(key, count)
    return jax.vmap(sampler, in_axes=(0, None))(keys, jnp.asarray(logits))
