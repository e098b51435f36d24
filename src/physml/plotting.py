"""The book's figure style, opt-in, and small helpers shared by chapters and widgets.

Nothing here runs at import. A chapter calls :func:`use_style` once; figures keep a white
face so that they stay legible on the theme's dark background.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["STYLE", "MovingFigure", "Scene", "figure", "png_bytes", "use_style", "with_scene"]

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
    """The figure as a PNG on a white background, cropped to what is drawn plus a 0.1 inch margin.

    The picture of ``savefig(bbox_inches="tight")``. A figure whose margins were chosen (a
    layout engine, or ``subplots_adjust``) is rendered once with Agg, the blank border is
    cut from the pixels, and the PNG is encoded with fast (still lossless) compression:
    about half the cost of ``savefig``, which renders twice. A figure with matplotlib's
    default margins often has labels sticking out of it, and one drawn up to its edge may
    have content cut off there: those go through ``savefig``, whose tight box takes in what
    lies outside. (An artist placed wholly outside a figure with chosen margins leaves no
    pixel to notice it by, and is not shown.)
    """
    png = _cropped_png(_render(fig, dpi), dpi) if _margins_chosen(fig) else None
    return _savefig_tight(fig, dpi) if png is None else png


class MovingFigure:
    """A figure drawn once and then moved: each new frame repaints only the parts that move.

    Args:
        fig: the figure, laid out. From now on it is rendered by this object's Agg canvas,
            at ``dpi``, on a white face.
        move: ``move(**values)`` sets the moving parts of ``fig`` for new values (lines'
            data, bar heights, texts, or whole axes whose limits change) and returns them.
            Everything else must stay as drawn. A static artist drawn over a moving one
            (a legend, a reference line) must be returned too, or it would end up
            underneath; the frames of the axes that hold moving parts (their spines) are
            repainted over them without being asked.
        dpi: resolution of the frames.

    The first frame is a full rendering, :func:`png_bytes`. For the next ones the moving
    parts are set aside and the rest is rendered once and kept (matplotlib's blitting): a
    frame restores those pixels, paints the moving parts over them in z-order, and is
    cropped and encoded as :func:`png_bytes` does. Most of a full rendering goes to tick
    labels, legends and other text that does not move, so a frame costs a fraction of it.
    A figure that :func:`png_bytes` has to pass to ``savefig`` (default margins, or
    something drawn up to its edge) is rendered in full every time instead.
    """

    def __init__(self, fig: Figure, move: Callable[..., Sequence[Artist]], dpi: int = 100) -> None:
        self.figure = fig
        self.move = move
        self.dpi = dpi
        self._canvas = FigureCanvasAgg(fig)
        fig.dpi = dpi
        fig.set_facecolor("white")
        self._drawn = False
        self._blit = _margins_chosen(fig)
        self._background: Any = None
        self._moved: list[int] = []
        self._repainted: list[Artist] = []

    def png(self, **values: Any) -> bytes:
        """Move the figure to ``values`` and return the frame as PNG bytes."""
        moving = list(self.move(**values))
        if not (self._drawn and self._blit):
            self._drawn = True
            return png_bytes(self.figure, self.dpi)
        if self._background is None or [id(a) for a in moving] != self._moved:
            self._keep_background(moving)
        else:
            self._canvas.restore_region(self._background)
        with mpl.rc_context(STYLE):
            for artist in sorted(self._repainted, key=lambda a: a.get_zorder()):
                self.figure.draw_artist(artist)
        png = _cropped_png(np.array(self._canvas.buffer_rgba()), self.dpi)
        if png is None:  # drawn up to the edge: from now on, full renderings take in what lies beyond
            self._release()
            self._blit = False
            return png_bytes(self.figure, self.dpi)
        return png

    def _keep_background(self, moving: list[Artist]) -> None:
        """Render everything but ``moving`` and the spines of their axes, and keep the pixels."""
        self._release()
        holders = dict.fromkeys(a.axes for a in moving if a.axes is not None)
        spines = [s for ax in holders for s in ax.spines.values() if s not in moving]
        self._moved, self._repainted = [id(a) for a in moving], [*moving, *spines]
        for artist in self._repainted:
            artist.set_animated(True)
        with mpl.rc_context(STYLE):
            _share_mathtext_parser(self._canvas)
            self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)

    def _release(self) -> None:
        """Put the repainted artists back into the figure's ordinary drawing; forget the background."""
        for artist in self._repainted:
            artist.set_animated(False)
        self._moved, self._repainted, self._background = [], [], None


#: A figure and the function that moves it to new control values (see :class:`MovingFigure`).
Scene = tuple[Figure, Callable[..., Sequence[Artist]]]

_Draw = TypeVar("_Draw", bound=Callable[..., Figure])


def with_scene(scene: Callable[[], Scene]) -> Callable[[_Draw], _Draw]:
    """Attach to a draw function, as ``draw.scene``, the scene it draws.

    ``draw(**values)`` must equal ``scene()`` moved to ``values``. A live figure then
    keeps one scene and repaints its moving parts (:class:`MovingFigure`) instead of
    drawing and rendering a new figure on every move of a control.
    """

    def attach(draw: _Draw) -> _Draw:
        draw.scene = scene  # type: ignore[attr-defined]
        return draw

    return attach


_PAD_INCHES = 0.1
_WHITE = np.array([255, 255, 255, 255], np.uint8).view(np.uint32)[0]
_MATHTEXT_PARSERS: dict[type, Any] = {}


def _margins_chosen(fig: Figure) -> bool:
    """Whether the figure has a layout engine or subplot margins other than matplotlib's defaults."""
    params = fig.subplotpars
    return fig.get_layout_engine() is not None or any(
        getattr(params, side) != mpl.rcParams[f"figure.subplot.{side}"]
        for side in ("left", "bottom", "right", "top")
    )


def _share_mathtext_parser(canvas: FigureCanvasAgg) -> None:
    """Give the canvas's renderer the math-text parser of all the others.

    Agg lays out math text (the ``10^{-6}`` of log axes) through a parser whose cache
    belongs to the renderer, so every new figure would lay out each label again.
    """
    renderer = canvas.get_renderer()
    renderer.mathtext_parser = _MATHTEXT_PARSERS.setdefault(type(renderer), renderer.mathtext_parser)


def _render(fig: Figure, dpi: int) -> np.ndarray:
    """The figure's RGBA pixels ``(height, width, 4)`` at ``dpi``, drawn by Agg on a white face.

    The figure keeps its own canvas, dpi and face colour.
    """
    canvas, original_dpi, face = fig.canvas, fig.dpi, fig.get_facecolor()
    agg = FigureCanvasAgg(fig)
    try:
        fig.dpi = dpi
        fig.set_facecolor("white")
        with mpl.rc_context(STYLE):
            _share_mathtext_parser(agg)
            agg.draw()
        return np.array(agg.buffer_rgba())
    finally:
        fig.dpi = original_dpi
        fig.set_facecolor(face)
        fig.set_canvas(canvas)


def _cropped_png(rgba: np.ndarray, dpi: int) -> bytes | None:
    """PNG bytes of what is drawn on the white ``rgba`` image plus a 0.1 inch margin.

    ``None`` if something is drawn on the outermost pixels: it may go on beyond them.
    """
    ink = rgba.view(np.uint32)[..., 0] != _WHITE
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return _encode(rgba[..., :3])
    height, width = ink.shape
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == height - 1 or cols[-1] == width - 1:
        return None
    pad = round(_PAD_INCHES * dpi)
    cropped = rgba[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1, :3]
    return _encode(np.pad(cropped, ((pad, pad), (pad, pad), (0, 0)), constant_values=255))


def _encode(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB image at zlib level 1: about 2 % larger than the default level 6, and faster."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _savefig_tight(fig: Figure, dpi: int) -> bytes:
    """PNG bytes by ``savefig(bbox_inches="tight")``: two renderings, content outside the figure kept."""
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(
            buffer, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=_PAD_INCHES
        )
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
    fig.subplots_adjust(left=0.14, bottom=0.15)  # room for the labels: nothing is drawn past the edge
    colours = ["#4c72b0"] * len(energies)
    if highlight is not None:
        colours[highlight] = "#dd8452"
    ax.bar(energies, probabilities, width=1.2, color=colours)
    ax.set_axisbelow(True)
    ax.set_yscale("log")
    ax.set_ylim(1e-12, 1.5)
    ax.set_xlabel("energy $E(x)$ of the configuration (units of $B$)")
    ax.set_ylabel("probability $p(x)$ of one configuration")
    if title:
        ax.set_title(title)
    return fig
