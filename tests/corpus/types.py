"""Types and NEP 50 promotion: float32, complex64/128, bool, mixed operands, NumPy scalar
constructors, the math module and NumPy ufuncs on scalars, float division by zero."""

from __future__ import annotations

import math

import numpy as np

from corpus import Case, complexes, floats, ints


def f32_accumulate(a):
    s = np.float32(0)
    for i in range(a.shape[0]):
        s += a[i] * np.float32(0.5)
    return s


def f32_scale_python_float(a, alpha):
    # float32 element with a Python float: the arithmetic stays in float32
    for i in range(a.shape[0]):
        a[i] = a[i] * alpha + 1.1


def f32_with_f64_scalar(a, alpha, out):
    # a np.float64 scalar promotes the arithmetic to float64; the store rounds to float32
    for i in range(a.shape[0]):
        out[i] = a[i] * alpha + a[i] / 3


def f32_division(a, out):
    for i in range(len(a)):
        out[i] = a[i] / 3 + a[i] / np.float32(7.0) - 1 / (a[i] + 2)
    return out[0] / 3


def mandelbrot(cre, cim, out, maxit):
    n = cim.shape[0]
    m = cre.shape[0]
    for i in range(n):
        for j in range(m):
            c = complex(cre[j], cim[i])
            z = 0j
            k = 0
            while abs(z) <= 2.0 and k < maxit:
                z = z * z + c
                k += 1
            out[i, j] = k


def complex_axpy(alpha, x, y):
    for i in range(x.shape[0]):
        y[i] = alpha * x[i] + y[i]


def complex_divide(z, w, out):
    for i in range(z.shape[0]):
        out[i] = z[i] / w[i] + z[i] * 1j


def py_complex_arith(a, b):
    c = a / b + a * b - b * 1j
    return c / (abs(c) + 1.0)


def bool_logic(p, q, out):
    for i in range(p.shape[0]):
        out[i] = (p[i] and not q[i]) or (q[i] and not p[i])


def bool_ops(p, q, x):
    # np.bool_ + np.bool_ is a logical or; adding it to an int counts
    s = 0
    for i in range(p.shape[0]):
        s += p[i] + q[i]
        s += (p[i] & q[i]) * 10 + (p[i] ^ q[i]) * 100
        x[i] = p[i] * 1.5 - q[i]
    return s


def mixed_int32_float32(a, b, out):
    # int32 with float32 promotes to float64
    for i in range(a.shape[0]):
        out[i] = a[i] * b[i] + b[i]
    return a[0] + b[0]


def int_array_float_math(a):
    s = 0
    for i in range(a.shape[0]):
        s += a[i] / 2 + a[i] * 0.25
    return s


def math_functions(x, out):
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = (math.sin(v) + math.cos(v) * math.exp(-v * v) + math.log(1 + v * v)
                  + math.atan2(v, 0.5) + math.hypot(v, 2.0) + math.tanh(v)
                  + math.pi * math.e + math.log10(2.0 + v) + math.fabs(v) ** 1.5)


def math_integer_results(x, out):
    for i in range(x.shape[0]):
        out[i] = math.floor(x[i]) * 100 + math.ceil(x[i]) * 10 + int(x[i])
    return math.floor(x[0]) + math.ceil(-2.5)


def math_trunc(x, out):
    # math.trunc of a np.float32 raises TypeError in CPython (float32 has no __trunc__)
    for i in range(x.shape[0]):
        out[i] = math.trunc(x[i]) + math.trunc(-2.5)


def math_predicates(x):
    nans = 0
    infs = 0
    fin = 0.0
    for i in range(x.shape[0]):
        if math.isnan(x[i]):
            nans += 1
        elif math.isinf(x[i]):
            infs += 1 if x[i] > 0 else -1
        elif math.isfinite(x[i]):
            fin += math.copysign(1.0, x[i])
    return fin + 1000 * nans + 100 * infs


def numpy_ufuncs(x, y, out):
    for i in range(x.shape[0]):
        a = x[i]
        b = y[i]
        out[i] = (np.sqrt(np.abs(a)) + np.exp(b) - np.minimum(a, b) * np.maximum(a, b)
                  + np.floor(a * 3) + np.sign(b) + np.log1p(np.abs(b)) + np.hypot(a, b)
                  + np.arctan2(a, b) + np.fmod(a * 7, b))


def np_float_div_by_zero(a, out):
    # NumPy float scalars divide by zero to inf/nan (no exception)
    for i in range(a.shape[0]):
        z = a[i] - a[i]
        out[i] = a[i] / z
    return a[0] / (a[0] * 0.0)


def py_float_div_by_zero(x, y):
    return x / y


def py_float_floordiv_by_zero(x, y):
    return x // y


def float_floordiv_mod(x, y, q, r):
    for i in range(x.shape[0]):
        q[i] = x[i] // y[i]
        r[i] = x[i] % y[i]


def py_float_floordiv_mod(x, y):
    return (x // y) * 1000.0 + x % y + (-x) % y


def conversions(x, out):
    for i in range(x.shape[0]):
        k = int(x[i] * 10)
        f = float(k)
        b = bool(x[i] > 0)
        c = complex(x[i], f)
        out[i] = f + b + abs(c) + float(k // 3)


def np_scalar_constructors(x, out32, out16):
    for i in range(x.shape[0]):
        out32[i] = np.float32(x[i]) * np.float32(3.0) + np.float32(i)
        out16[i] = np.int16(x[i] * 100) + np.int16(i)
    return np.float64(np.float32(x[0])) + np.int8(-3) + np.uint16(7) + np.complex64(x[0])


def minmax_builtin(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += max(a[i], 0.25, -a[i]) - min(1, a[i], 2.5) + max(i, 2) * min(-i, -1.0)
    return s


def signed_zeros(a, out):
    for i in range(a.shape[0]):
        z = -0.0 * a[i]
        out[i] = max(z, 0.0) if a[i] > 0 else min(0.0, z)
    return min(-0.0, 0.0) + -0.0


def nan_max(x, y, out):
    # max/min return the first argument when comparisons with NaN are false
    for i in range(x.shape[0]):
        out[i] = max(x[i], y[i]) - min(y[i], x[i]) + np.maximum(x[i], 0.0)


def abs_complex_sum(z):
    s = 0.0
    for i in range(z.shape[0]):
        s += abs(z[i])
    return s


def float_powers(x, out):
    for i in range(x.shape[0]):
        v = abs(x[i]) + 0.5
        out[i] = v ** 2 + v ** -1 + v ** 0.5 + 2.0 ** v + v ** 3
    return 3.0 ** 2


def int_pow_literals(n):
    # a Python int to a negative literal power is a float
    return 2 ** -2 + n ** 2 + (-3) ** 3


def math_domain_error(x):
    return math.sqrt(x - 1.0)


def math_range_error(x):
    return math.exp(x * 1000.0)


def int64_to_float(a, out):
    for i in range(a.shape[0]):
        out[i] = a[i] * 1.0 + float(a[i] + 1)


def f32_compare_python_float(a):
    # the Python float is weak: a float32 element is compared with float32(0.1)
    c = 0
    for i in range(a.shape[0]):
        if a[i] == 0.1:
            c += 1
        if a[i] < 0.1:
            c += 100
    return c


def py_float_zero_negative_power(x):
    return x ** -1.0


def py_float_mod_by_zero(x, y):
    return x % y


def py_complex_div_by_zero(a, b):
    return a / b


def np_complex_div_by_zero(z, out):
    for i in range(z.shape[0]):
        out[i] = z[i] / (z[i] * 0.0)


def complex_powers(z, out):
    for i in range(z.shape[0]):
        out[i] = z[i] ** 2 + z[i] ** 3 - z[i] * z[i]
    c = complex(z[0])
    return c ** 2 + c ** 3


def float_mod_specials(x, y, q, r):
    # signed zeros and infinities in floor division and modulo
    for i in range(x.shape[0]):
        q[i] = x[i] // y[i]
        r[i] = x[i] % y[i]


def py_float_mod_specials(x):
    inf = math.inf
    return ((-x) % 2.0 + x % -2.0 + (-x) // 2.0 + (-x) % inf + x // inf + (-x) // inf
            + (x - x) // -1.0)


def np_integer_ufuncs(a, out):
    for i in range(a.shape[0]):
        v = a[i]
        out[i] = np.square(v) + np.abs(v) + np.sign(v) + np.negative(v)


def np_ufunc_specials(x, out):
    # exact IEEE results: NaN propagation, signed zeros, half-even rounding
    for i in range(x.shape[0]):
        v = x[i]
        out[i, 0] = np.sign(v)
        out[i, 1] = np.sqrt(v)
        out[i, 2] = np.fmin(v, 0.5) + np.fmax(v, -0.5)
        out[i, 3] = np.minimum(v, 0.5) + np.maximum(v, -0.5)
        out[i, 4] = np.rint(v) + np.trunc(v) + np.ceil(v)
        out[i, 5] = np.copysign(1.0, v) * np.abs(v)
        out[i, 6] = np.log(v)


def np_ufunc_python_scalar(x, k):
    # NumPy ufuncs of Python scalars give NumPy scalars
    return np.sqrt(x) + np.floor(x) * k + np.maximum(k, 2)


def math_of_ints(n, a):
    s = math.sqrt(n) + math.floor(n) + math.log(n, 2) + math.fmod(-n, 3)
    for i in range(a.shape[0]):
        s += math.sqrt(a[i]) + math.remainder(a[i], 3) + math.erf(a[i] / 100)
    return s


def complex_one_arg(x):
    s = 0j
    for i in range(x.shape[0]):
        s += complex(x[i]) * 1j + complex(i)
    return s + float(True) + int(True) + bool(x.shape[0])


def float32_specials(a):
    big = np.float32(3e38)
    s = np.float32(0)
    for i in range(a.shape[0]):
        s += a[i] * big * 2
        s += abs(np.complex64(a[i]))
    return s + int(np.float32(2.9)) + int(np.float32(-2.9))


def bool_invert(p, out):
    for i in range(p.shape[0]):
        out[i] = ~p[i]



def int8_inplace_float(a):
    # int8 element times a float is float64; storing truncates toward zero
    for i in range(a.shape[0]):
        a[i] *= 1.5
        a[i] += 0.6


def mixed_stores(f, b, x):
    # bool into float, float (NaN, -0.0) into bool
    for i in range(f.shape[0]):
        f[i] = b[i]
        b[i] = x[i]


# math functions at special values: CPython raises ValueError("math domain error") or
# OverflowError("math range error") where the result is not a finite float. The "size" of these
# cases is the index of the argument in SPECIAL_VALUES.


MATH_1 = ("floor", "ceil", "trunc", "sqrt", "exp", "expm1", "log", "log1p", "log2", "log10",
          "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
          "atanh", "erf", "erfc", "fabs", "degrees", "radians", "exp2", "cbrt")
MATH_2 = ("atan2", "pow", "hypot", "copysign", "fmod", "remainder", "log")
SPECIAL_VALUES = (math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1000.0,
                  -1000.0)


def math_at(k, x, y):
    if k == 0:
        return math.floor(x)
    if k == 1:
        return math.ceil(x)
    if k == 2:
        return math.trunc(x)
    if k == 3:
        return math.sqrt(x)
    if k == 4:
        return math.exp(x)
    if k == 5:
        return math.expm1(x)
    if k == 6:
        return math.log(x)
    if k == 7:
        return math.log1p(x)
    if k == 8:
        return math.log2(x)
    if k == 9:
        return math.log10(x)
    if k == 10:
        return math.sin(x)
    if k == 11:
        return math.cos(x)
    if k == 12:
        return math.tan(x)
    if k == 13:
        return math.asin(x)
    if k == 14:
        return math.acos(x)
    if k == 15:
        return math.atan(x)
    if k == 16:
        return math.sinh(x)
    if k == 17:
        return math.cosh(x)
    if k == 18:
        return math.tanh(x)
    if k == 19:
        return math.asinh(x)
    if k == 20:
        return math.acosh(x)
    if k == 21:
        return math.atanh(x)
    if k == 22:
        return math.erf(x)
    if k == 23:
        return math.erfc(x)
    if k == 24:
        return math.fabs(x)
    if k == 25:
        return math.degrees(x)
    if k == 26:
        return math.radians(x)
    if k == 27:
        return math.exp2(x)
    if k == 28:
        return math.cbrt(x)
    if k == 29:
        return math.atan2(x, y)
    if k == 30:
        return math.pow(x, y)
    if k == 31:
        return math.hypot(x, y)
    if k == 32:
        return math.copysign(x, y)
    if k == 33:
        return math.fmod(x, y)
    if k == 34:
        return math.remainder(x, y)
    if k == 35:
        return math.log(x, y)
    return x


def math_gamma(x):
    return math.gamma(x)


def math_lgamma(x):
    return math.lgamma(x)


def _math_case(k, name):
    def make(rng, n):
        return k, SPECIAL_VALUES[n], SPECIAL_VALUES[(n + 4) % len(SPECIAL_VALUES)]

    return Case(math_at, make, sizes=tuple(range(len(SPECIAL_VALUES))), rtol=1e-13,
                name=f"math_at_{name}{'_xy' if k >= len(MATH_1) else ''}")


def abs_python_bool(b, c):
    # abs() of a Python bool is an int
    return abs(b) * 10 + abs(c)


def complex_ordering(z, w):
    # NumPy orders complex scalars lexicographically (real part, then imaginary part)
    c = 0
    for i in range(z.shape[0]):
        if z[i] < w[i]:
            c += 1
        if z[i] >= w[i].real:
            c += 10
    return c


def _specials(rng, n):
    x = floats(rng, n, lo=-10.0, hi=10.0)
    x[::4] = np.nan
    x[1::5] = np.inf
    x[2::7] = -np.inf
    x[3::6] = -0.0
    return x


CASES = [
    Case(f32_accumulate, lambda rng, n: (floats(rng, n).astype(np.float32),), float32=False),
    Case(f32_scale_python_float, lambda rng, n: (floats(rng, n).astype(np.float32), 1.37),
         float32=False),
    Case(f32_with_f64_scalar, lambda rng, n: (floats(rng, n).astype(np.float32),
                                              np.float64(1.37), np.zeros(n, np.float32)),
         float32=False),
    Case(f32_division, lambda rng, n: (floats(rng, n).astype(np.float32),
                                       np.zeros(n, np.float32)), float32=False),
    Case(mandelbrot, lambda rng, n: (np.linspace(-2.0, 0.5, n + 1), np.linspace(-1.2, 1.2, n),
                                     np.zeros((n, n + 1), dtype=np.int32), 30),
         sizes=(1, 5, 13)),
    Case(complex_axpy, lambda rng, n: (0.5 - 2j, complexes(rng, n).astype(np.complex64),
                                       complexes(rng, n).astype(np.complex64)), float32=False),
    Case(complex_divide, lambda rng, n: (complexes(rng, n), complexes(rng, n) * 1e3,
                                         np.zeros(n, np.complex128))),
    Case(py_complex_arith, lambda rng, n: (complex(n, -1.5), complex(0.25, n))),
    Case(bool_logic, lambda rng, n: (rng.random(n) < 0.5, rng.random(n) < 0.5,
                                     np.zeros(n, dtype=np.bool_))),
    Case(bool_ops, lambda rng, n: (rng.random(n) < 0.5, rng.random(n) < 0.5, np.zeros(n))),
    Case(mixed_int32_float32, lambda rng, n: (ints(rng, -1000, 1000, n, dtype=np.int32),
                                              floats(rng, n).astype(np.float32), np.zeros(n)),
         float32=False),
    Case(int_array_float_math, lambda rng, n: (ints(rng, -1000, 1000, n),)),
    Case(math_functions, lambda rng, n: (floats(rng, n), np.zeros(n)), rtol=1e-13),
    Case(math_integer_results, lambda rng, n: (floats(rng, n, lo=-5, hi=5),
                                               np.zeros(n, dtype=np.int64))),
    Case(math_trunc, lambda rng, n: (floats(rng, n, lo=-5, hi=5), np.zeros(n, dtype=np.int64))),
    Case(math_predicates, lambda rng, n: (_specials(rng, n),)),
    Case(numpy_ufuncs, lambda rng, n: (floats(rng, n, lo=-3, hi=3), floats(rng, n, lo=-3, hi=3),
                                       np.zeros(n)), rtol=1e-13),
    Case(np_float_div_by_zero, lambda rng, n: (np.append(floats(rng, n), [0.0, -1.0]),
                                               np.zeros(n + 2))),
    Case(py_float_div_by_zero, lambda rng, n: (float(n), 0.0), sizes=(1,)),
    Case(py_float_floordiv_by_zero, lambda rng, n: (-float(n), 0.0), sizes=(1,)),
    Case(float_floordiv_mod, lambda rng, n: (floats(rng, n, lo=-10, hi=10),
                                             floats(rng, n, lo=-3, hi=3), np.zeros(n),
                                             np.zeros(n))),
    Case(py_float_floordiv_mod, lambda rng, n: (-7.5 * n, 2.0 if n % 2 else -2.25)),
    Case(conversions, lambda rng, n: (floats(rng, n, lo=-3, hi=3), np.zeros(n))),
    Case(np_scalar_constructors, lambda rng, n: (floats(rng, n, lo=-3, hi=3),
                                                 np.zeros(n, np.float32),
                                                 np.zeros(n, np.int16)), float32=False),
    Case(minmax_builtin, lambda rng, n: (floats(rng, n),)),
    Case(signed_zeros, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(nan_max, lambda rng, n: (_specials(rng, n), floats(rng, n), np.zeros(n))),
    Case(abs_complex_sum, lambda rng, n: (complexes(rng, n),)),
    Case(float_powers, lambda rng, n: (floats(rng, n), np.zeros(n)), rtol=1e-15),
    Case(int_pow_literals, lambda rng, n: (-n,)),
    Case(math_domain_error, lambda rng, n: (0.5 / n,), sizes=(1, 5)),
    Case(math_range_error, lambda rng, n: (float(n),), sizes=(1,)),
    Case(int64_to_float, lambda rng, n: (ints(rng, -2**62, 2**62, n), np.zeros(n))),
    Case(f32_compare_python_float, lambda rng, n: (np.array([0.1, 0.05, 0.2] * n,
                                                            dtype=np.float32),),
         float32=False),
    Case(py_float_zero_negative_power, lambda rng, n: (0.0,), sizes=(1,)),
    Case(py_float_mod_by_zero, lambda rng, n: (float(n), 0.0), sizes=(1,)),
    Case(py_complex_div_by_zero, lambda rng, n: (complex(n, 1), 0j), sizes=(1,)),
    Case(np_complex_div_by_zero, lambda rng, n: (np.append(complexes(rng, n), [0j, 1.0]),
                                                 np.zeros(n + 2, np.complex128))),
    Case(complex_powers, lambda rng, n: (complexes(rng, n) * 3, np.zeros(n, np.complex128))),
    Case(float_mod_specials, lambda rng, n: (
        np.array([-4.0, 4.0, -0.0, 0.0, 5.0, -5.0, np.inf, 3.5] * n),
        np.array([2.0, -2.0, 3.0, -3.0, np.inf, np.inf, 2.0, -0.0] * n),
        np.zeros(8 * n), np.zeros(8 * n))),
    Case(py_float_mod_specials, lambda rng, n: (4.0 * n,)),
    Case(np_integer_ufuncs, lambda rng, n: (np.append(ints(rng, -5, 6, n), [1, -1, 0]),
                                            np.zeros(n + 3, dtype=np.int64)), float32=False),
    Case(np_ufunc_specials, lambda rng, n: (np.array([np.nan, -0.0, 0.0, 2.5, -2.5, 1.5, -np.inf,
                                                      np.inf, -1.0] * n),
                                            np.zeros((9 * n, 7)))),
    Case(np_ufunc_python_scalar, lambda rng, n: (2.25 * n, n)),
    Case(math_of_ints, lambda rng, n: (n, ints(rng, 0, 100, n)), rtol=1e-14),
    Case(complex_one_arg, lambda rng, n: (floats(rng, n),)),
    Case(float32_specials, lambda rng, n: (floats(rng, n).astype(np.float32),), float32=False),
    Case(bool_invert, lambda rng, n: (rng.random(n) < 0.5, np.zeros(n, dtype=np.bool_))),
    Case(int8_inplace_float, lambda rng, n: (ints(rng, -80, 80, n, dtype=np.int8),)),
    Case(mixed_stores, lambda rng, n: (np.zeros(4 * n), rng.random(4 * n) < 0.5,
                                       np.array([0.0, np.nan, -0.0, 2.0] * n))),
    *(_math_case(k, name) for k, name in enumerate(MATH_1 + MATH_2)),
    *(Case(fn, lambda rng, n: (SPECIAL_VALUES[n],), sizes=tuple(range(len(SPECIAL_VALUES))),
           rtol=1e-13) for fn in (math_gamma, math_lgamma)),
    Case(abs_python_bool, lambda rng, n: (n % 2 == 1, n % 3 == 0), sizes=(1, 2, 3)),
    Case(complex_ordering, lambda rng, n: (complexes(rng, n), np.round(complexes(rng, n), 1))),
]
