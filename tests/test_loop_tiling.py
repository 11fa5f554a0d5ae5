"""loop-tiling: the OpenACC tile clause and automatic cache tiling keep CPython's results.

Unit tests on IR (what is tiled, with which sizes, the remarks), the tile clause end to end on
both targets against CPython (sizes that are not multiples of the tile sizes, 0 and 1), an
illegal clause that stays untiled, and a Hypothesis property: forced tiling of random 2-deep
nests with affine subscripts keeps the interpreter's results.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import accir
from accir.analysis.manager import AnalysisManager
from accir.backends.interp import run_module
from accir.ir.nodes import Intrinsic, Loop, Module, walk_stmts
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.passes.loop_tiling import LoopTiling
from accir.passes.manager import PassManager
from accir.passes.registry import PipelineError

PIPELINE = "normalize,bounds-check-hoist,loop-tiling,mark-independent-loops,auto-parallelize"

TRANSPOSE = """
func @f(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint, %m: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 0 to %n step 1 DIRECTIVE {
    L1: for %j = 0 to %m step 1 {
      S0: %B[%j, %i; unchecked] = %A[%i, %j; unchecked]
    }
  }
}
"""


def transpose_ir(directive: str = "") -> Module:
    return parse_module(TRANSPOSE.replace("DIRECTIVE", f'acc "{directive}"' if directive else ""))


def tile(module: Module, **options: object):
    return LoopTiling(**options).run(module, AnalysisManager())  # type: ignore[arg-type]


def loops_of(module: Module) -> list[Loop]:
    return [s for s in walk_stmts(module.entry.body) if isinstance(s, Loop)]


def header(loop: Loop) -> tuple[str, int]:
    step = loop.step.value  # type: ignore[attr-defined]
    return loop.var.name, step


# ------------------------------------------------------------------------------ unit tests


def test_transpose_gets_square_tiles_with_a_remark() -> None:
    result = tile(transpose_ir())
    loops = loops_of(result.module)
    assert [header(x) for x in loops] == [("i_tile", 256), ("j_tile", 256), ("i", 1), ("j", 1)]
    assert all(x.independent for x in loops)
    inner = loops[3]
    assert isinstance(inner.stop, Intrinsic) and inner.stop.name == "min"
    assert inner.lid == "L1" and loops[0].lid == "L2"  # element loops keep the ids
    [remark] = result.remarks
    assert remark.kind == "tiled" and remark.pass_name == "loop-tiling"
    assert remark.message.startswith("loops over 'i', 'j' (L0, L1) tiled 256x256: B[j, i] walks "
                                     "memory with stride dim(B, 1) in the loop over 'j'")


def test_clause_sizes_are_innermost_first_and_the_directive_moves_out() -> None:
    result = tile(transpose_ir("parallel loop tile(4, 8) gang"))
    loops = loops_of(result.module)
    assert [header(x) for x in loops] == [("i_tile", 8), ("j_tile", 4), ("i", 1), ("j", 1)]
    assert loops[0].directive is not None
    assert loops[0].directive.to_source() == "parallel loop gang"
    assert all(x.directive is None for x in loops[1:])
    [remark] = result.remarks
    assert "tiled 8x4 as tile(4, 8) asks ('i' by 8, 'j' by 4" in remark.message


def test_clause_star_and_size_option() -> None:
    loops = loops_of(tile(transpose_ir("loop tile(*, *)"), size=16).module)
    assert [header(x)[1] for x in loops[:2]] == [16, 16]
    loops = loops_of(tile(transpose_ir("loop tile(*, 2)"), auto=False).module)
    assert [header(x)[1] for x in loops[:2]] == [2, 256]


def test_illegal_clause_leaves_the_loops_and_says_why() -> None:
    module = parse_module("""
func @f(%A: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint
  L0: for %i = 1 to %n step 1 acc "loop tile(4, 4)" {
    L1: for %j = 0 to (%n - 1) step 1 {
      S0: %A[%i, %j; unchecked] = (%A[(%i - 1), (%j + 1); unchecked] + 1.0:f64)
    }
  }
}
""")
    result = tile(module)
    assert result.module is module
    [remark] = result.remarks
    assert remark.kind == "not-transformed"
    assert "flow dependence on 'A' (S0 -> S0, directions (i:<, j:>))" in remark.message
    assert remark.message.endswith("the loops run untiled")


def test_tiling_twice_does_not_tile_the_tiles() -> None:
    once = tile(transpose_ir()).module
    again = tile(once)
    assert again.module is once and not again.remarks
    forced = tile(once, sizes="2,2")
    assert forced.module is once


def test_auto_off_keeps_nests_but_honours_clauses() -> None:
    module = transpose_ir()
    assert tile(module, auto=False).module is module
    assert len(loops_of(tile(transpose_ir("loop tile(4, 4)"), auto=False).module)) == 4


def test_nests_without_lost_reuse_or_too_small_are_left_alone() -> None:
    rows = parse_module(TRANSPOSE.replace("DIRECTIVE", "").replace("%B[%j, %i;", "%B[%i, %j;"))
    assert tile(rows).module is rows
    small = parse_module(TRANSPOSE.replace("DIRECTIVE", "").replace("to %n", "to 40"))
    result = tile(small)
    assert result.module is small
    assert "runs two tiles or less" in result.remarks[0].message


def test_matmul_tiles_its_two_outer_loops() -> None:
    module = parse_module("""
func @mm(%C: memref<?x?xf64, C>, %A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint, %k: pyint
  L0: for %i = 0 to %n step 1 {
    L1: for %k = 0 to %n step 1 {
      L2: for %j = 0 to %n step 1 {
        S0: %C[%i, %j; unchecked] = (%C[%i, %j; unchecked] + (%A[%i, %k; unchecked] * %B[%k, %j; unchecked]))
      }
    }
  }
}
""")
    result = tile(module)
    loops = loops_of(result.module)
    assert [header(x) for x in loops] == [("i_tile", 64), ("k_tile", 64), ("i", 1), ("k", 1),
                                          ("j", 1)]
    assert [x.independent for x in loops] == [True, False, True, False, False]
    assert "B[k, j] is reused in every iteration of 'i'" in result.remarks[0].message


def test_bounds_the_nest_changes_are_not_tiled() -> None:
    module = parse_module("""
func @f(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %j: pyint, %k: pyint
  S0: %k = %n
  L0: for %i = 0 to %k step 1 {
    L1: for %j = 0 to %n step 1 {
      S1: %B[%j, %i; unchecked] = %A[%i, %j; unchecked]
      S2: %k = 3
    }
  }
}
""")
    result = tile(module, sizes="2,2")
    assert result.module is module
    assert "bounds of the loop over 'i' read an array or a variable" in result.remarks[0].message


def test_forced_sizes_are_outermost_first_and_checked() -> None:
    loops = loops_of(tile(transpose_ir(), sizes="3,2").module)
    assert [header(x)[1] for x in loops[:2]] == [3, 2]
    with pytest.raises(PipelineError, match="sizes must be positive integers"):
        tile(transpose_ir(), sizes="3,x")
    with pytest.raises(PipelineError, match="size must be >= 0"):
        tile(transpose_ir(), size=-1)


def test_pipeline_option_syntax_round_trips() -> None:
    manager = PassManager.from_string("loop-tiling{size=16 auto=false}")
    result = manager.run(transpose_ir("loop tile(*, *)"))
    assert [header(x)[1] for x in loops_of(result.module)[:2]] == [16, 16]


# ------------------------------------------------------------------------------ end to end


def clause_transpose(A, B):
    n, m = A.shape
    #pragma acc parallel loop tile(4, 4)
    for i in range(n):
        for j in range(m):
            B[j, i] = A[i, j] * 2.0 + i - j


def clause_illegal(A):
    n, m = A.shape
    #pragma acc loop tile(4, 4)
    for i in range(1, n):
        for j in range(m - 1):
            A[i, j] = A[i - 1, j + 1] + 1.0


def auto_transpose(A, B):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            B[j, i] = A[i, j]


def auto_matmul(C, A, B):
    n, p = A.shape
    m = B.shape[1]
    for i in range(n):
        for k in range(p):
            for j in range(m):
                C[i, j] += A[i, k] * B[k, j]


SHAPES = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 6), (6, 1), (13, 10), (37, 70)]


def run_both(cf, fn, args) -> None:
    expected_args, got_args = copy.deepcopy(args), copy.deepcopy(args)
    fn(*expected_args)
    cf(*got_args)
    for e, g in zip(expected_args, got_args, strict=True):
        np.testing.assert_array_equal(g, e)


def kinds(cf) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in cf.remarks:
        found.setdefault(r.kind, []).append(r.message)
    return found


@pytest.mark.parametrize("target", ["cpu", "interp"])
def test_tile_clause_matches_cpython(target: str) -> None:
    cf = accir.compile(clause_transpose, target=target, pipeline=PIPELINE)
    rng = np.random.default_rng(1)
    for n, m in SHAPES:
        run_both(cf, clause_transpose, (rng.random((n, m)), rng.random((m, n))))
    found = kinds(cf)
    assert any("tiled 4x4 as tile(4, 4) asks" in m for m in found["tiled"])
    assert any("loop over 'i_tile'" in m for m in found["parallelized"])


@pytest.mark.parametrize("target", ["cpu", "interp"])
def test_illegal_clause_runs_untiled_and_matches_cpython(target: str) -> None:
    cf = accir.compile(clause_illegal, target=target, pipeline=PIPELINE)
    rng = np.random.default_rng(2)
    for n, m in SHAPES:
        run_both(cf, clause_illegal, (rng.random((n, m)),))
    found = kinds(cf)
    assert "tiled" not in found
    assert any("directions (i:<, j:>)" in m for m in found["not-transformed"])


def test_automatic_tiling_matches_cpython_and_stays_parallel() -> None:
    small_tiles = PIPELINE.replace("loop-tiling", "loop-tiling{size=16}")  # partial tiles
    cf = accir.compile(auto_transpose, pipeline=small_tiles)
    rng = np.random.default_rng(3)
    for n, m in [*SHAPES, (100, 67)]:
        run_both(cf, auto_transpose, (rng.random((n, m)), rng.random((m, n))))
    found = kinds(cf)
    assert any("tiled 16x16" in m for m in found["tiled"])
    assert any("loop over 'i_tile'" in m for m in found["parallelized"])
    mm = accir.compile(auto_matmul, pipeline=PIPELINE)
    for n, p, m in [(0, 3, 2), (1, 1, 1), (70, 130, 9), (65, 3, 66)]:
        run_both(mm, auto_matmul, (rng.random((n, m)), rng.random((n, p)), rng.random((p, m))))
    assert any("tiled 64x64" in m for m in kinds(mm)["tiled"])


def test_pipeline_output_is_a_fixed_point() -> None:
    cf = accir.compile(clause_transpose, pipeline=PIPELINE)
    cf(np.zeros((3, 2)), np.zeros((2, 3)))
    module = cf.specializations[-1].ir
    assert print_module(tile(module).module) == print_module(module)


# ------------------------------------------------------------------------------ property

NEST = """
func @f(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint, %m: pyint) -> none {
  var %i: pyint, %j: pyint, %t: f64
  L0: for %i = LO_I to %n step 1 {
    L1: for %j = LO_J to %m step 1 {
BODY
    }
  }
}
"""


Form = tuple[int, int, int]  # a*i + b*j + c
Pair = tuple[Form, Form]  # the two subscripts of a reference


@st.composite
def subscripts(draw: st.DrawFn) -> Pair:
    """Two affine subscripts with small coefficients."""
    def form() -> Form:
        return draw(st.integers(-1, 1)), draw(st.integers(-1, 1)), draw(st.integers(-2, 2))

    return form(), form()


def affine_text(form: Form, shift: int) -> str:
    a, b, c = form
    return f"(((%i * {a}) + (%j * {b})) + {c + shift})"


@st.composite
def nests(draw: st.DrawFn) -> tuple[str, tuple[int, int], int, int]:
    """A 2-deep nest writing A through one subscript and reading A and B through others,
    maybe through a private temporary; its tile sizes and loop bounds."""
    write, read, other = draw(subscripts()), draw(subscripts()), draw(subscripts())
    if draw(st.booleans()):  # one element per iteration: A[±i + c, ±j + d] or A[±j + c, ±i + d]
        si, sj = draw(st.sampled_from([-1, 1])), draw(st.sampled_from([-1, 1]))
        rows: Form = (si, 0, draw(st.integers(-2, 2)))
        cols: Form = (0, sj, draw(st.integers(-2, 2)))
        write = (cols, rows) if draw(st.booleans()) else (rows, cols)
    if draw(st.integers(0, 2)):  # a uniform dependence: the write's subscripts shifted
        read = ((write[0][0], write[0][1], write[0][2] + draw(st.integers(-1, 1))),
                (write[1][0], write[1][1], write[1][2] + draw(st.integers(-1, 1))))
    lo_i, lo_j = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    n, m = draw(st.integers(0, 9)), draw(st.integers(0, 9))
    shift = 4 + 2 * 11  # |a*i + b*j + c| <= 2 * 11 + 2 for i, j < 11
    a = f"%A[{affine_text(write[0], shift)}, {affine_text(write[1], shift)}; unchecked]"
    source = draw(st.sampled_from(["%A", "%A", "%A", "%B"]))  # B: nothing to respect
    r = f"{source}[{affine_text(read[0], shift)}, {affine_text(read[1], shift)}; unchecked]"
    b = f"%B[{affine_text(other[0], shift)}, {affine_text(other[1], shift)}; unchecked]"
    if draw(st.booleans()):
        body = f"      S0: %t = ({r} * 0.5:f64)\n      S1: {a} = (%t + {b})"
    else:
        body = f"      S0: {a} = (({r} * 0.5:f64) + {b})"
    text = NEST.replace("LO_I", str(lo_i)).replace("LO_J", str(lo_j)).replace("BODY", body)
    sizes = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    return text, sizes, n, m


SIZE = 2 * (4 + 2 * 11) + 1


@given(nests(), st.integers(0, 2**32 - 1))
def test_forced_tiling_keeps_the_interpreters_results(case, seed: int) -> None:
    text, sizes, n, m = case
    module = parse_module(text)
    result = tile(module, sizes=f"{sizes[0]},{sizes[1]}", auto=False)
    why = result.remarks[0].message.partition(": ")[2][:40] if result.remarks else "?"
    event("tiled" if result.module is not module else f"not tiled: {why}")
    rng = np.random.default_rng(seed)
    A, B = rng.random((SIZE, SIZE)), rng.random((SIZE, SIZE))
    expected, got = A.copy(), A.copy()
    run_module(module, [expected, B, n, m])
    run_module(result.module, [got, B, n, m])
    np.testing.assert_array_equal(got, expected)
    again = tile(result.module, sizes=f"{sizes[0]},{sizes[1]}", auto=False)
    assert again.module is result.module
