"""Rendering for benchmarks/suite.py: the progress bar, the Markdown report, the goals computed
from a run, and the PNG chart. Every statement in the report is computed from the results."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from benchmarks.serial import fmt_ms, geomean

if TYPE_CHECKING:
    from benchmarks.suite import KernelRun

OK, NA, FAIL, MISMATCH = "ok", "n/a", "FAIL", "MISMATCH"

IMPLS: dict[str, str] = {  # key: label, in report order
    "cpython": "CPython (scaled)", "numpy": "NumPy", "numba": "Numba @njit",
    "numba-par": "Numba parallel", "c": "C OpenMP", "accir-serial": "accir serial",
    "accir-par": "accir parallel",
}
CHART_SERIES = ("numba-par", "c", "accir-serial", "accir-par")
C_GOAL = 1.25  # accir parallel within this factor of C in geomean

Lines = list[str]


# -------------------------------------------------------------------------------- progress bar


class Progress:
    """`[####------] 9/23 gemm: timing` on stderr: redrawn in place on a terminal, one line per
    kernel otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 10):
        self.total, self.width = total, width
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._shown = 0  # length of the line on screen (tty)
        self._kernel = 0  # last kernel given a line (not a tty)

    def _bar(self, done: int) -> str:
        filled = round(self.width * done / self.total) if self.total else self.width
        return "[" + "#" * filled + "-" * (self.width - filled) + "]"

    def update(self, index: int, name: str, stage: str) -> None:
        line = f"{self._bar(index - 1)} {index}/{self.total} {name}: {stage}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self._shown))
            self._shown = len(line)
        elif index != self._kernel:
            self.stream.write(line + "\n")
            self._kernel = index
        self.stream.flush()

    def note(self, message: str) -> None:
        if self.tty and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self._shown = 0
        self.stream.write(message + "\n")
        self.stream.flush()

    def finish(self, message: str) -> None:
        self.note(f"{self._bar(self.total)} {self.total}/{self.total} {message}")


# -------------------------------------------------------------------------------------- goals


def _ratios(results: list[KernelRun], a: str, b: str) -> dict[str, float]:
    return {kr.name: r for kr in results if (r := kr.ratio(a, b)) is not None}


def _accir_failed(results: list[KernelRun]) -> list[str]:
    return [kr.name for kr in results if kr.impls["accir-par"].state in (FAIL, MISMATCH)]


def fmt_ratio(r: float | None) -> str:
    """Two decimals in the usual range, more where they would hide the difference from 1 or
    round a tiny or huge ratio away."""
    if r is None:
        return "–"
    text = f"{r:.2f}"
    if text == "1.00" and r != 1.0:
        return f"{r:.4f}"
    return text if 0.01 <= r < 1000 else f"{r:.3g}"


def _listing(pairs: dict[str, float]) -> str:
    return ", ".join(f"{name} {fmt_ratio(r)}x" for name, r in pairs.items())


def _every_kernel_goal(goal: str, ratios: dict[str, float], failed: list[str],
                       skipped: list[str], what: str) -> dict[str, Any]:
    worse = {n: r for n, r in ratios.items() if r > 1.0}
    met = bool(ratios) and not worse and not failed
    if not ratios:
        detail = f"not measured: no kernel has both timings ({what})"
    elif met:
        name = max(ratios, key=ratios.__getitem__)
        detail = (f"yes on all {len(ratios)} kernels with both measurements; closest: "
                  f"{name} at {fmt_ratio(ratios[name])}x ({what})")
    else:
        parts = [f"worse on {len(worse)} of {len(ratios)} kernels: {_listing(worse)}"
                 if worse else f"no worse ratio on the {len(ratios)} measured kernels"]
        if failed:
            parts.append(f"accir failed on {', '.join(failed)}")
        detail = "; ".join(parts) + f" ({what})"
    if skipped:
        detail += f"; not compared: {', '.join(skipped)}"
    return {"goal": goal, "met": met if ratios else None, "detail": detail}


def _geomean_goal(goal: str, ratios: dict[str, float], met: Callable[[float], bool],
                  what: str) -> dict[str, Any]:
    g = geomean(list(ratios.values()))
    if g is None:
        return {"goal": goal, "met": None, "detail": f"not measured ({what})", "value": None}
    return {"goal": goal, "met": met(g), "value": g,
            "detail": f"geomean {what} = {fmt_ratio(g)} over {len(ratios)} kernels"}


def _compile_ratios(results: list[KernelRun], other: str) -> dict[str, float]:
    out = {}
    for kr in results:
        a, b = kr.impls["accir-par"].compile_s, kr.impls[other].compile_s
        if a is not None and b:
            out[kr.name] = a / b
    return out


CACHE_GOAL_MS = 50.0  # "loads in milliseconds": a cached first call in a new process


def cache_goal(cache: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    goal = f"a cached first call in a new process takes milliseconds (under {CACHE_GOAL_MS:g} ms)"
    if not cache:
        return {"goal": goal, "met": None, "detail": "not measured (a child process failed)"}
    slowest = max(cache, key=lambda n: cache[n]["cached_s"])
    missed = [n for n, row in cache.items() if not row["cached"]]
    worst_ms = cache[slowest]["cached_s"] * 1e3
    typical = statistics.median(row["cached_s"] * 1e3 for row in cache.values())
    detail = (f"median {typical:.1f} ms, slowest {slowest} {worst_ms:.1f} ms, against "
              f"{statistics.median(row['compile_s'] for row in cache.values()):.3f} s "
              "(median) compiling")
    if missed:
        detail += "; not loaded from the cache: " + ", ".join(missed)
    return {"goal": goal, "met": not missed and worst_ms < CACHE_GOAL_MS, "detail": detail}


def goals(results: list[KernelRun], cache: dict[str, dict[str, Any]] | None = None
          ) -> list[dict[str, Any]]:
    failed = _accir_failed(results)
    vs_numba = _ratios(results, "accir-par", "numba-par")
    vs_c = _ratios(results, "accir-par", "c")
    no_numba_par = [kr.name for kr in results if kr.impls["numba-par"].median_s is None
                    and kr.name not in failed]
    out = [
        _every_kernel_goal("accir parallel is at least as fast as Numba parallel on every kernel",
                           vs_numba, failed, no_numba_par,
                           "time ratio accir parallel / Numba parallel"),
        _geomean_goal("accir parallel is faster than Numba parallel in geomean", vs_numba,
                      lambda g: g < 1.0, "accir parallel / Numba parallel"),
        _geomean_goal(f"accir parallel is within {C_GOAL}x of C in geomean", vs_c,
                      lambda g: g <= C_GOAL, "accir parallel / C OpenMP"),
    ]
    for other in ("numba", "numba-par"):
        ratios = _compile_ratios(results, other)
        skipped = [kr.name for kr in results if kr.impls[other].compile_s is None
                   and kr.name not in failed]
        out.append(_every_kernel_goal(
            f"accir compiles faster than {IMPLS[other]} on every kernel", ratios, failed,
            skipped, f"compile time accir / {IMPLS[other]}"))
    if cache is not None:
        out.append(cache_goal(cache))
    return out


# ------------------------------------------------------------------------------------ helpers


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def _time_cell(kr: KernelRun, key: str) -> str:
    run = kr.impls[key]
    return fmt_ms(kr.seconds(key)) if run.state == OK else run.state


def _check_cell(kr: KernelRun, key: str) -> str:
    run = kr.impls[key]
    if run.state == NA:
        return NA
    if run.state == FAIL:
        return "**FAIL**"
    if run.state == MISMATCH:
        return f"**MISMATCH** ({_fmt(run.max_abs_diff, '.3g')})" if run.max_abs_diff else \
            "**MISMATCH**"
    if run.max_abs_diff is None:
        return "unchecked"
    return "ok (bitwise)" if run.max_abs_diff == 0.0 else f"ok ({run.max_abs_diff:.1e})"


def _cpython_check_cell(kr: KernelRun) -> str:
    c = kr.cpython_check
    if not c:
        return "–"
    if c.get("error"):
        return "**FAIL**"
    if not c["ok"]:
        return f"**MISMATCH** ({c['max_abs_diff']:.3g})"
    kind = "bitwise" if c["exact"] else "allclose"
    return f"ok ({kind})" if c["max_abs_diff"] == 0.0 else f"ok ({kind}, {c['max_abs_diff']:.1e})"


def _size(params: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def _table(add: Callable[[str], None], header: list[str], rows: list[list[str]]) -> None:
    add("| " + " | ".join(header) + " |")
    add("|" + "---|" * len(header))
    for row in rows:
        add("| " + " | ".join(row) + " |")
    add("")


# ----------------------------------------------------------------------------------- sections


def _machine(add: Callable[[str], None], meta: dict[str, Any]) -> None:
    m, limits = meta["machine"], meta["limits"]
    mem = f"{m['memory_gib']:.1f} GiB" if m["memory_gib"] else "unknown"
    add("## Machine")
    add("")
    add(f"- CPU: {m['cpu']}; {m['threads']} threads used ({m['affinity_cpus']} CPUs usable by "
        f"this process, {m['cpus']} in the machine); memory {mem}")
    add(f"- Python {m['python']}, NumPy {m['numpy']} (BLAS threads: {m['blas_threads']}), "
        f"Numba {m['numba']} ({m['numba_threads']} threads, threading layer "
        f"{m['numba_threading_layer']}), llvmlite {m['llvmlite']}, accir {m['accir']} "
        f"(commit {m['accir_commit'] or 'unknown'})")
    add(f"- C compiler: {m['c_compiler']}")
    for key, why in m["missing_modules"].items():
        add(f"- {IMPLS[key]}: n/a ({why})")
    load = meta["load_average"]
    add(f"- Run: {m['date']}, {meta['elapsed_s']:.0f} s; 1-minute load average "
        f"{_fmt(load['start'])} at the start, {_fmt(load['end'])} at the end (the suite itself "
        f"adds up to {m['threads']})")
    add("")
    rows = []
    for mode in ("serial", "parallel"):
        lim = limits[mode]
        peak = _fmt(lim["fma_gflops"], ".1f") if lim["fma_gflops"] else "not measured"
        rows.append([str(lim["threads"]), f"{lim['triad_gbs']:.1f}", peak, lim["source"]])
    add("Measured machine limits (the roofline below uses them):")
    add("")
    _table(add, ["threads", "triad bandwidth GB/s", "FMA peak GFLOP/s", "measured by"], rows)


def _times(add: Callable[[str], None], results: list[KernelRun], meta: dict[str, Any],
           chart_ref: str | None) -> None:
    cfg = meta["config"]
    add("## Run time")
    add("")
    add(f"Median ms at the `{cfg['timed_size']}` size, up to {cfg['repeats']} round-robin repeats "
        f"(at least {cfg['min_repeats']}; an implementation stops after {cfg['budget_s']} s), "
        "fresh input copies per repeat, copy not timed, garbage collector off. NumPy is timed "
        "after the others, alone: its BLAS threads spin for a while after each call and "
        "would slow whatever ran next. CPython ran at "
        f"the `{cfg['cpython_size']}` size and is scaled by the flop ratio. Ratios < 1 mean "
        "accir parallel is faster. n/a: no such implementation; FAIL/MISMATCH: not timed "
        "(see Correctness).")
    add("")
    header = ["kernel", "size", *IMPLS.values(), "accir par / Numba par", "accir par / C"]
    rows = [[kr.name, _size(kr.timed_params), *(_time_cell(kr, key) for key in IMPLS),
             fmt_ratio(kr.ratio("accir-par", "numba-par")), fmt_ratio(kr.ratio("accir-par", "c"))]
            for kr in results]
    speedups = [_fmt(geomean([r for kr in results if (r := kr.ratio("numba", key))]), ".3g")
                for key in IMPLS]
    rows.append(["**geomean speed-up over Numba @njit**", "", *speedups, "", ""])
    gm = [geomean(list(_ratios(results, "accir-par", b).values())) for b in ("numba-par", "c")]
    rows.append(["**geomean**", "", *[""] * len(IMPLS), *(f"**{fmt_ratio(g)}**" for g in gm)])
    _table(add, header, rows)
    add("CPython measured (unscaled): " + "; ".join(
        f"{kr.name} {fmt_ms(kr.impls['cpython'].median_s)} ms at {_size(kr.cpython_params)} "
        f"(x{kr.flop_scale:.3g})" for kr in results) + ".")
    add("")
    if chart_ref:
        add(f"![Speed-up over Numba @njit]({chart_ref})")
        add("")


def _roofline_row(kr: KernelRun) -> list[str]:
    s, p = kr.roofline["serial"], kr.roofline["parallel"]
    return [kr.name, f"{p['flops'] / 1e6:.3g}", f"{p['bytes'] / 1e6:.3g}",
            f"{p['flops'] / p['bytes']:.3g}", p["bound_by"] or "n/a",
            fmt_ms(s["bound_s"]), _fmt(s["distance"], ".3g"), fmt_ms(p["bound_s"]),
            _time_cell(kr, "accir-par"), _fmt(p["distance"], ".3g"), _fmt(p["gflops"], ".3g"),
            _fmt(p["pct_peak"], ".3g"), _fmt(p["gbs"], ".3g"), _fmt(p["pct_bw"], ".3g")]


def _roofline(add: Callable[[str], None], results: list[KernelRun], meta: dict[str, Any]) -> None:
    threads = meta["config"]["threads"]
    no_peak = meta["limits"]["parallel"]["fma_gflops"] is None
    add("## Roofline")
    add("")
    add("Compulsory traffic = every array argument read once + every output array written once; "
        "flops from the kernel's flop count. bound = max(flops / FMA peak, bytes / triad "
        "bandwidth) with the limits measured above (1 thread for accir serial, "
        f"{threads} for accir parallel); distance = time / bound (1 = at the bound). "
        "bound by: which term is larger. The bandwidth is DRAM's (a triad on arrays far larger "
        "than the caches); a kernel whose arrays fit in the caches can beat it (more than 100 % "
        "of bandwidth, distance below 1): each repeat's input copies were just written, so "
        "they are in cache.")
    if no_peak:
        add("The FMA peak was not measured (no C compiler): bounds are the bandwidth term only "
            "and no kernel is classified.")
    add("")
    header = ["kernel", "MFLOP", "MB", "flop/B", "bound by", "bound 1T ms", "accir serial / bound",
              f"bound {threads}T ms", "accir parallel ms", "accir parallel / bound", "GFLOP/s",
              "% peak", "GB/s", "% bandwidth"]
    _table(add, header, [_roofline_row(kr) for kr in results])


def _compile_row(kr: KernelRun) -> list[str]:
    acc, nb, nbp = (kr.impls[k] for k in ("accir-par", "numba", "numba-par"))

    def cell(run: Any) -> str:
        return _fmt(run.compile_s, ".3f") if run.compile_s is not None else run.state

    phases = [_fmt(acc.phases.get(p), ".3f") for p in ("frontend", "passes", "llvm")]
    ratio = [fmt_ratio(acc.compile_s / r.compile_s if acc.compile_s is not None and r.compile_s
                       else None) for r in (nb, nbp)]
    return [kr.name, cell(acc), *phases, cell(nb), cell(nbp), *ratio]


def _pass_times(add: Callable[[str], None], results: list[KernelRun]) -> None:
    """--time-passes: accir's first compile of each kernel, pass by pass (ms)."""
    names = list(dict.fromkeys(p[5:] for kr in results for p in kr.impls["accir-par"].phases
                               if p.startswith("pass:")))
    if not names:
        return
    add("### Where accir's compile time goes (`--time-passes`)")
    add("")
    add("Milliseconds per pass in accir's first compile of each kernel; frontend and llvm as "
        "above.")
    add("")
    rows = []
    for kr in results:
        phases = kr.impls["accir-par"].phases
        rows.append([kr.name, _fmt(_ms(phases.get("frontend")), ".1f"),
                     *(_fmt(_ms(phases.get(f"pass:{n}")), ".1f") for n in names),
                     _fmt(_ms(phases.get("llvm")), ".0f")])
    _table(add, ["kernel", "frontend", *names, "llvm"], rows)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def _compile(add: Callable[[str], None], results: list[KernelRun], meta: dict[str, Any]) -> None:
    warm, size = meta["warm_up_s"], meta["config"]["cpython_size"]
    add("## Compile time")
    add("")
    add(f"Seconds: first call minus second call, both on fresh `{size}` inputs (accir's "
        "frontend/passes/llvm: its own timings of the first compile). One-off initialisation "
        "was paid before by a trivial function, first call: "
        + ", ".join(f"{IMPLS.get(k, k)} {v:.3f} s" for k, v in warm.items()) + ".")
    add("")
    rows = [_compile_row(kr) for kr in results]
    totals = [sum(r.compile_s for kr in results if (r := kr.impls[k]).compile_s is not None)
              for k in ("accir-par", "numba", "numba-par")]
    gms = [geomean(list(_compile_ratios(results, k).values())) for k in ("numba", "numba-par")]
    rows.append(["**total**", f"{totals[0]:.3f}", "", "", "", f"{totals[1]:.3f}",
                 f"{totals[2]:.3f}", "", ""])
    rows.append(["**geomean ratio**", "", "", "", "", "", "", *(f"**{fmt_ratio(g)}**"
                                                                 for g in gms)])
    _table(add, ["kernel", "accir s", "frontend", "passes", "llvm", "Numba @njit s",
                 "Numba parallel s", "accir / @njit", "accir / parallel"], rows)


def _correctness(add: Callable[[str], None], results: list[KernelRun],
                 meta: dict[str, Any]) -> None:
    cfg = meta["config"]
    others = [k for k in IMPLS if k not in ("cpython", "numba")]
    add("## Correctness")
    add("")
    add(f"Checked before timing. accir's first call at the `{cfg['cpython_size']}` size against "
        "CPython (bitwise where the kernel must match exactly, else allclose rtol 1e-9 atol "
        f"1e-12); at the `{cfg['timed_size']}` size every implementation against Numba @njit "
        "(allclose; max |Δ| in parentheses).")
    add("")
    rows = [[kr.name, _cpython_check_cell(kr), *(_check_cell(kr, k) for k in others)]
            for kr in results]
    _table(add, ["kernel", "accir vs CPython", *(f"{IMPLS[k]} vs Numba @njit" for k in others)],
           rows)
    problems = [f"- {kr.name}, {IMPLS[key]}: {run.state}: {run.why}"
                for kr in results for key, run in kr.impls.items() if run.state in (FAIL, MISMATCH)]
    add("Failures and mismatches (not timed):" if problems else
        "No implementation failed or mismatched.")
    add("")
    for line in problems:
        add(line)
    if problems:
        add("")
    unavailable: dict[str, list[str]] = {}
    for kr in results:
        for key, run in kr.impls.items():
            if run.state == NA:
                unavailable.setdefault(f"{IMPLS[key]}: {run.why}", []).append(kr.name)
    for why, names in unavailable.items():
        add(f"- n/a, {why}: {', '.join(names)}")
    if unavailable:
        add("")


def _cache(add: Callable[[str], None], meta: dict[str, Any]) -> None:
    cache = meta.get("cache")
    if cache is None:
        return
    add("## The on-disk cache")
    add("")
    add("First call of `accir.compile(fn, cache=True)` on fresh `"
        f"{meta['config']['cpython_size']}` inputs in a new Python process, with an empty "
        "`ACCIR_CACHE_DIR` (it compiles and stores), then in a second new process (it loads "
        "the entry: the frontend runs to compute the key, the passes and LLVM do not). "
        "benchmarks/suite_cache.py.")
    add("")
    if not cache:
        add("Not measured: a child process failed.")
        add("")
        return
    rows = [[name, f"{row['compile_s']:.3f}", f"{row['cached_s'] * 1e3:.1f}",
             "yes" if row["cached"] else "**no**",
             fmt_ratio(row["compile_s"] / row["cached_s"] if row["cached_s"] else None)]
            for name, row in cache.items()]
    _table(add, ["kernel", "compiling s", "from the cache ms", "loaded from the cache",
                 "speed-up"], rows)


def _goals(add: Callable[[str], None], results: list[KernelRun],
           cache: dict[str, dict[str, Any]] | None = None) -> None:
    add("## Goals")
    add("")
    for g in goals(results, cache):
        verdict = {True: "**Met**", False: "**Not met**", None: "**Not measured**"}[g["met"]]
        add(f"- {verdict}: {g['goal']}: {g['detail']}.")
    add("")


def markdown(results: list[KernelRun], meta: dict[str, Any], chart_ref: str | None = None) -> str:
    lines: Lines = []
    add = lines.append
    cfg, m = meta["config"], meta["machine"]
    add(f"# accir performance: {len(results)} kernels, `{cfg['timed_size']}` size, "
        f"{cfg['threads']} threads")
    add("")
    add(f"accir against CPython, NumPy, Numba (`@njit`, `parallel=True`) and C with OpenMP on "
        f"{m['cpu']}. Generated by `benchmarks/suite.py"
        f"{' --quick' if cfg['quick'] else ''}`; every number and verdict below comes from "
        "this run.")
    add("")
    _machine(add, meta)
    _times(add, results, meta, chart_ref)
    _roofline(add, results, meta)
    _compile(add, results, meta)
    if meta.get("time_passes"):
        _pass_times(add, results)
    _cache(add, meta)
    _correctness(add, results, meta)
    _goals(add, results, meta.get("cache"))
    return "\n".join(lines).rstrip()


# -------------------------------------------------------------------------------------- chart


def chart_data(results: list[KernelRun]) -> tuple[list[str], dict[str, list[float | None]]]:
    """Kernels (and "geomean") and, per series, the speed-up over Numba @njit."""
    names = [kr.name for kr in results] + ["geomean"]
    data: dict[str, list[float | None]] = {}
    for key in CHART_SERIES:
        ups = [kr.ratio("numba", key) for kr in results]
        data[key] = [*ups, geomean([u for u in ups if u is not None])]
    return names, data


def chart(results: list[KernelRun], meta: dict[str, Any], path: str) -> None:
    """Grouped bars on a log axis, drawn from 1: up is faster than Numba @njit, down slower."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, data = chart_data(results)
    fig, ax = plt.subplots(figsize=(12, 5))
    width = 0.8 / len(CHART_SERIES)
    for s, (key, values) in enumerate(data.items()):
        offset = (s - (len(CHART_SERIES) - 1) / 2) * width
        shown = [(i + offset, v) for i, v in enumerate(values) if v]
        ax.bar([x for x, _ in shown], [v - 1.0 for _, v in shown], width, bottom=1.0,
               label=IMPLS[key])
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axvline(len(names) - 1.5, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("speed-up over Numba @njit")
    m, cfg = meta["machine"], meta["config"]
    ax.set_title(f"Speed-up over Numba @njit (log scale): {m['cpu']}, {cfg['threads']} threads, "
                 f"{cfg['timed_size']} size", pad=28)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(ncols=len(CHART_SERIES), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
