"""Exercises of "Softmax is a Boltzmann distribution" (``exercises/02_softmax_boltzmann.ipynb``).

Every value a checker compares to comes from :mod:`physml.softmax`, :mod:`physml.sampling`
or :mod:`physml.hopfield`, computed in float64 whatever JAX's default precision (except
the Hopfield simulation, which runs in float32 everywhere so that the checker sees the
same curves as the notebook).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from .. import hopfield, sampling, softmax
from ..plotting import Scene, figure, with_scene
from ._core import (
    FLOAT32_ADVICE,
    Wrong,
    as_array,
    as_float,
    call_quietly,
    close,
    exercise,
    in_float64,
    nonfinite,
    show,
    tolerance,
)

NOTEBOOK = "02_softmax_boltzmann"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4
_LN2 = math.log(2.0)


def _nonfinite(raw: Any) -> str | None:
    """``"NaN"`` or ``"an infinity"`` when an answer holds one (for messages); else None."""
    kind = nonfinite(raw)
    return None if kind is None else "NaN" if kind == "nan" else "an infinity"


def _tolerances(raw: Any, atol32: float = 1e-7) -> tuple[float, float]:
    """(rtol, atol) for an answer: float32 rounding is allowed when the answer is float32."""
    rtol = tolerance(raw)
    return rtol, (atol32 if rtol > 1e-8 else 1e-15)


def _precision(got: np.ndarray, expected: np.ndarray, where: str) -> str | None:
    """A message when ``got`` matches ``expected`` only to float32-like precision."""
    if not close(got, expected, _LOOSE, 1e-7):
        return None
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(expected), 1e-7)
        error = float(np.max(np.abs(got - expected) / scale))
    digits = int(-math.log10(error)) if error > 0 else 16
    agreement = f"{where} your answer agrees with the exact one to only about {digits} significant digits."
    return f"{agreement} {FLOAT32_ADVICE}"


# ------------------------------------------------------------------------ exercise 2.1


def softmax_exact(logits: Any, T: float, axis: int = -1) -> np.ndarray:
    r"""Softmax with temperature :math:`e^{z_i/T}/\sum_j e^{z_j/T}` along ``axis``, in float64."""
    z = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    return np.moveaxis(in_float64(softmax.softmax, z, T), -1, axis)


# (logits, T, kind): ordinary vectors, then overflow and underflow, then batches.
_CASES_2_1: list[tuple[Any, float, str]] = [
    ([1.0, 2.0, 0.5, -1.0], 1.0, "plain"),
    ([3.0, -1.0, 0.0, 2.5, 1.0], 0.5, "plain"),
    ([0.2, -0.4, 1.1], 100.0, "plain"),  # hot: nearly uniform
    ([2.0, 5.0, 9.0, 8.5], 0.01, "cold"),  # z/T up to 900: e^900 overflows
    ([1e4, 1e4 - 0.5, 1e4 - 2.0, 1e4 - 7.0], 1.0, "large"),  # e^10000 overflows
    ([-1e4, -1e4 - 1.0, -1e4 - 3.0], 2.0, "negative"),  # every weight underflows: 0/0
    (
        [[0.5, -1.0, 2.0, 0.0, 1.5], [3.0, 3.0, -2.0, 1.0, 0.0], [-0.5, 0.4, 0.1, -1.2, 0.9]],
        0.7,
        "batch",
    ),
    (
        [[1.0, 0.0, -1.0, 2.0], [0.3, 2.2, -0.7, 1.0], [4.0, 1.0, 0.5, 0.0], [-1.0, -2.0, 0.0, 0.5]],
        1.5,
        "batch",
    ),
    ([[1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4 + 0.5, -1e4 - 1.0]], 1.0, "rows"),  # rows 2·10⁴ apart
]

_SHIFT = (
    "Subtract the largest logit before exponentiating: p_i = e^{(z_i − z_max)/T} / Σ_j e^{(z_j − z_max)/T}; "
    "the shift cancels between numerator and denominator, and the largest weight becomes e^0 = 1."
)
_KEEPDIMS = (
    "For a batch, reduce over the last axis and keep it, so that each row is shifted and normalized "
    "by its own values: z.max(axis=-1, keepdims=True) and w.sum(axis=-1, keepdims=True)."
)


def _overflow_2_1(kind: str, bad: str, where: str) -> str:
    if kind == "large":
        why = (
            "e^{z/T} overflows to inf for logits near 10⁴ (e^710 is already inf in float64), "
            "and inf/inf = NaN."
        )
    elif kind == "negative":
        why = "every e^{z/T} underflows to 0 for logits near −10⁴, and 0/0 = NaN."
    elif kind == "cold":
        why = "at T = 0.01 the exponents z/T reach 900, and e^900 overflows to inf (inf/inf = NaN)."
    else:
        why = (
            "the rows of this batch lie 2·10⁴ apart, so one maximum for the whole batch leaves weights "
            "of e^{−20000} = 0 in the lower row (0/0 = NaN), or one exponential per row overflows. "
            "Subtract each row's own maximum: z.max(axis=-1, keepdims=True)."
        )
        return f"{where} your probabilities contain {bad}: {why}"
    return f"{where} your probabilities contain {bad}: {why} {_SHIFT}"


@exercise(
    "2.1",
    title="A softmax with temperature that never overflows",
    answer="softmax_T",
    notebook=NOTEBOOK,
    hints=(
        "Start from the definition p_i = exp(z_i/T) / Σ_j exp(z_j/T), then try it on logits of 10⁴: "
        "what does np.exp(1e4) give, and what is inf/inf?",
        "Multiply numerator and denominator by exp(−z_max/T): the probabilities do not change, and the "
        "largest exponential becomes 1. For a batch of shape (..., n), take the maximum and the sum over "
        "axis=-1 with keepdims=True.",
        "a = (z - z.max(axis=-1, keepdims=True)) / T; w = np.exp(a); "
        "return w / w.sum(axis=-1, keepdims=True).",
    ),
)
def check_softmax_T(answer: Any) -> str | None:
    """``answer(logits, T)`` must return the tempered softmax over the last axis, stably."""
    for logits, T, kind in _CASES_2_1:
        z = np.array(logits, dtype=np.float64)
        batch = f"a batch of shape {z.shape}"
        where = f"for {batch if z.ndim == 2 else f'logits {logits}'} at T = {T:g}"
        advice = _KEEPDIMS if z.ndim == 2 else ""
        if kind in ("large", "negative", "cold"):
            advice = f"That was {where}: an overflow? {_SHIFT}"
        raw = call_quietly(answer, z.copy(), T, advice=advice)
        bad = _nonfinite(raw)
        if bad is not None and kind in ("cold", "large", "negative", "rows"):
            raise Wrong(_overflow_2_1(kind, bad, where))
        got = as_array(raw, what=f"the value returned {where}")
        if got.shape != z.shape:
            raise Wrong(_shape_2_1(got.shape, z.shape, where))
        expected = softmax_exact(z, T)
        rtol, atol = _tolerances(raw)
        if not close(got, expected, rtol, atol):
            raise Wrong(_diagnose_2_1(got, z, T, expected, where))
    return (
        "p_i = e^{(z_i − z_max)/T} / Σ_j e^{(z_j − z_max)/T}: the Boltzmann distribution of the energies "
        "E_i = −z_i, finite from T = 0.01 to 100 and for logits of ±10⁴."
    )


def _shape_2_1(got: tuple[int, ...], want: tuple[int, ...], where: str) -> str:
    if len(want) == 2 and got == want[:1]:
        return (
            f"{where} you returned one number per row, shape {got}; expected one probability per logit, "
            f"shape {want}."
        )
    if got == ():
        return f"{where} you returned one number; expected one probability per logit, shape {want}."
    return f"{where} your answer has shape {got}; expected the shape of the logits, {want}."


def _diagnose_2_1(got: np.ndarray, z: np.ndarray, T: float, expected: np.ndarray, where: str) -> str:
    message = _precision(got, expected, where)
    if message:
        return message
    candidates = [
        (softmax_exact(z * T, 1.0), "that is softmax(z·T): divide the logits by T, p_i ∝ e^{z_i/T}."),
        (
            softmax_exact(-z, T),
            "that is softmax(−z/T): the sign is wrong. The logits are negative energies, p_i ∝ e^{−E_i/T} "
            "= e^{+z_i/T}, so the largest logit is the most probable.",
        ),
    ]
    if z.ndim == 2:
        candidates += [
            (
                softmax_exact(z, T, axis=0),
                "you normalized over the first axis (each column sums to 1). Each row is one distribution: "
                "normalize over the last axis, axis=-1.",
            ),
            (
                softmax_exact(z.reshape(-1), T).reshape(z.shape),
                "you normalized over the whole batch (all entries sum to 1). Each row is one distribution: "
                "normalize over the last axis, axis=-1, with keepdims=True.",
            ),
        ]
    for value, text in candidates:
        if value.shape == got.shape and close(got, value, _LOOSE, 1e-7):
            return f"{where} {text}"
    with np.errstate(all="ignore"):
        sums = got.sum(axis=-1)
        rescaled = expected * sums[..., None]
    if not close(sums, 1.0, 1e-6):
        if np.all(got >= 0) and close(got, rescaled, _LOOSE, 1e-7 * np.max(np.abs(rescaled))):
            return (
                f"{where} your values are proportional to the probabilities but are not normalized (they sum "
                f"to {show(sums)}): divide by their sum over the last axis."
            )
        if z.ndim == 2:
            return f"{where} the rows of your answer sum to {show(sums)}, not 1. {_KEEPDIMS}"
        return f"{where} your probabilities sum to {float(sums):.6g}, not 1: divide by Σ_j e^{{z_j/T}}."
    return f"{where} you returned {show(got)}; expected {show(expected)}."


# ------------------------------------------------------------------------ exercise 2.2


def entropy_exact(p: Any) -> np.ndarray:
    r"""Shannon entropy :math:`-\sum_i p_i\ln p_i` (nats, last axis), in float64."""
    return in_float64(softmax.shannon_entropy, np.asarray(p, dtype=np.float64))


# (p, has zeros): ordinary distributions, then zero probabilities, then a batch.
_CASES_2_2: list[tuple[Any, bool]] = [
    ([0.5, 0.5], False),  # ln 2: one bit
    ([0.7, 0.2, 0.1], False),
    ([0.25, 0.25, 0.25, 0.25], False),
    ([0.5, 0.0, 0.3, 0.0, 0.2], True),
    ([1.0, 0.0, 0.0], True),  # certainty: S = 0
    ([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.5, 0.0]], True),
]

_ZERO_LOG_ZERO = (
    "Use the convention 0 ln 0 = 0 (the limit of p ln p as p → 0): leave out zero probabilities, e.g. "
    "with np.where(p > 0, p * np.log(p), 0.0) — with np.log(np.where(p > 0, p, 1.0)) inside, so that no "
    "log(0) is ever taken — or scipy.special.entr / xlogy."
)


@exercise(
    "2.2",
    title="The entropy of a distribution, in nats",
    answer="entropy",
    notebook=NOTEBOOK,
    hints=(
        "The entropy is one number per distribution: S = −Σ_i p_i ln p_i, summed over the outcomes (the "
        "last axis), with the natural logarithm.",
        "A zero probability contributes nothing (p ln p → 0 as p → 0), but 0 * np.log(0) is 0 · (−inf) = "
        "NaN in floating point: take the logarithm only where p > 0.",
        "terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0); return -terms.sum(axis=-1).",
    ),
)
def check_entropy(answer: Any) -> str | None:
    """``answer(p)`` must return −Σ p ln p over the last axis, with 0 ln 0 = 0."""
    for p, zeros in _CASES_2_2:
        probs = np.array(p, dtype=np.float64)
        where = f"for p = {p}" if probs.ndim == 1 else f"for the batch p = {p}"
        raw = call_quietly(answer, probs.copy())
        bad = _nonfinite(raw)
        if bad is not None and zeros:
            raise Wrong(
                f"{where} you got {bad}: 0 · ln 0 = 0 · (−∞) is NaN in floating point. {_ZERO_LOG_ZERO}"
            )
        got = as_array(raw, what=f"the value returned {where}")
        expected = entropy_exact(probs)
        if got.shape != expected.shape:
            raise Wrong(_shape_2_2(got, probs, where))
        rtol, atol = _tolerances(raw)
        if not close(got, expected, rtol, atol):
            raise Wrong(_diagnose_2_2(got, probs, expected, where))
    return "S = −Σ p ln p in nats, with 0 ln 0 = 0: ln 2 for a fair coin, 0 for a certain outcome."


def _shape_2_2(got: np.ndarray, p: np.ndarray, where: str) -> str:
    if got.shape == p.shape:
        return (
            f"{where} you returned one number per outcome: the terms −p_i ln p_i. The entropy is their sum, "
            "S = −Σ_i p_i ln p_i — some texts write S = −p log p and leave the Σ implied; without it, it "
            "is only one outcome's contribution."
        )
    if p.ndim == 2 and got.shape == ():
        return (
            f"{where} you returned one number for the whole batch; each row is a distribution: sum over the "
            f"last axis only (axis=-1), for one entropy per row, shape {p.shape[:-1]}."
        )
    if p.ndim == 2 and got.shape == p.shape[-1:]:
        return (
            f"{where} you returned one number per column: sum over the last axis (axis=-1), not the first. "
            "(scipy.stats.entropy sums over axis=0 unless told otherwise.)"
        )
    return f"{where} your answer has shape {got.shape}; expected {p.shape[:-1] or 'one number'}."


def _diagnose_2_2(got: np.ndarray, p: np.ndarray, expected: np.ndarray, where: str) -> str:
    message = _precision(got, expected, where)
    if message:
        return message
    candidates = [
        (
            expected / _LN2,
            "that is the entropy in bits (log base 2); the question asks for nats: use np.log.",
        ),
        (expected / math.log(10), "that is the entropy with log base 10; use the natural logarithm, np.log."),
        (-expected, "the sign is wrong: ln p ≤ 0, so S = −Σ p ln p ≥ 0."),
        (
            np.exp(expected),
            "that is e^S, the effective number of outcomes (the perplexity); the entropy is its logarithm.",
        ),
    ]
    for value, text in candidates:
        if close(got, value, _LOOSE, 1e-7):
            return f"{where} you got {show(got)}: {text}"
    if np.any(got < 0):
        return f"{where} you got {show(got)}, which is negative; an entropy is ≥ 0 (check the sign)."
    return f"{where} you got {show(got)}; expected S = {show(expected)} nats."


# ------------------------------------------------------------------------ exercise 2.3

#: The logits of exercise 2.3: a model's scores for the character after "th".
ENTROPY_LOGITS = np.array([2.0, 1.5, 1.2, 0.3, -0.4, -1.0, -1.5, -2.2])
#: The characters the logits of exercise 2.3 score ("␣" is a space).
ENTROPY_TOKENS = ("e", "a", "i", "r", "o", "u", "y", "␣")
#: The entropy the learner's temperature must give, in nats.
TARGET_ENTROPY = 1.0
#: Accepted distance from the target entropy, in nats.
ENTROPY_TOLERANCE = 0.01
_T_GRID = np.logspace(-2, 2, 401)


def entropy_at(T: float) -> float:
    """Entropy (nats) of the softmax of :data:`ENTROPY_LOGITS` at temperature ``T``, in float64."""
    return float(in_float64(softmax.entropy, ENTROPY_LOGITS, T))


def temperature_star() -> float:
    """The exact temperature at which the logits of exercise 2.3 have entropy :data:`TARGET_ENTROPY`."""
    return float(in_float64(sampling.temperature_for_entropy, ENTROPY_LOGITS, TARGET_ENTROPY))


@functools.cache
def _entropy_curve() -> np.ndarray:
    """S(T) of the logits of exercise 2.3 on the widget's temperature grid."""
    with jax.enable_x64(True):
        z = jnp.asarray(ENTROPY_LOGITS)
        S = jax.vmap(lambda t: softmax.entropy(z, t))(jnp.asarray(_T_GRID))
        return np.asarray(S, dtype=np.float64)


def _entropy_target_scene() -> Scene:
    """The figure of exercise 2.3 and the function that moves it to a temperature: bars, marker, title."""
    fig, (bars, curve) = figure(ncols=2, figsize=(8.4, 3.4), width_ratios=(1, 1.3))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.895, wspace=0.21)  # no layout engine: fast
    probabilities = bars.bar(ENTROPY_TOKENS, np.zeros(len(ENTROPY_TOKENS)), color="#4c72b0")
    bars.set_axisbelow(True)
    bars.set_ylim(0, 1)
    bars.set_xlabel('next character after "th"')
    bars.set_ylabel("probability p_i(T)")
    curve.semilogx(_T_GRID, _entropy_curve(), color="#4c72b0", lw=1.5, label="S(T)")
    curve.axhline(TARGET_ENTROPY, color="#c44e52", ls="--", lw=1, label=f"target S* = {TARGET_ENTROPY:g} nat")
    curve.axhline(math.log(len(ENTROPY_LOGITS)), color="grey", ls=":", lw=1, label="ln 8 (uniform)")
    (marker,) = curve.plot([], [], "o", color="#f2a900", ms=8, zorder=3)
    curve.set_xlim(_T_GRID[0], _T_GRID[-1])
    curve.set_ylim(0, 2.2)
    curve.set_xlabel("temperature T (units of the logits)")
    curve.set_ylabel("entropy S (nats)")
    curve.legend(loc="lower right", fontsize="small")
    title = fig.suptitle("")

    def move(T: float) -> list[Artist]:
        if not (np.isfinite(T) and T > 0):
            raise ValueError(f"the temperature must be positive and finite, got {T}")
        S = entropy_at(T)
        for bar, p in zip(probabilities, in_float64(softmax.softmax, ENTROPY_LOGITS, T), strict=True):
            bar.set_height(p)
        marker.set_data([T], [S])
        title.set_text(f"T = {T:.3f}:  S = {S:.3f} nats  (target {TARGET_ENTROPY:g})")
        return [*probabilities, marker, title]

    return fig, move


@with_scene(_entropy_target_scene)
def draw_entropy_target(T: float) -> Figure:
    """The widget's figure for exercise 2.3 at temperature ``T``.

    Left: the softmax probabilities of :data:`ENTROPY_LOGITS` at ``T``. Right: the entropy
    :math:`S(T)` in nats against ``T`` (log axis), the target line :math:`S^* = 1` nat and a
    marker at ``T``. The title gives :math:`S(T)` to three decimals.
    """
    fig, move = _entropy_target_scene()
    move(T)
    return fig


@exercise(
    "2.3",
    title="The temperature of a given entropy",
    answer="T_star",
    notebook=NOTEBOOK,
    hints=(
        "Entropy grows with temperature (dS/dT = Var(E)/T³ ≥ 0): if S is above the red line, lower T; "
        "if below, raise it.",
        "The answer lies between T = 0.3 and T = 1, where the distribution keeps most of its mass on "
        "three characters. Fine-tune until the title shows S = 1.00.",
        "S(T) = 1 nat between T = 0.48 and T = 0.50; sampling.temperature_for_entropy(logits, 1.0) gives "
        "the exact value.",
    ),
)
def check_temperature_star(answer: Any) -> str | None:
    """``answer`` is a temperature T with |S(T) − 1 nat| ≤ 0.01 for :data:`ENTROPY_LOGITS`."""
    T = as_float(answer, what="T_star")
    accepted = f"(the check accepts |S(T) − {TARGET_ENTROPY:g}| ≤ {ENTROPY_TOLERANCE:g} nats)"
    if T <= 0:
        raise Wrong(f"T = {T:g} is not a temperature: the softmax needs T > 0 {accepted}.")
    S = entropy_at(T)
    if abs(S - TARGET_ENTROPY) <= ENTROPY_TOLERANCE:
        return (
            f"S(T) = {S:.3f} nats at T = {T:.4g}; the exact temperature is T* = {temperature_star():.4f}. "
            f"It is below 1: the model's own distribution (T = 1, S = {entropy_at(1.0):.2f} nats) is more "
            "spread out than the target."
        )
    if math.isfinite(1 / T) and abs(entropy_at(1 / T) - TARGET_ENTROPY) <= ENTROPY_TOLERANCE:
        raise Wrong(f"{T:.4g} is β = 1/T, the inverse temperature; the question asks for T = 1/β.")
    if abs(T - TARGET_ENTROPY) <= 2 * ENTROPY_TOLERANCE:
        raise Wrong(
            f"T = {T:.4g} is too hot: S = {S:.3f} nats > 1. (1 is the target entropy and T = 1 the "
            "model's own temperature; the answer is the temperature at which S(T) = 1 nat.) Lower T."
        )
    if abs(S - _LN2) <= ENTROPY_TOLERANCE:
        raise Wrong(
            f"at T = {T:.4g}, S = {S:.3f} nats = 1 bit: the target is 1 nat (natural logarithm), "
            f"which is more spread than 1 bit — raise T {accepted}."
        )
    if S > TARGET_ENTROPY:
        raise Wrong(
            f"T = {T:.4g} is too hot: S = {S:.3f} nats > {TARGET_ENTROPY:g}, the distribution is too spread "
            f"out. Cooling shifts probability to the likeliest characters and lowers S (S rises with T, "
            f"since dS/dT = Var(E)/T³ ≥ 0): lower T {accepted}."
        )
    raise Wrong(
        f"T = {T:.4g} is too cold: S = {S:.3f} nats < {TARGET_ENTROPY:g}, the distribution is too sharp, "
        f"with nearly all the mass on the top characters. Heating spreads it out and raises S: raise T "
        f"{accepted}."
    )


# ------------------------------------------------------------------------ exercise 2.4


def information_exact(p: Any, q: Any) -> tuple[float, float, float]:
    r"""(:math:`H(P,Q)`, :math:`H(P)`, :math:`\mathrm{KL}(P\|Q)`) in nats, float64."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return (
        float(in_float64(softmax.cross_entropy, p, q)),
        float(in_float64(softmax.shannon_entropy, p)),
        float(in_float64(softmax.kl_divergence, p, q)),
    )


# (p, q): unequal, strongly asymmetric, zeros in p, nearly equal (KL ≈ 2·10⁻⁵).
_CASES_2_4: list[tuple[list[float], list[float]]] = [
    ([0.5, 0.3, 0.2], [0.45, 0.25, 0.3]),
    ([0.8, 0.15, 0.05], [0.2, 0.3, 0.5]),
    ([0.6, 0.0, 0.4, 0.0], [0.3, 0.2, 0.4, 0.1]),
    ([0.25, 0.25, 0.25, 0.25], [0.251, 0.249, 0.252, 0.248]),
]
_ENTRIES = ("cross-entropy H(P, Q)", "entropy H(P)", "divergence KL(P‖Q)")


def _triple(raw: Any, where: str) -> tuple[Any, Any, Any]:
    """The three entries of the answer, or :class:`Wrong` saying what a triple is."""
    if isinstance(raw, (tuple, list)):
        if len(raw) == 3:
            return raw[0], raw[1], raw[2]
        raise Wrong(f"{where} you returned {len(raw)} values; expected three, (H(P, Q), H(P), KL(P‖Q)).")
    if raw is None:
        raise Wrong("your function returned None — did you forget a `return`?")
    try:
        shape = tuple(raw.shape)
    except Exception:
        shape = None
    if shape == (3,):
        return raw[0], raw[1], raw[2]
    what = f"an array of shape {shape}" if shape is not None else f"a {type(raw).__name__}"
    raise Wrong(f"{where} you returned {what}; expected three numbers, (H(P, Q), H(P), KL(P‖Q)).")


@exercise(
    "2.4",
    title="Cross-entropy is entropy plus divergence",
    answer="cross_entropy_parts",
    notebook=NOTEBOOK,
    hints=(
        "Three sums over outcomes, each weighted by p (the data): H(P, Q) = −Σ p ln q, H(P) = −Σ p ln p, "
        "KL(P‖Q) = Σ p ln(p/q). The first is the sum of the other two.",
        "Where p_i = 0 a term contributes 0 (0 · ln anything = 0), but 0 * np.log(0) is NaN: keep only "
        "the outcomes with p > 0. KL is not symmetric: P weights the sum.",
        "m = p > 0; H_pq = -np.sum(p[m] * np.log(q[m])); H_p = -np.sum(p[m] * np.log(p[m])); "
        "return H_pq, H_p, np.sum(p[m] * np.log(p[m] / q[m])).",
    ),
)
def check_cross_entropy_parts(answer: Any) -> str | None:
    """``answer(p, q)`` must return (H(P, Q), H(P), KL(P‖Q)), each checked on its own."""
    results = []
    for p, q in _CASES_2_4:
        pa, qa = np.array(p), np.array(q)
        where = f"for p = {p}, q = {q}"
        results.append((pa, qa, where, _triple(call_quietly(answer, pa.copy(), qa.copy()), where)))
    for index in range(3):
        for pa, qa, where, entries in results:
            _check_entry_2_4(index, entries[index], pa, qa, where)
    return (
        "H(P, Q) = H(P) + KL(P‖Q): the cross-entropy of a model Q on data from P is the data's own entropy "
        "plus the divergence, which is ≥ 0, zero only for Q = P, and not symmetric."
    )


def _check_entry_2_4(index: int, raw: Any, p: np.ndarray, q: np.ndarray, where: str) -> None:
    what = f"the {_ENTRIES[index]} {where}"
    zeros = bool(np.any(p == 0))
    bad = _nonfinite(raw)
    if bad is not None and zeros:
        if index == 0:
            raise Wrong(
                f"{what} is {bad}: with p_i = 0 the term −p_i ln q_i is 0. An infinity means a log of a zero "
                "probability — of p? The cross-entropy takes the log of the model q: −Σ p ln q."
            )
        if index == 2 and bad == "an infinity":
            raise Wrong(
                f"{what} is {bad}: that is KL(Q‖P), infinite here because P gives probability 0 to outcomes "
                "that Q allows. The arguments are swapped: KL(P‖Q) = Σ p ln(p/q), weighted by p."
            )
        raise Wrong(f"{what} is {bad}: 0 · ln 0 gave NaN. Terms with p_i = 0 contribute 0: keep only p > 0.")
    value = as_array(raw, what=what)
    if value.shape == p.shape:
        raise Wrong(
            f"{what} is an array of shape {value.shape}, one term per outcome; expected one number, the sum "
            "over the outcomes (some texts leave the Σ implied)."
        )
    if value.shape != ():
        raise Wrong(f"{what} is an array of shape {value.shape}; expected one number.")
    got = float(value)
    expected = information_exact(p, q)
    rtol, atol = _tolerances(raw, atol32=1e-6)  # float32 rounding of sums near 1 (KL by the identity)
    if close(got, expected[index], rtol, atol):
        return
    message = _precision(np.asarray(got), np.asarray(expected[index]), f"{what}:")
    if message:
        raise Wrong(message)
    raise Wrong(_diagnose_2_4(index, got, p, q, expected, what))


def _diagnose_2_4(
    index: int, got: float, p: np.ndarray, q: np.ndarray, expected: tuple[float, float, float], what: str
) -> str:
    H_pq, H_p, kl = expected
    swapped = (
        information_exact(q, p)
        if np.all(p > 0)
        else (math.inf, float(in_float64(softmax.shannon_entropy, q)), math.inf)
    )
    swapped_name = ("H(Q, P) = −Σ q ln p", "H(Q) = −Σ q ln q", "KL(Q‖P) = Σ q ln(q/p)")[index]
    right = expected[index]
    candidates: list[tuple[float, str]] = [
        (
            swapped[index],
            f"that is {swapped_name}: p and q are swapped. The data P weights every sum — H(P, Q) = "
            "−Σ p ln q, H(P) = −Σ p ln p, KL(P‖Q) = Σ p ln(p/q) — and KL is not symmetric.",
        )
    ]
    candidates += [
        (
            -right,
            "the sign is wrong: " + ("KL ≥ 0 (Gibbs' inequality)." if index == 2 else "an entropy is ≥ 0."),
        ),
        (right / _LN2, "that is in bits (log base 2); the question asks for nats: use np.log."),
    ]
    if index == 0:
        candidates.append(
            (H_p, "that is H(P) = −Σ p ln p; the cross-entropy takes the log of the model: −Σ p ln q.")
        )
        candidates.append((kl, "that is KL(P‖Q); the cross-entropy is H(P) + KL(P‖Q) = −Σ p ln q."))
    elif index == 1:
        candidates.append((H_pq, "that is the cross-entropy H(P, Q); the entropy is −Σ p ln p."))
    else:
        candidates += [
            (H_pq + H_p, "that is H(P, Q) + H(P); the divergence is the difference, KL = H(P, Q) − H(P)."),
            (H_pq, "that is the cross-entropy H(P, Q); subtract the entropy H(P): KL = H(P, Q) − H(P)."),
            (
                float(np.sum((p - q) * np.log(p / q))) if np.all(p > 0) else math.nan,
                "that is the symmetrized divergence KL(P‖Q) + KL(Q‖P); KL(P‖Q) = Σ p ln(p/q) alone.",
            ),
        ]
    for value, text in candidates:
        if math.isfinite(value) and close(got, value, _LOOSE, 1e-9):
            return f"{what} is {got:.6g}: {text}"
    if index == 2 and got < 0:
        return f"{what} is {got:.6g} < 0, but KL(P‖Q) ≥ 0 (Gibbs' inequality); expected {kl:.6g}."
    if index == 2:
        return f"{what} is {got:.6g}; expected KL = {kl:.6g} = H(P, Q) − H(P) = {H_pq:.6g} − {H_p:.6g}."
    return f"{what} is {got:.6g}; expected {right:.6g}."


# ------------------------------------------------------------------------ exercise 2.5

#: The network sizes N of exercise 2.5's capacity simulation.
CAPACITY_SIZES = (100, 200)
#: The loads α = P/N of the simulation (P is rounded to an integer).
CAPACITY_ALPHAS = tuple(round(0.05 + 0.01 * k, 2) for k in range(26))
#: Recalls per load and size.
CAPACITY_SAMPLES = 256
#: Accepted distance from the crossing of the larger network, in units of α.
ALPHA_TOLERANCE = 0.01


@functools.cache
def _capacity() -> tuple[tuple[int, hopfield.Capacity], ...]:
    # float32 whatever JAX's default, so that the checker and the notebook run the same arithmetic.
    with jax.enable_x64(False):
        return tuple(
            (
                n,
                hopfield.capacity_curve(
                    jax.random.key(n), n, np.array(CAPACITY_ALPHAS), samples=CAPACITY_SAMPLES
                ),
            )
            for n in CAPACITY_SIZES
        )


def capacity_experiment() -> dict[int, hopfield.Capacity]:
    r"""The capacity simulation of exercise 2.5: ``{N: hopfield.capacity_curve(...)}``.

    For each :math:`N` in :data:`CAPACITY_SIZES`, :func:`physml.hopfield.capacity_curve` with
    key ``jax.random.key(N)``, the loads :data:`CAPACITY_ALPHAS` and
    :data:`CAPACITY_SAMPLES` recalls per load, started from the stored patterns, in
    float32. Computed once per process (a few seconds), so the notebook and the checker
    see the same curves.
    """
    return dict(_capacity())


def capacity_crossings() -> dict[int, float]:
    """The load at which the retrieval fraction of each network size falls to 1/2."""
    return {n: hopfield.half_crossing(c.alpha, c.retrieval) for n, c in capacity_experiment().items()}


def draw_capacity(curves: dict[int, hopfield.Capacity] | None = None) -> Figure:
    """Retrieval fraction against the load α = P/N for each size (exercise 2.5's figure)."""
    curves = capacity_experiment() if curves is None else curves
    fig, ax = figure(figsize=(6.4, 3.8))
    for (n, c), marker in zip(curves.items(), "o^s", strict=False):
        ax.plot(c.alpha, c.retrieval, marker + "-", ms=4, lw=1.2, label=f"N = {n}")
    ax.axhline(0.5, color="grey", lw=0.8)
    ax.set_xticks(np.arange(0.05, 0.31, 0.05))
    ax.set_xticks(np.arange(0.05, 0.305, 0.01), minor=True)
    ax.grid(True, which="minor", alpha=0.12)
    ax.set_xlim(0.04, 0.31)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("load α = P / N (patterns per neuron)")
    ax.set_ylabel("fraction of patterns retrieved")
    ax.legend()
    return fig


@exercise(
    "2.5",
    title="The storage capacity of a Hopfield network, from a simulation",
    answer="alpha_c",
    notebook=NOTEBOOK,
    hints=(
        "The load on the x axis is α = P/N, the number of stored patterns per neuron. Follow the curve of "
        "the larger network (N = 200) down to where it crosses the grey line at 1/2.",
        "The minor grid lines are 0.01 apart. The N = 200 curve crosses 1/2 between two markers; "
        "interpolate between them.",
        "The N = 200 curve passes 1/2 between α = 0.18 and α = 0.19; "
        "hopfield.half_crossing(curves[200].alpha, curves[200].retrieval) interpolates it.",
    ),
    time_limit=300.0,  # the first check may run the simulation; no learner code runs here
)
def check_alpha_c(answer: Any) -> str | None:
    """``answer`` is the load at which the N = 200 retrieval fraction falls to 1/2, to ±0.01."""
    value = as_float(answer, what="alpha_c")
    crossings = capacity_crossings()
    small, large = (crossings[n] for n in CAPACITY_SIZES)
    n_small, n_large = CAPACITY_SIZES
    accepted = f"(the check accepts ±{ALPHA_TOLERANCE:g} around the crossing)"

    def near(x: float, target: float = large) -> bool:
        return abs(x - target) <= ALPHA_TOLERANCE

    if near(value):
        return (
            f"The N = {n_large} curve crosses 1/2 at α ≈ {large:.3f}, the N = {n_small} curve at "
            f"{small:.3f}. Both lie above α_c ≈ {hopfield.AGS_ALPHA_C} of an infinite network (Amit, "
            "Gutfreund and Sompolinsky): at finite N the collapse is smeared out and shifted to higher "
            "loads, by an amount that shrinks like N^(−1/2)."
        )
    if value <= 0:
        raise Wrong(f"α = {value:g} is not a load: α = P/N > 0 {accepted}.")
    if abs(value - 0.5) <= 0.02:
        raise Wrong(
            "0.5 is the retrieval fraction at the crossing — the height of the grey line. The answer is the "
            "load α on the x axis at which the N = 200 curve meets that line."
        )
    if value > 1:
        if abs(value - n_large * large) <= n_large * ALPHA_TOLERANCE:
            raise Wrong(
                f"{value:g} looks like P, the number of stored patterns. The load is α = P/N, patterns per "
                f"neuron: divide by N = {n_large}."
            )
        if abs(value - n_small * small) <= n_small * ALPHA_TOLERANCE:
            raise Wrong(
                f"{value:g} looks like P for the N = {n_small} network. The load is α = P/N, and the "
                f"question asks for the larger network, N = {n_large}."
            )
        if near(1 / value):
            raise Wrong(f"{value:g} is N/P, neurons per pattern; the load is its inverse, α = P/N.")
        if near(value / 100):
            raise Wrong(
                f"{value:g} looks like a percentage; give α as a fraction (α = P/N, e.g. 0.1, not 10)."
            )
        raise Wrong(
            f"α = {value:g} is more patterns than neurons; the load α = P/N on the x axis is below 0.31 here."
        )
    if near(value / 2):
        raise Wrong(f"{value:g} is twice the load at the crossing: α = P/N, not 2P/N {accepted}.")
    if near(2 * value):
        raise Wrong(f"{value:g} is half the load at the crossing: α = P/N, not P/(2N) {accepted}.")
    if near(value, small):
        raise Wrong(
            f"α = {value:g} is where the smaller network, N = {n_small}, crosses 1/2. The question asks for "
            f"the larger one, N = {n_large}, which crosses at a lower load."
        )
    if near(value, hopfield.AGS_ALPHA_C):
        raise Wrong(
            f"{value:g} is the capacity of an infinite network, α_c ≈ {hopfield.AGS_ALPHA_C}. The N = "
            f"{n_large} network of the simulation retrieves half of its patterns up to a higher load: read "
            "the crossing off the plot."
        )
    c = capacity_experiment()[n_large]
    if c.alpha[0] <= value <= c.alpha[-1]:
        fraction = float(np.interp(value, c.alpha, c.retrieval))
        side = "still retrieves" if value < large else "retrieves only"
        move = "higher" if value < large else "lower"
        raise Wrong(
            f"at α = {value:g} the N = {n_large} network {side} {fraction:.0%} of its patterns; the crossing "
            f"of 1/2 lies at a {move} load {accepted}."
        )
    raise Wrong(
        f"α = {value:g} lies outside the plotted loads ({c.alpha[0]:g} to {c.alpha[-1]:g}); the "
        f"N = {n_large} curve crosses 1/2 inside them {accepted}."
    )


# ------------------------------------------------------------------------ exercise 2.6


def top_p_reference(probs: Any, p: float) -> np.ndarray:
    """Nucleus mask: the smallest set of most probable tokens with mass ≥ ``p`` (ties by lower index).

    Sorts the probabilities in decreasing order (stable, so equal ones keep index order) and
    keeps a token while the mass of the tokens before it is below ``p`` — the same rule as
    :func:`physml.sampling.top_p_logits`, applied to the probabilities themselves, so that
    sums which reach ``p`` exactly are decided exactly.
    """
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(probs[order])[:-1]])
    mask = np.zeros(probs.shape, dtype=bool)
    mask[order] = before < p
    return mask


# (probs, p): dyadic probabilities make every partial sum exact.
_CASES_2_6: list[tuple[list[float], float]] = [
    ([0.125, 0.5, 0.0625, 0.25, 0.0625], 0.7),  # unsorted: the first tokens are not the most probable
    ([0.1, 0.3, 0.3, 0.2, 0.1], 0.5),
    ([0.5, 0.25, 0.125, 0.125], 0.75),  # the mass reaches p exactly after two tokens
    ([0.25, 0.125, 0.375, 0.125, 0.125], 0.7),  # three tied tokens at the boundary
    ([0.3, 0.7], 0.1),  # the most probable token alone
    ([0.0, 0.5, 0.0, 0.5], 0.9),
    ([0.04, 0.21, 0.02, 0.09, 0.33, 0.01, 0.12, 0.06, 0.08, 0.04], 0.9),
]


def _variants_2_6(probs: np.ndarray, p: float) -> list[tuple[np.ndarray, str]]:
    """Masks of the usual mistakes, with their diagnoses."""
    order = np.argsort(-probs, kind="stable")
    total = np.cumsum(probs[order])
    before = total - probs[order]

    def unsort(keep: np.ndarray, order: np.ndarray = order) -> np.ndarray:
        mask = np.zeros(probs.shape, dtype=bool)
        mask[order] = keep
        return mask

    flipped = np.argsort(probs, kind="stable")[::-1]  # ties by higher index
    in_index_order = np.cumsum(probs) - probs
    too_few = (
        "one token too few: you compared the running mass *including* each token with p, so the token "
        "that makes the mass reach p was dropped. It belongs to the nucleus: keep a token while the mass "
        "before it is < p."
    )
    return [
        (
            in_index_order < p,
            "you accumulated the mass in index order. Sort the tokens by probability first (largest first), "
            "then keep them while the mass before each is below p.",
        ),
        (
            unsort(np.cumsum(probs[flipped]) - probs[flipped] < p, flipped),
            "the right number of tokens, but among equally probable tokens at the boundary you kept the "
            "higher index. Break ties by lower index: np.argsort(-probs, kind='stable') (reversing "
            "np.argsort(probs) reverses the order of ties too).",
        ),
        (
            unsort(before <= p),
            "one token too many: you also kept the token whose mass before it is exactly p. The set before "
            "it already has mass ≥ p; keep a token only while the mass before it is < p.",
        ),
        (unsort(total <= p), too_few),
        (unsort(total < p), too_few),
    ]


@exercise(
    "2.6",
    title="The nucleus (top-p) mask",
    answer="top_p_mask",
    notebook=NOTEBOOK,
    hints=(
        "Go through the tokens from the most probable down, adding up their probabilities, and stop as "
        "soon as the total reaches p. The tokens you went through form the nucleus.",
        "order = np.argsort(-probs, kind='stable') lists the tokens from the most probable (ties by lower "
        "index). A token is kept exactly when the mass of the tokens before it in that order is < p.",
        "order = np.argsort(-probs, kind='stable'); before = np.cumsum(probs[order]) - probs[order]; "
        "mask = np.zeros(len(probs), bool); mask[order] = before < p; return mask.",
    ),
)
def check_top_p_mask(answer: Any) -> str | None:
    """``answer(probs, p)`` must return the boolean nucleus mask (:func:`top_p_reference`)."""
    for probs_list, p in _CASES_2_6:
        probs = np.array(probs_list)
        where = f"for probs = {probs_list} and p = {p:g}"
        raw = call_quietly(answer, probs.copy(), p)
        got = as_array(raw, what=f"the mask returned {where}")
        expected = top_p_reference(probs, p)
        if got.shape != probs.shape:
            raise Wrong(_shape_2_6(got, expected, where))
        if not np.all((got == 0) | (got == 1)):
            if close(got, np.where(expected, probs, 0.0), 1e-6):
                raise Wrong(
                    f"{where} you returned the probabilities of the kept tokens; return the mask itself: "
                    "True for a kept token, False otherwise."
                )
            raise Wrong(
                f"{where} you returned {show(got)}; expected a boolean mask (True for a kept token, "
                "False otherwise)."
            )
        mask = got.astype(bool)
        if not np.array_equal(mask, expected):
            raise Wrong(_diagnose_2_6(mask, probs, p, expected, where))
    return (
        "The nucleus: the smallest set of most probable tokens whose mass reaches p. Sampling from it "
        "(renormalized) cuts the unreliable tail of the distribution, however many tokens the tail holds."
    )


def _shape_2_6(got: np.ndarray, expected: np.ndarray, where: str) -> str:
    kept = np.flatnonzero(expected)
    if got.ndim == 1 and got.size == kept.size:
        return (
            f"{where} you returned {got.size} numbers — the indices of the kept tokens? Return a boolean "
            f"mask of shape {expected.shape}, True for each kept token."
        )
    return f"{where} your mask has shape {got.shape}; expected one entry per token, shape {expected.shape}."


def _diagnose_2_6(mask: np.ndarray, probs: np.ndarray, p: float, expected: np.ndarray, where: str) -> str:
    kept, nucleus = np.flatnonzero(mask).tolist(), np.flatnonzero(expected).tolist()
    show = f"{where} you kept tokens {kept}; the nucleus is {nucleus}:"
    for variant, text in _variants_2_6(probs, p):
        if np.array_equal(mask, variant):
            return f"{show} {text}"
    mass = float(probs[mask].sum())
    if not mask.any():
        return f"{show} you kept no token; the most probable token is always kept."
    if mass < p:
        return f"{show} their mass is {mass:.4g} < p. The nucleus must reach p: keep more tokens."
    if mask.sum() > expected.sum():
        return f"{show} their mass reaches p, but fewer tokens do too: keep the most probable ones only."
    return f"{show} keep the most probable tokens, taken in decreasing order of probability."
