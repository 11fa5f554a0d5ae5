"""licm (accir/passes/licm.py): what moves and what stays, on IR; compiled functions with the
pass in the pipeline give CPython's results, on loops that may run zero times and with the
hoisted scalars read after the loops; a Hypothesis property on generated programs full of
invariant assignments, and one on the random programs of tests/program_gen.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from program_gen import Case, DataSet, Param, Program, cases
from test_random_programs import check_against_cpython

import accir
from accir.analysis.manager import AnalysisManager
from accir.ir.nodes import Compare, Const, Loop, Var
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.ir.types import PYINT
from accir.passes.licm import LoopInvariantCodeMotion, hoist_refusals, runs_at_least_once

LICM_FIRST = "normalize,licm,bounds-check-hoist,mark-independent-loops,auto-parallelize"
LICM_AFTER_CHECKS = "normalize,bounds-check-hoist,licm,mark-independent-loops,auto-parallelize"

HEADER = "func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %x: f64, %y: f64, %n: pyint," \
         " %k: pyint) -> {ret} {{\n  var %c: pyint, %i: pyint, %j: pyint, %s: f64, %t: f64," \
         " %u: f64\n"


def ir(body: str, ret: str = "none", extra: str = "") -> str:
    return extra + HEADER.format(ret=ret) + body + "}\n"


def licm(text: str, noalias: bool = True):
    module = parse_module(text)
    return module, LoopInvariantCodeMotion().run(module, AnalysisManager(noalias=noalias))


def refusals(text: str, noalias: bool = True) -> dict[str, str]:
    module = parse_module(text)
    return hoist_refusals(module, module.functions[-1], noalias)


def stays(text: str, sid: str, reason: str, noalias: bool = True) -> None:
    """`sid` does not move, for `reason` (a part of the refusal message)."""
    module, result = licm(text, noalias)
    assert result.module is module and not result.remarks
    assert reason in refusals(text, noalias)[sid]


# ---------------------------------------------------------------- what moves


def test_invariant_assignment_leaves_the_nest_which_becomes_perfect() -> None:
    text = ir("""  L0: for %i = 0 to %n step 1 {
    S3: %t = (%x * %y)
    L1: for %j = 0 to %n step 1 {
      S4: %a[%j; unchecked] = (%a[%j; unchecked] * %t)
    }
  }
""")
    _, result = licm(text)
    outer = result.module.entry.body[1]
    assert print_module(result.module).count("S3: %t = (%x * %y)") == 1
    assert result.module.entry.body[0].sid == "S3"  # the statement keeps its id
    assert isinstance(outer, Loop) and outer.lid == "L0"
    assert len(outer.body) == 1 and isinstance(outer.body[0], Loop)
    [remark] = result.remarks
    assert (remark.kind, remark.pass_name) == ("hoisted", "licm")
    assert remark.message == "S3 (t = x * y) hoisted out of the loop over 'i' (L0): invariant"


def test_moves_out_of_every_loop_it_is_invariant_in() -> None:
    text = ir("""  L0: for %i = 0 to %n step 1 {
    L1: for %j = 0 to %n step 1 {
      L2: for %c = 0 to %n step 1 {
        S0: %t = (%x + %y)
        S1: %u = (%t * f64(%i))
        S2: %a[%c; unchecked] = %u
      }
    }
  }
""")
    _, result = licm(text)
    text_out = print_module(result.module)
    assert text_out.index("S0: %t") < text_out.index("L0: for")
    # u reads i: it leaves the loops over c and j, not the loop over i
    assert text_out.index("L0: for") < text_out.index("S1: %u") < text_out.index("L1: for")
    moves = [(r.message.split()[0], r.message.split(" hoisted out of the loop over ")[1]
              .split(":")[0]) for r in result.remarks]
    assert moves == [("S0", "'c' (L2)"), ("S1", "'c' (L2)"), ("S0", "'j' (L1)"),
                     ("S1", "'j' (L1)"), ("S0", "'i' (L0)")]


def test_pass_is_idempotent_and_unchanged_module_is_the_same_object() -> None:
    text = ir("""  L0: for %i = 0 to 3 step 1 {
    S0: %t = (%x + %y)
    S1: %a[%i; unchecked] = %t
  }
  S2: return %t
""", ret="f64")
    _, once = licm(text)
    assert len(once.remarks) == 1
    again = LoopInvariantCodeMotion().run(once.module, AnalysisManager())
    assert again.module is once.module and not again.remarks


def test_read_after_a_loop_with_constant_bounds() -> None:
    text = ir("""  L0: for %i = 3 to 0 step -1 {
    S0: %t = (%x + %y)
    S1: %a[%i; unchecked] = %t
  }
  S2: return %t
""", ret="f64")
    _, result = licm(text)
    assert result.remarks[0].message.endswith("invariant, and the loop runs at least once")


def test_read_after_a_loop_under_a_guard_that_it_runs() -> None:
    text = ir("""  if ((0 < %n) and (%n < dim(%a, 0))) {
    L0: for %i = 0 to %n step 1 {
      S0: %t = (%b[0; unchecked] + %y)
      S1: %a[%i; unchecked] = %t
    }
  }
  S2: return %t
""", ret="f64")
    _, result = licm(text)
    guarded = result.module.entry.body[0]
    assert [type(s).__name__ for s in guarded.then] == ["Assign", "Loop"]


# ---------------------------------------------------------------- (a) invariance


def test_refused_reads_the_loop_index() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%x * f64(%i))
    S1: %a[%i; unchecked] = %t
  }
"""), "S0", "it reads 'i', assigned in the loop")


def test_refused_reads_a_scalar_the_loop_assigns() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%x * %s)
    S1: %s = (%s + 1.0:f64)
  }
"""), "S0", "it reads 's', assigned in the loop")


def test_refused_reads_an_array_the_loop_writes() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%a[0; unchecked] * %x)
    S1: %a[%i; unchecked] = %t
  }
"""), "S0", "it reads array 'a', which the loop may write")


def test_refused_reads_an_array_a_called_function_writes() -> None:
    helper = "func @bump(%arr: memref<?xf64, C>) -> none {\n  S9: %arr[0] = 1.0:f64\n}\n"
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%a[0; unchecked] * %x)
    S1: eval call @bump(%a):none
    S2: %b[%i; unchecked] = %t
  }
""", extra=helper), "S0", "it reads array 'a', which the loop may write")


def test_arrays_may_overlap_in_the_version_for_aliased_arguments() -> None:
    text = ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%a[0; unchecked] * %x)
    S1: %b[%i; unchecked] = %t
  }
""")
    assert licm(text)[1].remarks  # distinct arrays: b's stores cannot change a[0]
    stays(text, "S0", "it reads array 'a', which the loop may write", noalias=False)


def test_refused_reads_an_array_in_a_loop_with_a_data_directive() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%a[0; unchecked] * %x)
    acc "update self(a)"
    S1: %b[%i; unchecked] = %t
  }
"""), "S0", "it reads array 'a', which the loop may write")


# ---------------------------------------------------------------- (b) one top-level assignment


def test_refused_assigned_twice() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%x * %y)
    S1: %a[%i; unchecked] = %t
    S2: %t = (%x + %y)
    S3: %b[%i; unchecked] = %t
  }
"""), "S0", "'t' is assigned elsewhere in the loop")


def test_assignment_under_an_if_stays() -> None:
    text = ir("""  L0: for %i = 0 to 4 step 1 {
    if (%x > 0.0:f64) {
      S0: %t = (%x * %y)
    }
    S1: %a[%i; unchecked] = %t
  }
""")
    module, result = licm(text)
    assert result.module is module and "S0" not in refusals(text)


def test_refused_assigned_by_a_nested_loop_too() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%x * %y)
    L1: for %j = 0 to 4 step 1 {
      S1: %t = (%t + 1.0:f64)
    }
    S2: %a[%i; unchecked] = %t
  }
"""), "S0", "'t' is assigned elsewhere in the loop")


# ---------------------------------------------------------------- (c) no read before


def test_refused_read_before_the_assignment() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %a[%i; unchecked] = %t
    S1: %t = (%x * %y)
  }
"""), "S1", "'t' is read in the loop before this assignment")


def test_refused_read_by_the_loop_bounds() -> None:
    stays(ir("""  L0: for %i = 0 to %c step 1 {
    S0: %c = 2
    S1: %a[%i; unchecked] = 1.0:f64
  }
"""), "S0", "'c' is read in the loop before this assignment")


# ---------------------------------------------------------------- (d) cannot raise


def test_refused_checked_subscript() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %t = (%b[0] * %x)
    S1: %a[%i; unchecked] = %t
  }
"""), "S0", "evaluating it may raise")


def test_refused_python_int_division() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %c = (%n // %k)
    S1: %a[%i; unchecked] = f64(%c)
  }
"""), "S0", "evaluating it may raise")


def test_refused_unchecked_subscript_in_a_loop_that_may_not_run() -> None:
    text = ir("""  L0: for %i = 0 to %n step 1 {
    S0: %t = (%b[0; unchecked] * %x)
    S1: %a[%i; unchecked] = %t
  }
""")
    stays(text, "S0", "known in range only while the loop runs")
    assert licm(text.replace("to %n", "to 4"))[1].remarks


# ---------------------------------------------------------------- (e) value after the loop


def test_refused_read_after_a_loop_that_may_not_run() -> None:
    text = ir("""  L0: for %i = 0 to %n step 1 {
    S0: %t = (%x * %y)
    S1: %a[%i; unchecked] = %t
  }
  S2: return %t
""", ret="f64")
    stays(text, "S0", "'t' is read after the loop")
    assert licm(text.replace("S2: return %t", "S2: return %x"))[1].remarks


def test_refused_read_after_the_loop_by_an_allocation_or_a_directive() -> None:
    loop = """  L0: for %i = 0 to %n step 1 {
    S0: %c = (%k + 1)
    S1: %a[%i; unchecked] = 1.0:f64
  }
"""
    allocation = ir(loop + "  S2: %z = alloc(%c) fill 0.0:f64\n").replace(
        "%u: f64\n", "%u: f64, %z: memref<?xf64, C>\n")
    stays(allocation, "S0", "'c' is read after the loop")
    region = ir(loop + '  acc "parallel num_gangs(c)" {\n    S2: %t = %x\n  }\n')
    stays(region, "S0", "'c' is read after the loop")
    assert licm(region.replace("num_gangs(c)", "num_gangs(4)"))[1].remarks


def test_refused_read_after_a_loop_whose_first_iteration_may_break_before_it() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    if (%a[%i; unchecked] > %x) {
      break
    }
    S0: %t = (%x * %y)
  }
  S1: return %t
""", ret="f64"), "S0", "'t' is read after the loop")


def test_read_in_the_next_iteration_of_an_outer_loop_counts_as_after() -> None:
    stays(ir("""  L0: for %i = 0 to 4 step 1 {
    S0: %a[%i; unchecked] = %t
    L1: for %j = 0 to %n step 1 {
      S1: %t = (%x * %y)
    }
  }
"""), "S1", "'t' is read after the loop")


def test_guard_that_the_branch_invalidates_is_no_fact() -> None:
    stays(ir("""  if (0 < %n) {
    S0: %n = (%n - 1)
    L0: for %i = 0 to %n step 1 {
      S1: %t = (%x * %y)
      S2: %a[%i; unchecked] = %t
    }
  }
  S3: return %t
""", ret="f64"), "S1", "'t' is read after the loop")


@pytest.mark.parametrize(("start", "stop", "step", "runs"), [
    (0, 3, 1, True), (3, 3, 1, False), (3, 0, -1, True), (0, 3, -1, False), (0, 5, 7, True)])
def test_runs_at_least_once_with_constant_bounds(start, stop, step, runs) -> None:
    loop = Loop("L0", Var("i", PYINT), Const(start, PYINT), Const(stop, PYINT),
                Const(step, PYINT), ())
    assert runs_at_least_once(loop) is runs


def test_runs_at_least_once_from_facts() -> None:
    n, zero = Var("n", PYINT), Const(0, PYINT)
    forward = Loop("L0", Var("i", PYINT), zero, n, Const(1, PYINT), ())
    backward = Loop("L1", Var("i", PYINT), n, zero, Const(-1, PYINT), ())
    assert runs_at_least_once(forward, (Compare("<", zero, n),))
    assert runs_at_least_once(forward, (Compare(">", n, zero),))
    assert not runs_at_least_once(forward, (Compare("<", n, zero),))
    assert runs_at_least_once(backward, (Compare(">", n, zero),))
    assert runs_at_least_once(backward, (Compare("<", zero, n),))
    assert not runs_at_least_once(backward, (Compare("<", n, zero), Compare(">", zero, n)))
    unknown_step = Loop("L2", Var("i", PYINT), zero, n, Var("k", PYINT), ())
    assert not runs_at_least_once(unknown_step, (Compare("<", zero, n),))


# ---------------------------------------------------------------- directives and regions


@pytest.mark.parametrize("annotation", ['acc "parallel loop"', "parallel(static, private %i %t)"])
def test_refused_loop_with_a_directive_or_on_threads(annotation: str) -> None:
    stays(ir(f"""  L0: for %i = 0 to 4 step 1 {annotation} {{
    S0: %t = (%x * %y)
    S1: %a[%i; unchecked] = %t
  }}
"""), "S0", "OpenACC directive or runs on threads")


@pytest.mark.parametrize("annotation", ['acc "parallel loop collapse(2)"',
                                        'acc "parallel loop tile(2, 2)"',
                                        "parallel(static, private %i %j %t, collapse 2)"])
def test_refused_out_of_a_loop_collapsed_with_the_loop_around_it(annotation: str) -> None:
    stays(ir(f"""  L0: for %i = 0 to 4 step 1 {annotation} {{
    L1: for %j = 0 to 4 step 1 {{
      S0: %t = (%x * %y)
      S1: %a[%j; unchecked] = %t
    }}
  }}
"""), "S0", "the loop is collapsed (or tiled) with a loop around it")


def test_statement_stays_inside_its_region() -> None:
    _, result = licm(ir("""  acc "kernels" {
    L0: for %i = 0 to %n step 1 {
      S0: %t = (%x * %y)
      S1: %a[%i; unchecked] = %t
    }
  }
"""))
    region = result.module.entry.body[0]
    assert [type(s).__name__ for s in region.body] == ["Assign", "Loop"]


# ---------------------------------------------------------------- end to end, against CPython


def scale_rows(a, b, alpha, beta):
    n, m = a.shape
    t = 0.0
    for i in range(n):
        t = alpha * beta
        for j in range(m):
            u = b[0] * 2.0
            a[i, j] = a[i, j] * t + u
    return t


def scale_rows_unread(a, b, alpha, beta):
    n, m = a.shape
    s = np.float64(0.0)
    for i in range(n):
        t = alpha * beta
        for j in range(m):
            a[i, j] = a[i, j] * t
            s += a[i, j]
    return s


def shift_after_empty_loop(a, b, k):
    c = 7
    t = np.float64(1.5)
    for i in range(len(a)):
        c = len(b) // k
        t = b[0] + 1.0
        a[i] = a[i] + t + c
    return t + c


def scalar_after_break(a, x):
    t = 0.0
    for i in range(4):
        if a[i % len(a)] > x:
            break
        t = x * 2.0
        a[i % len(a)] += t
    return t


def row_sums_with_invariant_load(a, b, out):
    for i in range(a.shape[0]):
        w = b[1] * 0.5
        acc = 0.0
        for j in range(a.shape[1]):
            acc += a[i, j] * w
        out[i] = acc


E2E = [
    (scale_rows, lambda r, s: (r.random(s), r.random(max(s[1], 1)), 1.5, -2.0)),
    (scale_rows_unread, lambda r, s: (r.random(s), r.random(2), 0.5, 3.0)),
    (shift_after_empty_loop, lambda r, s: (r.random(s[0]), r.random(s[1]), int(r.integers(-2, 3)))),
    (scalar_after_break, lambda r, s: (r.random(s[0] or 1) - 0.5, 0.25)),
    (row_sums_with_invariant_load, lambda r, s: (r.random(s), r.random(2), np.zeros(s[0]))),
]
SHAPES = [(0, 3), (3, 0), (1, 1), (4, 5), (0, 0)]


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return type(a) is type(b) and (a == b or (a != a and b != b))


def outcome(fn, args):
    try:
        return "returned", fn(*args), args
    except Exception as error:  # compared with CPython's
        return "raised", f"{type(error).__name__}: {error}", args


@pytest.mark.parametrize("pipeline", [LICM_FIRST, LICM_AFTER_CHECKS])
@pytest.mark.parametrize("target", ["cpu", "interp"])
@pytest.mark.parametrize(("fn", "make"), E2E, ids=lambda v: getattr(v, "__name__", ""))
def test_compiled_matches_cpython(fn, make, target: str, pipeline: str) -> None:
    compiled = accir.compile(fn, target=target, pipeline=pipeline)
    rng = np.random.default_rng(5)
    for shape in SHAPES:
        args = make(rng, shape)
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        ek, ev, eargs = outcome(fn, args)
        ak, av, aargs = outcome(compiled, copies)
        assert ek == ak and (same(ev, av) if ek == "returned" else ev == av), (shape, ev, av)
        assert all(same(e, a) for e, a in zip(eargs, aargs, strict=True)), shape


def test_pipeline_after_bounds_checks_hoists_the_invariant_load() -> None:
    compiled = accir.compile(scale_rows, target="interp", pipeline=LICM_AFTER_CHECKS)
    compiled(np.ones((2, 2)), np.ones(1), 1.0, 2.0)
    hoisted = [r.message for r in compiled.remarks if r.kind == "hoisted"]
    assert any(m.startswith("S3 (t = alpha * beta) hoisted out of the loop over 'i'")
               for m in hoisted), hoisted
    assert any("(u = b[0] * 2.0:f64)" in m for m in hoisted), hoisted


# ---------------------------------------------------------------- properties

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

INVARIANT = ["x * y", "x + 1.5", "a[0] * y", "b[1] - x", "x / y", "np.float64(n) * x"]
BOUNDS = ["3", "n", "0", "m", "1, n", "n - 1, -1, -1", "len(a)"]
LOOP_VARS = ("i", "j", "q")
TARGETS = ("t", "u", "v", "w")


@st.composite
def invariant_programs(draw) -> Program:
    """`kernel(a, b, x, y, n, m, d)` with a nest of 1-3 loops whose bodies mix invariant and
    varying assignments to t, u, v and w, reads of them before and after, stores to the arrays the
    invariants read, a division that may raise, breaks; the scalars are read after the nest
    or not."""
    lines = ["def kernel(a, b, x, y, n, m, d):",
             *(f"    {v} = x * 0.0" for v in (*TARGETS, "p")), "    s = y * 0.0", "    c = 0"]
    depth = draw(st.integers(1, 3))
    for level in range(depth):
        var, pad = LOOP_VARS[level], "    " * (level + 2)
        lines.append(f"{pad[4:]}for {var} in range({draw(st.sampled_from(BOUNDS))}):")
        for _ in range(draw(st.integers(1, 4))):
            lines += [pad + line for line in draw(_statement(var))]
    for level in reversed(range(depth - 1)):  # statements after an inner loop
        for _ in range(draw(st.integers(0, 2))):
            lines += ["    " * (level + 2) + line for line in draw(_statement(LOOP_VARS[level]))]
    result = draw(st.sampled_from(["s", "s + p", "s + c", "v", "t + u + v + w + s + c"]))
    lines.append(f"    return {result}")
    source = "import math\n\nimport numpy as np\n\n\n" + "\n".join(lines) + "\n"
    params = (Param("a", "array", "f64", ("N",)), Param("b", "array", "f64", ("M",)),
              Param("x", "x", "f64"), Param("y", "x", "f64"), Param("n", "x", "int"),
              Param("m", "x", "int"), Param("d", "x", "int"))
    return Program(source, params, loose_return=False)


def _statement(var: str) -> st.SearchStrategy[list[str]]:
    target = st.sampled_from(TARGETS)
    assign = st.tuples(target, st.sampled_from(INVARIANT)).map(lambda p: f"{p[0]} = {p[1]}")
    kinds = st.sampled_from(["invariant"] * 4 + ["varying", "self", "sum", "sum", "store a",
                                                 "store b", "break", "under if", "divide"])
    return st.tuples(kinds, target, assign).map(lambda k: {
        "invariant": [k[2]],
        "varying": [f"p = x * {var}", f"{k[1]} = p + y"],
        "self": [f"{k[1]} = {k[1]} * 0.5"],
        "sum": [f"s = s + {k[1]}"],
        "store a": [f"a[{var} % len(a)] = a[{var} % len(a)] + {k[1]}"],
        "store b": [f"b[{var}] = {k[1]} * 0.5"],
        "break": [f"if a[{var} % len(a)] > x:", "    break"],
        "under if": ["if x > y:", f"    {k[2]}"],
        "divide": ["c = n // d"],
    }[k[0]])


@st.composite
def invariant_cases(draw) -> Case:
    program = draw(invariant_programs())
    data = []
    for _ in range(2):
        size_a, size_b = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        values = (np.arange(size_a, dtype=np.float64) - draw(st.integers(0, 2)),
                  np.linspace(-1.0, 2.0, size_b),
                  np.float64(draw(st.sampled_from([0.0, 1.5, -2.0, 0.25]))),
                  np.float64(draw(st.sampled_from([0.0, 3.0, -0.5]))),
                  draw(st.integers(0, 4)), draw(st.integers(-1, 3)), draw(st.integers(-1, 2)))
        data.append(DataSet({"N": size_a, "M": size_b}, values))
    layouts = ("C", "C", "-", "-", "-", "-", "-")
    return Case(program, layouts, tuple(data))


@settings(deadline=None, suppress_health_check=HEALTH, max_examples=30)
@given(invariant_cases())
def test_invariant_programs_match_cpython(case: Case) -> None:
    check_against_cpython(case, [("interp", LICM_FIRST), ("interp", LICM_AFTER_CHECKS),
                                 ("cpu", LICM_AFTER_CHECKS)])


@settings(deadline=None, suppress_health_check=HEALTH, max_examples=10)
@given(cases(layouts="C", max_datasets=2))
def test_random_programs_match_cpython(case: Case) -> None:
    check_against_cpython(case, [("interp", LICM_AFTER_CHECKS), ("interp", "normalize,licm")])
