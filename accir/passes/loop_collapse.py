"""loop-collapse: run a perfect rectangular nest of loops as one loop over the product of their
iteration spaces, each index recovered by division (OpenACC's `collapse(n)` as a
transformation).

The iterations run in the same order as before (row-major), so no dependence test is needed;
only the nest's shape matters: every loop's bounds the same throughout the nest (evaluated once,
before the loop, where they cannot raise), constant steps, no `break` out of the innermost body,
and loop variables that are not read after the nest (when an inner loop runs no iteration, the
nest still assigns the outer variables; the collapsed loop does not).

The GPU lowering maps the single loop onto a grid of threads. The CPU backend collapses
parallel loops itself (`Parallel.collapse`), and indices recovered by division hide the affine
subscripts from the dependence tests, so the default pipeline does not run this pass. By
default it collapses the loops whose OpenACC directive says `collapse(n)` (the clause is
dropped from the directive); `depth=n` collapses the n outermost loops of every perfect
rectangular nest without a directive.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?x?xf64, C>, %n: pyint, %m: pyint) -> none {
...   var %i: pyint, %j: pyint
...   L0: for %i = 0 to %n step 1 {
...     L1: for %j = 1 to %m step 2 {
...       S0: %a[%i, %j] = 1.0:f64
...     }
...   }
... }
... ''')
>>> print(print_module(LoopCollapse(depth=2).run(m, AnalysisManager()).module), end="")
func @f(%a: memref<?x?xf64, C>, %n: pyint, %m: pyint) -> none {
  var %i: pyint, %i_j: pyint, %j: pyint
  L0: for %i_j = 0 to (select((0 < %n), %n, 0) * select((1 < %m), (%m // 2), 0)) step 1 {
    S1: %i = (%i_j // select((1 < %m), (%m // 2), 0))
    S2: %j = (1 + ((%i_j % select((1 < %m), (%m // 2), 0)) * 2))
    S0: %a[%i, %j] = 1.0:f64
  }
}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.frontend.directives import Directive
from accir.ir.affine import affine_of
from accir.ir.fold import cannot_raise, fold_expr
from accir.ir.nodes import (
    Assign,
    BinOp,
    Break,
    Compare,
    Const,
    Expr,
    Function,
    Loop,
    Module,
    Select,
    Stmt,
    Var,
    walk_stmts,
)
from accir.ir.rewrite import Rewriter
from accir.ir.types import PYINT
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.ids import IdSupply, NameSupply
from accir.passes.loop_nests import live_after, loop_remark, perfect_nest, rectangular
from accir.passes.parallel_directives import collapse_count
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class LoopCollapse(Pass):
    name: ClassVar[str] = "loop-collapse"
    summary: ClassVar[str] = "collapse perfect rectangular nests into one loop (collapse(n))"

    depth: int = 0  # 0: loops with an OpenACC collapse(n); n >= 2: every nest's n outer loops

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def collapse(fn: Function) -> Function:
            collapser = _Collapser(self.depth, fn)
            new = collapser.function(fn)
            remarks.extend(collapser.remarks)
            return new

        return PassResult(map_functions(module, collapse), remarks=tuple(remarks))


class _Collapser(Rewriter):
    def __init__(self, depth: int, fn: Function):
        self.depth = depth
        self.fn = fn
        self.ids = IdSupply(fn)
        self.names = NameSupply(fn)
        self.remarks: list[Remark] = []

    def stmt(self, stmt: Stmt) -> Stmt | tuple[Stmt, ...]:
        if isinstance(stmt, Loop):
            count = self.count(stmt)
            if count > 1:
                nest = perfect_nest(stmt)[:count]
                reason = self.obstacle(nest, count)
                if reason is None:
                    return self.collapse(nest)
                self.remarks.append(loop_remark(LoopCollapse.name, "not-transformed", stmt,
                                                f"loop over '{stmt.var.name}' ({stmt.lid}) "
                                                f"not collapsed: {reason}"))
        return super().stmt(stmt)

    def count(self, loop: Loop) -> int:
        if loop.directive is not None:
            return collapse_count(loop.directive)
        return self.depth

    def obstacle(self, nest: list[Loop], count: int) -> str | None:
        if len(nest) < count:
            return f"{count} loops asked for, but only {len(nest)} are perfectly nested"
        if any(loop.directive is not None for loop in nest[1:]):
            return "an inner loop has its own directive"
        if not rectangular(nest):
            return "the bounds of an inner loop depend on an outer one"
        for loop in nest:
            if not (isinstance(loop.step, Const) and isinstance(loop.step.value, int)
                    and loop.step.value != 0):
                return f"the step of the loop over '{loop.var.name}' is not a constant"
            if not (cannot_raise(loop.start) and cannot_raise(loop.stop)):
                return f"the bounds of the loop over '{loop.var.name}' may raise"
        if any(isinstance(s, Break) for s in walk_stmts(nest[-1].body)):
            return "the innermost body may break out of its loop"
        live = live_after(self.fn, nest[0], {loop.var.name for loop in nest})
        if live:
            return f"{', '.join(sorted(live))} read after the nest"
        return None

    def collapse(self, nest: list[Loop]) -> Loop:
        index = Var(self.names.fresh("_".join(loop.var.name for loop in nest)), PYINT)
        trips = [_trips(loop) for loop in nest]
        values: list[Expr] = []
        rest: Expr = index
        for loop, count in reversed(list(zip(nest, trips, strict=True))):
            position = rest if loop is nest[0] else BinOp("%", rest, count)
            values.insert(0, _simplify(_add(loop.start, _mul(position, loop.step))))
            rest = BinOp("//", rest, count)
        assigns = [Assign(self.ids.fresh("S"), loop.var, value, loc=loop.loc)
                   for loop, value in zip(nest, values, strict=True)]
        total = trips[0]
        for count in trips[1:]:
            total = BinOp("*", total, count)
        outer = nest[0]
        self.remarks.append(loop_remark(
            LoopCollapse.name, "collapsed", outer,
            f"loops over {', '.join(repr(loop.var.name) for loop in nest)} "
            f"({', '.join(loop.lid for loop in nest)}) collapsed into one loop over "
            f"'{index.name}'"))
        return dataclasses.replace(
            outer, var=index, start=Const(0, PYINT), stop=total, step=Const(1, PYINT),
            body=(*assigns, *nest[-1].body), directive=_without_collapse(outer.directive))



def _trips(loop: Loop) -> Expr:
    """The loop's trip count: `len(range(start, stop, step))`."""
    assert isinstance(loop.step, Const) and isinstance(loop.step.value, int)
    step = loop.step.value
    if step > 0:
        runs, span = Compare("<", loop.start, loop.stop), BinOp("-", loop.stop, loop.start)
    else:
        runs, span = Compare(">", loop.start, loop.stop), BinOp("-", loop.start, loop.stop)
    size = abs(step)
    count = span if size == 1 else BinOp("//", BinOp("+", span, Const(size - 1, PYINT)),
                                         Const(size, PYINT))
    return Select(runs, _simplify(count), Const(0, PYINT))


def _simplify(e: Expr) -> Expr:
    """Affine parts in canonical form (`(m - 1) + 1` is `m`), constants folded."""
    form = affine_of(e)
    if form is not None:
        return form.to_expr()
    if isinstance(e, BinOp):
        return fold_expr(BinOp(e.op, _simplify(e.lhs), _simplify(e.rhs)))
    return fold_expr(e)


def _add(a: Expr, b: Expr) -> Expr:
    return BinOp("+", a, b)


def _mul(a: Expr, b: Expr) -> Expr:
    return BinOp("*", a, b)


def _without_collapse(directive: Directive | None) -> Directive | None:
    if directive is None:
        return None
    clauses = tuple(c for c in directive.clauses if c.name != "collapse")
    return dataclasses.replace(directive, clauses=clauses)
