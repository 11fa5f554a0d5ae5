"""The parallel runtime: thread-count settings, the pthread fallback without libgomp, what the
generated code calls, and the remarks on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import accir
from accir.runtime import get_num_threads, set_num_threads

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, tmp: Path | None = None, **env: str) -> str:
    """Run `code` in a fresh interpreter (from a file, so that accir can read its source)."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("ACCIR_NUM_THREADS", "OMP_NUM_THREADS", "ACCIR_NO_OPENMP")}
    environment.update(env)
    if tmp is None:
        command = [sys.executable, "-c", textwrap.dedent(code)]
    else:
        script = tmp / "script.py"
        script.write_text(textwrap.dedent(code))
        command = [sys.executable, str(script)]
    environment["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(("env", "expected"), [
    ({"ACCIR_NUM_THREADS": "3"}, "3"),
    ({"OMP_NUM_THREADS": "5"}, "5"),
    ({"OMP_NUM_THREADS": "4,2"}, "4"),  # one count per nesting level: the first applies
    ({"ACCIR_NUM_THREADS": "2", "OMP_NUM_THREADS": "7"}, "2"),
    ({"ACCIR_NUM_THREADS": "zero", "OMP_NUM_THREADS": "6"}, "6"),
    ({}, str(len(os.sched_getaffinity(0)))),
])
def test_thread_count_comes_from_the_environment(env: dict[str, str], expected: str) -> None:
    assert run_python("import accir; print(accir.get_num_threads())", **env) == expected


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "2"])
def test_set_num_threads_rejects_what_is_not_a_positive_int(bad: object) -> None:
    with pytest.raises(ValueError, match="positive int"):
        set_num_threads(bad)  # type: ignore[arg-type]


def test_set_num_threads_changes_compiled_code_without_recompiling() -> None:
    def kernel(a, out):
        #pragma acc parallel loop num_gangs(64)
        for i in range(a.shape[0]):
            out[i] = a[i] * 2.0

    f = accir.compile(kernel)
    a = np.arange(1000.0)
    old = get_num_threads()
    try:
        for n in (1, 2, 5):
            set_num_threads(n)
            out = np.zeros_like(a)
            f(a, out)
            np.testing.assert_array_equal(out, a * 2.0)
    finally:
        set_num_threads(old)
    assert len(f.specializations) == 1


_FALLBACK = """
import numpy as np, accir, accir.runtime
assert not accir.runtime.libgomp_loaded()
def kernel(a, h, idx):
    s = 0
    for i in range(a.shape[0]):
        s += a[i] * 3
        h[idx[i]] += 1
    return s
accir.set_num_threads(3)
f = accir.compile(kernel)
a = np.arange(100000); idx = a % 7; h = np.zeros(7, np.int64); h2 = h.copy()
print(f(a, h, idx) == kernel(a, h2, idx), np.array_equal(h, h2),
      "pthread_create" in f.inspect_llvm(optimized=False),
      "GOMP_parallel" in f.inspect_llvm(optimized=False),
      any(r.kind == "parallelized" for r in f.remarks))
"""


def test_without_libgomp_parallel_loops_run_on_pthreads(tmp_path: Path) -> None:
    assert run_python(_FALLBACK, tmp_path, ACCIR_NO_OPENMP="1") == "True True True False True"


def test_with_libgomp_parallel_loops_run_through_gomp_parallel(tmp_path: Path) -> None:
    assert run_python(_FALLBACK.replace("assert not", "assert"), tmp_path,
                      ACCIR_NO_OPENMP="0") == "True True False True True"


def test_accir_dump_prints_the_parallel_decisions(tmp_path: Path) -> None:
    source = tmp_path / "k.py"
    source.write_text(textwrap.dedent("""
        def kernel(a, b):
            for i in range(1, a.shape[0]):
                a[i] = a[i - 1] + b[i]
            for i in range(b.shape[0]):
                b[i] = b[i] * 2.0
    """))
    result = subprocess.run([sys.executable, "-m", "accir.tools.accir_dump", f"{source}::kernel",
                             "--args", "float64[::1], float64[::1]", "--remarks"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines() + result.stdout.splitlines()
    recurrence = [ln for ln in lines if "[not-parallelized]" in ln]
    assert recurrence and f"{source}:3:" in recurrence[0] and "flow dependence" in recurrence[0]
    assert any("[parallelized]" in ln and f"{source}:5:" in ln for ln in lines)
    assert "parallel(static" in result.stdout


def test_remarks_serialise_to_json() -> None:
    def kernel(a):
        s = 0
        for i in range(a.shape[0]):
            s += a[i]
        return s

    f = accir.compile(kernel)
    f(np.arange(100000))
    records = [json.loads(r.to_json()) for r in f.remarks]
    kinds = {r["kind"] for r in records}
    assert {"reduction", "parallelized"} <= kinds
    for r in records:
        assert set(r) >= {"kind", "line", "message", "file", "pass_name"}
        assert r["line"] > 0


def test_a_parallel_loop_with_step_zero_raises_like_range() -> None:
    def kernel(a):
        #pragma acc parallel loop
        for i in range(0, a.shape[0], 0):
            a[i] += 1

    with pytest.raises(ValueError, match=r"range\(\) arg 3 must not be zero"):
        accir.compile(kernel)(np.zeros(4, np.int64))


def _collapsed(A, B):
    n, m = A.shape
    #pragma acc parallel loop collapse(2)
    for i in range(n):
        for j in range(m):
            B[i, j] = A[i, j] * 2.0 + i - j
    return i * 1000003 + j


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(2, 10001), (1, 7), (5, 0), (3, 3), (17, 1000), (7, 1)])
def test_collapse_2_splits_rows_and_columns_between_threads(shape: tuple[int, int],
                                                            threads: int) -> None:
    f = accir.compile(_collapsed)
    A = np.random.default_rng(0).random(shape)
    expected_B, actual_B = np.zeros(shape), np.zeros(shape)
    old = get_num_threads()
    set_num_threads(threads)
    try:
        result = f(A, actual_B)
    finally:
        set_num_threads(old)
    # an empty inner loop leaves j unassigned: CPython raises UnboundLocalError, accir gives 0
    # (a documented difference); the values of i and j are otherwise CPython's
    if shape[1] == 0:
        assert result == (shape[0] - 1) * 1000003
    else:
        assert result == _collapsed(A, expected_B)
    np.testing.assert_array_equal(actual_B, expected_B)
    assert "collapse 2" in f.inspect_ir()


def _dimension_of_an_array_the_loop_does_not_use(ex, ey, fict):
    nx, ny = ex.shape
    for j in range(ny):  # uses ny (a dimension of ex) but not ex itself
        ey[0, j] = fict[0] + nx
    return nx


def test_scalars_holding_a_dimension_of_an_array_the_loop_does_not_receive() -> None:
    f = accir.compile(_dimension_of_an_array_the_loop_does_not_use, pipeline=(
        "normalize,bounds-check-hoist,mark-independent-loops,auto-parallelize{min_work=1}"))
    ex, ey, fict = np.zeros((3, 5000)), np.zeros((3, 5000)), np.ones(1)
    assert f(ex, ey, fict) == 3
    np.testing.assert_array_equal(ey[0], np.full(5000, 4.0))
    assert "parallel(" in f.inspect_ir()


# --- which parallel bodies skip the per-piece look at the failure mark ----------------------


def _loop_body(stmts: str, loop: str = "for %i = 0 to %n step 1") -> tuple:
    from accir.ir.parser import parse_module

    module = parse_module(f"""
func @f(%a: memref<?xf64, C>, %n: pyint, %m: pyint) -> none {{
  var %i: pyint, %j: pyint, %t: f64
  L0: {loop} {{
    {stmts}
  }}
}}
""")
    return module.functions[0].body[0].body


@pytest.mark.parametrize("stmts,expected", [
    ("S0: %a[%i; unchecked] = 1.0:f64", True),
    ("S0: %t = (%a[%i; unchecked] * 2.0:f64)\n    S1: %a[%i; unchecked] = %t", True),
    ("S0: %a[%i] = 1.0:f64", False),  # a checked store can raise IndexError
    ("S0: %a[%i; unchecked] = f64((%n // %m))", False),  # ZeroDivisionError
    ("L1: for %j = 0 to %n step %m {\n      S0: %a[%j; unchecked] = 0.0:f64\n    }", False),
    ("L1: for %j = 0 to %n step 2 {\n      S0: %a[%j; unchecked] = 0.0:f64\n    }", True),
])
def test_cannot_fail(stmts, expected):
    from accir.passes.loop_nests import cannot_fail

    assert cannot_fail(_loop_body(stmts)) is expected
