r"""How rarely is a random Hessian positive definite? The Gaussian orthogonal ensemble.

A critical point of a random loss in :math:`n` dimensions is a minimum only if all
:math:`n` eigenvalues of its Hessian are positive. For a Hessian drawn from the Gaussian
orthogonal ensemble (GOE) this probability,

.. math::

    P_n = \Pr(\lambda_1 > 0, \dots, \lambda_n > 0) \sim e^{-\theta n^2},
    \qquad \theta = \frac{\ln 3}{4} \approx 0.2747 ,

falls like a Gaussian in :math:`n`, not like the :math:`2^{1-n}` of independent coin flips
(Dean & Majumdar 2006): the eigenvalues repel, and pushing all of them to one side of zero
costs an energy of order :math:`n^2`.

Convention. A GOE matrix here is :math:`M = (G + G^\top)/2` with :math:`G_{ij}` iid
:math:`\mathcal N(0, 1)`: diagonal entries have variance 1, off-diagonal ones 1/2, the
density of :math:`M` is :math:`\propto e^{-\operatorname{tr} M^2/2}` and that of its
eigenvalues

.. math::

    p(\lambda_1, \dots, \lambda_n) \propto \prod_{i<j} |\lambda_j - \lambda_i|
    \prod_i e^{-\lambda_i^2/2} .

:math:`P_n` does not depend on the scale, so any other normalisation gives the same numbers.

Two probabilities are easily confused: :math:`P_n` is the chance that all eigenvalues are
*positive* (a minimum); the chance that they all *share a sign* (a minimum or a maximum)
is :math:`2P_n` for :math:`n \ge 1`. The source text's claim :math:`2^{1-n}`
(:func:`source_claim`) is about the second.

The module measures :math:`P_n` three ways:

- naive Monte Carlo (:func:`positive_definite_fraction_mc`), useful while
  :math:`P_n \gtrsim 10^{-5}`, i.e. up to :math:`n \approx 5`;
- exactly (:func:`positive_definite_fraction_exact`), by de Bruijn's Pfaffian formula
  with closed-form entries, evaluated in multiple-precision arithmetic;
- by subset simulation on the matrices themselves
  (:func:`positive_definite_fraction_splitting`), which needs no eigenvalue density and
  reaches :math:`10^{-10}` in seconds;

and fits :math:`\theta` (:func:`fit_theta`).

References: D. S. Dean and S. N. Majumdar, PRL 97, 160201 (2006) and PRE 77, 041108
(2008); N. G. de Bruijn, J. Indian Math. Soc. 19, 133 (1955); M. L. Mehta, *Random
Matrices* (2004); S.-K. Au and J. L. Beck, Prob. Eng. Mech. 16, 263 (2001); S. L. Cotter
et al., Stat. Sci. 28, 424 (2013).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_count as _check_int
from .._checks import is_int as _is_int

__all__ = [
    "MAX_EXACT_N",
    "FractionEstimate",
    "SplittingEstimate",
    "ThetaFit",
    "fit_theta",
    "goe",
    "pfaffian",
    "positive_definite_fraction_closed_form",
    "positive_definite_fraction_exact",
    "positive_definite_fraction_mc",
    "positive_definite_fraction_splitting",
    "source_claim",
    "theta_dean_majumdar",
]

#: Largest :math:`n` that :func:`positive_definite_fraction_exact` accepts
#: (:math:`P_{40} \approx 2.6 \times 10^{-198}`, still a normal float64).
MAX_EXACT_N = 40


# ---------------------------------------------------------------------------- sampling


def goe(key: Array, n: int, shape: tuple[int, ...] = (), dtype: Any = float) -> Float[Array, "*shape n n"]:
    r"""Random symmetric matrices from the Gaussian orthogonal ensemble.

    .. math::

        M = \tfrac12 (G + G^\top), \qquad G_{ij} \sim \mathcal N(0, 1)\ \text{iid},

    so :math:`M_{ii} \sim \mathcal N(0, 1)`, :math:`M_{ij} = M_{ji} \sim \mathcal N(0, 1/2)`
    for :math:`i \ne j`, all independent, and the density of :math:`M` is
    :math:`\propto e^{-\operatorname{tr} M^2 / 2}` (invariant under :math:`M \to O M O^\top`).
    The :math:`n(n+1)/2` independent entries are drawn directly, with those variances.

    Args:
        key: a ``jax.random`` key.
        n: matrix size, an integer >= 1.
        shape: batch shape.
        dtype: a float dtype (JAX's default float when ``float``).

    Returns:
        symmetric matrices of shape ``(*shape, n, n)``.

    Example:
        >>> m = goe(jax.random.key(0), 3, (2,))
        >>> m.shape, bool(jnp.all(m == jnp.swapaxes(m, -1, -2)))
        ((2, 3, 3), True)
    """
    n = _check_int(n, "n", 1)
    shape = tuple(shape)
    if not all(_is_int(s) and s >= 0 for s in shape):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    index, scale = _triangle(n)
    z = jax.random.normal(key, (*shape, n * (n + 1) // 2), dtype)
    return z[..., index] * jnp.asarray(scale, z.dtype).reshape((1,) * len(shape) + (n, n))


@functools.cache
def _triangle(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each entry of a symmetric matrix sits in its packed upper triangle, and the
    standard deviation of that entry (1 on the diagonal, 1/sqrt(2) off it).

    Drawing the n(n+1)/2 independent entries directly gives the law of (G + G^T)/2 at half
    the random numbers, and avoids a batched transpose, which is slow on a CPU.
    """
    rows, cols = np.triu_indices(n)
    index = np.zeros((n, n), dtype=np.int32)
    index[rows, cols] = np.arange(rows.size)
    index = np.maximum(index, index.T)
    scale = np.where(np.eye(n, dtype=bool), 1.0, math.sqrt(0.5))
    return index, scale


def _smallest_exceeds(m: Array, level: ArrayLike) -> Array:
    r"""Whether :math:`\lambda_{\min}(M) > a`, batched: :math:`M - a I` has a Cholesky factor.

    Equivalent to ``eigvalsh(m)[..., 0] > level`` and, batched on a CPU, 10 (4 x 4) to 40
    (8 x 8) times faster; a failed factorization comes back as NaNs.
    """
    n = m.shape[-1]
    diagonal = jnp.arange(n)
    shifted = m.at[..., diagonal, diagonal].add(-jnp.asarray(level, m.dtype))
    factor = jnp.linalg.cholesky(shifted)
    return jnp.all(jnp.isfinite(jnp.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)


def _smallest_eigenvalue(m: Array) -> Array:
    return jnp.linalg.eigvalsh(m)[..., 0]


# ------------------------------------------------------------------------- naive Monte Carlo


class FractionEstimate(NamedTuple):
    r"""A Monte Carlo fraction with its binomial standard error.

    Attributes:
        estimate: :math:`\hat P = k / N`.
        stderr: :math:`\sqrt{\hat P (1 - \hat P) / N}` (0 when :math:`k = 0`: with no hit
            the sample only bounds :math:`P \lesssim 3/N` at 95 %).
        n_samples: :math:`N`, the number of matrices drawn.
        hits: :math:`k`, how many were positive definite.
    """

    estimate: float
    stderr: float
    n_samples: int
    hits: int


@functools.partial(jax.jit, static_argnames=("n", "n_batches", "batch"))
def _count_positive_definite(key: Array, n: int, n_batches: int, batch: int, n_samples: int) -> Array:
    def count(args: tuple[Array, Array]) -> Array:
        k, b = args
        inside = b * batch + jnp.arange(batch) < n_samples
        return jnp.sum(inside & _smallest_exceeds(goe(k, n, (batch,)), 0.0))

    return jax.lax.map(count, (jax.random.split(key, n_batches), jnp.arange(n_batches)))


def positive_definite_fraction_mc(
    key: Array, n: int, n_samples: int, *, batch: int = 8192
) -> FractionEstimate:
    r"""Naive Monte Carlo estimate of :math:`P_n = \Pr(\lambda_{\min}(M) > 0)` for GOE :math:`M`.

    Draws ``n_samples`` matrices, ``batch`` at a time (a ``lax.map`` over batches, so memory
    stays at ``batch * n * n`` numbers), and counts the positive-definite ones (those with a
    Cholesky factor; about 5 million 3 x 3 or 2.4 million 5 x 5 matrices a second on two
    CPU cores). The relative error :math:`\sqrt{(1 - P_n)/(N P_n)}` makes this
    useless once :math:`P_n \ll 1/N`: about :math:`n \le 5` (:math:`P_5 \approx 1.4 \times
    10^{-4}`) at a few million samples.

    Args:
        key: a ``jax.random`` key.
        n: matrix size, an integer >= 1.
        n_samples: number of matrices :math:`N >= 1`.
        batch: matrices drawn at once.

    Returns:
        a :class:`FractionEstimate`.

    Example:
        >>> est = positive_definite_fraction_mc(jax.random.key(0), 2, 100_000)
        >>> abs(est.estimate - 0.1464) < 4 * est.stderr
        True
    """
    n = _check_int(n, "n", 1)
    n_samples = _check_int(n_samples, "n_samples", 1)
    batch = min(_check_int(batch, "batch", 1), n_samples)
    n_batches = -(-n_samples // batch)
    if n_samples >= 2**31:
        raise ValueError(f"n_samples must be below 2**31, got {n_samples}")
    hits = int(np.sum(np.asarray(_count_positive_definite(key, n, n_batches, batch, n_samples), np.int64)))
    p = hits / n_samples
    return FractionEstimate(p, math.sqrt(p * (1 - p) / n_samples), n_samples, hits)


# ------------------------------------------------------------------------------ exact P_n


def pfaffian(a: Any) -> Any:
    r"""Pfaffian of a skew-symmetric matrix, :math:`\operatorname{Pf}(A)^2 = \det A`.

    .. math::

        \operatorname{Pf}(A) = \frac{1}{2^m m!} \sum_{\sigma \in S_{2m}}
        \operatorname{sgn}(\sigma) \prod_{i=1}^{m} a_{\sigma(2i-1)\sigma(2i)},

    so that :math:`\operatorname{Pf}\begin{pmatrix} 0 & a \\ -a & 0\end{pmatrix} = a`;
    zero for odd sizes, 1 for the empty matrix. Computed by skew-symmetric Gaussian
    elimination with pivoting (Parlett–Reid, the :math:`LTL^\top` decomposition), in the
    arithmetic of the entries: Python floats give a float, ``mpmath`` numbers a
    multiple-precision result.

    Args:
        a: a square skew-symmetric matrix (a nested sequence, a NumPy array or an
            ``mpmath.matrix``) of size ``(2m, 2m)``; skew up to rounding (relative 1e-10),
            its strictly upper triangle is what counts.

    Returns:
        :math:`\operatorname{Pf}(A)`, a scalar of the entries' type.

    Example:
        >>> pfaffian([[0.0, 2.0], [-2.0, 0.0]])
        2.0
    """
    rows = [list(r) for r in (a.tolist() if hasattr(a, "tolist") else a)]
    size = len(rows)
    if any(len(r) != size for r in rows):
        raise ValueError(f"a Pfaffian needs a square matrix, got rows of lengths {[len(r) for r in rows]}")
    if size == 0:
        return 1
    largest = max(abs(x) for r in rows for x in r)
    if any(abs(rows[i][j] + rows[j][i]) > 1e-10 * largest for i in range(size) for j in range(i, size)):
        raise ValueError("a Pfaffian needs a skew-symmetric matrix (a[i][j] == -a[j][i], zero diagonal)")
    for i in range(size):  # use the strictly upper triangle, exactly skew
        rows[i][i] = rows[i][i] * 0
        for j in range(i + 1, size):
            rows[j][i] = -rows[i][j]
    value = rows[0][0] * 0 + 1  # 1 in the entries' arithmetic
    if size % 2:
        return value * 0
    for k in range(0, size - 1, 2):
        pivot = max(range(k + 1, size), key=lambda i: abs(rows[i][k]))
        if pivot != k + 1:  # swap rows and columns k + 1 and pivot: the sign flips
            rows[k + 1], rows[pivot] = rows[pivot], rows[k + 1]
            for r in rows:
                r[k + 1], r[pivot] = r[pivot], r[k + 1]
            value = -value
        head = rows[k][k + 1]
        if head == 0:
            return value * 0
        value = value * head
        tau = [rows[k][j] / head for j in range(k + 2, size)]
        col = [rows[i][k + 1] for i in range(k + 2, size)]
        for p, i in enumerate(range(k + 2, size)):
            for q, j in enumerate(range(k + 2, size)):
                rows[i][j] += tau[p] * col[q] - col[p] * tau[q]
    return value


def _de_bruijn_matrix(n: int, domain: str, ctx: Any) -> list[list[Any]]:
    r"""De Bruijn's skew matrix for :math:`w(x) = e^{-x^2/2}` and monomials :math:`x^i`.

    :math:`a_{ij} = \iint_{D^2} \operatorname{sign}(y - x)\, x^i y^j w(x) w(y)\,dx\,dy` in
    polar coordinates :math:`(x, y) = r(\cos\varphi, \sin\varphi)` factorizes into
    :math:`R_{i+j} = \int_0^\infty r^{i+j+1} e^{-r^2/2} dr = 2^{(i+j)/2}\Gamma(\tfrac{i+j}2+1)`
    and an angular integral of :math:`\cos^i\varphi \sin^j\varphi`, made of
    :math:`J(i, j) = \int_0^{\pi/4} \cos^i\varphi\sin^j\varphi\,d\varphi
    = \tfrac12 B_{1/2}(\tfrac{j+1}2, \tfrac{i+1}2)` (incomplete beta) and
    :math:`B = \int_0^{\pi/2} = \tfrac12 B(\tfrac{i+1}2, \tfrac{j+1}2)`:

    - :math:`D = (0, \infty)`: :math:`a_{ij} = R_{i+j}\,[J(j, i) - J(i, j)]`;
    - :math:`D = \mathbb R`: :math:`a_{ij} = R_{i+j}\,\{[1 - (-1)^{i+j}][J(j, i) - J(i, j)]
      + [(-1)^i - (-1)^j] B\}` (the four quadrants).

    For odd :math:`n` the matrix is bordered by :math:`a_{i,n} = \int_D x^i w(x)\,dx`.
    """
    half = ctx.mpf(1) / 2

    def incomplete(i: int, j: int) -> Any:
        return ctx.betainc(ctx.mpf(j + 1) / 2, ctx.mpf(i + 1) / 2, 0, half) / 2

    def radial(m: int) -> Any:
        return ctx.power(2, ctx.mpf(m) / 2) * ctx.gamma(ctx.mpf(m) / 2 + 1)

    def entry(i: int, j: int) -> Any:
        upper = incomplete(j, i) - incomplete(i, j)  # (pi/4, pi/2) minus (0, pi/4)
        if domain == "positive":
            return radial(i + j) * upper
        whole = ctx.beta(ctx.mpf(i + 1) / 2, ctx.mpf(j + 1) / 2) / 2
        return radial(i + j) * ((1 - (-1) ** (i + j)) * upper + ((-1) ** i - (-1) ** j) * whole)

    def moment(i: int) -> Any:  # \int_0^\infty x^i e^{-x^2/2} dx, doubled or zero on R
        positive = ctx.power(2, ctx.mpf(i - 1) / 2) * ctx.gamma(ctx.mpf(i + 1) / 2)
        return positive if domain == "positive" else (1 + (-1) ** i) * positive

    size = n + n % 2
    a = [[ctx.zero] * size for _ in range(size)]
    for i in range(n):
        for j in range(i + 1, n):
            a[i][j] = entry(i, j)
            a[j][i] = -a[i][j]
    if n % 2:
        for i in range(n):
            a[i][n] = moment(i)
            a[n][i] = -a[i][n]
    return a


def _log_mehta(n: int, ctx: Any) -> Any:
    r"""Mehta's integral :math:`\ln \int_{\mathbb R^n} \prod_{i<j}|x_j - x_i| \prod_i
    e^{-x_i^2/2} dx = \ln\big[(2\pi)^{n/2} \prod_{j=1}^n \Gamma(1 + j/2)/\Gamma(3/2)\big]`."""
    terms = (ctx.loggamma(1 + ctx.mpf(j) / 2) - ctx.loggamma(ctx.mpf(3) / 2) for j in range(1, n + 1))
    return n * ctx.log(2 * ctx.pi) / 2 + ctx.fsum(terms)


def _log_de_bruijn(n: int, domain: str, dps: int) -> Any:
    r""":math:`\ln Z_D = \ln\big[n!\,\operatorname{Pf}(A_D)\big]` at ``dps`` decimal digits."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx.log(ctx.factorial(n) * pfaffian(_de_bruijn_matrix(n, domain, ctx)))


def _dps(n: int) -> int:
    """Working digits: the Pfaffian of monomial moments loses about n digits to cancellation."""
    return 20 + 2 * n


@functools.cache
def _exact(n: int) -> float:
    ctx = mpmath.MPContext()
    ctx.dps = _dps(n)
    return float(ctx.exp(_log_de_bruijn(n, "positive", ctx.dps) - _log_mehta(n, ctx)))


def positive_definite_fraction_exact(n: int) -> float:
    r"""Exact :math:`P_n`, the probability that an :math:`n \times n` GOE matrix is positive definite.

    With the Vandermonde determinant :math:`\prod_{i<j}(x_j - x_i) = \det[x_j^{\,i}]`,
    de Bruijn's formula turns the eigenvalue integral over :math:`D^n` into a Pfaffian,

    .. math::

        Z_D = \int_{D^n} \prod_{i<j}|x_j - x_i| \prod_i w(x_i)\,dx
            = n!\,\operatorname{Pf}(A_D), \qquad
        a_{ij} = \iint_{D^2} \operatorname{sign}(y - x)\, x^i y^j w(x) w(y)\,dx\,dy,

    :math:`i, j = 0, \dots, n-1`, with :math:`w(x) = e^{-x^2/2}` (for odd :math:`n`, a
    bordering row and column :math:`a_{i,n} = \int_D x^i w(x)\,dx`). Then
    :math:`P_n = Z_{(0,\infty)} / Z_{\mathbb R}`, and :math:`Z_{\mathbb R}` is Mehta's
    integral :math:`(2\pi)^{n/2} \prod_{j=1}^{n} \Gamma(1 + j/2)/\Gamma(3/2)`.

    The entries over :math:`(0, \infty)^2` have a closed form (polar coordinates: a Gamma
    function times incomplete beta functions at 1/2: finite sums of rationals times powers
    of :math:`\sqrt2`, :math:`\sqrt\pi` and :math:`\pi`), so no quadrature is needed. The
    monomial basis makes :math:`A` badly conditioned — the Pfaffian loses about :math:`n`
    digits to cancellation — so everything is computed with ``mpmath`` at :math:`20 + 2n`
    digits and rounded to a float at the end. Results are cached; all :math:`n \le 8` take
    a few milliseconds in total, :math:`n = 40` a fifth of a second.

    Values: :math:`P_1 = 1/2`, :math:`P_2 = (2 - \sqrt2)/4 \approx 0.1464`,
    :math:`P_3 = (\pi - 2\sqrt2)/(4\pi) \approx 0.02492`, :math:`P_4 \approx 2.457 \times
    10^{-3}`, :math:`P_6 \approx 4.620 \times 10^{-6}`, :math:`P_8 \approx 9.695 \times
    10^{-10}`, :math:`P_{10} \approx 2.266 \times 10^{-14}`.

    Args:
        n: matrix size, an integer with ``1 <= n <= MAX_EXACT_N``.

    Returns:
        :math:`P_n` as a float.

    Example:
        >>> positive_definite_fraction_exact(2)
        0.146446609406726...
    """
    n = _check_int(n, "n", 1)
    if n > MAX_EXACT_N:
        raise ValueError(
            f"the exact routine covers n <= {MAX_EXACT_N} (P_n underflows soon after), got n = {n}"
        )
    return _exact(n)


def positive_definite_fraction_closed_form(n: int) -> float:
    r"""Closed forms of :math:`P_n` for :math:`n = 1, 2, 3`:
    :math:`\tfrac12`, :math:`\tfrac{2-\sqrt2}{4}`, :math:`\tfrac{\pi - 2\sqrt2}{4\pi}`."""
    n = _check_int(n, "n", 1)
    if n > 3:
        raise ValueError(f"closed forms are given for n = 1, 2, 3 only, got n = {n}; use the exact routine")
    return (0.5, (2 - math.sqrt(2)) / 4, (math.pi - 2 * math.sqrt(2)) / (4 * math.pi))[n - 1]


# ------------------------------------------------------------------------ subset simulation


class SplittingEstimate(NamedTuple):
    r"""Subset-simulation estimate of :math:`P_n` from independent replicas.

    Attributes:
        log_estimate: :math:`\ln \bar P_n`, the logarithm of the replicas' mean
            :math:`\bar P_n = \frac1R \sum_r \hat P_{n,r}`.
        log_stderr: its standard error, the relative standard error of :math:`\bar P_n`,
            :math:`\operatorname{sd}_r(\hat P_{n,r}) / (\sqrt R\, \bar P_n)`.
        estimate: :math:`\bar P_n = e^{\text{log\_estimate}}`.
        levels: the thresholds :math:`a_1 < a_2 < \dots < a_K = 0` of each replica, shape
            ``(R, max_levels)``, NaN after a replica's last level.
        replicas: :math:`\ln \hat P_n` of each replica, shape ``(R,)``.
        acceptance: mean acceptance rate of the moves conditioned on
            :math:`\lambda_{\min} >` ``levels[..., k]``, shape ``(R, max_levels)``; NaN
            at the last level (:math:`a_K = 0` needs no moves) and after it.
    """

    log_estimate: float
    log_stderr: float
    estimate: float
    levels: Array
    replicas: Array
    acceptance: Array


class _Subset(NamedTuple):
    key: Array
    matrices: Array  # (chains, n, n), GOE conditioned on lambda_min > threshold
    threshold: Array  # the current level a_k
    log_p: Array  # ln of the product of the fractions so far
    step: Array  # pCN step size s
    count: Array  # levels done
    levels: Array  # (max_levels,)
    acceptance: Array  # (max_levels,)


def _pcn_moves(
    key: Array, matrices: Array, level: Array, step: Array, n_moves: int, target: float
) -> tuple[Array, Array, Array]:
    r"""``n_moves`` preconditioned Crank–Nicolson moves of every chain, constrained to
    :math:`\lambda_{\min} > a`; the step adapts to the population's acceptance rate.

    At :math:`a = -\infty` and :math:`s = 1` a move is a fresh GOE draw, always accepted.
    """
    chains, n = matrices.shape[0], matrices.shape[-1]
    noise = goe(key, n, (n_moves, chains), matrices.dtype)

    def move(carry: tuple[Array, Array], z: Array) -> tuple[tuple[Array, Array], Array]:
        m, s = carry
        proposal = jnp.sqrt(1 - s**2) * m + s * z
        accept = (level == -jnp.inf) | _smallest_exceeds(proposal, level)
        m = jnp.where(accept[:, None, None], proposal, m)
        rate = jnp.mean(accept.astype(m.dtype))
        return (m, jnp.clip(s * jnp.exp(rate - target), 1e-3, 1.0)), rate

    (matrices, step), rates = jax.lax.scan(move, (matrices, step), noise)
    return matrices, step, jnp.mean(rates)


def _subset_simulation(
    key: Array, n: int, n_chains: int, n_survivors: int, n_moves: int, max_levels: int, target: float
) -> _Subset:
    """One replica, level by level until the threshold reaches 0 (or ``max_levels`` levels).

    A level: move the chains (conditioned on the current threshold), find the next
    threshold from their lambda_min, record the surviving fraction, let the survivors seed
    the next population. Level 0 has threshold -inf and step 1, so its moves draw the
    initial GOE population (one random-number site keeps compilation short).
    """
    dtype = jnp.zeros(()).dtype
    nan = jnp.full((max_levels,), jnp.nan, dtype)
    zero = jnp.zeros((), dtype)
    matrices = jnp.zeros((n_chains, n, n), dtype)
    state = _Subset(key, matrices, zero - jnp.inf, zero, zero + 1, jnp.asarray(0), nan, nan)

    def level(s: _Subset) -> _Subset:
        key, sub, shift = jax.random.split(s.key, 3)
        matrices, step, rate = _pcn_moves(sub, s.matrices, s.threshold, s.step, n_moves, target)
        step = jnp.where(s.count == 0, 0.5, step)  # after the unconstrained draw
        smallest = _smallest_eigenvalue(matrices)
        order = jnp.argsort(smallest)
        cut = n_chains - n_survivors  # keep the n_survivors largest lambda_min
        threshold = jnp.minimum((smallest[order[cut - 1]] + smallest[order[cut]]) / 2, 0.0)
        alive = jnp.sum(smallest > threshold)
        # each survivor seeds n_chains / n_survivors chains (systematic resampling); when
        # that is not whole, a random shift says which survivors seed one chain more
        copies = jnp.arange(n_chains)
        if n_chains % n_survivors:
            copies = copies + jax.random.randint(shift, (), 0, n_survivors)
        seeds = order[cut + copies % n_survivors]
        return _Subset(
            key,
            matrices[seeds],
            threshold,
            s.log_p + jnp.log(alive.astype(dtype) / n_chains),
            step,
            s.count + 1,
            s.levels.at[s.count].set(threshold),
            s.acceptance.at[jnp.maximum(s.count - 1, 0)].set(jnp.where(s.count == 0, jnp.nan, rate)),
        )

    return jax.lax.while_loop(lambda s: (s.threshold < 0) & (s.count < max_levels), level, state)


@functools.partial(jax.jit, static_argnames=("n", "n_chains", "n_survivors", "n_moves", "max_levels"))
def _replicas(
    keys: Array, n: int, n_chains: int, n_survivors: int, n_moves: int, max_levels: int, target: float
) -> _Subset:
    run = lambda k: _subset_simulation(k, n, n_chains, n_survivors, n_moves, max_levels, target)
    return jax.lax.map(run, keys)


def positive_definite_fraction_splitting(
    key: Array,
    n: int,
    *,
    n_chains: int = 1000,
    p0: float = 0.2,
    n_moves: int = 5,
    replicas: int = 16,
    max_levels: int = 100,
    target_acceptance: float = 0.3,
) -> SplittingEstimate:
    r"""Measure a small :math:`P_n` by subset simulation (multilevel splitting) on GOE matrices.

    The rare event :math:`\{\lambda_{\min}(M) > 0\}` is reached through nested events
    :math:`\{\lambda_{\min} > a_k\}`, :math:`-\infty = a_0 < a_1 < \dots < a_K = 0`:

    .. math::

        P_n = \prod_{k=0}^{K-1} \Pr(\lambda_{\min} > a_{k+1} \mid \lambda_{\min} > a_k).

    Start with ``n_chains`` GOE matrices. At each level, :math:`a_{k+1}` is the
    :math:`(1 - p_0)` quantile of :math:`\lambda_{\min}` over the chains, capped at 0, and
    the fraction of chains above it estimates the conditional probability (:math:`p_0`,
    except at the last level). The survivors seed the next population in equal shares
    (systematic resampling), which then moves by ``n_moves`` preconditioned Crank–Nicolson steps

    .. math::

        M' = \sqrt{1 - s^2}\, M + s Z, \qquad Z \sim \text{GOE},

    that leave the GOE measure invariant, so the Metropolis test reduces to the constraint:
    accept iff :math:`\lambda_{\min}(M') > a_{k+1}` (checked by a Cholesky factorization of
    :math:`M' - a_{k+1} I`). The step :math:`s` adapts after every move towards
    ``target_acceptance`` of the population. No eigenvalue density enters.

    ``replicas`` independent runs (one jit-compiled ``lax.map`` over keys; it compiles in
    half the time of a ``vmap`` and runs as fast) give :math:`\hat P_{n,r}`, averaged to
    :math:`\bar P_n`; ``log_stderr`` is the relative standard error of that mean. Each
    :math:`\hat P_{n,r}` is unbiased up to :math:`O(1/N)` from the adaptive levels:
    measured over 2000–4000 replicas, :math:`\ln\bar P_n` exceeds the exact value by
    :math:`0.002 \pm 0.002` at :math:`n = 3` and by about 0.01 at :math:`n = 5, \dots, 8`,
    a fifth of a standard error at 32 replicas. The mean of :math:`\ln\hat P_{n,r}` would
    not do: it is low by Jensen's :math:`\tfrac12\operatorname{Var}\ln\hat P_{n,r}`
    (measured :math:`0.055 \pm 0.011` at :math:`n = 8`), a bias that grows relative to
    the error bar as :math:`\sqrt{\text{replicas}}`.

    Measured with the defaults (``n_chains=1000, p0=0.2, n_moves=5, replicas=16``): the
    relative error ``log_stderr`` is about 0.03 at :math:`n = 4` and 0.08 at
    :math:`n = 8` (:math:`P_8 \approx 10^{-9}`, 13 levels); on two CPU cores
    :math:`n = 2, \dots, 8` take about 9 s together, compilation (about 0.7 s per
    :math:`n`) included, and :math:`n = 8` alone 1.6 s once compiled. The error falls as
    :math:`1/\sqrt{\text{replicas}}` at proportional cost. :math:`\hat P_{n,r}` is skewed,
    so an error bar from few replicas is rough: at :math:`n = 8`, 11 % of 16-replica runs
    missed the exact value by more than 2 standard errors (6 % with 32 replicas; 4.6 %
    for a normal variable). Use 32 or more replicas when the error bar is to be tested.

    Args:
        key: a ``jax.random`` key.
        n: matrix size, an integer >= 1.
        n_chains: chains per replica :math:`N`.
        p0: conditional probability aimed at per level, in :math:`(0, 1)`;
            :math:`p_0 N` chains survive each level.
        n_moves: constrained moves per level.
        replicas: independent replicas :math:`R >= 2`.
        max_levels: most levels a replica may take (each level reaches a factor of about
            :math:`p_0` further down in :math:`P`).
        target_acceptance: acceptance rate the step size adapts to, in :math:`(0, 1)`.

    Returns:
        a :class:`SplittingEstimate`.

    Example:
        >>> est = positive_definite_fraction_splitting(jax.random.key(0), 6)
        >>> abs(est.log_estimate - math.log(positive_definite_fraction_exact(6))) < 4 * est.log_stderr
        True
    """
    n = _check_int(n, "n", 1)
    n_chains = _check_int(n_chains, "n_chains", 2)
    n_moves = _check_int(n_moves, "n_moves", 1)
    replicas = _check_int(replicas, "replicas", 2)
    max_levels = _check_int(max_levels, "max_levels", 1)
    for name, value in (("p0", p0), ("target_acceptance", target_acceptance)):
        if not (isinstance(value, numbers.Real) and 0 < value < 1):
            raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    n_survivors = round(p0 * n_chains)
    if not 1 <= n_survivors <= n_chains - 1:
        raise ValueError(f"p0 * n_chains must round to between 1 and n_chains - 1, got {p0} * {n_chains}")
    state = _replicas(
        jax.random.split(key, replicas), n, n_chains, n_survivors, n_moves, max_levels, target_acceptance
    )
    if not bool(jnp.all(state.threshold == 0)):
        raise RuntimeError(
            f"a replica did not reach lambda_min > 0 within max_levels = {max_levels} levels; "
            "raise max_levels or p0"
        )
    log_p = np.asarray(state.log_p, dtype=float)
    scaled = np.exp(log_p - log_p.max())  # P_r / max_r P_r, no underflow at any n
    log_mean = float(np.log(scaled.mean()) + log_p.max())
    stderr = float(scaled.std(ddof=1) / (math.sqrt(replicas) * scaled.mean()))
    return SplittingEstimate(
        log_mean, stderr, math.exp(log_mean), state.levels, state.log_p, state.acceptance
    )


# ---------------------------------------------------------------------------------- theta


class ThetaFit(NamedTuple):
    r"""Least-squares fit of :math:`\ln P_n = -\theta n^2 + b n + c`.

    Attributes:
        theta: :math:`\theta`.
        b: the linear coefficient.
        c: the constant.
        theta_stderr: the standard error of :math:`\theta` from the fit's covariance.
    """

    theta: float
    b: float
    c: float
    theta_stderr: float


def fit_theta(
    ns: Sequence[int] | ArrayLike, log_p: ArrayLike, log_stderr: ArrayLike | None = None
) -> ThetaFit:
    r"""Fit :math:`\ln P_n = -\theta n^2 + b n + c` by least squares (``numpy.polyfit``).

    The linear and constant terms matter at the sizes one can measure: the large-deviation
    law is :math:`\ln P_n = -\theta n^2 + O(n)`. Over the exact :math:`P_3, \dots, P_8`
    this fit gives :math:`\theta = 0.2740`, 0.2 % below :math:`\ln 3 / 4 = 0.2747`, while

    - a pure :math:`P_n \propto e^{-\theta n^2}` (fitting :math:`-\theta n^2 + c`) gives
      0.310 (+13 %): the missing linear term is absorbed into :math:`\theta`;
    - the raw ratio :math:`\ln(P_n / P_{n+1}) / (2n + 1)`, which tends to :math:`\theta`
      only as :math:`n \to \infty` (its correction is :math:`-b/(2n+1)`), gives 0.331 at
      :math:`n = 3` and still 0.301 (+9 %) at :math:`n = 7`.

    Args:
        ns: the sizes :math:`n`, at least 3 distinct (4 without ``log_stderr``).
        log_p: :math:`\ln P_n` at those sizes.
        log_stderr: standard errors of ``log_p`` (e.g. from
            :func:`positive_definite_fraction_splitting`). If given, the fit is weighted by
            :math:`1/\sigma_n^2` and the covariance is taken from these errors; if not, all
            points weigh the same and the covariance is scaled by the residuals — which, for
            exact values, measure how well the three-term law fits, not noise.

    Returns:
        a :class:`ThetaFit`.
    """
    x = np.asarray(ns, dtype=float)
    y = np.asarray(log_p, dtype=float)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"ns and log_p must be 1-D of the same length, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("ns and log_p must be finite")
    least = 3 if log_stderr is not None else 4
    if np.unique(x).size < least:
        raise ValueError(
            f"the fit has 3 parameters and needs at least {least} distinct n, got {np.unique(x)}"
        )
    if log_stderr is None:
        coef, cov = np.polyfit(x, y, 2, cov=True)
    else:
        sigma = np.asarray(log_stderr, dtype=float)
        if sigma.shape != x.shape or not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError(f"log_stderr must be positive and finite with shape {x.shape}, got {sigma}")
        coef, cov = np.polyfit(x, y, 2, w=1 / sigma, cov="unscaled")
    return ThetaFit(float(-coef[0]), float(coef[1]), float(coef[2]), float(math.sqrt(cov[0, 0])))


def theta_dean_majumdar() -> float:
    r"""The large-deviation rate :math:`\theta = \ln 3 / 4 \approx 0.2747` of
    :math:`P_n \sim e^{-\theta n^2}` for the GOE (Dean & Majumdar 2006)."""
    return math.log(3) / 4


def source_claim(n: int | ArrayLike) -> float | np.ndarray:
    r"""The source text's claim :math:`2^{1-n}` for the probability that all :math:`n`
    eigenvalues *share a sign* — as if each sign were an independent coin flip.

    Compare it with :math:`2 P_n` (all positive or all negative), not with :math:`P_n`; for
    :math:`n = 1` both are 1, by :math:`n = 8` the truth :math:`2P_8 \approx 1.9 \times
    10^{-9}` is :math:`10^{-7}` times the claim.

    Args:
        n: a size >= 1, or an array of them.

    Returns:
        :math:`2^{1-n}`, a float (or an array of floats).
    """
    sizes = np.asarray(n)
    if not (np.issubdtype(sizes.dtype, np.integer) and np.all(sizes >= 1)):
        raise ValueError(f"n must be an integer >= 1 (or an array of them), got {n!r}")
    claim = np.power(2.0, 1 - sizes)
    return float(claim) if claim.ndim == 0 else claim
