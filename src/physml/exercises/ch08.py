r"""Exercises of "Neural quantum states" (``exercises/08_neural_quantum_states.ipynb``).

Every value a checker compares to comes from :mod:`physml.nqs`: local energies from
:func:`~physml.nqs.vmc.local_energy`, Rayleigh quotients from :func:`~physml.nqs.exact.energy_of`,
ground states from :func:`~physml.nqs.exact.ground_state`, the critical energy density
:data:`~physml.nqs.exact.TFIM_CRITICAL_ENERGY_DENSITY`, VMC runs from :func:`~physml.nqs.vmc.vmc`
with :func:`~physml.nqs.sr.sr`, and energy gradients from :func:`~physml.nqs.vmc.exact_estimate`.
``tests/test_exercises_ch08.py`` checks each reference against an independent computation:
Hamiltonians built from Kronecker products of Pauli matrices, local energies as
:math:`(H\psi)(s)/\psi(s)`, the free-fermion integral, SR written out on dense matrices, spin-rotation
symmetry and finite differences. Parameters, configurations and states are drawn from fixed
``jax.random`` keys (:func:`standard_normal`); everything is computed in float64 whatever JAX's
default precision.

Conventions (those of :mod:`physml.nqs.operators`): :math:`H_\text{TFIM} = -J\sum_i
\sigma^z_i\sigma^z_{i+1} - h\sum_i\sigma^x_i` on a periodic chain, :math:`H_\text{Heis} =
J\sum_i \mathbf S_i\cdot\mathbf S_{i+1}` with :math:`\mathbf S = \boldsymbol\sigma/2`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, ArrayLike, Float
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from .._checks import is_real
from ..nqs import ansatz, exact, lattice, operators, sr, vmc
from ..plotting import Scene, figure, with_scene
from ._core import (
    FLOAT32_ADVICE,
    Wrong,
    as_array,
    as_float,
    as_number,
    call_quietly,
    close,
    exercise,
    nonfinite,
    show,
    tolerance,
)

NOTEBOOK = "08_neural_quantum_states"

#: Relative tolerance of the diagnoses: wide enough for answers computed in float32.
_LOOSE = 1e-4


def _spins(s: np.ndarray) -> str:
    """A configuration as a string of signs, e.g. ``++−+``."""
    return "".join("+" if x > 0 else "−" for x in np.asarray(s).ravel())


def _tfim_chain(n: int, J: float, h: float) -> operators.LocalHamiltonian:
    return operators.tfim(lattice.chain(n), J=J, h=h)


#: Length of every random draw of this module: one compiled function serves them all.
_DRAW = 4096


@functools.lru_cache(maxsize=64)
def _draw(seed: int) -> np.ndarray:
    with jax.enable_x64(True):
        values = np.asarray(jax.random.normal(jax.random.key(seed), (_DRAW,), jnp.float64))
    values.setflags(write=False)
    return values


def standard_normal(seed: int, size: int) -> np.ndarray:
    """The first ``size`` of 4096 standard normal numbers drawn from ``jax.random.key(seed)``, float64."""
    if not (0 < size <= _DRAW):
        raise ValueError(f"size must be between 1 and {_DRAW}, got {size!r}")
    return _draw(seed)[:size].copy()


def random_params(wavefunction: ansatz.Ansatz, seed: int, scale: float) -> Any:
    """Parameters of ``wavefunction`` (float64 JAX arrays) with independent normal entries of standard
    deviation ``scale``, as its ``init`` draws them, in the order of its pytree's leaves, from
    :func:`standard_normal` — one compiled draw for every ansatz."""
    with jax.enable_x64(True):
        template = jax.eval_shape(functools.partial(wavefunction.init, dtype=jnp.float64), jax.random.key(0))
    leaves, treedef = jax.tree.flatten(template)
    sizes = [math.prod(leaf.shape) for leaf in leaves]
    values = scale * standard_normal(seed, sum(sizes))
    chunks = np.split(values, np.cumsum(sizes)[:-1])
    with jax.enable_x64(True):
        arrays = [jnp.asarray(c.reshape(leaf.shape)) for c, leaf in zip(chunks, leaves, strict=True)]
    return jax.tree.unflatten(treedef, arrays)


def _log_cosh(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, -x) - math.log(2.0)


# ------------------------------------------------------------------------ exercise 8.1

#: The ansätze of exercise 8.1: ``(label, kind, N, alpha, scale, seed, J, h, configurations, spin seed)``.
#: ``kind`` is ``"rbm"`` or ``"mean_field"`` (with ``scale = 0``: :math:`\psi` constant). The first
#: configuration of the first case has a nonzero bond sum, so that every diagnosis is told apart there.
SPECS_8_1: tuple[tuple[str, str, int, int, float, int, float, float, int, int], ...] = (
    ("a random RBM (α = 1) on 8 sites", "rbm", 8, 1, 0.25, 811, 1.0, 0.8, 3, 1821),
    ("a mean-field state on 8 sites", "mean_field", 8, 1, 0.5, 812, 0.7, 1.3, 2, 1812),
    ("ψ = constant on 8 sites", "mean_field", 8, 1, 0.0, 813, 1.0, 0.5, 2, 1813),
    ("a random RBM (α = 2) on 5 sites", "rbm", 5, 2, 0.25, 814, -0.6, 0.9, 2, 1814),
)


class Case81(NamedTuple):
    """One ansatz of exercise 8.1 on a periodic chain, float64.

    Attributes:
        label: a few words for messages.
        n: number of sites :math:`N`.
        J: the coupling.
        h: the transverse field.
        wavefunction: the :class:`~physml.nqs.ansatz.Ansatz`.
        params: its parameters (JAX float64 arrays).
        log_psi: ``log_psi(s)``, the real log amplitude of one configuration of shape ``(N,)`` as a float
            (or of a stack ``(k, N)``, as ``k`` values) — what the learner's function receives
            (:func:`numpy_log_psi`).
        configurations: the configurations checked, shape ``(k, N)``.
    """

    label: str
    n: int
    J: float
    h: float
    wavefunction: ansatz.Ansatz
    params: Any
    log_psi: Callable[[Any], Any]
    configurations: np.ndarray


def numpy_log_psi(kind: str, params: Any) -> Callable[[Any], Any]:
    r"""The log amplitude of an RBM (``kind="rbm"``, :math:`\sum_i a_is_i + \sum_j\ln\cosh(b_j +
    \sum_i W_{ji}s_i)`) or a mean-field state (``"mean_field"``, :math:`\sum_i a_is_i`) with the parameters
    of :mod:`physml.nqs.ansatz`, written in NumPy: fast to call on one configuration, float64."""
    a = np.asarray(params["a"], dtype=np.float64)
    if kind == "rbm":
        b, W = np.asarray(params["b"], dtype=np.float64), np.asarray(params["W"], dtype=np.float64)

        def log_psi(s: Any) -> Any:
            s = np.asarray(s, dtype=np.float64)
            value = s @ a + np.sum(_log_cosh(s @ W.T + b), axis=-1)
            return float(value) if value.ndim == 0 else value

    elif kind == "mean_field":

        def log_psi(s: Any) -> Any:
            value = np.asarray(s, dtype=np.float64) @ a
            return float(value) if value.ndim == 0 else value

    else:
        raise ValueError(f"kind must be 'rbm' or 'mean_field', got {kind!r}")
    return log_psi


@functools.cache
def cases_8_1() -> tuple[Case81, ...]:
    """The ansätze and configurations of exercise 8.1 (:data:`SPECS_8_1`); the spins are the signs of
    :func:`standard_normal` numbers."""
    cases = []
    for label, kind, n, alpha, scale, seed, J, h, count, spin_seed in SPECS_8_1:
        wavefunction = ansatz.rbm(n, alpha) if kind == "rbm" else ansatz.mean_field(n)
        params = random_params(wavefunction, seed, scale)
        spins = np.where(standard_normal(spin_seed, count * n) > 0, 1.0, -1.0).reshape(count, n)
        if scale == 0:
            spins[0] = 1.0  # the all-up configuration: E_loc = -J N - h N
        log_psi = numpy_log_psi(kind, params)
        cases.append(Case81(label, n, J, h, wavefunction, params, log_psi, spins))
    return tuple(cases)


def local_energy_reference(case: Case81) -> np.ndarray:
    r"""The local energies :math:`E_\text{loc}(s) = \sum_{s'} H_{ss'}\psi(s')/\psi(s)` of the case's
    configurations, shape ``(k,)``: :func:`~physml.nqs.vmc.local_energy` of the periodic TFIM chain."""
    ham = _tfim_chain(case.n, case.J, case.h)
    with jax.enable_x64(True):
        return np.asarray(vmc.local_energy(ham, case.wavefunction.log_psi, case.params, case.configurations))


class Parts81(NamedTuple):
    r"""The pieces of :math:`E_\text{loc}(s)` a learner combines: the bond sums of the periodic and the
    open chain, and the log ratios :math:`\ln\psi(s^{(i)}) - \ln\psi(s)` (shape ``(N,)``), float64."""

    zz: float
    zz_open: float
    log_ratio: np.ndarray


def parts_8_1(case: Case81, s: np.ndarray) -> Parts81:
    """:class:`Parts81` of configuration ``s``, shape ``(N,)``."""
    flipped = s[None, :] * (1.0 - 2.0 * np.eye(case.n))  # row i: spin i reversed
    log_ratio = case.log_psi(flipped) - case.log_psi(s)
    zz = float(np.sum(s * np.roll(s, -1)))
    return Parts81(zz, float(np.sum(s[:-1] * s[1:])), np.asarray(log_ratio))


def _variants_8_1(case: Case81, s: np.ndarray) -> list[tuple[float, str]]:
    """Local energies from natural mistakes on configuration ``s``, and the diagnosis of each."""
    J, h, n = case.J, case.h, case.n
    p = parts_8_1(case, s)
    ratio = np.exp(p.log_ratio)
    bonds, field = -J * p.zz, -h * float(np.sum(ratio))
    with np.errstate(all="ignore"):
        log_s = case.log_psi(s)
        divided = -h * float(np.sum(case.log_psi(s[None, :] * (1 - 2 * np.eye(n))) / log_s))
    return [
        (bonds - field, "the field term has the wrong sign: H has −h Σᵢ σˣᵢ, so it adds −h Σᵢ ψ(s⁽ⁱ⁾)/ψ(s)."),
        (-bonds + field, "the bond term has the wrong sign: H has −J Σᵢ σᶻᵢσᶻᵢ₊₁, so it adds −J Σᵢ sᵢsᵢ₊₁."),
        (-bonds - field, "both signs are reversed: H = −J Σᵢ σᶻᵢσᶻᵢ₊₁ − h Σᵢ σˣᵢ, with two minus signs."),
        (bonds, "the field term −h Σᵢ ψ(s⁽ⁱ⁾)/ψ(s), one term per flipped spin, is missing."),
        (field, "the bond term −J Σᵢ sᵢsᵢ₊₁, the diagonal element H_ss, is missing."),
        (
            bonds - h * float(np.sum(1 / ratio)),
            "the ratio is inverted: the field term is −h Σᵢ ψ(s⁽ⁱ⁾)/ψ(s), the flipped configuration on "
            "top — exp(log_psi(s_flipped) − log_psi(s)).",
        ),
        (
            bonds - h * float(np.sum(p.log_ratio)),
            "the field term uses the difference of the log amplitudes as the ratio: ψ(s')/ψ(s) = "
            "exp(log_psi(s') − log_psi(s)).",
        ),
        (
            bonds - h * float(np.sum(ratio**2)),
            "the ratio is squared: ψ(s')²/ψ(s)² is the Metropolis acceptance ratio; the local energy "
            "has ψ(s')/ψ(s) once.",
        ),
        (
            bonds + divided,
            "the field term divides the log amplitudes, log_psi(s')/log_psi(s); log_psi returns ln ψ, so "
            "the ratio of amplitudes is exp(log_psi(s') − log_psi(s)).",
        ),
        (
            -J * p.zz_open + field,
            f"the bond between site {n - 1} and site 0 is missing: the chain is periodic, s_N = s_0 — "
            "use np.roll(s, -1).",
        ),
        (
            2 * bonds + field,
            "the bond term is twice too large: each bond (i, i+1) counts once, Σᵢ sᵢsᵢ₊₁ has N terms.",
        ),
        (
            -h * p.zz - J * float(np.sum(ratio)),
            "J and h are swapped: the arguments come in the order local_energy(log_psi, s, J, h).",
        ),
        (
            (bonds + field) / n,
            "that is the local energy per site; the check wants the whole local energy (no division by N).",
        ),
    ]


def _local_energy_value(raw: Any, where: str, n: int) -> tuple[float, float]:
    """The learner's local energy as a float, and the tolerance their precision allows."""
    kind = nonfinite(raw)
    if kind == "nan":
        raise Wrong(
            f"{where} your function returned NaN — dividing log amplitudes (0/0 for a constant ψ), or "
            "0·∞ from an overflow?"
        )
    if kind is not None:
        raise Wrong(f"{where} your function returned {kind.lstrip('+')} — exp of a huge number?")
    shape = tuple(getattr(raw, "shape", ())) if hasattr(raw, "shape") else None
    if shape is None and isinstance(raw, (list, tuple)):
        shape = (len(raw),)
    if shape in ((n,), (n + 1,)):
        raise Wrong(
            f"{where} your function returned {shape[0]} numbers, one per term; the local energy of a "
            "configuration is one number, their sum."
        )
    return as_number(raw, what=f"the value returned {where}"), tolerance(raw)


@exercise(
    "8.1",
    title="The local energy of the transverse-field Ising chain",
    answer="local_energy",
    notebook=NOTEBOOK,
    hints=(
        "E_loc(s) = Σ_s' H_ss' ψ(s')/ψ(s). In the σᶻ basis the TFIM has one diagonal element, "
        "H_ss = −J Σᵢ sᵢsᵢ₊₁ (periodic: site N−1 bonds to site 0), and N off-diagonal ones, −h for each "
        "configuration s⁽ⁱ⁾ with one spin flipped.",
        "log_psi returns ln ψ, so ψ(s⁽ⁱ⁾)/ψ(s) = exp(log_psi(s⁽ⁱ⁾) − log_psi(s)). Build s⁽ⁱ⁾ with "
        "flipped = s.copy(); flipped[i] = -s[i].",
        "diagonal = -J * np.sum(s * np.roll(s, -1)); field = -h * sum(np.exp(log_psi(f) - log_psi(s)) for "
        "each flipped configuration f); return diagonal + field",
    ),
)
def check_local_energy(answer: Any) -> str | None:
    r"""``answer(log_psi, s, J, h)`` returns :func:`local_energy_reference` for every configuration of
    every case of :func:`cases_8_1`."""
    for case in cases_8_1():
        expected = local_energy_reference(case)
        for index, s in enumerate(case.configurations):
            where = f"for {case.label}, J = {case.J:g}, h = {case.h:g} and s = {_spins(s)}"
            raw = call_quietly(
                answer, case.log_psi, s.copy(), case.J, case.h, what=f"{where}: your local_energy"
            )
            got, rtol = _local_energy_value(raw, where, case.n)
            ref = float(expected[index])
            p = parts_8_1(case, s)
            scale = abs(case.J) * case.n + abs(case.h) * float(np.sum(np.exp(p.log_ratio)))
            if close(got, ref, rtol, rtol * scale):
                continue
            said = f"{where} you return {got:.6g}"
            for value, text in _variants_8_1(case, s):
                if not math.isfinite(value) or close(value, ref, _LOOSE, _LOOSE * scale):
                    continue  # indistinguishable from the right answer here
                if close(got, value, _LOOSE, _LOOSE * scale):
                    raise Wrong(f"{said}: {text}")
            if close(got, ref, _LOOSE, _LOOSE * scale):
                raise Wrong(
                    f"{said}, which agrees with E_loc = {ref:.6g} only to float32 digits. {FLOAT32_ADVICE}"
                )
            bonds, field = -case.J * p.zz, ref + case.J * p.zz
            raise Wrong(
                f"{said}; E_loc = {ref:.6g}, the bonds −J Σ sᵢsᵢ₊₁ = {bonds:.6g} plus the field term "
                f"−h Σ ψ(s⁽ⁱ⁾)/ψ(s) = {field:.6g}."
            )
    return (
        "E_loc(s) = −J Σᵢ sᵢsᵢ₊₁ − h Σᵢ ψ(s⁽ⁱ⁾)/ψ(s): N + 1 evaluations of ψ, not a sum over all 2^N "
        "configurations, and the unknown normalization of ψ cancels in every ratio. Its average over "
        "|ψ|² is the variational energy — the next cell computes it with your function."
    )


# ------------------------------------------------------------------------ exercise 8.2

#: The Hamiltonians of exercise 8.2: the periodic TFIM chain of 8 spins at :math:`h = J = 1` as a
#: ``scipy.sparse`` matrix, and the un-rotated Heisenberg chain of 6 spins as a dense NumPy array.
TFIM_8_2 = (8, 1.0, 1.0)
HEISENBERG_8_2 = 6
#: Seed of the random states of exercise 8.2 (the Heisenberg chain's add 100).
SEED_8_2 = 820


class Case82(NamedTuple):
    """One state of exercise 8.2.

    Attributes:
        label: a few words for messages.
        matrix: :math:`H`, a ``scipy.sparse.csr_matrix`` or a dense ``np.ndarray``, float64.
        psi: the state, real or complex, not normalized, shape ``(dim,)``.
        hamiltonian: the :class:`~physml.nqs.operators.LocalHamiltonian` of ``matrix``.
        e0: the ground-state energy of ``matrix``.
    """

    label: str
    matrix: Any
    psi: np.ndarray
    hamiltonian: operators.LocalHamiltonian
    e0: float


@functools.cache
def cases_8_2() -> tuple[Case82, ...]:
    """The states of exercise 8.2, for each Hamiltonian: random real, complex and positive states (from
    :func:`standard_normal`), a basis state and a multiple of the ground state
    (:func:`~physml.nqs.exact.dense_ground_state`) — 28 in all."""
    tfim = _tfim_chain(*TFIM_8_2)
    heis = operators.heisenberg(lattice.chain(HEISENBERG_8_2), marshall=False)
    systems = (
        (tfim, operators.sparse_matrix(tfim), "H a scipy.sparse matrix", (-2.5, "−2.5"), "all-up", 8, 6),
        (
            heis,
            operators.sparse_matrix(heis).toarray(),
            "H a dense NumPy array",
            (3j, "3i"),
            "all-down",
            4,
            4,
        ),
    )
    cases = []
    for index, (ham, matrix, kind, (factor, factor_text), basis, n_real, n_complex) in enumerate(systems):
        ground, dim, seed = exact.dense_ground_state(ham), matrix.shape[0], SEED_8_2 + 100 * index
        model = "TFIM" if ham.kind == "tfim" else "Heisenberg"
        name = f"the {model} chain of {ham.n_sites} spins ({kind})"
        states = [("a random real state", standard_normal(seed, dim))]
        states.append((f"the ground state times {factor_text}", factor * ground.vector))
        states.append((f"the {basis} basis state", np.eye(dim)[0 if basis == "all-up" else -1]))
        states += [(f"random real state {i + 1}", standard_normal(seed + i, dim)) for i in range(1, n_real)]
        for i in range(n_complex):
            z = standard_normal(seed + 50 + i, 2 * dim)
            states.append((f"random complex state {i + 1}", z[:dim] + 1j * z[dim:]))
        states.append(("a random positive state", np.abs(standard_normal(seed + 99, dim))))
        cases += [Case82(f"{label} of {name}", matrix, psi, ham, ground.energy) for label, psi in states]
    return tuple(cases)


def rayleigh_reference(case: Case82) -> float:
    r""":math:`\langle\psi|H|\psi\rangle/\langle\psi|\psi\rangle`: :func:`~physml.nqs.exact.energy_of`."""
    return exact.energy_of(case.hamiltonian, case.psi)


def _variants_8_2(case: Case82) -> list[tuple[float, str]]:
    H, psi = case.matrix, case.psi
    h_psi = np.asarray(H @ psi).ravel()
    num, den = np.vdot(psi, h_psi), float(np.vdot(psi, psi).real)
    bare, bare_den = psi @ h_psi, psi @ psi
    diagonal = H.diagonal() if scipy.sparse.issparse(H) else np.diag(H)
    a = np.abs(psi)
    return [
        (num.real, f"that is ⟨ψ|H|ψ⟩ alone; ψ is not normalized (⟨ψ|ψ⟩ = {den:.4g}): divide by ⟨ψ|ψ⟩."),
        (num.real / math.sqrt(den), "divided by ‖ψ‖; the quotient divides by ‖ψ‖² = ⟨ψ|ψ⟩."),
        (num.real / den**2, "divided by ⟨ψ|ψ⟩ twice (or normalized ψ and then divided again)."),
        (
            (bare / bare_den).real,
            "the bra is not conjugated: for a complex ψ, ⟨ψ| = ψ* — np.vdot(psi, H @ psi) conjugates its "
            "first argument, psi @ H @ psi does not.",
        ),
        (
            bare.real / den,
            "the bra of ⟨ψ|H|ψ⟩ is not conjugated: np.vdot(psi, H @ psi) conjugates its first argument, "
            "psi @ H @ psi does not.",
        ),
        (
            float(a @ np.asarray(H @ a).ravel()) / den,
            "that is the quotient of |ψ|, the magnitudes without their signs or phases; the signs of the "
            "amplitudes matter.",
        ),
        (
            float(np.sum(np.abs(psi) ** 2 * diagonal)) / den,
            "that is Σ|ψ(s)|² H_ss / ⟨ψ|ψ⟩, the diagonal of H only; the off-diagonal elements (the field, "
            "the exchange) contribute too: use H @ psi.",
        ),
        (
            case.e0,
            f"that is E₀ = {case.e0:.6g}, the ground-state energy, whatever ψ; the quotient depends on ψ.",
        ),
    ]


def _quotient_value(raw: Any, case: Case82, where: str) -> tuple[float, float]:
    """The learner's quotient as a float (a complex one with a rounding-size imaginary part is
    accepted), and the tolerance their precision allows."""
    try:
        is_complex = not isinstance(raw, (str, bytes)) and np.iscomplexobj(raw) and np.size(raw) == 1
        z = complex(np.asarray(raw).reshape(())) if is_complex else None
    except Exception:
        z = None
    if z is not None and math.isfinite(z.real) and math.isfinite(z.imag):
        scale = abs(case.e0) + abs(z.real)
        if abs(z.imag) > 1e-6 * scale:
            h_psi = np.asarray(case.matrix @ case.psi).ravel()
            if abs(z - (case.psi @ h_psi) / (case.psi @ case.psi)) <= 1e-6 * scale:
                raise Wrong(
                    f"{where}: your value is complex, {z:.4g}: the bra is not conjugated. ⟨ψ| = ψ*; "
                    "np.vdot(psi, H @ psi) conjugates its first argument, psi @ H @ psi does not."
                )
            raise Wrong(
                f"{where}: your value is complex, {z:.4g}; ⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ is real for a Hermitian H when the "
                "bra is conjugated (np.vdot). Return its real part."
            )
        return z.real, tolerance(raw)
    if nonfinite(raw) is not None:
        raise Wrong(f"{where}: your function returned {nonfinite(raw).lstrip('+')}.")
    dim = case.psi.size
    if tuple(getattr(raw, "shape", ())) == (dim,):
        raise Wrong(
            f"{where}: your function returned a vector of {dim} entries — H ψ? The quotient is one number."
        )
    return as_number(raw, what=f"the value returned {where}"), tolerance(raw)


@exercise(
    "8.2",
    title="The Rayleigh quotient and the variational principle",
    answer="rayleigh_quotient",
    notebook=NOTEBOOK,
    hints=(
        "E[ψ] = ⟨ψ|H|ψ⟩ / ⟨ψ|ψ⟩. ψ is not normalized, and it may be complex: the bra ⟨ψ| is the "
        "conjugate ψ*.",
        "H @ psi works for a scipy.sparse matrix and a NumPy array alike; np.vdot(a, b) = Σ conj(a)·b "
        "conjugates its first argument.",
        "return np.vdot(psi, H @ psi).real / np.vdot(psi, psi).real",
    ),
)
def check_rayleigh_quotient(answer: Any) -> str | None:
    r"""``answer(H, psi)`` returns :func:`rayleigh_reference` on every state of :func:`cases_8_2`."""
    lowest: dict[str, float] = {}
    for case in cases_8_2():
        where = f"for {case.label}"
        matrix = case.matrix.copy()
        raw = call_quietly(answer, matrix, case.psi.copy(), what=f"{where}: your rayleigh_quotient")
        got, rtol = _quotient_value(raw, case, where)
        ref = rayleigh_reference(case)
        scale = abs(case.e0)
        if close(got, ref, rtol, rtol * scale):
            if "random" in case.label:
                lowest[case.hamiltonian.kind] = min(lowest.get(case.hamiltonian.kind, math.inf), got)
            continue
        said = f"{where}: you return {got:.6g}"
        for value, text in _variants_8_2(case):
            if close(value, ref, _LOOSE, _LOOSE * scale):
                continue
            if close(got, value, _LOOSE, _LOOSE * scale):
                raise Wrong(f"{said}: {text}")
        if close(got, ref, _LOOSE, _LOOSE * scale):
            raise Wrong(f"{said}, which agrees with {ref:.6g} only to float32 digits. {FLOAT32_ADVICE}")
        if got < case.e0 - _LOOSE * scale:
            raise Wrong(
                f"{said}, below the ground-state energy E₀ = {case.e0:.6g}: no quotient can be (the "
                f"variational principle). The right value is {ref:.6g}."
            )
        raise Wrong(f"{said}; ⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ = {ref:.6g}.")
    tfim = cases_8_2()[0]
    return (
        f"Every quotient is ≥ E₀, and equals it for the ground state times any number. The best of the "
        f"random states of the TFIM chain reached only {lowest['tfim']:.3f}, against E₀ = {tfim.e0:.3f}: "
        "random states sit near Tr H/2^N = 0, and the ground state is exponentially rare among them — a "
        "variational search needs a good ansatz, not luck."
    )


# ------------------------------------------------------------------------ exercise 8.3

#: Accepted relative distance from :math:`-4/\pi`.
RTOL_8_3 = 1e-4


def critical_energy_reference() -> float:
    r"""The ground-state energy per site of the infinite TFIM chain at :math:`h = J = 1`, :math:`-4/\pi`:
    :data:`~physml.nqs.exact.TFIM_CRITICAL_ENERGY_DENSITY`."""
    return exact.TFIM_CRITICAL_ENERGY_DENSITY


def _variants_8_3() -> list[tuple[float, str]]:
    ref = critical_energy_reference()
    return [
        (-ref, "the sign is wrong: the ground-state energy of H = −J Σ σᶻσᶻ − h Σ σˣ is negative."),
        (
            ref / 2,
            "that is half the answer: a factor 2 is lost — ε_k = 2√(J² + h² − 2Jh cos k) carries a 2, "
            "and the chain has as many bonds as sites (E₀/N, not E₀/2N).",
        ),
        (2 * ref, "that is twice the answer: the ground-state energy is −½ Σ_k ε_k, with its ½."),
        (
            exact.tfim_chain_energy_density(0.25, 0.5),
            "that is the energy with spin operators S = σ/2 in place of the Pauli matrices; the book's H "
            "uses σ, whose eigenvalues are ±1.",
        ),
        (
            -1.0,
            "that is the classical ferromagnet, h = 0: −J per bond. At h = J the field lowers the energy "
            "further by letting the spins fluctuate.",
        ),
        (
            -1.25,
            "that is the best product (mean-field) state, −J cos²θ − h sin θ at sin θ = ½: an upper bound. "
            "The exact ground state is lower, because it is entangled.",
        ),
        (ref * 4 / 3, "that is −16/(3π); the integral of |sin(k/2)| over [−π, π] is 4, not 16/3."),
    ]


@exercise(
    "8.3",
    title="The ground-state energy per site of the critical Ising chain",
    answer="e_critical",
    notebook=NOTEBOOK,
    hints=(
        "In the infinite chain the free-fermion sum becomes an integral: E₀/N = −(1/4π) ∫ ε_k dk over "
        "k from −π to π, with ε_k = 2√(J² + h² − 2Jh cos k).",
        "At h = J = 1, J² + h² − 2Jh cos k = 2 − 2 cos k = 4 sin²(k/2), so ε_k = 4|sin(k/2)|. Integrate "
        "by hand, or numerically with scipy.integrate.quad — or extrapolate exact.tfim_chain_energy(N)/N "
        "in 1/N².",
        "∫ 4|sin(k/2)| dk over [−π, π] is 16, so E₀/N = −16/(4π) = −4/π.",
    ),
)
def check_critical_energy(answer: Any) -> str | None:
    r"""``answer`` is within :data:`RTOL_8_3` (relative) of :func:`critical_energy_reference`."""
    value = as_float(answer, what="e_critical")
    ref = critical_energy_reference()
    if close(value, ref, RTOL_8_3):
        return (
            f"E₀/N = −4/π = {ref:.6f}. A finite periodic chain lies below it by about π/(6N²) — "
            f"{exact.tfim_chain_energy(20, 1.0, 1.0) / 20:.5f} for N = 20 — the 1/N² correction of a "
            "critical chain, whose size sets the central charge c = ½ of the Ising transition."
        )
    said = f"you give {value:.6g}"
    for n in range(3, 65):
        total = exact.tfim_chain_energy(n, 1.0, 1.0)
        if close(value, total / n, 1e-6):
            raise Wrong(
                f"{said}, E₀/N of the periodic chain of {n} spins; the infinite chain is the limit N → ∞. "
                "The finite-size correction falls like 1/N²: extrapolate in 1/N², or integrate ε_k."
            )
        if close(value, total, 1e-6):
            raise Wrong(f"{said}, the total energy E₀ of {n} spins; the question asks for E₀/N, per site.")
    for variant, text in _variants_8_3():
        if close(value, variant, 1e-3):
            raise Wrong(f"{said}: {text}")
    if close(value, ref, 1e-2):
        raise Wrong(
            f"{said}, within {abs(value / ref - 1):.1e} of the answer but not within {RTOL_8_3:g}. Too few "
            "digits, or an extrapolation from chains that are too short or open (open ends add a 1/N "
            "correction)?"
        )
    raise Wrong(f"{said}; E₀/N of the infinite chain at h = J is near −1.27.")


# ------------------------------------------------------------------------ exercise 8.4

#: The VMC run of exercise 8.4: periodic TFIM chain of :data:`N_8_4` spins at :math:`h = J = 1`, an RBM
#: with :math:`\alpha = 1` from ``jax.random.key(SEED_8_4)`` (scale 0.01), exact sums over all
#: :math:`2^N` configurations, SR with learning rate :data:`LEARNING_RATE_8_4`.
N_8_4, J_8_4, H_8_4, ALPHA_8_4, SEED_8_4 = 8, 1.0, 1.0, 1, 84
LEARNING_RATE_8_4 = 0.1
#: Iterations drawn, the budget (iterations after which the error is read) and the target.
ITERATIONS_8_4, BUDGET_8_4, TARGET_8_4 = 100, 40, 1e-3
#: The slider: :math:`\log_{10}\lambda` from, to, and its step.
LOG_SHIFT_MIN, LOG_SHIFT_MAX, LOG_SHIFT_STEP = -5.0, 1.0, 0.1
#: The diagonal shifts of the slider.
SHIFT_GRID = 10 ** np.round(np.arange(LOG_SHIFT_MIN, LOG_SHIFT_MAX + 1e-9, LOG_SHIFT_STEP), 10)


@functools.cache
def _sr_runner() -> Callable[[Array], Array]:
    """A jit-compiled ``run(shift) -> energies``: :data:`ITERATIONS_8_4` SR steps by
    :func:`~physml.nqs.vmc.vmc` with exact sums, the energy before each update. Call it in float64."""
    ham = _tfim_chain(N_8_4, J_8_4, H_8_4)
    rbm = ansatz.rbm(N_8_4, ALPHA_8_4)
    key = jax.random.key(SEED_8_4)
    params = random_params(rbm, SEED_8_4, 0.01)  # the scale of rbm's init
    keys = jax.random.split(key, ITERATIONS_8_4)  # exact sums draw no samples; the driver takes a key

    @jax.jit
    def run(shift: Array) -> Array:
        driver = vmc.vmc(ham, rbm, sr.sr(LEARNING_RATE_8_4, lambda count: shift))
        state = driver.init(key, params)

        def body(state: vmc.VMCState, k: Array) -> tuple[vmc.VMCState, Array]:
            state, stats, _ = driver.step(k, state)
            return state, stats.mean

        return jax.lax.scan(body, state, keys)[1]

    return run


def exact_energy_8_4() -> float:
    """:math:`E_0` of the chain of exercise 8.4 (:func:`~physml.nqs.exact.tfim_chain_energy`)."""
    return exact.tfim_chain_energy(N_8_4, J_8_4, H_8_4)


@functools.lru_cache(maxsize=1024)
def _errors(shift: float) -> np.ndarray:
    with jax.enable_x64(True):
        energies = np.asarray(_sr_runner()(jnp.asarray(shift, jnp.float64)))
    e0 = exact_energy_8_4()
    errors = np.abs(energies - e0) / abs(e0)
    errors.setflags(write=False)
    return errors


def relative_errors_8_4(diag_shift: float) -> np.ndarray:
    r"""The relative energy error :math:`|E_k - E_0|/|E_0|` after :math:`k = 0, 1, \dots` SR updates of
    exercise 8.4 with diagonal shift :math:`\lambda` = ``diag_shift``, shape ``(ITERATIONS_8_4,)``
    (NaN where the run broke down). Cached per value."""
    if not (is_real(diag_shift) and math.isfinite(diag_shift) and diag_shift > 0):
        raise ValueError(f"diag_shift must be a positive finite number, got {diag_shift!r}")
    return _errors(float(diag_shift))


@functools.cache
def grid_errors_8_4() -> np.ndarray:
    """:func:`relative_errors_8_4` on every value of :data:`SHIFT_GRID`, shape ``(61, ITERATIONS_8_4)``."""
    return np.array([relative_errors_8_4(float(shift)) for shift in SHIFT_GRID])


def _reached(errors: np.ndarray) -> bool:
    return bool(errors[BUDGET_8_4] <= TARGET_8_4)


def _first_hits(errors: np.ndarray) -> np.ndarray:
    """The first iteration at which each row of ``errors`` reaches :data:`TARGET_8_4` (``-1``: never)."""
    below = errors <= TARGET_8_4
    return np.where(below.any(axis=-1), np.argmax(below, axis=-1), -1)


@functools.cache
def fastest_8_4() -> tuple[float, int]:
    """The shift of :data:`SHIFT_GRID` that reaches :data:`TARGET_8_4` in the fewest iterations, and
    that number."""
    hits = _first_hits(grid_errors_8_4())
    hits = np.where(hits < 0, np.iinfo(np.int64).max, hits)
    best = int(np.argmin(hits))
    return float(SHIFT_GRID[best]), int(hits[best])


@functools.cache
def window_8_4() -> tuple[float, float]:
    """The smallest and the largest shift of the run of :data:`SHIFT_GRID` around :func:`fastest_8_4` whose
    every value reaches :data:`TARGET_8_4` after :data:`BUDGET_8_4` iterations. (Below it the runs are
    chaotic: a lucky one may pass, and the check accepts it.)"""
    good = grid_errors_8_4()[:, BUDGET_8_4] <= TARGET_8_4
    low = high = int(np.flatnonzero(SHIFT_GRID == fastest_8_4()[0])[0])
    while low > 0 and good[low - 1]:
        low -= 1
    while high < good.size - 1 and good[high + 1]:
        high += 1
    return float(SHIFT_GRID[low]), float(SHIFT_GRID[high])


def _check_shift(diag_shift: Any) -> float:
    if not (is_real(diag_shift) and math.isfinite(diag_shift)):
        raise ValueError(f"diag_shift must be a finite number, got {diag_shift!r}")
    if not (10**LOG_SHIFT_MIN * 0.999 <= diag_shift <= 10**LOG_SHIFT_MAX * 1.001):
        raise ValueError(
            f"diag_shift must lie in [1e{LOG_SHIFT_MIN:g}, 1e{LOG_SHIFT_MAX:g}], got {diag_shift}"
        )
    return float(diag_shift)


def _sr_convergence_scene() -> Scene:
    """The figure of exercise 8.4 and the function that moves it to a diagonal shift: the error curve and
    its legend, the slider's line, title."""
    grid = grid_errors_8_4()
    iterations = np.arange(grid.shape[1])
    fig, (left, right) = figure(ncols=2, figsize=(9.0, 3.8))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.28)  # no layout engine: fast
    (curve,) = left.semilogy(iterations, np.ones(iterations.size), color="#4c72b0", lw=1.4, label="λ")
    left_lines = [
        left.axhline(TARGET_8_4, color="#c44e52", lw=1, ls="--", label=f"target {TARGET_8_4:g}"),
        left.axvline(BUDGET_8_4, color="#9aa5b1", lw=1, ls=":", label=f"{BUDGET_8_4} iterations"),
    ]
    left.set_ylim(1e-6, 5)
    left.set_xlim(0, iterations[-1])
    left.set_xlabel("SR iteration")
    left.set_ylabel("relative energy error |E − E₀|/|E₀|")
    left_legend = left.legend(loc="lower left", fontsize="x-small")
    right.loglog(
        SHIFT_GRID,
        grid[:, BUDGET_8_4],
        "o-",
        ms=2.5,
        lw=1,
        color="#222222",
        label=f"after {BUDGET_8_4} iterations",
    )
    right.axhline(TARGET_8_4, color="#c44e52", lw=1, ls="--", label=f"target {TARGET_8_4:g}")
    slider_line = right.axvline(SHIFT_GRID[0], color="#4c72b0", lw=1.2, label="λ on the slider")
    right.set_ylim(1e-6, 5)
    right.set_xlabel("diagonal shift λ")
    right.set_ylabel("relative error after 40 iterations")
    right_legend = right.legend(loc="lower right", fontsize="x-small")
    for axis in (left.yaxis, right.xaxis, right.yaxis):  # minor ticks cost half the rendering time
        axis.set_minor_locator(NullLocator())
    left.yaxis.set_major_locator(LogLocator(numticks=4))
    right.yaxis.set_major_locator(LogLocator(numticks=4))
    title = fig.suptitle("", fontsize="medium")

    def move(diag_shift: float) -> list[Artist]:
        shift = _check_shift(diag_shift)
        errors = relative_errors_8_4(shift)
        curve.set_ydata(errors)
        left_legend.get_texts()[0].set_text(f"λ = {shift:.2g}")
        slider_line.set_xdata([shift, shift])
        final = errors[BUDGET_8_4]
        verdict = "target reached" if _reached(errors) else "target missed"
        title.set_text(
            f"λ = {shift:.3g}: relative error {final:.2g} after {BUDGET_8_4} iterations — {verdict}"
        )
        return [curve, *left_lines, left_legend, slider_line, right_legend, title]

    return fig, move


@with_scene(_sr_convergence_scene)
def draw_sr_convergence(diag_shift: float) -> Figure:
    r"""The widget's figure for exercise 8.4 at diagonal shift ``diag_shift``: left, the relative energy
    error against the iteration; right, the error after :data:`BUDGET_8_4` iterations against the shift,
    for every value of the slider."""
    fig, move = _sr_convergence_scene()
    move(diag_shift)
    return fig


@exercise(
    "8.4",
    title="The diagonal shift of stochastic reconfiguration (widget)",
    answer="diag_shift",
    notebook=NOTEBOOK,
    time_limit=30.0,  # the first check compiles and runs the grid of VMC runs; no learner code runs here
    hints=(
        "Start at the smallest shift and move right: watch what the energy does in the first iterations, "
        "then how fast it falls once the shift is large.",
        "The right panel shows the error after 40 iterations for every shift on the slider: it is large at "
        "both ends. You need a λ where the black curve lies below the dashed red line.",
        "Shifts between about 0.003 and 0.1 work; λ = 0.01 needs fewer than ten iterations.",
    ),
)
def check_diag_shift(answer: Any) -> str | None:
    r"""``answer`` is a shift at which :func:`relative_errors_8_4` is at most :data:`TARGET_8_4` after
    :data:`BUDGET_8_4` iterations."""
    value = as_float(answer, what="diag_shift")
    low, high = window_8_4()
    window = f"(on the slider, λ from {low:.2g} to {high:.2g} reaches it)"
    if value <= 0:
        if LOG_SHIFT_MIN <= value <= 0:
            raise Wrong(
                f"λ = {value:g} is not a shift: it must be positive. Is it log₁₀ λ, the slider's position? "
                f"Record λ itself, 10**{value:g} = {10**value:.3g}."
            )
        raise Wrong(f"λ = {value:g} is not a shift: it must be positive, to make S + λ invertible {window}.")
    errors = relative_errors_8_4(value)
    final = float(errors[BUDGET_8_4])
    if _reached(errors):
        best, steps = fastest_8_4()
        return (
            f"At λ = {value:.3g} the error after {BUDGET_8_4} iterations is {final:.1e}; every λ from about "
            f"{low:.2g} to {high:.2g} reaches {TARGET_8_4:g}. Smaller shifts let SR divide by the tiny "
            "eigenvalues of S, and the steps blow up; larger ones turn SR into gradient descent with step "
            f"η/λ, which crawls. At λ = {best:.2g} it takes {steps} iterations."
        )
    worst = float(np.nanmax(np.where(np.isnan(errors), np.inf, errors)[: BUDGET_8_4 + 1]))
    if value < low or worst > errors[0]:
        if math.isfinite(worst):
            detail = f"the error jumps up to {worst:.2g} and is {final:.2g} after {BUDGET_8_4} iterations"
        else:
            detail = f"the energy becomes NaN within {BUDGET_8_4} iterations"
        raise Wrong(
            f"at λ = {value:.3g} the run is unstable: {detail}. A tiny shift lets SR divide by the tiny "
            "eigenvalues of S — directions in which ψ hardly changes — and the step in those parameters "
            f"explodes. Raise λ {window}."
        )
    if value > high:
        raise Wrong(
            f"at λ = {value:.3g} the error falls steadily but is still {final:.2g} after {BUDGET_8_4} "
            f"iterations. With λ far above the eigenvalues of S, (S + λ)⁻¹ ≈ 1/λ: SR becomes plain gradient "
            f"descent with step η/λ = {LEARNING_RATE_8_4 / value:.2g}. Lower λ {window}."
        )
    raise Wrong(f"at λ = {value:.3g} the error after {BUDGET_8_4} iterations is {final:.2g} {window}.")


# ------------------------------------------------------------------------ exercise 8.5

#: The un-rotated Heisenberg chain of exercise 8.5: periodic, :data:`N_8_5` spins, :math:`J = 1`.
N_8_5 = 12
#: Accepted relative distance from the reference.
RTOL_8_5 = 1e-6


@functools.cache
def heisenberg_ground_state_8_5() -> exact.GroundState:
    r"""The ground state of the un-rotated Heisenberg chain of :data:`N_8_5` spins in the :math:`S^z = 0`
    sector (:func:`~physml.nqs.exact.ground_state`)."""
    ham = operators.heisenberg(lattice.chain(N_8_5), marshall=False)
    return exact.ground_state(ham, sector="sz0", tol=1e-12)


@functools.cache
def abs_energy_reference() -> float:
    r"""The energy :math:`E[|\psi_0|]` of the sign-stripped ground state of the un-rotated Heisenberg
    chain of :data:`N_8_5` spins: :func:`~physml.nqs.exact.energy_of` of :math:`|\psi_0(s)|`. By spin
    rotation symmetry it equals :math:`-E_0/3`."""
    ham = operators.heisenberg(lattice.chain(N_8_5), marshall=False)
    return exact.energy_of(ham, np.abs(heisenberg_ground_state_8_5().vector))


def _variants_8_5() -> list[tuple[float, str]]:
    ref = abs_energy_reference()
    e0 = heisenberg_ground_state_8_5().energy
    v = heisenberg_ground_state_8_5().vector
    ham10 = operators.heisenberg(lattice.chain(10), marshall=False)
    g10 = exact.ground_state(ham10, sector="sz0")
    return [
        (
            e0,
            f"that is E₀ = {e0:.6g} itself: either the signs are still in ψ₀, or the Hamiltonian is the "
            "Marshall-rotated one (marshall=True, the default), whose ground state is positive already. "
            "Use heisenberg(chain(12), marshall=False) for the state and the energy, and take np.abs.",
        ),
        (
            -N_8_5 / 4,
            f"that is the Néel energy −NJ/4 = {-N_8_5 / 4:g}, the lowest a positive state can reach here. "
            "The question asks for the energy of |ψ₀|.",
        ),
        (ref / N_8_5, "that is per site; give the energy of the whole chain."),
        (4 * ref, "that is four times the answer: H uses S = σ/2, so each bond carries ¼ σ·σ."),
        (-ref, "the sign is reversed: that is E₀/3, the diagonal (σᶻσᶻ) part of E₀ alone."),
        (-e0, "that is −E₀; compute ⟨|ψ₀||H||ψ₀|⟩ / ⟨ψ₀|ψ₀⟩."),
        (
            float(np.sum(v[v < 0] ** 2)),
            "that is the weight of the negative amplitudes; the question asks for an energy.",
        ),
        (
            float(np.mean(v < 0)),
            "that is the fraction of negative amplitudes; the question asks for an energy.",
        ),
        (
            exact.energy_of(ham10, np.abs(g10.vector)),
            f"that is the chain of 10 spins; the question is about {N_8_5}.",
        ),
    ]


@exercise(
    "8.5",
    title="The energy of the sign-stripped Heisenberg ground state",
    answer="energy_abs",
    notebook=NOTEBOOK,
    hints=(
        "Build the un-rotated chain, ham = operators.heisenberg(lattice.chain(12), marshall=False), find "
        "its ground state with exact.ground_state(ham, sector='sz0'), and strip the signs: np.abs(vector).",
        "exact.energy_of(ham, vector) computes ⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ for a vector on all states or on the S^z = 0 "
        "sector.",
        "energy_abs = exact.energy_of(ham, np.abs(exact.ground_state(ham, sector='sz0').vector)); it comes "
        "out positive.",
    ),
)
def check_energy_abs(answer: Any) -> str | None:
    r"""``answer`` is within :data:`RTOL_8_5` (relative) of :func:`abs_energy_reference`."""
    value = as_float(answer, what="energy_abs")
    ref = abs_energy_reference()
    e0 = heisenberg_ground_state_8_5().energy
    if close(value, ref, RTOL_8_5):
        return (
            f"E[|ψ₀|] = {ref:.4f}, positive: the exact magnitudes without their signs are worse than a "
            f"random state (Tr H = 0), far above E₀ = {e0:.4f}. By spin-rotation symmetry it is exactly "
            "−E₀/3: the exchange part, 2E₀/3 of E₀, flips sign. A positive ansatz needs the Marshall "
            "rotation."
        )
    said = f"you give {value:.6g}"
    for variant, text in _variants_8_5():
        if close(value, variant, 1e-4):
            raise Wrong(f"{said}: {text}")
    if close(value, ref, 1e-3):
        raise Wrong(f"{said}, close to the answer but not within {RTOL_8_5:g}: give all the digits.")
    raise Wrong(f"{said}; the energy of |ψ₀| for the chain of {N_8_5} spins (marshall=False) is different.")


# ------------------------------------------------------------------------ exercise 8.6

#: The states of exercise 8.6: ``(label, kind, hamiltonian, sector, seed)``, all on chains of
#: :data:`N_8_6` spins, parameters of scale 0.3.
SPECS_8_6: tuple[tuple[str, str, str, str | None, int], ...] = (
    ("an RBM (α = 1) for the TFIM chain of 6 spins at h = 0.5", "rbm", "tfim", None, 861),
    (
        "a Jastrow state for the Heisenberg chain of 6 spins (Marshall), S^z = 0 sector",
        "jastrow",
        "heisenberg",
        "sz0",
        862,
    ),
)
N_8_6 = 6


class Case86(NamedTuple):
    r"""One state of exercise 8.6, float64 NumPy arrays over its configurations.

    Attributes:
        label: a few words for messages.
        o: the log-derivatives :math:`O_k(s) = \partial_{\theta_k}\ln\psi(s)`, shape ``(S, P)``.
        e_loc: the local energies, shape ``(S,)``.
        p: the probabilities :math:`|\psi(s)|^2/\sum|\psi|^2`, shape ``(S,)``.
        gradient: the exact gradient :math:`\partial E/\partial\theta`, shape ``(P,)``.
    """

    label: str
    o: np.ndarray
    e_loc: np.ndarray
    p: np.ndarray
    gradient: np.ndarray


def hamiltonian_8_6(model: str) -> operators.LocalHamiltonian:
    """The Hamiltonian of a case of exercise 8.6: ``"tfim"`` (:math:`J = 1`, :math:`h = 0.5`) or
    ``"heisenberg"`` (Marshall-rotated), on the periodic chain of :data:`N_8_6` spins."""
    if model == "tfim":
        return _tfim_chain(N_8_6, 1.0, 0.5)
    return operators.heisenberg(lattice.chain(N_8_6))


def wavefunction_8_6(kind: str) -> ansatz.Ansatz:
    """The ansatz of a case of exercise 8.6: ``"rbm"`` or ``"jastrow"`` on :data:`N_8_6` sites."""
    return {"rbm": ansatz.rbm, "jastrow": ansatz.jastrow}[kind](N_8_6)


def _case_8_6(label: str, kind: str, model: str, sector: str | None, seed: int) -> Case86:
    ham, wavefunction = hamiltonian_8_6(model), wavefunction_8_6(kind)
    log_psi = wavefunction.log_psi
    with jax.enable_x64(True):
        params = random_params(wavefunction, seed, 0.3)
        configs = vmc.enumerate_configurations(N_8_6, sector, jnp.float64)

        @jax.jit
        def pieces(params: Any) -> tuple[Array, Array, Array, Array]:
            gradient = vmc.exact_estimate(ham, log_psi, params, configs).gradient
            return (
                vmc.log_derivatives(log_psi, params, configs),
                vmc.local_energy(ham, log_psi, params, configs),
                jax.nn.softmax(2.0 * log_psi(params, configs)),
                ravel_pytree(gradient)[0],
            )

        o, e_loc, p, gradient = (np.asarray(x) for x in pieces(params))
    return Case86(label, o, e_loc, p, gradient)


@functools.cache
def cases_8_6() -> tuple[Case86, ...]:
    """The states of exercise 8.6 (:data:`SPECS_8_6`): log-derivatives
    (:func:`~physml.nqs.vmc.log_derivatives`), local energies, probabilities, and the exact gradient of
    :func:`~physml.nqs.vmc.exact_estimate`, in the order of ``ravel_pytree(params)``."""
    return tuple(_case_8_6(*spec) for spec in SPECS_8_6)


def gradient_reference(
    o: Float[ArrayLike, "S P"], e_loc: Float[ArrayLike, " S"], p: Float[ArrayLike, " S"]
) -> np.ndarray:
    r"""The energy gradient as a covariance, :math:`g_k = 2\sum_s p(s)\,(E_\text{loc}(s) - E)\,(O_k(s) -
    \langle O_k\rangle)` with :math:`E = \sum_s p(s)E_\text{loc}(s)`, :math:`\langle O_k\rangle = \sum_s
    p(s)O_k(s)`; shape ``(P,)``. The same formula as :func:`~physml.nqs.vmc.exact_estimate`."""
    o, e_loc, p = (np.asarray(x, dtype=np.float64) for x in (o, e_loc, p))
    energy = p @ e_loc
    return 2.0 * ((p * (e_loc - energy)) @ (o - p @ o))


def _variants_8_6(case: Case86) -> list[tuple[np.ndarray, str]]:
    o, e, p, g = case.o, case.e_loc, case.p, case.gradient
    energy, o_mean = p @ e, p @ o
    flat_o, flat_e = o.mean(axis=0), e.mean()
    return [
        (
            g / 2,
            "that is half the gradient: g = 2⟨(E_loc − E)(O − ⟨O⟩)⟩, with its factor 2 (ψ appears twice "
            "in |ψ|²).",
        ),
        (2 * g, "that is twice the gradient: the factor is 2, not 4."),
        (-g, "the sign is reversed: g is ∂E/∂θ, the direction in which the energy rises."),
        (
            2 * (p * e) @ o,
            "that is 2⟨E_loc O⟩, not centred: subtract E from E_loc (or ⟨O⟩ from O). Without it the "
            "normalization of ψ leaks into the gradient.",
        ),
        (
            2 * ((e - flat_e) @ (o - flat_o)) / e.size,
            "that averages with equal weights; the averages are over p(s) = |ψ(s)|²/Σ|ψ|², the "
            "probabilities given.",
        ),
        (
            2 * (e - energy) @ (o - o_mean),
            "that sums over the configurations without their probabilities p(s); weight each term by p(s).",
        ),
        (
            2 * ((p**2 * (e - energy)) @ (o - o_mean)),
            "the probabilities are squared: p(s) already is |ψ(s)|²/Σ|ψ|².",
        ),
    ]


@exercise(
    "8.6",
    title="The energy gradient as a covariance",
    answer="energy_gradient",
    notebook=NOTEBOOK,
    hints=(
        "g_k = 2 Σ_s p(s) (E_loc(s) − E)(O_k(s) − ⟨O_k⟩), with E = Σ_s p(s) E_loc(s) and "
        "⟨O_k⟩ = Σ_s p(s) O_k(s): a covariance under p.",
        "o has one row per configuration and one column per parameter: p @ o is ⟨O⟩, shape (P,), and "
        "p @ e_loc is E.",
        "energy = p @ e_loc; return 2 * (p * (e_loc - energy)) @ (o - p @ o)",
    ),
)
def check_energy_gradient(answer: Any) -> str | None:
    r"""``answer(o, e_loc, p)`` returns the exact gradient of every case of :func:`cases_8_6`."""
    for case in cases_8_6():
        where = f"for {case.label}"
        n_params = case.o.shape[1]
        raw = call_quietly(
            answer, case.o.copy(), case.e_loc.copy(), case.p.copy(), what=f"{where}: your energy_gradient"
        )
        kind = nonfinite(raw)
        if kind is not None:
            raise Wrong(f"{where} your gradient contains {kind.lstrip('+')}.")
        got = as_array(raw, what=f"the gradient {where}")
        if got.shape != (n_params,):
            if got.shape == case.e_loc.shape:
                raise Wrong(
                    f"{where} you return shape {got.shape}, one number per configuration; the gradient has "
                    f"one entry per parameter, shape ({n_params},): sum over the configurations."
                )
            raise Wrong(
                f"{where} you return shape {got.shape}; the gradient has shape ({n_params},), one entry per "
                "parameter."
            )
        ref = case.gradient
        scale = float(np.max(np.abs(ref)))
        rtol = tolerance(raw)
        if close(got, ref, rtol, rtol * scale):
            continue
        for value, text in _variants_8_6(case):
            if close(value, ref, _LOOSE, _LOOSE * scale):
                continue
            if close(got, value, _LOOSE, _LOOSE * scale):
                raise Wrong(f"{where} you return {show(got[:4])}…: {text}")
        if close(got, ref, _LOOSE, _LOOSE * scale):
            raise Wrong(f"{where} your gradient agrees only to float32 digits. {FLOAT32_ADVICE}")
        raise Wrong(f"{where} you return {show(got[:4])}…; the gradient begins {show(ref[:4])}.")
    return (
        "g = 2 Cov_p(E_loc, O): the gradient of a Rayleigh quotient needs only samples of |ψ|², local "
        "energies and log-derivatives. It vanishes where E_loc is constant — at an eigenstate — and SR "
        "preconditions it with S = Cov_p(O, O), the same kind of covariance."
    )
