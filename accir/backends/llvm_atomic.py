"""`#pragma acc atomic` regions on the CPU: real atomic instructions.

- read / write: the element is loaded / stored with a single atomic instruction;
- update: `x[i] = x[i] op e` becomes `atomicrmw` for integer + - & | ^ and float + -, and a
  compare-and-swap loop for everything else (any operation, any element type but complex):
  the new value is computed from the value read, and stored only if the element still holds
  it, else computed again;
- capture: an update with the element's value before it (`v = x[i]` first) or after it
  (`v = x[i]` last) assigned to `v`, from the same atomic operation.

A scalar updated atomically in a parallel loop is a reduction variable (each thread has its
own copy), so its update needs no atomic instruction.
"""

from __future__ import annotations

from typing import Any

import llvmlite.ir as ll

from accir.backends import llvm_types as lt
from accir.ir.intrinsics import deferred_conversion
from accir.ir.nodes import Assign, BinOp, Expr, Load, Region, Store, Var
from accir.ir.rewrite import map_children
from accir.ir.types import ScalarType
from accir.passes.ids import without_checks

_RMW_INT = {"+": "add", "-": "sub", "&": "and", "|": "or", "^": "xor"}
_RMW_FLOAT = {"+": "fadd", "-": "fsub"}
_OLD = "atomic.old"


class AtomicCodegen:
    """Mixin of FunctionCodegen: emits atomic regions."""

    builder: ll.IRBuilder
    llfn: ll.Function
    scalars: dict[str, ll.Value]
    arrays: dict[str, Any]
    atomic_access: bool = False

    def atomic_region(self, s: Region) -> None:
        update = _the_update(s)
        if update is None:  # read, write, or a shape without an update: atomic accesses
            self.atomic_access = True
            try:
                self.block(s.body)  # type: ignore[attr-defined]
            finally:
                self.atomic_access = False
            return
        store, capture, before = update
        old, new = self.atomic_update(store)
        if capture is not None:
            self.builder.store(old if before else new, self.scalars[capture.target.name])

    def atomic_update(self, s: Store) -> tuple[ll.Value, ll.Value]:
        """Update the element atomically; return its (old, new) values."""
        b = self.builder
        slot = self.arrays[s.array.name]
        dtype: ScalarType = slot.type.dtype
        ptr = self.element_ptr(slot, s.indices, s.checked)  # type: ignore[attr-defined]
        inner, conversion = deferred_conversion(s.value)
        rmw = _rmw_form(inner, s, dtype) if conversion is None else None
        align = dtype.dtype.itemsize
        if rmw is not None:
            op, operand = rmw
            value = self.expr(operand)  # type: ignore[attr-defined]
            old = b.atomic_rmw(op, ptr, value, "seq_cst")
            new = self.binop(inner.op, old, value, dtype)  # type: ignore[attr-defined]
            return old, new
        itype = ll.IntType(8 * align)
        memory = lt.memory_type(dtype)
        old_slot = self.scalars[_OLD] = self.alloca(lt.value_type(dtype), _OLD)  # type: ignore[attr-defined]
        retry = self.llfn.append_basic_block("atomic.retry")
        done = self.llfn.append_basic_block("atomic.done")
        b.branch(retry)
        b.position_at_end(retry)
        raw = b.load_atomic(ptr, "monotonic", align, typ=itype)
        old = b.bitcast(raw, memory) if memory != itype else raw
        if dtype.is_bool:
            old = b.icmp_unsigned("!=", old, ll.Constant(lt.I8, 0))
        b.store(old, old_slot)
        replaced = _replace_element(inner, s, Var(_OLD, dtype))
        new = self.converted(self.expr(replaced), conversion)  # type: ignore[attr-defined]
        stored = b.zext(new, lt.I8) if dtype.is_bool else new
        raw_new = b.bitcast(stored, itype) if memory != itype else stored
        result = b.cmpxchg(ptr, raw, raw_new, "seq_cst", "monotonic")
        b.cbranch(b.extract_value(result, 1), done, retry)
        b.position_at_end(done)
        del self.scalars[_OLD]
        return old, new


def _the_update(s: Region) -> tuple[Store, Assign | None, bool] | None:
    """(the updating store, the capturing assignment, whether it reads the old value)."""
    body = s.body
    stores = [x for x in body if isinstance(x, Store) and _reads_element(x.value, x)]
    if len(stores) != 1 or len(body) > 2:
        return None
    store = stores[0]
    if len(body) == 1:
        return store, None, False
    other = body[1] if body[0] is store else body[0]
    if not (isinstance(other, Assign) and isinstance(other.value, Load)
            and _same_element(other.value, store)):
        return None
    return store, other, body[0] is other


def _rmw_form(value: Expr, s: Store, dtype: ScalarType) -> tuple[str, Expr] | None:
    """(atomicrmw operation, operand) for `x[i] op e` with `e` free of x[i]."""
    if not isinstance(value, BinOp) or dtype.is_bool:
        return None
    table = _RMW_INT if dtype.is_int else _RMW_FLOAT if dtype.is_float else {}
    if value.op not in table or value.type != dtype:
        return None
    if isinstance(value.lhs, Load) and _same_element(value.lhs, s) and \
            not _reads_element(value.rhs, s):
        return table[value.op], value.rhs
    return None


def _same_element(load: Load, s: Store) -> bool:
    return load.array.name == s.array.name and tuple(map(without_checks, load.indices)) == \
        tuple(map(without_checks, s.indices))


def _reads_element(e: Expr, s: Store) -> bool:
    if isinstance(e, Load) and _same_element(e, s):
        return True
    found = False

    def visit(c: Any) -> Any:
        nonlocal found
        for x in c if isinstance(c, tuple) else (c,):
            if isinstance(x, Expr) and _reads_element(x, s):
                found = True
        return c

    map_children(e, visit)
    return found


def _replace_element(e: Expr, s: Store, old: Var) -> Expr:
    if isinstance(e, Load) and _same_element(e, s):
        return old

    def visit(c: Any) -> Any:
        if isinstance(c, tuple):
            return tuple(_replace_element(x, s, old) if isinstance(x, Expr) else x for x in c)
        return _replace_element(c, s, old) if isinstance(c, Expr) else c

    result = map_children(e, visit)
    assert isinstance(result, Expr)
    return result
