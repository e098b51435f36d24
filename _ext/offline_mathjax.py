"""Serve MathJax from the book itself, so that math is typeset without any network.

MathJax 3 comes from the pinned PyPI package ``django-static-mathjax`` (plain static files,
no Django needed). At build time the parts the book uses — the ``tex-mml-chtml``
component, its fonts and TeX extensions — are copied next to the HTML, and Sphinx is
pointed at the local copy instead of a CDN.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from sphinx.application import Sphinx

PARTS = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y")


def _copy_mathjax(app: Sphinx, config: object) -> None:
    source = Path(str(files("mathjax"))) / "static" / "mathjax"
    target = Path(app.outdir).parent / "mathjax_static"
    es5 = target / "mathjax" / "es5"
    if not (es5 / PARTS[0]).exists():
        for part in PARTS:
            origin = source / "es5" / part
            if origin.is_dir():
                shutil.copytree(origin, es5 / part, dirs_exist_ok=True)
            elif origin.exists():
                es5.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, es5 / part)
        shutil.copy2(source / "LICENSE", target / "mathjax" / "LICENSE")
    app.config.html_static_path = [*app.config.html_static_path, str(target)]
    app.config.mathjax_path = "mathjax/es5/tex-mml-chtml.js"


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
