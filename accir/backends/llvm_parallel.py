"""Parallel loops on the CPU: outlining, the fork-join, and putting the results together.

A loop with a `parallel` annotation becomes three LLVM functions and some code in its parent:

- the *body* `i32 @f.L0.par(ret, err, <captured variables>, records, tid, nth, start, step,
  count, next)`: an ordinary function of the captured variables (arrays as data, shape and
  strides, marked noalias when the parent's arrays were checked not to overlap; scalars by
  value, which makes every copy private and firstprivate) that runs thread `tid`'s share of
  iterations `0 <= k < count` (`var = start + k * step`) and, on the way out, writes its
  status, error, reduction partials and last-assigned private values into `records[tid]`;
- the *wrapper* `void @f.L0.run(ctx, tid, nth)` that unpacks the context the parent filled
  and calls the body, and the OpenMP *outlined function* `void @f.L0.omp(ctx)` that asks
  libgomp which thread it is. Without libgomp, a pthread start routine `@f.L0.thread(arg)`
  runs the wrapper instead;
- in the parent: the bounds, the trip count and the team size (`accir.get_num_threads()`,
  the loop's `threads`, `if` and `min` settings, never more threads than iterations), one
  record per thread, `GOMP_parallel` (or pthreads, or a direct call for a team of one), then,
  in thread order, the error of the lowest failing iteration, the reductions combined into
  the variable, and each private variable's value from the last iteration that assigned it.

Static schedules give thread t the t-th block of ceil(count / nth) iterations; dynamic ones
hand out chunks from an atomic counter. A failing iteration lowers a shared "stop" mark
(atomic min), and every thread leaves its loop at the first iteration after the mark, so that
as few iterations as possible run that CPython would not have run. Reductions combine in thread order over fixed blocks,
so a float sum is reproducible for a given thread count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import llvmlite.ir as ll
import numpy as np

from accir.backends import llvm_types as lt
from accir.backends.llvm_symbols import num_threads_ref
from accir.ir.nodes import (
    Assign,
    BinOp,
    Const,
    Dim,
    Expr,
    Function,
    Intrinsic,
    Load,
    Logical,
    Loop,
    Parallel,
    Reduction,
    Stmt,
    Store,
    Var,
    walk_stmts,
)
from accir.ir.types import NONE, PYINT, ArrayType, ScalarType
from accir.ir.uses import assigned_in, local_vars
from accir.passes.loop_nests import live_after
from accir.passes.parallel_scalars import collapsed_inner
from accir.runtime import libgomp_loaded

if TYPE_CHECKING:
    from accir.backends.llvm_codegen import ArraySlot, FunctionCodegen

# record fields before the reductions and privates: status, error, failing iteration
_STATUS, _ERR, _ERR_ITER, _FIRST_VALUE = 0, 1, 2, 3
# after the captured variables, the context holds: records, start, step, count, next (the
# dynamic schedule's counter), team (the team's size), stop (the earliest failed iteration),
# columns (collapse(2)'s inner trip count)
_CONTEXT = [lt.PTR, lt.I64, lt.I64, lt.I64, lt.PTR, lt.PTR, lt.PTR, lt.I64]
# after ret, err and the captured variables, the body takes: records, tid, nth, start, step,
# count, next, stop, columns
_BODY = [lt.PTR, lt.I64, lt.I64, lt.I64, lt.I64, lt.I64, lt.PTR, lt.PTR, lt.I64]


def captured_vars(loop: Loop) -> list[Var]:
    """The variables the loop and its annotation mention, arrays first, each once."""
    p = loop.parallel
    assert p is not None
    seen = {v.name: v for v in local_vars(Function("", (), (loop,), NONE))}
    for v in (*(r.var for r in p.reductions), *p.private):
        seen.setdefault(v.name, v)
    return sorted(seen.values(), key=lambda v: not isinstance(v.type, ArrayType))


def identity(r: Reduction) -> Const:
    """The value a thread's partial result starts from: combining it changes nothing (for
    float sums -0.0, so that a sum of -0.0s stays -0.0)."""
    ty = r.var.ty
    if isinstance(ty, ArrayType):
        ty = ty.dtype
    assert isinstance(ty, ScalarType)
    value: bool | int | float | complex
    if r.op in ("and", "or"):
        value = r.op == "and"
    elif r.op in ("max", "min"):
        if r.combine in ("np.fmax", "np.fmin") and ty.is_float:
            value = float("nan")
        elif ty.is_float:
            value = -np.inf if r.op == "max" else np.inf
        elif ty.is_bool:
            value = r.op == "min"
        else:
            info = np.iinfo(ty.dtype)
            value = int(info.min if r.op == "max" else info.max)
    elif r.op == "+":
        value = complex(-0.0, -0.0) if ty.is_complex else -0.0 if ty.is_float else 0
    elif r.op == "*":
        value = 1
    elif r.op == "&":
        value = True if ty.is_bool else -1
    else:
        value = False if ty.is_bool else 0
    if ty.is_bool:
        value = bool(value)
    return Const(value, ty)


def combine(r: Reduction, acc: Expr, partial: Expr) -> Expr:
    """`acc op partial` with the operation the loop's updates use."""
    ty = acc.type
    assert isinstance(ty, ScalarType)
    if r.op in ("max", "min"):
        return Intrinsic(r.combine or r.op, (acc, partial), ty)
    if r.op in ("and", "or"):
        return Logical(r.op, acc, partial)
    return BinOp(r.op, acc, partial)


class ParallelLoop:
    """Emits one parallel loop for the parent function codegen `parent`."""

    def __init__(self, parent: FunctionCodegen, loop: Loop):
        self.parent = parent
        self.loop = loop
        assert loop.parallel is not None
        self.par: Parallel = loop.parallel
        self.mc = parent.mc
        self.captured = captured_vars(loop)
        self.dim_aliases = dim_aliases(parent.fn, loop, self.captured)
        # collapse(2): the inner loop (or its versioned copies) whose columns the rows share
        self.inner = collapsed_inner(loop) if self.par.collapse == 2 else []
        self.scalar_reductions = [r for r in self.par.reductions
                                  if isinstance(r.var.type, ScalarType)]
        self.array_reductions = [r for r in self.par.reductions
                                 if isinstance(r.var.type, ArrayType)]
        # the private variables the loop assigns and whose value after it can be read
        reduced = {r.var.name for r in self.par.reductions}
        assigned = (assigned_in(loop.body) | {loop.var.name}) - reduced
        needed = live_after(parent.fn, loop, assigned)
        self.private = [v for v in self.captured if isinstance(v.type, ScalarType)
                        and v.name in needed]
        self.record = ll.LiteralStructType(
            [lt.I32, lt.ERROR_RECORD, lt.I64]
            + [lt.value_type(_scalar(r.var)) for r in self.scalar_reductions]
            + [t for v in self.private for t in (lt.value_type(_scalar(v)), lt.I64)]
            + [lt.PTR] * len(self.array_reductions))
        self.first_private = _FIRST_VALUE + len(self.scalar_reductions)
        self.first_buffer = self.first_private + 2 * len(self.private)
        from accir.backends.llvm_codegen import param_types

        self.captured_types = param_types(Function("", tuple(self.captured), (), NONE))[2:]
        self.context = ll.LiteralStructType([*self.captured_types, *_CONTEXT])
        self.base = f"{parent.llfn.name}.{loop.lid}"

    def declare_functions(self) -> None:
        self.body = ll.Function(self.mc.ll, ll.FunctionType(
            lt.I32, [lt.PTR, lt.PTR, *self.captured_types, *_BODY]), name=self.base + ".par")
        self.body.linkage = "internal"
        self.body.attributes.add("noinline")  # one copy of the loop for LLVM to optimise
        self.wrapper = ll.Function(self.mc.ll, ll.FunctionType(
            lt.VOID, [lt.PTR, lt.I64, lt.I64]), name=self.base + ".run")
        self.wrapper.linkage = "internal"

    # ------------------------------------------------------------------ parent side

    def emit(self) -> None:
        from accir.backends.llvm_outlined import OutlinedLoopCodegen

        p = self.parent
        b = p.builder
        s = self.loop
        bounds = p.loop_bounds(s)
        if bounds is None:
            return
        start, step, count = bounds
        columns: ll.Value = lt.int_const(0)
        if self.inner:  # rows x columns iterations; an empty row still runs once
            inner_bounds = p.loop_bounds(self.inner[0])
            assert inner_bounds is not None  # a nonzero constant step (auto-parallelize)
            columns = inner_bounds[2]
            one = lt.int_const(1)
            count = b.mul(count, b.select(b.icmp_signed(">", columns, one), columns, one))
        self.declare_functions()
        fn = Function(self.body.name, tuple(self.captured), (s,), NONE, loc=s.loc)
        OutlinedLoopCodegen(self.mc, fn, self.body, self).emit()
        self.emit_wrapper()
        nth = self.team_size(count)
        size = ll.Constant(lt.I64, self.record.get_abi_size(_target_data(self.mc)))
        records = b.call(self.mc.extern("malloc", lt.PTR, [lt.I64]), [b.mul(nth, size)])
        p.fail_if(b.icmp_unsigned("==", records, ll.Constant(lt.PTR, None)), "memory")
        ctx = p.alloca(self.context, f"{s.lid}.ctx")
        ctx.type = lt.PTR  # an opaque pointer, so that field addresses are opaque too
        next_ptr = p.alloca(lt.I64, f"{s.lid}.next")
        team_ptr = p.alloca(lt.I64, f"{s.lid}.team")
        stop_ptr = p.alloca(lt.I64, f"{s.lid}.stop")  # the earliest failed iteration so far
        b.store(lt.int_const(0), next_ptr)
        b.store(nth, team_ptr)
        b.store(lt.int_const(2**63 - 1), stop_ptr)
        values = [*self.captured_values(), records, start, step, count, next_ptr, team_ptr,
                  stop_ptr, columns]
        for k, v in enumerate(values):
            b.store(v, b.gep(ctx, [lt.int_const(0, 32), lt.int_const(k, 32)],
                             source_etype=self.context))
        self.fork(ctx, nth)
        self.join(records, b.load(team_ptr))

    def team_size(self, count: ll.Value) -> ll.Value:
        p, b = self.parent, self.parent.builder
        nth = b.sext(b.load(num_threads_ref(self.mc.ll), typ=lt.I32), lt.I64)
        if self.par.num_threads is not None:
            nth = p.expr(self.par.num_threads)
        one = lt.int_const(1)
        if self.par.condition is not None:
            nth = b.select(p.expr(self.par.condition), nth, one)
        small = b.icmp_signed("<", count, lt.int_const(max(self.par.min_trips, 1)))
        nth = b.select(small, one, nth)
        nth = b.select(b.icmp_signed(">", nth, count), count, nth)
        return b.select(b.icmp_signed("<", nth, one), one, nth)

    def captured_values(self) -> list[ll.Value]:
        p, b = self.parent, self.parent.builder
        values: list[ll.Value] = []
        for v in self.captured:
            if isinstance(v.type, ArrayType):
                slot = p.arrays[v.name]
                values.append(b.load(slot.data))
                values += [b.load(x) for x in slot.shape + slot.strides]
            else:
                values.append(b.load(p.scalars[v.name]))
        return values

    def fork(self, ctx: ll.Value, nth: ll.Value) -> None:
        b = self.parent.builder
        alone = b.icmp_signed("==", nth, lt.int_const(1))
        with b.if_else(alone) as (then, otherwise):
            with then:
                b.call(self.wrapper, [ctx, lt.int_const(0), lt.int_const(1)])
            with otherwise:
                if libgomp_loaded():
                    gomp = self.mc.extern("GOMP_parallel", lt.VOID,
                                          [lt.PTR, lt.PTR, lt.I32, lt.I32])
                    b.call(gomp, [self.emit_omp_entry(), ctx, b.trunc(nth, lt.I32),
                                  lt.int_const(0, 32)])
                else:
                    self.fork_pthreads(ctx, nth)

    def join(self, records: ll.Value, team: ll.Value) -> None:
        """Errors, reductions and privates, thread by thread in order."""
        p, b = self.parent, self.parent.builder
        failed = p.alloca(lt.I64, f"{self.loop.lid}.failed")
        b.store(lt.int_const(-1), failed)
        latest = [p.alloca(lt.I64, f"{v.name}.latest") for v in self.private]
        for ptr in latest:
            b.store(lt.int_const(-1), ptr)
        partials = {}
        for r in self.scalar_reductions:
            name = f"{self.loop.lid}.{r.var.name}.partial"
            partials[r.var.name] = p.scalars[name] = p.alloca(
                lt.value_type(_scalar(r.var)), name)
        with p.counted_loop(team, f"{self.loop.lid}.join") as t:
            rec = b.gep(records, [t], source_etype=self.record)
            self.pick_error(rec, records, t, failed)
            for i, r in enumerate(self.scalar_reductions):
                b.store(self.load_field(b, rec, _FIRST_VALUE + i), partials[r.var.name])
                partial = Var(f"{self.loop.lid}.{r.var.name}.partial", r.var.ty)
                b.store(p.expr(combine(r, r.var, partial)), p.scalars[r.var.name])
            for i, r in enumerate(self.array_reductions):
                self.combine_array(r, self.load_field(b, rec, self.first_buffer + i))
            first = self.first_private
            for i, v in enumerate(self.private):
                k = self.load_field(b, rec, first + 2 * i + 1)
                newer = b.icmp_signed(">", k, b.load(latest[i]))
                with b.if_then(newer):
                    b.store(k, latest[i])
                    b.store(self.load_field(b, rec, first + 2 * i), p.scalars[v.name])
        worst = b.load(failed)
        with b.if_then(b.icmp_signed(">=", worst, lt.int_const(0)), likely=False):
            rec = b.gep(records, [worst], source_etype=self.record)
            b.store(self.load_field(b, rec, _ERR), p.err_ptr)
            b.store(self.load_field(b, rec, _STATUS), p.status)
            p.free(records)
            b.branch(p.cleanup)
        p.free(records)

    def combine_array(self, r: Reduction, buffer: ll.Value) -> None:
        """`var[e] = var[e] op partial[e]` over every element, then free the thread's copy."""
        p, b = self.parent, self.parent.builder
        with b.if_then(b.icmp_unsigned("!=", buffer, ll.Constant(lt.PTR, None))):
            original = p.arrays[r.var.name]
            ty = r.var.type
            assert isinstance(ty, ArrayType)
            partial = Var(f"{self.loop.lid}.{r.var.name}.partial", ty)
            slot = p.array_slot(partial.name, ty, owned=False)
            b.store(buffer, slot.data)
            for mine, theirs in zip(slot.shape, original.shape, strict=True):
                b.store(b.load(theirs), mine)
            contiguous_strides(p, slot)
            index = element_indices(p, r.var)
            element = Load(r.var, index, checked=False)
            update = Store("", r.var, index, combine(r, element, Load(partial, index, False)),
                           checked=False)
            p.block((element_loops(r.var, index, update),))
            p.free(buffer)

    def pick_error(self, rec: ll.Value, records: ll.Value, t: ll.Value, failed: ll.Value
                   ) -> None:
        """Remember thread t when it failed at an earlier iteration than those seen so far."""
        b = self.parent.builder
        status = self.load_field(b, rec, _STATUS)
        with b.if_then(b.icmp_signed("!=", status, lt.int_const(0, 32)), likely=False):
            worst = b.load(failed)
            none_yet = b.icmp_signed("<", worst, lt.int_const(0))
            safe = b.select(none_yet, t, worst)
            other = b.gep(records, [safe], source_etype=self.record)
            earlier = b.icmp_signed("<", self.load_field(b, rec, _ERR_ITER),
                                    self.load_field(b, other, _ERR_ITER))
            b.store(b.select(b.or_(none_yet, earlier), t, worst), failed)

    def load_field(self, b: ll.IRBuilder, rec: ll.Value, index: int) -> ll.Value:
        return b.load(self.field(b, rec, index), typ=self.record.elements[index])

    def field(self, b: ll.IRBuilder, rec: ll.Value, index: int) -> ll.Value:
        return b.gep(rec, [lt.int_const(0, 32), lt.int_const(index, 32)],
                     source_etype=self.record)

    # ------------------------------------------------------------------ entry points

    def emit_wrapper(self) -> None:
        """`run(ctx, tid, nth)`: unpack the context and run thread tid's iterations."""
        b = ll.IRBuilder(self.wrapper.append_basic_block("entry"))
        ctx, tid, nth = self.wrapper.args
        fields = [b.load(b.gep(ctx, [lt.int_const(0, 32), lt.int_const(k, 32)],
                               source_etype=self.context), typ=ty)
                  for k, ty in enumerate(self.context.elements)]
        n_captured = len(self.captured_types)
        records = fields[n_captured]
        start, step, count, next_ptr, team_ptr, stop_ptr, columns = fields[n_captured + 1:]
        with b.if_then(b.icmp_signed("==", tid, lt.int_const(0))):
            b.store(nth, team_ptr)  # the runtime may give fewer threads than asked for
        rec = b.gep(records, [tid], source_etype=self.record)
        err = b.gep(rec, [lt.int_const(0, 32), lt.int_const(_ERR, 32)], source_etype=self.record)
        b.call(self.body, [ll.Constant(lt.PTR, None), err, *fields[:n_captured], records, tid,
                           nth, start, step, count, next_ptr, stop_ptr, columns])
        b.ret_void()

    def emit_omp_entry(self) -> ll.Function:
        fn = ll.Function(self.mc.ll, ll.FunctionType(lt.VOID, [lt.PTR]), name=self.base + ".omp")
        fn.linkage = "internal"
        b = ll.IRBuilder(fn.append_basic_block("entry"))
        tid = b.call(self.mc.extern("omp_get_thread_num", lt.I32, []), [])
        nth = b.call(self.mc.extern("omp_get_num_threads", lt.I32, []), [])
        b.call(self.wrapper, [fn.args[0], b.sext(tid, lt.I64), b.sext(nth, lt.I64)])
        b.ret_void()
        return fn

    def fork_pthreads(self, ctx: ll.Value, nth: ll.Value) -> None:
        """Without libgomp: threads 1..nth-1 on pthreads, thread 0 here; a thread that
        cannot be created runs here after the others are joined."""
        p, b = self.parent, self.parent.builder
        arg_type = ll.LiteralStructType([lt.PTR, lt.I64, lt.I64, lt.I64])  # ctx, tid, nth, handle
        size = ll.Constant(lt.I64, arg_type.get_abi_size(_target_data(self.mc)))
        args = b.call(self.mc.extern("malloc", lt.PTR, [lt.I64]), [b.mul(nth, size)])
        p.fail_if(b.icmp_unsigned("==", args, ll.Constant(lt.PTR, None)), "memory")
        create = self.mc.extern("pthread_create", lt.I32, [lt.PTR, lt.PTR, lt.PTR, lt.PTR])
        join = self.mc.extern("pthread_join", lt.I32, [lt.I64, lt.PTR])
        start = self.emit_thread_entry(arg_type)

        def slot(t: ll.Value, k: int) -> ll.Value:
            return b.gep(args, [t, lt.int_const(k, 32)], source_etype=arg_type)

        with p.counted_loop(nth, f"{self.loop.lid}.spawn", first=1) as t:
            for k, v in enumerate((ctx, t, nth)):
                b.store(v, slot(t, k))
            rc = b.call(create, [slot(t, 3), ll.Constant(lt.PTR, None), start,
                                 b.gep(args, [t], source_etype=arg_type)])
            with b.if_then(b.icmp_signed("!=", rc, lt.int_const(0, 32)), likely=False):
                b.store(lt.int_const(-1), slot(t, 1))  # not started: run it below
        b.call(self.wrapper, [ctx, lt.int_const(0), nth])
        with p.counted_loop(nth, f"{self.loop.lid}.reap", first=1) as t:
            started = b.icmp_signed(">=", b.load(slot(t, 1), typ=lt.I64), lt.int_const(0))
            with b.if_else(started) as (then, otherwise):
                with then:
                    b.call(join, [b.load(slot(t, 3), typ=lt.I64), ll.Constant(lt.PTR, None)])
                with otherwise:
                    b.call(self.wrapper, [ctx, t, nth])
        p.free(args)

    def emit_thread_entry(self, arg_type: ll.Type) -> ll.Function:
        fn = ll.Function(self.mc.ll, ll.FunctionType(lt.PTR, [lt.PTR]),
                         name=self.base + ".thread")
        fn.linkage = "internal"
        b = ll.IRBuilder(fn.append_basic_block("entry"))
        arg = fn.args[0]
        ctx, tid, nth = (b.load(b.gep(arg, [lt.int_const(0, 32), lt.int_const(k, 32)],
                                      source_etype=arg_type), typ=ty)
                         for k, ty in enumerate((lt.PTR, lt.I64, lt.I64)))
        b.call(self.wrapper, [ctx, tid, nth])
        b.ret(ll.Constant(lt.PTR, None))
        return fn


def dim_aliases(fn: Function, loop: Loop, captured: list[Var]) -> dict[str, Dim]:
    """Captured scalars that hold an argument's dimension when the loop runs (`n =
    A.shape[0]` at the top of the function, never assigned again): the body reads them from
    the shape it receives, so that LLVM sees `n == dim(A, 0)` and folds the range checks that
    compare them."""
    # parameters the body receives (their shapes never change)
    params = {p.name for p in fn.params} & {v.name for v in captured}
    position = next((k for k, top in enumerate(fn.body)
                     if top is loop or any(s is loop for s in walk_stmts((top,)))), None)
    assignments: dict[str, list[Stmt]] = {}
    for s in walk_stmts(fn.body):
        if isinstance(s, Assign):
            assignments.setdefault(s.target.name, []).append(s)
        elif isinstance(s, Loop):
            assignments.setdefault(s.var.name, []).append(s)
    before = fn.body[:position] if position is not None else ()
    found: dict[str, Dim] = {}
    for v in captured:
        only = assignments.get(v.name, [])
        if (len(only) == 1 and isinstance(only[0], Assign) and any(only[0] is t for t in before)
                and isinstance(only[0].value, Dim) and only[0].value.array.name in params):
            found[v.name] = only[0].value
    return found


def contiguous_strides(cg: FunctionCodegen, slot: ArraySlot) -> ll.Value:
    """Give `slot` the byte strides of a contiguous array of its shape (Fortran order for an
    F-layout type, C order otherwise); return its number of elements."""
    b = cg.builder
    dims = [b.load(d) for d in slot.shape]
    stride: ll.Value = lt.int_const(slot.type.dtype.dtype.itemsize)
    order = range(len(dims)) if slot.type.layout == "F" else reversed(range(len(dims)))
    for k in order:
        b.store(stride, slot.strides[k])
        stride = b.mul(stride, dims[k])
    total: ll.Value = lt.int_const(1)
    for d in dims:
        total = b.mul(total, d)
    return total


def element_indices(cg: FunctionCodegen, array: Var) -> tuple[Var, ...]:
    """Fresh pyint variables, one per axis of `array`, with slots in `cg`."""
    ty = array.type
    assert isinstance(ty, ArrayType)
    names = tuple(Var(f"{array.name}.e{k}", PYINT) for k in range(ty.ndim))
    for v in names:
        if v.name not in cg.scalars:
            cg.scalars[v.name] = cg.alloca(lt.I64, v.name)
    return names


def element_loops(array: Var, index: tuple[Var, ...], body: Stmt) -> Stmt:
    """`for e0 in range(dim(array, 0)): for e1 ...: body`."""
    stmt = body
    for k in reversed(range(len(index))):
        stmt = Loop(f"{array.name}.L{k}", index[k], Const(0, PYINT), Dim(array, k),
                    Const(1, PYINT), (stmt,))
    return stmt


def _scalar(v: Var) -> ScalarType:
    assert isinstance(v.type, ScalarType)
    return v.type


def _target_data(mc: object) -> object:
    import llvmlite.binding as llvm

    return llvm.create_target_data(mc.ll.data_layout)  # type: ignore[attr-defined]
