"""A guarded entry point: checks, in native code, that the arguments have the types a
specialisation was compiled for, so a call can skip Python-level dispatch.

The guard compares exact type objects (`float`, `np.float32`, ...), and for arrays the dtype
object, the rank and the contiguity flags, classifying layouts exactly as the Python dispatcher
does (C if C-contiguous, else F if Fortran-contiguous, else A). Anything it does not recognise
(a subclass of ndarray, a dtype object that is equal but not the canonical one) returns the
MISMATCH sentinel, and the Python dispatcher takes over.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import llvmlite.ir as ll
import numpy as np

from accir.backends import llvm_types as lt
from accir.backends.llvm_symbols import object_ref
from accir.ir.nodes import Function
from accir.ir.types import PYINT, ArrayType, ScalarType

OB_TYPE = 8  # offsetof(PyObject, ob_type)
ARRAY_ND, ARRAY_DESCR, ARRAY_FLAGS = 24, 56, 64
NPY_C_CONTIGUOUS, NPY_F_CONTIGUOUS = 0x1, 0x2


def build_guard(module: ll.Module, fn: Function, target: ll.Function, name: str,
                keepalive: list[object], mismatch: object) -> ll.Function:
    """`PyObject *name(self, args, nargs)`: `target(self, args, nargs)` if every argument
    matches `fn`'s parameter types, else a new reference to `mismatch`."""
    guard = ll.Function(module, target.function_type, name=name)
    b = ll.IRBuilder(guard.append_basic_block("entry"))
    fail_bb = guard.append_basic_block("mismatch")
    self_, args, nargs = guard.args
    overflow = b.alloca(lt.I32, name="overflow")

    def check(condition: Callable[[], ll.Value]) -> None:
        """Branch to the mismatch block unless `condition` (emitted here) holds."""
        passed = guard.append_basic_block("checked")
        b.cbranch(condition(), passed, fail_bb)
        b.position_at_end(passed)

    check(lambda: b.icmp_signed("==", nargs, lt.int_const(len(fn.params))))
    for k, p in enumerate(fn.params):
        obj = b.load(b.gep(args, [lt.int_const(k)], source_etype=lt.PTR), typ=lt.PTR)
        for condition in _conditions(b, obj, p.type, keepalive):
            check(condition)
        if p.type == PYINT:  # a Python int beyond 64 bits: let the dispatcher explain
            check(functools.partial(_fits_i64, module, b, obj, overflow))
    b.ret(b.call(target, [self_, args, nargs], tail=True))
    b.position_at_end(fail_bb)
    keepalive.append(mismatch)
    sentinel = object_ref(module, mismatch)
    incref = lt.declare(module, "Py_IncRef", lt.VOID, [lt.PTR])
    b.call(incref, [sentinel])
    b.ret(sentinel)
    return guard


def _fits_i64(module: ll.Module, b: ll.IRBuilder, obj: ll.Value, overflow: ll.Value
              ) -> ll.Value:
    convert = lt.declare(module, "PyLong_AsLongLongAndOverflow", lt.I64, [lt.PTR, lt.PTR])
    b.call(convert, [obj, overflow])
    return b.icmp_signed("==", b.load(overflow, typ=lt.I32), lt.int_const(0, 32))


def _pointer(b: ll.IRBuilder, obj: object, keepalive: list[object]) -> ll.Value:
    keepalive.append(obj)
    return object_ref(b.module, obj)


def _field(b: ll.IRBuilder, obj: ll.Value, offset: int, ty: ll.Type) -> ll.Value:
    return b.load(b.gep(obj, [lt.int_const(offset)], source_etype=lt.I8), typ=ty)


def _conditions(b: ll.IRBuilder, obj: ll.Value, ty: object, keepalive: list[object]
                ) -> list[Callable[[], ll.Value]]:
    """Conditions, each emitted only after the previous one held, that `obj` has type `ty`."""

    def has_type(expected: object) -> Callable[[], ll.Value]:
        return lambda: b.icmp_unsigned("==", _field(b, obj, OB_TYPE, lt.PTR),
                                       _pointer(b, expected, keepalive))

    if isinstance(ty, ScalarType):
        return [has_type(ty.python_type())]
    assert isinstance(ty, ArrayType)
    dtype = np.dtype(ty.dtype.dtype)

    def same_dtype() -> ll.Value:
        descr = _field(b, obj, ARRAY_DESCR, lt.PTR)
        return b.icmp_unsigned("==", descr, _pointer(b, dtype, keepalive))

    def same_rank() -> ll.Value:
        nd = _field(b, obj, ARRAY_ND, lt.I32)
        return b.icmp_signed("==", nd, lt.int_const(ty.ndim, 32))

    return [has_type(np.ndarray), same_dtype, same_rank, lambda: _layout(b, obj, ty.layout)]


def _layout(b: ll.IRBuilder, obj: ll.Value, layout: str) -> ll.Value:
    flags = _field(b, obj, ARRAY_FLAGS, lt.I32)
    zero = lt.int_const(0, 32)
    c = b.icmp_unsigned("!=", b.and_(flags, lt.int_const(NPY_C_CONTIGUOUS, 32)), zero)
    f = b.icmp_unsigned("!=", b.and_(flags, lt.int_const(NPY_F_CONTIGUOUS, 32)), zero)
    if layout == "C":
        return c
    if layout == "F":
        return b.and_(b.not_(c), f)
    return b.and_(b.not_(c), b.not_(f))
