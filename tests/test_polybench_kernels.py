"""The PolyBench kernels of benchmarks/polybench.py at the "mini" size: the loop version agrees
with the NumPy version, and accir's compiled loop version gives exactly CPython's results."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import accir
from benchmarks.polybench import POLYBENCH

NAMES = sorted(POLYBENCH)


def _run(fn: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    args = copy.deepcopy(args)
    fn(*args)
    return args


@pytest.mark.parametrize("name", NAMES)
def test_sizes_and_outputs(name: str) -> None:
    kernel = POLYBENCH[name]
    assert set(kernel.sizes) == {"mini", "small", "medium"}
    args = kernel.inputs("mini")
    for pos in kernel.outputs:
        assert isinstance(args[pos], np.ndarray) and args[pos].dtype == np.float64
    assert kernel.flops(kernel.sizes["medium"]) > kernel.flops(kernel.sizes["mini"]) > 0


@pytest.mark.parametrize("name", [n for n in NAMES if POLYBENCH[n].numpy is not None])
def test_loops_match_numpy(name: str) -> None:
    kernel = POLYBENCH[name]
    assert kernel.numpy is not None
    args = kernel.inputs("mini")
    loops, vectorised = _run(kernel.py, args), _run(kernel.numpy, args)
    for pos in kernel.outputs:
        assert np.allclose(loops[pos], vectorised[pos], rtol=1e-9), f"{name}: argument {pos}"
        assert np.all(np.isfinite(loops[pos]))


@pytest.mark.parametrize("name", NAMES)
def test_accir_matches_cpython_bitwise(name: str) -> None:
    kernel = POLYBENCH[name]
    args = kernel.inputs("mini")
    expected, compiled = _run(kernel.py, args), _run(accir.compile(kernel.py), args)
    for pos in range(len(args)):
        if isinstance(args[pos], np.ndarray):
            assert np.array_equal(compiled[pos], expected[pos]), f"{name}: argument {pos}"
