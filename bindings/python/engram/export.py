"""Export Engram weights from PyTorch (or numpy) to an ONNX file the engine loads.

    python -m engram.export --config config.json --state-dict weights.pt \\
        --tokenizer tokenizer.json --out model.onnx

or from Python::

    from engram.export import export_engram
    export_engram(model.state_dict(), config, "tokenizer.json", "model.onnx")

The file is ONNX IR version 8 / opset 17 (what the ONNX 1.12 checker the engine uses
accepts). It holds:

- every state-dict tensor as an initializer under its PyTorch name
  (``layers.<l>.engram.value_proj.weight``, ...; the names of SPEC section 5);
- the Engram constants, computed here with numpy exactly as DeepSeek's demo does:
  ``engram.token_map`` int64 [vocab_size] (the compression table of SPEC section 2),
  ``layers.<l>.engram.multipliers`` int64 [max_ngram_size] and
  ``layers.<l>.engram.primes`` int64 [max_ngram_size-1, n_head_per_ngram] (SPEC section 3);
- the config as JSON in ``metadata_props`` under the key ``engram.config``.

Tensors of ``external_threshold`` bytes (1 MiB) or more go to one external data file next to
the model (``<model>.data``), each at an offset aligned to 4096 bytes, so the engine can map
them and use them in place.

An Engram-only state dict (only ``layers.<l>.engram.*`` keys) is a valid export: the engine
can retrieve and fuse with it, but has no backbone to run a forward pass.

This module imports only numpy and onnx (torch and tokenizers when they are needed), and has
no relative imports, so scripts can load it by path without loading libengram.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

__all__ = [
    "export_engram",
    "compression_table",
    "layer_multipliers",
    "table_primes",
    "engram_tensor_shapes",
    "random_engram_state_dict",
    "save_onnx",
    "engram_constants",
    "export_model",
    "find_renames",
    "IR_VERSION",
    "OPSET",
    "CONFIG_KEY",
]

IR_VERSION = 8
OPSET = 17
CONFIG_KEY = "engram.config"
EXTERNAL_THRESHOLD = 1 << 20
ALIGNMENT = 4096

#: Config fields of DeepSeek's demo (EngramConfig + BackBoneConfig); the backbone's fields
#: (num_attention_heads, intermediate_size, ...) may be added freely.
REQUIRED_FIELDS = (
    "engram_vocab_size", "max_ngram_size", "n_embed_per_ngram", "n_head_per_ngram",
    "layer_ids", "pad_id", "hidden_size", "vocab_size",
)
DEFAULTS = {"seed": 0, "kernel_size": 4, "hc_mult": 1, "num_layers": 0}


# ---------------------------------------------------------------------------------------
# Engram constants
# ---------------------------------------------------------------------------------------

def _normalizer():
    """The normalizer sequence of the demo's CompressedTokenizer (SPEC section 2)."""
    from tokenizers import Regex, normalizers
    sentinel = "\ue000"  # keeps a lone space alive through Strip
    return normalizers.Sequence([
        normalizers.NFKC(),
        normalizers.NFD(),
        normalizers.StripAccents(),
        normalizers.Lowercase(),
        normalizers.Replace(Regex(r"[ \t\r\n]+"), " "),
        normalizers.Replace(Regex(r"^ $"), sentinel),
        normalizers.Strip(),
        normalizers.Replace(sentinel, " "),
    ])


def _load_tokenizer(path: str):
    from tokenizers import Tokenizer
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    return Tokenizer.from_file(path)


def compression_table(tokenizer_path: str) -> np.ndarray:
    """The surjective map raw id -> compressed id of SPEC section 2, as int64 [V].

    For each id in order: decode it alone (special tokens kept); if the text holds U+FFFD the
    key is the raw vocabulary string, else the normalized text (or the text when that is
    empty). Keys are numbered in order of first appearance.
    """
    tok = _load_tokenizer(tokenizer_path)
    norm = _normalizer()
    vocab = tok.get_vocab_size(with_added_tokens=True)
    table = np.empty(vocab, dtype=np.int64)
    keys: Dict[str, int] = {}
    for tid in range(vocab):
        text = tok.decode([tid], skip_special_tokens=False)
        if "\ufffd" in text:
            key = tok.id_to_token(tid)
            if key is None:
                key = text
        else:
            key = norm.normalize_str(text) or text
        table[tid] = keys.setdefault(key, len(keys))
    return table


def _is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin, exact for n < 3.3e24."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    for p in small:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def table_primes(config: Mapping[str, Any]) -> Dict[int, np.ndarray]:
    """Per Engram layer, the table size of each (order, head): int64 [N-1, K] (SPEC section 3).

    One set of used primes is shared by all layers (in layer_ids order), orders and heads; each
    (layer, order) search starts at engram_vocab_size[order-2] - 1 and each head takes the
    smallest unused prime above the current start, which then becomes the start.
    """
    n_max = int(config["max_ngram_size"])
    heads = int(config["n_head_per_ngram"])
    sizes = [int(v) for v in config["engram_vocab_size"]]
    used = set()
    out = {}
    for layer in config["layer_ids"]:
        rows = []
        for order in range(2, n_max + 1):
            start = sizes[order - 2] - 1
            row = []
            for _ in range(heads):
                c = start + 1
                while c in used or not _is_prime(c):
                    c += 1
                used.add(c)
                row.append(c)
                start = c
            rows.append(row)
        out[int(layer)] = np.array(rows, dtype=np.int64)
    return out


def layer_multipliers(config: Mapping[str, Any], compressed_vocab: int) -> Dict[int, np.ndarray]:
    """Per Engram layer, the odd hash multipliers int64 [N] (SPEC section 3)."""
    n_max = int(config["max_ngram_size"])
    seed = int(config.get("seed", 0))
    half = max(1, int(np.iinfo(np.int64).max // int(compressed_vocab)) // 2)
    out = {}
    for layer in config["layer_ids"]:
        rng = np.random.default_rng(int(seed + 10007 * int(layer)))
        r = rng.integers(low=0, high=half, size=(n_max,), dtype=np.int64)
        out[int(layer)] = r * 2 + 1
    return out


# ---------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------

def _full_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    cfg = dict(config)
    missing = [k for k in REQUIRED_FIELDS if k not in cfg]
    if missing:
        raise ValueError(f"config lacks {', '.join(missing)}")
    for k, v in DEFAULTS.items():
        cfg.setdefault(k, v)
    cfg["layer_ids"] = [int(x) for x in cfg["layer_ids"]]
    cfg["engram_vocab_size"] = [int(x) for x in cfg["engram_vocab_size"]]
    n = int(cfg["max_ngram_size"])
    if n < 2:
        raise ValueError(f"max_ngram_size {n} must be at least 2")
    if len(cfg["engram_vocab_size"]) != n - 1:
        raise ValueError(f"engram_vocab_size needs max_ngram_size - 1 = {n - 1} entries")
    if int(cfg["n_embed_per_ngram"]) % int(cfg["n_head_per_ngram"]):
        raise ValueError("n_embed_per_ngram must be a multiple of n_head_per_ngram")
    return cfg


def engram_tensor_shapes(config: Mapping[str, Any]) -> Dict[str, tuple]:
    """The shape of every trainable Engram tensor by state-dict name (SPEC section 5)."""
    cfg = _full_config(config)
    primes = table_primes(cfg)
    d = int(cfg["hidden_size"])
    hc = int(cfg["hc_mult"])
    n = int(cfg["max_ngram_size"])
    k = int(cfg["n_head_per_ngram"])
    e = (n - 1) * int(cfg["n_embed_per_ngram"])
    shapes = {}
    for layer in cfg["layer_ids"]:
        p = f"layers.{layer}.engram."
        shapes[p + "multi_head_embedding.embedding.weight"] = (int(primes[layer].sum()), int(cfg["n_embed_per_ngram"]) // k)
        shapes[p + "value_proj.weight"] = (d, e)
        shapes[p + "value_proj.bias"] = (d,)
        for m in range(hc):
            shapes[p + f"key_projs.{m}.weight"] = (d, e)
            shapes[p + f"key_projs.{m}.bias"] = (d,)
            shapes[p + f"norm1.{m}.weight"] = (d,)
            shapes[p + f"norm2.{m}.weight"] = (d,)
        if cfg.get("short_conv", True):
            shapes[p + "short_conv.conv.weight"] = (hc * d, 1, int(cfg["kernel_size"]))
            for m in range(hc):
                shapes[p + f"short_conv.norms.{m}.weight"] = (d,)
    return shapes


def random_engram_state_dict(config: Mapping[str, Any], seed: int = 0, dtype=np.float32) -> Dict[str, np.ndarray]:
    """An Engram-only state dict of random tensors of the right shapes (tests, demos)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in engram_tensor_shapes(config).items():
        if name.endswith(("norm1.0.weight",)) or ".norm" in name:
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        else:
            a = 0.02 * rng.standard_normal(shape)
        out[name] = a.astype(dtype)
    return out


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------

def _to_numpy(value) -> tuple:
    """(array, onnx data type) for a torch tensor or numpy array; bfloat16 kept as bits."""
    from onnx import TensorProto
    if hasattr(value, "detach"):  # torch.Tensor
        import torch
        t = value.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy().view(np.uint16), TensorProto.BFLOAT16
        value = t.numpy()
    a = np.ascontiguousarray(np.asarray(value))
    types = {
        np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float16): TensorProto.FLOAT16,
        np.dtype(np.float64): TensorProto.DOUBLE, np.dtype(np.int64): TensorProto.INT64,
        np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int8): TensorProto.INT8,
        np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.bool_): TensorProto.BOOL,
    }
    if a.dtype not in types:
        raise TypeError(f"unsupported dtype {a.dtype}")
    return a, types[a.dtype]


def _tensor_proto(name: str, a: np.ndarray, dt: int):
    from onnx import TensorProto
    t = TensorProto()
    t.name = name
    t.data_type = dt
    t.dims.extend(int(d) for d in a.shape)
    t.raw_data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
    return t


class _DataFile:
    """The external data file next to a model: tensors written back to back, each at an offset
    that is a multiple of `alignment`, straight from their arrays (no copy into protobuf)."""

    def __init__(self, out_path: str, alignment: int = ALIGNMENT):
        self.name = os.path.basename(out_path) + ".data"
        self.path = os.path.join(os.path.dirname(os.path.abspath(out_path)), self.name)
        self.alignment = alignment
        self.offset = 0
        self.f = None

    def add(self, t, data) -> None:
        """Writes `data` (bytes-like) and points TensorProto `t` at it."""
        from onnx import TensorProto
        if self.f is None:
            self.f = open(self.path, "wb")
        pad = (-self.offset) % self.alignment
        if pad:
            self.f.write(b"\0" * pad)
            self.offset += pad
        view = memoryview(data).cast("B")
        self.f.write(view)
        del t.external_data[:]
        for k, v in (("location", self.name), ("offset", str(self.offset)), ("length", str(view.nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        t.data_location = TensorProto.EXTERNAL
        t.ClearField("raw_data")
        self.offset += view.nbytes

    def close(self) -> None:
        if self.f is not None:
            self.f.close()
        elif os.path.exists(self.path):
            os.remove(self.path)  # a stale file of an earlier export


def save_onnx(model, out_path: str, threshold: int = EXTERNAL_THRESHOLD, check: bool = True) -> None:
    """Writes `model` with every raw_data initializer of `threshold` bytes or more moved to the
    aligned external data file `<out_path>.data`, then runs the ONNX checker on the file."""
    import onnx
    data = _DataFile(out_path)
    try:
        for t in model.graph.initializer:
            if t.HasField("raw_data"):
                raw = t.raw_data
                if len(raw) >= threshold:
                    data.add(t, raw)
    finally:
        data.close()
    with open(out_path, "wb") as f:
        f.write(model.SerializeToString())
    if check:
        onnx.checker.check_model(out_path)


def _config_json(cfg: Mapping[str, Any]) -> str:
    def plain(v):
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating,)):
            return float(v)
        if isinstance(v, (list, tuple, np.ndarray)):
            return [plain(x) for x in v]
        return v
    return json.dumps({k: plain(v) for k, v in cfg.items()}, sort_keys=False)


def engram_constants(config: Mapping[str, Any], tokenizer_path: Optional[str] = None,
                     token_map=None) -> Dict[str, np.ndarray]:
    """The Engram constants (token map, multipliers, primes) by tensor name."""
    cfg = _full_config(config)
    if token_map is None:
        if tokenizer_path is None:
            raise ValueError("pass tokenizer_path or an explicit token_map")
        token_map = compression_table(tokenizer_path)
    token_map = np.ascontiguousarray(np.asarray(token_map, dtype=np.int64))
    vocab = int(cfg["vocab_size"])
    if token_map.shape != (vocab,):
        raise ValueError(f"token map has shape {token_map.shape}, vocab_size {vocab} needs ({vocab},)")
    if token_map.min(initial=0) < 0:
        raise ValueError("token map holds negative ids")
    compressed = int(token_map.max(initial=-1)) + 1
    out = {"engram.token_map": token_map}
    mults = layer_multipliers(cfg, compressed)
    primes = table_primes(cfg)
    for layer in cfg["layer_ids"]:
        out[f"layers.{layer}.engram.multipliers"] = mults[layer]
        out[f"layers.{layer}.engram.primes"] = primes[layer]
    return out


RENAMES_KEY = "engram.renames"


def _write(graph, tensors: Mapping[str, Any], cfg: Mapping[str, Any], out_path: str,
           external_threshold: int, extra_metadata: Optional[Mapping[str, str]] = None):
    import onnx
    from onnx import helper
    replaced = set(tensors)
    keep = [t for t in graph.initializer if t.name not in replaced]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    data = _DataFile(out_path)
    try:
        # Graph initializers first (torch's), then the new tensors; big ones straight to the file.
        for t in graph.initializer:
            if t.HasField("raw_data"):
                raw = t.raw_data
                if len(raw) >= external_threshold:
                    data.add(t, raw)
        for name, value in tensors.items():
            a, dt = _to_numpy(value)
            a = a.astype(a.dtype.newbyteorder("<"), copy=False)
            if a.nbytes >= external_threshold:
                from onnx import TensorProto
                t = TensorProto()
                t.name = name
                t.data_type = dt
                t.dims.extend(int(d) for d in a.shape)
                data.add(t, np.ascontiguousarray(a).reshape(-1).view(np.uint8))
                graph.initializer.append(t)
            else:
                graph.initializer.append(_tensor_proto(name, a, dt))
    finally:
        data.close()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="engram.export")
    model.ir_version = IR_VERSION
    props = {CONFIG_KEY: _config_json(cfg)}
    props.update(extra_metadata or {})
    helper.set_model_props(model, props)
    with open(out_path, "wb") as f:
        f.write(model.SerializeToString())
    onnx.checker.check_model(out_path)
    return model


def _config_dict(config) -> Dict[str, Any]:
    if hasattr(config, "to_dict"):
        return dict(config.to_dict())
    return dict(config)


def export_engram(state_dict: Mapping[str, Any], config: Mapping[str, Any],
                  tokenizer_path: Optional[str], out_path: str, *, token_map=None,
                  external_threshold: int = EXTERNAL_THRESHOLD, check_shapes: bool = True):
    """Writes `state_dict` (+ Engram constants + config) as an ONNX model at `out_path`.

    state_dict: name -> torch tensor or numpy array (PyTorch state-dict names). It may hold only
    the Engram tensors (`layers.<l>.engram.*`): the engine then retrieves and fuses, and its
    forward answers that the model has no backbone.
    config: DeepSeek demo field names plus the backbone's (a dict, or an object with to_dict()).
    tokenizer_path: tokenizer.json (or its folder) for the compression table; when None,
    pass `token_map` (int64 [vocab_size]) instead, e.g. for synthetic vocabularies.
    The file has no graph nodes (ONNX Runtime has nothing to run); `export_model` writes a
    runnable graph. Returns the onnx ModelProto written (external tensors without data).
    """
    from onnx import helper
    cfg = _full_config(_config_dict(config))
    if check_shapes:
        want = engram_tensor_shapes(cfg)
        for name, value in state_dict.items():
            if name in want:
                shape = tuple(int(d) for d in value.shape)
                if shape != want[name]:
                    raise ValueError(f"{name} has shape {shape}, the config implies {want[name]}")
        missing = [n for n in want if n not in state_dict]
        if missing:
            raise ValueError(f"state dict lacks {len(missing)} Engram tensors, e.g. {missing[0]}")
    tensors = dict(state_dict)
    tensors.update(engram_constants(cfg, tokenizer_path, token_map))
    graph = helper.make_graph([], "engram", [], [])
    return _write(graph, tensors, cfg, out_path, external_threshold)


def find_renames(graph, state_dict: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """How to rebuild each state-dict tensor that torch.onnx.export (constant folding) removed,
    from the graph's initializers, found by value:

      {"to": name, "op": "transpose", "from": [init]}        a 2-D weight stored as W^T
      {"to": name, "op": "concat", "from": [init, ...]}      flattened pieces in order
                                                              (e.g. scale[0], scale[1], ...)
    Stored as JSON in metadata_props "engram.renames"; the importer applies it, then falls back
    to the node scopes for anything left."""
    from onnx import numpy_helper
    present = {t.name for t in graph.initializer}
    others = {}
    for t in graph.initializer:
        if t.name not in state_dict:
            others[t.name] = numpy_helper.to_array(t)
    out = []
    for name, value in state_dict.items():
        if name in present:
            continue
        a, _ = _to_numpy(value)
        if a.dtype.kind != "f":
            continue
        rule = None
        if a.ndim == 2:
            for k, o in others.items():
                if o.shape == a.T.shape and o.dtype == a.dtype and np.array_equal(o, a.T):
                    rule = {"to": name, "op": "transpose", "from": [k]}
                    break
        if rule is None:
            flat = a.reshape(-1)
            pieces, pos = [], 0
            cands = sorted(((k, o.reshape(-1)) for k, o in others.items() if o.dtype == a.dtype and 0 < o.size <= flat.size),
                           key=lambda kv: -kv[1].size)
            while pos < flat.size:
                for k, o in cands:
                    if pos + o.size <= flat.size and np.array_equal(flat[pos:pos + o.size], o):
                        pieces.append(k)
                        pos += o.size
                        break
                else:
                    break
            if pos == flat.size and pieces:
                rule = {"to": name, "op": "concat", "from": pieces}
        if rule is not None:
            rule["shape"] = [int(d) for d in a.shape]
            out.append(rule)
    return out


def export_model(model, config, tokenizer_path: Optional[str], out_path: str, *, token_map=None,
                 do_constant_folding: bool = True, seq_len: int = 5,
                 external_threshold: int = EXTERNAL_THRESHOLD):
    """Exports a whole PyTorch model (the reference `engram.reference.EngramLM`) with
    torch.onnx.export (TorchScript exporter, opset 17, IR 8), so ONNX Runtime can run the same
    file, and adds the Engram constants and the config.

    Graph inputs: `input_ids` int64 [B, T] and `engram_hash_ids` int64 [B, T, len(layer_ids),
    (N-1)*K] (the hash indices of SPEC section 3, computed outside the graph); output `logits`.
    With constant folding, torch renames and transposes weights (a Linear's W becomes a MatMul
    operand W^T named `onnx::MatMul_<n>`, mHC scales become scalars); the file records how to
    rebuild every state-dict tensor (metadata "engram.renames", see `find_renames`).
    """
    import tempfile

    import onnx
    import torch
    cfg = _full_config(_config_dict(config))
    state = {k: v for k, v in model.state_dict().items()}
    n_layers = len(cfg["layer_ids"])
    heads = (int(cfg["max_ngram_size"]) - 1) * int(cfg["n_head_per_ngram"])
    ids = torch.randint(0, int(cfg["vocab_size"]), (1, seq_len), generator=torch.Generator().manual_seed(0))
    hashes = torch.zeros((1, seq_len, n_layers, heads), dtype=torch.int64)
    was_training = model.training
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "torch.onnx")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is legacy
            torch.onnx.export(model, (ids, hashes), path, dynamo=False, opset_version=OPSET,
                              do_constant_folding=do_constant_folding,
                              input_names=["input_ids", "engram_hash_ids"], output_names=["logits"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                            "engram_hash_ids": {0: "batch", 1: "seq"},
                                            "logits": {0: "batch", 1: "seq"}})
        exported = onnx.load(path)
    model.train(was_training)
    graph = exported.graph
    renames = find_renames(graph, state)
    for t in graph.initializer:  # back to raw_data, so the big ones can move to the data file
        if not t.HasField("raw_data") and t.data_location != onnx.TensorProto.EXTERNAL:
            from onnx import numpy_helper
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
    consts = engram_constants(cfg, tokenizer_path, token_map)
    extra = {RENAMES_KEY: json.dumps(renames)} if renames else {}
    return _write(graph, consts, cfg, out_path, external_threshold, extra)


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------

def _load_state_dict(path: str) -> Dict[str, Any]:
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    import torch
    sd = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(sd, dict):
        raise ValueError(f"{path} does not hold a state dict")
    return sd


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engram.export",
                                description="Export Engram weights to an ONNX file for libengram.")
    p.add_argument("--config", required=True, help="config JSON (DeepSeek demo field names + backbone)")
    p.add_argument("--state-dict", help="torch state dict (.pt) or numpy archive (.npz)")
    p.add_argument("--random", action="store_true", help="random Engram-only weights (demos, tests)")
    p.add_argument("--seed", type=int, default=0, help="seed of --random")
    p.add_argument("--tokenizer", help="tokenizer.json (or its folder) for the compression table")
    p.add_argument("--token-map", help="explicit token map (.npy int64 [vocab_size]) instead of --tokenizer")
    p.add_argument("--external-threshold", type=int, default=EXTERNAL_THRESHOLD,
                   help="tensors of this many bytes or more go to the external data file")
    p.add_argument("--graph", action="store_true",
                   help="export the whole reference model (engram.reference.EngramLM) with torch.onnx.export, "
                        "so ONNX Runtime can run the file too")
    p.add_argument("--no-constant-folding", action="store_true", help="with --graph: keep every weight's name")
    p.add_argument("--out", required=True, help="output .onnx path")
    a = p.parse_args(argv)
    with open(a.config) as f:
        cfg = json.load(f)
    if a.random == bool(a.state_dict):
        p.error("pass exactly one of --state-dict and --random")
    tm = np.load(a.token_map) if a.token_map else None
    if tm is None and not a.tokenizer:
        p.error("pass --tokenizer or --token-map")
    if a.graph:
        R = _reference_module()
        rcfg = R.EngramConfig.from_dict(cfg)
        model = R.EngramLM(rcfg)
        if a.random:
            R.randomize_(model, seed=a.seed)
        else:
            model.load_state_dict(_load_state_dict(a.state_dict))
        full = dict(cfg)
        full.update(rcfg.to_dict())
        export_model(model, full, a.tokenizer, a.out, token_map=tm, external_threshold=a.external_threshold,
                     do_constant_folding=not a.no_constant_folding)
        print(f"wrote {a.out} (reference model graph, {len(model.state_dict())} tensors + Engram constants)")
        return 0
    sd = random_engram_state_dict(cfg, a.seed) if a.random else _load_state_dict(a.state_dict)
    export_engram(sd, cfg, a.tokenizer, a.out, token_map=tm, external_threshold=a.external_threshold)
    print(f"wrote {a.out} ({len(sd)} tensors + Engram constants)")
    return 0


def _reference_module():
    """engram/reference.py, loaded by path (like this module, without the package)."""
    import importlib.util
    name = "engram_reference_for_export"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


if __name__ == "__main__":
    sys.exit(main())
