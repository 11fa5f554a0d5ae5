"""test-print-dependences: print every dependence of every function, one line each.

The lines read `dep S0 -> S1 flow A dir=(<,=) dist=(1,0) level=1 test=strong-siv` (see
docs/dependences.md); each function's list is preceded by a `// dependences of @name` line.
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
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceAnalysis
from accir.analysis.manager import AnalysisManager
from accir.ir.nodes import Module
from accir.passes.base import Pass, PassResult
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class PrintDependences(Pass):
    name: ClassVar[str] = "test-print-dependences"
    summary: ClassVar[str] = "print the dependence graph of every function (IR unchanged)"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        for fn in module.functions:
            graph = analyses.get(DependenceAnalysis, fn)
            lines = [f"// dependences of @{fn.name}", *graph.lines()]
            sys.stdout.write("\n".join(lines) + "\n")
        return PassResult(module, preserved=frozenset({"accesses", "dependences"}))
