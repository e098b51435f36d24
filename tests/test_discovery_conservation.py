"""physml.discovery.conservation: collision simulators against mechanics, null spaces against
constructed matrices, and the laws found against momentum and energy."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy import stats

from physml.discovery import conservation as cs

DEFAULT_LABELS = ("m₁v₁", "m₂v₂", "½m₁v₁²", "½m₂v₂²", "v₁", "v₂", "v₁²", "v₂²")


def kinetic_energy(c, when):
    v = c.v_before if when == "before" else c.v_after
    speed2 = v**2 if v.ndim == 2 else np.sum(v**2, axis=-1)
    return 0.5 * np.sum(c.masses * speed2, axis=1)


def momentum(c, when):
    v = c.v_before if when == "before" else c.v_after
    m = c.masses if v.ndim == 2 else c.masses[..., None]
    return np.sum(m * v, axis=1)


def outside(vectors, basis):
    """Size of the part of ``vectors`` outside the span of ``basis``."""
    q = np.linalg.qr(basis)[0]
    return np.linalg.norm(vectors - q @ (q.T @ vectors))


# ------------------------------------------------------------------------- simulators


@pytest.mark.parametrize("e", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_1d_collisions_obey_newton_and_restitution(key, e):
    c = cs.collide_1d(key, 200, restitution=e)
    m1, m2 = c.masses.T
    v1, v2 = c.v_before.T
    assert c.masses.shape == c.v_before.shape == c.v_after.shape == (200, 2)
    assert ((0.5 <= c.masses) & (c.masses <= 2.0)).all() and np.std(c.masses) > 0.2
    assert (v1 > v2).all(), "the particles approach"
    # the textbook formula, written out independently
    M = m1 + m2
    np.testing.assert_allclose(c.v_after[:, 0], (m1 * v1 + m2 * v2 - m2 * e * (v1 - v2)) / M, atol=1e-12)
    np.testing.assert_allclose(c.v_after[:, 1], (m1 * v1 + m2 * v2 + m1 * e * (v1 - v2)) / M, atol=1e-12)
    np.testing.assert_allclose(momentum(c, "after"), momentum(c, "before"), atol=1e-12, rtol=0)
    np.testing.assert_allclose(c.v_after[:, 0] - c.v_after[:, 1], -e * (v1 - v2), atol=1e-12)
    mu = m1 * m2 / M
    loss = kinetic_energy(c, "before") - kinetic_energy(c, "after")
    np.testing.assert_allclose(loss, 0.5 * mu * (1 - e**2) * (v1 - v2) ** 2, atol=1e-12, rtol=0)


def test_equal_masses_exchange_velocities_and_sticky_ones_move_together(key):
    c = cs.collide_1d(key, 50, mass_range=(1.0, 1.0))
    np.testing.assert_allclose(c.v_after, c.v_before[:, ::-1], atol=1e-12, rtol=0)
    stuck = cs.collide_1d(key, 50, restitution=0.0)
    np.testing.assert_allclose(stuck.v_after[:, 0], stuck.v_after[:, 1], atol=1e-12, rtol=0)


@pytest.mark.parametrize("e", [0.0, 0.5, 1.0])
def test_2d_collisions_of_smooth_disks(key, e):
    c = cs.collide_2d(key, 300, restitution=e)
    assert c.v_before.shape == c.v_after.shape == (300, 2, 2) and c.normal.shape == (300, 2)
    n = c.normal
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(momentum(c, "after"), momentum(c, "before"), atol=1e-12, rtol=0)
    rel_before = c.v_before[:, 0] - c.v_before[:, 1]
    rel_after = c.v_after[:, 0] - c.v_after[:, 1]
    u_n = np.sum(rel_before * n, axis=1)
    assert (u_n > 0).all(), "the disks approach along the line of centres"
    np.testing.assert_allclose(np.sum(rel_after * n, axis=1), -e * u_n, atol=1e-12)
    tangent = np.stack([-n[:, 1], n[:, 0]], axis=1)
    np.testing.assert_allclose(
        np.sum(rel_after * tangent, axis=1), np.sum(rel_before * tangent, axis=1), atol=1e-12
    )
    m1, m2 = c.masses.T
    loss = kinetic_energy(c, "before") - kinetic_energy(c, "after")
    np.testing.assert_allclose(loss, 0.5 * m1 * m2 / (m1 + m2) * (1 - e**2) * u_n**2, atol=1e-12, rtol=0)


def test_impact_parameter_is_uniform(key):
    """A uniform beam: sin of the angle between the line of centres and the relative velocity
    is uniform on (-1, 1). Kolmogorov–Smirnov test on 4000 collisions, fixed seed; a correct
    geometry fails with probability 1e-3."""
    c = cs.collide_2d(key, 4000)
    rel = c.v_before[:, 0] - c.v_before[:, 1]
    u = rel / np.linalg.norm(rel, axis=1, keepdims=True)
    sin_alpha = u[:, 0] * c.normal[:, 1] - u[:, 1] * c.normal[:, 0]
    assert stats.kstest(sin_alpha, stats.uniform(-1, 2).cdf).pvalue > 1e-3


def test_simulators_are_reproducible_and_float64_without_x64(key):
    for collide in (cs.collide_1d, cs.collide_2d):
        c = collide(key, 20, restitution=0.7)
        with jax.enable_x64(False):
            single = collide(jax.random.key(20261124), 20, restitution=0.7)
            A, _ = cs.delta_phi(single)
            ns = cs.null_space(A)
        for a, b in zip(c[:3], single[:3], strict=True):
            assert b.dtype == np.float64
            np.testing.assert_array_equal(a, b)
        assert ns.singular_values.dtype == np.float64
        assert not np.array_equal(c.masses, collide(jax.random.key(0), 20).masses)


# --------------------------------------------------------------------------- features


def test_feature_matrix_1d(key):
    c = cs.collide_1d(key, 10)
    phi, labels = cs.feature_matrix(c, ("m", "mv", "KE", "v", "v2"), when="after")
    assert labels == ("m₁", "m₂", *DEFAULT_LABELS)
    m, v = c.masses, c.v_after
    np.testing.assert_array_equal(phi, np.concatenate([m, m * v, 0.5 * m * v**2, v, v**2], axis=1))
    A, labels = cs.delta_phi(c)
    assert labels == DEFAULT_LABELS
    np.testing.assert_array_equal(A, cs.feature_matrix(c, when="after")[0] - cs.feature_matrix(c)[0])


def test_feature_matrix_2d(key):
    c = cs.collide_2d(key, 10)
    phi, labels = cs.feature_matrix(c, ("mv", "KE", "v2"))
    assert labels == ("m₁v₁ₓ", "m₁v₁ᵧ", "m₂v₂ₓ", "m₂v₂ᵧ", "½m₁|v₁|²", "½m₂|v₂|²", "|v₁|²", "|v₂|²")
    m, v = c.masses, c.v_before
    np.testing.assert_array_equal(phi[:, 1], m[:, 0] * v[:, 0, 1])
    np.testing.assert_array_equal(phi[:, 2], m[:, 1] * v[:, 1, 0])
    np.testing.assert_allclose(phi[:, 5], 0.5 * m[:, 1] * (v[:, 1, 0] ** 2 + v[:, 1, 1] ** 2), rtol=1e-15)
    _, labels = cs.feature_matrix(c, ("v",))
    assert labels == ("v₁ₓ", "v₁ᵧ", "v₂ₓ", "v₂ᵧ")


# --------------------------------------------------------------------------- null space


def test_null_space_of_a_constructed_matrix():
    rng = np.random.default_rng(3)
    F, k = 10, 3
    known = np.linalg.qr(rng.standard_normal((F, k)))[0]
    A = rng.standard_normal((40, F)) @ (np.eye(F) - known @ known.T)
    ns = cs.null_space(A)
    assert ns.dimension == k and ns.basis.shape == (F, k)
    np.testing.assert_allclose(np.linalg.norm(ns.basis, axis=0), 1.0, rtol=1e-12)
    assert np.linalg.norm(A @ ns.basis) < 1e-12 * np.linalg.norm(A)
    # same subspace: the known vectors have no component outside the basis
    assert outside(known, ns.basis) < 1e-12
    assert np.all(np.diff(ns.singular_values) <= 0) and ns.singular_values.shape == (F,)


def test_null_space_of_a_wide_matrix():
    A = np.random.default_rng(4).standard_normal((4, 10))
    ns = cs.null_space(A)
    assert ns.dimension == 6
    assert ns.singular_values.shape == (10,) and (ns.singular_values[4:] == 0).all()
    assert ns.gap == np.inf
    assert np.linalg.norm(A @ ns.basis) < 1e-12 * np.linalg.norm(A)


def test_elastic_collisions_conserve_momentum_and_energy(key):
    A, labels = cs.delta_phi(cs.collide_1d(key, 50))
    ns = cs.null_space(A)
    s = ns.singular_values
    assert ns.dimension == 2
    # columns have unit norm, so sigma_max is in [1, sqrt(F)]: the bound is absolute and relative
    assert 1.0 <= s[0] <= np.sqrt(8)
    assert (s[-2:] <= 1e-12).all()
    assert s[-3] > 0.05
    assert ns.gap > 1e8
    assert np.linalg.norm(A @ ns.basis) <= 1e-12 * np.linalg.norm(A)
    momentum_law = np.array([1, 1, 0, 0, 0, 0, 0, 0]) / np.sqrt(2)
    energy_law = np.array([0, 0, 1, 1, 0, 0, 0, 0]) / np.sqrt(2)
    assert outside(np.stack([momentum_law, energy_law], axis=1), ns.basis) < 1e-12

    laws = cs.sparsest_null_vectors(A)
    assert len(laws) == 2
    np.testing.assert_allclose(laws[0].coefficients, [1, 1, 0, 0, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(laws[1].coefficients, [0, 0, 1, 1, 0, 0, 0, 0], atol=1e-12)
    assert [law.support for law in laws] == [(0, 1), (2, 3)]
    assert all(law.residual < 1e-14 for law in laws)
    assert [cs.law_string(law, labels) for law in laws] == [
        "m₁v₁ + m₂v₂ = const",
        "½m₁v₁² + ½m₂v₂² = const",
    ]


@pytest.mark.parametrize("e", [0.0, 0.5])
def test_inelastic_collisions_conserve_only_momentum(key, e):
    A, labels = cs.delta_phi(cs.collide_1d(key, 50, restitution=e))
    ns = cs.null_space(A)
    assert ns.dimension == 1
    assert ns.singular_values[-1] <= 1e-12 and ns.singular_values[-2] > 0.05
    (law,) = cs.sparsest_null_vectors(A)
    assert cs.law_string(law, labels) == "m₁v₁ + m₂v₂ = const"


@pytest.mark.parametrize(("e", "expected"), [(1.0, 3), (0.5, 2)])
def test_2d_collisions_conserve_both_momentum_components(key, e, expected):
    A, labels = cs.delta_phi(cs.collide_2d(key, 50, restitution=e))
    ns = cs.null_space(A)
    assert ns.dimension == expected
    assert (ns.singular_values[-expected:] <= 1e-12).all() and ns.gap > 1e8
    strings = [cs.law_string(law, labels) for law in cs.sparsest_null_vectors(A)]
    assert (
        strings
        == ["m₁v₁ₓ + m₂v₂ₓ = const", "m₁v₁ᵧ + m₂v₂ᵧ = const", "½m₁|v₁|² + ½m₂|v₂|² = const"][:expected]
    )


def test_masses_are_one_feature_laws(key):
    A, labels = cs.delta_phi(cs.collide_1d(key, 50), ("m", "mv", "KE", "v", "v2"))
    assert (A[:, :2] == 0).all()
    laws = cs.sparsest_null_vectors(A)
    assert [law.support for law in laws[:2]] == [(0,), (1,)]
    assert [cs.law_string(law, labels) for law in laws] == [
        "m₁ = const",
        "m₂ = const",
        "m₁v₁ + m₂v₂ = const",
        "½m₁v₁² + ½m₂v₂² = const",
    ]


def test_equal_masses_give_spurious_laws(key):
    """Why the simulators vary the masses: with m₁ = m₂ = 1 the columns m₁v₁ and v₁ coincide,
    and combinations of velocity features pass for conservation laws."""
    A, labels = cs.delta_phi(cs.collide_1d(key, 50, mass_range=(1.0, 1.0)))
    assert cs.null_space(A).dimension == 6
    velocities = A[:, 4:]  # v₁, v₂, v₁², v₂²: no mass in sight, yet two "laws"
    strings = [cs.law_string(law, labels[4:]) for law in cs.sparsest_null_vectors(velocities)]
    assert strings == ["v₁ + v₂ = const", "v₁² + v₂² = const"]
    varied, _ = cs.delta_phi(cs.collide_1d(key, 50), ("v", "v2"))
    assert cs.null_space(varied).dimension == 0


def test_units_do_not_change_the_laws(key):
    """Scaling columns (a change of units) leaves the laws alone: the columns are normalised
    before the SVD. Unnormalised, the small columns would look conserved."""
    A, labels = cs.delta_phi(cs.collide_1d(key, 50))
    stars_in_si = np.array([1e34, 1e34, 1e38, 1e38, 1e4, 1e4, 1e8, 1e8])  # kg m/s, J, m/s, m²/s²
    mixed = np.array([1e12, 1e12, 1e-12, 1e-12, 1.0, 1e-6, 1e6, 1.0])
    for D in (stars_in_si, mixed):
        ns = cs.null_space(A * D)
        assert ns.dimension == 2
        np.testing.assert_allclose(ns.column_scale, np.linalg.norm(A, axis=0) * D, rtol=1e-12)
        np.testing.assert_allclose(ns.singular_values, cs.null_space(A).singular_values, atol=1e-12)
        for v in ns.basis.T:  # each basis vector annihilates the rescaled matrix
            assert np.linalg.norm((A * D) @ v) <= 1e-12 * np.linalg.norm((A * D) * np.abs(v))
        laws = cs.sparsest_null_vectors(A * D)
        assert [cs.law_string(law, labels) for law in laws] == [
            "m₁v₁ + m₂v₂ = const",
            "½m₁v₁² + ½m₂v₂² = const",
        ]
        assert np.linalg.matrix_rank(A * D) < 6, "without normalisation the SVD sees spurious laws"


def test_sparse_law_scaling_and_text():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 30))
    A = np.stack([2 * a, a, b], axis=1)  # x - 2y is conserved; scaled to (0.5, -1, 0)
    (law,) = cs.sparsest_null_vectors(A)
    np.testing.assert_allclose(law.coefficients, [0.5, -1.0, 0.0], atol=1e-12)
    assert law.support == (0, 1)
    assert cs.law_string(law, ("x", "y", "z")) == "0.5 x − y = const"
    A = np.stack([a, -3 * a, b], axis=1)
    (law,) = cs.sparsest_null_vectors(A)
    assert cs.law_string(law, ("x", "y", "z")) == "x + 0.333 y = const"
    assert cs.law_string(law, ("x", "y", "z"), digits=5) == "x + 0.33333 y = const"


def test_no_law_and_max_support():
    A = np.random.default_rng(6).standard_normal((30, 5))
    assert cs.null_space(A).dimension == 0 and cs.null_space(A).gap is None
    assert cs.sparsest_null_vectors(A) == []
    a = np.random.default_rng(7).standard_normal((30, 3))
    A = np.concatenate([a, a.sum(axis=1, keepdims=True)], axis=1)  # law with support 4
    assert len(cs.sparsest_null_vectors(A)) == 1
    assert cs.sparsest_null_vectors(A, max_support=3) == []


def test_forced_dimension_reports_its_gap(key):
    A, _ = cs.delta_phi(cs.collide_1d(key, 50))
    ns = cs.null_space(A, dimension=1)
    assert ns.dimension == 1 and ns.basis.shape == (8, 1)
    assert ns.gap == pytest.approx(ns.singular_values[-2] / ns.singular_values[-1], rel=1e-12)
    assert cs.null_space(A, dimension=0).basis.shape == (8, 0)


# ------------------------------------------------------------------------------ noise


def test_noise_statistics(key):
    """The added noise is N(0, sigma^2) per component, independent before and after: a
    chi-square test of its variance and a correlation test between before and after, on 8000
    values each, fixed seed; each fails a correct implementation with probability 1e-3."""
    c = cs.collide_2d(key, 2000)
    sigma = 0.1
    noisy = cs.add_noise(c, jax.random.key(1), sigma)
    np.testing.assert_array_equal(noisy.masses, c.masses)
    d_before = (noisy.v_before - c.v_before).ravel()
    d_after = (noisy.v_after - c.v_after).ravel()
    chi2 = np.sum(d_before**2) / sigma**2
    assert 1e-3 / 2 < stats.chi2.cdf(chi2, d_before.size) < 1 - 1e-3 / 2
    assert stats.pearsonr(d_before, d_after).pvalue > 1e-3
    # relative noise scales with |v|
    rel = cs.add_noise(c, jax.random.key(1), sigma, relative=True)
    scaled = (rel.v_before - c.v_before) / np.linalg.norm(c.v_before, axis=-1, keepdims=True)
    assert 1e-3 / 2 < stats.chi2.cdf(np.sum(scaled**2) / sigma**2, scaled.size) < 1 - 1e-3 / 2


def test_noise_is_the_same_draw_at_every_level(key):
    c = cs.collide_1d(key, 20)
    k = jax.random.key(2)
    one = cs.add_noise(c, k, 0.01).v_after - c.v_after
    two = cs.add_noise(c, k, 0.02).v_after - c.v_after
    np.testing.assert_allclose(two, 2 * one, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(cs.add_noise(c, k, 0.0).v_before, c.v_before)


def test_noise_closes_the_gap(key):
    sigmas = [0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0]
    scan = cs.gap_versus_noise(key, sigmas)
    assert scan.dimension == 2 and scan.singular_values.shape == (6, 8)
    assert scan.labels == DEFAULT_LABELS
    assert scan.gap[0] > 1e8
    assert (np.diff(scan.gap[1:5]) < 0).all()  # gap ~ 1/sigma once noise exceeds rounding
    assert scan.gap[-1] < 10
    scan2 = cs.gap_versus_noise(key, [0.0, 1.0], dim=2, restitution=0.5)
    assert scan2.dimension == 2 and scan2.gap[0] > 1e8 and scan2.gap[1] < 10
    # with noise, the default tolerance no longer sees a law
    noisy = cs.add_noise(cs.collide_1d(key, 50), jax.random.key(3), 1e-2)
    assert cs.null_space(cs.delta_phi(noisy)[0]).dimension == 0


# --------------------------------------------------------------------------- bad input


def test_simulators_reject_bad_input(key):
    for collide in (cs.collide_1d, cs.collide_2d):
        with pytest.raises(ValueError, match="n must be"):
            collide(key, 0)
        with pytest.raises(ValueError, match="n must be"):
            collide(key, 2.5)
        for e in (1.5, -0.1, True, "1"):
            with pytest.raises(ValueError, match="restitution"):
                collide(key, 3, restitution=e)
        for r in ((0.0, 1.0), (2.0, 1.0), (1.0,), 3.0):
            with pytest.raises(ValueError, match="mass_range"):
                collide(key, 3, mass_range=r)
        with pytest.raises(ValueError, match="speed"):
            collide(key, 3, speed=0.0)
        with pytest.raises(ValueError, match=r"jax\.random key"):
            collide(42, 3)


def test_features_reject_bad_input(key):
    c = cs.collide_1d(key, 5)
    with pytest.raises(ValueError, match="unknown feature"):
        cs.feature_matrix(c, ("mv", "p"))
    with pytest.raises(ValueError, match="sequence of names"):
        cs.feature_matrix(c, "mv")
    with pytest.raises(ValueError, match="sequence of names"):
        cs.delta_phi(c, ())
    with pytest.raises(ValueError, match="repeat"):
        cs.delta_phi(c, ("mv", "mv"))
    with pytest.raises(ValueError, match="when"):
        cs.feature_matrix(c, when="during")
    with pytest.raises(ValueError, match="shape"):
        cs.delta_phi(c._replace(v_after=c.v_after[:, :1]))
    with pytest.raises(ValueError, match="shape"):
        cs.delta_phi(c._replace(masses=c.masses[:, 0]))
    with pytest.raises(ValueError, match="NaN"):
        cs.delta_phi(c._replace(v_before=np.full((5, 2), np.nan)))
    with pytest.raises(ValueError, match="Collisions"):
        cs.delta_phi((c.masses, c.v_before, c.v_after))


def test_linear_algebra_rejects_bad_input(key):
    with pytest.raises(ValueError, match="shape"):
        cs.null_space(np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        cs.null_space(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="rtol"):
        cs.null_space(np.eye(3), rtol=-1.0)
    with pytest.raises(ValueError, match="dimension"):
        cs.null_space(np.eye(3), dimension=4)
    with pytest.raises(ValueError, match="max_support"):
        cs.sparsest_null_vectors(np.eye(3), max_support=0)
    with pytest.raises(ValueError, match="set max_support"):
        cs.sparsest_null_vectors(np.ones((3, 21)))
    (law,) = cs.sparsest_null_vectors(np.array([[1.0, 1.0], [2.0, 2.0]]))
    with pytest.raises(ValueError, match="labels"):
        cs.law_string(law, ("x",))
    c = cs.collide_1d(key, 5)
    with pytest.raises(ValueError, match="sigma"):
        cs.add_noise(c, key, -0.1)
    with pytest.raises(ValueError, match="sigmas"):
        cs.gap_versus_noise(key, [0.1, -1.0])
    with pytest.raises(ValueError, match="dim"):
        cs.gap_versus_noise(key, [0.1], dim=3)
    with pytest.raises(ValueError, match=r"jax\.random key"):
        cs.gap_versus_noise(7, [0.1])
