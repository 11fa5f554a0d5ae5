"""How loop-distribution splits one loop: where each statement of a function sits, the
strongly connected components of a loop's statements over the dependences that constrain them
at its level, their kinds (recurrence or parallel), the scalars that tie statements together,
and the grouping of the components into the loops of the split (typed fusion)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from accir.analysis.access import Access
from accir.analysis.dependence import Dependence, DependenceGraph
from accir.ir.nodes import (
    Assign,
    Const,
    Expr,
    Function,
    If,
    Load,
    Loop,
    Stmt,
    Store,
    Var,
    child_blocks,
    walk_stmts,
)
from accir.ir.rewrite import iter_exprs
from accir.ir.types import ScalarType
from accir.ir.uses import assigned_in
from accir.passes.loop_nests import live_after
from accir.passes.parallel_scalars import exposed_reads


class StatementIndex:
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
class Plan:
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
                         " (not expanded)" for name, users in self.ties.items()
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
class Planner:
    """Components, their kinds and their grouping for the leaves `subset` of `loop`."""

    graph: DependenceGraph
    fn: Function
    loop: Loop
    depth: int  # of the loop, counting from 1 at the outermost loop of the function
    members: dict[str, frozenset[str]]
    subset: frozenset[str]
    # scalars to be expanded into arrays: they tie no statements, and their dependences
    # carried by the loop go away
    expand: frozenset[str] = frozenset()
    order: list[str] = field(init=False)
    unit: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.order = [s.sid for s in walk_stmts(self.loop.body)
                      if isinstance(s, (Assign, Store)) and s.sid in self.subset]
        self.unit = {s.sid: k for k, top in enumerate(self.loop.body)
                     for s in walk_stmts((top,)) if isinstance(s, (Assign, Store))}

    def plan(self, perfect: bool) -> Plan | None:
        if len(self.order) < 2:
            return None
        edges = self.edges()
        ties = {name: users for name, users in
                _ties(self.fn, self.loop, self.subset, self.order).items()
                if name not in self.expand}
        components, succ = self.components(edges, ties)
        if len(components) == 1:
            if components[0].witness is None:
                return None
            cycle = _cycle(components[0].witness, edges, ties, self.depth)
            return Plan(self.depth, [], ties, order=tuple(self.order), cycle=cycle)
        carried = {frozenset((c, d)) for c, targets in succ.items() for d, e in targets.items()
                   if e}
        typed = _group(components, succ, carried, None)
        finer = _group(components, succ, carried, self.loop.body) if perfect else typed
        if perfect and len(finer) > 1 and any(_perfect(g, self.loop.body) for g in finer):
            plan = Plan(self.depth, finer, ties, perfect_only=len(typed) == 1)
        elif len(typed) > 1:
            plan = Plan(self.depth, typed, ties)
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
            if d.level is not None and d.source.scalar and d.array in self.expand:
                continue  # an element of the expanded array per iteration
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
    plan = Plan(depth, [], ties)
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


def expandable(fn: Function, loop: Loop) -> frozenset[str]:
    """Scalars of `loop` that scalar expansion can turn into arrays indexed by the iteration:
    assigned once, at the top of the body, before any read in each iteration; of a NumPy
    (strong) type; not read after the loop. The loop has unit step and bounds that read
    nothing it assigns (its first iteration's index is computed again inside)."""
    if not (isinstance(loop.step, Const) and loop.step.value == 1):
        return frozenset()
    assigned = assigned_in(loop.body)
    if _free((loop.start, loop.stop), frozenset()) & assigned or any(
            isinstance(e, Load) for b in (loop.start, loop.stop) for e in (b, *iter_exprs(b))):
        return frozenset()
    top = [s for s in loop.body if isinstance(s, Assign)]
    counts: dict[str, int] = {}
    for s in walk_stmts(loop.body):
        if isinstance(s, Assign):
            counts[s.target.name] = counts.get(s.target.name, 0) + 1
    exposed = exposed_reads(loop.body)
    names = {s.target.name for s in top
             if counts[s.target.name] == 1 and s.target.name not in exposed
             and isinstance(s.target.type, ScalarType) and not s.target.type.weak}
    return frozenset(names - live_after(fn, loop, names)) if names else frozenset()
