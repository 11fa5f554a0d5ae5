"""Tests of the IR parser: each construct, locations, errors, and random round trips."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from ir_strategies import functions, modules

from accir.diagnostics import IRParseError, Loc
from accir.frontend.directives import parse_directive
from accir.ir import types as T
from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    BinOp,
    Break,
    Call,
    Cast,
    Compare,
    Const,
    Continue,
    Dim,
    ExprStmt,
    Function,
    If,
    Intrinsic,
    Load,
    Logical,
    Loop,
    Module,
    Region,
    Return,
    Select,
    Store,
    UnaryOp,
    Var,
    While,
)
from accir.ir.parser import parse_function, parse_module
from accir.ir.printer import print_function, print_module

A = Var("A", T.ArrayType(T.F64, 2, "C"))
N = Var("n", T.PYINT)
S = Var("s", T.F64)
OK = Var("ok", T.PYBOOL)
I = Var("i", T.PYINT)  # noqa: E741
HEADER = (
    "func @f(%A: memref<?x?xf64, C>, %n: pyint, %ok: pybool) -> none {\n  var %i: pyint, %s: f64\n"
)

JACOBI = """\
func @jacobi(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint, %ok: pybool) -> none {
  var %i: pyint, %j: pyint, %s: f64, %t: memref<?xf64, C>
  S0: %s = 0.0:f64
  S1: %t = alloc(%n) fill 0.0:f64
  L0: for %i = 1 to (%n - 1) step 1 acc "parallel loop collapse(2)" {
    L1: for %j = 1 to (dim(%A, 1) - 1) step 1 {
      S2: %B[%i, %j] = (0.25:f64 * (%A[%i, (%j + 1)] + %A[(%i - 1), %j; unchecked]))
      S3: %s = (%s + f64(math.sqrt(f64(%i)):pyfloat))
    }
  }
  acc "data copy(A)" {
    L2: while (%s > 0.0:f64) {
      if ((%s < 1.0:f64) and (not %ok)) {
        break
      } else {
        continue
      }
    }
  }
  acc "update host(A)"
  S4: eval call @helper(%A, 3):none
  S5: return
}

func @helper(%X: memref<?x?xf64, C>, %k: pyint) -> none {
  S0: return
}
"""


def expr_of(text: str, ret: str = "none") -> object:
    """Parse `text` as the value of an eval statement in a function with f's variables."""
    f = parse_function(HEADER + f"  S0: eval {text}\n}}\n")
    stmt = f.body[0]
    assert isinstance(stmt, ExprStmt)
    return stmt.value


def body_of(text: str) -> tuple[object, ...]:
    indented = "".join("  " + line + "\n" for line in text.splitlines())
    return parse_function(HEADER + indented + "}\n").body


def test_jacobi_round_trip() -> None:
    m = parse_module(JACOBI, "jacobi.ir")
    assert print_module(m) == JACOBI
    assert parse_module(print_module(m)) == m
    f = m.functions[0]
    assert [p.name for p in f.params] == ["A", "B", "n", "ok"]
    loop = f.body[2]
    assert isinstance(loop, Loop) and loop.directive == parse_directive("parallel loop collapse(2)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", Const(3, T.PYINT)),
        ("-3", Const(-3, T.PYINT)),
        (str(2**100), Const(2**100, T.PYINT)),
        ("0.25", Const(0.25, T.PYFLOAT)),
        ("1e+20", Const(1e20, T.PYFLOAT)),
        ("-0.0", Const(-0.0, T.PYFLOAT)),
        ("inf", Const(math.inf, T.PYFLOAT)),
        ("-inf", Const(-math.inf, T.PYFLOAT)),
        ("nan", Const(math.nan, T.PYFLOAT)),
        ("True", Const(True, T.PYBOOL)),
        ("False:bool", Const(False, T.BOOL)),
        ("complex(1.0, -2.0)", Const(complex(1.0, -2.0), T.PYCOMPLEX)),
        ("complex(nan, -0.0):c64", Const(complex(math.nan, -0.0), T.C64)),
        ("3:i32", Const(3, T.I32)),
        ("nan:f64", Const(math.nan, T.F64)),
        ("(- 3)", UnaryOp("-", Const(3, T.PYINT))),
        ("(- -3)", UnaryOp("-", Const(-3, T.PYINT))),
    ],
)
def test_constants(text: str, expected: object) -> None:
    assert expr_of(text) == expected


def test_negative_zero_differs_from_zero() -> None:
    assert expr_of("-0.0") != expr_of("0.0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%n", N),
        ("dim(%A, 1)", Dim(A, 1)),
        ("%A[%i, 0]", Load(A, (I, Const(0, T.PYINT)))),
        ("%A[%i, 0; unchecked]", Load(A, (I, Const(0, T.PYINT)), checked=False)),
        ("(%n - 1)", BinOp("-", N, Const(1, T.PYINT))),
        ("(%n -1)", BinOp("-", N, Const(1, T.PYINT))),
        ("(%n // %i)", BinOp("//", N, I)),
        ("(%n % %i)", BinOp("%", N, I)),
        ("(%n ** %i)", BinOp("**", N, I)),
        ("(%n >> %i)", BinOp(">>", N, I)),
        ("(%n ^ %i)", BinOp("^", N, I)),
        ("(%n <= %i)", Compare("<=", N, I)),
        ("(%n == %i)", Compare("==", N, I)),
        ("(%ok or %ok)", Logical("or", OK, OK)),
        ("(not %ok)", UnaryOp("not", OK)),
        ("(~ %n)", UnaryOp("~", N)),
        ("(+ %s)", UnaryOp("+", S)),
        ("select(%ok, %n, 0)", Select(OK, N, Const(0, T.PYINT))),
        ("f32(%n)", Cast(N, T.F32)),
        ("bool(%n)", Cast(N, T.BOOL)),
        ("bool(%n):pybool", Intrinsic("bool", (N,), T.PYBOOL)),
        ("np.sqrt(%s):f64", Intrinsic("np.sqrt", (S,), T.F64)),
        (
            "complex(1.0, 2.0):pycomplex",
            Intrinsic("complex", (Const(1.0, T.PYFLOAT), Const(2.0, T.PYFLOAT)), T.PYCOMPLEX),
        ),
        ("call @g(%A, %n):f64", Call("g", (A, N), T.F64)),
        ("call @g():none", Call("g", (), T.NONE)),
    ],
)
def test_expressions(text: str, expected: object) -> None:
    assert expr_of(text) == expected


def test_statements() -> None:
    body = body_of(
        "S0: %s = 1.0:f64\n"
        "S1: %A[%i, 0; unchecked] = %s\n"
        "S2: eval call @g():none\n"
        'L0: for %i = 0 to %n step 2 acc "loop seq" {\n'
        "  L1: while %ok {\n"
        "    break\n"
        "    continue\n"
        "  }\n"
        "}\n"
        "if %ok {\n"
        "}\n"
        'acc "kernels" {\n'
        '  acc "wait"\n'
        "}\n"
        "S3: return"
    )
    zero, two = Const(0, T.PYINT), Const(2, T.PYINT)
    assert body == (
        Assign("S0", S, Const(1.0, T.F64)),
        Store("S1", A, (I, zero), S, checked=False),
        ExprStmt("S2", Call("g", (), T.NONE)),
        Loop(
            "L0",
            I,
            zero,
            N,
            two,
            (While("L1", OK, (Break(), Continue())),),
            parse_directive("loop seq"),
        ),
        If(OK, ()),
        Region(parse_directive("kernels"), (AccStmt(parse_directive("wait")),)),
        Return("S3", None),
    )


def test_alloc_and_return_value() -> None:
    f = parse_function(
        "func @f(%n: pyint) -> f64 {\n  var %t: memref<?x?xf32, C>\n"
        "  S0: %t = alloc(%n, 3)\n  S1: %t = alloc() fill 0.0:f32\n  S2: return 1.0:f64\n}\n"
    )
    t = Var("t", T.ArrayType(T.F32, 2, "C"))
    three = Const(3, T.PYINT)
    assert f.body == (
        Alloc("S0", t, (Var("n", T.PYINT), three), None),
        Alloc("S1", t, (), Const(0.0, T.F32)),
        Return("S2", Const(1.0, T.F64)),
    )
    assert f.ret == T.F64


def test_if_else_and_escaped_directive() -> None:
    body = body_of('if %ok {\n  acc "routine(f) bind(\\"g\\")"\n} else {\n  S0: %s = %s\n}')
    stmt = body[0]
    assert isinstance(stmt, If) and isinstance(stmt.then[0], AccStmt)
    assert stmt.orelse == (Assign("S0", S, S),)


def test_locations() -> None:
    m = parse_module(JACOBI, "jacobi.ir")
    f = m.functions[0]
    assert f.loc == Loc("jacobi.ir", 1, 1)
    assert f.params[1].loc == Loc("jacobi.ir", 1, 38)
    first = f.body[0]
    assert isinstance(first, Assign) and first.loc == Loc("jacobi.ir", 3, 3)
    loop = f.body[2]
    assert isinstance(loop, Loop)
    inner = loop.body[0]
    assert isinstance(inner, Loop) and inner.loc == Loc("jacobi.ir", 6, 5)
    store = inner.body[0]
    assert isinstance(store, Store) and isinstance(store.value, BinOp)
    assert store.value.loc == Loc("jacobi.ir", 7, 24)
    index = store.indices[1]
    assert isinstance(index, Var) and index.loc == Loc("jacobi.ir", 7, 18)
    assert m.functions[1].loc == Loc("jacobi.ir", 25, 1)


def test_blank_lines_and_crlf() -> None:
    text = "\nfunc @f() -> none {\r\n\r\n  S0: return\r\n}\r\n\r\n\r\nfunc @g() -> none {\n}"
    m = parse_module(text)
    assert [f.name for f in m.functions] == ["f", "g"]
    assert parse_module("") == Module(())


def _error(text: str) -> IRParseError:
    with pytest.raises(IRParseError) as info:
        parse_module(text, "bad.ir")
    return info.value


def test_error_unknown_token() -> None:
    e = _error("func @f() -> none {\n  S0: return $\n}\n")
    assert e.message == "unexpected character '$'"
    assert e.loc == Loc("bad.ir", 2, 14)
    assert e.hint is not None and "a variable (%name)" in e.hint and "'('" in e.hint


def test_error_unexpected_token_lists_expected() -> None:
    e = _error("func @f(%n: pyint) -> none {\n  S0 %n = 1\n}\n")
    assert e.message == "unexpected '%n'"
    assert e.loc == Loc("bad.ir", 2, 6)
    assert e.hint == "expected ':'"


def test_error_unclosed_paren() -> None:
    e = _error("func @f(%n: pyint) -> none {\n  S0: %n = (%n + 1\n}\n")
    assert e.message == "unexpected newline"
    assert e.loc == Loc("bad.ir", 2, 19)
    assert e.hint == "expected ')'"


def test_error_end_of_input() -> None:
    e = _error("func @f(%n: pyint) -> none {\n  S0: %n = 1\n")
    assert e.message == "unexpected end of input"
    assert e.loc == Loc("bad.ir", 3, 1)
    assert e.hint is not None and "'}'" in e.hint


def test_error_undeclared_variable() -> None:
    e = _error("func @f() -> none {\n  S0: eval (%x + 1)\n}\n")
    assert e.message == "undeclared variable '%x'"
    assert e.loc == Loc("bad.ir", 2, 13)


@pytest.mark.parametrize(
    ("text", "col"),
    [
        ("func @f(%a: f65) -> none {\n}\n", 13),
        ("func @f(%a: memref<?xf65, C>) -> none {\n}\n", 13),
        ("func @f(%a: memref<?xf64, Q>) -> none {\n}\n", 13),
        ("func @f() -> pyint2 {\n}\n", 14),
    ],
)
def test_error_bad_type(text: str, col: int) -> None:
    e = _error(text)
    assert e.message.startswith("unknown type '")
    assert e.loc == Loc("bad.ir", 1, col)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("S0: eval 1:memref<?xf64, C>", "expected a scalar type, found 'memref<?xf64, C>'"),
        ("S0: eval foo(1)", "call of 'foo' needs a result type"),
        ("S0: eval f64(1, 2)", "a cast to f64 takes one operand"),
        ('acc "update hots(A)"', "bad directive: unknown OpenACC clause 'hots'"),
    ],
)
def test_error_semantic(body: str, message: str) -> None:
    assert _error(f"func @f() -> none {{\n  {body}\n}}\n").message == message


def test_error_duplicate_declaration() -> None:
    e = _error("func @f(%a: pyint) -> none {\n  var %a: f64\n}\n")
    assert e.message == "variable '%a' declared twice"
    assert e.loc == Loc("bad.ir", 2, 7)


def test_parse_function_wants_one_function() -> None:
    with pytest.raises(IRParseError, match="exactly one function"):
        parse_function(JACOBI)


def test_lark_errors_never_escape() -> None:
    for text in ["func", "}", "func @f( -> none {\n}", "\x00", 'func @f() -> none {\n  acc "x\n}']:
        with pytest.raises(IRParseError):
            parse_module(text)


ROUND_TRIP = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(functions())
def test_random_functions_round_trip(f: Function) -> None:
    text = print_function(f)
    parsed = parse_function(text)
    assert parsed == f
    assert print_function(parsed) == text


@ROUND_TRIP
@given(modules())
def test_random_modules_round_trip(m: Module) -> None:
    text = print_module(m)
    parsed = parse_module(text)
    assert parsed == m
    assert print_module(parsed) == text
