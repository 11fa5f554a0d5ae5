"""loop-tiling: run a loop nest tile by tile, as the OpenACC `tile` clause asks, or where a
cache would otherwise lose the reuse a nest has.

Tiling a band of n loops strip-mines each into a tile loop (stepping by the tile size) and an
element loop (over one tile), and moves the tile loops outward:

    for i in range(a, b):                for i_tile in range(a, b, Ti):
        for j in range(c, d):      ->        for j_tile in range(c, d, Tj):
            body                                 for i in range(i_tile, min(i_tile + Ti, b)):
                                                     for j in range(j_tile, min(j_tile + Tj, d)):
                                                         body

It is legal when the band is fully permutable: every dependence between its iterations has
only '<' and '=' directions over the band's loops (accir.passes.loop_nests). The band must be
a perfect, rectangular nest of unit-step loops whose iterations may be reordered at all (no
checked subscript, call or early exit: run bounds-check-hoist first), whose bounds read no
array and no variable the nest assigns (the tiles evaluate them again), whose scalars are
private to an iteration, and whose loop variables are not read after it. The last iteration
stays last, so private scalars end with CPython's values.

* `#pragma acc ... loop tile(s1, ..., sn)`: the first size is the innermost loop's, the last
  the outermost's (OpenACC 2.7, section 2.9.8); `*` takes the `size` option, or the automatic
  size. The directive, without its tile clause, moves to the outermost tile loop, whose
  iterations become the parallel ones. An illegal clause leaves the loops untiled (a
  `not-transformed` remark says why); they still give CPython's results.
* Automatic tiling (`auto`): a perfect nest of depth >= 2 without directives is tiled when a
  reference's reuse across an outer loop is lost before it comes back: the reference is
  invariant in that loop (B[k, j] across i in a matrix multiply) or moves in it only along its
  contiguous axis (the last for C layouts, the first for F: B[j, i] across i), and in between
  it walks a 2-D block or steps across the rows of its array. A 2-deep nest gets square tiles,
  the largest power of two up to 256 such that the tiles of all its arrays fit `cache_kib`
  (1 MiB, an L2 cache: 256x256 for two f64 arrays). L1-sized tiles (32x32) were slower than no
  tiling on a 2000x2000 transpose: their short inner loops cost more than the misses they
  save. A deeper nest gets its two outer loops tiled by 64 (a slab of 64 rows stays in L2;
  the innermost loop keeps its full length for SIMD). A loop known to run two tiles or less
  is left alone. `sizes` forces tile sizes on every legal nest at least that deep (outermost
  first, e.g. "3,2"), whatever the reuse.

Tile loops are marked `independent` where the band's dependences prove it (the dependence tests
cannot see through the `min` bounds), so the outer tile loop can still run in parallel.
Recognisable tile and element loops (`for i = i_tile to min(i_tile + T, ...)`) are never tiled
again.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @transpose(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> none {
...   var %i: pyint, %j: pyint
...   L0: for %i = 0 to %n step 1 {
...     L1: for %j = 0 to %n step 1 {
...       S0: %B[%j, %i; unchecked] = %A[%i, %j; unchecked]
...     }
...   }
... }
... ''')
>>> print(print_module(LoopTiling().run(m, AnalysisManager()).module), end="")
func @transpose(%A: memref<?x?xf64, C>, %B: memref<?x?xf64, C>, %n: pyint) -> none {
  var %i: pyint, %i_tile: pyint, %j: pyint, %j_tile: pyint
  L2: for %i_tile = 0 to %n step 256 independent {
    L3: for %j_tile = 0 to %n step 256 independent {
      L0: for %i = %i_tile to min((%i_tile + 256), %n):pyint step 1 independent {
        L1: for %j = %j_tile to min((%j_tile + 256), %n):pyint step 1 independent {
          S0: %B[%j, %i; unchecked] = %A[%i, %j; unchecked]
        }
      }
    }
  }
}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import DependenceGraph
from accir.analysis.manager import AnalysisManager
from accir.frontend.directives import Clause, Directive
from accir.ir.nodes import (
    Assign,
    BinOp,
    Const,
    Expr,
    Function,
    If,
    Intrinsic,
    Load,
    Loop,
    Module,
    Stmt,
    Var,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import iter_exprs
from accir.ir.types import PYINT
from accir.ir.uses import assigned_in
from accir.passes.base import Pass, PassResult
from accir.passes.ids import IdSupply, NameSupply
from accir.passes.loop_nests import (
    NestDependence,
    NestWalker,
    describe,
    live_after,
    loop_remark,
    nest_dependences,
    perfect_nest,
    rectangular,
    reorder_obstacle,
    unrolled,
    walk_functions,
)
from accir.passes.parallel_scalars import exposed_reads
from accir.passes.registry import PipelineError, register
from accir.passes.tiling_reuse import arrays, lost_reuse, quoted, square_tile

SLAB = 64  # tile size of the two outer loops of a nest deeper than 2


@register
@dataclass(frozen=True)
class LoopTiling(Pass):
    name: ClassVar[str] = "loop-tiling"
    summary: ClassVar[str] = "tile loop nests: the OpenACC tile clause, and nests with cache reuse"

    auto: bool = True  # tile nests without directives where reuse is lost
    size: int = 0  # tile size for automatic tiling and `*` (0: chosen per nest)
    sizes: str = ""  # forced sizes, outermost first ("3,2"): tile every legal nest that deep
    cache_kib: int = 1024  # the cache a 2-deep nest's tiles must fit in (an L2 cache)

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        forced = _parse_sizes(self.sizes)
        if self.size < 0 or self.cache_kib <= 0:
            raise PipelineError("loop-tiling: size must be >= 0 and cache_kib > 0")
        return walk_functions(module, analyses,
                              lambda fn, graph: _Planner(self, forced, graph, fn))


def _parse_sizes(text: str) -> tuple[int, ...]:
    if not text.strip():
        return ()
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise PipelineError(f"loop-tiling: sizes must be positive integers separated by "
                            f"commas (outermost loop first), found '{text}'")
    return tuple(int(p) for p in parts)


@dataclass
class _Band:
    """A band to tile: its loops (outermost first), their tile sizes, the directive for the
    outermost tile loop, and why (the end of the remark)."""

    loops: list[Loop]
    sizes: list[int]
    directive: Directive | None
    why: str
    deps: list[NestDependence]


class _Planner(NestWalker):
    """Tiles the bands of one function."""

    def __init__(self, options: LoopTiling, forced: tuple[int, ...], graph: DependenceGraph,
                 fn: Function):
        super().__init__(fn, graph)
        self.options = options
        self.forced = forced
        self.ids = IdSupply(fn)
        self.names = NameSupply(fn)

    # ------------------------------------------------------------------ walking

    def loop(self, loop: Loop) -> Stmt | tuple[Stmt, ...]:
        band = self.plan(loop)
        return self.rebuild(band) if band is not None else super().loop(loop)

    # ------------------------------------------------------------------ deciding

    def plan(self, loop: Loop) -> _Band | None:
        clause = loop.directive.clause("tile") if loop.directive is not None else None
        if clause is not None:
            return self.clause_band(loop, clause)
        if loop.directive is None and loop.parallel is None and (self.forced or
                                                                 self.options.auto):
            return self.auto_band(loop)
        return None

    def clause_band(self, loop: Loop, clause: Clause) -> _Band | None:
        assert loop.directive is not None
        nest, text = perfect_nest(loop), clause.to_source()
        band = nest[:len(clause.args)]
        if len(nest) < len(clause.args):
            self.refuse(band, f"not tiled: {text} needs {len(clause.args)} tightly nested "
                        "loops; the loops run untiled")
            return None
        sizes = []
        for arg in reversed(clause.args):  # the first size is the innermost loop's
            size = self.star_size(band) if arg == "*" else _literal(str(arg))
            if size is None:
                self.refuse(band, f"not tiled: the size '{arg}' in {text} is not a positive "
                            "integer constant; the loops run untiled")
                return None
            sizes.append(size)
        problem, deps = self.check(band, own_directive=True)
        if problem:
            self.refuse(band, f"not tiled as {text} asks: {problem}; the loops run untiled")
            return None
        directive = dataclasses.replace(
            loop.directive, clauses=tuple(c for c in loop.directive.clauses if c.name != "tile"))
        each = ", ".join(f"'{x.var.name}' by {size}" for x, size in zip(band, sizes, strict=True))
        return _Band(band, sizes, directive, f" as {text} asks ({each}: the first size is the "
                     "innermost loop's); the directive applies to the outermost tile loop", deps)

    def auto_band(self, loop: Loop) -> _Band | None:
        nest = _undirected(perfect_nest(loop))
        if any(_tiled(x) or unrolled(x) for x in nest):
            return None
        if self.forced:
            if len(nest) < len(self.forced):
                return None
            band, sizes, why = nest[:len(self.forced)], list(self.forced), " (forced sizes)"
        else:
            reuse = lost_reuse(nest) if len(nest) >= 2 else None
            if reuse is None:
                return None
            band, sizes = self.choose(nest)
            why = reuse.explain(sizes, arrays(nest), self.options.cache_kib, len(nest) > 2)
            small = [x for x, s in zip(band, sizes, strict=True)
                     if (t := _trips(x)) is not None and t <= 2 * s]
            if small:
                self.refuse(band, f"not tiled: the loop over '{small[0].var.name}' runs "
                            "two tiles or less")
                return None
        problem, deps = self.check(band, own_directive=False)
        if problem:
            self.refuse(band, f"not tiled: {problem}")
            return None
        return _Band(band, sizes, None, why, deps)

    def choose(self, nest: list[Loop]) -> tuple[list[Loop], list[int]]:
        """A 2-deep nest: both loops, square tiles for the cache; deeper: the two outer loops
        by SLAB."""
        if len(nest) == 2:
            size = self.options.size or square_tile(nest, self.options.cache_kib)
        else:
            size = self.options.size or SLAB
        return nest[:2], [size, size]

    def star_size(self, band: list[Loop]) -> int:
        if self.options.size:
            return self.options.size
        return square_tile(band, self.options.cache_kib) if len(band) <= 2 else SLAB

    def check(self, band: list[Loop], own_directive: bool
              ) -> tuple[str | None, list[NestDependence]]:
        """Why the band cannot be tiled (None: it can), and its dependences."""
        head = dataclasses.replace(band[0], directive=None) if own_directive else band[0]
        problem = reorder_obstacle(head) or _shape_problem(band) or self.scalar_problem(band)
        if problem:
            return problem, []
        deps = nest_dependences(self.graph, band, scalars=False)
        names = [x.var.name for x in band]
        for nd in deps:
            if len(nd.directions) < len(band) or any(d not in "<=" for d in nd.directions):
                return (f"{describe(nd, names)} could be reversed (a tiled band needs only "
                        "'<' and '=' directions)"), deps
        return None, deps

    def scalar_problem(self, band: list[Loop]) -> str | None:
        body = band[-1].body
        assigned = {s.target.name for s in walk_stmts(body) if isinstance(s, Assign)}
        shared = sorted(assigned & exposed_reads(body))
        if shared:
            return f"scalar {quoted(shared)} carried from one iteration to the next"
        # the last iteration stays last, but a loop that runs no iteration leaves the loop
        # variables around it unassigned, and a conditionally assigned scalar may end with
        # another iteration's value
        watched = {x.var.name for x in band} | _conditionally_assigned(body)
        live = sorted(live_after(self.fn, band[0], watched))
        if live:
            return f"{quoted(live)} read after the nest (the last value could differ)"
        return None

    # ------------------------------------------------------------------ rewriting

    def rebuild(self, band: _Band) -> Loop:
        loops, sizes = band.loops, band.sizes
        tile_vars = [Var(self.names.fresh(f"{x.var.name}_tile"), PYINT) for x in loops]
        tile_free, element_free = _independence(band)
        body = self.block(loops[-1].body)
        for k in reversed(range(len(loops))):
            x = loops[k]
            stop = Intrinsic("min", (BinOp("+", tile_vars[k], Const(sizes[k], PYINT)), x.stop),
                             PYINT)
            body = (Loop(x.lid, x.var, tile_vars[k], stop, x.step, body,
                         independent=element_free[k] or x.independent, loc=x.loc),)
        tile_ids = [self.ids.fresh("L") for _ in loops]
        for k in reversed(range(len(loops))):
            x = loops[k]
            body = (Loop(tile_ids[k], tile_vars[k], x.start, x.stop, Const(sizes[k], PYINT),
                         body, directive=band.directive if k == 0 else None,
                         independent=tile_free[k] or (k == 0 and x.independent), loc=x.loc),)
        self.remark("tiled", loops, f"tiled {'x'.join(map(str, sizes))}{band.why}")
        result = body[0]
        assert isinstance(result, Loop)
        return result


    def refuse(self, band: list[Loop], message: str) -> None:
        self.remark("not-transformed", band, message)

    def remark(self, kind: str, band: list[Loop], message: str) -> None:
        names = ", ".join(f"'{x.var.name}'" for x in band)
        ids = ", ".join(x.lid for x in band)
        what = "loop over" if len(band) == 1 else "loops over"
        self.remarks.append(loop_remark(LoopTiling.name, kind, band[0],
                                        f"{what} {names} ({ids}) {message}"))


# ---------------------------------------------------------------------- the band


def _undirected(nest: list[Loop]) -> list[Loop]:
    """The nest down to (not including) the first inner loop with a directive."""
    for k, loop in enumerate(nest[1:], 1):
        if loop.directive is not None or loop.parallel is not None:
            return nest[:k]
    return nest


def _tiled(loop: Loop) -> bool:
    """An element loop (`for i = i_tile to min(i_tile + T, ...)`) or the tile loop of one."""
    return _element_loop(loop) or any(
        _element_loop(x) and x.start == loop.var for x in perfect_nest(loop)[1:])


def _element_loop(loop: Loop) -> bool:
    stop = loop.stop
    return (isinstance(loop.start, Var) and isinstance(stop, Intrinsic) and stop.name == "min"
            and len(stop.args) == 2 and isinstance(stop.args[0], BinOp)
            and stop.args[0].op == "+" and stop.args[0].lhs == loop.start
            and isinstance(stop.args[0].rhs, Const))


def _shape_problem(band: list[Loop]) -> str | None:
    if any(_tiled(x) for x in band):
        return "the loops are already tiled"
    for x in band:
        if not (isinstance(x.step, Const) and x.step.value == 1):
            return (f"the loop over '{x.var.name}' has step {print_expr(x.step)} (only unit "
                    "steps are tiled)")
    if not rectangular(band):
        return "the bounds of an inner loop depend on an outer one (not a rectangular nest)"
    assigned = assigned_in(tuple(band[:1]))
    for x in band:  # the tiles evaluate the bounds again: they must not change in the nest
        leaves = [e for b in (x.start, x.stop) for e in (b, *iter_exprs(b))]
        if any(isinstance(e, Load) or (isinstance(e, Var) and e.name in assigned)
               for e in leaves):
            return (f"the bounds of the loop over '{x.var.name}' read an array or a variable "
                    "the nest assigns (each tile would read them again)")
    return None


def _conditionally_assigned(body: tuple[Stmt, ...]) -> set[str]:
    found: set[str] = set()
    for s in walk_stmts(body):
        if isinstance(s, If):
            found |= {x.target.name for x in walk_stmts(s.then + s.orelse)
                      if isinstance(x, Assign)}
    return found


def _independence(band: _Band) -> tuple[list[bool], list[bool]]:
    """Which tile loops and which element loops carry no array dependence. Two iterations of
    tile loop k may differ in every element variable up to k, so it is free when every
    dependence is '=' there; element loop k is free when no dependence is first carried by
    the original loop k. Scalars are private (checked before)."""
    n = len(band.loops)
    dirs = [nd.directions for nd in band.deps]
    tile = [all(all(d[m] == "=" for m in range(k + 1)) for d in dirs) for k in range(n)]
    element = [not any(all(d[m] == "=" for m in range(k)) and d[k] != "=" for d in dirs)
               for k in range(n)]
    return tile, element


def _literal(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _trips(loop: Loop) -> int | None:
    start, stop, step = (_int_const(b) for b in (loop.start, loop.stop, loop.step))
    if start is None or stop is None or not step:
        return None
    return len(range(start, stop, step))


def _int_const(e: Expr) -> int | None:
    return e.value if isinstance(e, Const) and isinstance(e.value, int) else None
