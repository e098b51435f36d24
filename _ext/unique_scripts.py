"""Write each ``<script>`` of a page once.

Sphinx 7.4 re-registers the inline scripts that extensions add after the HTML builder is
initialised (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector)
under an empty file name, so every page carried them twice and the browser raised
"Identifier 'THEBE_JS_URL' has already been declared". Sphinx 8 fixes this
(sphinx-doc/sphinx#13402); Jupyter Book 1 requires Sphinx 7.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _drop_repeated_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    """Keep the first of the page's scripts that share file name, priority and attributes."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, object]:
    """Deduplicate the scripts of every HTML page."""
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
