r"""Neural quantum states: spin lattices, Hamiltonians as local operators, exact diagonalization,
variational wavefunctions, Metropolis sampling, variational Monte Carlo and stochastic
reconfiguration.

Its modules:

lattice
    Periodic chains and square lattices; the configurations of :math:`N` spins and their indices.
operators
    The transverse-field Ising model and the Heisenberg antiferromagnet (with the Marshall
    rotation) as local operators: the configurations connected to one and the matrix elements;
    sparse matrices and linear operators; the :math:`S^z = 0` sector.
exact
    Exact diagonalization by Lanczos; the free-fermion solution of the periodic TFIM chain;
    correlations, the transverse magnetization and Rayleigh quotients of state vectors.
ansatz
    Mean field, Jastrow, the restricted Boltzmann machine (with its fast single-flip update) and a
    feed-forward network, as real log-amplitudes.
sampling
    Batched Metropolis chains with single-flip and exchange moves; error bars, autocorrelation
    times and split :math:`\hat R`.
vmc
    Local energies, the energy and its gradient from samples or exact sums, and the VMC driver
    (:func:`~physml.nqs.vmc.vmc`, :func:`~physml.nqs.vmc.run_vmc`).
sr
    Stochastic reconfiguration, the natural gradient of the Born distribution, as an optax
    transformation (:func:`physml.nqs.sr.sr`).
"""

from . import ansatz, exact, lattice, operators, sampling, sr, vmc
from .ansatz import (
    Ansatz,
    feed_forward,
    flip_sites,
    jastrow,
    log_cosh,
    mean_field,
    plain,
    rbm,
)
from .exact import (
    MAX_DENSE_DIM,
    TFIM_CRITICAL_ENERGY_DENSITY,
    GroundState,
    correlation_zz,
    dense_ground_state,
    energy_of,
    ground_state,
    magnetization_x,
    tfim_chain_energy,
    tfim_chain_energy_density,
)
from .lattice import (
    MAX_ENUMERATED_SITES,
    Lattice,
    all_configurations,
    chain,
    configuration_index,
    square,
)
from .operators import (
    MAX_ED_SITES,
    SECTORS,
    LocalHamiltonian,
    connected,
    diagonal,
    heisenberg,
    linear_operator,
    sector_basis,
    sparse_matrix,
    tfim,
)
from .sampling import (
    MetropolisState,
    Move,
    Sampler,
    Statistics,
    exchange,
    integrated_autocorrelation_time,
    metropolis,
    random_configurations,
    single_flip,
    split_r_hat,
    statistics,
)
from .sr import (
    SOLVERS,
    ScaleBySRState,
    blas_threads,
    natural_gradient,
    scale_by_sr,
)
from .vmc import (
    VMC,
    Estimate,
    VMCLog,
    VMCResult,
    VMCState,
    enumerate_configurations,
    estimate,
    exact_energy,
    exact_estimate,
    local_energy,
    log_derivatives,
    run_vmc,
)

__all__ = [
    "MAX_DENSE_DIM",
    "MAX_ED_SITES",
    "MAX_ENUMERATED_SITES",
    "SECTORS",
    "SOLVERS",
    "TFIM_CRITICAL_ENERGY_DENSITY",
    "VMC",
    "Ansatz",
    "Estimate",
    "GroundState",
    "Lattice",
    "LocalHamiltonian",
    "MetropolisState",
    "Move",
    "Sampler",
    "ScaleBySRState",
    "Statistics",
    "VMCLog",
    "VMCResult",
    "VMCState",
    "all_configurations",
    "ansatz",
    "blas_threads",
    "chain",
    "configuration_index",
    "connected",
    "correlation_zz",
    "dense_ground_state",
    "diagonal",
    "energy_of",
    "enumerate_configurations",
    "estimate",
    "exact",
    "exact_energy",
    "exact_estimate",
    "exchange",
    "feed_forward",
    "flip_sites",
    "ground_state",
    "heisenberg",
    "integrated_autocorrelation_time",
    "jastrow",
    "lattice",
    "linear_operator",
    "local_energy",
    "log_cosh",
    "log_derivatives",
    "magnetization_x",
    "mean_field",
    "metropolis",
    "natural_gradient",
    "operators",
    "plain",
    "random_configurations",
    "rbm",
    "run_vmc",
    "sampling",
    "scale_by_sr",
    "sector_basis",
    "single_flip",
    "sparse_matrix",
    "split_r_hat",
    "square",
    "sr",
    "statistics",
    "tfim",
    "tfim_chain_energy",
    "tfim_chain_energy_density",
    "vmc",
]
