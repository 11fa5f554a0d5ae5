"""Generated documentation is current, and the passes' before/after doctests hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

from accir.passes.registry import PASS_MODULES
from accir.tools import passdoc


def test_pass_reference_is_up_to_date():
    assert passdoc.main(["--check"]) == 0, "run: python -m accir.tools.passdoc"


@pytest.mark.parametrize("name", sorted(PASS_MODULES))
def test_pass_doctests(name):
    module = importlib.import_module(PASS_MODULES[name])
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} needs a before/after doctest"
    assert result.failed == 0
