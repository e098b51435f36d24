"""The regression layer of the frontiers studies: exact least squares, a network that fits, honest scores."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from physml.frontiers import learning


def test_split_is_a_deterministic_partition():
    s = learning.split(jax.random.key(0), 101, 0.2)
    assert s.test.size == 21 and s.train.size == 80
    assert np.array_equal(np.sort(np.concatenate([s.train, s.test])), np.arange(101))
    again = learning.split(jax.random.key(0), 101, 0.2)
    assert np.array_equal(s.test, again.test)
    assert not np.array_equal(s.test, learning.split(jax.random.key(1), 101, 0.2).test)


def test_linear_fit_recovers_an_exactly_linear_target_and_ignores_constant_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3, 2))
    X[:, 2, 1] = 4.0  # a constant input: dropped by the standardisation, not a division by zero
    w = rng.normal(size=6)
    y = X.reshape(50, -1) @ w - 3.0
    model = learning.fit_linear(X, y)
    np.testing.assert_allclose(model(X), y, rtol=0, atol=1e-10)
    X_new = rng.normal(size=(7, 3, 2))
    X_new[:, 2, 1] = 4.0
    np.testing.assert_allclose(model(X_new), X_new.reshape(7, -1) @ w - 3.0, atol=1e-10)


def test_standardizer_maps_training_rows_to_zero_mean_unit_variance():
    X = np.random.default_rng(1).normal(2.0, 3.0, size=(40, 5))
    Z = learning.standardizer(X)(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)


@pytest.mark.slow
def test_the_network_fits_a_nonlinear_target_and_is_deterministic():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(64, 2))
    y = np.sin(2 * X[:, 0]) * X[:, 1] + 5.0
    model, losses = learning.train_mlp(jax.random.key(3), X, y, width=16, steps=600, learning_rate=1e-2)
    assert losses.shape == (600,) and float(losses[-1]) < 1e-2 * float(losses[0])
    assert learning.scores(model(X), y).r2 > 0.99
    linear = learning.fit_linear(X, y)
    assert learning.scores(linear(X), y).r2 < 0.9  # the target is not linear
    again, _ = learning.train_mlp(jax.random.key(3), X, y, width=16, steps=600, learning_rate=1e-2)
    np.testing.assert_array_equal(again(X), model(X))


def test_scores_on_a_hand_computed_case():
    truth = np.array([-2.0, 0.0, 2.0, 4.0])
    predicted = np.array([-2.4, 1.1, 2.0, 2.9])
    s = learning.scores(predicted, truth, step=2)
    np.testing.assert_allclose(s.rmse, np.sqrt((0.16 + 1.21 + 0 + 1.21) / 4), rtol=1e-14)
    np.testing.assert_allclose(s.r2, 1 - 2.58 / 20.0, rtol=1e-14)
    assert s.exact == 0.5  # -2.4 -> -2 and 2.0 -> 2 are right; 1.1 -> 2 and 2.9 -> 2 are not
    assert np.isnan(learning.scores(predicted, truth).exact)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: learning.split(jax.random.key(0), 1), "too small"),
        (lambda: learning.split(jax.random.key(0), 10, 1.5), "test_fraction"),
        (lambda: learning.fit_linear(np.ones(5), np.ones(5)), "shape"),
        (lambda: learning.fit_linear(np.ones((5, 2)), np.ones(4)), "y must be"),
        (lambda: learning.fit_linear(np.full((5, 2), np.nan), np.ones(5)), "NaN"),
        (lambda: learning.train_mlp(jax.random.key(0), np.ones((5, 2)), np.ones(5), steps=0), "steps"),
        (
            lambda: learning.train_mlp(jax.random.key(0), np.ones((5, 2)), np.ones(5), weight_decay=-1),
            "weight",
        ),
        (lambda: learning.scores(np.ones(3), np.ones(4)), "1-D of one length"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
