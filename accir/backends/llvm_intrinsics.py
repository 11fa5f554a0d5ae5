"""LLVM IR for intrinsic calls: CPython's `math` (with its error checks), NumPy ufuncs on
scalars, and Python builtins. See accir.ir.intrinsics for the semantics."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import llvmlite.ir as ll
import numpy as np

from accir.backends import llvm_types as lt
from accir.ir.intrinsics import INTRINSICS
from accir.ir.nodes import Const, Intrinsic
from accir.ir.types import I64 as I64_TYPE
from accir.ir.types import U64 as U64_TYPE
from accir.ir.types import ScalarType

if TYPE_CHECKING:
    from accir.backends.llvm_base import CodegenBase

# NumPy names whose C library function is spelled differently
_LIBM_NAMES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "power": "pow",
}
# Functions LLVM has intrinsics for (exact operations, no libm call)
_LLVM_INTRINSICS = {"sqrt", "floor", "ceil", "trunc", "rint", "fabs", "copysign"}


def _suffix(fty: ll.Type) -> str:
    return "f32" if fty == lt.F32 else "f64"


def libm(cg: CodegenBase, name: str, args: list[ll.Value]) -> ll.Value:
    """Call a C math function (or the matching LLVM intrinsic) on float arguments."""
    fty = args[0].type
    name = _LIBM_NAMES.get(name, name)
    if name in _LLVM_INTRINSICS:
        fn = cg.mc.intrinsic(f"llvm.{name}.{_suffix(fty)}", fty, [fty] * len(args))
    else:
        symbol = name + ("f" if fty == lt.F32 else "")
        fn = cg.mc.extern(symbol, fty, [fty] * len(args))
    return cg.builder.call(fn, args)


def emit_intrinsic(cg: CodegenBase, e: Intrinsic, args: list[ll.Value]) -> ll.Value:
    name = e.name
    assert name in INTRINSICS, name
    if name.startswith("math."):
        return math_call(cg, name[5:], args)
    if name.startswith("np."):
        return numpy_call(cg, name[3:], args, e)
    return builtin_call(cg, name, args, e)


# ---------------------------------------------------------------------- math


def math_call(cg: CodegenBase, name: str, args: list[ll.Value]) -> ll.Value:
    b = cg.builder
    x = args[0]
    if name in ("isnan", "isinf", "isfinite"):
        return float_predicate(cg, name, x)
    if name in ("floor", "ceil", "trunc"):
        return float_to_pyint(cg, libm(cg, name, [x]))
    if name == "degrees":
        return b.fmul(x, ll.Constant(lt.F64, 180.0 / math.pi))
    if name == "radians":
        return b.fmul(x, ll.Constant(lt.F64, math.pi / 180.0))
    if name == "log":
        return math_log(cg, args)
    if name == "pow":
        zero = ll.Constant(lt.F64, 0.0)
        y = args[1]
        cg.fail_if(b.and_(b.fcmp_ordered("==", x, zero),
                          b.and_(b.fcmp_ordered("<", y, zero), cg.is_finite(y))), "math-domain")
    result = libm(cg, name, args)
    check_math_result(cg, name, args, result)
    return result


def math_log(cg: CodegenBase, args: list[ll.Value]) -> ll.Value:
    b = cg.builder
    logs = []
    for a in args:
        r = libm(cg, "log", [a])
        check_math_result(cg, "log", [a], r)
        logs.append(r)
    if len(logs) == 1:
        return logs[0]
    cg.fail_if(b.fcmp_ordered("==", logs[1], ll.Constant(lt.F64, 0.0)), "float-div-zero")
    return b.fdiv(logs[0], logs[1])


def check_math_result(cg: CodegenBase, name: str, args: list[ll.Value], r: ll.Value
                      ) -> None:
    """CPython's math_1/math_2 checks: a NaN from non-NaN arguments is a domain error; an
    infinity from finite arguments is a range error (OverflowError) for functions that can
    overflow and a domain error for the rest."""
    b = cg.builder
    if name in ("atan2", "copysign", "fabs"):
        return
    r_nan = b.fcmp_unordered("uno", r, r)
    args_nan = [b.fcmp_unordered("uno", a, a) for a in args]
    any_nan = args_nan[0] if len(args_nan) == 1 else b.or_(*args_nan)
    cg.fail_if(b.and_(r_nan, b.not_(any_nan)), "math-domain")
    finite_args = [cg.is_finite(a) for a in args]
    all_finite = finite_args[0] if len(finite_args) == 1 else b.and_(*finite_args)
    r_inf = b.and_(b.not_(cg.is_finite(r)), b.not_(r_nan))
    overflow = b.and_(r_inf, all_finite)
    kind = "math-range" if INTRINSICS[f"math.{name}"].can_overflow else "math-domain"
    cg.fail_if(overflow, kind)


def float_predicate(cg: CodegenBase, name: str, x: ll.Value) -> ll.Value:
    b = cg.builder
    if name == "isnan":
        return b.fcmp_unordered("uno", x, x)
    if name == "isfinite":
        return cg.is_finite(x)
    fabs = libm(cg, "fabs", [x])
    return b.fcmp_ordered("==", fabs, ll.Constant(x.type, float("inf")))


def float_to_pyint(cg: CodegenBase, x: ll.Value) -> ll.Value:
    """Python's int() of an integral float: NaN and infinities raise, as does leaving i64."""
    b = cg.builder
    cg.fail_if(b.fcmp_unordered("uno", x, x), "nan-to-int")
    fabs = libm(cg, "fabs", [x])
    cg.fail_if(b.fcmp_ordered("==", fabs, ll.Constant(x.type, float("inf"))), "inf-to-int")
    cg.fail_if(b.fcmp_ordered(">=", fabs, ll.Constant(x.type, 2.0**63)), "int-range")
    return b.fptosi(x, lt.I64)


# ---------------------------------------------------------------------- numpy


def numpy_call(cg: CodegenBase, name: str, args: list[ll.Value], e: Intrinsic
               ) -> ll.Value:
    b = cg.builder
    t = e.args[0].type
    assert isinstance(t, ScalarType)
    x = args[0]
    if name == "abs":
        return absolute(cg, x, t)
    if name in ("isnan", "isinf", "isfinite"):
        return numpy_predicate(cg, name, x, t)
    if name == "conj":
        return conj(cg, x, t)
    if name == "negative":
        return cg.builder.fneg(x) if t.is_float else cg.builder.neg(x)
    if name == "square":
        return cg.binop("*", x, x, t)
    if name == "sign":
        return sign(cg, x, t)
    if name in ("minimum", "maximum", "fmin", "fmax"):
        return extreme(cg, name, args, t)
    if name == "power":
        return cg.binop("**", args[0], args[1], t)
    if name == "fmod" and not t.is_float:
        zero = ll.Constant(x.type, 0)
        is_zero = b.icmp_unsigned("==", args[1], zero)
        divisor = b.select(is_zero, ll.Constant(x.type, 1), args[1])
        rem = b.urem(x, divisor) if t.kind == "u" else b.srem(x, divisor)
        return b.select(is_zero, zero, rem)
    if name == "fmod":
        return b.frem(args[0], args[1])
    if name == "reciprocal":
        return b.fdiv(ll.Constant(x.type, 1.0), x)
    return libm(cg, name, args)


def absolute(cg: CodegenBase, x: ll.Value, t: ScalarType) -> ll.Value:
    b = cg.builder
    if t.is_complex:
        re, im = cg.parts(x)
        return libm(cg, "hypot", [re, im])
    if t.is_float:
        return libm(cg, "fabs", [x])
    if t.is_bool or t.kind == "u":
        return x
    return b.select(b.icmp_signed("<", x, ll.Constant(x.type, 0)), b.neg(x), x)


def numpy_predicate(cg: CodegenBase, name: str, x: ll.Value, t: ScalarType) -> ll.Value:
    b = cg.builder
    if t.is_complex:
        re, im = cg.parts(x)
        pr, pi = float_predicate(cg, name, re), float_predicate(cg, name, im)
        return b.and_(pr, pi) if name == "isfinite" else b.or_(pr, pi)
    if t.is_float:
        return float_predicate(cg, name, x)
    return ll.Constant(lt.I1, int(name == "isfinite"))


def conj(cg: CodegenBase, x: ll.Value, t: ScalarType) -> ll.Value:
    if not t.is_complex:
        return x
    re, im = cg.parts(x)
    return cg.make_complex(t, re, cg.builder.fneg(im))


def sign(cg: CodegenBase, x: ll.Value, t: ScalarType) -> ll.Value:
    b = cg.builder
    if t.is_float:
        one, zero = ll.Constant(x.type, 1.0), ll.Constant(x.type, 0.0)
        neg = b.select(b.fcmp_ordered("<", x, zero), ll.Constant(x.type, -1.0),
                       b.select(b.fcmp_ordered("==", x, zero), zero, x))
        return b.select(b.fcmp_ordered(">", x, zero), one, neg)
    zero = ll.Constant(x.type, 0)
    pos = b.zext(b.icmp_signed(">", x, zero), x.type)
    if t.kind == "u" or t.is_bool:
        return pos if not t.is_bool else x
    return b.sub(pos, b.zext(b.icmp_signed("<", x, zero), x.type))


def extreme(cg: CodegenBase, name: str, args: list[ll.Value], t: ScalarType) -> ll.Value:
    b = cg.builder
    x, y = args
    smaller = name in ("minimum", "fmin")
    if t.is_float:
        if name in ("fmin", "fmax"):
            fty = x.type
            fn = cg.mc.intrinsic(f"llvm.{'minnum' if smaller else 'maxnum'}.{_suffix(fty)}",
                                 fty, [fty, fty])
            return b.call(fn, [x, y])
        keep_x = b.or_(b.fcmp_ordered("<=" if smaller else ">=", x, y),
                       b.fcmp_unordered("uno", x, x))
        return b.select(keep_x, x, y)
    op = "<=" if smaller else ">="
    return b.select(cg.compare(op, x, y, t), x, y)


# ---------------------------------------------------------------------- builtins


def builtin_call(cg: CodegenBase, name: str, args: list[ll.Value], e: Intrinsic
                 ) -> ll.Value:
    b = cg.builder
    t = e.args[0].type
    assert isinstance(t, ScalarType)
    if name == "abs":
        return absolute(cg, args[0], t)
    if name in ("min", "max"):
        best = args[0]
        for value in args[1:]:
            better = cg.compare("<" if name == "min" else ">", value, best, t)
            best = b.select(better, value, best)
        return best
    if name == "int":
        return float_to_pyint(cg, libm(cg, "trunc", [args[0]]))
    if name == "complex":
        return cg.make_complex(e.ty, args[0], args[1])
    if name in ("real", "imag"):
        return b.extract_value(args[0], 0 if name == "real" else 1)
    if name == "conj":
        return conj(cg, args[0], t)
    if name == "checked_int":
        return checked_int(cg, args[0], t, e.ty)
    if name == "int_truediv":
        x, y = b.sitofp(args[0], lt.F64), b.sitofp(args[1], lt.F64)
        cg.fail_if(b.icmp_signed("==", args[1], lt.int_const(0)), "div-zero")
        return b.fdiv(x, y)
    if name == "complex_ipow":
        power = e.args[1]
        assert isinstance(power, Const)
        return complex_ipow(cg, args[0], int(power.value), e.ty)  # type: ignore[arg-type]
    raise NotImplementedError(name)


def complex_ipow(cg: CodegenBase, z: ll.Value, n: int, ty: ScalarType) -> ll.Value:
    """CPython's c_powi (binary powering starting from 1) for Python complex, NumPy's
    npy_cpow (z, z*z, z*z*z for n <= 3, then binary powering) for NumPy complex."""
    def mul(a: ll.Value, b: ll.Value) -> ll.Value:
        return cg.binop("*", a, b, ty)

    m = abs(n)
    one = lt.const(ty, 1)
    if not ty.weak and m <= 3:
        result = one if m == 0 else z if m == 1 else mul(z, z) if m == 2 else mul(mul(z, z), z)
    else:
        result, square, mask = one, z, 1
        while m >= mask:
            if m & mask:
                result = mul(result, square)
            mask <<= 1
            if m >= mask:
                square = mul(square, square)
    return cg.binop("/", one, result, ty) if n < 0 else result


def checked_int(cg: CodegenBase, x: ll.Value, src: ScalarType, ty: ScalarType) -> ll.Value:
    """A number into a NumPy integer type through a Python int, as NumPy converts Python ints
    and array assignments: OverflowError unless it fits (a float is truncated first; NaN and
    infinities raise as int() does)."""
    b = cg.builder
    info = np.iinfo(ty.dtype)
    lo, hi = int(info.min), int(info.max)
    if src.is_float:
        x = libm(cg, "trunc", [x])
        cg.fail_if(b.fcmp_unordered("uno", x, x), "nan-to-int")
        cg.fail_if(b.not_(cg.is_finite(x)), "inf-to-int")
        # lo and hi + 1 are powers of two (or 0): exact in any float type
        outside = b.or_(b.fcmp_ordered("<", x, ll.Constant(x.type, float(lo))),
                        b.fcmp_ordered(">=", x, ll.Constant(x.type, float(hi + 1))))
        value = cg.convert(x, src, I64_TYPE)
        cg.fail_if(outside, f"int-bounds-{ty.dtype}", value)
        return cg.convert(x, src, ty)
    wide = cg.convert(x, src, U64_TYPE if src.kind == "u" else I64_TYPE)
    if src.kind == "u":  # compare as unsigned: above the target's maximum?
        outside = b.icmp_unsigned(">", wide, lt.int_const(hi))
    else:
        outside = b.icmp_signed("<", wide, lt.int_const(max(lo, -(2**63))))
        if hi < 2**63 - 1:
            outside = b.or_(outside, b.icmp_signed(">", wide, lt.int_const(hi)))
        if ty.kind == "u" and lo == 0:
            outside = b.or_(outside, b.icmp_signed("<", wide, lt.int_const(0)))
    cg.fail_if(outside, f"int-bounds-{ty.dtype}", wide)
    return b.trunc(wide, lt.value_type(ty)) if ty.bits < 64 else wide
