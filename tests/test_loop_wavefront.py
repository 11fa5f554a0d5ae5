"""loop-wavefront: Gauss-Seidel-style nests run by wavefronts give CPython's results bit for
bit (golden snapshots are in tests/golden/loop-wavefront)."""

from __future__ import annotations

import numpy as np
import pytest

import accir
from accir.analysis.manager import AnalysisManager
from accir.ir.parser import parse_module
from accir.passes.loop_wavefront import LoopWavefront


def seidel(steps, A):
    n, m = A.shape
    for _t in range(steps):
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                A[i, j] = (A[i - 1, j - 1] + A[i - 1, j] + A[i - 1, j + 1] + A[i, j - 1]
                           + A[i, j] + A[i, j + 1] + A[i + 1, j - 1] + A[i + 1, j]
                           + A[i + 1, j + 1]) / 9.0


def prefix_2d(A):
    n, m = A.shape
    for i in range(1, n):
        for j in range(2, m):
            A[i, j] = A[i - 1, j] + A[i, j - 2] * 0.5


def remarks(fn, kind: str) -> list[str]:
    return [r.message for r in fn.remarks if r.kind == kind]


@pytest.mark.parametrize("shape,steps", [((1, 1), 1), ((3, 3), 2), ((4, 9), 3), ((9, 4), 1),
                                         ((17, 13), 2), ((2, 30), 1)])
@pytest.mark.parametrize("threads", [1, 2])
def test_seidel_matches_cpython_bit_for_bit(shape, steps, threads):
    A = np.random.default_rng(sum(shape)).random(shape)
    expected, got = A.copy(), A.copy()
    seidel(steps, expected)
    fn = accir.compile(seidel)
    old = accir.get_num_threads()
    accir.set_num_threads(threads)
    try:
        fn(steps, got)
    finally:
        accir.set_num_threads(old)
    assert np.array_equal(got, expected)


def test_seidel_runs_by_wavefronts_in_parallel():
    fn = accir.compile(seidel)
    fn(1, np.zeros((5, 5)))
    [message] = remarks(fn, "wavefront")
    assert "w = 2*i + j" in message
    assert any("loop over 'i'" in m for m in remarks(fn, "parallelized"))


@pytest.mark.parametrize("target", ["cpu", "interp"])
@pytest.mark.parametrize("shape", [(1, 2), (2, 3), (6, 7), (11, 5)])
def test_a_recurrence_in_both_directions_matches_cpython(target, shape):
    A = np.random.default_rng(shape[0]).random(shape)
    expected, got = A.copy(), A.copy()
    prefix_2d(expected)
    fn = accir.compile(prefix_2d, target=target)
    fn(got)
    assert np.array_equal(got, expected)
    assert "w = 1*i + j" in remarks(fn, "wavefront")[0]


NEST = """
func @f(%A: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 1 to %n step 1 {
    L1: for %j = 1 to (%n - 1) step 1 {
      S0: %A[%i, %j; unchecked] = (%A[(%i - 1), (%j + 1); unchecked] + %A[%i, (%j - 1); unchecked])
    }
  }
}
"""


def test_the_least_skew_orders_every_dependence():
    result = LoopWavefront().run(parse_module(NEST), AnalysisManager())
    assert "w = 2*i + j" in result.remarks[0].message  # (1, -1) needs f >= 2


def test_a_forced_skew_too_small_is_refused():
    module = parse_module(NEST)
    result = LoopWavefront(factor=1).run(module, AnalysisManager())
    assert result.module is module
    assert "needs at least 2" in result.remarks[0].message


def test_loop_variables_read_after_the_nest_keep_the_nest():
    def last(A):
        n, m = A.shape
        for i in range(1, n):
            for j in range(1, m):
                A[i, j] = A[i - 1, j] + A[i, j - 1]
        return i + j

    fn = accir.compile(last)
    A = np.ones((4, 5))
    assert fn(A.copy()) == last(A.copy())
    assert not remarks(fn, "wavefront")
