"""The on-disk cache in the suite: what a new process's first call costs when an earlier process
compiled the kernel with `accir.compile(fn, cache=True)`.

Two fresh Python processes share an empty temporary ACCIR_CACHE_DIR. The first compiles every
kernel (and writes the entries); the second makes the same first calls, which load them. Each
reports, per kernel, the wall time of its first call (on CPython-size inputs) and whether it came
from the cache. Run alone: `.venv/bin/python benchmarks/suite_cache.py gemm,atax`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import accir
from benchmarks.kernels import KERNELS
from benchmarks.polybench import POLYBENCH
kernels = {**KERNELS, **POLYBENCH}
out = {}
for name in sys.argv[3].split(","):
    k = kernels[name]
    fn = accir.compile(k.py, cache=True)
    args = k.inputs(sys.argv[2])
    start = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - start
    spec = fn.specializations[-1]
    out[name] = {"first_call_s": seconds, "cached": spec.cached, "phases": spec.timings}
print(json.dumps(out))
"""


def measure_cache(names: list[str], size: str, timeout_s: float = 600.0
                  ) -> dict[str, dict[str, Any]]:
    """{kernel: {"compile_s", "cached_s", "cached"}}; {} if a child process failed."""
    with tempfile.TemporaryDirectory(prefix="accir-suite-cache-") as directory:
        env = {**os.environ, "ACCIR_CACHE_DIR": directory}
        runs = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", _CHILD, str(_ROOT), size,
                                   ",".join(names)], env=env, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
            if done.returncode != 0:
                return {}
            runs.append(json.loads(done.stdout))
    compiled, loaded = runs
    return {name: {"compile_s": compiled[name]["first_call_s"],
                   "cached_s": loaded[name]["first_call_s"],
                   "cached": loaded[name]["cached"] and not compiled[name]["cached"],
                   "phases": loaded[name]["phases"]}
            for name in names}


if __name__ == "__main__":
    from benchmarks.kernels import KERNELS
    from benchmarks.polybench import POLYBENCH

    wanted = sys.argv[1].split(",") if len(sys.argv) > 1 else [*KERNELS, *POLYBENCH]
    for kernel, row in measure_cache(wanted, "mini").items():
        print(f"{kernel:12s} compile {row['compile_s']:.3f} s, cached {row['cached_s'] * 1e3:.1f}"
              f" ms ({'from the cache' if row['cached'] else 'NOT from the cache'})")
