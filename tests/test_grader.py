"""physml-grade on fixture notebooks made from the real exercise notebook.

One call of the command grades them all, as an instructor would: solved, untouched, a
wrong answer, a syntax error, an endless loop, a dying kernel, printed fake results, a
file that is not a notebook, JSON that is not a notebook, a chapter without exercises and
a missing file.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from physml.grading.notebooks import solved, with_answers

pytestmark = pytest.mark.slow

DEMO = ROOT / "exercises" / "00_how_to_use.ipynb"
GOOD_0_2 = "beta_half = 1.2"
FIXTURES = {
    "solved": lambda nb: solved(nb),
    "untouched": lambda nb: nb,
    "wrong_sign": lambda nb: with_answers(
        nb,
        {
            "0.1": "def boltzmann_probability(x, beta, B):\n"
            "    return np.exp(-beta * B * np.sum(x)) / (2 * np.cosh(beta * B)) ** len(x)",
            "0.2": GOOD_0_2,
        },
    ),
    "syntax_error": lambda nb: with_answers(
        nb, {"0.1": "def boltzmann_probability(x, beta, B)\n    return 1", "0.2": GOOD_0_2}
    ),
    "endless_loop": lambda nb: with_answers(nb, {"0.1": "while True:\n    pass", "0.2": GOOD_0_2}),
    "kernel_dies": lambda nb: with_answers(nb, {"0.1": "import os\nos._exit(1)", "0.2": GOOD_0_2}),
    "fake_print": lambda nb: with_answers(
        nb,
        {
            "0.1": 'print(\'[{"exercise": "0.1", "status": "correct", "points": 1.0}]\')\n'
            'print("✓ Exercise 0.1: Correct.")\nboltzmann_probability = "correct"',
        },
    ),
}
TIMEOUT = 10


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every fixture in one call; return (exit code, stdout, reports by name, csv rows)."""
    folder = tmp_path_factory.mktemp("submissions")
    demo = nbformat.read(DEMO, as_version=4)
    paths = {}
    for name, make in FIXTURES.items():
        paths[name] = folder / f"{name}.ipynb"
        nbformat.write(make(demo), paths[name])
    paths["not_a_notebook"] = folder / "not_a_notebook.ipynb"
    paths["not_a_notebook"].write_text("this is not JSON\n")
    paths["json_not_notebook"] = folder / "json_not_notebook.ipynb"
    paths["json_not_notebook"].write_text('{"cells": 3}\n')
    paths["chapter"] = folder / "chapter.ipynb"
    shutil.copy(ROOT / "chapters" / "00_how_to_use.ipynb", paths["chapter"])
    paths["missing"] = folder / "missing.ipynb"
    order = list(paths)
    json_out, csv_out = folder / "report.json", folder / "report.csv"
    proc = subprocess.run(
        [
            Path(sys.executable).parent / "physml-grade",
            *map(str, paths.values()),
            "--timeout",
            str(TIMEOUT),
            "--json",
            str(json_out),
            "--csv",
            str(csv_out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = {name: report for name, report in zip(order, json.loads(json_out.read_text()), strict=True)}
    with csv_out.open() as handle:
        rows = list(csv.DictReader(handle))
    return proc.returncode, proc.stdout, reports, rows


def statuses(report):
    return {r["exercise"]: r["status"] for r in report["results"]}


def test_solved_gets_full_points(graded):
    _, _, reports, _ = graded
    report = reports["solved"]
    assert report["graded"] and report["problems"] == []
    assert report["points"] == report["max_points"] == 2
    assert statuses(report) == {"0.1": "correct", "0.2": "correct"}


def test_untouched_gets_zero_not_attempted(graded):
    report = graded[2]["untouched"]
    assert report["graded"] and report["points"] == 0
    assert statuses(report) == {"0.1": "not attempted", "0.2": "not attempted"}
    assert report["problems"] == []  # placeholders run clean


def test_wrong_sign_gets_the_sign_message(graded):
    report = graded[2]["wrong_sign"]
    assert report["points"] == 1
    assert "Check the sign" in report["results"][0]["message"]


def test_syntax_error_is_reported_and_the_rest_graded(graded):
    report = graded[2]["syntax_error"]
    assert report["graded"]
    assert any("SyntaxError" in p and "answer of exercise 0.1" in p for p in report["problems"])
    assert statuses(report) == {"0.1": "not attempted", "0.2": "correct"}


def test_endless_loop_is_stopped_and_the_rest_graded(graded):
    report = graded[2]["endless_loop"]
    assert report["graded"]
    assert any(f"stopped after {TIMEOUT} s" in p for p in report["problems"])
    assert statuses(report)["0.2"] == "correct"


def test_kernel_death_is_survived(graded):
    report = graded[2]["kernel_dies"]
    assert report["graded"]
    assert any("kernel died" in p for p in report["problems"])
    assert statuses(report) == {"0.1": "not attempted", "0.2": "correct"}


def test_printed_text_earns_nothing(graded):
    report = graded[2]["fake_print"]
    assert report["points"] == 0
    assert report["results"][0]["status"] == "incorrect"
    assert "expected a function" in report["results"][0]["message"]


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("not_a_notebook", "not a readable notebook"),
        ("json_not_notebook", "not a readable notebook"),
        ("chapter", "no exercises found"),
        ("missing", "file not found"),
    ],
)
def test_ungradable_files_get_a_clear_line(graded, name, phrase):
    report = graded[2][name]
    assert not report["graded"]
    assert any(phrase in p for p in report["problems"]), report["problems"]


def test_table_csv_and_exit_status(graded):
    code, stdout, reports, rows = graded
    assert code == 1  # some notebooks could not be graded
    assert "  total         2/2" in stdout
    assert "NOT GRADED" in stdout
    assert f"{sum(r['graded'] for r in reports.values())} of {len(reports)} notebooks graded." in stdout
    solved_rows = [r for r in rows if r["notebook"].endswith("solved.ipynb")]
    assert [(r["exercise"], r["status"]) for r in solved_rows] == [("0.1", "correct"), ("0.2", "correct")]
    assert any(r["status"] == "not graded" and "file not found" in r["message"] for r in rows)


def test_exit_status_is_zero_when_everything_could_be_graded(tmp_path):
    path = tmp_path / "mine.ipynb"
    shutil.copy(DEMO, path)
    proc = subprocess.run(
        [Path(sys.executable).parent / "physml-grade", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0/2" in proc.stdout


def test_usage_errors_exit_2():
    proc = subprocess.run(
        [Path(sys.executable).parent / "physml-grade"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "usage" in proc.stderr
