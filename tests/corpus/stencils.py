"""Stencil kernels: PolyBench jacobi-1d/2d, heat-3d, fdtd-2d, seidel-2d, and a few others."""

from __future__ import annotations

import numpy as np

from corpus import Case, floats


def jacobi_1d(tsteps, A, B):
    n = A.shape[0]
    for t in range(tsteps):
        for i in range(1, n - 1):
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1])
        for i in range(1, n - 1):
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1])


def jacobi_2d(tsteps, A, B):
    n = A.shape[0]
    for t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, 1 + j] + A[1 + i, j] + A[i - 1, j])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, 1 + j] + B[1 + i, j] + B[i - 1, j])


def heat_3d(tsteps, A, B):
    n = len(A)
    for t in range(1, tsteps + 1):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    B[i, j, k] = (0.125 * (A[i + 1, j, k] - 2.0 * A[i, j, k] + A[i - 1, j, k])
                                  + 0.125 * (A[i, j + 1, k] - 2.0 * A[i, j, k] + A[i, j - 1, k])
                                  + 0.125 * (A[i, j, k + 1] - 2.0 * A[i, j, k] + A[i, j, k - 1])
                                  + A[i, j, k])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    A[i, j, k] = (0.125 * (B[i + 1, j, k] - 2.0 * B[i, j, k] + B[i - 1, j, k])
                                  + 0.125 * (B[i, j + 1, k] - 2.0 * B[i, j, k] + B[i, j - 1, k])
                                  + 0.125 * (B[i, j, k + 1] - 2.0 * B[i, j, k] + B[i, j, k - 1])
                                  + B[i, j, k])


def fdtd_2d(tmax, ex, ey, hz, fict):
    nx, ny = ex.shape
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


def seidel_2d(tsteps, A):
    n = A.shape[0]
    for t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = (A[i - 1, j - 1] + A[i - 1, j] + A[i - 1, j + 1]
                           + A[i, j - 1] + A[i, j] + A[i, j + 1]
                           + A[i + 1, j - 1] + A[i + 1, j] + A[i + 1, j + 1]) / 9.0


def periodic_smooth(a, out):
    # a[i - 1] wraps around to the last element when i == 0
    n = len(a)
    for i in range(n):
        out[i] = 0.25 * a[i - 1] + 0.5 * a[i] + 0.25 * a[(i + 1) % n]


def conv2d_zero_pad(img, k, out):
    n, m = img.shape
    kh, kw = k.shape
    rh = kh // 2
    rw = kw // 2
    for i in range(n):
        for j in range(m):
            acc = 0.0
            for di in range(kh):
                for dj in range(kw):
                    ii = i + di - rh
                    jj = j + dj - rw
                    if 0 <= ii < n and 0 <= jj < m:
                        acc += img[ii, jj] * k[di, dj]
            out[i, j] = acc


def upwind_advection(steps, u, c, dt):
    n = u.shape[0]
    for t in range(steps):
        for i in range(n - 1, 0, -1):
            if c[i] > 0:
                u[i] = u[i] - dt * c[i] * (u[i] - u[i - 1])
            else:
                u[i] = u[i] - dt * c[i] * (u[(i + 1) % n] - u[i])


def wave_1d(steps, prev, cur, nxt, c2):
    n = len(cur)
    for t in range(steps):
        for i in range(1, n - 1):
            nxt[i] = 2.0 * cur[i] - prev[i] + c2 * (cur[i + 1] - 2.0 * cur[i] + cur[i - 1])
        for i in range(n):
            prev[i] = cur[i]
            cur[i] = nxt[i]


def laplace_edges(u, lap):
    # edges use one-sided differences via the index arithmetic in a conditional expression
    n, m = u.shape
    for i in range(n):
        for j in range(m):
            up = u[i - 1, j] if i > 0 else u[i, j]
            down = u[i + 1, j] if i < n - 1 else u[i, j]
            left = u[i, j - 1] if j > 0 else u[i, j]
            right = u[i, j + 1] if j < m - 1 else u[i, j]
            lap[i, j] = up + down + left + right - 4.0 * u[i, j]


def stencil_oob_column(A, B):
    # the last row reads one column past the end: IndexError on axis 1 after partial writes
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            jj = j + 1 if (j < m - 1 or i == n - 1) else j
            B[i, j] = 0.5 * (A[i, j] + A[i, jj])


CASES = [
    Case(jacobi_1d, lambda rng, n: (3, floats(rng, n + 2), floats(rng, n + 2))),
    Case(jacobi_2d, lambda rng, n: (2, floats(rng, n, n), floats(rng, n, n))),
    Case(heat_3d, lambda rng, n: (2, floats(rng, n, n, n), floats(rng, n, n, n)),
         sizes=(1, 4, 9)),
    Case(fdtd_2d, lambda rng, n: (3, floats(rng, n, n + 1), floats(rng, n, n + 1),
                                  floats(rng, n, n + 1), floats(rng, 3))),
    Case(seidel_2d, lambda rng, n: (2, floats(rng, n + 1, n + 1))),
    Case(periodic_smooth, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(conv2d_zero_pad, lambda rng, n: (floats(rng, n, n + 2), floats(rng, 3, 3),
                                          np.zeros((n, n + 2)))),
    Case(upwind_advection, lambda rng, n: (2, floats(rng, n), floats(rng, n), 0.1)),
    Case(wave_1d, lambda rng, n: (3, floats(rng, n + 2), floats(rng, n + 2), np.zeros(n + 2),
                                  0.25)),
    Case(laplace_edges, lambda rng, n: (floats(rng, n, n + 1), np.zeros((n, n + 1)))),
    Case(stencil_oob_column, lambda rng, n: (floats(rng, n, 3), np.zeros((n, 3))),
         sizes=(1, 4)),
]
