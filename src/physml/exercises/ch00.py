"""Exercises of "How to use this book" (``exercises/00_how_to_use.ipynb``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from ..plotting import Scene, level_populations, with_scene
from ._core import Wrong, as_array, as_float, call, close, exercise, tolerance

NOTEBOOK = "00_how_to_use"


def paramagnet_probability(x: np.ndarray, beta: float, B: float) -> float:
    r"""Exact :math:`p(x) = e^{-\beta E(x)}/(2\cosh\beta B)^N` with :math:`E = -B\sum x_i`, in float64."""
    x = np.asarray(x, dtype=np.float64)
    y = abs(beta * B)
    log_z = x.size * (y + np.log1p(np.exp(-2 * y)))
    return float(np.exp(beta * B * x.sum() - log_z))


# (x, beta, B): the first two are the configurations the chapter discusses.
_CASES_0_1: list[tuple[list[int], float, float]] = [
    ([1, 1, 1, 1, -1, 1, 1, 1], 1.0, 1.0),  # E = -6:  p ≈ 0.049
    ([1, 1, 1, -1, 1, -1, -1, -1], 1.0, 1.0),  # E = 0:   p ≈ 1.2e-4
    ([1, 1, 1, 1, 1, 1, 1, 1], 1.0, 1.0),  # the ground state
    ([-1, -1, 1, -1, -1, -1, -1, -1], 1.0, 1.0),  # E = +6
    ([1, -1, 1, 1, -1, 1, 1, -1], 0.0, 1.0),  # infinite temperature: uniform, 1/256
    ([1, -1, 1], 0.5, 2.0),  # another N, beta and B
    ([1, 1, -1, -1, -1], 2.0, -0.75),  # a reversed field
    ([1] * 8, 20.0, 1.0),  # low temperature: the ground state takes almost all weight
]


@exercise(
    "0.1",
    title="Boltzmann probability of a spin configuration",
    answer="boltzmann_probability",
    notebook=NOTEBOOK,
    hints=(
        "The energy of the paramagnet is E(x) = -B * sum(x). Compute it first.",
        "The Boltzmann weight is exp(-beta * E(x)) — mind the minus sign. "
        "The probability is the weight divided by Z, the sum of the weights of all 2^N configurations.",
        "For free spins Z factorizes: Z = (2 cosh(beta * B))**N. "
        "So p(x) = exp(beta * B * sum(x)) / (2 * cosh(beta * B))**N.",
    ),
)
def check_boltzmann_probability(answer: Any) -> str | None:
    """``answer(x, beta, B)`` must return the Boltzmann probability of ``x``."""
    for x, beta, B in _CASES_0_1:
        x_arr = np.array(x, dtype=np.int64)
        got_raw = call(answer, x_arr.copy(), beta, B)
        got = as_array(got_raw, what=f"the value returned for x={x}, beta={beta}, B={B}")
        if got.shape != ():
            raise Wrong(
                f"for x={x} your function returned an array of shape {got.shape}; "
                "expected one number, the probability of that configuration."
            )
        expected = paramagnet_probability(x_arr, beta, B)
        if not close(got, expected, rtol=tolerance(got_raw)):
            raise Wrong(_diagnose_0_1(float(got), x_arr, beta, B))
    return "Low energy wins, with weight exp(-βE)/Z."


def _diagnose_0_1(got: float, x: np.ndarray, beta: float, B: float) -> str:
    where = f"for x={x.tolist()}, beta={beta:g}, B={B:g}"
    expected = paramagnet_probability(x, beta, B)
    energy = -B * x.sum()
    rtol = 1e-4
    if close(got, paramagnet_probability(-x, beta, B), rtol):
        return (
            f"{where} you got {got:.4g}, which is the probability of the flipped configuration. "
            "Check the sign: the weight is exp(-βE), so lower energy must be more likely."
        )
    if close(got, np.exp(-beta * energy), rtol):
        return f"{where} you returned the weight exp(-βE) = {got:.4g}; divide it by Z to get a probability."
    if close(got, np.exp(beta * energy), rtol):
        return f"{where} you returned exp(+βE) = {got:.4g}: the sign is wrong and Z is missing."
    if beta not in (0.0, 1.0) and close(got, paramagnet_probability(x, 1 / beta, B), rtol):
        return f"{where} you got {got:.4g}: it looks as if you used T = 1/β in place of β."
    if (
        got > 0
        and expected > 0
        and close(got / expected, round(got / expected), 1e-6)
        and round(got / expected) > 1
    ):
        return f"{where} you got {got:.4g}, {round(got / expected)} times too large."
    if got < 0 or got > 1:
        return f"{where} you got {got:.4g}, which is not a probability (it must lie in [0, 1])."
    return f"{where} you got {got:.4g}; expected {expected:.4g}."


BETA_HALF = -0.5 * np.log(2 ** (1 / 8) - 1)  # p(all up) = 1/2 at B = 1, N = 8


@exercise(
    "0.2",
    title="The temperature at which the ground state holds half the weight",
    answer="beta_half",
    notebook=NOTEBOOK,
    hints=(
        "Move the slider until the bar of the all-up configuration reaches 1/2.",
        "p(all up) = exp(8β) / (2 cosh β)^8 = 1 / (1 + exp(-2β))^8 for B = 1.",
        "Solve (1 + exp(-2β))^8 = 2 for β.",
    ),
)
def check_beta_half(answer: Any) -> str | None:
    """``answer`` is β with p(all up) = 1/2 for 8 spins at B = 1, to ±0.01."""
    value = as_float(answer, what="beta_half")
    if abs(value - BETA_HALF) <= 0.01:
        return f"β ≈ {BETA_HALF:.3f}, exactly −½ ln(2^(1/8) − 1)."
    if abs(value + BETA_HALF) <= 0.01:
        raise Wrong("that β is negative: at negative temperature the all-down state wins. Look for β > 0.")
    if value > 0 and abs(1 / value - BETA_HALF) <= 0.01:
        raise Wrong("that is the temperature T = 1/β; the question asks for β.")
    if value <= 0:
        raise Wrong(f"β = {value:g} is not positive; for β ≤ 0 the all-up state holds at most 1/256.")
    if value < BETA_HALF:
        raise Wrong(f"at β = {value:g} the all-up state holds less than half the weight: β is too small.")
    raise Wrong(f"at β = {value:g} the all-up state holds more than half the weight: β is too large.")


def _populations_scene(n: int = 8, B: float = 1.0) -> Scene:
    """The figure of exercise 0.2 and the function that moves it to an inverse temperature: bars, title."""
    ups = np.arange(n + 1)
    fig = level_populations(-B * (2 * ups - n), np.ones(n + 1), highlight=n)
    (ax,) = fig.axes
    bars = ax.containers[0]

    def move(beta: float) -> list[Artist]:
        probabilities = [paramagnet_probability(np.r_[np.ones(k), -np.ones(n - k)], beta, B) for k in ups]
        for bar, p in zip(bars, probabilities, strict=True):
            bar.set_height(p)
        ax.title.set_text(f"β = {beta:.2f}: the all-up state holds p = {probabilities[-1]:.3f}")
        return [*bars, ax.title]

    return fig, move


@with_scene(_populations_scene)
def draw_populations(beta: float, n: int = 8, B: float = 1.0) -> Figure:
    """The widget's figure for exercise 0.2: p(x) per energy level of n free spins at β."""
    fig, move = _populations_scene(n, B)
    move(beta)
    return fig
