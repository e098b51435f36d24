"""One set of pins: requirements.lock drives make, CI and Binder (environment.yml)."""

from __future__ import annotations

import re
import sys
import tomllib

import yaml
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import sync_environment


def test_environment_yml_agrees_with_the_lock_file():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    locked = sync_environment.pins((ROOT / "requirements.lock").read_text())
    assert sorted(pip_section) == sorted(locked)
    assert len(locked) > 100  # the whole environment, not just the top level
    assert sync_environment.main(["--check"]) == 0


def test_python_versions_agree():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = re.search(r">=\s*(\d+\.\d+)", requires).group(1)
    assert python == f"python={minimum}"
    assert tuple(map(int, minimum.split("."))) <= sys.version_info[:2]


def test_top_level_requirements_are_locked():
    locked = {
        p.split("==")[0].lower() for p in sync_environment.pins((ROOT / "requirements.lock").read_text())
    }
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[\[<>=!~ ]", line)[0].lower()
            assert name in locked, f"{name} is in requirements.in but not in requirements.lock"


def test_binder_installs_the_package():
    post_build = (ROOT / "postBuild").read_text()
    assert "pip install" in post_build and "-e ." in post_build
    assert (ROOT / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
