r"""Metropolis sampling of :math:`|\psi_\theta(s)|^2` with many chains, and its statistics.

Markov chains over spin configurations :math:`s \in \{\pm1\}^N` with stationary
distribution :math:`p(s) = \psi(s)^2 / \sum_{s'}\psi(s')^2`. A move proposes
:math:`s'` by reversing a few spins; the proposals here are symmetric,
:math:`q(s\to s') = q(s'\to s)`, so the Metropolis acceptance probability is

.. math::

    A(s\to s') = \min\!\left(1, \frac{\psi(s')^2}{\psi(s)^2}\right)
               = \min\!\left(1, e^{2[\ln\psi(s') - \ln\psi(s)]}\right),

which satisfies detailed balance :math:`p(s)\,q\,A(s\to s') = p(s')\,q\,A(s'\to s)`.
A :class:`Move` (:data:`single_flip`, :data:`exchange`) says which spins to reverse.

A *sweep* is ``sweep_size`` proposals per chain (default :math:`N`); all chains advance
together as one batch, and a whole run (burn-in, then samples every ``thin`` sweeps) is
one :func:`jax.lax.scan`. The ansatz's fast path (:attr:`~physml.nqs.ansatz.Ansatz.flip`)
updates its cache on each accepted move — for the RBM the hidden pre-activations
:math:`\theta = b + Ws`, in :math:`O(M)` per reversed spin.

The statistics (:func:`statistics`) are those a user of Markov-chain samples needs: mean,
error of the mean (from independent blocks: the chains, cut into pieces when there are
few), integrated autocorrelation time, and the split-chain :math:`\hat R`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .ansatz import Ansatz, flip_sites

__all__ = [
    "MetropolisState",
    "Move",
    "Sampler",
    "Statistics",
    "exchange",
    "integrated_autocorrelation_time",
    "metropolis",
    "random_configurations",
    "single_flip",
    "split_r_hat",
    "statistics",
]

Params = Any


class Move(NamedTuple):
    """A symmetric Metropolis proposal: which spins to reverse.

    Attributes:
        n_uniform: how many uniform random numbers in :math:`[0, 1)` a proposal uses.
        propose: ``propose(u, s) -> sites`` for one configuration ``s`` (shape ``(N,)``)
            and ``u`` (shape ``(n_uniform,)``): the distinct indices of the spins to
            reverse, shape ``(k,)``. The numbers are drawn in bulk, a sweep at a time.
    """

    n_uniform: int
    propose: Callable[[Array, Array], Array]


def _pick(u: Array, members: Array) -> Array:
    """Index of a uniformly chosen ``True`` entry of ``members`` (shape ``(N,)``), from ``u`` in [0, 1):
    the entry whose running count is ``floor(u * count) + 1``.

    Written with products (the running count by an upper-triangular matrix of ones, the
    index by a dot with ``0..N-1``): XLA's ``cumsum`` and ``argmax`` on CPU made exchange
    moves several times slower than single flips.
    """
    n = members.shape[-1]
    running = members.astype(u.dtype) @ jnp.asarray(np.triu(np.ones((n, n))), u.dtype)
    rank = jnp.minimum(jnp.floor(u * running[-1]), running[-1] - 1) + 1
    hit = members & (running == rank)
    return (hit.astype(u.dtype) @ jnp.arange(n, dtype=u.dtype)).astype(jnp.int32)


def _single_flip(u: Float[Array, " 1"], s: Float[Array, " n"]) -> Int[Array, " 1"]:
    return jnp.minimum(jnp.floor(u * s.shape[-1]), s.shape[-1] - 1).astype(jnp.int32)


def _exchange(u: Float[Array, " 2"], s: Float[Array, " n"]) -> Int[Array, " 2"]:
    i = _single_flip(u[:1], s)[0]
    return jnp.stack([i, _pick(u[1], s != s[i])])


#: Reverse one spin chosen uniformly, :math:`q(s\to s') = 1/N` for each of the :math:`N`
#: neighbours :math:`s'`; symmetric, and ergodic on :math:`\{\pm1\}^N`.
single_flip = Move(1, _single_flip)

#: Exchange two antiparallel spins, reversing both. A site :math:`i` is chosen uniformly, then a
#: partner :math:`j` uniformly among the :math:`n_{-s_i}` sites of opposite spin. Conserves
#: :math:`S^z = \tfrac12\sum_i s_i`. Symmetric: the pair is proposed with probability
#: :math:`\frac1N(\frac1{n_\uparrow} + \frac1{n_\downarrow})` (either end first), the
#: same from :math:`s'`, as the exchange keeps :math:`n_\uparrow, n_\downarrow`; any
#: arrangement is reachable, so it is ergodic in the sector. Needs at least one up and one
#: down spin.
exchange = Move(2, _exchange)

_MOVES = {"flip": single_flip, "single_flip": single_flip, "exchange": exchange}


def random_configurations(
    key: Array, n_chains: int, n_sites: int, *, magnetization: int | None = None, dtype: Any = None
) -> Float[Array, "chains n"]:
    r"""Uniformly random configurations, shape ``(n_chains, n_sites)``, entries :math:`\pm1`.

    With ``magnetization`` :math:`m`, uniform among those with :math:`\sum_i s_i = m`
    (:math:`(N+m)/2` up spins, randomly placed); else uniform on :math:`\{\pm1\}^N`.
    """
    dtype = jax.dtypes.canonicalize_dtype(float if dtype is None else dtype)
    if magnetization is None:
        return jnp.where(jax.random.bernoulli(key, 0.5, (n_chains, n_sites)), 1.0, -1.0).astype(dtype)
    if (n_sites + magnetization) % 2 or abs(magnetization) > n_sites:
        raise ValueError(
            f"magnetization must be one of -N, -N+2, ..., N for N = {n_sites} sites, got {magnetization}"
        )
    n_up = (n_sites + magnetization) // 2
    base = jnp.where(jnp.arange(n_sites) < n_up, 1.0, -1.0).astype(dtype)
    return jax.vmap(lambda k: jax.random.permutation(k, base))(jax.random.split(key, n_chains))


# ----------------------------------------------------------------------------- chains


class MetropolisState(NamedTuple):
    r"""State of a batch of Markov chains.

    Attributes:
        s: current configurations, shape ``(chains, N)``.
        log_psi: :math:`\ln\psi(s)`, shape ``(chains,)``.
        cache: the ansatz's cache of each chain (leading axis ``chains``).
        n_accepted: accepted proposals of each chain since :func:`Sampler.init`, ``(chains,)``.
        n_proposed: proposals made to each chain since then, a scalar.
    """

    s: Array
    log_psi: Array
    cache: Any
    n_accepted: Array
    n_proposed: Array


def _refresh(ansatz: Ansatz, params: Params, state: MetropolisState) -> MetropolisState:
    """Recompute ``log_psi`` and the cache from the configurations (after the parameters change)."""
    cache = jax.vmap(ansatz.cache, in_axes=(None, 0))(params, state.s)
    return state._replace(log_psi=ansatz.log_psi(params, state.s), cache=cache)


def _select(accept: Array, new: Any, old: Any) -> Any:
    def pick(a: Array, b: Array) -> Array:
        return jnp.where(accept.reshape(accept.shape + (1,) * (a.ndim - 1)), a, b)

    return jax.tree.map(pick, new, old)


def _proposal(
    ansatz: Ansatz, move: Move, params: Params, state: MetropolisState, u: Array, threshold: Array
) -> MetropolisState:
    """One Metropolis proposal for every chain at once; accept where ``threshold < 2Δ ln ψ``."""
    sites = jax.vmap(move.propose)(u, state.s)
    log_psi, cache = jax.vmap(ansatz.flip, in_axes=(None, 0, 0, 0))(params, state.s, state.cache, sites)
    accept = threshold < 2.0 * (log_psi - state.log_psi)
    s = jax.vmap(flip_sites)(state.s, sites)
    s, log_psi, cache = _select(accept, (s, log_psi, cache), (state.s, state.log_psi, state.cache))
    return MetropolisState(s, log_psi, cache, state.n_accepted + accept, state.n_proposed + 1)


def _sweep(
    ansatz: Ansatz, move: Move, sweep_size: int, params: Params, state: MetropolisState, key: Array
) -> MetropolisState:
    r"""One sweep: ``sweep_size`` proposals to every chain, as a scan.

    The acceptance test :math:`u < e^{2\Delta}` is written :math:`-\xi < 2\Delta` with
    :math:`\xi = -\ln u \sim \text{Exp}(1)`. All the sweep's random numbers are drawn
    before its scan: with few chains the per-proposal cost is mostly overhead, and one
    random-number call per proposal doubled it.
    """
    k_move, k_accept = jax.random.split(key)
    shape = (sweep_size, *state.log_psi.shape)
    dtype = state.log_psi.dtype
    u = jax.random.uniform(k_move, (*shape, move.n_uniform), dtype)
    thresholds = -jax.random.exponential(k_accept, shape, dtype)
    step = lambda st, xs: (_proposal(ansatz, move, params, st, *xs), None)
    return jax.lax.scan(step, state, (u, thresholds))[0]


def _sweeps(
    ansatz: Ansatz, move: Move, sweep_size: int, params: Params, state: MetropolisState, key: Array, n: int
) -> MetropolisState:
    """``n`` sweeps."""
    if n == 0:
        return state
    if n == 1:
        return _sweep(ansatz, move, sweep_size, params, state, key)
    step = lambda st, k: (_sweep(ansatz, move, sweep_size, params, st, k), None)
    return jax.lax.scan(step, state, jax.random.split(key, n))[0]


class Sampler(NamedTuple):
    r"""A Metropolis sampler of :math:`|\psi|^2`, as an ``(init, sample)`` pair.

    Attributes:
        init: ``init(key, params) -> MetropolisState``: random starting configurations.
        sample: ``sample(key, params, state) -> (samples, state)``: ``burn_in`` sweeps,
            then ``samples_per_chain`` samples ``thin`` sweeps apart; ``samples`` has shape
            ``(chains, samples_per_chain, N)``. The state carries over to the next call
            (warm start); its ``log_psi`` and cache are recomputed first, so ``params`` may
            have changed since. Jit-compiled.
        n_chains: number of chains.
        samples_per_chain: samples each chain yields per call.
    """

    init: Callable[[Array, Params], MetropolisState]
    sample: Callable[[Array, Params, MetropolisState], tuple[Array, MetropolisState]]
    n_chains: int
    samples_per_chain: int


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def metropolis(
    ansatz: Ansatz,
    *,
    n_samples: int = 1024,
    n_chains: int = 16,
    thin: int = 1,
    burn_in: int = 0,
    sweep_size: int | None = None,
    move: Move | str = "flip",
    magnetization: int | None = None,
) -> Sampler:
    r"""Metropolis sampler of :math:`\psi(s)^2` for ``ansatz``, chains batched.

    Args:
        ansatz: the wavefunction; its fast path (``cache``/``flip``) is used.
        n_samples: samples per call, at least; each chain gives
            ``ceil(n_samples / n_chains)``.
        n_chains: number of independent chains, advanced together.
        thin: sweeps between recorded samples.
        burn_in: sweeps discarded at the start of each call.
        sweep_size: proposals per chain in a sweep; default :math:`N`.
        move: ``"flip"`` (:data:`single_flip`), ``"exchange"`` (:data:`exchange`, conserves
            :math:`\sum_i s_i`) or any :class:`Move`.
        magnetization: :math:`\sum_i s_i` of the starting configurations; default 0 for
            ``"exchange"`` (the :math:`S^z = 0` sector) and unconstrained otherwise.

    Example:
        >>> import jax
        >>> from physml.nqs import ansatz
        >>> net = ansatz.rbm(6)
        >>> params = net.init(jax.random.key(0))
        >>> sampler = metropolis(net, n_samples=64, n_chains=8)
        >>> state = sampler.init(jax.random.key(1), params)
        >>> samples, state = sampler.sample(jax.random.key(2), params, state)
        >>> samples.shape
        (8, 8, 6)
    """
    n = ansatz.n_sites
    n_chains = _positive("n_chains", n_chains)
    per_chain = math.ceil(_positive("n_samples", n_samples) / n_chains)
    thin = _positive("thin", thin)
    burn_in = _positive("burn_in", burn_in, 0)
    sweep_size = n if sweep_size is None else _positive("sweep_size", sweep_size)
    if isinstance(move, str):
        if move not in _MOVES:
            raise ValueError(f"move must be one of {sorted(_MOVES)} or a Move, got {move!r}")
        move = _MOVES[move]
    if not isinstance(move, Move):
        raise ValueError(f"move must be one of {sorted(_MOVES)} or a Move, got {move!r}")
    if move is exchange:
        magnetization = n % 2 if magnetization is None else magnetization
        if abs(magnetization) >= n:
            raise ValueError(
                f"exchange moves need at least one up and one down spin, got magnetization {magnetization}"
            )

    def init(key: Array, params: Params) -> MetropolisState:
        dtype = jax.tree.leaves(params)[0].dtype
        s = random_configurations(key, n_chains, n, magnetization=magnetization, dtype=dtype)
        zeros = jnp.zeros(n_chains, jnp.int32)
        state = MetropolisState(s, jnp.zeros(n_chains, dtype), (), zeros, jnp.zeros((), jnp.int32))
        return _refresh(ansatz, params, state)

    @jax.jit
    def sample(key: Array, params: Params, state: MetropolisState) -> tuple[Array, MetropolisState]:
        state = _refresh(ansatz, params, state)
        sweeps = functools.partial(_sweeps, ansatz, move, sweep_size, params)
        k_burn, k_run = jax.random.split(key)
        state = sweeps(state, k_burn, burn_in)

        def record(st: MetropolisState, k: Array) -> tuple[MetropolisState, Array]:
            st = sweeps(st, k, thin)
            return st, st.s

        state, samples = jax.lax.scan(record, state, jax.random.split(k_run, per_chain))
        return jnp.swapaxes(samples, 0, 1), state

    return Sampler(init, sample, n_chains, per_chain)


# ----------------------------------------------------------------------------- statistics


class Statistics(NamedTuple):
    r"""Summary of Markov-chain samples of a scalar.

    Attributes:
        mean: the sample mean over all chains and samples.
        error: its standard error, from independent block means.
        variance: the sample variance of a single sample.
        tau: integrated autocorrelation time :math:`\tau = 1 + 2\sum_{t\ge1}\rho(t)`, in
            samples (1 for independent samples).
        r_hat: split-chain :math:`\hat R` (1 for converged chains; NaN with fewer than 4
            samples a chain).
    """

    mean: Array
    error: Array
    variance: Array
    tau: Array
    r_hat: Array


def _check_chains(x: Array) -> Array:
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] < 1 or x.shape[0] < 1:
        raise ValueError(f"samples must have shape (chains, samples), got {x.shape}")
    return x


def integrated_autocorrelation_time(x: Float[Array, "chains samples"], c: float = 5.0) -> Float[Array, ""]:
    r"""Integrated autocorrelation time :math:`\tau = 1 + 2\sum_{t=1}^{W}\hat\rho(t)`.

    :math:`\hat\rho(t) = \hat C(t)/\hat C(0)`, with :math:`\hat C(t)` the average over chains
    and the :math:`n - t` pairs of :math:`(x_i - \bar x)(x_{i+t} - \bar x)` (by FFT),
    :math:`\bar x` the mean of *all* chains: centring each chain on its own mean would bias
    :math:`\tau` far below 1 for the short chains of a VMC iteration (5 samples a chain:
    0.3 instead of 1 for independent samples). The window :math:`W` is Sokal's, the
    smallest with :math:`W \ge c\,\tau(W)` (else :math:`n-1`). With this convention the error
    of the mean of :math:`n` samples is :math:`\sqrt{\tau\operatorname{Var}(x)/n}`.
    """
    x = _check_chains(x)
    n = x.shape[1]
    y = x - jnp.mean(x)
    f = jnp.fft.rfft(y, n=2 * n, axis=1)
    pairs = jnp.arange(n, 0, -1, dtype=x.dtype)
    acov = jnp.mean(jnp.fft.irfft(f * jnp.conj(f), n=2 * n, axis=1)[:, :n], axis=0) / pairs
    rho = acov / jnp.where(acov[0] > 0, acov[0], 1.0)
    taus = 2.0 * jnp.cumsum(rho) - 1.0  # taus[W] = 1 + 2 Σ_{t=1}^{W} ρ(t)
    ok = jnp.arange(n) >= c * taus
    window = jnp.where(jnp.any(ok), jnp.argmax(ok), n - 1)
    return jnp.where(acov[0] > 0, taus[window], 1.0)


def split_r_hat(x: Float[Array, "chains samples"]) -> Float[Array, ""]:
    r"""Split-chain potential scale reduction :math:`\hat R` (Gelman et al., *BDA3*, §11.4).

    Each chain is cut in two halves of :math:`n` samples, giving :math:`m` chains; with
    :math:`B/n` the variance of their means and :math:`W` the mean of their variances,

    .. math::

        \hat R = \sqrt{\frac{\tfrac{n-1}{n}W + B/n}{W}} ,

    which tends to 1 from above as the chains mix; values above ~1.01–1.1 flag chains that
    have not forgotten their start or do not see the same distribution.
    """
    x = _check_chains(x)
    n = x.shape[1] // 2
    if n < 2:
        return jnp.asarray(jnp.nan, x.dtype)
    halves = jnp.concatenate([x[:, :n], x[:, -n:]], axis=0)
    w = jnp.mean(jnp.var(halves, axis=1, ddof=1))
    b_over_n = jnp.var(jnp.mean(halves, axis=1), ddof=1)
    return jnp.sqrt(((n - 1) / n * w + b_over_n) / w)


def statistics(x: Float[Array, "chains samples"], *, min_blocks: int = 32) -> Statistics:
    r"""Mean, error of the mean, variance, :math:`\tau` and split :math:`\hat R` of chain samples.

    The error is :math:`\sigma_B/\sqrt{n_B}` from the means of :math:`n_B` blocks: the
    chains themselves when there are at least ``min_blocks``, else each chain cut into
    equal consecutive pieces so that :math:`n_B \ge` ``min_blocks`` (as far as the samples
    allow). Block means of independent chains are independent; pieces of one chain are
    nearly so when they are much longer than :math:`\tau`.

    Args:
        x: samples, shape ``(chains, samples)``.
        min_blocks: the number of blocks to aim for.
    """
    x = _check_chains(x)
    chains, n = x.shape
    pieces = min(n, max(1, -(-min_blocks // chains)))
    length = n // pieces
    blocks = jnp.mean(x[:, : pieces * length].reshape(chains * pieces, length), axis=1)
    n_blocks = blocks.shape[0]
    error = jnp.std(blocks, ddof=1) / math.sqrt(n_blocks) if n_blocks > 1 else jnp.asarray(jnp.nan, x.dtype)
    return Statistics(
        mean=jnp.mean(x),
        error=error,
        variance=jnp.var(x),
        tau=integrated_autocorrelation_time(x),
        r_hat=split_r_hat(x),
    )
