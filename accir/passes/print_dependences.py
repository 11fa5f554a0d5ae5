"""test-print-dependences: print every dependence of every function, one line each.

The lines read `dep S0 -> S1 flow A dir=(<,=) dist=(1,0) level=1 test=strong-siv` (see
docs/dependences.md); each function's list is preceded by a `// dependences of @name` line
and followed by a line for each loop that carries a dependence, with the call-time condition
under which it would not (staged analysis) where there is one.
The IR is not changed. `accir-dump --print-dependences` runs this pass.

>>> from accir.ir.parser import parse_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %n: pyint) -> none {
...   var %i: pyint
...   L0: for %i = 1 to %n step 1 {
...     S0: %a[%i] = %a[(%i - 1)]
...   }
... }
... ''')
>>> _ = PrintDependences().run(m, AnalysisManager())
// dependences of @f
dep S0 -> S0 flow a dir=(<) dist=(1) level=1 test=strong-siv
// L0 carries dependences unless (3 > %n)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceAnalysis
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.nodes import Expr, Loop, Module, Stmt, While, walk_stmts
from accir.ir.printer import print_expr
from accir.passes.base import Pass, PassResult
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class PrintDependences(Pass):
    name: ClassVar[str] = "test-print-dependences"
    summary: ClassVar[str] = "print the dependence graph of every function (IR unchanged)"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []
        for fn in module.functions:
            graph = analyses.get(DependenceAnalysis, fn)
            lines = [f"// dependences of @{fn.name}", *graph.lines()]
            for loop in _loops(fn.body):
                verdict = graph.independence(loop)
                if verdict is True:
                    continue
                line = f"// {loop.lid} carries dependences"
                if verdict is not False:
                    line += f" unless {print_expr(verdict)}"
                    remarks.append(_staged(loop, verdict))
                lines.append(line)
            sys.stdout.write("\n".join(lines) + "\n")
        return PassResult(module, preserved=frozenset({"accesses", "dependences"}),
                          remarks=tuple(remarks))


def _loops(body: tuple[Stmt, ...]) -> list[Loop | While]:
    return [s for s in walk_stmts(body) if isinstance(s, (Loop, While))]


def _staged(loop: Loop | While, condition: Expr) -> Remark:
    where = loop.loc
    return Remark(
        "staged", f"loop '{loop.lid}' carries no dependence when {print_expr(condition)}: "
        "a call-time check can choose an independent version",
        where.file if where else "", where.line if where else 0)
