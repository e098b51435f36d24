"""Tests of physml.frontiers.slt: free energies against exact integrals, and measured learning coefficients.

The oracles, each independent of the module's b-integral and a-ladder:

- regular model, Gaussian prior: the closed-form Gaussian integral;
- singular model: it depends on (a, b) only through c = ab, whose prior density is
  K_0(|c|/s^2)/(pi s^2), so F_n is a 1-D integral over c (scipy quad, log singularity at 0);
- small n: brute-force 2-D quadrature over (a, b).
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
import scipy.integrate
import scipy.special

from physml.frontiers import slt

TRUTH = {"regular": (1.0, 0.5), "curve": (1.0, 1.0), "crossing": (0.0, 0.0)}
SWEEP_NS = np.unique(np.round(np.logspace(2, 6, 13)).astype(int))  # 100 ... 10^6


# ---------------------------------------------------------------------------------- oracles


def _regular_closed_form(model, data, n):
    """F_n - n L_n(w_hat) = 1/2 ln det(I + s^2 A) + 1/2 w_hat^T A (I + s^2 A)^{-1} w_hat, A = G / sigma^2."""
    x, y = data.x[:n], data.y[:n]
    f = np.stack((x, x * x), axis=-1)
    a = f.T @ f / model.sigma**2
    w = np.linalg.solve(f.T @ f, f.T @ y)
    m = np.eye(2) + model.prior_scale**2 * a
    return 0.5 * np.linalg.slogdet(m)[1] + 0.5 * w @ a @ np.linalg.solve(m, w)


def _regular_wbic_closed_form(model, data, n):
    """E_beta[n L_n - n L_n(w_hat)] for the Gaussian posterior at beta = 1/ln n."""
    x, y = data.x[:n], data.y[:n]
    f = np.stack((x, x * x), axis=-1)
    a = f.T @ f / model.sigma**2
    w = np.linalg.solve(f.T @ f, f.T @ y)
    beta = 1 / math.log(n)
    cov = np.linalg.inv(beta * a + np.eye(2) / model.prior_scale**2)
    d = cov @ (beta * a @ w) - w
    return 0.5 * (np.trace(a @ cov) + d @ a @ d)


def _product_prior(model, data, n, beta=1.0):
    """-ln int e^{-beta Delta(c)} p(c) dc and the mean of Delta under e^{-beta Delta} p, where
    Delta = K (c - c_hat)^2 / 2 sigma^2 and p(c) = K_0(|c|/s^2) / pi s^2."""
    x, y = data.x[:n], data.y[:n]
    k, s2 = x @ x, model.prior_scale**2
    c_hat, width = (x @ y) / k, model.sigma / math.sqrt(beta * k)
    delta = lambda c: k * (c - c_hat) ** 2 / (2 * model.sigma**2)
    weight = lambda c: math.exp(-beta * delta(c)) * scipy.special.k0(abs(c) / s2) / (math.pi * s2)
    lo, hi = c_hat - 40 * width, c_hat + 40 * width
    points = [p for p in (0.0, c_hat) if lo < p < hi]
    opts = dict(points=points, epsabs=0, epsrel=1e-13, limit=500)
    z = scipy.integrate.quad(weight, lo, hi, **opts)[0]
    e = scipy.integrate.quad(lambda c: delta(c) * weight(c), lo, hi, **opts)[0]
    return -math.log(z), e / z


def _brute_force_2d(model, data, n):
    """-ln of the 2-D integral of e^{-(n L_n - n L_n(w_hat))} phi(a) phi(b) over |a|, |b| < 10 s."""
    x, y = data.x[:n], data.y[:n]
    if model.kind == "regular":
        f = np.stack((x, x * x), axis=-1)
        mean = lambda a, b: f @ np.array([a, b])
        best = np.linalg.lstsq(f, y, rcond=None)[0]
    else:
        mean = lambda a, b: a * b * x
        c = (x @ y) / (x @ x)
        best = (math.sqrt(abs(c)), math.copysign(math.sqrt(abs(c)), c))
    nl = lambda a, b: float(np.sum((y - mean(a, b)) ** 2)) / (2 * model.sigma**2)
    s, nl_hat = model.prior_scale, nl(*best)
    integrand = lambda b, a: (
        math.exp(-(nl(a, b) - nl_hat) - (a * a + b * b) / (2 * s * s)) / (2 * math.pi * s * s)
    )
    z = scipy.integrate.dblquad(integrand, -10 * s, 10 * s, -10 * s, 10 * s, epsabs=0, epsrel=1e-11)[0]
    return -math.log(z), nl_hat


def _excess(result):
    return result.free_energy - result.nL_hat


# ---------------------------------------------------------------------------- the free energy


@pytest.mark.parametrize(("sigma", "prior_scale"), [(1.0, 1.0), (0.3, 2.0), (2.0, 0.5)])
def test_regular_free_energy_matches_the_gaussian_closed_form_up_to_a_million_samples(
    key, sigma, prior_scale
):
    model = slt.regular_model(sigma=sigma, prior_scale=prior_scale)
    data = slt.sample_data(key, model, 10**6, truth=TRUTH["regular"])
    ns = np.array([2, 3, 10, 1000, 10**5, 10**6])
    excess = _excess(slt.free_energy(model, data, ns))
    exact = np.array([_regular_closed_form(model, data, n) for n in ns])
    np.testing.assert_allclose(excess, exact, rtol=1e-8)


@pytest.mark.parametrize("truth", [TRUTH["curve"], TRUTH["crossing"], (0.1, 0.1), (3.0, -4.0)])
@pytest.mark.parametrize(("sigma", "prior_scale"), [(1.0, 1.0), (0.2, 0.3), (1.0, 3.0)])
def test_singular_free_energy_matches_the_product_prior_integral(key, truth, sigma, prior_scale):
    # Measured agreement: 1e-11 or better in every case, n = 2 ... 10^6.
    model = slt.singular_model(sigma=sigma, prior_scale=prior_scale)
    data = slt.sample_data(key, model, 10**6, truth=truth)
    ns = np.array([2, 10, 100, 10**4, 10**6])
    excess = _excess(slt.free_energy(model, data, ns))
    exact = np.array([_product_prior(model, data, n)[0] for n in ns])
    np.testing.assert_allclose(excess, exact, rtol=1e-9)


@pytest.mark.parametrize(
    ("kind", "truth", "n"),
    [("regular", TRUTH["regular"], 5), ("singular", TRUTH["curve"], 8), ("singular", TRUTH["crossing"], 20)],
)
def test_closed_form_b_integral_matches_brute_force_2d_quadrature(key, kind, truth, n):
    model = slt.Model(kind, 0.7, 1.3)
    data = slt.sample_data(key, model, n, truth=truth)
    fe = slt.free_energy(model, data, n)
    excess, nl_hat = _brute_force_2d(model, data, n)
    nl_hat += 0.5 * n * math.log(2 * math.pi * model.sigma**2)
    np.testing.assert_allclose(fe.nL_hat, nl_hat, rtol=1e-10)
    np.testing.assert_allclose(fe.free_energy - fe.nL_hat, excess, rtol=1e-8)


def test_singular_free_energy_approaches_the_regular_model_in_c_with_a_bessel_prior(key):
    # For c != 0: F_n - n L_n(w_hat) -> 1/2 ln(G / 2 pi sigma^2) - ln p(c_hat), p(c) = K_0(|c|/s^2)/pi s^2:
    # the model is regular in c = ab with the induced prior on the product. Measured: the gap falls
    # as 1/n (-1.3e-3 at n = 100, -1.3e-7 at 10^6; fitted order -1.00).
    model = slt.singular_model(sigma=0.5, prior_scale=1.5)
    data = slt.sample_data(key, model, 10**6, truth=TRUTH["curve"])
    ns = 10 ** np.arange(2, 7)
    gaps = []
    for n in ns:
        x, y = data.x[:n], data.y[:n]
        k, s2 = x @ x, model.prior_scale**2
        log_prior = math.log(scipy.special.k0(abs((x @ y) / k) / s2) / (math.pi * s2))
        limit = 0.5 * math.log(k / (2 * math.pi * model.sigma**2)) - log_prior
        gaps.append(abs(float(_excess(slt.free_energy(model, data, int(n)))) - limit))
    assert gaps[-1] < 1e-6
    order = np.polyfit(np.log(ns), np.log(gaps), 1)[0]
    assert -1.1 < order < -0.9, order


def test_free_energy_shapes_order_and_repeats(key):
    model = slt.singular_model()
    data = slt.sample_data(key, model, 500, truth=TRUTH["curve"])
    fe = slt.free_energy(model, data, np.array([300, 20, 300, 7]))
    assert fe.free_energy.shape == fe.nL_hat.shape == (4,)
    assert fe.free_energy[0] == fe.free_energy[2]
    np.testing.assert_allclose(fe.free_energy[1], slt.free_energy(model, data, 20).free_energy, rtol=1e-14)
    assert np.ndim(slt.free_energy(model, data, 20).free_energy) == 0
    # F_n - n L_n(w_hat) = -ln E_prior[exp(-(n L_n - n L_n(w_hat)))] >= 0
    assert np.all(fe.free_energy > fe.nL_hat)
    other = slt.sample_data(key, model, 500, truth=TRUTH["curve"], index=1)
    both = slt.RegressionData(np.stack((data.x, other.x)), np.stack((data.y, other.y)))
    fe2 = slt.free_energy(model, both, np.array([300, 20, 300, 7]))
    assert fe2.free_energy.shape == (2, 4)
    np.testing.assert_array_equal(fe2.free_energy[0], fe.free_energy)
    assert np.all(fe2.free_energy[1] != fe.free_energy)


def test_sweep_rows_are_the_indexed_data_sets_and_samples_are_nested(key):
    model = slt.regular_model()
    ns = np.array([10, 100, 5000])
    sw = slt.sweep(key, model, ns, 3, truth=TRUTH["regular"])
    assert sw.free_energy.shape == sw.nL_hat.shape == sw.nL_true.shape == sw.wbic.shape == (3, 3)
    for r in range(3):
        data = slt.sample_data(key, model, 5000, truth=TRUTH["regular"], index=r)
        fe = slt.free_energy(model, data, ns)
        np.testing.assert_allclose(sw.free_energy[r], fe.free_energy, rtol=1e-13)
        loss = [slt.empirical_loss(model, data, int(n), *TRUTH["regular"]) for n in ns]
        np.testing.assert_allclose(sw.nL_true[r], loss, rtol=1e-12)
    short = slt.sample_data(key, model, 40000, truth=TRUTH["regular"], index=1)
    np.testing.assert_array_equal(
        short.x[:5000], slt.sample_data(key, model, 5000, truth=TRUTH["regular"], index=1).x
    )


def test_data_are_the_same_in_float32_and_float64_mode(key):
    model = slt.singular_model(sigma=0.5)
    data = slt.sample_data(key, model, 1000, truth=TRUTH["curve"])
    with jax.enable_x64(False):
        data32 = slt.sample_data(key, model, 1000, truth=TRUTH["curve"])
    assert data.x.dtype == data32.x.dtype == np.float64
    np.testing.assert_array_equal(data.x, data32.x)
    np.testing.assert_array_equal(data.y, data32.y)


def test_noise_has_the_stated_variance(key):
    # 10^5 residuals: the sample variance of N(0, 0.3^2) has relative sd sqrt(2/10^5) = 0.0045;
    # a 5 sd band fails with probability 6e-7.
    model = slt.singular_model(sigma=0.3)
    data = slt.sample_data(key, model, 10**5, truth=(2.0, -1.5))
    var = np.var(data.y + 3.0 * data.x)
    assert abs(var / 0.09 - 1) < 5 * math.sqrt(2 / 10**5)


def test_empirical_loss_is_minimal_at_the_fitted_point(key):
    model = slt.singular_model()
    data = slt.sample_data(key, model, 200, truth=TRUTH["curve"])
    fe = slt.free_energy(model, data, 200)
    lap = slt.laplace_free_energy(model, data, 200)
    a, b = lap.mle
    np.testing.assert_allclose(slt.empirical_loss(model, data, 200, a, b), fe.nL_hat, rtol=1e-13)
    # every point of the curve ab = c_hat is a minimum: the valley is flat
    t = np.array([0.3, 1.0, 4.0])
    np.testing.assert_allclose(slt.empirical_loss(model, data, 200, a * t, b / t), fe.nL_hat, rtol=1e-13)
    assert np.all(slt.empirical_loss(model, data, 200, a * 1.01, b) > fe.nL_hat)


# ------------------------------------------------------------------------------ WBIC, Laplace


def test_wbic_matches_exact_tempered_posterior_means(key):
    reg = slt.regular_model(sigma=0.5)
    data = slt.sample_data(key, reg, 10**5, truth=TRUTH["regular"])
    ns = np.array([2, 10, 1000, 10**5])
    fe = slt.free_energy(reg, data, ns)
    exact = [_regular_wbic_closed_form(reg, data, n) for n in ns]
    np.testing.assert_allclose(slt.wbic(reg, data, ns) - fe.nL_hat, exact, rtol=1e-9)
    for truth in (TRUTH["curve"], TRUTH["crossing"]):
        sing = slt.singular_model(prior_scale=2.0)
        data = slt.sample_data(key, sing, 10**5, truth=truth)
        fe = slt.free_energy(sing, data, ns)
        exact = [_product_prior(sing, data, n, beta=1 / math.log(n))[1] for n in ns]
        np.testing.assert_allclose(slt.wbic(sing, data, ns) - fe.nL_hat, exact, rtol=1e-9)


def test_laplace_is_exact_to_order_one_over_n_for_the_regular_model(key):
    # F_n - F_Laplace = O(1/n): the order from a log-log slope over n = 10^2 ... 10^5 (measured -0.95).
    model = slt.regular_model()
    data = slt.sample_data(key, model, 10**5, truth=TRUTH["regular"])
    ns = np.array([100, 1000, 10**4, 10**5])
    error = np.abs(
        slt.free_energy(model, data, ns).free_energy - slt.laplace_free_energy(model, data, ns).free_energy
    )
    order = np.polyfit(np.log(ns), np.log(error), 1)[0]
    assert -1.15 < order < -0.85, order


def test_laplace_breaks_down_for_the_singular_model(key):
    model = slt.singular_model()
    for truth in (TRUTH["curve"], TRUTH["crossing"]):
        data = slt.sample_data(key, model, 1000, truth=truth)
        lap = slt.laplace_free_energy(model, data, np.array([10, 1000]))
        assert np.all(lap.free_energy == -np.inf)
        assert np.all(lap.hessian_eigenvalues[:, 0] == 0)
        # the other eigenvalue, (a^2 + b^2) G / n sigma^2, against a finite-difference Hessian
        a, b = lap.mle[1]
        h = 1e-4
        loss = lambda da, db, data=data, a=a, b=b: (
            slt.empirical_loss(model, data, 1000, a + da, b + db) / 1000
        )
        hess = np.array(
            [
                [
                    (loss(h, 0) - 2 * loss(0, 0) + loss(-h, 0)) / h**2,
                    (loss(h, h) - loss(h, -h) - loss(-h, h) + loss(-h, -h)) / (4 * h * h),
                ],
                [0.0, (loss(0, h) - 2 * loss(0, 0) + loss(0, -h)) / h**2],
            ]
        )
        hess[1, 0] = hess[0, 1]
        np.testing.assert_allclose(np.linalg.eigvalsh(hess)[1], lap.hessian_eigenvalues[1, 1], rtol=1e-5)
        assert abs(np.linalg.det(hess)) < 1e-5 * lap.hessian_eigenvalues[1, 1] ** 2


# ------------------------------------------------------------------- the learning coefficient


def test_learning_coefficient_recovers_an_exact_law():
    ns = np.array([10, 100, 1000, 10**4, 10**5])
    excess = 0.7 * np.log(ns) - np.log(np.log(ns)) + 3.0
    fit = slt.learning_coefficient(ns, excess, multiplicity=2)
    assert abs(fit.slope - 0.7) < 1e-12 and abs(fit.intercept - 3.0) < 1e-11 and fit.stderr < 1e-12
    assert slt.learning_coefficient(ns, excess).slope < 0.7 - 0.05
    rows = np.stack((excess, excess + 0.1 * np.log(ns)))
    fit = slt.learning_coefficient(ns, rows, multiplicity=2)
    np.testing.assert_allclose(fit.slopes, [0.7, 0.8], rtol=1e-12)
    assert abs(fit.slope - 0.75) < 1e-12 and abs(fit.stderr - 0.05) < 1e-12


# The sweeps below: 8 data sets, n = 100 ... 10^6 (13 values, nested). Measured with this key:
#   regular   lambda = 1.009 +- 0.006 (per-set slopes 0.973 ... 1.024),
#   c = 1     lambda = 0.508 +- 0.005 (0.489 ... 0.524),
#   c = 0     lambda = 0.390 +- 0.007 with m = 1 (biased by -ln ln n), 0.506 +- 0.007 with m = 2.
# Over 32 data sets the per-set slopes have sd 0.021 (regular), 0.013 (c = 1), 0.016 (c = 0), so
# each band is at least 6.7 standard errors of an 8-set mean from the expected value:
# false-failure rate < 1e-10.


def _excess_sweep(kind, truth, key):
    model = slt.regular_model() if kind == "regular" else slt.singular_model()
    sw = slt.sweep(key, model, SWEEP_NS, 8, truth=truth)
    return sw.free_energy - sw.nL_hat


def test_regular_learning_coefficient_is_d_over_2(key):
    fit = slt.learning_coefficient(SWEEP_NS, _excess_sweep("regular", TRUTH["regular"], key))
    assert abs(fit.slope - 1.0) < 0.05, fit


def test_singular_learning_coefficient_is_one_half_and_bic_is_wrong(key):
    fit = slt.learning_coefficient(SWEEP_NS, _excess_sweep("singular", TRUTH["curve"], key))
    assert abs(fit.slope - 0.5) < 0.05, fit
    assert abs(2 / 2 - fit.slope) > 0.3  # BIC's d/2 = 1


def test_normal_crossing_needs_the_log_log_term(key):
    excess = _excess_sweep("singular", TRUTH["crossing"], key)
    fit = slt.learning_coefficient(SWEEP_NS, excess, multiplicity=2)
    naive = slt.learning_coefficient(SWEEP_NS, excess)
    assert abs(fit.slope - 0.5) < 0.05, fit
    assert naive.slope < 0.45, naive  # ignoring -(m - 1) ln ln n biases the slope down


# ----------------------------------------------------------------------------------- bad input


def test_bad_input_raises_value_error(key):
    model = slt.singular_model()
    data = slt.sample_data(key, model, 50, truth=TRUTH["curve"])
    with pytest.raises(ValueError, match="sigma"):
        slt.singular_model(sigma=-1.0)
    with pytest.raises(ValueError, match="prior_scale"):
        slt.regular_model(prior_scale=0.0)
    with pytest.raises(ValueError, match="model"):
        slt.free_energy(slt.Model("quadratic"), data, 10)
    with pytest.raises(ValueError, match="sigma"):
        slt.free_energy(slt.Model("regular", float("nan")), data, 10)
    for n in (0, 1, -5, 51, 2.5, np.array([[10]])):
        with pytest.raises(ValueError, match="n must be"):
            slt.free_energy(model, data, n)
    with pytest.raises(ValueError, match="same shape"):
        slt.free_energy(model, slt.RegressionData(data.x, data.y[:40]), 10)
    with pytest.raises(ValueError, match="same shape"):
        slt.free_energy(model, slt.RegressionData(data.x[None, None], data.y[None, None]), 10)
    with pytest.raises(ValueError, match="RegressionData"):
        slt.free_energy(model, (data.x, data.y), 10)
    bad = data.y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        slt.wbic(model, slt.RegressionData(data.x, bad), 10)
    later_nan = slt.RegressionData(data.x, np.where(np.arange(50) >= 20, np.nan, data.y))
    assert np.isfinite(slt.free_energy(model, later_nan, 20).free_energy)  # only the first n are used
    for truth in ((1.0,), 1.0, (1.0, 2.0, 3.0), ("a", 1.0)):
        with pytest.raises(ValueError, match="truth"):
            slt.sample_data(key, model, 10, truth=truth)
    with pytest.raises(ValueError, match="truth"):
        slt.sample_data(key, model, 10, truth=(1.0, float("inf")))
    with pytest.raises(ValueError, match="n \\(the sample size\\)"):
        slt.sample_data(key, model, 1, truth=TRUTH["curve"])
    with pytest.raises(ValueError, match="repeats"):
        slt.sweep(key, model, [10, 20], 0, truth=TRUTH["curve"])
    with pytest.raises(ValueError, match="ns must be"):
        slt.sweep(key, model, [1, 20], 2, truth=TRUTH["curve"])


def test_bad_fits_raise_value_error():
    ns = np.array([10, 100, 1000])
    with pytest.raises(ValueError, match="multiplicity"):
        slt.learning_coefficient(ns, np.log(ns), multiplicity=0)
    with pytest.raises(ValueError, match="at least 3"):
        slt.learning_coefficient(ns[:2], np.log(ns[:2]))
    with pytest.raises(ValueError, match=">= 2"):
        slt.learning_coefficient(np.array([1, 10, 100]), np.log(ns), multiplicity=2)
    with pytest.raises(ValueError, match="excess must be"):
        slt.learning_coefficient(ns, np.log(ns)[:2])
    with pytest.raises(ValueError, match="excess must be"):
        slt.learning_coefficient(ns, np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="excess must be"):
        slt.learning_coefficient(ns, np.array([1.0, -np.inf, 2.0]))
