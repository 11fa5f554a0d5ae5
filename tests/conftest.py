"""Make the helper modules of tests/ (e.g. `ir_strategies`) importable from the tests.

Also the golden-snapshot fixture: `golden.check("normalize/loops.out.accir", text)` compares
`text` with `tests/golden/normalize/loops.out.accir`; `pytest --update-golden` rewrites the
files instead (review the result with `git diff tests/golden`). See tests/golden/README.md.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from accir.ir.nodes import Module

sys.path.insert(0, str(Path(__file__).parent))

# Hypothesis profiles: "dev" (default) explores more, "ci" keeps the suite within budget.
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=40, deadline=None, print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/ snapshots from the current output")


class Golden:
    """Compares text with snapshot files under `root`, or rewrites them with `update`."""

    def __init__(self, root: Path, update: bool):
        self.root = root
        self.update = update

    def check(self, name: str, text: str) -> None:
        path = self.root / name
        if self.update:
            if not path.is_file() or path.read_text() != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            return
        if not path.is_file():
            pytest.fail(f"golden file {path} is missing: run `pytest --update-golden` to "
                        "create it, then review it", pytrace=False)
        expected = path.read_text()
        if text != expected:
            diff = "".join(difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True),
                f"{name} (expected)", f"{name} (actual)"))
            pytest.fail(f"output differs from golden file {path}:\n{diff}\nif the change is "
                        "intended, run `pytest --update-golden` and review `git diff`",
                        pytrace=False)

    def check_ir(self, name: str, module: Module) -> None:
        """Snapshot a module's text, after checking that the text parses back to it."""
        from accir.ir.parser import parse_module
        from accir.ir.printer import print_module

        text = print_module(module)
        assert parse_module(text) == module, f"{name}: printed IR does not parse back"
        self.check(name, text)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(GOLDEN_DIR, bool(request.config.getoption("--update-golden")))
