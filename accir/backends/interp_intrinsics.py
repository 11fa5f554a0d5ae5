"""Intrinsic functions for the interpreter: CPython's `math`, NumPy ufuncs, Python builtins."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accir.backends.errors import CODES, kind
from accir.ir.nodes import Intrinsic


def call_intrinsic(e: Intrinsic, args: list[Any]) -> Any:
    name = e.name
    if name.startswith("math."):
        result = getattr(math, name[5:])(*args)
        return _in_int64(result) if isinstance(result, int) else result
    if name.startswith("np."):
        ufunc = getattr(np, name[3:])
        return e.ty.dtype.type(ufunc(*args))
    return _BUILTINS[name](e, args)


def _minmax(pick_new: Any) -> Any:
    def run(e: Intrinsic, args: list[Any]) -> Any:
        best = args[0]
        for value in args[1:]:
            if pick_new(value, best):
                best = value
        return best

    return run


def _in_int64(value: int) -> int:
    """Compiled code holds Python ints in 64 bits: a float too big for that raises."""
    if not -(2**63) <= value < 2**63:
        raise OverflowError(kind(CODES["int-range"]).message)
    return value


def _checked_int(e: Intrinsic, args: list[Any]) -> Any:
    value = int(args[0])  # as NumPy converts: through a Python int (NaN, inf raise)
    info = np.iinfo(e.ty.dtype)
    if not info.min <= value <= info.max:
        raise OverflowError(f"Python integer {value} out of bounds for {e.ty.dtype}")
    return e.ty.dtype.type(value)


def _python_int(e: Intrinsic, args: list[Any]) -> Any:
    return _in_int64(int(args[0]))


_BUILTINS: dict[str, Any] = {
    "abs": lambda e, a: e.ty.box(abs(a[0])) if not e.ty.weak else abs(a[0]),
    "min": _minmax(lambda new, best: new < best),
    "max": _minmax(lambda new, best: new > best),
    "int": _python_int,
    "complex": lambda e, a: complex(a[0], a[1]),
    "real": lambda e, a: e.ty.box(a[0].real),
    "imag": lambda e, a: e.ty.box(a[0].imag),
    "conj": lambda e, a: a[0].conjugate(),
    "checked_int": _checked_int,
    "complex_ipow": lambda e, a: a[0] ** a[1],
    "int_truediv": lambda e, a: a[0] / a[1],
}
