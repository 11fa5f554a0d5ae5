"""normalize: fold constants, simplify exactly, and remove dead code.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %n: pyint) -> none {
...   var %i: pyint, %unused: pyint
...   S0: %unused = (%n * 2)
...   L0: for %i = (1 - 1) to (%n + 0) step 1 {
...     if (2 > 1) {
...       S1: %a[%i] = (%a[%i] * 1.0:f64)
...     } else {
...       S2: %a[%i] = 0.0:f64
...     }
...   }
... }
... ''')
>>> print(print_module(Normalize().run(m, AnalysisManager()).module), end="")
func @f(%a: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint
  L0: for %i = 0 to %n step 1 {
    S1: %a[%i] = %a[%i]
  }
}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.manager import AnalysisManager
from accir.frontend.directives import Directive, Subarray
from accir.ir.fold import Folder, cannot_raise
from accir.ir.nodes import (
    Assign,
    Break,
    Const,
    Continue,
    Function,
    If,
    Loop,
    Module,
    Region,
    Return,
    Stmt,
    Var,
    While,
    walk_stmts,
)
from accir.ir.rewrite import iter_exprs
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class Normalize(Pass):
    name: ClassVar[str] = "normalize"
    summary: ClassVar[str] = "fold constants, simplify exactly, remove dead code"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return PassResult(map_functions(module, _normalize_function))


def _normalize_function(fn: Function) -> Function:
    current = fn
    for _ in range(4):  # removing dead code can expose more
        new = _DeadAssignments(read_names(current)).function(_Simplifier().function(current))
        if new is current:
            break
        current = new
    return current


class _Simplifier(Folder):
    """Folding plus control flow whose outcome is known at compile time."""

    def block(self, body: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
        new = super().block(body)
        for k, stmt in enumerate(new):
            if isinstance(stmt, (Return, Break, Continue)) and k + 1 < len(new):
                return new[: k + 1]  # the rest is unreachable
        return new

    def stmt_If(self, s: If) -> Stmt | tuple[Stmt, ...]:
        if isinstance(s.cond, Const):
            return s.then if s.cond.value else s.orelse
        if not s.then and not s.orelse and cannot_raise(s.cond):
            return ()
        return s

    def stmt_While(self, s: While) -> Stmt | tuple[Stmt, ...]:
        if isinstance(s.cond, Const) and not s.cond.value:
            return ()
        return s

    def stmt_Loop(self, s: Loop) -> Stmt | tuple[Stmt, ...]:
        bounds = [b.value for b in (s.start, s.stop, s.step) if isinstance(b, Const)]
        if len(bounds) == 3:
            start, stop, step = (int(v) for v in bounds)  # type: ignore[arg-type]
            if step != 0 and len(range(start, stop, step)) == 0:
                return ()
        return s


class _DeadAssignments(Folder):
    """Removes assignments to variables nobody reads, when the value cannot raise."""

    def __init__(self, read: set[str]):
        self.read = read

    def stmt_Assign(self, s: Assign) -> Stmt | tuple[Stmt, ...]:
        if s.target.name not in self.read and cannot_raise(s.value):
            return ()
        return s


def read_names(fn: Function) -> set[str]:
    """Variables read anywhere in a function (directive clauses count as reads)."""
    names: set[str] = set()
    for stmt in walk_stmts(fn.body):
        for e in _read_exprs(stmt):
            names.update(v.name for v in (e, *iter_exprs(e)) if isinstance(v, Var))
        directive = getattr(stmt, "directive", None)
        if directive is not None:
            names.update(_directive_names(directive))
    return names


def _read_exprs(stmt: Stmt) -> list:
    if isinstance(stmt, Assign):
        return [stmt.value]
    if isinstance(stmt, (Loop, While, If, Region)):
        fields = ("start", "stop", "step", "cond")
        return [getattr(stmt, f) for f in fields if hasattr(stmt, f)]
    return list(iter_exprs(stmt))


def _directive_names(d: Directive) -> set[str]:
    return {a.name for c in d.clauses for a in c.args if isinstance(a, Subarray)}
