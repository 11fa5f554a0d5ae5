"""unroll-and-jam: unroll an outer loop of a perfect nest and jam the copies of the body into
the innermost loop, so that a value the copies share is loaded once and kept in a register.

In `for i: for k: for j: C[i, j] += A[i, k] * B[k, j]`, `B[k, j]` does not move with `i`:
unrolled by two in `i`, the innermost body makes two updates from one load of `B[k, j]` (and
unrolled in `k`, it would keep `C[i, j]` in a register across two updates). A loop is unrolled
when some reference of the innermost body is invariant in it but moves with the innermost loop
(it would be loaded again on every iteration): up to `loops` loops per nest, those with the
most such references, by `factor`. The unrolled loop runs `factor` iterations at a time while
that many remain; a copy of the nest runs the rest.

Legal when the unrolled loops could be moved innermost (each element's updates then keep
their order, so results are bit for bit the same); the nest must be reorderable (see
accir.passes.loop_nests), its innermost body array stores only, the unrolled loops' steps 1,
and their variables not read after the nest.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%y: memref<?xf64, C>, %A: memref<?x?xf64, C>, %n: pyint) -> none {
...   var %i: pyint, %j: pyint
...   L0: for %i = 0 to %n step 1 {
...     L1: for %j = 0 to %n step 1 {
...       S0: %y[%j; unchecked] = (%y[%j; unchecked] + %A[%i, %j; unchecked])
...     }
...   }
... }
... ''')
>>> print(print_module(UnrollAndJam().run(m, AnalysisManager()).module), end="")
func @f(%y: memref<?xf64, C>, %A: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 0 to (%n - 1) step 2 {
    L1: for %j = 0 to %n step 1 {
      S0: %y[%j; unchecked] = (%y[%j; unchecked] + %A[%i, %j; unchecked])
      S1: %y[%j; unchecked] = (%y[%j; unchecked] + %A[(%i + 1), %j; unchecked])
    }
  }
  L3: for %i = select((0 < (%n - (%n % 2))), (%n - (%n % 2)), 0) to %n step 1 {
    L2: for %j = 0 to %n step 1 {
      S2: %y[%j; unchecked] = (%y[%j; unchecked] + %A[%i, %j; unchecked])
    }
  }
}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.ir.affine import Affine, affine_of
from accir.ir.nodes import (
    BinOp,
    Const,
    Expr,
    Function,
    Load,
    Loop,
    Module,
    Stmt,
    Store,
    Var,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.ir.types import PYINT
from accir.passes.base import Pass, PassResult
from accir.passes.ids import IdSupply
from accir.passes.loop_nests import (
    NestWalker,
    live_after,
    loop_remark,
    nest_dependences,
    perfect_nest,
    permutation_legal,
    rectangular,
    remainder_start,
    reorder_obstacle,
    unrolled,
    walk_functions,
)
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class UnrollAndJam(Pass):
    name: ClassVar[str] = "unroll-and-jam"
    summary: ClassVar[str] = "unroll outer loops of perfect nests into the innermost body " \
                             "(register reuse)"

    factor: int = 2  # copies per unrolled loop
    # unrolled loops per nest at most: two (a 2x2 block of copies) made a Fortran-ordered
    # matmul 3x slower on one thread (four column streams), one never lost in measurements
    loops: int = 1

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        if self.factor < 2 or self.loops < 1:
            return PassResult(module)
        return walk_functions(module, analyses, lambda fn, graph: _Jammer(self, graph, fn))


class _Jammer(NestWalker):
    """Unrolls and jams the nests of one function."""

    def __init__(self, options: UnrollAndJam, graph: DependenceGraph, fn: Function):
        super().__init__(fn, graph)
        self.options = options
        self.ids = IdSupply(fn)

    def loop(self, loop: Loop) -> Stmt | tuple[Stmt, ...]:
        nest = perfect_nest(loop)
        if any(unrolled(x) for x in nest):
            return loop  # unit steps only: an unrolled nest or its remainder stays as it is
        chosen = self.choose(nest) if len(nest) > 1 else []
        return self.jam(nest, chosen) if chosen else super().loop(loop)

    def choose(self, nest: list[Loop]) -> list[int]:
        """Positions of the loops to unroll (outermost first); [] to leave the nest."""
        body = nest[-1].body
        if not all(isinstance(s, Store) for s in body) or reorder_obstacle(nest[0]):
            return []
        if not rectangular(nest):
            return []
        gains = {k: _reuse(body, nest[k], nest[-1]) for k in range(len(nest) - 1)}
        picked = sorted((k for k, g in gains.items() if g), key=lambda k: -gains[k])
        picked = sorted(picked[:self.options.loops])
        if not picked or live_after(self.fn, nest[0], {nest[k].var.name for k in picked}):
            return []
        deps = nest_dependences(self.graph, nest)
        rest = [k for k in range(len(nest)) if k not in picked]
        for inner in (picked, picked[::-1]):
            if permutation_legal(deps, tuple(rest + inner)) is not None:
                return []
        return picked

    def jam(self, nest: list[Loop], picked: list[int]) -> tuple[Stmt, ...]:
        names = ", ".join(f"'{nest[k].var.name}'" for k in picked)
        self.remarks.append(loop_remark(
            UnrollAndJam.name, "unrolled-and-jammed", nest[0],
            f"loop nest {', '.join(loop.lid for loop in nest)}: {names} unrolled by "
            f"{self.options.factor} and jammed into the innermost loop "
            f"'{nest[-1].var.name}' (values shared by the copies stay in registers)"))
        outer, inner = nest[:picked[0]], nest[picked[0]:]
        result = self.unroll(inner, [k - picked[0] for k in picked])
        return (_wrap(outer, result),) if outer else result

    def unroll(self, nest: list[Loop], picked: list[int]) -> tuple[Stmt, ...]:
        """Unroll `nest[picked[0]]` (== nest[0]) and then, in the main nest, the others."""
        loop, factor = nest[0], self.options.factor
        copies: list[Stmt] = []
        for offset in range(factor):
            for s in nest[-1].body:
                copy = _Shift(loop.var, offset).stmt(s)
                assert isinstance(copy, Store)  # choose() took only bodies of stores
                copies.append(copy if offset == 0 else dataclasses.replace(
                    copy, sid=self.ids.fresh("S")))
        main_nest = [dataclasses.replace(loop, stop=_minus(loop.stop, factor - 1),
                                         step=Const(factor, PYINT)), *nest[1:]]
        main: tuple[Stmt, ...] = (_rebuild(main_nest, tuple(copies)),)
        if len(picked) > 1:
            inner = perfect_nest(main[0])  # type: ignore[arg-type]
            k = picked[1]
            main = (_wrap(inner[:k], self.unroll(inner[k:], [p - k for p in picked[1:]])),)
        rest = [dataclasses.replace(loop, start=remainder_start(loop, factor)), *nest[1:]]
        remainder: Stmt = _rebuild(rest, nest[-1].body)
        if len(picked) > 1:  # the other loops are unrolled in the remainder too
            k = picked[1]
            remainder = _wrap(rest[:k], self.unroll(rest[k:], [p - k for p in picked[1:]]))
        return (*main, self.ids.renumber(remainder))


def _reuse(body: tuple[Stmt, ...], loop: Loop, innermost: Loop) -> int:
    """References of the innermost body invariant in `loop` but moving with the innermost
    loop: each copy after unrolling `loop` can use the first copy's value."""
    found: set[str] = set()
    for s in body:
        assert isinstance(s, Store)
        refs: list[Load | Store] = [s, *(e for e in iter_exprs(s) if isinstance(e, Load))]
        for r in refs:
            used = {v.name for i in r.indices for v in (i, *iter_exprs(i)) if isinstance(v, Var)}
            if loop.var.name not in used and innermost.var.name in used:
                found.add(f"{r.array.name}{[print_expr(i) for i in r.indices]}")
    return len(found)


def _minus(e: Expr, k: int) -> Expr:
    form = affine_of(e)
    if form is not None:
        return (form - Affine((), k)).to_expr()
    return BinOp("-", e, Const(k, PYINT))


def _rebuild(nest: list[Loop], body: tuple[Stmt, ...]) -> Loop:
    result: tuple[Stmt, ...] = body
    for loop in reversed(nest):
        result = (dataclasses.replace(loop, body=result),)
    assert isinstance(result[0], Loop)
    return result[0]


def _wrap(outer: list[Loop], body: tuple[Stmt, ...]) -> Stmt:
    """The loops `outer` (a perfect nest's head) around `body`."""
    result = body
    for loop in reversed(outer):
        result = (dataclasses.replace(loop, body=result),)
    return result[0]


class _Shift(Rewriter):
    """`var` replaced by `var + offset`."""

    def __init__(self, var: Var, offset: int):
        self.var = var
        self.offset = offset

    def expr_Var(self, e: Var) -> Expr:
        if e.name != self.var.name or not self.offset:
            return e
        return BinOp("+", e, Const(self.offset, PYINT))

    def expr(self, expr: Expr) -> Expr:
        new = super().expr(expr)
        if new is not expr and new.type == PYINT:
            form = affine_of(new)
            if form is not None:
                return form.to_expr()
        return new
