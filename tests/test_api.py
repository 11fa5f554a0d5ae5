"""The public API: decorator forms, lazy specialisation, caching, inspection, objects."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import accir
from accir.ir.types import F32, F64, PYFLOAT, PYINT, ArrayType

SCALE = 3.0
OFFSETS = np.array([1.0, 2.0, 3.0])


def add_scaled(x, y, a):
    for i in range(x.shape[0]):
        y[i] = y[i] + a * x[i]


def total(a):
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j]
    return s


def uses_globals(a):
    for i in range(len(a)):
        a[i] = a[i] * SCALE + OFFSETS[i % 3]


def make_closure(k):
    def inner(a):
        for i in range(len(a)):
            a[i] += k

    return inner


class Stencil:
    DATA_TYPE = np.float32

    def __init__(self, n):
        self.N = n

    @accir.compile
    def run(self, a):
        s = self.DATA_TYPE(0)
        for i in range(self.N):
            s += a[i]
        return s


def test_decorator_forms():
    @accir.compile
    def plain(x):
        return x + 1

    @accir.compile(target="cpu")
    def with_options(x):
        return x * 2

    called = accir.compile(add_scaled, target="interp")
    assert isinstance(plain, accir.CompiledFunction)
    assert plain(1) == 2 and with_options(2.5) == 5.0
    y = np.zeros(3)
    called(np.ones(3), y, 2.0)
    assert y.tolist() == [2.0, 2.0, 2.0]
    assert called.target == "interp" and plain.target == "cpu"


def test_unknown_target_is_rejected():
    with pytest.raises(ValueError, match="unknown target 'gpu9'"):
        accir.compile(add_scaled, target="gpu9")


def test_compiles_lazily_and_caches_per_signature():
    f = accir.compile(total)
    assert f.specializations == []
    a = np.arange(12.0).reshape(3, 4)
    assert f(a) == total(a)
    first = f.specializations[0]
    f(a + 1)
    assert f.specializations == [first]  # same signature: cached
    f(np.asfortranarray(a))
    f(a[:, ::2])
    f(a.astype(np.float32))
    layouts = [(s.signature[0].dtype, s.signature[0].layout) for s in f.specializations]
    assert layouts == [(F64, "C"), (F64, "F"), (F64, "A"), (F32, "C")]


@pytest.mark.parametrize("make", [np.ascontiguousarray, np.asfortranarray, lambda a: a[::2, ::3]])
def test_layouts_give_cpython_results(make):
    base = np.arange(60.0).reshape(6, 10) * 0.5
    a = make(base)
    assert accir.compile(total)(a) == total(a)


def test_scalar_kinds_are_distinct_signatures():
    f = accir.compile(add_scaled)
    x, y = np.ones(4), np.zeros(4)
    f(x, y, 2)
    f(x, y, 2.0)
    f(x, y, np.float32(2.0))
    kinds = [s.signature[2] for s in f.specializations]
    assert kinds == [PYINT, PYFLOAT, F32]
    assert y.tolist() == [6.0] * 4


def test_return_types_follow_cpython():
    f = accir.compile(total)
    assert type(f(np.ones((2, 2)))) is np.float64
    assert type(f(np.ones((2, 2), np.float32))) is np.float32

    @accir.compile
    def half(n):
        return n / 2

    assert half(3) == 1.5 and type(half(3)) is float


def test_inspection_artifacts():
    f = accir.compile(add_scaled)
    with pytest.raises(RuntimeError, match="call it first"):
        f.inspect_ir()
    f(np.ones(8), np.zeros(8), 1.0)
    assert "func @add_scaled(%x: memref<?xf64, C>" in f.inspect_ir()
    assert "define" in f.inspect_llvm(optimized=False)
    assert "define" in f.inspect_llvm()
    assert f.inspect_asm().strip()
    sig = f.signatures[0]
    assert sig == (ArrayType(F64, 1, "C"), ArrayType(F64, 1, "C"), PYFLOAT)
    assert f.inspect_ir(sig) == f.inspect_ir()


def test_globals_are_frozen_and_global_arrays_live():
    f = accir.compile(uses_globals)
    a = np.ones(6)
    expected = a.copy()
    uses_globals(expected)
    f(a)
    assert np.array_equal(a, expected)
    OFFSETS[0] = 10.0  # the array is passed by reference: changes are seen
    try:
        b, expected = np.ones(6), np.ones(6)
        uses_globals(expected)
        f(b)
        assert np.array_equal(b, expected)
    finally:
        OFFSETS[0] = 1.0


def test_closures():
    inner = make_closure(5)
    a = np.zeros(3, dtype=np.int64)
    accir.compile(inner)(a)
    assert a.tolist() == [5, 5, 5]


class Model:
    def __init__(self, k):
        self.k = k

    def scale(self, x):
        return self.k * x

    @accir.compile
    def shift(self, i):
        return i + self.k

    @accir.compile
    def run(self, a):
        for i in range(len(a)):
            a[i] = self.scale(a[i]) + self.shift(i)
        return self.scale(2)


def test_compiled_method_calls_other_methods_of_self():
    """self.other(x) inside a compiled method: a plain method and a compiled one."""
    for k in (3, 0.5):
        model = Model(k)
        a, expected = np.arange(5.0), np.arange(5.0)
        got = model.run(a)
        want = Model.run.py_func(model, expected)
        assert np.array_equal(a, expected)
        assert got == want and type(got) is type(want)


def test_bound_methods_and_object_attributes():
    st = Stencil(3)
    a = np.arange(5, dtype=np.float32)
    assert st.run(a) == np.float32(3.0)
    assert type(st.run(a)) is np.float32
    assert Stencil(5).run(a) == np.float32(10.0)  # another N: another specialisation
    method = accir.compile(Stencil(2).run.py_func.__get__(Stencil(2)))
    assert method(a) == np.float32(1.0)


def test_keyword_arguments():
    f = accir.compile(add_scaled)
    y = np.zeros(2)
    f(np.ones(2), a=4.0, y=y)
    assert y.tolist() == [4.0, 4.0]


def test_overlapping_arrays_take_the_safe_path():
    def shift(a, b):
        for i in range(len(b)):
            b[i] = a[i] + 1.0

    f = accir.compile(shift)
    x, ref = np.arange(10.0), np.arange(10.0)
    f(x[:-1], x[1:])
    shift(ref[:-1], ref[1:])
    assert np.array_equal(x, ref)


def test_read_only_destination_raises_like_numpy():
    f = accir.compile(add_scaled)
    y = np.zeros(3)
    y.setflags(write=False)
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        f(np.ones(3), y, 1.0)


def test_errors_and_none_are_raised_and_returned_after_numba_ran():
    """Numba registers JIT symbols named `PyExc_ValueError` (and others) that point elsewhere:
    accir's code must not use them (it crashed raising this error after Numba had run)."""
    numba = pytest.importorskip("numba")
    numba.njit(lambda x: x + 1)(1.0)
    test_read_only_destination_raises_like_numpy()
    f = accir.compile(add_scaled)
    assert f(np.ones(3), np.zeros(3), 1.0) is None


def test_allocation_dtype_given_by_name():
    def fill(a, n):
        t = np.zeros(n, dtype="float32")
        u = np.ones(n, "int32")
        for i in range(n):
            t[i] = a[i] / 3.0
            a[i] = t[i] + u[i]
        return t[n - 1]

    f = accir.compile(fill)
    a, expected = np.arange(4.0), np.arange(4.0)
    got, want = f(a, 4), fill(expected, 4)
    assert got == want and type(got) is type(want) is np.float32
    assert np.array_equal(a, expected)


def test_python_int_out_of_range():
    @accir.compile
    def ident(n):
        return n + 0

    assert ident(2**62) == 2**62
    assert ident(2**63 - 1) == 2**63 - 1 and ident(-(2**63)) == -(2**63)
    for value in (2**70, 2**63, -(2**63) - 1):  # the native guard hands them to the dispatcher
        with pytest.raises(accir.UnsupportedError) as info:
            ident(value)
        assert info.value.message == (f"argument 'n' is {value}, which does not fit in the "
                                      "64-bit integers accir compiles")
    assert len(ident.specializations) == 1


def test_unsupported_argument_types():
    f = accir.compile(total)
    with pytest.raises(accir.UnsupportedError, match="argument 'a' is a list"):
        f([[1.0]])
    with pytest.raises(accir.UnsupportedError, match="float16"):
        f(np.ones((2, 2), np.float16))


def test_threads_share_a_compiled_function():
    f = accir.compile(total)
    arrays = [np.full((50, 50), float(k)) for k in range(8)]
    results: dict[int, float] = {}

    def work(k):
        for _ in range(20):
            results[k] = f(arrays[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: 2500.0 * k for k in range(8)}


def test_math_module_semantics():
    @accir.compile
    def root(x):
        return math.sqrt(x)

    assert root(4.0) == 2.0
    with pytest.raises(ValueError, match="math domain error"):
        root(-1.0)


def default_none_ok(a, b, n):
    #pragma acc data copyin(a) copyout(b)
    #pragma acc parallel loop default(none) firstprivate(n)
    for i in range(n):
        t = a[i] * 2.0
        b[i] = t
    #pragma acc end data


def default_none_missing(a, b, n):
    #pragma acc parallel loop default(none) copyin(a) firstprivate(n)
    for i in range(n):
        b[i] = a[i]


def test_default_none_is_checked():
    a, b = np.ones(4), np.zeros(4)
    accir.compile(default_none_ok)(a, b, 4)
    assert b.tolist() == [2.0] * 4
    with pytest.raises(accir.DirectiveSyntaxError) as info:
        accir.compile(default_none_missing)(a, b, 4)
    err = info.value
    assert err.message.startswith("default(none): 'b' has no data clause on this "
                                  "'parallel loop' construct (used at line ")
    assert err.loc.line == default_none_missing.__code__.co_firstlineno + 1
    assert "copyin(b), present(b) or firstprivate(b)" in str(err)


def while_with_call(a, n):
    k = 0
    while 0 <= _twice(k) < n:
        a[k] += 1.0
        k += 1
    return k


def _twice(x):
    return 2 * x


def zero_step(a, n, step):
    if n > 100:
        for i in range(0, n, step - step):
            a[i] = 1.0
    return n


@pytest.mark.parametrize("target", ["cpu", "interp"])
def test_while_condition_with_a_call_and_zero_steps(target):
    a, ref = np.zeros(10), np.zeros(10)
    assert accir.compile(while_with_call, target=target)(a, 9) == while_with_call(ref, 9)
    assert np.array_equal(a, ref)
    f = accir.compile(zero_step, target=target)
    assert f(a, 3, 1) == 3  # the zero step is never reached: nothing raises
    with pytest.raises(ValueError, match=r"range\(\) arg 3 must not be zero"):
        f(a, 200, 1)


def increment_all(x):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] = x[i, j] + 1.0


def test_self_overlapping_views_take_the_safe_path():
    """A strided view can repeat elements (as_strided); the analysis assumes it does not, so
    every call checks, and such an array runs the version compiled without the assumption."""
    from numpy.lib.stride_tricks import as_strided

    f = accir.compile(increment_all)
    plain = np.zeros((6, 8))[::2, ::2]
    f(plain)
    assert plain.sum() == 12.0 and not f._aliased
    buf, ref = np.zeros(16), np.zeros(16)
    f(as_strided(buf, shape=(3, 4), strides=(8, 8), writeable=True))
    increment_all(as_strided(ref, shape=(3, 4), strides=(8, 8), writeable=True))
    assert np.array_equal(buf, ref) and len(f._aliased) == 1


def test_overlap_aware_analysis_of_strided_arrays():
    from accir.analysis.dependence import DependenceAnalysis
    from accir.analysis.manager import AnalysisManager
    from accir.frontend.lower import lower_function

    fn = lower_function(increment_all, [ArrayType(F64, 2, "A")]).module.entry
    checked = AnalysisManager(noalias=True).get(DependenceAnalysis, fn)
    unchecked = AnalysisManager(noalias=False).get(DependenceAnalysis, fn)
    assert not [d for d in checked.dependences if d.carried]
    assert [d for d in unchecked.dependences if d.carried]  # elements may repeat
