"""loop-wavefront: run a 2-deep nest whose both loops carry dependences by wavefronts, so that
the points of one wavefront can run in parallel (skewing followed by interchange).

In a Gauss–Seidel sweep `A[i, j] = f(A[i-1, j-1], A[i-1, j], A[i-1, j+1], A[i, j-1], ...)`
each point needs its upper and left neighbours, so neither `i` nor `j` may run in parallel.
With every dependence distance `(di, dj)` constant, the hyperplane `w = f*i + j` with the least
`f >= 1` such that `f*di + dj >= 1` for all of them orders every dependence from one wavefront
to a later one: the points of one `w` are independent. The nest becomes

    for w in range(f*i0 + j0, f*(i1 - 1) + (j1 - 1) + 1):
        for i in range(max(i0, ceil((w - (j1 - 1)) / f)), min(i1, (w - j0) // f + 1)):
            body with j = w - f*i

and `auto-parallelize` can run the inner loop on threads (its subscripts are affine in `i` and
`w`). Each element's updates keep their order, so results are bit for bit the same. The band
is the two innermost loops of a perfect nest (a time loop around them stays outside), with
unit steps, rectangular bounds, a reorderable body, constant distances and loop variables not
read after the nest.

It pays even on one thread: the points of a wavefront do not wait for each other, where a
Gauss-Seidel row waits for each point's left neighbour (seidel-2d 5x faster; see
docs/transformations.md).

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%A: memref<?x?xf64, C>, %n: pyint) -> none {
...   var %i: pyint, %j: pyint
...   L0: for %i = 1 to %n step 1 {
...     L1: for %j = 1 to %n step 1 {
...       S0: %A[%i, %j; unchecked] = (%A[(%i - 1), %j; unchecked] + %A[%i, (%j - 1); unchecked])
...     }
...   }
... }
... ''')
>>> print(print_module(LoopWavefront().run(m, AnalysisManager()).module), end="")
func @f(%A: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %w: pyint
  L0: for %w = 2 to ((2 * %n) - 1) step 1 {
    L1: for %i = max(1, ((%w - %n) + 1)):pyint to min(%n, %w):pyint step 1 {
      S0: %A[%i, (%w - %i); unchecked] = (%A[(%i - 1), (%w - %i); unchecked] + %A[%i, ((%w - %i) - 1); unchecked])
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
from accir.ir.affine import affine_of
from accir.ir.nodes import (
    BinOp,
    Const,
    Expr,
    Function,
    Intrinsic,
    Loop,
    Module,
    Stmt,
    UnaryOp,
    Var,
)
from accir.ir.rewrite import Rewriter
from accir.ir.types import PYINT
from accir.passes.base import Pass, PassResult
from accir.passes.ids import NameSupply
from accir.passes.loop_nests import (
    NestDependence,
    NestWalker,
    live_after,
    loop_remark,
    nest_dependences,
    perfect_nest,
    rectangular,
    reorder_obstacle,
    unrolled,
    walk_functions,
)
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class LoopWavefront(Pass):
    name: ClassVar[str] = "loop-wavefront"
    summary: ClassVar[str] = "skew 2-deep recurrences into wavefronts of independent points"

    factor: int = 0  # the skew f of w = f*i + j; 0: the least legal one

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return walk_functions(module, analyses, lambda fn, graph: _Skewer(self, graph, fn))


class _Skewer(NestWalker):
    def __init__(self, options: LoopWavefront, graph: DependenceGraph, fn: Function):
        super().__init__(fn, graph)
        self.options = options
        self.names = NameSupply(fn)

    def loop(self, loop: Loop) -> Stmt | tuple[Stmt, ...]:
        nest = perfect_nest(loop)
        if len(nest) < 2:
            return super().loop(loop)
        outer, band = nest[:-2], nest[-2:]
        skew = self.skew(nest, band)
        if skew is None:
            return loop
        result: Stmt = self.wavefront(band, skew)
        for x in reversed(outer):
            result = dataclasses.replace(x, body=(result,))
        return result

    def skew(self, nest: list[Loop], band: list[Loop]) -> int | None:
        """The skew factor, or None to leave the nest (with a remark when it would help)."""
        if reorder_obstacle(nest[0]) or any(unrolled(x) for x in band):
            return None
        if not rectangular(band) or live_after(self.fn, nest[0], {x.var.name for x in band}):
            return None
        deps = nest_dependences(self.graph, band)
        if not _both_carry(deps):
            return None  # one of the loops can run in parallel as it is
        distances = [nd.distances for nd in deps]
        if any(len(d) < 2 or d[0] is None or d[1] is None for d in distances):
            self.remark(band, "not-transformed", "not run by wavefronts: a dependence distance "
                        "is not a constant")
            return None
        least = max([1, *(_least_skew(d[0], d[1]) for d in distances  # type: ignore[arg-type]
                          if d[0])])
        if self.options.factor and self.options.factor < least:
            self.remark(band, "not-transformed", f"not run by wavefronts with skew "
                        f"{self.options.factor}: a dependence needs at least {least}")
            return None
        return self.options.factor or least

    def wavefront(self, band: list[Loop], f: int) -> Loop:
        outer, inner = band
        w = Var(self.names.fresh("w"), PYINT)
        i0, i1, j0, j1 = outer.start, outer.stop, inner.start, inner.stop
        j_last = _sub(j1, Const(1, PYINT))
        first = _add(_mul(f, i0), j0)
        last = _add(_mul(f, _sub(i1, Const(1, PYINT))), j_last)
        low = Intrinsic("max", (i0, _ceil_div(_sub(w, j_last), f)), PYINT)
        high = Intrinsic("min", (i1, _simplify(_add(_floor_div(_sub(w, j0), f),
                                                    Const(1, PYINT)))), PYINT)
        j_value = _simplify(_sub(w, _mul(f, outer.var)))
        body = tuple(_Substitute(inner.var.name, j_value).block(inner.body))
        self.remark(band, "wavefront", f"loops over '{outer.var.name}', '{inner.var.name}' "
                    f"run by wavefronts {w.name} = {f}*{outer.var.name} + {inner.var.name}: "
                    "the points of one wavefront are independent")
        points = dataclasses.replace(inner, var=outer.var, start=low, stop=high, body=body)
        return dataclasses.replace(outer, var=w, start=_simplify(first),
                                   stop=_simplify(_add(last, Const(1, PYINT))), body=(points,))


    def remark(self, band: list[Loop], kind: str, message: str) -> None:
        self.remarks.append(loop_remark(LoopWavefront.name, kind, band[0],
                                        f"loop nest {band[0].lid}, {band[1].lid}: {message}"))


def _both_carry(deps: list[NestDependence]) -> bool:
    """Whether each of the two loops carries a dependence."""
    first = any(nd.directions[:1] == ("<",) for nd in deps)
    second = any(nd.directions[:2] == ("=", "<") for nd in deps)
    return first and second


def _least_skew(di: int, dj: int) -> int:
    """The least f with f*di + dj >= 1 (di > 0)."""
    return -((dj - 1) // di)


def _ceil_div(e: Expr, f: int) -> Expr:
    """ceil(e / f) for f > 0, as -((-e) // f)."""
    if f == 1:
        return _simplify(e)
    return UnaryOp("-", BinOp("//", UnaryOp("-", _simplify(e)), Const(f, PYINT)))


def _floor_div(e: Expr, f: int) -> Expr:
    return _simplify(e) if f == 1 else BinOp("//", _simplify(e), Const(f, PYINT))


def _add(a: Expr, b: Expr) -> Expr:
    return BinOp("+", a, b)


def _sub(a: Expr, b: Expr) -> Expr:
    return BinOp("-", a, b)


def _mul(f: int, e: Expr) -> Expr:
    return e if f == 1 else BinOp("*", Const(f, PYINT), e)


def _simplify(e: Expr) -> Expr:
    form = affine_of(e)
    return form.to_expr() if form is not None else e


class _Substitute(Rewriter):
    """A variable replaced by an expression (affine parts simplified)."""

    def __init__(self, name: str, value: Expr):
        self.name = name
        self.value = value

    def expr_Var(self, e: Var) -> Expr:
        return self.value if e.name == self.name else e

    def expr(self, expr: Expr) -> Expr:
        new = super().expr(expr)
        if new is not expr and new.type == PYINT:
            return _simplify(new)
        return new
