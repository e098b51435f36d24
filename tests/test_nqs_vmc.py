"""physml.nqs.vmc and physml.nqs.sr against exact results: the Hamiltonian's sparse matrix,
autodiff and finite differences of the exact energy, a closed-form natural gradient, and the
free-fermion energy of the TFIM chain."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from physml.nqs import ansatz, exact, lattice, operators, sampling, sr, vmc


def rbm_state(n: int, seed: int, alpha: int = 1, factor: float = 30.0):
    net = ansatz.rbm(n, alpha)
    return net, jax.tree.map(lambda x: factor * x, net.init(jax.random.key(seed)))


HAMILTONIANS = {
    "tfim": operators.tfim(lattice.chain(8), J=1.0, h=0.7),
    "heisenberg": operators.heisenberg(lattice.chain(8)),
    "heisenberg-unrotated": operators.heisenberg(lattice.chain(8), marshall=False),
    "tfim-square": operators.tfim(lattice.square(2, 4), J=0.8, h=1.3),
}


@pytest.mark.parametrize("name", HAMILTONIANS)
def test_local_energy_is_h_psi_over_psi(name):
    """E_loc(s) = (Hψ)(s)/ψ(s) for all 2^N states, with Hψ from the sparse matrix."""
    ham = HAMILTONIANS[name]
    net, params = rbm_state(8, 1)
    configs = vmc.enumerate_configurations(8)
    psi = np.exp(np.asarray(net.log_psi(params, configs)))
    expected = (operators.sparse_matrix(ham) @ psi) / psi
    got = np.asarray(vmc.local_energy(ham, net.log_psi, params, configs))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_zero_elements_are_harmless_even_where_the_ratio_overflows():
    """The TFIM at h = 0 has flip elements 0: with ψ(s') / ψ(s) = e^{±800} (overflow) the local
    energy is still exactly the diagonal element, and its gradient is finite."""
    ham = operators.tfim(lattice.chain(4), J=1.0, h=0.0)
    log_psi = lambda p, s: p * (s @ jnp.arange(4.0))
    s = -jnp.ones(4)  # flipping site i raises ln ψ by 800 i
    assert float(vmc.local_energy(ham, log_psi, 400.0, s)) == float(operators.diagonal(ham, s)) == -4.0
    assert float(jax.grad(lambda p: vmc.local_energy(ham, log_psi, p, s))(400.0)) == 0.0


@pytest.mark.parametrize("name", ["tfim", "heisenberg", "tfim-square"])
def test_exact_energy_is_the_rayleigh_quotient_and_obeys_the_variational_principle(name):
    ham = HAMILTONIANS[name]
    net, params = rbm_state(8, 2)
    psi = np.exp(np.asarray(net.log_psi(params, vmc.enumerate_configurations(8))))
    rayleigh = exact.energy_of(ham, psi)
    assert float(vmc.exact_energy(ham, net.log_psi, params)) == pytest.approx(rayleigh, rel=1e-12)
    assert float(vmc.exact_estimate(ham, net.log_psi, params).energy.mean) == pytest.approx(
        rayleigh, rel=1e-12
    )
    assert rayleigh > exact.ground_state(ham).energy


def test_exact_energy_in_the_sz0_sector_matches_the_sector_matrix():
    ham = HAMILTONIANS["heisenberg"]
    net, params = rbm_state(8, 3)
    sector = vmc.enumerate_configurations(8, "sz0")
    assert sector.shape == (70, 8)
    psi = np.exp(np.asarray(net.log_psi(params, sector)))
    h = operators.sparse_matrix(ham, sector="sz0")
    rayleigh = psi @ (h @ psi) / (psi @ psi)
    assert float(vmc.exact_energy(ham, net.log_psi, params, sector, batch_size=16)) == pytest.approx(
        rayleigh, rel=1e-12
    )


@pytest.mark.parametrize("make", [ansatz.rbm, ansatz.jastrow, ansatz.feed_forward], ids=lambda f: f.__name__)
def test_exact_gradient_is_the_gradient_of_the_exact_energy(make):
    """The covariance form 2⟨(E_loc - E)(O - ⟨O⟩)⟩ summed exactly equals jax.grad of the
    Rayleigh quotient, and a central finite difference along a random direction."""
    ham = HAMILTONIANS["tfim"]
    net = make(8)
    params = jax.tree.map(lambda x: 20.0 * x, net.init(jax.random.key(4)))
    est = vmc.exact_estimate(ham, net.log_psi, params)
    energy = lambda p: vmc.exact_energy(ham, net.log_psi, p)
    by_autodiff = jax.grad(energy)(params)
    flat = jax.flatten_util.ravel_pytree
    np.testing.assert_allclose(flat(est.gradient)[0], flat(by_autodiff)[0], rtol=1e-10, atol=1e-12)
    direction = jax.tree.map(lambda x: jax.random.normal(jax.random.key(5), x.shape), params)
    step = 1e-5
    shifted = lambda t: jax.tree.map(lambda x, d: x + t * d, params, direction)
    finite_difference = (energy(shifted(step)) - energy(shifted(-step))) / (2 * step)
    along = sum(
        jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(est.gradient), jax.tree.leaves(direction), strict=True)
    )
    assert float(along) == pytest.approx(float(finite_difference), rel=1e-7)


def test_jacobian_gives_the_quantum_geometric_tensor():
    """XᵀX = ⟨OOᵀ⟩ - ⟨O⟩⟨O⟩ᵀ under |ψ|², with the RBM's O = ∂ ln ψ written out in NumPy
    (columns in ravel_pytree order: W, a, b)."""
    net, params = rbm_state(6, 6)
    ham = operators.tfim(lattice.chain(6), h=0.7)
    s = np.asarray(vmc.enumerate_configurations(6))
    est = vmc.exact_estimate(ham, net.log_psi, params)
    lp = np.asarray(net.log_psi(params, s))
    p = np.exp(2 * (lp - lp.max()))
    p /= p.sum()
    t = np.tanh(s @ np.asarray(params["W"]).T + np.asarray(params["b"]))
    o = np.concatenate([(t[:, :, None] * s[:, None, :]).reshape(64, -1), s, t], axis=1)
    mean = p @ o
    qgt = (o * p[:, None]).T @ o - np.outer(mean, mean)
    np.testing.assert_allclose(np.asarray(est.jacobian.T @ est.jacobian), qgt, rtol=1e-10, atol=1e-13)


def test_sampled_energy_agrees_with_the_exact_energy_within_its_error():
    """4000 independent chains (one sample each after 60 sweeps) on the 8-site TFIM: the
    sample mean is within 4.5 of its standard errors of the exact energy (false-failure rate
    < 1e-5), and the error is within 10 % of √(Var E_loc / n) (independent samples)."""
    ham = HAMILTONIANS["tfim"]
    net, params = rbm_state(8, 7)
    sampler = sampling.metropolis(net, n_samples=4000, n_chains=4000, burn_in=59)
    samples, _ = sampler.sample(jax.random.key(9), params, sampler.init(jax.random.key(8), params))
    est = vmc.estimate(ham, net.log_psi, params, samples)
    exact_est = vmc.exact_estimate(ham, net.log_psi, params)
    e, err = float(est.energy.mean), float(est.energy.error)
    assert abs(e - float(exact_est.energy.mean)) < 4.5 * err
    assert err == pytest.approx(np.sqrt(float(exact_est.energy.variance) / 4000), rel=0.1)
    assert est.jacobian.shape == (4000, 8 + 8 + 64)


def test_sampled_gradient_is_the_covariance_of_the_samples():
    ham = HAMILTONIANS["tfim"]
    net, params = rbm_state(8, 10)
    samples = sampling.random_configurations(jax.random.key(11), 60, 8).reshape(3, 20, 8)
    est = vmc.estimate(ham, net.log_psi, params, samples)
    flat = np.asarray(samples.reshape(60, 8))
    e_loc = np.asarray(vmc.local_energy(ham, net.log_psi, params, flat))
    o = np.asarray(vmc.log_derivatives(net.log_psi, params, flat))
    expected = 2 * np.mean((e_loc - e_loc.mean())[:, None] * (o - o.mean(axis=0)), axis=0)
    got = jax.flatten_util.ravel_pytree(est.gradient)[0]
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- SR


def closed_form_natural_gradient(x, g, shift):
    """(S + λ)^{-1} g for a 2 × 2 S = XᵀX, by the explicit inverse."""
    a, b, c = x[:, 0] @ x[:, 0] + shift, x[:, 0] @ x[:, 1], x[:, 1] @ x[:, 1] + shift
    return np.array([c * g[0] - b * g[1], a * g[1] - b * g[0]]) / (a * c - b * b)


@pytest.mark.parametrize("solver", sr.SOLVERS)
def test_sr_step_on_a_two_parameter_toy_is_the_closed_form_natural_gradient(solver):
    x = np.array([[0.3, -0.1], [-0.5, 0.4], [0.2, -0.3]])  # nearly collinear columns: S ill-conditioned
    g = np.array([0.7, -0.2])
    for shift in (1e-3, 0.1):
        expected = closed_form_natural_gradient(x, g, shift)
        got = sr.natural_gradient(jnp.asarray(x), jnp.asarray(g), shift, solver=solver)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-9)
    opt = sr.sr(0.05, diag_shift=0.1, solver=solver)
    params = {"u": jnp.zeros(1), "v": jnp.zeros(1)}
    updates, _ = opt.update(
        {"u": jnp.array([0.7]), "v": jnp.array([-0.2])}, opt.init(params), params, jacobian=x
    )
    np.testing.assert_allclose(
        [float(updates["u"][0]), float(updates["v"][0])],
        -0.05 * closed_form_natural_gradient(x, g, 0.1),
        rtol=1e-9,
    )


def test_sr_diag_shift_schedule_is_followed():
    x, g = np.array([[1.0, 0.0], [0.0, 2.0]]), jnp.array([1.0, 1.0])
    opt = sr.scale_by_sr(optax.exponential_decay(1.0, transition_steps=1, decay_rate=0.5))
    params = jnp.zeros(2)
    state = opt.init(params)
    for shift in (1.0, 0.5, 0.25):
        updates, state = opt.update(g, state, params, jacobian=x)
        np.testing.assert_allclose(np.asarray(updates), [1 / (1 + shift), 1 / (4 + shift)], rtol=1e-12)


def test_sr_rejects_bad_input():
    with pytest.raises(ValueError, match="solver"):
        sr.sr(0.1, solver="qr")
    with pytest.raises(ValueError, match="positive"):
        sr.scale_by_sr(0.0)
    with pytest.raises(ValueError, match="shape"):
        sr.natural_gradient(jnp.ones((3, 2)), jnp.ones(3), 0.1)


# ----------------------------------------------------------------------------- the driver


def test_vmc_with_exact_sums_reaches_the_tfim_ground_state_of_ten_spins():
    """SR on an RBM (α = 1) with exact sums, no sampling noise: relative error ≤ 1e-4 after
    100 iterations against the free-fermion energy of the periodic chain at h = J."""
    n = 10
    ham = operators.tfim(lattice.chain(n), J=1.0, h=1.0)
    e0 = exact.tfim_chain_energy(n, 1.0, 1.0)
    net = ansatz.rbm(n)
    result = vmc.run_vmc(ham, net, sr.sr(0.05, 1e-3), jax.random.key(12), n_iter=100, progress=False)
    final = float(vmc.exact_energy(ham, net.log_psi, result.state.params))
    assert final >= e0 - 1e-10  # the variational principle
    assert (final - e0) / abs(e0) <= 1e-4
    log = result.log
    assert log.energy.shape == (100,) and np.all(log.error == 0)
    assert np.all(log.energy >= e0 - 1e-10)


def test_vmc_with_sampling_on_heisenberg_keeps_the_sector_and_improves():
    """Exchange moves, Marshall-rotated Heisenberg ring of 8, 40 SR iterations from a random
    RBM: the exact energy of the final state is within 1e-3 of E0 relative (a fixed-seed run;
    it reaches 5e-5), every iteration's R̂ is finite, and the chains are still in S^z = 0."""
    n = 8
    ham = operators.heisenberg(lattice.chain(n))
    net = ansatz.rbm(n)
    sampler = sampling.metropolis(net, n_samples=512, n_chains=64, move="exchange", burn_in=2)
    result = vmc.run_vmc(
        ham, net, sr.sr(0.05, 0.01), jax.random.key(13), n_iter=40, sampler=sampler, progress=False
    )
    sector = vmc.enumerate_configurations(n, "sz0")
    e0 = exact.ground_state(ham, sector="sz0").energy
    final = float(vmc.exact_energy(ham, net.log_psi, result.state.params, sector))
    assert e0 <= final <= e0 + 1e-3 * abs(e0)
    assert np.all(np.asarray(result.state.sampler.s).sum(axis=1) == 0)
    assert np.all(np.isfinite(result.log.r_hat)) and np.all(result.log.error > 0)
    assert np.all((result.log.acceptance > 0) & (result.log.acceptance < 1))


@pytest.mark.parametrize("make", [lambda: optax.sgd(0.02), lambda: optax.adam(0.01)], ids=["sgd", "adam"])
def test_plain_optax_optimizers_in_the_driver_follow_the_exact_gradient(make):
    """With exact sums the driver is gradient descent on the Rayleigh quotient: ten steps
    equal a plain optax loop on jax.grad of exact_energy."""
    n = 6
    ham = operators.tfim(lattice.chain(n), h=1.0)
    net = ansatz.rbm(n)
    params = jax.tree.map(lambda x: 20.0 * x, net.init(jax.random.key(14)))
    result = vmc.run_vmc(ham, net, make(), jax.random.key(0), n_iter=10, params=params, progress=False)
    opt = make()
    state = opt.init(params)
    energies = []
    for _ in range(10):
        energy, grad = jax.value_and_grad(vmc.exact_energy, argnums=2)(ham, net.log_psi, params)
        energies.append(float(energy))
        updates, state = opt.update(grad, state, params)
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(result.log.energy, energies, rtol=1e-12)
    flat = lambda p: jax.flatten_util.ravel_pytree(p)[0]
    np.testing.assert_allclose(flat(result.state.params), flat(params), rtol=1e-9, atol=1e-12)
    assert energies[-1] < energies[0]


def test_driver_continues_from_a_state_and_rejects_bad_input():
    n = 6
    ham = operators.tfim(lattice.chain(n), h=1.0)
    net = ansatz.rbm(n)
    first = vmc.run_vmc(ham, net, sr.sr(0.05), jax.random.key(15), n_iter=5, progress=False)
    more = vmc.run_vmc(ham, net, sr.sr(0.05), jax.random.key(16), n_iter=5, state=first.state, progress=False)
    assert more.log.energy[0] == pytest.approx(float(vmc.exact_energy(ham, net.log_psi, first.state.params)))
    with pytest.raises(ValueError, match="sites"):
        vmc.run_vmc(ham, ansatz.rbm(4), sr.sr(0.05), jax.random.key(0), n_iter=1)
    with pytest.raises(ValueError, match="LocalHamiltonian"):
        vmc.vmc("tfim", net, sr.sr(0.05))
    with pytest.raises(ValueError, match="exact sums"):
        vmc.vmc(
            ham, net, sr.sr(0.05), sampling.metropolis(net), configurations=vmc.enumerate_configurations(n)
        )
    with pytest.raises(ValueError, match="n_iter"):
        vmc.run_vmc(ham, net, sr.sr(0.05), jax.random.key(0), n_iter=-1)
    with pytest.raises(ValueError, match="chains, samples_per_chain"):
        vmc.estimate(ham, net.log_psi, first.state.params, jnp.ones((4, n)))
