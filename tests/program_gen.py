"""Random array programs for the property tests of tests/test_random_programs.py.

`programs()` is a Hypothesis strategy of `Program`s: the Python SOURCE of a module with one
function `def kernel(<arrays>, [x], [n]):` with loop nests over NumPy arrays (and a few helper
functions it may call, HELPERS), valid, terminating and inside the subset of docs/guide.md,
plus the description of its parameters. `cases()` adds 1-3 input data sets (sizes of the
dimensions, contents of the arrays, the scalars) and a memory layout per array argument (C,
Fortran, strided `base[::2]`, reversed), or two arguments that overlap in one buffer;
`Case.build_args()` makes fresh arguments; `load()` imports the source from a real file.

What a program contains:

* 1-3 array parameters A, B, C (1-3 dimensions; float64, float32, int64, int32) whose
  dimensions are the symbols N, M, K, an optional scalar `x` (Python int or float, np.float32,
  np.int64; a Python int may be one of BIG_X, past 2**53) and an optional `n` (always N);
  sometimes `n0, m0 = A.shape` and a local array (`np.zeros`, `np.ones`, `np.full`,
  `np.zeros_like`).
* loop nests of depth 1-3 over `range(...)` with constant, parameter (`n`, `A.shape[1]`,
  `len(B)`) and triangular (`range(i, n)`, `range(i + 1)`, `range(n - 1, i, -1)`) bounds,
  positive and negative steps, rarely a computed step that may be zero; `while` loops driven
  by a counter that is incremented first thing in the body (`while w < 3 and cond:` or
  `while True: ... if w > 3: break`); `break`, `continue`, `return` (mostly under an `if`);
  assignments to a loop variable inside its loop; a variable assigned before a loop used as its
  index and read after it.
* statements: scalar assignments and augmented assignments (`+= -= *= /= //= %=`), tuple
  assignments (`a, b = b, a`), annotated assignments, array stores and augmented stores
  (`A[i, j] = e`, `A[i][j] += e`), `if`/`elif`/`else`, reductions into accumulators, calls of
  `bump(arr, i, v)` / `sweep(arr, v)` (helpers that write into an array argument).
* subscripts `i`, `n - 1 - i`, `-1 - i`, `i - A.shape[0]`, `i - 1`, mostly in range; and on
  purpose sometimes out of range (an IndexError after some iterations did their work):
  `2 * i - j + 3`, `i + 1`, `i + j`, constants, `m % len(B)`, indirect `B[C[i] % len(B)]`.
* expressions: arithmetic on every combination of the scalar types, `//` and `%` with negative
  operands, true division, `** 2`, `** -1`, `abs(...) ** 0.5`, `min`/`max`, `abs`, conditional
  expressions, comparisons (chained too), `and`/`or`/`not`, truth values of numbers,
  `math.sqrt(abs(...))`, `math.exp`, `math.log(abs(...) + 1.0)`, `math.sin`, `math.cos`,
  `math.fabs`, `math.hypot`, `np.sqrt`, `np.minimum`, `np.maximum`, `np.abs`, conversions
  `float()`, `np.float64()`, `np.float32()`, `np.int64()`, `np.int32()`, calls of `scale(a)`,
  `scale(a, b)`, `scale(a, b=...)` (default and keyword arguments), `gap(a, b)` (two returns).
  A divisor of a Python int/float division is guarded against zero (`(d or 1)`, `(abs(d) + 1)`,
  a constant) most of the time; unguarded, CPython may raise ZeroDivisionError.
* inputs: small integers and floats, -0.0, and rarely NaN, inf, the extreme integers of the
  type; sizes 0-5, rarely 7-33 (past LLVM's vector width times its unroll factor).

What a program avoids (differences that docs/guide.md documents):

* Python ints past 64 bits: every Python-int expression has a magnitude bound (`Expr.mag`);
  an expression that could pass EXPR_MAG is reduced with `% m`, one that could pass 2**63 is not
  built; a Python-int variable is reduced with `%=` after `+=`, `-=`, `*=`; accumulators only
  add bounded terms.
* variables whose type differs between paths: every scalar variable is assigned in the
  prologue and only ever gets values of one type (the type a CPython value would have on any
  path); `min`/`max`/`x if c else y` take operands of one type. The exception are
  accumulators `acc = 0` (or `0.0`) that only get `acc += e`, `acc -= e`, `acc = max(acc, e)`
  and are only read by `return acc`: CPython may return the literal where accir returns it
  promoted (`Program.loose_return`).
* `**` with a variable exponent, float-to-int conversions (no float into an integer array,
  no `int()` of a float), reading a variable before it is assigned, a loop variable after a
  loop that may not have run (unless it was assigned before the loop).

And, until they are fixed, the constructs of the open bugs pinned in test_random_programs.py
(each exclusion names its regression test): `a[i][j]` with an index that may be out of
range, Python ints past 2**53 compared with Python floats or divided with `/`, a store of an
out-of-range integer into an int32 array.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import math
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# --- scalar types ------------------------------------------------------------------------------
# "int"/"float" are Python numbers (weak), the others NumPy scalars (strong).

INT, FLOAT = "int", "float"
F64, F32, I64, I32 = "f64", "f32", "i64", "i32"
NP_TYPES = (F64, F32, I64, I32)
TYPES = (INT, FLOAT, *NP_TYPES)
INT_TYPES = (INT, I64, I32)
PY_TYPES = (INT, FLOAT)
DTYPE: dict[str, type] = {F64: np.float64, F32: np.float32, I64: np.int64, I32: np.int32}
CTOR = {F64: "np.float64", F32: "np.float32", I64: "np.int64", I32: "np.int32"}
SAMPLE: dict[str, Any] = {INT: 3, FLOAT: 1.5, F64: np.float64(1.5), F32: np.float32(1.5),
                          I64: np.int64(3), I32: np.int32(3)}

MAX_DIM = 33         # dimension sizes are 0..MAX_DIM (mostly 0..5)
VAR_MAG = 1000       # |value| of a Python-int variable stays below this
EXPR_MAG = 10**6     # |value| of a Python-int expression stays below this (else: `% m`)
INT64_MAG = 2**63 - 1   # ... and of any Python-int subexpression, whatever happens
# values of a "big" Python-int parameter x: past 2**53 (not exact as a float), past 32 bits
BIG_X = [2**53 + 1, -(2**53) - 1, 2**62 + 7, -(2**62) - 7, 2**31, -(2**31) - 1, 2**60 + 1,
         3 * 2**52 + 1]
SYMBOLS = ("N", "M", "K")


def type_tag(value: Any) -> str:
    if type(value) is int:
        return INT
    if type(value) is float:
        return FLOAT
    for tag in NP_TYPES:
        if type(value) is DTYPE[tag]:
            return tag
    raise TypeError(f"no scalar type for {type(value).__name__}")


# --- operations --------------------------------------------------------------------------------


def _mag_sum(m: list[int]) -> int:
    return sum(m)


def _mag_prod(m: list[int]) -> int:
    return math.prod(m)


def _mag_first(m: list[int]) -> int:
    return m[0]


def _mag_second(m: list[int]) -> int:
    return m[1]


def _mag_max(m: list[int]) -> int:
    return max(m)


def _mag_square(m: list[int]) -> int:
    return m[0] * m[0]


def _mag_scale(m: list[int]) -> int:
    return (m[1] if len(m) > 1 else 2) * m[0] + 1


def _any(types: tuple[str, ...]) -> bool:
    return True


def _same(types: tuple[str, ...]) -> bool:
    return len(set(types)) == 1


def _floats(types: tuple[str, ...]) -> bool:
    return all(t not in INT_TYPES for t in types)


def _ints(types: tuple[str, ...]) -> bool:
    return all(t in INT_TYPES for t in types)


def _i32_safe(types: tuple[str, ...]) -> bool:
    return all(t in (INT, I32) for t in types)


@dataclass(frozen=True)
class Op:
    name: str
    template: str                       # "({0} + {1})"
    arity: int
    mag: Callable[[list[int]], int] | None = None   # bound of a Python-int result
    divisor: int | None = None          # the operand that must not be 0 (Python numbers)
    accepts: Callable[[tuple[str, ...]], bool] = _any
    weight: int = 1


OPS = (
    Op("add", "({0} + {1})", 2, _mag_sum, weight=6),
    Op("sub", "({0} - {1})", 2, _mag_sum, weight=5),
    Op("mul", "({0} * {1})", 2, _mag_prod, weight=5),
    Op("div", "({0} / {1})", 2, None, divisor=1, weight=3),
    Op("floordiv", "({0} // {1})", 2, _mag_first, divisor=1, weight=3),
    Op("mod", "({0} % {1})", 2, _mag_second, divisor=1, weight=3),
    Op("neg", "(-{0})", 1, _mag_first),
    Op("abs", "abs({0})", 1, _mag_first, weight=2),
    Op("square", "({0} ** 2)", 1, _mag_square),
    Op("reciprocal", "({0} ** -1)", 1, None, divisor=0, accepts=_floats),
    Op("root", "(abs({0}) ** 0.5)", 1, None, accepts=_floats),
    Op("min", "min({0}, {1})", 2, _mag_max, accepts=_same, weight=2),
    Op("max", "max({0}, {1})", 2, _mag_max, accepts=_same, weight=2),
    Op("max3", "max({0}, {1}, {2})", 3, _mag_max, accepts=_same),
    Op("math.sqrt", "math.sqrt(abs({0}))", 1, weight=2),
    Op("math.exp", "math.exp({0})", 1),
    Op("math.log", "math.log(abs({0}) + 1.0)", 1),
    Op("math.sin", "math.sin({0})", 1),
    Op("math.cos", "math.cos({0})", 1),
    Op("math.fabs", "math.fabs({0})", 1),
    Op("math.hypot", "math.hypot({0}, {1})", 2),
    Op("np.sqrt", "np.sqrt(abs({0}))", 1, accepts=_floats),
    Op("np.minimum", "np.minimum({0}, {1})", 2),
    Op("np.maximum", "np.maximum({0}, {1})", 2),
    Op("np.abs", "np.abs({0})", 1),
    Op("float", "float({0})", 1),
    Op("np.float64", "np.float64({0})", 1),
    Op("np.float32", "np.float32({0})", 1),
    Op("np.int64", "np.int64({0})", 1, accepts=_ints),
    Op("np.int32", "np.int32({0})", 1, accepts=_i32_safe),
    Op("scale", "scale({0})", 1, _mag_scale),
    Op("scale2", "scale({0}, {1})", 2, _mag_scale),
    Op("scale_kw", "scale({0}, b={1})", 2, _mag_scale),
    Op("gap", "gap({0}, {1})", 2, _mag_sum),
)


# Functions of the generated module that the kernel calls (compiled along with it).
HELPERS = """\
def scale(a, b=2):
    return a * b - 1


def gap(a, b):
    if a > b:
        return a - b
    return b - a


def bump(arr, i, v):
    arr[i] += v


def sweep(arr, v):
    for q in range(len(arr) - 1, -1, -1):
        arr[q] = arr[q] * v + 1
"""
HELPER_ENV: dict[str, Any] = {"math": math, "np": np}
exec(HELPERS, HELPER_ENV)


def _result_type(op: Op, types: tuple[str, ...]) -> str | None:
    names = [f"a{k}" for k in range(op.arity)]
    env = {**HELPER_ENV, **{n: SAMPLE[t] for n, t in zip(names, types, strict=True)}}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = eval(op.template.format(*names), env)
        return type_tag(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _build_table() -> dict[str, list[tuple[Op, tuple[str, ...]]]]:
    """For each result type, the (operation, operand types) that produce it."""
    table: dict[str, list[tuple[Op, tuple[str, ...]]]] = {t: [] for t in TYPES}
    for op in OPS:
        for types in _product(TYPES, op.arity):
            if not op.accepts(types):
                continue
            result = _result_type(op, types)
            if result is not None:
                table[result].extend([(op, types)] * op.weight)
    return table


def _product(items: tuple[str, ...], n: int) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for _ in range(n):
        out = [(*p, t) for p in out for t in items]
    return out


PRODUCERS = _build_table()


def result_of(op: str, left: str, right: str) -> str | None:
    """The type of `left op right` (op one of + - * / // %)."""
    names = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floordiv", "%": "mod"}
    return _result_type(next(o for o in OPS if o.name == names[op]), (left, right))


def _storable(dtype: str) -> tuple[str, ...]:
    """The types of the values stored into an array: no floats into integer arrays (NaN and
    inf have no integer value; documented as unspecified)."""
    return INT_TYPES if dtype in INT_TYPES else TYPES


AUG_OPS = ("+", "-", "*", "/", "//", "%")
AUG_RESULT = {(op, a, b): result_of(op, a, b) for op in AUG_OPS for a in TYPES for b in TYPES}


# --- programs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    kind: str                  # "array", "x" or "n"
    type: str                  # the element type of an array, the type of x; INT for n
    dims: tuple[str, ...] = ()  # the dimension symbols of an array
    big: bool = False          # a Python-int x that may be one of BIG_X


@dataclass(frozen=True)
class Program:
    source: str
    params: tuple[Param, ...]
    loose_return: bool         # `return acc` of an accumulator that may still hold its literal

    def __repr__(self) -> str:
        return f"Program(loose_return={self.loose_return}):\n{self.source}"

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(s for s in SYMBOLS if any(s in p.dims for p in self.params))


@dataclass
class Expr:
    text: str
    type: str
    mag: int = 0               # bound of |value| for a Python int

    def __str__(self) -> str:
        return self.text


def _below_2_53(e: Expr) -> Expr:
    """A Python-int expression reduced to a few digits if it may be past 2**53."""
    return Expr(f"({e} % 1000)", INT, 1000) if e.type == INT and e.mag > 2**53 else e


@dataclass
class Arr:
    name: str
    dtype: str
    dims: tuple[str, ...]


@dataclass
class LoopVar:
    name: str
    within: frozenset[str]     # dimension symbols S with 0 <= value < S
    mag: int
    body_indent: int = 0       # the indentation of the loop's body


@dataclass
class Scalar:
    type: str
    mag: int = 0


LOOP_NAMES = ("i", "j", "k", "p", "q", "r", "u", "v")


@dataclass
class Gen:
    """The state of the generation of one program; `draw` is Hypothesis's."""

    draw: Callable[[st.SearchStrategy[Any]], Any]
    params: list[Param] = field(default_factory=list)
    arrays: list[Arr] = field(default_factory=list)
    sizes: dict[str, list[str]] = field(default_factory=dict)   # symbol -> size expressions
    vars: dict[str, Scalar] = field(default_factory=dict)       # assignable, typed variables
    frozen: set[str] = field(default_factory=set)               # variables now loop indices
    accs: dict[str, str] = field(default_factory=dict)          # accumulator -> term type
    scopes: list[dict[str, Scalar]] = field(default_factory=list)
    loops: list[LoopVar] = field(default_factory=list)
    in_loop: int = 0
    lines: list[str] = field(default_factory=list)
    indent: int = 1
    budget: int = 0
    ret: str | None = None
    loose: bool = False
    counter: int = 0
    stop: bool = False          # the block just ended with break/continue/return
    elements_ok: bool = True    # array elements may be read (not in the prologue)
    nesting: int = 0            # of subscripts inside subscripts

    # -- small helpers

    def chance(self, percent: int) -> bool:
        return bool(self.draw(st.integers(0, 99)) < percent)

    def pick(self, items: list[Any] | tuple[Any, ...]) -> Any:
        return self.draw(st.sampled_from(items))

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    @contextlib.contextmanager
    def block(self, header: str, loop: LoopVar | None = None) -> Iterator[None]:
        self.emit(header)
        self.indent += 1
        self.scopes.append({})
        if loop is not None:
            self.loops.append(loop)
        try:
            yield
        finally:
            if loop is not None:
                self.loops.pop()
            self.scopes.pop()
            self.indent -= 1
            self.stop = False

    def readable(self) -> dict[str, Scalar]:
        names = dict(self.vars)
        for scope in self.scopes:
            names.update(scope)
        for loop in self.loops:
            names[loop.name] = Scalar(INT, loop.mag)
        return names

    def assignable(self, type_: str | None = None) -> list[str]:
        return [n for n, s in self.vars.items()
                if n not in self.frozen and (type_ is None or s.type == type_)]

    # -- expressions

    def literal(self, type_: str) -> Expr:
        if type_ in INT_TYPES:
            value = self.draw(st.integers(-4, 9))
            text = str(value) if value >= 0 or type_ != INT else f"({value})"
            return Expr(text if type_ == INT else f"{CTOR[type_]}({value})", type_, abs(value))
        value = self.pick([0.0, 0.5, -1.5, 2.0, 0.1, 3.25, -0.0, 1e-3, 7.0, -2.75, 1.0, -1.0])
        text = repr(value) if math.copysign(1.0, value) > 0 else f"({value!r})"
        return Expr(text if type_ == FLOAT else f"{CTOR[type_]}({value!r})", type_)

    def size(self, symbol: str) -> Expr:
        return Expr(self.pick(self.sizes[symbol]), INT, MAX_DIM)

    def leaf(self, type_: str) -> Expr:
        options: list[Callable[[], Expr]] = [lambda: self.literal(type_)]
        for name, s in self.readable().items():
            if s.type == type_:
                options += [lambda name=name, s=s: Expr(name, type_, s.mag)] * 3
        for arr in self.arrays if self.elements_ok else []:
            if arr.dtype == type_:
                options += [lambda arr=arr: self.element(arr)] * 3
        if type_ == INT:
            options += [lambda: self.size(self.pick(list(self.sizes)))] * 2
            options += [lambda: self.attribute()]
        return self.pick(options)()

    def attribute(self) -> Expr:
        arr = self.pick(self.arrays)
        if self.chance(50):
            return Expr(f"{arr.name}.size", INT, MAX_DIM ** len(arr.dims))
        return Expr(f"{arr.name}.ndim", INT, 3)

    def expr(self, type_: str, depth: int = 2) -> Expr:
        if depth <= 0 or self.chance(30):
            return self.leaf(type_)
        if self.chance(8):
            then, other = self.expr(type_, depth - 1), self.expr(type_, depth - 1)
            return Expr(f"({then} if {self.cond(1)} else {other})", type_,
                        max(then.mag, other.mag))
        op, types = self.pick(PRODUCERS[type_])
        args = [self.expr(t, depth - 1) for t in types]
        for k, a in enumerate(args[:-1]):
            if a.type == INT and a.mag >= 2**31 and I32 in types[k + 1:]:
                # accir checks that the int fits int32 before it evaluates the operands after
                # it (test_regression_int_operand_checked_before_next_operand)
                args[k] = Expr(f"({a} % 1000)", INT, 1000)
        if op.name == "div" and types == (INT, INT):
            # the cpu target divides Python ints past 2**53 after rounding them to floats
            # (test_regression_int_true_division_rounding)
            args = [_below_2_53(a) for a in args]
        if op.divisor is not None and all(t in PY_TYPES for t in types) and self.chance(92):
            args[op.divisor] = self.guard(args[op.divisor])
        text = op.template.format(*args)
        if type_ != INT:
            return Expr(text, type_)
        assert op.mag is not None
        mag = op.mag([a.mag for a in args])
        if mag > INT64_MAG:
            return self.leaf(type_)
        if mag > EXPR_MAG:
            modulus = self.draw(st.integers(2, 17))
            return Expr(f"({text} % {modulus})", INT, modulus)
        return Expr(text, INT, mag)

    def guard(self, divisor: Expr) -> Expr:
        """The divisor of a Python-number division, made non-zero."""
        one = "1" if divisor.type == INT else "1.0"
        form = self.draw(st.integers(0, 2))
        if form == 0:
            return Expr(f"({divisor} or {one})", divisor.type, max(divisor.mag, 1))
        if form == 1:
            return Expr(f"(abs({divisor}) + {one})", divisor.type, divisor.mag + 1)
        value = self.pick([-3, -1, 2, 5]) if divisor.type == INT else self.pick([-2.5, 0.5, 3.0])
        return Expr(f"({value})", divisor.type, abs(int(value)) + 1)

    def any_type(self) -> str:
        return self.pick([INT, INT, FLOAT, *NP_TYPES, *(a.dtype for a in self.arrays)])

    def cond(self, depth: int = 1) -> str:
        form = self.draw(st.integers(0, 11))
        if depth > 0 and form == 0:
            return f"({self.cond(depth - 1)} {self.pick(['and', 'or'])} {self.cond(depth - 1)})"
        if depth > 0 and form == 1:
            return f"(not {self.cond(depth - 1)})"
        if form == 2:
            e1, e2, e3 = (self.expr(self.any_type(), 1) for _ in range(3))
            e1, e2 = self.comparable(e1, e2)
            e2, e3 = self.comparable(e2, e3)
            return f"({e1} {self.compare_op()} {e2} {self.compare_op()} {e3})"
        if form in (3, 4) and self.loops:
            return self.index_cond()
        if form == 5 and self.chance(30):
            return str(self.expr(self.any_type(), 1))
        if form == 6:
            # an int against a float computed from an int: `i < n * 0.5`, `k <= k * 1.0`
            e1 = self.expr(INT, 1)
            e2 = e1 if self.chance(50) else self.expr(INT, 1)
            scale = self.pick(["1.0", "0.5", "1e-3", "-2.0"])
            e1, _ = self.comparable(e1, Expr("", FLOAT))
            return f"({e1} {self.compare_op()} {e2} * {scale})"
        e1, e2 = self.comparable(self.expr(self.any_type(), 1), self.expr(self.any_type(), 1))
        return f"({e1} {self.compare_op()} {e2})"

    def comparable(self, e1: Expr, e2: Expr) -> tuple[Expr, Expr]:
        """The operands of a comparison; a Python int past 2**53 compared with a Python float
        is reduced: accir compares them as floats, CPython exactly
        (test_regression_int_float_comparison_is_exact)."""
        if {e1.type, e2.type} == {INT, FLOAT}:
            return _below_2_53(e1), _below_2_53(e2)
        return e1, e2

    def compare_op(self) -> str:
        return str(self.pick(["<", "<=", ">", ">=", "==", "!="]))

    def index_cond(self) -> str:
        a = self.pick(self.loops).name
        b = self.pick(self.loops).name
        form = self.draw(st.integers(0, 2))
        if form == 0:
            return f"({a} % {self.draw(st.integers(2, 3))} == {self.draw(st.integers(0, 1))})"
        if form == 1:
            return f"({a} {self.compare_op()} {b})"
        return f"({a} + {b} {self.compare_op()} {self.draw(st.integers(0, 6))})"

    # -- subscripts

    def subscript(self, arr: Arr) -> str:
        return ", ".join(self.index(arr, axis) for axis in range(len(arr.dims)))

    def index(self, arr: Arr, axis: int, safe: bool = False) -> str:
        symbol = arr.dims[axis]
        inside = [lv for lv in self.loops if symbol in lv.within]
        if inside and (safe or not self.chance(6)):
            v = self.pick(inside).name
            s = self.size(symbol)
            return str(self.pick([v, v, v, f"{s} - 1 - {v}", f"-1 - {v}", f"{v} - {s}",
                                  f"-({v} + 1)", f"{v} - 1"]))
        return self.odd_index(arr, axis)

    def odd_index(self, arr: Arr, axis: int) -> str:
        """An index that may be out of range."""
        form = self.draw(st.integers(0, 99))
        names = [lv.name for lv in self.loops]
        if form < 50 or (form < 85 and not names):
            return str(self.pick([0, 0, -1, -1, 1]))
        if form < 70:
            v = self.pick(names)
            return str(self.pick([v, f"-1 - {v}", f"{v} // 2"]))
        if form < 80:
            v, w = self.pick(names), self.pick(names)
            return str(self.pick([f"{v} + 1", f"2 * {v} - {w} + 3", f"{v} + {w}",
                                  f"{self.size(arr.dims[axis])} - {v}"]))
        ints = [n for n, v in self.readable().items() if v.type == INT and v.mag <= VAR_MAG]
        if form < 85 and ints:
            m, s = self.pick(ints), self.size(arr.dims[axis])
            return str(self.pick([f"{m} % {s}", f"{m} % {s}", f"-1 - {m} % {s}",
                                  f"{m} + {self.pick(names)}" if names else m]))
        if form < 93 and self.elements_ok and self.nesting == 0:
            ints = [a for a in self.arrays if a.dtype in INT_TYPES]
            if ints:
                self.nesting += 1
                inner = self.element(self.pick(ints))
                self.nesting -= 1
                return f"{inner} % {self.size(arr.dims[axis])}"
        return str(self.expr(INT, 1))

    def element(self, arr: Arr) -> Expr:
        # `a[i][j]` only with indices in range: an IndexError of a later subscript names the
        # wrong axis (test_regression_chained_subscript_error_axis)
        inside = [any(d in lv.within for lv in self.loops) for d in arr.dims]
        if len(arr.dims) > 1 and all(inside) and self.chance(10):
            parts = "][".join(self.index(arr, a, safe=True) for a in range(len(arr.dims)))
            return Expr(f"{arr.name}[{parts}]", arr.dtype)
        return Expr(f"{arr.name}[{self.subscript(arr)}]", arr.dtype)

    # -- statements

    def statements(self, count: int) -> None:
        for _ in range(count):
            if self.stop:
                break
            self.statement()

    def statement(self) -> None:
        self.budget -= 1
        options: list[Callable[[], None]] = [self.store] * 4 + [self.assign] * 2
        options += [self.aug_assign] * 2
        if self.accs:
            options += [self.accumulate] * 2
        if self.budget > 0:
            options += [self.if_stmt] * 2
            if self.in_loop < 3:
                options += [self.for_loop] * 3 + [self.while_loop]
        if self.in_loop:
            options += [self.jump]
        if len(self.assignable()) >= 2:
            options += [self.swap]
        if self.loops:
            options += [self.clobber]
        if any(len(a.dims) == 1 for a in self.arrays):
            options += [self.call]
        self.pick(options)()

    def call(self) -> None:
        """`bump(arr, i, v)` (arr[i] += v) or `sweep(arr, v)` on a 1-D array."""
        arr = self.pick([a for a in self.arrays if len(a.dims) == 1])
        op = self.pick(["+", "*"])
        type_ = self.pick([t for t in TYPES if AUG_RESULT[(op, arr.dtype, t)]
                           in _storable(arr.dtype)])
        value = self.expr(type_, 1)
        if op == "+":
            self.emit(f"bump({arr.name}, {self.index(arr, 0)}, {value})")
        else:
            self.emit(f"sweep({arr.name}, {value})")

    def swap(self) -> None:
        """`a, b = b, a` of two variables of one type, or `a, b = e1, e2`."""
        a = self.pick(self.assignable())
        others = [n for n in self.assignable(self.vars[a].type) if n != a]
        if not others:
            return self.assign()
        b = self.pick(others)
        if self.chance(70):
            self.emit(f"{a}, {b} = {b}, {a}")
        else:
            type_ = self.vars[a].type
            e1, e2 = self.expr(type_, 1), self.expr(type_, 1)
            if type_ == INT:
                e1 = Expr(f"{e1} % 31", INT, 31)
            self.emit(f"{a}, {b} = {e1}, {b if type_ == INT else e2}")
        return None

    def clobber(self) -> None:
        """An assignment to a loop variable in the loop's body: the next iteration starts from
        the next value of the range all the same. For the rest of the body the variable is no
        longer known to be in range."""
        loop = self.pick(self.loops)
        value = self.expr(INT, 1)
        if value.mag > VAR_MAG:
            value = Expr(f"{value} % {self.pick([3, 7, -4])}", INT, 7)
        self.emit(f"{loop.name} = {value}")
        loop.within = frozenset()
        loop.mag = max(loop.mag, value.mag)

    def body(self) -> None:
        count = 1 if self.budget <= 1 else self.draw(st.integers(1, 3))
        self.statements(count)

    def assign(self) -> None:
        names = self.assignable()
        if not names:
            return self.store()
        name = self.pick(names)
        var = self.vars[name]
        value = self.expr(var.type)
        if var.type == INT and value.mag > VAR_MAG:
            value = Expr(f"{value} % {self.draw(st.integers(2, 50))}", INT, 50)
        self.emit(f"{name} = {value}")
        return None

    def aug_assign(self) -> None:
        names = self.assignable()
        if not names:
            return self.store()
        name = self.pick(names)
        var = self.vars[name]
        choices = [(op, t) for (op, a, t), r in AUG_RESULT.items() if a == var.type and r == a]
        op, type_ = self.pick(choices)
        value = self.expr(type_, 1)
        if value.type == INT and value.mag > EXPR_MAG:
            value = Expr(f"({value} % 97)", INT, 97)
        if op in ("/", "//", "%") and var.type in PY_TYPES and type_ in PY_TYPES and \
                self.chance(92):
            value = self.guard(value)
        self.emit(f"{name} {op}= {value}")
        if var.type == INT and op in ("+", "-", "*"):
            self.emit(f"{name} %= {self.pick([7, 13, -5, 97, 200])}")
        elif var.type == INT and op == "%" and value.mag > VAR_MAG:
            self.emit(f"{name} %= 11")
        return None

    def accumulate(self) -> None:
        name = self.pick(list(self.accs))
        term = self.expr(self.accs[name])
        if term.type == INT and term.mag > EXPR_MAG:
            term = Expr(f"({term} % 1000)", INT, 1000)
        form = self.draw(st.integers(0, 5))
        if form <= 2:
            self.emit(f"{name} += {term}")
        elif form == 3:
            self.emit(f"{name} -= {term}")
        else:
            self.emit(f"{name} = {self.pick(['max', 'min'])}({name}, {term})")

    def store(self) -> None:
        arr = self.pick(self.arrays)
        target = self.element(arr).text
        if self.chance(40):
            return self.aug_store(arr, target)
        type_ = self.pick(_storable(arr.dtype))
        value = self.expr(type_)
        if arr.dtype == I32 and (value.mag >= 2**31 or value.type == I64):
            # accir converts the value before it checks the index: an OverflowError where
            # CPython raises IndexError (test_regression_store_checks_index_first)
            value = Expr(f"({value} % 1000)", INT, 1000)
        self.emit(f"{target} = {value}")
        return None

    def aug_store(self, arr: Arr, target: str) -> None:
        choices = [(op, t) for (op, a, t), r in AUG_RESULT.items()
                   if a == arr.dtype and r is not None and r in _storable(arr.dtype)]
        op, type_ = self.pick(choices)
        self.emit(f"{target} {op}= {self.expr(type_, 1)}")

    def if_stmt(self) -> None:
        with self.block(f"if {self.cond(2)}:"):
            self.body()
        while self.budget > 0 and self.chance(30):
            with self.block(f"elif {self.cond(1)}:"):
                self.body()
        if self.budget > 0 and self.chance(40):
            with self.block("else:"):
                self.body()

    def jump(self) -> None:
        options = ["break", "continue", "return"]
        word = self.pick(options)
        if word == "return":
            word = "return" if self.ret is None else f"return {self.expr(self.ret)}"
        if self.chance(80):
            with self.block(f"if {self.cond(1)}:"):
                self.emit(word)
        else:
            self.emit(word)
            self.stop = True   # nothing after it in this block

    # -- loops

    def loop_name(self) -> str:
        busy = {lv.name for lv in self.loops} | set(self.readable())
        declared = [n for n in self.assignable(INT) if self.vars[n].mag <= VAR_MAG]
        if declared and self.chance(10):
            return str(self.pick(declared))
        return str(self.pick([n for n in LOOP_NAMES if n not in busy]))

    def range_header(self) -> tuple[str, frozenset[str], int]:
        symbol = self.pick(list(self.sizes))
        s = self.size(symbol)
        within = frozenset([symbol])
        outer = [lv for lv in self.loops if symbol in lv.within]
        form = self.draw(st.integers(0, 11))
        if form <= 1 or form >= 10:
            return f"range({s})", within, MAX_DIM
        if form == 2:
            return str(self.pick([f"range({s} - 1, -1, -1)", f"range(1, {s})",
                                  f"range(0, {s}, 2)", f"range({s} - 1, 0, -2)",
                                  f"range({s} - 2, -1, -3)"])), within, MAX_DIM
        if form in (3, 4) and outer:
            u = self.pick(outer).name
            return str(self.pick([f"range({u}, {s})", f"range({u} + 1)", f"range({u})",
                                  f"range({u}, -1, -1)", f"range({s} - 1, {u}, -1)",
                                  f"range({u} + 1, {s})"])), within, MAX_DIM
        if form == 5:
            lo, hi = self.draw(st.integers(-3, 3)), self.draw(st.integers(-2, 6))
            step = self.pick([1, 2, 3, -1, -2])
            return f"range({lo}, {hi}, {step})", frozenset(), 6
        if form == 6:
            return str(self.pick([f"range({s} + 1)", f"range(-{s}, 0)", f"range({s} - 3)",
                                  f"range(min({s}, 3))"])), frozenset(), MAX_DIM + 1
        if form == 7 and self.chance(8):
            # a step that may be zero at run time (ValueError when the loop is reached)
            names = [n for n, v in self.readable().items() if v.type == INT]
            step = self.pick([*names, self.size(self.pick(list(self.sizes))).text,
                              str(self.draw(st.integers(0, 4)))])
            return f"range(0, {s}, {step} % 3 - 1)", frozenset(), MAX_DIM
        return f"range({self.draw(st.integers(0, 4))})", frozenset(), 4

    def for_loop(self) -> None:
        name = self.loop_name()
        header, within, mag = self.range_header()
        declared = name in self.vars
        loop = LoopVar(name, within, mag, self.indent + 1)
        if declared:
            self.frozen.add(name)
        if self.chance(15):
            self.emit(self.loop_directive())
        self.in_loop += 1
        with self.block(f"for {name} in {header}:", loop):
            self.body()
        self.in_loop -= 1
        if declared:
            self.frozen.discard(name)
            self.vars[name] = Scalar(INT, max(VAR_MAG, mag))

    def loop_directive(self) -> str:
        """An OpenACC loop directive (on the CPU, parallel loops run on threads)."""
        arrays = ", ".join(a.name for a in self.arrays)
        options = ["#pragma acc parallel loop", "#pragma acc loop seq",
                   "#pragma acc loop independent", "#pragma acc kernels loop",
                   f"#pragma acc parallel loop copy({arrays})",
                   "#pragma acc loop gang vector"]
        accs = [a for a, t in self.accs.items() if t in (INT, FLOAT)]
        if accs:
            options.append(f"#pragma acc parallel loop reduction(+:{self.pick(accs)})")
        return str(self.pick(options))

    def while_loop(self) -> None:
        w = self.fresh("w")
        limit = self.pick([str(self.draw(st.integers(1, 4))), str(self.size(self.pick(
            list(self.sizes))))])
        self.emit(f"{w} = 0")
        self.scopes[-1][w] = Scalar(INT, MAX_DIM + 1)
        self.in_loop += 1
        if self.chance(25):
            with self.block("while True:"):
                self.emit(f"{w} += 1")
                with self.block(f"if {w} > {limit}:"):
                    self.emit("break")
                self.body()
        else:
            with self.block(f"while {w} < {limit} and {self.cond(1)}:"):
                self.emit(f"{w} += 1")
                self.body()
        self.in_loop -= 1

    # -- the function

    def signature(self, twins: bool = False) -> None:
        """The parameters; with `twins`, B has the shape and type of A (so that a test can pass
        overlapping views of one buffer)."""
        count = self.draw(st.integers(2 if twins else 1, 3))
        for k in range(count):
            ndim = self.pick([1, 1, 2, 2, 2, 3])
            dims = tuple(self.pick(SYMBOLS[:2] if ndim < 3 else SYMBOLS) for _ in range(ndim))
            if k == 0:
                dims = ("N", *dims[1:])
            dtype = self.pick(NP_TYPES)
            if twins and k == 1:
                dims, dtype = self.params[0].dims, self.params[0].type
            name = "ABC"[k]
            self.params.append(Param(name, "array", dtype, dims))
            self.arrays.append(Arr(name, dtype, dims))
            for axis, symbol in enumerate(dims):
                self.sizes.setdefault(symbol, []).append(f"{name}.shape[{axis}]")
                if axis == 0:
                    self.sizes[symbol].append(f"len({name})")
        if self.chance(60):
            type_ = self.pick([INT, INT, FLOAT, FLOAT, F32, I64])
            big = type_ == INT and self.chance(50)
            self.params.append(Param("x", "x", type_, big=big))
            self.scopes[0]["x"] = Scalar(type_, max(map(abs, BIG_X)) if big else 9)
        if self.chance(60):
            self.params.append(Param("n", "n", INT))
            self.sizes["N"] += ["n", "n"]

    def prologue(self) -> None:
        first = self.arrays[0]
        if len(first.dims) == 2 and self.chance(20):
            self.emit(f"n0, m0 = {first.name}.shape")
            self.sizes[first.dims[0]].append("n0")
            self.sizes[first.dims[1]].append("m0")
        if self.chance(25):
            self.local_array()
        for _ in range(self.draw(st.integers(0, 4))):
            self.declare()
        for _ in range(self.draw(st.integers(0, 2))):
            acc = self.fresh("acc")
            self.accs[acc] = self.pick(TYPES)
            init = "0" if self.accs[acc] in INT_TYPES else self.pick(["0", "0.0"])
            self.emit(f"{acc} = {init}")

    def declare(self) -> None:
        type_ = self.pick([INT, INT, FLOAT, *NP_TYPES])
        name = self.fresh("s" if type_ not in INT_TYPES else "m")
        value = self.expr(type_, 1) if self.chance(50) else self.literal(type_)
        if type_ == INT and value.mag > VAR_MAG:
            value = Expr(f"{value} % 10", INT, 10)
        annotation = {INT: ": int", FLOAT: ": float"}.get(type_, "") if self.chance(20) else ""
        self.emit(f"{name}{annotation} = {value}")
        self.vars[name] = Scalar(type_, VAR_MAG)

    def local_array(self) -> None:
        name = "T"
        like = self.pick(self.arrays)
        form = self.draw(st.integers(0, 3))
        dtype = self.pick(NP_TYPES)
        dtype_text = f"np.{np.dtype(DTYPE[dtype]).name}"
        dims = like.dims
        shape = ", ".join(self.size(d).text for d in dims)
        shape = f"({shape},)" if len(dims) == 1 else f"({shape})"
        if form == 0:
            text = f"np.zeros({shape})"
            dtype = F64
        elif form == 1:
            text = f"np.ones({shape}, dtype={dtype_text})"
        elif form == 2:
            value = self.pick(["2", "-1"]) if dtype in INT_TYPES else "1.5"
            text = f"np.full({shape}, {value}, dtype={dtype_text})"
        else:
            text = f"np.zeros_like({like.name})"
            dtype = like.dtype
        self.emit(f"{name} = {text}")
        self.arrays.append(Arr(name, dtype, dims))

    def epilogue(self) -> None:
        if self.ret is None:
            return
        accs = [a for a, t in self.accs.items() if t == self.ret]
        if accs and self.chance(60):
            self.loose = True
            self.emit(f"return {self.pick(accs)}")
        else:
            self.emit(f"return {self.expr(self.ret)}")


@st.composite
def programs(draw: Callable[[st.SearchStrategy[Any]], Any], twins: bool = False) -> Program:
    g = Gen(draw, scopes=[{}])
    g.signature(twins)
    g.ret = draw(st.sampled_from([None, *TYPES, *TYPES]))
    g.elements_ok = False
    g.prologue()
    g.elements_ok = True
    for _ in range(draw(st.integers(1, 3))):
        g.budget = draw(st.integers(2, 9))
        if draw(st.integers(0, 9)) < 8:
            data = draw(st.integers(0, 9)) == 0
            if data:
                g.emit(f"#pragma acc data copy({', '.join(a.name for a in g.arrays)})")
            g.for_loop()
            if data:
                g.emit("#pragma acc end data")
        else:
            draw(st.sampled_from([g.assign, g.aug_assign, g.if_stmt, g.store]))()
    g.epilogue()
    names = ", ".join(p.name for p in g.params)
    source = "\n".join(["import math", "", "import numpy as np", "", "", HELPERS, "",
                        f"def kernel({names}):", *g.lines, ""])
    return Program(source, tuple(g.params), g.loose)


# --- inputs ------------------------------------------------------------------------------------

FLOAT_VALUES = [0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, -0.0, 4.75, -7.0]
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf]
LAYOUTS = ("C", "F", "S", "R")   # C order, Fortran order, strided view base[::2], reversed view


BIG_INTS = {I32: [2**31 - 1, -(2**31), 2**30, -(2**24) - 1],
            I64: [2**63 - 1, -(2**63), 2**62, 2**53 + 1]}


def _int_elements(type_: str) -> st.SearchStrategy[Any]:
    """Small integers; rarely the extremes of the type (overflow wraps, conversions round)."""
    return st.one_of(*[st.integers(-5, 9)] * 12, st.sampled_from(BIG_INTS[type_]))


def _float_elements(type_: str) -> st.SearchStrategy[Any]:
    width = 32 if type_ == F32 else 64
    return st.one_of(st.sampled_from(FLOAT_VALUES), st.sampled_from(FLOAT_VALUES),
                     st.floats(-10, 10, width=width, allow_subnormal=False),
                     st.sampled_from(SPECIAL_FLOATS))


@dataclass(frozen=True)
class DataSet:
    sizes: dict[str, int]
    values: tuple[Any, ...]    # per parameter: an array (C order), a scalar


@dataclass(frozen=True)
class Case:
    program: Program
    layouts: tuple[str, ...]   # per parameter ("-" for scalars)
    datasets: tuple[DataSet, ...]
    alias: tuple[int, int, int] | None = None   # see build_args

    def __repr__(self) -> str:
        text = "\n".join(describe_args(self.program, d, self.layouts) for d in self.datasets)
        if self.alias is not None:
            i, j, shift = self.alias
            a, b = self.program.params[i].name, self.program.params[j].name
            text += (f"\n{a} and {b} share one buffer: buf = np.concatenate([{a}, {b}[-{shift}:]])"
                     f" if {shift} else {a}; {a} = buf[:len({a})]; {b} = buf[{shift}:][:len({a})]")
        return f"{self.program!r}\n{text}"

    def build_args(self, data: DataSet) -> tuple[tuple[Any, ...], list[np.ndarray]]:
        return build_args(self.program, data, self.layouts, self.alias)


def scalar_value(type_: str, big: bool = False) -> st.SearchStrategy[Any]:
    if type_ == INT:
        if big:
            return st.one_of(st.sampled_from(BIG_X), st.sampled_from(BIG_X), st.integers(-5, 9))
        return st.integers(-5, 9)
    if type_ == FLOAT:
        return st.sampled_from(FLOAT_VALUES) | st.floats(-10, 10, allow_nan=False)
    return _float_elements(type_).map(DTYPE[type_]) if type_ not in INT_TYPES else \
        st.integers(-5, 9).map(DTYPE[type_])


SMALL_SIZES = [0, 1, 1, 2, 3, 3, 4, 5]
# sizes past LLVM's vector width times its unroll factor, with remainders (rarely: slower)
LARGE_SIZES = [7, 8, 9, 15, 16, 17, 20, 31, 33]


def _sizes(draw: Callable[[st.SearchStrategy[Any]], Any], program: Program) -> dict[str, int]:
    large = draw(st.integers(0, 99)) < 15
    cap = 9 if any(len(p.dims) == 3 for p in program.params) else MAX_DIM
    big = [s for s in LARGE_SIZES if s <= cap]
    return {s: draw(st.sampled_from(big if large and draw(st.booleans()) else SMALL_SIZES))
            for s in program.symbols}


def _random_array(seed: int, type_: str, shape: tuple[int, ...]) -> np.ndarray:
    """A big array of the values `_int_elements`/`_float_elements` draw, from a seed."""
    rng = np.random.default_rng(seed)
    size = math.prod(shape)
    if type_ in INT_TYPES:
        values = rng.integers(-5, 10, size).astype(object)
        rare = rng.random(size) < 0.02
        values[rare] = rng.choice(np.array(BIG_INTS[type_], dtype=object), int(rare.sum()))
    else:
        values = rng.choice(np.array(FLOAT_VALUES), size)
        uniform = rng.random(size) < 0.3
        values[uniform] = rng.uniform(-10, 10, int(uniform.sum()))
        rare = rng.random(size) < 0.02
        values[rare] = rng.choice(np.array(SPECIAL_FLOATS), int(rare.sum()))
    return np.array(values.tolist(), dtype=DTYPE[type_]).reshape(shape)


@st.composite
def datasets(draw: Callable[[st.SearchStrategy[Any]], Any], program: Program) -> DataSet:
    sizes = _sizes(draw, program)
    values: list[Any] = []
    for p in program.params:
        if p.kind == "array":
            shape = tuple(sizes[d] for d in p.dims)
            if math.prod(shape) > 64:
                seed = draw(st.integers(0, 2**32 - 1))
                values.append(_random_array(seed, p.type, shape))
                continue
            elems = _int_elements(p.type) if p.type in INT_TYPES else _float_elements(p.type)
            values.append(draw(hnp.arrays(DTYPE[p.type], shape, elements=elems)))
        elif p.kind == "n":
            values.append(sizes["N"])
        else:
            values.append(draw(scalar_value(p.type, p.big)))
    return DataSet(sizes, tuple(values))


@st.composite
def cases(draw: Callable[[st.SearchStrategy[Any]], Any], layouts: str = "C",
          max_datasets: int = 3, aliasing: bool = False) -> Case:
    """A program with 1..max_datasets data sets; `layouts` "C" (all C order), "mixed" (C
    mostly) or "other" (at least one array argument not C-contiguous). With `aliasing`, the
    array arguments A and B are views of one buffer, B shifted by 0-2 rows."""
    program = draw(programs(twins=aliasing))
    chosen = []
    for p in program.params:
        if p.kind != "array":
            chosen.append("-")
        elif layouts == "C":
            chosen.append("C")
        else:
            chosen.append(draw(st.sampled_from(LAYOUTS if layouts == "other" else "CCCFSR")))
    if layouts == "other" and all(c in "C-" for c in chosen):
        k = next(i for i, p in enumerate(program.params) if p.kind == "array")
        chosen[k] = draw(st.sampled_from(LAYOUTS[1:]))
    count = draw(st.integers(1, max_datasets))
    data = tuple(draw(datasets(program)) for _ in range(count))
    alias = (0, 1, draw(st.sampled_from([0, 1, 1, 2]))) if aliasing else None
    return Case(program, tuple(chosen), data, alias)


SENTINEL = 99


def with_layout(data: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """A fresh array equal to `data` with the layout, and the buffer that holds it."""
    if layout == "F":
        a = np.asfortranarray(data.copy())
        return a, a
    if layout == "S":
        buf = np.full(tuple(2 * s for s in data.shape), SENTINEL, dtype=data.dtype)
        view = buf[(slice(None, None, 2),) * data.ndim]
        view[...] = data
        return view, buf
    if layout == "R":
        buf = data[::-1].copy()
        return buf[::-1], buf
    a = np.ascontiguousarray(data.copy())
    return a, a


def build_args(program: Program, data: DataSet, layouts: tuple[str, ...],
               alias: tuple[int, int, int] | None = None
               ) -> tuple[tuple[Any, ...], list[np.ndarray]]:
    """Fresh arguments, and the buffers (of the array arguments) to compare afterwards.

    With `alias` (i, j, shift), parameters i and j (C order, one shape) are views of one
    buffer: i its first rows, j the same number of rows from row `shift` on (the same array
    when shift is 0); the buffer holds i's data, then the last `shift` rows of j's."""
    args, buffers = [], []
    for p, value, layout in zip(program.params, data.values, layouts, strict=True):
        if p.kind == "array":
            a, buf = with_layout(value, layout)
            args.append(a)
            buffers.append(buf)
        else:
            args.append(value)
    if alias is not None:
        i, j, shift = alias
        first, second = data.values[i], data.values[j]
        rows = len(first)
        tail = second[rows - shift:] if shift <= rows else \
            np.full((shift, *first.shape[1:]), SENTINEL, dtype=first.dtype)
        buf = np.concatenate([first, tail])
        args[i], args[j] = buf[:rows], buf[shift:shift + rows]
        buffers[_array_index(program, i)] = buffers[_array_index(program, j)] = buf
    return tuple(args), buffers


def _array_index(program: Program, k: int) -> int:
    """The position of parameter k among the array parameters."""
    return sum(1 for p in program.params[:k] if p.kind == "array")


def describe_args(program: Program, data: DataSet, layouts: tuple[str, ...]) -> str:
    parts = []
    for p, value, layout in zip(program.params, data.values, layouts, strict=True):
        if p.kind == "array":
            text = repr(value.ravel().tolist()).replace("nan", "np.nan").replace("inf", "np.inf")
            parts.append(f"{p.name} = np.array({text}, dtype=np.{value.dtype.name})"
                         f".reshape({value.shape})  # layout {layout}")
        else:
            parts.append(f"{p.name} = {value!r}")
    return "args: " + "; ".join(parts)


# --- loading -----------------------------------------------------------------------------------

_DIR = Path(tempfile.mkdtemp(prefix="accir_random_programs_"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_LOADED: dict[str, Callable[..., Any]] = {}


def load(source: str) -> Callable[..., Any]:
    """The function `kernel` of the source, imported from a real file (so that `inspect` and
    accir can read it); one module per distinct source."""
    fn = _LOADED.get(source)
    if fn is None:
        name = "randprog_" + hashlib.sha1(source.encode()).hexdigest()[:16]
        path = _DIR / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        fn = _LOADED[source] = module.kernel
    return fn
