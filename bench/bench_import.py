#!/usr/bin/env python3
"""Model loading benchmark: libengram's ONNX importer (`engram inspect --json`: parse with
libonnx, check, map the external data, validate every tensor) vs the `onnx` Python package
on the same file (onnx.load with and without reading the external data), on an Engram-only
model with ~1 GiB of tables (the DeepSeek demo's layer shapes with smaller tables).

Prints wall time and peak RSS of each (each in a fresh process, best of 3), and the ratios
engram / peer. The engine maps the tables: its time and memory do not grow with their size.
Env: ENGRAM_BENCH_SMALL=1 for a ~64 MiB model (smoke run). The model is cached in build/bench/.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "build/stage/bin/engram"
SMALL = os.environ.get("ENGRAM_BENCH_SMALL") == "1"
OUT = ROOT / "build/bench" / ("import_small" if SMALL else "import")


def exporter():
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    from engram import export
    return export


def make_model():
    path = OUT / "model.onnx"
    if path.exists():
        return path
    ex = exporter()
    start = 16411 if SMALL else 131101
    cfg = dict(engram_vocab_size=[start, start], max_ngram_size=3, n_embed_per_ngram=512, n_head_per_ngram=8,
               layer_ids=[1, 15], pad_id=2, seed=0, hidden_size=1024, hc_mult=4, vocab_size=4096, num_layers=30)
    shapes = ex.engram_tensor_shapes(cfg)
    rng = np.random.default_rng(0)
    sd = {k: rng.standard_normal(v, dtype=np.float32) * 0.02 for k, v in shapes.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    ex.export_engram(sd, cfg, None, str(path), token_map=np.arange(4096) // 2)
    return path


PEERS = {
    "onnx.load (external data read)": "import onnx, sys; onnx.load(sys.argv[1])",
    "onnx.load (proto only)": "import onnx, sys; onnx.load(sys.argv[1], load_external_data=False)",
}


def run(cmd):
    """(seconds, peak RSS in KiB) of a fresh process, best of 3."""
    best = None
    for _ in range(3):
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed: {p.stderr}")
        rss = int(p.stderr.strip().splitlines()[-1])
        best = (dt, rss) if best is None or dt < best[0] else best
    return best


def main():
    if not CLI.exists():
        raise SystemExit(f"{CLI} missing: run `make stage` first")
    path = make_model()
    data = sum(f.stat().st_size for f in OUT.iterdir() if f.name.startswith("model.onnx"))
    info = json.loads(subprocess.run([str(CLI), "inspect", "--json", str(path)], capture_output=True, text=True, check=True).stdout)
    print(f"model: {path} ({data / 2**20:.0f} MiB; {info['mapped_bytes'] / 2**20:.0f} MiB mapped, "
          f"{info['inline_bytes'] / 2**20:.1f} MiB inline, {info['copied_bytes']} B copied)")
    # The peers' start-up (Python + `import onnx`) is measured too, so they can be read net of it.
    base = run([sys.executable, "-c", "import onnx"])
    ours = run([str(CLI), "inspect", "--json", str(path)])
    print(f"  {'engram inspect (libonnx parse+check, map, validate)':55s} {ours[0] * 1000:8.1f} ms  {ours[1] / 1024:7.1f} MiB RSS")
    print(f"  {'python -c import-onnx (start-up of the peers)':55s} {base[0] * 1000:8.1f} ms  {base[1] / 1024:7.1f} MiB RSS")
    for name, code in PEERS.items():
        t, rss = run([sys.executable, "-c", code, str(path)])
        net = t - base[0]
        net_ratio = f"{ours[0] / net:.3f}" if net > 0.01 else "n/a (within start-up noise)"
        print(f"  {name:55s} {t * 1000:8.1f} ms  {rss / 1024:7.1f} MiB RSS   "
              f"engram/peer time {ours[0] / t:.3f} (net of start-up {net_ratio}), RSS {ours[1] / rss:.3f}")


if __name__ == "__main__":
    main()
