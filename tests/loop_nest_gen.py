"""Random loop nests in IR form for the properties of the loop transformations
(tests/test_loop_transform_props.py), and a brute-force oracle for reordering their iterations.

`kernels()` draws a `Kernel`: a module with one function

    func @kernel(%A: memref<...>, [%B, %C,] %x: f64, %n: pyint, %m: pyint) -> f64

holding 1-2 loop nests of depth 1-3 (the second nest often has the first one's loops, so
that fusion has something to do) with constant (`0 to 4`), symbolic (`0 to %n`,
`1 to (%n - 1)`) and triangular (`0 to (%i + 1)`, `%i to 5`) bounds, steps 1, 2 and -1,
0-2 statements around each inner loop and 1-3 in the innermost: array stores and augmented
stores, scalar temporaries (`%t`, `%w`, read by later statements; half of them invariant in
the innermost loop, for licm), accumulations (`%s`, `%u`), and sometimes an `if` on loop
variables or an element. Arrays are float64 or int64, 1-3 dimensions, some of them (never
%A) read-only; every subscript is affine (`A[i, j]`, `B[j, i]`, `(2 * %i) - %j + 3`;
coefficients -1..2, small offsets, sometimes `%n`) and every access is `unchecked`: the
generator shifts each subscript so that it cannot be negative, and `Kernel.shapes` makes
every axis long enough for every value the symbols (0..SYM_MAX) and loop variables can
take. The function returns `%s + (%t + (%w + f64(%u)))`.

`perfect_kernels()` draws the class the legality oracle enumerates: one perfect nest of
depth 2-3, constant bounds of 3-6 trips (steps 1 and -1), 1-3 stores in the innermost loop,
sometimes a scalar accumulation.

The oracle: `reversed_pair(nest, new)` takes a perfect nest with constant bounds and a new
order of its iterations (`schedule` runs the loops of a permuted or tiled nest to get it,
`permuted` permutes the loops) and returns two accesses to one location (an array element or
a scalar), at least one a write, in different iterations, that the new order runs the other
way round (None when there is none): the new order is legal exactly when there is none.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from accir.backends.interp import Interpreter
from accir.ir import types as T
from accir.ir.nodes import (
    Assign,
    BinOp,
    Cast,
    Compare,
    Const,
    Expr,
    Function,
    If,
    Intrinsic,
    Load,
    Loop,
    Module,
    Return,
    Stmt,
    Store,
    UnaryOp,
    Var,
)
from accir.ir.printer import print_module

SYM_MAX = 5  # the symbols %n and %m take values 0..SYM_MAX
LOOP_NAMES = ("i", "j", "k")
ARRAY_NAMES = ("A", "B", "C")
N, M = Var("n", T.PYINT), Var("m", T.PYINT)
S, U = Var("s", T.F64), Var("u", T.I64)  # accumulators
TMP, W = Var("t", T.F64), Var("w", T.F64)  # temporaries
X = Var("x", T.F64)  # a scalar parameter
Interval = tuple[int, int]
Scope = list[tuple[Var, Interval]]  # the loop variables around a statement, outermost first


@dataclass(frozen=True)
class Style:
    """What the generator may draw."""

    perfect: bool = False  # one perfect nest, statements only in the innermost loop
    constant: bool = False  # constant bounds only (with `perfect`: 3-6 trips)
    depths: tuple[int, int] = (1, 3)
    ifs: bool = True
    symbols_in_subscripts: bool = True


SEMANTICS = Style()
LEGALITY = Style(perfect=True, constant=True, depths=(2, 3), ifs=False,
                 symbols_in_subscripts=False)


@dataclass(repr=False)
class Kernel:
    """A generated function, the shapes its arrays need, and the symbol values to run it
    with (`datasets`: (n, m, seed) triples)."""

    module: Module
    shapes: dict[str, tuple[int, ...]]
    datasets: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def function(self) -> Function:
        return self.module.entry

    def arguments(self, dataset: tuple[int, int, int]) -> list[Any]:
        """Fresh arrays (small integers, as float64 or int64), %x and the symbols."""
        n, m, seed = dataset
        rng = np.random.default_rng(seed)
        args: list[Any] = []
        for p in self.function.params:
            if isinstance(p.ty, T.ArrayType):
                dtype = np.float64 if p.ty.dtype == T.F64 else np.int64
                args.append(rng.integers(-3, 4, size=self.shapes[p.name]).astype(dtype))
        return [*args, 0.5 + seed, n, m]

    def __repr__(self) -> str:
        return (f"Kernel(shapes={self.shapes}, datasets (n, m, seed)={self.datasets})\n"
                + print_module(self.module))


# ---------------------------------------------------------------------- expressions


def affine_expr(terms: Sequence[tuple[Var, int]], constant: int) -> Expr:
    """`sum(c * v) + constant` as a pyint expression: `((2 * %i) - %j) + 3`."""
    positive = [(v, c) for v, c in terms if c > 0]
    negative = [(v, -c) for v, c in terms if c < 0]

    def term(v: Var, c: int) -> Expr:
        return v if c == 1 else BinOp("*", Const(c, T.PYINT), v)

    e: Expr | None = None
    for v, c in positive:
        e = term(v, c) if e is None else BinOp("+", e, term(v, c))
    if e is None:
        e = Const(constant, T.PYINT)
        constant = 0
    for v, c in negative:
        e = BinOp("-", e, term(v, c))
    return BinOp("+", e, Const(constant, T.PYINT)) if constant else e


def affine_interval(terms: Sequence[tuple[Var, int]], constant: int,
                    intervals: dict[str, Interval]) -> Interval:
    lo = hi = constant
    for v, c in terms:
        a, b = intervals[v.name]
        lo += min(c * a, c * b)
        hi += max(c * a, c * b)
    return lo, hi


# ---------------------------------------------------------------------- the generator


@dataclass
class _Gen:
    draw: st.DrawFn
    style: Style
    arrays: list[Var]
    read_only: set[str]  # arrays no statement stores to
    aligned: bool = False  # subscripts one loop variable per axis, few scalar statements
    temps_live: bool = True  # whether the function returns the temporaries too
    need: dict[str, list[int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"S": 0, "L": 0})

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, items: Sequence[Any]) -> Any:
        return items[self.integer(0, len(items) - 1)]

    def chance(self, percent: int) -> bool:
        """True with about this probability; False (the simpler choice) shrinks better."""
        return self.integer(1, 100) > 100 - percent

    def new_id(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"{kind}{self.counts[kind] - 1}"

    # -------------------------------------------------------------- loops

    def header(self, var: Var, outer: Scope) -> tuple[Expr, Expr, int, Interval]:
        """start, stop, step and the interval of the variable's values."""
        if self.style.constant:
            return self.constant_header(3 if self.style.perfect else 0)
        kind = self.integer(0, 5)
        if kind <= 1 or (kind >= 4 and not outer):
            return self.constant_header(0)
        if kind <= 3:
            return self.symbolic_header()
        return self.triangular_header(outer)

    def constant_header(self, least: int) -> tuple[Expr, Expr, int, Interval]:
        start = self.integer(0, 2)
        trips = self.integer(least, 6) if least else self.pick([2, 3, 4, 0, 1, 5])
        step = self.pick([1, 1, 1, -1]) if least else self.pick([1, 1, 1, 1, 2, -1])
        last = start + max(trips - 1, 0) * abs(step)
        if step == -1:
            return (Const(last, T.PYINT), Const(start - 1, T.PYINT), -1, (start, last))
        return Const(start, T.PYINT), Const(start + trips * step, T.PYINT), step, (start, last)

    def symbolic_header(self) -> tuple[Expr, Expr, int, Interval]:
        sym = self.pick([N, N, M])
        start = self.integer(0, 1)
        if self.chance(15):  # for i = n - 1 down to start
            return (BinOp("-", sym, Const(1, T.PYINT)), Const(start - 1, T.PYINT), -1,
                    (start, SYM_MAX - 1))
        stop: Expr = sym if self.chance(70) else BinOp("-", sym, Const(1, T.PYINT))
        return Const(start, T.PYINT), stop, 1, (start, SYM_MAX - 1)

    def triangular_header(self, outer: Scope) -> tuple[Expr, Expr, int, Interval]:
        o, (lo, hi) = self.pick(outer)
        if self.chance(50):  # for j = 0 to i + 1
            extra = self.integer(0, 1)
            return (Const(0, T.PYINT), BinOp("+", o, Const(extra, T.PYINT)), 1,
                    (0, max(hi + extra - 1, 0)))
        # for j = i (+ 1) to 5 (or n)
        shift = self.integer(0, 1)
        start: Expr = BinOp("+", o, Const(1, T.PYINT)) if shift else o
        first = lo + shift
        if self.chance(30):
            return start, N, 1, (first, max(SYM_MAX - 1, first))
        stop = self.integer(3, 6)
        return start, Const(stop, T.PYINT), 1, (first, max(stop - 1, first))

    def nest(self, depth: int, headers: list[tuple[Var, Expr, Expr, int, Interval]] | None,
             scope: Scope) -> tuple[Loop, list[tuple[Var, Expr, Expr, int, Interval]]]:
        """A nest of `depth` loops (with the given headers, or new ones)."""
        var = Var(LOOP_NAMES[len(scope)], T.PYINT)
        own = headers[0] if headers else (var, *self.header(var, scope))
        _, start, stop, step, interval = own
        lid = self.new_id("L")
        inner_scope = [*scope, (var, interval)]
        inner: Loop | None = None
        used = [own]
        if depth > 1:
            inner, rest = self.nest(depth - 1, headers[1:] if headers else None, inner_scope)
            used += rest
        body = self.body(inner_scope, inner)
        return Loop(lid, var, start, stop, Const(step, T.PYINT), body), used

    def body(self, scope: Scope, inner: Loop | None) -> tuple[Stmt, ...]:
        if inner is not None and (self.style.perfect or not self.chance(40)):
            return (inner,)
        count = self.integer(1, 3) if inner is None else self.integer(1, 2)
        stmts = [self.statement(scope) for _ in range(count)]
        if inner is not None:
            stmts.insert(self.integer(0, len(stmts)), inner)
        return tuple(stmts)

    # -------------------------------------------------------------- statements

    def statement(self, scope: Scope, nested: bool = False) -> Stmt:
        kinds = ["store", "store", "store", "aug_store", "aug_store", "accumulate"]
        if self.aligned:
            kinds = [*kinds[:-1], "temp"]
        elif not self.style.perfect:
            kinds += ["temp", "temp", "temp", "int_accumulate"]
            if self.style.ifs and not nested:
                kinds.append("if")
        return getattr(self, "s_" + self.pick(kinds))(scope)

    @property
    def writable(self) -> list[Var]:
        return [a for a in self.arrays if a.name not in self.read_only]

    def s_store(self, scope: Scope) -> Stmt:
        array = self.pick(self.writable)
        return Store(self.new_id("S"), array, self.subscripts(array, scope),
                     self.value(array.array_type.dtype, scope), checked=False)

    def s_aug_store(self, scope: Scope) -> Stmt:
        array = self.pick(self.writable)
        dtype = array.array_type.dtype
        indices = self.subscripts(array, scope)
        value = BinOp(self.pick(["+", "+", "*"]), Load(array, indices, checked=False),
                      self.value(dtype, scope, 1))
        return Store(self.new_id("S"), array, indices, value, checked=False)

    def s_accumulate(self, scope: Scope) -> Stmt:
        return Assign(self.new_id("S"), S, BinOp("+", S, self.value(T.F64, scope, 1)))

    def s_int_accumulate(self, scope: Scope) -> Stmt:
        return Assign(self.new_id("S"), U, BinOp("+", U, self.value(T.I64, scope, 1)))

    def s_temp(self, scope: Scope) -> Stmt:
        """`t = ...` or `w = ...`, half of the time invariant in the innermost loop."""
        if self.chance(50):
            return Assign(self.new_id("S"), self.pick([TMP, W]),
                          self.value(T.F64, scope[:-1], invariant=True))
        return Assign(self.new_id("S"), self.pick([TMP, W]), self.value(T.F64, scope))

    def s_if(self, scope: Scope) -> Stmt:
        then = (self.statement(scope, nested=True),)
        orelse = (self.statement(scope, nested=True),) if self.chance(40) else ()
        return If(self.condition(scope), then, orelse)

    def condition(self, scope: Scope) -> Expr:
        v, (lo, hi) = self.pick(scope)
        if self.chance(50):
            w, _ = self.pick(scope)
            return Compare(self.pick([">", "<=", "=="]), v, w) if w is not v else \
                Compare(">", v, Const(self.integer(lo, hi), T.PYINT))
        return Compare(">", self.load(T.F64, scope), Const(0.0, T.F64))

    # -------------------------------------------------------------- values

    def value(self, ty: T.ScalarType, scope: Scope, depth: int = 2, invariant: bool = False
              ) -> Expr:
        """A value over the loop variables of `scope`; with `invariant`, reading no scalar
        or array the kernel writes (what licm may hoist)."""
        kinds = ["const", "scalar"] + (["load", "load", "index"] if scope else [])
        if depth > 0:
            kinds += ["binop", "binop", "binop"]
        kind = self.pick(kinds)
        if kind == "binop":
            return BinOp(self.pick(["+", "-", "*"]), self.value(ty, scope, depth - 1, invariant),
                         self.value(ty, scope, depth - 1, invariant))
        if kind == "load":
            return self.load(ty, scope, invariant)
        if kind == "index":
            return Cast(self.pick(scope)[0], ty)
        if kind == "scalar" and ty == T.F64:
            return X if invariant else self.pick([S, TMP, TMP, W, X])
        if kind == "scalar" and not invariant:
            return U
        if ty == T.F64:
            return Const(self.pick([0.5, 2.0, -1.0, 3.0]), T.F64)
        return Const(self.pick([1, 2, -1, 3]), T.I64)

    def load(self, ty: T.ScalarType, scope: Scope, invariant: bool = False) -> Expr:
        """An element of an array of type `ty` (read-only with `invariant`); with none, one of
        another type, converted (only int64 to float64: a float converted to an integer may
        not fit), or a loop variable."""
        arrays = [a for a in self.arrays if not invariant or a.name in self.read_only]
        same = [a for a in arrays if a.array_type.dtype == ty]
        if not same and (ty == T.I64 or not arrays):
            return Cast(self.pick(scope)[0], ty)
        array = self.pick(same or arrays)
        load = Load(array, self.subscripts(array, scope), checked=False)
        return load if array.array_type.dtype == ty else Cast(load, ty)

    def subscripts(self, array: Var, scope: Scope) -> tuple[Expr, ...]:
        ndim = array.array_type.ndim
        if self.aligned or self.chance(50):  # one loop variable per axis: A[i, j], B[j, i]
            chosen = self.draw(st.permutations(scope))
            return tuple(self.subscript(array, axis, scope, [chosen[axis % len(chosen)][0]])
                         for axis in range(ndim))
        return tuple(self.subscript(array, axis, scope) for axis in range(ndim))

    def subscript(self, array: Var, axis: int, scope: Scope, vars_: list[Var] | None = None
                  ) -> Expr:
        """An affine subscript (over `vars_` with coefficient 1, or random), shifted to be
        non-negative; records the size it needs."""
        terms: list[tuple[Var, int]] = [(v, 1) for v in vars_ or ()]
        if vars_ is None and not self.chance(10):  # else a constant
            count = 1 if self.chance(60) else 2
            for v, _ in self.draw(st.lists(st.sampled_from(scope), min_size=1, max_size=count,
                                           unique_by=lambda x: x[0].name)):
                terms.append((v, self.pick([1, 1, 1, 2, -1])))
        if self.style.symbols_in_subscripts and self.chance(8):
            terms.append((N, 1))
        constant = self.pick([0, 0, 0, 1, 2]) if vars_ else self.integer(0, 2)
        intervals = {v.name: iv for v, iv in scope} | {"n": (0, SYM_MAX)}
        lo, hi = affine_interval(terms, constant, intervals)
        if lo < 0:
            constant -= lo
            hi -= lo
        sizes = self.need.setdefault(array.name, [1] * array.array_type.ndim)
        sizes[axis] = max(sizes[axis], hi + 1)
        return affine_expr(terms, constant)


def _arrays(draw: st.DrawFn) -> tuple[list[Var], set[str]]:
    """1-3 arrays, and those of them (never the first) that no statement writes."""
    count = draw(st.integers(1, 3))
    arrays = [Var(name, T.ArrayType(draw(st.sampled_from([T.F64, T.F64, T.I64])),
                                    draw(st.integers(1, 3)), "C"))
              for name in ARRAY_NAMES[:count]]
    return arrays, {a.name for a in arrays[1:] if draw(st.integers(0, 9)) < 4}


def _function(gen: _Gen, nests: list[Loop]) -> Function:
    prologue = [Assign(gen.new_id("S"), v, Const(0.0, T.F64)) for v in (S, TMP, W)]
    prologue.append(Assign(gen.new_id("S"), U, Const(0, T.I64)))
    result: Expr = BinOp("+", S, Cast(U, T.F64))
    if gen.temps_live:
        result = BinOp("+", S, BinOp("+", TMP, BinOp("+", W, Cast(U, T.F64))))
    return Function("kernel", (*gen.arrays, X, N, M),
                    (*prologue, *nests, Return(gen.new_id("S"), result)), T.F64)


def _datasets(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    count = draw(st.integers(1, 2))
    return [(draw(st.integers(0, SYM_MAX)), draw(st.integers(0, SYM_MAX)), seed)
            for seed in range(count)]


@st.composite
def kernels(draw: st.DrawFn, style: Style = SEMANTICS) -> Kernel:
    """A random kernel (see the module docstring) with 1-2 data sets."""
    gen = _Gen(draw, style, *_arrays(draw))
    depth = draw(st.integers(*style.depths))
    second = not style.perfect and draw(st.integers(0, 2)) > 0
    fusable = second and draw(st.integers(0, 9)) < 6  # the same loops twice
    gen.aligned = fusable and draw(st.booleans())  # and subscripts more alike
    gen.temps_live = draw(st.booleans())
    first, headers = gen.nest(depth, None, [])
    nests = [first]
    if fusable:
        nests.append(gen.nest(depth, headers, [])[0])
    elif second:
        nests.append(gen.nest(draw(st.integers(*style.depths)), None, [])[0])
    shapes = {a.name: tuple(gen.need.get(a.name, [1] * a.array_type.ndim))
              for a in gen.arrays}
    return Kernel(Module((_function(gen, nests),)), shapes, _datasets(draw))


def perfect_kernels() -> st.SearchStrategy[Kernel]:
    """One perfect nest of depth 2-3 with constant bounds (3-6 trips each)."""
    return kernels(LEGALITY)


# ---------------------------------------------------------------------- the order oracle


Location = tuple[Any, ...]


def evaluate(e: Expr, env: dict[str, int]) -> int:
    """The value of an affine pyint expression over loop variables (or a `min`/`max` of
    some, as tiled bounds have)."""
    if isinstance(e, Const):
        return int(e.value)  # type: ignore[arg-type]
    if isinstance(e, Var):
        return env[e.name]
    if isinstance(e, BinOp) and e.op in ("+", "-", "*"):
        lhs, rhs = evaluate(e.lhs, env), evaluate(e.rhs, env)
        return lhs + rhs if e.op == "+" else lhs - rhs if e.op == "-" else lhs * rhs
    if isinstance(e, UnaryOp) and e.op == "-":
        return -evaluate(e.operand, env)
    if isinstance(e, Intrinsic) and e.name in ("min", "max"):
        return (min if e.name == "min" else max)(evaluate(x, env) for x in e.args)
    raise TypeError(f"not an affine index expression: {e!r}")


def _reads(e: Expr, env: dict[str, int], loop_vars: set[str]) -> Iterator[Location]:
    """The locations `e` reads, in evaluation order."""
    if isinstance(e, Load):
        for index in e.indices:
            yield from _reads(index, env, loop_vars)
        yield (e.array.name, *(evaluate(x, env) for x in e.indices))
    elif isinstance(e, Var):
        if e.name not in loop_vars and not isinstance(e.ty, T.ArrayType):
            yield (e.name,)
    else:
        for child in (getattr(e, f, None) for f in ("lhs", "rhs", "operand", "value")):
            if isinstance(child, Expr):
                yield from _reads(child, env, loop_vars)


def statement_accesses(s: Stmt, env: dict[str, int], loop_vars: set[str]
                       ) -> list[tuple[Location, bool]]:
    """(location, writes) for each access of a store or assignment, in order."""
    if isinstance(s, Store):
        reads = [r for x in (*s.indices, s.value) for r in _reads(x, env, loop_vars)]
        target = (s.array.name, *(evaluate(x, env) for x in s.indices))
        return [(r, False) for r in reads] + [(target, True)]
    if isinstance(s, Assign):
        return [(r, False) for r in _reads(s.value, env, loop_vars)] + [((s.target.name,), True)]
    raise TypeError(f"the oracle does not handle {type(s).__name__}")


Point = tuple[int, ...]  # the values of a nest's loop variables at one iteration


def schedule(loops: Sequence[Loop], names: Sequence[str], env: dict[str, int] | None = None
             ) -> list[Point]:
    """The iterations of a perfect nest, as values of the variables `names`, in the order
    the loops `loops` (outermost first, bounds over outer variables, constants and `min`)
    run them: the original nest, a permutation of its loops, or a tiled nest."""
    env = env or {}
    if not loops:
        return [tuple(env[n] for n in names)]
    loop = loops[0]
    start, stop, step = (evaluate(x, env) for x in (loop.start, loop.stop, loop.step))
    return [point for value in range(start, stop, step)
            for point in schedule(loops[1:], names, {**env, loop.var.name: value})]


def reversed_pair(nest: Sequence[Loop], new: Sequence[Point]) -> str | None:
    """Two conflicting accesses of the perfect nest `nest` (same location, one a write, in
    different iterations) that the schedule `new` (its iterations in a new order, see
    `schedule`) runs the other way round; None when `new` keeps every such pair in order.
    Raises AssertionError if `new` does not run each iteration exactly once."""
    names = [loop.var.name for loop in nest]
    original = schedule(nest, names)
    assert sorted(new) == sorted(original), \
        f"the new order runs the iterations {sorted(new)}, not {sorted(original)}"
    position = {point: k for k, point in enumerate(new)}
    touched: dict[Location, dict[Point, bool]] = {}
    for point in original:
        env = dict(zip(names, point, strict=True))
        for s in nest[-1].body:
            for location, writes in statement_accesses(s, env, set(names)):
                seen = touched.setdefault(location, {})
                seen[point] = seen.get(point, False) or writes
    for location, points in touched.items():
        # dicts keep insertion order: the original order of the iterations
        for (p, wp), (q, wq) in itertools.combinations(points.items(), 2):
            if (wp or wq) and position[p] > position[q]:
                return (f"{location} at iterations {_named(p, names)} and {_named(q, names)} "
                        f"(writes: {wp}, {wq})")
    return None


def permuted(nest: Sequence[Loop], order: Sequence[int]) -> list[Point]:
    """The schedule of a rectangular nest with its loops in `order` (outermost first)."""
    return schedule([nest[k] for k in order], [loop.var.name for loop in nest])


def _named(point: Point, names: list[str]) -> str:
    return "(" + ", ".join(f"{n}={v}" for n, v in zip(names, point, strict=True)) + ")"


class OutOfRange(Exception):
    """An unchecked subscript outside [0, size): undefined behaviour in compiled code."""


class InRangeInterpreter(Interpreter):
    """The reference interpreter, raising `OutOfRange` for an unchecked access outside its
    array (the plain interpreter would wrap a negative index silently)."""

    def index(self, array: np.ndarray, indices: tuple[Expr, ...], env: dict[str, Any],
              checked: bool) -> tuple[int, ...]:
        index = super().index(array, indices, env, checked)
        if not checked and not all(0 <= v < n for v, n in zip(index, array.shape, strict=True)):
            raise OutOfRange(f"unchecked subscript {index} outside an array of shape "
                             f"{array.shape}")
        return index
