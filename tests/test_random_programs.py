"""Property tests on random programs: accir computes what CPython computes.

tests/program_gen.py generates random, valid, terminating functions with loop nests over NumPy
arrays (see its docstring for what they contain and what they avoid) with 1-3 input data sets
each. For every data set, on fresh copies of the arguments:

1. `accir.compile(fn, target="cpu")` returns what CPython returns (type and value, bit for bit;
   NaN equals NaN whatever its payload, -0.0 differs from 0.0) and leaves every array argument
   (the whole buffer of a strided view) as CPython does; if CPython raises, accir raises the
   same exception class with the same message, with the arrays as they were at that point
   (test_cpu_matches_cpython);
2. so does `target="interp"` (test_interp_matches_cpython);
3. every pass keeps semantics: the default pipeline, and normalize followed by each other
   registered pass and by all of them, give what the minimal `pipeline="normalize"` gives, on
   the interpreter and on the CPU (test_passes_keep_semantics);
4. (1) and (2) with arrays in Fortran order, strided (`base[::2]`) and reversed views mixed
   with C-ordered ones (test_layouts_match_cpython), and with two array arguments that overlap
   in one buffer (test_aliased_arguments_match_cpython); both also on the CPU with every pass.

The only accepted difference is the documented promotion of an accumulator (`acc = 0;
acc += a[i]` returns np.float64(0.0) where CPython returns 0 when the loop does not run): a
program whose `Program.loose_return` is set may return a Python int/float where accir returns
an equal NumPy scalar.

A failure prints the program and its arguments (`Case.__repr__`); Hypothesis shrinks it.
Bugs found this way are pinned below as `test_regression_*` strict xfails.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from program_gen import Case, DataSet, Param, Program, cases, load

import accir
from accir.ir.printer import print_module
from accir.passes.manager import DEFAULT_PIPELINE
from accir.passes.registry import known_names

EXPECTED_ERRORS = (IndexError, ZeroDivisionError, ValueError, OverflowError)

# --- compiled functions, one per (source, target, pipeline) -------------------------------------

_COMPILED: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
_CACHE_SIZE = 512   # the functions of the latest programs (shrinking reruns them)


def compiled(source: str, target: str, pipeline: str = "default") -> Any:
    key = (source, target, pipeline)
    f = _COMPILED.get(key)
    if f is None:
        options = {} if pipeline == "default" else {"pipeline": pipeline}
        f = _COMPILED[key] = accir.compile(load(source), target=target, **options)
        if len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(key)
    return f


# --- running and comparing ---------------------------------------------------------------------

Outcome = tuple[str, Any, list[np.ndarray]]   # ("returned" | "raised", value, array buffers)


def run(fn: Callable[..., Any], case: Case, data: DataSet) -> Outcome:
    args, buffers = case.build_args(data)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        threads = accir.get_num_threads()
        try:
            if _honours_a_possible_race(fn, args):
                # A loop the generator declared parallel may race where the analysis cannot
                # tell (accir honours the directive, as OpenACC says): its result is only
                # defined on one thread, which runs the iterations in order.
                accir.set_num_threads(1)
            return "returned", fn(*args), buffers
        except Exception as err:  # compared below
            return "raised", err, buffers
        finally:
            accir.set_num_threads(threads)


def _honours_a_possible_race(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    if not isinstance(fn, accir.CompiledFunction):
        return False
    try:
        spec = fn.compile_for(*args)
    except Exception:  # the call reports it
        return False
    return any(r.kind == "possible-race" for r in spec.remarks)


def describe(kind: str, value: Any) -> str:
    if kind == "raised":
        return f"raised {type(value).__name__}: {value}"
    return f"returned {value!r} ({type(value).__name__})"


def same_scalar(x: Any, y: Any) -> bool:
    """Equal bit for bit, except that every NaN equals every NaN."""
    if isinstance(x, (float, np.floating)):
        fx, fy = float(x), float(y)
        if math.isnan(fx) or math.isnan(fy):
            return math.isnan(fx) and math.isnan(fy)
        return fx == fy and math.copysign(1.0, fx) == math.copysign(1.0, fy)
    return bool(x == y)


def same_result(expected: Any, actual: Any, loose: bool) -> bool:
    if type(expected) is type(actual):
        return expected is None or same_scalar(expected, actual)
    if not loose or type(expected) not in (int, float) or \
            not isinstance(actual, (float, np.generic)):
        return False
    # the documented promotion of a variable that still holds its literal: equal values
    return float(expected) == float(actual) and not math.isnan(float(actual))


def compare_arrays(expected: np.ndarray, actual: np.ndarray, rounding: bool = False) -> bool:
    """Equal, bit for bit; with `rounding`, floats may differ in their last bits."""
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return False
    if expected.dtype.kind != "f":
        return bool(np.array_equal(expected, actual))
    if rounding:
        return bool(np.allclose(expected, actual, rtol=1e-12, atol=1e-12, equal_nan=True))
    numbers = ~np.isnan(expected)
    return bool(np.array_equal(expected, actual, equal_nan=True)
                and np.array_equal(np.signbit(expected[numbers]), np.signbit(actual[numbers])))


def differences(expected: Outcome, actual: Outcome, program: Program,
                arrays_after_error: bool = True, rounding: bool = False) -> list[str]:
    (ek, ev, ebufs), (ak, av, abufs) = expected, actual
    if ak == "raised" and isinstance(av, accir.AccirError):
        return [f"accir rejected the program:\n{av}"]
    problems = []
    if ek != ak or (ek == "raised" and (type(ev) is not type(av) or str(ev) != str(av))) or (
            ek == "returned" and not same_result(ev, av, program.loose_return)):
        problems.append(f"expected {describe(ek, ev)}; got {describe(ak, av)}")
    if ek == ak == "raised" and not arrays_after_error:
        return problems
    names = [p.name for p in program.params if p.kind == "array"]
    for name, e, a in zip(names, ebufs, abufs, strict=True):
        if not compare_arrays(e, a, rounding):
            problems.append(f"array {name} differs:\n  expected {e!r}\n  got      {a!r}")
    return problems


def check_against_cpython(case: Case, configs: list[tuple[str, str]],
                          arrays_after_error: bool = True) -> None:
    """Each (target, pipeline) gives CPython's outcome on every data set."""
    program = case.program
    failures = []
    for data in case.datasets:
        expected = run(load(program.source), case, data)
        if expected[0] == "raised" and not isinstance(expected[1], EXPECTED_ERRORS):
            raise AssertionError(f"generator bug: CPython raised {expected[1]!r}\n{case!r}")
        for target, pipeline in configs:
            fn = compiled(program.source, target, pipeline)
            actual = run(fn, case, data)
            # documented (docs/parallel.md): when an iteration of a parallel loop raises,
            # iterations after it that other threads ran have written their results
            after_error = arrays_after_error and not _runs_parallel_loops(fn)
            for problem in differences(expected, actual, program, after_error,
                                       _reassociates(fn)):
                failures.append(f"[{target}, pipeline {pipeline}, sizes {data.sizes}] "
                                f"{problem}")
    assert not failures, _report(case, failures)


def _reassociates(fn: Any) -> bool:
    """Whether a directive made accir combine float partial results in thread order (the
    user asserted the loop parallel; the remark says the rounding differs)."""
    return any("rounding differs" in r.message for r in fn.remarks)


def _runs_parallel_loops(fn: Any) -> bool:
    return any("parallel(" in print_module(spec.ir) for spec in fn.specializations)


def _other_pipelines() -> list[str]:
    """The default pipeline, and normalize followed by each other pass and by all of them."""
    passes = [p for p in known_names() if p != "normalize" and not p.startswith("test-")]
    candidates = [f"normalize,{p}" for p in passes]
    if len(passes) > 1:
        candidates.append(",".join(["normalize", *passes]))
    return ["default", *(p for p in candidates if p != DEFAULT_PIPELINE)]


OTHER_PIPELINES = _other_pipelines()
# every pass: the aliasing and layout properties run it on the CPU besides the default pipeline
ALL_PASSES = OTHER_PIPELINES[-1]


def check_pipelines(case: Case, targets: tuple[str, ...]) -> None:
    """Every pass keeps semantics: the pipelines of OTHER_PIPELINES give what
    pipeline="normalize" (the minimal pipeline) gives, on each target."""
    program = case.program
    strict = Program(program.source, program.params, loose_return=False)
    failures = []
    for data in case.datasets:
        for target in targets:
            reference = run(compiled(program.source, target, "normalize"), case, data)
            for pipeline in OTHER_PIPELINES:
                fn = compiled(program.source, target, pipeline)
                actual = run(fn, case, data)
                after_error = not _runs_parallel_loops(fn)  # see check_against_cpython
                for problem in differences(reference, actual, strict, after_error):
                    failures.append(f"[{target}: pipeline {pipeline} vs normalize, sizes "
                                    f"{data.sizes}] {problem}")
    assert not failures, _report(case, failures)


def _report(case: Case, failures: list[str]) -> str:
    return "\n".join([*failures, "", repr(case)])


# --- the properties ----------------------------------------------------------------------------

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# the slowest property (2 * (1 + len(OTHER_PIPELINES)) compilations per example) runs at most
# 60 examples, except with a
# profile meant to search long ("thorough": 1000)
_PROFILE_EXAMPLES = settings.default.max_examples
FEWER = _PROFILE_EXAMPLES if _PROFILE_EXAMPLES >= 500 else min(_PROFILE_EXAMPLES, 60)


@settings(deadline=None, suppress_health_check=HEALTH)
@given(cases(layouts="C"))
def test_cpu_matches_cpython(case: Case) -> None:
    check_against_cpython(case, [("cpu", "default")])


@settings(deadline=None, suppress_health_check=HEALTH)
@given(cases(layouts="C"))
def test_interp_matches_cpython(case: Case) -> None:
    check_against_cpython(case, [("interp", "default")])


@settings(deadline=None, suppress_health_check=HEALTH, max_examples=FEWER)
@given(cases(layouts="mixed"))
def test_passes_keep_semantics(case: Case) -> None:
    check_pipelines(case, ("interp", "cpu"))


@settings(deadline=None, suppress_health_check=HEALTH)
@given(cases(layouts="other"))
def test_layouts_match_cpython(case: Case) -> None:
    check_against_cpython(case, [("cpu", "default"), ("interp", "default"), ("cpu", ALL_PASSES)])


@settings(deadline=None, suppress_health_check=HEALTH, max_examples=FEWER)
@given(cases(layouts="C", aliasing=True))
def test_aliased_arguments_match_cpython(case: Case) -> None:
    """A and B overlap (the same array, or B one or two rows further into A's buffer): compiled
    code must see its own writes through the other name, as CPython does."""
    check_against_cpython(case, [("cpu", "default"), ("interp", "default"), ("cpu", ALL_PASSES)])


# every loop worth parallelising is, however little work it has
EAGER_PARALLEL = DEFAULT_PIPELINE.replace("auto-parallelize", "auto-parallelize{min_work=1}")


@settings(deadline=None, suppress_health_check=HEALTH, max_examples=FEWER)
@given(cases(layouts="mixed"), st.sampled_from([2, 3]))
def test_parallel_loops_match_cpython(case: Case, threads: int) -> None:
    """With every parallelisable loop run on 2 or 3 threads, results are CPython's. When
    CPython raises, accir raises the same error (that of the earliest failing iteration);
    the arrays may then differ, since later iterations on other threads may have run
    (documented in docs/parallel.md)."""
    old = accir.get_num_threads()
    accir.set_num_threads(threads)
    try:
        check_against_cpython(case, [("cpu", EAGER_PARALLEL)], arrays_after_error=False)
    finally:
        accir.set_num_threads(old)


# --- the generator itself ----------------------------------------------------------------------


def test_generated_source_is_importable() -> None:
    source = "import math\n\nimport numpy as np\n\n\ndef kernel(A, n):\n    return n\n"
    assert load(source)(np.zeros(1), 3) == 3
    assert load(source) is load(source)


# --- regressions: minimal programs for the bugs the properties found ------------------------


def _program(source: str, *params: Param) -> Program:
    return Program(source, params, loose_return=False)


def _regression(source: str, params: tuple[Param, ...], values: tuple[Any, ...],
                configs: list[tuple[str, str]]) -> None:
    program = _program(source, *params)
    sizes = {"N": len(values[0]) if isinstance(values[0], np.ndarray) else 0}
    layouts = tuple("C" if p.kind == "array" else "-" for p in params)
    check_against_cpython(Case(program, layouts, (DataSet(sizes, values),)), configs)


A1 = Param("A", "array", "f64", ("N",))
A2 = Param("A", "array", "f64", ("N", "M"))


# Differences from CPython that docs/guide.md documents ("Known differences"): strict xfails,
# so that a change of behaviour shows.


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="documented: an out-of-range "
                   "second subscript of a[i][j] names axis 1 of a; CPython (a[i] is a 1-D view) names "
                   "axis 0")
def test_regression_chained_subscript_error_axis() -> None:
    source = "def kernel(A):\n    return A[0][0]\n"
    # CPython: IndexError: index 0 is out of bounds for axis 0 with size 0
    # accir (cpu and interp): IndexError: index 0 is out of bounds for axis 1 with size 0
    _regression(source, (A2,), (np.zeros((1, 0)),), [("cpu", "default"), ("interp", "default")])


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="documented: a Python int and a "
                   "Python float compare after converting the int to float64 (2**53 + 1 <= 2.0**53 "
                   "is True); CPython compares them exactly (False)")
def test_regression_int_float_comparison_is_exact() -> None:
    source = ("def kernel(A, x):\n"
              "    if x <= x * 1.0:\n"
              "        A[0] = 1.0\n")
    # CPython: A stays [0.0, 0.0] (2**53 + 1 > 2.0**53); accir (cpu and interp): A == [1.0, 0.0]
    x = Param("x", "x", "int", big=True)
    _regression(source, (A1, x), (np.zeros(2), 2**53 + 1),
                [("cpu", "default"), ("interp", "default")])


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="documented: cpu: true division "
                   "of Python ints past 2**53 converts both operands to float64 first; CPython (and "
                   "the interpreter) round the exact quotient: (2**53 + 1) / 3 is "
                   "3002399751580331.0, the cpu target gives 3002399751580330.5")
def test_regression_int_true_division_rounding() -> None:
    source = "def kernel(A, x):\n    return x / 3\n"
    x = Param("x", "x", "int", big=True)
    _regression(source, (A1, x), (np.zeros(1), 2**53 + 1), [("cpu", "default")])


@pytest.mark.parametrize("value", [2**40, np.int64(2**40)], ids=["int", "np.int64"])
def test_regression_store_checks_index_first(value: Any) -> None:
    source = "def kernel(A, x):\n    A[0] = x\n"
    # IndexError (the subscript is checked before the value is converted), as in CPython
    a = Param("A", "array", "i32", ("N",))
    x = Param("x", "x", "int" if isinstance(value, int) else "i64", big=True)
    _regression(source, (a, x), (np.zeros(0, np.int32), value),
                [("cpu", "default"), ("interp", "default")])


def test_regression_int_operand_checked_before_next_operand() -> None:
    source = "def kernel(A, x):\n    return x - A[5]\n"
    # IndexError from A[5] before the OverflowError of converting x, as in CPython
    a = Param("A", "array", "i32", ("N",))
    x = Param("x", "x", "int", big=True)
    _regression(source, (a, x), (np.zeros(1, np.int32), 2**40),
                [("cpu", "default"), ("interp", "default")])


# Fixed bugs (fixed in 14e078d unless said otherwise): plain tests, so that they stay fixed.


def test_regression_directive_after_elif() -> None:
    """Was (fixed in 0488ad8): a directive right after an if/elif chain without else was taken
    for a directive of the (empty) else block: DirectiveSyntaxError: 'parallel loop' directive
    is not followed by a statement in its block."""
    source = ("def kernel(A):\n"
              "    if A.shape[0] > 5:\n"
              "        A[0] += 0\n"
              "    elif A.shape[0] > 3:\n"
              "        A[0] += 1\n"
              "    #pragma acc parallel loop\n"
              "    for i in range(A.shape[0]):\n"
              "        A[i] += 2.0\n")
    _regression(source, (A1,), (np.zeros(2),), [("cpu", "default"), ("interp", "default")])


def test_int_true_division_rounding_interp() -> None:
    """The interpreter gets the division of test_regression_int_true_division_rounding right."""
    source = "def kernel(A, x):\n    return x / 3\n"
    x = Param("x", "x", "int", big=True)
    _regression(source, (A1, x), (np.zeros(1), 2**53 + 1), [("interp", "default")])


def test_regression_constant_zero_range_step() -> None:
    """Was: a range() with a constant zero step was rejected at compile time (AccirTypeError),
    even on a path that never runs; CPython raises ValueError only when the loop is reached."""
    source = ("def kernel(A, n):\n"
              "    if n > 100:\n"
              "        for i in range(0, n, 1 % 3 - 1):\n"
              "            A[i] = 1.0\n"
              "    for i in range(0, n, 1 % 3 - 1):\n"
              "        A[i] = 2.0\n"
              "    return n\n")
    # CPython: ValueError: range() arg 3 must not be zero, at the second loop
    n = Param("n", "n", "int")
    _regression(source, (A1, n), (np.zeros(3), 3), [("cpu", "default"), ("interp", "default")])


def test_regression_float_by_int_zero_message() -> None:
    """Was: a Python float divided by the Python int 0 raised 'ZeroDivisionError: division by
    zero'; CPython says 'float division by zero'."""
    source = "def kernel(A, x):\n    s = 1.5\n    s /= x\n    return s\n"
    x = Param("x", "x", "int")
    _regression(source, (A1, x), (np.zeros(1), 0), [("cpu", "default"), ("interp", "default")])


def test_regression_narrowing_integer_store() -> None:
    """Was: storing a NumPy integer that does not fit the element type (np.int64(2**40 + 3)
    into an int32 array) wrapped silently; NumPy raises OverflowError: Python integer
    1099511627779 out of bounds for int32."""
    source = "def kernel(B, v):\n    B[0] = v\n"
    b = Param("B", "array", "i32", ("N",))
    v = Param("v", "x", "i64")
    _regression(source, (b, v), (np.zeros(2, np.int32), np.int64(2**40 + 3)),
                [("cpu", "default"), ("interp", "default")])


def test_regression_while_chain_with_call() -> None:
    """Was: a chained comparison whose middle operand calls a function, in a while condition,
    was rejected ('this while condition needs a temporary; compute it in the loop body')."""
    source = ("def scale(a, b=2):\n"
              "    return a * b - 1\n"
              "\n"
              "\n"
              "def kernel(A, m):\n"
              "    w = 0\n"
              "    while w < 3 and (m < scale(w) < 10):\n"
              "        w += 1\n"
              "        A[0] += 1.0\n"
              "    return w\n")
    m = Param("m", "x", "int")
    _regression(source, (A1, m), (np.zeros(2), 0), [("cpu", "default"), ("interp", "default")])
    _regression(source, (A1, m), (np.zeros(2), -4), [("cpu", "default"), ("interp", "default")])
