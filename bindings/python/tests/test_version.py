import ctypes

import engram
from engram import _lib


def test_runtime_version_matches_package():
    assert engram.version() == engram.__version__
    major, minor, patch = (int(x) for x in engram.version().split("."))
    assert engram.version_number() == major * 1_000_000 + minor * 1000 + patch


def test_status_strings():
    assert _lib.status_string(engram.Status.OK) == "ok"
    assert _lib.status_string(engram.Status.BUFFER_TOO_SMALL) == "buffer too small"
    assert _lib.status_string(999) == "unknown status"


def test_check_raises_engram_error_with_status():
    try:
        _lib.check(engram.Status.FORMAT)
    except engram.EngramError as e:
        assert e.status == engram.Status.FORMAT
        assert "malformed" in str(e)
    else:
        raise AssertionError("check did not raise")


def test_library_loaded_from_environment():
    import os
    # The test runner points ENGRAM_LIBRARY at the staged library; it must be the one loaded.
    path = os.environ["ENGRAM_LIBRARY"]
    assert isinstance(_lib.lib, ctypes.CDLL)
    assert _lib.lib._name == path
