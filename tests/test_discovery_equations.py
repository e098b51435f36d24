"""physml.discovery.equations against exact results: known polynomial vector fields, pysindy's STLSQ,
finite-difference orders, and the pendulum's g/L."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pysindy
import pytest
from scipy.integrate import solve_ivp

from physml.discovery.equations import (
    SindyModel,
    finite_difference,
    fourier_library,
    pendulum_trajectory,
    polynomial_library,
    sindy,
    stlsq,
    threshold_path,
)

# ------------------------------------------------------------------------------ systems


def damped_oscillator(t, z):
    x, y = z
    return [-0.1 * x + 2.0 * y, -2.0 * x - 0.1 * y]


def lotka_volterra(t, z):
    x, y = z
    return [1.0 * x - 0.4 * x * y, 0.3 * x * y - 1.5 * y]


def lorenz(t, z):
    x, y, w = z
    return [10.0 * (y - x), x * (28.0 - w) - y, x * y - 8.0 / 3.0 * w]


def true_coefficients(library, terms):
    """Ξ with the entries {(term, variable index): value}."""
    xi = np.zeros((len(library), len(library.variables)))
    for (name, j), value in terms.items():
        xi[library.names.index(name), j] = value
    return xi


SYSTEMS = {
    "damped oscillator": (
        damped_oscillator,
        [2.0, 0.0],
        10.0,
        2,
        {("x", 0): -0.1, ("y", 0): 2.0, ("x", 1): -2.0, ("y", 1): -0.1},
    ),
    "Lotka-Volterra": (
        lotka_volterra,
        [4.0, 2.0],
        15.0,
        2,
        {("x", 0): 1.0, ("x y", 0): -0.4, ("x y", 1): 0.3, ("y", 1): -1.5},
    ),
    "Lorenz": (
        lorenz,
        [-8.0, 8.0, 27.0],
        5.0,
        2,
        {
            ("x", 0): -10.0,
            ("y", 0): 10.0,
            ("x", 1): 28.0,
            ("x z", 1): -1.0,
            ("y", 1): -1.0,
            ("x y", 2): 1.0,
            ("z", 2): -8.0 / 3.0,
        },
    ),
}


def trajectory(field, x0, t_end, dt):
    t = np.arange(0.0, t_end, dt)
    sol = solve_ivp(field, (0.0, t_end), x0, t_eval=t, rtol=1e-11, atol=1e-11)
    return t, sol.y.T


# ---------------------------------------------------------------------------- libraries


def test_polynomial_library_matches_pysindy_names_order_and_values():
    x = np.random.default_rng(0).normal(size=(50, 3))
    reference = pysindy.PolynomialLibrary(degree=3).fit(x)
    lib = polynomial_library(3, 3)
    assert list(lib.names) == reference.get_feature_names(["x", "y", "z"])
    assert len(lib) == 20  # C(3 + 3, 3)
    np.testing.assert_allclose(lib.numpy(x), reference.transform(x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.asarray(lib(jnp.asarray(x))), lib.numpy(x), rtol=1e-14, atol=0)
    no_bias = polynomial_library(2, 2, names=("θ", "ω"), include_bias=False)
    assert no_bias.names == ("θ", "ω", "θ^2", "θ ω", "ω^2")


def test_fourier_library_matches_pysindy_order_and_values():
    x = np.random.default_rng(1).uniform(-4, 4, size=(40, 2))
    reference = pysindy.FourierLibrary(n_frequencies=2).fit(x)
    lib = fourier_library(2, 2)
    # pysindy writes the frequency 1 ("sin(1 x)"); we leave it out ("sin(x)")
    assert list(lib.names) == [n.replace("(1 ", "(") for n in reference.get_feature_names(["x", "y"])]
    assert lib.names[:2] == ("sin(x)", "cos(x)") and lib.names[4] == "sin(2 x)"
    np.testing.assert_allclose(lib.numpy(x), reference.transform(x), rtol=1e-14, atol=1e-15)


def test_libraries_concatenate_in_order():
    lib = polynomial_library(2, 2, names=("θ", "ω")) + fourier_library(2, 1, names=("θ", "ω"))
    assert lib.names == ("1", "θ", "ω", "θ^2", "θ ω", "ω^2", "sin(θ)", "cos(θ)", "sin(ω)", "cos(ω)")
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    theta = lib.numpy(x)
    np.testing.assert_allclose(
        theta[:, 6:8], np.stack([np.sin(x[:, 0]), np.cos(x[:, 0])], axis=1), rtol=1e-15
    )
    np.testing.assert_allclose(theta[:, 4], x[:, 0] * x[:, 1], rtol=1e-15)
    assert lib(jnp.zeros((4, 5, 2))).shape == (4, 5, 10)  # any leading shape
    with pytest.raises(ValueError, match="same variables"):
        _ = polynomial_library(2, 1) + fourier_library(2, 1, names=("θ", "ω"))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        lib(np.zeros((3, 3)))


# -------------------------------------------------------------------------- derivatives


def test_finite_difference_is_exact_on_quadratics_including_the_ends():
    t = np.arange(7) * 0.3
    x = np.stack([1 + 2 * t - 0.7 * t**2, -(t**2)], axis=-1)
    exact = np.stack([2 - 1.4 * t, -2 * t], axis=-1)
    np.testing.assert_allclose(finite_difference(x, 0.3), exact, rtol=0, atol=1e-13)
    # several trajectories: each differentiated along its own time axis
    stacked = finite_difference(np.stack([x, 2 * x]), 0.3)
    np.testing.assert_allclose(stacked, np.stack([exact, 2 * exact]), rtol=0, atol=1e-13)


def test_finite_difference_is_second_order_inside_and_at_the_ends():
    errors = []
    steps = np.array([0.04, 0.02, 0.01, 0.005])
    for dt in steps:
        t = np.arange(0, 2.0 + dt / 2, dt)
        d = finite_difference(np.sin(t)[:, None], dt)[:, 0]
        errors.append([abs(d[0] - 1.0), abs(d[len(t) // 2] - np.cos(t[len(t) // 2]))])
    slopes = np.polyfit(np.log(steps), np.log(np.array(errors)), 1)[0]
    assert slopes == pytest.approx([2.0, 2.0], abs=0.05)


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_recovers_polynomial_systems_from_exact_derivatives(system):
    field, x0, t_end, degree, terms = SYSTEMS[system]
    _, x = trajectory(field, x0, t_end, 0.01)
    x_dot = np.array([field(0.0, z) for z in x])
    lib = polynomial_library(x.shape[1], degree)
    model = sindy(x, lib, x_dot=x_dot, threshold=0.05)
    xi = true_coefficients(lib, terms)
    assert np.array_equal(model.coefficients != 0, xi != 0)
    np.testing.assert_allclose(model.coefficients, xi, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("threshold", "alpha", "normalize_columns"),
    [
        (0.05, 0.0, False),
        (0.1, 0.0, False),
        (0.5, 0.05, False),
        (0.3, 0.5, False),
        # an equation loses every term (pysindy warns, we return its zeros quietly)
        pytest.param(
            2.0,
            0.05,
            False,
            marks=pytest.mark.filterwarnings("ignore:Sparsity parameter is too big:UserWarning"),
        ),
        (0.5, 0.05, True),
        (5.0, 0.0, True),
    ],
)
def test_stlsq_agrees_with_pysindy(threshold, alpha, normalize_columns):
    # Noisy Lorenz data with finite-difference derivatives, so that thresholding takes several
    # rounds. Both implementations end with an unregularised least-squares refit on the
    # support (pysindy by LAPACK's SVD solver, physml by its pivoted-QR one): the supports must
    # agree exactly, the coefficients to rounding — measured <= 2e-11 of the largest
    # coefficient; 1e-8 leaves room for another LAPACK build, while a penalty scaled by T
    # changes the support in three of these cases and a missing final refit leaves a ridge
    # bias near 1e-5 (the factor of the penalty itself: test_ridge_convention_is_the_plain_penalty).
    t, x = trajectory(lorenz, [-8.0, 8.0, 27.0], 5.0, 0.002)
    x = x + 0.05 * np.random.default_rng(1).normal(size=x.shape)
    x_dot = finite_difference(x, 0.002)
    optimizer = pysindy.STLSQ(threshold=threshold, alpha=alpha, normalize_columns=normalize_columns)
    reference = pysindy.SINDy(optimizer=optimizer, feature_library=pysindy.PolynomialLibrary(degree=3))
    reference.fit(x, t=t, x_dot=x_dot)
    options = {"threshold": threshold, "alpha": alpha, "normalize_columns": normalize_columns}
    model = sindy(x, polynomial_library(3, 3), x_dot=x_dot, **options)
    expected = reference.coefficients().T
    assert np.array_equal(model.coefficients != 0, expected != 0)
    np.testing.assert_allclose(model.coefficients, expected, rtol=0, atol=1e-8 * np.abs(expected).max())
    on_their_library = stlsq(reference.optimizer.Theta_, x_dot, **options)
    np.testing.assert_allclose(
        on_their_library, model.coefficients, rtol=0, atol=1e-10 * np.abs(expected).max()
    )


def test_the_pysindy_comparison_exercises_several_rounds():
    t, x = trajectory(lorenz, [-8.0, 8.0, 27.0], 5.0, 0.002)
    x = x + 0.05 * np.random.default_rng(1).normal(size=x.shape)
    optimizer = pysindy.STLSQ(threshold=0.05, alpha=0.0)
    pysindy.SINDy(optimizer=optimizer, feature_library=pysindy.PolynomialLibrary(degree=3)).fit(
        x, t=t, x_dot=finite_difference(x, 0.002)
    )
    assert len(optimizer.history_) >= 4  # the initial guess and at least three rounds


def test_ridge_convention_is_the_plain_penalty():
    # One term, no threshold: w = <θ, y> / (<θ, θ> + α) before the unregularised refit, so
    # a threshold between the ridge and the least-squares values cuts the term only with α.
    theta = np.array([[1.0], [2.0], [2.0]])
    y = 3.0 * theta[:, 0]  # least squares: 3; ridge with α = 9: 27 / 18 = 1.5
    assert stlsq(theta, y[:, None], threshold=2.0, alpha=0.0)[0, 0] == pytest.approx(3.0, rel=1e-14)
    assert stlsq(theta, y[:, None], threshold=2.0, alpha=9.0)[0, 0] == 0.0
    assert stlsq(theta, y[:, None], threshold=1.4, alpha=9.0)[0, 0] == pytest.approx(3.0, rel=1e-14)


def test_threshold_is_inclusive_and_zero_keeps_everything():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = theta @ np.array([[0.5], [0.25]])
    np.testing.assert_allclose(stlsq(theta, y, threshold=0.25), [[0.5], [0.25]], rtol=1e-14)
    assert stlsq(theta, y, threshold=0.2500001)[1, 0] == 0.0
    assert np.count_nonzero(stlsq(theta, y, threshold=0.0)) == 2


def test_max_iter_exhausted_warns():
    _, x = trajectory(lorenz, [-8.0, 8.0, 27.0], 5.0, 0.002)
    x = x + 0.05 * np.random.default_rng(1).normal(size=x.shape)
    theta = polynomial_library(3, 3).numpy(x)
    with pytest.warns(RuntimeWarning, match="raise max_iter"):
        stlsq(theta, finite_difference(x, 0.002), threshold=0.05, max_iter=1)


def test_threshold_path_recovers_the_true_support_on_an_interval():
    # Lorenz with 0.01 noise, differentiated: the spurious coefficients stay below ~0.04 and the
    # smallest true ones are 1 (x z, x y and y in the second equation), so the true support
    # is selected on one interval of thresholds, from ~0.04 to just below 1 (measured).
    _t, x = trajectory(lorenz, [-8.0, 8.0, 27.0], 5.0, 0.002)
    x = x + 0.01 * np.random.default_rng(1).normal(size=x.shape)
    lib = polynomial_library(3, 3)
    theta, x_dot = lib.numpy(x), finite_difference(x, 0.002)
    thresholds = np.geomspace(1e-3, 30.0, 46)
    path = threshold_path(theta, x_dot, thresholds)
    truth = true_coefficients(lib, SYSTEMS["Lorenz"][4]) != 0
    good = path.recovers(truth)
    where = np.flatnonzero(good)
    assert where.size and np.all(good[where[0] : where[-1] + 1])  # one interval
    lo, hi = thresholds[where[0]], thresholds[where[-1]]
    assert hi / lo > 10  # more than a decade of thresholds gives the right equations
    assert hi < 1.0 <= thresholds[where[-1] + 1]  # ends where the smallest true coefficient is cut
    assert path.n_terms[0] > truth.sum() > path.n_terms[-1]  # spurious terms below, true ones cut above
    # the sparse model fits as well as the full one (the residual is the noise), a cut one does not
    assert path.residuals[where[0]] == pytest.approx(path.residuals[0], rel=1e-3)
    assert path.residuals[where[-1] + 1] > 10 * path.residuals[where[-1]]
    np.testing.assert_array_equal(path.coefficients[where[0]], stlsq(theta, x_dot, threshold=lo))


# --------------------------------------------------------------------------------- model


def test_equations_predict_and_simulate():
    lib = polynomial_library(2, 2)
    model = SindyModel(true_coefficients(lib, SYSTEMS["damped oscillator"][4]), lib)
    assert model.equations() == ["x' = -0.100 x + 2.000 y", "y' = -2.000 x - 0.100 y"]
    assert model.equations(1) == ["x' = -0.1 x + 2.0 y", "y' = -2.0 x - 0.1 y"]
    assert SindyModel(np.array([[0.5], [-1e-5]]), polynomial_library(1, 1)).equations() == ["x' = 0.500"]
    assert SindyModel(np.zeros((2, 1)), polynomial_library(1, 1)).equations() == ["x' = 0.000"]
    points = np.random.default_rng(2).normal(size=(6, 2))
    np.testing.assert_allclose(
        np.asarray(model.predict(points)), [damped_oscillator(0, p) for p in points], rtol=1e-14
    )
    # RK4 against the exact solution x + iy = (x0 + iy0) e^{(-0.1 - 2i) t}: fourth order
    errors = []
    for n in (50, 100, 200):
        t = np.linspace(0, 5, n + 1)
        exact = 2.0 * np.exp(-0.1 * t)[:, None] * np.stack([np.cos(2 * t), -np.sin(2 * t)], axis=1)
        errors.append(np.abs(np.asarray(model.simulate(jnp.array([2.0, 0.0]), t)) - exact).max())
    order = np.log2(errors[0] / errors[1]), np.log2(errors[1] / errors[2])
    assert order == pytest.approx((4.0, 4.0), abs=0.1)


# ------------------------------------------------------------------------------ pendulum

PENDULUM_LIBRARY = polynomial_library(2, 2, names=("θ", "ω")) + fourier_library(2, 1, names=("θ", "ω"))
PENDULUM_STARTS = jnp.array([[0.5, 0.0], [1.5, 0.0], [2.5, 0.0], [0.0, 2.5]])  # the last one rotates


def pendulum_truth(g_over_l):
    return true_coefficients(PENDULUM_LIBRARY, {("ω", 0): 1.0, ("sin(θ)", 1): -g_over_l})


def test_pendulum_trajectory_conserves_energy_and_gives_the_vector_field():
    data = pendulum_trajectory(PENDULUM_STARTS, g_over_l=2.0, dt=0.05, n=400)
    assert data.x.shape == data.x_dot.shape == (4, 400, 2) and data.t.shape == (400,)
    assert float(data.t[-1]) == pytest.approx(399 * 0.05, rel=1e-12)
    energy = 0.5 * data.x[..., 1] ** 2 - 2.0 * jnp.cos(data.x[..., 0])
    assert float(jnp.max(jnp.abs(energy - energy[:, :1]))) < 1e-8  # RK4 with 0.01 steps
    np.testing.assert_array_equal(np.asarray(data.x_dot[..., 0]), np.asarray(data.x[..., 1]))
    one = pendulum_trajectory(PENDULUM_STARTS[1], g_over_l=2.0, dt=0.05, n=400)
    np.testing.assert_allclose(np.asarray(one.x), np.asarray(data.x[1]), rtol=0, atol=1e-14)


def test_pendulum_recovered_exactly_from_exact_derivatives():
    data = pendulum_trajectory(PENDULUM_STARTS, g_over_l=2.0, dt=0.05, n=400)
    model = sindy(data.x, PENDULUM_LIBRARY, x_dot=data.x_dot, threshold=0.05)
    np.testing.assert_allclose(model.coefficients, pendulum_truth(2.0), rtol=0, atol=1e-10)
    assert model.equations() == ["θ' = 1.000 ω", "ω' = -2.000 sin(θ)"]


def test_pendulum_from_finite_differences_converges_at_second_order():
    # Central differences see ω' (1 - (g/L) dt²/6) for small swings: the recovered g/L is low
    # by a relative (g/L) dt²/6 = 8.3e-4 at dt = 0.05 (measured 7.6e-4 with these large swings).
    errors = []
    for dt in (0.1, 0.05, 0.025):
        data = pendulum_trajectory(PENDULUM_STARTS, g_over_l=2.0, dt=dt, n=round(20 / dt))
        model = sindy(data.x, PENDULUM_LIBRARY, dt=dt, threshold=0.05)
        assert np.array_equal(model.coefficients != 0, pendulum_truth(2.0) != 0)
        errors.append(abs(-model.coefficients[PENDULUM_LIBRARY.names.index("sin(θ)"), 1] - 2.0) / 2.0)
    assert errors[1] < 1e-3
    slopes = np.log2(errors[0] / errors[1]), np.log2(errors[1] / errors[2])
    assert slopes == pytest.approx((2.0, 2.0), abs=0.1)


def test_pendulum_with_measurement_noise(key):
    # noise 0.01 rad at dt = 0.01: over 40 keys the support was right every time and the error
    # of g/L had mean -2.4e-4 and standard deviation 1.25e-3; the bound 1e-2 is 8 standard
    # deviations (false-failure rate far below 1e-9 for a Gaussian error).
    data = pendulum_trajectory(PENDULUM_STARTS, g_over_l=2.0, dt=0.01, n=2000, noise=0.01, key=key)
    assert float(jnp.std(data.x - data.x_true)) == pytest.approx(0.01, rel=0.05)
    model = sindy(data.x, PENDULUM_LIBRARY, dt=0.01, threshold=0.05)
    assert np.array_equal(model.coefficients != 0, pendulum_truth(2.0) != 0)
    assert -model.coefficients[PENDULUM_LIBRARY.names.index("sin(θ)"), 1] == pytest.approx(2.0, abs=1e-2)


def test_float32_data_still_fits_in_float64():
    data = pendulum_trajectory(PENDULUM_STARTS.astype(jnp.float32), g_over_l=2.0, dt=0.05, n=400)
    assert data.x.dtype == jnp.float32
    model = sindy(data.x, PENDULUM_LIBRARY, dt=0.05, threshold=0.05)
    assert model.coefficients.dtype == np.float64
    assert np.array_equal(model.coefficients != 0, pendulum_truth(2.0) != 0)
    assert -model.coefficients[PENDULUM_LIBRARY.names.index("sin(θ)"), 1] == pytest.approx(2.0, rel=2e-3)
    assert model.simulate(jnp.array([1.0, 0.0], jnp.float32), np.linspace(0, 1, 11)).dtype == jnp.float32


# --------------------------------------------------------------------------- bad input


def test_bad_input_gets_a_clear_message():
    lib = polynomial_library(2, 2)
    x = np.random.default_rng(3).normal(size=(20, 2))
    with pytest.raises(ValueError, match="shape of x"):
        sindy(x, lib, x_dot=x[:-1], threshold=0.1)
    with pytest.raises(ValueError, match="T = 20 samples"):
        stlsq(lib.numpy(x), x[:-1], threshold=0.1)
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        sindy(x, lib, x_dot=x, threshold=-0.1)
    with pytest.raises(ValueError, match="alpha must be"):
        stlsq(lib.numpy(x), x, threshold=0.1, alpha=-1.0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sindy(bad, lib, dt=0.1, threshold=0.1)
    with pytest.raises(ValueError, match="NaN"):
        stlsq(lib.numpy(bad), x, threshold=0.1)
    with pytest.raises(ValueError, match="exactly one of dt"):
        sindy(x, lib, threshold=0.1)
    with pytest.raises(ValueError, match="exactly one of dt"):
        sindy(x, lib, dt=0.1, x_dot=x, threshold=0.1)
    with pytest.raises(ValueError, match="3 variables"):
        sindy(np.zeros((20, 3)), lib, dt=0.1, threshold=0.1)
    with pytest.raises(ValueError, match="Library"):
        sindy(x, lambda z: z, dt=0.1, threshold=0.1)
    with pytest.raises(ValueError, match="dt must be a positive"):
        finite_difference(x, 0.0)
    with pytest.raises(ValueError, match="at least 3 samples"):
        finite_difference(x[:2], 0.1)
    with pytest.raises(ValueError, match=r"\(T, n_vars\)"):
        finite_difference(x[0], 0.1)
    with pytest.raises(ValueError, match="nonzero library columns"):
        stlsq(np.c_[x, np.zeros(20)], x, threshold=0.1, normalize_columns=True)
    with pytest.raises(ValueError, match="distinct"):
        polynomial_library(2, 2, names=("x", "x"))
    with pytest.raises(ValueError, match="degree"):
        polynomial_library(2, 0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        threshold_path(lib.numpy(x), x, [])
    with pytest.raises(ValueError, match="needs a PRNG key"):
        pendulum_trajectory(jnp.array([1.0, 0.0]), noise=0.1)
    with pytest.raises(ValueError, match=r"shape \(2,\) or \(m, 2\)"):
        pendulum_trajectory(jnp.zeros(3))
    with pytest.raises(ValueError, match="increasing"):
        SindyModel(np.zeros((6, 2)), lib).simulate(jnp.zeros(2), np.array([0.0, 1.0, 0.5]))
