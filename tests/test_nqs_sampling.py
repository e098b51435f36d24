"""physml.nqs.sampling against exact distributions, exact transition matrices and AR(1) processes."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from physml.nqs import ansatz, sampling
from physml.nqs.lattice import all_configurations, configuration_index

N = 6


def rbm_and_params(seed: int = 1, factor: float = 30.0):
    """An RBM on 6 spins whose |ψ|² is far from uniform (weights of order 0.3)."""
    net = ansatz.rbm(N)
    params = jax.tree.map(lambda x: factor * x, net.init(jax.random.key(seed)))
    return net, params


def exact_probabilities(net, params, power: float = 2.0) -> np.ndarray:
    """|ψ(s)|^power over all 2^N states, normalized, in the basis order."""
    log_psi = np.asarray(net.log_psi(params, all_configurations(N)))
    weights = np.exp(power * (log_psi - log_psi.max()))
    return weights / weights.sum()


def chi2_pvalue(samples, probabilities: np.ndarray) -> float:
    """χ² goodness of fit of the configurations' histogram; states of small expected count pooled."""
    counts = np.bincount(np.asarray(configuration_index(samples)).ravel(), minlength=probabilities.size)
    support = probabilities > 0
    assert counts[~support].sum() == 0, "a sample outside the support"
    expected = probabilities[support] * counts.sum()
    observed = counts[support]
    keep = expected >= 5
    obs = np.r_[observed[keep], observed[~keep].sum()]
    exp = np.r_[expected[keep], expected[~keep].sum()]
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


def sweep_matrix(p: np.ndarray, move: str) -> np.ndarray:
    """Exact transition matrix of one sweep (N proposals) of Metropolis with `move` for the
    target `p` over the 2^N states (for exchange, meaningful on the sector of the start).
    Single flip: each site with probability 1/N. Exchange: each antiparallel pair with
    probability (1/N)(1/n_up + 1/n_down) (either end drawn first)."""
    one = np.zeros((2**N, 2**N))
    for k, s in enumerate(np.asarray(all_configurations(N))):
        if move == "flip":
            proposals = [((i,), 1 / N) for i in range(N)]
        else:
            up, down = np.flatnonzero(s > 0), np.flatnonzero(s < 0)
            weight = (1 / len(up) + 1 / len(down)) / N if len(up) and len(down) else 0.0
            proposals = [(pair, weight) for pair in itertools.product(up, down)]
        for sites, q in proposals:
            other = k ^ sum(1 << (N - 1 - int(i)) for i in sites)
            if p[k] > 0:
                one[k, other] += q * min(1.0, p[other] / p[k])
        one[k, k] += 1.0 - one[k].sum()
    return np.linalg.matrix_power(one, N)


def burn_in_bias(p: np.ndarray, start: np.ndarray, move: str, sweeps: int, n: int) -> float:
    """Noncentrality n Σ (q - p)²/p of the χ² statistic for n samples drawn from q, the exact
    distribution after `sweeps` sweeps from `start`: how far the burn-in leaves the test from
    its nominal false-failure rate (negligible when ≪ 1)."""
    q = start @ np.linalg.matrix_power(sweep_matrix(p, move), sweeps)
    support = p > 0
    return float(n * np.sum((q - p)[support] ** 2 / p[support]))


def final_configurations(net, params, move: str, seed: int, magnetization: int | None = None):
    """4000 independent chains from random starts, 40 sweeps each; one sample per chain."""
    sampler = sampling.metropolis(
        net, n_samples=4000, n_chains=4000, burn_in=39, move=move, magnetization=magnetization
    )
    state = sampler.init(jax.random.key(seed), params)
    samples, state = sampler.sample(jax.random.key(seed + 1), params, state)
    assert samples.shape == (4000, 1, N)
    return samples


def test_single_flip_samples_psi_squared():
    """χ² test of 4000 independent Metropolis samples (one per chain after 40 sweeps from
    uniformly random starts) against the exact |ψ|² over the 64 states. The exact transition
    matrix shows the 40 sweeps leave a noncentrality below 1e-3, so a correct sampler fails
    with probability 1e-3 (fixed seed)."""
    net, params = rbm_and_params()
    p = exact_probabilities(net, params)
    assert p.max() > 0.15  # far from uniform
    assert burn_in_bias(p, np.full(2**N, 2.0**-N), "flip", 40, 4000) < 1e-3
    samples = final_configurations(net, params, "flip", 1)
    assert chi2_pvalue(samples, p) > 1e-3


def test_the_chi2_test_has_power_against_the_wrong_power_of_psi():
    """The same samples fail against |ψ| (instead of |ψ|²): the test can see a wrong sampler."""
    net, params = rbm_and_params()
    samples = final_configurations(net, params, "flip", 1)
    assert chi2_pvalue(samples, exact_probabilities(net, params, power=1.0)) < 1e-3


@pytest.mark.parametrize("magnetization", [0, 2])
def test_exchange_moves_stay_in_the_sector_and_sample_psi_squared_there(magnetization):
    """Exchange moves from starts with Σ s = m: every sample keeps it, and the histogram over
    the sector's states (20 for m = 0, 15 for m = 2, where n_up ≠ n_down tests the proposal's
    symmetry) passes a χ² test against |ψ|² restricted to the sector (burn-in noncentrality
    below 1e-3 by the exact transition matrix; false-failure rate 1e-3 each)."""
    net, params = rbm_and_params()
    in_sector = np.asarray(all_configurations(N)).sum(axis=1) == magnetization
    p = exact_probabilities(net, params) * in_sector
    p /= p.sum()
    assert burn_in_bias(p, in_sector / in_sector.sum(), "exchange", 40, 4000) < 1e-3
    samples = final_configurations(net, params, "exchange", 5 + magnetization, magnetization)
    assert np.all(np.asarray(samples).sum(axis=-1) == magnetization)
    assert chi2_pvalue(samples, p) > 1e-3


def test_fast_rbm_path_gives_the_same_chains_as_the_plain_path():
    """Same key, same decisions: the incremental θ path reproduces the plain re-evaluation."""
    net, params = rbm_and_params(seed=7)
    runs = []
    for model in (net, ansatz.plain(net)):
        sampler = sampling.metropolis(model, n_samples=64, n_chains=8, burn_in=5, thin=2)
        state = sampler.init(jax.random.key(8), params)
        samples, state = sampler.sample(jax.random.key(9), params, state)
        runs.append((np.asarray(samples), np.asarray(state.log_psi), np.asarray(state.n_accepted)))
    for fast, plain in zip(*runs, strict=True):
        np.testing.assert_allclose(fast, plain, rtol=1e-12)
    assert runs[0][2].sum() > 0


def exact_tau_of_magnetization(net, params) -> float:
    r"""τ of M = Σ s_i for the chain recorded every sweep, from the exact transition matrix T of
    one sweep: τ = 1 + 2 Σ_t ⟨δM T^t δM⟩_p / ⟨δM²⟩_p."""
    p = exact_probabilities(net, params)
    sweep = sweep_matrix(p, "flip")
    m = np.asarray(all_configurations(N)).sum(axis=1)
    dm = m - p @ m
    v, tau = dm, 1.0
    for _ in range(10_000):
        v = sweep @ v
        rho = (p @ (dm * v)) / (p @ dm**2)
        tau += 2 * rho
        if abs(rho) < 1e-14:
            return tau
    raise AssertionError("the exact autocorrelation did not decay")


def test_tau_matches_the_exact_transition_matrix_and_r_hat_is_one():
    """A bimodal |ψ|² (ferromagnetic RBM) has a slow magnetization. 16 chains × 20 000 samples,
    one every sweep: the estimated τ agrees with the exact one within 10 % (Sokal's variance
    formula gives a 2 % standard error here: false-failure rate < 1e-5), and the chains,
    burnt in for 500 sweeps, have split R̂ < 1.01."""
    net = ansatz.rbm(N)
    w = 0.12 + 0.02 * jax.random.normal(jax.random.key(11), (N, N))
    params = {"a": jnp.zeros(N), "b": jnp.zeros(N), "W": w}
    exact = exact_tau_of_magnetization(net, params)
    assert 3 < exact < 10, exact  # a chain slow enough to test

    sampler = sampling.metropolis(net, n_samples=16 * 20_000, n_chains=16, burn_in=500)
    samples, _ = sampler.sample(jax.random.key(13), params, sampler.init(jax.random.key(12), params))
    result = sampling.statistics(jnp.sum(samples, axis=-1))
    assert float(result.tau) == pytest.approx(exact, rel=0.10)
    assert 1.0 - 1e-3 < float(result.r_hat) < 1.01


def ar1(key, shape, n: int, phi: float):
    """Stationary AR(1) chains x_t = φ x_{t-1} + √(1-φ²) ε_t: variance 1, ρ(t) = φ^t,
    τ = (1+φ)/(1-φ). Returns shape (*shape, n)."""
    k0, k1 = jax.random.split(key)
    noise = jax.random.normal(k1, (n, *shape))

    def step(x, e):
        x = phi * x + np.sqrt(1 - phi**2) * e
        return x, x

    _, xs = jax.lax.scan(step, jax.random.normal(k0, shape), noise)
    return jnp.moveaxis(xs, 0, -1)


def test_integrated_autocorrelation_time_of_an_ar1_process():
    """τ = (1+φ)/(1-φ) = 9 for φ = 0.8; 32 chains × 20 000: standard error ~1.7 % (Sokal),
    tolerance 8 % (false-failure rate < 1e-5)."""
    x = ar1(jax.random.key(21), (32,), 20_000, 0.8)
    assert float(sampling.integrated_autocorrelation_time(x)) == pytest.approx(9.0, rel=0.08)
    iid = jax.random.normal(jax.random.key(22), (32, 5000))
    assert float(sampling.integrated_autocorrelation_time(iid)) == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(("phi", "n"), [(0.0, 5), (0.5, 10)])
def test_tau_of_short_chains_is_nearly_unbiased(phi, n):
    """A VMC iteration has many short chains (250 of 5-10 samples). Over 400 independent
    repetitions the estimate of τ averages within 8 % of (1+φ)/(1-φ) (its measured bias is
    2 %, the standard error of the average 0.7-0.9 %: false-failure rate < 1e-6)."""
    x = ar1(jax.random.key(51), (400, 250), n, phi)
    taus = jax.vmap(sampling.integrated_autocorrelation_time)(x)
    assert float(jnp.mean(taus)) == pytest.approx((1 + phi) / (1 - phi), rel=0.08)


def exact_error_of_mean(n: int, chains: int, phi: float) -> float:
    """Standard deviation of the mean of `chains` independent stationary AR(1) chains of n samples."""
    k = np.arange(1, n)
    var_chain_mean = (n + 2 * np.sum((n - k) * phi**k)) / n**2
    return float(np.sqrt(var_chain_mean / chains))


@pytest.mark.parametrize(
    ("chains", "n", "tolerance"),
    [(64, 1000, 0.03), pytest.param(4, 20_000, 0.04, marks=pytest.mark.slow)],
)
def test_error_of_the_mean_is_calibrated(chains, n, tolerance):
    """200 independent repetitions on AR(1) chains (φ = 0.8, τ = 9): the error estimate
    averages to the exact standard deviation of the mean within `tolerance` (over 4 standard
    errors of that average, counting the 0.4 % bias of a sample standard deviation), and the
    interval mean ± 2 error covers the true mean 0 in at least 176 of 200 repetitions
    (expected 94.6 %, a t-interval with 31 or 63 degrees of freedom; false-failure rate
    < 1e-4). With 64 chains the blocks are the chains; with 4 they are 8 pieces of each chain."""
    x = ar1(jax.random.key(chains), (200, chains), n, 0.8)
    result = jax.vmap(sampling.statistics)(x)
    exact = exact_error_of_mean(n, chains, 0.8)
    assert float(jnp.mean(result.error)) == pytest.approx(exact, rel=tolerance)
    assert int(jnp.sum(jnp.abs(result.mean) < 2 * result.error)) >= 176


def test_split_r_hat_flags_chains_that_disagree_or_drift():
    iid = jax.random.normal(jax.random.key(31), (8, 1000))
    assert 0.99 < float(sampling.split_r_hat(iid)) < 1.01
    shifted = iid + 0.5 * jnp.arange(8)[:, None]
    assert float(sampling.split_r_hat(shifted)) > 1.1
    drifting = iid[:1] + jnp.linspace(0.0, 3.0, 1000)[None, :]  # one chain, a trend: its halves differ
    assert float(sampling.split_r_hat(drifting)) > 1.1
    assert np.isnan(float(sampling.split_r_hat(iid[:, :3])))


def test_random_configurations_have_the_requested_magnetization():
    s = sampling.random_configurations(jax.random.key(41), 500, 8, magnetization=2)
    assert s.shape == (500, 8)
    assert np.all(np.asarray(s).sum(axis=1) == 2)
    free = np.asarray(sampling.random_configurations(jax.random.key(42), 500, 8))
    assert set(np.unique(free)) == {-1.0, 1.0}
    # every site up with probability 1/2 (binomial, 4000 draws: 5 sigma = 0.04)
    assert abs((free > 0).mean() - 0.5) < 0.04


def test_bad_input_is_rejected_with_a_clear_message():
    net = ansatz.rbm(4)
    with pytest.raises(ValueError, match="move"):
        sampling.metropolis(net, move="teleport")
    with pytest.raises(ValueError, match="n_chains"):
        sampling.metropolis(net, n_chains=0)
    with pytest.raises(ValueError, match="up and one down"):
        sampling.metropolis(net, move="exchange", magnetization=4)
    with pytest.raises(ValueError, match="magnetization"):
        sampling.random_configurations(jax.random.key(0), 2, 4, magnetization=1)
    with pytest.raises(ValueError, match="chains, samples"):
        sampling.statistics(jnp.ones(5))
