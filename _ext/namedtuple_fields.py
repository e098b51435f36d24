"""Leave the automatic "Alias for field number N" members of NamedTuples out of the API pages.

A NamedTuple's fields are described in its own docstring (an ``Attributes:`` section, which
napoleon turns into attribute entries); autodoc would document each field a second time
with Python's placeholder docstring, which is noise at best and a duplicate-object warning
at worst.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _skip_field_alias(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    doc = getattr(obj, "__doc__", None) or ""
    if what == "class" and doc.startswith("Alias for field number"):
        return True
    return None


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("autodoc-skip-member", _skip_field_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
