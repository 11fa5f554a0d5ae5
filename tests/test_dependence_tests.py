"""Unit tests of the dependence tests (accir.analysis.dependence_tests) on textbook examples.

Problems are written the way the loops read: `loops` are (index, lower, upper) with inclusive
bounds, subscripts are Python expressions over the loop indices and symbols, and the sink's
subscript uses the same index names (they are renamed to the sink's copies, i -> i')."""

from __future__ import annotations

import ast
import itertools
import time
from collections.abc import Sequence

import pytest
from dependence_oracle import evaluate
from hypothesis import given
from hypothesis import strategies as st

from accir.analysis.dependence_tests import (
    DependenceProblem,
    DependenceResult,
    LoopBound,
)
from accir.analysis.dependence_tests import test_dependence as decide
from accir.analysis.exact_test import solve_siv
from accir.ir.affine import Affine
from accir.ir.nodes import Compare, Expr, Var
from accir.ir.types import PYINT

LOOP_NAMES = ("i", "j", "k", "p", "q")


def _var(name: str) -> Var:
    return Var(name, PYINT)


def form(text: str | None, sink: bool = False) -> Affine | None:
    """The affine form of a Python expression; loop indices become the sink's if `sink`."""
    if text is None:
        return None

    def walk(node: ast.AST) -> Affine:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, int)
            return Affine((), node.value)
        if isinstance(node, ast.Name):
            name = node.id + "'" if sink and node.id in LOOP_NAMES[:3] else node.id
            return Affine(((_var(name), 1),))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        assert isinstance(node, ast.BinOp), ast.dump(node)
        lhs, rhs = walk(node.left), walk(node.right)
        if isinstance(node.op, ast.Add):
            return lhs + rhs
        if isinstance(node.op, ast.Sub):
            return lhs - rhs
        assert isinstance(node.op, ast.Mult)
        return rhs.scale(lhs.constant) if lhs.is_constant else lhs.scale(rhs.constant)

    return walk(ast.parse(text, mode="eval").body)


Bound = tuple[str, str | None, str | None]


def problem(loops: Sequence[Bound], *pairs: tuple[str | None, str | None],
            src_loops: Sequence[Bound] = (), dst_loops: Sequence[Bound] = (),
            nonnegative: tuple[str, ...] = ()) -> DependenceProblem:
    return DependenceProblem(
        common=tuple(LoopBound(_var(v), form(lo), form(hi)) for v, lo, hi in loops),
        sink_vars=tuple(_var(v + "'") for v, _, _ in loops),
        src_loops=tuple(LoopBound(_var(v), form(lo), form(hi)) for v, lo, hi in src_loops),
        dst_loops=tuple(LoopBound(_var(v), form(lo), form(hi)) for v, lo, hi in dst_loops),
        pairs=tuple((form(f), form(g, sink=True)) for f, g in pairs),
        nonnegative=frozenset(_var(s) for s in nonnegative),
    )


def vectors(result: DependenceResult) -> set[str]:
    return {"".join(v.directions) for v in result.vectors}


def distances(result: DependenceResult) -> dict[str, tuple[int | None, ...]]:
    return {"".join(v.directions): v.distances for v in result.vectors}


def holds(conditions: tuple[Expr, ...], **values: int) -> bool:
    env: dict[Expr, int] = {_var(k): v for k, v in values.items()}
    return all(evaluate(c, env) for c in conditions)


I10 = [("i", "0", "9")]
IJ10 = [("i", "0", "9"), ("j", "0", "9")]
IN = [("i", "0", "n - 1")]
IJN = [("i", "0", "n - 1"), ("j", "0", "n - 1")]


# -- ZIV ---------------------------------------------------------------------------------------

def test_ziv_constant_subscripts():
    assert decide(problem(I10, ("1", "2"))) == DependenceResult((), "ziv")
    same = decide(problem(I10, ("3", "3")))
    assert same.test == "ziv" and vectors(same) == {"*"}


def test_ziv_symbolic():
    # n + 1 > 0 when n >= 0; 2*m - 1 is odd: never zero
    assert decide(problem(I10, ("n", "-1"), nonnegative=("n",))).independent
    assert decide(problem(I10, ("2 * m", "1"))).independent
    # m == 0 decides: dependent only then, and the condition says so
    result = decide(problem(I10, ("m", "0")))
    assert result.test == "ziv" and not result.independent
    assert holds(result.conditions, m=0) and not holds(result.conditions, m=3)


# -- strong SIV --------------------------------------------------------------------------------

def test_strong_siv_distance():
    result = decide(problem(I10, ("i + 1", "i")))  # a[i+1] = ... a[i]: flow, distance 1
    assert result.test == "strong-siv"
    assert distances(result) == {"<": (1,)}
    result = decide(problem(I10, ("i", "i + 2")))
    assert distances(result) == {">": (-2,)}
    assert distances(decide(problem(I10, ("2 * i + 3", "2 * i + 3")))) == {"=": (0,)}


def test_strong_siv_independent():
    assert decide(problem(I10, ("i + 10", "i"))) == DependenceResult((), "strong-siv")
    assert decide(problem(I10, ("i + 9", "i"))).vectors  # distance 9 still fits
    assert decide(problem(I10, ("2 * i", "2 * i + 1"))) == DependenceResult((), "strong-siv")


def test_strong_siv_symbolic_trip_count_gives_condition():
    result = decide(problem(IN, ("i + 1", "i")))
    assert result.test == "strong-siv" and distances(result) == {"<": (1,)}
    assert result.conditions  # 1 <= n - 1
    assert all(isinstance(c, Compare) and c.lhs.type == PYINT for c in result.conditions)
    assert not holds(result.conditions, n=1) and holds(result.conditions, n=2)


def test_strong_siv_symbolic_distance():
    result = decide(problem(IN, ("i + k", "i")))  # distance k: any sign
    assert vectors(result) == {"<", "=", ">"}
    assert distances(result)["="] == (0,) and distances(result)["<"] == (None,)
    # |k| <= n - 1
    assert holds(result.conditions, k=3, n=4) and holds(result.conditions, k=-3, n=4)
    assert not holds(result.conditions, k=4, n=4) and not holds(result.conditions, k=-4, n=4)
    # with k >= 0 known, '>' goes
    assert vectors(decide(problem(IN, ("i + k", "i"), nonnegative=("k",)))) == {"<", "="}


def test_unknown_bounds_give_no_range():
    result = decide(problem([("i", None, None)], ("i + 100", "i")))
    assert result.test == "strong-siv" and distances(result) == {"<": (100,)}


# -- weak-zero SIV -----------------------------------------------------------------------------

def test_weak_zero_siv():
    result = decide(problem(I10, ("i", "0")))  # source i == 0, the sink at every i'
    assert result.test == "weak-zero-siv"
    assert distances(result) == {"<": (None,), "=": (0,)}  # first iteration: no '>'
    assert vectors(decide(problem(I10, ("0", "i")))) == {"=", ">"}
    assert vectors(decide(problem(I10, ("i", "9")))) == {"=", ">"}  # last iteration
    assert vectors(decide(problem(I10, ("i", "4")))) == {"<", "=", ">"}
    assert decide(problem(I10, ("i", "10"))) == DependenceResult((), "weak-zero-siv")
    assert decide(problem(I10, ("2 * i", "5"))).independent  # i = 5/2


def test_weak_zero_siv_symbolic():
    result = decide(problem(IN, ("i", "0")), )
    assert result.test == "weak-zero-siv" and vectors(result) == {"<", "="}
    assert not holds(result.conditions, n=0) and holds(result.conditions, n=1)


# -- weak-crossing SIV -------------------------------------------------------------------------

def test_weak_crossing_siv():
    # i + i' = 9: the crossing point 4.5 is half-integral, so no '=' dependence
    result = decide(problem(I10, ("i", "9 - i")))
    assert result.test == "weak-crossing-siv" and vectors(result) == {"<", ">"}
    assert vectors(decide(problem(I10, ("i", "8 - i")))) == {"<", "=", ">"}
    assert vectors(decide(problem(I10, ("i", "18 - i")))) == {"="}  # crossing at the end
    assert decide(problem(I10, ("i", "19 - i"))).independent


def test_weak_crossing_siv_symbolic():
    result = decide(problem(IN, ("i", "n - i")))  # a[i] vs a[n - i]
    assert result.test == "weak-crossing-siv"
    assert vectors(result) == {"<", "=", ">"}
    assert not holds(result.conditions, n=1) and holds(result.conditions, n=2)


# -- general (exact) SIV -----------------------------------------------------------------------

def test_exact_siv():
    # 2*i = 3*i' + 1: (i, i') = (2, 1), (5, 3), (8, 5): the source comes later
    result = decide(problem(I10, ("2 * i", "3 * i + 1")))
    assert result.test == "exact-siv" and vectors(result) == {">"}
    assert decide(problem(I10, ("2 * i", "4 * i + 1"))).independent  # gcd
    assert decide(problem([("i", "0", "1")], ("2 * i", "3 * i + 1"))).independent  # bounds


@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3), st.integers(-6, 6)),
                min_size=1, max_size=3),
       st.integers(-3, 2), st.integers(0, 5))
def test_solve_siv_is_exact(eqs, lo, size):
    eqs = [e for e in eqs if e[0] or e[1]]
    if not eqs:
        return
    hi = lo + size
    found: dict[str, set[int]] = {}
    for x, y in itertools.product(range(lo, hi + 1), repeat=2):
        if all(p * x + q * y == c for p, q, c in eqs):
            found.setdefault("<" if y > x else "=" if y == x else ">", set()).add(y - x)
    sol = solve_siv(eqs, lo, hi)
    assert set(sol.options) == set(found)
    for d, dist in sol.options.items():
        assert dist is None or found[d] == {dist}
        assert dist is not None or len(found[d]) > 1


# -- coupled subscripts and the Delta test ----------------------------------------------------

def test_coupled_siv_subscripts():
    # a[i][i] vs a[i][i + 1]: each dimension alone is dependent, together they are not
    assert decide(problem(I10, ("i", "i"), ("i", "i + 1"))).independent
    assert decide(problem(IN, ("i", "i"), ("i", "i + 1"))).independent
    assert distances(decide(problem(I10, ("i + 1", "i"), ("2 * i + 2", "2 * i")))) == {
        "<": (1,)}


def test_delta_propagates_distances_into_miv_subscripts():
    # a[i + 1][i + j] vs a[i][i + j]: i' = i + 1 turns the second subscript into j' = j - 1
    result = decide(problem(IJN, ("i + 1", "i"), ("i + j", "i + j")))
    assert result.test == "strong-siv"
    assert distances(result) == {"<>": (1, -1)}


# -- MIV: GCD and Banerjee ---------------------------------------------------------------------

def test_gcd_test():
    assert decide(problem(IJ10, ("2 * i + 4 * j", "2 * i + 4 * j + 1"))) == DependenceResult(
        (), "gcd")
    assert decide(problem(IJN, ("2 * i", "2 * j + 1"))) == DependenceResult((), "gcd")


def test_banerjee_direction_hierarchy():
    # a[i + j] vs a[i + j + 1] (Allen & Kennedy): i + j = i' + j' + 1
    result = decide(problem(IJN, ("i + j", "i + j + 1")))
    assert result.test == "banerjee"
    assert vectors(result) == {"<>", "=>", "><", ">="}
    constant = decide(problem(IJ10, ("i + j", "i + j + 1")))
    assert vectors(constant) == vectors(result)
    assert distances(constant)["=>"] == (0, -1)


def test_banerjee_bounds_prove_independence():
    # i + j in [0, 18] never reaches 20
    assert decide(problem(IJ10, ("i + j", "20"))) == DependenceResult((), "banerjee")
    # symbolic: i + j <= 2n - 2 < 2n + 1 for every n
    assert decide(problem(IJN, ("i + j", "2 * n + 1"))).independent


def test_miv_symbolic_conditions():
    # a[i + j] vs a[m]: 0 <= m <= 2n - 2
    result = decide(problem(IJN, ("i + j", "m")))
    assert result.test == "banerjee" and not result.independent
    assert holds(result.conditions, m=4, n=3) and holds(result.conditions, m=0, n=1)
    assert not holds(result.conditions, m=3, n=2) and not holds(result.conditions, m=-1, n=5)


def test_triangular_bounds():
    # for i: for j in range(i): a[i][j] vs a[j][i] -- the strictly lower triangle never meets
    # the strictly upper one; needs the bounds j <= i - 1 (not just their hull)
    lower = [("i", "0", "n - 1"), ("j", "0", "i - 1")]
    assert decide(problem(lower, ("i", "j"), ("j", "i"))) == DependenceResult((), "banerjee")
    # with j in [i, n - 1] the diagonal is shared: i = j = i' = j'
    upper = [("i", "0", "n - 1"), ("j", "i", "n - 1")]
    assert vectors(decide(problem(upper, ("i", "j"), ("j", "i")))) == {"=="}
    # a[j] vs a[i] with j <= i - 1: the sink's i' = j < i, and j' < i' = j
    assert vectors(decide(problem(lower, ("j", "i")))) == {">>"}


def test_private_loops():
    # the source in an inner loop over p, the sink directly in the i loop
    result = decide(problem(IN, ("i + p", "i"), src_loops=[("p", "1", "3")]))
    assert result.test == "banerjee" and vectors(result) == {"<"}
    assert decide(problem(IN, ("i + p", "i"), src_loops=[("p", "1", "3")],
                          dst_loops=[("q", "0", "2")])).vectors


# -- the exact test ----------------------------------------------------------------------------

def test_exact_test_decides_what_the_others_cannot():
    # 2*i + 3*j = 1 has real solutions in [0, 1]^2 and gcd 1, but no integer one
    two = [("i", "0", "1"), ("j", "0", "1")]
    result = decide(problem(two, ("2 * i + 3 * j", "1")))
    assert result == DependenceResult((), "exact")
    # i + 2*j vs i + 2*j + 2 in a 2x2 nest: only j' = j - 1, i' = i
    result = decide(problem(two, ("i + 2 * j", "i + 2 * j + 2")))
    assert result.test == "exact" and distances(result) == {"=>": (0, -1)}


def test_exact_test_on_triangular_constant_bounds():
    tri = [("i", "0", "5"), ("j", "i", "5")]
    result = decide(problem(tri, ("i + j", "i + j + 1")))
    assert result.test == "exact"
    assert vectors(result) == {"<>", "=>", "><", ">="}


# -- what the tests cannot see ------------------------------------------------------------------

def test_non_affine_dimension_imposes_nothing():
    result = decide(problem(I10, (None, "i"), ("i + 1", "i")))
    assert distances(result) == {"<": (1,)}
    result = decide(problem(IJ10, (None, None)))
    assert result.test == "assumed" and distances(result) == {"**": (None, None)}


def test_no_common_loops():
    assert vectors(decide(problem([], ("0", "0")))) == {""}
    assert decide(problem([], ("p", "q + 5"), src_loops=[("p", "0", "3")],
                          dst_loops=[("q", "0", "3")])).independent


def test_deep_nest_stays_fast():
    loops = [(v, "0", "n - 1") for v in ("i", "j", "k", "p", "q")]
    deep = DependenceProblem(
        common=tuple(LoopBound(_var(v), form(lo), form(hi)) for v, lo, hi in loops),
        sink_vars=tuple(_var(v + "'") for v, _, _ in loops),
        src_loops=(), dst_loops=(),
        pairs=((Affine.make({_var(v): 1 for v, _, _ in loops}),
                Affine.make({_var(v + "'"): 1 for v, _, _ in loops}, 1)),),
    )
    start = time.perf_counter()
    result = decide(deep)
    assert time.perf_counter() - start < 1.0
    assert result.vectors and "=====" not in vectors(result)


@pytest.mark.parametrize("text", ["i + 1", "2 * i - j + 3", "n - i"])
def test_form_helper(text):
    assert form(text) is not None
