"""physml.landscapes: the test landscapes and saddle escape, against exact results."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from scipy import stats

from physml import landscapes as ls

# ------------------------------------------------------------------- the landscapes


def test_quadratic_has_its_stated_critical_point_and_hessian():
    lam, c = jnp.array([2.0, -0.5, 3.0]), jnp.array([1.0, -2.0, 0.5])
    loss = ls.quadratic(lam, c)
    assert float(loss(c)) == 0.0
    assert np.array_equal(np.asarray(jax.grad(loss)(c)), np.zeros(3))
    assert np.array_equal(np.asarray(ls.hessian(loss, jnp.array([0.3, 0.1, -7.0]))), np.diag(np.asarray(lam)))
    theta = jnp.array([2.0, 0.0, 0.0])
    assert float(loss(theta)) == pytest.approx(0.5 * (2 * 1 - 0.5 * 4 + 3 * 0.25), rel=1e-15)


def test_quadratic_from_matrix_minimum_is_a_inverse_b():
    M = np.cos(np.outer(np.arange(1, 6), np.arange(2, 7)))
    A = jnp.asarray(M @ M.T + 5 * np.eye(5))
    b = jnp.arange(5.0)
    loss = ls.quadratic_from_matrix(A, b)
    star = jnp.linalg.solve(A, b)
    assert float(jnp.max(jnp.abs(jax.grad(loss)(star)))) < 1e-12
    assert float(loss(star)) == pytest.approx(-0.5 * float(b @ star), rel=1e-12)
    assert np.allclose(ls.hessian(loss, jnp.zeros(5)), A, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(("a", "b"), [(1.0, 100.0), (-0.5, 3.0), (2.0, 1.0)])
def test_rosenbrock_hessian_at_its_minimum(a, b):
    minimum = jnp.array([a, a**2])
    loss = lambda theta: ls.rosenbrock(theta, a, b)
    exact = np.array([[2 + 8 * a**2 * b, -4 * a * b], [-4 * a * b, 2 * b]])
    assert float(loss(minimum)) == 0.0
    assert np.array_equal(np.asarray(jax.grad(loss)(minimum)), np.zeros(2))
    assert np.allclose(ls.hessian(loss, minimum), exact, rtol=1e-14, atol=0)
    eig = np.asarray(ls.hessian_spectrum(loss, minimum))
    assert eig.prod() == pytest.approx(4 * b, rel=1e-12)  # det H = 4b
    assert eig.sum() == pytest.approx(2 + 2 * b + 8 * a**2 * b, rel=1e-14)


def test_rosenbrock_eigenvalues_quoted_in_the_docstring():
    eig = np.asarray(ls.hessian_spectrum(ls.rosenbrock, jnp.array([1.0, 1.0])))
    assert np.round(eig, 4).tolist() == [0.3994, 1001.6006]


@pytest.mark.parametrize(("barrier", "stiffness"), [(0.25, 1.0), (1.5, 0.2)])
def test_double_well_critical_points_and_hessians(barrier, stiffness):
    loss = lambda theta: ls.double_well(theta, barrier, stiffness)
    for point, diag in (
        ([1.0, 0.0], [8 * barrier, stiffness]),
        ([-1.0, 0.0], [8 * barrier, stiffness]),
        ([0.0, 0.0], [-4 * barrier, stiffness]),
    ):
        theta = jnp.array(point)
        assert np.array_equal(np.asarray(jax.grad(loss)(theta)), np.zeros(2))
        assert np.allclose(ls.hessian(loss, theta), np.diag(diag), rtol=1e-15, atol=0)
    assert float(loss(jnp.zeros(2))) == barrier  # the barrier height


def test_double_well_in_more_dimensions_has_one_unstable_direction():
    eig = np.asarray(ls.hessian_spectrum(ls.double_well, jnp.zeros(6)))
    assert eig.tolist() == [-1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def test_monkey_saddle_is_flat_to_second_order_and_falls_three_ways():
    assert np.array_equal(np.asarray(ls.hessian(ls.monkey_saddle, jnp.zeros(2))), np.zeros((2, 2)))
    assert np.array_equal(np.asarray(jax.grad(ls.monkey_saddle)(jnp.zeros(2))), np.zeros(2))
    # L = r^3 cos(3 phi): negative along phi = pi/3, pi, 5pi/3, positive between.
    phi = np.arange(6) * np.pi / 3
    values = [float(ls.monkey_saddle(0.1 * jnp.array([np.cos(p), np.sin(p)]))) for p in phi]
    assert np.allclose(values, 1e-3 * np.cos(3 * phi), rtol=1e-12, atol=1e-18)


# ------------------------------------------------------------ classifying critical points


def test_classify_the_double_wells_three_critical_points():
    for point in ([1.0, 0.0], [-1.0, 0.0]):
        result = ls.classify_critical_point(ls.double_well, jnp.array(point))
        assert (result.kind, result.index, result.nullity) == ("minimum", 0, 0)
        assert np.allclose(result.eigenvalues, [1.0, 2.0], rtol=1e-15)
        assert result.grad_norm == 0.0
    saddle = ls.classify_critical_point(ls.double_well, jnp.zeros(2))
    assert (saddle.kind, saddle.index) == ("saddle", 1)
    assert np.array_equal(np.asarray(saddle.eigenvalues), [-1.0, 1.0])


def test_classify_rosenbrock_minimum_monkey_saddle_and_a_maximum():
    assert ls.classify_critical_point(ls.rosenbrock, jnp.array([1.0, 1.0])).kind == "minimum"
    monkey = ls.classify_critical_point(ls.monkey_saddle, jnp.zeros(2))
    assert (monkey.kind, monkey.index, monkey.nullity) == ("degenerate", 0, 2)
    top = ls.classify_critical_point(ls.quadratic(jnp.array([-1.0, -3.0])), jnp.zeros(2))
    assert (top.kind, top.index) == ("maximum", 2)


def test_a_saddle_with_a_flat_direction_is_still_a_saddle():
    result = ls.classify_critical_point(ls.quadratic(jnp.array([-1.0, 0.0, 2.0])), jnp.zeros(3))
    assert (result.kind, result.index, result.nullity) == ("saddle", 1, 1)
    flat_min = ls.classify_critical_point(ls.quadratic(jnp.array([0.0, 2.0])), jnp.zeros(2))
    assert (flat_min.kind, flat_min.nullity) == ("degenerate", 1)


def test_classify_refuses_a_point_that_is_not_critical():
    with pytest.raises(ValueError, match="not a critical point"):
        ls.classify_critical_point(ls.double_well, jnp.array([0.5, 0.0]))


def four_wells(theta):
    """(x^2 - 1)^2 + (y^2 - 1)^2: minima at (±1, ±1), saddles at (0, ±1) and (±1, 0), a
    maximum at the origin."""
    return jnp.sum((theta**2 - 1.0) ** 2)


def test_critical_points_2d_finds_all_nine_of_four_wells_and_classifies_them(key):
    points = np.asarray(ls.critical_points_2d(jax.grad(four_wells), [[-2, 2], [-2, 2]], key, 200))
    grid = np.array([[x, y] for x in (-1.0, 0.0, 1.0) for y in (-1.0, 0.0, 1.0)])
    assert points.shape == (9, 2)
    assert np.allclose(points, grid, atol=1e-12)
    kinds = [ls.classify_critical_point(four_wells, p).kind for p in points]
    assert sorted(kinds) == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4


WELL_GRAD = jax.grad(ls.double_well)  # one function object: one compilation of the search


def test_critical_points_2d_of_the_double_well_and_rosenbrock(key):
    well = np.asarray(ls.critical_points_2d(WELL_GRAD, [[-2, 2], [-1, 1]], key, 100))
    assert np.allclose(well, [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], atol=1e-12)
    rosen = np.asarray(ls.critical_points_2d(jax.grad(ls.rosenbrock), [[-2, 2], [-1, 3]], key, 100))
    assert np.allclose(rosen, [[1.0, 1.0]], atol=1e-12)
    # Only the points inside the box are reported.
    right = np.asarray(ls.critical_points_2d(WELL_GRAD, [[0.5, 2], [-1, 1]], key, 100))
    assert np.allclose(right, [[1.0, 0.0]], atol=1e-12)


def test_critical_points_2d_rejects_a_bad_box(key):
    with pytest.raises(ValueError, match="shape"):
        ls.critical_points_2d(WELL_GRAD, [-1, 1], key, 10)
    with pytest.raises(ValueError, match="low < high"):
        ls.critical_points_2d(WELL_GRAD, [[1, -1], [0, 1]], key, 10)


# ------------------------------------------------------------------------ the MLP problem


@pytest.fixture(scope="module")
def mlp():
    return ls.mlp_regression(
        jax.random.key(3), n_samples=40, n_inputs=3, width=16, depth=2, n_outputs=2, noise=0.1
    )


def test_mlp_problem_shapes_and_parameter_count(mlp):
    assert mlp.x.shape == (40, 3) and mlp.y.shape == (40, 2)
    assert mlp.theta0.shape == ((3 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 2,)
    assert mlp.predict(mlp.theta0, mlp.x).shape == (40, 2)
    # The flat layout is ravel_pytree's, so unravel and ravel_pytree are inverses.
    params = eqx.filter(mlp.unravel(mlp.theta0), eqx.is_inexact_array)
    assert np.array_equal(np.asarray(ravel_pytree(params)[0]), np.asarray(mlp.theta0))


def test_mlp_loss_is_half_the_mean_squared_error_of_the_network_written_out(mlp):
    theta = mlp.theta0 + 0.01 * jnp.arange(mlp.theta0.shape[0])
    layers = mlp.unravel(theta).layers
    h = np.asarray(mlp.x)
    for layer in layers[:-1]:
        h = np.tanh(h @ np.asarray(layer.weight).T + np.asarray(layer.bias))
    out = h @ np.asarray(layers[-1].weight).T + np.asarray(layers[-1].bias)
    exact = 0.5 * np.mean((out - np.asarray(mlp.y)) ** 2)
    assert float(jax.jit(mlp.loss)(theta)) == pytest.approx(exact, rel=1e-13)


def test_mlp_initialisation_is_uniform_within_one_over_root_fan_in(mlp):
    """Each layer's weights and biases lie within ±1/sqrt(fan-in) and spread over it: a
    Kolmogorov–Smirnov test against the uniform law on the 256 hidden-to-hidden weights
    (fixed seed; a correct initialisation fails with probability 1e-3)."""
    layers = mlp.unravel(mlp.theta0).layers
    for layer, fan_in in zip(layers, (3, 16, 16), strict=True):
        for values in (np.asarray(layer.weight), np.asarray(layer.bias)):
            assert np.abs(values).max() <= 1 / np.sqrt(fan_in)
    w = np.asarray(layers[1].weight).ravel() * 4.0  # scaled to [-1, 1]
    assert stats.kstest(w, stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3


def test_mlp_targets(key):
    sin = ls.mlp_regression(key, n_samples=20, n_inputs=4, width=4, target="sin")
    expected = np.sin(np.pi * np.asarray(sin.x).sum(axis=1, keepdims=True) / 2.0)
    assert np.allclose(sin.y, expected, rtol=1e-14, atol=1e-15)
    again = ls.mlp_regression(key, n_samples=20, n_inputs=4, width=4, target="sin")
    assert np.array_equal(np.asarray(sin.theta0), np.asarray(again.theta0))  # same key, same problem
    custom = ls.mlp_regression(key, n_samples=20, n_inputs=2, width=4, target=lambda x: x[0] * x[1])
    assert np.allclose(custom.y[:, 0], custom.x[:, 0] * custom.x[:, 1], rtol=1e-15)


def test_a_teacher_of_the_students_width_is_realisable(key):
    """The teacher is the student's architecture with parameters drawn from k_teacher, the
    second of jax.random.split(key, 4): the loss vanishes there."""
    problem = ls.mlp_regression(key, n_samples=20, n_inputs=3, width=5)
    teacher = ls.functions._net(3, 1, 5, 1, jnp.tanh).init(jax.random.split(key, 4)[1], problem.x.dtype)
    assert float(jax.jit(problem.loss)(teacher)) == 0.0
    assert float(jax.jit(problem.loss)(problem.theta0)) > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, "width must be an integer >= 1"),
        ({"activation": "swish2"}, "activation must be"),
        ({"target": "cos"}, "target must be"),
        ({"noise": -1.0}, "noise must be"),
        ({"target": "sin", "n_outputs": 2}, "one output"),
        ({"target": lambda x: x}, "must return a scalar"),
    ],
)
def test_mlp_regression_rejects_bad_arguments(key, kwargs, message):
    args = {"n_samples": 10, "n_inputs": 3, "width": 4} | kwargs
    with pytest.raises(ValueError, match=message):
        ls.mlp_regression(key, **args)


def test_losses_reject_a_theta_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ls.quadratic(jnp.ones(3))(jnp.ones(2))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ls.rosenbrock(jnp.ones(3))
    with pytest.raises(ValueError, match="symmetric"):
        ls.quadratic_from_matrix(jnp.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="1-D"):
        ls.quadratic(jnp.ones((2, 2)))


# ------------------------------------------------------------------------ saddle escape


def test_escape_along_the_unstable_direction_matches_the_linear_prediction_exactly():
    """On the quadratic saddle L = (-x^2 + y^2)/2 started on the x-axis, x_n = eps (1 + lr)^n
    exactly, so the escape count is the ceiling of ln(r/eps)/ln(1 + lr)."""
    loss = ls.quadratic(jnp.array([-1.0, 1.0]))
    for eps in (1e-9, 3e-6, 2e-3):
        result = ls.escape_time(
            loss, jnp.zeros(2), eps=eps, lr=0.1, radius=0.5, direction=jnp.array([1.0, 0.0])
        )
        predicted = float(ls.predicted_escape_steps(eps, 0.5, 0.1, -1.0))
        assert bool(result.escaped)
        assert int(result.steps) == math.ceil(predicted)
        assert float(result.time) == pytest.approx(0.1 * int(result.steps), rel=1e-15)


def quantization_bound(x: np.ndarray) -> float:
    """Largest change of a least-squares slope when every y moves by at most 1/2 (the escape
    counts are integers: the ceiling of a smooth function, whose rounding we centre)."""
    dx = x - x.mean()
    return 0.5 * np.abs(dx).sum() / (dx**2).sum()


@pytest.mark.parametrize("lr", [0.1, 0.5])
def test_escape_slope_is_one_over_log_one_plus_lr_lambda(lr):
    """Double well, λ_min = -1, start off the unstable axis (the stable component decays, the
    nonlinearity beyond the linear region adds an ε-independent offset): the slope of the
    escape count against ln(1/ε) is 1/ln(1 + η|λ_min|) up to the integer rounding of the counts."""
    eps = np.logspace(-12, -3, 19)
    scan = ls.escape_scan(
        ls.double_well, jnp.zeros(2), eps, lr=lr, radius=0.1, direction=jnp.array([1.0, 1.0])
    )
    assert scan.lam_min == -1.0
    assert scan.predicted_slope == pytest.approx(1 / math.log1p(lr), rel=1e-15)
    assert abs(scan.slope - scan.predicted_slope) <= quantization_bound(np.log(1 / eps)) + 1e-9


def test_escape_time_slope_approaches_the_flows_one_over_lambda():
    """Time slope η/ln(1 + η|λ|) -> 1/|λ| as η -> 0, with error ≈ η/2 (λ = -1 here)."""
    eps = np.logspace(-12, -3, 10)
    deviations = []
    for lr in (0.2, 0.02, 0.002):
        scan = ls.escape_scan(ls.double_well, jnp.zeros(2), eps, lr=lr, radius=0.1, key=jax.random.key(1))
        assert abs(scan.time_slope - lr * scan.predicted_slope) <= lr * quantization_bound(np.log(1 / eps))
        deviations.append(abs(scan.time_slope - scan.flow_time_slope))
        assert deviations[-1] <= lr
    assert deviations[0] > deviations[1] > deviations[2]


def test_escape_scan_needs_a_strict_saddle():
    with pytest.raises(ValueError, match="not a strict saddle"):
        ls.escape_scan(
            ls.double_well, jnp.array([1.0, 0.0]), [1e-3, 1e-4], lr=0.1, radius=0.5, key=jax.random.key(0)
        )


def test_gradient_descent_never_leaves_the_saddle_from_the_stable_manifold():
    exact = ls.escape_time(
        ls.double_well, jnp.zeros(2), eps=0.0, lr=0.1, radius=0.1, key=jax.random.key(0), max_steps=5000
    )
    assert not bool(exact.escaped) and int(exact.steps) == 5000
    assert np.array_equal(np.asarray(exact.position), np.zeros(2))
    across = ls.escape_time(
        ls.double_well,
        jnp.zeros(2),
        eps=1e-3,
        lr=0.1,
        radius=0.1,
        direction=jnp.array([0.0, 1.0]),
        max_steps=5000,
    )
    assert not bool(across.escaped)
    assert float(jnp.linalg.norm(across.position)) < 1e-100  # converged onto the saddle


def test_random_starts_end_in_a_minimum_and_stable_manifold_starts_at_the_saddle(key):
    """From 1000 Gaussian starts within ~1e-3 of the double well's saddle every run reaches a
    minimum — the one on the side of its starting x, since the map keeps the sign of x — and
    none the saddle; from starts with x = 0 exactly every run reaches the saddle."""
    starts = 1e-3 * jax.random.normal(key, (1000, 2))
    minima = jnp.array([[-1.0, 0.0], [1.0, 0.0]])
    fates = ls.saddle_fates(ls.double_well, starts, saddle=jnp.zeros(2), minima=minima, lr=0.1, n_steps=600)
    assert float(fates.at_saddle) == 0.0 and float(fates.elsewhere) == 0.0
    assert float(jnp.sum(fates.at_minimum)) == 1.0
    assert np.array_equal(np.sign(np.asarray(fates.final[:, 0])), np.sign(np.asarray(starts[:, 0])))
    assert float(fates.at_minimum[1]) == np.mean(np.asarray(starts[:, 0]) > 0)
    on_manifold = ls.saddle_fates(
        ls.double_well, starts.at[:, 0].set(0.0), saddle=jnp.zeros(2), minima=minima, lr=0.1, n_steps=600
    )
    assert float(on_manifold.at_saddle) == 1.0


def test_noisy_escape_from_the_saddle_follows_the_exact_gaussian_law():
    """Quadratic saddle L = (-x^2 + y^2)/2, noisy GD from the saddle itself (ε = 0), 2000 runs.
    The unstable coordinate is exactly x_t ~ N(0, s_t^2), s_t^2 = σ^2((1+η)^{2t} - 1)/((1+η)^2 - 1),
    and once |x| nears r = 0.1 it grows by 10 % a step against kicks of σ = 1e-6 (the stable
    coordinate stays ~2e-6): so P(escaped by step t) = P(|x_t| >= r) = erfc(r/(s_t √2)) to
    ~1e-9. Binomial tests at three steps near the quartiles; a correct implementation fails
    with probability below 1e-3 (Bonferroni)."""
    lr, sigma, radius, runs = 0.1, 1e-6, 0.1, 2000
    loss = ls.quadratic(jnp.array([-1.0, 1.0]))
    plain = ls.escape_time(
        loss, jnp.zeros(2), eps=0.0, lr=lr, radius=radius, key=jax.random.key(0), max_steps=10_000
    )
    assert not bool(plain.escaped)
    noisy = ls.noisy_escape_times(
        loss, jnp.zeros(2), key=jax.random.key(9), n_runs=runs, lr=lr, noise_std=sigma, radius=radius
    )
    assert bool(jnp.all(noisy.escaped))
    steps = np.asarray(noisy.steps)
    g = 1 + lr
    for t in (int(np.quantile(steps, q)) for q in (0.25, 0.5, 0.75)):
        s_t = sigma * math.sqrt((g ** (2 * t) - 1) / (g**2 - 1))
        p = math.erfc(radius / (s_t * math.sqrt(2)))
        k = int(np.sum(steps <= t))
        assert stats.binomtest(k, runs, p).pvalue > 1e-3 / 3, (t, k / runs, p)


def test_noisy_escape_test_has_power():
    """The same law rejects noise that is off by a factor of 2 (escape a whole ln 2/ln 1.1 ≈ 7
    steps earlier or later)."""
    lr, radius, runs = 0.1, 0.1, 2000
    noisy = ls.noisy_escape_times(
        ls.quadratic(jnp.array([-1.0, 1.0])),
        jnp.zeros(2),
        key=jax.random.key(9),
        n_runs=runs,
        lr=lr,
        noise_std=2e-6,
        radius=radius,
    )
    steps = np.asarray(noisy.steps)
    t = int(np.median(steps))
    s_t = 1e-6 * math.sqrt(((1 + lr) ** (2 * t) - 1) / ((1 + lr) ** 2 - 1))
    p = math.erfc(radius / (s_t * math.sqrt(2)))
    assert stats.binomtest(int(np.sum(steps <= t)), runs, p).pvalue < 1e-6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "lr"),
        ({"eps": 0.5}, "eps must be"),
        ({"radius": 0.0}, "radius must be"),
        ({"key": None}, "direction or a key"),
        ({"direction": jnp.zeros(2)}, "non-zero"),
        ({"direction": jnp.ones(3)}, r"shape \(2,\)"),
        ({"max_steps": 0}, "max_steps"),
    ],
)
def test_escape_time_rejects_bad_arguments(kwargs, message):
    args = {"eps": 1e-3, "lr": 0.1, "radius": 0.1, "key": jax.random.key(0)} | kwargs
    with pytest.raises(ValueError, match=message):
        ls.escape_time(ls.double_well, jnp.zeros(2), **args)


def test_escape_rejects_a_non_finite_saddle_and_bad_predictions():
    with pytest.raises(ValueError, match="finite"):
        ls.escape_time(
            ls.double_well, jnp.array([jnp.nan, 0.0]), eps=1e-3, lr=0.1, radius=0.1, key=jax.random.key(0)
        )
    with pytest.raises(ValueError, match="must be < 0"):
        ls.predicted_escape_steps(1e-3, 0.1, 0.1, 1.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        ls.predicted_escape_time(0.0, 0.1, -1.0)
    with pytest.raises(ValueError, match="starts must have shape"):
        ls.saddle_fates(
            ls.double_well, jnp.zeros(2), saddle=jnp.zeros(2), minima=jnp.zeros((1, 2)), lr=0.1, n_steps=1
        )
