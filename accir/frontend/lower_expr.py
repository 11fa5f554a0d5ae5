"""Lowering Python expressions to typed IR expressions (a mixin of FunctionLowerer)."""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np

from accir.diagnostics import AccirTypeError, Loc, UnsupportedError
from accir.frontend.lower_base import LowererBase
from accir.frontend.resolve import FrozenObject, Static
from accir.frontend.typing import (
    OPERATORS,
    OperandError,
    binop_type,
    compare_type,
    join,
    unary_type,
)
from accir.ir.nodes import (
    BinOp,
    Cast,
    Compare,
    Const,
    Dim,
    Expr,
    Intrinsic,
    Load,
    Logical,
    Select,
    UnaryOp,
    Var,
)
from accir.ir.types import (
    BOOL,
    PYFLOAT,
    PYINT,
    U64,
    ArrayType,
    ScalarType,
    is_supported_dtype,
    typeof_scalar,
)

BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~", ast.Not: "not"}


class ShapeTuple:
    """`a.shape` before it is indexed or unpacked."""

    def __init__(self, array: Var):
        self.array = array

    def dims(self, loc: Loc) -> list[Expr]:
        return [Dim(self.array, k, loc=loc) for k in range(self.array.array_type.ndim)]


Value = Expr | Static | ShapeTuple


def cast(e: Expr, ty: ScalarType) -> Expr:
    """Convert `e` to `ty`, folding constants so literals stay literals."""
    if e.type == ty:
        return e
    if isinstance(e, Const) and not (ty.is_int and e.type.is_float):
        if e.ty.weak and e.ty.is_int and ty.is_int and not ty.weak:
            info = np.iinfo(ty.dtype)
            if not info.min <= int(e.value) <= info.max:  # type: ignore[arg-type]
                # NumPy raises OverflowError when this runs: so does the compiled code
                return Intrinsic("checked_int", (e,), ty, loc=e.loc)
        return Const(_convert_constant(e.value, ty), ty, loc=e.loc)
    if e.type == PYINT and ty.is_int and not ty.weak and ty.name != "i64":
        return Intrinsic("checked_int", (e,), ty, loc=e.loc)  # NumPy refuses what won't fit
    return Cast(e, ty, loc=e.loc)


def _convert_constant(value: Any, ty: ScalarType) -> Any:
    if ty.is_complex:
        return complex(value)
    if ty.is_float:
        return float(np.dtype(ty.dtype).type(value.real if isinstance(value, complex) else value))
    if ty.is_bool:
        return bool(value)
    return int(np.array(int(value)).astype(ty.dtype))


def constant(value: Any, loc: Loc | None) -> Const:
    ty = typeof_scalar(value)
    assert ty is not None
    if isinstance(value, np.generic):
        value = value.item()
    return Const(value, ty, loc=loc)


class ExprLowering(LowererBase):
    """Expression half of FunctionLowerer."""

    def expr(self, node: ast.expr) -> Expr:
        """Lower an expression that must produce a runtime value."""
        value = self.value(node)
        return self.as_expr(value, node)

    def scalar(self, node: ast.expr) -> Expr:
        e = self.expr(node)
        if not isinstance(e.type, ScalarType):
            raise UnsupportedError(
                "an array cannot be used as a value here",
                self.loc(node),
                hint="index it to get an element, e.g. a[i]",
            )
        return e

    def as_expr(self, value: Value, node: ast.AST) -> Expr:
        if isinstance(value, Expr):
            return value
        if isinstance(value, ShapeTuple):
            raise UnsupportedError(
                "a shape tuple can only be indexed or unpacked",
                self.loc(node),
                hint="write n, m = a.shape or a.shape[0]",
            )
        return self.static_to_expr(value.value, node)

    def static_to_expr(self, value: Any, node: ast.AST) -> Expr:
        if typeof_scalar(value) is not None:
            return constant(value, self.loc(node))
        if isinstance(value, np.ndarray):
            return self.global_array(value, node)
        what = type(value).__name__
        raise UnsupportedError(
            f"a value of type '{what}' cannot be used in compiled code",
            self.loc(node),
            hint="accir compiles numbers and NumPy arrays",
        )

    def value(self, node: ast.expr) -> Value:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise UnsupportedError(
                f"{_describe(node)} is not supported in compiled code", self.loc(node)
            )
        return method(node)

    # ------------------------------------------------------------------ leaves

    def expr_Constant(self, node: ast.Constant) -> Value:
        if typeof_scalar(node.value) is None:
            raise UnsupportedError(
                f"{type(node.value).__name__} constants are not supported", self.loc(node)
            )
        if isinstance(node.value, int) and not -(2**63) <= node.value < 2**63:
            raise UnsupportedError(
                f"integer constant {node.value} does not fit in the 64-bit integers accir "
                "compiles", self.loc(node), hint="write it as a float")
        return constant(node.value, self.loc(node))

    def expr_Name(self, node: ast.Name) -> Value:
        name = node.id
        if name in self.local_names or name in self.params:
            return self.read_var(name, node)
        try:
            value = self.scope.lookup(name)
        except KeyError:
            raise UnsupportedError(f"name '{name}' is not defined", self.loc(node)) from None
        if isinstance(value, np.ndarray):  # arrays are always runtime values
            return self.global_array(value, node)
        return Static(value)

    def expr_Attribute(self, node: ast.Attribute) -> Value:
        base = self.value(node.value)
        attr = node.attr
        if isinstance(base, Static):
            return self.static_attribute(base.value, attr, node)
        if isinstance(base, Var) and isinstance(base.type, ArrayType):
            return self.array_attribute(base, attr, node)
        if isinstance(base, Expr) and isinstance(base.type, ScalarType):
            return self.scalar_attribute(base, attr, node)
        raise UnsupportedError(f"attribute '{attr}' is not supported here", self.loc(node))

    def static_attribute(self, obj: Any, attr: str, node: ast.AST) -> Value:
        if isinstance(obj, FrozenObject):
            try:
                return Static(obj.attribute(attr))
            except AttributeError as exc:
                raise UnsupportedError(str(exc), self.loc(node)) from None
        try:
            return Static(getattr(obj, attr))
        except AttributeError:
            name = getattr(obj, "__name__", type(obj).__name__)
            raise UnsupportedError(
                f"'{name}' has no attribute '{attr}'", self.loc(node)
            ) from None

    def array_attribute(self, array: Var, attr: str, node: ast.AST) -> Value:
        loc = self.loc(node)
        ndim = array.array_type.ndim
        if attr == "shape":
            return ShapeTuple(array)
        if attr == "ndim":
            return Const(ndim, PYINT, loc=loc)
        if attr == "size":
            size: Expr = Const(1, PYINT, loc=loc)
            for k in range(ndim):
                dim = Dim(array, k, loc=loc)
                size = dim if k == 0 else BinOp("*", size, dim, loc=loc)
            return size
        raise UnsupportedError(
            f"array attribute '{attr}' is not supported",
            loc,
            hint="supported: a.shape, a.shape[k], a.size, a.ndim, len(a)",
        )

    def scalar_attribute(self, e: Expr, attr: str, node: ast.AST) -> Value:
        if attr in ("real", "imag"):
            return self.intrinsic_call(attr, [e], node)
        raise UnsupportedError(f"scalar attribute '{attr}' is not supported", self.loc(node))

    def global_array(self, value: np.ndarray, node: ast.AST) -> Expr:
        if not is_supported_dtype(value.dtype):
            raise UnsupportedError(
                f"arrays of dtype {value.dtype} are not supported", self.loc(node)
            )
        hint = node.id if isinstance(node, ast.Name) else "array"
        return self.module.global_array(value, hint, self)

    # ------------------------------------------------------------------ subscripts

    def expr_Subscript(self, node: ast.Subscript) -> Value:
        base_node, index_nodes = flatten_subscript(node)
        base = self.value(base_node)
        if isinstance(base, ShapeTuple):
            return self.shape_index(base, node)
        if not (isinstance(base, Var) and isinstance(base.type, ArrayType)):
            raise UnsupportedError("only arrays can be indexed", self.loc(node))
        indices = self.indices(base, index_nodes, node)
        return Load(base, tuple(indices), loc=self.loc(node))

    def indices(
        self, array: Var, index_nodes: list[ast.expr], node: ast.AST
    ) -> list[Expr]:
        ndim = array.array_type.ndim
        if len(index_nodes) != ndim:
            raise UnsupportedError(
                f"array '{array.name}' has {ndim} dimension(s) but is indexed with "
                f"{len(index_nodes)}",
                self.loc(node),
                hint="index every dimension with an integer: views and slices are not "
                "supported",
            )
        out = []
        for index in index_nodes:
            if isinstance(index, ast.Slice):
                raise UnsupportedError(
                    "slices are not supported", self.loc(index), hint="write a loop"
                )
            e = self.scalar(index)
            if not e.type.is_int:  # type: ignore[union-attr]
                raise AccirTypeError(
                    f"array index must be an integer, not {e.type}", self.loc(index)
                )
            out.append(cast(e, PYINT))
        return out

    def shape_index(self, shape: ShapeTuple, node: ast.Subscript) -> Expr:
        ndim = shape.array.array_type.ndim
        k = node.slice
        if not (isinstance(k, ast.Constant) and isinstance(k.value, int)) and not (
            isinstance(k, ast.UnaryOp)
            and isinstance(k.op, ast.USub)
            and isinstance(k.operand, ast.Constant)
        ):
            raise UnsupportedError(
                "a.shape must be indexed with a constant", self.loc(node)
            )
        axis = int(ast.literal_eval(k))
        if not -ndim <= axis < ndim:
            raise UnsupportedError(
                f"tuple index {axis} out of range for a {ndim}-dimensional array",
                self.loc(node),
            )
        return Dim(shape.array, axis % ndim, loc=self.loc(node))

    # ------------------------------------------------------------------ operators

    def expr_BinOp(self, node: ast.BinOp) -> Value:
        op = BINOPS.get(type(node.op))
        if op is None:
            raise UnsupportedError("matrix multiplication '@' is not supported", self.loc(node))
        lhs, rhs = self.scalar(node.left), self.scalar(node.right)
        return self.binop(op, lhs, rhs, node)

    def binop(self, op: str, lhs: Expr, rhs: Expr, node: ast.AST) -> Expr:
        lt, rt = lhs.type, rhs.type
        assert isinstance(lt, ScalarType) and isinstance(rt, ScalarType)
        try:
            ty = binop_type(op, lt, rt)
        except OperandError:
            raise AccirTypeError(
                f"unsupported operand types for {op}: '{lt}' and '{rt}'", self.loc(node)
            ) from None
        if op == "**" and ty == PYINT and isinstance(rhs, Const) and rhs.value < 0:  # type: ignore[operator]
            ty = PYFLOAT  # Python: int ** negative int is a float
        if ty == BOOL and op in ("+", "*"):
            op = "|" if op == "+" else "&"  # NumPy's bool arithmetic is logical
        if op == "**" and ty.is_complex:
            return self.complex_power(lhs, rhs, ty, node)
        if op == "/" and ty == PYFLOAT and lt.weak and rt.weak and not (lt.is_float or
                                                                      rt.is_float):
            args = (cast(lhs, PYINT), cast(rhs, PYINT))  # int / int (Python's own rules)
            return Intrinsic("int_truediv", args, PYFLOAT, loc=self.loc(node))
        if ty == PYINT and isinstance(lhs, Const) and isinstance(rhs, Const):
            folded = _fold_int_constant(op, lhs, rhs, node, self.loc(node))
            if folded is not None:
                return folded
        return BinOp(op, cast(lhs, ty), cast(rhs, ty), loc=self.loc(node))

    def complex_power(self, base: Expr, exponent: Expr, ty: ScalarType, node: ast.AST
                      ) -> Expr:
        """`z ** n` for a constant integer n, |n| <= 100 (by repeated multiplication, as both
        CPython and NumPy compute it)."""
        value = exponent.value if isinstance(exponent, Const) else None
        n = complex(value).real if value is not None else None
        if value is None or complex(value).imag != 0 or n != int(n) or abs(n) > 100:  # type: ignore[arg-type]
            raise UnsupportedError(
                "complex ** is supported only with a constant integer exponent up to 100",
                self.loc(node), hint="write the power with multiplications or exp/log")
        power = Const(int(n), PYINT, loc=self.loc(node))
        return Intrinsic("complex_ipow", (cast(base, ty), power), ty, loc=self.loc(node))

    def expr_UnaryOp(self, node: ast.UnaryOp) -> Value:
        op = _UNARY[type(node.op)]
        operand = self.scalar(node.operand)
        if op == "not":
            return UnaryOp("not", self.truth(operand, node.operand), loc=self.loc(node))
        try:
            ty = unary_type(op, operand.type)
        except OperandError:
            raise AccirTypeError(
                f"bad operand type for unary {op}: '{operand.type}'", self.loc(node)
            ) from None
        if isinstance(operand, Const) and op == "-" and ty.is_signed:
            return Const(-operand.value, ty, loc=self.loc(node))
        return UnaryOp(op, cast(operand, ty), loc=self.loc(node))

    def expr_Compare(self, node: ast.Compare) -> Value:
        left = self.scalar(node.left)
        result: Expr | None = None
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            op = _CMPOPS.get(type(op_node))
            if op is None:
                raise UnsupportedError(
                    f"comparison '{type(op_node).__name__}' is not supported", self.loc(node)
                )
            right = self.scalar(right_node)
            if len(node.ops) > 1 and right_node is not node.comparators[-1]:
                right = self.stable(right, right_node)
            test = self.compare(op, left, right, node)
            result = test if result is None else self.logical("and", result, test, node)
            left = right
        assert result is not None
        return result

    def compare(self, op: str, lhs: Expr, rhs: Expr, node: ast.AST) -> Expr:
        lt, rt = lhs.type, rhs.type
        assert isinstance(lt, ScalarType) and isinstance(rt, ScalarType)
        ty = compare_type(lt, rt)
        if ty.is_complex and ty.weak and op not in ("==", "!="):
            raise AccirTypeError(  # NumPy orders complex scalars; Python does not
                f"'{op}' not supported between complex numbers", self.loc(node)
            )
        if ty == U64 and PYINT in (lt, rt):
            return self.compare_with_uint64(op, lhs, rhs, node)
        return Compare(op, cast(lhs, ty), cast(rhs, ty), loc=self.loc(node))

    def compare_with_uint64(self, op: str, lhs: Expr, rhs: Expr, node: ast.AST) -> Expr:
        """NumPy compares a Python int with a uint64 by value: a negative int is smaller."""
        loc = self.loc(node)
        python_left = lhs.type == PYINT
        small = lhs if python_left else rhs
        # the outcome when the Python int is negative (so below every uint64)
        below = op in (("<", "<=", "!=") if python_left else (">", ">=", "!="))
        exact = Compare(op, Cast(lhs, U64, loc=loc) if python_left else lhs,
                        rhs if python_left else Cast(rhs, U64, loc=loc), loc=loc)
        if isinstance(small, Const):
            return Const(below, BOOL, loc=loc) if small.value < 0 else exact  # type: ignore[operator]
        negative = Compare("<", small, Const(0, PYINT, loc=loc), loc=loc)
        return Select(negative, Const(below, BOOL, loc=loc), exact, loc=loc)

    def logical(self, op: str, lhs: Expr, rhs: Expr, node: ast.AST) -> Expr:
        """Short-circuit combination of two boolean expressions."""
        ty = lhs.type if lhs.type == rhs.type else BOOL
        return Logical(op, cast(lhs, ty), cast(rhs, ty), loc=self.loc(node))  # type: ignore[arg-type]

    def truth(self, e: Expr, node: ast.AST) -> Expr:
        """`bool(e)` as a boolean expression."""
        ty = e.type
        if not isinstance(ty, ScalarType):
            raise UnsupportedError(
                "the truth value of an array is ambiguous", self.loc(node),
                hint="compare an element, e.g. a[i] > 0",
            )
        if ty.is_bool:
            return e
        zero = Const(0j if ty.is_complex else 0.0 if ty.is_float else 0, ty, loc=e.loc)
        return Compare("!=", e, zero, loc=e.loc)

    def condition(self, node: ast.expr) -> Expr:
        """Lower an expression used for its truth value (if/while tests, not, and/or)."""
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            parts = [self.condition(v) for v in node.values]
            result = parts[0]
            for part in parts[1:]:
                result = self.logical(op, result, part, node)
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return UnaryOp("not", self.condition(node.operand), loc=self.loc(node))
        return self.truth(self.expr(node), node)

    def expr_BoolOp(self, node: ast.BoolOp) -> Value:
        values = [self.scalar(v) for v in node.values]
        op = "and" if isinstance(node.op, ast.And) else "or"
        if all(v.type == values[0].type and v.type.is_bool for v in values):  # type: ignore[union-attr]
            result = values[0]
            for v in values[1:]:
                result = self.logical(op, result, v, node)
            return result
        # `a or b` yields a or b themselves: pick with a lazy select on a's truth value
        ty = values[0].type
        for v in values[1:]:
            ty = join(ty, v.type)
        result = cast(values[-1], ty)  # type: ignore[arg-type]
        for v, vnode in zip(values[-2::-1], node.values[-2::-1], strict=True):
            v = self.stable(cast(v, ty), vnode)  # type: ignore[arg-type]
            test = self.truth(v, vnode)
            if isinstance(node.op, ast.Or):
                result = Select(test, v, result, loc=self.loc(node))
            else:
                result = Select(test, result, v, loc=self.loc(node))
        return result

    def expr_IfExp(self, node: ast.IfExp) -> Value:
        test = self.condition(node.test)
        then, orelse = self.scalar(node.body), self.scalar(node.orelse)
        ty = join(then.type, orelse.type)
        return Select(test, cast(then, ty), cast(orelse, ty), loc=self.loc(node))

    def expr_Tuple(self, node: ast.Tuple) -> Value:
        raise UnsupportedError(
            "tuples are only supported in unpacking assignments (a, b = b, a)", self.loc(node)
        )


def _fold_int_constant(op: str, lhs: Const, rhs: Const, node: ast.AST, loc: Loc
                       ) -> Const | None:
    """Python computes `2 ** 100` exactly, where compiled code would wrap: fold integer
    constants exactly, and refuse results beyond 64 bits."""
    try:
        exact = OPERATORS[op](int(lhs.value), int(rhs.value))  # type: ignore[arg-type]
    except (ArithmeticError, ValueError):
        return None  # raises at run time, as in Python
    if not isinstance(exact, int):
        return None
    if not -(2**63) <= exact < 2**63:
        raise UnsupportedError(
            f"{ast.unparse(node)} does not fit in the 64-bit integers accir compiles",
            loc, hint="compute it with floats")
    return Const(exact, PYINT, loc=loc)


def flatten_subscript(node: ast.Subscript) -> tuple[ast.expr, list[ast.expr]]:
    """`a[i][j]` and `a[i, j]` -> (a, [i, j])."""
    chain: list[ast.expr] = []
    base: ast.expr = node
    while isinstance(base, ast.Subscript):
        index = base.slice
        chain[:0] = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        base = base.value
    return base, chain


def _describe(node: ast.AST) -> str:
    names = {
        "List": "a list",
        "Dict": "a dict",
        "Set": "a set",
        "ListComp": "a list comprehension",
        "DictComp": "a dict comprehension",
        "SetComp": "a set comprehension",
        "GeneratorExp": "a generator expression",
        "Lambda": "a lambda",
        "JoinedStr": "an f-string",
        "Await": "await",
        "Yield": "yield",
        "YieldFrom": "yield from",
        "Starred": "a starred expression",
        "NamedExpr": "an assignment expression (:=)",
    }
    return names.get(type(node).__name__, f"the expression '{type(node).__name__}'")


def is_nan_literal(e: Expr) -> bool:
    return isinstance(e, Const) and isinstance(e.value, float) and math.isnan(e.value)
