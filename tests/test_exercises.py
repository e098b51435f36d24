"""The exercise system: every checker's verdicts and messages, hints, and results."""

from __future__ import annotations

import dataclasses

import nbformat
import numpy as np
import pytest
from conftest import EXERCISES, reference_answers

from physml.exercises import REGISTRY, Result, check, evaluate, exercises_in, grade_namespace, hint
from physml.exercises._core import _HINTS
from physml.grading.notebooks import answer_cells, solution_sources


def reference_solutions() -> dict[str, object]:
    """Each exercise's reference solution, executed from its notebook: id -> answer."""
    return {k: v for path in EXERCISES for k, v in reference_answers(path).items()}


SOLUTIONS = reference_solutions()


def test_every_exercise_has_a_solution_an_answer_cell_and_a_notebook():
    for path in EXERCISES:
        nb = nbformat.read(path, as_version=4)
        slug = nb.metadata["physml"]["exercises"]
        assert slug == path.stem
        ids = [ex.id for ex in exercises_in(slug)]
        assert ids, f"{path.name} has no registered exercises"
        assert sorted(answer_cells(nb)) == sorted(ids)
        assert sorted(solution_sources(nb)) == sorted(ids)
    assert set(SOLUTIONS) == set(REGISTRY)


@pytest.mark.parametrize("exercise", sorted(REGISTRY))
def test_reference_solution_passes(exercise):
    result = check(exercise, SOLUTIONS[exercise])
    assert result.status == "correct", result.message
    assert result.points == result.max_points == REGISTRY[exercise].points


@pytest.mark.parametrize("exercise", sorted(REGISTRY))
@pytest.mark.parametrize("placeholder", ["none", "ellipsis", "stub"])
def test_placeholders_are_not_attempted(exercise, placeholder):
    """None, ``...`` and — for exercises whose answer is a function — a function whose body
    is still ``raise NotImplementedError``."""

    def unwritten(*args, **kwargs):
        raise NotImplementedError

    value = {"none": None, "ellipsis": ..., "stub": unwritten}[placeholder]
    if placeholder == "stub" and not callable(SOLUTIONS[exercise]):
        value = ...  # the answer is a value, whose placeholder is `...`
    result = check(exercise, value)
    assert result.status == "not attempted"
    assert result.points == 0
    assert "not attempted" in str(result)


@pytest.mark.parametrize("exercise", sorted(REGISTRY))
def test_every_exercise_has_three_graded_hints(exercise):
    hints = REGISTRY[exercise].hints
    assert len(hints) == 3 and all(h.strip() for h in hints)
    assert len(set(hints)) == 3


# ---------------------------------------------------------------- exercise 0.1


def p_exact(x, beta, B):
    x = np.asarray(x)
    return np.exp(beta * B * x.sum()) / (2 * np.cosh(beta * B)) ** x.size


def stub(x, beta, B):
    raise NotImplementedError


WRONG_0_1 = {
    "sign": (lambda x, beta, B: p_exact(-np.asarray(x), beta, B), "Check the sign"),
    "no Z": (lambda x, beta, B: np.exp(beta * B * np.sum(x)), "divide it by Z"),
    "sign and no Z": (lambda x, beta, B: np.exp(-beta * B * np.sum(x)), "the sign is wrong and Z is missing"),
    "T for beta": (lambda x, beta, B: p_exact(x, 1 / beta if beta else 0.0, B), "T = 1/β"),
    "factor 2": (lambda x, beta, B: 2 * p_exact(x, beta, B), "2 times too large"),
    "vector": (lambda x, beta, B: np.full(len(x), p_exact(x, beta, B)), "shape (8,)"),
    "nan": (lambda x, beta, B: float("nan"), "NaN"),
    "inf": (lambda x, beta, B: np.inf, "infinity"),
    "None": (lambda x, beta, B: None, "forget a `return`"),
    "string": (lambda x, beta, B: "0.049", "not a string"),
    "raises": (lambda x, beta, B: 1 / 0, "raised ZeroDivisionError"),
    "wrong arity": (lambda x: 0.049, "raised TypeError"),
    "negative": (lambda x, beta, B: -p_exact(x, beta, B), "not a probability"),
    "not callable": (0.049, "expected a function"),
    "text": ("def f(x): ...", "expected a function"),
    "huge": (lambda x, beta, B: np.zeros(3_000_000), "entries"),
    "complex": (lambda x, beta, B: 1j, "complex"),
}


@pytest.mark.parametrize("name", sorted(WRONG_0_1))
def test_wrong_answers_to_0_1_get_specific_messages(name):
    answer, expected_phrase = WRONG_0_1[name]
    result = check("0.1", answer)
    assert result.status == "incorrect"
    assert result.points == 0
    assert expected_phrase in result.message
    assert "Traceback" not in result.message


def test_a_stub_function_is_not_attempted():
    assert check("0.1", stub).status == "not attempted"


def test_float32_answers_are_accepted():
    assert check("0.1", lambda x, beta, B: np.float32(p_exact(x, beta, B))).passed


def test_an_endless_loop_is_stopped(monkeypatch):
    quick = dataclasses.replace(REGISTRY["0.1"], time_limit=0.5)
    monkeypatch.setitem(REGISTRY, "0.1", quick)

    def loop(x, beta, B):
        while True:
            pass

    result = check("0.1", loop)
    assert result.status == "incorrect"
    assert "stopped after 0.5 s" in result.message


def test_a_loop_that_swallows_exceptions_is_still_stopped(monkeypatch):
    monkeypatch.setitem(REGISTRY, "0.1", dataclasses.replace(REGISTRY["0.1"], time_limit=0.5))

    def stubborn(x, beta, B):
        while True:
            try:
                sum(range(1000))
            except Exception:
                pass

    assert "stopped after" in check("0.1", stubborn).message


# ---------------------------------------------------------------- exercise 0.2

BETA_HALF = -0.5 * np.log(2 ** (1 / 8) - 1)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (-BETA_HALF, "negative"),
        (1 / BETA_HALF, "temperature T = 1/β"),
        (0.5, "too small"),
        (2.0, "too large"),
        (0.0, "not positive"),
        ("1.2", "not a string"),
        (np.array([1.2, 1.2]), "shape (2,)"),
        (True, "bool"),
        (float("nan"), "NaN"),
    ],
)
def test_wrong_answers_to_0_2(answer, phrase):
    result = check("0.2", answer)
    assert result.status == "incorrect"
    assert phrase in result.message


@pytest.mark.parametrize("answer", [1.20, 1.21, 1.195, np.float32(1.2), np.array(1.2), [1.2][0]])
def test_answers_to_0_2_within_tolerance(answer):
    assert check("0.2", answer).passed


# ---------------------------------------------------------------- the machinery


@pytest.mark.parametrize("bad_id", ["9.9", "", None, 3.14, object(), ["0.1"]])
def test_unknown_exercise_ids_are_reported(bad_id):
    result = evaluate(bad_id, 1.0)
    assert result.status == "error"
    assert "no exercise" in result.message
    assert "0.1" in result.message  # lists the known ones


def test_results_render_as_text_and_html():
    good = check("0.2", BETA_HALF)
    bad = check("0.2", 0.5)
    assert str(good).startswith("✓ Exercise 0.2 — correct.")
    assert str(bad).startswith("✗ Exercise 0.2 — incorrect.")
    assert "physml-correct" in good._repr_html_()
    assert "physml-incorrect" in bad._repr_html_()
    assert "<script" not in check("0.2", "<script>alert(1)</script>")._repr_html_()
    assert good.as_dict() == {
        "exercise": "0.2",
        "status": "correct",
        "message": good.message,
        "points": 1.0,
        "max_points": 1.0,
    }
    assert isinstance(good, Result)


def test_hints_come_in_order_and_stop_at_the_last(monkeypatch):
    monkeypatch.setattr(_HINTS, "shown", {})
    total = len(REGISTRY["0.1"].hints)
    shown = [hint("0.1") for _ in range(total + 2)]
    assert [h.number for h in shown] == [*range(1, total + 1), total, total]
    assert shown[0].text == REGISTRY["0.1"].hints[0]
    assert "last hint" in shown[-1].text
    assert "Hint 1 of" in str(shown[0]) and "physml-hint" in shown[0]._repr_html_()
    assert "no exercise" in str(hint("42.1"))


def test_grade_namespace_reports_missing_answers():
    results = grade_namespace(["0.1", "0.2"], {"beta_half": BETA_HALF})
    assert [r["status"] for r in results] == ["not attempted", "correct"]
    assert "`boltzmann_probability` is not defined" in results[0]["message"]


@pytest.mark.parametrize("exc", [SystemExit(1), MemoryError(), KeyboardInterrupt(), GeneratorExit()])
def test_base_exceptions_from_the_learner_are_reported(exc):
    def answer(x, beta, B):
        raise exc

    result = check("0.1", answer)
    assert result.status == "incorrect"
    assert type(exc).__name__ in result.message or "interrupted" in result.message
