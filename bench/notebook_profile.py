"""Where a notebook's run time goes: per code cell, wall time split into JAX tracing, lowering to
MLIR, XLA compilation (and how many programs) and the rest (execution, Python, plotting).

The cells run in this process, in order, with matplotlib's Agg backend and their printed output
captured; a cell marked ``remove-cell`` that installs on Colab is skipped. The durations come
from ``jax.monitoring`` (the events JAX records for every trace, lowering and compilation), so
nothing is patched. ``--programs N`` also lists the N costliest compiled programs by name;
``--sites`` lists every compiled program with where it was asked for (the notebook line and
the innermost ``physml`` function on the stack), to find the small programs that eager
operations compile one by one; ``--check`` compares each ``# NBVAL_CHECK_OUTPUT`` cell's
printed text with the output stored in the notebook, so that a change made for speed can be
seen to leave the checked numbers alone.

    .venv/bin/python bench/notebook_profile.py chapters/07_physics_as_inductive_bias.ipynb
    .venv/bin/python bench/notebook_profile.py NOTEBOOK --programs 20 --sites --check --json

Run it on a quiet machine and more than once: on a shared 2-core VM the same notebook's total
varies by ±10 % between runs. The in-process total leaves out the kernel start and the
notebook's first imports that a fresh ``nbclient`` run pays (about 5 s here).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import sys
import time
import traceback

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "compile",
}


def _code_cells(path: str) -> list[tuple[int, str, str]]:
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if "google.colab" in source and "remove-cell" in (cell.get("metadata", {}).get("tags") or []):
            continue
        outputs = cell.get("outputs", [])
        stored = "".join("".join(o.get("text", "")) for o in outputs if o.get("name") == "stdout")
        cells.append((i, source, stored))
    return cells


def _site(stack: traceback.StackSummary) -> str:
    """Where a program was asked for: the notebook line, and the innermost ``physml`` frame."""
    cell = next(
        (f"{f.filename[1:-1]}:{f.lineno}" for f in reversed(stack) if f.filename.startswith("<cell")), "?"
    )
    package = "/physml/"
    inner = next((f for f in reversed(stack) if package in f.filename), None)
    where = f" {inner.filename.rsplit(package, 1)[1]}:{inner.lineno} {inner.name}" if inner else ""
    return cell + where


def profile(path: str, check: bool) -> dict:
    import jax.monitoring
    import matplotlib

    matplotlib.use("Agg")
    events: list[tuple[int, str, str, float]] = []
    sites: list[tuple[str, str, float]] = []
    current = {"cell": -1}

    def listen(event: str, duration: float, **kwargs: object) -> None:
        if event in EVENTS:
            name = str(kwargs.get("fun_name", "?")).removeprefix("jit(").removesuffix(")")
            events.append((current["cell"], EVENTS[event], name, duration))
            if EVENTS[event] == "compile":
                sites.append((name, _site(traceback.extract_stack()), duration))

    jax.monitoring.register_event_duration_secs_listener(listen)
    namespace: dict = {"__name__": "__main__"}
    rows, mismatches = [], []
    start = time.perf_counter()
    for index, source, stored in _code_cells(path):
        current["cell"] = index
        out = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
        wall = time.perf_counter() - t0
        mine = [e for e in events if e[0] == index]
        split = {kind: sum(e[3] for e in mine if e[1] == kind) for kind in ("trace", "lower", "compile")}
        programs = sum(1 for e in mine if e[1] == "compile")
        other = wall - sum(split.values())
        rows.append({"cell": index, "wall": wall, **split, "programs": programs, "other": other})
        if check and "NBVAL_CHECK_OUTPUT" in source and out.getvalue() != stored:
            mismatches.append({"cell": index, "stored": stored, "now": out.getvalue()})
    total = time.perf_counter() - start
    empty = {"programs": 0, "trace": 0.0, "lower": 0.0, "compile": 0.0}
    by_program: dict = collections.defaultdict(lambda: dict(empty))
    for cell, kind, name, duration in events:
        entry = by_program[cell, name]
        entry[kind] += duration
        entry["programs"] += kind == "compile"
    programs = [{"cell": c, "name": n, **v} for (c, n), v in by_program.items()]
    programs.sort(key=lambda p: -(p["trace"] + p["lower"] + p["compile"]))
    return {
        "notebook": path,
        "total": total,
        "cells": rows,
        "programs": programs,
        "sites": [{"name": n, "site": w, "compile": d} for n, w, d in sites],
        "mismatches": mismatches,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("notebook")
    parser.add_argument("--programs", type=int, default=0, help="list the N costliest compiled programs")
    parser.add_argument("--sites", action="store_true", help="list every compiled program and its call site")
    parser.add_argument("--check", action="store_true", help="compare checked cells with their stored output")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of tables")
    args = parser.parse_args()
    result = profile(args.notebook, args.check)
    if args.json:
        sites = result["sites"] if args.sites else []
        print(json.dumps({**result, "programs": result["programs"][: args.programs], "sites": sites}))
        return 1 if result["mismatches"] else 0
    head = f"{'cell':>4} {'wall':>7} {'trace':>7} {'lower':>7} {'compile':>8} {'programs':>9} {'other':>7}"
    print(head)
    for r in result["cells"]:
        print(
            f"{r['cell']:>4} {r['wall']:>7.2f} {r['trace']:>7.2f} {r['lower']:>7.2f} "
            f"{r['compile']:>8.2f} {r['programs']:>9d} {r['other']:>7.2f}"
        )
    sums = {k: sum(r[k] for r in result["cells"]) for k in ("trace", "lower", "compile", "programs", "other")}
    print(
        f"{'all':>4} {result['total']:>7.2f} {sums['trace']:>7.2f} {sums['lower']:>7.2f} "
        f"{sums['compile']:>8.2f} {sums['programs']:>9d} {sums['other']:>7.2f}   (seconds)"
    )
    if args.programs:
        print(f"\n{'cell':>4} {'program':<32} {'trace':>7} {'lower':>7} {'compile':>8} {'count':>6}")
        for p in result["programs"][: args.programs]:
            print(
                f"{p['cell']:>4} {p['name']:<32.32} {p['trace']:>7.2f} {p['lower']:>7.2f} "
                f"{p['compile']:>8.2f} {p['programs']:>6d}"
            )
    if args.sites:
        print(f"\n{'program':<24} {'compile':>8}  asked for at (notebook line, innermost physml frame)")
        for site in result["sites"]:
            print(f"{site['name']:<24.24} {site['compile']:>8.3f}  {site['site']}")
    for m in result["mismatches"]:
        print(f"\ncell {m['cell']} printed other text than its stored output:\n{m['now']}", file=sys.stderr)
    if args.check and not result["mismatches"]:
        print("\nevery checked cell printed its stored output")
    return 1 if result["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
