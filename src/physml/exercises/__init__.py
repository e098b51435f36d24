"""Graded exercises: ``check`` an answer, ask for a ``hint``, build a widget exercise.

In an exercise notebook::

    from physml.exercises import check, hint

    def boltzmann_probability(x, beta, B):
        ...

    check("0.1", boltzmann_probability)   # shows a short coloured verdict
    hint("0.1")                           # shows the next hint

``check`` returns a :class:`Result` (``passed``, ``points``, ``message``), so the same
call serves a notebook, a test and the grader. Checkers live in one module per chapter
(``ch00``, ``ch01``, ...); each registers itself with :func:`exercise`.
"""

from __future__ import annotations

from typing import Any

from . import ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09  # noqa: F401  (each registers its chapter's exercises)
from ._core import (
    REGISTRY,
    Exercise,
    Hint,
    NotAttempted,
    Result,
    Wrong,
    evaluate,
    exercise,
    next_hint,
)

__all__ = [
    "REGISTRY",
    "Exercise",
    "Hint",
    "NotAttempted",
    "Result",
    "Wrong",
    "check",
    "evaluate",
    "exercise",
    "exercises_in",
    "grade_namespace",
    "hint",
]


def check(exercise_id: str, answer: Any) -> Result:
    """Check ``answer`` for exercise ``exercise_id``; the result displays itself.

    Never raises: whatever ``answer`` is (``None``, a string, a function that raises or
    loops, an array of the wrong shape, NaN), the result says what is wrong.
    """
    return evaluate(exercise_id, answer)


def hint(exercise_id: str) -> Hint:
    """Show the next hint of exercise ``exercise_id`` (mildest first)."""
    return next_hint(exercise_id)


def exercises_in(notebook: str) -> list[Exercise]:
    """The exercises of an exercise notebook, by slug (``"00_how_to_use"``), in order."""
    found = [ex for ex in REGISTRY.values() if ex.notebook == notebook]
    return sorted(found, key=lambda ex: tuple(int(p) for p in ex.id.split(".")))


def grade_namespace(ids: list[str], namespace: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the answers found in ``namespace`` (a kernel's globals) for the given ids.

    An answer the notebook never defined counts as not attempted. Used by the grader,
    which runs it in the learner's kernel after executing the notebook.
    """
    results = []
    for exercise_id in ids:
        ex = REGISTRY.get(exercise_id)
        if ex is None:
            results.append(evaluate(exercise_id, None).as_dict())
            continue
        if ex.answer not in namespace:
            results.append(
                Result(
                    ex.id, "not attempted", f"`{ex.answer}` is not defined in the notebook.", 0.0, ex.points
                ).as_dict()
            )
            continue
        results.append(evaluate(ex.id, namespace[ex.answer]).as_dict())
    return results
