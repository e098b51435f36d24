r"""The curvature of a loss: Hessians, Hessian-vector products, the sharpness and the
classification of critical points.

Near a point :math:`\theta`, a loss is :math:`L(\theta + \delta) \approx L + \nabla L\cdot\delta
+ \frac12\delta^\top H\delta` with the Hessian :math:`H_{ij} = \partial_i\partial_j L`. Its
largest eigenvalue, the *sharpness* :math:`\lambda_{\max}(H)`, sets the largest stable step of
gradient descent, :math:`\eta < 2/\lambda_{\max}`; the signs of its eigenvalues at a critical
point (:math:`\nabla L = 0`) tell a minimum from a saddle.

A dense Hessian costs :math:`d` gradient evaluations and :math:`d^2` memory, fine for small
models (:func:`~physml.landscapes.hessian`, :func:`~physml.landscapes.hessian_spectrum`). For
a network, :func:`~physml.landscapes.sharpness` needs only Hessian-vector products
(:func:`~physml.landscapes.hvp`), each about the cost of two gradients and with no :math:`d^2`
storage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .functions import Loss, _as_vector, _check_count, _check_positive

__all__ = [
    "CriticalPoint",
    "classify_critical_point",
    "hessian",
    "hessian_spectrum",
    "hvp",
    "lanczos_ritz_values",
    "sharpness",
]


def hessian(loss: Loss, theta: Float[ArrayLike, " d"]) -> Float[Array, "d d"]:
    r"""The dense Hessian :math:`H_{ij} = \partial^2 L/\partial\theta_i\partial\theta_j` at
    ``theta`` (``jax.hessian``, forward over reverse), shape ``(d, d)``."""
    return _hessian(loss, _as_vector(theta))


@functools.partial(jax.jit, static_argnums=0)
def _hessian(loss: Loss, theta: Array) -> Array:
    return jax.hessian(loss)(theta)


@functools.partial(jax.jit, static_argnums=0)
def _grad_norm_and_spectrum(loss: Loss, theta: Array) -> tuple[Array, Array]:
    H = jax.hessian(loss)(theta)
    return jnp.linalg.norm(jax.grad(loss)(theta)), jnp.linalg.eigvalsh(0.5 * (H + H.T))


def hvp(loss: Loss, theta: Float[ArrayLike, " d"], v: Float[ArrayLike, " d"]) -> Float[Array, " d"]:
    r"""The Hessian-vector product :math:`Hv = \frac{d}{d\epsilon}\nabla L(\theta +
    \epsilon v)\big|_{\epsilon=0}`, without forming :math:`H`.

    Forward-mode differentiation (``jax.jvp``) of the reverse-mode gradient (``jax.grad``):
    one call costs a small constant times a gradient evaluation and :math:`O(d)` memory.

    Args:
        loss: ``loss(theta) -> scalar``.
        theta: the point, shape ``(d,)``.
        v: the direction, shape ``(d,)``.

    Returns:
        :math:`H(\theta)\,v`, shape ``(d,)``.
    """
    theta = _as_vector(theta)
    v = _as_vector(v, "v", theta.shape[0])
    return _hvp_jit(loss, theta, v.astype(theta.dtype))


def _hvp(loss: Loss, theta: Array, v: Array) -> Array:
    return jax.jvp(jax.grad(loss), (theta,), (v,))[1]


_hvp_jit = jax.jit(_hvp, static_argnums=0)


def hessian_spectrum(loss: Loss, theta: Float[ArrayLike, " d"]) -> Float[Array, " d"]:
    """All eigenvalues of the dense Hessian at ``theta``, ascending (``eigvalsh`` of its
    symmetric part); for small models, :math:`d` up to a few thousand."""
    return _grad_norm_and_spectrum(loss, _as_vector(theta))[1]


# ------------------------------------------------------------------------- the sharpness


def _normalize(v: Array) -> Array:
    n = jnp.linalg.norm(v)
    return v / jnp.where(n > 0, n, 1.0)


def lanczos_ritz_values(
    matvec: Callable[[Array], Array], v0: Float[ArrayLike, " d"], num_iter: int, *, key: Array
) -> Float[Array, " k"]:
    r"""Ritz values of a symmetric operator :math:`A` from ``num_iter`` Lanczos steps with full
    reorthogonalisation: the eigenvalues of the tridiagonal :math:`T = Q^\top A Q`.

    Starting from :math:`q_0 = v_0/\lVert v_0\rVert`, step :math:`j` computes
    :math:`w = Aq_j`, :math:`\alpha_j = q_j\cdot w`, removes from :math:`w` its components on
    all of :math:`q_0, \dots, q_j` (classical Gram–Schmidt, twice, so no spurious copies of
    converged eigenvalues appear), and sets :math:`\beta_j = \lVert w\rVert`,
    :math:`q_{j+1} = w/\beta_j`. The Ritz values interlace the spectrum: the largest rises
    monotonically to :math:`\lambda_{\max}` from below, fastest when the top is well separated.
    When the Krylov space becomes invariant (:math:`\beta_j \le \sqrt{\epsilon}\,\lVert A
    \rVert`), the recurrence restarts from a random vector orthogonal to it and
    :math:`\beta_j` is set to 0, which moves the Ritz values by at most the dropped
    :math:`\beta_j`. Pure and jit-able, so it runs inside a compiled training loop
    (:func:`~physml.landscapes.train_with_sharpness`), where ``scipy.sparse.linalg.eigsh``
    cannot.

    Args:
        matvec: :math:`v \mapsto Av`, shape ``(d,)`` to ``(d,)``; e.g.
            ``lambda v: hvp(loss, theta, v)``.
        v0: start vector, shape ``(d,)``.
        num_iter: Lanczos steps :math:`k`, :math:`1 \le k \le d`.
        key: PRNG key for the restart vectors.

    Returns:
        the :math:`k` Ritz values, ascending.
    """
    v0 = jnp.asarray(v0)
    if v0.ndim != 1 or not 1 <= num_iter <= v0.shape[0]:
        raise ValueError(f"need v0 of shape (d,) and 1 <= num_iter <= d, got {v0.shape} and {num_iter!r}")
    restarts = jax.random.normal(key, (num_iter, v0.shape[0]), v0.dtype)
    return _lanczos(matvec, v0, restarts)


def _lanczos(matvec: Callable[[Array], Array], v0: Array, restarts: Array) -> Array:
    """Lanczos with full reorthogonalisation; ``restarts`` (shape ``(k, d)``) holds one random
    vector per step, used only at a breakdown."""
    k, d = restarts.shape
    dtype = v0.dtype
    tiny = jnp.sqrt(jnp.finfo(dtype).eps)

    def orthogonalize(Q: Array, w: Array) -> Array:
        w = w - Q.T @ (Q @ w)  # rows not yet filled are zero and contribute nothing
        return w - Q.T @ (Q @ w)

    def body(j: Array, carry: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        Q, alpha, beta, scale = carry
        q = Q[j]
        w = matvec(q)
        a = q @ w
        w = orthogonalize(Q, w)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(scale, jnp.maximum(jnp.abs(a), b))
        broken = b <= tiny * scale
        restart = _normalize(orthogonalize(Q, restarts[j]))
        q_next = jnp.where(broken, restart, w / jnp.where(broken, 1.0, b))
        return (
            Q.at[j + 1].set(q_next),
            alpha.at[j].set(a),
            beta.at[j].set(jnp.where(broken, 0.0, b)),
            scale,
        )

    Q0 = jnp.zeros((k + 1, d), dtype).at[0].set(_normalize(v0))
    init = (Q0, jnp.zeros(k, dtype), jnp.zeros(k, dtype), jnp.zeros((), dtype))
    _, alpha, beta, _ = jax.lax.fori_loop(0, k, body, init)
    off = beta[: k - 1]
    T = jnp.diag(alpha) + jnp.diag(off, 1) + jnp.diag(off, -1)
    return jnp.linalg.eigvalsh(T)


def _power_top(matvec: Callable[[Array], Array], v0: Array, num_iter: int) -> Array:
    """Rayleigh quotient after ``num_iter`` power-iteration steps: the eigenvalue of largest |λ|."""
    v = jax.lax.fori_loop(0, num_iter, lambda _, v: _normalize(matvec(v)), _normalize(v0))
    return v @ matvec(v)


def _power_sharpness(matvec: Callable[[Array], Array], v0: Array, num_iter: int) -> Array:
    mu = _power_top(matvec, v0, num_iter)

    def shifted(mu: Array) -> Array:  # H - mu I has spectrum >= 0; its top is lambda_max - mu
        return mu + _power_top(lambda v: matvec(v) - mu * v, v0, num_iter)

    return jax.lax.cond(mu < 0, shifted, lambda mu: mu, mu)


def _sharpness_fn(loss: Loss, method: str, num_iter: int) -> Callable[[Array, Array], Array]:
    """``(theta, key) -> lambda_max``: the kernel that :func:`~physml.landscapes.sharpness` and
    :func:`~physml.landscapes.train_with_sharpness` run, pure and jit-able."""

    def top(theta: Array, key: Array) -> Array:
        matvec = functools.partial(_hvp, loss, theta)
        if method == "power":
            return _power_sharpness(matvec, jax.random.normal(key, theta.shape, theta.dtype), num_iter)
        k = min(num_iter, theta.shape[0])
        draws = jax.random.normal(key, (k + 1, theta.shape[0]), theta.dtype)  # one draw compiles fastest
        return _lanczos(matvec, draws[0], draws[1:])[-1]

    return top


def sharpness(
    loss: Loss,
    theta: Float[ArrayLike, " d"],
    *,
    key: Array,
    method: str = "lanczos",
    num_iter: int = 20,
) -> Float[Array, ""]:
    r"""The sharpness :math:`\lambda_{\max}(H)`, the largest (most positive) Hessian eigenvalue,
    from Hessian-vector products only.

    - ``"lanczos"`` (default): ``num_iter`` Lanczos steps with full reorthogonalisation from a
      random start; returns the largest Ritz value, a lower bound on :math:`\lambda_{\max}`
      that converges fast when the top of the spectrum is separated (as the outlier
      eigenvalues of a network's Hessian are): typically 20–30 steps give it to many digits.
      Costs ``num_iter`` HVPs (capped at :math:`d`, where it is exact).
    - ``"power"``: power iteration, :math:`v \leftarrow Hv/\lVert Hv\rVert`, then the Rayleigh
      quotient. It converges to the eigenvalue of largest *magnitude*, with error
      :math:`\propto (\lambda_2/\lambda_1)^{2n}` — slow when the top two are close. At a
      saddle or early in training that may be a negative eigenvalue: when the first pass
      returns :math:`\mu < 0`, a second pass on :math:`H - \mu I` (whose spectrum is
      :math:`\ge 0`, topped by :math:`\lambda_{\max} - \mu`) recovers :math:`\lambda_{\max}`.
      Costs ``num_iter + 1`` HVPs, twice that when a shift is needed.

    Args:
        loss: ``loss(theta) -> scalar``.
        theta: the point, shape ``(d,)``.
        key: PRNG key for the random start vector.
        method: ``"lanczos"`` or ``"power"``.
        num_iter: Lanczos steps, or power iterations per pass.

    Returns:
        the estimate of :math:`\lambda_{\max}(H(\theta))`, a scalar.
    """
    theta = _as_vector(theta)
    if method not in ("lanczos", "power"):
        raise ValueError(f'method must be "lanczos" or "power", got {method!r}')
    num_iter = _check_count(num_iter, "num_iter")
    return _sharpness_jit(loss, method, num_iter, theta, key)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _sharpness_jit(loss: Loss, method: str, num_iter: int, theta: Array, key: Array) -> Array:
    return _sharpness_fn(loss, method, num_iter)(theta, key)


# ------------------------------------------------------------------ critical points


class CriticalPoint(NamedTuple):
    r"""What the second-derivative test says about a critical point.

    Attributes:
        kind: ``"minimum"`` (all Hessian eigenvalues > 0), ``"maximum"`` (all < 0),
            ``"saddle"`` (some > 0 and some < 0, zeros allowed), or ``"degenerate"``
            (some zero and no sign change: the test cannot decide, e.g. the monkey saddle).
        index: the number of negative eigenvalues (directions of descent).
        nullity: the number of zero eigenvalues (``|λ| <= tol``).
        eigenvalues: the Hessian eigenvalues, ascending, shape ``(d,)``.
        grad_norm: :math:`\lVert\nabla L\rVert` at the point.
    """

    kind: str
    index: int
    nullity: int
    eigenvalues: Array
    grad_norm: float


def classify_critical_point(
    loss: Loss, theta: Float[ArrayLike, " d"], *, tol: float = 1e-6, grad_tol: float | None = None
) -> CriticalPoint:
    r"""Classify a critical point :math:`\nabla L(\theta) = 0` by the Hessian's eigenvalues.

    An eigenvalue with :math:`|\lambda| \le` ``tol`` counts as zero. With every eigenvalue
    non-zero, :math:`L(\theta+\delta) - L(\theta) \approx \frac12\sum_i\lambda_i c_i^2` decides:
    a minimum, a maximum, or a saddle of index :math:`\#\{\lambda_i < 0\}`. Eigenvalues of
    both signs make a saddle even when some vanish. Zero eigenvalues without a sign change
    leave the test undecided: ``"degenerate"``.

    Args:
        loss: ``loss(theta) -> scalar``.
        theta: the candidate point, shape ``(d,)``.
        tol: eigenvalues with :math:`|\lambda| \le` ``tol`` count as zero (in the units of
            :math:`L/\theta^2`).
        grad_tol: the largest :math:`\lVert\nabla L\rVert` accepted (default ``tol``).

    Returns:
        a :class:`~physml.landscapes.CriticalPoint`.

    Raises:
        ValueError: if :math:`\lVert\nabla L(\theta)\rVert >` ``grad_tol``: the point is not
            critical, and the Hessian alone says nothing about it.
    """
    tol = _check_positive(tol, "tol")
    grad_tol = tol if grad_tol is None else _check_positive(grad_tol, "grad_tol")
    theta = _as_vector(theta)
    norm, eigenvalues = _grad_norm_and_spectrum(loss, theta)
    grad_norm = float(norm)
    if not grad_norm <= grad_tol:
        raise ValueError(
            f"not a critical point: |grad L| = {grad_norm:.3g} > grad_tol = {grad_tol:.3g}; "
            "find the critical point first (e.g. critical_points_2d) or raise grad_tol"
        )
    eig = np.asarray(eigenvalues)
    negative, positive = int(np.sum(eig < -tol)), int(np.sum(eig > tol))
    nullity = eigenvalues.shape[0] - negative - positive
    if negative and positive:
        kind = "saddle"
    elif nullity:
        kind = "degenerate"
    else:
        kind = "minimum" if negative == 0 else "maximum"
    return CriticalPoint(kind, negative, nullity, eigenvalues, grad_norm)
