"""physml.hnn: the Hamiltonian structure of an HNN's field for any parameters (divergence-free,
a Hamiltonian Jacobian, Ω∇H by finite differences), RK4 conservation of H_θ at the measured
fourth order, exact energy factors of RK4 on the oscillator, the data against the closed-form
fields and flows, and trained HNNs against baselines on the long-horizon energy error."""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from physml import hnn
from physml import integrators as it

OMEGA = 1.3
SPRING = it.harmonic_oscillator(OMEGA)
PENDULUM = it.pendulum(0.8)
EPS = np.finfo(np.float64).eps
UNIT_SPRING = it.harmonic_oscillator()  # the chapter's spring; shared by the slower tests (one compilation)


def omega(d: int) -> np.ndarray:
    eye, zero = np.eye(d), np.zeros((d, d))
    return np.block([[zero, eye], [-eye, zero]])


@eqx.filter_jit
def field_jacobian(model, x):
    return jax.jacfwd(model.vector_field)(x)


@eqx.filter_jit
def structure(model, x):
    """The field's Jacobian A, ∇H_θ and the field at x."""
    return jax.jacfwd(model.vector_field)(x), jax.grad(model.hamiltonian)(x), model.vector_field(x)


@eqx.filter_jit
def hamiltonians(model, xs):
    return jax.vmap(model.hamiltonian)(xs)


def spring_energy(x, w=OMEGA):
    return 0.5 * (x[..., 1] ** 2 + w**2 * x[..., 0] ** 2)


def spring_flow(x, t, w=OMEGA):
    """The exact flow of H = (p² + ω²q²)/2: a rotation of (ωq, p)."""
    c, s = np.cos(w * t), np.sin(w * t)
    q, p = x[..., 0], x[..., 1]
    return np.stack([q * c + p / w * s, p * c - w * q * s], axis=-1)


def rk4_energy_factor(wh):
    """|R(iωh)|², R(z) = 1 + z + z²/2 + z³/6 + z⁴/24: RK4's exact energy factor per step."""
    return 1 - wh**6 / 72 + wh**8 / 576


# ------------------------------------------------------------- structure for any θ


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31 - 1), d=st.sampled_from([1, 2]))
def test_hnn_field_is_hamiltonian_for_any_parameters(seed, d):
    k_model, k_x = jax.random.split(jax.random.key(seed))
    model = hnn.HNN(2 * d, width=16, key=k_model)
    A, grad_h, field = (np.asarray(a) for a in structure(model, 2 * jax.random.normal(k_x, (2 * d,))))
    O = omega(d)
    assert abs(np.trace(A)) < 1e-12  # divergence-free
    np.testing.assert_allclose(A.T @ O + O @ A, 0.0, rtol=0, atol=1e-12)  # a Hamiltonian matrix
    np.testing.assert_allclose(field, O @ grad_h, rtol=0, atol=1e-15)
    assert abs(grad_h @ field) < 1e-15 * (1 + grad_h @ grad_h)  # dH/dt = ∇H·Ω∇H = 0 along the flow


@pytest.mark.parametrize("d", [1, 2])
def test_baseline_field_is_neither_divergence_free_nor_hamiltonian(key, d):
    O = omega(d)
    for i in range(5):
        k_model, k_x = jax.random.split(jax.random.fold_in(key, i))
        A = np.asarray(
            field_jacobian(hnn.Baseline(2 * d, width=16, key=k_model), jax.random.normal(k_x, (2 * d,)))
        )
        # measured 0.008-0.2, against 1e-12 for the HNN (for d = 1, AᵀΩ + ΩA = tr(A) Ω)
        assert abs(np.trace(A)) > 1e-3
        assert np.abs(A.T @ O + O @ A).max() > 1e-3


@pytest.mark.parametrize("d", [1, 2])
def test_hnn_field_is_omega_times_the_finite_difference_gradient(key, d):
    model = hnn.HNN(2 * d, width=16, key=key)
    x = jax.random.normal(jax.random.fold_in(key, 1), (2 * d,))
    h, eye = 1e-5, jnp.eye(2 * d)
    grad = (hamiltonians(model, x[None] + h * eye) - hamiltonians(model, x[None] - h * eye)) / (2 * h)
    grad = np.asarray(grad)
    expected = np.concatenate([grad[d:], -grad[:d]])  # (∂H/∂p, -∂H/∂q)
    # central difference: truncation h²/6 |H'''| ~ 1e-11, rounding eps |H| / h ~ 1e-11
    np.testing.assert_allclose(np.asarray(structure(model, x)[2]), expected, rtol=0, atol=1e-9)


def test_rk4_conserves_the_hnn_energy_to_fourth_order(key):
    """max_t |H_θ(x_t) - H_θ(x_0)| over t <= 10 for h = 0.1, 0.05, 0.025. H_θ is a random HNN's
    times 10 (the same orbits, traversed 10 times faster), so that the error is far above rounding.
    Measured over 20 networks: orders 3.89-4.44 at the first halving, 3.95-4.07 at the second."""
    model = hnn.HNN(2, width=16, key=key)
    model = eqx.tree_at(lambda m: m.mlp.layers[-1].weight, model, replace_fn=lambda w: 10 * w)
    x0 = jax.random.normal(jax.random.fold_in(key, 1), (4, 2))
    errors = []
    for n in (100, 200, 400):  # h = 0.1, 0.05, 0.025; 400 steps each (one compilation), the first n used
        path = hnn.rollout(model, x0, 10 / n, 400)[:, : n + 1]
        energy = np.asarray(hamiltonians(model, path.reshape(-1, 2))).reshape(4, n + 1)
        errors.append(np.max(np.abs(energy - energy[:, :1]), axis=1))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    np.testing.assert_allclose(orders[0], 4.0, atol=0.5)
    np.testing.assert_allclose(orders[1], 4.0, atol=0.1)
    assert np.min(errors[-1]) > 1e-13  # resolved above rounding


# ----------------------------------------------------------------------------- rollout


@pytest.mark.parametrize("h", [0.05, 0.2, 0.5])
def test_rk4_rollout_of_the_true_spring_field_has_the_exact_energy_factor(h):
    x0 = jnp.array([[0.3, -0.8], [1.0, 0.0]])
    path = hnn.rollout(hnn.true_field(SPRING), x0, h, 40)
    assert path.shape == (2, 41, 2)
    n = np.arange(41)
    exact = spring_energy(np.asarray(x0))[:, None] * rk4_energy_factor(OMEGA * h) ** n[None]
    np.testing.assert_allclose(spring_energy(np.asarray(path)), exact, rtol=1e-13)
    # energy_error is |E_n - E_0| / E_0 = 1 - factor^n, to the rounding of E_n / E_0 - 1
    expected = np.broadcast_to(np.abs(1 - rk4_energy_factor(OMEGA * h) ** n), (2, 41))
    np.testing.assert_allclose(np.asarray(hnn.energy_error(SPRING, path)), expected, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(np.asarray(hnn.rollout(hnn.true_field(SPRING), x0[0], h, 40)), path[0])


def test_energy_error_is_measured_from_the_bottom_of_the_well():
    # pendulum: E = p²/2 + ω0²(1 - cos q), while physml's H = p²/2 - ω0² cos q
    w0 = 0.8
    x = jnp.array([[0.5, 0.2], [1.0, -0.4], [0.0, 0.1]])
    E = 0.5 * x[:, 1] ** 2 + w0**2 * (1 - jnp.cos(x[:, 0]))
    np.testing.assert_allclose(
        np.asarray(hnn.energy_error(PENDULUM, x)), np.abs(np.asarray(E / E[0] - 1)), rtol=1e-14, atol=1e-16
    )
    # a trajectory scaled by (1 + t) has spring energy E0 (1 + t)²
    t = jnp.linspace(0.0, 2.0, 5)
    path = (1 + t)[:, None] * jnp.array([[0.4, 0.7]])
    np.testing.assert_allclose(
        np.asarray(hnn.energy_error(SPRING, path)), np.asarray((1 + t) ** 2 - 1), rtol=1e-14
    )


class ExactModel(eqx.Module):
    """A "model" whose field is the true one."""

    system: it.Hamiltonian

    def vector_field(self, x):
        return hnn.true_field(self.system)(x)


def test_compare_rollouts_of_the_true_field_are_exact_to_rk4_accuracy():
    x0 = hnn.sample_states(jax.random.key(3), UNIT_SPRING, 4)
    c = hnn.compare_rollouts(UNIT_SPRING, ExactModel(UNIT_SPRING), x0, dt=0.1, t_max=300.0)
    assert c.t.shape == (3001,) and c.true.shape == c.predicted.shape == (4, 3001, 2)
    assert c.rollout_error.shape == c.energy_error.shape == (4, 3001)
    np.testing.assert_allclose(np.asarray(c.t), 0.1 * np.arange(3001), rtol=1e-13)
    # the reference (step h = dt/10) against the exact rotation: RK4's phase error is θ⁵/120 a
    # step (θ = ωh = 0.01), so |error| <= |x| t θ⁴ / 120 = 2.5e-8 |x| at t = 300
    exact = spring_flow(np.asarray(x0)[:, None], np.asarray(c.t)[None], w=1.0)
    bound = 1.2 * float(jnp.max(jnp.linalg.norm(x0, axis=1))) * 300 * 0.01**4 / 120
    np.testing.assert_allclose(np.asarray(c.true), exact, rtol=0, atol=bound)
    # the "model" rollout (step dt): RK4's exact energy factor, to the rounding of 3000 steps
    # (a few ε each, 1.2e-13 measured); the state error is O(h⁴)
    expected = np.broadcast_to(1 - rk4_energy_factor(0.1) ** np.arange(3001), (4, 3001))
    np.testing.assert_allclose(np.asarray(c.energy_error), expected, rtol=0, atol=3000 * 2 * EPS)
    assert 1e-5 < float(jnp.max(c.rollout_error)) < 1.2 * 1.5 * 300 * 0.1**4 / 120


# -------------------------------------------------------------------------------- data


@pytest.mark.parametrize("system", ["spring", "pendulum"])
def test_clean_data_lie_on_true_trajectories_with_the_true_derivatives(key, system):
    H, w = (UNIT_SPRING, 1.0) if system == "spring" else (PENDULUM, 0.8)
    data = hnn.phase_space_data(key, H, 25, t_max=2.9, energy_range=(0.1, 0.6), noise=0.0)
    x, dx = np.asarray(data.x), np.asarray(data.dx)
    assert x.shape == dx.shape == (750, 2) and data.t.shape == data.energy.shape == (750,)
    np.testing.assert_array_equal(np.asarray(data.trajectory), np.repeat(np.arange(25), 30))
    np.testing.assert_allclose(np.asarray(data.t), np.tile(np.linspace(0, 2.9, 30), 25), rtol=1e-14)
    q, p = x[:, 0], x[:, 1]
    force = -(w**2) * q if system == "spring" else -(w**2) * np.sin(q)
    np.testing.assert_allclose(dx, np.stack([p, force], axis=1), rtol=0, atol=1e-12)
    E = 0.5 * p**2 + (0.5 * w**2 * q**2 if system == "spring" else w**2 * (1 - np.cos(q)))
    # RK4 with h = 0.01: on the spring the energy factor is 1 - (ωh)⁶/72 a step, 2e-11 in all
    np.testing.assert_allclose(E, np.asarray(data.energy), rtol=2e-10)
    # the pre-roll that picks the phase (64 steps of at most 2π/64ω) loses less than 64 (2π/64)⁶/72
    assert 0.1 * (1 - 1e-6) <= E.min() and E.max() <= 0.6 * (1 + 1e-6)
    if system == "spring":  # consecutive samples are the exact flow Δt = 0.1 apart, to 10 θ⁵/120 |x| = 3e-11
        step = spring_flow(x.reshape(25, 30, 2)[:, :-1], 0.1, w=1.0)
        np.testing.assert_allclose(step, x.reshape(25, 30, 2)[:, 1:], rtol=0, atol=1e-10)


def test_noise_is_independent_gaussian_with_the_stated_deviation(key):
    clean = hnn.phase_space_data(key, UNIT_SPRING, 25, noise=0.0)
    noisy = hnn.phase_space_data(key, UNIT_SPRING, 25, noise=0.1)
    np.testing.assert_array_equal(np.asarray(clean.energy), np.asarray(noisy.energy))
    z = np.concatenate([np.asarray(noisy.x - clean.x).ravel(), np.asarray(noisy.dx - clean.dx).ravel()]) / 0.1
    # 3000 standard normals: each check fails by chance with probability < 1e-6
    assert z.size == 3000
    assert abs(z.mean()) < 5 / math.sqrt(z.size)
    assert abs(np.sum(z**2) - z.size) < 5 * math.sqrt(2 * z.size)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 5 / math.sqrt(z.size)


def test_sampled_energies_are_uniform_in_the_range(key):
    x = hnn.sample_states(key, PENDULUM, 100, energy_range=(0.2, 1.0))
    assert x.shape == (100, 2)
    E = 0.5 * x[:, 1] ** 2 + 0.64 * (1 - jnp.cos(x[:, 0]))
    # Kolmogorov-Smirnov against U(0.2, 1.0): false-failure rate 1e-3
    assert stats.kstest(np.asarray(E), stats.uniform(0.2, 0.8).cdf).pvalue > 1e-3
    # a random phase: q > 0 as often as q < 0 (binomial test, false-failure rate 1e-3)
    assert stats.binomtest(int(jnp.sum(x[:, 0] > 0)), 100).pvalue > 1e-3
    x2 = hnn.sample_states(key, SPRING, 25, dof=2, energy_range=(0.5, 0.5))
    energy = spring_energy(x2[:, ::2]) + spring_energy(x2[:, 1::2])  # (q1, p1) and (q2, p2)
    np.testing.assert_allclose(np.asarray(energy), 0.5, rtol=1e-6)  # pre-roll error < 64 (2π/64)⁶/72


# ---------------------------------------------------------------------------- training


KINDS = ("hnn", "baseline")


@functools.cache
def chapter_models(seed):
    """The chapter's recipe on the spring for one seed (fresh data and weights), models in float32:
    the data, and for each kind the trained model and its losses. Shared by the tests below."""
    data = hnn.phase_space_data(jax.random.key(seed), UNIT_SPRING, 25)
    data = data._replace(x=data.x.astype(jnp.float32), dx=data.dx.astype(jnp.float32))
    return data, {kind: hnn.train(jax.random.key(1000 + seed), kind, data) for kind in KINDS}


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_train_minimises_the_field_loss_and_learns_the_field(kind):
    data, runs = chapter_models(0)
    model, losses = runs[kind]
    assert losses.shape == (2000,) and losses.dtype == jnp.float32
    assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array)))
    cls = hnn.HNN if kind == "hnn" else hnn.Baseline
    initial = jax.tree.map(
        lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a,
        cls(2, 64, key=jax.random.key(1000)),
    )
    np.testing.assert_allclose(float(losses[0]), float(hnn.field_loss(initial, data)), rtol=1e-6)
    # the noise floor: 0.01 from the derivatives' noise plus ≈ 0.01 from the states' (|∂f/∂x| ≈ 1)
    assert 0.015 < float(hnn.field_loss(model, data)) < 0.025 < 0.1 * float(losses[0])
    # on clean held-out data the field is learned far below the noise: measured 6e-4-2e-3
    clean = hnn.phase_space_data(jax.random.key(99), UNIT_SPRING, 25, noise=0.0)
    assert float(hnn.field_loss(model, clean)) < 5e-3


@pytest.mark.slow
def test_training_is_deterministic_given_the_key():
    data, runs = chapter_models(0)
    model, losses = hnn.train(jax.random.key(1000), "baseline", data)
    np.testing.assert_array_equal(np.asarray(losses), np.asarray(runs["baseline"][1]))
    leaves = zip(jax.tree.leaves(model), jax.tree.leaves(runs["baseline"][0]), strict=True)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in leaves)


@pytest.mark.slow
def test_hnn_energy_error_beats_the_baseline_tenfold_on_the_spring():
    """The acceptance test. Three seeds (data and weights), four initial states in the training
    range, t = 0...300 (about 48 periods), float32 models as in the chapter. Measured over seeds
    0-4: the HNN's final error (median over the states) 0.004-0.03, its largest 0.04-0.12; the
    baseline's final error 0.3-170 (it spirals in or out); the ratio 25-10⁴ seed by seed."""
    x0 = hnn.sample_states(jax.random.key(7), UNIT_SPRING, 4)
    errors = {kind: [] for kind in KINDS}
    for seed in range(3):
        for kind, (model, _) in chapter_models(seed)[1].items():
            errors[kind].append(
                np.asarray(hnn.compare_rollouts(UNIT_SPRING, model, x0, t_max=300.0).energy_error)
            )
    final = {kind: np.median([np.median(e[:, -1]) for e in errors[kind]]) for kind in KINDS}
    assert final["baseline"] >= 10 * final["hnn"], final
    # bounded: H_θ is conserved exactly by the flow, only its level sets differ from H's
    assert max(e.max() for e in errors["hnn"]) < 0.25


# --------------------------------------------------------------------------- bad input


def test_bad_systems_and_data_arguments_raise(key):
    with pytest.raises(ValueError, match=r"physml\.integrators\.Hamiltonian"):
        hnn.phase_space_data(key, lambda x: x, 5)
    with pytest.raises(ValueError, match=r"physml\.integrators\.Hamiltonian"):
        hnn.true_field((lambda p: p, lambda q: q))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_trajectories must be an integer >= 1"):
            hnn.phase_space_data(key, SPRING, bad)
    with pytest.raises(ValueError, match="points must be an integer >= 2"):
        hnn.phase_space_data(key, SPRING, 5, points=1)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="t_max must be a positive finite number"):
            hnn.phase_space_data(key, SPRING, 5, t_max=bad)
    for bad in (-0.1, float("inf"), "0.1"):
        with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
            hnn.phase_space_data(key, SPRING, 5, noise=bad)
    for bad in ((1.0,), (0.5, float("nan")), "ab", 1.0):
        with pytest.raises(ValueError, match=r"energy_range must be a pair of numbers"):
            hnn.phase_space_data(key, SPRING, 5, energy_range=bad)
    for bad in ((1.0, 0.5), (0.0, 1.0), (-1.0, 1.0)):
        with pytest.raises(ValueError, match="0 < lo <= hi"):
            hnn.sample_states(key, SPRING, 5, energy_range=bad)
    with pytest.raises(ValueError, match="dof must be an integer >= 1"):
        hnn.sample_states(key, SPRING, 5, dof=0)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        hnn.sample_states(key, SPRING, 0)


def test_systems_the_sampler_cannot_handle_raise(key):
    heavy = it.Hamiltonian(lambda p: jnp.sum(p**2), lambda q: 0.5 * jnp.sum(q**2))  # mass 1/2
    with pytest.raises(ValueError, match=r"T\(p\) = \|p\|\^2 / 2"):
        hnn.sample_states(key, heavy, 5)
    with pytest.raises(ValueError, match="strict minimum at q = 0"):
        hnn.sample_states(key, it.kepler(), 5, dof=2)  # V = -1/|q| has no minimum at 0


def test_bad_networks_raise(key):
    for cls in (hnn.HNN, hnn.Baseline):
        with pytest.raises(ValueError, match="must be even"):
            cls(3, key=key)
        with pytest.raises(ValueError, match=r"dim .* must be an integer >= 2"):
            cls(0, key=key)
        with pytest.raises(ValueError, match="width must be an integer >= 1"):
            cls(2, 0, key=key)
        with pytest.raises(ValueError, match="depth must be an integer >= 1"):
            cls(2, 8, 1.5, key=key)


def test_bad_training_arguments_raise(key):
    data = hnn.PhaseData(jnp.ones((6, 2)), jnp.ones((6, 2)), jnp.zeros(6), jnp.ones(6), jnp.zeros(6, int))
    with pytest.raises(ValueError, match='kind must be "hnn" or "baseline"'):
        hnn.train(key, "mlp", data)
    with pytest.raises(ValueError, match="data must be a PhaseData"):
        hnn.train(key, "hnn", (data.x, data.dx))
    with pytest.raises(ValueError, match=r"one shape \(n, 2d\)"):
        hnn.train(key, "hnn", data._replace(dx=jnp.ones((6, 4))))
    with pytest.raises(ValueError, match=r"one shape \(n, 2d\)"):
        hnn.train(key, "hnn", data._replace(x=jnp.ones((6, 3)), dx=jnp.ones((6, 3))))
    with pytest.raises(ValueError, match="must be float arrays"):
        hnn.train(key, "hnn", data._replace(x=jnp.ones((6, 2), int)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        hnn.train(key, "hnn", data._replace(dx=data.dx.at[0, 0].set(jnp.nan)))
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        hnn.train(key, "hnn", data, steps=0)
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        hnn.train(key, "baseline", data, learning_rate=-1e-3)
    with pytest.raises(ValueError, match="vector_field"):
        hnn.field_loss(object(), data)


def test_bad_rollout_arguments_raise():
    field = hnn.true_field(SPRING)
    with pytest.raises(ValueError, match="model_or_field must be a model with vector_field"):
        hnn.rollout(3.0, jnp.ones(2), 0.1, 10)
    for bad in (jnp.ones(3), jnp.ones((2, 2, 2)), jnp.ones((2, 0)), "x"):
        with pytest.raises(ValueError, match=r"x0 must"):
            hnn.rollout(field, bad, 0.1, 10)
    with pytest.raises(ValueError, match="x0 must be a float array"):
        hnn.rollout(field, jnp.ones(2, int), 0.1, 10)
    with pytest.raises(ValueError, match="x0 holds NaN"):
        hnn.rollout(field, jnp.array([jnp.nan, 1.0]), 0.1, 10)
    with pytest.raises(ValueError, match="dt must be a positive finite number"):
        hnn.rollout(field, jnp.ones(2), -0.1, 10)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        hnn.rollout(field, jnp.ones(2), 0.1, 0)
    for bad in (jnp.ones(2), jnp.ones((4, 3)), jnp.ones((4, 2), int)):
        with pytest.raises(ValueError, match=r"trajectory must be a float array of shape \(\.\.\., n, 2d\)"):
            hnn.energy_error(SPRING, bad)
    with pytest.raises(ValueError, match=r"physml\.integrators\.Hamiltonian"):
        hnn.energy_error("spring", jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="vector_field"):
        hnn.compare_rollouts(SPRING, field, jnp.ones((1, 2)))
    with pytest.raises(ValueError, match="t_max must be a positive finite number"):
        hnn.compare_rollouts(SPRING, ExactModel(SPRING), jnp.ones((1, 2)), t_max=0.0)
