"""When two adjacent loops may fuse (loop-fusion): conformable bounds, what the loops' bodies
and bounds read and write, scalars they share, and which dependences of the fused loop would
run from the second body back to the first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accir.analysis.access import Access
from accir.analysis.dependence import Dependence
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
    Region,
    Stmt,
    Store,
    Var,
    While,
    child_blocks,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import iter_exprs
from accir.ir.types import ScalarType
from accir.ir.uses import assigned_in
from accir.passes.loop_nests import live_after, reorder_obstacle

# ---------------------------------------------------------------------- conditions


def conformable(l1: Loop, l2: Loop) -> bool:
    """Same bounds, written the same way, and loop variables of the same type."""
    return (l1.start == l2.start and l1.stop == l2.stop and l1.step == l2.step
            and l1.var.ty == l2.var.ty)


def structural_obstacle(l1: Loop, l2: Loop) -> str | None:
    for loop in (l1, l2):
        why = reorder_obstacle(loop)
        if why is not None:
            return f"{loop_name(loop)} cannot be reordered: {why}"
    written = _written_names((l1, l2))
    read = _read_names((l1.start, l1.stop, l1.step))
    if read & written:  # the second loop's bounds are evaluated after the first loop
        return f"the loop bounds read '{sorted(read & written)[0]}', which the loops change"
    if l1.var.name != l2.var.name and l1.var.name in _mentioned(l2.body):
        return f"{loop_name(l2)} uses '{l1.var.name}', the variable of {loop_name(l1)}"
    return None


def guard_obstacle(v1: If, v2: If) -> str | None:
    """Why the second guard cannot be evaluated before the first versioned loop runs."""
    if v1.cond.type != v2.cond.type or contains_call(v2.cond) or not cannot_raise(v2.cond):
        return "the guards of their versions cannot be combined"
    changed = _read_names((v2.cond,)) & _written_names((v1,))
    if changed:
        return f"the guard of the second loop reads '{sorted(changed)[0]}', which the first " \
               "loop changes"
    return None


def scalar_conflict(l1: Loop, l2: Loop, fused: Loop, tentative: Function) -> str | None:
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
        return f"'{bad[0]}' is used after {loop_name(l2)}, which leaves it at its last value"
    assigner = l1 if bad[0] in first.written else l2
    return f"both loops use the scalar '{bad[0]}', which {loop_name(assigner)} assigns"


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


def recurrence(body: tuple[Stmt, ...]) -> str:
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


def side(access: Access, fused: Loop, parts: tuple[set[str], set[str]]) -> int | None:
    """0 for an access of the first loop's body, 1 for the second's, None for others."""
    if not any(info.loop is fused for info in access.loops):
        return None
    for k, ids in enumerate(parts):
        if access.stmt_id in ids:
            return k
    return None


def part_ids(fn: Function, stmts: tuple[Stmt, ...]) -> set[str]:
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


def original(d: Dependence) -> str:
    """The dependence as it runs before fusion, from the first loop's access to the second's
    (in the fused loop a reversed one runs from the second's to the first's)."""
    # accesses are numbered in execution order: the second loop's come after the first's
    first, second = (d.sink, d.source) if d.source.order > d.sink.order else (d.source, d.sink)
    kind = "output" if first.write and second.write else "flow" if first.write else "anti"
    return f"{kind} dependence on '{d.array}' from {first.stmt_id} to {second.stmt_id}"


def reversal(d: Dependence) -> str:
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


# ---------------------------------------------------------------------- small helpers


def conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Logical) and e.op == "and":
        return [*conjuncts(e.lhs), *conjuncts(e.rhs)]
    return [e]


def conjunction(conds: list[Expr]) -> Expr:
    """`c1 and (c2 and ...)` of the distinct conditions, in order (they cannot raise: one
    more or less evaluated changes nothing)."""
    unique = list(dict.fromkeys(conds))
    result = unique[-1]
    for c in reversed(unique[:-1]):
        result = Logical("and", c, result)
    return result


def block_fields(stmt: Stmt) -> tuple[str, ...]:
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


def loop_name(loop: Loop) -> str:
    return f"loop over '{loop.var.name}' ({loop.lid})"


def loop_names(l1: Loop, l2: Loop) -> str:
    second = l2.lid if l2.var.name == l1.var.name else f"'{l2.var.name}' {l2.lid}"
    return f"loops over '{l1.var.name}' {l1.lid} and {second}"


def loop_lines(l1: Loop, l2: Loop) -> str:
    if l1.loc is None or l2.loc is None:
        return ""
    return f" (lines {l1.loc.line} and {l2.loc.line})"


def computed(loop: Loop) -> str:
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
