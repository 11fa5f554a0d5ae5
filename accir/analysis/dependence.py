"""The dependence graph of a function: which statements must stay in order, and at which
loop level the order is carried.

For every pair of accesses to the same array (or scalar) of which one writes, the dependence
tests (accir.analysis.dependence_tests) give the direction vectors over their common loops
for which the two may touch the same element. Each vector becomes a dependence oriented in
execution order: a vector whose first non-'=' direction is '<' runs from the first access to
the second, one whose first is '>' from the second to the first (reversed), and an all-'='
vector is loop-independent and runs in textual order. Its level is the 1-based depth of the
loop that carries it ('-' when loop-independent).

Arrays passed as different arguments are distinct memory unless the analysis manager says
they may overlap (the compiler checks that at every call, see docs/dependences.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from accir.analysis.access import Access, AccessAnalysis, LoopInfo
from accir.analysis.dependence_tests import (
    DependenceProblem,
    DependenceResult,
    DirectionVector,
    LoopBound,
    test_dependence,
)
from accir.analysis.manager import AnalysisManager
from accir.ir.affine import Affine
from accir.ir.nodes import (
    Compare,
    Const,
    Dim,
    Expr,
    Function,
    Logical,
    Loop,
    UnaryOp,
    Var,
    While,
)
from accir.ir.types import PYINT

_FLIP = {"<": ">", ">": "<", "=": "=", "*": "*"}


@dataclass(frozen=True)
class Dependence:
    kind: str  # 'flow', 'anti', 'output' or 'input'
    source: Access
    sink: Access
    directions: tuple[str, ...]  # per common loop, outermost first
    distances: tuple[int | None, ...]
    level: int | None  # depth (1-based) of the carrying loop; None: loop-independent
    test: str
    conditions: tuple[Expr, ...] = field(default=(), compare=False)

    @property
    def array(self) -> str:
        return self.source.array

    @property
    def carried(self) -> bool:
        return self.level is not None

    def line(self) -> str:
        """`dep S0 -> S1 flow A dir=(<,=) dist=(1,0) level=1 test=strong-siv`"""
        dist = ",".join("*" if d is None else str(d) for d in self.distances)
        level = "-" if self.level is None else str(self.level)
        return (f"dep {self.source.stmt_id} -> {self.sink.stmt_id} {self.kind} {self.array} "
                f"dir=({','.join(self.directions)}) dist=({dist}) level={level} "
                f"test={self.test}")


@dataclass
class DependenceGraph:
    function: Function
    accesses: list[Access]
    dependences: list[Dependence]
    noalias: bool = True

    def lines(self) -> list[str]:
        """One line per dependence and direction vector (pairs of accesses that differ only
        in which element of a statement they are give the same line once)."""
        return list(dict.fromkeys(d.line() for d in self.dependences))

    def carried_by(self, loop: Loop | While) -> list[Dependence]:
        return [d for d in self.dependences if d.carried and _carrier(d) is loop]

    def independence(self, loop: Loop | While) -> Expr | bool:
        """Staged analysis: True when `loop` carries no dependence; False when it carries one
        whatever the call-time values; otherwise a condition over call-time values (arguments,
        array dimensions) under which it carries none."""
        if not self.carried_by(loop):
            return True
        inside = [a for a in self.accesses if any(info.loop is loop for info in a.loops)]
        assumptions: dict[Expr, None] = {}
        for a in inside:
            for form in a.assumptions:  # subscripts that must not wrap around
                assumptions[Compare("<=", Const(0, PYINT), form.to_expr())] = None
        alternatives: list[tuple[Expr, ...]] = []
        for d in _dependences(inside, self.noalias, optimistic=True):
            if not d.carried or _carrier(d) is not loop:
                continue
            if not d.conditions:
                return False  # carried whatever the values: nothing to check at call time
            alternatives.append(tuple(dict.fromkeys(_negate(c) for c in d.conditions)))
        # absorption: `a and (a or b)` is `a`
        required = {alt[0] for alt in alternatives if len(alt) == 1} | set(assumptions)
        disproofs = [_any(list(alt)) for alt in dict.fromkeys(alternatives)
                     if len(alt) == 1 or not required & set(alt)]
        return _all([*assumptions, *disproofs])

    def sccs(self, loop: Loop | While | None = None) -> list[list[str]]:
        """Strongly connected components of the statements directly or indirectly in `loop`
        (the whole function when None), over the dependences that constrain their order at
        that level: loop-independent ones and those carried by `loop` or a deeper loop.
        Returned in a topological order of the condensed graph."""
        depth = 0 if loop is None else _depth_of(loop, self.accesses)
        nodes = _statements_in(self.accesses, loop)
        edges: dict[str, set[str]] = {n: set() for n in nodes}
        for d in self.dependences:
            src, dst = d.source.stmt_id, d.sink.stmt_id
            if src in edges and dst in edges and (d.level is None or d.level >= depth):
                if d.level is None and depth and not _inside(d, loop):
                    continue
                edges[src].add(dst)
        return _tarjan(nodes, edges)


class DependenceAnalysis:
    """`manager.get(DependenceAnalysis, function)`: the function's dependence graph."""

    name: ClassVar[str] = "dependences"

    @classmethod
    def compute(cls, function: Function, manager: AnalysisManager) -> DependenceGraph:
        accesses = manager.get(AccessAnalysis, function).accesses
        deps = list(_dependences(accesses, manager.noalias))
        return DependenceGraph(function, accesses, deps, manager.noalias)


# ---------------------------------------------------------------------- pairs of accesses


def _dependences(accesses: list[Access], noalias: bool, optimistic: bool = False
                 ) -> Iterator[Dependence]:
    """The dependences between accesses; `optimistic`: assuming subscripts do not wrap."""
    for k, a in enumerate(accesses):
        for b in accesses[k:]:
            if not (a.write or b.write) or not _same_memory(a, b, noalias):
                continue
            yield from _pair(a, b, optimistic)


def _same_memory(a: Access, b: Access, noalias: bool) -> bool:
    """Whether two accesses may touch the same memory at all."""
    if a.array == b.array:
        return True
    return not noalias and not a.scalar and not b.scalar  # two arrays that may overlap


def _pair(a: Access, b: Access, optimistic: bool = False) -> Iterator[Dependence]:
    common = _common_loops(a, b)
    result = _test(a, b, common, optimistic)
    for vector in result.vectors:
        for v in _split_leading_stars(vector):
            yield from _orient(a, b, v, result)


def _test(a: Access, b: Access, common: list[LoopInfo], optimistic: bool = False
          ) -> DependenceResult:
    n = len(common)
    if a.array != b.array or a.scalar or b.scalar:
        # scalars are one location; distinct arrays that may overlap: anything goes
        star = DirectionVector(("*",) * n, (None,) * n)
        return DependenceResult((star,), "scalar" if a.scalar else "alias")
    # The sink's loop indices are distinct leaves: primed copies of the common loops' indices,
    # and fresh names for its own loops (which may reuse the source's index names).
    sink_vars = tuple(Var(f"{info.index.name}'", PYINT) for info in common)
    renaming: dict[Expr, Affine] = {
        info.index: Affine(((v, 1),)) for info, v in zip(common, sink_vars, strict=True)}
    for info in b.loops[n:]:
        renaming[info.index] = Affine(((Var(f"{info.index.name}'{info.lid}", PYINT), 1),))
    problem = DependenceProblem(
        common=tuple(_bound(info) for info in common),
        sink_vars=sink_vars,
        src_loops=tuple(_bound(info) for info in a.loops[n:]),
        dst_loops=tuple(_bound(info, renaming) for info in b.loops[n:]),
        pairs=tuple((s, _rename(t, renaming)) for s, t in zip(
            a.optimistic if optimistic else a.subscripts,
            b.optimistic if optimistic else b.subscripts, strict=True)),
        nonnegative=_sizes(a, b),
    )
    return test_dependence(problem)


def _sizes(a: Access, b: Access) -> frozenset[Expr]:
    """Symbols that cannot be negative: array dimensions (and variables holding one)."""
    forms = [f for f in (*a.subscripts, *b.subscripts) if f is not None]
    for info in (*a.loops, *b.loops):
        forms += [f for f in (info.lower, info.upper) if f is not None]
    return frozenset(leaf for f in forms for leaf, _ in f.terms if isinstance(leaf, Dim))


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _negate(c: Expr) -> Expr:
    """not c; a comparison of integers negates exactly."""
    if isinstance(c, Compare):
        return Compare(_NEGATED[c.op], c.lhs, c.rhs)
    return UnaryOp("not", c)


def _all(conditions: list[Expr]) -> Expr | bool:
    if not conditions:
        return True
    result = conditions[-1]
    for c in reversed(conditions[:-1]):
        result = Logical("and", c, result)
    return result


def _any(conditions: list[Expr]) -> Expr:
    result = conditions[-1]
    for c in reversed(conditions[:-1]):
        result = Logical("or", c, result)
    return result


def _bound(info: LoopInfo, renaming: dict[Expr, Affine] | None = None) -> LoopBound:
    """A loop's normalised bounds, with the sink's variables when `renaming` is given."""
    if renaming is None:
        return LoopBound(info.index, info.lower, info.upper)
    index = renaming[info.index].terms[0][0]
    return LoopBound(index, _rename(info.lower, renaming), _rename(info.upper, renaming))


def _rename(form: Affine | None, renaming: dict[Expr, Affine]) -> Affine | None:
    if form is None:
        return None
    for leaf in [leaf for leaf, _ in form.terms if leaf in renaming]:
        form = form.substitute(leaf, renaming[leaf])
    return form


def _common_loops(a: Access, b: Access) -> list[LoopInfo]:
    common = []
    for x, y in zip(a.loops, b.loops, strict=False):
        if x.loop is not y.loop:
            break
        common.append(x)
    return common


def _split_leading_stars(v: DirectionVector) -> Iterator[DirectionVector]:
    """Refine '*' up to the first component that decides the orientation."""
    for k, d in enumerate(v.directions):
        if d == "=":
            continue
        if d != "*":
            yield v
            return
        for choice in ("<", "=", ">"):
            dist = v.distances[k] if choice != "=" else 0
            yield from _split_leading_stars(DirectionVector(
                (*v.directions[:k], choice, *v.directions[k + 1:]),
                (*v.distances[:k], dist, *v.distances[k + 1:])))
        return
    yield v


def _orient(a: Access, b: Access, v: DirectionVector, result: DependenceResult
            ) -> Iterator[Dependence]:
    first = next((k for k, d in enumerate(v.directions) if d != "="), None)
    if first is None:  # same iteration of every common loop: textual order decides
        if a is b:
            return
        src, dst = (a, b) if a.order <= b.order else (b, a)
        yield _make(src, dst, v.directions, v.distances, None, result)
    elif v.directions[first] == "<":
        yield _make(a, b, v.directions, v.distances, first + 1, result)
    elif a is not b:  # '>': the second access comes first
        flipped = tuple(_FLIP[d] for d in v.directions)
        negated = tuple(None if d is None else -d for d in v.distances)
        yield _make(b, a, flipped, negated, first + 1, result)


def _make(src: Access, dst: Access, directions: tuple[str, ...],
          distances: tuple[int | None, ...], level: int | None, result: DependenceResult
          ) -> Dependence:
    kind = ("output" if src.write and dst.write else "flow" if src.write
            else "anti" if dst.write else "input")
    return Dependence(kind, src, dst, directions, distances, level, result.test,
                      result.conditions)


# ---------------------------------------------------------------------- components


def _carrier(d: Dependence) -> Loop | While | None:
    if d.level is None:
        return None
    return d.source.loops[d.level - 1].loop


def _depth_of(loop: Loop | While, accesses: list[Access]) -> int:
    for a in accesses:
        for k, info in enumerate(a.loops):
            if info.loop is loop:
                return k + 1
    return 0


def _statements_in(accesses: list[Access], loop: Loop | While | None) -> list[str]:
    seen: dict[str, None] = {}
    for a in accesses:
        if loop is None or any(info.loop is loop for info in a.loops):
            seen.setdefault(a.stmt_id, None)
    return list(seen)


def _inside(d: Dependence, loop: Loop | While | None) -> bool:
    return loop is None or any(info.loop is loop for info in d.source.loops)


def _tarjan(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components in a topological order of the condensed graph that
    keeps the original statement order wherever dependences allow."""
    components = _components(nodes, edges)
    owner = {v: k for k, comp in enumerate(components) for v in comp}
    succ: dict[int, set[int]] = {k: set() for k in range(len(components))}
    for v, targets in edges.items():
        succ[owner[v]].update(owner[w] for w in targets if owner[w] != owner[v])
    indegree = {k: 0 for k in succ}
    for later in succ.values():
        for t in later:
            indegree[t] += 1
    first = {k: min(nodes.index(v) for v in comp) for k, comp in enumerate(components)}
    ready = sorted((k for k, d in indegree.items() if d == 0), key=first.__getitem__)
    order: list[list[str]] = []
    while ready:
        k = ready.pop(0)
        order.append(components[k])
        for c in succ[k]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
        ready.sort(key=first.__getitem__)
    return order


def _components(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v], key=nodes.index):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component, key=nodes.index))

    for v in nodes:
        if v not in index:
            visit(v)
    return out
