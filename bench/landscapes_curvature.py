"""Sharpness without the Hessian, and rare positive-definite matrices without the density.

    python bench/landscapes_curvature.py [--repeats 3]

Two comparisons, one JSON line on stdout:

1. The sharpness (largest Hessian eigenvalue) of the chapter-4 tanh network (1249
   parameters) at its initialisation: `physml.landscapes.sharpness` by Lanczos and by power
   iteration (20 Hessian-vector products each, jit-compiled) against the baseline of
   forming the dense Hessian with `jax.hessian` and calling `eigvalsh`. Reports the time of
   each (best of --repeats, compilation excluded and reported apart) and its relative error.
2. The probability P_8 ~ 1e-9 that an 8x8 GOE matrix is positive definite:
   `randommatrix.positive_definite_fraction_splitting` (subset simulation) against plain
   Monte Carlo, as the cost of a 10 % relative error. Plain Monte Carlo needs about
   100 / P_n samples for that; its rate (matrices tested per second) is measured on 10^6
   samples and the time extrapolated. The exact value comes from
   `positive_definite_fraction_exact`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import timeit

import jax
import jax.numpy as jnp

from physml import landscapes
from physml.landscapes import randommatrix


def best_time(fn, repeats: int) -> float:
    """The fastest of ``repeats`` calls, in seconds (each result blocked on)."""
    return min(timeit.repeat(lambda: jax.block_until_ready(fn()), number=1, repeat=repeats))


def timed(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def sharpness_comparison(repeats: int) -> dict:
    mlp = landscapes.mlp_regression(
        jax.random.key(0),
        n_samples=64,
        n_inputs=4,
        width=32,
        depth=2,
        target=lambda x: jnp.sin(2 * x[0]) * jnp.cos(x[1]) + 0.5 * x[2] * x[3],
    )
    theta, key = mlp.theta0, jax.random.key(1)
    dense = jax.jit(lambda t: jnp.linalg.eigvalsh(jax.hessian(mlp.loss)(t))[-1])
    exact, dense_compile = timed(lambda: dense(theta))
    out = {"parameters": int(theta.size), "dense_compile_s": dense_compile}
    out["dense_s"] = best_time(lambda: dense(theta), repeats)
    for method in ("lanczos", "power"):
        run = lambda m=method: landscapes.sharpness(mlp.loss, theta, key=key, method=m, num_iter=20)
        value, compile_s = timed(run)
        out[f"{method}_compile_s"] = compile_s
        out[f"{method}_s"] = best_time(run, repeats)
        out[f"{method}_relative_error"] = float(abs(value - exact) / exact)
    return out


def goe_comparison() -> dict:
    n = 8
    exact = randommatrix.positive_definite_fraction_exact(n)
    estimate, split_s = timed(lambda: randommatrix.positive_definite_fraction_splitting(jax.random.key(0), n))
    samples = 1_000_000
    _, mc_s = timed(lambda: randommatrix.positive_definite_fraction_mc(jax.random.key(1), n, samples))
    rate = samples / mc_s
    needed = 100 / exact  # relative error 1/sqrt(hits) = 10 %
    return {
        "n": n,
        "exact": exact,
        "splitting_estimate": estimate.estimate,
        "splitting_log_stderr": estimate.log_stderr,
        "splitting_s": split_s,
        "mc_matrices_per_s": rate,
        "mc_samples_for_10pct": needed,
        "mc_s_for_10pct_extrapolated": needed / rate,
        # the splitting run rescaled to a 10 % error: its variance falls as 1/time
        "splitting_s_for_10pct": split_s * (estimate.log_stderr / 0.1) ** 2,
        "speedup_at_10pct": (needed / rate) / (split_s * (estimate.log_stderr / 0.1) ** 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "jax": jax.__version__},
        "sharpness": sharpness_comparison(args.repeats),
        "goe": goe_comparison(),
    }
    print(json.dumps(result, default=lambda x: float(x) if math.isfinite(float(x)) else str(x)))


if __name__ == "__main__":
    main()
