"""Dependence tests: do two affine array accesses touch the same element, and in which
iteration order?

The problem (`DependenceProblem`) is stated over normalised loops: every loop index runs from
a lower to an upper bound (inclusive) with step +1, bounds being affine in outer loop indices
and in symbols (loop-invariant values such as arguments and array dimensions). Loops common to
both accesses share their index variables; the sink's copies of them are separate leaves
(`sink_vars`), so a subscript pair reads `src(i) == dst(i')`.

The answer (`DependenceResult`) is the set of direction vectors over the common loops for
which the equations may have a solution inside the bounds — a superset of the true set
(soundness first), as small as the tests can make it — each with its distance vector where
the distance is constant, and the name of the test that decided.

Direction for common loop k: '<' means the source iteration comes first (i_k < i'_k), '='
the same iteration, '>' the sink's iteration first, '*' unknown (any).
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from math import prod

from accir.analysis.banerjee import (
    Budget,
    Facts,
    Form,
    Leaves,
    Loop,
    Space,
    gcd_allows,
    is_constant,
    range_conditions,
    refine,
    shift,
    substitute,
    without,
)
from accir.analysis.exact_test import (
    SivSolution,
    enumerate_vectors,
    meet,
    siv_kind,
    solve_siv,
    symbolic_siv,
)
from accir.ir.affine import Affine
from accir.ir.nodes import Compare, Expr

DIRECTIONS = ("<", "=", ">")
# the tests in order of cost and precision; a dependent result names the last one that ran
TESTS = ("ziv", "strong-siv", "weak-zero-siv", "weak-crossing-siv", "exact-siv", "gcd",
         "banerjee", "exact")
MAX_VECTORS = 243  # vectors the separable tests list before collapsing free loops to '*'
HIERARCHY_BUDGET = 200  # direction vectors Banerjee's hierarchy may test per problem


@dataclass(frozen=True)
class LoopBound:
    """A normalised loop: `var` runs over [lower, upper] with step 1. `lower`/`upper` are
    affine in the indices of enclosing loops and in symbols; None when not affine (then
    nothing is known about the range)."""

    var: Expr
    lower: Affine | None
    upper: Affine | None


@dataclass(frozen=True)
class DependenceProblem:
    """Two accesses to the same array.

    `common`: loops enclosing both, outermost first, in terms of the source's index
    variables; `sink_vars[k]` is the sink's index variable for `common[k]` (a distinct leaf;
    the sink's bounds are `common[k]` with source variables renamed to sink variables).
    `src_loops` / `dst_loops`: loops enclosing only the source / only the sink (their
    variables are distinct from everything else). `pairs`: one (source subscript, sink
    subscript) per array dimension, None where a subscript is not affine. Leaves of the
    affine forms that are not loop variables are symbols (loop-invariant integers).
    `nonnegative`: symbols known to be >= 0 (array dimensions, for instance).
    """

    common: tuple[LoopBound, ...]
    sink_vars: tuple[Expr, ...]
    src_loops: tuple[LoopBound, ...]
    dst_loops: tuple[LoopBound, ...]
    pairs: tuple[tuple[Affine | None, Affine | None], ...]
    nonnegative: frozenset[Expr] = frozenset()


@dataclass(frozen=True)
class DirectionVector:
    directions: tuple[str, ...]  # one of '<', '=', '>', '*' per common loop
    distances: tuple[int | None, ...]  # sink minus source index where constant, else None

    def __str__(self) -> str:
        return f"({','.join(self.directions)})"


@dataclass(frozen=True)
class DependenceResult:
    vectors: tuple[DirectionVector, ...]  # empty: proven independent
    test: str  # the test that decided: 'ziv', 'strong-siv', 'weak-zero-siv',
    # 'weak-crossing-siv', 'exact-siv' (general SIV), 'gcd', 'banerjee', 'exact', or 'assumed'
    # (nothing could decide)
    conditions: tuple[Expr, ...] = field(default=())  # over the symbols: all hold if dependent

    @property
    def independent(self) -> bool:
        return not self.vectors




# Problems are values (frozen, hashable) and the tests are pure: every pass that asks for the
# dependence graph after another one changed the IR meets mostly the same pairs again.
@lru_cache(maxsize=8192)
def test_dependence(problem: DependenceProblem) -> DependenceResult:
    """Decide a dependence problem (see the module docstring).

    In order: ZIV and SIV subscripts (per loop, all SIV equations of a loop solved together;
    constant distances and fixed indices are substituted into the remaining subscripts, as in
    the Delta test, which may turn them into SIV ones), then the GCD test and Banerjee's
    hierarchy on the MIV subscripts starting from the SIV vectors, then, for small constant
    spaces, enumeration. Non-affine subscripts impose nothing."""
    n = len(problem.common)
    if all(f is None or g is None for f, g in problem.pairs):
        return DependenceResult((DirectionVector(("*",) * n, (None,) * n),), "assumed")
    analysis = _Analysis(problem)
    try:
        vectors = analysis.run()
        conditions = analysis.conditions(vectors)
    except _Independent as proof:
        return DependenceResult((), proof.test)
    vectors.sort(key=lambda v: tuple("<=>*".index(d) for d in v.directions))
    return DependenceResult(tuple(vectors), analysis.name(), conditions)


class _Independent(Exception):
    def __init__(self, test: str):
        super().__init__(test)
        self.test = test


def _leaves(problem: DependenceProblem) -> Leaves:
    loops = problem.common + problem.src_loops + problem.dst_loops
    found: list[Expr] = [b.var for b in loops] + list(problem.sink_vars)
    for b in loops:
        for bound in (b.lower, b.upper):
            found.extend(bound.leaves() if bound is not None else ())
    for f, g in problem.pairs:
        if f is not None and g is not None:
            found.extend(f.leaves() + g.leaves())
    return Leaves(found)


def _space(problem: DependenceProblem, leaves: Leaves) -> Space:
    """The problem's loops in `leaves`' forms, the sink's bounds in the sink's variables."""
    rename = {leaves.var(b.var): leaves.form(Affine(((v, 1),)))
              for b, v in zip(problem.common, problem.sink_vars, strict=True)}

    def form(bound: Affine | None, sink: bool) -> Form | None:
        if bound is None:
            return None
        out = leaves.form(bound)
        for var, value in rename.items() if sink else ():
            out = substitute(out, var, value)
        return out

    def loop(b: LoopBound, var: Expr, sink: bool = False) -> Loop:
        return Loop(leaves.var(var), form(b.lower, sink), form(b.upper, sink))

    return Space(tuple(loop(b, b.var) for b in problem.common),
                 tuple(loop(b, v, True)
                       for b, v in zip(problem.common, problem.sink_vars, strict=True)),
                 tuple(loop(b, b.var) for b in problem.src_loops),
                 tuple(loop(b, b.var, True) for b in problem.dst_loops),
                 Facts(frozenset(leaves.index[k] for k in problem.nonnegative
                                 if k in leaves.index)), leaves.width)


def _constant(bound: Form | None) -> int | None:
    return None if bound is None else bound[0]


def _relation(op: str, e: Affine) -> Expr:
    """`e >= 0` (op '<=') or `e == 0` (op '=='), written `left op right` with non-negative
    coefficients on both sides."""
    left = Affine.make({k: -c for k, c in e.terms if c < 0}, max(0, -e.constant))
    right = Affine.make({k: c for k, c in e.terms if c > 0}, max(0, e.constant))
    return Compare(op, left.to_expr(), right.to_expr())


def _covers(v: DirectionVector, dirs: tuple[str, ...], dists: tuple[int | None, ...]) -> bool:
    return all(d in ("*", e) and (x is None or y is None or x == y)
               for d, e, x, y in zip(v.directions, dirs, v.distances, dists, strict=True))


def _merge(old: DirectionVector | None, new: DirectionVector) -> DirectionVector:
    if old is None:
        return new
    return DirectionVector(new.directions, tuple(
        x if x == y else None for x, y in zip(old.distances, new.distances, strict=True)))


class _Analysis:
    def __init__(self, problem: DependenceProblem):
        self.problem = problem
        self.leaves = _leaves(problem)
        self.space = space = _space(problem, self.leaves)
        self.pairs = [(self.leaves.form(f), self.leaves.form(g))
                      for f, g in problem.pairs if f is not None and g is not None]
        self.dims = [tuple(map(operator.sub, f, g)) for f, g in self.pairs]
        self.n = len(problem.common)
        self.role: dict[int, int] = {}  # common loop of a loop variable, -1 if private
        for k in range(self.n):
            self.role[space.src[k].var] = self.role[space.dst[k].var] = k
        for loop in space.src_private + space.dst_private:
            self.role[loop.var] = -1
        self.siv: dict[int, list[Form]] = {}
        self.solutions: dict[int, SivSolution] = {}
        self.used: set[str] = set()
        self.symbolic_siv = False  # some SIV loop was decided conservatively

    def run(self) -> list[DirectionVector]:
        miv = self._separable()
        vectors = self._banerjee(miv, self._product())
        return self._exact(vectors, approximate=bool(miv) or self.symbolic_siv)

    def name(self) -> str:
        ran = [t for t in TESTS if t in self.used]
        return ran[-1] if ran else "assumed"

    def _loops_of(self, h: Form) -> set[int]:
        return {self.role[v] for v in range(1, len(h)) if h[v] and v in self.role}

    # -- ZIV and SIV, with the Delta test's propagation --------------------------------------

    def _separable(self) -> list[Form]:
        """Apply the ZIV and SIV tests; return the remaining (MIV) subscripts, with what the
        SIV tests fixed substituted."""
        pending: list[Form] = list(self.dims)
        known: tuple[tuple[int, Form], ...] = ()
        for _ in range(2 * self.n + 2):
            miv, touched = [], set()
            for h in pending:
                loops = self._loops_of(h)
                if not loops:
                    self._ziv(h)
                elif len(loops) == 1 and -1 not in loops:
                    k = loops.pop()
                    self.siv.setdefault(k, []).append(h)
                    touched.add(k)
                else:
                    miv.append(h)
            for k in sorted(touched):
                self._solve_loop(k)
            subs = self._substitutions()
            if subs == known or not miv:
                return miv
            known = subs
            pending = [reduce(lambda e, s: substitute(e, *s), subs, h) for h in miv]
        return pending

    def _ziv(self, h: Form) -> None:
        self.used.add("ziv")
        if self.space.facts.nonzero(h):
            raise _Independent("ziv")

    def _solve_loop(self, k: int) -> None:
        s, t = self.space.src[k].var, self.space.dst[k].var
        eqs = [(h[s], h[t], without(h, s, t)) for h in self.siv[k]]
        kinds = {siv_kind(p, q) for p, q, _ in eqs}
        name = kinds.pop() if len(kinds) == 1 else "exact-siv"
        self.used.add(name)
        lo, hi = self.space.hulls[k]
        if all(is_constant(r) for _, _, r in eqs) and all(
                b is None or is_constant(b) for b in (lo, hi)):
            sol = solve_siv([(p, q, -r[0]) for p, q, r in eqs], _constant(lo), _constant(hi))
        else:
            self.symbolic_siv = True
            sol = reduce(meet, (symbolic_siv(p, q, r, lo, hi, self.space.facts)
                                for p, q, r in eqs))
        if not sol.options:
            raise _Independent(name)
        self.solutions[k] = sol

    def _substitutions(self) -> tuple[tuple[int, Form], ...]:
        """What the SIV solutions fix: sink indices (as constants or source index plus a
        constant distance) first, then source indices."""
        sink_subs, src_subs = [], []
        zero = (0,) * self.space.width
        for k in sorted(self.solutions):
            sol = self.solutions[k]
            x, y, d = sol.src_value, sol.sink_value, sol.distance
            if x is None and y is not None and d is not None:
                x = y - d
            if y is None and x is not None and d is not None:
                y = x + d
            s, t = self.space.src[k].var, self.space.dst[k].var
            if y is not None:
                sink_subs.append((t, shift(zero, y)))
            elif d is not None:  # the sink's index is the source's plus d
                sink_subs.append((t, tuple(d if v == 0 else int(v == s)
                                           for v in range(len(zero)))))
            if x is not None:
                src_subs.append((s, shift(zero, x)))
        return tuple(sink_subs + src_subs)

    def _product(self) -> list[DirectionVector]:
        """The direction vectors the SIV solutions allow ('*' for loops without any)."""
        choices: list[list[tuple[str, int | None]]] = [
            list(self.solutions[k].options.items()) if k in self.solutions else [("*", None)]
            for k in range(self.n)]
        size = prod(len(c) for c in choices)
        for k in reversed(range(self.n)):
            if size > MAX_VECTORS and len(choices[k]) == 3:
                size //= 3
                choices[k] = [("*", None)]
        return [DirectionVector(tuple(d for d, _ in combo), tuple(x for _, x in combo))
                for combo in itertools.product(*choices)]

    # -- MIV: GCD and Banerjee ---------------------------------------------------------------

    def _banerjee(self, miv: list[Form], vectors: list[DirectionVector]
                  ) -> list[DirectionVector]:
        star = ("*",) * self.n
        for h in miv:
            if not gcd_allows(h, self.space, star):
                raise _Independent("gcd")
        budget = Budget(HIERARCHY_BUDGET)
        for h in miv:
            self.used.add("banerjee")
            refined: dict[tuple[str, ...], DirectionVector] = {}
            for v in vectors:
                for dirs in refine(h, self.space, v.directions, budget):
                    dists = tuple(0 if d == "=" else x
                                  for d, x in zip(dirs, v.distances, strict=True))
                    refined[dirs] = _merge(refined.get(dirs), DirectionVector(dirs, dists))
            vectors = list(refined.values())
            if not vectors:
                raise _Independent("banerjee")
        return vectors

    # -- the exact test ------------------------------------------------------------------------

    def _settled(self, approximate: bool) -> bool:
        """Whether the separable tests' answer is already exact: constant rectangular
        non-empty loops, no MIV subscript, every SIV loop solved exactly (loops that no subscript
        involves stay '*')."""
        loops = self.space.src + self.space.src_private + self.space.dst_private
        rectangular = all(b.lower is not None and b.upper is not None and is_constant(b.lower)
                          and is_constant(b.upper) and b.lower[0] <= b.upper[0] for b in loops)
        return rectangular and not approximate

    def _exact(self, vectors: list[DirectionVector], approximate: bool
               ) -> list[DirectionVector]:
        if self._settled(approximate):
            return vectors
        space = self.space
        pairs = [(f, g) for f, g in self.pairs  # those over loop variables only
                 if all(v in self.role for e in (f, g) for v in range(1, len(e)) if e[v])]
        found = enumerate_vectors(space.src + space.src_private, space.dst + space.dst_private,
                                  self.n, pairs) if pairs else None
        if found is None:
            return vectors
        self.used.add("exact")
        out = []
        for dirs, dists in found.items():
            cover = [v for v in vectors if _covers(v, dirs, dists)]
            if cover:
                known = [next((v.distances[k] for v in cover if v.distances[k] is not None),
                              None) if x is None else x for k, x in enumerate(dists)]
                out.append(DirectionVector(dirs, tuple(known)))
        if not out:
            raise _Independent("exact")
        return out

    # -- conditions ----------------------------------------------------------------------------

    def conditions(self, vectors: list[DirectionVector]) -> tuple[Expr, ...]:
        """Necessary conditions over the symbols: each subscript's range (Banerjee's bounds
        under the join of the vectors) must contain 0."""
        if all(leaf in self.role for leaf in range(1, self.space.width)):
            return ()
        join = tuple(ds[0] if len(set(ds)) == 1 else "*"
                     for ds in zip(*(v.directions for v in vectors), strict=True))
        out: list[Expr] = []
        for h in self.dims:
            if self.space.symbolic(h):
                out.extend([_relation("==", self.leaves.affine(h))] if not is_constant(h)
                           else [])
                continue
            needs = range_conditions(h, self.space, join)
            if needs is None:
                raise _Independent("banerjee")
            out.extend(_relation("<=", self.leaves.affine(e)) for e in needs)
        return tuple(dict.fromkeys(out))
