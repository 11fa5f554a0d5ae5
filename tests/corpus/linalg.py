"""Dense linear algebra: PolyBench gemm, 2mm, atax, bicg, mvt, gesummv, syrk, syr2k, gemver,
doitgen, trmm, symm, plus dot products and complex matrix-vector products."""

from __future__ import annotations

import numpy as np

from benchmarks.kernels import gemm  # shared
from benchmarks.polybench import (  # shared
    atax,
    gemver,
    gesummv,
    k2mm,
    k3mm,
    symm,
    syr2k,
    syrk,
    trmm,
)
from corpus import Case, complexes, floats


def bicg(A, s, q, p, r):
    n, m = A.shape
    for i in range(m):
        s[i] = 0
    for i in range(n):
        q[i] = 0.0
        for j in range(m):
            s[j] = s[j] + r[i] * A[i, j]
            q[i] = q[i] + A[i, j] * p[j]


def mvt(x1, x2, y_1, y_2, A):
    n = x1.shape[0]
    for i in range(n):
        for j in range(n):
            x1[i] = x1[i] + A[i, j] * y_1[j]
    for i in range(n):
        for j in range(n):
            x2[i] = x2[i] + A[j, i] * y_2[j]


def doitgen(A, C4, sum_):
    nr, nq, np_ = A.shape
    for r in range(nr):
        for q in range(nq):
            for p in range(np_):
                sum_[p] = 0.0
                for s in range(np_):
                    sum_[p] += A[r, q, s] * C4[s, p]
            for p in range(np_):
                A[r, q, p] = sum_[p]


def dot(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s


def matvec_rows(A, x, y):
    # row-of-row indexing A[i][j]
    n = len(A)
    m = A.shape[1]
    for i in range(n):
        acc = 0.0
        for j in range(m):
            acc = acc + A[i][j] * x[j]
        y[i] = acc


def complex_matvec(A, x, y):
    n, m = A.shape
    for i in range(n):
        acc = 0j
        for j in range(m):
            acc += A[i, j] * x[j].conjugate()
        y[i] = acc


def rank1_update(A, u, v, alpha):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            A[i, j] -= alpha * u[i] * v[j]


CASES = [
    Case(gemm, lambda rng, n: (1.5, 1.2, floats(rng, n, n + 1), floats(rng, n, n + 2),
                               floats(rng, n + 2, n + 1))),
    Case(k2mm, lambda rng, n: (1.5, 1.2, np.zeros((n, n + 1)), floats(rng, n, n + 2),
                                 floats(rng, n + 2, n + 1), floats(rng, n + 1, n + 3),
                                 floats(rng, n, n + 3)), sizes=(1, 5, 11)),
    Case(atax, lambda rng, n: (floats(rng, n + 1, n), floats(rng, n), np.zeros(n),
                               np.zeros(n + 1))),
    Case(bicg, lambda rng, n: (floats(rng, n, n + 1), np.zeros(n + 1), np.zeros(n),
                               floats(rng, n + 1), floats(rng, n))),
    Case(mvt, lambda rng, n: (floats(rng, n), floats(rng, n), floats(rng, n), floats(rng, n),
                              floats(rng, n, n))),
    Case(gesummv, lambda rng, n: (1.5, 1.2, floats(rng, n, n), floats(rng, n, n), np.zeros(n),
                                  floats(rng, n), np.zeros(n))),
    Case(syrk, lambda rng, n: (1.5, 1.2, floats(rng, n, n), floats(rng, n, n + 2))),
    Case(syr2k, lambda rng, n: (1.5, 1.2, floats(rng, n, n), floats(rng, n, n + 2),
                                floats(rng, n, n + 2))),
    Case(gemver, lambda rng, n: (1.5, 1.2, floats(rng, n, n), *(floats(rng, n) for _ in range(8)))),
    Case(doitgen, lambda rng, n: (floats(rng, n, n + 1, n + 2), floats(rng, n + 2, n + 2),
                                  np.zeros(n + 2)), sizes=(1, 3, 7)),
    Case(trmm, lambda rng, n: (1.5, floats(rng, n, n), floats(rng, n, n + 1))),
    Case(symm, lambda rng, n: (1.5, 1.2, floats(rng, n, n + 1), floats(rng, n, n),
                               floats(rng, n, n + 1))),
    Case(dot, lambda rng, n: (floats(rng, n), floats(rng, n))),
    Case(matvec_rows, lambda rng, n: (floats(rng, n, n + 1), floats(rng, n + 1), np.zeros(n))),
    Case(complex_matvec, lambda rng, n: (complexes(rng, n, n + 1), complexes(rng, n + 1),
                                         np.zeros(n, dtype=np.complex128))),
    Case(rank1_update, lambda rng, n: (floats(rng, n, n + 1), floats(rng, n), floats(rng, n + 1),
                                       np.float64(0.5))),
    Case(k3mm, lambda rng, n: (np.zeros((n, n + 1)), floats(rng, n, n + 2),
                                   floats(rng, n + 2, n + 1), np.zeros((n + 1, n + 3)),
                                   floats(rng, n + 1, n + 4), floats(rng, n + 4, n + 3),
                                   np.zeros((n, n + 3))), sizes=(1, 4, 9)),
]
