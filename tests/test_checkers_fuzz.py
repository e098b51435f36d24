"""No checker raises, whatever it is handed (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from physml.exercises import REGISTRY, Result, check

STATUSES = {"correct", "incorrect", "not attempted", "error"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.just(...),
    st.just(NotImplemented),
)
arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.object_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
)
values = st.one_of(
    scalars, arrays, st.lists(scalars, max_size=5), st.dictionaries(st.text(max_size=3), scalars, max_size=3)
)


class Hostile:
    """An object whose every conversion raises."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")

    def __float__(self):
        raise RuntimeError("no float for you")

    def __len__(self):
        raise RuntimeError("no len for you")

    def __eq__(self, other):
        raise RuntimeError("no comparison for you")

    __hash__ = object.__hash__


def function_returning(value):
    return lambda *args, **kwargs: value


def function_raising(exc):
    def answer(*args, **kwargs):
        raise exc

    return answer


answers = st.one_of(
    values,
    values.map(function_returning),
    st.sampled_from(
        [ValueError("x"), KeyError("k"), SystemExit(3), MemoryError(), RecursionError(), StopIteration()]
    ).map(function_raising),
    st.just(Hostile()),
    st.just(function_returning(Hostile())),
    st.just(print),
    st.just(type),
)


@given(exercise=st.sampled_from(sorted(REGISTRY)), answer=answers)
def test_no_checker_raises(exercise, answer):
    result = check(exercise, answer)
    assert isinstance(result, Result)
    assert result.status in STATUSES
    assert result.message and "Traceback" not in result.message
    assert 0 <= result.points <= result.max_points
    if result.status == "correct":
        raise AssertionError(f"{answer!r} should not pass exercise {exercise}")
