"""Access analysis: every array and scalar access of a function, with its subscripts as affine
forms over the (normalised) indices of the loops around it and over symbols.

Loops are normalised to step +1: `for i in range(start, stop, 1)` keeps `i` over
[start, stop - 1]; any other constant step s gets an iteration counter `i#k` (a fresh leaf)
with `i = start + s*k` over [0, trip - 1], so that directions always follow execution order.

A leaf that is not a loop index is a *symbol* only if it has one value throughout the
function: a parameter never assigned, a variable assigned once at the top level before every
use, or a dimension of such an array. Anything else (a variable changed in a loop, an array
element used as an index, `i * j`, `%`, `//`) makes the subscript non-affine (None), which the
dependence tests treat conservatively. So does a subscript that may be negative (Python
wraps it to the other end of the array) unless it is provably non-negative.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from accir.diagnostics import Loc
from accir.ir.affine import Affine, affine_of
from accir.ir.nodes import (
    Alloc,
    Assign,
    Call,
    Const,
    Dim,
    Expr,
    ExprStmt,
    Function,
    If,
    Load,
    Loop,
    Region,
    Return,
    Stmt,
    Store,
    Var,
    While,
    child_blocks,
)
from accir.ir.rewrite import iter_exprs
from accir.ir.types import PYINT, ArrayType, ScalarType
from accir.ir.uses import assigned_in


@dataclass(frozen=True)
class LoopInfo:
    """A loop around an access, normalised: `index` counts iterations over [lower, upper] in
    execution order and `var = start + step * index` (for unit steps `index` is `var`
    itself). `var` is None when the loop variable is not an affine function of the index:
    a while loop, or a for loop whose body assigns its variable."""

    loop: Loop | While
    var: Var | None
    index: Var
    lower: Affine | None
    upper: Affine | None
    step: int | None  # None: the step is not a constant

    @property
    def lid(self) -> str:
        return self.loop.lid


@dataclass(frozen=True)
class Access:
    stmt_id: str  # S<n> of the statement; L<n> for loop bounds; C<n> for an if condition
    array: str  # the array (or scalar variable) accessed
    write: bool
    subscripts: tuple[Affine | None, ...]  # () for scalars
    loops: tuple[LoopInfo, ...]  # enclosing loops, outermost first
    order: int  # position in execution order within one iteration of every loop
    expr: Expr | Stmt = field(compare=False, repr=False)
    # Staged analysis: the subscripts without the non-negativity requirement, valid when every
    # assumption (an affine form over symbols) is >= 0 at run time (e.g. `k` for a[i + k]).
    optimistic: tuple[Affine | None, ...] = ()
    assumptions: tuple[Affine, ...] = ()

    @property
    def scalar(self) -> bool:
        return not self.subscripts and not isinstance(self.expr, (Load, Store))

    @property
    def loc(self) -> Loc | None:
        return self.expr.loc


@dataclass
class AccessInfo:
    function: Function
    accesses: list[Access]
    symbols: set[str]  # variables with one value throughout the function

    def of_array(self, name: str) -> list[Access]:
        return [a for a in self.accesses if a.array == name]


class AccessAnalysis:
    """Cached by the analysis manager: `manager.get(AccessAnalysis, function)`."""

    name: ClassVar[str] = "accesses"

    @classmethod
    def compute(cls, function: Function, manager: object = None) -> AccessInfo:
        # Unless the arrays were checked not to overlap (see llvm_wrapper.check_overlap), a
        # strided array may repeat elements: its subscripts say nothing.
        return _Collector(function, strided_exact=getattr(manager, "noalias", True)).run()


def symbol_names(fn: Function) -> set[str]:
    """Variables whose value is the same wherever the function reads them."""
    assignments: dict[str, int] = {}
    nested: set[str] = set()

    def visit(body: tuple[Stmt, ...], top: bool) -> None:
        for stmt in body:
            target = stmt.target.name if isinstance(stmt, (Assign, Alloc)) else (
                stmt.var.name if isinstance(stmt, Loop) else None)
            if target is not None:
                assignments[target] = assignments.get(target, 0) + 1
                if not top or isinstance(stmt, Loop):
                    nested.add(target)
            for block in child_blocks(stmt):
                visit(block, top and isinstance(stmt, Region))

    visit(fn.body, True)
    params = {p.name for p in fn.params}
    symbols = {p for p in params if p not in assignments}
    for name, count in assignments.items():
        if count == 1 and name not in nested and name not in params and _defined_before_use(
                fn, name):
            symbols.add(name)
    return symbols


def _defined_before_use(fn: Function, name: str) -> bool:
    """The single top-level assignment of `name` precedes every read of it."""
    for stmt in _top_level(fn.body):
        if isinstance(stmt, (Assign, Alloc)) and stmt.target.name == name:
            return not any(isinstance(e, Var) and e.name == name for e in iter_exprs(stmt)
                           if e is not stmt.target)
        if any(isinstance(e, Var) and e.name == name for e in iter_exprs(stmt)):
            return False
    return False


def _top_level(body: tuple[Stmt, ...]):
    for stmt in body:
        if isinstance(stmt, Region):
            yield from _top_level(stmt.body)
        else:
            yield stmt


class _Collector:
    def __init__(self, fn: Function, strided_exact: bool = True):
        self.fn = fn
        self.strided_exact = strided_exact
        self.symbols = symbol_names(fn)
        self.sizes = size_names(fn, self.symbols)
        self.accesses: list[Access] = []
        self.loops: list[LoopInfo] = []
        self.order = 0
        self.conditions = 0

    def run(self) -> AccessInfo:
        self.block(self.fn.body)
        return AccessInfo(self.fn, self.accesses, self.symbols)

    # ------------------------------------------------------------------ statements

    def block(self, body: tuple[Stmt, ...]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, stmt: Stmt) -> None:
        if isinstance(stmt, Loop):
            self.loop(stmt)
        elif isinstance(stmt, While):  # iterations in order, nothing known of their number
            index = Var(f"{stmt.lid}#w", PYINT)
            self.loops.append(LoopInfo(stmt, None, index, Affine((), 0), None, 1))
            self.reads(stmt.lid, stmt.cond)
            self.block(stmt.body)
            self.loops.pop()
        elif isinstance(stmt, If):
            self.reads(f"C{self.conditions}", stmt.cond)
            self.conditions += 1
            self.block(stmt.then)
            self.block(stmt.orelse)
        elif isinstance(stmt, Region):
            self.block(stmt.body)
        else:
            self.simple(stmt)

    def simple(self, stmt: Stmt) -> None:
        sid = getattr(stmt, "sid", "")
        if isinstance(stmt, Store):
            self.reads(sid, stmt.value, *stmt.indices)
            self.record(sid, stmt.array.name, True, stmt, *self.subscripts(
                stmt.array, stmt.indices, stmt.checked))
        elif isinstance(stmt, Assign):
            self.reads(sid, stmt.value)
            self.record(sid, stmt.target.name, True, stmt)
        elif isinstance(stmt, Alloc):
            self.reads(sid, *stmt.shape, *((stmt.fill,) if stmt.fill is not None else ()))
        elif isinstance(stmt, (ExprStmt, Return)):
            value = stmt.value
            if value is not None:
                self.reads(sid, value)

    def loop(self, loop: Loop) -> None:
        self.reads(loop.lid, loop.start, loop.stop, loop.step)
        self.loops.append(self.normalise(loop))
        self.block(loop.body)
        self.loops.pop()

    # ------------------------------------------------------------------ accesses

    def reads(self, sid: str, *exprs: Expr) -> None:
        """The accesses of expressions, in evaluation order (operands before the operation:
        the arguments of a call, and calls among them, before the call itself)."""
        for root in exprs:
            for e in _evaluation_order(root):
                if isinstance(e, Call):
                    self.call(sid, e)
                elif isinstance(e, Load):
                    self.record(sid, e.array.name, False, e, *self.subscripts(
                        e.array, e.indices, e.checked))
                elif (isinstance(e, Var) and isinstance(e.type, ScalarType)
                      and not self.is_loop_index(e.name)):
                    self.record(sid, e.name, False, e)

    def call(self, sid: str, call: Call) -> None:
        """A called function may read and write any element of the arrays it is given."""
        for arg in call.args:
            if isinstance(arg, Var) and isinstance(arg.type, ArrayType):
                unknown = (None,) * arg.type.ndim
                self.record(sid, arg.name, False, call, unknown, unknown)
                self.record(sid, arg.name, True, call, unknown, unknown)

    def record(self, sid: str, name: str, write: bool, node: Expr | Stmt,
               subscripts: tuple[Affine | None, ...] = (),
               optimistic: tuple[Affine | None, ...] = (),
               assumptions: tuple[Affine, ...] = ()) -> None:
        self.accesses.append(Access(sid, name, write, subscripts, tuple(self.loops),
                                    self.order, node, optimistic, assumptions))
        self.order += 1

    def is_loop_index(self, name: str) -> bool:
        return any(info.var is not None and info.var.name == name for info in self.loops)

    def subscripts(self, array: Var, indices: tuple[Expr, ...], checked: bool = True
                   ) -> tuple[tuple[Affine | None, ...], tuple[Affine | None, ...],
                              tuple[Affine, ...]]:
        """(exact subscripts, subscripts assuming no wrap-around, the assumptions). An
        unchecked subscript is known to lie in [0, shape): it never wraps around, whatever
        the bounds of the loops around it."""
        if not self.strided_exact and isinstance(array.type, ArrayType) and \
                array.type.layout == "A":
            unknown = (None,) * len(indices)
            return unknown, unknown, ()
        exact: list[Affine | None] = []
        optimistic: list[Affine | None] = []
        assumptions: list[Affine] = []
        for index in indices:
            form = self.affine(index)
            minimum = self.minimum(form) if form is not None else None
            if form is not None and not checked:
                exact.append(form)
                optimistic.append(form)
            elif form is None or minimum is None:
                exact.append(None)
                optimistic.append(None)
            elif _provably_nonnegative(minimum, self.sizes):
                exact.append(form)
                optimistic.append(form)
            else:  # it may wrap around to the end of the array: exact only if minimum >= 0
                exact.append(None)
                optimistic.append(form)
                assumptions.append(minimum)
        return tuple(exact), tuple(optimistic), tuple(assumptions)

    # ------------------------------------------------------------------ affine forms

    def affine(self, e: Expr) -> Affine | None:
        """`e` over normalised loop indices and symbols, or None."""
        form = affine_of(e, self.is_leaf)
        if form is None:
            return None
        for info in reversed(self.loops):  # loop variables in terms of normalised indices
            var = info.var
            if var is None or not form.coefficient(var) or info.index is var:
                continue
            assert isinstance(info.loop, Loop)
            if info.step is None or self.affine(info.loop.start) is None:
                return None
            form = form.substitute(var, self.var_form(info))
        return form

    def is_leaf(self, e: Expr) -> bool:
        if isinstance(e, Var):
            return self.is_loop_index(e.name) or e.name in self.symbols
        if isinstance(e, Dim):
            return e.array.name in self.symbols
        return False

    def var_form(self, info: LoopInfo) -> Affine:
        assert isinstance(info.loop, Loop)
        start = self.affine(info.loop.start)
        assert start is not None and info.step is not None
        return start + Affine(((info.index, 1),)).scale(info.step)

    def normalise(self, loop: Loop) -> LoopInfo:
        step = loop.step.value if isinstance(loop.step, Const) else None
        start, stop = self.affine(loop.start), self.affine(loop.stop)
        index = Var(f"{loop.var.name}#k", PYINT)
        if loop.var.name in assigned_in(loop.body):  # the body changes the loop variable
            return LoopInfo(loop, None, index, Affine((), 0), None, 1)
        if step == 1:
            upper = stop - Affine((), 1) if stop is not None else None
            return LoopInfo(loop, loop.var, loop.var, start, upper, 1)
        if not isinstance(step, int) or step == 0 or start is None:
            return LoopInfo(loop, None, index, Affine((), 0), None, 1)
        trips = _constant_trips(start, stop, step)
        upper = Affine((), trips - 1) if trips is not None else None
        if step == -1 and stop is not None:
            upper = start - stop - Affine((), 1)
        return LoopInfo(loop, loop.var, index, Affine((), 0), upper, step)

    def minimum(self, form: Affine) -> Affine | None:
        """The least value of `form` over the iteration space, over symbols (lower bounds for
        positive coefficients, upper bounds for negative ones, innermost loop first); None
        when a bound is unknown."""
        bound = form
        for info in reversed(self.loops):
            c = bound.coefficient(info.index)
            if not c:
                continue
            limit = info.lower if c > 0 else info.upper
            if limit is None:
                return None
            bound = bound.substitute(info.index, limit)
        return bound


def _evaluation_order(e: Expr) -> Iterator[Expr]:
    """Subexpressions, children before their parent (post-order)."""
    for child in _children(e):
        yield from _evaluation_order(child)
    yield e


def _children(e: Expr) -> list[Expr]:
    out: list[Expr] = []
    for f in dataclasses.fields(e):  # type: ignore[arg-type]
        value = getattr(e, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Expr):
                out.append(item)
    return out


def _constant_trips(start: Affine, stop: Affine | None, step: int) -> int | None:
    if stop is None or not start.is_constant or not stop.is_constant:
        return None
    return len(range(start.constant, stop.constant, step))


def _provably_nonnegative(form: Affine, sizes: set[str]) -> bool:
    """A constant >= 0 plus non-negative multiples of array dimensions (or of symbols that
    hold one)."""
    if form.constant < 0:
        return False
    return all(c > 0 and (isinstance(leaf, Dim) or (isinstance(leaf, Var) and leaf.name in sizes))
               for leaf, c in form.terms)


def size_names(fn: Function, symbols: set[str]) -> set[str]:
    """Symbols assigned an array dimension (`n, m = A.shape`, `n = len(a)`): never negative."""
    return {
        stmt.target.name for stmt in _top_level(fn.body)
        if isinstance(stmt, Assign) and stmt.target.name in symbols
        and isinstance(stmt.value, Dim)
    }


def is_array(var: Var) -> bool:
    return isinstance(var.type, ArrayType)
