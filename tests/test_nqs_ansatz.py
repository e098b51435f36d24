"""physml.nqs.ansatz against direct formulas: sums over hidden units, loops, closed forms."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from physml.nqs import ansatz
from physml.nqs.lattice import all_configurations


def scaled(params, factor):
    """Parameters large enough that the wavefunction is far from uniform."""
    return jax.tree.map(lambda x: factor * x, params)


def test_rbm_is_the_boltzmann_machine_with_its_hidden_units_summed_out():
    """ln Σ_h exp(a·s + h·(b + W s)) over all 2^M hidden states = ln ψ(s) + M ln 2."""
    n, alpha = 4, 2
    net = ansatz.rbm(n, alpha)
    p = scaled(net.init(jax.random.key(1)), 40.0)
    a, b, W = (np.asarray(p[k]) for k in ("a", "b", "W"))
    hidden = np.array(list(itertools.product([-1.0, 1.0], repeat=n * alpha)))
    configs = np.asarray(all_configurations(n))
    direct = [np.log(np.sum(np.exp(a @ s + hidden @ (b + W @ s)))) for s in configs]
    got = np.asarray(net.log_psi(p, configs)) + n * alpha * np.log(2.0)
    np.testing.assert_allclose(got, direct, rtol=1e-12)


def test_rbm_matches_a_loop_over_hidden_units_for_any_batch_shape():
    n = 5
    net = ansatz.rbm(n, 3)
    p = scaled(net.init(jax.random.key(2)), 30.0)
    s = np.asarray(jax.random.rademacher(jax.random.key(3), (2, 3, n), dtype=jnp.float64))
    a, b, W = (np.asarray(p[k]) for k in ("a", "b", "W"))
    loop = np.zeros((2, 3))
    for idx in np.ndindex(2, 3):
        loop[idx] = a @ s[idx] + sum(np.log(np.cosh(b[j] + W[j] @ s[idx])) for j in range(3 * n))
    got = net.log_psi(p, s)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(np.asarray(got), loop, rtol=1e-12)


def test_rbm_incremental_theta_equals_recomputation_after_many_flips():
    """2000 single flips, then 2000 pair exchanges, through the fast path; θ and ln ψ agree
    with a fresh computation to rounding (the increments are ±2W, so errors grow like a
    random walk: ~√4000 ulp of θ)."""
    n = 10
    net = ansatz.rbm(n, 2)
    p = scaled(net.init(jax.random.key(4)), 50.0)

    def run(carry, sites):
        s, theta, _ = carry
        log_psi, theta = net.flip(p, s, theta, sites)
        return (ansatz.flip_sites(s, sites), theta, log_psi), None

    s = jnp.ones(n)
    carry = (s, net.cache(p, s), net.log_psi(p, s))
    singles = jax.random.randint(jax.random.key(5), (2000, 1), 0, n)
    pairs = jax.vmap(lambda k: jax.random.choice(k, n, (2,), replace=False))(
        jax.random.split(jax.random.key(6), 2000)
    )
    for moves in (singles, pairs):
        carry, _ = jax.jit(lambda c, m: jax.lax.scan(run, c, m))(carry, moves)
    s, theta, log_psi = carry
    assert not np.all(np.asarray(s) == 1.0)
    np.testing.assert_allclose(np.asarray(theta), np.asarray(p["b"] + p["W"] @ s), rtol=0, atol=1e-12)
    assert float(log_psi) == pytest.approx(float(net.log_psi(p, s)), rel=1e-13)


def test_plain_path_agrees_with_the_fast_path():
    n = 7
    net = ansatz.rbm(n)
    p = scaled(net.init(jax.random.key(6)), 20.0)
    s = jnp.asarray(jax.random.rademacher(jax.random.key(7), (n,), dtype=jnp.float64))
    sites = jnp.array([1, 4])
    fast, _ = net.flip(p, s, net.cache(p, s), sites)
    slow_net = ansatz.plain(net)
    slow, cache = slow_net.flip(p, s, slow_net.cache(p, s), sites)
    assert cache == ()
    assert float(fast) == pytest.approx(float(slow), rel=1e-14)
    assert float(slow) == pytest.approx(float(net.log_psi(p, s.at[sites].multiply(-1))), rel=1e-14)


@given(st.floats(-1e4, 1e4, allow_nan=False))
def test_log_cosh_is_finite_and_accurate_to_rounding(x):
    """Against 50-digit mpmath: the error is a few ulp of max(1, |x|) — absolute near 0, where
    ln cosh x ≈ x²/2 is a difference of O(1) terms; that is the accuracy a sum of log
    amplitudes needs (ratios of ψ depend on differences of such sums)."""
    mpmath.mp.dps = 50
    exact = float(mpmath.log(mpmath.cosh(mpmath.mpf(x))))
    got = float(ansatz.log_cosh(jnp.float64(x)))
    assert abs(got - exact) <= 4 * np.finfo(np.float64).eps * max(1.0, abs(x))
    assert float(jax.grad(ansatz.log_cosh)(jnp.float64(x))) == pytest.approx(np.tanh(x), rel=1e-15)


def test_log_cosh_survives_float32_where_the_naive_form_overflows():
    x = jnp.float32(200.0)
    assert not np.isfinite(float(jnp.log(jnp.cosh(x))))
    assert float(ansatz.log_cosh(x)) == pytest.approx(200.0 - np.log(2.0), rel=1e-6)


def test_mean_field_expectations_match_the_product_state_closed_form():
    """⟨σz_i⟩ = tanh 2a_i and ⟨σx_i⟩ = 1/cosh 2a_i, by enumeration of ψ over 2^N states."""
    n = 4
    net = ansatz.mean_field(n)
    p = {"a": jnp.array([0.3, -0.7, 0.05, 1.2])}
    configs = all_configurations(n)
    psi = np.exp(np.asarray(net.log_psi(p, configs)))
    prob = psi**2 / np.sum(psi**2)
    sz = prob @ np.asarray(configs)
    a = np.asarray(p["a"])
    np.testing.assert_allclose(sz, np.tanh(2 * a), rtol=1e-13)
    for i in range(n):
        partner = (np.arange(2**n) ^ (1 << (n - 1 - i))).astype(int)
        sx = np.sum(psi * psi[partner]) / np.sum(psi**2)
        assert sx == pytest.approx(1 / np.cosh(2 * a[i]), rel=1e-13)


def test_jastrow_matches_a_double_loop():
    n = 6
    net = ansatz.jastrow(n)
    p = scaled(net.init(jax.random.key(8)), 30.0)
    a, w = np.asarray(p["a"]), np.asarray(p["w"])
    W = np.zeros((n, n))
    W[np.triu_indices(n, 1)] = w
    for s in np.asarray(all_configurations(n))[::7]:
        loop = a @ s + sum(W[i, j] * s[i] * s[j] for i in range(n) for j in range(i + 1, n))
        assert float(net.log_psi(p, jnp.asarray(s))) == pytest.approx(loop, rel=1e-12, abs=1e-14)
    assert w.shape == (n * (n - 1) // 2,)


def test_feed_forward_matches_a_numpy_forward_pass():
    n = 6
    net = ansatz.feed_forward(n, hidden=(8, 5))
    p = scaled(net.init(jax.random.key(9)), 5.0)
    s = np.asarray(all_configurations(n))
    x = s.T
    for layer in p["layers"]:
        x = np.tanh(np.asarray(layer["W"]) @ x + np.asarray(layer["b"])[:, None])
    direct = np.sum(np.log(np.cosh(np.asarray(p["out"]) @ x)), axis=0)
    np.testing.assert_allclose(np.asarray(net.log_psi(p, s)), direct, rtol=1e-12)
    assert [layer["W"].shape for layer in p["layers"]] == [(8, 6), (5, 8)]


@pytest.mark.parametrize(
    "make", [ansatz.mean_field, ansatz.jastrow, ansatz.rbm, ansatz.feed_forward], ids=lambda f: f.__name__
)
def test_init_is_small_reproducible_and_follows_the_dtype(make):
    net = make(8)
    p = net.init(jax.random.key(10))
    q = net.init(jax.random.key(10))
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(p), jax.tree.leaves(q), strict=True))
    assert all(x.dtype == jnp.float64 for x in jax.tree.leaves(p))
    assert max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(p)) < 0.2
    p32 = net.init(jax.random.key(10), dtype=jnp.float32)
    s = jnp.ones((3, 8), jnp.float32)
    assert net.log_psi(p32, s).dtype == jnp.float32
    # the generic fast path works for every ansatz
    lp, _ = net.flip(p, jnp.ones(8), net.cache(p, jnp.ones(8)), jnp.array([3]))
    assert float(lp) == pytest.approx(float(net.log_psi(p, jnp.ones(8).at[3].set(-1.0))), rel=1e-14)


def test_bad_input_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="positive integer"):
        ansatz.rbm(0)
    with pytest.raises(ValueError, match="alpha"):
        ansatz.rbm(4, alpha=1.5)
    with pytest.raises(ValueError, match="hidden"):
        ansatz.feed_forward(4, hidden=())
    with pytest.raises(ValueError, match="floating"):
        ansatz.rbm(4).init(jax.random.key(0), dtype=jnp.int32)
    net = ansatz.rbm(4)
    with pytest.raises(ValueError, match="shape"):
        net.log_psi(net.init(jax.random.key(0)), jnp.float64(1.0))
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        net.log_psi(net.init(jax.random.key(0)), jnp.ones((3, 5)))
