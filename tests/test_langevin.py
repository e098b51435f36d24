"""physml.langevin against exact results: the discrete-time stationary laws of ULA (closed
form for a harmonic loss, an exact transfer operator for a double well), MALA's detailed
balance, annealing against gradient descent, the exact second-moment equation of SGD, and
Jarzynski's equality with closed-form free energies.

Statistical tests use fixed keys. Each states its false-failure rate for a correct
implementation: z-scores are compared with 3.29 (two-sided 1e-3) per quantity, χ² p-values
with 1e-3; where a test makes several comparisons the rates add.
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

from physml import langevin as lv

Z = 3.29  # two-sided normal quantile for a false-failure rate of 1e-3


def harmonic(k):
    return lambda theta: 0.5 * k * theta @ theta


def chain_variance(samples):
    """Mean of θ² over each column's samples, then over columns: value and standard error.
    Rows are times, columns independent chains (or independent coordinates)."""
    per_chain = np.mean(np.asarray(samples) ** 2, axis=0)
    return per_chain.mean(), per_chain.std(ddof=1) / math.sqrt(per_chain.size)


# ------------------------------------------------------------------------ ULA and MALA


def ula_harmonic_variance(dt, k=1.0, beta=1.0, coordinates=16384, time=300.0, seed=0):
    """Stationary variance of ULA on L = k|θ|²/2 in many dimensions: the coordinates are
    independent chains. Recorded once per relaxation time 1/k of the dynamics; run in
    float32 (twice as fast; rounding is 1e-7 of a bias of 1e-2), averaged in float64."""
    sampler = lv.ula(harmonic(k), dt, beta)
    k_init, k_run = jax.random.split(jax.random.key(seed))
    x0 = jax.random.normal(k_init, (coordinates,), jnp.float32) / math.sqrt(beta * k)
    thin = max(1, round(1 / (k * dt)))
    n_steps = thin * round(time / (dt * thin))
    _, trace = lv.run(k_run, sampler.step, sampler.init(x0), n_steps, burn_in=round(10 / (k * dt)), thin=thin)
    return chain_variance(np.asarray(trace.position, dtype=np.float64))


@pytest.mark.slow
def test_ula_harmonic_variance_matches_the_discrete_time_formula_and_its_bias_is_first_order():
    r"""ULA on L = kθ²/2 is θ' = (1 - k dt)θ + sqrt(2dt/β)ξ; its stationary variance solves
    v = (1 - k dt)² v + 2dt/β, v = 1/(βk(1 - k dt/2)). At each of four step sizes the
    measured variance matches v (|z| < 3.29, four comparisons: false failure 4e-3), and the
    bias v - 1/(βk) falls like dt: the log-log slope fitted over k dt = 0.025 ... 0.2 is
    1.044 for the exact formula (the O(dt²) term bends it up), measured within 1 ± 0.15.
    The slope's statistical error, propagated from the four biases, is 0.025-0.028 (asserted
    below 0.035), so 1.15 is about four of them from 1.044 (false failure < 1e-4)."""
    k, beta = 1.0, 2.0
    dts = np.array([0.025, 0.05, 0.1, 0.2])
    bias, relative_error = [], []
    for i, dt in enumerate(dts):
        v, err = ula_harmonic_variance(dt, k, beta, seed=i)
        exact = 1 / (beta * k * (1 - k * dt / 2))
        assert abs(v - exact) < Z * err, (dt, v, exact, err)
        bias.append(v - 1 / (beta * k))
        relative_error.append(err / bias[-1])
    log_dt = np.log(dts)
    weights = (log_dt - log_dt.mean()) / np.sum((log_dt - log_dt.mean()) ** 2)
    assert math.sqrt(np.sum(weights**2 * np.array(relative_error) ** 2)) < 0.035
    slope = np.polyfit(log_dt, np.log(bias), 1)[0]
    assert 0.85 < slope < 1.15, (slope, bias)


def test_mala_is_unbiased_where_ula_is_far_off():
    """At k dt = 1.5, ULA's stationary variance is 1/(βk(1 - 0.75)), four times the exact
    1/(βk); MALA samples the exact one (|z| < 3.29: false failure 1e-3) and accepts about
    63% of its proposals. 2048 independent chains of 1-D MALA."""
    k, beta, dt = 1.0, 1.0, 1.5
    sampler = lv.mala(harmonic(k), dt, beta)
    x0 = jax.random.normal(jax.random.key(3), (2048, 1))
    _, trace = lv.run_chains(jax.random.key(4), sampler, x0, 300, burn_in=30, thin=3)
    v, err = chain_variance(trace.position[..., 0].T)
    assert abs(v - 1 / (beta * k)) < Z * err, (v, err)
    assert err < 0.01
    assert 0.55 < float(jnp.mean(trace.accept_prob)) < 0.7
    assert trace.accepted.dtype == jnp.bool_


def test_mala_accepts_every_proposal_on_a_linear_loss():
    r"""For L = a·θ the Langevin proposal is itself reversible with respect to e^{-βa·θ}:
    the log acceptance ratio -βa·u + β a·u vanishes identically (u = θ' - θ)."""
    a = jnp.array([0.7, -1.3, 2.0])
    sampler = lv.mala(lambda th: a @ th, 0.37, 1.6)
    _, trace = lv.run(jax.random.key(0), sampler.step, sampler.init(jnp.zeros(3)), 200)
    np.testing.assert_allclose(np.asarray(trace.accept_prob), 1.0, atol=1e-12)
    assert bool(jnp.all(trace.accepted))


def test_mala_rejects_a_nan_proposal_and_stays():
    """A loss that is NaN beyond θ = 0.5: proposals there are rejected (acceptance 0), the
    chain never enters the region and its loss stays finite."""
    loss = lambda th: jnp.where(th[0] > 0.5, jnp.nan, 0.5 * th @ th)
    sampler = lv.mala(loss, 1.0, 1.0)
    _, trace = lv.run(jax.random.key(2), sampler.step, sampler.init(jnp.array([0.0])), 200)
    assert np.all(np.asarray(trace.position) <= 0.5) and np.all(np.isfinite(np.asarray(trace.loss)))
    rejected = np.asarray(trace.accept_prob) == 0.0
    assert rejected.sum() > 20 and not np.any(np.asarray(trace.accepted)[rejected])


def gibbs_bin_probabilities(loss, beta, edges):
    weight = lambda t: math.exp(-beta * float(loss(jnp.array([t]))))
    z = integrate.quad(weight, -5, 5, epsabs=0, epsrel=1e-12, limit=200)[0]
    inner = [
        integrate.quad(weight, a, b, epsabs=0, epsrel=1e-12)[0] / z for a, b in itertools.pairwise(edges)
    ]
    return np.array(
        [integrate.quad(weight, -5, edges[0])[0] / z, *inner, integrate.quad(weight, edges[-1], 5)[0] / z]
    )


def ula_bin_probabilities(grad, dt, beta, edges, half_width=2.4, h=0.0025):
    r"""The exact stationary law of the ULA chain in 1-D, from its transfer operator
    K(x -> x') = N(x'; x - dt L'(x), 2dt/β) discretized on cells of width h (midpoint rule,
    error O(h²)) of [-2.4, 2.4], and the stationary vector solved for directly. Returns its
    probability in each bin. For the double well at dt = 0.1, ULA maps this interval into
    itself (|x - dt L'(x)| <= 2.17; beyond |x| = 2.4 it overshoots and diverges, so the chain
    is only quasi-stationary), and its noise leaves it with probability < 1e-5 from where
    the law has its weight: renormalizing the rows drops that."""
    x = -half_width + (np.arange(round(2 * half_width / h)) + 0.5) * h
    mean = x - dt * grad(x)
    kernel = np.exp(-((x[None, :] - mean[:, None]) ** 2) / (4 * dt / beta))
    kernel /= kernel.sum(axis=1, keepdims=True)
    system = kernel.T - np.eye(x.size)
    system[-1] = 1.0
    pi = np.linalg.solve(system, np.r_[np.zeros(x.size - 1), 1.0])
    index = np.searchsorted(edges, x)
    return np.bincount(index, weights=pi, minlength=len(edges) + 1)


def chi2_pvalue(samples, edges, probabilities):
    counts = np.bincount(np.searchsorted(edges, samples), minlength=len(edges) + 1)
    expected = probabilities * samples.size
    keep = expected >= 5
    obs = np.r_[counts[keep], counts[~keep].sum()]
    exp = np.r_[expected[keep], expected[~keep].sum()]
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


EDGES = np.round(np.arange(-2.0, 2.0001, 0.2), 10)
WELL_BETA, WELL_DT = 2.0, 0.1


@pytest.fixture(scope="module")
def ula_double_well_samples():
    """4000 independent ULA chains on L = (θ² - 1)² at β = 2, dt = 0.1 (as one 4000-dimensional
    chain: the loss is a sum over coordinates), each run for 800 steps from uniform on
    [-1.5, 1.5]: one sample each. Time 80 is 19 relaxation times of the slowest mode, the
    hopping between wells (rate about 0.12 each way); the start is symmetric anyway."""
    sampler = lv.ula(lv.double_well, WELL_DT, WELL_BETA)
    x0 = jax.random.uniform(jax.random.key(21), (4000,), minval=-1.5, maxval=1.5)
    final, _ = lv.run(jax.random.key(22), sampler.step, sampler.init(x0), 800, thin=800)
    return np.asarray(final.position)


def test_mala_samples_the_double_well_exactly():
    """χ² of 4000 independent MALA chains (one final sample each, 800 steps at dt = 0.1 from
    uniform on [-1.5, 1.5]) against the exact Gibbs density e^{-βL}/Z by quadrature, on 20
    bins of width 0.2 and two tails. False failure 1e-3."""
    sampler = lv.mala(lv.double_well, WELL_DT, WELL_BETA)
    x0 = jax.random.uniform(jax.random.key(23), (4000, 1), minval=-1.5, maxval=1.5)
    final, _ = lv.run_chains(jax.random.key(24), sampler, x0, 800, thin=800)
    p = gibbs_bin_probabilities(lv.double_well, WELL_BETA, EDGES)
    assert chi2_pvalue(np.asarray(final.position[:, 0]), EDGES, p) > 1e-3


def test_ula_samples_its_own_discrete_time_law_not_the_gibbs_density(ula_double_well_samples):
    """The same χ² test: ULA at dt = 0.1 passes against the exact stationary law of its own
    discrete-time chain (transfer operator; false failure 1e-3) and fails against the Gibbs
    density (its wells are too wide by ~1/(1 - L''dt/2) = 1.7): the test has the power to
    see the O(dt) bias that MALA removes."""
    grad = lambda x: 4 * x * (x**2 - 1)
    samples = ula_double_well_samples
    assert chi2_pvalue(samples, EDGES, ula_bin_probabilities(grad, WELL_DT, WELL_BETA, EDGES)) > 1e-3
    assert chi2_pvalue(samples, EDGES, gibbs_bin_probabilities(lv.double_well, WELL_BETA, EDGES)) < 1e-6


def test_the_transfer_operator_oracle_tends_to_gibbs_as_dt_vanishes():
    """The oracle of the previous test is itself checked: its total-variation distance to the
    Gibbs law (on the test's bins) halves with dt, 0.0092 at dt = 0.008 and 0.0045 at
    0.004 (first order, the ULA bias), and is 0.18 at dt = 0.1 (and the same with cells half
    as wide: the grid is converged)."""
    grad = lambda x: 4 * x * (x**2 - 1)
    gibbs = gibbs_bin_probabilities(lv.double_well, WELL_BETA, EDGES)
    tv = lambda dt, h=0.0025: (
        0.5 * np.sum(np.abs(ula_bin_probabilities(grad, dt, WELL_BETA, EDGES, h=h) - gibbs))
    )
    assert tv(0.008) / tv(0.004) == pytest.approx(2.0, rel=0.05)
    assert tv(0.004) < 0.005
    assert tv(0.1) == pytest.approx(tv(0.1, 0.005), abs=1e-5)
    assert tv(0.1) > 0.15


def test_gradient_descent_is_ula_at_zero_temperature():
    loss = functools.partial(lv.double_well, tilt=0.3)
    grad = jax.grad(loss)
    theta = jnp.array([0.4, -1.7])
    gd = lv.gradient_descent(loss, 0.05)
    _, trace = lv.run(jax.random.key(0), gd.step, gd.init(theta), 30)
    for t in range(30):
        theta = theta - 0.05 * grad(theta)
        np.testing.assert_allclose(np.asarray(trace.position[t]), np.asarray(theta), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(trace.loss[-1]), float(loss(theta)), rtol=1e-13)
    np.testing.assert_array_equal(np.asarray(trace.count), np.arange(1, 31))


# ------------------------------------------------------------------------------- run


def test_run_records_the_same_path_whatever_burn_in_and_thinning():
    sampler = lv.ula(harmonic(2.0), 0.1, 3.0)
    state = sampler.init(jnp.array([0.3, -0.2]))
    key = jax.random.key(5)
    final, full = lv.run(key, sampler.step, state, 60)
    final_b, thinned = lv.run(key, sampler.step, state, 48, burn_in=12, thin=4)
    np.testing.assert_array_equal(np.asarray(thinned.position), np.asarray(full.position[15::4]))
    np.testing.assert_array_equal(np.asarray(final_b.position), np.asarray(final.position))
    assert thinned.position.shape == (12, 2)
    _, only = lv.run(key, sampler.step, state, 60, thin=60)
    np.testing.assert_array_equal(np.asarray(only.position[0]), np.asarray(final.position))


def test_run_chains_uses_one_split_key_per_chain():
    sampler = lv.mala(harmonic(1.0), 0.5, 1.0)
    x0 = jnp.array([[0.1], [-0.4], [2.0]])
    _, traces = lv.run_chains(jax.random.key(9), sampler, x0, 10)
    assert traces.position.shape == (3, 10, 1) and traces.accept_prob.shape == (3, 10)
    k = jax.random.split(jax.random.key(9), 3)[2]
    _, one = lv.run(k, sampler.step, sampler.init(x0[2]), 10)
    np.testing.assert_array_equal(np.asarray(traces.position[2]), np.asarray(one.position))


def test_float32_positions_stay_float32():
    sampler = lv.mala(lv.double_well, 0.1, lv.geometric_schedule(1.0, 10.0, 20))
    final, trace = lv.run(jax.random.key(0), sampler.step, sampler.init(jnp.zeros(2, jnp.float32)), 20)
    assert final.position.dtype == jnp.float32 and trace.loss.dtype == jnp.float32
    ula = lv.ula(lv.double_well, 0.1, lv.logarithmic_schedule(1.0))
    final, _ = lv.run(jax.random.key(0), ula.step, ula.init(jnp.zeros(2, jnp.float32)), 20)
    assert final.position.dtype == jnp.float32


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lv.ula(harmonic(1.0), 0.0), "step_size"),
        (lambda: lv.ula(harmonic(1.0), 0.1, -1.0), "beta"),
        (lambda: lv.mala(harmonic(1.0), 0.1, math.inf), "finite"),
        (lambda: lv.ula(harmonic(1.0), 0.1).init(jnp.zeros((2, 2))), "shape"),
        (lambda: lv.ula(harmonic(1.0), 0.1).init(jnp.zeros(2, jnp.int32)), "float"),
        (lambda: lv.run(jax.random.key(0), lambda k, s: s, 0.0, 10, thin=3), "multiple"),
        (lambda: lv.run(jax.random.key(0), lambda k, s: s, 0.0, 0), "n_steps"),
        (lambda: lv.run(jax.random.key(0), lambda k, s: s, 0.0, 5, burn_in=-1), "burn_in"),
        (lambda: lv.run_chains(jax.random.key(0), lv.ula(harmonic(1.0), 0.1), jnp.zeros(3), 5), "chains"),
        (lambda: lv.geometric_schedule(0.0, 1.0, 10), "positive"),
        (lambda: lv.linear_schedule(1.0, 2.0, 1), "n_steps"),
        (lambda: lv.logarithmic_schedule(1.0, 0.0), "time_scale"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- annealing


def test_schedules_start_and_end_where_they_say():
    geo = lv.geometric_schedule(0.5, 20.0, 101)
    lin = lv.linear_schedule(0.5, 20.0, 101)
    t = jnp.arange(0, 200)
    for s in (geo, lin):
        b = np.asarray(s(t))
        assert b[0] == pytest.approx(0.5, rel=1e-14) and b[100] == pytest.approx(20.0, rel=1e-14)
        assert np.all(np.diff(b[:101]) > 0) and np.all(b[100:] == b[100])
    np.testing.assert_allclose(np.diff(np.log(np.asarray(geo(t[:101])))), math.log(40) / 100, rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.asarray(lin(t[:101]))), 19.5 / 100, rtol=1e-12)
    log = lv.logarithmic_schedule(2.0, 10.0)
    assert float(log(0)) == pytest.approx(2.0, rel=1e-14)
    assert float(log(100)) == pytest.approx(2.0 * math.log(math.e + 10), rel=1e-14)


def test_annealing_escapes_the_local_minimum_where_gradient_descent_stays():
    r"""L(θ) = (θ² - 1)² + 0.5 θ: a local minimum near θ = 0.93 (L = 0.48) and the global one
    near θ = -1.06 (L = -0.51), a barrier 0.55 above the local one. From the local minimum,
    gradient descent (dt = 0.02) converges to it; ULA with β rising geometrically from 0.5
    to 20 over 10⁴ steps of dt = 0.02 ends in the global well in 98% of runs (measured on
    4000 runs with another key). Of 1000 independent runs at least 950 must end there; for a
    success rate of 0.98 the binomial chance of fewer is below 1e-6."""
    loss = functools.partial(lv.double_well, tilt=0.5)
    roots = np.roots([4.0, 0.0, -4.0, 0.5])
    real = np.sort(roots[np.abs(roots.imag) < 1e-12].real)
    global_min, barrier, local_min = real
    assert float(loss(jnp.array([global_min]))) < float(loss(jnp.array([local_min]))) - 0.9
    start = jnp.full(1000, local_min + 0.05)  # each coordinate an independent run
    gd = lv.gradient_descent(loss, 0.02)
    final_gd, _ = lv.run(jax.random.key(0), gd.step, gd.init(start), 10_000, thin=10_000)
    np.testing.assert_allclose(np.asarray(final_gd.position), local_min, atol=1e-10)
    n = 10_000
    annealer = lv.ula(loss, 0.02, lv.geometric_schedule(0.5, 20.0, n))
    final, _ = lv.run(jax.random.key(1), annealer.step, annealer.init(start), n, thin=n)
    x = np.asarray(final.position)
    assert np.sum(x < barrier) >= 950
    assert np.median(np.abs(x[x < barrier] - global_min)) < 0.1  # thermal width at β = 20: 0.07
    assert stats.binom.cdf(949, 1000, 0.98) < 1e-6


# --------------------------------------------------------------------------------- SGD


def test_exact_sgd_covariance_matches_an_enumeration_of_the_batches():
    r"""The exact equation of predict_sgd_covariance against an independent computation:
    iterate Σ -> E[(I - ηA)Σ(I - ηA)ᵀ] + η² E[bbᵀ] to its fixed point, the expectations
    taken by enumerating all N^B batches (with replacement) of a 5-point data set."""
    x = np.array([[1.0, 0.2], [-0.5, 1.1], [0.3, -0.7], [1.4, 0.9], [-1.2, -0.3]])
    y = np.array([0.7, -0.2, 1.3, 0.1, -0.9])
    eta, B = 0.3, 2
    w, *_ = np.linalg.lstsq(x, y, rcond=None)
    r = x @ w - y
    maps = []
    for batch in itertools.product(range(5), repeat=B):
        A = sum(np.outer(x[i], x[i]) for i in batch) / B
        b = -sum(r[i] * x[i] for i in batch) / B
        maps.append((np.eye(2) - eta * A, eta * b))
    sigma = np.zeros((2, 2))
    for _ in range(3000):
        sigma = sum(m @ sigma @ m.T + np.outer(c, c) for m, c in maps) / len(maps)
    np.testing.assert_allclose(lv.predict_sgd_covariance(x, y, eta, B, exact=True), sigma, rtol=1e-10)


def test_lyapunov_prediction_is_the_small_learning_rate_limit():
    """HΣ + ΣH = (η/B)C holds for the default prediction; with commuting H and C it is
    ηC H⁻¹/(2B); and the exact covariance approaches it with a relative gap linear in η."""
    x, y = lv.regression_data(jax.random.key(0), 500, (1.0, 0.5), 0.5)
    noise = lv.gradient_noise(x, y)
    H, C = noise.hessian, noise.covariance
    sigma = lv.predict_sgd_covariance(x, y, 0.01, 3)
    np.testing.assert_allclose(H @ sigma + sigma @ H, 0.01 / 3 * C, atol=1e-16)
    gaps = []
    for eta in (0.004, 0.002, 0.001):
        exact, lyap = (lv.predict_sgd_covariance(x, y, eta, 2, exact=e) for e in (True, False))
        gaps.append(np.linalg.norm(exact - lyap) / np.linalg.norm(lyap))
    assert gaps[0] / gaps[1] == pytest.approx(2, rel=0.01) and gaps[1] / gaps[2] == pytest.approx(2, rel=0.01)
    # commuting case: orthogonal columns, and residuals independent of direction
    xs = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]] * 2)
    ys = np.array([0.5, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5, -0.5])
    noise = lv.gradient_noise(xs, ys)
    expected = 0.1 / (2 * 4) * noise.covariance @ np.linalg.inv(noise.hessian)
    np.testing.assert_allclose(lv.predict_sgd_covariance(xs, ys, 0.1, 4), expected, rtol=1e-12)


@pytest.fixture(scope="module")
def sgd_data():
    return lv.regression_data(jax.random.key(30), 1000, (1.0, 0.7), 0.5)


def z_scores(spread, predicted):
    upper = np.triu_indices(predicted.shape[0])
    return ((np.asarray(spread.covariance) - predicted) / np.asarray(spread.stderr))[upper]


def test_measured_sgd_spread_matches_the_exact_prediction_at_any_learning_rate(sgd_data):
    """256 chains at (η, B) = (0.2, 1) and (0.3, 4): far outside the small-η regime (the
    Lyapunov prediction is off by 20-40%), the exact prediction is within the statistical
    error (|z| < 3.29 for the 3 entries of both: false failure 6e-3)."""
    x, y = sgd_data
    for i, (eta, B) in enumerate([(0.2, 1), (0.3, 4)]):
        spread = lv.measure_sgd_covariance(jax.random.key(31 + i), x, y, eta, B, n_steps=3000)
        exact = lv.predict_sgd_covariance(x, y, eta, B, exact=True)
        lyap = lv.predict_sgd_covariance(x, y, eta, B)
        assert np.all(np.abs(z_scores(spread, exact)) < Z), z_scores(spread, exact)
        assert np.trace(exact) / np.trace(lyap) > 1.15
        assert np.all(z_scores(spread, lyap)[[0, 2]] > 2 * Z)


def test_sgd_spread_follows_the_lyapunov_prediction_and_scales_with_eta_over_b(sgd_data):
    r"""In the small-η regime the stationary covariance is (η/B) times a fixed matrix. Measured
    tr Σ at (η, B) = (0.01, 1), (0.02, 1) and (0.04, 4), 256 chains each, is within 5% of
    the Lyapunov prediction: its own O(η) error is below 2.8% here (asserted from the exact
    prediction, which the measurement also matches: |z| < 3.29, false failure 3e-3) and the
    statistical error below 0.56%, so a failure needs a 4σ fluctuation. tr Σ doubles when η
    doubles and is unchanged when η and B are both multiplied by 4 (ratios within 5%; exact
    ratios 2.03 and 1.01, statistical error 0.8%)."""
    x, y = sgd_data
    traces = {}
    for i, (eta, B, n_steps) in enumerate([(0.01, 1, 24_000), (0.02, 1, 14_000), (0.04, 4, 8_000)]):
        spread = lv.measure_sgd_covariance(jax.random.key(40 + i), x, y, eta, B, n_steps=n_steps)
        lyap = np.trace(lv.predict_sgd_covariance(x, y, eta, B))
        exact = np.trace(lv.predict_sgd_covariance(x, y, eta, B, exact=True))
        assert abs(exact / lyap - 1) < 0.028
        measured = float(np.trace(spread.covariance))
        error = float(np.sqrt(np.sum(np.asarray(spread.stderr)[np.diag_indices(2)] ** 2)))
        assert error < 0.0056 * measured
        assert abs(measured - exact) < Z * error
        assert abs(measured / lyap - 1) < 0.05
        traces[eta, B] = measured
    assert traces[0.02, 1] / traces[0.01, 1] == pytest.approx(2.0, rel=0.05)
    assert traces[0.04, 4] / traces[0.01, 1] == pytest.approx(1.0, rel=0.05)


def test_sgd_step_is_the_minibatch_gradient_step():
    x = jnp.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    y = jnp.array([1.0, 0.0, 2.0])
    sampler = lv.sgd(lv.squared_error, (x, y), 0.1, 4)
    state = sampler.init(jnp.array([0.2, -0.3]))
    key = jax.random.key(7)
    new = sampler.step(key, state)
    idx = np.asarray(jax.random.randint(key, (4,), 0, 3))
    w = np.array([0.2, -0.3])
    grad = np.mean([(np.asarray(x[i]) @ w - float(y[i])) * np.asarray(x[i]) for i in idx], axis=0)
    np.testing.assert_allclose(np.asarray(new.position), w - 0.1 * grad, rtol=1e-13)
    assert int(new.count) == 1


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x, y: lv.sgd(lv.squared_error, (x, y), 0.1, 0), "batch_size"),
        (lambda x, y: lv.sgd(lv.squared_error, (x, y[:5]), 0.1, 1), "leading"),
        (lambda x, y: lv.predict_sgd_covariance(x, y, -0.1, 1), "learning_rate"),
        (lambda x, y: lv.predict_sgd_covariance(x, y, 5.0, 1, exact=True), "diverges"),
        (lambda x, y: lv.predict_sgd_covariance(x, y[:, None], 0.1, 1), "shape"),
        (lambda x, y: lv.measure_sgd_covariance(jax.random.key(0), x, y, 0.1, 1, n_steps=0), "n_steps"),
        (lambda x, y: lv.regression_data(jax.random.key(0), 10, (1.0, -1.0)), "scales"),
    ],
)
def test_bad_sgd_input_is_a_clear_error(call, match):
    x, y = lv.regression_data(jax.random.key(0), 20)
    with pytest.raises(ValueError, match=match):
        call(x, y)


# --------------------------------------------------------------------------- Jarzynski


def test_trap_work_is_the_energy_change_at_fixed_position():
    """A one-step protocol is a quench: W = H(x, λ1) - H(x, λ0) for the equilibrium x."""
    protocol = lv.TrapProtocol(k0=1.0, k1=3.0, c0=0.2, c1=-0.5, duration=0.7)
    sampler = lv.trap_sampler(protocol, 2.0, 1)
    x = 0.9
    new = sampler.step(jax.random.key(0), sampler.init(x))
    assert float(new.work) == pytest.approx(
        0.5 * 3.0 * (x + 0.5) ** 2 - 0.5 * 1.0 * (x - 0.2) ** 2, rel=1e-14
    )
    # Further steps hold λ at its end: no more work.
    _, trace = lv.run(jax.random.key(1), sampler.step, new, 20)
    np.testing.assert_allclose(np.asarray(trace.work), float(new.work), rtol=1e-14)


def discrete_mean_work(protocol, beta, n_steps):
    """Exact ⟨W⟩ of trap_sampler's discrete scheme: the mean m and variance s of x evolve in
    closed form under the OU propagator, and a work increment has the mean
    ½k'((m - c')² + s) - ½k((m - c)² + s)."""
    dt = protocol.duration / n_steps
    at = lambda t: protocol.at(jnp.asarray(t))
    mean, var, total = protocol.c0, 1 / (beta * protocol.k0), 0.0
    for n in range(n_steps):
        (k0, c0), (k1, c1) = (tuple(map(float, at(t * dt))) for t in (n, n + 1))
        total += 0.5 * k1 * ((mean - c1) ** 2 + var) - 0.5 * k0 * ((mean - c0) ** 2 + var)
        decay = math.exp(-k1 * dt)
        mean = c1 + (mean - c1) * decay
        var = var * decay**2 + (1 - decay**2) / (beta * k1)
    return total


@pytest.mark.parametrize(
    "protocol",
    [
        lv.TrapProtocol(k0=1.0, k1=4.0, duration=1.0),
        lv.TrapProtocol(k0=2.0, k1=2.0, c0=0.0, c1=1.0, duration=1.0),
    ],
    ids=["stiffen", "drag"],
)
def test_jarzynski_recovers_the_exact_free_energy_and_mean_work_exceeds_it(protocol):
    r"""20000 trajectories of 100 steps from equilibrium at β = 1.5. Jarzynski's estimate is
    within 3.29 standard errors of ΔF = ln(k1/k0)/(2β) (stiffen: 0.462) or 0 (drag),
    ⟨W⟩ matches the exact mean of the discrete scheme, and ⟨W⟩ - ΔF is positive by more
    than 10 standard errors (the second law). Two z-tests: false failure 2e-3 per protocol;
    the dissipated work is below 1 k_BT, where the delta-method error bar is reliable."""
    beta = 1.5
    work = lv.trap_work(jax.random.key(50), protocol, beta, 20_000, 100)
    est = lv.jarzynski_estimate(work, beta)
    exact = lv.trap_free_energy(protocol, beta)
    assert abs(est.free_energy - exact) < Z * est.stderr, (est, exact)
    assert est.bias < 0.05 * est.stderr
    assert abs(est.mean_work - discrete_mean_work(protocol, beta, 100)) < Z * est.mean_work_stderr
    assert est.mean_work - exact > 10 * est.mean_work_stderr
    assert beta * (est.mean_work - exact) < 1.0


def test_dragged_trap_work_is_gaussian_with_the_fluctuation_dissipation_variance():
    """For a drag the work is Gaussian and Jarzynski forces Var W = 2⟨W⟩/β (|z| < 3.29, and
    a normality test at p > 1e-3: false failure 2e-3); ⟨W⟩ tends to the continuous-time
    v²[τ - (1 - e^{-kτ})/k] as dt -> 0 (the discrete scheme's exact mean, computed in closed
    form, converges at second order)."""
    protocol = lv.TrapProtocol(k0=1.0, k1=1.0, c0=0.0, c1=1.5, duration=2.0)
    beta = 0.8
    work = np.asarray(lv.trap_work(jax.random.key(51), protocol, beta, 20_000, 100))
    mean, var = work.mean(), work.var(ddof=1)
    # Var of a sample variance of normals: 2σ⁴/(n-1)
    assert abs(var - 2 * mean / beta) < Z * math.sqrt(
        2 * var**2 / (work.size - 1) + (2 / beta) ** 2 * var / work.size
    )
    assert stats.normaltest(work).pvalue > 1e-3
    continuous = lv.drag_mean_work(protocol)
    errors = [abs(discrete_mean_work(protocol, beta, n) - continuous) for n in (100, 200, 400)]
    assert errors[0] / errors[1] == pytest.approx(4, rel=0.01)
    assert errors[1] / errors[2] == pytest.approx(4, rel=0.01)


def test_jarzynski_estimator_is_biased_upwards_for_few_samples():
    r"""For Gaussian work with βσ_W = 0.7 and ⟨W⟩ = βσ_W²/2 (so ΔF = 0), estimates from 20
    samples lie above ΔF on average by the leading term σ_ρ²/(2βn), σ_ρ² = e^{β²σ_W²} - 1
    = 0.63, i.e. 0.0158; measured over 20000 sets: 0.0135 ± 0.0012 (z > 5 from zero; within
    25% + 3.29 standard errors of the leading term, the rest being O(1/n²))."""
    beta, sigma, n, sets = 1.0, 0.7, 20, 20_000
    works = beta * sigma**2 / 2 + sigma * np.asarray(jax.random.normal(jax.random.key(52), (sets, n)))
    estimates = np.array([lv.jarzynski_estimate(w, beta).free_energy for w in works])
    excess, err = estimates.mean(), estimates.std(ddof=1) / math.sqrt(sets)
    leading = (math.exp(beta**2 * sigma**2) - 1) / (2 * beta * n)
    assert excess > 5 * err
    assert abs(excess - leading) < 0.25 * leading + Z * err


def test_jarzynski_estimate_of_constant_work_and_huge_work():
    est = lv.jarzynski_estimate(np.full(10, 2.5), 0.7)
    assert est.free_energy == pytest.approx(2.5, rel=1e-14) and est.stderr == 0.0 and est.bias == 0.0
    est = lv.jarzynski_estimate(np.array([1e4, 1e4 + 1.0]), 2.0)  # e^{-βW} underflows naively
    assert est.free_energy == pytest.approx(1e4 - math.log((1 + math.exp(-2.0)) / 2) / 2.0, rel=1e-14)


def test_trap_free_energy_is_minus_log_z_difference():
    beta = 1.7
    log_z = lambda k: math.log(integrate.quad(lambda x: math.exp(-beta * 0.5 * k * x**2), -np.inf, np.inf)[0])
    protocol = lv.TrapProtocol(k0=0.5, k1=3.0, c0=-1.0, c1=2.0)
    assert lv.trap_free_energy(protocol, beta) == pytest.approx(-(log_z(3.0) - log_z(0.5)) / beta, rel=1e-10)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lv.trap_sampler(lv.TrapProtocol(k0=0.0), 1.0, 10), "positive"),
        (lambda: lv.trap_sampler(lv.TrapProtocol(), 1.0, 0), "n_steps"),
        (lambda: lv.trap_sampler(lv.TrapProtocol(), 1.0, 10).init(jnp.zeros(2)), "scalar"),
        (lambda: lv.trap_free_energy(lv.TrapProtocol(), -1.0), "inverse temperatures"),
        (lambda: lv.drag_mean_work(lv.TrapProtocol(k0=1.0, k1=2.0)), "k0 == k1"),
        (lambda: lv.jarzynski_estimate(np.array([1.0]), 1.0), "at least 2"),
        (lambda: lv.jarzynski_estimate(np.array([1.0, np.nan]), 1.0), "finite"),
    ],
)
def test_bad_jarzynski_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
