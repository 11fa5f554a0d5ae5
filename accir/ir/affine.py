"""Affine forms of integer expressions: `c0 + c1*x1 + c2*x2 + ...`.

A term's key `x` is a leaf expression: a variable, an array dimension, or any other integer
expression the caller treats as opaque. Loop indices, subscripts and bounds are analysed in this
form; `to_expr` turns a form back into IR. Arithmetic is on Python integers: the analysis assumes
index arithmetic does not overflow 64 bits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from accir.ir.nodes import BinOp, Cast, Const, Dim, Expr, UnaryOp, Var
from accir.ir.types import PYINT, ScalarType


@dataclass(frozen=True)
class Affine:
    terms: tuple[tuple[Expr, int], ...]  # (leaf, coefficient), no zero coefficients
    constant: int = 0

    @staticmethod
    def make(terms: Mapping[Expr, int], constant: int = 0) -> Affine:
        kept = tuple((k, c) for k, c in terms.items() if c != 0)
        return Affine(kept, constant)

    @property
    def as_dict(self) -> dict[Expr, int]:
        return dict(self.terms)

    def coefficient(self, leaf: Expr) -> int:
        return self.as_dict.get(leaf, 0)

    def leaves(self) -> list[Expr]:
        return [k for k, _ in self.terms]

    def __add__(self, other: Affine) -> Affine:
        terms = self.as_dict
        for k, c in other.terms:
            terms[k] = terms.get(k, 0) + c
        return Affine.make(terms, self.constant + other.constant)

    def scale(self, factor: int) -> Affine:
        return Affine.make({k: c * factor for k, c in self.terms}, self.constant * factor)

    def __neg__(self) -> Affine:
        return self.scale(-1)

    def __sub__(self, other: Affine) -> Affine:
        return self + (-other)

    def substitute(self, leaf: Expr, value: Affine) -> Affine:
        """Replace `leaf` by `value`."""
        c = self.coefficient(leaf)
        rest = Affine.make({k: v for k, v in self.terms if k != leaf}, self.constant)
        return rest + value.scale(c)

    @property
    def is_constant(self) -> bool:
        return not self.terms

    def to_expr(self) -> Expr:
        """An IR expression (pyint) computing this form."""
        result: Expr | None = None
        for leaf, c in self.terms:
            term = leaf if leaf.type == PYINT else Cast(leaf, PYINT)
            if c < 0 and result is not None:  # `x - 2 * i`, not `x + (-2 * i)`
                result = BinOp("-", result, term if c == -1 else BinOp("*", Const(-c, PYINT), term))
                continue
            if c != 1:
                term = BinOp("*", Const(c, PYINT), term)
            result = term if result is None else BinOp("+", result, term)
        if result is None:
            return Const(self.constant, PYINT)
        if self.constant > 0:
            return BinOp("+", result, Const(self.constant, PYINT))
        if self.constant < 0:
            return BinOp("-", result, Const(-self.constant, PYINT))
        return result


def affine_of(e: Expr, is_leaf: Callable[[Expr], bool] = lambda e: True) -> Affine | None:
    """The affine form of an integer expression, or None if it is not affine.

    `is_leaf` decides which non-arithmetic subexpressions may stand as terms (by default every
    variable, dimension and cast of an integer variable)."""
    ty = e.type
    if not (isinstance(ty, ScalarType) and (ty.is_int or ty.is_bool)):
        return None
    if isinstance(e, Const):
        return Affine((), int(e.value))  # type: ignore[arg-type]
    if isinstance(e, BinOp) and e.op in ("+", "-", "*") and ty.weak:
        return _affine_binop(e, is_leaf)
    if isinstance(e, UnaryOp) and e.op == "-" and ty.weak:
        inner = affine_of(e.operand, is_leaf)
        return -inner if inner is not None else None
    if isinstance(e, (Var, Dim)) or (isinstance(e, Cast) and isinstance(e.value, (Var, Dim))):
        return Affine(((e, 1),)) if is_leaf(e) else None
    return None


def _affine_binop(e: BinOp, is_leaf: Callable[[Expr], bool]) -> Affine | None:
    lhs, rhs = affine_of(e.lhs, is_leaf), affine_of(e.rhs, is_leaf)
    if lhs is None or rhs is None:
        return None
    if e.op == "+":
        return lhs + rhs
    if e.op == "-":
        return lhs - rhs
    if lhs.is_constant:
        return rhs.scale(lhs.constant)
    if rhs.is_constant:
        return lhs.scale(rhs.constant)
    return None
