"""Strictness for the whole suite, configured once.

- float64 in JAX (the oracles are exact; float32 rounding is not what we test);
- rank promotion raises, so a silent broadcast is a failure;
- warnings are errors (pyproject.toml), hypothesis is derandomized (no flaky CI);
- ``key`` is a fixed PRNG key for tests that need randomness.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import nbformat
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

settings.register_profile(
    "ci", derandomize=True, max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))

#: Tolerances by dtype, for comparisons against exact results.
RTOL = {"float64": 1e-12, "float32": 1e-5}


@pytest.fixture
def key() -> jax.Array:
    return jax.random.key(20261124)


def reference_answers(path: Path) -> dict[str, Any]:
    """Each reference solution of an exercise notebook, executed after the notebook's setup
    cells (code cells without a ``physml`` role): exercise id -> the answer it defines."""
    from physml.exercises import REGISTRY
    from physml.grading.notebooks import solution_sources

    nb = nbformat.read(path, as_version=4)
    setup = "\n".join(
        c.source for c in nb.cells if c.cell_type == "code" and not c.metadata.get("physml", {}).get("role")
    )
    answers: dict[str, Any] = {}
    for exercise, source in solution_sources(nb).items():
        namespace: dict[str, Any] = {}
        exec(compile(setup + "\n" + source, f"<solution {exercise}>", "exec"), namespace)
        answers[exercise] = namespace[REGISTRY[exercise].answer]
    return answers


def assert_wrong(exercise: str, answer: Any, phrase: str) -> None:
    """The check of ``answer`` fails with no points and a whole message containing ``phrase``."""
    from physml.exercises import check

    result = check(exercise, answer)
    assert result.status == "incorrect", result
    assert result.points == 0
    assert phrase in result.message, result.message
    assert "Traceback" not in result.message
    assert not result.message.endswith("..."), "the message was clipped"


def assert_distinct(values: Any, rtol: float = 5e-4) -> None:
    """Every pair of candidate answers differs by more than ``rtol`` (relative to the second):
    each diagnosis of a checker is reachable."""
    import numpy as np

    values = [np.asarray(v, dtype=np.float64) for v in values]
    for i in range(len(values)):
        for j in range(i):
            gap = np.max(np.abs(values[i] - values[j]) / np.maximum(np.abs(values[j]), 1e-300))
            assert gap > rtol, (i, j)
