"""Tests of the pass manager, the pass registry, the analysis manager and the golden fixture.

The passes used here are test-only passes registered by this module (names `test-*`).
"""

from __future__ import annotations

import dataclasses
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

from accir.analysis.manager import AnalysisManager
from accir.diagnostics import AccirError, IRVerificationError, Remark
from accir.ir.nodes import Function, Module, walk_stmts
from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.passes import registry
from accir.passes.base import Pass, PassResult
from accir.passes.manager import (
    BANNER,
    DEFAULT_PIPELINE,
    Instruments,
    PassManager,
    PipelineResult,
    default_pipeline,
    format_timings,
    parse_pipeline,
)
from accir.passes.registry import PipelineError, get_pass, register

if TYPE_CHECKING:
    from conftest import Golden

SOURCE = """\
func @f(%A: memref<?xf64, C>, %n: pyint) -> none {
  var %i: pyint
  L0: for %i = 0 to %n step 1 {
    S0: %A[%i] = (%A[%i] * 2.0:f64)
  }
}
"""


def module() -> Module:
    return parse_module(SOURCE, "t.accir")


# ---------------------------------------------------------------- test-only passes


class StmtCount:
    """An analysis: the number of statements of a function; counts its computations."""

    name: ClassVar[str] = "stmt-count"
    calls: ClassVar[int] = 0

    @classmethod
    def compute(cls, function: Function, manager: AnalysisManager) -> int:
        cls.calls += 1
        return sum(1 for _ in walk_stmts(function.body))


@register
@dataclass(frozen=True)
class Noop(Pass):
    name = "test-noop"
    summary = "change nothing"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return PassResult(module)


@register
@dataclass(frozen=True)
class Rename(Pass):
    name = "test-rename"
    summary = "append a suffix to the entry function's name"
    suffix: str = "_r"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        entry = dataclasses.replace(module.entry, name=module.entry.name + self.suffix)
        return PassResult(Module((entry, *module.functions[1:])))


@register
@dataclass(frozen=True)
class Options(Pass):
    name = "test-options"
    summary = "take options of every kind"
    count: int = 1
    flag: bool = False
    label: str = "x"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return PassResult(module)


@register
@dataclass(frozen=True)
class Break(Pass):
    name = "test-break"
    summary = "define the entry function twice"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return PassResult(Module((*module.functions, module.entry)))


@register
@dataclass(frozen=True)
class Crash(Pass):
    name = "test-crash"
    summary = "raise"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        raise RuntimeError("boom")


@register
@dataclass(frozen=True)
class BadResult(Pass):
    name = "test-bad-result"
    summary = "return something that is not a PassResult"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        return module  # type: ignore[return-value]


@register
@dataclass(frozen=True)
class Remarks(Pass):
    name = "test-remarks"
    summary = "emit remarks"
    tag: str = "a"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        mine = Remark("info", f"{self.tag}: {module.entry.name}")
        other = Remark("info", "attributed elsewhere", pass_name="someone")
        return PassResult(module, remarks=(mine, other))


@register
@dataclass(frozen=True)
class Count(Pass):
    name = "test-count"
    summary = "compute stmt-count for every function"

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        for fn in module.functions:
            analyses.get(StmtCount, fn)
        return PassResult(module)


@register
@dataclass(frozen=True)
class Rebuild(Pass):
    name = "test-rebuild"
    summary = "make a new module object holding the same functions"
    preserve: bool = False

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        kept = frozenset({StmtCount.name}) if self.preserve else frozenset()
        return PassResult(Module(tuple(module.functions)), preserved=kept)


def run(pipeline: str, **instruments: object) -> tuple[PipelineResult, str]:
    stream = io.StringIO()
    pm = PassManager.from_string(pipeline, Instruments(stream=stream, **instruments))  # type: ignore[arg-type]
    return pm.run(module()), stream.getvalue()


def dump(name: str, m: Module) -> str:
    return f"{BANNER.format(name)}\n{print_module(m)}\n"


# ---------------------------------------------------------------- pipeline syntax


@pytest.mark.parametrize("pipeline", [
    "",
    "test-noop",
    "test-noop,test-rename",
    "test-rename{suffix=_x},test-noop,test-rename",
    "test-options{count=3}",
    "test-options{count=-2 flag=true label=a,b}",
    "test-options{flag=true}",
])
def test_canonical_pipelines_print_back_unchanged(pipeline: str) -> None:
    assert PassManager.from_string(pipeline).to_string() == pipeline


@pytest.mark.parametrize(("pipeline", "canonical"), [
    ("test-options{count=1 flag=false label=x}", "test-options"),
    ("test-options{label=y count=+7}", "test-options{count=7 label=y}"),
    (" test-noop , test-rename{ suffix=_s } ", "test-noop,test-rename{suffix=_s}"),
    ("test-options{}", "test-options"),
])
def test_pipelines_print_canonically(pipeline: str, canonical: str) -> None:
    assert PassManager.from_string(pipeline).to_string() == canonical


def test_options_are_typed() -> None:
    (p,) = parse_pipeline("test-options{count=12 flag=true label=abc}")
    assert p == Options(count=12, flag=True, label="abc")
    assert p.with_options_string() == "test-options{count=12 flag=true label=abc}"
    assert Options().with_options_string() == "test-options"


ERRORS = [
    ("test-noop,test-nop", "unknown pass 'test-nop'", 10, "did you mean 'test-noop'?"),
    ("test-options{cuont=2}", "pass 'test-options' has no option 'cuont'", 13,
     "did you mean 'count'? known options of 'test-options': count, flag, label"),
    ("test-noop{x=1}", "pass 'test-noop' has no option 'x'", 10, "'test-noop' takes no options"),
    ("test-options{count=abc}",
     "option 'count' of pass 'test-options' expects an integer, found 'abc'", 19, None),
    ("test-options{flag=yes}",
     "option 'flag' of pass 'test-options' expects true or false, found 'yes'", 18, None),
    ("test-options{count=1", "unbalanced '{': missing '}'", 12, None),
    ("test-options{count=1 {x=1}}", "unbalanced '{': missing '}'", 12, None),
    ("test-noop}", "unbalanced '}': no '{' opens it", 9, None),
    ("test-options{count}", "expected key=value, found 'count'", 13, "options are space-separated"),
    ("test-options{count=}", "expected key=value, found 'count='", 13, None),
    ("test-options{count=1 count=2}", "option 'count' given twice", 21, None),
    ("test-noop,,test-rename", "expected a pass name, found ','", 10, None),
    ("test-noop,", "expected a pass name, found the end", 10, None),
    ("test-noop test-rename", "expected ',' or '{' after pass 'test-noop', found 't'", 10, None),
]


@pytest.mark.parametrize(("pipeline", "message", "col", "hint"), ERRORS)
def test_pipeline_errors(pipeline: str, message: str, col: int, hint: str | None) -> None:
    with pytest.raises(PipelineError) as info:
        PassManager.from_string(pipeline)
    e = info.value
    assert isinstance(e, AccirError)
    assert e.message == message
    lines = str(e).splitlines()
    assert lines[:3] == [f"error: {message}", f"    {pipeline}", "    " + " " * col + "^"]
    if hint is not None:
        assert e.hint is not None and hint in e.hint
        assert lines[3] == f"hint: {e.hint}"


def test_default_pipeline() -> None:
    assert DEFAULT_PIPELINE == ("normalize,bounds-check-hoist,licm,loop-distribution,"
                                "loop-interchange,unroll-and-jam,loop-tiling,loop-fusion,"
                                "loop-wavefront,mark-independent-loops,auto-parallelize")
    assert default_pipeline("cpu") == default_pipeline("interp") == DEFAULT_PIPELINE


# ---------------------------------------------------------------- registry


def test_get_pass_and_unknown_pass_message() -> None:
    assert get_pass("test-rename") is Rename
    with pytest.raises(PipelineError) as info:
        get_pass("test-renam")
    e = info.value
    assert str(e).startswith("error: unknown pass 'test-renam'\nhint: did you mean 'test-rename'?")
    assert e.hint is not None and "known passes: " in e.hint and "normalize" in e.hint


def test_listed_passes_are_imported_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setattr(registry, "_PASSES", dict(registry._PASSES))
    (tmp_path / "lazy_pass_mod.py").write_text(
        "from dataclasses import dataclass\n"
        "from accir.passes.base import Pass, PassResult\n"
        "from accir.passes.registry import register\n"
        "@register\n@dataclass(frozen=True)\nclass Lazy(Pass):\n"
        "    name = 'test-lazy'\n    summary = 'lazy'\n"
        "    def run(self, module, analyses):\n        return PassResult(module)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.PASS_MODULES, "test-lazy", "lazy_pass_mod")
    assert "lazy_pass_mod" not in sys.modules
    assert get_pass("test-lazy").__module__ == "lazy_pass_mod"
    monkeypatch.delitem(sys.modules, "lazy_pass_mod")
    monkeypatch.setitem(registry.PASS_MODULES, "test-gone", "no_such_pass_module")
    with pytest.raises(PipelineError, match="its module no_such_pass_module does not exist"):
        get_pass("test-gone")
    monkeypatch.setitem(registry.PASS_MODULES, "test-unregistered", "json")
    with pytest.raises(PipelineError, match="module json does not register a pass named"):
        get_pass("test-unregistered")


def test_all_passes() -> None:
    pytest.importorskip("accir.passes.normalize")
    pytest.importorskip("accir.passes.bounds_check_hoist")
    names = [cls.name for cls in registry.all_passes()]
    assert names == sorted(names)
    assert {"normalize", "bounds-check-hoist", "test-noop"} <= set(names)


def test_listed_modules_missing_or_present() -> None:
    import importlib.util

    for name, module_name in registry.PASS_MODULES.items():
        if importlib.util.find_spec(module_name) is None:
            with pytest.raises(PipelineError, match="does not exist"):
                get_pass(name)
        else:
            assert get_pass(name).name == name


def test_register_checks_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_PASSES", dict(registry._PASSES))

    def make(name: str, frozen: bool = True, **fields: tuple[type, object]) -> type[Pass]:
        spec = [(k, t, dataclasses.field(default=d)) if d is not dataclasses.MISSING else (k, t)
                for k, (t, d) in fields.items()]
        cls = dataclasses.make_dataclass("P", spec, bases=(Noop,), frozen=frozen)
        cls.name = name  # type: ignore[attr-defined]
        return cls

    with pytest.raises(ValueError, match="not kebab-case"):
        register(make("Bad_Name"))
    with pytest.raises(ValueError, match="must be a bool, int or str"):
        register(make("test-float", factor=(float, 1.0)))
    with pytest.raises(ValueError, match="with a default"):
        register(make("test-nodefault", factor=(int, dataclasses.MISSING)))
    with pytest.raises(ValueError, match="registered twice"):
        register(make("test-noop"))
    assert register(make("test-fresh", n=(int, 2))).options()["n"].default == 2

    @dataclass(frozen=True)
    class Annotated(Noop):  # string annotations (from __future__ import annotations)
        name = "test-annotated"
        factor: float = 1.0

    assert Annotated.options()["factor"].type == "float"
    with pytest.raises(ValueError, match="option 'factor' of pass 'test-annotated' must be"):
        register(Annotated)


def test_register_requires_a_frozen_dataclass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_PASSES", dict(registry._PASSES))

    class Plain(Noop):
        name = "test-plain"

    with pytest.raises(ValueError, match="summary"):
        register(type("NoSummary", (Plain,), {"summary": None}))
    assert register(Plain) is Plain  # inherits Noop's frozen dataclass
    with pytest.raises(ValueError, match="frozen"):
        register(dataclass(type("Thawed", (), {"name": "test-thawed", "summary": "s"})))


# ---------------------------------------------------------------- running and verifying


def test_unchanged_module_is_the_same_object() -> None:
    m = module()
    result = PassManager.from_string("test-noop,test-options").run(m)
    assert result.module is m
    renamed = PassManager.from_string("test-rename{suffix=_y}").run(m).module
    assert renamed.entry.name == "f_y"


def test_input_is_verified() -> None:
    broken = Module((module().entry, module().entry))
    with pytest.raises(IRVerificationError, match="after pass 'input': function 'f' defined twice"):
        PassManager.from_string("test-noop").run(broken)


def test_verification_after_a_pass_names_it() -> None:
    with pytest.raises(IRVerificationError) as info:
        PassManager.from_string("test-noop,test-break,test-noop").run(module())
    assert info.value.message == "after pass 'test-break': function 'f' defined twice"


def test_a_pass_must_return_a_pass_result() -> None:
    with pytest.raises(TypeError, match="pass 'test-bad-result' returned"):
        PassManager.from_string("test-bad-result").run(module())


def test_remarks_are_collected_in_order() -> None:
    result, _ = run("test-remarks{tag=one},test-rename,test-remarks{tag=two}")
    assert [(r.message, r.pass_name) for r in result.remarks] == [
        ("one: f", "test-remarks"), ("attributed elsewhere", "someone"),
        ("two: f_r", "test-remarks"), ("attributed elsewhere", "someone"),
    ]


def test_analyses_are_cached_and_invalidated(monkeypatch: pytest.MonkeyPatch) -> None:
    for pipeline, computed in [
        ("test-count,test-noop,test-count", 1),
        ("test-count,test-rebuild{preserve=true},test-count", 1),
        ("test-count,test-rebuild,test-count", 2),
        ("test-count,test-rename,test-count", 2),
    ]:
        monkeypatch.setattr(StmtCount, "calls", 0)
        PassManager.from_string(pipeline).run(module())
        assert StmtCount.calls == computed, pipeline


def test_analysis_manager() -> None:
    am = AnalysisManager()
    fn = module().entry
    assert am.get(StmtCount, fn) == 2
    assert am.get(StmtCount, fn) == 2
    assert am.get(StmtCount, module().entry) == 2  # equal but not identical: computed again
    assert (am.computed, len(am)) == (2, 2)
    am.invalidate(frozenset({"stmt-count"}))
    assert len(am) == 2
    am.invalidate(frozenset({"something-else"}))
    assert len(am) == 0


# ---------------------------------------------------------------- instruments


def test_print_after_all_banners_are_exact() -> None:
    result, out = run("test-noop,test-rename", print_after_all=True)
    m = module()
    renamed = result.module
    assert out == dump("test-noop", m) + dump("test-rename", renamed)
    assert out.splitlines()[0] == "// -----// IR Dump After test-noop //----- //"


def test_print_after_named_passes() -> None:
    _, out = run("test-noop,test-rename,test-options", print_after=frozenset({"test-options"}))
    assert out.count("IR Dump After") == 1
    assert out.startswith("// -----// IR Dump After test-options //----- //\nfunc @f_r(")


@pytest.mark.parametrize(("extra", "printed"), [
    ({}, ["test-rename", "test-rename"]),
    ({"print_after_all": True}, ["test-rename", "test-rename"]),
    ({"print_after": frozenset({"test-noop"})}, []),
    ({"print_after": frozenset({"test-noop", "test-rename"})}, ["test-rename", "test-rename"]),
])
def test_print_after_change_prints_only_changes(extra: dict[str, object], printed: list[str]
                                                ) -> None:
    _, out = run("test-noop,test-rename,test-noop,test-rename", print_after_change=True, **extra)
    banners = [line.split()[5] for line in out.splitlines() if "IR Dump After" in line]
    assert banners == printed


def test_print_after_unknown_pass() -> None:
    with pytest.raises(PipelineError, match="cannot print the IR after pass 'test-nop'") as info:
        PassManager.from_string("test-noop", Instruments(print_after=frozenset({"test-nop"})))
    assert info.value.hint is not None and "did you mean 'test-noop'?" in info.value.hint


def test_default_stream_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    PassManager.from_string("test-noop", Instruments(print_after_all=True)).run(module())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(BANNER.format("test-noop"))


def test_time_passes() -> None:
    result, out = run("test-noop,test-rename,test-noop", time_passes=True)
    timings = result.timings
    assert [name for name, _ in timings] == ["test-noop", "test-rename", "test-noop"]
    assert all(seconds >= 0 for _, seconds in timings)
    assert out == result.format_timings()
    lines = out.splitlines()
    assert lines[1].strip() == "Execution time report"
    assert lines[3].startswith("  Total Execution Time: ")
    assert [line.split()[-1] for line in lines[6:]] == [
        "test-noop", "test-rename", "test-noop", "(verifier)", "Total"]
    assert lines[-1].endswith("(100.0%)  Total")


def test_format_timings_table() -> None:
    assert format_timings([("normalize", 0.75), ("bounds-check-hoist", 0.25)], 1.0) == (
        "===" + "-" * 73 + "===\n"
        + " " * 29 + "Execution time report\n"
        + "===" + "-" * 73 + "===\n"
        "  Total Execution Time: 2.0000 seconds\n"
        "\n"
        "  ----Wall Time----  ----Name----\n"
        "    0.7500 ( 37.5%)  normalize\n"
        "    0.2500 ( 12.5%)  bounds-check-hoist\n"
        "    1.0000 ( 50.0%)  (verifier)\n"
        "    2.0000 (100.0%)  Total\n"
    )
    assert format_timings([]).splitlines()[-1] == "    0.0000 (  0.0%)  Total"


def test_no_output_without_instruments() -> None:
    _, out = run("test-noop,test-rename")
    assert out == ""


def test_dump_dir(tmp_path: Path) -> None:
    target = tmp_path / "stages"
    result, _ = run("test-noop,test-rename{suffix=_a},test-rename", dump_dir=target)
    names = sorted(p.name for p in target.iterdir())
    assert names == ["00-input.accir", "01-test-noop.accir", "02-test-rename.accir",
                     "03-test-rename.accir"]
    assert (target / "00-input.accir").read_text() == print_module(module())
    last = parse_module((target / "03-test-rename.accir").read_text())
    assert last == result.module
    assert last.entry.name == "f_a_r"


@pytest.mark.parametrize(("failing", "error"), [
    ("test-crash", RuntimeError), ("test-break", IRVerificationError)])
def test_reproducer(tmp_path: Path, failing: str, error: type[Exception]) -> None:
    path = tmp_path / "repro" / "crash.accir"
    pipeline = f"test-rename{{suffix=_z}},{failing},test-noop"
    with pytest.raises(error):
        run(pipeline, reproducer=path)
    text = path.read_text()
    header, _, ir = text.partition("\n")
    assert header == f'// accir-reproducer: pipeline="{pipeline}" failing-pass="{failing}"'
    assert parse_module(ir).entry.name == "f_z"  # the failing pass's input
    assert ir == print_module(parse_module(ir))


def test_no_reproducer_on_success(tmp_path: Path) -> None:
    run("test-noop", reproducer=tmp_path / "r.accir")
    assert not (tmp_path / "r.accir").exists()


# ---------------------------------------------------------------- golden-snapshot fixture


def test_golden_fixture(golden: Golden, tmp_path: Path) -> None:
    g = golden
    g.root, g.update = tmp_path, False  # independent of --update-golden
    with pytest.raises(pytest.fail.Exception, match="missing: run `pytest --update-golden`"):
        g.check("p/case.out.accir", "a\n")
    g.update = True
    g.check("p/case.out.accir", "a\nb\n")
    assert (tmp_path / "p" / "case.out.accir").read_text() == "a\nb\n"
    g.update = False
    g.check("p/case.out.accir", "a\nb\n")
    with pytest.raises(pytest.fail.Exception) as info:
        g.check("p/case.out.accir", "a\nc\n")
    assert "-b\n+c\n" in str(info.value) and "--update-golden" in str(info.value)
    g.update = True
    g.check_ir("p/m.out.accir", module())
    assert (tmp_path / "p" / "m.out.accir").read_text() == SOURCE
