"""The widget exercise helper: live view, static fallback, Check button; the rendering behind it."""

from __future__ import annotations

import base64
import io

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from physml.exercises import ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08
from physml.exercises.ch00 import BETA_HALF, draw_populations
from physml.exercises.widgets import LiveFigure, WidgetExercise
from physml.plotting import MovingFigure, figure, png_bytes, with_scene


def make(value=0.5, draw=draw_populations):
    slider = widgets.FloatSlider(value=value, min=0.0, max=3.0, step=0.01)
    return WidgetExercise("0.2", {"beta": slider}, draw, "beta")


def pixels(png: bytes) -> np.ndarray:
    """The decoded RGB(A) pixels of PNG bytes (fails on anything that is not a PNG)."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image)


def test_bundle_has_live_view_and_static_fallback():
    bundle = make()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    assert np.array_equal(pixels(png), pixels(png_bytes(draw_populations(0.5))))
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


def test_moving_a_control_clears_a_verdict_about_the_old_value():
    ex = make(value=0.3)
    ex.check()
    assert "physml-incorrect" in ex.feedback.value
    ex.set(beta=0.31)  # the verdict was about 0.3: it must not stay beside 0.31
    assert ex.feedback.value == ""
    ex.check()
    assert "beta_half = 0.31" in ex.feedback.value


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
    assert np.array_equal(pixels(bytes(ex.image.value)), pixels(png_bytes(draw_populations(0.7))))


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


# ------------------------------------------------------------------ rendering: png_bytes


def black_box_figure(x0: float, width: float, *, margins: bool = True) -> Figure:
    """A 4 × 3 inch white figure with one black box from ``x0`` to ``x0 + width`` inches, 0.5 to 1.5 up."""
    fig = Figure(figsize=(4, 3), dpi=100, facecolor="white")
    if margins:
        fig.subplots_adjust(left=0.2)
    box = Rectangle((x0 / 4, 0.5 / 3), width / 4, 1 / 3, transform=fig.transFigure, color="black", lw=0)
    fig.add_artist(box)
    return fig


def test_png_bytes_crops_to_the_drawing_plus_a_tenth_of_an_inch():
    image = pixels(png_bytes(black_box_figure(1.0, 2.0)))
    assert image.shape == (120, 220, 3)  # 200 × 100 pixels of box at 100 dpi, and 10 on each side
    assert (image[10:110, 10:210] == 0).all()
    assert (image[:10] == 255).all() and (image[110:] == 255).all()
    assert (image[:, :10] == 255).all() and (image[:, 210:] == 255).all()
    assert pixels(png_bytes(black_box_figure(1.0, 2.0), dpi=50)).shape == (60, 110, 3)


def test_png_bytes_keeps_what_sticks_out_of_the_figure():
    """Drawn past the right edge (the box ends at 5 inches of a 4 inch figure): savefig's tight box."""
    for margins in (True, False):
        image = pixels(png_bytes(black_box_figure(1.0, 4.0, margins=margins)))
        assert image.shape[:2] == (120, 420)
        assert (image[10:110, 10:410, :3] == 0).all()


def test_png_bytes_leaves_the_figure_as_it_was():
    fig, ax = figure()
    fig.subplots_adjust(bottom=0.2)
    ax.plot([0, 1], [0, 1])
    fig.set_facecolor("#eeeeee")
    fig.dpi = 72
    canvas = fig.canvas
    png = png_bytes(fig)
    assert fig.canvas is canvas and fig.dpi == 72 and fig.get_facecolor() == to_rgba("#eeeeee")
    image = pixels(png)
    assert image.shape[1] <= 600 and (image[0, 0] == 255).all()  # 6 inches at 100 dpi, on white
    assert png_bytes(fig) == png


# ------------------------------------------------------------------ rendering: moving figures


#: Every widget exercise's draw function and three values of its control, the first one as
#: its notebook starts.
EXERCISE_DRAWS = [
    (ch00.draw_populations, "beta", (0.5, 2.9, 0.0)),
    (ch01.draw_ising, "T", (3.0, 2.3, 1.5)),
    (ch02.draw_entropy_target, "T", (1.0, 0.3, 30.0)),
    (ch03.draw_basin_masses, "beta", (1.0, 0.2, 500.0)),
    (ch04.draw_gd_on_quadratic, "eta", (0.1, 0.5, 0.75)),
    (ch05.draw_kepler_orbits, "h", (0.05, 0.15, 0.2)),
    (ch06.draw_noise_gap, "sigma", (1e-3, 1.0, 1e-4)),
    (ch07.draw_horizon, "horizon", (100.0, 20.0, 0.5)),
    (ch08.draw_sr_convergence, "diag_shift", (1e-4, 10**0.9, 10**-2.5)),
]


@pytest.mark.parametrize(("draw", "name", "values"), EXERCISE_DRAWS, ids=lambda x: getattr(x, "__name__", ""))
def test_the_frames_of_a_moving_exercise_figure_are_its_full_renderings(draw, name, values):
    """Repainting only the moving parts gives, pixel for pixel, the picture of a new figure."""
    moving = MovingFigure(*draw.scene())
    for value in (*values, values[0]):
        assert np.array_equal(pixels(moving.png(**{name: value})), pixels(png_bytes(draw(value))))


def counting_scene(calls: list[str], *, limit: float = 3.0):
    """A bar chart of one bar whose height is ``beta`` (a ValueError above ``limit``), counting calls."""

    def scene():
        calls.append("scene")
        fig, ax = figure()
        fig.subplots_adjust(left=0.15, bottom=0.15)
        (bar,) = ax.bar([0], [1.0])
        ax.set_axisbelow(True)  # the grid under the bar, which frames repaint over it
        ax.set_ylim(0, 3)

        def move(beta):
            calls.append("move")
            if beta > limit:
                raise ValueError("too high")
            bar.set_height(beta)
            return [bar]

        return fig, move

    @with_scene(scene)
    def draw(beta):
        calls.append("draw")
        fig, move = scene()
        move(beta)
        return fig

    return draw


def test_a_live_figure_with_a_scene_moves_one_figure():
    calls = []
    draw = counting_scene(calls)
    live = LiveFigure({"beta": widgets.FloatSlider(value=0.5, min=0.0, max=3.0)}, draw)
    frames = {}
    for beta in (1.0, 2.5, 0.25):
        live.set(beta=beta)
        frames[beta] = bytes(live.image.value)
    assert calls == ["scene"] + ["move"] * 4  # one figure, moved to each value; draw is never called
    for beta, frame in frames.items():
        assert np.array_equal(pixels(frame), pixels(png_bytes(draw(beta))))


def test_an_error_while_moving_is_shown_not_raised():
    live = LiveFigure({"beta": widgets.FloatSlider(value=0.5, min=0.0, max=5.0)}, counting_scene([], limit=2))
    before = bytes(live.image.value)
    live.set(beta=4.0)
    assert "Could not draw: ValueError: too high" in live.feedback.value
    assert bytes(live.image.value) == before
    live.set(beta=1.5)
    assert np.array_equal(pixels(bytes(live.image.value)), pixels(png_bytes(counting_scene([])(1.5))))


def test_a_moving_figure_whose_parts_leave_it_is_rendered_whole():
    """A moving text that ends up past the figure's edge makes the frame a full ``savefig`` rendering."""
    fig, _ = figure(figsize=(3, 2))
    fig.subplots_adjust(left=0.2, bottom=0.2)
    label = fig.text(0.5, 0.5, "moving")

    def move(x):
        label.set_x(x)
        return [label]

    moving = MovingFigure(fig, move)
    widths = [pixels(moving.png(x=x)).shape[1] for x in (0.5, 0.6, 0.9, 0.6)]
    assert widths[0] == widths[1] == widths[3] < 300 < widths[2]
