"""Compile every kernel in examples/, show what the passes did, check the results against
CPython, and time CPython, NumPy and accir on the same inputs.

Run it with `make demo` (or `python examples/demo.py [--quick]`).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import accir  # noqa: E402
from accir.ir.printer import print_module  # noqa: E402

KERNELS = ["saxpy", "matmul", "jacobi", "mandelbrot", "histogram", "seidel"]


def median_time(fn: Any, args: tuple, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        fresh = copy.deepcopy(args)
        start = time.perf_counter()
        fn(*fresh)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return a == b or (a != a and b != b)


def check(name: str, fn: Any, compiled: Any, args: tuple) -> None:
    expected_args, actual_args = copy.deepcopy(args), copy.deepcopy(args)
    expected = fn(*expected_args)
    actual = compiled(*actual_args)
    ok = same(expected, actual) and all(
        same(e, a) for e, a in zip(expected_args, actual_args, strict=True))
    if not ok:
        raise SystemExit(f"{name}: accir's result differs from CPython's")


def describe(name: str, compiled: Any) -> None:
    spec = compiled.specializations[-1]
    changed = ", ".join(spec.changed_by) or "none"
    print(f"  passes that changed the IR: {changed}")
    for remark in spec.remarks:
        where = f"{Path(remark.file).name}:{remark.line}"
        print(f"  remark {where}: [{remark.kind}] {remark.message}")
    print("  result identical to CPython's")


def show_ir(compiled: Any) -> None:
    spec = compiled.specializations[-1]
    print("  IR from the frontend:")
    print("    " + print_module(spec.frontend_ir).rstrip().replace("\n", "\n    "))
    print("  IR after the passes:")
    print("    " + print_module(spec.ir).rstrip().replace("\n", "\n    "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    options = parser.parse_args()
    scale, repeats = (4, 3) if options.quick else (1, 5)
    rows = []
    for k, name in enumerate(KERNELS):
        module = importlib.import_module(name)
        fn = getattr(module, name)
        print(f"== {name} ({Path(module.__file__).name}) ==")
        compiled = accir.compile(fn)
        start = time.perf_counter()
        check(name, fn, compiled, module.setup(8))
        first_call = time.perf_counter() - start
        describe(name, compiled)
        if k == 0:
            show_ir(compiled)
        args = module.setup(scale)
        compiled(*copy.deepcopy(args))  # compile for the full-size signature (same types)
        t_accir = median_time(compiled, args, repeats)
        t_python = median_time(fn, args, 1)
        numpy_version = getattr(module, "numpy_version", None)
        t_numpy = median_time(numpy_version, args, repeats) if numpy_version else None
        rows.append((name, t_python, t_numpy, t_accir, first_call))
        print()
    print_table(rows)


def print_table(rows: list[tuple[str, float, float | None, float, float]]) -> None:
    print("| kernel | CPython ms | NumPy ms | accir ms | accir vs CPython | accir vs NumPy "
          "| first call s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, py, npy, acc, first in rows:
        numpy_ms = f"{npy * 1e3:.2f}" if npy else "-"
        vs_numpy = f"{npy / acc:.1f}x faster" if npy and npy >= acc else (
            f"{acc / npy:.1f}x slower" if npy else "-")
        print(f"| {name} | {py * 1e3:.1f} | {numpy_ms} | {acc * 1e3:.2f} "
              f"| {py / acc:.0f}x faster | {vs_numpy} | {first:.2f} |")


if __name__ == "__main__":
    main()
