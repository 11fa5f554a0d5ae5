"""Source locations, compiler errors and remarks.

Every error accir reports points at the user's source the way a C compiler does::

    kernels.py:12:9: error: call of unknown function 'foo'
        A[i] = foo(x)
               ^
    hint: only math functions, NumPy scalar constructors and Python functions can be called

Line numbers are those of the real file; columns are 1-based.
"""

from __future__ import annotations

import json
import linecache
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Loc:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def source_line(self) -> str | None:
        text = linecache.getline(self.file, self.line)
        return text.rstrip("\n") if text else None


def format_diagnostic(
    severity: str, message: str, loc: Loc | None, hint: str | None = None
) -> str:
    """Render `file:line:col: severity: message`, the source line, a caret and a hint."""
    head = f"{loc}: {severity}: {message}" if loc else f"{severity}: {message}"
    lines = [head]
    text = loc.source_line() if loc else None
    if loc is not None and text is not None:
        expanded = text.expandtabs(8)
        prefix = text[: max(loc.col - 1, 0)].expandtabs(8)
        lines.append("    " + expanded)
        lines.append("    " + " " * len(prefix) + "^")
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)


class RaceWarning(UserWarning):
    """A loop the user declared parallel carries a dependence: accir runs it sequentially
    (giving CPython's answer) and says which accesses conflict."""


class AccirError(Exception):
    """Base class of every error accir reports about a user's program."""

    severity = "error"

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(format_diagnostic(self.severity, message, loc, hint))


class DirectiveSyntaxError(AccirError):
    """An `#pragma acc` comment that does not parse, or is misplaced."""


class UnsupportedError(AccirError):
    """A Python construct or directive accir does not (yet) compile."""


class AccirTypeError(AccirError, TypeError):
    """Operands or arguments whose types cannot be combined."""


class IRParseError(AccirError):
    """Textual loop IR that does not parse."""


class IRVerificationError(AccirError):
    """IR that breaks an invariant; names the pass that produced it."""


@dataclass(frozen=True, slots=True)
class Remark:
    """One decision a pass took, for users to read (`CompiledFunction.remarks`)."""

    kind: str
    message: str
    file: str = ""
    line: int = 0
    pass_name: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        return f"{where}remark: [{self.kind}] {self.message}"
