"""loop-fusion: run adjacent loops with the same iteration space as one loop, when that keeps
every dependence between them in order and no parallel loop turns sequential.

Two adjacent loops of a block are fused when both can be reordered at all
(`loop_nests.reorder_obstacle`), their bounds are the same expressions and read nothing
either loop writes, they share no scalar that one of them assigns, and no dependence from
the first loop to the second would run backwards: in the fused loop, an access of the second
loop's body must never reach an element at an earlier iteration than the access of the first
loop's body it depends on (e.g. `a[i] = ...` then `... = a[i + 1]`). Fusion is *typed*
(Kennedy and McKinley): a parallel loop never fuses with a sequential one (one that carries a
dependence, a reduction included), and two parallel loops do not fuse when the fused loop
would carry a dependence between their bodies; two sequential loops may. Nests fuse level by
level: after the outer loops fuse, their inner loops, now adjacent, are tried in turn. Chains
fuse greedily, first with second, the result with the third, and so on.

Loop versions made by bounds-check-hoist (`if c1 { fast L1 } else { slow L1 }`, then the same
for L2) fuse when the fast copies do: `if c1 and c2 { fused fast } else { slow L1; slow L2 }`,
right whichever way the guards go. The slow copies, with checked subscripts, stay apart.

>>> from accir.ir.parser import parse_module
>>> from accir.ir.printer import print_module
>>> from accir.analysis.manager import AnalysisManager
>>> m = parse_module('''
... func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>) -> none {
...   var %i: pyint
...   L0: for %i = 0 to 8 step 1 {
...     S0: %b[%i; unchecked] = (%a[%i; unchecked] * 2.0:f64)
...   }
...   L1: for %i = 0 to 8 step 1 {
...     S1: %c[%i; unchecked] = (%b[%i; unchecked] + %a[%i; unchecked])
...   }
... }
... ''')
>>> result = LoopFusion().run(m, AnalysisManager())
>>> print(print_module(result.module), end="")
func @f(%a: memref<?xf64, C>, %b: memref<?xf64, C>, %c: memref<?xf64, C>) -> none {
  var %i: pyint
  L0: for %i = 0 to 8 step 1 {
    S0: %b[%i; unchecked] = (%a[%i; unchecked] * 2.0:f64)
    S1: %c[%i; unchecked] = (%b[%i; unchecked] + %a[%i; unchecked])
  }
}
>>> print(result.remarks[0].message)
loops over 'i' L0 and L1 fused (lines 4 and 7): b[i] and c[i] computed in one sweep
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from accir.analysis.dependence import Dependence, DependenceAnalysis
from accir.analysis.manager import AnalysisManager
from accir.diagnostics import Remark
from accir.ir.nodes import (
    Expr,
    Function,
    If,
    Loop,
    Module,
    Stmt,
    Var,
)
from accir.ir.rewrite import Rewriter
from accir.passes.base import Pass, PassResult, map_functions
from accir.passes.fusion_legality import (
    block_fields,
    computed,
    conformable,
    conjunction,
    conjuncts,
    guard_obstacle,
    loop_lines,
    loop_name,
    loop_names,
    original,
    part_ids,
    recurrence,
    reversal,
    scalar_conflict,
    side,
    structural_obstacle,
)
from accir.passes.ids import is_versioned
from accir.passes.loop_nests import loop_remark
from accir.passes.registry import register

# the whole function with a candidate statement in place of the two being fused
Place = Callable[[Stmt], Function]
# the whole function with a block replaced
Embed = Callable[[tuple[Stmt, ...]], Function]


@register
@dataclass(frozen=True)
class LoopFusion(Pass):
    name: ClassVar[str] = "loop-fusion"
    summary: ClassVar[str] = "fuse adjacent loops over the same range that no dependence " \
                             "keeps apart"
    # refuse a fusion that makes the fused loop carry a dependence between the two bodies
    # unless both loops carried dependences already (typed fusion)
    typed: bool = True

    def run(self, module: Module, analyses: AnalysisManager) -> PassResult:
        remarks: list[Remark] = []

        def fuse(fn: Function) -> Function:
            fuser = _Fuser(fn, analyses.noalias, self.typed)
            new = fuser.function()
            remarks.extend(fuser.remarks)
            return new

        return PassResult(map_functions(module, fuse), remarks=tuple(remarks))


class _Fuser:
    """Fuses the loops of one function, top-down, each candidate judged on the whole function
    with the fused loop in place (the dependence analysis needs the function's symbols)."""

    def __init__(self, fn: Function, noalias: bool, typed: bool):
        self.fn = fn
        self.noalias = noalias
        self.typed = typed
        self.remarks: list[Remark] = []

    def function(self) -> Function:
        fn = self.fn
        body = self.block(fn.body, lambda b: dataclasses.replace(fn, body=b), quiet=False)
        return fn if body is fn.body else dataclasses.replace(fn, body=body)

    def block(self, body: tuple[Stmt, ...], embed: Embed, quiet: bool) -> tuple[Stmt, ...]:
        items = self.fuse_adjacent(list(body), embed, quiet)
        for k in range(len(items)):
            items[k] = self.nested(items, k, embed, quiet)
        if len(items) == len(body) and all(a is b for a, b in zip(items, body, strict=True)):
            return body
        return tuple(items)

    def fuse_adjacent(self, items: list[Stmt], embed: Embed, quiet: bool) -> list[Stmt]:
        k = 0
        while k + 1 < len(items):
            def place(candidate: Stmt, k: int = k) -> Function:
                return embed((*items[:k], candidate, *items[k + 2:]))

            fused = self.fuse_pair(items[k], items[k + 1], place, quiet)
            if fused is None:
                k += 1
            else:
                items[k:k + 2] = [fused]  # and try it with the next one
        return items

    def nested(self, items: list[Stmt], k: int, embed: Embed, quiet: bool) -> Stmt:
        """items[k] with the blocks in it processed (items[k] is kept up to date, so that
        the blocks processed later see the earlier ones' changes)."""
        stmt = items[k]
        for name in block_fields(stmt):
            def inner(b: tuple[Stmt, ...], name: str = name) -> Function:
                here = dataclasses.replace(items[k], **{name: b})  # type: ignore[type-var]
                return embed((*items[:k], here, *items[k + 1:]))

            old = getattr(stmt, name)
            # the checked copies of versioned loops never fuse: saying so is noise
            quiet_here = quiet or (name == "orelse" and isinstance(stmt, If)
                                   and is_versioned(stmt))
            new = self.block(old, inner, quiet_here)
            if new is not old:
                stmt = dataclasses.replace(stmt, **{name: new})  # type: ignore[type-var]
                items[k] = stmt
        return stmt

    def fuse_pair(self, first: Stmt, second: Stmt, place: Place, quiet: bool) -> Stmt | None:
        if isinstance(first, Loop) and isinstance(second, Loop):
            return self.fuse_loops(first, second, place, quiet)
        if (isinstance(first, If) and isinstance(second, If) and is_versioned(first)
                and is_versioned(second)):
            return self.fuse_versions(first, second, place, quiet)
        return None

    def fuse_versions(self, v1: If, v2: If, place: Place, quiet: bool) -> If | None:
        """The last loop of the first fast copy with the first of the second (a fast copy may
        hold several loops once distributed)."""
        fast1, fast2 = v1.then[-1], v2.then[0]
        if not (isinstance(fast1, Loop) and isinstance(fast2, Loop)
                and conformable(fast1, fast2)):
            return None
        reason = guard_obstacle(v1, v2)
        if reason is not None:
            if not quiet:
                self.refused(fast1, fast2, reason)
            return None
        guard = conjunction([*conjuncts(v1.cond), *conjuncts(v2.cond)])

        def version(loop: Stmt) -> If:
            return If(guard, (*v1.then[:-1], loop, *v2.then[1:]), (*v1.orelse, *v2.orelse),
                      versioned=True, loc=v1.loc)

        fused = self.fuse_loops(fast1, fast2, lambda loop: place(version(loop)), quiet,
                                " (their fast versions, under the combined guard)")
        if fused is None:
            return None
        return version(fused)

    def fuse_loops(self, l1: Loop, l2: Loop, place: Place, quiet: bool,
                   note: str = "") -> Loop | None:
        if not conformable(l1, l2):
            return None
        reason = structural_obstacle(l1, l2)
        fused = _fused(l1, l2)
        carried = False
        if reason is None:
            tentative = place(fused)
            reason = scalar_conflict(l1, l2, fused, tentative)
            if reason is None:
                reason, carried = self.dependence_obstacle(tentative, fused, l1, l2)
        if reason is not None:
            if not quiet:
                self.refused(l1, l2, reason)
            return None
        self.remarks.append(loop_remark(
            LoopFusion.name, "fused", l1, f"{loop_names(l1, l2)} fused{loop_lines(l1, l2)}: "
            f"{computed(l1)} and {computed(l2)} computed in one sweep{note}"))
        return dataclasses.replace(fused, independent=fused.independent and not carried)

    def refused(self, l1: Loop, l2: Loop, reason: str) -> None:
        self.remarks.append(loop_remark(LoopFusion.name, "not-transformed", l1,
                                        f"{loop_names(l1, l2)} not fused{loop_lines(l1, l2)}: {reason}"))

    def dependence_obstacle(self, tentative: Function, fused: Loop, l1: Loop, l2: Loop
                            ) -> tuple[str | None, bool]:
        """Why the dependences forbid the fusion (or None), and whether the fused loop
        carries a dependence between the two bodies."""
        graph = DependenceAnalysis.compute(tentative, AnalysisManager(self.noalias))
        parts = (part_ids(tentative, fused.body[:len(l1.body)]),
                 part_ids(tentative, fused.body[len(l1.body):]))
        # what each loop carries on its own ('' when it is parallel)
        split = len(l1.body)
        carries = [recurrence(fused.body[:split]), recurrence(fused.body[split:])]
        crossing: Dependence | None = None
        for d in graph.dependences:
            source, sink = side(d.source, fused, parts), side(d.sink, fused, parts)
            if source is None or sink is None:
                continue
            carried = d.level is not None and d.source.loops[d.level - 1].loop is fused
            if source == sink and carried and not d.source.scalar:  # scalars: recurrence
                carries[source] = carries[source] or d.array
            elif source != sink and carried and source == 1:
                return f"it would reverse the {original(d)} ({reversal(d)})", True
            elif source != sink and carried:
                crossing = crossing or d
        for k, loop in enumerate((l1, l2)):
            if loop.independent:  # marked parallel (maybe staged on a call-time check)
                carries[k] = ""
        return self.typed_obstacle(l1, l2, carries, crossing), crossing is not None

    def typed_obstacle(self, l1: Loop, l2: Loop, carries: list[str],
                       crossing: Dependence | None) -> str | None:
        """Why typed fusion refuses (a parallel loop would become sequential), or None."""
        if not self.typed:
            return None
        if bool(carries[0]) != bool(carries[1]):
            k = 0 if carries[0] else 1
            serial, parallel = (l1, l2)[k], (l2, l1)[k]
            return f"it would make a parallel loop sequential: {loop_name(serial)} carries a " \
                   f"dependence on '{carries[k]}', {loop_name(parallel)} carries none"
        if crossing is not None and not any(carries):
            return "it would make a parallel loop sequential: the fused loop would carry " \
                   f"the {original(crossing)}, while neither loop carries a dependence"
        return None


# ---------------------------------------------------------------------- building


def _fused(l1: Loop, l2: Loop) -> Loop:
    body2 = l2.body
    if l2.var.name != l1.var.name:
        body2 = _Rename(l2.var.name, l1.var).block(body2)
    return dataclasses.replace(l1, body=(*l1.body, *body2),
                               independent=l1.independent and l2.independent)


class _Rename(Rewriter):
    def __init__(self, old: str, new: Var):
        self.old = old
        self.new = new

    def expr_Var(self, e: Var) -> Expr:
        return self.new if e.name == self.old else e
