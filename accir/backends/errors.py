"""Run-time errors raised by compiled code, as CPython would raise them.

Compiled functions return a status code; on failure they fill an error record
`{i32 code, i64 arg0, i64 arg1, i64 arg2}` and the CPython wrapper raises the exception below
with the record's arguments formatted into the message (printf-style, `%lld` only).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimeErrorKind:
    exception: str  # name of the builtin exception (its PyExc_* global)
    message: str  # format with up to three %lld


_KINDS = {
    "index": RuntimeErrorKind(
        "IndexError", "index %lld is out of bounds for axis %lld with size %lld"
    ),
    "int-div-zero": RuntimeErrorKind("ZeroDivisionError", "integer division or modulo by zero"),
    "int-mod-zero": RuntimeErrorKind("ZeroDivisionError", "integer modulo by zero"),
    "div-zero": RuntimeErrorKind("ZeroDivisionError", "division by zero"),
    "float-div-zero": RuntimeErrorKind("ZeroDivisionError", "float division by zero"),
    "float-floordiv-zero": RuntimeErrorKind("ZeroDivisionError", "float floor division by zero"),
    "float-mod-zero": RuntimeErrorKind("ZeroDivisionError", "float modulo"),
    "zero-neg-pow": RuntimeErrorKind(
        "ZeroDivisionError", "0.0 cannot be raised to a negative power"
    ),
    "math-domain": RuntimeErrorKind("ValueError", "math domain error"),
    "math-range": RuntimeErrorKind("OverflowError", "math range error"),
    "pow-range": RuntimeErrorKind("OverflowError", "(34, 'Numerical result out of range')"),
    "negative-dims": RuntimeErrorKind("ValueError", "negative dimensions are not allowed"),
    "range-step-zero": RuntimeErrorKind("ValueError", "range() arg 3 must not be zero"),
    "nan-to-int": RuntimeErrorKind("ValueError", "cannot convert float NaN to integer"),
    "inf-to-int": RuntimeErrorKind("OverflowError", "cannot convert float infinity to integer"),
    "int-range": RuntimeErrorKind(
        "OverflowError", "integer result out of the 64-bit range accir compiles"
    ),
    "numpy-neg-pow": RuntimeErrorKind(
        "ValueError", "Integers to negative integer powers are not allowed."
    ),
    "python-neg-pow": RuntimeErrorKind(
        "ValueError",
        "integer to a negative integer power gives a float in Python; accir compiles it only "
        "with a constant exponent",
    ),
    "complex-pow": RuntimeErrorKind(
        "ValueError", "negative number raised to a fractional power (a complex result)"
    ),
    "negative-shift": RuntimeErrorKind("ValueError", "negative shift count"),
    "memory": RuntimeErrorKind("MemoryError", "cannot allocate array memory"),
    "read-only": RuntimeErrorKind("ValueError", "assignment destination is read-only"),
}

# NumPy (NEP 50) refuses a Python int that does not fit the NumPy integer type it meets
for _dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
    _KINDS[f"int-bounds-{_dtype}"] = RuntimeErrorKind(
        "OverflowError", f"Python integer %lld out of bounds for {_dtype}"
    )
_KINDS["complex-div-zero"] = RuntimeErrorKind("ZeroDivisionError", "complex division by zero")

KIND_NAMES = list(_KINDS)
CODES = {name: i + 1 for i, name in enumerate(KIND_NAMES)}


def kind(code: int) -> RuntimeErrorKind:
    return _KINDS[KIND_NAMES[code - 1]]


def all_kinds() -> list[tuple[int, RuntimeErrorKind]]:
    return [(CODES[name], k) for name, k in _KINDS.items()]
