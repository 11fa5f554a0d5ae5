"""Property tests: random valid directives print and parse back; garbage only ever
raises DirectiveSyntaxError."""

from __future__ import annotations

import ast
import contextlib
import keyword

from hypothesis import given, settings
from hypothesis import strategies as st

from accir.diagnostics import DirectiveSyntaxError, Loc
from accir.frontend import directive_rules as rules
from accir.frontend.directives import Arg, Clause, Directive, Keyed, Subarray, parse_directive

parse_directive("parallel")  # build the parser before any deadline is measured

# --- expressions ----------------------------------------------------------------------

# Names that are also OpenACC words must stay ordinary variables inside expressions.
TRICKY_NAMES = [
    "num", "static", "dim", "length", "readonly", "devnum", "queues", "gang", "loop",
    "parallel", "update", "copy", "data", "end", "wait", "seq", "max", "none", "present",
]  # fmt: skip
names = st.sampled_from(["a", "b", "n", "m", "i", "x_1", *TRICKY_NAMES]) | st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True
).filter(lambda s: not keyword.iskeyword(s))

strings = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6).map(repr)
leaves = (
    names | st.integers(0, 10**6).map(str) | st.floats(0, 1e6, allow_nan=False).map(repr) | strings
)

BINARY = ["+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", "and", "or", "&", "|", "^"]


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(inner, inner)
    return st.one_of(
        st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        inner.map(lambda e: f"-({e})"),
        inner.map(lambda e: f"not ({e})"),
        st.tuples(names, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        pair.map(lambda t: f"({t[0]})[{t[1]}]"),
        pair.map(lambda t: f"{t[0]}[{t[1]}:]"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]}) if ({t[1]}) else ({t[2]})"),
        pair.map(lambda t: f"({t[0]}, {t[1]})"),
        pair.map(lambda t: f"{{{t[0]}: {t[1]}}}"),
    )


def normalise(source: str) -> str:
    return ast.unparse(ast.parse(source, mode="eval"))


expressions = st.recursive(leaves, _compound, max_leaves=6).map(normalise)

# --- arguments ------------------------------------------------------------------------

var_names = st.one_of(names, st.tuples(names, names).map(".".join))
bounds = st.one_of(st.just(""), expressions)
subarrays = st.builds(
    Subarray, var_names, st.lists(st.tuples(bounds, bounds), max_size=3).map(tuple)
)
var_lists = st.lists(subarrays, min_size=1, max_size=3).map(tuple)
exprs_or_star = st.lists(expressions | st.just("*"), min_size=1, max_size=3).map(tuple)
device_names = st.sampled_from(["*", "nvidia", "host", "radeon", "multicore", "default"])


@st.composite
def wait_args(draw: st.DrawFn) -> tuple[Arg, ...]:
    devnum: list[Arg] = [Keyed("devnum", draw(expressions))] if draw(st.booleans()) else []
    return (*devnum, *draw(st.lists(expressions, min_size=1, max_size=3)))


@st.composite
def keyed_args(draw: st.DrawFn, clause: str) -> tuple[Arg, ...]:
    keys = draw(st.permutations(rules.KEYED_CLAUSES[clause]))
    keys = keys[: draw(st.integers(1, len(keys)))]
    star = st.just("*") | expressions
    return tuple(Keyed(k, draw(star if k == "static" else expressions)) for k in keys)


def _bind_names() -> st.SearchStrategy[str]:
    return names | st.text("abc_xyz", min_size=1, max_size=5).map(repr)


def clauses(directive: str, name: str) -> st.SearchStrategy[Clause]:
    """Random valid clauses called `name` on `directive`."""
    kind = rules.clause_kind(directive, name)
    maybe = st.just(())
    match kind:
        case "none":
            return st.just(Clause(name))
        case "vars":
            modifiers = st.sampled_from([None, "readonly"]) if name == "copyin" else st.none()
            return st.builds(Clause, st.just(name), var_lists, modifiers)
        case "expr" | "opt_expr":
            one = expressions.map(lambda e: (e,))
            return st.builds(Clause, st.just(name), one | maybe if kind == "opt_expr" else one)
        case "int":
            return st.integers(1, 8).map(lambda k: Clause(name, (str(k),)))
        case "tile":
            return st.builds(Clause, st.just(name), exprs_or_star)
        case "wait":
            return st.builds(Clause, st.just(name), wait_args() | maybe)
        case "keyed":
            return st.builds(Clause, st.just(name), keyed_args(name) | maybe)
        case "devices":
            devices = st.lists(device_names, min_size=1, max_size=3).map(tuple)
            return st.builds(Clause, st.just(name), devices)
        case "default":
            return st.sampled_from(["none", "present"]).map(lambda m: Clause(name, (), m))
        case "reduction":
            ops = st.sampled_from(rules.REDUCTION_OPS)
            return st.builds(Clause, st.just(name), var_lists, ops)
        case "bind":
            return _bind_names().map(lambda b: Clause(name, (b,)))
    raise AssertionError(kind)


@st.composite
def directives(draw: st.DrawFn) -> Directive:
    name = draw(st.sampled_from(sorted(rules.ALLOWED)))
    if name == "end":
        return Directive(name, variant=draw(st.sampled_from(rules.END_TARGETS)))
    if name == "atomic":
        return Directive(name, variant=draw(st.sampled_from(rules.ATOMIC_VARIANTS)))
    args: tuple[Arg, ...] = ()
    variant = None
    if name == "routine":
        args = draw(names.map(lambda n: (n,)) | st.just(()))
    elif name == "wait":
        args = draw(wait_args() | st.just(()))
    elif name == "cache":
        args, variant = draw(var_lists), draw(st.sampled_from([None, "readonly"]))
    allowed = rules.ALLOWED[name]
    picked = draw(st.lists(st.sampled_from(allowed), max_size=5)) if allowed else []
    chosen = tuple(draw(clauses(name, c)) for c in picked)
    return Directive(name, chosen, args, variant)


# --- properties -----------------------------------------------------------------------


@settings(deadline=None)
@given(directives())
def test_printed_directive_parses_back(d: Directive) -> None:
    assert parse_directive(d.to_source()) == d


@settings(deadline=None)
@given(directives())
def test_to_source_is_a_fixed_point(d: Directive) -> None:
    text = d.to_source()
    assert parse_directive(text).to_source() == text


@settings(deadline=None)
@given(directives(), st.sampled_from([" ", ", ", ",", "  ,  "]), st.sampled_from(["", "  "]))
def test_separators_and_blanks_do_not_matter(d: Directive, sep: str, pad: str) -> None:
    head = Directive(d.name, args=d.args, variant=d.variant).to_source()
    body = sep.join(c.to_source() for c in d.clauses)
    text = f"{pad}{head} {body}{pad}" if body else f"{pad}{head}{pad}"
    assert parse_directive(text) == d


WORDS = [
    *rules.DIRECTIVE_WORDS, *rules.CLAUSE_KINDS, *rules.CLAUSE_ALIASES, *rules.ATOMIC_VARIANTS,
    "(", ")", "[", "]", "{", "}", ",", ":", "*", "+", "&&", "and", "a", "n", "1", "0:n", "'s'",
    '"', "num", "static", "readonly", "devnum", "queues", "none", "#", "\\", "!", ".", "-",
]  # fmt: skip
token_soup = st.lists(st.sampled_from(WORDS), max_size=12).flatmap(
    lambda ws: st.sampled_from(["", " "]).map(lambda sep: sep.join(ws))
)


@settings(deadline=None)
@given(st.one_of(st.text(max_size=40), token_soup, directives().map(lambda d: d.to_source())))
def test_garbage_raises_only_directive_syntax_errors(text: str) -> None:
    loc = Loc("garbage.py", 3, 13)
    try:
        parse_directive(text, loc)
    except DirectiveSyntaxError as err:
        assert err.loc is not None
        assert err.loc.line == 3
        assert 13 <= err.loc.col <= 13 + len(text)


@settings(deadline=None)
@given(directives(), st.data())
def test_mutated_directives_raise_only_directive_syntax_errors(
    d: Directive, data: st.DataObject
) -> None:
    text = d.to_source()
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(st.sampled_from(WORDS))
    mutated = text[:cut] + insert + text[cut + data.draw(st.integers(0, 3)) :]
    with contextlib.suppress(DirectiveSyntaxError):
        parse_directive(mutated)
