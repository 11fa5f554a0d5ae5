"""State and error handling shared by the parts of FunctionCodegen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import llvmlite.ir as ll

from accir.backends import llvm_types as lt
from accir.backends.errors import CODES
from accir.ir.nodes import Expr, Function
from accir.ir.types import ScalarType

if TYPE_CHECKING:
    from accir.backends.llvm_codegen import ArraySlot, ModuleCodegen


class CodegenBase:
    """Emission state for one IR function; expressions and arithmetic are mixins on it."""

    def __init__(self, mc: ModuleCodegen, fn: Function, llfn: ll.Function):
        self.mc = mc
        self.fn = fn
        self.llfn = llfn
        # allocas go in their own entry block, so inserting one never disturbs the builder
        self.alloca_builder = ll.IRBuilder(llfn.append_basic_block("allocas"))
        self.start = llfn.append_basic_block("start")
        self.builder = ll.IRBuilder(self.start)
        self.ret_ptr, self.err_ptr = llfn.args[0], llfn.args[1]
        self.scalars: dict[str, ll.Value] = {}
        self.arrays: dict[str, ArraySlot] = {}
        self.loops: list[tuple[ll.Block, ll.Block]] = []  # (continue target, break target)
        self.status = self.alloca(lt.I32, "status")
        self.cleanup = llfn.append_basic_block("cleanup")

    # ------------------------------------------------------------------ set-up

    def alloca(self, ty: ll.Type, name: str = "") -> ll.Value:
        return self.alloca_builder.alloca(ty, name=name)

    # ------------------------------------------------------------------ errors

    def fail(self, kind: str, *args: ll.Value) -> None:
        """Fill the error record, set the status, and leave through the cleanup block."""
        b = self.builder
        code = CODES[kind]
        b.store(lt.int_const(code, 32), b.gep(self.err_ptr, [lt.int_const(0, 32),
                                                                lt.int_const(0, 32)],
                                               source_etype=lt.ERROR_RECORD))
        for k, value in enumerate(args):
            field = b.gep(self.err_ptr, [lt.int_const(0, 32), lt.int_const(k + 1, 32)],
                          source_etype=lt.ERROR_RECORD)
            b.store(self.to_i64(value), field)
        b.store(lt.int_const(code, 32), self.status)
        b.branch(self.cleanup)

    def fail_if(self, cond: ll.Value, kind: str, *args: ll.Value) -> None:
        with self.builder.if_then(cond, likely=False):
            self.fail(kind, *args)

    def to_i64(self, v: ll.Value) -> ll.Value:
        if v.type == lt.I64:
            return v
        if isinstance(v.type, ll.IntType):
            return self.builder.sext(v, lt.I64) if v.type.width < 64 else v
        return self.builder.fptosi(v, lt.I64)

    def dead_block(self) -> None:
        """Continue emitting into an unreachable block after a terminator."""
        self.builder.position_at_end(self.llfn.append_basic_block("dead"))

    # ---------------------------------------------- implemented by the mixins

    def expr(self, e: Expr) -> ll.Value:
        raise NotImplementedError

    def binop(self, op: str, a: ll.Value, b: ll.Value, ty: ScalarType) -> ll.Value:
        raise NotImplementedError

    def compare(self, op: str, lhs: ll.Value, rhs: ll.Value, ty: ScalarType) -> ll.Value:
        raise NotImplementedError

    def convert(self, v: ll.Value, src: ScalarType, dst: ScalarType) -> ll.Value:
        raise NotImplementedError

    def parts(self, z: ll.Value) -> tuple[ll.Value, ll.Value]:
        raise NotImplementedError

    def make_complex(self, ty: ScalarType, re: ll.Value, im: ll.Value) -> ll.Value:
        raise NotImplementedError

    def is_finite(self, x: ll.Value) -> ll.Value:
        raise NotImplementedError

    def element_ptr(self, slot: ArraySlot, indices: tuple[Expr, ...], checked: bool
                    ) -> ll.Value:
        raise NotImplementedError

    def store_element(self, dtype: ScalarType, value: ll.Value, ptr: ll.Value) -> None:
        raise NotImplementedError
