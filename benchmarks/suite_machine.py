"""The machine side of benchmarks/suite.py: measured limits (triad bandwidth, FMA peak), the
roofline model built on them, and what /proc says about the machine."""

from __future__ import annotations

import os
from typing import Any

import numba
import numpy as np

from benchmarks.serial import short_error, time_call

TRIAD_BYTES_PER_ELEMENT = 24  # STREAM convention: read b and c, write a


def compulsory_bytes(args: tuple[Any, ...], outputs: tuple[int, ...]) -> float:
    """Every array argument read once, every output array written back once."""
    read = sum(a.nbytes for a in args if isinstance(a, np.ndarray))
    written = sum(args[i].nbytes for i in outputs if isinstance(args[i], np.ndarray))
    return float(read + written)


def roofline(flops: float, nbytes: float, limits: dict[str, Any],
             seconds: float | None) -> dict[str, Any]:
    """The bound max(flops / FMA peak, bytes / triad bandwidth) and how close `seconds` is to
    it. Without a measured peak the bound is the bandwidth term alone and `bound_by` is None."""
    memory_s = nbytes / (limits["triad_gbs"] * 1e9)
    peak = limits.get("fma_gflops")
    compute_s = flops / (peak * 1e9) if peak else None
    bound_s = max(memory_s, compute_s or 0.0)
    out: dict[str, Any] = {
        "flops": flops, "bytes": nbytes, "memory_s": memory_s, "compute_s": compute_s,
        "bound_s": bound_s,
        "bound_by": None if compute_s is None else ("memory" if memory_s >= compute_s
                                                    else "compute"),
        "seconds": seconds, "distance": None, "gflops": None, "pct_peak": None, "gbs": None,
        "pct_bw": None}
    if seconds:
        out.update(distance=seconds / bound_s, gflops=flops / seconds / 1e9,
                   gbs=nbytes / seconds / 1e9)
        out["pct_bw"] = 100.0 * out["gbs"] / limits["triad_gbs"]
        out["pct_peak"] = 100.0 * out["gflops"] / peak if peak else None
    return out


def _triad(a, b, c, s):
    for i in numba.prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


def numba_triad_gbs(threads: int, n: int, repeats: int = 5) -> float:
    """Best triad bandwidth in GB/s of a Numba loop: @njit for 1 thread, else parallel=True
    (on Numba's current thread count)."""
    fn = numba.njit(_triad) if threads == 1 else numba.njit(parallel=True)(_triad)
    a, b, c = np.zeros(n), np.ones(n), np.ones(n)
    fn(a, b, c, 2.0)
    best = min(time_call(fn, (a, b, c, 2.0)) for _ in range(repeats))
    return TRIAD_BYTES_PER_ELEMENT * n / best / 1e9


def _c_limits(c_kernels: Any, why_missing: str, threads: int) -> dict[str, float]:
    if c_kernels is None:
        raise RuntimeError(why_missing)
    if not c_kernels.c_available():
        reason = getattr(c_kernels, "c_unavailable_reason", lambda: "")()
        raise RuntimeError(reason or "no C compiler with OpenMP")
    measured = c_kernels.machine_limits(threads)
    return {"triad_gbs": float(measured["triad_gbs"]),
            "fma_gflops": float(measured["fma_gflops"])}


def measure_limits(threads: int, c_kernels: Any, why_missing: str,
                   triad_elements: int) -> dict[str, dict[str, Any]]:
    """Limits for 1 thread ("serial") and `threads` ("parallel"): measured in C when the C
    module works, else only the bandwidth, by a Numba triad of `triad_elements` doubles."""
    out: dict[str, dict[str, Any]] = {}
    for mode, n in (("serial", 1), ("parallel", threads)):
        try:
            out[mode] = {"threads": n, "source": "C", **_c_limits(c_kernels, why_missing, n)}
        except Exception as exc:
            out[mode] = {"threads": n, "source": "Numba triad", "fma_gflops": None,
                         "triad_gbs": numba_triad_gbs(n, triad_elements),
                         "why": short_error(exc)}
    return out


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(ln.split()[1]) for ln in f if ln.startswith("MemTotal:"))
        return kib / 2**20
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def load_average() -> float | None:
    """The 1-minute load average: other processes make parallel timings unreliable."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
