"""Exercises of "The statistical-mechanics bridge" (``exercises/01_statmech_bridge.ipynb``).

Every value a checker compares to comes from :mod:`physml.statmech`, :mod:`physml.spins`,
:mod:`physml.ising` or a closed form, computed in float64 whatever JAX's default precision.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.artist import Artist
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .. import ising, spins, statmech
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
    tolerance,
)

NOTEBOOK = "01_statmech_bridge"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4


def _exact(fn: Callable[..., Any], *args: Any) -> float:
    """``float(fn(*args))`` evaluated with JAX in float64."""
    return float(in_float64(fn, *args))


def _precision(got: float, expected: float, where: str, remedy: str) -> str | None:
    """A message when ``got`` matches ``expected`` to float32-like precision only."""
    if expected == 0 or not close(got, expected, _LOOSE):
        return None
    error = abs(got - expected) / abs(expected)
    digits = int(-math.log10(error)) if error > 0 else 16
    return (
        f"{where} you got {got:.10g}; the exact value is {expected:.10g}, equal to only about "
        f"{digits} significant digits. {remedy}"
    )


def _multiple(got: float, expected: float) -> int | None:
    """The integer ``k > 1`` with ``got = k * expected``, if there is one."""
    if got <= 0 or expected <= 0:
        return None
    ratio = got / expected
    k = round(ratio)
    return k if k > 1 and close(ratio, k, 1e-6) else None


# ------------------------------------------------------------------------ exercise 1.1

# (s, beta, J, h): both signs of J and h, odd and even N, beta = 0, the ground state.
_CASES_1_1: list[tuple[list[int], float, float, float]] = [
    ([1, 1, 1, 1, 1, -1, -1, -1], 0.8, 1.0, 0.5),  # s_N != s_1: the closing bond matters
    ([1, -1, 1, -1, 1, -1, 1, -1, 1, -1], 0.7, -1.0, 0.3),  # the Néel state of an antiferromagnet
    ([1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1], 0.5, 1.5, -0.8),  # two domains in a reversed field
    ([1, -1, -1, 1, 1, -1], 0.0, 1.0, 1.0),  # infinite temperature: uniform, 1/64
    ([1, 1, -1, 1, -1], 1.2, -0.6, -0.4),  # odd N: a frustrated antiferromagnetic ring
    ([1] * 12, 2.0, 1.0, 0.2),  # the ground state
    ([-1, -1, -1, 1], 1.0, 0.5, -1.0),
]


def chain_probability_exact(s: Any, beta: float, J: float, h: float) -> float:
    r"""Exact :math:`p(s) = e^{-\beta H(s)}/Z_N` of the periodic chain, from :mod:`physml.ising`."""
    s = np.asarray(s, dtype=np.float64)
    with jax.enable_x64(True):
        log_p = -beta * ising.chain_energy(s, J, h) - ising.chain_log_partition(s.size, beta, J, h)
        return float(jnp.exp(log_p))


def _open_chain(s: np.ndarray, beta: float, J: float, h: float) -> tuple[float, float]:
    """Energy of the open chain (no bond s_N s_1) and ln Z of the open chain (enumerated)."""
    with jax.enable_x64(True):
        configs = spins.enumerate_spins(s.size).astype(jnp.float64)
        energies = -J * jnp.sum(configs[:, :-1] * configs[:, 1:], axis=-1) - h * jnp.sum(configs, axis=-1)
        log_z = float(statmech.log_partition(energies, beta))
    energy = float(-J * np.sum(s[:-1] * s[1:]) - h * np.sum(s))
    return energy, log_z


@exercise(
    "1.1",
    title="Boltzmann probability of a configuration of the Ising chain",
    answer="chain_probability",
    notebook=NOTEBOOK,
    hints=(
        "Compute the energy first: H = -J Σ s_i s_{i+1} - h Σ s_i, with the bond s_N s_1 that closes "
        "the ring (np.roll(s, -1) pairs every spin with its right neighbour).",
        "The probability is exp(-β H(s)) / Z with Z = Σ_s exp(-β H(s)) over all 2^N configurations. "
        "For N ≤ 12 you can enumerate them, or use the transfer matrix: Z = tr T^N.",
        "T = [[exp(β(J+h)), exp(-βJ)], [exp(-βJ), exp(β(J-h))]]; "
        "Z = np.trace(np.linalg.matrix_power(T, N)), and p = exp(-β H(s)) / Z.",
    ),
)
def check_chain_probability(answer: Any) -> str | None:
    """``answer(s, beta, J, h)`` must return the Boltzmann probability of ``s``."""
    for s, beta, J, h in _CASES_1_1:
        s_arr = np.array(s, dtype=np.int64)
        where = f"for s={s}, β={beta:g}, J={J:g}, h={h:g}"
        raw = call_quietly(answer, s_arr.copy(), beta, J, h)
        got = as_number(raw, what=f"the value returned {where}")
        expected = chain_probability_exact(s_arr, beta, J, h)
        if not close(got, expected, rtol=tolerance(raw)):
            raise Wrong(_diagnose_1_1(got, s_arr, beta, J, h))
    return "The ring's energy, exp(−βH) and Z = tr Tᴺ: p(s) = e^{−βH(s)}/Z."


def _diagnose_1_1(got: float, s: np.ndarray, beta: float, J: float, h: float) -> str:
    where = f"for s={s.tolist()}, β={beta:g}, J={J:g}, h={h:g}"
    expected = chain_probability_exact(s, beta, J, h)
    message = _precision(got, expected, where, FLOAT32_ADVICE)
    if message:
        return message
    with jax.enable_x64(True):
        energy = float(ising.chain_energy(s.astype(np.float64), J, h))
        log_z = float(ising.chain_log_partition(s.size, beta, J, h))
    open_energy, open_log_z = _open_chain(s.astype(np.float64), beta, J, h)
    candidates = [
        (
            chain_probability_exact(s, beta, -J, -h),
            "that is exp(+βH)/Σ exp(+βH): the sign of the exponent is wrong. "
            "The weight is exp(−βH), so lower energy is more likely.",
        ),
        (
            math.exp(beta * energy - log_z),
            "that is exp(+βH)/Z: the sign of the exponent is wrong; the weight is exp(−βH).",
        ),
        (
            chain_probability_exact(-s, beta, J, h),
            "that is the probability of the flipped configuration −s. Check the sign of the field term: "
            "H = −J Σ s_i s_{i+1} − h Σ s_i, so spins along h lower the energy.",
        ),
        (math.exp(-beta * energy), "that is the weight exp(−βH); divide it by Z to get a probability."),
        (math.exp(beta * energy), "that is exp(+βH): the sign of the exponent is wrong and Z is missing."),
        (
            math.exp(-beta * open_energy - open_log_z),
            "that is the probability of an open chain: the ring is periodic, so the energy (and every "
            "configuration in Z) includes the bond −J s_N s_1 between the last spin and the first.",
        ),
        (
            math.exp(-beta * open_energy - log_z),
            "that is what you get without the bond −J s_N s_1 in the energy: the chain is periodic, so the "
            "last spin is a neighbour of the first.",
        ),
    ]
    if beta not in (0.0, 1.0):
        candidates.append(
            (chain_probability_exact(s, 1 / beta, J, h), "it looks as if you used T = 1/β in place of β.")
        )
    for value, text in candidates:
        if close(got, value, _LOOSE):
            return f"{where} you got {got:.4g}: {text}"
    k = _multiple(got, expected)
    if k is not None:
        return f"{where} you got {got:.4g}, {k} times too large."
    if got < 0 or got > 1:
        return f"{where} you got {got:.4g}, which is not a probability (it must lie in [0, 1])."
    return f"{where} you got {got:.4g}; expected {expected:.4g}."


# ------------------------------------------------------------------------ exercise 1.2

# (energies, beta, extreme): the last two overflow / underflow a naive sum of exponentials.
_CASES_1_2: list[tuple[list[float], float, bool]] = [
    ([0.0, 1.0, 2.0, 5.0], 0.5, False),
    ([-1.5, 0.3, 0.3, 2.0, 4.1], 2.0, False),
    ([3.0, -2.0, 7.0, 1.0], 0.0, False),  # β = 0: ln Z = ln 4, the log of the number of states
    ([-1000.0, -999.5, -990.0], 1000.0, True),  # e^{+10^6}: overflows
    ([1000.0, 1001.0, 1005.0], 1000.0, True),  # e^{-10^6}: underflows to 0
]

_LOGSUMEXP = (
    "Factor out the largest term: ln Z = −βE₀ + ln Σ exp(−β(E − E₀)), E₀ the minimum energy, so the "
    "largest exponential is 1 (log-sum-exp; jax.nn.logsumexp does this)."
)


def _log_z(energies: Sequence[float], beta: float) -> float:
    return _exact(statmech.log_partition, np.asarray(energies, dtype=np.float64), beta)


@exercise(
    "1.2",
    title="ln Z without overflow or underflow",
    answer="log_partition",
    notebook=NOTEBOOK,
    hints=(
        "Start from the definition ln Z = ln Σ exp(−βE), then try it at β = 1000 with energies near "
        "±1000: what does exp(10**6) give in floating point, and exp(−10**6)?",
        "Factor the largest term out of the sum: Σ exp(−βE) = exp(−βE₀) Σ exp(−β(E − E₀)), "
        "where E₀ is the smallest energy.",
        "E0 = np.min(energies); return -beta * E0 + np.log(np.sum(np.exp(-beta * (energies - E0)))).",
    ),
)
def check_log_partition(answer: Any) -> str | None:
    """``answer(energies, beta)`` must return ln Z, finite even at β = 1000."""
    for energies, beta, extreme in _CASES_1_2:
        where = f"for energies={energies} at β={beta:g}"
        advice = f"That was {where}: an overflow? {_LOGSUMEXP}" if extreme else ""
        raw = call_quietly(answer, np.array(energies), beta, advice=advice)
        expected = _log_z(energies, beta)
        bad = nonfinite(raw)
        if bad == "+inf":
            raise Wrong(f"{where}, ln Z came out +inf: exp(−βE) overflowed. {_LOGSUMEXP}")
        if bad == "-inf":
            raise Wrong(
                f"{where}, ln Z came out −inf: every exp(−βE) underflowed to 0, and ln 0 = −∞. {_LOGSUMEXP}"
            )
        if bad == "nan" and extreme:
            raise Wrong(f"{where}, ln Z came out NaN: the exponentials overflowed (inf − inf). {_LOGSUMEXP}")
        got = as_number(raw, what=f"the value returned {where}")
        if not close(got, expected, rtol=tolerance(raw)):
            raise Wrong(_diagnose_1_2(got, np.array(energies), beta, expected, where))
    return "ln Z by log-sum-exp: finite for any β and any finite energies."


def _diagnose_1_2(got: float, energies: np.ndarray, beta: float, expected: float, where: str) -> str:
    message = _precision(got, expected, where, FLOAT32_ADVICE)
    if message:
        return message
    e0 = float(np.min(energies))
    candidates: list[tuple[float, str]] = [
        (
            _log_z(-energies, beta),
            "that is ln Σ exp(+βE): the sign of the exponent is wrong; Z = Σ exp(−βE).",
        )
    ]
    if beta != 0 and e0 != 0:
        candidates.append(
            (
                expected + beta * e0,
                "you dropped the term you factored out: ln Z = −βE₀ + ln Σ exp(−β(E − E₀)).",
            )
        )
    if expected < 700:
        candidates.append((math.exp(expected), "that is Z itself; return its logarithm, ln Z."))
    if beta != 0:
        candidates.append(
            (-expected / beta, "that is the free energy F = −ln Z/β; the question asks for ln Z.")
        )
    candidates.append((-expected, "that is −ln Z = βF: drop the minus sign."))
    if beta not in (0.0, 1.0):
        candidates.append((_log_z(energies, 1 / beta), "it looks as if you used T = 1/β in place of β."))
    for value, text in candidates:
        if close(got, value, _LOOSE):
            return f"{where} you got {got:.6g}: {text}"
    return f"{where} you got {got:.6g}; expected ln Z = {expected:.6g}."


# ------------------------------------------------------------------------ exercise 1.3

_CASES_1_3: list[tuple[list[float], float, bool]] = _CASES_1_2


def _mean_e(energies: Sequence[float], beta: float) -> float:
    return _exact(statmech.mean_energy, np.asarray(energies, dtype=np.float64), beta)


def _pair(raw: Any, where: str) -> tuple[Any, Any]:
    """The two entries of the answer, or :class:`Wrong` saying what a pair is."""
    if isinstance(raw, (tuple, list)):
        if len(raw) == 2:
            return raw[0], raw[1]
        raise Wrong(f"{where} you returned {len(raw)} values; expected a pair (by_sum, by_derivative).")
    if raw is None:
        raise Wrong("your function returned None — did you forget a `return`?")
    try:
        shape = tuple(raw.shape)
    except Exception:
        shape = None
    if shape == (2,):
        return raw[0], raw[1]
    what = f"an array of shape {shape}" if shape is not None else f"a {type(raw).__name__}"
    raise Wrong(f"{where} you returned {what}; expected a pair (by_sum, by_derivative) of two numbers.")


@exercise(
    "1.3",
    title="The mean energy, by a sum and by a derivative",
    answer="mean_energy_two_ways",
    notebook=NOTEBOOK,
    hints=(
        "The first entry is the average Σ p(x) E(x) with the Boltzmann probabilities p; the second "
        "differentiates ln Z with respect to β — jax.grad does that for you.",
        "Compute p without overflow: shift the energies by their minimum before exponentiating "
        "(the shift cancels in p). For the derivative, write ln Z as a function of β with "
        "jax.nn.logsumexp, then ⟨E⟩ = −∂ ln Z/∂β.",
        "by_sum = jnp.sum(jax.nn.softmax(-beta * E) * E); "
        "by_derivative = -jax.grad(lambda b: jax.nn.logsumexp(-b * E))(beta).",
    ),
)
def check_mean_energy_two_ways(answer: Any) -> str | None:
    """``answer(energies, beta)`` must return (Σ p E, −∂ ln Z/∂β), both equal to ⟨E⟩."""
    pairs = []
    for energies, beta, extreme in _CASES_1_3:
        where = f"for energies={energies} at β={beta:g}"
        advice = f"That was {where}: an overflow? Subtract the minimum energy before exponentiating."
        raw = call_quietly(answer, np.array(energies), beta, advice=advice if extreme else "")
        pairs.append((energies, beta, extreme, where, *_pair(raw, where)))
    for energies, beta, extreme, where, by_sum, _ in pairs:
        _check_entry_1_3("sum", by_sum, np.array(energies), beta, extreme, where)
    for energies, beta, extreme, where, _, by_derivative in pairs:
        _check_entry_1_3("derivative", by_derivative, np.array(energies), beta, extreme, where)
    return "Both ways agree: ⟨E⟩ = Σ p E = −∂ ln Z/∂β, even at β = 1000."


def _check_entry_1_3(
    entry: str, raw: Any, energies: np.ndarray, beta: float, extreme: bool, where: str
) -> None:
    what = f"the {entry} entry {where}"
    bad = nonfinite(raw)
    if bad is not None and extreme:
        if entry == "sum":
            raise Wrong(
                f"{what} is {bad}: the weights exp(−βE) overflow (inf/inf) or underflow (0/0). Subtract "
                "the minimum energy before exponentiating — the shift cancels in p = exp(−βE)/Z."
            )
        raise Wrong(
            f"{what} is {bad}: ln Z overflowed before it was differentiated. Compute ln Z by "
            "log-sum-exp (jax.nn.logsumexp, or subtract the minimum energy), then take jax.grad."
        )
    got = as_number(raw, what=what)
    expected = _mean_e(energies, beta)
    if close(got, expected, rtol=tolerance(raw)):
        return
    remedy = FLOAT32_ADVICE
    if entry == "derivative":
        remedy = "A finite difference? jax.grad gives the exact derivative. " + FLOAT32_ADVICE
    message = _precision(got, expected, f"{what}:", remedy)
    if message:
        raise Wrong(message)
    unnormalized = (
        float(np.sum(np.exp(-beta * energies) * energies)) if beta * max(abs(energies)) < 700 else None
    )
    weights = np.exp(-beta * (energies - energies.min()))
    if entry == "sum":
        candidates = [
            (-expected, "the wrong sign: ⟨E⟩ = Σ p(x) E(x)."),
            (
                unnormalized,
                "Σ exp(−βE) E without dividing by Z: the probabilities are p = exp(−βE)/Z.",
            ),
            (
                float(np.mean(energies)) if beta != 0 else None,
                "the plain average of the energies: weight each by its Boltzmann probability p = exp(−βE)/Z.",
            ),
            (
                -_mean_e(-energies, beta),
                "an average with weights exp(+βE): the sign of the exponent is wrong.",
            ),
            (float(np.sum(weights * energies)), "Σ exp(−β(E − E₀)) E: divide by the sum of the weights."),
        ]
    else:
        log_z = _log_z(energies, beta)
        candidates = [
            (-expected, "the wrong sign: ⟨E⟩ = −∂ ln Z/∂β."),
            (log_z, "ln Z itself; ⟨E⟩ is minus its derivative with respect to β."),
            (
                expected * math.exp(log_z) if log_z < 700 else None,
                "−∂Z/∂β; differentiate ln Z instead (which divides by Z).",
            ),
            (
                _mean_e(-energies, beta),
                "what −∂/∂β ln Σ exp(+βE) gives: the sign in the exponent of Z is wrong.",
            ),
        ]
        if beta not in (0.0, 1.0):
            candidates += [
                (beta**2 * expected, "∂ ln Z/∂T = β²⟨E⟩: you differentiated with respect to T, not β."),
                (-(beta**2) * expected, "−∂ ln Z/∂T: you differentiated with respect to T, not β."),
            ]
    for value, text in candidates:
        if value is not None and close(got, value, _LOOSE):
            raise Wrong(f"{what} is {got:.6g}, {text}")
    raise Wrong(f"{what} is {got:.6g}; expected ⟨E⟩ = {expected:.6g}.")


# ------------------------------------------------------------------------ exercise 1.4

# (beta, J, h): both signs of J and h, h = 0, and β = 100 where e^{β(|J|+|h|)} overflows.
_CASES_1_4: list[tuple[float, float, float]] = [
    (1.0, 1.0, 0.5),
    (0.5, -1.0, 0.3),
    (2.0, 0.7, -0.4),
    (0.8, 1.2, 0.0),
    (10.0, 1.0, 0.25),
    (100.0, 5.0, -3.0),  # the largest matrix element is e^{800}
    (100.0, -4.0, 2.0),  # an antiferromagnet: e^{−βJ} = e^{400}, e^{−4βJ} = e^{1600}
]

_FACTOR_OUT = (
    "Factor out the largest matrix element e^a, a = max(β(J+h), −βJ, β(J−h)): the scaled matrix "
    "T e^{−a} has entries ≤ 1, and ln λ₊ = a + ln(its largest eigenvalue)."
)


def _f(beta: float, J: float, h: float) -> float:
    return _exact(ising.chain_free_energy_density, beta, J, h)


def _log_lambdas(beta: float, J: float, h: float) -> tuple[float, float | None]:
    """ln λ₊ and, when λ₋ > 0, ln λ₋ (else None), in float64."""
    with jax.enable_x64(True):
        scale, plus, minus = (float(x) for x in ising._chain_eigenvalues(beta, J, h))
    return scale + math.log(plus), (scale + math.log(minus) if minus > 0 else None)


@exercise(
    "1.4",
    title="Free energy per spin of the infinite chain",
    answer="chain_free_energy_density",
    notebook=NOTEBOOK,
    hints=(
        "For a long chain Z = λ₊ᴺ + λ₋ᴺ ≈ λ₊ᴺ, so f = −(1/(βN)) ln Z → −(1/β) ln λ₊, with λ₊ the larger "
        "eigenvalue of the 2×2 transfer matrix T.",
        "T = [[exp(β(J+h)), exp(−βJ)], [exp(−βJ), exp(β(J−h))]] is symmetric: np.linalg.eigvalsh "
        "returns its eigenvalues in ascending order. At β = 100 its entries overflow — work with "
        "the exponents.",
        "a = beta * np.array([[J + h, -J], [-J, J - h]]); top = a.max(); "
        "lam = np.linalg.eigvalsh(np.exp(a - top))[-1]; return -(top + np.log(lam)) / beta.",
    ),
)
def check_chain_free_energy_density(answer: Any) -> str | None:
    """``answer(beta, J, h)`` must return f = −(1/β) ln λ₊, finite up to β = 100."""
    for beta, J, h in _CASES_1_4:
        where = f"for β={beta:g}, J={J:g}, h={h:g}"
        large = beta * max(J + abs(h), -J) > 80
        advice = f"That was {where}: an overflow? {_FACTOR_OUT}" if large else ""
        raw = call_quietly(answer, beta, J, h, advice=advice)
        bad = nonfinite(raw)
        if bad is not None and large:
            raise Wrong(
                f"{where} you got {bad}: the transfer matrix's entries overflow (the largest is "
                f"e^{beta * max(J + abs(h), -J):.0f}). {_FACTOR_OUT}"
            )
        if bad == "nan" and J < 0:
            raise Wrong(
                f"{where} you got NaN: for J < 0 the smaller eigenvalue λ₋ is negative and ln λ₋ is NaN. "
                "Use the larger one, λ₊."
            )
        got = as_number(raw, what=f"the value returned {where}")
        expected = _f(beta, J, h)
        if not close(got, expected, rtol=tolerance(raw)):
            raise Wrong(_diagnose_1_4(got, beta, J, h, expected, where))
    return "f = −(1/β) ln λ₊, finite at any β once the largest exponent is factored out."


def _diagnose_1_4(got: float, beta: float, J: float, h: float, expected: float, where: str) -> str:
    message = _precision(got, expected, where, FLOAT32_ADVICE)
    if message:
        return message
    log_plus, log_minus = _log_lambdas(beta, J, h)
    candidates: list[tuple[float, str]] = [
        (log_plus, "that is ln λ₊; the free energy per spin is f = −(1/β) ln λ₊."),
        (-log_plus, "that is −ln λ₊ = βf: divide by β."),
    ]
    if log_plus < 700:
        candidates.append((math.exp(log_plus), "that is λ₊ itself; f = −(1/β) ln λ₊."))
    if log_minus is not None:
        candidates.append(
            (
                -log_minus / beta,
                "you used the smaller eigenvalue λ₋; for a long chain λ₊ᴺ dominates Z = λ₊ᴺ + λ₋ᴺ.",
            )
        )
    candidates.append(
        (
            _f(beta, -J, h),
            "that is the free energy for coupling −J. A bond's weight is exp(+βJ s s′) (its energy is "
            "−J s s′): check the signs in your transfer matrix.",
        )
    )
    if h != 0:
        candidates += [
            (_f(beta, J, 0.0), "that is the free energy at h = 0: the field is missing."),
            (
                _f(beta, J, 2 * h),
                "that is the free energy in a field 2h: each site's field counts once — put h s on one "
                "side of T, or split it as h(s + s′)/2.",
            ),
        ]
    if beta != 1.0:
        candidates.append((_f(1 / beta, J, h), "it looks as if you used T = 1/β in place of β."))
    for value, text in candidates:
        if close(got, value, _LOOSE):
            return f"{where} you got {got:.6g}: {text}"
    return f"{where} you got {got:.6g}; expected f = {expected:.6g}."


# ------------------------------------------------------------------------ exercise 1.5

#: Onsager's exact critical temperature of the square lattice, T_c = 2J/ln(1 + √2).
ONSAGER_TC = float(ising.ONSAGER_TC)
#: The tolerance of exercise 1.5, in units of J.
TC_TOLERANCE = 0.1
#: Mean-field critical temperature T = zJ of the square lattice (z = 4 neighbours).
MEAN_FIELD_TC = 4.0

ISING_SIDE = 48
ISING_SWEEPS = 300
ISING_SEED = 0
_SPIN_COLOURS = ListedColormap(["#4c72b0", "#f2c14e"])


def _ising_scene(L: int = ISING_SIDE, sweeps: int = ISING_SWEEPS) -> Scene:
    """The figure of exercise 1.5 and the function that moves it to a temperature: spins, trace, title."""
    fig, (lattice, trace) = figure(ncols=2, figsize=(8.4, 3.6), width_ratios=(1, 1.5))
    image = lattice.imshow(np.ones((L, L)), cmap=_SPIN_COLOURS, vmin=-1, vmax=1, interpolation="nearest")
    fig.subplots_adjust(left=0.01, right=0.98, bottom=0.14, top=0.8, wspace=0.17)  # no layout engine: fast
    lattice.set_title(f"{L}×{L} spins after {sweeps} sweeps\n(yellow: up, blue: down)")
    lattice.set_xticks([])
    lattice.set_yticks([])
    lattice.grid(False)
    lattice.spines[:].set_visible(True)
    (m_line,) = trace.plot(np.arange(1, sweeps + 1), np.zeros(sweeps), color="#4c72b0", lw=1.2)
    trace.axvspan(sweeps // 2, sweeps, color="#dddddd", alpha=0.5, lw=0)
    trace.set_xlim(0, sweeps)
    trace.set_ylim(0, 1.05)
    trace.set_xlabel("Metropolis sweep (L² flip proposals)")
    trace.set_ylabel("|m|, magnetization per spin")
    title = fig.suptitle("")

    def move(T: float) -> list[Artist]:
        if not T > 0:
            raise ValueError(f"the temperature must be positive, got {T}")
        start = jnp.ones((L, L), jnp.float32)
        state, samples = ising.metropolis(jax.random.key(ISING_SEED), start, 1.0 / T, sweeps)
        m = np.abs(np.asarray(samples.magnetization, dtype=np.float64))
        mean_m = float(m[sweeps // 2 :].mean())
        image.set_data(np.asarray(state))
        m_line.set_ydata(m)
        title.set_text(f"T = {T:.2f} J:  mean |m| over the second half (shaded) = {mean_m:.2f}")
        return [image, m_line, title]

    return fig, move


@with_scene(_ising_scene)
def draw_ising(T: float, L: int = ISING_SIDE, sweeps: int = ISING_SWEEPS) -> Figure:
    """The widget's figure for exercise 1.5: Metropolis on an ``L × L`` lattice at temperature ``T``.

    Starts from the ordered state (all up) and runs ``sweeps`` checkerboard sweeps with a
    fixed key (``J = 1``, ``h = 0``), so the same ``T`` always gives the same picture. Left:
    the spins after the last sweep; right: :math:`|m|` per sweep. The title gives the mean
    :math:`|m|` over the second half of the run.
    """
    fig, move = _ising_scene(L, sweeps)
    move(T)
    return fig


@exercise(
    "1.5",
    title="The critical temperature of the 2-D Ising model",
    answer="T_c_estimate",
    notebook=NOTEBOOK,
    hints=(
        "At low T the lattice stays almost all one colour and |m| stays near 1; at high T it breaks "
        "into small clusters and |m| falls to near 0. Look for the temperature between the two.",
        "Scan in steps of 0.05 around the place where the mean |m| drops fastest. Right at T_c the "
        "picture shows large domains of both colours and |m| wanders.",
        "The transition lies between T = 2.2 and T = 2.4 (in units of J).",
    ),
)
def check_critical_temperature(answer: Any) -> str | None:
    """``answer`` is T_c of the square-lattice Ising model in units of J, to ±0.1."""
    value = as_float(answer, what="T_c_estimate")
    accepted = f"(the check accepts T within ±{TC_TOLERANCE:g} of the exact value)"
    if abs(value - ONSAGER_TC) <= TC_TOLERANCE:
        return f"Onsager's exact result is T_c = 2J/ln(1 + √2) ≈ {ONSAGER_TC:.4f} J."
    if value <= 0:
        raise Wrong(f"T = {value:g} is not a temperature; T_c is positive {accepted}.")
    if value < 1 and abs(1 / value - ONSAGER_TC) <= TC_TOLERANCE:
        raise Wrong(f"{value:g} looks like β_c = 1/T_c; the question asks for the temperature T_c.")
    if abs(value - MEAN_FIELD_TC) <= TC_TOLERANCE:
        raise Wrong(
            "that is the mean-field estimate T = zJ = 4, which overestimates: mean field ignores the "
            "fluctuations that destroy order at a lower temperature. Read T_c off the simulation."
        )
    if value < ONSAGER_TC:
        raise Wrong(
            f"T = {value:g} is too low: there the lattice is ordered — one colour dominates and |m| stays "
            f"near 1. Raise T until |m| no longer stays near 1 {accepted}."
        )
    raise Wrong(
        f"T = {value:g} is too high: there the lattice is disordered — |m| decays to about 0 and the "
        f"spins form small clusters of both colours. Lower T {accepted}."
    )


# ------------------------------------------------------------------------ exercise 1.6

#: Relative tolerance of exercise 1.6 for float64 answers.
EXPONENT_RTOL = 1e-6


@functools.cache
def _cases_1_6() -> list[tuple[np.ndarray, np.ndarray, float | None]]:
    """(sizes, spreads, exact exponent or None for the noisy case)."""
    a = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    b = np.array([1.0, 2.0, 5.0, 10.0, 100.0])
    c = np.array([4.0, 16.0, 64.0, 256.0, 1024.0])
    sizes = 64 * 2 ** np.arange(7)
    noise = np.random.default_rng(1).normal(0.0, 0.1, sizes.size)
    return [
        (a, 3.0 * a**-0.5, -0.5),
        (b, 0.2 * b**-1.0, -1.0),
        (c, 7.0 * c**0.25, 0.25),
        (sizes, 0.4 * sizes**-0.5 * np.exp(noise), None),
    ]


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(x, y, 1)[0])


@exercise(
    "1.6",
    title="A power-law exponent from a log-log fit",
    answer="power_law_exponent",
    notebook=NOTEBOOK,
    hints=(
        "A power law spread = C · size^a is a straight line on log–log axes: "
        "ln(spread) = ln C + a ln(size). Its slope is the exponent.",
        "Fit a straight line to (ln size, ln spread) by least squares — np.polyfit(x, y, 1) returns "
        "(slope, intercept). Natural or base-10 logarithms give the same slope.",
        "return np.polyfit(np.log(sizes), np.log(spreads), 1)[0]",
    ),
)
def check_power_law_exponent(answer: Any) -> str | None:
    """``answer(sizes, spreads)`` must return the least-squares slope of ln(spread) against ln(size)."""
    for sizes, spreads, exact in _cases_1_6():
        kind = f"exact power law with a = {exact:g}" if exact is not None else "noisy data"
        where = f"for the {kind} (sizes={sizes.tolist()})"
        raw = call_quietly(answer, sizes.copy(), spreads.copy())
        got_array = as_array(raw, what=f"the value returned {where}")
        if got_array.shape == (2,):
            raise Wrong(
                f"{where} you returned two numbers — the whole output of np.polyfit (slope, intercept)? "
                "Return only the exponent a, the slope: one number."
            )
        if got_array.shape != ():
            raise Wrong(
                f"{where} you returned an array of shape {got_array.shape}; "
                "expected one number, the exponent a."
            )
        got = float(got_array)
        expected = exact if exact is not None else _slope(np.log(sizes), np.log(spreads))
        rtol = max(EXPONENT_RTOL, tolerance(raw))
        if not close(got, expected, rtol=rtol):
            raise Wrong(_diagnose_1_6(got, sizes, spreads, expected, where))
    return "The slope of the log–log line is the exponent (any base of logarithm gives the same slope)."


def _diagnose_1_6(got: float, sizes: np.ndarray, spreads: np.ndarray, expected: float, where: str) -> str:
    message = _precision(got, expected, where, "Fit in float64 (NumPy), or return the JAX value as it is.")
    if message:
        return message
    x, y = np.log(sizes.astype(np.float64)), np.log(spreads)
    intercept = float(np.polyfit(x, y, 1)[1])
    candidates = [
        (intercept, "that is the intercept ln C of the log–log line; the exponent is its slope."),
        (intercept / math.log(10), "that is the intercept log₁₀ C of the log–log line; return the slope."),
        (math.exp(intercept), "that is the prefactor C; the exponent is the slope of the log–log line."),
        (
            _slope(sizes.astype(np.float64), spreads),
            "that is the slope of spread against size on linear axes. A power law is a straight line "
            "on log–log axes: fit ln(spread) against ln(size).",
        ),
        (
            _slope(sizes.astype(np.float64), y),
            "only one axis is logarithmic: fit ln(spread) against ln(size), not against size.",
        ),
        (_slope(x, spreads), "only one axis is logarithmic: fit ln(spread), not spread, against ln(size)."),
        (
            _slope(y, x),
            "you fitted ln(size) against ln(spread), which gives 1/a: put ln(size) on the x axis.",
        ),
        (1 / expected, "that is 1/a: put ln(size) on the x axis and ln(spread) on the y axis."),
        (-expected, "the sign is wrong: the exponent is the slope of ln(spread) against ln(size)."),
        (
            (y[-1] - y[0]) / (x[-1] - x[0]),
            "that is the slope between the two end points only; fit all points by least squares.",
        ),
    ]
    for value, text in candidates:
        if close(got, value, _LOOSE):
            return f"{where} you got {got:.6g}: {text}"
    return f"{where} you got {got:.6g}; expected a = {expected:.6g}."
