"""The C baseline: the 23 benchmark kernels in C (benchmarks/c/kernels.c), built with
`gcc -O3 -march=native -fopenmp` and called through ctypes, and a C measurement of the machine's
limits (benchmarks/c/machine.c: STREAM triad bandwidth, peak FMA throughput).

The library is built once per process into `benchmarks/.build/`, under a name keyed by a hash of
the C sources, the compiler, its flags and the CPU (the flags include -march=native), so changing
any of them rebuilds; a build by another process is reused.

`c_kernel(name)` gives a callable with the loop version's signature: it takes the arguments that
`Kernel.inputs(size)` gives, checks the arrays (float64 and C-contiguous, else TypeError; consistent
shapes and writable outputs, else ValueError), takes the extents from their shapes and calls the C
function, which works in place like the loop version. The C code keeps the loop versions' loop and
statement orders and is built with -ffp-contract=off (GCC would otherwise fuse a*b + c into FMAs)
and without -ffast-math, so its results are CPython's bit for bit.
"""

from __future__ import annotations

import ctypes
import hashlib
import operator
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.kernels import KERNELS, Kernel
from benchmarks.polybench import POLYBENCH

C_DIR = Path(__file__).parent / "c"
SOURCES = (C_DIR / "kernels.c", C_DIR / "machine.c")
BUILD_DIR = Path(__file__).parent / ".build"
CC = "gcc"
# -ffp-contract=off: no fusing of a*b + c into FMAs, so that C computes what CPython, Numba and
# accir compute (bit for bit), and the comparison is of the same arithmetic.
CFLAGS = ("-O3", "-march=native", "-fopenmp", "-ffp-contract=off", "-fPIC", "-shared")
LIBS = ("-lm",)

ALL_KERNELS: dict[str, Kernel] = {**KERNELS, **POLYBENCH}

# The C functions' arguments, one entry per Python argument: "x" is a float (double), "x:int" an
# int (long), "x[d1,d2]" a float64 array with those extents. The extents follow as longs, in order
# of first appearance (the convention documented at the top of kernels.c).
C_SIGNATURES: dict[str, tuple[str, ...]] = {
    "saxpy": ("a", "x[n]", "y[n]"),
    "gemm": ("alpha", "beta", "C[ni,nj]", "A[ni,nk]", "B[nk,nj]"),
    "jacobi-2d": ("tsteps:int", "A[n,n]", "B[n,n]"),
    "heat-3d": ("tsteps:int", "A[n,n,n]", "B[n,n,n]"),
    "covariance": ("float_n", "data[n,m]", "cov[m,m]", "mean[m]"),
    "seidel-2d": ("tsteps:int", "A[n,n]"),
    "2mm": ("alpha", "beta", "tmp[ni,nj]", "A[ni,nk]", "B[nk,nj]", "C[nj,nl]", "D[ni,nl]"),
    "3mm": ("E[ni,nj]", "A[ni,nk]", "B[nk,nj]", "F[nj,nl]", "C[nj,nm]", "D[nm,nl]", "G[ni,nl]"),
    "atax": ("A[m,n]", "x[n]", "y[n]", "tmp[m]"),
    "bicg": ("A[n,m]", "s[m]", "q[n]", "p[m]", "r[n]"),
    "mvt": ("x1[n]", "x2[n]", "y_1[n]", "y_2[n]", "A[n,n]"),
    "gemver": ("alpha", "beta", "A[n,n]", "u1[n]", "v1[n]", "u2[n]", "v2[n]", "w[n]", "x[n]",
               "y[n]", "z[n]"),
    "gesummv": ("alpha", "beta", "A[n,n]", "B[n,n]", "tmp[n]", "x[n]", "y[n]"),
    "syrk": ("alpha", "beta", "C[n,n]", "A[n,m]"),
    "syr2k": ("alpha", "beta", "C[n,n]", "A[n,m]", "B[n,m]"),
    "symm": ("alpha", "beta", "C[m,n]", "A[m,m]", "B[m,n]"),
    "trmm": ("alpha", "A[m,m]", "B[m,n]"),
    "jacobi-1d": ("tsteps:int", "A[n]", "B[n]"),
    "fdtd-2d": ("ex[nx,ny]", "ey[nx,ny]", "hz[nx,ny]", "fict[tmax]"),
    "lu": ("A[n,n]",),
    "cholesky": ("A[n,n]",),
    "trisolv": ("L[n,n]", "x[n]", "b[n]"),
    "doitgen": ("A[nr,nq,np]", "C4[np,np]", "sum[np]"),
}


def c_function_name(kernel_name: str) -> str:
    """The C function of a kernel: k_<name>, '-' -> '_'."""
    return "k_" + kernel_name.replace("-", "_")


# ------------------------------------------------------------------------------------- building


@cache
def _compiler_version() -> str:
    try:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.splitlines()[0] if out.stdout else ""


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    return next((line for line in text.splitlines() if line.startswith("model name")), "")


def _library_path() -> Path:
    digest = hashlib.sha256()
    for source in SOURCES:
        digest.update(source.read_bytes())
    for part in (_compiler_version(), *CFLAGS, *LIBS, _cpu_model()):
        digest.update(part.encode() + b"\0")
    return BUILD_DIR / f"libcbench-{digest.hexdigest()[:16]}.so"


def _build(target: Path) -> None:
    """Compiles into a temporary file and renames it, so concurrent builds never see half a
    library."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=BUILD_DIR)
    os.close(fd)
    try:
        cmd = [CC, *CFLAGS, *map(str, SOURCES), "-o", tmp, *LIBS]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr.strip()}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for stale in BUILD_DIR.glob("libcbench-*.so"):
        if stale != target:
            stale.unlink(missing_ok=True)


def _declare(lib: ctypes.CDLL) -> None:
    for name, spec in C_SIGNATURES.items():
        fn = getattr(lib, c_function_name(name))
        args = _parse(spec)
        fn.argtypes = [a.ctype for a in args] + [ctypes.c_long] * len(_extent_order(args))
        fn.restype = None
    lib.set_threads.argtypes, lib.set_threads.restype = [ctypes.c_int], None
    lib.get_threads.argtypes, lib.get_threads.restype = [], ctypes.c_int
    lib.machine_triad_gbs.argtypes = [ctypes.c_long, ctypes.c_int]
    lib.machine_triad_gbs.restype = ctypes.c_double
    lib.machine_fma_gflops.argtypes, lib.machine_fma_gflops.restype = [ctypes.c_long], ctypes.c_double


@cache
def _load() -> tuple[ctypes.CDLL | None, str]:
    """(the library, "") or (None, why not); built at most once per process."""
    if shutil.which(CC) is None:
        return None, f"{CC} not found"
    try:
        target = _library_path()
        if not target.exists():
            _build(target)
        try:
            lib = ctypes.CDLL(str(target))
        except OSError:  # removed meanwhile as stale by a build with other sources or flags
            _build(target)
            lib = ctypes.CDLL(str(target))
        _declare(lib)
    except Exception as exc:  # any failure means "no C baseline", never an error
        return None, f"{type(exc).__name__}: {exc}"
    return lib, ""


def c_available() -> bool:
    """gcc is present and the library built and loaded. Never raises."""
    return _load()[0] is not None


def c_unavailable_reason() -> str:
    """Why `c_available()` is False ("" when it is True)."""
    return _load()[1]


def c_compiler() -> str:
    """The compiler and flags, for the report."""
    return f"{_compiler_version() or CC + ' (not found)'}; {' '.join(CFLAGS)}"


def _library() -> ctypes.CDLL:
    lib, reason = _load()
    if lib is None:
        raise RuntimeError(f"the C baseline is unavailable: {reason}")
    return lib


# ------------------------------------------------------------------------------------- kernels


@dataclass(frozen=True)
class _Arg:
    name: str
    kind: str  # "double", "long" or "array"
    dims: tuple[str, ...] = ()

    @property
    def ctype(self) -> type:
        return {"double": ctypes.c_double, "long": ctypes.c_long}.get(self.kind, ctypes.c_void_p)


def _parse(spec: tuple[str, ...]) -> tuple[_Arg, ...]:
    args = []
    for item in spec:
        if item.endswith("]"):
            name, dims = item[:-1].split("[")
            args.append(_Arg(name, "array", tuple(dims.split(","))))
        elif item.endswith(":int"):
            args.append(_Arg(item[: -len(":int")], "long"))
        else:
            args.append(_Arg(item, "double"))
    return tuple(args)


def _extent_order(args: tuple[_Arg, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for a in args for d in a.dims))


# The callers are generated Python functions, one per kernel, with the loop version's parameter
# names (so its exact signature) and straight-line checks: a few microseconds per call, about half
# the cost of a generic loop over the arguments. `_caller_source("gemm", ...)` reads:
#
#   def k_gemm(alpha, beta, C, A, B):
#       if not (isinstance(C, _ndarray) and C.dtype == _float64 and C.flags.c_contiguous
#               and C.ndim == 2 and C.flags.writeable):
#           _reject('C', C, 2, True)
#       ... (A, B alike, without the writeable check)
#       e_ni = C.shape[0]; e_nj = C.shape[1]; e_nk = A.shape[1]
#       if (C.shape, A.shape, B.shape,) != ((e_ni, e_nj,), (e_ni, e_nk,), (e_nk, e_nj,),):
#           _shape_error(...)
#       try:  (a quarter of the cost of .ctypes.data, for writable non-empty arrays only)
#           p_C = _addressof(_char.from_buffer(C)); ...
#       except (TypeError, ValueError):
#           p_C = C.ctypes.data; ...
#       _cfunc(float(alpha), float(beta), p_C, p_A, p_B, e_ni, e_nj, e_nk)


def _caller_source(fn_name: str, args: tuple[_Arg, ...], outputs: frozenset[int]) -> str:
    clashes = [a.name for a in args if a.name.startswith(("_", "e_", "p_"))]
    if clashes:  # the generated code's own names start so
        raise ValueError(f"{fn_name}: parameter names {clashes} clash with generated names")
    arrays = [a for a in args if a.kind == "array"]
    lines = [f"def {fn_name}({', '.join(a.name for a in args)}):"]
    for i, a in enumerate(args):
        if a.kind != "array":
            continue
        ok = (f"isinstance({a.name}, _ndarray) and {a.name}.dtype == _float64 and "
              f"{a.name}.flags.c_contiguous and {a.name}.ndim == {len(a.dims)}")
        ok += f" and {a.name}.flags.writeable" if i in outputs else ""
        lines += [f"    if not ({ok}):",
                  f"        _reject({a.name!r}, {a.name}, {len(a.dims)}, {i in outputs})"]
    first_seen: dict[str, str] = {}
    for a in arrays:
        for axis, dim in enumerate(a.dims):
            first_seen.setdefault(dim, f"{a.name}.shape[{axis}]")
    lines += [f"    e_{dim} = {where}" for dim, where in first_seen.items()]
    shapes = "".join(f"{a.name}.shape, " for a in arrays)
    wanted = "".join("(" + "".join(f"e_{d}, " for d in a.dims) + "), " for a in arrays)
    specs = [f"{a.name}[{','.join(a.dims)}]" for a in arrays]
    lines += [f"    if ({shapes}) != ({wanted}):",
              f"        _shape_error({specs!r}, ({shapes}))",
              "    try:"]
    lines += [f"        p_{a.name} = _addressof(_char.from_buffer({a.name}))" for a in arrays]
    lines += ["    except (TypeError, ValueError):"]
    lines += [f"        p_{a.name} = {a.name}.ctypes.data" for a in arrays]
    convert = {"double": "float({})", "long": "_index({})", "array": "p_{}"}
    cargs = [convert[a.kind].format(a.name) for a in args] + [f"e_{d}" for d in first_seen]
    lines.append(f"    _cfunc({', '.join(cargs)})")
    return "\n".join(lines) + "\n"


def _reject(name: str, value: Any, ndim: int, output: bool) -> None:
    """Raises the error for an array argument that failed the generated caller's checks."""
    if not isinstance(value, np.ndarray) or value.dtype != np.float64:
        dtype = getattr(value, "dtype", None)
        got = type(value).__name__ + (f" of {dtype}" if dtype is not None else "")
        raise TypeError(f"{name}: expected a float64 ndarray, got {got}")
    if not value.flags.c_contiguous:
        raise TypeError(f"{name}: expected a C-contiguous array")
    if value.ndim != ndim:
        raise TypeError(f"{name}: expected {ndim} dimensions, got {value.ndim}")
    if output and not value.flags.writeable:
        raise ValueError(f"{name}: the kernel writes to it, but it is read-only")
    raise AssertionError(f"{name}: rejected but passes every check")


def _shape_error(specs: list[str], shapes: tuple[tuple[int, ...], ...]) -> None:
    got = ", ".join(f"{spec.split('[')[0]}{shape}" for spec, shape in zip(specs, shapes, strict=True))
    raise ValueError(f"inconsistent shapes {got} for {', '.join(specs)}")


def _make_caller(kernel: Kernel, args: tuple[_Arg, ...], cfunc: Any) -> Callable[..., None]:
    fn_name = c_function_name(kernel.name)
    source = _caller_source(fn_name, args, frozenset(kernel.outputs))
    namespace: dict[str, Any] = {
        "_ndarray": np.ndarray, "_float64": np.dtype(np.float64), "_reject": _reject,
        "_shape_error": _shape_error, "_addressof": ctypes.addressof, "_char": ctypes.c_char,
        "_index": operator.index, "_cfunc": cfunc,
    }
    exec(compile(source, f"<C caller of {kernel.name}>", "exec"), namespace)
    caller = namespace[fn_name]
    caller.__module__ = __name__
    caller.__doc__ = f"{kernel.name} in C (benchmarks/c/kernels.c), in place like the loop version."
    return caller


@cache
def c_kernel(name: str) -> Callable[..., None] | None:
    """The C version of kernel `name` with the loop version's signature, or None when the C
    baseline is unavailable. KeyError for an unknown kernel."""
    kernel = ALL_KERNELS[name]
    lib = _load()[0]
    if lib is None:
        return None
    return _make_caller(kernel, _parse(C_SIGNATURES[name]), getattr(lib, c_function_name(name)))


def set_c_threads(n: int) -> None:
    """omp_set_num_threads(n) for the C kernels called from this Python thread."""
    if n < 1:
        raise ValueError(f"thread count must be positive, got {n}")
    _library().set_threads(n)


def get_c_threads() -> int:
    """omp_get_max_threads(): the thread count of the next C kernel call."""
    return int(_library().get_threads())


# ---------------------------------------------------------------------------- machine limits

TRIAD_ELEMENTS = 1 << 23  # 64 MiB per array: twice the largest L3 slices of current CPUs
TRIAD_REPS = 10
FMA_ITERS = 4_000_000  # per thread and run: ~0.02 s at 2.4 GHz with 12 chains


def machine_limits(threads: int) -> dict[str, float]:
    """STREAM triad bandwidth (GB/s) and peak FMA throughput (GFLOP/s) with `threads` OpenMP
    threads, measured by benchmarks/c/machine.c; the thread count is restored afterwards."""
    lib = _library()
    previous = get_c_threads()
    set_c_threads(threads)
    try:
        triad = lib.machine_triad_gbs(TRIAD_ELEMENTS, TRIAD_REPS)
        fma = lib.machine_fma_gflops(FMA_ITERS)
    finally:
        set_c_threads(previous)
    if triad < 0:
        raise MemoryError(f"cannot allocate 3 arrays of {TRIAD_ELEMENTS} doubles")
    return {"threads": threads, "triad_gbs": triad, "fma_gflops": fma}
