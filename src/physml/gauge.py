r"""U(1) lattice gauge theory in two dimensions, and a gauge-equivariant network.

The lattice is an :math:`L \times L` torus of sites :math:`x`; on the link from :math:`x` to
:math:`x + \hat\mu` (:math:`\mu \in \{1, 2\}`) lives a phase :math:`U_\mu(x) = e^{i\theta_\mu(x)}`,
stored as the angles ``theta[mu - 1, x1, x2]``, shape ``(2, L, L)``. A gauge transformation
with site angles :math:`\alpha(x)` (:func:`gauge_transform`),

.. math::

    U_\mu(x) \to \Omega_x U_\mu(x) \Omega^\dagger_{x+\hat\mu}, \qquad
    \theta_\mu(x) \to \theta_\mu(x) + \alpha(x) - \alpha(x + \hat\mu),

changes every link but no closed loop: not the plaquette angle
:math:`\theta_P(x) = \theta_1(x) + \theta_2(x+\hat1) - \theta_1(x+\hat2) - \theta_2(x)`, not the
Wilson loop :math:`W_{R\times T}(x)` (the product of the links around an :math:`R \times T`
rectangle with corner :math:`x`; by the lattice Stokes theorem its angle is the sum of the
:math:`RT` plaquette angles inside, e.g. :math:`W_{1\times2}(x) = U_P(x)\,U_P(x+\hat2)`), not
the Wilson action :math:`S = \beta\sum_x (1 - \cos\theta_P(x))`. A charged field
:math:`\phi \to e^{iq\alpha(x)}\phi` is compared with its neighbour by parallel transport,
:math:`U_\mu(x)^q \phi(x+\hat\mu)`, which transforms like :math:`\phi(x)` (:func:`transport`).

Exact results. With open boundaries the plaquettes are independent, so
:math:`\langle\cos\theta_P\rangle = I_1(\beta)/I_0(\beta)` and
:math:`\langle W_{R\times T}\rangle = (I_1/I_0)^{RT}`: an area law with string tension
:math:`\sigma = -\ln(I_1/I_0)`. On the torus the :math:`V = L^2` plaquettes obey one
constraint, :math:`\prod_x U_P(x) = 1`, and the character expansion
:math:`e^{\beta\cos\theta} = \sum_n I_n(\beta)e^{in\theta}` gives

.. math::

    Z = \sum_{n\in\mathbb Z} I_n(\beta)^V, \qquad
    \langle W_{R\times T}\rangle = \frac{\sum_n I_{n-1}(\beta)^{A} I_n(\beta)^{V-A}}{\sum_n I_n(\beta)^V},
    \quad A = RT

(:func:`wilson_loop_exact`; :math:`A = 1` is :func:`mean_plaquette_exact`, :math:`A = V` gives 1).

Sampling (:func:`metropolis`, :func:`sample_configurations`): Metropolis updates
:math:`\theta \to \theta + \delta`, :math:`\delta \sim U(-\epsilon, \epsilon)`, on a checkerboard
(links of one direction and one parity of the other coordinate share no plaquette: four
parallel sub-sweeps a sweep), plus over-relaxation (:func:`overrelax`), which keeps the
action; in two dimensions it swaps the two plaquettes at the link,
:math:`(\theta_P, \theta_{P'}) \to (-\theta_{P'}, -\theta_P)`, so it moves loops but not the
plaquette histogram. At large :math:`\beta` a local update rarely takes a plaquette through
:math:`\pm\pi`, so the topological charge (:func:`topological_charge`) freezes; at
:math:`\beta \le 3` on :math:`L = 8` it still moves (:math:`|Q|` up to 6 in the data below).

Networks. :class:`LCNN` follows the lattice gauge equivariant CNN of Favoni et al.: it acts on
loop fields (:math:`U_P, U_P^*`), convolves them over the offsets :math:`\{0, \pm\hat1, \pm\hat2\}`
with parallel transport, multiplies channels at a site (a product of loops is a bigger loop)
and reads out site means: gauge invariant by construction. An honest caveat: in an abelian
theory a closed loop has charge 0, so transporting it is the identity (:math:`UWU^\dagger = W`)
and the "gauge-equivariant convolution" is a plain shift of gauge-invariant fields; what is
gained is the choice of inputs and the bilinear layer. For SU(N), loops transform by
conjugation and the transport matters. :class:`PlainCNN` sees the raw links and must learn
gauge invariance from data, which a random gauge per configuration makes hopeless.

Measured (float32; :math:`L = 8`, 32 values of :math:`\beta` in :math:`[0.5, 3]`; target the
site mean of :math:`\mathrm{Re}\,W_{1\times2}`; 1000 Adam steps; 128 held-out configurations;
relative RMS error, 1 = predicting the mean; seeds 0, 1, 2): the one-layer L-CNN (289
parameters) reaches 0.28–0.35 from 8 configurations, 0.10–0.12 from 32 and 0.02–0.07 from
128; the plain CNN (301 parameters) fits its training set and gets 1.8–2.1, 1.2–1.3 and
1.3–1.45: worse than the mean, at every size. A quadratic in the mean plaquette, fitted to 256
configurations, gets 0.27. The L-CNN's output moves by :math:`10^{-7}` under random gauge
transformations in float32 (:math:`10^{-16}` in float64), the CNN's by 0.14–0.44 (the targets'
spread is 0.21). A two-layer L-CNN on :math:`W_{2\times2}` trains poorly (0.35–1.0): the space
of products of shifted loops it searches is large, and the data are few.

References: M. Creutz, *Quarks, Gluons and Lattices* (Cambridge, 1983); I. Montvay and
G. Münster, *Quantum Fields on a Lattice* (Cambridge, 1994), ch. 3; M. Favoni, A. Ipp,
D. I. Müller and D. Schuh, "Lattice gauge equivariant convolutional neural networks",
Phys. Rev. Lett. 128, 032003 (2022).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float
from scipy.special import ive, logsumexp

from ._checks import check_count, check_positive, is_int, is_real, to_device
from ._training import adam_scan

__all__ = [
    "LCNN",
    "GaugeChain",
    "GaugeSampler",
    "GaugeSamples",
    "PlainCNN",
    "cold_links",
    "gauge_transform",
    "invariance_error",
    "mean_plaquette_exact",
    "metropolis",
    "overrelax",
    "plaquette_angles",
    "predict",
    "random_gauge",
    "random_links",
    "regression_error",
    "sample_configurations",
    "staples",
    "topological_charge",
    "train_regressor",
    "transport",
    "wilson_action",
    "wilson_loop",
    "wilson_loop_angle",
    "wilson_loop_exact",
]


# ----------------------------------------------------------------------------- the lattice


def _as_links(theta: Any, ndim: int | None = None, name: str = "theta") -> Array:
    theta = to_device(theta)
    if not (jnp.issubdtype(theta.dtype, jnp.integer) or jnp.issubdtype(theta.dtype, jnp.floating)):
        raise ValueError(f"{name} must hold real link angles, got dtype {theta.dtype}")
    lattice = theta.ndim >= 3 and theta.shape[-3] == 2 and theta.shape[-2] == theta.shape[-1]
    if not lattice or ndim not in (None, theta.ndim):
        want = {None: "(..., 2, L, L)", 3: "(2, L, L)", 4: "(n, 2, L, L)"}[ndim]
        raise ValueError(f"{name} must have shape {want}, got {theta.shape}")
    if not jnp.issubdtype(theta.dtype, jnp.floating):
        theta = theta.astype(jnp.result_type(float))
    if not isinstance(theta, jax.core.Tracer) and not np.isfinite(np.asarray(theta)).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return theta


def _shift(f: Array, n: int, axis: int) -> Array:
    r""":math:`f(x + n\hat\mu)`, for the lattice axis ``axis`` (-2 for direction 1, -1 for 2)."""
    return jnp.roll(f, -n, axis=axis)


def _uniform(key: Array, shape: tuple[int, ...], dtype: Any, lo: Any = 0.0, hi: Any = 1.0) -> Array:
    """``jax.random.uniform`` drawn flat and reshaped: on CPU far faster to compile than a
    multi-dimensional draw (seconds a call site under the partitionable threefry of JAX 0.10)."""
    return jax.random.uniform(key, (math.prod(shape),), dtype, lo, hi).reshape(shape)


def _wrap(theta: Array) -> Array:
    return jnp.mod(theta + jnp.pi, 2 * jnp.pi) - jnp.pi


def random_links(key: Array, L: int) -> Float[Array, "2 L L"]:
    r"""A hot start: all :math:`\theta_\mu(x)` uniform on :math:`[-\pi, \pi)`, as at :math:`\beta = 0`."""
    return _uniform(key, (2, check_count(L, "L"), L), jnp.result_type(float), -jnp.pi, jnp.pi)


def cold_links(L: int) -> Float[Array, "2 L L"]:
    r"""A cold start: :math:`U_\mu(x) = 1` everywhere, action 0."""
    return jnp.zeros((2, check_count(L, "L"), L), jnp.result_type(float))


def random_gauge(key: Array, L: int) -> Float[Array, "L L"]:
    r"""Site angles :math:`\alpha(x)` uniform on :math:`[-\pi, \pi)`: a random gauge transformation."""
    return _uniform(key, (check_count(L, "L"), L), jnp.result_type(float), -jnp.pi, jnp.pi)


def gauge_transform(theta: Float[ArrayLike, "... 2 L L"], alpha: Float[ArrayLike, "... L L"]) -> Array:
    r"""The gauge transformation :math:`\theta_\mu(x) \to \theta_\mu(x) + \alpha(x) - \alpha(x+\hat\mu)`,
    wrapped to :math:`[-\pi, \pi)`.

    Args:
        theta: link angles, shape ``(..., 2, L, L)``.
        alpha: site angles, shape ``(..., L, L)``, the same leading axes.

    Returns:
        the transformed link angles, shape of ``theta``.
    """
    theta = _as_links(theta)
    alpha = jnp.asarray(alpha, theta.dtype)
    if alpha.shape != theta.shape[:-3] + theta.shape[-2:]:
        raise ValueError(f"alpha must have shape {theta.shape[:-3] + theta.shape[-2:]}, got {alpha.shape}")
    return _gauge(theta, alpha)


@jax.jit
def _gauge(theta: Array, alpha: Array) -> Array:
    return _wrap(theta + jnp.stack([alpha - _shift(alpha, 1, -2), alpha - _shift(alpha, 1, -1)], axis=-3))


def wilson_loop_angle(theta: Float[ArrayLike, "... 2 L L"], R: int, T: int) -> Float[Array, "... L L"]:
    r"""The angle of the :math:`R\times T` Wilson loop with lower-left corner :math:`x` (anticlockwise),

    .. math::

        \sum_{k<R}\theta_1(x + k\hat1) + \sum_{l<T}\theta_2(x + R\hat1 + l\hat2)
        - \sum_{k<R}\theta_1(x + T\hat2 + k\hat1) - \sum_{l<T}\theta_2(x + l\hat2),

    not wrapped (it is defined modulo :math:`2\pi`); it equals the sum of the plaquette angles inside.

    Args:
        theta: link angles, shape ``(..., 2, L, L)``.
        R: extent along direction 1, :math:`1 \le R \le L`.
        T: extent along direction 2, :math:`1 \le T \le L`.

    Returns:
        the loop angles, shape ``(..., L, L)``.
    """
    theta = _as_links(theta)
    _check_extents(theta, R, T)
    return _loop_angle(theta, R, T)


def _check_extents(theta: Array, R: Any, T: Any) -> None:
    for n, name in ((R, "R"), (T, "T")):
        if not (is_int(n) and 1 <= n <= theta.shape[-1]):
            raise ValueError(f"{name} must be an integer in [1, L] = [1, {theta.shape[-1]}], got {n!r}")


@functools.partial(jax.jit, static_argnums=(1, 2))
def _loop_angle(theta: Array, R: int, T: int) -> Array:
    bottom = sum(_shift(theta[..., 0, :, :], k, -2) for k in range(R))
    left = sum(_shift(theta[..., 1, :, :], k, -1) for k in range(T))
    return bottom + _shift(left, R, -2) - _shift(bottom, T, -1) - left


def wilson_loop(theta: Float[ArrayLike, "... 2 L L"], R: int, T: int) -> Complex[Array, "... L L"]:
    r"""The Wilson loop :math:`W_{R\times T}(x)` as a complex number, :math:`e^{i\,\text{angle}}`
    (the angle of :func:`wilson_loop_angle`); shape ``(..., L, L)``."""
    theta = _as_links(theta)
    _check_extents(theta, R, T)
    return _loop(theta, R, T)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _loop(theta: Array, R: int, T: int) -> Array:
    return jnp.exp(1j * _loop_angle(theta, R, T))


def plaquette_angles(theta: Float[ArrayLike, "... 2 L L"]) -> Float[Array, "... L L"]:
    r""":math:`\theta_P(x) = \theta_1(x) + \theta_2(x+\hat1) - \theta_1(x+\hat2) - \theta_2(x)`, not wrapped;
    shape ``(..., L, L)``."""
    return wilson_loop_angle(theta, 1, 1)


def wilson_action(theta: Float[ArrayLike, "... 2 L L"], beta: float) -> Float[Array, ...]:
    r"""The Wilson action :math:`S = \beta\sum_x (1 - \cos\theta_P(x))`, shape ``(...)``."""
    if not (is_real(beta) and math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    return beta * jnp.sum(1 - jnp.cos(plaquette_angles(theta)), axis=(-2, -1))


def topological_charge(theta: Float[ArrayLike, "... 2 L L"]) -> Float[Array, ...]:
    r"""The charge :math:`Q = \frac{1}{2\pi}\sum_x [\theta_P(x)]`, :math:`[\cdot]` wrapped to
    :math:`[-\pi, \pi)`: an integer on the torus, shape ``(...)``."""
    return jnp.sum(_wrap(plaquette_angles(theta)), axis=(-2, -1)) / (2 * jnp.pi)


def transport(
    theta: Float[ArrayLike, "2 L L"], phi: Complex[ArrayLike, "... L L"], mu: int, charge: int = 1
) -> Complex[Array, "... L L"]:
    r"""Parallel transport of a field of charge :math:`q` from :math:`x \pm \hat\mu` to :math:`x`:

    .. math::

        (T_{+\mu}\phi)(x) = U_\mu(x)^q\,\phi(x+\hat\mu), \qquad
        (T_{-\mu}\phi)(x) = U_\mu(x-\hat\mu)^{-q}\,\phi(x-\hat\mu).

    If :math:`\phi \to e^{iq\alpha}\phi`, then :math:`T_{\pm\mu}\phi \to e^{iq\alpha}\,T_{\pm\mu}\phi`;
    around a plaquette, :math:`T_{+1}T_{+2}T_{-1}T_{-2}\phi = U_P^q\phi`. At :math:`q = 0` (loops in
    U(1)) it is a plain shift.

    Args:
        theta: link angles of one configuration, shape ``(2, L, L)``.
        phi: the field, shape ``(..., L, L)`` (channels first).
        mu: the direction, one of ``1, 2, -1, -2``.
        charge: the integer charge :math:`q`.

    Returns:
        the transported field, shape of ``phi``; complex unless :math:`q = 0`.
    """
    theta = _as_links(theta, ndim=3)
    if not (is_int(mu) and mu in (1, 2, -1, -2)) or not is_int(charge):
        raise ValueError(f"mu must be one of 1, 2, -1, -2 and charge an integer, got {mu!r} and {charge!r}")
    phi = jnp.asarray(phi)
    if phi.ndim < 2 or phi.shape[-2:] != theta.shape[-2:]:
        raise ValueError(f"phi must have shape (..., {theta.shape[-1]}, {theta.shape[-1]}), got {phi.shape}")
    if charge == 0:
        return _shift(phi, 1 if mu > 0 else -1, abs(mu) - 3)
    return _transport(theta, phi, mu, jnp.asarray(charge, theta.dtype))


@functools.partial(jax.jit, static_argnums=2)
def _transport(theta: Array, phi: Array, mu: int, charge: Array) -> Array:
    axis, step = abs(mu) - 3, 1 if mu > 0 else -1
    t = theta[abs(mu) - 1] if mu > 0 else -_shift(theta[abs(mu) - 1], -1, axis)
    return jnp.exp(1j * charge * t).reshape((1,) * (phi.ndim - 2) + t.shape) * _shift(phi, step, axis)


# --------------------------------------------------------------------------- exact results


def _check_nonnegative(x: Any, name: str, positive: bool = False) -> Any:
    """Number(s) >= 0 (> 0 if ``positive``), as given or as an array; traced values pass unchecked."""
    if isinstance(x, jax.core.Tracer):
        return x
    a = np.asarray(x) if is_real(x) or isinstance(x, jax.Array | np.ndarray | list | tuple) else None
    ok = a is not None and a.dtype.kind in "fiu" and bool(np.all(np.isfinite(a)))
    if not (ok and bool(np.all(a > 0 if positive else a >= 0))):
        raise ValueError(f"{name} must be finite number(s) {'>' if positive else '>='} 0, got {x!r}")
    return x if is_real(x) else jnp.asarray(x)


def _loop_ratio(beta: float, area: int, volume: int | None) -> float:
    if beta == 0:  # I_n(0) = 0 for n != 0: only the whole torus survives
        return float(area == volume)
    if volume is None:
        return float((ive(1, beta) / ive(0, beta)) ** area)
    n = np.arange(-int(30 + 10 * math.sqrt(beta)), int(31 + 10 * math.sqrt(beta)))
    with np.errstate(divide="ignore"):  # I_n underflows to 0 for large |n|
        r, r_minus = (np.log(ive(m, beta)) - np.log(ive(0, beta)) for m in (n, n - 1))  # ln(I_m / I_0)
    return float(np.exp(logsumexp(area * r_minus + (volume - area) * r) - logsumexp(volume * r)))


def wilson_loop_exact(beta: float | ArrayLike, R: int, T: int, volume: int | None = None) -> np.ndarray:
    r"""Exact :math:`\langle W_{R\times T}\rangle` in two dimensions (real: the imaginary part averages to 0).

    ``volume=None``: open boundaries or infinite volume, :math:`(I_1(\beta)/I_0(\beta))^{RT}`.
    ``volume=V``: the torus of :math:`V` plaquettes,
    :math:`\sum_n I_{n-1}^{RT} I_n^{V-RT} / \sum_n I_n^V` (only the area counts).

    Args:
        beta: inverse coupling :math:`\beta \ge 0`, a number or an array.
        R: extent along direction 1, :math:`\ge 1`.
        T: extent along direction 2, :math:`\ge 1`.
        volume: ``None``, or the number of plaquettes :math:`V = L^2 \ge RT`.

    Returns:
        float64 NumPy array of the shape of ``beta``.
    """
    area = check_count(R, "R") * check_count(T, "T")
    beta = np.asarray(_check_nonnegative(beta, "beta"), dtype=np.float64)
    if volume is not None and not (is_int(volume) and volume >= area):
        raise ValueError(f"volume must be None or an integer >= R*T = {area}, got {volume!r}")
    return np.vectorize(lambda b: _loop_ratio(b, area, volume), otypes=[np.float64])(beta)


def mean_plaquette_exact(beta: float | ArrayLike, volume: int | None = None) -> np.ndarray:
    r"""Exact :math:`\langle\cos\theta_P\rangle`: :math:`I_1/I_0` (``volume=None``), or on the torus
    :math:`\sum_n I_n^{V-1}\,\tfrac12(I_{n-1} + I_{n+1}) / \sum_n I_n^V` (:func:`wilson_loop_exact`, 1×1)."""
    return wilson_loop_exact(beta, 1, 1, volume)


# ------------------------------------------------------------------------------ the sampler


def _link_plaquettes(theta: Array) -> Array:
    r"""The angles :math:`\pm\theta_P` of the two plaquettes around each link, signed so that the link
    enters with +1; shape ``(2, ..., 2, L, L)``."""
    p = plaquette_angles(theta)
    first = jnp.stack([p, -p], axis=-3)  # P(x) holds U_1(x) and U_2(x)^*
    return jnp.stack([first, jnp.stack([-_shift(p, -1, -1), _shift(p, -1, -2)], axis=-3)])


def staples(theta: Float[ArrayLike, "... 2 L L"]) -> Complex[Array, "... 2 L L"]:
    r"""The staple sums :math:`V_\mu(x)`: the action is :math:`-\beta\,\mathrm{Re}(U_\mu(x)V_\mu(x))` plus
    terms without :math:`U_\mu(x)`, with :math:`V_1(x) = U_1^*(x)(U_P(x) + U_P^*(x-\hat2))` and
    :math:`V_2(x) = U_2^*(x)(U_P^*(x) + U_P(x-\hat1))`; complex, shape of ``theta``."""
    theta = _as_links(theta)
    return jnp.exp(-1j * theta) * jnp.sum(jnp.exp(1j * _link_plaquettes(theta)), axis=0)


def _checkerboard(L: int) -> np.ndarray:
    """Four masks, shape ``(4, 2, L, L)``: links of one direction and one parity of the other coordinate."""
    parity = np.arange(L) % 2
    masks = np.zeros((4, 2, L, L), dtype=bool)
    for p in (0, 1):
        masks[p, 0] = np.broadcast_to(parity[None, :] == p, (L, L))  # direction 1, parity of x2
        masks[2 + p, 1] = np.broadcast_to(parity[:, None] == p, (L, L))  # direction 2, parity of x1
    return masks


def _reflect(theta: Array, mask: Array) -> tuple[Array, None]:
    p = _link_plaquettes(theta)  # arg(U V) = arg(sum_P e^{i p_P})
    new = theta - 2 * jnp.arctan2(jnp.sum(jnp.sin(p), axis=0), jnp.sum(jnp.cos(p), axis=0))
    return jnp.where(jnp.broadcast_to(mask, theta.shape), _wrap(new), theta), None


def overrelax(theta: Float[ArrayLike, "... 2 L L"]) -> Float[Array, "... 2 L L"]:
    r"""One over-relaxation sweep: each link, a checkerboard set at a time, reflected about its staple,
    :math:`\theta \to -2\arg V - \theta`, so that :math:`\mathrm{Re}(UV)` and the action are unchanged
    (microcanonical; each reflection is its own inverse, so it preserves the measure).

    Args:
        theta: link angles, shape ``(..., 2, L, L)``, even :math:`L`.

    Returns:
        the new link angles, wrapped to :math:`[-\pi, \pi)`.
    """
    theta = _as_links(theta)
    if theta.shape[-1] % 2:
        raise ValueError(f"the checkerboard needs even L, got {theta.shape[-1]}")
    return _overrelax(theta, jnp.asarray(_checkerboard(theta.shape[-1])))


@jax.jit
def _overrelax(theta: Array, masks: Array) -> Array:
    return jax.lax.scan(_reflect, theta, masks)[0]


class GaugeChain(NamedTuple):
    r"""The state of Metropolis chains (:func:`metropolis`): one, or a batch run in lockstep.

    Attributes:
        theta: link angles, shape ``(..., 2, L, L)``, wrapped to :math:`[-\pi, \pi)`.
        accepted: accepted Metropolis proposals of each chain so far, int32, shape ``(...)``.
        proposed: Metropolis proposals of each chain so far (:math:`2L^2` a sweep), an int32 scalar.
    """

    theta: Array
    accepted: Array
    proposed: Array


class GaugeSampler(NamedTuple):
    """A Markov chain as an ``(init, step)`` pair.

    Attributes:
        init: ``init(theta) -> GaugeChain``, from link angles of shape ``(..., 2, L, L)``.
        step: ``step(key, chain) -> GaugeChain``, one sweep of every chain; pure and jit-able.
    """

    init: Callable[[Any], GaugeChain]
    step: Callable[[Array, GaugeChain], GaugeChain]


def _per_chain(x: Any, theta: Array) -> Array:
    """A number, or one a chain (shape ``theta.shape[:-3]``) shaped to broadcast against ``theta``."""
    x = jnp.asarray(x, theta.dtype)
    return x.reshape((*x.shape, 1, 1, 1)) if x.ndim else x


def _sweep(u: Array, chain: GaugeChain, beta: Any, eps: Any, n_overrelax: int) -> GaugeChain:
    """One sweep, given its uniform numbers ``u`` of shape ``(2, ..., 2, L, L)`` (a proposal, a test)."""
    theta, masks = chain.theta, jnp.asarray(_checkerboard(chain.theta.shape[-1]))
    beta, delta, log_u = _per_chain(beta, theta), (2 * u[0] - 1) * _per_chain(eps, theta), jnp.log(u[1])

    def update(theta: Array, mask: Array) -> tuple[Array, Array]:
        p = _link_plaquettes(theta)  # Re(U'V) - Re(UV) = sum_P cos(delta + p_P) - cos(p_P)
        dS = -beta * jnp.sum(jnp.cos(delta[None] + p) - jnp.cos(p), axis=0)
        ok = jnp.broadcast_to(mask, theta.shape) & (log_u < -dS)
        return jnp.where(ok, _wrap(theta + delta), theta), jnp.sum(ok, axis=(-3, -2, -1), dtype=jnp.int32)

    theta, accepted = jax.lax.scan(update, theta, masks)
    for _ in range(n_overrelax):
        theta = jax.lax.scan(_reflect, theta, masks)[0]
    n_links = math.prod(theta.shape[-3:])
    return GaugeChain(
        theta, chain.accepted + jnp.sum(accepted, axis=0, dtype=jnp.int32), chain.proposed + n_links
    )


def metropolis(beta: float | Array, step_size: float | Array = 1.0, n_overrelax: int = 1) -> GaugeSampler:
    r"""Checkerboard Metropolis for the Wilson action, with over-relaxation, as a :class:`GaugeSampler`.

    A sweep: for each of four sets of links that share no plaquette, propose
    :math:`\theta \to \theta + \delta`, :math:`\delta \sim U(-\epsilon, \epsilon)`, and accept with
    probability :math:`\min(1, e^{-\Delta S})`, :math:`\Delta S = -\beta\,\mathrm{Re}((U' - U)V)`
    (:func:`staples`); then ``n_overrelax`` sweeps of :func:`overrelax`.

    Args:
        beta: :math:`\beta \ge 0`, a number or one a chain (shape ``(...)``); may be traced.
        step_size: :math:`\epsilon > 0` in radians, a number or one a chain.
        n_overrelax: over-relaxation sweeps a sweep, :math:`\ge 0`.
    """
    beta, eps = _check_nonnegative(beta, "beta"), _check_nonnegative(step_size, "step_size", positive=True)
    n_overrelax = check_count(n_overrelax, "n_overrelax", least=0)

    def init(theta: Any) -> GaugeChain:
        theta = _as_links(theta)
        if theta.shape[-1] % 2 or any(jnp.shape(x) not in ((), theta.shape[:-3]) for x in (beta, eps)):
            raise ValueError(f"need even L and beta, step_size of shape () or {theta.shape[:-3]}")
        return GaugeChain(_wrap(theta), jnp.zeros(theta.shape[:-3], jnp.int32), jnp.zeros((), jnp.int32))

    def step(key: Array, chain: GaugeChain) -> GaugeChain:
        return _sweep(
            _uniform(key, (2, *chain.theta.shape), chain.theta.dtype), chain, beta, eps, n_overrelax
        )

    return GaugeSampler(init, step)


class GaugeSamples(NamedTuple):
    r"""Configurations from :func:`sample_configurations`.

    Attributes:
        theta: link angles, shape ``(n_chains * n_per_beta, 2, L, L)``, chain after chain, each
            in a fresh random gauge.
        beta: the :math:`\beta` of each configuration, shape ``(n_chains * n_per_beta,)``.
        acceptance: Metropolis acceptance rate of each chain, shape ``(n_chains,)``.
    """

    theta: Array
    beta: Array
    acceptance: Array


@functools.partial(jax.jit, static_argnums=(1, 3, 4, 5, 6))
def _sample(key: Array, L: int, hyper: Array, n: int, n_thermal: int, n_between: int, n_overrelax: int):
    shape, skip = (hyper.shape[1], 2, L, L), -(-n_thermal // n_between)  # thermalisation in whole blocks
    keys = jax.random.split(key, 1 + skip + n)  # few random call sites: each takes a second to compile
    angles = _uniform(keys[0], (n + 2, *shape[:1], L, L), hyper.dtype, -jnp.pi, jnp.pi)  # start, gauges
    sweep = lambda c, u: (_sweep(u, c, hyper[0], hyper[1], n_overrelax), None)

    def block(c: GaugeChain, k: Array) -> tuple[GaugeChain, Array]:  # n_between sweeps
        c = jax.lax.scan(sweep, c, _uniform(k, (n_between, 2, *shape), hyper.dtype))[0]
        return c, c.theta

    c = metropolis(hyper[0], hyper[1], n_overrelax).init(jnp.swapaxes(angles[:2], 0, 1))
    c, thetas = jax.lax.scan(block, c, keys[1:])
    thetas = gauge_transform(thetas[skip:], angles[2:])  # (n, n_chains, 2, L, L), each in a random gauge
    return jnp.swapaxes(thetas, 0, 1), c.accepted.astype(hyper.dtype) / c.proposed


def sample_configurations(
    key: Array,
    L: int,
    betas: Float[ArrayLike, " n_chains"],
    n_per_beta: int,
    *,
    n_thermal: int = 100,
    n_between: int = 2,
    step_size: float | Float[ArrayLike, " n_chains"] = 1.0,
    n_overrelax: int = 1,
) -> GaugeSamples:
    r"""Sample the Wilson action with an independent :func:`metropolis` chain for each entry of ``betas``.

    Each chain starts hot, runs ``n_thermal`` sweeps (rounded up to a multiple of ``n_between``),
    then keeps a configuration every ``n_between`` sweeps, each in its own random gauge (so the
    raw links carry no preferred gauge). All chains run in lockstep in one compiled call;
    repeat a :math:`\beta` for independent chains at it.

    Args:
        key: PRNG key; the result is deterministic given it.
        L: even lattice side.
        betas: :math:`\beta \ge 0` of each chain, shape ``(n_chains,)``.
        n_per_beta: configurations kept per chain.
        n_thermal: thermalisation sweeps, :math:`\ge 0`.
        n_between: sweeps between kept configurations, :math:`\ge 1`.
        step_size: Metropolis :math:`\epsilon` in radians, one for all chains or one each.
        n_overrelax: over-relaxation sweeps a sweep.

    Returns:
        :class:`GaugeSamples`, in JAX's default float dtype.
    """
    if not (is_int(L) and L >= 2 and L % 2 == 0):
        raise ValueError(f"L must be an even integer >= 2 (the checkerboard of links), got {L!r}")
    n, n_between = check_count(n_per_beta, "n_per_beta"), check_count(n_between, "n_between")
    n_thermal, n_overrelax = (
        check_count(n_thermal, "n_thermal", 0),
        check_count(n_overrelax, "n_overrelax", 0),
    )
    b = np.asarray(_check_nonnegative(betas, "betas"), dtype=np.float64)
    if b.ndim != 1 or b.size == 0:
        raise ValueError(f"betas must be a non-empty 1-D array, got shape {b.shape}")
    eps = np.asarray(_check_nonnegative(step_size, "step_size", positive=True), dtype=np.float64)
    if eps.shape not in ((), b.shape):
        raise ValueError(f"step_size must be a number or have the shape of betas {b.shape}, got {eps.shape}")
    hyper = np.stack([b, np.broadcast_to(eps, b.shape)]).astype(jnp.result_type(float))  # traced
    thetas, acceptance = _sample(key, L, jax.device_put(hyper), n, n_thermal, n_between, n_overrelax)
    return GaugeSamples(thetas.reshape(-1, 2, L, L), jax.device_put(np.repeat(hyper[0], n)), acceptance)


# ------------------------------------------------------------------------------ the networks

_SHIFTS = (1, -1, 2, -2)  # after 0 (stay): the five offsets of a lattice convolution


def _initialise(key: Array, skeleton: Any, bounds: list[float]) -> Any:
    """Fill the ``jax.ShapeDtypeStruct`` leaves of ``skeleton``, in order, with :math:`U(-b, b)` numbers
    from one flat draw (eager draws of new shapes compile for a second or more each on CPU)."""
    is_leaf = lambda x: isinstance(x, jax.ShapeDtypeStruct)
    leaves, treedef = jax.tree.flatten(skeleton, is_leaf=is_leaf)
    slots = [i for i, x in enumerate(leaves) if is_leaf(x)]
    ends = np.cumsum([math.prod(leaves[i].shape) for i in slots])
    u = np.asarray(jax.random.uniform(key, (int(ends[-1]),), leaves[slots[0]].dtype, -1.0, 1.0))
    for i, bound, part in zip(slots, bounds, np.split(u, ends[:-1]), strict=True):
        leaves[i] = jax.device_put(bound * part.reshape(leaves[i].shape))
    return jax.tree.unflatten(treedef, leaves)


def _complex_block(w: Array) -> Array:
    """Complex weights stored as ``(2, out, ...)`` (re, im) as a real map of (re, im) stacks,
    shape ``(2, out, 2, ...)``: :math:`(a + ib)(x + iy) = (ax - by) + i(bx + ay)`."""
    return jnp.stack([jnp.stack([w[0], -w[1]], axis=1), jnp.stack([w[1], w[0]], axis=1)])


def _check_channels(channels: Any) -> tuple[int, ...]:
    if not (isinstance(channels, tuple | list) and channels):
        raise ValueError(f"channels must be a non-empty tuple of integers, got {channels!r}")
    return tuple(check_count(c, "channels") for c in channels)


class LCNN(eqx.Module):
    r"""A lattice gauge equivariant CNN for U(1) (after Favoni et al. 2022), gauge invariant by construction.

    Input: the loop fields :math:`W = (U_P, U_P^*)`. Each layer is a convolution over the offsets
    :math:`s \in (0, +\hat1, -\hat1, +\hat2, -\hat2)` by :func:`transport` at charge 0, then a
    bilinear layer on the channels and the unit loop :math:`\tilde W_0 = 1`:

    .. math::

        W'_i(x) = \sum_{j,s} \omega_{ijs}\,(T_s W_j)(x), \qquad
        W''_i(x) = \sum_{j,k=0}^{C} \alpha_{ijk}\,\tilde W'_j(x)\,\tilde W'_k(x),

    with complex :math:`\omega` (``convs``, stored (re, im), shape ``(2, C, C_in, 5)``) and
    :math:`\alpha` (``bilinears``, ``(2, C, C + 1, C + 1)``). A product of loops meeting at
    :math:`x` is a bigger loop: one layer represents :math:`W_{1\times2}(x) = U_P(x)U_P(x+\hat2)`
    exactly, two represent :math:`W_{2\times2}(x) = W_{1\times2}(x)W_{1\times2}(x+\hat1)`. The
    readout is an ``eqx.nn.Linear`` of the site means of :math:`\mathrm{Re}\,W_i, \mathrm{Im}\,W_i`.

    Args:
        channels: complex channels of each layer.
        key: PRNG key for the initial weights.
    """

    convs: list[Array]
    bilinears: list[Array]
    readout: eqx.nn.Linear

    def __init__(self, channels: tuple[int, ...] = (4,), *, key: Array):
        channels = _check_channels(channels)
        dtype, sizes = jnp.result_type(float), (2, *channels)
        convs = [jax.ShapeDtypeStruct((2, b, a, 5), dtype) for a, b in itertools.pairwise(sizes)]
        bilinears = [jax.ShapeDtypeStruct((2, c, c + 1, c + 1), dtype) for c in channels]
        readout = eqx.filter_eval_shape(eqx.nn.Linear, 2 * channels[-1], "scalar", key=key)
        bounds = [math.sqrt(3 / (10 * a)) for a in sizes[:-1]] + [1 / (c + 1) for c in channels]
        bounds += 2 * [1 / math.sqrt(2 * channels[-1])]  # convolutions of unit variance; equinox's Linear
        self.convs, self.bilinears, self.readout = _initialise(key, (convs, bilinears, readout), bounds)

    def _fields(self, theta: Array) -> Array:
        p = plaquette_angles(theta)
        w = jnp.stack([jnp.stack([jnp.cos(p), jnp.cos(p)]), jnp.stack([jnp.sin(p), -jnp.sin(p)])])
        for conv, bilinear in zip(self.convs, self.bilinears, strict=True):  # w: (re/im, channel, L, L)
            shifted = jnp.stack([w] + [transport(theta, w, mu, charge=0) for mu in _SHIFTS], axis=2)
            w = jnp.einsum("aibjs,bjsxy->aixy", _complex_block(conv).astype(w.dtype), shifted)
            unit = jnp.stack([jnp.ones_like(w[0, :1]), jnp.zeros_like(w[0, :1])])  # the loop 1 + 0i
            re, im = jnp.concatenate([unit, w], axis=1)
            products = jnp.stack(
                [
                    re[:, None] * re[None] - im[:, None] * im[None],
                    re[:, None] * im[None] + im[:, None] * re[None],
                ]
            )
            w = jnp.einsum("aibjk,bjkxy->aixy", _complex_block(bilinear).astype(w.dtype), products)
        return w

    def features(self, theta: Float[Array, "2 L L"]) -> Complex[Array, "C L L"]:
        """The last layer's loop fields :math:`W_i(x)` of one configuration."""
        w = self._fields(theta)
        return jax.lax.complex(w[0], w[1])

    def __call__(self, theta: Float[Array, "2 L L"]) -> Float[Array, ""]:
        return self.readout(jnp.mean(self._fields(theta), axis=(-2, -1)).reshape(-1))


class PlainCNN(eqx.Module):
    r"""A plain CNN on the raw links, :math:`(\cos\theta_1, \cos\theta_2, \sin\theta_1, \sin\theta_2)`:
    3×3 ``eqx.nn.Conv2d`` layers with circular padding and tanh, the mean over sites, a linear
    readout. Translation invariant, not gauge invariant. The convolutions are applied as sums
    over the nine shifts (the same numbers; inside ``lax.scan`` on CPU it trains several times faster).

    Args:
        channels: channels of each convolution.
        key: PRNG key for the initial weights (equinox's default initialisation).
    """

    convs: list[eqx.nn.Conv2d]
    readout: eqx.nn.Linear

    def __init__(self, channels: tuple[int, ...] = (4, 4), *, key: Array):
        sizes = (4, *_check_channels(channels))
        conv = lambda a, b: eqx.filter_eval_shape(
            eqx.nn.Conv2d, a, b, 3, padding=1, padding_mode="CIRCULAR", key=key
        )
        skeleton = ([conv(a, b) for a, b in itertools.pairwise(sizes)],)
        skeleton += (eqx.filter_eval_shape(eqx.nn.Linear, sizes[-1], "scalar", key=key),)
        bounds = [1 / math.sqrt(f) for f in [9 * a for a in sizes[:-1]] + [sizes[-1]] for _ in range(2)]
        self.convs, self.readout = _initialise(key, skeleton, bounds)

    def __call__(self, theta: Float[Array, "2 L L"]) -> Float[Array, ""]:
        x = jnp.concatenate([jnp.cos(theta), jnp.sin(theta)])
        for conv in self.convs:
            shifted = jnp.stack(
                [jnp.roll(x, (1 - a, 1 - b), (-2, -1)) for a in range(3) for b in range(3)], 1
            )
            w = conv.weight.reshape(*conv.weight.shape[:2], 9).astype(x.dtype)
            x = jnp.tanh(jnp.einsum("oik,ikxy->oxy", w, shifted) + conv.bias.astype(x.dtype))
        return self.readout(jnp.mean(x, axis=(1, 2)))


_MODELS = {"lcnn": LCNN, "cnn": PlainCNN}


def _check_model(model: Any) -> Any:
    if not isinstance(model, LCNN | PlainCNN):
        raise ValueError(f"model must be an LCNN or a PlainCNN, got {type(model).__name__}")
    return model


def _check_data(configs: Any, targets: Any) -> tuple[Array, Array]:
    configs = _as_links(configs, ndim=4, name="configs")
    targets = jnp.asarray(targets, configs.dtype)
    if targets.shape != configs.shape[:1] or not np.isfinite(np.asarray(targets)).all():
        raise ValueError(f"targets must be {configs.shape[0]} finite numbers, got shape {targets.shape}")
    return configs, targets


_BLOCK = 32  # configurations per compiled evaluation in predict()


@eqx.filter_jit
def _predict(model: Any, configs: Array) -> Array:
    return jax.vmap(model)(configs)


def predict(model: LCNN | PlainCNN, configs: Float[ArrayLike, "n 2 L L"]) -> Float[Array, " n"]:
    """The model's output for each configuration.

    Evaluated in blocks of 32 configurations, the last one padded with copies of its first, so
    that one compiled program serves every number of configurations (inside a traced function,
    in one piece)."""
    model = _check_model(model)
    if isinstance(configs, jax.core.Tracer):
        return jax.vmap(model)(configs)
    host = np.asarray(_as_links(configs, ndim=4, name="configs"))
    n = host.shape[0]
    if n == 0:
        raise ValueError("configs holds no configuration")
    padded = np.concatenate([host, np.repeat(host[:1], -n % _BLOCK, axis=0)])
    blocks = [np.asarray(_predict(model, jax.device_put(b))) for b in np.split(padded, len(padded) // _BLOCK)]
    return jax.device_put(np.concatenate(blocks)[:n])


def regression_error(
    model: LCNN | PlainCNN, configs: Float[ArrayLike, "n 2 L L"], targets: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    r"""The relative RMS error :math:`\sqrt{\langle(f - y)^2\rangle / \mathrm{Var}\,y}` (1: no better than
    the mean of ``targets``)."""
    configs, targets = _check_data(configs, targets)
    return _relative_rms(predict(model, configs), targets)


@jax.jit
def _relative_rms(predictions: Array, targets: Array) -> Array:
    return jnp.sqrt(jnp.mean((predictions - targets) ** 2) / jnp.var(targets))


def invariance_error(
    key: Array, model: LCNN | PlainCNN, theta: Float[ArrayLike, "2 L L"], n_transforms: int = 10
) -> Float[Array, ""]:
    r""":math:`\max_k |f(\Omega_k\theta) - f(\theta)|` over ``n_transforms`` random gauge transformations."""
    model, theta = _check_model(model), _as_links(theta, ndim=3)
    out = np.asarray(predict(model, _orbit(key, theta, check_count(n_transforms, "n_transforms"))))
    return jax.device_put(np.max(np.abs(out[1:] - out[0])))


@functools.partial(jax.jit, static_argnums=2)
def _orbit(key: Array, theta: Array, n: int) -> Array:
    """``theta`` and ``n`` random gauge transformations of it, shape ``(n + 1, 2, L, L)``."""
    L = theta.shape[-1]
    alphas = _uniform(key, (n, L, L), theta.dtype, -jnp.pi, jnp.pi)
    return jnp.concatenate([theta[None], _gauge(jnp.broadcast_to(theta, (n, 2, L, L)), alphas)])


@eqx.filter_jit
def _train(
    model: Any, configs: Array, targets: Array, weights: Array, hyper: Array, steps: int
) -> tuple[Any, Array]:
    loss = lambda m: jnp.sum(weights * (jax.vmap(m)(configs) - targets) ** 2) / hyper[1]
    return adam_scan(model, loss, hyper[0], steps)


def train_regressor(
    key: Array,
    kind: str,
    configs: Float[ArrayLike, "n 2 L L"],
    targets: Float[ArrayLike, " n"],
    *,
    steps: int = 1000,
    learning_rate: float = 3e-2,
    channels: tuple[int, ...] | None = None,
    pad_to: int | None = None,
) -> tuple[LCNN | PlainCNN, Float[Array, " steps"]]:
    r"""Fit an :class:`LCNN` (``kind="lcnn"``) or a :class:`PlainCNN` (``kind="cnn"``) to scalar targets.

    Full-batch Adam, step cosine-decayed from ``learning_rate`` to 0, on the relative squared
    error :math:`\mathcal L = \langle(f(\theta_i) - y_i)^2\rangle / \mathrm{Var}\,y`: one compiled
    ``lax.scan``, recompiled only for a new shape, dtype or number of steps. With ``pad_to``,
    the training set is padded to that many configurations with copies of weight zero: the
    loss and the fit are the same (up to the order of rounding), and fits to training sets of
    different sizes share one compiled loop.

    Args:
        key: PRNG key for the initial weights.
        kind: ``"lcnn"`` or ``"cnn"``.
        configs: link angles, shape ``(n, 2, L, L)``, :math:`n \ge 2`.
        targets: shape ``(n,)``, not all equal.
        steps: Adam steps.
        learning_rate: Adam's initial step size.
        channels: the model's channels (its default if ``None``).
        pad_to: pad the training set to this size (at least ``n``), or ``None``.

    Returns:
        the trained model (in the dtype of ``configs``) and :math:`\mathcal L` at each step.
    """
    if kind not in _MODELS:
        raise ValueError(f"kind must be 'lcnn' or 'cnn', got {kind!r}")
    configs, targets = _check_data(configs, targets)
    variance = float(jnp.var(targets))
    if configs.shape[0] < 2 or not variance > 0:
        raise ValueError("need at least two configurations with different targets")
    steps, learning_rate = check_count(steps, "steps"), check_positive(learning_rate, "learning_rate")
    model = _MODELS[kind](**({} if channels is None else {"channels": channels}), key=key)
    model = jax.tree.map(lambda a: a.astype(configs.dtype) if eqx.is_inexact_array(a) else a, model)
    n = configs.shape[0]
    size = n if pad_to is None else check_count(pad_to, "pad_to")
    if size < n:
        raise ValueError(f"pad_to must be at least the number of configurations, {n}; got {size}")
    fill = np.arange(size) % n  # padding: copies of the first configurations, with weight zero
    weights = np.where(np.arange(size) < n, 1.0 / n, 0.0).astype(configs.dtype)
    hyper = jnp.asarray([learning_rate, variance], configs.dtype)
    configs, targets = (jax.device_put(np.asarray(x)[fill]) for x in (configs, targets))  # on the host
    return _train(model, configs, targets, jax.device_put(weights), hyper, steps)
