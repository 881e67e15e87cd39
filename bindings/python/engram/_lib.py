"""Loading libengram and calling it: library lookup, status checks, EngramError.

The library is found, in order, through the ENGRAM_LIBRARY environment variable (a path to
libengram.so), next to this package (engram/libengram.so), then the system loader path.
Every module of the package declares argtypes/restype for the functions it calls through
`declare`, so a wrong argument raises a ctypes error instead of corrupting memory.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Optional

__all__ = ["EngramError", "library", "declare", "check", "Status"]


class Status:
    """Status codes of engram.h (engram_status)."""

    OK = 0
    INVALID_ARGUMENT = 1
    BUFFER_TOO_SMALL = 2
    IO = 3
    FORMAT = 4
    UNSUPPORTED = 5
    OUT_OF_RANGE = 6
    OUT_OF_MEMORY = 7
    INVALID_UTF8 = 8
    STATE = 9
    CANCELLED = 10
    INTERNAL = 11


class EngramError(RuntimeError):
    """A libengram call failed. `status` is the engram_status code, `message` its text."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(f"{message} [{status_string(status)}]" if message else status_string(status))


def _candidates() -> list[str]:
    env = os.environ.get("ENGRAM_LIBRARY")
    if env:
        return [env]
    here = Path(__file__).resolve().parent / "libengram.so"
    found = [str(here)] if here.exists() else []
    system = ctypes.util.find_library("engram")
    found.append(system or "libengram.so")
    return found


_library: Optional[ctypes.CDLL] = None

#: The ABI these bindings were written for (ENGRAM_ABI_VERSION of engram.h).
ABI_VERSION = 1


def library() -> ctypes.CDLL:
    """The loaded libengram (loaded on first use, so `engram.export` and `engram.reference`
    work on machines without the library)."""
    global _library
    if _library is None:
        errors = []
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
                break
            except OSError as e:  # try the next place
                errors.append(f"{path}: {e}")
        else:
            raise OSError("libengram.so not found (set ENGRAM_LIBRARY to its path): " + "; ".join(errors))
        lib.engram_abi_version.restype = ctypes.c_int32
        lib.engram_abi_version.argtypes = []
        abi = lib.engram_abi_version()
        if abi != ABI_VERSION:
            raise OSError(f"libengram ABI {abi} does not match the bindings' ABI {ABI_VERSION}")
        _library = lib
    return _library


def __getattr__(name: str):
    if name == "lib":  # engram._lib.lib: the CDLL, loaded on first access
        return library()
    raise AttributeError(name)


class _Function:
    """A C function of libengram with its declared signature, bound on first call."""

    __slots__ = ("name", "restype", "argtypes", "fn")

    def __init__(self, name: str, restype, argtypes):
        self.name, self.restype, self.argtypes, self.fn = name, restype, list(argtypes), None

    def __call__(self, *args):
        fn = self.fn
        if fn is None:
            fn = getattr(library(), self.name)
            fn.restype = self.restype
            fn.argtypes = self.argtypes
            self.fn = fn
        return fn(*args)


def declare(name: str, restype, *argtypes):
    """Declares the C signature of `name`; the returned callable binds it on first use."""
    return _Function(name, restype, argtypes)


_version = declare("engram_version", ctypes.c_char_p)
_version_number = declare("engram_version_number", ctypes.c_int32)
_status_string = declare("engram_status_string", ctypes.c_char_p, ctypes.c_int)
_last_error = declare("engram_last_error", ctypes.c_char_p)


def status_string(status: int) -> str:
    return _status_string(status).decode()


def last_error() -> str:
    return _last_error().decode("utf-8", "replace")


def check(status: int) -> None:
    """Raises EngramError for a non-OK status, with this thread's last error message."""
    if status != Status.OK:
        raise EngramError(status, last_error())


def version() -> str:
    """The loaded library's version string."""
    return _version().decode()


def version_number() -> int:
    return _version_number()


class Handle:
    """A library object owned by a Python object (model, hash state, context, tokenizer):
    freed by `close()` (idempotent), at the end of a `with` block, or when collected. Subclasses
    set `_free` (the declared free function) and `_kind` (for the error on use after close),
    and store the C handle in `_handle`."""

    _handle = None
    _free = None
    _kind = "object"

    def close(self) -> None:
        h, self._handle = self._handle, None
        if h:
            type(self)._free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def _closed_error(self) -> Exception:
        return EngramError(Status.INVALID_ARGUMENT, f"the {self._kind} is closed")

    def _h(self):
        """The live C handle; raises once closed."""
        if not self._handle:
            raise self._closed_error()
        return self._handle
