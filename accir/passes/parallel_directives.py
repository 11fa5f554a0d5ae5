"""What OpenACC clauses say about a loop's parallel execution: whether the user asserts its
iterations are independent, its reduction clauses, the thread count and condition of its
construct, and how many loops it collapses. Used by auto-parallelize."""

from __future__ import annotations

import ast

from accir.frontend.directives import Directive
from accir.ir.nodes import Const, Expr, Loop, Var
from accir.ir.rewrite import iter_exprs
from accir.ir.types import PYINT, ScalarType

_ASSERTING_CLAUSES = ("independent", "gang", "worker", "vector")


def is_asserted(directive: Directive | None, region: Directive | None) -> bool:
    """Whether the user asserts the loop's iterations are independent."""
    if directive is not None:
        if directive.clause("auto") is not None:
            return False
        if any(directive.clause(c) is not None for c in _ASSERTING_CLAUSES):
            return True
        if directive.name == "parallel loop":
            return True
        if directive.name == "loop":
            return region is not None and region.name == "parallel"
    return False


def reduction_clauses(*directives: Directive | None) -> dict[str, str]:
    """Scalar name -> OpenACC operator (as an IR reduction op) from reduction clauses."""
    ops = {"&&": "and", "||": "or"}
    found: dict[str, str] = {}
    for d in directives:
        if d is None:
            continue
        for clause in d.clauses:
            if clause.name == "reduction" and clause.modifier:
                for arg in clause.args:  # a subarray reduces the whole array: the same
                    name = getattr(arg, "name", None)  # result when only it is updated
                    if name:
                        found.setdefault(name, ops.get(clause.modifier, clause.modifier))
    return found


def team_clauses(directive: Directive | None, region: Directive | None, s: Loop
                  ) -> tuple[Expr | None, Expr | None]:
    """(thread count, condition) from num_gangs/num_workers and if clauses whose argument is
    an integer literal or a variable of the function."""
    names = _visible_scalars(s)
    threads: Expr | None = None
    condition: Expr | None = None
    for d in (region, directive):
        if d is None:
            continue
        for clause in d.clauses:
            if clause.name in ("num_gangs", "num_workers") and clause.args:
                threads = _simple_expr(str(clause.args[0]), names, want_int=True) or threads
            elif clause.name == "if" and clause.args:
                condition = _simple_expr(str(clause.args[0]), names, want_int=False) or condition
    return threads, condition


def collapse_count(directive: Directive | None) -> int:
    clause = directive.clause("collapse") if directive is not None else None
    if clause is None or not clause.args:
        return 1
    text = str(clause.args[0]).split(":")[-1].strip()
    return int(text) if text.isdigit() else 1


def _visible_scalars(s: Loop) -> dict[str, Var]:
    found: dict[str, Var] = {}
    for e in iter_exprs(s):
        if isinstance(e, Var) and isinstance(e.type, ScalarType):
            found.setdefault(e.name, e)
    return found


def _simple_expr(text: str, names: dict[str, Var], want_int: bool) -> Expr | None:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and want_int:
        return Const(int(node.value), PYINT)
    if isinstance(node, ast.Name) and node.id in names:
        var = names[node.id]
        ty = var.type
        if want_int and ty == PYINT:
            return var
        if not want_int and isinstance(ty, ScalarType) and ty.is_bool:
            return var
    return None
