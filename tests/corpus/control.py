"""Control flow: while loops, if/elif/else, conditional expressions, break/continue, early
return, short-circuit and/or/not, chained comparisons, negative-step ranges."""

from __future__ import annotations

import numpy as np

from corpus import Case, floats, ints


def collatz_steps(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def collatz_array(starts, out):
    for i in range(starts.shape[0]):
        n = starts[i]
        steps = 0
        while n > 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        out[i] = steps


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def gcd_array(a, b, out):
    for i in range(a.shape[0]):
        x = a[i]
        y = b[i]
        while y != 0:
            t = x % y
            x = y
            y = t
        out[i] = x


def first_index(a, x):
    for i in range(a.shape[0]):
        if a[i] == x:
            return i
    return -1


def first_above_2d(A, thr):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            if A[i, j] > thr:
                return i * m + j
    return -1


def skip_and_stop(a, out):
    # continue on negative entries, break at the first value above 0.9
    k = 0
    for i in range(len(a)):
        if a[i] < 0:
            continue
        if a[i] > 0.9:
            break
        out[k] = a[i]
        k += 1
    return k


def bisect_sqrt(x):
    lo = 0.0
    hi = max(1.0, x)
    while hi - lo > 1e-12:
        mid = 0.5 * (lo + hi)
        if mid * mid < x:
            lo = mid
        else:
            hi = mid
    return lo


def piecewise(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        if v < -0.5:
            out[i] = -1.0
        elif v < 0.0:
            out[i] = 2.0 * v + 0.0
        elif v <= 0.5:
            out[i] = v * v
        else:
            out[i] = 1.0 - v
    return 0


def clamp_all(a, lo, hi):
    for i in range(a.shape[0]):
        a[i] = lo if a[i] < lo else (hi if a[i] > hi else a[i])


def count_in_band(a, lo, hi):
    c = 0
    for i in range(a.shape[0]):
        if lo <= a[i] < hi:
            c += 1
        elif not (lo - 0.5 < a[i] <= hi + 0.5):
            c -= 1
    return c


def guarded_scan(a, n):
    # `i < len(a) and a[i] > 0` must not index past the end: `and` short-circuits
    c = 0
    i = 0
    while (i < n and a[i] > 0) or (i < 2 and not i >= n):
        c += 1
        i += 1
    return c


def nested_break(A, out):
    n, m = A.shape
    for i in range(n):
        out[i] = -1
        for j in range(m):
            if A[i, j] > 0.5:
                out[i] = j
                break


def reverse_cumsum(a, out):
    n = a.shape[0]
    s = 0.0
    for i in range(n - 1, -1, -1):
        s += a[i]
        out[i] = s


def strided_loops(a, out):
    n = a.shape[0]
    for i in range(0, n, 3):
        out[i] = a[i]
    for i in range(n - 2, 0, -2):
        out[i] += 2.0 * a[i]
    for i in range(n // 2, n + 5, 4):
        if i < n:
            out[i] -= 1.0


def is_sorted(a):
    for i in range(1, len(a)):
        if a[i - 1] > a[i]:
            return False
    return True


def sieve(is_prime):
    n = is_prime.shape[0]
    for i in range(n):
        is_prime[i] = i >= 2
    i = 2
    while i * i < n:
        if is_prime[i]:
            for j in range(i * i, n, i):
                is_prime[j] = False
        i += 1
    count = 0
    for k in range(n):
        if is_prime[k]:
            count += 1
    return count


def binary_search(a, x):
    lo = 0
    hi = a.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def newton_sqrt_array(a, out, tol):
    for i in range(len(a)):
        x = a[i]
        g = x if x > 1.0 else 1.0
        it = 0
        while True:
            g_new = 0.5 * (g + x / g)
            it += 1
            if abs(g_new - g) < tol or it >= 50:
                g = g_new
                break
            g = g_new
        out[i] = g


def early_exit_none(a, limit):
    # a bare `return` inside the loop
    for i in range(a.shape[0]):
        if a[i] > limit:
            return
        a[i] = 2.0 * a[i]


def fill_past_end(a, n):
    # n > len(a): IndexError after the first len(a) writes
    for i in range(n):
        a[i] = i * 0.5


def countdown_while(n, out):
    k = 0
    while n > 0:
        n -= 3
        if n % 2 == 0:
            continue
        out[k % out.shape[0]] += n
        k += 1
    return k


def loop_var_after_loop(a):
    # after a loop the variable keeps its last value (stop - step), not stop
    i = -1
    for i in range(a.shape[0]):
        a[i] += 1.0
    j = 100
    for j in range(10, 2, -3):
        a[0] += j
    return i * 1000 + j


def loop_var_reassigned(out):
    # assigning to the loop variable does not change the iteration
    n = out.shape[0]
    for i in range(n):
        out[i] += i
        i = i * 2 + 1
        out[i % n] += 0.5


def range_bounds_evaluated_once(n, out):
    k = 2
    for i in range(0, n, k):
        n -= 1
        k = 1
        out[i] = n


def range_numpy_bounds(b, out):
    # range() of int8 bounds yields Python ints: i * 100 does not wrap
    m = out.shape[0]
    for i in range(b[0]):
        out[i % m] += i * 100
    for i in range(b[1], b[2], b[3]):
        out[i % m] -= i * 1000


def range_zero_step(n, out):
    step = n - n
    for i in range(0, n, step):
        out[i] = 1.0


def truthiness(x, out):
    # NaN is truthy, -0.0 is falsy
    c = 0
    for i in range(x.shape[0]):
        if x[i]:
            c += 1
        out[i] = 1.0 if not x[i] else 2.0
        v = x[i]
        while v:
            v = 0.0
            c += 10
    return c


def and_or_values(a, out):
    # `or`/`and` give one of their operands, not a bool
    for i in range(a.shape[0]):
        out[i] = a[i] or -1.0
        out[i] += (a[i] > 0.25) and a[i]
        out[i] += (a[i] < 0.0) or 3


def bump(counter):
    counter[0] += 1
    return counter[0]


def chained_once(counter, n):
    # the middle operand of a chained comparison is evaluated once
    hits = 0
    for i in range(n):
        if 2 < bump(counter) <= 5:
            hits += 1
        if i > 100 and bump(counter) > 0:
            hits += 1000
    return hits


def bubble_sort(a):
    n = a.shape[0]
    swapped = True
    while swapped:
        swapped = False
        for i in range(n - 1):
            if a[i] > a[i + 1]:
                a[i], a[i + 1] = a[i + 1], a[i]
                swapped = True



def range_extreme_bounds(start, stop, step):
    # the trip count and the last increment overflow 64 bits; Python's range does not
    c = 0
    last = 0
    for i in range(start, stop, step):
        c += 1
        last = i
    return c * 1000 + last % 997


CASES = [
    Case(collatz_steps, lambda rng, n: (int(rng.integers(1, 1000)) + n,), sizes=(1, 5, 27)),
    Case(collatz_array, lambda rng, n: (ints(rng, 1, 500, n), np.zeros(n, dtype=np.int32))),
    Case(gcd, lambda rng, n: (int(rng.integers(1, 10000)) * n, int(rng.integers(1, 10000)))),
    Case(gcd_array, lambda rng, n: (ints(rng, 1, 1000, n, dtype=np.int32),
                                    ints(rng, 1, 1000, n, dtype=np.int32),
                                    np.zeros(n, dtype=np.int32))),
    Case(first_index, lambda rng, n: (ints(rng, 0, 4, n), 3)),
    Case(first_above_2d, lambda rng, n: (floats(rng, n, n), 0.9)),
    Case(skip_and_stop, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(bisect_sqrt, lambda rng, n: (float(n) * 1.37,)),
    Case(piecewise, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(clamp_all, lambda rng, n: (floats(rng, n), -0.5, 0.5)),
    Case(count_in_band, lambda rng, n: (floats(rng, n, lo=-2.0, hi=2.0), -0.5, 0.75)),
    Case(guarded_scan, lambda rng, n: (floats(rng, n, lo=-0.2, hi=1.0), n)),
    Case(nested_break, lambda rng, n: (floats(rng, n, n), np.zeros(n, dtype=np.int64))),
    Case(reverse_cumsum, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(strided_loops, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(is_sorted, lambda rng, n: (np.sort(floats(rng, n)) if n % 2 else floats(rng, n),)),
    Case(sieve, lambda rng, n: (np.zeros(3 * n, dtype=np.bool_),)),
    Case(binary_search, lambda rng, n: (np.sort(ints(rng, 0, 50, n)), int(rng.integers(0, 50)))),
    Case(newton_sqrt_array, lambda rng, n: (floats(rng, n, lo=0.5, hi=100.0), np.zeros(n),
                                            1e-10)),
    Case(early_exit_none, lambda rng, n: (floats(rng, n), 0.8)),
    Case(fill_past_end, lambda rng, n: (np.zeros(n), n + 2), sizes=(1, 5)),
    Case(countdown_while, lambda rng, n: (5 * n + 2, np.zeros(4, dtype=np.int64))),
    Case(loop_var_after_loop, lambda rng, n: (floats(rng, n),)),
    Case(loop_var_reassigned, lambda rng, n: (np.zeros(n),)),
    Case(range_bounds_evaluated_once, lambda rng, n: (n, np.zeros(n))),
    Case(range_numpy_bounds, lambda rng, n: (np.array([n, n + 3, -2, -2], dtype=np.int8),
                                             np.zeros(4, dtype=np.int64))),
    Case(range_zero_step, lambda rng, n: (n, np.zeros(n)), sizes=(1,)),
    Case(truthiness, lambda rng, n: (np.array([np.nan, -0.0, 0.0, np.inf, 1e-300, -1.0] * n),
                                     np.zeros(6 * n))),
    Case(and_or_values, lambda rng, n: (np.where(rng.random(n) < 0.3, 0.0, floats(rng, n)),
                                        np.zeros(n))),
    Case(chained_once, lambda rng, n: (np.zeros(1, dtype=np.int64), n)),
    Case(bubble_sort, lambda rng, n: (floats(rng, n),)),
    Case(range_extreme_bounds, lambda rng, n: [
        (-2**62, 2**62, 2**61), (2**63 - 4, 2**63 - 1, 2), (-2**63 + 3, -2**63, -2),
        (2**63 - 1, -2**63, -2**62 - 2**61)][n], sizes=(0, 1, 2, 3)),
]
