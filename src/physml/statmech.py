r"""Statistical mechanics of a system with finitely many states, from its energies.

A system with states :math:`x` and energies :math:`E(x)` at inverse temperature
:math:`\beta = 1/T` (units with :math:`k_B = 1`) occupies state :math:`x` with the
Boltzmann probability

.. math::

    p_\beta(x) = \frac{e^{-\beta E(x)}}{Z(\beta)}, \qquad
    Z(\beta) = \sum_x e^{-\beta E(x)} .

Everything here works from ``energies``, a 1-D array holding :math:`E(x)` for every state
(exact enumeration), and goes through :math:`\ln Z` computed by log-sum-exp, so it is
finite for any :math:`\beta \ge 0` and any finite energies — :math:`\beta = 10^4` included.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "boltzmann_probabilities",
    "entropy",
    "free_energy",
    "free_entropy",
    "heat_capacity",
    "log_partition",
    "mean_energy",
]


def log_partition(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""Log partition function :math:`\ln Z(\beta) = \ln \sum_x e^{-\beta E(x)}`.

    Computed as :math:`-\beta E_0 + \ln \sum_x e^{-\beta (E(x) - E_0)}` with
    :math:`E_0 = \min_x E(x)`, so no term overflows and the largest is exactly 1.

    Args:
        energies: energies :math:`E(x)` of all states, shape ``(states,)``.
        beta: inverse temperature :math:`\beta \ge 0`, in units of 1/energy.

    Returns:
        :math:`\ln Z`, a scalar.

    Example:
        >>> import jax.numpy as jnp
        >>> float(log_partition(jnp.array([0.0, 0.0]), 1.0))  # ln 2
        0.6931471...
    """
    energies = jnp.asarray(energies)
    return jax.nn.logsumexp(-beta * energies)


def boltzmann_probabilities(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, " states"]:
    r"""Boltzmann probabilities :math:`p_\beta(x) = e^{-\beta E(x)} / Z(\beta)`.

    Args:
        energies: energies of all states, shape ``(states,)``.
        beta: inverse temperature :math:`\beta \ge 0`.

    Returns:
        probabilities, shape ``(states,)``, summing to 1.
    """
    energies = jnp.asarray(energies)
    return jax.nn.softmax(-beta * energies)


def free_energy(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""Helmholtz free energy :math:`F = -\frac{1}{\beta} \ln Z(\beta)`, for :math:`\beta > 0`."""
    return -log_partition(energies, beta) / beta


def mean_energy(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""Mean energy :math:`\langle E \rangle = \sum_x p_\beta(x) E(x) = -\partial_\beta \ln Z`."""
    energies = jnp.asarray(energies)
    return jnp.sum(boltzmann_probabilities(energies, beta) * energies)


def free_entropy(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""Free entropy :math:`\Phi = \ln Z = -\beta F` (dimensionless)."""
    return log_partition(energies, beta)


def entropy(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""Gibbs entropy :math:`S = -\sum_x p(x)\ln p(x) = \beta(\langle E\rangle - F)`.

    Computed as :math:`\ln Z + \beta\langle E\rangle`, which is finite at any :math:`\beta`
    (states of zero probability contribute nothing).
    """
    return log_partition(energies, beta) + beta * mean_energy(energies, beta)


def heat_capacity(energies: Float[ArrayLike, " states"], beta: float) -> Float[Array, ""]:
    r"""Heat capacity :math:`C = \beta^2(\langle E^2\rangle - \langle E\rangle^2)
    = \beta^2\,\partial_\beta^2 \ln Z`."""
    energies = jnp.asarray(energies)
    p = boltzmann_probabilities(energies, beta)
    mean = jnp.sum(p * energies)
    return beta**2 * jnp.sum(p * (energies - mean) ** 2)
