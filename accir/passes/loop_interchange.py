"""loop-interchange: run the loops of a perfect nest in the order that walks memory best.

Python code walks arrays in whatever order reads naturally; a C-ordered array walked down its
columns touches a new cache line at every access. For each perfect, rectangular nest whose
iterations may be reordered (see accir.passes.loop_nests), every loop is scored by what its
accesses would cost with it innermost: nothing for a reference that does not move with it
(reuse), a fraction of a cache line per iteration for one that moves along the array's
contiguous axis (the last for C-ordered arrays, the first for Fortran-ordered ones: the layout
of the arguments at this call), a whole line otherwise. The nest runs the cheapest loop
innermost, the others outward in order of decreasing cost, preferring (on equal cost inside)
an outermost loop that carries no dependence so it can run in parallel. A permutation is
legal when every dependence's direction vector stays lexicographically non-negative; the
best legal order is taken. Each element still receives its updates in the original order, so
the results are bit for bit those of the original nest.

Option `order` forces an order (loop variable names, outermost first, comma-separated),
which the pass applies when it is legal.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%C: memref<?x?xf64, C>, %A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> none {
...   var %i: pyint, %j: pyint, %k: pyint
...   L0: for %j = 0 to %n step 1 {
...     L1: for %k = 0 to %n step 1 {
...       L2: for %i = 0 to %n step 1 {
...         S0: %C[%i, %j; unchecked] = (%C[%i, %j; unchecked] + (%A[%i, %k; unchecked] * %B[%k, %j; unchecked]))
...       }
...     }
...   }
... }
... ''')
>>> print(print_module(LoopInterchange().run(m, AnalysisManager()).module), end="")
func @f(%C: memref<?x?xf64, C>, %A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint, %k: pyint
  L2: for %i = 0 to %n step 1 {
    L1: for %k = 0 to %n step 1 {
      L0: for %j = 0 to %n step 1 {
        S0: %C[%i, %j; unchecked] = (%C[%i, %j; unchecked] + (%A[%i, %k; unchecked] * %B[%k, %j; unchecked]))
      }
    }
  }
}
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.ir.affine import affine_of
from accir.ir.nodes import (
    Assign,
    Const,
    Expr,
    Function,
    Load,
    Loop,
    Module,
    Stmt,
    Store,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import iter_exprs
from accir.passes.base import Pass, PassResult
from accir.passes.loop_nests import (
    NestDependence,
    NestWalker,
    describe,
    live_after,
    loop_remark,
    nest_dependences,
    perfect_nest,
    permutation_legal,
    rectangular,
    reorder_obstacle,
    walk_functions,
)
from accir.passes.parallel_scalars import exposed_reads
from accir.passes.registry import register

UNKNOWN_TRIPS = 1000  # the trip count a cost assumes for a loop with symbolic bounds
MAX_DEPTH = 5  # deeper nests: only their 5 outermost loops are permuted


@register
@dataclass(frozen=True)
class LoopInterchange(Pass):
    name: ClassVar[str] = "loop-interchange"
    summary: ClassVar[str] = "permute perfect loop nests for stride-1 access (legal by dependences)"

    order: str = ""  # forced order: loop variable names, outermost first, e.g. "i,k,j"
    line_bytes: int = 64  # cache line size of the cost model

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return walk_functions(module, analyses, lambda fn, graph: _Planner(self, graph, fn))


class _Planner(NestWalker):
    """Permutes the nests of one function."""

    def __init__(self, options: LoopInterchange, graph: DependenceGraph, fn: Function):
        super().__init__(fn, graph)
        self.options = options

    def loop(self, loop: Loop) -> Stmt:
        nest = perfect_nest(loop)[:MAX_DEPTH]
        order = self.choose(nest) if len(nest) > 1 else None
        inner = nest[-1]
        body = self.block(inner.body)
        if order is None:
            if body is inner.body:
                return loop
            return _rebuild(nest, tuple(range(len(nest))), body)
        return _rebuild(nest, order, body)

    def choose(self, nest: list[Loop]) -> tuple[int, ...] | None:
        """The new order of the nest's loops, or None to keep it."""
        names = [loop.var.name for loop in nest]
        costs = [_cost(nest, k, self.options.line_bytes) for k in range(len(nest))]
        forced = self.forced(names)
        blocker = self.obstacle(nest)
        if blocker:
            if forced or min(costs) < costs[-1]:
                self.remark("not-transformed", nest, f"not interchanged: {blocker}")
            return None
        deps = self.dependences(nest)
        if forced:
            bad = permutation_legal(deps, forced)
            if bad is not None:
                self.refuse(nest, forced, bad)
                return None
            chosen = forced
        else:
            def score(p: tuple[int, ...]) -> tuple[float, ...]:
                return _score(p, costs, deps)

            orders = list(itertools.permutations(range(len(nest))))
            chosen = min((p for p in orders if permutation_legal(deps, p) is None), key=score)
            best = min(orders, key=score)
            if score(best) < score(chosen):
                self.refuse(nest, best, permutation_legal(deps, best))
        if chosen == tuple(range(len(nest))):
            return None
        self.explain(nest, chosen, deps)
        return chosen

    def forced(self, names: list[str]) -> tuple[int, ...] | None:
        if not self.options.order:
            return None
        wanted = [n.strip() for n in self.options.order.split(",")]
        if sorted(wanted) != sorted(names):
            return None
        return tuple(names.index(n) for n in wanted)

    def obstacle(self, nest: list[Loop]) -> str | None:
        reason = reorder_obstacle(nest[0])
        if reason:
            return reason
        if not rectangular(nest):
            return "the bounds of an inner loop depend on an outer one (not a rectangular nest)"
        live = live_after(self.fn, nest[0], {loop.var.name for loop in nest}
                          | _conditionally_assigned(nest))
        if live:
            return (f"{_names(sorted(live))} read after the nest (the last value could "
                    "come from another iteration)")
        shared = _shared_scalars(nest)
        if shared:
            return f"scalar {_names(shared)} carried from one iteration to the next"
        return None

    def dependences(self, nest: list[Loop]) -> list[NestDependence]:
        """Array dependences; scalars are private to one iteration (obstacle() checked)."""
        return nest_dependences(self.graph, nest, scalars=False)

    def explain(self, nest: list[Loop], order: tuple[int, ...],
                deps: list[NestDependence]) -> None:
        names = [loop.var.name for loop in nest]
        inner = nest[order[-1]]
        reasons = [f"innermost loop '{inner.var.name}': "
                   f"{_stride_note(nest, order[-1], self.options.line_bytes)}"]
        if _parallel_outer(order[0], deps):
            reasons.append(f"loop '{names[order[0]]}' parallel outermost")
        self.remark("interchanged", nest,
                    f"interchanged ({', '.join(names)}) -> "
                    f"({', '.join(names[k] for k in order)}): {'; '.join(reasons)}")

    def refuse(self, nest: list[Loop], order: tuple[int, ...], bad: NestDependence | None
               ) -> None:
        names = [loop.var.name for loop in nest]
        assert bad is not None
        self.remark("not-transformed", nest,
                    f"not interchanged to ({', '.join(names[k] for k in order)}): "
                    f"{describe(bad, names)} would be reversed")

    def remark(self, kind: str, nest: list[Loop], message: str) -> None:
        ids = ", ".join(loop.lid for loop in nest)
        self.remarks.append(loop_remark(LoopInterchange.name, kind, nest[0],
                                        f"loop nest {ids}: {message}"))


def _rebuild(nest: list[Loop], order: tuple[int, ...], body: tuple[Stmt, ...]) -> Loop:
    """The nest with its loop headers in `order` (outermost first) around `body`."""
    result: Stmt | None = None
    for k in reversed(order):
        inner = body if result is None else (result,)
        result = dataclasses.replace(nest[k], body=inner)
    assert isinstance(result, Loop)
    return result


def _score(order: tuple[int, ...], costs: list[float], deps: list[NestDependence]
           ) -> tuple[float, ...]:
    """Smaller is better: the innermost loop's cost, then a parallel outermost loop, then the
    costs further out, then closeness to the written order."""
    inside_out = [costs[k] for k in reversed(order)]
    moved = sum(1 for k, p in enumerate(order) if k != p)
    return (inside_out[0], 0.0 if _parallel_outer(order[0], deps) else 1.0,
            *inside_out[1:], float(moved))


def _parallel_outer(k: int, deps: list[NestDependence]) -> bool:
    return all(len(nd.directions) > k and nd.directions[k] == "=" for nd in deps)


# ---------------------------------------------------------------------- cost model


def _references(nest: list[Loop]) -> list[Load | Store]:
    """The array references of the nest, each distinct element reference once."""
    seen: dict[tuple[str, str], Load | Store] = {}
    for s in walk_stmts(nest[-1].body):
        refs: list[Load | Store] = [s] if isinstance(s, Store) else []
        refs += [e for e in iter_exprs(s) if isinstance(e, Load)]
        for r in refs:
            seen.setdefault((r.array.name, repr([print_expr(i) for i in r.indices])), r)
    return list(seen.values())


def _cost(nest: list[Loop], k: int, line_bytes: int) -> float:
    """What the nest's references cost per iteration of the loop `nest[k]` run innermost,
    times its trip count: 1 for a reference it does not move (reuse), the fraction of a cache
    line it advances along the contiguous axis, or a whole line."""
    loop = nest[k]
    trips = _trips(loop)
    total = 0.0
    for ref in _references(nest):
        total += _reference_cost(ref, loop, line_bytes) * trips
    return total


def _reference_cost(ref: Load | Store, loop: Loop, line_bytes: int) -> float:
    coefficients = []
    for index in ref.indices:
        form = affine_of(index)
        if form is None:
            return 1.0  # unknown: as bad as a new line
        coefficients.append(form.coefficient(loop.var))
    if not any(coefficients):
        return 0.0  # the same element every iteration
    layout = ref.array.array_type.layout
    contiguous = 0 if layout == "F" else len(coefficients) - 1
    if any(c for axis, c in enumerate(coefficients) if axis != contiguous):
        return 1.0
    itemsize = ref.array.array_type.dtype.bits // 8 or 1
    stride = abs(coefficients[contiguous] * (_constant(loop.step, None) or 1))
    return min(1.0, stride * itemsize / line_bytes)


def _stride_note(nest: list[Loop], k: int, line_bytes: int) -> str:
    loop = nest[k]
    refs = _references(nest)
    unit = sorted({r.array.name for r in refs if 0 < _reference_cost(r, loop, line_bytes) < 1})
    invariant = sorted({r.array.name for r in refs if _reference_cost(r, loop, line_bytes) == 0})
    parts = []
    if unit:
        parts.append(f"stride-1 access to {', '.join(unit)}")
    if invariant:
        parts.append(f"{', '.join(invariant)} invariant")
    return "; ".join(parts) or "the fewest cache lines per iteration"


def _trips(loop: Loop) -> int:
    start, stop, step = (_constant(b, None) for b in (loop.start, loop.stop, loop.step))
    if start is None or stop is None or not step:
        return UNKNOWN_TRIPS
    return max(len(range(start, stop, step)), 1)


def _constant(e: Expr, default: int | None) -> int | None:
    return int(e.value) if isinstance(e, Const) and isinstance(e.value, int) else default


def _shared_scalars(nest: list[Loop]) -> list[str]:
    """Scalars the nest assigns that an iteration may read before assigning them (their
    value flows between iterations, so reordering would change it)."""
    assigned = {s.target.name for s in walk_stmts(nest[-1].body) if isinstance(s, Assign)}
    exposed = exposed_reads(nest[-1].body)
    return sorted(assigned & exposed)


def _conditionally_assigned(nest: list[Loop]) -> set[str]:
    """Scalars assigned in the nest other than at the top of the innermost body (those take
    the same last value in any order of a rectangular nest: the last point is the same)."""
    top = {s.target.name for s in nest[-1].body if isinstance(s, Assign)}
    every = {s.target.name for s in walk_stmts(nest[-1].body) if isinstance(s, Assign)}
    return every - top


def _names(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)

