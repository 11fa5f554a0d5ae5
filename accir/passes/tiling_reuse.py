"""The reuse model of loop-tiling: which reference of a perfect nest loses its reuse across an
outer loop before it comes back (so tiles would keep it in cache), and the square tile that
fits a cache."""

from __future__ import annotations

from dataclasses import dataclass

from accir.ir.affine import affine_of
from accir.ir.nodes import (
    Load,
    Loop,
    Store,
    walk_stmts,
)
from accir.ir.printer import print_expr
from accir.ir.rewrite import iter_exprs

MIN_TILE, MAX_TILE = 8, 256  # the range of automatic square tiles


def quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _references(nest: list[Loop]) -> list[Load | Store]:
    refs: dict[str, Load | Store] = {}
    for s in walk_stmts(nest[-1].body):
        found: list[Load | Store] = [s] if isinstance(s, Store) else []
        found += [e for e in iter_exprs(s) if isinstance(e, Load)]
        for r in found:
            refs.setdefault(_show(r), r)
    return list(refs.values())


def arrays(nest: list[Loop]) -> list[Load | Store]:
    """One reference per array of the nest."""
    seen: dict[str, Load | Store] = {}
    for r in _references(nest):
        seen.setdefault(r.array.name, r)
    return list(seen.values())


def _show(ref: Load | Store) -> str:
    """`B[j, i]`"""
    indices = ", ".join(print_expr(i).replace("%", "") for i in ref.indices)
    return f"{ref.array.name}[{indices}]"


def _contiguous_axis(ref: Load | Store) -> int:
    return 0 if ref.array.array_type.layout == "F" else len(ref.indices) - 1


def _coefficients(ref: Load | Store, loop: Loop) -> list[int]:
    """How much each subscript of `ref` moves per iteration of `loop` (affine subscripts)."""
    return [form.coefficient(loop.var) if (form := affine_of(i)) is not None else 1
            for i in ref.indices]


@dataclass(frozen=True)
class Reuse:
    """A reference whose reuse across the loop `outer` is lost: between two iterations of
    `outer` it walks a block over the `moving` loops, or steps across rows (a new cache line
    per step) in the loop `strided`."""

    ref: Load | Store
    outer: Loop
    moving: list[Loop]
    strided: Loop | None

    def explain(self, sizes: list[int], arrays: list[Load | Store], cache_kib: int,
                deep: bool) -> str:
        ref, outer = _show(self.ref), self.outer.var.name
        if self.strided is not None and len(self.moving) < 2:
            head = (f"{ref} walks memory with stride {_stride(self.ref, self.strided)} in the "
                    f"loop over '{self.strided.var.name}' and reuses its cache lines in the "
                    f"next iteration of '{outer}'")
        else:
            head = (f"{ref} is reused in every iteration of '{outer}' but walks a block over "
                    f"loops {quoted([x.var.name for x in self.moving])} in between")
        if deep:  # the band is the two outer loops of a deeper nest
            return f": {head}; tiles of the outer loops keep a slab of rows in cache"
        kib = sum(sizes[0] * sizes[1] * _itemsize(r) for r in arrays) / 1024
        return (f": {head}; the tiles of the {len(arrays)} arrays ({kib:g} KiB) stay in a "
                f"{cache_kib} KiB cache")


def _itemsize(ref: Load | Store) -> int:
    return max(ref.array.array_type.dtype.bits // 8, 1)


def _stride(ref: Load | Store, loop: Loop) -> str:
    """The stride of `ref` in `loop`, in elements, as text: `dim(B, 1)`."""
    coefficients, contiguous = _coefficients(ref, loop), _contiguous_axis(ref)
    axis = next(a for a, c in enumerate(coefficients) if c and a != contiguous)
    dims = range(axis) if contiguous == 0 else range(axis + 1, len(ref.indices))
    scale = [str(abs(coefficients[axis]))] if abs(coefficients[axis]) != 1 else []
    return " * ".join(scale + [f"dim({ref.array.name}, {d})" for d in dims])


def lost_reuse(nest: list[Loop]) -> Reuse | None:
    """A reference whose reuse across an outer loop of the nest is lost (2-D blocks first):
    it is invariant in that loop, or moves in it by one element along its contiguous axis;
    and between two of its iterations it moves with two or more inner loops, or with one
    along another axis (each step a new cache line)."""
    found: list[Reuse] = []
    for ref in _references(nest):
        if any(affine_of(i) is None for i in ref.indices):
            continue
        contiguous = _contiguous_axis(ref)
        for p, outer in enumerate(nest[:-1]):
            moved = [a for a, c in enumerate(_coefficients(ref, outer)) if c]
            if moved and (moved != [contiguous] or
                          abs(_coefficients(ref, outer)[contiguous]) != 1):
                continue  # no reuse across `outer`
            moving = [x for x in nest[p + 1:] if any(_coefficients(ref, x))]
            strided = next((x for x in moving if any(
                c for a, c in enumerate(_coefficients(ref, x)) if a != contiguous)), None)
            if len(moving) >= 2 or strided is not None:
                found.append(Reuse(ref, outer, moving, strided))
    found.sort(key=lambda r: (len(r.moving) < 2, r.strided is None))
    return found[0] if found else None


def square_tile(nest: list[Loop], cache_kib: int) -> int:
    """The largest power of two T (within MIN_TILE..MAX_TILE) such that T x T tiles of every
    array of the nest fit the cache together."""
    footprint = sum(_itemsize(r) for r in arrays(nest)) or 8
    size = MIN_TILE
    while size < MAX_TILE and (2 * size) ** 2 * footprint <= cache_kib * 1024:
        size *= 2
    return size
