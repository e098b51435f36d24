"""Small networks and their full-batch training as one compiled loop, shared by the modules that fit them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array

from ._checks import to_device


def adam_scan(
    model: Any, loss: Callable[[Any], Array], learning_rate: Array, steps: int
) -> tuple[Any, Array]:
    """Minimise ``loss(model)`` by ``steps`` steps of Adam whose step size decays from
    ``learning_rate`` to 0 on a cosine schedule, in one ``lax.scan``; call it inside a jitted
    function. Returns the trained model and the loss at each step, shape ``(steps,)``."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))

    def step(carry: tuple, _: None) -> tuple[tuple, Array]:
        params, opt_state = carry
        value, grads = jax.value_and_grad(lambda p: loss(eqx.combine(p, static)))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), length=steps)
    return eqx.combine(params, static), losses


_BLOCK = 4096


def draw_blocks(key: Array, normal: bool, size: int, dtype: Any) -> Array:
    """At least ``size`` uniform [0, 1) or standard normal numbers, in blocks of one shape: outside
    ``jit`` every new shape of a random draw costs a compilation, blocks cost one in all."""
    draw = jax.random.normal if normal else jax.random.uniform
    blocks = [draw(jax.random.fold_in(key, i), (_BLOCK,), dtype) for i in range(-(-size // _BLOCK))]
    return blocks[0] if len(blocks) == 1 else jnp.concatenate(blocks)


def tanh_mlp(in_size: int, out_size: int | str, width: int, depth: int, key: Array) -> eqx.nn.MLP:
    """``eqx.nn.MLP``, tanh, with equinox's default initialisation (uniform in ±1/√fan-in) drawn by
    :func:`draw_blocks` and cut up in NumPy: layer by layer, every new shape would compile a random draw."""
    mlp = eqx.filter_eval_shape(eqx.nn.MLP, in_size, out_size, width, depth, activation=jnp.tanh, key=key)
    shapes = [(layer.weight.shape, layer.bias.shape) for layer in mlp.layers]
    total = sum(math.prod(w) + math.prod(b) for w, b in shapes)
    u = draw_blocks(key, False, total, jnp.result_type(float))
    xp = jnp if isinstance(u, jax.core.Tracer) else np  # NumPy slices compile nothing; jnp works under jit
    u = 2 * xp.asarray(u) - 1
    layers, start = [], 0
    for layer, (w, b) in zip(mlp.layers, shapes, strict=True):
        n_w, n_b = math.prod(w), math.prod(b)
        fan_in = 1 if layer.in_features == "scalar" else layer.in_features
        chunk = u[start : start + n_w + n_b] / math.sqrt(fan_in)
        new = (to_device(chunk[:n_w].reshape(w)), to_device(chunk[n_w:].reshape(b)))
        layers.append(eqx.tree_at(lambda lin: (lin.weight, lin.bias), layer, new))
        start += n_w + n_b
    return eqx.tree_at(lambda m: m.layers, mlp, tuple(layers))
