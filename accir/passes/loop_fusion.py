"""loop-fusion: run adjacent loops with the same iteration space as one loop, when that keeps
every dependence between them in order and no parallel loop turns sequential.

Two adjacent loops of a block are fused when both can be reordered at all
(`loop_nests.reorder_obstacle`), their bounds are the same expressions and read nothing
either loop writes, they share no scalar that one of them assigns, and no dependence from
the first loop to the second would run backwards: in the fused loop, an access of the second
loop's body must never reach an element at an earlier iteration than the access of the first
loop's body it depends on (e.g. `a[i] = ...` then `... = a[i + 1]`). Fusion is *typed*
(Kennedy and McKinley): a parallel loop never fuses with a sequential one (one that carries a
dependence, a reduction included), and two parallel loops do not fuse when the fused loop
would carry a dependence between their bodies; two sequential loops may. Nests fuse level by
level: after the outer loops fuse, their inner loops, now adjacent, are tried in turn. Chains
fuse greedily, first with second, the result with the third, and so on.

Loop versions made by bounds-check-hoist (`if c1 { fast L1 } else { slow L1 }`, then the same
for L2) fuse when the fast copies do: `if c1 and c2 { fused fast } else { slow L1; slow L2 }`,
right whichever way the guards go. The slow copies, with checked subscripts, stay apart.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>) -> none {
...   var %i: pyint
...   L0: for %i = 0 to 8 step 1 {
...     S0: %b[%i; unchecked] = (%a[%i; unchecked] * 2.0:f64)
...   }
...   L1: for %i = 0 to 8 step 1 {
...     S1: %c[%i; unchecked] = (%b[%i; unchecked] + %a[%i; unchecked])
...   }
... }
... ''')
>>> result = LoopFusion().run(m, AnalysisManager())
>>> print(print_module(result.module), end="")
func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>) -> none {
  var %i: pyint
  L0: for %i = 0 to 8 step 1 {
    S0: %b[%i; unchecked] = (%a[%i; unchecked] * 2.0:f64)
    S1: %c[%i; unchecked] = (%b[%i; unchecked] + %a[%i; unchecked])
  }
}
>>> print(result.remarks[0].message)
loops over 'i' L0 and L1 fused (lines 4 and 7): b[i] and c[i] computed in one sweep
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.access import Access
from accir.analysis.dependence import Dependence, DependenceAnalysis
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.fold import cannot_raise, contains_call
from accir.ir.nodes import (
    Assign,
    BinOp,
    Expr,
    Function,
    If,
    Load,
    Logical,
    Loop,
    Module,
    Region,
    Stmt,
    Store,
    Var,
    While,
    child_blocks,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.ir.types import ScalarType
from accir.ir.uses import assigned_in
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.ids import is_versioned
from accir.passes.loop_nests import live_after, loop_remark, reorder_obstacle
from accir.passes.registry import register

# the whole function with a candidate statement in place of the two being fused
Place = Callable[[Stmt], Function]
# the whole function with a block replaced
Embed = Callable[[tuple[Stmt, ...]], Function]


@register
@dataclass(frozen=True)
class LoopFusion(Pass):
    name: ClassVar[str] = "loop-fusion"
    summary: ClassVar[str] = "fuse adjacent loops over the same range that no dependence " \
                             "keeps apart"
    # refuse a fusion that makes the fused loop carry a dependence between the two bodies
    # unless both loops carried dependences already (typed fusion)
    typed: bool = True

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def fuse(fn: Function) -> Function:
            fuser = _Fuser(fn, analyses.noalias, self.typed)
            new = fuser.function()
            remarks.extend(fuser.remarks)
            return new

        return PassResult(map_functions(module, fuse), remarks=tuple(remarks))


class _Fuser:
    """Fuses the loops of one function, top-down, each candidate judged on the whole function
    with the fused loop in place (the dependence analysis needs the function's symbols)."""

    def __init__(self, fn: Function, noalias: bool, typed: bool):
        self.fn = fn
        self.noalias = noalias
        self.typed = typed
        self.remarks: list[Remark] = []

    def function(self) -> Function:
        fn = self.fn
        body = self.block(fn.body, lambda b: dataclasses.replace(fn, body=b), quiet=False)
        return fn if body is fn.body else dataclasses.replace(fn, body=body)

    def block(self, body: tuple[Stmt, ...], embed: Embed, quiet: bool) -> tuple[Stmt, ...]:
        items = self.fuse_adjacent(list(body), embed, quiet)
        for k in range(len(items)):
            items[k] = self.nested(items, k, embed, quiet)
        if len(items) == len(body) and all(a is b for a, b in zip(items, body, strict=True)):
            return body
        return tuple(items)

    def fuse_adjacent(self, items: list[Stmt], embed: Embed, quiet: bool) -> list[Stmt]:
        k = 0
        while k + 1 < len(items):
            def place(candidate: Stmt, k: int = k) -> Function:
                return embed((*items[:k], candidate, *items[k + 2:]))

            fused = self.fuse_pair(items[k], items[k + 1], place, quiet)
            if fused is None:
                k += 1
            else:
                items[k:k + 2] = [fused]  # and try it with the next one
        return items

    def nested(self, items: list[Stmt], k: int, embed: Embed, quiet: bool) -> Stmt:
        """items[k] with the blocks in it processed (items[k] is kept up to date, so that
        the blocks processed later see the earlier ones' changes)."""
        stmt = items[k]
        for name in _block_fields(stmt):
            def inner(b: tuple[Stmt, ...], name: str = name) -> Function:
                here = dataclasses.replace(items[k], **{name: b})  # type: ignore[type-var]
                return embed((*items[:k], here, *items[k + 1:]))

            old = getattr(stmt, name)
            # the checked copies of versioned loops never fuse: saying so is noise
            quiet_here = quiet or (name == "orelse" and isinstance(stmt, If)
                                   and is_versioned(stmt))
            new = self.block(old, inner, quiet_here)
            if new is not old:
                stmt = dataclasses.replace(stmt, **{name: new})  # type: ignore[type-var]
                items[k] = stmt
        return stmt

    def fuse_pair(self, first: Stmt, second: Stmt, place: Place, quiet: bool) -> Stmt | None:
        if isinstance(first, Loop) and isinstance(second, Loop):
            return self.fuse_loops(first, second, place, quiet)
        if (isinstance(first, If) and isinstance(second, If) and is_versioned(first)
                and is_versioned(second)):
            return self.fuse_versions(first, second, place, quiet)
        return None

    def fuse_versions(self, v1: If, v2: If, place: Place, quiet: bool) -> If | None:
        """The last loop of the first fast copy with the first of the second (a fast copy may
        hold several loops once distributed)."""
        fast1, fast2 = v1.then[-1], v2.then[0]
        if not (isinstance(fast1, Loop) and isinstance(fast2, Loop)
                and _conformable(fast1, fast2)):
            return None
        reason = _guard_obstacle(v1, v2)
        if reason is not None:
            if not quiet:
                self.refused(fast1, fast2, reason)
            return None
        guard = _conjunction([*_conjuncts(v1.cond), *_conjuncts(v2.cond)])

        def version(loop: Stmt) -> If:
            return If(guard, (*v1.then[:-1], loop, *v2.then[1:]), (*v1.orelse, *v2.orelse),
                      versioned=True, loc=v1.loc)

        fused = self.fuse_loops(fast1, fast2, lambda loop: place(version(loop)), quiet,
                                " (their fast versions, under the combined guard)")
        if fused is None:
            return None
        return version(fused)

    def fuse_loops(self, l1: Loop, l2: Loop, place: Place, quiet: bool,
                   note: str = "") -> Loop | None:
        if not _conformable(l1, l2):
            return None
        reason = _structural_obstacle(l1, l2)
        fused = _fused(l1, l2)
        carried = False
        if reason is None:
            tentative = place(fused)
            reason = _scalar_conflict(l1, l2, fused, tentative)
            if reason is None:
                reason, carried = self.dependence_obstacle(tentative, fused, l1, l2)
        if reason is not None:
            if not quiet:
                self.refused(l1, l2, reason)
            return None
        self.remarks.append(loop_remark(
            LoopFusion.name, "fused", l1, f"{_loops(l1, l2)} fused{_lines(l1, l2)}: "
            f"{_computed(l1)} and {_computed(l2)} computed in one sweep{note}"))
        return dataclasses.replace(fused, independent=fused.independent and not carried)

    def refused(self, l1: Loop, l2: Loop, reason: str) -> None:
        self.remarks.append(loop_remark(LoopFusion.name, "not-transformed", l1,
                                        f"{_loops(l1, l2)} not fused{_lines(l1, l2)}: {reason}"))

    def dependence_obstacle(self, tentative: Function, fused: Loop, l1: Loop, l2: Loop
                            ) -> tuple[str | None, bool]:
        """Why the dependences forbid the fusion (or None), and whether the fused loop
        carries a dependence between the two bodies."""
        graph = DependenceAnalysis.compute(tentative, AnalysisManager(self.noalias))
        parts = (_part_ids(tentative, fused.body[:len(l1.body)]),
                 _part_ids(tentative, fused.body[len(l1.body):]))
        # what each loop carries on its own ('' when it is parallel)
        split = len(l1.body)
        carries = [_recurrence(fused.body[:split]), _recurrence(fused.body[split:])]
        crossing: Dependence | None = None
        for d in graph.dependences:
            source, sink = _side(d.source, fused, parts), _side(d.sink, fused, parts)
            if source is None or sink is None:
                continue
            carried = d.level is not None and d.source.loops[d.level - 1].loop is fused
            if source == sink and carried and not d.source.scalar:  # scalars: _recurrence
                carries[source] = carries[source] or d.array
            elif source != sink and carried and source == 1:
                return f"it would reverse the {_original(d)} ({_reversal(d)})", True
            elif source != sink and carried:
                crossing = crossing or d
        for k, loop in enumerate((l1, l2)):
            if loop.independent:  # marked parallel (maybe staged on a call-time check)
                carries[k] = ""
        return self.typed_obstacle(l1, l2, carries, crossing), crossing is not None

    def typed_obstacle(self, l1: Loop, l2: Loop, carries: list[str],
                       crossing: Dependence | None) -> str | None:
        """Why typed fusion refuses (a parallel loop would become sequential), or None."""
        if not self.typed:
            return None
        if bool(carries[0]) != bool(carries[1]):
            k = 0 if carries[0] else 1
            serial, parallel = (l1, l2)[k], (l2, l1)[k]
            return f"it would make a parallel loop sequential: {_name(serial)} carries a " \
                   f"dependence on '{carries[k]}', {_name(parallel)} carries none"
        if crossing is not None and not any(carries):
            return "it would make a parallel loop sequential: the fused loop would carry " \
                   f"the {_original(crossing)}, while neither loop carries a dependence"
        return None


# ---------------------------------------------------------------------- conditions


def _conformable(l1: Loop, l2: Loop) -> bool:
    """Same bounds, written the same way, and loop variables of the same type."""
    return (l1.start == l2.start and l1.stop == l2.stop and l1.step == l2.step
            and l1.var.ty == l2.var.ty)


def _structural_obstacle(l1: Loop, l2: Loop) -> str | None:
    for loop in (l1, l2):
        why = reorder_obstacle(loop)
        if why is not None:
            return f"{_name(loop)} cannot be reordered: {why}"
    written = _written_names((l1, l2))
    read = _read_names((l1.start, l1.stop, l1.step))
    if read & written:  # the second loop's bounds are evaluated after the first loop
        return f"the loop bounds read '{sorted(read & written)[0]}', which the loops change"
    if l1.var.name != l2.var.name and l1.var.name in _mentioned(l2.body):
        return f"{_name(l2)} uses '{l1.var.name}', the variable of {_name(l1)}"
    return None


def _guard_obstacle(v1: If, v2: If) -> str | None:
    """Why the second guard cannot be evaluated before the first versioned loop runs."""
    if v1.cond.type != v2.cond.type or contains_call(v2.cond) or not cannot_raise(v2.cond):
        return "the guards of their versions cannot be combined"
    changed = _read_names((v2.cond,)) & _written_names((v1,))
    if changed:
        return f"the guard of the second loop reads '{sorted(changed)[0]}', which the first " \
               "loop changes"
    return None


def _scalar_conflict(l1: Loop, l2: Loop, fused: Loop, tentative: Function) -> str | None:
    """A scalar that one loop assigns and the other uses. Inner loops over the same variable
    in both are fine when nothing else reads it (each assigns it before use)."""
    first = _ScalarUses.of(fused.body[:len(l1.body)])
    second = _ScalarUses.of(fused.body[len(l1.body):])
    shared = (first.written & second.touched) | (second.written & first.touched)
    shared.discard(fused.var.name)
    inner_only = {x for x in shared if x in first.inner & second.inner
                  and x not in first.assigned | second.assigned | first.free | second.free}
    renamed = {l2.var.name} - {l1.var.name}  # the second loop's variable, now gone
    bad = sorted(shared - inner_only | _live(tentative, fused, inner_only | renamed))
    if not bad:
        return None
    if bad[0] in renamed:
        return f"'{bad[0]}' is used after {_name(l2)}, which leaves it at its last value"
    assigner = l1 if bad[0] in first.written else l2
    return f"both loops use the scalar '{bad[0]}', which {_name(assigner)} assigns"


def _live(fn: Function, fused: Loop, names: set[str]) -> set[str]:
    """Which of `names` may be read after the fused loop with the value it leaves: reads
    outside it, and (live_after counts none there) reads after it in a loop over the same
    variable around it."""
    return live_after(fn, fused, names) | (names & _enclosing_vars(fn, fused))


def _enclosing_vars(fn: Function, target: Stmt) -> set[str]:
    """The variables of the loops around `target`."""
    def search(body: tuple[Stmt, ...], around: frozenset[str]) -> frozenset[str] | None:
        for s in body:
            if s is target:
                return around
            inner = around | {s.var.name} if isinstance(s, Loop) else around
            for block in child_blocks(s):
                found = search(block, inner)
                if found is not None:
                    return found
        return None

    return set(search(fn.body, frozenset()) or ())


@dataclass
class _ScalarUses:
    """The scalars a loop body assigns, binds as inner loop variables, and reads outside the
    inner loops that bind them."""

    assigned: set[str]
    inner: set[str]
    free: set[str]

    @property
    def written(self) -> set[str]:
        return self.assigned | self.inner

    @property
    def touched(self) -> set[str]:
        return self.assigned | self.inner | self.free

    @staticmethod
    def of(body: tuple[Stmt, ...]) -> _ScalarUses:
        uses = _ScalarUses(set(), set(), set())

        def visit(block: tuple[Stmt, ...], bound: frozenset[str]) -> None:
            for s in block:
                if isinstance(s, Assign):
                    uses.assigned.add(s.target.name)
                uses.free |= _read_names(_own_exprs(s)) - bound
                inside = bound
                if isinstance(s, Loop):
                    uses.inner.add(s.var.name)
                    inside = bound | {s.var.name}
                for child in child_blocks(s):
                    visit(child, inside)

        visit(body, frozenset())
        return uses


def _recurrence(body: tuple[Stmt, ...]) -> str:
    """A scalar the body may read before it assigns it (so an iteration may read what an
    earlier one assigned: a reduction or a recurrence); '' when there is none. Only the
    body's own assignments count as assigning first (those in an if or a loop may not run)."""
    assigned = {s.target.name for s in walk_stmts(body) if isinstance(s, Assign)}
    first: set[str] = set()
    for s in body:
        exposed = _read_names(e for x in walk_stmts((s,)) for e in _own_exprs(x)) & assigned
        if exposed - first:
            return sorted(exposed - first)[0]
        if isinstance(s, Assign):
            first.add(s.target.name)
    return ""


def _side(access: Access, fused: Loop, parts: tuple[set[str], set[str]]) -> int | None:
    """0 for an access of the first loop's body, 1 for the second's, None for others."""
    if not any(info.loop is fused for info in access.loops):
        return None
    for k, ids in enumerate(parts):
        if access.stmt_id in ids:
            return k
    return None


def _part_ids(fn: Function, stmts: tuple[Stmt, ...]) -> set[str]:
    """The ids the accesses of `stmts` carry: statement and loop ids, and `C<n>` for the
    n-th if statement of the function in pre-order (as the access analysis numbers them)."""
    conditions = {id(s): f"C{n}" for n, s in enumerate(
        s for s in walk_stmts(fn.body) if isinstance(s, If))}
    ids: set[str] = set()
    for s in walk_stmts(stmts):
        if isinstance(s, If):
            ids.add(conditions[id(s)])
        ids.update(getattr(s, attr) for attr in ("sid", "lid") if getattr(s, attr, ""))
    return ids


def _original(d: Dependence) -> str:
    """The dependence as it runs before fusion, from the first loop's access to the second's
    (in the fused loop a reversed one runs from the second's to the first's)."""
    # accesses are numbered in execution order: the second loop's come after the first's
    first, second = (d.sink, d.source) if d.source.order > d.sink.order else (d.source, d.sink)
    kind = "output" if first.write and second.write else "flow" if first.write else "anti"
    return f"{kind} dependence on '{d.array}' from {first.stmt_id} to {second.stmt_id}"


def _reversal(d: Dependence) -> str:
    """What goes wrong when dependence `d` (from the second loop's access to the first's in
    the fused loop) runs in that order."""
    second, first = d.source, d.sink
    if not first.write:
        act = f"write an element of '{d.array}' before {first.stmt_id} reads it"
    elif second.write:
        act = f"write an element of '{d.array}' before {first.stmt_id} does"
    else:
        act = f"read an element of '{d.array}' before {first.stmt_id} writes it"
    return f"{second.stmt_id} would {act}"


# ---------------------------------------------------------------------- building


def _fused(l1: Loop, l2: Loop) -> Loop:
    body2 = l2.body
    if l2.var.name != l1.var.name:
        body2 = _Rename(l2.var.name, l1.var).block(body2)
    return dataclasses.replace(l1, body=(*l1.body, *body2),
                               independent=l1.independent and l2.independent)


class _Rename(Rewriter):
    def __init__(self, old: str, new: Var):
        self.old = old
        self.new = new

    def expr_Var(self, e: Var) -> Expr:
        return self.new if e.name == self.old else e


# ---------------------------------------------------------------------- small helpers


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Logical) and e.op == "and":
        return [*_conjuncts(e.lhs), *_conjuncts(e.rhs)]
    return [e]


def _conjunction(conds: list[Expr]) -> Expr:
    """`c1 and (c2 and ...)` of the distinct conditions, in order (they cannot raise: one
    more or less evaluated changes nothing)."""
    unique = list(dict.fromkeys(conds))
    result = unique[-1]
    for c in reversed(unique[:-1]):
        result = Logical("and", c, result)
    return result


def _block_fields(stmt: Stmt) -> tuple[str, ...]:
    if isinstance(stmt, (Loop, While, Region)):
        return ("body",)
    if isinstance(stmt, If):
        return ("then", "orelse")
    return ()


def _own_exprs(s: Stmt) -> tuple[Expr, ...]:
    if isinstance(s, Assign):
        return (s.value,)
    if isinstance(s, Store):
        return (*s.indices, s.value)
    if isinstance(s, (If, While)):
        return (s.cond,)
    if isinstance(s, Loop):
        return (s.start, s.stop, s.step)
    value = getattr(s, "value", None)
    return (value,) if isinstance(value, Expr) else ()


def _read_names(exprs: Iterable[Expr]) -> set[str]:
    """Scalars read by the expressions, and arrays whose elements they load."""
    names: set[str] = set()
    for root in exprs:
        for e in (root, *iter_exprs(root)):
            if isinstance(e, Var) and isinstance(e.type, ScalarType):
                names.add(e.name)
            elif isinstance(e, Load):
                names.add(e.array.name)
    return names


def _written_names(stmts: tuple[Stmt, ...]) -> set[str]:
    """Scalars the statements assign and arrays they store to."""
    stored = {s.array.name for s in walk_stmts(stmts) if isinstance(s, Store)}
    return assigned_in(stmts) | stored


def _mentioned(stmts: tuple[Stmt, ...]) -> set[str]:
    names = assigned_in(stmts)
    for s in walk_stmts(stmts):
        names |= {e.name for e in iter_exprs(s) if isinstance(e, Var)}
    return names


def _name(loop: Loop) -> str:
    return f"loop over '{loop.var.name}' ({loop.lid})"


def _loops(l1: Loop, l2: Loop) -> str:
    second = l2.lid if l2.var.name == l1.var.name else f"'{l2.var.name}' {l2.lid}"
    return f"loops over '{l1.var.name}' {l1.lid} and {second}"


def _lines(l1: Loop, l2: Loop) -> str:
    if l1.loc is None or l2.loc is None:
        return ""
    return f" (lines {l1.loc.line} and {l2.loc.line})"


def _computed(loop: Loop) -> str:
    """What a loop computes, as Python would write it: `a[i]`, `b[i, j]`, `s`."""
    found: dict[str, None] = {}
    for s in walk_stmts(loop.body):
        if isinstance(s, Store):
            found[f"{s.array.name}[{', '.join(_python(i) for i in s.indices)}]"] = None
        elif isinstance(s, Assign):
            found[s.target.name] = None
    names = list(found)
    if not names:
        return f"the body of {loop.lid}"
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _python(e: Expr) -> str:
    text = print_expr(e).replace("%", "")
    return text[1:-1] if isinstance(e, BinOp) else text  # the printer brackets each BinOp
