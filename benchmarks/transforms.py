"""Loop-transformation benchmark: what accir's loop passes buy over Numba on loops written in a
bad order, and what each pass contributes.

    .venv/bin/python benchmarks/transforms.py --quick     # small sizes, a smoke test (10-30 s)
    .venv/bin/python benchmarks/transforms.py             # full sizes (matmul n=1000, 1-3 min)
    .venv/bin/python benchmarks/transforms.py --kernels mm-c,fuse --repeats 5

Each kernel is a plain Python loop nest (no prange, no directives). It runs in CPython (on a
smaller size, time scaled by the work ratio), Numba `@njit`, Numba `@njit(parallel=True)` on the
same source, accir with all loop transformations, the same on one thread (`accir serial`), and
accir with one transformation pass removed from the pipeline at a time. An ablated pipeline that
yields the same IR as the full one is not timed ("same IR"). Every result is checked before any
timing: against CPython on the CPython size and against `@njit` on the timed size. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import accir  # noqa: E402
from accir.ir.printer import print_module  # noqa: E402
from accir.passes.manager import default_pipeline  # noqa: E402
from benchmarks.kernels import Kernel  # noqa: E402
from benchmarks.parallel import with_threads  # noqa: E402
from benchmarks.serial import (  # noqa: E402
    Config,
    compare,
    environment,
    fmt_ms,
    fresh,
    geomean,
    make_config,
    progress,
    short_error,
    time_call,
)

# removed one at a time from the default pipeline to see what each contributes
ABLATED_PASSES = ("licm", "loop-distribution", "loop-interchange", "unroll-and-jam",
                  "loop-tiling", "loop-fusion", "loop-wavefront")

# ---------------------------------------------------------------------------------- kernels


def mm_worst(C, A, B):
    n, m = C.shape
    p = A.shape[1]
    for j in range(m):
        for k in range(p):
            for i in range(n):
                C[i, j] += A[i, k] * B[k, j]


def stencil_columns(A, B):
    n, m = A.shape
    for j in range(1, m - 1):
        for i in range(1, n - 1):
            B[i, j] = 0.2 * (A[i, j] + A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])


def transpose(A, B):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            B[j, i] = A[i, j]


def recurrence_and_map(a, b, d, e, c):
    n = a.shape[0]
    for i in range(1, n):
        a[i] = a[i - 1] * c + b[i]
        d[i] = np.sqrt(b[i]) * e[i] + b[i] / (1.0 + e[i]) + ((b[i] * 0.5 + 1.5) * b[i] + 2.5)


def two_sweeps(a, b, c):
    n = a.shape[0]
    for i in range(n):
        b[i] = a[i] * 2.0
    for i in range(n):
        c[i] = b[i] + a[i]


def _mm_setup(order: str) -> Callable[[dict[str, int], np.random.Generator], tuple[Any, ...]]:
    def setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
        n = p["n"]
        layout = np.asfortranarray if order == "F" else np.ascontiguousarray
        return tuple(layout(rng.random((n, n))) for _ in range(3))
    return setup


def _mm_work(p: dict[str, int]) -> float:
    return 2.0 * p["n"] ** 3


def _grid_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    return rng.random((p["n"], p["n"])), np.zeros((p["n"], p["n"]))


def _grid_work(p: dict[str, int]) -> float:
    return float(p["n"]) ** 2


def _recurrence_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    # b, e > 0: nothing is NaN and the division never divides by zero (not that accir minds).
    return (rng.random(n), rng.random(n) + 0.5, np.zeros(n), rng.random(n) + 0.5, 0.5)


def _sweeps_setup(p: dict[str, int], rng: np.random.Generator) -> tuple[Any, ...]:
    n = p["n"]
    return rng.random(n), np.zeros(n), np.zeros(n)


def _vector_work(p: dict[str, int]) -> float:
    return float(p["n"])


# Size classes as in kernels.py: "mini" = CPython in --quick mode, "small" = CPython in a full
# run and the timed size of --quick, "medium" = the timed size of a full run.
KERNELS: dict[str, Kernel] = {k.name: k for k in (
    Kernel("mm-c", mm_worst, None, _mm_setup("C"), _mm_work,
           {"mini": {"n": 40}, "small": {"n": 120}, "medium": {"n": 1000}}, outputs=(0,),
           exact_vs_numba=True, extra={"loops": "j, k, i over C-ordered arrays (worst order)"}),
    Kernel("mm-f", mm_worst, None, _mm_setup("F"), _mm_work,
           {"mini": {"n": 40}, "small": {"n": 120}, "medium": {"n": 1000}}, outputs=(0,),
           exact_vs_numba=True, extra={"loops": "j, k, i over Fortran-ordered arrays (best)"}),
    Kernel("stencil-columns", stencil_columns, None, _grid_setup, _grid_work,
           {"mini": {"n": 60}, "small": {"n": 300}, "medium": {"n": 2000}}, outputs=(1,),
           exact_vs_numba=True, extra={"loops": "5-point stencil, j outer, i inner, C order"}),
    Kernel("transpose", transpose, None, _grid_setup, _grid_work,
           {"mini": {"n": 60}, "small": {"n": 300}, "medium": {"n": 2000}}, outputs=(1,),
           exact_vs_numba=True, extra={"loops": "B[j, i] = A[i, j], C order"}),
    Kernel("distribute", recurrence_and_map, None, _recurrence_setup, _vector_work,
           {"mini": {"n": 10_000}, "small": {"n": 100_000}, "medium": {"n": 10_000_000}},
           outputs=(0, 2), extra={"loops": "a recurrence and an independent map in one loop"}),
    Kernel("fuse", two_sweeps, None, _sweeps_setup, _vector_work,
           {"mini": {"n": 10_000}, "small": {"n": 100_000}, "medium": {"n": 10_000_000}},
           outputs=(1, 2), exact_vs_numba=True,
           extra={"loops": "b = 2a, then c = b + a, two loops"}),
)}


# --------------------------------------------------------------------------------- pipelines


def _pass_name(entry: str) -> str:
    return entry.split("{", 1)[0]


def pipelines() -> tuple[str, str]:
    """(the default pipeline, the pipeline of the `accir` column): the same, the default."""
    default = default_pipeline("cpu")
    return default, default


def ablations(full: str) -> dict[str, str]:
    """Transformation pass name -> the full pipeline without it."""
    entries = full.split(",")
    return {_pass_name(e): ",".join(x for x in entries if x is not e)
            for e in entries if _pass_name(e) in ABLATED_PASSES}


# ----------------------------------------------------------------------------------- running


@dataclass
class Variant:
    label: str
    fn: Callable[..., Any] | None
    is_accir: bool = False
    same_ir: bool = False  # an ablation whose IR equals the full pipeline's: not timed
    error: str = ""
    checks: dict[str, str] = field(default_factory=dict)  # size class -> check text
    times_s: list[float] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.fn is not None and not self.same_ir and not self.error

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.times_s) if self.times_s else None


@dataclass
class KernelResult:
    name: str
    timed_params: dict[str, int]
    cpython_params: dict[str, int]
    scale: float  # work(timed size) / work(CPython size)
    variants: dict[str, Variant] = field(default_factory=dict)
    changed_by: list[str] = field(default_factory=list)  # passes that changed the full IR
    remarks: list[str] = field(default_factory=list)

    def median(self, label: str) -> float | None:
        v = self.variants.get(label)
        return None if v is None or not v.live else v.median_s

    def speedup(self, slow: str, fast: str) -> float | None:
        a, b = self.median(slow), self.median(fast)
        return None if a is None or b is None or b == 0 else a / b


def _accir_variant(label: str, fn: Any, example: tuple[Any, ...],
                   full_ir: str | None) -> tuple[Variant, Any]:
    """Compile (for the types of `example`); an ablation giving `full_ir` is marked same_ir."""
    v = Variant(label, fn, is_accir=True)
    try:
        spec = fn.compile_for(*example)
    except Exception as exc:
        v.error = short_error(exc)
        progress(f"    {label}: {v.error}")
        return v, None
    v.same_ir = full_ir is not None and print_module(spec.ir) == full_ir
    return v, spec


def build_variants(k: Kernel, kr: KernelResult, example: tuple[Any, ...], full: str,
                   default: str, threads: int) -> None:
    kr.variants["njit"] = Variant("njit", numba.njit(k.py))
    kr.variants["njit parallel"] = Variant("njit parallel", numba.njit(parallel=True)(k.py))
    acc = accir.compile(k.py) if full == default else accir.compile(k.py, pipeline=full)
    v, spec = _accir_variant("accir", acc, example, None)
    kr.variants["accir"] = v
    full_ir = None
    if spec is not None:
        full_ir = print_module(spec.ir)
        kr.changed_by = [p for p in spec.changed_by if p in ABLATED_PASSES]
        kr.remarks = list(dict.fromkeys(f"line {r.line}: [{r.pass_name}/{r.kind}] {r.message}"
                                        for r in spec.remarks if r.pass_name in ABLATED_PASSES))
        v.fn = with_threads(threads, acc)
        kr.variants["accir serial"] = Variant("accir serial", with_threads(1, acc), True)
    if default != full:
        dv, _ = _accir_variant("accir default", accir.compile(k.py), example, None)
        kr.variants["accir default"] = dv
    for name, pipeline in ablations(full).items():
        fn = accir.compile(k.py, pipeline=pipeline)
        av, _ = _accir_variant(f"-{name}", fn, example, full_ir)
        if av.fn is not None:
            av.fn = with_threads(threads, fn)
        kr.variants[av.label] = av


def _check_text(ok: bool, err: float) -> str:
    if not ok:
        return f"MISMATCH max|Δ|={err:.3g}"
    return "bitwise" if err == 0.0 else f"allclose max|Δ|={err:.1e}"


def check_all(kr: KernelResult, args: tuple[Any, ...], want: tuple[Any, ...] | None,
              outputs: tuple[int, ...], size: str) -> None:
    """Run every live variant once on `args` (compiling it) and compare with `want` (None: the
    first variant's result becomes the reference)."""
    for v in kr.variants.values():
        if not v.live:
            continue
        got = fresh(args)
        try:
            assert v.fn is not None
            v.fn(*got)
        except Exception as exc:
            v.error = short_error(exc)
            v.checks[size] = "FAIL"
            progress(f"    {v.label} ({size}): {v.error}")
            continue
        if want is None:
            want = got
            v.checks[size] = "reference"
            continue
        ok, err = compare(got, want, outputs, exact=False)
        v.checks[size] = _check_text(ok, err)
        if not ok:
            v.error = f"wrong result on the {size} size (max|Δ|={err:.3g})"
            progress(f"    {v.label}: {v.error}")


def time_round_robin(kr: KernelResult, args: tuple[Any, ...], cfg: Config) -> None:
    """Medians over round-robin repeats on fresh inputs, as in serial.py: each variant stops
    after `repeats` runs or once it has used its time budget (but not before `min_repeats`)."""
    live = [v for v in kr.variants.values() if v.live]
    spent = dict.fromkeys((v.label for v in live), 0.0)
    for r in range(cfg.repeats):
        for v in live:
            if r >= cfg.min_repeats and spent[v.label] > cfg.budget_s:
                continue
            assert v.fn is not None
            dt = time_call(v.fn, fresh(args))
            v.times_s.append(dt)
            spent[v.label] += dt


def bench_kernel(k: Kernel, cfg: Config, full: str, default: str, threads: int) -> KernelResult:
    t0 = time.perf_counter()
    kr = KernelResult(k.name, k.sizes[cfg.timed_size], k.sizes[cfg.cpython_size],
                      k.flops(k.sizes[cfg.timed_size]) / k.flops(k.sizes[cfg.cpython_size]))
    progress(f"[{k.name}] {k.size_label(cfg.timed_size)}; CPython at "
             f"{k.size_label(cfg.cpython_size)}")
    small, big = k.inputs(cfg.cpython_size), k.inputs(cfg.timed_size)
    cpython = kr.variants["CPython"] = Variant("CPython", None)
    reference = fresh(small)
    cpython.times_s.append(time_call(k.py, reference))
    cpython.times_s += [time_call(k.py, fresh(small)) for _ in range(cfg.cpython_repeats - 1)]
    cpython.checks[cfg.cpython_size] = "reference"
    build_variants(k, kr, small, full, default, threads)
    check_all(kr, small, reference, k.outputs, cfg.cpython_size)
    check_all(kr, big, None, k.outputs, cfg.timed_size)  # against njit, the first variant
    time_round_robin(kr, big, cfg)
    summary = "  ".join(f"{v.label}={v.median_s * 1e3:.3g}ms" for v in kr.variants.values()
                        if v.live and v.median_s is not None)
    progress(f"    done in {time.perf_counter() - t0:.1f}s: {summary}")
    return kr


# --------------------------------------------------------------------------------- reporting


def _cell(kr: KernelResult, label: str, scale: float = 1.0) -> str:
    v = kr.variants.get(label)
    if v is None:
        return "–"
    if v.error:
        return "FAIL"
    if v.same_ir:
        return "same IR"
    m = v.median_s
    return "–" if m is None else fmt_ms(m * scale)


def _x(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}x"


def contributions(kr: KernelResult) -> str:
    parts = []
    for label, v in kr.variants.items():
        if not label.startswith("-") or v.same_ir:
            continue
        parts.append(f"{label[1:]}: {'FAIL' if v.error else _x(kr.speedup(label, 'accir'))}")
    return "; ".join(parts) or "none (no transformation pass changed the IR)"


def report(results: list[KernelResult], cfg: Config, full: str, default: str,
           threads: int) -> str:
    env = environment()
    ablated = [f"-{p}" for p in ablations(full)]
    extra = ["accir default"] if default != full else []
    headers = ["kernel", "size", "CPython (scaled)", "njit", "njit parallel", "accir",
               "accir serial", *extra, *ablated, "accir vs njit", "accir vs njit parallel",
               "accir serial vs njit"]
    out = [f"# accir loop-transformation benchmark ({'quick' if cfg.quick else 'full'} run)", "",
           f"{env['cpu']}, {env['cpus']} CPUs; Python {env['python']}, NumPy {env['numpy']}, "
           f"Numba {env['numba']}, accir {env['accir']} ({env['accir_commit'] or 'no commit'});"
           f" {env['date']}", "",
           f"- default pipeline (`accir.compile(fn)`): `{default}`",
           f"- pipeline of the `accir` column (ablations remove one pass from it): `{full}`",
           f"- threads: accir {threads} (`accir serial`: 1), Numba parallel "
           f"{numba.get_num_threads()}", "",
           f"Median ms over up to {cfg.repeats} round-robin repeats (at least {cfg.min_repeats}"
           f"), fresh inputs each. CPython ran at the `{cfg.cpython_size}` size, scaled by the "
           "work ratio. `-pass` = the `accir` pipeline without that pass (\"same IR\": "
           "removing it changes nothing, not timed). Speed-ups > 1 mean accir is faster.", "",
           "| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
    for kr in results:
        size = " ".join(f"{k}={v}" for k, v in kr.timed_params.items())
        cells = [_cell(kr, "CPython", kr.scale), *(_cell(kr, lbl) for lbl in
                 ["njit", "njit parallel", "accir", "accir serial", *extra, *ablated])]
        out.append(f"| {kr.name} | {size} | " + " | ".join(cells) + " | "
                   f"{_x(kr.speedup('njit', 'accir'))} | "
                   f"{_x(kr.speedup('njit parallel', 'accir'))} | "
                   f"{_x(kr.speedup('njit', 'accir serial'))} |")
    gm = geomean([r for kr in results if (r := kr.speedup("njit", "accir")) is not None])
    out += [f"\nGeomean accir vs njit: {_x(gm)}.", "", "## Per-pass contribution", "",
            "Time without the pass / time with all passes (only passes that changed the IR).", "",
            "| kernel | loops | passes that changed the IR | contribution |", "|---|---|---|---|"]
    for kr in results:
        out.append(f"| {kr.name} | {KERNELS[kr.name].extra['loops']} | "
                   f"{', '.join(kr.changed_by) or 'none'} | {contributions(kr)} |")
    out += report_checks(results, cfg)
    out += ["", "## Remarks of the transformation passes (accir column)", ""]
    for kr in results:
        out.append(f"- **{kr.name}**: " + ("; ".join(kr.remarks) if kr.remarks else "none"))
    return "\n".join(out)


def report_checks(results: list[KernelResult], cfg: Config) -> list[str]:
    out = ["", "## Correctness checks (before timing)", "",
           f"`{cfg.cpython_size}` size: against CPython; `{cfg.timed_size}` size: against njit. "
           "allclose is rtol 1e-9, atol 1e-12; \"bitwise\" means no difference at all.", "",
           "| kernel | variant | " + f"{cfg.cpython_size} | {cfg.timed_size} | error |",
           "|---|---|---|---|---|"]
    for kr in results:
        for v in kr.variants.values():
            if v.label == "CPython" or v.same_ir:
                continue
            out.append(f"| {kr.name} | {v.label} | {v.checks.get(cfg.cpython_size, '–')} | "
                       f"{v.checks.get(cfg.timed_size, '–')} | {v.error} |")
    return out


def to_json(results: list[KernelResult], full: str, default: str) -> dict[str, Any]:
    return {"environment": environment(), "pipeline": full, "default_pipeline": default,
            "kernels": [{**{f.name: getattr(kr, f.name) for f in dataclasses.fields(kr)
                            if f.name != "variants"},
                         "variants": {lbl: {"error": v.error, "same_ir": v.same_ir,
                                            "checks": v.checks, "times_s": v.times_s}
                                      for lbl, v in kr.variants.items()}}
                        for kr in results]}


# -------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    parser.add_argument("--kernels", default=",".join(KERNELS),
                        help=f"comma-separated subset of: {','.join(KERNELS)}")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (at most)")
    parser.add_argument("--threads", type=int, default=accir.get_num_threads(),
                        help="threads of the accir column (default: accir's default)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw timings")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.kernels.split(",") if n.strip()]
    unknown = [n for n in names if n not in KERNELS]
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; choose from {', '.join(KERNELS)}")
    # The slow variants (njit on the worst-order matmul) take seconds: fewer repeats than
    # serial.py, with a budget per variant.
    cfg = dataclasses.replace(make_config(args.quick, None), repeats=7, min_repeats=3,
                              budget_s=0.5 if args.quick else 4.0)
    if args.repeats is not None:
        cfg = dataclasses.replace(cfg, repeats=args.repeats,
                                  min_repeats=min(args.repeats, cfg.min_repeats))
    default, full = pipelines()
    progress(f"pipeline: {full}" + ("" if full == default else f" (default: {default})"))
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    warnings.simplefilter("ignore", numba.NumbaPerformanceWarning)  # parallel=True, no prange
    results = [bench_kernel(KERNELS[n], cfg, full, default, args.threads) for n in names]
    print(report(results, cfg, full, default, args.threads))
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(results, full, default), indent=1))
    return 1 if any(v.is_accir and v.error for kr in results for v in kr.variants.values()) \
        else 0


if __name__ == "__main__":
    sys.exit(main())
