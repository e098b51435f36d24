"""The book built from a clean cache, in total and per notebook, beside Sphinx alone.

    python bench/book_build.py [--quick] [--keep DIR]

Two builds with `make book`'s flags (`--warningiserror --nitpick --keep-going`), each into a
fresh temporary output directory (`jupyter-book build . --path-output TMP/...`), so the
book's own `_build` and its jupyter-cache are neither read nor touched:

1. execute: the book's configuration (`execute_notebooks: cache`). MyST-NB puts the
   jupyter-cache beside the output (`TMP/execute/_build/.jupyter_cache`), empty at the
   start, so every notebook of the table of contents is executed; the script checks that
   (one cache record and one successful execution per notebook, no cache hit).
2. baseline: the same build with `execute_notebooks: off`, the cost of Sphinx alone.

Both read a temporary copy of `_config.yml` that adds `sphinx.ext.duration` (the reading
time of each document, which for a notebook includes its execution) and spells the local
extensions' directory as an absolute path; `--quick` also excludes every notebook but the
`00_*` ones from execution.

Per notebook: the execution time that MyST-NB recorded (the same number jupyter-cache
stores as `execution_seconds`, and the book's execution-times page shows) and the reading
time in both builds. Writes one JSON line to stdout.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
FLAGS = ("--warningiserror", "--nitpick", "--keep-going")
QUICK_EXCLUDE = "0[1-9]_*.ipynb"
CHAPTER = re.compile(r"^(?:chapters|exercises)/(\d\d)_")


def build_config(path: Path, *, execute: bool, quick: bool) -> Path:
    """Write the book's configuration with ``sphinx.ext.duration`` added (and execution
    turned off unless ``execute``) to ``path``; return ``path``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config.setdefault("sphinx", {})
    sphinx["extra_extensions"] = [*sphinx.get("extra_extensions", []), "sphinx.ext.duration"]
    sphinx["local_extensions"] = {
        name: str((ROOT / folder).resolve()) for name, folder in sphinx.get("local_extensions", {}).items()
    }
    execution = config.setdefault("execute", {})
    if not execute:
        execution["execute_notebooks"] = "off"
    elif quick:
        execution["exclude_patterns"] = [*execution.get("exclude_patterns", []), QUICK_EXCLUDE]
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_build(output: Path, config: Path) -> dict[str, Any]:
    """Run one ``jupyter-book build`` into ``output``; its wall time, exit status and warnings."""
    command = [str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(output), "--config", str(config)]
    start = time.perf_counter()
    proc = subprocess.run(
        [*command, *FLAGS], cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600
    )
    wall = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    (output / "build.log").write_text(log)
    warnings = [line for line in log.splitlines() if "WARNING:" in line or "ERROR:" in line]
    return {
        "wall_s": wall,
        "returncode": proc.returncode,
        "succeeded": "build succeeded" in log,
        "warnings": len(warnings),
        "warnings_head": warnings[:10],
        "log_tail": log.splitlines()[-15:] if proc.returncode else [],
        "cache_hits": log.count("Using cached notebook"),
        "cache_path": next(iter(re.findall(r"Using jupyter-cache at: (\S+)", log)), None),
    }


def documents(output: Path) -> dict[str, dict[str, Any]]:
    """Per document of a finished build: its reading time (``sphinx.ext.duration``) and, for an
    executed notebook, MyST-NB's execution record, from the pickled Sphinx environment."""
    pickled = output / "_build" / ".doctrees" / "environment.pickle"
    if not pickled.exists():
        return {}
    with pickled.open("rb") as f:
        env = pickle.load(f)
    reading = env.domaindata.get("duration", {}).get("reading_durations", {})
    out: dict[str, dict[str, Any]] = {}
    for doc in sorted(env.all_docs):
        entry: dict[str, Any] = {"read_s": reading.get(doc), "notebook": (ROOT / f"{doc}.ipynb").exists()}
        exec_data = env.nb_metadata.get(doc, {}).get("exec_data") if hasattr(env, "nb_metadata") else None
        if exec_data:
            entry.update(
                execution_s=exec_data.get("runtime"),
                method=exec_data.get("method"),
                succeeded=exec_data.get("succeeded"),
                error=exec_data.get("error"),
            )
        out[doc] = entry
    return out


def cache_records(output: Path) -> dict[str, float]:
    """Notebook path (relative to the book) -> ``execution_seconds`` stored by jupyter-cache."""
    from jupyter_cache import get_cache

    folder = output / "_build" / ".jupyter_cache"
    if not folder.exists():
        return {}
    return {
        str(Path(r.uri).relative_to(ROOT)): r.data.get("execution_seconds")
        for r in get_cache(str(folder)).list_cache_records()
    }


def per_chapter(execute: dict[str, dict], baseline: dict[str, dict]) -> dict[str, dict[str, float | None]]:
    """Execution and reading times summed over each chapter's two notebooks (chapter and
    exercises, keyed "00".."09"; None for a notebook that did not execute); every other
    document under "other"."""
    totals: dict[str, dict[str, float | None]] = {}
    for doc in sorted(set(execute) | set(baseline)):
        match = CHAPTER.match(doc)
        row = totals.setdefault(match.group(1) if match else "other", {})
        kind = doc.split("/")[0] if match else "other"
        seconds = execute.get(doc, {}).get("execution_s")
        key = f"{kind}_execution_s"
        row[key] = row.get(key) if seconds is None else (row.get(key) or 0.0) + seconds
        for name, docs in (("read_s", execute), ("read_s_no_execution", baseline)):
            row[name] = row.get(name, 0.0) + (docs.get(doc, {}).get("read_s") or 0.0)
    return totals


def measure(output: Path, config: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One build into ``output`` and its per-document record."""
    output.mkdir(parents=True)
    build = run_build(output, config)
    return build, documents(output)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="execute only the 00_* notebooks")
    parser.add_argument("--keep", type=Path, default=None, help="build into DIR (must not exist) and keep it")
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        raise ValueError(f"--keep {args.keep}: the directory exists; give a new one")
    tmp = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="physml-book-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        execute, execute_docs = measure(
            tmp / "execute", build_config(tmp / "execute.yml", execute=True, quick=args.quick)
        )
        execute["cache_records"] = cache_records(tmp / "execute")
        baseline, baseline_docs = measure(
            tmp / "no-execution", build_config(tmp / "no-execution.yml", execute=False, quick=args.quick)
        )
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    notebooks = sorted(doc for doc, entry in execute_docs.items() if entry["notebook"])
    executed = [doc for doc in notebooks if execute_docs[doc].get("succeeded")]
    execution_total = sum(execute_docs[doc].get("execution_s") or 0.0 for doc in executed)
    print(
        json.dumps(
            {
                "benchmark": "book_build",
                "quick": args.quick,
                "flags": list(FLAGS),
                "execute": execute,
                "no_execution": baseline,
                "notebooks_in_toc": len(notebooks),
                "notebooks_executed": len(executed),
                "notebooks_not_executed": sorted(set(notebooks) - set(executed)),
                "execution_total_s": execution_total,
                "sphinx_share_s": execute["wall_s"] - execution_total,
                "documents": {
                    doc: {
                        "execute": execute_docs[doc],
                        **({"no_execution": baseline_docs[doc]} if doc in baseline_docs else {}),
                    }
                    for doc in execute_docs
                },
                "chapters": per_chapter(execute_docs, baseline_docs),
                "kept": str(tmp) if args.keep else None,
            }
        )
    )


if __name__ == "__main__":
    main()
