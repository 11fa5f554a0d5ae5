"""The PolyBench/C 4.2 kernels not in `benchmarks.kernels`, written the same way: plain-Python
loop nests with PolyBench's loop orders and statement orders (so CPython, accir and Numba agree bit
for bit), NumPy equivalents where a natural vectorised form exists, deterministic input builders,
flop counts and PolyBench's MINI/SMALL/MEDIUM sizes ("mini", "small", "medium").

Each kernel mutates its array arguments in place and returns nothing; `Kernel.outputs` names the
argument positions to compare. Scalars that PolyBench passes separately (alpha, beta, tsteps) are
arguments; every extent is taken from the array shapes.

lu and cholesky get a symmetric positive-definite matrix (like PolyBench's B * B^T) and trisolv a
well-conditioned lower-triangular one, so none of them loses all precision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.kernels import Kernel

# ------------------------------------------------------------------------------------------ 2mm


def k2mm(alpha, beta, tmp, A, B, C, D):
    ni, nj = tmp.shape
    nk = A.shape[1]
    nl = D.shape[1]
    for i in range(ni):
        for j in range(nj):
            tmp[i, j] = 0.0
            for k in range(nk):
                tmp[i, j] += alpha * A[i, k] * B[k, j]
    for i in range(ni):
        for j in range(nl):
            D[i, j] *= beta
            for k in range(nj):
                D[i, j] += tmp[i, k] * C[k, j]


def k2mm_np(alpha, beta, tmp, A, B, C, D):
    tmp[:, :] = (alpha * A) @ B
    D *= beta
    D += tmp @ C


def k2mm_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    ni, nj, nk, nl = p["ni"], p["nj"], p["nk"], p["nl"]
    return (1.5, 1.2, np.zeros((ni, nj)), rng.random((ni, nk)), rng.random((nk, nj)),
            rng.random((nj, nl)), rng.random((ni, nl)))


def k2mm_flops(p: dict[str, int]) -> float:
    return p["ni"] * p["nj"] * 3.0 * p["nk"] + p["ni"] * p["nl"] * (2.0 * p["nj"] + 1.0)


# ------------------------------------------------------------------------------------------ 3mm


def k3mm(E, A, B, F, C, D, G):
    ni, nj = E.shape
    nk = A.shape[1]
    nm = C.shape[1]
    nl = F.shape[1]
    for i in range(ni):
        for j in range(nj):
            E[i, j] = 0.0
            for k in range(nk):
                E[i, j] += A[i, k] * B[k, j]
    for i in range(nj):
        for j in range(nl):
            F[i, j] = 0.0
            for k in range(nm):
                F[i, j] += C[i, k] * D[k, j]
    for i in range(ni):
        for j in range(nl):
            G[i, j] = 0.0
            for k in range(nj):
                G[i, j] += E[i, k] * F[k, j]


def k3mm_np(E, A, B, F, C, D, G):
    E[:, :] = A @ B
    F[:, :] = C @ D
    G[:, :] = E @ F


def k3mm_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    ni, nj, nk, nl, nm = p["ni"], p["nj"], p["nk"], p["nl"], p["nm"]
    return (np.zeros((ni, nj)), rng.random((ni, nk)), rng.random((nk, nj)),
            np.zeros((nj, nl)), rng.random((nj, nm)), rng.random((nm, nl)), np.zeros((ni, nl)))


def k3mm_flops(p: dict[str, int]) -> float:
    return 2.0 * (p["ni"] * p["nj"] * p["nk"] + p["nj"] * p["nl"] * p["nm"]
                  + p["ni"] * p["nl"] * p["nj"])


# ----------------------------------------------------------------------------------------- atax


def atax(A, x, y, tmp):
    m, n = A.shape
    for i in range(n):
        y[i] = 0.0
    for i in range(m):
        tmp[i] = 0.0
        for j in range(n):
            tmp[i] = tmp[i] + A[i, j] * x[j]
        for j in range(n):
            y[j] = y[j] + A[i, j] * tmp[i]


def atax_np(A, x, y, tmp):
    tmp[:] = A @ x
    y[:] = A.T @ tmp


def atax_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return rng.random((m, n)), rng.random(n), np.zeros(n), np.zeros(m)


def atax_flops(p: dict[str, int]) -> float:
    return 4.0 * p["m"] * p["n"]


# ----------------------------------------------------------------------------------------- bicg


def bicg(A, s, q, p, r):
    n, m = A.shape
    for i in range(m):
        s[i] = 0.0
    for i in range(n):
        q[i] = 0.0
        for j in range(m):
            s[j] = s[j] + r[i] * A[i, j]
            q[i] = q[i] + A[i, j] * p[j]


def bicg_np(A, s, q, p, r):
    s[:] = r @ A
    q[:] = A @ p


def bicg_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return rng.random((n, m)), np.zeros(m), np.zeros(n), rng.random(m), rng.random(n)


def bicg_flops(p: dict[str, int]) -> float:
    return 4.0 * p["m"] * p["n"]


# ------------------------------------------------------------------------------------------ mvt


def mvt(x1, x2, y_1, y_2, A):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            x1[i] = x1[i] + A[i, j] * y_1[j]
    for i in range(n):
        for j in range(n):
            x2[i] = x2[i] + A[j, i] * y_2[j]


def mvt_np(x1, x2, y_1, y_2, A):
    x1 += A @ y_1
    x2 += A.T @ y_2


def mvt_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return rng.random(n), rng.random(n), rng.random(n), rng.random(n), rng.random((n, n))


def mvt_flops(p: dict[str, int]) -> float:
    return 4.0 * p["n"] ** 2


# -------------------------------------------------------------------------------------- gemver


def gemver(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            A[i, j] = A[i, j] + u1[i] * v1[j] + u2[i] * v2[j]
    for i in range(n):
        for j in range(n):
            x[i] = x[i] + beta * A[j, i] * y[j]
    for i in range(n):
        x[i] = x[i] + z[i]
    for i in range(n):
        for j in range(n):
            w[i] = w[i] + alpha * A[i, j] * x[j]


def gemver_np(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    A += np.outer(u1, v1) + np.outer(u2, v2)
    x += beta * (A.T @ y) + z
    w += alpha * (A @ x)


def gemver_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    vectors = [rng.random(n) for _ in range(4)]
    return (1.5, 1.2, rng.random((n, n)), *vectors, np.zeros(n), np.zeros(n), rng.random(n),
            rng.random(n))


def gemver_flops(p: dict[str, int]) -> float:
    return 10.0 * p["n"] ** 2 + p["n"]


# ------------------------------------------------------------------------------------- gesummv


def gesummv(alpha, beta, A, B, tmp, x, y):
    n = A.shape[0]
    for i in range(n):
        tmp[i] = 0.0
        y[i] = 0.0
        for j in range(n):
            tmp[i] = A[i, j] * x[j] + tmp[i]
            y[i] = B[i, j] * x[j] + y[i]
        y[i] = alpha * tmp[i] + beta * y[i]


def gesummv_np(alpha, beta, A, B, tmp, x, y):
    tmp[:] = A @ x
    y[:] = alpha * tmp + beta * (B @ x)


def gesummv_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return 1.5, 1.2, rng.random((n, n)), rng.random((n, n)), np.zeros(n), rng.random(n), np.zeros(n)


def gesummv_flops(p: dict[str, int]) -> float:
    return 4.0 * p["n"] ** 2 + 3.0 * p["n"]


# ---------------------------------------------------------------------------------------- syrk


def syrk(alpha, beta, C, A):
    n, m = A.shape
    for i in range(n):
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                C[i, j] += alpha * A[i, k] * A[j, k]


def syrk_np(alpha, beta, C, A):
    lower = np.tril_indices(C.shape[0])
    C[lower] = beta * C[lower] + (alpha * (A @ A.T))[lower]


def syrk_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return 1.5, 1.2, rng.random((n, n)), rng.random((n, m))


def syrk_flops(p: dict[str, int]) -> float:
    tri = p["n"] * (p["n"] + 1) / 2
    return tri * (1.0 + 3.0 * p["m"])


# --------------------------------------------------------------------------------------- syr2k


def syr2k(alpha, beta, C, A, B):
    n, m = A.shape
    for i in range(n):
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                C[i, j] += A[j, k] * alpha * B[i, k] + B[j, k] * alpha * A[i, k]


def syr2k_np(alpha, beta, C, A, B):
    lower = np.tril_indices(C.shape[0])
    C[lower] = beta * C[lower] + (alpha * (B @ A.T + A @ B.T))[lower]


def syr2k_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return 1.5, 1.2, rng.random((n, n)), rng.random((n, m)), rng.random((n, m))


def syr2k_flops(p: dict[str, int]) -> float:
    tri = p["n"] * (p["n"] + 1) / 2
    return tri * (1.0 + 6.0 * p["m"])


# ---------------------------------------------------------------------------------------- symm


def symm(alpha, beta, C, A, B):
    m, n = C.shape
    for i in range(m):
        for j in range(n):
            temp2 = 0.0
            for k in range(i):
                C[k, j] += alpha * B[i, j] * A[i, k]
                temp2 += B[k, j] * A[i, k]
            C[i, j] = beta * C[i, j] + alpha * B[i, j] * A[i, i] + alpha * temp2


def symm_np(alpha, beta, C, A, B):
    # Only the lower triangle of A is read: A stands for the symmetric matrix it is half of.
    lower = np.tril(A)
    full = lower + np.tril(A, -1).T
    C[:, :] = beta * C + alpha * (full @ B)


def symm_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return 1.5, 1.2, rng.random((m, n)), rng.random((m, m)), rng.random((m, n))


def symm_flops(p: dict[str, int]) -> float:
    m, n = p["m"], p["n"]
    return n * (m * (m - 1) / 2 * 5.0 + 6.0 * m)


# ---------------------------------------------------------------------------------------- trmm


def trmm(alpha, A, B):
    m, n = B.shape
    for i in range(m):
        for j in range(n):
            for k in range(i + 1, m):
                B[i, j] += A[k, i] * B[k, j]
            B[i, j] = alpha * B[i, j]


def trmm_np(alpha, A, B):
    # B := alpha * (I + L^T) B, L the strictly lower triangle of A (the loops read no other part).
    B[:, :] = alpha * ((np.tril(A, -1).T + np.eye(A.shape[0])) @ B)


def trmm_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    m, n = p["m"], p["n"]
    return 1.5, rng.random((m, m)), rng.random((m, n))


def trmm_flops(p: dict[str, int]) -> float:
    m, n = p["m"], p["n"]
    return n * (m * (m - 1) / 2 * 2.0 + m)


# ------------------------------------------------------------------------------------ jacobi-1d


def jacobi_1d(tsteps, A, B):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in range(1, n - 1):
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1])
        for i in range(1, n - 1):
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1])


def jacobi_1d_np(tsteps, A, B):
    for _t in range(tsteps):
        B[1:-1] = 0.33333 * (A[:-2] + A[1:-1] + A[2:])
        A[1:-1] = 0.33333 * (B[:-2] + B[1:-1] + B[2:])


def jacobi_1d_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return p["tsteps"], rng.random(n), rng.random(n)


def jacobi_1d_flops(p: dict[str, int]) -> float:
    return p["tsteps"] * 2.0 * (p["n"] - 2) * 3


# -------------------------------------------------------------------------------------- fdtd-2d


def fdtd_2d(ex, ey, hz, fict):
    nx, ny = ex.shape
    tmax = fict.shape[0]
    for t in range(tmax):
        for j in range(ny):
            ey[0, j] = fict[t]
        for i in range(1, nx):
            for j in range(ny):
                ey[i, j] = ey[i, j] - 0.5 * (hz[i, j] - hz[i - 1, j])
        for i in range(nx):
            for j in range(1, ny):
                ex[i, j] = ex[i, j] - 0.5 * (hz[i, j] - hz[i, j - 1])
        for i in range(nx - 1):
            for j in range(ny - 1):
                hz[i, j] = hz[i, j] - 0.7 * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])


def fdtd_2d_np(ex, ey, hz, fict):
    for t in range(fict.shape[0]):
        ey[0, :] = fict[t]
        ey[1:, :] = ey[1:, :] - 0.5 * (hz[1:, :] - hz[:-1, :])
        ex[:, 1:] = ex[:, 1:] - 0.5 * (hz[:, 1:] - hz[:, :-1])
        hz[:-1, :-1] = hz[:-1, :-1] - 0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1]
                                             - ey[:-1, :-1])


def fdtd_2d_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    nx, ny = p["nx"], p["ny"]
    return (rng.random((nx, ny)), rng.random((nx, ny)), rng.random((nx, ny)),
            rng.random(p["tmax"]))


def fdtd_2d_flops(p: dict[str, int]) -> float:
    nx, ny = p["nx"], p["ny"]
    return p["tmax"] * (3.0 * (nx - 1) * ny + 3.0 * nx * (ny - 1) + 5.0 * (nx - 1) * (ny - 1))


# ------------------------------------------------------------------------------------------- lu


def lu(A):
    n = A.shape[0]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                A[i, j] -= A[i, k] * A[k, j]
            A[i, j] /= A[j, j]
        for j in range(i, n):
            for k in range(i):
                A[i, j] -= A[i, k] * A[k, j]


def lu_np(A):
    # Right-looking Doolittle without pivoting: the same factors, another summation order.
    for k in range(A.shape[0]):
        A[k + 1:, k] /= A[k, k]
        A[k + 1:, k + 1:] -= np.outer(A[k + 1:, k], A[k, k + 1:])


def _spd(n: int, rng: np.random.Generator) -> np.ndarray:
    # B * B^T (positive semi-definite, like PolyBench) plus the identity: positive definite and
    # well conditioned, so lu and cholesky need no pivoting and keep their precision.
    B = rng.random((n, n))
    return B @ B.T / n + np.eye(n)


def lu_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    return (_spd(p["n"], rng),)


def lu_flops(p: dict[str, int]) -> float:
    return 2.0 * p["n"] ** 3 / 3.0


# ------------------------------------------------------------------------------------- cholesky


def cholesky(A):
    n = A.shape[0]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                A[i, j] -= A[i, k] * A[j, k]
            A[i, j] /= A[j, j]
        for k in range(i):
            A[i, i] -= A[i, k] * A[i, k]
        A[i, i] = math.sqrt(A[i, i])


def cholesky_np(A):
    lower = np.tril_indices(A.shape[0])
    A[lower] = np.linalg.cholesky(A)[lower]


def cholesky_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    return (_spd(p["n"], rng),)


def cholesky_flops(p: dict[str, int]) -> float:
    return p["n"] ** 3 / 3.0


# -------------------------------------------------------------------------------------- trisolv


def trisolv(L, x, b):
    n = L.shape[0]
    for i in range(n):
        x[i] = b[i]
        for j in range(i):
            x[i] -= L[i, j] * x[j]
        x[i] = x[i] / L[i, i]


def trisolv_np(L, x, b):
    x[:] = np.linalg.solve(L, b)


def trisolv_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    # Small off-diagonal entries and a diagonal in [1, 2): forward substitution stays bounded.
    L = np.tril(rng.random((n, n)), -1) / n + np.diag(1.0 + rng.random(n))
    return L, np.full(n, -999.0), rng.random(n)


def trisolv_flops(p: dict[str, int]) -> float:
    return float(p["n"] ** 2)


# -------------------------------------------------------------------------------------- doitgen


def doitgen(A, C4, sum):
    nr, nq, np_ = A.shape
    for r in range(nr):
        for q in range(nq):
            for p in range(np_):
                sum[p] = 0.0
                for s in range(np_):
                    sum[p] += A[r, q, s] * C4[s, p]
            for p in range(np_):
                A[r, q, p] = sum[p]


def doitgen_np(A, C4, sum):
    A[:, :, :] = A @ C4
    sum[:] = A[-1, -1, :]


def doitgen_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    nr, nq, np_ = p["nr"], p["nq"], p["np"]
    return rng.random((nr, nq, np_)), rng.random((np_, np_)), np.zeros(np_)


def doitgen_flops(p: dict[str, int]) -> float:
    return 2.0 * p["nr"] * p["nq"] * p["np"] ** 2


# ------------------------------------------------------------------------------------- registry

_MN = {"mini": {"m": 20, "n": 30}, "small": {"m": 60, "n": 80}, "medium": {"m": 200, "n": 240}}
_AX = {"mini": {"m": 38, "n": 42}, "small": {"m": 116, "n": 124}, "medium": {"m": 390, "n": 410}}
_N40 = {"mini": {"n": 40}, "small": {"n": 120}, "medium": {"n": 400}}

POLYBENCH: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("2mm", k2mm, k2mm_np, k2mm_setup, k2mm_flops,
               {"mini": {"ni": 16, "nj": 18, "nk": 22, "nl": 24},
                "small": {"ni": 40, "nj": 50, "nk": 70, "nl": 80},
                "medium": {"ni": 180, "nj": 190, "nk": 210, "nl": 220}},
               outputs=(2, 6)),
        Kernel("3mm", k3mm, k3mm_np, k3mm_setup, k3mm_flops,
               {"mini": {"ni": 16, "nj": 18, "nk": 20, "nl": 22, "nm": 24},
                "small": {"ni": 40, "nj": 50, "nk": 60, "nl": 70, "nm": 80},
                "medium": {"ni": 180, "nj": 190, "nk": 200, "nl": 210, "nm": 220}},
               outputs=(0, 3, 6)),
        Kernel("atax", atax, atax_np, atax_setup, atax_flops, _AX, outputs=(2, 3)),
        Kernel("bicg", bicg, bicg_np, bicg_setup, bicg_flops, _AX, outputs=(1, 2)),
        Kernel("mvt", mvt, mvt_np, mvt_setup, mvt_flops, _N40, outputs=(0, 1)),
        Kernel("gemver", gemver, gemver_np, gemver_setup, gemver_flops, _N40,
               outputs=(2, 7, 8)),
        Kernel("gesummv", gesummv, gesummv_np, gesummv_setup, gesummv_flops,
               {"mini": {"n": 30}, "small": {"n": 90}, "medium": {"n": 250}},
               outputs=(4, 6)),
        Kernel("syrk", syrk, syrk_np, syrk_setup, syrk_flops, _MN, outputs=(2,)),
        Kernel("syr2k", syr2k, syr2k_np, syr2k_setup, syr2k_flops, _MN, outputs=(2,)),
        Kernel("symm", symm, symm_np, symm_setup, symm_flops, _MN, outputs=(2,)),
        Kernel("trmm", trmm, trmm_np, trmm_setup, trmm_flops, _MN, outputs=(2,)),
        Kernel("jacobi-1d", jacobi_1d, jacobi_1d_np, jacobi_1d_setup, jacobi_1d_flops,
               {"mini": {"n": 30, "tsteps": 20}, "small": {"n": 120, "tsteps": 40},
                "medium": {"n": 400, "tsteps": 100}},
               outputs=(1, 2)),
        Kernel("fdtd-2d", fdtd_2d, fdtd_2d_np, fdtd_2d_setup, fdtd_2d_flops,
               {"mini": {"tmax": 20, "nx": 20, "ny": 30},
                "small": {"tmax": 40, "nx": 60, "ny": 80},
                "medium": {"tmax": 100, "nx": 200, "ny": 240}},
               outputs=(0, 1, 2)),
        Kernel("lu", lu, lu_np, lu_setup, lu_flops, _N40, outputs=(0,)),
        Kernel("cholesky", cholesky, cholesky_np, cholesky_setup, cholesky_flops, _N40,
               outputs=(0,)),
        Kernel("trisolv", trisolv, trisolv_np, trisolv_setup, trisolv_flops, _N40,
               outputs=(1,)),
        Kernel("doitgen", doitgen, doitgen_np, doitgen_setup, doitgen_flops,
               {"mini": {"nq": 8, "nr": 10, "np": 12}, "small": {"nq": 20, "nr": 25, "np": 30},
                "medium": {"nq": 40, "nr": 50, "np": 60}},
               outputs=(0, 2)),
    )
}
