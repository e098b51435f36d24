"""physml.discovery.powerlaw: the shipped orbit tables, log–log fits and snapping exponents
to fractions, against exact data, the source tables and statistical tests."""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from physml.discovery import powerlaw as pl

# --------------------------------------------------------------------------------- data


def test_planet_table_is_the_source_table():
    t = pl.kepler_planets()
    assert t.names == (
        "Mercury",
        "Venus",
        "Earth–Moon barycentre",
        "Mars",
        "Jupiter",
        "Saturn",
        "Uranus",
        "Neptune",
    )
    assert "Standish" in t.source and "Table 1" in t.source
    assert (t.a_unit, t.period_unit) == ("au", "yr")
    assert t.a.dtype == np.float64 and t.period.dtype == np.float64
    assert t.a[0] == 0.38709927 and t.a[-1] == 30.06992276
    # period = 36000 / L_dot in Julian years, from the table's mean-longitude rates
    assert t.period[2] == 36000.0 / 35999.37244981
    assert t.period[4] == pytest.approx(11.8626, abs=1e-4)
    assert t.period[-1] == pytest.approx(164.790, abs=1e-3)
    assert t.group == ("terrestrial",) * 4 + ("giant",) * 4


def test_moon_table_and_groups():
    t = pl.jupiter_moons()
    assert t.names == ("Amalthea", "Thebe", "Io", "Europa", "Ganymede", "Callisto")
    assert (t.a_unit, t.period_unit) == ("km", "d")
    assert "JPL" in t.source
    assert t.a[2] == 421700.0 and t.period[2] == 1.769137786
    galilean = t.select("galilean")
    assert galilean.names == ("Io", "Europa", "Ganymede", "Callisto")
    assert galilean.a.shape == galilean.period.shape == (4,)
    assert galilean.group == ("galilean",) * 4
    both = t.select("inner", "galilean")
    assert both.names == t.names
    np.testing.assert_array_equal(both.period, t.period)
    with pytest.raises(ValueError, match="choose groups"):
        t.select("trojan")
    with pytest.raises(ValueError, match="choose groups"):
        t.select()


# ------------------------------------------------------------------------- the fits


def test_kepler_third_law_from_the_planets(key):
    t = pl.kepler_planets()
    fit = pl.fit_power_law(t.a, t.period, key=key)
    assert abs(fit.exponent - 1.5) < 1e-3
    assert round(fit.exponent, 6) == 1.499857  # the number the chapter quotes
    lo, hi = fit.exponent_interval
    assert lo <= fit.exponent <= hi
    assert fit.boot_exponents.shape == (2000,)
    # the prefactor is 1 yr/au^(3/2) to the precision the law holds
    assert fit.prefactor == pytest.approx(1.0, abs=1e-4)


def test_planets_snap_to_three_halves_only_with_an_honest_error():
    t = pl.kepler_planets()
    fit = pl.fit_power_law(t.a, t.period)
    snap = pl.snap_fit(fit)
    assert snap.exponent == sympy.Rational(3, 2)
    assert snap.z < 2.0
    a, P, C = sympy.symbols("a P C", positive=True)
    assert snap.law("a", "P") == sympy.Eq(P, C * a ** sympy.Rational(3, 2))
    # The OLS error treats the systematic residuals as noise: 3/2 is 4 standard errors off.
    ols = pl.snap_fit(fit, error="ols")
    assert ols.exponent is None
    assert ols.candidates[0].value == sympy.Rational(3, 2)
    assert ols.candidates[0].z == pytest.approx(4.25, abs=0.01)
    # the systematic part dominates: rms residual over the spread of ln a
    assert fit.exponent_model_error == pytest.approx(fit.residual_rms / np.std(np.log(t.a)), rel=1e-12)
    assert fit.exponent_model_error > 2 * fit.exponent_stderr


def test_jupiters_moons():
    t = pl.jupiter_moons()
    galilean = t.select("galilean")
    fit = pl.fit_power_law(galilean.a, galilean.period)
    assert round(fit.exponent, 7) == 1.4999997
    assert pl.snap_fit(fit).exponent == sympy.Rational(3, 2)
    # the inner moons, close to the oblate planet, steepen the slope
    everything = pl.fit_power_law(t.a, t.period)
    assert round(everything.exponent, 5) == 1.50066
    assert everything.exponent - fit.exponent > 10 * fit.exponent_stderr


def test_jupiter_mass_from_the_two_prefactors():
    ratio = pl.central_mass_ratio(pl.jupiter_moons().select("galilean"), pl.kepler_planets())
    assert round(1 / ratio) == 1048  # IAU: M_sun / M_Jupiter-system = 1047.35


def test_central_mass_ratio_is_exact_on_keplerian_orbits():
    G = 6.674e-11
    a_km = np.array([1e5, 3e5, 2e6])
    a_au = np.array([0.3, 1.0, 12.0])
    table = lambda a, P, au, pu: pl.OrbitTable(("x", "y", "z"), a, P, au, pu, "test", ("g",) * 3)
    m1, m2 = 3.7e27, 2.1e30
    P1 = 2 * np.pi * (a_km * 1e3) ** 1.5 / np.sqrt(G * m1) / 86400.0
    P2 = 2 * np.pi * (a_au * 149_597_870_700.0) ** 1.5 / np.sqrt(G * m2) / (365.25 * 86400.0)
    ratio = pl.central_mass_ratio(table(a_km, P1, "km", "d"), table(a_au, P2, "au", "yr"))
    assert ratio == pytest.approx(m1 / m2, rel=1e-12)
    with pytest.raises(ValueError, match="unknown units"):
        pl.central_mass_ratio(table(a_km, P1, "pc", "d"), table(a_au, P2, "au", "yr"))
    with pytest.raises(ValueError, match="OrbitTable"):
        pl.central_mass_ratio((a_km, P1), table(a_au, P2, "au", "yr"))


def test_exact_power_law_is_recovered(key):
    x = np.logspace(-3, 3, 25)
    fit = pl.fit_power_law(x, 3.0 * x ** (2 / 3), key=key)
    assert fit.exponent == pytest.approx(2 / 3, abs=1e-12)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-12)
    assert fit.residual_rms < 1e-12
    # every resample of exact data has the same slope
    np.testing.assert_allclose(fit.boot_exponents, 2 / 3, atol=1e-12, rtol=0)
    assert pl.snap_fit(fit).exponent == sympy.Rational(2, 3)
    assert pl.snap_fit(fit, error="bootstrap").exponent == sympy.Rational(2, 3)
    assert pl.fit_prefactor(x, 3.0 * x ** (2 / 3), sympy.Rational(2, 3)) == pytest.approx(3.0, rel=1e-12)


@given(
    p=st.integers(-12, 12),
    q=st.integers(1, 6),
    log_c=st.floats(-5, 5),
)
def test_exact_data_snap_to_their_fraction(p, q, log_c):
    x = np.geomspace(0.1, 50.0, 12)
    y = np.exp(log_c + (p / q) * np.log(x))
    snap = pl.snap_fit(pl.fit_power_law(x, y))
    assert snap.exponent == sympy.Rational(p, q)


def test_ols_interval_covers_at_its_nominal_rate():
    """The t interval exponent ± t_{0.975, N-2} · stderr covers the true exponent in 95 % of
    data sets with Gaussian noise in ln y (exactly, for OLS). 1000 data sets, fixed seed; a
    two-sided binomial test at 1e-3, so a correct stderr fails once in a thousand seeds."""
    rng = np.random.default_rng(7)
    x = np.geomspace(1.0, 100.0, 10)
    t = stats.t.ppf(0.975, df=x.size - 2)
    covered = 0
    for _ in range(1000):
        y = 2.0 * x**0.75 * np.exp(0.1 * rng.standard_normal(x.size))
        fit = pl.fit_power_law(x, y)
        covered += abs(fit.exponent - 0.75) <= t * fit.exponent_stderr
    assert stats.binomtest(covered, 1000, 0.95).pvalue > 1e-3


def test_bootstrap_width_matches_the_ols_error_for_gaussian_noise(key):
    """With N = 400 points and homoscedastic Gaussian noise, the pairs bootstrap and OLS
    estimate the same standard error. Their ratio scatters by about 3 % (1/sqrt(2·2000)
    for the bootstrap percentiles, O(1/sqrt N) between the two estimators), so a 15 %
    band is 5 standard deviations wide: fixed seed, false-failure rate below 1e-5."""
    rng = np.random.default_rng(11)
    x = np.geomspace(0.5, 20.0, 400)
    y = 0.3 * x**1.25 * np.exp(0.05 * rng.standard_normal(x.size))
    fit = pl.fit_power_law(x, y, key=key)
    lo, hi = fit.exponent_interval
    assert (hi - lo) / (2 * 1.96) / fit.exponent_stderr == pytest.approx(1.0, abs=0.15)
    assert np.std(fit.boot_exponents) / fit.exponent_stderr == pytest.approx(1.0, abs=0.15)


def test_degenerate_resamples_are_redrawn(key):
    # a third of the resamples of x = (1, 1, 4) have all x equal; they are redrawn
    x = np.array([1.0, 1.0, 4.0])
    fit = pl.fit_power_law(x, 2.0 * np.sqrt(x), key=key, n_boot=1000)
    assert fit.boot_exponents.shape == (1000,)
    np.testing.assert_allclose(fit.boot_exponents, 0.5, atol=1e-12, rtol=0)


def test_bootstrap_is_reproducible_and_independent_of_x64(key):
    t = pl.kepler_planets()
    fit = pl.fit_power_law(t.a, t.period, key=key)
    again = pl.fit_power_law(t.a, t.period, key=key)
    other = pl.fit_power_law(t.a, t.period, key=jax.random.key(1))
    np.testing.assert_array_equal(fit.boot_exponents, again.boot_exponents)
    assert not np.array_equal(fit.boot_exponents, other.boot_exponents)
    with jax.enable_x64(False):
        single = pl.fit_power_law(t.a, t.period, key=jax.random.key(20261124))
        snap = pl.snap_fit(single)
    assert single.boot_exponents.dtype == np.float64
    assert all(type(v) is float for v in (single.exponent, single.prefactor, single.exponent_stderr))
    assert single.exponent == fit.exponent
    np.testing.assert_array_equal(single.boot_exponents, fit.boot_exponents)
    assert snap.exponent == sympy.Rational(3, 2)


# --------------------------------------------------------------------------- snapping


def test_candidates_are_every_reduced_fraction_once():
    snap = pl.snap_exponent(0.3, 0.01, max_denominator=6, max_numerator=12)
    expected = {Fraction(p, q) for q in range(1, 7) for p in range(-12, 13)}
    got = [Fraction(int(c.value.p), int(c.value.q)) for c in snap.candidates]
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    zs = [c.z for c in snap.candidates]
    assert zs == sorted(zs)
    for c in snap.candidates:
        assert c.z == pytest.approx(abs(0.3 - float(c.value)) / 0.01, rel=1e-12)
        assert c.complexity == abs(int(c.value.p)) + int(c.value.q)


@pytest.mark.parametrize(
    ("estimate", "sigma", "expected"),
    [
        (0.4, 0.1, sympy.Rational(1, 2)),  # simpler beats closer: 1/2 (z = 1) over 2/5 (z = 0)
        (0.4, 0.01, sympy.Rational(2, 5)),
        (0.45, 0.1, sympy.Rational(1, 2)),
        (-1.49, 0.01, sympy.Rational(-3, 2)),
        (0.03, 0.1, sympy.Integer(0)),
        (0.43, 0.001, None),  # 3/7 is outside q <= 6, nothing else is near
    ],
)
def test_snap_prefers_the_simplest_fraction_within_reach(estimate, sigma, expected):
    snap = pl.snap_exponent(estimate, sigma)
    assert snap.exponent == expected
    accepted = snap.accepted
    assert [(c.complexity, c.z) for c in accepted] == sorted((c.complexity, c.z) for c in accepted)
    assert all(c.z <= snap.z_max for c in accepted)
    if expected is not None:
        assert accepted[0].value == expected
        assert snap.z == pytest.approx(abs(estimate - float(expected)) / sigma, rel=1e-12)


def test_zero_stderr_accepts_only_an_exact_match():
    assert pl.snap_exponent(1.5, 0.0).exponent == sympy.Rational(3, 2)
    assert pl.snap_exponent(1.5 + 1e-15, 0.0).exponent is None


def test_law_as_sympy_equation():
    snap = pl.snap_exponent(-0.52, 0.05)
    x, y = sympy.symbols("r F", positive=True)
    assert snap.law("r", "F", 2) == sympy.Eq(y, 2 / sympy.sqrt(x))
    with pytest.raises(ValueError, match="no law"):
        pl.snap_exponent(0.43, 1e-4).law()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1.0, 2.0, 3.0], [1.0, -2.0, 3.0], "positive"),
        ([0.0, 2.0, 3.0], [1.0, 2.0, 3.0], "positive"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "same length"),
        ([1.0, 2.0], [1.0, 2.0], "at least 3"),
        ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], "NaN"),
        ([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], "NaN or infinity"),
        ([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]], "one-dimensional"),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "all x are equal"),
        (["a", "b", "c"], [1.0, 2.0, 3.0], "positive numbers"),
    ],
)
def test_fit_rejects_bad_data(x, y, message):
    with pytest.raises(ValueError, match=message):
        pl.fit_power_law(x, y)


def test_other_bad_input(key):
    x, y = [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="n_boot"):
        pl.fit_power_law(x, y, key=key, n_boot=10)
    with pytest.raises(ValueError, match=r"jax\.random key"):
        pl.fit_power_law(x, y, key=5)
    with pytest.raises(ValueError, match="stderr"):
        pl.snap_exponent(1.5, -0.1)
    with pytest.raises(ValueError, match="exponent"):
        pl.snap_exponent(math.nan, 0.1)
    with pytest.raises(ValueError, match="max_denominator"):
        pl.snap_exponent(1.5, 0.1, max_denominator=0)
    with pytest.raises(ValueError, match="z_max"):
        pl.snap_exponent(1.5, 0.1, z_max=0.0)
    fit = pl.fit_power_law(x, y)
    with pytest.raises(ValueError, match="needs a fit made with a key"):
        pl.snap_fit(fit, error="bootstrap")
    with pytest.raises(ValueError, match="error must be"):
        pl.snap_fit(fit, error="chi2")
    with pytest.raises(ValueError, match="PowerLawFit"):
        pl.snap_fit((1.5, 0.1))
    with pytest.raises(ValueError, match="exponent must be"):
        pl.fit_prefactor(x, y, "three halves")
