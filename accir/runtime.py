"""The parallel runtime's settings: how many threads a parallel loop uses, and whether the
OpenMP runtime (libgomp) is there to run them.

The thread count starts as `ACCIR_NUM_THREADS`, else `OMP_NUM_THREADS`, else the number of
cores this process may use; `set_num_threads` changes it for every compiled function at once
(compiled code reads it, through its address, each time a parallel loop starts).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import cache

import llvmlite.binding as llvm

_LIBGOMP_NAMES = ("libgomp.so.1", "libgomp.so", "libgomp.dylib")


def _initial_threads() -> int:
    for name in ("ACCIR_NUM_THREADS", "OMP_NUM_THREADS"):
        text = os.environ.get(name, "").split(",")[0].strip()  # OMP allows a list per level
        if text:
            try:
                value = int(text)
            except ValueError:
                continue
            if value >= 1:
                return value
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_num_threads = ctypes.c_int32(_initial_threads())


def get_num_threads() -> int:
    """The number of threads a parallel loop uses (before its own `num_gangs`/`num_workers`)."""
    return _num_threads.value


def set_num_threads(n: int) -> None:
    """Use `n` threads in the parallel loops of every compiled function (1 runs them
    sequentially). Takes effect at the next parallel loop; no recompilation."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the number of threads must be a positive int, not {n!r}")
    _num_threads.value = n


def num_threads_address() -> int:
    """Where compiled code reads the thread count."""
    return ctypes.addressof(_num_threads)


@cache
def libgomp_loaded() -> bool:
    """Load libgomp into the process so that the JIT can resolve GOMP_parallel. When it
    cannot be loaded (ACCIR_NO_OPENMP=1 pretends so), parallel loops fall back to accir's own
    pthread team (accir.backends.llvm_parallel)."""
    if os.environ.get("ACCIR_NO_OPENMP", "") not in ("", "0"):
        return False
    candidates = [*_LIBGOMP_NAMES]
    found = ctypes.util.find_library("gomp")
    if found:
        candidates.insert(0, found)
    for name in candidates:
        try:
            llvm.load_library_permanently(name)
        except RuntimeError:
            continue
        return True
    return False
