"""The dependence tests against a brute-force oracle (tests/dependence_oracle.py).

Random problems: 1-3 common loops and 0-1 private loop per side, constant, triangular and
symbolic bounds (some hidden from the analysis as unknown), 1-3 dimensions with SIV, MIV, ZIV
and non-affine subscripts. For several values of the symbols, every dependence the oracle finds
must be covered by a reported direction vector with matching distances, and the reported
conditions must hold. Precision (the share of reported fully refined vectors that the oracle
confirms) is printed with -s and must be at least 0.95 on SIV problems with constant bounds,
where the tests claim to be exact.
"""

from __future__ import annotations

import random

from dependence_oracle import assignments, check, decide, measure_precision, random_case
from hypothesis import given, settings
from hypothesis import strategies as st

STYLES = ["siv", "constant", "affine", "symbolic"]


@given(st.randoms(use_true_random=False), st.sampled_from(STYLES))
def test_every_dependence_is_reported(rng: random.Random, style: str) -> None:
    case = random_case(rng, style)
    result = decide(case.problem)
    report = check(case, result, assignments(case, rng))
    assert not report.misses, "\n".join([repr(case), repr(result), *report.misses[:5]])


def test_precision() -> None:
    profile = settings.default
    examples = 25 * (profile.max_examples if profile is not None else 100)
    stats = measure_precision(examples, seed=20240)
    print(f"\ndependence tests on {examples} random problems (oracle over 1-6 symbol "
          "assignments each):")
    print(f"  {'category':20s} {'problems':>8s} {'dependent':>9s} {'indep.':>6s} "
          f"{'refined':>7s} {'confirmed':>9s} {'precision':>9s} {'with *':>6s} "
          f"{'distances':>9s} {'misses':>6s}")
    for name, s in sorted(stats.items()):
        print(f"  {name:20s} {s['problems']:8.0f} {s['dependent']:9.0f} "
              f"{s['proven_independent']:6.0f} {s['refined']:7.0f} {s['confirmed']:9.0f} "
              f"{s['precision']:9.3f} {s['starred']:6.0f} {s['distance_recall']:9.3f} "
              f"{s['misses']:6.0f}")
    assert stats["all"]["misses"] == 0
    siv = stats["siv-constant"]
    assert siv["refined"] >= 10
    assert siv["precision"] >= 0.95
    assert siv["distance_recall"] >= 0.95
