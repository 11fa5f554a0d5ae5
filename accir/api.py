"""`accir.compile`: the decorator, and dispatch of calls to compiled specialisations."""

from __future__ import annotations

import functools
import inspect
import os
import threading
import types
import warnings
from typing import Any

import numpy as np

from accir.backends.llvm_cpu import ALIASED, MISMATCH
from accir.cache import DiskCache, default_directory
from accir.compiler import TARGETS, CompileOptions, Specialization, compile_signature
from accir.diagnostics import AccirError, RaceWarning, Remark, UnsupportedError
from accir.frontend.lower import ArgSpec
from accir.frontend.resolve import FrozenObject
from accir.ir.printer import print_module
from accir.ir.types import (
    PYBOOL,
    PYCOMPLEX,
    PYFLOAT,
    PYINT,
    STRONG_TYPES,
    ArrayType,
    ScalarType,
    from_dtype,
)

_SCALAR_ARGS: dict[type, ScalarType] = {
    bool: PYBOOL,
    int: PYINT,
    float: PYFLOAT,
    complex: PYCOMPLEX,
    **{t.dtype.type: t for t in STRONG_TYPES},
}
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
CacheSetting = bool | str | os.PathLike | DiskCache | None
_NOT_OBJECTS = (list, tuple, dict, set, frozenset, str, bytes, type(None))


@functools.lru_cache(maxsize=1024)
def _array_type(dtype: np.dtype, ndim: int, layout: str) -> ArrayType:
    return ArrayType(from_dtype(dtype), ndim, layout)


def typeof_arg(value: Any, name: str = "") -> ArgSpec:
    """The type accir specialises on for one argument value."""
    t = _SCALAR_ARGS.get(type(value))
    if t is PYINT and not _I64_MIN <= value <= _I64_MAX:
        raise UnsupportedError(
            f"argument '{name}' is {value}, which does not fit in the 64-bit integers accir "
            "compiles", hint="pass it as a float, or reduce it",
        )
    if t is not None:
        return t
    if isinstance(value, np.ndarray):
        flags = value.flags
        layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
        try:
            return _array_type(value.dtype, value.ndim, layout)
        except KeyError:
            raise UnsupportedError(
                f"argument '{name}' is an array of dtype {value.dtype}, which accir does "
                "not compile",
                hint="use bool, (u)int8-64, float32/64 or complex64/128 in native byte order",
            ) from None
    if isinstance(value, (_NOT_OBJECTS, np.generic)):
        raise UnsupportedError(
            f"argument '{name}' is a {type(value).__name__}: accir compiles NumPy arrays, "
            "numbers and objects whose attributes are numbers",
            hint="convert it with np.asarray(...)" if isinstance(value, (list, tuple)) else None,
        )
    return FrozenObject.of(value)


def _no_fast_path(*args: Any) -> Any:
    return MISMATCH


class CompiledFunction:
    """A Python function compiled on first call, once per argument signature."""

    def __init__(self, py_func: Any, target: str = "auto", cache: CacheSetting = False,
                 **options: Any):
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
        self.py_func = py_func
        functools.update_wrapper(self, py_func)
        self.target = "cpu" if target == "auto" else target
        self.options = CompileOptions(target=self.target, **options)
        self.cache = _disk_cache(cache)
        self._specializations: dict[tuple[ArgSpec, ...], Specialization] = {}
        self._aliased: dict[tuple[ArgSpec, ...], Specialization] = {}  # for overlapping arrays
        self._fast: Any = _no_fast_path
        self._lock = threading.Lock()
        self._params = list(inspect.signature(py_func).parameters)

    def __repr__(self) -> str:
        return f"<accir.CompiledFunction {self.py_func.__qualname__} target={self.target}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            # The latest specialisation's native entry checks the argument types itself.
            result = self._fast(*args)
            if result is not MISMATCH and result is not ALIASED:
                return result
        return self._dispatch(args, kwargs)

    def _dispatch(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Type the arguments in Python, find or compile the specialisation, call it."""
        if kwargs or len(args) != len(self._params):
            args = self._bind(args, kwargs)  # defaults, keywords, and Python's arity errors
        key = tuple(typeof_arg(a, n) for a, n in zip(args, self._params, strict=False))
        spec = self._specializations.get(key)
        if spec is None:
            spec = self._compile(key)
        if spec.direct and spec.native is not None:
            self._fast = spec.native.guarded
        result = spec(args)
        if result is ALIASED:  # arrays share memory: run the version that allows it
            result = self._compile(key, aliased=True)(args)
        return result

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        bound = inspect.signature(self.py_func).bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def _compile(self, key: tuple[ArgSpec, ...], aliased: bool = False) -> Specialization:
        table = self._aliased if aliased else self._specializations
        with self._lock:
            spec = table.get(key)
            if spec is None:
                try:
                    spec = compile_signature(self.py_func, key, self.options,
                                             assume_noalias=not aliased, cache=self.cache)
                except AccirError as err:
                    raise err.with_traceback(None) from None
                table[key] = spec
                if not aliased:
                    _warn_races(spec.remarks)
        return spec

    def compile_for(self, *args: Any) -> Specialization:
        """Compile for the types of these example arguments without running."""
        key = tuple(typeof_arg(a, n) for a, n in zip(args, self._params, strict=False))
        return self._specializations.get(key) or self._compile(key)

    # ------------------------------------------------------------------ inspection

    @property
    def specializations(self) -> list[Specialization]:
        return list(self._specializations.values())

    @property
    def signatures(self) -> list[tuple[ArgSpec, ...]]:
        return list(self._specializations)

    def _one(self, signature: tuple[ArgSpec, ...] | None) -> Specialization:
        if signature is not None:
            return self._specializations[signature]
        if not self._specializations:
            raise RuntimeError(f"{self.py_func.__name__} has not been compiled yet: call it first")
        return list(self._specializations.values())[-1]

    def inspect_ir(self, signature: tuple[ArgSpec, ...] | None = None) -> str:
        """The loop IR after the pass pipeline (of the latest or the given signature)."""
        return print_module(self._one(signature).ir)

    def inspect_llvm(self, signature: tuple[ArgSpec, ...] | None = None,
                     optimized: bool = True) -> str:
        spec = self._one(signature)
        return spec.llvm_opt if optimized else spec.llvm_ir

    def inspect_asm(self, signature: tuple[ArgSpec, ...] | None = None) -> str:
        return self._one(signature).assembly()

    @property
    def remarks(self) -> list[Remark]:
        return [r for s in self._specializations.values() for r in s.remarks]


def _warn_races(remarks: list[Remark]) -> None:
    """A proven race in a directive becomes a RaceWarning pointing at the loop's line."""
    for r in remarks:
        if r.kind == "race":
            warnings.warn_explicit(r.message, RaceWarning, r.file or "<accir>", r.line or 1)


def compile(fn: Any = None, *, target: str = "auto", cache: CacheSetting = False,
            **options: Any) -> Any:
    """Compile a function: `@accir.compile`, `@accir.compile(target="cpu")` or
    `accir.compile(fn, target="cpu")`.

    `cache=True` keeps the compiled code on disk (in `ACCIR_CACHE_DIR`, else
    `~/.cache/accir`), so that later processes load it instead of compiling; `cache=<path>`
    uses that directory. See accir.cache."""
    if fn is None:
        return lambda f: compile(f, target=target, cache=cache, **options)
    if isinstance(fn, CompiledFunction):
        fn = fn.py_func
    if isinstance(fn, types.MethodType):
        return types.MethodType(CompiledFunction(fn.__func__, target, cache, **options),
                                fn.__self__)
    return CompiledFunction(fn, target, cache, **options)


def _disk_cache(setting: CacheSetting) -> DiskCache | None:
    if isinstance(setting, DiskCache):
        return setting
    if setting is True:
        return _default_cache()
    if setting is False or setting is None:
        return None
    if isinstance(setting, (str, os.PathLike)):
        return DiskCache(setting)
    raise TypeError(f"cache must be True, False or a directory, not {setting!r}")


def _default_cache() -> DiskCache:
    """One DiskCache per directory, so that its checks run once."""
    directory = default_directory()
    found = _caches.get(directory)
    if found is None:
        found = _caches[directory] = DiskCache(directory)
    return found


_caches: dict[Any, DiskCache] = {}
