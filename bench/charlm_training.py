"""Character-level language model: training time, decoding throughput, held-out cross-entropy.

    python bench/charlm_training.py [--x64] [--length 500] [--repeats 3]

Trains `physml.charlm`'s default MLP on the book's corpus (`physml.corpus.BOOK_TEXT`, last
10 % held out) and times it: the first call (compilation included) and a second, identical
call (cached compilation). Decoding is timed as tokens per second for `--length` characters
with `physml.sampling` samplers: `charlm.generate_tokens` (jit + lax.scan) against the
baseline of a Python loop that calls a jit-compiled model-and-sampler step once per
character; compilation is reported separately and excluded from both rates (the scan's rate
is the best of --repeats runs, the loop's a single run). Also reports the held-out
cross-entropy (nats/char) of the uniform, unigram, bigram and MLP models. Writes one JSON
line to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import timeit

import jax
import jax.numpy as jnp
import numpy as np


def best_time(fn, repeats: int) -> float:
    """The fastest of ``repeats`` single calls, in seconds."""
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def timed(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def python_loop_decode(keys, model, prompt, step) -> np.ndarray:
    """Baseline: ``step(key, context) -> token`` (jit-compiled) once per character, the loop in Python."""
    context = [0] * model.context + list(np.asarray(prompt))
    out = []
    for k in keys:
        token = int(step(k, jnp.asarray(context[len(context) - model.context :], dtype=jnp.int32)))
        context.append(token)
        out.append(token)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--x64", action="store_true", help="enable float64, as the chapters do")
    parser.add_argument("--length", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", args.x64)

    from physml import charlm, sampling
    from physml.corpus import BOOK_TEXT

    vocab = charlm.vocabulary(BOOK_TEXT)
    train_text, heldout_text = charlm.split_text(BOOK_TEXT)
    train_tokens, heldout_tokens = charlm.encode(vocab, train_text), charlm.encode(vocab, heldout_text)

    def fit():
        model = charlm.mlp(jax.random.key(1), vocab)
        return charlm.train(jax.random.key(2), model, train_tokens, heldout_tokens)

    (model, history), train_first = timed(fit)
    _, train_again = timed(fit)

    bigram, bigram_time = timed(lambda: charlm.bigram(train_tokens, vocab))
    cross_entropy = {
        "uniform": float(charlm.cross_entropy(charlm.uniform(vocab), heldout_tokens)),
        "unigram": float(charlm.cross_entropy(charlm.ngram(train_tokens, vocab, order=1), heldout_tokens)),
        "bigram": float(charlm.cross_entropy(bigram, heldout_tokens)),
        "mlp": float(history.heldout_loss[-1]),
    }

    prompt = charlm.encode(vocab, "the boltzmann ")
    decoding = {}
    loop_keys = list(jax.random.split(jax.random.key(1), args.length))
    samplers = {
        "greedy": sampling.greedy(),
        "temperature(0.7)": sampling.temperature(0.7),
        "top_p(0.9)": sampling.top_p(0.9),
        "entropy_targeted(1.0)": sampling.entropy_targeted(1.0),
    }
    for name, sampler in samplers.items():
        decode = lambda seed, s=sampler: jax.block_until_ready(
            charlm.generate_tokens(jax.random.key(seed), model, prompt, args.length, s)
        )
        _, first = timed(lambda d=decode: d(0))
        scan_time = best_time(lambda d=decode: d(1), args.repeats)
        step = jax.jit(lambda k, context, s=sampler: s(k, model(context)))
        python_loop_decode(loop_keys[:2], model, prompt, step)  # compile the step
        loop_time = best_time(lambda st=step: python_loop_decode(loop_keys, model, prompt, st), 1)
        decoding[name] = {
            "first_call_s": first,
            "scan_tokens_per_s": args.length / scan_time,
            "python_loop_tokens_per_s": args.length / loop_time,
        }

    temperatures = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
    _, sweep_first = timed(
        lambda: (
            charlm.decoding_sweep(
                jax.random.key(3), model, "the ", 300, sampling.temperature, temperatures, samples=4
            ).log_likelihood
        )
    )

    print(
        json.dumps(
            {
                "benchmark": "charlm_training",
                "dtype": "float64" if args.x64 else "float32",
                "corpus_chars": len(BOOK_TEXT),
                "vocabulary": vocab.size,
                "train_steps": int(history.steps[-1]),
                "train_first_call_s": train_first,
                "train_cached_s": train_again,
                "bigram_fit_s": bigram_time,
                "heldout_cross_entropy_nats_per_char": cross_entropy,
                "decode_length": args.length,
                "decoding": decoding,
                "temperature_sweep_6x4x300_first_call_s": sweep_first,
                "machine": {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine()},
                "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
            }
        )
    )


if __name__ == "__main__":
    main()
