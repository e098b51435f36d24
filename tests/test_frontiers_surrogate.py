"""Tests of physml.frontiers.surrogate: quadrature against incomplete-Beta closed forms with the
measured convergence order, chi^2 against a dense computation, exact fits, the Hessian against
Gauss–Newton, Hessian against profile intervals, and the surrogate's minimum, errors and profiles."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physml.frontiers import surrogate as S

SEED = 20261124


@pytest.fixture(scope="module")
def data() -> S.GlobalFitData:
    return S.global_fit_data(jax.random.key(SEED))


@pytest.fixture(scope="module")
def best(data) -> S.Fit:
    return S.fit(data)


@pytest.fixture(scope="module")
def exact_profiles(data, best) -> tuple[S.Profile, ...]:
    return S.profiles(data, best)


def _structure_function(x: float, theta, kappa: float) -> float:
    r"""F(x) = f(x) + kappa A [B_[x,1](a, b+1) - x B_[x,1](a-1, b+1)], with
    B_[x,1](p, q) = B_{1-x}(q, p) (substitute t = 1 - z), so that p = a - 1 < 0 is fine."""
    A, a, b = (mpmath.mpf(float(v)) for v in theta)
    x = mpmath.mpf(x)
    f = A * x**a * (1 - x) ** b
    tail = mpmath.betainc(b + 1, a, 0, 1 - x) - x * mpmath.betainc(b + 1, a - 1, 0, 1 - x)
    return float(f + kappa * A * tail)


def _dense_chi2(theta: np.ndarray, data: S.GlobalFitData) -> float:
    """sum_e r^T C^{-1} r with an explicit inverse and the theory summed with powers, in NumPy."""
    A, a, b = theta
    total = 0.0
    for e in data.experiments:
        w, z, one_minus_z = (np.exp(v) for v in e.rule)
        t = A * np.sum(w * z**a * one_minus_z**b, axis=1)
        r = e.data - t
        total += r @ np.linalg.inv(e.covariance) @ r
    return total


# ------------------------------------------------------------------------ the quadrature

X_POINTS = np.array([1e-3, 0.01, 0.1, 0.5, 0.9])


def test_convolution_matches_the_incomplete_beta_closed_form():
    """Integer b: analytic integrand, rounding at 24 nodes. Otherwise the truncation error
    ~ n^-(2b+2) at 64 nodes: measured 3e-11 (b = 2.5) and 1.1e-12 (b = 3.3)."""
    mpmath.mp.dps = 30
    cases = (([2.0, 0.5, 3.0], 24, 1e-13), ([1.3, 0.3, 2.5], 64, 1e-10), ([0.7, 0.8, 3.3], 64, 1e-11))
    for theta, n_nodes, rtol in cases:
        exact = np.array([_structure_function(x, theta, 0.8) for x in X_POINTS])
        F = S.observable(np.asarray(theta), S.convolution_rule(X_POINTS, 0.8, n_nodes))
        np.testing.assert_allclose(np.asarray(F), exact, rtol=rtol)


@pytest.mark.parametrize("b", [1.5, 2.5])
def test_convolution_error_falls_as_n_to_the_minus_2b_plus_2(b):
    """The integrand behaves as u^b at an end of [0, 1]: Gauss–Legendre converges as n^-(2b+2).
    Measured slopes over n = 16..64: -4.97 (b = 1.5), -6.99 (b = 2.5)."""
    mpmath.mp.dps = 30
    theta = np.array([2.0, 0.5, b])
    exact = np.array([_structure_function(x, theta, 0.8) for x in X_POINTS])
    nodes = np.array([16, 23, 32, 45, 64])
    errors = [
        np.max(np.abs(np.asarray(S.observable(theta, S.convolution_rule(X_POINTS, 0.8, n))) / exact - 1))
        for n in nodes
    ]
    slope = np.polyfit(np.log(nodes), np.log(errors), 1)[0]
    assert abs(slope + 2 * b + 2) < 0.1, slope


def test_bin_averages_match_the_incomplete_beta_closed_form():
    """int f dx over a bin = A B_[lo,hi](a+1, b+1). On the bins of the design (0.05 to 0.95 in 40)
    the integrand is analytic well beyond each bin: 8 nodes reach rounding (measured 5e-15)."""
    edges = np.linspace(0.05, 0.95, 41)
    lo, hi = edges[:-1], edges[1:]
    theta = [2.0, 0.5, 3.3]
    exact = [
        float(theta[0] * mpmath.betainc(theta[1] + 1, theta[2] + 1, l, h)) / (h - l)
        for l, h in zip(lo, hi, strict=True)
    ]
    averages = S.observable(np.asarray(theta), S.bin_rule(lo, hi, 8))
    np.testing.assert_allclose(np.asarray(averages), exact, rtol=1e-13)


@settings(max_examples=30)
@given(st.floats(0.1, 10), st.floats(0.1, 1.5), st.floats(0.5, 6), st.floats(0.1, 5))
def test_observables_are_linear_in_A_and_positive(A, a, b, c):
    rule = S.convolution_rule(X_POINTS, 0.5, 8)
    t = np.asarray(S.observable(np.array([A, a, b]), rule))
    assert np.all(t > 0)
    np.testing.assert_allclose(np.asarray(S.observable(np.array([c * A, a, b]), rule)), c * t, rtol=1e-13)


def test_true_parameters_hold_two_valence_quarks():
    """A B(a, b+1) = int_0^1 f dx / x = 2 at theta_true, and f is A x^a (1-x)^b."""
    A, a, b = S.THETA_TRUE
    assert float(A * mpmath.beta(a, b + 1)) == pytest.approx(2.0, rel=1e-15)
    x = np.array([0.01, 0.3, 0.8])
    np.testing.assert_allclose(
        np.asarray(S.parton_density(x, S.THETA_TRUE)), A * x**a * (1 - x) ** b, rtol=1e-14
    )


# ---------------------------------------------------------------------------- the data


def test_pseudo_data_have_the_stated_covariance():
    """chi^2(theta_true) over 25 replicas is chi^2 with 25 x 160 = 4000 degrees of freedom
    (sd sqrt(8000) = 89.4) if the noise has covariance C; a 4 sd band fails with probability 6e-5."""
    keys = jax.random.split(jax.random.key(SEED + 1), 25)
    total = sum(float(S.exact_chi2(S.THETA_TRUE, S.global_fit_data(k))) for k in keys)
    assert abs(total - 4000) < 4 * np.sqrt(8000), total


def test_chi2_matches_a_dense_computation(data):
    theta = S.THETA_TRUE + np.array([[0.0, 0.0, 0.0], [0.05, -0.02, 0.1], [-0.1, 0.03, -0.2]])
    chi2 = np.asarray(S.exact_chi2(theta, data))
    np.testing.assert_allclose(chi2, [_dense_chi2(t, data) for t in theta], rtol=1e-10)


def test_exact_chi2_takes_any_batch_shape_and_float32(data):
    theta = S.THETA_TRUE + 0.01 * np.arange(24.0).reshape(2, 4, 3) / 24
    chi2 = S.exact_chi2(theta, data)
    assert chi2.shape == (2, 4) and chi2.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(chi2)[1, 2], float(S.exact_chi2(theta[1, 2], data)), rtol=1e-14)
    chi2_32 = S.exact_chi2(jnp.asarray(theta, jnp.float32), data)
    assert chi2_32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(chi2_32), np.asarray(chi2), rtol=2e-4)


# -------------------------------------------------------------------- minimum and errors


def test_fit_of_noiseless_data_returns_the_true_parameters():
    data = S.global_fit_data(jax.random.key(SEED), noise=False)
    result = S.fit(data)  # from (1, 0.8, 2), far from (2.1875, 0.5, 3)
    np.testing.assert_allclose(result.theta, S.THETA_TRUE, rtol=0, atol=1e-8)
    assert 0 <= result.chi2 < 1e-20


def test_hessian_at_a_zero_residual_minimum_is_gauss_newton():
    """With r = 0 the second derivatives of t drop out: H = 2 J^T C^{-1} J, J = dt/dtheta in closed form."""
    data = S.global_fit_data(jax.random.key(SEED), noise=False)
    H = S.fit(data, S.THETA_TRUE).hessian
    A, a, b = S.THETA_TRUE
    gauss_newton = np.zeros((3, 3))
    for e in data.experiments:
        terms = np.exp(e.rule.log_weights + a * e.rule.log_z + b * e.rule.log_1mz)
        J = np.stack(
            [terms.sum(1), A * (terms * e.rule.log_z).sum(1), A * (terms * e.rule.log_1mz).sum(1)], 1
        )
        gauss_newton += 2 * J.T @ np.linalg.inv(e.covariance) @ J
    np.testing.assert_allclose(H, gauss_newton, rtol=1e-9)


def test_linear_parameter_hessian_profile_and_closed_form_agree(data):
    """chi^2(A) at fixed (a, b) is exactly quadratic: A_hat = t1^T C^-1 d / t1^T C^-1 t1 and
    sigma_A = (t1^T C^-1 t1)^(-1/2), and the profile's interval is A_hat +- sigma_A."""
    start = np.array([1.0, *S.THETA_TRUE[1:]])
    result = S.fit(data, start, free=[True, False, False])
    t1Ct1 = t1Cd = 0.0
    for e in data.experiments:
        t1 = np.asarray(S.observable(start, e.rule))
        inverse = np.linalg.inv(e.covariance)
        t1Ct1, t1Cd = t1Ct1 + t1 @ inverse @ t1, t1Cd + t1 @ inverse @ e.data
    A_hat, sigma = t1Cd / t1Ct1, t1Ct1**-0.5
    assert result.theta[0] == pytest.approx(A_hat, rel=1e-12)
    np.testing.assert_array_equal(result.theta[1:], S.THETA_TRUE[1:])
    np.testing.assert_allclose(result.errors, [sigma, 0, 0], rtol=1e-10)
    (profile,) = S.profiles(data, result)
    np.testing.assert_allclose(profile.interval, [A_hat - sigma, A_hat + sigma], rtol=0, atol=1e-9 * sigma)


def test_profile_intervals_agree_with_the_hessian_to_the_size_of_cubic_terms(best, exact_profiles):
    """The full chi^2 is nearly quadratic: the profile's Delta chi^2 = 1 endpoints lie within
    0.0067 sigma of theta_hat +- sigma (measured), shifted to the right for all three parameters."""
    for p in exact_profiles:
        delta = p.chi2 - best.chi2
        assert np.all(delta > -1e-9) and np.min(np.abs(delta)) < 1e-9  # the minimum is on the grid
        hessian = best.theta[p.parameter] + np.array([-1, 1]) * best.errors[p.parameter]
        gap = (p.interval - hessian) / best.errors[p.parameter]
        assert np.all(np.abs(gap) < 0.02), gap
        assert np.all(gap > 1e-4), gap  # measurably not quadratic, in the same direction at both ends


def test_profile_is_below_the_straight_line_it_starts_from(data, best, exact_profiles):
    for p in exact_profiles:
        i, others = p.parameter, np.arange(3) != p.parameter
        slope = np.linalg.solve(best.hessian[np.ix_(others, others)], best.hessian[others, i])
        line = np.tile(best.theta, (p.grid.size, 1))
        line[:, i] = p.grid
        line[:, others] -= np.outer(p.grid - best.theta[i], slope)
        assert np.all(p.chi2 <= np.asarray(S.exact_chi2(line, data)) + 1e-9)


# ------------------------------------------------------------------------- the surrogate


def _compare(data, best, exact_profiles, surrogate):
    result = S.fit(surrogate)  # starts at the centre of the surrogate's box
    np.testing.assert_array_equal(result.theta, S.fit(surrogate, np.asarray(surrogate.centre)).theta)
    shift = (result.theta - best.theta) / best.errors
    ratio = result.errors / best.errors - 1
    ends = [
        (q.interval - p.interval) / best.errors[p.parameter]
        for p, q in zip(exact_profiles, S.profiles(surrogate, result), strict=True)
    ]
    return shift, ratio, np.max(np.abs(ends))


@pytest.mark.slow
@pytest.mark.parametrize("index", [0, 1, 2])
def test_surrogate_finds_the_minimum_errors_and_profiles(data, best, exact_profiles, index):
    """Tolerances: minimum within 0.1 sigma, Hessian errors within 10 %, profile endpoints within
    0.15 sigma. Over 30 other training keys the worst were 0.054 sigma, 4.7 % and 0.050 sigma
    (medians 0.017 sigma, 1.3 %, 0.023 sigma); these three reach 0.052 sigma, 2.0 % and 0.040 sigma."""
    key = jax.random.fold_in(jax.random.key(SEED), index)
    surrogate, losses = S.train_surrogate(key, data, best.theta, 2 * np.linalg.inv(best.hessian))
    assert losses.shape == (4000,) and float(losses[-1]) < 0.01 * float(losses[0])
    shift, ratio, ends = _compare(data, best, exact_profiles, surrogate)
    assert np.all(np.abs(shift) < 0.1), shift
    assert np.all(np.abs(ratio) < 0.1), ratio
    assert ends < 0.15, ends


@pytest.mark.slow
def test_surrogate_box_off_the_minimum(data, best, exact_profiles):
    """The box centred 0.7 sigma away in every parameter: the network still finds the minimum
    (over 20 keys: within 0.048 sigma, errors within 4.3 %, profile endpoints within 0.052 sigma)."""
    key = jax.random.fold_in(jax.random.key(SEED), 10)
    centre = best.theta + 0.7 * best.errors
    surrogate, _ = S.train_surrogate(key, data, centre, 2 * np.linalg.inv(best.hessian))
    shift, ratio, ends = _compare(data, best, exact_profiles, surrogate)
    assert np.all(np.abs(shift) < 0.1), shift
    assert np.all(np.abs(ratio) < 0.1), ratio
    assert ends < 0.15, ends


def test_surrogate_chi2_and_speedup_are_consistent(data, best):
    cov = 2 * np.linalg.inv(best.hessian)
    surrogate, losses = S.train_surrogate(jax.random.key(SEED), data, best.theta, cov, n_samples=64, steps=5)
    assert losses.shape == (5,)
    value = S.surrogate_chi2(best.theta, surrogate)
    assert value.shape == () and np.isfinite(float(value))
    assert S.surrogate_chi2(np.tile(best.theta, (2, 5, 1)), surrogate).shape == (2, 5)
    timing = S.speedup(data, surrogate, key=jax.random.key(SEED), batch=64, repeats=3)
    assert timing.batch == 64 and timing.exact > 0 and timing.surrogate > 0
    assert timing.ratio == pytest.approx(timing.exact / timing.surrogate)


# ---------------------------------------------------------------------------- bad input


def test_bad_input_raises_specific_errors(data, best):
    with pytest.raises(ValueError, match=r"theta must have shape \(\.\.\., 3\)"):
        S.exact_chi2(np.ones(2), data)
    with pytest.raises(ValueError, match="theta holds NaN"):
        S.exact_chi2(np.array([1.0, np.nan, 3.0]), data)
    with pytest.raises(ValueError, match=r"x must lie in the open interval \(0, 1\)"):
        S.convolution_rule(np.array([0.0, 0.1]), 0.5)
    with pytest.raises(ValueError, match=r"x must lie in the open interval \(0, 1\)"):
        S.parton_density(np.array([-0.1, 0.5]), S.THETA_TRUE)
    with pytest.raises(ValueError, match="kappa must be a finite number >= 0"):
        S.convolution_rule(np.array([0.1]), -1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        S.bin_rule(np.array([0.2]), np.array([0.1]))
    rule = S.bin_rule(np.array([0.1, 0.2]), np.array([0.2, 0.3]))
    with pytest.raises(
        ValueError, match="covariance must be positive definite; its smallest eigenvalue is -1"
    ):
        S.experiment("e", [0.15, 0.25], rule, [1.0, 1.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="covariance must be symmetric"):
        S.experiment("e", [0.15, 0.25], rule, [1.0, 1.0], [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="must agree on the number of points 2"):
        S.experiment("e", [0.15, 0.25], rule, [1.0, 1.0, 1.0], np.eye(2))
    with pytest.raises(ValueError, match="covariance must be positive definite"):
        S.train_surrogate(jax.random.key(0), data, best.theta, -np.eye(3))
    with pytest.raises(ValueError, match="expected a GlobalFitData"):
        S.fit(best)
    with pytest.raises(ValueError, match="one True"):
        S.fit(data, free=[False, False, False])
    with pytest.raises(ValueError, match="not positive definite: not a minimum"):
        S.hessian_errors(np.diag([1.0, -1.0, 1.0]))
