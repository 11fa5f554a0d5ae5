"""The body of a parallel loop, outlined into its own function (see llvm_parallel).

It is emitted like any IR function whose parameters are the loop's captured variables, with
three differences: it runs only the iterations its schedule gives thread `tid`; it remembers
the iteration of each assignment to a private variable (the parent keeps the value of the
latest one) and of a failure (the parent raises the earliest); and it starts reductions at
their identity and hands the partial results back in its thread's record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import llvmlite.ir as ll

from accir.backends import llvm_types as lt
from accir.backends.llvm_codegen import FunctionCodegen
from accir.backends.llvm_parallel import (
    _ERR_ITER,
    _FIRST_VALUE,
    _STATUS,
    contiguous_strides,
    element_indices,
    element_loops,
    identity,
)
from accir.ir.nodes import Function, Loop, Reduction, Store
from accir.passes.loop_nests import cannot_fail

if TYPE_CHECKING:
    from accir.backends.llvm_codegen import ModuleCodegen
    from accir.backends.llvm_parallel import ParallelLoop


PIECE = 1024  # iterations between two looks at the shared "stop" mark


class OutlinedLoopCodegen(FunctionCodegen):
    may_fork = False  # a parallel loop inside runs on its thread

    def __init__(self, mc: ModuleCodegen, fn: Function, llfn: ll.Function, plan: ParallelLoop):
        super().__init__(mc, fn, llfn)
        self.plan = plan
        n = len(plan.captured_types) + 2
        (self.records, self.tid, self.nth, self.start_k, self.step, self.count,
         self.next, self.stop, self.columns) = llfn.args[n:]
        self.inner = {id(loop) for loop in plan.inner}
        self.row: tuple[ll.Value, ll.Value, ll.Value] | None = None  # (lo, hi, first k) of a row
        self.k_ptr = self.alloca(lt.I64, "k")
        self.latest = {v.name: self.alloca(lt.I64, f"{v.name}.latest") for v in plan.private}
        self.noalias_arrays = mc.noalias and plan.parent.fn is mc.ir.entry
        self.buffers = [self.alloca(lt.PTR, f"{r.var.name}.mine") for r in plan.array_reductions]

    def emit(self) -> None:
        b = self.builder
        b.store(lt.int_const(0, 32), self.status)
        b.store(lt.int_const(0), self.k_ptr)
        self.bind_params()
        for name, dim in self.plan.dim_aliases.items():
            b.store(self.expr(dim), self.scalars[name])
        for ptr in self.latest.values():
            b.store(lt.int_const(-1), ptr)
        for ptr in self.buffers:
            b.store(ll.Constant(lt.PTR, None), ptr)
        for r in self.plan.scalar_reductions:
            b.store(self.expr(identity(r)), self.scalars[r.var.name])
        for r in self.plan.array_reductions:
            self.privatize_array(r)
        loop = self.fn.body[0]
        assert isinstance(loop, Loop)
        if self.plan.par.schedule == "dynamic":
            self.dynamic_iterations(loop)
        else:
            self.static_iterations(loop)
        b.branch(self.cleanup)
        b.position_at_end(self.cleanup)
        self.hand_back()
        b.ret(b.load(self.status))
        self.alloca_builder.branch(self.start)

    def arrays_noalias(self) -> bool:
        return self.noalias_arrays

    def loop_name(self, lid: str) -> str:
        return self.plan.parent.loop_name(lid)

    def privatize_array(self, r: Reduction) -> None:
        """This thread's own copy of a reduction array, filled with the identity."""
        b = self.builder
        index = self.plan.array_reductions.index(r)
        slot = self.arrays[r.var.name]
        total = contiguous_strides(self, slot)
        itemsize = lt.int_const(slot.type.dtype.dtype.itemsize)
        count = b.select(b.icmp_signed("==", total, lt.int_const(0)), lt.int_const(1), total)
        buffer = b.call(self.mc.extern("malloc", lt.PTR, [lt.I64]), [b.mul(count, itemsize)])
        self.fail_if(b.icmp_unsigned("==", buffer, ll.Constant(lt.PTR, None)), "memory")
        b.store(buffer, self.buffers[index])
        b.store(buffer, slot.data)
        indices = element_indices(self, r.var)
        self.block((element_loops(r.var, indices, Store("", r.var, indices, identity(r),
                                                        checked=False)),))

    # ------------------------------------------------------------------ schedules

    def static_iterations(self, loop: Loop) -> None:
        """Thread t runs the t-th block of ceil(count / nth) iterations."""
        b = self.builder
        one = lt.int_const(1)
        chunk = b.sdiv(b.sub(b.add(self.count, self.nth), one), self.nth)
        lo = b.mul(self.tid, chunk)
        hi = b.add(lo, chunk)
        hi = b.select(b.icmp_signed("<", hi, self.count), hi, self.count)
        self.run_range(loop, lo, hi)

    def dynamic_iterations(self, loop: Loop) -> None:
        """Chunks of about count / (16 nth) iterations taken from a shared counter."""
        b = self.builder
        chunk = b.sdiv(self.count, b.mul(self.nth, lt.int_const(16)))
        chunk = b.select(b.icmp_signed("<", chunk, lt.int_const(1)), lt.int_const(1), chunk)
        take_bb = self.llfn.append_basic_block("chunk.take")
        run_bb = self.llfn.append_basic_block("chunk.run")
        done_bb = self.llfn.append_basic_block("chunk.done")
        b.branch(take_bb)
        b.position_at_end(take_bb)
        lo = b.atomic_rmw("add", self.next, chunk, "monotonic")
        b.cbranch(b.icmp_signed("<", lo, self.count), run_bb, done_bb)
        b.position_at_end(run_bb)
        hi = b.add(lo, chunk)
        hi = b.select(b.icmp_signed("<", hi, self.count), hi, self.count)
        self.run_range(loop, lo, hi)
        if not b.block.is_terminated:
            b.branch(take_bb)
        b.position_at_end(done_bb)

    def run_range(self, loop: Loop, lo: ll.Value, hi: ll.Value) -> None:
        """Iterations lo <= k < hi of the parallel loop (of its rows x columns if collapsed),
        in pieces of PIECE iterations: a piece that starts after an iteration that failed
        (on any thread) is skipped, as CPython would not have run it. (Checking once per
        piece keeps the atomic load out of the loop, which LLVM then vectorises.) A body that
        cannot fail runs in one piece."""
        if cannot_fail(loop.body):
            self.run_piece(loop, lo, hi)
            return
        b = self.builder
        piece = lt.int_const(PIECE)
        span = b.sub(hi, lo)
        pieces = b.sdiv(b.add(span, lt.int_const(PIECE - 1)), piece)
        with self.counted_loop_between(lt.int_const(0), pieces, f"{loop.lid}.piece") as p:
            first = b.add(lo, b.mul(p, piece))
            last = b.add(first, piece)
            last = b.select(b.icmp_signed("<", last, hi), last, hi)
            failed = b.load_atomic(self.stop, "monotonic", 8, typ=lt.I64)
            last = b.select(b.icmp_signed(">", first, failed), first, last)
            self.run_piece(loop, first, last)

    def run_piece(self, loop: Loop, lo: ll.Value, hi: ll.Value) -> None:
        if self.inner:
            self.rows(loop, lo, hi)
        else:
            self.iterations(loop, self.start_k, self.step, lo, hi)

    def rows(self, loop: Loop, lo: ll.Value, hi: ll.Value) -> None:
        """collapse(2): flat iterations k = row * width + column (width = the inner trip count,
        or 1 when it is 0, so that an empty row still runs): each row overlapping [lo, hi) runs
        the loop's body with the inner loop restricted to the row's columns in [lo, hi)."""
        b = self.builder
        one = lt.int_const(1)
        width = b.select(b.icmp_signed(">", self.columns, one), self.columns, one)
        first_row = b.sdiv(lo, width)
        end_row = b.sdiv(b.sub(b.add(hi, width), one), width)
        with self.counted_loop_between(first_row, end_row, f"{loop.lid}.row") as row:
            base = b.mul(row, width)
            start = b.select(b.icmp_signed(">", lo, base), lo, base)
            b.store(start, self.k_ptr)
            index = b.add(self.start_k, b.mul(row, self.step))
            b.store(index, self.scalars[loop.var.name])
            self.assigned(loop.var.name)
            self.row = (b.sub(lo, base), b.sub(hi, base), base)
            self.block(loop.body)
            self.row = None

    def stmt_Loop(self, s: Loop) -> None:
        if self.row is None or id(s) not in self.inner:
            super().stmt_Loop(s)
            return
        bounds = self.loop_bounds(s)  # pure (auto-parallelize checked): the same every row
        assert bounds is not None
        start, step, count = bounds
        b = self.builder
        lo, hi, _ = self.row
        zero = lt.int_const(0)
        lo = b.select(b.icmp_signed(">", lo, zero), lo, zero)
        hi = b.select(b.icmp_signed("<", hi, count), hi, count)
        self.iterations(s, start, step, lo, hi)

    def iteration_started(self, s: Loop, k: ll.Value) -> None:
        b = self.builder
        if self.row is not None and id(s) in self.inner:
            k = b.add(self.row[2], k)  # the flat iteration of a collapsed nest
        elif s is not self.fn.body[0]:  # the parallel loop's own iterations, not inner loops'
            return
        b.store(k, self.k_ptr)

    # ------------------------------------------------------------------ bookkeeping

    def assigned(self, name: str) -> None:
        latest = self.latest.get(name)
        if latest is not None:
            self.builder.store(self.builder.load(self.k_ptr), latest)

    def fail(self, kind: str, *args: ll.Value) -> None:
        b = self.builder
        k = b.load(self.k_ptr)
        b.store(k, self.record_field(_ERR_ITER))
        b.atomic_rmw("min", self.stop, k, "monotonic")
        super().fail(kind, *args)

    def record_field(self, index: int) -> ll.Value:
        b = self.builder
        rec = b.gep(self.records, [self.tid], source_etype=self.plan.record)
        return b.gep(rec, [lt.int_const(0, 32), lt.int_const(index, 32)],
                     source_etype=self.plan.record)

    def hand_back(self) -> None:
        """Status, reduction partials and (value, iteration) of each private variable."""
        b = self.builder
        b.store(b.load(self.status), self.record_field(_STATUS))
        index = _FIRST_VALUE
        for r in self.plan.scalar_reductions:
            b.store(b.load(self.scalars[r.var.name]), self.record_field(index))
            index += 1
        for v in self.plan.private:
            b.store(b.load(self.scalars[v.name]), self.record_field(index))
            b.store(b.load(self.latest[v.name]), self.record_field(index + 1))
            index += 2
        for buffer in self.buffers:
            b.store(b.load(buffer), self.record_field(index))
            index += 1
