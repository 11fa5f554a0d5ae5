"""The CPU backend: LLVM IR through llvmlite, optimised at O3 for the host CPU, JIT-compiled
with MCJIT, and exposed to Python as a builtin function (METH_FASTCALL)."""

from __future__ import annotations

import ctypes
import itertools
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import llvmlite.binding as llvm

from accir.backends.llvm_codegen import ModuleCodegen
from accir.backends.llvm_loopmd import make_distinct, vectorized_loops
from accir.backends.llvm_symbols import Sentinel, register_symbols, used_symbols
from accir.backends.llvm_typeguard import build_guard
from accir.backends.llvm_wrapper import build_wrapper
from accir.ir.nodes import Module
from accir.ir.rewrite import rename_functions
from accir.ir.types import ArrayType
from accir.ir.uses import written_arrays
from accir.runtime import libgomp_loaded

_METH_FASTCALL = 0x0080
_lock = threading.Lock()
_ids = itertools.count()


class _PyMethodDef(ctypes.Structure):
    _fields_ = [
        ("ml_name", ctypes.c_char_p),
        ("ml_meth", ctypes.c_void_p),
        ("ml_flags", ctypes.c_int),
        ("ml_doc", ctypes.c_char_p),
    ]


_new_cfunction = ctypes.pythonapi.PyCFunction_NewEx
_new_cfunction.restype = ctypes.py_object
_new_cfunction.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]


def _new_target_machine() -> llvm.TargetMachine:
    """The host CPU, with the large code model: the JIT may place code, its constants and the
    process's symbols (C API functions, type objects) more than 2 GiB apart, so every address is
    a full 64 bits (what MCJIT itself chooses on x86-64)."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(),
        opt=3,
        codemodel="large",
    )


@cache
def target_machine() -> llvm.TargetMachine:
    """The host target machine, for optimisation and assembly listings."""
    return _new_target_machine()


@cache
def engine() -> llvm.ExecutionEngine:
    """One MCJIT engine for the process; every compiled module is added to it. The engine
    owns its target machine, so it gets one of its own."""
    tm = _new_target_machine()
    empty = llvm.parse_assembly("")
    empty.triple = tm.triple
    return llvm.create_mcjit_compiler(empty, tm)


def optimize(mod: llvm.ModuleRef, level: int = 3) -> None:
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pto.loop_vectorization = level >= 2
    pto.slp_vectorization = level >= 2
    pb = llvm.create_pass_builder(target_machine(), pto)
    pb.getModulePassManager().run(mod, pb)


@dataclass
class ObjectCode:
    """A compiled module as relocatable machine code, and what it takes to load it again."""

    code: bytes  # an ELF (or the platform's) object file
    wrapper: str  # symbol of the METH_FASTCALL entry point
    guarded: str  # ... and of the one that checks argument types first
    entry_name: str  # the Python-visible name of the entry function
    symbols: list[str]  # process symbols it refers to (llvm_symbols)
    llvm_ir: str
    llvm_opt: str
    vectorized: frozenset[str] = frozenset()  # "<function position>/<loop id>" (llvm_loopmd)


@dataclass
class NativeFunction:
    """A compiled module's entry point and its inspectable artifacts."""

    entry: Any  # builtin function taking the entry's parameters positionally
    guarded: Any  # the same, checking argument types first: returns MISMATCH if they differ
    obj: ObjectCode = field(repr=False)
    keepalive: list[object] = field(default_factory=list, repr=False)

    @property
    def llvm_ir(self) -> str:
        return self.obj.llvm_ir

    @property
    def llvm_opt(self) -> str:
        return self.obj.llvm_opt

    @property
    def vectorized(self) -> frozenset[str]:
        return self.obj.vectorized

    def assembly(self) -> str:
        return str(target_machine().emit_assembly(llvm.parse_assembly(self.obj.llvm_opt)))


# Returned by a compiled function whose noalias assumption does not hold for the arguments it
# was given (two of them share memory and one is written).
ALIASED = Sentinel("ALIASED")
# Returned by a guarded entry point given arguments of other types than it was compiled for.
MISMATCH = Sentinel("MISMATCH")


def compile_module(module: Module, opt_level: int = 3, assume_noalias: bool = True,
                   prefix: str | None = None) -> NativeFunction:
    """Compile a module; with `assume_noalias` (and two or more arrays, one written) the entry
    is compiled for arrays that share no memory, and returns ALIASED when they do. Symbols are
    prefixed with `prefix` (default: a fresh number): every module shares one engine."""
    return load_object(compile_object(module, opt_level, assume_noalias, prefix))


def compile_object(module: Module, opt_level: int = 3, assume_noalias: bool = True,
                   prefix: str | None = None) -> ObjectCode:
    """Generate, optimise and compile a module to relocatable object code."""
    tm = target_machine()
    prefix = prefix or str(next(_ids))
    renamed = _unique(module, prefix)
    noalias = assume_noalias and _may_alias(renamed)
    checked = assume_noalias and (noalias or _writes_strided(renamed))
    codegen = ModuleCodegen(renamed, tm.triple, str(tm.target_data), noalias=noalias)
    llmod = codegen.emit()
    keepalive: list[object] = []  # objects the code points at: all are process-lifetime
    wrapper_name, guard_name = f"accir.{prefix}.wrapper", f"accir.{prefix}.guarded"
    wrapper = build_wrapper(llmod, renamed, renamed.entry, codegen.functions[renamed.entry.name],
                            wrapper_name, keepalive, ALIASED if checked else None)
    build_guard(llmod, renamed.entry, wrapper, guard_name, keepalive, MISMATCH)
    text = make_distinct(str(llmod), codegen.loop_ids)
    ref = llvm.parse_assembly(text)
    ref.verify()
    if opt_level:
        optimize(ref, opt_level)
    optimized = str(ref)
    return ObjectCode(tm.emit_object(ref), wrapper_name, guard_name, module.entry.name,
                      used_symbols(optimized), text, optimized,
                      frozenset(vectorized_loops(optimized)))


def load_object(obj: ObjectCode) -> NativeFunction:
    """Link object code into the process's engine and wrap its entry points."""
    register_symbols()
    if '@"GOMP_' in obj.llvm_opt or "@GOMP_" in obj.llvm_opt:
        libgomp_loaded()  # the code calls into libgomp: the JIT resolves it in the process
    keepalive: list[object] = []
    with _lock:
        ee = engine()
        ee.add_object_file(llvm.ObjectFileRef.from_data(obj.code))
        ee.finalize_object()
        entry, guarded = (_builtin(obj.entry_name, ee.get_function_address(name), keepalive)
                          for name in (obj.wrapper, obj.guarded))
    return NativeFunction(entry, guarded, obj, keepalive)


def _builtin(name: str, address: int, keepalive: list[object]) -> Any:
    """A Python builtin function calling the METH_FASTCALL C function at `address`."""
    method = _PyMethodDef(name.encode(), address, _METH_FASTCALL, None)
    keepalive.append(method)
    return _new_cfunction(ctypes.addressof(method), None, None)


def _may_alias(module: Module) -> bool:
    """Whether the entry has two array parameters of which at least one is written."""
    arrays = [p.name for p in module.entry.params if isinstance(p.type, ArrayType)]
    written = written_arrays(module, module.entry)
    return len(arrays) >= 2 and bool(written & set(arrays))


def _writes_strided(module: Module) -> bool:
    """Whether the entry writes an array of any-stride layout (which could repeat elements)."""
    written = written_arrays(module, module.entry)
    return any(isinstance(p.type, ArrayType) and p.type.layout == "A" and p.name in written
               for p in module.entry.params)


def _unique(module: Module, prefix: str) -> Module:
    """Prefix function names with a per-compilation id: every module shares one engine."""
    return rename_functions(module, lambda name: f"{prefix}.{name}")

