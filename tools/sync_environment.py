"""Write environment.yml (Binder, conda) from requirements.lock, or check that they agree.

    python tools/sync_environment.py           # rewrite environment.yml
    python tools/sync_environment.py --check   # exit 1 and show the difference if they disagree

requirements.lock is the one source of pins: environment.yml lists exactly its
``name==version`` lines in its pip section, so Binder installs what CI and `make` install.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
ENV = ROOT / "environment.yml"
PYTHON = "3.11"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-\[\]]*)==([^\s;#]+)")


def pins(lock_text: str) -> list[str]:
    """The ``name==version`` pins of a lock file, in its order, without comments."""
    found = []
    for line in lock_text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found.append(f"{match.group(1)}=={match.group(2)}")
    return found


def render(pinned: list[str]) -> str:
    lines = [
        "# Generated from requirements.lock by tools/sync_environment.py; do not edit by hand.",
        "# Binder builds from this file, then runs postBuild (which installs physml itself).",
        "name: physics-of-learning",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        "  - pip:",
        *[f"      - {pin}" for pin in pinned],
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if they disagree")
    args = parser.parse_args(argv)
    wanted = render(pins(LOCK.read_text()))
    if args.check:
        current = ENV.read_text() if ENV.exists() else ""
        if current != wanted:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(True),
                    wanted.splitlines(True),
                    "environment.yml",
                    "from requirements.lock",
                )
            )
            return 1
        return 0
    ENV.write_text(wanted)
    print(f"wrote {ENV.name} with {len(pins(LOCK.read_text()))} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
