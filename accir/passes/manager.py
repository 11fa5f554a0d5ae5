"""The pass manager: parse a pipeline string, run its passes, verify, instrument.

A pipeline is comma-separated pass names, each optionally followed by options in braces, MLIR
style: ``normalize,loop-unroll{factor=8 inner-only=true}``. It prints back unchanged
(`from_string(s).to_string() == s`) when written canonically: no blanks around commas, options
in declaration order, and only options that differ from their defaults.

The module is verified before the first pass (as pass "input") and after every pass; the error
names the pass. `Instruments` print, time and dump the IR along the way. When a pass raises (or
leaves IR that does not verify), the reproducer instrument writes the pass's input IR under a
header `// accir-reproducer: pipeline="<whole pipeline>" failing-pass="<pass{options}>"`;
`accir-dump FILE` re-runs the failing pass on it.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TextIO

from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.nodes import Module
from accir.ir.printer import print_module
from accir.ir.verifier import verify_module
from accir.passes.base import Option, Pass, PassResult
from accir.passes.registry import PipelineError, did_you_mean, get_pass

DEFAULT_PIPELINE = ("normalize,bounds-check-hoist,licm,loop-distribution,loop-interchange,"
                    "unroll-and-jam,loop-tiling,loop-fusion,loop-wavefront,"
                    "mark-independent-loops,auto-parallelize")
BANNER = "// -----// IR Dump After {} //----- //"
REPRODUCER_HEADER = '// accir-reproducer: pipeline="{}" failing-pass="{}"'

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_WORD = re.compile(r"[^\s}]+")


def default_pipeline(target: str) -> str:
    """The pipeline the driver runs for `target` (the same for every target, for now)."""
    return DEFAULT_PIPELINE


@dataclass
class Instruments:
    """What to observe while a pipeline runs. Output goes to `stream` (default sys.stderr).

    `print_after_change` alone prints after every pass that changed the module; combined with
    `print_after_all` or `print_after` it restricts those to passes that changed it.
    """

    print_after_all: bool = False
    print_after: frozenset[str] = frozenset()
    print_after_change: bool = False
    time_passes: bool = False
    dump_dir: str | Path | None = None
    reproducer: str | Path | None = None
    stream: TextIO | None = None

    def __post_init__(self) -> None:
        self.print_after = frozenset(self.print_after)

    @property
    def out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def should_print(self, pass_name: str, changed: bool) -> bool:
        if self.print_after_all or pass_name in self.print_after:
            return changed or not self.print_after_change
        return self.print_after_change and not self.print_after and changed


@dataclass
class PipelineResult:
    module: Module
    remarks: list[Remark] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)  # (pass, seconds) per run
    verify_seconds: float = 0.0  # all verification together
    changed: list[str] = field(default_factory=list)  # the passes that changed the module

    def format_timings(self) -> str:
        return format_timings(self.timings, self.verify_seconds)


class PassManager:
    """Runs a list of passes over a module."""

    def __init__(self, passes: list[Pass], instruments: Instruments | None = None):
        self.passes = list(passes)
        self.instruments = instruments or Instruments()
        names = sorted({p.name for p in self.passes})
        absent = sorted(self.instruments.print_after - set(names))
        if absent:
            raise PipelineError(f"cannot print the IR after pass '{absent[0]}': it is not in "
                                "the pipeline", did_you_mean(absent[0], names,
                                                             "passes in the pipeline"))

    @classmethod
    def from_string(cls, pipeline: str, instruments: Instruments | None = None) -> PassManager:
        return cls(parse_pipeline(pipeline), instruments)

    def to_string(self) -> str:
        return ",".join(p.with_options_string() for p in self.passes)

    def run(self, module: Module, noalias: bool = True) -> PipelineResult:
        """Run the passes; `noalias`: distinct array arguments do not overlap (the compiler
        checks it at each call and compiles a separate version when they do)."""
        inst = self.instruments
        start = perf_counter()
        verify_module(module, "input")
        result = PipelineResult(module, verify_seconds=perf_counter() - start)
        _dump(inst.dump_dir, 0, "input", module)
        analyses = AnalysisManager(noalias=noalias)
        for index, p in enumerate(self.passes, 1):
            before = result.module
            out = self._step(p, before, analyses, result)
            changed = out.module is not before
            if changed:
                analyses.invalidate(out.preserved)
                result.changed.append(p.name)
            result.module = out.module
            result.remarks.extend(_attributed(out.remarks, p.name))
            if inst.should_print(p.name, changed):
                inst.out.write(f"{BANNER.format(p.name)}\n{print_module(out.module)}\n")
            _dump(inst.dump_dir, index, p.name, out.module)
        if inst.time_passes:
            inst.out.write(result.format_timings())
        return result

    def _step(self, p: Pass, module: Module, analyses: AnalysisManager,
              result: PipelineResult) -> PassResult:
        """Run and verify one pass, recording times; on failure write the reproducer."""
        try:
            start = perf_counter()
            out = p.run(module, analyses)
            middle = perf_counter()
            if not isinstance(out, PassResult) or not isinstance(out.module, Module):
                raise TypeError(f"pass '{p.name}' returned {out!r}, not a PassResult")
            verify_module(out.module, p.name)
        except Exception:
            if self.instruments.reproducer is not None:
                self._write_reproducer(p, module)
            raise
        result.timings.append((p.name, middle - start))
        result.verify_seconds += perf_counter() - middle
        return out

    def _write_reproducer(self, failing: Pass, module: Module) -> None:
        header = REPRODUCER_HEADER.format(self.to_string(), failing.with_options_string())
        path = Path(str(self.instruments.reproducer))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{header}\n{print_module(module)}")


def _attributed(remarks: tuple[Remark, ...], pass_name: str) -> list[Remark]:
    """The remarks of a pass, with `pass_name` filled in where the pass left it empty."""
    return [r if r.pass_name else dataclasses.replace(r, pass_name=pass_name) for r in remarks]


def _dump(dump_dir: str | Path | None, index: int, name: str, module: Module) -> None:
    """Write `dump_dir/NN-<name>.accir` (nothing without a directory)."""
    if dump_dir is not None:
        root = Path(dump_dir)
        root.mkdir(parents=True, exist_ok=True)
        (root / f"{index:02d}-{name}.accir").write_text(print_module(module))


def format_timings(timings: list[tuple[str, float]], verify_seconds: float = 0.0) -> str:
    """A wall-time table in the style of MLIR's `--mlir-timing`."""
    rows = [*timings, ("(verifier)", verify_seconds)] if verify_seconds else list(timings)
    total = sum(seconds for _, seconds in rows)
    rule = "===" + "-" * 73 + "==="
    lines = [
        rule,
        "Execution time report".center(len(rule)).rstrip(),
        rule,
        f"  Total Execution Time: {total:.4f} seconds",
        "",
        "  ----Wall Time----  ----Name----",
    ]
    for name, seconds in [*rows, ("Total", total)]:
        percent = 100.0 * seconds / total if total > 0 else 0.0
        lines.append(f"  {seconds:8.4f} ({percent:5.1f}%)  {name}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- pipeline syntax


def parse_pipeline(text: str) -> list[Pass]:
    """Parse `name{key=value ...},name2,...` into pass instances."""
    passes: list[Pass] = []
    pos = _skip_blanks(text, 0)
    if pos == len(text):
        return passes
    while True:
        match = _NAME.match(text, pos)
        if match is None:
            found = f"'{text[pos]}'" if pos < len(text) else "the end"
            raise PipelineError(f"expected a pass name, found {found}", None, text, pos)
        pos = _skip_blanks(text, match.end())
        options: dict[str, tuple[str, int]] = {}
        if text.startswith("{", pos):
            options, pos = _parse_options(text, pos)
        passes.append(_instantiate(match.group(), match.start(), options, text))
        if pos == len(text):
            return passes
        if text[pos] != ",":
            raise PipelineError(_unexpected(text, pos, match.group()), None, text, pos)
        pos = _skip_blanks(text, pos + 1)


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _unexpected(text: str, pos: int, name: str) -> str:
    if text[pos] == "}":
        return "unbalanced '}': no '{' opens it"
    return f"expected ',' or '{{' after pass '{name}', found '{text[pos]}'"


def _parse_options(text: str, brace: int) -> tuple[dict[str, tuple[str, int]], int]:
    """The `key=value` words between the brace at `brace` and its `}` (value, column)."""
    close = text.find("}", brace)
    nested = text.find("{", brace + 1)
    if close < 0 or 0 <= nested < close:
        raise PipelineError("unbalanced '{': missing '}'", None, text, brace)
    options: dict[str, tuple[str, int]] = {}
    for word in _WORD.finditer(text, brace + 1, close):
        key, eq, value = word.group().partition("=")
        if not key or not eq or not value:
            raise PipelineError(f"expected key=value, found '{word.group()}'",
                                "options are space-separated, e.g. {factor=4 inner=true}",
                                text, word.start())
        if key in options:
            raise PipelineError(f"option '{key}' given twice", None, text, word.start())
        options[key] = (value, word.start())
    return options, _skip_blanks(text, close + 1)


def _instantiate(name: str, col: int, options: dict[str, tuple[str, int]], text: str) -> Pass:
    try:
        cls = get_pass(name)
    except PipelineError as e:
        raise e.at(text, col) from None
    known = cls.options()
    values: dict[str, object] = {}
    for key, (value, where) in options.items():
        if key not in known:
            hint = (did_you_mean(key, list(known), f"options of '{name}'") if known
                    else f"'{name}' takes no options")
            raise PipelineError(f"pass '{name}' has no option '{key}'", hint, text, where)
        values[key] = _convert(name, known[key], value, text, where + len(key) + 1)
    return cls(**values)


def _convert(pass_name: str, option: Option, value: str, text: str, col: int) -> object:
    """An option value from its text, by the option's type."""
    what = f"option '{option.name}' of pass '{pass_name}'"
    if option.type is bool:
        if value not in ("true", "false"):
            raise PipelineError(f"{what} expects true or false, found '{value}'", None, text, col)
        return value == "true"
    if option.type is int:
        if not re.fullmatch(r"[-+]?[0-9]+", value):
            raise PipelineError(f"{what} expects an integer, found '{value}'", None, text, col)
        return int(value)
    return value
