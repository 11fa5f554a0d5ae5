"""y <- a*x + y, the "hello world" of array compilers."""

import numpy as np


def saxpy(a, x, y):
    for i in range(x.shape[0]):
        y[i] = a * x[i] + y[i]


def numpy_version(a, x, y):
    y += a * x


def setup(scale):
    rng = np.random.default_rng(0)
    n = 2_000_000 // scale
    return (2.5, rng.random(n), rng.random(n))
