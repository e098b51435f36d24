"""physml.generating: the map of a generating function against symplectic Euler, its
symplecticity for any weights, its derivatives against finite differences, the flow data
against closed forms, and trained maps against the pendulum's flow."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physml import generating as Gm
from physml import integrators as I


def random_map(seed, dim, scale=0.3, n_newton=3):
    return Gm.GeneratingMap(Gm.GeneratorMLP(dim, 16, scale=scale, key=jax.random.key(seed)), n_newton)


on_batch = eqx.filter_jit(lambda f, x: jax.vmap(f)(x))


@eqx.filter_jit
def residuals(model, x):
    """Symplecticity and Newton residuals of a map at states ``(n, 2d)``."""
    symplectic = Gm.symplecticity_residual(model, x)
    implicit = jnp.max(jnp.abs(jax.vmap(model.implicit_residual)(x)), axis=-1)
    return symplectic, implicit


# ------------------------------------------------------------------------------- the maps


@settings(max_examples=6)
@given(seed=st.integers(0, 2**31 - 1), dim=st.sampled_from([1, 2]))
def test_generating_map_is_symplectic_for_any_weights(seed, dim):
    model = random_map(seed, dim)
    x = 1.5 * jax.random.normal(jax.random.key(seed), (16, 2 * dim))
    symplectic, implicit = residuals(model, x)
    assert float(jnp.max(implicit)) <= 1e-12  # the Newton solve converged
    assert float(jnp.max(symplectic)) <= 1e-10


@eqx.filter_jit
def generating_and_euler_steps(system, h, x):
    """One step of the map of G = hH and of symplectic Euler in both orders, at states (n, 2d)."""
    model = Gm.GeneratingMap(lambda q, P: h * (system.kinetic(P) + system.potential(q)))
    euler = lambda order: Gm.integrator_map(I.symplectic_euler(system, order), h)
    return jax.vmap(model)(x), jax.vmap(euler("kick-drift"))(x), jax.vmap(euler("drift-kick"))(x)


@pytest.mark.parametrize("system, dim", [(I.pendulum(), 1), (I.kepler(), 2)])
def test_generating_function_hH_is_kick_drift_symplectic_euler(key, system, dim):
    x = jax.random.uniform(key, (20, 2 * dim), minval=0.5, maxval=1.5)  # away from Kepler's singularity
    new, kick_drift, drift_kick = generating_and_euler_steps(system, 0.2, x)
    np.testing.assert_allclose(new, kick_drift, rtol=0, atol=1e-12)
    assert float(jnp.min(jnp.max(jnp.abs(new - drift_kick), axis=-1))) > 1e-3  # the other order: O(h^2) apart


@eqx.filter_jit
def derivatives_and_differences(model, x, direction, h):
    """The map's Jacobian and the gradient of a loss by the weights along ``direction``, by
    autodiff and by central differences of step ``h``."""
    jac = jax.jacfwd(model)(x)
    steps = h * jnp.eye(x.size)
    ends = jax.vmap(model)(jnp.concatenate([x[None] + steps, x[None] - steps]))
    fd = (ends[: x.size] - ends[x.size :]).T / (2 * h)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    loss = lambda p: jnp.sum(eqx.combine(p, static)(x) ** 2)
    grads = jax.grad(loss)(params)
    along = sum(
        jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grads), jax.tree.leaves(direction), strict=True)
    )
    shifted = jax.vmap(lambda t: loss(jax.tree.map(lambda a, d: a + t * d, params, direction)))
    ends = shifted(jnp.array([h, -h]))
    return jac, fd, along, (ends[0] - ends[1]) / (2 * h)


def test_derivatives_through_the_last_newton_step_are_the_implicit_ones(key):
    # autodiff (through the last Newton step only) against central differences of the map:
    # truncation h^2 |third derivative| ~ 1e-12, rounding 1e-16 / h ~ 1e-10
    # (d = 1; d = 2, whose solve is jnp.linalg.solve, is checked through its symplecticity)
    model = random_map(3, 1, scale=0.5)
    x = jax.random.normal(key, (2,))
    params = eqx.filter(model, eqx.is_inexact_array)
    direction = jax.tree.map(lambda a: jax.random.normal(key, a.shape), params)
    jac, fd, along, along_fd = derivatives_and_differences(model, x, direction, 1e-6)
    np.testing.assert_allclose(jac, fd, rtol=0, atol=1e-8)
    np.testing.assert_allclose(along, along_fd, rtol=1e-7)


def test_mlp_map_and_explicit_euler_are_not_symplectic(key):
    x = jax.random.normal(key, (8, 2))
    mlp = Gm.MLPMap(1, 16, scale=0.3, key=key)
    assert float(jnp.min(Gm.symplecticity_residual(mlp, x))) > 1e-3
    # explicit Euler on the pendulum: det J = 1 + h^2 cos q, and with d = 1 J^T Omega J = det(J) Omega
    h = 0.1
    euler = Gm.integrator_map(I.euler(I.pendulum()), h)
    expected = h**2 * jnp.abs(jnp.cos(x[:, 0]))
    np.testing.assert_allclose(Gm.symplecticity_residual(euler, x), expected, rtol=1e-12)


def test_iterate_is_the_repeated_map(key):
    model = random_map(1, 1)
    x0 = jnp.array([0.3, -0.2])
    orbit = Gm.iterate(model, x0, 5)
    assert orbit.shape == (6, 2)
    np.testing.assert_array_equal(orbit[0], x0)
    np.testing.assert_allclose(orbit[1:], on_batch(model, orbit[:-1]), rtol=0, atol=1e-15)


def test_phase_energy_matches_the_integrators_energy(key):
    system = I.pendulum(1.3)
    x = jax.random.normal(key, (3, 4, 2))
    expected = I.energy(system, I.State(x[..., :1], x[..., 1:], jnp.zeros((3, 4))))
    np.testing.assert_allclose(Gm.phase_energy(system, x), expected, rtol=1e-14)


# ------------------------------------------------------------------------------- the data


def test_map_data_is_the_flow_of_the_oscillator(key):
    omega, h = 1.3, 0.4
    data = Gm.map_data(key, I.harmonic_oscillator(omega), 50, h, dim=2, q_max=2.0, p_max=0.5)
    x, y = np.asarray(data.x), np.asarray(data.y)
    q, p = x[:, :2], x[:, 2:]
    assert np.max(np.abs(q)) <= 2.0 and np.max(np.abs(p)) <= 0.5
    # exactly: 32 RK4 steps are the matrix R(hA/32)^32, R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24
    A = np.block([[np.zeros((2, 2)), np.eye(2)], [-(omega**2) * np.eye(2), np.zeros((2, 2))]])
    Z = A * h / 32
    R = np.eye(4) + Z + Z @ Z / 2 + Z @ Z @ Z / 6 + Z @ Z @ Z @ Z / 24
    np.testing.assert_allclose(y, x @ np.linalg.matrix_power(R, 32).T, rtol=0, atol=1e-14)
    # and close to the exact rotation: RK4's phase error (omega h/32)^5/120 a step, 2e-10 |x| in all
    c, s = np.cos(omega * h), np.sin(omega * h)
    exact = np.concatenate([q * c + p / omega * s, p * c - omega * q * s], axis=1)
    np.testing.assert_allclose(y, exact, rtol=0, atol=1e-9)


def test_map_data_conserves_the_pendulum_energy(key):
    data = Gm.map_data(key, I.pendulum(), 100, 0.1)
    energy = lambda x: Gm.phase_energy(I.pendulum(), x)
    np.testing.assert_allclose(energy(data.y), energy(data.x), rtol=0, atol=1e-12)  # RK4: ~1e-13


# ------------------------------------------------------------------------------ training


@pytest.fixture(scope="module")
def trained():
    pendulum, h = I.pendulum(), 0.1
    k_data, k_test, k_model = jax.random.split(jax.random.key(11), 3)
    data = Gm.map_data(k_data, pendulum, 256, h)
    test = Gm.map_data(k_test, pendulum, 256, h)
    models = {kind: Gm.train_map(k_model, kind, data, steps=1000)[0] for kind in Gm.KINDS}
    return test, models


@pytest.mark.slow  # trains two maps: ~10 s in float64
def test_trained_generating_map_is_a_symplectic_pendulum_step(trained):
    test, models = trained
    generating, mlp = models["generating"], models["mlp"]
    # measured (float64): relative step error 0.011 (key 11; 0.010-0.012 over six keys);
    # explicit Euler's is 0.04; the mlp map's symplecticity residual 1e-3 (median)
    assert float(Gm.map_error(generating, test)) < 0.02
    symplectic, implicit = residuals(generating, test.x[:64])
    assert float(jnp.max(symplectic)) <= 1e-10 and float(jnp.max(implicit)) <= 1e-12
    assert float(jnp.median(Gm.symplecticity_residual(mlp, test.x[:64]))) > 1e-4


@pytest.mark.slow
def test_the_symplectic_map_keeps_the_energy_bounded_and_the_mlp_map_drifts(trained):
    _, models = trained
    x0 = jnp.array([1.0, 0.0])
    energy = {kind: Gm.phase_energy(I.pendulum(), Gm.iterate(m, x0, 10_000)) for kind, m in models.items()}
    first, last = (lambda E: E[:1000]), (lambda E: E[-1000:])
    for kind, E in energy.items():
        assert bool(jnp.all(jnp.isfinite(E))), kind
    # measured over six keys: the generating map's energy oscillates in a band 0.004-0.007 wide
    # with the same mean (to 1e-4) at the start and at the end; the mlp map's mean moves by
    # 0.12-0.62 (0.62 for key 11), up or down
    E = energy["generating"]
    assert abs(float(jnp.mean(last(E)) - jnp.mean(first(E)))) < 1e-3
    assert float(jnp.max(E) - jnp.min(E)) < 0.02
    E = energy["mlp"]
    assert abs(float(jnp.mean(last(E)) - jnp.mean(first(E)))) > 0.03


# ----------------------------------------------------------------------------- bad input


def test_bad_input_raises(key):
    model = random_map(0, 1)
    data = Gm.map_data(key, I.pendulum(), 4, 0.1)
    with pytest.raises(ValueError, match="generator"):
        Gm.GeneratingMap(3.0)
    with pytest.raises(ValueError, match="n_newton"):
        Gm.GeneratingMap(lambda q, P: 0.0, 0)
    with pytest.raises(ValueError, match="scale"):
        Gm.GeneratorMLP(1, scale=0.0, key=key)
    with pytest.raises(ValueError, match="width"):
        Gm.MLPMap(1, 0, key=key)
    with pytest.raises(ValueError, match="even"):
        Gm.symplecticity_residual(model, jnp.ones(3))
    with pytest.raises(ValueError, match="float"):
        Gm.iterate(model, jnp.array([1, 0]), 3)
    with pytest.raises(ValueError, match="NaN"):
        Gm.iterate(model, jnp.array([jnp.nan, 0.0]), 3)
    with pytest.raises(ValueError, match="n must be"):
        Gm.iterate(model, jnp.zeros(2), 0)
    with pytest.raises(ValueError, match="map_fn"):
        Gm.iterate("map", jnp.zeros(2), 3)
    with pytest.raises(ValueError, match="Hamiltonian"):
        Gm.map_data(key, lambda q, p: 0.0, 4, 0.1)
    with pytest.raises(ValueError, match="dt"):
        Gm.map_data(key, I.pendulum(), 4, -0.1)
    with pytest.raises(ValueError, match="kind"):
        Gm.train_map(key, "hnn", data)
    with pytest.raises(ValueError, match="MapData"):
        Gm.train_map(key, "mlp", (data.x, data.y))
    with pytest.raises(ValueError, match=r"data\.y"):
        Gm.train_map(key, "mlp", Gm.MapData(data.x, data.y[:3], 0.1))
    with pytest.raises(ValueError, match="Integrator"):
        Gm.integrator_map(I.pendulum(), 0.1)
    with pytest.raises(ValueError, match="Hamiltonian"):
        Gm.phase_energy("pendulum", jnp.zeros(2))
