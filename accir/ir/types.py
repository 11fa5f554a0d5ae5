"""Types of the loop IR.

Scalars come in two flavours, because NumPy (NEP 50) treats them differently:

* *strong* types are NumPy scalar types (`f32`, `i64`, `bool`, ...): the type of array elements
  and of values made with `np.float32(x)`;
* *weak* types are Python's own `int`, `float`, `complex` and `bool` (`pyint`, `pyfloat`,
  `pycomplex`, `pybool`): loop indices, literals, results of `math` functions. In a mixed
  operation a weak operand takes the strong operand's type.

A weak type is stored like a strong one (`pyint` as 64-bit `i64`, `pyfloat` as `f64`), but keeps
Python's semantics where they differ (division by zero raises) and boxes back to a Python object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class ScalarType:
    name: str
    kind: str  # 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex
    bits: int
    weak: bool = False
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # types key every dispatch: hash them once
        object.__setattr__(self, "_hash", hash((self.name, self.weak)))

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return self.name

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype values of this type are stored in."""
        return _DTYPES[self.storage.name]

    @property
    def storage(self) -> ScalarType:
        """The strong type with the same representation (`pyint` -> `i64`)."""
        return _STORAGE.get(self.name, self)

    @property
    def is_int(self) -> bool:
        return self.kind in "iu"

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def is_bool(self) -> bool:
        return self.kind == "b"

    @property
    def is_signed(self) -> bool:
        return self.kind in "if"

    def python_type(self) -> type:
        """The Python (weak) or NumPy (strong) class of values of this type."""
        if self.weak:
            return {"b": bool, "i": int, "f": float, "c": complex}[self.kind]
        return self.dtype.type

    def box(self, value: object) -> object:
        """Make a runtime value of this type from a Python number."""
        return self.python_type()(value)


@dataclass(frozen=True, slots=True)
class ArrayType:
    """A NumPy array argument or local: element type, rank and memory layout.

    layout is 'C' (C-contiguous), 'F' (Fortran-contiguous) or 'A' (any strides).
    """

    dtype: ScalarType
    ndim: int
    layout: str = "A"
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.dtype, self.ndim, self.layout)))

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        dims = "".join("?x" for _ in range(self.ndim))
        return f"memref<{dims}{self.dtype}, {self.layout}>"


@dataclass(frozen=True, slots=True)
class NoneType:
    """The type of a function that returns nothing."""

    def __str__(self) -> str:
        return "none"


Type = ScalarType | ArrayType | NoneType

BOOL = ScalarType("bool", "b", 8)
I8 = ScalarType("i8", "i", 8)
I16 = ScalarType("i16", "i", 16)
I32 = ScalarType("i32", "i", 32)
I64 = ScalarType("i64", "i", 64)
U8 = ScalarType("u8", "u", 8)
U16 = ScalarType("u16", "u", 16)
U32 = ScalarType("u32", "u", 32)
U64 = ScalarType("u64", "u", 64)
F32 = ScalarType("f32", "f", 32)
F64 = ScalarType("f64", "f", 64)
C64 = ScalarType("c64", "c", 64)
C128 = ScalarType("c128", "c", 128)
PYBOOL = ScalarType("pybool", "b", 8, weak=True)
PYINT = ScalarType("pyint", "i", 64, weak=True)
PYFLOAT = ScalarType("pyfloat", "f", 64, weak=True)
PYCOMPLEX = ScalarType("pycomplex", "c", 128, weak=True)
NONE = NoneType()

STRONG_TYPES = (BOOL, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64, C64, C128)
WEAK_TYPES = (PYBOOL, PYINT, PYFLOAT, PYCOMPLEX)
SCALAR_TYPES = {t.name: t for t in STRONG_TYPES + WEAK_TYPES}

_DTYPES = {
    "bool": np.dtype(np.bool_),
    "i8": np.dtype(np.int8),
    "i16": np.dtype(np.int16),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
    "u8": np.dtype(np.uint8),
    "u16": np.dtype(np.uint16),
    "u32": np.dtype(np.uint32),
    "u64": np.dtype(np.uint64),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    "c64": np.dtype(np.complex64),
    "c128": np.dtype(np.complex128),
}
_STORAGE = {"pybool": BOOL, "pyint": I64, "pyfloat": F64, "pycomplex": C128}
_BY_DTYPE = {dt: SCALAR_TYPES[name] for name, dt in _DTYPES.items()}
_WEAK_BY_PYTYPE: dict[type, ScalarType] = {
    bool: PYBOOL,
    int: PYINT,
    float: PYFLOAT,
    complex: PYCOMPLEX,
}


def from_dtype(dtype: np.dtype | type) -> ScalarType:
    """The strong scalar type of a NumPy dtype; KeyError for unsupported dtypes."""
    return _BY_DTYPE[np.dtype(dtype)]


def is_supported_dtype(dtype: np.dtype) -> bool:
    return np.dtype(dtype) in _BY_DTYPE


def typeof_scalar(value: object) -> ScalarType | None:
    """The IR type of a Python or NumPy scalar value, or None if it is not one."""
    if isinstance(value, np.generic):
        return _BY_DTYPE.get(value.dtype)
    return _WEAK_BY_PYTYPE.get(type(value))


def weak_of_kind(kind: str) -> ScalarType:
    return {"b": PYBOOL, "i": PYINT, "u": PYINT, "f": PYFLOAT, "c": PYCOMPLEX}[kind]


def parse_type(text: str) -> Type:
    """Parse the textual form of a type (inverse of `str`)."""
    text = text.strip()
    if text == "none":
        return NONE
    if text.startswith("memref<") and text.endswith(">"):
        inner, _, layout = text[len("memref<") : -1].rpartition(",")
        parts = inner.strip().split("x")
        return ArrayType(SCALAR_TYPES[parts[-1]], len(parts) - 1, layout.strip())
    return SCALAR_TYPES[text]
