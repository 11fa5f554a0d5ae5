"""Integer arithmetic with negative operands: //, %, <<, >>, &, |, ^, ~, ** on arrays of every
integer width (signed and unsigned), NEP 50 promotion of mixed operands, and Python ints."""

from __future__ import annotations

import numpy as np

from corpus import Case, ints

SIGNED = (np.int8, np.int16, np.int32, np.int64)
UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)


def floordiv_mod(a, b, q, r):
    for i in range(a.shape[0]):
        q[i] = a[i] // b[i]
        r[i] = a[i] % b[i]


def floordiv_mod_scalar(a, d, q, r):
    # array element by a (negative) Python int: the result keeps the array's dtype
    for i in range(len(a)):
        q[i] = a[i] // d
        r[i] = a[i] % d


def shifts(a, s, left, right):
    for i in range(a.shape[0]):
        left[i] = a[i] << s[i]
        right[i] = a[i] >> s[i]


def bitwise(a, b, out_and, out_or, out_xor, out_not):
    for i in range(a.shape[0]):
        out_and[i] = a[i] & b[i]
        out_or[i] = a[i] | b[i]
        out_xor[i] = a[i] ^ b[i]
        out_not[i] = ~a[i]


def int_power(a, e, out):
    # wraps around on overflow like NumPy
    for i in range(a.shape[0]):
        out[i] = a[i] ** e[i]


def wrapping_arith(a, b, out):
    for i in range(a.shape[0]):
        out[i] = a[i] * b[i] - (a[i] + b[i])


def mixed_widths(a8, u8, out):
    # int8 with uint8 promotes to int16
    for i in range(a8.shape[0]):
        out[i] = a8[i] * u8[i] - u8[i] // 3
    return a8[0] + u8[0]


def uint64_with_int64(u, s):
    # uint64 combined with int64 promotes to float64
    acc = 0.0
    for i in range(u.shape[0]):
        acc += u[i] + s[i]
    return acc


def python_int_ops(x, y):
    # Python int semantics on negative operands
    return (x // y) * 1000000 + (x % y) * 1000 + (-x) // 7 + (x << 3) - (x >> 2) + (x ^ y)


def true_division(a, b, out):
    for i in range(a.shape[0]):
        out[i] = a[i] / b[i]


def string_hash(codes):
    h = 0
    for i in range(codes.shape[0]):
        h = (h * 31 + int(codes[i])) & 0xFFFFFFFF
    return h


def popcount_total(a):
    total = 0
    for i in range(a.shape[0]):
        v = a[i]
        while v:
            total += v & 1
            v >>= 1
    return total


def digit_sum(n):
    n = abs(n)
    s = 0
    while n > 0:
        s += n % 10
        n //= 10
    return s


def int8_abs_neg(a, out):
    for i in range(a.shape[0]):
        out[i] = abs(a[i]) - (-a[i])


def unsigned_countdown(u, out):
    for i in range(u.shape[0]):
        out[i] = u[i] - 1
        out[i] = out[i] * 3


def int_reciprocal(a, out):
    for i in range(a.shape[0]):
        out[i] = np.reciprocal(a[i])


def numpy_int_constructor_overflow(n):
    # NEP 50: np.int8 of a Python int out of its range raises OverflowError
    return np.int8(n * 100)


def int_div_by_zero(x, y):
    return x // y


def int_mod_by_zero(x, y):
    return x % y + 1


def uint8_minus_python_int(a):
    # NEP 50: the Python int -1 does not fit uint8, NumPy raises OverflowError
    s = 0
    for i in range(a.shape[0]):
        s += a[i] + (-1)
    return s


def negative_int_power(a, out):
    for i in range(a.shape[0]):
        out[i] = a[i] ** -1


def unsigned_vs_negative(u, a8):
    # comparisons with out-of-range Python ints compare the values (NEP 50)
    c = 0
    for i in range(u.shape[0]):
        if u[i] > -1:
            c += 1
        if u[i] == -1:
            c += 100
        if a8[i] < 1000 and a8[i] > -1000:
            c += 10000
    return c


def int_float_compare_exact(n, x):
    # Python int with Python float compares exactly, without rounding n to a float
    return (n == x) + 2 * (n > x) + 4 * (n - 1 < x)


def python_int_true_division(n, m):
    # int / int is correctly rounded
    return n / m


def store_python_int_overflow(a):
    # storing a Python int that does not fit the dtype raises OverflowError
    for i in range(a.shape[0]):
        a[i] = i * 50


def negative_shift_count(x, s):
    return x << s


def unary_minus_unsigned(u, out):
    for i in range(u.shape[0]):
        out[i] = -u[i] + (~u[i] >> 1)


def int8_indices(idx, hist):
    # negative int8 indices count from the end
    for i in range(idx.shape[0]):
        hist[idx[i]] += 1
        hist[idx[i] + 3] += 10


def big_uint64(u, out_q, out_f):
    for i in range(u.shape[0]):
        out_q[i] = u[i] // 3 + u[i] % 7 + (u[i] >> 1)
        out_f[i] = float(u[i]) + u[i] / 3


def python_int_bitwise(x, y):
    return (~x) * 1000000 + (x & -8) * 1000 + (x | y) + (x ^ -y) + (-x >> 3)


def uint64_scalar_args(u, v, a):
    # np.uint64 scalars as arguments
    for i in range(a.shape[0]):
        a[i] = a[i] + u * (i + 1)
    return u // v + u % v


def py_int_true_division_by_zero(x, y):
    return x / y


def _pair(dtype, n, rng):
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    a = ints(rng, lo, hi + 1, n, dtype=dtype)
    b = ints(rng, lo, hi + 1, n, dtype=dtype)
    b[b == 0] = 1 if info.min == 0 else -3
    return a, b


def _divmod_case(dtype):
    def make(rng, n):
        a, b = _pair(dtype, n, rng)
        return a, b, np.zeros(n, dtype=dtype), np.zeros(n, dtype=dtype)

    return Case(floordiv_mod, make, name=f"floordiv_mod_{np.dtype(dtype).name}")


def _shift_case(dtype):
    bits = np.dtype(dtype).itemsize * 8

    def make(rng, n):
        a, _ = _pair(dtype, n, rng)
        s = ints(rng, 0, bits, n, dtype=dtype)
        return a, s, np.zeros(n, dtype=dtype), np.zeros(n, dtype=dtype)

    return Case(shifts, make, name=f"shifts_{np.dtype(dtype).name}")


def _bitwise_case(dtype):
    def make(rng, n):
        a, b = _pair(dtype, n, rng)
        return a, b, *(np.zeros(n, dtype=dtype) for _ in range(4))

    return Case(bitwise, make, name=f"bitwise_{np.dtype(dtype).name}")


def _power_case(dtype):
    def make(rng, n):
        a, _ = _pair(dtype, n, rng)
        e = ints(rng, 0, 6, n, dtype=dtype)
        return a, e, np.zeros(n, dtype=dtype)

    return Case(int_power, make, name=f"int_power_{np.dtype(dtype).name}")


CASES = [
    *(_divmod_case(t) for t in SIGNED + UNSIGNED),
    Case(floordiv_mod_scalar, lambda rng, n: (ints(rng, -100, 100, n, dtype=np.int16), -7,
                                              np.zeros(n, dtype=np.int16),
                                              np.zeros(n, dtype=np.int16))),
    *(_shift_case(t) for t in (np.int8, np.int32, np.int64, np.uint16)),
    *(_bitwise_case(t) for t in (np.int8, np.int16, np.uint32, np.uint64)),
    *(_power_case(t) for t in (np.int8, np.int64, np.uint8)),
    Case(wrapping_arith, lambda rng, n: (*_pair(np.int8, n, rng), np.zeros(n, dtype=np.int8)),
         name="wrapping_arith_int8"),
    Case(wrapping_arith, lambda rng, n: (*_pair(np.uint16, n, rng),
                                         np.zeros(n, dtype=np.uint16)),
         name="wrapping_arith_uint16"),
    Case(mixed_widths, lambda rng, n: (ints(rng, -128, 128, n, dtype=np.int8),
                                       ints(rng, 0, 256, n, dtype=np.uint8),
                                       np.zeros(n, dtype=np.int16))),
    Case(uint64_with_int64, lambda rng, n: (ints(rng, 0, 1000, n, dtype=np.uint64),
                                            ints(rng, -1000, 1000, n))),
    Case(python_int_ops, lambda rng, n: (-int(rng.integers(1, 1000)) * n,
                                         int(rng.integers(1, 50)) * (-1) ** n)),
    Case(true_division, lambda rng, n: (*_pair(np.int32, n, rng), np.zeros(n))),
    Case(string_hash, lambda rng, n: (ints(rng, 32, 127, 4 * n, dtype=np.uint8),)),
    Case(popcount_total, lambda rng, n: (ints(rng, 0, 2**31, n, dtype=np.uint32),)),
    Case(digit_sum, lambda rng, n: (-int(rng.integers(0, 10**9)) * n,)),
    Case(int8_abs_neg, lambda rng, n: (np.append(ints(rng, -128, 128, n, dtype=np.int8),
                                                 np.int8(-128)),
                                       np.zeros(n + 1, dtype=np.int8))),
    Case(unsigned_countdown, lambda rng, n: (ints(rng, 0, 4, n, dtype=np.uint8),
                                             np.zeros(n, dtype=np.uint8))),
    Case(int_reciprocal, lambda rng, n: (np.append(ints(rng, 1, 4, n), [-1, 2]),
                                         np.zeros(n + 2, dtype=np.int64))),
    Case(numpy_int_constructor_overflow, lambda rng, n: (n,), sizes=(1, 2)),
    Case(int_div_by_zero, lambda rng, n: (-7 * n, 0), sizes=(1, 5)),
    Case(int_mod_by_zero, lambda rng, n: (-7 * n, 0), sizes=(1, 5)),
    Case(uint8_minus_python_int, lambda rng, n: (ints(rng, 1, 10, n, dtype=np.uint8),),
         sizes=(1, 5)),
    Case(negative_int_power, lambda rng, n: (ints(rng, 1, 10, n, dtype=np.int32),
                                             np.zeros(n, dtype=np.int32)), sizes=(1, 5)),
    Case(unsigned_vs_negative, lambda rng, n: (ints(rng, 0, 2**32, n, dtype=np.uint64),
                                               ints(rng, -128, 128, n, dtype=np.int8))),
    Case(int_float_compare_exact, lambda rng, n: (2**53 + n, float(2**53 + n)),
         sizes=(1, 4, 5)),
    Case(python_int_true_division, lambda rng, n: (3706778661852469502 // n, 239877),
         sizes=(1, 5)),
    Case(store_python_int_overflow, lambda rng, n: (np.zeros(n, dtype=np.int8),), sizes=(1, 5)),
    Case(negative_shift_count, lambda rng, n: (n, -n), sizes=(1,)),
    Case(unary_minus_unsigned, lambda rng, n: (ints(rng, 0, 256, n, dtype=np.uint8),
                                               np.zeros(n, dtype=np.uint8))),
    Case(int8_indices, lambda rng, n: (ints(rng, -9, 6, 2 * n, dtype=np.int8),
                                       np.zeros(9, dtype=np.int64))),
    Case(big_uint64, lambda rng, n: (np.uint64(2**63) + ints(rng, 0, 2**40, n, dtype=np.uint64),
                                     np.zeros(n, dtype=np.uint64), np.zeros(n))),
    Case(python_int_bitwise, lambda rng, n: (-37 * n, 5 * n)),
    Case(uint64_scalar_args, lambda rng, n: (np.uint64(2**63 + n), np.uint64(7),
                                             np.zeros(n, dtype=np.uint64))),
    Case(py_int_true_division_by_zero, lambda rng, n: (7 * n, 0), sizes=(1,)),
]
