"""loop-distribution: decisions and remarks on IR, semantics against CPython end to end (both
copies of versioned loops), the parallel part really parallelised, and a property: random
loop bodies give the interpreter's results after distribution."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import accir
from accir.analysis.manager import AnalysisManager
from accir.backends.interp import Interpreter
from accir.ir.nodes import Module
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.ir.types import ArrayType
from accir.passes.loop_distribution import LoopDistribution
from accir.passes.manager import PassManager

PIPELINE = ("normalize,bounds-check-hoist,loop-distribution,mark-independent-loops,"
            "auto-parallelize")


def distribute(text: str, **options: bool):
    module = parse_module(text)
    return module, LoopDistribution(**options).run(module, AnalysisManager())


def messages(result, kind: str) -> list[str]:
    return [r.message for r in result.remarks if r.kind == kind]


# ---------------------------------------------------------------------- decisions on IR

ONE_D = "%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>, %n: pyint"


def test_recurrence_and_parallel_statement_are_split() -> None:
    _, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint
      L0: for %i = 1 to %n step 1 {{
        S0: %c[%i; unchecked] = (%b[%i; unchecked] * 2.0:f64)
        S1: %a[%i; unchecked] = (%a[(%i - 1); unchecked] + %c[%i; unchecked])
      }}
    }}""")
    assert messages(result, "distributed") == [
        "loop over 'i' (L0) distributed into 2 loops: L0 {S0} parallel, L1 {S1} sequential "
        "(recurrence on 'a': S1 -> S1 distance 1)"]
    loops = result.module.entry.body
    assert [loop.lid for loop in loops] == ["L0", "L1"]
    assert [[s.sid for s in loop.body] for loop in loops] == [["S0"], ["S1"]]


def test_one_cycle_is_kept_and_named() -> None:
    module, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint
      L0: for %i = 1 to %n step 1 {{
        S0: %a[%i; unchecked] = (%b[(%i - 1); unchecked] + 1.0:f64)
        S1: %b[%i; unchecked] = (%a[%i; unchecked] * %c[%i; unchecked])
      }}
    }}""")
    assert result.module is module
    assert messages(result, "not-transformed") == [
        "loop over 'i' (L0) not distributed: S0, S1 form one recurrence (cycle S1 -> S0 "
        "(flow on 'b', distance 1), S0 -> S1 (flow on 'a'))"]


def test_nothing_to_gain_says_nothing() -> None:
    module, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint
      L0: for %i = 0 to %n step 1 {{
        S0: %a[%i; unchecked] = (%b[%i; unchecked] * 2.0:f64)
        S1: %c[%i; unchecked] = (%a[%i; unchecked] + 1.0:f64)
      }}
    }}""")
    assert result.module is module
    assert result.remarks == ()


def test_checked_subscripts_prevent_a_split() -> None:
    module, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint
      L0: for %i = 1 to %n step 1 {{
        S0: %a[%i] = (%a[(%i - 1)] + 1.0:f64)
        S1: %c[%i] = (%b[%i] * 2.0:f64)
      }}
    }}""")
    assert result.module is module
    [message] = messages(result, "not-transformed")
    assert message.startswith("loop over 'i' (L0) not distributed (it would split into 2 "
                              "loops): its subscripts are checked")


@pytest.mark.parametrize("bound", ["%k", "pyint(%b[0; unchecked])"])
def test_bounds_the_body_changes_prevent_a_split(bound: str) -> None:
    module, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint, %k: pyint
      S0: %k = %n
      L0: for %i = 1 to {bound} step 1 {{
        S1: %a[%i; unchecked] = (%a[(%i - 1); unchecked] + 1.0:f64)
        S2: %b[0; unchecked] = 2.0:f64
        S3: %k = 2
      }}
    }}""")
    assert result.module is module
    assert messages(result, "not-transformed") == [
        "loop over 'i' (L0) not distributed (it would split into 2 loops): its bounds read "
        "what its body writes"]


def test_parallel_groups_with_a_carried_dependence_between_them_stay_apart() -> None:
    _, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint
      L0: for %i = 1 to %n step 1 {{
        S0: %a[%i; unchecked] = (%b[(%i - 1); unchecked] * 2.0:f64)
        S1: %b[%i; unchecked] = (%c[%i; unchecked] + 1.0:f64)
      }}
    }}""")
    assert messages(result, "distributed") == [
        "loop over 'i' (L0) distributed into 2 loops: L0 {S1} parallel, L1 {S0} parallel"]


def test_typed_fusion_gathers_parallel_statements_around_a_recurrence() -> None:
    _, result = distribute(f"""
    func @f({ONE_D}, %d: memref<?xf64, C>) -> none {{
      var %i: pyint
      L0: for %i = 1 to %n step 1 {{
        S0: %c[%i; unchecked] = (%b[%i; unchecked] * 2.0:f64)
        S1: %a[%i; unchecked] = (%a[(%i - 1); unchecked] + 1.0:f64)
        S2: %d[%i; unchecked] = (%b[%i; unchecked] - 1.0:f64)
      }}
    }}""")
    assert messages(result, "distributed") == [
        "loop over 'i' (L0) distributed into 2 loops: L0 {S0, S2} parallel, L1 {S1} "
        "sequential (recurrence on 'a': S1 -> S1 distance 1)"]


def test_a_split_off_recurrence_is_not_reported_again() -> None:
    _, result = distribute(f"""
    func @f({ONE_D}) -> f64 {{
      var %i: pyint, %s: f64
      S0: %s = 0.0:f64
      L0: for %i = 0 to %n step 1 {{
        S1: %s = (%s + %a[%i; unchecked])
        S2: %b[%i; unchecked] = %s
        S3: %c[%i; unchecked] = (%a[%i; unchecked] * 2.0:f64)
      }}
      S4: return %s
    }}""")
    assert [r.kind for r in result.remarks] == ["distributed"]
    assert result.remarks[0].message == (
        "loop over 'i' (L0) distributed into 2 loops: L0 {S1, S2} sequential (recurrence on "
        "'s': S1 -> S1), L1 {S3} parallel; S1, S2 stay in one loop: they share scalar 's' (not "
        "expanded)")


VERSIONED = """
func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint
  if ((1 < %n) and (((%n - 1) < dim(%a, 0)) and ((%n - 1) < dim(%b, 0)))) versioned {
    L0: for %i = 1 to %n step 1 {
      S0: %a[%i; unchecked] = (%a[(%i - 1); unchecked] * 0.5:f64)
      S1: %b[%i; unchecked] = (%b[%i; unchecked] + 1.0:f64)
    }
  } else {
    L1: for %i = 1 to %n step 1 {
      S2: %a[%i] = (%a[(%i - 1)] * 0.5:f64)
      S3: %b[%i] = (%b[%i] + 1.0:f64)
    }
  }
}"""


def test_the_slow_copy_of_a_versioned_loop_is_left_alone_and_unmentioned() -> None:
    _, result = distribute(VERSIONED)
    assert [r.kind for r in result.remarks] == ["distributed"]
    again = LoopDistribution().run(result.module, AnalysisManager())
    assert again.module is result.module and again.remarks == ()


GEMM = """
func @gemm(%C: memref<?x?xf64, C>, %A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %beta: f64, %n: pyint) -> none {
  var %i: pyint, %j: pyint, %k: pyint
  L0: for %i = 0 to %n step 1 {
    L1: for %j = 0 to %n step 1 {
      S0: %C[%i, %j; unchecked] = (%C[%i, %j; unchecked] * %beta)
    }
    L2: for %k = 0 to %n step 1 {
      L3: for %j = 0 to %n step 1 {
        S1: %C[%i, %j; unchecked] = (%C[%i, %j; unchecked] + (%A[%i, %k; unchecked] * %B[%k, %j; unchecked]))
      }
    }
  }
}"""


def test_imperfect_nest_becomes_perfect_nests_only_with_the_option() -> None:
    module, result = distribute(GEMM, perfect=False)
    assert result.module is module and result.remarks == ()
    _, result = distribute(GEMM)
    assert messages(result, "distributed") == [
        "loop over 'i' (L0) distributed into 2 loops to make perfect nests: L0 {S0} "
        "parallel, L4 {S1} parallel"]
    first, second = result.module.entry.body
    assert [s.lid for s in first.body] == ["L1"] and [s.lid for s in second.body] == ["L2"]


def test_inner_split_then_outer_split_reach_a_fixpoint() -> None:
    # at i, both are parallel and share the j loop; inside, S0 is a recurrence on j. Once
    # the j loop is split, the i loop is imperfect: the next round splits it too.
    text = """
    func @f(%a: memref<?x?xf64, C>, %b: memref<?x?xf64, C>, %n: pyint) -> none {
      var %i: pyint, %j: pyint
      L0: for %i = 0 to %n step 1 {
        L1: for %j = 1 to %n step 1 {
          S0: %a[%i, %j; unchecked] = (%a[%i, (%j - 1); unchecked] + 1.0:f64)
          S1: %b[%i, %j; unchecked] = (%b[%i, %j; unchecked] * 2.0:f64)
        }
      }
    }"""
    _, result = distribute(text)
    once = print_module(result.module)
    assert once.count("for %i") == 2 and once.count("for %j") == 2
    again = LoopDistribution().run(result.module, AnalysisManager())
    assert again.module is result.module
    assert len(messages(result, "distributed")) == 2


def test_inner_loop_variable_read_after_its_loop_ties_the_statements() -> None:
    module, result = distribute("""
    func @f(%a: memref<?x?xf64, C>, %b: memref<?xi64, C>, %n: pyint) -> none {
      var %i: pyint, %j: pyint
      S0: %j = 0
      L0: for %i = 1 to %n step 1 {
        L1: for %j = 0 to %n step 1 {
          S1: %a[%i, %j; unchecked] = (%a[(%i - 1), %j; unchecked] + 1.0:f64)
        }
        S2: %b[%i; unchecked] = i64(%j)
      }
    }""")
    assert result.module is module
    [message] = messages(result, "not-transformed")
    assert "S1, S2 form one recurrence" in message
    assert "S1, S2 stay in one loop: they share scalar 'j'" in message


def test_statements_under_an_if_are_split_with_copies_of_the_if() -> None:
    module, result = distribute(f"""
    func @f({ONE_D}) -> none {{
      var %i: pyint
      L0: for %i = 1 to %n step 1 {{
        if (%b[%i; unchecked] > 0.0:f64) {{
          S0: %a[%i; unchecked] = (%a[(%i - 1); unchecked] + 1.0:f64)
        }} else {{
          S1: %c[%i; unchecked] = %b[%i; unchecked]
        }}
      }}
    }}""")
    text = print_module(result.module)
    assert text.count("if (%b[%i; unchecked] > 0.0:f64)") == 2
    assert messages(result, "distributed")
    check_same_results(module, result.module, sizes=(0, 1, 2, 7))


def test_the_pass_prints_in_a_pipeline() -> None:
    manager = PassManager.from_string("loop-distribution{perfect=false}")
    assert manager.to_string() == "loop-distribution{perfect=false}"


# ---------------------------------------------------------------------- end to end


def recurrence_and_map(a, b, c, m):
    for i in range(1, m):
        a[i] = a[i - 1] * 0.5 + b[i]
        c[i] = b[i] * 2.0 + 1.0


def temporary_and_sum(a, b, c):
    s = 0.0
    t = 0.0
    for i in range(1, a.shape[0]):
        t = a[i] * 3.0
        b[i] = b[i - 1] + a[i]
        c[i] = t - 1.0
        s += c[i]
    return s + t


def reordered(a, b, c):
    for i in range(1, a.shape[0]):
        a[i] = b[i - 1] * 2.0
        b[i] = c[i] + 1.0


def gemm(C, A, B, beta):
    n = C.shape[0]
    for i in range(n):
        for j in range(n):
            C[i, j] *= beta
        for k in range(n):
            for j in range(n):
                C[i, j] += A[i, k] * B[k, j]


def nest(a, b, c):
    n, m = a.shape
    for i in range(1, n):
        for j in range(m):
            a[i, j] = a[i - 1, j] + b[i, j]
            c[i, j] = b[i, j] * 2.0


def vectors(rng: np.random.Generator, n: int, m: int | None = None):
    return (rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n), *(
        () if m is None else (m,)))


def squares(rng: np.random.Generator, n: int):
    return rng.standard_normal((n, n)), rng.standard_normal((n, n)), rng.standard_normal((n, n))


CASES = [
    (recurrence_and_map, lambda rng, n: vectors(rng, n, n)),
    (recurrence_and_map, lambda rng, n: vectors(rng, n, n + 2)),  # IndexError: slow copy
    (temporary_and_sum, vectors),
    (reordered, vectors),
    (gemm, lambda rng, n: (*squares(rng, n), 0.5)),
    (nest, squares),
]


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("target", ["cpu", "interp"])
@pytest.mark.parametrize(("fn", "make"), CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_matches_cpython(fn, make, target: str) -> None:
    compiled = accir.compile(fn, target=target, pipeline=PIPELINE)
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 3, 9):
        args = make(rng, n)
        expected_args, actual_args = copy.deepcopy(args), copy.deepcopy(args)
        try:
            expected = fn(*expected_args)
        except IndexError:
            with pytest.raises(IndexError):
                compiled(*actual_args)
        else:
            assert same(compiled(*actual_args), expected)
        assert all(same(e, a) for e, a in zip(expected_args, actual_args, strict=True))
    assert any(r.kind == "distributed" for r in compiled.remarks)


def test_the_parallel_part_is_parallelized() -> None:
    compiled = accir.compile(recurrence_and_map, pipeline=PIPELINE)
    compiled(*vectors(np.random.default_rng(0), 5000, 5000))
    by_kind: dict[str, list[str]] = {}
    for r in compiled.remarks:
        by_kind.setdefault(r.kind, []).append(r.message)
    [distributed] = by_kind["distributed"]
    [(sequential, parallel)] = re.findall(r"(L\d+) \{S\d+\} sequential .*, (L\d+) \{S\d+\} "
                                          r"parallel$", distributed)
    assert any(f"({parallel})" in m for m in by_kind["parallelized"])
    assert any(f"({sequential})" in m for m in by_kind["not-parallelized"])


# ---------------------------------------------------------------------- property


def check_same_results(before: Module, after: Module, sizes=(5, 8)) -> None:
    """The interpreter's results on random small integers in float64 arrays of n (or n x 3)
    elements, for each n in `sizes` (the last parameter)."""
    for n in sizes:
        rng = np.random.default_rng(n)
        args = [rng.integers(-3, 4, (n, 3)[:p.ty.ndim]).astype(p.ty.dtype.dtype)
                if isinstance(p.ty, ArrayType) else n for p in before.entry.params]
        want, got = copy.deepcopy(args), copy.deepcopy(args)
        expected = Interpreter(before).run(want)
        actual = Interpreter(after).run(got)
        assert same(actual, expected)
        assert all(same(w, g) for w, g in zip(want, got, strict=True))


ARRAYS = ("a", "b", "c")


class _Body:
    """Draws the statements of a loop over i: stores with subscripts i-2..i+2 (in range for
    i in [2, n - 2)) into a, b, c and the n x 3 matrix m, a temporary t and a sum s, ifs,
    and inner loops over j; operands may read j after its loop."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.ids = iter(range(90))

    def offset(self) -> str:
        o = self.draw(st.integers(-2, 2))
        return "%i" if o == 0 else f"(%i {'+' if o > 0 else '-'} {abs(o)})"

    def column(self, inner: bool) -> str:
        return "%j" if inner else str(self.draw(st.integers(0, 2)))

    def operand(self, inner: bool) -> str:
        kind = self.draw(st.sampled_from(["load", "const", "scalar", "matrix", "j"]))
        if kind == "load":
            return f"%{self.draw(st.sampled_from(ARRAYS))}[{self.offset()}; unchecked]"
        if kind == "matrix":
            return f"%m[{self.offset()}, {self.column(inner)}; unchecked]"
        if kind == "scalar":
            return self.draw(st.sampled_from(["%t", "%s"]))
        if kind == "j":  # outside the j loop: its last value (0 before any j loop ran)
            return "f64(%j)"
        return f"{self.draw(st.integers(-2, 2))}.0:f64"

    def expr(self, inner: bool = False) -> str:
        op = self.draw(st.sampled_from(["+", "-", "*"]))
        return f"({self.operand(inner)} {op} {self.operand(inner)})"

    def store(self, inner: bool) -> str:
        if self.draw(st.booleans()) or (inner and self.draw(st.booleans())):
            target = f"%m[{self.offset()}, {self.column(inner)}; unchecked]"
        else:
            target = f"%{self.draw(st.sampled_from(ARRAYS))}[{self.offset()}; unchecked]"
        return f"S{next(self.ids)}: {target} = {self.expr(inner)}"

    def stmt(self, depth: int) -> list[str]:
        kinds = ["store", "store", "temp", "sum"] + (["if", "inner"] if depth == 0 else [])
        kind = self.draw(st.sampled_from(kinds))
        if kind == "store":
            return [self.store(False)]
        if kind in ("temp", "sum"):
            value = self.expr() if kind == "temp" else f"(%s + {self.expr()})"
            return [f"S{next(self.ids)}: %{kind[0]} = {value}"]
        if kind == "if":
            return [f"if ({self.operand(False)} > 0.0:f64) {{", *self.stmt(1), "} else {",
                    *self.stmt(1), "}"]
        inner = [self.store(True) for _ in range(self.draw(st.integers(1, 2)))]
        return [f"L{next(self.ids)}: for %j = 0 to 3 step 1 {{", *inner, "}"]


@st.composite
def loop_bodies(draw) -> str:
    """A function with a loop over i (maybe inside a loop over k) of random statements."""
    gen = _Body(draw)
    body = [line for _ in range(draw(st.integers(2, 5))) for line in gen.stmt(0)]
    loop = ["L90: for %i = 2 to (%n - 2) step 1 {", *body, "}"]
    if draw(st.booleans()):
        loop = ["L91: for %k = 0 to 2 step 1 {", *loop, "}"]
    return "\n".join([
        "func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>, "
        "%m: memref<?x?xf64, C>, %n: pyint) -> f64 {",
        "var %i: pyint, %j: pyint, %k: pyint, %s: f64, %t: f64",
        "S97: %s = 0.0:f64", "S98: %t = 0.0:f64", *loop, "S99: return (%s + %t)", "}"])


@given(loop_bodies(), st.booleans())
def test_distribution_keeps_the_interpreters_results(text: str, perfect: bool) -> None:
    module = parse_module(text)
    result = LoopDistribution(perfect=perfect).run(module, AnalysisManager())
    check_same_results(module, result.module)
    again = LoopDistribution(perfect=perfect).run(result.module, AnalysisManager())
    assert again.module is result.module


# ---------------------------------------------------------------------- scalar expansion


def shared_temporary(a, b, c):
    n = a.shape[0]
    for i in range(1, n):
        t = a[i] * 2.0
        b[i] = b[i - 1] * 0.5 + t
        c[i] = t * 3.0


def shared_temporary_read_after(a, b, c):
    n = a.shape[0]
    t = 0.0
    for i in range(1, n):
        t = a[i] * 2.0
        b[i] = b[i - 1] * 0.5 + t
        c[i] = t * 3.0
    return t


@pytest.mark.parametrize("target", ["cpu", "interp"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 9, 40000])
def test_expanded_scalar_lets_the_recurrence_split_from_the_parallel_statement(target, n):
    rng = np.random.default_rng(n)
    a, b, c = rng.random(n), rng.random(n), rng.random(n)
    expected = [a.copy(), b.copy(), c.copy()]
    shared_temporary(*expected)
    got = [a.copy(), b.copy(), c.copy()]
    fn = accir.compile(shared_temporary, target=target)
    fn(*got)
    for x, y in zip(got, expected, strict=True):
        assert np.array_equal(x, y)
    kinds = {r.kind for r in fn.remarks if r.pass_name == "loop-distribution"}
    assert {"expanded", "distributed"} <= kinds


def test_expansion_with_failing_bounds_checks_runs_the_original():
    a, b, c = np.ones(5), np.ones(5), np.ones(3)  # c too short: IndexError at i = 3
    fn = accir.compile(shared_temporary)
    got = [a.copy(), b.copy(), c.copy()]
    expected = [a.copy(), b.copy(), c.copy()]
    with pytest.raises(IndexError):
        fn(*got)
    with pytest.raises(IndexError):
        shared_temporary(*expected)
    for x, y in zip(got, expected, strict=True):
        assert np.array_equal(x, y)


def test_a_scalar_read_after_the_loop_is_not_expanded():
    rng = np.random.default_rng(7)
    a, b, c = rng.random(6), rng.random(6), rng.random(6)
    fn = accir.compile(shared_temporary_read_after)
    assert fn(a.copy(), b.copy(), c.copy()) == shared_temporary_read_after(a, b, c)
    assert not [r for r in fn.remarks if r.kind == "expanded"]
