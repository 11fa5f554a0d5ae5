"""The pass registry: pass names to classes, with pass modules imported lazily.

Adding a pass is one line in `PASS_MODULES` plus `@register` on its class. Tests and plugins
may also `@register` passes defined elsewhere.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import re
from typing import TypeVar

from accir.diagnostics import AccirError
from accir.passes.base import OPTION_TYPES, Pass

PASS_MODULES: dict[str, str] = {
    "normalize": "accir.passes.normalize",
    "bounds-check-hoist": "accir.passes.bounds_check_hoist",
    "test-print-dependences": "accir.passes.print_dependences",
    "mark-independent-loops": "accir.passes.mark_independent",
    "auto-parallelize": "accir.passes.auto_parallelize",
    "loop-interchange": "accir.passes.loop_interchange",
    "loop-collapse": "accir.passes.loop_collapse",
    "loop-fusion": "accir.passes.loop_fusion",
    "loop-distribution": "accir.passes.loop_distribution",
    "licm": "accir.passes.licm",
    "unroll-and-jam": "accir.passes.unroll_and_jam",
    "loop-tiling": "accir.passes.loop_tiling",
    "loop-wavefront": "accir.passes.loop_wavefront",
}

_PASSES: dict[str, type[Pass]] = {}
_KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

P = TypeVar("P", bound=type[Pass])


class PipelineError(AccirError):
    """A pipeline string that names an unknown pass or option, or does not parse.

    With `pipeline` and `col` (0-based), the message shows the pipeline and a caret.
    """

    def __init__(self, message: str, hint: str | None = None,
                 pipeline: str | None = None, col: int | None = None):
        super().__init__(message, None, hint)
        self.pipeline = pipeline
        self.col = col
        if pipeline is not None and col is not None:
            lines = [f"error: {message}", "    " + pipeline, "    " + " " * col + "^"]
            if hint:
                lines.append(f"hint: {hint}")
            self.args = ("\n".join(lines),)

    def at(self, pipeline: str, col: int) -> PipelineError:
        """The same error, pointing into `pipeline` at column `col`."""
        return PipelineError(self.message, self.hint, pipeline, col)


def register(cls: P) -> P:
    """Class decorator: make a pass available under its `name`."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _KEBAB.fullmatch(name):
        raise ValueError(f"{cls.__qualname__}: pass name {name!r} is not kebab-case")
    if not isinstance(getattr(cls, "summary", None), str):
        raise ValueError(f"pass '{name}' has no summary")
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise ValueError(f"pass '{name}' must be a @dataclass(frozen=True)")
    for opt in cls.options().values():
        if opt.type not in OPTION_TYPES or opt.default is dataclasses.MISSING:
            raise ValueError(f"option '{opt.name}' of pass '{name}' must be a bool, int or str "
                             "with a default")
    old = _PASSES.get(name)
    if old is not None and _qualname(old) != _qualname(cls):
        raise ValueError(f"pass '{name}' registered twice: {_qualname(old)}, {_qualname(cls)}")
    _PASSES[name] = cls
    return cls


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def known_names() -> list[str]:
    """Every pass name, registered or listed in `PASS_MODULES`, sorted."""
    return sorted(set(PASS_MODULES) | set(_PASSES))


def get_pass(name: str) -> type[Pass]:
    """The class of the pass called `name`; raises `PipelineError` if there is none."""
    if name not in _PASSES and name in PASS_MODULES:
        _import(name)
    if name in _PASSES:
        return _PASSES[name]
    raise PipelineError(f"unknown pass '{name}'", did_you_mean(name, known_names(), "passes"))


def _import(name: str) -> None:
    module = PASS_MODULES[name]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        raise PipelineError(f"pass '{name}' is listed in PASS_MODULES, but its module "
                            f"{module} does not exist") from None
    if name not in _PASSES:
        raise PipelineError(f"module {module} does not register a pass named '{name}'")


def all_passes() -> list[type[Pass]]:
    """Every pass, sorted by name (imports the modules of `PASS_MODULES`)."""
    return [get_pass(name) for name in known_names()]


def did_you_mean(word: str, candidates: list[str], what: str) -> str:
    """A hint naming the closest candidate, followed by the full list."""
    if not candidates:
        return f"there are no {what}"
    listing = f"known {what}: {', '.join(candidates)}"
    close = difflib.get_close_matches(word, candidates, n=1)
    return f"did you mean '{close[0]}'? {listing}" if close else listing
