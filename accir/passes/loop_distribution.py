"""loop-distribution: split a loop so that its recurrences and its parallel statements run in
separate loops (Allen-Kennedy code generation; Kennedy & Allen, "Optimizing Compilers for
Modern Architectures", section 2.4).

For a loop whose iterations may be reordered (`loop_nests.reorder_obstacle` is None: the
fast copy of a versioned nest, or code without checked subscripts), the statements inside it
form a graph of the dependences that are loop-independent or carried by the loop or a deeper
one. Its strongly connected components, in a topological order, are classified: a
*recurrence* when a dependence between its statements is carried by the loop, *parallel*
otherwise. Consecutive components of one kind share a loop, except two parallel ones with a
dependence carried by the loop between them (typed fusion, Kennedy-McKinley). Each group
gets its own copy of the loop, in that order: the first keeps the loop's id, statements keep
theirs. Loops and ifs inside are projected onto each group (a nest splits at any depth; an
if is copied with its condition, which cannot raise) and distributed in turn, and the pass
repeats until nothing changes (so it is idempotent).

A split is made only when it gains something: a loop that runs in parallel next to a
recurrence, or, with `perfect` (the default), perfect nests made from an imperfect one (for
loop-interchange). A scalar assigned in the loop keeps every statement that uses it in one
group, so its value after the loop is the last iteration's; one assigned before every read in
each iteration (private) does not make the group a recurrence. Scalar expansion unties such
a private temporary of an outermost loop (unit step, a NumPy type, not read after the loop)
when that lets the loop split further: it becomes an array with an element per iteration,
allocated before the loop, and the next round distributes the loop.

Remarks: `distributed` lists the new loops; `expanded` names the scalars expanded;
`not-transformed` names the cycle of a loop whose statements form one recurrence, or what
prevents a worthwhile split.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>, %n: pyint) -> none {
...   var %i: pyint
...   L0: for %i = 1 to %n step 1 {
...     S0: %a[%i; unchecked] = (%a[(%i - 1); unchecked] + %b[%i; unchecked])
...     S1: %c[%i; unchecked] = (%b[%i; unchecked] * 2.0:f64)
...   }
... }
... ''')
>>> result = LoopDistribution().run(m, AnalysisManager())
>>> print(print_module(result.module), end="")
func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint
  L0: for %i = 1 to %n step 1 {
    S0: %a[%i; unchecked] = (%a[(%i - 1); unchecked] + %b[%i; unchecked])
  }
  L1: for %i = 1 to %n step 1 {
    S1: %c[%i; unchecked] = (%b[%i; unchecked] * 2.0:f64)
  }
}
>>> print(result.remarks[0].message)
loop over 'i' (L0) distributed into 2 loops: L0 {S0} sequential (recurrence on 'a': S0 -> S0 distance 1), L1 {S1} parallel
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceAnalysis, DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.affine import affine_of
from accir.ir.nodes import (
    Alloc,
    Assign,
    BinOp,
    Compare,
    Const,
    Expr,
    Function,
    If,
    Load,
    Loop,
    Module,
    Select,
    Stmt,
    Store,
    Var,
    walk_stmts,
)
from accir.ir.rewrite import Rewriter
from accir.ir.types import PYINT, ArrayType, ScalarType
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.distribution_plan import Plan, Planner, StatementIndex, expandable
from accir.passes.ids import IdSupply, NameSupply, is_versioned
from accir.passes.loop_nests import loop_remark, reorder_obstacle
from accir.passes.registry import register

MAX_ROUNDS = 8  # each round splits loops further; real nests settle in two or three


@register
@dataclass(frozen=True)
class LoopDistribution(Pass):
    name: ClassVar[str] = "loop-distribution"
    summary: ClassVar[str] = "split loops into recurrences and parallel loops (Allen-Kennedy)"

    # also split an imperfect nest into perfect ones (which loop-interchange can reorder)
    perfect: bool = True

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: dict[tuple[str, str], Remark] = {}

        def distribute(fn: Function) -> Function:
            # a split can make an outer body imperfect or expose a new split: repeat, with
            # the dependences of the new function, until nothing changes (later rounds see
            # the loops the first one made: what they cannot split the first one said)
            for round_ in range(MAX_ROUNDS):
                splitter = _Distributor(fn, analyses.get(DependenceAnalysis, fn), self.perfect)
                new = splitter.function(fn)
                for r in splitter.remarks:
                    if round_ == 0 or r.kind == "distributed":
                        remarks.setdefault((r.kind, r.message), r)
                if new is fn:
                    break
                fn = new
            return fn

        return PassResult(map_functions(module, distribute), remarks=tuple(remarks.values()))


class _Distributor(Rewriter):
    """One round over a function: decisions on the loops as analysed, then the rewrite."""

    def __init__(self, fn: Function, graph: DependenceGraph, perfect: bool):
        self.fn = fn
        self.graph = graph
        self.perfect = perfect
        self.ids = IdSupply(fn)
        self.claimed: set[str] = set()
        self.remarks: list[Remark] = []
        self.index = StatementIndex(fn)

    def stmt(self, s: Stmt) -> Stmt | tuple[Stmt, ...]:
        if isinstance(s, If) and is_versioned(s):
            then = self.block(s.then)  # the slow copy checks every subscript: left alone
            return s if then is s.then else dataclasses.replace(s, then=then)
        if isinstance(s, Loop) and self.eligible(s):
            names = self.worth_expanding(s)
            if names:
                return self.expand(s, names)
            copies = self.distribute(s, self.index.leaves[id(s)], self.claim(s.lid))
            return copies[0] if len(copies) == 1 else copies
        return super().stmt(s)

    def eligible(self, loop: Loop) -> bool:
        if not self.index.plain(loop):
            return False
        obstacle = reorder_obstacle(loop)
        if obstacle is None:
            return True
        if not any(isinstance(s, If) and is_versioned(s) for s in walk_stmts(loop.body)):
            plan = self.plan(loop, self.index.leaves[id(loop)])
            if plan is not None and plan.groups:
                plan.blocked = obstacle
                self.remark(loop, "not-transformed", plan.describe([]))
        return False

    def plan(self, loop: Loop, subset: frozenset[str], expand: frozenset[str] = frozenset()
             ) -> Plan | None:
        planner = Planner(self.graph, self.fn, loop, self.index.depth[id(loop)],
                          self.index.members, subset, expand)
        return planner.plan(self.perfect)

    def worth_expanding(self, loop: Loop) -> frozenset[str]:
        """The scalars whose expansion into arrays lets an outermost loop split further
        (shared scalars tie statements to one copy otherwise)."""
        if self.index.depth[id(loop)] != 1:
            return frozenset()  # an array per outer iteration: not worth it
        subset = self.index.leaves[id(loop)]
        plan = self.plan(loop, subset)
        tied = {n for n, users in (plan.ties if plan else {}).items() if len(users) > 1}
        names = expandable(self.fn, loop) & tied
        if not names:
            return frozenset()
        expanded = self.plan(loop, subset, names)
        if expanded is None or not expanded.splits:
            return frozenset()
        before = len(plan.groups) if plan is not None and plan.splits else 1
        return names if len(expanded.groups) > before else frozenset()

    def expand(self, loop: Loop, names: frozenset[str]) -> tuple[Stmt, ...]:
        """`loop` with the scalars `names` turned into arrays with an element per iteration,
        allocated just before it (the next round distributes it)."""
        runs = Compare("<", loop.start, loop.stop)
        trips = Select(runs, _affine(BinOp("-", loop.stop, loop.start)), Const(0, PYINT))
        index = _affine(BinOp("-", loop.var, loop.start))
        arrays: dict[str, Var] = {}
        allocs: list[Stmt] = []
        supply = NameSupply(self.fn)
        for name in sorted(names):
            scalar = next(s.target for s in loop.body if isinstance(s, Assign)
                          and s.target.name == name)
            assert isinstance(scalar.type, ScalarType)
            arrays[name] = Var(supply.fresh(f"{name}_x"), ArrayType(scalar.type, 1, "C"))
            allocs.append(Alloc(self.ids.fresh("S"), arrays[name], (trips,), None, loc=loop.loc))
        self.remark(loop, "expanded", f"scalar{'s' if len(names) > 1 else ''} "
                    f"{', '.join(repr(n) for n in sorted(names))} expanded into "
                    f"{', '.join(repr(a.name) for a in arrays.values())} (an element per "
                    "iteration) so that the statements sharing "
                    f"{'them' if len(names) > 1 else 'it'} can run in separate loops")
        new = _Expand(arrays, index).stmt(loop)
        assert isinstance(new, Loop)
        return (*allocs, new)


    def distribute(self, loop: Loop, subset: frozenset[str], lid: str) -> tuple[Stmt, ...]:
        """The copies of `loop` that run the statements of `subset` (one unless the loop is
        split), with the loops inside distributed too."""
        plan = self.plan(loop, subset)
        groups = [g.sids for g in plan.groups] if plan and plan.splits else [subset]
        copies: list[Loop] = []
        for k, group in enumerate(groups):
            new_lid = lid if k == 0 else self.ids.fresh("L")
            body = self.project(loop.body, frozenset(group))
            copies.append(loop if body is loop.body and new_lid == loop.lid
                          else dataclasses.replace(loop, lid=new_lid, body=body))
        if plan is not None:
            message = plan.describe([c.lid for c in copies])
            self.remark(copies[0], "distributed" if plan.splits else "not-transformed", message)
        return tuple(copies)

    def project(self, body: tuple[Stmt, ...], subset: frozenset[str]) -> tuple[Stmt, ...]:
        """The statements of `body` that belong to `subset` (the same tuple if all do)."""
        out: list[Stmt] = []
        for s in body:
            if isinstance(s, Loop):
                inner = subset & self.index.leaves[id(s)]
                if inner:
                    out.extend(self.distribute(s, inner, self.claim(s.lid)))
            elif isinstance(s, If):
                then, orelse = self.project(s.then, subset), self.project(s.orelse, subset)
                if then or orelse:
                    out.append(s if then is s.then and orelse is s.orelse
                               else dataclasses.replace(s, then=then, orelse=orelse))
            elif isinstance(s, (Assign, Store)) and s.sid in subset:
                out.append(s)
        return body if _same(out, body) else tuple(out)

    def claim(self, lid: str) -> str:
        """`lid` for the first copy of a loop, a fresh id for the others."""
        if lid in self.claimed:
            return self.ids.fresh("L")
        self.claimed.add(lid)
        return lid

    def remark(self, loop: Loop, kind: str, message: str) -> None:
        self.remarks.append(loop_remark(LoopDistribution.name, kind, loop,
                                        f"loop over '{loop.var.name}' ({loop.lid}) {message}"))


class _Expand(Rewriter):
    """Assignments to and reads of the expanded scalars become stores and loads of the
    iteration's element (unchecked: the index runs over [0, trips))."""

    def __init__(self, arrays: dict[str, Var], index: Expr):
        self.arrays = arrays
        self.index = index

    def stmt(self, s: Stmt) -> Stmt | tuple[Stmt, ...]:
        array = self.arrays.get(s.target.name) if isinstance(s, Assign) else None
        if array is None:
            return super().stmt(s)  # the targets of other assignments are not reads
        assert isinstance(s, Assign)
        return Store(s.sid, array, (self.index,), self.expr(s.value), checked=False, loc=s.loc)

    def expr_Var(self, e: Var) -> Expr:
        array = self.arrays.get(e.name)
        return e if array is None else Load(array, (self.index,), checked=False, loc=e.loc)


def _affine(e: Expr) -> Expr:
    form = affine_of(e)
    return form.to_expr() if form is not None else e


def _same(new: list[Stmt], old: tuple[Stmt, ...]) -> bool:
    return len(new) == len(old) and all(a is b for a, b in zip(new, old, strict=True))
