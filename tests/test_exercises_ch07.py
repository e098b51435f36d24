"""Chapter 7's checkers: each reference is checked against the package and an independent computation
(forces summed pair by pair, plaquettes as loops over sites, the projection onto the symmetric matrices
written out, the zero of a fitted line, energies along exact spring orbits), each known-wrong answer gets
its own message, float32 answers pass, and the widget draws a deterministic figure with a static
fallback."""

from __future__ import annotations

import functools
import itertools
import math

import equinox as eqx
import ipywidgets as widgets
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, assert_distinct, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml import forces, gauge, landau, onsager
from physml.exercises import check, exercises_in
from physml.exercises.ch07 import (
    N_7_4,
    PARAMS_7_5,
    SLIDER_STEP_7_6,
    SPECS_7_1,
    SPECS_7_2,
    T_MAX_7_6,
    THRESHOLD_7_6,
    TanhForce,
    _variants_7_1,
    _variants_7_2,
    _variants_7_3,
    _variants_7_4,
    _variants_7_5,
    cases_7_1,
    cases_7_2,
    cases_7_3,
    draw_horizon,
    error_ratio_reference,
    first_crossing,
    gauge_transform_reference,
    landau_model_7_5,
    numpy_forces,
    pair_forces_reference,
    plaquette_reference,
    rollouts_7_6,
    spring_data_7_6,
    spring_magnitude,
    standard_normal,
    stays_above,
    uniform,
)
from physml.exercises.widgets import WidgetExercise
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "07_physics_as_inductive_bias.ipynb"
IDS = ["7.1", "7.2", "7.3", "7.4", "7.5", "7.6"]

SOLUTIONS = reference_answers(NOTEBOOK)


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("07_physics_as_inductive_bias")] == IDS
    assert sorted(SOLUTIONS) == IDS


@pytest.mark.parametrize("exercise", IDS)
def test_the_reference_solutions_pass(exercise):
    result = check(exercise, SOLUTIONS[exercise])
    assert result.passed, result.message


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("exercise", IDS)
def test_placeholders_are_not_attempted(exercise):
    for placeholder in (None, ..., stub) if callable(SOLUTIONS[exercise]) else (None, ...):
        result = check(exercise, placeholder)
        assert result.status == "not attempted" and result.points == 0


def test_the_random_draws_are_fixed():
    assert np.array_equal(standard_normal(5, 10), standard_normal(5, 100)[:10])
    assert abs(np.mean(standard_normal(5, 4096))) < 4 / 64  # 4 standard errors: false failure 6e-5
    u = uniform(6, 4096)
    assert np.all((u >= 0) & (u < 1)) and abs(np.mean(u) - 0.5) < 4 / math.sqrt(12 * 4096)
    for bad in (0, 5000):
        with pytest.raises(ValueError, match="size must be"):
            uniform(1, bad)


# ---------------------------------------------------------------- exercise 7.1


def forces_by_loops(f, x):
    """F_i = sum over j != i of f(r) (x_i - x_j)/r, pair by pair."""
    out = np.zeros_like(x)
    for i, j in itertools.permutations(range(len(x)), 2):
        r = x[i] - x[j]
        d = math.sqrt(float(r @ r))
        out[i] += float(f(d)) * r / d
    return out


@pytest.mark.parametrize("index", range(len(SPECS_7_1)))
def test_the_forces_are_the_package_pair_forces(index):
    case = cases_7_1()[index]
    package = np.asarray(forces.pair_forces(case.f, jnp.asarray(case.x)))
    assert case.forces == pytest.approx(package, rel=1e-12, abs=1e-12)
    assert case.forces == pytest.approx(forces_by_loops(case.f, case.x), rel=1e-12, abs=1e-12)
    assert np.abs(case.forces.sum(axis=0)).max() < 1e-12  # Newton's third law
    assert_distinct([case.forces] + [v for v, _ in _variants_7_1(case)])


def test_the_force_magnitudes_work_on_numbers_and_arrays():
    net = TanhForce([0.5, -1.0], [1.0, 2.0], [0.0, 0.5])
    r = np.array([[0.3, 1.1], [2.0, 0.7]])
    expected = 0.5 * np.tanh(r) - np.tanh(2 * r + 0.5)
    assert net(r) == pytest.approx(expected, rel=1e-14)
    assert net(1.1) == pytest.approx(expected[0, 1], rel=1e-14)
    assert np.asarray(jax.jit(net)(jnp.asarray(r))) == pytest.approx(expected, rel=1e-14)
    # two particles: the force on each is f(r) along the line between them
    x = np.array([[0.0, 0.0], [1.5, 0.0]])
    assert pair_forces_reference(spring_magnitude, x) == pytest.approx(np.array([[0.5, 0.0], [-0.5, 0.0]]))


def test_numpy_forces_runs_in_the_package_simulation():
    system = forces.spring_system(4, 2)
    x0 = np.asarray(forces.reference_shape(system)) + 0.1 * standard_normal(3, 8).reshape(4, 2)
    v0 = 0.2 * standard_normal(4, 8).reshape(4, 2)
    wrapped = numpy_forces(functools.partial(pair_forces_reference, spring_magnitude))
    ours = forces.simulate(wrapped, x0, v0, system.masses, 0.01, 200, every=50)
    package = forces.simulate(
        functools.partial(forces.pair_forces, spring_magnitude), x0, v0, system.masses, 0.01, 200, every=50
    )
    assert np.asarray(ours.positions) == pytest.approx(np.asarray(package.positions), rel=1e-10, abs=1e-12)


def pair_total_forces(f, x):
    r = x[:, None, :] - x[None, :, :]
    d = np.linalg.norm(r, axis=-1)
    off = ~np.eye(len(x), dtype=bool)
    safe = np.where(off, d, 1.0)
    return np.sum((np.where(off, f(safe), 0.0) / safe)[..., None] * r, axis=1)


def only_upper(f, x):
    out = np.zeros_like(x)
    for i, j in itertools.combinations(range(len(x)), 2):
        r = x[i] - x[j]
        out[i] += f(np.linalg.norm(r)) * r / np.linalg.norm(r)
    return out


def with_self_term(f, x):
    r = x[:, None, :] - x[None, :, :]
    d = np.linalg.norm(r, axis=-1)
    return np.sum((f(d) / d)[..., None] * r, axis=1)


def unnormalised(f, x):
    r = x[:, None, :] - x[None, :, :]
    d = np.linalg.norm(r, axis=-1)
    off = ~np.eye(len(x), dtype=bool)
    return np.sum(np.where(off, f(np.where(off, d, 1.0)), 0.0)[..., None] * r, axis=1)


WRONG_7_1 = {
    "sign": (lambda f, x: -pair_total_forces(f, x), "the sign is flipped"),
    "unnormalised": (unnormalised, "the direction is not normalised"),
    "double": (lambda f, x: 2 * pair_total_forces(f, x), "twice the forces"),
    "half": (lambda f, x: pair_total_forces(f, x) / 2, "half the forces"),
    "only j > i": (only_upper, "only the pairs j > i are summed, so the forces do not add up to zero"),
    "self term": (with_self_term, "the term j = i?"),
    "pairwise": (lambda f, x: np.zeros((len(x), len(x), x.shape[1])), "one force per pair"),
    "transposed": (lambda f, x: pair_total_forces(f, x).T, "transposed"),
    "magnitudes": (lambda f, x: np.linalg.norm(pair_total_forces(f, x), axis=1), "magnitudes"),
    "pushed": (lambda f, x: pair_total_forces(f, x) + 0.1, "Newton's third law is broken"),
    "other": (
        lambda f, x: pair_total_forces(f, x) * np.array([[1.0], [0.5]] + [[1.0]] * (len(x) - 2)),
        "not zero",
    ),
    "rotated": (lambda f, x: pair_total_forces(f, x)[::-1] * -1, "the force on it is"),
    "None": (lambda f, x: None, "forget a `return`"),
    "string": (lambda f, x: "F", "not a string"),
    "raises": (lambda f, x: 1 / 0, "raised ZeroDivisionError"),
}


@pytest.mark.parametrize("name", sorted(WRONG_7_1))
def test_wrong_answers_to_7_1(name):
    answer, phrase = WRONG_7_1[name]
    assert_wrong("7.1", answer, phrase)


@pytest.mark.parametrize(
    "answer",
    [
        pair_total_forces,
        forces_by_loops,
        lambda f, x: np.float32(pair_total_forces(f, x)),
        lambda f, x: jnp.asarray(pair_total_forces(f, x)),
        lambda f, x: pair_total_forces(f, x).tolist(),
    ],
)
def test_right_answers_to_7_1_pass(answer):
    result = check("7.1", answer)
    assert result.passed, result.message
    assert "ΣF_i = 0 whatever f is" in result.message


# ---------------------------------------------------------------- exercise 7.2


def plaquettes_by_loops(theta):
    L = theta.shape[-1]
    out = np.empty((L, L))
    for a, b in itertools.product(range(L), repeat=2):
        out[a, b] = theta[0, a, b] + theta[1, (a + 1) % L, b] - theta[0, a, (b + 1) % L] - theta[1, a, b]
    return out


def wrapped_gap(a, b):
    return np.max(np.abs(np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b))))))


@pytest.mark.parametrize("index", range(len(SPECS_7_2)))
def test_the_plaquettes_are_the_package_plaquettes(index):
    case = cases_7_2()[index]
    assert case.plaquettes == pytest.approx(np.asarray(gauge.plaquette_angles(case.theta)), abs=1e-12)
    assert case.plaquettes == pytest.approx(plaquettes_by_loops(case.theta), abs=1e-12)
    assert abs(case.plaquettes.sum()) < 1e-11  # every link is walked once each way on the torus
    gaps = [wrapped_gap(v, case.plaquettes) for v, _ in _variants_7_2(case.theta)]
    if case.theta.shape[-1] > 2:
        assert min(gaps) > 1e-2
    else:  # on the 2×2 torus x + 1̂ = x - 1̂: shifting the wrong way is right there, and the check skips it
        assert gaps[1] < 1e-12 and min(gaps[:1] + gaps[2:]) > 1e-2


def test_the_gauge_transformation_is_the_package_one_and_changes_no_plaquette():
    theta = np.pi * (2 * uniform(9, 32).reshape(2, 4, 4) - 1)
    alpha = np.pi * (2 * uniform(10, 16).reshape(4, 4) - 1)
    moved = gauge_transform_reference(theta, alpha)
    assert wrapped_gap(moved, np.asarray(gauge.gauge_transform(theta, alpha))) < 1e-12
    assert wrapped_gap(moved, theta) > 1.0
    assert wrapped_gap(plaquette_reference(moved), plaquette_reference(theta)) < 1e-12


def test_the_single_link_borders_two_plaquettes():
    case = cases_7_2()[0]
    expected = np.zeros((3, 3))
    expected[0, 0], expected[0, 2] = 1.0, -1.0
    assert np.array_equal(case.plaquettes, expected)


def plaquette(theta):
    t1, t2 = theta
    return t1 + np.roll(t2, -1, axis=0) - np.roll(t1, -1, axis=1) - t2


def sliced(theta):
    t1, t2 = theta
    return t1[:-1, :-1] + t2[1:, :-1] - t1[:-1, 1:] - t2[:-1, :-1]


WRONG_7_2 = {
    "reversed": (lambda th: -plaquette(th), "the orientation is reversed"),
    "wrong way": (
        lambda th: th[0] + np.roll(th[1], 1, axis=0) - np.roll(th[0], 1, axis=1) - th[1],
        "the shifts go the wrong way",
    ),
    "axes": (
        lambda th: th[0] + np.roll(th[1], -1, axis=1) - np.roll(th[0], -1, axis=0) - th[1],
        "along the wrong axes",
    ),
    "links": (
        lambda th: th[1] + np.roll(th[0], -1, axis=0) - np.roll(th[1], -1, axis=1) - th[0],
        "the link directions are swapped",
    ),
    "all plus": (
        lambda th: th[0] + np.roll(th[1], -1, axis=0) + np.roll(th[0], -1, axis=1) + th[1],
        "all four links are added",
    ),
    "sliced": (sliced, "shift with np.roll, not by slicing"),
    "cos": (lambda th: np.cos(plaquette(th)), "you return cos θ_P"),
    "complex": (lambda th: np.exp(1j * plaquette(th)), "you return complex numbers"),
    "sum": (lambda th: float(np.sum(plaquette(th))), "one angle per site"),
    "links only": (lambda th: th[0], "not gauge invariant"),
    "shifted": (lambda th: plaquette(th) + 0.5, "it should be"),
    "nan": (lambda th: plaquette(th) * np.nan, "contain nan"),
    "shape": (lambda th: np.stack([plaquette(th)] * 2), "shape (2, 3, 3)"),
    "None": (lambda th: None, "forget a `return`"),
}


@pytest.mark.parametrize("name", sorted(WRONG_7_2))
def test_wrong_answers_to_7_2(name):
    answer, phrase = WRONG_7_2[name]
    assert_wrong("7.2", answer, phrase)


@pytest.mark.parametrize(
    "answer",
    [
        plaquette,
        plaquettes_by_loops,
        lambda th: np.angle(np.exp(1j * plaquette(th))),  # wrapped to (-π, π]
        lambda th: plaquette(th) + 2 * np.pi,
        lambda th: np.float32(plaquette(th)),
        lambda th: jnp.asarray(plaquette(jnp.asarray(th))),
    ],
)
def test_right_answers_to_7_2_pass(answer):
    result = check("7.2", answer)
    assert result.passed, result.message


# ---------------------------------------------------------------- exercise 7.3


def test_the_symmetric_part_is_the_nearest_symmetric_matrix():
    for case in cases_7_3():
        W = case.W.astype(float)
        assert case.symmetric == pytest.approx((W + W.T) / 2, abs=1e-15)
        for seed in range(3):  # Pythagoras: |W - S|² = |W - sym W|² + |sym W - S|² for every symmetric S
            a = standard_normal(40 + seed, W.size).reshape(W.shape)
            S = a + a.T
            lhs = np.sum((W - S) ** 2)
            rhs = np.sum((W - case.symmetric) ** 2) + np.sum((case.symmetric - S) ** 2)
            assert lhs == pytest.approx(rhs, rel=1e-12)
        candidates = [case.symmetric] + [v for v, _ in _variants_7_3(case.W)]
        if case.W.shape == (4, 4):  # odd sums W_ij + W_ji: every diagnosis differs from the answer
            assert_distinct(candidates)


WRONG_7_3 = {
    "transpose": (lambda W: W.T, "that is Wᵀ"),
    "sum": (lambda W: W + W.T, "twice the symmetric part"),
    "upper": (lambda W: np.triu(W) + np.triu(W, 1).T, "you copy the upper triangle"),
    "lower": (lambda W: np.tril(W) + np.tril(W, -1).T, "you copy the lower triangle"),
    "antisymmetric": (lambda W: (W - W.T) / 2, "the antisymmetric part"),
    "product": (lambda W: W @ W.T, "that is W Wᵀ"),
    "floor": (lambda W: (W + W.T) // 2, "integer division"),
    "identity": (lambda W: W, "that is W unchanged"),
    "half": (lambda W: W / 2, "not symmetric"),
    "scaled": (lambda W: (W + W.T) / 2.5, "½(W + Wᵀ) has"),
    "flat": (lambda W: ((W + W.T) / 2).ravel(), "you return shape (4,)"),
    "nan": (lambda W: W * np.nan, "contains nan"),
    "None": (lambda W: None, "forget a `return`"),
}


@pytest.mark.parametrize("name", sorted(WRONG_7_3))
def test_wrong_answers_to_7_3(name):
    answer, phrase = WRONG_7_3[name]
    assert_wrong("7.3", answer, phrase)


def test_the_oblique_projection_is_farther_from_w():
    result = check("7.3", WRONG_7_3["upper"][0])
    assert "it is 2 from W, ½(W + Wᵀ) only 1.41" in result.message


@pytest.mark.parametrize(
    "answer",
    [
        lambda W: (W + W.T) / 2,
        lambda W: 0.5 * (W + np.transpose(W)),
        lambda W: np.float32((W + W.T) / 2),
        lambda W: jnp.asarray((W + W.T) / 2),
        lambda W: ((W + W.T) / 2).tolist(),
    ],
)
def test_right_answers_to_7_3_pass(answer):
    result = check("7.3", answer)
    assert result.passed, result.message


# ---------------------------------------------------------------- exercise 7.4


def test_the_ratio_is_the_share_of_symmetric_directions():
    n = N_7_4
    # the projection onto the symmetric matrices as an n² × n² matrix: its trace is their dimension
    basis = np.eye(n * n).reshape(n * n, n, n)
    projector = np.stack([((b + b.T) / 2).ravel() for b in basis])
    assert np.trace(projector) / n**2 == pytest.approx(error_ratio_reference(), rel=1e-14)
    assert error_ratio_reference() == pytest.approx(7 / 12, rel=1e-15)
    assert_distinct([error_ratio_reference()] + [v for v, _ in _variants_7_4()], rtol=2e-3)


def test_the_measured_ratio_agrees_with_the_answer():
    L = onsager.random_onsager_matrix(jax.random.key(74), N_7_4)
    trials = onsager.onsager_trials(jax.random.key(75), L, 4000, 30, 0.1)
    # 4 standard errors: false failure 6e-5
    assert abs(float(trials.ratio) - error_ratio_reference()) < 4 * float(trials.ratio_se)
    assert not trials.any_rose


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (0.5, "the limit of many forces"),
        (5 / 12, "the fraction the symmetrisation removes"),
        (12 / 7, "that is the inverse"),
        (math.sqrt(7 / 12), "the ratio of the norms"),
        (58.333, "a percentage"),
        (7 / 6, "that is (n + 1)/n"),
        (1 / 6, "that is 1/n"),
        (6 / 14, "that is n/(2n + 2)"),
        (0.59, "a measurement?"),
        (1.5, "lies between 0 and 1"),
        (0.3, "count the directions"),
        ("7/12", "not a string"),
        (math.nan, "NaN"),
        ([7 / 12, 1], "shape (2,)"),
    ],
)
def test_wrong_answers_to_7_4(answer, phrase):
    assert_wrong("7.4", answer, phrase)


@pytest.mark.parametrize("answer", [7 / 12, 0.5833, np.float32(7 / 12), np.array(7 / 12)])
def test_answers_to_7_4_pass(answer):
    result = check("7.4", answer)
    assert result.passed, result.message


# ---------------------------------------------------------------- exercise 7.5


def test_the_learned_coefficients_lie_on_a_line_whose_zero_is_the_learned_tc():
    m = landau_model_7_5()
    c1, c0 = np.polyfit(m.temperatures, m.a_values, 1)
    assert -c0 / c1 == pytest.approx(m.tc, rel=1e-10)
    assert m.a_values == pytest.approx(m.c[0] + m.c[1] * m.temperatures, rel=1e-14)
    assert np.all(m.a_values < 0) and np.all(m.temperatures < PARAMS_7_5.Tc)
    assert m.final_loss < 2e-4  # the noise floor, 0.01²
    # the model's T_c is near the generator's but told apart from it by the check
    assert 1e-4 < abs(m.tc - PARAMS_7_5.Tc) / PARAMS_7_5.Tc < 1e-2
    assert round(m.tc, 5) == 1.49936
    assert_distinct([m.tc] + [v for v, _ in _variants_7_5()], rtol=1e-4)


def test_the_model_is_the_package_structured_landau():
    m = landau_model_7_5()
    model = eqx.tree_at(lambda mod: mod.c, landau.StructuredLandau(key=jax.random.key(0)), jnp.asarray(m.c))
    assert float(landau.learned_tc(model)) == pytest.approx(m.tc, rel=1e-14)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (1.2, "the highest training temperature"),
        (1.5, "which the model never saw"),
        (1 / 1.4993637491, "upside down"),
        (-1.4993637491, "the sign is wrong"),
        (0.85, "the mean training temperature"),
        (1.4994, "close to the model's T_c but not within 1e-05"),
        (0.7, "inside the training range"),
        (3.0, "reaches zero elsewhere"),
        ("1.5", "not a string"),
        (math.inf, "infinity"),
    ],
)
def test_wrong_answers_to_7_5(answer, phrase):
    assert_wrong("7.5", answer, phrase)


def test_coefficients_are_told_apart_from_tc():
    m = landau_model_7_5()
    assert_wrong("7.5", m.c[1], "the slope c₁")
    assert_wrong("7.5", m.c[0], "the intercept c₀")
    assert_wrong("7.5", -m.c[0], "that is −c₀")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_answers_to_7_5_pass(dtype):
    m = landau_model_7_5()
    c1, c0 = np.polyfit(m.temperatures.astype(dtype), m.a_values.astype(dtype), 1)
    result = check("7.5", -c0 / c1)
    assert result.passed, result.message
    assert "T_c = 1.49936, -6.4e-04 from the generator's 1.5" in result.message


# ---------------------------------------------------------------- exercise 7.6


def test_the_training_data_lie_on_exact_spring_orbits_with_the_stated_noise():
    data = spring_data_7_6()
    x, dx = np.asarray(data.x), np.asarray(data.dx)
    assert x.shape == dx.shape == (750, 2) and x.dtype == np.float64
    # the noise-free field is Ω∇H = (p, -q): dx - Ωx is the sum of two independent N(0, 0.1²) noises
    residual = (dx - np.stack([x[:, 1], -x[:, 0]], axis=1)).ravel()
    variance, expected = np.var(residual), 2 * 0.1**2
    assert abs(variance - expected) < 4 * expected * math.sqrt(2 / residual.size)  # false failure 6e-5
    energy = np.asarray(data.energy)
    assert np.all((energy >= 0.2) & (energy <= 1.0))
    # along a trajectory the clean energy is constant: the noisy one scatters around it
    e_noisy = 0.5 * np.sum(x**2, axis=1)
    assert abs(np.mean(e_noisy - energy) - 0.1**2) < 4 * np.std(e_noisy - energy) / math.sqrt(750)


def test_the_rollout_errors():
    r = rollouts_7_6()
    assert r.t.shape == r.hnn.shape == r.baseline.shape == (1001,)
    assert r.t[-1] == pytest.approx(T_MAX_7_6) and r.hnn[0] == r.baseline[0] == 0.0
    assert first_crossing(r.t, r.hnn) is None and np.max(r.hnn) < 0.06
    assert first_crossing(r.t, r.baseline) == pytest.approx(18.0)
    assert stays_above(r.t, r.baseline) == pytest.approx(23.1)
    assert r.baseline[-1] > 0.5  # the orbit spirals outwards


def test_first_crossing_and_stays_above():
    t = np.arange(6.0)
    e = np.array([0.0, 0.05, 0.2, 0.05, 0.3, 0.4])
    assert first_crossing(t, e) == 2.0 and stays_above(t, e) == 4.0
    assert first_crossing(t, e, 1.0) is None and stays_above(t, e, 1.0) is None


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (100.0, "the end of the slider"),
        (150.0, "beyond the rollouts"),
        (23.1, "stays above 0.1 for good"),
        (5.0, "below 0.1: move later"),
        (40.0, "it exceeded 0.1 earlier"),
        (math.inf, "it is the HNN's that never does"),
        (0.0, "not a time after the start"),
        (-3.0, "not a time after the start"),
        ("18", "not a string"),
        (math.nan, "NaN"),
    ],
)
def test_wrong_answers_to_7_6(answer, phrase):
    assert_wrong("7.6", answer, phrase)


@pytest.mark.parametrize("answer", [18.0, 17.5, 18.5, np.float32(18.0), 18])
def test_horizons_within_a_slider_step_pass(answer):
    result = check("7.6", answer)
    assert result.passed, result.message
    assert "first exceeds 0.1 at t = 18.0 and stays above from t = 23.1" in result.message


def test_draw_horizon_returns_a_deterministic_figure():
    fig = draw_horizon(50.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    baseline = fig.axes[0].lines[0]
    r = rollouts_7_6()
    assert baseline.get_xdata()[-1] == pytest.approx(50.0)
    assert baseline.get_ydata() == pytest.approx(np.maximum(r.baseline[1:501], 1e-8))
    assert fig.axes[0].lines[2].get_ydata()[0] == THRESHOLD_7_6
    assert fig.get_suptitle().startswith("up to t = 50: largest error baseline 0.308, HNN 0.0528")
    assert png_bytes(fig) == png_bytes(draw_horizon(50.0))
    for bad in (0.0, -1.0, 200.0, math.nan, "50", True):
        with pytest.raises(ValueError, match="horizon must be"):
            draw_horizon(bad)


def test_the_widget_checks_the_slider_and_has_a_static_image():
    slider = widgets.FloatSlider(value=100.0, min=0.5, max=100.0, step=SLIDER_STEP_7_6)
    widget = WidgetExercise("7.6", controls={"horizon": slider}, draw=draw_horizon, answer="horizon")
    bundle = widget._repr_mimebundle_()
    assert bundle["image/png"] and "static view at horizon = 100" in bundle["text/plain"]
    assert "the end of the slider" in widget.check().message
    widget.set(horizon=18.0)
    assert widget.check().passed
    assert "horizon = 18" in widget.feedback.value
