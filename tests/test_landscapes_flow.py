"""physml.landscapes.flow: gradient flow, gradient descent, heavy ball and Nesterov against
closed forms and exact recursions; the step-size limits; gradient descent with the sharpness."""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from physml import landscapes as ls

EPS = np.finfo(np.float64).eps
LAM = jnp.array([4.0, 1.0, 0.25])  # powers of two: 1 - (2/4) * 4 is exactly -1
CENTER = jnp.array([1.0, -2.0, 0.5])
THETA0 = jnp.array([2.0, 3.0, -1.0])


def test_gradient_descent_matches_the_closed_form_to_rounding():
    lam = jnp.array([0.5, 1.0, 3.0, -0.2])  # the last is a saddle direction: (1.06)^t growth
    c, theta0 = jnp.array([1.0, -2.0, 0.5, 0.1]), jnp.array([2.0, 3.0, -1.0, 0.2])
    n = 200
    path = ls.descend(ls.quadratic(lam, c), theta0, ls.gradient_descent(0.3), n)
    exact = np.asarray(ls.gd_quadratic_closed_form(lam, theta0, 0.3, n, c))
    assert path.positions.shape == (n + 1, 4) and path.losses.shape == (n + 1,)
    # Rounding: about eps per step, carried along by the linear map: t eps relative to the
    # displacement after t steps, plus eps |c| per step around the centre (measured: <= 0.4 t eps).
    scale = np.abs(exact - np.asarray(c)[None, :]) + np.abs(np.asarray(c))[None, :]
    t = np.arange(n + 1)[:, None]
    assert np.all(np.abs(np.asarray(path.positions) - exact) <= 2 * (t + 1) * EPS * scale)
    loss = np.asarray(path.losses)
    assert np.allclose(loss, 0.5 * np.sum(np.asarray(lam) * (exact - np.asarray(c)) ** 2, axis=1), rtol=1e-12)


def test_the_step_size_limit_of_gradient_descent_is_two_over_lambda_max():
    """Top mode multiplied by 1 - η λ_max per step: 1.02 in size just above 2/λ_max, 0.98
    just below, and exactly -1 at 2/λ_max, where it oscillates for ever."""
    loss, n = ls.quadratic(LAM, CENTER), 1500
    limit = ls.gd_max_step(float(LAM[0]))
    assert limit == 0.5
    top0 = float(THETA0[0] - CENTER[0])
    above = ls.descend(loss, THETA0, ls.gradient_descent(1.01 * limit), n).positions[:, 0] - CENTER[0]
    assert abs(float(above[-1])) == pytest.approx(abs(top0) * 1.02**n, rel=1e-10)
    assert abs(float(above[-1])) > 1e12
    below = ls.descend(loss, THETA0, ls.gradient_descent(0.99 * limit), n).positions - CENTER[None, :]
    assert float(jnp.max(jnp.abs(below[-1]))) < abs(top0) * 0.98**n * 1.0001
    at = ls.descend(loss, THETA0, ls.gradient_descent(limit), n)
    top = np.asarray(at.positions[:, 0] - CENTER[0])
    assert np.array_equal(np.abs(top), np.full(n + 1, abs(top0)))  # neither grows nor decays
    assert np.array_equal(np.sign(top[1:]), -np.sign(top[:-1]))
    assert float(at.losses[-1]) == pytest.approx(0.5 * 4.0 * top0**2, rel=1e-12)


def polyak(lam, c, theta0, lr, beta, n, nesterov=False):
    """Heavy ball (and Nesterov with its gradient-difference term) written out, float64 NumPy,
    from θ_{-1} = θ_0 (and, for Nesterov, ∇L(θ_{-1}) read as 0: optax's zero initial trace)."""
    lam, c = np.asarray(lam), np.asarray(c)
    grad = lambda x: lam * (x - c)
    prev = x = np.asarray(theta0, dtype=float)
    g_prev = np.zeros_like(x)
    out = [x]
    for _ in range(n):
        g = grad(x)
        step = -lr * g + beta * (x - prev)
        if nesterov:
            step -= lr * beta * (g - g_prev)
        prev, x, g_prev = x, x + step, g
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("nesterov", [False, True])
def test_optax_momentum_is_the_written_out_recursion(nesterov):
    lr, beta, n = 0.3, 0.7, 300
    make = ls.nesterov if nesterov else ls.heavy_ball
    path = ls.descend(ls.quadratic(LAM, CENTER), THETA0, make(lr, beta), n)
    exact = polyak(LAM, CENTER, THETA0, lr, beta, n, nesterov)
    scale = np.abs(exact - np.asarray(CENTER)[None, :]) + np.abs(np.asarray(CENTER))[None, :]
    assert np.all(np.abs(np.asarray(path.positions) - exact) <= 30 * EPS * scale)  # measured: 3 eps


@pytest.mark.parametrize("beta", [0.5, 0.9])
@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_the_step_size_limit_with_momentum(beta, method):
    """Just below the limit the slowest root has modulus < 1 (e.g. 0.94 for heavy ball at
    β = 0.5), just above one root is real and below -1 (e.g. -1.057): convergence below,
    divergence above."""
    limit = {"heavy_ball": ls.heavy_ball_max_step, "nesterov": ls.nesterov_max_step}[method](4.0, beta)
    make = getattr(ls, method)
    loss = ls.quadratic(LAM, CENTER)
    lam_eta = 4.0 * np.array([0.99, 1.01]) * limit
    for factor, eta_lam in zip((0.99, 1.01), lam_eta, strict=True):
        # The companion matrix of the top mode: its spectral radius predicts the outcome.
        if method == "heavy_ball":
            M = np.array([[1 + beta - eta_lam, -beta], [1, 0]])
        else:
            M = np.array([[(1 + beta) * (1 - eta_lam), -beta * (1 - eta_lam)], [1, 0]])
        rho = np.max(np.abs(np.linalg.eigvals(M)))
        assert (rho < 1) == (factor < 1)
        path = ls.descend(loss, THETA0, make(factor * limit, beta), 600)
        distance = float(jnp.linalg.norm(path.positions[-1] - CENTER))
        if factor < 1:
            assert distance < 1e-6
        else:
            assert distance > 1e6 and np.isfinite(distance)
            assert np.log(distance) / 600 == pytest.approx(np.log(rho), abs=0.02)


@pytest.mark.parametrize(
    ("make", "formula"),
    [
        (optax.sgd, lambda: ls.gd_max_step(4.0)),
        (lambda lr: optax.sgd(lr, momentum=0.9), lambda: ls.heavy_ball_max_step(4.0, 0.9)),
        (lambda lr: optax.sgd(lr, momentum=0.5, nesterov=True), lambda: ls.nesterov_max_step(4.0, 0.5)),
    ],
)
def test_bisection_finds_the_step_size_limits(make, formula):
    """Bisection on "the loss went down" recovers each limit without using it. Just above a
    limit the top mode grows by a factor 1 + O(δ) per step, so over n = 2000 steps the test
    resolves the limit to O(1/n) relative: measured within 1e-4 for all three."""
    found = ls.largest_stable_step(ls.quadratic(LAM, CENTER), THETA0, make, lo=0.01, hi=3.0, n_steps=2000)
    assert found == pytest.approx(formula(), rel=5e-4)


def test_bisection_rejects_a_bracket_that_does_not_bracket():
    loss = ls.quadratic(LAM, CENTER)
    with pytest.raises(ValueError, match=r"lo = 0\.6 is not stable"):
        ls.largest_stable_step(loss, THETA0, optax.sgd, lo=0.6, hi=1.0)
    with pytest.raises(ValueError, match=r"hi = 0\.3 is stable"):
        ls.largest_stable_step(loss, THETA0, optax.sgd, lo=0.1, hi=0.3)
    with pytest.raises(ValueError, match="lo < hi"):
        ls.largest_stable_step(loss, THETA0, optax.sgd, lo=0.3, hi=0.1)


def test_heavy_ball_limit_formula():
    assert ls.heavy_ball_max_step(4.0, 0.0) == ls.gd_max_step(4.0)
    assert ls.heavy_ball_max_step(2.0, 0.9) == pytest.approx(1.9, rel=1e-15)
    assert ls.nesterov_max_step(2.0, 0.9) == pytest.approx(1.9 / 2.8, rel=1e-15)


def test_nesterov_converges_on_an_ill_conditioned_quadratic_faster_than_gd():
    """κ = 100, η = 1/λ_max: gradient descent contracts the slow mode by 0.99 a step,
    Nesterov with β = 0.9 by about sqrt(0.9 · 0.99) = 0.944."""
    lam = jnp.array([1.0, 0.01])
    theta0 = jnp.array([1.0, 1.0])
    loss = ls.quadratic(lam)
    nest = ls.descend(loss, theta0, ls.nesterov(1.0, 0.9), 500)
    gd = ls.descend(loss, theta0, ls.gradient_descent(1.0), 500)
    assert float(jnp.linalg.norm(nest.positions[-1])) < 1e-8
    assert float(jnp.linalg.norm(gd.positions[-1])) == pytest.approx(0.99**500, rel=1e-10)


def test_descend_runs_any_optax_optimizer():
    path = ls.descend(ls.rosenbrock, jnp.array([-1.0, 1.5]), optax.adam(0.05), 3000)
    assert float(path.losses[-1]) < 1e-8
    assert np.allclose(path.positions[-1], [1.0, 1.0], atol=1e-3)


# --------------------------------------------------------------------------- the flow


def test_gradient_flow_of_a_quadratic_is_exponential_decay():
    theta0, c = THETA0, CENTER
    lam = jnp.array([0.5, 1.0, 3.0])
    errors = []
    for rtol in (1e-7, 1e-10):
        path = ls.gradient_flow(ls.quadratic(lam, c), theta0, 5.0, rtol=rtol, atol=1e-2 * rtol)
        t = np.asarray(path.times)[:, None]
        exact = np.asarray(c) + np.exp(-t * np.asarray(lam)) * np.asarray(theta0 - c)
        errors.append(np.abs(np.asarray(path.trajectory) - exact).max())
        # A contracting linear flow does not amplify the local errors the controller bounds.
        assert errors[-1] <= rtol * float(jnp.max(jnp.abs(theta0 - c)))
    assert errors[1] < errors[0] / 100  # and the error follows the tolerance


@pytest.mark.parametrize(
    ("loss", "theta0"), [(ls.double_well, [0.05, 1.5]), (ls.rosenbrock, [-1.0, 1.5])], ids=["well", "rosen"]
)
def test_loss_falls_along_the_flow_at_the_rate_of_the_squared_gradient(loss, theta0):
    """dL/dt = -|∇L|^2, by central differences (h = 1e-3: relative error ~h^2 ~ 1e-6) at eight
    times; and L never rises between saved points beyond rounding."""
    h, tk = 1e-3, np.linspace(0.5, 4.0, 8)
    ts = np.sort(np.r_[tk - h, tk, tk + h])
    path = ls.gradient_flow(loss, jnp.array(theta0), 4.0 + h, ts=ts, rtol=1e-12, atol=1e-14)
    L = np.asarray(path.losses)
    assert np.all(np.diff(L) <= 4 * EPS * np.abs(L[:-1]))
    L3 = L.reshape(-1, 3)
    slope = (L3[:, 2] - L3[:, 0]) / (2 * h)
    squared = np.sum(np.asarray(jax.vmap(jax.grad(loss))(path.trajectory[1::3])) ** 2, axis=1)
    assert np.allclose(slope, -squared, rtol=1e-5, atol=0)


@pytest.mark.slow  # compiling the implicit solver takes a few seconds
def test_a_stiff_flow_needs_an_implicit_solver():
    """λ = (200, 0.5): an explicit solver needs Δt < ~3/200 for the whole run; with 200 steps
    allowed it stops (clear error), while the L-stable Kvaerno5 takes large steps once the fast
    mode has decayed. (Adaptive solvers bound the local error; the measured global error here
    is ~20-50 rtol, and it falls with rtol.)"""
    loss, theta0 = ls.quadratic(jnp.array([200.0, 0.5])), jnp.ones(2)
    with pytest.raises(RuntimeError, match="stiff"):
        ls.gradient_flow(loss, theta0, 10.0, max_steps=200)
    path = ls.gradient_flow(
        loss, theta0, 10.0, solver=diffrax.Kvaerno5(), rtol=1e-8, atol=1e-10, max_steps=200
    )
    exact = np.exp(-np.asarray(path.times)[:, None] * np.array([200.0, 0.5])[None, :])
    assert np.abs(np.asarray(path.trajectory) - exact).max() < 100 * 1e-8


# ------------------------------------------------------------------ the edge of stability


@pytest.fixture(scope="module")
def small_mlp():
    return ls.mlp_regression(jax.random.key(8), n_samples=32, n_inputs=2, width=8, target="sin")


def test_train_with_sharpness_is_gradient_descent_with_the_exact_top_eigenvalue(small_mlp):
    loss, theta0 = small_mlp.loss, small_mlp.theta0
    trace = ls.train_with_sharpness(loss, theta0, 0.5, 60, every=20, key=jax.random.key(0), num_iter=33)
    path = ls.descend(loss, theta0, ls.gradient_descent(0.5), 60)
    assert trace.losses.shape == (61,) and trace.sharpness.shape == (4,)
    assert trace.sharpness_steps.tolist() == [0, 20, 40, 60]
    assert np.allclose(trace.losses, path.losses, rtol=1e-12, atol=0)
    assert np.allclose(trace.theta, path.positions[-1], rtol=1e-12, atol=1e-14)
    # num_iter = d = 33: Lanczos spans the whole space, so the sharpness is exact.
    dense = [np.linalg.eigvalsh(np.asarray(ls.hessian(loss, path.positions[t])))[-1] for t in (0, 20, 40, 60)]
    assert np.allclose(trace.sharpness, dense, rtol=1e-9, atol=0)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ls.gradient_descent(-0.1), "lr"),
        (lambda: ls.gradient_descent(float("nan")), "lr"),
        (lambda: ls.heavy_ball(0.1, 1.0), "momentum"),
        (lambda: ls.nesterov(0.1, -0.2), "momentum"),
        (lambda: ls.gd_max_step(0.0), "lmax"),
        (lambda: ls.heavy_ball_max_step(-1.0, 0.5), "lmax"),
        (lambda: ls.descend(ls.rosenbrock, jnp.ones((1, 2)), ls.gradient_descent(0.1), 5), "1-D"),
        (lambda: ls.descend(ls.rosenbrock, jnp.array([jnp.nan, 1.0]), ls.gradient_descent(0.1), 5), "finite"),
        (lambda: ls.descend(ls.rosenbrock, jnp.ones(2), 0.1, 5), "optax"),
        (lambda: ls.descend(ls.rosenbrock, jnp.ones(2), ls.gradient_descent(0.1), 0), "n_steps"),
        (lambda: ls.gradient_flow(ls.rosenbrock, jnp.ones(2), -1.0), "t1"),
        (lambda: ls.gradient_flow(ls.rosenbrock, jnp.ones(2), 1.0, ts=[0.0, 2.0]), "ts must lie"),
        (lambda: ls.gradient_flow(ls.rosenbrock, jnp.ones(2), 1.0, ts=[0.5, 0.1]), "non-decreasing"),
        (lambda: ls.gradient_flow(ls.rosenbrock, jnp.ones(2), 1.0, solver="rk4"), "diffrax solver"),
        (lambda: ls.gd_quadratic_closed_form(LAM, jnp.ones(2), 0.1, 5), r"shape \(3,\)"),
        (
            lambda: ls.train_with_sharpness(
                ls.rosenbrock, jnp.ones(2), 0.1, 25, every=10, key=jax.random.key(0)
            ),
            "multiple",
        ),
        (
            lambda: ls.train_with_sharpness(
                ls.rosenbrock, jnp.ones(2), -0.1, 20, every=10, key=jax.random.key(0)
            ),
            "lr",
        ),
    ],
)
def test_flow_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
