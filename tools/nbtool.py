"""Keep the book's notebooks normalized: outputs only in checked cells.

    python tools/nbtool.py strip NOTEBOOK...     # drop outputs, counts and widget state
    python tools/nbtool.py refresh NOTEBOOK...   # execute, keep the outputs of checked cells

A cell whose source contains ``# NBVAL_CHECK_OUTPUT`` keeps its plain-text output and its
execution count (nbval compares only cells that have a count); every other cell is stored
without outputs or count. Notebook-level widget state is removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

MARK = "NBVAL_CHECK_OUTPUT"
TEXT_TYPES = ("text/plain",)


def is_checked(cell: nbformat.NotebookNode) -> bool:
    return cell.get("cell_type") == "code" and MARK in cell.get("source", "")


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove everything but the plain-text output of checked cells; renumber them."""
    nb.metadata.pop("widgets", None)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        cell.metadata.pop("execution", None)
        if not is_checked(cell):
            cell.outputs = []
            cell.execution_count = None
            continue
        count += 1
        kept = []
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stdout":
                # The kernel may split one print sequence into several messages: store one.
                if kept and kept[-1].output_type == "stream":
                    kept[-1].text += out.text
                else:
                    kept.append(out)
            elif out.output_type == "execute_result":
                data = {k: v for k, v in out.data.items() if k in TEXT_TYPES}
                if data:
                    kept.append(nbformat.v4.new_output("execute_result", data=data, execution_count=count))
        cell.outputs = kept
        cell.execution_count = count
    return nb


def refresh(path: Path, timeout: int = 300) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    write(path, strip(nb))


def write(path: Path, nb: nbformat.NotebookNode) -> None:
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    path.write_text(text if text.endswith("\n") else text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["strip", "refresh"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if args.command == "refresh":
            refresh(path)
        else:
            write(path, strip(nbformat.read(path, as_version=4)))
        print(f"{args.command}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
