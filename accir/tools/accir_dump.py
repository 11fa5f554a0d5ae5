"""`accir-dump`: show what accir makes of a function, pass by pass.

Everything goes to stdout (IR dumps and timings first, the final output last), so that it can
be piped; errors go to stderr. Exit status: 0 on success, 1 when accir reports an error about
the program (or the user's file fails to import), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from accir.diagnostics import AccirError
from accir.frontend.lower import ArgSpec, lower_function
from accir.ir.nodes import Module
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.ir.types import PYBOOL, PYCOMPLEX, PYFLOAT, PYINT, ArrayType, from_dtype
from accir.passes.manager import Instruments, PassManager, default_pipeline
from accir.passes.registry import all_passes, did_you_mean

DESCRIPTION = """\
Lower a Python function (or read textual loop IR), run a pass pipeline over it and print the
result: the final loop IR, or the LLVM IR / assembly the CPU backend makes of it."""

EPILOG = """\
argument types (--args), Numba style:
  float64, int64, complex128, bool_, f8, i4 ...   NumPy scalars (strong types)
  int, float, complex, bool                       Python scalars (weak types)
  float64[:], float64[:, :]                       arrays with any strides (layout A)
  float64[::1], float64[:, ::1]                   C-contiguous arrays
  float64[::1, :]                                 Fortran-contiguous arrays

examples:
  accir-dump kernels.py::saxpy --args "float64, float64[::1], float64[::1]"
  accir-dump kernels.py::jacobi --args "float64[:, ::1], float64[:, ::1], int" --print-ir-after-all
  accir-dump kernels.py::Solver.step --args "float64[:]" --emit=asm --opt-level 2
  accir-dump stage.accir --pipeline "normalize" --time-passes
  accir-dump reproducer.accir            (re-runs the pass that failed)
"""

_WEAK = {"int": PYINT, "float": PYFLOAT, "complex": PYCOMPLEX, "bool": PYBOOL}
_DTYPE_NAMES = ["bool", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float32", "float64", "complex64", "complex128", *_WEAK]
_ARG = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(.*)\])?\s*", re.DOTALL)
_REPRODUCER = re.compile(r'// accir-reproducer: pipeline="[^"]*" failing-pass="([^"]*)"')


class ToolError(Exception):
    """A problem with the command line (status 2) or the user's file (status 1)."""

    def __init__(self, message: str, status: int = 2, hint: str | None = None):
        super().__init__(message)
        self.status = status
        self.hint = hint


# ---------------------------------------------------------------- signatures


def parse_signature(text: str) -> list[ArgSpec]:
    """Argument types from Numba-like text: `"float64[:, ::1], int"`."""
    if not text.strip():
        return []
    return [_parse_arg(item) for item in _split_top_level(text)]


def _split_top_level(text: str) -> list[str]:
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth < 0:
            raise ToolError(f"unbalanced ']' in argument types '{text}'")
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth:
        raise ToolError(f"unbalanced '[' in argument types '{text}'")
    return [*items, text[start:]]


def _parse_arg(item: str) -> ArgSpec:
    match = _ARG.fullmatch(item)
    if match is None:
        raise ToolError(f"cannot read argument type '{item.strip()}'",
                        hint="write e.g. float64, int or float64[:, ::1]")
    name, dims = match.groups()
    if dims is None and name in _WEAK:
        return _WEAK[name]
    dtype = _scalar_type(name)
    if dims is None:
        return dtype
    ndim, layout = _layout(dims, item.strip())
    return ArrayType(dtype, ndim, layout)


def _scalar_type(name: str) -> Any:
    if name == "object":
        raise ToolError("type 'object' is not supported: accir compiles numeric types only")
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        hint = did_you_mean(name, _DTYPE_NAMES, "types")
        raise ToolError(f"unknown type '{name}'", hint=hint) from None
    try:
        return from_dtype(dtype)
    except KeyError:
        raise ToolError(f"type '{name}' ({dtype}) is not supported",
                        hint="use bool, intN, uintN, floatN or complexN") from None


def _layout(dims: str, item: str) -> tuple[int, str]:
    parts = [part.replace(" ", "") for part in dims.split(",")]
    if any(part not in (":", "::1") for part in parts):
        raise ToolError(f"cannot read the dimensions of '{item}'",
                        hint="each dimension is ':' or '::1', e.g. float64[:, ::1]")
    contiguous = [i for i, part in enumerate(parts) if part == "::1"]
    if not contiguous:
        return len(parts), "A"
    if contiguous == [len(parts) - 1]:
        return len(parts), "C"
    if contiguous == [0]:
        return len(parts), "F"
    raise ToolError(f"'::1' in '{item}' must mark the last dimension (C order) or the first "
                    "(Fortran order), and only one of them")


# ---------------------------------------------------------------- inputs


def load_function(path: Path, qualname: str) -> Any:
    """Import `path` and return its function `qualname` (unwrapping compiled functions)."""
    module = _import_file(path)
    obj: Any = module
    for part in qualname.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n, v in vars(module).items()
                           if callable(v) and not n.startswith("_"))
            raise ToolError(f"{path} has no function '{qualname}'",
                            hint=did_you_mean(qualname, names, "functions"))
        obj = getattr(obj, part)
    obj = getattr(obj, "py_func", obj)  # accir.CompiledFunction (or a Numba dispatcher)
    if not inspect.isfunction(obj):
        raise ToolError(f"'{qualname}' in {path} is not a Python function")
    return obj


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise ToolError(f"no such file: {path}")
    name = re.sub(r"\W", "_", path.stem)
    if not name.isidentifier() or getattr(sys.modules.get(name), "__file__", None) not in (
            None, str(path.resolve())):
        name = f"_accir_dump_{name}"
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(name, None)
        raise ToolError(f"importing {path} failed: {type(e).__name__}: {e}", 1) from None
    finally:
        sys.path.remove(folder)
    return module


def _check_arity(fn: Any, specs: list[ArgSpec], qualname: str) -> None:
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return
    required = sum(p.default is p.empty for p in params)
    if not required <= len(specs) <= len(params):
        names = ", ".join(p.name for p in params)
        raise ToolError(f"{qualname}({names}) takes {len(params)} argument(s), "
                        f"but --args gives {len(specs)}")


def load_input(target: str, args_text: str | None) -> tuple[Module, str | None]:
    """The module to run, and the pipeline a reproducer file asks for (if it is one)."""
    if target.endswith(".accir"):
        if args_text is not None:
            raise ToolError("--args applies to Python functions, not to .accir files")
        path = Path(target)
        if not path.is_file():
            raise ToolError(f"no such file: {path}")
        text = path.read_text()
        header = _REPRODUCER.match(text)
        return parse_module(text, str(path)), header.group(1) if header else None
    file, sep, qualname = target.rpartition("::")
    if not sep or not file or not qualname:
        raise ToolError(f"expected FILE.py::FUNCTION or FILE.accir, got '{target}'")
    if args_text is None:
        raise ToolError(f"--args is required for {target}",
                        hint='e.g. --args "float64[:, ::1], int"')
    specs = parse_signature(args_text)
    fn = load_function(Path(file), qualname)
    _check_arity(fn, specs, qualname)
    return lower_function(fn, specs).module, None


# ---------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="accir-dump", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", nargs="?", metavar="FILE.py::FUNC | FILE.accir",
                   help="a function (a dotted name such as Class.method) or textual loop IR")
    p.add_argument("--args", metavar="TYPES", help="argument types, e.g. 'float64[:, ::1], int'")
    p.add_argument("--pipeline", metavar="STR",
                   help="pass pipeline, e.g. 'normalize,bounds-check-hoist' (default: the "
                        "default pipeline)")
    p.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass")
    p.add_argument("--print-ir-after", metavar="PASS,...", default="",
                   help="print the IR after the named passes")
    p.add_argument("--print-ir-after-change", action="store_true",
                   help="print the IR only after passes that changed it")
    p.add_argument("--time-passes", action="store_true", help="print a wall-time table")
    p.add_argument("--dump-dir", metavar="DIR", help="write NN-<pass>.accir after every pass")
    p.add_argument("--reproducer", metavar="FILE",
                   help="when a pass fails, write its input IR and the pipeline to FILE")
    p.add_argument("--remarks", action="store_true", help="print the remarks of the passes")
    p.add_argument("--print-dependences", action="store_true",
                   help="print the dependence graph (one 'dep ...' line per dependence) of "
                   "the IR after normalize, or after the --pipeline given")
    p.add_argument("--emit", choices=("ir", "llvm", "llvm-opt", "asm"), default="ir",
                   help="final output: loop IR (default), LLVM IR before/after optimisation, "
                        "or assembly")
    p.add_argument("--opt-level", type=int, default=3, metavar="N", help="LLVM -O level (3)")
    p.add_argument("--list-passes", action="store_true", help="list the passes and exit")
    return p


def _instruments(args: argparse.Namespace) -> Instruments:
    return Instruments(
        print_after_all=args.print_ir_after_all,
        print_after=frozenset(n.strip() for n in args.print_ir_after.split(",") if n.strip()),
        print_after_change=args.print_ir_after_change,
        time_passes=args.time_passes,
        dump_dir=args.dump_dir,
        reproducer=args.reproducer,
        stream=sys.stdout,
    )


def _with_dependence_printing(pipeline: str, explicit: bool) -> str:
    """Print dependences after normalize in the default pipeline (before loops are versioned),
    at the end of an explicit one."""
    if not explicit and pipeline.startswith("normalize"):
        return pipeline.replace("normalize", "normalize,test-print-dependences", 1)
    return pipeline + ",test-print-dependences"


def _run(args: argparse.Namespace) -> str:
    """Everything but the final output is written as it happens; the final output is returned."""
    if args.list_passes:
        return "".join(f"{cls.name:24} {cls.summary}\n" + "".join(
            f"{'':24}   {opt.describe()}\n" for opt in cls.options().values())
            for cls in all_passes())
    if args.target is None:
        raise ToolError("missing FILE.py::FUNC or FILE.accir")
    module, reproducer_pipeline = load_input(args.target, args.args)
    pipeline = args.pipeline or reproducer_pipeline or default_pipeline("cpu")
    if args.print_dependences:
        pipeline = _with_dependence_printing(pipeline, explicit=args.pipeline is not None)
    result = PassManager.from_string(pipeline, _instruments(args)).run(module)
    if args.remarks:
        for remark in result.remarks:
            print(remark)
    if args.emit == "ir":
        return print_module(result.module)
    from accir.backends.llvm_cpu import compile_module

    native = compile_module(result.module, args.opt_level)
    if args.emit == "llvm":
        return native.llvm_ir
    return native.llvm_opt if args.emit == "llvm-opt" else native.assembly()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad option (argparse has printed why)
        return e.code if isinstance(e.code, int) else 2
    try:
        output = _run(args)
    except ToolError as e:
        if e.status == 2:
            sys.stderr.write(parser.format_usage())
        hint = f"\nhint: {e.hint}" if e.hint else ""
        print(f"accir-dump: error: {e}{hint}", file=sys.stderr)
        return e.status
    except AccirError as e:
        print(str(e), file=sys.stderr)
        return 1
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
