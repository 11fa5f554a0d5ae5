"""Lowering calls: builtins, `math`, NumPy scalar types and ufuncs, and the user's own functions
(a mixin of FunctionLowerer)."""

from __future__ import annotations

import ast
import builtins
import math
from typing import Any

import numpy as np

from accir.diagnostics import AccirTypeError, UnsupportedError
from accir.frontend.lower_base import LowererBase
from accir.frontend.lower_expr import Value, cast
from accir.frontend.resolve import BoundMethod, FrozenObject, Static
from accir.frontend.typing import (
    MATH_FLOAT_1,
    MATH_FLOAT_2,
    MATH_PREDICATES,
    MATH_TO_INT,
    OperandError,
    abs_type,
    join_all,
    math_result_type,
)
from accir.ir.intrinsics import INTRINSICS
from accir.ir.nodes import Call, Const, Dim, Expr, Intrinsic, Var
from accir.ir.types import (
    F32,
    F64,
    PYBOOL,
    PYCOMPLEX,
    PYFLOAT,
    PYINT,
    ArrayType,
    ScalarType,
    from_dtype,
    typeof_scalar,
)

_MATH_NAMES = {
    id(getattr(math, name)): name
    for name in MATH_FLOAT_1 + MATH_FLOAT_2 + MATH_TO_INT + MATH_PREDICATES + ["log"]
    if hasattr(math, name)
}
_UFUNC_ALIASES = {"absolute": "abs", "conjugate": "conj"}
ALLOCATORS = {
    np.zeros: "zeros",
    np.empty: "empty",
    np.ones: "ones",
    np.full: "full",
    np.zeros_like: "zeros_like",
    np.empty_like: "empty_like",
    np.ones_like: "ones_like",
    np.full_like: "full_like",
}


def is_allocator(value: Any) -> bool:
    try:
        return value in ALLOCATORS
    except TypeError:
        return False


class CallLowering(LowererBase):
    """Call half of FunctionLowerer."""

    def expr_Call(self, node: ast.Call) -> Value:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "conjugate":
            base = self.value(node.func.value)
            if isinstance(base, Expr) and isinstance(base.type, ScalarType):
                return self.intrinsic_call("conj", [base], node)
        func = self.value(node.func)
        if not isinstance(func, Static) or typeof_scalar(func.value) is not None:
            raise UnsupportedError("only functions can be called", self.loc(node),
                                   hint="this name holds a value, not a function")
        return self.call_static(func.value, node)

    def call_static(self, fn: Any, node: ast.Call) -> Value:
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise UnsupportedError("*args in calls are not supported", self.loc(node))
        if is_allocator(fn):
            raise UnsupportedError(
                f"np.{ALLOCATORS[fn]} is only supported as the value of an assignment to a name",
                self.loc(node),
                hint=f"write t = np.{ALLOCATORS[fn]}(...) on a line of its own",
            )
        if id(fn) in _MATH_NAMES and getattr(math, _MATH_NAMES[id(fn)], None) is fn:
            return self.math_call(_MATH_NAMES[id(fn)], node)
        if isinstance(fn, np.ufunc):
            return self.ufunc_call(fn, node)
        if fn in (np.real, np.imag):
            return self.intrinsic_call(fn.__name__, self.call_args(node), node)
        if isinstance(fn, type) and issubclass(fn, np.generic):
            return self.numpy_constructor(fn, node)
        name = getattr(fn, "__name__", "")
        if isinstance(fn, type(len)) and getattr(builtins, name, None) is fn:
            return self.builtin_call(name, node)
        if fn in (int, float, complex, bool):
            return self.builtin_call(fn.__name__, node)
        return self.user_call(fn, node)

    def call_args(self, node: ast.Call) -> list[Expr]:
        if node.keywords:
            raise UnsupportedError(
                "keyword arguments are not supported for this function", self.loc(node)
            )
        return [self.scalar(a) for a in node.args]

    def intrinsic_call(self, name: str, args: list[Expr], node: ast.AST) -> Expr:
        info = INTRINSICS[name]
        if not info.min_args <= len(args) <= info.max_args:
            raise AccirTypeError(
                f"{name}() takes {info.min_args} argument(s), {len(args)} given", self.loc(node)
            )
        loc = self.loc(node)
        t = args[0].type
        assert isinstance(t, ScalarType)
        if name in ("real", "imag", "conj"):
            if not t.is_complex:
                return Const(0, t, loc=loc) if name == "imag" else args[0]
            part = F32 if t.name == "c64" else PYFLOAT if t.weak else F64
            return Intrinsic(name, (args[0],), t if name == "conj" else part, loc=loc)
        if name == "abs":
            ty = self._typed(abs_type, t, node)
            arg = args[0] if t.is_complex else cast(args[0], ty)  # abs(True) is the int 1
            return Intrinsic("abs", (arg,), ty, loc=loc)
        ty = join_all([a.type for a in args])  # type: ignore[misc]
        return Intrinsic(name, tuple(cast(a, ty) for a in args), ty, loc=loc)

    def _typed(self, rule: Any, t: ScalarType, node: ast.AST) -> ScalarType:
        try:
            return rule(t)
        except OperandError as exc:
            raise AccirTypeError(str(exc), self.loc(node)) from None

    # ------------------------------------------------------------------ math

    def math_call(self, name: str, node: ast.Call) -> Expr:
        args = self.call_args(node)
        full = f"math.{name}"
        info = INTRINSICS[full]
        if not info.min_args <= len(args) <= info.max_args:
            count = (f"{info.min_args}" if info.min_args == info.max_args
                     else f"{info.min_args} or {info.max_args}")
            raise AccirTypeError(
                f"math.{name}() takes {count} argument(s), {len(args)} given", self.loc(node)
            )
        types = [a.type for a in args]
        try:
            ty = math_result_type(name, types)  # type: ignore[arg-type]
        except OperandError as exc:
            raise AccirTypeError(str(exc), self.loc(node)) from None
        if name in MATH_TO_INT and not types[0].is_float:  # type: ignore[union-attr]
            return cast(args[0], PYINT)  # math.floor(int) is the int itself
        if name == "trunc" and types[0] == F32:
            raise AccirTypeError("type numpy.float32 doesn't define __trunc__ method",
                                 self.loc(node), hint="use math.floor, math.ceil or int()")
        return Intrinsic(full, tuple(cast(a, PYFLOAT) for a in args), ty, loc=self.loc(node))

    # ------------------------------------------------------------------ numpy

    def ufunc_call(self, fn: np.ufunc, node: ast.Call) -> Expr:
        name = _UFUNC_ALIASES.get(fn.__name__, fn.__name__)
        if f"np.{name}" not in INTRINSICS:
            raise UnsupportedError(f"np.{fn.__name__} is not supported", self.loc(node))
        args = self.call_args(node)
        if len(args) != fn.nin:
            raise AccirTypeError(
                f"np.{fn.__name__}() takes {fn.nin} argument(s), {len(args)} given",
                self.loc(node),
            )
        # Python int/float/complex are weak (NEP 50); a Python bool is a NumPy bool here
        spec: list[Any] = [
            a.type.python_type() if a.type.weak and not a.type.is_bool  # type: ignore[union-attr]
            else a.type.dtype  # type: ignore[union-attr]
            for a in args
        ]
        try:
            dtypes = fn.resolve_dtypes((*spec, None))
        except (TypeError, np.exceptions.DTypePromotionError):
            kinds = ", ".join(str(a.type) for a in args)
            raise AccirTypeError(f"np.{fn.__name__} is not defined for ({kinds})",
                                 self.loc(node)) from None
        try:
            ins = [from_dtype(d) for d in dtypes[: fn.nin]]
            out = from_dtype(dtypes[-1])
            _check_ufunc_support(name, ins, self.loc(node))
        except KeyError:
            raise UnsupportedError(
                f"np.{fn.__name__} of these arguments computes in {dtypes[-1]}, which accir "
                "does not compile", self.loc(node),
                hint="convert the argument first, e.g. np.float32(x) or float(x)",
            ) from None
        cast_args = tuple(cast(a, t) for a, t in zip(args, ins, strict=True))
        return Intrinsic(f"np.{name}", cast_args, out, loc=self.loc(node))

    def numpy_constructor(self, fn: type, node: ast.Call) -> Expr:
        try:
            ty = from_dtype(fn)
        except (KeyError, TypeError):
            raise UnsupportedError(f"np.{fn.__name__} is not supported", self.loc(node)) from None
        args = self.call_args(node)
        if len(args) != 1:
            raise AccirTypeError(
                f"np.{fn.__name__}() takes one argument here", self.loc(node)
            )
        return self.convert(args[0], ty, node)

    def convert(self, e: Expr, ty: ScalarType, node: ast.AST) -> Expr:
        src = e.type
        assert isinstance(src, ScalarType)
        if ty.is_bool:
            return cast(self.truth(e, node), ty)
        if src.is_complex and not ty.is_complex:
            raise AccirTypeError(
                f"cannot convert complex to {ty}", self.loc(node),
                hint="take .real or abs() first",
            )
        return cast(e, ty)

    # ------------------------------------------------------------------ builtins

    def builtin_call(self, name: str, node: ast.Call) -> Expr:
        method = getattr(self, "builtin_" + name, None)
        if method is None:
            raise UnsupportedError(
                f"the builtin '{name}' is not supported in compiled code", self.loc(node)
            )
        return method(node)

    def builtin_abs(self, node: ast.Call) -> Expr:
        return self.intrinsic_call("abs", self.call_args(node), node)

    def builtin_min(self, node: ast.Call) -> Expr:
        return self._extreme("min", node)

    def builtin_max(self, node: ast.Call) -> Expr:
        return self._extreme("max", node)

    def _extreme(self, name: str, node: ast.Call) -> Expr:
        if node.keywords:
            raise UnsupportedError(f"keyword arguments of {name}() are not supported",
                                   self.loc(node))
        args = [self.expr(a) for a in node.args]
        if len(args) < 2 or any(isinstance(a.type, ArrayType) for a in args):
            raise UnsupportedError(
                f"{name}() of an iterable is not supported", self.loc(node),
                hint=f"pass the values as separate arguments: {name}(a, b)",
            )
        if any(a.type.is_complex for a in args):  # type: ignore[union-attr]
            raise AccirTypeError(f"{name}() of complex numbers", self.loc(node))
        return self.intrinsic_call(name, args, node)

    def builtin_int(self, node: ast.Call) -> Expr:
        (arg,) = self._one_arg("int", node)
        t = arg.type
        if t.is_complex:  # type: ignore[union-attr]
            raise AccirTypeError("int() argument must be real, not complex", self.loc(node))
        if t.is_float:  # type: ignore[union-attr]
            return Intrinsic("int", (arg,), PYINT, loc=self.loc(node))
        return cast(arg, PYINT)

    def builtin_float(self, node: ast.Call) -> Expr:
        (arg,) = self._one_arg("float", node)
        return self.convert(arg, PYFLOAT, node)

    def builtin_bool(self, node: ast.Call) -> Expr:
        (arg,) = self._one_arg("bool", node)
        return cast(self.truth(arg, node), PYBOOL)

    def builtin_complex(self, node: ast.Call) -> Expr:
        args = self.call_args(node)
        if len(args) == 1:
            return cast(args[0], PYCOMPLEX)
        if len(args) != 2 or any(a.type.is_complex for a in args):  # type: ignore[union-attr]
            raise AccirTypeError("complex() takes one or two real arguments", self.loc(node))
        parts = tuple(cast(a, PYFLOAT) for a in args)
        return Intrinsic("complex", parts, PYCOMPLEX, loc=self.loc(node))

    def builtin_len(self, node: ast.Call) -> Expr:
        if len(node.args) != 1:
            raise AccirTypeError("len() takes exactly one argument", self.loc(node))
        arg = self.value(node.args[0])
        if not (isinstance(arg, Var) and isinstance(arg.type, ArrayType)):
            raise UnsupportedError("len() is supported on arrays only", self.loc(node))
        if arg.type.ndim == 0:
            raise AccirTypeError("len() of unsized object", self.loc(node))
        return Dim(arg, 0, loc=self.loc(node))

    def builtin_pow(self, node: ast.Call) -> Expr:
        args = self.call_args(node)
        if len(args) != 2:
            raise UnsupportedError("pow() with a modulus is not supported", self.loc(node))
        return self.binop("**", args[0], args[1], node)

    def _one_arg(self, name: str, node: ast.Call) -> list[Expr]:
        args = self.call_args(node)
        if len(args) != 1:
            raise AccirTypeError(f"{name}() takes one argument here", self.loc(node))
        return args

    # ------------------------------------------------------------------ user functions

    def user_call(self, fn: Any, node: ast.Call) -> Expr:
        target, bound = _python_function(fn)
        if target is None:
            name = getattr(fn, "__name__", type(fn).__name__)
            raise UnsupportedError(
                f"call of unsupported function '{name}'",
                self.loc(node),
                hint="compiled code can call math functions, NumPy scalar types and ufuncs, "
                "and Python functions",
            )
        args = self.bind_arguments(target, bound, node)
        specs = [self.arg_spec(a) for a in args]
        callee, hidden = self.module.lower_callee(target, specs, self, node)
        runtime_args = tuple(a for a in args if isinstance(a, Expr)) + tuple(
            self.hidden_array(v) for v in hidden
        )
        return Call(callee.name, runtime_args, callee.ret, loc=self.loc(node))

    def bind_arguments(
        self, fn: Any, bound: Any, node: ast.Call
    ) -> list[Expr | FrozenObject]:
        """Match positional and keyword arguments to `fn`'s parameters (defaults included)."""
        code = fn.__code__
        names = list(code.co_varnames[: code.co_argcount])  # positional parameters
        keyword_only = list(code.co_varnames[code.co_argcount:
                                             code.co_argcount + code.co_kwonlyargcount])
        values: dict[str, Expr | FrozenObject] = {}
        positional: list[Any] = ([bound] if bound is not None else []) + list(node.args)
        if len(positional) > len(names):
            raise AccirTypeError(
                f"{fn.__name__}() takes {len(names)} positional arguments but "
                f"{len(positional)} were given",
                self.loc(node),
            )
        for name, arg in zip(names, positional, strict=False):
            values[name] = self.call_argument(arg)
        for kw in node.keywords:
            if kw.arg is None:
                raise UnsupportedError("**kwargs in calls are not supported", self.loc(kw))
            if kw.arg not in names + keyword_only or kw.arg in values:
                raise AccirTypeError(
                    f"{fn.__name__}() got an unexpected keyword argument '{kw.arg}'",
                    self.loc(kw),
                )
            values[kw.arg] = self.call_argument(kw.value)
        defaults = fn.__defaults__ or ()
        for name, default in zip(names[len(names) - len(defaults) :], defaults, strict=True):
            values.setdefault(name, self.call_argument(Static(default)))
        for name, default in (fn.__kwdefaults__ or {}).items():
            values.setdefault(name, self.call_argument(Static(default)))
        missing = [n for n in names + keyword_only if n not in values]
        if missing:
            raise AccirTypeError(
                f"{fn.__name__}() missing required argument '{missing[0]}'", self.loc(node)
            )
        return [values[n] for n in names + keyword_only]

    def call_argument(self, arg: Any) -> Expr | FrozenObject:
        if isinstance(arg, Static):
            value = arg.value
            if isinstance(value, FrozenObject):
                return value
            if isinstance(value, (int, float, complex, np.generic, np.ndarray)):
                return self.static_to_expr(value, self.current_node)
            return FrozenObject.of(value)
        if isinstance(arg, FrozenObject):
            return arg
        value = self.value(arg)
        if isinstance(value, Static):
            return self.call_argument(value)
        return self.as_expr(value, arg)

    def arg_spec(self, a: Expr | FrozenObject) -> Any:
        return a if isinstance(a, FrozenObject) else a.type


_COMPLEX_UFUNCS = {"abs", "conj", "square", "negative", "isnan", "isinf", "isfinite"}


def _check_ufunc_support(name: str, ins: list[ScalarType], loc: Any) -> None:
    """The NumPy functions accir compiles for every input type it accepts."""
    if any(t.is_complex for t in ins) and name not in _COMPLEX_UFUNCS:
        raise UnsupportedError(f"np.{name} of complex numbers is not supported", loc,
                               hint="supported on complex: " + ", ".join(sorted(_COMPLEX_UFUNCS)))
    if name == "reciprocal" and not ins[0].is_float:
        raise UnsupportedError("np.reciprocal of integers is not supported (NumPy's result "
                               "for 0 depends on the platform)", loc, hint="write 1 / x")


def _python_function(fn: Any) -> tuple[Any, Any]:
    """The plain Python function behind `fn` (and the object it is bound to), or None."""
    if isinstance(fn, BoundMethod):  # a method of a frozen object argument
        return fn.func, Static(fn.obj)
    py_func = getattr(fn, "py_func", None)
    if py_func is not None:  # an accir CompiledFunction (or a Numba dispatcher)
        fn = py_func
    bound = None
    if hasattr(fn, "__func__") and hasattr(fn, "__self__"):
        fn, bound = fn.__func__, Static(fn.__self__)
    if hasattr(fn, "__code__") and hasattr(fn, "__globals__"):
        return fn, bound
    return None, None
