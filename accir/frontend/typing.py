"""NumPy-faithful typing of scalar operations.

The oracle is CPython running the same function, where array elements are NumPy scalars and
everything else is a Python number. Rather than re-deriving NumPy's promotion tables (NEP 50),
the result type of an operation is found by performing it once on sample values of the operand
types and looking at the type of the result; the answer is cached.
"""

from __future__ import annotations

import math
import operator
import warnings
from functools import cache
from typing import Any

import numpy as np

from accir.ir.types import (
    I64,
    PYBOOL,
    PYCOMPLEX,
    PYFLOAT,
    PYINT,
    U64,
    ScalarType,
    typeof_scalar,
)

OPERATORS: dict[str, Any] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
    "<<": operator.lshift,
    ">>": operator.rshift,
    "&": operator.and_,
    "|": operator.or_,
    "^": operator.xor,
}
UNARY: dict[str, Any] = {"-": operator.neg, "+": operator.pos, "~": operator.invert}


class OperandError(Exception):
    """The operation is not defined for these operand types (Python raises TypeError)."""


def sample(t: ScalarType) -> Any:
    """A value of type `t` that every operation accepts (1, or 1+0j, or True)."""
    if t.weak:
        return {"b": True, "i": 1, "f": 1.0, "c": complex(1, 0)}[t.kind]
    return t.dtype.type(1)


def _typeof_result(value: Any) -> ScalarType:
    t = typeof_scalar(value)
    if t is None:
        raise OperandError(f"result of type {type(value).__name__}")
    return t


@cache
def binop_type(op: str, lhs: ScalarType, rhs: ScalarType) -> ScalarType:
    """Result type of `lhs op rhs`; both operands are converted to it before the operation."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _typeof_result(OPERATORS[op](sample(lhs), sample(rhs)))
    except (TypeError, ValueError) as exc:
        raise OperandError(str(exc)) from None


@cache
def unary_type(op: str, t: ScalarType) -> ScalarType:
    if op == "not":
        return PYBOOL
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _typeof_result(UNARY[op](sample(t)))
    except TypeError as exc:
        raise OperandError(str(exc)) from None


@cache
def compare_type(lhs: ScalarType, rhs: ScalarType) -> ScalarType:
    """The type both sides of a comparison are converted to before comparing."""
    if lhs.is_int and rhs.is_int and (lhs.weak or rhs.weak):
        if lhs.weak and rhs.weak:
            return PYINT
        # NumPy compares a Python int with an integer scalar by value, not in the scalar's
        # type (uint64 against a negative Python int is the one case this does not cover).
        strong = rhs if lhs.weak else lhs
        return U64 if strong == U64 else I64
    if lhs.weak and rhs.weak and lhs.is_bool and rhs.is_bool:
        return PYINT
    return join(lhs, rhs)


@cache
def join(a: ScalarType, b: ScalarType) -> ScalarType:
    """The type of a variable assigned values of types a and b (NumPy promotion)."""
    if a == b:
        return a
    if a.weak and b.weak:
        return _typeof_result(sample(a) + sample(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = [sample(t) if t.weak else t.dtype for t in (a, b)]
        dtype = np.result_type(*args)
    return _typeof_result(dtype.type(1))


def join_all(types: list[ScalarType]) -> ScalarType:
    result = types[0]
    for t in types[1:]:
        result = join(result, t)
    return result


# ------------------------------------------------------------------ calls of known functions

MATH_FLOAT_1 = ["sqrt", "exp", "expm1", "log1p", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "fabs", "degrees", "radians", "exp2", "cbrt"]
MATH_FLOAT_2 = ["atan2", "pow", "hypot", "copysign", "fmod", "remainder"]
MATH_TO_INT = ["floor", "ceil", "trunc"]
MATH_PREDICATES = ["isnan", "isinf", "isfinite"]
MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}
# Functions that can overflow (a finite argument giving an infinite result raises
# OverflowError rather than ValueError), as in CPython's mathmodule.c.
MATH_CAN_OVERFLOW = {"exp", "expm1", "sinh", "cosh", "exp2", "pow", "hypot",
                     "ldexp"}

NUMPY_UFUNCS_1 = ["sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "abs", "absolute", "fabs", "floor", "ceil", "trunc", "rint", "sign", "square", "negative", "isnan", "isinf", "isfinite", "exp2", "cbrt", "reciprocal", "conjugate", "conj", "real", "imag"]
NUMPY_UFUNCS_2 = ["arctan2", "hypot", "power", "minimum", "maximum", "fmin", "fmax", "copysign", "fmod"]


def math_result_type(name: str, args: list[ScalarType]) -> ScalarType:
    """Result type of `math.<name>(*args)`; OperandError where CPython raises TypeError."""
    for t in args:
        if t.is_complex:
            raise OperandError(f"math.{name}() does not accept complex numbers")
    if name in MATH_TO_INT:
        return PYINT
    if name in MATH_PREDICATES:
        return PYBOOL
    return PYFLOAT


@cache
def numpy_result_type(name: str, args: tuple[ScalarType, ...]) -> ScalarType:
    """Result type of `np.<name>(*args)` on scalars, by evaluating it once."""
    fn = getattr(np, name)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _typeof_result(fn(*[sample(t) for t in args]))
    except (TypeError, ValueError) as exc:
        raise OperandError(str(exc)) from None


@cache
def abs_type(t: ScalarType) -> ScalarType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _typeof_result(abs(sample(t)))


def is_weak_number(t: ScalarType) -> bool:
    return t.weak and t in (PYBOOL, PYINT, PYFLOAT, PYCOMPLEX)
