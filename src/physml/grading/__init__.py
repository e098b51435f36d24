"""Grading: execute learners' notebooks and re-run the checkers on their answers.

``physml-grade PATH... [--jobs N] [--class-csv FILE] [--csv FILE] [--json FILE] [--timeout S]``
on the command line, a path being a notebook or a folder of submissions;
:func:`grade_notebook` for one notebook and :mod:`physml.grading.classroom` for a class
from Python.
"""

from .runner import NotebookReport, exercise_ids, grade_notebook

__all__ = ["NotebookReport", "exercise_ids", "grade_notebook"]
