"""The on-disk cache of compiled specialisations (`accir.compile(fn, cache=True)`).

An entry holds the object code of one specialisation and what a later process needs to use it
without compiling: its entry symbols, the process symbols it refers to, the remarks, and the
IR and LLVM texts for inspection. It is keyed (`cache_key`) on everything the compiled code
depends on: the frontend IR of the function and every function it calls (which holds the
values of the globals and closure variables they read), their source text and location (for
remarks), the argument types, every compile option, accir's version and a digest of its own
source, the Python, NumPy and LLVM versions, and the host CPU with its features.

Safety:
- Nothing is unpickled. An entry is a header, a JSON document and raw sections, with a SHA-256
  digest over all of it; a truncated or corrupted entry fails the digest, is removed, and the
  function is compiled again.
- The cache directory is created private (0700). Entries are written to a private temporary
  file and renamed into place, so a reader never sees half an entry. A directory or entry that
  another user owns, or that others may write to, is never read (`CacheWarning`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import platform
import stat
import struct
import sys
import tempfile
import threading
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accir.diagnostics import Remark

FORMAT = 1
_MAGIC = b"ACCIRC\x00\x01"
_HEADER = struct.Struct("<8sQ")  # magic, length of the JSON document
_DIGEST = 32
_SUFFIX = ".accir"


class CacheWarning(UserWarning):
    """The on-disk cache could not be used (the function is compiled as without a cache)."""


@dataclass
class CacheEntry:
    """What a cached specialisation holds besides its key."""

    object_code: bytes
    meta: dict[str, Any]  # JSON-serialisable: symbols, remarks, ...
    texts: dict[str, str]  # inspection texts: "ir", "llvm_ir", "llvm_opt"

    def remarks(self) -> list[Remark]:
        return [Remark(**r) for r in self.meta.get("remarks", [])]


def default_directory() -> Path:
    """`ACCIR_CACHE_DIR`, else `$XDG_CACHE_HOME/accir`, else `~/.cache/accir`."""
    configured = os.environ.get("ACCIR_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "accir"


def cache_key(parts: dict[str, Any]) -> str:
    """The hex SHA-256 of the key parts (JSON-serialisable), with the environment's."""
    document = json.dumps({**environment_key(), **parts}, sort_keys=True, default=str)
    return hashlib.sha256(document.encode()).hexdigest()


@functools.cache
def environment_key() -> dict[str, Any]:
    """What, besides the function and options, the compiled code depends on."""
    import llvmlite
    import llvmlite.binding as llvm
    import numpy as np

    import accir
    from accir.runtime import libgomp_loaded

    return {
        "format": FORMAT,
        "accir": [accir.__version__, source_fingerprint()],
        "python": [sys.implementation.name, *sys.version_info[:2]],
        "numpy": np.__version__.split(".")[:2],  # the PyArrayObject layout the wrapper reads
        "llvmlite": llvmlite.__version__,
        "llvm": list(llvm.llvm_version_info),
        "machine": [platform.system(), platform.machine(), llvm.get_process_triple()],
        "cpu": [llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()],
        "openmp": libgomp_loaded(),
    }


def source_fingerprint() -> str:
    """A digest of accir's own source: code cached by another build of accir (the same version
    number, other sources) is never loaded."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".lark")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class DiskCache:
    """A directory of cache entries, one file per key."""

    def __init__(self, directory: str | os.PathLike[str] | None = None):
        self.directory = Path(directory) if directory is not None else default_directory()
        self._usable: bool | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DiskCache({str(self.directory)!r})"

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{_SUFFIX}"

    # ------------------------------------------------------------------ the directory

    def usable(self) -> bool:
        """Create the directory (0700) if needed; whether it is safe to read and write."""
        with self._lock:
            if self._usable is None:
                self._usable = self._prepare()
            return self._usable

    def _prepare(self) -> bool:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.stat(self.directory, follow_symlinks=False)
        except OSError as err:
            return _refuse(f"cannot create the cache directory {self.directory}: {err}")
        if not stat.S_ISDIR(info.st_mode):
            return _refuse(f"the cache directory {self.directory} is not a directory")
        if info.st_uid != os.getuid():
            return _refuse(f"the cache directory {self.directory} belongs to another user")
        if info.st_mode & 0o077:
            try:  # ours, but others could read or write it: make it private
                os.chmod(self.directory, 0o700)
            except OSError as err:
                return _refuse(f"cannot make the cache directory {self.directory} private: "
                               f"{err}")
        return True

    # ------------------------------------------------------------------ entries

    def load(self, key: str) -> CacheEntry | None:
        """The entry for `key`, or None when there is none or it is not sound (then it is
        removed, to be written again)."""
        if not self.usable():
            return None
        path = self.path(key)
        data = _read_private(path)
        if data is None:
            return None
        entry = decode(data)
        if entry is None:
            _remove(path)
        return entry

    def store(self, key: str, entry: CacheEntry) -> None:
        """Write the entry atomically; failures (a full disk, ...) only warn."""
        if not self.usable():
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=_SUFFIX)
        except OSError as err:
            _refuse(f"cannot write to the cache directory {self.directory}: {err}")
            return
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(encode(entry))
            os.replace(tmp, self.path(key))
        except OSError as err:
            _remove(Path(tmp))
            _refuse(f"cannot write the cache entry {self.path(key)}: {err}")

    def clear(self) -> int:
        """Remove every entry; the number removed."""
        if not self.directory.is_dir():
            return 0
        removed = 0
        for path in self.directory.glob(f"*{_SUFFIX}"):
            removed += _remove(path)
        return removed


def encode(entry: CacheEntry) -> bytes:
    """header | JSON | sections | SHA-256 of everything before."""
    sections = {"object": entry.object_code,
                **{name: zlib.compress(text.encode(), 1) for name, text in entry.texts.items()}}
    document = json.dumps({"meta": entry.meta,
                           "sections": [[name, len(data)] for name, data in sections.items()]},
                          sort_keys=True).encode()
    body = _HEADER.pack(_MAGIC, len(document)) + document + b"".join(sections.values())
    return body + hashlib.sha256(body).digest()


def decode(data: bytes) -> CacheEntry | None:
    """The entry in `data`, or None if it is truncated, corrupted or of another format."""
    body, digest = data[:-_DIGEST], data[-_DIGEST:]
    if len(data) < _HEADER.size + _DIGEST or hashlib.sha256(body).digest() != digest:
        return None
    magic, length = _HEADER.unpack_from(body)
    if magic != _MAGIC:
        return None
    try:
        document = json.loads(body[_HEADER.size:_HEADER.size + length])
        offset = _HEADER.size + length
        sections: dict[str, bytes] = {}
        for name, size in document["sections"]:
            sections[name] = body[offset:offset + size]
            offset += size
        texts = {name: zlib.decompress(raw).decode() for name, raw in sections.items()
                 if name != "object"}
        return CacheEntry(sections["object"], document["meta"], texts)
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


def _read_private(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file of ours that no one else may write."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as err:
        _refuse(f"cannot read the cache entry {path}: {err}")
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or \
                info.st_mode & 0o022:
            _refuse(f"ignoring the cache entry {path}: it is not a private file of this user")
            return None
        return f.read()


def _remove(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError:
        return 0


def _refuse(why: str) -> bool:
    warnings.warn(f"accir cache: {why}; compiling without it", CacheWarning, stacklevel=3)
    return False


def remark_dicts(remarks: list[Remark]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in remarks]
