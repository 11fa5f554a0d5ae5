"""unroll-and-jam: unrolled nests give CPython's results bit for bit, at every remainder
(golden snapshots are in tests/golden/unroll-and-jam)."""

from __future__ import annotations

import numpy as np
import pytest

import accir
from accir.analysis.manager import AnalysisManager
from accir.ir.parser import parse_module
from accir.passes.unroll_and_jam import UnrollAndJam

PIPELINE = ("normalize,bounds-check-hoist,loop-interchange,unroll-and-jam{loops=2},"
            "mark-independent-loops,auto-parallelize")


def mm(C, A, B):
    n, m = C.shape
    p = A.shape[1]
    for i in range(n):
        for k in range(p):
            for j in range(m):
                C[i, j] += A[i, k] * B[k, j]


def transposed_matvec(y, A, x):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            y[j] += A[i, j] * x[i]


def last_row(y, A, x):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            y[j] += A[i, j] * x[i]
    return i


def remarks(fn) -> list[str]:
    return [r.message for r in fn.remarks if r.pass_name == "unroll-and-jam"]


@pytest.mark.parametrize("shape", [(0, 0, 0), (1, 1, 1), (1, 3, 2), (2, 2, 2), (3, 5, 7),
                                   (6, 4, 9), (9, 8, 5)])
@pytest.mark.parametrize("factor", [2, 3])
def test_matmul_matches_cpython_bit_for_bit(shape, factor):
    n, m, p = shape
    rng = np.random.default_rng(n + 10 * m + 100 * p)
    A, B, C = rng.random((n, p)), rng.random((p, m)), rng.random((n, m))
    expected, got = C.copy(), C.copy()
    mm(expected, A, B)
    fn = accir.compile(mm, pipeline=PIPELINE.replace("loops=2", f"loops=2 factor={factor}"))
    fn(got, A, B)
    assert np.array_equal(got, expected)


def test_matmul_unrolls_i_and_k_and_says_so():
    fn = accir.compile(mm, pipeline=PIPELINE)
    a = np.ones((4, 4))
    fn(a.copy(), a, a)
    [message] = remarks(fn)
    assert "'i', 'k' unrolled by 2 and jammed into the innermost loop 'j'" in message


@pytest.mark.parametrize("n,m", [(0, 3), (1, 4), (5, 3), (8, 8)])
def test_transposed_matvec_matches_cpython(n, m):
    rng = np.random.default_rng(n * m)
    A, x, y = rng.random((n, m)), rng.random(n), rng.random(m)
    expected, got = y.copy(), y.copy()
    transposed_matvec(expected, A, x)
    fn = accir.compile(transposed_matvec, pipeline=PIPELINE)
    fn(got, A, x)
    assert np.array_equal(got, expected)
    assert remarks(fn)


@pytest.mark.parametrize("factor", [2, 3])
def test_the_remainder_nest_stays_sequential(factor):
    """The <= factor - 1 iterations an unrolled loop leaves are not worth threads (nor the
    compile time of outlined parallel code); the unrolled loop itself runs in parallel."""
    fn = accir.compile(mm, pipeline=PIPELINE.replace("loops=2", f"factor={factor}"))
    a = np.ones((7, 5))
    fn(np.zeros((7, 7)), a, a.T.copy())
    printed = fn.inspect_ir()
    remainder = [line for line in printed.splitlines() if "select(" in line and "for %i" in line]
    assert remainder and all("parallel(" not in line for line in remainder)
    assert any(line.strip().startswith("L") and "step " + str(factor) in line
               and "parallel(" in line for line in printed.splitlines())
    [message] = [r.message for r in fn.remarks if "remainder of an unrolled loop" in r.message]
    assert f"at most {factor - 1} iteration" in message


def test_loop_variable_read_after_the_nest_keeps_the_nest():
    fn = accir.compile(last_row, pipeline=PIPELINE)
    A, x = np.ones((5, 3)), np.ones(5)
    assert fn(np.zeros(3), A, x) == last_row(np.zeros(3), A, x)
    assert not remarks(fn)


ILLEGAL = """
func @f(%A: memref<?x?xf64, C>, %y: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 1 to %n step 1 {
    L1: for %j = 0 to (%n - 1) step 1 {
      S0: %A[%i, %j; unchecked] = (%A[(%i - 1), (%j + 1); unchecked] + %y[%j; unchecked])
    }
  }
}
"""


def test_a_dependence_that_moving_the_loop_inward_would_reverse_keeps_the_nest():
    module = parse_module(ILLEGAL)
    assert UnrollAndJam().run(module, AnalysisManager()).module is module


def test_factor_one_changes_nothing():
    module = parse_module(ILLEGAL.replace("(%j + 1)", "%j"))
    assert UnrollAndJam(factor=1).run(module, AnalysisManager()).module is module
