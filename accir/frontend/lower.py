"""Lowering a Python function to the loop IR.

Types are inferred by lowering repeatedly: each pass over the function records the type of every
value assigned to each variable; a variable's type is the NumPy promotion (join) of them all.
When a pass ends with the same variable types it started with, its IR is the result.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from accir.diagnostics import UnsupportedError
from accir.frontend.lower_base import ArgSpec, LowererBase
from accir.frontend.lower_calls import CallLowering
from accir.frontend.lower_expr import ExprLowering
from accir.frontend.lower_stmt import StmtLowering
from accir.frontend.resolve import FrozenObject
from accir.frontend.source import FunctionSource, load_source
from accir.frontend.typing import join
from accir.ir.nodes import Assign, Cast, Function, Module, Stmt, Var
from accir.ir.types import NONE, ArrayType, ScalarType, Type, from_dtype

_MAX_TYPE_ROUNDS = 12


@dataclass
class HiddenArray:
    """A module-global NumPy array a function reads, passed as an extra trailing parameter."""

    var: Var
    value: np.ndarray


@dataclass
class LoweredModule:
    module: Module
    hidden: list[HiddenArray]  # values for the entry function's trailing parameters
    runtime_args: list[int]  # which Python arguments become the entry's leading parameters
    sources: list[FunctionSource]  # of the entry and every function it calls


class ModuleLowerer:
    """Lowers an entry function and every function it calls into one IR module."""

    def __init__(self) -> None:
        self.functions: dict[tuple[Any, ...], tuple[Function, list[Var]]] = {}
        self.in_progress: set[tuple[Any, ...]] = set()
        self.arrays: dict[int, HiddenArray] = {}
        self.used_names: dict[str, int] = {}
        self.sources: dict[Any, FunctionSource] = {}

    def source(self, fn: Any) -> FunctionSource:
        if fn not in self.sources:
            self.sources[fn] = load_source(fn)
        return self.sources[fn]

    def lower_entry(self, fn: Any, specs: list[ArgSpec]) -> LoweredModule:
        entry, hidden = self.lower_function(fn, specs, entry=True)
        others = [f for f, _ in self.functions.values() if f is not entry]
        by_name = {h.var.name: h for h in self.arrays.values()}
        arrays = [by_name[v.name] for v in hidden]
        runtime = [i for i, s in enumerate(specs) if not isinstance(s, FrozenObject)]
        return LoweredModule(Module((entry, *others)), arrays, runtime, list(self.sources.values()))

    def lower_callee(
        self, fn: Any, specs: list[ArgSpec], caller: LowererBase, call: ast.AST
    ) -> tuple[Function, list[Var]]:
        key = (fn, tuple(specs))
        if key in self.in_progress:
            raise UnsupportedError(
                f"recursive call of '{fn.__name__}' is not supported", caller.loc(call),
                hint="write the recursion as a loop",
            )
        return self.lower_function(fn, specs, entry=False)

    def lower_function(
        self, fn: Any, specs: list[ArgSpec], entry: bool
    ) -> tuple[Function, list[Var]]:
        key = (fn, tuple(specs))
        if key in self.functions:
            return self.functions[key]
        self.in_progress.add(key)
        src = self.source(fn)
        name = self.function_name(fn, entry)
        env: dict[str, Type] = {}
        for _ in range(_MAX_TYPE_ROUNDS):
            lowerer = FunctionLowerer(self, src, specs, name, env)
            function = lowerer.lower()
            if lowerer.types_settled():
                break
            env = lowerer.next_env()
        else:  # pragma: no cover - the type lattice is shallow
            raise UnsupportedError("type inference did not converge", src.loc(src.tree))
        self.in_progress.discard(key)
        result = (function, list(lowerer.hidden.values()))
        self.functions[key] = result
        return result

    def function_name(self, fn: Any, entry: bool) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "", fn.__qualname__.replace("<locals>.", "")) or "f"
        count = self.used_names.get(base, 0)
        self.used_names[base] = count + 1
        return base if count == 0 else f"{base}.{count}"

    def global_array(self, value: np.ndarray, base: str, lowerer: LowererBase) -> Var:
        """The hidden parameter through which functions read a module-global array."""
        hidden = self.arrays.get(id(value))
        if hidden is None:
            name = f"g.{base}"
            taken = {h.var.name for h in self.arrays.values()}
            k = 1
            while name in taken:
                name, k = f"g.{base}.{k}", k + 1
            hidden = HiddenArray(Var(name, array_type_of(value)), value)
            self.arrays[id(value)] = hidden
        return lowerer.hidden_array(hidden.var)


def array_type_of(a: np.ndarray) -> ArrayType:
    if a.flags.c_contiguous:
        layout = "C"
    elif a.flags.f_contiguous:
        layout = "F"
    else:
        layout = "A"
    return ArrayType(from_dtype(a.dtype), a.ndim, layout)


class FunctionLowerer(StmtLowering, CallLowering, ExprLowering):
    """Lowers one function for one argument signature, given guessed variable types."""

    # ------------------------------------------------------------------ driver

    def lower(self) -> Function:
        body = self.block(self.src.tree.body)
        params, prologue = self.parameters()
        ret = self.return_type()
        return Function(
            self.name,
            tuple(params) + tuple(self.hidden.values()),
            tuple(prologue) + body,
            ret,
            loc=self.src.loc(self.src.tree),
        )

    def parameters(self) -> tuple[list[Var], list[Stmt]]:
        """Runtime parameters, and the conversions for parameters whose variable is wider."""
        params: list[Var] = []
        prologue: list[Stmt] = []
        for name, spec in self.params.items():
            if isinstance(spec, FrozenObject):
                continue
            ty = self.types.env.get(name, spec)
            if ty == spec:
                params.append(Var(name, spec))
                continue
            incoming = Var(f"{name}.in", spec)
            params.append(incoming)
            assert isinstance(ty, ScalarType) and isinstance(spec, ScalarType)
            prologue.append(
                Assign(self.fresh_sid(), Var(name, ty), Cast(incoming, ty), loc=self.src.loc(
                    self.src.tree))
            )
        return params, prologue

    def return_type(self) -> Type:
        values = [t for t in self.returns if t != NONE]
        if not values:
            return NONE
        if len(values) != len(self.returns) or not always_returns(self.src.tree.body):
            raise UnsupportedError(
                "function returns a value on some paths and None on others",
                self.src.loc(self.src.tree),
                hint="return a value on every path",
            )
        ty = values[0]
        for t in values[1:]:
            if not isinstance(t, ScalarType) or not isinstance(ty, ScalarType):
                raise UnsupportedError("only scalars can be returned", self.src.loc(self.src.tree))
            ty = join(ty, t)
        previous = self.types.env.get("<return>")
        if previous is not None and previous != ty:
            ty = join(previous, ty)
        self.types.assigned["<return>"] = ty
        return ty

def always_returns(body: list[ast.stmt]) -> bool:
    """Whether every path through `body` ends in a return statement (code after a statement
    that always returns is dead)."""
    return any(_returns(stmt) for stmt in body)


def _returns(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Return):
        return True
    if isinstance(stmt, ast.If):
        return always_returns(stmt.body) and always_returns(stmt.orelse)
    if isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and stmt.test.value:
        return not any(isinstance(n, ast.Break) for n in ast.walk(stmt))
    return False


def lower_function(fn: Any, specs: list[ArgSpec]) -> LoweredModule:
    """Lower `fn` (and the functions it calls) for arguments of the given types."""
    return ModuleLowerer().lower_entry(fn, specs)
