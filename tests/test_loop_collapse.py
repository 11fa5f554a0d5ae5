"""loop-collapse: nests run as one loop give CPython's results (golden snapshots are in
tests/golden/loop-collapse)."""

from __future__ import annotations

import numpy as np
import pytest

import accir
from accir.analysis.manager import AnalysisManager
from accir.ir.parser import parse_module
from accir.passes.loop_collapse import LoopCollapse

PIPELINES = [
    "normalize,loop-collapse",
    "normalize,bounds-check-hoist,loop-collapse,mark-independent-loops,auto-parallelize",
]


def scale_forward(a, lo):
    n, m = a.shape
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(lo, m, 2):
            a[i, j] = a[i, j] * 2.0 + i - j


def scale_backward(a, lo):
    n = a.shape[0]
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(lo, -1, -3):
            a[i, j] = a[i, j] * 2.0 + i - j


def three_deep(a):
    #pragma acc parallel loop collapse(3)
    for i in range(a.shape[0]):
        for j in range(a.shape[1] - 1, -1, -1):
            for k in range(1, a.shape[2]):
                a[i, j, k] = a[i, j, k] * 2.0 + k


def index_after(a):
    n, m = a.shape
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(m):
            a[i, j] = 1.0
    return i


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("target", ["cpu", "interp"])
@pytest.mark.parametrize("kernel", [scale_forward, scale_backward])
@pytest.mark.parametrize("shape,lo", [((0, 3), 0), ((3, 0), 0), ((1, 1), 0), ((4, 7), 1),
                                      ((5, 9), 8), ((6, 5), 2)])
def test_collapsed_nest_matches_cpython(pipeline, target, kernel, shape, lo):
    a = np.random.default_rng(shape[0]).random(shape)
    expected, got = a.copy(), a.copy()
    lo = min(lo, shape[1] - 1) if kernel is scale_backward else lo
    kernel(expected, lo)
    fn = accir.compile(kernel, target=target, pipeline=pipeline)
    fn(got, lo)
    assert np.array_equal(got, expected)
    assert any(r.kind == "collapsed" for r in fn.remarks)


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 0, 3), (3, 2, 1)])
def test_three_loops_collapse(shape):
    a = np.random.default_rng(1).random(shape)
    expected, got = a.copy(), a.copy()
    three_deep(expected)
    fn = accir.compile(three_deep, pipeline=PIPELINES[1])
    fn(got)
    assert np.array_equal(got, expected)
    collapsed = [r.message for r in fn.remarks if r.kind == "collapsed"]
    assert collapsed and all("'i', 'j', 'k'" in m for m in collapsed)


def test_loop_variable_read_after_the_nest_is_not_collapsed():
    fn = accir.compile(index_after, pipeline=PIPELINES[0])
    a = np.zeros((3, 0))
    assert fn(a) == index_after(np.zeros((3, 0))) == 2
    [remark] = [r for r in fn.remarks if r.pass_name == "loop-collapse"]
    assert remark.kind == "not-transformed" and "i read after the nest" in remark.message


BREAKING = """
func @f(%a: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 0 to %n step 1 {
    L1: for %j = 0 to %n step 1 {
      if (%a[%i, %j] > 0.0:f64) {
        break
      }
      S0: %a[%i, %j] = 1.0:f64
    }
  }
}
"""


def test_break_in_the_innermost_body_prevents_collapse():
    module = parse_module(BREAKING)
    result = LoopCollapse(depth=2).run(module, AnalysisManager())
    assert result.module is module
    assert "break" in result.remarks[0].message


def test_depth_option_collapses_loops_without_directives():
    module = parse_module(BREAKING.replace("      if (%a[%i, %j] > 0.0:f64) {\n        break\n"
                                           "      }\n", ""))
    assert LoopCollapse().run(module, AnalysisManager()).module is module
    collapsed = LoopCollapse(depth=2).run(module, AnalysisManager()).module
    loops = [s for s in collapsed.entry.body if hasattr(s, "lid")]
    assert loops[0].var.name == "i_j"
