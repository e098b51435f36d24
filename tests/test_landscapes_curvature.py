"""physml.landscapes.curvature: Hessian-vector products and the sharpness against dense
linear algebra."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physml import landscapes as ls


def rng(key):
    """A NumPy generator seeded from a JAX key (test matrices need no compiled JAX draws)."""
    return np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())


def random_symmetric(key, eigenvalues):
    """Q diag(eigenvalues) Q^T with Q a random orthogonal matrix: a symmetric matrix of known spectrum."""
    d = len(eigenvalues)
    Q, _ = np.linalg.qr(rng(key).standard_normal((d, d)))
    return jnp.asarray(Q @ np.diag(eigenvalues) @ Q.T)


@pytest.fixture(scope="module")
def mlp():
    problem = ls.mlp_regression(jax.random.key(4), n_samples=64, n_inputs=3, width=12, depth=2, target="sin")
    theta = problem.theta0
    return problem.loss, theta, np.linalg.eigvalsh(np.asarray(ls.hessian(problem.loss, theta)))


def test_hvp_is_the_dense_hessian_times_v(key, mlp):
    loss, theta, _ = mlp
    v = jnp.asarray(rng(key).standard_normal(theta.shape))
    dense = np.asarray(ls.hessian(loss, theta)) @ np.asarray(v)
    assert np.allclose(ls.hvp(loss, theta, v), dense, rtol=1e-10, atol=1e-13 * np.abs(dense).max())
    rosen = np.asarray(ls.hessian(ls.rosenbrock, jnp.array([0.3, -0.2]))) @ np.array([1.0, 2.0])
    assert np.allclose(
        ls.hvp(ls.rosenbrock, jnp.array([0.3, -0.2]), jnp.array([1.0, 2.0])), rosen, rtol=1e-14
    )


def test_the_dense_hessian_is_symmetric_and_its_spectrum_ascending(mlp):
    loss, theta, eig = mlp
    H = np.asarray(ls.hessian(loss, theta))
    assert np.allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    assert np.allclose(ls.hessian_spectrum(loss, theta), eig, rtol=0, atol=1e-12 * np.abs(eig).max())
    assert np.all(np.diff(eig) >= 0)


@pytest.mark.parametrize(("method", "num_iter"), [("lanczos", 40), ("power", 400)])
def test_sharpness_of_a_random_symmetric_quadratic(key, method, num_iter):
    """A random symmetric matrix of known spectrum with |λ_min| = 6 > λ_max = 4: power
    iteration's first pass finds -6; the shifted pass on H + 6I (top two 10 and 9.5, error
    ~(9.5/10)^(2n) ~ 1e-18) returns 4. Lanczos needs no shift."""
    spectrum = np.r_[-6.0, 4.0, 3.5, np.linspace(-2.0, 3.0, 57)]
    loss = ls.quadratic_from_matrix(random_symmetric(key, spectrum))
    top = ls.sharpness(loss, jnp.zeros(60), key=jax.random.key(2), method=method, num_iter=num_iter)
    assert float(top) == pytest.approx(4.0, rel=1e-10)


@pytest.mark.parametrize(("method", "num_iter"), [("lanczos", 30), ("power", 400)])
def test_sharpness_of_the_mlp_loss_matches_dense_eigvalsh(mlp, method, num_iter):
    loss, theta, eig = mlp
    ratio = max(abs(eig[-2]), abs(eig[0])) / eig[-1]
    assert ratio**num_iter < 1e-12  # power iteration's error bound (Rayleigh quotient: ratio^(2n))
    top = ls.sharpness(loss, theta, key=jax.random.key(3), method=method, num_iter=num_iter)
    assert float(top) == pytest.approx(eig[-1], rel=1e-10)


def test_lanczos_with_d_steps_recovers_the_whole_spectrum(key):
    M = rng(key).standard_normal((25, 25))
    A = jnp.asarray((M + M.T) / 2)
    ritz = ls.lanczos_ritz_values(lambda v: A @ v, jnp.ones(25), 25, key=jax.random.key(5))
    assert np.allclose(ritz, np.linalg.eigvalsh(np.asarray(A)), rtol=0, atol=1e-10)


def test_lanczos_restarts_when_the_krylov_space_closes(key):
    """Three distinct eigenvalues: the Krylov space of any start is invariant after 3 steps.
    The restarts must keep every Ritz value on the spectrum and still find the top."""
    spectrum = np.repeat([-1.0, 0.5, 3.0], [10, 20, 10])
    A = random_symmetric(key, spectrum)
    ritz = np.asarray(ls.lanczos_ritz_values(lambda v: A @ v, jnp.ones(40), 12, key=jax.random.key(6)))
    distance = np.min(np.abs(ritz[:, None] - np.array([-1.0, 0.5, 3.0])[None, :]), axis=1)
    assert np.all(distance < 1e-10), ritz
    assert ritz[-1] == pytest.approx(3.0, rel=1e-12)
    zero = ls.sharpness(ls.monkey_saddle, jnp.zeros(2), key=jax.random.key(0))
    assert float(zero) == 0.0  # the zero Hessian: breakdown at the first step


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1))
def test_ritz_values_interlace_the_spectrum(seed):
    """Cauchy interlacing: every Ritz value lies in [λ_min, λ_max], and the top one rises
    towards λ_max from below as steps are added."""
    generator = np.random.default_rng(seed)
    M = generator.standard_normal((16, 16))
    A = (M + M.T) / 2
    ritz, more = map(np.asarray, _ritz(jnp.asarray(A), jnp.asarray(generator.standard_normal(16))))
    eig = np.linalg.eigvalsh(A)
    slack = 1e-12 * np.abs(eig).max()
    assert eig[0] - slack <= ritz[0] and ritz[-1] <= eig[-1] + slack
    assert more[-1] >= ritz[-1] - slack


@jax.jit
def _ritz(A, v0):
    key = jax.random.key(0)
    return [ls.lanczos_ritz_values(lambda v: A @ v, v0, k, key=key) for k in (6, 7)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ls.hessian(ls.rosenbrock, jnp.array([jnp.inf, 0.0])), "finite"),
        (lambda: ls.hessian(ls.rosenbrock, jnp.ones((2, 1))), "1-D"),
        (lambda: ls.hvp(ls.rosenbrock, jnp.ones(2), jnp.ones(3)), r"v must have shape \(2,\)"),
        (lambda: ls.sharpness(ls.rosenbrock, jnp.ones(2), key=jax.random.key(0), method="arnoldi"), "method"),
        (lambda: ls.sharpness(ls.rosenbrock, jnp.ones(2), key=jax.random.key(0), num_iter=0), "num_iter"),
        (lambda: ls.classify_critical_point(ls.rosenbrock, jnp.array([1.0, jnp.nan])), "finite"),
        (lambda: ls.classify_critical_point(ls.rosenbrock, jnp.ones(2), tol=-1.0), "tol"),
        (lambda: ls.lanczos_ritz_values(lambda v: v, jnp.ones(3), 4, key=jax.random.key(0)), "num_iter <= d"),
    ],
)
def test_curvature_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
