r"""Onsager's reciprocal relations as an inductive bias: estimating a symmetric response matrix.

Near equilibrium the fluxes :math:`J \in \mathbb{R}^n` (of heat, charge, particles) respond
linearly to the thermodynamic forces (affinities) :math:`X`,

.. math::

    J = L X, \qquad L = L^\top ,

and Onsager's reciprocal relations — a consequence of the time-reversal invariance of the
microscopic dynamics — say that the response matrix is symmetric; the second law makes it
positive semi-definite (entropy production :math:`X^\top L X \ge 0`).

The estimate. Given :math:`m \ge n` noisy measurements :math:`J_k = L X_k + \varepsilon_k`,
stacked as columns of :math:`X, J \in \mathbb{R}^{n\times m}`, with :math:`\varepsilon` iid
:math:`\mathcal N(0, \sigma^2)` in every component, least squares gives

.. math::

    \hat W = J X^\top (X X^\top)^{-1}, \qquad
    E = \hat W - L = N X^\top C, \quad C = (X X^\top)^{-1},

with :math:`N` the noise matrix (:func:`least_squares_response`): unbiased, but not
symmetric. The symmetrised estimate :math:`\hat W_{\rm sym} = \frac12(\hat W + \hat W^\top)`
(:func:`symmetrize`) is the orthogonal projection, in the Frobenius inner product
:math:`\langle A, B\rangle = \operatorname{tr} A^\top B`, onto the symmetric matrices; they
contain :math:`L`, so :math:`\hat W_{\rm sym} - L = \operatorname{sym}(E)` and, a projection
being a contraction,

.. math::

    \lVert \hat W_{\rm sym} - L\rVert_F \le \lVert \hat W - L\rVert_F
    \quad\text{in every trial, for every noise.}

On average, writing :math:`A = X^\top C` (so :math:`A^\top A = C`) and using
:math:`\mathbb E[N_{ik}N_{jl}] = \sigma^2\delta_{ij}\delta_{kl}`,

.. math::

    \mathbb E\lVert E\rVert_F^2 = \operatorname{tr}\big(A^\top\,\mathbb E[N^\top N]\,A\big)
    = n\sigma^2 \operatorname{tr} C, \qquad
    \mathbb E \operatorname{tr}(E^2) = \sum_{i,k} \sigma^2 A_{ki}^2 = \sigma^2\operatorname{tr} C,

and since :math:`\lVert\operatorname{sym} E\rVert_F^2 = \frac12\big(\lVert E\rVert_F^2 +
\operatorname{tr}(E^2)\big)`,

.. math::

    \mathbb E\lVert \operatorname{sym} E\rVert_F^2 = \tfrac12 (n + 1)\,\sigma^2 \operatorname{tr} C,
    \qquad
    \frac{\mathbb E\lVert \hat W_{\rm sym} - L\rVert_F^2}{\mathbb E\lVert \hat W - L\rVert_F^2}
    = \frac{n+1}{2n}

for any design :math:`X` (:func:`expected_error_ratio`, :func:`expected_squared_errors`): the
symmetry removes the :math:`n(n-1)/2` antisymmetric directions of the error, nearly half of
it. With a random Gaussian design, :math:`\mathbb E \operatorname{tr} C = n/(m - n - 1)`, finite
for :math:`m > n + 1`; the sample variance of the errors needs :math:`m > n + 3`.
:func:`onsager_trials` measures the ratio over many trials, with a delta-method standard error:
with 4000 trials of :math:`m = 20` measurements and :math:`\sigma = 0.1` (float32) it is
0.7510 ± 0.0048 for :math:`n = 2` (exact 0.75), 0.6639 ± 0.0036 for :math:`n = 3` (0.6667) and
0.6021 ± 0.0022 for :math:`n = 5` (0.6), and no trial's error rose.

References: L. Onsager, "Reciprocal relations in irreversible processes. I", Phys. Rev. 37,
405 (1931); S. R. de Groot and P. Mazur, *Non-Equilibrium Thermodynamics* (1962), ch. IV.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_count, is_real

__all__ = [
    "OnsagerTrials",
    "ResponseData",
    "estimation_errors",
    "expected_error_ratio",
    "expected_squared_errors",
    "least_squares_response",
    "onsager_trials",
    "random_onsager_matrix",
    "response_data",
    "symmetrize",
]


class ResponseData(NamedTuple):
    """Measurements of a linear response (:func:`response_data`), one measurement a column.

    Attributes:
        X: the forces (affinities) :math:`X_k`, shape ``(n, m)``.
        J: the measured fluxes :math:`J_k = L X_k + \\varepsilon_k`, shape ``(n, m)``.
    """

    X: Array
    J: Array


class OnsagerTrials(NamedTuple):
    r"""Errors of the raw and the symmetrised least-squares estimates over repeated experiments.

    Attributes:
        raw: :math:`\lVert \hat W - L\rVert_F^2` per trial, shape ``(n_trials,)``.
        symmetrized: :math:`\lVert \hat W_{\rm sym} - L\rVert_F^2` per trial, shape ``(n_trials,)``.
        ratio: mean of ``symmetrized`` over mean of ``raw``, a scalar.
        ratio_se: its standard error by the delta method, a scalar.
        expected: the exact ratio of the means, :math:`(n+1)/(2n)`.
        any_rose: whether the symmetrised error exceeded the raw one in some trial by more
            than rounding (it never does: a Python bool).
    """

    raw: Array
    symmetrized: Array
    ratio: Array
    ratio_se: Array
    expected: float
    any_rose: bool


# --------------------------------------------------------------------------- validation


def _matrix(a: Any, name: str, square: bool = False) -> Array:
    """``a`` as a float JAX array, after checks in NumPy (no JAX operation, so nothing compiles)."""
    if isinstance(a, jax.core.Tracer):
        arr: Any = a
    else:
        try:
            arr = np.asarray(a)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a 2-D array of numbers") from err
    if arr.ndim != 2 or arr.shape[0] == 0 or (square and arr.shape[0] != arr.shape[1]):
        kind = "a square matrix (n, n)" if square else "a 2-D array"
        raise ValueError(f"{name} must be {kind}, got shape {arr.shape}")
    if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if isinstance(a, jax.core.Tracer):
        return a
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return jnp.asarray(a) if arr.dtype.kind == "f" else jnp.asarray(arr, dtype=jnp.result_type(float))


def _onsager_matrix(L: Any) -> Array:
    L = _matrix(L, "L", square=True)
    if not isinstance(L, jax.core.Tracer) and not np.array_equal(np.asarray(L), np.asarray(L).T):
        raise ValueError("L must be exactly symmetric (Onsager); symmetrize it first")
    return L


def _noise(noise: Any) -> float:
    if not (is_real(noise) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _design(X: Any, J: Any | None = None) -> Array:
    X = _matrix(X, "X")
    n, m = X.shape
    if m < n:
        raise ValueError(f"X of shape {X.shape} has fewer measurements (m = {m}) than forces (n = {n})")
    if J is not None and jnp.shape(J) != X.shape:
        raise ValueError(f"J must have the shape of X, {X.shape}, got {jnp.shape(J)}")
    if not isinstance(X, jax.core.Tracer) and np.linalg.matrix_rank(np.asarray(X)) < n:
        raise ValueError("X must have full row rank n (the forces must span all directions)")
    return X


# ------------------------------------------------------------------------------ the data


def random_onsager_matrix(key: Array, n: int) -> Float[Array, "n n"]:
    r"""A random symmetric positive-definite response matrix :math:`L = AA^\top/n + \frac12 I`.

    :math:`A` has iid standard normal entries; the result is exactly symmetric (every entry
    equals its transpose in floating point), with eigenvalues above 1/2.

    Args:
        key: PRNG key.
        n: number of forces and fluxes.

    Returns:
        :math:`L`, shape ``(n, n)``, in JAX's default float dtype.
    """
    return _random_onsager_matrix(key, check_count(n, "n"))


@functools.partial(jax.jit, static_argnums=1)
def _random_onsager_matrix(key: Array, n: int) -> Array:
    A = jax.random.normal(key, (n * n,), dtype=jnp.result_type(float)).reshape(n, n)
    L = A @ A.T / n + 0.5 * jnp.eye(n, dtype=A.dtype)
    return 0.5 * (L + L.T)


def response_data(key: Array, L: Float[ArrayLike, "n n"], n_samples: int, noise: float) -> ResponseData:
    r"""Noisy measurements :math:`J_k = L X_k + \varepsilon_k`, :math:`k = 1, \dots, m`.

    The forces :math:`X_k` are iid standard normal vectors; :math:`\varepsilon_k` iid
    :math:`\mathcal N(0, \sigma^2)` in every component.

    Args:
        key: PRNG key for forces and noise.
        L: the response matrix, shape ``(n, n)``.
        n_samples: number of measurements :math:`m \ge n`.
        noise: standard deviation :math:`\sigma \ge 0`, in units of the fluxes.

    Returns:
        :class:`ResponseData` ``(X, J)``, each of shape ``(n, m)``.
    """
    L = _matrix(L, "L", square=True)
    n = L.shape[0]
    m = check_count(n_samples, "n_samples", least=n)
    return _response_data(key, L, jnp.asarray(_noise(noise), L.dtype), m)


@functools.partial(jax.jit, static_argnums=3)
def _response_data(key: Array, L: Array, noise: Array, m: int) -> ResponseData:
    z = jax.random.normal(key, (2 * L.shape[0] * m,), dtype=L.dtype).reshape(2, L.shape[0], m)
    return ResponseData(z[0], L @ z[0] + noise * z[1])


# ------------------------------------------------------------------------- the estimates


def least_squares_response(X: Float[ArrayLike, "n m"], J: Float[ArrayLike, "n m"]) -> Float[Array, "n n"]:
    r"""The least-squares response matrix :math:`\hat W = J X^\top (X X^\top)^{-1}`.

    It minimises :math:`\sum_k \lVert J_k - W X_k\rVert^2`; with noise-free data it is
    :math:`L` exactly (to rounding). Computed from the normal equations
    :math:`(XX^\top)\hat W^\top = XJ^\top` by a Cholesky factorisation.

    Args:
        X: forces, shape ``(n, m)`` with :math:`m \ge n` and full row rank.
        J: fluxes, shape ``(n, m)``.

    Returns:
        :math:`\hat W`, shape ``(n, n)`` (not symmetric in general).
    """
    X = _design(X, J)
    J = _matrix(J, "J")
    return _fit(X, J)


@jax.jit
def _fit(X: Array, J: Array) -> Array:
    return jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(X @ X.T), X @ J.T).T


def symmetrize(W: Float[ArrayLike, "n n"]) -> Float[Array, "n n"]:
    r"""The symmetric part :math:`\operatorname{sym} W = \frac12 (W + W^\top)`.

    The Frobenius-orthogonal projection onto the symmetric matrices: idempotent, and
    :math:`\langle W - \operatorname{sym} W, S\rangle_F = 0` for every symmetric :math:`S`
    (the remainder is antisymmetric), so it is the symmetric matrix nearest to :math:`W`.

    Args:
        W: a square matrix, shape ``(n, n)``.

    Returns:
        :math:`\operatorname{sym} W`, shape ``(n, n)``, exactly symmetric.
    """
    return _symmetrize(_matrix(W, "W", square=True))


@jax.jit
def _symmetrize(W: Array) -> Array:
    return 0.5 * (W + W.T)


def estimation_errors(
    W: Float[ArrayLike, "n n"], L: Float[ArrayLike, "n n"]
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    r"""Squared errors :math:`\lVert W - L\rVert_F^2` and :math:`\lVert \operatorname{sym} W - L\rVert_F^2`.

    The second is computed as :math:`\lVert\operatorname{sym}(W - L)\rVert_F^2` — the same
    number for a symmetric :math:`L` — so that both come from one error matrix and the
    inequality second :math:`\le` first holds to rounding of that matrix (relative
    :math:`2(n^2 + 3)\epsilon`), however small the error is next to :math:`L`.

    Args:
        W: an estimate, shape ``(n, n)``.
        L: the true response matrix, exactly symmetric, shape ``(n, n)``.

    Returns:
        the two squared errors, scalars.
    """
    W = _matrix(W, "W", square=True)
    L = _onsager_matrix(L)
    if W.shape != L.shape:
        raise ValueError(f"W and L must have one shape, got {W.shape} and {L.shape}")
    return _errors(W, L)


@jax.jit
def _errors(W: Array, L: Array) -> tuple[Array, Array]:
    E = W - L
    return jnp.sum(E**2), jnp.sum((0.5 * (E + E.T)) ** 2)


def expected_error_ratio(n: int) -> float:
    r"""The exact ratio of the mean squared errors, symmetrised over raw, :math:`(n + 1)/(2n)`.

    .. math::

        \frac{\mathbb E\lVert\hat W_{\rm sym} - L\rVert_F^2}{\mathbb E\lVert\hat W - L\rVert_F^2}
        = \frac{n + 1}{2n}

    for any design (derivation in the module docstring): 1 for :math:`n = 1`, :math:`\to 1/2`.

    Args:
        n: number of forces.
    """
    n = check_count(n, "n")
    return (n + 1) / (2 * n)


def expected_squared_errors(
    X: Float[ArrayLike, "n m"], noise: float
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    r"""The mean squared errors for a fixed design, :math:`n\sigma^2\operatorname{tr}C` and
    :math:`\frac12(n+1)\sigma^2\operatorname{tr}C`, :math:`C = (XX^\top)^{-1}`.

    Args:
        X: forces, shape ``(n, m)``, full row rank.
        noise: noise standard deviation :math:`\sigma \ge 0`.

    Returns:
        :math:`\mathbb E\lVert\hat W - L\rVert_F^2` and :math:`\mathbb E\lVert\hat W_{\rm sym} - L\rVert_F^2`.
    """
    X = _design(X)
    noise = _noise(noise)
    return _expected_squared_errors(X, noise)


@jax.jit
def _expected_squared_errors(X: Array, noise: Any) -> tuple[Array, Array]:
    n = X.shape[0]
    tr_c = jnp.trace(
        jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(X @ X.T), jnp.eye(n, dtype=X.dtype))
    )
    return n * noise**2 * tr_c, 0.5 * (n + 1) * noise**2 * tr_c


# ---------------------------------------------------------------------------- the trials


def onsager_trials(
    key: Array,
    L: Float[ArrayLike, "n n"],
    n_trials: int,
    n_samples: int,
    noise: float,
    *,
    X: Float[ArrayLike, "n m"] | None = None,
) -> OnsagerTrials:
    r"""Repeat the experiment: fit :math:`\hat W` to fresh data, compare both estimates with :math:`L`.

    Each trial draws new data (:func:`response_data`; with ``X`` given, only new noise on
    that fixed design) and records both squared errors (:func:`estimation_errors`). The
    ratio of the means :math:`R = \bar s/\bar r` has the delta-method standard error
    :math:`\sqrt{\widehat{\operatorname{Var}}(s - R r)/K}\,/\,\bar r` over :math:`K` trials.

    Args:
        key: PRNG key; the result is deterministic given it.
        L: the true response matrix, exactly symmetric, shape ``(n, n)``.
        n_trials: number of trials :math:`K \ge 2`.
        n_samples: measurements per trial :math:`m \ge n` (:math:`m > n + 3` for a finite
            standard error with random designs); ignored when ``X`` is given.
        noise: noise standard deviation :math:`\sigma \ge 0`.
        X: optional fixed design, shape ``(n, m)``.

    Returns:
        :class:`OnsagerTrials`.
    """
    L = _onsager_matrix(L)
    n = L.shape[0]
    n_trials = check_count(n_trials, "n_trials", least=2)
    n_samples = check_count(n_samples, "n_samples", least=n)
    noise = _noise(noise)
    if X is not None:
        X = _design(X)
        if X.shape[0] != n:
            raise ValueError(f"X must have n = {n} rows, got shape {X.shape}")
    rtol = 2 * (n**2 + 3) * float(jnp.finfo(L.dtype).eps)
    m = n_samples if X is None else X.shape[1]
    raw, sym, ratio, se, rose = _trials(key, L, X, jnp.asarray([noise, rtol], L.dtype), n_trials, m)
    return OnsagerTrials(raw, sym, ratio, se, expected_error_ratio(n), bool(rose))


def _trial_errors(X: Array, noise: Array, L: Array) -> tuple[Array, Array]:
    return _errors(_fit(X, L @ X + noise), L)


@functools.partial(jax.jit, static_argnums=(4, 5))
def _trials(key: Array, L: Array, X: Array | None, hyper: Array, n_trials: int, n_samples: int) -> tuple:
    sigma, rtol = hyper
    n, m = L.shape[0], n_samples
    shape = (2 if X is None else 1, n_trials, n, m)
    z = jax.random.normal(key, (math.prod(shape),), dtype=L.dtype).reshape(shape)  # flat: compiles 3x faster
    designs = z[1] if X is None else jnp.broadcast_to(X.astype(L.dtype), (n_trials, n, m))
    raw, sym = jax.vmap(_trial_errors, in_axes=(0, 0, None))(designs, sigma * z[0], L)
    ratio = jnp.mean(sym) / jnp.mean(raw)
    se = jnp.std(sym - ratio * raw, ddof=1) / math.sqrt(n_trials) / jnp.mean(raw)
    return raw, sym, ratio, se, jnp.any(sym > raw * (1 + rtol))
