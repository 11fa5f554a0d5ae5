"""Cached analyses of functions.

An analysis is a class with a `name` and a `compute(function, manager)` class- or staticmethod.
Results are cached per (function object, analysis): IR nodes are immutable and rewrites build
new objects, so an entry can never describe a different function. After a pass changes the
module, the pass manager drops every analysis the pass did not list as preserved.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, TypeVar

from accir.ir.nodes import Function

T_co = TypeVar("T_co", covariant=True)


class Analysis(Protocol[T_co]):
    name: ClassVar[str]

    @classmethod
    def compute(cls, function: Function, manager: AnalysisManager) -> T_co: ...


class AnalysisManager:
    """Computes analyses on demand and caches them until invalidated."""

    def __init__(self, noalias: bool = True) -> None:
        # whether distinct array arguments are known not to overlap (checked at each call)
        self.noalias = noalias
        # (id(function), analysis) -> (function, result); holding the function keeps its id unique
        self._cache: dict[tuple[int, type[Analysis[Any]]], tuple[Function, Any]] = {}
        self.computed = 0  # how many results were computed (for tests and statistics)

    def get(self, analysis: type[Analysis[T_co]], function: Function) -> T_co:
        key = (id(function), analysis)
        entry = self._cache.get(key)
        if entry is not None:
            return entry[1]
        result = analysis.compute(function, self)
        self._cache[key] = (function, result)
        self.computed += 1
        return result

    def invalidate(self, preserved: frozenset[str] = frozenset()) -> None:
        """Drop every cached result whose analysis name is not in `preserved`."""
        self._cache = {k: v for k, v in self._cache.items() if k[1].name in preserved}

    def __len__(self) -> int:
        return len(self._cache)
