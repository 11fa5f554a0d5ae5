"""A brute-force oracle for the dependence tests, random dependence problems, and a precision
measure (`measure_precision`) that benchmarks can call.

A `Case` is a `DependenceProblem` together with what the problem leaves out: the concrete loop
bounds (where the problem says None), the concrete functions of non-affine subscripts, and the
range of values of each symbol. For given symbol values, `oracle` lists every (source
iteration, sink iteration) pair inside the bounds whose subscripts are all equal and returns
their direction vectors with the set of distance vectors of each. `check` compares a
`DependenceResult` with the oracle over several symbol assignments: every dependence the oracle
finds must be covered by a reported vector ('*' covers anything) whose reported distances match,
and every reported condition must hold whenever the oracle finds a dependence.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from accir.analysis.dependence_tests import (
    DependenceProblem,
    DependenceResult,
    LoopBound,
)
from accir.analysis.dependence_tests import test_dependence as decide
from accir.ir.affine import Affine
from accir.ir.nodes import BinOp, Cast, Compare, Const, Dim, Expr, Logical, UnaryOp, Var
from accir.ir.types import F64, PYINT, ArrayType

Env = dict[Expr, int]
Subscript = Callable[[Env], int]

SRC = [Var(f"i{k}", PYINT) for k in range(3)]
DST = [Var(f"i{k}'", PYINT) for k in range(3)]
P, Q = Var("p", PYINT), Var("q", PYINT)  # private loops of the source / the sink
N = Dim(Var("A", ArrayType(F64, 1)), 0)  # a non-negative symbol
M, K = Var("m", PYINT), Var("k", PYINT)  # symbols of any sign
SYMBOL_RANGES: dict[Expr, tuple[int, int]] = {N: (0, 6), M: (-2, 6), K: (-3, 4)}


def evaluate_affine(a: Affine, env: Env) -> int:
    return a.constant + sum(c * env[leaf] for leaf, c in a.terms)


def evaluate(e: Expr, env: Env) -> int | bool:
    """The value of an integer or boolean IR expression whose leaves are in `env`."""
    if isinstance(e, Const):
        return e.value  # type: ignore[return-value]
    if isinstance(e, (Var, Dim)):
        return env[e]
    if isinstance(e, Cast):
        return evaluate(e.value, env)
    if isinstance(e, UnaryOp) and e.op == "-":
        return -evaluate(e.operand, env)
    if isinstance(e, BinOp):
        ops = {"+": operator.add, "-": operator.sub, "*": operator.mul}
        return ops[e.op](evaluate(e.lhs, env), evaluate(e.rhs, env))
    if isinstance(e, Compare):
        ops = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
               "==": operator.eq, "!=": operator.ne}
        return ops[e.op](evaluate(e.lhs, env), evaluate(e.rhs, env))
    if isinstance(e, Logical):
        lhs = bool(evaluate(e.lhs, env))
        return (lhs and bool(evaluate(e.rhs, env))) if e.op == "and" else (
            lhs or bool(evaluate(e.rhs, env)))
    raise TypeError(f"cannot evaluate {e!r}")


@dataclass
class Case:
    """A problem with everything the oracle needs to enumerate it."""

    problem: DependenceProblem
    src_nest: list[tuple[Expr, Affine, Affine]]  # common then private loops, concrete bounds
    dst_nest: list[tuple[Expr, Affine, Affine]]  # the sink's, in the sink's variables
    src_subs: list[Subscript]
    dst_subs: list[Subscript]
    description: list[str] = field(default_factory=list)
    symbols: list[Expr] = field(default_factory=list)

    def __repr__(self) -> str:
        return "Case(\n  " + "\n  ".join(self.description) + "\n)"


def _iterations(nest: Sequence[tuple[Expr, Affine, Affine]], values: Env) -> list[Env]:
    envs = [dict(values)]
    for var, lower, upper in nest:
        envs = [{**env, var: v} for env in envs
                for v in range(evaluate_affine(lower, env), evaluate_affine(upper, env) + 1)]
    return envs


def oracle(case: Case, values: Env) -> dict[tuple[str, ...], set[tuple[int, ...]]]:
    """Direction vector -> distance vectors of all dependences for these symbol values."""
    n = len(case.problem.common)
    src_vars = [var for var, _, _ in case.src_nest[:n]]
    dst_vars = [var for var, _, _ in case.dst_nest[:n]]
    groups: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    for env in _iterations(case.src_nest, values):
        key = tuple(f(env) for f in case.src_subs)
        groups.setdefault(key, set()).add(tuple(env[v] for v in src_vars))
    found: dict[tuple[str, ...], set[tuple[int, ...]]] = {}
    sinks: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    for env in _iterations(case.dst_nest, values):
        key = tuple(g(env) for g in case.dst_subs)
        sinks.setdefault(key, set()).add(tuple(env[v] for v in dst_vars))
    distances: set[tuple[int, ...]] = set()
    for key, sink_points in sinks.items():
        for t in sink_points:
            distances.update(tuple(map(operator.sub, t, s)) for s in groups.get(key, ()))
    for dist in distances:
        dirs = tuple("<" if d > 0 else "=" if d == 0 else ">" for d in dist)
        found.setdefault(dirs, set()).add(dist)
    return found


def assignments(case: Case, rng: random.Random, count: int = 6) -> list[Env]:
    """Symbol values: the lowest, the highest, and random ones."""
    out = [{s: SYMBOL_RANGES[s][0] for s in case.symbols},
           {s: SYMBOL_RANGES[s][1] for s in case.symbols}]
    while len(out) < count and case.symbols:
        out.append({s: rng.randint(*SYMBOL_RANGES[s]) for s in case.symbols})
    return out[:1] if not case.symbols else out


@dataclass
class Report:
    refined: int = 0  # reported vectors without '*'
    confirmed: int = 0  # of those, vectors the oracle finds for some assignment
    starred: int = 0  # reported vectors with a '*'
    misses: list[str] = field(default_factory=list)  # soundness violations
    known_distances: int = 0  # confirmed positions whose oracle distance is one constant
    reported_distances: int = 0  # of those, positions where the result gives it
    dependent: bool = False  # the oracle finds a dependence for some assignment


def _covers(directions: tuple[str, ...], dirs: tuple[str, ...]) -> bool:
    return all(d in ("*", e) for d, e in zip(directions, dirs, strict=True))


def check(case: Case, result: DependenceResult, envs: Sequence[Env]) -> Report:
    """Compare `result` with the oracle under every assignment in `envs`."""
    report = Report()
    seen: dict[tuple[str, ...], set[tuple[int, ...]]] = {}
    for values in envs:
        found = oracle(case, values)
        report.dependent = report.dependent or bool(found)
        for dirs, dists in found.items():
            seen.setdefault(dirs, set()).update(dists)
            covering = [v for v in result.vectors if _covers(v.directions, dirs)]
            if not covering:
                report.misses.append(f"{values}: missed {dirs} (distances {sorted(dists)})")
            for v in covering:
                for dist in dists:
                    if any(x is not None and x != y
                           for x, y in zip(v.distances, dist, strict=True)):
                        report.misses.append(f"{values}: {v} claims distances {v.distances}"
                                             f", found {dist}")
        if found:
            for cond in result.conditions:
                if not evaluate(cond, values):
                    report.misses.append(f"{values}: condition {cond} is false but "
                                         f"dependences exist: {sorted(found)}")
    for v in result.vectors:
        if "*" in v.directions:
            report.starred += 1
            continue
        report.refined += 1
        if v.directions in seen:
            report.confirmed += 1
            _count_distances(report, v.distances, seen[v.directions], bool(case.symbols))
    return report


def _count_distances(report: Report, reported: tuple[int | None, ...],
                     found: set[tuple[int, ...]], symbolic: bool) -> None:
    if symbolic:
        return
    for k, x in enumerate(reported):
        if len({d[k] for d in found}) == 1:
            report.known_distances += 1
            report.reported_distances += x is not None


# -- random problems ---------------------------------------------------------------------------

def _aff(terms: dict[Expr, int] | None = None, constant: int = 0) -> Affine:
    return Affine.make(terms or {}, constant)


def _bounds(rng: random.Random, outer: Sequence[Expr], style: str, symbols: list[Expr]
            ) -> tuple[Affine, Affine]:
    """Inclusive bounds: constant; triangular in an outer index (styles other than
    'constant'); with a symbol (style 'symbolic')."""
    lower = _aff(constant=rng.randint(0, 2))
    upper = _aff(constant=rng.randint(lower.constant - 1 if rng.random() < 0.1 else
                                      lower.constant, 5))
    if style == "constant":
        return lower, upper
    choice = rng.random()
    if outer and choice < 0.35:  # triangular: range(i, c) or range(c, i + d)
        var = rng.choice(list(outer))
        if rng.random() < 0.5:
            return _aff({var: 1}, rng.randint(0, 1)), _aff(constant=rng.randint(3, 5))
        return lower, _aff({var: 1}, rng.randint(-1, 1))
    if style == "symbolic" and choice < 0.8:
        sym = rng.choice([N, N, M])
        symbols.append(sym)
        shape = rng.random()
        if outer and shape < 0.3:  # range(i, n)
            return _aff({rng.choice(list(outer)): 1}), _aff({sym: 1}, -1)
        if shape < 0.5:  # range(m, 6) or range(m, m + 3)
            return _aff({sym: 1}), _aff({sym: rng.randint(0, 1)}, rng.randint(2, 5))
        return lower, _aff({sym: 1}, -rng.randint(0, 1))
    return lower, upper


def _rename(a: Affine) -> Affine:
    for s, d in zip(SRC, DST, strict=True):
        a = a.substitute(s, _aff({d: 1}))
    return a


def _affine_subscript(rng: random.Random, vars_: Sequence[Expr], symbols: list[Expr]
                      ) -> Affine:
    terms: dict[Expr, int] = {}
    for v in rng.sample(list(vars_), rng.randint(1, min(3, len(vars_)))):
        terms[v] = rng.choice([-2, -1, 1, 1, 1, 2])
    if rng.random() < 0.15:
        sym = rng.choice([K, N])
        symbols.append(sym)
        terms[sym] = rng.choice([-1, 1])
    return _aff(terms, rng.randint(-3, 3))


def _siv_pair(rng: random.Random, depth: int) -> tuple[Affine, Affine]:
    """a*i + c1 vs b*i' + c2: strong, weak-zero (either side), weak-crossing or general."""
    k = rng.randrange(depth)
    a = rng.choice([1, 1, 2, -1])
    b = a if rng.random() < 0.5 else rng.choice([0, -a, 1, 2, -1, 3])
    if rng.random() < 0.15:
        a, b = 0, a
    c = rng.randint(-2, 2)
    return _aff({SRC[k]: a}, c), _aff({DST[k]: b}, c + rng.choice([-2, -1, 0, 0, 1, 2, 3]))


def _affine_subscript_fn(a: Affine) -> Subscript:
    return lambda env: evaluate_affine(a, env)


def _nonaffine(rng: random.Random, vars_: Sequence[Expr]) -> Subscript:
    x, y = rng.choice(list(vars_)), rng.choice(list(vars_))
    if rng.random() < 0.5:
        return lambda env: env[x] * env[y]
    return lambda env: (env[x] + 2 * env[y]) % 3


Nest = list[tuple[Expr, Affine, Affine]]


def _loops(rng: random.Random, depth: int, style: str, symbols: list[Expr]
           ) -> tuple[Nest, Nest, Nest]:
    """Common loops, and the private loops of each side, all with source-variable bounds."""
    common: Nest = [(SRC[k], *_bounds(rng, SRC[:k], style, symbols)) for k in range(depth)]
    private: tuple[Nest, Nest] = ([], [])
    for side, var in ((0, P), (1, Q)):
        if rng.random() < 0.35:
            private[side].append((var, *_bounds(rng, SRC[:depth], style, symbols)))
    return common, private[0], private[1]


def _sink(nest: Nest) -> Nest:
    return [(var, _rename(lo), _rename(hi)) for var, lo, hi in nest]


@dataclass
class _Builder:
    rng: random.Random
    depth: int
    style: str
    symbols: list[Expr] = field(default_factory=list)
    pairs: list[tuple[Affine | None, Affine | None]] = field(default_factory=list)
    src_subs: list[Subscript] = field(default_factory=list)
    dst_subs: list[Subscript] = field(default_factory=list)
    description: list[str] = field(default_factory=list)

    def dim(self, src_vars: list[Expr], dst_vars: list[Expr]) -> None:
        rng = self.rng
        mode = rng.choice(["siv", "siv", "copy", "miv", "ziv", "nonaffine"]) \
            if self.style != "siv" else rng.choice(["siv", "siv", "siv", "ziv"])
        if mode == "nonaffine":
            f_fun, g_fun = _nonaffine(rng, src_vars), _nonaffine(rng, dst_vars)
            self.pairs.append((None, None))
            self.src_subs.append(f_fun)
            self.dst_subs.append(g_fun)
            self.description.append("non-affine dimension")
            return
        if mode == "siv":
            f, g = _siv_pair(rng, self.depth)
        elif mode == "ziv":
            c = rng.randint(0, 2)
            f, g = _aff(constant=c), _aff(constant=c if rng.random() < 0.7 else c + 1)
        elif mode == "copy":
            f = _affine_subscript(rng, src_vars, self.symbols)
            g = _rename(f).substitute(P, _aff({Q: 1}) if Q in dst_vars else _aff()) + _aff(
                constant=rng.choice([-1, 0, 1, 2]))
        else:
            f = _affine_subscript(rng, src_vars, self.symbols)
            g = _affine_subscript(rng, dst_vars, self.symbols)
        self.pairs.append((f, g))
        self.src_subs.append(_affine_subscript_fn(f))
        self.dst_subs.append(_affine_subscript_fn(g))


def random_case(rng: random.Random, style: str | None = None) -> Case:
    """A random problem: style 'siv' (SIV and ZIV subscripts, constant bounds), 'constant'
    (constant bounds), 'affine' (also triangular bounds), 'symbolic' (also symbols, unknown
    bounds); random if None."""
    style = style or rng.choice(["siv", "constant", "affine", "symbolic", "symbolic"])
    depth = rng.randint(1, 3)
    b = _Builder(rng, depth, style)
    if style == "siv":
        common, src_private, dst_private = _loops(rng, depth, "constant", b.symbols)
    else:
        common, src_private, dst_private = _loops(rng, depth, style, b.symbols)
    src_vars = SRC[:depth] + [var for var, _, _ in src_private]
    dst_vars = DST[:depth] + [var for var, _, _ in dst_private]
    for _ in range(rng.randint(1, 3)):
        b.dim(src_vars, dst_vars)
    hide = style == "symbolic"
    problem = DependenceProblem(
        common=tuple(_maybe_hide(rng, c, hide) for c in common),
        sink_vars=tuple(DST[:depth]),
        src_loops=tuple(_maybe_hide(rng, c, hide) for c in src_private),
        dst_loops=tuple(_maybe_hide(rng, c, hide) for c in dst_private),
        pairs=tuple(b.pairs),
        nonnegative=frozenset({N}),
    )
    nest = common + src_private
    sink_nest = _sink([(d, lo, hi) for d, (_, lo, hi) in zip(DST, common, strict=False)]
                      + dst_private)
    description = [f"style={style}", *(f"loop {c}" for c in problem.common),
                   *(f"src private {c}" for c in problem.src_loops),
                   *(f"dst private {c}" for c in problem.dst_loops),
                   *(f"pair {p}" for p in problem.pairs), *b.description]
    return Case(problem, nest, sink_nest, b.src_subs, b.dst_subs, description,
                sorted(set(b.symbols), key=str))


def _maybe_hide(rng: random.Random, loop: tuple[Expr, Affine, Affine], hide: bool
                ) -> LoopBound:
    """The loop for the analysis, sometimes with an unknown bound (the oracle keeps it)."""
    var, lower, upper = loop
    if hide and rng.random() < 0.1:
        return LoopBound(var, None, upper) if rng.random() < 0.5 else LoopBound(var, lower, None)
    return LoopBound(var, lower, upper)


def category(case: Case) -> str:
    """'nonaffine' (some subscript is not affine), 'siv' or 'miv' (does some subscript
    involve two loops or a private loop?), and 'constant', 'affine' (outer indices in bounds)
    or 'symbolic' (symbols, unknown bounds)."""
    p = case.problem
    loops = p.common + p.src_loops + p.dst_loops
    bounds = [b for loop in loops for b in (loop.lower, loop.upper)]
    if any(b is None for b in bounds) or case.symbols:
        shape = "symbolic"
    elif all(b is not None and b.is_constant for b in bounds):
        shape = "constant"
    else:
        shape = "affine"
    src_vars = [c.var for c in p.common]
    private = {loop.var for loop in p.src_loops + p.dst_loops}
    kind = "siv"
    for f, g in p.pairs:
        if f is None or g is None:
            return f"nonaffine-{shape}"
        leaves = set(f.leaves()) | set(g.leaves())
        levels = {k for k in range(len(src_vars))
                  if src_vars[k] in leaves or p.sink_vars[k] in leaves}
        if len(levels) > 1 or leaves & private:
            kind = "miv"
    return f"{kind}-{shape}"


def measure_precision(examples: int, seed: int) -> dict:
    """Run `examples` random problems; return per category (and 'all') the number of problems,
    of those the oracle finds dependent, of those proven independent, of reported fully
    refined vectors and of those the oracle confirms, the precision
    (confirmed / refined), vectors with a '*', soundness misses, and the share of constant
    distances that were reported."""
    rng = random.Random(seed)
    stats: dict[str, dict[str, float]] = {}
    for _ in range(examples):
        case = random_case(rng)
        result = decide(case.problem)
        report = check(case, result, assignments(case, rng))
        for key in (category(case), "all"):
            s = stats.setdefault(key, dict.fromkeys(
                ("problems", "dependent", "proven_independent", "refined", "confirmed",
                 "starred", "misses", "known_distances", "reported_distances"), 0))
            s["problems"] += 1
            s["dependent"] += report.dependent
            s["proven_independent"] += not result.vectors
            s["refined"] += report.refined
            s["confirmed"] += report.confirmed
            s["starred"] += report.starred
            s["misses"] += len(report.misses)
            s["known_distances"] += report.known_distances
            s["reported_distances"] += report.reported_distances
    for s in stats.values():
        s["precision"] = s["confirmed"] / s["refined"] if s["refined"] else 1.0
        s["distance_recall"] = (s["reported_distances"] / s["known_distances"]
                                if s["known_distances"] else 1.0)
    return stats
