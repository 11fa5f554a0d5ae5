"""Hand-written Numba `prange` versions of the 23 benchmark kernels, for comparing accir's
automatic parallelisation with Numba's `parallel=True`.

The rule: each `<name>_prange` is the loop version of benchmarks/kernels.py or
benchmarks/polybench.py with the same signature, loop order and statement order, except that
`prange` replaces `range` on the outermost loop of each loop nest that is parallel in PolyBench's
loop order: its iterations write disjoint elements and read no element another iteration writes.
Stencils keep their time loop serial and parallelise each sweep inside it; where a nest's outer
loop carries a dependence (symm, trmm, lu, atax, doitgen), the prange goes on the outermost inner
loop that does not, so a parallel loop runs once per outer iteration. No loop is turned into a
reduction (Numba's `+=` reductions reassociate and only work on scalars), no array is privatised
and no loop is interchanged; a nest without a parallel loop stays serial, and a kernel without any
(seidel-2d, cholesky, trisolv) has no version: `PRANGE[name]` is None. tests/test_prange_kernels.py
checks that the sources differ from the loop versions only by `prange`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import prange

# ----------------------------------------------------------------------- benchmarks/kernels.py


def saxpy_prange(a, x, y):
    n = x.shape[0]
    for i in prange(n):
        y[i] = a * x[i] + y[i]


def gemm_prange(alpha, beta, C, A, B):
    ni, nj = C.shape
    nk = A.shape[1]
    for i in prange(ni):
        for j in range(nj):
            C[i, j] *= beta
        for k in range(nk):
            for j in range(nj):
                C[i, j] += alpha * A[i, k] * B[k, j]


def jacobi_2d_prange(tsteps, A, B):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])


def heat_3d_prange(tsteps, A, B):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    B[i, j, k] = (0.125 * (A[i + 1, j, k] - 2.0 * A[i, j, k] + A[i - 1, j, k])
                                  + 0.125 * (A[i, j + 1, k] - 2.0 * A[i, j, k] + A[i, j - 1, k])
                                  + 0.125 * (A[i, j, k + 1] - 2.0 * A[i, j, k] + A[i, j, k - 1])
                                  + A[i, j, k])
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    A[i, j, k] = (0.125 * (B[i + 1, j, k] - 2.0 * B[i, j, k] + B[i - 1, j, k])
                                  + 0.125 * (B[i, j + 1, k] - 2.0 * B[i, j, k] + B[i, j - 1, k])
                                  + 0.125 * (B[i, j, k + 1] - 2.0 * B[i, j, k] + B[i, j, k - 1])
                                  + B[i, j, k])


def covariance_prange(float_n, data, cov, mean):
    n, m = data.shape
    for j in prange(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= float_n
    for i in prange(n):
        for j in range(m):
            data[i, j] -= mean[j]
    # Iteration i writes row i right of the diagonal and column i below it: disjoint.
    for i in prange(m):
        for j in range(i, m):
            cov[i, j] = 0.0
            for k in range(n):
                cov[i, j] += data[k, i] * data[k, j]
            cov[i, j] /= float_n - 1.0
            cov[j, i] = cov[i, j]


# --------------------------------------------------------------------- benchmarks/polybench.py


def k2mm_prange(alpha, beta, tmp, A, B, C, D):
    ni, nj = tmp.shape
    nk = A.shape[1]
    nl = D.shape[1]
    for i in prange(ni):
        for j in range(nj):
            tmp[i, j] = 0.0
            for k in range(nk):
                tmp[i, j] += alpha * A[i, k] * B[k, j]
    for i in prange(ni):
        for j in range(nl):
            D[i, j] *= beta
            for k in range(nj):
                D[i, j] += tmp[i, k] * C[k, j]


def k3mm_prange(E, A, B, F, C, D, G):
    ni, nj = E.shape
    nk = A.shape[1]
    nm = C.shape[1]
    nl = F.shape[1]
    for i in prange(ni):
        for j in range(nj):
            E[i, j] = 0.0
            for k in range(nk):
                E[i, j] += A[i, k] * B[k, j]
    for i in prange(nj):
        for j in range(nl):
            F[i, j] = 0.0
            for k in range(nm):
                F[i, j] += C[i, k] * D[k, j]
    for i in prange(ni):
        for j in range(nl):
            G[i, j] = 0.0
            for k in range(nj):
                G[i, j] += E[i, k] * F[k, j]


def atax_prange(A, x, y, tmp):
    m, n = A.shape
    for i in prange(n):
        y[i] = 0.0
    # Every i adds into all of y, and the first j loop is a reduction into tmp[i]; the second
    # j loop updates distinct y[j].
    for i in range(m):
        tmp[i] = 0.0
        for j in range(n):
            tmp[i] = tmp[i] + A[i, j] * x[j]
        for j in prange(n):
            y[j] = y[j] + A[i, j] * tmp[i]


def bicg_prange(A, s, q, p, r):
    n, m = A.shape
    for i in prange(m):
        s[i] = 0.0
    # Serial: every i adds into all of s, and every j into q[i].
    for i in range(n):
        q[i] = 0.0
        for j in range(m):
            s[j] = s[j] + r[i] * A[i, j]
            q[i] = q[i] + A[i, j] * p[j]


def mvt_prange(x1, x2, y_1, y_2, A):
    n = A.shape[0]
    for i in prange(n):
        for j in range(n):
            x1[i] = x1[i] + A[i, j] * y_1[j]
    for i in prange(n):
        for j in range(n):
            x2[i] = x2[i] + A[j, i] * y_2[j]


def gemver_prange(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    n = A.shape[0]
    for i in prange(n):
        for j in range(n):
            A[i, j] = A[i, j] + u1[i] * v1[j] + u2[i] * v2[j]
    for i in prange(n):
        for j in range(n):
            x[i] = x[i] + beta * A[j, i] * y[j]
    for i in prange(n):
        x[i] = x[i] + z[i]
    for i in prange(n):
        for j in range(n):
            w[i] = w[i] + alpha * A[i, j] * x[j]


def gesummv_prange(alpha, beta, A, B, tmp, x, y):
    n = A.shape[0]
    for i in prange(n):
        tmp[i] = 0.0
        y[i] = 0.0
        for j in range(n):
            tmp[i] = A[i, j] * x[j] + tmp[i]
            y[i] = B[i, j] * x[j] + y[i]
        y[i] = alpha * tmp[i] + beta * y[i]


def syrk_prange(alpha, beta, C, A):
    n, m = A.shape
    # Iteration i writes only row i of C (up to the diagonal) and reads only A.
    for i in prange(n):
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                C[i, j] += alpha * A[i, k] * A[j, k]


def syr2k_prange(alpha, beta, C, A, B):
    n, m = A.shape
    for i in prange(n):
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                C[i, j] += A[j, k] * alpha * B[i, k] + B[j, k] * alpha * A[i, k]


def symm_prange(alpha, beta, C, A, B):
    m, n = C.shape
    # i is serial: iteration i adds into rows k < i, which iterations k finalised before.
    # Iteration j touches only column j of C and B.
    for i in range(m):
        for j in prange(n):
            temp2 = 0.0
            for k in range(i):
                C[k, j] += alpha * B[i, j] * A[i, k]
                temp2 += B[k, j] * A[i, k]
            C[i, j] = beta * C[i, j] + alpha * B[i, j] * A[i, i] + alpha * temp2


def trmm_prange(alpha, A, B):
    m, n = B.shape
    # i is serial: iteration i reads rows k > i of B before iterations k overwrite them.
    # Iteration j touches only column j of B.
    for i in range(m):
        for j in prange(n):
            for k in range(i + 1, m):
                B[i, j] += A[k, i] * B[k, j]
            B[i, j] = alpha * B[i, j]


def jacobi_1d_prange(tsteps, A, B):
    n = A.shape[0]
    for _t in range(tsteps):
        for i in prange(1, n - 1):
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1])
        for i in prange(1, n - 1):
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1])


def fdtd_2d_prange(ex, ey, hz, fict):
    nx, ny = ex.shape
    tmax = fict.shape[0]
    for t in range(tmax):
        for j in prange(ny):
            ey[0, j] = fict[t]
        for i in prange(1, nx):
            for j in range(ny):
                ey[i, j] = ey[i, j] - 0.5 * (hz[i, j] - hz[i - 1, j])
        for i in prange(nx):
            for j in range(1, ny):
                ex[i, j] = ex[i, j] - 0.5 * (hz[i, j] - hz[i, j - 1])
        for i in prange(nx - 1):
            for j in range(ny - 1):
                hz[i, j] = hz[i, j] - 0.7 * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])


def lu_prange(A):
    n = A.shape[0]
    # i is serial (row i reads the rows above), and so is the first j loop (A[i, j] reads
    # A[i, k] for k < j). The second j loop writes A[i, j] for j >= i and reads A[i, k] only
    # for k < i.
    for i in range(n):
        for j in range(i):
            for k in range(j):
                A[i, j] -= A[i, k] * A[k, j]
            A[i, j] /= A[j, j]
        for j in prange(i, n):
            for k in range(i):
                A[i, j] -= A[i, k] * A[k, j]


def doitgen_prange(A, C4, sum):
    nr, nq, np_ = A.shape
    # r and q are serial: every (r, q) overwrites the whole shared temporary `sum`.
    for r in range(nr):
        for q in range(nq):
            for p in prange(np_):
                sum[p] = 0.0
                for s in range(np_):
                    sum[p] += A[r, q, s] * C4[s, p]
            for p in prange(np_):
                A[r, q, p] = sum[p]


# ------------------------------------------------------------------------------------ registry

# seidel-2d: every loop carries a dependence (A[i - 1, ...], A[i, j - 1] are this sweep's values).
# cholesky: i and the first j loop carry dependences like lu's; the k loops reduce into one element.
# trisolv: x[i] reads x[j] for j < i, and the j loop reduces into x[i].
PRANGE: dict[str, Callable[..., Any] | None] = {
    "saxpy": saxpy_prange,
    "gemm": gemm_prange,
    "jacobi-2d": jacobi_2d_prange,
    "heat-3d": heat_3d_prange,
    "covariance": covariance_prange,
    "seidel-2d": None,
    "2mm": k2mm_prange,
    "3mm": k3mm_prange,
    "atax": atax_prange,
    "bicg": bicg_prange,
    "mvt": mvt_prange,
    "gemver": gemver_prange,
    "gesummv": gesummv_prange,
    "syrk": syrk_prange,
    "syr2k": syr2k_prange,
    "symm": symm_prange,
    "trmm": trmm_prange,
    "jacobi-1d": jacobi_1d_prange,
    "fdtd-2d": fdtd_2d_prange,
    "lu": lu_prange,
    "cholesky": None,
    "trisolv": None,
    "doitgen": doitgen_prange,
}
