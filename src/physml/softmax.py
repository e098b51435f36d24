r"""Softmax with temperature as a Boltzmann distribution over the entries of a logit vector.

Read the logits :math:`z_i` of a classifier or a language model as negative energies,
:math:`E_i = -z_i`. At temperature :math:`T > 0` (units with :math:`k_B = 1`, so :math:`T`
has the units of the logits) the softmax is the Boltzmann distribution

.. math::

    p_i(T) = \frac{e^{z_i/T}}{Z(T)}, \qquad Z(T) = \sum_i e^{z_i/T},

and the denominator is a partition function. Everything else follows from :math:`\ln Z`:

.. math::

    F = -T\ln Z, \qquad \langle E\rangle = -\sum_i p_i z_i, \qquad
    S = -\sum_i p_i \ln p_i, \qquad F = \langle E\rangle - TS, \qquad
    \frac{\partial F}{\partial T} = -S, \qquad
    \frac{\partial S}{\partial T} = \frac{\operatorname{Var}(E)}{T^3} \ge 0 .

Every function here shifts the logits by their maximum before dividing by :math:`T` and
exponentiating, so it is finite and accurate for any :math:`0 < T < \infty` and logits as
large as :math:`10^4` (where a naive ``exp`` overflows even in float64). As
:math:`T \to 0` the distribution becomes uniform over the largest logits (the argmax,
ties shared equally); as :math:`T \to \infty`, uniform over all finite logits. The
temperature must be positive and finite: the two limits themselves are
:func:`physml.sampling.greedy` and the uniform distribution.

Conventions shared by every function:

- functions act on the last axis, so a batch of logit vectors of shape ``(..., n)`` works
  too; ``T`` is a scalar;
- a logit of :math:`-\infty` is a masked (filtered) token: probability exactly 0, no
  contribution to :math:`Z`, :math:`\langle E\rangle` or :math:`S`, and a zero derivative.
  At least one logit of each vector must be finite; :math:`+\infty` and NaN logits give NaN;
- derivatives with respect to ``logits`` and ``T`` (:func:`jax.grad`) are exact: the shift
  is held constant under differentiation, and the results do not depend on it.

Information measures of distributions given as probabilities (entropy, cross-entropy,
Kullback–Leibler divergence) are here as well, with the convention :math:`0\ln 0 = 0`.
All logarithms are natural: entropies are in nats (divide by :math:`\ln 2` for bits).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import rel_entr, xlogy
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "cross_entropy",
    "entropy",
    "free_energy",
    "kl_divergence",
    "log_partition",
    "log_softmax",
    "mean_energy",
    "shannon_entropy",
    "softmax",
]


# ----------------------------------------------------------------------------- checks


def _concrete(x: ArrayLike) -> np.ndarray | None:
    """``x`` as a NumPy array, or ``None`` while it is traced (inside jit, grad or vmap)."""
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x)


def _as_logits(logits: ArrayLike) -> Array:
    """``logits`` as a floating array with a non-empty last axis, or a clear ValueError."""
    logits = jnp.asarray(logits)
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits need a last axis with at least one entry, got shape {logits.shape}")
    if not jnp.issubdtype(logits.dtype, jnp.floating):
        logits = logits.astype(jnp.result_type(logits.dtype, float))
    return logits


def _check_temperature(T: float | ArrayLike) -> None:
    """Raise a ValueError unless ``T`` is a scalar with 0 < T < inf (traced values pass)."""
    if jnp.ndim(T) != 0:
        raise ValueError(f"T must be a scalar temperature, got shape {jnp.shape(T)}")
    value = _concrete(T)
    if value is not None and not (np.isfinite(value) and value > 0):
        raise ValueError(
            f"T must be a positive, finite temperature, got {value}; the limit T -> 0 is the "
            "argmax (physml.sampling.greedy), T -> inf the uniform distribution"
        )


# ----------------------------------------------------------------------------- kernel


def _shifted(logits: Array, T: float | Array) -> tuple[Array, Array, Array]:
    r"""``(top, gap, a)``: :math:`z_\max`, :math:`z_i - z_\max \le 0` and :math:`a_i = (z_i - z_\max)/T`.

    ``top`` has shape ``(..., 1)`` and is held constant under differentiation. Masked
    logits (:math:`-\infty`) get ``gap = 0`` (finite, so no NaN reaches a derivative) and
    :math:`a = -\infty`. ``T`` is a scalar or has shape ``(..., 1)``.
    """
    top = jax.lax.stop_gradient(jnp.max(logits, axis=-1, keepdims=True))
    masked = logits == -jnp.inf
    gap = jnp.where(masked, 0.0, logits - top)
    return top, gap, jnp.where(masked, -jnp.inf, gap / T)


def _log_sum_exp(a: Array) -> Array:
    r""":math:`\ln\sum_i e^{a_i}` (last axis) of shifted logits, :math:`\max_i a_i = 0`.

    Split as :math:`\ln h + \operatorname{log1p}(t/h)`, with :math:`h` the sum over the
    maximal entries (:math:`h = m`) and :math:`t` over the rest: accurate to the last digit
    also when the result is close to 0 (a confident distribution), where
    :math:`\ln(1 + t)` computed as ``log(sum)`` keeps only an absolute accuracy of
    :math:`10^{-16}`. Both parts are differentiable, so the derivative is :math:`e^{a_i}/\sum_j e^{a_j}`.
    """
    weights = jnp.exp(a)
    top = a == 0
    head = jnp.sum(jnp.where(top, weights, 0.0), axis=-1)
    tail = jnp.sum(jnp.where(top, 0.0, weights), axis=-1)
    return jnp.log(head) + jnp.log1p(tail / head)


def _normalized(a: Array) -> Array:
    r"""Probabilities :math:`e^{a_i}/\sum_j e^{a_j}` of shifted logits (the largest weight is 1)."""
    weights = jnp.exp(a)
    return weights / jnp.sum(weights, axis=-1, keepdims=True)


# Compiled kernels without input checks (the public functions below check, then call them).


@jax.jit
def _softmax(logits: Array, T: float | Array = 1.0) -> Array:
    return _normalized(_shifted(logits, T)[2])


@jax.jit
def _log_softmax(logits: Array, T: float | Array) -> Array:
    _, _, a = _shifted(logits, T)
    return a - _log_sum_exp(a)[..., None]


@jax.jit
def _log_partition(logits: Array, T: float | Array) -> Array:
    top, _, a = _shifted(logits, T)
    return top[..., 0] / T + _log_sum_exp(a)


@jax.jit
def _free_energy(logits: Array, T: float | Array) -> Array:
    top, _, a = _shifted(logits, T)
    return -top[..., 0] - T * _log_sum_exp(a)


@jax.jit
def _mean_energy(logits: Array, T: float | Array) -> Array:
    top, gap, a = _shifted(logits, T)
    return -top[..., 0] - jnp.sum(_normalized(a) * gap, axis=-1)


@jax.jit
def _entropy(logits: Array, T: float | Array) -> Array:
    _, _, a = _shifted(logits, T)
    p = _normalized(a)
    return _log_sum_exp(a) - jnp.sum(p * jnp.where(a == -jnp.inf, 0.0, a), axis=-1)


# ----------------------------------------------------------------------------- Boltzmann


def log_softmax(logits: Float[ArrayLike, "... n"], T: float = 1.0) -> Float[Array, "... n"]:
    r"""Log-probabilities :math:`\ln p_i = z_i/T - \ln Z(T)` (last axis).

    Computed as :math:`a_i - \ln\sum_j e^{a_j}` with :math:`a_i = (z_i - z_\max)/T`: finite
    for every finite logit, however small its probability (no ``log`` of an underflowed 0),
    and accurate to the last digit also close to 0, for the most probable token of a
    confident distribution (the sum is taken as :math:`\ln m + \operatorname{log1p}(\dots)`).

    Args:
        logits: logits :math:`z_i = -E_i`, shape ``(..., n)``; :math:`-\infty` masks a token.
        T: temperature, :math:`0 < T < \infty`, in the units of the logits.

    Returns:
        :math:`\ln p_i`, shape ``(..., n)``; :math:`-\infty` exactly at masked tokens.

    Example:
        >>> import jax.numpy as jnp
        >>> log_softmax(jnp.array([0.0, -2000.0]), T=0.5).tolist()  # p_1 = e^{-4000} underflows
        [0.0, -4000.0]
    """
    logits = _as_logits(logits)
    _check_temperature(T)
    return _log_softmax(logits, T)


def softmax(logits: Float[ArrayLike, "... n"], T: float = 1.0) -> Float[Array, "... n"]:
    r"""Softmax with temperature, :math:`p_i = e^{z_i/T} / \sum_j e^{z_j/T}` (last axis).

    Args:
        logits: logits :math:`z_i = -E_i`, shape ``(..., n)``; :math:`-\infty` masks a token.
        T: temperature, :math:`0 < T < \infty`, in the units of the logits.

    Returns:
        probabilities, shape ``(..., n)``, summing to 1 along the last axis.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(p), 4) for p in softmax(jnp.array([1e4, 1e4 - 1.0]), T=1.0)]
        [0.7311, 0.2689]
    """
    logits = _as_logits(logits)
    _check_temperature(T)
    return _softmax(logits, T)


def log_partition(logits: Float[ArrayLike, "... n"], T: float = 1.0) -> Float[Array, ...]:
    r"""Log partition function :math:`\ln Z(T) = z_\max/T + \ln\sum_i e^{(z_i - z_\max)/T}`.

    Its derivatives are the physics: :math:`\partial\ln Z/\partial z_i = p_i/T` and
    :math:`\partial\ln Z/\partial T = \langle E\rangle/T^2`.

    Args:
        logits: logits, shape ``(..., n)``; :math:`-\infty` masks a token.
        T: temperature, :math:`0 < T < \infty`.

    Returns:
        :math:`\ln Z`, shape ``(...)`` (dimensionless).
    """
    logits = _as_logits(logits)
    _check_temperature(T)
    return _log_partition(logits, T)


def free_energy(logits: Float[ArrayLike, "... n"], T: float = 1.0) -> Float[Array, ...]:
    r"""Free energy :math:`F(T) = -T\ln Z(T) = -z_\max - T\ln\sum_i e^{(z_i - z_\max)/T}`.

    It tends to the lowest energy :math:`-z_\max` as :math:`T \to 0`, and
    :math:`\partial F/\partial T = -S`.

    Args:
        logits: logits, shape ``(..., n)``; :math:`-\infty` masks a token.
        T: temperature, :math:`0 < T < \infty`.

    Returns:
        :math:`F`, shape ``(...)``, in the units of the logits.
    """
    logits = _as_logits(logits)
    _check_temperature(T)
    return _free_energy(logits, T)


def mean_energy(logits: Float[ArrayLike, "... n"], T: float = 1.0) -> Float[Array, ...]:
    r"""Mean energy :math:`\langle E\rangle = -\sum_i p_i(T)\, z_i = F + TS`.

    Computed as :math:`-z_\max - \sum_i p_i (z_i - z_\max)`, so logits of :math:`10^4`
    lose no digits to the sum. It rises from :math:`-z_\max` at :math:`T \to 0` to minus
    the mean finite logit at :math:`T \to \infty`.

    Args:
        logits: logits, shape ``(..., n)``; :math:`-\infty` masks a token.
        T: temperature, :math:`0 < T < \infty`.

    Returns:
        :math:`\langle E\rangle`, shape ``(...)``, in the units of the logits.
    """
    logits = _as_logits(logits)
    _check_temperature(T)
    return _mean_energy(logits, T)


def entropy(logits: Float[ArrayLike, "... n"], T: float = 1.0) -> Float[Array, ...]:
    r"""Entropy of the softmax at temperature :math:`T`, :math:`S(T) = -\sum_i p_i\ln p_i` (nats).

    Computed as :math:`\ln\sum_i e^{a_i} - \sum_i p_i a_i` with the shifted, non-positive
    :math:`a_i = (z_i - z_\max)/T`: both terms are non-negative, so nothing cancels
    catastrophically at small :math:`T` the way :math:`\ln Z - \langle E\rangle/T` would.
    :math:`S` grows monotonically, since :math:`dS/dT = \operatorname{Var}(E)/T^3`, from
    :math:`\ln m` as :math:`T \to 0` (:math:`m` the number of logits equal to the maximum)
    to :math:`\ln n_f` as :math:`T \to \infty` (:math:`n_f` the number of finite logits).

    Args:
        logits: logits, shape ``(..., n)``; :math:`-\infty` masks a token.
        T: temperature, :math:`0 < T < \infty`.

    Returns:
        :math:`S`, shape ``(...)``, in nats, :math:`0 \le S \le \ln n`.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(entropy(jnp.array([2.0, 2.0, 0.0, -jnp.inf]), T=1e-3)), 6)  # ln 2
        0.693147
    """
    logits = _as_logits(logits)
    _check_temperature(T)
    return _entropy(logits, T)


# ----------------------------------------------------------------------------- information


def _probabilities(p: ArrayLike, name: str) -> Array:
    """``p`` as an array of probabilities along its last axis, or a clear ValueError.

    Values are checked only when they are concrete (not inside jit, grad or vmap).
    """
    p = jnp.asarray(p)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"{name} needs a last axis with at least one outcome, got shape {p.shape}")
    value = _concrete(p)
    if value is None:
        return p
    if not np.all(np.isfinite(value)) or np.any(value < 0):
        raise ValueError(f"{name} must hold probabilities: finite and >= 0, got {value}")
    total = value.sum(axis=-1)
    eps = np.finfo(value.dtype).eps if np.issubdtype(value.dtype, np.floating) else 0.0
    if np.any(np.abs(total - 1) > 1e-6 + 4 * value.shape[-1] * eps):
        raise ValueError(
            f"{name} must sum to 1 along its last axis, got sums {total}; "
            f"normalize it first ({name} / {name}.sum(-1, keepdims=True))"
        )
    return p


def _pair(p: ArrayLike, q: ArrayLike) -> tuple[Array, Array]:
    p, q = _probabilities(p, "p"), _probabilities(q, "q")
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"p and q must have the same number of outcomes, got {p.shape[-1]} and {q.shape[-1]}"
        )
    return p, q


@jax.jit
def _shannon_entropy(p: Array) -> Array:
    return 0.0 - jnp.sum(xlogy(p, p), axis=-1)  # +0.0, not -0.0, for a certain outcome


@jax.jit
def _cross_entropy(p: Array, q: Array) -> Array:
    return -jnp.sum(xlogy(p, q), axis=-1)


@jax.jit
def _kl_divergence(p: Array, q: Array) -> Array:
    return jnp.sum(rel_entr(p, q), axis=-1)


def shannon_entropy(p: Float[ArrayLike, "... n"]) -> Float[Array, ...]:
    r"""Shannon entropy :math:`H(P) = -\sum_i p_i \ln p_i` of probabilities ``p`` (nats).

    Outcomes of probability 0 contribute nothing (:math:`0\ln 0 = 0`). Note the sum:
    :math:`-p_i\ln p_i` alone is one outcome's contribution, not the entropy.

    Args:
        p: probabilities, shape ``(..., n)``, non-negative and summing to 1 on the last axis.

    Returns:
        :math:`H(P)`, shape ``(...)``, :math:`0 \le H \le \ln n`.

    Raises:
        ValueError: if ``p`` is not a probability vector (checked when not traced).
    """
    p = _probabilities(p, "p")
    return _shannon_entropy(p)


def cross_entropy(p: Float[ArrayLike, "... n"], q: Float[ArrayLike, "... n"]) -> Float[Array, ...]:
    r"""Cross-entropy :math:`H(P, Q) = -\sum_i p_i \ln q_i = H(P) + \mathrm{KL}(P\,\|\,Q)` (nats).

    The expected code length (in nats) of data from :math:`P` coded for :math:`Q`. Terms
    with :math:`p_i = 0` contribute nothing; it is :math:`+\infty` when :math:`Q` gives
    probability zero to an outcome that :math:`P` does not.

    Args:
        p: probabilities of the data, shape ``(..., n)``.
        q: probabilities of the model, shape ``(..., n)`` (batch axes broadcast).

    Returns:
        :math:`H(P, Q)`, shape ``(...)``, :math:`\ge H(P)`.

    Raises:
        ValueError: if ``p`` or ``q`` is not a probability vector (checked when not traced).
    """
    p, q = _pair(p, q)
    return _cross_entropy(p, q)


def kl_divergence(p: Float[ArrayLike, "... n"], q: Float[ArrayLike, "... n"]) -> Float[Array, ...]:
    r"""Kullback–Leibler divergence :math:`\mathrm{KL}(P\,\|\,Q) = \sum_i p_i\ln(p_i/q_i) \ge 0` (nats).

    Zero if and only if :math:`P = Q`; not symmetric in its arguments. Terms with
    :math:`p_i = 0` contribute nothing; it is :math:`+\infty` when :math:`Q` gives
    probability zero to an outcome that :math:`P` does not.

    Args:
        p: probabilities, shape ``(..., n)``.
        q: probabilities, shape ``(..., n)`` (batch axes broadcast).

    Returns:
        :math:`\mathrm{KL}(P\,\|\,Q)`, shape ``(...)``.

    Raises:
        ValueError: if ``p`` or ``q`` is not a probability vector (checked when not traced).
    """
    p, q = _pair(p, q)
    return _kl_divergence(p, q)
