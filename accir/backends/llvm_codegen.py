"""LLVM IR generation for the loop IR: module, functions and statements.

Each IR function becomes `i32 @name(ptr %ret, ptr %err, params...)`: it returns 0 or an error
code (accir.backends.errors) after filling the error record. Scalars pass by value; an array
passes as its data pointer, its shape, then its strides in bytes. Variables live in allocas that
LLVM promotes to registers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import llvmlite.ir as ll

from accir.backends import llvm_types as lt
from accir.backends.llvm_atomic import AtomicCodegen
from accir.backends.llvm_exprs import ExprCodegen
from accir.backends.llvm_loopmd import loop_id
from accir.backends.llvm_parallel import ParallelLoop
from accir.ir.intrinsics import deferred_conversion
from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    Break,
    Const,
    Continue,
    ExprStmt,
    Function,
    If,
    Loop,
    Module,
    Region,
    Return,
    Stmt,
    Store,
    While,
)
from accir.ir.types import ArrayType, NoneType, ScalarType
from accir.ir.uses import local_vars


@dataclass
class ArraySlot:
    """Allocas holding an array variable's data pointer, shape and byte strides."""

    type: ArrayType
    data: ll.Value
    shape: list[ll.Value]
    strides: list[ll.Value]
    owned: bool  # allocated by the function, freed on exit


def param_types(fn: Function) -> list[ll.Type]:
    types: list[ll.Type] = [lt.PTR, lt.PTR]
    for p in fn.params:
        if isinstance(p.type, ArrayType):
            types += [lt.PTR] + [lt.I64] * (2 * p.type.ndim)
        else:
            assert isinstance(p.type, ScalarType)
            types.append(lt.value_type(p.type))
    return types


class ModuleCodegen:
    """Builds one LLVM module holding every function of an IR module."""

    def __init__(self, module: Module, triple: str, datalayout: str, noalias: bool = False):
        self.ir = module
        self.ll = ll.Module(name=module.entry.name)
        self.ll.triple = triple
        self.ll.data_layout = datalayout
        self.noalias = noalias
        self.loop_ids: list[str] = []  # metadata node names of loop IDs (llvm_loopmd)
        self.functions: dict[str, ll.Function] = {}
        for fn in module.functions:
            fnty = ll.FunctionType(lt.I32, param_types(fn))
            self.functions[fn.name] = ll.Function(self.ll, fnty, name=symbol_name(fn.name))

    def emit(self) -> ll.Module:
        for fn in self.ir.functions:
            FunctionCodegen(self, fn, self.functions[fn.name]).emit()
        return self.ll

    def extern(self, name: str, ret: ll.Type, args: list[ll.Type], var_arg: bool = False
               ) -> ll.Function:
        return lt.declare(self.ll, name, ret, args, var_arg)

    def intrinsic(self, name: str, ret: ll.Type, args: list[ll.Type]) -> ll.Function:
        return self.extern(name, ret, args)


def symbol_name(name: str) -> str:
    return "accir." + name


class FunctionCodegen(AtomicCodegen, ExprCodegen):
    """Emits one IR function: set-up, statements, clean-up."""

    may_fork = True  # parallel loops start a team of threads (not inside an outlined body)
    cold = 0  # > 0 while emitting the checked copy of a versioned nest (llvm_loopmd.loop_id)

    def emit(self) -> None:
        b = self.builder
        b.store(lt.int_const(0, 32), self.status)
        self.bind_params()
        self.declare_locals()
        self.block(self.fn.body)
        if not b.block.is_terminated:
            b.branch(self.cleanup)
        b.position_at_end(self.cleanup)
        for slot in self.arrays.values():
            if slot.owned:
                self.free(b.load(slot.data))
        b.ret(b.load(self.status))
        self.alloca_builder.branch(self.start)

    def bind_params(self) -> None:
        args = iter(self.llfn.args[2:])
        for p in self.fn.params:
            if isinstance(p.type, ArrayType):
                slot = self.array_slot(p.name, p.type, owned=False)
                data = next(args)
                if self.arrays_noalias():
                    data.add_attribute("noalias")
                self.builder.store(data, slot.data)
                for dim in slot.shape + slot.strides:
                    self.builder.store(next(args), dim)
            else:
                assert isinstance(p.type, ScalarType)
                ptr = self.alloca(lt.value_type(p.type), p.name)
                self.scalars[p.name] = ptr
                self.builder.store(next(args), ptr)

    def arrays_noalias(self) -> bool:
        """Whether array arguments are known not to overlap (checked at each call)."""
        return self.mc.noalias and self.fn is self.mc.ir.entry

    def assigned(self, name: str) -> None:
        """Called after each assignment to a scalar (outlined loop bodies track them)."""

    def declare_locals(self) -> None:
        for var in local_vars(self.fn):
            if var.name in self.scalars or var.name in self.arrays:
                continue
            if isinstance(var.type, ArrayType):
                slot = self.array_slot(var.name, var.type, owned=True)
                self.builder.store(ll.Constant(lt.PTR, None), slot.data)
                for dim in slot.shape + slot.strides:
                    self.builder.store(lt.int_const(0), dim)
            else:
                assert isinstance(var.type, ScalarType)
                ptr = self.alloca(lt.value_type(var.type), var.name)
                self.scalars[var.name] = ptr
                self.builder.store(ll.Constant(lt.value_type(var.type), None), ptr)

    def array_slot(self, name: str, ty: ArrayType, owned: bool) -> ArraySlot:
        slot = ArraySlot(
            ty,
            self.alloca(lt.PTR, f"{name}.data"),
            [self.alloca(lt.I64, f"{name}.shape{k}") for k in range(ty.ndim)],
            [self.alloca(lt.I64, f"{name}.stride{k}") for k in range(ty.ndim)],
            owned,
        )
        self.arrays[name] = slot
        return slot

    # ------------------------------------------------------------------ statements

    def block(self, body: tuple[Stmt, ...]) -> None:
        for stmt in body:
            if self.builder.block.is_terminated:
                self.dead_block()
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)

    def stmt_Assign(self, s: Assign) -> None:
        self.builder.store(self.expr(s.value), self.scalars[s.target.name])
        self.assigned(s.target.name)

    def stmt_Store(self, s: Store) -> None:
        # Python evaluates the value, then the subscript (IndexError), then NumPy converts
        # the value to the element type (OverflowError)
        inner, conversion = deferred_conversion(s.value)
        value = self.expr(inner)
        slot = self.arrays[s.array.name]
        ptr = self.element_ptr(slot, s.indices, s.checked)
        self.store_element(slot.type.dtype, self.converted(value, conversion), ptr)

    def stmt_ExprStmt(self, s: ExprStmt) -> None:
        self.expr(s.value)

    def stmt_Return(self, s: Return) -> None:
        if s.value is not None and not isinstance(self.fn.ret, NoneType):
            self.builder.store(self.expr(s.value), self.ret_ptr)
        self.builder.branch(self.cleanup)

    def stmt_Break(self, s: Break) -> None:
        self.builder.branch(self.loops[-1][1])

    def stmt_Continue(self, s: Continue) -> None:
        self.builder.branch(self.loops[-1][0])

    def stmt_Region(self, s: Region) -> None:
        if s.directive.name == "atomic":
            self.atomic_region(s)
            return
        self.block(s.body)

    def stmt_AccStmt(self, s: AccStmt) -> None:
        return None  # on the CPU, device memory is host memory: nothing to move or wait for

    def stmt_If(self, s: If) -> None:
        b = self.builder
        cond = self.expr(s.cond)
        then_bb = self.llfn.append_basic_block("if.then")
        else_bb = self.llfn.append_basic_block("if.else")
        merge = self.llfn.append_basic_block("if.end")
        b.cbranch(cond, then_bb, else_bb)
        for bb, body in ((then_bb, s.then), (else_bb, s.orelse)):
            b.position_at_end(bb)
            cold = s.versioned and body is s.orelse
            self.cold += cold
            self.block(body)
            self.cold -= cold
            if not b.block.is_terminated:
                b.branch(merge)
        b.position_at_end(merge)

    def stmt_While(self, s: While) -> None:
        b = self.builder
        cond_bb = self.llfn.append_basic_block("while.cond")
        body_bb = self.llfn.append_basic_block("while.body")
        exit_bb = self.llfn.append_basic_block("while.end")
        b.branch(cond_bb)
        b.position_at_end(cond_bb)
        b.cbranch(self.expr(s.cond), body_bb, exit_bb)
        b.position_at_end(body_bb)
        self.loops.append((cond_bb, exit_bb))
        self.block(s.body)
        self.loops.pop()
        if not b.block.is_terminated:
            b.branch(cond_bb)
        b.position_at_end(exit_bb)

    def stmt_Loop(self, s: Loop) -> None:
        if s.parallel is not None and self.may_fork:
            ParallelLoop(self, s).emit()
            return
        bounds = self.loop_bounds(s)
        if bounds is None:
            return
        start, step, count = bounds
        self.iterations(s, start, step, lt.int_const(0), count)

    def iterations(self, s: Loop, start: ll.Value, step: ll.Value, lo: ll.Value, hi: ll.Value
                   ) -> None:
        """Iterations lo <= k < hi of `s`: `var = start + k * step`, then the body."""
        b = self.builder
        counter = self.alloca(lt.I64, f"{s.lid}.k")
        b.store(lo, counter)
        cond_bb = self.llfn.append_basic_block(f"{s.lid}.cond")
        body_bb = self.llfn.append_basic_block(f"{s.lid}.body")
        latch_bb = self.llfn.append_basic_block(f"{s.lid}.latch")
        exit_bb = self.llfn.append_basic_block(f"{s.lid}.end")
        b.branch(cond_bb)
        b.position_at_end(cond_bb)
        k = b.load(counter)
        b.cbranch(b.icmp_signed("<", k, hi), body_bb, exit_bb)
        b.position_at_end(body_bb)
        self.loops.append((latch_bb, exit_bb))
        self.iteration_started(s, k)
        index = b.add(start, b.mul(k, step)) if not _is_one(s.step) else b.add(start, k)
        b.store(index, self.scalars[s.var.name])
        self.assigned(s.var.name)
        self.block(s.body)
        self.loops.pop()
        if not b.block.is_terminated:
            b.branch(latch_bb)
        b.position_at_end(latch_bb)
        b.store(b.add(b.load(counter), lt.int_const(1), flags=["nsw", "nuw"]), counter)
        self.back_edge(cond_bb, s)
        b.position_at_end(exit_bb)

    def iteration_started(self, s: Loop, k: ll.Value) -> None:
        """Called at the start of each iteration of a counted loop, inside it (outlined
        bodies note which iteration runs, and may leave through `self.loops[-1]`)."""

    def back_edge(self, target: ll.Block, s: Loop) -> None:
        """The latch's branch, carrying the loop's ID (see llvm_loopmd)."""
        branch = self.builder.branch(target)
        branch.set_metadata("llvm.loop", loop_id(self.mc.ll, self.mc.loop_ids,
                                                 self.loop_name(s.lid), self.cold > 0))

    def loop_name(self, lid: str) -> str:
        """`<position of the function in the module>/<loop id>`."""
        return f"{self.mc.ir.functions.index(self.fn)}/{lid}"

    def loop_bounds(self, s: Loop) -> tuple[ll.Value, ll.Value, ll.Value] | None:
        """(start, step, trip count), evaluated once on entry as range() does; None when
        the step is the constant 0 (the loop raises and the code after it is dead)."""
        b = self.builder
        start, stop, step = self.expr(s.start), self.expr(s.stop), self.expr(s.step)
        if isinstance(s.step, Const) and s.step.value == 0:
            self.fail("range-step-zero")  # Python raises when the loop is reached
            self.dead_block()
            return None
        if not isinstance(s.step, Const):
            self.fail_if(b.icmp_signed("==", step, lt.int_const(0)), "range-step-zero")
        return start, step, self.trip_count(start, stop, step, s.step)

    def counted_loop(self, count: ll.Value, name: str, first: int = 0
                     ) -> AbstractContextManager[ll.Value]:
        """`for t in range(first, count)` around the code emitted in the with-block."""
        return self.counted_loop_between(lt.int_const(first), count, name)

    @contextmanager
    def counted_loop_between(self, first: ll.Value, count: ll.Value, name: str
                             ) -> Iterator[ll.Value]:
        """`for t in range(first, count)` around the code emitted in the with-block."""
        b = self.builder
        counter = self.alloca(lt.I64, f"{name}.t")
        b.store(first, counter)
        cond_bb = self.llfn.append_basic_block(f"{name}.cond")
        body_bb = self.llfn.append_basic_block(f"{name}.body")
        exit_bb = self.llfn.append_basic_block(f"{name}.end")
        b.branch(cond_bb)
        b.position_at_end(cond_bb)
        t = b.load(counter)
        b.cbranch(b.icmp_signed("<", t, count), body_bb, exit_bb)
        b.position_at_end(body_bb)
        yield t
        b.store(b.add(t, lt.int_const(1)), counter)
        # a loop over threads: not worth vectorising or unrolling (compile time, code size)
        b.branch(cond_bb).set_metadata("llvm.loop", loop_id(self.mc.ll, self.mc.loop_ids,
                                                            f"runtime/{name}", cold=True))
        b.position_at_end(exit_bb)

    def trip_count(self, start: ll.Value, stop: ll.Value, step: ll.Value, step_ir: object
                   ) -> ll.Value:
        """Iterations of range(start, stop, step), for either sign of step."""
        b = self.builder
        zero, one = lt.int_const(0), lt.int_const(1)

        def upward() -> ll.Value:
            span = b.sub(b.sub(stop, start), one)
            n = b.add(b.udiv(span, step), one)
            return b.select(b.icmp_signed(">", stop, start), n, zero)

        def downward() -> ll.Value:
            span = b.sub(b.sub(start, stop), one)
            n = b.add(b.udiv(span, b.neg(step)), one)
            return b.select(b.icmp_signed(">", start, stop), n, zero)

        if isinstance(step_ir, Const):
            return upward() if step_ir.value > 0 else downward()  # type: ignore[operator]
        return b.select(b.icmp_signed(">", step, zero), upward(), downward())

    def stmt_Alloc(self, s: Alloc) -> None:
        b = self.builder
        slot = self.arrays[s.target.name]
        dims = [self.expr(d) for d in s.shape]
        total = lt.int_const(1)
        for d in dims:
            self.fail_if(b.icmp_signed("<", d, lt.int_const(0)), "negative-dims")
            total = b.mul(total, d)
        dtype = s.target.array_type.dtype
        itemsize = lt.int_const(dtype.dtype.itemsize)
        self.free(b.load(slot.data))
        b.store(ll.Constant(lt.PTR, None), slot.data)
        zero_fill = s.fill is not None and _is_zero(s.fill)
        count = b.select(b.icmp_signed("==", total, lt.int_const(0)), lt.int_const(1), total)
        if zero_fill:
            calloc = self.mc.extern("calloc", lt.PTR, [lt.I64, lt.I64])
            data = b.call(calloc, [count, itemsize])
        else:
            malloc = self.mc.extern("malloc", lt.PTR, [lt.I64])
            data = b.call(malloc, [b.mul(count, itemsize)])
        self.fail_if(b.icmp_unsigned("==", data, ll.Constant(lt.PTR, None)), "memory")
        b.store(data, slot.data)
        for k, d in enumerate(dims):
            b.store(d, slot.shape[k])
        stride = itemsize
        for k in reversed(range(len(dims))):
            b.store(stride, slot.strides[k])
            stride = b.mul(stride, dims[k])
        if s.fill is not None and not zero_fill:
            self.fill(data, total, dtype, self.expr(s.fill))

    def fill(self, data: ll.Value, total: ll.Value, dtype: ScalarType, value: ll.Value) -> None:
        b = self.builder
        counter = self.alloca(lt.I64, "fill.k")
        b.store(lt.int_const(0), counter)
        cond_bb = self.llfn.append_basic_block("fill.cond")
        body_bb = self.llfn.append_basic_block("fill.body")
        exit_bb = self.llfn.append_basic_block("fill.end")
        b.branch(cond_bb)
        b.position_at_end(cond_bb)
        k = b.load(counter)
        b.cbranch(b.icmp_signed("<", k, total), body_bb, exit_bb)
        b.position_at_end(body_bb)
        ptr = b.gep(data, [k], source_etype=lt.memory_type(dtype))
        self.store_element(dtype, value, ptr)
        b.store(b.add(k, lt.int_const(1)), counter)
        b.branch(cond_bb)
        b.position_at_end(exit_bb)

    def free(self, ptr: ll.Value) -> None:
        self.builder.call(self.mc.extern("free", lt.VOID, [lt.PTR]), [ptr])


def _is_one(e: object) -> bool:
    return isinstance(e, Const) and e.value == 1


def _is_zero(e: object) -> bool:
    return isinstance(e, Const) and e.value == 0 and not (
        isinstance(e.value, float) and str(e.value).startswith("-")
    )
