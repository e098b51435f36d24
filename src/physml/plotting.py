"""The book's figure style, opt-in, and small helpers shared by chapters and widgets.

Nothing here runs at import. A chapter calls :func:`use_style` once; figures keep a white
face so that they stay legible on the theme's dark background.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

__all__ = ["STYLE", "figure", "png_bytes", "use_style"]

#: rcParams of the book's figures.
STYLE: dict[str, Any] = {
    "figure.figsize": (6.0, 3.6),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.bbox": "tight",
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#111111",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "font.size": 11,
    "legend.frameon": False,
    "xtick.color": "#111111",
    "ytick.color": "#111111",
    "text.color": "#111111",
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's matplotlib style (white figures, light grid, readable sizes).

    In a notebook it also lets a bare :class:`~matplotlib.figure.Figure` (one made by
    :func:`figure`, outside pyplot) display itself as a PNG when it ends a cell.
    """
    mpl.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - plain Python, nothing to display into
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png")


def figure(**kwargs: Any) -> tuple[Figure, Any]:
    """A figure and one axes drawn in the book's style, without touching pyplot's state.

    Keyword arguments go to ``matplotlib.figure.Figure.subplots``. The figure is not
    registered with pyplot, so widgets can redraw it without leaking figures.
    """
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=kwargs.pop("figsize", STYLE["figure.figsize"]), facecolor="white")
        axes = fig.subplots(**kwargs)
    return fig, axes


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes (the Agg backend; no display needed)."""
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", bbox_inches="tight")
    return buffer.getvalue()


def level_populations(
    energies: Any, probabilities: Any, *, highlight: int | None = None, title: str | None = None
) -> Figure:
    """Bar chart of the probability of one configuration at each energy level (log scale).

    Args:
        energies: distinct energy levels, shape ``(levels,)``.
        probabilities: probability of a single configuration at each level, ``(levels,)``.
        highlight: index of a level to draw in a contrasting colour.
        title: optional axes title.
    """
    fig, ax = figure()
    colours = ["#4c72b0"] * len(energies)
    if highlight is not None:
        colours[highlight] = "#dd8452"
    ax.bar(energies, probabilities, width=1.2, color=colours)
    ax.set_yscale("log")
    ax.set_ylim(1e-12, 1.5)
    ax.set_xlabel("energy $E(x)$ of the configuration (units of $B$)")
    ax.set_ylabel("probability $p(x)$ of one configuration")
    if title:
        ax.set_title(title)
    return fig
