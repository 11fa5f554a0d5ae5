"""Compile-time values: globals, closure variables, builtins and frozen object attributes.

Like Numba, accir freezes the values of module globals and closure variables when it compiles a
function: scalars become constants, NumPy arrays are passed by reference (their contents stay
live, but rebinding the name later is not seen). Attributes of plain-object arguments
(`self.N`, `self.DATA_TYPE`) are frozen per call signature.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Static:
    """A value known at compile time that is not (yet) an IR expression: a module, a
    function, a type, a frozen object, or a scalar/array to be turned into one."""

    value: Any


@dataclass(frozen=True)
class BoundMethod:
    """`obj.method` where obj is a frozen object: calling it passes obj as `self`."""

    func: Any
    obj: FrozenObject


@dataclass(frozen=True, eq=False)
class FrozenObject:
    """The signature of a plain-object argument: its class and its instance attributes that
    hold numbers or NumPy scalar types, frozen to their values at call time. Class attributes
    are read from the class when compiling."""

    cls: type
    attrs: tuple[tuple[str, Any], ...]
    others: tuple[tuple[str, str], ...] = ()  # other instance attributes: (name, type name)

    @staticmethod
    def of(obj: Any) -> FrozenObject:
        items = sorted(getattr(obj, "__dict__", {}).items())
        return FrozenObject(
            type(obj),
            tuple((k, v) for k, v in items if _freezable(v)),
            tuple((k, _kind(v)) for k, v in items if not _freezable(v)),
        )

    def attribute(self, name: str) -> Any:
        """The frozen value of an attribute; AttributeError with a reason if there is none."""
        for key, value in self.attrs:
            if key == name:
                return value
        for key, kind in self.others:
            if key == name:
                raise AttributeError(
                    f"attribute '{name}' of '{self.cls.__name__}' holds {kind}: compiled "
                    "code can read only number-valued attributes of objects")
        try:
            value = getattr(self.cls, name)
        except AttributeError:
            raise AttributeError(f"'{self.cls.__name__}' object has no attribute '{name}'"
                                 ) from None
        func = getattr(value, "py_func", value)  # an accir.compile'd method
        if callable(func) and hasattr(func, "__code__"):
            return BoundMethod(func, self)
        return value

    def _key(self) -> tuple[Any, ...]:
        return (self.cls, tuple((k, type(v), _value_key(v)) for k, v in self.attrs))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrozenObject) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return f"object<{self.cls.__qualname__}>"


def _kind(value: Any) -> str:
    """'an array', 'a list', ... for messages."""
    if isinstance(value, np.ndarray):
        return "an array"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _freezable(value: Any) -> bool:
    if isinstance(value, (bool, int, float, complex, np.generic, np.dtype)):
        return True
    return isinstance(value, type) and issubclass(value, np.generic)


def _value_key(value: Any) -> Any:
    """Hashable identity of a frozen value in which NaN equals NaN and -0.0 differs from 0.0."""
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return np.asarray(value).tobytes()
    return value


_MISSING = object()


class StaticScope:
    """Looks names up the way the function would at run time: closure, globals, builtins."""

    def __init__(self, fn: Any):
        self.globals: dict[str, Any] = getattr(fn, "__globals__", {})
        code = getattr(fn, "__code__", None)
        cells = getattr(fn, "__closure__", None) or ()
        names = code.co_freevars if code else ()
        self.closure: dict[str, Any] = {}
        for name, cell in zip(names, cells, strict=False):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:  # empty cell: variable not yet bound
                continue

    def lookup(self, name: str) -> Any:
        """The value of a free name, or raise KeyError."""
        for table in (self.closure, self.globals):
            value = table.get(name, _MISSING)
            if value is not _MISSING:
                return value
        value = getattr(builtins, name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value
