"""benchmarks/suite.py: a tiny end-to-end run (mini sizes, 1-2 repeats), the roofline arithmetic,
the goals, the progress bar, and that a wrong implementation is reported and not timed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from benchmarks import suite, suite_machine, suite_report
from benchmarks.suite import ImplRun, KernelRun

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["--quick", "--sizes", "mini,mini", "--repeats", "2", "--threads", "2"]


def _run(tmp_path: Path, kernels: str) -> tuple[int, str, dict]:
    md, png, js = tmp_path / "report.md", tmp_path / "chart.png", tmp_path / "raw.json"
    rc = suite.main([*TINY, "--kernels", kernels, "--markdown", str(md), "--chart", str(png),
                     "--json", str(js)])
    return rc, md.read_text(), json.loads(js.read_text())


def _is_time_or_na(cell: str) -> bool:
    if cell == "n/a":
        return True
    try:
        return float(cell) > 0
    except ValueError:
        return False


def _table_row(report: str, kernel: str, header_start: str) -> list[str]:
    """The cells of `kernel`'s row in the first table after the line starting with
    `header_start`."""
    lines = report.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(header_start))
    row = next(ln for ln in lines[start:] if ln.startswith(f"| {kernel} |"))
    return [c.strip() for c in row.strip("|").split("|")]


def test_tiny_run_writes_report_chart_and_json(tmp_path: Path) -> None:
    rc, report, raw = _run(tmp_path, "saxpy,gemm")
    assert rc == 0, report
    for heading in ("# accir performance", "## Machine", "## Run time", "## Roofline",
                    "## Compile time", "## The on-disk cache", "## Correctness", "## Goals"):
        assert heading in report
    assert "| **geomean** |" in report and "| **total** |" in report
    assert "![Speed-up over Numba @njit](chart.png)" in report
    for name in ("saxpy", "gemm"):
        cells = _table_row(report, name, "| kernel | size |")
        # CPython, NumPy, Numba, Numba parallel, C, accir serial, accir parallel
        assert all(_is_time_or_na(c) for c in cells[2:9]), cells
        assert cells[4] != "n/a" and cells[7] != "n/a" and cells[8] != "n/a", cells
    goals = report.split("## Goals", 1)[1]
    assert goals.count("\n- **") == 6
    for name in ("saxpy", "gemm"):  # compiled by one new process, loaded by the next
        cells = _table_row(report, name, "| kernel | compiling s |")
        assert cells[3] == "yes" and float(cells[1]) > 0 and float(cells[2]) > 0, cells
    assert raw["cache"]["gemm"]["cached"] is True
    assert (tmp_path / "chart.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "chart.png").stat().st_size > 1000
    assert raw["implementations"] == list(suite_report.IMPLS)
    for kernel in raw["kernels"]:
        assert set(kernel["impls"]) == set(suite_report.IMPLS)
        assert kernel["impls"]["accir-par"]["compile_s"] is not None
        assert len(kernel["impls"]["accir-par"]["times_s"]) == 2
    assert {g["goal"] for g in raw["goals"]} == {g["goal"] for g in suite_report.goals([], {})}


def test_wrong_results_are_reported_and_not_timed(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real_make_impls = suite.make_impls

    def corrupt(fn):
        def wrong(*args):
            fn(*args)
            args[2][0] += 1.0  # saxpy's output y

        return wrong

    def make_impls(k, cfg):
        impls = real_make_impls(k, cfg)
        impls["numpy"].fn = corrupt(impls["numpy"].fn)
        impls["accir-par"].fn = corrupt(impls["accir-par"].fn)
        return impls

    monkeypatch.setattr(suite, "make_impls", make_impls)
    monkeypatch.setattr(suite, "C_KERNELS", None)  # and no C: its column must read n/a
    monkeypatch.setitem(suite.MISSING, "c", "removed by the test")
    rc, report, raw = _run(tmp_path, "saxpy")
    assert rc == 1  # accir failed
    impls = raw["kernels"][0]["impls"]
    assert impls["numpy"]["state"] == "MISMATCH" and impls["numpy"]["times_s"] == []
    assert impls["accir-par"]["state"] == "MISMATCH" and impls["accir-par"]["times_s"] == []
    assert impls["accir-serial"]["state"] == "MISMATCH"
    assert "CPython" in impls["accir-par"]["why"]
    assert impls["numba"]["state"] == "ok" and impls["numba"]["times_s"]
    assert impls["c"]["state"] == "n/a"
    cells = _table_row(report, "saxpy", "| kernel | size |")
    assert cells[3] == "MISMATCH" and cells[6] == "n/a" and cells[8] == "MISMATCH"
    assert "saxpy, NumPy: MISMATCH: differs from Numba @njit" in report
    assert raw["limits"]["parallel"]["source"] == "Numba triad"
    assert "not measured" in report


def test_roofline_arithmetic() -> None:
    limits = {"triad_gbs": 10.0, "fma_gflops": 100.0}
    r = suite_machine.roofline(2e9, 1e9, limits, seconds=0.2)
    assert r["memory_s"] == pytest.approx(0.1) and r["compute_s"] == pytest.approx(0.02)
    assert r["bound_s"] == pytest.approx(0.1) and r["bound_by"] == "memory"
    assert r["distance"] == pytest.approx(2.0)
    assert r["gflops"] == pytest.approx(10.0) and r["pct_peak"] == pytest.approx(10.0)
    assert r["gbs"] == pytest.approx(5.0) and r["pct_bw"] == pytest.approx(50.0)
    compute = suite_machine.roofline(1e10, 1e8, limits, seconds=None)
    assert compute["bound_by"] == "compute" and compute["bound_s"] == pytest.approx(0.1)
    assert compute["distance"] is None
    no_peak = suite_machine.roofline(2e9, 1e9, {"triad_gbs": 10.0, "fma_gflops": None}, 0.2)
    assert no_peak["bound_by"] is None and no_peak["pct_peak"] is None
    assert no_peak["bound_s"] == pytest.approx(0.1)


def test_compulsory_bytes_reads_every_array_and_writes_outputs() -> None:
    k = suite.ALL_KERNELS["saxpy"]
    args = k.inputs("mini")  # (a, x, y), y is the output
    n = k.sizes["mini"]["n"]
    assert suite_machine.compulsory_bytes(args, k.outputs) == 3 * 8 * n


def _fake(name: str, **medians: float) -> KernelRun:
    kr = KernelRun(name, {}, {}, 1.0, 1.0, 1.0, False)
    kr.impls = {key: ImplRun(times_s=[medians[key]]) if key in medians else ImplRun("n/a")
                for key in suite_report.IMPLS}
    for key in ("accir-par", "numba", "numba-par"):
        if key in medians:
            kr.impls[key].first_call_s, kr.impls[key].second_call_s = medians[key] * 10, 0.0
    return kr


def test_goals_name_the_kernels_that_miss() -> None:
    fast = _fake("fast", **{"accir-par": 1.0, "numba-par": 2.0, "c": 1.0, "numba": 3.0})
    slow = _fake("slow", **{"accir-par": 3.0, "numba-par": 2.0, "c": 2.0, "numba": 2.5})
    by_goal = {g["goal"]: g for g in suite_report.goals([fast, slow])}
    every, gm, c_goal, compile_njit, _ = by_goal.values()
    assert every["met"] is False and "slow 1.50x" in every["detail"]
    assert "fast" not in every["detail"].split(":", 1)[1]
    assert gm["met"] is True and gm["value"] == pytest.approx((0.5 * 1.5) ** 0.5)
    assert c_goal["met"] is True and c_goal["value"] == pytest.approx(1.5 ** 0.5)
    assert compile_njit["met"] is False and "slow 1.20x" in compile_njit["detail"]
    assert "fast" not in compile_njit["detail"]
    assert suite_report.goals([fast])[0]["met"] is True


def test_the_cache_goal_names_what_was_not_loaded() -> None:
    row = {"compile_s": 0.3, "cached_s": 0.012, "cached": True, "phases": {}}
    assert suite_report.cache_goal({"a": row, "b": row})["met"] is True
    slow = suite_report.cache_goal({"a": row, "b": {**row, "cached_s": 0.2}})
    assert slow["met"] is False and "slowest b 200.0 ms" in slow["detail"]
    missed = suite_report.cache_goal({"a": row, "b": {**row, "cached": False}})
    assert missed["met"] is False and "not loaded from the cache: b" in missed["detail"]
    assert suite_report.cache_goal({})["met"] is None


def test_progress_bar_in_place_on_a_tty_one_line_per_kernel_otherwise() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = suite_report.Progress(23, tty)
    bar.update(9, "gemm", "timing")
    bar.update(9, "gemm", "checking")
    assert tty.getvalue().startswith("\r[###-------] 9/23 gemm: timing")
    assert "\n" not in tty.getvalue()

    log = io.StringIO()
    bar = suite_report.Progress(2, log)
    for stage in ("inputs", "compiling", "timing"):
        bar.update(1, "saxpy", stage)
    bar.update(2, "gemm", "inputs")
    bar.finish("done")
    assert log.getvalue().splitlines() == ["[----------] 1/2 saxpy: inputs",
                                           "[#####-----] 2/2 gemm: inputs",
                                           "[##########] 2/2 done"]
