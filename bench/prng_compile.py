"""What a random draw costs to compile, per JAX PRNG implementation, on this machine.

Every distinct program that draws random numbers compiles the generator's hash with it. On a
CPU, JAX's default ``threefry2x32`` is lowered as a rolled loop that XLA compiles slowly: the
draws in a chapter's data generators and initialisations add up to seconds. This script
compiles the same small programs with each implementation (one draw; four draws of different
shapes, as a data generator makes; a 4096-number block) and times the execution of a large
draw, each in a fresh compilation (distinct shapes, nothing cached). It prints one JSON line.

    .venv/bin/python bench/prng_compile.py
    .venv/bin/python bench/prng_compile.py --repeats 5

Only implementations this JAX provides are measured; the others are listed as missing. The
numbers are the median over ``--repeats`` shapes. The implementations give different random
numbers for the same seed: switching one changes every result drawn from it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

IMPLS = ("threefry2x32", "philox2x32", "philox4x32", "threefry4x32")


def _compile_seconds(fun, *args) -> float:
    import jax

    t0 = time.perf_counter()
    jax.jit(fun).lower(*args).compile()
    return time.perf_counter() - t0


def measure(impl: str, repeats: int) -> dict:
    import jax

    try:
        key = jax.random.key(0, impl=impl)
    except (ValueError, TypeError, KeyError) as error:
        return {"impl": impl, "missing": str(error)}
    programs = {
        "one_normal": lambda n: lambda k: jax.random.normal(k, (n, 5, 2)),
        "four_normals": lambda n: (
            lambda k: [jax.random.normal(kk, (n + i, 5, 2)) for i, kk in enumerate(jax.random.split(k, 4))]
        ),
        "uniform_block": lambda n: lambda k: jax.random.uniform(k, (4096 + n,)),
    }
    result: dict = {"impl": impl}
    for name, make in programs.items():
        result[name + "_s"] = statistics.median(_compile_seconds(make(200 + r), key) for r in range(repeats))
    draw = jax.jit(lambda k: jax.random.normal(k, (1_000_000,)))
    draw(key).block_until_ready()
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        draw(key).block_until_ready()
        runs.append(time.perf_counter() - t0)
    result["normal_1e6_run_s"] = min(runs)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="programs of distinct shapes per measurement")
    args = parser.parse_args()
    import jax

    jax.jit(lambda x: x + 1).lower(1.0).compile()  # the backend's start-up is nobody's cost
    rows = [measure(impl, args.repeats) for impl in IMPLS]
    record = {"bench": "prng_compile", "jax": jax.__version__, "repeats": args.repeats, "results": rows}
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
