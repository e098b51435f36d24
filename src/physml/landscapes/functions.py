r"""Test landscapes whose critical points and Hessians are known exactly.

A loss is a function ``loss(theta) -> scalar`` of one flat parameter vector ``theta`` of
shape ``(d,)``; everything in :mod:`physml.landscapes` works with that convention. The
landscapes here are pure and jit-able, and each docstring lists its critical points and the
Hessian eigenvalues there, so that gradient flow, curvature estimates and saddle escape can
be tested against exact answers:

- :func:`~physml.landscapes.quadratic`, :func:`~physml.landscapes.quadratic_from_matrix` —
  one critical point, any Hessian;
- :func:`~physml.landscapes.rosenbrock` — a curved, badly conditioned valley;
- :func:`~physml.landscapes.double_well` — two minima and a strict saddle between them;
- :func:`~physml.landscapes.monkey_saddle` — a degenerate critical point (zero Hessian);
- :func:`~physml.landscapes.mlp_regression` — a small neural-network regression problem, flattened;
- :func:`~physml.landscapes.critical_points_2d` — all critical points of a low-dimensional loss in a box, by
  Newton's method from random starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_count as _check_count
from .._checks import check_positive as _check_positive
from .._checks import is_real as _is_real

__all__ = [
    "Loss",
    "MLPProblem",
    "critical_points_2d",
    "double_well",
    "mlp_regression",
    "monkey_saddle",
    "quadratic",
    "quadratic_from_matrix",
    "rosenbrock",
]

#: A loss: one parameter vector of shape ``(d,)`` to a scalar.
Loss = Callable[[Array], Array]


# --------------------------------------------------------------------------- validation


def _as_vector(x: ArrayLike, name: str = "theta", size: int | None = None) -> Array:
    """``x`` as a float array of shape ``(d,)``; a clear ``ValueError`` for a wrong shape, a
    non-numeric dtype or (for concrete arrays) a non-finite entry."""
    try:
        x = jnp.asarray(x)
    except TypeError as err:
        raise ValueError(f"{name} must be a 1-D float array of shape (d,), got {type(x).__name__}") from err
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)):
        raise ValueError(f"{name} must be a real float array, got dtype {x.dtype}")
    if jnp.issubdtype(x.dtype, jnp.integer):
        x = x.astype(jnp.result_type(float))
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(
            f"{name} must be a 1-D array of shape (d,), got shape {x.shape}; flatten parameters "
            "with jax.flatten_util.ravel_pytree"
        )
    if size is not None and x.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size},), got {x.shape}")
    if not isinstance(x, jax.core.Tracer):
        bad = int(np.sum(~np.isfinite(np.asarray(x))))
        if bad:
            raise ValueError(f"{name} must be finite; {bad} of its {x.shape[0]} entries are NaN or infinite")
    return x


def _check_shape(theta: Array, size: int, what: str) -> None:
    """A static shape check, safe under ``jit``."""
    if jnp.ndim(theta) != 1 or jnp.shape(theta)[0] != size:
        raise ValueError(f"{what} takes theta of shape ({size},), got shape {jnp.shape(theta)}")


# ---------------------------------------------------------------------------- quadratics


def quadratic(eigenvalues: Float[ArrayLike, " d"], center: Float[ArrayLike, " d"] | None = None) -> Loss:
    r"""A diagonal quadratic, :math:`L(\theta) = \frac12\sum_i \lambda_i(\theta_i - c_i)^2`.

    Its only critical point (when every :math:`\lambda_i \ne 0`) is :math:`\theta = c`, with
    Hessian :math:`\operatorname{diag}(\lambda_i)` everywhere: a minimum when all
    :math:`\lambda_i > 0`, a saddle of index :math:`\#\{i: \lambda_i < 0\}` when some are
    negative. Gradient descent with step :math:`\eta` moves each coordinate independently,
    :math:`\theta_i - c_i \mapsto (1 - \eta\lambda_i)(\theta_i - c_i)`.

    Args:
        eigenvalues: :math:`\lambda_i`, shape ``(d,)`` (any sign).
        center: :math:`c`, shape ``(d,)``; zero by default.

    Returns:
        ``loss(theta)`` for ``theta`` of shape ``(d,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> loss = quadratic(jnp.array([1.0, 4.0]))
        >>> float(loss(jnp.array([1.0, 1.0])))
        2.5
    """
    lam = _as_vector(eigenvalues, "eigenvalues")
    c = jnp.zeros_like(lam) if center is None else _as_vector(center, "center", lam.shape[0])
    d = lam.shape[0]

    def loss(theta: Float[Array, " d"]) -> Float[Array, ""]:
        _check_shape(theta, d, "this quadratic")
        return 0.5 * jnp.sum(lam * (theta - c) ** 2)

    return loss


def quadratic_from_matrix(A: Float[ArrayLike, "d d"], b: Float[ArrayLike, " d"] | None = None) -> Loss:
    r"""A general quadratic, :math:`L(\theta) = \frac12\theta^\top A\theta - b^\top\theta`.

    :math:`A` must be symmetric (it is the Hessian, everywhere). When :math:`A` is invertible
    the only critical point is :math:`\theta^* = A^{-1}b`, with
    :math:`L(\theta^*) = -\frac12 b^\top A^{-1} b`; its kind is set by the signs of the
    eigenvalues of :math:`A`.

    Args:
        A: symmetric matrix, shape ``(d, d)``.
        b: linear term, shape ``(d,)``; zero by default.

    Returns:
        ``loss(theta)`` for ``theta`` of shape ``(d,)``.
    """
    A = jnp.asarray(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A must be a square matrix of shape (d, d), got shape {A.shape}")
    if jnp.issubdtype(A.dtype, jnp.integer):
        A = A.astype(jnp.result_type(float))
    A_np = np.asarray(A)
    if not np.all(np.isfinite(A_np)):
        raise ValueError("A must be finite")
    if not np.allclose(A_np, A_np.T, rtol=1e-6, atol=1e-12 * float(np.max(np.abs(A_np)))):
        raise ValueError("A must be symmetric (the Hessian of a scalar function is); use (A + A.T) / 2")
    d = A.shape[0]
    b = jnp.zeros(d, A.dtype) if b is None else _as_vector(b, "b", d)

    def loss(theta: Float[Array, " d"]) -> Float[Array, ""]:
        _check_shape(theta, d, "this quadratic")
        return 0.5 * theta @ (A @ theta) - b @ theta

    return loss


# --------------------------------------------------------------------- two-dimensional


def rosenbrock(theta: Float[ArrayLike, " 2"], a: float = 1.0, b: float = 100.0) -> Float[Array, ""]:
    r"""Rosenbrock's banana valley, :math:`L(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    The only critical point is the global minimum :math:`(a, a^2)`, :math:`L = 0`, with Hessian

    .. math::

        H = \begin{pmatrix} 2 + 8a^2 b & -4ab \\ -4ab & 2b \end{pmatrix},
        \qquad \det H = 4b, \quad \operatorname{tr} H = 2 + 2b + 8a^2 b,

    so for :math:`a = 1, b = 100` the eigenvalues are :math:`\approx 0.3994` and
    :math:`\approx 1001.6` (condition number :math:`\approx 2508`): gradient descent must take
    :math:`\eta < 2/1001.6` and then crawls along the valley floor.

    Args:
        theta: :math:`(x, y)`, shape ``(2,)``.
        a, b: the position of the minimum and the steepness of the valley walls (:math:`b > 0`).
    """
    theta = jnp.asarray(theta)
    _check_shape(theta, 2, "rosenbrock")
    x, y = theta[0], theta[1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def double_well(
    theta: Float[ArrayLike, " d"], barrier: float = 0.25, stiffness: float = 1.0
) -> Float[Array, ""]:
    r"""A double well in :math:`x = \theta_0`, harmonic across, :math:`L = h(x^2 - 1)^2 +
    \frac{k}{2}\sum_{i\ge1}\theta_i^2`.

    With the defaults :math:`h = 1/4`, :math:`k = 1` and ``theta`` of shape ``(2,)`` this is
    :math:`L(x, y) = \frac14(x^2 - 1)^2 + \frac12 y^2`. Critical points:

    - minima at :math:`(\pm1, 0, \dots)`, :math:`L = 0`, Hessian
      :math:`\operatorname{diag}(8h, k, \dots, k)` (= diag(2, 1));
    - a strict saddle at the origin, :math:`L = h` (the barrier height), Hessian
      :math:`\operatorname{diag}(-4h, k, \dots, k)` (= diag(-1, 1)). Its stable manifold is
      the hyperplane :math:`x = 0`: gradient descent started there converges to the saddle,
      from anywhere else it ends in a minimum.

    Args:
        theta: shape ``(d,)``, :math:`d \ge 1` (the chapter uses :math:`d = 2`).
        barrier: :math:`h > 0`, the height of the saddle above the minima.
        stiffness: :math:`k > 0`, the curvature across the valley.
    """
    theta = jnp.asarray(theta)
    if theta.ndim != 1 or theta.shape[0] < 1:
        raise ValueError(f"double_well takes theta of shape (d,), got shape {theta.shape}")
    x, rest = theta[0], theta[1:]
    return barrier * (x**2 - 1.0) ** 2 + 0.5 * stiffness * jnp.sum(rest**2)


def monkey_saddle(theta: Float[ArrayLike, " 2"]) -> Float[Array, ""]:
    r"""The monkey saddle, :math:`L(x, y) = x^3 - 3xy^2 = \operatorname{Re}(x + iy)^3`.

    Its only critical point is the origin, where the gradient *and the Hessian*
    :math:`\begin{pmatrix} 6x & -6y \\ -6y & -6x\end{pmatrix}` vanish: a degenerate critical
    point that the second-derivative test cannot classify. It is neither a minimum nor a
    maximum: the loss falls along three directions (:math:`\arg(x + iy) = \pi/3, \pi, 5\pi/3`,
    room for two legs and a tail) and rises along the three between.
    """
    theta = jnp.asarray(theta)
    _check_shape(theta, 2, "monkey_saddle")
    x, y = theta[0], theta[1]
    return x**3 - 3.0 * x * y**2


# ------------------------------------------------------------------------- neural network

_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "softplus": jax.nn.softplus,
    "sigmoid": jax.nn.sigmoid,
    "elu": jax.nn.elu,
}


class MLPProblem(NamedTuple):
    r"""A regression problem for a fully connected network, with its parameters flattened.

    Attributes:
        loss: ``loss(theta)``, the mean squared error
            :math:`L(\theta) = \frac{1}{2 N m}\sum_{i=1}^N \lVert f_\theta(x_i) - y_i\rVert^2`
            (:math:`m` outputs), for ``theta`` of shape ``(p,)``.
        theta0: the network's initial parameters, flattened, shape ``(p,)``.
        unravel: ``unravel(theta)`` -> the network (an :class:`equinox.nn.MLP`) with those
            parameters; ``unravel(theta)(x)`` evaluates it on one input of shape ``(n_inputs,)``.
            The flat layout is that of ``jax.flatten_util.ravel_pytree`` applied to the
            network's arrays (layer by layer, weight then bias).
        x: inputs, shape ``(n_samples, n_inputs)``.
        y: targets, shape ``(n_samples, n_outputs)``.
        predict: ``predict(theta, x)`` -> outputs of shape ``(n, n_outputs)`` for inputs of
            shape ``(n, n_inputs)``.
    """

    loss: Loss
    theta0: Array
    unravel: Callable[[Array], Any]
    x: Array
    y: Array
    predict: Callable[[Array, Array], Array]


def _activation(activation: str | Callable[[Array], Array]) -> Callable[[Array], Array]:
    if callable(activation):
        return activation
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation must be a callable or one of {sorted(_ACTIVATIONS)}, got {activation!r}"
        )
    return _ACTIVATIONS[activation]


class _Net(NamedTuple):
    """An MLP's architecture: its parameter tree's structure and the rest of the module."""

    treedef: Any
    shapes: list[tuple[int, ...]]
    offsets: np.ndarray
    scales: np.ndarray  # 1/sqrt(fan-in) of every parameter, flat
    static: Any

    def unravel(self, theta: Array) -> eqx.nn.MLP:
        pieces = [
            theta[self.offsets[i] : self.offsets[i + 1]].reshape(shape) for i, shape in enumerate(self.shapes)
        ]
        return eqx.combine(jax.tree_util.tree_unflatten(self.treedef, pieces), self.static)

    def init(self, key: Array, dtype: Any) -> Array:
        u = jax.random.uniform(key, (int(self.offsets[-1]),), dtype, minval=-1.0, maxval=1.0)
        return u * jnp.asarray(self.scales, dtype)


def _net(n_inputs: int, n_outputs: int, width: int, depth: int, act: Callable[[Array], Array]) -> _Net:
    """The architecture of ``eqx.nn.MLP(n_inputs, n_outputs, width, depth, act)``, without
    initialising it (``filter_eval_shape``: nothing is computed or compiled)."""
    abstract = eqx.filter_eval_shape(
        eqx.nn.MLP, n_inputs, n_outputs, width, depth, act, key=jax.random.key(0)
    )
    is_leaf = lambda x: isinstance(x, jax.ShapeDtypeStruct)
    params, static = eqx.partition(abstract, is_leaf)
    # equinox's Linear draws weight and bias uniform on ±1/sqrt(fan-in): record that bound per leaf.
    bounds = eqx.tree_at(
        lambda m: [x for layer in m.layers for x in (layer.weight, layer.bias)],
        params,
        [b for layer in abstract.layers for b in 2 * (1.0 / math.sqrt(layer.in_features),)],
    )
    leaves, treedef = jax.tree_util.tree_flatten(params, is_leaf=is_leaf)
    sizes = [math.prod(leaf.shape) for leaf in leaves]
    scales = np.concatenate(
        [np.full(n, b) for n, b in zip(sizes, jax.tree_util.tree_leaves(bounds), strict=True)]
    )
    return _Net(treedef, [leaf.shape for leaf in leaves], np.cumsum([0, *sizes]), scales, static)


def _targets(
    key: Array,
    x: Array,
    target: str | Callable[[Array], Array],
    n_outputs: int,
    depth: int,
    teacher_width: int,
    act: Callable[[Array], Array],
) -> Array:
    if target == "teacher":
        teacher = _net(x.shape[1], n_outputs, teacher_width, depth, act)
        return jax.vmap(teacher.unravel(teacher.init(key, x.dtype)))(x)
    if target == "sin":
        if n_outputs != 1:
            raise ValueError('target="sin" has one output; pass a callable for several outputs')
        return jnp.sin(jnp.pi * jnp.sum(x, axis=1, keepdims=True) / math.sqrt(x.shape[1]))
    if not callable(target):
        raise ValueError(f'target must be "teacher", "sin" or a callable, got {target!r}')
    y = jax.vmap(target)(x)
    if y.shape == (x.shape[0],):
        y = y[:, None]
    if y.shape != (x.shape[0], n_outputs):
        raise ValueError(
            f"target(x) must return a scalar or shape ({n_outputs},) for one input, "
            f"got shape {y.shape[1:]} per input"
        )
    return y.astype(x.dtype)


def mlp_regression(
    key: Array,
    *,
    n_samples: int,
    n_inputs: int,
    width: int,
    depth: int = 1,
    activation: str | Callable[[Array], Array] = "tanh",
    target: str | Callable[[Array], Array] = "teacher",
    teacher_width: int | None = None,
    n_outputs: int = 1,
    noise: float = 0.0,
) -> MLPProblem:
    r"""A small full-batch regression problem for a fully connected network.

    Inputs :math:`x_i \sim \mathcal N(0, I_{n_{\rm in}})`, :math:`i = 1..N`; targets
    :math:`y_i = g(x_i) + \sigma\epsilon_i`; the loss is the mean squared error

    .. math::

        L(\theta) = \frac{1}{2Nm}\sum_{i=1}^N \lVert f_\theta(x_i) - y_i\rVert^2 ,

    with :math:`f_\theta` an :class:`equinox.nn.MLP` (``depth`` hidden layers of ``width``
    units, the given activation, a linear output layer of :math:`m` = ``n_outputs`` units).
    :math:`\theta_0` follows equinox's standard initialisation: every weight and bias
    independent and uniform on :math:`\pm 1/\sqrt{\text{fan-in}}` (drawn here as one flat
    vector, which compiles much faster than layer by layer). The number of parameters is
    :math:`p = (n_{\rm in}+1)w + (D-1)(w+1)w + (w+1)m` for depth :math:`D \ge 1`.

    The target :math:`g` is

    - ``"teacher"``: a network of the same architecture, ``teacher_width`` units wide
      (default ``width``), with its own random initialisation — realisable when the widths
      agree, so the minimum loss is then :math:`\approx\sigma^2/2`;
    - ``"sin"``: :math:`g(x) = \sin\big(\pi\sum_j x_j/\sqrt{n_{\rm in}}\big)`, a smooth ridge
      function (one output);
    - a callable: ``target(x)`` on one input of shape ``(n_inputs,)``, returning a scalar or
      shape ``(n_outputs,)``.

    Args:
        key: PRNG key; it draws the inputs, the teacher, the initialisation and the noise.
        n_samples: :math:`N \ge 1`.
        n_inputs: input dimension, :math:`\ge 1`.
        width: hidden units per layer, :math:`\ge 1`.
        depth: hidden layers, :math:`\ge 0` (0 is a linear model).
        activation: ``"tanh"``, ``"relu"``, ``"gelu"``, ``"silu"``, ``"softplus"``,
            ``"sigmoid"``, ``"elu"`` or a callable.
        target: ``"teacher"``, ``"sin"`` or a callable, as above.
        teacher_width: width of the teacher network.
        n_outputs: :math:`m \ge 1`.
        noise: :math:`\sigma \ge 0`, the standard deviation of the label noise.

    Returns:
        an :class:`~physml.landscapes.MLPProblem`. Its ``loss`` is pure and jit-able.

    Example:
        >>> import jax
        >>> problem = mlp_regression(jax.random.key(0), n_samples=64, n_inputs=4, width=16)
        >>> problem.theta0.shape  # (4 + 1) * 16 + (16 + 1) * 1
        (97,)
    """
    n_samples = _check_count(n_samples, "n_samples")
    n_inputs = _check_count(n_inputs, "n_inputs")
    width = _check_count(width, "width")
    depth = _check_count(depth, "depth", least=0)
    n_outputs = _check_count(n_outputs, "n_outputs")
    teacher_width = width if teacher_width is None else _check_count(teacher_width, "teacher_width")
    if not (_is_real(noise) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    act = _activation(activation)
    net = _net(n_inputs, n_outputs, width, depth, act)
    x, y, theta0 = _mlp_data(
        key, n_samples, n_inputs, n_outputs, width, depth, act, target, teacher_width, float(noise)
    )

    def unravel(theta: Float[Array, " p"]) -> eqx.nn.MLP:
        _check_shape(theta, theta0.shape[0], "unravel")
        return net.unravel(theta)

    def predict(theta: Float[Array, " p"], inputs: Float[Array, "n n_inputs"]) -> Float[Array, "n n_outputs"]:
        return jax.vmap(unravel(theta))(inputs)

    def loss(theta: Float[Array, " p"]) -> Float[Array, ""]:
        _check_shape(theta, theta0.shape[0], "this MLP's loss")
        return 0.5 * jnp.mean((predict(theta, x) - y) ** 2)

    return MLPProblem(loss, theta0, unravel, x, y, predict)


@eqx.filter_jit
def _mlp_data(
    key: Array,
    n_samples: int,
    n_inputs: int,
    n_outputs: int,
    width: int,
    depth: int,
    act: Callable[[Array], Array],
    target: str | Callable[[Array], Array],
    teacher_width: int,
    noise: float,
) -> tuple[Array, Array, Array]:
    """Inputs, targets and initial parameters, in one compiled call (cached by the sizes)."""
    k_x, k_teacher, k_init, k_noise = jax.random.split(key, 4)
    x = jax.random.normal(k_x, (n_samples, n_inputs))
    y = _targets(k_teacher, x, target, n_outputs, depth, teacher_width, act)
    if noise > 0:
        y = y + noise * jax.random.normal(k_noise, y.shape, y.dtype)
    return x, y, _net(n_inputs, n_outputs, width, depth, act).init(k_init, x.dtype)


# ------------------------------------------------------------------ finding critical points


def critical_points_2d(
    grad: Callable[[Array], Array],
    box: Float[ArrayLike, "d 2"],
    key: Array,
    n_starts: int,
    *,
    max_iter: int = 100,
    grad_tol: float = 1e-8,
    merge_tol: float = 1e-6,
) -> Float[Array, "k d"]:
    r"""The critical points of a loss inside a box: Newton's method on :math:`\nabla L = 0`
    from random starts, deduplicated.

    From ``n_starts`` points uniform in the box, each start runs ``max_iter`` Newton steps

    .. math::

        \theta \leftarrow \theta - H(\theta)^{-1}\nabla L(\theta),
        \qquad H = \partial(\nabla L)/\partial\theta \ \text{(by forward-mode autodiff)},

    which converge quadratically to a non-degenerate critical point of any kind — minimum,
    saddle or maximum alike (Newton's method looks for zeros of the gradient, not for low
    loss) — and linearly to a degenerate one. A start is kept when it ends finite, inside the
    box and with :math:`\lVert\nabla L\rVert \le` ``grad_tol``; points closer than
    ``merge_tol`` times the box's largest side are merged. Classify what comes back with
    :func:`~physml.landscapes.classify_critical_point`. Written for the two-dimensional
    examples of the chapter; it works unchanged in any small dimension :math:`d`. A critical
    point whose basin of attraction under Newton's map misses every start is not found.

    Args:
        grad: :math:`\nabla L`, e.g. ``jax.grad(loss)``, from shape ``(d,)`` to ``(d,)``.
        box: ``[[x_min, x_max], [y_min, y_max]]``, shape ``(d, 2)``.
        key: PRNG key for the starts.
        n_starts: number of random starts.
        max_iter: Newton steps per start.
        grad_tol: the largest gradient norm accepted at a critical point.
        merge_tol: relative distance below which two points count as one.

    Returns:
        the critical points found, shape ``(k, d)``, sorted lexicographically.
    """
    box_np = np.asarray(box, dtype=float)
    if box_np.ndim != 2 or box_np.shape[1] != 2 or box_np.shape[0] < 1:
        raise ValueError(f"box must have shape (d, 2), rows [low, high], got shape {box_np.shape}")
    if not (np.all(np.isfinite(box_np)) and np.all(box_np[:, 0] < box_np[:, 1])):
        raise ValueError(f"every row of box must be [low, high] with low < high, got {box_np.tolist()}")
    n_starts = _check_count(n_starts, "n_starts")
    max_iter = _check_count(max_iter, "max_iter")
    grad_tol = _check_positive(grad_tol, "grad_tol")
    merge_tol = _check_positive(merge_tol, "merge_tol")

    low, high = jnp.asarray(box_np[:, 0]), jnp.asarray(box_np[:, 1])
    starts = low[None, :] + (high - low)[None, :] * jax.random.uniform(
        key, (n_starts, box_np.shape[0]), low.dtype
    )
    ends, norms = _newton(grad, starts, max_iter)
    ends, norms = np.asarray(ends), np.asarray(norms)
    side = float(np.max(box_np[:, 1] - box_np[:, 0]))
    margin = 1e-9 * side
    inside = np.all((ends >= box_np[:, 0] - margin) & (ends <= box_np[:, 1] + margin), axis=1)
    ok = np.all(np.isfinite(ends), axis=1) & inside & (norms <= grad_tol)
    kept: list[np.ndarray] = []
    for point in ends[ok][np.lexsort(ends[ok].T[::-1])]:
        if all(np.max(np.abs(point - q)) > merge_tol * side for q in kept):
            kept.append(point)
    return jnp.asarray(np.array(kept).reshape(len(kept), box_np.shape[0]))


@eqx.filter_jit
def _newton(grad: Callable[[Array], Array], starts: Array, max_iter: int) -> tuple[Array, Array]:
    hess = jax.jacfwd(grad)

    def solve(theta: Array) -> Array:
        def body(_: Array, th: Array) -> Array:
            g = grad(th)
            step = jnp.linalg.solve(hess(th), g)
            # At an exact zero of the gradient stop: the Hessian may be singular there.
            return jnp.where(jnp.all(g == 0), th, th - step)

        return jax.lax.fori_loop(0, max_iter, body, theta)

    ends = jax.vmap(solve)(starts)
    return ends, jax.vmap(lambda th: jnp.linalg.norm(grad(th)))(ends)
