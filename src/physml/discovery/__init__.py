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
equations
    Sparse identification of nonlinear dynamics (SINDy): candidate libraries, sequentially
    thresholded least squares, the threshold's window, a pendulum to rediscover.
symmetry
    Ring images with a rotation symmetry, an autoencoder (equinox, optax), the latent generator
    of the rotation, its linearity residual and its consistency through the decoder.
"""

from . import conservation, equations, powerlaw, symmetry
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
from .equations import (
    Library,
    PendulumData,
    SindyModel,
    ThresholdPath,
    finite_difference,
    fourier_library,
    pendulum_trajectory,
    polynomial_library,
    sindy,
    stlsq,
    threshold_path,
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
from .symmetry import (
    Autoencoder,
    LatentGenerator,
    RingImages,
    decoder_consistency,
    latent_generator,
    ring_bump,
    ring_images,
    rotate,
    rotation_generator,
    train_autoencoder,
)

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURES",
    "Autoencoder",
    "Collisions",
    "LatentGenerator",
    "Library",
    "NoiseScan",
    "NullSpace",
    "OrbitTable",
    "PendulumData",
    "PowerLawFit",
    "RingImages",
    "SindyModel",
    "Snap",
    "SnapCandidate",
    "SparseLaw",
    "ThresholdPath",
    "add_noise",
    "central_mass_ratio",
    "collide_1d",
    "collide_2d",
    "conservation",
    "decoder_consistency",
    "delta_phi",
    "equations",
    "feature_matrix",
    "finite_difference",
    "fit_power_law",
    "fit_prefactor",
    "fourier_library",
    "gap_versus_noise",
    "jupiter_moons",
    "kepler_planets",
    "latent_generator",
    "law_string",
    "null_space",
    "pendulum_trajectory",
    "polynomial_library",
    "powerlaw",
    "resolve_impact",
    "ring_bump",
    "ring_images",
    "rotate",
    "rotation_generator",
    "sindy",
    "snap_exponent",
    "snap_fit",
    "sparsest_null_vectors",
    "stlsq",
    "symmetry",
    "threshold_path",
    "train_autoencoder",
]
