"""How many threads BLAS may use: one helper shared by the modules that call LAPACK in a loop."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def blas_threads(n: int = 1) -> Iterator[None]:
    """Limit BLAS/LAPACK (OpenBLAS, MKL) to ``n`` threads inside the ``with`` block.

    On two busy cores, threaded BLAS loses in the small dense solves and the long-vector
    BLAS-2 work of this package: two OpenBLAS threads made the 2^20-state Lanczos of
    :func:`physml.nqs.exact.ground_state` about twice as slow, a dense 1024 × 1024 ``eigh``
    about five times, and the Cholesky solve of stochastic reconfiguration slower too.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of BLAS threads must be a positive integer, got {n!r}")
    with threadpool_limits(limits=n, user_api="blas"):
        yield
