"""The HTML book builds with warnings as errors (the same command as `make book`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.book]


def test_book_builds_without_warnings():
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jb), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=ROOT,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert "build succeeded" in log and "WARNING: " not in log, log[-5000:]
    index = (ROOT / "_build" / "html" / "index.html").read_text()
    assert "intro.html" in index
    intro = (ROOT / "_build" / "html" / "intro.html").read_text()
    assert "_static/mathjax/es5/tex-mml-chtml.js" in intro  # served by the book, no CDN
    assert (ROOT / "_build" / "html" / "_static" / "mathjax" / "es5" / "tex-mml-chtml.js").exists()
    chapter = (ROOT / "_build" / "html" / "chapters" / "00_how_to_use.html").read_text()
    assert "0.049" in chapter  # executed at build time: the checked number is on the page
    assert "colab.research.google.com" in chapter and "mybinder.org" in chapter
    exercises = (ROOT / "_build" / "html" / "exercises" / "00_how_to_use.html").read_text()
    assert "toggle" in exercises.lower()  # solutions behind a toggle
    assert "data:image/png" in exercises or ".png" in exercises  # the widget's static snapshot
