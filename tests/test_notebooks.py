"""Notebook hygiene, and every reference solution proven in its own notebook.

nbval itself runs over chapters/ and exercises/ (see ``testpaths`` and ``addopts`` in
pyproject.toml): placeholders must run clean and checked outputs must match.
"""

from __future__ import annotations

import nbformat
import pytest
from conftest import CHAPTERS, EXERCISES, ROOT

from physml.grading import grade_notebook
from physml.grading.notebooks import solved

NOTEBOOKS = CHAPTERS + EXERCISES
MARK = "NBVAL_CHECK_OUTPUT"
COLAB_CELL = (ROOT / "chapters" / "00_how_to_use.ipynb", 0)


def ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def test_there_are_notebooks():
    assert CHAPTERS and EXERCISES
    assert {p.name for p in EXERCISES} <= {p.name for p in CHAPTERS}, (
        "every exercise notebook has its chapter"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_normalized_nbformat4(path):
    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert text == nbformat.writes(nb) + ("\n" if not nbformat.writes(nb).endswith("\n") else ""), (
        "not normalized: run `python tools/nbtool.py strip` on it"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_only_checked_cells_store_output(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, "widget state is stored"
    for index, cell in enumerate(nb.cells):
        where = f"{path.name} cell {index + 1}"
        if cell.cell_type != "code":
            assert "outputs" not in cell and not cell.get("attachments"), where
            continue
        if MARK in cell.source:
            assert cell.execution_count is not None, f"{where}: a checked cell needs its execution count"
            assert cell.outputs, f"{where}: a checked cell needs its output"
            for output in cell.outputs:
                assert output.output_type in ("stream", "execute_result"), where
                if output.output_type == "execute_result":
                    assert set(output.data) == {"text/plain"}, f"{where}: only plain text is kept"
        else:
            assert cell.outputs == [], f"{where}: stored output in an unchecked cell"
            assert cell.execution_count is None, f"{where}: stored execution count in an unchecked cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_first_cell_installs_physml_only_on_colab(path):
    first = nbformat.read(path, as_version=4).cells[0]
    reference = nbformat.read(COLAB_CELL[0], as_version=4).cells[COLAB_CELL[1]]
    assert first.cell_type == "code"
    assert first.metadata.get("physml", {}).get("role") == "colab-install"
    assert first.source == reference.source, "every notebook carries the same install cell"
    assert 'if "google.colab" in sys.modules:' in first.source


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_has_objectives_summary_and_exercise_link(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert "You will learn" in text and "Prerequisites" in text and "Time:" in text
    assert "## Summary" in text
    assert f"../exercises/{path.name}" in text or not (ROOT / "exercises" / path.name).exists()


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_reference_solutions_pass_in_their_notebook(path, tmp_path):
    target = tmp_path / path.name
    nbformat.write(solved(nbformat.read(path, as_version=4)), target)
    report = grade_notebook(target, timeout=120)
    assert report.graded and report.problems == [], report.problems
    assert report.results and all(r["status"] == "correct" for r in report.results), report.results
