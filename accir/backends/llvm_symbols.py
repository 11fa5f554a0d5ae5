"""Process objects that compiled code points at, as named external symbols.

Compiled entry points compare argument types with Python type objects and NumPy dtypes, raise
built-in exceptions, return None or accir's sentinels (MISMATCH, ALIASED) and read the thread
count. (They do not use CPython's own `PyExc_*` or `_Py_NoneStruct` symbols: other JITs in the
process, Numba's among them, register symbols of those names that point elsewhere.) Their addresses differ from one
process to the next, so code that embedded them as constants could not be cached on disk.
Instead the code refers to an external global named after the object (`accir.type.builtins.
float`, `accir.dtype.<f8`, ...) whose address, registered with `llvm.add_symbol`, is the
object's: the JIT relocates the reference when it loads the code, in this process or a later one.

Only a fixed set of objects can be referred to (`known_symbols`); a cached object file lists the
symbols it uses and is loaded only when this process can resolve every one of them.
"""

from __future__ import annotations

import builtins
import threading
from functools import cache

import llvmlite.binding as llvm
import llvmlite.ir as ll
import numpy as np

from accir.backends import llvm_types as lt
from accir.ir.types import PYBOOL, PYCOMPLEX, PYFLOAT, PYINT, STRONG_TYPES
from accir.runtime import num_threads_address

NUM_THREADS = "accir.rt.num_threads"
_registered: set[str] = set()
_lock = threading.Lock()


class Sentinel:
    """A unique object compiled code can return (it has a symbol of its own)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<accir.{self.name}>"


def symbol_of(obj: object) -> str:
    """The symbol naming `obj` in compiled code."""
    if isinstance(obj, Sentinel):
        return f"accir.sentinel.{obj.name}"
    if obj is None:
        return "accir.none"
    if isinstance(obj, type):
        return f"accir.type.{obj.__module__}.{obj.__qualname__}"
    if isinstance(obj, np.dtype):
        return f"accir.dtype.{obj.str}"
    raise TypeError(f"compiled code cannot refer to {obj!r}")


@cache
def known_symbols() -> dict[str, int]:
    """Every symbol compiled code may use, with its address in this process."""
    from accir.backends.llvm_cpu import ALIASED, MISMATCH

    objects: list[object] = [MISMATCH, ALIASED, np.ndarray, None, *_exception_types()]
    for t in (PYBOOL, PYINT, PYFLOAT, PYCOMPLEX, *STRONG_TYPES):
        objects.append(t.python_type())
        if not t.weak:
            objects.append(np.dtype(t.dtype))
    table = {symbol_of(obj): id(obj) for obj in objects}
    table[NUM_THREADS] = num_threads_address()
    return table


def _exception_types() -> list[type]:
    return [v for v in vars(builtins).values()
            if isinstance(v, type) and issubclass(v, BaseException)]


def register_symbols() -> None:
    """Tell the JIT where every known symbol is (once per process)."""
    with _lock:
        for name, address in known_symbols().items():
            if name not in _registered:
                llvm.add_symbol(name, address)
                _registered.add(name)


def object_ref(module: ll.Module, obj: object) -> ll.Value:
    """A pointer to `obj` in compiled code: the address of the external global named after it."""
    name = symbol_of(obj)
    if name not in known_symbols():
        raise TypeError(f"compiled code cannot refer to {obj!r}: it has no registered symbol")
    return _external(module, name, lt.I8)


def num_threads_ref(module: ll.Module) -> ll.Value:
    """A pointer to the i32 thread count that `accir.set_num_threads` changes."""
    return _external(module, NUM_THREADS, lt.I32)


def _external(module: ll.Module, name: str, ty: ll.Type) -> ll.GlobalVariable:
    gv = module.globals.get(name)
    if gv is None:
        gv = ll.GlobalVariable(module, ty, name)
        gv.linkage = "external"
    return gv


def used_symbols(llvm_ir: str) -> list[str]:
    """The known symbols a module's text refers to."""
    return sorted(name for name in known_symbols() if f'@"{name}"' in llvm_ir)
