"""Print loop IR as text (read back by `accir.ir.parser`).

The form, two spaces per nesting level::

    func @f(%A: memref<?xf64, C>, %n: pyint) -> none {
      var %i: pyint
      L0: for %i = 0 to %n step 1 acc "parallel loop" {
        S0: %A[%i] = (%A[%i] * 2.0:f64)
      }
    }

Every binary operation is parenthesised; constants of strong types carry `:TYPE`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import numpy as np

from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    BinOp,
    Break,
    Call,
    Cast,
    Compare,
    Const,
    Continue,
    Dim,
    Expr,
    ExprStmt,
    Function,
    If,
    Intrinsic,
    Load,
    Logical,
    Loop,
    Module,
    Node,
    Parallel,
    Region,
    Return,
    Select,
    Stmt,
    Store,
    UnaryOp,
    Var,
    While,
    walk_stmts,
)

INDENT = "  "


def print_module(m: Module) -> str:
    """The text of a module: its functions separated by blank lines."""
    return "\n".join(print_function(f) for f in m.functions)


def print_function(f: Function) -> str:
    """The text of one function, ending with a newline."""
    params = ", ".join(_decl(p) for p in f.params)
    lines = [f"func @{f.name}({params}) -> {f.ret} {{"]
    local_vars = function_locals(f)
    if local_vars:
        lines.append(INDENT + "var " + ", ".join(_decl(v) for v in local_vars))
    _block(f.body, 1, lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


def function_locals(f: Function) -> list[Var]:
    """The variables of `f` that are not parameters, sorted by name (one per name)."""
    params = {p.name for p in f.params}
    found: dict[str, Var] = {}
    for stmt in walk_stmts(f.body):
        for var in _vars_of(stmt):
            if var.name not in params:
                found.setdefault(var.name, var)
    return [found[name] for name in sorted(found)]


def _vars_of(node: Node) -> Iterator[Var]:
    """Every Var in a node's own fields (not in nested statements)."""
    if isinstance(node, Var):
        yield node
        return
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, Expr):
                yield from _vars_of(item)


def _decl(v: Var) -> str:
    return f"%{v.name}: {v.ty}"


def _block(body: tuple[Stmt, ...], depth: int, lines: list[str]) -> None:
    for stmt in body:
        _stmt(stmt, depth, lines)


def _open(head: str, body: tuple[Stmt, ...], depth: int, lines: list[str]) -> None:
    """Append `head {`, the indented body and the closing `}`."""
    lines.append(INDENT * depth + head + " {")
    _block(body, depth + 1, lines)
    lines.append(INDENT * depth + "}")


def _acc(directive: object) -> str:
    return "acc " + json.dumps(directive.to_source())  # type: ignore[attr-defined]


def print_parallel(p: Parallel) -> str:
    """`parallel(static, reduce + %s, private %t, threads 4, if %c, min 16)`"""
    items = [p.schedule]
    for r in p.reductions:
        items.append(f"reduce {r.op}{' ' + r.combine if r.combine else ''} {print_expr(r.var)}")
    if p.private:
        items.append("private " + " ".join(print_expr(v) for v in p.private))
    if p.num_threads is not None:
        items.append(f"threads {print_expr(p.num_threads)}")
    if p.condition is not None:
        items.append(f"if {print_expr(p.condition)}")
    if p.min_trips != 2:
        items.append(f"min {p.min_trips}")
    if p.collapse != 1:
        items.append(f"collapse {p.collapse}")
    return "parallel(" + ", ".join(items) + ")"


def _stmt(s: Stmt, depth: int, lines: list[str]) -> None:
    pad = INDENT * depth
    if isinstance(s, Loop):
        head = (
            f"{s.lid}: for {print_expr(s.var)} = {print_expr(s.start)} to "
            f"{print_expr(s.stop)} step {print_expr(s.step)}"
        )
        if s.independent:
            head += " independent"
        if s.parallel is not None:
            head += " " + print_parallel(s.parallel)
        if s.directive is not None:
            head += " " + _acc(s.directive)
        _open(head, s.body, depth, lines)
    elif isinstance(s, While):
        _open(f"{s.lid}: while {print_expr(s.cond)}", s.body, depth, lines)
    elif isinstance(s, If):
        head = f"if {print_expr(s.cond)}" + (" versioned" if s.versioned else "")
        _open(head, s.then, depth, lines)
        if s.orelse:
            lines[-1] += " else {"
            _block(s.orelse, depth + 1, lines)
            lines.append(pad + "}")
    elif isinstance(s, Region):
        _open(_acc(s.directive), s.body, depth, lines)
    else:
        lines.append(pad + print_simple_stmt(s))


def print_simple_stmt(s: Stmt) -> str:
    """One line for a statement without a body."""
    if isinstance(s, Assign):
        return f"{s.sid}: {print_expr(s.target)} = {print_expr(s.value)}"
    if isinstance(s, Store):
        return f"{s.sid}: {_subscript(s.array, s.indices, s.checked)} = {print_expr(s.value)}"
    if isinstance(s, Alloc):
        text = f"{s.sid}: {print_expr(s.target)} = alloc({_list(s.shape)})"
        return text if s.fill is None else f"{text} fill {print_expr(s.fill)}"
    if isinstance(s, ExprStmt):
        return f"{s.sid}: eval {print_expr(s.value)}"
    if isinstance(s, Return):
        return f"{s.sid}: return" if s.value is None else f"{s.sid}: return {print_expr(s.value)}"
    if isinstance(s, Break):
        return "break"
    if isinstance(s, Continue):
        return "continue"
    if isinstance(s, AccStmt):
        return _acc(s.directive)
    raise TypeError(f"cannot print statement {s!r}")


def _list(exprs: tuple[Expr, ...]) -> str:
    return ", ".join(print_expr(e) for e in exprs)


def _subscript(array: Var, indices: tuple[Expr, ...], checked: bool) -> str:
    inside = _list(indices) if checked else f"{_list(indices)}; unchecked"
    return f"{print_expr(array)}[{inside}]"


def print_expr(e: Expr) -> str:
    """The text of an expression."""
    if isinstance(e, Var):
        return f"%{e.name}"
    if isinstance(e, Const):
        return print_const(e)
    if isinstance(e, Load):
        return _subscript(e.array, e.indices, e.checked)
    if isinstance(e, (BinOp, Compare, Logical)):
        return f"({print_expr(e.lhs)} {e.op} {print_expr(e.rhs)})"
    if isinstance(e, UnaryOp):
        return f"({e.op} {print_expr(e.operand)})"
    if isinstance(e, Dim):
        return f"dim({print_expr(e.array)}, {e.axis})"
    if isinstance(e, Select):
        return f"select({print_expr(e.cond)}, {print_expr(e.then)}, {print_expr(e.orelse)})"
    if isinstance(e, Cast):
        return f"{e.ty}({print_expr(e.value)})"
    if isinstance(e, Intrinsic):
        return f"{e.name}({_list(e.args)}):{e.ty}"
    if isinstance(e, Call):
        return f"call @{e.callee}({_list(e.args)}):{e.ty}"
    raise TypeError(f"cannot print expression {e!r}")


def print_const(c: Const) -> str:
    """`3`, `0.25`, `True`, `complex(1.0, -2.0)`; `:TYPE` follows unless the type is the weak
    type of the value's Python class."""
    value = c.value.item() if isinstance(c.value, np.generic) else c.value
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, complex):
        text = f"complex({value.real!r}, {value.imag!r})"
    elif isinstance(value, float):
        text = repr(float(value))
    else:
        text = str(int(value))
    if c.ty.weak and c.ty.python_type() is type(value):
        return text
    return f"{text}:{c.ty}"
