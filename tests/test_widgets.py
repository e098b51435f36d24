"""The widget exercise helper: live view, static fallback, Check button."""

from __future__ import annotations

import base64

import ipywidgets as widgets
import pytest

from physml.exercises.ch00 import BETA_HALF, draw_populations
from physml.exercises.widgets import LiveFigure, WidgetExercise


def make(value=0.5, draw=draw_populations):
    slider = widgets.FloatSlider(value=value, min=0.0, max=3.0, step=0.01)
    return WidgetExercise("0.2", {"beta": slider}, draw, "beta")


def test_bundle_has_live_view_and_static_fallback():
    bundle = make()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    assert "static view at beta = 0.5" in bundle["text/plain"]


def test_moving_the_slider_redraws_and_check_grades_the_value():
    ex = make()
    before = bytes(ex.image.value)
    ex.set(beta=round(float(BETA_HALF), 2))
    assert bytes(ex.image.value) != before
    result = ex.check()
    assert result.passed
    assert "physml-correct" in ex.feedback.value
    assert "beta_half = 1.2" in ex.feedback.value  # tells the learner what to record


def test_the_button_checks():
    ex = make(value=0.3)
    ex.button.click()
    assert "physml-incorrect" in ex.feedback.value
    assert "too small" in ex.feedback.value


def test_a_drawing_error_is_shown_not_raised():
    calls = []

    def draw(beta):
        calls.append(beta)
        if beta > 1:
            raise ValueError("boom")
        return draw_populations(beta)

    ex = make(draw=draw)
    ex.set(beta=2.0)
    assert "Could not draw: ValueError: boom" in ex.feedback.value
    assert calls == [0.5, 2.0]


def test_bad_construction_is_refused():
    slider = widgets.FloatSlider()
    with pytest.raises(ValueError, match="no exercise"):
        WidgetExercise("7.7", {"beta": slider}, draw_populations, "beta")
    with pytest.raises(ValueError, match="names no control"):
        WidgetExercise("0.2", {"beta": slider}, draw_populations, "temperature")


def test_derived_answers():
    sliders = {"a": widgets.FloatSlider(value=0.6), "b": widgets.FloatSlider(value=0.6)}
    ex = WidgetExercise("0.2", sliders, lambda a, b: draw_populations(a + b), lambda v: v["a"] + v["b"])
    assert ex.check().passed  # 0.6 + 0.6 = 1.2, within 0.01 of beta_half
    sliders["a"].value = 0.1
    assert not ex.check().passed


def test_a_live_figure_redraws_and_falls_back_to_its_snapshot():
    slider = widgets.FloatSlider(value=0.5, min=0.0, max=3.0)
    live = LiveFigure({"beta": slider}, draw_populations)
    first = bytes(live.image.value)
    bundle = live._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == first
    assert "static view at beta = 0.5" in bundle["text/plain"]
    live.set(beta=2.0)
    assert bytes(live.image.value) != first
    assert not hasattr(live, "button")
    with pytest.raises(ValueError, match="at least one control"):
        LiveFigure({}, draw_populations)
