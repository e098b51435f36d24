r"""Supervised regression on exact invariants: a linear baseline and a small network.

The studies of this subpackage learn numbers that mathematics computes exactly — the Euler
number of a Calabi–Yau configuration, a :math:`\chi^2` — so every prediction can be scored
against the truth. Two models, both on standardised inputs :math:`\tilde x = (x - \mu)/s`:

* the **linear baseline**, :math:`\hat y = w^\top \tilde x + c` by least squares
  (:func:`fit_linear`; inputs constant over the training set are dropped);
* a **multilayer perceptron** (equinox, tanh), trained by full-batch Adam on the mean squared
  error of the standardised target (:func:`train_mlp`; one compiled ``lax.scan``,
  ``physml._training.adam_scan``).

:func:`scores` reports the root-mean-square error, the coefficient of determination
:math:`R^2 = 1 - \sum(\hat y - y)^2 / \sum(y - \bar y)^2` and, for integer targets on a lattice
(Euler numbers are even), the fraction predicted exactly after rounding to that lattice.
:func:`split` draws a train/test split from a key.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_count, check_positive
from .._training import adam_scan


class Split(NamedTuple):
    """Indices of a train/test split, each sorted."""

    train: np.ndarray
    test: np.ndarray


def split(key: Array, n: int, test_fraction: float = 0.2) -> Split:
    r"""A random split of ``range(n)``: :math:`\lceil n f\rceil` test indices, the rest for training."""
    n = check_count(n, "n")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    n_test = int(np.ceil(n * test_fraction))
    if not 0 < n_test < n:
        raise ValueError(f"n = {n} is too small to leave both a training and a test set")
    order = np.asarray(jax.random.permutation(key, n))
    return Split(np.sort(order[n_test:]), np.sort(order[:n_test]))


def _inputs(X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (n, ...) with one row per example, got shape {X.shape}")
    X = X.reshape(X.shape[0], -1)
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity")
    if y is None:
        return X, None
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (X.shape[0],) or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite with shape ({X.shape[0]},) to match X, got shape {y.shape}")
    return X, y


class Standardizer(NamedTuple):
    r"""The affine map :math:`x \mapsto (x - \mu)/s` of the training inputs, with :math:`s = 1`
    where an input is constant."""

    mean: np.ndarray
    scale: np.ndarray

    def __call__(self, X: Any) -> np.ndarray:
        return (_inputs(X)[0] - self.mean) / self.scale


def standardizer(X: Float[ArrayLike, "n ..."]) -> Standardizer:
    """The :class:`Standardizer` of the rows of ``X`` (flattened)."""
    X, _ = _inputs(X)
    scale = X.std(axis=0)
    return Standardizer(X.mean(axis=0), np.where(scale > 0, scale, 1.0))


class LinearModel(NamedTuple):
    r""":math:`\hat y = w^\top \tilde x + c`, :math:`\tilde x` the standardised input."""

    inputs: Standardizer
    weights: np.ndarray
    intercept: float

    def __call__(self, X: Any) -> np.ndarray:
        return self.inputs(X) @ self.weights + self.intercept


def fit_linear(X: Float[ArrayLike, "n ..."], y: Float[ArrayLike, " n"]) -> LinearModel:
    """Least squares (minimum-norm where inputs are collinear) on the standardised inputs, float64."""
    X, y = _inputs(X, y)
    inputs = standardizer(X)
    design = np.hstack([inputs(X), np.ones((X.shape[0], 1))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return LinearModel(inputs, coef[:-1], float(coef[-1]))


class MLPModel(eqx.Module):
    r"""An MLP on standardised inputs with a standardised output,
    :math:`\hat y = \bar y + s_y\, f_\theta(\tilde x)`."""

    net: eqx.nn.MLP
    mean: Array
    scale: Array
    y_mean: float = eqx.field(static=True)
    y_scale: float = eqx.field(static=True)

    def __call__(self, X: Any) -> np.ndarray:
        X, _ = _inputs(X)
        out = _predict(
            self.net, jnp.asarray((X - np.asarray(self.mean)) / np.asarray(self.scale), self.mean.dtype)
        )
        return self.y_mean + self.y_scale * np.asarray(out, dtype=np.float64)


@eqx.filter_jit
def _predict(net: eqx.nn.MLP, X: Array) -> Array:
    return jax.vmap(net)(X)


@eqx.filter_jit
def _new_mlp(key: Array, n_in: int, width: int, depth: int) -> eqx.nn.MLP:
    return eqx.nn.MLP(n_in, "scalar", width, depth, activation=jnp.tanh, key=key)


@eqx.filter_jit
def _fit(net: eqx.nn.MLP, X: Array, y: Array, hyper: Array, steps: int) -> tuple[eqx.nn.MLP, Array]:
    loss = lambda m: (
        jnp.mean((jax.vmap(m)(X) - y) ** 2)
        + hyper[1] * sum(jnp.sum(w**2) for w in jax.tree.leaves(eqx.filter(m, eqx.is_inexact_array)))
    )
    return adam_scan(net, loss, hyper[0], steps)


def train_mlp(
    key: Array,
    X: Float[ArrayLike, "n ..."],
    y: Float[ArrayLike, " n"],
    *,
    width: int = 64,
    depth: int = 2,
    steps: int = 2000,
    learning_rate: float = 3e-3,
    weight_decay: float = 0.0,
) -> tuple[MLPModel, Float[Array, " steps"]]:
    r"""Fit an MLP (``depth`` hidden tanh layers of ``width`` units) by full-batch Adam.

    Minimises :math:`\langle (f_\theta(\tilde x) - \tilde y)^2\rangle + \kappa\lVert\theta\rVert^2`
    with :math:`\tilde y = (y - \bar y)/s_y` and :math:`\kappa` = ``weight_decay``; the step size
    decays from ``learning_rate`` to 0 on a cosine schedule. Computes in JAX's default float
    dtype; deterministic given ``key``.

    Returns:
        the trained :class:`MLPModel` and the loss at each step, shape ``(steps,)``.
    """
    X, y = _inputs(X, y)
    width, depth, steps = (
        check_count(width, "width"),
        check_count(depth, "depth"),
        check_count(steps, "steps"),
    )
    learning_rate = check_positive(learning_rate, "learning_rate")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    inputs, y_scale = standardizer(X), float(np.std(y)) or 1.0
    dtype = jnp.zeros(()).dtype
    net = _new_mlp(key, X.shape[1], width, depth)
    hyper = jnp.asarray([learning_rate, weight_decay], dtype)
    target = jnp.asarray((y - y.mean()) / y_scale, dtype)
    net, losses = _fit(net, jnp.asarray(inputs(X), dtype), target, hyper, steps)
    model = MLPModel(
        net, jnp.asarray(inputs.mean, dtype), jnp.asarray(inputs.scale, dtype), float(y.mean()), y_scale
    )
    return model, losses


class Scores(NamedTuple):
    """How well predictions match the truth.

    Attributes:
        rmse: root-mean-square error.
        r2: coefficient of determination (1 is perfect, 0 is the mean's error).
        exact: the fraction right after rounding to the lattice ``step`` (``nan`` without one).
    """

    rmse: float
    r2: float
    exact: float


def scores(
    predicted: Float[ArrayLike, " n"], truth: Float[ArrayLike, " n"], *, step: float | None = None
) -> Scores:
    r"""RMSE, :math:`R^2`, and with ``step`` the fraction with
    :math:`\mathrm{round}(\hat y/\text{step})\,\text{step} = y`."""
    predicted, truth = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
    if predicted.shape != truth.shape or predicted.ndim != 1 or predicted.size < 2:
        raise ValueError(
            f"predicted and truth must be 1-D of one length >= 2, got {predicted.shape}, {truth.shape}"
        )
    residual = predicted - truth
    r2 = 1.0 - np.sum(residual**2) / np.sum((truth - truth.mean()) ** 2)
    exact = np.nan if step is None else float(np.mean(np.round(predicted / step) * step == truth))
    return Scores(float(np.sqrt(np.mean(residual**2))), float(r2), exact)
