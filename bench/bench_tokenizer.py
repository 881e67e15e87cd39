#!/usr/bin/env python3
"""Tokenizer benchmark: single-thread encode throughput (MB/s) of libengram against Hugging
Face `tokenizers` on the same > 1 MB mixed corpus in the same run, and load times.

Both encode whole documents one call at a time from Python (ctypes vs the tokenizers
binding), so each includes its own binding overhead; `tokenizers` is pinned to one thread
(RAYON_NUM_THREADS=1; single encode calls do not parallelise anyway).
"""
import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bindings/python/tests"))

from tokenizers import Tokenizer as HFTokenizer  # noqa: E402

import engram  # noqa: E402
import tokenizer_fixtures as fx  # noqa: E402


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    docs = fx.corpus()
    blobs = [d.encode("utf-8") for d in docs]
    mb = sum(map(len, blobs)) / 1e6
    print(f"corpus: {len(docs)} documents, {mb:.2f} MB")
    print(f"{'tokenizer':<12} {'load ms':>8} {'hf load ms':>10} {'MB/s':>8} {'hf MB/s':>8} {'ratio':>6}")
    for name, path in fx.tokenizer_files().items():
        load = best_of(lambda: engram.Tokenizer.from_file(path), 3)
        hf_load = best_of(lambda: HFTokenizer.from_file(str(path)), 3)
        ours, hf = engram.Tokenizer.from_file(path), HFTokenizer.from_file(str(path))
        ours.encode_bytes(blobs[0])
        hf.encode(docs[0])
        t_ours = best_of(lambda: [ours.encode_bytes(b) for b in blobs])
        t_hf = best_of(lambda: [hf.encode(d, add_special_tokens=False) for d in docs])
        print(f"{name:<12} {load * 1e3:8.0f} {hf_load * 1e3:10.0f} {mb / t_ours:8.2f} {mb / t_hf:8.2f} "
              f"{t_hf / t_ours:5.2f}x")
    print("ratio = libengram encode throughput / tokenizers encode throughput (higher is better)")


if __name__ == "__main__":
    main()
