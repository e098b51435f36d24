"""Tests of physml.frontiers.cicy: Euler numbers against the published CICY list and a second,
independent computation; identities between configurations; the canonical form; the data sets.

The oracle data below are entries of the CICY list of Candelas, Dale, Lütken & Schimmrigk
(1988) as distributed with its Euler and Hodge numbers: (entry, chi, h11, h21, rows), one
row of degrees per projective factor (n_r = row sum - 1).
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from physml.frontiers import cicy

# Every entry of the list with chi <= -116 (entries 7836-7890), plus four with many factors.
LIST_TAIL = [
    (7836, -116, 3, 61, [[0, 1, 1], [0, 0, 2], [2, 1, 2]]),
    (7837, -116, 4, 62, [[1, 1, 0], [2, 0, 0], [1, 1, 1], [2, 0, 1]]),
    (7838, -116, 3, 61, [[1, 1, 0, 0], [1, 0, 2, 0], [0, 1, 2, 2]]),
    (7839, -116, 4, 62, [[1, 1, 0, 0], [1, 0, 2, 0], [0, 0, 2, 1], [0, 1, 1, 1]]),
    (7840, -120, 2, 62, [[0, 1, 1], [3, 2, 1]]),
    (7841, -120, 3, 63, [[1, 1, 0, 0], [0, 0, 2, 0], [1, 1, 1, 3]]),
    (7842, -120, 3, 63, [[1, 1, 0, 0], [1, 0, 2, 1], [0, 1, 2, 1]]),
    (7843, -120, 3, 63, [[1, 1, 0, 0], [0, 0, 2, 1], [1, 1, 2, 1]]),
    (7844, -120, 2, 62, [[2, 1], [2, 2]]),
    (7845, -120, 3, 63, [[1, 1], [1, 1], [1, 3]]),
    (7846, -120, 3, 63, [[2, 1, 0], [2, 0, 1], [1, 1, 1]]),
    (7847, -120, 3, 63, [[0, 0, 2], [1, 2, 0], [1, 2, 1]]),
    (7848, -120, 3, 63, [[0, 2, 0], [2, 0, 0], [1, 1, 3]]),
    (7849, -120, 4, 64, [[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 2, 0], [0, 1, 2, 1]]),
    (7850, -120, 4, 64, [[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 1, 0, 1], [0, 1, 0, 1, 3]]),
    (7851, -120, 3, 63, [[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 1, 1, 1, 3]]),
    (7852, -120, 4, 64, [[1, 1, 0], [1, 0, 1], [2, 0, 0], [2, 1, 1]]),
    (7853, -124, 2, 64, [[0, 2, 1], [2, 2, 1]]),
    (7854, -126, 3, 66, [[1, 1, 0], [2, 0, 1], [2, 1, 1]]),
    (7855, -126, 3, 66, [[1, 1, 0, 0], [1, 0, 1, 1], [0, 1, 3, 1]]),
    (7856, -126, 4, 67, [[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 1], [0, 1, 0, 3]]),
    (7857, -126, 4, 67, [[1, 1, 0], [1, 0, 1], [1, 1, 1], [3, 0, 0]]),
    (7858, -128, 2, 66, [[1, 1], [3, 2]]),
    (7859, -128, 4, 68, [[1, 1], [0, 2], [0, 2], [1, 2]]),
    (7860, -128, 4, 68, [[1, 1, 0], [0, 0, 2], [1, 0, 2], [0, 1, 2]]),
    (7861, -128, 1, 65, [[2, 2, 2, 2]]),
    (7862, -128, 4, 68, [[2], [2], [2], [2]]),
    (7863, -128, 2, 66, [[2, 1, 1], [2, 1, 1]]),
    (7864, -128, 4, 68, [[1, 0, 1], [0, 1, 1], [0, 1, 2], [1, 0, 2]]),
    (7865, -132, 3, 69, [[1, 1, 0], [0, 0, 2], [3, 1, 1]]),
    (7866, -132, 3, 69, [[1, 1, 0], [1, 1, 1], [3, 0, 1]]),
    (7867, -132, 2, 68, [[0, 0, 1, 1], [3, 2, 1, 1]]),
    (7868, -132, 2, 68, [[1, 1, 1], [3, 1, 1]]),
    (7869, -132, 2, 68, [[0, 0, 2], [3, 2, 1]]),
    (7870, -132, 3, 69, [[0, 2], [1, 2], [1, 2]]),
    (7871, -132, 3, 69, [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 3, 1]]),
    (7872, -138, 3, 72, [[1, 1, 0], [1, 0, 1], [3, 1, 1]]),
    (7873, -140, 2, 72, [[0, 1, 1], [2, 3, 1]]),
    (7874, -144, 3, 75, [[1, 1], [0, 2], [1, 3]]),
    (7875, -144, 3, 75, [[1, 1], [1, 2], [0, 3]]),
    (7876, -144, 3, 75, [[1, 1, 0], [1, 0, 2], [0, 1, 3]]),
    (7877, -144, 3, 75, [[1, 1, 0], [0, 0, 2], [1, 1, 3]]),
    (7878, -144, 1, 73, [[3, 3]]),
    (7879, -144, 1, 73, [[3, 2, 2]]),
    (7880, -144, 3, 75, [[2], [2], [3]]),
    (7881, -144, 3, 75, [[0, 2], [2, 0], [3, 1]]),
    (7882, -148, 2, 76, [[0, 2], [2, 3]]),
    (7883, -150, 2, 77, [[2, 1], [3, 1]]),
    (7884, -162, 2, 83, [[3], [3]]),
    (7885, -168, 2, 86, [[1, 1], [4, 1]]),
    (7886, -168, 2, 86, [[0, 1, 1], [4, 1, 1]]),
    (7887, -168, 2, 86, [[2], [4]]),
    (7888, -168, 2, 86, [[0, 2], [4, 1]]),
    (7889, -176, 1, 89, [[4, 2]]),
    (7890, -200, 1, 101, [[5]]),
]
LIST_MANY_FACTORS = [
    (1, 0, 15, 15, [[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 1, 1], [1, 0, 0, 1, 0, 0],
                    [1, 0, 0, 0, 0, 1], [0, 0, 1, 2, 0, 0], [0, 1, 0, 0, 2, 0]]),
    (14, 0, 19, 19, [[1, 1], [0, 3], [3, 0]]),  # Schoen's fibre product
    (532, -18, 12, 21, [[1, 1, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 1],
                        [0, 0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 1, 0, 1], [1, 0, 0, 0, 1, 0, 0, 0],
                        [0, 1, 0, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 1, 0]]),
    (536, -18, 14, 23, [[3, 0, 1], [0, 3, 1]]),  # the Tian–Yau cover
    (557, -20, 11, 21, [[1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0],
                        [0, 0, 0, 1, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 1, 0],
                        [0, 0, 1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 1, 1, 1]]),
]  # fmt: skip
LISTED = LIST_TAIL + LIST_MANY_FACTORS


def _from_rows(rows):
    return cicy.configuration([sum(row) - 1 for row in rows], rows)


@functools.cache
def _pool(max_factors: int = 4) -> tuple[cicy.Configuration, ...]:
    return cicy.enumerate_configurations(max_factors)


def _permuted(config, rows, columns):
    return cicy.configuration(
        [config.dims[r] for r in rows], [[config.degrees[r][j] for j in columns] for r in rows]
    )


# ------------------------------------------------------------------ the Euler number


@pytest.mark.parametrize(
    ("dims", "degrees", "chi", "hodge"),
    [
        ([4], [[5]], -200, (1, 101)),  # the quintic
        ([5], [[2, 4]], -176, (1, 89)),
        ([5], [[3, 3]], -144, (1, 73)),
        ([6], [[2, 2, 3]], -144, (1, 73)),
        ([7], [[2, 2, 2, 2]], -128, (1, 65)),
        ([2, 2], [[3], [3]], -162, (2, 83)),  # the bicubic: ONE equation of degree (3, 3)
        ([1, 1, 1, 1], [[2], [2], [2], [2]], -128, (4, 68)),  # the tetraquadric
    ],
    ids=["quintic", "5|2 4", "5|3 3", "6|2 2 3", "7|2 2 2 2", "bicubic", "tetraquadric"],
)
def test_classic_euler_and_hodge_numbers(dims, degrees, chi, hodge):
    config = cicy.configuration(dims, degrees)
    assert cicy.euler_number(config) == chi
    assert cicy.favourable_hodge_numbers(config) == hodge


@pytest.mark.parametrize("entry", LISTED, ids=[f"list{e[0]}" for e in LISTED])
def test_euler_numbers_of_the_cicy_list(entry):
    _, chi, h11, h21, rows = entry
    assert chi == 2 * (h11 - h21)  # the list is consistent with itself
    assert cicy.euler_number(_from_rows(rows)) == chi


def test_favourable_formula_fails_where_the_kahler_classes_do_not_descend():
    """Tian–Yau's cover (list 536) has h11 = 14, not m = 2; chi is right all the same."""
    tian_yau = _from_rows([[3, 0, 1], [0, 3, 1]])
    h11, h21 = cicy.favourable_hodge_numbers(tian_yau)
    assert (h11, h21) == (2, 11) != (14, 23)
    assert 2 * (h11 - h21) == 2 * (14 - 23) == cicy.euler_number(tian_yau) == -18


def _euler_by_series(config) -> int:
    """chi from the full total Chern class prod(1+J)^(n+1) / prod(1+D), expanded to third order
    in a grading parameter t (1/(1+tD) = 1 - tD + t^2 D^2 - t^3 D^3 + ...) with sympy
    polynomials, times prod D, in Z[J]/(J_r^(n_r+1)): a computation that does not use
    c_1 = 0 or Newton's identities."""
    t, *J = sympy.symbols(f"t J0:{config.num_factors}")

    def truncated(p):  # drop t^4 and beyond
        return sympy.Poly.from_dict({m: c for m, c in p.as_dict().items() if m[0] <= 3}, t, *J)

    D = [sum(q * J[r] for r, q in enumerate(col)) for col in zip(*config.degrees, strict=True)]
    factors = [
        sum(math.comb(n + 1, k) * (t * J[r]) ** k for k in range(4)) for r, n in enumerate(config.dims)
    ]
    factors += [sum((-t * d) ** k for k in range(4)) for d in D]
    total = sympy.Poly(1, t, *J)
    for factor in factors:
        total = truncated(total * sympy.Poly(factor, t, *J))
    c3 = sympy.Poly(total.as_expr().coeff(t, 3) * sympy.prod(D), *J)
    return int(c3.coeff_monomial(sympy.prod([J[r] ** n for r, n in enumerate(config.dims)])))


@settings(max_examples=60)
@given(st.data())
def test_euler_number_agrees_with_the_series_expansion_of_the_chern_class(data):
    config = data.draw(st.sampled_from(_pool(4)))
    assert cicy.euler_number(config) == _euler_by_series(config)


@pytest.mark.parametrize(
    "entry", LIST_MANY_FACTORS[:2] + LIST_MANY_FACTORS[3:4], ids=["list1", "schoen", "tian-yau"]
)
def test_series_expansion_reproduces_the_list(entry):
    assert _euler_by_series(_from_rows(entry[4])) == entry[1]


@pytest.mark.parametrize("degrees", [[5], [2, 4], [3, 3], [2, 2, 3], [2, 2, 2, 2]])
def test_single_projective_space_by_adjunction(degrees):
    """In P^n, c(X) = (1+H)^(n+1) / prod(1 + q_j H) and int_X H^3 = prod q_j, so
    chi = prod q_j * sum_{a+b=3} C(n+1, a) (-1)^b h_b(q), h_b the complete homogeneous
    symmetric polynomial; for the quintic, 5 (10 - 50 + 125 - 125) = -200."""
    n = len(degrees) + 3
    h = [sum(math.prod(c) for c in itertools.combinations_with_replacement(degrees, b)) for b in range(4)]
    c3 = sum(math.comb(n + 1, 3 - b) * (-1) ** b * h[b] for b in range(4))
    assert cicy.euler_number(cicy.configuration([n], [degrees])) == math.prod(degrees) * c3


def test_product_has_euler_number_zero():
    """T^2 x K3 = [2|3 0; 3|0 4] (list 31): chi = chi(T^2) chi(K3) = 0 * 24."""
    product = cicy.configuration([2, 3], [[3, 0], [0, 4]])
    assert cicy.euler_number(product) == 0
    assert "block diagonal" in cicy.exclusion_reason(product)


# ------------------------------------------------------- identities between configurations


@pytest.mark.parametrize(
    ("dims", "degrees", "same_as", "kind"),
    [
        ([5], [[1, 5]], [[5]], "hyperplane"),  # [5|1 5] = the quintic
        ([2, 3], [[2, 1], [0, 4]], [[2], [4]], "conic"),  # = [1|2; 3|4], list 7887
        ([3, 2], [[2, 2], [0, 3]], [[2], [2], [3]], "quadric"),  # = [1|2; 1|2; 2|3], list 7880
        ([1, 1, 4], [[1, 0, 1], [0, 1, 1], [4, 1, 0]], [[1, 1], [4, 1]], "graph"),  # list 7885
    ],
)
def test_redundant_configurations_have_the_euler_number_of_the_smaller_one(dims, degrees, same_as, kind):
    config = cicy.configuration(dims, degrees)
    assert kind in cicy.exclusion_reason(config)
    assert cicy.euler_number(config) == cicy.euler_number(_from_rows(same_as))


@settings(max_examples=40)
@given(st.data())
def test_cutting_by_a_hyperplane_changes_nothing(data):
    """P^(n+1) with one more linear equation is P^n: add 1 to n_r and a column e_r."""
    config = data.draw(st.sampled_from(_pool(3)))
    r = data.draw(st.integers(0, config.num_factors - 1))
    dims = [n + (s == r) for s, n in enumerate(config.dims)]
    bigger = cicy.configuration(dims, [[*row, int(s == r)] for s, row in enumerate(config.degrees)])
    assert "hyperplane" in cicy.exclusion_reason(bigger)
    assert cicy.euler_number(bigger) == cicy.euler_number(config)


@settings(max_examples=40)
@given(st.data())
def test_a_diagonal_in_p1_x_p1_is_a_p1(data):
    """Split a P^1 row with entries a into rows a', a'' (a' + a'' = a, one unit each) joined by a
    (1, 1) column: the diagonal of P^1 x P^1 is a P^1 on which O(a', a'') is O(a)."""
    config = data.draw(st.sampled_from([c for c in _pool(3) if 1 in c.dims]))
    r = config.dims.index(1)
    units = [j for j, q in enumerate(config.degrees[r]) for _ in range(q)]  # two columns (or one twice)
    first, second = ([int(j == units[i]) for j in range(config.num_equations)] for i in (0, 1))
    rows = [[*row, 0] for s, row in enumerate(config.degrees) if s != r] + [[*first, 1], [*second, 1]]
    split = cicy.configuration([n for s, n in enumerate(config.dims) if s != r] + [1, 1], rows)
    assert "graph" in cicy.exclusion_reason(split)
    assert cicy.euler_number(split) == cicy.euler_number(config)


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("dims", "degrees", "message"),
    [
        ([4], [[5.0]], r"degrees must hold integers"),
        ([4], [[True]], r"degrees must hold integers"),
        ([1, 3], [[2], [1, 3]], r"degrees must be a rectangular array"),
        ([4], [5], r"degrees must have 2 dimension"),
        ([0, 4], [[1], [5]], r"dims must be integers n_r >= 1"),
        ([4, 1], [[5]], r"one row per projective factor \(2 here\).*got shape \(1, 1\)"),
        ([4], [[6, -1]], r"degrees must be >= 0: row 0 \(P\^4\), column 1 holds -1"),
        ([5], [[5, 0, 1]], r"column 1 has degree 0 in every factor"),
        (
            [4, 3],
            [[5, 0], [0, 3]],
            r"row 1 \(P\^3\): degrees sum to 3, the Calabi–Yau condition needs n\+1 = 4",
        ),
        ([2, 2], [[3, 0], [0, 3]], r"dimension sum\(n_r\) - K = 4 - 2 = 2; a threefold needs 3"),
        ([4], [[4]], r"row 0 \(P\^4\): degrees sum to 4, the Calabi–Yau condition needs n\+1 = 5"),
    ],
    ids=[
        "float",
        "bool",
        "ragged",
        "1-d",
        "P^0",
        "shape",
        "negative",
        "zero-column",
        "not-CY",
        "surface",
        "quartic",
    ],
)
def test_invalid_configurations_are_rejected_with_the_reason(dims, degrees, message):
    with pytest.raises(ValueError, match=message):
        cicy.configuration(dims, degrees)


def test_functions_check_their_configuration():
    with pytest.raises(ValueError, match="expected a Configuration"):
        cicy.euler_number(([4], [[5]]))
    with pytest.raises(ValueError, match="Calabi–Yau condition"):
        cicy.euler_number(cicy.Configuration((4,), ((4,),)))  # built without the checks
    with pytest.raises(ValueError, match="at least one Configuration"):
        cicy.feature_matrix([])


def test_notation():
    assert str(cicy.configuration([4], [[5]])) == "[4|5]"
    assert str(_from_rows([[3, 0, 1], [0, 3, 1]])) == "[3|3 0 1; 3|0 3 1]"
    quintic = cicy.configuration(np.array([4]), np.array([[5]], dtype=np.int32))
    assert quintic == cicy.Configuration((4,), ((5,),)) and type(quintic.dims[0]) is int


# --------------------------------------------------------------------- canonical form


@settings(max_examples=150)
@given(st.data())
def test_canonical_form_is_invariant_under_permutations(data):
    config = data.draw(st.sampled_from([*_pool(4), *(_from_rows(e[4]) for e in LISTED)]))
    rows = data.draw(st.permutations(range(config.num_factors)))
    columns = data.draw(st.permutations(range(config.num_equations)))
    shuffled = _permuted(config, rows, columns)
    canonical = cicy.canonical_form(config)
    assert cicy.canonical_form(shuffled) == canonical
    assert cicy.canonical_form(canonical) == canonical
    assert list(canonical.dims) == sorted(config.dims, reverse=True)
    assert cicy.euler_number(shuffled) == cicy.euler_number(config)


def _brute_force_form(config):
    """An independent canonical form: the largest sorted column list over all m! row orders."""
    best = max(
        (
            tuple(config.dims[r] for r in rows),
            sorted((tuple(c[r] for r in rows) for c in zip(*config.degrees, strict=True)), reverse=True),
        )
        for rows in itertools.permutations(range(config.num_factors))
    )
    return best[0], tuple(best[1])


def test_enumerated_configurations_are_pairwise_inequivalent():
    """No two configurations in the pool are related by permutations (checked by brute force)."""
    pool = _pool(4)
    assert len({_brute_force_form(c) for c in pool}) == len(pool)
    assert all(cicy.canonical_form(c) == c for c in pool)


# ------------------------------------------------------------------------ the data sets


def test_enumeration_reproduces_the_cicy_list_where_checked():
    """Every listed configuration with chi <= -116 is found, with its chi, and none is excluded;
    with at most two factors the enumeration finds nothing else below -116."""
    pool = {c: cicy.euler_number(c) for c in _pool(4)}
    listed = {cicy.canonical_form(_from_rows(rows)): chi for _, chi, _, _, rows in LIST_TAIL}
    assert all(cicy.exclusion_reason(c) is None for c in listed)
    assert {c: pool.get(c) for c in listed} == listed
    assert {c for c, chi in pool.items() if chi <= -116 and c.num_factors <= 2} == {
        c for c in listed if c.num_factors <= 2
    }


def test_enumeration_counts_and_single_factor_cicys():
    """There are exactly five CICY threefolds in a single projective space (Candelas et al.)."""
    assert [len(_pool(m)) for m in (1, 2, 3, 4)] == [5, 46, 267, 1089]
    assert {str(c) for c in _pool(1)} == {"[4|5]", "[5|4 2]", "[5|3 3]", "[6|3 2 2]", "[7|2 2 2 2]"}
    assert {str(c) for c in _pool(4) if max(c.dims) <= 1} == {
        str(c) for c in cicy.enumerate_configurations(4, 1)
    }


def test_every_enumerated_configuration_is_kept_even_and_in_the_cicy_range():
    """No exclusion applies; chi = 2(h11 - h21) is even; CICY threefolds have -200 <= chi <= 0."""
    for config in _pool(4):
        assert cicy.exclusion_reason(config) is None
        chi = cicy.euler_number(config)
        assert chi % 2 == 0 and -200 <= chi <= 0


@pytest.mark.slow
def test_five_factor_enumeration():
    pool = cicy.enumerate_configurations(5)
    assert len(pool) == 3398 and set(_pool(4)) <= set(pool)
    chi = np.asarray(cicy.euler_numbers(pool))
    assert np.all(chi % 2 == 0) and chi.min() == -200 and chi.max() == 0


def test_random_configurations_are_deterministic_distinct_and_kept(key):
    first = cicy.random_configurations(key, 300, max_factors=4)
    assert first == cicy.random_configurations(key, 300, max_factors=4)
    assert first != cicy.random_configurations(jax.random.fold_in(key, 1), 300, max_factors=4)
    assert len(set(first)) == 300 and set(first) <= set(_pool(4))
    everything = cicy.random_configurations(key, len(_pool(3)), max_factors=3)
    assert sorted(everything) == sorted(_pool(3))
    with pytest.raises(ValueError, match="count must be at most 267"):
        cicy.random_configurations(key, 268, max_factors=3)
    with pytest.raises(ValueError, match="max_factors must be <= 6"):
        cicy.random_configurations(key, 1, max_factors=7)


def test_feature_matrix_pads_the_canonical_matrices(key):
    configs = cicy.random_configurations(key, 50, max_factors=4)
    x = cicy.feature_matrix(configs, shape=(5, 8))
    assert x.shape == (50, 5, 9) and x.dtype == np.float64
    for features, config in zip(np.asarray(x), configs, strict=True):
        m, K = config.num_factors, config.num_equations
        np.testing.assert_array_equal(features[:m, 0], config.dims)
        np.testing.assert_array_equal(features[:m, 1 : 1 + K], config.degrees)
        assert not features[m:].any() and not features[:, 1 + K :].any()
    shuffled = [_permuted(c, range(c.num_factors)[::-1], range(c.num_equations)[::-1]) for c in configs]
    np.testing.assert_array_equal(np.asarray(cicy.feature_matrix(shuffled, shape=(5, 8))), np.asarray(x))
    assert cicy.feature_matrix(configs).shape == (
        50,
        max(c.num_factors for c in configs),
        1 + max(c.num_equations for c in configs),
    )
    with pytest.raises(ValueError, match="beyond"):
        cicy.feature_matrix([cicy.configuration([1, 1, 1, 1], [[2], [2], [2], [2]])], shape=(3, 1))
    with pytest.raises(ValueError, match="shape must be a pair"):
        cicy.feature_matrix(configs, shape=(5,))


def test_euler_numbers_match_euler_number(key):
    configs = cicy.random_configurations(key, 40, max_factors=4)
    chi = cicy.euler_numbers(configs)
    assert chi.shape == (40,) and np.issubdtype(chi.dtype, np.integer)
    assert np.asarray(chi).tolist() == [cicy.euler_number(c) for c in configs]
