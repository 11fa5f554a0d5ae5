"""Parallel execution on the CPU, in the manner of the OpenACC V&V suite's C tests.

The kernels below follow the OpenACCV-V tests (https://github.com/OpenACCUserGroup/OpenACCV-V):
parallel_loop.c, loop_collapse.c, parallel_loop_auto.c, parallel_loop_seq.c, kernels_loop.c,
serial_loop.c, parallel_if.c, parallel_private.c, parallel_firstprivate.c, the
parallel_loop_reduction_*_general.c family (+ * max min & | ^ && ||), reductions on arrays and
the atomic_*.c tests, written as plain Python functions with `#pragma acc` comments.

Every test compiles the kernel, runs it on fresh copies of its inputs with 1, 2 and 3 threads,
and checks the return value and every array against CPython running the same, undecorated
function. Integer, boolean, min/max and bitwise results must be identical; floating-point sums
and products under a `reduction` clause (or `reassociate=True`) are reassociated, so they are
compared with a relative tolerance. The main tests also check the `parallelized` remark, so
that they prove the parallel path was taken (the sizes give every such loop enough work).
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import accir

N = 50_000  # elements of the 1-D kernels: enough work for the parallel path
RTOL = 1e-12  # reassociated floating-point sums and products


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"threads{n}")
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test with this many threads in every parallel loop; restore the old count."""
    old = accir.get_num_threads()
    accir.set_num_threads(request.param)
    try:
        assert accir.get_num_threads() == request.param
        yield request.param
    finally:
        accir.set_num_threads(old)


_COMPILED: dict[tuple[Any, ...], Any] = {}


def compiled(fn: Callable[..., Any], **options: Any) -> Any:
    """One compiled function per kernel and options, shared by the thread counts (the count
    is read when a parallel loop starts, so no recompilation is needed)."""
    key = (fn, tuple(sorted(options.items())))
    if key not in _COMPILED:
        _COMPILED[key] = accir.compile(fn, **options)
    return _COMPILED[key]


def assert_same(got: Any, expected: Any, rtol: float | None = None, what: str = "result") -> None:
    """`got` is CPython's `expected`: same type, same value (or within `rtol`)."""
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: {type(got)}"
        assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
        assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
        if rtol is None or expected.dtype.kind not in "fc":
            np.testing.assert_array_equal(got, expected, err_msg=what)
        else:
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=what)
        return
    assert type(got) is type(expected), f"{what}: type {type(got)} != {type(expected)}"
    inexact = isinstance(expected, (float, complex, np.inexact))
    if inexact and np.isnan(expected):
        assert np.isnan(got), f"{what}: {got!r} != {expected!r}"
    elif rtol is None or not inexact:
        assert got == expected, f"{what}: {got!r} != {expected!r}"
    else:
        assert abs(got - expected) <= rtol * abs(expected), \
            f"{what}: {got!r} not within {rtol} of {expected!r}"


def check(fn: Callable[..., Any], *args: Any, rtol: float | None = None,
          parallel: bool | None = None, cf: Any = None, **options: Any) -> Any:
    """Run `fn` under CPython and compiled, each on fresh copies of `args`, and compare the
    return values and every array argument. With `parallel`, also check whether a loop was
    parallelised. No RaceWarning may be emitted. Returns the compiled function."""
    if cf is None:
        cf = compiled(fn, **options)
    expected_args = copy.deepcopy(args)
    expected = fn(*expected_args)
    got_args = copy.deepcopy(args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", accir.RaceWarning)
        got = cf(*got_args)
    assert_same(got, expected, rtol)
    for k, (e, g) in enumerate(zip(expected_args, got_args, strict=True)):
        if isinstance(e, np.ndarray):
            assert_same(g, e, rtol, what=f"argument {k} of {fn.__name__}")
    if parallel is not None:
        kinds = [r.kind for r in cf.remarks]
        assert ("parallelized" in kinds) == parallel, [str(r) for r in cf.remarks]
    return cf


def remarks_of(cf: Any, kind: str) -> list[accir.Remark]:
    return [r for r in cf.remarks if r.kind == kind]


def loop_line(fn: Callable[..., Any], nth: int = 0) -> int:
    """The file line of the `nth` `for` statement of `fn`."""
    lines, start = inspect.getsourcelines(fn)
    fors = [start + k for k, text in enumerate(lines) if text.lstrip().startswith("for ")]
    return fors[nth]


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def floats(n: int = N, seed: int = 0) -> np.ndarray:
    return rng(seed).random(n)


def ints(n: int = N, seed: int = 0, low: int = -1000, high: int = 1000) -> np.ndarray:
    return rng(seed).integers(low, high, n, dtype=np.int64)


# ============================================================================ compute constructs
# parallel_loop.c: c = a + b


def vv_parallel_loop(a, b, c):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        c[i] = a[i] + b[i]


def test_parallel_loop(threads: int) -> None:
    cf = check(vv_parallel_loop, floats(seed=1), floats(seed=2), np.zeros(N), parallel=True)
    [remark] = remarks_of(cf, "parallelized")
    assert remark.line == loop_line(vv_parallel_loop)


def vv_parallel_loop_int(a, b, c):
    n = a.shape[0]
    #pragma acc parallel loop copyin(a[0:n], b[0:n]) copyout(c[0:n])
    for i in range(n):
        c[i] = a[i] * b[i] - i


def test_parallel_loop_int_with_data_clauses(threads: int) -> None:
    check(vv_parallel_loop_int, ints(seed=3), ints(seed=4), np.zeros(N, np.int64),
          parallel=True)


def vv_parallel_loop_2d(a, b, c):
    n, m = a.shape
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc loop
        for j in range(m):
            c[i, j] = a[i, j] * b[i, j] + i - j


def test_parallel_loop_2d_nest(threads: int) -> None:
    a = rng(5).random((240, 210))
    b = rng(6).random((240, 210))
    check(vv_parallel_loop_2d, a, b, np.zeros((240, 210)), parallel=True)


def vv_parallel_loop_steps(a, b, n):
    #pragma acc parallel loop
    for i in range(1, n, 3):
        b[i] = a[i] + 1.0
    #pragma acc parallel loop
    for i in range(n - 1, -1, -2):
        b[i] = b[i] * 2.0 + a[i]


def test_parallel_loop_with_steps(threads: int) -> None:
    check(vv_parallel_loop_steps, floats(seed=7), np.zeros(N), N, parallel=True)


def vv_kernels_loop(a, b):
    n = a.shape[0]
    #pragma acc kernels loop
    for i in range(n):
        b[i] = 3.0 * a[i] - 1.0


def test_kernels_loop(threads: int) -> None:
    check(vv_kernels_loop, floats(seed=8), np.zeros(N), parallel=True)


def vv_kernels_region(a, b, c):
    n = a.shape[0]
    #pragma acc kernels copyin(a) create(b) copyout(c)
    for i in range(n):
        b[i] = a[i] + 1.0
    for i in range(n):
        c[i] = b[i] * 2.0 - a[i]
    #pragma acc end kernels


def test_kernels_region_two_loops(threads: int) -> None:
    cf = check(vv_kernels_region, floats(seed=9), np.zeros(N), np.zeros(N), parallel=True)
    # loop-fusion runs both sweeps as one loop, which runs in parallel
    assert [r.line for r in remarks_of(cf, "fused")] == [loop_line(vv_kernels_region, 0)]
    lines = sorted(r.line for r in remarks_of(cf, "parallelized"))
    assert lines == [loop_line(vv_kernels_region, 0)]


def vv_serial_loop(a, b):
    n = a.shape[0]
    #pragma acc serial loop
    for i in range(n):
        b[i] = a[i] * a[i]


def test_serial_loop(threads: int) -> None:
    cf = check(vv_serial_loop, floats(seed=10), np.zeros(N), parallel=False)
    [remark] = remarks_of(cf, "not-parallelized")
    assert "serial" in remark.message
    assert remark.line == loop_line(vv_serial_loop)


def vv_serial_loop_recurrence(a, b):
    n = a.shape[0]
    s = 0.0
    #pragma acc serial loop
    for i in range(1, n):
        b[i] = b[i - 1] + a[i]
        s += a[i]
    return s


def test_serial_loop_recurrence_and_sum(threads: int) -> None:
    # a serial loop keeps CPython's order: the float sum is exact, no race is reported
    check(vv_serial_loop_recurrence, floats(seed=11), np.zeros(N), parallel=False)


def vv_parallel_loop_seq(a, b):
    n, m = a.shape
    #pragma acc parallel
    #pragma acc loop
    for i in range(n):
        #pragma acc loop seq
        for j in range(1, m):
            b[i, j] = b[i, j - 1] + a[i, j]
    #pragma acc end parallel


def test_loop_seq_inside_parallel(threads: int) -> None:
    cf = check(vv_parallel_loop_seq, rng(12).random((300, 200)), np.ones((300, 200)),
               parallel=True)
    [remark] = remarks_of(cf, "parallelized")
    assert remark.line == loop_line(vv_parallel_loop_seq, 0)


def vv_parallel_loop_seq_clause(a):
    n = a.shape[0]
    #pragma acc parallel loop seq
    for i in range(1, n):
        a[i] = a[i] + a[i - 1]


def test_parallel_loop_seq_recurrence(threads: int) -> None:
    # `seq`: the loop is sequential, so its recurrence is no race
    check(vv_parallel_loop_seq_clause, ints(seed=13), parallel=False)


def vv_loop_auto(a, b, c):
    n = a.shape[0]
    #pragma acc parallel
    #pragma acc loop auto
    for i in range(n):
        b[i] = a[i] * 2.0 + 1.0
    #pragma acc loop auto
    for i in range(1, n):
        c[i] = c[i - 1] + a[i]
    #pragma acc end parallel


def test_loop_auto(threads: int) -> None:
    # parallel_loop_auto.c: `auto` lets the compiler decide; the independent loop runs in
    # parallel, the recurrence sequentially, and neither is a race
    cf = check(vv_loop_auto, floats(seed=14), np.zeros(N), np.zeros(N), parallel=True)
    assert [r.line for r in remarks_of(cf, "parallelized")] == [loop_line(vv_loop_auto, 0)]
    assert [r.line for r in remarks_of(cf, "not-parallelized")] == [loop_line(vv_loop_auto, 1)]


def vv_loop_independent(a, b):
    n = a.shape[0]
    #pragma acc kernels
    #pragma acc loop independent
    for i in range(n):
        b[i] = a[n - 1 - i] * 2.0
    #pragma acc end kernels


def test_loop_independent(threads: int) -> None:
    check(vv_loop_independent, floats(seed=15), np.zeros(N), parallel=True)


def vv_collapse(a, b):
    n, m = a.shape
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(m):
            b[i, j] = a[i, j] + a[i, j] * j - i


@pytest.mark.parametrize("shape", [(250, 220), (1, 30_000), (3, 7), (0, 5)])
def test_collapse_2(threads: int, shape: tuple[int, int]) -> None:
    check(vv_collapse, rng(16).random(shape), np.zeros(shape), parallel=True)


def vv_collapse_inner_seq(a, b):
    n, m, p = a.shape
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(m):
            t = 0
            #pragma acc loop seq
            for k in range(p):
                t += a[i, j, k]
                b[i, j, k] = t


def test_collapse_2_with_inner_seq_loop(threads: int) -> None:
    # loop_collapse.c: the collapsed nest runs in parallel, the innermost loop is a scan
    a = rng(17).integers(-50, 50, (40, 30, 50), dtype=np.int64)
    check(vv_collapse_inner_seq, a, np.zeros_like(a), parallel=True)


def vv_collapse_vars_after(A, m):
    n = A.shape[0]
    i = -5
    j = -6
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(m):
            A[i, j] = i * 2 + j
    return i * 100000 + j


@pytest.mark.parametrize(("rows", "cols"), [(300, 200), (300, 0), (0, 5), (1, 1), (7, 3)])
def test_collapse_loop_variables_after_the_nest(threads: int, rows: int, cols: int) -> None:
    # i and j keep their last values; with an empty inner range j keeps its old value
    check(vv_collapse_vars_after, np.zeros((rows, max(cols, 1)), np.int64), cols,
          parallel=True)


def vv_collapse_3(a, b):
    n, m, p = a.shape
    #pragma acc parallel loop collapse(3)
    for i in range(n):
        for j in range(m):
            for k in range(p):
                b[i, j, k] = a[i, j, k] * (i + 1) - j * k


def test_collapse_3(threads: int) -> None:
    a = rng(25).integers(-9, 9, (30, 40, 50), dtype=np.int64)
    check(vv_collapse_3, a, np.zeros_like(a), parallel=True)


def vv_gang_worker_vector(a, b):
    n, m, p = a.shape
    #pragma acc parallel loop gang
    for i in range(n):
        #pragma acc loop worker
        for j in range(m):
            #pragma acc loop vector
            for k in range(p):
                b[i, j, k] = a[i, j, k] * 2.0 + k


def test_gang_worker_vector(threads: int) -> None:
    a = rng(18).random((30, 40, 50))
    cf = check(vv_gang_worker_vector, a, np.zeros_like(a), parallel=True)
    assert [r.line for r in remarks_of(cf, "parallelized")] == [
        loop_line(vv_gang_worker_vector, 0)]


def vv_gang_vector_matvec(A, x, y):
    n, m = A.shape
    #pragma acc parallel loop gang copyin(A, x) copyout(y)
    for i in range(n):
        t = 0.0
        #pragma acc loop vector reduction(+:t)
        for j in range(m):
            t += A[i, j] * x[j]
        y[i] = t


def test_gang_vector_reduction_matvec(threads: int) -> None:
    check(vv_gang_vector_matvec, rng(19).random((300, 250)), rng(20).random(250),
          np.zeros(300), rtol=RTOL, parallel=True)


def vv_num_gangs(a, b):
    n = a.shape[0]
    s = 0
    #pragma acc parallel loop num_gangs(2) reduction(+:s)
    for i in range(n):
        b[i] = a[i] + 1
        s += a[i]
    return s


def test_num_gangs_2(threads: int) -> None:
    cf = check(vv_num_gangs, ints(seed=21), np.zeros(N, np.int64), parallel=True)
    [remark] = remarks_of(cf, "parallelized")
    assert "threads 2" in remark.message


def vv_num_gangs_variable(a, b, g):
    n = a.shape[0]
    #pragma acc parallel num_gangs(g)
    #pragma acc loop gang
    for i in range(n):
        b[i] = a[i] * 3 - 2
    #pragma acc end parallel


@pytest.mark.parametrize("gangs", [1, 2, 5])
def test_num_gangs_variable(threads: int, gangs: int) -> None:
    check(vv_num_gangs_variable, ints(seed=22), np.zeros(N, np.int64), gangs, parallel=True)


def vv_parallel_if(a, b, flag):
    n = a.shape[0]
    s = 0
    #pragma acc parallel loop if(flag) reduction(+:s)
    for i in range(n):
        b[i] = a[i] * 2 + 1
        s += b[i]
    return s


@pytest.mark.parametrize("flag", [True, False])
def test_parallel_if(threads: int, flag: bool) -> None:
    check(vv_parallel_if, ints(seed=23), np.zeros(N, np.int64), flag, parallel=True)


def vv_data_region_jacobi(A, B, tsteps):
    n = A.shape[0]
    #pragma acc data copy(A) create(B)
    for _t in range(tsteps):
        #pragma acc parallel loop collapse(2)
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.25 * (A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])
        #pragma acc parallel loop collapse(2)
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = B[i, j]
    #pragma acc end data


def test_data_region_with_time_loop(threads: int) -> None:
    cf = check(vv_data_region_jacobi, rng(24).random((120, 120)), np.zeros((120, 120)), 4,
               parallel=True)
    lines = sorted(r.line for r in remarks_of(cf, "parallelized"))
    assert lines == [loop_line(vv_data_region_jacobi, 1), loop_line(vv_data_region_jacobi, 3)]


# ============================================================================ reductions
# parallel_loop_reduction_<op>_general.c, with the clause, without it, and by type


def red_add_int_clause(a):
    s = 0
    n = a.shape[0]
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        s += a[i]
    return s


def red_add_int_implicit(a):
    s = 0
    for i in range(a.shape[0]):
        s += a[i]
    return s


def red_sub_int_implicit(a):
    s = 7
    for i in range(a.shape[0]):
        s -= a[i]
    return s


def red_add_int32_clause(a):
    s = np.int32(5)
    n = a.shape[0]
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        s = s + a[i]
    return s


def red_add_float_clause(a):
    s = 0.0
    n = a.shape[0]
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        s += a[i] * 2.0
    return s


def red_add_float_no_clause(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s


def red_mul_int_clause(a):
    p = 1
    n = a.shape[0]
    #pragma acc parallel loop reduction(*:p)
    for i in range(n):
        p *= a[i]
    return p


def red_mul_int_implicit(a):
    p = 3
    for i in range(a.shape[0]):
        p = a[i] * p
    return p


def red_mul_float_clause(a):
    p = 1.0
    n = a.shape[0]
    #pragma acc parallel loop reduction(*:p)
    for i in range(n):
        p *= a[i]
    return p


def red_max_int_clause(a):
    m = a[0]
    n = a.shape[0]
    #pragma acc parallel loop reduction(max:m)
    for i in range(n):
        m = max(m, a[i])
    return m


def red_max_int_implicit(a):
    m = a[0]
    for i in range(a.shape[0]):
        m = max(m, a[i])
    return m


def red_min_int_clause(a):
    m = a[0]
    n = a.shape[0]
    #pragma acc parallel loop reduction(min:m)
    for i in range(n):
        m = min(m, a[i])
    return m


def red_min_int_implicit(a):
    m = a[0]
    for i in range(a.shape[0]):
        m = min(m, a[i])
    return m


def red_max_float_clause(a):
    m = -math.inf
    n = a.shape[0]
    #pragma acc parallel loop reduction(max:m)
    for i in range(n):
        m = max(m, a[i])
    return m


def red_min_float_clause(a):
    m = math.inf
    n = a.shape[0]
    #pragma acc parallel loop reduction(min:m)
    for i in range(n):
        m = min(m, a[i])
    return m


def red_max_float_np_maximum(a):
    m = a[0]
    for i in range(a.shape[0]):
        m = np.maximum(m, a[i])
    return m


def red_min_float_np_minimum(a):
    m = a[0]
    for i in range(a.shape[0]):
        m = np.minimum(m, a[i])
    return m


def red_bitand_clause(a):
    s = -1
    n = a.shape[0]
    #pragma acc parallel loop reduction(&:s)
    for i in range(n):
        s = s & a[i]
    return s


def red_bitand_implicit(a):
    s = -1
    for i in range(a.shape[0]):
        s &= a[i]
    return s


def red_bitor_clause(a):
    s = 0
    n = a.shape[0]
    #pragma acc parallel loop reduction(|:s)
    for i in range(n):
        s = s | a[i]
    return s


def red_bitor_implicit(a):
    s = 0
    for i in range(a.shape[0]):
        s |= a[i]
    return s


def red_bitxor_clause(a):
    s = 0
    n = a.shape[0]
    #pragma acc parallel loop reduction(^:s)
    for i in range(n):
        s = s ^ a[i]
    return s


def red_bitxor_implicit(a):
    s = 12345
    for i in range(a.shape[0]):
        s ^= a[i]
    return s


def red_bool_bitand_clause(a):
    s = True
    n = a.shape[0]
    #pragma acc parallel loop reduction(&:s)
    for i in range(n):
        s = s & a[i]
    return s


def red_bool_bitor_implicit(a):
    s = False
    for i in range(a.shape[0]):
        s = s | a[i]
    return s


def red_bool_bitxor_clause(a):
    s = False
    n = a.shape[0]
    #pragma acc parallel loop reduction(^:s)
    for i in range(n):
        s = s ^ a[i]
    return s


def red_and_clause(a):
    s = True
    n = a.shape[0]
    #pragma acc parallel loop reduction(&&:s)
    for i in range(n):
        s = s and (a[i] > 0)
    return s


def red_and_implicit(a):
    s = True
    for i in range(a.shape[0]):
        s = s and (a[i] > 0)
    return s


def red_or_clause(a):
    s = False
    n = a.shape[0]
    #pragma acc parallel loop reduction(||:s)
    for i in range(n):
        s = s or (a[i] > 0)
    return s


def red_or_implicit(a):
    s = False
    for i in range(a.shape[0]):
        s = s or (a[i] > 0)
    return s


def _product_ints() -> np.ndarray:
    a = np.ones(N, np.int64)
    r = rng(30)
    a[r.choice(N, 40, replace=False)] = 2
    a[r.choice(np.flatnonzero(a == 1), 33, replace=False)] = -1
    return a


def _bitand_ints() -> np.ndarray:
    bits = rng(31).choice(np.array([3, 17, 40, 61], np.int64), N)
    return ~(np.int64(1) << bits)


def _bitor_ints() -> np.ndarray:
    bits = rng(32).choice(np.array([1, 5, 9, 33, 50], np.int64), N)
    return np.int64(1) << bits


def _bools(seed: int, p: float) -> np.ndarray:
    return rng(seed).random(N) < p


def _one_positive() -> np.ndarray:
    a = -1.0 - floats(seed=33)
    a[N // 3 * 2] = 0.5
    return a


def _one_negative() -> np.ndarray:
    a = floats(seed=34) + 0.01
    a[N - 5] = -0.5
    return a


REDUCTIONS: list[tuple[Callable[..., Any], Callable[[], np.ndarray], float | None]] = [
    (red_add_int_clause, lambda: ints(seed=40), None),
    (red_add_int_implicit, lambda: ints(seed=41, low=-(2**40), high=2**40), None),
    (red_sub_int_implicit, lambda: ints(seed=42), None),
    (red_add_int32_clause, lambda: ints(seed=43).astype(np.int32), None),
    (red_add_float_clause, lambda: floats(seed=44), RTOL),
    (red_mul_int_clause, _product_ints, None),
    (red_mul_int_implicit, _product_ints, None),
    (red_mul_float_clause, lambda: 1.0 + (floats(seed=45) - 0.5) * 1e-3, RTOL),
    (red_max_int_clause, lambda: ints(seed=46), None),
    (red_max_int_implicit, lambda: ints(seed=47, low=-(2**62), high=2**62), None),
    (red_min_int_clause, lambda: ints(seed=48), None),
    (red_min_int_implicit, lambda: ints(seed=49, low=-(2**62), high=2**62), None),
    (red_max_float_clause, lambda: floats(seed=50) - 0.5, None),
    (red_min_float_clause, lambda: floats(seed=51) - 0.5, None),
    (red_max_float_np_maximum, lambda: floats(seed=52) * 1e6, None),
    (red_min_float_np_minimum, lambda: floats(seed=53) - 2.0, None),
    (red_bitand_clause, _bitand_ints, None),
    (red_bitand_implicit, _bitand_ints, None),
    (red_bitor_clause, _bitor_ints, None),
    (red_bitor_implicit, _bitor_ints, None),
    (red_bitxor_clause, lambda: ints(seed=54, low=-(2**62), high=2**62), None),
    (red_bitxor_implicit, lambda: ints(seed=55, low=0, high=2**62), None),
    (red_bool_bitand_clause, lambda: _bools(56, 1.1), None),
    (red_bool_bitand_clause, lambda: _bools(57, 0.99995), None),
    (red_bool_bitor_implicit, lambda: _bools(58, 0.00003), None),
    (red_bool_bitor_implicit, lambda: _bools(59, -1.0), None),
    (red_bool_bitxor_clause, lambda: _bools(60, 0.5), None),
    (red_bool_bitxor_clause, lambda: _bools(61, 0.5)[:-1], None),
    (red_and_clause, lambda: floats(seed=62) + 0.01, None),
    (red_and_clause, _one_negative, None),
    (red_and_implicit, lambda: floats(seed=63) + 0.01, None),
    (red_and_implicit, _one_negative, None),
    (red_or_clause, lambda: -floats(seed=64), None),
    (red_or_clause, _one_positive, None),
    (red_or_implicit, lambda: -floats(seed=65), None),
    (red_or_implicit, _one_positive, None),
]


@pytest.mark.parametrize(
    ("kernel", "data", "rtol"), REDUCTIONS,
    ids=[f"{k.__name__}-{n}" for n, (k, _, _) in enumerate(REDUCTIONS)])
def test_reduction(threads: int, kernel: Callable[..., Any],
                   data: Callable[[], np.ndarray], rtol: float | None) -> None:
    a = data()
    cf = check(kernel, a, rtol=rtol, parallel=True)
    [remark] = remarks_of(cf, "parallelized")
    assert remark.line == loop_line(kernel)
    assert "reduction(" in remark.message


ZERO_TRIP = [
    (red_add_int_clause, np.int64), (red_mul_int_clause, np.int64),
    (red_add_float_clause, np.float64), (red_max_float_clause, np.float64),
    (red_min_float_clause, np.float64), (red_bitand_clause, np.int64),
    (red_bitxor_implicit, np.int64), (red_and_clause, np.float64),
    (red_or_implicit, np.float64), (red_bool_bitxor_clause, np.bool_),
]


@pytest.mark.parametrize(("kernel", "dtype"), ZERO_TRIP, ids=[k.__name__ for k, _ in ZERO_TRIP])
def test_reduction_over_zero_iterations(threads: int, kernel: Callable[..., Any],
                                        dtype: type) -> None:
    # the initial value comes back unchanged (its type may be the variable's promoted one:
    # a documented difference, so only the value is compared)
    expected = kernel(np.zeros(0, dtype))
    got = compiled(kernel)(np.zeros(0, dtype))
    assert got == expected, (got, expected)


def test_float_sum_without_clause_stays_sequential(threads: int) -> None:
    # no clause, no reassociate: the sum keeps CPython's rounding bit for bit
    cf = check(red_add_float_no_clause, floats(seed=70) * 1e3, parallel=False)
    [remark] = remarks_of(cf, "not-parallelized")
    assert "reassociate" in remark.message


def test_float_sum_reassociate_option(threads: int) -> None:
    cf = check(red_add_float_no_clause, floats(seed=71), rtol=RTOL, parallel=True,
               reassociate=True)
    assert any("reduction(+:s)" in r.message for r in remarks_of(cf, "parallelized"))


def red_region(a):
    s = 0
    n = a.shape[0]
    #pragma acc parallel reduction(+:s)
    #pragma acc loop reduction(+:s)
    for i in range(n):
        s += a[i] * a[i]
    #pragma acc end parallel
    return s


def test_reduction_on_parallel_region(threads: int) -> None:
    check(red_region, ints(seed=72), parallel=True)


def red_collapse_2d(A):
    n, m = A.shape
    s = 0
    mx = A[0, 0]
    #pragma acc parallel loop collapse(2) reduction(+:s) reduction(max:mx)
    for i in range(n):
        for j in range(m):
            s += A[i, j] * (i - j)
            mx = max(mx, A[i, j] + i)
    return s * 1000003 + mx


def test_reductions_on_collapsed_nest(threads: int) -> None:
    check(red_collapse_2d, rng(73).integers(-99, 99, (260, 230), dtype=np.int64),
          parallel=True)


def red_nested_inner(A):
    n, m = A.shape
    s = 0
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        for j in range(m):
            if A[i, j] > 0:
                s += A[i, j]
    return s


def test_reduction_updated_in_inner_loop(threads: int) -> None:
    check(red_nested_inner, rng(74).integers(-99, 99, (260, 230), dtype=np.int64),
          parallel=True)


def red_two_ops(a, b):
    s = 0
    p = 0
    lo = a[0]
    n = a.shape[0]
    #pragma acc parallel loop reduction(+:s) reduction(^:p) reduction(min:lo)
    for i in range(n):
        b[i] = a[i] * 3
        s += b[i]
        p ^= a[i] * 7
        lo = min(lo, a[i] - i)
    return s + p + lo


def test_several_reductions_in_one_loop(threads: int) -> None:
    check(red_two_ops, ints(seed=75), np.zeros(N, np.int64), parallel=True)


def red_tiny_max(a):
    m = -9223372036854775807
    n = a.shape[0]
    #pragma acc parallel loop num_gangs(8) reduction(max:m)
    for i in range(n):
        m = max(m, a[i])
    return m


def red_tiny_min(a):
    m = 9223372036854775807
    n = a.shape[0]
    #pragma acc parallel loop num_gangs(8) reduction(min:m)
    for i in range(n):
        m = min(m, a[i])
    return m


def red_tiny_mul(a):
    p = -1
    n = a.shape[0]
    #pragma acc parallel loop num_gangs(8) reduction(*:p)
    for i in range(n):
        p *= a[i]
    return p


def red_tiny_bits(a):
    x = -1
    y = 0
    z = 5
    n = a.shape[0]
    #pragma acc parallel loop num_gangs(8) reduction(&:x) reduction(|:y) reduction(^:z)
    for i in range(n):
        x &= a[i]
        y |= a[i]
        z ^= a[i]
    return x * 3 + y * 5 + z


def red_tiny_float_max(a):
    m = -1e300
    n = a.shape[0]
    #pragma acc parallel loop num_gangs(8) reduction(max:m)
    for i in range(n):
        m = max(m, a[i])
    return m


def red_tiny_logical(a):
    s = True
    t = False
    n = a.shape[0]
    #pragma acc parallel loop num_gangs(8) reduction(&&:s) reduction(||:t)
    for i in range(n):
        s = s and (a[i] < 0)
        t = t or (a[i] > -3)
    return s == t


TINY = [
    (red_tiny_max, lambda k: -np.arange(1, k + 1, dtype=np.int64) * 7),
    (red_tiny_min, lambda k: np.arange(1, k + 1, dtype=np.int64) * 7),
    (red_tiny_mul, lambda k: np.full(k, 3, np.int64)),
    (red_tiny_bits, lambda k: np.full(k, -1, np.int64) - np.arange(k, dtype=np.int64)),
    (red_tiny_float_max, lambda k: -1.0 - np.arange(k, dtype=np.float64)),
    (red_tiny_logical, lambda k: -1.0 - np.arange(k, dtype=np.float64) * 3),
]


@pytest.mark.parametrize("k", [1, 2, 3, 5, 9])
@pytest.mark.parametrize(("kernel", "data"), TINY, ids=[f.__name__ for f, _ in TINY])
def test_reduction_on_few_iterations_many_gangs(threads: int, kernel: Callable[..., Any],
                                                data: Callable[[int], np.ndarray],
                                                k: int) -> None:
    # eight gangs for fewer iterations: the idle gangs must contribute the identity of the
    # operator (e.g. the smallest int64 for max over negative values), not zero
    check(kernel, data(k), parallel=True)


def red_max_nan(a):
    m = -math.inf
    n = a.shape[0]
    #pragma acc parallel loop reduction(max:m)
    for i in range(n):
        m = max(m, a[i])
    return m


def red_min_nan_first(a):
    m = a[0]
    n = a.shape[0]
    #pragma acc parallel loop reduction(min:m)
    for i in range(n):
        m = min(m, a[i])
    return m


def red_np_maximum_nan(a):
    m = a[1]
    for i in range(a.shape[0]):
        m = np.maximum(m, a[i])
    return m


def red_np_fmin_nan(a):
    m = a[0]
    for i in range(a.shape[0]):
        m = np.fmin(m, a[i])
    return m


def _with_nans(where: str) -> np.ndarray:
    a = floats(seed=76) - 0.5
    if where == "first":
        a[0] = np.nan
    elif where == "middle":
        a[[N // 2 - 1, N // 2 + 700]] = np.nan
    elif where == "second-half":
        a[N // 2:] = np.nan
    return a


@pytest.mark.parametrize("where", ["first", "middle", "second-half"])
@pytest.mark.parametrize("kernel", [red_max_nan, red_min_nan_first, red_np_maximum_nan,
                                    red_np_fmin_nan])
def test_float_extrema_with_nans(threads: int, kernel: Callable[..., Any], where: str) -> None:
    # Python's max/min keep NaN by position; np.maximum propagates it; np.fmin ignores it:
    # each exactly as CPython computes them in order
    check(kernel, _with_nans(where), parallel=True)


def red_complex_clause(a):
    s = 0j
    p = 1 + 0j
    n = a.shape[0]
    #pragma acc parallel loop reduction(+:s) reduction(*:p)
    for i in range(n):
        s += a[i]
        p *= a[i] / abs(a[i])
    return s + p


def test_complex_reduction(threads: int) -> None:
    a = floats(seed=77) + 1j * floats(seed=78) + 0.1
    check(red_complex_clause, a, rtol=1e-9, parallel=True)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint32])
def test_implicit_sum_of_narrow_ints_wraps(threads: int, dtype: type) -> None:
    # the sum wraps in the element type, in any order: per-thread sums combine exactly
    a = rng(79).integers(0, 100, N).astype(dtype)
    check(red_add_int_implicit, a, parallel=True, cf=accir.compile(red_add_int_implicit))


def red_continued_directive(a):
    s = 0
    n = a.shape[0]
    #pragma acc parallel loop \
    #    reduction(+:s) \
    #    copyin(a)
    for i in range(n):
        s += a[i] % 7
    return s


def test_directive_continued_over_lines(threads: int) -> None:
    cf = check(red_continued_directive, ints(seed=79), parallel=True)
    [remark] = remarks_of(cf, "parallelized")
    assert remark.line == loop_line(red_continued_directive)
    assert "reduction(+:s)" in remark.message


# ---------------------------------------------------------------- reductions on arrays


def red_array_clause(idx, h):
    n = idx.shape[0]
    #pragma acc parallel loop reduction(+:h)
    for i in range(n):
        h[idx[i]] += 1


def red_subarray_clause(idx, h):
    n = idx.shape[0]
    #pragma acc parallel loop reduction(+:h[0:8])
    for i in range(n):
        h[idx[i]] += 1


def red_array_implicit(idx, h):
    for i in range(idx.shape[0]):
        h[idx[i]] += 1


def red_array_float_clause(idx, w, h):
    n = idx.shape[0]
    #pragma acc parallel loop reduction(+:h)
    for i in range(n):
        h[idx[i]] += w[i]


def red_array_max_clause(idx, a, h):
    n = idx.shape[0]
    #pragma acc parallel loop reduction(max:h)
    for i in range(n):
        h[idx[i]] = max(h[idx[i]], a[i])


def red_array_2d_clause(idx, h):
    n = idx.shape[0]
    #pragma acc parallel loop reduction(+:h)
    for i in range(n):
        h[idx[i], i % 4] += i


def test_array_reduction_clause(threads: int) -> None:
    idx = rng(80).integers(0, 8, N)
    cf = check(red_array_clause, idx, np.full(8, 5, np.int64), parallel=True)
    assert remarks_of(cf, "parallelized")[0].line == loop_line(red_array_clause)


def test_subarray_reduction_clause(threads: int) -> None:
    # reduction(+:h[0:8]) on a longer array: only h[0:8] is updated
    idx = rng(81).integers(0, 8, N)
    check(red_subarray_clause, idx, np.arange(12, dtype=np.int64), parallel=True)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_array_reduction_implicit(threads: int, dtype: type) -> None:
    idx = rng(82).integers(-16, 16, N)  # negative indices count from the end
    cf = check(red_array_implicit, idx, np.zeros(16, dtype), parallel=True)
    assert any("implicit array reduction(+:h)" in r.message for r in remarks_of(cf, "reduction"))


def test_array_reduction_float_clause(threads: int) -> None:
    idx = rng(83).integers(0, 10, N)
    check(red_array_float_clause, idx, floats(seed=84), np.zeros(10), rtol=RTOL, parallel=True)


def test_array_reduction_max_clause(threads: int) -> None:
    idx = rng(85).integers(0, 6, N)
    check(red_array_max_clause, idx, ints(seed=86), np.full(6, -5000, np.int64), parallel=True)


def test_array_reduction_2d(threads: int) -> None:
    idx = rng(87).integers(0, 5, N)
    check(red_array_2d_clause, idx, np.zeros((5, 4), np.int64), parallel=True)


# ============================================================================ private scalars
# parallel_private.c, parallel_firstprivate.c, and the values scalars keep after a loop


def vv_private(a, b, n):
    t = np.float64(3.5)  # a float64 from the start: the loop may not run
    #pragma acc parallel loop private(t)
    for i in range(n):
        t = a[i] * 2.0
        b[i] = t + 1.0
    return t


@pytest.mark.parametrize("n", [N, 1, 0])
def test_private_scalar_last_value(threads: int, n: int) -> None:
    check(vv_private, floats(seed=90), np.zeros(N), n, parallel=True)


def vv_private_implicit(a, b):
    n = a.shape[0]
    t = 0.0
    u = 0
    for i in range(n):
        t = a[i] * a[i]
        u = i % 7
        b[i] = t - u
    return t + u


def test_private_scalar_implicit(threads: int) -> None:
    cf = check(vv_private_implicit, floats(seed=91), np.zeros(N), parallel=True)
    [remark] = remarks_of(cf, "privatized")
    assert "t" in remark.message and "u" in remark.message


def vv_private_inner_loop(A, y):
    n, m = A.shape
    t = 0
    #pragma acc parallel loop private(t)
    for i in range(n):
        t = 0
        for j in range(m):
            t += A[i, j] * j
        y[i] = t
    return t


def test_private_scalar_accumulated_in_inner_loop(threads: int) -> None:
    check(vv_private_inner_loop, rng(92).integers(-9, 9, (300, 200), dtype=np.int64),
          np.zeros(300, np.int64), parallel=True)


def vv_firstprivate(a, b, c):
    n = a.shape[0]
    #pragma acc parallel firstprivate(c)
    #pragma acc loop
    for i in range(n):
        t = c
        t = t + a[i]
        b[i] = t
    #pragma acc end parallel
    return c


def test_firstprivate(threads: int) -> None:
    check(vv_firstprivate, floats(seed=93), np.zeros(N), 2.25, parallel=True)


def vv_parallel_loop_firstprivate(a, b, c):
    n = a.shape[0]
    d = c * 2
    #pragma acc parallel loop firstprivate(c, d)
    for i in range(n):
        b[i] = a[i] * c + d
    return c + d


def test_parallel_loop_firstprivate(threads: int) -> None:
    check(vv_parallel_loop_firstprivate, ints(seed=94), np.zeros(N, np.int64), 3,
          parallel=True)


def vv_loop_var_after(a, b, n):
    i = -7
    #pragma acc parallel loop
    for i in range(n):
        b[i] = a[i] + 1.0
    return i


@pytest.mark.parametrize("n", [N, 2, 1, 0])
def test_loop_variable_after_the_loop(threads: int, n: int) -> None:
    check(vv_loop_var_after, floats(seed=95), np.zeros(N), n, parallel=True)


def vv_loop_var_after_step(a, b, n):
    i = -7
    #pragma acc parallel loop
    for i in range(n - 1, -1, -3):
        b[i] = a[i] * 2.0
    return i


@pytest.mark.parametrize("n", [N, N - 1, 0])
def test_loop_variable_after_a_backward_loop(threads: int, n: int) -> None:
    check(vv_loop_var_after_step, floats(seed=96), np.zeros(N), n, parallel=True)


def vv_conditional_last(a, b, out, thr):
    n = a.shape[0]
    last = -1
    v = -2.0
    #pragma acc parallel loop
    for i in range(n):
        b[i] = a[i] * 2.0
        if a[i] > thr:
            last = i
            v = a[i]
    out[0] = v
    return last


def vv_conditional_last_implicit(a, b, out, thr):
    n = a.shape[0]
    last = -1
    v = -2.0
    for i in range(n):
        b[i] = a[i] * 2.0
        if a[i] > thr:
            last = i
            v = a[i]
    out[0] = v
    return last


def _marks(where: list[int]) -> np.ndarray:
    a = floats(seed=97) * 0.5
    a[where] = 0.75 + np.arange(len(where)) * 0.01
    return a


CONDITIONAL_DATA = {
    "early-only": lambda: _marks([7]),
    "two-in-first-half": lambda: _marks([100, N // 3]),
    "middle": lambda: _marks([N // 2 + 11]),
    "last": lambda: _marks([3, N - 1]),
    "none": lambda: _marks([]),
    "many": lambda: floats(seed=98),
}


@pytest.mark.parametrize("kernel", [vv_conditional_last, vv_conditional_last_implicit])
@pytest.mark.parametrize("data", list(CONDITIONAL_DATA), ids=list(CONDITIONAL_DATA))
def test_conditionally_assigned_scalar_after_loop(threads: int, kernel: Callable[..., Any],
                                                   data: str) -> None:
    # after the loop a scalar holds its value from the last iteration that assigned it,
    # which need not be the last iteration
    a = CONDITIONAL_DATA[data]()
    thr = 0.7 if data != "many" else 0.999
    check(kernel, a, np.zeros(N), np.zeros(1), thr, parallel=True)


def test_conditionally_assigned_scalar_zero_iterations(threads: int) -> None:
    check(vv_conditional_last, np.zeros(0), np.zeros(0), np.zeros(1), 0.5, parallel=True)


def vv_inner_loop_var_after(A, k, y):
    n = A.shape[0]
    j = -1
    #pragma acc parallel loop
    for i in range(n):
        y[i] = 0
        for j in range(k[i]):
            y[i] += A[i, j]
    return j


def _trips(case: str, rows: int) -> np.ndarray:
    k = rng(101).integers(1, 6, rows)
    if case == "second-half-empty":
        k[rows // 2:] = 0
    elif case == "one-early":
        k[:] = 0
        k[5] = 4
    elif case == "all-empty":
        k[:] = 0
    return k


@pytest.mark.parametrize("case", ["all-run", "second-half-empty", "one-early", "all-empty"])
def test_inner_loop_variable_after_the_nest(threads: int, case: str) -> None:
    # `j` holds its value from the last outer iteration whose inner loop ran: with the
    # later iterations running none, that is another thread's iteration
    rows = 3000
    A = rng(99).integers(-9, 9, (rows, 6), dtype=np.int64)
    check(vv_inner_loop_var_after, A, _trips(case, rows), np.zeros(rows, np.int64),
          parallel=True)


def vv_continue(a, b):
    n = a.shape[0]
    t = 0.0
    #pragma acc parallel loop
    for i in range(n):
        if a[i] < 0.25:
            continue
        t = a[i] + 1.0
        b[i] = t
    return t


def test_continue_with_private_scalar(threads: int) -> None:
    a = floats(seed=100)
    check(vv_continue, a, np.zeros(N), parallel=True)
    a[-3:] = 0.0  # the last iterations skip the assignment
    check(vv_continue, a, np.zeros(N), parallel=True)


def vv_break_search(a, b, target):
    n = a.shape[0]
    found = -1
    #pragma acc parallel loop
    for i in range(n):
        b[i] = a[i] * 2.0
        if a[i] > target:
            found = i
            break
    return found


@pytest.mark.parametrize("target", [0.99999, 2.0])
def test_break_keeps_the_loop_sequential(threads: int, target: float) -> None:
    # a loop that can leave early is not run in parallel (and is no race): CPython's result
    cf = check(vv_break_search, floats(seed=102), np.zeros(N), target, parallel=False)
    [remark] = remarks_of(cf, "not-parallelized")
    assert "break" in remark.message


# ============================================================================ atomics
# atomic_update_*.c, atomic_capture_*.c, atomic_read.c, atomic_write.c


def atomic_add(idx, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic update
        h[idx[i]] += 1


def atomic_add_weighted(idx, w, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic update
        h[idx[i]] = h[idx[i]] + w[i]


def atomic_sub(idx, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic
        h[idx[i]] -= 2


def atomic_mul(idx, m, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic update
        h[idx[i]] *= m[i]


def atomic_bitand(idx, bits, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic update
        h[idx[i]] &= bits[i]


def atomic_bitor(idx, bits, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic update
        h[idx[i]] |= bits[i]


def atomic_bitxor(idx, bits, h):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic update
        h[idx[i]] ^= bits[i]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64, np.float32, np.int8,
                                   np.uint8, np.int16, np.uint64, np.bool_])
def test_atomic_update_histogram(threads: int, dtype: type) -> None:
    # int8 and uint8 bins overflow and wrap, as NumPy's do
    idx = rng(110).integers(0, 10 if np.dtype(dtype).itemsize > 1 else 100, N)
    cf = check(atomic_add, idx, np.zeros(100, dtype), parallel=True)
    assert not remarks_of(cf, "race")


def test_atomic_update_weighted_float(threads: int) -> None:
    # quarter weights: every partial sum is exact, so any order gives CPython's result
    idx = rng(111).integers(0, 7, N)
    w = rng(112).integers(-8, 9, N) * 0.25
    check(atomic_add_weighted, idx, w, np.zeros(7), parallel=True)


def test_atomic_update_sub(threads: int) -> None:
    check(atomic_sub, rng(113).integers(0, 5, N), np.full(5, 10**6, np.int64), parallel=True)


def test_atomic_update_mul_signs(threads: int) -> None:
    m = rng(116).choice(np.array([1, -1], np.int64), N)
    check(atomic_mul, rng(117).integers(0, 9, N), m, np.arange(1, 10, dtype=np.int64),
          parallel=True)


@pytest.mark.parametrize("kernel", [atomic_bitand, atomic_bitor, atomic_bitxor])
def test_atomic_update_bitwise(threads: int, kernel: Callable[..., Any]) -> None:
    idx = rng(118).integers(0, 6, N)
    if kernel is atomic_bitand:
        bits = ~(np.int64(1) << rng(119).integers(0, 40, N))
        h = np.full(6, -1, np.int64)
    else:
        bits = np.int64(1) << rng(120).integers(0, 63, N)
        h = np.arange(6, dtype=np.int64)
    check(kernel, idx, bits, h, parallel=True)


def atomic_capture_before(cnt, seen, total):
    n = seen.shape[0]
    s = 0
    #pragma acc parallel loop reduction(+:s)
    for _i in range(n):
        #pragma acc atomic capture
        old = cnt[0]
        cnt[0] += 1
        #pragma acc end atomic
        #pragma acc atomic update
        seen[old] += 1
        s += old
    total[0] = s
    return s


def atomic_capture_after(cnt, seen, total):
    n = seen.shape[0]
    s = 0
    #pragma acc parallel loop reduction(+:s)
    for _i in range(n):
        #pragma acc atomic capture
        cnt[0] += 1
        new = cnt[0]
        #pragma acc end atomic
        #pragma acc atomic update
        seen[new - 1] += 1
        s += new
    total[0] = s
    return s


@pytest.mark.parametrize("kernel", [atomic_capture_before, atomic_capture_after])
def test_atomic_capture_shared_counter(threads: int, kernel: Callable[..., Any]) -> None:
    # every value of the counter is captured exactly once, whatever the order of the threads
    cf = check(kernel, np.zeros(1, np.int64), np.zeros(N, np.int64), np.zeros(1, np.int64),
               parallel=True)
    assert not remarks_of(cf, "race")


def atomic_capture_elementwise(x, a, old, new):
    n = x.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic capture
        old[i] = x[i]
        x[i] = x[i] + a[i]
        #pragma acc end atomic
        #pragma acc atomic capture
        x[i] += 1
        new[i] = x[i]
        #pragma acc end atomic


def test_atomic_capture_both_orders_elementwise(threads: int) -> None:
    check(atomic_capture_elementwise, ints(seed=121), ints(seed=122), np.zeros(N, np.int64),
          np.zeros(N, np.int64), parallel=True)


def atomic_capture_histogram(idx, h, before):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic capture
        v = h[idx[i]]
        h[idx[i]] += 1
        #pragma acc end atomic
        #pragma acc atomic update
        before[v] += 1


def test_atomic_capture_histogram(threads: int) -> None:
    # per bin the captured values are 0, 1, ..., count-1; `before` counts them over all bins
    idx = rng(123).integers(0, 4, N)
    check(atomic_capture_histogram, idx, np.zeros(4, np.int64), np.zeros(N, np.int64),
          parallel=True)


def atomic_read(x, a, b):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic read
        v = x[i % 3]
        b[i] = a[i] + v


def test_atomic_read(threads: int) -> None:
    check(atomic_read, np.array([1.5, -2.0, 4.25]), floats(seed=124), np.zeros(N),
          parallel=True)


def atomic_write(a, b, flag):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        #pragma acc atomic write
        b[i] = a[i] * 3.0
        if a[i] > 0.9995:
            #pragma acc atomic write
            flag[0] = 1


@pytest.mark.parametrize("top", [0.5, 1.0])
def test_atomic_write(threads: int, top: float) -> None:
    # with top=0.5 no element reaches the threshold and the flag stays 0
    check(atomic_write, floats(seed=125) * top, np.zeros(N), np.zeros(1, np.int64),
          parallel=True)


# ============================================================================ races


def race_shift(a):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(1, n):
        a[i] = a[i - 1] + 1


def race_scalar(a):
    n = a.shape[0]
    s = 1.0
    #pragma acc parallel loop
    for i in range(n):
        s = s * 0.5 + a[i]
    return s


def race_conditional_scalar(a, b):
    n = a.shape[0]
    t = 0.0
    #pragma acc parallel loop
    for i in range(n):
        if a[i] > 0.5:
            t = a[i]
        b[i] = t
    return t


def race_gang_loop(A):
    n, m = A.shape
    #pragma acc parallel
    #pragma acc loop gang
    for i in range(1, n):
        for j in range(m):
            A[i, j] = A[i - 1, j] * 0.5 + A[i, j]
    #pragma acc end parallel


def race_2d_parallel_loop(A):
    n, m = A.shape
    #pragma acc parallel loop
    for i in range(1, n):
        for j in range(m):
            A[i, j] = A[i - 1, j] + 1.0


def race_anti(a):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n - 1):
        a[i] = a[i + 1] * 2 + 1


def race_crossing(a):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        a[i] = a[n - 1 - i] + 1


def race_kernels_independent(a):
    n = a.shape[0]
    #pragma acc kernels
    #pragma acc loop independent
    for i in range(2, n):
        a[i] = a[i - 2] + a[i]
    #pragma acc end kernels


RACES: list[tuple[Callable[..., Any], Callable[[], tuple[Any, ...]]]] = [
    (race_2d_parallel_loop, lambda: (np.zeros((300, 200)),)),
    (race_anti, lambda: (ints(seed=135),)),
    (race_crossing, lambda: (ints(seed=136),)),
    (race_kernels_independent, lambda: (ints(seed=137),)),
    (race_shift, lambda: (ints(seed=130),)),
    (race_scalar, lambda: (floats(seed=131),)),
    (race_conditional_scalar, lambda: (floats(seed=132), np.zeros(N))),
    (race_gang_loop, lambda: (rng(133).random((300, 200)),)),
]


@pytest.mark.parametrize(("kernel", "data"), RACES, ids=[k.__name__ for k, _ in RACES])
def test_race_warns_and_runs_sequentially(threads: int, kernel: Callable[..., Any],
                                          data: Callable[[], tuple[Any, ...]]) -> None:
    args = data()
    expected_args = copy.deepcopy(args)
    expected = kernel(*expected_args)
    cf = accir.compile(kernel)  # fresh: the warning comes at the first call
    got_args = copy.deepcopy(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = cf(*got_args)
    races = [w for w in caught if issubclass(w.category, accir.RaceWarning)]
    assert len(races) == 1, [str(w.message) for w in caught]
    assert races[0].filename == __file__
    assert races[0].lineno == loop_line(kernel)
    assert "race" in str(races[0].message)
    assert_same(got, expected)
    for e, g in zip(expected_args, got_args, strict=True):
        if isinstance(e, np.ndarray):
            assert_same(g, e)
    assert loop_line(kernel) not in [r.line for r in remarks_of(cf, "parallelized")]
    assert [r.line for r in remarks_of(cf, "race")] == [loop_line(kernel)]
    # later calls give the same answer and warn no more
    again = copy.deepcopy(args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", accir.RaceWarning)
        assert_same(cf(*again), expected)


def test_trust_directives_emits_no_warning(threads: int) -> None:
    cf = accir.compile(race_shift, trust_directives=True)
    a = ints(seed=134)
    expected = a.copy()
    race_shift(expected)
    got = a.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", accir.RaceWarning)
        cf(got)
    assert not remarks_of(cf, "race")
    [remark] = remarks_of(cf, "parallelized")
    assert "trust" in remark.message
    if threads == 1:  # with one thread the trusted (racy) loop still gives CPython's answer
        assert_same(got, expected)


def test_trust_directives_on_a_correct_loop(threads: int) -> None:
    check(vv_parallel_loop, floats(seed=135), floats(seed=136), np.zeros(N), parallel=True,
          trust_directives=True)


def vv_scatter(a, idx, b):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        b[idx[i]] = a[i] * 2.0


def test_possible_race_is_honoured(threads: int) -> None:
    # an indirect store is a dependence the tests cannot rule out: reported, not a warning
    idx = rng(137).permutation(N)
    cf = check(vv_scatter, floats(seed=138), idx, np.zeros(N), parallel=True)
    assert remarks_of(cf, "possible-race")


# ============================================================================ errors


def vv_gather(a, idx, b):
    n = idx.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        b[i] = a[idx[i]] + 1.0


BAD_INDICES = {
    "one-late": {N - 17: N + 3},
    "one-early": {5: N},
    "two": {100: N + 1, 40_000: N + 2},
    "three-reversed": {N // 2 + 1: -N - 5, N // 2 + 2: N + 9, N - 1: N + 8},
    "negative": {N // 3: -N - 1},
}


@pytest.mark.parametrize("case", list(BAD_INDICES), ids=list(BAD_INDICES))
def test_index_error_in_parallel_loop(threads: int, case: str) -> None:
    a = floats(seed=140)
    idx = rng(141).integers(-N, N, N)
    for k, v in BAD_INDICES[case].items():
        idx[k] = v
    first = min(BAD_INDICES[case])
    b_py = np.zeros(N)
    with pytest.raises(IndexError) as py_err:
        vv_gather(a, idx, b_py)
    cf = compiled(vv_gather)
    b = np.zeros(N)
    with pytest.raises(IndexError) as acc_err:
        cf(a, idx, b)
    assert str(acc_err.value) == str(py_err.value)
    # the iterations before the failing one have done their work
    np.testing.assert_array_equal(b[:first], b_py[:first])
    # and the function still works afterwards
    check(vv_gather, a, rng(142).integers(-N, N, N), np.zeros(N), parallel=True)


def vv_gather_sum(a, idx):
    s = 0
    n = idx.shape[0]
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        s += a[idx[i]]
    return s


def vv_gather_collapse(A, idx, B):
    n, m = B.shape
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(m):
            B[i, j] = A[idx[i], j] * 2


def vv_divide(a, b, k):
    n = a.shape[0]
    #pragma acc parallel loop
    for i in range(n):
        b[i] = a[i] + 100 // (i - k)


def _raises_like_cpython(fn: Callable[..., Any], *args: Any) -> None:
    with pytest.raises(Exception) as py_err:
        fn(*copy.deepcopy(args))
    with pytest.raises(Exception) as acc_err:
        compiled(fn)(*copy.deepcopy(args))
    assert type(acc_err.value) is type(py_err.value)
    assert str(acc_err.value) == str(py_err.value)


def test_index_error_in_parallel_reduction(threads: int) -> None:
    idx = rng(143).integers(0, N, N)
    idx[[30_000, 45_000]] = [N + 4, -N - 9]
    _raises_like_cpython(vv_gather_sum, ints(seed=144), idx)
    assert remarks_of(compiled(vv_gather_sum), "parallelized")


def test_index_error_in_collapsed_nest(threads: int) -> None:
    idx = np.arange(300)
    idx[[200, 250]] = [-301, 400]
    _raises_like_cpython(vv_gather_collapse, np.ones((300, 200), np.int64), idx,
                         np.zeros((300, 200), np.int64))


@pytest.mark.parametrize("k", [10, 30_000, N - 1])
def test_zero_division_in_parallel_loop(threads: int, k: int) -> None:
    _raises_like_cpython(vv_divide, floats(seed=145), np.zeros(N), k)
    assert remarks_of(compiled(vv_divide), "parallelized")


# ============================================================================ Python threads


def vv_threaded(a, b, alpha):
    n = a.shape[0]
    s = 0
    #pragma acc parallel loop reduction(+:s)
    for i in range(n):
        b[i] = alpha * a[i] + b[i]
        s += b[i]
    return s


def test_called_from_four_python_threads(threads: int) -> None:
    cf = accir.compile(vv_threaded)  # fresh: the first calls also compile, concurrently
    inputs = [(ints(seed=150 + k), ints(seed=160 + k), k + 2) for k in range(4)]
    expected = []
    for a, b, alpha in inputs:
        bb = b.copy()
        expected.append((vv_threaded(a, bb, alpha), bb))
    barrier = threading.Barrier(4)
    failures: list[str] = []
    results: dict[int, list[Any]] = {}

    def worker(k: int) -> None:
        try:
            a, b, alpha = inputs[k]
            barrier.wait()
            outs = []
            for _ in range(5):
                bb = b.copy()
                outs.append((cf(a, bb, alpha), bb))
            results[k] = outs
        except BaseException as err:  # reported below
            failures.append(f"thread {k}: {type(err).__name__}: {err}")

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "a thread hangs"
    assert not failures, failures
    for k in range(4):
        assert len(results[k]) == 5
        for s, bb in results[k]:
            assert_same(s, expected[k][0])
            assert_same(bb, expected[k][1])
    assert remarks_of(cf, "parallelized")


# ============================================================================ remarks


def vv_recurrence(a, b):
    n = a.shape[0]
    for i in range(1, n):
        a[i] = a[i - 1] + b[i]


def test_remark_parallelized_names_the_loop_line(threads: int) -> None:
    cf = check(vv_parallel_loop, floats(seed=170), floats(seed=171), np.zeros(N),
               parallel=True)
    [remark] = remarks_of(cf, "parallelized")
    line = loop_line(vv_parallel_loop)
    assert remark.line == line
    assert remark.file == __file__
    assert f"line {line}" in remark.message
    assert remark.pass_name == "auto-parallelize"


def test_remark_recurrence_not_parallelized(threads: int) -> None:
    cf = check(vv_recurrence, floats(seed=172), floats(seed=173), parallel=False)
    [remark] = remarks_of(cf, "not-parallelized")
    assert remark.line == loop_line(vv_recurrence)
    assert "dependence" in remark.message
    assert not remarks_of(cf, "race")


def test_remark_to_json(threads: int) -> None:
    cf = check(red_add_int_implicit, ints(seed=174), parallel=True,
               cf=accir.compile(red_add_int_implicit))
    assert cf.remarks
    for remark in cf.remarks:
        data = json.loads(remark.to_json())
        assert {"kind", "line", "message"} <= set(data)
        assert data["kind"] == remark.kind
        assert data["line"] == remark.line
        assert data["message"] == remark.message
    parallel = [json.loads(r.to_json()) for r in remarks_of(cf, "parallelized")]
    assert [p["line"] for p in parallel] == [loop_line(red_add_int_implicit)]
    assert [json.loads(r.to_json())["kind"] for r in remarks_of(cf, "reduction")] == [
        "reduction"]


def vv_small_loop(a):
    for i in range(100):
        a[i] = a[i] + 1.0


def test_small_constant_loop_not_parallelized(threads: int) -> None:
    # too little work for a team: the loop runs on one thread (and says why)
    cf = check(vv_small_loop, floats(100, seed=175), parallel=False)
    [remark] = remarks_of(cf, "not-parallelized")
    assert "too little work" in remark.message
