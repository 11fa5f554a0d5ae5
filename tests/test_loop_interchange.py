"""loop-interchange: the orders it chooses, the remarks that explain them, and CPython's
results on the permuted nests (golden snapshots are in tests/golden/loop-interchange)."""

from __future__ import annotations

import numpy as np
import pytest

import accir
from accir.analysis.manager import AnalysisManager
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.passes.loop_interchange import LoopInterchange
from accir.passes.manager import PassManager

PIPELINE = "normalize,bounds-check-hoist,loop-interchange,mark-independent-loops,auto-parallelize"


def mm_worst(C, A, B):
    n, m = C.shape
    p = A.shape[1]
    for j in range(m):
        for k in range(p):
            for i in range(n):
                C[i, j] += A[i, k] * B[k, j]


def column_sweep(A, B):
    n, m = A.shape
    for j in range(1, m - 1):
        for i in range(1, n - 1):
            B[i, j] = 0.2 * (A[i, j] + A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])


def skewed_recurrence(A):
    n, m = A.shape
    for j in range(m - 1):
        for i in range(1, n):
            A[i, j] = A[i - 1, j + 1] * 0.5 + A[i, j]


def last_positive(A):
    n, m = A.shape
    last = -1.0
    for j in range(m):
        for i in range(n):
            if A[i, j] > 0.5:
                last = A[i, j]
    return last


def order_of(fn) -> list[str]:
    """The loop variables of the first nest of the compiled IR's fast copy, outermost first."""
    text = fn.inspect_ir()
    return [line.split("for %")[1].split(" ")[0] for line in text.splitlines()
            if " for %" in line][:3]


def remarks(fn, kind: str) -> list[str]:
    return [r.message for r in fn.remarks if r.kind == kind and r.pass_name == "loop-interchange"]


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("shape", [(0, 0, 0), (1, 1, 1), (2, 3, 4), (7, 5, 9), (33, 17, 20)])
def test_worst_order_matmul_matches_cpython_bit_for_bit(layout, shape):
    n, m, p = shape
    rng = np.random.default_rng(n * 100 + m)
    A = np.array(rng.random((n, p)), order=layout)
    B = np.array(rng.random((p, m)), order=layout)
    C = np.array(rng.random((n, m)), order=layout)
    expected, got = C.copy(order="A"), C.copy(order="A")
    mm_worst(expected, A, B)
    fast = accir.compile(mm_worst, pipeline=PIPELINE)
    fast(got, A, B)
    assert np.array_equal(got, expected)


def test_c_order_matmul_is_interchanged_and_explained():
    fast = accir.compile(mm_worst, pipeline=PIPELINE)
    a = np.ones((4, 4))
    fast(a.copy(), a, a)
    assert order_of(fast) == ["i", "k", "j"]
    [message] = remarks(fast, "interchanged")
    assert "(j, k, i) -> (i, k, j)" in message
    assert "stride-1 access to B, C" in message and "A invariant" in message
    assert "loop 'i' parallel outermost" in message
    assert any(r.kind == "parallelized" and "'i'" in r.message for r in fast.remarks)


def test_fortran_order_matmul_keeps_the_written_order():
    fast = accir.compile(mm_worst, pipeline=PIPELINE)
    a = np.asfortranarray(np.ones((4, 4)))
    fast(a.copy(order="F"), a, a)
    assert order_of(fast) == ["j", "k", "i"]
    assert not remarks(fast, "interchanged")


def test_column_sweep_walks_rows():
    fast = accir.compile(column_sweep, pipeline=PIPELINE)
    rng = np.random.default_rng(1)
    A = rng.random((9, 13))
    expected, got = np.zeros_like(A), np.zeros_like(A)
    column_sweep(A, expected)
    fast(A, got)
    assert np.array_equal(got, expected)
    assert order_of(fast)[:2] == ["i", "j"]


def test_reversed_dependence_keeps_the_order_and_says_why():
    fast = accir.compile(skewed_recurrence, pipeline=PIPELINE)
    rng = np.random.default_rng(2)
    A = rng.random((8, 6))
    expected, got = A.copy(), A.copy()
    skewed_recurrence(expected)
    fast(got)
    assert np.array_equal(got, expected)
    [message] = remarks(fast, "not-transformed")
    assert "not interchanged to (i, j)" in message
    assert "dependence on 'A'" in message and "(j:<, i:>)" in message


def test_conditional_scalar_read_after_the_nest_blocks_interchange():
    fast = accir.compile(last_positive, pipeline=PIPELINE)
    A = np.random.default_rng(3).random((6, 7))
    assert fast(A) == last_positive(A)
    [message] = remarks(fast, "not-transformed")
    assert "'last' read after the nest" in message


def test_out_of_range_subscripts_raise_like_python():
    fast = accir.compile(mm_worst, pipeline=PIPELINE)
    C, A, B = np.zeros((3, 3)), np.ones((3, 2)), np.ones((1, 3))  # B too short
    with pytest.raises(IndexError):
        mm_worst(C.copy(), A, B)
    with pytest.raises(IndexError):
        fast(C, A, B)


NEST = """
func @f(%A: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 0 to %n step 1 {
    L1: for %j = 0 to %n step 1 {
      S0: %A[%i, %j; unchecked] = (%A[%i, %j; unchecked] * 2.0:f64)
    }
  }
}
"""


def test_forced_order_option():
    module = parse_module(NEST)
    out = PassManager.from_string("loop-interchange{order=j,i}").run(module).module
    loops = [line.split()[2] for line in print_module(out).splitlines() if " for " in line]
    assert loops == ["%j", "%i"]


def test_forced_order_naming_other_loops_changes_nothing():
    module = parse_module(NEST)
    assert LoopInterchange(order="x,y").run(module, AnalysisManager()).module is module


def test_good_order_is_left_alone_without_remarks():
    module = parse_module(NEST)
    result = LoopInterchange().run(module, AnalysisManager())
    assert result.module is module
    assert result.remarks == ()


def test_triangular_nest_is_not_interchanged():
    module = parse_module(NEST.replace("L1: for %j = 0 to %n", "L1: for %j = 0 to %i")
                          .replace("[%i, %j; unchecked] * 2", "[%j, %i; unchecked] * 2"))
    result = LoopInterchange().run(module, AnalysisManager())
    assert result.module is module
