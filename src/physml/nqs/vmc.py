r"""Variational Monte Carlo: local energies, the energy and its gradient, and the driver.

The variational energy of :math:`\psi_\theta` is a Rayleigh quotient, an average of the
*local energy* over :math:`p(s) = \psi(s)^2/\sum_{s'}\psi(s')^2`:

.. math::

    E(\theta) = \frac{\langle\psi|H|\psi\rangle}{\langle\psi|\psi\rangle}
              = \sum_s p(s)\,E_\text{loc}(s) \;\ge\; E_0, \qquad
    E_\text{loc}(s) = \sum_{s'} H_{ss'}\frac{\psi(s')}{\psi(s)} ,

with the sum over the few :math:`s'` connected to :math:`s`
(:func:`physml.nqs.operators.connected`). Its gradient, for a real ansatz with
:math:`O_k = \partial_{\theta_k}\ln\psi`, is the covariance
:math:`g_k = 2\langle (E_\text{loc} - E)(O_k - \langle O_k\rangle)\rangle`. Both are
estimated two ways, returning the same :class:`Estimate`:

- from Markov-chain samples (:func:`estimate`), with a statistical error;
- by exact summation over all :math:`2^N` configurations, or a sector of them
  (:func:`exact_estimate`, :func:`exact_energy`) — no sampling noise, so the ansatz error
  can be seen apart from it. Feasible for small :math:`N`.

:func:`vmc` makes the optimization an ``(init, step)`` pair whose ``step`` — sampling,
local energies, log-derivatives, the optimizer update (the SR solve) — is one jit-compiled
function; :func:`run_vmc` loops over it with a progress bar and returns a :class:`VMCLog`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float
from tqdm.auto import tqdm

from .ansatz import Ansatz
from .lattice import all_configurations
from .operators import LocalHamiltonian, connected, sector_basis
from .sampling import MetropolisState, Sampler, Statistics, statistics
from .sr import blas_threads

__all__ = [
    "VMC",
    "Estimate",
    "VMCLog",
    "VMCResult",
    "VMCState",
    "enumerate_configurations",
    "estimate",
    "exact_energy",
    "exact_estimate",
    "local_energy",
    "log_derivatives",
    "run_vmc",
    "vmc",
]

Params = Any
LogPsi = Callable[[Params, Array], Array]


@functools.partial(jax.jit, static_argnames=("ham", "log_psi"))
def local_energy(
    ham: LocalHamiltonian, log_psi: LogPsi, params: Params, s: Float[Array, "... n"]
) -> Float[Array, ...]:
    r"""Local energy :math:`E_\text{loc}(s) = \sum_m \text{mels}_m\, e^{\ln\psi(s'_m) - \ln\psi(s)}`.

    Connected elements that are zero contribute exactly zero (their log-ratio is not even
    exponentiated, so an overflow there cannot produce ``0 * inf``).

    Args:
        ham: the Hamiltonian.
        log_psi: ``log_psi(params, s)``, e.g. ``ansatz.log_psi``.
        params: the parameters.
        s: configurations, shape ``(..., N)``.

    Returns:
        shape ``(...)``, in energy units of ``ham``.
    """
    s_conn, mels = connected(ham, s)
    log_ratio = log_psi(params, s_conn) - log_psi(params, s)[..., None]
    nonzero = mels != 0
    ratio = jnp.exp(jnp.where(nonzero, log_ratio, 0.0))
    return jnp.sum(jnp.where(nonzero, mels * ratio, 0.0), axis=-1)


@functools.partial(jax.jit, static_argnames=("log_psi",))
def log_derivatives(
    log_psi: LogPsi, params: Params, s: Float[Array, "samples n"]
) -> Float[Array, "samples p"]:
    r""":math:`O_k(s) = \partial_{\theta_k}\ln\psi_\theta(s)` for each configuration, shape
    ``(samples, P)``, columns in the order of ``ravel_pytree(params)``."""
    single = lambda x: ravel_pytree(jax.grad(log_psi)(params, x))[0]
    return jax.vmap(single)(s)


class Estimate(NamedTuple):
    r"""The energy, its gradient and what SR needs, from samples or exact sums.

    Attributes:
        energy: :class:`~physml.nqs.sampling.Statistics` of :math:`E_\text{loc}` (for exact
            sums: ``error`` 0, ``tau`` and ``r_hat`` NaN).
        gradient: :math:`g = \partial E/\partial\theta`, a pytree like the parameters.
        jacobian: :math:`X_{sk} = \sqrt{w_s}\,(O_k(s) - \langle O_k\rangle)`, shape
            ``(samples, P)``, so that :math:`S = X^\top X` and :math:`g = 2X^\top\varepsilon`
            with :math:`\varepsilon_s = \sqrt{w_s}(E_\text{loc}(s) - E)`.
    """

    energy: Statistics
    gradient: Params
    jacobian: Array


def _weighted(params: Params, o: Array, e_loc: Array, w: Array) -> tuple[Array, Params, Array]:
    """Mean energy, gradient pytree and X from log-derivatives, local energies and weights."""
    energy = jnp.sum(w * e_loc)
    root = jnp.sqrt(w)
    x = root[:, None] * (o - (w @ o)[None, :])
    gradient = 2.0 * (x.T @ (root * (e_loc - energy)))
    return energy, ravel_pytree(params)[1](gradient), x


@functools.partial(jax.jit, static_argnames=("ham", "log_psi"))
def estimate(
    ham: LocalHamiltonian, log_psi: LogPsi, params: Params, samples: Float[Array, "chains per_chain n"]
) -> Estimate:
    r"""Energy, gradient and :math:`X` from Markov-chain samples of :math:`|\psi|^2`, weights :math:`1/n`.

    Args:
        ham: the Hamiltonian.
        log_psi: the log amplitude.
        params: the parameters.
        samples: shape ``(chains, samples_per_chain, N)``, as :class:`~physml.nqs.sampling.Sampler`
            returns them.
    """
    if samples.ndim != 3:
        raise ValueError(f"samples must have shape (chains, samples_per_chain, N), got {samples.shape}")
    e_loc = local_energy(ham, log_psi, params, samples)
    flat = samples.reshape(-1, samples.shape[-1])
    o = log_derivatives(log_psi, params, flat)
    w = jnp.full(flat.shape[0], 1.0 / flat.shape[0], o.dtype)
    _, gradient, x = _weighted(params, o, e_loc.reshape(-1), w)
    return Estimate(statistics(e_loc), gradient, x)


def enumerate_configurations(
    n: int, sector: str | None = None, dtype: Any = None
) -> Float[Array, "states n"]:
    """All configurations of ``n`` spins (``sector=None``), or those of a sector (``"sz0"``),
    in increasing basis index (:mod:`physml.nqs.lattice`)."""
    configs = all_configurations(n, dtype)
    return configs if sector is None else configs[jnp.asarray(sector_basis(n, sector))]


def _configurations(ham: LocalHamiltonian, configurations: Array | None, dtype: Any) -> Array:
    if configurations is None:
        return enumerate_configurations(ham.n_sites, dtype=dtype)
    configurations = jnp.asarray(configurations, dtype)
    if configurations.ndim != 2 or configurations.shape[1] != ham.n_sites:
        raise ValueError(
            f"configurations must have shape (states, {ham.n_sites}), got {configurations.shape}"
        )
    return configurations


def _dtype(params: Params) -> Any:
    return jax.tree.leaves(params)[0].dtype


@functools.partial(jax.jit, static_argnames=("ham", "log_psi"))
def exact_estimate(
    ham: LocalHamiltonian, log_psi: LogPsi, params: Params, configurations: Array | None = None
) -> Estimate:
    r"""Energy, gradient and :math:`X` by exact summation, weights :math:`w_s = p(s)`.

    Args:
        ham: the Hamiltonian.
        log_psi: the log amplitude.
        params: the parameters.
        configurations: the configurations to sum over, shape ``(states, N)``; default all
            :math:`2^N` (:func:`enumerate_configurations`). For a Hamiltonian that conserves
            :math:`S^z`, a sector's configurations give the state projected on the sector.

    Memory grows as ``states × P``: for :math:`N \lesssim 14`.
    """
    configs = _configurations(ham, configurations, _dtype(params))
    w = jax.nn.softmax(2.0 * log_psi(params, configs))
    e_loc = local_energy(ham, log_psi, params, configs)
    energy, gradient, x = _weighted(params, log_derivatives(log_psi, params, configs), e_loc, w)
    variance = jnp.sum(w * (e_loc - energy) ** 2)
    nan = jnp.asarray(jnp.nan, energy.dtype)
    return Estimate(Statistics(energy, jnp.zeros_like(energy), variance, nan, nan), gradient, x)


@functools.partial(jax.jit, static_argnames=("ham", "log_psi", "batch_size"))
def exact_energy(
    ham: LocalHamiltonian,
    log_psi: LogPsi,
    params: Params,
    configurations: Array | None = None,
    *,
    batch_size: int = 8192,
) -> Float[Array, ""]:
    r"""The variational energy :math:`\sum_s p(s) E_\text{loc}(s)` by exact summation.

    Local energies are computed ``batch_size`` configurations at a time
    (``jax.lax.map``), so memory stays :math:`O(2^N)`: :math:`N = 20` (all states) and
    the 705 432 states of the :math:`S^z = 0` sector of 22 spins take seconds.
    Differentiable: ``jax.grad`` of it is the exact energy gradient.

    Args:
        ham, log_psi, params, configurations: as in :func:`exact_estimate`.
        batch_size: configurations per batch of local energies.
    """
    configs = _configurations(ham, configurations, _dtype(params))
    w = jax.nn.softmax(2.0 * log_psi(params, configs))
    e_loc = jax.lax.map(lambda s: local_energy(ham, log_psi, params, s), configs, batch_size=batch_size)
    return jnp.sum(w * e_loc)


# ----------------------------------------------------------------------------- the driver


class VMCState(NamedTuple):
    """State of a VMC optimization.

    Attributes:
        params: the ansatz parameters.
        opt_state: the optimizer's state.
        sampler: the Markov chains' state (``None`` for exact sums).
    """

    params: Params
    opt_state: Any
    sampler: MetropolisState | None


class VMC(NamedTuple):
    """A VMC optimization as an ``(init, step)`` pair.

    Attributes:
        init: ``init(key, params=None) -> VMCState``; parameters from ``ansatz.init`` if not given.
        step: ``step(key, state) -> (state, energy_statistics, acceptance)``, jit-compiled:
            one estimate of energy and gradient at the current parameters and one update.
    """

    init: Callable[..., VMCState]
    step: Callable[[Array, VMCState], tuple[VMCState, Statistics, Array]]


def vmc(
    ham: LocalHamiltonian,
    ansatz: Ansatz,
    optimizer: optax.GradientTransformation,
    sampler: Sampler | None = None,
    *,
    configurations: Array | None = None,
) -> VMC:
    r"""Variational Monte Carlo of ``ham`` with ``ansatz``, as an ``(init, step)`` pair.

    Args:
        ham: the Hamiltonian.
        ansatz: the wavefunction.
        optimizer: :func:`physml.nqs.sr.sr` or any optax optimizer (it receives the energy
            gradient, and ``jacobian`` :math:`X` as an extra argument, which plain optax
            optimizers ignore).
        sampler: a :func:`physml.nqs.sampling.metropolis` sampler, or ``None`` for exact
            sums over ``configurations``.
        configurations: for exact sums, the configurations (default all :math:`2^N`).
    """
    if not isinstance(ham, LocalHamiltonian):
        raise ValueError(
            f"expected a LocalHamiltonian (from tfim() or heisenberg()), got {type(ham).__name__}"
        )
    if not isinstance(ansatz, Ansatz):
        raise ValueError(f"expected an Ansatz (e.g. ansatz.rbm(n)), got {type(ansatz).__name__}")
    if ansatz.n_sites != ham.n_sites:
        raise ValueError(f"the ansatz has {ansatz.n_sites} sites and the Hamiltonian {ham.n_sites}")
    if sampler is not None and configurations is not None:
        raise ValueError("configurations are for exact sums (sampler=None); a sampler draws its own")
    opt = optax.with_extra_args_support(optimizer)

    def init(key: Array, params: Params = None) -> VMCState:
        k_params, k_chains = jax.random.split(key)
        params = ansatz.init(k_params) if params is None else params
        chains = None if sampler is None else sampler.init(k_chains, params)
        return VMCState(params, opt.init(params), chains)

    @jax.jit
    def step(key: Array, state: VMCState) -> tuple[VMCState, Statistics, Array]:
        params, chains = state.params, state.sampler
        if sampler is None:
            est = exact_estimate(ham, ansatz.log_psi, params, configurations)
            acceptance = jnp.asarray(jnp.nan, est.energy.mean.dtype)
        else:
            samples, chains = sampler.sample(key, params, state.sampler)
            est = estimate(ham, ansatz.log_psi, params, samples)
            proposed = chains.n_proposed - state.sampler.n_proposed
            acceptance = jnp.mean(chains.n_accepted - state.sampler.n_accepted) / proposed
        updates, opt_state = opt.update(est.gradient, state.opt_state, params, jacobian=est.jacobian)
        return VMCState(optax.apply_updates(params, updates), opt_state, chains), est.energy, acceptance

    return VMC(init, step)


class VMCLog(NamedTuple):
    r"""Per-iteration record of a VMC run (NumPy arrays of shape ``(iterations,)``): the energy
    estimate at the parameters *before* that iteration's update, its error, the variance of
    the local energy (zero for an eigenstate), :math:`\tau`, split :math:`\hat R`, the
    acceptance rate, and the wall-clock seconds of the step (the first includes compilation).
    With exact sums the error is 0 and :math:`\tau`, :math:`\hat R` and the acceptance are NaN."""

    energy: np.ndarray
    error: np.ndarray
    variance: np.ndarray
    tau: np.ndarray
    r_hat: np.ndarray
    acceptance: np.ndarray
    seconds: np.ndarray


class VMCResult(NamedTuple):
    """The final :class:`VMCState` (``state.params`` are the optimized parameters) and the :class:`VMCLog`."""

    state: VMCState
    log: VMCLog


def run_vmc(
    ham: LocalHamiltonian,
    ansatz: Ansatz,
    optimizer: optax.GradientTransformation,
    key: Array,
    *,
    n_iter: int,
    sampler: Sampler | None = None,
    params: Params = None,
    state: VMCState | None = None,
    configurations: Array | None = None,
    progress: bool = True,
) -> VMCResult:
    r"""Run ``n_iter`` VMC iterations (:func:`vmc`) with a tqdm progress bar.

    BLAS runs single-threaded during the run (:func:`physml.nqs.sr.blas_threads`).

    Args:
        ham, ansatz, optimizer, sampler, configurations: as in :func:`vmc`.
        key: PRNG key (initial parameters and chains, then one key per iteration).
        n_iter: number of iterations.
        params: initial parameters (default ``ansatz.init``).
        state: a :class:`VMCState` to continue from (overrides ``params``).
        progress: show the progress bar with the running energy.

    Example:
        >>> import jax, optax
        >>> from physml.nqs import ansatz, lattice, operators, sr
        >>> ham = operators.tfim(lattice.chain(6), h=1.0)
        >>> result = run_vmc(ham, ansatz.rbm(6), sr.sr(0.05), jax.random.key(0), n_iter=50, progress=False)
        >>> result.log.energy.shape
        (50,)
    """
    if isinstance(n_iter, bool) or not isinstance(n_iter, int | np.integer) or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    driver = vmc(ham, ansatz, optimizer, sampler, configurations=configurations)
    key, k_init = jax.random.split(key)
    if state is None:
        state = driver.init(k_init, params)
    rows = []
    with blas_threads(1), tqdm(total=n_iter, disable=not progress, desc="VMC") as bar:
        for k in jax.random.split(key, n_iter):
            start = time.perf_counter()
            state, stats, acceptance = driver.step(k, state)
            stats, acceptance = jax.device_get((stats, acceptance))
            rows.append((*stats, acceptance, time.perf_counter() - start))
            bar.set_postfix_str(f"E = {stats.mean:.6f} ± {stats.error:.1e}", refresh=False)
            bar.update()
    columns = np.asarray(rows, dtype=float).reshape(n_iter, 7).T
    return VMCResult(state, VMCLog(*columns))
