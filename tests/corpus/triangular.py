"""Triangular loop nests: PolyBench lu, ludcmp, cholesky, trisolv, gramschmidt, durbin,
floyd-warshall, nussinov, and back substitution with a negative-step loop."""

from __future__ import annotations

import math

import numpy as np

from benchmarks.polybench import cholesky, lu, trisolv  # shared with the benchmark suite
from corpus import Case, floats, ints, spd


def ludcmp(A, b, x, y):
    n = A.shape[0]
    for i in range(n):
        for j in range(i):
            w = A[i, j]
            for k in range(j):
                w -= A[i, k] * A[k, j]
            A[i, j] = w / A[j, j]
        for j in range(i, n):
            w = A[i, j]
            for k in range(i):
                w -= A[i, k] * A[k, j]
            A[i, j] = w
    for i in range(n):
        w = b[i]
        for j in range(i):
            w -= A[i, j] * y[j]
        y[i] = w
    for i in range(n - 1, -1, -1):
        w = y[i]
        for j in range(i + 1, n):
            w -= A[i, j] * x[j]
        x[i] = w / A[i, i]


def gramschmidt(A, R, Q):
    m, n = A.shape
    for k in range(n):
        nrm = 0.0
        for i in range(m):
            nrm += A[i, k] * A[i, k]
        R[k, k] = math.sqrt(nrm)
        for i in range(m):
            Q[i, k] = A[i, k] / R[k, k]
        for j in range(k + 1, n):
            R[k, j] = 0.0
            for i in range(m):
                R[k, j] += Q[i, k] * A[i, j]
            for i in range(m):
                A[i, j] = A[i, j] - Q[i, k] * R[k, j]


def durbin(r, y, z):
    n = r.shape[0]
    y[0] = -r[0]
    beta = 1.0
    alpha = -r[0]
    for k in range(1, n):
        beta = (1 - alpha * alpha) * beta
        s = 0.0
        for i in range(k):
            s += r[k - i - 1] * y[i]
        alpha = -(r[k] + s) / beta
        for i in range(k):
            z[i] = y[i] + alpha * y[k - i - 1]
        for i in range(k):
            y[i] = z[i]
        y[k] = alpha


def back_substitution(U, b, x):
    n = len(b)
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(n - 1, i, -1):
            s -= U[i, j] * x[j]
        x[i] = s / U[i, i]


def lower_triangle_sum(A):
    n = A.shape[0]
    total = 0.0
    for i in range(n):
        for j in range(i + 1):
            total += A[i, j]
    return total


def floyd_warshall(path):
    n = path.shape[0]
    for k in range(n):
        for i in range(n):
            for j in range(n):
                if path[i, k] + path[k, j] < path[i, j]:
                    path[i, j] = path[i, k] + path[k, j]


def floyd_warshall_min(path):
    n = path.shape[0]
    for k in range(n):
        for i in range(n):
            for j in range(n):
                path[i, j] = min(path[i, j], path[i, k] + path[k, j])


def nussinov(seq, table):
    n = seq.shape[0]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            if j - 1 >= 0:
                table[i, j] = max(table[i, j], table[i, j - 1])
            if i + 1 < n:
                table[i, j] = max(table[i, j], table[i + 1, j])
            if j - 1 >= 0 and i + 1 < n:
                if i < j - 1:
                    table[i, j] = max(table[i, j], table[i + 1, j - 1] + (seq[i] + seq[j] == 3))
                else:
                    table[i, j] = max(table[i, j], table[i + 1, j - 1])
            for k in range(i + 1, j):
                table[i, j] = max(table[i, j], table[i, k] + table[k + 1, j])


def symmetrize_upper(A):
    n = A.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            A[j, i] = A[i, j]


def trisolv_upper_inplace(U, x):
    # x is overwritten by the solution of U y = x, walking the rows backwards with step -1
    n = x.shape[0]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            x[i] -= U[i, j] * x[j]
        x[i] /= U[i, i]


def _diag_dominant(rng, n):
    return floats(rng, n, n) + n * np.eye(n)


CASES = [
    Case(lu, lambda rng, n: (_diag_dominant(rng, n),)),
    Case(cholesky, lambda rng, n: (spd(rng, n),)),
    Case(trisolv, lambda rng, n: (_diag_dominant(rng, n), np.zeros(n), floats(rng, n))),
    Case(ludcmp, lambda rng, n: (_diag_dominant(rng, n), floats(rng, n), np.zeros(n),
                                 np.zeros(n))),
    Case(gramschmidt, lambda rng, n: (floats(rng, n + 1, n) + np.eye(n + 1, n),
                                      np.zeros((n, n)), np.zeros((n + 1, n)))),
    Case(durbin, lambda rng, n: (floats(rng, n, lo=-0.3, hi=0.3), np.zeros(n), np.zeros(n))),
    Case(back_substitution, lambda rng, n: (_diag_dominant(rng, n), floats(rng, n),
                                            np.zeros(n))),
    Case(lower_triangle_sum, lambda rng, n: (floats(rng, n, n),)),
    Case(floyd_warshall, lambda rng, n: (ints(rng, 1, 100, n, n, dtype=np.int32),),
         float32=False),
    Case(floyd_warshall_min, lambda rng, n: (floats(rng, n, n, lo=0.0, hi=10.0),)),
    Case(nussinov, lambda rng, n: (ints(rng, 0, 4, n), np.zeros((n, n), dtype=np.int64))),
    Case(symmetrize_upper, lambda rng, n: (floats(rng, n, n),)),
    Case(trisolv_upper_inplace, lambda rng, n: (_diag_dominant(rng, n), floats(rng, n))),
]
