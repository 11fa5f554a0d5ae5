"""Tests of the `accir-dump` command, driven through `main([...])`.

Pipelines use test-only passes registered here (names `test-dump-*`), so that the tests do not
depend on the passes of the default pipeline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark, UnsupportedError
from accir.ir import types as T
from accir.ir.nodes import Module
from accir.ir.parser import parse_module
from accir.passes.base import Pass, PassResult
from accir.passes.manager import BANNER
from accir.passes.registry import register
from accir.tools.accir_dump import main, parse_signature


@register
@dataclass(frozen=True)
class DumpNoop(Pass):
    name = "test-dump-noop"
    summary = "change nothing"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return PassResult(module)


@register
@dataclass(frozen=True)
class DumpTag(Pass):
    name = "test-dump-tag"
    summary = "append a suffix to the entry function's name, and say so"
    suffix: str = "_t"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        entry = dataclasses.replace(module.entry, name=module.entry.name + self.suffix)
        remark = Remark("rename", f"renamed @{module.entry.name}", "k.py", 3)
        return PassResult(Module((entry, *module.functions[1:])), remarks=(remark,))


@register
@dataclass(frozen=True)
class DumpFail(Pass):
    name = "test-dump-fail"
    summary = "report an error"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        raise UnsupportedError(f"cannot handle @{module.entry.name}")


KERNELS = """\
import math

def saxpy(a, x, y):
    for i in range(x.shape[0]):
        y[i] = a * x[i] + y[i]


def stencil(A, B):
    n, m = A.shape
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            B[i, j] = 0.25 * (A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])


def bad(x):
    x[0] = undefined_function(1)


class Kernels:
    @staticmethod
    def scale(x, s):
        for i in range(x.shape[0]):
            x[i] = x[i] * s


class Wrapper:
    def __init__(self, fn):
        self.py_func = fn


wrapped = Wrapper(saxpy)
"""

SAXPY_ARGS = "float64, float64[:], float64[::1]"
STENCIL_ARGS = "float64[:, ::1], float64[:, :]"
NOOP = ["--pipeline", "test-dump-noop"]


@pytest.fixture
def kernels(tmp_path: Path) -> str:
    path = tmp_path / "kernels.py"
    path.write_text(KERNELS)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def banner(name: str) -> str:
    return BANNER.format(name)


# ---------------------------------------------------------------- Python functions


def test_saxpy(kernels: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS, *NOOP)
    assert (status, err) == (0, "")
    assert out.startswith(
        "func @saxpy(%a: f64, %x: memref<?xf64, A>, %y: memref<?xf64, C>) -> none {\n")
    assert parse_module(out).entry.name == "saxpy"


def test_stencil_print_after_all(kernels: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = [f"{kernels}::stencil", "--args", STENCIL_ARGS]
    _, before, _ = run(capsys, *target, *NOOP)
    _, after, _ = run(capsys, *target, "--pipeline", "test-dump-tag")
    assert before.startswith("func @stencil(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, A>)")
    assert after == before.replace("@stencil(", "@stencil_t(")
    status, out, _ = run(capsys, *target, "--pipeline", "test-dump-noop,test-dump-tag",
                         "--print-ir-after-all")
    assert status == 0
    assert out == (f"{banner('test-dump-noop')}\n{before}\n"
                   f"{banner('test-dump-tag')}\n{after}\n{after}")


@pytest.mark.parametrize(("options", "printed"), [
    (["--print-ir-after=test-dump-tag"], ["test-dump-tag"]),
    (["--print-ir-after", "test-dump-noop, test-dump-tag"], ["test-dump-noop", "test-dump-tag"]),
    (["--print-ir-after-change"], ["test-dump-tag"]),
    (["--print-ir-after-all", "--print-ir-after-change"], ["test-dump-tag"]),
])
def test_print_options(kernels: str, capsys: pytest.CaptureFixture[str], options: list[str],
                       printed: list[str]) -> None:
    status, out, _ = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS,
                         "--pipeline", "test-dump-noop,test-dump-tag", *options)
    assert status == 0
    assert [line.split()[5] for line in out.splitlines() if "IR Dump" in line] == printed


def test_time_passes_and_remarks(kernels: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS, "--time-passes",
                         "--remarks", "--pipeline", "test-dump-noop,test-dump-tag")
    assert status == 0
    assert out.index("Execution time report") < out.index("remark:") < out.index("func @saxpy_t")
    assert "k.py:3: remark: [rename] renamed @saxpy\n" in out
    assert "  test-dump-tag\n" in out


def test_dump_dir(kernels: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stages = tmp_path / "stages"
    status, _, _ = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS, "--dump-dir",
                       str(stages), "--pipeline", "test-dump-tag")
    assert status == 0
    assert sorted(p.name for p in stages.iterdir()) == ["00-input.accir", "01-test-dump-tag.accir"]


def test_methods_and_wrapped_functions(kernels: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, f"{kernels}::Kernels.scale", "--args", "float32[::1], float32",
                         *NOOP)
    assert status == 0 and out.startswith("func @Kernels.scale(%x: memref<?xf32, C>, %s: f32)")
    status, out, _ = run(capsys, f"{kernels}::wrapped", "--args", SAXPY_ARGS, *NOOP)
    assert status == 0 and out.startswith("func @saxpy(")


def test_accir_compiled_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "decorated.py"
    path.write_text("import accir\n\n@accir.compile\ndef double(x):\n"
                    "    for i in range(x.shape[0]):\n        x[i] = 2 * x[i]\n")
    status, out, _ = run(capsys, f"{path}::double", "--args", "int64[:]", *NOOP)
    assert status == 0 and out.startswith("func @double(%x: memref<?xi64, A>)")


@pytest.mark.parametrize(("emit", "expected"), [
    ("llvm", "define "), ("llvm-opt", "define "), ("asm", "saxpy")])
def test_emit(kernels: str, capsys: pytest.CaptureFixture[str], emit: str, expected: str) -> None:
    status, out, _ = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS, f"--emit={emit}",
                         "--opt-level", "1", *NOOP)
    assert status == 0 and expected in out
    assert "func @" not in out


def test_default_pipeline(kernels: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("accir.passes.normalize")
    pytest.importorskip("accir.passes.bounds_check_hoist")
    status, out, _ = run(capsys, f"{kernels}::stencil", "--args", STENCIL_ARGS,
                         "--print-ir-after-all")
    assert status == 0
    assert banner("normalize") in out and banner("bounds-check-hoist") in out
    status, out, _ = run(capsys, "--list-passes")
    assert status == 0 and "normalize" in out and "test-dump-tag" in out


# ---------------------------------------------------------------- signatures


@pytest.mark.parametrize(("text", "specs"), [
    ("float64[:]", [T.ArrayType(T.F64, 1, "A")]),
    ("float64[:, :]", [T.ArrayType(T.F64, 2, "A")]),
    ("float64[::1]", [T.ArrayType(T.F64, 1, "C")]),
    ("float32[:, ::1]", [T.ArrayType(T.F32, 2, "C")]),
    ("complex128[::1, :, :]", [T.ArrayType(T.C128, 3, "F")]),
    ("bool[:], uint8[:,::1]", [T.ArrayType(T.BOOL, 1, "A"), T.ArrayType(T.U8, 2, "C")]),
    ("int, float, complex, bool", [T.PYINT, T.PYFLOAT, T.PYCOMPLEX, T.PYBOOL]),
    ("int8, int16, int32, int64, uint64", [T.I8, T.I16, T.I32, T.I64, T.U64]),
    ("f8, i4, c8, bool_, float32", [T.F64, T.I32, T.C64, T.BOOL, T.F32]),
    ("  ", []),
])
def test_parse_signature(text: str, specs: list[object]) -> None:
    assert parse_signature(text) == specs


@pytest.mark.parametrize(("args", "message"), [
    ("flaot64[:]", "unknown type 'flaot64'\nhint: did you mean 'float64'?"),
    ("object", "type 'object' is not supported"),
    ("object[:]", "type 'object' is not supported"),
    ("U10", "type 'U10' (<U10) is not supported"),
    ("float64[1:]", "cannot read the dimensions of 'float64[1:]'"),
    ("float64[]", "cannot read the dimensions of 'float64[]'"),
    ("float64[:, ::1, :]", "'::1' in 'float64[:, ::1, :]' must mark the last dimension"),
    ("float64[::1, ::1]", "'::1' in 'float64[::1, ::1]' must mark"),
    ("float64[:, int", "unbalanced '['"),
    ("float64], int", "unbalanced ']'"),
    ("2x, int", "cannot read argument type '2x'"),
    ("float64, , int", "cannot read argument type ''"),
    ("float64, float64[:]", "saxpy(a, x, y) takes 3 argument(s), but --args gives 2"),
])
def test_signature_errors(kernels: str, capsys: pytest.CaptureFixture[str], args: str,
                          message: str) -> None:
    status, out, err = run(capsys, f"{kernels}::saxpy", "--args", args, *NOOP)
    assert (status, out) == (2, "")
    assert err.startswith("usage: accir-dump")
    assert f"accir-dump: error: {message}" in err


# ---------------------------------------------------------------- command-line errors


@pytest.mark.parametrize(("argv", "message"), [
    (["{k}::saxpyy", "--args", "int"], "{k} has no function 'saxpyy'\nhint: did you mean 'saxpy'?"),
    (["{k}::Kernels.scal", "--args", "int"], "{k} has no function 'Kernels.scal'"),
    (["{k}::math", "--args", "int"], "'math' in {k} is not a Python function"),
    (["{k}::saxpy"], "--args is required for {k}::saxpy"),
    (["{k}"], "expected FILE.py::FUNCTION or FILE.accir, got '{k}'"),
    (["missing.py::f", "--args", "int"], "no such file: missing.py"),
    (["missing.accir"], "no such file: missing.accir"),
    ([], "missing FILE.py::FUNC or FILE.accir"),
])
def test_usage_errors(kernels: str, capsys: pytest.CaptureFixture[str], argv: list[str],
                      message: str) -> None:
    status, out, err = run(capsys, *[a.format(k=kernels) for a in argv], *NOOP)
    assert (status, out) == (2, "")
    assert f"accir-dump: error: {message.format(k=kernels)}" in err


def test_argparse_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "x.accir", "--emit=obj")
    assert status == 2 and "invalid choice: 'obj'" in err
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "examples:" in out and "float64[::1, :]" in out and "--print-ir-after-change" in out


def test_import_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.py"
    path.write_text("x = 1 / 0\n")
    status, _, err = run(capsys, f"{path}::f", "--args", "int")
    assert status == 1
    assert f"accir-dump: error: importing {path} failed: ZeroDivisionError" in err


def test_compile_error_has_location_and_caret(kernels: str, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    status, out, err = run(capsys, f"{kernels}::bad", "--args", "float64[:]", *NOOP)
    assert (status, out) == (1, "")
    assert err.startswith(f"{kernels}:16:")
    assert "undefined_function(1)" in err and "^" in err


def test_pipeline_error(kernels: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS,
                           "--pipeline", "test-dump-noop,test-dump-tga")
    assert (status, out) == (1, "")
    assert err.splitlines()[:3] == [
        "error: unknown pass 'test-dump-tga'",
        "    test-dump-noop,test-dump-tga",
        "                   ^",
    ]
    assert "did you mean 'test-dump-tag'?" in err
    status, _, err = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS, *NOOP,
                         "--print-ir-after=test-dump-tag")
    assert status == 1 and "cannot print the IR after pass 'test-dump-tag'" in err


# ---------------------------------------------------------------- .accir input

SOURCE = """\
func @f(%A: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint
  L0: for %i = 0 to %n step 1 {
    S0: %A[%i] = (%A[%i] * 2.0:f64)
  }
}
"""


def test_accir_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.accir"
    path.write_text(SOURCE)
    status, out, _ = run(capsys, str(path), "--pipeline", "test-dump-tag{suffix=_x}")
    assert status == 0
    assert out == SOURCE.replace("@f(", "@f_x(")
    status, _, err = run(capsys, str(path), "--args", "int")
    assert status == 2 and "--args applies to Python functions" in err


def test_accir_parse_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.accir"
    path.write_text("// a comment\nfunc @f() -> none {\n  S0: return $\n}\n")
    status, out, err = run(capsys, str(path), *NOOP)
    assert (status, out) == (1, "")
    assert err.startswith(f"{path}:3:")
    assert "    S0: return $\n" in err and "^" in err


def test_reproducer_round_trip(kernels: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    repro = tmp_path / "repro.accir"
    pipeline = "test-dump-tag,test-dump-fail,test-dump-noop"
    status, _, err = run(capsys, f"{kernels}::saxpy", "--args", SAXPY_ARGS, "--pipeline",
                         pipeline, "--reproducer", str(repro))
    assert status == 1 and "error: cannot handle @saxpy_t" in err
    header, _, ir = repro.read_text().partition("\n")
    assert header == f'// accir-reproducer: pipeline="{pipeline}" failing-pass="test-dump-fail"'
    assert ir.startswith("func @saxpy_t(")
    status, _, err = run(capsys, str(repro))  # re-runs the failing pass
    assert status == 1 and "error: cannot handle @saxpy_t" in err
    status, out, _ = run(capsys, str(repro), *NOOP)
    assert status == 0 and out == ir

