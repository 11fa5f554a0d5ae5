"""Read the textual loop IR written by `accir.ir.printer` (grammar: accir.lark).

Every node gets the `Loc` of the start of its text; every error is an `IRParseError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from accir.diagnostics import AccirError, IRParseError, Loc
from accir.ir.nodes import (
    COMPARE_OPS,
    LOGICAL_OPS,
    AccStmt,
    Alloc,
    Assign,
    BinOp,
    Break,
    Call,
    Cast,
    Compare,
    Const,
    Continue,
    Dim,
    Expr,
    ExprStmt,
    Function,
    If,
    Intrinsic,
    Load,
    Logical,
    Loop,
    Module,
    Parallel,
    Reduction,
    Region,
    Return,
    Select,
    Stmt,
    Store,
    UnaryOp,
    Var,
    While,
)
from accir.ir.types import (
    PYBOOL,
    PYCOMPLEX,
    PYFLOAT,
    PYINT,
    SCALAR_TYPES,
    ArrayType,
    ScalarType,
    Type,
)
from accir.ir.types import parse_type as _parse_type

_TERMINAL_NAMES = {
    "VAR": "a variable (%name)",
    "FUNCNAME": "a function name (@name)",
    "NAME": "a name",
    "TYPE": "a type",
    "STRING": "a string",
    "FLOAT": "a float",
    "INT": "an integer",
    "UNOP": "a unary operator",
    "BINOP": "a binary operator",
    "_NL": "a newline",
    "$END": "end of input",
}


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "accir.lark").read_text()
    return Lark(grammar, start="module", parser="lalr", propagate_positions=True)


def strip_comments(text: str) -> str:
    """Blank out comment lines (`// ...`, e.g. IR dump banners), keeping line numbers. A
    line of IR never starts with `//`."""
    lines = text.split("\n")
    return "\n".join("" if line.lstrip().startswith("//") else line for line in lines)


def parse_module(text: str, filename: str = "<ir>") -> Module:
    """Parse the text of a module (one or more functions)."""
    tree = _parse(text, filename)
    return Module(tuple(_Builder(filename).function(t) for t in tree.children))


def parse_function(text: str, filename: str = "<ir>") -> Function:
    """Parse the text of exactly one function."""
    tree = _parse(text, filename)
    if len(tree.children) != 1:
        raise IRParseError(
            f"expected exactly one function, found {len(tree.children)}", Loc(filename, 1, 1)
        )
    return _Builder(filename).function(tree.children[0])


def _parse(text: str, filename: str) -> Tree:
    try:
        return _lark().parse(strip_comments(text))
    except UnexpectedInput as e:
        raise _syntax_error(e, text, filename) from None
    except LarkError as e:  # pragma: no cover - defensive
        raise IRParseError(str(e), Loc(filename, 1, 1)) from None


def _syntax_error(e: UnexpectedInput, text: str, filename: str) -> IRParseError:
    """Turn a Lark error into an IRParseError listing the expected tokens."""
    hint = _expected(_accepted(e))
    token: Any = getattr(e, "token", None)
    if isinstance(e, UnexpectedEOF) or (token is not None and token.type == "$END"):
        lines = text.split("\n")
        end = Loc(filename, len(lines), len(lines[-1]) + 1)
        return IRParseError("unexpected end of input", end, hint)
    loc = Loc(filename, e.line, e.column)
    if isinstance(e, UnexpectedCharacters):
        return IRParseError(f"unexpected character {e.char!r}", loc, hint)
    what = "newline" if token.type == "_NL" else repr(str(token))
    return IRParseError(f"unexpected {what}", loc, hint)


def _accepted(e: UnexpectedInput) -> Any:
    """The terminals the parser would have taken where it stopped."""
    state = getattr(e, "state", None)
    try:
        return state.parse_conf.parse_table.states[state.position].keys()  # type: ignore[union-attr]
    except (AttributeError, KeyError):
        return getattr(e, "expected", None) or getattr(e, "allowed", None) or ()


def _expected(names: Any) -> str:
    readable = sorted({_readable(n) for n in names or () if n.isupper() or n == "$END"})
    return "expected " + (readable[0] if len(readable) == 1 else "one of: " + ", ".join(readable))


def _readable(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name
    return repr(pattern.value) if pattern.type == "str" else name


def _handlers(cls: type, prefix: str) -> dict[str, Callable[..., Any]]:
    """Map rule names to the methods of `cls` named `prefix + rule`."""
    return {k[len(prefix) :]: v for k, v in vars(cls).items() if k.startswith(prefix)}


class _Builder:
    """Turns parse trees into IR nodes, resolving `%x` against the current function."""

    def __init__(self, filename: str):
        self.filename = filename
        self.env: dict[str, Type] = {}

    # -------------------------------------------------------------- helpers

    def loc(self, node: Tree | Token) -> Loc:
        if isinstance(node, Token):
            return Loc(self.filename, node.line or 1, node.column or 1)
        return Loc(self.filename, node.meta.line, node.meta.column)

    def error(self, message: str, node: Tree | Token, hint: str | None = None) -> IRParseError:
        return IRParseError(message, self.loc(node), hint)

    def type(self, token: Token) -> Type:
        try:
            ty = _parse_type(str(token))
        except (KeyError, ValueError, IndexError):
            ty = None
        if ty is None or (isinstance(ty, ArrayType) and ty.layout not in ("C", "F", "A")):
            raise self.error(
                f"unknown type '{token}'",
                token,
                "types are scalar names (f64, i32, pyint, bool, ...), none, or memref<?x...xT, C|F|A>",
            )
        return ty

    def scalar_type(self, token: Token) -> ScalarType:
        ty = self.type(token)
        if not isinstance(ty, ScalarType):
            raise self.error(f"expected a scalar type, found '{token}'", token)
        return ty

    def var(self, token: Token) -> Var:
        name = str(token)[1:]
        if name not in self.env:
            raise self.error(
                f"undeclared variable '%{name}'",
                token,
                "declare it as a parameter or in the function's 'var' line",
            )
        return Var(name, self.env[name], self.loc(token))

    def declare(self, param: Tree) -> Var:
        children: list[Any] = param.children
        token, type_token = children
        name = str(token)[1:]
        if name in self.env:
            raise self.error(f"variable '%{name}' declared twice", token)
        ty = self.type(type_token)
        self.env[name] = ty
        return Var(name, ty, self.loc(token))

    def directive(self, token: Token) -> Any:
        """The Directive of an `acc "TEXT"` string."""
        from accir.frontend.directives import parse_directive

        raw, loc = str(token), self.loc(token)
        try:
            text = json.loads(raw)
        except ValueError as e:
            raise self.error(f"bad string {raw}: {e}", token) from None
        mapper = None
        if "\\" not in raw:

            def mapper(k: int) -> Loc:
                return Loc(loc.file, loc.line, loc.col + 1 + k)

        try:
            return parse_directive(text, loc=loc, offset_to_loc=mapper)
        except AccirError as e:
            raise IRParseError(f"bad directive: {e.message}", e.loc or loc, e.hint) from None

    # -------------------------------------------------------------- functions, statements

    def function(self, tree: Tree) -> Function:
        children: list[Any] = tree.children
        name, params, ret, *rest = children
        self.env = {}
        param_vars = tuple(self.declare(p) for p in params.children)
        body = []
        for child in rest:
            if child.data == "var_decl":
                for p in child.children:
                    self.declare(p)
            else:
                body.append(self.stmt(child))
        return Function(str(name)[1:], param_vars, tuple(body), self.type(ret), self.loc(tree))

    def stmt(self, tree: Tree) -> Stmt:
        return _STMTS[tree.data](self, tree, *tree.children)

    def block(self, tree: Tree | None) -> tuple[Stmt, ...]:
        return () if tree is None else tuple(self.stmt(t) for t in tree.children)

    def s_assign(self, tree: Tree, sid: Token, target: Token, value: Tree) -> Stmt:
        return Assign(str(sid), self.var(target), self.expr(value), self.loc(tree))

    def s_store(self, tree: Tree, sid: Token, array: Token, sub: Tree, value: Tree) -> Stmt:
        indices, checked = self.subscript(sub)
        return Store(str(sid), self.var(array), indices, self.expr(value), checked, self.loc(tree))

    def s_alloc(self, tree: Tree, sid: Token, target: Token, shape: Tree, fill: Any) -> Stmt:
        fill_expr = None if fill is None else self.expr(fill)
        return Alloc(str(sid), self.var(target), self.exprs(shape), fill_expr, self.loc(tree))

    def s_eval(self, tree: Tree, sid: Token, value: Tree) -> Stmt:
        return ExprStmt(str(sid), self.expr(value), self.loc(tree))

    def s_ret(self, tree: Tree, sid: Token, value: Any) -> Stmt:
        return Return(str(sid), None if value is None else self.expr(value), self.loc(tree))

    def s_loop(self, tree: Tree, lid: Token, var: Token, *rest: Any) -> Stmt:
        start, stop, step, independent, parallel, acc, body = rest
        directive = None if acc is None else self.directive(acc)
        return Loop(
            str(lid),
            self.var(var),
            self.expr(start),
            self.expr(stop),
            self.expr(step),
            self.block(body),
            directive,
            independent is not None,
            None if parallel is None else self.parallel(parallel),
            self.loc(tree),
        )

    def parallel(self, tree: Tree) -> Parallel:
        schedule, *items = tree.children
        reductions: list[Reduction] = []
        private: list[Var] = []
        options: dict[str, Any] = {}
        for item in items:
            kind, args = item.data, list[Any](item.children)
            if kind == "par_reduce":
                op, combine, var = args
                reductions.append(Reduction(str(op), self.var(var),
                                            "" if combine is None else str(combine)))
            elif kind == "par_private":
                private.extend(self.var(v) for v in args)
            elif kind == "par_threads":
                options["num_threads"] = self.expr(args[0])
            elif kind == "par_if":
                options["condition"] = self.expr(args[0])
            elif kind == "par_min":
                options["min_trips"] = int(args[0])
            else:
                options["collapse"] = int(args[0])
        return Parallel(str(schedule), tuple(reductions), tuple(private), **options)

    def s_while_(self, tree: Tree, lid: Token, cond: Tree, body: Tree) -> Stmt:
        return While(str(lid), self.expr(cond), self.block(body), self.loc(tree))

    def s_if_(self, tree: Tree, cond: Tree, versioned: Token | None, then: Tree, orelse: Any
              ) -> Stmt:
        return If(self.expr(cond), self.block(then), self.block(orelse), versioned is not None,
                  self.loc(tree))

    def s_region(self, tree: Tree, acc: Token, body: Tree) -> Stmt:
        return Region(self.directive(acc), self.block(body), self.loc(tree))

    def s_acc_stmt(self, tree: Tree, acc: Token) -> Stmt:
        return AccStmt(self.directive(acc), self.loc(tree))

    def s_brk(self, tree: Tree) -> Stmt:
        return Break(self.loc(tree))

    def s_cont(self, tree: Tree) -> Stmt:
        return Continue(self.loc(tree))

    # -------------------------------------------------------------- expressions

    def expr(self, tree: Tree) -> Expr:
        return _EXPRS[tree.data](self, tree, *tree.children)

    def exprs(self, tree: Tree) -> tuple[Expr, ...]:
        return tuple(self.expr(t) for t in tree.children)

    def subscript(self, tree: Tree) -> tuple[tuple[Expr, ...], bool]:
        exprs, unchecked = tree.children
        return self.exprs(exprs), unchecked is None

    def e_var(self, tree: Tree, token: Token) -> Expr:
        return self.var(token)

    def e_load(self, tree: Tree, array: Token, sub: Tree) -> Expr:
        indices, checked = self.subscript(sub)
        return Load(self.var(array), indices, checked, self.loc(tree))

    def e_binop(self, tree: Tree, lhs: Tree, op: Token, rhs: Tree) -> Expr:
        cls: type[BinOp] | type[Compare] | type[Logical] = BinOp
        if op in COMPARE_OPS:
            cls = Compare
        elif op in LOGICAL_OPS:
            cls = Logical
        return cls(str(op), self.expr(lhs), self.expr(rhs), self.loc(tree))

    def e_unary(self, tree: Tree, op: Token, operand: Tree) -> Expr:
        return UnaryOp(str(op), self.expr(operand), self.loc(tree))

    def e_dim(self, tree: Tree, array: Token, axis: Token) -> Expr:
        return Dim(self.var(array), int(axis), self.loc(tree))

    def e_select(self, tree: Tree, cond: Tree, then: Tree, orelse: Tree) -> Expr:
        return Select(self.expr(cond), self.expr(then), self.expr(orelse), self.loc(tree))

    def e_call(self, tree: Tree, callee: Token, args: Tree, ty: Token) -> Expr:
        return Call(str(callee)[1:], self.exprs(args), self.type(ty), self.loc(tree))

    def e_apply(self, tree: Tree, name: Token, args: Tree, ty: Any) -> Expr:
        """`complex(re, im)` constants, `TYPE(e)` casts and `NAME(args):TYPE` intrinsics."""
        constant = self.complex_const(tree, name, args, ty)
        if constant is not None:
            return constant
        if ty is not None:
            return Intrinsic(str(name), self.exprs(args), self.scalar_type(ty), self.loc(tree))
        if str(name) not in SCALAR_TYPES:
            raise self.error(
                f"call of '{name}' needs a result type",
                name,
                f"write '{name}(...):TYPE' for an intrinsic, or cast with a scalar type name",
            )
        if len(args.children) != 1:
            raise self.error(f"a cast to {name} takes one operand", name)
        return Cast(self.expr(args.children[0]), SCALAR_TYPES[str(name)], self.loc(tree))

    def complex_const(self, tree: Tree, name: Token, args: Tree, ty: Any) -> Const | None:
        """`complex(1.0, -2.0)` (optionally `:c64`) with two bare float literals."""
        parts: list[Any] = args.children
        if name != "complex" or len(parts) != 2:
            return None
        if not all(p.data == "const" and p.children[1] is None for p in parts):
            return None
        if not all(p.children[0].type == "FLOAT" for p in parts):
            return None
        const_ty = PYCOMPLEX if ty is None else self.scalar_type(ty)
        if not const_ty.is_complex or (ty is not None and const_ty.weak):
            return None  # `complex(1.0, 2.0):pycomplex` is the builtin, as intrinsic
        value = complex(float(parts[0].children[0]), float(parts[1].children[0]))
        return Const(value, const_ty, self.loc(tree))

    def e_const(self, tree: Tree, token: Token, ty: Any) -> Expr:
        value: bool | int | float
        if token.type == "INT":
            value, weak = int(token), PYINT
        elif token.type == "FLOAT":
            value, weak = float(token), PYFLOAT
        else:
            value, weak = token == "True", PYBOOL
        const_ty = weak if ty is None else self.scalar_type(ty)
        return Const(value, const_ty, self.loc(tree))


_STMTS = _handlers(_Builder, "s_")
_EXPRS = _handlers(_Builder, "e_")
