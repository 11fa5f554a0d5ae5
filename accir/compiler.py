"""The compilation driver: frontend -> passes -> backend, for one argument signature."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accir.diagnostics import Remark
from accir.frontend.lower import ArgSpec, lower_function
from accir.ir.nodes import Loop, Module, walk_stmts
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
    ir: Module
    entry: Any
    runtime_args: list[int]
    hidden: list[np.ndarray]
    remarks: list[Remark] = field(default_factory=list)
    native: Any = None  # NativeFunction for target cpu
    changed_by: list[str] = field(default_factory=list)  # passes that changed the IR

    def __post_init__(self) -> None:
        self.direct = not self.hidden and self.runtime_args == list(range(len(self.signature)))

    def __call__(self, args: tuple[Any, ...]) -> Any:
        if self.direct:
            return self.entry(*args)
        return self.entry(*[args[i] for i in self.runtime_args], *self.hidden)

    @property
    def llvm_ir(self) -> str:
        return self.native.llvm_ir if self.native else ""

    @property
    def llvm_opt(self) -> str:
        return self.native.llvm_opt if self.native else ""

    def assembly(self) -> str:
        return self.native.assembly() if self.native else ""


def compile_signature(py_func: Any, specs: tuple[ArgSpec, ...], options: CompileOptions,
                      assume_noalias: bool = True) -> Specialization:
    """Compile `py_func` for one signature. With `assume_noalias` the native code assumes
    written arrays share no memory with other arrays and returns ALIASED when they do."""
    lowered = lower_function(py_func, list(specs))
    pipeline = run_pipeline(lowered.module, options, noalias=assume_noalias)
    module, remarks = pipeline.module, pipeline.remarks
    hidden = [h.value for h in lowered.hidden]
    if options.target == "interp":
        from accir.backends.interp import Interpreter

        interpreter = Interpreter(module)
        return Specialization(specs, lowered.module, module,
                              lambda *a: interpreter.run(list(a)), lowered.runtime_args,
                              hidden, remarks, changed_by=pipeline.changed)
    from accir.backends.llvm_cpu import compile_module

    native = compile_module(module, options.opt_level, assume_noalias)
    remarks = [*remarks, *vectorization_remarks(module, native.vectorized)]
    return Specialization(specs, lowered.module, module, native.entry, lowered.runtime_args,
                          hidden, remarks, native, changed_by=pipeline.changed)


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
