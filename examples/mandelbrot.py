"""Escape-time fractal: a while loop per pixel, complex arithmetic, early exit."""

import numpy as np


def mandelbrot(counts, x0, y0, step, max_iter):
    h, w = counts.shape
    for r in range(h):
        for c in range(w):
            z = 0j
            point = complex(x0 + c * step, y0 + r * step)
            n = 0
            while n < max_iter and abs(z) <= 2.0:
                z = z * z + point
                n += 1
            counts[r, c] = n


def setup(scale):
    n = 300 // scale
    return (np.zeros((n, n), dtype=np.int32), -2.0, -1.25, 2.5 / n, 100)
