"""The compilation driver: frontend -> passes -> backend, for one argument signature."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np

from accir.cache import CacheEntry, DiskCache, cache_key, remark_dicts
from accir.diagnostics import Remark
from accir.frontend.lower import ArgSpec, LoweredModule, lower_function
from accir.ir.nodes import Loop, Module, walk_stmts
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.passes.manager import PassManager, PipelineResult, default_pipeline

TARGETS = ("auto", "cpu", "interp")


@dataclass(frozen=True)
class CompileOptions:
    """Everything that changes the generated code (and so keys the on-disk cache)."""

    target: str = "cpu"
    pipeline: str | None = None  # None: the default pipeline
    opt_level: int = 3
    trust_directives: bool = False  # honour parallel directives without checking for races
    reassociate: bool = False  # parallelise float sums and products without a clause

    def pipeline_string(self) -> str:
        """The pipeline to run: the user's, or the default one with these options."""
        if self.pipeline:
            return self.pipeline
        pipeline = default_pipeline(self.target)
        settings = [f"{name}=true" for name in ("trust_directives", "reassociate")
                    if getattr(self, name)]
        if settings:
            pipeline = pipeline.replace("auto-parallelize",
                                        "auto-parallelize{" + " ".join(settings) + "}")
        return pipeline


@dataclass
class Specialization:
    """The compiled form of a function for one argument signature."""

    signature: tuple[ArgSpec, ...]
    frontend_ir: Module
    entry: Any
    runtime_args: list[int]
    hidden: list[np.ndarray]
    remarks: list[Remark] = field(default_factory=list)
    native: Any = None  # NativeFunction for target cpu
    changed_by: list[str] = field(default_factory=list)  # passes that changed the IR
    # seconds per phase of the first call: frontend, cache (key, read, link), passes, llvm, load
    timings: dict[str, float] = field(default_factory=dict)
    pass_timings: list[tuple[str, float]] = field(default_factory=list)  # (pass, seconds)
    cached: bool = False  # loaded from the on-disk cache
    ir_module: Module | None = field(default=None, repr=False)  # after the pipeline
    ir_text: str = field(default="", repr=False)  # ... its text, until first needed

    def __post_init__(self) -> None:
        self.direct = not self.hidden and self.runtime_args == list(range(len(self.signature)))

    def __call__(self, args: tuple[Any, ...]) -> Any:
        if self.direct:
            return self.entry(*args)
        return self.entry(*[args[i] for i in self.runtime_args], *self.hidden)

    @property
    def ir(self) -> Module:
        """The IR after the pass pipeline (parsed from its text for a cached entry)."""
        if self.ir_module is None:
            self.ir_module = parse_module(self.ir_text, "<cached IR>")
        return self.ir_module

    @property
    def llvm_ir(self) -> str:
        return self.native.llvm_ir if self.native else ""

    @property
    def llvm_opt(self) -> str:
        return self.native.llvm_opt if self.native else ""

    def assembly(self) -> str:
        return self.native.assembly() if self.native else ""


def compile_signature(py_func: Any, specs: tuple[ArgSpec, ...], options: CompileOptions,
                      assume_noalias: bool = True, cache: DiskCache | None = None
                      ) -> Specialization:
    """Compile `py_func` for one signature. With `assume_noalias` the native code assumes
    written arrays share no memory with other arrays and returns ALIASED when they do. With a
    `cache`, a specialisation compiled before (by any process) is loaded instead."""
    clock = _Clock()
    lowered = lower_function(py_func, list(specs))
    clock.lap("frontend")
    key = None
    if cache is not None and options.target == "cpu":
        key = specialization_key(lowered, specs, options, assume_noalias)
        found = load_cached(key, cache, lowered, specs)
        clock.lap("cache")
        if found is not None:
            found.timings = clock.laps
            return found
    pipeline = run_pipeline(lowered.module, options, noalias=assume_noalias)
    module, remarks = pipeline.module, pipeline.remarks
    clock.lap("passes")
    hidden = [h.value for h in lowered.hidden]
    if options.target == "interp":
        from accir.backends.interp import Interpreter

        interpreter = Interpreter(module)
        return Specialization(specs, lowered.module, lambda *a: interpreter.run(list(a)),
                              lowered.runtime_args, hidden, remarks, changed_by=pipeline.changed,
                              timings=clock.laps, pass_timings=pipeline.timings,
                              ir_module=module)
    from accir.backends.llvm_cpu import compile_object, load_object

    prefix = None if key is None else _fresh_prefix(key)
    obj = compile_object(module, options.opt_level, assume_noalias, prefix)
    clock.lap("llvm")
    native = load_object(obj)
    clock.lap("load")
    remarks = [*remarks, *vectorization_remarks(module, native.vectorized)]
    if cache is not None and key is not None and prefix is not None:
        store_cached(cache, key, prefix, native, module, remarks, pipeline.changed)
        clock.lap("cache")
    return Specialization(specs, lowered.module, native.entry, lowered.runtime_args, hidden,
                          remarks, native, changed_by=pipeline.changed, timings=clock.laps,
                          pass_timings=pipeline.timings, ir_module=module)


class _Clock:
    """Wall time per compile phase (a phase met twice accumulates)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.last = perf_counter()

    def lap(self, phase: str) -> None:
        now = perf_counter()
        self.laps[phase] = self.laps.get(phase, 0.0) + now - self.last
        self.last = now


# ---------------------------------------------------------------------------- on-disk cache

# Symbol prefixes of cached code linked into this process, and their native functions. Code
# compiled for the same key twice in one process (say, for two cache directories) gets a
# prefix of its own: one engine holds every module, and symbol names must not repeat.
_linked: dict[str, Any] = {}
_prefixes: set[str] = set()
_prefix_lock = threading.Lock()


def _fresh_prefix(key: str) -> str:
    base = f"k{key[:24]}"
    with _prefix_lock:
        prefix, n = base, 0
        while prefix in _prefixes:
            n += 1
            prefix = f"{base}.{n}"
        _prefixes.add(prefix)
    return prefix


def specialization_key(lowered: LoweredModule, specs: tuple[ArgSpec, ...],
                       options: CompileOptions, assume_noalias: bool) -> str:
    """The cache key: see accir.cache."""
    return cache_key({
        "frontend_ir": print_module(lowered.module),
        "sources": [[s.file, s.first_line, "\n".join(s.lines)] for s in lowered.sources],
        "signature": [str(s) for s in specs],
        "runtime_args": lowered.runtime_args,
        "options": dataclasses.asdict(options),
        "pipeline": options.pipeline_string(),
        "noalias": assume_noalias,
    })


def load_cached(key: str, cache: DiskCache, lowered: LoweredModule,
                specs: tuple[ArgSpec, ...]) -> Specialization | None:
    """The specialisation stored under `key`, linked into this process; None on a miss."""
    from accir.backends.llvm_cpu import ObjectCode, load_object
    from accir.backends.llvm_symbols import known_symbols

    entry = cache.load(key)
    if entry is None:
        return None
    meta = entry.meta
    with _prefix_lock:
        native = _linked.get(meta["prefix"])
        if native is None:
            if meta["prefix"] in _prefixes:
                return None  # being compiled in this process right now
            if not set(meta["symbols"]) <= set(known_symbols()):
                return None  # refers to objects this process cannot provide
            native = load_object(ObjectCode(
                entry.object_code, meta["wrapper"], meta["guarded"], meta["entry_name"],
                meta["symbols"], entry.texts["llvm_ir"], entry.texts["llvm_opt"],
                frozenset(meta["vectorized"])))
            _linked[meta["prefix"]] = native
            _prefixes.add(meta["prefix"])
    return Specialization(specs, lowered.module, native.entry, lowered.runtime_args,
                          [h.value for h in lowered.hidden], entry.remarks(), native,
                          changed_by=entry.meta["changed_by"], cached=True,
                          ir_text=entry.texts["ir"])


def store_cached(cache: DiskCache, key: str, prefix: str, native: Any, module: Module,
                 remarks: list[Remark], changed_by: list[str]) -> None:
    """Write a freshly compiled specialisation to the cache."""
    obj = native.obj
    with _prefix_lock:
        _linked[prefix] = native
    meta = {"prefix": prefix, "wrapper": obj.wrapper, "guarded": obj.guarded, "entry_name": obj.entry_name,
            "symbols": obj.symbols, "vectorized": sorted(obj.vectorized),
            "remarks": remark_dicts(remarks), "changed_by": changed_by}
    texts = {"ir": print_module(module), "llvm_ir": obj.llvm_ir, "llvm_opt": obj.llvm_opt}
    cache.store(key, CacheEntry(obj.code, meta, texts))


def vectorization_remarks(module: Module, vectorized: frozenset[str]) -> list[Remark]:
    """A `vectorized` remark for each IR loop LLVM vectorised."""
    found = []
    for position, fn in enumerate(module.functions):
        for s in walk_stmts(fn.body):
            if isinstance(s, Loop) and f"{position}/{s.lid}" in vectorized:
                where = s.loc
                line = where.line if where else 0
                found.append(Remark("vectorized", f"loop over '{s.var.name}' at line {line} "
                                    f"({s.lid}): vectorized (SIMD) by LLVM",
                                    where.file if where else "", line, "llvm"))
    return found


def run_pipeline(module: Module, options: CompileOptions, noalias: bool = True
                 ) -> PipelineResult:
    manager = PassManager.from_string(options.pipeline_string())
    return manager.run(module, noalias=noalias)
