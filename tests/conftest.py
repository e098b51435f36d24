"""Strictness for the whole suite, configured once.

- float64 in JAX (the oracles are exact; float32 rounding is not what we test);
- rank promotion raises, so a silent broadcast is a failure;
- warnings are errors (pyproject.toml), hypothesis is derandomized (no flaky CI);
- ``key`` is a fixed PRNG key for tests that need randomness.

Each session also records itself for ``bench/run_all.py``: its wall time, outcome counts,
arguments, git commit and seconds per test file go to ``_build/test-session-last.json``, and
a session of the whole suite (no paths, ``-k``, ``-m``, ``--deselect``, ``--lf`` or
``--collect-only``) also to ``_build/test-session.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter, defaultdict
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


# ----------------------------------------------------------------------------- session record

_SESSION: dict[str, Any] = {"outcomes": Counter(), "file_seconds": defaultdict(float)}


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION.update(started=time.time(), start=time.perf_counter())


def pytest_collection_finish(session: pytest.Session) -> None:
    _SESSION["collection_s"] = time.perf_counter() - _SESSION.get("start", time.perf_counter())


def _outcome(report: pytest.TestReport) -> str | None:
    """How a test ended, counted once per test as pytest's summary line counts it."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome
    if report.failed:
        return "error"
    return "skipped" if report.skipped else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _SESSION["file_seconds"][report.nodeid.split("::")[0]] += report.duration
    outcome = _outcome(report)
    if outcome is not None:
        _SESSION["outcomes"][outcome] += 1


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _whole_suite(config: pytest.Config) -> bool:
    """The session ran the configured testpaths with nothing selected away."""
    option = config.option
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not option.collectonly
        and not option.keyword
        and not option.markexpr
        and not getattr(option, "deselect", None)
        and not getattr(option, "lf", False)
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write this session's record (not from xdist workers, whose controller writes it)."""
    if hasattr(session.config, "workerinput") or "start" not in _SESSION:
        return
    status = _git("status", "--porcelain", "--untracked-files=no")
    record = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(_SESSION["started"])),
        "wall_s": time.perf_counter() - _SESSION["start"],
        "collection_s": _SESSION.get("collection_s"),
        "exit_status": int(exitstatus),
        "outcomes": dict(_SESSION["outcomes"]),
        "collected": session.testscollected,
        "args": list(session.config.invocation_params.args),
        "whole_suite": _whole_suite(session.config),
        "commit": _git("rev-parse", "HEAD"),
        "tree_modified": None if status is None else bool(status),
        "file_seconds": dict(sorted(_SESSION["file_seconds"].items(), key=lambda item: -item[1])),
    }
    folder = ROOT / "_build"
    folder.mkdir(exist_ok=True)
    names = ["test-session-last.json"] + (["test-session.json"] if record["whole_suite"] else [])
    for name in names:
        tmp = folder / f".{name}.{os.getpid()}"
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, folder / name)
