"""The hand-written `prange` versions of benchmarks/prange_kernels.py, at the "mini" size:

- each source is its loop version with some `range` replaced by `prange`, nothing else;
- the prange loops are exactly the outermost loops whose iterations are independent, found by
  running the loop version in CPython with one loop at a time logged as a prange (no array
  element written by one iteration is read or written by another; no scalar passes a value from
  one iteration to the next);
- Numba's `parallel=True` build makes every prange loop a parallel loop and agrees with CPython.

Each kernel is compiled by Numba once.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import Any

import numba
import numpy as np
import pytest

from benchmarks.kernels import KERNELS, Kernel
from benchmarks.polybench import POLYBENCH
from benchmarks.prange_kernels import PRANGE

ALL: dict[str, Kernel] = {**KERNELS, **POLYBENCH}
WITH_PRANGE = [name for name, fn in PRANGE.items() if fn is not None]


def _prange_of(name: str) -> Callable[..., Any]:
    fn = PRANGE[name]
    assert fn is not None
    return fn


def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    args = copy.deepcopy(args)
    fn(*args)
    return args


def _array_positions(args: tuple[Any, ...]) -> list[int]:
    return [pos for pos, a in enumerate(args) if isinstance(a, np.ndarray)]


# ------------------------------------------------------------------------------------ sources


def _function_ast(fn: Callable[..., Any]) -> ast.FunctionDef:
    (node,) = ast.parse(textwrap.dedent(inspect.getsource(fn))).body
    assert isinstance(node, ast.FunctionDef)
    return node


def _for_loops(node: ast.AST) -> list[ast.For]:
    return [n for n in ast.walk(node) if isinstance(n, ast.For)]


def _is_prange(loop: ast.For) -> bool:
    return (isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name)
            and loop.iter.func.id == "prange")


def _prange_loops(fn: Callable[..., Any] | None) -> set[int]:
    """Positions (in `_for_loops` order) of the prange loops of `fn`."""
    if fn is None:
        return set()
    return {i for i, loop in enumerate(_for_loops(_function_ast(fn))) if _is_prange(loop)}


class _PrangeToRange(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id="range", ctx=node.ctx) if node.id == "prange" else node


# ------------------------------------------------------------------- dependences, by running


class _AccessLog:
    """Runs prange loops serially and records, per run of a prange loop, which of its iterations
    read or wrote each array element; `conflicts` lists the elements one iteration wrote and
    another read or wrote (Bernstein's conditions, for these inputs)."""

    def __init__(self) -> None:
        self.iteration: int | None = None
        self.accessed: dict[tuple[int, tuple[int, ...]], set[int]] = {}
        self.written: set[tuple[int, tuple[int, ...]]] = set()
        self.conflicts: list[str] = []

    def prange(self, *bounds: int) -> Iterator[int]:
        assert self.iteration is None, "nested prange"
        self.accessed, self.written = {}, set()
        for i in range(*bounds):
            self.iteration = i
            yield i
        self.iteration = None
        self.conflicts += [f"argument {array} element {index}" for array, index in self.written
                           if len(self.accessed[array, index]) > 1]

    def record(self, array: int, key: Any, write: bool) -> None:
        if self.iteration is None:
            return
        element = (array, key if isinstance(key, tuple) else (key,))
        self.accessed.setdefault(element, set()).add(self.iteration)
        if write:
            self.written.add(element)


class _LoggedArray:
    """The indexing and `.shape` of an ndarray, with every element access recorded in `log`."""

    def __init__(self, array: np.ndarray, position: int, log: _AccessLog) -> None:
        self.array, self.position, self.log = array, position, log
        self.shape = array.shape

    def __getitem__(self, key: Any) -> Any:
        self.log.record(self.position, key, write=False)
        return self.array[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.log.record(self.position, key, write=True)
        self.array[key] = value


def _run_logged(fn: Callable[..., Any], kernel: Kernel, log: _AccessLog) -> tuple[Any, ...]:
    args = copy.deepcopy(kernel.inputs("mini"))
    fn(*[_LoggedArray(a, pos, log) if isinstance(a, np.ndarray) else a
         for pos, a in enumerate(args)])
    return args


def _scalars_carried(loop: ast.For) -> set[str]:
    """Names written in the loop body that are neither loop variables inside it nor assigned by a
    statement of the body before any read: their values may pass from one iteration to the next.
    Conservative: a name assigned first thing in an inner loop's body counts as carried."""
    stored = {n.id for n in ast.walk(ast.Module(body=loop.body, type_ignores=[]))
              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    private = {inner.target.id for inner in _for_loops(ast.Module(body=loop.body, type_ignores=[]))
               if isinstance(inner.target, ast.Name)}
    read_so_far: set[str] = set()
    for stmt in loop.body:
        if isinstance(stmt, ast.Assign):
            read_so_far |= {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
            private |= {t.id for t in stmt.targets
                        if isinstance(t, ast.Name) and t.id not in read_so_far}
        read_so_far |= {n.id for n in ast.walk(stmt)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return stored - private


def _loop_is_parallel(kernel: Kernel, index: int) -> bool:
    """Whether the loop version's loop `index`, alone made a prange, has independent iterations."""
    tree = _function_ast(kernel.py)
    loop = _for_loops(tree)[index]
    if _scalars_carried(loop):
        return False
    assert isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name)
    loop.iter.func.id = "prange"
    log = _AccessLog()
    namespace = {**kernel.py.__globals__, "prange": log.prange}
    exec(compile(ast.Module(body=[tree], type_ignores=[]), "<prange>", "exec"), namespace)
    _run_logged(namespace[tree.name], kernel, log)
    return not log.conflicts


def _outermost_parallel_loops(kernel: Kernel) -> set[int]:
    tree = _function_ast(kernel.py)
    loops = _for_loops(tree)
    parallel = {i for i in range(len(loops)) if _loop_is_parallel(kernel, i)}
    nested = {id(inner) for i in parallel for inner in _for_loops(loops[i])[1:]}
    return {i for i in parallel if id(loops[i]) not in nested}


# ---------------------------------------------------------------------------------------- tests


def test_prange_covers_every_kernel() -> None:
    assert list(PRANGE) == list(ALL)
    assert WITH_PRANGE, "no kernel has a prange version"


@pytest.mark.parametrize("name", WITH_PRANGE)
def test_source_differs_from_loop_version_only_by_prange(name: str) -> None:
    loop, parallel = ALL[name].py, _prange_of(name)
    assert parallel.__name__ == f"{loop.__name__}_prange"
    assert _prange_loops(parallel), f"{name}: no prange loop"
    as_range = _PrangeToRange().visit(_function_ast(parallel))
    as_range.name = loop.__name__
    assert ast.dump(as_range) == ast.dump(_function_ast(loop))


@pytest.mark.parametrize("name", list(ALL))
def test_prange_is_on_the_outermost_parallel_loops(name: str) -> None:
    got, expected = _prange_loops(PRANGE[name]), _outermost_parallel_loops(ALL[name])
    assert got == expected, f"{name}: prange on loops {sorted(got)}, not {sorted(expected)}"


@pytest.mark.parametrize("name", WITH_PRANGE)
def test_prange_iterations_are_independent(name: str) -> None:
    fn, log = _prange_of(name), _AccessLog()
    carried = [_scalars_carried(loop) for loop in _for_loops(_function_ast(fn)) if _is_prange(loop)]
    assert not any(carried), f"{name}: prange loop carries scalars {carried}"
    logged = types.FunctionType(fn.__code__, {**fn.__globals__, "prange": log.prange},
                                fn.__name__)
    got = _run_logged(logged, ALL[name], log)
    assert not log.conflicts, f"{name}: iterations share {log.conflicts[:3]}"
    expected = _run(ALL[name].py, ALL[name].inputs("mini"))
    for pos in _array_positions(got):
        assert np.array_equal(got[pos], expected[pos]), f"{name}: argument {pos}"


@pytest.mark.parametrize("name", WITH_PRANGE)
def test_numba_parallel_matches_cpython(name: str) -> None:
    fn = _prange_of(name)
    compiled = numba.njit(parallel=True)(fn)
    args = ALL[name].inputs("mini")
    expected, got = _run(ALL[name].py, args), _run(compiled, args)
    for pos in _array_positions(args):
        assert np.allclose(got[pos], expected[pos], rtol=1e-12, atol=1e-12), \
            f"{name}: argument {pos}"
    # Numba quietly runs a prange loop serially where it cannot make it a parfor.
    (overload,) = compiled.overloads.values()
    parfors = overload.metadata["parfor_diagnostics"].initial_parfors
    assert len(parfors) == len(_prange_loops(fn)), f"{name}: a prange loop stayed serial"
