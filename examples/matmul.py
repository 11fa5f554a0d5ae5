"""Matrix multiply written as three loops, in the cache-friendly i, k, j order."""

import numpy as np


def matmul(A, B, C):
    n, m = C.shape
    p = A.shape[1]
    for i in range(n):
        for j in range(m):
            C[i, j] = 0.0
        for k in range(p):
            for j in range(m):
                C[i, j] += A[i, k] * B[k, j]


def numpy_version(A, B, C):
    np.matmul(A, B, out=C)


def setup(scale):
    rng = np.random.default_rng(1)
    n = 240 // scale
    return (rng.random((n, n + 20)), rng.random((n + 20, n - 10)), np.zeros((n, n - 10)))
