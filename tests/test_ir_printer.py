"""Golden tests of the IR printer: the exact text of every node kind."""

from __future__ import annotations

import math

import pytest

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
from accir.ir.printer import print_expr, print_function, print_module

A = Var("A", T.ArrayType(T.F64, 2, "C"))
B = Var("B", T.ArrayType(T.F64, 2, "C"))
TMP = Var("t", T.ArrayType(T.F64, 1, "C"))
N = Var("n", T.PYINT)
I = Var("i", T.PYINT)  # noqa: E741
J = Var("j", T.PYINT)
S = Var("s", T.F64)
X = Var("x", T.F32)
OK = Var("ok", T.PYBOOL)


def c(value: object, ty: T.ScalarType) -> Const:
    return Const(value, ty)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("const", "text"),
    [
        (c(3, T.PYINT), "3"),
        (c(-3, T.PYINT), "-3"),
        (c(2**100, T.PYINT), str(2**100)),
        (c(0.25, T.PYFLOAT), "0.25"),
        (c(1e20, T.PYFLOAT), "1e+20"),
        (c(-0.0, T.PYFLOAT), "-0.0"),
        (c(math.inf, T.PYFLOAT), "inf"),
        (c(-math.inf, T.PYFLOAT), "-inf"),
        (c(math.nan, T.PYFLOAT), "nan"),
        (c(True, T.PYBOOL), "True"),
        (c(False, T.PYBOOL), "False"),
        (c(complex(1.0, -2.0), T.PYCOMPLEX), "complex(1.0, -2.0)"),
        (c(3, T.I32), "3:i32"),
        (c(0.25, T.F32), "0.25:f32"),
        (c(math.nan, T.F64), "nan:f64"),
        (c(True, T.BOOL), "True:bool"),
        (c(complex(1.0, 0.0), T.C64), "complex(1.0, 0.0):c64"),
        (c(3, T.PYFLOAT), "3:pyfloat"),  # a value of another class keeps its type
    ],
)
def test_constants(const: Const, text: str) -> None:
    assert print_expr(const) == text


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (N, "%n"),
        (Dim(A, 0), "dim(%A, 0)"),
        (Load(A, (I, J)), "%A[%i, %j]"),
        (Load(A, (I, J), checked=False), "%A[%i, %j; unchecked]"),
        (BinOp("+", N, c(1, T.PYINT)), "(%n + 1)"),
        (BinOp("//", N, I), "(%n // %i)"),
        (BinOp("%", N, I), "(%n % %i)"),
        (BinOp("**", N, I), "(%n ** %i)"),
        (BinOp("<<", N, I), "(%n << %i)"),
        (BinOp("&", N, I), "(%n & %i)"),
        (Compare("<", N, I), "(%n < %i)"),
        (Compare("!=", N, I), "(%n != %i)"),
        (Logical("and", OK, OK), "(%ok and %ok)"),
        (Logical("or", OK, OK), "(%ok or %ok)"),
        (UnaryOp("-", N), "(- %n)"),
        (UnaryOp("+", N), "(+ %n)"),
        (UnaryOp("~", N), "(~ %n)"),
        (UnaryOp("not", OK), "(not %ok)"),
        (UnaryOp("-", c(-3, T.PYINT)), "(- -3)"),
        (Select(OK, N, I), "select(%ok, %n, %i)"),
        (Cast(N, T.F32), "f32(%n)"),
        (Cast(X, T.PYINT), "pyint(%x)"),
        (Intrinsic("math.sqrt", (Cast(I, T.F64),), T.PYFLOAT), "math.sqrt(f64(%i)):pyfloat"),
        (Intrinsic("min", (N, I), T.PYINT), "min(%n, %i):pyint"),
        (Call("helper", (A, c(3, T.PYINT)), T.NONE), "call @helper(%A, 3):none"),
        (Call("f", (), T.F64), "call @f():f64"),
    ],
)
def test_expressions(expr: object, text: str) -> None:
    assert print_expr(expr) == text  # type: ignore[arg-type]


def _fn(*body: object, params: tuple[Var, ...] = (A, N), ret: T.Type = T.NONE) -> Function:
    return Function("f", params, tuple(body), ret)  # type: ignore[arg-type]


def _lines(f: Function) -> list[str]:
    return print_function(f).splitlines()[1:-1]


@pytest.mark.parametrize(
    ("stmt", "line"),
    [
        (Assign("S0", S, c(0.0, T.F64)), "S0: %s = 0.0:f64"),
        (Store("S1", A, (I, J), S), "S1: %A[%i, %j] = %s"),
        (Store("S1", A, (I, J), S, checked=False), "S1: %A[%i, %j; unchecked] = %s"),
        (Alloc("S2", TMP, (N,), None), "S2: %t = alloc(%n)"),
        (Alloc("S2", TMP, (N,), c(0.0, T.F64)), "S2: %t = alloc(%n) fill 0.0:f64"),
        (ExprStmt("S3", Call("g", (A,), T.NONE)), "S3: eval call @g(%A):none"),
        (Return("S4", None), "S4: return"),
        (AccStmt(parse_directive("update host(A)")), 'acc "update host(A)"'),
    ],
)
def test_simple_statements(stmt: object, line: str) -> None:
    assert _lines(_fn(stmt))[-1] == "  " + line


def test_loops_ifs_regions() -> None:
    inner = Loop("L1", J, c(0, T.PYINT), Dim(A, 1), c(1, T.PYINT), (Break(),))
    outer = Loop(
        "L0", I, c(1, T.PYINT), BinOp("-", N, c(1, T.PYINT)), c(2, T.PYINT), (inner,),
        parse_directive("parallel loop collapse(2)"),
    )  # fmt: skip
    loop = While("L2", OK, (If(OK, (Continue(),), (Break(),)), If(OK, ())))
    region = Region(parse_directive("data copy(A)"), (loop,))
    assert _lines(_fn(outer, region, params=(A, N, OK))) == [
        "  var %i: pyint, %j: pyint",
        '  L0: for %i = 1 to (%n - 1) step 2 acc "parallel loop collapse(2)" {',
        "    L1: for %j = 0 to dim(%A, 1) step 1 {",
        "      break",
        "    }",
        "  }",
        '  acc "data copy(A)" {',
        "    L2: while %ok {",
        "      if %ok {",
        "        continue",
        "      } else {",
        "        break",
        "      }",
        "      if %ok {",
        "      }",
        "    }",
        "  }",
    ]


def test_function_header_and_locals() -> None:
    f = Function(
        "jacobi",
        (A, B, N),
        (
            Assign("S0", S, c(0.0, T.F64)),
            Alloc("S1", TMP, (N,), None),
            Loop("L0", I, c(0, T.PYINT), N, c(1, T.PYINT), ()),
            Return("S2", S),
        ),
        T.F64,
    )
    assert print_function(f) == (
        "func @jacobi(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> f64 {\n"
        "  var %i: pyint, %s: f64, %t: memref<?xf64, C>\n"
        "  S0: %s = 0.0:f64\n"
        "  S1: %t = alloc(%n)\n"
        "  L0: for %i = 0 to %n step 1 {\n"
        "  }\n"
        "  S2: return %s\n"
        "}\n"
    )


def test_no_var_line_without_locals() -> None:
    assert print_function(Function("g", (), (), T.NONE)) == "func @g() -> none {\n}\n"


def test_module_separates_functions_by_blank_lines() -> None:
    f = Function("f", (), (Return("S0", None),), T.NONE)
    g = Function("g", (N,), (Return("S0", N),), T.PYINT)
    assert print_module(Module((f, g))) == (
        "func @f() -> none {\n  S0: return\n}\n\nfunc @g(%n: pyint) -> pyint {\n  S0: return %n\n}\n"
    )
