r"""Frontiers: learning Calabi–Yau invariants, surrogate likelihoods, singular learning theory.

Each study builds its own data from exact mathematics; nothing is downloaded.

Its modules:

cicy
    Complete-intersection Calabi–Yau threefolds: configuration matrices and the Calabi–Yau
    condition, the Euler number from the total Chern class in exact integer arithmetic, Hodge
    numbers of favourable configurations, canonical forms, an exhaustive enumeration and the
    padded matrices a network reads.
learning
    A linear least-squares baseline and a small network (equinox, optax) for regression on exact
    invariants, a train/test split from a key, and honest scores (RMSE, R², exactly right).
surrogate
    A toy global fit of a parton density: Mellin convolutions by quadrature, pseudo-data with
    correlated systematics, the exact χ², its minimum, Hessian errors and profiles; a neural
    surrogate of the χ² that reproduces them (after Liu, Sun & Gao 2022), and its speed-up.
slt
    Singular learning theory: the Bayesian free energy of a regular and a singular model by
    accurate quadrature, Laplace's method and WBIC beside it, and the learning coefficient λ as
    the slope against ln n.
"""

from . import cicy, learning, slt, surrogate
from .cicy import (
    Configuration,
    HodgeNumbers,
    canonical_form,
    configuration,
    enumerate_configurations,
    euler_number,
    euler_numbers,
    exclusion_reason,
    favourable_hodge_numbers,
    feature_matrix,
    random_configurations,
)
from .learning import (
    LinearModel,
    MLPModel,
    Scores,
    Split,
    Standardizer,
    fit_linear,
    scores,
    split,
    standardizer,
    train_mlp,
)
from .slt import (
    FreeEnergy,
    FreeEnergySweep,
    LaplaceFreeEnergy,
    LearningCoefficient,
    Model,
    RegressionData,
    empirical_loss,
    free_energy,
    laplace_free_energy,
    learning_coefficient,
    regular_model,
    sample_data,
    singular_model,
    sweep,
    wbic,
)
from .surrogate import (
    DESIGN,
    THETA_TRUE,
    Experiment,
    ExperimentDesign,
    Fit,
    GlobalFitData,
    Profile,
    QuadratureRule,
    Surrogate,
    Timing,
    bin_rule,
    convolution_rule,
    exact_chi2,
    experiment,
    fit,
    global_fit_data,
    hessian_errors,
    observable,
    parton_density,
    profiles,
    speedup,
    surrogate_chi2,
    train_surrogate,
)

__all__ = [
    "DESIGN",
    "THETA_TRUE",
    "Configuration",
    "Experiment",
    "ExperimentDesign",
    "Fit",
    "FreeEnergy",
    "FreeEnergySweep",
    "GlobalFitData",
    "HodgeNumbers",
    "LaplaceFreeEnergy",
    "LearningCoefficient",
    "LinearModel",
    "MLPModel",
    "Model",
    "Profile",
    "QuadratureRule",
    "RegressionData",
    "Scores",
    "Split",
    "Standardizer",
    "Surrogate",
    "Timing",
    "bin_rule",
    "canonical_form",
    "cicy",
    "configuration",
    "convolution_rule",
    "empirical_loss",
    "enumerate_configurations",
    "euler_number",
    "euler_numbers",
    "exact_chi2",
    "exclusion_reason",
    "experiment",
    "favourable_hodge_numbers",
    "feature_matrix",
    "fit",
    "fit_linear",
    "free_energy",
    "global_fit_data",
    "hessian_errors",
    "laplace_free_energy",
    "learning",
    "learning_coefficient",
    "observable",
    "parton_density",
    "profiles",
    "random_configurations",
    "regular_model",
    "sample_data",
    "scores",
    "singular_model",
    "slt",
    "speedup",
    "split",
    "standardizer",
    "surrogate",
    "surrogate_chi2",
    "sweep",
    "train_mlp",
    "train_surrogate",
    "wbic",
]
