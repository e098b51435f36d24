"""The launch paths, rehearsed on this machine.

Binder builds an environment from ``environment.yml`` — the pins of ``requirements.lock``
(``tests/test_environment.py`` keeps the two equal) — and then runs ``postBuild``. The test
does the same in a new virtual environment and executes a chapter in a kernel of it.

Colab runs each notebook's first cell, which installs ``physml`` from the repository only
when it runs on Colab. The test checks that cell in every notebook, then runs its install
command against this checkout (``git+file://``: only what is committed gets in, as from
GitHub) and imports the installed, non-editable package — its subpackages and data files
included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import CHAPTERS, EXERCISES, ROOT

REPOSITORY = "https://github.com/physics-of-learning/book"
COLAB_CELL = f"""# On Colab, install physml first; locally, `make lab` has already set everything up.
import sys

if "google.colab" in sys.modules:
    import subprocess

    package = "physml @ git+{REPOSITORY}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)"""


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.mark.parametrize("path", CHAPTERS + EXERCISES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_first_cell_installs_physml_only_on_colab(path):
    cell = nbformat.read(path, as_version=4).cells[0]
    assert cell.cell_type == "code" and cell.metadata.get("physml", {}).get("role") == "colab-install"
    assert "remove-cell" in cell.metadata.get("tags", [])  # not shown in the book
    assert cell.source == COLAB_CELL


def test_the_colab_cell_does_nothing_elsewhere():
    namespace: dict = {}
    exec(compile(COLAB_CELL, "<colab cell>", "exec"), namespace)
    assert "package" not in namespace  # the install ran only under google.colab


@pytest.mark.slow
def test_the_colab_install_command_works_against_this_checkout(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    package = f"physml @ git+file://localhost{ROOT}"  # a URL with a host, as the cell's has
    # The command as the cell runs it, resolved against this environment: the dependencies that
    # pyproject.toml declares must be satisfiable by the pinned ones.
    report = tmp_path / "report.json"
    run(sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--report", report, package)
    would_install = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert would_install == ["physml"], would_install
    # The real install, of the package alone, into a separate directory, then imported from there.
    target = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, package)
    probe = (
        "import physml, physml.exercises, physml.frontiers, physml.discovery, physml.nqs;"
        "from physml.discovery import kepler_planets;"
        "print(physml.__file__); print(len(kepler_planets().names))"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    out = run(sys.executable, "-c", probe, env=env, cwd=tmp_path).stdout.split()
    assert Path(out[0]).is_relative_to(target), out  # the installed copy, not the checkout
    assert int(out[1]) >= 8  # the planets' table is package data


@pytest.mark.slow
def test_binder_environment_runs_a_chapter(tmp_path):
    venv = tmp_path / "binder"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", ROOT / "requirements.lock")
    env = dict(
        os.environ,
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter"),  # no kernel of this user's may stand in
        JUPYTER_PATH=str(venv / "share" / "jupyter"),
        OPENBLAS_NUM_THREADS="1",
    )
    env.pop("VIRTUAL_ENV", None)
    run("bash", ROOT / "postBuild", cwd=ROOT, env=env)
    run(python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3", env=env)
    nb = nbformat.read(ROOT / "chapters" / "00_how_to_use.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell("import sys, physml\nprint(sys.prefix)\nprint(physml.__file__)")
    )
    notebook = tmp_path / "chapter.ipynb"
    nbformat.write(nb, notebook)
    resources = {"metadata": {"path": str(ROOT / "chapters")}}
    script = (
        "import sys, nbformat; from nbclient import NotebookClient;"
        f"nb = nbformat.read({str(notebook)!r}, as_version=4);"
        f"NotebookClient(nb, timeout=300, kernel_name='python3', resources={resources!r}).execute();"
        "print(nb.cells[-1].outputs[0].text)"
    )
    prefix, physml_file = run(python, "-c", script, env=env, cwd=tmp_path).stdout.split()[-2:]
    assert Path(prefix).resolve() == venv.resolve()  # the chapter ran in the new environment
    assert (
        Path(physml_file).resolve() == (ROOT / "src" / "physml" / "__init__.py").resolve()
    )  # postBuild's -e .
