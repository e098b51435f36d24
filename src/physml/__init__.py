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
exercises
    ``check`` and ``hint`` for the graded exercises, and the widget exercise helper.
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
