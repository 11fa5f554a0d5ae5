"""Golden snapshots of each pass: tests/golden/<pass>/<case>.accir in, <case>.out.accir out
(regenerate with `pytest --update-golden`, review with `git diff tests/golden`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accir.ir.parser import parse_module
from accir.ir.printer import print_module
from accir.passes.manager import PassManager

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(
    p for p in GOLDEN.glob("*/*.accir") if not p.name.endswith(".out.accir")
)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_pass_output(path: Path, golden, capsys) -> None:
    module = parse_module(path.read_text(), str(path))
    assert parse_module(print_module(module)) == module  # the input round-trips too
    result = PassManager.from_string(path.parent.name).run(module)
    golden.check_ir(f"{path.parent.name}/{path.stem}.out.accir", result.module)
    printed = capsys.readouterr().out
    if printed:  # test-* passes print what they compute: snapshot that too
        golden.check(f"{path.parent.name}/{path.stem}.out.txt", printed)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_pass_is_idempotent(path: Path, capsys) -> None:
    """Running a pass on its own output changes nothing."""
    once = PassManager.from_string(path.parent.name).run(parse_module(path.read_text()))
    twice = PassManager.from_string(path.parent.name).run(once.module)
    assert print_module(twice.module) == print_module(once.module)


def test_every_pass_has_golden_cases() -> None:
    from accir.passes.registry import PASS_MODULES

    covered = {p.parent.name for p in CASES}
    assert set(PASS_MODULES) <= covered, sorted(set(PASS_MODULES) - covered)
