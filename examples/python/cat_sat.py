"""cat_sat.py - walks "The cat sat on the mat." through every stage of an Engram model:
tokenize, compress, hash, retrieve, fuse and forward (the Python twin of examples/c/cat_sat.c).

    python cat_sat.py [MODEL_DIR]      (MODEL_DIR holds model.onnx and tokenizer.json;
                                        default: $ENGRAM_MODEL, else examples/model)
"""
import os
import sys
from pathlib import Path

import numpy as np

import engram

model_dir = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ENGRAM_MODEL", Path(__file__).parent.parent / "model"))
text = "The cat sat on the mat."
print("libengram", engram.version())

tok = engram.Tokenizer.from_file(model_dir / "tokenizer.json")
ids = tok.encode(text)
print(f'\n1. tokenize "{text}" -> {len(ids)} tokens')
for t, i in enumerate(ids):
    print(f"   [{t}] id {i:5d}  {tok.decode([i])!r}")

with engram.Model(model_dir / "model.onnx") as model:
    layer = model.layer_ids[0]
    print("\n2. compress ->", model.compress(ids).tolist())

    rows = model.row_ids(ids, layer)                # int64 [T, (N-1)*K]
    print(f"\n3. hash (layer {layer}): {rows.shape[1]} heads per token, table rows:")
    for t, r in enumerate(rows):
        print(f"   [{t}]", " ".join(map(str, r)))

    vectors = model.retrieve(ids, layer)            # float32 [T, (N-1)*E]
    print(f"\n4. retrieve -> {vectors.shape}; token 0 starts with", " ".join(f"{v:.4f}" for v in vectors[0, :3]))

    cfg = model.config
    hc, d = cfg.get("hc_mult", 1), cfg["hidden_size"]
    hidden = np.sin(np.arange(len(ids) * hc * d, dtype=np.float32) * 0.01).reshape(len(ids), hc, d)
    y, gates = model.fuse(hidden, ids, layer)       # [T, hc, D], [T, hc]
    print(f"\n5. fuse (layer {layer}) -> gate per token (stream 0):", " ".join(f"{g:.3f}" for g in gates[:, 0]))

    with engram.Context(model, max_length=256) as ctx:
        logits = ctx.forward(ids)                   # float32 [T, V]
        best = int(np.argmax(logits[-1]))
        print(f"\n6. forward -> logits {logits.shape}; most likely next token: id {best} {tok.decode([best])!r}")
