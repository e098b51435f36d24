r"""Ising spins :math:`x_i = \pm 1`: enumerating configurations, and free spins in a field.

The paramagnet of :math:`N` independent spins in a field :math:`B` has energy

.. math::

    E(x) = -B \sum_{i=1}^N x_i ,

so a spin aligned with the field (:math:`x_i = +1` for :math:`B > 0`) lowers the energy
by :math:`B`. Its partition function factorizes: :math:`Z = (2\cosh \beta B)^N`.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

__all__ = ["enumerate_spins", "paramagnet_energy", "paramagnet_log_partition"]

MAX_ENUMERATED_SPINS = 24


def enumerate_spins(n: int) -> Int[Array, "2**n n"]:
    """All :math:`2^n` configurations of ``n`` spins, as rows of :math:`\\pm 1`.

    Row ``k`` is the binary expansion of ``k`` (most significant spin first) with bit 0
    mapped to -1 and bit 1 to +1, so row 0 is all down and the last row all up.

    Args:
        n: number of spins, ``0 <= n <= 24`` (the array has :math:`2^n n` entries).

    Returns:
        integer array of shape ``(2**n, n)``.
    """
    if not 0 <= n <= MAX_ENUMERATED_SPINS:
        raise ValueError(f"n must be between 0 and {MAX_ENUMERATED_SPINS}, got {n}")
    k = jnp.arange(2**n, dtype=jnp.int32)[:, None]
    bits = (k >> jnp.arange(n - 1, -1, -1, dtype=jnp.int32)[None, :]) & 1
    return (2 * bits - 1).astype(jnp.int32)


def paramagnet_energy(x: Float[ArrayLike, "... n"], B: float) -> Float[Array, ...]:
    r"""Energy :math:`E(x) = -B \sum_i x_i` of free spins in a field ``B`` (last axis: spins)."""
    return -B * jnp.sum(jnp.asarray(x), axis=-1)


def paramagnet_log_partition(n: int, beta: float, B: float) -> Float[Array, ""]:
    r"""Exact :math:`\ln Z = n \ln(2\cosh \beta B)`, written to stay finite for large :math:`\beta B`.

    Uses :math:`\ln(2\cosh y) = |y| + \ln(1 + e^{-2|y|})`.
    """
    y = jnp.abs(beta * B)
    return n * (y + jnp.log1p(jnp.exp(-2 * y)))
