import ctypes
import os

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

    # The test runner points ENGRAM_LIBRARY at the staged library; it must be the one loaded.
    path = os.environ["ENGRAM_LIBRARY"]
    assert isinstance(_lib.lib, ctypes.CDLL)
    assert _lib.lib._name == path


def test_exporter_and_reference_import_without_the_library():
    """Training and export machines may not have libengram.so: the library loads on first use."""
    import subprocess
    import sys
    env = dict(os.environ, ENGRAM_LIBRARY="/nonexistent/libengram.so")
    code = (
        "import engram.export, engram.reference\n"
        "import engram\n"
        "try:\n"
        "    engram.version()\n"
        "except OSError as e:\n"
        "    assert 'ENGRAM_LIBRARY' in str(e), e\n"
        "    print('lazy ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "lazy ok"


def test_every_handle_class_closes_deterministically(tmp_path):
    """`with` releases the C object at the end of the block; a closed object refuses use."""
    import pathlib

    import pytest

    model_dir = pathlib.Path(os.environ.get("ENGRAM_ROOT", pathlib.Path(__file__).parents[3])) / "examples" / "model"
    with engram.Tokenizer.from_file(model_dir / "tokenizer.json") as tok:
        ids = tok.encode("The cat sat on the mat.")
        assert tok.decode(ids) == "The cat sat on the mat."
    with pytest.raises(ValueError):
        tok.encode("x")
    with engram.Model(model_dir / "model.onnx") as model:
        with engram.Context(model, max_length=32) as ctx:
            assert ctx.forward(ids).shape == (len(ids), model.config["vocab_size"])
        with model.hash_state() as state:
            state.append(ids)
    with pytest.raises(Exception):
        model.compress(ids)
