r"""A character-level language model: counts, a small neural network, and decoding.

A language model gives, for every position :math:`t` of a text :math:`x_1 x_2 \dots`, a
probability for the next character given the ones before it, written as a softmax of
*logits* :math:`z` — a Boltzmann distribution over the vocabulary with energies
:math:`E_i = -z_i` at :math:`T = 1`:

.. math::

    p(x_t = i \mid x_{t-k} \dots x_{t-1}) = \frac{e^{z_i}}{\sum_j e^{z_j}},
    \qquad z = f_\theta(x_{t-k} \dots x_{t-1}) .

A model sees the last ``k = model.context`` characters. Positions before the start of a
text are filled with the vocabulary's first character (id 0; the space, for prose), so
every character, the first included, is predicted. Quality is measured by the
cross-entropy on held-out text, in nats per character,

.. math::

    H = -\frac{1}{N} \sum_{t=1}^{N} \ln p(x_t \mid x_{<t}) ,

which is :math:`\ln V` for the uniform distribution over :math:`V` characters.

Three kinds of model share one interface, ``model(context) -> logits``:

- :func:`uniform`, :func:`ngram` (:func:`bigram`): count-based, with logits the exact
  logarithm of add-:math:`\alpha` smoothed counts, so their cross-entropy is an exact
  reference;
- :func:`mlp`: an embedding of each of the ``k`` previous characters, one ``tanh`` hidden
  layer and a linear read-out (Bengio et al., *J. Mach. Learn. Res.* 3, 1137, 2003),
  trained with Adam (``optax.adamw``) by :func:`train`.

:func:`generate` decodes with any ``sampler(key, logits) -> token`` from
:mod:`physml.sampling` (greedy, temperature, top-k, top-p, fixed entropy) inside one
compiled :func:`jax.lax.scan`. :func:`distinct_ngrams` and :func:`log_likelihood_per_char`
measure the two sides of the trade-off between repetition (cold decoding) and noise (hot
decoding); :func:`decoding_sweep` computes both along a sampler's parameter (a temperature,
a target entropy) and :func:`decoding_scores` for a few unrelated samplers.

Everything is deterministic given its ``key``. Results depend on JAX's precision: a
chapter that enables float64 gets (slightly) different trained weights than float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int

__all__ = [
    "DecodingSweep",
    "MLPModel",
    "NGramModel",
    "TrainingHistory",
    "Vocabulary",
    "bigram",
    "context_windows",
    "cross_entropy",
    "decode",
    "decoding_scores",
    "decoding_sweep",
    "distinct_ngrams",
    "encode",
    "generate",
    "generate_tokens",
    "log_likelihood_per_char",
    "log_probabilities",
    "loss",
    "mlp",
    "next_logits",
    "ngram",
    "split_text",
    "train",
    "uniform",
    "vocabulary",
]

#: ``sampler(key, logits) -> token``, as made by the factories of :mod:`physml.sampling`.
Sampler = Callable[[Array, Array], Array]

#: Largest table an n-gram model may hold, :math:`V^n` entries.
MAX_NGRAM_ENTRIES = 10**7


# ----------------------------------------------------------------------------- vocabulary


class Vocabulary(NamedTuple):
    """The characters of a text, sorted: token id ``i`` stands for ``chars[i]``."""

    chars: str  #: the distinct characters, sorted

    @property
    def size(self) -> int:
        """Number of characters :math:`V`."""
        return len(self.chars)


def vocabulary(text: str) -> Vocabulary:
    """The sorted distinct characters of ``text``.

    Example:
        >>> vocabulary("hello world")
        Vocabulary(chars=' dehlorw')
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"a vocabulary needs a non-empty string, got {text!r:.40}")
    return Vocabulary("".join(sorted(set(text))))


def encode(vocab: Vocabulary, text: str) -> Int[Array, " n"]:
    """Token ids of the characters of ``text``; a character outside ``vocab`` is an error."""
    if not isinstance(text, str):
        raise ValueError(f"encode takes a string, got {type(text).__name__}")
    index = {c: i for i, c in enumerate(vocab.chars)}
    unknown = sorted(set(text) - index.keys())
    if unknown:
        raise ValueError(
            f"characters not in the vocabulary of {vocab.size}: {''.join(unknown)!r} "
            f"(first at position {min(text.index(c) for c in unknown)})"
        )
    return jnp.asarray(np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text)))


def decode(vocab: Vocabulary, tokens: Int[ArrayLike, " n"]) -> str:
    """The text of a 1-D sequence of token ids; the inverse of :func:`encode`."""
    ids = np.asarray(tokens)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"decode takes a 1-D array of integer ids, got shape {ids.shape}, dtype {ids.dtype}")
    bad = ids[(ids < 0) | (ids >= vocab.size)]
    if bad.size:
        raise ValueError(f"token ids must be in [0, {vocab.size}), got {bad[0]}")
    return "".join(vocab.chars[i] for i in ids.tolist())


def split_text(text: str, heldout_fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into a training part and the held-out last ``heldout_fraction`` of it."""
    if not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}")
    cut = round(len(text) * (1 - heldout_fraction))
    if not 0 < cut < len(text):
        raise ValueError(f"a text of {len(text)} characters is too short to split at {heldout_fraction}")
    return text[:cut], text[cut:]


@functools.partial(jax.jit, static_argnames="context")
def context_windows(tokens: Int[ArrayLike, " n"], context: int, pad: int = 0) -> Int[Array, "n context"]:
    r"""The ``context`` tokens before each position: row ``t`` is :math:`(x_{t-k}, \dots, x_{t-1})`.

    Positions before the start hold ``pad``. ``context = 0`` gives shape ``(n, 0)``.
    """
    tokens = jnp.asarray(tokens)
    padded = jnp.concatenate([jnp.full((context,), pad, dtype=tokens.dtype), tokens])
    return padded[jnp.arange(tokens.shape[0])[:, None] + jnp.arange(context)[None, :]]


# ----------------------------------------------------------------------------- models


class NGramModel(eqx.Module):
    r"""A count-based model: ``log_probs[a, ..., b, i]`` is :math:`\ln p(i \mid a \dots b)`.

    Its logits are exact log-probabilities (they sum to 1 under ``exp``); it sees the last
    ``order - 1`` characters.
    """

    log_probs: Float[Array, ...]
    vocab: Vocabulary = eqx.field(static=True)

    @property
    def context(self) -> int:
        return self.log_probs.ndim - 1

    def __call__(self, context: Int[Array, " k"]) -> Float[Array, " V"]:
        return self.log_probs[tuple(context[i] for i in range(self.context))]


def uniform(vocab: Vocabulary) -> NGramModel:
    r"""The model that knows nothing: :math:`p(i) = 1/V`, cross-entropy :math:`\ln V`."""
    return NGramModel(jnp.full((vocab.size,), -math.log(vocab.size)), vocab)


def ngram(tokens: Int[ArrayLike, " n"], vocab: Vocabulary, order: int = 2, alpha: float = 1.0) -> NGramModel:
    r"""The add-:math:`\alpha` smoothed n-gram model of ``tokens``.

    .. math::

        p(i \mid h) = \frac{c(h, i) + \alpha}{c(h) + \alpha V},

    where :math:`h` is the previous ``order - 1`` characters, :math:`c(h, i)` counts the
    times :math:`i` followed :math:`h` in ``tokens`` (with the text padded in front by
    token 0, as everywhere in this module) and :math:`c(h) = \sum_i c(h, i)`. ``order = 1``
    is the unigram model, ``order = 2`` the bigram model.

    Args:
        tokens: the training text as token ids, shape ``(n,)``.
        vocab: the vocabulary, which fixes :math:`V`.
        order: :math:`n \ge 1`; the table has :math:`V^n` entries.
        alpha: pseudo-count :math:`\alpha > 0` added to every entry (1 is Laplace's rule).
    """
    if order < 1 or vocab.size**order > MAX_NGRAM_ENTRIES:
        raise ValueError(f"order must be >= 1 with V**order <= {MAX_NGRAM_ENTRIES:.0e}, got {order}")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive (unseen characters would get probability 0), got {alpha}")
    return NGramModel(_smoothed_log_counts(jnp.asarray(tokens), vocab.size, order, alpha), vocab)


@functools.partial(jax.jit, static_argnames=("V", "order"))
def _smoothed_log_counts(tokens: Array, V: int, order: int, alpha: float) -> Array:
    grams = jnp.concatenate([context_windows(tokens, order - 1), tokens[:, None]], axis=1)
    counts = jnp.zeros((V,) * order).at[tuple(grams.T)].add(1.0)
    totals = jnp.sum(counts, axis=-1, keepdims=True)
    return jnp.log(counts + alpha) - jnp.log(totals + alpha * V)


def bigram(tokens: Int[ArrayLike, " n"], vocab: Vocabulary, alpha: float = 1.0) -> NGramModel:
    r"""The add-:math:`\alpha` bigram model, :math:`p(i \mid j) = (c(j, i) + \alpha)/(c(j) + \alpha V)`."""
    return ngram(tokens, vocab, order=2, alpha=alpha)


class MLPModel(eqx.Module):
    r"""Logits :math:`z = W_2 \tanh(W_1 [e_{x_{t-k}}; \dots; e_{x_{t-1}}] + b_1) + b_2`.

    Each of the ``k`` previous characters is embedded as a vector :math:`e_x` of length
    ``d``; the ``k`` embeddings are concatenated and passed through one ``tanh`` layer of
    width ``h``.
    """

    embedding: Float[Array, "V d"]
    hidden: eqx.nn.Linear
    output: eqx.nn.Linear
    vocab: Vocabulary = eqx.field(static=True)

    @property
    def context(self) -> int:
        return self.hidden.in_features // self.embedding.shape[1]

    def __call__(self, context: Int[Array, " k"]) -> Float[Array, " V"]:
        return self.output(jnp.tanh(self.hidden(self.embedding[context].reshape(-1))))


def mlp(
    key: Array, vocab: Vocabulary, *, context: int = 5, embedding: int = 32, hidden: int = 256
) -> MLPModel:
    """A freshly initialized :class:`MLPModel` (embeddings standard normal, layers as in equinox).

    Args:
        key: PRNG key.
        vocab: the vocabulary (``V`` inputs and outputs).
        context: number ``k`` of previous characters seen.
        embedding: length ``d`` of a character's embedding.
        hidden: width ``h`` of the hidden layer.
    """
    if min(context, embedding, hidden) < 1:
        raise ValueError(f"context, embedding and hidden must be >= 1, got {(context, embedding, hidden)}")
    return _init_mlp(key, vocab, context, embedding, hidden)


@eqx.filter_jit
def _init_mlp(key: Array, vocab: Vocabulary, context: int, embedding: int, hidden: int) -> MLPModel:
    k_emb, k_hid, k_out = jax.random.split(key, 3)
    return MLPModel(
        embedding=jax.random.normal(k_emb, (vocab.size, embedding)),
        hidden=eqx.nn.Linear(context * embedding, hidden, key=k_hid),
        output=eqx.nn.Linear(hidden, vocab.size, key=k_out),
        vocab=vocab,
    )


# ----------------------------------------------------------------------------- likelihood


@eqx.filter_jit
def loss(
    model: Callable, windows: Int[ArrayLike, "batch k"], targets: Int[ArrayLike, " batch"]
) -> Float[Array, ""]:
    r"""Mean cross-entropy :math:`\frac1B\sum_b \big[\ln\sum_j e^{z_{bj}} - z_{b,y_b}\big]` (nats).

    Args:
        model: a model of this module.
        windows: the ``k`` characters before each target, shape ``(batch, k)``.
        targets: the characters to predict, shape ``(batch,)``.
    """
    logits = jax.vmap(model)(jnp.asarray(windows))
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, jnp.asarray(targets)))


@eqx.filter_jit
def _log_probabilities(model: Callable, tokens: Array, prompt: Array) -> Array:
    sequence = jnp.concatenate([prompt, tokens])
    logits = jax.vmap(model)(context_windows(sequence, model.context)[prompt.shape[0] :])
    return jnp.take_along_axis(jax.nn.log_softmax(logits), tokens[:, None], axis=1)[:, 0]


def log_probabilities(
    model: Callable, tokens: Int[ArrayLike, " n"], prompt: Int[ArrayLike, " p"] = ()
) -> Float[Array, " n"]:
    r""":math:`\ln p(x_t \mid \text{prompt}, x_{<t})` for every token of ``tokens`` (nats)."""
    return _log_probabilities(
        model, jnp.asarray(tokens, dtype=jnp.int32), jnp.asarray(prompt, dtype=jnp.int32)
    )


def cross_entropy(model: Callable, tokens: Int[ArrayLike, " n"]) -> Float[Array, ""]:
    r"""Cross-entropy :math:`-\frac1N\sum_t \ln p(x_t \mid x_{<t})` of a text, in nats per character."""
    tokens = jnp.asarray(tokens)
    if tokens.ndim != 1 or tokens.shape[0] == 0:
        raise ValueError(f"tokens must be a non-empty 1-D array, got shape {tokens.shape}")
    return -jnp.mean(log_probabilities(model, tokens))


def log_likelihood_per_char(model: Callable, text: str, prompt: str = "") -> float:
    r"""Mean log-probability of ``text`` under ``model``, :math:`\frac1N\sum_t \ln p(x_t\mid x_{<t})`.

    In nats per character (:math:`\le 0`; :math:`-\ln V` for the uniform model). ``text`` is
    scored as the continuation of ``prompt`` — how a generated text should be scored.
    """
    if not text:
        raise ValueError("log_likelihood_per_char needs a non-empty text")
    logp = log_probabilities(model, encode(model.vocab, text), encode(model.vocab, prompt))
    return float(jnp.mean(logp))


def next_logits(model: Callable, prompt: str) -> Float[Array, " V"]:
    """The logits of the character that follows ``prompt`` (index them with ``model.vocab``)."""
    tokens = encode(model.vocab, prompt)
    return model(context_windows(jnp.append(tokens, 0), model.context)[-1])


# ----------------------------------------------------------------------------- training


class TrainingHistory(NamedTuple):
    """Losses recorded every ``eval_every`` steps of :func:`train` (nats per character)."""

    steps: Int[Array, " evals"]  #: steps done at each record
    train_loss: Float[Array, " evals"]  #: mean minibatch loss over the steps since the last record
    heldout_loss: Float[Array, " evals"]  #: cross-entropy on the whole held-out text


def train(
    key: Array,
    model: MLPModel,
    train_tokens: Int[ArrayLike, " n"],
    heldout_tokens: Int[ArrayLike, " m"],
    *,
    steps: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 4e-3,
    weight_decay: float = 0.3,
    eval_every: int = 100,
) -> tuple[MLPModel, TrainingHistory]:
    r"""Fit ``model`` to ``train_tokens`` by Adam on minibatches; record held-out loss.

    Each step draws ``batch_size`` positions of the training text uniformly (with
    replacement) and takes one step of Adam with decoupled weight decay
    (``optax.adamw``) on their mean cross-entropy :func:`loss`; the learning rate
    decays from ``learning_rate`` to 0 on a cosine. The whole run is one compiled
    :func:`jax.lax.scan`. The defaults, with those of :func:`mlp`, fit the book's corpus in
    a few seconds on two CPU cores; the weight decay keeps the model from memorizing a text
    this small.

    Args:
        key: PRNG key; it fixes the minibatches, so the result is deterministic.
        model: the initial model, e.g. from :func:`mlp`.
        train_tokens, heldout_tokens: token ids of the two splits.
        steps: number of Adam steps, a multiple of ``eval_every``.
        batch_size: positions per step.
        learning_rate: Adam's initial step size.
        weight_decay: decoupled weight decay per unit learning rate (0 is plain Adam).
        eval_every: steps between records of :class:`TrainingHistory`.

    Returns:
        the trained model and its :class:`TrainingHistory`.
    """
    if min(steps, batch_size, eval_every) < 1 or steps % eval_every:
        raise ValueError(
            f"steps, batch_size, eval_every must be >= 1 and steps a multiple of eval_every, "
            f"got {(steps, batch_size, eval_every)}"
        )
    train_tokens, heldout_tokens = jnp.asarray(train_tokens), jnp.asarray(heldout_tokens)
    windows = context_windows(train_tokens, model.context)
    rates = jnp.asarray([learning_rate, weight_decay], dtype=float)  # traced: no recompilation
    return _train(key, model, windows, train_tokens, heldout_tokens, rates, steps, batch_size, eval_every)


@eqx.filter_jit
def _train(key, model, windows, targets, heldout, rates, steps, batch_size, eval_every):
    params, static = eqx.partition(model, eqx.is_array)
    optimizer = optax.adamw(optax.cosine_decay_schedule(rates[0], steps), weight_decay=rates[1])

    def step(carry, k):
        params, opt_state = carry
        i = jax.random.randint(k, (batch_size,), 0, targets.shape[0])
        objective = lambda p: loss(eqx.combine(p, static), windows[i], targets[i])
        value, grads = jax.value_and_grad(objective)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    def block(carry, keys):
        carry, values = jax.lax.scan(step, carry, keys)
        return carry, (jnp.mean(values), cross_entropy(eqx.combine(carry[0], static), heldout))

    keys = jax.random.split(key, steps).reshape(steps // eval_every, eval_every)
    (params, _), (train_loss, heldout_loss) = jax.lax.scan(block, (params, optimizer.init(params)), keys)
    done = eval_every * jnp.arange(1, steps // eval_every + 1)
    return eqx.combine(params, static), TrainingHistory(done, train_loss, heldout_loss)


# ----------------------------------------------------------------------------- decoding


def _decode_scan(key: Array, model: Callable, context: Array, length: int, sampler: Sampler) -> Array:
    """The decoding loop: ``length`` tokens from the initial ``context`` (``model.context`` ids)."""

    def step(context: Array, k: Array) -> tuple[Array, Array]:
        token = jnp.asarray(sampler(k, model(context)), dtype=context.dtype)
        return jnp.concatenate([context, token[None]])[1:], token

    _, tokens = jax.lax.scan(step, context, jax.random.split(key, length))
    return tokens


_decode_jit = jax.jit(_decode_scan, static_argnames=("length", "sampler"))


def _check_length(length: int) -> None:
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")


def _initial_context(model: Callable, prompt: Array) -> Array:
    """The ``model.context`` ids before the first generated token (padded with id 0)."""
    return context_windows(jnp.append(prompt, 0), model.context)[-1]


def generate_tokens(
    key: Array, model: Callable, prompt: Int[ArrayLike, " p"], length: int, sampler: Sampler
) -> Int[Array, " length"]:
    r"""Decode ``length`` tokens after ``prompt``, :math:`x_t = \mathrm{sampler}(k_t, z_t)`.

    Here :math:`z_t` are the logits given the ``model.context`` tokens before :math:`t`.

    One compiled :func:`jax.lax.scan`; step :math:`t` uses the :math:`t`-th key of
    ``jax.random.split(key, length)``. Each new ``sampler`` object is compiled anew (about
    a second); reuse one to decode many texts, and use :func:`decoding_sweep` to scan a
    sampler's parameter with a single compilation.

    Args:
        key: PRNG key.
        model: a model of this module.
        prompt: token ids of the prompt, shape ``(p,)`` (may be empty).
        length: number of tokens to generate.
        sampler: ``sampler(key, logits) -> token``, e.g. from :mod:`physml.sampling`.

    Returns:
        the continuation only (without the prompt), shape ``(length,)``.
    """
    _check_length(length)
    prompt = jnp.asarray(prompt, dtype=jnp.int32)
    return _decode_jit(key, model, _initial_context(model, prompt), length, sampler)


def generate(key: Array, model: Callable, prompt: str, length: int, sampler: Sampler) -> str:
    """Decode ``length`` characters after the text ``prompt`` (returned without the prompt).

    Example:
        >>> from physml import sampling
        >>> text = generate(jax.random.key(0), model, "the ", 200, sampling.temperature(0.7))
    """
    return decode(model.vocab, generate_tokens(key, model, encode(model.vocab, prompt), length, sampler))


def distinct_ngrams(text: str | Sequence[int], n: int) -> float:
    r"""Fraction of distinct n-grams among all :math:`N - n + 1` n-grams of ``text``.

    1 when no n-gram repeats; small for a text that loops (as greedy decoding does).

    Example:
        >>> distinct_ngrams("abab", 2)  # ab, ba, ab
        0.6666666666666666
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    items = text if isinstance(text, str) else tuple(np.asarray(text).tolist())
    if len(items) < n:
        raise ValueError(f"a text of length {len(items)} has no {n}-grams")
    grams = [items[i : i + n] for i in range(len(items) - n + 1)]
    return len(set(grams)) / len(grams)


@eqx.filter_jit
def _decode_and_score(keys, model, scorer, prompt, values, length, factory):
    """Tokens, shape ``(values, samples, length)``, and their mean log-likelihood per token."""
    context = _initial_context(model, prompt)

    def one(value: Array, key: Array) -> tuple[Array, Array]:
        tokens = _decode_scan(key, model, context, length, factory(value))
        return tokens, jnp.mean(log_probabilities(scorer, tokens, prompt))

    return jax.vmap(lambda v: jax.vmap(lambda k: one(v, k))(keys))(values)


class DecodingSweep(NamedTuple):
    """Texts decoded at each value of a sampler's parameter, and their scores."""

    values: np.ndarray  #: the parameter values, shape ``(values,)``
    texts: tuple[tuple[str, ...], ...]  #: the continuations; ``texts[i][j]`` is sample ``j`` at ``values[i]``
    distinct: np.ndarray  #: :func:`distinct_ngrams` of each text, shape ``(values, samples)``
    log_likelihood: np.ndarray  #: mean log-probability per character, shape ``(values, samples)``


def decoding_sweep(
    key: Array,
    model: Callable,
    prompt: str,
    length: int,
    factory: Callable[[Array], Sampler],
    values: Float[ArrayLike, " values"],
    *,
    n: int = 4,
    samples: int = 4,
    scorer: Callable | None = None,
) -> DecodingSweep:
    r"""Decode with ``factory(value)`` for each value, and score repetition against noise.

    For each value, ``samples`` continuations of ``prompt`` are decoded (the same keys,
    ``jax.random.split(key, samples)``, at every value, so the curves are smooth) and scored
    by :func:`distinct_ngrams` (repetition: near 0 for a text that loops, as cold decoding
    does) and by the mean log-likelihood per character under ``scorer`` — by default
    ``model`` itself at :math:`T = 1` (noise: low for a text the model finds improbable, as
    hot decoding produces). The factory is called inside one compiled function with the
    value as a traced scalar, so the whole sweep compiles once: ``sampling.temperature``,
    ``sampling.entropy_targeted`` and ``lambda p: sampling.top_p(p)`` work; a parameter that
    must be a Python integer (``top_k``'s ``k``) needs :func:`decoding_scores` instead.

    Args:
        key: PRNG key.
        model: the model that decodes.
        prompt: the text to continue.
        length: characters to generate per sample.
        factory: ``factory(value) -> sampler``, e.g. :func:`physml.sampling.temperature`.
        values: the parameter values, shape ``(values,)``.
        n: n-gram length for :func:`distinct_ngrams`.
        samples: continuations per value.
        scorer: the model that scores the texts (default ``model``).

    Returns:
        a :class:`DecodingSweep`.

    Example:
        >>> from physml import sampling
        >>> sweep = decoding_sweep(key, model, "the ", 300, sampling.temperature, [0.25, 0.5, 1.0, 2.0])
        >>> sweep.distinct.mean(axis=1), sweep.log_likelihood.mean(axis=1)  # one point per T
    """
    _check_length(length)
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    values = jnp.atleast_1d(jnp.asarray(values, dtype=float))
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-D array, got shape {values.shape}")
    scorer = model if scorer is None else scorer
    prompt_tokens = encode(model.vocab, prompt)
    keys = jax.random.split(key, samples)
    tokens, loglik = _decode_and_score(keys, model, scorer, prompt_tokens, values, length, factory)
    texts = tuple(tuple(decode(model.vocab, t) for t in row) for row in np.asarray(tokens))
    distinct = np.array([[distinct_ngrams(t, n) for t in row] for row in texts])
    return DecodingSweep(np.asarray(values), texts, distinct, np.asarray(loglik))


def decoding_scores(
    key: Array,
    model: Callable,
    prompt: str,
    length: int,
    samplers: Mapping[Hashable, Sampler],
    *,
    n: int = 4,
    samples: int = 4,
    scorer: Callable | None = None,
) -> dict[Hashable, DecodingSweep]:
    """:func:`decoding_sweep` for a few unrelated samplers (one compilation each).

    Returns:
        a dict with the keys of ``samplers``; each value is a :class:`DecodingSweep` with a
        single row (``values`` is ``[0.0]``; ``texts[0]``, ``distinct[0]``,
        ``log_likelihood[0]`` hold the samples).

    Example:
        >>> from physml import sampling
        >>> scores = decoding_scores(key, model, "the ", 300, {"greedy": sampling.greedy(),
        ...                                                    "top-5": sampling.top_k(5)})
    """
    return {
        name: decoding_sweep(
            key, model, prompt, length, _Fixed(sampler), [0.0], n=n, samples=samples, scorer=scorer
        )
        for name, sampler in samplers.items()
    }


class _Fixed(NamedTuple):
    """The factory that ignores its value (equal for equal samplers, so compilations are reused)."""

    sampler: Sampler

    def __call__(self, value: Array) -> Sampler:
        return self.sampler
