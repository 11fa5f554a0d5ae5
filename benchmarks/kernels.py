"""Benchmark kernels: plain-Python loop nests (PolyBench/C 4.2 style, serial, no prange), their
NumPy equivalents, deterministic input builders and flop counts.

The loop versions are written the way a scientist would write them in Python: loops over
`range`, array indexing, shapes taken from the arrays. The same source is run by CPython, compiled
by `accir.compile` and by `numba.njit`. Loop orders and statement orders follow PolyBench, so the
results of the loop versions are bitwise reproducible between CPython, Numba and any compiler that
does not reassociate floating-point arithmetic.

Each kernel mutates its array arguments in place (like PolyBench) and returns nothing; `Kernel.
outputs` names the argument positions to compare.

Size classes: "mini" (CPython in --quick mode), "small" (PolyBench SMALL: CPython, and the timed
size in --quick mode), "medium" (PolyBench MEDIUM: the timed size of a full run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SIZE_CLASSES = ("mini", "small", "medium")


# ---------------------------------------------------------------------------------------- saxpy


def saxpy(a, x, y):
    n = x.shape[0]
    for i in range(n):
        y[i] = a * x[i] + y[i]


def saxpy_np(a, x, y):
    y += a * x


def saxpy_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return 2.5, rng.random(n), rng.random(n)


def saxpy_flops(p: dict[str, int]) -> float:
    return 2.0 * p["n"]


# ----------------------------------------------------------------------------------------- gemm


def gemm(alpha, beta, C, A, B):
    ni, nj = C.shape
    nk = A.shape[1]
    for i in range(ni):
        for j in range(nj):
            C[i, j] *= beta
        for k in range(nk):
            for j in range(nj):
                C[i, j] += alpha * A[i, k] * B[k, j]


def gemm_np(alpha, beta, C, A, B):
    C *= beta
    C += alpha * (A @ B)


def gemm_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    ni, nj, nk = p["ni"], p["nj"], p["nk"]
    return 1.5, 1.2, rng.random((ni, nj)), rng.random((ni, nk)), rng.random((nk, nj))


def gemm_flops(p: dict[str, int]) -> float:
    return p["ni"] * p["nj"] * (2.0 * p["nk"] + 1.0)


# ------------------------------------------------------------------------------------ jacobi-2d


def jacobi_2d(tsteps, A, B):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])


def jacobi_2d_np(tsteps, A, B):
    for _t in range(tsteps):
        B[1:-1, 1:-1] = 0.2 * (A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[2:, 1:-1]
                               + A[:-2, 1:-1])
        A[1:-1, 1:-1] = 0.2 * (B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] + B[2:, 1:-1]
                               + B[:-2, 1:-1])


def jacobi_2d_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return p["tsteps"], rng.random((n, n)), rng.random((n, n))


def jacobi_2d_flops(p: dict[str, int]) -> float:
    return p["tsteps"] * 2.0 * (p["n"] - 2) ** 2 * 5


# -------------------------------------------------------------------------------------- heat-3d


def heat_3d(tsteps, A, B):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    B[i, j, k] = (0.125 * (A[i + 1, j, k] - 2.0 * A[i, j, k] + A[i - 1, j, k])
                                  + 0.125 * (A[i, j + 1, k] - 2.0 * A[i, j, k] + A[i, j - 1, k])
                                  + 0.125 * (A[i, j, k + 1] - 2.0 * A[i, j, k] + A[i, j, k - 1])
                                  + A[i, j, k])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    A[i, j, k] = (0.125 * (B[i + 1, j, k] - 2.0 * B[i, j, k] + B[i - 1, j, k])
                                  + 0.125 * (B[i, j + 1, k] - 2.0 * B[i, j, k] + B[i, j - 1, k])
                                  + 0.125 * (B[i, j, k + 1] - 2.0 * B[i, j, k] + B[i, j, k - 1])
                                  + B[i, j, k])


def _heat_sweep(dst, src):
    c = src[1:-1, 1:-1, 1:-1]
    dst[1:-1, 1:-1, 1:-1] = (0.125 * (src[2:, 1:-1, 1:-1] - 2.0 * c + src[:-2, 1:-1, 1:-1])
                             + 0.125 * (src[1:-1, 2:, 1:-1] - 2.0 * c + src[1:-1, :-2, 1:-1])
                             + 0.125 * (src[1:-1, 1:-1, 2:] - 2.0 * c + src[1:-1, 1:-1, :-2])
                             + c)


def heat_3d_np(tsteps, A, B):
    for _t in range(tsteps):
        _heat_sweep(B, A)
        _heat_sweep(A, B)


def heat_3d_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return p["tsteps"], rng.random((n, n, n)), rng.random((n, n, n))


def heat_3d_flops(p: dict[str, int]) -> float:
    return p["tsteps"] * 2.0 * (p["n"] - 2) ** 3 * 15


# ----------------------------------------------------------------------------------- covariance


def covariance(float_n, data, cov, mean):
    n, m = data.shape
    for j in range(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= float_n
    for i in range(n):
        for j in range(m):
            data[i, j] -= mean[j]
    for i in range(m):
        for j in range(i, m):
            cov[i, j] = 0.0
            for k in range(n):
                cov[i, j] += data[k, i] * data[k, j]
            cov[i, j] /= float_n - 1.0
            cov[j, i] = cov[i, j]


def covariance_np(float_n, data, cov, mean):
    mean[:] = data.sum(axis=0) / float_n
    data -= mean
    cov[:, :] = (data.T @ data) / (float_n - 1.0)


def covariance_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return float(n), rng.random((n, m)), np.zeros((m, m)), np.zeros(m)


def covariance_flops(p: dict[str, int]) -> float:
    m, n = p["m"], p["n"]
    return 2.0 * n * m + m + m * (m + 1) / 2 * (2.0 * n + 1.0)


# ------------------------------------------------------------------------------------ seidel-2d


def seidel_2d(tsteps, A):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = (A[i - 1, j - 1] + A[i - 1, j] + A[i - 1, j + 1]
                           + A[i, j - 1] + A[i, j] + A[i, j + 1]
                           + A[i + 1, j - 1] + A[i + 1, j] + A[i + 1, j + 1]) / 9.0


def seidel_2d_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return p["tsteps"], rng.random((n, n))


def seidel_2d_flops(p: dict[str, int]) -> float:
    return p["tsteps"] * (p["n"] - 2) ** 2 * 9.0


# ------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Kernel:
    name: str
    py: Callable[..., Any]  # the loop version (CPython, accir, Numba all run this source)
    numpy: Callable[..., Any] | None  # vectorised equivalent, None where there is none
    setup: Callable[[dict[str, int], np.random.Generator], tuple[Any, ...]]
    flops: Callable[[dict[str, int]], float]
    sizes: dict[str, dict[str, int]]
    outputs: tuple[int, ...]  # argument positions holding results
    exact_vs_numba: bool = False  # compare with Numba bit for bit instead of allclose
    known_issue: str = ""  # accir problem reproduced by this kernel, if any (see README.md)
    extra: dict[str, Any] = field(default_factory=dict)

    def inputs(self, size: str, seed: int = 0) -> tuple[Any, ...]:
        # One stream per (kernel, size): inputs do not depend on which kernels are selected.
        key = sum(map(ord, self.name)) * 1000 + SIZE_CLASSES.index(size)
        return self.setup(self.sizes[size], np.random.default_rng([seed, key]))

    def size_label(self, size: str) -> str:
        return " ".join(f"{k}={v}" for k, v in self.sizes[size].items())


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("saxpy", saxpy, saxpy_np, saxpy_setup, saxpy_flops,
               {"mini": {"n": 10_000}, "small": {"n": 100_000}, "medium": {"n": 1_000_000}},
               outputs=(2,)),
        Kernel("gemm", gemm, gemm_np, gemm_setup, gemm_flops,
               {"mini": {"ni": 20, "nj": 25, "nk": 30},
                "small": {"ni": 60, "nj": 70, "nk": 80},
                "medium": {"ni": 200, "nj": 220, "nk": 240}},
               outputs=(2,)),
        Kernel("jacobi-2d", jacobi_2d, jacobi_2d_np, jacobi_2d_setup, jacobi_2d_flops,
               {"mini": {"n": 30, "tsteps": 20}, "small": {"n": 90, "tsteps": 40},
                "medium": {"n": 250, "tsteps": 100}},
               outputs=(1, 2)),
        Kernel("heat-3d", heat_3d, heat_3d_np, heat_3d_setup, heat_3d_flops,
               {"mini": {"n": 10, "tsteps": 20}, "small": {"n": 20, "tsteps": 40},
                "medium": {"n": 40, "tsteps": 100}},
               outputs=(1, 2)),
        Kernel("covariance", covariance, covariance_np, covariance_setup, covariance_flops,
               {"mini": {"m": 28, "n": 32}, "small": {"m": 80, "n": 100},
                "medium": {"m": 240, "n": 260}},
               outputs=(1, 2, 3)),
        Kernel("seidel-2d", seidel_2d, None, seidel_2d_setup, seidel_2d_flops,
               {"mini": {"n": 40, "tsteps": 20}, "small": {"n": 120, "tsteps": 40},
                "medium": {"n": 400, "tsteps": 100}},
               outputs=(1,), exact_vs_numba=True),
    )
}
