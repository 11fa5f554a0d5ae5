"""A function's source: its AST, positions in the real file, and its `#pragma acc` comments.

`ast` drops comments, so directives are found with `tokenize`. A directive may continue on the
next comment line after a trailing backslash.
"""

from __future__ import annotations

import ast
import inspect
import io
import linecache
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accir.diagnostics import DirectiveSyntaxError, Loc, UnsupportedError

_PRAGMA = re.compile(r"#\s*pragma\s+acc\b")
_PRAGMA_NEAR_MISS = re.compile(r"#\s*pragma\b", re.IGNORECASE)


@dataclass(frozen=True)
class Pragma:
    """One `#pragma acc` comment (continuations joined)."""

    text: str  # what follows `#pragma acc`
    line: int  # line in the dedented source (1-based)
    col: int  # column of '#' in the dedented source (0-based)
    end_line: int  # last comment line of the directive
    loc: Loc  # where the text starts in the real file
    offset_to_loc: Callable[[int], Loc]


@dataclass
class FunctionSource:
    """The parsed source of one Python function, with positions mapped to the real file."""

    fn: Any
    file: str
    first_line: int  # real-file line of the first source line
    removed: list[int]  # columns removed from each line by dedenting
    lines: list[str]  # dedented source lines
    tree: ast.FunctionDef
    pragmas: list[Pragma]

    @property
    def name(self) -> str:
        return self.tree.name

    def loc_at(self, line: int, col0: int, chars: bool = False) -> Loc:
        """Loc of a 1-based line and 0-based column of the dedented source; the column counts
        UTF-8 bytes (as `ast` does) unless `chars`."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if not chars:
            col0 = len(text.encode("utf-8")[:col0].decode("utf-8", "replace"))
        shift = self.removed[line - 1] if 0 < line <= len(self.removed) else 0
        return Loc(self.file, self.first_line + line - 1, col0 + shift + 1)

    def loc(self, node: ast.AST) -> Loc:
        return self.loc_at(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))


def load_source(fn: Any) -> FunctionSource:
    """Read and parse a function's source; UnsupportedError if it is unavailable."""
    code = getattr(fn, "__code__", None)
    file = code.co_filename if code else "<unknown>"
    try:
        raw_lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise UnsupportedError(
            f"cannot read the source of {getattr(fn, '__qualname__', fn)!r}: {exc}",
            hint="accir compiles functions defined in files (or registered with linecache)",
        ) from None
    raw_lines = raw_lines + _trailing_directives(file, first_line + len(raw_lines))
    lines, removed = _dedent(raw_lines)
    text = "".join(lines)
    name = getattr(fn, "__qualname__", "function")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = None
    fdef = tree.body[0] if tree is not None and tree.body else None
    if not isinstance(fdef, ast.FunctionDef):
        raise UnsupportedError(
            f"'{name}' is not a plain function defined with 'def'", Loc(file, first_line),
            hint="accir compiles functions written with def (not lambdas, async functions "
            "or generators)",
        )
    src = FunctionSource(fn, file, first_line, removed, text.splitlines(), fdef, [])
    src.pragmas = scan_pragmas(text, src)
    return src


def _dedent(raw_lines: list[str]) -> tuple[list[str], list[int]]:
    """Remove the first line's indentation from every line that has it. Lines indented less
    (a C-style directive at column 0, the inside of a string) are kept as they are."""
    first = raw_lines[0]
    prefix = first[: len(first) - len(first.lstrip())]
    lines, removed = [], []
    for line in raw_lines:
        cut = len(prefix) if prefix and line.startswith(prefix) else 0
        lines.append(line[cut:])
        removed.append(cut)
    return lines, removed


def _trailing_directives(file: str, line: int) -> list[str]:
    """Directive comments right after a function's last statement (`inspect` stops at the
    last line of code), such as a column-0 `#pragma acc end data`. A `routine` directive
    belongs to the function that follows, so it ends the search."""
    found: list[str] = []
    keep = 0
    while True:
        text = linecache.getline(file, line)
        stripped = text.strip()
        if not text or (stripped and not stripped.startswith("#")):
            break
        directive = _PRAGMA.match(stripped)
        if directive and stripped[directive.end():].split()[:1] == ["routine"]:
            break
        found.append(text)
        continues = keep == len(found) - 1 and found[keep - 1].rstrip().endswith("\\")
        if directive or continues:
            keep = len(found)
        line += 1
    return found[:keep]


def scan_pragmas(text: str, src: FunctionSource) -> list[Pragma]:
    """Find `#pragma acc` comments, joining backslash continuations."""
    pragmas: list[Pragma] = []
    pending: list[tuple[str, int, int]] = []  # (text, line, col of text start)
    code_lines = _lines_with_code(text)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.COMMENT:
            continue
        line, col = tok.start
        body = tok.string
        if pending:
            if line != pending[-1][1] + 1 or line in code_lines:
                _no_continuation(pending, src)
            start = _continuation_start(body)
            pending.append((body[start:], line, col + start))
        elif _PRAGMA.match(body):
            if line in code_lines:
                raise DirectiveSyntaxError(
                    "an OpenACC directive must be on a line of its own",
                    src.loc_at(line, col, chars=True),
                    hint="move the '#pragma acc' comment to its own line above the statement",
                )
            start = _PRAGMA.match(body).end()  # type: ignore[union-attr]
            pending = [(body[start:], line, col + start)]
        elif _PRAGMA_NEAR_MISS.match(body) and "acc" in body.lower():
            raise DirectiveSyntaxError(
                "malformed OpenACC directive comment",
                src.loc_at(line, col, chars=True),
                hint="write it as '#pragma acc <directive> [clauses]'",
            )
        else:
            continue
        if pending and not pending[-1][0].rstrip().endswith("\\"):
            pragmas.append(_join(pending, src))
            pending = []
    if pending:
        _no_continuation(pending, src)
    return pragmas


def _no_continuation(pending: list[tuple[str, int, int]], src: FunctionSource) -> None:
    """Error at the trailing backslash of a directive whose next line is not a comment."""
    text, line, col = pending[-1]
    backslash = col + len(text.rstrip()) - 1
    raise DirectiveSyntaxError(
        "directive continues (trailing '\\') but the next line is not a comment",
        src.loc_at(line, backslash, chars=True),
        hint="continue the directive on the next line, as a comment, or remove the '\\'",
    )


def _continuation_start(comment: str) -> int:
    """Where a continuation comment's text starts: after '#' and an optional 'pragma acc'."""
    m = _PRAGMA.match(comment)
    return m.end() if m else 1


def _join(parts: list[tuple[str, int, int]], src: FunctionSource) -> Pragma:
    pieces: list[str] = []
    starts: list[tuple[int, int, int]] = []  # (offset in joined text, line, col)
    offset = 0
    for i, (body, line, col) in enumerate(parts):
        piece = body.rstrip()
        if i < len(parts) - 1:
            piece = piece[:-1]  # drop the continuation backslash
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if pieces:
            pieces.append(" ")
            offset += 1
        starts.append((offset, line, col + lead))
        pieces.append(piece)
        offset += len(piece)
    joined = "".join(pieces)

    def offset_to_loc(k: int) -> Loc:
        base, line, col = starts[0]
        for start in starts:
            if start[0] <= k:
                base, line, col = start
        return src.loc_at(line, col + (k - base), chars=True)

    first_line, first_col = parts[0][1], parts[0][2]
    lead0 = len(parts[0][0]) - len(parts[0][0].lstrip())
    return Pragma(
        text=joined,
        line=first_line,
        col=_hash_col(src.lines[first_line - 1]),
        end_line=parts[-1][1],
        loc=src.loc_at(first_line, first_col + lead0, chars=True),
        offset_to_loc=offset_to_loc,
    )


def _hash_col(line: str) -> int:
    return line.index("#") if "#" in line else 0


def _lines_with_code(text: str) -> set[int]:
    """Lines on which a non-comment token starts (so a trailing comment is detectable)."""
    lines: set[int] = set()
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines
