"""Parallel benchmark: accir's automatic parallelisation against accir serial and Numba
`parallel=True` with hand-written `prange`, on the kernels of benchmarks/kernels.py.

    .venv/bin/python benchmarks/parallel.py            # PolyBench MEDIUM sizes (~1 minute)
    .venv/bin/python benchmarks/parallel.py --quick    # SMALL sizes, a few seconds
    .venv/bin/python benchmarks/parallel.py --threads 4 --kernels gemm,jacobi-2d

accir compiles the plain loop version (no directives, no prange) and decides itself which loops
run on threads; accir serial is the same compiled function with `accir.set_num_threads(1)`.
Numba runs the hand-written `prange` version of each kernel from benchmarks/prange_kernels.py
(`prange` on the outermost parallel loop of each nest in PolyBench's order; seidel-2d has none).
Every result is checked against Numba's serial `@njit` result before timing. Also reported: the
fork-join overhead of one parallel loop (a `parallel loop` of two iterations, timed with 2 threads
and with 1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import prange  # noqa: E402

import accir  # noqa: E402
from benchmarks.kernels import KERNELS  # noqa: E402
from benchmarks.prange_kernels import PRANGE  # noqa: E402
from benchmarks.serial import compare, environment, fresh, geomean, time_call  # noqa: E402

# ------------------------------------------------------------------------------------ timing


def with_threads(n: int, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        old = accir.get_num_threads()
        accir.set_num_threads(n)
        try:
            return fn(*args)
        finally:
            accir.set_num_threads(old)
    return run


def bench_kernel(name: str, size: str, threads: int, repeats: int) -> dict[str, Any]:
    k = KERNELS[name]
    args = k.inputs(size)
    reference = fresh(args)
    numba.njit(k.py)(*reference)
    row: dict[str, Any] = {"kernel": name, "size": k.size_label(size)}
    acc = accir.compile(k.py)
    impls: dict[str, Callable[..., Any]] = {
        "accir serial": with_threads(1, acc), "accir parallel": with_threads(threads, acc)}
    prange_version = PRANGE[name]
    if prange_version is not None:
        impls["Numba prange"] = numba.njit(parallel=True)(prange_version)
    for label, fn in impls.items():
        got = fresh(args)
        fn(*got)  # compile, and check
        row[f"{label} ok"], _ = compare(got, reference, k.outputs, exact=False)
    samples: dict[str, list[float]] = {label: [] for label in impls if row[f"{label} ok"]}
    for _ in range(repeats):  # round-robin, so that drifts of the machine hit all alike
        for label in samples:
            samples[label].append(time_call(impls[label], fresh(args)))
    for label in impls:
        row[label] = statistics.median(samples[label]) if label in samples else None
    row["decisions"] = [f"line {r.line}: {r.kind}" for r in acc.remarks
                        if r.kind in ("parallelized", "not-parallelized")]
    return row


def _fork_join_loop(a):
    #pragma acc parallel loop
    for i in range(2):
        a[i] += 1.0


def _fork_join_prange(a):
    for i in prange(2):
        a[i] += 1.0


def fork_join_overhead(threads: int, calls: int = 20000) -> dict[str, float]:
    """Microseconds a two-iteration parallel loop costs over the same loop on one thread."""
    a = np.zeros(2)
    acc = accir.compile(_fork_join_loop)
    nb = numba.njit(parallel=True)(_fork_join_prange)
    nb(a)
    acc(a)

    def per_call(fn: Callable[..., Any]) -> float:
        samples = []
        for _ in range(5):
            t = time_call(lambda: [fn(a) for _ in range(calls)], ())
            samples.append(t / calls * 1e6)
        return statistics.median(samples)

    result = {}
    accir.set_num_threads(1)
    result["accir 1 thread"] = per_call(acc)
    accir.set_num_threads(threads)
    result[f"accir {threads} threads"] = per_call(acc)
    result["accir fork-join"] = result[f"accir {threads} threads"] - result["accir 1 thread"]
    result[f"Numba prange {threads} threads"] = per_call(nb)
    return result


def fmt(seconds: float | None) -> str:
    return "FAIL" if seconds is None else f"{seconds * 1e3:.2f}"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{a / b:.2f}"


def report(rows: list[dict[str, Any]], overhead: dict[str, float], threads: int,
           size: str) -> str:
    env = environment()
    out = [f"# accir parallel benchmark ({size} sizes, {threads} threads)", "",
           f"{env['cpu']}, {env['cpus']} CPUs; Numba {env['numba']} (threading layer "
           f"{numba.config.THREADING_LAYER}), accir {env['accir']} ({env['accir_commit']}); "
           f"{env['date']}", "",
           "Median ms on fresh inputs. speed-up = accir serial / accir parallel; "
           "accir/Numba < 1 means accir is faster.", "",
           "| kernel | size | accir serial | accir parallel | speed-up | Numba prange | "
           "accir/Numba prange | loops parallelised by accir |",
           "|---|---|---|---|---|---|---|---|"]
    speedups, versus = [], []
    for r in rows:
        serial, par, nb = r["accir serial"], r["accir parallel"], r.get("Numba prange")
        if serial and par:
            speedups.append(serial / par)
        if par and nb:
            versus.append(par / nb)
        lines = ", ".join(d.split(": ")[0] for d in r["decisions"] if "not-" not in d)
        out.append(f"| {r['kernel']} | {r['size']} | {fmt(serial)} | {fmt(par)} | "
                   f"{ratio(serial, par)} | {fmt(nb) if 'Numba prange' in r else 'none'} | "
                   f"{ratio(par, nb)} | {lines or 'none'} |")
    out.append(f"| **geomean** | | | | **{_gm(speedups)}** | | **{_gm(versus)}** | |")
    out += ["", "## Fork-join overhead", "",
            "µs per call of a function whose only work is a `parallel loop` of 2 iterations:",
            "", "| measurement | µs |", "|---|---|"]
    out += [f"| {k} | {v:.2f} |" for k, v in overhead.items()]
    return "\n".join(out)


def _gm(xs: list[float]) -> str:
    g = geomean(xs)
    return "–" if g is None else f"{g:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="SMALL sizes, fewer repeats")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--kernels", default=",".join(KERNELS))
    args = parser.parse_args(argv)
    size, repeats = ("small", 5) if args.quick else ("medium", 11)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    rows = []
    for name in args.kernels.split(","):
        print(f"[parallel] {name} ...", file=sys.stderr, flush=True)
        rows.append(bench_kernel(name, size, args.threads, repeats))
    overhead = fork_join_overhead(args.threads)
    print(report(rows, overhead, args.threads, size))
    return 0 if all(r["accir parallel ok"] and r["accir serial ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
