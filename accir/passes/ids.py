"""Fresh statement and loop ids for passes that create or copy statements."""

from __future__ import annotations

import dataclasses
import re

from accir.ir.nodes import Expr, Function, If, Load, Stmt, walk_stmts
from accir.ir.rewrite import Rewriter
from accir.ir.uses import local_vars


class IdSupply:
    """Fresh statement and loop ids for a function (one past the largest in use)."""

    def __init__(self, fn: Function):
        used = {"S": -1, "L": -1}
        for s in walk_stmts(fn.body):
            for attr in ("sid", "lid"):
                m = re.fullmatch(r"([SL])(\d+)", getattr(s, attr, "") or "")
                if m:
                    used[m.group(1)] = max(used[m.group(1)], int(m.group(2)))
        self.next = {k: v + 1 for k, v in used.items()}

    def fresh(self, kind: str) -> str:
        n = self.next[kind]
        self.next[kind] = n + 1
        return f"{kind}{n}"

    def renumber(self, stmt: Stmt) -> Stmt:
        supply = self

        class _Renumber(Rewriter):
            def stmt(self, s: Stmt) -> Stmt | tuple[Stmt, ...]:
                new = super().stmt(s)
                assert not isinstance(new, tuple)
                for attr, kind in (("sid", "S"), ("lid", "L")):
                    if hasattr(new, attr):
                        new = dataclasses.replace(new, **{attr: supply.fresh(kind)})  # type: ignore[type-var]
                return new

        result = _Renumber().stmt(stmt)
        assert not isinstance(result, tuple)
        return result


class NameSupply:
    """Fresh variable names for a function: `base`, else `base1`, `base2`, ... (any name the
    function does not use yet)."""

    def __init__(self, fn: Function):
        self.used = {v.name for v in local_vars(fn)}

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            name, k = f"{base}{k}", k + 1
        self.used.add(name)
        return name


def is_versioned(s: If) -> bool:
    """`if guard: fast copy else: the original`, as loop versioning makes it (bounds-check-hoist,
    mark-independent-loops); the fast copy may since have been transformed."""
    return s.versioned


def without_checks(e: Expr) -> Expr:
    """`e` with every load marked checked (to compare subscripts whatever their checks)."""
    return _Checked().expr(e)


class _Checked(Rewriter):
    def expr_Load(self, e: Load) -> Expr:
        return dataclasses.replace(e, checked=True)
