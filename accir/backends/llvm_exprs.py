"""LLVM IR generation for expressions (a mixin of FunctionCodegen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import llvmlite.ir as ll
from llvmlite.ir.instructions import StoreAtomicInstr

from accir.backends import llvm_types as lt
from accir.backends.llvm_arith import ArithCodegen
from accir.ir.intrinsics import deferred_conversion
from accir.ir.nodes import (
    BinOp,
    Call,
    Cast,
    Compare,
    Const,
    Dim,
    Expr,
    Intrinsic,
    Load,
    Logical,
    Select,
    UnaryOp,
    Var,
)
from accir.ir.types import ArrayType, ScalarType

if TYPE_CHECKING:
    from accir.backends.llvm_codegen import ArraySlot


class ExprCodegen(ArithCodegen):
    def expr(self, e: Expr) -> ll.Value:
        return getattr(self, "expr_" + type(e).__name__)(e)

    def expr_Const(self, e: Const) -> ll.Value:
        return lt.const(e.ty, e.value)

    def expr_Var(self, e: Var) -> ll.Value:
        assert isinstance(e.type, ScalarType), f"array {e.name} used as a value"
        return self.builder.load(self.scalars[e.name])

    def expr_Dim(self, e: Dim) -> ll.Value:
        return self.builder.load(self.arrays[e.array.name].shape[e.axis])

    def expr_Load(self, e: Load) -> ll.Value:
        slot = self.arrays[e.array.name]
        ptr = self.element_ptr(slot, e.indices, e.checked)
        dtype = slot.type.dtype
        if getattr(self, "atomic_access", False):  # acc atomic read
            value = self.builder.load_atomic(ptr, "monotonic", dtype.dtype.itemsize,
                                             typ=lt.memory_type(dtype))
        else:
            value = self.builder.load(ptr, typ=lt.memory_type(dtype))
        if dtype.is_bool:
            return self.builder.icmp_unsigned("!=", value, ll.Constant(lt.I8, 0))
        return value

    def store_element(self, dtype: ScalarType, value: ll.Value, ptr: ll.Value
                      ) -> None:
        if dtype.is_bool:
            value = self.builder.zext(value, lt.I8)
        if getattr(self, "atomic_access", False):  # acc atomic write
            # (IRBuilder.store_atomic cannot take an opaque pointer)
            instr = StoreAtomicInstr(self.builder.block, value, ptr, "monotonic",
                                     dtype.dtype.itemsize)
            self.builder._insert(instr)
        else:
            self.builder.store(value, ptr)

    def element_ptr(
        self, slot: ArraySlot, indices: tuple[Expr, ...], checked: bool
    ) -> ll.Value:
        b = self.builder
        values = [self.expr(i) for i in indices]
        shape = [b.load(s) for s in slot.shape]
        if checked:
            values = [self.checked_index(v, n, k) for k, (v, n) in enumerate(
                zip(values, shape, strict=True))]
        etype = lt.memory_type(slot.type.dtype)
        data = b.load(slot.data)
        layout = slot.type.layout
        if layout == "C" or (layout == "F" and slot.type.ndim <= 1):
            return b.gep(data, [horner(b, values, shape)], source_etype=etype, inbounds=True)
        if layout == "F":
            rev = list(reversed(values)), list(reversed(shape))
            return b.gep(data, [horner(b, *rev)], source_etype=etype, inbounds=True)
        offset = lt.int_const(0)
        for v, stride in zip(values, slot.strides, strict=True):
            offset = b.add(offset, b.mul(v, b.load(stride)))
        return b.gep(data, [offset], source_etype=lt.I8, inbounds=True)

    def checked_index(self, index: ll.Value, size: ll.Value, axis: int
                      ) -> ll.Value:
        """Python indexing: wrap a negative index once, raise IndexError if out of range."""
        b = self.builder
        negative = b.icmp_signed("<", index, lt.int_const(0))
        wrapped = b.select(negative, b.add(index, size), index)
        self.fail_if(b.icmp_unsigned(">=", wrapped, size), "index", index, lt.int_const(axis),
                     size)
        return wrapped

    # ------------------------------------------------------------------ operators

    def expr_BinOp(self, e: BinOp) -> ll.Value:
        ty = e.type
        assert isinstance(ty, ScalarType)
        (lhs, lhs_conversion), (rhs, rhs_conversion) = (deferred_conversion(e.lhs),
                                                        deferred_conversion(e.rhs))
        a, b = self.expr(lhs), self.expr(rhs)  # both operands first, then any conversion
        return self.binop(e.op, self.converted(a, lhs_conversion),
                          self.converted(b, rhs_conversion), ty)

    def converted(self, value: ll.Value, conversion: Intrinsic | None) -> ll.Value:
        if conversion is None:
            return value
        from accir.backends.llvm_intrinsics import checked_int

        source = conversion.args[0].type
        assert isinstance(source, ScalarType)
        return checked_int(self, value, source, conversion.ty)

    def expr_UnaryOp(self, e: UnaryOp) -> ll.Value:
        b = self.builder
        value = self.expr(e.operand)
        ty = e.operand.type
        assert isinstance(ty, ScalarType)
        if e.op == "+":
            return value
        if e.op in ("not", "~") and ty.is_bool:
            return b.xor(value, ll.Constant(lt.I1, 1))
        if e.op == "~":
            return b.xor(value, ll.Constant(value.type, -1))
        if ty.is_complex:
            re, im = self.parts(value)
            return self.make_complex(ty, b.fneg(re), b.fneg(im))
        return b.fneg(value) if ty.is_float else b.neg(value)

    def expr_Compare(self, e: Compare) -> ll.Value:
        ty = e.lhs.type
        assert isinstance(ty, ScalarType)
        return self.compare(e.op, self.expr(e.lhs), self.expr(e.rhs), ty)

    def compare(self, op: str, lhs: ll.Value, rhs: ll.Value, ty: ScalarType
                ) -> ll.Value:
        b = self.builder
        if ty.is_complex:
            (lr, li), (rr, ri) = self.parts(lhs), self.parts(rhs)
            if op == "==":
                return b.and_(b.fcmp_ordered("==", lr, rr), b.fcmp_ordered("==", li, ri))
            if op == "!=":
                return b.or_(b.fcmp_unordered("!=", lr, rr), b.fcmp_unordered("!=", li, ri))
            # NumPy orders complex numbers lexicographically: real parts, then imaginary
            return b.or_(b.fcmp_ordered(op[0], lr, rr),
                         b.and_(b.fcmp_ordered("==", lr, rr), b.fcmp_ordered(op, li, ri)))
        if ty.is_float:
            if op == "!=":
                return b.fcmp_unordered("!=", lhs, rhs)
            return b.fcmp_ordered(op, lhs, rhs)
        if ty.kind == "u" or ty.is_bool:
            return b.icmp_unsigned(op, lhs, rhs)
        return b.icmp_signed(op, lhs, rhs)

    def expr_Logical(self, e: Logical) -> ll.Value:
        return self.lazy_choice(
            self.expr(e.lhs),
            lambda: self.expr(e.rhs),
            None,
            short_circuit=e.op,
        )

    def expr_Select(self, e: Select) -> ll.Value:
        return self.lazy_choice(
            self.expr(e.cond), lambda: self.expr(e.then), lambda: self.expr(e.orelse)
        )

    def lazy_choice(self, cond: ll.Value, then, orelse,
                    short_circuit: str | None = None) -> ll.Value:
        """Evaluate only the chosen branch; `and`/`or` reuse the condition as the other value."""
        b = self.builder
        then_bb = self.llfn.append_basic_block("sel.then")
        else_bb = self.llfn.append_basic_block("sel.else")
        merge = self.llfn.append_basic_block("sel.end")
        if short_circuit == "or":
            b.cbranch(cond, else_bb, then_bb)  # true: keep cond; false: evaluate rhs
        else:
            b.cbranch(cond, then_bb, else_bb)
        b.position_at_end(then_bb)
        then_value = then()
        then_end = b.block
        b.branch(merge)
        b.position_at_end(else_bb)
        else_value = orelse() if orelse is not None else cond
        else_end = b.block
        b.branch(merge)
        b.position_at_end(merge)
        phi = b.phi(then_value.type)
        phi.add_incoming(then_value, then_end)
        phi.add_incoming(else_value, else_end)
        return phi

    def expr_Cast(self, e: Cast) -> ll.Value:
        src = e.value.type
        assert isinstance(src, ScalarType)
        return self.convert(self.expr(e.value), src, e.ty)

    def expr_Intrinsic(self, e: Intrinsic) -> ll.Value:
        from accir.backends.llvm_intrinsics import emit_intrinsic

        return emit_intrinsic(self, e, [self.expr(a) for a in e.args])

    def expr_Call(self, e: Call) -> ll.Value:
        b = self.builder
        callee = self.mc.ir.function(e.callee)
        args: list[ll.Value] = []
        for a in e.args:
            if isinstance(a.type, ArrayType):
                assert isinstance(a, Var)
                slot = self.arrays[a.name]
                args.append(b.load(slot.data))
                args += [b.load(s) for s in slot.shape] + [b.load(s) for s in slot.strides]
            else:
                args.append(self.expr(a))
        ret_type = lt.value_type(callee.ret) if isinstance(callee.ret, ScalarType) else lt.I8
        ret = self.alloca(ret_type, f"{e.callee}.ret")
        status = b.call(self.mc.functions[e.callee], [ret, self.err_ptr, *args])
        failed = b.icmp_signed("!=", status, lt.int_const(0, 32))
        with b.if_then(failed, likely=False):
            b.store(status, self.status)
            b.branch(self.cleanup)
        return b.load(ret)


def horner(b: ll.IRBuilder, indices: list[ll.Value], shape: list[ll.Value]) -> ll.Value:
    """Row-major linear index: ((i0 * n1 + i1) * n2 + i2) ..."""
    linear = indices[0] if indices else lt.int_const(0)
    for index, size in zip(indices[1:], shape[1:], strict=True):
        linear = b.add(b.mul(linear, size), index)
    return linear
