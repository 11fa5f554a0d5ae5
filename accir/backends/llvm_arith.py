"""Arithmetic with CPython's and NumPy's semantics, in LLVM IR (a mixin of FunctionCodegen).

Weak (Python) types follow Python: integer and float division by zero raise ZeroDivisionError,
`//` and `%` round toward negative infinity, a negative shift count raises. Strong (NumPy) types
follow NumPy: integer division by zero gives 0, float division by zero gives inf/nan, shifts past
the width give 0 (or -1). Float `//` and `%` use CPython's fmod-based algorithm, which NumPy shares.
"""

from __future__ import annotations

import llvmlite.ir as ll

from accir.backends import llvm_types as lt
from accir.backends.llvm_base import CodegenBase
from accir.ir.types import ScalarType

_INT_OPS = {"+": "add", "-": "sub", "*": "mul", "&": "and_", "|": "or_", "^": "xor"}
_FLOAT_OPS = {"+": "fadd", "-": "fsub", "*": "fmul"}


class ArithCodegen(CodegenBase):
    def binop(self, op: str, a: ll.Value, b: ll.Value, ty: ScalarType
              ) -> ll.Value:
        if ty.is_complex:
            return self.complex_binop(op, a, b, ty)
        if ty.is_float:
            return self.float_binop(op, a, b, ty)
        if op in _INT_OPS:
            return getattr(self.builder, _INT_OPS[op])(a, b)
        if op in ("//", "%"):
            return self.int_divmod(op, a, b, ty)
        if op in ("<<", ">>"):
            return self.shift(op, a, b, ty)
        if op == "**":
            return self.int_power(a, b, ty)
        raise NotImplementedError(f"{op} on {ty}")

    # ------------------------------------------------------------------ integers

    def int_divmod(self, op: str, a: ll.Value, b: ll.Value, ty: ScalarType
                   ) -> ll.Value:
        bld = self.builder
        zero = ll.Constant(a.type, 0)
        is_zero = bld.icmp_unsigned("==", b, zero)
        if ty.weak:
            self.fail_if(is_zero, "int-div-zero" if op == "//" else "int-mod-zero")
        # Never divide by zero, nor INT_MIN by -1 (both trap on x86): divide by 1 instead.
        unsafe = is_zero
        if ty.kind == "i":
            minus_one = bld.icmp_signed("==", b, ll.Constant(a.type, -1))
            unsafe = bld.or_(is_zero, minus_one)
        divisor = bld.select(unsafe, ll.Constant(a.type, 1), b)
        if ty.kind == "u":
            q, r = bld.udiv(a, divisor), bld.urem(a, divisor)
        else:
            q, r = bld.sdiv(a, divisor), bld.srem(a, divisor)
            # floor: when the remainder is non-zero and its sign differs from the divisor's
            adjust = bld.and_(
                bld.icmp_signed("!=", r, zero),
                bld.icmp_signed("<", bld.xor(r, divisor), zero),
            )
            q = bld.select(adjust, bld.sub(q, ll.Constant(a.type, 1)), q)
            r = bld.select(adjust, bld.add(r, divisor), r)
            q = bld.select(minus_one, bld.neg(a), q)
            r = bld.select(minus_one, zero, r)
        result = q if op == "//" else r
        return bld.select(is_zero, zero, result)

    def shift(self, op: str, a: ll.Value, b: ll.Value, ty: ScalarType
              ) -> ll.Value:
        bld = self.builder
        width = ll.Constant(a.type, ty.bits)
        zero = ll.Constant(a.type, 0)
        if ty.weak:
            self.fail_if(bld.icmp_signed("<", b, zero), "negative-shift")
        too_far = bld.icmp_unsigned(">=", b, width)
        safe = bld.select(too_far, zero, b)
        if op == "<<":
            return bld.select(too_far, zero, bld.shl(a, safe))
        if ty.kind == "u":
            return bld.select(too_far, zero, bld.lshr(a, safe))
        sign = bld.ashr(a, ll.Constant(a.type, ty.bits - 1))
        return bld.select(too_far, sign, bld.ashr(a, safe))

    def int_power(self, a: ll.Value, b: ll.Value, ty: ScalarType) -> ll.Value:
        bld = self.builder
        zero = ll.Constant(a.type, 0)
        if ty.kind == "i":
            kind = "python-neg-pow" if ty.weak else "numpy-neg-pow"
            self.fail_if(bld.icmp_signed("<", b, zero), kind)
        fn = self.power_helper(a.type)
        return bld.call(fn, [a, b])

    def power_helper(self, ity: ll.IntType) -> ll.Function:
        """`i{n} @accir.ipow.i{n}(base, exp)`: exponentiation by squaring, wrapping."""
        name = f"accir.ipow.i{ity.width}"
        existing = self.mc.ll.globals.get(name)
        if existing is not None:
            return existing
        fn = ll.Function(self.mc.ll, ll.FunctionType(ity, [ity, ity]), name=name)
        fn.linkage = "internal"
        base, exp = fn.args
        entry, loop, done = (fn.append_basic_block(n) for n in ("entry", "loop", "done"))
        b = ll.IRBuilder(entry)
        b.branch(loop)
        b.position_at_end(loop)
        result = b.phi(ity)
        cur = b.phi(ity)
        e = b.phi(ity)
        odd = b.trunc(e, lt.I1)
        new_result = b.select(odd, b.mul(result, cur), result)
        new_cur = b.mul(cur, cur)
        new_e = b.lshr(e, ll.Constant(ity, 1))
        result.add_incoming(ll.Constant(ity, 1), entry)
        result.add_incoming(new_result, loop)
        cur.add_incoming(base, entry)
        cur.add_incoming(new_cur, loop)
        e.add_incoming(exp, entry)
        e.add_incoming(new_e, loop)
        b.cbranch(b.icmp_unsigned("==", new_e, ll.Constant(ity, 0)), done, loop)
        b.position_at_end(done)
        final = b.phi(ity)
        final.add_incoming(new_result, loop)
        b.ret(final)
        return fn

    # ------------------------------------------------------------------ floats

    def float_binop(self, op: str, a: ll.Value, b: ll.Value, ty: ScalarType
                    ) -> ll.Value:
        bld = self.builder
        if op in _FLOAT_OPS:
            return getattr(bld, _FLOAT_OPS[op])(a, b)
        zero = ll.Constant(a.type, 0.0)
        if op == "/":
            if ty.weak:
                self.fail_if(bld.fcmp_ordered("==", b, zero), "float-div-zero")
            return bld.fdiv(a, b)
        if op in ("//", "%"):
            if ty.weak:
                kind = "float-floordiv-zero" if op == "//" else "float-mod-zero"
                self.fail_if(bld.fcmp_ordered("==", b, zero), kind)
            return self.float_divmod(op, a, b)
        if op == "**":
            return self.float_power(a, b, ty)
        raise NotImplementedError(f"{op} on {ty}")

    def float_divmod(self, op: str, a: ll.Value, b: ll.Value) -> ll.Value:
        """CPython's float_divmod (NumPy's npy_divmod is the same algorithm)."""
        bld = self.builder
        fty = a.type
        zero = ll.Constant(fty, 0.0)
        mod = bld.frem(a, b)
        div = bld.fdiv(bld.fsub(a, mod), b)
        mod_nonzero = bld.fcmp_unordered("!=", mod, zero)
        signs_differ = bld.xor(bld.fcmp_ordered("<", b, zero), bld.fcmp_ordered("<", mod, zero))
        fix = bld.and_(mod_nonzero, signs_differ)
        mod_fixed = bld.select(fix, bld.fadd(mod, b), mod)
        div_fixed = bld.select(fix, bld.fsub(div, ll.Constant(fty, 1.0)), div)
        copysign = self.mc.intrinsic(f"llvm.copysign.{_suffix(fty)}", fty, [fty, fty])
        mod_result = bld.select(mod_nonzero, mod_fixed, bld.call(copysign, [zero, b]))
        if op == "%":
            return bld.select(bld.fcmp_ordered("==", b, zero), mod, mod_result)
        floor = self.mc.intrinsic(f"llvm.floor.{_suffix(fty)}", fty, [fty])
        floordiv = bld.call(floor, [div_fixed])
        round_up = bld.fcmp_ordered(">", bld.fsub(div_fixed, floordiv), ll.Constant(fty, 0.5))
        floordiv = bld.select(round_up, bld.fadd(floordiv, ll.Constant(fty, 1.0)), floordiv)
        nonzero_div = bld.fcmp_unordered("!=", div_fixed, zero)
        signed_zero = bld.call(copysign, [zero, bld.fdiv(a, b)])
        result = bld.select(nonzero_div, floordiv, signed_zero)
        return bld.select(bld.fcmp_ordered("==", b, zero), bld.fdiv(a, b), result)

    def float_power(self, a: ll.Value, b: ll.Value, ty: ScalarType
                    ) -> ll.Value:
        bld = self.builder
        fty = a.type
        pow_fn = self.mc.intrinsic(f"llvm.pow.{_suffix(fty)}", fty, [fty, fty])
        result = bld.call(pow_fn, [a, b])
        if not ty.weak:
            return result
        zero = ll.Constant(fty, 0.0)
        self.fail_if(
            bld.and_(bld.fcmp_ordered("==", a, zero), bld.fcmp_ordered("<", b, zero)),
            "zero-neg-pow",
        )
        # Python gives a complex number for a negative base and a non-integral exponent.
        floor = self.mc.intrinsic(f"llvm.floor.{_suffix(fty)}", fty, [fty])
        fractional = bld.fcmp_ordered("!=", bld.call(floor, [b]), b)
        finite_b = self.is_finite(b)
        self.fail_if(
            bld.and_(bld.and_(bld.fcmp_ordered("<", a, zero), fractional), finite_b),
            "complex-pow",
        )
        overflow = bld.and_(bld.and_(self.is_finite(a), finite_b), bld.not_(self.is_finite(
            result)))
        self.fail_if(bld.and_(overflow, bld.fcmp_ordered("==", result, result)), "pow-range")
        return result

    def is_finite(self, x: ll.Value) -> ll.Value:
        fabs = self.mc.intrinsic(f"llvm.fabs.{_suffix(x.type)}", x.type, [x.type])
        return self.builder.fcmp_ordered("<", self.builder.call(fabs, [x]),
                                         ll.Constant(x.type, float("inf")))

    # ------------------------------------------------------------------ complex

    def parts(self, z: ll.Value) -> tuple[ll.Value, ll.Value]:
        return self.builder.extract_value(z, 0), self.builder.extract_value(z, 1)

    def make_complex(self, ty: ScalarType, re: ll.Value, im: ll.Value
                     ) -> ll.Value:
        z = ll.Constant(lt.value_type(ty), ll.Undefined)
        z = self.builder.insert_value(z, re, 0)
        return self.builder.insert_value(z, im, 1)

    def complex_binop(self, op: str, a: ll.Value, b: ll.Value, ty: ScalarType
                      ) -> ll.Value:
        bld = self.builder
        (ar, ai), (br, bi) = self.parts(a), self.parts(b)
        if op in ("+", "-"):
            f = bld.fadd if op == "+" else bld.fsub
            return self.make_complex(ty, f(ar, br), f(ai, bi))
        if op == "*":
            re = bld.fsub(bld.fmul(ar, br), bld.fmul(ai, bi))
            im = bld.fadd(bld.fmul(ar, bi), bld.fmul(ai, br))
            return self.make_complex(ty, re, im)
        if op == "/":
            return self.complex_div(ar, ai, br, bi, ty)
        raise NotImplementedError(f"{op} on {ty}")

    def complex_div(self, ar: ll.Value, ai: ll.Value, br: ll.Value,
                    bi: ll.Value, ty: ScalarType) -> ll.Value:
        """Smith's algorithm as CPython (_Py_c_quot) and NumPy write it."""
        bld = self.builder
        fty = ar.type
        fabs = self.mc.intrinsic(f"llvm.fabs.{_suffix(fty)}", fty, [fty])
        abs_br, abs_bi = bld.call(fabs, [br]), bld.call(fabs, [bi])
        zero = ll.Constant(fty, 0.0)
        by_zero = bld.and_(bld.fcmp_ordered("==", br, zero), bld.fcmp_ordered("==", bi, zero))
        if ty.weak:
            self.fail_if(by_zero, "complex-div-zero")
        real_big = bld.fcmp_ordered(">=", abs_br, abs_bi)
        # |br| >= |bi|: ratio = bi/br ; else ratio = br/bi
        ratio = bld.select(real_big, bld.fdiv(bi, br), bld.fdiv(br, bi))
        denom = bld.select(real_big, bld.fadd(br, bld.fmul(bi, ratio)),
                           bld.fadd(bi, bld.fmul(br, ratio)))
        re_num = bld.select(real_big, bld.fadd(ar, bld.fmul(ai, ratio)),
                            bld.fadd(bld.fmul(ar, ratio), ai))
        im_num = bld.select(real_big, bld.fsub(ai, bld.fmul(ar, ratio)),
                            bld.fsub(bld.fmul(ai, ratio), ar))
        if ty.weak:
            re, im = bld.fdiv(re_num, denom), bld.fdiv(im_num, denom)
        else:
            scale = bld.fdiv(ll.Constant(fty, 1.0), denom)
            re, im = bld.fmul(re_num, scale), bld.fmul(im_num, scale)
            # NumPy: dividing by a complex zero divides each part by +0.0 (inf or nan)
            re = bld.select(by_zero, bld.fdiv(ar, abs_br), re)
            im = bld.select(by_zero, bld.fdiv(ai, abs_br), im)
        return self.make_complex(ty, re, im)

    # ------------------------------------------------------------------ conversions

    def convert(self, v: ll.Value, src: ScalarType, dst: ScalarType
                ) -> ll.Value:
        """NumPy astype semantics between any two scalar types."""
        b = self.builder
        if src.storage == dst.storage:
            return v
        if dst.is_complex:
            part = lt.component_type(dst)
            if src.is_complex:
                re, im = self.parts(v)
                return self.make_complex(dst, self.float_resize(re, part),
                                         self.float_resize(im, part))
            return self.make_complex(dst, self.convert(v, src, _float_of(part)),
                                     ll.Constant(part, 0.0))
        if src.is_complex:
            re, _ = self.parts(v)
            return self.convert(re, _float_of(re.type), dst)
        if dst.is_bool:
            if src.is_float:
                return b.fcmp_unordered("!=", v, ll.Constant(v.type, 0.0))
            return b.icmp_unsigned("!=", v, ll.Constant(v.type, 0))
        target = lt.value_type(dst)
        if src.is_bool:
            return b.uitofp(v, target) if dst.is_float else b.zext(v, target)
        if dst.is_float:
            if src.is_float:
                return self.float_resize(v, target)
            return b.uitofp(v, target) if src.kind in "ub" else b.sitofp(v, target)
        if src.is_float:
            return self.float_to_int(v, dst)
        if src.bits < dst.bits:
            return b.zext(v, target) if src.kind in "ub" else b.sext(v, target)
        if src.bits > dst.bits:
            return b.trunc(v, target)
        return v

    def float_to_int(self, v: ll.Value, dst: ScalarType) -> ll.Value:
        """NumPy's float-to-integer casts, which are the host's C casts: on x86-64 the
        conversion goes through a 32-bit (targets narrower than 32 bits) or 64-bit integer,
        NaN and out-of-range values give that integer's minimum, and the result wraps."""
        b = self.builder
        target = lt.value_type(dst)
        if dst.kind == "u" and dst.bits == 64:  # values >= 2**63 are converted shifted down
            big = b.fcmp_ordered(">=", v, ll.Constant(v.type, 2.0**63))
            shifted = b.fsub(v, ll.Constant(v.type, 2.0**63))
            high = b.xor(self.truncating_convert(shifted, 64), lt.int_const(-(2**63)))
            return b.select(big, high, self.truncating_convert(v, 64))
        via = 64 if dst.bits >= 32 and (dst.kind == "u" or dst.bits == 64) else 32
        result = self.truncating_convert(v, via)
        return b.trunc(result, target) if dst.bits < via else result

    def truncating_convert(self, v: ll.Value, bits: int) -> ll.Value:
        """cvttsd2si: truncate toward zero; NaN or out of range gives the minimum int."""
        b = self.builder
        ity = ll.IntType(bits)
        sat = self.mc.intrinsic(f"llvm.fptosi.sat.i{bits}.{_suffix(v.type)}", ity, [v.type])
        limit = float(2 ** (bits - 1))
        in_range = b.and_(b.fcmp_ordered(">=", v, ll.Constant(v.type, -limit)),
                          b.fcmp_ordered("<", v, ll.Constant(v.type, limit)))
        return b.select(in_range, b.call(sat, [v]), ll.Constant(ity, -(2 ** (bits - 1))))

    def float_resize(self, v: ll.Value, target: ll.Type) -> ll.Value:
        if v.type == target:
            return v
        if target == lt.F64:
            return self.builder.fpext(v, target)
        return self.builder.fptrunc(v, target)


def _suffix(fty: ll.Type) -> str:
    return "f32" if fty == lt.F32 else "f64"


def _float_of(fty: ll.Type) -> ScalarType:
    from accir.ir.types import F32, F64

    return F32 if fty == lt.F32 else F64
