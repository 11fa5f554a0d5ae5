"""mark-independent-loops: mark loops that carry no dependence, and version the loops whose
independence only the call can tell.

A loop whose iterations touch no common memory (in any order) gets `independent`: its
iterations may run in any order or at once. When that holds only for some call-time values
(`a[i + k] = a[i] * 2` for `k >= n`), the loop is versioned behind a check of those values:
the first copy is marked independent, the second (renumbered) is the original. Both copies
compute the same results; later passes and the parallel backend give the first its speed.
Each decision is a remark: `independent`, or `staged` with the condition that chooses.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %k: pyint) -> none {
...   var %i: pyint
...   L0: for %i = 0 to 8 step 1 {
...     S0: %b[%i] = %a[%i]
...   }
...   L1: for %i = 0 to 8 step 1 {
...     S1: %a[(%i + %k)] = %a[%i]
...   }
... }
... ''')
>>> print(print_module(MarkIndependentLoops().run(m, AnalysisManager()).module), end="")
func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %k: pyint) -> none {
  var %i: pyint
  L0: for %i = 0 to 8 step 1 independent {
    S0: %b[%i] = %a[%i]
  }
  if ((0 <= %k) and ((0 > (%k + 7)) or (%k > 7))) versioned {
    L1: for %i = 0 to 8 step 1 independent {
      S1: %a[(%i + %k)] = %a[%i]
    }
  } else {
    L2: for %i = 0 to 8 step 1 {
      S2: %a[(%i + %k)] = %a[%i]
    }
  }
}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceAnalysis, DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.nodes import Dim, Expr, Function, If, Loop, Module, Stmt, Var, While, walk_stmts
from accir.ir.printer import print_expr
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.ids import IdSupply, is_versioned
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class MarkIndependentLoops(Pass):
    name: ClassVar[str] = "mark-independent-loops"
    summary: ClassVar[str] = "mark loops free of carried dependences; version staged ones"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def mark(fn: Function) -> Function:
            marker = _Marker(analyses.get(DependenceAnalysis, fn), fn)
            new = marker.function(fn)
            remarks.extend(marker.remarks)
            return new

        return PassResult(map_functions(module, mark), remarks=tuple(remarks))


class _Marker(Rewriter):
    def __init__(self, graph: DependenceGraph, fn: Function):
        # verdicts on the loops of the function as analysed (the rewrite builds new ones)
        self.verdicts = {id(s): graph.independence(s) for s in walk_stmts(fn.body)
                         if isinstance(s, (Loop, While))}
        self.ids = IdSupply(fn)
        self.remarks: list[Remark] = []

    def stmt(self, stmt: Stmt) -> Stmt | tuple[Stmt, ...]:
        if isinstance(stmt, If) and is_versioned(stmt):
            return stmt  # already versioned (by this pass or bounds-check-hoist)
        verdict = self.verdicts.get(id(stmt), False)
        new = super().stmt(stmt)
        if not isinstance(new, Loop) or new.independent or verdict is False:
            return new
        if verdict is not True and depends_only_on_bounds(verdict, new):
            return new
        if verdict is True:
            self.remark(new, "independent", "carries no dependence: its iterations may run "
                        "in any order")
            return dataclasses.replace(new, independent=True)
        assert isinstance(verdict, Expr)
        self.remark(new, "staged", f"carries no dependence when {print_expr(verdict)}: "
                    "checked at each call, which runs the independent version")
        fast = dataclasses.replace(new, independent=True)
        return If(verdict, (fast,), (self.ids.renumber(new),), versioned=True, loc=new.loc)

    def remark(self, loop: Loop, kind: str, message: str) -> None:
        where = loop.loc
        self.remarks.append(Remark(kind, f"loop over '{loop.var.name}' ({loop.lid}) {message}",
                                   where.file if where else "", where.line if where else 0,
                                   MarkIndependentLoops.name))


def depends_only_on_bounds(condition: Expr, loop: Loop) -> bool:
    """Whether the condition depends on nothing but the loop's own bounds (a loop that would
    be independent only when it runs once is not worth a second copy; a dependence that
    exists whenever it runs long enough is as good as proven)."""
    bounds = {_key(e) for b in (loop.start, loop.stop) for e in (b, *iter_exprs(b))
              if isinstance(e, (Var, Dim))}
    used = {_key(e) for e in iter_exprs(condition) if isinstance(e, (Var, Dim))}
    return not used - bounds


def _key(e: Expr) -> str:
    return print_expr(e)
