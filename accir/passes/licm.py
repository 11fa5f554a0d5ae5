"""licm: loop-invariant code motion of scalar assignments out of `for` loops.

`t = expr` at the top level of a loop body moves to just before the loop when every iteration
would compute the same value and nothing can tell the difference:

(a) `expr` is invariant: it reads no variable the loop binds (its index, scalars or arrays
    it assigns) and no array the loop, or a function it calls, may write (any array when
    the loop holds an OpenACC construct or, in the version compiled for overlapping
    arguments, writes any array at all);
(b) `t` is bound nowhere else in the loop and the assignment is not under an `if`;
(c) no iteration reads `t` before the assignment, and the loop bounds do not read it;
(d) evaluating `expr` cannot raise (accir.ir.fold.cannot_raise): the loop may run zero
    times, and an error must come where CPython raises it, after the same side effects; an
    unchecked subscript is known in range only on the loop's iterations, so it moves only
    out of a loop known to run;
(e) if `t` may be read after the loop (loop_nests.live_after), the loop is known to run at
    least once and no `break` or `continue` can skip the assignment in the first iteration.
    A loop is known to run when its bounds are constants, or when it sits in the `then`
    branch of an `if` whose condition includes `start < stop` (as bounds-check-hoist's
    guards do) and that branch does not assign what the comparison reads. The pass never
    adds a guard of its own: it would make the assignment conditional and stop it from
    moving further out.

Loops with an OpenACC directive or a `parallel` annotation keep their statements, and so do
the loops that one of those collapses or tiles with it; a statement never leaves the block
around its loop, so nothing crosses a region boundary. Moves repeat until none applies,
innermost loops first, so an assignment invariant in a whole nest leaves it all, and a nest
whose outer bodies held only invariant assignments becomes perfect for loop-interchange and
loop-tiling. Statements keep their ids; each move is a remark of kind `hoisted`.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?x?xf64, C>, %alpha: f64, %beta: f64, %n: pyint) -> none {
...   var %i: pyint, %j: pyint, %t: f64
...   L0: for %i = 0 to %n step 1 {
...     S0: %t = (%alpha * %beta)
...     L1: for %j = 0 to %n step 1 {
...       S1: %a[%i, %j; unchecked] = (%a[%i, %j; unchecked] * %t)
...     }
...   }
... }
... ''')
>>> result = LoopInvariantCodeMotion().run(m, AnalysisManager())
>>> print(print_module(result.module), end="")
func @f(%a: memref<?x?xf64, C>, %alpha: f64, %beta: f64, %n: pyint) -> none {
  var %i: pyint, %j: pyint, %t: f64
  S0: %t = (%alpha * %beta)
  L0: for %i = 0 to %n step 1 {
    L1: for %j = 0 to %n step 1 {
      S1: %a[%i, %j; unchecked] = (%a[%i, %j; unchecked] * %t)
    }
  }
}
>>> print(result.remarks[0].message)
S0 (t = alpha * beta) hoisted out of the loop over 'i' (L0): invariant
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.fold import cannot_raise
from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    Break,
    Call,
    Compare,
    Const,
    Continue,
    Expr,
    Function,
    If,
    Load,
    Logical,
    Loop,
    Module,
    Region,
    Stmt,
    Var,
    While,
    child_blocks,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.ir.types import NONE, ScalarType
from accir.ir.uses import assigned_in, written_arrays
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.loop_nests import live_after, loop_remark
from accir.passes.parallel_scalars import exposed_reads
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class LoopInvariantCodeMotion(Pass):
    name: ClassVar[str] = "licm"
    summary: ClassVar[str] = "hoist loop-invariant scalar assignments out of for loops"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def hoist(fn: Function) -> Function:
            new, moved = hoist_invariants(module, fn, analyses.noalias)
            remarks.extend(moved)
            return new

        return PassResult(map_functions(module, hoist), remarks=tuple(remarks))


@dataclass(frozen=True)
class _Move:
    loop: Loop
    assign: Assign
    live: bool  # the target is read after the loop (which is known to run)


@dataclass(frozen=True)
class _Where:
    """What holds at a point of the function: comparisons known true there, and whether the
    point is inside a loop whose directive or annotation collapses it with the loops it holds
    (taking a statement out of one of those would break the nest it needs)."""

    facts: tuple[Compare, ...] = ()
    collapsed: bool = False


def hoist_invariants(module: Module, fn: Function, noalias: bool = True
                     ) -> tuple[Function, list[Remark]]:
    """`fn` with every movable assignment moved out of its loops, and a remark per move."""
    remarks: list[Remark] = []
    # each move lifts one assignment out of one loop, so this ends
    while (move := _Scope(module, fn, noalias).first_move(fn.body, _Where())) is not None:
        fn = _Mover(move).function(fn)
        remarks.append(_remark(move))
    return fn, remarks


def hoist_refusals(module: Module, fn: Function, noalias: bool = True) -> dict[str, str]:
    """Why each top-level assignment of each loop of `fn` stays where it is (statement id to
    reason); assignments that could move are left out."""
    scope = _Scope(module, fn, noalias)
    return scope.refusals(fn.body, _Where())


class _Scope:
    """Decisions about the loops of one function as it is now."""

    def __init__(self, module: Module, fn: Function, noalias: bool):
        self.module = module
        self.fn = fn
        self.noalias = noalias
        self.written: dict[int, set[str] | None] = {}  # arrays_written, by id of the loop

    def first_move(self, body: tuple[Stmt, ...], where: _Where) -> _Move | None:
        """The first possible move in `body`, inner loops before the loops around them."""
        for s in body:
            for block, inner in _nested_blocks(s, where):
                found = self.first_move(block, inner)
                if found is not None:
                    return found
            if isinstance(s, Loop):
                found = self.loop_move(s, where)
                if found is not None:
                    return found
        return None

    def loop_move(self, loop: Loop, where: _Where) -> _Move | None:
        for position, s in enumerate(loop.body):
            if isinstance(s, Assign) and self.refusal(loop, position, where) is None:
                return _Move(loop, s, self.live_after(loop, s.target.name))
        return None

    def refusals(self, body: tuple[Stmt, ...], where: _Where) -> dict[str, str]:
        found: dict[str, str] = {}
        for s in body:
            for block, inner in _nested_blocks(s, where):
                found.update(self.refusals(block, inner))
            if isinstance(s, Loop):
                for position, a in enumerate(s.body):
                    reason = self.refusal(s, position, where) if isinstance(a, Assign) else None
                    if reason is not None:
                        assert isinstance(a, Assign)
                        found[a.sid] = reason
        return found

    def refusal(self, loop: Loop, position: int, where: _Where) -> str | None:
        """Why `loop.body[position]` (an Assign) may not move out of `loop` (at `where`);
        None if it may."""
        assign = loop.body[position]
        assert isinstance(assign, Assign)
        target, value = assign.target.name, assign.value
        if loop.directive is not None or loop.parallel is not None:
            return "the loop has an OpenACC directive or runs on threads"
        if where.collapsed:
            return "the loop is collapsed (or tiled) with a loop around it"
        if not isinstance(assign.target.ty, ScalarType):
            return f"'{target}' is not a scalar"
        reason = self.variance(loop, value)
        if reason is not None:
            return reason
        if _bindings(loop.body, target) != 1 or target == loop.var.name:
            return f"'{target}' is assigned elsewhere in the loop"
        if target in exposed_reads(loop.body) or _reads({target}, loop.start, loop.stop, loop.step):
            return f"'{target}' is read in the loop before this assignment"
        if not cannot_raise(value):
            return "evaluating it may raise (an error must come where Python raises it)"
        runs = runs_at_least_once(loop, where.facts)
        if not runs and any(isinstance(e, Load) for e in (value, *iter_exprs(value))):
            return "its subscripts are known in range only while the loop runs, and the loop " \
                   "may not run"
        if self.live_after(loop, target) and not (runs and not _may_skip(loop.body[:position])):
            return f"'{target}' is read after the loop, which may not assign it " \
                   "(it may run zero times or skip the assignment)"
        return None

    def variance(self, loop: Loop, value: Expr) -> str | None:
        """Why `value` may differ between iterations of `loop`; None when it cannot."""
        bound = assigned_in(loop.body) | {loop.var.name}
        changed = _reads(bound, value)
        if changed:
            return f"it reads {_names(changed)}, assigned in the loop"
        loaded = {e.array.name for e in (value, *iter_exprs(value)) if isinstance(e, Load)}
        written = self.arrays_written(loop)
        changed = loaded if written is None else loaded & written
        if changed:
            return f"it reads array {_names(changed)}, which the loop may write"
        return None

    def arrays_written(self, loop: Loop) -> set[str] | None:
        """The arrays whose elements the loop may write; None: any array."""
        if id(loop) not in self.written:
            self.written[id(loop)] = self._arrays_written(loop)
        return self.written[id(loop)]

    def _arrays_written(self, loop: Loop) -> set[str] | None:
        if any(isinstance(s, (Region, AccStmt)) for s in walk_stmts(loop.body)):
            return None  # data directives (update self, copyout) write host arrays too
        as_function = Function(f"<loop {loop.lid}>", (), loop.body, NONE)
        written = written_arrays(self.module, as_function)
        return None if written and not self.noalias else written

    def live_after(self, loop: Loop, name: str) -> bool:
        return bool(live_after(self.fn, loop, {name})) or _read_by_others(self.fn, loop, name)


def _nested_blocks(s: Stmt, where: _Where) -> Iterable[tuple[tuple[Stmt, ...], _Where]]:
    """The blocks nested in `s`, each with what holds in it."""
    if isinstance(s, If):
        yield s.then, dataclasses.replace(where, facts=where.facts + _guard_facts(s))
        yield s.orelse, where
    elif isinstance(s, Loop) and _collapses(s):
        yield s.body, dataclasses.replace(where, collapsed=True)
    elif isinstance(s, (Loop, While, Region)):
        yield s.body, where


def _collapses(loop: Loop) -> bool:
    """Whether `loop` runs together with loops nested in it (collapse, tile)."""
    if loop.parallel is not None and loop.parallel.collapse > 1:
        return True
    d = loop.directive
    return d is not None and any(d.clause(name) is not None for name in ("collapse", "tile"))


def _guard_facts(s: If) -> tuple[Compare, ...]:
    """The comparisons among the conjuncts of the condition of `s` that stay true all
    through its `then` branch (it assigns nothing they read; they read no array element)."""
    assigned = assigned_in(s.then)
    return tuple(c for c in _conjuncts(s.cond) if isinstance(c, Compare)
                 and not _reads(assigned, c)
                 and not any(isinstance(e, (Load, Call)) for e in iter_exprs(c)))


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Logical) and e.op == "and":
        return _conjuncts(e.lhs) + _conjuncts(e.rhs)
    return [e]


def runs_at_least_once(loop: Loop, facts: tuple[Compare, ...] = ()) -> bool:
    """Whether `loop` certainly runs an iteration: constant bounds with a non-empty range,
    or a constant step and a fact `start < stop` (`start > stop` for a negative step)."""
    step = _int_const(loop.step)
    if not step:
        return False
    start, stop = _int_const(loop.start), _int_const(loop.stop)
    if start is not None and stop is not None:
        return len(range(start, stop, step)) > 0
    low, high = (loop.start, loop.stop) if step > 0 else (loop.stop, loop.start)
    return any(f == Compare("<", low, high) or f == Compare(">", high, low) for f in facts)


def _int_const(e: Expr) -> int | None:
    if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    return None


def _reads(names: set[str], *exprs: Expr) -> set[str]:
    """Which of `names` the expressions read."""
    return {v.name for e in exprs for v in (e, *iter_exprs(e))
            if isinstance(v, Var) and v.name in names}


def _bindings(body: tuple[Stmt, ...], name: str) -> int:
    """How many statements in `body` bind `name` (assignments, allocations, loop indices)."""
    return sum(1 for s in walk_stmts(body)
               if (isinstance(s, (Assign, Alloc)) and s.target.name == name)
               or (isinstance(s, Loop) and s.var.name == name))


def _may_skip(before: tuple[Stmt, ...]) -> bool:
    """Whether statements before the assignment may end the iteration early (a `return` ends
    the function, which reads nothing afterwards)."""
    return any(isinstance(s, (Break, Continue)) for s in walk_stmts(before))


def _read_by_others(fn: Function, root: Loop, name: str) -> bool:
    """Whether an allocation's shape or fill, or an OpenACC clause, outside `root` may read
    `name` (reads that loop_nests.live_after does not look at)."""
    def visit(body: tuple[Stmt, ...]) -> bool:
        for s in body:
            if s is root:
                continue
            if isinstance(s, Alloc) and _reads({name}, *s.shape, *(() if s.fill is None
                                                                  else (s.fill,))):
                return True
            directive = getattr(s, "directive", None)
            if directive is not None and re.search(rf"\b{re.escape(name)}\b",
                                                   directive.to_source()):
                return True
            if any(visit(block) for block in child_blocks(s)):
                return True
        return False

    return visit(fn.body)


def _names(names: set[str]) -> str:
    return ", ".join(f"'{n}'" for n in sorted(names))


class _Mover(Rewriter):
    """Moves the assignment of a `_Move` from its loop's body to just before the loop."""

    def __init__(self, move: _Move):
        self.move = move

    def stmt(self, stmt: Stmt) -> Stmt | tuple[Stmt, ...]:
        loop, assign = self.move.loop, self.move.assign
        if stmt is not loop:
            return super().stmt(stmt)
        body = tuple(s for s in loop.body if s is not assign)
        return assign, dataclasses.replace(loop, body=body)


def _remark(move: _Move) -> Remark:
    a, loop = move.assign, move.loop
    text = f"{a.target.name} = {_python_text(a.value)}"
    why = "invariant, and the loop runs at least once" if move.live else "invariant"
    return loop_remark(LoopInvariantCodeMotion.name, "hoisted", loop,
                       f"{a.sid} ({text}) hoisted out of the loop over '{loop.var.name}' "
                       f"({loop.lid}): {why}")


def _python_text(e: Expr) -> str:
    """The expression in something close to Python syntax, for remarks."""
    text = print_expr(e).replace("%", "").replace("; unchecked", "")
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        return text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0
