"""Placing `#pragma acc` directives in the function's block structure.

Python has no braces, so (as in OpenACC's Fortran binding) a block construct
(`parallel`, `kernels`, `serial`, `data`, `host_data`) opens a region that ends at
`#pragma acc end <construct>` in the same block; written directly above a `for` without an `end`
it applies to that loop only. Loop directives apply to the `for` that follows; `atomic` to the
statement that follows (or, for a capture block, up to `end atomic`). Other directives are
standalone statements.

A directive belongs to the innermost block whose statements are indented no deeper than the
comment; a comment dedented past every block (C-style, at column 0) belongs with the next
statement.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from accir.diagnostics import DirectiveSyntaxError
from accir.frontend.directives import Directive, parse_directive
from accir.frontend.source import FunctionSource, Pragma

BLOCK_CONSTRUCTS = ("parallel", "kernels", "serial", "data", "host_data")
COMBINED = ("parallel loop", "kernels loop", "serial loop")


@dataclass
class StmtItem:
    node: ast.stmt
    loop_directive: Directive | None = None
    ended: bool = False  # an `end <combined construct>` followed the loop


@dataclass
class RegionItem:
    directive: Directive
    items: list[Item] = field(default_factory=list)


@dataclass
class StandaloneItem:
    directive: Directive


Item = StmtItem | RegionItem | StandaloneItem


@dataclass(eq=False)
class _Block:
    stmts: list[ast.stmt]
    col: int
    start: int  # pragmas strictly after this line...
    limit: float  # ...and strictly before this one belong to the block
    depth: int
    events: list[tuple[int, Pragma, Directive]] = field(default_factory=list)
    open_ends: list[Directive] = field(default_factory=list)  # unmatched opens, for matching


class PragmaMap:
    """Parses every directive of a function and answers, per AST block, its structured items."""

    def __init__(self, src: FunctionSource):
        self.src = src
        self.blocks: list[_Block] = []
        self._collect(src.tree.body, src.tree.lineno, float("inf"), 0)
        self.pairs: dict[int, int] = {}  # id(open directive) -> id(end directive)
        for pragma in src.pragmas:
            directive = parse_directive(pragma.text, pragma.loc, pragma.offset_to_loc)
            self._place(pragma, directive)
        self._by_list = {id(b.stmts): b for b in self.blocks}

    # -------------------------------------------------------------- block discovery

    def _collect(self, stmts: list[ast.stmt], start: int, limit: float, depth: int) -> None:
        if not stmts:
            return
        self.blocks.append(_Block(stmts, stmts[0].col_offset, start, limit, depth))
        for i, stmt in enumerate(stmts):
            nxt: float = stmts[i + 1].lineno if i + 1 < len(stmts) else limit
            for body, b_start, b_limit in self._child_blocks(stmt, nxt):
                self._collect(body, b_start, b_limit, depth + 1)

    def _child_blocks(self, stmt: ast.stmt, limit: float):
        if isinstance(stmt, ast.If) and stmt.orelse:
            else_line = self._else_line(stmt)
            first = stmt.orelse[0]
            if isinstance(first, ast.If) and first.col_offset == stmt.col_offset:
                # `elif`: its blocks belong to this chain; the orelse list holding it is no
                # block of its own (it has no indentation to place a directive in)
                return [(stmt.body, stmt.lineno, else_line), *self._child_blocks(first, limit)]
            return [(stmt.body, stmt.lineno, else_line), (stmt.orelse, else_line, limit)]
        return [
            (body, stmt.lineno, limit)
            for name in ("body", "orelse", "finalbody")
            if isinstance(body := getattr(stmt, name, None), list) and body
            and isinstance(body[0], ast.stmt)
        ]

    def _else_line(self, stmt: ast.If) -> int:
        first = stmt.orelse[0]
        if isinstance(first, ast.If) and first.col_offset == stmt.col_offset:
            return first.lineno  # elif
        for line in range(first.lineno - 1, stmt.body[-1].end_lineno or stmt.lineno, -1):
            if self.src.lines[line - 1].strip().startswith("else"):
                return line
        return first.lineno - 1

    # -------------------------------------------------------------- placement

    def _candidates(self, line: int) -> list[_Block]:
        found = [b for b in self.blocks if b.start < line < b.limit]
        return sorted(found, key=lambda b: -b.depth)

    def _place(self, pragma: Pragma, directive: Directive) -> None:
        candidates = self._candidates(pragma.line)
        if not candidates:
            if directive.name == "routine":
                return  # above the def: the function is compiled as `routine seq` anyway
            raise DirectiveSyntaxError(
                f"'{directive.name}' directive outside the function body",
                directive.loc,
                hint="directives go inside the function, above the statement they apply to",
            )
        if directive.name == "end" and directive.variant in (*BLOCK_CONSTRUCTS, "atomic"):
            block = self._block_for_end(pragma, directive, candidates)
        elif directive.name == "end":
            block = self._block_after_loop(pragma, candidates)
        else:
            block = self._block_for(pragma, candidates)
            if directive.is_block or directive.name == "atomic":
                block.open_ends.append(directive)
        position = sum(1 for s in block.stmts if s.lineno < pragma.line)
        block.events.append((position, pragma, directive))

    def _block_for(self, pragma: Pragma, candidates: list[_Block]) -> _Block:
        for block in candidates:
            if block.col <= pragma.col:
                return block
        # dedented past every block (C style): with the next statement, or after the body
        following = [b for b in candidates if any(s.lineno > pragma.line for s in b.stmts)]
        return following[0] if following else candidates[-1]

    def _block_for_end(
        self, pragma: Pragma, directive: Directive, candidates: list[_Block]
    ) -> _Block:
        """An `end` closes the latest open construct of its kind in its own block (the block
        its indentation puts it in); a column-0 `end` closes the innermost such construct."""
        aligned = [b for b in candidates if b.col <= pragma.col]
        for block in aligned[:1] or candidates:
            for opened in reversed(block.open_ends):
                if opened.name == directive.variant:
                    block.open_ends.remove(opened)
                    self.pairs[id(opened)] = id(directive)
                    return block
        raise DirectiveSyntaxError(
            f"'end {directive.variant}' has no matching '{directive.variant}' directive in "
            "its block",
            directive.loc,
            hint=f"put '#pragma acc {directive.variant}' and its end in the same block, at "
            "the same indentation",
        )

    def _block_after_loop(self, pragma: Pragma, candidates: list[_Block]) -> _Block:
        """`end parallel loop` (etc.) belongs to the block whose statement just before it is
        a loop; checked when the block is structured."""
        for block in candidates:
            before = [s for s in block.stmts if s.lineno < pragma.line]
            aligned = block.col <= pragma.col or pragma.col == 0
            if aligned and before and isinstance(before[-1], ast.For):
                return block
        return self._block_for(pragma, candidates)

    # -------------------------------------------------------------- structuring

    def items(self, stmts: list[ast.stmt]) -> list[Item]:
        """The statements of an AST block, grouped into regions, with directives attached."""
        block = self._by_list.get(id(stmts))
        events = sorted(block.events, key=lambda e: e[0]) if block else []
        return _Builder(self, stmts, events).build()


@dataclass
class _Frame:
    directive: Directive | None
    items: list[Item] = field(default_factory=list)


class _Builder:
    """Turns one block's statements and directives into nested items."""

    def __init__(
        self, pmap: PragmaMap, stmts: list[ast.stmt], events: list[tuple[int, Pragma, Directive]]
    ):
        self.pmap = pmap
        self.stmts = stmts
        self.events = events
        self.stack: list[_Frame] = [_Frame(None)]
        self.loop: Directive | None = None
        self.singles: list[Directive] = []
        self.atomic: Directive | None = None

    def build(self) -> list[Item]:
        k = 0
        for index, stmt in enumerate(self.stmts):
            while k < len(self.events) and self.events[k][0] <= index:
                self._directive(self.events[k][2])
                k += 1
            self._statement(stmt)
        for _, _, directive in self.events[k:]:
            self._directive(directive)
        self._check_nothing_pending()
        return self.stack[0].items

    def _directive(self, d: Directive) -> None:
        if d.name == "end":
            self._end(d)
        elif d.is_loop:
            # `#pragma acc parallel` then `#pragma acc loop` above one for loop is fine
            if self.loop or self.atomic:
                self._expect_nothing_pending(d)
            self.loop = d
        elif d.is_block or d.name == "atomic":
            if id(d) in self.pmap.pairs:
                self._expect_nothing_pending(d)
                self.stack.append(_Frame(d))
            elif d.name == "atomic":
                self.atomic = d
            else:
                self.singles.append(d)
        else:
            self._expect_nothing_pending(d)
            self.stack[-1].items.append(StandaloneItem(d))

    def _end(self, d: Directive) -> None:
        if d.variant in COMBINED:
            last = self.stack[-1].items[-1] if self.stack[-1].items else None
            if not (isinstance(last, StmtItem) and _loop_with(last, d.variant)) or last.ended:
                raise DirectiveSyntaxError(
                    f"'end {d.variant}' must directly follow the loop of a "
                    f"'{d.variant}' directive (once)",
                    d.loc,
                )
            last.ended = True
            return
        frame = self.stack[-1]
        if frame.directive is None or self.pmap.pairs.get(id(frame.directive)) != id(d):
            raise DirectiveSyntaxError(
                f"'end {d.variant}' does not close the innermost open construct "
                f"'{frame.directive.name if frame.directive else '?'}'",
                d.loc,
                hint="OpenACC regions must nest: close inner regions first",
            )
        self._expect_nothing_pending(d)
        self.stack.pop()
        assert frame.directive is not None
        if frame.directive.name == "atomic" and not frame.items:
            raise DirectiveSyntaxError(
                "'atomic' region is empty", frame.directive.loc,
                hint="put the statement(s) the atomic construct applies to before 'end atomic'",
            )
        self.stack[-1].items.append(RegionItem(frame.directive, frame.items))

    def _statement(self, stmt: ast.stmt) -> None:
        item: Item = StmtItem(stmt, self.loop)
        if (self.loop or self.singles) and not isinstance(stmt, ast.For):
            pending = self.loop or self.singles[-1]
            raise DirectiveSyntaxError(
                f"'{pending.name}' directive must be followed by a for loop",
                pending.loc,
                hint=f"add '#pragma acc end {pending.name}' after the region"
                if pending.is_block
                else "put the directive directly above the loop it applies to",
            )
        if self.atomic is not None:
            item = RegionItem(self.atomic, [item])
        for d in reversed(self.singles):
            item = RegionItem(d, [item])
        self.stack[-1].items.append(item)
        self.loop, self.singles, self.atomic = None, [], None

    def _expect_nothing_pending(self, d: Directive) -> None:
        pending = self.loop or (self.singles[-1] if self.singles else None) or self.atomic
        if pending is not None:
            raise DirectiveSyntaxError(
                f"'{pending.name}' directive must be directly followed by the statement it "
                f"applies to, not by '{d.name}'",
                pending.loc,
            )

    def _check_nothing_pending(self) -> None:
        pending = self.loop or (self.singles[-1] if self.singles else None) or self.atomic
        if pending is not None:
            raise DirectiveSyntaxError(
                f"'{pending.name}' directive is not followed by a statement in its block",
                pending.loc,
            )


def _loop_with(item: Item, name: str | None) -> bool:
    return (
        isinstance(item, StmtItem)
        and item.loop_directive is not None
        and item.loop_directive.name == name
    )
