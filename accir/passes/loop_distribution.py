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
group (no scalar expansion), so its value after the loop is the last iteration's; one
assigned before every read in each iteration (private) does not make the group a recurrence.

Remarks: `distributed` lists the new loops; `not-transformed` names the cycle of a loop
whose statements form one recurrence, or what prevents a worthwhile split.

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
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from accir.analysis.access import Access
from accir.analysis.dependence import Dependence, DependenceAnalysis, DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.nodes import (
    Assign,
    Expr,
    Function,
    If,
    Load,
    Loop,
    Module,
    Stmt,
    Store,
    Var,
    child_blocks,
    walk_stmts,
)
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.ir.types import ScalarType
from accir.ir.uses import assigned_in
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.ids import IdSupply, is_versioned
from accir.passes.loop_nests import live_after, loop_remark, reorder_obstacle
from accir.passes.parallel_scalars import exposed_reads
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
        self.index = _Index(fn)

    def stmt(self, s: Stmt) -> Stmt | tuple[Stmt, ...]:
        if isinstance(s, If) and is_versioned(s):
            then = self.block(s.then)  # the slow copy checks every subscript: left alone
            return s if then is s.then else dataclasses.replace(s, then=then)
        if isinstance(s, Loop) and self.eligible(s):
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

    def plan(self, loop: Loop, subset: frozenset[str]) -> _Plan | None:
        planner = _Planner(self.graph, self.fn, loop, self.index.depth[id(loop)],
                           self.index.members, subset)
        return planner.plan(self.perfect)

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


def _same(new: list[Stmt], old: tuple[Stmt, ...]) -> bool:
    return len(new) == len(old) and all(a is b for a, b in zip(new, old, strict=True))


class _Index:
    """Where each statement of a function sits: the simple statements (leaves) inside each
    loop and if, which leaves an access's statement id stands for (a loop's bounds and an
    if's condition, `L<n>` and `C<n>` in the dependence graph, are evaluated for every
    leaf inside), and each loop's depth among the loops of the dependence graph."""

    def __init__(self, fn: Function):
        self.leaves: dict[int, frozenset[str]] = {}
        self.members: dict[str, frozenset[str]] = {}
        self.depth: dict[int, int] = {}
        self.conditions = 0
        everything = self.visit(fn.body, 0)
        self.repeated = {sid for sid, n in Counter(everything).items() if n > 1}

    def visit(self, body: tuple[Stmt, ...], depth: int) -> list[str]:
        found: list[str] = []
        for s in body:
            if isinstance(s, (Assign, Store)):
                self.members[s.sid] = frozenset((s.sid,))
                found.append(s.sid)
                continue
            key = getattr(s, "lid", None)
            if isinstance(s, If):  # numbered in the access analysis's (pre-)order
                key = f"C{self.conditions}"
                self.conditions += 1
            inner_depth = depth + 1 if key is not None and key[0] == "L" else depth
            self.depth[id(s)] = inner_depth
            inner = [sid for block in child_blocks(s) for sid in self.visit(block, inner_depth)]
            self.leaves[id(s)] = frozenset(inner)
            if key is not None:
                self.members[key] = frozenset(inner)
            found += inner
        return found

    def plain(self, loop: Loop) -> bool:
        """Whether the loop holds only stores, scalar assignments, loops and ifs, each loop
        and if with a statement in it, and no statement id twice in the function."""
        for s in walk_stmts(loop.body):
            if isinstance(s, (Loop, If)):
                if not self.leaves[id(s)]:
                    return False
            elif not isinstance(s, (Assign, Store)) or s.sid in self.repeated:
                return False
        return bool(self.leaves[id(loop)])


# ---------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class _Edge:
    """A dependence between two statements of the loop (leaves it stands for)."""

    src: str
    dst: str
    dep: Dependence
    carried: bool  # by the loop being distributed


@dataclass
class _Component:
    sids: tuple[str, ...]  # in textual order
    units: frozenset[int]  # which statements of the loop body hold them
    witness: _Edge | None  # a dependence the loop carries between them: a recurrence


@dataclass
class _Group:
    components: list[_Component]

    @property
    def sids(self) -> tuple[str, ...]:
        return tuple(s for c in self.components for s in c.sids)

    @property
    def witness(self) -> _Edge | None:
        return next((c.witness for c in self.components if c.witness), None)


@dataclass
class _Plan:
    """The groups a loop splits into (none: it is one recurrence, `cycle` says why)."""

    depth: int
    groups: list[_Group]
    ties: dict[str, tuple[str, ...]]
    perfect_only: bool = False
    order: tuple[str, ...] = ()
    cycle: str = ""
    blocked: str = ""  # what forbids the split

    @property
    def splits(self) -> bool:
        return bool(self.groups) and not self.blocked

    def describe(self, lids: list[str]) -> str:
        if self.blocked:
            return f"not distributed (it would split into {len(self.groups)} loops): " \
                   f"{self.blocked}"
        shared = "".join(f"; {', '.join(users)} stay in one loop: they share scalar '{name}'"
                         " (no scalar expansion)" for name, users in self.ties.items()
                         if len(users) > 1)
        if not self.groups:
            return (f"not distributed: {', '.join(self.order)} form one recurrence (cycle "
                    f"{self.cycle}){shared}")
        loops = ", ".join(f"{lid} {{{', '.join(g.sids)}}} {self.kind(g)}"
                          for lid, g in zip(lids, self.groups, strict=True))
        why = " to make perfect nests" if self.perfect_only else ""
        return f"distributed into {len(self.groups)} loops{why}: {loops}{shared}"

    def kind(self, group: _Group) -> str:
        w = group.witness
        if w is None:
            return "parallel"
        return f"sequential (recurrence on '{w.dep.array}': {w.src} -> {w.dst}" \
               f"{self.distance(w)})"

    def distance(self, edge: _Edge) -> str:
        d = edge.dep.distances[self.depth - 1] if edge.carried else None
        return "" if d is None else f" distance {d}"

    def label(self, edge: _Edge) -> str:
        return f"{edge.src} -> {edge.dst} ({edge.dep.kind} on '{edge.dep.array}'" \
               f"{self.distance(edge).replace(' ', ', ', 1)})"


@dataclass
class _Planner:
    """Components, their kinds and their grouping for the leaves `subset` of `loop`."""

    graph: DependenceGraph
    fn: Function
    loop: Loop
    depth: int  # of the loop, counting from 1 at the outermost loop of the function
    members: dict[str, frozenset[str]]
    subset: frozenset[str]
    order: list[str] = field(init=False)
    unit: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.order = [s.sid for s in walk_stmts(self.loop.body)
                      if isinstance(s, (Assign, Store)) and s.sid in self.subset]
        self.unit = {s.sid: k for k, top in enumerate(self.loop.body)
                     for s in walk_stmts((top,)) if isinstance(s, (Assign, Store))}

    def plan(self, perfect: bool) -> _Plan | None:
        if len(self.order) < 2:
            return None
        edges = self.edges()
        ties = _ties(self.fn, self.loop, self.subset, self.order)
        components, succ = self.components(edges, ties)
        if len(components) == 1:
            if components[0].witness is None:
                return None
            cycle = _cycle(components[0].witness, edges, ties, self.depth)
            return _Plan(self.depth, [], ties, order=tuple(self.order), cycle=cycle)
        carried = {frozenset((c, d)) for c, targets in succ.items() for d, e in targets.items()
                   if e}
        typed = _group(components, succ, carried, None)
        finer = _group(components, succ, carried, self.loop.body) if perfect else typed
        if perfect and len(finer) > 1 and any(_perfect(g, self.loop.body) for g in finer):
            plan = _Plan(self.depth, finer, ties, perfect_only=len(typed) == 1)
        elif len(typed) > 1:
            plan = _Plan(self.depth, typed, ties)
        else:
            return None
        plan.blocked = self.bounds_change()
        return plan

    def bounds_change(self) -> str:
        """Why each copy of the loop would not run the same iterations: its bounds read
        what its body writes (each copy evaluates them anew)."""
        stores = {s.array.name for s in walk_stmts(self.loop.body) if isinstance(s, Store)}
        bounds = (self.loop.start, self.loop.stop, self.loop.step)
        loads = {e.array.name for b in bounds for e in (b, *iter_exprs(b))
                 if isinstance(e, Load)}  # shapes (dim) never change
        if (_free(bounds, frozenset()) | loads) & (assigned_in(self.loop.body) | stores) or (
                loads and stores and not self.graph.noalias):
            return "its bounds read what its body writes"
        return ""

    def edges(self) -> list[_Edge]:
        """The dependences between leaves of the subset that are loop-independent or carried
        by the loop or a deeper one (those carried outside keep their order anyway)."""
        found = []
        for d in self.graph.dependences:
            if d.kind == "input" or (d.level is not None and d.level < self.depth):
                continue
            if not (self.inside(d.source) and self.inside(d.sink)):
                continue
            sources = self.members.get(d.source.stmt_id, frozenset()) & self.subset
            sinks = self.members.get(d.sink.stmt_id, frozenset()) & self.subset
            found += [_Edge(x, y, d, d.level == self.depth) for x in sources for y in sinks]
        return found

    def inside(self, access: Access) -> bool:
        return len(access.loops) >= self.depth and \
            access.loops[self.depth - 1].loop is self.loop

    def components(self, edges: list[_Edge], ties: dict[str, tuple[str, ...]]
                   ) -> tuple[list[_Component], dict[int, dict[int, bool]]]:
        """Strongly connected components (statements that share a scalar count as one),
        in textual order of their first statement, and the edges between them (True: one
        of the dependences is carried by the loop)."""
        node = _tied(self.order, ties)
        succ: dict[str, set[str]] = {n: set() for n in self.order}
        for e in edges:
            succ[node[e.src]].add(node[e.dst])
        reach = {n: _reachable(n, succ) for n in set(node.values())}
        owner = {s: min((m for m in reach if m in reach[node[s]] and node[s] in reach[m]),
                        key=self.order.index, default=node[s]) for s in self.order}
        keys = list(dict.fromkeys(owner[s] for s in self.order))
        comp_of = {s: keys.index(owner[s]) for s in self.order}
        exposed = exposed_reads(self.loop.body)
        components = []
        for k in range(len(keys)):
            sids = tuple(s for s in self.order if comp_of[s] == k)
            inner = [e for e in edges if e.carried and comp_of[e.src] == k == comp_of[e.dst]
                     and not (e.dep.source.scalar and e.dep.array not in exposed)]
            inner.sort(key=lambda e: (e.dep.source.scalar, e.dep.kind != "flow"))
            components.append(_Component(sids, frozenset(self.unit[s] for s in sids),
                                         inner[0] if inner else None))
        between: dict[int, dict[int, bool]] = {k: {} for k in range(len(keys))}
        for e in edges:
            a, b = comp_of[e.src], comp_of[e.dst]
            if a != b:
                between[a][b] = between[a].get(b, False) or e.carried
        return components, between


def _tied(order: list[str], ties: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each leaf's representative after uniting the users of each shared scalar."""
    parent = {s: s for s in order}

    def find(s: str) -> str:
        while parent[s] != s:
            s = parent[s]
        return s

    for users in ties.values():
        for u in users[1:]:
            a, b = sorted((find(users[0]), find(u)), key=order.index)
            parent[b] = a
    return {s: find(s) for s in order}


def _reachable(start: str, succ: dict[str, set[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for t in succ[stack.pop()]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return seen


def _group(components: list[_Component], succ: dict[int, dict[int, bool]],
           carried: set[frozenset[int]], body: tuple[Stmt, ...] | None) -> list[_Group]:
    """Components in a topological order, consecutive ones of a kind in one group (typed
    fusion): preferring a ready component that joins the last group, else the textually
    first. With `body`, a group also keeps to one loop of the body or to statements that
    are not loops (perfect nests)."""
    preds = {k: {a for a, targets in succ.items() if k in targets} for k in succ}
    done: set[int] = set()
    groups: list[list[int]] = []
    pending = list(range(len(components)))
    while pending:
        ready = [k for k in pending if preds[k] <= done]
        fits = [k for k in ready if groups and _fits(groups[-1], k, components, carried, body)]
        pick = (fits or ready)[0]
        if fits:
            groups[-1].append(pick)
        else:
            groups.append([pick])
        done.add(pick)
        pending.remove(pick)
    return [_Group([components[k] for k in g]) for g in groups]


def _fits(group: list[int], k: int, components: list[_Component],
          carried: set[frozenset[int]], body: tuple[Stmt, ...] | None) -> bool:
    parallel = components[k].witness is None
    if parallel != (components[group[0]].witness is None):
        return False
    if parallel and any(frozenset((g, k)) in carried for g in group):
        return False  # the merged loop would carry a dependence
    if body is None:
        return True
    units = frozenset().union(*(components[g].units for g in (*group, k)))
    return len(units) == 1 or not any(isinstance(body[u], Loop) for u in units)


def _perfect(group: _Group, body: tuple[Stmt, ...]) -> bool:
    """Whether the group's copy of the loop holds one loop and nothing else."""
    units = frozenset().union(*(c.units for c in group.components))
    return len(units) == 1 and isinstance(body[next(iter(units))], Loop)


def _ties(fn: Function, loop: Loop, subset: frozenset[str], order: list[str]
          ) -> dict[str, tuple[str, ...]]:
    """For each scalar that ties statements to one loop, the statements that use it: a
    scalar assigned in the loop, and the variable of an inner loop read outside such a loop
    (or after the loop). Without scalar expansion, each copy would see another value."""
    reads: defaultdict[str, set[str]] = defaultdict(set)
    assigns: defaultdict[str, set[str]] = defaultdict(set)
    binds: defaultdict[str, set[str]] = defaultdict(set)

    def visit(body: tuple[Stmt, ...], bound: frozenset[str], control: frozenset[str]) -> None:
        for s in body:
            if isinstance(s, Loop):
                used = control | _free((s.start, s.stop, s.step), bound)
                for leaf in walk_stmts(s.body):
                    if isinstance(leaf, (Assign, Store)):
                        binds[s.var.name].add(leaf.sid)
                visit(s.body, bound | {s.var.name}, used)
            elif isinstance(s, If):
                used = control | _free((s.cond,), bound)
                visit(s.then, bound, used)
                visit(s.orelse, bound, used)
            elif isinstance(s, Assign):
                for name in control | _free((s.value,), bound):
                    reads[name].add(s.sid)
                assigns[s.target.name].add(s.sid)
            elif isinstance(s, Store):
                for name in control | _free((*s.indices, s.value), bound):
                    reads[name].add(s.sid)

    visit(loop.body, frozenset((loop.var.name,)), frozenset())
    live = live_after(fn, loop, set(binds)) if binds else set()
    names = set(assigns) | {v for v in binds if v in reads or v in live}
    ties = {}
    for name in sorted(names):
        users = (reads[name] | assigns[name] | binds[name]) & subset
        if users:
            ties[name] = tuple(s for s in order if s in users)
    return ties


def _free(exprs: Iterable[Expr], bound: frozenset[str]) -> frozenset[str]:
    """Scalar variables the expressions read, other than those in `bound`."""
    return frozenset(v.name for e in exprs for v in (e, *iter_exprs(e))
                     if isinstance(v, Var) and isinstance(v.ty, ScalarType)
                     and v.name not in bound)


def _cycle(witness: _Edge, edges: list[_Edge], ties: dict[str, tuple[str, ...]],
           depth: int) -> str:
    """The carried dependence and a shortest way back from its sink to its source."""
    plan = _Plan(depth, [], ties)
    steps: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for e in edges:
        steps[e.src].append((e.dst, plan.label(e)))
    for name, users in ties.items():
        for a in users:
            steps[a] += [(b, f"{a} -> {b} (scalar '{name}')") for b in users if b != a]
    back: dict[str, list[str]] = {witness.dst: []}
    queue = [witness.dst]
    while queue and witness.src not in back:
        here = queue.pop(0)
        for there, label in steps[here]:
            if there not in back:
                back[there] = [*back[here], label]
                queue.append(there)
    return ", ".join([plan.label(witness), *back.get(witness.src, [])])
