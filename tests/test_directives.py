"""Parsing, printing and error reporting of `#pragma acc` directives."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from accir.diagnostics import DirectiveSyntaxError, Loc
from accir.frontend import directive_rules as rules
from accir.frontend.directives import (
    Clause,
    Directive,
    Keyed,
    Subarray,
    parse_directive,
)

C, D, K, S = Clause, Directive, Keyed, Subarray
PREFIX = "#pragma acc "


def parse_in_file(tmp_path: Path, text: str) -> Directive:
    """Parse `text` as written in a file after `#pragma acc `, so carets can be drawn."""
    path = tmp_path / "kernel.py"
    path.write_text(PREFIX + text + "\n", encoding="utf-8")
    return parse_directive(text, Loc(str(path), 1, len(PREFIX) + 1))


def error_in_file(tmp_path: Path, text: str) -> DirectiveSyntaxError:
    with pytest.raises(DirectiveSyntaxError) as info:
        parse_in_file(tmp_path, text)
    return info.value


# --- directives -----------------------------------------------------------------------

DIRECTIVES = [
    ("parallel", D("parallel")),
    ("kernels", D("kernels")),
    ("serial", D("serial")),
    ("loop", D("loop")),
    ("parallel loop", D("parallel loop")),
    ("kernels loop", D("kernels loop")),
    ("serial loop", D("serial loop")),
    ("data copy(a)", D("data", (C("copy", (S("a"),)),))),
    ("enter data create(a)", D("enter data", (C("create", (S("a"),)),))),
    ("exit data delete(a)", D("exit data", (C("delete", (S("a"),)),))),
    ("host_data use_device(a)", D("host_data", (C("use_device", (S("a"),)),))),
    ("update host(a)", D("update", (C("host", (S("a"),)),))),
    ("atomic", D("atomic", variant="update")),
    ("atomic read", D("atomic", variant="read")),
    ("atomic write", D("atomic", variant="write")),
    ("atomic update", D("atomic", variant="update")),
    ("atomic capture", D("atomic", variant="capture")),
    ("routine seq", D("routine", (C("seq"),))),
    ("routine(saxpy) vector", D("routine", (C("vector"),), ("saxpy",))),
    ("routine(update) worker", D("routine", (C("worker"),), ("update",))),
    ("wait", D("wait")),
    ("wait(1, q + 1)", D("wait", args=("1", "q + 1"))),
    ("wait(q) async(r)", D("wait", (C("async", ("r",)),), ("q",))),
    ("wait async", D("wait", (C("async"),))),
    ("wait(devnum: 0: queues: 1, 2)", D("wait", args=(K("devnum", "0"), "1", "2"))),
    ("wait(devnum: 0: 1)", D("wait", args=(K("devnum", "0"), "1"))),
    ("wait(queues: 3)", D("wait", args=("3",))),
    ("cache(a[0:n])", D("cache", args=(S("a", (("0", "n"),)),))),
    (
        "cache(readonly: a, b[i:1])",
        D("cache", args=(S("a"), S("b", (("i", "1"),))), variant="readonly"),
    ),
    ("declare create(a)", D("declare", (C("create", (S("a"),)),))),
    ("init", D("init")),
    ("init device_type(nvidia)", D("init", (C("device_type", ("nvidia",)),))),
    ("shutdown device_num(0)", D("shutdown", (C("device_num", ("0",)),))),
    ("set device_type(host)", D("set", (C("device_type", ("host",)),))),
    *[(f"end {target}", D("end", variant=target)) for target in rules.END_TARGETS],
]


@pytest.mark.parametrize(("text", "expected"), DIRECTIVES, ids=[t for t, _ in DIRECTIVES])
def test_directive(text: str, expected: Directive) -> None:
    assert parse_directive(text) == expected


def test_every_directive_is_tested() -> None:
    assert {d.name for _, d in DIRECTIVES} == set(rules.ALLOWED)


@pytest.mark.parametrize(
    ("name", "block", "loop"),
    [
        ("parallel", True, False),
        ("kernels", True, False),
        ("serial", True, False),
        ("data copy(a)", True, False),
        ("host_data use_device(a)", True, False),
        ("loop", False, True),
        ("parallel loop", False, True),
        ("kernels loop", False, True),
        ("serial loop", False, True),
        ("update host(a)", False, False),
        ("atomic", False, False),
        ("end parallel", False, False),
    ],
)
def test_block_and_loop_properties(name: str, block: bool, loop: bool) -> None:
    d = parse_directive(name)
    assert (d.is_block, d.is_loop) == (block, loop)


def test_clause_lookup() -> None:
    d = parse_directive("parallel loop copy(a) pcopy(b) gang private(i)")
    assert d.clause("copy") == C("copy", (S("a"),))
    assert d.clause("present_or_copy") == C("copy", (S("a"),))
    assert d.clauses_named("copy") == (C("copy", (S("a"),)), C("copy", (S("b"),)))
    assert d.clause("gang") == C("gang")
    assert d.clause("worker") is None
    assert d.clauses_named("worker") == ()


def test_loc_is_carried_but_not_compared(tmp_path: Path) -> None:
    d = parse_in_file(tmp_path, "parallel")
    assert d.loc == Loc(str(tmp_path / "kernel.py"), 1, 13)
    assert d == D("parallel")
    assert parse_directive("parallel").loc is None


# --- clauses --------------------------------------------------------------------------

CLAUSES = [
    # compute constructs
    ("parallel async", C("async")),
    ("parallel async(q + 1)", C("async", ("q + 1",))),
    ("parallel wait", C("wait")),
    ("parallel wait(1, q)", C("wait", ("1", "q"))),
    ("kernels wait(devnum: d: queues: 1, 2)", C("wait", (K("devnum", "d"), "1", "2"))),
    ("parallel num_gangs(n // 2)", C("num_gangs", ("n // 2",))),
    ("kernels num_workers(4)", C("num_workers", ("4",))),
    ("parallel vector_length(2*w)", C("vector_length", ("2 * w",))),
    ("parallel device_type(*)", C("device_type", ("*",))),
    ("serial device_type(nvidia, host)", C("device_type", ("nvidia", "host"))),
    ("parallel if(n > 100 and m > 2)", C("if", ("n > 100 and m > 2",))),
    ("serial self", C("self")),
    ("parallel self(not on_device)", C("self", ("not on_device",))),
    ("parallel reduction(+: s)", C("reduction", (S("s"),), "+")),
    ("serial reduction(max: a, b[0:n])", C("reduction", (S("a"), S("b", (("0", "n"),))), "max")),
    ("parallel copy(a, b)", C("copy", (S("a"), S("b")))),
    ("parallel copyin(a)", C("copyin", (S("a"),))),
    ("parallel copyin(readonly: a, b)", C("copyin", (S("a"), S("b")), "readonly")),
    ("parallel copyin(readonly)", C("copyin", (S("readonly"),))),
    ("kernels copyout(a[1:n - 1])", C("copyout", (S("a", (("1", "n - 1"),)),))),
    ("serial create(tmp)", C("create", (S("tmp"),))),
    ("parallel no_create(a)", C("no_create", (S("a"),))),
    ("parallel present(a)", C("present", (S("a"),))),
    ("kernels deviceptr(p)", C("deviceptr", (S("p"),))),
    ("parallel attach(p)", C("attach", (S("p"),))),
    ("parallel private(t)", C("private", (S("t"),))),
    ("serial firstprivate(t, u)", C("firstprivate", (S("t"), S("u")))),
    ("parallel default(none)", C("default", (), "none")),
    ("kernels default(present)", C("default", (), "present")),
    # loop
    ("loop collapse(2)", C("collapse", ("2",))),
    ("loop gang", C("gang")),
    ("loop gang(4)", C("gang", (K("num", "4"),))),
    ("loop gang(num: n)", C("gang", (K("num", "n"),))),
    ("loop gang(static: *)", C("gang", (K("static", "*"),))),
    ("loop gang(num: 8, static: chunk)", C("gang", (K("num", "8"), K("static", "chunk")))),
    ("loop gang(dim: 2)", C("gang", (K("dim", "2"),))),
    ("loop gang(num)", C("gang", (K("num", "num"),))),
    ("loop worker", C("worker")),
    ("loop worker(4)", C("worker", (K("num", "4"),))),
    ("loop worker(num: w)", C("worker", (K("num", "w"),))),
    ("loop vector", C("vector")),
    ("loop vector(64)", C("vector", (K("length", "64"),))),
    ("loop vector(length: 64)", C("vector", (K("length", "64"),))),
    ("loop seq", C("seq")),
    ("loop auto", C("auto")),
    ("loop tile(8, *)", C("tile", ("8", "*"))),
    ("loop device_type(radeon)", C("device_type", ("radeon",))),
    ("loop independent", C("independent")),
    ("loop private(x)", C("private", (S("x"),))),
    ("loop reduction(*: p)", C("reduction", (S("p"),), "*")),
    # data and executable directives
    ("exit data copyout(a)", C("copyout", (S("a"),))),
    ("exit data detach(p)", C("detach", (S("p"),))),
    ("exit data finalize", C("finalize")),
    ("exit data delete(a)", C("delete", (S("a"),))),
    ("host_data use_device(a, b)", C("use_device", (S("a"), S("b")))),
    ("host_data if_present", C("if_present")),
    ("update self(a[0:n])", C("self", (S("a", (("0", "n"),)),))),
    ("update host(a)", C("host", (S("a"),))),
    ("update device(a[:])", C("device", (S("a", (("", ""),)),))),
    ("routine bind(saxpy_dev)", C("bind", ("saxpy_dev",))),
    ('routine bind("saxpy_dev")', C("bind", ("'saxpy_dev'",))),
    ("routine nohost", C("nohost")),
    ("declare device_resident(a)", C("device_resident", (S("a"),))),
    ("declare link(a)", C("link", (S("a"),))),
    ("init device_num(dev)", C("device_num", ("dev",))),
    ("set default_async(q)", C("default_async", ("q",))),
]


@pytest.mark.parametrize(("text", "expected"), CLAUSES, ids=[t for t, _ in CLAUSES])
def test_clause(text: str, expected: Clause) -> None:
    assert parse_directive(text).clauses == (expected,)


def test_every_clause_is_tested() -> None:
    assert {c.name for _, c in CLAUSES} == set(rules.CLAUSE_KINDS)


@pytest.mark.parametrize("op", [*rules.REDUCTION_OPS, "and", "or"])
def test_reduction_operators(op: str) -> None:
    clause = parse_directive(f"parallel loop reduction({op}: s)").clauses[0]
    assert clause == C("reduction", (S("s"),), rules.REDUCTION_SPELLINGS[op])
    assert clause.modifier in rules.REDUCTION_OPS


@pytest.mark.parametrize(("alias", "name"), sorted(rules.CLAUSE_ALIASES.items()))
def test_aliases(alias: str, name: str) -> None:
    args = "(nvidia)" if name == "device_type" else "(a)"
    d = parse_directive(f"parallel {alias}{args}")
    assert d.clauses[0].name == name
    assert d == parse_directive(f"parallel {name}{args}")


def test_combined_constructs_take_both_sets_of_clauses() -> None:
    d = parse_directive("kernels loop num_gangs(4) gang(num: 2) reduction(+: s) copy(a)")
    assert [c.name for c in d.clauses] == ["num_gangs", "gang", "reduction", "copy"]
    d = parse_directive("serial loop self private(t) seq")
    assert [c.name for c in d.clauses] == ["self", "private", "seq"]


def test_clauses_separated_by_commas_or_spaces() -> None:
    spaced = parse_directive("parallel loop copy(a)   gang private(i)")
    assert parse_directive("parallel loop copy(a), gang ,private(i)") == spaced
    assert parse_directive("parallel loop copy(a),gang,private(i)") == spaced


def test_device_type_applies_to_following_clauses_in_order() -> None:
    d = parse_directive("parallel loop device_type(nvidia) vector_length(128) dtype(*) gang")
    assert d.clauses == (
        C("device_type", ("nvidia",)),
        C("vector_length", ("128",)),
        C("device_type", ("*",)),
        C("gang"),
    )


def test_expressions_are_normalised() -> None:
    d = parse_directive("parallel if( (n>100)and m>2 ) num_gangs( n//2 ) async( q[ 0 ] )")
    assert [c.args for c in d.clauses] == [("n > 100 and m > 2",), ("n // 2",), ("q[0]",)]


def test_expressions_may_nest_brackets_commas_and_strings() -> None:
    d = parse_directive("parallel if(f(a, b[1:2], {'k': (3, 4)}) != ') ,') num_gangs(g((1, 2)))")
    assert d.clauses == (
        C("if", ("f(a, b[1:2], {'k': (3, 4)}) != ') ,'",)),
        C("num_gangs", ("g((1, 2))",)),
    )


def test_keywords_are_ordinary_names_inside_expressions() -> None:
    d = parse_directive("parallel if(update and loop) async(parallel) copy(data, end[0:wait])")
    assert d.clauses == (
        C("if", ("update and loop",)),
        C("async", ("parallel",)),
        C("copy", (S("data"), S("end", (("0", "wait"),)))),
    )


def test_trailing_python_comment_is_ignored() -> None:
    assert parse_directive("parallel loop gang  # outer (loop") == D("parallel loop", (C("gang"),))
    assert parse_directive("parallel if(s == '#')") == D("parallel", (C("if", ("s == '#'",)),))


# --- subarrays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", S("a")),
        ("a[0:n]", S("a", (("0", "n"),))),
        ("a[:n]", S("a", (("", "n"),))),
        ("a[2:]", S("a", (("2", ""),))),
        ("a[:]", S("a", (("", ""),))),
        ("a[i]", S("a", (("i", "1"),))),
        ("a[ 0 : n+1 ]", S("a", (("0", "n + 1"),))),
        ("a[0:n][1:m]", S("a", (("0", "n"), ("1", "m")))),
        ("a[0:n, 1:m]", S("a", (("0", "n"), ("1", "m")))),
        ("a[0:n, 1:m][:k]", S("a", (("0", "n"), ("1", "m"), ("", "k")))),
        ("grid.cells[0:n]", S("grid.cells", (("0", "n"),))),
        ("a[b[0]:len(b)]", S("a", (("b[0]", "len(b)"),))),
    ],
)
def test_subarray(text: str, expected: Subarray) -> None:
    assert parse_directive(f"data copy({text})").clauses[0].args == (expected,)


def test_both_subarray_forms_are_equal() -> None:
    chained = parse_directive("parallel copyin(a[0:n][1:m]) present(b[:][2:k])")
    commas = parse_directive("parallel copyin(a[0:n, 1:m]) present(b[:, 2:k])")
    assert chained == commas
    assert chained.to_source() == commas.to_source()


# --- continuation lines ---------------------------------------------------------------


def continued_pragma(tmp_path: Path, second: str) -> tuple[str, Path, Callable[[int], Loc]]:
    """A directive written over two comment lines, joined as the scanner does."""
    path = tmp_path / "cont.py"
    first = "parallel loop \\"
    path.write_text(f"{PREFIX}{first}\n#   {second}\n", encoding="utf-8")
    text = first[:-1].rstrip() + " " + second
    split = len(first[:-1].rstrip()) + 1

    def offset_to_loc(k: int) -> Loc:
        if k < split:
            return Loc(str(path), 1, len(PREFIX) + 1 + k)
        return Loc(str(path), 2, 5 + (k - split))

    return text, path, offset_to_loc


def test_continuation_text(tmp_path: Path) -> None:
    text, path, offset_to_loc = continued_pragma(tmp_path, "copy(a) gang")
    d = parse_directive(text, Loc(str(path), 1, 13), offset_to_loc)
    assert d == D("parallel loop", (C("copy", (S("a"),)), C("gang")))


def test_continuation_error_points_at_second_line(tmp_path: Path) -> None:
    text, path, offset_to_loc = continued_pragma(tmp_path, "copy(a) gnag")
    with pytest.raises(DirectiveSyntaxError) as info:
        parse_directive(text, Loc(str(path), 1, 13), offset_to_loc)
    err = info.value
    assert err.loc == Loc(str(path), 2, 13)
    assert str(err).splitlines()[1:3] == ["    #   copy(a) gnag", "    " + " " * 12 + "^"]


def test_error_position_at_end_of_continued_text(tmp_path: Path) -> None:
    text, path, offset_to_loc = continued_pragma(tmp_path, "copy(a),")
    with pytest.raises(DirectiveSyntaxError) as info:
        parse_directive(text, Loc(str(path), 1, 13), offset_to_loc)
    assert info.value.loc == Loc(str(path), 2, 13)


# --- canonical printing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("parallel", "parallel"),
        (
            "parallel loop pcopy(a[0:n, 1:m]) gang(4, static:*) dtype(*) if(n>1)",
            "parallel loop copy(a[0:n][1:m]) gang(num: 4, static: *) device_type(*) if(n > 1)",
        ),
        ("serial reduction(and: ok) default(none)", "serial reduction(&&: ok) default(none)"),
        ("loop reduction(and: ok)", "loop reduction(&&: ok)"),
        (
            "enter data copyin(readonly: a[:n]), async(q) wait",
            "enter data copyin(readonly: a[:n]) async(q) wait",
        ),
        ("atomic", "atomic update"),
        ("atomic capture", "atomic capture"),
        ('routine(f) seq bind("f_gpu") nohost', "routine(f) seq bind('f_gpu') nohost"),
        ("wait(devnum: 1: queues: 2, 3) async", "wait(devnum: 1: 2, 3) async"),
        ("cache(readonly: a[i:4, j])", "cache(readonly: a[i:4][j:1])"),
        ("end  kernels   loop", "end kernels loop"),
        (
            "loop tile(8,*) vector(32) collapse(0x2)",
            "loop tile(8, *) vector(length: 32) collapse(2)",
        ),
        ("data default(present) copyout(b)", "data default(present) copyout(b)"),
    ],
)
def test_to_source(text: str, canonical: str | None) -> None:
    d = parse_directive(text)
    if canonical is not None:
        assert d.to_source() == canonical
    assert parse_directive(d.to_source()) == d


# --- errors ---------------------------------------------------------------------------

ERRORS = [
    # (text, the text at the offending position, message, hint; None: hint not checked)
    ("", "", "missing OpenACC directive name after '#pragma acc'", None),
    ("(x)", "(x)", "expected an OpenACC directive name, found '('", None),
    ("paralel loop", "paralel", "unknown OpenACC directive 'paralel'", "did you mean 'parallel'?"),
    ("enterdata copyin(a)", "enterdata", "unknown OpenACC directive 'enterdata'", "did you mean 'enter data'?"),
    ("parallel coppy(a)", "coppy", "unknown OpenACC clause 'coppy'", "did you mean 'copy'?"),
    ("parallel loop gnag", "gnag", "unknown OpenACC clause 'gnag'", "did you mean 'gang'?"),
    ("data copy(a) loop", "loop", "unknown OpenACC clause 'loop'", None),
    ("parallel copy(a) loop", "loop", "unknown OpenACC clause 'loop'",
     "write 'parallel loop' with 'loop' right after 'parallel'"),
    ("data copy(a) gang", "gang", "clause 'gang' is not allowed on 'data'", None),
    ("kernels private(x)", "private", "clause 'private' is not allowed on 'kernels'", None),
    ("serial num_gangs(2)", "num_gangs", "clause 'num_gangs' is not allowed on 'serial'", None),
    ("enter data copyout(a)", "copyout", "clause 'copyout' is not allowed on 'enter data'", None),
    ("exit data pcopyin(a)", "pcopyin", "clause 'pcopyin' is not allowed on 'exit data'", None),
    ("cache(a) async", "async", "clause 'async' is not allowed on 'cache'", "'cache' takes no clauses"),
    ("atomic raed", "raed", "unexpected 'raed' after 'atomic'", "did you mean 'read'?"),
    ("enter dta", "dta", "unexpected 'dta'; expected 'data'", "did you mean 'data'?"),
    ("end paralel", "paralel",
     "unexpected 'paralel'; expected 'parallel', 'kernels', 'serial', 'data', 'host_data' or 'atomic'",
     "did you mean 'parallel'?"),
    ("end", "", "unexpected end of directive; expected 'parallel', 'kernels', 'serial', 'data', "
     "'host_data' or 'atomic'", None),
    ("parallel 5", "5", "unexpected '5'; expected 'loop', a clause name or end of directive", None),
    ("parallel, copy(a)", ", copy", "unexpected ','; expected 'loop', a clause name or end of directive", None),
    ("parallel copy(a),", "", "unexpected end of directive; expected a clause name", None),
    ("parallel copy(,)", ",)", "unexpected ','; expected ')' or an expression", None),
    ("parallel copy(a:)", ")", "unexpected ')'; expected an expression", None),
    ("parallel copy(a) \\", "\\", "unexpected character '\\\\'; expected ',', a clause name or end of directive",
     "join continuation lines before parsing the directive"),
    ("parallel copy(a))", ")", "unbalanced parentheses: ')' has no matching '('", None),
    ("parallel copy(a", "(a", "unbalanced parentheses: '(' is never closed", None),
    ("parallel copy(a[0:n)", ")", "mismatched brackets: '[' is closed by ')'", None),
    ("parallel copy(a[0:n]))", ")", "unbalanced parentheses: ')' has no matching '('", None),
    ("parallel copy(a[0:n]]", "]", "mismatched brackets: '(' is closed by ']'", None),
    ("parallel copy(a)]", "]", "unbalanced brackets: ']' has no matching '['", None),
    ("routine bind(\"f)", "\"f)", "unterminated string literal", None),
    ("parallel if(n >)", "n >)", "invalid Python expression 'n >' in clause 'if'", "invalid syntax"),
    ("parallel if(n > 1 && m)", "& m)", "invalid Python expression 'n > 1 && m' in clause 'if'",
     "clause expressions are Python: write 'and', 'or', 'not' for '&&', '||', '!'"),
    ("parallel num_gangs(n m)", "m)", "invalid Python expression 'n m' in clause 'num_gangs'", None),
    ("wait(1 +)", "1 +", "invalid Python expression '1 +' in 'wait'", "invalid syntax"),
    ("loop collapse(n)", "n)", "clause 'collapse' needs a positive integer constant, found 'n'", None),
    ("loop collapse(0)", "0)", "clause 'collapse' needs a positive integer constant, found '0'", None),
    ("loop reduction(foo: s)", "foo", "unknown reduction operator 'foo'",
     "use one of + * max min & | ^ && || (or Python's 'and', 'or')"),
    ("loop reduction(s)", "s)", "reduction clause needs an operator: reduction(op: var-list)",
     "operators: + * max min & | ^ && ||"),
    ("parallel default(shared)", "shared", "default clause takes 'none' or 'present', found 'shared'", None),
    ("loop seq(1)", "(1)", "clause 'seq' takes no arguments", None),
    ("parallel copy", "copy", "clause 'copy' needs arguments in parentheses", None),
    ("parallel async()", ")", "empty argument list in clause 'async'", None),
    ("parallel num_gangs(1, 2)", "2)", "clause 'num_gangs' takes one argument, found 2", None),
    ("parallel copy(a + 1)", "a + 1", "expected a variable or subarray in clause 'copy', found 'a + 1'",
     "a var-list item is a name, optionally with [start:length] bounds"),
    ("parallel copy(a[0:n:2])", "2]", "subarray with a step in clause 'copy': 'a[0:n:2]'",
     "OpenACC subarrays are [start:length], without a step"),
    ("parallel copy(a[*b])", "*b", "unexpected '*' in subarray in clause 'copy': 'a[*b]'", None),
    ("parallel copy(readonly: a)", ": a", "unexpected ':' in clause 'copy'",
     "'readonly:' is allowed on copyin and cache only, before the variables"),
    ("wait(devnum: 1)", ": 1", "unexpected ':' in 'wait'", None),
    ("loop gang(size: 2)", "size", "unknown argument 'size:' in clause 'gang'",
     "expected 'num:', 'static:' or 'dim:'"),
    ("loop gang(num: 2, 3)", "3", "'num:' given twice in clause 'gang'", None),
    ("parallel num_gangs(*)", "*", "'*' is not allowed in clause 'num_gangs'", None),
    ("init device_type(1)", "1", "expected a device type name or '*' in clause 'device_type', found '1'", None),
    ("routine bind(1)", "1", "clause 'bind' takes a function name or a string, found '1'", None),
    ("routine(a.b)", "a.b", "expected a function name in 'routine', found 'a.b'", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "at", "message", "hint"), ERRORS, ids=[repr(e[0]) for e in ERRORS]
)
def test_error(tmp_path: Path, text: str, at: str, message: str, hint: str | None) -> None:
    err = error_in_file(tmp_path, text)
    offset = text.rindex(at) if at else len(text)
    assert err.message == message
    if hint is not None:
        assert err.hint == hint
    assert err.loc == Loc(str(tmp_path / "kernel.py"), 1, len(PREFIX) + 1 + offset)
    rendered = str(err).splitlines()
    assert rendered[0] == f"{err.loc}: error: {message}"
    assert rendered[1] == "    " + PREFIX + text
    assert rendered[2] == "    " + " " * (len(PREFIX) + offset) + "^"


def test_clause_not_allowed_lists_the_allowed_ones(tmp_path: Path) -> None:
    err = error_in_file(tmp_path, "host_data copy(a)")
    assert err.hint == "clauses allowed on 'host_data': use_device, if, if_present"


def test_unknown_directive_without_close_match_lists_directives(tmp_path: Path) -> None:
    err = error_in_file(tmp_path, "frobnicate")
    assert err.hint is not None and err.hint.startswith("directives: parallel, kernels")


def test_error_without_location() -> None:
    with pytest.raises(DirectiveSyntaxError) as info:
        parse_directive("parallel coppy(a)")
    assert info.value.loc == Loc("<directive>", 1, 10)


@pytest.mark.parametrize(
    "text",
    [
        "parallel if('\x00')",
        "parallel if(" + "(" * 300 + ")" * 300 + ")",
        "parallel if(" + "-" * 5000 + "1)",
        "parallel copy(a[" + "[" * 300 + "]" * 300 + "])",
        "parallel if(" + "b + " * 700 + "b)",
        "parallel copy(a[" + "b + " * 700 + "b])",
        "parallel copy(" + ".".join(["a"] * 2000) + ")",
        "parallel if(lambda: 1)",
        "parallel if(yield)",
        "parallel if(f'{x')",
        "parallel \x00",
        "parallel copy(\u00e9[0:n]) if(\u03b1 > 1)",
    ],
)
def test_only_directive_syntax_errors_escape(text: str) -> None:
    with contextlib.suppress(DirectiveSyntaxError):
        parse_directive(text)
