"""Serial benchmark: accir against CPython, NumPy and Numba `@njit` on PolyBench-style kernels.

    .venv/bin/python benchmarks/serial.py                 # full run, PolyBench MEDIUM sizes
    .venv/bin/python benchmarks/serial.py --quick         # < 1 minute, SMALL sizes
    .venv/bin/python benchmarks/serial.py --kernels gemm,saxpy --json results.json

For each kernel: build seeded inputs, check accir's result against CPython's (on the CPython
size) and against Numba's and NumPy's (on the timed size), then time accir, Numba and NumPy
round-robin on fresh copies of the inputs (the copy is outside the timed region) and report
medians. CPython runs on a smaller size only; its time is scaled to the timed size by the ratio of
flop counts. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# NumPy is a serial baseline here too: one BLAS thread unless the caller says otherwise. This has
# to happen before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Runnable as a script from a checkout without installing accir.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import accir  # noqa: E402
from benchmarks.kernels import KERNELS, Kernel  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12


# ------------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class Config:
    quick: bool
    timed_size: str  # size class the compiled versions and NumPy are timed on
    cpython_size: str  # size class CPython runs on (and accir is checked against CPython on)
    repeats: int  # timed repeats per implementation (upper bound)
    min_repeats: int  # ... lower bound, when the time budget runs out first
    budget_s: float  # time budget per implementation and kernel
    cpython_repeats: int
    overhead_calls: int
    overhead_repeats: int


def make_config(quick: bool, repeats: int | None) -> Config:
    if quick:
        cfg = Config(True, "small", "mini", 7, 3, 0.5, 1, 100_000, 3)
    else:
        cfg = Config(False, "medium", "small", 15, 5, 3.0, 3, 100_000, 7)
    if repeats is not None:
        cfg = Config(**{**asdict(cfg), "repeats": repeats, "min_repeats": min(repeats,
                                                                               cfg.min_repeats)})
    return cfg


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------------- helpers


def fresh(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Copies of the array arguments, each in its own memory layout (C, Fortran)."""
    return tuple(a.copy(order="K") if isinstance(a, np.ndarray) else a for a in args)


def time_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn(*args)
        return time.perf_counter() - t0
    finally:
        if gc_was_enabled:
            gc.enable()


def compare(got: tuple[Any, ...], want: tuple[Any, ...], outputs: tuple[int, ...],
            exact: bool) -> tuple[bool, float]:
    """(ok, max abs difference) over the output arguments."""
    ok, err = True, 0.0
    for i in outputs:
        a, b = np.asarray(got[i]), np.asarray(want[i])
        if a.shape != b.shape:
            return False, math.inf
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        if not math.isfinite(diff):
            diff = math.inf
        err = max(err, diff)
        ok &= bool(np.array_equal(a, b)) if exact else bool(np.allclose(a, b, rtol=RTOL,
                                                                        atol=ATOL))
    return ok, err


def check_text(ok: bool | None, err: float | None, exact: bool) -> str:
    if ok is None:
        return "n/a"
    if not ok and err is None:
        return "**FAIL** (error)"
    if not ok:
        return f"**MISMATCH** max|Δ|={err:.3g}"
    if err == 0.0:
        return "ok (bitwise)"
    return f"ok ({'exact' if exact else 'allclose'}, max|Δ|={err:.1e})"


def short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def compile_seconds(first_call_s: float | None, second_call_s: float | None) -> float | None:
    """What the first call cost more than the second: the compilation."""
    if first_call_s is None or second_call_s is None:
        return None
    return max(first_call_s - second_call_s, 0.0)


# ---------------------------------------------------------------------------- kernel benchmark


@dataclass
class ImplResult:
    ok: bool = True
    error: str = ""
    first_call_s: float | None = None  # first call on CPython-size inputs (compiles)
    second_call_s: float | None = None  # second call, same shapes (already compiled)
    times_s: list[float] = field(default_factory=list)

    @property
    def compile_s(self) -> float | None:
        return compile_seconds(self.first_call_s, self.second_call_s)

    @property
    def median_s(self) -> float | None:
        return median(self.times_s)


@dataclass
class KernelResult:
    name: str
    timed_size: str
    timed_params: dict[str, int]
    cpython_size: str
    cpython_params: dict[str, int]
    flop_scale: float  # flops(timed) / flops(cpython size)
    known_issue: str = ""
    impls: dict[str, ImplResult] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def cpython_scaled_s(self) -> float | None:
        m = self.impls["cpython"].median_s
        return None if m is None else m * self.flop_scale

    def ratio(self, a: str, b: str) -> float | None:
        x, y = self.impls.get(a), self.impls.get(b)
        if x is None or y is None or not (x.ok and y.ok):
            return None
        mx, my = x.median_s, y.median_s
        return None if mx is None or my is None or my == 0 else mx / my


def first_two_calls(fn: Callable[..., Any], small: tuple[Any, ...]
                    ) -> tuple[float, float, tuple[Any, ...]]:
    """Seconds of the first call (which compiles) and of a second one, each on fresh copies of
    `small`, and the arguments of the first after it ran."""
    out = fresh(small)
    first = time_call(fn, out)
    return first, time_call(fn, fresh(small)), out


def _first_calls(res: ImplResult, fn: Callable[..., Any], small: tuple[Any, ...]
                 ) -> tuple[Any, ...] | None:
    """Call a compiling implementation twice on fresh small inputs; return the first result."""
    try:
        res.first_call_s, res.second_call_s, out = first_two_calls(fn, small)
        return out
    except Exception as exc:
        res.ok, res.error = False, short_error(exc)
        progress(f"    {res.error}")
        if os.environ.get("ACCIR_BENCH_TRACEBACK"):
            traceback.print_exc()
        return None


def _record_check(kr: KernelResult, impl: ImplResult, label: str, got: tuple[Any, ...] | None,
                  want: tuple[Any, ...] | None, outputs: tuple[int, ...], exact: bool) -> None:
    if got is None or want is None:
        failed = got is None and not impl.ok
        kr.checks[label] = {"ok": False if failed else None, "max_abs_diff": None,
                            "exact": exact, "error": impl.error if failed else ""}
        return
    ok, err = compare(got, want, outputs, exact)
    kr.checks[label] = {"ok": ok, "max_abs_diff": err, "exact": exact}
    if not ok:
        impl.ok = False
        impl.error = impl.error or f"wrong result ({label}: max|Δ|={err:.3g})"
        progress(f"    MISMATCH {label}: max|Δ|={err:.3g}")


def bench_kernel(k: Kernel, cfg: Config) -> KernelResult:
    t_start = time.perf_counter()
    kr = KernelResult(k.name, cfg.timed_size, k.sizes[cfg.timed_size], cfg.cpython_size,
                      k.sizes[cfg.cpython_size],
                      k.flops(k.sizes[cfg.timed_size]) / k.flops(k.sizes[cfg.cpython_size]),
                      k.known_issue)
    progress(f"[{k.name}] {cfg.timed_size} {k.size_label(cfg.timed_size)}; CPython at "
             f"{cfg.cpython_size} {k.size_label(cfg.cpython_size)}")
    small = k.inputs(cfg.cpython_size)
    big = k.inputs(cfg.timed_size)

    # CPython: the reference result, and its time on the small size.
    cpy = kr.impls["cpython"] = ImplResult()
    ref_small = fresh(small)
    cpy.times_s.append(time_call(k.py, ref_small))
    for _ in range(cfg.cpython_repeats - 1):
        cpy.times_s.append(time_call(k.py, fresh(small)))

    # First calls (compile) on the small size; accir checked against CPython there.
    acc = kr.impls["accir"] = ImplResult()
    nb = kr.impls["numba"] = ImplResult()
    acc_fn = accir.compile(k.py)
    nb_fn = numba.njit(k.py)
    acc_small = _first_calls(acc, acc_fn, small)
    nb_small = _first_calls(nb, nb_fn, small)
    _record_check(kr, acc, f"accir vs CPython ({cfg.cpython_size})", acc_small, ref_small,
                  k.outputs, k.exact_vs_numba)
    _record_check(kr, nb, f"Numba vs CPython ({cfg.cpython_size})", nb_small, ref_small,
                  k.outputs, k.exact_vs_numba)

    # Timed size: one untimed run each, results compared with accir's.
    impls: dict[str, Callable[..., Any]] = {"numba": nb_fn}
    if k.numpy is not None:
        kr.impls["numpy"] = ImplResult()
        impls["numpy"] = k.numpy
    impls["accir"] = acc_fn
    outs: dict[str, tuple[Any, ...] | None] = {}
    for name, fn in impls.items():
        res = kr.impls[name]
        if not res.ok:
            outs[name] = None
            continue
        try:
            outs[name] = fresh(big)
            fn(*outs[name])
        except Exception as exc:
            res.ok, res.error, outs[name] = False, short_error(exc), None
            progress(f"    {name}: {res.error}")
    _record_check(kr, acc, f"accir vs Numba ({cfg.timed_size})", outs.get("accir"),
                  outs.get("numba"), k.outputs, k.exact_vs_numba)
    if k.numpy is not None:
        _record_check(kr, acc, f"accir vs NumPy ({cfg.timed_size})", outs.get("accir"),
                      outs.get("numpy"), k.outputs, False)
    else:
        kr.checks[f"accir vs NumPy ({cfg.timed_size})"] = {"ok": None, "max_abs_diff": None,
                                                           "exact": False}

    # Timing: round-robin over the implementations, so that drifts in machine speed hit all of
    # them alike; each stops after `repeats` runs or its time budget (but not before
    # `min_repeats`).
    live = [n for n in impls if kr.impls[n].ok]
    spent = dict.fromkeys(live, 0.0)
    for r in range(cfg.repeats):
        for name in live:
            if r >= cfg.min_repeats and spent[name] > cfg.budget_s:
                continue
            args = fresh(big)
            dt = time_call(impls[name], args)
            kr.impls[name].times_s.append(dt)
            spent[name] += dt
    summary = "  ".join(f"{n}={kr.impls[n].median_s * 1e3:.3f}ms" for n in live
                        if kr.impls[n].median_s is not None)
    progress(f"    done in {time.perf_counter() - t_start:.1f}s: {summary}")
    return kr


# ------------------------------------------------------------------------------- call overhead


def _ov_empty(a, b, c, s):
    pass


def _ov_store(a, b, c, s):
    a[0] = s


def measure_overhead(cfg: Config) -> dict[str, dict[str, float | str]]:
    """ns per call of a trivial function of 3 arrays and a float, called in a Python loop."""
    progress("[call overhead]")
    a, b, c = np.zeros(16), np.zeros(16), np.zeros(16)
    s = 1.5
    n = cfg.overhead_calls

    def loop(fn: Callable[..., Any]) -> float:
        gc.disable()
        try:
            t0 = time.perf_counter()
            for _ in range(n):
                fn(a, b, c, s)
            return (time.perf_counter() - t0) / n * 1e9
        finally:
            gc.enable()

    def empty_loop() -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            pass
        return (time.perf_counter() - t0) / n * 1e9

    out: dict[str, dict[str, float | str]] = {}
    for body, py in (("empty body", _ov_empty), ("one store", _ov_store)):
        row: dict[str, float | str] = {}
        fns: dict[str, Callable[..., Any]] = {"python": py}
        try:
            fns["numba"] = numba.njit(py)
            fns["numba"](a, b, c, s)
        except Exception as exc:
            row["numba"] = f"error: {short_error(exc)}"
            fns.pop("numba")
        try:
            fns["accir"] = accir.compile(py)
            fns["accir"](a, b, c, s)
        except Exception as exc:
            row["accir"] = f"error: {short_error(exc)}"
            fns.pop("accir")
        samples: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(cfg.overhead_repeats):
            for name, fn in fns.items():
                samples[name].append(loop(fn))
        for name, xs in samples.items():
            row[name] = statistics.median(xs)
        out[body] = row
    out["loop only"] = {"python": statistics.median(empty_loop()
                                                    for _ in range(cfg.overhead_repeats))}
    return out


def warm_up() -> dict[str, float]:
    """Pay the one-off costs (imports, LLVM initialisation) before per-kernel compile times are
    measured, and report them."""
    def w(x):
        x[0] = 1.0

    out = {}
    for name, make in (("accir", accir.compile), ("numba", numba.njit)):
        t0 = time.perf_counter()
        make(w)(np.zeros(2))
        out[name] = time.perf_counter() - t0
    return out


# ------------------------------------------------------------------------------------ reporting


def fmt_ms(s: float | None) -> str:
    if s is None:
        return "–"
    ms = s * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}"


def geomean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def environment() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_ROOT,
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    import llvmlite

    return {
        "python": platform.python_version(), "numpy": np.__version__,
        "numba": numba.__version__, "llvmlite": llvmlite.__version__,
        "accir": accir.__version__, "accir_commit": commit, "cpu": cpu,
        "cpus": os.cpu_count(), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _impl_cell(kr: KernelResult, name: str) -> str:
    res = kr.impls.get(name)
    if res is None:
        return "none"
    if not res.ok:
        return "FAIL"
    return fmt_ms(res.median_s)


def report(results: list[KernelResult], overhead: dict[str, Any], warm: dict[str, float],
           env: dict[str, Any], cfg: Config) -> str:
    lines: list[str] = []
    add = lines.append
    mode = "quick" if cfg.quick else "full"
    add(f"# accir serial benchmark ({mode} run)")
    add("")
    add(f"{env['cpu']}, {env['cpus']} CPUs; Python {env['python']}, NumPy {env['numpy']} "
        f"(BLAS threads: {env['blas_threads']}), Numba {env['numba']}, llvmlite "
        f"{env['llvmlite']}, accir {env['accir']} ({env['accir_commit'] or 'no commit'}); "
        f"{env['date']}")
    add("")
    add(f"Median wall time in ms over up to {cfg.repeats} round-robin repeats (at least "
        f"{cfg.min_repeats}), fresh input copies per repeat, copy not timed. Ratios < 1 mean "
        "accir is faster.")
    add(f"CPython is run at the `{cfg.cpython_size}` size only (median of "
        f"{cfg.cpython_repeats}) and **scaled to the `{cfg.timed_size}` size by the flop "
        "ratio**.")
    add("")
    add("| kernel | size | CPython (scaled, ms) | NumPy ms | Numba ms | accir ms | accir/Numba "
        "| accir/NumPy |")
    add("|---|---|---|---|---|---|---|---|")
    for kr in results:
        size = " ".join(f"{k}={v}" for k, v in kr.timed_params.items())
        flag = " (accir FAILS)" if not kr.impls["accir"].ok else ""
        add(f"| {kr.name}{flag} | {size} | {fmt_ms(kr.cpython_scaled_s)} | "
            f"{_impl_cell(kr, 'numpy')} | {_impl_cell(kr, 'numba')} | "
            f"{_impl_cell(kr, 'accir')} | {fmt_ratio(kr.ratio('accir', 'numba'))} | "
            f"{fmt_ratio(kr.ratio('accir', 'numpy'))} |")
    gm_nb = geomean([r for kr in results if (r := kr.ratio("accir", "numba")) is not None])
    gm_np = geomean([r for kr in results if (r := kr.ratio("accir", "numpy")) is not None])
    add(f"| **geomean** | | | | | | **{fmt_ratio(gm_nb)}** | {fmt_ratio(gm_np)} |")
    add("")
    add("CPython measured (unscaled): " + "; ".join(
        f"{kr.name} {fmt_ms(kr.impls['cpython'].median_s)} ms at "
        + " ".join(f"{k}={v}" for k, v in kr.cpython_params.items())
        + f" (x{kr.flop_scale:.3g})" for kr in results))
    add("")

    add("## Correctness checks (before timing)")
    add("")
    add(f"allclose is rtol={RTOL:g}, atol={ATOL:g}; kernels marked exact must match bit for bit.")
    add("")
    labels = list(dict.fromkeys(lbl for kr in results for lbl in kr.checks
                                if lbl.startswith("accir")))
    add("| kernel | " + " | ".join(labels) + " |")
    add("|---|" + "---|" * len(labels))
    for kr in results:
        cells = []
        for lbl in labels:
            c = kr.checks.get(lbl)
            cells.append("–" if c is None else check_text(c["ok"], c["max_abs_diff"],
                                                          c["exact"]))
        add(f"| {kr.name} | " + " | ".join(cells) + " |")
    add("")

    add("## First call (compile) time")
    add("")
    add(f"Per kernel: first call minus second call, both on fresh `{cfg.cpython_size}` inputs. "
        f"One-off initialisation was paid before, by a trivial warm-up function: first call "
        f"accir {warm['accir']:.3f} s, Numba {warm['numba']:.3f} s.")
    add("")
    add("| kernel | accir compile s | Numba compile s | accir/Numba |")
    add("|---|---|---|---|")
    acc_c, nb_c = [], []
    for kr in results:
        a, n = kr.impls["accir"].compile_s, kr.impls["numba"].compile_s
        if a is not None and n is not None:
            acc_c.append(a)
            nb_c.append(n)
        add(f"| {kr.name} | {'FAIL' if a is None else f'{a:.3f}'} | "
            f"{'FAIL' if n is None else f'{n:.3f}'} | "
            f"{fmt_ratio(a / n if a is not None and n else None)} |")
    if acc_c:
        add(f"| **total** | {sum(acc_c):.3f} | {sum(nb_c):.3f} | "
            f"{fmt_ratio(sum(acc_c) / sum(nb_c) if sum(nb_c) else None)} |")
    add("")

    if len(overhead) > 1:
        report_overhead(add, overhead, cfg)

    problems = [kr for kr in results if not kr.impls["accir"].ok or kr.known_issue]
    if problems:
        add("## accir failures")
        add("")
        for kr in problems:
            err = kr.impls["accir"].error or "passes now"
            add(f"- {kr.name}: {err}" + (f" (known issue: {kr.known_issue})"
                                          if kr.known_issue else ""))
        add("")
    return "\n".join(lines)


def report_overhead(add: Callable[[str], None], overhead: dict[str, Any], cfg: Config) -> None:
    add("## Call overhead")
    add("")
    add(f"ns per call of `f(a, b, c, s)` (3 float64 arrays of 16 elements, a float), "
        f"{cfg.overhead_calls} calls in a Python `for` loop, median of {cfg.overhead_repeats}; "
        f"the loop alone costs {overhead['loop only']['python']:.1f} ns per iteration "
        "(included below).")
    add("")
    add("| body | plain Python | Numba @njit | accir |")
    add("|---|---|---|---|")
    for body, row in overhead.items():
        if body == "loop only":
            continue
        cells = [f"{v:.0f}" if isinstance(v, float) else str(v)
                 for v in (row.get("python"), row.get("numba"), row.get("accir"))]
        add(f"| {body} | " + " | ".join(cells) + " |")
    add("")


def to_json(results: list[KernelResult], overhead: dict[str, Any], warm: dict[str, float],
            env: dict[str, Any], cfg: Config) -> dict[str, Any]:
    kernels = []
    for kr in results:
        kernels.append({
            "name": kr.name, "timed_size": kr.timed_size, "timed_params": kr.timed_params,
            "cpython_size": kr.cpython_size, "cpython_params": kr.cpython_params,
            "flop_scale": kr.flop_scale, "cpython_scaled_s": kr.cpython_scaled_s,
            "known_issue": kr.known_issue, "checks": kr.checks,
            "ratios": {"accir/numba": kr.ratio("accir", "numba"),
                       "accir/numpy": kr.ratio("accir", "numpy")},
            "impls": {name: {"ok": r.ok, "error": r.error, "first_call_s": r.first_call_s,
                             "second_call_s": r.second_call_s, "compile_s": r.compile_s,
                             "median_s": r.median_s, "times_s": r.times_s}
                      for name, r in kr.impls.items()},
        })
    ratios = [r for kr in results if (r := kr.ratio("accir", "numba")) is not None]
    return {"config": asdict(cfg), "environment": env, "warm_up_first_call_s": warm,
            "kernels": kernels, "geomean_accir_over_numba": geomean(ratios),
            "call_overhead_ns": overhead}


# ----------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats (under a minute)")
    parser.add_argument("--kernels", default="",
                        help=f"comma-separated subset of: {','.join(KERNELS)}")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per kernel")
    parser.add_argument("--json", metavar="PATH", help="write raw results as JSON")
    parser.add_argument("--no-overhead", action="store_true",
                        help="skip the call-overhead measurement")
    args = parser.parse_args(argv)
    accir.set_num_threads(1)  # this is the one-core comparison: see parallel.py for threads

    names = [n.strip() for n in args.kernels.split(",") if n.strip()] or list(KERNELS)
    unknown = [n for n in names if n not in KERNELS]
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; choose from {', '.join(KERNELS)}")
    cfg = make_config(args.quick, args.repeats)
    env = environment()

    t0 = time.perf_counter()
    warm = warm_up()
    results = [bench_kernel(KERNELS[n], cfg) for n in names]
    overhead = {"loop only": {"python": 0.0}} if args.no_overhead else measure_overhead(cfg)
    progress(f"total {time.perf_counter() - t0:.1f}s")

    print(report(results, overhead, warm, env, cfg))
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(results, overhead, warm, env, cfg),
                                              indent=1))
        progress(f"wrote {args.json}")
    return 1 if any(not kr.impls["accir"].ok for kr in results) else 0


if __name__ == "__main__":
    sys.exit(main())
