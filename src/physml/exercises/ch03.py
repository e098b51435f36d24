"""Exercises of "The zero-temperature limit" (``exercises/03_zero_temperature.ipynb``).

Every value a checker compares to comes from :mod:`physml.laplace` or
:mod:`physml.langevin`, or from a closed form, computed in float64 whatever JAX's default
precision. The Langevin step of exercise 3.3 is checked statistically: the checker runs
many independent chains of the learner's step with fixed keys and compares moments with
their exact values, to five standard errors (a false-failure rate below 10⁻⁶ per
comparison for a correct step whose noise differs from the reference's draws).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize
import scipy.special
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from .. import langevin, laplace
from ..plotting import Scene, figure, with_scene
from ._core import (
    FLOAT32_ADVICE,
    Wrong,
    as_array,
    as_float,
    as_number,
    call_quietly,
    close,
    exercise,
    in_float64,
    nonfinite,
    show,
    tolerance,
)

NOTEBOOK = "03_zero_temperature"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4


def _float32_note(raw: Any, got: float, expected: float, where: str) -> str | None:
    """A message when ``got`` matches ``expected`` only to float32-like precision."""
    if not close(got, expected, _LOOSE, 1e-7) or tolerance(raw) > 1e-8:
        return None
    agreement = "your answer agrees with the exact one to only about 4–7 significant digits."
    return f"{where} {agreement} {FLOAT32_ADVICE}"


# ------------------------------------------------------------------------ exercise 3.1

#: The loss of exercise 3.1: :math:`L(x) = e^x - 2x`, minimum at :math:`x^* = \ln 2`.
X_STAR = math.log(2.0)
#: :math:`L^* = L(\ln 2) = 2 - 2\ln 2`.
L_STAR = 2.0 - 2.0 * math.log(2.0)
#: :math:`L''(x^*) = e^{x^*} = 2`.
CURVATURE = 2.0
#: The inverse temperatures at which exercise 3.1 is checked (none where :math:`\beta k` is 1 or
#: :math:`2\pi`, where mistakes in the logarithm would go unseen).
LAPLACE_BETAS = (0.25, 2.0, 10.0, 1000.0)
_BOX_3_1 = (-40.0, 6.0)


def exp_loss(x: Any) -> Any:
    r"""The loss of exercise 3.1, :math:`L(x) = e^x - 2x`, elementwise (``jax.numpy``)."""
    return jnp.exp(x) - 2.0 * x


def laplace_free_energy_reference(beta: Any, curvature: float = CURVATURE, l_star: float = L_STAR) -> Any:
    r"""Laplace's :math:`F = L^* + \frac{1}{2\beta}\ln\frac{\beta L''(x^*)}{2\pi}` (NumPy, float64)."""
    beta = np.asarray(beta, dtype=np.float64)
    return l_star + np.log(beta * curvature / (2 * np.pi)) / (2 * beta)


@functools.cache
def exact_free_energy(beta: float) -> float:
    r"""The exact :math:`F(\beta) = -\frac1\beta\ln\int e^{-\beta(e^x - 2x)}dx` by quadrature
    (:func:`physml.laplace.free_energy_grid` on :math:`[-40, 6]`, float64).

    In closed form :math:`Z = \Gamma(2\beta)/\beta^{2\beta}` (substitute :math:`u = e^x`), so
    that Laplace's method on this loss is Stirling's formula for :math:`\Gamma(2\beta)`.
    """
    n_grid = max(8192, int(46 * math.sqrt(2 * beta)) * 2)
    return float(in_float64(laplace.free_energy_grid, exp_loss, beta, _BOX_3_1, n_grid=n_grid))


def _variants_3_1(beta: float) -> list[tuple[float, str]]:
    log_term = math.log(beta * CURVATURE / (2 * math.pi))
    log_z = -beta * L_STAR - 0.5 * log_term
    return [
        (
            L_STAR + 0.5 * log_term,
            "the 1/β is missing in front of the logarithm: F = −(1/β) ln Z, so the Gaussian's ½ ln(βk/2π) "
            "is divided by β too.",
        ),
        (
            L_STAR - log_term / (2 * beta),
            "the sign of the logarithm is wrong: ln Z ≈ −βL* − ½ ln(βk/2π), and F = −(1/β) ln Z "
            "= L* + (1/2β) ln(βk/2π).",
        ),
        (
            L_STAR + math.log(beta / (2 * math.pi)) / (2 * beta),
            "you used the curvature 1 — L''(0) = e⁰, or no curvature at all. Laplace needs the curvature "
            "at the minimum: L''(x*) = e^{x*} = 2 at x* = ln 2.",
        ),
        (
            math.exp(log_z) if log_z < 700 else math.inf,
            "that is Laplace's Z = e^{−βL*} √(2π/(βk)), not the free energy F = −(1/β) ln Z.",
        ),
        (log_z, "that is Laplace's ln Z; the free energy is F = −(1/β) ln Z."),
        (
            L_STAR + math.log(beta * CURVATURE) / (2 * beta),
            "the 2π is missing: the Gaussian integral is ∫ e^{−βk u²/2} du = √(2π/(βk)).",
        ),
        (
            L_STAR + log_term / beta,
            "the ½ is missing: Z ∝ (βk/2π)^{−1/2}, so ln Z carries −½ ln(βk/2π).",
        ),
        (
            float(laplace_free_energy_reference(1 / beta)),
            "that is F at β' = 1/β: the argument is the inverse temperature β, not T = 1/β.",
        ),
        (
            exact_free_energy(beta) if beta <= 10 else math.nan,
            "that is the exact free energy (the Γ-function closed form?); the exercise asks for Laplace's "
            "approximation, which is not exact here since the loss is not quadratic.",
        ),
        (
            L_STAR,
            "that is L*, the β → ∞ limit; at finite β, F also carries the entropy term (1/2β) ln(βk/2π).",
        ),
    ]


@exercise(
    "3.1",
    title="Laplace's approximation of a free energy",
    answer="laplace_free_energy",
    notebook=NOTEBOOK,
    hints=(
        "Find the minimum first: L'(x) = eˣ − 2 vanishes at x* = ln 2. Then you need L* = L(x*) and the "
        "curvature k = L''(x*) there.",
        "Near x*, L ≈ L* + ½k(x − x*)², so Z ≈ e^{−βL*} ∫ e^{−βk u²/2} du = e^{−βL*} √(2π/(βk)). "
        "Take F = −(1/β) ln Z.",
        "L* = 2 − 2 ln 2 and k = 2: return L_star + np.log(beta * k / (2 * np.pi)) / (2 * beta).",
    ),
)
def check_laplace_free_energy(answer: Any) -> str | None:
    """``answer(beta)`` must return :func:`laplace_free_energy_reference` at several β."""
    results = []
    for beta in LAPLACE_BETAS:
        where = f"at β = {beta:g}"
        raw = call_quietly(answer, beta)
        if isinstance(raw, tuple) and len(raw) != 1:
            raise Wrong(f"{where} you returned {len(raw)} values; expected one number, F(β).")
        results.append((beta, raw, as_number(raw, what=f"the value returned {where}")))
    offsets = [got - float(laplace_free_energy_reference(beta)) for beta, _, got in results]
    for beta, raw, got in results:
        expected = float(laplace_free_energy_reference(beta))
        if not close(got, expected, tolerance(raw), 1e-12):
            raise Wrong(_diagnose_3_1(raw, got, expected, beta, offsets))
    gaps = ", ".join(
        f"{exact_free_energy(b) - float(laplace_free_energy_reference(b)):+.2g} at β = {b:g}"
        for b in (2.0, 10.0)
    )
    return (
        f"F_Laplace = L* + (1/2β) ln(βk/2π), with L* = {L_STAR:.4f} and k = 2. Against the exact F "
        f"(quadrature with physml.laplace) it errs by {gaps}: like −1/(24β²), Laplace's next term. "
        "On this loss Z = Γ(2β)/β^{2β} exactly, and Laplace's method is Stirling's formula."
    )


def _diagnose_3_1(raw: Any, got: float, expected: float, beta: float, offsets: list[float]) -> str:
    where = f"at β = {beta:g}"
    note = _float32_note(raw, got, expected, where)
    if note:
        return note
    for value, text in _variants_3_1(beta):
        if math.isfinite(value) and close(got, value, 1e-6, 1e-9):
            return f"{where} you returned {got:.6g}: {text}"
    if close(offsets, offsets[0], 1e-6, 1e-9):
        return (
            f"{where} you returned {got:.6g}; expected {expected:.6g}. "
            f"Your answer is off by {offsets[0]:+.6g} "
            f"at every β, so the β-dependent part is right: check L* = L(ln 2) = 2 − 2 ln 2 ≈ {L_STAR:.6f}."
        )
    return f"{where} you returned {got:.6g}; expected F_Laplace = {expected:.6g}."


# ------------------------------------------------------------------------ exercises 3.2, 3.4

#: The chapter's double well, :func:`physml.laplace.double_well` with its defaults.
WELL = laplace.double_well()
#: The box :math:`[-4, 4]` in which the basins' masses are computed.
BOX = (-4.0, 4.0)
#: Accepted relative distance from the exact crossover :math:`\beta^*` (exercise 3.2).
CROSSOVER_TOLERANCE = 0.01
#: The narrow basin's share of the mass asked for in exercise 3.4.
TARGET_FRACTION = 0.9
#: Accepted distance from that share (exercise 3.4).
FRACTION_TOLERANCE = 0.01
_BETA_GRID = np.logspace(-1, 3, 401)


def well_loss(x: Any) -> Any:
    """The loss of :data:`WELL`, elementwise (:func:`physml.laplace.double_well_loss`)."""
    return laplace.double_well_loss(WELL, x)


@functools.cache
def barrier() -> float:
    """The top of the barrier between the two minima of :data:`WELL` (float64)."""
    with jax.enable_x64(True):
        return laplace.barrier_location(well_loss, WELL.x_narrow, WELL.x_wide)


def _edges() -> tuple[float, float, float]:
    return (BOX[0], barrier(), BOX[1])


def crossover_laplace() -> float:
    r"""Laplace's crossover :math:`\beta^* = \ln(k_n/k_w)/2(L_w - L_n)` of :data:`WELL`."""
    w = WELL
    return laplace.crossover_beta_laplace(w.loss_narrow, w.loss_wide, w.curvature_narrow, w.curvature_wide)


@functools.cache
def crossover_exact() -> float:
    r"""The exact :math:`\beta^*` at which the basins of :data:`WELL` in :data:`BOX` hold equal mass."""
    with jax.enable_x64(True):
        b = crossover_laplace()
        return laplace.crossover_beta_exact(well_loss, _edges(), (b / 4, 4 * b))


def basin_fractions(beta: Any) -> np.ndarray:
    r"""The shares :math:`(Z_n, Z_w)/Z` of the narrow and the wide basin of :data:`WELL` at ``beta``
    (exact, :func:`physml.laplace.basin_log_masses_1d`), shape ``beta.shape + (2,)``."""
    log_z = in_float64(laplace.basin_log_masses_1d, well_loss, np.asarray(beta, dtype=np.float64), _edges())
    return np.exp(log_z - np.logaddexp(log_z[..., :1], log_z[..., 1:]))


def narrow_fraction(beta: float) -> float:
    """The narrow basin's share of the mass at ``beta``."""
    return float(basin_fractions(beta)[0])


@functools.cache
def beta_target() -> float:
    r"""The exact :math:`\beta` at which the narrow basin holds :data:`TARGET_FRACTION` of the mass."""
    lo = crossover_exact()
    return float(
        scipy.optimize.brentq(lambda b: narrow_fraction(b) - TARGET_FRACTION, lo, 20 * lo, xtol=1e-12)
    )


@exercise(
    "3.2",
    title="Where the wide minimum stops winning",
    answer="beta_star",
    notebook=NOTEBOOK,
    hints=(
        "Each basin's mass is Z_i = ∫ e^{−βL} over the basin, and the basins meet at the top of the barrier "
        "between the minima. β* is where Z_narrow = Z_wide.",
        "laplace.barrier_location(loss, well.x_narrow, well.x_wide) finds the barrier; "
        "laplace.basin_log_masses_1d(loss, beta, (-4, x_b, 4)) gives ln Z_narrow and ln Z_wide exactly. "
        "Laplace's formula ln(k_n/k_w)/(2(L_w − L_n)) is a good place to start looking.",
        "laplace.crossover_beta_exact(loss, (-4.0, x_b, 4.0), bracket=(1.0, 100.0)) solves "
        "ln Z_narrow(β) = ln Z_wide(β) for β.",
    ),
)
def check_beta_star(answer: Any) -> str | None:
    """``answer`` is the exact crossover of :data:`WELL`, within :data:`CROSSOVER_TOLERANCE`."""
    value = as_float(answer, what="beta_star")
    exact, estimate = crossover_exact(), crossover_laplace()
    accepted = f"(the check accepts ±{CROSSOVER_TOLERANCE:.0%} around the exact crossover)"

    def near(x: float, target: float, rtol: float = CROSSOVER_TOLERANCE) -> bool:
        return abs(x - target) <= rtol * abs(target)

    if near(value, exact):
        return (
            f"β* = {exact:.3f}: below it the wide basin holds more mass (entropy wins), above it the deep "
            f"narrow one (energy wins). Laplace's estimate ln(k_n/k_w)/(2ΔL) = {estimate:.3f} is "
            f"{(estimate - exact) / exact:.1%} high: the wide well is the more anharmonic, and its quartic "
            "walls make its true mass smaller than the Gaussian's."
        )
    if value <= 0:
        raise Wrong(f"β = {value:g} is not an inverse temperature: β > 0 {accepted}.")
    if near(value, estimate, 0.002):
        raise Wrong(
            f"{value:.4g} is Laplace's estimate ln(k_n/k_w)/(2(L_w − L_n)) — a good start! The exact masses "
            f"cross {abs(estimate - exact) / exact:.1%} lower, outside the tolerance: compute Z_narrow and "
            "Z_wide by quadrature (laplace.basin_log_masses_1d) and find where they are equal."
        )
    if near(1 / value, exact) or near(1 / value, estimate):
        raise Wrong(
            f"{value:.4g} is the temperature T* = 1/β*; the question asks for the inverse temperature β*."
        )
    if near(value, 2 * estimate, 0.03):
        raise Wrong(
            f"{value:.4g} is twice Laplace's estimate: the curvatures enter the masses as Z_i ∝ k_i^(−1/2), "
            "so β* = ln(k_n/k_w) / (2 (L_w − L_n)), with the 2."
        )
    if near(value, estimate / 2, 0.03):
        raise Wrong(
            f"{value:.4g} is half of Laplace's estimate ln(k_n/k_w)/(2(L_w − L_n)): check the factor 2."
        )
    if value > 1e4:
        raise Wrong(
            f"at β = {value:.4g} the narrow basin holds essentially all the mass: β* is far lower {accepted}."
        )
    share = narrow_fraction(value)
    side, move = ("still holds less", "higher") if share < 0.5 else ("already holds more", "lower")
    raise Wrong(
        f"at β = {value:.4g} the narrow basin {side} than half of the mass ({share:.1%}): "
        f"the crossover lies at a {move} β {accepted}."
    )


def _basin_masses_scene() -> Scene:
    """The figure of exercise 3.4 and the function that moves it to an inverse temperature.

    The left axes move as a whole (their height follows the density); on the right, the
    marker moves.
    """
    x = np.linspace(*BOX, 1601)
    with jax.enable_x64(True):
        L = np.asarray(well_loss(jnp.asarray(x)), dtype=np.float64)
    fig, (left, right) = figure(ncols=2, figsize=(9.0, 3.5), width_ratios=(1.2, 1))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.155, top=0.91, wspace=0.19)  # no layout engine: fast
    narrow, wide = x <= barrier(), x >= barrier()
    zeros = np.zeros_like(x)
    narrow_fill = left.fill_between(x[narrow], zeros[narrow], color="#c44e52", alpha=0.6, label="narrow")
    wide_fill = left.fill_between(x[wide], zeros[wide], color="#4c72b0", alpha=0.6, label="wide")
    (density_line,) = left.plot(x, zeros, color="#222222", lw=0.8)
    left.axvline(barrier(), color="grey", ls=":", lw=1)
    left.set_xlim(*BOX)
    left.set_xlabel("parameter x")
    left.set_ylabel("Gibbs density e^{−βL(x)}/Z")
    narrow_label, wide_label = left.legend(loc="upper right", fontsize="small").get_texts()
    right.semilogx(_BETA_GRID, _fraction_curve(), color="#c44e52", lw=1.5)
    right.axhline(TARGET_FRACTION, color="#222222", ls="--", lw=1, label=f"target {TARGET_FRACTION:.0%}")
    right.axhline(0.5, color="grey", ls=":", lw=1, label="equal masses")
    (marker,) = right.plot([], [], "o", color="#f2a900", ms=8, zorder=3)
    right.set_xlim(_BETA_GRID[0], _BETA_GRID[-1])
    right.set_ylim(0, 1.02)
    right.set_xlabel("inverse temperature β (1/loss units)")
    right.set_ylabel("narrow basin's share of the mass")
    right.legend(loc="upper left", fontsize="small")
    title = fig.suptitle("")

    def move(beta: float) -> list[Artist]:
        if not (np.isfinite(beta) and 0 < beta <= 1e3):
            raise ValueError(f"beta must be positive and at most 1000, got {beta}")
        with jax.enable_x64(True):
            log_z = np.asarray(laplace.basin_log_masses_1d(well_loss, beta, _edges()), dtype=np.float64)
        density = np.exp(-beta * L - np.logaddexp(*log_z))
        share = np.exp(log_z - np.logaddexp(*log_z))
        narrow_fill.set_data(x[narrow], density[narrow], 0)
        wide_fill.set_data(x[wide], density[wide], 0)
        density_line.set_ydata(density)
        left.set_ylim(0, 1.05 * density.max())  # matplotlib's autoscaling: a 5 % margin over the peak
        narrow_label.set_text(f"narrow basin: {share[0]:.1%}")
        wide_label.set_text(f"wide basin: {share[1]:.1%}")
        marker.set_data([beta], [share[0]])
        title.set_text(f"β = {beta:.3g}:  narrow basin {share[0]:.1%},  wide basin {share[1]:.1%}")
        return [left, marker, title]

    return fig, move


@with_scene(_basin_masses_scene)
def draw_basin_masses(beta: float) -> Figure:
    """The widget's figure for exercise 3.4 at inverse temperature ``beta``.

    Left: the Gibbs density :math:`e^{-\\beta L(x)}/Z` of :data:`WELL` on :data:`BOX`, each
    basin shaded with its share of the mass. Right: the narrow basin's share against
    :math:`\\beta` (log axis), the target line and a marker at ``beta``.
    """
    fig, move = _basin_masses_scene()
    move(beta)
    return fig


@functools.cache
def _fraction_curve() -> np.ndarray:
    return basin_fractions(_BETA_GRID)[:, 0]


@exercise(
    "3.4",
    title="The temperature at which the deep minimum holds 90 % of the mass (widget)",
    answer="beta_90",
    notebook=NOTEBOOK,
    hints=(
        "Cooling (raising β) moves mass into the deeper, narrow basin once β is past the crossover β*. "
        "Move the slider up from β* until the red share reaches 90 %.",
        "With Laplace's masses, Z_n/Z_w = √(k_w/k_n) e^{β(L_w − L_n)}, and 90 % means Z_n/Z_w = 9: "
        "β ≈ (½ ln(k_n/k_w) + ln 9)/(L_w − L_n). Check the estimate on the slider.",
        "The answer lies between β = 34 and β = 38. For the exact value, solve "
        "basin_fractions(beta)[0] = 0.9 with scipy.optimize.brentq between β* and 100.",
    ),
)
def check_beta_90(answer: Any) -> str | None:
    """``answer`` is a β at which the narrow basin holds 90 % ± 1 % of the mass."""
    value = as_float(answer, what="beta_90")
    accepted = f"(the check accepts a share of {TARGET_FRACTION:.0%} ± {FRACTION_TOLERANCE:.0%})"
    if value <= 0:
        raise Wrong(f"β = {value:g} is not an inverse temperature: β > 0 {accepted}.")
    if value > 1e3:
        raise Wrong(
            f"at β = {value:.4g} the narrow basin holds essentially all the mass: lower β {accepted}."
        )
    share = narrow_fraction(value)
    if abs(share - TARGET_FRACTION) <= FRACTION_TOLERANCE:
        estimate = (0.5 * math.log(WELL.curvature_narrow / WELL.curvature_wide) + math.log(9)) / (
            WELL.loss_wide - WELL.loss_narrow
        )
        return (
            f"At β = {value:.4g} the narrow basin holds {share:.1%} of the mass; the exact β is "
            f"{beta_target():.2f}, and Laplace's masses give {estimate:.2f}. Cooling by a factor "
            f"{beta_target() / crossover_exact():.1f} past the crossover β* = {crossover_exact():.2f} "
            "is enough for energy to win nine to one."
        )
    if 1 / value <= 1e3 and abs(narrow_fraction(1 / value) - TARGET_FRACTION) <= FRACTION_TOLERANCE:
        raise Wrong(
            f"{value:.4g} is the temperature T = 1/β; the question asks for the inverse temperature β."
        )
    if abs(value - crossover_exact()) <= 0.02 * crossover_exact():
        raise Wrong(
            f"β = {value:.4g} is the crossover β*, where each basin holds half of the mass; "
            f"the question asks where the narrow basin holds {TARGET_FRACTION:.0%}: raise β."
        )
    if abs(value - 0.9) <= 0.01 or abs(value - 90) <= 1:
        raise Wrong(
            f"{value:g} is the target share itself; the answer is the β on the slider at which it is reached."
        )
    if share < TARGET_FRACTION:
        raise Wrong(
            f"at β = {value:.4g} the narrow basin holds only {share:.1%}: too hot. Raise β (cool) {accepted}."
        )
    raise Wrong(f"at β = {value:.4g} the narrow basin holds {share:.1%}: too cold. Lower β {accepted}.")


# ------------------------------------------------------------------------ exercise 3.3

#: Curvature, step size and inverse temperature of the Gaussian target of exercise 3.3.
ULA_CURVATURE, ULA_STEP, ULA_BETA = 2.0, 0.1, 4.0
#: Independent chains the checker runs side by side (one array of positions).
ULA_CHAINS = 20_000
#: Steps from θ = 0 before the stationary variance is measured: (1 − kη)^(2·60) ≈ 3e-12.
ULA_STEPS = 60
#: Statistical tolerance, in standard errors.
ULA_SIGMAS = 5.0
_THETA_3_3 = np.array([0.5, -1.0, 2.0])


def ula_stationary_variance(k: float = ULA_CURVATURE, eta: float = ULA_STEP, beta: float = ULA_BETA) -> float:
    r"""The exact stationary variance of ULA on :math:`L = \frac12 k\theta^2`:
    :math:`v = 1/(\beta k(1 - k\eta/2))` (see :func:`physml.langevin.ula`)."""
    return 1.0 / (beta * k * (1.0 - k * eta / 2.0))


def ula_step_reference(key: Any, theta: Any, grad_L: Any, step_size: float, beta: float) -> Any:
    r"""One ULA step :math:`\theta - \eta\nabla L(\theta) + \sqrt{2\eta/\beta}\,\xi`, with :math:`\xi`
    drawn from ``key``."""
    theta = jnp.asarray(theta)
    noise = jax.random.normal(key, theta.shape, theta.dtype)
    return theta - step_size * grad_L(theta) + jnp.sqrt(2.0 * step_size / beta) * noise


def _cubic_grad(theta: Any) -> Any:
    return theta**3 - theta


def _quadratic_grad(theta: Any) -> Any:
    return ULA_CURVATURE * theta


def _ula_keys() -> Any:
    return jax.random.split(jax.random.key(3_2026), ULA_STEPS + 4)


def _step(answer: Any, key: Any, theta: np.ndarray, grad: Any, beta: float, where: str) -> np.ndarray:
    raw = call_quietly(answer, key, theta.copy(), grad, ULA_STEP, beta, what="your ula_step")
    if isinstance(raw, tuple):
        raise Wrong(
            f"{where} your step returned {len(raw)} values; return only the new θ, an array like theta."
        )
    if beta == math.inf and nonfinite(raw) is not None:
        raise Wrong(
            f"{where} your step returned NaN or an infinity. The noise amplitude √(2η/β) is 0 at β = ∞; "
            "did you multiply by β instead of dividing (√(2ηβ) is infinite)? "
            "Compute np.sqrt(2 * step_size / beta)."
        )
    got = as_array(raw, what=f"the position returned {where}")
    if got.shape != theta.shape:
        if got.size == 1 and theta.size > 1:
            raise Wrong(
                f"{where} you returned one number for θ of shape {theta.shape}: "
                "return the new θ itself, with its shape (and one noise draw per entry)."
            )
        raise Wrong(
            f"{where} your step returned shape {got.shape} for θ of shape {theta.shape}; keep θ's shape."
        )
    return got


def _descent_3_3(answer: Any, key: Any) -> None:
    """At β = ∞ the step must be gradient descent exactly."""
    where = "at β = ∞ (math.inf)"
    theta = _THETA_3_3
    got = _step(answer, key, theta, _cubic_grad, math.inf, where)
    g = theta**3 - theta
    expected = theta - ULA_STEP * g
    if close(got, expected, 1e-5, 1e-6):
        return
    shown = (
        f"θ = {theta.tolist()}, η = {ULA_STEP:g}, ∇L = {g.tolist()}: you returned {np.round(got, 6).tolist()}"
    )
    if close(got, theta + ULA_STEP * g, 1e-5, 1e-6):
        raise Wrong(f"{where}, {shown} — θ + η∇L climbs the loss. Step downhill: θ − η∇L(θ).")
    if close(got, theta - g, 1e-5, 1e-6):
        raise Wrong(f"{where}, {shown} — θ − ∇L: the gradient step needs the step size, θ − η∇L(θ).")
    if close(got, theta, 1e-5, 1e-6):
        raise Wrong(f"{where}, {shown} — θ unchanged: the drift −η∇L(θ) is missing.")
    raise Wrong(
        f"{where} the noise vanishes (√(2η/β) = 0) and the step is gradient descent; {shown}, "
        f"expected θ − η∇L(θ) = {np.round(expected, 6).tolist()}."
    )


# Noise variance per step, as a multiple of the right one 2η/β (η = 0.1, β = 4), and why.
_NOISE_3_3 = (
    (ULA_BETA, "√(2η) without β: the noise must shrink as the temperature falls, √(2η/β) = √(2ηT)."),
    (ULA_BETA**2, "√(2ηβ): β is the inverse temperature, so the amplitude is √(2η/β), not √(2ηβ)."),
    (0.5, "√(η/β): the factor 2 is missing; the amplitude is √(2η/β)."),
    (1 / ULA_STEP, "√(2/β) without η: the noise over a step of length η has variance 2η/β."),
    (
        2 * ULA_STEP / ULA_BETA,
        "2η/β multiplies ξ: that is the variance; the amplitude is its square root, √(2η/β).",
    ),
    (1 / ULA_BETA, "√(2η)/β: β belongs under the square root, √(2η/β)."),
    (ULA_STEP, "η√(2/β): the noise is not multiplied by η like the gradient; its amplitude is √(2η/β)."),
)


def _noise_3_3(answer: Any, keys: Any) -> None:
    """One step from θ₀ for many chains: mean θ₀(1 − kη), variance 2η/β; returns a note."""
    theta0 = 1.5
    start = np.full(ULA_CHAINS, theta0)
    setting = f"L = kθ²/2, k = {ULA_CURVATURE:g}, η = {ULA_STEP:g}, β = {ULA_BETA:g}"
    where = f"for {ULA_CHAINS} chains at θ = {theta0:g} ({setting})"
    one = _step(answer, keys[0], start, _quadratic_grad, ULA_BETA, where)
    again = _step(answer, keys[0], start, _quadratic_grad, ULA_BETA, where)
    other = _step(answer, keys[1], start, _quadratic_grad, ULA_BETA, where)
    drift = theta0 * (1 - ULA_CURVATURE * ULA_STEP)
    if not np.array_equal(one, again):
        raise Wrong(
            "called twice with the same key your step gave different results: draw the noise from the key "
            "(jax.random.normal(key, theta.shape)), not from a global generator such as np.random — the "
            "step must be a pure function of its arguments."
        )
    if np.ptp(one) == 0:
        if close(one[0], drift, 1e-5, 1e-6):
            raise Wrong(
                f"{where} every chain moved to θ − η∇L = {drift:g}: there is no noise. At finite β add "
                "√(2η/β) ξ with ξ = jax.random.normal(key, theta.shape)."
            )
        raise Wrong(
            f"{where} every chain moved to the same point: one random number for the whole array. Draw one "
            "ξ per entry: jax.random.normal(key, theta.shape)."
        )
    if np.array_equal(one, other):
        raise Wrong(
            "two different keys gave the same step: the noise ignores the key. Draw it with "
            "jax.random.normal(key, theta.shape) from the key you are given."
        )
    expected_var = 2 * ULA_STEP / ULA_BETA
    mean, var = float(np.mean(one)), float(np.var(one, ddof=1))
    mean_err = math.sqrt(expected_var / ULA_CHAINS)
    if abs(mean - drift) > ULA_SIGMAS * max(mean_err, math.sqrt(var / ULA_CHAINS)):
        raise Wrong(
            f"{where} the average new θ is {mean:.4f}; expected θ − η∇L(θ) = {drift:.4f} (the noise averages "
            "to zero): check the drift term, or that the noise has mean zero."
        )
    var_err = expected_var * math.sqrt(2 / (ULA_CHAINS - 1))
    if abs(var - expected_var) > ULA_SIGMAS * var_err:
        ratio = var / expected_var
        for factor, text in _NOISE_3_3:
            if abs(ratio / factor - 1) < 0.1:
                raise Wrong(
                    f"{where} the variance of one step is {var:.4g}, "
                    f"{ratio:.3g} times 2η/β = {expected_var:g}: {text}"
                )
        raise Wrong(
            f"{where} the variance of one step is {var:.4g}; expected 2η/β = {expected_var:g} "
            "(ξ standard normal, amplitude √(2η/β))."
        )


def _stationary_3_3(answer: Any, keys: Any) -> tuple[float, float]:
    """Run the chains from θ = 0 for :data:`ULA_STEPS` steps; mean and variance at the end."""
    theta = np.zeros(ULA_CHAINS)
    where = f"after {ULA_STEPS} steps of {ULA_CHAINS} chains"
    for key in keys:
        theta = np.asarray(_step(answer, key, theta, _quadratic_grad, ULA_BETA, where), dtype=np.float64)
    v = ula_stationary_variance()
    mean, var = float(np.mean(theta)), float(np.var(theta, ddof=1))
    if abs(mean) > ULA_SIGMAS * math.sqrt(v / ULA_CHAINS):
        raise Wrong(
            f"{where} from θ = 0 the mean position is {mean:.4f}; the Gibbs distribution is centred at 0."
        )
    if abs(var - v) > ULA_SIGMAS * v * math.sqrt(2 / (ULA_CHAINS - 1)):
        raise Wrong(
            f"{where} the variance of θ is {var:.4g}; "
            f"ULA's exact stationary value is 1/(βk(1 − kη/2)) = {v:.4g}."
        )
    return mean, var


@exercise(
    "3.3",
    title="One step of the unadjusted Langevin algorithm",
    answer="ula_step",
    notebook=NOTEBOOK,
    hints=(
        "Two parts: a gradient-descent step −η∇L(θ), and a random kick whose size grows with the temperature "
        "T = 1/β and with the step η. At β = ∞ there is no kick at all.",
        "The kick is √(2η/β) ξ, with ξ standard normal and one draw per entry of θ: "
        "xi = jax.random.normal(key, jnp.shape(theta)).",
        "return theta - step_size * grad_L(theta) + jnp.sqrt(2 * step_size / beta) * "
        "jax.random.normal(key, jnp.shape(theta)).",
    ),
)
def check_ula_step(answer: Any) -> str | None:
    """``answer(key, theta, grad_L, step_size, beta)``: exact at β = ∞, then statistics of many chains."""
    keys = _ula_keys()
    _descent_3_3(answer, keys[-1])
    _noise_3_3(answer, keys[-3:-1])
    _, var = _stationary_3_3(answer, keys[:ULA_STEPS])
    v, gibbs = ula_stationary_variance(), 1 / (ULA_BETA * ULA_CURVATURE)
    return (
        f"Gradient descent at β = ∞, and one step has mean θ − η∇L and variance 2η/β. "
        f"After {ULA_STEPS} steps the variance of {ULA_CHAINS} chains is {var:.4f}: "
        f"ULA's exact 1/(βk(1 − kη/2)) = {v:.4f}, not the Gibbs value 1/(βk) = {gibbs:.4f} — "
        "a bias of O(η), which MALA's accept/reject step removes."
    )


# ------------------------------------------------------------------------ exercise 3.5

# (variance, curvature): curvatures on both sides of 1, and an elementwise batch.
_CASES_3_5: list[tuple[Any, Any]] = [
    (0.02, 4.0),
    (0.5, 0.25),
    (3.0, 2.0),
    (np.array([0.01, 0.1, 1.0]), np.array([10.0, 0.5, 2.0])),
]


def _variants_3_5(var: Any, k: Any) -> list[tuple[Any, str]]:
    with np.errstate(all="ignore"):
        return [
            (var / k, "that is Var/k; equipartition gives Var = T/k, so T = k · Var."),
            (1 / (k * var), "that is β = 1/T, the inverse temperature; T = k · Var."),
            (k / var, "that is k/Var; Var = T/k gives T = k · Var."),
            (
                k * var / 2,
                "that is k·Var/2, the mean energy ⟨½kδ²⟩ = T/2 of the quadratic mode; "
                "the temperature is twice that, T = k · Var.",
            ),
            (2 * k * var, "a factor 2 too large: ⟨½kδ²⟩ = T/2 gives T = k · Var, not 2k · Var."),
            (var, "that is the variance itself; the temperature is T = k · Var."),
            (k**2 * var, "that is k² · Var; T = k · Var."),
            (np.sqrt(k * var), "that is √(k · Var); T = k · Var without a square root."),
        ]


@exercise(
    "3.5",
    title="The temperature of SGD, from the spread of its iterates",
    answer="effective_temperature",
    notebook=NOTEBOOK,
    hints=(
        "In the Gibbs distribution e^{−L/T} of a quadratic loss L = L* + ½k(w − ŵ)², w − ŵ is Gaussian. "
        "What is its variance?",
        "e^{−k(w − ŵ)²/(2T)} is a Gaussian of variance T/k (equipartition: ⟨½k(w − ŵ)²⟩ = T/2). "
        "Solve Var = T/k for T.",
        "return curvature * variance.",
    ),
)
def check_effective_temperature(answer: Any) -> str | None:
    """``answer(variance, curvature)`` must return ``curvature * variance``, elementwise."""
    for var, k in _CASES_3_5:
        var, k = np.asarray(var, dtype=np.float64), np.asarray(k, dtype=np.float64)
        where = f"for Var = {show(var)} and k = {show(k)}"
        raw = call_quietly(answer, var.copy() if var.ndim else float(var), k.copy() if k.ndim else float(k))
        got = as_array(raw, what=f"the value returned {where}")
        expected = k * var
        if got.shape != expected.shape:
            raise Wrong(
                f"{where} your answer has shape {got.shape}; expected {expected.shape} (elementwise)."
            )
        if not close(got, expected, tolerance(raw), 1e-15):
            for value, text in _variants_3_5(var, k):
                if close(got, value, _LOOSE, 1e-12):
                    raise Wrong(f"{where} you returned {show(got)}: {text}")
            raise Wrong(f"{where} you returned {show(got)}; expected T = k · Var = {show(expected)}.")
    return (
        "T = k · Var: equipartition, ⟨½k(w − ŵ)²⟩ = T/2, read backwards. The spread of SGD's iterates around "
        "the minimum is a thermometer."
    )


# ------------------------------------------------------------------------ exercise 3.6


def _gaussian_works() -> np.ndarray:
    """400 works spread like a Gaussian of mean 1 and standard deviation 0.8 (its quantiles)."""
    return 1.0 + 0.8 * scipy.special.ndtri((np.arange(400) + 0.5) / 400)


# (works, beta, kind): ordinary, then exponents of ±1000, then many samples.
_CASES_3_6: list[tuple[np.ndarray, float, str]] = [
    (np.array([0.3, -0.2, 1.1, 0.5, 0.0]), 2.0, "plain"),
    (np.array([1.4, 0.9, 2.3, 1.0]), 0.5, "plain"),
    (1000.0 + np.array([0.3, -0.2, 1.1, 0.5]), 1.0, "underflow"),
    (-1000.0 + np.array([0.3, -0.2, 1.1, 0.5]), 1.0, "overflow"),
    (np.array([-5.0, 0.0, 5.0]), 200.0, "overflow"),
    (_gaussian_works(), 3.0, "plain"),
]


def jarzynski_reference(works: Any, beta: float) -> float:
    r""":math:`-\frac1\beta\ln\frac1n\sum_i e^{-\beta W_i}` in float64
    (:func:`physml.langevin.jarzynski_estimate`)."""
    return langevin.jarzynski_estimate(np.asarray(works, dtype=np.float64), beta).free_energy


def _lse_mean(a: np.ndarray) -> float:
    return float(np.logaddexp.reduce(a) - math.log(a.size))


def _variants_3_6(w: np.ndarray, beta: float) -> list[tuple[float, str]]:
    n = w.size
    dF = jarzynski_reference(w, beta)
    return [
        (
            float(np.mean(w)),
            "that is the mean work ⟨W⟩, which the second law puts above ΔF (⟨W⟩ ≥ ΔF); Jarzynski averages "
            "e^{−βW}, not W.",
        ),
        (-dF, "the sign is wrong: ΔF = −(1/β) ln⟨e^{−βW}⟩."),
        (
            _lse_mean(beta * w) / beta,
            "the sign in the exponent is wrong: average e^{−βW} (not e^{+βW}), then ΔF = −(1/β) ln⟨e^{−βW}⟩.",
        ),
        (
            dF - math.log(n) / beta,
            f"you summed e^{{−βW}} instead of averaging it: ln Σ overshoots ln⟨⟩ by ln n = ln {n}. "
            "Subtract ln n (or use the mean).",
        ),
        (-_lse_mean(-w / beta) * beta, "you used T for β: the argument is the inverse temperature β."),
        (beta * dF, "the 1/β in front of the logarithm is missing: ΔF = −(1/β) ln⟨e^{−βW}⟩."),
        (
            float(np.mean(w) - beta * np.var(w) / 2),
            "that is ⟨W⟩ − β Var(W)/2, the second-cumulant approximation (exact only for Gaussian work); "
            "compute the exponential average itself.",
        ),
    ]


@exercise(
    "3.6",
    title="A free energy from non-equilibrium work (Jarzynski)",
    answer="jarzynski_free_energy",
    notebook=NOTEBOOK,
    hints=(
        "Jarzynski's equality ⟨e^{−βW}⟩ = e^{−βΔF} gives ΔF = −(1/β) ln⟨e^{−βW}⟩, with ⟨⟩ the average over "
        "the trajectories. Now try it on works of 1000 at β = 1: what is np.exp(-1000)?",
        "Log-sum-exp: with a = −βW and its maximum a_max, ln⟨e^a⟩ = a_max + ln mean(e^{a − a_max}); every "
        "exponent is ≤ 0 and the largest term is 1.",
        "a = -beta * np.asarray(works); return -(a.max() + np.log(np.mean(np.exp(a - a.max())))) / beta — or "
        "-(scipy.special.logsumexp(a) - np.log(len(a))) / beta.",
    ),
)
def check_jarzynski_free_energy(answer: Any) -> str | None:
    """``answer(works, beta)`` must return Jarzynski's ΔF estimate, stably."""
    for works, beta, kind in _CASES_3_6:
        shown = show(works) if works.size <= 6 else f"{works.size} Gaussian works"
        where = f"for W = {shown} at β = {beta:g}"
        raw = call_quietly(answer, works.copy(), beta)
        if hasattr(raw, "free_energy") and isinstance(raw, tuple):
            raise Wrong(
                f"{where} you returned a {type(raw).__name__}: return only its free_energy, one number."
            )
        if kind != "plain":
            if nonfinite(raw) is not None:
                why = (
                    "e^{−βW} underflows to 0 for βW ≈ 1000, and ln 0 = −inf"
                    if kind == "underflow"
                    else ("e^{−βW} overflows to inf for −βW ≈ 1000")
                )
                raise Wrong(
                    f"{where} you got a non-finite ΔF: {why}. Shift the exponents by their maximum before "
                    "exponentiating (log-sum-exp)."
                )
        got = as_number(raw, what=f"the value returned {where}")
        expected = jarzynski_reference(works, beta)
        if not close(got, expected, tolerance(raw), 1e-12):
            for value, text in _variants_3_6(works, beta):
                if math.isfinite(value) and close(got, value, _LOOSE, 1e-9):
                    raise Wrong(f"{where} you returned {got:.6g}: {text}")
            note = _float32_note(raw, got, expected, where)
            raise Wrong(note or f"{where} you returned {got:.6g}; expected ΔF = {expected:.6g}.")
    return (
        "ΔF = −(1/β) ln⟨e^{−βW}⟩ by log-sum-exp: finite for any βW. The average is ruled by the rare "
        "trajectories with W < ΔF, so it converges slowly when the dissipated work is many k_BT."
    )
