"""Loop metadata: each IR loop's latch carries an LLVM loop ID naming the loop
(`!{!"accir.loop", !"<function position>/<loop id>"}`). After optimisation the loop IDs LLVM
marked `llvm.loop.isvectorized` tell which IR loops were vectorised (the `vectorized` remarks).

No vectorisation hints are attached, not even for OpenACC's `vector`: `llvm.loop.vectorize.enable`
lets LLVM reassociate floating-point reductions (the result would differ from CPython's) and
makes it print a warning for every loop it then cannot vectorise. LLVM vectorises every loop it
can prove it may, with or without the clause, and the remarks say which.

llvmlite cannot build the self-referencing `distinct` node a loop ID must be, so the IDs are
built as plain nodes and made distinct in the module's text before it is parsed.
"""

from __future__ import annotations

import re

import llvmlite.ir as ll

_NODE = re.compile(r"^!(\d+) = (distinct )?!\{(.*)\}\s*$", re.M)


def loop_id(module: ll.Module, ids: list[str], name: str, cold: bool = False) -> ll.MDValue:
    """The loop ID of the loop `name`; its node name is appended to `ids`. Loops emitted
    twice (helper loops) get IDs of their own: `name#1`, ... A `cold` loop (in the checked
    copy of a versioned nest, which runs only when the fast copy's guard fails) is neither
    vectorised nor unrolled: that would cost compile time and code size for nothing."""
    tagged, copy = name, 0
    hints = _cold_hints(module) if cold else []
    while True:
        tag = module.add_metadata([ll.MetaDataString(module, "accir.loop"),
                                   ll.MetaDataString(module, tagged)])
        node = module.add_metadata([tag, *hints])
        if node.name not in ids:
            ids.append(node.name)
            return node
        copy += 1
        tagged = f"{name}#{copy}"


def _cold_hints(module: ll.Module) -> list[ll.MDValue]:
    return [module.add_metadata([ll.MetaDataString(module, "llvm.loop.vectorize.width"),
                                 ll.Constant(ll.IntType(32), 1)]),
            module.add_metadata([ll.MetaDataString(module, "llvm.loop.interleave.count"),
                                 ll.Constant(ll.IntType(32), 1)]),
            module.add_metadata([ll.MetaDataString(module, "llvm.loop.unroll.disable")])]


def make_distinct(text: str, ids: list[str]) -> str:
    """Turn the loop ID nodes into `distinct !{!self, ...}`."""
    wanted = set(ids)

    def fix(m: re.Match[str]) -> str:
        if m.group(1) not in wanted:
            return m.group(0)
        return f"!{m.group(1)} = distinct !{{ !{m.group(1)}, {m.group(3).strip()} }}"

    return _NODE.sub(fix, text)


def vectorized_loops(optimized: str) -> set[str]:
    """Names of the loops whose loop ID LLVM marked vectorised in the optimised module."""
    nodes = {m.group(1): m.group(3) for m in _NODE.finditer(optimized)}
    names = {}
    vectorized = set()
    for key, body in nodes.items():
        tag = re.fullmatch(r'\s*!"accir\.loop",\s*!"([^"]+)"\s*', body)
        if tag:
            names[key] = tag.group(1)
        if re.fullmatch(r'\s*!"llvm\.loop\.isvectorized",\s*i32 1\s*', body):
            vectorized.add(key)
    found = set()
    for body in nodes.values():
        refs = set(re.findall(r"!(\d+)", body))
        if refs & vectorized:
            found |= {names[r] for r in refs if r in names}
    return found
