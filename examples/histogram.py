"""Histogram of integer samples: the subscript counts[v] is data-dependent, so every access
keeps its bounds check (and a bad sample raises IndexError, as in Python)."""

import numpy as np


def histogram(samples, counts):
    for i in range(samples.shape[0]):
        v = samples[i]
        counts[v] += 1


def numpy_version(samples, counts):
    counts += np.bincount(samples, minlength=counts.shape[0])


def setup(scale):
    rng = np.random.default_rng(3)
    return (rng.integers(0, 64, 1_000_000 // scale), np.zeros(64, dtype=np.int64))
