"""Grading: execute learners' notebooks and re-run the checkers on their answers.

``physml-grade NOTEBOOK... [--json FILE] [--csv FILE] [--timeout S]`` on the command line;
:func:`grade_notebook` from Python.
"""

from .runner import NotebookReport, exercise_ids, grade_notebook

__all__ = ["NotebookReport", "exercise_ids", "grade_notebook"]
