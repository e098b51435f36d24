"""2-D Ising Metropolis throughput: physml (JAX, jit + lax.scan) vs plain NumPy, same run.

    python bench/ising_throughput.py [--L 256] [--sweeps 300] [--repeats 3]

Both do checkerboard Metropolis sweeps at beta = 0.44 on an L x L periodic lattice and
count attempted spin flips per second (L*L per sweep). JAX's first call (compilation) is
timed separately and excluded from the rate; the best of --repeats runs is reported.
Writes one JSON line to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import timeit

import jax
import numpy as np

from physml import ising


def numpy_sweeps(rng: np.random.Generator, s: np.ndarray, beta: float, sweeps: int) -> np.ndarray:
    L = s.shape[0]
    parity = np.add.outer(np.arange(L), np.arange(L)) % 2
    for _ in range(sweeps):
        u = rng.random(s.shape, dtype=np.float32)
        for colour in (0, 1):
            nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            flip = (parity == colour) & (u < np.exp(-beta * 2.0 * s * nb))
            s = np.where(flip, -s, s)
    return s


def best_time(fn, repeats: int) -> float:
    """The fastest of ``repeats`` single calls, in seconds."""
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--L", type=int, default=256)
    parser.add_argument("--sweeps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    L, sweeps, beta = args.L, args.sweeps, 0.44
    flips = L * L * sweeps

    s = ising.random_spins(jax.random.key(0), L)
    start = time.perf_counter()
    jax.block_until_ready(ising.metropolis(jax.random.key(1), s, beta, sweeps))
    first_call = time.perf_counter() - start
    jax_time = best_time(
        lambda: jax.block_until_ready(ising.metropolis(jax.random.key(2), s, beta, sweeps)), args.repeats
    )

    s_np = np.asarray(s)
    numpy_sweeps_n = max(1, sweeps // 10)
    numpy_time = best_time(
        lambda: numpy_sweeps(np.random.default_rng(0), s_np, beta, numpy_sweeps_n), args.repeats
    )

    print(
        json.dumps(
            {
                "benchmark": "ising_metropolis_throughput",
                "L": L,
                "physml_flips_per_s": flips / jax_time,
                "physml_first_call_s": first_call,
                "numpy_flips_per_s": L * L * numpy_sweeps_n / numpy_time,
                "speedup": (flips / jax_time) / (L * L * numpy_sweeps_n / numpy_time),
                "machine": {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine()},
                "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
            }
        )
    )


if __name__ == "__main__":
    main()
