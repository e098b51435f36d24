"""One set of pins: requirements.lock drives make, CI and Binder (environment.yml)."""

from __future__ import annotations

import re
import sys
import tomllib

import yaml
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import sync_environment

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\]]*==[^\s;#]+$")


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _locked() -> list[str]:
    return sync_environment.pins((ROOT / "requirements.lock").read_text())


def test_environment_yml_agrees_with_the_lock_file():
    env = _environment()
    assert env["name"] == "physics-of-learning"
    assert env["channels"] == ["conda-forge"]
    assert "pip" in env["dependencies"]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1
    pip_section = pip_sections[0]
    assert all(PIN.match(line) for line in pip_section), "only name==version lines"
    assert len(pip_section) == len(set(pip_section))
    assert sorted(pip_section) == sorted(_locked())
    assert len(_locked()) > 100  # the whole environment, not just the top level
    assert sync_environment.main(["--check"]) == 0


def test_check_reports_a_disagreement(tmp_path, monkeypatch, capsys):
    drifted = tmp_path / "environment.yml"
    text = (ROOT / "environment.yml").read_text()
    first = _locked()[0]
    name, _ = first.split("==")
    drifted.write_text(text.replace(f"- {first}\n", f"- {name}==0.0.0\n"))
    monkeypatch.setattr(sync_environment, "ENV", drifted)
    assert sync_environment.main(["--check"]) == 1
    diff = capsys.readouterr().out
    assert f"-      - {name}==0.0.0" in diff and f"+      - {first}" in diff


def test_python_versions_agree():
    env = _environment()
    pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = re.search(r">=\s*(\d+\.\d+)", requires).group(1)
    assert pythons == ["python=3.11"]
    assert minimum == "3.11", "requirements.lock is resolved for Python 3.11 (Makefile: make lock)"
    assert tuple(map(int, minimum.split("."))) <= sys.version_info[:2]


def test_top_level_requirements_are_locked():
    locked = {p.split("==")[0].lower().split("[")[0] for p in _locked()}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[\[<>=!~ ]", line)[0].lower()
            assert name in locked, f"{name} is in requirements.in but not in requirements.lock"


def test_binder_installs_the_package():
    post_build = (ROOT / "postBuild").read_text()
    assert post_build.startswith("#!"), "postBuild needs a shebang"
    assert (ROOT / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    commands = [line for line in post_build.splitlines() if line.strip() and not line.startswith("#")]
    installs = [line for line in commands if "pip install" in line]
    assert len(installs) == 1 and "--no-deps" in installs[0] and installs[0].endswith("-e .")
    # --no-build-isolation builds with the environment's own setuptools: it must be pinned.
    if "--no-build-isolation" in installs[0]:
        assert any(p.lower().startswith("setuptools==") for p in _locked())
