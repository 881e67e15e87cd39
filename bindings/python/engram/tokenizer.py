"""engram.Tokenizer: tokenizer.json byte-level BPE (ids equal to Hugging Face `tokenizers`).

    tok = engram.Tokenizer.from_file("tokenizer.json")
    ids = tok.encode("Hello world")            # list[int]
    text = tok.decode(ids)
    table = tok.compression_table()            # numpy int64, SPEC section 2
"""
from __future__ import annotations

import ctypes
import os
from typing import Iterable

from ._lib import Handle, Status, check, declare

__all__ = ["Tokenizer"]

_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_tok_p = ctypes.c_void_p

_load = declare("engram_tokenizer_load", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_tok_p))
_load_mem = declare("engram_tokenizer_load_from_memory", ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                    ctypes.POINTER(_tok_p))
_free = declare("engram_tokenizer_free", None, _tok_p)
_vocab_size = declare("engram_tokenizer_vocab_size", ctypes.c_int, _tok_p, _c_size_p)
_tokenize = declare("engram_tokenize", ctypes.c_int, _tok_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                    ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, _c_size_p)
_detokenize = declare("engram_detokenize", ctypes.c_int, _tok_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t,
                      ctypes.c_char_p, ctypes.c_size_t, _c_size_p)
_to_piece = declare("engram_token_to_piece", ctypes.c_int, _tok_p, ctypes.c_int32, ctypes.c_char_p,
                    ctypes.c_size_t, _c_size_p)
_to_id = declare("engram_token_to_id", ctypes.c_int, _tok_p, ctypes.c_char_p, ctypes.c_size_t,
                 ctypes.POINTER(ctypes.c_int32))
_compression = declare("engram_tokenizer_compression_table", ctypes.c_int, _tok_p, ctypes.POINTER(ctypes.c_int64),
                       ctypes.c_size_t, _c_size_p, _c_size_p)


class Tokenizer(Handle):
    """A loaded tokenizer.json (byte-level BPE). Thread-safe; freed with the object or `close()`."""

    _free = _free
    _kind = "tokenizer"

    def __init__(self, path):
        """Loads the tokenizer.json at `path` (str, bytes or os.PathLike)."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"Tokenizer(path) takes the path of a tokenizer.json, not {type(path).__name__}; "
                            "Tokenizer.from_str(text) loads its content")
        h = _tok_p()
        check(_load(os.fsencode(os.fspath(path)), ctypes.byref(h)))
        self._handle = h.value

    @classmethod
    def from_file(cls, path) -> "Tokenizer":
        return cls(path)

    @classmethod
    def from_str(cls, json_text) -> "Tokenizer":
        """From tokenizer.json content (str or bytes)."""
        data = json_text.encode() if isinstance(json_text, str) else bytes(json_text)
        h = _tok_p()
        check(_load_mem(data, len(data), ctypes.byref(h)))
        tok = cls.__new__(cls)
        tok._handle = h.value
        return tok

    def _closed_error(self) -> Exception:
        return ValueError("tokenizer is closed")

    @property
    def vocab_size(self) -> int:
        """Number of token ids (one more than the largest id, added tokens included)."""
        n = ctypes.c_size_t()
        check(_vocab_size(self._h(), ctypes.byref(n)))
        return n.value

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """Token ids of `text`; `add_special_tokens` adds the post-processor's tokens."""
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
        return self.encode_bytes(data, add_special_tokens)

    def encode_bytes(self, data: bytes, add_special_tokens: bool = False) -> list[int]:
        """As `encode`, from UTF-8 bytes (invalid UTF-8 raises with the byte offset)."""
        cap = len(data) + 16
        buf = (ctypes.c_int32 * cap)()
        needed = ctypes.c_size_t()
        st = _tokenize(self._h(), data, len(data), int(add_special_tokens), buf, cap, ctypes.byref(needed))
        if st == Status.BUFFER_TOO_SMALL:
            cap = needed.value
            buf = (ctypes.c_int32 * cap)()
            st = _tokenize(self._h(), data, len(data), int(add_special_tokens), buf, cap, ctypes.byref(needed))
        check(st)
        return buf[:needed.value]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids` (special tokens kept, invalid UTF-8 replaced by U+FFFD)."""
        ids = list(ids)
        arr = (ctypes.c_int32 * max(len(ids), 1))(*ids)
        needed = ctypes.c_size_t()
        check(_detokenize(self._h(), arr, len(ids), None, 0, ctypes.byref(needed)))
        out = ctypes.create_string_buffer(needed.value)
        check(_detokenize(self._h(), arr, len(ids), out, needed.value, ctypes.byref(needed)))
        return out.raw[:needed.value - 1].decode("utf-8")

    def id_to_token(self, token_id: int) -> str:
        """The token's spelling as in tokenizer.json."""
        needed = ctypes.c_size_t()
        check(_to_piece(self._h(), token_id, None, 0, ctypes.byref(needed)))
        out = ctypes.create_string_buffer(needed.value)
        check(_to_piece(self._h(), token_id, out, needed.value, ctypes.byref(needed)))
        return out.raw[:needed.value - 1].decode("utf-8")

    def token_to_id(self, token: str):
        """The id of the token spelled `token`, or None."""
        data = token.encode("utf-8")
        out = ctypes.c_int32()
        st = _to_id(self._h(), data, len(data), ctypes.byref(out))
        if st == Status.OUT_OF_RANGE:
            return None
        check(st)
        return out.value

    def compression_table(self):
        """numpy int64 array: compressed id of every token id (SPEC section 2)."""
        import numpy as np

        n = self.vocab_size
        table = np.empty(n, dtype=np.int64)
        needed = ctypes.c_size_t()
        count = ctypes.c_size_t()
        check(_compression(self._h(), table.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), n,
                           ctypes.byref(needed), ctypes.byref(count)))
        return table
