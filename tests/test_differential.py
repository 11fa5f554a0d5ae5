"""Differential tests: CPython is the reference semantics of accir.

Every kernel of tests/corpus/ is run three times on deep copies of the same arguments: by CPython
(the undecorated function), by `accir.compile(fn, target="cpu")` and by
`accir.compile(fn, target="interp")`. The return values (value and type) and every array
argument afterwards must match, and so must exceptions (class and message, with the arrays as
they were when it was raised).

Each case also runs with its array arguments as Fortran-ordered copies, as strided views into
bigger buffers (positive and negative strides; the whole buffer is compared, so writes outside
the view are caught) and narrowed to float32/complex64.

Known compiler bugs are listed in KNOWN_BUGS as strict xfails.
"""

from __future__ import annotations

import copy
import importlib
import math
import re
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from corpus import MODULES, Case

import accir

CORPUS = {name: importlib.import_module(f"corpus.{name}") for name in MODULES}
TARGETS = ("cpu", "interp")

# Test ids `module.fn[size]-variant` (`*` matches anything; no `-variant`: all variants) of
# the parametrizations whose CPython result accir does not reproduce: each runs as a strict
# xfail, so a change in behaviour shows. Every one is either an open bug or a difference
# documented in docs/guide.md ("Known differences").
KNOWN_BUGS: dict[str, str] = {
    "features.row_of_row_oob[*]":
        "documented: A[i][j] out of range names its axis in A ('axis 1'); CPython indexes the "
        "row A[i] and says 'axis 0'",
    "features.write_read_only[*]":
        "documented: writing to a read-only array raises on entry, before the writes to other "
        "arrays that CPython does first",
    "integers.int_float_compare_exact[*]":
        "documented: a Python int compared with a Python float is rounded to a float first "
        "(2**53 + 1 == 2.0**53 is True); CPython compares exactly",
    "integers.python_int_true_division[*]":
        "documented: int / int of values above 2**53 is float(n) / float(m), not correctly "
        "rounded as in CPython",
    "integers.int_reciprocal[*]":
        "documented: np.reciprocal of integers is not compiled (NumPy's result for 0 depends "
        "on the platform)",
    "types.math_gamma[*]":
        "documented: math.gamma is not compiled (CPython computes it with its own code)",
    "types.math_lgamma[*]":
        "documented: math.lgamma is not compiled (CPython computes it with its own code)",
}


# --- compiled functions, cached per test process -------------------------------------------

_COMPILED: dict[tuple[Any, str], Any] = {}


def compiled(fn: Callable[..., Any], target: str) -> Any:
    key = (fn, target)
    f = _COMPILED.get(key)
    if f is None:
        f = _COMPILED[key] = accir.compile(fn, target=target)
    return f


# --- variants of the arguments ---------------------------------------------------------------


def _arrays(args: tuple[Any, ...]) -> list[np.ndarray]:
    return [a for a in args if isinstance(a, np.ndarray)]


def _fortran(a: np.ndarray) -> np.ndarray:
    return np.asfortranarray(a) if a.ndim >= 2 else a


def _strided(a: np.ndarray) -> np.ndarray:
    """An equal view with stride 2 and offset 1 on every axis into a buffer of sentinels."""
    if a.ndim == 0:
        return a
    buf = np.full(tuple(2 * s + 1 for s in a.shape), 7, dtype=a.dtype)
    view = buf[tuple(slice(1, None, 2) for _ in a.shape)]
    view[...] = a
    return view


def _reversed(a: np.ndarray) -> np.ndarray:
    """An equal view with negative strides on every axis."""
    if a.ndim == 0:
        return a
    flip = tuple(slice(None, None, -1) for _ in a.shape)
    return a[flip].copy()[flip]


_NARROW = {np.dtype(np.float64): np.float32, np.dtype(np.complex128): np.complex64}


def _float32(a: np.ndarray) -> np.ndarray:
    return a.astype(_NARROW[a.dtype]) if a.dtype in _NARROW else a


VARIANTS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[Case, list], bool]]] = {
    # name: (how each array argument is transformed, whether the variant applies to a case)
    "c": (lambda a: a, lambda case, arrays: True),
    "fortran": (_fortran, lambda case, arrays: case.layouts and any(a.ndim >= 2 for a in arrays)),
    "strided": (_strided, lambda case, arrays: case.layouts and any(a.ndim for a in arrays)),
    "reversed": (_reversed, lambda case, arrays: case.layouts and any(a.ndim for a in arrays)),
    "float32": (_float32, lambda case, arrays: case.float32 and any(a.dtype in _NARROW
                                                                  for a in arrays)),
}


def transform(args: tuple[Any, ...], variant: str) -> tuple[Any, ...]:
    """The arguments with each array transformed; an array passed twice stays one array."""
    fn = VARIANTS[variant][0]
    done: dict[int, np.ndarray] = {}
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            if id(a) not in done:
                done[id(a)] = fn(a)
            a = done[id(a)]
        out.append(a)
    return tuple(out)


def seed(case_id: str, size: int) -> int:
    return zlib.crc32(f"{case_id}[{size}]".encode())


# --- comparison ------------------------------------------------------------------------------

_PY_RANK = {bool: 0, int: 1, float: 2, complex: 3}


def result_type_allowed(expected: type, actual: type) -> bool:
    """accir's result type is CPython's, or a NumPy promotion of it (a variable's type is the
    promotion of everything assigned to it, and min/max of mixed types promote)."""
    if expected is actual:
        return True
    if expected in _PY_RANK and actual in _PY_RANK:
        return _PY_RANK[actual] >= _PY_RANK[expected]
    if not (isinstance(actual, type) and issubclass(actual, np.generic)):
        return False
    if expected in _PY_RANK:  # a Python scalar is weak (NEP 50)
        return np.result_type(expected(0), actual) == np.dtype(actual)
    if isinstance(expected, type) and issubclass(expected, np.generic):
        return np.promote_types(expected, actual) == np.dtype(actual)
    return False


def _same_float(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y and math.copysign(1.0, x) == math.copysign(1.0, y)


def same_scalar(x: Any, y: Any, rtol: float) -> bool:
    """Exact equality (NaN equals NaN, -0.0 differs from 0.0) unless rtol is set."""
    if isinstance(x, (complex, np.complexfloating)) or isinstance(y, (complex, np.complexfloating)):
        cx, cy = complex(x), complex(y)
        return (same_scalar(cx.real, cy.real, rtol) and same_scalar(cx.imag, cy.imag, rtol))
    if isinstance(x, (float, np.floating)) or isinstance(y, (float, np.floating)):
        fx, fy = float(x), float(y)
        if rtol and math.isfinite(fx) and math.isfinite(fy):
            return math.isclose(fx, fy, rel_tol=rtol, abs_tol=rtol)
        return _same_float(fx, fy)
    return int(x) == int(y)


def compare_arrays(expected: np.ndarray, actual: np.ndarray, rtol: float) -> str | None:
    """A description of the difference, or None."""
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return f"{actual.dtype}{actual.shape} instead of {expected.dtype}{expected.shape}"
    if rtol and expected.dtype.kind in "fc":
        try:
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol, equal_nan=True)
        except AssertionError as err:
            return str(err)
        return None
    parts = [(expected, actual)]
    if expected.dtype.kind == "c":
        parts = [(expected.real, actual.real), (expected.imag, actual.imag)]
    for e, a in parts:
        equal = np.array_equal(e, a, equal_nan=e.dtype.kind == "f")
        if equal and e.dtype.kind == "f":
            equal = np.array_equal(np.signbit(e), np.signbit(a))
        if not equal:
            return f"\nexpected {expected!r}\nactual   {actual!r}"
    return None


def run(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return "returned", fn(*args)
        except Exception as err:  # compared with CPython's below
            return "raised", err


def describe(outcome: tuple[str, Any]) -> str:
    kind, value = outcome
    if kind == "raised":
        return f"raised {type(value).__name__}: {value}"
    return f"returned {value!r} ({type(value).__name__})"


def compare_outcomes(expected: tuple[str, Any], actual: tuple[str, Any], rtol: float
                     ) -> str | None:
    (ek, ev), (ak, av) = expected, actual
    if ek == ak == "raised" and type(ev) is TypeError and isinstance(av, accir.AccirTypeError):
        return None  # a TypeError of CPython's found when compiling
    if ak == "raised" and isinstance(av, accir.AccirError):
        return f"accir did not compile it:\n{av}"
    if ek != ak:
        return f"CPython {describe(expected)}, accir {describe(actual)}"
    if ek == "raised":
        if type(ev) is not type(av) or str(ev) != str(av):
            return f"CPython {describe(expected)}, accir {describe(actual)}"
        return None
    if ev is None or av is None:
        return None if ev is av else f"CPython {describe(expected)}, accir {describe(actual)}"
    if not result_type_allowed(type(ev), type(av)) or not same_scalar(ev, av, rtol):
        return f"CPython {describe(expected)}, accir {describe(actual)}"
    return None


def check(module: str, case: Case, size: int, variant: str) -> None:
    base = case.make_args(np.random.default_rng(seed(case.id, size)), size)
    rtol = case.rtol
    if variant == "float32":
        rtol = case.rtol32 if case.rtol32 is not None else (1e-5 if case.rtol else 0.0)
    results = {}
    for who in ("cpython", *TARGETS):
        args = transform(copy.deepcopy(base), variant)
        if case.derive is not None:
            args = case.derive(args)
        fn = case.fn if who == "cpython" else compiled(case.fn, who)
        results[who] = run(fn, args), args
    expected, expected_args = results["cpython"]
    problems = []
    for target in TARGETS:
        outcome, args = results[target]
        problem = compare_outcomes(expected, outcome, rtol)
        if problem is not None:
            problems.append(f"[{target}] {problem}")
            if "did not compile" in problem:
                continue
        for k, (e, a) in enumerate(zip(expected_args, args, strict=True)):
            if isinstance(e, np.ndarray):
                # the whole buffer of a view: writes outside the view must not happen
                e_all = e if e.base is None else e.base
                a_all = a if a.base is None else a.base
                diff = compare_arrays(e_all, a_all, rtol)
                if diff is not None:
                    problems.append(f"[{target}] array argument {k} differs: {diff}")
    if problems:
        pytest.fail(f"{module}.{case.id}[{size}] ({variant}):\n" + "\n".join(problems),
                    pytrace=False)


# --- parametrization -------------------------------------------------------------------------

_USED_PATTERNS: set[str] = set()


def _matches(pattern: str, test_id: str) -> bool:
    """Whether `module.fn[size]-variant` matches a KNOWN_BUGS pattern (one without a variant
    matches every variant)."""
    if pattern.endswith("]"):
        pattern += "-*"
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), test_id) is not None


def params() -> list[Any]:
    """All (case, variant, size) triples, grouped by case so that a worker that runs the
    consecutive tests of one case compiles each of its signatures once."""
    out = []
    for module, mod in CORPUS.items():
        for case in mod.CASES:
            sample = case.make_args(np.random.default_rng(0), case.sizes[-1])
            if case.derive is not None:
                sample = case.derive(sample)
            for variant, (_, applies) in VARIANTS.items():
                if not applies(case, _arrays(sample)):
                    continue
                for size in case.sizes:
                    pid = f"{module}.{case.id}[{size}]-{variant}"
                    marks = []
                    for pattern, reason in KNOWN_BUGS.items():
                        if _matches(pattern, pid):
                            _USED_PATTERNS.add(pattern)
                            marks.append(pytest.mark.xfail(strict=True, reason=reason))
                            break
                    out.append(pytest.param(module, case, size, variant, id=pid, marks=marks))
    return out


@pytest.mark.parametrize(("module", "case", "size", "variant"), params())
def test_differential(module: str, case: Case, size: int, variant: str) -> None:
    check(module, case, size, variant)


def test_known_bug_patterns_are_used() -> None:
    unused = sorted(set(KNOWN_BUGS) - _USED_PATTERNS)
    assert not unused, f"KNOWN_BUGS entries that match no test: {unused}"


def test_corpus_size() -> None:
    fns = {case.fn for mod in CORPUS.values() for case in mod.CASES}
    assert len(fns) >= 60
    ids = [f"{m}.{c.id}" for m, mod in CORPUS.items() for c in mod.CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"


# --- documented differences (docs/guide.md, "Known differences") ----------------------------
# Where accir documents that it differs from CPython, these tests pin the documented behaviour.

GAIN = 2.0
TABLE = np.array([1.0, 2.0, 3.0])


def _use_gain(a):
    for i in range(a.shape[0]):
        a[i] = GAIN * a[i]


def _use_table(a):
    for i in range(a.shape[0]):
        a[i] += TABLE[i % 3]


def _make_scaled_kernel():
    scale = 1.0

    def kernel(a):
        for i in range(a.shape[0]):
            a[i] = scale * a[i]

    def set_scale(value):
        nonlocal scale
        scale = value

    return kernel, set_scale


def _negative_base_fractional_power(x):
    return x ** 0.5


def _int_to_runtime_negative_power(n, k):
    return n ** k


def _read_before_assignment(a):
    if a[0] > 0:
        x = 1.5
    return x


def _fact(n):
    return 1 if n <= 1 else n * _fact(n - 1)


def _recursive(n):
    return _fact(n)


@pytest.mark.parametrize("target", TARGETS)
def test_global_number_frozen_at_compile_time(target: str) -> None:
    global GAIN
    f = accir.compile(_use_gain, target=target)
    a = np.ones(3)
    try:
        f(a)
        GAIN = 5.0
        f(a)
    finally:
        GAIN = 2.0
    np.testing.assert_array_equal(a, np.full(3, 4.0))


@pytest.mark.parametrize("target", TARGETS)
def test_closure_number_frozen_at_compile_time(target: str) -> None:
    kernel, set_scale = _make_scaled_kernel()
    f = accir.compile(kernel, target=target)
    a = np.ones(3)
    f(a)
    set_scale(3.0)
    f(a)
    np.testing.assert_array_equal(a, np.ones(3))


@pytest.mark.parametrize("target", TARGETS)
def test_global_array_contents_are_live(target: str) -> None:
    f = accir.compile(_use_table, target=target)
    expected, actual = np.zeros(6), np.zeros(6)
    try:
        for fn, a in ((_use_table, expected), (f, actual)):
            TABLE[1] = 2.0
            fn(a)
            TABLE[1] = -5.0
            fn(a)
    finally:
        TABLE[1] = 2.0
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("fn", "args"), [
    (_negative_base_fractional_power, (-4.0,)),
    (_int_to_runtime_negative_power, (2, -1)),
], ids=["negative_base_fractional_power", "int_to_runtime_negative_power"])
def test_documented_value_errors(fn: Callable[..., Any], args: tuple[Any, ...],
                                 target: str) -> None:
    with pytest.raises(ValueError):
        accir.compile(fn, target=target)(*args)


@pytest.mark.parametrize("target", ["cpu", "interp"])
def test_read_before_assignment_holds_zero(target: str) -> None:
    assert accir.compile(_read_before_assignment, target=target)(np.array([-1.0])) == 0.0


@pytest.mark.parametrize("target", TARGETS)
def test_recursion_is_rejected(target: str) -> None:
    with pytest.raises(accir.UnsupportedError, match="recursive"):
        accir.compile(_recursive, target=target)(5)


# --- calls with the wrong arguments ------------------------------------------------------------


@pytest.mark.parametrize("target", [pytest.param(t, marks=pytest.mark.xfail(
    strict=True, reason="BUG: a call with missing or extra arguments raises TypeError with a "
                        "message other than CPython's")) for t in TARGETS])
@pytest.mark.parametrize("args", [(), (1.0, 2.0, 3.0)], ids=["missing", "extra"])
def test_wrong_number_of_arguments(args: tuple[Any, ...], target: str) -> None:
    with pytest.raises(TypeError) as expected:
        _use_gain(*args)
    with pytest.raises(TypeError) as actual:
        accir.compile(_use_gain, target=target)(*args)
    assert str(actual.value) == str(expected.value)
