"""Widget exercises: controls, a live plot and a Check button — with a static fallback.

The display bundle of a :class:`WidgetExercise` carries both the live ipywidgets view and a
PNG snapshot of the plot at the controls' starting values (plus a plain-text line). A
frontend with a widget manager (JupyterLab, Colab, Thebe) shows the live view; anything
else — the HTML book, nbval, a terminal — shows the snapshot. Nothing needs stubbing.

Computation stays out of this module: ``draw`` is the chapter's (or the package's) pure
function from control values to a matplotlib figure, and checking goes through
:func:`physml.exercises.evaluate`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..plotting import MovingFigure, png_bytes
from ._core import REGISTRY, Result, evaluate

__all__ = ["LiveFigure", "WidgetExercise"]


class LiveFigure:
    """Controls over a figure that redraws when they move — with a static PNG fallback.

    Args:
        controls: name → ipywidgets value widget (``FloatSlider``, ``BoundedFloatText``,
            ``Dropdown``, ...). The names are the keyword arguments of ``draw``.
        draw: ``draw(**values) -> matplotlib.figure.Figure``, pure and quick (it runs on
            every change of a control).

    A chapter uses it for an explorable figure; :class:`WidgetExercise` adds a Check button.

    If ``draw`` carries a scene (:func:`physml.plotting.with_scene`), the live figure keeps
    one figure and repaints only its moving parts on a change of a control
    (:class:`physml.plotting.MovingFigure`), instead of drawing and rendering a new one.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], draw: Callable[..., Figure]) -> None:
        if not controls:
            raise ValueError("a live figure needs at least one control")
        self.controls = dict(controls)
        self.draw = draw
        self._moving: MovingFigure | None = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="640px"))
        self.feedback = widgets.HTML()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.box = widgets.VBox([widgets.HBox(self._top_row()), self.image, self.feedback])
        self.redraw()

    def _top_row(self) -> list[widgets.Widget]:
        return list(self.controls.values())

    @property
    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: Any) -> None:
        """Move controls programmatically (as a learner would), redrawing once per control."""
        for name, value in values.items():
            self.controls[name].value = value

    def _on_change(self, _change: Any) -> None:
        # What the feedback says is about the old values (a verdict, a drawing error): clear it.
        # A Check click can reach the kernel before the slider moves that preceded it, so a
        # verdict on a stale value is erased as soon as the newer value arrives.
        self.feedback.value = ""
        self.redraw()

    def redraw(self) -> None:
        """Draw the figure for the current values into the image widget."""
        try:
            self.image.value = self._png()
        except Exception as exc:  # a drawing error must not kill the widget
            self.feedback.value = f"<i>Could not draw: {escape(type(exc).__name__)}: {escape(str(exc))}</i>"

    def _png(self) -> bytes:
        """PNG bytes of the figure at the current values."""
        scene = getattr(self.draw, "scene", None)
        if scene is None:
            return png_bytes(self.draw(**self.values))
        if self._moving is None:
            self._moving = MovingFigure(*scene())
        return self._moving.png(**self.values)

    def _static_text(self) -> str:
        settings = ", ".join(f"{k} = {_literal(v)}" for k, v in self.values.items())
        return f"Live figure (static view at {settings}); run the notebook to move the controls."

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.box._repr_mimebundle_(include=include, exclude=exclude) or {})
        if self.image.value:
            bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        bundle["text/plain"] = self._static_text()
        return bundle


class WidgetExercise(LiveFigure):
    """Controls, a live figure and a Check button for one exercise.

    Args:
        exercise_id: id of a registered exercise, e.g. ``"0.2"``.
        controls: name → ipywidgets value widget (``FloatSlider``, ``BoundedFloatText``,
            ``Dropdown``, ...). The names are the keyword arguments of ``draw``.
        draw: ``draw(**values) -> matplotlib.figure.Figure``, pure and quick (it runs on
            every change of a control).
        answer: the name of the control whose value is the answer, or a function
            ``answer(values) -> answer`` for answers derived from several controls.

    The grader cannot see where a slider was left, so the Check button also says which
    line to put in the answer cell to have the value graded.
    """

    def __init__(
        self,
        exercise_id: str,
        controls: Mapping[str, widgets.ValueWidget],
        draw: Callable[..., Figure],
        answer: str | Callable[[dict[str, Any]], Any],
    ) -> None:
        if exercise_id not in REGISTRY:
            raise ValueError(f"no exercise {exercise_id!r}")
        if isinstance(answer, str) and answer not in controls:
            raise ValueError(f"answer {answer!r} names no control; controls: {list(controls)}")
        self.exercise_id = exercise_id
        self.answer = answer
        self.button = widgets.Button(description="Check", button_style="primary", icon="check")
        self.button.on_click(lambda _: self.check())
        super().__init__(controls, draw)

    def _top_row(self) -> list[widgets.Widget]:
        return [*self.controls.values(), self.button]

    def current_answer(self) -> Any:
        values = self.values
        return values[self.answer] if isinstance(self.answer, str) else self.answer(values)

    def check(self) -> Result:
        """Check the current answer, show the verdict under the plot and return it."""
        try:
            answer = self.current_answer()
        except Exception as exc:
            answer = None
            result = Result(self.exercise_id, "error", f"could not read the controls: {exc}", 0.0, 0.0)
        else:
            result = evaluate(self.exercise_id, answer)
        name = REGISTRY[self.exercise_id].answer
        record = (
            f"<div style='font-family:sans-serif;font-size:90%'>To have this graded, put "
            f"<code>{escape(name)} = {escape(_literal(answer))}</code> in the answer cell below.</div>"
        )
        self.feedback.value = result._repr_html_() + record
        return result

    def _static_text(self) -> str:
        settings = ", ".join(f"{k} = {_literal(v)}" for k, v in self.values.items())
        return (
            f"Widget exercise {self.exercise_id} (static view at {settings}); "
            "run the notebook to move the controls."
        )


def _literal(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)
