"""Lanczos on the periodic TFIM chain: physml against scipy on a Kronecker-built sparse matrix.

    python bench/lanczos.py [--sites 20] [--repeats 1] [--no-thread-check]

The ground state of H = -J sum_i sz_i sz_(i+1) - h sum_i sx_i (periodic, h = J = 1) on all
2^N states, two ways, in one run:

- physml: `physml.nqs.exact.ground_state` (a matrix-free LinearOperator handed to ARPACK
  through `scipy.sparse.linalg.eigsh`, which="SA", tol = 1e-10, one BLAS thread);
- baseline: the Hamiltonian assembled explicitly as a `scipy.sparse` CSR matrix from
  Kronecker products of 2 x 2 Pauli matrices and identities (no physml code), then
  `eigsh(H, k=1, which="SA", tol=1e-10)` from a seeded random start vector.

Both energies are compared with the free-fermion closed form `tfim_chain_energy(N)`. Times
are the best of --repeats; the baseline's assembly is reported apart from its solve. The
baseline solve is also timed with BLAS allowed every core (physml pins one thread itself),
to show what the one-thread setting changes. Writes one JSON line to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import scipy
import scipy.sparse
from scipy.sparse.linalg import eigsh
from threadpoolctl import threadpool_limits

from physml.nqs import exact, lattice, operators

SIGMA_X = scipy.sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
SIGMA_Z = scipy.sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, -1.0]]))
TOL = 1e-10


def site_operator(n: int, factors: dict[int, scipy.sparse.csr_matrix]) -> scipy.sparse.csr_matrix:
    """The tensor product over sites 0..n-1 (site 0 leftmost) of ``factors[i]``, the identity
    elsewhere; each run of identities is one ``identity(2**run)`` factor."""
    out = scipy.sparse.identity(1, format="csr")
    run = 0
    for site in range(n):
        if site not in factors:
            run += 1
            continue
        out = scipy.sparse.kron(out, scipy.sparse.identity(2**run, format="csr"), format="csr")
        out = scipy.sparse.kron(out, factors[site], format="csr")
        run = 0
    return scipy.sparse.kron(out, scipy.sparse.identity(2**run, format="csr"), format="csr")


def kronecker_tfim(n: int, J: float = 1.0, h: float = 1.0) -> scipy.sparse.csr_matrix:
    r"""The periodic TFIM chain :math:`-J\sum_i \sigma^z_i\sigma^z_{i+1} - h\sum_i\sigma^x_i` as a
    CSR matrix of shape ``(2**n, 2**n)``, summed term by term from Kronecker products."""
    H = scipy.sparse.csr_matrix((2**n, 2**n))
    for i in range(n):
        H = H - J * site_operator(n, {i: SIGMA_Z, (i + 1) % n: SIGMA_Z})
        H = H - h * site_operator(n, {i: SIGMA_X})
    return H


def timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The result of ``fn()`` and the fastest of ``repeats`` calls, in seconds."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def relative_error(energy: float, exact_energy: float) -> float:
    return abs(energy - exact_energy) / abs(exact_energy)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--no-thread-check", action="store_true", help="skip the baseline solve with every BLAS thread"
    )
    args = parser.parse_args()
    if args.sites < 3 or args.repeats < 1:
        raise ValueError("--sites must be at least 3 and --repeats at least 1")
    n = args.sites
    e_exact = exact.tfim_chain_energy(n)
    ham = operators.tfim(lattice.chain(n), J=1.0, h=1.0)

    state, physml_s = timed(lambda: exact.ground_state(ham, tol=TOL), args.repeats)
    H, assembly_s = timed(lambda: kronecker_tfim(n), args.repeats)
    v0 = np.random.default_rng(0).random(2**n)
    solve = lambda: eigsh(H, k=1, which="SA", tol=TOL, v0=v0)[0][0]
    with threadpool_limits(1, user_api="blas"):
        baseline_energy, solve_s = timed(solve, args.repeats)
    report: dict[str, Any] = {
        "benchmark": "lanczos_tfim_chain",
        "sites": n,
        "dimension": 2**n,
        "exact_energy": e_exact,
        "physml_s": physml_s,
        "physml_energy": state.energy,
        "physml_relative_error": relative_error(state.energy, e_exact),
        "scipy_assembly_s": assembly_s,
        "scipy_solve_s": solve_s,
        "scipy_total_s": assembly_s + solve_s,
        "scipy_energy": float(baseline_energy),
        "scipy_relative_error": relative_error(float(baseline_energy), e_exact),
        "scipy_nnz": int(H.nnz),
        "tol": TOL,
        "repeats": args.repeats,
        "blas_threads": 1,
        "scipy_version": scipy.__version__,
    }
    if not args.no_thread_check:
        cores = len(os.sched_getaffinity(0))
        with threadpool_limits(cores, user_api="blas"):
            _, report["scipy_solve_s_all_blas_threads"] = timed(solve, args.repeats)
        report["all_blas_threads"] = cores
    print(json.dumps(report))


if __name__ == "__main__":
    main()
