"""Gauss-Seidel sweeps (PolyBench seidel-2d): every point reads values updated in the same
sweep, a recurrence in both loops."""

import numpy as np


def seidel(tsteps, A):
    n = A.shape[0]
    for t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = (A[i - 1, j - 1] + A[i - 1, j] + A[i - 1, j + 1]
                           + A[i, j - 1] + A[i, j] + A[i, j + 1]
                           + A[i + 1, j - 1] + A[i + 1, j] + A[i + 1, j + 1]) / 9.0


def setup(scale):
    rng = np.random.default_rng(4)
    n = 200 // scale
    return (5, rng.random((n, n)))
