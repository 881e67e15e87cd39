"""engram.Context: running a model -- forward with a KV cache, prefill, generation, and the
Engram fuse step (also `Model.fuse` and `Model.forward`, added to engram.Model here).

    with engram.Model("model.onnx") as m, engram.Context(m, max_length=1024) as ctx:
        logits = ctx.forward(ids)                  # float32 [T, V], positions appended to ctx
        for tok in ctx.generate(prompt, max_new_tokens=32, temperature=0.8, top_p=0.95, seed=1):
            print(tok)                             # tokens arrive as they are sampled
        y, gates = m.fuse(hidden, ids, layer=1)    # [T, hc, D], [T, hc]

A context belongs to one thread at a time (the model may be shared). Prefill then
token-by-token decode gives the logits of one full forward.
"""
from __future__ import annotations

import ctypes
import queue
import threading
from typing import Iterable, Iterator, List, Tuple

import numpy as np

from ._lib import EngramError, Handle, Status, check, declare
from .model import Model, _token_ids

__all__ = ["Context"]

_i32p = ctypes.POINTER(ctypes.c_int32)
_f32p = ctypes.POINTER(ctypes.c_float)
_sizep = ctypes.POINTER(ctypes.c_size_t)


class _ContextParams(ctypes.Structure):
    _fields_ = [("max_length", ctypes.c_size_t), ("n_threads", ctypes.c_int32)]


class _GenerateParams(ctypes.Structure):
    _fields_ = [
        ("max_new_tokens", ctypes.c_size_t),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("top_p", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("stop_tokens", _i32p),
        ("n_stop_tokens", ctypes.c_size_t),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p)

_fuse = declare("engram_model_fuse", ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, _f32p, ctypes.c_size_t,
                _i32p, ctypes.c_size_t, _f32p, ctypes.c_size_t, _sizep, _f32p, ctypes.c_size_t)
_ctx_default = declare("engram_context_default_params", _ContextParams)
_ctx_new = declare("engram_context_new", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_ContextParams),
                   ctypes.POINTER(ctypes.c_void_p))
_ctx_free = declare("engram_context_free", None, ctypes.c_void_p)
_ctx_reset = declare("engram_context_reset", ctypes.c_int, ctypes.c_void_p)
_ctx_position = declare("engram_context_position", ctypes.c_int, ctypes.c_void_p, _sizep, _sizep)
_forward = declare("engram_forward", ctypes.c_int, ctypes.c_void_p, _i32p, ctypes.c_size_t, _f32p,
                   ctypes.c_size_t, _sizep)
_prefill = declare("engram_context_prefill", ctypes.c_int, ctypes.c_void_p, _i32p, ctypes.c_size_t, _f32p,
                   ctypes.c_size_t, _sizep)
_ctx_fuse = declare("engram_context_fuse", ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, _f32p, ctypes.c_size_t,
                    _i32p, ctypes.c_size_t, _f32p, ctypes.c_size_t, _sizep, _f32p, ctypes.c_size_t)
_gen_default = declare("engram_generate_default_params", _GenerateParams)
_generate = declare("engram_generate", ctypes.c_int, ctypes.c_void_p, _i32p, ctypes.c_size_t,
                    ctypes.POINTER(_GenerateParams), _Callback, ctypes.c_void_p, _i32p, ctypes.c_size_t,
                    _sizep, ctypes.POINTER(ctypes.c_int))

STOP_REASONS = {0: "max_tokens", 1: "stop_token", 2: "callback", 3: "context_full"}


def _hidden_array(hidden) -> np.ndarray:
    h = np.asarray(hidden)
    if h.dtype != np.float32:
        h = h.astype(np.float32)
    return np.ascontiguousarray(h)


def _fuse_call(fn, handle, hidden, ids, layer: int, hc: int, d: int) -> Tuple[np.ndarray, np.ndarray]:
    a = _token_ids(ids)
    h = _hidden_array(hidden)
    if h.shape != (a.shape[0], hc, d):
        raise EngramError(Status.INVALID_ARGUMENT,
                          f"hidden has shape {h.shape}; [T={a.shape[0]}, hc={hc}, D={d}] expected")
    y = np.empty((a.shape[0], hc, d), dtype=np.float32)
    g = np.empty((a.shape[0], hc), dtype=np.float32)
    needed = ctypes.c_size_t()
    check(fn(handle, int(layer), h.ctypes.data_as(_f32p), h.size, a.ctypes.data_as(_i32p), a.shape[0],
             y.ctypes.data_as(_f32p), y.size, ctypes.byref(needed), g.ctypes.data_as(_f32p), g.size))
    return y, g


def _model_fuse(self: Model, hidden, ids, layer: int) -> Tuple[np.ndarray, np.ndarray]:
    """The Engram fuse step of `layer` for a whole sequence: hidden float32 [T, hc, D] and raw
    token ids [T] -> (Y float32 [T, hc, D], the module's output before the residual add,
    gates float32 [T, hc]). NaN/Inf in hidden or a wrong shape raise EngramError."""
    c = self.config
    return _fuse_call(_fuse, self._h(), hidden, ids, layer, int(c.get("hc_mult", 1)), int(c["hidden_size"]))


def _model_forward(self: Model, ids, *, n_threads: int = 0) -> np.ndarray:
    """Logits float32 [T, V] of one full forward over `ids` (a temporary context)."""
    a = _token_ids(ids)
    with Context(self, max_length=max(1, a.shape[0]), n_threads=n_threads) as ctx:
        return ctx.forward(a)


Model.fuse = _model_fuse
Model.forward = _model_forward


class Context(Handle):
    """A sequence being run by a model: KV cache, Engram streaming states, sampler.

    max_length: positions it holds (0 = the model's max_position_embeddings);
    n_threads: kernel threads (0 = the machine's cores).
    """

    _free = _ctx_free
    _kind = "context"

    def __init__(self, model: Model, max_length: int = 0, n_threads: int = 0):
        self.model = model  # keeps the Python object alive too
        p = _ctx_default()
        p.max_length = int(max_length)
        p.n_threads = int(n_threads)
        h = ctypes.c_void_p()
        check(_ctx_new(model._h(), ctypes.byref(p), ctypes.byref(h)))
        self._handle = h.value
        c = model.config
        self.vocab_size = int(c["vocab_size"])
        self._hc = int(c.get("hc_mult", 1))
        self._d = int(c["hidden_size"])


    @property
    def position(self) -> int:
        pos, mx = ctypes.c_size_t(), ctypes.c_size_t()
        check(_ctx_position(self._h(), ctypes.byref(pos), ctypes.byref(mx)))
        return pos.value

    @property
    def max_length(self) -> int:
        pos, mx = ctypes.c_size_t(), ctypes.c_size_t()
        check(_ctx_position(self._h(), ctypes.byref(pos), ctypes.byref(mx)))
        return mx.value

    def reset(self) -> None:
        """Back to an empty sequence."""
        check(_ctx_reset(self._h()))

    def forward(self, ids) -> np.ndarray:
        """Runs ids as the next positions: logits float32 [T, V] of every one of them."""
        a = _token_ids(ids)
        out = np.empty((a.shape[0], self.vocab_size), dtype=np.float32)
        needed = ctypes.c_size_t()
        check(_forward(self._h(), a.ctypes.data_as(_i32p), a.shape[0], out.ctypes.data_as(_f32p), out.size,
                       ctypes.byref(needed)))
        return out

    def prefill(self, ids) -> np.ndarray:
        """Runs ids as the next positions: logits float32 [V] of the last one."""
        a = _token_ids(ids)
        out = np.empty(self.vocab_size, dtype=np.float32)
        needed = ctypes.c_size_t()
        check(_prefill(self._h(), a.ctypes.data_as(_i32p), a.shape[0], out.ctypes.data_as(_f32p), out.size,
                       ctypes.byref(needed)))
        return out

    def fuse(self, hidden, ids, layer: int) -> Tuple[np.ndarray, np.ndarray]:
        """The fuse step of `layer` continuing this context's fuse stream of that layer (token by
        token or in chunks equals `Model.fuse` on the whole sequence): (Y [T,hc,D], gates [T,hc])."""
        return _fuse_call(_ctx_fuse, self._h(), hidden, ids, layer, self._hc, self._d)

    @staticmethod
    def _params(max_new_tokens, temperature, top_k, top_p, seed, stop_tokens):
        p = _gen_default()
        p.max_new_tokens = int(max_new_tokens)
        p.temperature = float(temperature)
        p.top_k = int(top_k)
        p.top_p = float(top_p)
        p.seed = int(seed) & (2**64 - 1)
        stops = np.ascontiguousarray(np.asarray(list(stop_tokens), dtype=np.int32))
        p.stop_tokens = stops.ctypes.data_as(_i32p) if stops.size else None
        p.n_stop_tokens = stops.size
        return p, stops

    def generate_all(self, prompt=(), *, max_new_tokens: int = 64, temperature: float = 0.0, top_k: int = 0,
                     top_p: float = 1.0, seed: int = 0, stop_tokens: Iterable[int] = ()) -> Tuple[List[int], str]:
        """Generates after `prompt` (empty: continue this context): (tokens, stop reason), the
        reason one of "max_tokens", "stop_token", "callback", "context_full"."""
        a = _token_ids(prompt) if len(prompt) else np.zeros(0, dtype=np.int32)
        p, _stops = self._params(max_new_tokens, temperature, top_k, top_p, seed, stop_tokens)
        out = np.empty(max(1, int(max_new_tokens)), dtype=np.int32)
        n = ctypes.c_size_t()
        reason = ctypes.c_int()
        check(_generate(self._h(), a.ctypes.data_as(_i32p) if a.size else None, a.size, ctypes.byref(p),
                        _Callback(), None, out.ctypes.data_as(_i32p), int(max_new_tokens), ctypes.byref(n),
                        ctypes.byref(reason)))
        return out[:n.value].tolist(), STOP_REASONS.get(reason.value, str(reason.value))

    def generate(self, prompt=(), *, max_new_tokens: int = 64, temperature: float = 0.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, stop_tokens: Iterable[int] = ()) -> Iterator[int]:
        """Yields tokens as they are sampled (greedy when temperature is 0). Stopping the
        iteration early (break / close) stops generation after the current token. Sampling as
        in engram.h (top-k, then top-p, seeded)."""
        a = _token_ids(prompt) if len(prompt) else np.zeros(0, dtype=np.int32)
        p, stops = self._params(max_new_tokens, temperature, top_k, top_p, seed, stop_tokens)
        q: "queue.Queue" = queue.Queue()
        stop = threading.Event()
        ack = threading.Semaphore(0)   # the worker waits until the consumer asks for more
        done = object()

        def on_token(tok, _user):
            q.put(int(tok))
            ack.acquire()
            return 1 if stop.is_set() else 0

        cb = _Callback(on_token)
        result = {}

        def run():
            try:
                n = ctypes.c_size_t()
                reason = ctypes.c_int()
                check(_generate(self._h(), a.ctypes.data_as(_i32p) if a.size else None, a.size,
                                ctypes.byref(p), cb, None, None, 0, ctypes.byref(n), ctypes.byref(reason)))
                result["reason"] = STOP_REASONS.get(reason.value, str(reason.value))
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
                result["error"] = e
            finally:
                q.put(done)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            while True:
                item = q.get()
                if item is done:
                    break
                yield item
                ack.release()
        finally:
            stop.set()
            ack.release()
            worker.join()
            _ = (cb, stops)  # alive until the worker is done
        if "error" in result:
            raise result["error"]
        self.last_stop_reason = result.get("reason")
