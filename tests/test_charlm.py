"""physml.charlm against exact results: counts by hand, a manual forward pass, step-by-step decoding."""

from __future__ import annotations

import math
from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp

from physml import charlm, sampling
from physml.corpus import BOOK_TEXT

# Samplers made once, so that each decoding loop compiles once for the whole file.
GREEDY = sampling.greedy()
COLD = sampling.temperature(1e-4)
WARM = sampling.temperature(1.0)

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def book():
    """The corpus, its vocabulary and its two splits as token ids."""
    vocab = charlm.vocabulary(BOOK_TEXT)
    train_text, heldout_text = charlm.split_text(BOOK_TEXT)
    return vocab, charlm.encode(vocab, train_text), charlm.encode(vocab, heldout_text)


def train_small_mlp(book):
    vocab, train_tokens, heldout_tokens = book
    model = charlm.mlp(jax.random.key(1), vocab, context=3, embedding=16, hidden=64)
    return charlm.train(
        jax.random.key(2),
        model,
        train_tokens,
        heldout_tokens,
        steps=300,
        batch_size=128,
        learning_rate=1e-2,
        weight_decay=0.0,
        eval_every=75,
    )


@pytest.fixture(scope="module")
def small_mlp(book):
    """A small MLP trained briefly on the corpus (about a second), with its history."""
    return train_small_mlp(book)


# ----------------------------------------------------------------------------- corpus and vocabulary


def test_corpus_is_lower_case_prose_in_a_small_alphabet():
    assert 20_000 < len(BOOK_TEXT) < 60_000
    assert set(BOOK_TEXT) <= set(" '(),-.:;?0123456789abcdefghijklmnopqrstuvwxyz")
    assert "  " not in BOOK_TEXT and BOOK_TEXT == BOOK_TEXT.strip()
    assert "boltzmann distribution" in BOOK_TEXT


def test_vocabulary_is_sorted_and_pads_with_the_space(book):
    vocab, *_ = book
    assert vocab.chars == "".join(sorted(set(BOOK_TEXT)))
    assert vocab.size == len(set(BOOK_TEXT)) == 46
    assert vocab.chars[0] == " "  # the padding character of every context
    assert charlm.vocabulary("hello world") == charlm.Vocabulary(" dehlorw")


@given(st.text(alphabet=" abcxyz.", max_size=60))
def test_encode_decode_round_trip(text):
    vocab = charlm.Vocabulary(" .abcxyz")
    tokens = charlm.encode(vocab, text)
    assert tokens.shape == (len(text),)
    assert charlm.decode(vocab, tokens) == text
    assert [vocab.chars[i] for i in np.asarray(tokens)] == list(text)


def test_encode_decode_errors():
    vocab = charlm.vocabulary("abc ")
    with pytest.raises(ValueError, match=r"not in the vocabulary of 4: 'XZ' \(first at position 2\)"):
        charlm.encode(vocab, "abXcZ")
    with pytest.raises(ValueError, match="takes a string"):
        charlm.encode(vocab, [0, 1])
    with pytest.raises(ValueError, match=r"in \[0, 4\), got 4"):
        charlm.decode(vocab, [0, 4])
    with pytest.raises(ValueError, match=r"in \[0, 4\), got -1"):
        charlm.decode(vocab, np.array([-1]))
    with pytest.raises(ValueError, match="1-D array of integer ids"):
        charlm.decode(vocab, np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="1-D array of integer ids"):
        charlm.decode(vocab, np.array([0.5]))
    with pytest.raises(ValueError, match="non-empty string"):
        charlm.vocabulary("")


def test_split_text():
    assert charlm.split_text("abcdefghij", 0.2) == ("abcdefgh", "ij")
    train_text, heldout_text = charlm.split_text(BOOK_TEXT)
    assert train_text + heldout_text == BOOK_TEXT
    assert len(heldout_text) == pytest.approx(0.1 * len(BOOK_TEXT), abs=1)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match=r"heldout_fraction must be in \(0, 1\)"):
            charlm.split_text("abcdef", bad)
    with pytest.raises(ValueError, match="too short to split"):
        charlm.split_text("ab", 0.1)


def test_context_windows_by_hand():
    windows = charlm.context_windows(jnp.array([5, 6, 7, 8]), 3, pad=9)
    assert windows.tolist() == [[9, 9, 9], [9, 9, 5], [9, 5, 6], [5, 6, 7]]
    assert charlm.context_windows(jnp.array([5, 6]), 0).shape == (2, 0)


# ----------------------------------------------------------------------------- count models


def test_bigram_is_the_log_of_smoothed_counts_by_hand():
    # vocabulary " ab" (ids 0, 1, 2); "abba" padded in front by " " gives the pairs
    # " a", "ab", "bb", "ba": c(" ",a) = c(a,b) = c(b,b) = c(b,a) = 1, everything else 0.
    vocab = charlm.Vocabulary(" ab")
    model = charlm.bigram(charlm.encode(vocab, "abba"), vocab, alpha=0.5)
    p = np.exp(np.asarray(model.log_probs))
    # p(i | j) = (c(j, i) + 1/2) / (c(j) + 3/2)
    expected = np.array(
        [
            [0.5 / 2.5, 1.5 / 2.5, 0.5 / 2.5],  # after " ": c = 1 (" a")
            [0.5 / 2.5, 0.5 / 2.5, 1.5 / 2.5],  # after "a": c = 1 ("ab")
            [0.5 / 3.5, 1.5 / 3.5, 1.5 / 3.5],  # after "b": c = 2 ("ba", "bb")
        ]
    )
    np.testing.assert_allclose(p, expected, rtol=1e-14)
    np.testing.assert_allclose(model.log_probs, np.log(expected), rtol=1e-14)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("alpha", [0.1, 1.0])
def test_ngram_is_the_log_of_smoothed_counts(order, alpha):
    text = "the cat sat on the mat. the hat."
    vocab = charlm.vocabulary(text)
    model = charlm.ngram(charlm.encode(vocab, text), vocab, order=order, alpha=alpha)
    padded = " " * (order - 1) + text
    grams = Counter(padded[t : t + order] for t in range(len(text)))
    histories = Counter(padded[t : t + order - 1] for t in range(len(text)))
    V = vocab.size
    for gram in ["the", "at.", "zzz", " th", "t.t"]:
        gram = gram[-order:]
        if not set(gram) <= set(vocab.chars):
            continue
        ids = tuple(vocab.chars.index(c) for c in gram)
        exact = math.log((grams[gram] + alpha) / (histories[gram[:-1]] + alpha * V))
        assert float(model.log_probs[ids]) == pytest.approx(exact, rel=1e-13)
    assert model.context == order - 1


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_probabilities_sum_to_one(book, order):
    vocab, train_tokens, _ = book
    model = charlm.ngram(train_tokens, vocab, order=order)
    assert model.log_probs.shape == (vocab.size,) * order
    np.testing.assert_allclose(jnp.exp(model.log_probs).sum(-1), 1.0, rtol=1e-12)


def test_uniform_cross_entropy_is_log_V(book):
    vocab, _, heldout_tokens = book
    assert float(charlm.cross_entropy(charlm.uniform(vocab), heldout_tokens)) == pytest.approx(
        math.log(46), rel=1e-14
    )


def test_bigram_cross_entropy_by_hand():
    train_text, heldout_text = "abba ab a", "ba ab"
    vocab = charlm.vocabulary(train_text)
    model = charlm.bigram(charlm.encode(vocab, train_text), vocab, alpha=1.0)
    pairs = Counter(zip(" " + train_text[:-1], train_text, strict=True))
    firsts = Counter(" " + train_text[:-1])
    by_hand = -np.mean(
        [
            math.log((pairs[(prev, c)] + 1) / (firsts[prev] + 3))
            for prev, c in zip(" " + heldout_text[:-1], heldout_text, strict=True)
        ]
    )
    tokens = charlm.encode(vocab, heldout_text)
    assert float(charlm.cross_entropy(model, tokens)) == pytest.approx(by_hand, rel=1e-14)
    assert charlm.log_likelihood_per_char(model, heldout_text) == pytest.approx(-by_hand, rel=1e-14)


def test_log_likelihood_continues_the_prompt():
    vocab = charlm.vocabulary("abc ")
    model = charlm.bigram(charlm.encode(vocab, "abcabcab cba"), vocab)
    # "ca" after the prompt "ab": p(c | b) p(a | c); without a prompt: p(c | " ") p(a | c).
    lp = np.asarray(model.log_probs)
    i = {c: vocab.chars.index(c) for c in vocab.chars}
    with_prompt = (lp[i["b"], i["c"]] + lp[i["c"], i["a"]]) / 2
    without = (lp[i[" "], i["c"]] + lp[i["c"], i["a"]]) / 2
    assert charlm.log_likelihood_per_char(model, "ca", prompt="ab") == pytest.approx(with_prompt, rel=1e-14)
    assert charlm.log_likelihood_per_char(model, "ca") == pytest.approx(without, rel=1e-14)
    np.testing.assert_array_equal(charlm.next_logits(model, "ab"), lp[i["b"]])
    np.testing.assert_array_equal(charlm.next_logits(model, ""), lp[i[" "]])
    with pytest.raises(ValueError, match="non-empty text"):
        charlm.log_likelihood_per_char(model, "")


def test_count_model_errors():
    vocab = charlm.vocabulary("ab")
    tokens = charlm.encode(vocab, "abab")
    with pytest.raises(ValueError, match="alpha must be positive"):
        charlm.ngram(tokens, vocab, alpha=0.0)
    with pytest.raises(ValueError, match="order must be >= 1"):
        charlm.ngram(tokens, vocab, order=0)
    with pytest.raises(ValueError, match="order must be >= 1 with V"):
        charlm.ngram(tokens, charlm.vocabulary(BOOK_TEXT), order=5)
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        charlm.cross_entropy(charlm.uniform(vocab), jnp.zeros(0, dtype=int))


# ----------------------------------------------------------------------------- the MLP


def test_mlp_loss_is_the_mean_cross_entropy_of_a_manual_forward_pass(small_mlp):
    model, _ = small_mlp
    windows = np.array([[0, 0, 1], [11, 2, 30], [45, 45, 45], [4, 0, 22]])
    targets = np.array([2, 44, 0, 5])
    E = np.asarray(model.embedding)
    W1, b1 = np.asarray(model.hidden.weight), np.asarray(model.hidden.bias)
    W2, b2 = np.asarray(model.output.weight), np.asarray(model.output.bias)
    assert E.shape == (46, 16) and W1.shape == (64, 3 * 16) and W2.shape == (46, 64)
    losses = []
    for window, y in zip(windows, targets, strict=True):
        x = np.concatenate([E[c] for c in window])
        z = W2 @ np.tanh(W1 @ x + b1) + b2
        losses.append(logsumexp(z) - z[y])
    assert model.context == 3
    assert float(charlm.loss(model, windows, targets)) == pytest.approx(np.mean(losses), rel=1e-13)


def test_mlp_cross_entropy_matches_its_loss_on_every_window(small_mlp, book):
    model, _ = small_mlp
    _, _, heldout_tokens = book
    windows = charlm.context_windows(heldout_tokens, model.context)
    assert float(charlm.cross_entropy(model, heldout_tokens)) == pytest.approx(
        float(charlm.loss(model, windows, heldout_tokens)), rel=1e-12
    )


def test_training_beats_the_bigram_on_held_out_text(small_mlp, book):
    # Measured with these keys (float64): held-out loss 2.33 -> 2.11 nats/char over 300
    # steps, against 2.46 for the add-one bigram and ln 46 = 3.83 for the uniform model.
    vocab, train_tokens, heldout_tokens = book
    model, history = small_mlp
    bigram = float(charlm.cross_entropy(charlm.bigram(train_tokens, vocab), heldout_tokens))
    assert history.steps.tolist() == [75, 150, 225, 300]
    assert np.all(np.diff(np.asarray(history.heldout_loss)) < 0)
    assert float(history.heldout_loss[-1]) < bigram < math.log(vocab.size)
    assert float(history.heldout_loss[-1]) == pytest.approx(
        float(charlm.cross_entropy(model, heldout_tokens))
    )


def test_training_is_deterministic(small_mlp, book):
    again = train_small_mlp(book)
    for a, b in zip(jax.tree.leaves(small_mlp), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(a, b)


def test_mlp_and_train_errors(small_mlp, book):
    vocab, train_tokens, heldout_tokens = book
    for sizes in ({"context": 0}, {"embedding": 0}, {"hidden": -1}):
        with pytest.raises(ValueError, match="context, embedding and hidden must be >= 1"):
            charlm.mlp(jax.random.key(0), vocab, **sizes)
    model, _ = small_mlp
    with pytest.raises(ValueError, match="multiple of eval_every"):
        charlm.train(jax.random.key(0), model, train_tokens, heldout_tokens, steps=150, eval_every=100)
    with pytest.raises(ValueError, match="must be >= 1"):
        charlm.train(jax.random.key(0), model, train_tokens, heldout_tokens, batch_size=0)


@pytest.mark.slow
def test_default_model_beats_every_count_model(book):
    # Measured (float64, these keys): 1.45 nats/char held out after 2000 steps (a few
    # seconds), against 2.98 (unigram), 2.46 (bigram) and 1.65 for the best 4-gram we
    # tried (alpha = 0.01).
    vocab, train_tokens, heldout_tokens = book
    _, history = charlm.train(
        jax.random.key(2), charlm.mlp(jax.random.key(1), vocab), train_tokens, heldout_tokens
    )
    best_count_model = min(
        float(charlm.cross_entropy(charlm.ngram(train_tokens, vocab, order, alpha), heldout_tokens))
        for order in (1, 2, 3, 4)
        for alpha in (0.01, 0.1, 1.0)
    )
    assert float(history.heldout_loss[-1]) < best_count_model


# ----------------------------------------------------------------------------- decoding


def greedy_step_by_step(model, prompt_tokens, length):
    """Repeated argmax, one model call per character, no scan."""
    tokens = [0] * model.context + list(np.asarray(prompt_tokens))
    out = []
    for _ in range(length):
        context = jnp.array(tokens[len(tokens) - model.context :], dtype=jnp.int32)
        token = int(np.argmax(np.asarray(model(context))))
        tokens.append(token)
        out.append(token)
    return out


def test_greedy_generation_is_repeated_argmax(small_mlp):
    model, _ = small_mlp
    prompt = charlm.encode(model.vocab, "the boltzmann ")
    a = charlm.generate_tokens(jax.random.key(0), model, prompt, 60, GREEDY)
    b = charlm.generate_tokens(jax.random.key(1), model, prompt, 60, GREEDY)
    np.testing.assert_array_equal(a, b)
    assert a.tolist() == greedy_step_by_step(model, prompt, 60)
    text = charlm.generate(jax.random.key(2), model, "the boltzmann ", 60, GREEDY)
    assert text == charlm.decode(model.vocab, a)


def test_greedy_generation_from_an_empty_prompt_and_a_unigram(book):
    vocab, train_tokens, _ = book
    bigram = charlm.bigram(train_tokens, vocab)
    tokens = charlm.generate_tokens(jax.random.key(0), bigram, jnp.zeros(0, dtype=int), 30, GREEDY)
    assert tokens.tolist() == greedy_step_by_step(bigram, [], 30)
    unigram = charlm.ngram(train_tokens, vocab, order=1)
    text = charlm.generate(jax.random.key(0), unigram, "", 5, GREEDY)
    assert text == " " * 5  # the most frequent character, every time


def test_cold_temperature_sampling_is_greedy(small_mlp):
    model, _ = small_mlp
    prompt = charlm.encode(model.vocab, "the ")
    greedy = charlm.generate_tokens(jax.random.key(0), model, prompt, 60, GREEDY)
    T = 1e-4  # COLD
    # On the greedy path the top logit leads the next by at least `gap`, so a draw at T
    # differs from the argmax with probability at most (V - 1) e^{-gap/T} per step.
    windows = charlm.context_windows(jnp.concatenate([prompt, greedy]), model.context)[len(prompt) :]
    logits = np.sort(np.asarray(jax.vmap(model)(windows)), axis=1)
    gap = float(np.min(logits[:, -1] - logits[:, -2]))
    assert 60 * model.vocab.size * math.exp(-gap / T) < 1e-9
    for seed in range(3):
        cold = charlm.generate_tokens(jax.random.key(seed), model, prompt, 60, COLD)
        np.testing.assert_array_equal(cold, greedy)


def test_generated_bigram_transitions_follow_the_model():
    # A bigram model over 3 characters, sampled at T = 1 for 30 000 steps: the transition
    # counts out of each character are multinomial with the model's row as probabilities.
    # chi^2 test with p > 1e-3 (fixed key; false-failure rate 1e-3 per row, 3e-3 in all).
    vocab = charlm.vocabulary("ab ")
    model = charlm.bigram(charlm.encode(vocab, "aab ab bba aaa b"), vocab, alpha=0.5)
    tokens = np.asarray(charlm.generate_tokens(jax.random.key(7), model, jnp.array([0]), 30_000, WARM))
    previous = np.concatenate([[0], tokens[:-1]])
    p = np.exp(np.asarray(model.log_probs))
    for j in range(3):
        counts = np.bincount(tokens[previous == j], minlength=3)
        assert stats.chisquare(counts, counts.sum() * p[j]).pvalue > 1e-3


def test_generate_errors(small_mlp):
    model, _ = small_mlp
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="length must be a positive integer"):
            charlm.generate(jax.random.key(0), model, "the", bad, GREEDY)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        charlm.generate(jax.random.key(0), model, "The", 5, GREEDY)


# ----------------------------------------------------------------------------- decoding metrics


def test_distinct_ngrams_by_hand():
    assert charlm.distinct_ngrams("aaaa", 1) == 1 / 4
    assert charlm.distinct_ngrams("aaaa", 2) == 1 / 3
    assert charlm.distinct_ngrams("abcd", 2) == 1.0
    assert charlm.distinct_ngrams("abab", 2) == 2 / 3  # ab, ba, ab
    assert charlm.distinct_ngrams("abcabc", 3) == 3 / 4  # abc, bca, cab, abc
    assert charlm.distinct_ngrams("ab", 2) == 1.0
    assert charlm.distinct_ngrams([1, 2, 1, 2], 2) == 2 / 3
    assert charlm.distinct_ngrams(np.array([1, 2, 1, 2]), 2) == 2 / 3


def test_distinct_ngrams_errors():
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            charlm.distinct_ngrams("abc", bad)
    with pytest.raises(ValueError, match="length 2 has no 3-grams"):
        charlm.distinct_ngrams("ab", 3)


def test_decoding_sweep_scores_are_its_texts_scores(small_mlp):
    model, _ = small_mlp
    temperatures = [0.01, 1.0, 3.0]
    sweep = charlm.decoding_sweep(
        jax.random.key(0), model, "the ", 40, sampling.temperature, temperatures, n=3, samples=2
    )
    assert sweep.distinct.shape == sweep.log_likelihood.shape == (3, 2)
    np.testing.assert_allclose(sweep.values, temperatures)
    for i in range(3):
        for j in range(2):
            text = sweep.texts[i][j]
            assert len(text) == 40
            assert sweep.distinct[i, j] == charlm.distinct_ngrams(text, 3)
            assert sweep.log_likelihood[i, j] == pytest.approx(
                charlm.log_likelihood_per_char(model, text, prompt="the "), rel=1e-12
            )
    greedy = charlm.generate(jax.random.key(0), model, "the ", 40, GREEDY)
    assert sweep.texts[0] == (greedy, greedy)
    # hot text is less likely under the model than cold text
    assert sweep.log_likelihood[2].max() < sweep.log_likelihood[0].min()


def test_decoding_scores_and_an_independent_scorer(small_mlp, book):
    model, _ = small_mlp
    vocab, train_tokens, _ = book
    bigram = charlm.bigram(train_tokens, vocab)
    scores = charlm.decoding_scores(
        jax.random.key(0),
        model,
        "a ",
        30,
        {"greedy": sampling.greedy(), "top-3": sampling.top_k(3)},
        scorer=bigram,
    )
    assert list(scores) == ["greedy", "top-3"]
    greedy = scores["greedy"]
    assert greedy.texts[0][0] == charlm.generate(jax.random.key(5), model, "a ", 30, GREEDY)
    assert greedy.log_likelihood[0, 0] == pytest.approx(
        charlm.log_likelihood_per_char(bigram, greedy.texts[0][0], prompt="a "), rel=1e-12
    )
    assert scores["top-3"].distinct.shape == (1, 4)


def test_decoding_sweep_errors(small_mlp):
    model, _ = small_mlp
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        charlm.decoding_sweep(jax.random.key(0), model, "a", 10, sampling.temperature, [1.0], samples=0)
    with pytest.raises(ValueError, match="values must be a 1-D array"):
        charlm.decoding_sweep(jax.random.key(0), model, "a", 10, sampling.temperature, [[1.0]])
    with pytest.raises(ValueError, match="length must be a positive integer"):
        charlm.decoding_sweep(jax.random.key(0), model, "a", 0, sampling.temperature, [1.0])
