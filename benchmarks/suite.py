"""The benchmark suite: accir against CPython, NumPy, Numba (`@njit` and `parallel=True`) and C
with OpenMP on all 23 kernels of benchmarks/kernels.py and benchmarks/polybench.py.

    .venv/bin/python benchmarks/suite.py                      # PolyBench MEDIUM (~6 minutes)
    .venv/bin/python benchmarks/suite.py --quick              # SMALL sizes (~1 minute)
    .venv/bin/python benchmarks/suite.py --kernels gemm,atax --threads 2 --json results.json
    .venv/bin/python benchmarks/suite.py --write-docs         # docs/performance.{md,png}

Per kernel: accir's first call on the CPython size is checked against CPython; on the timed size
every implementation is checked against Numba `@njit`; whatever fails or mismatches is not timed.
Then all implementations run round-robin on fresh input copies; the report gives medians, ratios,
a roofline model against the measured machine limits, compile times and a "Goals" section. The
Markdown and the chart are rendered by benchmarks/suite_report.py. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def _threads_from_argv(argv: list[str]) -> int:
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--threads=") else (
            argv[i + 1] if arg == "--threads" and i + 1 < len(argv) else None)
        if value is not None and value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    # NumPy's BLAS reads its thread count once, when NumPy is imported: NumPy gets as many
    # threads as the other parallel implementations. NUMBA_NUM_THREADS caps set_num_threads.
    _THREADS = _threads_from_argv(sys.argv[1:])
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(_THREADS)
    os.environ.setdefault("NUMBA_NUM_THREADS", str(max(_THREADS, os.cpu_count() or 1)))

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import accir  # noqa: E402
from benchmarks import suite_report  # noqa: E402
from benchmarks.kernels import KERNELS, Kernel  # noqa: E402
from benchmarks.parallel import with_threads  # noqa: E402
from benchmarks.polybench import POLYBENCH  # noqa: E402
from benchmarks.serial import (  # noqa: E402
    compare,
    compile_seconds,
    environment,
    first_two_calls,
    fresh,
    median,
    short_error,
    time_call,
    warm_up,
)
from benchmarks.suite_cache import measure_cache  # noqa: E402
from benchmarks.suite_machine import (  # noqa: E402
    compulsory_bytes,
    load_average,
    measure_limits,
    memory_gib,
    roofline,
)
from benchmarks.suite_report import FAIL, IMPLS, MISMATCH, NA, OK, Progress  # noqa: E402

ALL_KERNELS: dict[str, Kernel] = {**KERNELS, **POLYBENCH}
COMPILED = ("accir-par", "numba", "numba-par")  # implementations whose first call compiles
PHASES = ("frontend", "passes", "llvm")


def _optional_modules() -> tuple[dict[str, Any], Any, dict[str, str]]:
    """The hand-written prange versions and the C kernels, where those modules exist."""
    missing: dict[str, str] = {}
    prange: dict[str, Any] = {}
    c_kernels = None
    try:
        from benchmarks.prange_kernels import PRANGE as prange
    except Exception as exc:  # a module being written may not even parse yet
        missing["numba-par"] = f"benchmarks/prange_kernels.py: {short_error(exc)}"
    try:
        from benchmarks import c_kernels
    except Exception as exc:
        missing["c"] = f"benchmarks/c_kernels.py: {short_error(exc)}"
    return prange, c_kernels, missing


PRANGE, C_KERNELS, MISSING = _optional_modules()


# ------------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class SuiteConfig:
    quick: bool
    threads: int
    timed_size: str  # size class every implementation but CPython is timed on
    cpython_size: str  # size class of CPython, of accir's check against it and compile times
    repeats: int  # timed repeats per implementation (upper bound)
    min_repeats: int  # ... lower bound, when the time budget runs out first
    budget_s: float  # time budget per implementation and kernel
    cpython_repeats: int
    cpython_budget_s: float
    triad_elements: int  # array length of the Numba triad (used only when C is unavailable)


def make_config(quick: bool, threads: int, sizes: str | None = None,
                repeats: int | None = None) -> SuiteConfig:
    if quick:
        cfg = SuiteConfig(True, threads, "small", "mini", 11, 3, 0.5, 1, 0.5, 1 << 22)
    else:
        cfg = SuiteConfig(False, threads, "medium", "small", 21, 5, 3.0, 3, 1.0, 1 << 24)
    changes: dict[str, Any] = {}
    if sizes:  # hidden option for tests: "TIMED,CPYTHON"
        changes["timed_size"], changes["cpython_size"] = sizes.split(",")
    if repeats is not None:
        changes.update(repeats=repeats, min_repeats=min(repeats, cfg.min_repeats))
    return SuiteConfig(**{**asdict(cfg), **changes})


# ----------------------------------------------------------------------------------- results


@dataclass
class ImplRun:
    state: str = OK  # OK, NA, FAIL or MISMATCH
    why: str = ""  # the reason for NA, FAIL or MISMATCH
    first_call_s: float | None = None  # first call on CPython-size inputs (compiles)
    second_call_s: float | None = None  # second call on fresh inputs of the same size
    phases: dict[str, float] = field(default_factory=dict)  # accir's compile phases
    max_abs_diff: float | None = None  # against Numba @njit at the timed size
    times_s: list[float] = field(default_factory=list)

    @property
    def compile_s(self) -> float | None:
        return compile_seconds(self.first_call_s, self.second_call_s)

    @property
    def median_s(self) -> float | None:
        return median(self.times_s) if self.state == OK else None

    def fail(self, state: str, why: str) -> None:
        self.state, self.why, self.times_s = state, why, []


@dataclass
class KernelRun:
    name: str
    timed_params: dict[str, int]
    cpython_params: dict[str, int]
    flops: float  # at the timed size
    nbytes: float  # compulsory traffic at the timed size
    flop_scale: float  # flops(timed size) / flops(CPython size)
    exact: bool  # accir must match CPython bit for bit
    cpython_check: dict[str, Any] = field(default_factory=dict)  # accir vs CPython
    impls: dict[str, ImplRun] = field(default_factory=dict)
    roofline: dict[str, dict[str, Any]] = field(default_factory=dict)  # "serial", "parallel"

    def seconds(self, key: str) -> float | None:
        """Median at the timed size (CPython: scaled by the flop ratio)."""
        run = self.impls.get(key)
        t = None if run is None else run.median_s
        return t * self.flop_scale if t is not None and key == "cpython" else t

    def ratio(self, a: str, b: str) -> float | None:
        ta, tb = self.seconds(a), self.seconds(b)
        return None if ta is None or not tb else ta / tb


# ------------------------------------------------------------------------------ implementations


@dataclass
class Impl:
    fn: Callable[..., Any] | None  # None: not available (see why)
    why: str = ""
    compiled: Any = None  # the accir CompiledFunction behind fn, for its phase timings


def _c_impl(name: str, threads: int) -> Impl:
    if C_KERNELS is None:
        return Impl(None, MISSING.get("c", "no C kernels"))
    try:
        if not C_KERNELS.c_available():
            return Impl(None, C_KERNELS.c_unavailable_reason() or "no C compiler with OpenMP")
        C_KERNELS.set_c_threads(threads)
        fn = C_KERNELS.c_kernel(name)
    except Exception as exc:
        return Impl(_raiser(f"C: {short_error(exc)}"))
    return Impl(fn) if fn is not None else Impl(None, "no C version")


def _raiser(message: str) -> Callable[..., Any]:
    def fail(*args: Any) -> Any:
        raise RuntimeError(message)
    return fail


def make_impls(k: Kernel, cfg: SuiteConfig) -> dict[str, Impl]:
    """Every implementation of one kernel, in report order (CPython first: the reference)."""
    acc = accir.compile(k.py)
    impls = {"cpython": Impl(k.py),
             "numpy": Impl(k.numpy) if k.numpy is not None else Impl(None, "no NumPy version"),
             "numba": Impl(numba.njit(k.py))}
    if "numba-par" in MISSING:
        impls["numba-par"] = Impl(None, MISSING["numba-par"])
    elif PRANGE.get(k.name) is None:
        impls["numba-par"] = Impl(None, "no prange version")
    else:
        impls["numba-par"] = Impl(numba.njit(parallel=True)(PRANGE[k.name]))
    impls["c"] = _c_impl(k.name, cfg.threads)
    impls["accir-serial"] = Impl(with_threads(1, acc), compiled=acc)
    impls["accir-par"] = Impl(with_threads(cfg.threads, acc), compiled=acc)
    return impls


# --------------------------------------------------------------------------- kernel benchmark


def run_cpython(kr: KernelRun, k: Kernel, small: tuple[Any, ...], cfg: SuiteConfig
                ) -> tuple[Any, ...]:
    """CPython's result on the small size (the reference) and its times."""
    run = kr.impls["cpython"]
    reference = fresh(small)
    run.times_s.append(time_call(k.py, reference))
    while len(run.times_s) < cfg.cpython_repeats and sum(run.times_s) < cfg.cpython_budget_s:
        run.times_s.append(time_call(k.py, fresh(small)))
    return reference


def first_calls(run: ImplRun, fn: Callable[..., Any], small: tuple[Any, ...]
                ) -> tuple[Any, ...] | None:
    """Two calls on fresh small inputs (the first one compiles); the first call's result."""
    try:
        run.first_call_s, run.second_call_s, out = first_two_calls(fn, small)
        return out
    except Exception as exc:
        run.fail(FAIL, short_error(exc))
        return None


def accir_phases(compiled: Any) -> dict[str, float]:
    specs = getattr(compiled, "specializations", None) or []
    timings = getattr(specs[-1], "timings", None) if specs else None
    phases = {p: float(timings[p]) for p in PHASES if p in timings} if timings else {}
    for name, seconds in getattr(specs[-1], "pass_timings", []) if specs else []:
        phases[f"pass:{name}"] = phases.get(f"pass:{name}", 0.0) + seconds
    return phases


def check_against_cpython(kr: KernelRun, k: Kernel, impls: dict[str, Impl],
                          small: tuple[Any, ...], reference: tuple[Any, ...]) -> None:
    """First calls of the compiling implementations; accir's result must match CPython's."""
    for key in COMPILED:
        if kr.impls[key].state != OK:
            continue
        out = first_calls(kr.impls[key], impls[key].fn, small)
        if key != "accir-par":
            continue
        kr.impls[key].phases = accir_phases(impls[key].compiled)
        if out is not None:
            ok, err = compare(out, reference, k.outputs, k.exact_vs_numba)
            kr.cpython_check = {"ok": ok, "max_abs_diff": err, "exact": k.exact_vs_numba}
            if not ok:
                kr.impls[key].fail(MISMATCH, f"first call differs from CPython at the "
                                             f"CPython size: max|Δ|={err:.3g}")
    serial, par = kr.impls["accir-serial"], kr.impls["accir-par"]
    if par.state != OK:  # one compiled function behind both
        serial.fail(par.state, par.why)
        kr.cpython_check = kr.cpython_check or {"ok": False, "max_abs_diff": None,
                                                "exact": k.exact_vs_numba, "error": par.why}


def check_timed_size(kr: KernelRun, k: Kernel, impls: dict[str, Impl],
                     big: tuple[Any, ...]) -> None:
    """One untimed run of each implementation, compared with Numba @njit's result."""
    outs: dict[str, tuple[Any, ...]] = {}
    for key, run in kr.impls.items():
        if key == "cpython" or run.state != OK:
            continue
        try:
            outs[key] = fresh(big)
            impls[key].fn(*outs[key])
        except Exception as exc:
            run.fail(FAIL, short_error(exc))
            outs.pop(key)
    reference = outs.get("numba")
    for key, out in outs.items():
        if reference is None:
            continue  # no reference: max_abs_diff stays None ("unchecked")
        ok, err = compare(out, reference, k.outputs, exact=False)
        kr.impls[key].max_abs_diff = err
        if not ok:
            kr.impls[key].fail(MISMATCH, f"differs from Numba @njit at the timed size: "
                                         f"max|Δ|={err:.3g}")


# OpenBLAS's threads keep spinning for a while after each NumPy call (up to ~0.1 s): on a
# machine with as many cores as threads they would slow whatever runs next, the parallel
# implementations most. NumPy is therefore timed after the others, followed by a pause.
BLAS_SPIN_S = 0.3


def time_round_robin(kr: KernelRun, impls: dict[str, Impl], big: tuple[Any, ...],
                     cfg: SuiteConfig) -> None:
    """Round-robin, so that drifts in machine speed hit every implementation alike; each stops
    after `repeats` runs or its time budget (but not before `min_repeats`). NumPy runs alone,
    after the others (BLAS_SPIN_S)."""
    live = [key for key, run in kr.impls.items() if key != "cpython" and run.state == OK]
    time.sleep(BLAS_SPIN_S)  # after the checks, which ran NumPy
    for group in ([key for key in live if key != "numpy"], [key for key in live
                                                              if key == "numpy"]):
        _round_robin(kr, impls, big, cfg, group)
    time.sleep(BLAS_SPIN_S if "numpy" in live else 0.0)


def _round_robin(kr: KernelRun, impls: dict[str, Impl], big: tuple[Any, ...],
                 cfg: SuiteConfig, keys: list[str]) -> None:
    spent = dict.fromkeys(keys, 0.0)
    gc.collect()
    for r in range(cfg.repeats):
        for key in keys:
            if r >= cfg.min_repeats and spent[key] > cfg.budget_s:
                continue
            dt = time_call(impls[key].fn, fresh(big))
            kr.impls[key].times_s.append(dt)
            spent[key] += dt


def bench_kernel(k: Kernel, cfg: SuiteConfig, limits: dict[str, dict[str, Any]],
                 stage: Callable[[str], None]) -> KernelRun:
    small, big = k.inputs(cfg.cpython_size), k.inputs(cfg.timed_size)
    timed_params, cpython_params = k.sizes[cfg.timed_size], k.sizes[cfg.cpython_size]
    kr = KernelRun(k.name, timed_params, cpython_params, k.flops(timed_params),
                   compulsory_bytes(big, k.outputs),
                   k.flops(timed_params) / k.flops(cpython_params), k.exact_vs_numba)
    impls = make_impls(k, cfg)
    kr.impls = {key: ImplRun() if impl.fn is not None else ImplRun(NA, impl.why)
                for key, impl in impls.items()}
    stage("CPython")
    reference = run_cpython(kr, k, small, cfg)
    stage("compiling")
    check_against_cpython(kr, k, impls, small, reference)
    stage("checking")
    check_timed_size(kr, k, impls, big)
    stage("timing")
    time_round_robin(kr, impls, big, cfg)
    kr.roofline = {mode: roofline(kr.flops, kr.nbytes, limits[mode], kr.seconds(key))
                   for mode, key in (("serial", "accir-serial"), ("parallel", "accir-par"))}
    return kr


# ------------------------------------------------------------------------------------ machine


def warm_up_all() -> dict[str, float]:
    """Pay one-off initialisation (imports, LLVM, Numba's thread pool) before compile times."""
    out = warm_up()

    def w(x):
        for i in numba.prange(x.shape[0]):
            x[i] = 1.0

    t0 = time.perf_counter()
    numba.njit(parallel=True)(w)(np.zeros(2))
    out["numba-par"] = time.perf_counter() - t0
    return out


def _numba_threading_layer() -> str:
    try:
        return numba.threading_layer()  # the one in use, once a parallel function has run
    except ValueError:
        return f"{numba.config.THREADING_LAYER} (not started)"


def machine(cfg: SuiteConfig, numba_threads: int) -> dict[str, Any]:
    env = environment()
    compiler = f"unavailable ({MISSING.get('c', 'no C module')})"
    if C_KERNELS is not None:
        try:
            compiler = (C_KERNELS.c_compiler() if C_KERNELS.c_available() else
                        f"unavailable ({C_KERNELS.c_unavailable_reason()})")
        except Exception as exc:
            compiler = f"unavailable ({short_error(exc)})"
    return {**env, "threads": cfg.threads, "affinity_cpus": len(os.sched_getaffinity(0)),
            "memory_gib": memory_gib(), "numba_threads": numba_threads,
            "numba_threading_layer": _numba_threading_layer(), "c_compiler": compiler,
            "missing_modules": dict(MISSING)}


# ----------------------------------------------------------------------------------------- main


@contextlib.contextmanager
def accir_threads(n: int) -> Iterator[None]:
    old = accir.get_num_threads()
    accir.set_num_threads(n)
    try:
        yield
    finally:
        accir.set_num_threads(old)


def run_suite(names: list[str], cfg: SuiteConfig, progress: Progress
              ) -> tuple[list[KernelRun], dict[str, Any]]:
    numba_threads = min(cfg.threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(numba_threads)
    t0, load_before = time.perf_counter(), load_average()
    progress.note(f"measuring machine limits (1 and {cfg.threads} threads)")
    limits = measure_limits(cfg.threads, C_KERNELS, MISSING.get("c", ""), cfg.triad_elements)
    warm = warm_up_all()
    results = []
    with accir_threads(cfg.threads):
        for i, name in enumerate(names, 1):
            progress.update(i, name, "inputs")
            kr = bench_kernel(ALL_KERNELS[name], cfg, limits,
                              lambda s, i=i, name=name: progress.update(i, name, s))
            for key, run in kr.impls.items():
                if run.state in (FAIL, MISMATCH):
                    progress.note(f"    {name}: {key} {run.state}: {run.why}")
            results.append(kr)
    progress.note("the on-disk cache: compiling in one new process, loading in another")
    cache = measure_cache(names, cfg.cpython_size)
    elapsed = time.perf_counter() - t0
    progress.finish(f"done in {elapsed:.0f} s")
    meta = {"config": asdict(cfg), "machine": machine(cfg, numba_threads), "limits": limits,
            "warm_up_s": warm, "elapsed_s": elapsed, "cache": cache,
            "load_average": {"start": load_before, "end": load_average()}}
    return results, meta


def to_json(results: list[KernelRun], meta: dict[str, Any]) -> dict[str, Any]:
    kernels = []
    for kr in results:
        entry = asdict(kr)
        for key, run in kr.impls.items():
            entry["impls"][key].update(median_s=run.median_s, compile_s=run.compile_s,
                                       timed_s=kr.seconds(key))
        entry["ratios"] = {"accir-par/numba-par": kr.ratio("accir-par", "numba-par"),
                           "accir-par/c": kr.ratio("accir-par", "c")}
        kernels.append(entry)
    return {**meta, "implementations": list(IMPLS), "kernels": kernels,
            "goals": suite_report.goals(results, meta.get("cache"))}


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="SMALL sizes, fewer repeats")
    parser.add_argument("--kernels", default="",
                        help=f"comma-separated subset of: {','.join(ALL_KERNELS)}")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="threads of the parallel implementations (default: usable CPUs)")
    parser.add_argument("--markdown", metavar="PATH", help="write the report here, not stdout")
    parser.add_argument("--chart", metavar="PATH", help="write a PNG chart of the speed-ups")
    parser.add_argument("--json", metavar="PATH", help="write the raw results as JSON")
    parser.add_argument("--write-docs", action="store_true",
                        help="write docs/performance.md and docs/performance.png")
    parser.add_argument("--time-passes", action="store_true",
                        help="also report the time of each accir pass per kernel")
    parser.add_argument("--sizes", help=argparse.SUPPRESS)  # "TIMED,CPYTHON", for tests
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.kernels.split(",") if n.strip()] or list(ALL_KERNELS)
    unknown = [n for n in args.names if n not in ALL_KERNELS]
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.write_docs:
        args.markdown = args.markdown or str(_ROOT / "docs" / "performance.md")
        args.chart = args.chart or str(_ROOT / "docs" / "performance.png")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = make_config(args.quick, args.threads, args.sizes, args.repeats)
    results, meta = run_suite(args.names, cfg, Progress(len(args.names)))
    meta["time_passes"] = args.time_passes
    chart_ref = None
    if args.chart:
        suite_report.chart(results, meta, args.chart)
        base = Path(args.markdown).resolve().parent if args.markdown else Path.cwd()
        chart_ref = os.path.relpath(Path(args.chart).resolve(), base)
    text = suite_report.markdown(results, meta, chart_ref)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    else:
        print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(_json_safe(to_json(results, meta)), indent=1))
    accir_failed = any(kr.impls[key].state in (FAIL, MISMATCH)
                       for kr in results for key in ("accir-serial", "accir-par"))
    return 1 if accir_failed else 0


if __name__ == "__main__":
    sys.exit(main())
