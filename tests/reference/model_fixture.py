"""Small exported models for the C and Python tests of the memory pipeline, with expected
values from the independent numpy reference (ngram_hash.py), never from the engine.

    .venv/bin/python tests/reference/model_fixture.py OUT_DIR

writes OUT_DIR/<name>/model.onnx (+ .data) and OUT_DIR/<name>/expect.txt (for C: lines
`key n v1 ... vn`, integers; float vectors as float32 bit patterns).
The model goes through the project's exporter (bindings/python/engram/export.py, loaded by
path so libengram is not needed); the token map, tables and expectations come from here.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import ngram_hash as R  # noqa: E402


def load_exporter():
    spec = importlib.util.spec_from_file_location("engram_export", ROOT / "bindings/python/engram/export.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_table(rng, rows, width, dtype):
    """(value for the exporter, float32 values the engine must return)."""
    v = (rng.standard_normal((rows, width)) * 2).astype(np.float32)
    if dtype == "f32":
        return v, v
    if dtype == "f16":
        h = v.astype(np.float16)
        return h, h.astype(np.float32)
    import torch
    t = torch.from_numpy(v).to(torch.bfloat16)
    return t, t.to(torch.float32).numpy()


def build(out_dir, *, seed=0, N=3, K=2, width=4, layer_ids=(1, 3), vocab=300, compressed=211, pad_id=2,
          starts=None, dtype="f32", map_seed=0):
    """Exports a model; returns (path, HashConfig, {layer: float32 table}, primes)."""
    ex = load_exporter()
    starts = list(starts or [257, 263, 269][: N - 1])
    rng = np.random.default_rng(map_seed)
    token_map = R.random_token_map(vocab, compressed, rng)
    cfg = dict(engram_vocab_size=starts, max_ngram_size=N, n_embed_per_ngram=K * width, n_head_per_ngram=K,
               layer_ids=list(layer_ids), pad_id=pad_id, seed=seed, kernel_size=4, hidden_size=8, hc_mult=1,
               vocab_size=vocab, num_layers=max(layer_ids) + 1)
    ref = R.HashConfig(vocab_size=vocab, engram_vocab_size=starts, max_ngram_size=N, n_head_per_ngram=K,
                       n_embed_per_ngram=K * width, layer_ids=list(layer_ids), pad_id=pad_id, seed=seed,
                       token_map=token_map)
    primes = ref.primes()
    sd = ex.random_engram_state_dict(cfg, seed)
    tables = {}
    for l in layer_ids:
        rows = sum(sum(h) for h in primes[l])
        value, f32 = make_table(rng, rows, width, dtype)
        sd[f"layers.{l}.engram.multi_head_embedding.embedding.weight"] = value
        tables[l] = f32
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    ex.export_engram(sd, cfg, None, path, token_map=token_map)
    return path, ref, tables, primes


def write_expect(out_dir, ref, tables, primes):
    rng = np.random.default_rng(5)
    ids = rng.integers(0, ref.vocab_size, size=23)
    ids[0] = ref.pad_id
    lines = [f"vocab_size 1 {ref.vocab_size}", f"ids {len(ids)} " + " ".join(map(str, ids)),
             f"compressed {len(ids)} " + " ".join(map(str, R.compress(ids, ref.token_map))),
             f"layers {len(ref.layer_ids)} " + " ".join(map(str, ref.layer_ids))]
    for l in ref.layer_ids:
        h = ref.hash(ids, l, primes)
        rid = R.row_ids(h, primes[l])
        vec = R.retrieve(tables[l], rid)
        lines.append(f"hash_{l} {h.size} " + " ".join(map(str, h.reshape(-1))))
        lines.append(f"rows_{l} {rid.size} " + " ".join(map(str, rid.reshape(-1))))
        lines.append(f"vec_{l} {vec.size} " + " ".join(map(str, vec.view(np.uint32).reshape(-1))))
    with open(os.path.join(out_dir, "expect.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    out = argv[1] if len(argv) > 1 else "build/fixtures/memory"
    for name, kw in {"f32_n3": dict(dtype="f32", starts=[20011, 30011]), "bf16_n4": dict(dtype="bf16", N=4, K=3, width=2, pad_id=0, seed=5),
                     "f16_n2": dict(dtype="f16", N=2, K=1, width=5, layer_ids=(0,), pad_id=299, seed=9)}.items():
        d = os.path.join(out, name)
        path, ref, tables, primes = build(d, **kw)
        write_expect(d, ref, tables, primes)
        print(path)


if __name__ == "__main__":
    main(sys.argv)
