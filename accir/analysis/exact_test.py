"""The single-index (SIV) tests and the enumerating exact test.

An SIV equation involves one common loop: `p*x + q*y + r = 0`, x the source's index, y the
sink's, r affine in the symbols. Its kind follows Goff, Kennedy and Tseng: strong (p == -q),
weak-zero (p or q is 0), weak-crossing (p == q), otherwise general. With r and the loop's
bounds constant, `solve_siv` decides any system of such equations exactly (extended gcd, the
integer solutions as a line x = x0 + sx*t, y = y0 + sy*t clipped to the bounds, the sign of
y - x along it), which gives the literature's refinements at the bounds (weak-zero at the
first or last iteration, weak-crossing at an integral or half-integral crossing point) for
free. With symbols, `symbolic_siv` keeps a direction unless a comparison rules it out for every
value of the symbols.

`enumerate_vectors` is the exact test for small constant spaces: it lists the iterations of
each side, groups them by subscript values and pairs equal groups.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import gcd

from accir.analysis.banerjee import (
    ORDER,
    Facts,
    Form,
    Loop,
    add,
    is_constant,
    scale,
    shift,
    sub,
    term_gcd,
)

MAX_POINTS = 1000  # iterations per side that the exact test lists
MAX_PAIRS = 5000  # (source, sink) pairs with equal subscripts that it examines


@dataclass(frozen=True)
class SivSolution:
    """What the SIV equations of one loop allow: the feasible directions with their constant
    distance (sink minus source, None when not constant), and values that hold for every
    solution (the source or sink index, or the distance) for the Delta test's propagation."""

    options: dict[str, int | None] = field(default_factory=dict)
    src_value: int | None = None
    sink_value: int | None = None
    distance: int | None = None


EMPTY = SivSolution()


def siv_kind(p: int, q: int) -> str:
    if p == -q:
        return "strong-siv"
    if p == 0 or q == 0:
        return "weak-zero-siv"
    if p == q:
        return "weak-crossing-siv"
    return "exact-siv"


def _sign(d: int) -> str:
    return "<" if d > 0 else ">" if d < 0 else "="


def meet(a: SivSolution, b: SivSolution) -> SivSolution:
    """Solutions of both systems (a sound over-approximation of it)."""
    values = []
    for x, y in ((a.src_value, b.src_value), (a.sink_value, b.sink_value),
                 (a.distance, b.distance)):
        if x is not None and y is not None and x != y:
            return EMPTY
        values.append(x if x is not None else y)
    options: dict[str, int | None] = {}
    for d, dist in a.options.items():
        if d not in b.options:
            continue
        other = b.options[d]
        if dist is not None and other is not None and dist != other:
            continue
        options[d] = dist if dist is not None else other
    return SivSolution(options, *values) if options else EMPTY


# -- constant equations: exact ---------------------------------------------------------------

def solve_siv(eqs: Sequence[tuple[int, int, int]], lo: int | None, hi: int | None
              ) -> SivSolution:
    """Exact solutions of the equations p*x + q*y = c (each (p, q, c), not both p, q zero)
    with x, y in [lo, hi] (None: unbounded)."""
    base = eqs[0]
    for other in eqs[1:]:
        det = base[0] * other[1] - base[1] * other[0]
        if det != 0:
            return _point(eqs, base, other, det, lo, hi)
        if base[0] * other[2] != other[0] * base[2] or base[1] * other[2] != other[1] * base[2]:
            return EMPTY  # parallel lines
    return _line(*base, lo, hi)


def _within(v: int, lo: int | None, hi: int | None) -> bool:
    return (lo is None or v >= lo) and (hi is None or v <= hi)


def _point(eqs: Sequence[tuple[int, int, int]], e1: tuple[int, int, int],
           e2: tuple[int, int, int], det: int, lo: int | None, hi: int | None) -> SivSolution:
    xn, yn = e1[2] * e2[1] - e2[2] * e1[1], e1[0] * e2[2] - e2[0] * e1[2]
    if xn % det or yn % det:
        return EMPTY
    x, y = xn // det, yn // det
    if not (_within(x, lo, hi) and _within(y, lo, hi)):
        return EMPTY
    if any(p * x + q * y != c for p, q, c in eqs):
        return EMPTY
    return SivSolution({_sign(y - x): y - x}, x, y, y - x)


def _ext_gcd(a: int, b: int) -> tuple[int, int, int]:
    """(g, u, v) with a*u + b*v == g == gcd(a, b) >= 0."""
    u0, u1, v0, v1 = 1, 0, 0, 1
    while b:
        k = a // b
        a, b = b, a - k * b
        u0, u1 = u1, u0 - k * u1
        v0, v1 = v1, v0 - k * v1
    return (a, u0, v0) if a >= 0 else (-a, -u0, -v0)


def _line(p: int, q: int, c: int, lo: int | None, hi: int | None) -> SivSolution:
    g, u, v = _ext_gcd(p, q)
    if c % g:
        return EMPTY
    x0, y0, sx, sy = u * (c // g), v * (c // g), q // g, -p // g
    span = _t_range(((x0, sx), (y0, sy)), lo, hi)
    if span is None:
        return EMPTY
    d0, m = y0 - x0, sy - sx
    options: dict[str, int | None] = {}
    for d in ORDER:
        sub = _sign_range(d0, m, d, span)
        if sub is not None:
            ts = _single(sub)
            options[d] = d0 if m == 0 else None if ts is None else d0 + m * ts
    t = _single(span)
    x = x0 if sx == 0 else None if t is None else x0 + sx * t
    y = y0 if sy == 0 else None if t is None else y0 + sy * t
    dist = d0 if m == 0 else None if t is None else d0 + m * t
    return SivSolution(options, x, y, dist)


Interval = tuple[int | None, int | None]


def _single(span: Interval) -> int | None:
    return span[0] if span[0] is not None and span[0] == span[1] else None


def _t_range(lines: Sequence[tuple[int, int]], lo: int | None, hi: int | None
             ) -> Interval | None:
    """The t with lo <= base + step*t <= hi for every (base, step); None if there is none."""
    t_lo: int | None = None
    t_hi: int | None = None
    for base, step in lines:
        if step == 0:
            if not _within(base, lo, hi):
                return None
            continue
        first, last = (lo, hi) if step > 0 else (hi, lo)
        if first is not None:
            bound = -((base - first) // step)  # ceil((first - base) / step)
            t_lo = bound if t_lo is None else max(t_lo, bound)
        if last is not None:
            bound = (last - base) // step  # floor
            t_hi = bound if t_hi is None else min(t_hi, bound)
    if t_lo is not None and t_hi is not None and t_lo > t_hi:
        return None
    return t_lo, t_hi


def _sign_range(d0: int, m: int, d: str, span: Interval) -> Interval | None:
    """The part of `span` where d0 + m*t has the sign of direction d."""
    if m == 0:
        return span if _sign(d0) == d else None
    if d == "=":
        if d0 % m:
            return None
        t = -d0 // m
        return (t, t) if _within(t, *span) else None
    lo, hi = span
    above = (-d0) // m + 1  # the least t with m*t > -d0 when m > 0
    below = -((d0) // m) - 1  # the greatest t with m*t < -d0 when m > 0
    if (d == "<") == (m > 0):
        lo = above if lo is None else max(lo, above)
    else:
        hi = below if hi is None else min(hi, below)
    if lo is not None and hi is not None and lo > hi:
        return None
    return lo, hi


# -- symbolic equations: conservative --------------------------------------------------------

def _can_be_positive(facts: Facts, e: Form | None) -> bool:
    hi = facts.upper(e)
    return hi is None or hi > 0


def _gap(low: Form | None, high: Form | None) -> Form | None:
    """high - low, None if either is unknown."""
    return None if low is None or high is None else sub(high, low)


def symbolic_siv(p: int, q: int, r: Form, lo: Form | None, hi: Form | None, facts: Facts
                 ) -> SivSolution:
    """Directions that p*x + q*y + r = 0 (r over the symbols) may have with x, y in [lo, hi]
    for some values of the symbols."""
    g = term_gcd(r)
    if r[0] % gcd(gcd(p, q), g):
        return EMPTY
    if p == -q:
        return _strong(p, r, lo, hi, facts)
    if q == 0 or p == 0:
        return _weak_zero(p or q, r, lo, hi, facts, src=q == 0)
    if p == q:
        return _crossing(p, r, lo, hi, facts)
    options: dict[str, int | None] = {"<": None, ">": None}
    if r[0] % gcd(p + q, g) == 0:
        options["="] = 0
    return SivSolution(options)


def _strong(p: int, r: Form, lo: Form | None, hi: Form | None, facts: Facts) -> SivSolution:
    """p*(x - y) + r = 0: distance y - x = r/p, at most U - L in magnitude."""
    d = scale(r, 1 if p > 0 else -1)  # |p| times the distance
    span = _gap(lo, hi)
    span = None if span is None else scale(span, abs(p))
    dist = r[0] // p if is_constant(r) else None
    options: dict[str, int | None] = {}
    if _can_be_positive(facts, d) and not facts.negative(_gap(d, span)):
        options["<"] = dist
    if not facts.nonzero(d):
        options["="] = 0
    if _can_be_positive(facts, scale(d, -1)) and not facts.negative(
            None if span is None else add(span, d)):
        options[">"] = dist
    options = {k: options[k] for k in ORDER if k in options}
    return SivSolution(options, distance=dist) if options else EMPTY


def _weak_zero(a: int, r: Form, lo: Form | None, hi: Form | None, facts: Facts,
               src: bool) -> SivSolution:
    """a*z + r = 0 fixes one index z (the source's if `src`); the other one is free."""
    z = scale(r, -1 if a > 0 else 1)  # |a| * z
    below = _gap(None if lo is None else scale(lo, abs(a)), z)  # |a| * (z - L) >= 0
    above = _gap(z, None if hi is None else scale(hi, abs(a)))  # |a| * (U - z) >= 0
    if facts.negative(below) or facts.negative(above):
        return EMPTY
    later, earlier = _can_be_positive(facts, above), _can_be_positive(facts, below)
    if not src:
        later, earlier = earlier, later  # the sink's index is fixed: x < z needs room below
    options: dict[str, int | None] = {}
    if later:
        options["<"] = None
    options["="] = 0
    if earlier:
        options[">"] = None
    value = -r[0] // a if is_constant(r) else None
    return SivSolution(options, value if src else None, None if src else value)


def _crossing(p: int, r: Form, lo: Form | None, hi: Form | None, facts: Facts
              ) -> SivSolution:
    """p*(x + y) + r = 0: x + y = s; x != y needs 2L + 1 <= s <= 2U - 1, x == y needs s even
    and 2L <= s <= 2U."""
    a = abs(p)
    s = scale(r, -1 if p > 0 else 1)  # a * (x + y)

    def fits(k: int) -> bool:
        low = None if lo is None else shift(scale(lo, 2 * a), a * k)
        high = None if hi is None else shift(scale(hi, 2 * a), -a * k)
        return not (facts.negative(_gap(low, s)) or facts.negative(_gap(s, high)))

    options: dict[str, int | None] = {}
    if fits(1):
        options["<"] = options[">"] = None
    if r[0] % gcd(2 * a, term_gcd(r)) == 0 and fits(0):
        options["="] = 0
    options = {k: options[k] for k in ORDER if k in options}
    return SivSolution(options) if options else EMPTY


# -- the exact test: enumeration -------------------------------------------------------------

Compiled = tuple[int, tuple[tuple[int, int], ...]]


def _compile(e: Form, index: dict[int, int], limit: int) -> Compiled | None:
    """`e` as (constant, ((position, coefficient), ...)) over the first `limit` loops."""
    terms = []
    for var in range(1, len(e)):
        if e[var]:
            pos = index.get(var)
            if pos is None or pos >= limit:
                return None
            terms.append((pos, e[var]))
    return e[0], tuple(terms)


def _eval(e: Compiled, point: tuple[int, ...]) -> int:
    return e[0] + sum(c * point[pos] for pos, c in e[1])


def _points(loops: Sequence[Loop]) -> list[tuple[int, ...]] | None:
    """Every iteration of a nest with constant or outer-index-affine bounds, or None."""
    index = {loop.var: k for k, loop in enumerate(loops)}
    bounds = []
    for k, loop in enumerate(loops):
        lo = None if loop.lower is None else _compile(loop.lower, index, k)
        hi = None if loop.upper is None else _compile(loop.upper, index, k)
        if lo is None or hi is None:
            return None
        bounds.append((lo, hi))
    points: list[tuple[int, ...]] = [()]
    for lo, hi in bounds:
        nxt: list[tuple[int, ...]] = []
        for p in points:
            first, last = _eval(lo, p), _eval(hi, p)
            if len(nxt) + max(0, last - first + 1) > MAX_POINTS:
                return None
            nxt.extend((*p, v) for v in range(first, last + 1))
        points = nxt
    return points


def _group(loops: Sequence[Loop], subscripts: Sequence[Form], common: int
           ) -> dict[tuple[int, ...], set[tuple[int, ...]]] | None:
    """The iterations' common-loop indices, grouped by subscript values."""
    points = _points(loops)
    index = {loop.var: k for k, loop in enumerate(loops)}
    compiled = [_compile(s, index, len(loops)) for s in subscripts]
    if points is None or any(c is None for c in compiled):
        return None
    ready = [c for c in compiled if c is not None]
    groups: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    for p in points:
        groups.setdefault(tuple(_eval(c, p) for c in ready), set()).add(p[:common])
    return groups


def enumerate_vectors(src: Sequence[Loop], dst: Sequence[Loop], common: int,
                      pairs: Sequence[tuple[Form, Form]]
                      ) -> dict[tuple[str, ...], tuple[int | None, ...]] | None:
    """The exact direction vectors (with their distances, None where not constant) of the
    accesses `pairs` over the nests `src` / `dst` (common loops first, then private ones);
    None when a bound is not constant enough or the space is too large."""
    sources = _group(src, [f for f, _ in pairs], common)
    sinks = _group(dst, [g for _, g in pairs], common)
    if sources is None or sinks is None:
        return None
    if sum(len(s) * len(sinks.get(k, ())) for k, s in sources.items()) > MAX_PAIRS:
        return None
    distances: set[tuple[int, ...]] = set()
    for key, group in sources.items():
        for t in sinks.get(key, ()):
            distances.update(tuple(map(operator.sub, t, s)) for s in group)
    out: dict[tuple[str, ...], tuple[int | None, ...]] = {}
    for dist in distances:
        dirs = tuple(_sign(d) for d in dist)
        seen = out.get(dirs)
        out[dirs] = dist if seen is None else tuple(
            x if x == y else None for x, y in zip(seen, dist, strict=True))
    return out
