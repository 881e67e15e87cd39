#!/usr/bin/env python3
"""The tiny model of the `forward` fuzz harness (and of tests/c/test_badargs.c,
test_threads.c, tests/memcheck.sh): a random reference EngramLM (vocab 64, hidden 16,
hc_mult 2, two layers with Engram on layer 0 and 1) exported with the project's exporter.

    .venv/bin/python fuzz/make_model.py [OUT_DIR [MAX_POSITIONS [TOKENIZER]]]   (default fuzz/model, 32)

With TOKENIZER (any third argument) a tokenizer.json of 64 single-character tokens (letters,
digits, "." and the byte-level space) is written beside it, so the C examples can run on it
(tests/memcheck.sh, when examples/model is absent).

The file is committed (a few tens of KB) so the fuzz build needs no Python at run time.
"""
import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def tokenizer(path):
    import json
    import string
    chars = list(string.ascii_lowercase) + list(string.ascii_uppercase) + ["\u0120", "."] + list(string.digits)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
           "pre_tokenizer": byte_level, "post_processor": None, "decoder": byte_level,
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                     "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                     "vocab": {c: i for i, c in enumerate(chars)}, "merges": []}}
    with open(path, "w") as f:
        json.dump(tok, f)


def main(out, max_positions=32, with_tokenizer=False):
    R = load("engram_reference_fz", os.path.join(ROOT, "bindings/python/engram/reference.py"))
    E = load("engram_export_fz", os.path.join(ROOT, "bindings/python/engram/export.py"))
    cfg = R.EngramConfig(engram_vocab_size=[97, 101], max_ngram_size=3, n_embed_per_ngram=8, n_head_per_ngram=2,
                         layer_ids=[0, 1], hidden_size=16, hc_mult=2, vocab_size=64, num_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, intermediate_size=24,
                         pad_id=2, seed=5, max_position_embeddings=max_positions)
    model = R.randomize_(R.EngramLM(cfg), seed=11).eval()
    rng = np.random.default_rng(1)
    tm = np.concatenate([np.arange(48), rng.integers(0, 48, 16)]).astype(np.int64)
    os.makedirs(out, exist_ok=True)
    E.export_model(model, cfg.to_dict(), None, os.path.join(out, "model.onnx"), token_map=tm)
    if with_tokenizer:
        tokenizer(os.path.join(out, "tokenizer.json"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz/model"),
         int(sys.argv[2]) if len(sys.argv) > 2 else 32, len(sys.argv) > 3)
