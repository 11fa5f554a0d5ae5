"""Dependence analysis benchmark: soundness and precision against an execution oracle, and
analysis time.

    .venv/bin/python benchmarks/dependence.py            # ~25 seconds
    .venv/bin/python benchmarks/dependence.py --quick    # ~10 seconds
    .venv/bin/python benchmarks/dependence.py --programs 500 --seed 3

(a) Soundness and precision (tests/dependence_programs.py): seeded random loop nests (all kinds,
and the SIV-only, constant-bound class), the functions of the differential corpus
(tests/corpus, at a small size; functions that do not lower are skipped, arguments that share
memory are analysed as such) and the hand-written kernels and reproducers of
tests/dependence_programs.py (the open bugs show there as misses). Every run of the
reference interpreter is logged; every dependence that happened must be covered by one the
analysis reports (a miss is unsoundness), and precision is the share of reported (source, sink,
kind, direction vector) entries that some run confirmed.

(b) Analysis time: `DependenceAnalysis` (with the access analysis under it) on a fresh
AnalysisManager, per kernel, median of repeats, for the PolyBench-style kernels of
benchmarks/kernels.py and tests/dependence_programs.py.

Output: Markdown on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
for _p in (_ROOT, _ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import numpy as np  # noqa: E402
from dependence_programs import (  # noqa: E402
    KERNELS as ORACLE_KERNELS,
)
from dependence_programs import (  # noqa: E402
    REPRODUCERS,
    Outcome,
    check_function,
    check_kernel,
    check_program,
    lower,
    random_program,
)

from accir.analysis.dependence import DependenceAnalysis  # noqa: E402
from accir.analysis.manager import AnalysisManager  # noqa: E402


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ (a) soundness


@dataclass
class Tally:
    name: str
    functions: int = 0
    skipped: int = 0
    raised: int = 0  # functions with a run that raised (the log up to the exception counts)
    true: int = 0
    misses: int = 0
    unsound: int = 0
    entries: int = 0
    confirmed: int = 0
    unmodelled: int = 0  # statement pairs ordered through callees, without a dependence
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    by_test: dict[str, list[int]] = field(default_factory=dict)

    def add(self, label: str, outcome: Outcome, source: str = "") -> None:
        self.functions += 1
        self.raised += bool(outcome.errors)
        self.true += len(outcome.true)
        self.misses += len(outcome.misses)
        self.unsound += bool(outcome.misses)
        self.entries += outcome.entries
        self.confirmed += outcome.confirmed
        self.unmodelled += len(outcome.unmodelled)
        for test, (e, c) in outcome.by_test.items():
            counts = self.by_test.setdefault(test, [0, 0])
            counts[0] += e
            counts[1] += c
        if outcome.misses and len(self.examples) < 20:
            misses = "\n".join("    " + m.line() for m in outcome.misses[:3])
            more = len(outcome.misses) - 3
            self.examples.append(f"{label}: {len(outcome.misses)} missed\n{source}{misses}"
                                 + (f"\n    ... {more} more" if more > 0 else ""))

    def row(self) -> str:
        precision = f"{self.confirmed / self.entries:.3f}" if self.entries else "-"
        return (f"| {self.name} | {self.functions} | {self.skipped} | {self.raised} | "
                f"{self.true} | {self.misses} | {self.unsound} | {self.confirmed}/{self.entries}"
                f" | {precision} | {self.unmodelled} | {self.seconds:.1f} |")


HEADER = ("| set | functions | skipped | raised | true deps | missed | unsound functions | "
          "confirmed/reported | precision | via callees | s |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def random_programs(count: int, seed: int, siv_only: bool) -> Tally:
    tally = Tally("random, SIV + constant bounds" if siv_only else "random, all")
    start = time.perf_counter()
    for k in range(count):
        s = seed * 1_000_003 + k
        prog, args = random_program(s, siv_only)
        try:
            outcome = check_program(prog, args)
        except Exception as err:  # a generator/frontend problem, not ours here
            tally.skipped += 1
            tally.skips.append(f"seed {s}: {type(err).__name__}: {err}")
            continue
        tally.add(f"seed {s}", outcome, prog.source)
    tally.seconds = time.perf_counter() - start
    return tally


def corpus_cases() -> Iterable[Any]:
    from corpus import MODULES

    for name in MODULES:
        yield from importlib.import_module(f"corpus.{name}").CASES


def corpus(size: int, runs: int) -> Tally:
    tally = Tally(f"tests/corpus (size >= {size})")
    start = time.perf_counter()
    for case in corpus_cases():
        # the case's own size nearest above `size` (some builders only know their sizes)
        n = min((s for s in case.sizes if s >= size), default=max(case.sizes))
        try:
            arg_sets = []
            for seed in range(runs):
                args = case.make_args(np.random.default_rng(seed), n)
                arg_sets.append(case.derive(args) if case.derive else args)
            outcome = check_function(case.fn, arg_sets, case.id)
        except Exception as err:  # skip what does not lower
            tally.skipped += 1
            tally.skips.append(f"{case.id}: {type(err).__name__}: {str(err).splitlines()[0]}")
            continue
        tally.add(case.id, outcome)
    tally.seconds = time.perf_counter() - start
    return tally


def hand_written() -> Tally:
    tally = Tally("kernels and reproducers (tests/dependence_programs.py)")
    start = time.perf_counter()
    for name in ORACLE_KERNELS:
        tally.add(name, check_kernel(name))
    for name, (fn, arg_sets, _, _) in REPRODUCERS.items():
        tally.add(name, check_function(fn, arg_sets, name))
    tally.seconds = time.perf_counter() - start
    return tally


# ------------------------------------------------------------------------------ (b) timing


def timing_kernels() -> Iterable[tuple[str, Callable[..., Any], tuple[Any, ...]]]:
    from benchmarks.kernels import KERNELS

    for k in KERNELS.values():
        yield f"{k.name} (benchmarks)", k.py, k.inputs("mini")
    rng = np.random.default_rng(0)
    for name, (fn, make) in ORACLE_KERNELS.items():
        yield name, fn, make(rng, 6)


def time_analysis(repeats: int) -> list[str]:
    rows = ["| kernel | accesses | dependences | carried | analysis ms (median) | min ms |",
            "|---|---:|---:|---:|---:|---:|"]
    for name, fn, args in timing_kernels():
        try:
            module, _ = lower(fn, args)
        except Exception as err:
            rows.append(f"| {name} | lowering failed: {type(err).__name__} | | | | |")
            continue
        times = []
        graph = None
        for _ in range(repeats):
            manager = AnalysisManager()
            t0 = time.perf_counter()
            graph = manager.get(DependenceAnalysis, module.entry)
            times.append((time.perf_counter() - t0) * 1e3)
        assert graph is not None
        carried = sum(d.carried for d in graph.dependences)
        rows.append(f"| {name} | {len(graph.accesses)} | {len(graph.dependences)} | {carried} | "
                    f"{statistics.median(times):.2f} | {min(times):.2f} |")
    return rows


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer programs and repeats")
    parser.add_argument("--programs", type=int, default=None, help="random programs per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=None, help="timing repeats")
    opts = parser.parse_args(argv)
    count = opts.programs or (40 if opts.quick else 200)
    repeats = opts.repeats or (5 if opts.quick else 21)
    size = 4 if opts.quick else 5

    progress(f"random programs: {count} + {count} (seed {opts.seed})")
    tallies = [random_programs(count, opts.seed, False), random_programs(count, opts.seed, True)]
    progress("corpus")
    tallies.append(corpus(size, 1 if opts.quick else 2))
    tallies.append(hand_written())
    progress("timing")
    timing = time_analysis(repeats)

    out = ["# Dependence analysis: soundness, precision, time", "",
           "## Soundness and precision against the execution oracle", "", HEADER]
    out += [t.row() for t in tallies]
    out += ["", "*missed*: true dependences (kind, source, sink, distance vector) that no "
            "reported dependence covers; *precision*: reported (source, sink, kind, direction "
            "vector) entries confirmed by some run; *raised*: functions with a run that ended "
            "in an exception (its log up to there counts); *via callees*: statement pairs "
            "ordered by a true dependence through accesses inside called functions for which "
            "the analysis has no access, with no dependence between them in the graph."]
    for t in tallies:
        if t.examples:
            out += ["", f"### Missed dependences: {t.name}", "", "```"]
            out += t.examples
            out += ["```"]
        if t.skips:
            out += ["", f"Skipped ({t.name}): " + "; ".join(t.skips[:12])
                    + (" ..." if len(t.skips) > 12 else "")]
    out += ["", "### Precision by deciding test", "",
            "| test | " + " | ".join(t.name for t in tallies) + " |",
            "|---|" + "---:|" * len(tallies)]
    for test in sorted({k for t in tallies for k in t.by_test}):
        cells = []
        for t in tallies:
            e, c = t.by_test.get(test, (0, 0))
            cells.append(f"{c}/{e} = {c / e:.2f}" if e else "-")
        out.append(f"| {test} | " + " | ".join(cells) + " |")
    out += ["", f"## Analysis time (median of {repeats}, fresh AnalysisManager)", ""]
    out += timing
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # pragma: no cover
        traceback.print_exc()
        sys.exit(130)
