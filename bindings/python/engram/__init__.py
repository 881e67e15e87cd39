"""engram: Python bindings for libengram, an inference engine for DeepSeek Engram models.

Errors raise `EngramError` (with `.status` and `.message`). See the README for a quickstart.
"""
from ._lib import EngramError, Status, version, version_number

__all__ = ["EngramError", "Status", "version", "version_number"]
__version__ = "0.1.0"

from .export import export_engram, export_model  # noqa: E402  (numpy only; onnx/torch on use)
__all__ += ["export_engram", "export_model"]
