"""Lowering Python statements to IR statements (a mixin of FunctionLowerer)."""

from __future__ import annotations

import ast
import builtins
from typing import Any

import numpy as np

from accir.diagnostics import AccirTypeError, DirectiveSyntaxError, Loc, UnsupportedError
from accir.frontend.acc_checks import check_default_none, clause_names
from accir.frontend.directives import Directive, Subarray
from accir.frontend.lower_base import LowererBase
from accir.frontend.lower_calls import ALLOCATORS, is_allocator
from accir.frontend.lower_expr import BINOPS, ShapeTuple, cast, flatten_subscript
from accir.frontend.pragmas import Item, RegionItem, StandaloneItem, StmtItem
from accir.frontend.resolve import Static
from accir.ir.nodes import (
    AccStmt,
    Alloc,
    Assign,
    Break,
    Call,
    Const,
    Continue,
    Expr,
    ExprStmt,
    If,
    Intrinsic,
    Load,
    Loop,
    Region,
    Return,
    Stmt,
    Store,
    UnaryOp,
    Var,
    While,
)
from accir.ir.types import NONE, PYBOOL, PYINT, ArrayType, ScalarType, from_dtype

_RANGES: tuple[Any, ...] = (builtins.range,)
try:  # numba's prange is accepted as a plain range
    import numba

    _RANGES += (numba.prange,)
except ImportError:  # pragma: no cover - numba is optional
    pass


class StmtLowering(LowererBase):
    """Statement half of FunctionLowerer."""

    def block(self, stmts: list[ast.stmt]) -> tuple[Stmt, ...]:
        return self.lower_items(self.pmap.items(stmts))

    def lower_items(self, items: list[Item]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for item in items:
            if isinstance(item, StmtItem):
                out.extend(self.statement(item.node, item.loop_directive))
            elif isinstance(item, RegionItem):
                out.append(self.region(item))
            elif isinstance(item, StandaloneItem):
                self.check_clause_names(item.directive)
                out.append(AccStmt(item.directive, loc=item.directive.loc))
        return tuple(out)

    def region(self, item: RegionItem) -> Region:
        d = item.directive
        self.check_clause_names(d)
        scoped = d.name in ("data", "host_data")
        if scoped:
            self.data_scopes.append(clause_names(d))
        body = self.lower_items(item.items)
        if scoped:
            self.data_scopes.pop()
        check_default_none(d, body, set().union(*self.data_scopes))
        return Region(d, body, loc=d.loc)

    def statement(
        self, node: ast.stmt, loop_directive: Directive | None = None
    ) -> list[Stmt]:
        self.current_node = node
        if isinstance(node, ast.For):
            result = self.stmt_For(node, loop_directive)
        else:
            method = getattr(self, "stmt_" + type(node).__name__, None)
            if method is None:
                raise UnsupportedError(
                    f"the '{_statement_name(node)}' statement is not supported in compiled code",
                    self.loc(node),
                )
            result = method(node)
        return self.take_pending() + result

    def take_pending(self) -> list[Stmt]:
        pending, self.pending = self.pending, []
        return pending

    def stable(self, e: Expr, node: ast.AST) -> Expr:
        """`e`, or a temporary holding it when evaluating it twice could repeat effects."""
        if not any(isinstance(n, Call) for n in _subexprs(e)):
            return e
        var = self.declare(self.fresh_temp(), e.type, node)
        self.pending.append(Assign(self.fresh_sid(), var, e, loc=self.loc(node)))
        return var

    # ------------------------------------------------------------------ simple statements

    def stmt_Pass(self, node: ast.Pass) -> list[Stmt]:
        return []

    def stmt_Break(self, node: ast.Break) -> list[Stmt]:
        return [Break(loc=self.loc(node))]

    def stmt_Continue(self, node: ast.Continue) -> list[Stmt]:
        return [Continue(loc=self.loc(node))]

    def stmt_Expr(self, node: ast.Expr) -> list[Stmt]:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return []  # docstring or string statement
        if not isinstance(node.value, ast.Call):
            self.value(node.value)  # still type-check it
            return []
        value = self.expr(node.value)
        return [ExprStmt(self.fresh_sid(), value, loc=self.loc(node))]

    def stmt_Return(self, node: ast.Return) -> list[Stmt]:
        if node.value is None or (isinstance(node.value, ast.Constant)
                                  and node.value.value is None):
            self.returns.append(NONE)
            return [Return(self.fresh_sid(), None, loc=self.loc(node))]
        value = self.scalar(node.value)
        self.returns.append(value.type)
        target = self.types.env.get("<return>")
        if isinstance(target, ScalarType):
            value = cast(value, target)
        return [Return(self.fresh_sid(), value, loc=self.loc(node))]

    # ------------------------------------------------------------------ assignment

    def stmt_Assign(self, node: ast.Assign) -> list[Stmt]:
        if len(node.targets) > 1:
            value = self.stable_value(node.value)
            out: list[Stmt] = []
            for target in node.targets:
                out += self.assign_to(target, value, node)
            return out
        target = node.targets[0]
        if isinstance(target, ast.Name) and self.is_alloc(node.value):
            return [self.alloc(target, node.value)]  # type: ignore[arg-type]
        if isinstance(target, (ast.Tuple, ast.List)):
            return self.unpack(target, node.value, node)
        return self.assign_to(target, self.expr(node.value), node)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> list[Stmt]:
        if node.value is None:
            return []
        return self.stmt_Assign(ast.Assign([node.target], node.value, lineno=node.lineno,
                                           col_offset=node.col_offset))

    def stable_value(self, node: ast.expr) -> Expr:
        value = self.scalar(node)
        if isinstance(value, (Const, Var)):
            return value
        var = self.declare(self.fresh_temp(), value.type, node)
        self.pending.append(Assign(self.fresh_sid(), var, value, loc=self.loc(node)))
        return var

    def assign_to(self, target: ast.expr, value: Expr, node: ast.AST) -> list[Stmt]:
        if isinstance(target, ast.Name):
            if not isinstance(value.type, ScalarType):
                raise UnsupportedError(
                    "assigning an array to another name is not supported", self.loc(node),
                    hint="use the original name; views and aliases are not supported",
                )
            var = self.declare(target.id, value.type, target)
            return [Assign(self.fresh_sid(), var, cast(value, var.type), loc=self.loc(node))]  # type: ignore[arg-type]
        if isinstance(target, ast.Subscript):
            return [self.store(target, value, node)]
        raise UnsupportedError(
            f"assignment to {type(target).__name__.lower()} is not supported", self.loc(target)
        )

    def store(self, target: ast.Subscript, value: Expr, node: ast.AST) -> Store:
        base_node, index_nodes = flatten_subscript(target)
        base = self.value(base_node)
        if not (isinstance(base, Var) and isinstance(base.type, ArrayType)):
            raise UnsupportedError("only array elements can be assigned", self.loc(target))
        indices = self.indices(base, index_nodes, target)
        return self.store_value(base, tuple(indices), value, node, self.loc(target))

    def stmt_AugAssign(self, node: ast.AugAssign) -> list[Stmt]:
        op = BINOPS.get(type(node.op))
        if op is None:
            raise UnsupportedError("matrix multiplication '@' is not supported", self.loc(node))
        target = node.target
        if isinstance(target, ast.Name):
            current = self.scalar(ast.copy_location(ast.Name(target.id, ast.Load()), target))
            result = self.binop(op, current, self.scalar(node.value), node)
            return self.assign_to(target, result, node)
        if isinstance(target, ast.Subscript):
            base_node, index_nodes = flatten_subscript(target)
            base = self.value(base_node)
            if not (isinstance(base, Var) and isinstance(base.type, ArrayType)):
                raise UnsupportedError("only array elements can be updated", self.loc(target))
            indices = tuple(self.stable(i, target) for i in self.indices(base, index_nodes, target))
            old = Load(base, indices, loc=self.loc(target))
            result = self.binop(op, old, self.scalar(node.value), node)
            return [self.store_value(base, indices, result, node)]
        raise UnsupportedError("this augmented assignment is not supported", self.loc(target))

    def store_value(
        self, base: Var, indices: tuple[Expr, ...], value: Expr, node: ast.AST,
        loc: Loc | None = None,
    ) -> Store:
        dtype = base.array_type.dtype
        if value.type.is_complex and not dtype.is_complex:  # type: ignore[union-attr]
            raise AccirTypeError(
                f"cannot store a complex value into an array of {dtype}", self.loc(node),
                hint="store .real or abs() of it",
            )
        return Store(self.fresh_sid(), base, indices, setitem_cast(value, dtype),
                     loc=loc or self.loc(node))

    def unpack(self, target: ast.Tuple | ast.List, value_node: ast.expr,
               node: ast.AST) -> list[Stmt]:
        targets = target.elts
        if isinstance(value_node, (ast.Tuple, ast.List)):
            values = [self.scalar(v) for v in value_node.elts]
        else:
            shape = self.value(value_node)
            if not isinstance(shape, ShapeTuple):
                raise UnsupportedError(
                    "only tuples and a.shape can be unpacked", self.loc(value_node)
                )
            values = shape.dims(self.loc(value_node))
        if len(values) != len(targets):
            raise UnsupportedError(
                f"cannot unpack {len(values)} values into {len(targets)} targets",
                self.loc(node),
            )
        # Python evaluates the whole right-hand side before assigning: a value that an earlier
        # target's assignment could change is held in a temporary first.
        out: list[Stmt] = []
        held: list[Expr] = []
        for k, v in enumerate(values):
            if not _affected_by(v, targets[:k]):
                held.append(v)
                continue
            var = self.declare(self.fresh_temp(), v.type, value_node)
            out.append(Assign(self.fresh_sid(), var, v, loc=self.loc(value_node)))
            held.append(var)
        for t, v in zip(targets, held, strict=True):
            out += self.assign_to(t, v, node)
        return out

    # ------------------------------------------------------------------ arrays made inside

    def is_alloc(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Call):
            return False
        try:
            func = self.value(node.func)
        except UnsupportedError:
            return False
        return isinstance(func, Static) and is_allocator(func.value)

    def alloc(self, target: ast.Name, node: ast.Call) -> Stmt:
        func = self.value(node.func)
        assert isinstance(func, Static)
        kind = ALLOCATORS[func.value]
        params = _alloc_params(kind)
        if len(node.args) > len(params):
            raise UnsupportedError(f"np.{kind}() takes at most {len(params)} positional "
                                   "arguments here", self.loc(node.args[len(params)]))
        args = dict(zip(params, node.args, strict=False))
        for kw in node.keywords:
            if kw.arg is None:
                raise UnsupportedError("**kwargs in calls are not supported", self.loc(kw))
            if kw.arg not in params or kw.arg in args:
                raise UnsupportedError(
                    f"np.{kind}() argument '{kw.arg}' is not supported", self.loc(kw)
                )
            args[kw.arg] = kw.value
        if "order" in args and not (
            isinstance(args["order"], ast.Constant) and args["order"].value == "C"
        ):
            raise UnsupportedError("only order='C' arrays can be created", self.loc(node))
        if kind.endswith("_like"):
            shape, like_dtype = self.like_shape(args.get("a"), node)
        else:
            shape, like_dtype = self.alloc_shape(args.get("shape"), node), None
        fill = self.alloc_fill(kind, args.get("fill_value"), node)
        default = like_dtype or (fill.type.storage if kind == "full" and fill else None)  # type: ignore[union-attr]
        dtype = self.alloc_dtype(args.get("dtype"), default)
        if fill is not None:
            if fill.type.is_complex and not dtype.is_complex:  # type: ignore[union-attr]
                raise AccirTypeError("cannot fill a real array with a complex value",
                                     self.loc(node))
            fill = cast(fill, dtype)
        var = self.declare(target.id, ArrayType(dtype, len(shape), "C"), target)
        return Alloc(self.fresh_sid(), var, tuple(shape), fill, loc=self.loc(node))

    def alloc_shape(self, node: ast.expr | None, call: ast.AST) -> list[Expr]:
        if node is None:
            raise AccirTypeError("array creation needs a shape", self.loc(call))
        if isinstance(node, (ast.Tuple, ast.List)):
            dims = [self.scalar(e) for e in node.elts]
        else:
            value = self.value(node)
            dims = value.dims(self.loc(node)) if isinstance(value, ShapeTuple) else [
                self.as_expr(value, node)]
        for d in dims:
            if not (isinstance(d.type, ScalarType) and d.type.is_int):
                raise AccirTypeError(
                    f"array dimensions must be integers, not {d.type}", self.loc(node)
                )
        return [cast(d, PYINT) for d in dims]

    def like_shape(
        self, node: ast.expr | None, call: ast.AST
    ) -> tuple[list[Expr], ScalarType]:
        value = self.value(node) if node is not None else None
        if not (isinstance(value, Var) and isinstance(value.type, ArrayType)):
            raise UnsupportedError("the *_like functions need an array", self.loc(call))
        return ShapeTuple(value).dims(self.loc(call)), value.type.dtype

    def alloc_fill(self, kind: str, node: ast.expr | None,
                   call: ast.AST) -> Expr | None:
        if kind.startswith("zeros"):
            return Const(0, PYINT, loc=self.loc(call))
        if kind.startswith("ones"):
            return Const(1, PYINT, loc=self.loc(call))
        if kind.startswith("full"):
            if node is None:
                raise AccirTypeError("np.full() needs a fill value", self.loc(call))
            return self.scalar(node)
        return None

    def alloc_dtype(self, node: ast.expr | None,
                    default: ScalarType | None) -> ScalarType:
        """The dtype= argument, or the default: the like-array's, the fill value's, float64."""
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return default or from_dtype(np.float64)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            raw: Any = node.value  # dtype="float32"
        else:
            value = self.value(node)
            if not isinstance(value, Static):
                raise UnsupportedError(
                    "dtype= must be known when compiling (a NumPy type, a Python type or a "
                    "dtype name), not a run-time value", self.loc(node))
            raw = value.value
        try:
            return from_dtype(np.dtype(raw))
        except (TypeError, KeyError):
            raise UnsupportedError(f"dtype {raw!r} is not supported", self.loc(node),
                                   hint="use bool, (u)int8-64, float32/64 or complex64/128"
                                   ) from None

    # ------------------------------------------------------------------ control flow

    def stmt_If(self, node: ast.If) -> list[Stmt]:
        cond = self.condition(node.test)
        pre = self.take_pending()
        then = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else ()
        return [*pre, If(cond, then, orelse, loc=self.loc(node))]

    def stmt_While(self, node: ast.While) -> list[Stmt]:
        if node.orelse:
            raise UnsupportedError("while ... else is not supported", self.loc(node))
        cond = self.condition(node.test)
        prologue = self.take_pending()
        lid = self.fresh_lid()
        self.loop_depth += 1
        body = self.block(node.body)
        self.loop_depth -= 1
        if prologue:
            # The condition needs statements (a value held in a temporary): evaluate them on
            # every iteration, as `while True: ...; if not cond: break; body`.
            loc = self.loc(node.test)
            leave = If(UnaryOp("not", cond, loc=loc), (Break(loc=loc),), loc=loc)
            body = (*prologue, leave, *body)
            cond = Const(True, PYBOOL, loc=loc)
        return [While(lid, cond, body, loc=self.loc(node))]

    def stmt_For(self, node: ast.For, directive: Directive | None) -> list[Stmt]:
        if node.orelse:
            raise UnsupportedError("for ... else is not supported", self.loc(node))
        start, stop, step = self.range_bounds(node.iter)
        if not isinstance(node.target, ast.Name):
            raise UnsupportedError("the loop variable must be a simple name", self.loc(node.target))
        pre = self.take_pending()
        var = self.declare(node.target.id, PYINT, node.target)
        if var.type != PYINT:
            raise UnsupportedError(
                f"loop variable '{var.name}' is also assigned values of type {var.type}",
                self.loc(node.target),
                hint="use a different name for the other values",
            )
        lid = self.fresh_lid()
        self.loop_depth += 1
        body = self.block(node.body)
        self.loop_depth -= 1
        loop = Loop(lid, var, start, stop, step, body, directive, loc=self.loc(node))
        if directive is not None:
            self.check_clause_names(directive)
            check_loop_nest(loop, directive)
            check_default_none(directive, (loop,), set().union(*self.data_scopes))
        return [*pre, loop]

    def range_bounds(self, node: ast.expr) -> tuple[Expr, Expr, Expr]:
        if not isinstance(node, ast.Call) or not self._is_range(node.func):
            raise UnsupportedError(
                "only 'for ... in range(...)' loops are supported", self.loc(node),
                hint="iterate over indices: for i in range(len(a))",
            )
        if node.keywords or not 1 <= len(node.args) <= 3:
            raise AccirTypeError("range() takes 1 to 3 positional arguments", self.loc(node))
        args = []
        for a in node.args:
            e = self.scalar(a)
            if not (isinstance(e.type, ScalarType) and (e.type.is_int or e.type.is_bool)):
                raise AccirTypeError(
                    f"range() arguments must be integers, not {e.type}", self.loc(a)
                )
            args.append(cast(e, PYINT))
        if len(args) == 1:
            args.insert(0, Const(0, PYINT, loc=self.loc(node)))
        if len(args) == 2:
            args.append(Const(1, PYINT, loc=self.loc(node)))
        return args[0], args[1], args[2]

    def _is_range(self, func: ast.expr) -> bool:
        try:
            value = self.value(func)
        except UnsupportedError:
            return False
        return isinstance(value, Static) and any(value.value is r for r in _RANGES)

    # ------------------------------------------------------------------ directive checks

    def check_clause_names(self, directive: Directive) -> None:
        """Every variable a clause names must exist in the function."""
        for clause in directive.clauses:
            for arg in clause.args:
                if not isinstance(arg, Subarray):
                    continue
                if arg.name in self.params or arg.name in self.local_names:
                    continue
                try:
                    self.scope.lookup(arg.name)
                except KeyError:
                    raise DirectiveSyntaxError(
                        f"'{arg.name}' in clause '{clause.name}' is not a variable of "
                        f"'{self.src.name}'",
                        arg.loc or directive.loc,
                    ) from None


def setitem_cast(value: Expr, dtype: ScalarType) -> Expr:
    """The conversion NumPy applies when an array element is assigned: into a signed integer
    array, every other number goes through a Python int, and one that does not fit raises
    OverflowError (NaN: ValueError); other element types convert as `astype` does."""
    src = value.type
    assert isinstance(src, ScalarType)
    if dtype.kind == "i" and src != dtype and (src.is_float or (src.is_int and not src.weak)):
        return Intrinsic("checked_int", (value,), dtype, loc=value.loc)
    return cast(value, dtype)


def check_loop_nest(loop: Loop, directive: Directive) -> None:
    """collapse(n) and tile(a, b, ...) need that many tightly nested loops."""
    depth = 1
    for name in ("collapse", "tile"):
        clause = directive.clause(name)
        if clause is None:
            continue
        depth = _collapse_depth(clause.args) if name == "collapse" else len(clause.args)
        inner: Stmt = loop
        for level in range(1, depth):
            body = inner.body  # type: ignore[attr-defined]
            if len(body) != 1 or not isinstance(body[0], Loop):
                raise DirectiveSyntaxError(
                    f"{name} needs {depth} tightly nested loops, but the loop at nesting level "
                    f"{level} contains other statements",
                    clause.loc or directive.loc,
                    hint="make the loops tightly nested or lower the count",
                )
            inner = body[0]


def _collapse_depth(args: tuple[Any, ...]) -> int:
    text = str(args[0]) if args else "1"
    try:
        return int(text.split(":")[-1])
    except ValueError:
        return 1


def _affected_by(value: Expr, targets: list[ast.expr]) -> bool:
    """Whether assigning `targets` first could change what `value` evaluates to."""
    names = {t.id for t in targets if isinstance(t, ast.Name)}
    stores = any(isinstance(t, ast.Subscript) for t in targets)
    for e in _subexprs(value):
        if isinstance(e, Call) or (isinstance(e, Var) and e.name in names):
            return True
        if isinstance(e, Load) and stores:
            return True
    return False


def _alloc_params(kind: str) -> tuple[str, ...]:
    if kind == "full":
        return ("shape", "fill_value", "dtype", "order")
    if kind == "full_like":
        return ("a", "fill_value", "dtype", "order")
    if kind.endswith("_like"):
        return ("a", "dtype", "order")
    return ("shape", "dtype", "order")


def _subexprs(e: Expr) -> list[Expr]:
    from accir.ir.rewrite import iter_exprs

    return [e, *iter_exprs(e)]


def _statement_name(node: ast.stmt) -> str:
    names = {
        "FunctionDef": "def",
        "AsyncFunctionDef": "async def",
        "ClassDef": "class",
        "Delete": "del",
        "AsyncFor": "async for",
        "With": "with",
        "AsyncWith": "async with",
        "Match": "match",
        "Raise": "raise",
        "Try": "try",
        "TryStar": "try",
        "Assert": "assert",
        "Import": "import",
        "ImportFrom": "from ... import",
        "Global": "global",
        "Nonlocal": "nonlocal",
    }
    return names.get(type(node).__name__, type(node).__name__)

