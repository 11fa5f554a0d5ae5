"""Loop nests as the loop transformations see them (loop-distribution, loop-interchange,
loop-fusion, loop-tiling): perfect nests, what besides dependences forbids running a nest's
iterations in another order, the dependence direction vectors over a nest's loops, and the
legality of a permutation of them.

A transformation reorders iterations, so it may only touch code whose effects are exactly
its stores and scalar assignments: nothing that can raise (a checked subscript or a
division that may meet zero would raise from a different iteration than CPython's),
nothing that leaves the nest early, no call, no OpenACC construct. bounds-check-hoist runs
first so that the fast copy of a versioned nest has unchecked subscripts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from accir.analysis.dependence import Dependence, DependenceAnalysis, DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.affine import affine_of
from accir.ir.fold import cannot_raise
from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    BinOp,
    Break,
    Call,
    Compare,
    Const,
    Continue,
    Expr,
    ExprStmt,
    Function,
    If,
    Loop,
    Module,
    Region,
    Return,
    Select,
    Stmt,
    Store,
    Var,
    While,
    child_blocks,
    walk_stmts,
)
from accir.ir.rewrite import iter_exprs
from accir.ir.types import PYINT
from accir.ir.uses import assigned_in
from accir.passes.base import PassResult, map_functions
from accir.passes.ids import is_versioned
from accir.passes.parallel_scalars import exposed_reads


class NestWalker:
    """Top-down walk of a function for the nest transformations: a pass decides on a loop as
    the dependence graph knows it, before anything inside it is rebuilt, and the original
    (checked) copy of a versioned nest is left as it is. Subclasses override `loop`, which
    may return several statements, and add to `remarks`."""

    def __init__(self, fn: Function, graph: DependenceGraph) -> None:
        self.fn = fn
        self.graph = graph  # of `fn`: the loops it knows are those of `fn`
        self.remarks: list[Remark] = []

    def block(self, body: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for s in body:
            new = self.stmt(s)
            out.extend(new if isinstance(new, tuple) else (new,))
        if len(out) == len(body) and all(a is b for a, b in zip(out, body, strict=True)):
            return body
        return tuple(out)

    def stmt(self, s: Stmt) -> Stmt | tuple[Stmt, ...]:
        if isinstance(s, Loop):
            return self.loop(s)
        if isinstance(s, If):
            then = self.block(s.then)
            orelse = s.orelse if is_versioned(s) else self.block(s.orelse)
            return s if then is s.then and orelse is s.orelse else dataclasses.replace(
                s, then=then, orelse=orelse)
        if isinstance(s, (While, Region)):
            body = self.block(s.body)
            return s if body is s.body else dataclasses.replace(s, body=body)
        return s

    def loop(self, loop: Loop) -> Stmt | tuple[Stmt, ...]:
        body = self.block(loop.body)
        return loop if body is loop.body else dataclasses.replace(loop, body=body)


def walk_functions(module: Module, analyses: AnalysisManager,
                   walker: Callable[[Function, DependenceGraph], NestWalker]) -> PassResult:
    """Run a fresh walker over each function of the module, with the function's dependence
    graph; its remarks with the result."""
    remarks: list[Remark] = []

    def one(fn: Function) -> Function:
        w = walker(fn, analyses.get(DependenceAnalysis, fn))
        body = w.block(fn.body)
        remarks.extend(w.remarks)
        return fn if body is fn.body else dataclasses.replace(fn, body=body)

    return PassResult(map_functions(module, one), remarks=tuple(remarks))


def unrolled(loop: Loop) -> bool:
    """Whether unroll-and-jam made the loop: its step is not 1, or it runs the iterations an
    unrolled loop left (its start takes a remainder, `stop - (stop - start) % factor`). The
    nest transformations leave such nests as they are."""
    if not (isinstance(loop.step, Const) and loop.step.value == 1):
        return True
    return any(isinstance(e, BinOp) and e.op == "%" for e in (loop.start, *iter_exprs(loop.start)))


def remainder_start(loop: Loop, factor: int) -> Expr:
    """Where the iterations the unrolled loop leaves begin: `max(start, stop - (stop -
    start) % factor)` (just `start` when the loop runs no iteration)."""
    span = affine_of(BinOp("-", loop.stop, loop.start))
    span_expr = span.to_expr() if span is not None else BinOp("-", loop.stop, loop.start)
    tail = BinOp("-", loop.stop, BinOp("%", span_expr, Const(factor, PYINT)))
    return Select(Compare("<", loop.start, tail), tail, loop.start)


def remainder_trips(s: Loop) -> int | None:
    """At most how many iterations a remainder loop of unroll-and-jam runs: `for v =
    select(a < t, t, a) to stop step 1` with `t = stop - (e % k)` runs at most k - 1."""
    start = s.start
    if not (isinstance(s.step, Const) and s.step.value == 1 and isinstance(start, Select)
            and isinstance(start.cond, Compare) and start.cond.op == "<"
            and start.cond.rhs == start.then):
        return None
    tail = start.then
    if isinstance(tail, BinOp) and tail.op == "-" and tail.lhs == s.stop and \
            isinstance(tail.rhs, BinOp) and tail.rhs.op == "%" and \
            isinstance(tail.rhs.rhs, Const) and isinstance(tail.rhs.rhs.value, int) and \
            tail.rhs.rhs.value > 1:
        return tail.rhs.rhs.value - 1
    return None


def perfect_nest(loop: Loop) -> list[Loop]:
    """`loop` and the loops each directly holds as its only statement, outermost first."""
    nest = [loop]
    while len(nest[-1].body) == 1 and isinstance(nest[-1].body[0], Loop):
        nest.append(nest[-1].body[0])
    return nest


def reorder_obstacle(loop: Loop) -> str | None:
    """What, besides dependences, forbids running the iterations of `loop` (and of the loops
    in it) in another order; None when nothing does."""
    for s in walk_stmts((loop,)):
        reason = _statement_obstacle(s)
        if reason:
            return reason
    return None


def _statement_obstacle(s: Stmt) -> str | None:
    if isinstance(s, While):
        return "it holds a while loop"
    if isinstance(s, (Region, AccStmt)):
        return "it holds an OpenACC construct"
    if isinstance(s, (Return, Break, Continue)):
        return "it can leave the loop early (return, break or continue)"
    if isinstance(s, (ExprStmt, Alloc)):
        return "it calls a function or allocates an array"
    if isinstance(s, Loop):
        if s.directive is not None or s.parallel is not None:
            return f"loop over '{s.var.name}' carries an OpenACC loop directive"
        if not (isinstance(s.step, Const) and s.step.value != 0):
            return f"loop over '{s.var.name}' has a step that is not a constant"
        if s.var.name in assigned_in(s.body):
            return f"the body of the loop over '{s.var.name}' assigns '{s.var.name}'"
    if isinstance(s, Store) and s.checked:
        return "its subscripts are checked at every access (an IndexError would come " \
               "from another iteration than in Python)"
    for e in own_exprs(s):
        if isinstance(e, Call):
            return "it calls a function"
        if not cannot_raise(e):
            return "an operation in it may raise (a division by a value that may be zero, " \
                   "a math function, or a checked subscript)"
    return None


def own_exprs(s: Stmt) -> Iterable[Expr]:
    """The expressions of a statement itself, not of the statements nested in it."""
    if isinstance(s, Assign):
        return (s.value,)
    if isinstance(s, Store):
        return (*s.indices, s.value)
    if isinstance(s, If):
        return (s.cond,)
    if isinstance(s, Loop):
        return (s.start, s.stop, s.step)
    return ()


def cannot_fail(body: tuple[Stmt, ...]) -> bool:
    """Whether running `body` certainly raises nothing: only assignments, unchecked stores,
    ifs and loops with a constant non-zero step, of expressions that cannot raise."""
    for s in walk_stmts(body):
        if not isinstance(s, (Assign, Store, If, Loop)) or (isinstance(s, Store) and s.checked):
            return False
        if isinstance(s, Loop) and not (isinstance(s.step, Const) and s.step.value != 0):
            return False
        if not all(cannot_raise(e) for e in own_exprs(s)):
            return False
    return True


def rectangular(nest: list[Loop]) -> bool:
    """Whether the bounds of every loop of the nest are the same for all iterations of the
    loops around it in the nest (no bound reads a nest variable or a scalar the nest
    assigns)."""
    assigned = assigned_in(tuple(nest[:1]))
    for loop in nest[1:]:
        for bound in (loop.start, loop.stop, loop.step):
            if any(isinstance(e, Var) and e.name in assigned for e in (bound, *iter_exprs(bound))):
                return False
    return True


def live_after(fn: Function, root: Stmt, names: set[str]) -> set[str]:
    """Which of `names` may be read outside `root` with a value `root` gave them:
    conservatively, every read outside `root` except those inside a loop that assigns the
    variable first in every iteration (a loop over it, or one whose body assigns it before
    any read)."""
    live: set[str] = set()

    def visit(body: tuple[Stmt, ...], bound: frozenset[str]) -> None:
        for s in body:
            if s is root:
                continue
            inner = bound
            if isinstance(s, Loop):
                private = (assigned_in(s.body) & names) - exposed_reads(s.body)
                inner = bound | {s.var.name} | private
            for e in own_exprs(s) if not isinstance(s, Loop) else (s.start, s.stop, s.step):
                live.update(v.name for v in (e, *iter_exprs(e))
                            if isinstance(v, Var) and v.name in names and v.name not in bound)
            if isinstance(s, (ExprStmt, Return)) and s.value is not None:
                live.update(v.name for v in (s.value, *iter_exprs(s.value))
                            if isinstance(v, Var) and v.name in names)
            if isinstance(s, While):
                live.update(v.name for v in (s.cond, *iter_exprs(s.cond))
                            if isinstance(v, Var) and v.name in names and v.name not in bound)
            for block in child_blocks(s):
                visit(block, inner)

    visit(fn.body, frozenset())
    return live


# ---------------------------------------------------------------------- dependences


@dataclass(frozen=True)
class NestDependence:
    """A dependence between two statements of a nest, not carried by a loop around it, with
    its directions and distances over the nest's loops that both statements are in."""

    dependence: Dependence
    directions: tuple[str, ...]
    distances: tuple[int | None, ...]


def nest_dependences(graph: DependenceGraph, nest: list[Loop], scalars: bool = True
                     ) -> list[NestDependence]:
    """The dependences inside `nest[0]` that a reordering of the nest's loops must respect
    (loops as analysed in `graph`'s function). `scalars=False` leaves out dependences on
    scalar variables (for callers that deal with those themselves)."""
    found = []
    for d in graph.dependences:
        if d.kind == "input" or (not scalars and d.source.scalar):
            continue
        pos = _position(d, nest[0])
        if pos is None or (d.level is not None and d.level <= pos):
            continue  # outside the nest, or carried by a loop around it
        depth = 0
        while (pos + depth < len(d.directions) and depth < len(nest)
               and d.source.loops[pos + depth].loop is nest[depth]):
            depth += 1
        found.append(NestDependence(d, d.directions[pos:pos + depth],
                                    d.distances[pos:pos + depth]))
    return found


def _position(d: Dependence, loop: Loop) -> int | None:
    """Where `loop` is among the loops common to the dependence's two ends."""
    for k, (a, b) in enumerate(zip(d.source.loops, d.sink.loops, strict=False)):
        if a.loop is not b.loop:
            return None
        if a.loop is loop:
            return k
    return None


def lexicographically_positive(directions: Iterable[str]) -> bool | None:
    """True when the first non-'=' direction is '<', None when all are '=', False when it is
    '>' or '*' (which may be '>')."""
    for d in directions:
        if d == "<":
            return True
        if d != "=":
            return False
    return None


def permutation_legal(deps: list[NestDependence], order: tuple[int, ...]) -> NestDependence | None:
    """None when running the nest's loops in `order` (indices into the nest, outermost first)
    keeps every dependence's source before its sink; otherwise the first it would reverse."""
    for nd in deps:
        if len(nd.directions) < len(order):
            return nd  # a statement outside the innermost loop: not a perfect nest
        permuted = [nd.directions[k] for k in order]
        if lexicographically_positive(permuted) is False:
            return nd
    return None


def describe(nd: NestDependence, names: list[str]) -> str:
    """`flow dependence on 'A' (S0 -> S1, directions (j:=, i:<))`"""
    dirs = ", ".join(f"{n}:{d}" for n, d in zip(names, nd.directions, strict=False))
    d = nd.dependence
    return (f"{d.kind} dependence on '{d.array}' ({d.source.stmt_id} -> {d.sink.stmt_id}, "
            f"directions ({dirs}))")


def loop_remark(pass_name: str, kind: str, loop: Loop, message: str) -> Remark:
    where = loop.loc
    return Remark(kind, message, where.file if where else "", where.line if where else 0,
                  pass_name)
