"""Chapter 2's checkers: reference solutions pass, placeholders are not attempted, and each
known-wrong answer gets its own message."""

from __future__ import annotations

import itertools
import math

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from conftest import ROOT, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml import hopfield, sampling, softmax
from physml.exercises import check, exercises_in
from physml.exercises.ch02 import (
    _CASES_2_4,
    _CASES_2_6,
    ALPHA_TOLERANCE,
    CAPACITY_ALPHAS,
    CAPACITY_SIZES,
    ENTROPY_LOGITS,
    TARGET_ENTROPY,
    capacity_crossings,
    capacity_experiment,
    draw_capacity,
    draw_entropy_target,
    entropy_at,
    information_exact,
    temperature_star,
    top_p_reference,
)
from physml.exercises.widgets import WidgetExercise
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "02_softmax_boltzmann.ipynb"
IDS = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
VALUE_ANSWERS = {"2.3", "2.5"}  # a number, not a function

SOLUTIONS = reference_answers(NOTEBOOK)


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("02_softmax_boltzmann")] == IDS
    assert sorted(SOLUTIONS) == IDS


# ---------------------------------------------------------------- exercise 2.1


def p_exact(z, T, axis=-1):
    return np.asarray(scipy.special.softmax(np.asarray(z, dtype=float) / T, axis=axis))


def naive(z, T):
    w = np.exp(np.asarray(z) / T)
    return w / w.sum(axis=-1, keepdims=True)


def global_shift(z, T):
    w = np.exp((z - z.max()) / T)  # one maximum for the whole batch
    return w / w.sum(axis=-1, keepdims=True)


def no_keepdims(z, T):
    w = np.exp((z - z.max(axis=-1, keepdims=True)) / T)
    return w / w.sum(axis=-1)  # raises for a (3, 5) batch


def no_keepdims_if_square(z, T):
    w = np.exp((z - z.max(axis=-1, keepdims=True)) / T)
    if z.ndim == 2 and z.shape[0] == z.shape[1]:
        return w / w.sum(axis=-1)  # broadcasts silently along the wrong axis
    return w / w.sum(axis=-1, keepdims=True)


def only_when(condition, wrong):
    """Right answers, except ``wrong(z, T)`` where ``condition(z, T)`` holds."""
    return lambda z, T: wrong(z, T) if condition(z, T) else p_exact(z, T)


WRONG_2_1 = {
    "naive": (naive, "at T = 0.01 the exponents z/T reach 900"),
    "large logits": (only_when(lambda z, T: z.max() > 100, naive), "e^710 is already inf"),
    "negative logits": (only_when(lambda z, T: z.max() < -100, naive), "every e^{z/T} underflows to 0"),
    "global shift": (global_shift, "the rows of this batch lie 2·10⁴ apart"),
    "times T": (lambda z, T: p_exact(z * T, 1.0), "that is softmax(z·T): divide the logits by T"),
    "sign": (lambda z, T: p_exact(-z, T), "softmax(−z/T): the sign is wrong"),
    "sign times T": (lambda z, T: p_exact(-z * T, 1.0), "softmax(−z/T): the sign is wrong"),
    "unnormalized": (
        lambda z, T: np.exp((z - z.max(axis=-1, keepdims=True)) / T),
        "proportional to the probabilities but are not normalized",
    ),
    "twice": (lambda z, T: 2 * p_exact(z, T), "not normalized (they sum to 2"),
    "sum not one": (lambda z, T: p_exact(z, T) + 0.01, "your probabilities sum to 1.04, not 1"),
    "axis 0": (
        lambda z, T: p_exact(z, T, axis=0) if z.ndim == 2 else p_exact(z, T),
        "you normalized over the first axis",
    ),
    "whole batch": (
        lambda z, T: p_exact(z.reshape(-1), T).reshape(z.shape),
        "you normalized over the whole batch",
    ),
    "no keepdims": (no_keepdims, "raised ValueError: operands could not be broadcast"),
    "no keepdims, advice": (no_keepdims, "keepdims=True"),
    "no keepdims, square": (no_keepdims_if_square, "the rows of your answer sum to"),
    "row sums": (
        lambda z, T: p_exact(z, T).sum(axis=-1) if z.ndim == 2 else p_exact(z, T),
        "one number per row, shape (3,)",
    ),
    "reversed": (lambda z, T: p_exact(z, T)[..., ::-1], "; expected [0.2242, 0.6095, 0.136 , 0.0303]"),
    "one number": (lambda z, T: 1.0, "you returned one number"),
    "transposed": (lambda z, T: p_exact(z, T).T, "has shape (5, 3); expected the shape of the logits"),
    "float32 digits": (
        lambda z, T: np.asarray(p_exact(z, T), np.float32).astype(np.float64),
        "significant digits",
    ),
    "None": (lambda z, T: None, "forget a `return`"),
    "string": (lambda z, T: "0.25", "not a string"),
    "nan": (lambda z, T: np.full(np.shape(z), np.nan), "contains NaN"),
    "raises": (lambda z, T: 1 / 0, "raised ZeroDivisionError"),
    "wrong arity": (lambda z: z, "raised TypeError"),
    "not callable": (0.25, "expected a function"),
}


@pytest.mark.parametrize("name", sorted(WRONG_2_1))
def test_wrong_answers_to_2_1(name):
    assert_wrong("2.1", *WRONG_2_1[name])


def test_2_1_accepts_library_softmaxes_in_float32_and_float64():
    assert check("2.1", lambda z, T: jax.nn.softmax(jnp.asarray(z, jnp.float32) / T, axis=-1)).passed
    assert check("2.1", lambda z, T: jax.nn.softmax(jnp.asarray(z) / T, axis=-1)).passed
    assert check("2.1", p_exact).passed
    assert check("2.1", lambda z, T: softmax.softmax(z, T)).passed


def test_2_1_diagnoses_the_large_logits_in_float32_too():
    float32_naive = lambda z, T: naive(np.asarray(z, np.float32), np.float32(T))
    assert_wrong("2.1", float32_naive, "contain NaN")


# ---------------------------------------------------------------- exercise 2.2


def S_exact(p):
    return np.sum(scipy.special.entr(np.asarray(p, dtype=float)), axis=-1)


WRONG_2_2 = {
    "terms": (lambda p: scipy.special.entr(p), "one number per outcome: the terms −p_i ln p_i"),
    "terms, popular form": (lambda p: -p * np.log(p), "some texts write S = −p log p"),
    "bits": (lambda p: S_exact(p) / np.log(2), "in bits (log base 2)"),
    "log10": (lambda p: S_exact(p) / np.log(10), "log base 10"),
    "sign": (lambda p: -S_exact(p), "the sign is wrong"),
    "0 log 0": (lambda p: -np.sum(p * np.log(p), axis=-1), "0 · ln 0 = 0 · (−∞) is NaN"),
    "whole batch": (lambda p: np.sum(scipy.special.entr(p)), "one number for the whole batch"),
    "scipy default axis": (lambda p: scipy.stats.entropy(p), "scipy.stats.entropy sums over axis=0"),
    "perplexity": (lambda p: np.exp(S_exact(p)), "the perplexity"),
    "negative": (lambda p: S_exact(p) - 1, "which is negative"),
    "off": (lambda p: S_exact(p) + 0.1, "expected S = 0.693147 nats"),
    "float32 digits": (lambda p: float(np.float32(S_exact(p)[()])), "significant digits"),
    "None": (lambda p: None, "forget a `return`"),
    "string": (lambda p: "ln 2", "not a string"),
    "wrong shape": (lambda p: np.ones((2, 2)), "expected one number"),
}


@pytest.mark.parametrize("name", sorted(WRONG_2_2))
def test_wrong_answers_to_2_2(name):
    assert_wrong("2.2", *WRONG_2_2[name])


def test_2_2_accepts_scipy_and_float32_jax():
    assert check("2.2", lambda p: scipy.stats.entropy(p, axis=-1)).passed
    assert check(
        "2.2", lambda p: jnp.sum(jax.scipy.special.entr(jnp.asarray(p, jnp.float32)), axis=-1)
    ).passed
    assert check("2.2", lambda p: softmax.shannon_entropy(p)).passed


# ---------------------------------------------------------------- exercise 2.3


def test_the_target_temperature_is_where_the_hints_say():
    T = temperature_star()
    assert entropy_at(T) == pytest.approx(TARGET_ENTROPY, abs=1e-12)
    assert 0.48 < T < 0.50  # hint 3 and the solution ("near T = 0.49")
    assert entropy_at(1.0) > TARGET_ENTROPY + 0.3  # the model's own distribution is hotter
    assert abs(entropy_at(1.0) - TARGET_ENTROPY) > 0.02  # "the target itself" is not an answer


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (1 / 0.4887, "is β = 1/T"),
        (1.0, "1 is the target entropy and T = 1 the model's own temperature"),
        (
            float(sampling.temperature_for_entropy(ENTROPY_LOGITS, math.log(2))),
            "= 1 bit: the target is 1 nat",
        ),
        (0.3, "too cold"),
        (0.47, "too cold"),
        (0.51, "too hot"),
        (2.0, "too hot"),
        (0.0, "not a temperature"),
        (-0.49, "not a temperature"),
        (1e-320, "too cold"),  # 1/T overflows: no β diagnosis
        ("0.49", "not a string"),
        (True, "bool"),
        (float("nan"), "NaN"),
        (np.array([0.49, 0.49]), "shape (2,)"),
    ],
)
def test_wrong_answers_to_2_3(answer, phrase):
    assert_wrong("2.3", answer, phrase)


@pytest.mark.parametrize(
    "answer", [0.4887, 0.49, 0.483, 0.495, np.float32(0.489), np.array(0.4887), 10**-0.31]
)
def test_answers_to_2_3_within_tolerance(answer):
    assert check("2.3", answer).passed


def test_the_log_slider_can_reach_the_tolerance():
    """Slider values are 10**(0.005 k): one of them lies within the accepted band."""
    Ts = 10.0 ** np.arange(-2, 2.0001, 0.005)
    assert min(abs(entropy_at(T) - TARGET_ENTROPY) for T in Ts[(Ts > 0.4) & (Ts < 0.6)]) < 0.005


def test_draw_entropy_target_returns_a_deterministic_figure():
    fig = draw_entropy_target(0.5)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert "T = 0.500" in fig.get_suptitle()
    assert f"S = {entropy_at(0.5):.3f}" in fig.get_suptitle()
    assert png_bytes(fig) == png_bytes(draw_entropy_target(0.5))
    assert png_bytes(draw_entropy_target(2.0)) != png_bytes(fig)
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="positive"):
            draw_entropy_target(bad)


def test_the_widget_checks_the_temperature_on_its_slider():
    slider = widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.005, description="T")
    widget = WidgetExercise("2.3", controls={"T": slider}, draw=draw_entropy_target, answer="T")
    assert "too hot" in widget.check().message
    widget.set(T=10**-0.31)
    assert widget.check().passed
    assert "T_star = 0.4898" in widget.feedback.value


def test_draw_entropy_target_shows_the_softmax():
    bars = draw_entropy_target(0.7).axes[0].patches
    heights = np.array([bar.get_height() for bar in bars])
    np.testing.assert_allclose(heights, p_exact(ENTROPY_LOGITS, 0.7), rtol=1e-12)


# ---------------------------------------------------------------- exercise 2.4


def parts(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    return information_exact(p, q)


def with_entries(**changes):
    """Right answers with some entries replaced: ``H_pq``, ``H_p`` or ``KL`` -> fn(p, q)."""
    names = ("H_pq", "H_p", "KL")

    def answer(p, q):
        right = list(parts(p, q))
        return tuple(changes[n](p, q) if n in changes else right[i] for i, n in enumerate(names))

    return answer


def kl(p, q):
    return parts(p, q)[2]


def naive_parts(p, q):
    return -np.sum(p * np.log(q)), -np.sum(p * np.log(p)), np.sum(p * np.log(p / q))


WRONG_2_4 = {
    "swapped": (lambda p, q: parts(q, p) if (p > 0).all() else parts(p, q), "H(Q, P) = −Σ q ln p"),
    "swapped everywhere": (
        lambda p, q: naive_parts(q, p),
        "the cross-entropy H(P, Q) for p = [0.5, 0.3, 0.2], q = [0.45, 0.25, 0.3] is",
    ),
    "KL swapped": (with_entries(KL=lambda p, q: kl(q, p)), "KL(Q‖P) = Σ q ln(q/p): p and q are swapped"),
    "entropy of q": (with_entries(H_p=lambda p, q: parts(q, q)[1]), "H(Q) = −Σ q ln q"),
    "KL swapped at zeros": (
        with_entries(KL=lambda p, q: np.inf if (p == 0).any() else kl(p, q)),
        "infinite here because P gives probability 0",
    ),
    "0 log 0": (naive_parts, "0 · ln 0 gave NaN"),
    "cross-entropy inf": (
        with_entries(H_pq=lambda p, q: np.inf if (p == 0).any() else parts(p, q)[0]),
        "a log of a zero probability — of p?",
    ),
    "KL sign": (with_entries(KL=lambda p, q: -kl(p, q)), "KL ≥ 0 (Gibbs' inequality)"),
    "KL negative": (with_entries(KL=lambda p, q: kl(p, q) - 1), "< 0, but KL(P‖Q) ≥ 0"),
    "KL off": (with_entries(KL=lambda p, q: 2 * kl(p, q)), "= H(P, Q) − H(P) ="),
    "entropy sign": (with_entries(H_p=lambda p, q: -parts(p, q)[1]), "an entropy is ≥ 0"),
    "bits": (lambda p, q: tuple(x / np.log(2) for x in parts(p, q)), "in bits (log base 2)"),
    "cross-entropy is H(P)": (with_entries(H_pq=lambda p, q: parts(p, q)[1]), "that is H(P) = −Σ p ln p"),
    "cross-entropy is KL": (with_entries(H_pq=kl), "that is KL(P‖Q); the cross-entropy is H(P) + KL"),
    "entropy is cross-entropy": (with_entries(H_p=lambda p, q: parts(p, q)[0]), "that is the cross-entropy"),
    "KL is the sum": (with_entries(KL=lambda p, q: parts(p, q)[0] + parts(p, q)[1]), "H(P, Q) + H(P)"),
    "KL is the cross-entropy": (with_entries(KL=lambda p, q: parts(p, q)[0]), "subtract the entropy H(P)"),
    "symmetrized": (with_entries(KL=lambda p, q: kl(p, q) + kl(q, p)), "symmetrized divergence"),
    "terms": (with_entries(H_pq=lambda p, q: -p * np.log(q)), "one term per outcome"),
    "entry of shape (2,)": (with_entries(H_p=lambda p, q: np.ones(2)), "shape (2,); expected one number"),
    "entropy off": (with_entries(H_p=lambda p, q: parts(p, q)[1] + 0.1), "expected 1.02965"),
    "float32 digits": (
        lambda p, q: tuple(float(np.float32(x)) for x in parts(p, q)),
        "significant digits",
    ),
    "two values": (lambda p, q: parts(p, q)[:2], "you returned 2 values"),
    "dict": (lambda p, q: {"H": 1.0}, "a dict; expected three numbers"),
    "array of 4": (lambda p, q: np.zeros(4), "an array of shape (4,)"),
    "None": (lambda p, q: None, "forget a `return`"),
    "None entry": (with_entries(KL=lambda p, q: None), "is None"),
    "string entry": (with_entries(H_p=lambda p, q: "1.0"), "not a string"),
}


@pytest.mark.parametrize("name", sorted(WRONG_2_4))
def test_wrong_answers_to_2_4(name):
    assert_wrong("2.4", *WRONG_2_4[name])


def test_2_4_cases_obey_the_identity_and_are_asymmetric():
    for p, q in _CASES_2_4:
        H_pq, H_p, KL = parts(p, q)
        assert H_pq == pytest.approx(H_p + KL, abs=1e-14)
        assert KL >= 0
    p, q = _CASES_2_4[1]
    assert abs(kl(p, q) - kl(q, p)) > 0.1  # the strongly asymmetric pair
    assert 1e-6 < kl(*_CASES_2_4[3]) < 1e-4  # nearly equal distributions


def test_2_4_accepts_float32_jax_and_the_identity():
    def in_float32(p, q):
        p, q = jnp.asarray(p, jnp.float32), jnp.asarray(q, jnp.float32)
        H_pq = -jnp.sum(jax.scipy.special.xlogy(p, q))
        H_p = jnp.sum(jax.scipy.special.entr(p))
        return H_pq, H_p, H_pq - H_p  # KL by the identity, with float32 cancellation

    assert check("2.4", in_float32).passed
    assert check("2.4", lambda p, q: np.array(parts(p, q))).passed


# ---------------------------------------------------------------- exercise 2.5


@pytest.fixture(scope="module")
def crossings():
    return capacity_crossings()


def test_the_simulation_shows_what_the_hints_and_messages_say(crossings):
    small, large = (crossings[n] for n in CAPACITY_SIZES)
    assert 0.18 < large < 0.19  # hint 3 and the solution
    assert small - large > 2 * ALPHA_TOLERANCE  # the smaller network is diagnosed, not accepted
    assert large - hopfield.AGS_ALPHA_C > 2 * ALPHA_TOLERANCE  # so is the N = ∞ value
    for c in capacity_experiment().values():
        assert (c.converged == 1).all()
        assert c.retrieval[0] == 1 and c.retrieval[-1] < 0.15  # the plot spans the whole drop


def test_the_simulation_is_deterministic_and_independent_of_jax_precision(crossings):
    """The checker runs in float64 tests and in float32 notebooks: the curves must agree."""
    assert jax.config.jax_enable_x64  # tests run in float64; the checker's simulation in float32
    c = hopfield.capacity_curve(jax.random.key(200), 200, np.array(CAPACITY_ALPHAS), samples=256)
    assert hopfield.half_crossing(c.alpha, c.retrieval) == crossings[200]


def test_wrong_answers_to_2_5(crossings):
    small, large = crossings[100], crossings[200]
    cases = [
        (0.5, "the retrieval fraction at the crossing"),
        (200 * large, "looks like P, the number of stored patterns"),
        (round(100 * small), "looks like P for the N = 100 network"),
        (1 / large, "is N/P, neurons per pattern"),
        (100 * large, "looks like a percentage"),
        (2 * large, "twice the load"),
        (large / 2, "half the load"),
        (small, "the smaller network, N = 100"),
        (hopfield.AGS_ALPHA_C, "the capacity of an infinite network"),
        (0.15, "still retrieves"),
        (0.25, "retrieves only"),
        (large - 1.5 * ALPHA_TOLERANCE, "the crossing of 1/2 lies at a higher load"),
        (0.6, "lies outside the plotted loads"),
        (0.02, "lies outside the plotted loads"),
        (3.0, "more patterns than neurons"),
        (0.0, "not a load"),
        (-0.19, "not a load"),
        ("0.19", "not a string"),
        (np.nan, "NaN"),
        ([0.19, 0.21], "shape (2,)"),
    ]
    for answer, phrase in cases:
        assert_wrong("2.5", answer, phrase)


def test_answers_to_2_5_within_tolerance(crossings):
    large = crossings[200]
    for answer in (large, 0.19, 0.185, large + 0.009, large - 0.009, np.float32(0.19)):
        assert check("2.5", answer).passed, answer


def test_draw_capacity_returns_a_figure_of_both_sizes():
    fig = draw_capacity()
    assert isinstance(fig, Figure)
    assert [line.get_label() for line in fig.axes[0].get_lines()[:2]] == ["N = 100", "N = 200"]
    assert png_bytes(fig) == png_bytes(draw_capacity())


# ---------------------------------------------------------------- exercise 2.6


def brute_force_nucleus(probs, p):
    """Among all sets of minimal size with mass >= p, the most probable, ties by lower indices."""
    n = len(probs)
    for size in range(1, n + 1):
        best = None
        for subset in itertools.combinations(range(n), size):  # lexicographic: lower indices first
            mass = math.fsum(probs[i] for i in subset)
            if mass >= p:
                key = sorted((-probs[i], i) for i in subset)
                if best is None or key < best[0]:
                    best = (key, subset)
        if best is not None:
            mask = np.zeros(n, bool)
            mask[list(best[1])] = True
            return mask
    raise AssertionError("no set reaches p")


@pytest.mark.parametrize(("probs", "p"), _CASES_2_6)
def test_top_p_reference_is_the_smallest_most_probable_set(probs, p):
    np.testing.assert_array_equal(top_p_reference(probs, p), brute_force_nucleus(probs, p))


def test_top_p_reference_agrees_with_the_sampling_module(key):
    for k in jax.random.split(key, 50):
        logits = 2 * jax.random.normal(k, (9,))
        probs = np.asarray(softmax.softmax(logits))
        for p in (0.3, 0.6, 0.9):
            kept = np.isfinite(np.asarray(sampling.top_p_logits(logits, p)))
            np.testing.assert_array_equal(top_p_reference(probs, p), kept)


def reference_mask(probs, p):
    return top_p_reference(probs, p)


def sorted_mask(probs, p, keep):
    order = np.argsort(-probs, kind="stable")
    mask = np.zeros(probs.shape, bool)
    mask[order] = keep(np.cumsum(probs[order]), probs[order])
    return mask


WRONG_2_6 = {
    "unsorted": (lambda probs, p: np.cumsum(probs) - probs < p, "you accumulated the mass in index order"),
    "ties reversed": (
        lambda probs, p: sorted_mask(probs[::-1], p, lambda c, x: c - x < p)[::-1],
        "you kept the higher index",
    ),
    "too many": (lambda probs, p: sorted_mask(probs, p, lambda c, x: c - x <= p), "one token too many"),
    "too few, <=": (lambda probs, p: sorted_mask(probs, p, lambda c, x: c <= p), "one token too few"),
    "too few, <": (lambda probs, p: sorted_mask(probs, p, lambda c, x: c < p), "the mass before it is < p"),
    "indices": (lambda probs, p: np.flatnonzero(reference_mask(probs, p)), "the indices of the kept tokens"),
    "probabilities": (
        lambda probs, p: np.where(reference_mask(probs, p), probs, 0.0),
        "the probabilities of the kept tokens",
    ),
    "not a mask": (lambda probs, p: np.full(probs.shape, 0.5), "expected a boolean mask"),
    "empty": (lambda probs, p: np.zeros(probs.shape, bool), "you kept no token"),
    "all": (lambda probs, p: np.ones(probs.shape, bool), "but fewer tokens do too"),
    "not the most probable": (
        lambda probs, p: np.array([0, 1, 0, 1, 0], bool) if p == 0.5 else reference_mask(probs, p),
        "keep the most probable tokens",
    ),
    "two too few": (
        lambda probs, p: (
            sorted_mask(probs, p, lambda c, x: np.arange(len(x)) < 3)
            if len(probs) == 10
            else reference_mask(probs, p)
        ),
        "their mass is 0.66 < p",
    ),
    "row": (lambda probs, p: reference_mask(probs, p)[None], "shape (1, 5)"),
    "None": (lambda probs, p: None, "forget a `return`"),
    "nan": (lambda probs, p: np.full(probs.shape, np.nan), "NaN"),
}


@pytest.mark.parametrize("name", sorted(WRONG_2_6))
def test_wrong_answers_to_2_6(name):
    assert_wrong("2.6", *WRONG_2_6[name])


def test_2_6_accepts_integer_masks_and_the_sampling_module():
    assert check("2.6", lambda probs, p: reference_mask(probs, p).astype(int)).passed
    assert check("2.6", lambda probs, p: jnp.asarray(reference_mask(probs, p))).passed

    def via_sampling(probs, p):
        with np.errstate(divide="ignore"):
            return np.isfinite(np.asarray(sampling.top_p_logits(np.log(probs), p)))

    assert check("2.6", via_sampling).passed
