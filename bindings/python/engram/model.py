"""engram.Model: a loaded Engram model (ONNX file) and its memory pipeline.

    with engram.Model("model.onnx") as m:
        c = m.compress(ids)            # int64 [T]            compressed token ids
        h = m.hash(ids, layer=1)       # int64 [T, (N-1)*K]   per-head indices, order 2 heads first
        r = m.row_ids(ids, layer=1)    # int64 [T, (N-1)*K]   rows of the layer's table
        e = m.retrieve(ids, layer=1)   # float32 [T, (N-1)*E] the retrieved vectors

`ids` is any 1-D integer array-like of raw token ids (int32 arrays are passed without a
copy). Results are fresh numpy arrays written directly by the library (`retrieve` also takes
`out=`, a C-contiguous float32 array of the right shape, to reuse a buffer). For streaming,
`state = m.hash_state()`; `m.hash(ids, layer, state=state)` treats ids as the continuation
of what was `state.append(...)`-ed so far. A model is immutable after load and may be used
from several threads; a HashState belongs to one thread at a time.
"""
from __future__ import annotations

import ctypes
import json
import os
from typing import Optional

import numpy as np

from ._lib import EngramError, Handle, Status, check, declare

__all__ = ["Model", "HashState"]

_i32p = ctypes.POINTER(ctypes.c_int32)
_i64p = ctypes.POINTER(ctypes.c_int64)
_f32p = ctypes.POINTER(ctypes.c_float)
_sizep = ctypes.POINTER(ctypes.c_size_t)


class _Params(ctypes.Structure):
    _fields_ = [
        ("n_threads", ctypes.c_int32),
        ("prefetch_distance", ctypes.c_int32),
        ("huge_pages", ctypes.c_int32),
        ("random_access", ctypes.c_int32),
        ("populate", ctypes.c_int32),
        ("streaming_stores", ctypes.c_int32),
    ]


_default_params = declare("engram_model_default_params", _Params)
_load = declare("engram_model_load", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Params), ctypes.POINTER(ctypes.c_void_p))
_free = declare("engram_model_free", None, ctypes.c_void_p)
_config_json = declare("engram_model_config_json", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _sizep)
_memory_json = declare("engram_model_memory_json", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _sizep)
_state_create = declare("engram_hash_state_create", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
_state_free = declare("engram_hash_state_free", None, ctypes.c_void_p)
_state_reset = declare("engram_hash_state_reset", ctypes.c_int, ctypes.c_void_p)
_state_append = declare("engram_hash_state_append", ctypes.c_int, ctypes.c_void_p, _i32p, ctypes.c_size_t)
_compress = declare("engram_model_compress", ctypes.c_int, ctypes.c_void_p, _i32p, ctypes.c_size_t,
                    _i64p, ctypes.c_size_t, _sizep)
_hash = declare("engram_model_hash", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, _i32p, ctypes.c_size_t,
                ctypes.c_int32, _i64p, ctypes.c_size_t, _sizep)
_row_ids = declare("engram_model_row_ids", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, _i32p, ctypes.c_size_t,
                   ctypes.c_int32, _i64p, ctypes.c_size_t, _sizep)
_retrieve = declare("engram_model_retrieve", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, _i32p, ctypes.c_size_t,
                    ctypes.c_int32, _f32p, ctypes.c_size_t, _sizep)

_INT32 = np.iinfo(np.int32)


def _token_ids(ids) -> np.ndarray:
    """ids as a C-contiguous int32 1-D array (no copy when it already is one)."""
    a = np.asarray(ids)
    if a.ndim != 1:
        raise ValueError(f"token ids must be 1-D, got shape {a.shape}")
    if a.dtype == np.int32 and a.flags.c_contiguous:
        return a
    if a.size == 0:
        return np.zeros(0, dtype=np.int32)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"token ids must be integers, got {a.dtype}")
    lo, hi = int(a.min()), int(a.max())
    if lo < _INT32.min or hi > _INT32.max:
        bad = lo if lo < _INT32.min else hi
        raise EngramError(Status.OUT_OF_RANGE, f"token id {bad} is outside the vocabulary")
    return np.ascontiguousarray(a, dtype=np.int32)


def _layer(layer) -> int:
    layer = int(layer)
    if not _INT32.min <= layer <= _INT32.max:
        raise EngramError(Status.OUT_OF_RANGE, f"layer {layer} has no Engram memory")
    return layer


def _json(fn, handle) -> dict:
    needed = ctypes.c_size_t(0)
    check(fn(handle, None, 0, ctypes.byref(needed)))
    buf = ctypes.create_string_buffer(needed.value)
    check(fn(handle, buf, needed.value, ctypes.byref(needed)))
    return json.loads(buf.value.decode("utf-8"))


class Model(Handle):
    """A loaded model. `Model(path)` or `Model.load(path)`; close with `.close()` or `with`
    (hash states and contexts made from it keep it alive until they are closed).

    Options (see engram_model_params in engram.h): n_threads (0 = one per CPU, max 8),
    prefetch_distance (0 = default), huge_pages, random_access, populate, streaming_stores.
    """

    _free = _free
    _kind = "model"

    def __init__(self, path, *, n_threads: int = 0, prefetch_distance: int = 0, huge_pages: bool = True,
                 random_access: bool = False, populate: bool = False, streaming_stores: bool = True):
        params = _default_params()
        params.n_threads = int(n_threads)
        params.prefetch_distance = int(prefetch_distance)
        params.huge_pages = 1 if huge_pages else 0
        params.random_access = 1 if random_access else 0
        params.populate = 1 if populate else 0
        params.streaming_stores = 1 if streaming_stores else 0
        handle = ctypes.c_void_p()
        check(_load(os.fsencode(os.fspath(path)), ctypes.byref(params), ctypes.byref(handle)))
        self._handle = handle.value
        self.path = os.fspath(path)
        self._config: Optional[dict] = None
        self._memory: Optional[dict] = None

    @classmethod
    def load(cls, path, **options) -> "Model":
        return cls(path, **options)

    # -- description ------------------------------------------------------------------

    @property
    def config(self) -> dict:
        """The config stored in the file (DeepSeek demo field names)."""
        if self._config is None:
            self._config = _json(_config_json, self._h())
        return self._config

    @property
    def memory_info(self) -> dict:
        """What the engine derived: compressed_vocab_size, pad_compressed, hash_columns,
        vector_width and per layer rows, width, dtype, multipliers, primes, offsets."""
        if self._memory is None:
            self._memory = _json(_memory_json, self._h())
        return self._memory

    @property
    def layer_ids(self) -> list:
        return list(self.config["layer_ids"])

    @property
    def hash_columns(self) -> int:
        return int(self.memory_info["hash_columns"])

    @property
    def vector_width(self) -> int:
        return int(self.memory_info["vector_width"])

    # -- pipeline ---------------------------------------------------------------------

    def compress(self, ids) -> np.ndarray:
        """Compressed ids, int64 [T]."""
        a = _token_ids(ids)
        out = np.empty(a.shape[0], dtype=np.int64)
        needed = ctypes.c_size_t(0)
        check(_compress(self._h(), a.ctypes.data_as(_i32p), a.shape[0], out.ctypes.data_as(_i64p), out.size,
                        ctypes.byref(needed)))
        return out

    def _hash_like(self, fn, ids, layer, state):
        a = _token_ids(ids)
        out = np.empty((a.shape[0], self.hash_columns), dtype=np.int64)
        needed = ctypes.c_size_t(0)
        check(fn(self._h(), state._h() if state is not None else None, a.ctypes.data_as(_i32p), a.shape[0],
                 _layer(layer), out.ctypes.data_as(_i64p), out.size, ctypes.byref(needed)))
        return out

    def hash(self, ids, layer: int, *, state: "Optional[HashState]" = None) -> np.ndarray:
        """Per-head hash indices, int64 [T, (N-1)*K] (order 2 heads 0..K-1 first)."""
        return self._hash_like(_hash, ids, layer, state)

    def row_ids(self, ids, layer: int, *, state: "Optional[HashState]" = None) -> np.ndarray:
        """Rows of the layer's table (hash + head offset), int64 [T, (N-1)*K]."""
        return self._hash_like(_row_ids, ids, layer, state)

    def retrieve(self, ids, layer: int, *, state: "Optional[HashState]" = None, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The retrieved vectors, float32 [T, (N-1)*E]."""
        a = _token_ids(ids)
        shape = (a.shape[0], self.vector_width)
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        elif out.dtype != np.float32 or out.shape != shape or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"out must be a writeable C-contiguous float32 array of shape {shape}")
        needed = ctypes.c_size_t(0)
        check(_retrieve(self._h(), state._h() if state is not None else None, a.ctypes.data_as(_i32p), a.shape[0],
                        _layer(layer), out.ctypes.data_as(_f32p), out.size, ctypes.byref(needed)))
        return out

    def hash_state(self) -> "HashState":
        """A streaming hash state at the start of a sequence."""
        return HashState(self)


class HashState(Handle):
    """The last N-1 compressed ids of a sequence (engram_hash_state)."""

    _free = _state_free
    _kind = "hash state"

    def __init__(self, model: Model):
        handle = ctypes.c_void_p()
        check(_state_create(model._h(), ctypes.byref(handle)))
        self._handle = handle.value

    def append(self, ids) -> None:
        """Records ids as the next tokens of the sequence."""
        a = _token_ids(ids)
        check(_state_append(self._h(), a.ctypes.data_as(_i32p), a.shape[0]))

    def reset(self) -> None:
        check(_state_reset(self._h()))

