r"""Exercises of "Loss landscapes" (``exercises/04_landscapes.ipynb``).

Every value a checker compares to is computed in float64 whatever JAX's default precision:
closed forms (the stability limit :math:`2/\lambda_{\max}` of gradient descent; the Hessians of
the test losses, built from their eigenvalues or differentiated by hand), the dense Hessian of a
small network (:func:`jax.hessian`, :func:`numpy.linalg.eigvalsh`) and gradient descent iterated
step by step, here; the heavy ball's limit :math:`2(1+\beta)/\lambda_{\max}` and the fit of
:math:`\theta` come from :mod:`physml.landscapes`. ``tests/test_exercises_ch04.py`` checks the
closed forms against :func:`jax.hessian`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from .. import landscapes
from ..landscapes import randommatrix
from ..plotting import Scene, figure, with_scene
from ._core import (
    FLOAT32_ADVICE,
    Wrong,
    as_float,
    as_number,
    call_quietly,
    close,
    exercise,
    in_float64,
    show,
    tolerance,
)

NOTEBOOK = "04_landscapes"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4

# ------------------------------------------------------------------------ exercise 4.1

#: The Hessian of the loss :math:`L(\theta) = \frac12\theta^\top A\theta` of exercise 4.1. It is
#: not diagonal: its diagonal (3 and 1) is not its spectrum (:math:`2 \pm \sqrt{2.44}`).
A_4_1 = np.array([[3.0, 1.2], [1.2, 1.0]])
#: Where gradient descent starts in exercise 4.1 (mostly along the slow eigenvector).
THETA0_4_1 = np.array([-1.0, 1.5])
#: Steps of gradient descent the widget draws.
GD_STEPS = 50
#: Accepted relative distance from :math:`2/\lambda_{\max}` (the slider moves by 0.002).
STEP_TOLERANCE = 0.015


def quadratic_spectrum() -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues (ascending) and eigenvectors (columns, largest component positive) of
    :data:`A_4_1`, in float64: :math:`\lambda = 2 \mp \sqrt{2.44}`."""
    eigenvalues, vectors = np.linalg.eigh(A_4_1)
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(2)])
    return eigenvalues, vectors * signs


def largest_stable_step() -> float:
    r"""The stability limit of gradient descent on :data:`A_4_1`, :math:`\eta^* = 2/\lambda_{\max}`.

    On :math:`L = \frac12\theta^\top A\theta` a step :math:`\theta \leftarrow \theta - \eta A\theta`
    multiplies the component along the eigenvector of :math:`\lambda` by :math:`1 - \eta\lambda`;
    every component shrinks iff :math:`|1 - \eta\lambda| < 1` for all :math:`\lambda`, i.e.
    :math:`0 < \eta < 2/\lambda_{\max}`.
    """
    return 2.0 / float(quadratic_spectrum()[0][-1])


def gd_on_quadratic(eta: float, n_steps: int = GD_STEPS) -> Float[np.ndarray, "steps_plus_one 2"]:
    r"""The iterates :math:`\theta_t = (1 - \eta A)^t\theta_0` of gradient descent on
    :math:`L = \frac12\theta^\top A\theta` (:data:`A_4_1`, from :data:`THETA0_4_1`), float64.

    Returns:
        positions, shape ``(n_steps + 1, 2)``, starting with :math:`\theta_0`.
    """
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a positive step size, got {eta}")
    thetas = [THETA0_4_1]
    for _ in range(n_steps):
        thetas.append(thetas[-1] - eta * (A_4_1 @ thetas[-1]))
    return np.array(thetas)


def _gd_on_quadratic_scene() -> Scene:
    """The figure of exercise 4.1 and the function that moves it to a step size: iterates, curves, title."""
    _, vectors = quadratic_spectrum()
    fig, (left, right) = figure(ncols=2, figsize=(9.0, 3.8), width_ratios=(1, 1.15))
    fig.subplots_adjust(left=0.035, right=0.98, bottom=0.135, top=0.9, wspace=0.19)  # no layout engine: fast
    box = 2.5
    grid = np.linspace(-box, box, 201)
    X, Y = np.meshgrid(grid, grid)
    Z = 0.5 * (A_4_1[0, 0] * X**2 + 2 * A_4_1[0, 1] * X * Y + A_4_1[1, 1] * Y**2)
    left.contour(X, Y, Z, levels=np.geomspace(0.02, 12, 9), colors="#9aa5b1", linewidths=0.8)
    for k, (colour, name) in enumerate((("#4c72b0", "slow"), ("#c44e52", "top"))):
        v = vectors[:, k] * 3 * box
        left.plot([-v[0], v[0]], [-v[1], v[1]], ls="--", lw=1, color=colour, label=f"{name} eigenvector")
    (iterates,) = left.plot([], [], "-o", color="#222222", ms=2.5, lw=0.8, label="GD iterates")
    (start,) = left.plot(*THETA0_4_1, "o", color="#f2a900", ms=7, zorder=3)
    left.set_xlim(-box, box)
    left.set_ylim(-box, box)
    left.set_aspect("equal")
    left.set_xlabel(r"$\theta_1$")
    left.set_ylabel(r"$\theta_2$")
    left_legend = left.legend(loc="lower left", fontsize="x-small")
    steps = np.arange(GD_STEPS + 1)
    floor = 1e-12
    curves = [
        right.semilogy(steps, np.ones_like(steps), color=colour, lw=lw, label=label)[0]
        for colour, lw, label in (
            ("#222222", 1.5, "loss L"),
            ("#c44e52", 1.2, "|top component|"),
            ("#4c72b0", 1.2, "|slow component|"),
        )
    ]
    right.set_ylim(1e-8, 1e6)
    right.set_xlim(0, GD_STEPS)
    right.set_xlabel("step t")
    right.set_ylabel("loss, |component| (dimensionless)")
    right_legend = right.legend(loc="upper left", fontsize="x-small")
    title = fig.suptitle("")

    def move(eta: float) -> list[Artist]:
        if not (np.isfinite(eta) and 0 < eta <= 2.0):
            raise ValueError(f"eta must lie in (0, 2], got {eta}")
        thetas = gd_on_quadratic(eta)
        modes = np.abs(thetas @ vectors)  # (steps, 2): slow mode, top mode
        loss = 0.5 * np.einsum("ti,ij,tj->t", thetas, A_4_1, thetas)
        iterates.set_data(thetas[:, 0], thetas[:, 1])
        for curve, values in zip(curves, (loss, modes[:, 1], modes[:, 0]), strict=True):
            curve.set_ydata(np.maximum(values, floor))
        trend = "grows" if loss[-1] > loss[0] else "falls"
        title.set_text(
            f"η = {eta:.3f}: the loss {trend} from {loss[0]:.3g} to {loss[-1]:.3g} in {GD_STEPS} steps"
        )
        return [iterates, start, left_legend, *curves, right_legend, title]

    return fig, move


@with_scene(_gd_on_quadratic_scene)
def draw_gd_on_quadratic(eta: float) -> Figure:
    r"""The widget's figure for exercise 4.1 at step size ``eta``.

    Left: contours of :math:`L = \frac12\theta^\top A\theta` with the eigenvector directions and
    the first :data:`GD_STEPS` iterates of gradient descent. Right: the loss and the absolute
    components of :math:`\theta_t` along the two eigenvectors, against the step (log scale).
    """
    fig, move = _gd_on_quadratic_scene()
    move(eta)
    return fig


@exercise(
    "4.1",
    title="The largest stable step size (widget)",
    answer="eta_max",
    notebook=NOTEBOOK,
    hints=(
        "Move η up slowly and watch the red curve, the component along the top eigenvector: below the "
        "limit it shrinks, above it it grows, flipping sign at every step.",
        "A step multiplies the component along the eigenvector of λ by 1 − ηλ. The top mode stops "
        "shrinking where 1 − ηλ_max = −1. The diagonal entries of A are not its eigenvalues.",
        "np.linalg.eigvalsh(A) gives λ_min and λ_max; the limit is η = 2/λ_max.",
    ),
)
def check_eta_max(answer: Any) -> str | None:
    r"""``answer`` is within :data:`STEP_TOLERANCE` of :math:`2/\lambda_{\max}` of :data:`A_4_1`."""
    value = as_float(answer, what="eta_max")
    (lam_min, lam_max), _ = quadratic_spectrum()
    target = 2 / lam_max
    accepted = f"(the check accepts ±{STEP_TOLERANCE:.1%} around the limit)"
    if value <= 0:
        raise Wrong(f"η = {value:g} is not a step size: gradient descent needs η > 0 {accepted}.")
    if abs(value / target - 1) <= STEP_TOLERANCE:
        side = ""
        if value > target:
            side = (
                f" (Your η is {value / target - 1:.1%} above η*: there the top mode grows by "
                f"{abs(1 - value * lam_max):.4f} per step.)"
            )
        return (
            f"η* = 2/λ_max = {target:.4f}, with λ_max = {lam_max:.4f} (A is not diagonal: its diagonal "
            f"entry 3 would give 2/3, where GD diverges). At η* the slow mode, λ_min = {lam_min:.4f}, still "
            f"shrinks only by 1 − η*λ_min = {1 - target * lam_min:.3f} per step: the condition number "
            f"λ_max/λ_min = {lam_max / lam_min:.1f} sets how slow the stable steps are.{side}"
        )
    for candidate, text in _variants_4_1(lam_min, lam_max):
        if abs(value / candidate - 1) <= STEP_TOLERANCE:
            raise Wrong(f"η = {value:.4g}: {text}")
    factor = abs(1 - value * lam_max)
    if value < target:
        raise Wrong(
            f"at η = {value:.4g} gradient descent converges — stable, but not the largest stable step: the "
            f"top mode still shrinks by |1 − ηλ_max| = {factor:.3f} per step. Push η up until the top mode "
            f"oscillates without growing {accepted}."
        )
    raise Wrong(
        f"at η = {value:.4g} gradient descent diverges: the top mode grows by |1 − ηλ_max| = {factor:.3f} "
        f"per step, flipping sign each time. Lower η {accepted}."
    )


def _variants_4_1(lam_min: float, lam_max: float) -> list[tuple[float, str]]:
    """Step sizes from natural mistakes, and why (each checked to :data:`STEP_TOLERANCE`)."""
    diag, rows = np.diag(A_4_1), np.sum(np.abs(A_4_1), axis=1)
    return [
        (
            1 / lam_max,
            "that is 1/λ_max, a factor 2 below the limit. It is the step that removes the top mode in one "
            "step (1 − ηλ_max = 0); GD stays stable until 1 − ηλ_max = −1.",
        ),
        (
            2 / lam_min,
            "that is 2/λ_min, the limit of the slow mode. Every mode must be stable, and the stiffest one "
            "fails first: use λ_max.",
        ),
        (
            2 / float(np.max(diag)),
            "that is 2/max(diag A). A is not diagonal, so its diagonal entries are not its eigenvalues; "
            "at this η the top mode grows. Use the largest eigenvalue of A.",
        ),
        (
            2 / (lam_max + lam_min),
            "that is 2/(λ_max + λ_min), the step that converges fastest (both modes shrink equally); "
            "it is stable but not the largest stable step.",
        ),
        (
            2 / float(np.max(rows)),
            "that is 2 over Gershgorin's bound max_i Σ_j |A_ij| ≥ λ_max: a safe step, but not the largest.",
        ),
        (lam_max, "that is λ_max itself; the step-size limit is 2/λ_max."),
        (2 * lam_max, "that is 2λ_max; the step-size limit is 2/λ_max, the inverse."),
    ]


# ------------------------------------------------------------------------ exercise 4.2

KINDS = ("minimum", "maximum", "saddle")
#: Above this gradient norm a point is not critical (the statement of exercise 4.2).
CRITICAL_GRADIENT = 1e-6


def cubic_loss(theta: Any) -> Any:
    r"""The loss of exercise 4.2, :math:`L(x, y) = x^3 - 3x + y^3 - 3y` (``jax.numpy``).

    Its critical points are :math:`(\pm1, \pm1)`, with Hessian :math:`\mathrm{diag}(6x, 6y)`: a
    minimum at :math:`(1, 1)`, a maximum at :math:`(-1, -1)` and saddles at :math:`(1, -1)`,
    :math:`(-1, 1)`.
    """
    return theta[0] ** 3 - 3 * theta[0] + theta[1] ** 3 - 3 * theta[1]


def rosenbrock_loss(theta: Any) -> Any:
    r"""Rosenbrock's function :math:`L = (1 - x)^2 + 100(y - x^2)^2`: one minimum, at :math:`(1, 1)`,
    with Hessian :math:`\begin{pmatrix} 802 & -400 \\ -400 & 200 \end{pmatrix}`."""
    return (1 - theta[0]) ** 2 + 100 * (theta[1] - theta[0] ** 2) ** 2


def cosines_loss(theta: Any) -> Any:
    r""":math:`L = \sum_i \cos\theta_i`, with Hessian :math:`\mathrm{diag}(-\cos\theta_i)` at its critical
    points :math:`\theta_i \in \pi\mathbb{Z}`."""
    return jnp.sum(jnp.cos(theta))


#: Length of the one standard normal draw every hidden test case is cut from (one compilation).
_DRAW = 4096


@functools.cache
def _gaussians(seed: int) -> np.ndarray:
    """:data:`_DRAW` standard normal numbers from ``jax.random.key(seed)``, float64."""
    return in_float64(lambda: jax.random.normal(jax.random.key(seed), (_DRAW,), dtype=jnp.float64))


@functools.cache
def _rotation(d: int, seed: int) -> np.ndarray:
    """A fixed random orthogonal matrix: QR of a Gaussian matrix cut from :func:`_gaussians`."""
    q, r = np.linalg.qr(_gaussians(seed)[: d * d].reshape(d, d))
    return q * np.sign(np.diag(r))


def rotated_hessian(eigenvalues: Any, seed: int) -> Float[np.ndarray, "d d"]:
    r""":math:`Q\,\mathrm{diag}(\lambda)\,Q^\top` with a fixed random rotation :math:`Q` (from ``seed``):
    a symmetric matrix with the given eigenvalues that is not diagonal, float64."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    q = _rotation(lam.size, seed)
    return (q * lam) @ q.T


def quadratic_loss(hessian: Any, center: Any = None) -> Callable[[Any], Any]:
    r"""The loss :math:`L(\theta) = \frac12(\theta - c)^\top H(\theta - c)` (``jax.numpy``): its only
    critical point is :math:`c`, where the Hessian is :math:`H`."""
    matrix = np.asarray(hessian, dtype=np.float64)
    c = np.zeros(matrix.shape[0]) if center is None else np.asarray(center, dtype=np.float64)

    def loss(theta: Any) -> Any:
        delta = theta - c
        return 0.5 * jnp.dot(delta, jnp.dot(matrix, delta))

    return loss


class CriticalPoint(NamedTuple):
    """A test case of exercise 4.2: a loss, a critical point of it, its exact Hessian there (float64)."""

    loss: Callable[[Any], Any]
    theta: np.ndarray
    hessian: np.ndarray
    label: str


@functools.cache
def critical_points() -> tuple[CriticalPoint, ...]:
    r"""The critical points exercise 4.2 is checked on, in order, with their Hessians in closed form:
    the four of :func:`cubic_loss`; then hidden ones — a saddle with a positive trace, a saddle whose
    Hessian has a positive diagonal, an index-2 saddle in 4-D (positive determinant), a 3-D maximum
    (negative determinant), Rosenbrock's minimum, and an index-2 saddle of :math:`\sum_i\cos\theta_i`."""
    points = [
        CriticalPoint(cubic_loss, np.array(xy), np.diag(6 * np.array(xy)), f"{label} of x³ − 3x + y³ − 3y")
        for xy, label in (((1.0, 1.0), "(1, 1)"), ((-1.0, -1.0), "(−1, −1)"), ((1.0, -1.0), "(1, −1)"))
    ]
    points.append(
        CriticalPoint(cubic_loss, np.array([-1.0, 1.0]), np.diag([-6.0, 6.0]), "(−1, 1) of x³ − 3x + y³ − 3y")
    )
    hidden = [
        (np.diag([3.0, -1.0]), [0.5, -1.0], "the centre of a 2-D quadratic"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), [-0.5, 2.0], "the centre of another 2-D quadratic"),
        (rotated_hessian([3.0, -2.0, 0.5, -1.0], 41), [1.0, -2.0, 0.0, 0.5], "the centre of a 4-D quadratic"),
        (rotated_hessian([-1.0, -2.0, -0.5], 42), [0.0, 0.0, 0.0], "the centre of a 3-D quadratic"),
    ]
    for hessian, center, label in hidden:
        points.append(CriticalPoint(quadratic_loss(hessian, center), np.array(center), hessian, label))
    points.append(
        CriticalPoint(
            rosenbrock_loss,
            np.array([1.0, 1.0]),
            np.array([[802.0, -400.0], [-400.0, 200.0]]),
            "(1, 1) of Rosenbrock's function",
        )
    )
    points.append(
        CriticalPoint(
            cosines_loss,
            np.array([math.pi, 0.0, 0.0]),
            np.diag([1.0, -1.0, -1.0]),
            "(π, 0, 0) of cos θ₁ + cos θ₂ + cos θ₃",
        )
    )
    return tuple(points)


#: A point of :func:`cubic_loss` that is not critical (∇L = (9, −2.25)); its Hessian is positive definite.
NOT_CRITICAL = np.array([2.0, 0.5])


def gradient_float64(loss: Callable[[Any], Any], theta: Any) -> np.ndarray:
    """The gradient of ``loss`` at ``theta``, by :func:`jax.grad` in float64."""
    return in_float64(lambda: jax.grad(loss)(jnp.asarray(theta, dtype=jnp.float64)))


def kind_of(eigenvalues: Any) -> str:
    r"""``"minimum"`` if every Hessian eigenvalue is positive, ``"maximum"`` if every one is
    negative, ``"saddle"`` if there are both signs (none may be zero: the point is non-degenerate)."""
    lam = np.asarray(eigenvalues)
    if np.any(lam == 0):
        raise ValueError("a zero eigenvalue: the critical point is degenerate")
    return "minimum" if np.all(lam > 0) else "maximum" if np.all(lam < 0) else "saddle"


def _kind(raw: Any, where: str) -> str:
    if isinstance(raw, tuple) and raw and isinstance(raw[0], str):
        raise Wrong(f"{where} you returned {len(raw)} values; return only the kind, e.g. 'saddle'.")
    if raw is None:
        raise Wrong(f"{where} your function returned None — did you forget a `return`?")
    if not isinstance(raw, str):
        raise Wrong(f"{where} your function returned {_describe(raw)}; expected one of the strings {KINDS}.")
    kind = raw.strip().lower()
    if kind not in KINDS:
        raise Wrong(f"{where} your function returned {raw[:30]!r}; expected one of {KINDS}.")
    return kind


def _describe(value: Any) -> str:
    try:
        if hasattr(value, "shape"):
            return f"an array of shape {tuple(value.shape)}"
        return f"a {type(value).__name__}"
    except Exception:
        return "an object"


def _classify_call(answer: Any, point: CriticalPoint) -> Any:
    """The learner's ``classify(loss, theta)``; a ``ValueError`` is returned, not raised."""
    try:
        return call_quietly(answer, point.loss, point.theta.copy(), what="your classify")
    except Wrong as exc:
        if isinstance(exc.__cause__, ValueError):
            return exc.__cause__
        raise


def _diagnose_4_2(point: CriticalPoint, got: str, expected: str) -> str:
    hess = point.hessian
    eigenvalues = np.linalg.eigvalsh(hess)
    index = int(np.sum(eigenvalues < 0))
    where = f"at {point.label} the Hessian's eigenvalues are {show(np.round(eigenvalues, 4))}"
    det, trace = float(np.prod(eigenvalues)), float(np.sum(eigenvalues))
    if expected == "minimum" and got == "maximum":
        return (
            f"{where}, and you said maximum: the signs are read backwards. At a minimum the loss curves up "
            "in every direction — every eigenvalue is positive; at a maximum every one is negative."
        )
    if expected == "maximum" and got == "minimum" and eigenvalues.size == 2:
        return (
            f"{where}: a maximum, and you said minimum. The determinant (their product, {det:.4g}) and |λ| "
            "cannot tell them apart: det > 0 at both a minimum and a maximum in 2-D. Look at the sign of "
            "every eigenvalue."
        )
    if expected == "saddle" and got == "minimum":
        if np.all(np.diag(hess) > 0) and not np.allclose(hess, np.diag(np.diag(hess))):
            return (
                f"{where}: a saddle, and you said minimum. The diagonal entries of this Hessian, "
                f"{show(np.diag(hess))}, are all positive, but it is not diagonal: its eigenvalues, not its "
                "diagonal, decide. Use np.linalg.eigvalsh."
            )
        if trace > 0 and det < 0:
            return (
                f"{where}: a saddle, and you said minimum. Their sum (the trace, {trace:.4g}) is positive, "
                "but one eigenvalue is negative — the loss falls along its eigenvector."
            )
        if det > 0:
            return (
                f"{where}: a saddle of index {index}, and you said minimum. Their product, the determinant "
                f"{det:.4g}, is positive because an even number of them is negative: the determinant's sign "
                "counts negative eigenvalues only modulo 2."
            )
    if expected == "maximum" and got == "saddle" and det < 0:
        return (
            f"{where}: all negative, a maximum, and you said saddle. In {eigenvalues.size} dimensions their "
            f"product, the determinant {det:.4g}, is negative at a maximum: det < 0 means a saddle only in "
            "2-D."
        )
    return (
        f"{where}: that is a {expected} (index {index}, the number of negative eigenvalues); you said {got}."
    )


@exercise(
    "4.2",
    title="Classify a critical point by its Hessian",
    answer="classify",
    notebook=NOTEBOOK,
    hints=(
        "Near a critical point L(θ* + δ) ≈ L(θ*) + ½ δᵀHδ. Along an eigenvector of H with eigenvalue λ "
        "the loss rises if λ > 0 and falls if λ < 0.",
        "Check the gradient first (jax.grad(loss)(theta)); then take H = jax.hessian(loss)(theta) and "
        "its eigenvalues np.linalg.eigvalsh(H): all positive, all negative, or mixed?",
        "if np.linalg.norm(g) > 1e-6: raise ValueError(...); lam = np.linalg.eigvalsh(H); return 'minimum' "
        "if np.all(lam > 0) else 'maximum' if np.all(lam < 0) else 'saddle'.",
    ),
    time_limit=30.0,
)
def check_classify(answer: Any) -> str | None:
    """``answer(loss, theta)`` names the kind of each of :func:`critical_points`, and raises
    ValueError at :data:`NOT_CRITICAL`."""
    for point in critical_points():
        where = f"at {point.label}"
        raw = _classify_call(answer, point)
        if isinstance(raw, ValueError):
            grad = float(np.linalg.norm(gradient_float64(point.loss, point.theta)))
            if grad == 0:
                raise Wrong(
                    f"{where} your function raised ValueError, but ∇L = 0 there: it is a critical point. "
                    f"Raise ValueError only when ‖∇L‖ > {CRITICAL_GRADIENT:g}."
                )
            raise Wrong(
                f"{where} your function raised ValueError, but it is a critical point (‖∇L‖ = {grad:.2g}, "
                f"rounding): compare ‖∇L‖ with a tolerance such as {CRITICAL_GRADIENT:g}, not with zero."
            )
        got = _kind(raw, where)
        expected = kind_of(np.linalg.eigvalsh(point.hessian))
        if got != expected:
            raise Wrong(_diagnose_4_2(point, got, expected))
    _check_not_critical(answer)
    return (
        "Minimum, maximum or saddle, from the signs of the Hessian's eigenvalues — not from its determinant, "
        "trace or diagonal, which agree with them only in special cases. The number of negative eigenvalues "
        "is the index: the 4-D saddle and the one of Σ cos θᵢ have index 2."
    )


def _check_not_critical(answer: Any) -> None:
    point = CriticalPoint(
        cubic_loss, NOT_CRITICAL, np.diag(6 * NOT_CRITICAL), "(2, 0.5) of x³ − 3x + y³ − 3y"
    )
    grad = 3 * NOT_CRITICAL**2 - 3
    where = f"at {point.label}, where ∇L = {show(grad)},"
    try:
        raw = _classify_call(answer, point)
    except Wrong as exc:
        if isinstance(exc.__cause__, Exception):
            raise Wrong(
                f"{where} {exc} The point is not critical: raise ValueError there (ValueError, not "
                f"{type(exc.__cause__).__name__})."
            ) from exc
        raise
    if isinstance(raw, ValueError):
        return
    got = _kind(raw, where)
    raise Wrong(
        f"{where} you answered {got!r}, but with ∇L ≠ 0 the point is not critical, and the Hessian's signs "
        f"say nothing about it. Raise ValueError when ‖∇L‖ > {CRITICAL_GRADIENT:g}."
    )


# ------------------------------------------------------------------------ exercise 4.3


def mlp_loss(seed: int = 2, n_samples: int = 32, width: int = 8) -> tuple[Callable[[Any], Any], np.ndarray]:
    r"""A small regression loss: a one-hidden-layer tanh network on 2-D inputs,
    :math:`L(\theta) = \frac{1}{2n}\sum_i (f_\theta(x_i) - y_i)^2`, :math:`f_\theta(x) =
    w_2^\top\tanh(W_1^\top x + b_1) + b_2`, with targets :math:`y = \sin(2x_1)\cos(x_2)`.

    Inputs and the initial parameters (LeCun-normal weights, zero biases) come from one standard
    normal draw from ``jax.random.key(seed)``. Returns ``(loss, theta0)``; ``theta0`` is flat, shape
    ``(4 * width + 1,)`` (:math:`W_1`, :math:`b_1`, :math:`w_2`, :math:`b_2`), float64.
    """
    if 2 * n_samples + 3 * width > _DRAW:
        raise ValueError(
            f"at most {_DRAW} random numbers: n_samples = {n_samples}, width = {width} is too large"
        )
    z = _gaussians(seed)
    x = z[: 2 * n_samples].reshape(n_samples, 2)
    w1 = z[2 * n_samples : 2 * n_samples + 2 * width] / math.sqrt(2)
    w2 = z[2 * n_samples + 2 * width : 2 * n_samples + 3 * width] / math.sqrt(width)
    y = np.sin(2 * x[:, 0]) * np.cos(x[:, 1])
    theta0 = np.concatenate([w1, np.zeros(width), w2, [0.0]])

    def loss(theta: Any) -> Any:
        W1 = jnp.reshape(theta[: 2 * width], (2, width))
        b1, w2_, b2 = theta[2 * width : 3 * width], theta[3 * width : 4 * width], theta[4 * width]
        hidden = jnp.tanh(jnp.dot(x, W1) + b1[None, :])
        return 0.5 * jnp.mean((jnp.dot(hidden, w2_) + b2 - y) ** 2)

    return loss, theta0


def hessian_float64(loss: Callable[[Any], Any], theta: Any) -> np.ndarray:
    """The dense Hessian of ``loss`` at ``theta``, by :func:`jax.hessian` (jitted) in float64."""
    return in_float64(lambda: jax.jit(jax.hessian(loss))(jnp.asarray(theta, dtype=jnp.float64)))


class SharpnessCase(NamedTuple):
    """A test case of exercise 4.3: a loss, a point, and the Hessian's eigenvalues there (ascending)."""

    loss: Callable[[Any], Any]
    theta: np.ndarray
    eigenvalues: np.ndarray
    label: str


def _quadratic_case(eigenvalues: np.ndarray, seed: int, theta: np.ndarray, label: str) -> SharpnessCase:
    loss = quadratic_loss(rotated_hessian(eigenvalues, seed))
    return SharpnessCase(loss, theta, np.sort(eigenvalues), label)


@functools.cache
def sharpness_cases() -> tuple[SharpnessCase, ...]:
    """The losses exercise 4.3 is checked on, in order: a positive-definite quadratic in 30-D; an
    indefinite one whose most negative eigenvalue, −8, outweighs the largest, 5; one whose two top
    eigenvalues, 10 and 9.5, lie close; and :func:`mlp_loss` at its initial parameters, whose
    eigenvalues come from the dense Hessian (float64)."""
    mlp, theta0 = mlp_loss()
    return (
        _quadratic_case(np.r_[10.0, np.linspace(0.5, 7.0, 29)], 43, np.full(30, 0.3), "a 30-D quadratic"),
        _quadratic_case(
            np.r_[-8.0, 5.0, 4.0, np.linspace(-6.0, 3.0, 27)],
            44,
            np.linspace(-1.0, 1.0, 30),
            "an indefinite 30-D quadratic",
        ),
        _quadratic_case(
            np.r_[10.0, 9.5, np.linspace(-3.0, 8.0, 38)],
            45,
            np.zeros(40),
            "a 40-D quadratic whose top two eigenvalues are close",
        ),
        SharpnessCase(
            mlp,
            theta0,
            np.linalg.eigvalsh(hessian_float64(mlp, theta0)),
            "a small tanh network's loss (33 parameters)",
        ),
    )


#: Accepted error of exercise 4.3, relative to the largest |λ| of the Hessian.
SHARPNESS_TOLERANCE = 1e-3
#: Keys the checker hands the learner's function, one per case.
_SHARPNESS_SEED = 4_3


def _diagnose_4_3(got: float, lam: np.ndarray, where: str) -> str:
    lam_min, lam_max = float(lam[0]), float(lam[-1])
    rho = max(abs(lam_min), abs(lam_max))
    shown = f"{where} you returned {got:.6g}; the largest eigenvalue is λ_max = {lam_max:.6g}"

    def near(x: float) -> bool:
        return abs(got - x) <= 1e-2 * rho

    if lam_min < 0 and abs(lam_min) > lam_max and near(lam_min):
        return (
            f"{shown}, and {got:.4g} is λ_min = {lam_min:.4g}, the eigenvalue of largest |λ|: plain power "
            "iteration converges to it. Shift the Hessian by a multiple of the identity (iterate with "
            "H − λ_min·I, whose top eigenvector is H's) or use Lanczos."
        )
    if lam_min < 0 and abs(lam_min) > lam_max and near(-lam_min):
        return (
            f"{shown}, and {got:.4g} is |λ_min| = {-lam_min:.4g}: ‖Hv‖ has no sign. Power iteration found "
            "the eigenvalue of largest |λ|, which is negative here; take the Rayleigh quotient vᵀHv for its "
            "sign, then shift the Hessian by a multiple of the identity (or use Lanczos) to reach λ_max."
        )
    if lam_min < 0 and near(lam_max - lam_min):
        return (
            f"{shown}: {got:.4g} is λ_max − λ_min. After iterating with H − λ_min·I, add the shift back — or "
            "take the Rayleigh quotient vᵀHv with H itself."
        )
    if near(lam_min):
        return f"{shown}: {got:.4g} is the smallest eigenvalue, λ_min. Check the sign of your shift."
    if near(float(np.sum(lam))):
        return (
            f"{shown}: {got:.4g} is the trace, the sum of all eigenvalues; the sharpness is the largest one."
        )
    if lam_min - 1e-2 * rho <= got < lam_max:
        return (
            f"{shown}. Your value lies inside the spectrum, as the Rayleigh quotient of a vector that has "
            "not converged to the top eigenvector does: increase the number of iterations (the error shrinks "
            "like (λ₂/λ₁)^(2k) after k steps, slowly when the top two eigenvalues are close)."
        )
    if got > lam_max:
        return (
            f"{shown}: no Rayleigh quotient vᵀHv/vᵀv exceeds λ_max. Normalize v (or divide by vᵀv), and if "
            "you shifted the Hessian, undo the shift."
        )
    return f"{shown}: your value lies below every eigenvalue (λ_min = {lam_min:.6g})."


@exercise(
    "4.3",
    title="Sharpness by power iteration with Hessian–vector products",
    answer="sharpness",
    notebook=NOTEBOOK,
    hints=(
        "Power iteration: v ← Hv/‖Hv‖ repeated converges to the eigenvector of largest |λ|, and vᵀHv (v "
        "normalized) to its eigenvalue. Hv needs no matrix: jax.jvp(jax.grad(loss), (theta,), (v,))[1].",
        "If the eigenvalue found first, λ₀, is negative, it is λ_min, not λ_max. H − λ₀·I has eigenvalues "
        "λ − λ₀ ≥ 0, and its top eigenvector is the one of λ_max: iterate again with that matrix.",
        "lam0 = rayleigh(power(v0, shift=0)); if lam0 < 0: return rayleigh(power(v0, shift=lam0)); with "
        "power iterating v ← (Hv − shift·v)/‖·‖ a few hundred times and rayleigh(v) = v @ hvp(v).",
    ),
    time_limit=60.0,
)
def check_sharpness(answer: Any) -> str | None:
    r"""``answer(loss, theta, key)`` returns :math:`\lambda_{\max}` of the Hessian on each of
    :func:`sharpness_cases`, to :data:`SHARPNESS_TOLERANCE` of the largest :math:`|\lambda|`."""
    keys = jax.random.split(jax.random.key(_SHARPNESS_SEED), len(sharpness_cases()))
    for index, case in enumerate(sharpness_cases()):
        where = f"for {case.label}"
        raw = call_quietly(answer, case.loss, case.theta.copy(), keys[index], what="your sharpness")
        if isinstance(raw, tuple):
            raise Wrong(
                f"{where} you returned {len(raw)} values; return only the eigenvalue λ_max, one number."
            )
        got = as_number(raw, what=f"the value returned {where}")
        lam = case.eigenvalues
        rho = float(np.max(np.abs(lam)))
        if abs(got - lam[-1]) > SHARPNESS_TOLERANCE * rho:
            raise Wrong(_diagnose_4_3(got, lam, where))
    lam = sharpness_cases()[3].eigenvalues
    return (
        f"λ_max from Hessian–vector products alone, never the dense Hessian: each product costs about two "
        f"gradients, whatever the number of parameters. The tanh network's Hessian has λ_max = {lam[-1]:.4f} "
        f"and λ_min = {lam[0]:.4f} — negative curvature at initialization. Lanczos "
        "(scipy.sparse.linalg.eigsh with a LinearOperator) needs far fewer products."
    )


# ------------------------------------------------------------------------ exercise 4.4

#: The start :math:`(\varepsilon, 0)`, the escape radius :math:`r` and the step :math:`\eta` of exercise 4.4.
ESCAPE_EPS, ESCAPE_RADIUS, ESCAPE_STEP = 1e-6, 0.1, 0.1


def double_well_loss(theta: Any) -> Any:
    r"""The loss of exercise 4.4, :math:`L(x, y) = \frac14(x^2 - 1)^2 + \frac12 y^2` (``jax.numpy``).

    Minima at :math:`(\pm1, 0)`; a strict saddle at the origin with Hessian
    :math:`\mathrm{diag}(-1, 1)`.
    """
    return 0.25 * (theta[0] ** 2 - 1) ** 2 + 0.5 * theta[1] ** 2


def escape_steps_reference(
    eps: float = ESCAPE_EPS, radius: float = ESCAPE_RADIUS, eta: float = ESCAPE_STEP, max_steps: int = 100_000
) -> int:
    r"""The number of gradient-descent steps from :math:`(\varepsilon, 0)` until :math:`|x| \ge r` on
    :func:`double_well_loss`, simulated in float64.

    Along :math:`y = 0` a step is :math:`x \leftarrow x - \eta(x^3 - x) = x(1 + \eta - \eta x^2)`.
    """
    if not (0 < eps < radius < 1 and 0 < eta < 1):
        raise ValueError(f"need 0 < eps < radius < 1 and 0 < eta < 1, got {eps}, {radius}, {eta}")
    x, steps = eps, 0
    while abs(x) < radius:
        x, steps = x - eta * (x**3 - x), steps + 1
        if steps > max_steps:
            raise ValueError(f"no escape within {max_steps} steps")
    return steps


def escape_steps_linear(
    eps: float = ESCAPE_EPS, radius: float = ESCAPE_RADIUS, eta: float = ESCAPE_STEP
) -> float:
    r"""The linearized estimate :math:`\ln(r/\varepsilon)/\ln(1 + \eta|\lambda_{\min}|)` with
    :math:`\lambda_{\min} = -1` (real-valued)."""
    return math.log(radius / eps) / math.log1p(eta)


def _variants_4_4(steps: int) -> list[tuple[float, str]]:
    eps, r, eta = ESCAPE_EPS, ESCAPE_RADIUS, ESCAPE_STEP
    log_ratio = math.log(r / eps)
    return [
        (
            log_ratio / eta,
            "that is ln(r/ε)/(η|λ|), gradient flow's escape time ln(r/ε)/|λ| counted in steps of η. Gradient "
            "descent multiplies x by 1 + η|λ| per step, so it needs ln(r/ε)/ln(1 + η|λ|) steps — more, since "
            "ln(1 + η|λ|) < η|λ|.",
        ),
        (
            steps * eta,
            f"that is a time, t = steps · η = {steps} × {eta:g}; the question asks for the number of steps.",
        ),
        (
            log_ratio,
            "that is ln(r/ε)/|λ|, the escape time of gradient flow (a time, not a number of steps).",
        ),
        (
            math.log10(r / eps) / math.log1p(eta),
            "that mixes logarithms: log₁₀(r/ε) over ln(1 + η). Use the same base for both "
            "(the base cancels).",
        ),
        (
            log_ratio / math.log10(1 + eta),
            "that mixes logarithms: ln(r/ε) over log₁₀(1 + η). Use the same base for both "
            "(the base cancels).",
        ),
        (
            math.log10(r / eps) / eta,
            "that is log₁₀(r/ε)/η: a base-10 logarithm, and the continuous-time rate η|λ| in place of "
            "ln(1 + η|λ|).",
        ),
        (
            math.log(1 / eps) / math.log1p(eta),
            "that is the count to reach |x| = 1, ln(1/ε)/ln(1 + η); the escape radius is r = 0.1.",
        ),
    ]


@exercise(
    "4.4",
    title="How long gradient descent lingers at a saddle",
    answer="escape_steps",
    notebook=NOTEBOOK,
    hints=(
        "Near the saddle L ≈ −½x² + ½y², so the gradient step along x is x ← x + ηx: |x| grows by a factor "
        "1 + η|λ_min| per step, with λ_min = −1.",
        "Linearized: ε(1 + η)^k ≥ r gives k ≥ ln(r/ε)/ln(1 + η). Or iterate x ← x − η(x³ − x) from x = ε and "
        "count the steps until |x| ≥ r.",
        "x, k = 1e-6, 0; while abs(x) < 0.1: x, k = x - 0.1 * (x**3 - x), k + 1 — then escape_steps = k.",
    ),
)
def check_escape_steps(answer: Any) -> str | None:
    """``answer`` is the number of steps, within one step of the simulated count."""
    value = as_float(answer, what="escape_steps")
    steps = escape_steps_reference()
    linear = escape_steps_linear()
    if abs(value - steps) <= 1:
        note = f" (Steps come whole: the first t with |x_t| ≥ r is {steps}.)" if value != round(value) else ""
        flow = math.log(ESCAPE_RADIUS / ESCAPE_EPS)
        return (
            f"{steps} steps: ln(r/ε)/ln(1 + η) = {linear:.2f}, rounded up; the cubic term, "
            "x ← x(1 + η(1 − x²)), slows the last steps by at most "
            f"ηr² = {ESCAPE_STEP * ESCAPE_RADIUS**2:.1%}. "
            f"Gradient flow escapes at t = ln(r/ε) = {flow:.2f}, {flow / ESCAPE_STEP:.1f} steps of η: the "
            f"discrete map takes η/ln(1 + η) = {ESCAPE_STEP / math.log1p(ESCAPE_STEP):.3f} times as many. "
            f"The time near a saddle grows like ln(1/ε).{note}"
        )
    if value <= 0:
        raise Wrong(f"{value:g} steps: a number of steps is positive. |x| grows by 1 + η|λ| > 1 per step.")
    if value >= 1e4:
        raise Wrong(
            f"{value:.4g} steps: started exactly at the saddle, gradient descent never leaves it (∇L = 0). "
            "Start at (ε, 0) with ε = 1e-6."
        )
    for candidate, text in _variants_4_4(steps):
        if abs(value / candidate - 1) <= 0.01:
            raise Wrong(f"{value:.6g}: {text}")
    side = "too few" if value < steps else "too many"
    raise Wrong(
        f"{value:.6g} steps is {side}: |x| grows from ε = {ESCAPE_EPS:g} by a factor 1 + η(1 − x²) per step "
        f"and must reach r = {ESCAPE_RADIUS:g} (the check accepts the exact count ± 1)."
    )


# ------------------------------------------------------------------------ exercise 4.5

#: Sizes :math:`n` of the table of exercise 4.5.
TABLE_N = np.arange(3, 9)
#: :math:`P_n`, the probability that an :math:`n \times n` GOE matrix is positive definite, exact
#: (de Bruijn's Pfaffian over :math:`(0, \infty)` against Mehta's integral, 50 digits).
TABLE_P = np.array(
    [
        0.024920920960723483,
        0.002456709259786224,
        1.401146854633997e-4,
        4.620187477548993e-6,
        8.804612806325489e-8,
        9.694546749307667e-10,
    ]
)
#: Dean and Majumdar's rate: :math:`P_n \sim e^{-\theta n^2}` with :math:`\theta = \ln 3/4`.
THETA_DEAN_MAJUMDAR = math.log(3.0) / 4
#: Accepted relative distance from the least-squares :math:`\theta` (exercise 4.5).
THETA_TOLERANCE = 0.02


def fit_log_fraction(
    n: Float[ArrayLike, " sizes"] = TABLE_N, p: Float[ArrayLike, " sizes"] = TABLE_P
) -> Float[np.ndarray, " 3"]:
    r"""Least-squares coefficients :math:`(\theta, b, c)` of :math:`\ln P_n = -\theta n^2 + b n + c`.

    Args:
        n: the sizes, shape ``(sizes,)``, at least three distinct.
        p: the fractions :math:`P_n \in (0, 1]`, shape ``(sizes,)``.

    Returns:
        ``[theta, b, c]``, float64.
    """
    n, p = np.asarray(n, dtype=np.float64), np.asarray(p, dtype=np.float64)
    if n.shape != p.shape or n.ndim != 1 or np.unique(n).size < 3:
        raise ValueError(
            f"need n and p of the same 1-D shape with 3 distinct sizes, got {n.shape}, {p.shape}"
        )
    if not np.all((p > 0) & (p <= 1)):
        raise ValueError("every fraction must lie in (0, 1]")
    fit = randommatrix.fit_theta(n, np.log(p))
    return np.array([fit.theta, fit.b, fit.c])


def _variants_4_5(theta: float) -> list[tuple[float, str]]:
    n, logp = TABLE_N.astype(np.float64), np.log(TABLE_P)
    no_linear = -np.linalg.lstsq(np.stack([n**2, np.ones_like(n)], axis=1), logp, rcond=None)[0][0]
    through_zero = -np.linalg.lstsq((n**2)[:, None], logp, rcond=None)[0][0]
    slope = float(np.polyfit(n, logp, 1)[0])
    _, b, _ = fit_log_fraction()
    without = (
        "without the linear term b·n, the n² coefficient absorbs it and comes out biased. Fit all three "
        "terms, −θn² + bn + c."
    )
    variants = [
        (no_linear, f"that fits ln P_n = −θn² + c: {without}"),
        (through_zero, f"that fits ln P_n = −θn²: {without}"),
    ]
    variants += [
        (
            float(np.log(TABLE_P[k] / TABLE_P[k + 1]) / (2 * n[k] + 1)),
            f"that is ln(P_n/P_(n+1))/(2n + 1) at n = {int(n[k])}: one ratio of neighbours still carries the "
            "linear term, ln(P_n/P_(n+1)) = θ(2n + 1) − b, and is biased. Fit all six values.",
        )
        for k in range(n.size - 1)
    ]
    variants += [
        (theta / math.log(10), "that is θ for log₁₀ P_n: θ is defined with the natural logarithm, ln P_n."),
        (theta / math.log(2), "that is θ for log₂ P_n: θ is defined with the natural logarithm, ln P_n."),
        (-theta, "the sign is wrong: P_n decays, ln P_n = −θn² + …, with θ > 0."),
        (
            -slope,
            f"that is minus the slope of a straight line through ln P_n against n ({slope:.3f}): a pure "
            "exponential in n. The points curve down — ln P_n falls faster than linearly, like −θn². The "
            "source's law 2^(1−n) would mean a straight line of slope −ln 2 ≈ −0.69 and P_8 = 2⁻⁷ ≈ 0.008; "
            f"the table has P_8 ≈ {TABLE_P[-1]:.1e}.",
        ),
        (slope, "that is the slope of ln P_n against n, a straight-line fit; the points curve like −θn²."),
        (
            math.log(2),
            "that is ln 2, the rate of the source's law P_n = 2^(1−n), a pure exponential in n. The table "
            f"says otherwise: 2⁻⁷ ≈ 0.008, but P_8 ≈ {TABLE_P[-1]:.1e}. Fit ln P_n = −θn² + bn + c.",
        ),
        (b, "that is the linear coefficient b; θ is minus the coefficient of n²."),
        (-b, "that is minus the linear coefficient b; θ is minus the coefficient of n²."),
    ]
    return [(v, t) for v, t in variants if abs(v) > 0]


@exercise(
    "4.5",
    title="The rate θ of P_n ~ exp(−θn²) from a table",
    answer="theta_fit",
    notebook=NOTEBOOK,
    hints=(
        "Take logarithms: if P_n ≈ e^{−θn² + bn + c}, then ln P_n is a quadratic in n, and θ is minus its "
        "n² coefficient.",
        "Fit all three terms by least squares — a straight line in n, or −θn² alone, is biased. Use natural "
        "logarithms.",
        "theta_fit = -np.polyfit(sizes, np.log(P), 2)[0] — n = sizes, natural logarithm.",
    ),
)
def check_theta(answer: Any) -> str | None:
    r"""``answer`` is within :data:`THETA_TOLERANCE` of the least-squares :math:`\theta`."""
    value = as_float(answer, what="theta_fit")
    theta, b, c = fit_log_fraction()
    accepted = f"(the check accepts ±{THETA_TOLERANCE:.0%} around the least-squares value)"
    if abs(value / theta - 1) <= THETA_TOLERANCE:
        return (
            f"θ = {theta:.4f} from ln P_n = −θn² + bn + c on n = 3…8 (b = {b:.3f}, c = {c:.3f}); Dean and "
            f"Majumdar's asymptotic θ = ln 3/4 = {THETA_DEAN_MAJUMDAR:.4f}. A random n×n Hessian is positive "
            f"definite with probability ≈ e^(−θn²): at n = 8, {TABLE_P[-1]:.1e}, against 2^(1−n) ≈ "
            f"{2.0**-7:.4f} from the source's law — minima are rare among critical points in high dimension."
        )
    matches = [(abs(value / v - 1), text) for v, text in _variants_4_5(theta) if abs(value / v - 1) <= 0.01]
    if matches:
        raise Wrong(f"θ = {value:.4g}: {min(matches)[1]}")
    side = "large" if value > theta else "small"
    raise Wrong(
        f"θ = {value:.4g} is too {side} {accepted}. Fit ln P_n (natural log) to −θn² + bn + c by least "
        "squares."
    )


# ------------------------------------------------------------------------ exercise 4.6

# (λ_max, β): momentum first, where forgetting it shows; λ ≠ 1 where a missing λ would hide.
_CASES_4_6: list[tuple[float, float]] = [(4.0, 0.9), (0.5, 0.5), (10.0, 0.0), (2.0, 0.99), (3.0, 0.3)]


def heavy_ball_limit(lam_max: Any, beta: Any) -> Any:
    r"""The largest stable step of Polyak's heavy ball, :math:`\eta^* = 2(1 + \beta)/\lambda_{\max}`.

    On a mode of curvature :math:`\lambda`, :math:`\theta_{t+1} = \theta_t - \eta\lambda\theta_t +
    \beta(\theta_t - \theta_{t-1})` has characteristic polynomial
    :math:`z^2 - (1 + \beta - \eta\lambda)z + \beta`; for :math:`0 \le \beta < 1` both roots lie
    inside the unit circle iff :math:`0 < \eta\lambda < 2(1 + \beta)` (the boundary is the root
    :math:`z = -1`).
    """
    return landscapes.heavy_ball_max_step(float(lam_max), float(beta))


def _variants_4_6(lam: float, beta: float) -> list[tuple[float, str]]:
    return [
        (2 / lam, "that is plain gradient descent's 2/λ_max: momentum moves the limit."),
        (
            2 * (1 - beta) / lam,
            "that is 2(1 − β)/λ_max, from the 'effective step' η/(1 − β). That describes the slow drift; the "
            "instability comes from the top mode flipping sign each step, where the momentum term opposes "
            "the gradient step. Find where the 2×2 map has the eigenvalue z = −1.",
        ),
        (
            2 / ((1 - beta) * lam) if beta < 1 else math.nan,
            "that is 2/((1 − β)λ_max); the limit is finite as β → 1.",
        ),
        ((1 + beta) / lam, "a factor 2 too small: at the limit the root z = −1 gives ηλ = 2(1 + β)."),
        (
            2 * (1 + beta) / ((1 - beta) * lam) if beta < 1 else math.nan,
            "that is the limit of the damped form v ← βv + (1 − β)∇L, θ ← θ − ηv, whose step is scaled by "
            "1 − β. The heavy ball here is θ_{t+1} = θ_t − η∇L(θ_t) + β(θ_t − θ_{t−1}) (optax.sgd with "
            "momentum=β).",
        ),
        (2 * (1 + beta) * lam, "λ_max belongs in the denominator: ηλ_max < 2(1 + β)."),
        (2 * (1 + beta**2) / lam, "β, not β², enters: at z = −1, 1 + (1 + β − ηλ) + β = 0."),
    ]


@exercise(
    "4.6",
    title="The heavy ball's stability limit",
    answer="heavy_ball_max_step",
    notebook=NOTEBOOK,
    hints=(
        "On one mode of curvature λ the heavy ball is a linear recurrence in (θ_t, θ_{t−1}): "
        "θ_{t+1} = (1 + β − ηλ)θ_t − βθ_{t−1}. It is stable when both roots of its characteristic "
        "polynomial lie inside the unit circle.",
        "The roots of z² − (1 + β − ηλ)z + β multiply to β < 1. As η grows, one root leaves the unit circle "
        "through z = −1, as gradient descent's 1 − ηλ does.",
        "Put z = −1: 1 + (1 + β − ηλ) + β = 0 gives ηλ = 2(1 + β). Return 2 * (1 + beta) / lam_max.",
    ),
)
def check_heavy_ball_max_step(answer: Any) -> str | None:
    r"""``answer(lam_max, beta)`` must return :math:`2(1 + \beta)/\lambda_{\max}` on several cases."""
    for lam, beta in _CASES_4_6:
        where = f"for λ_max = {lam:g}, β = {beta:g}"
        raw = call_quietly(answer, lam, beta, what="your heavy_ball_max_step")
        got = as_number(raw, what=f"the value returned {where}")
        expected = float(heavy_ball_limit(lam, beta))
        if close(got, expected, tolerance(raw), 1e-12):
            continue
        for value, text in _variants_4_6(lam, beta):
            if math.isfinite(value) and close(got, value, _LOOSE, 1e-12):
                raise Wrong(f"{where} you returned {got:.6g}: {text}")
        if close(got, expected, _LOOSE, 1e-7):
            raise Wrong(
                f"{where} your answer agrees with the exact one only to float32 digits. {FLOAT32_ADVICE}"
            )
        raise Wrong(f"{where} you returned {got:.6g}; the heavy ball is stable up to η = {expected:.6g}.")
    return (
        "η* = 2(1 + β)/λ_max: momentum nearly doubles the stable range as β → 1. Meanwhile a slow mode "
        "(λ ≪ λ_max) moves with the effective step η/(1 − β): at β = 0.9 up to 10 × 3.8/λ_max = 38/λ_max, "
        "nineteen times the most that gradient descent allows, 2/λ_max."
    )
