"""Hypothesis strategies for random, valid, typed loop IR.

`functions()` draws one `Function`, `modules()` a `Module` whose functions call each other.
Every result passes `accir.ir.verifier`; it is not meant to be run (indices may be out of
bounds, divisions by zero and endless while loops are all possible).  Constants include NaN,
-0.0, infinities, huge Python ints and complex numbers; NaNs are the canonical `float("nan")`,
the only NaN the text form spells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st

from accir.frontend.directives import Directive, parse_directive
from accir.ir import types as T
from accir.ir.intrinsics import INTRINSICS as KNOWN_INTRINSICS
from accir.ir.nodes import (
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
    Region,
    Return,
    Select,
    Stmt,
    Store,
    UnaryOp,
    Var,
    While,
)

SCALARS = (*T.STRONG_TYPES, *T.WEAK_TYPES)
ARRAY_DTYPES = (T.F64, T.F32, T.I64, T.I32, T.U8, T.C128, T.BOOL)
INTRINSICS = ("math.sqrt", "abs", "np.sqrt", "min", "max", "int", "math.atan2", "np.hypot")
LOOP_DIRECTIVES = ("loop", "parallel loop collapse(2)", "loop independent", "loop seq",
                   "kernels loop gang vector", "parallel loop reduction(+: s)")  # fmt: skip
REGION_DIRECTIVES = ("parallel", "kernels", "serial", "data copy(A)", "atomic update",
                     "data copyin(A) copyout(B)", "host_data use_device(A)")  # fmt: skip
STANDALONE_DIRECTIVES = ("update host(A)", "enter data copyin(A[0:n])", "exit data delete(A)",
                         "wait", "wait(1, 2)")  # fmt: skip
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,5}", fullmatch=True)
SPECIAL_FLOATS = (0.0, -0.0, math.inf, -math.inf, math.nan, 1e300, 5e-324, 0.25)


@cache
def _directive(text: str) -> Directive:
    return parse_directive(text)


def _float(x: float) -> float:
    return math.nan if math.isnan(x) else x


def _float_values(single: bool) -> st.SearchStrategy[float]:
    floats = st.floats(width=32) if single else st.floats()
    return st.one_of(st.sampled_from(SPECIAL_FLOATS), floats).map(_float)


def const_values(ty: T.ScalarType) -> st.SearchStrategy[Any]:
    """Python values for constants of `ty` (unbounded ints for pyint)."""
    if ty.is_bool:
        return st.booleans()
    if ty == T.PYINT:
        return st.one_of(st.integers(-3, 3), st.integers(), st.integers(2**63, 2**200))
    if ty.kind == "u":
        return st.integers(0, 2**ty.bits - 1)
    if ty.is_int:
        return st.integers(-(2 ** (ty.bits - 1)), 2 ** (ty.bits - 1) - 1)
    parts = _float_values(ty in (T.F32, T.C64))
    if ty.is_float:
        return parts
    return st.builds(complex, parts, parts)


@dataclass(frozen=True)
class Sig:
    """A function's name, parameters and return type, drawn before any body."""

    name: str
    params: tuple[Var, ...]
    ret: T.Type


@dataclass
class _Gen:
    """Draws expressions and statements over one function's variables."""

    draw: Any
    sig: Sig
    sigs: tuple[Sig, ...]
    scalars: list[Var]
    arrays: list[Var]
    loop_vars: list[Var]
    local_arrays: list[Var]
    counts: dict[str, int] = field(default_factory=lambda: {"S": 0, "L": 0})

    def pick(self, options: Any) -> Any:
        return self.draw(st.sampled_from(list(options)))

    def flag(self) -> bool:
        return bool(self.draw(st.booleans()))

    def new_id(self, prefix: str) -> str:
        self.counts[prefix] += 1
        return f"{prefix}{self.counts[prefix] - 1}"

    # -------------------------------------------------------------- expressions

    def expr(self, ty: T.ScalarType, depth: int = 2) -> Expr:
        kinds = ["const"]
        if any(v.ty == ty for v in self.scalars + self.loop_vars):
            kinds += ["var", "var"]
        if any(a.array_type.dtype == ty for a in self.arrays):
            kinds.append("load")
        if ty == T.PYINT and self.arrays:
            kinds.append("dim")
        if depth > 0:
            kinds += ["binop", "unary", "select", "cast", "intrinsic"]
            if ty.is_bool:
                kinds += ["compare", "logical"] + (["not"] if ty == T.PYBOOL else [])
            if self.callees(ty):
                kinds.append("call")
        return getattr(self, "x_" + self.pick(kinds))(ty, depth - 1)

    def x_const(self, ty: T.ScalarType, depth: int) -> Expr:
        return Const(self.draw(const_values(ty)), ty)

    def x_var(self, ty: T.ScalarType, depth: int) -> Expr:
        return self.pick(v for v in self.scalars + self.loop_vars if v.ty == ty)

    def index(self, depth: int) -> Expr:
        return self.expr(self.pick([T.PYINT, T.PYINT, T.I32, T.U8]), min(depth, 1))

    def x_load(self, ty: T.ScalarType, depth: int) -> Expr:
        array = self.pick(a for a in self.arrays if a.array_type.dtype == ty)
        indices = tuple(self.index(depth) for _ in range(array.array_type.ndim))
        return Load(array, indices, self.flag())

    def x_dim(self, ty: T.ScalarType, depth: int) -> Expr:
        array = self.pick(self.arrays)
        return Dim(array, self.draw(st.integers(0, array.array_type.ndim - 1)))

    def x_binop(self, ty: T.ScalarType, depth: int) -> Expr:
        if ty.is_bool:
            ops = ["&", "|", "^"]
        elif ty.is_int:
            ops = ["+", "-", "*", "//", "%", "**", "<<", ">>", "&", "|", "^"]
        else:
            ops = ["+", "-", "*", "/"] + ([] if ty.is_complex else ["**", "//", "%"])
        return BinOp(self.pick(ops), self.expr(ty, depth), self.expr(ty, depth))

    def x_unary(self, ty: T.ScalarType, depth: int) -> Expr:
        ops = ["~"] if ty.is_bool else ["-", "+"] + (["~"] if ty.is_int else [])
        return UnaryOp(self.pick(ops), self.expr(ty, depth))

    def x_not(self, ty: T.ScalarType, depth: int) -> Expr:
        return UnaryOp("not", self.expr(self.pick([T.BOOL, T.PYBOOL]), depth))

    def x_compare(self, ty: T.ScalarType, depth: int) -> Expr:
        operand = self.pick(t for t in SCALARS if t.weak == ty.weak)
        ops = ["==", "!="] if operand.is_complex else ["<", "<=", ">", ">=", "==", "!="]
        return Compare(self.pick(ops), self.expr(operand, depth), self.expr(operand, depth))

    def x_logical(self, ty: T.ScalarType, depth: int) -> Expr:
        return Logical(self.pick(["and", "or"]), self.expr(ty, depth), self.expr(ty, depth))

    def x_select(self, ty: T.ScalarType, depth: int) -> Expr:
        cond = self.expr(self.pick([T.BOOL, T.PYBOOL]), depth)
        return Select(cond, self.expr(ty, depth), self.expr(ty, depth))

    def x_cast(self, ty: T.ScalarType, depth: int) -> Expr:
        return Cast(self.expr(self.pick(SCALARS), depth), ty)

    def x_intrinsic(self, ty: T.ScalarType, depth: int) -> Expr:
        if ty == T.PYCOMPLEX and self.flag():
            args = (self.expr(T.PYFLOAT, depth), self.expr(T.PYFLOAT, depth))
            return Intrinsic("complex", args, ty)
        name = self.pick(INTRINSICS)
        info = KNOWN_INTRINSICS[name]
        count = self.draw(st.integers(info.min_args, min(info.max_args, 3)))
        operands = tuple(self.expr(self.pick(SCALARS), depth) for _ in range(count))
        return Intrinsic(name, operands, ty)

    def callees(self, ret: T.Type) -> list[Sig]:
        """Functions returning `ret` whose array parameters this function can pass."""
        available = {a.ty for a in self.arrays}
        return [
            s for s in self.sigs
            if s.ret == ret and all(p.ty in available for p in s.params if isinstance(p.ty, T.ArrayType))
        ]  # fmt: skip

    def x_call(self, ty: T.Type, depth: int) -> Expr:
        callee = self.pick(self.callees(ty))
        args = tuple(
            self.pick(a for a in self.arrays if a.ty == p.ty)
            if isinstance(p.ty, T.ArrayType)
            else self.expr(p.ty, depth)
            for p in callee.params
        )
        return Call(callee.name, args, ty)

    # -------------------------------------------------------------- statements

    def block(self, depth: int, in_loop: bool, size: int = 3) -> tuple[Stmt, ...]:
        count = self.draw(st.integers(0, size))
        return tuple(self.stmt(depth, in_loop) for _ in range(count))

    def stmt(self, depth: int, in_loop: bool) -> Stmt:
        kinds = ["assign", "assign", "eval", "return", "acc"]
        if self.arrays:
            kinds += ["store", "store"]
        if self.local_arrays:
            kinds.append("alloc")
        if in_loop:
            kinds += ["break", "continue"]
        if depth > 0:
            kinds += ["loop", "loop", "while", "if", "if", "region"]
        return getattr(self, "s_" + self.pick(kinds))(depth - 1, in_loop)

    def s_assign(self, depth: int, in_loop: bool) -> Stmt:
        target = self.pick(self.scalars)
        return Assign(self.new_id("S"), target, self.expr(target.ty))

    def s_store(self, depth: int, in_loop: bool) -> Stmt:
        array = self.pick(self.arrays)
        indices = tuple(self.index(1) for _ in range(array.array_type.ndim))
        value = self.expr(array.array_type.dtype)
        return Store(self.new_id("S"), array, indices, value, self.flag())

    def s_alloc(self, depth: int, in_loop: bool) -> Stmt:
        return self.alloc(self.pick(self.local_arrays))

    def alloc(self, target: Var) -> Stmt:
        ty = target.array_type
        shape = tuple(self.index(1) for _ in range(ty.ndim))
        fill = self.expr(ty.dtype, 1) if self.flag() else None
        return Alloc(self.new_id("S"), target, shape, fill)

    def s_eval(self, depth: int, in_loop: bool) -> Stmt:
        if self.callees(T.NONE) and self.flag():
            return ExprStmt(self.new_id("S"), self.x_call(T.NONE, 1))
        return ExprStmt(self.new_id("S"), self.expr(self.pick(SCALARS)))

    def s_return(self, depth: int, in_loop: bool) -> Stmt:
        ret = self.sig.ret
        value = self.expr(ret) if isinstance(ret, T.ScalarType) else None
        return Return(self.new_id("S"), value)

    def s_break(self, depth: int, in_loop: bool) -> Stmt:
        return Break()

    def s_continue(self, depth: int, in_loop: bool) -> Stmt:
        return Continue()

    def s_acc(self, depth: int, in_loop: bool) -> Stmt:
        return AccStmt(_directive(self.pick(STANDALONE_DIRECTIVES)))

    def s_loop(self, depth: int, in_loop: bool) -> Stmt:
        lid, var = self.new_id("L"), self.pick(self.loop_vars)
        start, stop, step = (self.expr(T.PYINT, 1) for _ in range(3))
        directive = _directive(self.pick(LOOP_DIRECTIVES)) if self.flag() else None
        return Loop(lid, var, start, stop, step, self.block(depth, True), directive,
                    self.flag())

    def s_while(self, depth: int, in_loop: bool) -> Stmt:
        lid = self.new_id("L")
        cond = self.expr(self.pick([T.BOOL, T.PYBOOL]))
        return While(lid, cond, self.block(depth, True))

    def s_if(self, depth: int, in_loop: bool) -> Stmt:
        cond = self.expr(self.pick([T.BOOL, T.PYBOOL]))
        return If(cond, self.block(depth, in_loop), self.block(depth, in_loop))

    def s_region(self, depth: int, in_loop: bool) -> Stmt:
        return Region(_directive(self.pick(REGION_DIRECTIVES)), self.block(depth, in_loop))


# ------------------------------------------------------------------ functions and modules

array_types = st.builds(
    T.ArrayType, st.sampled_from(ARRAY_DTYPES), st.integers(1, 3), st.sampled_from("CFA")
)
ret_types = st.one_of(st.just(T.NONE), st.sampled_from(SCALARS))


@st.composite
def signatures(draw: Any, name: str | None = None) -> Sig:
    """A function name, parameters (arrays and scalars) and return type."""
    types = draw(st.lists(st.one_of(array_types, st.sampled_from(SCALARS)), max_size=4))
    names = draw(st.lists(NAMES, min_size=len(types), max_size=len(types), unique=True))
    params = tuple(Var(n, t) for n, t in zip(names, types, strict=True))
    return Sig(name or draw(NAMES), params, draw(ret_types))


@st.composite
def _locals(draw: Any, taken: set[str]) -> tuple[list[Var], list[Var], list[Var]]:
    """Scalar locals, loop variables and C-layout array locals, with fresh names."""
    names = draw(st.lists(NAMES.filter(lambda n: n not in taken), min_size=8, max_size=8,
                          unique=True))  # fmt: skip
    n_scalars = draw(st.integers(1, 4))
    n_loops = draw(st.integers(1, 2))
    n_arrays = draw(st.integers(0, 2))
    scalars = [Var(n, draw(st.sampled_from(SCALARS))) for n in names[:n_scalars]]
    loops = [Var(n, T.PYINT) for n in names[n_scalars : n_scalars + n_loops]]
    array_names = names[n_scalars + n_loops : n_scalars + n_loops + n_arrays]
    arrays = [
        Var(n, T.ArrayType(draw(st.sampled_from(ARRAY_DTYPES)), draw(st.integers(1, 3)), "C"))
        for n in array_names
    ]
    return scalars, loops, arrays


@st.composite
def _function(draw: Any, sig: Sig, sigs: tuple[Sig, ...], depth: int = 3) -> Function:
    scalars, loops, local_arrays = draw(_locals({p.name for p in sig.params}))
    params = list(sig.params)
    gen = _Gen(
        draw,
        sig,
        sigs,
        scalars=[p for p in params if isinstance(p.ty, T.ScalarType)] + scalars,
        arrays=[p for p in params if isinstance(p.ty, T.ArrayType)] + local_arrays,
        loop_vars=loops,
        local_arrays=local_arrays,
    )
    prologue: list[Stmt] = [gen.alloc(a) for a in local_arrays]
    prologue += [Assign(gen.new_id("S"), v, Const(0, T.PYINT)) for v in loops]
    prologue += [Assign(gen.new_id("S"), v, gen.expr(v.ty, 1)) for v in scalars]
    body = gen.block(depth, False, size=4)
    epilogue = gen.s_return(0, False)
    return Function(sig.name, sig.params, (*prologue, *body, epilogue), sig.ret)


@st.composite
def functions(draw: Any, depth: int = 3) -> Function:
    """A random valid function that calls nothing; `depth` bounds statement nesting."""
    sig = draw(signatures())
    return draw(_function(sig, (), depth))


@st.composite
def modules(draw: Any, max_functions: int = 3, depth: int = 2) -> Module:
    """A random valid module of up to `max_functions` functions that may call each other."""
    names = draw(st.lists(NAMES, min_size=1, max_size=max_functions, unique=True))
    sigs = tuple(draw(signatures(name)) for name in names)
    return Module(tuple(draw(_function(sig, sigs, depth)) for sig in sigs))
