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


def prose_corpus():
    """Plain English only (the licenses in /usr/share/common-licenses, repeated to 1 MB),
    ~4 KB documents."""
    import glob
    text = "\n".join(Path(p).read_text(encoding="utf-8", errors="replace")
                     for p in sorted(glob.glob("/usr/share/common-licenses/*")) if Path(p).is_file())
    text = (text + "\n") * (1 + 1_000_000 // max(1, len(text)))
    return [text[i:i + 4000] for i in range(0, len(text), 4000)]


def main():
    for label, docs in [("mixed corpus (tests' corpus)", fx.corpus()), ("English prose", prose_corpus())]:
        run(label, docs)
    print("ratio = libengram encode throughput / tokenizers encode throughput (higher is better)")


def run(label, docs):
    blobs = [d.encode("utf-8") for d in docs]
    mb = sum(map(len, blobs)) / 1e6
    print(f"{label}: {len(docs)} documents, {mb:.2f} MB")
    print(f"{'tokenizer':<12} {'load ms':>8} {'hf load ms':>10} {'MB/s':>8} {'hf MB/s':>8} {'ratio':>6}")
    for name, path in fx.tokenizer_files().items():
        load = best_of(lambda: engram.Tokenizer.from_file(path), 3)
        hf_load = best_of(lambda: HFTokenizer.from_file(str(path)), 3)
        ours, hf = engram.Tokenizer.from_file(path), HFTokenizer.from_file(str(path))
        ours.encode_bytes(blobs[0])
        hf.encode(docs[0])
        # interleaved rounds, best of each: a busy machine slows both alike
        t_ours = t_hf = float("inf")
        for _ in range(3):
            t_ours = min(t_ours, best_of(lambda: [ours.encode_bytes(b) for b in blobs], 1))
            t_hf = min(t_hf, best_of(lambda: [hf.encode(d, add_special_tokens=False) for d in docs], 1))
        print(f"{name:<12} {load * 1e3:8.0f} {hf_load * 1e3:10.0f} {mb / t_ours:8.2f} {mb / t_hf:8.2f} "
              f"{t_hf / t_ours:5.2f}x")


if __name__ == "__main__":
    main()
