r"""Sparse identification of nonlinear dynamics (SINDy): equations of motion by sparse regression.

Sample a trajectory :math:`x(t) \in \mathbb{R}^n` at times :math:`t_1, \dots, t_T`, stack the
states into :math:`X` (shape ``(T, n)``) and their time derivatives into :math:`\dot X`, and
evaluate a library of :math:`p` candidate terms (:math:`1, x, y, x^2, xy, \sin x, \dots`) on
every sample, :math:`\Theta(X)` of shape ``(T, p)``. If the vector field is a combination of
few library terms, :math:`\dot x = f(x) = \Xi^\top \theta(x)`, then

.. math::

    \dot X = \Theta(X)\, \Xi, \qquad \Xi \in \mathbb{R}^{p \times n} \ \text{sparse},

and :func:`stlsq` finds the sparse :math:`\Xi` by sequentially thresholded least squares
(Brunton, Proctor & Kutz 2016): fit, zero the small coefficients, refit on what is left,
until the set of terms stops changing. :func:`sindy` strings together the library, the
derivatives (given, or by :func:`finite_difference`) and the regression, and returns a
:class:`SindyModel` that prints, predicts and integrates the equations it found.

Precision: the regression is done in float64 NumPy whatever JAX's default dtype is. The
libraries evaluate in NumPy float64 for fitting and in JAX (jit-able, in the input's dtype)
for :meth:`SindyModel.simulate`. A single orbit of a conservative system lies on a level set
of its energy, which makes some library columns linearly dependent on the data (for the
pendulum :math:`\omega^2 - 2\frac{g}{L}\cos\theta = \text{const}`): fit several orbits at once
(:func:`sindy` takes a stack of trajectories).

Reference: S. L. Brunton, J. L. Proctor and J. N. Kutz, "Discovering governing equations from
data by sparse identification of nonlinear dynamical systems", PNAS 113, 3932 (2016);
pysindy (de Silva et al., JOSS 2020; Kaptanoglu et al., JOSS 2022), whose ``STLSQ`` this
:func:`stlsq` follows.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jaxtyping import Array, ArrayLike, Float

from .. import integrators
from .._checks import check_count, check_positive, is_real

__all__ = [
    "Library",
    "PendulumData",
    "SindyModel",
    "ThresholdPath",
    "finite_difference",
    "fourier_library",
    "pendulum_trajectory",
    "polynomial_library",
    "sindy",
    "stlsq",
    "threshold_path",
]


# ---------------------------------------------------------------------------- libraries

#: A library's terms as a function of the states ``X`` (shape ``(..., n_vars)``) and an array
#: namespace (``numpy`` or ``jax.numpy``), returning ``Θ`` of shape ``(..., p)``.
TermFunction = Callable[[Any, ModuleType], Any]


@dataclasses.dataclass(frozen=True)
class Library:
    r"""A library of candidate terms :math:`\theta_1(x), \dots, \theta_p(x)`.

    Call it on states ``X`` of shape ``(..., n_vars)`` to get :math:`\Theta(X)` of shape
    ``(..., p)`` (a JAX array, jit-able); ``library.numpy(X)`` evaluates the same terms in
    float64 NumPy, as the regression does. Libraries on the same variables concatenate with
    ``+`` (the terms of the left one first), as pysindy's ``ConcatLibrary`` does.

    Attributes:
        names: the terms' names, pysindy's convention: ``"1"``, ``"x"``, ``"x y"``, ``"x^2"``,
            ``"sin(x)"``, ``"cos(2 x)"``.
        variables: the names of the state variables, length ``n_vars``.
        terms: ``terms(X, xp) -> Θ`` with ``xp`` the array namespace (``numpy`` or
            ``jax.numpy``).
    """

    names: tuple[str, ...]
    variables: tuple[str, ...]
    terms: TermFunction

    def __call__(self, X: Float[ArrayLike, "... n_vars"]) -> Float[Array, "... p"]:
        return self.terms(self._states(jnp.asarray(X)), jnp)

    def numpy(self, X: Float[ArrayLike, "... n_vars"]) -> Float[np.ndarray, "... p"]:
        """:math:`\\Theta(X)` in float64 NumPy."""
        return self.terms(self._states(np.asarray(X, dtype=np.float64)), np)

    def __len__(self) -> int:
        return len(self.names)

    def __add__(self, other: Library) -> Library:
        if not isinstance(other, Library):
            return NotImplemented
        if other.variables != self.variables:
            raise ValueError(
                f"libraries must act on the same variables to be concatenated, got {self.variables} "
                f"and {other.variables}"
            )
        return Library(self.names + other.names, self.variables, functools.partial(_concat, self, other))

    def _states(self, X: Any) -> Any:
        if X.ndim == 0 or X.shape[-1] != len(self.variables):
            raise ValueError(
                f"the library acts on {len(self.variables)} variables {self.variables}: X must have shape "
                f"(..., {len(self.variables)}), got {X.shape}"
            )
        return X


def _concat(left: Library, right: Library, X: Any, xp: ModuleType) -> Any:
    return xp.concatenate([left.terms(X, xp), right.terms(X, xp)], axis=-1)


def _variable_names(n_vars: int, names: Sequence[str] | None) -> tuple[str, ...]:
    n_vars = check_count(n_vars, "n_vars")
    if names is None:
        return ("x", "y", "z")[:n_vars] if n_vars <= 3 else tuple(f"x{i}" for i in range(n_vars))
    names = tuple(names)
    if len(names) != n_vars or not all(isinstance(s, str) and s for s in names) or len(set(names)) != n_vars:
        raise ValueError(f"names must be {n_vars} distinct non-empty strings, got {names!r}")
    return names


def _monomial_name(powers: tuple[int, ...], variables: tuple[str, ...]) -> str:
    parts = [v if k == 1 else f"{v}^{k}" for v, k in zip(variables, powers, strict=True) if k]
    return " ".join(parts) or "1"


def _monomials(powers: tuple[tuple[int, ...], ...], X: Any, xp: ModuleType) -> Any:
    columns = []
    for row in powers:
        column = xp.ones(X.shape[:-1], dtype=X.dtype)
        for i, k in enumerate(row):
            if k:
                column = column * X[..., i] ** k
        columns.append(column)
    return xp.stack(columns, axis=-1)


def polynomial_library(
    n_vars: int, degree: int, *, names: Sequence[str] | None = None, include_bias: bool = True
) -> Library:
    r"""All monomials :math:`x_1^{k_1}\cdots x_n^{k_n}` of total degree :math:`1 \le \sum k_i \le`
    ``degree`` (and :math:`1` if ``include_bias``).

    Ordered as pysindy's ``PolynomialLibrary`` (and scikit-learn's ``PolynomialFeatures``):
    by degree, then lexicographically in the variables — for :math:`(x, y)` and degree 2,
    ``1, x, y, x^2, x y, y^2``. There are :math:`\binom{n + d}{d}` terms with the bias.

    Args:
        n_vars: number of state variables :math:`n \ge 1`.
        degree: highest total degree :math:`d \ge 1`.
        names: the variables' names (default ``x, y, z``, or ``x0, x1, …`` beyond three).
        include_bias: include the constant term ``"1"``.

    Example:
        >>> polynomial_library(2, 2).names
        ('1', 'x', 'y', 'x^2', 'x y', 'y^2')
    """
    variables = _variable_names(n_vars, names)
    degree = check_count(degree, "degree")
    powers = []
    for d in range(0 if include_bias else 1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(variables)), d):
            powers.append(tuple(combo.count(i) for i in range(len(variables))))
    powers_t = tuple(powers)
    names_t = tuple(_monomial_name(row, variables) for row in powers_t)
    return Library(names_t, variables, functools.partial(_monomials, powers_t))


def _fourier(n_vars: int, n_frequencies: int, X: Any, xp: ModuleType) -> Any:
    columns = []
    for k in range(1, n_frequencies + 1):
        for i in range(n_vars):
            columns += [xp.sin(k * X[..., i]), xp.cos(k * X[..., i])]
    return xp.stack(columns, axis=-1)


def fourier_library(n_vars: int, n_frequencies: int, names: Sequence[str] | None = None) -> Library:
    r"""The terms :math:`\sin(k x_i)` and :math:`\cos(k x_i)` for :math:`k = 1, \dots,` ``n_frequencies``.

    Ordered as pysindy's ``FourierLibrary``: frequency, then variable, then sine before cosine
    — ``sin(x), cos(x), sin(y), cos(y), sin(2 x), …`` (the frequency 1 is not written).
    Arguments of the sines are in radians.

    Example:
        >>> fourier_library(1, 2, names=("θ",)).names
        ('sin(θ)', 'cos(θ)', 'sin(2 θ)', 'cos(2 θ)')
    """
    variables = _variable_names(n_vars, names)
    n_frequencies = check_count(n_frequencies, "n_frequencies")
    names_t = tuple(
        f"{f}({'' if k == 1 else f'{k} '}{v})"
        for k in range(1, n_frequencies + 1)
        for v in variables
        for f in ("sin", "cos")
    )
    return Library(names_t, variables, functools.partial(_fourier, len(variables), n_frequencies))


# ---------------------------------------------------------------------------- derivatives


def _trajectories(x: Any, what: str = "x") -> np.ndarray:
    """``x`` as a finite float64 array of shape ``(T, n)`` or ``(m, T, n)``."""
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be a float array of shape (T, n_vars) or (m, T, n_vars)") from err
    if x.ndim not in (2, 3) or 0 in x.shape:
        raise ValueError(
            f"{what} must have shape (T, n_vars) for one trajectory or (m, T, n_vars) for m of them, "
            f"got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what} holds NaN or infinite values")
    return x


def finite_difference(x: Float[ArrayLike, "... T n_vars"], dt: float) -> Float[np.ndarray, "... T n_vars"]:
    r"""Time derivative of sampled trajectories by second-order finite differences.

    Central differences inside, :math:`\dot x_k \approx (x_{k+1} - x_{k-1})/(2\,\Delta t)`, and
    the second-order one-sided formulas at the ends,
    :math:`\dot x_0 \approx (-3x_0 + 4x_1 - x_2)/(2\,\Delta t)` (mirrored at the last sample):
    NumPy's ``np.gradient(x, dt, axis=-2, edge_order=2)``. The error is
    :math:`\frac{\Delta t^2}{6}\dddot x` inside and :math:`\frac{\Delta t^2}{3}\dddot x` at the
    ends; white measurement noise of standard deviation :math:`\sigma` becomes noise of
    standard deviation :math:`\sigma/(\sqrt 2\,\Delta t)` in the derivative — differentiation
    amplifies noise, and the more so the finer the sampling.

    Args:
        x: states sampled every ``dt``, shape ``(T, n_vars)`` or ``(m, T, n_vars)`` (time is
            the second-to-last axis), :math:`T \ge 3`.
        dt: sampling interval :math:`\Delta t > 0`, in units of time.

    Returns:
        :math:`\dot x`, float64 NumPy, the shape of ``x``, in units of ``x`` per unit time.
    """
    x = _trajectories(x)
    dt = check_positive(dt, "dt")
    if x.shape[-2] < 3:
        raise ValueError(f"second-order differences need at least 3 samples in time, got {x.shape[-2]}")
    return np.gradient(x, dt, axis=-2, edge_order=2)


# ----------------------------------------------------------------------------- regression


def _check_regression(theta: Any, dxdt: Any, threshold: Any, alpha: Any) -> tuple[np.ndarray, np.ndarray]:
    theta = np.asarray(theta, dtype=np.float64)
    dxdt = np.asarray(dxdt, dtype=np.float64)
    if theta.ndim != 2 or 0 in theta.shape:
        raise ValueError(f"theta must be a (T, p) library matrix, got shape {theta.shape}")
    if dxdt.ndim != 2 or dxdt.shape[0] != theta.shape[0] or dxdt.shape[1] == 0:
        raise ValueError(
            f"dxdt must have shape (T, n_vars) with the T = {theta.shape[0]} samples of theta, "
            f"got {dxdt.shape}"
        )
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(dxdt))):
        raise ValueError("theta and dxdt must be finite (no NaN or infinite values)")
    for name, value in (("threshold", threshold), ("alpha", alpha)):
        if not (is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return theta, dxdt


def _lstsq(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Minimum-norm least-squares solution by LAPACK's ``gelsy`` (QR with column pivoting).

    ``gelsd`` (NumPy's and pysindy's choice, by an SVD) gives the same solution to rounding;
    with one BLAS thread (as ``make`` sets) the two are equally fast, but with multi-threaded
    OpenBLAS on two cores ``gelsd`` was ~10 times slower on the tall ``(T, p)`` matrices here,
    and :func:`threshold_path` solves hundreds of them.
    """
    return scipy.linalg.lstsq(a, y, lapack_driver="gelsy", check_finite=False)[0]


def _ridge(theta: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    r"""Minimiser of :math:`\lVert y - \Theta w\rVert^2 + \alpha\lVert w\rVert^2`, as the least-squares
    solution of the stacked system :math:`[\Theta; \sqrt\alpha I]\, w = [y; 0]`."""
    if alpha > 0:
        p = theta.shape[1]
        theta = np.vstack([theta, math.sqrt(alpha) * np.eye(p)])
        y = np.concatenate([y, np.zeros(p)])
    return _lstsq(theta, y)


def stlsq(
    theta: Float[ArrayLike, "T p"],
    dxdt: Float[ArrayLike, "T n_vars"],
    *,
    threshold: float,
    alpha: float = 0.0,
    max_iter: int = 20,
    normalize_columns: bool = False,
) -> Float[np.ndarray, "p n_vars"]:
    r"""Sequentially thresholded least squares: a sparse :math:`\Xi` with :math:`\dot X \approx \Theta\,\Xi`.

    For each variable (column :math:`\dot X_{:,j}`), starting from all :math:`p` terms:

    1. ridge regression on the current support :math:`S`,
       :math:`\xi_S = \arg\min_w \lVert \dot X_{:,j} - \Theta_{:,S}\, w\rVert_2^2 + \alpha\lVert w\rVert_2^2`;
    2. keep the terms with :math:`\lvert\xi_i\rvert \ge` ``threshold``, zero the rest;
    3. repeat until no support changes (or ``max_iter`` rounds);

    then an unregularised least-squares refit on the final support (pysindy's ``unbias``),
    so :math:`\alpha` only steers which terms survive, not the values returned.

    These are the semantics of pysindy's ``STLSQ`` (2.1; its ``alpha`` is this :math:`\alpha`,
    no factor of :math:`T` or 1/2): the same ridge objective, the same ``>=`` threshold, the
    same stopping rule (all supports unchanged), the same final refit, and with
    ``normalize_columns`` the same convention — columns divided by their 2-norms
    :math:`\lVert\Theta_{:,i}\rVert`, ridge, threshold and refit done on the normalised columns
    (so ``threshold`` applies to :math:`\xi_i \lVert\Theta_{:,i}\rVert`), coefficients scaled
    back at the end. Deliberate differences, all invisible in well-posed problems: every
    least-squares problem is solved by LAPACK's QR with column pivoting (``gelsy``, the
    minimum-norm solution like pysindy's SVD-based ``gelsd``, and many times faster on two
    cores), and the ridge as least squares on :math:`[\Theta; \sqrt\alpha I]` rather than by
    Cholesky on the normal equations (better conditioned) — rounding differs at the
    :math:`10^{-11}` level relative; the final refit uses the thresholded support (pysindy's
    drops coefficients below :math:`10^{-14}`, which matters only for ``threshold`` below
    that); a threshold that removes every term gives zeros silently, where pysindy warns;
    and not converging within ``max_iter`` rounds raises a ``RuntimeWarning`` (pysindy's is
    a ``ConvergenceWarning``). A round that changes the supports removes at least one term
    and none comes back, so ``max_iter`` :math:`\ge p \cdot n_\text{vars} + 1` always converges.

    Args:
        theta: the library evaluated on the data, :math:`\Theta`, shape ``(T, p)``.
        dxdt: time derivatives :math:`\dot X`, shape ``(T, n_vars)``.
        threshold: smallest coefficient magnitude kept, :math:`\lambda \ge 0`, in units of
            ``dxdt`` per unit of the library term.
        alpha: ridge penalty :math:`\alpha \ge 0` (0: plain least squares).
        max_iter: most thresholding rounds.
        normalize_columns: threshold the coefficients of unit-norm columns instead.

    Returns:
        :math:`\Xi`, float64 NumPy of shape ``(p, n_vars)``: column :math:`j` holds the
        coefficients of :math:`\dot x_j`.

    Example:
        >>> import numpy as np
        >>> t = np.linspace(0, 1, 50)
        >>> theta = np.stack([np.ones_like(t), t, t**2], axis=1)
        >>> (stlsq(theta, 3 * t[:, None], threshold=0.1).round(12) + 0.0).ravel().tolist()
        [0.0, 3.0, 0.0]
    """
    theta, dxdt = _check_regression(theta, dxdt, threshold, alpha)
    max_iter = check_count(max_iter, "max_iter")
    scale = np.ones(theta.shape[1])
    if normalize_columns:
        scale = np.linalg.norm(theta, axis=0)
        if np.any(scale == 0):
            raise ValueError(
                "normalize_columns needs nonzero library columns; columns "
                f"{np.flatnonzero(scale == 0).tolist()} are zero on the data"
            )
        theta = theta / scale
    p, n = theta.shape[1], dxdt.shape[1]
    support = np.ones((p, n), dtype=bool)
    coef = np.zeros((p, n))
    for _ in range(max_iter):
        coef = np.zeros((p, n))
        for j in range(n):
            if support[:, j].any():
                coef[support[:, j], j] = _ridge(theta[:, support[:, j]], dxdt[:, j], float(alpha))
        new = np.abs(coef) >= threshold
        coef[~new] = 0.0
        if np.array_equal(new, support):
            break
        support = new
    else:
        warnings.warn(
            f"stlsq: the support still changed after max_iter = {max_iter} rounds; raise max_iter",
            RuntimeWarning,
            stacklevel=2,
        )
    coef = np.zeros((p, n))
    for j in range(n):
        if support[:, j].any():
            coef[support[:, j], j] = _lstsq(theta[:, support[:, j]], dxdt[:, j])
    return coef / scale[:, None]


class ThresholdPath(NamedTuple):
    r"""STLSQ fits along a list of thresholds (:func:`threshold_path`).

    Attributes:
        thresholds: the thresholds :math:`\lambda_k`, shape ``(k,)``.
        n_terms: number of nonzero coefficients of each fit (all equations together), ``(k,)``.
        residuals: relative residual
            :math:`\lVert \Theta\Xi - \dot X\rVert_F / \lVert\dot X\rVert_F`, ``(k,)``.
        coefficients: the fits :math:`\Xi`, shape ``(k, p, n_vars)``.
    """

    thresholds: np.ndarray
    n_terms: np.ndarray
    residuals: np.ndarray
    coefficients: np.ndarray

    def recovers(self, support: ArrayLike) -> np.ndarray:
        """Which thresholds select exactly ``support`` (boolean, shape ``(p, n_vars)``): shape ``(k,)``."""
        support = np.asarray(support, dtype=bool)
        if support.shape != self.coefficients.shape[1:]:
            raise ValueError(f"support must have shape {self.coefficients.shape[1:]}, got {support.shape}")
        return np.all((self.coefficients != 0) == support, axis=(1, 2))


def threshold_path(
    theta: Float[ArrayLike, "T p"],
    dxdt: Float[ArrayLike, "T n_vars"],
    thresholds: Float[ArrayLike, " k"],
    *,
    alpha: float = 0.0,
    max_iter: int = 20,
    normalize_columns: bool = False,
) -> ThresholdPath:
    r"""Run :func:`stlsq` at each threshold: the trade-off between sparsity and fit.

    Small thresholds keep spurious terms that fit noise; large ones cut true terms and the
    residual jumps. The true model, when the library contains it and the data determine it,
    is the plateau in between: the sparsest fit before the residual rises.

    Args:
        theta, dxdt, alpha, max_iter, normalize_columns: as for :func:`stlsq`.
        thresholds: thresholds :math:`\lambda_k \ge 0`, shape ``(k,)``.

    Returns:
        a :class:`ThresholdPath`; ``path.recovers(true_support)`` says where the true terms
        and only they were selected.
    """
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if thresholds.ndim != 1 or thresholds.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D array, got shape {thresholds.shape}")
    theta, dxdt = _check_regression(theta, dxdt, 0.0, alpha)
    fits = np.stack(
        [
            stlsq(
                theta,
                dxdt,
                threshold=float(t),
                alpha=alpha,
                max_iter=max_iter,
                normalize_columns=normalize_columns,
            )
            for t in thresholds
        ]
    )
    residuals = np.linalg.norm(theta @ fits - dxdt, axis=(1, 2)) / np.linalg.norm(dxdt)
    return ThresholdPath(thresholds, np.count_nonzero(fits, axis=(1, 2)), residuals, fits)


# --------------------------------------------------------------------------------- models


def _rk4_flow(field: Callable[[Array], Array], x0: Array, t: Array) -> Array:
    def step(x: Array, h: Array) -> tuple[Array, Array]:
        k1 = field(x)
        k2 = field(x + h / 2 * k1)
        k3 = field(x + h / 2 * k2)
        k4 = field(x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return x, x

    _, path = jax.lax.scan(step, x0, jnp.diff(t))
    return jnp.concatenate([x0[None], path])


class SindyModel(NamedTuple):
    r"""A sparse model :math:`\dot x = \Xi^\top\theta(x)` found by :func:`sindy`.

    Attributes:
        coefficients: :math:`\Xi`, float64 NumPy of shape ``(p, n_vars)``; column :math:`j`
            is the equation of :math:`\dot x_j`, row :math:`i` the term ``library.names[i]``.
        library: the :class:`Library` of candidate terms.
    """

    coefficients: np.ndarray
    library: Library

    @property
    def names(self) -> tuple[str, ...]:
        """The library's term names."""
        return self.library.names

    def equations(self, precision: int = 3) -> list[str]:
        """The equations as text, e.g. ``"x' = -0.100 x + 2.000 y"``; terms whose coefficient
        rounds to zero at ``precision`` decimals are left out."""
        precision = check_count(precision, "precision", least=0)
        lines = []
        for j, var in enumerate(self.library.variables):
            text = ""
            for c, name in zip(self.coefficients[:, j], self.library.names, strict=True):
                if round(float(c), precision) == 0:
                    continue
                term = f"{abs(c):.{precision}f}" + ("" if name == "1" else f" {name}")
                sign = (" - " if c < 0 else " + ") if text else ("-" if c < 0 else "")
                text += sign + term
            lines.append(f"{var}' = {text or f'{0:.{precision}f}'}")
        return lines

    def predict(self, x: Float[ArrayLike, "... n_vars"]) -> Float[Array, "... n_vars"]:
        r"""The vector field :math:`\dot x = \Xi^\top\theta(x)` at states of shape ``(..., n_vars)``."""
        x = jnp.asarray(x)
        return self.library(x) @ jnp.asarray(self.coefficients, dtype=x.dtype)

    def simulate(
        self, x0: Float[ArrayLike, " n_vars"], t: Float[ArrayLike, " T"]
    ) -> Float[Array, "T n_vars"]:
        r"""Integrate :math:`\dot x = \Xi^\top\theta(x)` from ``x0`` at ``t[0]`` by classical RK4,
        one step from each ``t[k]`` to ``t[k+1]`` (fixed steps; choose ``t`` fine enough).

        Returns:
            the states at the times ``t``, shape ``(T, n_vars)``; ``x[0] = x0``.
        """
        x0 = jnp.asarray(x0)
        if not jnp.issubdtype(x0.dtype, jnp.floating):
            x0 = x0.astype(jnp.result_type(float))
        if x0.shape != (len(self.library.variables),):
            raise ValueError(f"x0 must have shape ({len(self.library.variables)},), got {x0.shape}")
        t = np.asarray(t, dtype=np.float64)
        if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise ValueError("t must be a 1-D array of increasing, finite times")
        xi = jnp.asarray(self.coefficients, dtype=x0.dtype)
        field = lambda x: self.library(x) @ xi
        return _rk4_flow(field, x0, jnp.asarray(t, dtype=x0.dtype))


def sindy(
    x: Float[ArrayLike, "... T n_vars"],
    library: Library,
    *,
    threshold: float,
    dt: float | None = None,
    x_dot: Float[ArrayLike, "... T n_vars"] | None = None,
    alpha: float = 0.0,
    max_iter: int = 20,
    normalize_columns: bool = False,
) -> SindyModel:
    r"""Fit a sparse model :math:`\dot x = \Xi^\top\theta(x)` to trajectories (SINDy).

    Evaluates :math:`\Theta(X)` on every sample (in float64), takes :math:`\dot X` as given
    (``x_dot``) or by :func:`finite_difference` with step ``dt`` along each trajectory, and
    solves :math:`\dot X \approx \Theta\,\Xi` by :func:`stlsq`. Several trajectories
    (shape ``(m, T, n_vars)``) are differentiated separately and fitted together.

    Args:
        x: states, shape ``(T, n_vars)`` or ``(m, T, n_vars)``.
        library: the candidate terms, e.g. ``polynomial_library(2, 3)``.
        threshold, alpha, max_iter, normalize_columns: as for :func:`stlsq`.
        dt: sampling interval, to differentiate ``x`` numerically; or
        x_dot: the time derivatives, the shape of ``x`` (exactly one of ``dt`` and ``x_dot``).

    Returns:
        a :class:`SindyModel`.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(100, 2))
        >>> model = sindy(x, polynomial_library(2, 2), x_dot=x @ np.array([[-0.1, -2.0], [2.0, -0.1]]),
        ...               threshold=0.05)
        >>> model.equations()
        ["x' = -0.100 x + 2.000 y", "y' = -2.000 x - 0.100 y"]
    """
    if not isinstance(library, Library):
        raise ValueError(f"library must be a physml.discovery.Library, got {type(library).__name__}")
    x = _trajectories(x)
    if (dt is None) == (x_dot is None):
        raise ValueError("give exactly one of dt (to differentiate x numerically) and x_dot")
    if x_dot is None:
        x_dot = finite_difference(x, dt)
    else:
        x_dot = _trajectories(x_dot, "x_dot")
        if x_dot.shape != x.shape:
            raise ValueError(f"x_dot must have the shape of x, {x.shape}, got {x_dot.shape}")
    if x.shape[-1] != len(library.variables):
        raise ValueError(
            f"x has {x.shape[-1]} variables but the library acts on {len(library.variables)}: "
            f"{library.variables}"
        )
    n = x.shape[-1]
    theta = library.numpy(x.reshape(-1, n))
    coefficients = stlsq(
        theta,
        x_dot.reshape(-1, n),
        threshold=threshold,
        alpha=alpha,
        max_iter=max_iter,
        normalize_columns=normalize_columns,
    )
    return SindyModel(coefficients, library)


# ------------------------------------------------------------------------------ pendulum


class PendulumData(NamedTuple):
    r"""Sampled pendulum trajectories (:func:`pendulum_trajectory`).

    Attributes:
        t: sample times, shape ``(T,)``.
        x: observed states :math:`(\theta, \omega)` (with measurement noise if any), shape
            ``(..., T, 2)``; angle in radians, angular velocity in radians per unit time.
        x_dot: exact derivatives :math:`(\omega, -\frac{g}{L}\sin\theta)` at the true states,
            shape ``(..., T, 2)``.
        x_true: the noiseless states, shape ``(..., T, 2)``.
    """

    t: Array
    x: Array
    x_dot: Array
    x_true: Array


def pendulum_trajectory(
    initial_state: Float[ArrayLike, "... 2"],
    *,
    g_over_l: float = 1.0,
    dt: float = 0.05,
    n: int = 200,
    noise: float = 0.0,
    key: Array | None = None,
) -> PendulumData:
    r"""Trajectories of the plane pendulum, sampled every ``dt``, with optional Gaussian measurement noise:

    .. math::

        \dot\theta = \omega, \qquad \dot\omega = -\frac{g}{L}\sin\theta .


    Integrated with :func:`physml.integrators.rk4` on :func:`physml.integrators.pendulum`
    (:math:`\omega_0^2 = g/L`) with internal steps of at most 0.01 time units — an error near
    :math:`10^{-9}` over tens of periods, far below any sampling or noise effect studied here.
    ``x_dot`` is the exact vector field at the integrated states, so finite-difference
    derivatives of ``x`` can be compared with it.

    Args:
        initial_state: :math:`(\theta_0, \omega_0)`, shape ``(2,)``, or ``(m, 2)`` for ``m``
            trajectories (several energies: one orbit alone cannot tell the library columns
            :math:`1`, :math:`\cos\theta` and :math:`\omega^2` apart, since
            :math:`\frac12\omega^2 - \frac{g}{L}\cos\theta` is constant on it).
        g_over_l: :math:`g/L > 0`, in 1/time².
        dt: sampling interval.
        n: number of samples per trajectory, at :math:`t = 0, \Delta t, \dots, (n-1)\Delta t`.
        noise: standard deviation :math:`\sigma \ge 0` of white noise added to both observed
            coordinates (radians and radians per unit time).
        key: PRNG key for the noise; required when ``noise > 0``.

    Returns:
        a :class:`PendulumData` in the dtype of ``initial_state`` (JAX's default float if it
        is not a float array).
    """
    state = jnp.asarray(initial_state)
    if not jnp.issubdtype(state.dtype, jnp.floating):
        state = state.astype(jnp.result_type(float))
    if state.ndim not in (1, 2) or state.shape[-1] != 2:
        raise ValueError(f"initial_state must have shape (2,) or (m, 2), got {state.shape}")
    if not bool(jnp.all(jnp.isfinite(state))):
        raise ValueError("initial_state must be finite")
    g_over_l = check_positive(g_over_l, "g_over_l")
    dt = check_positive(dt, "dt")
    n = check_count(n, "n", least=2)
    if not (is_real(noise) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if noise > 0 and key is None:
        raise ValueError("noise > 0 needs a PRNG key (key=jax.random.key(...))")
    substeps = max(1, math.ceil(dt / 0.01 - 1e-9))
    flat = state.reshape(-1, 2)
    method = integrators.rk4(integrators.pendulum(math.sqrt(g_over_l)))
    path = integrators.run(
        method, method.init(flat[:, 0], flat[:, 1]), (n - 1) * substeps, dt / substeps, every=substeps
    )
    x_true = jnp.stack([path.q.T, path.p.T], axis=-1).reshape(*state.shape[:-1], n, 2)
    x_dot = jnp.stack([x_true[..., 1], -g_over_l * jnp.sin(x_true[..., 0])], axis=-1)
    x = x_true
    if noise > 0:
        x = x_true + noise * jax.random.normal(key, x_true.shape, x_true.dtype)
    return PendulumData(path.t, x, x_dot, x_true)
