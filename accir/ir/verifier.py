"""The IR verifier: checks the invariants every pass must keep.

Errors are `IRVerificationError`s that start with "after pass '<name>': " when a pass name is
given, name the statement (`S3`, `L1`) or function at fault and carry the node's location.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from accir.diagnostics import IRVerificationError
from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    Break,
    Continue,
    ExprStmt,
    Function,
    If,
    Loop,
    Module,
    Region,
    Return,
    Stmt,
    Store,
    While,
    walk_stmts,
)
from accir.ir.types import PYINT, ArrayType, NoneType, ScalarType
from accir.ir.verify_exprs import ExprChecker

_SID = re.compile(r"S[0-9]+")
_LID = re.compile(r"L[0-9]+")


def verify_module(m: Module, pass_name: str | None = None) -> None:
    """Check every function of `m`, including that calls match their callees."""
    sigs: dict[str, Function] = {}
    for fn in m.functions:
        if fn.name in sigs:
            prefix = f"after pass '{pass_name}': " if pass_name else ""
            raise IRVerificationError(f"{prefix}function '{fn.name}' defined twice", fn.loc)
        sigs[fn.name] = fn
    for fn in m.functions:
        _StmtChecker(fn, pass_name, sigs).run()


def verify_function(f: Function, pass_name: str | None = None) -> None:
    """Check one function (calls are checked against their callees by `verify_module` only)."""
    _StmtChecker(f, pass_name, None).run()


class _StmtChecker(ExprChecker):
    """Checks the statements of one function."""

    def __init__(self, fn: Function, pass_name: str | None, sigs: dict[str, Function] | None):
        super().__init__(fn, pass_name, sigs)
        self.ids: set[str] = set()
        self.loop_depth = 0

    def run(self) -> None:
        self.params()
        self.defined = {p.name for p in self.fn.params} | _defined_names(self.fn)
        self.block(self.fn.body)

    def params(self) -> None:
        seen: set[str] = set()
        for p in self.fn.params:
            if p.name in seen:
                self.fail(f"parameter %{p.name} declared twice", p)
            seen.add(p.name)
            self.bind(p)

    def block(self, body: tuple[Stmt, ...]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, s: Stmt) -> None:
        outer = self.where, self.where_loc
        self.where = _describe(s, self.where)
        self.where_loc = s.loc
        check = _CHECKS.get(type(s))
        if check is None:
            self.fail(f"unknown statement {type(s).__name__}", s)
        check(self, s)
        self.where, self.where_loc = outer

    def stmt_id(self, ident: str, pattern: re.Pattern[str], s: Stmt) -> None:
        if not pattern.fullmatch(ident):
            self.fail(f"malformed statement id {ident!r} (expected {pattern.pattern[0]}<n>)", s)
        if ident in self.ids:
            self.fail(f"statement id {ident} used twice", s)
        self.ids.add(ident)

    def scalar_target(self, s: Assign) -> ScalarType:
        self.expr(s.target)
        if not isinstance(s.target.ty, ScalarType):
            self.fail(
                f"assignment to %{s.target.name} of type {s.target.ty}; arrays are bound "
                "only by alloc",
                s,
            )
        return s.target.ty

    # -------------------------------------------------------------- statements

    def s_assign(self, s: Assign) -> None:
        self.stmt_id(s.sid, _SID, s)
        ty = self.scalar_target(s)
        self.expr(s.value)
        if s.value.type != ty:
            self.fail(f"assigns {s.value.type} to %{s.target.name} of type {ty}", s)

    def s_store(self, s: Store) -> None:
        self.stmt_id(s.sid, _SID, s)
        ty = self.access(s.array, s.indices, s)
        self.expr(s.value)
        if s.value.type != ty.dtype:
            self.fail(f"stores {s.value.type} into %{s.array.name} of {ty.dtype}", s)

    def s_alloc(self, s: Alloc) -> None:
        self.stmt_id(s.sid, _SID, s)
        self.expr(s.target)
        ty = s.target.ty
        if not isinstance(ty, ArrayType) or ty.layout != "C":
            self.fail(f"alloc target %{s.target.name} must be a C-layout array, not {ty}", s)
        if len(s.shape) != ty.ndim:
            self.fail(f"alloc of rank {ty.ndim} with {len(s.shape)} extents", s)
        for extent in s.shape:
            self.int_scalar(extent, "an alloc extent")
        if s.fill is not None:
            self.expr(s.fill)
            if s.fill.type != ty.dtype:
                self.fail(f"alloc fill of type {s.fill.type} for elements of {ty.dtype}", s)

    def s_exprstmt(self, s: ExprStmt) -> None:
        self.stmt_id(s.sid, _SID, s)
        self.expr(s.value)

    def s_return(self, s: Return) -> None:
        self.stmt_id(s.sid, _SID, s)
        ret = self.fn.ret
        if s.value is None:
            if not isinstance(ret, NoneType):
                self.fail(f"return without a value in a function returning {ret}", s)
            return
        self.expr(s.value)
        if isinstance(ret, NoneType):
            self.fail("return with a value in a function returning none", s)
        if s.value.type != ret:
            self.fail(f"returns {s.value.type} from a function returning {ret}", s)

    def s_jump(self, s: Break | Continue) -> None:
        if self.loop_depth == 0:
            self.fail("not inside a loop", s)

    def s_loop(self, s: Loop) -> None:
        self.stmt_id(s.lid, _LID, s)
        self.expr(s.var)
        if s.var.ty != PYINT:
            self.fail(f"loop variable %{s.var.name} must be pyint, not {s.var.ty}", s)
        for what, bound in (("start", s.start), ("stop", s.stop), ("step", s.step)):
            self.expr(bound)
            if bound.type != PYINT:
                self.fail(f"loop {what} must be pyint, not {bound.type}", bound)
        self.loop_body(s.body)

    def s_while(self, s: While) -> None:
        self.stmt_id(s.lid, _LID, s)
        self.bool_scalar(s.cond, "a while condition")
        self.loop_body(s.body)

    def loop_body(self, body: tuple[Stmt, ...]) -> None:
        self.loop_depth += 1
        self.block(body)
        self.loop_depth -= 1

    def s_if(self, s: If) -> None:
        self.bool_scalar(s.cond, "an if condition")
        self.block(s.then)
        self.block(s.orelse)

    def s_region(self, s: Region) -> None:
        if s.directive is None:
            self.fail("acc region without a directive", s)
        self.block(s.body)

    def s_acc(self, s: AccStmt) -> None:
        if s.directive is None:
            self.fail("acc statement without a directive", s)


_CHECKS: dict[type, Callable[[Any, Any], None]] = {
    Assign: _StmtChecker.s_assign,
    Store: _StmtChecker.s_store,
    Alloc: _StmtChecker.s_alloc,
    ExprStmt: _StmtChecker.s_exprstmt,
    Return: _StmtChecker.s_return,
    Break: _StmtChecker.s_jump,
    Continue: _StmtChecker.s_jump,
    Loop: _StmtChecker.s_loop,
    While: _StmtChecker.s_while,
    If: _StmtChecker.s_if,
    Region: _StmtChecker.s_region,
    AccStmt: _StmtChecker.s_acc,
}


_KINDS = {Break: "break", Continue: "continue", If: "if", Region: "acc region", AccStmt: "acc"}


def _describe(s: Stmt, outer: str) -> str:
    """How messages name a statement: its id, or what it is and where."""
    ident = getattr(s, "sid", None) or getattr(s, "lid", None)
    if isinstance(ident, str):
        return ident
    kind = _KINDS.get(type(s), type(s).__name__)
    return f"{kind} (in {outer})" if outer else kind


def _defined_names(fn: Function) -> set[str]:
    """Variables given a value somewhere: assignment and alloc targets, loop variables."""
    names: set[str] = set()
    for s in walk_stmts(fn.body):
        if isinstance(s, (Assign, Alloc)):
            names.add(s.target.name)
        elif isinstance(s, Loop):
            names.add(s.var.name)
    return names
