"""Widget callback latency: the time from moving a slider to the new figure being ready.

For each widget exercise of the book, the script builds the widget the way its exercise
notebook does (the notebook's setup cells, then the cell that creates the
``WidgetExercise``), warms it up, then moves its first control through 50 values of its
range and records the time of each move: the callback draws the figure and encodes it as
a PNG (for a ``draw`` that carries a scene, ``moving_figure`` in the output, it repaints
the moving parts of one kept figure). Beside it, in the same run, the cost of a new figure
at the same values: the ``draw`` function alone, and its full rendering to PNG alone. Each
is reported as wall-clock time and as the process's CPU time (``time.process_time``),
which other load on the machine inflates less; the load average is recorded too. The
notebooks' own printing is discarded. Prints one JSON line.

    .venv/bin/python bench/widget_latency.py [--moves 50] [--warmup 5] [--only 7.6]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import ipywidgets
import nbformat
import numpy as np

from physml.exercises import widgets as exercise_widgets
from physml.plotting import png_bytes

ROOT = Path(__file__).resolve().parents[1]
#: Notebook cells not run to build a widget: the learner's cells and the Colab installer.
SKIPPED_ROLES = ("colab-install", "answer", "check", "application")


def build_widgets(path: Path) -> list[exercise_widgets.WidgetExercise]:
    """Run a notebook's setup cells and its widget cells; return the widgets they create."""
    nb = nbformat.read(path, as_version=4)
    created: list[exercise_widgets.WidgetExercise] = []
    original = exercise_widgets.WidgetExercise.__init__

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        created.append(self)

    exercise_widgets.WidgetExercise.__init__ = recording_init  # type: ignore[method-assign]
    try:
        namespace: dict[str, Any] = {}
        cwd = os.getcwd()
        os.chdir(path.parent)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                for cell in nb.cells:
                    role = cell.metadata.get("physml", {}).get("role")
                    if cell.cell_type != "code" or role in SKIPPED_ROLES:
                        continue
                    if role is None or "WidgetExercise(" in cell.source:
                        exec(compile(cell.source, f"<{path.name}>", "exec"), namespace)
        finally:
            os.chdir(cwd)
    finally:
        exercise_widgets.WidgetExercise.__init__ = original  # type: ignore[method-assign]
    return created


def sweep_values(control: Any, n: int) -> list[Any]:
    if hasattr(control, "options") and control.options:
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [options[i % len(options)] for i in range(n)]
    lo, hi = float(control.min), float(control.max)
    step = float(getattr(control, "step", 0) or (hi - lo) / 100)
    values = np.clip(np.round(np.linspace(lo, hi, n) / step) * step, lo, hi)
    if isinstance(control, ipywidgets.FloatLogSlider):  # min, max and step are exponents
        values = control.base**values
    return [type(control.value)(v) for v in values]


def median_ms(times: list[float]) -> float:
    return 1e3 * statistics.median(times)


class Stopwatch:
    """Wall-clock and CPU time (``time.process_time``, all threads) of repeated timed blocks."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)

    def drop(self, n: int) -> None:
        """Forget the first ``n`` timings (the warm-up)."""
        del self.wall[:n], self.cpu[:n]


def measure(widget: exercise_widgets.WidgetExercise, moves: int, warmup: int) -> dict[str, Any]:
    name, control = next(iter(widget.controls.items()))
    values = sweep_values(control, moves + warmup)
    callback = Stopwatch()
    for i, value in enumerate(values):
        if value == control.value:  # no change, no callback: nudge through another value first
            control.value = values[(i + 1) % len(values)]
        with callback:
            control.value = value
    callback.drop(warmup)
    draw, encode = Stopwatch(), Stopwatch()
    for value in values[warmup:]:
        with draw:
            fig = widget.draw(**{**widget.values, name: value})
        with encode:
            png_bytes(fig)
    return {
        "exercise": widget.exercise_id,
        "control": name,
        "moving_figure": hasattr(widget.draw, "scene"),
        "moves": len(callback.wall),
        "callback_median_ms": median_ms(callback.wall),
        "callback_p90_ms": 1e3 * float(np.percentile(callback.wall, 90)),
        "callback_cpu_median_ms": median_ms(callback.cpu),
        "draw_only_median_ms": median_ms(draw.wall),
        "draw_only_cpu_median_ms": median_ms(draw.cpu),
        "png_only_median_ms": median_ms(encode.wall),
        "png_only_cpu_median_ms": median_ms(encode.cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", help="one exercise id, e.g. 7.6")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = []
    for path in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")):
        if args.only is not None and int(path.name[:2]) != int(args.only.split(".")[0]):
            continue
        for widget in build_widgets(path):
            result = measure(widget, args.moves, args.warmup)
            if args.only is None or result["exercise"] == args.only:
                results.append(result)
    print(
        json.dumps(
            {
                "benchmark": "widget_callback_latency",
                "target_ms": 100,
                "widgets": results,
                "worst_median_ms": max(r["callback_median_ms"] for r in results),
                "worst_cpu_median_ms": max(r["callback_cpu_median_ms"] for r in results),
                "machine": {
                    "cores": os.cpu_count(),
                    "cpu": platform.processor() or platform.machine(),
                    "load_average_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
                },
                "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
            }
        )
    )


if __name__ == "__main__":
    main()
