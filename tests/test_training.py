"""The shared network helpers: equinox's MLP with its own initialisation law, drawn in one piece."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physml._checks import to_device
from physml._training import draw_blocks, tanh_mlp


@pytest.mark.parametrize(("in_size", "out_size"), [(4, 4), (10, "scalar"), ("scalar", "scalar"), (2, 3)])
def test_tanh_mlp_has_equinox_shapes_and_its_uniform_bounds(key, in_size, out_size):
    mlp = tanh_mlp(in_size, out_size, 32, 2, key)
    reference = eqx.nn.MLP(in_size, out_size, 32, 2, activation=jnp.tanh, key=key)
    assert [(a.weight.shape, a.bias.shape) for a in mlp.layers] == [
        (b.weight.shape, b.bias.shape) for b in reference.layers
    ]
    assert mlp.activation is jnp.tanh
    x = jnp.ones(() if in_size == "scalar" else (in_size,))
    assert mlp(x).shape == reference(x).shape
    for layer in mlp.layers:
        fan_in = 1 if layer.in_features == "scalar" else layer.in_features
        values = np.concatenate([np.ravel(layer.weight), np.ravel(layer.bias)])
        bound = 1 / math.sqrt(fan_in)
        assert np.all(np.abs(values) <= bound)
        if values.size >= 1000:  # uniform on ±bound: mean 0, variance bound²/3
            assert abs(values.mean()) < 4 * bound / math.sqrt(3 * values.size)
            assert values.var() == pytest.approx(bound**2 / 3, rel=0.1)


def test_tanh_mlp_is_deterministic_and_depends_on_the_key(key):
    a, b = tanh_mlp(3, 3, 16, 2, key), tanh_mlp(3, 3, 16, 2, key)
    c = tanh_mlp(3, 3, 16, 2, jax.random.fold_in(key, 1))
    arrays = lambda m: jax.tree.leaves(eqx.filter(m, eqx.is_array))
    assert all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b), strict=True))
    assert not np.array_equal(a.layers[0].weight, c.layers[0].weight)


def test_tanh_mlp_traces_under_jit(key):
    eager = tanh_mlp(2, "scalar", 8, 2, key)
    traced = eqx.filter_jit(lambda k: tanh_mlp(2, "scalar", 8, 2, k))(key)
    arrays = lambda m: jax.tree.leaves(eqx.filter(m, eqx.is_array))
    for x, y in zip(arrays(eager), arrays(traced), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=0)


@pytest.mark.parametrize("normal", [False, True])
def test_draw_blocks_spans_several_blocks_without_repeats(key, normal):
    u = draw_blocks(key, normal, 5000, jnp.float64)
    assert u.shape[0] >= 5000 and u.shape[0] % 4096 == 0
    assert len(np.unique(np.asarray(u))) == u.shape[0]
    if not normal:
        assert float(u.min()) >= 0 and float(u.max()) < 1


@pytest.mark.parametrize("x", [np.arange(6.0).reshape(2, 3), np.arange(4), [1.0, 2.0], 3.5])
def test_to_device_equals_asarray(x):
    a, b = to_device(x), jnp.asarray(x)
    assert isinstance(a, jax.Array) and a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
