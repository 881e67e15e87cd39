"""engram: Python bindings for libengram, an inference engine for DeepSeek Engram models.

Errors raise `EngramError` (with `.status` and `.message`). See the README for a quickstart.
"""
from ._lib import EngramError, Status, version, version_number
from .export import export_engram, export_model
from .tokenizer import Tokenizer
from .model import HashState, Model
from .context import Context

__all__ = ["EngramError", "Status", "version", "version_number", "export_engram", "export_model",
           "Tokenizer", "Model", "HashState", "Context"]
__version__ = "0.1.0"
