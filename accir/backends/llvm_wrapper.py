"""The CPython entry point of a compiled function, written in LLVM IR.

`PyObject *wrapper(PyObject *self, PyObject *const *args, Py_ssize_t nargs)` (METH_FASTCALL):
it unpacks NumPy arrays by reading the `PyArrayObject` fields directly (data, shape, strides:
the layout NumPy has kept stable since 1.7) and numbers through the C API, releases the GIL,
runs the kernel, raises the kernel's error as the matching Python exception, and boxes the
result. The dispatcher has already checked every argument's type, rank and layout.
"""

from __future__ import annotations

import builtins

import llvmlite.ir as ll
import numpy as np

from accir.backends import llvm_types as lt
from accir.backends.errors import all_kinds
from accir.backends.llvm_symbols import object_ref
from accir.ir.nodes import Function, Module
from accir.ir.types import ArrayType, NoneType, ScalarType
from accir.ir.uses import written_arrays

# PyArrayObject field offsets (PyObject_HEAD is 16 bytes on 64-bit CPython)
ARRAY_DATA, ARRAY_DIMS, ARRAY_STRIDES, ARRAY_FLAGS = 16, 32, 40, 64
NPY_ARRAY_WRITEABLE = 0x0400


class WrapperBuilder:
    def __init__(self, module: ll.Module, ir: Module, fn: Function, kernel: ll.Function,
                 name: str, keepalive: list[object], aliased: object | None = None):
        self.ir = ir
        self.aliased = aliased
        self.module = module
        self.fn = fn
        self.kernel = kernel
        self.keepalive = keepalive
        fnty = ll.FunctionType(lt.PTR, [lt.PTR, lt.PTR, lt.I64])
        self.wrapper = ll.Function(module, fnty, name=name)
        self.builder = ll.IRBuilder(self.wrapper.append_basic_block("entry"))
        self.null = ll.Constant(lt.PTR, None)

    def api(self, name: str, ret: ll.Type, args: list[ll.Type], var_arg: bool = False
            ) -> ll.Function:
        """A CPython C-API function (resolved in the running interpreter)."""
        return lt.declare(self.module, name, ret, args, var_arg)

    def pyexc(self, name: str) -> ll.Value:
        """The exception class `name` (through accir's own symbol: other JITs in the process,
        Numba's among them, register `PyExc_*` symbols of their own)."""
        return object_ref(self.module, getattr(builtins, name))

    def build(self) -> ll.Function:
        b = self.builder
        written = written_arrays(self.ir, self.fn)
        kernel_args: list[ll.Value] = []
        arrays: list[tuple[list[ll.Value], ArrayType, bool]] = []
        for k, p in enumerate(self.fn.params):
            obj = b.load(b.gep(self.wrapper.args[1], [lt.int_const(k)], source_etype=lt.PTR),
                         typ=lt.PTR)
            if isinstance(p.type, ArrayType):
                unpacked = self.unpack_array(obj, p.type, p.name in written)
                arrays.append((unpacked, p.type, p.name in written))
                kernel_args += unpacked
            else:
                assert isinstance(p.type, ScalarType)
                kernel_args.append(self.unpack_scalar(obj, p.type))
        if self.aliased is not None:
            self.check_overlap(arrays)
        ret_type = lt.value_type(self.fn.ret) if isinstance(self.fn.ret, ScalarType) else lt.I8
        ret = b.alloca(ret_type, name="ret")
        err = b.alloca(lt.ERROR_RECORD, name="err")
        save = self.api("PyEval_SaveThread", lt.PTR, [])
        restore = self.api("PyEval_RestoreThread", lt.VOID, [lt.PTR])
        state = b.call(save, [])
        status = b.call(self.kernel, [ret, err, *kernel_args])
        b.call(restore, [state])
        with b.if_then(b.icmp_signed("!=", status, lt.int_const(0, 32)), likely=False):
            self.raise_error(status, err)
        b.ret(self.box(b.load(ret, typ=ret_type)))
        return self.wrapper

    # ------------------------------------------------------------------ arguments

    def field(self, obj: ll.Value, offset: int, ty: ll.Type) -> ll.Value:
        ptr = self.builder.gep(obj, [lt.int_const(offset)], source_etype=lt.I8)
        return self.builder.load(ptr, typ=ty)

    def unpack_array(self, obj: ll.Value, ty: ArrayType, written: bool) -> list[ll.Value]:
        b = self.builder
        if written:
            flags = self.field(obj, ARRAY_FLAGS, lt.I32)
            readonly = b.icmp_unsigned(
                "==", b.and_(flags, lt.int_const(NPY_ARRAY_WRITEABLE, 32)), lt.int_const(0, 32))
            with b.if_then(readonly, likely=False):
                self.fail_with("ValueError", "assignment destination is read-only")
        data = self.field(obj, ARRAY_DATA, lt.PTR)
        dims = self.field(obj, ARRAY_DIMS, lt.PTR)
        strides = self.field(obj, ARRAY_STRIDES, lt.PTR)
        shape = [b.load(b.gep(dims, [lt.int_const(k)], source_etype=lt.I64), typ=lt.I64)
                 for k in range(ty.ndim)]
        steps = [b.load(b.gep(strides, [lt.int_const(k)], source_etype=lt.I64), typ=lt.I64)
                 for k in range(ty.ndim)]
        return [data, *shape, *steps]

    def unpack_scalar(self, obj: ll.Value, ty: ScalarType) -> ll.Value:
        b = self.builder
        if ty.is_bool:
            truth = b.call(self.api("PyObject_IsTrue", lt.I32, [lt.PTR]), [obj])
            self.check_error(b.icmp_signed("<", truth, lt.int_const(0, 32)))
            return b.icmp_signed("!=", truth, lt.int_const(0, 32))
        if ty.is_complex:
            fn = self.api("PyComplex_AsCComplex", lt.C128, [lt.PTR])
            z = b.call(fn, [obj])
            self.check_error(b.fcmp_ordered("==", b.extract_value(z, 0), ll.Constant(lt.F64, -1.0)))
            if ty.storage.bits == 64:
                re = b.fptrunc(b.extract_value(z, 0), lt.F32)
                im = b.fptrunc(b.extract_value(z, 1), lt.F32)
                z = b.insert_value(b.insert_value(ll.Constant(lt.C64, ll.Undefined), re, 0), im, 1)
            return z
        if ty.is_float:
            d = b.call(self.api("PyFloat_AsDouble", lt.F64, [lt.PTR]), [obj])
            self.check_error(b.fcmp_ordered("==", d, ll.Constant(lt.F64, -1.0)))
            return b.fptrunc(d, lt.F32) if ty.bits == 32 else d
        if ty.name == "u64":  # np.uint64 is no int: take its __index__ first
            index = b.call(self.api("PyNumber_Index", lt.PTR, [lt.PTR]), [obj])
            with b.if_then(b.icmp_unsigned("==", index, self.null), likely=False):
                b.ret(self.null)
            convert = self.api("PyLong_AsUnsignedLongLong", lt.I64, [lt.PTR])
            v = b.call(convert, [index])
            b.call(self.api("Py_DecRef", lt.VOID, [lt.PTR]), [index])
        else:
            v = b.call(self.api("PyLong_AsLongLong", lt.I64, [lt.PTR]), [obj])
        self.check_error(b.icmp_signed("==", v, lt.int_const(-1)))
        return b.trunc(v, ll.IntType(ty.bits)) if ty.bits < 64 else v

    def check_overlap(self, arrays: list[tuple[list[ll.Value], ArrayType, bool]]) -> None:
        """The kernel (and the dependence analysis behind it) assumes that an array it writes
        shares no memory with the other arrays, nor between two of its own elements (a
        strided view can repeat elements: stride 0); when that fails, return the `aliased`
        sentinel so the caller runs a version compiled without the assumption."""
        b = self.builder
        extents = [self.extent(unpacked, ty) for unpacked, ty, _ in arrays]
        for i in range(len(arrays)):
            unpacked, ty, written = arrays[i]
            if written and ty.layout == "A" and ty.ndim:
                self.leave_if_aliased(self.self_overlap(unpacked, ty))
            for j in range(i + 1, len(arrays)):
                if not (written or arrays[j][2]):
                    continue  # reading the same memory twice is fine
                (lo1, hi1), (lo2, hi2) = extents[i], extents[j]
                self.leave_if_aliased(b.and_(b.icmp_unsigned("<", lo1, hi2),
                                             b.icmp_unsigned("<", lo2, hi1)))

    def leave_if_aliased(self, condition: ll.Value) -> None:
        b = self.builder
        with b.if_then(condition, likely=False):
            self.keepalive.append(self.aliased)
            sentinel = object_ref(self.module, self.aliased)
            b.call(self.api("Py_IncRef", lt.VOID, [lt.PTR]), [sentinel])
            b.ret(sentinel)

    def self_overlap(self, unpacked: list[ll.Value], ty: ArrayType) -> ll.Value:
        """Whether two elements of a strided array may share memory: with the dimensions
        sorted by |stride|, each stride must clear the span of the smaller ones."""
        b = self.builder
        shape, strides = unpacked[1 : 1 + ty.ndim], unpacked[1 + ty.ndim :]
        zero = lt.int_const(0)
        dims = [(b.select(b.icmp_signed("<", s, zero), b.neg(s), s), n)
                for s, n in zip(strides, shape, strict=True)]
        for i in range(len(dims)):  # a sorting network of compare-and-swap selects
            for j in range(len(dims) - 1 - i):
                (s1, n1), (s2, n2) = dims[j], dims[j + 1]
                swap = b.icmp_unsigned(">", s1, s2)
                dims[j] = (b.select(swap, s2, s1), b.select(swap, n2, n1))
                dims[j + 1] = (b.select(swap, s1, s2), b.select(swap, n1, n2))
        span = lt.int_const(ty.dtype.dtype.itemsize)
        overlap = ll.Constant(lt.I1, 0)
        empty = ll.Constant(lt.I1, 0)
        for s, n in dims:
            several = b.icmp_signed(">", n, lt.int_const(1))
            overlap = b.or_(overlap, b.and_(several, b.icmp_unsigned("<", s, span)))
            span = b.add(span, b.mul(s, b.select(several, b.sub(n, lt.int_const(1)), zero)))
            empty = b.or_(empty, b.icmp_signed("==", n, zero))
        return b.and_(overlap, b.not_(empty))

    def extent(self, unpacked: list[ll.Value], ty: ArrayType) -> tuple[ll.Value, ll.Value]:
        """[lo, hi) byte addresses an array's elements occupy; empty arrays occupy nothing."""
        b = self.builder
        data = b.ptrtoint(unpacked[0], lt.I64)
        shape, strides = unpacked[1 : 1 + ty.ndim], unpacked[1 + ty.ndim :]
        zero = lt.int_const(0)
        lo, hi = data, b.add(data, lt.int_const(ty.dtype.dtype.itemsize))
        empty = ll.Constant(lt.I1, 0)
        for n, s in zip(shape, strides, strict=True):
            span = b.mul(b.sub(n, lt.int_const(1)), s)
            negative = b.icmp_signed("<", s, zero)
            lo = b.add(lo, b.select(negative, span, zero))
            hi = b.add(hi, b.select(negative, zero, span))
            empty = b.or_(empty, b.icmp_signed("==", n, zero))
        return b.select(empty, data, lo), b.select(empty, data, hi)

    def check_error(self, maybe: ll.Value) -> None:
        """After a C-API conversion that returned its error value: leave if an error is set."""
        b = self.builder
        with b.if_then(maybe, likely=False):
            occurred = b.call(self.api("PyErr_Occurred", lt.PTR, []), [])
            with b.if_then(b.icmp_unsigned("!=", occurred, self.null), likely=False):
                b.ret(self.null)

    def fail_with(self, exception: str, message: str) -> None:
        b = self.builder
        set_string = self.api("PyErr_SetString", lt.VOID, [lt.PTR, lt.PTR])
        b.call(set_string, [self.pyexc(exception), self.cstring(message)])
        b.ret(self.null)

    def cstring(self, text: str) -> ll.Value:
        data = bytearray(text.encode("utf-8") + b"\0")
        ty = ll.ArrayType(lt.I8, len(data))
        name = f"str.{len(self.module.globals)}"
        gv = ll.GlobalVariable(self.module, ty, name)
        gv.global_constant = True
        gv.linkage = "internal"
        gv.initializer = ll.Constant(ty, data)
        return gv

    # ------------------------------------------------------------------ errors and results

    def raise_error(self, status: ll.Value, err: ll.Value) -> None:
        b = self.builder
        fmt = self.api("PyErr_Format", lt.PTR, [lt.PTR, lt.PTR], var_arg=True)
        args = [
            b.load(b.gep(err, [lt.int_const(0, 32), lt.int_const(k, 32)],
                         source_etype=lt.ERROR_RECORD), typ=lt.I64)
            for k in (1, 2, 3)
        ]
        for code, kind in all_kinds():
            with b.if_then(b.icmp_signed("==", status, lt.int_const(code, 32))):
                b.call(fmt, [self.pyexc(kind.exception), self.cstring(kind.message), *args])
                b.ret(self.null)
        self.fail_with("SystemError", "accir: unknown error code from compiled code")

    def box(self, value: ll.Value) -> ll.Value:
        b = self.builder
        ret = self.fn.ret
        if isinstance(ret, NoneType) or not isinstance(ret, ScalarType):
            none = object_ref(self.module, None)
            b.call(self.api("Py_IncRef", lt.VOID, [lt.PTR]), [none])
            return none
        obj = self.box_python(value, ret)
        if ret.weak:
            return obj
        return self.to_numpy_scalar(obj, ret)

    def box_python(self, value: ll.Value, ty: ScalarType) -> ll.Value:
        b = self.builder
        if ty.is_bool:
            return b.call(self.api("PyBool_FromLong", lt.PTR, [lt.I64]), [b.zext(value, lt.I64)])
        if ty.is_complex:
            re, im = b.extract_value(value, 0), b.extract_value(value, 1)
            if re.type == lt.F32:
                re, im = b.fpext(re, lt.F64), b.fpext(im, lt.F64)
            return b.call(self.api("PyComplex_FromDoubles", lt.PTR, [lt.F64, lt.F64]), [re, im])
        if ty.is_float:
            d = b.fpext(value, lt.F64) if value.type == lt.F32 else value
            return b.call(self.api("PyFloat_FromDouble", lt.PTR, [lt.F64]), [d])
        if ty.kind == "u":
            v = b.zext(value, lt.I64) if ty.bits < 64 else value
            return b.call(self.api("PyLong_FromUnsignedLongLong", lt.PTR, [lt.I64]), [v])
        v = b.sext(value, lt.I64) if ty.bits < 64 else value
        return b.call(self.api("PyLong_FromLongLong", lt.PTR, [lt.I64]), [v])

    def to_numpy_scalar(self, obj: ll.Value, ty: ScalarType) -> ll.Value:
        """np.<type>(obj): call the NumPy scalar type (kept alive by the caller)."""
        b = self.builder
        scalar_type = ty.dtype.type
        self.keepalive.append(scalar_type)
        type_ptr = object_ref(self.module, scalar_type)
        call = self.api("PyObject_CallFunctionObjArgs", lt.PTR, [lt.PTR], var_arg=True)
        result = b.call(call, [type_ptr, obj, self.null])
        b.call(self.api("Py_DecRef", lt.VOID, [lt.PTR]), [obj])
        return result


def build_wrapper(module: ll.Module, ir: Module, fn: Function, kernel: ll.Function, name: str,
                  keepalive: list[object], aliased: object | None = None) -> ll.Function:
    """The METH_FASTCALL entry point for `fn` (the entry of `ir`) calling `kernel`."""
    return WrapperBuilder(module, ir, fn, kernel, name, keepalive, aliased).build()


_ = np
