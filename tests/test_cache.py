"""The on-disk cache: `accir.compile(fn, cache=...)` and `ACCIR_CACHE_DIR` (accir/cache.py)."""

from __future__ import annotations

import json
import os
import runpy
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import accir
from accir.cache import CacheEntry, CacheWarning, DiskCache, decode, encode

ROOT = Path(__file__).resolve().parent.parent

SCALE = 2.0


def scaled_sum(a, out):
    for i in range(a.shape[0]):
        out[i] = out[i] + SCALE * a[i]


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.accir"))


def run_scaled_sum(directory: Path, **options):
    fn = accir.compile(scaled_sum, cache=str(directory), **options)
    a, out = np.arange(5.0), np.ones(5)
    fn(a, out)
    np.testing.assert_array_equal(out, 1.0 + SCALE * np.arange(5.0))
    return fn.specializations[-1]


# ------------------------------------------------------------------ hits, misses and keys


def test_the_first_call_compiles_and_writes_an_entry_the_next_function_loads(tmp_path):
    first = run_scaled_sum(tmp_path)
    assert not first.cached and "llvm" in first.timings
    assert len(entries(tmp_path)) == 1
    second = run_scaled_sum(tmp_path)
    assert second.cached
    assert "passes" not in second.timings and "llvm" not in second.timings
    assert second.remarks == first.remarks
    assert second.changed_by == first.changed_by


def test_a_cached_specialisation_can_be_inspected(tmp_path):
    run_scaled_sum(tmp_path)
    fn = accir.compile(scaled_sum, cache=str(tmp_path))
    fn(np.arange(3.0), np.zeros(3))
    assert fn.specializations[-1].cached
    assert "for %i" in fn.inspect_ir()
    assert "define" in fn.inspect_llvm()
    assert fn.inspect_asm().strip()


def test_the_key_covers_globals_the_function_reads(tmp_path, monkeypatch):
    run_scaled_sum(tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 3.0)
    spec = run_scaled_sum(tmp_path)  # the assertion inside uses the new SCALE
    assert not spec.cached
    assert len(entries(tmp_path)) == 2


def test_the_key_covers_argument_types_and_options(tmp_path):
    run_scaled_sum(tmp_path)
    assert run_scaled_sum(tmp_path, reassociate=True).cached is False
    assert run_scaled_sum(tmp_path, opt_level=2).cached is False
    fn = accir.compile(scaled_sum, cache=str(tmp_path))
    fn(np.arange(4, dtype=np.float32), np.zeros(4, dtype=np.float32))
    assert not fn.specializations[-1].cached
    assert len(entries(tmp_path)) == 4
    assert run_scaled_sum(tmp_path, opt_level=2).cached is True


def test_the_key_covers_the_source(tmp_path):
    source = tmp_path / "kernel.py"
    for body, expected in (("out[i] = a[i] + 1.0", 1.0), ("out[i] = a[i] + 20.0", 20.0)):
        source.write_text(textwrap.dedent(f"""
            def f(a, out):
                for i in range(a.shape[0]):
                    {body}
            """))
        fn = accir.compile(runpy.run_path(str(source))["f"], cache=str(tmp_path / "cache"))
        out = np.zeros(3)
        fn(np.zeros(3), out)
        assert (out == expected).all()
        assert not fn.specializations[-1].cached


def test_the_overlapping_arrays_variant_is_cached_separately(tmp_path):
    def shift(a, b):
        for i in range(a.shape[0] - 1):
            b[i + 1] = a[i] + 1.0

    x = np.arange(6.0)
    want = x.copy()
    shift(want, want)
    for _ in range(2):
        fn = accir.compile(shift, cache=str(tmp_path))
        got = x.copy()
        fn(got, got)
        np.testing.assert_array_equal(got, want)
    assert len(entries(tmp_path)) == 2  # the noalias version and the aliased one


def test_the_interpreter_target_does_not_use_the_cache(tmp_path):
    fn = accir.compile(scaled_sum, target="interp", cache=str(tmp_path))
    fn(np.arange(2.0), np.zeros(2))
    assert entries(tmp_path) == []


def test_cache_true_uses_accir_cache_dir(tmp_path):
    script = tmp_path / "double.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, accir
        def f(a):
            for i in range(a.shape[0]):
                a[i] = a[i] * 2.0
        g = accir.compile(f, cache=True)
        g(np.ones(3))
        print(g.specializations[-1].cached)
    """))
    env = {**os.environ, "ACCIR_CACHE_DIR": str(tmp_path / "dir")}
    runs = [subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["False", "True"], runs[1].stderr
    assert len(entries(tmp_path / "dir")) == 1


def test_a_second_process_loads_the_entry_and_gives_the_same_results(tmp_path):
    script = textwrap.dedent("""
        import json, sys
        import numpy as np, accir
        from benchmarks.polybench import POLYBENCH
        k = POLYBENCH["atax"]
        fn = accir.compile(k.py, cache=sys.argv[1])
        args = k.inputs("mini")
        fn(*args)
        spec = fn.specializations[-1]
        print(json.dumps({"cached": spec.cached, "phases": sorted(spec.timings),
                          "out": [args[i].tolist() for i in k.outputs],
                          "remarks": [str(r) for r in fn.remarks]}))
    """)
    runs = [json.loads(subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                                      cwd=ROOT, capture_output=True, text=True, timeout=120,
                                      check=True).stdout) for _ in range(2)]
    assert [r["cached"] for r in runs] == [False, True]
    assert "llvm" in runs[0]["phases"] and "llvm" not in runs[1]["phases"]
    assert runs[0]["out"] == runs[1]["out"]
    assert runs[0]["remarks"] == runs[1]["remarks"]


# ------------------------------------------------------------------ damaged entries


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage", "tail"])
def test_a_damaged_entry_is_detected_and_compiled_again(tmp_path, damage):
    run_scaled_sum(tmp_path)
    (path,) = entries(tmp_path)
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "flip": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        "empty": b"",
        "garbage": os.urandom(len(data)),
        "tail": data[:-1],
    }[damage]
    path.write_bytes(damaged)
    spec = run_scaled_sum(tmp_path)
    assert not spec.cached
    assert decode(path.read_bytes()) is not None  # written again, sound
    assert run_scaled_sum(tmp_path).cached


def test_encode_decode_round_trip():
    entry = CacheEntry(b"\x7fELF object", {"symbols": ["a"], "n": 1},
                       {"ir": "func", "llvm_opt": "define"})
    back = decode(encode(entry))
    assert back == entry
    assert decode(encode(entry)[:-1]) is None


# ------------------------------------------------------------------ a private directory


def test_the_cache_directory_is_created_private(tmp_path):
    directory = tmp_path / "a" / "b"
    run_scaled_sum(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (entry,) = entries(directory)
    assert stat.S_IMODE(entry.stat().st_mode) & 0o077 == 0


def test_an_open_directory_of_ours_is_made_private(tmp_path):
    directory = tmp_path / "open"
    directory.mkdir(mode=0o777)
    os.chmod(directory, 0o777)
    run_scaled_sum(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_directory_of_another_user_is_not_used(tmp_path, monkeypatch):
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    with pytest.warns(CacheWarning, match="another user"):
        spec = run_scaled_sum(tmp_path / "theirs")
    assert not spec.cached
    assert entries(tmp_path / "theirs") == []


def test_an_entry_others_may_write_is_not_read(tmp_path):
    run_scaled_sum(tmp_path)
    (path,) = entries(tmp_path)
    os.chmod(path, 0o666)
    with pytest.warns(CacheWarning, match="not a private file"):
        spec = run_scaled_sum(tmp_path)
    assert not spec.cached


def test_a_symlinked_entry_is_not_followed(tmp_path):
    run_scaled_sum(tmp_path)
    (path,) = entries(tmp_path)
    target = tmp_path / "elsewhere"
    path.rename(target)
    path.symlink_to(target)
    with pytest.warns(CacheWarning):
        spec = run_scaled_sum(tmp_path)
    assert not spec.cached


def test_an_unwritable_directory_warns_and_compiles(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.warns(CacheWarning, match="cannot create"):
        spec = run_scaled_sum(blocker / "cache")
    assert not spec.cached


def test_clear_removes_the_entries(tmp_path):
    run_scaled_sum(tmp_path)
    assert DiskCache(tmp_path).clear() == 1
    assert entries(tmp_path) == []


def test_a_bad_cache_setting_is_a_type_error():
    with pytest.raises(TypeError, match="cache must be"):
        accir.compile(scaled_sum, cache=3)


def test_no_warning_on_a_normal_hit(tmp_path):
    run_scaled_sum(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_scaled_sum(tmp_path).cached


def test_processes_racing_on_one_entry_all_succeed(tmp_path):
    """Entries are written to a private temporary file and renamed into place: processes
    compiling the same function at once never see half an entry."""
    script = textwrap.dedent("""
        import sys
        import numpy as np, accir
        from benchmarks.polybench import POLYBENCH
        k = POLYBENCH["gesummv"]
        for _ in range(3):
            fn = accir.compile(k.py, cache=sys.argv[1])
            args = k.inputs("mini")
            fn(*args)
            want = k.inputs("mini")
            k.py(*want)
            assert all(np.array_equal(args[i], want[i]) for i in k.outputs)
        print("ok")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["ok"] * 3
    (entry,) = entries(tmp_path)
    assert decode(entry.read_bytes()) is not None
    assert not list(tmp_path.glob(".tmp-*"))  # no temporary file left behind
