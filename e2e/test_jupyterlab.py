"""An exercise notebook in a real JupyterLab, driven through Chromium.

The test starts ``jupyter lab`` from the project's virtual environment on a free port of
127.0.0.1, with a token and private Jupyter directories (so no user setting, kernel or
workspace of the machine takes part), on a temporary copy of
``exercises/00_how_to_use.ipynb``. In the browser it runs all cells from the Run menu, moves
the slider of widget exercise 0.2 with the keyboard, presses Check, then types a wrong
answer into the exercise's answer cell and runs it and its check cell. Every expected
message comes from :func:`physml.exercises.evaluate`, so no wording is copied here. The
notebook must show no error output and log nothing from a widget callback; saved, it must
hold no error output either. Last, the server is shut down through its API: it must exit
with status 0 and leave no kernel behind.

Screenshots of the key moments go to ``_build/screenshots/jupyterlab/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from conftest import ROOT, SCREENSHOTS

NOTEBOOK = ROOT / "exercises" / "00_how_to_use.ipynb"
EXERCISE = "0.2"
VENV_BIN = ROOT / ".venv" / "bin"
SHOTS = SCREENSHOTS / "jupyterlab"
#: What goes into the answer cell: 1/0.83 is within the tolerance of the answer, so the
#: checker should recognise a temperature given in place of β.
WRONG_VALUE = 0.83
#: Right-arrow presses on the slider handle, and the slider's step as the notebook sets it.
SLIDER_PRESSES = 5
SLIDER_STEP = 0.01

#: Milliseconds for browser-side waits; a kernel that imports JAX on a busy machine is slow.
UI_TIMEOUT = 60_000
RUN_ALL_TIMEOUT = 180_000
#: Seconds for the server to answer, and for it and its kernel to exit after a shutdown request.
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 60.0

#: User settings of the private JupyterLab: no news or update prompt over the notebook,
#: and every cell attached to the page, so that a cell is found by its position.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: its process, base URL, token, notebook, runtime directory and log."""

    process: subprocess.Popen[bytes]
    url: str
    token: str
    notebook: Path
    runtime_dir: Path
    log: Path

    def api(self, path: str, method: str = "GET") -> Any:
        """JSON answer of the server's REST endpoint ``path`` (authenticated by the token)."""
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for failure messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Layout:
    """Cell counts of an exercise notebook and the positions of one widget exercise's cells."""

    cells: int
    code_cells: int
    widget: int
    answer: int
    check: int


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lab_environment(base: Path) -> dict[str, str]:
    """The server's environment: private Jupyter, IPython and JupyterLab directories under ``base``."""
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"),
        IPYTHONDIR=str(base / "ipython"),
        JUPYTER_PREFER_ENV_PATH="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    for plugin, settings in LAB_SETTINGS.items():
        path = base / "lab-settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    return env


def wait_until_answering(server: LabServer, timeout: float) -> None:
    """Poll ``/api/status`` until the server answers; fail at once if its process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"jupyter lab exited with status {server.process.returncode} before answering:\n"
                f"{server.log_tail()}"
            )
        with contextlib.suppress(OSError):
            server.api("/api/status")
            return
        time.sleep(0.25)
    raise AssertionError(f"jupyter lab did not answer within {timeout:g} s:\n{server.log_tail()}")


def stop_process_tree(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process this test started and all its descendants (the teardown's last resort)."""
    if process.poll() is not None:
        return
    descendants: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        descendants = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)
    for child in descendants:
        with contextlib.suppress(psutil.Error):
            child.kill()


def kernel_processes(server: LabServer) -> list[psutil.Process]:
    """The kernels the server runs: its ``ipykernel_launcher`` descendants."""
    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "ipykernel_launcher" in child.cmdline():
                found.append(child)
    return found


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """``jupyter lab`` of the virtual environment, serving a copy of the exercise notebook."""
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    notebook = workdir / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, notebook)
    port, token, log = free_port(), secrets.token_hex(24), tmp_path / "jupyter.log"
    command = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workdir}",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=workdir, env=lab_environment(tmp_path), stdout=sink, stderr=subprocess.STDOUT
        )
    server = LabServer(process, f"http://127.0.0.1:{port}", token, notebook, tmp_path / "runtime", log)
    try:
        wait_until_answering(server, SERVER_START_TIMEOUT)
        yield server
    finally:
        stop_process_tree(process)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page, tall enough to show a widget exercise whole; generous waits."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT)
    expect.set_options(timeout=UI_TIMEOUT)
    try:
        yield page
    finally:
        expect.set_options(timeout=None)
        context.close()


@contextlib.contextmanager
def step(name: str, page: Any | None = None) -> Iterator[None]:
    """Name the step in a failure, and keep a screenshot of the page as it was then."""
    try:
        yield
    except Exception as exc:
        if page is not None and not page.is_closed():
            with contextlib.suppress(Exception):
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SHOTS / f"failed-{name.replace(' ', '-')}.png")
        raise AssertionError(f"step {name!r} failed: {exc}") from exc


def exercise_layout(path: Path, exercise: str) -> Layout:
    """Where the widget, answer and check cells of ``exercise`` sit in the notebook at ``path``.

    Answer and check cells carry ``physml.role`` and ``physml.exercise`` in their metadata; the
    widget cell is the code cell that builds ``WidgetExercise("<exercise>", ...)``.
    """
    cells = nbformat.read(path, as_version=4).cells
    roles = {
        c.metadata["physml"].get("role"): i
        for i, c in enumerate(cells)
        if c.metadata.get("physml", {}).get("exercise") == exercise
    }
    widgets = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "code" and "WidgetExercise(" in c.source and f'"{exercise}"' in c.source
    ]
    if len(widgets) != 1 or "answer" not in roles or "check" not in roles:
        raise ValueError(f"{path.name} has no single widget, answer and check cell for exercise {exercise}")
    code_cells = sum(c.cell_type == "code" for c in cells)
    return Layout(len(cells), code_cells, widgets[0], roles["answer"], roles["check"])


def expected_verdict(exercise: str, answer: Any) -> tuple[str, str]:
    """The status of checking ``answer``, and the verdict line a notebook shows for it."""
    from physml.exercises import evaluate

    result = evaluate(exercise, answer)
    return result.status, f"Exercise {result.exercise} — {result.status}. {result.message}"


def cell(page: Any, index: int) -> Any:
    """The notebook cell at position ``index`` (windowing is off: every cell is in the page)."""
    return page.locator(".jp-NotebookPanel .jp-Notebook-cell").nth(index)


def kernel_indicator(page: Any) -> Any:
    """The notebook toolbar's kernel execution indicator (``data-status``: idle, busy, ...)."""
    return page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator")


def wait_until_drawn(page: Any, image: Any) -> None:
    """Wait until the browser has decoded the image ``image`` shows."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def screenshot(page: Any, target: Any, name: str) -> None:
    """Scroll ``target`` into view and save the page as ``<name>.png`` in the screenshot folder."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"{name}.png")


def open_notebook(page: Any, server: LabServer, n_cells: int, kernel_name: str) -> None:
    """Open the notebook in JupyterLab; wait for all its cells and an idle kernel ``kernel_name``."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/lab/tree/{server.notebook.name}?token={server.token}")
    expect(page.locator(".jp-NotebookPanel .jp-Notebook-cell")).to_have_count(n_cells)
    expect(page.locator("#jp-main-statusbar")).to_contain_text(f"{kernel_name} | Idle")
    expect(kernel_indicator(page)).to_have_attribute("data-status", "idle")


def run_all_cells(page: Any, n_code_cells: int) -> None:
    """Run > Run All Cells; wait until every code cell has an execution count and the kernel is idle."""
    from playwright.sync_api import expect

    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()
    prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt")
    executed = prompts.filter(has_text=re.compile(r"^\[\d+\]:$"))
    expect(executed).to_have_count(n_code_cells, timeout=RUN_ALL_TIMEOUT)
    expect(kernel_indicator(page)).to_have_attribute("data-status", "idle")


def move_slider(page: Any, widget: Any, presses: int) -> float:
    """Press the right arrow on the slider handle ``presses`` times; the value it moved to.

    After each press the test waits for the kernel's redrawn figure, as a learner stepping
    through values sees it, so that the kernel holds the final value before Check is pressed.
    """
    from playwright.sync_api import expect

    readout, image = widget.locator(".widget-readout"), widget.locator("img.widget-image")
    handle = widget.locator(".widget-slider .noUi-handle")
    start = float(readout.inner_text())
    for _ in range(presses):
        shown = image.get_attribute("src") or ""
        handle.press("ArrowRight")
        expect(image).not_to_have_attribute("src", shown)
    moved = round(start + presses * SLIDER_STEP, 2)
    expect(readout).to_have_text(f"{moved:.2f}")
    wait_until_drawn(page, image)
    return moved


def replace_source(page: Any, target: Any, source: str) -> None:
    """Replace the source of the code cell ``target`` by typing ``source`` into its editor."""
    from playwright.sync_api import expect

    editor = target.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(source)
    expect(editor).to_have_text(source)


def save_notebook(page: Any, server: LabServer, answer: int, source: str) -> list[dict[str, Any]]:
    """Save with the toolbar button; the outputs of the saved file once its answer cell is ``source``."""
    page.locator('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]').click()
    deadline = time.monotonic() + UI_TIMEOUT / 1000
    while True:
        cells = nbformat.read(server.notebook, as_version=4).cells
        if cells[answer].source == source:
            return [output for c in cells if c.cell_type == "code" for output in c.outputs]
        if time.monotonic() > deadline:
            raise AssertionError(f"the saved notebook's answer cell is {cells[answer].source!r}")
        time.sleep(0.25)


def shut_down(server: LabServer) -> int:
    """Ask the server to stop through ``POST /api/shutdown``; its exit status."""
    server.api("/api/shutdown", method="POST")
    try:
        return server.process.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"jupyter lab still runs {SERVER_STOP_TIMEOUT:g} s after /api/shutdown:\n{server.log_tail()}"
        ) from exc


def test_widget_exercise_and_a_wrong_answer_in_jupyterlab(lab_server: LabServer, page: Any) -> None:
    from playwright.sync_api import expect

    from physml.exercises import REGISTRY

    layout = exercise_layout(NOTEBOOK, EXERCISE)
    answer_name = REGISTRY[EXERCISE].answer
    wrong_source = f"{answer_name} = {WRONG_VALUE!r}"
    widget, answer, check = (cell(page, i) for i in (layout.widget, layout.answer, layout.check))
    feedback = widget.locator(".widget-html")

    for stale in SHOTS.glob("failed-*.png"):
        stale.unlink()

    with step("the kernel python3 is the virtual environment's"):
        spec = lab_server.api("/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
        assert Path(spec["argv"][0]) == VENV_BIN / "python", f"the python3 kernel runs {spec['argv'][0]}"

    with step("open the notebook", page):
        open_notebook(page, lab_server, layout.cells, spec["display_name"])

    with step("run all cells", page):
        run_all_cells(page, layout.code_cells)
        expect(widget.locator(".jupyter-widgets.widget-slider")).to_be_visible()
        expect(widget.get_by_role("button", name="Check")).to_be_visible()
        expect(check.locator(".physml-result")).to_have_text(expected_verdict(EXERCISE, ...)[1])
        wait_until_drawn(page, widget.locator("img.widget-image"))
        screenshot(page, widget, "01-after-run-all")

    with step("move the slider", page):
        value = move_slider(page, widget, SLIDER_PRESSES)

    with step("press Check and read the feedback", page):
        status, verdict = expected_verdict(EXERCISE, value)
        start = value - SLIDER_PRESSES * SLIDER_STEP
        assert verdict != expected_verdict(EXERCISE, start)[1], "the verdict does not depend on the slider"
        widget.get_by_role("button", name="Check").click()
        expect(feedback.locator(".physml-result")).to_have_text(verdict)
        expect(feedback.locator(f".physml-{status.replace(' ', '-')}")).to_have_count(1)
        expect(feedback).to_contain_text(f"{answer_name} = {value:g}")
        screenshot(page, widget, "02-after-check")

    with step("run a wrong answer and its check", page):
        status, verdict = expected_verdict(EXERCISE, WRONG_VALUE)
        assert status == "incorrect", f"{WRONG_VALUE} is meant to be wrong, the checker says {status}"
        replace_source(page, answer, wrong_source)
        page.keyboard.press("Shift+Enter")
        expect(check).to_have_class(re.compile(r"\bjp-mod-active\b"))
        page.keyboard.press("Shift+Enter")
        expect(check.locator(".physml-result")).to_have_text(verdict)
        expect(check.locator(".physml-incorrect")).to_have_count(1)
        expect(kernel_indicator(page)).to_have_attribute("data-status", "idle")
        screenshot(page, check, "03-after-wrong-answer")

    with step("no error output in the notebook", page):
        expect(page.locator(f".jp-NotebookPanel {STDERR_OUTPUT}")).to_have_count(0)
        expect(page.locator(".jp-NotebookPanel .jp-OutputArea-output", has_text="Traceback")).to_have_count(0)
        expect(page.locator(".jp-LogConsoleStatusItem")).to_be_hidden()
        expect(feedback).not_to_contain_text("Could not draw")
        saved = save_notebook(page, lab_server, layout.answer, wrong_source)
        errors = [o for o in saved if o["output_type"] == "error" or o.get("name") == "stderr"]
        assert not errors, f"error outputs in the saved notebook: {errors}"

    with step("shut the server down"):
        kernels = kernel_processes(lab_server)
        assert len(kernels) == 1, f"expected one kernel, found {[k.cmdline() for k in kernels]}"
        assert kernels[0].cmdline()[0] == str(VENV_BIN / "python"), kernels[0].cmdline()
        page.close()
        status_code = shut_down(lab_server)
        assert status_code == 0, f"jupyter lab exited with status {status_code}:\n{lab_server.log_tail()}"
        _, alive = psutil.wait_procs(kernels, timeout=SERVER_STOP_TIMEOUT)
        assert not alive, f"kernel processes left behind: {alive}"
        assert not list(lab_server.runtime_dir.glob("kernel-*.json")), "kernel connection files left behind"
