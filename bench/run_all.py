"""Every benchmark of the book in one run, each figure beside its baseline from the same run.

    .venv/bin/python bench/run_all.py [--only NAME ...] [--quick] [--no-netket] [--make-test]

Runs the scripts of bench/ one after another, each in its own subprocess (and process group)
with a time limit and OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = 1, reads the JSON line each
prints, and writes bench/results.json (every figure, the machine, the load average before
and after each benchmark) and bench/results.md (the tables). A benchmark that fails or runs
out of time is recorded with the tail of its stderr, and the others still run; the full
stderr of each is kept in _build/bench/. The exit status is non-zero only when the harness
itself breaks: nothing here asserts a time.

Benchmarks (default: all but the extras):

    ising      2-D Ising Metropolis flips/s: physml (JAX) vs NumPy     (ising_throughput.py)
    lanczos    TFIM chain N = 20 ground state: physml vs scipy on a Kronecker CSR  (lanczos.py)
    nqs        VMC iterations/s: physml vs NetKet, TFIM N = 20          (nqs_vs_netket.py)
    widgets    slider move -> new figure, beside draw and PNG alone     (widget_latency.py)
    book       book build from a clean cache vs execution off           (book_build.py)
    test       the last recorded `make test` (tests/conftest.py writes it); --make-test runs it
    extras, only when named: landscapes (landscapes_curvature.py), charlm (charlm_training.py)

NetKet lives in its own environment, .venv-bench; when it is missing and `nqs` is selected,
it is created first (`python3 -m venv .venv-bench` and `pip install -r requirements.lock
netket`, log in _build/bench/netket-install.log) unless --no-netket is given. A failed
install is recorded and physml runs alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LOGS = ROOT / "_build" / "bench"
NETKET_VENV = ROOT / ".venv-bench"
TEST_RECORD = ROOT / "_build" / "test-session.json"
TEST_RECORD_LAST = ROOT / "_build" / "test-session-last.json"
PINNED_ENV = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
WIDGET_TARGET_MS = 100.0


@dataclass(frozen=True)
class Benchmark:
    """A script of bench/ and how run_all calls it."""

    script: str
    title: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()
    timeout_s: float = 900.0
    quick_timeout_s: float = 300.0


BENCHMARKS: dict[str, Benchmark] = {
    "ising": Benchmark(
        "ising_throughput.py",
        "2-D Ising Metropolis",
        quick_args=("--L", "64", "--sweeps", "50", "--repeats", "1"),
        timeout_s=600,
    ),
    "lanczos": Benchmark("lanczos.py", "Lanczos, TFIM chain", quick_args=("--sites", "14"), timeout_s=900),
    "nqs": Benchmark(
        "nqs_vs_netket.py",
        "NQS VMC vs NetKet",
        args=("--iterations", "100", "--learning-rate", "0.05"),
        quick_args=("--iterations", "20"),
        timeout_s=900,
    ),
    "widgets": Benchmark(
        "widget_latency.py",
        "Widget callback latency",
        args=("--moves", "50", "--warmup", "5"),
        quick_args=("--moves", "5", "--warmup", "1"),
        timeout_s=1500,
    ),
    "book": Benchmark(
        "book_build.py", "Book build", quick_args=("--quick",), timeout_s=2700, quick_timeout_s=900
    ),
    "landscapes": Benchmark(
        "landscapes_curvature.py", "Sharpness and GOE P₈", quick_args=("--repeats", "1"), timeout_s=600
    ),
    "charlm": Benchmark(
        "charlm_training.py", "Character LM", quick_args=("--length", "100", "--repeats", "1"), timeout_s=900
    ),
}
EXTRAS = ("landscapes", "charlm")
DEFAULT = ("ising", "lanczos", "nqs", "widgets", "book", "test")
NAMES = (*DEFAULT, *EXTRAS)


# ----------------------------------------------------------------------------- running


def child_env() -> dict[str, str]:
    """The environment of every benchmark: this one with BLAS pinned to one thread."""
    return {**os.environ, **PINNED_ENV}


def tail(text: str | bytes | None, lines: int = 25) -> str:
    """The last ``lines`` lines of a process's output."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").rstrip().splitlines()[-lines:])


def run_group(command: Sequence[str], timeout: float, log: Path, *, merge: bool = False) -> dict[str, Any]:
    """Run ``command`` from the repository root in its own process group, appending its stderr
    (and, with ``merge``, its stdout) to ``log``; on timeout the whole group is ended."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("a") as err:
        proc = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=child_env(),
            stdout=err if merge else subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )
        timed_out = False
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stdout = end_group(proc)
        except BaseException:
            end_group(proc)
            raise
    return {
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "seconds": time.perf_counter() - start,
        "stdout": stdout or "",
        "log_tail": tail(log.read_text(errors="replace")),
    }


def end_group(proc: subprocess.Popen) -> str:
    """End the process group of ``proc`` (which it leads) and return what it printed."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 30)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            stdout, _ = proc.communicate(timeout=wait)
            return stdout or ""
        except subprocess.TimeoutExpired:
            continue
    return ""


def last_json_line(stdout: str) -> dict[str, Any]:
    """The JSON object on the last non-empty line of ``stdout``."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the script printed nothing on stdout")
    value = json.loads(lines[-1])
    if not isinstance(value, dict):
        raise ValueError("the script's last line is not a JSON object")
    return value


def run_benchmark(name: str, quick: bool, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Run one script of bench/ and record its JSON result, or why there is none."""
    bench = BENCHMARKS[name]
    args = (*(bench.quick_args if quick else bench.args), *extra)
    command = [sys.executable, str(BENCH / bench.script), *args]
    timeout = bench.quick_timeout_s if quick else bench.timeout_s
    entry: dict[str, Any] = {"command": command[1:], "timeout_s": timeout, "load_before": os.getloadavg()}
    log = LOGS / f"{name}.stderr.log"
    log.unlink(missing_ok=True)
    run = run_group(command, timeout, log)
    entry.update(seconds=run["seconds"], returncode=run["returncode"], load_after=os.getloadavg())
    if run["timed_out"]:
        return {**entry, "status": "timeout", "stderr_tail": run["log_tail"]}
    if run["returncode"] != 0:
        return {**entry, "status": "failed", "stderr_tail": run["log_tail"]}
    try:
        result = last_json_line(run["stdout"])
    except ValueError as error:
        return {**entry, "status": "failed", "error": str(error), "stderr_tail": run["log_tail"]}
    return {**entry, "status": "ok", "result": result}


def netket_python() -> Path:
    return NETKET_VENV / "bin" / "python"


def netket_version() -> str | None:
    """NetKet's version in .venv-bench, or None when it does not import there."""
    if not netket_python().exists():
        return None
    try:
        proc = subprocess.run(
            [str(netket_python()), "-c", "import netket; print(netket.__version__)"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            env=child_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_netket() -> dict[str, Any]:
    """Make .venv-bench (the requirements lock plus NetKet) when NetKet does not import there."""
    version = netket_version()
    if version is not None:
        return {"status": "present", "netket_version": version}
    log = LOGS / "netket-install.log"
    log.unlink(missing_ok=True)
    start = time.perf_counter()
    for step in (
        ["python3", "-m", "venv", str(NETKET_VENV)],
        [str(netket_python()), "-m", "pip", "install", "-r", "requirements.lock", "netket"],
    ):
        try:
            run = run_group(step, 1800, log, merge=True)
        except OSError as error:
            run = {"returncode": None, "timed_out": False, "log_tail": f"{type(error).__name__}: {error}"}
        if run["returncode"] != 0 or run["timed_out"]:
            return {
                "status": "install failed",
                "step": " ".join(step),
                "seconds": time.perf_counter() - start,
                "log": str(log.relative_to(ROOT)),
                "error": tail(run["log_tail"], 10),
            }
    version = netket_version()
    return {
        "status": "installed" if version else "install failed",
        "netket_version": version,
        "seconds": time.perf_counter() - start,
        "log": str(log.relative_to(ROOT)),
    }


# ----------------------------------------------------------------------------- the machine


def git(*args: str) -> str | None:
    """The output of a read-only git command, or None."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what platform knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    """Total RAM in GiB, from /proc/meminfo."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return None


def versions(names: Sequence[str]) -> dict[str, str | None]:
    """Installed version of each distribution in this environment (None when absent)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def blas_seen_by_children() -> list[dict[str, Any]]:
    """The BLAS libraries numpy and scipy load in a benchmark's environment, with their threads."""
    code = (
        "import json, numpy, scipy.linalg, threadpoolctl; keys = ('internal_api', 'version', "
        "'num_threads', 'threading_layer'); print(json.dumps([{k: i.get(k) for k in keys} "
        "for i in threadpoolctl.threadpool_info()]))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
            timeout=120,
        )
    except subprocess.SubprocessError as error:
        return [{"error": str(error)}]
    return json.loads(proc.stdout) if proc.returncode == 0 else [{"error": tail(proc.stderr, 3)}]


def machine() -> dict[str, Any]:
    """Cores, CPU, RAM, versions, BLAS threads, git commit and the date of this run."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "cpu_model": cpu_model(),
        "ram_gib": memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(
            ["jax", "jaxlib", "numpy", "scipy", "matplotlib", "jupyter-book", "sphinx", "myst-nb"]
        ),
        "blas_env": PINNED_ENV,
        "blas": blas_seen_by_children(),
        "commit": git("rev-parse", "HEAD"),
        "tree_modified": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


# ----------------------------------------------------------------------------- make test


def test_session(make_test: bool) -> dict[str, Any]:
    """The last `make test` recorded by tests/conftest.py, run first when ``make_test``; flags
    say when it was not the whole suite or not this commit."""
    entry: dict[str, Any] = {"load_before": os.getloadavg()}
    launched = time.time()
    if make_test:
        log = LOGS / "make-test.log"
        log.unlink(missing_ok=True)
        run = run_group(["make", "test"], 4 * 3600, log, merge=True)
        entry.update(make_test_s=run["seconds"], make_test_returncode=run["returncode"], log=str(log))
        entry["load_after"] = os.getloadavg()
    path = TEST_RECORD if TEST_RECORD.exists() else TEST_RECORD_LAST
    if not path.exists():
        return {**entry, "status": "missing", "error": f"no {TEST_RECORD.relative_to(ROOT)}: run `make test`"}
    record = json.loads(path.read_text())
    flags = []
    if not record.get("whole_suite"):
        flags.append("not the whole suite: pytest " + shlex.join(record.get("args", [])))
    head = git("rev-parse", "HEAD")
    if record.get("commit") != head:
        flags.append(f"recorded at commit {str(record.get('commit'))[:10]}, now {str(head)[:10]}")
    if record.get("tree_modified"):
        flags.append("the working tree had uncommitted changes")
    if make_test and path.stat().st_mtime < launched:
        flags.append("this run's make test wrote no record: the one shown is older")
    return {
        **entry,
        "status": "ok",
        "record": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "flags": flags,
        "result": record,
    }


# ----------------------------------------------------------------------------- formatting

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
Row = list[str]


def sci(x: float | None, digits: int = 2) -> str:
    """``x`` to ``digits`` significant figures, as m × 10ⁿ when it is large or small."""
    if x is None:
        return "—"
    if x == 0 or 1e-2 <= abs(x) < 1e4:
        return f"{x:.0f}" if abs(x) >= 10**digits else f"{x:.{digits}g}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{float(mantissa):.{digits}g} × 10{str(int(exponent)).translate(SUPERSCRIPT)}"


def secs(s: float | None) -> str:
    """A duration in the unit that suits it."""
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{sci(s / 3600)} h"


def ratio(a: float | None, b: float | None) -> str:
    """``a / b`` to two significant figures, or a dash when either is missing or zero."""
    if not a or not b:
        return "—"
    x = a / b
    return f"{float(f'{x:.2g}'):,.0f}×" if x >= 10 else f"{x:.1f}×" if x >= 1 else f"{x:.2f}×"


def ising_rows(r: dict[str, Any]) -> list[Row]:
    rate = r["physml_flips_per_s"]
    return [
        [
            f"2-D Ising Metropolis, L = {r['L']} (flips/s)",
            f"physml (JAX): {sci(rate, 3)}",
            f"NumPy: {sci(r['numpy_flips_per_s'], 3)}",
            ratio(rate, r["numpy_flips_per_s"]),
            f"best of 3; compilation ({secs(r['physml_first_call_s'])}) excluded; "
            f"target ≥ 10⁸: {'met' if rate >= 1e8 else 'not met'}",
        ]
    ]


def lanczos_rows(r: dict[str, Any]) -> list[Row]:
    notes = f"solve alone: {ratio(r['scipy_solve_s'], r['physml_s'])}"
    if "scipy_solve_s_all_blas_threads" in r:
        threads, solve = r["all_blas_threads"], r["scipy_solve_s_all_blas_threads"]
        notes += f"; the scipy solve with {threads} BLAS threads: {secs(solve)}"
    return [
        [
            f"Lanczos, TFIM chain N = {r['sites']} (2{str(r['sites']).translate(SUPERSCRIPT)} states)",
            f"physml `ground_state`: {secs(r['physml_s'])}, rel. error {sci(r['physml_relative_error'])}",
            f"scipy `eigsh` on a Kronecker-built CSR: {secs(r['scipy_total_s'])} "
            f"({secs(r['scipy_assembly_s'])} assembly + {secs(r['scipy_solve_s'])} solve), "
            f"rel. error {sci(r['scipy_relative_error'])}",
            ratio(r["scipy_total_s"], r["physml_s"]),
            notes,
        ]
    ]


def nqs_rows(r: dict[str, Any]) -> list[Row]:
    physml, netket, setup = r["physml"], r.get("netket", {}), r["setup"]
    measured = (
        f"physml: {secs(physml['seconds_per_iteration'])}/iteration "
        f"({physml['iterations_per_second']:.0f} it/s), rel. error {sci(physml['relative_error_exact'])}"
    )
    if "seconds_per_iteration" in netket:
        baseline = (
            f"NetKet {netket.get('netket_version', '')}: {secs(netket['seconds_per_iteration'])}/iteration "
            f"({netket['iterations_per_second']:.0f} it/s), "
            f"rel. error {sci(netket.get('relative_error_exact'))}"
        )
        first = (
            f"first iteration (compilation) {secs(physml['first_iteration_s'])} and "
            f"{secs(netket['first_iteration_s'])}"
        )
    else:
        baseline = f"NetKet not run: {netket.get('error', 'skipped (--no-netket)')}"
        first = f"first iteration (compilation) {secs(physml['first_iteration_s'])}"
    title = (
        f"NQS VMC, {r['model'].upper()} N = {r['sites']}, RBM α = 1, {setup['iterations']} iterations, "
        f"{setup['samples']} samples, {setup['dtype']}"
    )
    return [
        [
            title,
            measured,
            baseline,
            ratio(netket.get("seconds_per_iteration"), physml["seconds_per_iteration"]),
            f"median after the first; {first}",
        ]
    ]


def worst_widget(r: dict[str, Any]) -> dict[str, Any]:
    return max(r["widgets"], key=lambda w: w["callback_median_ms"])


def cpu_ms(w: dict[str, Any], key: str) -> str:
    """`` (CPU n ms)`` when widget_latency.py reported the CPU-time median ``key``."""
    return f" (CPU {w[key]:.0f} ms)" if key in w else ""


def widget_rows(r: dict[str, Any]) -> list[Row]:
    w, target = worst_widget(r), r.get("target_ms", WIDGET_TARGET_MS)
    met = sum(x["callback_median_ms"] < target for x in r["widgets"])
    return [
        [
            f"Widget callback, median of {w['moves']} moves, slowest of {len(r['widgets'])} widgets "
            f"(exercise {w['exercise']})",
            f"{w['callback_median_ms']:.0f} ms{cpu_ms(w, 'callback_cpu_median_ms')}, "
            f"90th percentile {w['callback_p90_ms']:.0f} ms",
            f"draw alone {w['draw_only_median_ms']:.0f} ms{cpu_ms(w, 'draw_only_cpu_median_ms')}, "
            f"PNG encoding alone {w['png_only_median_ms']:.0f} ms{cpu_ms(w, 'png_only_cpu_median_ms')}",
            "—",
            f"target < {target:.0f} ms: met by {met} of {len(r['widgets'])} widgets",
        ]
    ]


def widget_details(r: dict[str, Any]) -> list[str]:
    lines = [
        "| exercise | control | callback median | 90th pct. | draw alone | PNG alone |",
        "|---|---|---|---|---|---|",
    ]
    for w in sorted(r["widgets"], key=lambda w: -w["callback_median_ms"]):
        lines.append(
            f"| {w['exercise']} | `{w['control']}` "
            f"| {w['callback_median_ms']:.0f} ms{cpu_ms(w, 'callback_cpu_median_ms')} "
            f"| {w['callback_p90_ms']:.0f} ms "
            f"| {w['draw_only_median_ms']:.0f} ms{cpu_ms(w, 'draw_only_cpu_median_ms')} "
            f"| {w['png_only_median_ms']:.0f} ms{cpu_ms(w, 'png_only_cpu_median_ms')} |"
        )
    if any("callback_cpu_median_ms" in w for w in r["widgets"]):
        lines += ["", "Wall-clock medians; in brackets the CPU time of the same calls."]
    return lines


def book_check(r: dict[str, Any]) -> str:
    """Whether every notebook of the table of contents ran, from an empty cache."""
    execute = r["execute"]
    cached = len(execute.get("cache_records", {}))
    fresh = execute.get("cache_hits") == 0 and cached == r["notebooks_executed"]
    every = r["notebooks_executed"] == r["notebooks_in_toc"]
    counts = (
        f"{r['notebooks_executed']} of {r['notebooks_in_toc']} notebooks executed, {cached} cache records, "
        f"{execute.get('cache_hits')} cache hits"
    )
    if r["quick"]:
        return counts
    return counts + (": every notebook ran" if every and fresh else ": NOT every notebook ran")


def book_rows(r: dict[str, Any]) -> list[Row]:
    execute, baseline = r["execute"], r["no_execution"]
    status = lambda b: "" if b["returncode"] == 0 else f" (exit {b['returncode']}, {b['warnings']} warnings)"
    return [
        [
            "Book build from a clean cache"
            + (" (quick: only the 00 notebooks execute)" if r["quick"] else ""),
            f"{secs(execute['wall_s'])}{status(execute)}, "
            f"of which notebooks execute {secs(r['execution_total_s'])}",
            f"execution off (Sphinx alone): {secs(baseline['wall_s'])}{status(baseline)}",
            ratio(execute["wall_s"], baseline["wall_s"]),
            book_check(r),
        ]
    ]


def book_details(r: dict[str, Any]) -> list[str]:
    lines = [
        "| chapter | chapter notebook executes | exercises execute | read (with execution) "
        "| read, execution off |",
        "|---|---|---|---|---|",
    ]
    for key, c in sorted(r["chapters"].items(), key=lambda item: (item[0] == "other", item[0])):
        lines.append(
            f"| {key} | {secs(c.get('chapters_execution_s'))} | {secs(c.get('exercises_execution_s'))} "
            f"| {secs(c.get('read_s'))} | {secs(c.get('read_s_no_execution'))} |"
        )
    lines += [
        "",
        "Execution: MyST-NB's record per notebook (jupyter-cache's `execution_seconds`, kernel start "
        "included); read: Sphinx's reading time of the documents (`sphinx.ext.duration`), which "
        "includes the execution. The rest of a build is writing the HTML.",
    ]
    return lines


def test_rows(entry: dict[str, Any]) -> list[Row]:
    r = entry["result"]
    outcomes = r.get("outcomes", {})
    counted = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items(), key=lambda item: -item[1]))
    durations = sum(r.get("file_seconds", {}).values())
    measured = f"{secs(r['wall_s'])} ({counted}; exit {r['exit_status']})"
    if "make_test_s" in entry:
        measured = f"`make test` {secs(entry['make_test_s'])}; pytest session " + measured
    return [
        [
            f"`make test` (recorded {r.get('started', '?')}, {entry['record']})",
            measured,
            f"sum of the tests' own durations (setup + call + teardown): {secs(durations)}; "
            f"collection {secs(r.get('collection_s'))}",
            ratio(r["wall_s"], durations),
            "; ".join(entry["flags"]) or f"the whole suite at this commit ({str(r.get('commit'))[:10]})",
        ]
    ]


def test_details(entry: dict[str, Any]) -> list[str]:
    files = list(entry["result"].get("file_seconds", {}).items())[:12]
    lines = ["| test file (slowest 12) | seconds |", "|---|---|"]
    return lines + [f"| `{name}` | {seconds:.1f} |" for name, seconds in files]


def landscapes_rows(r: dict[str, Any]) -> list[Row]:
    s, g = r["sharpness"], r["goe"]
    return [
        [
            f"Sharpness of a {s['parameters']}-parameter network (20 Hessian-vector products)",
            f"Lanczos {secs(s['lanczos_s'])}, rel. error {sci(s['lanczos_relative_error'])}",
            f"dense Hessian + eigvalsh {secs(s['dense_s'])}",
            ratio(s["dense_s"], s["lanczos_s"]),
            f"power iteration {secs(s['power_s'])}, rel. error {sci(s['power_relative_error'])}",
        ],
        [
            f"P{str(g['n']).translate(SUBSCRIPT)} of a GOE matrix, 10 % error",
            f"subset simulation {secs(g['splitting_s_for_10pct'])}",
            f"plain Monte Carlo {secs(g['mc_s_for_10pct_extrapolated'])} (extrapolated)",
            ratio(g["mc_s_for_10pct_extrapolated"], g["splitting_s_for_10pct"]),
            f"exact {sci(g['exact'], 3)}",
        ],
    ]


def charlm_rows(r: dict[str, Any]) -> list[Row]:
    greedy = r["decoding"]["greedy"]
    return [
        [
            f"Character LM: {r['train_steps']} training steps ({r['dtype']})",
            f"{secs(r['train_cached_s'])} (compiled)",
            f"first call with compilation {secs(r['train_first_call_s'])}",
            "—",
            f"held-out {r['heldout_cross_entropy_nats_per_char']['mlp']:.3f} nats/char "
            f"(bigram {r['heldout_cross_entropy_nats_per_char']['bigram']:.3f})",
        ],
        [
            f"Character LM: greedy decoding of {r['decode_length']} characters",
            f"`lax.scan` {sci(greedy['scan_tokens_per_s'], 3)} tokens/s",
            f"Python loop over a jitted step {sci(greedy['python_loop_tokens_per_s'], 3)} tokens/s",
            ratio(greedy["scan_tokens_per_s"], greedy["python_loop_tokens_per_s"]),
            f"compilation {secs(greedy['first_call_s'])} excluded",
        ],
    ]


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "ising": ising_rows,
    "lanczos": lanczos_rows,
    "nqs": nqs_rows,
    "widgets": widget_rows,
    "book": book_rows,
    "landscapes": landscapes_rows,
    "charlm": charlm_rows,
}
DETAILS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "widgets": ("Widget callbacks", widget_details),
    "book": ("Book build per chapter", book_details),
}


def title(name: str) -> str:
    return "`make test`" if name == "test" else BENCHMARKS[name].title


def rows_of(name: str, entry: dict[str, Any]) -> list[Row]:
    """The summary rows of one benchmark; a failure, or a result this table cannot read, is one row."""
    if entry.get("status") != "ok":
        reason = entry.get("error") or tail(entry.get("stderr_tail"), 1) or "see results.json"
        return [[title(name), f"**{entry.get('status')}**", "—", "—", reason.replace("|", "\\|")]]
    try:
        return test_rows(entry) if name == "test" else SUMMARIES[name](entry["result"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        return [[title(name), "could not summarize", "—", "—", f"{type(error).__name__}: {error}"]]


def details_of(name: str, entry: dict[str, Any]) -> list[str]:
    """The detail section of one benchmark, or nothing."""
    if entry.get("status") != "ok" or (name not in DETAILS and name != "test"):
        return []
    heading, fn = ("`make test` per file", test_details) if name == "test" else DETAILS[name]
    try:
        body = fn(entry) if name == "test" else fn(entry["result"])
    except (KeyError, TypeError, ValueError) as error:
        body = [f"could not summarize: {type(error).__name__}: {error}"]
    return [f"## {heading}", "", *body, ""]


def load(values: Sequence[float] | None) -> str:
    return "—" if values is None else " / ".join(f"{v:.2f}" for v in values)


def notes(results: dict[str, Any]) -> list[str]:
    """What the reader needs to weigh the figures."""
    m, h = results["machine"], results["harness"]
    out = [
        "- Every benchmark ran with OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = 1 (as `make` sets). "
        "It matters where LAPACK/BLAS does the work: the scipy baseline of the Lanczos row (its "
        "solve is also timed with every BLAS thread, in the notes), the SR solves of both VMC "
        "codes, and dense eigensolvers. physml's `ground_state` and SR pin one thread themselves. "
        "XLA's own thread pool (JAX's element-wise and matrix work) and NumPy's element-wise "
        "loops do not use BLAS threads.",
        f"- The machine is shared: load average (1 / 5 / 15 min) {load(h['load_before'])} before the "
        f"run and {load(h['load_after'])} after it; each benchmark's own is in results.json. "
        "Wall-clock times are upper bounds, ratios indicative.",
        "- Ratio: baseline ÷ measured for times, measured ÷ baseline for rates (above 1: physml faster).",
    ]
    if h["quick"]:
        out.insert(0, "- **--quick run**: smaller sizes, a smoke test of the harness, not a measurement.")
    if m.get("tree_modified"):
        out.append("- The working tree had uncommitted changes during the run.")
    return out


def markdown(results: dict[str, Any]) -> str:
    """bench/results.md: the summary table, the detail tables, the failures and the machine."""
    m, h = results["machine"], results["harness"]
    lines = [
        "# Benchmarks",
        "",
        f"`make bench` (`bench/run_all.py{' ' + ' '.join(h['argv']) if h['argv'] else ''}`), "
        f"{m['date']}, commit {str(m['commit'])[:10]}, {secs(h['seconds'])} in all. "
        f"{m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} cores, "
        f"{m['ram_gib']:.0f} GiB RAM; Python {m['python']}, JAX {m['versions'].get('jax')}, "
        f"NumPy {m['versions'].get('numpy')}, SciPy {m['versions'].get('scipy')}.",
        "",
        "| benchmark | measured | baseline (same run) | ratio | notes |",
        "|---|---|---|---|---|",
    ]
    for name, entry in results["benchmarks"].items():
        lines += ["| " + " | ".join(row) + " |" for row in rows_of(name, entry)]
    lines += ["", *notes(results), ""]
    for name, entry in results["benchmarks"].items():
        lines += details_of(name, entry)
    failed = {n: e for n, e in results["benchmarks"].items() if e.get("status") not in ("ok", None)}
    for name, entry in failed.items():
        lines += [
            f"## {title(name)}: {entry['status']}",
            "",
            "```",
            entry.get("stderr_tail") or entry.get("error", ""),
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------- main


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=f"any of {', '.join(NAMES)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test of the harness")
    parser.add_argument("--no-netket", action="store_true", help="neither install nor run NetKet")
    parser.add_argument("--make-test", action="store_true", help="run `make test` first and report that run")
    return parser.parse_args(argv)


def write(results: dict[str, Any]) -> None:
    """bench/results.json, then bench/results.md."""
    (BENCH / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (BENCH / "results.md").write_text(markdown(results))


def run(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One benchmark's entry in results.json."""
    if name == "test":
        try:
            return test_session(args.make_test)
        except (OSError, ValueError) as error:
            return {"status": "failed", "error": f"{type(error).__name__}: {error}"}
    extra = ("--skip-netket",) if name == "nqs" and args.no_netket else ()
    return run_benchmark(name, args.quick, extra)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    selected = [name for name in NAMES if name in args.only] if args.only else list(DEFAULT)
    start = time.perf_counter()
    results: dict[str, Any] = {
        "harness": {
            "argv": list(sys.argv[1:] if argv is None else argv),
            "quick": args.quick,
            "selected": selected,
            "load_before": os.getloadavg(),
            "load_after": None,
            "seconds": None,
        },
        "machine": machine(),
        "benchmarks": {},
    }
    if "nqs" in selected and not args.no_netket:
        print("run_all: checking NetKet in .venv-bench", file=sys.stderr, flush=True)
        results["netket_env"] = ensure_netket()
    for name in selected:
        print(f"run_all: {name} ...", file=sys.stderr, flush=True)
        entry = run(name, args)
        results["benchmarks"][name] = entry
        results["harness"]["seconds"] = time.perf_counter() - start
        write(results)
        print(
            f"run_all: {name} {entry['status']} ({secs(entry.get('seconds'))})", file=sys.stderr, flush=True
        )
    results["harness"].update(seconds=time.perf_counter() - start, load_after=os.getloadavg())
    write(results)
    print(
        f"run_all: wrote bench/results.json and bench/results.md in {secs(results['harness']['seconds'])}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
