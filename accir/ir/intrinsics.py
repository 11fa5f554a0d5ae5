"""The known functions an `Intrinsic` node may call, with their semantics.

* `math.<f>`: CPython's `math` module on Python floats (arguments arrive as `pyfloat`), with
  CPython's error rule (math_1/math_2 in mathmodule.c): a NaN result from non-NaN arguments
  raises ValueError("math domain error"); an infinite result from finite arguments raises
  OverflowError("math range error") for the functions that can overflow (exp, expm1, sinh,
  cosh, exp2, pow, hypot) and ValueError otherwise (log(0), a pole); math.pow(0, negative) is
  a domain error. `math.floor/ceil/trunc` return `pyint` (NaN raises ValueError, infinities
  OverflowError, values beyond 64 bits OverflowError).
* `np.<f>`: the NumPy ufunc on scalars of the argument type: IEEE results; the one exception is
  `np.power` of integers with a negative exponent (ValueError, as in NumPy).
* `abs`, `min`, `max`, `int`, `complex`, `real`, `imag`, `conj`: Python's builtins and complex
  attributes; `min`/`max` return the first extreme argument by `<`/`>` as Python does.
* `complex_ipow(z, n)`: `z ** n` for a complex z and a constant integer n, |n| <= 100, with
  CPython's algorithm (binary powering from 1) for Python complex and NumPy's (z, z*z, z*z*z
  for n <= 3, then binary powering) for NumPy complex; a negative n divides 1 by the power.
* `int_truediv(a, b)`: `a / b` on Python ints, a Python float (ZeroDivisionError "division
  by zero" for b == 0; the interpreter divides exactly, compiled code in doubles).
* `checked_int`: a Python int (`pyint`) converted to a narrower NumPy integer type; like NumPy,
  it raises OverflowError("Python integer N out of bounds for int8") when N does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from accir.frontend.typing import (
    MATH_CAN_OVERFLOW,
    MATH_FLOAT_1,
    MATH_FLOAT_2,
    MATH_PREDICATES,
    MATH_TO_INT,
    NUMPY_UFUNCS_1,
    NUMPY_UFUNCS_2,
)
from accir.ir.nodes import Expr, Intrinsic


@dataclass(frozen=True)
class IntrinsicInfo:
    name: str
    min_args: int
    max_args: int
    can_overflow: bool = False


def _table() -> dict[str, IntrinsicInfo]:
    table: dict[str, IntrinsicInfo] = {}
    for name in MATH_FLOAT_1 + MATH_TO_INT + MATH_PREDICATES:
        table[f"math.{name}"] = IntrinsicInfo(f"math.{name}", 1, 1, name in MATH_CAN_OVERFLOW)
    for name in MATH_FLOAT_2:
        table[f"math.{name}"] = IntrinsicInfo(f"math.{name}", 2, 2, name in MATH_CAN_OVERFLOW)
    table["math.log"] = IntrinsicInfo("math.log", 1, 2)
    for name in NUMPY_UFUNCS_1:
        table[f"np.{name}"] = IntrinsicInfo(f"np.{name}", 1, 1)
    for name in NUMPY_UFUNCS_2:
        table[f"np.{name}"] = IntrinsicInfo(f"np.{name}", 2, 2)
    for name, lo, hi in [
        ("abs", 1, 1),
        ("min", 2, 64),
        ("max", 2, 64),
        ("int", 1, 1),
        ("complex", 2, 2),
        ("real", 1, 1),
        ("imag", 1, 1),
        ("conj", 1, 1),
        ("checked_int", 1, 1),
        ("complex_ipow", 2, 2),
        ("int_truediv", 2, 2),
    ]:
        table[name] = IntrinsicInfo(name, lo, hi)
    return table


INTRINSICS = _table()


def deferred_conversion(e: Expr) -> tuple[Expr, Intrinsic | None]:
    """An operand and the `checked_int` conversion wrapping it, if any. NumPy converts a
    Python int when the operation (or the element assignment) runs, after every operand has
    been evaluated, so backends evaluate the inner expression first and convert last."""
    if isinstance(e, Intrinsic) and e.name == "checked_int":
        return e.args[0], e
    return e, None
