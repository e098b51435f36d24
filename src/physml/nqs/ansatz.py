r"""Variational wavefunctions :math:`\psi_\theta(s)` given by their log amplitude.

An ansatz is an :class:`Ansatz`: a pair of pure functions ``init(key) -> params`` and
``log_psi(params, s) -> log ψ``, with ``params`` a plain pytree (a dict of arrays). Spin
configurations ``s`` have shape ``(..., N)`` with entries :math:`\pm 1` (the
:math:`\sigma^z` eigenvalues); ``log_psi`` maps over any leading axes and returns
shape ``(...)``. The dtype of the parameters is the dtype of the computation.

All ansätze here are **real**: :math:`\ln\psi_\theta(s)` is real, so
:math:`\psi_\theta(s) = e^{\ln\psi_\theta(s)} > 0` for every configuration. That is enough
for a Hamiltonian whose off-diagonal elements are all :math:`\le 0` in the
:math:`\sigma^z` basis ("stoquastic"): by Perron–Frobenius its ground state can be chosen
with positive amplitudes. The transverse-field Ising model (off-diagonal
:math:`-h \le 0`) is one; the Heisenberg antiferromagnet is one only after the Marshall
rotation :math:`U = \prod_{i\in B}\sigma^z_i`, which turns its off-diagonal
:math:`+J/2` into :math:`-J/2`. Complex or signed amplitudes are therefore not needed
here. Without the rotation a positive ansatz fails for a definite reason: for
:math:`\psi \ge 0` and off-diagonal elements :math:`\ge 0`,
:math:`\langle\psi|H|\psi\rangle \ge \sum_s H_{ss}\psi(s)^2 \ge \min_s H_{ss}\,\langle\psi|\psi\rangle`,
so the best it can do is the Néel energy :math:`-JB/4` (:math:`B` bonds): :math:`-5.5`
for the periodic chain of 22 sites, against :math:`E_0 = -9.7869`.

Every ansatz may carry a fast path for Metropolis sampling (``cache``/``flip``, see
:class:`Ansatz`); :func:`rbm` does, updating the hidden pre-activations
:math:`\theta = b + Ws` in :math:`O(M)` per flipped spin instead of recomputing them in
:math:`O(NM)`. Ansätze without one get a generic fallback that re-evaluates ``log_psi``.

Reference: G. Carleo and M. Troyer, Science 355, 602 (2017).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

__all__ = [
    "Ansatz",
    "feed_forward",
    "flip_sites",
    "jastrow",
    "log_cosh",
    "mean_field",
    "plain",
    "rbm",
]

Params = Any


class Ansatz(NamedTuple):
    r"""A real variational wavefunction :math:`\psi_\theta(s) = e^{\ln\psi_\theta(s)}`.

    Attributes:
        n_sites: number of spins :math:`N`.
        init: ``init(key, *, dtype=None) -> params``, small random parameters.
        log_psi: ``log_psi(params, s) -> Float[Array, "..."]`` for ``s`` of shape ``(..., N)``.
        cache: ``cache(params, s) -> c`` for one configuration ``s`` of shape ``(N,)``:
            whatever :attr:`flip` needs to update cheaply (``()`` if nothing).
        flip: ``flip(params, s, c, sites) -> (log_psi(params, s'), c')`` where ``s'`` is
            ``s`` with the spins at the integer indices ``sites`` (shape ``(k,)``, distinct)
            reversed, and ``c'`` the cache of ``s'``.
    """

    n_sites: int
    init: Callable[..., Params]
    log_psi: Callable[[Params, Array], Array]
    cache: Callable[[Params, Array], Any]
    flip: Callable[[Params, Array, Any, Array], tuple[Array, Any]]


# ----------------------------------------------------------------------------- helpers


@jax.custom_jvp
def log_cosh(x: Float[ArrayLike, ...]) -> Float[Array, ...]:
    r""":math:`\ln\cosh x = |x| + \ln(1 + e^{-2|x|}) - \ln 2`, with derivative :math:`\tanh x`.

    Finite for any finite :math:`x` (the naive form overflows for :math:`|x| \gtrsim 710`
    in float64, :math:`89` in float32), and about three times faster on CPU than
    ``logaddexp(x, -x) - ln 2``; it is the innermost function of RBM sampling. The error is
    a few ulp of :math:`\max(1, |x|)`: absolute, not relative, near :math:`x = 0` where
    :math:`\ln\cosh x \approx x^2/2` — what a sum of log amplitudes needs.
    """
    ax = jnp.abs(jnp.asarray(x))
    return ax + jnp.log1p(jnp.exp(-2.0 * ax)) - math.log(2.0)


@log_cosh.defjvp
def _log_cosh_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    (x,), (dx,) = primals, tangents
    return log_cosh(x), jnp.tanh(x) * dx


def flip_sites(s: Float[Array, " n"], sites: Int[Array, " k"]) -> Float[Array, " n"]:
    r"""``s`` with the spins at ``sites`` (distinct indices) reversed, :math:`s_i \to -s_i`.

    Written as a product with a :math:`\pm1` mask rather than a scatter, which is slow on CPU.
    """
    hit = jnp.any(sites[:, None] == jnp.arange(s.shape[-1])[None, :], axis=0)
    return jnp.where(hit, -s, s)


def _batched(n: int, single: Callable[[Params, Array], Array]) -> Callable[[Params, Array], Array]:
    """Map ``single(params, s)`` (``s`` of shape ``(N,)``, scalar out) over leading axes."""

    def log_psi(params: Params, s: Array) -> Array:
        s = jnp.asarray(s)
        if s.ndim == 0 or s.shape[-1] != n:
            raise ValueError(f"configurations must have shape (..., {n}), got {s.shape}")
        flat = s.reshape(-1, s.shape[-1])
        return jax.vmap(single, in_axes=(None, 0))(params, flat).reshape(s.shape[:-1])

    return log_psi


def _generic_path(
    log_psi: Callable[[Params, Array], Array],
) -> tuple[Callable[[Params, Array], Any], Callable[[Params, Array, Any, Array], tuple[Array, Any]]]:
    """The fallback fast path: no cache, re-evaluate ``log_psi`` at the flipped configuration."""

    def cache(params: Params, s: Array) -> tuple[()]:
        return ()

    def flip(params: Params, s: Array, c: Any, sites: Array) -> tuple[Array, Any]:
        return log_psi(params, flip_sites(s, sites)), c

    return cache, flip


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of sites must be a positive integer, got {n!r}")
    return int(n)


def _dtype(dtype: Any) -> Any:
    dtype = jnp.dtype(float) if dtype is None else jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"parameters must have a real floating dtype, got {dtype}")
    return jax.dtypes.canonicalize_dtype(dtype)


def _normal(key: Array, shape: tuple[int, ...], scale: float, dtype: Any) -> Array:
    return scale * jax.random.normal(key, shape, dtype)


def plain(ansatz: Ansatz) -> Ansatz:
    """The same ansatz with its fast path replaced by the generic one (re-evaluate ``log_psi``).

    Used to check a fast path against the plain computation, and to time the difference.
    """
    cache, flip = _generic_path(ansatz.log_psi)
    return ansatz._replace(cache=cache, flip=flip)


def _made(n: int, init: Callable[..., Params], single: Callable[[Params, Array], Array]) -> Ansatz:
    log_psi = _batched(n, single)
    cache, flip = _generic_path(log_psi)
    return Ansatz(n, init, log_psi, cache, flip)


# ----------------------------------------------------------------------------- ansätze


def mean_field(n: int, *, scale: float = 0.01) -> Ansatz:
    r"""Product state :math:`\ln\psi(s) = \sum_i a_i s_i`, parameters ``{"a": (N,)}``.

    Every positive product state :math:`\prod_i \phi_i(s_i)` is of this form up to
    normalization, with :math:`a_i = \tfrac12\ln(\phi_i(+1)/\phi_i(-1))`; it has
    :math:`\langle\sigma^z_i\rangle = \tanh 2a_i` and
    :math:`\langle\sigma^x_i\rangle = 1/\cosh 2a_i`.

    Args:
        n: number of sites :math:`N`.
        scale: standard deviation of the random initial :math:`a_i`.
    """
    n = _check_n(n)

    def init(key: Array, *, dtype: Any = None) -> Params:
        return {"a": _normal(key, (n,), scale, _dtype(dtype))}

    return _made(n, init, lambda p, s: jnp.dot(p["a"], s))


def jastrow(n: int, *, scale: float = 0.01) -> Ansatz:
    r"""Jastrow state :math:`\ln\psi(s) = \sum_i a_i s_i + \sum_{i<j} W_{ij} s_i s_j`.

    Parameters ``{"a": (N,), "w": (N(N-1)/2,)}``, ``w`` holding :math:`W_{ij}` for the pairs
    :math:`i<j` in the order of ``numpy.triu_indices(N, 1)``.

    Args:
        n: number of sites :math:`N`.
        scale: standard deviation of the random initial parameters.
    """
    n = _check_n(n)
    i, j = np.triu_indices(n, 1)

    def init(key: Array, *, dtype: Any = None) -> Params:
        ka, kw = jax.random.split(key)
        dtype = _dtype(dtype)
        return {"a": _normal(ka, (n,), scale, dtype), "w": _normal(kw, (i.size,), scale, dtype)}

    return _made(n, init, lambda p, s: jnp.dot(p["a"], s) + jnp.dot(p["w"], s[i] * s[j]))


def rbm(n: int, alpha: int = 1, *, scale: float = 0.01) -> Ansatz:
    r"""Restricted Boltzmann machine with :math:`M = \alpha N` hidden units, summed out:

    .. math::

        \psi(s) = \sum_{h\in\{\pm1\}^M} e^{\sum_i a_i s_i + \sum_j h_j\theta_j(s)}
        \propto e^{\sum_i a_i s_i}\prod_{j=1}^M \cosh\theta_j(s), \qquad
        \theta_j(s) = b_j + \sum_i W_{ji} s_i ,

    so :math:`\ln\psi(s) = \sum_i a_i s_i + \sum_j \ln\cosh\theta_j(s)` (up to the constant
    :math:`M\ln 2`): the Boltzmann machine of chapter 1 with its hidden layer marginalized.
    Parameters ``{"a": (N,), "b": (M,), "W": (M, N)}``, :math:`N + M + MN` in all.

    Fast path: the cache is :math:`\theta` (shape ``(M,)``); reversing the spins at ``sites``
    updates it as :math:`\theta_j \to \theta_j - 2\sum_{i\in\text{sites}} W_{ji}s_i`, in
    :math:`O(kM)` instead of :math:`O(NM)`.

    Args:
        n: number of visible spins :math:`N`.
        alpha: hidden-unit density :math:`\alpha`, a positive integer.
        scale: standard deviation of the random initial parameters.
    """
    n = _check_n(n)
    if isinstance(alpha, bool) or not isinstance(alpha, int | np.integer) or alpha < 1:
        raise ValueError(f"alpha must be a positive integer, got {alpha!r}")
    m = int(alpha) * n

    def init(key: Array, *, dtype: Any = None) -> Params:
        ka, kb, kw = jax.random.split(key, 3)
        dtype = _dtype(dtype)
        return {
            "a": _normal(ka, (n,), scale, dtype),
            "b": _normal(kb, (m,), scale, dtype),
            "W": _normal(kw, (m, n), scale, dtype),
        }

    def from_theta(p: Params, s: Array, theta: Array) -> Array:
        return jnp.dot(p["a"], s) + jnp.sum(log_cosh(theta))

    def cache(p: Params, s: Array) -> Array:
        return p["b"] + p["W"] @ s

    def single(p: Params, s: Array) -> Array:
        return from_theta(p, s, cache(p, s))

    def flip(p: Params, s: Array, theta: Array, sites: Array) -> tuple[Array, Array]:
        theta = theta - 2.0 * (p["W"][:, sites] @ s[sites])
        s = flip_sites(s, sites)
        return from_theta(p, s, theta), theta

    return Ansatz(n, init, _batched(n, single), cache, flip)


def feed_forward(
    n: int,
    hidden: Sequence[int] | None = None,
    *,
    activation: Callable[[Array], Array] = jnp.tanh,
    scale: float = 0.1,
) -> Ansatz:
    r"""A small feed-forward network for the log amplitude,

    .. math::

        x_0 = s,\qquad x_{l} = g(W_l x_{l-1} + b_l)\ (l = 1..L),\qquad
        \ln\psi(s) = \sum_k \ln\cosh\big((W_{\text{out}} x_L)_k\big),

    a deep generalization of the RBM (whose :math:`L = 0`). Parameters
    ``{"layers": [{"W": (width_l, width_{l-1}), "b": (width_l,)}, ...], "out": (width_out, width_L)}``
    with ``width_out = width_L``.

    Args:
        n: number of sites :math:`N`.
        hidden: widths of the hidden layers; default one layer of :math:`2N`.
        activation: the nonlinearity :math:`g`.
        scale: initial weights are normal with standard deviation ``scale / sqrt(fan_in)``,
            biases zero.
    """
    n = _check_n(n)
    widths = (2 * n,) if hidden is None else tuple(hidden)
    if not widths or any(isinstance(w, bool) or not isinstance(w, int | np.integer) or w < 1 for w in widths):
        raise ValueError(f"hidden must be a non-empty sequence of positive integers, got {hidden!r}")
    sizes = (n, *map(int, widths))

    def init(key: Array, *, dtype: Any = None) -> Params:
        dtype = _dtype(dtype)
        keys = jax.random.split(key, len(widths) + 1)
        layers = [
            {"W": _normal(k, (w, fan_in), scale / math.sqrt(fan_in), dtype), "b": jnp.zeros(w, dtype)}
            for k, fan_in, w in zip(keys[:-1], sizes[:-1], sizes[1:], strict=True)
        ]
        out = _normal(keys[-1], (sizes[-1], sizes[-1]), scale / math.sqrt(sizes[-1]), dtype)
        return {"layers": layers, "out": out}

    def single(p: Params, s: Array) -> Array:
        x = s
        for layer in p["layers"]:
            x = activation(layer["W"] @ x + layer["b"])
        return jnp.sum(log_cosh(p["out"] @ x))

    return _made(n, init, single)
