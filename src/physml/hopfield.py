r"""Hopfield networks: Hebbian memory, energy descent and the storage capacity.

:math:`N` neurons :math:`s_i = \pm 1` store :math:`P` patterns
:math:`\xi^\mu \in \{\pm 1\}^N` in symmetric couplings given by Hebb's rule
(Hopfield 1982),

.. math::

    W_{ij} = \frac{1}{N} \sum_{\mu=1}^{P} \xi^\mu_i \xi^\mu_j \quad (i \ne j),
    \qquad W_{ii} = 0,
    \qquad E(s) = -\tfrac12\, s^\top W s .

The network is an Ising model with couplings :math:`W` (no field). At zero temperature a
neuron aligns with its local field :math:`h_i = \sum_j W_{ij} s_j`; updated one at a time
(*asynchronously*), each update changes the energy by :math:`\Delta E = -2|h_i| \le 0`, so
the dynamics ends in a local minimum of :math:`E` — a fixed point. A stored pattern is a
fixed point while the *load* :math:`\alpha = P/N` is small; the crosstalk of the other
patterns grows like :math:`\sqrt{\alpha}`, and for :math:`N \to \infty` the retrieval
states disappear at :math:`\alpha_c \approx 0.138` (Amit, Gutfreund and Sompolinsky 1985).

At a finite temperature :math:`T = 1/\beta`, Glauber (heat-bath) dynamics samples the
Boltzmann distribution :math:`p(s) \propto e^{-\beta E(s)}`: the Hopfield network is a
Boltzmann machine with Hebbian weights.

Conventions: states and patterns are float arrays of :math:`\pm 1` (the dtype of the
input is kept; :func:`random_patterns` gives float32); a local field that is exactly zero
leaves its spin unchanged. The dynamics act on one state of shape ``(n,)``; ``jax.vmap``
them over states and keys, or ``lax.map`` them (as :func:`capacity_curve` does) when the
runs take very different numbers of sweeps.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

__all__ = [
    "AGS_ALPHA_C",
    "Capacity",
    "Recall",
    "async_sweep",
    "capacity_curve",
    "energy",
    "flip_bits",
    "glauber",
    "glauber_sweep",
    "half_crossing",
    "hebbian_weights",
    "is_fixed_point",
    "local_field",
    "overlap",
    "random_patterns",
    "recall",
    "recall_synchronous",
    "sweep_order",
    "sync_step",
    "update_spin",
]

#: Storage capacity of the Hopfield network for :math:`N \to \infty` (Amit, Gutfreund and
#: Sompolinsky 1985): retrieval states exist for :math:`\alpha = P/N < \alpha_c`.
AGS_ALPHA_C = 0.138


# ------------------------------------------------------------------- patterns and weights


def random_patterns(key: Array, n_patterns: int, n: int, dtype=jnp.float32) -> Float[Array, "p n"]:
    r"""Independent unbiased patterns, :math:`\xi^\mu_i = \pm 1` with probability 1/2 each.

    Each entry is the top bit of a random 32-bit word, so the patterns drawn from a key
    do not depend on ``jax_enable_x64``.

    Args:
        key: PRNG key.
        n_patterns: number of patterns :math:`P \ge 0`.
        n: number of neurons :math:`N \ge 1`.
        dtype: float dtype of the result.

    Returns:
        array of shape ``(n_patterns, n)``.
    """
    if n_patterns < 0 or n < 1:
        raise ValueError(f"need n_patterns >= 0 and n >= 1, got n_patterns={n_patterns}, n={n}")
    return _random_patterns(key, n_patterns, n, jnp.dtype(dtype))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _random_patterns(key: Array, n_patterns: int, n: int, dtype) -> Array:
    # one random bit each, from 32-bit words: the same patterns with or without jax_enable_x64
    bits = jax.random.bits(key, (n_patterns, n), jnp.uint32) >> 31
    return jnp.where(bits == 1, 1.0, -1.0).astype(dtype)


def hebbian_weights(patterns: Float[ArrayLike, "p n"]) -> Float[Array, "n n"]:
    r"""Hebb's rule :math:`W = \frac1N \sum_\mu \xi^\mu \xi^{\mu\top}` with the diagonal set to zero.

    Symmetric by construction. A row of zeros in ``patterns`` adds nothing, which lets a
    batch of networks with different :math:`P` share one array shape (mask the unused rows).

    The zero-temperature dynamics depend on :math:`W` only up to a positive factor, and
    :math:`N W` has integer entries: :func:`capacity_curve` runs on :math:`N W`, so that
    every local field is computed exactly and a field that is exactly zero (possible when
    :math:`P(N-1)` is even) is recognised as zero, whatever the order of summation.

    Args:
        patterns: the :math:`P` patterns as rows, shape ``(p, n)``.

    Returns:
        couplings of shape ``(n, n)``.

    Example:
        >>> import jax.numpy as jnp
        >>> hebbian_weights(jnp.array([[1.0, -1.0, 1.0]])) * 3
        Array([[ 0., -1.,  1.],
               [-1.,  0., -1.],
               [ 1., -1.,  0.]], dtype=float32)
    """
    xi = jnp.asarray(patterns)
    if xi.ndim != 2:
        raise ValueError(f"patterns must have shape (p, n), got {xi.shape}")
    return _hebbian_counts(xi) / xi.shape[1]


@jax.jit
def _hebbian_counts(xi: Array) -> Array:
    r""":math:`N W`: the integer-valued sums :math:`\sum_\mu \xi^\mu_i \xi^\mu_j`, zero diagonal."""
    c = xi.T @ xi
    return c * (1 - jnp.eye(xi.shape[1], dtype=c.dtype))


@jax.jit
def local_field(W: Float[ArrayLike, "n n"], s: Float[ArrayLike, "... n"]) -> Float[Array, "... n"]:
    r"""Local fields :math:`h_i = \sum_j W_{ij} s_j` (last axis: neurons)."""
    return jnp.einsum("ij,...j->...i", jnp.asarray(W), jnp.asarray(s))


@jax.jit
def energy(W: Float[ArrayLike, "n n"], s: Float[ArrayLike, "... n"]) -> Float[Array, ...]:
    r"""Energy :math:`E(s) = -\frac12 s^\top W s` (last axis: neurons)."""
    s = jnp.asarray(s)
    return -0.5 * jnp.sum(s * local_field(W, s), axis=-1)


@jax.jit
def overlap(pattern: Float[ArrayLike, "... n"], s: Float[ArrayLike, "... n"]) -> Float[Array, ...]:
    r"""Overlap :math:`m = \frac1N \sum_i \xi_i s_i \in [-1, 1]`; :math:`m = 1` is perfect recall.

    Both arguments must have the same rank (the last axis holds the neurons).
    """
    pattern, s = jnp.asarray(pattern), jnp.asarray(s)
    return jnp.sum(pattern * s, axis=-1) / s.shape[-1]


@jax.jit
def flip_bits(key: Array, s: Float[Array, " n"], n_flips: int | Array) -> Float[Array, " n"]:
    """``s`` with exactly ``n_flips`` distinct neurons, chosen uniformly at random, flipped.

    The flipped neurons are the first ``n_flips`` of the random order :func:`sweep_order`
    draws from ``key``; ``n_flips`` may be traced (vmap over it).
    """
    s = jnp.asarray(s)
    n = s.shape[-1]
    flipped = jnp.zeros(n, bool).at[sweep_order(key, n)].set(jnp.arange(n) < n_flips)
    return jnp.where(flipped, -s, s)


# ----------------------------------------------------------------------------- dynamics


def _aligned(h: Array, s: Array) -> Array:
    """The zero-temperature rule: the sign of the field, and no change where the field is zero."""
    return jnp.where(h > 0, 1, jnp.where(h < 0, -1, s)).astype(s.dtype)


@jax.jit
def update_spin(W: Float[Array, "n n"], s: Float[Array, " n"], i: int | Array) -> Float[Array, " n"]:
    r"""Align neuron ``i`` with its field: :math:`s_i \leftarrow \operatorname{sign}(h_i)`.

    With zero diagonal the energy changes by :math:`\Delta E = -(s_i^{\rm new} - s_i)\,h_i
    = -2|h_i|` if the spin flips and by 0 otherwise: an update never raises :math:`E`.
    """
    return s.at[i].set(_aligned(W[i] @ s, s[i]))


def _priorities(key: Array, n: int) -> Array:
    return jax.random.bits(key, (n,), jnp.uint32)


@functools.partial(jax.jit, static_argnums=1)
def sweep_order(key: Array, n: int) -> Int[Array, " n"]:
    """A random order of the ``n`` neurons: sorted by random 32-bit priorities drawn from ``key``.

    Uniform over permutations except that equal priorities (probability below
    :math:`n^2/2^{33}`) keep index order. Priorities rather than ``jax.random.permutation``
    let :func:`recall` find the next neuron of the order without sorting.
    """
    return jnp.argsort(_priorities(key, n), stable=True)


@jax.jit
def async_sweep(key: Array, W: Float[Array, "n n"], s: Float[Array, " n"]) -> Float[Array, " n"]:
    """One asynchronous sweep: every neuron updated once (:func:`update_spin`), one at a time.

    The order is :func:`sweep_order` ``(key, n)``; each update sees the spins changed
    before it in the sweep, so the energy is non-increasing after every single update.
    """
    order = sweep_order(key, s.shape[-1])
    return jax.lax.fori_loop(0, order.shape[0], lambda t, x: update_spin(W, x, order[t]), s)


@jax.jit
def sync_step(W: Float[Array, "n n"], s: Float[Array, "... n"]) -> Float[Array, "... n"]:
    r"""Synchronous update: every neuron at once, :math:`s \leftarrow \operatorname{sign}(W s)`.

    Unlike the asynchronous sweep this need not lower :math:`E(s)`: it can oscillate. For
    symmetric :math:`W` the quantity :math:`L(s', s) = -s'^\top W s` (:math:`s'` the new
    state) never increases, so the dynamics ends in a fixed point *or in a 2-cycle*
    (Goles, Fogelman-Soulié and Pellegrin 1985). Example: :math:`\xi = (1, 1)`,
    :math:`s = (1, -1)` flips both spins forever, while one asynchronous sweep settles it.
    """
    s = jnp.asarray(s)
    return _aligned(local_field(W, s), s)


@jax.jit
def is_fixed_point(W: Float[ArrayLike, "n n"], s: Float[ArrayLike, "... n"]) -> Bool[Array, ...]:
    r"""Whether every neuron agrees with its field: :math:`s_i h_i > 0`, or :math:`h_i = 0`.

    Fixed points of the synchronous and of the asynchronous dynamics are the same states.
    """
    s = jnp.asarray(s)
    return jnp.all(sync_step(W, s) == s, axis=-1)


class Recall(NamedTuple):
    """Result of running the zero-temperature dynamics to its end.

    Attributes:
        state: the final state, shape ``(n,)``.
        sweeps: number of sweeps run (a converged run ends with a sweep that changes nothing).
        period: 1 if the state is a fixed point, 2 if the synchronous dynamics ended in a
            2-cycle, 0 if ``max_sweeps`` ran out first.
    """

    state: Array
    sweeps: Array
    period: Array


def recall(key: Array, W: Float[Array, "n n"], s: Float[Array, " n"], max_sweeps: int = 100) -> Recall:
    r"""Asynchronous sweeps (:func:`async_sweep`) from ``s`` until one changes nothing.

    A sweep in which no spin changed checked every neuron against the same state, so its
    result is a fixed point. Stops after ``max_sweeps`` sweeps otherwise (``period = 0``).

    The run is the same sequence of states as calling :func:`async_sweep` over and over
    with the keys ``key, sub = jax.random.split(key)`` (``sub`` for the sweep), but
    event-driven: the local fields :math:`h = W s` are computed once and kept up to date
    (:math:`h \mathrel{+}= W_{:i}\,\Delta s_i` after a flip), and the loop jumps straight to
    the next neuron of the sweep's order that disagrees with its field, found from the
    sweep's random priorities without sorting. A sweep costs :math:`O(N)` per flip instead
    of :math:`O(N^2)`, which is what makes the capacity experiment fast. With float
    couplings the updated fields can differ from :math:`W s` by rounding, which matters
    only for a field that is exactly zero; integer-valued couplings (such as :math:`N W`
    for Hebb's rule) make every field exact. Jit-compiled once per network size
    (``lax.while_loop``); ``vmap`` it over keys and states (a vmapped run lasts as long
    as its slowest member). :math:`W` must be symmetric.

    Example:
        >>> import jax
        >>> xi = random_patterns(jax.random.key(0), 5, 200)
        >>> W = hebbian_weights(xi)
        >>> noisy = flip_bits(jax.random.key(1), xi[0], 20)
        >>> out = recall(jax.random.key(2), W, noisy)
        >>> float(overlap(xi[0], out.state)), int(out.period)
        (1.0, 1)
    """
    if max_sweeps < 1:
        raise ValueError(f"max_sweeps must be at least 1, got {max_sweeps}")
    return _recall(key, jnp.asarray(W), jnp.asarray(s), max_sweeps)


def _next_unstable(s: Array, h: Array, priority: Array, after: Array, start: Array) -> tuple[Array, Array]:
    """Whether a neuron against its field comes later in the sweep than neuron ``after``
    (or anywhere, at the ``start`` of a sweep), and the first such neuron."""
    idx = jnp.arange(s.shape[-1])
    p0 = priority[after]
    later = start | (priority > p0) | ((priority == p0) & (idx > after))
    candidate = (s * h < 0) & later
    first = jnp.min(jnp.where(candidate, priority, jnp.uint32(0xFFFFFFFF)))
    return jnp.any(candidate), jnp.argmax(candidate & (priority == first))


@jax.jit
def _recall(key: Array, W: Array, s: Array, max_sweeps: int | Array) -> Recall:
    def flip(carry):
        s, h, _, i, priority, _ = carry
        s, h = s.at[i].set(-s[i]), h - 2 * s[i] * W[:, i]
        found, j = _next_unstable(s, h, priority, i, jnp.bool_(False))
        return s, h, found, j, priority, jnp.bool_(True)

    def sweep(carry):
        key, s, h, sweeps, _ = carry
        key, sub = jax.random.split(key)
        priority = _priorities(sub, s.shape[-1])
        found, i = _next_unstable(s, h, priority, 0, jnp.bool_(True))
        s, h, *_, changed = jax.lax.while_loop(
            lambda c: c[2], flip, (s, h, found, i, priority, jnp.bool_(False))
        )
        return key, s, h, sweeps + 1, changed

    def cond(carry):
        *_, sweeps, changed = carry
        return changed & (sweeps < max_sweeps)

    init = (key, s, W @ s, jnp.int32(0), jnp.bool_(True))
    _, s, _, sweeps, changed = jax.lax.while_loop(cond, sweep, init)
    return Recall(s, sweeps, jnp.where(changed, 0, 1).astype(jnp.int32))


def recall_synchronous(W: Float[Array, "n n"], s: Float[Array, " n"], max_sweeps: int = 100) -> Recall:
    """Synchronous steps (:func:`sync_step`) from ``s`` until a fixed point or a 2-cycle.

    Stops when the new state equals the current one (``period = 1``) or the one before
    (``period = 2``; ``state`` is then one of the two states of the cycle), or after
    ``max_sweeps`` steps (``period = 0``). Deterministic: no key.
    """
    if max_sweeps < 1:
        raise ValueError(f"max_sweeps must be at least 1, got {max_sweeps}")
    return _recall_synchronous(jnp.asarray(W), jnp.asarray(s), max_sweeps)


@jax.jit
def _recall_synchronous(W: Array, s: Array, max_sweeps: int | Array) -> Recall:
    def cond(carry):
        _, _, sweeps, period = carry
        return (period == 0) & (sweeps < max_sweeps)

    def body(carry):
        previous, s, sweeps, _ = carry
        new = sync_step(W, s)
        period = jnp.where(jnp.all(new == s), 1, jnp.where(jnp.all(new == previous), 2, 0))
        return s, new, sweeps + 1, period.astype(jnp.int32)

    _, s, sweeps, period = jax.lax.while_loop(cond, body, (s, s, jnp.int32(0), jnp.int32(0)))
    return Recall(s, sweeps, period)


@jax.jit
def glauber_sweep(
    key: Array, W: Float[Array, "n n"], s: Float[Array, " n"], beta: float | Array
) -> Float[Array, " n"]:
    r"""One Glauber (heat-bath) sweep at inverse temperature :math:`\beta`.

    Each neuron, in the random order :func:`sweep_order`, is set to :math:`+1` with
    probability

    .. math::

        p(s_i = +1 \mid s_{\setminus i}) = \frac{e^{\beta h_i}}{e^{\beta h_i} + e^{-\beta h_i}}
        = \sigma(2\beta h_i),

    the exact conditional of :math:`p(s) \propto e^{-\beta E(s)}`, so every update leaves
    the Boltzmann distribution invariant. As :math:`\beta \to \infty` it becomes
    :func:`async_sweep` (a zero field then gives a fair coin instead of no change).
    """
    k_order, k_uniform = jax.random.split(key)
    n = s.shape[-1]
    order = sweep_order(k_order, n)
    u = jax.random.uniform(k_uniform, (n,), dtype=s.dtype)

    def update(t, x):
        i = order[t]
        up = u[t] < jax.nn.sigmoid(2 * beta * (W[i] @ x))
        return x.at[i].set(jnp.where(up, 1, -1).astype(x.dtype))

    return jax.lax.fori_loop(0, n, update, s)


def glauber(
    key: Array, W: Float[Array, "n n"], s: Float[Array, " n"], beta: float | Array, sweeps: int
) -> tuple[Float[Array, " n"], Float[Array, " sweeps"]]:
    """Run ``sweeps`` Glauber sweeps (``lax.scan``); return the last state and the energy after each."""
    return _glauber(key, jnp.asarray(W), jnp.asarray(s), jnp.asarray(beta, jnp.asarray(s).dtype), sweeps)


@functools.partial(jax.jit, static_argnames=("sweeps",))
def _glauber(key: Array, W: Array, s: Array, beta: Array, sweeps: int) -> tuple[Array, Array]:
    def step(x, k):
        x = glauber_sweep(k, W, x, beta)
        return x, energy(W, x)

    return jax.lax.scan(step, s, jax.random.split(key, sweeps))


# ------------------------------------------------------------------ capacity experiment


class Capacity(NamedTuple):
    r"""Retrieval statistics of Hebbian networks against the load :math:`\alpha = P/N`.

    Every field has shape ``(alphas,)``.

    Attributes:
        alpha: the load :math:`P/N` actually used (``P`` is rounded to an integer).
        n_patterns: number of stored patterns :math:`P`.
        fixed_point: fraction of tested stored patterns that are exact fixed points.
        retrieval: fraction whose recall ends with overlap at least ``threshold``.
        overlap: mean overlap of the final state with the pattern.
        converged: fraction of recalls that reached a fixed point within ``max_sweeps``.
        tested: number of recalls behind each fraction (its binomial error is
            :math:`\sqrt{f(1-f)/\text{tested}}`, patterns of one network being nearly independent).
    """

    alpha: np.ndarray
    n_patterns: np.ndarray
    fixed_point: np.ndarray
    retrieval: np.ndarray
    overlap: np.ndarray
    converged: np.ndarray
    tested: np.ndarray


def capacity_curve(
    key: Array,
    n: int,
    alphas: Float[ArrayLike, " alphas"],
    samples: int = 256,
    flips: int = 0,
    threshold: float = 0.95,
    max_sweeps: int = 50,
) -> Capacity:
    r"""Storage capacity experiment: store :math:`P = \operatorname{round}(\alpha N)` random
    patterns, start from each (with ``flips`` bits flipped) and recall asynchronously.

    For each load, independent networks are drawn until at least ``samples`` stored
    patterns are tested; each network tests its first :math:`K` patterns, :math:`K` the
    smallest :math:`P` of the grid (patterns are exchangeable, so this is unbiased). All
    loads share one array shape — unused pattern rows are zero and store nothing — so the
    whole curve is one jit-compiled function of nested ``lax.map`` over loads, networks
    and patterns, compiled once per :math:`N` (about 1 s) and run in about 0.1 s, 0.2 s
    and 0.65 s for :math:`N` = 100, 200, 400 (21 loads from 0.05 to 0.25, 256 recalls
    each, two CPU cores). The couplings used are :math:`N W` (see :func:`hebbian_weights`).

    Two measures, two different thresholds:

    - ``fixed_point``: the pattern itself is a fixed point. All :math:`N` bits must be
      stable; each is unstable with probability :math:`\approx \Phi(-1/\sqrt\alpha)`, so
      this fails already at :math:`\alpha \approx 1/(2\ln N)`, which goes to 0 slowly as
      :math:`N` grows.
    - ``retrieval``: the dynamics ends close to the pattern (overlap
      :math:`\ge` ``threshold``; at :math:`\alpha_c` the retrieval state still has
      :math:`m \approx 0.967`). This is what collapses at :math:`\alpha_c \approx 0.138`
      as :math:`N \to \infty`; at finite :math:`N` the drop is smeared over a width
      :math:`\propto N^{-1/2}` and shifted to higher :math:`\alpha`.

    Args:
        key: PRNG key.
        n: number of neurons :math:`N`.
        alphas: loads :math:`\alpha = P/N`, each giving :math:`P \ge 1`.
        samples: minimum number of recalls per load.
        flips: number of bits flipped in the starting state (0: start at the pattern).
        threshold: overlap counted as retrieval.
        max_sweeps: cap on asynchronous sweeps per recall.

    Returns:
        :class:`Capacity`, NumPy arrays.
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    p = np.rint(alphas * n).astype(int)
    if alphas.ndim != 1 or p.min() < 1:
        raise ValueError(f"every alpha must give at least one pattern (alpha * n >= 0.5), got {alphas}")
    if not 0 <= flips <= n:
        raise ValueError(f"flips must be between 0 and n = {n}, got {flips}")
    tested_per_net = int(p.min())
    networks = math.ceil(samples / tested_per_net)
    out = _capacity(
        key, jnp.asarray(p), n, int(p.max()), tested_per_net, networks, flips, threshold, max_sweeps
    )
    fixed, retrieved, m, converged = (np.asarray(x) for x in out)
    return Capacity(
        alpha=p / n,
        n_patterns=p,
        fixed_point=fixed,
        retrieval=retrieved,
        overlap=m,
        converged=converged,
        tested=np.full(p.shape, networks * tested_per_net),
    )


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7, 8))
def _capacity(key, p, n, p_max, tested, networks, flips, threshold, max_sweeps):
    # lax.map, not vmap: recalls take very different numbers of sweeps, and a vmapped
    # while_loop would run every recall as long as the slowest (measured 3x slower).
    def one_pattern(C, args):
        k, xi = args
        k_flip, k_run = jax.random.split(k)
        start = flip_bits(k_flip, xi, flips) if flips else xi
        out = _recall(k_run, C, start, max_sweeps)
        return is_fixed_point(C, xi), overlap(xi, out.state), out.period == 1

    def one_network(args):
        k, p_stored = args
        k_pat, k_run = jax.random.split(k)
        xi = random_patterns(k_pat, p_max, n)
        xi = jnp.where(jnp.arange(p_max)[:, None] < p_stored, xi, 0.0)
        C = _hebbian_counts(xi)  # N W: the same dynamics, in exact arithmetic
        keys = jax.random.split(k_run, tested)
        return jax.lax.map(functools.partial(one_pattern, C), (keys, xi[:tested]))

    def one_load(args):
        k, p_stored = args
        keys = jax.random.split(k, networks)
        fixed, m, conv = jax.lax.map(one_network, (keys, jnp.broadcast_to(p_stored, (networks,))))
        return fixed.mean(), (m >= threshold).mean(), m.mean(), conv.mean()

    return jax.lax.map(one_load, (jax.random.split(key, p.shape[0]), p))


def half_crossing(
    alpha: Float[ArrayLike, " alphas"], fraction: Float[ArrayLike, " alphas"], level: float = 0.5
) -> float:
    """Load at which a decreasing fraction first falls below ``level`` (linear interpolation).

    Returns NaN if the fraction never falls below ``level`` on the grid, and the first grid
    point if it starts below.
    """
    a, f = np.asarray(alpha, float), np.asarray(fraction, float)
    below = np.nonzero(f < level)[0]
    if below.size == 0:
        return float("nan")
    j = int(below[0])
    if j == 0:
        return float(a[0])
    return float(a[j - 1] + (f[j - 1] - level) * (a[j] - a[j - 1]) / (f[j - 1] - f[j]))
