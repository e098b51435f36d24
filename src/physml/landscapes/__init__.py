r"""Loss landscapes: test functions with known critical points, curvature, gradient flow and
its discretisations, the step-size limit, the edge of stability, and saddle escape.

A loss is a function ``loss(theta) -> scalar`` of one flat parameter vector ``theta`` of shape
``(d,)``; a network's parameters are flattened with ``jax.flatten_util.ravel_pytree``
(:func:`~physml.landscapes.mlp_regression` does it and returns the inverse).

Its modules:

functions
    Quadratics, Rosenbrock, a double well, the monkey saddle, a small MLP regression problem;
    finding critical points by Newton's method.
curvature
    Hessians, Hessian-vector products, the sharpness by Lanczos or power iteration, and the
    second-derivative test.
flow
    Gradient flow (diffrax), gradient descent, heavy ball and Nesterov (optax), their stability
    limits on quadratics, and gradient descent with the sharpness tracked.
randommatrix
    How rare a minimum is: the probability that a GOE matrix is positive definite, exactly
    (de Bruijn's Pfaffian), by plain Monte Carlo and by subset simulation; the fit of
    :math:`\theta` in :math:`e^{-\theta n^2}`.
escape
    Escape times from strict saddles, measured and predicted; where random starts end; noisy
    escape from the stable manifold.
"""

from . import curvature, escape, flow, functions, randommatrix
from .curvature import (
    CriticalPoint,
    classify_critical_point,
    hessian,
    hessian_spectrum,
    hvp,
    lanczos_ritz_values,
    sharpness,
)
from .escape import (
    Escape,
    EscapeScan,
    Fates,
    escape_scan,
    escape_time,
    noisy_escape_times,
    predicted_escape_steps,
    predicted_escape_time,
    saddle_fates,
)
from .flow import (
    Descent,
    FlowPath,
    SharpnessTrace,
    descend,
    gd_max_step,
    gd_quadratic_closed_form,
    gradient_descent,
    gradient_flow,
    heavy_ball,
    heavy_ball_max_step,
    largest_stable_step,
    nesterov,
    nesterov_max_step,
    train_with_sharpness,
)
from .functions import (
    Loss,
    MLPProblem,
    critical_points_2d,
    double_well,
    mlp_regression,
    monkey_saddle,
    quadratic,
    quadratic_from_matrix,
    rosenbrock,
)

__all__ = [
    "CriticalPoint",
    "Descent",
    "Escape",
    "EscapeScan",
    "Fates",
    "FlowPath",
    "Loss",
    "MLPProblem",
    "SharpnessTrace",
    "classify_critical_point",
    "critical_points_2d",
    "curvature",
    "descend",
    "double_well",
    "escape",
    "escape_scan",
    "escape_time",
    "flow",
    "functions",
    "gd_max_step",
    "gd_quadratic_closed_form",
    "gradient_descent",
    "gradient_flow",
    "heavy_ball",
    "heavy_ball_max_step",
    "hessian",
    "hessian_spectrum",
    "hvp",
    "lanczos_ritz_values",
    "largest_stable_step",
    "mlp_regression",
    "monkey_saddle",
    "nesterov",
    "nesterov_max_step",
    "noisy_escape_times",
    "predicted_escape_steps",
    "predicted_escape_time",
    "quadratic",
    "quadratic_from_matrix",
    "randommatrix",
    "rosenbrock",
    "saddle_fates",
    "sharpness",
    "train_with_sharpness",
]
