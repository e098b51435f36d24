"""VMC of neural quantum states: physml against NetKet on the same problem, same machine, one run.

    python bench/nqs_vs_netket.py [--model tfim|heisenberg] [--iterations 300] [--samples 1000]
        [--chains 250] [--burn-in 2] [--learning-rate 0.02] [--diag-shift 0.01]
        [--dtype float64|float32] [--netket-python .venv-bench/bin/python] [--skip-netket]

The default problem is the issue's: the periodic transverse-field Ising chain of N = 20
spins at h = J = 1 (E0 = -25.490989686), an RBM with alpha = 1 (N + M + NM = 440
parameters), Metropolis with single-spin flips (a sample every sweep of N proposals,
--burn-in sweeps discarded per chain and iteration, chains kept between iterations), and
SR with a dense S, a diagonal shift and a Cholesky solve, plain SGD steps of --learning-rate.
`--model heisenberg` runs the Heisenberg ring of 22 sites (Marshall sign rule, S^z = 0 by
exchange moves; E0 = -9.786880652) in physml only.

NetKet runs the same setup (nk.models.RBM, nk.sampler.MetropolisLocal with the same chains,
samples, sweep size and discarded samples, nk.optimizer.SR with QGTJacobianDense and
nk.optimizer.solver.cholesky, nk.optimizer.Sgd) in a separate interpreter, --netket-python,
because it is installed only for this benchmark (bench/README.md). Both run with one BLAS
thread. For each: the time of the first iteration (compilation included), the median
seconds per iteration after it, and the relative error of the final state's energy computed
*exactly* (a sum over all 2^N configurations, the same physml code for both; NetKet's RBM
parameters are mapped onto physml's, checked on random configurations). Writes one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
TFIM_E0 = -25.490989686
HEISENBERG_E0 = -9.786880652


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=("tfim", "heisenberg"), default="tfim")
    parser.add_argument("--sites", type=int, default=None, help="default 20 (tfim), 22 (heisenberg)")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=250)
    parser.add_argument("--burn-in", type=int, default=2, help="sweeps discarded per chain and iteration")
    parser.add_argument("--learning-rate", type=float, default=0.02)
    parser.add_argument("--diag-shift", type=float, default=0.01)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--netket-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--skip-netket", action="store_true")
    parser.add_argument(
        "--exact", action="store_true", help="physml with exact sums instead of sampling (N <= 14)"
    )
    parser.add_argument("--part", choices=("all", "netket"), default="all", help=argparse.SUPPRESS)
    parser.add_argument("--params-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sites is None:
        args.sites = 20 if args.model == "tfim" else 22
    return args


def summary(seconds: list[float], energies: list[float]) -> dict:
    import numpy as np

    tail = max(1, len(energies) // 6)
    per_iteration = float(np.median(seconds[1:])) if len(seconds) > 1 else float("nan")
    return {
        "first_iteration_s": seconds[0],
        "seconds_per_iteration": per_iteration,
        "iterations_per_second": 1.0 / per_iteration,
        "total_s": float(np.sum(seconds)),
        "energy_mean_last_sixth": float(np.mean(energies[-tail:])),
    }


# ----------------------------------------------------------------------------- physml


def physml_run(args: argparse.Namespace) -> tuple[dict, dict]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from physml.nqs import ansatz, lattice, operators, sampling, sr, vmc

    n = args.sites
    if args.model == "tfim":
        ham, move = operators.tfim(lattice.chain(n), J=1.0, h=1.0), "flip"
    else:
        ham, move = operators.heisenberg(lattice.chain(n)), "exchange"
    net = ansatz.rbm(n, 1)
    key_params, key_run = jax.random.split(jax.random.key(args.seed))
    params = net.init(key_params, dtype=jnp.dtype(args.dtype))
    sampler = None
    if not args.exact:
        sampler = sampling.metropolis(
            net, n_samples=args.samples, n_chains=args.chains, burn_in=args.burn_in, move=move
        )
    optimizer = sr.sr(args.learning_rate, args.diag_shift)
    result = vmc.run_vmc(
        ham, net, optimizer, key_run, n_iter=args.iterations, sampler=sampler, params=params, progress=False
    )
    out = summary(list(result.log.seconds), list(result.log.energy))
    out["acceptance"] = None if args.exact else float(result.log.acceptance[-1])
    return out, result.state.params


def sampler_fast_path(args: argparse.Namespace, sizes: tuple[int, ...] = (20, 100)) -> dict:
    """Seconds per call of the sampler (the iteration's samples) for the RBM's incremental-θ
    path and the plain re-evaluation, best of 3, single-spin flips."""
    import timeit

    import jax
    import jax.numpy as jnp

    from physml.nqs import ansatz, sampling

    out = {}
    for n in sizes:
        net = ansatz.rbm(n, 1)
        params = net.init(jax.random.key(0), dtype=jnp.dtype(args.dtype))
        times = {}
        for name, model in (("fast", net), ("plain", ansatz.plain(net))):
            sampler = sampling.metropolis(
                model, n_samples=args.samples, n_chains=args.chains, burn_in=args.burn_in
            )
            state = sampler.init(jax.random.key(1), params)
            run = lambda sampler=sampler, state=state, params=params: jax.block_until_ready(
                sampler.sample(jax.random.key(2), params, state)
            )
            run()
            times[name] = min(timeit.repeat(run, number=1, repeat=3))
        out[f"N={n}"] = {
            "fast_s": times["fast"],
            "plain_s": times["plain"],
            "speedup": times["plain"] / times["fast"],
        }
    return out


def exact_relative_error(args: argparse.Namespace, params: dict) -> float:
    import jax
    import jax.numpy as jnp

    from physml.nqs import ansatz, lattice, operators, vmc

    n = args.sites
    params64 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), params)
    net = ansatz.rbm(n, 1)
    if args.model == "tfim":
        ham, e0, configs = operators.tfim(lattice.chain(n), J=1.0, h=1.0), TFIM_E0, None
    else:
        ham, e0 = operators.heisenberg(lattice.chain(n)), HEISENBERG_E0
        configs = vmc.enumerate_configurations(n, "sz0")
    if (args.model, n) not in (("tfim", 20), ("heisenberg", 22)):
        from physml.nqs import exact

        e0 = exact.ground_state(ham, sector=None if args.model == "tfim" else "sz0").energy
    energy = float(vmc.exact_energy(ham, net.log_psi, params64, configs))
    return (energy - e0) / abs(e0)


# ----------------------------------------------------------------------------- NetKet


def netket_part(args: argparse.Namespace) -> None:
    """Runs inside the NetKet interpreter; prints one JSON line and saves the final parameters."""
    import jax
    import netket as nk
    import numpy as np

    n = args.sites
    hilbert = nk.hilbert.Spin(s=0.5, N=n)
    graph = nk.graph.Chain(n, pbc=True)
    # NetKet's Ising is -h Σ σx + J Σ σzσz: J = -1 is our ferromagnet -Σ σzσz.
    ham = nk.operator.IsingJax(hilbert, graph, h=1.0, J=-1.0)
    dtype = np.float64 if args.dtype == "float64" else np.float32
    model = nk.models.RBM(alpha=1, param_dtype=dtype)
    sampler = nk.sampler.MetropolisLocal(hilbert, n_chains=args.chains, sweep_size=n)
    vs = nk.vqs.MCState(
        sampler,
        model,
        n_samples=args.samples,
        n_discard_per_chain=args.burn_in,
        seed=args.seed,
        sampler_seed=args.seed,
    )
    sr = nk.optimizer.SR(
        qgt=nk.optimizer.qgt.QGTJacobianDense, solver=nk.optimizer.solver.cholesky, diag_shift=args.diag_shift
    )
    driver = nk.driver.VMC(
        ham, nk.optimizer.Sgd(learning_rate=args.learning_rate), variational_state=vs, preconditioner=sr
    )
    seconds, energies = [], []

    def callback(step, log_data, driver):
        jax.block_until_ready(driver.state.parameters)
        now = time.perf_counter()
        seconds.append(now - callback.last)
        callback.last = now
        energies.append(float(np.real(log_data["Energy"].mean)))
        return True

    callback.last = time.perf_counter()
    driver.run(n_iter=args.iterations, out=None, show_progress=False, callback=callback)
    out = summary(seconds, energies)
    out["netket_version"] = nk.__version__
    out["jax_version"] = jax.__version__
    p = vs.parameters
    W = np.asarray(p["Dense"]["kernel"]).T
    physml_params = {"a": np.asarray(p["visible_bias"]), "b": np.asarray(p["Dense"]["bias"]), "W": W}
    s = np.asarray(hilbert.random_state(jax.random.key(1), 8))
    np.savez(args.params_out, log_psi_configs=s, log_psi=np.asarray(vs.log_value(s)), **physml_params)
    print(json.dumps(out))


def netket_run(args: argparse.Namespace) -> dict:
    if not Path(args.netket_python).exists():
        return {"error": f"no NetKet interpreter at {args.netket_python}; see bench/README.md"}
    import jax
    import numpy as np

    from physml.nqs import ansatz

    with tempfile.TemporaryDirectory() as tmp:
        params_out = str(Path(tmp) / "netket_params.npz")
        command = [args.netket_python, __file__, "--part", "netket", "--params-out", params_out]
        for name in (
            "model",
            "sites",
            "iterations",
            "samples",
            "chains",
            "burn_in",
            "learning_rate",
            "diag_shift",
        ):
            command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        command += ["--dtype", args.dtype, "--seed", str(args.seed)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        saved = np.load(params_out)
        params = {k: jax.numpy.asarray(saved[k], jax.numpy.float64) for k in ("a", "b", "W")}
        mapped = ansatz.rbm(args.sites).log_psi(params, saved["log_psi_configs"].astype(float))
        # NetKet's log cosh has no -ln 2: the two differ by the constant M ln 2
        difference = np.asarray(mapped) - saved["log_psi"]
        if np.ptp(difference) > (1e-8 if args.dtype == "float64" else 1e-4):
            return {**out, "error": "NetKet's parameters did not map onto physml's RBM"}
    out["relative_error_exact"] = exact_relative_error(args, params)
    return out


# ----------------------------------------------------------------------------- main


def main() -> None:
    args = parse()
    if args.part == "netket":
        netket_part(args)
        return
    physml, params = physml_run(args)
    physml["relative_error_exact"] = exact_relative_error(args, params)
    report = {
        "benchmark": "nqs_vmc_vs_netket",
        "model": args.model,
        "sites": args.sites,
        "setup": {
            "ansatz": "RBM alpha=1",
            "iterations": args.iterations,
            "samples": args.samples,
            "chains": args.chains,
            "burn_in_sweeps": args.burn_in,
            "learning_rate": args.learning_rate,
            "diag_shift": args.diag_shift,
            "dtype": args.dtype,
            "estimator": "exact sums" if args.exact else "Metropolis",
        },
        "physml": physml,
    }
    if not args.exact:
        report["sampler_fast_vs_plain"] = sampler_fast_path(args)
    if args.model == "tfim" and not args.skip_netket and not args.exact:
        netket = netket_run(args)
        report["netket"] = netket
        if "seconds_per_iteration" in netket:
            report["netket_over_physml_time_per_iteration"] = (
                netket["seconds_per_iteration"] / physml["seconds_per_iteration"]
            )
    report["machine"] = {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine()}
    report["blas_threads"] = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    report["python"] = sys.version.split()[0]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
