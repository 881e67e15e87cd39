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

__all__ = ["EngramError", "lib", "declare", "check", "Status"]


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


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:  # try the next place
            errors.append(f"{path}: {e}")
    raise OSError("libengram.so not found (set ENGRAM_LIBRARY to its path): " + "; ".join(errors))


lib = _load()


def declare(name: str, restype, *argtypes):
    """Declares the C signature of `name` and returns the function."""
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_version = declare("engram_version", ctypes.c_char_p)
_version_number = declare("engram_version_number", ctypes.c_int32)
_abi_version = declare("engram_abi_version", ctypes.c_int32)
_status_string = declare("engram_status_string", ctypes.c_char_p, ctypes.c_int)
_last_error = declare("engram_last_error", ctypes.c_char_p)

#: The ABI these bindings were written for (ENGRAM_ABI_VERSION of engram.h).
ABI_VERSION = 1
if _abi_version() != ABI_VERSION:
    raise ImportError(f"libengram ABI {_abi_version()} does not match the bindings' ABI {ABI_VERSION}")


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
