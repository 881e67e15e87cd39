"""generate.py - streams a model's continuation of a prompt (the Python twin of
examples/c/generate.c).

    python generate.py [MODEL_DIR] ["prompt"] [max_new_tokens]
"""
import os
import sys
from pathlib import Path

import engram

model_dir = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ENGRAM_MODEL", Path(__file__).parent.parent / "model"))
prompt = sys.argv[2] if len(sys.argv) > 2 else "The cat sat on the mat."
max_new = int(sys.argv[3]) if len(sys.argv) > 3 else 48

tok = engram.Tokenizer.from_file(model_dir / "tokenizer.json")
stop = tok.token_to_id("<|endoftext|>")
with engram.Model(model_dir / "model.onnx") as model, engram.Context(model, max_length=512) as ctx:
    print(prompt, end="", flush=True)
    n = 0
    for token in ctx.generate(tok.encode(prompt), max_new_tokens=max_new, temperature=0.8, top_k=40, seed=42,
                              stop_tokens=[stop] if stop is not None else []):
        if token != stop:
            print(tok.decode([token]), end="", flush=True)
        n += 1
    print(f"\n[{n} tokens]")
