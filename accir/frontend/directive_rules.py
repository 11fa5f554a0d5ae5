"""OpenACC 2.7 rules for `directives.py`: which clauses each directive takes and how
each clause's arguments are read (the tables, also used by the tests), then the checks
on raw directive text: the directive word, bracket balance, and the Lark grammar
`acc.lark` with its errors translated into readable messages."""

from __future__ import annotations

import ast
import difflib
import keyword
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import NoReturn

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from accir.diagnostics import DirectiveSyntaxError, Loc

#: The first word of every directive (what may follow `#pragma acc`).
DIRECTIVE_WORDS: tuple[str, ...] = (
    "parallel", "kernels", "serial", "loop", "data", "enter", "exit", "host_data",
    "update", "atomic", "routine", "wait", "cache", "declare", "init", "shutdown",
    "set", "end",
)  # fmt: skip

#: Constructs opened by a directive and closed by `end <construct>`.
BLOCK_CONSTRUCTS = frozenset({"parallel", "kernels", "serial", "data", "host_data"})
COMBINED = frozenset({"parallel loop", "kernels loop", "serial loop"})
LOOP_DIRECTIVES = COMBINED | {"loop"}
#: What `end` may close, in the order the grammar lists them.
END_TARGETS: tuple[str, ...] = (
    "parallel", "kernels", "serial", "data", "host_data", "atomic",
    "parallel loop", "kernels loop", "serial loop",
)  # fmt: skip
ATOMIC_VARIANTS: tuple[str, ...] = ("read", "write", "update", "capture")

#: Old spellings and their canonical clause names.
CLAUSE_ALIASES: dict[str, str] = {
    "pcopy": "copy",
    "present_or_copy": "copy",
    "pcopyin": "copyin",
    "present_or_copyin": "copyin",
    "pcopyout": "copyout",
    "present_or_copyout": "copyout",
    "pcreate": "create",
    "present_or_create": "create",
    "dtype": "device_type",
}

#: Reduction operators; Python spellings map to the OpenACC ones.
REDUCTION_OPS: tuple[str, ...] = ("+", "*", "max", "min", "&", "|", "^", "&&", "||")
REDUCTION_SPELLINGS: dict[str, str] = {op: op for op in REDUCTION_OPS} | {
    "and": "&&",
    "or": "||",
}

#: `key:` arguments of gang, worker and vector; the first key is implied when omitted.
KEYED_CLAUSES: dict[str, tuple[str, ...]] = {
    "gang": ("num", "static", "dim"),
    "worker": ("num",),
    "vector": ("length",),
}

#: How the arguments of each clause are read (see `directives._CLAUSE_READERS`):
#: none      no parentheses
#: vars      a var-list (copyin also takes `readonly:`)
#: expr      exactly one expression;  opt_expr: an optional one
#: int       a positive integer constant (collapse)
#: tile      expressions or `*`;  wait: a wait-argument (optional)
#: keyed     gang / worker / vector, optional `key: value` arguments
#: devices   device_type: names or `*`;  default: none | present
#: reduction `op: var-list`;  bind: a name or a string
CLAUSE_KINDS: dict[str, str] = {
    "async": "opt_expr", "wait": "wait", "num_gangs": "expr", "num_workers": "expr",
    "vector_length": "expr", "device_type": "devices", "if": "expr", "self": "opt_expr",
    "reduction": "reduction", "copy": "vars", "copyin": "vars", "copyout": "vars",
    "create": "vars", "no_create": "vars", "present": "vars", "deviceptr": "vars",
    "attach": "vars", "private": "vars", "firstprivate": "vars", "default": "default",
    "collapse": "int", "gang": "keyed", "worker": "keyed", "vector": "keyed",
    "seq": "none", "auto": "none", "tile": "tile", "independent": "none",
    "delete": "vars", "detach": "vars", "finalize": "none", "use_device": "vars",
    "if_present": "none", "host": "vars", "device": "vars", "bind": "bind",
    "nohost": "none", "device_resident": "vars", "link": "vars", "device_num": "expr",
    "default_async": "expr",
}  # fmt: skip

_DATA_CLAUSES = (
    "copy",
    "copyin",
    "copyout",
    "create",
    "no_create",
    "present",
    "deviceptr",
    "attach",
)
_COMPUTE = ("async", "wait", "device_type", "if", "self", *_DATA_CLAUSES, "default")
_LEVELS = ("num_gangs", "num_workers", "vector_length")
_PRIVATES = ("reduction", "private", "firstprivate")
_LOOP = (
    "collapse", "gang", "worker", "vector", "seq", "auto", "tile", "device_type",
    "independent", "private", "reduction",
)  # fmt: skip


def _ordered(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


#: The clauses each directive accepts, in the order the specification lists them.
ALLOWED: dict[str, tuple[str, ...]] = {
    "parallel": _ordered(_COMPUTE, _LEVELS, _PRIVATES),
    "serial": _ordered(_COMPUTE, _PRIVATES),
    "kernels": _ordered(_COMPUTE, _LEVELS),
    "loop": _LOOP,
    "data": ("if", *_DATA_CLAUSES, "default"),
    "enter data": ("if", "async", "wait", "copyin", "create", "attach"),
    "exit data": ("if", "async", "wait", "copyout", "delete", "detach", "finalize"),
    "host_data": ("use_device", "if", "if_present"),
    "update": ("async", "wait", "device_type", "if", "if_present", "self", "host", "device"),
    "atomic": (),
    "routine": ("gang", "worker", "vector", "seq", "bind", "device_type", "nohost"),
    "wait": ("async",),
    "cache": (),
    "declare": (
        "copy",
        "copyin",
        "copyout",
        "create",
        "present",
        "deviceptr",
        "device_resident",
        "link",
    ),
    "init": ("device_type", "device_num"),
    "shutdown": ("device_type", "device_num"),
    "set": ("default_async", "device_num", "device_type"),
    "end": (),
}
for _name in ("parallel", "kernels", "serial"):
    ALLOWED[f"{_name} loop"] = _ordered(ALLOWED[_name], _LOOP)


def clause_kind(directive: str, clause: str) -> str:
    """How `clause`'s arguments are read on `directive` (`self` is a var-list on update)."""
    if clause == "self" and directive == "update":
        return "vars"
    return CLAUSE_KINDS[clause]


# --- locations and the checks before the grammar ------------------------------------


class Locator:
    """Maps offsets in the directive text to user locations and raises errors there."""

    def __init__(
        self, text: str, loc: Loc | None, offset_to_loc: Callable[[int], Loc] | None
    ) -> None:
        self.text, self.loc, self.offset_to_loc = text, loc, offset_to_loc

    def __call__(self, offset: int) -> Loc:
        offset = max(0, offset)
        last = len(self.text) - 1
        if self.offset_to_loc is not None and last >= 0:
            base = self.offset_to_loc(min(offset, last))
            return Loc(base.file, base.line, base.col + max(0, offset - last))
        if self.loc is not None:
            return Loc(self.loc.file, self.loc.line, self.loc.col + offset)
        return Loc("<directive>", 1, offset + 1)

    def error(self, message: str, offset: int, hint: str | None = None) -> NoReturn:
        raise DirectiveSyntaxError(message, self(offset), hint)


def did_you_mean(word: str, candidates: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word.lower(), candidates, n=1)
    return f"did you mean '{close[0]}'?" if close else None


def check_directive_word(text: str, where: Locator) -> None:
    match = re.match(r"\s*", text)
    start = match.end() if match else 0
    word_match = re.match(r"\w+", text[start:])
    if word_match is None:
        if start == len(text) or text[start] == "#":
            where.error("missing OpenACC directive name after '#pragma acc'", start)
        where.error(f"expected an OpenACC directive name, found '{text[start]}'", start)
    word = word_match.group()
    if word not in DIRECTIVE_WORDS:
        names = [{"enter": "enter data", "exit": "exit data"}.get(w, w) for w in DIRECTIVE_WORDS]
        hint = did_you_mean(word, names) or "directives: " + ", ".join(names)
        where.error(f"unknown OpenACC directive '{word}'", start, hint)


_CLOSING = {"(": ")", "[": "]", "{": "}"}
_BRACKET_WORD = {"(": "parentheses", "[": "brackets", "{": "braces"}


def check_brackets(text: str, where: Locator) -> None:
    """Report the first unmatched or mismatched bracket (strings and comments skipped)."""
    stack: list[int] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "\"'":
            i = _string_end(text, i, where)
            continue
        if char == "#":  # a comment, up to the end of its line
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if char in _CLOSING:
            stack.append(i)
        elif char in ")]}":
            if not stack:
                opening = next(k for k, v in _CLOSING.items() if v == char)
                where.error(
                    f"unbalanced {_BRACKET_WORD[opening]}: '{char}' has no matching '{opening}'", i
                )
            opened = stack.pop()
            if _CLOSING[text[opened]] != char:
                where.error(
                    f"mismatched brackets: '{text[opened]}' is closed by '{char}'",
                    i,
                    f"expected '{_CLOSING[text[opened]]}' to close the '{text[opened]}' "
                    f"at {where(opened)}",
                )
        i += 1
    if stack:
        opened = stack[-1]
        where.error(
            f"unbalanced {_BRACKET_WORD[text[opened]]}: '{text[opened]}' is never closed", opened
        )


def _string_end(text: str, start: int, where: Locator) -> int:
    quote, i = text[start], start + 1
    while i < len(text) and text[i] not in (quote, "\n"):
        i += 2 if text[i] == "\\" else 1
    if i >= len(text) or text[i] != quote:
        where.error("unterminated string literal", start)
    return i + 1


# --- the grammar ----------------------------------------------------------------------


@cache
def _parser() -> Lark:
    grammar = Path(__file__).with_name("acc.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", keep_all_tokens=True)


def parse_tree(text: str, where: Locator) -> Tree:
    try:
        return _parser().parse(text)
    except UnexpectedInput as err:
        message, offset, hint = _describe_unexpected(err, text)
    except LarkError as err:  # pragma: no cover - the grammar raises UnexpectedInput only
        message, offset, hint = f"malformed directive ({err})", 0, None
    where.error(message, offset, hint)


_EXPRESSION_TERMINALS = {"NAME", "NUMBER", "STRING", "OP", "LPAR", "LSQB", "LBRACE"}


def _describe_unexpected(err: UnexpectedInput, text: str) -> tuple[str, int, str | None]:
    """Message, offset and hint for a Lark error, with terminals in readable form."""
    if isinstance(err, UnexpectedToken):
        token = err.token
        offset = len(text) if token.type == "$END" else token.start_pos or 0
        found = "end of directive" if token.type == "$END" else f"'{token.value}'"
        expected = set(err.accepts or err.expected)
    else:
        offset = err.pos_in_stream or 0
        found = f"character {text[offset]!r}" if offset < len(text) else "end of directive"
        expected = _accepted(err)
    words = _readable_terminals(expected)
    hint = None
    if isinstance(err, UnexpectedToken) and err.token.type == "NAME":
        hint = did_you_mean(err.token.value, [w.strip("'") for w in words if w.startswith("'")])
    if isinstance(err, UnexpectedCharacters) and text[offset : offset + 1] == "\\":
        hint = "join continuation lines before parsing the directive"
    return f"unexpected {found}; expected {or_list(words)}", offset, hint


def _accepted(err: UnexpectedInput) -> set[str]:
    """The terminals the parser would have taken where a character failed to lex."""
    interactive = getattr(err, "interactive_parser", None)
    try:
        if interactive is not None:
            return set(interactive.accepts())
    except LarkError:  # pragma: no cover - accepts() only replays the parser state
        pass
    return set(getattr(err, "allowed", ()) or ())


def _readable_terminals(names: set[str]) -> list[str]:
    parser = _parser()
    words = []
    for term in parser.terminals:
        if term.name in names and term.name not in _EXPRESSION_TERMINALS:
            words.append(f"'{term.pattern.value}'")
    if "NUMBER" in names:
        words.append("an expression")
    elif "NAME" in names:
        words.append("a clause name")
    if "$END" in names:
        words.append("end of directive")
    return words


def or_list(words: Sequence[str]) -> str:
    if not words:
        return "nothing more"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def span(node: Tree | Token) -> tuple[int, int]:
    """Start and end offsets of a parse-tree node (iterative: groups may nest deeply)."""
    first = last = node
    while isinstance(first, Tree):
        first = first.children[0]
    while isinstance(last, Tree):
        last = last.children[-1]
    assert isinstance(first, Token) and isinstance(last, Token)
    return first.start_pos or 0, last.end_pos or 0


def shorten(text: str, width: int = 50) -> str:
    """`text`, cut to `width` characters for a message."""
    return text if len(text) <= width else text[: width - 3] + "..."


def is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def dotted_name(node: ast.expr) -> str | None:
    """`a` or `a.b.c` for a Name or a chain of attributes of one, else None."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(attrs)]) if isinstance(node, ast.Name) else None


def char_offset(text: str, byte_offset: int) -> int:
    """Convert an AST column (UTF-8 bytes) into a character offset in `text`."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def c_syntax_hint(text: str) -> str | None:
    if "&&" in text or "||" in text or re.search(r"!(?!=)", text):
        return "clause expressions are Python: write 'and', 'or', 'not' for '&&', '||', '!'"
    if "?" in text:
        return "clause expressions are Python: write 'a if cond else b' for 'cond ? a : b'"
    return None
