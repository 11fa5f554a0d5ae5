"""Expression checks of the IR verifier (see `accir.ir.verifier`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from accir.diagnostics import IRVerificationError, Loc
from accir.ir.intrinsics import INTRINSICS
from accir.ir.nodes import (
    BINARY_OPS,
    COMPARE_OPS,
    LOGICAL_OPS,
    UNARY_OPS,
    BinOp,
    Call,
    Cast,
    Compare,
    Const,
    Dim,
    Expr,
    Function,
    Intrinsic,
    Load,
    Logical,
    Node,
    Select,
    UnaryOp,
    Var,
    is_bool_type,
)
from accir.ir.types import ArrayType, ScalarType, Type

_BITWISE = ("<<", ">>", "&", "|", "^")
_ORDERING = ("<", "<=", ">", ">=")
_CONST_VALUES = (bool, int, float, complex, np.generic)


class ExprChecker:
    """Checks the expressions of one function; `fail` raises the verification error."""

    def __init__(self, fn: Function, pass_name: str | None, sigs: dict[str, Function] | None):
        self.fn = fn
        self.pass_name = pass_name
        self.sigs = sigs
        self.types: dict[str, Type] = {}
        self.defined: set[str] = set()
        self.where = ""
        self.where_loc: Loc | None = None

    def fail(self, message: str, node: Node | None = None) -> NoReturn:
        prefix = f"after pass '{self.pass_name}': " if self.pass_name else ""
        site = (
            f"{self.where} in function '{self.fn.name}'"
            if self.where
            else (f"function '{self.fn.name}'")
        )
        loc = getattr(node, "loc", None) or self.where_loc or self.fn.loc
        raise IRVerificationError(f"{prefix}{site}: {message}", loc)

    # -------------------------------------------------------------- helpers

    def bind(self, var: Var) -> None:
        """Record the type of a variable; a name keeps one type in a function."""
        if not isinstance(var.ty, (ScalarType, ArrayType)):
            self.fail(f"variable %{var.name} has type {var.ty}", var)
        seen = self.types.setdefault(var.name, var.ty)
        if seen != var.ty:
            self.fail(f"variable %{var.name} has type {var.ty} here but {seen} elsewhere", var)

    def scalar(self, e: Expr, what: str) -> ScalarType:
        """Check `e` and that it is a scalar; return its type."""
        self.expr(e)
        ty = e.type
        if not isinstance(ty, ScalarType):
            self.fail(f"{what} must be a scalar, not {ty}", e)
        return ty

    def int_scalar(self, e: Expr, what: str) -> None:
        if not self.scalar(e, what).is_int:
            self.fail(f"{what} must be an integer, not {e.type}", e)

    def bool_scalar(self, e: Expr, what: str) -> None:
        self.expr(e)
        if not is_bool_type(e.type):
            self.fail(f"{what} must be bool or pybool, not {e.type}", e)

    def array(self, var: Expr, what: str) -> ArrayType:
        if not isinstance(var, Var):
            self.fail(f"{what} must be a variable, not {type(var).__name__}", var)
        self.expr(var)
        if not isinstance(var.ty, ArrayType):
            self.fail(f"{what} %{var.name} is not an array: {var.ty}", var)
        return var.ty

    def access(self, array: Var, indices: tuple[Expr, ...], node: Node) -> ArrayType:
        """Check an element access `array[indices]`."""
        ty = self.array(array, "subscripted value")
        if len(indices) != ty.ndim:
            self.fail(f"{len(indices)} indices for %{array.name} of rank {ty.ndim}", node)
        for index in indices:
            self.int_scalar(index, "an index")
        return ty

    def same_type(self, lhs: Expr, rhs: Expr, op: str, node: Node) -> ScalarType:
        ty = self.scalar(lhs, f"an operand of '{op}'")
        self.scalar(rhs, f"an operand of '{op}'")
        if rhs.type != ty:
            self.fail(f"operands of '{op}' differ in type: {ty} and {rhs.type}", node)
        return ty

    # -------------------------------------------------------------- expressions

    def expr(self, e: Expr) -> None:
        check = _CHECKS.get(type(e))
        if check is None:
            self.fail(f"unknown expression {type(e).__name__}", e)
        check(self, e)

    def e_const(self, e: Const) -> None:
        if not isinstance(e.ty, ScalarType):
            self.fail(f"constant of non-scalar type {e.ty}", e)
        if not isinstance(e.value, _CONST_VALUES):
            self.fail(f"constant value {e.value!r} is not a number", e)

    def e_var(self, e: Var) -> None:
        self.bind(e)
        if e.name not in self.defined:
            self.fail(f"variable %{e.name} is used but never defined", e)

    def e_dim(self, e: Dim) -> None:
        ty = self.array(e.array, "the operand of dim")
        if not 0 <= e.axis < ty.ndim:
            self.fail(f"dim axis {e.axis} out of range for rank {ty.ndim}", e)

    def e_load(self, e: Load) -> None:
        self.access(e.array, e.indices, e)

    def e_binop(self, e: BinOp) -> None:
        if e.op not in BINARY_OPS:
            self.fail(f"unknown binary operator '{e.op}'", e)
        ty = self.same_type(e.lhs, e.rhs, e.op, e)
        if e.op == "/" and not (ty.is_float or ty.is_complex):
            self.fail(f"'/' needs float or complex operands, not {ty}", e)
        if e.op in ("//", "%", "**") and ty.is_complex:  # complex powers: complex_ipow
            self.fail(f"'{e.op}' is not defined on complex {ty}", e)
        if e.op in _BITWISE and not (ty.is_int or ty.is_bool):
            self.fail(f"'{e.op}' needs integer or bool operands, not {ty}", e)

    def e_compare(self, e: Compare) -> None:
        if e.op not in COMPARE_OPS:
            self.fail(f"unknown comparison '{e.op}'", e)
        ty = self.same_type(e.lhs, e.rhs, e.op, e)
        if e.op in _ORDERING and ty.is_complex and ty.weak:  # NumPy orders its complex types
            self.fail(f"'{e.op}' cannot order Python complex numbers", e)

    def e_logical(self, e: Logical) -> None:
        if e.op not in LOGICAL_OPS:
            self.fail(f"unknown logical operator '{e.op}'", e)
        self.bool_scalar(e.lhs, f"an operand of '{e.op}'")
        self.bool_scalar(e.rhs, f"an operand of '{e.op}'")
        if e.lhs.type != e.rhs.type:
            self.fail(f"operands of '{e.op}' differ in type: {e.lhs.type} and {e.rhs.type}", e)

    def e_unary(self, e: UnaryOp) -> None:
        if e.op not in UNARY_OPS:
            self.fail(f"unknown unary operator '{e.op}'", e)
        ty = self.scalar(e.operand, f"the operand of '{e.op}'")
        if e.op == "~" and not (ty.is_int or ty.is_bool):
            self.fail(f"'~' needs an integer or bool operand, not {ty}", e)
        if e.op in ("-", "+") and ty.is_bool:
            self.fail(f"unary '{e.op}' is not defined on {ty}", e)

    def e_select(self, e: Select) -> None:
        self.bool_scalar(e.cond, "the condition of select")
        self.expr(e.then)
        self.expr(e.orelse)
        if e.then.type != e.orelse.type:
            self.fail(f"select branches differ in type: {e.then.type} and {e.orelse.type}", e)

    def e_cast(self, e: Cast) -> None:
        if not isinstance(e.ty, ScalarType):
            self.fail(f"cast to non-scalar type {e.ty}", e)
        self.scalar(e.value, "the operand of a cast")

    def e_intrinsic(self, e: Intrinsic) -> None:
        info = INTRINSICS.get(e.name)
        if info is None:
            self.fail(f"unknown intrinsic '{e.name}'", e)
        elif not info.min_args <= len(e.args) <= info.max_args:
            self.fail(f"intrinsic {e.name} takes {info.min_args}..{info.max_args} arguments, "
                      f"not {len(e.args)}", e)
        if not isinstance(e.ty, ScalarType):
            self.fail(f"intrinsic {e.name} of non-scalar type {e.ty}", e)
        for arg in e.args:
            self.scalar(arg, f"an argument of {e.name}")

    def e_call(self, e: Call) -> None:
        for arg in e.args:
            self.expr(arg)
        if self.sigs is None:
            return
        callee = self.sigs.get(e.callee)
        if callee is None:
            self.fail(f"call of unknown function @{e.callee}", e)
        if len(e.args) != len(callee.params):
            self.fail(f"@{e.callee} takes {len(callee.params)} arguments, not {len(e.args)}", e)
        for i, (arg, param) in enumerate(zip(e.args, callee.params, strict=True)):
            if arg.type != param.ty:
                self.fail(f"argument {i} of @{e.callee} is {arg.type}, expected {param.ty}", e)
        if e.ty != callee.ret:
            self.fail(f"call of @{e.callee} typed {e.ty}, but it returns {callee.ret}", e)


_CHECKS: dict[type, Callable[[Any, Any], None]] = {
    Const: ExprChecker.e_const,
    Var: ExprChecker.e_var,
    Dim: ExprChecker.e_dim,
    Load: ExprChecker.e_load,
    BinOp: ExprChecker.e_binop,
    Compare: ExprChecker.e_compare,
    Logical: ExprChecker.e_logical,
    UnaryOp: ExprChecker.e_unary,
    Select: ExprChecker.e_select,
    Cast: ExprChecker.e_cast,
    Intrinsic: ExprChecker.e_intrinsic,
    Call: ExprChecker.e_call,
}
