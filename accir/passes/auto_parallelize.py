"""auto-parallelize: run loops on a team of threads when their iterations are independent,
and check the loops the user asserts are.

For each loop nest, outermost first, the pass looks for a loop whose iterations may run at
once: no array dependence carried by it (accir.analysis.dependence), and every scalar it
writes either a reduction (`s += a[i]`, `m = max(m, a[i])`, or named in a `reduction`
clause) or private (assigned before it is read in each iteration; after the loop it holds
the last iteration's value, as in CPython). That loop gets a `parallel(...)` annotation
(llvm_parallel runs it) and the loops inside stay sequential and vectorisable.

Loops without a directive, in `kernels` regions and under `loop auto` are parallelised when
that is provably safe and exact: a float sum or product would be reassociated, so it needs a
`reduction` clause or the `reassociate` option; a loop with too little work (fewer than about
`min_work` operations), or the remainder nest of an unrolled loop (at most factor - 1
iterations), runs on one thread. Loops the user asserts independent (`parallel
loop`, `loop independent|gang|worker|vector`, loops in a `parallel` region) are checked: a
dependence the tests prove is a race, reported as a `race` remark (and an accir.RaceWarning)
with its evidence, and the loop runs sequentially, giving CPython's answer; a dependence they
cannot rule out is reported and the directive honoured. `trust_directives` honours every
directive unchecked. `seq` and `serial` loops stay sequential.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xi64, C>, %n: pyint) -> pyint {
...   var %i: pyint, %s: pyint, %t: pyint
...   S0: %s = 0
...   L0: for %i = 0 to %n step 1 {
...     S1: %t = (%a[%i; unchecked] * 2)
...     S2: %a[%i; unchecked] = %t
...     S3: %s = (%s + %t)
...   }
...   S4: return %s
... }
... ''')
>>> print(print_module(AutoParallelize().run(m, AnalysisManager()).module), end="")
func @f(%a: memref<?xi64, C>, %n: pyint) -> pyint {
  var %i: pyint, %s: pyint, %t: pyint
  S0: %s = 0
  L0: for %i = 0 to %n step 1 parallel(static, reduce + %s, private %i %t, min 2223) {
    S1: %t = (%a[%i; unchecked] * 2)
    S2: %a[%i; unchecked] = %t
    S3: %s = (%s + %t)
  }
  S4: return %s
}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from accir.analysis.dependence import Dependence, DependenceAnalysis, DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.frontend.directives import Directive
from accir.ir.nodes import (
    Alloc,
    Assign,
    BinOp,
    Break,
    Const,
    Dim,
    Function,
    If,
    Load,
    Loop,
    Module,
    Parallel,
    Reduction,
    Region,
    Return,
    Stmt,
    Store,
    Var,
    While,
    child_blocks,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import iter_exprs
from accir.ir.types import ArrayType, ScalarType
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.ids import is_versioned
from accir.passes.loop_nests import remainder_trips
from accir.passes.mark_independent import depends_only_on_bounds
from accir.passes.parallel_directives import (
    collapse_count,
    is_asserted,
    reduction_clauses,
    team_clauses,
)
from accir.passes.parallel_scalars import (
    collapsed_inner,
    exposed_reads,
    match_array_reduction,
    match_reduction,
    valid_reduction,
)
from accir.passes.registry import register

# tests whose "dependent" answer is exact (a real pair of iterations touches one element)
_EXACT_TESTS = ("ziv", "strong-siv", "weak-zero-siv", "weak-crossing-siv", "exact-siv", "exact")
_UNKNOWN_TRIPS = 64  # iterations assumed for an inner loop whose count is not a constant


@register
@dataclass(frozen=True)
class AutoParallelize(Pass):
    name: ClassVar[str] = "auto-parallelize"
    summary: ClassVar[str] = ("run dependence-free loops on threads (reductions, private "
                              "scalars); check asserted directives for races")
    trust_directives: bool = False
    reassociate: bool = False
    min_work: int = 20000

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def parallelize(fn: Function) -> Function:
            planner = _Planner(self, analyses.get(DependenceAnalysis, fn))
            body = planner.block(fn.body, _Context())
            remarks.extend(planner.remarks)
            return fn if body == fn.body else dataclasses.replace(fn, body=body)

        return PassResult(map_functions(module, parallelize), remarks=tuple(remarks))


@dataclass(frozen=True)
class _Context:
    region: Directive | None = None  # the enclosing compute construct
    quiet: bool = False  # the slow copy of a versioned loop: left sequential, no remarks


@dataclass
class _Verdict:
    parallel: Parallel | None = None
    kind: str = "not-parallelized"
    reason: str = ""
    notes: list[tuple[str, str]] = field(default_factory=list)  # extra (kind, message)


class _Planner:
    def __init__(self, options: AutoParallelize, graph: DependenceGraph):
        self.options = options
        self.graph = graph
        self.remarks: list[Remark] = []

    # ------------------------------------------------------------------ walking

    def block(self, body: tuple[Stmt, ...], ctx: _Context) -> tuple[Stmt, ...]:
        out = tuple(self.stmt(s, ctx) for s in body)
        return body if all(a is b for a, b in zip(out, body, strict=True)) else out

    def stmt(self, s: Stmt, ctx: _Context) -> Stmt:
        if isinstance(s, If):
            if is_versioned(s):
                then = self.block(s.then, ctx)
                orelse = self.block(s.orelse, dataclasses.replace(ctx, quiet=True))
            else:
                then, orelse = self.block(s.then, ctx), self.block(s.orelse, ctx)
            return s if then is s.then and orelse is s.orelse else dataclasses.replace(
                s, then=then, orelse=orelse)
        if isinstance(s, Region):
            inner = ctx
            if s.directive.name in ("parallel", "kernels", "serial"):
                inner = dataclasses.replace(ctx, region=s.directive)
            body = self.block(s.body, inner)
            return s if body is s.body else dataclasses.replace(s, body=body)
        if isinstance(s, While):
            body = self.block(s.body, ctx)
            return s if body is s.body else dataclasses.replace(s, body=body)
        if isinstance(s, Loop):
            return self.loop(s, ctx)
        return s

    def loop(self, s: Loop, ctx: _Context) -> Stmt:
        if ctx.quiet:
            return s  # the checked copy runs when a fast copy's guard fails: sequentially
        tail = remainder_trips(s)
        if tail is not None and s.directive is None:
            # the few iterations an unrolled loop leaves: threads would not pay for themselves
            # (and the outlined code would cost compile time)
            self.remark(s, "not-parallelized", f"not parallelized: the remainder of an unrolled "
                        f"loop (at most {tail} iteration{'s' if tail > 1 else ''}); the loops "
                        "inside it stay sequential too")
            return s
        verdict = self.decide(s, ctx)
        if not ctx.quiet:
            for kind, message in verdict.notes:  # what the threads would have shared
                if verdict.parallel is not None or kind not in ("privatized", "reduction"):
                    self.remark(s, kind, message)
            if verdict.parallel is not None:
                self.remark(s, "parallelized", f"parallelized: {_describe(verdict.parallel)}"
                            + (f"; {verdict.reason}" if verdict.reason else ""))
            elif verdict.reason:
                self.remark(s, verdict.kind, verdict.reason)
        if verdict.parallel is not None:
            return dataclasses.replace(s, parallel=verdict.parallel)
        body = self.block(s.body, ctx)
        return s if body is s.body else dataclasses.replace(s, body=body)

    def remark(self, loop: Loop, kind: str, message: str) -> None:
        where = loop.loc
        line = where.line if where else 0
        self.remarks.append(Remark(kind, f"loop over '{loop.var.name}' at line {line} "
                                   f"({loop.lid}): {message}", where.file if where else "",
                                   line, AutoParallelize.name))

    # ------------------------------------------------------------------ deciding

    def decide(self, s: Loop, ctx: _Context) -> _Verdict:
        directive = s.directive
        region = ctx.region
        if s.parallel is not None:
            return _Verdict(s.parallel)
        if (region is not None and region.name == "serial") or (
                directive is not None and directive.name == "serial loop"):
            return _Verdict(reason="not parallelized: inside a serial construct")
        if directive is not None and directive.clause("seq") is not None:
            return _Verdict(reason="not parallelized: the directive says seq")
        asserted = is_asserted(directive, region)
        if asserted and self.options.trust_directives:
            return self.trusted(s, directive, region)
        blocker = _structure_blocker(s)
        if blocker:
            return _Verdict(reason=f"not parallelized: {blocker}")
        clauses = reduction_clauses(directive, region)
        reductions, private, notes, scalar_problem = self.scalars(s, clauses, asserted)
        if scalar_problem and asserted:
            return _Verdict(kind="race", reason=f"race: the directive says the iterations are "
                            f"independent, but {scalar_problem}; running it sequentially (as "
                            "CPython does)", notes=notes)
        if scalar_problem:
            return _Verdict(reason=f"not parallelized: {scalar_problem}", notes=notes)

        deps = [] if s.independent else _array_dependences(self.graph, s)
        array_reductions, deps = self.array_reductions(s, deps, clauses, asserted, notes)
        reductions += array_reductions
        if deps:
            proven = [d for d in deps if d.test in _EXACT_TESTS
                      and all(depends_only_on_bounds(c, s) for c in d.conditions)]
            if not asserted:
                inexact = self.inexact_array_reduction(s, deps)
                if inexact:
                    return _Verdict(reason=f"not parallelized: {inexact}", notes=notes)
                return _Verdict(reason=f"not parallelized: {_evidence(deps[0])}; "
                                f"{_hint(s)}", notes=notes)
            if proven:
                return _Verdict(kind="race", reason=f"race: the directive says the iterations "
                                f"are independent, but {_evidence(proven[0])}; running it "
                                "sequentially (as CPython does). Remove the directive's "
                                "independence claim or rewrite the loop", notes=notes)
            notes.append(("possible-race", f"possible race, not proven: "
                          f"{_evidence(deps[0])}; the directive is honoured"))
        min_trips = 2
        if not asserted:
            work = _work(s.body)
            trips = _constant_trips(s)
            if trips is not None and trips * work < self.options.min_work:
                return _Verdict(reason=f"not parallelized: too little work ({trips} iterations "
                                f"of about {work} operations)", notes=notes)
            min_trips = max(2, -(-self.options.min_work // work))
        schedule = "dynamic" if _triangular(s) and not _float_reductions(reductions) else "static"
        threads, condition = team_clauses(directive, region, s)
        par = Parallel(schedule, tuple(reductions), tuple(private), threads, condition, min_trips)
        if asserted and collapse_count(directive) >= 2:
            par = self.collapse(s, par, notes)
        return _Verdict(par, notes=notes)

    def collapse(self, s: Loop, par: Parallel, notes: list[tuple[str, str]]) -> Parallel:
        """collapse(n): the loop and the one inside it share their iterations, if they can."""
        problem = _collapse_problem(s, self.graph, check=True)
        if problem:
            notes.append(("not-collapsed", f"collapse: only the outer loop runs in parallel: "
                          f"{problem}"))
            return par
        return dataclasses.replace(par, collapse=2)

    def array_reductions(self, s: Loop, deps: list[Dependence], clauses: dict[str, str],
                         asserted: bool, notes: list[tuple[str, str]]
                         ) -> tuple[list[Reduction], list[Dependence]]:
        """Arrays whose carried dependences come from reduction updates (`h[k] += 1`): each
        thread updates its own copy, and the copies are combined after the loop."""
        found: list[Reduction] = []
        arrays = {a.name: a for a in _arrays_in(s)}
        for name in dict.fromkeys(d.array for d in deps):
            array = arrays.get(name)
            if array is None:
                continue
            match = match_array_reduction(s.body, array)
            if name in clauses and valid_reduction(clauses[name], array):
                op = clauses[name]
                found.append(Reduction(op, array, match.combine if match and match.op == op
                                       else ""))
            elif match is not None and (match.exact or asserted or self.options.reassociate):
                found.append(Reduction(match.op, array, match.combine))
                notes.append(("reduction", f"implicit array reduction({_acc_op(match.op)}:"
                              f"{name}): each thread updates its own copy" +
                              ("" if match.exact else "; the copies are combined in thread "
                               "order, so rounding differs from CPython's sequential order")))
        reduced = {r.var.name for r in found}
        return found, [d for d in deps if d.array not in reduced]

    def inexact_array_reduction(self, s: Loop, deps: list[Dependence]) -> str:
        """Why a floating-point array reduction among the dependences stays sequential."""
        arrays = {a.name: a for a in _arrays_in(s)}
        for name in dict.fromkeys(d.array for d in deps):
            match = match_array_reduction(s.body, arrays[name]) if name in arrays else None
            if match is not None and all(d.array == name for d in deps):
                op = _acc_op(match.op)
                return (f"'{name}' is a floating-point {op} array reduction; running it in "
                        f"parallel would change the rounding. Add `#pragma acc loop "
                        f"reduction({op}:{name})` or compile with reassociate=True")
        return ""

    def scalars(self, s: Loop, clauses: dict[str, str], asserted: bool
                ) -> tuple[list[Reduction], list[Var], list[tuple[str, str]], str]:
        """(reductions, private variables, remarks, the reason a scalar blocks the loop)."""
        reductions: list[Reduction] = []
        private: list[Var] = [s.var]
        notes: list[tuple[str, str]] = []
        exposed = exposed_reads(s.body)
        for var in _written_scalars(s):
            match = match_reduction(s.body, var)
            if var.name in clauses:
                op = clauses[var.name]
                if not valid_reduction(op, var):
                    return [], [], notes, (f"reduction({_acc_op(op)}:{var.name}) does not "
                                           f"apply to {var.ty} values")
                combine = match.combine if match is not None and match.op == op else ""
                reductions.append(Reduction(op, var, combine))
                continue
            if var.name not in exposed:
                private.append(var)
                continue
            if match is not None and (match.exact or asserted or self.options.reassociate):
                reductions.append(Reduction(match.op, var, match.combine))
                notes.append(("reduction", f"implicit reduction({_acc_op(match.op)}:"
                              f"{var.name})" + ("" if match.exact else
                                                "; partial results are combined in thread "
                                                "order, so rounding differs from CPython's "
                                                "sequential order")))
                continue
            if match is not None:
                return [], [], notes, (
                    f"'{var.name}' is a floating-point {_acc_op(match.op)} reduction; "
                    "running it in parallel would change the rounding. Add "
                    f"`#pragma acc loop reduction({_acc_op(match.op)}:{var.name})` or compile "
                    "with reassociate=True")
            return [], [], notes, (
                f"scalar '{var.name}' carries a value from one iteration to the next "
                f"(line {_first_line(s, var)})")
        privatised = [v.name for v in private[1:]]
        if privatised:
            notes.append(("privatized", "private: " + ", ".join(privatised)))
        return reductions, private, notes, ""

    def trusted(self, s: Loop, directive: Directive | None, region: Directive | None
                ) -> _Verdict:
        """trust_directives: OpenACC's own rules, unchecked (scalars private unless named
        in a reduction clause or updated as a reduction)."""
        blocker = _structure_blocker(s)
        if blocker:
            return _Verdict(reason=f"not parallelized: {blocker}")
        clauses = reduction_clauses(directive, region)
        exposed = exposed_reads(s.body)
        reductions, private = [], [s.var]
        for var in _written_scalars(s):
            match = match_reduction(s.body, var)
            if var.name in clauses and valid_reduction(clauses[var.name], var):
                reductions.append(Reduction(clauses[var.name], var,
                                            match.combine if match else ""))
            elif match is not None and var.name in exposed:
                reductions.append(Reduction(match.op, var, match.combine))
            else:
                private.append(var)
        threads, condition = team_clauses(directive, region, s)
        collapse = 2 if collapse_count(directive) >= 2 and not _collapse_problem(
            s, self.graph, check=False) else 1
        par = Parallel("static", tuple(reductions), tuple(private), threads, condition,
                       collapse=collapse)
        return _Verdict(par, reason="directive trusted (trust_directives=True)")


# --------------------------------------------------------------------- loop facts


def _collapse_problem(s: Loop, graph: DependenceGraph, check: bool) -> str:
    """Why the loop inside `s` cannot share its iteration space ('' when it can): its bounds
    must be computable before `s` runs (pure, free of what `s` assigns), its step a nonzero
    constant, and (when checking) it must carry no proven dependence."""
    inner = collapsed_inner(s)
    if not inner:
        return "the inner loop is not directly inside"
    first = inner[0]
    written = {v.name for v in _written_scalars(s)} | {s.var.name}
    for bound in (first.start, first.stop, first.step):
        for e in (bound, *iter_exprs(bound)):
            if isinstance(e, Var) and e.name in written:
                return f"the bounds of the loop over '{first.var.name}' change with '{e.name}'"
            if not isinstance(e, (Var, Const, Dim)) and not (
                    isinstance(e, BinOp) and e.op in ("+", "-", "*")):
                return f"the bounds of the loop over '{first.var.name}' are not simple"
    if not (isinstance(first.step, Const) and first.step.value != 0):
        return f"the step of the loop over '{first.var.name}' is not a constant"
    if check:
        for loop in inner:
            deps = [d for d in _array_dependences(graph, loop) if d.test in _EXACT_TESTS
                    and all(depends_only_on_bounds(c, loop) for c in d.conditions)]
            if deps:
                return _evidence(deps[0])
    return ""


def _structure_blocker(s: Loop) -> str:
    """Why the loop's control flow or allocations keep it on one thread ('' if nothing)."""
    for stmt in walk_stmts(s.body):
        if isinstance(stmt, Return):
            return f"it returns from the function (line {_line(stmt)})"
        if isinstance(stmt, Alloc):
            return f"it allocates an array (line {_line(stmt)})"
        if isinstance(stmt, Assign) and isinstance(stmt.target.type, ArrayType):
            return f"it rebinds array '{stmt.target.name}' (line {_line(stmt)})"
    if _breaks_out(s.body):
        return "it can leave early (break)"
    return ""


def _breaks_out(body: tuple[Stmt, ...]) -> bool:
    """A break of this loop (not of a loop nested in it)."""
    for stmt in body:
        if isinstance(stmt, Break):
            return True
        if isinstance(stmt, (If, Region)) and any(_breaks_out(b) for b in child_blocks(stmt)):
            return True
    return False


def _written_scalars(s: Loop) -> list[Var]:
    found: dict[str, Var] = {}
    for stmt in walk_stmts(s.body):
        if isinstance(stmt, Assign) and isinstance(stmt.target.type, ScalarType):
            found.setdefault(stmt.target.name, stmt.target)
        elif isinstance(stmt, Loop):
            found.setdefault(stmt.var.name, stmt.var)
    found.pop(s.var.name, None)
    return list(found.values())


def _array_dependences(graph: DependenceGraph, s: Loop) -> list[Dependence]:
    """Array dependences carried by the loop, except those between atomic updates."""
    atomic_ids = {getattr(x, "sid", None) for r in walk_stmts(s.body) if isinstance(r, Region)
                  and r.directive.name == "atomic" for x in walk_stmts(r.body)} - {None}
    return [d for d in graph.carried_by(s) if not d.source.scalar and not d.sink.scalar
            and not (d.source.stmt_id in atomic_ids and d.sink.stmt_id in atomic_ids)]


def _arrays_in(s: Loop) -> list[Var]:
    found: dict[str, Var] = {}
    for e in iter_exprs(s):
        if isinstance(e, Var) and isinstance(e.type, ArrayType):
            found.setdefault(e.name, e)
    return list(found.values())


def _triangular(s: Loop) -> bool:
    """An inner loop whose bounds depend on this loop's variable (uneven work)."""
    for stmt in walk_stmts(s.body):
        if isinstance(stmt, Loop):
            for bound in (stmt.start, stmt.stop):
                if any(isinstance(e, Var) and e.name == s.var.name
                       for e in (bound, *iter_exprs(bound))):
                    return True
    return False


def _float_reductions(reductions: list[Reduction]) -> bool:
    return any(isinstance(r.var.ty, ScalarType) and not (r.var.ty.is_int or r.var.ty.is_bool)
               for r in reductions)


def _constant_trips(s: Loop) -> int | None:
    if all(isinstance(b, Const) for b in (s.start, s.stop, s.step)):
        return len(range(s.start.value, s.stop.value, s.step.value))  # type: ignore[attr-defined]
    return None


def _work(body: tuple[Stmt, ...]) -> int:
    """A rough count of operations in one iteration."""
    total = 0
    for stmt in body:
        if isinstance(stmt, Loop):
            trips = _constant_trips(stmt)
            total += (_UNKNOWN_TRIPS if trips is None else trips) * _work(stmt.body)
        elif isinstance(stmt, While):
            total += _UNKNOWN_TRIPS * _work(stmt.body)
        elif isinstance(stmt, (If, Region)):
            total += 1 + sum(_work(b) for b in child_blocks(stmt))
        else:
            total += 1 + sum(1 for _ in iter_exprs(stmt)) // 2
    return max(total, 1)


# --------------------------------------------------------------------- messages


def _describe(p: Parallel) -> str:
    parts = [f"{p.schedule} schedule"]
    parts += [f"reduction({_acc_op(r.op)}:{r.var.name})" for r in p.reductions]
    if p.num_threads is not None:
        parts.append(f"threads {print_expr(p.num_threads)}")
    return ", ".join(parts)


def _acc_op(op: str) -> str:
    return {"and": "&&", "or": "||"}.get(op, op)


def _evidence(d: Dependence) -> str:
    distance = d.distances[d.level - 1] if d.level else None  # of the carrying loop
    when = (f"{abs(distance)} iteration{'s' if abs(distance) != 1 else ''} later"
            if distance is not None else "in a later iteration")
    return (f"{d.kind} dependence on '{d.array}': {_access(d.source)} and then "
            f"{_access(d.sink)} {when} (direction ({','.join(d.directions)}), "
            f"test {d.test})")


def _access(a: object) -> str:
    expr = getattr(a, "expr", None)
    verb = "writes" if getattr(a, "write", False) else "reads"
    target = expr if isinstance(expr, Load) else None
    if isinstance(expr, Store):
        target = Load(expr.array, expr.indices)
    text = print_expr(target).replace("%", "").replace("; unchecked", "") if target else "?"
    line = expr.loc.line if expr is not None and expr.loc else 0
    return f"{getattr(a, 'stmt_id', '?')} (line {line}) {verb} {text}"


def _hint(s: Loop) -> str:
    if any(isinstance(x, Loop) for x in walk_stmts(s.body)):
        return "the loops inside it are considered instead"
    return "a loop-carried recurrence stays sequential"


def _first_line(s: Loop, var: Var) -> int:
    for stmt in walk_stmts(s.body):
        if isinstance(stmt, Assign) and stmt.target.name == var.name:
            return _line(stmt)
    return 0


def _line(stmt: Stmt) -> int:
    return stmt.loc.line if stmt.loc else 0
