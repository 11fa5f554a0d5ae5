"""accir: compile array-centric Python loop nests (with or without OpenACC comments) to native
code."""

from accir.api import CompiledFunction, compile
from accir.cache import CacheWarning
from accir.diagnostics import (
    AccirError,
    AccirTypeError,
    DirectiveSyntaxError,
    RaceWarning,
    Remark,
    UnsupportedError,
)
from accir.runtime import get_num_threads, set_num_threads

__version__ = "0.1.0"

__all__ = [
    "AccirError",
    "AccirTypeError",
    "CacheWarning",
    "CompiledFunction",
    "DirectiveSyntaxError",
    "RaceWarning",
    "Remark",
    "UnsupportedError",
    "__version__",
    "compile",
    "get_num_threads",
    "set_num_threads",
]
