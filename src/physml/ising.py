r"""Ising models: the exact 1-D chain and Monte Carlo on the 2-D square lattice.

Spins :math:`s_i = \pm 1`, coupling :math:`J` (ferromagnetic for :math:`J > 0`), field
:math:`h`, periodic boundaries, :math:`k_B = 1`:

.. math::

    H(s) = -J \sum_{\langle ij \rangle} s_i s_j - h \sum_i s_i .

The chain is solved by its transfer matrix
:math:`T = \begin{pmatrix} e^{\beta(J+h)} & e^{-\beta J} \\ e^{-\beta J} & e^{\beta(J-h)}\end{pmatrix}`,
so that :math:`Z_N = \operatorname{tr} T^N = \lambda_+^N + \lambda_-^N`. The square lattice
is sampled by Metropolis with checkerboard updates (all sites of one colour at once, which
is exact because same-colour sites do not interact) and by Wolff cluster flips; Onsager's
solution gives its critical temperature and spontaneous magnetization.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "ONSAGER_TC",
    "IsingSamples",
    "binder_crossing",
    "binder_cumulant",
    "chain_correlation_length",
    "chain_energy",
    "chain_free_energy_density",
    "chain_log_partition",
    "chain_magnetization",
    "checkerboard_sweep",
    "lattice_energy",
    "metropolis",
    "onsager_magnetization",
    "random_spins",
    "specific_heat",
    "sublattices",
    "susceptibility",
    "temperature_scan",
    "wolff_step",
]

#: Onsager's critical temperature of the square lattice, :math:`T_c = 2J/\ln(1+\sqrt 2)`.
ONSAGER_TC = 2.0 / np.log(1.0 + np.sqrt(2.0))


# ----------------------------------------------------------------------------- the chain


def chain_energy(s: Float[ArrayLike, "... n"], J: float, h: float = 0.0) -> Float[Array, ...]:
    r"""Energy of periodic chains, :math:`-J\sum_i s_i s_{i+1} - h\sum_i s_i` (last axis: sites)."""
    s = jnp.asarray(s)
    return -J * jnp.sum(s * jnp.roll(s, -1, axis=-1), axis=-1) - h * jnp.sum(s, axis=-1)


def _chain_eigenvalues(beta: float, J: float, h: float) -> tuple[Array, Array, Array]:
    r"""Transfer-matrix eigenvalues as ``(log_scale, plus, minus)`` with
    :math:`\lambda_\pm = e^{\text{log\_scale}} \times (\text{plus}, \text{minus})`.

    The scale is the largest entry of :math:`T`, :math:`e^{\beta s}` with
    :math:`s = \max(J + |h|, -J)`, so every exponential below has a non-positive argument and
    nothing overflows or underflows to a wrong answer, however large :math:`\beta J` and
    :math:`\beta h` are and whatever the sign of :math:`J`, in float32 as in float64.
    """
    s = jnp.maximum(J + jnp.abs(h), -J)
    scale = beta * s
    a = jnp.exp(beta * (J + jnp.abs(h) - s))  # e^{β(J+|h|)} / e^{βs} ≤ 1
    small = jnp.exp(-2 * beta * jnp.abs(h))
    cosh = a * (1 + small) / 2  # e^{βJ} cosh(βh) / e^{βs}
    sinh = a * (1 - small) / 2  # e^{βJ} |sinh(βh)| / e^{βs}
    b2 = jnp.exp(-2 * beta * (J + s))  # (e^{βJ} e^{-2βJ} / e^{βs})², J + s ≥ 0
    root = jnp.sqrt(sinh**2 + b2)
    return scale, cosh + root, cosh - root


def chain_log_partition(n: int, beta: float, J: float, h: float = 0.0) -> Float[Array, ""]:
    r"""Exact :math:`\ln Z_N = \ln(\lambda_+^N + \lambda_-^N)` of the periodic chain of ``n`` spins.

    Written as :math:`N\ln\lambda_+ + \ln(1 + (\lambda_-/\lambda_+)^N)`, finite for any
    :math:`\beta`; :math:`\lambda_-` may be negative (antiferromagnet), hence the integer power.
    """
    scale, plus, minus = _chain_eigenvalues(beta, J, h)
    return n * (scale + jnp.log(plus)) + jnp.log1p((minus / plus) ** n)


def chain_free_energy_density(beta: float, J: float, h: float = 0.0) -> Float[Array, ""]:
    r"""Free energy per spin of the infinite chain, :math:`f = -\frac{1}{\beta}\ln\lambda_+`."""
    scale, plus, _ = _chain_eigenvalues(beta, J, h)
    return -(scale + jnp.log(plus)) / beta


def chain_magnetization(beta: float, J: float, h: float) -> Float[Array, ""]:
    r"""Magnetization per spin of the infinite chain,
    :math:`m = \sinh\beta h / \sqrt{\sinh^2\beta h + e^{-4\beta J}}` — zero at :math:`h = 0`
    for every :math:`T > 0`: the chain never orders.
    """
    return jnp.sinh(beta * h) / jnp.sqrt(jnp.sinh(beta * h) ** 2 + jnp.exp(-4 * beta * J))


def chain_correlation_length(beta: float, J: float, h: float = 0.0) -> Float[Array, ""]:
    r"""Correlation length :math:`\xi = 1/\ln(\lambda_+/|\lambda_-|)` in lattice units;
    at :math:`h = 0`, :math:`\xi = -1/\ln\tanh\beta J`, finite for every :math:`T > 0`."""
    _, plus, minus = _chain_eigenvalues(beta, J, h)
    return 1.0 / jnp.log(plus / jnp.abs(minus))


# ------------------------------------------------------------------------ square lattice


def random_spins(key: Array, L: int, batch: tuple[int, ...] = ()) -> Float[Array, "*batch L L"]:
    """Independent random spins (infinite temperature) on ``L × L`` lattices, as float32 ±1."""
    return jnp.where(jax.random.bernoulli(key, 0.5, (*batch, L, L)), 1.0, -1.0).astype(jnp.float32)


def _neighbour_sum(s: Array) -> Array:
    return (
        jnp.roll(s, 1, axis=-1)
        + jnp.roll(s, -1, axis=-1)
        + jnp.roll(s, 1, axis=-2)
        + jnp.roll(s, -1, axis=-2)
    )


def lattice_energy(s: Float[ArrayLike, "... L L"], J: float = 1.0, h: float = 0.0) -> Float[Array, ...]:
    r"""Energy :math:`-J\sum_{\langle ij\rangle} s_i s_j - h\sum_i s_i` of periodic square lattices."""
    s = jnp.asarray(s)
    bonds = s * (jnp.roll(s, 1, axis=-1) + jnp.roll(s, 1, axis=-2))
    return -J * jnp.sum(bonds, axis=(-2, -1)) - h * jnp.sum(s, axis=(-2, -1))


@functools.cache
def sublattices(L0: int, L1: int) -> tuple[np.ndarray, ...]:
    """Colour classes of the periodic ``L0 × L1`` square lattice: no two neighbours share one.

    Greedy colouring in row-major order: for even sides it is the two-colour checkerboard;
    an odd side needs more colours (the wrap-around bond joins two sites of the same
    checkerboard colour), and the greedy pass uses four. Returned as boolean masks, one per colour.
    """
    if min(L0, L1) < 2:
        raise ValueError(f"a periodic lattice needs sides of at least 2, got {(L0, L1)}")
    colour = -np.ones((L0, L1), dtype=int)
    for i in range(L0):
        for j in range(L1):
            taken = {colour[(i + a) % L0, (j + b) % L1] for a, b in ((1, 0), (-1, 0), (0, 1), (0, -1))}
            colour[i, j] = min(c for c in range(5) if c not in taken)
    return tuple(colour == c for c in range(colour.max() + 1))


def checkerboard_sweep(
    key: Array, s: Float[Array, "L L"], beta: float, J: float = 1.0, h: float = 0.0
) -> Array:
    r"""One Metropolis sweep: every site of one colour, then of the next, proposed a flip.

    A flip costing :math:`\Delta E = 2 s_i (J \sum_{j\sim i} s_j + h)` is accepted with
    probability :math:`\min(1, e^{-\beta\Delta E})`. Sites of one colour
    (:func:`sublattices`) do not interact, so updating them at once is exact; every site is
    proposed exactly once a sweep. Even sides give the two-colour checkerboard, odd sides
    more colours (and so more passes a sweep).
    """
    masks = sublattices(s.shape[-2], s.shape[-1])
    # One uniform number per site and sweep: each site is proposed exactly once a sweep.
    u = jax.random.uniform(key, s.shape, dtype=s.dtype)
    for mask in masks:
        delta = 2.0 * s * (J * _neighbour_sum(s) + h)
        flip = jnp.asarray(mask) & (u < jnp.exp(-beta * delta))
        s = jnp.where(flip, -s, s)
    return s


class IsingSamples(NamedTuple):
    """Per-sweep measurements of a Monte Carlo run.

    Attributes:
        energy: energy per spin after each sweep, shape ``(..., sweeps)``.
        magnetization: magnetization per spin after each sweep, ``(..., sweeps)``.
    """

    energy: Array
    magnetization: Array


def metropolis(
    key: Array, s: Float[Array, "L L"], beta: float, sweeps: int, J: float = 1.0, h: float = 0.0
) -> tuple[Array, IsingSamples]:
    """Run ``sweeps`` checkerboard sweeps with ``lax.scan``; return the last state and the samples.

    Jit-compiled per lattice size and number of sweeps; ``vmap`` it over keys, states
    and ``beta`` to run many temperatures at once.
    """
    return _metropolis(key, s, jnp.asarray(beta, s.dtype), sweeps, J, h)


@functools.partial(jax.jit, static_argnames=("sweeps",))
def _metropolis(
    key: Array, s: Array, beta: Array, sweeps: int, J: float, h: float
) -> tuple[Array, IsingSamples]:
    n = s.shape[-1] * s.shape[-2]

    def step(state: Array, k: Array) -> tuple[Array, IsingSamples]:
        state = checkerboard_sweep(k, state, beta, J, h)
        return state, IsingSamples(lattice_energy(state, J, h) / n, jnp.sum(state) / n)

    return jax.lax.scan(step, s, jax.random.split(key, sweeps))


def wolff_step(key: Array, s: np.ndarray, beta: float, J: float = 1.0) -> tuple[np.ndarray, int]:
    r"""One Wolff cluster flip (at :math:`h = 0`, :math:`J > 0`); returns the new spins and the cluster size.

    From a random seed site, aligned neighbours join the cluster with probability
    :math:`p = 1 - e^{-2\beta J}`; the whole cluster is flipped, which satisfies detailed
    balance with no rejection and beats critical slowing down near :math:`T_c`. Runs in
    NumPy (cluster growth is sequential); the randomness comes from ``key``.
    """
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())
    s = np.array(s, copy=True)
    L0, L1 = s.shape
    p_add = 1.0 - np.exp(-2.0 * beta * J)
    i, j = int(rng.integers(L0)), int(rng.integers(L1))
    value = s[i, j]
    s[i, j] = -value
    stack, size = [(i, j)], 1
    while stack:
        i, j = stack.pop()
        for a, b in (((i + 1) % L0, j), ((i - 1) % L0, j), (i, (j + 1) % L1), (i, (j - 1) % L1)):
            if s[a, b] == value and rng.random() < p_add:
                s[a, b] = -value
                stack.append((a, b))
                size += 1
    return s, size


def onsager_magnetization(T: Float[ArrayLike, ...], J: float = 1.0) -> Float[Array, ...]:
    r"""Onsager–Yang spontaneous magnetization :math:`M = (1 - \sinh^{-4}(2J/T))^{1/8}` below
    :math:`T_c`, and 0 above."""
    T = jnp.asarray(T, dtype=float)
    x = 1.0 - jnp.sinh(2.0 * J / T) ** -4
    return jnp.where(x > 0, jnp.abs(x) ** 0.125, 0.0)


def binder_cumulant(m: Float[ArrayLike, "... samples"]) -> Float[Array, ...]:
    r"""Binder cumulant :math:`U = 1 - \langle m^4\rangle / (3\langle m^2\rangle^2)` over the last axis.

    :math:`U \to 2/3` in the ordered phase and :math:`\to 0` in the disordered one; curves
    for different sizes cross near :math:`T_c`.
    """
    m = jnp.asarray(m)
    m2 = jnp.mean(m**2, axis=-1)
    return 1.0 - jnp.mean(m**4, axis=-1) / (3.0 * m2**2)


def specific_heat(
    energy: Float[ArrayLike, "... samples"], T: Float[ArrayLike, ...], n_spins: int
) -> Float[Array, ...]:
    r"""Specific heat per spin from the energy fluctuations, :math:`c = N\,\operatorname{Var}(e)/T^2`.

    ``energy`` holds samples of the energy per spin :math:`e = E/N` on the last axis (as in
    :class:`IsingSamples`); ``T`` broadcasts against the leading axes. This is
    :math:`C/N = \beta^2 \operatorname{Var}(E)/N`, the fluctuation form of
    :math:`\partial\langle E\rangle/\partial T` per spin.
    """
    energy = jnp.asarray(energy)
    return n_spins * jnp.var(energy, axis=-1) / jnp.asarray(T) ** 2


def susceptibility(
    magnetization: Float[ArrayLike, "... samples"], T: Float[ArrayLike, ...], n_spins: int
) -> Float[Array, ...]:
    r"""Susceptibility per spin of a finite lattice from the fluctuations of :math:`|m|`,

    .. math::

        \chi = \frac{N}{T}\left(\langle m^2\rangle - \langle |m|\rangle^2\right).

    With no field a finite lattice has :math:`\langle m\rangle = 0` by symmetry at every
    temperature, so the fluctuation is measured around :math:`\langle |m|\rangle`, the
    usual finite-size estimator; its peak marks the transition and grows with :math:`L`.
    """
    m = jnp.asarray(magnetization)
    return n_spins * (jnp.mean(m**2, axis=-1) - jnp.mean(jnp.abs(m), axis=-1) ** 2) / jnp.asarray(T)


def temperature_scan(
    key: Array, L: int, temperatures: Float[ArrayLike, " temps"], sweeps: int, burn_in: int, replicas: int = 1
) -> IsingSamples:
    """Metropolis runs at many temperatures at once (``vmap``), from the ordered state.

    Returns the samples after ``burn_in`` sweeps, shape ``(temps, replicas * (sweeps - burn_in))``
    for both energy and magnetization per spin.
    """
    temperatures = np.asarray(temperatures, dtype=np.float32)
    betas = jnp.repeat(jnp.asarray(1.0 / temperatures), replicas)
    s0 = jnp.ones((betas.shape[0], L, L), jnp.float32)
    keys = jax.random.split(key, betas.shape[0])
    _, samples = jax.vmap(lambda k, s, b: _metropolis(k, s, b, sweeps, 1.0, 0.0))(keys, s0, betas)
    shape = (temperatures.shape[0], -1)
    return IsingSamples(*(jnp.reshape(x[:, burn_in:], shape) for x in samples))


def binder_crossing(
    temperatures: Float[ArrayLike, " temps"], u_small: ArrayLike, u_large: ArrayLike
) -> float:
    """Temperature where two Binder-cumulant curves cross (linear interpolation).

    Returns the crossing closest to the middle of the scan, or NaN when the curves do not cross.
    """
    t, d = np.asarray(temperatures, float), np.asarray(u_small, float) - np.asarray(u_large, float)
    idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    if idx.size == 0:
        return float("nan")
    crossings = t[idx] - d[idx] * (t[idx + 1] - t[idx]) / (d[idx + 1] - d[idx])
    return float(crossings[np.argmin(np.abs(crossings - t.mean()))])
