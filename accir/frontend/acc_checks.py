"""Checks OpenACC asks the compiler to make: `default(none)`.

With `default(none)` on a compute construct, every variable the construct uses must have its
data attribute stated: in a data clause or a private/firstprivate/reduction clause of the
construct, or in a data clause of an enclosing `data` region. Predetermined variables are
exempt: the indices of loops inside the construct, and scalars the construct assigns before it
reads them (in Python they are the construct's own temporaries).
"""

from __future__ import annotations

from accir.diagnostics import DirectiveSyntaxError
from accir.frontend.directives import Directive, Subarray
from accir.ir.nodes import Alloc, Assign, Expr, Loop, Stmt, Var, child_blocks
from accir.ir.rewrite import iter_exprs

COMPUTE = ("parallel", "kernels", "serial", "parallel loop", "kernels loop", "serial loop")


def clause_names(d: Directive) -> set[str]:
    """Variables named in any clause of a directive."""
    return {a.name for c in d.clauses for a in c.args if isinstance(a, Subarray)}


def check_default_none(d: Directive, body: tuple[Stmt, ...], enclosing: set[str]) -> None:
    clause = d.clause("default")
    if d.name not in COMPUTE or clause is None or clause.modifier != "none":
        return
    declared = clause_names(d) | enclosing
    for name, var in _undeclared_uses(body, declared).items():
        where = f" (used at line {var.loc.line})" if var.loc else ""
        raise DirectiveSyntaxError(
            f"default(none): '{name}' has no data clause on this '{d.name}' construct{where}",
            d.loc,
            hint=f"add it to a clause, e.g. copyin({name}), present({name}) or "
            f"firstprivate({name})",
        )


def _undeclared_uses(body: tuple[Stmt, ...], declared: set[str]) -> dict[str, Var]:
    first_is_write: dict[str, bool] = {}
    uses: dict[str, Var] = {}
    for stmt in _in_order(body):
        for var in _reads(stmt):
            first_is_write.setdefault(var.name, False)
            uses.setdefault(var.name, var)
        for var in _writes(stmt):
            first_is_write.setdefault(var.name, True)
            uses.setdefault(var.name, var)
    return {
        _python_name(name): var for name, var in uses.items()
        if _python_name(name) not in declared and not first_is_write[name]
    }


def _in_order(body: tuple[Stmt, ...]):
    for stmt in body:
        yield stmt
        for block in child_blocks(stmt):
            yield from _in_order(block)


def _reads(stmt: Stmt) -> list[Var]:
    exprs: list[Expr] = []
    if isinstance(stmt, Loop):
        exprs = [stmt.start, stmt.stop, stmt.step]
    elif not child_blocks(stmt):
        exprs = list(iter_exprs(stmt))
    else:
        exprs = [e for e in (getattr(stmt, "cond", None),) if e is not None]
    found = [v for e in exprs for v in (e, *iter_exprs(e)) if isinstance(v, Var)]
    if isinstance(stmt, (Assign, Alloc)):
        found = [v for v in found if v is not stmt.target]
    return found


def _writes(stmt: Stmt) -> list[Var]:
    if isinstance(stmt, (Assign, Alloc)):
        return [stmt.target]
    if isinstance(stmt, Loop):
        return [stmt.var]  # a loop index is predetermined private
    return []


def _python_name(name: str) -> str:
    """The Python name behind an IR variable (module arrays are `g.<name>`)."""
    return name[2:] if name.startswith("g.") else name
