"""physml.sampling: every sampler against the exact (filtered, tempered) softmax by a χ² test
with a fixed key; the filters against brute-force enumeration; the entropy-targeted
temperature against its target.

Each χ² test draws 20 000 tokens and fails when the p-value is below ALPHA = 1e-3: with a
random key, a correct sampler would fail one such test with probability 1e-3 (23 of them
here: about 2e-2 for the whole file). The key is fixed, so the outcome is deterministic.
The power tests show that the same test rejects draws from a wrong distribution, and that
it would for almost any key (non-central χ²)."""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from physml import sampling
from physml.softmax import entropy

INF = float("inf")
DRAWS = 20_000
ALPHA = 1e-3

#: Ties (two logits of 1.0), a masked token, and a spread of probabilities.
LOGITS = [2.0, 1.0, 0.5, -INF, 0.0, -1.5, 1.0]


def tempered(logits, T=1.0):
    """Exact softmax probabilities at temperature T in NumPy (masked logits: probability 0)."""
    z = np.asarray(logits, dtype=float)
    w = np.where(np.isfinite(z), np.exp((z - z.max()) / T), 0.0)
    return w / w.sum()


def restricted(probabilities, kept):
    """The distribution renormalized on the set ``kept`` (indices)."""
    p = np.zeros_like(probabilities)
    p[list(kept)] = probabilities[list(kept)]
    return p / p.sum()


def chi2_pvalue(tokens, probabilities):
    """χ² p-value of the token counts against ``probabilities``; tokens of probability 0
    must never be drawn. Cells expected fewer than 5 times are pooled."""
    tokens = np.asarray(tokens).ravel()
    counts = np.bincount(tokens, minlength=len(probabilities))
    assert len(counts) == len(probabilities), "a token outside the vocabulary"
    impossible = probabilities == 0
    assert counts[impossible].sum() == 0, f"drew impossible tokens: {counts}"
    expected = probabilities[~impossible] * tokens.size
    observed = counts[~impossible]
    if observed.size == 1:
        return 1.0  # a single possible token, drawn every time
    small = expected < 5
    if small.any():
        observed = np.r_[observed[~small], observed[small].sum()]
        expected = np.r_[expected[~small], expected[small].sum()]
    return stats.chisquare(observed, expected).pvalue


def draws(sampler, logits, seed=0):
    return np.asarray(sampling.sample_many(sampler, jax.random.key(seed), jnp.array(logits), DRAWS))


def top_k_by_sorting(logits, k):
    """The k largest logits, ties by lower index (the documented rule)."""
    return set(sorted(range(len(logits)), key=lambda i: (-logits[i], i))[:k])


def nucleus_by_enumeration(probabilities, p):
    """The smallest set of tokens with mass >= p, by enumerating all subsets: among sets of
    the minimal size, the most probable one; among equally probable ones, the lowest indices.
    Masses are exact sums (math.fsum) of the given probabilities."""
    n = len(probabilities)
    for size in range(1, n + 1):
        sets = [s for s in itertools.combinations(range(n), size) if math.fsum(probabilities[list(s)]) >= p]
        if sets:
            return set(max(sets, key=lambda s: (math.fsum(probabilities[list(s)]), [-i for i in s])))
    raise AssertionError("no set reaches p")


def kept(filtered, logits):
    filtered, logits = np.asarray(filtered), np.asarray(logits)
    assert np.all((filtered == logits) | (filtered == -INF)), "a filter only masks, it never changes a logit"
    return {i for i in range(len(logits)) if filtered[i] > -INF}


# ----------------------------------------------------------------------------- χ² tests


@pytest.mark.parametrize("T", [0.3, 1.0, 3.0])
def test_temperature_sampler_draws_the_tempered_softmax(T):
    assert chi2_pvalue(draws(sampling.temperature(T), LOGITS), tempered(LOGITS, T)) > ALPHA


@pytest.mark.parametrize(("k", "T"), [(1, 1.0), (3, 0.7), (4, 2.0)])
def test_top_k_sampler_draws_the_tempered_softmax_of_the_k_largest(k, T):
    expected = restricted(tempered(LOGITS, T), top_k_by_sorting(LOGITS, k))
    assert chi2_pvalue(draws(sampling.top_k(k, T), LOGITS), expected) > ALPHA


@pytest.mark.parametrize(("p", "T"), [(0.5, 1.0), (0.8, 1.5), (0.95, 0.5), (1.0, 2.0)])
def test_top_p_sampler_draws_the_tempered_nucleus(p, T):
    probabilities = tempered(LOGITS, T)
    nucleus = nucleus_by_enumeration(probabilities, p) if p < 1 else set(np.flatnonzero(probabilities))
    assert chi2_pvalue(draws(sampling.top_p(p, T), LOGITS), restricted(probabilities, nucleus)) > ALPHA


@pytest.mark.parametrize("target", [0.3, 1.0, 1.6])
def test_entropy_targeted_sampler_draws_at_the_temperature_of_its_entropy(target):
    T = float(sampling.temperature_for_entropy(jnp.array(LOGITS), target))
    probabilities = tempered(LOGITS, T)
    assert stats.entropy(probabilities) == pytest.approx(target, abs=1e-8)
    assert chi2_pvalue(draws(sampling.entropy_targeted(target), LOGITS), probabilities) > ALPHA


def test_entropy_targeted_sampler_at_unreachable_targets_draws_the_limits():
    """Below ln m: uniform over the m maximal logits; above ln n_f: uniform over the finite ones."""
    tied = [1.0, 3.0, -INF, 3.0, 0.0]
    coldest = np.array([0, 0.5, 0, 0.5, 0])
    for target in (0.0, 0.5, math.log(2)):
        assert chi2_pvalue(draws(sampling.entropy_targeted(target), tied), coldest) > ALPHA
    hottest = np.array([0.25, 0.25, 0, 0.25, 0.25])
    for target in (math.log(4), 3.0, INF):
        assert chi2_pvalue(draws(sampling.entropy_targeted(target), tied), hottest) > ALPHA
    assert set(draws(sampling.entropy_targeted(0.0), LOGITS, seed=3)) == {0}  # a unique maximum


def test_batched_logits_give_one_independent_draw_per_row():
    rows = jnp.array([LOGITS, LOGITS[::-1], [0.0] * 7])
    tokens = draws(sampling.temperature(0.8), rows)
    assert tokens.shape == (DRAWS, 3)
    for row, logits in enumerate(np.asarray(rows)):
        assert chi2_pvalue(tokens[:, row], tempered(logits, 0.8)) > ALPHA
    # The rows are independent: χ² test of the joint counts of rows 0 and 2 (impossible
    # tokens dropped), false-failure rate ALPHA.
    joint = np.zeros((7, 7))
    np.add.at(joint, (tokens[:, 0], tokens[:, 2]), 1)
    joint = joint[joint.sum(axis=1) > 0]
    assert stats.chi2_contingency(joint).pvalue > ALPHA


def noncentrality(probabilities, wrong):
    """λ = N Σ (p - q)^2 / q: the mean of the χ² statistic is df + λ when tokens come from p."""
    support = wrong > 0
    return DRAWS * np.sum((probabilities[support] - wrong[support]) ** 2 / wrong[support])


NUCLEUS = restricted(tempered(LOGITS), {0, 1, 2, 6})  # p = 0.9 at T = 1 keeps these four


@pytest.mark.parametrize(
    ("sampler", "truth", "wrong"),
    [
        (sampling.temperature(1.0), tempered(LOGITS, 1.0), tempered(LOGITS, 1.2)),
        (sampling.top_p(0.9, 1.0), NUCLEUS, tempered(LOGITS, 1.0)),
    ],
    ids=["temperature 1.0 vs 1.2", "top-p 0.9 vs no filter"],
)
def test_the_chi2_test_rejects_a_wrong_distribution(sampler, truth, wrong):
    """Draws at T = 1.0 fail against the T = 1.2 probabilities, and nucleus draws fail
    against the unfiltered softmax; for any key, the rejection probability (power) of the
    test exceeds 0.999."""
    assert nucleus_by_enumeration(tempered(LOGITS), 0.9) == {0, 1, 2, 6}
    df = np.count_nonzero(wrong) - 1
    power = stats.ncx2.sf(stats.chi2.isf(ALPHA, df), df, noncentrality(truth, wrong))
    assert power > 0.999
    assert chi2_pvalue(draws(sampler, LOGITS), wrong) < ALPHA


def test_the_chi2_test_rejects_a_wrong_entropy_target():
    """Draws at S* = 1.0 fail against the distribution of S* = 1.15 (power > 0.999)."""
    truth, wrong = (
        tempered(LOGITS, float(sampling.temperature_for_entropy(jnp.array(LOGITS), s))) for s in (1.0, 1.15)
    )
    df = np.count_nonzero(wrong) - 1
    assert stats.ncx2.sf(stats.chi2.isf(ALPHA, df), df, noncentrality(truth, wrong)) > 0.999
    assert chi2_pvalue(draws(sampling.entropy_targeted(1.0), LOGITS), wrong) < ALPHA


# ----------------------------------------------------------------------------- greedy, jit


def test_greedy_ignores_the_key_and_takes_the_lowest_index_among_ties():
    sampler = sampling.greedy()
    z = jnp.array([1.0, 3.0, 2.0, 3.0, -INF])
    tokens = {int(sampler(jax.random.key(seed), z)) for seed in range(5)} | {int(sampler(None, z))}
    assert tokens == {1}
    assert np.asarray(sampler(None, jnp.array([[0.0, 1.0], [5.0, -1.0]]))).tolist() == [1, 0]
    assert set(np.asarray(sampling.sample_many(sampler, jax.random.key(0), z, 50)).tolist()) == {1}


@pytest.mark.parametrize(
    ("factory", "values"),
    [
        (sampling.temperature, [0.25, 1.0, 4.0]),
        (sampling.top_k, [1, 2, 4]),
        (sampling.top_p, [0.5, 0.9, 1.0]),
        (sampling.entropy_targeted, [0.1, 1.0, 1.7]),
    ],
    ids=["temperature", "top_k", "top_p", "entropy_targeted"],
)
def test_samplers_work_under_jit_vmap_and_scan_as_functions_of_the_key(factory, values):
    """What a language model does with samplers: a sweep over a parameter calls the factory
    with a traced value inside jit and vmap (one compilation), and decoding calls the sampler
    inside lax.scan. Every route gives the same tokens for the same keys."""
    z, key = jnp.array(LOGITS), jax.random.key(2)
    sweep = jax.jit(jax.vmap(lambda v: sampling.sample_many(factory(v), key, z, 32)))
    swept = np.asarray(sweep(jnp.asarray(values)))
    for row, value in zip(swept, values, strict=True):
        assert np.array_equal(row, np.asarray(sampling.sample_many(factory(value), key, z, 32)))
    sampler = factory(values[1])
    keys = jax.random.split(key, 32)
    scan = jax.jit(lambda keys: jax.lax.scan(lambda c, k: (c, sampler(k, z)), 0, keys)[1])
    assert np.array_equal(np.asarray(scan(keys)), swept[1])
    assert [int(sampler(k, z)) for k in keys[:3]] == swept[1, :3].tolist()
    assert np.issubdtype(swept.dtype, np.integer) and len(set(swept[1].tolist())) > 1


def test_bad_arguments_are_rejected_when_the_sampler_is_made():
    for T in (0.0, -1.0, INF, float("nan")):
        with pytest.raises(ValueError, match="positive, finite temperature"):
            sampling.temperature(T)
        with pytest.raises(ValueError, match="positive, finite temperature"):
            sampling.top_k(2, T)
    for k in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            sampling.top_k(k)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        jax.jit(lambda k: sampling.top_k(k)(jax.random.key(0), jnp.array(LOGITS)))(2.0)
    for p in (0.0, -0.1, 1.01, float("nan")):
        with pytest.raises(ValueError, match="0 < p <= 1"):
            sampling.top_p(p)
    for target in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="entropy in nats"):
            sampling.entropy_targeted(target)
        with pytest.raises(ValueError, match="entropy in nats"):
            sampling.temperature_for_entropy(jnp.array(LOGITS), target)
    with pytest.raises(ValueError, match="count must be a positive integer"):
        sampling.sample_many(sampling.greedy(), jax.random.key(0), jnp.array(LOGITS), 0)
    with pytest.raises(ValueError, match="last axis"):
        sampling.temperature(1.0)(jax.random.key(0), jnp.array(2.0))


# ----------------------------------------------------------------------------- filters


def test_top_k_keeps_exactly_k_with_ties_by_index():
    z = [1.0, 3.0, 2.0, 3.0]
    assert np.asarray(sampling.top_k_logits(jnp.array(z), 2)).tolist() == [-INF, 3.0, -INF, 3.0]
    assert np.asarray(sampling.top_k_logits(jnp.array(z), 1)).tolist() == [-INF, 3.0, -INF, -INF]
    assert np.asarray(sampling.top_k_logits(jnp.array(z), 9)).tolist() == z
    batch = np.asarray(sampling.top_k_logits(jnp.array([z, z[::-1]]), 3))
    assert batch.tolist() == [[-INF, 3.0, 2.0, 3.0], [3.0, 2.0, 3.0, -INF]]


SMALL_LOGIT = st.integers(-3, 3).map(float) | st.just(-INF)


def small_logits(max_size):
    return st.lists(SMALL_LOGIT, min_size=1, max_size=max_size).filter(lambda v: max(v) > -INF)


@given(z=small_logits(10), k=st.integers(1, 12))
def test_top_k_keeps_the_k_largest(z, k):
    filtered = np.asarray(sampling.top_k_logits(jnp.array(z), k))
    expected = top_k_by_sorting(z, k)
    assert all(filtered[i] == z[i] for i in expected)
    assert all(filtered[i] == -INF for i in set(range(len(z))) - expected)
    assert len(kept(filtered, z)) == min(k, sum(x > -INF for x in z))


@given(z=small_logits(7), p=st.floats(0.01, 0.999))
def test_top_p_keeps_the_smallest_set_with_mass_at_least_p(z, p):
    probabilities = np.asarray(jax.nn.softmax(jnp.array(z)))
    subsets = itertools.chain.from_iterable(
        itertools.combinations(range(len(z)), r) for r in range(len(z) + 1)
    )
    masses = np.array([math.fsum(probabilities[list(s)]) for s in subsets])
    assume(np.min(np.abs(masses - p)) > 1e-9)  # rounding cannot decide which side p is on
    assert kept(sampling.top_p_logits(jnp.array(z), p), z) == nucleus_by_enumeration(probabilities, p)


@pytest.mark.parametrize(
    ("z", "p", "expected"),
    [
        ([0.0, 0.0, 0.0, 0.0], 0.25, {0}),  # masses exact in binary: p reached exactly
        ([0.0, 0.0, 0.0, 0.0], 0.5, {0, 1}),
        ([0.0, 0.0, 0.0, 0.0], 0.5000001, {0, 1, 2}),
        ([0.0, 0.0, 0.0, 0.0], 0.75, {0, 1, 2}),
        ([0.0, 0.0, 0.0, 0.0], 1.0, {0, 1, 2, 3}),
        ([0.0, 0.0, -INF, 0.0, 0.0], 0.5, {0, 1}),
        ([0.0, 0.0, -INF, 0.0, 0.0], 1.0, {0, 1, 3, 4}),
        ([1.0, 2.0, 2.0, 0.0], 0.6, {1, 2}),  # tie at the top
        ([2.0, 1.0, 1.0, 1.0, 0.0], 0.75, {0, 1, 2}),  # tie at the boundary: lower indices
        ([0.0, -800.0], 0.999, {0}),
        ([0.0, -800.0], 1.0, {0, 1}),  # p = 1 keeps every token of positive probability
    ],
)
def test_top_p_designed_cases(z, p, expected):
    assert kept(sampling.top_p_logits(jnp.array(z), p), z) == expected
    probabilities = np.asarray(jax.nn.softmax(jnp.array(z)))
    if p < 1:
        assert nucleus_by_enumeration(probabilities, p) == expected
    else:  # exact arithmetic: the smallest set of mass 1 is the support, every finite logit
        assert expected == {i for i, x in enumerate(z) if x > -INF}


def test_top_p_is_the_tie_break_of_the_mass_threshold():
    """p exactly the mass of the most probable token keeps only it; a hair more adds the next."""
    z = jnp.array([1.0, 2.0, 2.0, 0.0])
    top = float(jax.nn.softmax(z)[1])
    assert kept(sampling.top_p_logits(z, top), np.asarray(z)) == {1}
    assert kept(sampling.top_p_logits(z, np.nextafter(top, 1.0)), np.asarray(z)) == {1, 2}
    assert kept(sampling.top_p_logits(z, 2 * top), np.asarray(z)) == {1, 2}
    assert kept(sampling.top_p_logits(z, np.nextafter(2 * top, 1.0)), np.asarray(z)) == {0, 1, 2}


def test_top_p_takes_batches():
    z = jnp.array([[0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, -INF]])
    filtered = np.asarray(sampling.top_p_logits(z, 0.5))
    assert filtered.tolist() == [[0.0, 0.0, -INF, -INF], [3.0, -INF, -INF, -INF]]


# ----------------------------------------------------------------------------- fixed entropy


def random_logits(seed, scale, n=12, masked=(2, 7, 11)):
    z = scale * np.asarray(jax.random.normal(jax.random.key(seed), (n,)))
    z[list(masked)] = -INF
    return z


@pytest.mark.parametrize("scale", [1e-2, 1.0, 1e2, 1e4])
@pytest.mark.parametrize("ties", [False, True])
def test_temperature_for_entropy_reproduces_the_target(scale, ties):
    z = random_logits(int(scale * 10) + ties, scale)
    if ties:
        z[0] = z[5] = np.max(z) + scale  # two maximal logits: S ranges over (ln 2, ln 9)
    m, n_finite = (2 if ties else 1), int(np.isfinite(z).sum())
    lo, hi = math.log(m), math.log(n_finite)
    for fraction in (1e-3, 0.1, 0.5, 0.9, 0.999):
        target = lo + fraction * (hi - lo)
        T = float(sampling.temperature_for_entropy(jnp.array(z), target))
        assert 0 < T < INF
        assert float(entropy(jnp.array(z), T)) == pytest.approx(target, abs=1e-8)
        assert stats.entropy(tempered(z, T)) == pytest.approx(target, abs=1e-8)  # NumPy, independently


def test_temperature_for_entropy_clamps_unreachable_targets_to_the_exact_limits():
    """S(T) covers (ln m, ln n_f): a target at or below ln m gives T = 0, at or above
    ln n_f gives T = inf."""
    z = jnp.array([1.0, 3.0, -INF, 3.0, 0.0])
    T = lambda target: float(sampling.temperature_for_entropy(z, target))
    assert T(0.0) == 0.0
    assert T(math.log(2)) == 0.0
    assert 0.0 < T(math.log(2) + 1e-6) < T(math.log(4) - 1e-6) < INF
    assert T(math.log(4)) == INF
    assert T(10.0) == INF
    assert T(INF) == INF
    same = jnp.array([0.5, 0.5, -INF])  # S = ln 2 at every T
    assert float(sampling.temperature_for_entropy(same, 0.1)) == 0.0
    assert float(sampling.temperature_for_entropy(same, 1.0)) == INF


def test_temperature_for_entropy_takes_batches_and_masked_rows():
    rows = np.stack([random_logits(1, 1.0), random_logits(2, 1e4), np.r_[[0.0, 0.0], [-INF] * 10]])
    T = np.asarray(sampling.temperature_for_entropy(jnp.array(rows), 0.6))
    assert T.shape == (3,)
    for row, t in zip(rows, T, strict=True):
        assert t == float(sampling.temperature_for_entropy(jnp.array(row), 0.6))
    assert T[2] == 0.0  # ln 2 > 0.6: the two tied logits
    for row, t in zip(rows[:2], T[:2], strict=True):
        assert float(entropy(jnp.array(row), t)) == pytest.approx(0.6, abs=1e-8)


def test_old_positional_signatures_still_work():
    z = jnp.array(LOGITS)
    T = float(sampling.temperature_for_entropy(z, 1.0, 128))
    assert float(entropy(z, T)) == pytest.approx(1.0, abs=1e-8)
    key = jax.random.key(0)
    for sampler in (sampling.top_k(3, 0.5), sampling.top_p(0.9, 1.0), sampling.entropy_targeted(1.0)):
        assert 0 <= int(sampler(key, z)) < len(LOGITS)
