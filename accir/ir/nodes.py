"""The loop IR: a structured tree of frozen nodes.

Expressions are pure trees (`Const`, `Var`, `Load`, `BinOp`, ...); statements are `Assign`,
`Store`, `Alloc`, `Loop`, `If`, `While`, `Region` (OpenACC constructs) and a few more. Every node
carries a `loc` that equality ignores; simple statements carry a stable id (`S0`, `S1`, ...) and
loops one of their own (`L0`, ...), which passes keep so that remarks and diffs can cite them.

Semantics are CPython's on the same function, with these typing rules made explicit by the
frontend: both operands of a `BinOp` have the same type (the frontend inserts `Cast`s following
NumPy's promotion), and that type is the result type; `Compare` yields `pybool` when its operands
are weak and `bool` otherwise. Weak (Python) types keep Python's behaviour: integer or float
division by zero raises `ZeroDivisionError`. `Loop` is `for var in range(start, stop, step)`:
bounds are evaluated once on entry and `var` keeps its last value afterwards.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accir.diagnostics import Loc
from accir.ir.types import BOOL, PYBOOL, PYINT, ArrayType, ScalarType, Type

if TYPE_CHECKING:
    from accir.frontend.directives import Directive

BINARY_OPS = {
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "//": "floordiv",
    "%": "mod",
    "**": "pow",
    "<<": "lshift",
    ">>": "rshift",
    "&": "bitand",
    "|": "bitor",
    "^": "bitxor",
}
COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
UNARY_OPS = ("-", "+", "~", "not")
LOGICAL_OPS = ("and", "or")


def _loc() -> Any:
    return field(default=None, compare=False, repr=False)


class Node:
    """Base of every IR node."""

    __slots__ = ()
    loc: Loc | None  # every concrete node has this field; equality ignores it


class Expr(Node):
    __slots__ = ()

    @property
    def type(self) -> Type:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class Stmt(Node):
    __slots__ = ()


def _const_key(value: object) -> object:
    """Equality key that tells -0.0 from 0.0 and makes NaN equal to itself."""
    if isinstance(value, float):
        return ("f", struct.pack("<d", value))
    if isinstance(value, complex):
        return ("c", struct.pack("<dd", value.real, value.imag))
    return (type(value).__name__, value)


@dataclass(frozen=True, slots=True, eq=False)
class Const(Expr):
    """A literal. `value` is a Python bool, int, float or complex; `ty` says how it is typed."""

    value: bool | int | float | complex
    ty: ScalarType
    loc: Loc | None = _loc()

    @property
    def type(self) -> ScalarType:
        return self.ty

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Const)
            and self.ty == other.ty
            and _const_key(self.value) == _const_key(other.value)
        )

    def __hash__(self) -> int:
        return hash((self.ty, _const_key(self.value)))

    @property
    def is_nan(self) -> bool:
        return isinstance(self.value, float) and math.isnan(self.value)


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """A scalar or array variable (arguments, locals, loop indices)."""

    name: str
    ty: Type
    loc: Loc | None = _loc()

    @property
    def type(self) -> Type:
        return self.ty

    @property
    def array_type(self) -> ArrayType:
        assert isinstance(self.ty, ArrayType), self
        return self.ty


@dataclass(frozen=True, slots=True)
class Dim(Expr):
    """`a.shape[axis]`."""

    array: Var
    axis: int
    loc: Loc | None = _loc()

    @property
    def type(self) -> ScalarType:
        return PYINT


@dataclass(frozen=True, slots=True)
class Load(Expr):
    """`array[indices]`. With `checked`, negative indices wrap and out-of-range ones raise
    IndexError; without, every index is known to lie in [0, shape)."""

    array: Var
    indices: tuple[Expr, ...]
    checked: bool = True
    loc: Loc | None = _loc()

    @property
    def type(self) -> ScalarType:
        return self.array.array_type.dtype


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """`lhs op rhs`; op is a Python operator symbol from BINARY_OPS."""

    op: str
    lhs: Expr
    rhs: Expr
    loc: Loc | None = _loc()

    @property
    def type(self) -> Type:
        return self.lhs.type


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    """`-x`, `+x`, `~x` or `not x` (the last yields pybool)."""

    op: str
    operand: Expr
    loc: Loc | None = _loc()

    @property
    def type(self) -> Type:
        return PYBOOL if self.op == "not" else self.operand.type


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: str
    lhs: Expr
    rhs: Expr
    loc: Loc | None = _loc()

    @property
    def type(self) -> ScalarType:
        lhs = self.lhs.type
        return PYBOOL if isinstance(lhs, ScalarType) and lhs.weak else BOOL


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    """Short-circuit `lhs and rhs` / `lhs or rhs` on booleans: `rhs` is evaluated only if
    needed."""

    op: str
    lhs: Expr
    rhs: Expr
    loc: Loc | None = _loc()

    @property
    def type(self) -> Type:
        return self.lhs.type


@dataclass(frozen=True, slots=True)
class Select(Expr):
    """`then if cond else orelse`; only the chosen branch is evaluated."""

    cond: Expr
    then: Expr
    orelse: Expr
    loc: Loc | None = _loc()

    @property
    def type(self) -> Type:
        return self.then.type


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    """Numeric conversion with NumPy's `astype` semantics."""

    value: Expr
    ty: ScalarType
    loc: Loc | None = _loc()

    @property
    def type(self) -> ScalarType:
        return self.ty


@dataclass(frozen=True, slots=True)
class Intrinsic(Expr):
    """A call of a known function: `math.sqrt`, `abs`, `np.sqrt`, `int`, ... (see
    accir.ir.intrinsics)."""

    name: str
    args: tuple[Expr, ...]
    ty: ScalarType
    loc: Loc | None = _loc()

    @property
    def type(self) -> ScalarType:
        return self.ty


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A call of another function of the module; it may write to arrays it is passed."""

    callee: str
    args: tuple[Expr, ...]
    ty: Type
    loc: Loc | None = _loc()

    @property
    def type(self) -> Type:
        return self.ty


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Assign(Stmt):
    """`target = value` for a scalar variable."""

    sid: str
    target: Var
    value: Expr
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Store(Stmt):
    """`array[indices] = value`."""

    sid: str
    array: Var
    indices: tuple[Expr, ...]
    value: Expr
    checked: bool = True
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Alloc(Stmt):
    """`target = np.empty/zeros/ones/full(shape)`: a new C-ordered array; `fill` is None for
    np.empty."""

    sid: str
    target: Var
    shape: tuple[Expr, ...]
    fill: Expr | None
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class ExprStmt(Stmt):
    """A call evaluated for its effects."""

    sid: str
    value: Expr
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Return(Stmt):
    sid: str
    value: Expr | None
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Break(Stmt):
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Continue(Stmt):
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Loop(Stmt):
    """`for var in range(start, stop, step)`, optionally under an OpenACC loop directive."""

    lid: str
    var: Var
    start: Expr
    stop: Expr
    step: Expr
    body: tuple[Stmt, ...]
    directive: Directive | None = None
    # proven (or checked at call time) to carry no dependence: iterations may run in any order
    independent: bool = False
    # run by a team of threads (accir.passes.auto_parallelize decides, the backends obey)
    parallel: Parallel | None = None
    loc: Loc | None = _loc()


REDUCTION_OPS = ("+", "*", "max", "min", "&", "|", "^", "and", "or")
SCHEDULES = ("static", "dynamic")


@dataclass(frozen=True, slots=True)
class Reduction:
    """`var` accumulates with `op` (one of REDUCTION_OPS; for max and min `combine` names the
    intrinsic the updates use, e.g. `np.maximum`): each thread folds its iterations into a
    partial value that starts at the operation's identity, and the partials are combined into
    `var` in thread order."""

    op: str
    var: Var
    combine: str = ""  # the max/min intrinsic; "" for the operators


@dataclass(frozen=True, slots=True)
class Parallel:
    """How a loop runs on a team of threads. Every scalar the loop writes is a reduction
    variable or private: each thread has its own copy, starting with the value before the
    loop, and after the loop the variable holds the value of the last iteration (in the
    loop's order) that assigned it, as in a sequential run. The loop runs on one thread when
    it has fewer than `min_trips` iterations or `condition` is false."""

    schedule: str = "static"  # 'static': one block per thread; 'dynamic': chunks on demand
    reductions: tuple[Reduction, ...] = ()
    private: tuple[Var, ...] = ()
    num_threads: Expr | None = None  # None: accir.get_num_threads()
    condition: Expr | None = None
    min_trips: int = 2
    # 2: the loop and the loop directly inside it (or both copies of a versioned inner loop)
    # share one iteration space of rows x columns, split between the threads
    collapse: int = 1


@dataclass(frozen=True, slots=True)
class While(Stmt):
    lid: str
    cond: Expr
    body: tuple[Stmt, ...]
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class If(Stmt):
    """`if cond: then else: orelse`. A `versioned` if is loop versioning's: `then` holds a
    fast copy of the loops in `orelse` (unchecked subscripts, marks, transformations) that is
    valid when `cond` holds; `orelse` is the original, which runs otherwise."""

    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()
    versioned: bool = False
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Region(Stmt):
    """An OpenACC block construct (parallel, kernels, serial, data, host_data, atomic)."""

    directive: Directive
    body: tuple[Stmt, ...]
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class AccStmt(Stmt):
    """A standalone OpenACC directive (enter/exit data, update, wait, cache, ...)."""

    directive: Directive
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Function(Node):
    name: str
    params: tuple[Var, ...]
    body: tuple[Stmt, ...]
    ret: Type
    loc: Loc | None = _loc()


@dataclass(frozen=True, slots=True)
class Module(Node):
    """The functions compiled together; `functions[0]` is the entry point."""

    functions: tuple[Function, ...]

    @property
    def entry(self) -> Function:
        return self.functions[0]

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)


BLOCK_FIELDS = ("body", "then", "orelse")


def child_blocks(stmt: Stmt) -> tuple[tuple[Stmt, ...], ...]:
    """The statement lists directly nested in a statement."""
    if isinstance(stmt, (Loop, While, Region)):
        return (stmt.body,)
    if isinstance(stmt, If):
        return (stmt.then, stmt.orelse)
    return ()


def walk_stmts(body: tuple[Stmt, ...]):
    """Every statement in a block, pre-order."""
    for stmt in body:
        yield stmt
        for block in child_blocks(stmt):
            yield from walk_stmts(block)


def is_bool_type(ty: Type) -> bool:
    return isinstance(ty, ScalarType) and ty.is_bool
