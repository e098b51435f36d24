"""physml-grade on a class: folders, learners' names, parallel grading, the class CSV.

The slow test makes a class of 50 learners from the demo exercise notebook (the cheapest
to execute): solved, partly solved, untouched, wrong, an answer cell that raises, a
syntax error, endless loops, a dying kernel, printed fake results, files that are not
notebooks, learners with two notebooks (in subfolders, and across two arguments) and
checkpoint copies that must be skipped. One call of ``main`` with ``--jobs 2`` grades
them all; every row of the class CSV is checked against what its learner's files earn,
computed from how each file was made.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
import pytest
from conftest import ROOT

from physml.exercises import REGISTRY
from physml.grading.classroom import (
    Submission,
    class_table,
    collect,
    exercise_order,
    learner_name,
)
from physml.grading.cli import main
from physml.grading.notebooks import solution_sources, with_answers
from physml.grading.runner import NotebookReport

DEMO = ROOT / "exercises" / "00_how_to_use.ipynb"
SLUG = "00_how_to_use"
TIMEOUT = 15  # per cell: the kernel's imports must fit in it on a busy 2-core machine


# --------------------------------------------------------------------------- fast tests


def test_exercise_order_is_numeric():
    ids = ["10.1", "1.10", "2.1", "1.9", "1.1"]
    assert sorted(ids, key=exercise_order) == ["1.1", "1.9", "1.10", "2.1", "10.1"]


@pytest.mark.parametrize(
    ("path", "root", "learner"),
    [
        ("sub/alice/01_statmech_bridge.ipynb", "sub", "alice"),
        ("sub/alice/week2/deep/02_softmax_boltzmann.ipynb", "sub", "alice"),
        ("sub/alice.ipynb", "sub", "alice"),
        ("sub/alice_01_statmech_bridge.ipynb", "sub", "alice"),
        ("sub/01_statmech_bridge-alice.ipynb", "sub", "alice"),
        ("sub/Alice Smith - 01_statmech_bridge.ipynb", "sub", "Alice Smith"),
        ("sub/01_statmech_bridge.ipynb", "sub", "sub"),
        ("alice/01_statmech_bridge.ipynb", None, "alice"),
        ("sub/bob.ipynb", None, "bob"),
        ("sub/bob_01_statmech_bridge.ipynb", None, "bob"),
    ],
)
def test_learner_name_from_path(tmp_path, path, root, learner):
    full = tmp_path / path
    assert learner_name(full, tmp_path / root if root else None) == learner


def test_collect_walks_folders_sorted_and_skips_hidden(tmp_path):
    for name in [
        "b/00_how_to_use.ipynb",
        "a/x/00_how_to_use.ipynb",
        "a/00_how_to_use.ipynb",
        "a/.ipynb_checkpoints/00_how_to_use-checkpoint.ipynb",
        "a/._00_how_to_use.ipynb",
        ".git/c.ipynb",
        "c.ipynb",
        "a/notes.txt",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    extra = tmp_path / "a" / "00_how_to_use.ipynb"  # reached twice: graded once
    found = collect([tmp_path, extra, tmp_path / "missing.ipynb"])
    assert [(s.label, s.learner) for s in found] == [
        ("c.ipynb", "c"),
        ("a/00_how_to_use.ipynb", "a"),
        ("a/x/00_how_to_use.ipynb", "a"),
        ("b/00_how_to_use.ipynb", "b"),
        (str(tmp_path / "missing.ipynb"), "missing"),
    ]


def test_a_folder_without_notebooks_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(ValueError, match="holds no notebook"):
        collect([tmp_path])
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "holds no notebook" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--jobs", "0"], ["--timeout", "0"]])
def test_bad_options_are_usage_errors(tmp_path, option):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "x.ipynb"), *option])
    assert exit_info.value.code == 2


def _report(path: str, points: dict[str, float], problems: list[str] | None = None) -> NotebookReport:
    results = [
        {"exercise": i, "status": "", "message": "", "points": p, "max_points": REGISTRY[i].points}
        for i, p in points.items()
    ]
    return NotebookReport(path, results, problems or [], graded=bool(points))


def test_class_table_merges_chapters_and_notes_what_is_missing():
    ch1 = [e.id for e in REGISTRY.values() if e.notebook == "01_statmech_bridge"]
    subs = [
        Submission(Path("s/bea/01.ipynb"), "bea", "bea/01.ipynb"),
        Submission(Path("s/ana/00.ipynb"), "ana", "ana/00.ipynb"),
        Submission(Path("s/ana/01.ipynb"), "ana", "ana/01.ipynb"),
        Submission(Path("s/ana/00b.ipynb"), "ana", "ana/00b.ipynb"),
        Submission(Path("s/cy.ipynb"), "cy", "cy.ipynb"),
    ]
    reports = [
        _report("bea", {i: 1.0 for i in ch1[:-1]}),  # the last exercise's cell deleted
        _report("ana0", {"0.1": 1.0, "0.2": 0.0}, ["cell 5: NameError"]),
        _report("ana1", {i: 0.0 for i in ch1}),
        _report("ana0b", {"0.1": 0.0, "0.2": 1.0}),
        _report("cy", {}, ["not a readable notebook"]),
    ]
    table = class_table(subs, reports)
    assert table.exercises == ["0.1", "0.2", *sorted(ch1, key=exercise_order)]
    assert table.max_points == 2 + len(ch1)
    ana, bea, cy = table.rows
    assert ana.learner == "ana" and ana.total == 2.0
    assert ana.points == {"0.1": 1.0, "0.2": 1.0, **{i: 0.0 for i in ch1}}
    assert ana.notebooks == ["ana/00.ipynb", "ana/01.ipynb", "ana/00b.ipynb"]
    assert ana.problems == [
        "ana/00.ipynb: cell 5: NameError",
        "exercise 0.1: in 2 notebooks, the best counts",
        "exercise 0.2: in 2 notebooks, the best counts",
    ]
    assert bea.total == len(ch1) - 1
    assert bea.problems == [
        "00_how_to_use: no gradable notebook",
        f"01_statmech_bridge: exercise {ch1[-1]} not in the notebook",
    ]
    assert cy.points == {} and cy.total == 0
    assert cy.problems == [
        "cy.ipynb: not a readable notebook",
        "00_how_to_use: no gradable notebook",
        "01_statmech_bridge: no gradable notebook",
    ]


# --------------------------------------------------------------------------- the class


class File(NamedTuple):
    """One file of a learner: where it goes, its text, the points per exercise it earns
    (None: not gradable) and the problems the grader must report, as phrases in order."""

    where: str
    text: str
    earns: dict[str, float] | None
    problems: tuple[str, ...] = ()


def _class(tmp: Path) -> tuple[dict[str, list[File]], list[str]]:
    """The learners (name -> files, in the order the grader collects them) and the
    arguments to grade them with. Built from the demo notebook's own solutions."""
    demo = nbformat.read(DEMO, as_version=4)
    solution = solution_sources(demo)

    def nb(answers: dict[str, str]) -> str:
        return nbformat.writes(with_answers(demo, answers))

    wrong = (  # the sign of the energy lost
        "def boltzmann_probability(x, beta, B):\n"
        "    return np.exp(-beta * B * np.sum(x)) / (2 * np.cosh(beta * B)) ** len(x)"
    )
    kinds = {
        "solved": (nb(solution), {"0.1": 1, "0.2": 1}, ()),
        "only_0.1": (nb({"0.1": solution["0.1"]}), {"0.1": 1, "0.2": 0}, ()),
        "only_0.2": (nb({"0.2": solution["0.2"]}), {"0.1": 0, "0.2": 1}, ()),
        "untouched": (nb({}), {"0.1": 0, "0.2": 0}, ()),
        "wrong_sign": (nb({"0.1": wrong, "0.2": solution["0.2"]}), {"0.1": 0, "0.2": 1}, ()),
        "raises": (
            nb({"0.1": solution["0.1"], "0.2": "beta_half = 1 / 0"}),
            {"0.1": 1, "0.2": 0},
            ("(answer of exercise 0.2): ZeroDivisionError", "(check of exercise 0.2): NameError"),
        ),
        "syntax_error": (
            nb({"0.1": "def boltzmann_probability(x, beta, B)\n    return 1", "0.2": solution["0.2"]}),
            {"0.1": 0, "0.2": 1},
            ("(answer of exercise 0.1): SyntaxError", "(check of exercise 0.1): NameError"),
        ),
        "endless": (
            nb({"0.1": "while True:\n    pass", "0.2": solution["0.2"]}),
            {"0.1": 0, "0.2": 1},
            (f"(answer of exercise 0.1): stopped after {TIMEOUT} s", "(check of exercise 0.1): NameError"),
        ),
        "kernel_dies": (
            nb({"0.1": "import os\nos._exit(1)", "0.2": solution["0.2"]}),
            {"0.1": 0, "0.2": 1},
            ("(answer of exercise 0.1): the kernel died", "(check of exercise 0.1): NameError"),
        ),
        "fake_print": (
            nb({"0.1": 'print("✓ Exercise 0.1 — correct.")\nboltzmann_probability = "correct"'}),
            {"0.1": 0, "0.2": 0},
            (),
        ),
        "not_json": ("this is not JSON\n", None, ("not a readable notebook",)),
        "json_not_notebook": ('{"cells": 3}\n', None, ("not a readable notebook",)),
    }
    roster = (
        ["solved"] * 14
        + ["only_0.1"] * 5
        + ["only_0.2"] * 5
        + ["untouched"] * 6
        + ["wrong_sign"] * 3
        + ["raises"] * 3
        + ["syntax_error"] * 2
        + ["endless"] * 2
        + ["kernel_dies", "fake_print", "fake_print", "not_json", "not_json", "json_not_notebook"]
    )
    layouts = ["{name}/00_how_to_use.ipynb", "{name}.ipynb", "{name}_00_how_to_use.ipynb"]
    learners: dict[str, list[File]] = {}
    for n, kind in enumerate(roster):
        name = f"learner_{n:02d}"
        text, earns, problems = kinds[kind]
        learners[name] = [File("class/" + layouts[n % 3].format(name=name), text, earns, problems)]
    # Two notebooks in one folder: a first try and a resubmission, the best of each counts.
    for n, (first, second) in enumerate(
        [("only_0.1", "only_0.2"), ("solved", "untouched"), ("raises", "endless")]
    ):
        name = f"learner_{len(learners) + n:02d}"
        learners[name] = [
            File(f"class/{name}/{where}", *kinds[kind])
            for where, kind in [("00_how_to_use.ipynb", first), ("resubmitted/00_how_to_use.ipynb", second)]
        ]
    # A notebook handed in late, named on the command line, joins its learner's row.
    learners["learner_00"].append(File("late/learner_00-00_how_to_use.ipynb", *kinds["untouched"]))
    learners["learner_03"].append(File("late/learner_03.ipynb", *kinds["not_json"]))
    late_name = f"learner_{len(learners):02d}"
    learners[late_name] = [File(f"late/{late_name}-00_how_to_use.ipynb", *kinds["solved"])]
    for files in learners.values():
        for file in files:
            (tmp / file.where).parent.mkdir(parents=True, exist_ok=True)
            (tmp / file.where).write_text(file.text)
    # Checkpoint copies and other files the grader must not pick up.
    (tmp / "class/learner_06/.ipynb_checkpoints").mkdir()
    (tmp / "class/learner_06/.ipynb_checkpoints/00_how_to_use-checkpoint.ipynb").write_text("broken")
    (tmp / "class/learner_06/notes.txt").write_text("not a notebook")
    late = sorted(
        str(tmp / f.where) for files in learners.values() for f in files if f.where.startswith("late")
    )
    return learners, [str(tmp / "class"), *late]


def _label(file: File, tmp: Path) -> str:
    return file.where.removeprefix("class/") if file.where.startswith("class/") else str(tmp / file.where)


def _expected_row(files: list[File], tmp: Path) -> dict[str, Any]:
    """The class CSV row that ``files`` must earn, from how they were made."""
    gradable = [f for f in files if f.earns is not None]
    best = {i: max(f.earns[i] for f in gradable) for i in ("0.1", "0.2")} if gradable else {}
    problems = [(_label(f, tmp), phrase) for f in files for phrase in f.problems]
    if len(gradable) > 1:
        problems += [("exercise 0.1", "in 2 notebooks"), ("exercise 0.2", "in 2 notebooks")]
    if not gradable:
        problems.append((SLUG, "no gradable notebook"))
    return {
        "exercise 0.1": f"{best['0.1']:g}" if best else "",
        "exercise 0.2": f"{best['0.2']:g}" if best else "",
        "total": f"{sum(best.values()):g}",
        "max": f"{sum(REGISTRY[i].points for i in ('0.1', '0.2')):g}",
        "notebooks": "; ".join(_label(f, tmp) for f in files),
        "problems": problems,
    }


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    learners, arguments = _class(tmp)
    out, report, stdout = tmp / "class.csv", tmp / "report.json", io.StringIO()
    options = ["--jobs", "2", "--timeout", str(TIMEOUT), "--class-csv", str(out), "--json", str(report)]
    with contextlib.redirect_stdout(stdout):
        code = main([*arguments, *options])
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tmp, learners, code, rows, stdout.getvalue(), json.loads(report.read_text())


@pytest.mark.slow
def test_the_class_has_one_row_per_learner_sorted(graded_class):
    _, learners, _, rows, *_ = graded_class
    assert len(learners) == 50
    assert [r["learner"] for r in rows] == sorted(learners)
    assert list(rows[0]) == [
        "learner",
        "exercise 0.1",
        "exercise 0.2",
        "total",
        "max",
        "notebooks",
        "problems",
    ]


@pytest.mark.slow
def test_every_row_earns_what_its_files_earn(graded_class):
    tmp, learners, _, rows, *_ = graded_class
    for row in rows:
        expected = _expected_row(learners[row["learner"]], tmp)
        phrases = expected.pop("problems")
        got = row["problems"].split("; ") if row["problems"] else []
        assert {k: row[k] for k in expected} == expected, row
        assert len(got) == len(phrases), (row["learner"], got, phrases)
        for line, (prefix, phrase) in zip(got, phrases, strict=True):
            assert line.startswith(prefix + ": ") and phrase in line, (row["learner"], line, prefix, phrase)


@pytest.mark.slow
def test_exit_status_and_summary(graded_class):
    _, learners, code, _, stdout, _ = graded_class
    files = [f for fs in learners.values() for f in fs]
    graded = sum(f.earns is not None for f in files)
    assert code == 1  # some files are not notebooks
    assert (
        f"\n{graded} of {len(files)} notebooks graded. {len(files) - graded} could not be graded.\n" in stdout
    )
    assert "with 2 jobs:" in stdout and "notebooks per minute." in stdout
    assert "50 learners × 2 exercises written to" in stdout


@pytest.mark.slow
def test_every_notebook_earns_what_it_was_made_to(graded_class):
    tmp, learners, *_, records = graded_class
    by_path = {r["path"]: r for r in records}
    files = {str(tmp / f.where): (name, f) for name, fs in learners.items() for f in fs}
    assert sorted(by_path) == sorted(files)  # the checkpoint copy and notes.txt were skipped
    for path, (name, file) in files.items():
        record = by_path[path]
        assert record["learner"] == name
        assert record["graded"] == (file.earns is not None)
        assert {r["exercise"]: r["points"] for r in record["results"]} == (file.earns or {}), path
