"""bench/run_all.py turns the scripts' JSON into results.md: tables, flags and failures,
checked on a made-up run (no benchmark is run here)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
run_all = sys.modules.setdefault("run_all", importlib.util.module_from_spec(spec))
spec.loader.exec_module(run_all)


def fake_results() -> dict:
    widgets = [
        {
            "exercise": "2.3",
            "control": "T",
            "moves": 50,
            "callback_median_ms": 240.0,
            "callback_cpu_median_ms": 120.0,
            "callback_p90_ms": 260.0,
            "draw_only_median_ms": 30.0,
            "png_only_median_ms": 200.0,
        },
        {
            "exercise": "7.6",
            "control": "n",
            "moves": 50,
            "callback_median_ms": 80.0,
            "callback_p90_ms": 90.0,
            "draw_only_median_ms": 20.0,
            "png_only_median_ms": 50.0,
        },
    ]
    book = {
        "quick": False,
        "execute": {
            "wall_s": 900.0,
            "returncode": 0,
            "warnings": 0,
            "cache_hits": 0,
            "cache_records": {"a": 1},
        },
        "no_execution": {"wall_s": 120.0, "returncode": 0, "warnings": 0},
        "notebooks_in_toc": 1,
        "notebooks_executed": 1,
        "execution_total_s": 760.0,
        "chapters": {"01": {"chapters_execution_s": 54.0, "exercises_execution_s": 15.0, "read_s": 70.0}},
    }
    return {
        "harness": {
            "argv": [],
            "quick": False,
            "seconds": 1150.0,
            "load_before": [1, 2, 3],
            "load_after": None,
        },
        "machine": {
            "date": "2026-12-07T08:00:00+00:00",
            "commit": "0123456789abcdef",
            "cpu_model": "Some CPU",
            "cpus_usable": 2,
            "cpu_count": 2,
            "ram_gib": 23.4,
            "python": "3.11.7",
            "versions": {"jax": "0.10.2", "numpy": "2.4.6", "scipy": "1.17.1"},
            "tree_modified": False,
        },
        "benchmarks": {
            "ising": {
                "status": "ok",
                "result": {
                    "L": 256,
                    "physml_flips_per_s": 1.234e8,
                    "physml_first_call_s": 0.5,
                    "numpy_flips_per_s": 4.0e6,
                },
            },
            "widgets": {"status": "ok", "result": {"target_ms": 100, "widgets": widgets}},
            "book": {"status": "ok", "result": book},
            "lanczos": {"status": "ok", "result": {"sites": 20}},
            "nqs": {"status": "timeout", "stderr_tail": "line one\nKilled after 900 s"},
        },
    }


def test_summary_table_puts_each_figure_beside_its_baseline():
    md = run_all.markdown(fake_results())
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines() if line.startswith("| ")}
    ising = rows["2-D Ising Metropolis, L = 256 (flips/s)"]
    assert "physml (JAX): 1.23 × 10⁸" in ising and "NumPy: 4 × 10⁶" in ising and "31×" in ising
    assert "target ≥ 10⁸: met" in ising
    widget = next(line for key, line in rows.items() if key.startswith("Widget callback"))
    assert "exercise 2.3" in widget and "240 ms (CPU 120 ms)" in widget
    assert "PNG encoding alone 200 ms" in widget
    assert "met by 1 of 2 widgets" in widget
    book = rows["Book build from a clean cache"]
    assert "15.0 min" in book and "Sphinx alone): 2.0 min" in book and "7.5×" in book
    assert "every notebook ran" in book
    assert "| 01 | 54 s | 15 s | 70 s | — |" in md


def test_failures_and_unreadable_results_are_rows_not_crashes():
    md = run_all.markdown(fake_results())
    assert "| NQS VMC vs NetKet | **timeout** | — | — | Killed after 900 s |" in md
    assert "## NQS VMC vs NetKet: timeout" in md and "line one" in md
    lanczos = next(line for line in md.splitlines() if line.startswith("| Lanczos"))
    assert "could not summarize" in lanczos and "KeyError" in lanczos


def test_a_partial_or_stale_test_record_is_flagged(tmp_path, monkeypatch):
    record = {"whole_suite": False, "args": ["tests/test_x.py"], "commit": "old", "wall_s": 3.0}
    (tmp_path / "last.json").write_text(json.dumps(record))
    monkeypatch.setattr(run_all, "TEST_RECORD", tmp_path / "missing.json")
    monkeypatch.setattr(run_all, "TEST_RECORD_LAST", tmp_path / "last.json")
    monkeypatch.setattr(run_all, "git", lambda *args: "new")
    entry = run_all.test_session(make_test=False)
    assert entry["status"] == "ok"
    assert entry["flags"] == [
        "not the whole suite: pytest tests/test_x.py",
        "recorded at commit old, now new",
    ]


@pytest.mark.parametrize(
    ("value", "text"), [(0.0123, "12.3 ms"), (4.2e-5, "42 µs"), (42.0, "42 s"), (300.0, "5.0 min")]
)
def test_durations_are_written_in_their_unit(value, text):
    assert run_all.secs(value) == text


def test_the_result_is_the_last_json_line():
    assert run_all.last_json_line('warming up\n{"a": 1}\n\n') == {"a": 1}
    with pytest.raises(ValueError, match="printed nothing"):
        run_all.last_json_line("\n")


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (1.234e8, 3, "1.23 × 10⁸"),
        (2.4e-4, 2, "2.4 × 10⁻⁴"),
        (185.2, 2, "185"),
        (4180.0, 3, "4180"),
        (0.5, 2, "0.5"),
    ],
)
def test_numbers_are_rounded_without_e_notation(value, digits, text):
    assert run_all.sci(value, digits) == text
