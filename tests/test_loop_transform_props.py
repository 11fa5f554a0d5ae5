"""Properties of the loop transformations (loop-interchange, loop-distribution, loop-fusion,
loop-tiling, licm), each checked on every one of them, with the option variants of
OPTION_VARIANTS drawn per example (forced interchange orders, forced tile sizes):

1. Semantics. On random loop nests in IR form (tests/loop_nest_gen.py: depth 1-3,
   rectangular and triangular, constant and symbolic bounds, affine `unchecked` subscripts
   kept in range, float64 and int64 arrays of 1-3 dimensions, scalar temporaries and
   accumulations, `if`s), `normalize,<pass>` leaves what the reference interpreter computes
   unchanged: the same return value and arrays, bit for bit, and no unchecked access out of
   range. Fewer examples go through Python source (the loop nests of
   tests/dependence_programs.py and the programs of tests/program_gen.py):
   `accir.compile(fn, pipeline="normalize,bounds-check-hoist,<pass>,mark-independent-loops,
   auto-parallelize")` on the CPU computes what CPython computes.
2. Legality, against a brute-force oracle (`loop_nest_gen.reversed_pair`: it runs the
   iterations of a perfect nest in a new order and looks for two conflicting accesses, one
   a write, that change order). On random perfect nests of depth 2-3 with constant bounds
   (3-6 trips): `loop_nests.permutation_legal` is sound for every permutation of the loops,
   and exact where the dependence tests are; loop-interchange (with its cost model and
   forced to every order) and loop-tiling (forced tile sizes too) only make orders the
   oracle allows.
3. Idempotence: running a pass on its own output changes nothing.
4. The output verifies and prints as text that parses back to it.

Example counts are for the default profile ("dev") and scale with the profile's
max_examples.
"""


from __future__ import annotations

import importlib
import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from dependence_programs import Program as NestProgram
from dependence_programs import argument_values, copy_arguments, generate
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from loop_nest_gen import (
    InRangeInterpreter,
    Kernel,
    kernels,
    perfect_kernels,
    permuted,
    reversed_pair,
    schedule,
)

import accir
from accir.analysis.dependence import DependenceAnalysis
from accir.analysis.manager import AnalysisManager
from accir.ir.nodes import Assign, Expr, Load, Loop, Module, Store, Var, walk_stmts
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.ir.rewrite import iter_exprs
from accir.ir.verifier import verify_module
from accir.passes.loop_nests import nest_dependences, perfect_nest, permutation_legal
from accir.passes.manager import PassManager

# imported by name, which mypy does not follow: these modules have type errors of their own
_program_gen: Any = importlib.import_module("program_gen")
_random_programs: Any = importlib.import_module("test_random_programs")

TRANSFORMS = ("loop-interchange", "loop-distribution", "loop-fusion", "loop-tiling", "licm",
              "unroll-and-jam", "loop-collapse", "loop-wavefront")
SOURCE_PIPELINE = "normalize,bounds-check-hoist,{},mark-independent-loops,auto-parallelize"
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# options each pass also runs with (drawn per example; "" is the default)
OPTION_VARIANTS: dict[str, tuple[str, ...]] = {
    "loop-interchange": ("", "", "{order=j,i}", "{order=k,j}", "{order=k,j,i}",
                         "{order=j,k,i}", "{order=i,k,j}", "{order=k,i,j}", "{order=j,i,k}"),
    "loop-tiling": ("", "{sizes=2,2}", "{sizes=3,2}", "{sizes=2,3,2}", "{sizes=1,4}"),
    "loop-distribution": ("", "{perfect=false}"),
    "unroll-and-jam": ("", "{factor=3}", "{loops=1}"),
    "loop-collapse": ("{depth=2}", "{depth=3}"),
}


@pytest.fixture(scope="module", params=TRANSFORMS)
def transform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def examples(count: int) -> int:
    """`count` examples under the default profile ("dev", 100 examples), scaled with the
    profile's max_examples (40% of them under "ci", 10 times as many under "thorough")."""
    profile = settings.default.max_examples if settings.default is not None else 100
    return max(1, count * profile // 100)


def run_pipeline(pipeline: str, module: Module) -> Module:
    return PassManager.from_string(pipeline).run(module).module


def with_options(transform: str, data: st.DataObject) -> str:
    """The pass with one of its OPTION_VARIANTS."""
    return transform + data.draw(st.sampled_from(OPTION_VARIANTS.get(transform, ("",))),
                                 label="options")


# --- 1. semantics ------------------------------------------------------------------------------

Outcome = tuple[str, Any, list[np.ndarray]]  # ("returned" | "raised", value, the arrays)


def interpret(module: Module, args: list[Any]) -> Outcome:
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    try:
        return "returned", InRangeInterpreter(module).run(args), arrays
    except Exception as err:  # compared by the caller
        return "raised", err, arrays


def outcome_differences(expected: Outcome, actual: Outcome, loose: bool = False,
                        compare_after_error: bool = True) -> list[str]:
    (ek, ev, earrays), (ak, av, aarrays) = expected, actual
    problems = []
    if ek != ak or (ek == "raised" and (type(ev) is not type(av) or str(ev) != str(av))):
        problems.append(f"expected it to have {ek} {ev!r}; it {ak} {av!r}")
    elif ek == "returned" and not _random_programs.same_result(ev, av, loose):
        problems.append(f"expected it to return {ev!r}; it returned {av!r}")
    if ek == "raised" and not compare_after_error:
        return problems
    for k, (e, a) in enumerate(zip(earrays, aarrays, strict=True)):
        if not _random_programs.compare_arrays(e, a):
            problems.append(f"array argument {k} differs:\n  expected {e!r}\n  got      {a!r}")
    return problems


@settings(max_examples=examples(180), deadline=None, suppress_health_check=HEALTH)
@given(kernel=kernels(), data=st.data())
def test_semantics_on_ir(transform: str, kernel: Kernel, data: st.DataObject) -> None:
    transform = with_options(transform, data)
    out = run_pipeline(f"normalize,{transform}", kernel.module)
    event(f"{transform}: " + ("changed" if out != run_pipeline("normalize", kernel.module)
                              else "unchanged"))
    for dataset in kernel.datasets:
        expected = interpret(kernel.module, kernel.arguments(dataset))
        assert expected[0] == "returned", f"generator bug: {expected[1]!r}\n{kernel!r}"
        actual = interpret(out, kernel.arguments(dataset))
        problems = outcome_differences(expected, actual)
        assert not problems, "\n".join([f"normalize,{transform} changed the results for "
                                        f"(n, m, seed) = {dataset}:", *problems, repr(kernel),
                                        "output:", print_module(out)])


class _Draw:
    """dependence_programs' chooser, drawing with Hypothesis (so that it shrinks)."""

    def __init__(self, draw: st.DrawFn):
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))


@st.composite
def nest_programs(draw: st.DrawFn) -> tuple[NestProgram, dict[str, int]]:
    """Half of them in the class with constant bounds and SIV subscripts only, whose nests
    bounds-check-hoist versions (so that the passes find unchecked nests)."""
    chooser = _Draw(draw)
    return generate(chooser, siv_only=draw(st.booleans())), argument_values(chooser)


def _call(fn: Callable[..., Any], args: list[Any]) -> Outcome:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return "returned", fn(*args), [a for a in args if isinstance(a, np.ndarray)]
        except Exception as err:  # compared by the caller
            return "raised", err, [a for a in args if isinstance(a, np.ndarray)]


def _runs_parallel_loops(fn: Any) -> bool:
    return any("parallel(" in print_module(spec.ir) for spec in fn.specializations)


@settings(max_examples=examples(6), deadline=None, suppress_health_check=HEALTH)
@given(case=nest_programs(), data=st.data())
def test_semantics_on_python_loop_nests(transform: str, case: tuple[NestProgram, dict[str, int]],
                                        data: st.DataObject) -> None:
    program, values = case
    args = program.arguments(values)
    py_func = program.function()
    expected = _call(py_func, copy_arguments(args))
    pipeline = SOURCE_PIPELINE.format(with_options(transform, data))
    compiled = accir.compile(py_func, pipeline=pipeline)
    actual = _call(compiled, copy_arguments(args))
    if actual[0] == "raised" and isinstance(actual[1], accir.AccirError):
        pytest.fail(f"{pipeline} rejected the program: {actual[1]}\n{program!r}")
    # documented (docs/parallel.md): after an error in a parallel loop, iterations other
    # threads ran have written their results
    problems = outcome_differences(expected, actual, loose=True,
                                   compare_after_error=not _runs_parallel_loops(compiled))
    assert not problems, "\n".join([f"{pipeline} differs from CPython for {values}:",
                                    *problems, repr(program),
                                    "IR:", compiled.inspect_ir()])


@settings(max_examples=examples(4), deadline=None, suppress_health_check=HEALTH)
@given(case=_program_gen.cases(layouts="C"), data=st.data())
def test_semantics_on_random_programs(transform: str, case: Any, data: st.DataObject) -> None:
    pipeline = SOURCE_PIPELINE.format(with_options(transform, data))
    _random_programs.check_against_cpython(case, [("cpu", pipeline)])


# --- 2. legality of reorderings ---------------------------------------------------------------


def _nest(module: Module) -> list[Loop]:
    return perfect_nest(next(s for s in module.entry.body if isinstance(s, Loop)))


def _names(order: tuple[int, ...], nest: list[Loop]) -> str:
    return "(" + ", ".join(nest[k].var.name for k in order) + ")"


@settings(max_examples=examples(120), deadline=None, suppress_health_check=HEALTH)
@given(kernel=perfect_kernels())
def test_permutation_legal_against_the_oracle(kernel: Kernel) -> None:
    """Sound: when the oracle finds two conflicting accesses that a permutation of the
    loops runs the other way round, permutation_legal returns a dependence. Exact where the
    dependence tests are (`_separable` nests): when the oracle finds none, it returns None."""
    nest = _nest(kernel.module)
    graph = AnalysisManager().get(DependenceAnalysis, kernel.function)
    deps = nest_dependences(graph, nest)
    exact = _separable(nest)
    for order in itertools.permutations(range(len(nest))):
        witness = reversed_pair(nest, permuted(nest, order))
        verdict = permutation_legal(deps, order)
        context = f"{kernel!r}\ndependences:\n" + "\n".join(graph.lines())
        if order == tuple(range(len(nest))):
            assert witness is None, f"oracle bug: the identity reverses {witness}"
            assert verdict is None, f"permutation_legal refuses the identity: {verdict}"
        elif witness is not None:
            assert verdict is not None, (f"permutation_legal allows the loop order "
                                         f"{_names(order, nest)}, but it reverses {witness}"
                                         f"\n{context}")
        elif exact:
            assert verdict is None, (f"permutation_legal refuses the loop order "
                                     f"{_names(order, nest)} for {verdict}, but no "
                                     f"conflicting accesses change order\n{context}")


def _separable(nest: list[Loop]) -> bool:
    """Whether the dependence tests are exact on the nest: no scalar statement, and every
    subscript holds at most one loop variable, each variable appearing in at most one axis
    of an array (so that the direction vectors of the axes combine independently)."""
    names = {loop.var.name for loop in nest}
    for s in walk_stmts(nest[-1].body):
        if isinstance(s, Assign):
            return False
        assert isinstance(s, Store)
        for indices in (s.indices, *(load.indices for load in _loads(s))):
            axes = [{v for v in _vars(x) if v in names} for x in indices]
            if any(len(a) > 1 for a in axes):
                return False
            used = [v for a in axes for v in a]
            if len(used) != len(set(used)):
                return False
    return True


def _loads(s: Store) -> list[Load]:
    return [e for x in (s.value, *s.indices) for e in (x, *iter_exprs(x)) if isinstance(e, Load)]


def _vars(e: Expr) -> set[str]:
    return {x.name for x in (e, *iter_exprs(e)) if isinstance(x, Var)}


@settings(max_examples=examples(40), deadline=None, suppress_health_check=HEALTH)
@given(kernel=perfect_kernels())
def test_loop_interchange_permutes_legally(kernel: Kernel) -> None:
    """loop-interchange, with its cost model and forced to each order in turn
    (`order=...`), reorders a nest only when the oracle allows the new order, moving each
    loop with its bounds; forced, it refuses no order the oracle allows where the dependence
    tests are exact."""
    before = _nest(run_pipeline("normalize", kernel.module))
    names = [loop.var.name for loop in before]
    bounds = {loop.var.name: (loop.start, loop.stop, loop.step) for loop in before}
    exact = _separable(before)
    for forced in ("", *(",".join(p) for p in itertools.permutations(names))):
        pipeline = "normalize,loop-interchange" + (f"{{order={forced}}}" if forced else "")
        after = _nest(run_pipeline(pipeline, kernel.module))
        new_names = [loop.var.name for loop in after]
        assert sorted(new_names) == sorted(names), \
            f"{pipeline} turned the nest ({', '.join(names)}) into {new_names}\n{kernel!r}"
        assert all((loop.start, loop.stop, loop.step) == bounds[loop.var.name]
                   for loop in after), f"{pipeline} changed loop bounds\n{kernel!r}"
        witness = reversed_pair(before, schedule(after, names))
        assert witness is None, (f"{pipeline} reordered the loops ({', '.join(names)}) as "
                                 f"({', '.join(new_names)}), which reverses {witness}"
                                 f"\n{kernel!r}")
        if forced and exact and new_names != forced.split(","):
            wanted = tuple(names.index(n) for n in forced.split(","))
            assert reversed_pair(before, permuted(before, wanted)) is not None, (
                f"{pipeline} refused the order ({forced}), which reverses no conflicting "
                f"accesses\n{kernel!r}")


@settings(max_examples=examples(30), deadline=None, suppress_health_check=HEALTH)
@given(kernel=perfect_kernels())
def test_loop_tiling_tiles_legally(kernel: Kernel) -> None:
    """Whenever loop-tiling tiles a nest (forced tile sizes included), the tiled nest runs
    every iteration once, and the oracle finds no conflicting accesses it swaps."""
    before = _nest(run_pipeline("normalize", kernel.module))
    names = [loop.var.name for loop in before]
    for options in OPTION_VARIANTS["loop-tiling"]:
        pipeline = f"normalize,loop-tiling{options}"
        after = _nest(run_pipeline(pipeline, kernel.module))
        try:
            witness = reversed_pair(before, schedule(after, names))
        except AssertionError as err:
            raise AssertionError(f"{pipeline}: {err}\n{kernel!r}") from None
        assert witness is None, (f"{pipeline} tiled the nest ({', '.join(names)}) as "
                                 f"({', '.join(loop.var.name for loop in after)}), which "
                                 f"reverses {witness}\n{kernel!r}")


# --- 3. idempotence, 4. valid IR ---------------------------------------------------------------


@settings(max_examples=examples(50), deadline=None, suppress_health_check=HEALTH)
@given(kernel=kernels(), data=st.data())
def test_pass_is_idempotent(transform: str, kernel: Kernel, data: st.DataObject) -> None:
    transform = with_options(transform, data)
    once = run_pipeline(f"normalize,{transform}", kernel.module)
    twice = run_pipeline(transform, once)
    assert print_module(twice) == print_module(once), \
        f"{transform} changed its own output\n{kernel!r}\nonce:\n{print_module(once)}"


@settings(max_examples=examples(50), deadline=None, suppress_health_check=HEALTH)
@given(kernel=kernels(), data=st.data())
def test_output_verifies_and_round_trips(transform: str, kernel: Kernel,
                                         data: st.DataObject) -> None:
    transform = with_options(transform, data)
    out = run_pipeline(f"normalize,{transform}", kernel.module)
    verify_module(out, transform)
    assert parse_module(print_module(out)) == out, \
        f"the output of {transform} does not parse back\n{kernel!r}\n{print_module(out)}"


# --- the generator and the oracle themselves --------------------------------------------


@settings(max_examples=examples(30), deadline=None, suppress_health_check=HEALTH)
@given(kernel=kernels())
def test_generated_kernels_are_valid_and_in_range(kernel: Kernel) -> None:
    verify_module(kernel.module)
    assert parse_module(print_module(kernel.module)) == kernel.module
    for dataset in kernel.datasets:
        kind, value, _ = interpret(kernel.module, kernel.arguments(dataset))
        assert kind == "returned", f"{value!r}\n{kernel!r}"


def test_oracle_on_a_known_nest() -> None:
    """A[i][j] = A[i - 1][j + 1]: the flow dependence (<, >) forbids interchange."""
    module = parse_module("""
func @kernel(%A: memref<?x?xf64, C>, %n: pyint, %m: pyint) -> f64 {
  var %i: pyint, %j: pyint
  L0: for %i = 1 to 4 step 1 {
    L1: for %j = 0 to 3 step 1 {
      S0: %A[%i, %j; unchecked] = %A[(%i - 1), (%j + 1); unchecked]
    }
  }
  S1: return 0.0:f64
}
""")
    nest = _nest(module)
    assert reversed_pair(nest, permuted(nest, (0, 1))) is None
    assert reversed_pair(nest, permuted(nest, (1, 0))) is not None
    deps = nest_dependences(AnalysisManager().get(DependenceAnalysis, module.entry), nest)
    assert permutation_legal(deps, (1, 0)) is not None
    tiled = _nest(parse_module("""
func @kernel(%A: memref<?x?xf64, C>, %n: pyint, %m: pyint) -> f64 {
  var %i: pyint, %i_tile: pyint, %j: pyint, %j_tile: pyint
  L2: for %i_tile = 1 to 4 step 2 {
    L3: for %j_tile = 0 to 3 step 2 {
      L0: for %i = %i_tile to min((%i_tile + 2), 4):pyint step 1 {
        L1: for %j = %j_tile to min((%j_tile + 2), 3):pyint step 1 {
          S0: %A[%i, %j; unchecked] = %A[(%i - 1), (%j + 1); unchecked]
        }
      }
    }
  }
  S1: return 0.0:f64
}
"""))
    # (i=1, j=2) writes A[1, 2], which (i=2, j=1) reads; 2x2 tiles run (i=2, j=1) in the
    # first tile, (i=1, j=2) in the second
    witness = reversed_pair(nest, schedule(tiled, ["i", "j"]))
    assert witness is not None and "('A', 1, 2)" in witness
