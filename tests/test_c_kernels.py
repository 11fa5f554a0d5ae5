"""The C baseline of benchmarks/c_kernels.py: every kernel at the "mini" size agrees with CPython
running the loop version, with 1 and 2 OpenMP threads; the callables check their arguments; the
machine-limit measurements return sensible numbers. Skipped only when gcc or the build is missing.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections.abc import Iterator
from functools import cache
from typing import Any

import numpy as np
import pytest

from benchmarks import c_kernels
from benchmarks.c_kernels import (
    ALL_KERNELS,
    C_SIGNATURES,
    c_available,
    c_kernel,
    c_unavailable_reason,
    get_c_threads,
    machine_limits,
    set_c_threads,
)

if not c_available():
    pytest.skip(f"C baseline unavailable: {c_unavailable_reason()}", allow_module_level=True)

NAMES = sorted(ALL_KERNELS)
# Relative agreement with CPython; the absolute term covers entries near zero after cancellation,
# where an FMA (GCC contracts a*b + c by default) moves the last bits of a small difference.
RTOL = ATOL = 1e-12
FMA_CONTRACTION = "-ffp-contract=off" not in c_kernels.CFLAGS


@pytest.fixture
def threads() -> Iterator[None]:
    previous = get_c_threads()
    yield
    set_c_threads(previous)


def _run(fn: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    args = copy.deepcopy(args)
    fn(*args)
    return args


@cache
def _cpython(name: str) -> tuple[Any, ...]:
    kernel = ALL_KERNELS[name]
    return _run(kernel.py, kernel.inputs("mini"))


def _c(name: str, n_threads: int) -> tuple[Any, ...]:
    set_c_threads(n_threads)
    fn = c_kernel(name)
    assert fn is not None
    return _run(fn, ALL_KERNELS[name].inputs("mini"))


def _bitwise(name: str, got: tuple[Any, ...], want: tuple[Any, ...]) -> bool:
    return all(np.array_equal(got[p], want[p]) for p in ALL_KERNELS[name].outputs)


def test_every_kernel_has_a_c_version() -> None:
    assert len(ALL_KERNELS) == 23
    assert set(C_SIGNATURES) == set(ALL_KERNELS)


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_the_loop_versions(name: str) -> None:
    kernel = ALL_KERNELS[name]
    fn = c_kernel(name)
    assert fn is not None
    assert inspect.signature(fn) == inspect.signature(kernel.py)
    spec_names = [item.split("[")[0].removesuffix(":int") for item in C_SIGNATURES[name]]
    assert spec_names == list(inspect.signature(kernel.py).parameters)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_matches_cpython(name: str, n_threads: int, threads: None,
                         record_property: Any) -> None:
    want, got = _cpython(name), _c(name, n_threads)
    for pos in ALL_KERNELS[name].outputs:
        assert np.allclose(got[pos], want[pos], rtol=RTOL, atol=ATOL), f"argument {pos}"
    record_property("bitwise", _bitwise(name, got, want))


@pytest.mark.parametrize("name", NAMES)
def test_two_threads_give_the_serial_result_bit_for_bit(name: str, threads: None) -> None:
    # The parallel loops keep each iteration's inner order, so the thread count changes nothing.
    assert _bitwise(name, _c(name, 2), _c(name, 1))


def test_bitwise_report(threads: None) -> None:
    """All bitwise without FMA contraction; with it, say which kernels differ in the last bits."""
    differing = [n for n in NAMES if not _bitwise(n, _c(n, 1), _cpython(n))]
    if not FMA_CONTRACTION:
        assert differing == []
    elif differing:
        warnings.warn(f"C results not bitwise equal to CPython's (FMA contraction): "
                      f"{', '.join(differing)}", stacklevel=1)


def _gemm_args() -> list[Any]:
    return list(ALL_KERNELS["gemm"].inputs("mini"))


@pytest.mark.parametrize("bad", [
    lambda C: np.asfortranarray(C),
    lambda C: np.zeros((C.shape[0], 2 * C.shape[1]))[:, ::2],
    lambda C: C.astype(np.float32),
    lambda C: C.tolist(),
], ids=["fortran-order", "strided", "float32", "list"])
def test_bad_array_raises_type_error(bad: Any) -> None:
    args = _gemm_args()
    args[2] = bad(args[2])
    fn = c_kernel("gemm")
    assert fn is not None
    with pytest.raises(TypeError):
        fn(*args)


def test_inconsistent_shapes_or_read_only_output_raise_value_error() -> None:
    fn = c_kernel("gemm")
    assert fn is not None
    args = _gemm_args()
    args[4] = args[4][:-1].copy()  # B must be nk x nj
    with pytest.raises(ValueError, match="inconsistent shapes"):
        fn(*args)
    args = _gemm_args()
    args[2].flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fn(*args)


def test_keyword_arguments_work_like_the_loop_version() -> None:
    fn = c_kernel("saxpy")
    assert fn is not None
    a, x, y = ALL_KERNELS["saxpy"].inputs("mini")
    expected = a * x + y
    fn(a, x=x, y=y)
    assert np.allclose(y, expected, rtol=RTOL, atol=0)
    with pytest.raises(TypeError):
        fn(a, x)


def test_unknown_kernel_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        c_kernel("no-such-kernel")


def test_build_is_keyed_by_the_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    before = c_kernels._library_path()
    monkeypatch.setattr(c_kernels, "CFLAGS", (*c_kernels.CFLAGS, "-DCHANGED"))
    assert c_kernels._library_path() != before


def test_machine_limits_are_positive_and_finite(threads: None) -> None:
    set_c_threads(1)
    limits = machine_limits(2)
    assert get_c_threads() == 1  # restored
    assert limits["threads"] == 2
    for key in ("triad_gbs", "fma_gflops"):
        assert math.isfinite(limits[key]) and limits[key] > 0, key
