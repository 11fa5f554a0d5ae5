"""Constant folding and exact algebraic simplification of expressions.

Folding evaluates constant subtrees with the reference interpreter, so a folded value is exactly
what the program would compute; an operation that would raise (a Python division by zero, a
math domain error) is left in place to raise at run time. Simplifications are the identities
that hold bit for bit (`x * 1`, `x + 0` on integers, ...) and never drop a subexpression that
could raise.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from accir.ir.nodes import (
    BinOp,
    Call,
    Cast,
    Compare,
    Const,
    Expr,
    Intrinsic,
    Load,
    Logical,
    Module,
    Select,
    UnaryOp,
)
from accir.ir.rewrite import Rewriter, iter_exprs
from accir.ir.types import ScalarType

_FOLDABLE = (BinOp, UnaryOp, Compare, Cast, Intrinsic)


def evaluate(e: Expr) -> Any:
    """Value of a constant expression by the interpreter; raises what the program would."""
    from accir.backends.interp import Interpreter

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return Interpreter(Module(())).eval(e, {})


def to_const(value: Any, ty: ScalarType, like: Expr) -> Const | None:
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (bool, int, float, complex)):
        return None
    if ty.is_int and not ty.is_bool and not isinstance(value, complex):
        value = int(value)
    return Const(value, ty, loc=like.loc)


def cannot_raise(e: Expr) -> bool:
    """Whether evaluating `e` certainly raises nothing (so it may be dropped or duplicated)."""
    return not any(_may_raise(n) for n in (e, *iter_exprs(e)))


def _may_raise(e: Expr) -> bool:
    if isinstance(e, Call):
        return True
    if isinstance(e, Load):
        return e.checked
    if isinstance(e, Intrinsic):
        return e.name.startswith("math.") or e.name in ("int", "np.power", "checked_int",
                                                        "int_truediv")
    if isinstance(e, BinOp):
        ty = e.type
        assert isinstance(ty, ScalarType)
        if e.op == "**":
            return ty.is_int or ty.weak
        return ty.weak and e.op in ("/", "//", "%", "<<", ">>")
    return False


class Folder(Rewriter):
    """Bottom-up folding and simplification."""

    def expr(self, expr: Expr) -> Expr:
        new = super().expr(expr)
        if isinstance(new, _FOLDABLE) and _all_const(new):
            folded = _fold(new)
            if folded is not None:
                return folded
        return new

    def expr_BinOp(self, e: BinOp) -> Expr:
        return _simplify_binop(e)

    def expr_UnaryOp(self, e: UnaryOp) -> Expr:
        inner = e.operand
        if (e.op == "not" and isinstance(inner, UnaryOp) and inner.op == "not"
                and inner.operand.type == e.type):
            return inner.operand
        return e

    def expr_Cast(self, e: Cast) -> Expr:
        return e.value if e.value.type == e.ty else e

    def expr_Select(self, e: Select) -> Expr:
        if isinstance(e.cond, Const):
            return e.then if e.cond.value else e.orelse
        return e

    def expr_Logical(self, e: Logical) -> Expr:
        if not isinstance(e.lhs, Const):
            return e
        decided = bool(e.lhs.value) == (e.op == "or")
        return e.lhs if decided else e.rhs


def _all_const(e: Expr) -> bool:
    children = e.args if isinstance(e, Intrinsic) else [
        c for c in (getattr(e, "lhs", None), getattr(e, "rhs", None), getattr(e, "operand", None),
                    getattr(e, "value", None)) if c is not None
    ]
    return all(isinstance(c, Const) for c in children)


def _fold(e: Expr) -> Const | None:
    ty = e.type
    if not isinstance(ty, ScalarType):
        return None
    try:
        value = evaluate(e)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return to_const(value, ty, e)


def _is(e: Expr, number: float) -> bool:
    """`e` is the constant `number` (for floats: with the same sign bit)."""
    if not isinstance(e, Const) or isinstance(e.value, complex) or e.value != number:
        return False
    return not isinstance(e.value, float) or bool(np.signbit(e.value) == np.signbit(number))


def _simplify_binop(e: BinOp) -> Expr:
    ty = e.type
    assert isinstance(ty, ScalarType)
    if ty.is_int and not ty.is_bool:
        return _simplify_int(e, ty)
    if ty.is_float:
        return _simplify_float(e)
    return e


def _simplify_int(e: BinOp, ty: ScalarType) -> Expr:
    lhs, rhs, op = e.lhs, e.rhs, e.op
    if (op in ("+", "-") and _is(rhs, 0)) or (op in ("*", "//") and _is(rhs, 1)):
        return lhs
    if (op == "+" and _is(lhs, 0)) or (op == "*" and _is(lhs, 1)):
        return rhs
    if op == "*" and ((_is(rhs, 0) and cannot_raise(lhs)) or (_is(lhs, 0) and cannot_raise(rhs))):
        return Const(0, ty, loc=e.loc)
    return e


def _simplify_float(e: BinOp) -> Expr:
    lhs, rhs, op = e.lhs, e.rhs, e.op
    if (op in ("*", "/") and _is(rhs, 1.0)) or (op == "-" and _is(rhs, 0.0)):
        return lhs
    if op == "+" and _is(rhs, -0.0):
        return lhs
    if op == "*" and _is(lhs, 1.0):
        return rhs
    return e


def fold_expr(e: Expr) -> Expr:
    return Folder().expr(e)


def contains_call(e: Expr) -> bool:
    return any(isinstance(n, Call) for n in (e, *iter_exprs(e)))
