"""What the scalars a loop writes become when its iterations run on threads: reductions
(`s = s + e`, `m = max(m, e)`, ...) and private variables (assigned before any read in each
iteration). Used by auto-parallelize.

A reduction's updates must be its only uses in the loop: `s = s op e` or `s = e op s` with `e`
free of `s`, all with the same operation. Whether combining per-thread partial results gives
exactly the sequential answer depends on the operation and the type: integer and boolean
operations always do (integers wrap the same way in any order); NumPy's maximum/minimum and
fmax/fmin do for floats too; float and complex sums and products, and Python's max/min of
floats (which treat a NaN by position), do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from accir.ir.nodes import (
    Alloc,
    Assign,
    BinOp,
    Call,
    Expr,
    ExprStmt,
    If,
    Intrinsic,
    Load,
    Logical,
    Loop,
    Region,
    Return,
    Stmt,
    Store,
    Var,
    While,
    walk_stmts,
)
from accir.ir.rewrite import iter_exprs
from accir.ir.types import ArrayType, ScalarType
from accir.passes.ids import without_checks

_OPERATORS = {"+": "+", "-": "+", "*": "*", "&": "&", "|": "|", "^": "^"}
_COMMUTATIVE = ("+", "*", "&", "|", "^")
_EXTREMA = {"max": "max", "min": "min", "np.maximum": "max", "np.minimum": "min",
            "np.fmax": "max", "np.fmin": "min"}


@dataclass(frozen=True)
class ReductionMatch:
    op: str  # an accir.ir.nodes.REDUCTION_OPS entry
    combine: str  # the max/min intrinsic, "" for operators
    exact: bool  # combining partial results gives the sequential result bit for bit
    lines: tuple[int, ...]


def match_reduction(body: tuple[Stmt, ...], var: Var) -> ReductionMatch | None:
    """`var`'s reduction in the loop body, when every use of `var` is an update with one
    operation."""
    kinds: set[tuple[str, str]] = set()
    lines: list[int] = []
    updates = 0
    for stmt in walk_stmts(body):
        if isinstance(stmt, Assign) and stmt.target.name == var.name:
            kind = _update(stmt.value, var)
            if kind is None:
                return None
            kinds.add(kind)
            updates += 1
            lines.append(stmt.loc.line if stmt.loc else 0)
    uses = sum(1 for stmt in walk_stmts(body) for e in reads_of(stmt)
               if isinstance(e, Var) and e.name == var.name)
    if updates == 0 or uses != updates or len(kinds) != 1:
        return None
    op, combine = kinds.pop()
    ty = var.ty
    assert isinstance(ty, ScalarType)
    exact = ty.is_int or ty.is_bool or combine.startswith("np.")
    return ReductionMatch(op, combine, exact, tuple(lines))


def match_array_reduction(body: tuple[Stmt, ...], array: Var) -> ReductionMatch | None:
    """`array`'s reduction in the loop body: every access to it is an element update
    `a[x] = a[x] op e` (e free of `a`) with one operation, and no call receives it."""
    kinds: set[tuple[str, str]] = set()
    lines: list[int] = []
    updates = 0
    for stmt in walk_stmts(body):
        if isinstance(stmt, Store) and stmt.array.name == array.name:
            kind = _element_update(stmt)
            if kind is None:
                return None
            kinds.add(kind)
            updates += 1
            lines.append(stmt.loc.line if stmt.loc else 0)
    loads = sum(1 for stmt in walk_stmts(body) for e in reads_of(stmt)
                if isinstance(e, Load) and e.array.name == array.name)
    passed = any(isinstance(e, Call) and any(_is(a, array) for a in e.args)
                 for stmt in walk_stmts(body) for e in reads_of(stmt))
    if updates == 0 or loads != updates or passed or len(kinds) != 1:
        return None
    op, combine = kinds.pop()
    ty = array.ty
    assert isinstance(ty, ArrayType)
    exact = ty.dtype.is_int or ty.dtype.is_bool or combine.startswith("np.")
    return ReductionMatch(op, combine, exact, tuple(lines))


def _element_update(s: Store) -> tuple[str, str] | None:
    """(op, combine) when the store is `a[x] = a[x] op e` with `e` free of `a`."""
    value = s.value
    if isinstance(value, BinOp) and value.op in _OPERATORS:
        if _same(value.lhs, s) and not _reads_array(value.rhs, s.array):
            return _OPERATORS[value.op], ""
        if value.op in _COMMUTATIVE and _same(value.rhs, s) and \
                not _reads_array(value.lhs, s.array):
            return value.op, ""
    if isinstance(value, Intrinsic) and value.name in _EXTREMA and len(value.args) == 2:
        first, second = value.args
        if _same(first, s) and not _reads_array(second, s.array):
            op = _EXTREMA[value.name]
            return op, "" if value.name == op else value.name
    return None


def valid_reduction(op: str, var: Var) -> bool:
    """Whether OpenACC's operator `op` applies to the values of `var` in accir's IR."""
    ty = var.ty.dtype if isinstance(var.ty, ArrayType) else var.ty
    assert isinstance(ty, ScalarType)
    if op in ("and", "or"):
        return ty.is_bool
    if op in ("&", "|", "^"):
        return ty.is_int or ty.is_bool
    if op in ("max", "min"):
        return not ty.is_complex
    return op in ("+", "*") and not ty.is_bool


def _same(e: Expr, s: Store) -> bool:
    return (isinstance(e, Load) and e.array.name == s.array.name
            and tuple(map(without_checks, e.indices)) == tuple(map(without_checks, s.indices)))


def _reads_array(e: Expr, array: Var) -> bool:
    return any(isinstance(x, Load) and x.array.name == array.name for x in (e, *iter_exprs(e)))


def _update(value: Expr, var: Var) -> tuple[str, str] | None:
    """(op, combine) when `value` is `var op e` (or `e op var` for a commutative op)."""
    if isinstance(value, BinOp) and value.op in _OPERATORS:
        if _is(value.lhs, var) and not _mentions(value.rhs, var):
            return _OPERATORS[value.op], ""
        if value.op in _COMMUTATIVE and _is(value.rhs, var) and not _mentions(value.lhs, var):
            return value.op, ""
    if isinstance(value, Logical) and _is(value.lhs, var) and not _mentions(value.rhs, var):
        return value.op, ""
    if isinstance(value, Intrinsic) and value.name in _EXTREMA and len(value.args) == 2:
        first, second = value.args
        if _is(first, var) and not _mentions(second, var):
            op = _EXTREMA[value.name]
            return op, "" if value.name == op else value.name
    return None


def _is(e: Expr, var: Var) -> bool:
    return isinstance(e, Var) and e.name == var.name


def _mentions(e: Expr, var: Var) -> bool:
    return _is(e, var) or any(_is(x, var) for x in iter_exprs(e))


def reads_of(stmt: Stmt) -> list[Expr]:
    """The expressions a statement evaluates itself (not those of nested statements)."""
    if isinstance(stmt, (Assign, ExprStmt)):
        roots: tuple[Expr, ...] = (stmt.value,)
    elif isinstance(stmt, Store):
        roots = (stmt.value, *stmt.indices)
    elif isinstance(stmt, Return):
        roots = () if stmt.value is None else (stmt.value,)
    elif isinstance(stmt, Alloc):
        roots = (*stmt.shape, *(() if stmt.fill is None else (stmt.fill,)))
    elif isinstance(stmt, Loop):
        roots = (stmt.start, stmt.stop, stmt.step)
    elif isinstance(stmt, (If, While)):
        roots = (stmt.cond,)
    else:
        roots = ()
    return [x for root in roots for x in (root, *iter_exprs(root))]


def collapsed_inner(loop: Loop) -> list[Loop]:
    """The loop directly inside `loop` that a collapse(2) would share the iteration space
    with: the whole body, or both copies of it when bounds-check-hoist versioned it."""
    body = loop.body
    if len(body) == 1 and isinstance(body[0], Loop):
        return [body[0]]
    if len(body) == 1 and isinstance(body[0], If) and len(body[0].then) == 1 \
            and len(body[0].orelse) == 1:
        copies = [body[0].then[0], body[0].orelse[0]]
        if all(isinstance(c, Loop) for c in copies):
            first, second = copies
            assert isinstance(first, Loop) and isinstance(second, Loop)
            same = (first.var.name, first.start, first.stop, first.step) == (
                second.var.name, second.start, second.stop, second.step)
            return [first, second] if same else []
    return []


def exposed_reads(body: tuple[Stmt, ...]) -> set[str]:
    """Scalars that an iteration of a loop with this body may read before assigning them
    (their value then comes from before the iteration)."""
    exposed: set[str] = set()
    _walk(body, frozenset(), exposed)
    return exposed


def _walk(body: tuple[Stmt, ...], defined: frozenset[str], exposed: set[str]) -> frozenset[str]:
    for stmt in body:
        exposed.update(e.name for e in reads_of(stmt)
                       if isinstance(e, Var) and e.name not in defined)
        if isinstance(stmt, Assign):
            defined = defined | {stmt.target.name}
        elif isinstance(stmt, If):
            then = _walk(stmt.then, defined, exposed)
            orelse = _walk(stmt.orelse, defined, exposed)
            defined = then & orelse
        elif isinstance(stmt, Loop):  # may run zero times: assigns nothing for sure
            _walk(stmt.body, defined | {stmt.var.name}, exposed)
        elif isinstance(stmt, While):
            _walk(stmt.body, defined, exposed)
        elif isinstance(stmt, Region):
            defined = _walk(stmt.body, defined, exposed)
    return defined
