r"""A disordered system for self-averaging: the random-bond, random-field Ising chain.

A periodic chain with its own coupling :math:`J_i` on every bond and field :math:`h_i` on
every site,

.. math::

    H(s) = -\sum_{i=1}^{N} J_i s_i s_{i+1} - \sum_{i=1}^{N} h_i s_i ,

is solved exactly for any :math:`N` by the product of its transfer matrices,
:math:`Z = \operatorname{tr}\prod_i T_i`, accumulated with a running normalization so
that chains of millions of spins do not overflow. Each draw of the couplings is one
"sample" of the disorder; the free-energy density :math:`f = F/N` differs from sample to
sample, by an amount that shrinks like :math:`N^{-1/2}`: it is *self-averaging*.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

__all__ = ["Disorder", "free_energy_density", "random_chain_log_partition", "sample_disorder"]


class Disorder(NamedTuple):
    """One realization of the disorder: couplings ``J`` (bond i joins i and i+1) and fields ``h``."""

    J: Array
    h: Array


def sample_disorder(
    key: Array,
    n: int,
    J_mean: float = 1.0,
    J_spread: float = 0.5,
    h_spread: float = 0.5,
    samples: int | None = None,
) -> Disorder:
    """Gaussian couplings :math:`J_i \\sim \\mathcal N(J_{mean}, J_{spread}^2)` and fields
    :math:`h_i \\sim \\mathcal N(0, h_{spread}^2)`, shape ``(n,)`` or ``(samples, n)``."""
    shape = (n,) if samples is None else (samples, n)
    key_j, key_h = jax.random.split(key)
    return Disorder(
        J_mean + J_spread * jax.random.normal(key_j, shape), h_spread * jax.random.normal(key_h, shape)
    )


def random_chain_log_partition(
    beta: float, J: Float[ArrayLike, " n"], h: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    r"""Exact :math:`\ln Z = \ln\operatorname{tr}\prod_i T_i` of a periodic chain with site-dependent
    :math:`J_i, h_i`, where :math:`T_i(s, s') = e^{\beta (J_i s s' + h_i s)}`.

    The running product is rescaled to unit max-norm at every step and the logarithms of
    the scale factors are summed (``lax.scan``), so any length is safe.
    """
    J, h = jnp.asarray(J), jnp.asarray(h)
    spin = jnp.array([1.0, -1.0])

    def step(carry: tuple[Array, Array], bond: tuple[Array, Array]) -> tuple[tuple[Array, Array], None]:
        product, log_scale = carry
        Ji, hi = bond
        exponent = beta * (Ji * spin[:, None] * spin[None, :] + hi * spin[:, None])
        shift = jnp.max(exponent)
        product = product @ jnp.exp(exponent - shift)
        norm = jnp.max(jnp.abs(product))
        return (product / norm, log_scale + shift + jnp.log(norm)), None

    (product, log_scale), _ = jax.lax.scan(step, (jnp.eye(2, dtype=J.dtype), jnp.zeros((), J.dtype)), (J, h))
    return log_scale + jnp.log(jnp.trace(product))


def free_energy_density(beta: float, disorder: Disorder) -> Float[Array, ...]:
    r"""Free energy per spin :math:`f = -\ln Z / (\beta N)` of one or many (leading axis) samples."""
    J, h = disorder
    one = lambda Ji, hi: -random_chain_log_partition(beta, Ji, hi) / (beta * Ji.shape[-1])
    return jax.vmap(one)(J, h) if J.ndim == 2 else one(J, h)
