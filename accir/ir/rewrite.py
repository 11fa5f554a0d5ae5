"""Identity-preserving rewriting of the loop IR.

A `Rewriter` walks a tree and rebuilds a node only when one of its children changed, so
"did anything change?" is `new is old` and analyses cached on the old tree never go stale.
Subclasses override `expr_<Class>` / `stmt_<Class>` methods; a statement method may return a
tuple of statements to replace one statement by several (or by none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from accir.ir.nodes import Expr, Function, Module, Node, Stmt


def _rebuild(node: Node, fn: Callable[[Any], Any]) -> Node:
    """Apply `fn` to every child (node or tuple of nodes) of `node`; keep `node` if none
    changed."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        if f.name == "loc":
            continue
        old = getattr(node, f.name)
        if isinstance(old, Node) or (isinstance(old, tuple) and old and isinstance(old[0], Node)):
            new = fn(old)
        else:
            continue
        if new is not old:
            changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]


def map_children(node: Node, fn: Callable[[Any], Any]) -> Node:
    """Public form of `_rebuild`: `fn` receives each child node or child tuple."""
    return _rebuild(node, fn)


class Rewriter:
    """Bottom-up rewriting with identity preservation."""

    def module(self, m: Module) -> Module:
        fns = tuple(self.function(f) for f in m.functions)
        if all(a is b for a, b in zip(fns, m.functions, strict=True)):
            return m
        return Module(fns)

    def function(self, f: Function) -> Function:
        body = self.block(f.body)
        return f if body is f.body else dataclasses.replace(f, body=body)

    def block(self, body: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        changed = False
        for stmt in body:
            new = self.stmt(stmt)
            if isinstance(new, tuple):
                out.extend(new)
                changed = True
            else:
                out.append(new)
                changed |= new is not stmt
        return tuple(out) if changed else body

    def stmt(self, stmt: Stmt) -> Stmt | tuple[Stmt, ...]:
        rebuilt = _rebuild(stmt, self._child)
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        return method(rebuilt) if method else rebuilt  # type: ignore[return-value]

    def expr(self, expr: Expr) -> Expr:
        rebuilt = _rebuild(expr, self._child)
        method = getattr(self, "expr_" + type(expr).__name__, None)
        return method(rebuilt) if method else rebuilt  # type: ignore[return-value]

    def _child(self, child: Any) -> Any:
        if isinstance(child, tuple):
            if isinstance(child[0], Stmt):
                return self.block(child)
            new = tuple(self.expr(c) for c in child)
            return child if all(a is b for a, b in zip(new, child, strict=True)) else new
        if isinstance(child, Stmt):
            return self.stmt(child)
        if isinstance(child, Expr):
            return self.expr(child)
        return child


def iter_exprs(node: Node) -> Iterator[Expr]:
    """Every expression in a node's subtree, pre-order, nested statements included."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Expr):
                yield child
                yield from iter_exprs(child)
            elif isinstance(child, Node):
                yield from iter_exprs(child)


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that may hold children (all but its source location)."""
    found = _CHILD_FIELDS.get(cls)
    if found is None:
        found = _CHILD_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls)
                                           if f.name != "loc")
    return found


def rename_functions(module: Module, rename: Callable[[str], str]) -> Module:
    """The same module with every function (and every call of it) renamed."""
    from accir.ir.nodes import Call

    class _Renamer(Rewriter):
        def expr_Call(self, e: Call) -> Expr:
            return dataclasses.replace(e, callee=rename(e.callee))

        def function(self, f: Function) -> Function:
            f = super().function(f)
            return dataclasses.replace(f, name=rename(f.name))

    return _Renamer().module(module)
