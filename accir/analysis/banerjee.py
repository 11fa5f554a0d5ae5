"""Bounds of affine forms over iteration spaces, the GCD test, and Banerjee's inequalities with
the direction-vector hierarchy.

The bounds of a form over the iteration spaces of two accesses are computed by eliminating loop
variables innermost first: a variable with a positive coefficient is replaced by its lower bound
(an affine form in the outer indices and symbols), one with a negative coefficient by its upper
bound, so trapezoidal and triangular nests keep their shape. A common loop's source and sink
indices are eliminated together under their direction: '=' makes them one variable, '<' / '>'
bound the pair by the triangle of Banerjee's inequalities (source lower bound, sink upper bound).
What remains is affine in the symbols; a comparison with 0 counts as proven only when it holds
for every value of the symbols (the `nonnegative` ones being >= 0). An elimination step is exact
where the inner range is non-empty and only widens the result elsewhere, so a bound is always a
safe bound; None stands for an infinite one (an unknown loop bound).

Inside the tests, affine forms are `Form`s: tuples (constant, coefficient of variable 1, ...)
over the leaves that a `Leaves` table numbers, which keeps the arithmetic cheap.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from math import gcd

from accir.ir.affine import Affine
from accir.ir.nodes import Expr

ORDER = ("<", "=", ">")
Form = tuple[int, ...]  # (constant, coefficient of leaf 1, coefficient of leaf 2, ...)


class Leaves:
    """Numbers the leaves (loop variables and symbols) of a problem's affine forms from 1."""

    def __init__(self, leaves: Iterable[Expr]):
        self.leaves: list[Expr] = list(dict.fromkeys(leaves))
        self.index = {leaf: k + 1 for k, leaf in enumerate(self.leaves)}
        self.width = len(self.leaves) + 1

    def form(self, a: Affine) -> Form:
        out = [0] * self.width
        out[0] = a.constant
        for leaf, c in a.terms:
            out[self.index[leaf]] = c
        return tuple(out)

    def var(self, leaf: Expr) -> int:
        return self.index[leaf]

    def affine(self, f: Form) -> Affine:
        return Affine.make({self.leaves[k - 1]: f[k] for k in range(1, len(f))}, f[0])


def add(a: Form, b: Form) -> Form:
    return tuple(map(operator.add, a, b))


def sub(a: Form, b: Form) -> Form:
    return tuple(map(operator.sub, a, b))


def scale(a: Form, c: int) -> Form:
    return tuple(map(operator.mul, a, repeat(c)))


def shift(a: Form, c: int) -> Form:
    return (a[0] + c, *a[1:])


def without(a: Form, *vars_: int) -> Form:
    """`a` with the terms of `vars_` dropped."""
    out = list(a)
    for v in vars_:
        out[v] = 0
    return tuple(out)


def substitute(e: Form, var: int, value: Form) -> Form:
    c = e[var]
    return e if c == 0 else add(without(e, var), scale(value, c))


def is_constant(a: Form) -> bool:
    return not any(a[1:])


def term_gcd(a: Form) -> int:
    """gcd of the coefficients (0 for a constant)."""
    g = 0
    for c in a[1:]:
        g = gcd(g, c)
    return g


@dataclass(frozen=True)
class Loop:
    """One loop of an iteration space: variable number `var` in [lower, upper] (None:
    unknown)."""

    var: int
    lower: Form | None
    upper: Form | None


@dataclass(frozen=True)
class Facts:
    """What is known of the symbols: only that some of them are >= 0."""

    nonnegative: frozenset[int] = frozenset()

    def lower(self, e: Form | None) -> int | None:
        """A lower bound of `e` over all symbol values, None if there is none."""
        if e is None:
            return None
        for k in range(1, len(e)):
            if e[k] and (e[k] < 0 or k not in self.nonnegative):
                return None
        return e[0]

    def upper(self, e: Form | None) -> int | None:
        return None if e is None or (low := self.lower(scale(e, -1))) is None else -low

    def positive(self, e: Form | None) -> bool:
        lo = self.lower(e)
        return lo is not None and lo > 0

    def negative(self, e: Form | None) -> bool:
        hi = self.upper(e)
        return hi is not None and hi < 0

    def nonneg(self, e: Form | None) -> bool:
        lo = self.lower(e)
        return lo is not None and lo >= 0

    def nonzero(self, e: Form) -> bool:
        """Provably never 0: by sign, or because the terms' gcd does not divide the constant."""
        g = term_gcd(e)
        if g == 0:
            return e[0] != 0
        return e[0] % g != 0 or self.positive(e) or self.negative(e)


@dataclass(frozen=True)
class Space:
    """The iteration spaces of a source and a sink access. `src[k]` / `dst[k]` are common loop
    k with the source's / the sink's variable (bounds in that side's variables); the private
    loops enclose one side only and are nested inside the common ones, outermost first."""

    src: tuple[Loop, ...]
    dst: tuple[Loop, ...]
    src_private: tuple[Loop, ...] = ()
    dst_private: tuple[Loop, ...] = ()
    facts: Facts = field(default_factory=Facts)
    width: int = 0  # of the forms

    @cached_property
    def loop_vars(self) -> frozenset[int]:
        loops = self.src + self.dst + self.src_private + self.dst_private
        return frozenset(loop.var for loop in loops)

    @cached_property
    def hulls(self) -> tuple[tuple[Form | None, Form | None], ...]:
        """Per common loop, bounds of its index over the whole space, affine in symbols."""
        star = ("*",) * len(self.src)
        out = []
        for loop in self.src:
            unit = tuple(int(v == loop.var) for v in range(self.width))
            lo, neg_hi = minimize(unit, self, star), minimize(scale(unit, -1), self, star)
            out.append((lo, None if neg_hi is None else scale(neg_hi, -1)))
        return tuple(out)

    @cached_property
    def common_vars(self) -> tuple[int, ...]:
        return tuple(loop.var for loop in self.src + self.dst)

    @cached_property
    def rectangular(self) -> bool:
        """Whether no bound involves a loop index (each loop ranges independently)."""
        loops = self.src + self.dst + self.src_private + self.dst_private
        return all(b is None or self.symbolic(b) for loop in loops for b in (loop.lower,
                                                                            loop.upper))

    @cached_property
    def pieces(self) -> dict[tuple[int, int, int, str], Form | None]:
        """Cache of per-loop minima for `minimize` on rectangular spaces."""
        return {}

    @cached_property
    def triangular(self) -> bool:
        """Whether some common loop's bounds depend on outer indices."""
        return any(b is not None and not self.symbolic(b)
                   for loop in self.src for b in (loop.lower, loop.upper))

    @cached_property
    def several(self) -> tuple[bool, ...]:
        """Per common loop: whether it may have two or more iterations."""
        return tuple(lo is None or hi is None or not self.facts.negative(shift(sub(hi, lo), -1))
                     for lo, hi in self.hulls)

    def order_possible(self, k: int, direction: str) -> bool:
        """False when loop k provably has fewer than two iterations and direction is '<'/'>'."""
        return direction in ("=", "*") or self.several[k]

    def symbolic(self, e: Form) -> bool:
        """Whether `e` involves symbols only (no loop variable)."""
        return not any(e[v] for v in self.loop_vars)


def minimize(e: Form, space: Space, dirs: Sequence[str], sink_bounds: bool = False
             ) -> Form | None:
    """A lower bound of `e` over both iteration spaces under the direction vector `dirs`,
    affine in the symbols; None when it is -infinity (unknown bounds). The index of an '='
    loop lies within the source's bounds and the sink's; `sink_bounds` picks the latter."""
    if space.rectangular:
        return _minimize_rectangular(e, space, dirs)
    result: Form | None = e
    for loop in reversed(space.dst_private + space.src_private):
        if result is None:
            return None
        result = _eliminate(result, loop)
    for k in reversed(range(len(space.src))):
        if result is None:
            return None
        s, t = space.src[k], space.dst[k]
        result = _eliminate_pair(result, s, t, dirs[k], t if sink_bounds else s)
    return result


def _minimize_rectangular(e: Form, space: Space, dirs: Sequence[str]) -> Form | None:
    """`minimize` where no bound involves a loop index: a sum of independent per-loop minima
    (Banerjee's original setting), each cached by loop, coefficients and direction."""
    base: Form | None = without(e, *space.common_vars)
    for loop in space.src_private + space.dst_private:
        base = None if base is None else _eliminate(base, loop)
    if base is None:
        return None
    parts = [base]
    cache = space.pieces
    for k, direction in enumerate(dirs):
        s, t = space.src[k], space.dst[k]
        a, b = e[s.var], e[t.var]
        if not (a or b):
            continue
        key = (k, a, b, direction)
        if key not in cache:
            unit = tuple(a if v == s.var else b if v == t.var else 0 for v in range(len(e)))
            cache[key] = _eliminate_pair(unit, s, t, direction, s)
        piece = cache[key]
        if piece is None:
            return None
        parts.append(piece)
    return tuple(map(sum, zip(*parts, strict=True))) if len(parts) > 1 else base


def _axpy(rest: Form, c: int, bound: Form | None) -> Form | None:
    """rest + c * bound (None: an infinite bound with c != 0)."""
    if c == 0:
        return rest
    if bound is None:
        return None
    return tuple(map(operator.add, rest, map(operator.mul, bound, repeat(c))))


def _eliminate(e: Form, loop: Loop) -> Form | None:
    c = e[loop.var]
    if c == 0:
        return e
    return _axpy(without(e, loop.var), c, loop.lower if c > 0 else loop.upper)


def _eliminate_pair(e: Form, s: Loop, t: Loop, direction: str, same: Loop) -> Form | None:
    """Minimise over a common loop's source index s.var and sink index t.var (with the bounds
    of `same` if they are equal)."""
    a, b = e[s.var], -e[t.var]
    if a == 0 and b == 0:
        return e
    if direction == "*":
        first = _eliminate(e, s)
        return None if first is None else _eliminate(first, t)
    rest = without(e, s.var, t.var)
    if direction == "=":
        return _axpy(rest, a - b, same.lower if a > b else same.upper)
    if direction == "<":  # sink index = source index + delta, delta >= 1
        return _triangle_min(rest, a - b, -b, s.lower, t.upper)
    return _triangle_min(rest, a - b, a, t.lower, s.upper)  # source = sink + delta


def _triangle_min(rest: Form, c: int, e: int, lo: Form | None, hi: Form | None
                  ) -> Form | None:
    """rest + min of c*x + e*d over x >= lo, d >= 1, x + d <= hi (Banerjee's '<' / '>'
    triangle: vertices (lo, 1), (hi - 1, 1), (lo, hi - lo) with values f0, f0 + c*s, f0 + e*s
    where f0 = c*lo + e, s = hi - lo - 1)."""
    if lo is not None and hi is not None:
        m = min(0, c, e)
        k = c - m
        return shift(tuple([r + k * x + m * y for r, x, y in zip(rest, lo, hi, strict=True)]),
                     e - m)
    if hi is None:  # x >= lo and d >= 1 independently
        part = _axpy(rest, c, lo) if c >= 0 else None
        return None if part is None or e < 0 else shift(part, e)
    # lo is None: y = x + d <= hi and d >= 1 independently, f = c*y + (e - c)*d
    part = _axpy(rest, c, hi) if c <= 0 else None
    return None if part is None or e - c < 0 else shift(part, e - c)


def bounds_exclude_zero(h: Form, space: Space, dirs: Sequence[str]) -> bool:
    """Banerjee's inequalities: True when min(h) > 0 or max(h) < 0 under `dirs`."""
    facts = space.facts
    for side in (h, scale(h, -1)):
        if facts.positive(minimize(side, space, dirs)):
            return True
        if space.triangular and "=" in dirs and facts.positive(
                minimize(side, space, dirs, sink_bounds=True)):
            return True
    return False


def gcd_allows(h: Form, space: Space, dirs: Sequence[str]) -> bool:
    """The GCD test for h = 0, with the source and sink index of an '=' loop merged."""
    g = 0
    rest = h
    for k, direction in enumerate(dirs):
        s, t = space.src[k].var, space.dst[k].var
        a, b = h[s], h[t]
        g = gcd(g, a + b) if direction == "=" else gcd(g, gcd(a, b))
        rest = without(rest, s, t)
    g = gcd(g, term_gcd(rest))  # private loop variables and symbols
    return h[0] == 0 if g == 0 else h[0] % g == 0


def feasible(h: Form, space: Space, dirs: Sequence[str]) -> bool:
    return gcd_allows(h, space, dirs) and not bounds_exclude_zero(h, space, dirs)


@dataclass
class Budget:
    """How many more direction vectors the hierarchy may test (it stops refining at 0)."""

    left: int


def refine(h: Form, space: Space, start: tuple[str, ...], budget: Budget
           ) -> list[tuple[str, ...]]:
    """The direction-vector hierarchy: the refinements of `start` (its '*' entries of loops
    that h involves split into '<', '=', '>', level by level) that pass `feasible`."""
    involved = [k for k in range(len(start)) if start[k] == "*"
                and (h[space.src[k].var] or h[space.dst[k].var])]
    return _visit(h, space, start, involved, budget)


def _visit(h: Form, space: Space, v: tuple[str, ...], involved: list[int], budget: Budget
           ) -> list[tuple[str, ...]]:
    if budget.left <= 0:
        return [v]
    budget.left -= 1
    if not feasible(h, space, v):
        return []
    k = next((k for k in involved if v[k] == "*"), None)
    if k is None:
        return [v]
    out: list[tuple[str, ...]] = []
    for direction in ORDER:
        if space.order_possible(k, direction):
            out.extend(_visit(h, space, (*v[:k], direction, *v[k + 1:]), involved, budget))
    return out


def range_conditions(h: Form, space: Space, dirs: Sequence[str]) -> list[Form] | None:
    """Forms over the symbols that are >= 0 whenever h = 0 has a solution under `dirs`
    (min(h) <= 0 <= max(h)), leaving out those that are provably so; None when one of them is
    provably negative (no solution)."""
    out = []
    for side in (h, scale(h, -1)):
        low = minimize(side, space, dirs)
        if low is None or not space.symbolic(low):
            continue
        need = scale(low, -1)
        if space.facts.negative(need):
            return None
        if not is_constant(need) and not space.facts.nonneg(need):
            out.append(need)
    return out
