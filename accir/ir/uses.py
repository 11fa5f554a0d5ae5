"""Which variables a function reads, assigns and writes through (simple whole-function
queries that passes and backends share)."""

from __future__ import annotations

from accir.ir.nodes import (
    Alloc,
    Assign,
    Call,
    Function,
    Loop,
    Module,
    Store,
    Var,
    walk_stmts,
)
from accir.ir.rewrite import iter_exprs
from accir.ir.types import ArrayType


def assigned_in(body: tuple) -> set[str]:
    """Scalar and array variables bound anywhere in a block (assignments, allocations, loop
    indices)."""
    names: set[str] = set()
    for s in walk_stmts(body):
        if isinstance(s, (Assign, Alloc)):
            names.add(s.target.name)
        elif isinstance(s, Loop):
            names.add(s.var.name)
    return names


def written_arrays(module: Module, fn: Function) -> set[str]:
    """Array parameters and locals of `fn` whose elements it may write, directly or through
    a function it calls."""
    return _written(module, fn, {})


def _written(module: Module, fn: Function, memo: dict[str, set[str]]) -> set[str]:
    if fn.name in memo:
        return memo[fn.name]
    memo[fn.name] = set()  # calls are not recursive; this only guards the memo
    names: set[str] = set()
    for stmt in walk_stmts(fn.body):
        if isinstance(stmt, Store):
            names.add(stmt.array.name)
        for e in iter_exprs(stmt):
            if isinstance(e, Call):
                names |= _written_through_call(module, e, memo)
    memo[fn.name] = names
    return names


def _written_through_call(module: Module, call: Call, memo: dict[str, set[str]]) -> set[str]:
    try:
        callee = module.function(call.callee)
    except KeyError:  # a lone function being verified: be conservative
        return {a.name for a in call.args if isinstance(a, Var) and isinstance(a.type, ArrayType)}
    inner = _written(module, callee, memo)
    return {
        arg.name
        for arg, param in zip(call.args, callee.params, strict=True)
        if isinstance(arg, Var) and isinstance(arg.type, ArrayType) and param.name in inner
    }


def local_vars(fn: Function) -> list[Var]:
    """Every variable the function mentions, parameters first, each name once."""
    seen: dict[str, Var] = {p.name: p for p in fn.params}
    # iter_exprs of a top-level statement covers its nested statements (targets included, in
    # the order a walk meets them), so only top-level statements need visiting
    for stmt in fn.body:
        if isinstance(stmt, (Assign, Alloc)):
            seen.setdefault(stmt.target.name, stmt.target)
        elif isinstance(stmt, Loop):
            seen.setdefault(stmt.var.name, stmt.var)
        for e in iter_exprs(stmt):
            if isinstance(e, Var):
                seen.setdefault(e.name, e)
    return list(seen.values())
