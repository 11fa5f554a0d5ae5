"""An execution oracle for accir's dependence analysis, and random loop nests to feed it.

The oracle (`trace`, `true_dependences`, `check_module`) runs the IR of a function with an
instrumented copy of the reference interpreter (accir.backends.interp) that logs every access
the access analysis (accir.analysis.access) reports: array element loads and stores, scalar
variable reads and assignments. Each event carries the access (found by its IR node, see
`AccessKey`), whether it writes, the memory location it touches, the iteration vector of the
loops (`for` and `while`) around it and a timestamp (its position in the log). The iteration
vector holds each loop's normalised index as the access analysis defines it: the number of
iterations the loop has done so far in its current execution (`i#k`; a while loop's iteration
k evaluates the condition for the k-th time), except for `for` loops of constant step 1 whose
body does not bind the variable again: their index is the variable itself (the count plus the
start, which differs from the count across executions of a loop whose start varies,
`range(i, n)`). The oracle checks that the analysis puts the same loops around every access and
normalises them the same way.

From the log come the TRUE dependences: for every two events on one location, at least one a
write, the earlier is the source; kind flow/anti/output; direction and distance vectors over the
loops common to both accesses. `covered` says whether the analysis reports a dependence that
includes a true one: same source and sink access, same kind, every direction '*' or equal, every
reported distance equal. A true dependence no reported one covers is a MISS: the analysis is
unsound there. Precision is the share of reported (source, sink, kind, direction vector) entries
that some run confirmed.

Locations are byte addresses for array elements (so views, swapped names and arrays passed twice
are seen as the memory they are; every array the run touches is kept alive so that no address is
reused) and variable names for scalars; the events keep the array name and the element's flat
index (after Python's negative-index wrap) for messages. An array access inside a called
function is an event of the call's access to that argument (the analysis gives a call one read
and one write access per array argument); dependences between two events of one call do not
count (the call is one step of the caller). Where the analysis has no such access, the event is
*foreign*: two statements ordered by a true dependence through foreign events, between which
the graph has no dependence at all, are counted apart (`Outcome.unmodelled`).

The generator (`generate`) builds random affine loop nests as Python source: 1-2 nests of depth
1-3 with constant, symbolic (`n`, `m`, `A.shape[0]`, `na = A.shape[0]`) and triangular
(`range(i, n)`, `range(i + 1)`, `range(2 * i + 1)`) bounds, steps 1, 2 and -1, now and then a
`while` loop with a counter instead, 1-3 statements per nest (stores, augmented stores, scalar
accumulators and temporaries, sometimes under an `if`, sometimes through helper functions that
read or update an element, `_get1(A, i)`, `_touch2(A, i, j)`) on 1-D and 2-D arrays `A`, `B`,
`C` with subscripts such as `2 * i - j + 3`, `i + k`, `n - 1 - i`, `i + na`, `i + j + l`,
`2 * i + 1`, some non-affine (`B[idx[i]]`, `A[i * j]`) and some that may be negative (Python
wraps them). With `siv_only` it keeps to the class where the tests should be exact: subscripts
`a * i + c` or constants (no symbol), constant bounds with at least two iterations, `for` loops
only, no `if`, no helper. `Program.arguments(values)` sizes the arrays so that
subscripts stay inside them (an interval analysis of the subscripts; negative ones inside
[-size, 0)); an array whose size bounds a loop cannot always grow with its subscripts, so about
one run in ten ends with an IndexError (its log up to there still counts). The generator draws
its choices from a `Chooser`: `RandomChooser(seed)` for seeded runs (`random_program`,
benchmarks/dependence.py), a Hypothesis `data.draw` wrapper in the tests.

The hand-written PolyBench-style kernels (`KERNELS`) are the deterministic cases.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from accir.analysis.access import Access, AccessAnalysis
from accir.analysis.dependence import Dependence, DependenceAnalysis
from accir.analysis.manager import AnalysisManager
from accir.backends.interp import Interpreter
from accir.ir.nodes import (
    Alloc,
    Assign,
    Call,
    Const,
    Function,
    If,
    Load,
    Loop,
    Module,
    Region,
    Stmt,
    Store,
    Var,
    While,
    child_blocks,
)
from accir.ir.types import ScalarType
from benchmarks.kernels import gemm, heat_3d, jacobi_2d, seidel_2d  # shared with the suite
from benchmarks.polybench import lu

# ============================================================================ the oracle

# An access as both sides name it: (stmt_id, id of the IR node, write, array). Two accesses of
# one statement through the same node object (a Var object used twice) are one key: they touch
# the same location at the same time, so nothing can tell them apart. A call's accesses (one
# read and one write per array argument) have the Call node.
AccessKey = tuple[str, int, bool, str]


def access_key(a: Access) -> AccessKey:
    return (a.stmt_id, id(a.expr), a.write, a.array)


FOREIGN = -1  # the access index of an event inside a called function


@dataclass
class Trace:
    """The log of one run. Event e: `access[e]` (an index into `keys`, or FOREIGN),
    `location[e]`, `iters[e]` (normalised indices of the enclosing `for` loops, outermost first),
    `where[e]` (array or variable name and flat index, for messages); its timestamp is e."""

    keys: list[AccessKey]
    infos: list[Access]  # one Access per key (the first of the analysis's list)
    access: list[int] = field(default_factory=list)
    location: list[Any] = field(default_factory=list)
    iters: list[tuple[int, ...]] = field(default_factory=list)
    where: list[tuple[str, int | None]] = field(default_factory=list)
    callers: dict[int, str] = field(default_factory=dict)  # foreign event -> calling statement
    wrote: dict[int, bool] = field(default_factory=dict)  # foreign events that write
    calls: dict[int, int] = field(default_factory=dict)  # event in a called function -> which
    # call of the analysed function it belongs to (dependences inside one call do not count)
    error: str | None = None  # the exception that ended the run, if any
    unmapped: int = 0  # accesses in the analysed function that no Access matched (an oracle
    # or access-analysis gap: the tests expect none)

    def __len__(self) -> int:
        return len(self.access)


def _contexts(fn: Function) -> dict[int, str]:
    """id(If) -> 'C<n>', numbered as the access analysis numbers them (pre-order)."""
    out: dict[int, str] = {}

    def visit(body: tuple[Stmt, ...]) -> None:
        for stmt in body:
            if isinstance(stmt, If):
                out[id(stmt)] = f"C{len(out)}"
            for block in child_blocks(stmt):
                visit(block)

    visit(fn.body)
    return out


class _Frame:
    __slots__ = ("analysed", "context", "loops")

    def __init__(self, analysed: bool):
        self.analysed = analysed
        self.context = ""
        self.loops: list[int] = []  # normalised indices of the loops running now


@dataclass
class _ActiveCall:
    """A call made by the analysed function, while it runs."""

    frame: _Frame  # the caller's
    node: Call
    arrays: dict[int, str]  # id(array passed) -> name of the argument
    number: int


class TracingInterpreter(Interpreter):
    """The reference interpreter, logging the accesses of `function` (and, as foreign events,
    the array accesses of the functions it calls) into a Trace."""

    def __init__(self, module: Module, accesses: Sequence[Access],
                 function: Function | None = None):
        super().__init__(module)
        self.function = function or module.entry
        self.ifs = _contexts(self.function)
        self.loop_vars = _loop_vars(self.function)
        keys: dict[AccessKey, int] = {}
        infos: list[Access] = []
        for a in accesses:
            if access_key(a) not in keys:
                keys[access_key(a)] = len(keys)
                infos.append(a)
        self.index_of = keys
        self.trace = Trace(list(keys), infos)
        self.frames: list[_Frame] = []
        self.calls: list[_ActiveCall] = []
        self.call_count = 0
        self.arrays: dict[int, tuple[np.ndarray, int, tuple[int, ...]]] = {}
        self.checked_depth: set[int] = set()

    # ------------------------------------------------------------------ logging

    def log(self, key: AccessKey, location: Any, where: tuple[str, int | None],
            frame: _Frame | None = None) -> None:
        frame = frame or self.frames[-1]
        access = self.index_of.get(key)
        if access is None:
            self.trace.unmapped += 1
            return
        if access not in self.checked_depth:  # the loops seen must be the analysis's
            _check_loops(key, self.trace.infos[access], len(frame.loops))
            self.checked_depth.add(access)
        t = self.trace
        t.access.append(access)
        t.location.append(location)
        t.iters.append(tuple(frame.loops))
        t.where.append(where)

    def log_array(self, node: Load | Store, array: np.ndarray, index: tuple[int, ...],
                  write: bool) -> None:
        entry = self.arrays.get(id(array))
        if entry is None or entry[0] is not array:
            entry = self.arrays[id(array)] = (array, array.ctypes.data, array.strides)
        address = entry[1] + sum(i * s for i, s in zip(index, entry[2], strict=True))
        flat = int(np.ravel_multi_index(index, array.shape)) if array.size else None
        where = (node.array.name, flat)
        frame = self.frames[-1]
        if not frame.analysed:
            t = self.trace
            call = self.calls[-1] if self.calls else None
            name = call.arrays.get(id(array)) if call else None
            key = (call.frame.context, id(call.node), write, name) if call and name else None
            if call and key in self.index_of:  # the call's access to the argument
                t.calls[len(t.access)] = call.number
                self.log(key, address, (name, flat), call.frame)  # type: ignore[arg-type]
                return
            caller = next((f for f in reversed(self.frames) if f.analysed), None)
            if caller is None:
                return
            t.callers[len(t.access)] = caller.context
            if write:
                t.wrote[len(t.access)] = True
            t.access.append(FOREIGN)
            t.location.append(address)
            t.iters.append(tuple(caller.loops))  # the calling statement's iteration
            t.where.append(where)
            return
        self.log((frame.context, id(node), write, node.array.name), address, where)

    # ------------------------------------------------------------------ functions

    def call(self, fn: Function, args: list[Any]) -> Any:
        self.frames.append(_Frame(fn is self.function))
        try:
            return super().call(fn, args)
        finally:
            self.frames.pop()

    def block(self, body: tuple[Stmt, ...], env: dict[str, Any]) -> None:
        frame = self.frames[-1]
        for stmt in body:
            sid = getattr(stmt, "sid", None)
            if sid is not None:
                frame.context = sid
            getattr(self, "stmt_" + type(stmt).__name__)(stmt, env)

    # ------------------------------------------------------------------ statements

    def stmt_Assign(self, s: Assign, env: dict[str, Any]) -> None:
        env[s.target.name] = self.eval(s.value, env)
        frame = self.frames[-1]
        if frame.analysed:
            self.log((frame.context, id(s), True, s.target.name), ("$", s.target.name),
                     (s.target.name, None))

    def stmt_Store(self, s: Store, env: dict[str, Any]) -> None:
        value = self.eval(s.value, env)
        array = env[s.array.name]
        index = self.index(array, s.indices, env, s.checked)
        array[index] = value
        self.log_array(s, array, index, True)

    def stmt_Loop(self, s: Loop, env: dict[str, Any]) -> None:
        frame = self.frames[-1]
        frame.context = s.lid
        start, stop, step = (self.eval(e, env) for e in (s.start, s.stop, s.step))
        if step == 0:
            raise ValueError("range() arg 3 must not be zero")
        depth = len(frame.loops)
        frame.loops.append(0)
        unit = by_value(s)
        try:
            for count, i in enumerate(range(start, stop, step)):
                frame.loops[depth] = i if unit else count
                env[s.var.name] = i
                if not self.iteration(s.body, env):
                    break
        finally:
            frame.loops.pop()

    def stmt_While(self, s: While, env: dict[str, Any]) -> None:
        """Iteration k (from 0) evaluates the condition for the k-th time, then the body."""
        frame = self.frames[-1]
        depth = len(frame.loops)
        frame.loops.append(0)
        try:
            count = 0
            while True:
                frame.loops[depth] = count
                frame.context = s.lid
                if not self.eval(s.cond, env) or not self.iteration(s.body, env):
                    break
                count += 1
        finally:
            frame.loops.pop()

    def stmt_If(self, s: If, env: dict[str, Any]) -> None:
        frame = self.frames[-1]
        if frame.analysed:
            frame.context = self.ifs[id(s)]
        self.block(s.then if self.eval(s.cond, env) else s.orelse, env)

    def stmt_Region(self, s: Region, env: dict[str, Any]) -> None:
        self.block(s.body, env)

    # ------------------------------------------------------------------ expressions

    def expr_Call(self, e: Call, env: dict[str, Any]) -> Any:
        frame = self.frames[-1]
        if not frame.analysed:
            return super().expr_Call(e, env)
        args = [self.eval(a, env) for a in e.args]
        arrays = {id(v): a.name for a, v in zip(e.args, args, strict=True)
                  if isinstance(a, Var) and isinstance(v, np.ndarray)}
        self.call_count += 1
        self.calls.append(_ActiveCall(frame, e, arrays, self.call_count))
        try:
            return self.call(self.module.function(e.callee), args)
        finally:
            self.calls.pop()

    def expr_Load(self, e: Load, env: dict[str, Any]) -> Any:
        array = env[e.array.name]
        index = self.index(array, e.indices, env, e.checked)
        value = array[index]
        self.log_array(e, array, index, False)
        return value

    def expr_Var(self, e: Var, env: dict[str, Any]) -> Any:
        frame = self.frames[-1]
        if frame.analysed and isinstance(e.type, ScalarType):
            key = (frame.context, id(e), False, e.name)
            if key in self.index_of:
                self.log(key, ("$", e.name), (e.name, None))
            elif e.name not in self.loop_vars:
                self.trace.unmapped += 1
        return env[e.name]


def by_value(loop: Loop) -> bool:
    """Whether the normalised index of a `for` loop is its variable's value (constant step 1,
    variable not bound again in the body) rather than the number of iterations done."""
    return (isinstance(loop.step, Const) and loop.step.value == 1
            and loop.var.name not in _bound_names(loop.body))


def _bound_names(body: tuple[Stmt, ...]) -> set[str]:
    names: set[str] = set()

    def visit(block: tuple[Stmt, ...]) -> None:
        for stmt in block:
            if isinstance(stmt, (Assign, Alloc)):
                names.add(stmt.target.name)
            elif isinstance(stmt, Loop):
                names.add(stmt.var.name)
            for inner in child_blocks(stmt):
                visit(inner)

    visit(body)
    return names


def _check_loops(key: AccessKey, access: Access, running: int) -> None:
    """The oracle and the analysis must agree on the loops around an access (`for` and `while`
    loops) and on how each is normalised."""
    if len(access.loops) != running:
        raise AssertionError(f"oracle: access {key} runs in {running} loops, the analysis "
                             f"says {len(access.loops)}")
    for info in access.loops:
        loop = info.loop
        if isinstance(loop, Loop) and (info.index is loop.var) != by_value(loop):
            raise AssertionError(f"oracle: loop {loop.lid} normalised differently")


def _loop_vars(fn: Function) -> set[str]:
    names: set[str] = set()

    def visit(body: tuple[Stmt, ...]) -> None:
        for stmt in body:
            if isinstance(stmt, Loop):
                names.add(stmt.var.name)
            for block in child_blocks(stmt):
                visit(block)

    visit(fn.body)
    return names


def trace(module: Module, args: Sequence[Any], accesses: Sequence[Access] | None = None,
          manager: AnalysisManager | None = None) -> Trace:
    """Run the module's entry on `args` (mutated in place), logging its accesses. An exception
    ends the run; the log up to it is kept (`Trace.error`)."""
    if accesses is None:
        accesses = (manager or AnalysisManager()).get(AccessAnalysis, module.entry).accesses
    interp = TracingInterpreter(module, accesses)
    try:
        interp.run(list(args))
    except Exception as err:  # a run that raises is a prefix of a valid run
        interp.trace.error = f"{type(err).__name__}: {err}"
    return interp.trace


# ---------------------------------------------------------------------- true dependences


@dataclass(frozen=True)
class TrueDep:
    """A dependence that happened: `source` ran before `sink` on one location."""

    kind: str
    source: AccessKey
    sink: AccessKey
    array: str
    distances: tuple[int, ...]  # sink minus source normalised index, per common loop
    example: str = field(compare=False, default="")

    @property
    def directions(self) -> tuple[str, ...]:
        return tuple("<" if d > 0 else ">" if d < 0 else "=" for d in self.distances)

    @property
    def loop_independent(self) -> bool:
        return all(d == 0 for d in self.distances)

    def line(self) -> str:
        return (f"true {self.source[0]} -> {self.sink[0]} {self.kind} {self.array} "
                f"dir=({','.join(self.directions)}) "
                f"dist=({','.join(map(str, self.distances))}) [{self.example}]")


def _kind(src_write: bool, dst_write: bool) -> str:
    return ("output" if src_write and dst_write else "flow" if src_write
            else "anti" if dst_write else "input")


def _common(a: Access, b: Access) -> int:
    n = 0
    for x, y in zip(a.loops, b.loops, strict=False):
        if x.loop is not y.loop:
            break
        n += 1
    return n


_DENSE = 512  # pairs of events per (location, source access, sink access) handled with NumPy


def true_dependences(t: Trace) -> tuple[set[TrueDep], set[tuple[str, str]]]:
    """The true dependences of a run (one per kind, source, sink and distance vector), and the
    (source, sink) statements of those that go through a foreign event."""
    by_location: dict[Any, list[int]] = defaultdict(list)
    for e, loc in enumerate(t.location):
        by_location[loc].append(e)
    deps: dict[tuple[Any, ...], TrueDep] = {}
    unmodelled: set[tuple[str, str]] = set()
    writes = [k[2] for k in t.keys]
    common: dict[tuple[int, int], int] = {}
    for events in by_location.values():
        if len(events) < 2:
            continue
        groups: dict[int, list[int]] = defaultdict(list)
        for e in events:
            groups[t.access[e]].append(e)
        foreign = groups.pop(FOREIGN, None)
        if foreign is not None:
            unmodelled |= _statement_pairs(t, events)
        if not any(writes[a] for a in groups):
            continue
        for a, ea in groups.items():
            for b, eb in groups.items():
                if not (writes[a] or writes[b]):
                    continue
                c = common.get((a, b))
                if c is None:
                    c = common[(a, b)] = _common(t.infos[a], t.infos[b])
                for dist, (x, y) in _pairs(t, ea, eb, c).items():
                    key = (a, b, dist)
                    if key not in deps:
                        deps[key] = TrueDep(_kind(writes[a], writes[b]), t.keys[a], t.keys[b],
                                            t.infos[a].array, dist, _example(t, x, y))
    return set(deps.values()), unmodelled


def _statement_pairs(t: Trace, events: list[int]) -> set[tuple[str, str]]:
    """(source, sink) statements of the dependences among the events on one location that
    involve a foreign event: x before y, one a write, x or y foreign, x and y in different
    executions of statements (a dependence inside one call is not the caller's business)."""
    big = len(t.access)
    # (statement, iteration) -> (all events, foreign events) as
    # [first, first write, last, last write]
    stats: dict[tuple[str, tuple[int, ...]], tuple[list[int], list[int]]] = {}
    for e in events:
        a = t.access[e]
        foreign = a == FOREIGN
        stmt = t.callers[e] if foreign else t.keys[a][0]
        write = t.wrote.get(e, False) if foreign else t.keys[a][2]
        both = stats.setdefault((stmt, t.iters[e]), ([big, big, -1, -1], [big, big, -1, -1]))
        for f in both[:1 + foreign]:
            f[0], f[2] = min(f[0], e), max(f[2], e)
            if write:
                f[1], f[3] = min(f[1], e), max(f[3], e)

    def before(x: list[int], y: list[int]) -> bool:
        return x[1] < y[2] or x[0] < y[3]

    return {(a[0], b[0]) for a, (all_a, foreign_a) in stats.items()
            for b, (all_b, foreign_b) in stats.items()
            if a != b and (before(foreign_a, all_b) or before(all_a, foreign_b))}


def _pairs(t: Trace, ea: list[int], eb: list[int], c: int
           ) -> dict[tuple[int, ...], tuple[int, int]]:
    """Distance vectors (over the first c loops) of the pairs x in ea, y in eb with x < y, not
    both inside one call, each with one example pair."""
    out: dict[tuple[int, ...], tuple[int, int]] = {}
    calls = t.calls
    if len(ea) * len(eb) <= _DENSE:
        for x in ea:
            ix = t.iters[x]
            cx = calls.get(x)
            for y in eb:
                if x < y and (cx is None or cx != calls.get(y)):
                    iy = t.iters[y]
                    out.setdefault(tuple(iy[k] - ix[k] for k in range(c)), (x, y))
        return out
    xs, ys = np.array(ea), np.array(eb)
    mask = xs[:, None] < ys[None, :]
    if calls:
        ca = np.array([calls.get(x, 0) for x in ea])
        cb = np.array([calls.get(y, -1) for y in eb])
        mask &= ca[:, None] != cb[None, :]
    if not mask.any():
        return out
    ia = np.array([t.iters[x][:c] for x in ea], dtype=np.int64).reshape(len(ea), c)
    ib = np.array([t.iters[y][:c] for y in eb], dtype=np.int64).reshape(len(eb), c)
    dist = (ib[None, :, :] - ia[:, None, :])[mask]
    px, py = np.nonzero(mask)
    uniq, first = np.unique(dist, axis=0, return_index=True)
    for row, k in zip(uniq, first, strict=True):
        out[tuple(int(v) for v in row)] = (ea[px[k]], eb[py[k]])
    return out


def _example(t: Trace, x: int, y: int) -> str:
    name, flat = t.where[x]
    at = name if flat is None else f"{name}[{flat}]"
    return f"{at} at t={x} iters={t.iters[x]} -> t={y} iters={t.iters[y]}"


# ---------------------------------------------------------------------- coverage


def covers(dep: Dependence | tuple[tuple[str, ...], tuple[int | None, ...]], true: TrueDep
           ) -> bool:
    """Whether a reported direction/distance vector includes a true dependence's."""
    dirs, dists = (dep.directions, dep.distances) if isinstance(dep, Dependence) else dep
    if len(dirs) != len(true.distances):
        return False
    for d, r, td, tdist in zip(dirs, dists, true.directions, true.distances, strict=True):
        if d != "*" and d != td:
            return False
        if r is not None and r != tdist:
            return False
    return True


ReportIndex = dict[tuple[AccessKey, AccessKey, str], list[Dependence]]


def index_reported(deps: Iterable[Dependence]) -> ReportIndex:
    out: ReportIndex = defaultdict(list)
    for d in deps:
        out[(access_key(d.source), access_key(d.sink), d.kind)].append(d)
    return out


def covered(true: TrueDep, reported: ReportIndex | Iterable[Dependence]) -> bool:
    """Some reported dependence with the same source and sink access and kind covers it."""
    if not isinstance(reported, dict):
        reported = index_reported(reported)
    return any(covers(d, true) for d in reported.get((true.source, true.sink, true.kind), ()))


def entry_of(d: Dependence) -> tuple[AccessKey, AccessKey, str, tuple[str, ...]]:
    return (access_key(d.source), access_key(d.sink), d.kind, d.directions)


# ---------------------------------------------------------------------- checking a function


@dataclass
class Outcome:
    """The oracle's verdict on one function over some runs."""

    name: str
    reported: list[Dependence]
    true: set[TrueDep]
    misses: list[TrueDep]
    entries: int  # reported (source, sink, kind, direction vector) entries
    confirmed: int  # ... of which some run confirmed
    runs: int
    errors: list[str]
    unmodelled: set[tuple[str, str]] = field(default_factory=set)  # see the module docstring
    events: int = 0
    by_test: dict[str, tuple[int, int]] = field(default_factory=dict)  # test -> (entries,
    # confirmed), each entry counted under the test of its first dependence
    unmapped: int = 0  # events no Access matched (see Trace.unmapped)

    @property
    def precision(self) -> float:
        return self.confirmed / self.entries if self.entries else 1.0

    @property
    def sound(self) -> bool:
        return not self.misses

    def report(self) -> str:
        lines = [f"{self.name}: {len(self.true)} true dependences, {len(self.misses)} missed, "
                 f"precision {self.confirmed}/{self.entries}, {self.runs} runs, "
                 f"{self.events} events", "reported:"]
        lines += ["  " + d.line() for d in self.reported]
        lines += ["missed:"] + ["  " + m.line() for m in self.misses[:20]]
        if self.unmodelled:
            lines += ["ordered through callees, no dependence reported: " + ", ".join(
                f"{a} -> {b}" for a, b in sorted(self.unmodelled))]
        if self.errors:
            lines += ["run errors: " + "; ".join(self.errors)]
        return "\n".join(lines)


def check_module(module: Module, arg_sets: Iterable[Sequence[Any]], name: str = "",
                 noalias: bool = True) -> Outcome:
    """Analyse the entry of `module`, run it on each argument list (copies of the arrays) and
    compare."""
    graph = AnalysisManager(noalias=noalias).get(DependenceAnalysis, module.entry)
    reported = index_reported(graph.dependences)
    true: set[TrueDep] = set()
    errors: list[str] = []
    runs = events = unmapped = 0
    through_calls: set[tuple[str, str]] = set()
    for args in arg_sets:
        t = trace(module, copy_arguments(args), graph.accesses)
        deps, foreign = true_dependences(t)
        true |= deps
        through_calls |= foreign
        runs += 1
        events += len(t)
        unmapped += t.unmapped
        if t.error:
            errors.append(t.error)
    misses = sorted((d for d in true if not covered(d, reported)), key=lambda d: d.line())
    entries = {entry_of(d) for d in graph.dependences}
    confirmed = {entry_of(d) for td in true for d in reported.get((td.source, td.sink, td.kind),
                                                                  ()) if covers(d, td)}
    ordered = {(d.source.stmt_id, d.sink.stmt_id) for d in graph.dependences}
    tests: dict[Any, str] = {}
    for d in graph.dependences:
        tests.setdefault(entry_of(d), d.test)
    by_test: dict[str, tuple[int, int]] = {}
    for entry, test in tests.items():
        e, c = by_test.get(test, (0, 0))
        by_test[test] = (e + 1, c + (entry in confirmed))
    return Outcome(name or module.entry.name, list(graph.dependences), true, misses,
                   len(entries), len(confirmed & entries), runs, errors, through_calls - ordered,
                   events, by_test, unmapped)


def copy_arguments(args: Sequence[Any]) -> list[Any]:
    """Fresh copies of the arrays among `args` that share memory as the originals do: one
    copy of each underlying buffer, and the same views of it (an array passed twice, `a[1:]`
    and `a[:-1]`, `A` and `A.T`)."""
    copies: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    out: list[Any] = []
    for a in args:
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        if id(root) not in copies:
            copies[id(root)] = (root, np.array(root, copy=True, order="K"))
        old, new = copies[id(root)]
        if a is old:
            out.append(new)
            continue
        if new.strides != old.strides:  # pragma: no cover - a root that is not contiguous
            out.append(a.copy())
            continue
        view = np.ndarray(a.shape, a.dtype, buffer=new, offset=a.ctypes.data - old.ctypes.data,
                          strides=a.strides)
        view.flags.writeable = a.flags.writeable
        out.append(view)
    return out


def lower(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Module, Callable[[Sequence[Any]],
                                                                                 list[Any]]]:
    """The frontend IR of `fn` for the types of `args`, and how to turn Python arguments into
    the entry's (runtime arguments, then hidden global arrays)."""
    from accir.api import typeof_arg
    from accir.frontend.lower import lower_function

    lowered = lower_function(fn, [typeof_arg(a) for a in args])
    hidden = [h.value for h in lowered.hidden]
    order = list(lowered.runtime_args)

    def entry_args(python_args: Sequence[Any]) -> list[Any]:
        return [python_args[i] for i in order] + hidden

    return lowered.module, entry_args


def _overlapping(args: Sequence[Any]) -> bool:
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return any(np.shares_memory(x, y) for k, x in enumerate(arrays) for y in arrays[k + 1:])


def check_function(fn: Callable[..., Any], arg_sets: Sequence[Sequence[Any]], name: str = ""
                   ) -> Outcome:
    """Lower `fn` for the types of the first argument list and check it on all of them. When
    array arguments share memory, the analysis may not assume they do not (noalias off)."""
    module, entry_args = lower(fn, arg_sets[0])
    noalias = not any(_overlapping(a) for a in arg_sets)
    return check_module(module, [entry_args(a) for a in arg_sets],
                        name or getattr(fn, "__name__", ""), noalias)


# ============================================================================ random programs


class Chooser(Protocol):
    """Where the generator's choices come from."""

    def integer(self, lo: int, hi: int) -> int: ...  # inclusive


class RandomChooser:
    def __init__(self, seed: int | str):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


def _pick(ch: Chooser, seq: Sequence[Any]) -> Any:
    return seq[ch.integer(0, len(seq) - 1)]


def _chance(ch: Chooser, percent: int) -> bool:
    """True with the given probability; False is the simpler choice (what a shrinker wants)."""
    return ch.integer(1, 100) > 100 - percent


ARRAYS = ("A", "B", "C")
PARAMS = ("n", "m", "k")
IDX_VALUES = 4  # idx[] holds values in [0, IDX_VALUES)
MAX_SIZE = 64  # no axis longer (past it, a run may end with an IndexError)
BOUND_SIZE = 32  # ... nor that of an array whose size bounds a loop
LOOP_VARS = ("i", "j", "l")


@dataclass(frozen=True)
class Index:
    """An integer expression: `sum(c * x) + const`, x a loop variable or a symbol (`n`, `m`, `k`,
    `na`, `A.shape[0]`...); or `idx[v] + const`; or `v * w + const`."""

    terms: tuple[tuple[str, int], ...] = ()
    const: int = 0
    indirect: str | None = None
    product: tuple[str, str] | None = None

    def __add__(self, other: Index | int) -> Index:
        if isinstance(other, int):
            return Index(self.terms, self.const + other, self.indirect, self.product)
        assert self.indirect is None and self.product is None
        assert other.indirect is None and other.product is None
        coefs: dict[str, int] = dict(self.terms)
        for x, c in other.terms:
            coefs[x] = coefs.get(x, 0) + c
        return Index(tuple((x, c) for x, c in coefs.items() if c), self.const + other.const)

    def __sub__(self, other: Index) -> Index:
        return self + other.scale(-1)

    def scale(self, f: int) -> Index:
        return Index(tuple((x, c * f) for x, c in self.terms), self.const * f)

    @property
    def affine(self) -> bool:
        return self.indirect is None and self.product is None

    def names(self) -> set[str]:
        out = {x for x, _ in self.terms}
        if self.indirect:
            out.add(self.indirect)
        if self.product:
            out.update(self.product)
        return out

    def render(self) -> str:
        if self.indirect is not None:
            base = f"idx[{self.indirect}]"
        elif self.product is not None:
            base = f"{self.product[0]} * {self.product[1]}"
        else:
            base = ""
            for x, c in self.terms:
                mag = "" if abs(c) == 1 else f"{abs(c)} * "
                if not base:
                    base = ("-" if c < 0 else "") + mag + x
                else:
                    base += (" - " if c < 0 else " + ") + mag + x
        if not base:
            return str(self.const)
        if self.const:
            base += f" - {-self.const}" if self.const < 0 else f" + {self.const}"
        return base

    def interval(self, env: dict[str, tuple[int, int]]) -> tuple[int, int]:
        lo = hi = self.const
        if self.indirect is not None:
            return lo, hi + IDX_VALUES - 1
        if self.product is not None:
            (a, b), (c, d) = env[self.product[0]], env[self.product[1]]
            products = (a * c, a * d, b * c, b * d)
            return lo + min(products), hi + max(products)
        for x, c in self.terms:
            a, b = env[x]
            lo += min(c * a, c * b)
            hi += max(c * a, c * b)
        return lo, hi


def var(x: str, c: int = 1) -> Index:
    return Index(((x, c),))


def const(c: int) -> Index:
    return Index((), c)


@dataclass(frozen=True)
class Ref:
    """An array element `name[subs]` or a scalar `name` (subs None)."""

    name: str
    subs: tuple[Index, ...] | None = None
    call: bool = False  # read through a helper: `_get2(A, i, j)`

    def render(self) -> str:
        if self.subs is None:
            return self.name
        subs = ", ".join(s.render() for s in self.subs)
        if self.call:
            return f"_get{len(self.subs)}({self.name}, {subs})"
        return f"{self.name}[{subs}]"


HELPERS = [  # what the generated programs call
    "def _get1(X, p):", "    return X[p]", "", "",
    "def _get2(X, p, q):", "    return X[p, q]", "", "",
    "def _touch1(X, p):", "    X[p] = 0.5 * X[p] + 1.0", "", "",
    "def _touch2(X, p, q):", "    X[p, q] = 0.5 * X[p, q] + 1.0", "", "",
]


@dataclass(frozen=True)
class GenStmt:
    target: Ref
    op: str  # '=', '+=' or 'call' (`_touch1(A, i)`: a helper reads and writes the element)
    reads: tuple[Ref, ...]
    scale: float
    cond: tuple[str, tuple[Ref, ...]] | None = None  # (source, array/scalar reads in it)

    def render(self, indent: str) -> list[str]:
        terms = [r.render() for r in self.reads]
        value = " + ".join(terms[:1] + [f"{self.scale} * {t}" for t in terms[1:]]) or "1.0"
        if self.op == "call":
            subs = self.target.subs or ()
            line = f"_touch{len(subs)}({self.target.name}, {', '.join(x.render() for x in subs)})"
        else:
            line = f"{self.target.render()} {self.op} {value}"
        if self.cond is None:
            return [indent + line]
        return [f"{indent}if {self.cond[0]}:", f"{indent}    {line}"]


@dataclass(frozen=True)
class GenLoop:
    var: str
    lo: Index
    hi: Index  # exclusive: the variable runs over [lo, hi) in the order of `step`
    step: int
    body: tuple[GenLoop | GenStmt, ...]
    kind: str = "for"  # or "while": `i = lo` / `while i < hi:` / ... / `i += 1` (step 1)

    def header(self) -> str:
        if self.step == -1:
            return f"for {self.var} in range({(self.hi + -1).render()}, " \
                   f"{(self.lo + -1).render()}, -1):"
        if self.step == 1:
            if self.lo == const(0):
                return f"for {self.var} in range({self.hi.render()}):"
            return f"for {self.var} in range({self.lo.render()}, {self.hi.render()}):"
        return f"for {self.var} in range({self.lo.render()}, {self.hi.render()}, {self.step}):"

    def render(self, indent: str) -> list[str]:
        if self.kind == "while":
            lines = [f"{indent}{self.var} = {self.lo.render()}",
                     f"{indent}while {self.var} < {self.hi.render()}:"]
        else:
            lines = [indent + self.header()]
        for item in self.body:
            lines += item.render(indent + "    ")
        if self.kind == "while":
            lines.append(f"{indent}    {self.var} += 1")
        return lines


@dataclass(frozen=True, repr=False)
class Program:
    """A random function `kernel(A, B, C, idx, n, m, k)` and what it is made of."""

    ndims: tuple[int, int, int]  # of A, B, C
    nests: tuple[GenLoop, ...]
    uses_na: bool
    # classification, for the precision statistics
    siv: bool  # every subscript: at most one loop variable, no symbol, affine, never negative
    constant_bounds: bool  # every loop bound a constant
    conditional: bool  # some statement under an `if`
    single_trip: bool = False  # some loop with constant bounds runs once

    @property
    def source(self) -> str:
        lines = [*HELPERS, "def kernel(A, B, C, idx, n, m, k):", "    s = 0.0", "    t = 0.0"]
        if self.uses_na:
            lines.append("    na = A.shape[0]")
        for nest in self.nests:
            lines += nest.render("    ")
        lines.append("    return s + t")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"Program(siv={self.siv}, constant_bounds={self.constant_bounds}, " \
               f"conditional={self.conditional}, source=\n{self.source})"

    @property
    def siv_constant(self) -> bool:
        """The class where the tests should be exact: SIV subscripts without symbols, constant
        bounds (none with a single iteration, which makes '<' impossible for reasons no
        dependence test looks at), no `if`."""
        return self.siv and self.constant_bounds and not self.conditional \
            and not self.single_trip

    def function(self) -> Callable[..., Any]:
        return load(self.source)

    def shapes(self, values: dict[str, int]) -> dict[str, tuple[int, ...]]:
        """Array shapes such that every subscript stays inside its axis (negative ones inside
        [-size, 0)), as far as interval analysis can tell. An array whose size is a loop bound
        (`A.shape[0]`, `na`) may have to grow with itself: it gets a few rounds and at most
        BOUND_SIZE; then the others are sized for it (at most MAX_SIZE)."""
        source = self.source
        bounds = {a for a in ARRAYS if f"{a}.shape[0]" in source or (a == "A" and self.uses_na)}
        shapes = {a: (2,) * d for a, d in zip(ARRAYS, self.ndims, strict=True)}
        shapes["idx"] = (2,)
        for final in (False,) * 4 + (True,):
            need = self._need(shapes, values)
            grown = {a: tuple(min(n, BOUND_SIZE if a in bounds else MAX_SIZE) for n in size)
                     for a, size in need.items()}
            if final:  # the bound arrays stay as they are
                grown.update({a: shapes[a] for a in bounds})
            if grown == shapes:
                break
            shapes = grown
        return shapes

    def _need(self, shapes: dict[str, tuple[int, ...]], values: dict[str, int]
              ) -> dict[str, list[int]]:
        need: dict[str, list[int]] = {a: list(s) for a, s in shapes.items()}
        env = {p: (values[p], values[p]) for p in PARAMS}
        for a in ARRAYS:
            env[f"{a}.shape[0]"] = (shapes[a][0], shapes[a][0])
        env["na"] = env["A.shape[0]"]
        for nest in self.nests:
            _need(nest, env, need)
        return need

    def arguments(self, values: dict[str, int], seed: int = 0) -> tuple[Any, ...]:
        rng = np.random.default_rng(seed)
        shapes = self.shapes(values)
        arrays = [rng.uniform(-1.0, 1.0, size=shapes[a]) for a in ARRAYS]
        idx = rng.integers(0, IDX_VALUES, size=shapes["idx"], dtype=np.int64)
        return (*arrays, idx, values["n"], values["m"], values["k"])


def _need(item: GenLoop | GenStmt, env: dict[str, tuple[int, int]],
          need: dict[str, list[int]]) -> None:
    if isinstance(item, GenStmt):
        refs = [item.target, *item.reads, *(item.cond[1] if item.cond else ())]
        for ref in refs:
            for axis, sub in enumerate(ref.subs or ()):
                if sub.indirect is not None:
                    need["idx"][0] = max(need["idx"][0], env[sub.indirect][1] + 1)
                lo, hi = sub.interval(env)
                need[ref.name][axis] = max(need[ref.name][axis], hi + 1, -lo)
        return
    lo, _ = item.lo.interval(env)
    _, hi = item.hi.interval(env)
    if lo > hi - 1:
        return  # never runs
    inner = {**env, item.var: (lo, hi - 1)}
    for x in item.body:
        _need(x, inner, need)


# ---------------------------------------------------------------------- generating


@dataclass
class _Gen:
    ch: Chooser
    ndims: tuple[int, int, int]
    siv_only: bool = False  # generate only the SIV, constant-bound, unconditional class
    uses_na: bool = False
    siv: bool = True
    constant_bounds: bool = True
    conditional: bool = False
    single_trip: bool = False

    def symbol_bound(self) -> Index:
        choice = self.ch.integer(0, 5)
        if choice <= 1:
            return var("n")
        if choice == 2:
            return var("m")
        if choice == 3:
            return var("n") + -1
        if choice == 4:
            self.uses_na = True
            return var("na")
        return var(f"{_pick(self.ch, ARRAYS[:2])}.shape[0]")

    def bounds(self, outer: list[GenLoop], step: int) -> tuple[Index, Index]:
        kind = 0 if self.siv_only else self.ch.integer(0, 5)
        if kind <= 1 or (kind >= 4 and not outer):  # constant
            start = self.ch.integer(0, 2)
            # at least 2 iterations in the SIV class (a single one makes every '<' impossible,
            # which is not what its precision is about); sometimes 1 elsewhere
            least = (3 if step == 2 else 2) if self.siv_only else 1
            length = self.ch.integer(least, 6)
            self.single_trip |= length <= (2 if step == 2 else 1)
            return const(start), const(start + length)
        self.constant_bounds = False
        lo = const(self.ch.integer(0, 1))
        if kind <= 3:  # symbolic
            return lo, self.symbol_bound()
        o = _pick(self.ch, outer)
        if _chance(self.ch, 50):  # range(i, n), range(i + 1, n)
            return var(o.var) + self.ch.integer(0, 1), self.symbol_bound()
        if _chance(self.ch, 25):
            return lo, var(o.var, 2) + 1  # range(2 * i + 1)
        return lo, var(o.var) + 1  # range(i + 1)

    def loop(self, outer: list[GenLoop], depth: int, statements: int) -> GenLoop:
        name = LOOP_VARS[len(outer)]
        step = _pick(self.ch, (1, 1, 1, 1, 2, -1))
        kind = "while" if not self.siv_only and _chance(self.ch, 10) else "for"
        if kind == "while":
            step = 1
            self.constant_bounds = False  # (not a `for` loop: nothing is known of its trips)
        lo, hi = self.bounds(outer, step)
        here = GenLoop(name, lo, hi, step, (), kind)
        scope = [*outer, here]
        inner: GenLoop | None = None
        if depth > 1:
            inner = self.loop(scope, depth - 1, max(statements - 1, 1))
            statements = 0 if statements <= 1 else self.ch.integer(0, statements - 1)
        before = [self.statement(scope) for _ in range(statements)]
        split = self.ch.integer(0, len(before))
        body: list[GenLoop | GenStmt] = [*before[:split], *([inner] if inner else []),
                                         *before[split:]]
        return GenLoop(name, lo, hi, step, tuple(body), kind)

    # ------------------------------------------------------------------ subscripts

    def upper(self, loop: GenLoop) -> Index:
        """The largest value of a loop's variable, as an Index over outer variables."""
        return loop.hi + -1

    def subscript(self, scope: list[GenLoop]) -> Index:
        if self.siv_only:
            return self.siv_subscript(scope)
        kind = self.ch.integer(0, 23)
        if kind <= 8:
            return self.siv_subscript(scope)
        self.siv = False
        v = _pick(self.ch, scope)
        if kind <= 11:  # 2 * i - j + 3: MIV
            w = _pick(self.ch, scope)
            a = self.ch.integer(1, 2)
            return var(v.var, a) + self.reflected(w) + self.ch.integer(0, 3)
        if kind <= 13:  # i + k, n - 1 - i
            if _chance(self.ch, 50):
                return var(v.var) + var("k")
            return self.reflected(v)
        if kind <= 15:  # may be negative: Python wraps it
            return _pick(self.ch, (var(v.var) + -self.ch.integer(1, 3),
                                   var(v.var, -1) + -1, var(v.var) - var(scope[0].var)))
        if kind <= 17:
            return Index(indirect=v.var, const=self.ch.integer(0, 1))
        if kind <= 19:
            return Index(product=(v.var, _pick(self.ch, scope).var))
        if kind == 20:  # i + na: a size symbol, provably non-negative
            self.uses_na = True
            return var(v.var) + var(_pick(self.ch, ("na", "B.shape[0]")))
        if kind == 21:  # i + j + l, or with a reflected index
            return sum((_pick(self.ch, (var(w.var), self.reflected(w))) for w in scope),
                       var(v.var))
        if kind == 22:  # 3 * i, 2 * i + 1: parity and GCD
            return var(v.var, self.ch.integer(2, 3)) + self.ch.integer(0, 1)
        w = _pick(self.ch, scope)  # 2 * i + 2 * (hi - 1 - j) + 1
        return var(v.var, 2) + self.reflected(w).scale(2) + self.ch.integer(0, 1)

    def reflected(self, loop: GenLoop) -> Index:
        """`hi - 1 - v`: never negative inside the loop."""
        return self.upper(loop) + var(loop.var, -1)

    def siv_subscript(self, scope: list[GenLoop]) -> Index:
        if _chance(self.ch, 10):
            return const(self.ch.integer(0, 3))
        loop = _pick(self.ch, scope)
        a = _pick(self.ch, (1, 1, 1, 2, -1))
        if a < 0:
            if loop.hi.terms or loop.lo.terms:
                self.siv = False  # the reflection brings in a symbol or an outer variable
            return self.reflected(loop) + self.ch.integer(0, 2)
        return var(loop.var, a) + self.ch.integer(0, 3)

    # ------------------------------------------------------------------ statements

    def ref(self, scope: list[GenLoop], name: str | None = None) -> Ref:
        name = name or _pick(self.ch, ARRAYS)
        ndim = self.ndims[ARRAYS.index(name)]
        subs = [self.subscript(scope) for _ in range(ndim)]
        # X[X.shape[0] - 1 - i + 2] leaves X whatever its size: draw again (then give up)
        own = {f"{name}.shape[0]", *(("na",) if name == "A" else ())}
        for _ in range(3):
            if not any(x in own and c > 0 for x, c in subs[0].terms):
                break
            subs[0] = self.subscript(scope)
        else:
            subs[0] = const(0)
        return Ref(name, tuple(subs))

    def statement(self, scope: list[GenLoop]) -> GenStmt:
        kind = self.ch.integer(0, 9 if self.siv_only else 11)
        reads = tuple(self.ref(scope) for _ in range(self.ch.integer(1, 2)))
        if kind >= 10:  # through helpers (the analysis knows nothing of the subscripts)
            self.siv = False
        if kind == 10:
            stmt = GenStmt(self.ref(scope), "call", (), 0.5)
        elif kind == 11:
            r = reads[0]
            stmt = GenStmt(Ref("s"), "+=", (Ref(r.name, r.subs, call=True), *reads[1:]), 0.25)
        elif kind <= 4:
            stmt = GenStmt(self.ref(scope), "=", reads, 0.5)
        elif kind <= 6:
            stmt = GenStmt(self.ref(scope), "+=", reads[:1], 0.5)
        elif kind <= 8:  # s += A[i]
            stmt = GenStmt(Ref("s"), "+=", reads, 0.25)
        else:  # t = A[i] * ...; later statements read t
            stmt = GenStmt(Ref("t"), "=", (*reads[:1], Ref("t")), 0.5)
        if _chance(self.ch, 15):  # reads of t or s
            stmt = GenStmt(stmt.target, stmt.op, (*stmt.reads, Ref(_pick(self.ch, "st"))),
                           stmt.scale)
        if not self.siv_only and _chance(self.ch, 15):
            self.conditional = True
            stmt = GenStmt(stmt.target, stmt.op, stmt.reads, stmt.scale, self.condition(scope))
        return stmt

    def condition(self, scope: list[GenLoop]) -> tuple[str, tuple[Ref, ...]]:
        v = _pick(self.ch, scope).var
        choice = self.ch.integer(0, 3)
        if choice == 0:
            return f"{v} % 2 == 0", ()
        if choice == 1:
            return f"{v} > {scope[0].var} + 1", ()
        if choice == 2:
            return "k > 1", ()
        r = self.ref(scope)
        return f"{r.render()} > 0.0", (r,)


def generate(ch: Chooser, siv_only: bool = False) -> Program:
    """A random program (see the module docstring). With `siv_only`: only SIV subscripts
    without symbols, constant bounds, no `if`."""
    ndims = tuple(ch.integer(1, 2) for _ in ARRAYS)
    gen = _Gen(ch, ndims, siv_only)  # type: ignore[arg-type]
    nests = tuple(gen.loop([], ch.integer(1, 3), ch.integer(1, 3))
                  for _ in range(ch.integer(1, 2)))
    return Program(ndims, nests, gen.uses_na, gen.siv,  # type: ignore[arg-type]
                   gen.constant_bounds, gen.conditional, gen.single_trip)


def argument_values(ch: Chooser) -> dict[str, int]:
    return {"n": ch.integer(1, 6), "m": ch.integer(1, 6), "k": ch.integer(0, 3)}


def random_program(seed: int | str, siv_only: bool = False
                   ) -> tuple[Program, list[tuple[Any, ...]]]:
    """A seeded program and 3 argument lists for it."""
    ch = RandomChooser(seed)
    prog = generate(ch, siv_only)
    return prog, [prog.arguments(argument_values(ch), seed=s) for s in range(3)]


def check_program(prog: Program, arg_sets: Sequence[Sequence[Any]]) -> Outcome:
    return check_function(prog.function(), arg_sets, "kernel")


_LOADED: dict[str, Callable[..., Any]] = {}
_DIR = Path(tempfile.mkdtemp(prefix="accir_dependence_programs_"))


def load(source: str, name: str = "kernel") -> Callable[..., Any]:
    """The function `name` of the source, imported from a real file (so that `inspect` and
    accir can read it); one module per distinct source."""
    fn = _LOADED.get(source)
    if fn is None:
        module_name = "depprog_" + hashlib.sha1(source.encode()).hexdigest()[:16]
        path = _DIR / f"{module_name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        with warnings.catch_warnings():
            spec.loader.exec_module(module)
        fn = _LOADED[source] = getattr(module, name)
    return fn


# ============================================================================ kernels

# PolyBench-style kernels written as a scientist would, with small argument builders. The
# parameter `k` of `shift_by_k` is a symbol, `n` in `recurrence` an argument.


def recurrence(a, n):
    for i in range(1, n):
        a[i] = a[i - 1] + 1


def recurrence_2(a, n):
    for i in range(2, n):
        a[i] = a[i - 1] + a[i - 2]


def shift_by_k(a, b, n, k):
    for i in range(n):
        a[i + k] = a[i] + b[i]


def prefix_sum(x, out):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s += x[i]
        out[i] = s


def inplace_scan(a):
    n = a.shape[0]
    for i in range(1, n):
        a[i] += a[i - 1]


def covariance(data, cov, mean):
    n, m = data.shape
    for j in range(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= n
    for i in range(n):
        for j in range(m):
            data[i, j] -= mean[j]
    for i in range(m):
        for j in range(i, m):
            cov[i, j] = 0.0
            for k in range(n):
                cov[i, j] += data[k, i] * data[k, j]
            cov[i, j] /= n - 1.0
            cov[j, i] = cov[i, j]


def reverse_copy(a, b):
    n = a.shape[0]
    for i in range(n):
        a[n - 1 - i] = b[i] + a[i]


def strided_even_odd(a):
    n = a.shape[0]
    for i in range(0, n - 1, 2):
        a[i + 1] = a[i] * 0.5


def backwards(a):
    n = a.shape[0]
    for i in range(n - 1, 0, -1):
        a[i - 1] = a[i] + 1.0


def _rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=shape)


# name -> (function, make_args(rng, size))
ArgsBuilder = Callable[[np.random.Generator, int], tuple[Any, ...]]
KERNELS: dict[str, tuple[Callable[..., Any], ArgsBuilder]] = {
    "recurrence": (recurrence, lambda rng, n: (_rand(rng, n), n)),
    "recurrence_2": (recurrence_2, lambda rng, n: (_rand(rng, n), n)),
    "shift_by_k": (shift_by_k, lambda rng, n: (_rand(rng, n + 3), _rand(rng, n), n, n % 3)),
    "prefix_sum": (prefix_sum, lambda rng, n: (_rand(rng, n), np.zeros(n))),
    "inplace_scan": (inplace_scan, lambda rng, n: (_rand(rng, n),)),
    "gemm": (gemm, lambda rng, n: (1.5, 1.2, _rand(rng, n, n + 1), _rand(rng, n, n - 1),
                                   _rand(rng, n - 1, n + 1))),
    "jacobi_2d": (jacobi_2d, lambda rng, n: (2, _rand(rng, n, n), _rand(rng, n, n))),
    "seidel_2d": (seidel_2d, lambda rng, n: (2, _rand(rng, n, n))),
    "lu": (lu, lambda rng, n: (_rand(rng, n, n) + n * np.eye(n),)),
    "covariance": (covariance, lambda rng, n: (_rand(rng, n + 1, n), np.zeros((n, n)),
                                               np.zeros(n))),
    "heat_3d": (heat_3d, lambda rng, n: (2, _rand(rng, n, n, n), _rand(rng, n, n, n))),
    "reverse_copy": (reverse_copy, lambda rng, n: (_rand(rng, n), _rand(rng, n))),
    "strided_even_odd": (strided_even_odd, lambda rng, n: (_rand(rng, n),)),
    "backwards": (backwards, lambda rng, n: (_rand(rng, n),)),
}


def check_kernel(name: str, sizes: Sequence[int] = (3, 4, 5)) -> Outcome:
    fn, make = KERNELS[name]
    rng = np.random.default_rng(0)
    return check_function(fn, [make(rng, n) for n in sizes], name)


# ============================================================================ reproducers

# Unsound cases the oracle found, reduced (tests/test_dependence_programs.py pins them).


def sibling_loops(a, b, n):
    for i in range(n):
        b[i] = a[i + 1]
    for i in range(n):
        a[i] = 0.0


def while_recurrence(a, n):
    k = 1
    while k < n:
        a[k] = a[k - 1] + 1.0
        k += 1


def count_up(n):
    s = 0
    while s < n:
        s += 1
    return s


def loop_variable_reassigned(a, n):
    for i in range(n):
        a[i] = 1.0
        i = i + 1
        a[i] = a[i] + 1.0


def inner_loop_reuses_index(a, n):
    for i in range(n):
        a[i] = 1.0
        for i in range(2):  # noqa: B007 - reusing the name is the point
            pass
        a[i] = a[i] + 1.0


def _axpy(alpha, x, y):
    for i in range(x.shape[0]):
        y[i] += alpha * x[i]


def calls_in_order(x, y):
    _axpy(2.0, x, y)
    _axpy(-0.5, y, x)


def _bump(x):
    x[0] += 1.0
    return x[0]


def _plus(x, v):
    return x[0] + v


def nested_calls(x):
    return _plus(x, _bump(x))


# name -> (function, argument lists, missed dependences when found, fixed since)
REPRODUCERS: dict[str, tuple[Callable[..., Any], list[tuple[Any, ...]], str, bool]] = {
    "sibling_loops": (sibling_loops, [(np.zeros(5), np.zeros(5), 4)],
                      "S0 -> S1 anti a (the second loop's `i` taken for the first's)", True),
    "while_recurrence": (while_recurrence, [(np.zeros(5), 5)],
                         "S1 -> S1 flow a (while loops were not loops)", True),
    "count_up": (count_up, [(4,)], "S1 -> S1 flow/output s, S1 -> L0 flow s", True),
    "loop_variable_reassigned": (loop_variable_reassigned, [(np.zeros(6), 4)],
                                 "S2 -> S0 anti/output a dir=(<) dist=(1)", True),
    "inner_loop_reuses_index": (inner_loop_reuses_index, [(np.zeros(6), 4)],
                                "S1 -> S1 flow/anti/output a dir=(<), S0 -> S1, S1 -> S0", True),
    "calls_in_order": (calls_in_order, [(np.ones(4), np.ones(4))],
                       "S0 -> S1 flow y (through the callee)", True),
    "nested_calls": (nested_calls, [(np.zeros(3),)],
                     "S0 -> S0 flow x from _bump's write to _plus's read", False),
}
