"""Language features: module globals and closures, calls to helper functions (keyword and
default arguments), objects with attributes (self.N, self.DATA_TYPE), bound methods, arrays
allocated inside the kernel, shape unpacking, len/size/ndim, OpenACC directives as comments."""

from __future__ import annotations

import numpy as np

from corpus import Case, complexes, floats, ints

ALPHA = 1.5
STEPS = 3
WEIGHTS = np.array([0.25, 0.5, 0.25])
OFFSETS = np.array([-1, 0, 1], dtype=np.int64)
SCALE32 = np.float32(1.1)
NSTEPS = 4
USE_BIAS = True


# --- globals and closures ---------------------------------------------------------------


def scale_by_global(a):
    for i in range(a.shape[0]):
        a[i] = ALPHA * a[i] + STEPS


def smooth_global_weights(a, out):
    n = a.shape[0]
    for i in range(1, n - 1):
        acc = 0.0
        for k in range(WEIGHTS.shape[0]):
            acc += WEIGHTS[k] * a[i + OFFSETS[k]]
        out[i] = acc


def make_saxpy(factor, shift):
    bias = np.array([shift, -shift])

    def saxpy_closure(x, y):
        for i in range(x.shape[0]):
            y[i] = factor * x[i] + y[i] + bias[i % 2]

    return saxpy_closure


# --- helper functions -----------------------------------------------------------------


def square(x):
    return x * x


def clamp(x, lo=0.0, hi=1.0):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def axpy(alpha, x, y):
    for i in range(x.shape[0]):
        y[i] += alpha * x[i]


def poly(x, c0, c1=0.0, c2=0.0):
    return c0 + x * (c1 + x * c2)


def helper_calls(a, out):
    for i in range(a.shape[0]):
        out[i] = clamp(square(a[i]) * 2.0) + clamp(a[i], hi=0.25) + clamp(a[i], -0.5, hi=0.5)


def helper_keywords(a, out):
    s = 0.0
    for i in range(len(a)):
        out[i] = poly(a[i], 1.0, c2=0.5) + poly(c0=2.0, x=a[i])
        s += poly(a[i], 0.0, 1.0, 1.0)
    return s


def helper_mutates(alpha, x, y):
    axpy(alpha, x, y)
    axpy(-0.5 * alpha, y, x)


def _row_norm2(A, i):
    s = 0.0
    for j in range(A.shape[1]):
        s += square(A[i, j])
    return s


def nested_helpers(A, out):
    for i in range(A.shape[0]):
        out[i] = _row_norm2(A, i)


# --- objects --------------------------------------------------------------------------


class Params:
    def __init__(self, n, data_type, alpha):
        self.N = n
        self.DATA_TYPE = data_type
        self.alpha = alpha


def object_attributes(self, a):
    for i in range(self.N):
        a[i] = self.DATA_TYPE(i) / self.DATA_TYPE(3) + self.alpha * a[i]


class Kernel:
    def __init__(self, n, data_type=np.float64):
        self.N = n
        self.M = n + 1
        self.DATA_TYPE = data_type

    def run(self, A, B):
        for i in range(self.N):
            for j in range(self.M):
                B[i, j] = self.DATA_TYPE(1.5) * A[i, j] + self.DATA_TYPE(i - j)


_K32 = Kernel(4, np.float32)


# --- allocations, shapes --------------------------------------------------------------


def zeros_temp(a, out):
    n = a.shape[0]
    tmp = np.zeros(n + 1)
    for i in range(n):
        tmp[i + 1] = tmp[i] + a[i]
    for i in range(n):
        out[i] = tmp[i + 1] - tmp[n - i - 1]
    return tmp[n]


def full_and_ones(A):
    n, m = A.shape
    t = np.full((n, m), 2.5)
    c = np.ones(m, dtype=np.int32)
    for i in range(n):
        for j in range(m):
            t[i, j] += A[i, j] * c[j]
            c[j] += 1
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += t[i, j]
    return s


def empty_like_copy(a, out):
    b = np.empty_like(a)
    for i in range(len(a)):
        b[i] = 2 * a[i]
    z = np.zeros_like(a)
    for i in range(len(a)):
        out[i] = b[i] + z[i]


def full_like_int(idx):
    counts = np.full_like(idx, 3)
    for i in range(idx.shape[0]):
        counts[i] -= idx[i]
    total = 0
    for i in range(idx.shape[0]):
        total += counts[i]
    return total


def zeros_3d(n):
    t = np.zeros((n, n + 1, 2), dtype=np.float32)
    for i in range(n):
        for j in range(n + 1):
            t[i, j, 0] = i - j
            t[i, j, 1] = t[i, j, 0] * 0.5
    s = 0.0
    for i in range(n):
        for j in range(n + 1):
            s += t[i, j, 1]
    return s


def shape_queries(A, v):
    n, m, k = A.shape
    total = A.size + A.ndim * 1000 + len(A) * 100 + v.size + v.ndim + len(v)
    for i in range(n):
        for j in range(m):
            for l in range(A.shape[2]):
                A[i, j, l] = i * m * k + j * k + l
    return total


# --- OpenACC directives ---------------------------------------------------------------


def acc_parallel_loop(a, b, c):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        c[i] = a[i] + b[i]


def acc_data_region(A, B, tsteps):
    n = A.shape[0]
    #pragma acc data copy(A) create(B)
    for t in range(tsteps):
        #pragma acc parallel loop collapse(2)
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.25 * (A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])
        #pragma acc parallel loop collapse(2)
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = B[i, j]
    #pragma acc end data


def acc_reduction(a):
    s = 0.0
    n = a.shape[0]
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        s += a[i] * a[i]
    return s


def acc_atomic_histogram(idx, hist):
    #pragma acc parallel loop
    for i in range(idx.shape[0]):
        #pragma acc atomic update
        hist[idx[i]] += 1


def acc_kernels_gemm(A, B, C):
    n, m = C.shape
    k = A.shape[1]
    #pragma acc kernels
    for i in range(n):
        for j in range(m):
            acc = 0.0
            #pragma acc loop seq
            for l in range(k):
                acc += A[i, l] * B[l, j]
            C[i, j] = acc
    #pragma acc end kernels


def acc_gang_vector(A, x, y):
    n, m = A.shape
    #pragma acc parallel loop gang copyin(A, x) copyout(y)
    for i in range(n):
        t = 0.0
        #pragma acc loop vector reduction(+:t)
        for j in range(m):
            t += A[i, j] * x[j]
        y[i] = t


def negative_index_oob(a, k):
    # a[-k] with k > len(a): IndexError
    s = 0.0
    for i in range(1, k + 1):
        s += a[-i]
        a[-i] = s
    return s


def row_of_row_oob(A):
    # A[i][j] indexes the row A[i] first: the error names axis 0 of the row
    n, m = A.shape
    for i in range(n):
        for j in range(m + 1):
            A[i][j] = i + j


# --- more globals, helpers and allocations ----------------------------------------------


def global_scalars(a):
    for t in range(NSTEPS):
        for i in range(a.shape[0]):
            a[i] = a[i] * SCALE32 + (0.5 if USE_BIAS else 0.0)



def scaled(x, *, factor=2.0, offset=0):
    return x * factor + offset


def keyword_only_helper(a, out):
    for i in range(a.shape[0]):
        out[i] = scaled(a[i]) + scaled(a[i], factor=-1.0) + scaled(i, offset=1)


def sign_of(x):
    if x > 0:
        return 1
    if x < 0:
        return -1.0
    return 0


def helper_mixed_returns(a, out):
    s = 0
    for i in range(a.shape[0]):
        out[i] = sign_of(a[i])
        s += sign_of(i - 1)
    return s


def helper_raises(a, k):
    # the IndexError is raised inside the helper, after some writes
    for i in range(k):
        _store(a, i, i * 1.5)


def _store(a, i, v):
    a[i] = v


class Settings:
    def __init__(self):
        self.alpha = np.float32(0.5)
        self.enabled = True
        self.count = np.int16(3)


def object_scalar_types(self, a):
    for i in range(a.shape[0]):
        if self.enabled:
            a[i] = a[i] * self.alpha + self.count


def allocation_dtypes(n):
    f = np.full(n, 3)
    b = np.full((n, 2), True)
    h = np.ones(n, np.int16)
    z = np.zeros((n,), dtype=np.int8)
    q = np.full(n, np.nan)
    e = np.empty(0)
    s = 0.0
    for i in range(n):
        f[i] = f[i] * 1000000007
        h[i] = h[i] * 30000 + i
        z[i] = z[i] - 100 - i
        s += f[i] + b[i, 1] + h[i] + z[i] + (q[i] if q[i] == q[i] else 0.5)
    return s + e.size


def like_allocations(ia, fa):
    c = np.full_like(ia, 2.7)
    d = np.zeros_like(fa, dtype=np.int32)
    o = np.ones_like(fa)
    s = 0.0
    for i in range(ia.shape[0]):
        d[i] = fa[i] * 10
        s += c[i] + d[i] + o[i]
    return s


def negative_shape_index(A, out):
    m = A.shape[-1]
    n = A.shape[-2]
    (p,) = out.shape
    for i in range(n):
        for j in range(m):
            out[(i + j) % p] += A[i, j]


def acc_more_directives(a, b, n):
    #pragma acc enter data copyin(a) create(b)
    #pragma acc parallel present(a, b)
    #pragma acc loop independent private(t)
    for i in range(n):
        t = a[i] * 2.0
        b[i] = t + 1.0
    #pragma acc end parallel
    m = -1e300
    #pragma acc parallel loop reduction(max:m)
    for i in range(n):
        m = max(m, b[i])
    #pragma acc update host(b)
    #pragma acc exit data delete(a) copyout(b)
    #pragma acc wait
    return m


# --- aliasing: one array passed twice, overlapping views ---------------------------------


def shift_copy(dst, src):
    # with dst and src the same array, the first value propagates to every element
    for i in range(1, dst.shape[0]):
        dst[i] = src[i - 1]


def axpy_aliased(alpha, x, y):
    for i in range(x.shape[0]):
        y[i] += alpha * x[i]
        y[i] += x[i - 1]


def transpose_add(A, B):
    # with B = A.T, each update is seen by a later read of the mirrored element
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            A[i, j] = A[i, j] + 0.5 * B[i, j]


# --- returns, annotations, complex attributes, read-only arrays ----------------------------


def explicit_return_none(a):
    if a[0] > 0:
        return None
    a[0] = 5.0


def unreachable_after_return(a):
    a[0] += 1.0
    return a[0]
    a[1] = 2.0  # never runs


def annotated_locals(a):
    s: float = 0.0
    k: int = 0
    for i in range(a.shape[0]):
        s += a[i]
        k += 1
    return s / max(k, 1)


def complex_attributes(z, out):
    for i in range(z.shape[0]):
        out[i] = z[i].real * 2 + z[i].imag * 1j + z[i].conjugate()
    return z[0].imag + abs(z[0].conjugate())


def builtin_pow(x, out):
    for i in range(x.shape[0]):
        out[i] = pow(x[i], 2) + pow(2, 3) + pow(abs(x[i]), 0.5) + pow(i, 2)


def write_read_only(a, b):
    # a is read-only: ValueError("assignment destination is read-only")
    for i in range(b.shape[0]):
        b[i] = a[i] * 2
    a[0] = 1.0


def _read_only(a):
    a.flags.writeable = False
    return a



def allocate_in_loop(n):
    s = 0.0
    for k in range(n):
        t = np.zeros(k + 1)
        for i in range(k + 1):
            t[i] = i * 0.5
        s += t[k]
    return s


def negative_allocation(n):
    # ValueError('negative dimensions are not allowed')
    t = np.full((2, n - 10), 1.5)
    return t.size


CASES = [
    Case(scale_by_global, lambda rng, n: (floats(rng, n),)),
    Case(smooth_global_weights, lambda rng, n: (floats(rng, n + 2), np.zeros(n + 2))),
    Case(make_saxpy(2.5, 0.125), lambda rng, n: (floats(rng, n), floats(rng, n))),
    Case(helper_calls, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(helper_keywords, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(helper_mutates, lambda rng, n: (0.75, floats(rng, n), floats(rng, n))),
    Case(nested_helpers, lambda rng, n: (floats(rng, n, n + 1), np.zeros(n))),
    Case(object_attributes, lambda rng, n: (Params(n, np.float32, 0.5), floats(rng, n + 1)),
         name="object_attributes_f32"),
    Case(object_attributes, lambda rng, n: (Params(n, np.int64, 2), floats(rng, n)),
         name="object_attributes_i64"),
    Case(_K32.run, lambda rng, n: (floats(rng, 4, 5), np.zeros((4, 5))), sizes=(4,),
         name="bound_method_run"),
    Case(zeros_temp, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(full_and_ones, lambda rng, n: (floats(rng, n, n + 2),)),
    Case(empty_like_copy, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(full_like_int, lambda rng, n: (ints(rng, -5, 5, n, dtype=np.int16),)),
    Case(zeros_3d, lambda rng, n: (n,)),
    Case(shape_queries, lambda rng, n: (np.zeros((n, n + 1, 3)), floats(rng, n + 2))),
    Case(acc_parallel_loop, lambda rng, n: (floats(rng, n), floats(rng, n), np.zeros(n))),
    Case(acc_data_region, lambda rng, n: (floats(rng, n, n), np.zeros((n, n)), 2)),
    # reduction(+:s) allows the sum to be reassociated (partial sums per thread)
    Case(acc_reduction, lambda rng, n: (floats(rng, n),), rtol=1e-12, rtol32=1e-5),
    Case(acc_atomic_histogram, lambda rng, n: (ints(rng, 0, 5, 3 * n),
                                               np.zeros(5, dtype=np.int32))),
    Case(acc_kernels_gemm, lambda rng, n: (floats(rng, n, n + 1), floats(rng, n + 1, n + 2),
                                           np.zeros((n, n + 2)))),
    Case(acc_gang_vector, lambda rng, n: (floats(rng, n, n + 1), floats(rng, n + 1),
                                          np.zeros(n))),
    Case(negative_index_oob, lambda rng, n: (floats(rng, n), n + 1), sizes=(1, 5)),
    Case(row_of_row_oob, lambda rng, n: (np.zeros((n, 3)),), sizes=(1, 4)),
    Case(global_scalars, lambda rng, n: (floats(rng, n).astype(np.float32),), float32=False),
    Case(keyword_only_helper, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(helper_mixed_returns, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(helper_raises, lambda rng, n: (np.zeros(n), n + 1), sizes=(1, 5)),
    Case(object_scalar_types, lambda rng, n: (Settings(), floats(rng, n))),
    Case(allocation_dtypes, lambda rng, n: (n,)),
    Case(like_allocations, lambda rng, n: (ints(rng, -5, 5, n), floats(rng, n))),
    Case(negative_shape_index, lambda rng, n: (floats(rng, n, n + 1), np.zeros(3))),
    Case(acc_more_directives, lambda rng, n: (floats(rng, n), np.zeros(n), n)),
    Case(shift_copy, lambda rng, n: (floats(rng, n + 1),),
         derive=lambda args: (args[0], args[0]), name="shift_copy_same_array"),
    Case(shift_copy, lambda rng, n: (floats(rng, n + 2),),
         derive=lambda args: (args[0][1:], args[0][:-1]), name="shift_copy_overlapping"),
    Case(axpy_aliased, lambda rng, n: (0.5, floats(rng, n)),
         derive=lambda args: (args[0], args[1], args[1])),
    Case(transpose_add, lambda rng, n: (floats(rng, n, n),),
         derive=lambda args: (args[0], args[0].T)),
    Case(explicit_return_none, lambda rng, n: (floats(rng, n),)),
    Case(unreachable_after_return, lambda rng, n: (np.zeros(n + 1),)),
    Case(annotated_locals, lambda rng, n: (floats(rng, n),)),
    Case(complex_attributes, lambda rng, n: (complexes(rng, n), np.zeros(n, np.complex128))),
    Case(builtin_pow, lambda rng, n: (floats(rng, n), np.zeros(n))),
    Case(write_read_only, lambda rng, n: (floats(rng, n), np.zeros(n)),
         derive=lambda args: (_read_only(args[0]), args[1])),
    Case(allocate_in_loop, lambda rng, n: (n,)),
    Case(negative_allocation, lambda rng, n: (n,), sizes=(1, 5)),
]
