"""engram: Python bindings for libengram, an inference engine for DeepSeek Engram models.

Errors raise `EngramError` (with `.status` and `.message`). See the README for a quickstart.
"""
from ._lib import EngramError, Status, version, version_number
from .tokenizer import Tokenizer

__all__ = ["EngramError", "Status", "version", "version_number", "Tokenizer"]
__version__ = "0.1.0"
