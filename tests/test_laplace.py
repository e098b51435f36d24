"""physml.laplace against exact results: Gaussian integrals, a Bessel-function partition
function, the measured order of Laplace's error, the discrete bound on L* - F, Gibbs
regression against quadrature, least squares and the Gaussian evidence, and the
energy-entropy crossover of a double well against its first-order correction."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from physml import laplace, statmech

A2 = jnp.array([[3.0, 1.0], [1.0, 2.0]])
MU2 = jnp.array([0.4, -0.7])
WELL = laplace.double_well()
DW = functools.partial(laplace.double_well_loss, WELL)
# derivatives of the double well, compiled once (op-by-op evaluation compiles every primitive)
DW_JIT = jax.jit(DW)
DW_1 = jax.jit(jax.vmap(jax.grad(DW)))
DW_2 = jax.jit(jax.vmap(jax.grad(jax.grad(DW))))


def quadratic(A, mu, floor):
    return lambda t: floor + 0.5 * (t - mu) @ A @ (t - mu)


def gaussian_log_z(A, floor, beta):
    """ln of the integral of exp(-beta (floor + u^T A u / 2)) over R^d."""
    A = np.atleast_2d(np.asarray(A))
    d = A.shape[0]
    return -beta * floor + 0.5 * d * np.log(2 * np.pi / beta) - 0.5 * np.linalg.slogdet(A)[1]


def quartic_1d(x):
    return x**2 / 2 + x**4 / 4


def quartic_1d_log_z(beta):
    """Exact: the integral of exp(-beta (x^2/2 + x^4/4)) over R is (sqrt 2 / 2) e^{beta/8} K_{1/4}(beta/8)
    (kve is the exponentially scaled Bessel K, so this is finite at any beta)."""
    return math.log(math.sqrt(2) / 2) + math.log(special.kve(0.25, beta / 8))


def box(centre, half_width):
    return tuple((float(c) - half_width, float(c) + half_width) for c in np.atleast_1d(centre))


def slope(x, y):
    return np.polyfit(np.log(x), np.log(np.abs(y)), 1)[0]


# ----------------------------------------------------------------------- quadrature


GAUSS_1D = quadratic(jnp.array([[2.0]]), jnp.array([0.2]), 0.3)
GAUSS_2D = quadratic(A2, MU2, -1.5)


def test_grid_free_energy_of_a_1d_gaussian_is_exact():
    """L = 0.3 + 2 (x - 0.2)^2 / 2 on the fixed box [-3, 3] with 4096 cells (h = 0.0015). At
    beta >= 10 the Gaussian is > 12 sigma inside the box; at beta = 1e4 sigma = 0.007 = 4.8 h,
    so the midpoint rule is exact to rounding: F - L* to a relative 1e-10, ln Z to 1e-12."""
    betas = np.array([10.0, 100.0, 1e4])
    log_z = np.asarray(laplace.log_partition_grid(GAUSS_1D, betas, (-3.0, 3.0), 4096))
    F = np.asarray(laplace.free_energy_grid(GAUSS_1D, betas, (-3.0, 3.0), 4096))
    exact = gaussian_log_z([[2.0]], 0.3, betas)
    np.testing.assert_allclose(log_z, exact, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F - 0.3, -exact / betas - 0.3, rtol=1e-10)


@pytest.mark.parametrize("beta", [0.2, 7.0, 1e3, 1e4])
def test_grid_free_energy_of_a_2d_gaussian_is_exact(beta):
    """A correlated Gaussian, box of half-width 12 / sqrt(beta lambda_min) around the minimum
    (mass outside < e^{-72}), 160 cells per axis (h < 0.25 sigma_min): exact to rounding."""
    half = 12 / math.sqrt(beta * float(jnp.linalg.eigvalsh(A2)[0]))
    log_z = float(laplace.log_partition_grid(GAUSS_2D, beta, box(MU2, half), 160))
    F = float(laplace.free_energy_grid(GAUSS_2D, beta, box(MU2, half), 160))
    exact = gaussian_log_z(A2, -1.5, beta)
    assert log_z == pytest.approx(exact, rel=1e-12, abs=1e-12)
    assert F + 1.5 == pytest.approx(-exact / beta + 1.5, rel=1e-10)


def test_beta_zero_gives_the_volume_and_arrays_of_beta_keep_their_shape():
    assert float(laplace.log_partition_grid(GAUSS_2D, 0.0, ((-1, 2), (0, 5)), 160)) == pytest.approx(
        math.log(15), rel=1e-14
    )
    betas = jnp.array([[0.5, 0.75, 1.0], [1.25, 1.5, 2.0]])
    grid = laplace.log_partition_grid(GAUSS_2D, betas, box(MU2, 12.0), 160)
    assert grid.shape == (2, 3)
    np.testing.assert_allclose(grid, gaussian_log_z(A2, -1.5, np.asarray(betas)), rtol=1e-12)
    F = laplace.free_energy_grid(GAUSS_2D, betas, box(MU2, 12.0), 160)
    np.testing.assert_allclose(F, -grid / betas, rtol=1e-12)
    assert laplace.laplace_basin_log_masses(GAUSS_2D, betas, MU2).shape == (2, 3, 1)


def test_midpoint_rule_converges_at_second_order_when_the_box_cuts_the_integrand():
    """A unit Gaussian centred at 1.5, cut by the box [-2, 2]: Z = sqrt(pi/2) (erf(0.5/sqrt2) +
    erf(3.5/sqrt2)). The cut leaves the h^2 end term: measured log-log slope within 0.1 of 2."""
    exact = math.log(
        math.sqrt(math.pi / 2) * (special.erf(0.5 / math.sqrt(2)) + special.erf(3.5 / math.sqrt(2)))
    )
    sizes = np.array([16, 32, 64, 128])
    loss = lambda x: (x - 1.5) ** 2 / 2
    errors = [float(laplace.log_partition_grid(loss, 1.0, (-2, 2), n)) - exact for n in sizes]
    assert abs(slope(4.0 / sizes, np.array(errors)) - 2) < 0.1, errors


@pytest.mark.parametrize("beta", [1.0, 100.0, 1e4])
def test_quartic_well_by_grid_and_adaptive_quadrature_against_bessel(beta):
    """L = x^2/2 + x^4/4: Z is a Bessel function. On [-4, 4] the truncation is e^{-64}; the
    grid (4096 cells) and scipy's adaptive quadrature agree with it to 1e-12."""
    exact = quartic_1d_log_z(beta)
    assert float(laplace.log_partition_grid(quartic_1d, beta, (-4, 4), 4096)) == pytest.approx(
        exact, abs=1e-12
    )
    value, error = laplace.log_partition_adaptive(quartic_1d, beta, (-4, 4), 0.0)
    assert value == pytest.approx(exact, abs=1e-12)
    assert 0 <= error < 1e-11


def test_pure_quartic_has_no_laplace_approximation():
    """L = x^4/4: Z = Gamma(1/4) / (2 (beta/4)^{1/4}) exactly, which the grid reproduces; the
    Hessian at the minimum vanishes, and Laplace's method refuses."""
    beta = 50.0
    exact = math.log(special.gamma(0.25) / (2 * (beta / 4) ** 0.25))
    assert float(laplace.log_partition_grid(lambda x: x**4 / 4, beta, (-3, 3), 4096)) == pytest.approx(
        exact, abs=1e-12
    )
    with pytest.raises(ValueError, match="not positive definite"):
        laplace.laplace_log_partition(lambda x: x**4 / 4, beta, jnp.zeros(1))


# -------------------------------------------------------------------------- Laplace


@pytest.mark.parametrize("dim", [1, 2])
def test_laplace_is_exact_for_quadratics(dim):
    """The minimum found by trust-region Newton from a far start, then Laplace's ln Z and F
    against the closed form, to 1e-10, at beta from 0.1 to 1e4."""
    A = A2[:dim, :dim]
    mu, floor = MU2[:dim], 0.8
    loss = quadratic(A, mu, floor)
    theta = laplace.find_minimum(loss, jnp.full(dim, 5.0))
    np.testing.assert_allclose(theta, mu, atol=1e-12)
    betas = np.array([0.1, 1.0, 37.0, 1e4])
    exact = gaussian_log_z(A, floor, betas)
    np.testing.assert_allclose(laplace.laplace_log_partition(loss, betas, theta), exact, rtol=1e-10)
    np.testing.assert_allclose(laplace.laplace_free_energy(loss, betas, theta), -exact / betas, rtol=1e-10)
    assert float(laplace.laplace_correction(loss, theta)) == pytest.approx(0.0, abs=1e-12)


def test_laplace_correction_in_1d_with_a_cubic_term():
    """L = k x^2/2 + a x^3/6 + b x^4/24 (and a constant): c = -b/(8 k^2) + 5 a^2/(24 k^3)."""
    k, a, b = 2.5, -0.7, 1.3
    loss = lambda x: 4.0 + k * x**2 / 2 + a * x**3 / 6 + b * x**4 / 24
    expected = -b / (8 * k**2) + 5 * a**2 / (24 * k**3)
    assert float(laplace.laplace_correction(loss, jnp.zeros(1))) == pytest.approx(expected, rel=1e-12)


def test_laplace_error_order_on_a_quartic_well_in_1d():
    """L = x^2/2 + x^4/4, exact ln Z from the Bessel function, beta from 1e2 to 1e4 (9 points).
    Relative error of Z ~ c/beta (measured slope -0.992), error of F ~ -c/beta^2 (slope -1.993),
    each within 0.1 of theory; and beta (ln Z - ln Z_Laplace) -> c = -3/4 of laplace_correction,
    with the remaining O(1/beta) difference at beta = 1e4 (measured 2.8/beta) below 5/beta."""
    betas = np.geomspace(1e2, 1e4, 9)
    exact = np.array([quartic_1d_log_z(b) for b in betas])
    theta = laplace.find_minimum(quartic_1d, 0.3)
    approx = np.asarray(laplace.laplace_log_partition(quartic_1d, betas, theta))
    f_gap = -exact / betas - np.asarray(laplace.laplace_free_energy(quartic_1d, betas, theta))
    assert abs(slope(betas, np.expm1(exact - approx)) + 1) < 0.1
    assert abs(slope(betas, f_gap) + 2) < 0.1
    c = float(laplace.laplace_correction(quartic_1d, theta))
    assert c == pytest.approx(-0.75, rel=1e-12)
    assert abs(betas[-1] * (exact[-1] - approx[-1]) - c) < 5 / betas[-1]
    assert (np.sign(f_gap) == -np.sign(c)).all()


def test_laplace_error_order_on_a_quartic_well_in_2d():
    """L = theta^T A theta / 2 + |theta|^4 / 4, exact Z on a 160^2 grid scaled to the thermal
    width; beta from 1e2 to 1e4. Slopes -1 (Z) and -2 (F) within 0.1, and beta times the log
    error tends to c = -(tr G)^2/4 - tr(G^2)/2 = -0.55 (G = A^{-1})."""
    loss = lambda t: 0.5 * t @ A2 @ t + 0.25 * (t @ t) ** 2
    betas = np.geomspace(1e2, 1e4, 5)
    lam = float(jnp.linalg.eigvalsh(A2)[0])
    exact = np.array(
        [
            float(laplace.log_partition_grid(loss, b, box(jnp.zeros(2), 12 / math.sqrt(b * lam)), 160))
            for b in betas
        ]
    )
    theta = laplace.find_minimum(loss, jnp.array([0.5, -0.5]))
    approx = np.asarray(laplace.laplace_log_partition(loss, betas, theta))
    f_gap = -exact / betas - np.asarray(laplace.laplace_free_energy(loss, betas, theta))
    assert abs(slope(betas, np.expm1(exact - approx)) + 1) < 0.1
    assert abs(slope(betas, f_gap) + 2) < 0.1
    G = np.linalg.inv(np.asarray(A2))
    c = float(laplace.laplace_correction(loss, theta))
    assert c == pytest.approx(-(np.trace(G) ** 2) / 4 - np.trace(G @ G) / 2, rel=1e-12)
    assert abs(betas[-1] * (exact[-1] - approx[-1]) - c) < 0.01


def test_laplace_error_order_on_each_basin_of_the_double_well():
    """Basin masses split at the barrier (exact, 4096 cells a basin) against Laplace's, beta from
    50 to 5000: each basin's relative error falls like 1/beta (slopes -0.9995 and -0.992
    measured; asserted within 0.1), and beta times the log error approaches c_i = -3g/(4k_i)."""
    betas = np.geomspace(50, 5000, 9)
    x_b = laplace.barrier_location(DW, WELL.x_narrow, WELL.x_wide)
    exact = np.asarray(laplace.basin_log_masses_1d(DW, betas, (-4.0, x_b, 4.0)))
    minima = jnp.array([[WELL.x_narrow], [WELL.x_wide]])
    approx = np.asarray(laplace.laplace_basin_log_masses(DW, betas, minima))
    c = -3 * WELL.anharmonicity / (4 * np.array([WELL.curvature_narrow, WELL.curvature_wide]))
    for i in range(2):
        assert abs(slope(betas, np.expm1(exact[:, i] - approx[:, i])) + 1) < 0.1
        assert betas[-1] * (exact[-1, i] - approx[-1, i]) == pytest.approx(c[i], rel=1e-3)
    # and the whole partition function is the sum of the basins
    whole = np.asarray(laplace.log_partition_grid(DW, betas[:3], (-4.0, 4.0), 8192))
    np.testing.assert_allclose(special.logsumexp(exact[:3], axis=-1), whole, rtol=1e-12)
    np.testing.assert_allclose(
        laplace.laplace_log_partition(DW, betas, minima), special.logsumexp(approx, axis=-1), rtol=1e-12
    )
    np.testing.assert_allclose(
        laplace.laplace_free_energy(DW, betas, minima),
        -special.logsumexp(approx, axis=-1) / betas,
        rtol=1e-12,
    )


def test_find_minimum_reaches_each_well_and_rejects_what_is_not_a_minimum():
    for start, target in [
        (-0.8, WELL.x_narrow),
        (-1.7, WELL.x_narrow),
        (0.3, WELL.x_wide),
        (2.5, WELL.x_wide),
    ]:
        theta = laplace.find_minimum(DW, start)
        assert theta.shape == (1,)
        assert float(theta[0]) == pytest.approx(target, abs=1e-12)
    with pytest.raises(ValueError, match="not a minimum"):
        laplace.find_minimum(lambda t: -jnp.cos(t[0]) * jnp.cosh(t[1]), jnp.zeros(2))  # a saddle, grad = 0
    with pytest.raises(ValueError, match="no minimum found"):
        laplace.find_minimum(lambda x: -x + 0.0 * x**2, 0.0)  # unbounded below
    with pytest.raises(ValueError, match="not positive definite"):
        laplace.laplace_free_energy(DW, 1.0, jnp.array([laplace.barrier_location(DW, -1.0, 1.0)]))


# ------------------------------------------------------------------------- basins


def test_barrier_location_is_the_maximum_between_the_wells():
    x_b = laplace.barrier_location(DW, WELL.x_narrow, WELL.x_wide)
    assert abs(float(DW_1(jnp.array([x_b]))[0])) < 1e-9
    x = np.linspace(WELL.x_narrow, WELL.x_wide, 4001)
    assert float(DW_JIT(x_b)) >= float(jnp.max(DW_JIT(x)))
    assert laplace.barrier_location(DW, WELL.x_wide, WELL.x_narrow) == x_b


def test_gradient_descent_basins_in_2d_match_the_separable_exact_masses():
    """The double well times a Gaussian in y, rotated by 0.6 rad: the basins are the two sides
    of the barrier's (rotated) line, and their masses are the 1-D basin masses times
    sqrt(2 pi / (beta kappa)). At beta = 10 the cells cut by the basin boundary weigh
    e^{-beta (L_b - L_i)} ~ 1e-8 of a basin, and the masses agree to 1e-8."""
    kappa, beta = 4.0, 10.0
    c, s = math.cos(0.6), math.sin(0.6)
    R = jnp.array([[c, -s], [s, c]])

    def loss(t):
        u = R @ t
        return DW(u[0]) + 0.5 * kappa * u[1] ** 2

    x_b = laplace.barrier_location(DW, -1.0, 1.0)
    exact = np.asarray(laplace.basin_log_masses_1d(DW, beta, (-6.0, x_b, 6.0))) + 0.5 * math.log(
        2 * math.pi / (beta * kappa)
    )
    minima = jnp.stack([R.T @ jnp.array([WELL.x_narrow, 0.0]), R.T @ jnp.array([WELL.x_wide, 0.0])])
    masses = laplace.basin_log_masses(loss, beta, ((-5, 5), (-5, 5)), minima, step_size=0.005, n_grid=128)
    np.testing.assert_allclose(masses, exact, atol=1e-8)
    # the labels are the sides of the rotated barrier line (at least h/4 away from it)
    centres = -5 + (np.arange(128) + 0.5) * 10 / 128
    points = np.stack([m.ravel() for m in np.meshgrid(centres, centres, indexing="ij")], axis=-1)
    labels = np.asarray(laplace.basin_labels(loss, points, minima, 0.005, 2000))
    u = points @ np.asarray(R).T[:, 0]
    clear = np.abs(u - x_b) > 10 / 128 / 4
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(labels[clear], (u[clear] > x_b).astype(int))


def test_basin_labels_in_1d_split_at_the_barrier():
    x = jnp.linspace(-3.0, 3.0, 601)[:, None]
    minima = jnp.array([[WELL.x_narrow], [WELL.x_wide]])
    labels = np.asarray(laplace.basin_labels(DW, x, minima, 0.005, 3000))
    x_b = laplace.barrier_location(DW, -1.0, 1.0)
    np.testing.assert_array_equal(labels, (np.asarray(x[:, 0]) > x_b).astype(int))
    with pytest.raises(ValueError, match="diverged"):
        laplace.basin_labels(DW, x, minima, 0.5, 100)


# ------------------------------------------------------------- energy against entropy


def test_double_well_has_its_stated_minima_curvatures_and_corrections():
    """L'(x_i) = 0, L(x_i) = L_i, L''(x_i) = k_i and c_i = -3g/(4k_i), to rounding."""
    x = jnp.array([WELL.x_narrow, WELL.x_wide])
    k = np.array([WELL.curvature_narrow, WELL.curvature_wide])
    np.testing.assert_allclose(DW_1(x), 0.0, atol=1e-13)
    np.testing.assert_allclose(DW_JIT(x), [WELL.loss_narrow, WELL.loss_wide], atol=1e-15)
    np.testing.assert_allclose(DW_2(x), k, rtol=1e-13)
    c = laplace.laplace_correction(DW, x[:, None])
    assert c.shape == (2,)
    np.testing.assert_allclose(c, -3 * WELL.anharmonicity / (4 * k), rtol=1e-12)
    assert (WELL.loss_narrow, WELL.loss_wide, WELL.x_narrow, WELL.x_wide) == (0.0, 0.1, -1.0, 1.0)


def crossover(well):
    loss = functools.partial(laplace.double_well_loss, well)
    x_b = laplace.barrier_location(loss, well.x_narrow, well.x_wide)
    lap = laplace.crossover_beta_laplace(
        well.loss_narrow, well.loss_wide, well.curvature_narrow, well.curvature_wide
    )
    return lap, laplace.crossover_beta_exact(loss, (-4.0, x_b, 4.0), (lap / 4, 4 * lap)), loss, x_b


def test_crossover_of_the_default_double_well():
    """Laplace: beta* = ln 16 / 0.2 = 13.863; exact (brentq on the basin masses): 13.637. Below
    beta* the wide basin holds more mass (entropy wins), above it the narrow one (energy)."""
    lap, exact, loss, x_b = crossover(WELL)
    assert lap == pytest.approx(math.log(16) / 0.2, rel=1e-14)
    assert round(lap, 2) == 13.86 and round(exact, 2) == 13.64
    masses = np.asarray(
        laplace.basin_log_masses_1d(loss, np.array([exact / 2, exact, 2 * exact]), (-4, x_b, 4))
    )
    assert masses[0, 1] > masses[0, 0]
    assert masses[1, 1] == pytest.approx(masses[1, 0], abs=1e-12)
    assert masses[2, 0] > masses[2, 1]


@pytest.mark.parametrize(("g", "fraction"), [(0.5, 0.2), (0.1, 0.04), (0.02, 0.008)])
def test_laplace_crossover_error_is_its_first_correction(g, fraction):
    """With the corrections c_i (ln Z_i = ln Z_i^Laplace + c_i/beta), equal masses need
    beta dL = ln(k_n/k_w)/2 + (c_w - c_n)/beta, whose root beta_1 moves Laplace's beta* by
    (c_w - c_n)/(dL beta*) + O(beta*^-2), a relative -(3g/4)(1/k_w - 1/k_n)/(dL beta*^2) =
    -0.0366 g (within 15 %; measured -1.6 % at g = 0.5), shrinking in proportion to g.
    What beta_1 leaves is second order, a fraction 0.3 g of the Laplace error (measured
    0.28, 0.30, 0.31): asserted below 0.4 g."""
    well = laplace.double_well(anharmonicity=g)
    lap, exact, _, _ = crossover(well)
    c_n, c_w = (-3 * g / (4 * k) for k in (well.curvature_narrow, well.curvature_wide))
    delta = (c_w - c_n) / (well.loss_wide - well.loss_narrow)
    first = (lap + math.sqrt(lap**2 + 4 * delta)) / 2
    assert first < exact < lap
    assert abs(exact - first) < fraction * abs(exact - lap)
    assert abs(exact / lap - 1) == pytest.approx(0.0366 * g, rel=0.15)


def test_parabolic_wells_cross_where_laplace_says():
    """g = 0: both wells are exact parabolas up to the barrier, so Laplace's beta* is exact
    but for the Gaussian tails beyond the barrier, e^{-beta* (L_b - L_w)} = e^{-17}."""
    lap, exact, _, _ = crossover(laplace.double_well(anharmonicity=0.0))
    assert exact == pytest.approx(lap, rel=1e-7)


# -------------------------------------------------------------- Gibbs linear regression


def regression_data(key, n, d, noise=0.3):
    """Gaussian design, weights and noise; numpy's generator seeded from the key (no JAX
    compilation for each shape)."""
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)))
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + noise * rng.standard_normal(n)


@pytest.mark.parametrize("ridge", [0.0, 2.5])
def test_gibbs_regression_posterior_against_quadrature(key, ridge):
    """Two weights, 12 data: ln Z, F, mean and covariance against a 200^2 midpoint grid of
    exp(-beta L(w)) around the mean (12 standard deviations each way), to 1e-10."""
    X, y = regression_data(key, 12, 2)
    beta = 3.0
    post = laplace.gibbs_regression(X, y, beta, ridge)
    loss = functools.partial(laplace.regression_loss, X=X, y=y, ridge=ridge)
    half = 12 * math.sqrt(float(jnp.max(jnp.linalg.eigvalsh(post.covariance))))
    bounds = box(post.mean, half)
    assert float(post.log_partition) == pytest.approx(
        float(laplace.log_partition_grid(loss, beta, bounds, 200)), abs=1e-10
    )
    assert float(post.free_energy) == pytest.approx(
        float(laplace.free_energy_grid(loss, beta, bounds, 200)), abs=1e-10
    )
    # moments of the grid distribution
    axes = [np.linspace(lo, hi, 201)[:-1] + (hi - lo) / 400 for lo, hi in bounds]
    w = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=-1)
    p = special.softmax(-beta * np.asarray(jax.jit(jax.vmap(loss))(jnp.asarray(w))))
    mean = p @ w
    cov = (w - mean).T @ ((w - mean) * p[:, None])
    np.testing.assert_allclose(post.mean, mean, atol=1e-10)
    np.testing.assert_allclose(post.covariance, cov, atol=1e-10)
    assert float(post.min_loss) == pytest.approx(float(loss(post.mean)), rel=1e-14)
    # a quadratic: Laplace is exact
    assert float(laplace.laplace_log_partition(loss, beta, post.mean)) == pytest.approx(
        float(post.log_partition), rel=1e-12
    )


def test_flat_prior_gives_least_squares_at_every_beta(key):
    X, y = regression_data(key, 40, 5)
    w_ls = np.linalg.lstsq(np.asarray(X), np.asarray(y), rcond=None)[0]
    XtX_inv = np.linalg.inv(np.asarray(X).T @ np.asarray(X))
    for beta in [0.01, 1.0, 1e6]:
        post = laplace.gibbs_regression(X, y, beta)
        np.testing.assert_allclose(post.mean, w_ls, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(post.covariance, XtX_inv / beta, rtol=1e-11)
    # with a fixed ridge the mean is the ridge solution, whatever beta
    ridge = 3.0
    w_ridge = np.linalg.solve(
        np.asarray(X).T @ np.asarray(X) + ridge * np.eye(5), np.asarray(X).T @ np.asarray(y)
    )
    for beta in [0.01, 1e6]:
        np.testing.assert_allclose(laplace.gibbs_regression(X, y, beta, ridge).mean, w_ridge, rtol=1e-12)


def test_fixed_prior_posterior_mean_tends_to_least_squares_like_one_over_beta(key):
    """tau = 0.5 fixed, lambda = 1/(beta tau^2): |mu(beta) - w_LS| falls like 1/beta (slope
    within 0.1 of -1) and the posterior spread like beta^{-1/2}."""
    X, y = regression_data(key, 30, 3)
    w_ls = np.linalg.lstsq(np.asarray(X), np.asarray(y), rcond=None)[0]
    betas = np.geomspace(1e1, 1e5, 9)
    posts = [laplace.gibbs_regression(X, y, b, 1 / (b * 0.25)) for b in betas]
    distance = np.array([np.linalg.norm(np.asarray(p.mean) - w_ls) for p in posts])
    assert abs(slope(betas, distance) + 1) < 0.1
    spread = np.array([math.sqrt(float(jnp.trace(p.covariance))) for p in posts])
    assert abs(slope(betas, spread) + 0.5) < 0.01


def test_evidence_is_the_gaussian_marginal(key):
    """p(y) = N(y; 0, sigma^2 I + tau^2 X X^T) with sigma^2 = 1/beta, tau^2 = 1/(beta lambda)."""
    X, y = regression_data(key, 25, 4)
    beta, ridge = 4.0, 0.7
    cov = np.eye(25) / beta + np.asarray(X) @ np.asarray(X).T / (beta * ridge)
    expected = stats.multivariate_normal(mean=np.zeros(25), cov=cov).logpdf(np.asarray(y))
    assert float(laplace.regression_log_evidence(X, y, beta, ridge)) == pytest.approx(expected, rel=1e-11)


def test_ill_conditioned_design_keeps_its_digits():
    """A polynomial design (degree 10 on [0, 1]) with condition number 2e7: QR keeps the
    least-squares solution to 1e-8 (relative), where the normal equations, of condition 4e14,
    are off by more than 1e-5 (measured 6e-4), so the comparison has power."""
    t = np.linspace(0.0, 1.0, 50)
    X = np.vander(t, 11, increasing=True)
    y = np.cos(3 * t)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    assert 1e7 < np.linalg.cond(X) < 1e8
    error = np.linalg.norm(np.asarray(laplace.gibbs_regression(X, y, 1.0).mean) - w_ls) / np.linalg.norm(w_ls)
    normal = np.linalg.norm(np.linalg.solve(X.T @ X, X.T @ y) - w_ls) / np.linalg.norm(w_ls)
    assert error < 1e-8
    assert normal > 1e-5


# ------------------------------------------------------------------ discrete states


@given(
    losses=st.lists(st.floats(-50, 50), min_size=1, max_size=16),
    beta=st.floats(1e-3, 1e4),
)
def test_discrete_free_energy_gap_is_bounded(losses, beta):
    """0 <= L* - F <= ln(n)/beta, in floating point; and it is L* - F with F = -ln Z / beta
    computed independently (scipy's logsumexp)."""
    gap = float(laplace.free_energy_gap(jnp.array(losses), beta))
    assert 0.0 <= gap <= math.log(len(losses)) / beta
    F = -special.logsumexp(-beta * np.array(losses)) / beta
    assert gap == pytest.approx(min(losses) - F, abs=1e-12 * max(1.0, max(abs(v) for v in losses)))


def test_discrete_gap_counts_the_degenerate_ground_states():
    """L* - F -> ln(g)/beta with g = 3 states at the minimum, and -> ln(n)/beta as beta -> 0;
    it is statmech's L* - F."""
    losses = jnp.array([0.0, 0.0, 0.0, 1.0, 2.0, 2.0])
    assert float(laplace.free_energy_gap(losses, 0.7)) == pytest.approx(
        -float(statmech.free_energy(losses, 0.7)), rel=1e-14
    )
    assert float(laplace.free_energy_gap(losses, 1e4)) * 1e4 == pytest.approx(math.log(3), rel=1e-12)
    assert float(laplace.free_energy_gap(losses, 1e-6)) * 1e-6 == pytest.approx(math.log(6), rel=1e-6)


# ------------------------------------------------------------------------ bad input


def test_bad_input_is_rejected():
    loss = quadratic(A2, MU2, 0.0)
    with pytest.raises(ValueError, match="bounds"):
        laplace.log_partition_grid(loss, 1.0, ((0, 1), (0, 1), (0, 1)))
    with pytest.raises(ValueError, match="low < high"):
        laplace.free_energy_grid(quartic_1d, 1.0, (1.0, -1.0))
    with pytest.raises(ValueError, match="beta"):
        laplace.free_energy_grid(quartic_1d, 0.0, (-1.0, 1.0))
    with pytest.raises(ValueError, match="beta"):
        laplace.log_partition_grid(quartic_1d, -1.0, (-1.0, 1.0))
    with pytest.raises(ValueError, match=r"too coarse at beta = 10000: cells 0\.0938 wide"):
        laplace.free_energy_grid(GAUSS_1D, np.array([1.0, 1e4]), (-3, 3), 64)
    with pytest.raises(ValueError, match="too coarse"):
        laplace.basin_log_masses_1d(DW, 1e4, (-4.0, -0.5, 4.0), 256)
    with pytest.raises(ValueError, match="n_grid"):
        laplace.log_partition_grid(quartic_1d, 1.0, (-1.0, 1.0), 0)
    with pytest.raises(ValueError, match="scalar"):
        laplace.log_partition_grid(lambda t: t * 2.0, 1.0, ((0, 1), (0, 1)), 8)
    with pytest.raises(ValueError, match="not finite"):
        laplace.log_partition_grid(lambda x: 1 / x, 1.0, (-1.0, 1.0), 3)
    with pytest.raises(ValueError, match="1-D only"):
        laplace.log_partition_adaptive(loss, 1.0, ((0, 1), (0, 1)), MU2)
    with pytest.raises(ValueError, match="edges"):
        laplace.basin_log_masses_1d(DW, 1.0, (1.0, 0.0, 2.0))
    with pytest.raises(ValueError, match="dimension"):
        laplace.basin_log_masses(DW, 1.0, ((0, 1), (0, 1)), jnp.zeros((2, 1)), step_size=0.01)
    with pytest.raises(ValueError, match="do not cross"):
        laplace.crossover_beta_exact(DW, (-4.0, -0.5, 4.0), (100.0, 200.0))
    with pytest.raises(ValueError, match="no crossover"):
        laplace.crossover_beta_laplace(0.0, 0.1, 1.0, 16.0)
    with pytest.raises(ValueError, match="curvature"):
        laplace.double_well(curvature_narrow=1.0, curvature_wide=2.0)
    with pytest.raises(ValueError, match="overlap"):
        laplace.double_well(sharpness=1.0)
    with pytest.raises(ValueError, match="interior maximum"):
        laplace.barrier_location(quartic_1d, 0.5, 1.0)
    X = jnp.ones((3, 2))
    with pytest.raises(ValueError, match="shape"):
        laplace.gibbs_regression(X, jnp.ones(4), 1.0)
    with pytest.raises(ValueError, match="singular"):
        laplace.gibbs_regression(X, jnp.ones(3), 1.0)
    with pytest.raises(ValueError, match="proper prior"):
        laplace.regression_log_evidence(jnp.eye(3), jnp.ones(3), 1.0, 0.0)
    with pytest.raises(ValueError, match="non-empty"):
        laplace.free_energy_gap(jnp.array([]), 1.0)
