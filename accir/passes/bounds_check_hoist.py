"""bounds-check-hoist: check affine subscripts once per loop instead of once per access.

Python indexing wraps negative indices and raises IndexError out of range, which costs a
compare and a branch per access and stops vectorisation. For an innermost loop whose accesses
have subscripts affine in the loop index (other terms invariant in the loop), the subscripts are
extreme at the first and the last iteration; one test of those before the loop decides that
every access is in range and non-negative. The loop is versioned: the fast copy has unchecked
accesses, the original (renumbered) copy runs when the test fails, so the IndexError, or the
negative-index wrap-around, happens exactly as in Python.

A rectangular loop nest (bounds the same throughout, constant steps, only loops, ifs and
assignments in it) whose checked subscripts are all affine in the loops around them is
versioned as a whole: its indices range over a box, so each subscript is extreme at a corner,
and one test before the nest covers every access. The fast copy is then an unchecked nest
that the loop transformations may reorder. Other nests get the per-innermost-loop checks.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %n: pyint) -> none {
...   var %i: pyint
...   L0: for %i = 1 to %n step 1 {
...     S0: %a[%i] = %b[(%i - 1)]
...   }
... }
... ''')
>>> print(print_module(BoundsCheckHoist().run(m, AnalysisManager()).module), end="")
func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint
  if ((1 < %n) and (((%n - 1) < dim(%a, 0)) and ((%n - 2) < dim(%b, 0)))) versioned {
    L0: for %i = 1 to %n step 1 {
      S0: %a[%i; unchecked] = %b[(%i - 1); unchecked]
    }
  } else {
    L1: for %i = 1 to %n step 1 {
      S1: %a[%i] = %b[(%i - 1)]
    }
  }
}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.affine import Affine, affine_of
from accir.ir.fold import cannot_raise, contains_call, fold_expr
from accir.ir.nodes import (
    Assign,
    BinOp,
    Compare,
    Const,
    Dim,
    Expr,
    Function,
    If,
    Load,
    Logical,
    Loop,
    Module,
    Stmt,
    Store,
    Var,
    While,
    walk_stmts,
)
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.ir.types import PYINT
from accir.ir.uses import assigned_in
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.ids import IdSupply, is_versioned
from accir.passes.loop_nests import own_exprs
from accir.passes.registry import register


@register
@dataclass(frozen=True)
class BoundsCheckHoist(Pass):
    name: ClassVar[str] = "bounds-check-hoist"
    summary: ClassVar[str] = "version loop nests so affine subscripts are checked once"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def hoist(fn: Function) -> Function:
            hoister = _Hoister(fn)
            new = hoister.function(fn)
            remarks.extend(hoister.remarks)
            return new

        result = map_functions(module, hoist)
        return PassResult(result, remarks=tuple(remarks))


@dataclass
class _Plan:
    checks: list[Expr]
    hoisted: set[int]  # ids of the accesses the checks make safe
    kept: int  # checked accesses left as they are


class _Hoister(Rewriter):
    def __init__(self, fn: Function):
        self.ids = IdSupply(fn)
        self.remarks: list[Remark] = []

    def stmt(self, stmt: Stmt) -> Stmt | tuple[Stmt, ...]:
        if isinstance(stmt, If) and is_versioned(stmt):
            return stmt  # this pass's own output: leave both copies alone
        if isinstance(stmt, Loop) and not _is_innermost(stmt):
            plan = _nest_plan(stmt)
            if plan is not None:
                return self.version(stmt, plan, "the loop nest")
        return super().stmt(stmt)

    def stmt_Loop(self, loop: Loop) -> Stmt | tuple[Stmt, ...]:
        if not _is_innermost(loop):
            return loop
        plan, reason = _plan(loop)
        if plan is None:
            if reason:
                self.remark(loop, "checks-kept", f"subscripts checked at every access: {reason}")
            return loop
        return self.version(loop, plan, "the loop")

    def version(self, loop: Loop, plan: _Plan, what: str) -> Stmt:
        fast = _Unchecker(plan.hoisted).stmt(loop)
        slow = self.ids.renumber(loop)
        message = f"{len(plan.hoisted)} subscript(s) checked once before {what}"
        if plan.kept:
            message += f"; {plan.kept} non-affine subscript(s) still checked at every access"
        self.remark(loop, "checks-hoisted", message)
        return If(_conjunction(plan.checks), (fast,), (slow,), versioned=True,  # type: ignore[arg-type]
                  loc=loop.loc)

    def remark(self, loop: Loop, kind: str, message: str) -> None:
        where = loop.loc
        self.remarks.append(Remark(kind, f"loop over '{loop.var.name}': {message}",
                                   where.file if where else "", where.line if where else 0,
                                   BoundsCheckHoist.name))


def _is_innermost(loop: Loop) -> bool:
    return not any(isinstance(s, (Loop, While)) for s in walk_stmts(loop.body))


def _plan(loop: Loop) -> tuple[_Plan | None, str | None]:
    """The guard and the accesses it makes safe; or None and why not (None: nothing to do)."""
    accesses = _checked_accesses(loop)
    if not accesses:
        return None, None
    step = loop.step
    if not isinstance(step, Const) or step.value == 0:
        return None, "the loop step is not a constant"
    if contains_call(loop.start) or contains_call(loop.stop):
        return None, "the loop bounds call a function"
    assigned = assigned_in(loop.body)
    if loop.var.name in assigned:
        return None, f"the loop body assigns '{loop.var.name}'"

    def invariant(leaf: Expr) -> bool:
        names = {v.name for v in (leaf, *iter_exprs(leaf)) if isinstance(v, Var)}
        return leaf == loop.var or not names & assigned

    ends = {loop.var: _first_and_last(loop)}
    plan = _Plan([_runs(loop)], set(), 0)
    for access in accesses:
        conds = _box_checks(access, [loop], ends, invariant)
        if conds is None:
            plan.kept += 1
            continue
        plan.checks += [c for c in conds if c not in plan.checks]
        plan.hoisted.add(id(access))
    if not plan.hoisted:
        return None, "no subscript is affine in the loop index with invariant other terms"
    plan.checks = _strongest(plan.checks)
    return plan, None


def _nest_plan(nest: Loop) -> _Plan | None:
    """The guard of a whole rectangular nest (every loop's bounds the same throughout, no
    while, break or call statement), when every checked subscript in it is affine in the
    loops around it: each loop index ranges over a box, so a subscript is extreme at a corner.
    None when some subscript is not, or the nest is not such a nest."""
    assigned = assigned_in((nest,))
    found: list[tuple[Load | Store, list[Loop]]] = []
    if not _collect_nest(nest, [], assigned, found):
        return None
    loops = [s for s in walk_stmts((nest,)) if isinstance(s, Loop)]
    plan = _Plan([_runs(loop) for loop in loops], set(), 0)
    ends = {loop.var: _first_and_last(loop) for loop in loops}
    for access, around in found:
        names = {loop.var for loop in around}

        def invariant(leaf: Expr, names: set[Var] = names) -> bool:
            used = {v.name for v in (leaf, *iter_exprs(leaf)) if isinstance(v, Var)}
            return leaf in names or not used & assigned

        conds = _box_checks(access, around, ends, invariant)
        if conds is None:
            return None
        plan.checks += [c for c in conds if c not in plan.checks]
        plan.hoisted.add(id(access))
    if not plan.hoisted:
        return None
    plan.checks = _strongest(plan.checks)
    return plan


def _collect_nest(loop: Loop, around: list[Loop], assigned: set[str],
                  found: list[tuple[Load | Store, list[Loop]]]) -> bool:
    """Collect the checked accesses of a rectangular nest with the loops around each; False
    when the nest is not one (a bound that varies or may raise, a non-constant step, ...)."""
    for bound in (loop.start, loop.stop):
        used = {v.name for v in (bound, *iter_exprs(bound)) if isinstance(v, Var)}
        if used & assigned or not cannot_raise(bound):
            return False
    if _nonconstant_step(loop) or loop.var.name in assigned_in(loop.body):
        return False
    around = [*around, loop]
    for s in walk_stmts(loop.body):
        if isinstance(s, Loop):
            continue  # visited below with its own loops around
        if not isinstance(s, (Assign, Store, If)):
            return False
    for s in _shallow(loop.body):
        if isinstance(s, Loop):
            if not _collect_nest(s, around, assigned, found):
                return False
            continue
        found += [(a, around) for a in _checked_accesses_of(s)]
    return True


def _shallow(body: tuple[Stmt, ...]) -> list[Stmt]:
    """The statements of a block and of the ifs in it, not those inside nested loops."""
    out: list[Stmt] = []
    for s in body:
        out.append(s)
        if isinstance(s, If):
            out += _shallow(s.then) + _shallow(s.orelse)
    return out


def _checked_accesses_of(s: Stmt) -> list[Load | Store]:
    found: list[Load | Store] = [s] if isinstance(s, Store) and s.checked else []
    for e in own_exprs(s):
        found += [x for x in (e, *iter_exprs(e)) if isinstance(x, Load) and x.checked]
    return found


def _nonconstant_step(loop: Loop) -> bool:
    return not isinstance(loop.step, Const) or loop.step.value == 0


def _box_checks(access: Load | Store, loops: list[Loop], ends: dict[Var, tuple[Expr, Expr]],
                invariant: Callable[[Expr], bool]) -> list[Expr] | None:
    """Conditions under which every index of `access` is in range at every point of the box
    of its loops' indices (given that they all run); None when an index is not affine in them
    (or can never be in range). An affine index is extreme at a corner of the box: one lower
    and one upper check suffice."""
    conds: list[Expr] = []
    for axis, index in enumerate(access.indices):
        form = affine_of(index, invariant)
        if form is None:
            return None
        low, high = form, form
        for loop in loops:
            slope = form.coefficient(loop.var) * _step(loop)
            if slope:
                first, last = ends[loop.var]
                low_at, high_at = (last, first) if slope < 0 else (first, last)
                low = low.substitute(loop.var, _as_affine(low_at))
                high = high.substitute(loop.var, _as_affine(high_at))
        for cond in (Compare("<=", Const(0, PYINT), fold_expr(low.to_expr())),
                     Compare("<", fold_expr(high.to_expr()), Dim(access.array, axis))):
            decided = _decide(cond)
            if decided is False:
                return None
            if decided is None:
                conds.append(fold_expr(cond))
    return conds


def _strongest(checks: list[Expr]) -> list[Expr]:
    """Drop checks implied by another: `x < D` by `y < D` when y - x is a constant >= 0, and
    `0 <= x` by `0 <= y` when x - y is."""
    def redundant(k: int) -> bool:
        # implied by another check; of two checks implying each other the first stays
        return any(j != k and _implies(other, checks[k]) and (j < k or not _implies(
            checks[k], other)) for j, other in enumerate(checks))

    return [c for k, c in enumerate(checks) if not redundant(k)]


def _implies(a: Expr, b: Expr) -> bool:
    """Whether check `a` implies check `b` (both bounds checks made by this pass)."""
    if not (isinstance(a, Compare) and isinstance(b, Compare) and a.op == b.op):
        return False
    gap = None
    if a.op == "<" and a.rhs == b.rhs:
        gap = _constant_gap(b.lhs, a.lhs)  # a: x + gap < D implies b: x < D
    elif a.op == "<=" and a.lhs == b.lhs:
        gap = _constant_gap(a.rhs, b.rhs)  # a: 0 <= y implies b: 0 <= y + gap
    return gap is not None and gap >= 0


def _constant_gap(low: Expr, high: Expr) -> int | None:
    """high - low when it is a constant."""
    lo, hi = affine_of(low), affine_of(high)
    if lo is None or hi is None:
        return None
    gap = hi - lo
    return gap.constant if gap.is_constant else None


def _first_and_last(loop: Loop) -> tuple[Expr, Expr]:
    """The loop index at the first and the last iteration (valid when the loop runs)."""
    step = _step(loop)
    start, stop = loop.start, loop.stop
    if step == 1:
        last: Expr = fold_expr(_sub(stop, Const(1, PYINT)))
    elif step == -1:
        last = fold_expr(_add(stop, Const(1, PYINT)))
    else:
        span = _sub(_sub(stop, start), Const(1 if step > 0 else -1, PYINT))
        trips = BinOp("//", span, Const(step, PYINT))
        last = fold_expr(_add(start, BinOp("*", trips, Const(step, PYINT))))
    return start, last


def _step(loop: Loop) -> int:
    assert isinstance(loop.step, Const)
    return int(loop.step.value)  # type: ignore[arg-type]


def _runs(loop: Loop) -> Expr:
    op = "<" if _step(loop) > 0 else ">"
    return Compare(op, loop.start, loop.stop)


def _checked_accesses(loop: Loop) -> list[Load | Store]:
    found: list[Load | Store] = []
    for s in walk_stmts(loop.body):
        if isinstance(s, Store) and s.checked:
            found.append(s)
        found += [e for e in iter_exprs(s) if isinstance(e, Load) and e.checked]
    return found


def _decide(cond: Compare) -> bool | None:
    """True or False when the comparison of two affine forms is decided by their difference
    being a constant (e.g. `dim(a, 0) - 1 < dim(a, 0)`); None otherwise."""
    lhs, rhs = affine_of(cond.lhs), affine_of(cond.rhs)
    if lhs is None or rhs is None:
        return None
    gap = rhs - lhs
    if not gap.is_constant:
        return None
    return gap.constant > 0 if cond.op == "<" else gap.constant >= 0


def _as_affine(e: Expr) -> Affine:
    form = affine_of(e)
    return form if form is not None else Affine(((e, 1),))


def _conjunction(conds: list[Expr]) -> Expr:
    result = conds[-1]
    for c in reversed(conds[:-1]):
        result = Logical("and", c, result)
    return result


def _add(a: Expr, b: Expr) -> Expr:
    return BinOp("+", a, b)


def _sub(a: Expr, b: Expr) -> Expr:
    return BinOp("-", a, b)


class _Unchecker(Rewriter):
    """Marks the planned accesses unchecked."""

    def __init__(self, hoisted: set[int]):
        self.hoisted = hoisted

    def stmt(self, stmt: Stmt) -> Stmt | tuple[Stmt, ...]:
        was = id(stmt)
        new = super().stmt(stmt)
        if isinstance(new, Store) and was in self.hoisted:
            return dataclasses.replace(new, checked=False)
        return new

    def expr(self, expr: Expr) -> Expr:
        was = id(expr)
        new = super().expr(expr)
        if isinstance(new, Load) and was in self.hoisted:
            return dataclasses.replace(new, checked=False)
        return new
