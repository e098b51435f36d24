"""The shared BLAS thread limit."""

import pytest
from threadpoolctl import threadpool_info

from physml._threads import blas_threads


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_blas_runs_on_the_requested_threads_inside_the_block_and_is_restored_after():
    before = _blas_threads()
    assert before, "NumPy's BLAS is not visible to threadpoolctl"
    # A count different from the current one, so that the block has to change something
    # (`make test` already runs with OPENBLAS_NUM_THREADS=1).
    n = 2 if before[0] == 1 else 1
    with blas_threads(n):
        assert _blas_threads() == [n] * len(before)
    assert _blas_threads() == before


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "1"])
def test_bad_thread_counts_are_refused(n):
    with pytest.raises(ValueError, match="positive integer"), blas_threads(n):
        pass
