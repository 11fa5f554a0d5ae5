"""Intrinsic functions for the interpreter: CPython's `math`, NumPy ufuncs, Python builtins."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accir.ir.nodes import Intrinsic


def call_intrinsic(e: Intrinsic, args: list[Any]) -> Any:
    name = e.name
    if name.startswith("math."):
        result = getattr(math, name[5:])(*args)
        return result
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


def _python_int(e: Intrinsic, args: list[Any]) -> Any:
    from accir.backends.interp import wrap64

    return wrap64(int(args[0]))


_BUILTINS: dict[str, Any] = {
    "abs": lambda e, a: e.ty.box(abs(a[0])) if not e.ty.weak else abs(a[0]),
    "min": _minmax(lambda new, best: new < best),
    "max": _minmax(lambda new, best: new > best),
    "int": _python_int,
    "complex": lambda e, a: complex(a[0], a[1]),
    "real": lambda e, a: e.ty.box(a[0].real),
    "imag": lambda e, a: e.ty.box(a[0].imag),
    "conj": lambda e, a: a[0].conjugate(),
}
