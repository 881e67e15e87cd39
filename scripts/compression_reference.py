#!/usr/bin/env python3
"""Prints (or saves as .npy) the SPEC section 2 compression table of a tokenizer.json, built
with Hugging Face `tokenizers` only: the reference the engine's table must equal.

    .venv/bin/python scripts/compression_reference.py TOKENIZER_JSON [OUT.npy]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bindings/python/tests"))
from tokenizer_fixtures import compression_reference  # noqa: E402

if __name__ == "__main__":
    table, count = compression_reference(sys.argv[1])
    print(f"{len(table)} ids -> {count} compressed ids ({100 * (1 - count / len(table)):.2f}% fewer)")
    if len(sys.argv) > 2:
        import numpy as np
        np.save(sys.argv[2], np.asarray(table, dtype=np.int64))
