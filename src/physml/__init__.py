"""physml: the numerics behind *The Physics of Learning*.

Importing ``physml`` has no side effects: it does not print, seed, download, change
JAX's configuration or restyle matplotlib. A chapter opts in to the book's figure style
with :func:`physml.plotting.use_style`.

Modules
-------
statmech
    Boltzmann weights, partition functions and free energies from a list of energies.
spins
    Configurations of Ising spins and the energy of free spins in a field.
ising
    The exact Ising chain; Metropolis and Wolff sampling of the square lattice; Onsager.
disorder
    The random-bond, random-field Ising chain, exactly, for self-averaging.
softmax
    Softmax with temperature as a Boltzmann distribution; entropy, cross-entropy, KL.
sampling
    Token samplers: greedy, temperature, top-k, top-p, fixed entropy.
charlm
    A character-level language model on the book's own text, and decoding measurements.
corpus
    The frozen text that model is trained on.
hopfield
    Hopfield networks: Hebbian storage, energy descent, storage capacity.
ebm
    A two-dimensional energy-based model, trained by contrastive divergence, scored exactly.
laplace
    Free energies of continuous losses: quadrature, Laplace's method, basins, Gibbs regression.
langevin
    Langevin samplers (unadjusted and Metropolis-adjusted), annealing, SGD noise, Jarzynski.
landscapes
    Loss landscapes: gradient flow, descent and its step-size limit, sharpness, critical
    points, saddle escape; random-matrix odds of a minimum (``landscapes.randommatrix``).
integrators
    Explicit Euler, symplectic Euler, leapfrog and RK4 on Hamiltonian systems; Kepler orbits.
dynamics
    Optimizers as mechanics: momentum as a damped oscillator, rates in κ, the Su–Boyd–Candès
    ODE, the modified loss of gradient descent, conserved balancedness of a network.
discovery
    Laws from data: power laws snapped to fractions (Kepler), conservation laws as null
    spaces, sparse regression of equations of motion (SINDy), latent symmetries.
hnn
    Hamiltonian neural networks against a network that predicts the vector field directly.
forces
    Learned forces on a spring system: potentials, antisymmetric pair forces, momentum drift.
generating
    Exactly symplectic maps from a learned generating function.
onsager
    Estimating a symmetric (Onsager) response matrix; what symmetrising gains.
gauge
    U(1) lattice gauge theory in two dimensions; a gauge-invariant network and a plain CNN.
landau
    Landau relaxation dynamics; a structured neural ODE against black boxes across T_c.
nqs
    Neural quantum states: spin Hamiltonians, exact diagonalization, RBM wavefunctions,
    Metropolis sampling, variational Monte Carlo, stochastic reconfiguration.
diffusion
    A toy two-dimensional diffusion model: denoising score matching, annealed Langevin sampling.
exercises
    ``check`` and ``hint`` for the graded exercises, and the widget helpers.
grading
    ``physml-grade``: execute learners' notebooks and grade their answers.
plotting
    The book's figure style and small figure helpers.
"""

from importlib.metadata import PackageNotFoundError, version

from . import spins, statmech

try:
    __version__ = version("physml")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__", "spins", "statmech"]
