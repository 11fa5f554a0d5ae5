"""Reductions, scans and histograms: sums, means, covariance, correlation, argmax/argmin,
prefix sums, histograms with integer indices, counting, norms."""

from __future__ import annotations

import math

import numpy as np

from corpus import Case, complexes, floats, ints


def total(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s


def int_total(a):
    s = 0
    for i in range(len(a)):
        s += a[i]
    return s


def total_2d(A):
    n, m = A.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s = s + A[i, j]
    return s


def variance(a):
    n = a.shape[0]
    mean = 0.0
    for i in range(n):
        mean += a[i]
    mean /= n
    var = 0.0
    for i in range(n):
        d = a[i] - mean
        var += d * d
    return var / n


def covariance(data, cov, mean):
    n, m = data.shape
    float_n = float(n)
    for j in range(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= float_n
    for i in range(n):
        for j in range(m):
            data[i, j] -= mean[j]
    for i in range(m):
        for j in range(i, m):
            cov[i, j] = 0.0
            for k in range(n):
                cov[i, j] += data[k, i] * data[k, j]
            cov[i, j] /= float_n - 1.0 if n > 1 else 1.0
            cov[j, i] = cov[i, j]


def correlation(data, corr, mean, stddev):
    n, m = data.shape
    float_n = float(n)
    eps = 0.1
    for j in range(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= float_n
    for j in range(m):
        stddev[j] = 0.0
        for i in range(n):
            stddev[j] += (data[i, j] - mean[j]) * (data[i, j] - mean[j])
        stddev[j] /= float_n
        stddev[j] = math.sqrt(stddev[j])
        stddev[j] = 1.0 if stddev[j] <= eps else stddev[j]
    for i in range(n):
        for j in range(m):
            data[i, j] -= mean[j]
            data[i, j] /= math.sqrt(float_n) * stddev[j]
    for i in range(m - 1):
        corr[i, i] = 1.0
        for j in range(i + 1, m):
            corr[i, j] = 0.0
            for k in range(n):
                corr[i, j] += data[k, i] * data[k, j]
            corr[j, i] = corr[i, j]
    corr[m - 1, m - 1] = 1.0


def argmax(a):
    best = 0
    for i in range(1, len(a)):
        if a[i] > a[best]:
            best = i
    return best


def argmin_2d_flat(A):
    n, m = A.shape
    bi = 0
    bj = 0
    for i in range(n):
        for j in range(m):
            if A[i, j] < A[bi, bj]:
                bi, bj = i, j
    return bi * m + bj


def prefix_sum(a, out):
    n = a.shape[0]
    if n == 0:
        return
    out[0] = a[0]
    for i in range(1, n):
        out[i] = out[i - 1] + a[i]


def inplace_scan_int(a):
    for i in range(1, a.size):
        a[i] += a[i - 1]


def histogram(idx, hist):
    for i in range(idx.shape[0]):
        hist[idx[i]] += 1


def histogram_weighted(idx, w, hist):
    # negative bin indices count from the end, as NumPy indexing does
    for i in range(idx.shape[0]):
        hist[idx[i]] += w[i]


def histogram_binned(x, lo, hi, hist):
    nbins = hist.shape[0]
    width = (hi - lo) / nbins
    outside = 0
    for i in range(x.shape[0]):
        b = int((x[i] - lo) / width)
        if b < 0 or b >= nbins:
            outside += 1
            continue
        hist[b] += 1
    return outside


def histogram_oob(idx, hist):
    # some index is past the end: IndexError after the earlier increments
    for i in range(idx.shape[0]):
        hist[idx[i]] += 1


def count_true(mask):
    c = 0
    for i in range(len(mask)):
        if mask[i]:
            c += 1
    return c


def sum_bools(mask):
    s = 0
    for i in range(mask.shape[0]):
        s += mask[i]
    return s


def any_negative(a):
    found = False
    for i in range(a.shape[0]):
        found = found or a[i] < 0
    return found


def max_abs(a):
    m = 0.0
    for i in range(a.shape[0]):
        m = max(m, abs(a[i]))
    return m


def norm2(a):
    s = 0.0
    for i in range(len(a)):
        s += a[i] * a[i]
    return math.sqrt(s)


def row_sums(A, out):
    n, m = A.shape
    for i in range(n):
        out[i] = 0
        for j in range(m):
            out[i] += A[i, j]


def kahan_sum(a):
    s = 0.0
    c = 0.0
    for i in range(a.shape[0]):
        y = a[i] - c
        t = s + y
        c = (t - s) - y
        s = t
    return s


def complex_product(z):
    p = 1 + 0j
    for i in range(z.shape[0]):
        p *= z[i]
    return p


def value_range(a):
    lo = a[0]
    hi = a[0]
    for i in range(1, len(a)):
        if a[i] < lo:
            lo = a[i]
        elif a[i] > hi:
            hi = a[i]
    return hi - lo


def column_max(A, out):
    n, m = A.shape
    for j in range(m):
        out[j] = A[0, j]
        for i in range(1, n):
            out[j] = max(out[j], A[i, j])


CASES = [
    Case(total, lambda rng, n: (floats(rng, n),), sizes=(0, 1, 5, 17)),
    Case(int_total, lambda rng, n: (ints(rng, -50, 50, n, dtype=np.int32),), float32=False,
         sizes=(0, 1, 5, 17)),
    Case(total_2d, lambda rng, n: (floats(rng, n, n + 2),)),
    Case(variance, lambda rng, n: (floats(rng, n),)),
    Case(covariance, lambda rng, n: (floats(rng, n + 1, n), np.zeros((n, n)), np.zeros(n))),
    Case(correlation, lambda rng, n: (floats(rng, n + 1, n), np.zeros((n, n)), np.zeros(n),
                                      np.zeros(n))),
    Case(argmax, lambda rng, n: (floats(rng, n),), sizes=(0, 1, 5, 17)),
    Case(argmin_2d_flat, lambda rng, n: (floats(rng, n, n + 1),)),
    Case(prefix_sum, lambda rng, n: (floats(rng, n), np.zeros(n)), sizes=(0, 1, 5, 17)),
    Case(inplace_scan_int, lambda rng, n: (ints(rng, -9, 9, n, dtype=np.int16),)),
    Case(histogram, lambda rng, n: (ints(rng, 0, 7, 3 * n), np.zeros(7, dtype=np.int64)),
         sizes=(0, 1, 5, 17)),
    Case(histogram_weighted, lambda rng, n: (ints(rng, -7, 7, 3 * n, dtype=np.int32),
                                             floats(rng, 3 * n), np.zeros(7))),
    Case(histogram_binned, lambda rng, n: (floats(rng, 4 * n, lo=-1.2, hi=1.2), -1.0, 1.0,
                                           np.zeros(8, dtype=np.int32))),
    Case(histogram_oob, lambda rng, n: (np.append(ints(rng, 0, 5, 2 * n), 5),
                                        np.zeros(5, dtype=np.int64))),
    Case(count_true, lambda rng, n: (rng.random(n) < 0.5,)),
    Case(sum_bools, lambda rng, n: (rng.random(n) < 0.5,)),
    Case(any_negative, lambda rng, n: (floats(rng, n, lo=-0.1, hi=1.0),)),
    Case(max_abs, lambda rng, n: (floats(rng, n),)),
    Case(norm2, lambda rng, n: (floats(rng, n),)),
    Case(row_sums, lambda rng, n: (floats(rng, n, n + 3), np.zeros(n))),
    Case(kahan_sum, lambda rng, n: (floats(rng, n) * 10.0 ** rng.integers(-8, 8, n),)),
    Case(complex_product, lambda rng, n: (complexes(rng, n),)),
    Case(value_range, lambda rng, n: (floats(rng, n),), sizes=(0, 1, 5, 17)),
    Case(column_max, lambda rng, n: (ints(rng, -100, 100, n, n + 1, dtype=np.int8),
                                     np.zeros(n + 1, dtype=np.int8))),
]
