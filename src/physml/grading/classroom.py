"""Grading a class: find the learners' notebooks, grade them in parallel, tabulate.

**Collecting.** Each argument is a notebook or a folder. A folder is searched
recursively for ``*.ipynb``; hidden folders and files (``.ipynb_checkpoints``, ``.git``,
the ``._*`` files of a macOS zip) are skipped, and symbolic links to folders are not
followed. Notebooks of a folder come in sorted order, at the place of the folder among
the arguments; a notebook reached twice is graded once.

**Learners.** Every notebook belongs to one learner, named from its path:

- under a folder argument, inside a subfolder: the first subfolder's name
  (``submissions/alice/01_statmech_bridge.ipynb`` and
  ``submissions/alice/week2/02_softmax_boltzmann.ipynb`` → ``alice``);
- otherwise (directly in the folder, or named on the command line): the file name
  up to the exercise notebook's slug, or else after it (``alice.ipynb``,
  ``alice_01_statmech_bridge.ipynb``, ``01_statmech_bridge-alice.ipynb`` → ``alice``),
  or, when the name is the slug alone (``01_statmech_bridge.ipynb``), the name of the
  folder holding it.

A learner's notebooks of different chapters fill one row of the class table. When the
same exercise is graded in several of them (a resubmission), the best points count and
the row says so.

**Parallel grading.** :func:`grade_many` grades ``jobs`` notebooks at once in threads.
Each notebook runs in its own kernel process (ports, connection file and kernel spec of
its own); a thread only waits for its kernel. A notebook that loops is interrupted after
the time limit per cell and one whose kernel dies is restarted, without holding up the
other threads.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import NamedTuple

from jupyter_client.connect import LocalPortCache
from jupyter_core.utils import ensure_event_loop

from ..exercises import REGISTRY
from .runner import NotebookReport, grade_notebook

__all__ = [
    "ClassTable",
    "LearnerRow",
    "Submission",
    "chapter_of",
    "class_table",
    "collect",
    "exercise_order",
    "grade_many",
    "learner_name",
    "write_class_csv",
]

_SEPARATORS = " _-."


class Submission(NamedTuple):
    """One notebook to grade: its ``path``, its ``learner``, and the ``label`` that names it
    in reports (the path relative to the folder argument, or as given)."""

    path: Path
    learner: str
    label: str


class LearnerRow(NamedTuple):
    """One learner's line of the class table.

    Attributes:
        learner: the learner's name (see the module docstring).
        points: exercise id → points earned; an exercise of no gradable notebook is absent.
        total: the sum of ``points``.
        notebooks: labels of the learner's notebooks.
        problems: one line per thing that went wrong, prefixed by the notebook's label or
            the chapter it concerns.
    """

    learner: str
    points: dict[str, float]
    total: float
    notebooks: list[str]
    problems: list[str]


class ClassTable(NamedTuple):
    """The class at a glance: the ``exercises`` (column order), the ``max_points`` every
    learner could earn in them, and one :class:`LearnerRow` per learner, sorted by name."""

    exercises: list[str]
    max_points: float
    rows: list[LearnerRow]


def exercise_order(exercise_id: str) -> tuple[int, ...]:
    """Sort key of an exercise id by its numbers: ``"1.9"`` < ``"1.10"`` < ``"2.1"``."""
    try:
        return tuple(int(part) for part in exercise_id.split("."))
    except ValueError:
        return (10**6,)


def _slugs() -> list[str]:
    """The exercise notebooks' slugs, longest first (so a longer one wins a tie)."""
    return sorted({ex.notebook for ex in REGISTRY.values()}, key=len, reverse=True)


def chapter_of(path: Path) -> str | None:
    """The slug of the exercise notebook a file name contains, if any."""
    return next((slug for slug in _slugs() if slug in path.stem), None)


def learner_name(path: Path, root: Path | None = None) -> str:
    """The learner a notebook belongs to, from its path (see the module docstring).

    ``root`` is the folder argument the notebook was found under, ``None`` for a notebook
    named on the command line.
    """
    if root is not None:
        parts = path.relative_to(root).parts
        if len(parts) > 1:
            return parts[0]
    slug = chapter_of(path)
    if slug is None:
        name = path.stem.strip()
    else:
        before, _, after = path.stem.partition(slug)
        name = before.strip(_SEPARATORS) or after.strip(_SEPARATORS)
    return name or path.absolute().parent.name


def _notebooks_under(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found += [Path(folder) / f for f in sorted(files) if f.endswith(".ipynb") and not f.startswith(".")]
    return found


def collect(paths: Sequence[str | Path]) -> list[Submission]:
    """The notebooks named by ``paths`` (notebooks or folders), each with its learner.

    A path that does not exist is kept (grading reports it missing). Raises ValueError for
    a folder that holds no notebook, which is almost always a mistyped path.
    """
    submissions: list[Submission] = []
    seen: set[Path] = set()
    for given in map(Path, paths):
        if given.is_dir():
            found = _notebooks_under(given)
            if not found:
                raise ValueError(
                    f"the folder {given} holds no notebook (*.ipynb); expected submissions in it"
                )
            items = [Submission(p, learner_name(p, given), p.relative_to(given).as_posix()) for p in found]
        else:
            items = [Submission(given, learner_name(given), str(given))]
        for item in items:
            if item.path.resolve() not in seen:
                seen.add(item.path.resolve())
                submissions.append(item)
    return submissions


def grade_many(
    paths: Sequence[Path], *, timeout: float = 60.0, jobs: int = 1
) -> Iterator[tuple[int, NotebookReport]]:
    """Grade the notebooks, ``jobs`` at a time; yield ``(index, report)`` as each finishes.

    Completion order depends on the machine; the index places each report. Closing the
    iterator early (or an interrupt) cancels the notebooks not yet started.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be a positive number of notebooks graded at once, got {jobs}")
    LocalPortCache.instance()  # one port registry for all threads, made before they start
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="physml-grade")
    futures: dict[Future[NotebookReport], int] = {
        pool.submit(_grade_in_thread, path, timeout): index for index, path in enumerate(paths)
    }
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.__getitem__):
                yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _grade_in_thread(path: Path, timeout: float) -> NotebookReport:
    """:func:`grade_notebook` in a worker thread, closing the event loop that the kernel
    client opened in this thread (left open, it leaks a socket pair per thread)."""
    try:
        return grade_notebook(path, timeout)
    finally:
        loop = ensure_event_loop()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def class_table(submissions: Sequence[Submission], reports: Sequence[NotebookReport]) -> ClassTable:
    """One row per learner and one column per exercise of every chapter anyone handed in.

    ``reports[i]`` is the grading of ``submissions[i]``. A learner's points of an exercise
    are the best over their notebooks; a chapter without a gradable notebook of theirs
    leaves its exercises empty, with a note.
    """
    if len(submissions) != len(reports):
        raise ValueError(f"{len(submissions)} submissions but {len(reports)} reports; expected one each")
    graded = {r["exercise"] for report in reports for r in report.results}
    chapters = {REGISTRY[i].notebook for i in graded if i in REGISTRY}
    exercises = sorted(
        graded | {i for i, ex in REGISTRY.items() if ex.notebook in chapters}, key=exercise_order
    )
    max_points = sum(_max_points(i, reports) for i in exercises)
    by_learner: dict[str, list[tuple[Submission, NotebookReport]]] = {}
    for submission, report in zip(submissions, reports, strict=True):
        by_learner.setdefault(submission.learner, []).append((submission, report))
    rows = [
        _learner_row(name, by_learner[name], exercises)
        for name in sorted(by_learner, key=lambda n: (n.casefold(), n))
    ]
    return ClassTable(exercises, max_points, rows)


def _max_points(exercise_id: str, reports: Sequence[NotebookReport]) -> float:
    if exercise_id in REGISTRY:
        return REGISTRY[exercise_id].points
    return max(r["max_points"] for report in reports for r in report.results if r["exercise"] == exercise_id)


def _learner_row(
    learner: str, graded: list[tuple[Submission, NotebookReport]], exercises: list[str]
) -> LearnerRow:
    points: dict[str, float] = {}
    counts: dict[str, int] = {}
    problems: list[str] = []
    for submission, report in graded:
        problems += [f"{submission.label}: {problem}" for problem in report.problems]
        for r in report.results:
            points[r["exercise"]] = max(points.get(r["exercise"], 0.0), r["points"])
            counts[r["exercise"]] = counts.get(r["exercise"], 0) + 1
    problems += [f"exercise {i}: in {n} notebooks, the best counts" for i, n in counts.items() if n > 1]
    missing: dict[str, list[str]] = {}
    for i in exercises:
        if i not in points:
            missing.setdefault(REGISTRY[i].notebook if i in REGISTRY else "?", []).append(i)
    for chapter, ids in missing.items():
        known = any(REGISTRY[i].notebook == chapter for i in points if i in REGISTRY)
        which = f"exercise{'s' * (len(ids) > 1)} {', '.join(ids)}"
        problems.append(
            f"{chapter}: {which} not in the notebook" if known else f"{chapter}: no gradable notebook"
        )
    notebooks = [submission.label for submission, _ in graded]
    return LearnerRow(learner, points, sum(points.values()), notebooks, problems)


def write_class_csv(table: ClassTable, path: Path) -> None:
    """Write the class table as CSV: ``learner``, ``exercise <id>`` per exercise (points;
    empty when no gradable notebook held it), ``total``, ``max``, ``notebooks``, ``problems``.

    Exercise columns are named ``exercise 1.10`` rather than ``1.10``, which a spreadsheet
    would read as the number 1.1.
    """
    header = ["learner", *(f"exercise {i}" for i in table.exercises), "total", "max", "notebooks", "problems"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in table.rows:
            cells = [_num(row.points[i]) if i in row.points else "" for i in table.exercises]
            writer.writerow(
                [
                    row.learner,
                    *cells,
                    _num(row.total),
                    _num(table.max_points),
                    "; ".join(row.notebooks),
                    "; ".join(row.problems),
                ]
            )


def _num(x: float) -> str:
    return f"{x:g}"
