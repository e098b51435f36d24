"""physml.softmax against exact results: a 60-digit oracle, thermodynamic identities by
autodiff, the T -> 0 and T -> inf limits, and property tests; information measures against
scipy.stats.entropy, Pinsker's inequality and the Gibbs variational principle."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from physml import softmax as sm

INF = float("inf")


def exact(logits, T):
    """Softmax thermodynamics of ``logits`` at temperature ``T`` to 60 significant digits.

    The float64 inputs are converted exactly (mpmath), so this is the exact answer for them.
    Every quantity is computed from the shifted :math:`a_i = (z_i - z_max)/T` with
    ``log1p``, so that even values far below 1e-60 keep their relative accuracy."""
    with mpmath.workdps(60):
        T = mpmath.mpf(float(T))
        z = [mpmath.mpf(float(x)) for x in logits]
        top = max(z)
        a = [(x - top) / T for x in z]
        head = sum(1 for x in a if x == 0)
        tail = mpmath.fsum(mpmath.exp(x) for x in a if x < 0 and mpmath.isfinite(x))
        lse = mpmath.log(head) + mpmath.log1p(tail / head)  # ln sum_i e^{a_i}
        log_p = [x - lse for x in a]
        p = [mpmath.exp(lp) for lp in log_p]
        live = [i for i, x in enumerate(z) if mpmath.isfinite(x)]
        mean_gap = mpmath.fsum(p[i] * (z[i] - top) for i in live)  # <z> - z_max
        var_z = mpmath.fsum(p[i] * (z[i] - top - mean_gap) ** 2 for i in live)
        S = -mpmath.fsum(p[i] * log_p[i] for i in live)
        return {
            "p": np.array([float(x) for x in p]),
            "log_p": np.array([float(x) for x in log_p]),
            "log_Z": float(top / T + lse),
            "F": float(-top - T * lse),
            "E": float(-top - mean_gap),
            "S": float(S),
            "var_E": float(var_z),
        }


# A spread of cases: scales from 1 to 1e4, ties at the top, masked tokens (-inf).
CASES = {
    "unit": [0.3, -1.2, 2.0, 0.0, 1.1],
    "ties+mask": [2.0, -1.0, 2.0, -INF, 0.5, -INF],
    "1e2": [100.0, 37.5, -20.0, 99.0],
    "1e4": [1e4, 1e4 - 1.0, 1e4 - 3.0, -1e4, -INF],
    "1e4 spread": [1e4, -1e4, 5e3, 0.0],
}
TEMPERATURES = [1e-3, 0.1, 1.0, 30.0, 1e6]


@pytest.mark.parametrize("T", TEMPERATURES)
@pytest.mark.parametrize("name", CASES)
def test_every_function_matches_the_60_digit_oracle(name, T):
    z = jnp.array(CASES[name])
    want = exact(CASES[name], T)
    scale = float(np.max(np.abs(np.asarray(z)[np.isfinite(z)])))
    np.testing.assert_allclose(sm.softmax(z, T), want["p"], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sm.log_softmax(z, T), want["log_p"], rtol=1e-12)
    assert float(sm.log_partition(z, T)) == pytest.approx(want["log_Z"], rel=1e-13)
    assert float(sm.free_energy(z, T)) == pytest.approx(want["F"], rel=1e-13)
    assert float(sm.mean_energy(z, T)) == pytest.approx(want["E"], rel=1e-13, abs=1e-13 * scale)
    assert float(sm.entropy(z, T)) == pytest.approx(want["S"], rel=1e-12, abs=1e-300)


def test_everything_is_finite_where_a_naive_exp_overflows():
    z = jnp.array([1e4, 1e4 - 0.5, 9e3, -INF])
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.asarray(z[:1])))  # float64 overflows at e^709.8
    for T in (1e-3, 1.0, 1e6):
        values = [f(z, T) for f in (sm.softmax, sm.log_softmax)]
        values += [f(z, T) for f in (sm.log_partition, sm.free_energy, sm.mean_energy, sm.entropy)]
        values += [jax.grad(f, argnums=1)(z, T) for f in (sm.free_energy, sm.entropy, sm.log_partition)]
        values += [jax.grad(lambda zz, t: sm.entropy(zz, t))(z, T)]
        values = [np.atleast_1d(np.asarray(v))[:3] for v in values]  # entry 3 is masked
        assert all(np.isfinite(v).all() for v in values), T


def test_float32_logits_of_1e4_stay_finite_and_accurate():
    z = jnp.array([1e4, 1e4 - 1.0, 1e4 - 3.0], dtype=jnp.float32)
    want = exact(np.asarray(z), 1.0)
    p = sm.softmax(z)
    assert p.dtype == jnp.float32
    np.testing.assert_allclose(p, want["p"], rtol=1e-5)
    assert float(sm.free_energy(z)) == pytest.approx(want["F"], rel=1e-5)
    assert float(sm.entropy(z)) == pytest.approx(want["S"], rel=1e-5)


IDENTITY_CASES = [(name, T) for name in CASES for T in TEMPERATURES]


@pytest.mark.parametrize(("name", "T"), IDENTITY_CASES)
def test_thermodynamic_identities(name, T):
    """F = <E> - TS, dF/dT = -S, d ln Z/dT = <E>/T^2, dS/dT = Var(E)/T^3 and
    d ln Z/dz = p/T, each to 1e-10 relative (derivatives by jax.grad)."""
    z = jnp.array(CASES[name])
    want = exact(CASES[name], T)
    F, E, S = (float(f(z, T)) for f in (sm.free_energy, sm.mean_energy, sm.entropy))
    scale = float(np.max(np.abs(np.asarray(z)[np.isfinite(z)])))
    assert F == pytest.approx(E - T * S, rel=1e-10, abs=1e-10 * scale)
    dF = float(jax.grad(sm.free_energy, argnums=1)(z, T))
    assert dF == pytest.approx(-S, rel=1e-10, abs=1e-14)
    dlogZ = float(jax.grad(sm.log_partition, argnums=1)(z, T))
    assert dlogZ == pytest.approx(E / T**2, rel=1e-10)
    dS = float(jax.grad(sm.entropy, argnums=1)(z, T))
    assert dS == pytest.approx(want["var_E"] / T**3, rel=1e-10, abs=1e-300)
    grad_z = np.asarray(jax.grad(sm.log_partition)(z, T))
    np.testing.assert_allclose(grad_z, want["p"] / T, rtol=1e-10, atol=1e-300)


def test_derivative_of_entropy_is_variance_over_t_cubed_by_finite_differences():
    """The autodiff value agrees with a central difference (step 1e-5 T, error ~1e-10)."""
    z, T = jnp.array(CASES["unit"]), 0.7
    h = 1e-5 * T
    fd = (float(sm.entropy(z, T + h)) - float(sm.entropy(z, T - h))) / (2 * h)
    assert fd == pytest.approx(exact(CASES["unit"], T)["var_E"] / T**3, rel=1e-8)


@pytest.mark.parametrize("T", [1e-3, 1e-30, 1e-300])
def test_zero_temperature_limit_is_the_argmax_with_ties_shared(T):
    z = jnp.array([1.0, 3.0, 3.0, 0.0, -INF, 2.0])
    p = np.asarray(sm.softmax(z, T))
    assert p.tolist() == [0.0, 0.5, 0.5, 0.0, 0.0, 0.0]
    assert float(sm.entropy(z, T)) == pytest.approx(math.log(2), rel=1e-15)
    assert float(sm.mean_energy(z, T)) == -3.0
    assert float(sm.free_energy(z, T)) == pytest.approx(-3.0 - T * math.log(2), rel=1e-15)
    unique = jnp.array([1.0, 3.0, 2.0])
    assert np.asarray(sm.softmax(unique, T)).tolist() == [0.0, 1.0, 0.0]
    assert float(sm.entropy(unique, T)) == 0.0


@pytest.mark.parametrize("T", [1e6, 1e12, 1e300])
def test_infinite_temperature_limit_is_uniform_over_the_finite_logits(T):
    z = jnp.array([1e4, -3.0, 0.5, -INF, 2.0])
    finite = np.asarray(z)[np.isfinite(z)]
    p = np.asarray(sm.softmax(z, T))
    assert p[3] == 0.0
    # p_i = 1/n (1 + (z_i - mean z)/T + O(1/T^2)): uniform to 2e4/T.
    np.testing.assert_allclose(p[np.isfinite(z)], 0.25, rtol=2e4 / T)
    # S = ln n - Var(z)/(2 T^2) + ...
    assert float(sm.entropy(z, T)) == pytest.approx(math.log(4), rel=max(1e-15, 1e8 / T / T))
    assert float(sm.mean_energy(z, T)) == pytest.approx(-finite.mean(), rel=max(1e-15, 1e4 / T))


def test_batch_axes_are_independent_rows():
    rows = np.array([CASES["unit"], [1e4, 0.0, -INF, 9999.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    batch = jnp.array(np.stack([rows, rows[::-1]]))  # shape (2, 3, 5)
    for f in (sm.softmax, sm.log_softmax):
        got = np.asarray(f(batch, 0.8))
        assert got.shape == (2, 3, 5)
        for i, j in np.ndindex(2, 3):
            np.testing.assert_array_equal(got[i, j], np.asarray(f(batch[i, j], 0.8)))
    for f in (sm.log_partition, sm.free_energy, sm.mean_energy, sm.entropy):
        got = np.asarray(f(batch, 0.8))
        assert got.shape == (2, 3)
        for i, j in np.ndindex(2, 3):
            assert got[i, j] == float(f(batch[i, j], 0.8))


def test_bad_input_is_rejected_with_a_clear_message():
    z = jnp.array([1.0, 2.0])
    for T in (0.0, -1.0, INF, float("nan")):
        with pytest.raises(ValueError, match="positive, finite temperature"):
            sm.softmax(z, T)
    with pytest.raises(ValueError, match="scalar temperature"):
        sm.entropy(z, jnp.array([1.0, 2.0]))
    for bad in (jnp.array(1.0), jnp.zeros((3, 0))):
        with pytest.raises(ValueError, match="last axis"):
            sm.log_partition(bad)


def test_integer_logits_are_promoted():
    assert np.asarray(sm.softmax(jnp.array([0, 0]))).tolist() == [0.5, 0.5]


LOGIT = st.floats(-1e4, 1e4) | st.just(-INF)


def finite_logits(min_size=1, max_size=12):
    return st.lists(LOGIT, min_size=min_size, max_size=max_size).filter(lambda v: any(x > -INF for x in v))


@given(z=finite_logits(), T=st.floats(1e-3, 1e6))
def test_probabilities_are_a_distribution(z, T):
    p = np.asarray(sm.softmax(jnp.array(z), T))
    assert (p >= 0).all()
    assert p[np.isinf(z)].sum() == 0.0
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert math.fsum(np.exp(np.asarray(sm.log_softmax(jnp.array(z), T)))) == pytest.approx(1.0, abs=1e-14)


@given(z=finite_logits(), T=st.floats(1e-3, 1e6))
def test_entropy_lies_between_zero_and_log_n(z, T):
    S = float(sm.entropy(jnp.array(z), T))
    n_finite = sum(x > -INF for x in z)
    assert 0.0 <= S <= math.log(n_finite) + 1e-14  # rounding of a sum of n terms


@given(z=finite_logits(min_size=2), T1=st.floats(1e-3, 1e6), T2=st.floats(1e-3, 1e6))
def test_entropy_increases_with_temperature(z, T1, T2):
    lo, hi = sorted((T1, T2))
    assert float(sm.entropy(jnp.array(z), lo)) <= float(sm.entropy(jnp.array(z), hi)) + 1e-14


# ----------------------------------------------------------------------------- information


def distributions(n):
    # No subnormal weights: XLA on CPU flushes them to zero.
    weights = st.lists(st.floats(1e-6, 1) | st.just(0.0), min_size=n, max_size=n)
    return weights.filter(lambda w: sum(w) > 1e-3).map(lambda w: np.array(w) / math.fsum(w))


@pytest.mark.parametrize("seed", range(5))
def test_information_measures_match_scipy(seed):
    key_p, key_q = jax.random.split(jax.random.key(seed))
    p = np.array(jax.random.exponential(key_p, (7,))) ** 2
    q = np.array(jax.random.exponential(key_q, (7,)))
    p[seed % 7] = 0.0  # one impossible outcome: 0 ln 0 = 0
    p, q = p / p.sum(), q / q.sum()
    assert float(sm.shannon_entropy(p)) == pytest.approx(stats.entropy(p), rel=1e-13)
    assert float(sm.kl_divergence(p, q)) == pytest.approx(stats.entropy(p, q), rel=1e-12)
    assert float(sm.cross_entropy(p, q)) == pytest.approx(stats.entropy(p) + stats.entropy(p, q), rel=1e-12)


def test_zero_log_zero_is_zero_and_kl_is_infinite_off_the_support():
    assert float(sm.shannon_entropy([0.5, 0.5, 0.0])) == pytest.approx(math.log(2), rel=1e-15)
    assert float(sm.shannon_entropy([1.0, 0.0])) == 0.0
    kl = float(sm.kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]))
    assert kl == pytest.approx(math.log(2), rel=1e-15)
    assert float(sm.kl_divergence([0.5, 0.5], [1.0, 0.0])) == INF
    assert float(sm.cross_entropy([0.5, 0.5], [1.0, 0.0])) == INF
    assert float(sm.kl_divergence([1.0, 0.0], [0.5, 0.5])) == pytest.approx(math.log(2), rel=1e-15)
    assert float(sm.cross_entropy([0.0, 1.0], [0.0, 1.0])) == 0.0


def test_information_measures_take_batches():
    p = jnp.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = jnp.array([[0.25, 0.25, 0.5], [0.2, 0.3, 0.5]])
    np.testing.assert_allclose(sm.kl_divergence(p, q), [math.log(2), 0.0], rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(sm.shannon_entropy(p), [math.log(2), stats.entropy(p[1])], rtol=1e-15)


def test_information_measures_reject_what_is_not_a_distribution():
    with pytest.raises(ValueError, match="sum to 1"):
        sm.shannon_entropy([3.0, 1.0])
    with pytest.raises(ValueError, match=">= 0"):
        sm.kl_divergence([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="finite"):
        sm.cross_entropy([0.5, 0.5], [float("nan"), 0.5])
    with pytest.raises(ValueError, match="same number of outcomes"):
        sm.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="last axis"):
        sm.shannon_entropy(1.0)


@given(p=distributions(5), q=distributions(5))
def test_cross_entropy_is_entropy_plus_kl(p, q):
    H_pq, H_p = float(sm.cross_entropy(p, q)), float(sm.shannon_entropy(p))
    kl = float(sm.kl_divergence(p, q))
    if np.isinf(kl):
        assert np.isinf(H_pq) and np.any((q == 0) & (p > 0))
    else:
        assert H_pq == pytest.approx(H_p + kl, rel=1e-12, abs=1e-12)


@given(p=distributions(5), q=distributions(5))
def test_kl_is_positive_unless_the_distributions_are_equal(p, q):
    """KL(P||P) = 0, and KL(P||Q) >= 2 TV(P, Q)^2 > 0 for P != Q (Pinsker's inequality)."""
    assert float(sm.kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-15)
    kl = float(sm.kl_divergence(p, q))
    tv = 0.5 * np.abs(p - q).sum()
    assert kl >= 2 * tv**2 - 1e-15
    if tv > 1e-6:
        assert kl > 0


@given(p=distributions(6), T=st.floats(0.05, 20.0))
def test_gibbs_variational_principle(p, T):
    """For any P: <E>_P - T H(P) - F = T KL(P || softmax(z/T)) >= 0, zero at the Boltzmann
    distribution: the softmax minimizes the free energy functional."""
    z = jnp.array([1.0, -0.5, 2.5, 0.0, -3.0, 1.5])
    boltzmann = sm.softmax(z, T)
    F = float(sm.free_energy(z, T))
    functional = float(-jnp.sum(p * z)) - T * float(sm.shannon_entropy(p))
    assert functional - F == pytest.approx(T * float(sm.kl_divergence(p, boltzmann)), rel=1e-9, abs=1e-12)
    assert float(-jnp.sum(boltzmann * z)) - T * float(sm.shannon_entropy(boltzmann)) == pytest.approx(
        F, rel=1e-12
    )
