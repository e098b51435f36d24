"""Tests of physml.onsager: exact least squares, the symmetric projection, the error ratio (n+1)/(2n)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physml import onsager

EPS = float(jnp.finfo(jnp.float64).eps)


def _matrices(n_min: int = 1, n_max: int = 6):
    """Square float64 matrices with entries of very different sizes (and exact zeros)."""
    elements = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    return st.integers(n_min, n_max).flatmap(lambda n: hnp.arrays(np.float64, (n, n), elements=elements))


# ------------------------------------------------------------------------------ the data


def test_random_onsager_matrix_is_symmetric_positive_definite(key):
    for n in (1, 2, 5):
        L = onsager.random_onsager_matrix(key, n)
        assert L.shape == (n, n)
        assert bool(jnp.all(L == L.T))
        assert float(jnp.min(jnp.linalg.eigvalsh(L))) > 0.5 - 1e-12


def test_response_data_without_noise_is_exactly_linear(key):
    L = onsager.random_onsager_matrix(key, 3)
    X, J = onsager.response_data(jax.random.fold_in(key, 1), L, 8, 0.0)
    assert X.shape == J.shape == (3, 8)
    np.testing.assert_array_equal(np.asarray(J), np.asarray(L @ X))


def test_response_data_noise_has_the_stated_variance(key):
    # 3 x 20000 residuals: the sample variance of N(0, 0.3^2) has relative sd sqrt(2/60000) = 0.0058;
    # a 4 sd band fails with probability 6e-5.
    L = onsager.random_onsager_matrix(key, 3)
    X, J = onsager.response_data(jax.random.fold_in(key, 2), L, 20000, 0.3)
    var = float(jnp.var(J - L @ X))
    assert abs(var / 0.09 - 1) < 4 * np.sqrt(2 / 60000)


# ------------------------------------------------------------------------- the estimates


def test_least_squares_is_exact_without_noise(key):
    L = jax.random.normal(key, (4, 4))  # any matrix, symmetric or not
    X, J = onsager.response_data(jax.random.fold_in(key, 3), L, 9, 0.0)
    W = onsager.least_squares_response(X, J)
    np.testing.assert_allclose(np.asarray(W), np.asarray(L), rtol=0, atol=1e-12)


def test_least_squares_solves_the_normal_equations(key):
    X = jax.random.normal(key, (3, 11))
    J = jax.random.normal(jax.random.fold_in(key, 4), (3, 11))
    W = onsager.least_squares_response(X, J)
    np.testing.assert_allclose(np.asarray((J - W @ X) @ X.T), 0.0, atol=1e-12)


@settings(max_examples=60)
@given(_matrices())
def test_symmetrize_is_an_idempotent_symmetric_projection(W):
    S = onsager.symmetrize(W)
    assert bool(jnp.all(S == S.T))
    np.testing.assert_array_equal(np.asarray(onsager.symmetrize(S)), np.asarray(S))


@settings(max_examples=60)
@given(_matrices(), st.integers(0, 2**31 - 1))
def test_symmetrize_is_frobenius_orthogonal(W, seed):
    """<W - sym W, S>_F = 0 for every symmetric S: the remainder is antisymmetric."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=W.shape)
    S = M + M.T
    inner = float(jnp.sum((W - onsager.symmetrize(W)) * S))
    scale = np.linalg.norm(W) * np.linalg.norm(S) + 1e-300
    assert abs(inner) <= 8 * W.size * EPS * scale


@settings(max_examples=60)
@given(_matrices(), _matrices(), st.floats(-8, 0))
def test_symmetrizing_never_increases_the_error(W, M, log_scale):
    """In every trial, for any estimate: ||sym W - L|| <= ||W - L|| (a projection contracts), and
    Pythagoras ||W - L||^2 = ||sym(W - L)||^2 + ||anti(W - L)||^2."""
    n = min(W.shape[0], M.shape[0])
    M = M[:n, :n]
    L = onsager.symmetrize(M)
    W = np.asarray(L) + 10.0**log_scale * W[:n, :n]  # errors small next to L, too
    raw, sym = onsager.estimation_errors(W, L)
    rtol = 2 * (n**2 + 3) * EPS
    assert float(sym) <= float(raw) * (1 + rtol)
    E = W - np.asarray(L)
    anti = float(np.sum((0.5 * (E - E.T)) ** 2))
    np.testing.assert_allclose(float(sym) + anti, float(raw), rtol=4 * (n**2 + 3) * EPS, atol=1e-300)


def test_expected_error_ratio():
    assert onsager.expected_error_ratio(1) == 1.0
    assert onsager.expected_error_ratio(2) == 0.75
    assert onsager.expected_error_ratio(5) == 0.6


def test_expected_squared_errors_closed_form(key):
    X = jax.random.normal(key, (3, 10))
    raw, sym = onsager.expected_squared_errors(X, 0.2)
    tr_c = np.trace(np.linalg.inv(np.asarray(X @ X.T)))
    np.testing.assert_allclose(float(raw), 3 * 0.04 * tr_c, rtol=1e-12)
    np.testing.assert_allclose(float(sym) / float(raw), onsager.expected_error_ratio(3), rtol=1e-12)


# ---------------------------------------------------------------------------- the trials


@pytest.mark.parametrize("n", [2, 3, 5])
def test_mean_error_ratio_is_n_plus_1_over_2n(key, n):
    """Random designs, m = 20, 4000 trials. The delta-method z-score is close to standard normal
    (the ratio's O(1/K) bias is 1/60 of its standard error), so a 3 sd band fails with probability
    0.27 % per n, 0.8 % for the three; and with this fixed key it is a fixed outcome."""
    L = onsager.random_onsager_matrix(jax.random.fold_in(key, n), n)
    result = onsager.onsager_trials(jax.random.fold_in(key, 10 + n), L, 4000, 20, 0.1)
    assert result.raw.shape == result.symmetrized.shape == (4000,)
    assert result.expected == (n + 1) / (2 * n)
    assert abs(float(result.ratio) - result.expected) < 3 * float(result.ratio_se)
    assert float(result.ratio_se) < 0.01  # the test can tell (n+1)/(2n) from its neighbours
    assert not result.any_rose
    assert bool(jnp.all(result.symmetrized <= result.raw * (1 + 1e-12)))


def test_fixed_design_means_match_the_closed_forms(key):
    """With a fixed design X each mean squared error is exact: n s^2 tr C and (n+1) s^2 tr C / 2.
    3000 trials; each z-test at 3.5 sd fails with probability 5e-4 (the errors are weighted sums of
    chi-squares, so their means are close to normal at this K)."""
    n, m, sigma = 3, 6, 0.5
    L = onsager.random_onsager_matrix(key, n)
    X = jax.random.normal(jax.random.fold_in(key, 5), (n, m))
    result = onsager.onsager_trials(jax.random.fold_in(key, 6), L, 3000, m, sigma, X=X)
    expected = onsager.expected_squared_errors(X, sigma)
    for errors, mean in zip((result.raw, result.symmetrized), expected, strict=True):
        se = float(jnp.std(errors, ddof=1)) / np.sqrt(errors.shape[0])
        assert abs(float(jnp.mean(errors)) - float(mean)) < 3.5 * se
    assert not result.any_rose


def test_trials_are_deterministic_and_work_in_float32(key):
    L = onsager.random_onsager_matrix(key, 2).astype(jnp.float32)
    a = onsager.onsager_trials(jax.random.fold_in(key, 7), L, 500, 12, 0.1)
    b = onsager.onsager_trials(jax.random.fold_in(key, 7), L, 500, 12, 0.1)
    assert a.raw.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(a.raw), np.asarray(b.raw))
    assert not a.any_rose
    assert abs(float(a.ratio) - 0.75) < 4 * float(a.ratio_se)


# ----------------------------------------------------------------------------- bad input


def test_bad_input_raises(key):
    L = onsager.random_onsager_matrix(key, 3)
    X, J = onsager.response_data(key, L, 6, 0.1)
    with pytest.raises(ValueError, match="n must be an integer"):
        onsager.random_onsager_matrix(key, 0)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 3"):
        onsager.response_data(key, L, 2, 0.1)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        onsager.response_data(key, L, 6, -0.1)
    with pytest.raises(ValueError, match="square matrix"):
        onsager.response_data(key, jnp.ones((2, 3)), 6, 0.1)
    with pytest.raises(ValueError, match="fewer measurements"):
        onsager.least_squares_response(X[:, :2], J[:, :2])
    with pytest.raises(ValueError, match="J must have the shape of X"):
        onsager.least_squares_response(X, J[:, :5])
    with pytest.raises(ValueError, match="full row rank"):
        onsager.least_squares_response(jnp.ones((3, 6)), J)
    with pytest.raises(ValueError, match="NaN or infinite"):
        onsager.least_squares_response(X, J.at[0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="square matrix"):
        onsager.symmetrize(jnp.ones(3))
    with pytest.raises(ValueError, match="real numbers"):
        onsager.symmetrize(jnp.ones((2, 2), dtype=jnp.complex128))
    with pytest.raises(ValueError, match="exactly symmetric"):
        onsager.estimation_errors(L, L.at[0, 1].add(1e-3))
    with pytest.raises(ValueError, match="one shape"):
        onsager.estimation_errors(jnp.ones((2, 2)), L)
    with pytest.raises(ValueError, match="n_trials must be an integer >= 2"):
        onsager.onsager_trials(key, L, 1, 6, 0.1)
    with pytest.raises(ValueError, match="n_trials must be an integer"):
        onsager.onsager_trials(key, L, True, 6, 0.1)
    with pytest.raises(ValueError, match="exactly symmetric"):
        onsager.onsager_trials(key, L.at[0, 1].add(1.0), 10, 6, 0.1)
    with pytest.raises(ValueError, match="n = 3 rows"):
        onsager.onsager_trials(key, L, 10, 6, 0.1, X=jnp.eye(2, 6))
    with pytest.raises(ValueError, match="noise must be"):
        onsager.expected_squared_errors(X, float("nan"))
