"""Chapter 1's checkers: reference solutions pass, placeholders are not attempted, and each
known-wrong answer gets its own message."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, assert_wrong, reference_answers
from matplotlib.figure import Figure

from physml import ising, spins, statmech
from physml.exercises import check, exercises_in
from physml.exercises.ch01 import ONSAGER_TC, draw_ising
from physml.plotting import png_bytes

NOTEBOOK = ROOT / "exercises" / "01_statmech_bridge.ipynb"
IDS = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]


SOLUTIONS = reference_answers(NOTEBOOK)


def test_the_chapter_registers_its_exercises_in_order():
    assert [ex.id for ex in exercises_in("01_statmech_bridge")] == IDS
    assert sorted(SOLUTIONS) == IDS


# ---------------------------------------------------------------- exercise 1.1


def p_exact(s, beta, J, h):
    s = np.asarray(s, dtype=float)
    return float(np.exp(-beta * ising.chain_energy(s, J, h) - ising.chain_log_partition(s.size, beta, J, h)))


def energy(s, J, h):
    return float(ising.chain_energy(np.asarray(s, dtype=float), J, h))


def open_energies(n, J, h):
    configs = spins.enumerate_spins(n).astype(float)
    return -J * jnp.sum(configs[:, :-1] * configs[:, 1:], axis=-1) - h * jnp.sum(configs, axis=-1)


def open_chain(s, beta, J, h):
    s = np.asarray(s, dtype=float)
    e_open = -J * np.sum(s[:-1] * s[1:]) - h * np.sum(s)
    return float(np.exp(-beta * e_open - statmech.log_partition(open_energies(s.size, J, h), beta)))


def open_energy_periodic_z(s, beta, J, h):
    s = np.asarray(s, dtype=float)
    e_open = -J * np.sum(s[:-1] * s[1:]) - h * np.sum(s)
    return float(np.exp(-beta * e_open - ising.chain_log_partition(s.size, beta, J, h)))


WRONG_1_1 = {
    "sign": (lambda s, b, J, h: p_exact(s, b, -J, -h), "the sign of the exponent is wrong"),
    "sign, right Z": (
        lambda s, b, J, h: np.exp(b * energy(s, J, h) - ising.chain_log_partition(len(s), b, J, h)),
        "exp(+βH)/Z",
    ),
    "flipped": (lambda s, b, J, h: p_exact(-np.asarray(s), b, J, h), "flipped configuration"),
    "no Z": (lambda s, b, J, h: np.exp(-b * energy(s, J, h)), "divide it by Z"),
    "sign and no Z": (lambda s, b, J, h: np.exp(b * energy(s, J, h)), "Z is missing"),
    "open chain": (open_chain, "open chain"),
    "open energy": (open_energy_periodic_z, "without the bond −J s_N s_1"),
    "T for beta": (lambda s, b, J, h: p_exact(s, 1 / b if b else 0.0, J, h), "T = 1/β"),
    "factor 2": (lambda s, b, J, h: 2 * p_exact(s, b, J, h), "2 times too large"),
    "negative": (lambda s, b, J, h: -p_exact(s, b, J, h), "not a probability"),
    "float32 digits": (lambda s, b, J, h: float(np.float32(p_exact(s, b, J, h))), "significant digits"),
    "vector": (lambda s, b, J, h: np.full(len(s), p_exact(s, b, J, h)), "shape (8,)"),
    "None": (lambda s, b, J, h: None, "forget a `return`"),
    "string": (lambda s, b, J, h: "0.01", "not a string"),
    "nan": (lambda s, b, J, h: float("nan"), "NaN"),
    "raises": (lambda s, b, J, h: 1 / 0, "raised ZeroDivisionError"),
    "wrong arity": (lambda s: 0.1, "raised TypeError"),
    "not callable": (0.1, "expected a function"),
}


@pytest.mark.parametrize("name", sorted(WRONG_1_1))
def test_wrong_answers_to_1_1(name):
    assert_wrong("1.1", *WRONG_1_1[name])


def test_1_1_accepts_float32_and_enumeration():
    assert check("1.1", lambda s, b, J, h: np.float32(p_exact(s, b, J, h))).passed

    def by_enumeration(s, beta, J, h):
        configs = np.asarray(spins.enumerate_spins(len(s)), dtype=float)
        energies = -J * np.sum(configs * np.roll(configs, -1, axis=1), axis=1) - h * configs.sum(axis=1)
        return np.exp(-beta * energy(s, J, h)) / np.sum(np.exp(-beta * energies))

    assert check("1.1", by_enumeration).passed


# ---------------------------------------------------------------- exercise 1.2


def naive_log_z(E, b):
    return np.log(np.sum(np.exp(-b * np.asarray(E))))


def shifts_only_negative_energies(E, b):
    shift = min(float(np.min(E)), 0.0)  # guards against overflow, not underflow
    return -b * shift + np.log(np.sum(np.exp(-b * (np.asarray(E) - shift))))


def log_z(E, b):
    return float(statmech.log_partition(np.asarray(E, dtype=float), b))


def math_exp_log_z(E, b):
    import math

    return math.log(sum(math.exp(-b * e) for e in E))


WRONG_1_2 = {
    "naive": (naive_log_z, "+inf: exp(−βE) overflowed"),
    "math.exp": (math_exp_log_z, "raised OverflowError"),
    "underflow": (shifts_only_negative_energies, "underflowed to 0, and ln 0 = −∞"),
    "nan when huge": (
        lambda E, b: float("nan") if b > 100 else log_z(E, b),
        "NaN: the exponentials overflowed",
    ),
    "dropped shift": (
        lambda E, b: np.log(np.sum(np.exp(-b * (np.asarray(E) - np.min(E))))),
        "dropped the term you factored out",
    ),
    "sign": (lambda E, b: log_z(-np.asarray(E), b), "the sign of the exponent is wrong"),
    "Z": (lambda E, b: np.exp(log_z(E, b)), "that is Z itself"),
    "F": (lambda E, b: -log_z(E, b) / b, "the free energy F = −ln Z/β"),
    "minus ln Z": (lambda E, b: -log_z(E, b), "−ln Z = βF"),
    "T for beta": (lambda E, b: log_z(E, 1 / b if b else 0.0), "T = 1/β"),
    "float32 digits": (
        lambda E, b: float(jax.nn.logsumexp(-b * jnp.asarray(E, jnp.float32))),
        "significant digits",
    ),
    "vector": (lambda E, b: -b * np.asarray(E), "shape (4,)"),
    "nan": (lambda E, b: np.nan, "NaN"),
}


@pytest.mark.parametrize("name", sorted(WRONG_1_2))
def test_wrong_answers_to_1_2(name):
    assert_wrong("1.2", *WRONG_1_2[name])


def test_1_2_accepts_logsumexp_in_float32_and_float64():
    assert check("1.2", lambda E, b: jax.nn.logsumexp(-b * jnp.asarray(E, jnp.float32))).passed
    assert check("1.2", lambda E, b: jax.nn.logsumexp(-b * jnp.asarray(E, jnp.float64))).passed


# ---------------------------------------------------------------- exercise 1.3


def mean_e(E, b):
    return float(statmech.mean_energy(np.asarray(E, dtype=float), b))


def with_sum(fn):
    """A pair whose derivative entry is right and whose sum entry is ``fn``."""
    return lambda E, b: (fn(np.asarray(E, dtype=float), b), mean_e(E, b))


def with_derivative(fn):
    """A pair whose sum entry is right and whose derivative entry is ``fn``."""
    return lambda E, b: (mean_e(E, b), fn(np.asarray(E, dtype=float), b))


def naive_sum(E, b):
    weights = np.exp(-b * E)
    return np.sum(weights * E) / np.sum(weights)


def naive_derivative(E, b):
    return -jax.grad(lambda x: jnp.log(jnp.sum(jnp.exp(-x * jnp.asarray(E)))))(b)


def forward_difference(E, b, step=1e-5):
    return -(log_z(E, b + step) - log_z(E, b)) / step


WRONG_1_3 = {
    "one number": (lambda E, b: mean_e(E, b), "expected a pair (by_sum, by_derivative)"),
    "three values": (lambda E, b: (1.0, 2.0, 3.0), "3 values"),
    "dict": (lambda E, b: {"sum": 1.0}, "a dict; expected a pair"),
    "None": (lambda E, b: None, "forget a `return`"),
    "sum overflows": (with_sum(naive_sum), "the sum entry for energies=[-1000.0, -999.5, -990.0]"),
    "sum sign": (with_sum(lambda E, b: -mean_e(E, b)), "the wrong sign: ⟨E⟩ = Σ p(x) E(x)"),
    "sum unnormalized": (with_sum(lambda E, b: np.sum(np.exp(-b * E) * E)), "without dividing by Z"),
    "sum plain average": (with_sum(lambda E, b: np.mean(E)), "the plain average"),
    "sum weights +βE": (with_sum(lambda E, b: -mean_e(-E, b)), "weights exp(+βE)"),
    "sum None": (
        with_sum(lambda E, b: None),
        "the sum entry for energies=[0.0, 1.0, 2.0, 5.0] at β=0.5 is None",
    ),
    "derivative overflows": (
        with_derivative(naive_derivative),
        "ln Z overflowed before it was differentiated",
    ),
    "derivative sign": (
        with_derivative(lambda E, b: jax.grad(lambda x: jax.nn.logsumexp(-x * E))(b)),
        "the derivative entry for energies=[0.0, 1.0, 2.0, 5.0] at β=0.5 is",
    ),
    "derivative is ln Z": (with_derivative(log_z), "ln Z itself"),
    "derivative of Z": (with_derivative(lambda E, b: np.sum(E * np.exp(-b * E))), "−∂Z/∂β"),
    "derivative by T": (with_derivative(lambda E, b: b**2 * mean_e(E, b)), "with respect to T, not β"),
    "derivative exponent sign": (
        with_derivative(lambda E, b: mean_e(-E, b)),
        "the sign in the exponent of Z",
    ),
    "finite difference": (with_derivative(forward_difference), "A finite difference?"),
    "vector entries": (lambda E, b: (E, E), "shape (4,); expected one number"),
}


@pytest.mark.parametrize("name", sorted(WRONG_1_3))
def test_wrong_answers_to_1_3(name):
    assert_wrong("1.3", *WRONG_1_3[name])


def test_1_3_names_the_sign_rule_of_the_derivative():
    result = check("1.3", WRONG_1_3["derivative sign"][0])
    assert "the wrong sign: ⟨E⟩ = −∂ ln Z/∂β" in result.message


def test_1_3_accepts_a_jax_array_of_two_entries():
    def as_array(E, b):
        E = jnp.asarray(E, jnp.float64)
        return jnp.stack(
            [jnp.sum(jax.nn.softmax(-b * E) * E), -jax.grad(lambda x: jax.nn.logsumexp(-x * E))(b)]
        )

    assert check("1.3", as_array).passed


# ---------------------------------------------------------------- exercise 1.4


def f_exact(b, J, h):
    return float(ising.chain_free_energy_density(b, J, h))


def log_lambda_plus(b, J, h):
    return -b * f_exact(b, J, h)


def f_with_lambda_minus(b, J, h):
    T = np.array([[np.exp(b * (J + h)), np.exp(-b * J)], [np.exp(-b * J), np.exp(b * (J - h))]])
    return -np.log(np.linalg.eigvalsh(T)[0]) / b


def naive_transfer_matrix(b, J, h):
    T = np.array([[np.exp(b * (J + h)), np.exp(-b * J)], [np.exp(-b * J), np.exp(b * (J - h))]])
    return -np.log(np.linalg.eigvalsh(T)[-1]) / b


def naive_eigvals(b, J, h):
    T = np.array([[np.exp(b * (J + h)), np.exp(-b * J)], [np.exp(-b * J), np.exp(b * (J - h))]])
    return -np.log(np.max(np.linalg.eigvals(T).real)) / b


def closed_form(b, J, h):
    lam = np.exp(b * J) * (np.cosh(b * h) + np.sqrt(np.sinh(b * h) ** 2 + np.exp(-4 * b * J)))
    return -np.log(lam) / b


WRONG_1_4 = {
    "naive matrix": (naive_transfer_matrix, "the transfer matrix's entries overflow"),
    "naive eigvals": (naive_eigvals, "raised LinAlgError"),
    "closed form": (closed_form, "the largest is e^800"),
    "ln lambda": (log_lambda_plus, "that is ln λ₊"),
    "minus ln lambda": (lambda b, J, h: -log_lambda_plus(b, J, h), "divide by β"),
    "lambda itself": (lambda b, J, h: np.exp(log_lambda_plus(b, J, h)), "λ₊ itself"),
    "lambda minus": (f_with_lambda_minus, "the smaller eigenvalue λ₋"),
    "J swapped": (lambda b, J, h: f_exact(b, -J, h), "coupling −J"),
    "no field": (lambda b, J, h: f_exact(b, J, 0.0), "the field is missing"),
    "field twice": (lambda b, J, h: f_exact(b, J, 2 * h), "each site's field counts once"),
    "T for beta": (lambda b, J, h: f_exact(1 / b, J, h), "T = 1/β"),
    "nan for J < 0": (lambda b, J, h: np.nan if J < 0 else f_exact(b, J, h), "ln λ₋ is NaN"),
    "float32 digits": (lambda b, J, h: float(np.float32(f_exact(b, J, h))), "significant digits"),
    "string": (lambda b, J, h: "-1.2", "not a string"),
}


@pytest.mark.parametrize("name", sorted(WRONG_1_4))
def test_wrong_answers_to_1_4(name):
    assert_wrong("1.4", *WRONG_1_4[name])


def test_1_4_accepts_float32():
    def in_float32(b, J, h):
        exponents = b * jnp.array([[J + h, -J], [-J, J - h]], dtype=jnp.float32)
        top = exponents.max()
        return -(top + jnp.log(jnp.linalg.eigvalsh(jnp.exp(exponents - top))[-1])) / b

    assert check("1.4", in_float32).passed


# ---------------------------------------------------------------- exercise 1.5


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (1 / ONSAGER_TC, "β_c = 1/T_c"),
        (4.0, "the mean-field estimate T = zJ = 4, which overestimates"),
        (1.5, "too low: there the lattice is ordered"),
        (2.16, "±0.1"),
        (3.0, "too high: there the lattice is disordered"),
        (2.37, "too high"),
        (0.0, "not a temperature"),
        (-2.27, "not a temperature"),
        ("2.27", "not a string"),
        (True, "bool"),
        (float("nan"), "NaN"),
        (np.array([2.27, 2.27]), "shape (2,)"),
    ],
)
def test_wrong_answers_to_1_5(answer, phrase):
    assert_wrong("1.5", answer, phrase)


@pytest.mark.parametrize("answer", [ONSAGER_TC, 2.2, 2.3, 2.35, 2.17, 2.369, np.float32(2.25), np.array(2.3)])
def test_answers_to_1_5_within_tolerance(answer):
    assert check("1.5", answer).passed


def test_draw_ising_returns_a_deterministic_figure():
    fig = draw_ising(2.3)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert "T = 2.30" in fig.get_suptitle()
    assert png_bytes(fig) == png_bytes(draw_ising(2.3))
    assert png_bytes(draw_ising(2.6)) != png_bytes(fig)
    with pytest.raises(ValueError, match="positive"):
        draw_ising(0.0)


def mean_abs_m(T):
    return float(draw_ising(T).get_suptitle().rsplit("= ", 1)[1])


def test_draw_ising_shows_what_the_messages_of_1_5_describe():
    """Below T_c - 0.1 the lattice stays ordered; well above T_c, |m| decays to near 0."""
    assert mean_abs_m(ONSAGER_TC - 0.3) > 0.85
    assert mean_abs_m(3.0) < 0.15
    assert mean_abs_m(ONSAGER_TC - 0.1) > mean_abs_m(ONSAGER_TC + 0.1)
    # the solution of 1.5 says that the change happens between T = 2.2 and T = 2.4
    assert mean_abs_m(2.2) > 0.6 and mean_abs_m(2.4) < 0.4


# ---------------------------------------------------------------- exercise 1.6


def fit(x, y):
    return np.polyfit(x, y, 1)


WRONG_1_6 = {
    "polyfit output": (lambda n, s: fit(np.log(n), np.log(s)), "the whole output of np.polyfit"),
    "three numbers": (lambda n, s: (1.0, 2.0, 3.0), "shape (3,)"),
    "intercept": (lambda n, s: fit(np.log(n), np.log(s))[1], "the intercept ln C"),
    "intercept log10": (lambda n, s: fit(np.log10(n), np.log10(s))[1], "the intercept log₁₀ C"),
    "prefactor": (lambda n, s: np.exp(fit(np.log(n), np.log(s))[1]), "the prefactor C"),
    "no logs": (lambda n, s: fit(n, s)[0], "on linear axes"),
    "semi-log": (lambda n, s: fit(n, np.log(s))[0], "only one axis is logarithmic"),
    "swapped": (lambda n, s: fit(np.log(s), np.log(n))[0], "which gives 1/a"),
    "sign": (lambda n, s: -fit(np.log(n), np.log(s))[0], "the sign is wrong"),
    "end points": (
        lambda n, s: (np.log(s[-1]) - np.log(s[0])) / (np.log(n[-1]) - np.log(n[0])),
        "the two end points only",
    ),
    "float32 digits": (
        lambda n, s: float(np.float32(fit(np.log(n), np.log(s))[0]) * np.float32(1 + 3e-6)),
        "significant digits",
    ),
    "None": (lambda n, s: None, "forget a `return`"),
    "nan": (lambda n, s: np.nan, "NaN"),
}


@pytest.mark.parametrize("name", sorted(WRONG_1_6))
def test_wrong_answers_to_1_6(name):
    assert_wrong("1.6", *WRONG_1_6[name])


def test_1_6_accepts_any_base_of_logarithm_and_float32():
    assert check("1.6", lambda n, s: fit(np.log10(n), np.log10(s))[0]).passed
    assert check("1.6", lambda n, s: fit(np.log2(n), np.log2(s))[0]).passed

    def float32_least_squares(n, s):
        x, y = jnp.log(jnp.asarray(n, jnp.float32)), jnp.log(jnp.asarray(s, jnp.float32))
        return jnp.sum((x - x.mean()) * (y - y.mean())) / jnp.sum((x - x.mean()) ** 2)

    assert check("1.6", float32_least_squares).passed
