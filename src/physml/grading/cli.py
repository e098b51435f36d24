"""``physml-grade``: grade exercise notebooks and print points per exercise.

Exit status: 0 when every notebook could be graded (whatever its score), 1 when at least
one could not be (missing, not a notebook, no exercises, the grading step failed), 2 for
a usage error.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .runner import NotebookReport, grade_notebook

CSV_FIELDS = ["notebook", "exercise", "points", "max_points", "status", "message"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="physml-grade",
        description="Execute exercise notebooks in a fresh kernel and grade the answers defined in them.",
    )
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="exercise notebooks (.ipynb)")
    parser.add_argument("--json", metavar="FILE", help="also write the full report as JSON")
    parser.add_argument("--csv", metavar="FILE", help="also write one row per exercise as CSV")
    parser.add_argument(
        "--timeout", metavar="S", type=float, default=60.0, help="time limit per cell in seconds (default 60)"
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")

    reports = []
    for path in args.notebooks:
        report = grade_notebook(path, timeout=args.timeout)
        reports.append(report)
        print(format_report(report), flush=True)
    print(format_summary(reports))
    if args.json:
        Path(args.json).write_text(json.dumps([r.as_dict() for r in reports], indent=2) + "\n")
    if args.csv:
        write_csv(reports, Path(args.csv))
    return 0 if all(r.graded for r in reports) else 1


def format_report(report: NotebookReport) -> str:
    """The table of one notebook: a row per exercise, then its problems."""
    lines = [f"{report.path}"]
    if report.results:
        lines.append(f"  {'exercise':<9} {'points':>7}  {'status':<14} message")
        for r in report.results:
            points = f"{_num(r['points'])}/{_num(r['max_points'])}"
            lines.append(f"  {r['exercise']:<9} {points:>7}  {r['status']:<14} {r['message']}")
        total = f"{_num(report.points)}/{_num(report.max_points)}"
        lines.append(f"  {'total':<9} {total:>7}")
    for problem in report.problems:
        lines.append(f"  ! {problem}")
    if not report.graded:
        lines.append("  NOT GRADED")
    return "\n".join(lines)


def format_summary(reports: list[NotebookReport]) -> str:
    graded = sum(r.graded for r in reports)
    return f"\n{graded} of {len(reports)} notebooks graded."


def write_csv(reports: list[NotebookReport], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for report in reports:
            if not report.results:
                writer.writerow(
                    {
                        "notebook": report.path,
                        "exercise": "",
                        "points": 0,
                        "max_points": 0,
                        "status": "not graded",
                        "message": "; ".join(report.problems),
                    }
                )
            for r in report.results:
                writer.writerow({"notebook": report.path, **{k: r[k] for k in CSV_FIELDS[1:]}})


def _num(x: float) -> str:
    return f"{x:g}"


if __name__ == "__main__":
    sys.exit(main())
