"""Read and rewrite exercise notebooks: their answer cells and their reference solutions.

An exercise notebook keeps each exercise's reference solution once, in a markdown cell
tagged ``solution`` (metadata ``physml.exercise``) that holds one fenced ``python`` block.
The book shows it behind a toggle; :func:`solved` substitutes it into the answer cell, so
a test can prove that every reference solution passes its check.
"""

from __future__ import annotations

import copy
import re

import nbformat

__all__ = ["answer_cells", "solution_sources", "solved", "with_answers"]

_FENCE = re.compile(r"```python\n(.*?)\n```", re.DOTALL)


def _role(cell: nbformat.NotebookNode, role: str) -> str | None:
    meta = cell.get("metadata", {}).get("physml", {})
    if isinstance(meta, dict) and meta.get("role") == role and isinstance(meta.get("exercise"), str):
        return meta["exercise"]
    return None


def answer_cells(nb: nbformat.NotebookNode) -> dict[str, list[int]]:
    """Exercise id → indices of its answer cells (usually one)."""
    found: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        exercise = _role(cell, "answer")
        if exercise is not None and cell.cell_type == "code":
            found.setdefault(exercise, []).append(index)
    return found


def solution_sources(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Exercise id → the code of its reference solution."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        exercise = _role(cell, "solution")
        if exercise is None:
            continue
        blocks = _FENCE.findall(cell.source)
        if len(blocks) != 1:
            raise ValueError(f"the solution of exercise {exercise} must hold exactly one ```python block")
        found[exercise] = blocks[0]
    return found


def with_answers(nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose answer cells hold the given sources (id → code)."""
    new = copy.deepcopy(nb)
    cells = answer_cells(new)
    for exercise, source in answers.items():
        if exercise not in cells:
            raise KeyError(f"the notebook has no answer cell for exercise {exercise}")
        for index in cells[exercise]:
            new.cells[index].source = source
    return new


def solved(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with every answer cell replaced by its reference solution."""
    return with_answers(nb, solution_sources(nb))
