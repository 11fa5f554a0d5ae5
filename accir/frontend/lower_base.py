"""State shared by the parts of FunctionLowerer: variables, their inferred types, fresh names."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accir.diagnostics import AccirTypeError, Loc, UnsupportedError
from accir.frontend.pragmas import PragmaMap
from accir.frontend.resolve import FrozenObject, Static, StaticScope
from accir.frontend.source import FunctionSource
from accir.frontend.typing import join
from accir.ir.nodes import Expr, Stmt, Var
from accir.ir.types import PYINT, ArrayType, ScalarType, Type

if TYPE_CHECKING:
    from accir.frontend.lower import ModuleLowerer
    from accir.frontend.lower_expr import Value

ArgSpec = ScalarType | ArrayType | FrozenObject


@dataclass
class _TypeState:
    env: dict[str, Type]
    assigned: dict[str, Type] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)


class LowererBase:
    """Lowering state for one function and one argument signature, given guessed variable
    types; the expression, call and statement parts are mixins built on it."""

    def __init__(
        self,
        module: ModuleLowerer,
        src: FunctionSource,
        specs: list[ArgSpec],
        name: str,
        env: dict[str, Type],
    ):
        self.module = module
        self.src = src
        self.name = name
        self.scope = StaticScope(src.fn)
        self.pmap = PragmaMap(src)
        self.types = _TypeState(dict(env))
        self.hidden: dict[str, Var] = {}
        self.pending: list[Stmt] = []
        self.returns: list[Type] = []
        self.loop_depth = 0
        self.data_scopes: list[set[str]] = []  # names in clauses of enclosing data regions
        self.counters = {"S": 0, "L": 0, "t": 0}
        self.current_node: ast.AST = src.tree
        args = src.tree.args
        if args.vararg or args.kwarg:
            raise UnsupportedError(
                "*args and **kwargs parameters are not supported", src.loc(src.tree)
            )
        names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        if len(names) != len(specs):
            raise AccirTypeError(
                f"{src.name}() takes {len(names)} arguments but {len(specs)} were given",
                src.loc(src.tree),
            )
        self.params: dict[str, ArgSpec] = dict(zip(names, specs, strict=True))
        self.local_names = assigned_names(src.tree)

    def types_settled(self) -> bool:
        return not self.types.unknown and self.next_env() == self.types.env

    def next_env(self) -> dict[str, Type]:
        env = dict(self.types.env)
        for name, ty in self.types.assigned.items():
            env[name] = widen(env.get(name), ty)
        for name, spec in self.params.items():
            if name in env and isinstance(spec, ScalarType):
                env[name] = widen(env[name], spec)
        return env

    # ------------------------------------------------------------------ variables

    def loc(self, node: ast.AST) -> Loc:
        return self.src.loc(node)

    def fresh_sid(self) -> str:
        return self._fresh("S")

    def fresh_lid(self) -> str:
        return self._fresh("L")

    def fresh_temp(self) -> str:
        return f"tmp.{self._fresh('t')[1:]}"

    def _fresh(self, kind: str) -> str:
        n = self.counters[kind]
        self.counters[kind] = n + 1
        return f"{kind}{n}"

    def current_type(self, name: str) -> Type | None:
        known = self.types.env.get(name)
        seen = self.types.assigned.get(name)
        if known is None:
            return seen
        return widen(known, seen) if seen is not None else known

    def read_var(self, name: str, node: ast.AST) -> Value:
        spec = self.params.get(name)
        if isinstance(spec, FrozenObject):
            return Static(spec)
        ty = self.current_type(name)
        if ty is None and spec is not None:
            ty = spec
        if ty is None:
            self.types.unknown.add(name)
            if name not in self.local_names:
                raise UnsupportedError(f"name '{name}' is not defined", self.loc(node))
            ty = PYINT  # placeholder until a later round knows the type
        return Var(name, ty, loc=self.loc(node))

    def declare(self, name: str, ty: Type, node: ast.AST) -> Var:
        """Record that `name` is assigned a value of type `ty`; the variable's current type."""
        spec = self.params.get(name)
        if isinstance(spec, (ArrayType, FrozenObject)):
            raise UnsupportedError(
                f"parameter '{name}' holds {'an array' if isinstance(spec, ArrayType) else 'an object'}"
                " and cannot be reassigned",
                self.loc(node),
            )
        previous = self.types.assigned.get(name)
        self.types.assigned[name] = ty if previous is None else widen(previous, ty, self, node)
        if spec is not None:
            self.types.assigned[name] = widen(self.types.assigned[name], spec, self, node)
        current = self.current_type(name)
        assert current is not None
        return Var(name, current, loc=self.loc(node))

    def hidden_array(self, var: Var) -> Var:
        self.hidden.setdefault(var.name, var)
        return var


    # ---------------------------------------------- implemented by the mixins

    def value(self, node: ast.expr) -> Value:
        raise NotImplementedError

    def expr(self, node: ast.expr) -> Expr:
        raise NotImplementedError

    def scalar(self, node: ast.expr) -> Expr:
        raise NotImplementedError

    def as_expr(self, value: Value, node: ast.AST) -> Expr:
        raise NotImplementedError

    def static_to_expr(self, value: Any, node: ast.AST) -> Expr:
        raise NotImplementedError

    def truth(self, e: Expr, node: ast.AST) -> Expr:
        raise NotImplementedError

    def condition(self, node: ast.expr) -> Expr:
        raise NotImplementedError

    def binop(self, op: str, lhs: Expr, rhs: Expr, node: ast.AST) -> Expr:
        raise NotImplementedError

    def indices(self, array: Var, index_nodes: list[ast.expr], node: ast.AST) -> list[Expr]:
        raise NotImplementedError

    def intrinsic_call(self, name: str, args: list[Expr], node: ast.AST) -> Expr:
        raise NotImplementedError

    def stable(self, e: Expr, node: ast.AST) -> Expr:
        raise NotImplementedError

    def block(self, stmts: list[ast.stmt]) -> tuple[Stmt, ...]:
        raise NotImplementedError


def widen(
    a: Type | None, b: Type, lowerer: LowererBase | None = None, node: ast.AST | None = None
) -> Type:
    """Join two variable types; arrays do not join with anything but themselves."""
    if a is None or a == b:
        return b
    if isinstance(a, ScalarType) and isinstance(b, ScalarType):
        return join(a, b)
    loc = lowerer.loc(node) if lowerer is not None and node is not None else None
    raise UnsupportedError(
        f"a variable cannot hold both {a} and {b}", loc,
        hint="use a different name for each",
    )


def assigned_names(fdef: ast.FunctionDef) -> set[str]:
    """Names the function binds (its locals, in Python's scoping)."""
    names: set[str] = set()
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


