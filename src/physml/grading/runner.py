"""Execute a learner's notebook in a fresh kernel and grade its answers there.

The notebook runs cell by cell (nbclient) with a time limit per cell. Errors do not stop
the run: a cell that raises is reported and the next cell runs. A cell that outlives its
limit is interrupted; a cell that kills the kernel (or cannot be interrupted) is reported,
the kernel is restarted, the cells before it are run again, and the run goes on after it.

After the last cell, the package's checkers run *in that kernel* on the answers the
notebook defined (``physml.exercises.grade_namespace``). What the notebook printed earns
nothing: the result travels back behind a random marker the notebook cannot know.

:func:`grade_notebook` may run in several threads at once (``physml-grade --jobs N``):
each call has its own kernel process, kernel spec directory and ports, and changes no
global state. The kernel is killed as soon as the answers are graded.

The grader is not a sandbox: learner code runs with the grader's permissions and could
tamper with the checkers in its own kernel. Grade untrusted submissions in a container.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..exercises import REGISTRY, exercises_in

KERNEL_NAME = "physml-grader"
MAX_RESTARTS = 3


@dataclass
class NotebookReport:
    """What grading one notebook found.

    Attributes:
        path: the notebook as given on the command line.
        results: one dict per exercise (``exercise``, ``status``, ``message``,
            ``points``, ``max_points``).
        problems: one line per thing that went wrong while running it.
        graded: False when the notebook could not be graded at all (missing file, not a
            notebook, no exercises found, grading step failed).
        seconds: wall time spent on it.
    """

    path: str
    results: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    graded: bool = True
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return sum(r["points"] for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r["max_points"] for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "graded": self.graded,
            "points": self.points,
            "max_points": self.max_points,
            "seconds": round(self.seconds, 2),
            "results": self.results,
            "problems": self.problems,
        }


def grade_notebook(path: str | Path, timeout: float = 60.0) -> NotebookReport:
    """Execute the notebook at ``path`` and grade every exercise it holds.

    Never raises for a bad notebook: every failure becomes a line in ``problems``.
    """
    start = time.perf_counter()
    report = NotebookReport(str(path))
    try:
        _grade_into(report, Path(path), timeout)
    except Exception as exc:  # the grader must go on to the next notebook
        report.graded = False
        report.problems.append(f"grading failed: {type(exc).__name__}: {exc}")
    report.seconds = time.perf_counter() - start
    return report


def _grade_into(report: NotebookReport, path: Path, timeout: float) -> None:
    nb = _read(report, path)
    if nb is None:
        return
    ids = exercise_ids(nb, path)
    if not ids:
        report.graded = False
        report.problems.append("no exercises found: not an exercise notebook of this book")
        return
    report.results = _placeholder_results(ids, "could not run")
    outcome = _execute_and_grade(nb, path, ids, timeout, report.problems)
    if outcome is None:
        report.graded = False
        report.problems.append("the answers could not be checked: the grading step did not run")
        return
    report.results = outcome


def _read(report: NotebookReport, path: Path) -> nbformat.NotebookNode | None:
    if not path.exists():
        report.graded = False
        report.problems.append("file not found")
        return None
    if path.is_dir():
        report.graded = False
        report.problems.append("is a directory, not a notebook")
        return None
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        report.graded = False
        report.problems.append(f"not a readable notebook ({type(exc).__name__}: {_first_line(exc)})")
        return None
    try:
        nbformat.validate(nb)
    except Exception as exc:
        report.problems.append(f"notebook does not validate, grading it anyway ({_first_line(exc)})")
    return nb


def exercise_ids(nb: nbformat.NotebookNode, path: Path) -> list[str]:
    """The exercise ids a notebook holds: from its metadata, its cells, or its file name."""
    slug = (
        nb.metadata.get("physml", {}).get("exercises")
        if isinstance(nb.metadata.get("physml"), dict)
        else None
    )
    if isinstance(slug, str) and exercises_in(slug):
        return [ex.id for ex in exercises_in(slug)]
    found: list[str] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("physml", {})
        exercise = meta.get("exercise") if isinstance(meta, dict) else None
        if isinstance(exercise, str) and exercise in REGISTRY and exercise not in found:
            found.append(exercise)
    if found:
        return found
    for ex in REGISTRY.values():
        if ex.notebook in path.stem:
            return [e.id for e in exercises_in(ex.notebook)]
    return []


def _placeholder_results(ids: list[str], why: str) -> list[dict[str, Any]]:
    return [
        {
            "exercise": i,
            "status": "not attempted",
            "message": why,
            "points": 0.0,
            "max_points": REGISTRY[i].points,
        }
        for i in ids
    ]


def _execute_and_grade(
    nb: nbformat.NotebookNode, path: Path, ids: list[str], timeout: float, problems: list[str]
) -> list[dict[str, Any]] | None:
    skip: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="physml-grade-") as kernels_dir:
        specs = _kernel_specs(Path(kernels_dir))
        for _ in range(MAX_RESTARTS + 1):
            client = NotebookClient(
                nb,
                km=AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs),
                timeout=timeout,
                allow_errors=True,
                interrupt_on_timeout=True,
                record_timing=False,
                shutdown_kernel="immediate",  # the answers are in: no need to wait for an exit
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                resources={"metadata": {"path": str(path.resolve().parent)}},
            )
            with client.setup_kernel(env=_kernel_env(), stderr=subprocess.DEVNULL, cleanup_kc=True):
                stopped_at = _run_cells(client, nb, skip, timeout, problems)
                if stopped_at is None:
                    return _run_grading(client, ids, problems)
            skip.add(stopped_at)
        problems.append(f"gave up after {MAX_RESTARTS} kernel restarts")
        return None


def _kernel_specs(data_dir: Path) -> KernelSpecManager:
    """Kernel specs holding only one, which runs this very interpreter.

    Each notebook gets its own spec directory, and nothing global (no environment
    variable) changes, so that notebooks graded at once in threads cannot interfere.
    """
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "physml grader",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(data_dir / "kernels")])


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run_cells(
    client: NotebookClient, nb: nbformat.NotebookNode, skip: set[int], timeout: float, problems: list[str]
) -> int | None:
    """Run the code cells; return the index of a cell that killed the kernel, else None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or index in skip:
            continue
        meta = cell.get("metadata", {}).get("physml", {})
        role = (
            f" ({meta.get('role')} of exercise {meta.get('exercise')})"
            if isinstance(meta, dict) and meta.get("exercise")
            else ""
        )
        label = f"cell {index + 1}{role}"
        started = time.perf_counter()
        try:
            client.execute_cell(cell, index)
        except DeadKernelError:
            _add(problems, f"{label}: the kernel died (skipped it and ran the rest in a new kernel)")
            return index
        except CellTimeoutError:
            _add(
                problems,
                f"{label}: still running after {timeout:g} s and could not be interrupted (skipped it)",
            )
            return index
        except Exception as exc:
            _add(problems, f"{label}: could not run ({type(exc).__name__}: {_first_line(exc)})")
            continue
        elapsed = time.perf_counter() - started
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if output.get("ename") == "KeyboardInterrupt" and elapsed >= timeout * 0.9:
                _add(problems, f"{label}: stopped after {timeout:g} s (an endless loop?)")
            else:
                _add(problems, f"{label}: {output.get('ename')}: {_clip(output.get('evalue', ''))}")
    return None


def _run_grading(client: NotebookClient, ids: list[str], problems: list[str]) -> list[dict[str, Any]] | None:
    marker = "PHYSML-GRADE-" + secrets.token_hex(16) + ":"
    source = (
        "import json as _physml_json\n"
        "import physml.exercises as _physml_exercises\n"
        f"print({marker!r} + _physml_json.dumps(_physml_exercises.grade_namespace({ids!r}, globals())))"
    )
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    budget = sum(REGISTRY[i].time_limit for i in ids) + 60
    saved = client.timeout
    client.timeout = budget
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1)
    except (DeadKernelError, CellTimeoutError) as exc:
        _add(problems, f"grading step: {type(exc).__name__}")
        return None
    finally:
        client.timeout = saved
        client.nb.cells.pop()
    for output in cell.outputs:
        if output.get("output_type") == "stream":
            for line in output.get("text", "").splitlines():
                if line.startswith(marker):
                    return json.loads(line[len(marker) :])
        if output.get("output_type") == "error":
            _add(problems, f"grading step: {output.get('ename')}: {_clip(output.get('evalue', ''))}")
    return None


def _add(problems: list[str], line: str) -> None:
    if line not in problems:
        problems.append(line)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return _clip(text.splitlines()[0]) if text else ""


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
