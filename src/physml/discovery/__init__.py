r"""Discovering laws from data: power laws, conservation laws, sparse equations of motion and
hidden symmetries.

Its modules:

powerlaw
    Kepler's third law by log–log regression with a bootstrap and a model error; snapping a
    fitted exponent to a simple fraction (sympy) with the evidence; the planets' and Jupiter's
    moons' orbits, shipped as small tables.
conservation
    Collisions in one and two dimensions; candidate features per particle; conserved
    quantities as the null space of the feature changes, with the singular-value gap as the
    evidence and the sparsest null vector as the law; what measurement noise does.
"""

from . import conservation, powerlaw
from .conservation import (
    DEFAULT_FEATURES,
    FEATURES,
    Collisions,
    NoiseScan,
    NullSpace,
    SparseLaw,
    add_noise,
    collide_1d,
    collide_2d,
    delta_phi,
    feature_matrix,
    gap_versus_noise,
    law_string,
    null_space,
    resolve_impact,
    sparsest_null_vectors,
)
from .powerlaw import (
    OrbitTable,
    PowerLawFit,
    Snap,
    SnapCandidate,
    central_mass_ratio,
    fit_power_law,
    fit_prefactor,
    jupiter_moons,
    kepler_planets,
    snap_exponent,
    snap_fit,
)

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURES",
    "Collisions",
    "NoiseScan",
    "NullSpace",
    "OrbitTable",
    "PowerLawFit",
    "Snap",
    "SnapCandidate",
    "SparseLaw",
    "add_noise",
    "central_mass_ratio",
    "collide_1d",
    "collide_2d",
    "conservation",
    "delta_phi",
    "feature_matrix",
    "fit_power_law",
    "fit_prefactor",
    "gap_versus_noise",
    "jupiter_moons",
    "kepler_planets",
    "law_string",
    "null_space",
    "powerlaw",
    "resolve_impact",
    "snap_exponent",
    "snap_fit",
    "sparsest_null_vectors",
]
