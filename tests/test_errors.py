"""Compile-time errors: every message the frontend raises, at the right place of the real file.

Each kernel is written into a real file under `tmp_path` and imported from there, the way users'
code is seen by `inspect` and `linecache`. Kernels come after unrelated code (a docstring,
imports, globals, a helper), and some are indented inside a class, decorated or nested in another
function, so that line mapping is checked as well. The expected line and column are never
hard-coded: they are those of a marker text found in the written file, so a case checks the
column of the offending construct whatever its placement.

Every error must read like a C compiler's::

    kernels.py:12:9: error: message
        <the source line>
        <a caret under the column>
    hint: <where one helps>

Errors about the call's arguments (raised before any source is read) have no location.
"""

from __future__ import annotations

import importlib.util
import re
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import accir
from accir import AccirError, AccirTypeError, DirectiveSyntaxError, UnsupportedError

PREAMBLE = '''\
"""Kernels for accir's error tests (written by tests/test_errors.py)."""

import math

import numpy as np

import accir

SCALE = 2.0
NAME = "abc"
HALF = np.zeros(4, dtype=np.float16)


def helper(x):
    return x + 1


class Box:
    """An object whose attributes are numbers."""

    def __init__(self):
        self.size = 3


'''

TRAILER = '''

AFTER = [SCALE] * 3  # unrelated code after the kernel
'''


# ------------------------------------------------------------------------------ harness


def vec() -> tuple[Any, ...]:
    """Arguments of `kernel(A, n)`."""
    return (np.zeros(4), 3)


def mat() -> tuple[Any, ...]:
    """Arguments of `kernel(B, n)`: a 2-D array."""
    return (np.zeros((3, 3)), 3)


def cplx() -> tuple[Any, ...]:
    """Arguments of `kernel(A, z)`: z is complex."""
    return (np.zeros(4), 1 + 2j)


def flt() -> tuple[Any, ...]:
    """Arguments of `kernel(A, x)`: x is a float."""
    return (np.zeros(4), 2.5)


def place(source: str, where: str) -> tuple[str, str]:
    """The module text holding `source` (which defines `kernel` at column 0), and the
    expression that evaluates to the function in the module."""
    body = textwrap.dedent(source).strip("\n") + "\n"
    indented = textwrap.indent(body, "    ")
    if where == "module":
        return body, "kernel"
    if where == "class":  # a static method: indented by 4 and decorated
        head = 'class Kernels:\n    """Kernels as static methods."""\n\n    LIMIT = 3\n\n'
        return head + "    @staticmethod\n" + indented, "Kernels.kernel"
    if where == "method":  # `source` takes `self` first; compiled as a bound method
        head = ("class Kernels:\n    LIMIT = 3\n\n    def __init__(self):\n"
                "        self.data = np.zeros(3)\n        self.items = [1]\n"
                "        self.count = 2\n\n"
                "    def other(self):\n        return 1\n\n")
        return head + indented, "Kernels().kernel"
    if where == "decorated":
        return "@accir.compile(target='cpu')\n" + body, "kernel"
    if where == "nested":  # a closure, indented inside another function
        head = "def make():\n    offset = 1\n\n"
        return head + indented + "\n    return kernel\n", "make()"
    raise AssertionError(where)


def load(tmp_path: Path, text: str, name: str = "kernel") -> tuple[Any, str]:
    """Write `text` after the preamble into a real file, import it; (the function, path)."""
    path = tmp_path / "kernels.py"
    path.write_text(PREAMBLE + text + TRAILER, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"accir_err_{tmp_path.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return eval(name, vars(module)), str(path)


def call(fn: Any, args: tuple[Any, ...]) -> Any:
    compiled = fn if isinstance(fn, accir.CompiledFunction) else accir.compile(fn)
    return compiled(*args)


def position(path: str, at: str, col_at: str | None = None) -> tuple[int, int, str]:
    """(1-based line, 1-based column, line text) of the only line of the file containing
    `at`; the column is that of `col_at` (default `at`) on that line."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    found = [k for k, text in enumerate(lines) if at in text]
    assert len(found) == 1, f"marker {at!r} must occur on exactly one line, not {found}"
    text = lines[found[0]]
    return found[0] + 1, text.index(col_at if col_at is not None else at) + 1, text


def check_diagnostic(
    err: AccirError,
    path: str,
    at: str,
    col_at: str | None,
    message: str | re.Pattern[str],
    hint: str | None,
    check_col: bool = True,
) -> None:
    """`err` points at `col_at` on the line holding `at`, in the C-compiler format (without
    `check_col`: on that line, with a caret under some column)."""
    line, col, source = position(path, at, col_at)
    if not check_col and err.loc is not None and err.loc.line == line:
        col = err.loc.col
    if isinstance(message, re.Pattern):
        assert message.fullmatch(err.message), err.message
    else:
        assert err.message == message
    assert err.hint == hint
    assert err.loc is not None
    assert (err.loc.file, err.loc.line, err.loc.col) == (path, line, col), str(err)
    text = str(err)
    assert text.startswith(f"{path}:{line}:{col}: error: ")
    expected = [
        f"{path}:{line}:{col}: error: {err.message}",
        "    " + source.expandtabs(8),
        "    " + " " * len(source[: col - 1].expandtabs(8)) + "^",
    ]
    if hint is not None:
        expected.append(f"hint: {hint}")
    assert text.split("\n") == expected


# ------------------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Case:
    id: str
    source: str  # defines `kernel` at column 0
    exc: type[AccirError]
    message: str | re.Pattern[str]  # err.message exactly, or a pattern it must match
    at: str  # text of the offending line (on no other line of the file)
    col_at: str | None = None  # text on that line the caret goes under (default: `at`)
    hint: str | None = None
    args: Callable[[], tuple[Any, ...]] = vec
    where: str = "module"
    bug: str | None = None  # a known compiler bug: the case is a strict xfail
    col_bug: str | None = None  # a known wrong column: only the '-caret' variant is an xfail

    def params(self) -> list[Any]:
        """The case (an xfail if `bug`); with `col_bug`, the case without the column checks
        and a strict-xfail '-caret' variant with them."""
        if self.bug:
            return [pytest.param(self, True, id=self.id, marks=[
                pytest.mark.xfail(strict=True, reason=f"BUG: {self.bug}")])]
        if not self.col_bug:
            return [pytest.param(self, True, id=self.id)]
        return [
            pytest.param(self, False, id=self.id),
            pytest.param(self, True, id=f"{self.id}-caret", marks=[
                pytest.mark.xfail(strict=True, reason=f"BUG: {self.col_bug}")]),
        ]


U, T, D = UnsupportedError, AccirTypeError, DirectiveSyntaxError
ARRAY_VALUE = "an array cannot be used as a value here"
ARRAY_VALUE_HINT = "index it to get an element, e.g. a[i]"
INDEX_HINT = "index every dimension with an integer: views and slices are not supported"
CALL_HINT = ("compiled code can call math functions, NumPy scalar types and ufuncs, "
             "and Python functions")
CONTINUATION = "directive continues (trailing '\\') but the next line is not a comment"
CONTINUATION_HINT = "continue the directive on the next line, as a comment, or remove the '\\'"
END_COMBINED = ("'end parallel loop' must directly follow the loop of a 'parallel loop' "
                "directive (once)")


def stmt(keyword: str) -> str:
    return f"the '{keyword}' statement is not supported in compiled code"


def expr(what: str) -> str:
    return f"{what} is not supported in compiled code"


STATEMENTS = [
    Case("try", """
        def kernel(A, n):
            A[0] = 1.0
            try:
                A[1] = 2.0
            except ValueError:
                pass
        """, U, stmt("try"), at="try:", col_at="try"),
    Case("with", """
        def kernel(A, n):
            with np.errstate(all="ignore"):
                A[0] = 1.0
        """, U, stmt("with"), at="with np.errstate", col_at="with", where="class"),
    Case("raise", """
        def kernel(A, n):
            if n < 0:
                raise ValueError("negative size")
            A[0] = 1.0
        """, U, stmt("raise"), at="raise ValueError", col_at="raise"),
    Case("assert", """
        def kernel(A, n):
            assert n > 0
        """, U, stmt("assert"), at="assert n > 0", where="nested"),
    Case("del", """
        def kernel(A, n):
            t = n + 1
            del t
        """, U, stmt("del"), at="del t", where="decorated"),
    Case("class", """
        def kernel(A, n):
            class Local:
                pass
        """, U, stmt("class"), at="class Local", col_at="class"),
    Case("def", """
        def kernel(A, n):
            for i in range(n):
                def inner(x):
                    return x
        """, U, stmt("def"), at="def inner", col_at="def", where="class"),
    Case("import", """
        def kernel(A, n):
            import os
        """, U, stmt("import"), at="import os"),
    Case("from-import", """
        def kernel(A, n):
            from math import sqrt
        """, U, stmt("from ... import"), at="from math import sqrt"),
    Case("global", """
        def kernel(A, n):
            global SCALE
            SCALE = 3.0
        """, U, stmt("global"), at="global SCALE"),
    Case("nonlocal", """
        def kernel(A, n):
            nonlocal offset
            offset = n
        """, U, stmt("nonlocal"), at="nonlocal offset", where="nested"),
    Case("match", """
        def kernel(A, n):
            match n:
                case 1:
                    A[0] = 1.0
        """, U, stmt("match"), at="match n:", col_at="match"),
]

EXPRESSIONS = [
    Case("list", """
        def kernel(A, n):
            t = [1, 2]
        """, U, expr("a list"), at="t = [1, 2]", col_at="["),
    Case("dict", """
        def kernel(A, n):
            t = {1: 2}
        """, U, expr("a dict"), at="t = {1: 2}", col_at="{", where="class"),
    Case("set", """
        def kernel(A, n):
            t = {1, 2}
        """, U, expr("a set"), at="t = {1, 2}", col_at="{"),
    Case("list-comprehension", """
        def kernel(A, n):
            t = [i * i for i in range(n)]
        """, U, expr("a list comprehension"), at="t = [i * i", col_at="["),
    Case("dict-comprehension", """
        def kernel(A, n):
            t = {i: i for i in range(n)}
        """, U, expr("a dict comprehension"), at="t = {i: i", col_at="{"),
    Case("set-comprehension", """
        def kernel(A, n):
            t = {i for i in range(n)}
        """, U, expr("a set comprehension"), at="t = {i for", col_at="{"),
    Case("generator", """
        def kernel(A, n):
            t = (i for i in range(n))
        """, U, expr("a generator expression"), at="t = (i for", col_at="("),
    Case("lambda", """
        def kernel(A, n):
            twice = lambda v: 2 * v
        """, U, expr("a lambda"), at="twice = lambda", col_at="lambda", where="decorated"),
    Case("f-string", """
        def kernel(A, n):
            label = f"n={n}"
        """, U, expr("an f-string"), at='label = f"', col_at='f"'),
    Case("walrus", """
        def kernel(A, n):
            A[0] = (m := n + 1)
        """, U, expr("an assignment expression (:=)"), at="(m := n + 1)", col_at="m :="),
    Case("starred", """
        def kernel(A, n):
            A[*n] = 1.0
        """, U, expr("a starred expression"), at="A[*n]", col_at="*n"),
    Case("yield", """
        def kernel(A, n):
            yield n
        """, U, expr("yield"), at="yield n"),
    Case("tuple", """
        def kernel(A, n):
            t = (n, n + 1)
        """, U, "tuples are only supported in unpacking assignments (a, b = b, a)",
         at="t = (n, n + 1)", col_at="("),
    Case("matmul", """
        def kernel(A, n):
            t = n @ n
        """, U, "matrix multiplication '@' is not supported", at="t = n @ n", col_at="n @"),
    Case("matmul-augmented", """
        def kernel(A, n):
            t = n
            t @= n
        """, U, "matrix multiplication '@' is not supported", at="t @= n"),
    Case("comparison-in", """
        def kernel(A, n):
            if n in A:
                A[0] = 1.0
        """, U, "comparison 'In' is not supported", at="if n in A:", col_at="n in"),
    Case("comparison-is", """
        def kernel(A, n):
            if n is SCALE:
                A[0] = 1.0
        """, U, "comparison 'Is' is not supported", at="if n is SCALE", col_at="n is"),
    Case("string-constant", """
        def kernel(A, n):
            label = "total"
        """, U, "str constants are not supported", at='label = "total"', col_at='"'),
    Case("none-constant", """
        def kernel(A, n):
            t = None
        """, U, "NoneType constants are not supported", at="t = None", col_at="None"),
    Case("string-global", """
        def kernel(A, n):
            t = NAME
        """, U, "a value of type 'str' cannot be used in compiled code", at="t = NAME",
         col_at="NAME", hint="accir compiles numbers and NumPy arrays"),
    Case("module-as-value", """
        def kernel(A, n):
            t = np
        """, U, "a value of type 'module' cannot be used in compiled code", at="t = np",
         col_at="np", hint="accir compiles numbers and NumPy arrays"),
    Case("undefined-name", """
        def kernel(A, n):
            A[0] = n + undefined_thing
        """, U, "name 'undefined_thing' is not defined", at="undefined_thing",
         where="class"),
    Case("no-such-attribute", """
        def kernel(A, n):
            A[0] = math.no_such_function(n)
        """, U, "'math' has no attribute 'no_such_function'", at="math.no_such_function"),
    Case("attribute-of-shape", """
        def kernel(A, n):
            t = A.shape.count
        """, U, "attribute 'count' is not supported here", at="t = A.shape.count",
         col_at="A.shape"),
    Case("array-attribute", """
        def kernel(A, n):
            t = A.dtype
        """, U, "array attribute 'dtype' is not supported", at="t = A.dtype", col_at="A.",
         hint="supported: a.shape, a.shape[k], a.size, a.ndim, len(a)"),
    Case("missing-object-attribute", """
        def kernel(self, A, n):
            A[0] = self.missing
        """, U, "'Kernels' object has no attribute 'missing'", at="self.missing",
         where="method"),
    Case("missing-method", """
        def kernel(self, A, n):
            A[0] = self.missing(n)
        """, U, "'Kernels' object has no attribute 'missing'", at="self.missing(n)",
         where="method"),
    Case("object-attribute-holding-list", """
        def kernel(self, A, n):
            A[0] = self.items[0]
        """, U, "attribute 'items' of 'Kernels' holds a list: compiled code can read only "
         "number-valued attributes of objects", at="self.items[0]", where="method"),
    Case("object-attribute-holding-array", """
        def kernel(self, A, n):
            A[0] = self.data[0]
        """, U, "attribute 'data' of 'Kernels' holds an array: compiled code can read only "
         "number-valued attributes of objects", at="self.data[0]", where="method"),
    Case("scalar-attribute", """
        def kernel(A, n):
            t = n.numerator
        """, U, "scalar attribute 'numerator' is not supported", at="t = n.numerator",
         col_at="n."),
    Case("global-array-dtype", """
        def kernel(A, n):
            A[0] = HALF[0]
        """, U, "arrays of dtype float16 are not supported", at="A[0] = HALF[0]",
         col_at="HALF"),
    Case("shape-tuple-as-value", """
        def kernel(A, n):
            s = A.shape
        """, U, "a shape tuple can only be indexed or unpacked", at="s = A.shape",
         col_at="A.shape", hint="write n, m = a.shape or a.shape[0]"),
    Case("shape-index-not-constant", """
        def kernel(A, n):
            m = A.shape[n]
        """, U, "a.shape must be indexed with a constant", at="m = A.shape[n]",
         col_at="A.shape"),
    Case("shape-index-out-of-range", """
        def kernel(A, n):
            m = A.shape[1]
        """, U, "tuple index 1 out of range for a 1-dimensional array", at="m = A.shape[1]",
         col_at="A.shape"),
]

ARRAYS = [
    Case("index-a-scalar", """
        def kernel(A, n):
            t = n[0]
        """, U, "only arrays can be indexed", at="t = n[0]", col_at="n[0]"),
    Case("wrong-number-of-indices", """
        def kernel(A, n):
            A[0, 1] = 1.0
        """, U, "array 'A' has 1 dimension(s) but is indexed with 2", at="A[0, 1] = 1.0",
         col_at="A[", hint=INDEX_HINT, where="class"),
    Case("view-as-value", """
        def kernel(B, n):
            t = B[1] * 2.0
        """, U, "array 'B' has 2 dimension(s) but is indexed with 1", at="t = B[1]",
         col_at="B[", hint=INDEX_HINT, args=mat),
    Case("slice", """
        def kernel(A, n):
            t = A[1:3]
        """, U, "slices are not supported", at="t = A[1:3]", col_at="1:3",
         hint="write a loop"),
    Case("float-index", """
        def kernel(A, n):
            A[n / 2] = 1.0
        """, T, "array index must be an integer, not pyfloat",
         at="A[n / 2] = 1.0", col_at="n / 2"),
    Case("array-as-value", """
        def kernel(A, n):
            t = A + 1.0
        """, U, ARRAY_VALUE, at="t = A + 1.0", col_at="A +", hint=ARRAY_VALUE_HINT),
    Case("array-truth-value", """
        def kernel(A, n):
            if A:
                A[0] = 1.0
        """, U, "the truth value of an array is ambiguous", at="if A:", col_at="A:",
         hint="compare an element, e.g. a[i] > 0"),
    Case("array-alias", """
        def kernel(A, n):
            B2 = A
        """, U, "assigning an array to another name is not supported", at="B2 = A",
         hint="use the original name; views and aliases are not supported"),
    Case("array-parameter-reassigned", """
        def kernel(A, n):
            A = np.zeros(n)
        """, U, "parameter 'A' holds an array and cannot be reassigned",
         at="A = np.zeros(n)", col_at="A =", where="class"),
    Case("object-parameter-reassigned", """
        def kernel(self, A, n):
            self = n
        """, U, "parameter 'self' holds an object and cannot be reassigned",
         at="self = n", where="method"),
    Case("array-and-scalar", """
        def kernel(A, n):
            t = np.zeros(n)
            t = 1.0
        """, U, "a variable cannot hold both memref<?xf64, C> and pyfloat", at="t = 1.0",
         col_at="t", hint="use a different name for each"),
    Case("complex-into-float-array", """
        def kernel(A, z):
            A[0] = z
        """, T, "cannot store a complex value into an array of f64", at="A[0] = z",
         hint="store .real or abs() of it", args=cplx),
    Case("complex-into-float-array-augmented", """
        def kernel(A, z):
            A[0] += z
        """, T, "cannot store a complex value into an array of f64", at="A[0] += z",
         hint="store .real or abs() of it", args=cplx),
    Case("store-into-scalar", """
        def kernel(A, n):
            n[0] = 1
        """, U, "only array elements can be assigned", at="n[0] = 1"),
    Case("update-a-scalar-element", """
        def kernel(A, n):
            n[0] += 1
        """, U, "only array elements can be updated", at="n[0] += 1", col_at="n[0]"),
    Case("assign-attribute", """
        def kernel(self, A, n):
            self.size = n
        """, U, "assignment to attribute is not supported", at="self.size = n",
         col_at="self", where="method"),
    Case("augment-attribute", """
        def kernel(self, A, n):
            self.size += n
        """, U, "this augmented assignment is not supported", at="self.size += n",
         col_at="self", where="method"),
    Case("unpack-a-scalar", """
        def kernel(A, n):
            a, b = n
        """, U, "only tuples and a.shape can be unpacked", at="a, b = n", col_at="n"),
    Case("unpack-count", """
        def kernel(A, n):
            a, b = n, n, n
        """, U, "cannot unpack 3 values into 2 targets", at="a, b = n, n, n", col_at="a"),
    Case("unpack-starred", """
        def kernel(A, n):
            a, *b = n, n
        """, U, "assignment to starred is not supported", at="a, *b = n, n", col_at="*b"),
]

OPERATORS = [
    Case("bitwise-and-of-floats", """
        def kernel(A, n):
            A[0] = A[1] & A[2]
        """, T, "unsupported operand types for &: 'f64' and 'f64'", at="A[1] & A[2]",
         where="class"),
    Case("shift-of-float", """
        def kernel(A, x):
            t = x << 2
        """, T, "unsupported operand types for <<: 'pyfloat' and 'pyint'", at="t = x << 2",
         col_at="x <<", args=flt),
    Case("ordering-complex", """
        def kernel(A, z):
            if z < 1j:
                A[0] = 1.0
        """, T, "'<' not supported between complex numbers", at="if z < 1j:", col_at="z <",
         args=cplx),
    Case("integer-constant-overflow", """
        def kernel(A, n):
            A[0] = 2 ** 100
        """, U, "2 ** 100 does not fit in the 64-bit integers accir compiles",
         at="A[0] = 2 ** 100", col_at="2 **", hint="compute it with floats"),
    Case("integer-literal-overflow", """
        def kernel(A, n):
            A[0] = 100000000000000000000000
        """, U, "integer constant 100000000000000000000000 does not fit in the 64-bit "
         "integers accir compiles", at="A[0] = 1000", col_at="1000",
         hint="write it as a float"),
    Case("integer-constant-expression-overflow", """
        def kernel(A, n):
            A[0] = 2 ** 62 * 4
        """, U, "2 ** 62 * 4 does not fit in the 64-bit integers accir compiles",
         at="A[0] = 2 ** 62 * 4", col_at="2 **", hint="compute it with floats"),
    Case("invert-float", """
        def kernel(A, n):
            t = ~A[0]
        """, T, "bad operand type for unary ~: 'f64'", at="t = ~A[0]", col_at="~"),
]

CALLS = [
    Case("print", """
        def kernel(A, n):
            print(n)
        """, U, "the builtin 'print' is not supported in compiled code", at="print(n)"),
    Case("builtin-round", """
        def kernel(A, n):
            A[0] = round(A[1])
        """, U, "the builtin 'round' is not supported in compiled code", at="round(A[1])",
         where="class"),
    Case("str", """
        def kernel(A, n):
            t = str(n)
        """, U, "call of unsupported function 'str'", at="t = str(n)", col_at="str",
         hint=CALL_HINT),
    Case("numpy-function", """
        def kernel(A, n):
            A[0] = np.sum(A)
        """, U, "call of unsupported function 'sum'", at="np.sum(A)", hint=CALL_HINT),
    Case("len-of-scalar", """
        def kernel(A, n):
            t = len(n)
        """, U, "len() is supported on arrays only", at="t = len(n)", col_at="len"),
    Case("len-two-arguments", """
        def kernel(A, n):
            t = len(A, A)
        """, T, "len() takes exactly one argument", at="t = len(A, A)", col_at="len"),
    Case("len-of-0d-array", """
        def kernel(A, n):
            t = len(A)
        """, T, "len() of unsized object", at="t = len(A)", col_at="len",
         args=lambda: (np.array(1.0), 3)),
    Case("call-a-number", """
        def kernel(A, n):
            t = n(1)
        """, U, "only functions can be called", at="t = n(1)", col_at="n(",
         hint="this name holds a value, not a function"),
    Case("call-a-global-number", """
        def kernel(A, n):
            t = SCALE(1)
        """, U, "only functions can be called", at="t = SCALE(1)", col_at="SCALE",
         hint="this name holds a value, not a function"),
    Case("starred-call", """
        def kernel(A, n):
            t = helper(*A)
        """, U, "*args in calls are not supported", at="t = helper(*A)", col_at="helper"),
    Case("double-starred-call", """
        def kernel(A, n):
            A[0] = helper(n, **{})
        """, U, "**kwargs in calls are not supported", at="helper(n, **{})", col_at="**"),
    Case("allocation-in-expression", """
        def kernel(A, n):
            A[0] = np.zeros(n)[0]
        """, U, "np.zeros is only supported as the value of an assignment to a name",
         at="np.zeros(n)[0]", hint="write t = np.zeros(...) on a line of its own"),
    Case("keyword-to-math", """
        def kernel(A, n):
            t = math.sqrt(x=2.0)
        """, U, "keyword arguments are not supported for this function",
         at="t = math.sqrt", col_at="math"),
    Case("abs-arity", """
        def kernel(A, n):
            t = abs(n, n)
        """, T, "abs() takes 1 argument(s), 2 given", at="t = abs(n, n)", col_at="abs"),
    Case("math-of-complex", """
        def kernel(A, z):
            t = math.sqrt(z)
        """, T, "math.sqrt() does not accept complex numbers", at="t = math.sqrt(z)",
         col_at="math", args=cplx, where="class"),
    Case("math-arity", """
        def kernel(A, n):
            t = math.sqrt(n, n)
        """, T, "math.sqrt() takes 1 argument(s), 2 given", at="t = math.sqrt(n, n)",
         col_at="math"),
    Case("math-floor-no-argument", """
        def kernel(A, n):
            t = math.floor()
        """, T, "math.floor() takes 1 argument(s), 0 given", at="t = math.floor()",
         col_at="math"),
    Case("unsupported-ufunc", """
        def kernel(A, n):
            A[0] = np.bitwise_and(n, n)
        """, U, "np.bitwise_and is not supported", at="np.bitwise_and(n, n)"),
    Case("ufunc-arity", """
        def kernel(A, n):
            A[0] = np.sqrt(n, n)
        """, T, "np.sqrt() takes 1 argument(s), 2 given", at="np.sqrt(n, n)"),
    Case("ufunc-no-loop", """
        def kernel(A, z):
            t = np.arctan2(z, z)
        """, T, "np.arctan2 is not defined for (pycomplex, pycomplex)", at="t = np.arctan2",
         col_at="np.", args=cplx),
    Case("ufunc-float16-result", """
        def kernel(A, n):
            A[0] = np.sqrt(A[1])
        """, U, "np.sqrt of these arguments computes in float16, which accir does not compile",
         at="np.sqrt(A[1])", hint="convert the argument first, e.g. np.float32(x) or float(x)",
         args=lambda: (np.zeros(4, dtype=np.int8), 3)),
    Case("numpy-float16-constructor", """
        def kernel(A, n):
            A[0] = np.float16(n)
        """, U, "np.float16 is not supported", at="np.float16(n)"),
    Case("numpy-constructor-arity", """
        def kernel(A, n):
            A[0] = np.float32(n, n)
        """, T, "np.float32() takes one argument here", at="np.float32(n, n)"),
    Case("float-of-complex", """
        def kernel(A, z):
            A[0] = float(z)
        """, T, "cannot convert complex to pyfloat", at="float(z)",
         hint="take .real or abs() first", args=cplx),
    Case("min-of-iterable", """
        def kernel(A, n):
            A[0] = min(A)
        """, U, "min() of an iterable is not supported", at="min(A)",
         hint="pass the values as separate arguments: min(a, b)"),
    Case("max-of-complex", """
        def kernel(A, z):
            t = max(z, z)
        """, T, "max() of complex numbers", at="t = max(z, z)", col_at="max", args=cplx),
    Case("int-of-complex", """
        def kernel(A, z):
            t = int(z)
        """, T, "int() argument must be real, not complex", at="t = int(z)", col_at="int",
         args=cplx),
    Case("int-arity", """
        def kernel(A, n):
            t = int(n, 10)
        """, T, "int() takes one argument here", at="t = int(n, 10)", col_at="int"),
    Case("complex-arity", """
        def kernel(A, n):
            t = complex(n, n, n)
        """, T, "complex() takes one or two real arguments", at="t = complex(n, n, n)",
         col_at="complex"),
    Case("pow-modulus", """
        def kernel(A, n):
            t = pow(n, 2, 5)
        """, U, "pow() with a modulus is not supported", at="t = pow(n, 2, 5)",
         col_at="pow"),
    Case("too-many-positional", """
        def kernel(A, n):
            A[0] = helper(n, n)
        """, T, "helper() takes 1 positional arguments but 2 were given",
         at="helper(n, n)"),
    Case("unexpected-keyword", """
        def kernel(A, n):
            A[0] = helper(n, scale=2)
        """, T, "helper() got an unexpected keyword argument 'scale'",
         at="helper(n, scale=2)", col_at="scale"),
    Case("missing-argument", """
        def kernel(A, n):
            A[0] = helper()
        """, T, "helper() missing required argument 'x'", at="helper()", where="class"),
]

ALLOCATIONS = [
    Case("order-F", """
        def kernel(A, n):
            t = np.zeros(n, order="F")
        """, U, "only order='C' arrays can be created", at='t = np.zeros(n, order="F")',
         col_at="np."),
    Case("allocation-keyword", """
        def kernel(A, n):
            t = np.zeros(n, like=A)
        """, U, "np.zeros() argument 'like' is not supported", at="t = np.zeros(n, like=A)",
         col_at="like"),
    Case("allocation-double-starred", """
        def kernel(A, n):
            t = np.zeros(n, **{})
        """, U, "**kwargs in calls are not supported", at="t = np.zeros(n, **{})",
         col_at="**"),
    Case("allocation-too-many-positional", """
        def kernel(A, n):
            t = np.zeros(n, np.float32, 'C', 5)
        """, U, "np.zeros() takes at most 3 positional arguments here",
         at="t = np.zeros(n, np.float32, 'C', 5)", col_at="5)"),
    Case("unsupported-dtype", """
        def kernel(A, n):
            t = np.zeros(n, dtype=np.float16)
        """, U, "dtype <class 'numpy.float16'> is not supported",
         at="t = np.zeros(n, dtype=np.float16)", col_at="np.float16",
         hint="use bool, (u)int8-64, float32/64 or complex64/128", where="class"),
    Case("unsupported-dtype-name", """
        def kernel(A, n):
            t = np.zeros(n, dtype="float16")
        """, U, "dtype 'float16' is not supported", at='t = np.zeros(n, dtype="float16")',
         col_at='"float16"', hint="use bool, (u)int8-64, float32/64 or complex64/128"),
    Case("dtype-is-a-runtime-value", """
        def kernel(A, n):
            t = np.zeros(n, dtype=n)
            A[0] = t[0]
        """, U, "dtype= must be known when compiling (a NumPy type, a Python type or a dtype "
         "name), not a run-time value", at="t = np.zeros(n, dtype=n)", col_at="n)"),
    Case("fill-real-with-complex", """
        def kernel(A, n):
            t = np.full(n, 1j, dtype=np.float64)
        """, T, "cannot fill a real array with a complex value", at="t = np.full(n, 1j",
         col_at="np."),
    Case("allocation-without-shape", """
        def kernel(A, n):
            t = np.zeros(dtype=np.float64)
        """, T, "array creation needs a shape", at="t = np.zeros(dtype", col_at="np."),
    Case("float-shape", """
        def kernel(A, x):
            t = np.zeros(x)
        """, T, "array dimensions must be integers, not pyfloat", at="t = np.zeros(x)",
         col_at="x)", args=flt),
    Case("like-of-scalar", """
        def kernel(A, n):
            t = np.zeros_like(n)
        """, U, "the *_like functions need an array", at="t = np.zeros_like(n)",
         col_at="np."),
    Case("full-without-value", """
        def kernel(A, n):
            t = np.full(n)
        """, T, "np.full() needs a fill value", at="t = np.full(n)", col_at="np."),
]

CONTROL_FLOW = [
    Case("for-else", """
        def kernel(A, n):
            for i in range(n):
                A[i] = 1.0
            else:
                A[0] = 2.0
        """, U, "for ... else is not supported", at="for i in range(n):", col_at="for"),
    Case("while-else", """
        def kernel(A, n):
            k = 0
            while k < n:
                k += 1
            else:
                A[0] = 2.0
        """, U, "while ... else is not supported", at="while k < n:", col_at="while",
         where="class"),
    Case("for-over-array", """
        def kernel(A, n):
            for v in A:
                n += 1
        """, U, "only 'for ... in range(...)' loops are supported", at="for v in A:",
         col_at="A:", hint="iterate over indices: for i in range(len(a))"),
    Case("loop-variable-not-a-name", """
        def kernel(A, n):
            for A[0] in range(n):
                pass
        """, U, "the loop variable must be a simple name", at="for A[0] in", col_at="A[0]"),
    Case("loop-variable-float", """
        def kernel(A, n):
            for i in range(n):
                A[i] = 1.0
            i = 0.5
        """, U, "loop variable 'i' is also assigned values of type pyfloat",
         at="for i in range(n):", col_at="i in", hint="use a different name for the other values"),
    Case("range-arity", """
        def kernel(A, n):
            for i in range(0, n, 1, 2):
                A[i] = 1.0
        """, T, "range() takes 1 to 3 positional arguments", at="for i in range(0, n, 1, 2)",
         col_at="range"),
    Case("range-float", """
        def kernel(A, n):
            for i in range(n / 2):
                A[i] = 1.0
        """, T, "range() arguments must be integers, not pyfloat", at="for i in range(n / 2)",
         col_at="n / 2", where="decorated"),
]

FUNCTIONS = [
    Case("varargs", """
        def kernel(A, *rest):
            A[0] = 1.0
        """, U, "*args and **kwargs parameters are not supported",
         at="def kernel(A, *rest)", col_at="def", where="class"),
    Case("kwargs", """
        def kernel(A, **options):
            A[0] = 1.0
        """, U, "*args and **kwargs parameters are not supported",
         at="def kernel(A, **options)", col_at="def"),
    Case("return-array", """
        def kernel(A, n):
            return A
        """, U, ARRAY_VALUE, at="return A", col_at="A", hint=ARRAY_VALUE_HINT),
    Case("return-on-some-paths", """
        def kernel(A, n):
            if n > 0:
                return 1.0
            A[0] = 2.0
        """, U, "function returns a value on some paths and None on others",
         at="def kernel(A, n)", col_at="def", hint="return a value on every path",
         where="decorated"),
    Case("recursion-in-a-statement", """
        def kernel(A, n):
            if n > 0:
                kernel(A, n - 1)
            A[0] = 1.0
        """, U, "recursive call of 'kernel' is not supported", at="kernel(A, n - 1)",
         hint="write the recursion as a loop", where="decorated"),
    Case("recursion", """
        def kernel(A, n):
            if n > 0:
                A[0] = 1.0 + kernel(A, n - 1)
            return 1.0
        """, U, "recursive call of 'kernel' is not supported", at="1.0 + kernel(A, n - 1)",
         col_at="kernel(", hint="write the recursion as a loop"),
    Case("error-in-callee", """
        def kernel(A, n):
            A[0] = twice(n)


        def twice(v):
            return [v, v]
        """, U, expr("a list"), at="return [v, v]", col_at="["),
]

DIRECTIVES = [
    Case("directive-after-code", """
        def kernel(A, n):
            A[0] = 1.0  #pragma acc update host(A)
        """, D, "an OpenACC directive must be on a line of its own", at="A[0] = 1.0  #",
         col_at="#", hint="move the '#pragma acc' comment to its own line above the statement"),
    Case("malformed-directive", """
        def kernel(A, n):
            #pragma ACC parallel loop
            for i in range(n):
                A[i] = 1.0
        """, D, "malformed OpenACC directive comment", at="#pragma ACC", col_at="#",
         hint="write it as '#pragma acc <directive> [clauses]'", where="class"),
    Case("continuation-without-line", """
        def kernel(A, n):
            #pragma acc parallel loop \\
            A[0] = 1.0
        """, D, CONTINUATION, at="#pragma acc parallel loop", col_at="\\",
         hint=CONTINUATION_HINT),
    Case("continuation-joins-trailing-comment", """
        def kernel(A, n):
            #pragma acc parallel loop \\
            for i in range(n):
                A[i] = 1.0  # set every element
        """, D, CONTINUATION, at="#pragma acc parallel loop", col_at="\\",
         hint=CONTINUATION_HINT),
    Case("continuation-across-a-blank-line", """
        def kernel(A, n):
            #pragma acc parallel loop \\

            #    collapse(1)
            for i in range(n):
                A[i] = 1.0
        """, D, CONTINUATION, at="#pragma acc parallel loop", col_at="\\",
         hint=CONTINUATION_HINT),
    Case("end-without-directive", """
        def kernel(A, n):
            A[0] = 1.0
            #pragma acc end data
        """, D, "'end data' has no matching 'data' directive in its block",
         at="#pragma acc end data", col_at="end",
         hint="put '#pragma acc data' and its end in the same block, at the same indentation"),
    Case("end-in-an-outer-block", """
        def kernel(A, n):
            for i in range(n):
                #pragma acc parallel
                A[i] = 1.0
            #pragma acc end parallel
        """, D, "'end parallel' has no matching 'parallel' directive in its block",
         at="#pragma acc end parallel", col_at="end",
         hint="put '#pragma acc parallel' and its end in the same block, at the same "
         "indentation", where="class"),
    Case("empty-atomic", """
        def kernel(A, n):
            #pragma acc atomic update
            #pragma acc end atomic
            A[0] += 1.0
        """, D, "'atomic' region is empty", at="#pragma acc atomic", col_at="atomic",
         hint="put the statement(s) the atomic construct applies to before 'end atomic'"),
    Case("loop-directive-not-before-for", """
        def kernel(A, n):
            #pragma acc loop
            A[0] = 1.0
        """, D, "'loop' directive must be followed by a for loop", at="#pragma acc loop",
         col_at="loop", hint="put the directive directly above the loop it applies to"),
    Case("block-directive-without-end", """
        def kernel(A, n):
            #pragma acc parallel
            A[0] = 1.0
            A[1] = 2.0
        """, D, "'parallel' directive must be followed by a for loop",
         at="#pragma acc parallel", col_at="parallel",
         hint="add '#pragma acc end parallel' after the region", where="class"),
    Case("improper-nesting", """
        def kernel(A, n):
            #pragma acc data copy(A)
            #pragma acc parallel
            for i in range(n):
                A[i] = 1.0
            #pragma acc end data
            #pragma acc end parallel
        """, D, "'end data' does not close the innermost open construct 'parallel'",
         at="#pragma acc end data", col_at="end",
         hint="OpenACC regions must nest: close inner regions first"),
    Case("directive-before-directive", """
        def kernel(A, n):
            #pragma acc loop
            #pragma acc update host(A)
            for i in range(n):
                A[i] = 1.0
        """, D, "'loop' directive must be directly followed by the statement it applies to, "
         "not by 'update'", at="#pragma acc loop", col_at="loop"),
    Case("directive-at-end-of-block", """
        def kernel(A, n):
            if n > 0:
                A[0] = 1.0
                #pragma acc atomic update
            else:
                A[0] = 2.0
        """, D, "'atomic' directive is not followed by a statement in its block",
         at="#pragma acc atomic", col_at="atomic"),
    Case("collapse-too-deep", """
        def kernel(B, n):
            #pragma acc parallel loop collapse(3)
            for i in range(n):
                for j in range(n):
                    B[i, j] = 1.0
        """, D, "collapse needs 3 tightly nested loops, but the loop at nesting level 2 "
         "contains other statements", at="#pragma acc parallel loop collapse(3)",
         col_at="collapse", hint="make the loops tightly nested or lower the count",
         args=mat),
    Case("tile-too-deep", """
        def kernel(B, n):
            for i in range(n):
                #pragma acc loop tile(4, 4)
                for j in range(n):
                    B[i, j] = 1.0
        """, D, "tile needs 2 tightly nested loops, but the loop at nesting level 1 "
         "contains other statements", at="#pragma acc loop tile(4, 4)", col_at="tile",
         hint="make the loops tightly nested or lower the count", args=mat),
    Case("unknown-variable-in-clause", """
        def kernel(A, n):
            #pragma acc data copy(A, Z)
            for i in range(n):
                A[i] = 1.0
            #pragma acc end data
        """, D, "'Z' in clause 'copy' is not a variable of 'kernel'",
         at="#pragma acc data copy(A, Z)", col_at="Z"),
    Case("end-combined-not-after-loop", """
        def kernel(A, n):
            #pragma acc parallel loop
            for i in range(n):
                A[i] = 1.0
            A[0] = 2.0
            #pragma acc end parallel loop
        """, D, END_COMBINED, at="#pragma acc end parallel loop", col_at="end"),
    Case("end-combined-after-other-loop", """
        def kernel(A, n):
            #pragma acc kernels loop
            for i in range(n):
                A[i] = 1.0
            #pragma acc end parallel loop
        """, D, END_COMBINED, at="#pragma acc end parallel loop", col_at="end",
         where="class"),
]

CASES = [*STATEMENTS, *EXPRESSIONS, *ARRAYS, *OPERATORS, *CALLS, *ALLOCATIONS,
         *CONTROL_FLOW, *FUNCTIONS, *DIRECTIVES]


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert not [c.id for c in CASES if c.bug and c.col_bug]


@pytest.mark.parametrize(("case", "check_col"), [p for c in CASES for p in c.params()])
def test_error(tmp_path: Path, case: Case, check_col: bool) -> None:
    text, name = place(case.source, case.where)
    fn, path = load(tmp_path, text, name)
    with pytest.raises(AccirError) as info:
        call(fn, case.args())
    err = info.value
    assert case.exc is AccirError or type(err) is case.exc, f"{type(err).__name__}: {err}"
    check_diagnostic(err, path, case.at, case.col_at, case.message, case.hint, check_col)


# ------------------------------------------------------------------------------ line mapping

PLACEMENT_SOURCES = {
    "module": ("def kernel(A, n):\n    A[0] = n + undefined_thing\n", "kernel"),
    "class": place("def kernel(A, n):\n    A[0] = n + undefined_thing\n", "class"),
    "method": place("def kernel(self, A, n):\n    A[0] = n + undefined_thing\n", "method"),
    "decorated": place("def kernel(A, n):\n    A[0] = n + undefined_thing\n", "decorated"),
    "nested": place("def kernel(A, n):\n    A[0] = n + undefined_thing\n", "nested"),
    "tab-indented": (
        "class Tabbed:\n\t@staticmethod\n\tdef kernel(A, n):\n"
        "\t\tA[0] = n + undefined_thing\n",
        "Tabbed.kernel",
    ),
    "deeply-nested": (
        "class Outer:\n    class Inner:\n        @staticmethod\n"
        "        @accir.compile\n        def kernel(A, n):\n"
        "            for i in range(n):\n                if i > 1:\n"
        "                    A[i] = n + undefined_thing\n",
        "Outer.Inner.kernel",
    ),
    "non-ascii-before": (
        "def kernel(A, n):\n    café = 1.0\n    A[0] = café + undefined_thing\n", "kernel"
    ),
    "multi-line-expression": (
        "def kernel(A, n):\n    A[0] = (n +\n            2 *\n            undefined_thing)\n",
        "kernel",
    ),
}


@pytest.mark.parametrize("where", list(PLACEMENT_SOURCES))
def test_line_mapping(tmp_path: Path, where: str) -> None:
    """The same error, wherever the function is in the file, points at the real line/col."""
    text, name = PLACEMENT_SOURCES[where]
    fn, path = load(tmp_path, text, name)
    with pytest.raises(UnsupportedError) as info:
        call(fn, vec())
    check_diagnostic(info.value, path, "undefined_thing", None,
                     "name 'undefined_thing' is not defined", None)


def test_error_in_a_callee_in_another_file(tmp_path: Path) -> None:
    """An error in a function called from the kernel points into the callee's own file."""
    other = tmp_path / "other_helpers.py"
    other.write_text("import numpy as np\n\n\ndef scale(v):\n    return v * NAME\n\n"
                     "NAME = 'x'\n", encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"accir_other_{tmp_path.name}", other)
    assert spec is not None and spec.loader is not None
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    fn, _ = load(tmp_path, "def kernel(A, n):\n    A[0] = scale(n)\n")
    fn.__globals__["scale"] = helpers.scale
    with pytest.raises(UnsupportedError) as info:
        call(fn, vec())
    check_diagnostic(info.value, str(other), "return v * NAME", "NAME",
                     "a value of type 'str' cannot be used in compiled code",
                     "accir compiles numbers and NumPy arrays")


# ------------------------------------------------------------------------------ arguments

ARGUMENT_MESSAGE = ("argument 'x' is a {}: accir compiles NumPy arrays, numbers and objects "
                    "whose attributes are numbers")
ASARRAY_HINT = "convert it with np.asarray(...)"
DTYPE_MESSAGE = "argument 'x' is an array of dtype {}, which accir does not compile"
DTYPE_HINT = "use bool, (u)int8-64, float32/64 or complex64/128 in native byte order"


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        pytest.param([1.0, 2.0], ARGUMENT_MESSAGE.format("list"), ASARRAY_HINT, id="list"),
        pytest.param((1.0, 2.0), ARGUMENT_MESSAGE.format("tuple"), ASARRAY_HINT, id="tuple"),
        pytest.param("abc", ARGUMENT_MESSAGE.format("str"), None, id="str"),
        pytest.param(b"abc", ARGUMENT_MESSAGE.format("bytes"), None, id="bytes"),
        pytest.param({"a": 1}, ARGUMENT_MESSAGE.format("dict"), None, id="dict"),
        pytest.param(None, ARGUMENT_MESSAGE.format("NoneType"), None, id="None"),
        pytest.param(np.float16(1.0), ARGUMENT_MESSAGE.format("float16"), None,
                     id="float16-scalar"),
        pytest.param(np.zeros(3, np.float16), DTYPE_MESSAGE.format("float16"), DTYPE_HINT,
                     id="float16-array"),
        pytest.param(np.zeros(3, ">f8"), DTYPE_MESSAGE.format(">f8"), DTYPE_HINT,
                     id="big-endian-array"),
        pytest.param(np.zeros(3, object), DTYPE_MESSAGE.format("object"), DTYPE_HINT,
                     id="object-array"),
        pytest.param(np.array(["a"]), DTYPE_MESSAGE.format("<U1"), DTYPE_HINT,
                     id="string-array"),
        pytest.param(np.zeros(3, "M8[s]"), DTYPE_MESSAGE.format("datetime64[s]"), DTYPE_HINT,
                     id="datetime-array"),
    ],
)
def test_unsupported_argument(tmp_path: Path, value: Any, message: str,
                              hint: str | None) -> None:
    """Arguments are checked before any source is read: a clear error without a location."""
    fn, _ = load(tmp_path, "def kernel(A, x):\n    A[0] = 1.0\n")
    compiled = accir.compile(fn)
    with pytest.raises(UnsupportedError) as info:
        compiled(np.zeros(4), value)
    err = info.value
    assert (err.message, err.hint, err.loc) == (message, hint, None)
    assert str(err) == f"error: {message}" + (f"\nhint: {hint}" if hint else "")
    assert not compiled.signatures  # nothing was compiled


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**70], ids=["2**63", "-2**63-1",
                                                                     "2**70"])
@pytest.mark.parametrize("compiled_first", [False, True], ids=["dispatcher", "native-guard"])
def test_argument_int_too_large(tmp_path: Path, value: int, compiled_first: bool) -> None:
    """Checked by name, whether the call goes through the dispatcher or a compiled
    specialisation's native type guard; the limits themselves are accepted."""
    fn, _ = load(tmp_path, "def kernel(A, x):\n    A[0] = x\n")
    compiled = accir.compile(fn)
    if compiled_first:
        a = np.zeros(4)
        compiled(a, 2**63 - 1)
        compiled(a, -(2**63))
        assert a[0] == float(-(2**63))
    with pytest.raises(UnsupportedError) as info:
        compiled(np.zeros(4), value)
    err = info.value
    message = f"argument 'x' is {value}, which does not fit in the 64-bit integers accir compiles"
    assert (err.message, err.hint, err.loc) == (message, "pass it as a float, or reduce it", None)


def test_too_few_arguments(tmp_path: Path) -> None:
    """Python's own TypeError from binding the arguments (not an AccirError)."""
    fn, _ = load(tmp_path, "def kernel(A, n):\n    A[0] = n\n")
    compiled = accir.compile(fn)
    with pytest.raises(TypeError) as info:
        compiled(np.zeros(4))
    assert type(info.value) is TypeError
    assert str(info.value) == "missing a required argument: 'n'"
    assert not compiled.signatures


def test_too_many_arguments(tmp_path: Path) -> None:
    fn, _ = load(tmp_path, "def kernel(A, n):\n    A[0] = n\n")
    compiled = accir.compile(fn)
    with pytest.raises(TypeError) as info:
        compiled(np.zeros(4), 3, 99)
    assert type(info.value) is TypeError
    assert str(info.value) == "too many positional arguments"
    a = np.zeros(4)
    compiled(a, 3)  # a compiled specialisation does not accept them either
    with pytest.raises(TypeError, match="too many positional arguments"):
        compiled(a, 3, 99)
    with pytest.raises(TypeError, match="unexpected keyword argument 'm'"):
        compiled(a, 3, m=1)


def test_default_parameter_values(tmp_path: Path) -> None:
    fn, _ = load(tmp_path, "def kernel(A, n=3):\n    A[0] = n\n")
    a = np.zeros(4)
    call(fn, (a,))
    assert a[0] == 3.0


# ------------------------------------------------------------------------------ sources


def test_source_unavailable() -> None:
    namespace: dict[str, Any] = {}
    exec("def kernel(A, n):\n    A[0] = n\n", namespace)
    with pytest.raises(UnsupportedError) as info:
        call(namespace["kernel"], vec())
    err = info.value
    assert err.message.startswith("cannot read the source of 'kernel': ")
    assert err.hint == "accir compiles functions defined in files (or registered with linecache)"
    assert err.loc is None
    assert str(err).startswith("error: cannot read the source of 'kernel'")


NOT_A_DEF = "'{}' is not a plain function defined with 'def'"
NOT_A_DEF_HINT = ("accir compiles functions written with def (not lambdas, async functions or "
                  "generators)")


@pytest.mark.parametrize(
    ("text", "at", "name"),
    [
        pytest.param("kernel = lambda A, n: n\n", "kernel = lambda", "<lambda>", id="lambda"),
        pytest.param("async def kernel(A, n):\n    A[0] = n\n", "async def kernel", "kernel",
                     id="async-def"),
    ],
)
def test_not_a_plain_function(tmp_path: Path, text: str, at: str, name: str) -> None:
    fn, path = load(tmp_path, text)
    with pytest.raises(UnsupportedError) as info:
        call(fn, vec())
    check_diagnostic(info.value, path, at, None, NOT_A_DEF.format(name), NOT_A_DEF_HINT)


def test_lambda_on_continuation_line(tmp_path: Path) -> None:
    fn, path = load(tmp_path, "KERNELS = dict(\n    kernel=lambda A, n: n)\n",
                    "KERNELS['kernel']")
    with pytest.raises(UnsupportedError) as info:
        call(fn, vec())
    err = info.value
    assert (err.message, err.hint) == (NOT_A_DEF.format("<lambda>"), NOT_A_DEF_HINT)
    line, _, _ = position(path, "kernel=lambda")
    assert err.loc is not None and (err.loc.file, err.loc.line) == (path, line)


def test_method_with_unindented_docstring_lines(tmp_path: Path) -> None:
    text = ('class Kernels:\n    @staticmethod\n    def kernel(A, n):\n'
            '        """Fill A.\n\nSee the notes at column 0.\n"""\n'
            '        A[0] = n\n')
    fn, _ = load(tmp_path, text, "Kernels.kernel")
    a = np.zeros(4)
    call(fn, (a, 3))
    assert a[0] == 3.0


def test_routine_directive_between_decorator_and_def(tmp_path: Path) -> None:
    """'routine' is accepted there (the function is compiled as 'routine seq' anyway)."""
    text = ("@accir.compile\n#pragma acc routine seq\ndef kernel(A, n):\n    A[0] = n\n")
    fn, _ = load(tmp_path, text)
    a = np.zeros(4)
    call(fn, (a, 3))
    assert a[0] == 3.0


def test_directive_between_decorator_and_def(tmp_path: Path) -> None:
    text = ("@accir.compile\n#pragma acc parallel loop\ndef kernel(A, n):\n"
            "    for i in range(n):\n        A[i] = n\n")
    fn, path = load(tmp_path, text)
    with pytest.raises(DirectiveSyntaxError) as info:
        call(fn, vec())
    check_diagnostic(info.value, path, "#pragma acc parallel loop", "parallel",
                     "'parallel loop' directive outside the function body",
                     "directives go inside the function, above the statement they apply to")


def test_directive_error_after_non_ascii(tmp_path: Path) -> None:
    text = ("def kernel(A, n):\n    café = 1.0\n    #pragma acc data copy(café) bogus(A)\n"
            "    A[0] = café\n    #pragma acc end data\n")
    fn, path = load(tmp_path, text)
    with pytest.raises(DirectiveSyntaxError) as info:
        call(fn, vec())
    line, col, _ = position(path, "bogus(A)", "bogus")
    assert info.value.loc is not None
    assert (info.value.loc.line, info.value.loc.col) == (line, col)


def test_ufunc_of_python_bool(tmp_path: Path) -> None:
    fn, _ = load(tmp_path, "def kernel(A, n):\n    A[0] = np.maximum(n > 1, 0)\n")
    a, expected = np.zeros(4), np.zeros(4)
    fn(expected, 3)
    call(fn, (a, 3))
    assert np.array_equal(a, expected)


# ------------------------------------------------------------------------------ tracebacks

TRACEBACK_CASES = {
    "undefined-name": ("def kernel(A, n):\n    A[0] = undefined_thing\n", vec),
    "operand-types": ("def kernel(A, n):\n    A[0] = A[1] & A[2]\n", vec),
    "directive": ("def kernel(A, n):\n    #pragma acc end data\n    A[0] = n\n", vec),
    "directive-grammar": ("def kernel(A, n):\n    #pragma acc parallel bogus\n"
                          "    for i in range(n):\n        A[i] = n\n", vec),
    "argument": ("def kernel(A, n):\n    A[0] = n\n", lambda: (np.zeros(4), [1])),
    "argument-dtype": ("def kernel(A, n):\n    A[0] = n\n",
                       lambda: (np.zeros(4, np.float16), 1)),
}


@pytest.mark.parametrize("name", list(TRACEBACK_CASES))
def test_no_internal_traceback(tmp_path: Path, name: str) -> None:
    """Errors raised through accir.compile carry no chain and no frames of the frontend."""
    text, args = TRACEBACK_CASES[name]
    fn, _ = load(tmp_path, text)
    with pytest.raises(AccirError) as info:
        accir.compile(fn)(*args())
    err = info.value
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__
    frames = [Path(f.filename).as_posix() for f in traceback.extract_tb(err.__traceback__)]
    assert not [f for f in frames if "accir/frontend" in f or "accir/ir" in f], frames
    printed = "".join(traceback.format_exception(err))
    assert "During handling" not in printed
    assert "direct cause" not in printed
    assert "accir/frontend" not in printed.replace("\\", "/")


def test_error_classes() -> None:
    assert issubclass(AccirTypeError, TypeError)
    for cls in (DirectiveSyntaxError, UnsupportedError, AccirTypeError):
        assert issubclass(cls, AccirError)
    assert not issubclass(UnsupportedError, TypeError)


def test_error_is_raised_again_on_the_next_call(tmp_path: Path) -> None:
    """A failed compilation is not cached as a success: the next call reports it again."""
    fn, path = load(tmp_path, "def kernel(A, n):\n    A[0] = undefined_thing\n")
    compiled = accir.compile(fn)
    for _ in range(2):
        with pytest.raises(UnsupportedError) as info:
            compiled(*vec())
        check_diagnostic(info.value, path, "undefined_thing", None,
                         "name 'undefined_thing' is not defined", None)
    assert not compiled.signatures
