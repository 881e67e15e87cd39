"""engram: Python bindings for libengram, an inference engine for DeepSeek Engram models.

Errors raise `EngramError` (with `.status` and `.message`). See the README for a quickstart.
"""
from ._lib import EngramError, Status, version, version_number
from .export import export_engram, export_model

__all__ = ["EngramError", "Status", "version", "version_number", "export_engram", "export_model"]
__version__ = "0.1.0"
