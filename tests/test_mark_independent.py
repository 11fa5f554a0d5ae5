"""mark-independent-loops keeps semantics: the corpus kernels give CPython's results when the
pass (and its staged versions) is in the pipeline, on both targets."""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest
from corpus import Case

import accir

PIPELINE = "normalize,mark-independent-loops,bounds-check-hoist"
MODULES = ("stencils", "linalg", "triangular", "reductions")
CASES = [case for name in MODULES
         for case in importlib.import_module(f"corpus.{name}").CASES if case.derive is None]


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("target", ["cpu", "interp"])
def test_corpus_with_independence_marking(case: Case, target: str) -> None:
    args = case.make_args(np.random.default_rng(7), max(case.sizes))
    expected_args, actual_args = copy.deepcopy(args), copy.deepcopy(args)
    compiled = accir.compile(case.fn, target=target, pipeline=PIPELINE)
    try:
        expected = case.fn(*expected_args)
    except Exception as error:  # the same exception, after the same partial work
        with pytest.raises(type(error)):
            compiled(*actual_args)
        assert all(same(e, a) for e, a in zip(expected_args, actual_args, strict=True))
        return
    actual = compiled(*actual_args)
    if case.rtol:
        np.testing.assert_allclose(actual, expected, rtol=case.rtol)
        return
    assert same(expected, actual)
    assert all(same(e, a) for e, a in zip(expected_args, actual_args, strict=True))


def staged_shift(a, k):
    for i in range(10):
        a[i + k] = a[i] * 2.0


@pytest.mark.parametrize("k", [-3, 0, 4, 10, 12])
def test_both_staged_versions_match_cpython(k: int) -> None:
    f = accir.compile(staged_shift, pipeline=PIPELINE)
    a, ref = np.arange(30.0), np.arange(30.0)
    f(a, k)
    staged_shift(ref, k)
    assert np.array_equal(a, ref)
    kinds = {r.kind for r in f.remarks}
    assert "staged" in kinds
