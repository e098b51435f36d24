"""Full-batch training as one compiled loop, shared by the modules that fit small networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import optax
from jaxtyping import Array


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
