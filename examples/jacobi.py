"""Jacobi relaxation with OpenACC directives (as comments): a data region around the time
loop, and parallel loops inside it."""

import numpy as np


def jacobi(A, Anew, iters):
    n, m = A.shape
    #pragma acc data copy(A) create(Anew)
    for it in range(iters):
        #pragma acc parallel loop collapse(2)
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                Anew[i, j] = 0.25 * (A[i, j + 1] + A[i, j - 1] + A[i - 1, j] + A[i + 1, j])
        #pragma acc parallel loop collapse(2)
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                A[i, j] = Anew[i, j]
    #pragma acc end data


def numpy_version(A, Anew, iters):
    for _ in range(iters):
        Anew[1:-1, 1:-1] = 0.25 * (A[1:-1, 2:] + A[1:-1, :-2] + A[:-2, 1:-1] + A[2:, 1:-1])
        A[1:-1, 1:-1] = Anew[1:-1, 1:-1]


def setup(scale):
    rng = np.random.default_rng(2)
    n = 400 // scale
    return (rng.random((n, n)), np.zeros((n, n)), 20)
