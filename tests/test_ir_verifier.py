"""Tests of the IR verifier: one broken function per rule, and random valid IR."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from ir_strategies import functions, modules

from accir.diagnostics import IRVerificationError, Loc
from accir.frontend.directives import parse_directive
from accir.ir import types as T
from accir.ir.nodes import Assign, Break, Const, Function, Loop, Module, Region, Return, Var
from accir.ir.parser import parse_function, parse_module
from accir.ir.verifier import verify_function, verify_module

PARAMS = (
    "%A: memref<?x?xf64, C>, %F: memref<?xf64, F>, %n: pyint, %k: i32, %x: f64, %y: f32, "
    "%z: c128, %b: bool, %p: pybool"
)
LOCALS = "  var %i: pyint, %j: f64, %s: f64, %t: memref<?xf64, C>, %u: memref<?xf64, C>, %w: f64\n"
DEFS = "  S90: %j = 0.0:f64\n  S91: %s = 0.0:f64\n  L90: for %i = 0 to 1 step 1 {\n  }\n"
HELPER = "\nfunc @g(%X: memref<?x?xf64, C>, %m: pyint) -> f64 {\n  S0: return 1.0:f64\n}\n"


def module_with(body: str, ret: str = "none") -> Module:
    """A module whose entry function has the test's variables and `body` (two-space indented)."""
    lines = "".join("  " + line + "\n" for line in body.splitlines())
    return parse_module(f"func @f({PARAMS}) -> {ret} {{\n{LOCALS}{DEFS}{lines}}}\n{HELPER}", "v.ir")


def error(body: str, ret: str = "none") -> IRVerificationError:
    with pytest.raises(IRVerificationError) as info:
        verify_module(module_with(body, ret), pass_name="licm")
    e = info.value
    assert e.message.startswith("after pass 'licm': ")
    assert e.loc is not None and e.loc.file == "v.ir"
    return e


def test_valid_function_passes() -> None:
    verify_module(
        module_with(
            "S0: %A[%n, %n; unchecked] = (%x + %A[0, 1])\n"
            "S1: %t = alloc(%n) fill 1.0:f64\n"
            "S2: %u = alloc(dim(%A, 1))\n"
            'L0: for %i = 0 to %n step 1 acc "loop" {\n'
            '  acc "data copy(A)" {\n'
            "    if ((%p and (%n < 3)) or (not %b)) {\n"
            "      break\n"
            "    } else {\n"
            "      continue\n"
            "    }\n"
            "  }\n"
            "}\n"
            "L1: while (%b and (%x != 2.0:f64)) {\n"
            "  S3: %s = select(%b, call @g(%A, 1):f64, np.hypot(%y, %y):f64)\n"
            "  S4: %k = (((%k << 2:i32) & (~ %k)) // (- %k))\n"
            "  S5: %z = complex_ipow((%z / %z), 2):c128\n"
            "}\n"
            "S6: eval call @g(%A, %i):f64\n"
            "S7: return"
        ),
        pass_name="licm",
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        # variables
        ("S0: %s = %j\nS1: eval %w", "variable %w is used but never defined"),
        # statement ids
        ("S0: %s = %x\nS0: %j = %x", "S0 in function 'f': statement id S0 used twice"),
        ("X1: %s = %x", "malformed statement id 'X1' (expected S<n>)"),
        ("S5: for %i = 0 to 1 step 1 {\n}", "malformed statement id 'S5' (expected L<n>)"),
        ("L0: while %b {\n}\nL0: while %b {\n}", "L0 in function 'f': statement id L0 used twice"),
        # binary operators
        ("S0: %s = (%x + %y)", "S0 in function 'f': operands of '+' differ in type: f64 and f32"),
        ("S0: %n = (%n / %n)", "'/' needs float or complex operands, not pyint"),
        ("S0: %z = (%z // %z)", "'//' is not defined on complex c128"),
        ("S0: %z = (%z % %z)", "'%' is not defined on complex c128"),
        ("S0: %x = (%x & %x)", "'&' needs integer or bool operands, not f64"),
        ("S0: %x = (%x << %x)", "'<<' needs integer or bool operands, not f64"),
        ("S0: eval (%A + %A)", "an operand of '+' must be a scalar, not memref<?x?xf64, C>"),
        # comparisons, logical operators, select, unary operators
        ("S0: %b = (%x < %y)", "operands of '<' differ in type: f64 and f32"),
        ("S0: %p = (pycomplex(%z) < pycomplex(%z))", "'<' cannot order Python complex numbers"),
        ("S0: %z = (%z ** %z)", "'**' is not defined on complex c128"),
        ("S0: %b = (%b and %x)", "an operand of 'and' must be bool or pybool, not f64"),
        ("S0: %b = (%b or %p)", "operands of 'or' differ in type: bool and pybool"),
        ("S0: %x = select(%x, %x, %x)", "the condition of select must be bool or pybool, not f64"),
        ("S0: %x = select(%b, %x, %y)", "select branches differ in type: f64 and f32"),
        ("S0: %x = (~ %x)", "'~' needs an integer or bool operand, not f64"),
        ("S0: %b = (- %b)", "unary '-' is not defined on bool"),
        ("S0: %p = (+ %p)", "unary '+' is not defined on pybool"),
        # loads, stores, dim
        ("S0: %x = %x[0]", "subscripted value %x is not an array: f64"),
        ("S0: %x = %A[0]", "1 indices for %A of rank 2"),
        ("S0: %x = %A[0, 1.0]", "an index must be an integer, not pyfloat"),
        ("S0: %A[0, 0] = %y", "stores f32 into %A of f64"),
        ("S0: %F[0, 0] = %x", "2 indices for %F of rank 1"),
        ("S0: %n = dim(%A, 2)", "dim axis 2 out of range for rank 2"),
        ("S0: %n = dim(%x, 0)", "the operand of dim %x is not an array: f64"),
        # assignments and allocations
        ("S0: %x = %y", "assigns f32 to %x of type f64"),
        (
            "S0: %t = %u",
            "assignment to %t of type memref<?xf64, C>; arrays are bound only by alloc",
        ),
        ("S0: %t = alloc(1.0)", "an alloc extent must be an integer, not pyfloat"),
        ("S0: %t = alloc(%n, %n)", "alloc of rank 1 with 2 extents"),
        ("S0: %t = alloc(%n) fill %y", "alloc fill of type f32 for elements of f64"),
        ("S0: %F = alloc(%n)", "alloc target %F must be a C-layout array, not memref<?xf64, F>"),
        ("S0: %x = alloc(%n)", "alloc target %x must be a C-layout array, not f64"),
        # loops and conditions
        ("L0: for %j = 0 to 1 step 1 {\n}", "loop variable %j must be pyint, not f64"),
        ("L0: for %i = 0 to %k step 1 {\n}", "loop stop must be pyint, not i32"),
        ("L0: for %i = 0.5 to 1 step 1 {\n}", "loop start must be pyint, not pyfloat"),
        ("L0: for %i = 0 to 1 step 1:i32 {\n}", "loop step must be pyint, not i32"),
        ("if %x {\n}", "if in function 'f': an if condition must be bool or pybool, not f64"),
        ("L0: while %n {\n}", "L0 in function 'f': a while condition must be bool or pybool"),
        # break and continue
        ("break", "break in function 'f': not inside a loop"),
        ("if %b {\n  continue\n}", "continue (in if) in function 'f': not inside a loop"),
        ('acc "data copy(A)" {\n  break\n}', "break (in acc region) in function 'f': not inside"),
        # returns
        ("S0: return %x", "return with a value in a function returning none"),
        # calls and intrinsics
        ("S0: eval call @nope():none", "call of unknown function @nope"),
        ("S0: eval call @g(%A):f64", "@g takes 2 arguments, not 1"),
        ("S0: eval call @g(%A, %k):f64", "argument 1 of @g is i32, expected pyint"),
        ("S0: eval call @g(%F, %n):f64", "argument 0 of @g is memref<?xf64, F>, expected"),
        ("S0: eval call @g(%A, %n):f32", "call of @g typed f32, but it returns f64"),
        ("S0: %x = np.sqrt(%A):f64", "an argument of np.sqrt must be a scalar, not memref"),
    ],
)
def test_rule_violations(body: str, fragment: str) -> None:
    assert fragment in error(body).message


@pytest.mark.parametrize(
    ("body", "ret", "fragment"),
    [
        (
            "S0: return",
            "f64",
            "S0 in function 'f': return without a value in a function returning f64",
        ),
        ("S0: return %y", "f64", "returns f32 from a function returning f64"),
    ],
)
def test_return_types(body: str, ret: str, fragment: str) -> None:
    assert fragment in error(body, ret).message


def test_error_carries_location_of_node() -> None:
    e = error("S0: %s = (%x + (%y * %y))")
    assert e.loc == Loc("v.ir", 7, 12)


def test_message_without_pass_name() -> None:
    with pytest.raises(IRVerificationError) as info:
        verify_module(module_with("break"))
    assert info.value.message == "break in function 'f': not inside a loop"


def test_break_inside_region_inside_loop_is_fine() -> None:
    verify_module(module_with('L0: while %b {\n  acc "data copy(A)" {\n    break\n  }\n}'))


def test_variable_with_two_types() -> None:
    s64, s32 = Var("s", T.F64), Var("s", T.F32)
    f = Function("f", (), (Assign("S0", s64, Const(0.0, T.F64)), Assign("S1", s32, s64)), T.NONE)
    with pytest.raises(IRVerificationError, match="variable %s has type f32 here but f64"):
        verify_function(f, "p")


def test_duplicate_parameters() -> None:
    a = Var("a", T.PYINT)
    with pytest.raises(IRVerificationError, match="function 'f': parameter %a declared twice"):
        verify_function(Function("f", (a, a), (), T.NONE))


def test_none_typed_variable() -> None:
    with pytest.raises(IRVerificationError, match="variable %a has type none"):
        verify_function(Function("f", (Var("a", T.NONE),), (), T.NONE))


def test_duplicate_functions() -> None:
    f = Function("f", (), (Return("S0", None),), T.NONE)
    with pytest.raises(IRVerificationError, match="after pass 'x': function 'f' defined twice"):
        verify_module(Module((f, f)), "x")


def test_verify_function_skips_callee_checks() -> None:
    f = parse_function("func @f() -> none {\n  S0: eval call @elsewhere(1):none\n}\n")
    verify_function(f)
    with pytest.raises(IRVerificationError, match="unknown function @elsewhere"):
        verify_module(Module((f,)))


def test_nodes_built_without_locations() -> None:
    i = Var("i", T.PYINT)
    zero = Const(0, T.PYINT)
    region = Region(parse_directive("kernels"), (Break(),))
    f = Function("f", (), (Loop("L0", i, zero, zero, zero, ()), region), T.NONE)
    with pytest.raises(IRVerificationError) as info:
        verify_function(f)
    assert info.value.loc is None
    assert "break (in acc region)" in info.value.message


VALID = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@VALID
@given(functions())
def test_random_functions_verify(f: Function) -> None:
    verify_function(f, "random")


@VALID
@given(modules())
def test_random_modules_verify(m: Module) -> None:
    verify_module(m, "random")


def test_unknown_intrinsic_and_wrong_arity_are_rejected():
    from accir.diagnostics import IRVerificationError
    from accir.ir.parser import parse_function
    from accir.ir.verifier import verify_function

    for call, message in [("math.nope(%x):pyfloat", "unknown intrinsic 'math.nope'"),
                          ("math.sqrt(%x, %x):pyfloat", "intrinsic math.sqrt takes 1..1")]:
        fn = parse_function(f"func @f(%x: pyfloat) -> pyfloat {{\n  S0: return {call}\n}}\n")
        try:
            verify_function(fn)
        except IRVerificationError as err:
            assert message in err.message
        else:
            raise AssertionError(f"{call} verified")
