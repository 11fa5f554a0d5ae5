"""OpenACC 2.7 directives: the object model, the parser and canonical printing.

`parse_directive` reads the text after `#pragma acc` in three steps: a check of the
directive word and of bracket balance (so those errors point at the right character),
the Lark grammar `acc.lark` (the shape of the directive), then `_Reader`, which checks
every clause against `directive_rules` and turns its arguments into `Subarray`,
`Keyed` or normalised Python expression text.  `Directive.to_source` prints the
canonical form, which parses back to an equal `Directive`.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lark import Token, Tree

from accir.diagnostics import Loc
from accir.frontend import directive_rules as rules


@dataclass(frozen=True, slots=True)
class Subarray:
    """A var-list item: `a`, or `a[start:length]...` with bounds as expression text."""

    name: str
    ranges: tuple[tuple[str, str], ...] = ()
    loc: Loc | None = field(default=None, compare=False)

    def to_source(self) -> str:
        return self.name + "".join(f"[{start}:{length}]" for start, length in self.ranges)


@dataclass(frozen=True, slots=True)
class Keyed:
    """A `key: value` argument, as in `gang(num: 4, static: *)` or `wait(devnum: 1: q)`."""

    key: str
    value: str

    def to_source(self) -> str:
        return f"{self.key}: {self.value}"


Arg = str | Subarray | Keyed


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause, with its canonical name, arguments and modifier (`+`, `readonly`, ...)."""

    name: str
    args: tuple[Arg, ...] = ()
    modifier: str | None = None
    loc: Loc | None = field(default=None, compare=False)

    def to_source(self) -> str:
        if self.name == "default":
            return f"default({self.modifier})"
        inner = _join_args(self.args)
        if self.modifier:
            inner = f"{self.modifier}: {inner}"
        return f"{self.name}({inner})" if inner else self.name


@dataclass(frozen=True, slots=True)
class Directive:
    """A parsed `#pragma acc` directive."""

    name: str
    clauses: tuple[Clause, ...] = ()
    args: tuple[Arg, ...] = ()
    variant: str | None = None
    loc: Loc | None = field(default=None, compare=False)

    def clause(self, name: str) -> Clause | None:
        """The first clause called `name` (aliases accepted), or None."""
        found = self.clauses_named(name)
        return found[0] if found else None

    def clauses_named(self, name: str) -> tuple[Clause, ...]:
        name = rules.CLAUSE_ALIASES.get(name, name)
        return tuple(c for c in self.clauses if c.name == name)

    @property
    def is_block(self) -> bool:
        """Whether the directive opens a region closed by `end <construct>`."""
        return self.name in rules.BLOCK_CONSTRUCTS

    @property
    def is_loop(self) -> bool:
        return self.name in rules.LOOP_DIRECTIVES

    def to_source(self) -> str:
        """Canonical text, without the `#pragma acc` prefix."""
        head = self.name
        if self.name == "atomic":
            head += f" {self.variant or 'update'}"
        elif self.name == "end":
            head += f" {self.variant}"
        elif self.args:
            inner = _join_args(self.args)
            head += f"({self.variant}: {inner})" if self.variant else f"({inner})"
        return " ".join([head, *(c.to_source() for c in self.clauses)])


def _join_args(args: Sequence[Arg]) -> str:
    """Arguments separated by `, ` (by `: ` after the `devnum:` of a wait argument)."""
    text = ""
    for i, arg in enumerate(args):
        if i:
            previous = args[i - 1]
            text += ": " if isinstance(previous, Keyed) and previous.key == "devnum" else ", "
        text += arg if isinstance(arg, str) else arg.to_source()
    return text


def parse_directive(
    text: str, loc: Loc | None = None, offset_to_loc: Callable[[int], Loc] | None = None
) -> Directive:
    """Parse `text`, what follows `#pragma acc` (continuation lines joined by spaces).

    `loc` is where `text` starts; `offset_to_loc(k)` maps an offset in `text` to its
    exact location and is preferred for error positions.  Every problem raises
    `DirectiveSyntaxError` pointing at the offending character.
    """
    where = rules.Locator(text, loc, offset_to_loc)
    rules.check_directive_word(text, where)
    rules.check_brackets(text, where)
    return _Reader(text, where).directive(rules.parse_tree(text, where), loc)


# --- from the tree to the object model ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    """A `:`-separated piece of an argument, as source text and where it starts."""

    text: str
    start: int
    colon: int  # offset of the ':' before it; -1 for the first part


_RawArg = tuple[_Part, ...]


@dataclass(frozen=True, slots=True)
class _Site:
    """A clause (or directive) whose parenthesised arguments are being read."""

    name: str  # canonical clause name, or the directive name
    label: str  # how messages name it: "clause 'copy'", "'wait'"
    at: int  # offset of its name
    args: tuple[_RawArg, ...] | None  # None without parentheses
    paren: int  # offset of '(' (or of the name)


class _Reader:
    """Builds a `Directive` from the parse tree, checking clauses and arguments."""

    def __init__(self, text: str, where: rules.Locator) -> None:
        self.text, self.where = text, where
        self.directive_name = ""

    def directive(self, tree: Tree, loc: Loc | None) -> Directive:
        if tree.data == "end":
            target = tree.children[1]
            assert isinstance(target, Tree)
            variant = " ".join(t.value for t in target.children if isinstance(t, Token))
            return Directive("end", variant=variant, loc=loc)
        head, clause_list = tree.children
        assert isinstance(head, Tree) and isinstance(clause_list, Tree)
        name, kind, args = self._head(head)
        clauses = tuple(self._clause(c) for c in clause_list.children if isinstance(c, Tree))
        return Directive(name, clauses, args, kind, loc)

    def _head(self, head: Tree) -> tuple[str, str | None, tuple[Arg, ...]]:
        words = [c for c in head.children if isinstance(c, Token)]
        self.directive_name = name = " ".join(t.value for t in words)
        if head.data == "atomic":
            variants = [t for c in head.children if isinstance(c, Tree) for t in c.children]
            return name, (str(variants[0]) if variants else "update"), ()
        if head.data == "construct":
            return name, None, ()
        paren = next((c for c in head.children if isinstance(c, Tree)), None)
        site = self._site(name, f"'{name}'", words[0], paren)
        if name == "routine":
            return name, None, self._routine_name(site)
        if name == "wait":
            return name, None, self._wait(site)[0]
        args, readonly = self._vars(site)
        return name, readonly, args

    def _site(self, name: str, label: str, token: Token, paren: Tree | None) -> _Site:
        at = token.start_pos or 0
        if paren is None:
            return _Site(name, label, at, None, at)
        arg_list = next((c for c in paren.children if isinstance(c, Tree)), None)
        opening = paren.children[0]
        start = opening.start_pos if isinstance(opening, Token) else at
        items = arg_list.children if arg_list is not None else []
        args = tuple(self._raw_arg(a) for a in items if isinstance(a, Tree))
        return _Site(name, label, at, args, start or 0)

    def _raw_arg(self, arg: Tree) -> _RawArg:
        parts, colon = [], -1
        for child in arg.children:
            if isinstance(child, Token):  # the ':' between parts
                colon = child.start_pos or 0
                continue
            start, end = rules.span(child)
            parts.append(_Part(self.text[start:end], start, colon))
        return tuple(parts)

    def _clause(self, tree: Tree) -> Clause:
        token = tree.children[0]
        assert isinstance(token, Token)
        name = rules.CLAUSE_ALIASES.get(token.value, token.value)
        self._check_allowed(name, token)
        paren = tree.children[1] if len(tree.children) > 1 else None
        assert paren is None or isinstance(paren, Tree)
        site = self._site(name, f"clause '{name}'", token, paren)
        reader = _CLAUSE_READERS[rules.clause_kind(self.directive_name, name)]
        args, modifier = reader(self, site)
        return Clause(name, args, modifier, loc=self.where(token.start_pos or 0))

    def _check_allowed(self, name: str, token: Token) -> None:
        directive = self.directive_name
        allowed = rules.ALLOWED[directive]
        if name in allowed:
            return
        hint = (
            f"clauses allowed on '{directive}': {', '.join(allowed)}"
            if allowed
            else f"'{directive}' takes no clauses"
        )
        at = token.start_pos or 0
        if name in rules.CLAUSE_KINDS:
            self.where.error(f"clause '{token.value}' is not allowed on '{directive}'", at, hint)
        if directive == "atomic":
            variants = ", ".join(rules.ATOMIC_VARIANTS)
            hint = rules.did_you_mean(name, rules.ATOMIC_VARIANTS) or f"atomic takes {variants}"
            self.where.error(f"unexpected '{token.value}' after 'atomic'", at, hint)
        if name == "loop" and f"{directive} loop" in rules.ALLOWED:
            hint = f"write '{directive} loop' with 'loop' right after '{directive}'"
        else:
            hint = rules.did_you_mean(name, allowed) or hint
        self.where.error(f"unknown OpenACC clause '{token.value}'", at, hint)

    # -- argument readers: each returns (args, modifier) ----------------------------

    def _none(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        if site.args is not None:
            self.where.error(f"{site.label} takes no arguments", site.paren)
        return (), None

    def _needed(self, site: _Site) -> tuple[_RawArg, ...]:
        if site.args is None:
            self.where.error(f"{site.label} needs arguments in parentheses", site.at)
        if not site.args:
            self.where.error(f"empty argument list in {site.label}", site.paren + 1)
        return site.args

    def _single(self, args: Sequence[_RawArg], site: _Site) -> list[_Part]:
        """The parts of arguments that may not contain a top-level ':'."""
        for arg in args:
            if len(arg) > 1:
                hint = None
                if arg[0].text == "readonly":
                    hint = "'readonly:' is allowed on copyin and cache only, before the variables"
                self.where.error(f"unexpected ':' in {site.label}", arg[1].colon, hint)
        return [arg[0] for arg in args]

    def _one(self, site: _Site) -> _Part:
        args = self._needed(site)
        if len(args) > 1:
            self.where.error(
                f"{site.label} takes one argument, found {len(args)}", args[1][0].start
            )
        return self._single(args, site)[0]

    def _expr(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        return (self._expression(self._one(site), site),), None

    def _opt_expr(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        return ((), None) if site.args is None else self._expr(site)

    def _positive_int(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        part = self._one(site)
        node = self._node(part, site)
        value = node.value if isinstance(node, ast.Constant) else None
        if type(value) is not int or value <= 0:
            self.where.error(
                f"{site.label} needs a positive integer constant, found '{rules.shorten(part.text)}'",
                part.start,
            )
        return (str(value),), None

    def _tile(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        parts = self._single(self._needed(site), site)
        return tuple(self._expression(p, site, star=True) for p in parts), None

    def _devices(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        parts = self._single(self._needed(site), site)
        for part in parts:
            if part.text != "*" and not rules.is_name(part.text):
                self.where.error(
                    f"expected a device type name or '*' in {site.label}, found '{rules.shorten(part.text)}'",
                    part.start,
                )
        return tuple(p.text for p in parts), None

    def _default(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        part = self._one(site)
        if part.text not in ("none", "present"):
            self.where.error(
                f"default clause takes 'none' or 'present', found '{rules.shorten(part.text)}'",
                part.start,
            )
        return (), part.text

    def _bind(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        part = self._one(site)
        if rules.is_name(part.text):
            return (part.text,), None
        node = self._node(part, site)
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            self.where.error(
                f"{site.label} takes a function name or a string, found '{rules.shorten(part.text)}'",
                part.start,
            )
        return (ast.unparse(node),), None

    def _reduction(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        args = self._needed(site)
        first = args[0]
        if len(first) != 2:
            self.where.error(
                "reduction clause needs an operator: reduction(op: var-list)",
                first[0].start,
                "operators: " + " ".join(rules.REDUCTION_OPS),
            )
        op = rules.REDUCTION_SPELLINGS.get(first[0].text)
        if op is None:
            self.where.error(
                f"unknown reduction operator '{first[0].text}'",
                first[0].start,
                "use one of " + " ".join(rules.REDUCTION_OPS) + " (or Python's 'and', 'or')",
            )
        parts = [first[1], *self._single(args[1:], site)]
        return tuple(self._var(p, site) for p in parts), op

    def _vars(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        args = self._needed(site)
        modifier = None
        if site.name in ("copyin", "cache") and len(args[0]) == 2 and args[0][0].text == "readonly":
            modifier, args = "readonly", (args[0][1:], *args[1:])
        return tuple(self._var(p, site) for p in self._single(args, site)), modifier

    def _keyed(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        if site.args is None:
            return (), None
        keys = rules.KEYED_CLAUSES[site.name]
        out: list[Keyed] = []
        for arg in self._needed(site):
            if len(arg) > 2:
                self.where.error(f"unexpected ':' in {site.label}", arg[2].colon)
            key = arg[0].text if len(arg) == 2 else keys[0]
            if key not in keys:
                self.where.error(
                    f"unknown argument '{key}:' in {site.label}",
                    arg[0].start,
                    "expected " + rules.or_list([f"'{k}:'" for k in keys]),
                )
            if any(k.key == key for k in out):
                self.where.error(f"'{key}:' given twice in {site.label}", arg[0].start)
            out.append(Keyed(key, self._expression(arg[-1], site, star=key == "static")))
        return tuple(out), None

    def _wait(self, site: _Site) -> tuple[tuple[Arg, ...], str | None]:
        """`[devnum: e:] [queues:] e, ...`; the optional `queues:` is dropped."""
        if site.args is None:
            return (), None
        first, *rest = self._needed(site)
        out: list[Arg] = []
        if len(first) >= 3 and first[0].text == "devnum":
            out.append(Keyed("devnum", self._expression(first[1], site)))
            first = first[2:]
        if len(first) == 2 and first[0].text == "queues":
            first = first[1:]
        parts = self._single([first, *rest], site)
        out.extend(self._expression(p, site) for p in parts)
        return tuple(out), None

    def _routine_name(self, site: _Site) -> tuple[Arg, ...]:
        if site.args is None:
            return ()
        part = self._one(site)
        if not rules.is_name(part.text):
            self.where.error(
                f"expected a function name in 'routine', found '{rules.shorten(part.text)}'",
                part.start,
            )
        return (part.text,)

    # -- expressions and variables ----------------------------------------------------

    def _node(self, part: _Part, site: _Site) -> ast.expr:
        """The Python AST of `part`, or an error at the first bad character."""
        try:
            with warnings.catch_warnings():  # e.g. invalid escapes in string literals
                warnings.simplefilter("ignore")
                return ast.parse(part.text.replace("\n", " "), mode="eval").body
        except SyntaxError as err:
            column = max((err.offset or 1) - 1, 0) if err.lineno == 1 else 0
            hint = rules.c_syntax_hint(part.text) or err.msg
        except (ValueError, RecursionError, MemoryError) as err:
            column, hint = 0, str(err) or type(err).__name__
        self.where.error(
            f"invalid Python expression '{rules.shorten(part.text)}' in {site.label}",
            part.start + min(column, len(part.text)),
            hint,
        )

    def _expression(self, part: _Part, site: _Site, star: bool = False) -> str:
        """Normalised expression text (`*` where `star` allows it)."""
        if part.text == "*":
            if star:
                return "*"
            self.where.error(f"'*' is not allowed in {site.label}", part.start)
        return self._unparse(self._node(part, site), part, site)

    def _unparse(self, node: ast.expr, part: _Part, site: _Site) -> str:
        try:
            return ast.unparse(node)
        except (ValueError, RecursionError):
            self.where.error(
                f"expression too deeply nested in {site.label}: '{rules.shorten(part.text)}'",
                part.start,
            )

    def _var(self, part: _Part, site: _Site) -> Subarray:
        node = self._node(part, site)
        ranges: list[tuple[str, str]] = []
        while isinstance(node, ast.Subscript):
            ranges[:0] = self._ranges(node.slice, part, site)
            node = node.value
        name = rules.dotted_name(node)
        if name is None:
            self.where.error(
                f"expected a variable or subarray in {site.label}, found '{rules.shorten(part.text)}'",
                part.start,
                "a var-list item is a name, optionally with [start:length] bounds",
            )
        return Subarray(name, tuple(ranges), loc=self.where(part.start))

    def _ranges(self, node: ast.expr, part: _Part, site: _Site) -> list[tuple[str, str]]:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        ranges = []
        for item in items:
            if isinstance(item, ast.Starred):
                self.where.error(
                    f"unexpected '*' in subarray in {site.label}: '{rules.shorten(part.text)}'",
                    part.start + rules.char_offset(part.text, item.col_offset),
                )
            if not isinstance(item, ast.Slice):  # a single element: a[i] is a[i:1]
                ranges.append((self._unparse(item, part, site), "1"))
                continue
            if item.step is not None:
                self.where.error(
                    f"subarray with a step in {site.label}: '{rules.shorten(part.text)}'",
                    part.start + rules.char_offset(part.text, item.step.col_offset),
                    "OpenACC subarrays are [start:length], without a step",
                )
            lower = "" if item.lower is None else self._unparse(item.lower, part, site)
            upper = "" if item.upper is None else self._unparse(item.upper, part, site)
            ranges.append((lower, upper))
        return ranges


_Reading = Callable[[_Reader, _Site], tuple[tuple[Arg, ...], str | None]]

_CLAUSE_READERS: dict[str, _Reading] = {
    "none": _Reader._none,
    "vars": _Reader._vars,
    "expr": _Reader._expr,
    "opt_expr": _Reader._opt_expr,
    "int": _Reader._positive_int,
    "tile": _Reader._tile,
    "wait": _Reader._wait,
    "keyed": _Reader._keyed,
    "devices": _Reader._devices,
    "default": _Reader._default,
    "reduction": _Reader._reduction,
    "bind": _Reader._bind,
}
