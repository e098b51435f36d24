"""``physml-grade``: grade exercise notebooks, one learner's or a whole class's.

Exit status: 0 when every notebook could be graded (whatever its score), 1 when at least
one could not be (missing, not a notebook, no exercises, the grading step failed), 2 for
a usage error (a bad option, a folder that holds no notebook), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from .classroom import Submission, class_table, collect, grade_many, write_class_csv
from .runner import NotebookReport

CSV_FIELDS = ["learner", "notebook", "exercise", "points", "max_points", "status", "message"]

EPILOG = """\
Folders are searched recursively for *.ipynb (hidden folders such as .ipynb_checkpoints
are skipped). Each notebook belongs to a learner, named from its path:
  FOLDER/alice/01_statmech_bridge.ipynb   -> alice  (first subfolder under a folder argument)
  FOLDER/alice.ipynb                      -> alice  (file name ...
  FOLDER/alice_01_statmech_bridge.ipynb   -> alice   ... without the chapter's slug)
  alice/01_statmech_bridge.ipynb          -> alice  (a file named just by its slug: its folder)
A learner's notebooks of several chapters fill one row of --class-csv; an exercise graded
in two of their notebooks counts its best points.

examples:
  physml-grade submissions/ --jobs 2 --class-csv class.csv
  physml-grade alice/01_statmech_bridge.ipynb --csv alice.csv

exit status: 0 every notebook graded (whatever its score); 1 at least one could not be
graded; 2 usage error; 130 interrupted.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        submissions = collect(args.paths)
    except ValueError as exc:
        parser.error(str(exc))

    start = time.perf_counter()
    try:
        reports = _grade_and_print(submissions, args.timeout, args.jobs)
    except KeyboardInterrupt:
        print("physml-grade: interrupted; no report written.", file=sys.stderr)
        return 130
    print(format_summary(reports, time.perf_counter() - start, args.jobs))

    if args.json:
        records = [{"learner": s.learner, **r.as_dict()} for s, r in zip(submissions, reports, strict=True)]
        Path(args.json).write_text(json.dumps(records, indent=2) + "\n")
    if args.csv:
        write_csv(reports, Path(args.csv), [s.learner for s in submissions])
    if args.class_csv:
        table = class_table(submissions, reports)
        write_class_csv(table, Path(args.class_csv))
        print(f"{len(table.rows)} learners × {len(table.exercises)} exercises written to {args.class_csv}")
    return 0 if all(r.graded for r in reports) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="physml-grade",
        description=(
            "Execute exercise notebooks, each in a fresh kernel, and grade the answers defined in\n"
            "them (printed text earns nothing). Prints a table per notebook, in the order given\n"
            "(a folder's notebooks sorted), progress on stderr, and a summary."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="exercise notebooks (.ipynb), or folders of submissions"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the full report as JSON")
    parser.add_argument("--csv", metavar="FILE", help="also write one row per notebook and exercise as CSV")
    parser.add_argument(
        "--class-csv",
        metavar="FILE",
        help="also write one row per learner as CSV: points per exercise, total, max, notebooks, problems",
    )
    parser.add_argument(
        "--timeout", metavar="S", type=float, default=60.0, help="time limit per cell in seconds (default 60)"
    )
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=1,
        help="grade N notebooks at once, each in its own kernel (default 1; use at most one per CPU core)",
    )
    return parser


def _grade_and_print(submissions: list[Submission], timeout: float, jobs: int) -> list[NotebookReport]:
    """Grade all, print each notebook's table in the order given, show progress on stderr."""
    reports: list[NotebookReport | None] = [None] * len(submissions)
    printed = 0
    with tqdm(
        total=len(submissions),
        unit="notebook",
        file=sys.stderr,
        disable=None if len(submissions) > 1 else True,
    ) as bar:
        for index, report in grade_many([s.path for s in submissions], timeout=timeout, jobs=jobs):
            reports[index] = report
            bar.update(1)
            while printed < len(reports) and reports[printed] is not None:
                tqdm.write(format_report(reports[printed]), file=sys.stdout)
                printed += 1
    sys.stdout.flush()
    return [r for r in reports if r is not None]


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


def format_summary(reports: list[NotebookReport], seconds: float | None = None, jobs: int = 1) -> str:
    """How many notebooks were graded, how many could not be, and how fast."""
    graded = sum(r.graded for r in reports)
    text = f"\n{graded} of {len(reports)} notebooks graded."
    if graded < len(reports):
        text += f" {len(reports) - graded} could not be graded."
    if seconds is not None and seconds > 0:
        rate = 60 * len(reports) / seconds
        text += (
            f"\nWall time {seconds:.1f} s with {jobs} job{'s' * (jobs > 1)}: {rate:.1f} notebooks per minute."
        )
    return text


def write_csv(reports: list[NotebookReport], path: Path, learners: list[str] | None = None) -> None:
    """One row per notebook and exercise (a notebook that could not be graded: one row)."""
    learners = learners if learners is not None else [""] * len(reports)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for learner, report in zip(learners, reports, strict=True):
            if not report.results:
                writer.writerow(
                    {
                        "learner": learner,
                        "notebook": report.path,
                        "exercise": "",
                        "points": 0,
                        "max_points": 0,
                        "status": "not graded",
                        "message": "; ".join(report.problems),
                    }
                )
            for r in report.results:
                writer.writerow(
                    {"learner": learner, "notebook": report.path, **{k: r[k] for k in CSV_FIELDS[2:]}}
                )


def _num(x: float) -> str:
    return f"{x:g}"


if __name__ == "__main__":
    sys.exit(main())
