"""The `Pass` base class and `PassResult`.

A pass is a frozen dataclass with a kebab-case `name`, a one-line `summary` and options as fields
(bool, int or str, each with a default). The fields are also the pipeline syntax::

    @register
    @dataclass(frozen=True)
    class LoopUnroll(Pass):
        name = "loop-unroll"
        summary = "unroll innermost loops with constant trip counts"
        factor: int = 4

    # pipeline text: "loop-unroll{factor=8}"

`run` returns a `PassResult`. Returning the very same module object means "unchanged" (every
cached analysis stays valid); a changed module keeps only the analyses named in `preserved`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from accir.diagnostics import Remark
from accir.ir.nodes import Function, Module

if TYPE_CHECKING:
    from accir.analysis.manager import AnalysisManager

OPTION_TYPES = (bool, int, str)
_OPTION_TYPE_NAMES = {t.__name__: t for t in OPTION_TYPES}


@dataclass(frozen=True)
class PassResult:
    """What a pass returns: the (possibly identical) module, preserved analyses, remarks."""

    module: Module
    preserved: frozenset[str] = frozenset()
    remarks: tuple[Remark, ...] = ()


@dataclass(frozen=True)
class Option:
    """One option of a pass: a dataclass field of type bool, int or str."""

    name: str
    type: type | str  # a str names an unsupported type; `register` rejects it
    default: object

    def describe(self) -> str:
        kind = self.type if isinstance(self.type, str) else self.type.__name__
        return f"{self.name}={format_value(self.default)} ({kind})"


@dataclass(frozen=True)
class Pass(ABC):
    """Base class of every pass; subclasses are `@dataclass(frozen=True)`."""

    name: ClassVar[str]
    summary: ClassVar[str]

    @abstractmethod
    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        """Transform `module`; return it unchanged (same object) when there is nothing to do."""

    @classmethod
    def options(cls) -> dict[str, Option]:
        """The options of this pass, in declaration order."""
        result = {}
        for f in dataclasses.fields(cls):
            default = f.default
            if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            # Annotations are strings under `from __future__ import annotations`.
            kind = _OPTION_TYPE_NAMES.get(f.type, f.type) if isinstance(f.type, str) else f.type
            result[f.name] = Option(f.name, kind, default)
        return result

    def with_options_string(self) -> str:
        """`name`, or `name{key=value ...}` listing the options that differ from their default."""
        parts = [
            f"{opt.name}={format_value(getattr(self, opt.name))}"
            for opt in self.options().values()
            if getattr(self, opt.name) != opt.default
        ]
        return f"{self.name}{{{' '.join(parts)}}}" if parts else self.name


def format_value(value: object) -> str:
    """An option value as pipeline text: `true`/`false` for bools, plain text otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def map_functions(module: Module, transform: Callable[[Function], Function]) -> Module:
    """`module` with `transform` applied to each function; the same object if none changed
    (so an unchanged pass keeps every analysis)."""
    functions = tuple(transform(f) for f in module.functions)
    if all(a is b for a, b in zip(functions, module.functions, strict=True)):
        return module
    return Module(functions)
