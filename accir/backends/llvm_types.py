"""LLVM types for IR types, and constants."""

from __future__ import annotations

import llvmlite.ir as ll

from accir.ir.types import ScalarType

I1 = ll.IntType(1)
I8 = ll.IntType(8)
I32 = ll.IntType(32)
I64 = ll.IntType(64)
F32 = ll.FloatType()
F64 = ll.DoubleType()
PTR = ll.PointerType()
VOID = ll.VoidType()
C64 = ll.LiteralStructType([F32, F32])
C128 = ll.LiteralStructType([F64, F64])
# {i32 code, i64 arg0, i64 arg1, i64 arg2}: see accir.backends.errors
ERROR_RECORD = ll.LiteralStructType([I32, I64, I64, I64])


def value_type(t: ScalarType) -> ll.Type:
    """The LLVM type of a scalar value in registers (bool is i1)."""
    if t.is_bool:
        return I1
    if t.is_int:
        return ll.IntType(t.bits)
    if t.is_float:
        return F32 if t.bits == 32 else F64
    return C64 if t.storage.bits == 64 else C128


def memory_type(t: ScalarType) -> ll.Type:
    """The LLVM type of an array element (bool is one byte)."""
    return I8 if t.is_bool else value_type(t)


def component_type(t: ScalarType) -> ll.Type:
    """The float type of a complex type's parts."""
    return F32 if t.storage.bits == 64 else F64


def const(t: ScalarType, value: bool | int | float | complex) -> ll.Constant:
    lt = value_type(t)
    if t.is_complex:
        c = complex(value)
        part = component_type(t)
        return ll.Constant(lt, [ll.Constant(part, c.real), ll.Constant(part, c.imag)])
    if t.is_float:
        return ll.Constant(lt, float(value))  # type: ignore[arg-type]
    if t.is_bool:
        return ll.Constant(I1, int(bool(value)))
    return ll.Constant(lt, int(value) & ((1 << t.bits) - 1))  # type: ignore[arg-type]


def int_const(value: int, bits: int = 64) -> ll.Constant:
    return ll.Constant(ll.IntType(bits), value)


def declare(module: ll.Module, name: str, ret: ll.Type, args: list[ll.Type],
            var_arg: bool = False) -> ll.Function:
    """The function `name` of `module`, declared (as external) on first use."""
    existing = module.globals.get(name)
    if existing is not None:
        return existing
    return ll.Function(module, ll.FunctionType(ret, args, var_arg=var_arg), name=name)
