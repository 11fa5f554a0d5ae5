"""The reference interpreter: runs the loop IR with Python and NumPy scalars.

It is the semantic oracle for passes (a pass must not change what the interpreter computes) and a
target users can pick (`target="interp"`). Strong-typed values are NumPy scalars, so arithmetic is
NumPy's; weak (Python) values are Python numbers, with `pyint` wrapped to 64 bits as in compiled
code.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from accir.frontend.typing import OPERATORS, UNARY
from accir.ir.intrinsics import deferred_conversion
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
    Region,
    Return,
    Select,
    Stmt,
    Store,
    UnaryOp,
    Var,
    While,
)
from accir.ir.types import ArrayType, ScalarType, Type
from accir.ir.uses import local_vars

_OPS: dict[str, Any] = {
    **OPERATORS,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def wrap64(x: int) -> int:
    return ((x + (1 << 63)) % (1 << 64)) - (1 << 63)


def check_index(index: int, size: int, axis: int) -> int:
    """Python/NumPy indexing: negative indices count from the end; out of range raises."""
    if index < -size or index >= size:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {size}")
    return index + size if index < 0 else index


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class Interpreter:
    def __init__(self, module: Module):
        self.module = module

    def run(self, args: list[Any]) -> Any:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return self.call(self.module.entry, args)

    def call(self, fn: Function, args: list[Any]) -> Any:
        # As in compiled code, a variable read before it is assigned holds zero (an array:
        # an empty one)
        env = {v.name: _zero(v.type) for v in local_vars(fn)}
        env.update({p.name: v for p, v in zip(fn.params, args, strict=True)})
        try:
            self.block(fn.body, env)
        except _Return as ret:
            return ret.value
        return None

    # ------------------------------------------------------------------ statements

    def block(self, body: tuple[Stmt, ...], env: dict[str, Any]) -> None:
        for stmt in body:
            getattr(self, "stmt_" + type(stmt).__name__)(stmt, env)

    def stmt_Assign(self, s: Assign, env: dict[str, Any]) -> None:
        env[s.target.name] = self.eval(s.value, env)

    def stmt_Store(self, s: Store, env: dict[str, Any]) -> None:
        # the value, then the subscript (IndexError), then NumPy's conversion (OverflowError)
        inner, conversion = deferred_conversion(s.value)
        value = self.eval(inner, env)
        array = env[s.array.name]
        index = self.index(array, s.indices, env, s.checked)
        array[index] = self.converted(value, conversion)

    def stmt_Alloc(self, s: Alloc, env: dict[str, Any]) -> None:
        shape = tuple(self.eval(d, env) for d in s.shape)
        if any(d < 0 for d in shape):
            raise ValueError("negative dimensions are not allowed")
        dtype = s.target.array_type.dtype.dtype
        if s.fill is None:
            env[s.target.name] = np.empty(shape, dtype)
        else:
            env[s.target.name] = np.full(shape, self.eval(s.fill, env), dtype)

    def stmt_ExprStmt(self, s: ExprStmt, env: dict[str, Any]) -> None:
        self.eval(s.value, env)

    def stmt_Return(self, s: Return, env: dict[str, Any]) -> None:
        raise _Return(None if s.value is None else self.eval(s.value, env))

    def stmt_Break(self, s: Break, env: dict[str, Any]) -> None:
        raise _Break

    def stmt_Continue(self, s: Continue, env: dict[str, Any]) -> None:
        raise _Continue

    def stmt_Loop(self, s: Loop, env: dict[str, Any]) -> None:
        start, stop, step = (self.eval(e, env) for e in (s.start, s.stop, s.step))
        if step == 0:
            raise ValueError("range() arg 3 must not be zero")
        for i in range(start, stop, step):
            env[s.var.name] = i
            if not self.iteration(s.body, env):
                break

    def stmt_While(self, s: While, env: dict[str, Any]) -> None:
        while self.eval(s.cond, env):
            if not self.iteration(s.body, env):
                break

    def iteration(self, body: tuple[Stmt, ...], env: dict[str, Any]) -> bool:
        """Run a loop body once; False when it breaks out of the loop."""
        try:
            self.block(body, env)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    def stmt_If(self, s: If, env: dict[str, Any]) -> None:
        self.block(s.then if self.eval(s.cond, env) else s.orelse, env)

    def stmt_Region(self, s: Region, env: dict[str, Any]) -> None:
        self.block(s.body, env)

    def stmt_AccStmt(self, s: AccStmt, env: dict[str, Any]) -> None:
        return None  # data movement and waits are no-ops on memory shared with the host

    # ------------------------------------------------------------------ expressions

    def eval(self, e: Expr, env: dict[str, Any]) -> Any:
        return getattr(self, "expr_" + type(e).__name__)(e, env)

    def expr_Const(self, e: Const, env: dict[str, Any]) -> Any:
        return e.ty.box(e.value)

    def expr_Var(self, e: Var, env: dict[str, Any]) -> Any:
        return env[e.name]

    def expr_Dim(self, e: Dim, env: dict[str, Any]) -> Any:
        return int(env[e.array.name].shape[e.axis])

    def expr_Load(self, e: Load, env: dict[str, Any]) -> Any:
        array = env[e.array.name]
        return array[self.index(array, e.indices, env, e.checked)]

    def index(
        self, array: np.ndarray, indices: tuple[Expr, ...], env: dict[str, Any], checked: bool
    ) -> tuple[int, ...]:
        values = [self.eval(i, env) for i in indices]
        if not checked:
            return tuple(values)
        return tuple(check_index(v, n, k) for k, (v, n) in enumerate(zip(values, array.shape,
                                                                         strict=True)))

    def converted(self, value: Any, conversion: Intrinsic | None) -> Any:
        from accir.backends.interp_intrinsics import call_intrinsic

        return value if conversion is None else call_intrinsic(conversion, [value])

    def expr_BinOp(self, e: BinOp, env: dict[str, Any]) -> Any:
        (lhs_e, lhs_conversion), (rhs_e, rhs_conversion) = (deferred_conversion(e.lhs),
                                                            deferred_conversion(e.rhs))
        lhs, rhs = self.eval(lhs_e, env), self.eval(rhs_e, env)
        lhs, rhs = self.converted(lhs, lhs_conversion), self.converted(rhs, rhs_conversion)
        ty = e.type
        assert isinstance(ty, ScalarType)
        if ty.weak:
            return self.weak_binop(e.op, lhs, rhs, ty)
        return ty.dtype.type(_OPS[e.op](lhs, rhs))

    def weak_binop(self, op: str, lhs: Any, rhs: Any, ty: ScalarType) -> Any:
        if op == "**" and ty.is_int and rhs < 0:
            raise ValueError("integer to a negative integer power gives a float in Python; "
                             "accir compiles it only with a constant exponent")
        result = _OPS[op](lhs, rhs)
        if ty.is_int:
            return wrap64(result)
        if ty.is_float and isinstance(result, complex):
            raise ValueError("negative number raised to a fractional power (a complex result)")
        return result

    def expr_UnaryOp(self, e: UnaryOp, env: dict[str, Any]) -> Any:
        value = self.eval(e.operand, env)
        if e.op == "not":
            return not value
        ty = e.type
        assert isinstance(ty, ScalarType)
        if e.op == "~" and ty.is_bool:
            return ty.box(not value)
        result = UNARY[e.op](value)
        return wrap64(result) if ty.weak and ty.is_int else result

    def expr_Compare(self, e: Compare, env: dict[str, Any]) -> Any:
        return _OPS[e.op](self.eval(e.lhs, env), self.eval(e.rhs, env))

    def expr_Logical(self, e: Logical, env: dict[str, Any]) -> Any:
        lhs = self.eval(e.lhs, env)
        if e.op == "and":
            return self.eval(e.rhs, env) if lhs else lhs
        return lhs if lhs else self.eval(e.rhs, env)

    def expr_Select(self, e: Select, env: dict[str, Any]) -> Any:
        return self.eval(e.then if self.eval(e.cond, env) else e.orelse, env)

    def expr_Cast(self, e: Cast, env: dict[str, Any]) -> Any:
        return convert(self.eval(e.value, env), e.ty)

    def expr_Intrinsic(self, e: Intrinsic, env: dict[str, Any]) -> Any:
        from accir.backends.interp_intrinsics import call_intrinsic

        return call_intrinsic(e, [self.eval(a, env) for a in e.args])

    def expr_Call(self, e: Call, env: dict[str, Any]) -> Any:
        args = [self.eval(a, env) for a in e.args]
        return self.call(self.module.function(e.callee), args)


def _zero(ty: Type) -> Any:
    if isinstance(ty, ArrayType):
        return np.empty((0,) * ty.ndim, ty.dtype.dtype)
    return ty.box(0) if isinstance(ty, ScalarType) else None


def convert(value: Any, ty: ScalarType) -> Any:
    """NumPy `astype` conversion of a scalar (wrapping, truncating)."""
    if ty.weak:
        if ty.is_int:
            return wrap64(int(np.asarray(value).astype(np.int64)))
        if ty.is_bool:
            return bool(value)
        if ty.is_float:
            return float(np.asarray(value).real if isinstance(value, complex) else value)
        return complex(value)
    return np.asarray(value).astype(ty.dtype)[()]


def run_module(module: Module, args: list[Any]) -> Any:
    return Interpreter(module).run(args)

