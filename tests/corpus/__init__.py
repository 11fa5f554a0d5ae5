"""A corpus of plain-Python array kernels for differential testing of accir.

Each module of this package groups kernels by theme and exposes `CASES`, a list of `Case`
entries. `make_args(rng, size)` builds fresh arguments (NumPy arrays and scalars) from a
`numpy.random.Generator`; tests/test_differential.py runs every case with CPython and with both
accir targets and compares the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MODULES = ("stencils", "linalg", "triangular", "reductions", "control", "integers", "types",
           "features")


@dataclass(frozen=True)
class Case:
    """One kernel and how to build its arguments.

    fn: the plain Python function (or a bound method) that is compiled.
    make_args: `make_args(rng, size) -> tuple` of fresh arguments.
    sizes: the problem sizes to run.
    rtol: 0 compares results exactly; otherwise the relative tolerance for float results
        (kernels that call transcendental functions).
    rtol32: the tolerance of the float32 variant (defaults to 1e-5 where rtol is set).
    layouts: also run with Fortran-ordered copies and strided views of the array arguments.
    float32: also run with float64 arrays (and complex128 ones) narrowed to float32 (complex64).
    name: the id of the case, by default the function's __name__.
    derive: builds the arguments passed from the (copied, transformed) ones made by make_args,
        e.g. overlapping views of one buffer.
    """

    fn: Callable[..., Any]
    make_args: Callable[[np.random.Generator, int], tuple[Any, ...]]
    sizes: tuple[int, ...] = (1, 5, 17)
    rtol: float = 0.0
    rtol32: float | None = None
    layouts: bool = True
    float32: bool = True
    name: str | None = None
    derive: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None

    @property
    def id(self) -> str:
        return self.name or self.fn.__name__


# --- argument builders used by the corpus modules -----------------------------------------


def floats(rng: np.random.Generator, *shape: int, lo: float = -1.0, hi: float = 1.0
           ) -> np.ndarray:
    """float64 array with values in [lo, hi)."""
    return rng.uniform(lo, hi, size=shape)


def ints(rng: np.random.Generator, lo: int, hi: int, *shape: int, dtype: Any = np.int64
         ) -> np.ndarray:
    """Integer array with values in [lo, hi) of the given dtype."""
    return rng.integers(lo, hi, size=shape, dtype=np.int64).astype(dtype)


def complexes(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-1, 1, size=shape) + 1j * rng.uniform(-1, 1, size=shape)


def spd(rng: np.random.Generator, n: int) -> np.ndarray:
    """A symmetric positive definite n x n matrix."""
    m = rng.uniform(-1, 1, size=(n, n))
    return m @ m.T + n * np.eye(n)
