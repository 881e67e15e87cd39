"""Writes tests/fixtures/ngram_hash_cases.json: expected compression, hashes, row ids and
retrieved rows computed by the independent numpy reference (tests/reference/ngram_hash.py).

    .venv/bin/python tests/reference/make_hash_fixtures.py

Model cases (a whole small model: token map, multipliers, primes, tables) cover seeds,
layer ids, N in {2, 3, 4}, K in {1, 4, 8}, pad ids, sequences shorter than N and float32 /
float16 / bfloat16 tables. Hasher cases use the demo's real sizes and arbitrary int64
multipliers (wrapping products, negative mixes) on the hashing step alone.
Numbers that must be exact are stored as integers (float bit patterns for tables/vectors).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ngram_hash as R  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "ngram_hash_cases.json"


def table_bits(rng, rows, width, dtype):
    """A random table as (raw bit patterns list, float32 bit patterns of its values)."""
    vals = rng.standard_normal((rows, width)).astype(np.float32) * np.float32(3)
    # A few special values: zero, negative zero, tiny, huge.
    flat = vals.reshape(-1)
    specials = np.array([0.0, -0.0, 1e-7, -6e4, 65504.0, 1.5e-5], dtype=np.float32)
    flat[: min(len(flat), len(specials))] = specials[: min(len(flat), len(specials))]
    if dtype == "f32":
        raw = flat.view(np.uint32)
        f32 = flat
    elif dtype == "f16":
        h = flat.astype(np.float16)
        raw = h.view(np.uint16)
        f32 = h.astype(np.float32)
    else:  # bf16: keep the upper 16 bits (a bf16 value), then widen exactly
        raw = (flat.view(np.uint32) >> 16).astype(np.uint16)
        f32 = (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.astype(np.int64).tolist(), f32, raw


def model_case(idx, seed, N, K, width, layer_ids, vocab, compressed, pad_id, dtype, starts):
    rng = np.random.default_rng(1000 + idx)
    token_map = R.random_token_map(vocab, compressed, rng)
    cfg = R.HashConfig(vocab_size=vocab, engram_vocab_size=starts, max_ngram_size=N, n_head_per_ngram=K,
                       n_embed_per_ngram=K * width, layer_ids=layer_ids, pad_id=pad_id, seed=seed,
                       token_map=token_map)
    primes = cfg.primes()
    seqs = [
        rng.integers(0, vocab, size=37),                       # random
        np.array([pad_id]),                                     # one token: the pad itself
        rng.integers(0, vocab, size=max(1, N - 1)),             # shorter than N
        np.array([0, vocab - 1, 0, vocab - 1, pad_id, pad_id, 1 % vocab]),  # edges and repeats
        np.tile(rng.integers(0, vocab, size=3), 5),            # a repeated n-gram
    ]
    layers = {}
    tables = {}
    for l in layer_ids:
        layers[str(l)] = {"multipliers": [int(x) for x in cfg.multipliers(l)], "primes": primes[l]}
        rows = sum(sum(h) for h in primes[l])
        raw_list, f32, _ = table_bits(rng, rows, width, dtype)
        tables[str(l)] = {"raw": raw_list, "f32": f32.view(np.uint32).astype(np.int64).tolist()}
    out_seqs = []
    for s in seqs:
        s = np.asarray(s, dtype=np.int64)
        entry = {"ids": s.tolist(), "compressed": R.compress(s, token_map).tolist(), "hashes": {}, "row_ids": {}, "vectors": {}}
        for l in layer_ids:
            h = cfg.hash(s, l, primes)
            rid = R.row_ids(h, primes[l])
            entry["hashes"][str(l)] = h.reshape(-1).tolist()
            entry["row_ids"][str(l)] = rid.reshape(-1).tolist()
            f32 = np.array(tables[str(l)]["f32"], dtype=np.uint32).view(np.float32).reshape(-1, width)
            vec = R.retrieve(f32, rid)
            entry["vectors"][str(l)] = vec.view(np.uint32).reshape(-1).astype(np.int64).tolist()
        out_seqs.append(entry)
    return {
        "name": f"model{idx}_seed{seed}_N{N}_K{K}_w{width}_{dtype}_pad{pad_id}",
        "config": {
            "vocab_size": vocab, "hidden_size": 8, "engram_vocab_size": starts, "max_ngram_size": N,
            "n_embed_per_ngram": K * width, "n_head_per_ngram": K, "layer_ids": layer_ids,
            "pad_id": pad_id, "seed": seed,
        },
        "compressed_vocab_size": compressed,
        "pad_compressed": cfg.pad_compressed,
        "token_map": token_map.tolist(),
        "dtype": dtype,
        "layers": layers,
        "tables": {l: t["raw"] for l, t in tables.items()},
        "sequences": out_seqs,
    }


def hasher_case(name, multipliers, primes, pad_compressed, seqs, history=None):
    out = []
    for s in seqs:
        s = np.asarray(s, dtype=np.int64)
        h = R.ngram_hashes(s, np.asarray(multipliers, dtype=np.int64), primes, pad_compressed, history)
        out.append({"compressed": s.tolist(), "hashes": h.reshape(-1).tolist(),
                    "row_ids": R.row_ids(h, primes).reshape(-1).tolist()})
    return {"name": name, "multipliers": [int(m) for m in multipliers], "primes": primes,
            "pad_compressed": int(pad_compressed), "history": list(history or []), "sequences": out}


def main():
    cases = []
    idx = 0
    dtypes = ["f32", "f16", "bf16"]
    layer_sets = [[0], [1, 15], [3, 5, 9]]
    for si, seed in enumerate([0, 7, 12345]):
        for N in (2, 3, 4):
            for K in (1, 4, 8):
                vocab = [50, 700, 3000][(idx + si) % 3]
                compressed = max(1, int(vocab * [0.77, 0.5, 1.0][idx % 3]))
                pad_id = [0, 2, vocab - 1][(idx + N) % 3]
                starts = [[31, 37, 53], [101, 97, 211], [64, 64, 64]][(idx + K) % 3][: N - 1]
                width = [1, 3, 4][(idx + 2 * si) % 3]
                cases.append(model_case(idx, seed, N, K, width, layer_sets[(idx + si) % 3], vocab, compressed,
                                        pad_id, dtypes[idx % 3], starts))
                idx += 1

    # The demo's real sizes: V' = 98627, starts 129280*5, layers [1, 15], N = 3, K = 8.
    rng = np.random.default_rng(99)
    demo_primes = R.table_primes([129280 * 5] * 2, 3, 8, [1, 15])
    hashers = []
    for l in (1, 15):
        m = R.layer_multipliers(0, l, 98627, 3)
        seqs = [rng.integers(0, 98627, size=64), np.array([98626, 98626, 0, 98626]), np.array([5])]
        hashers.append(hasher_case(f"demo_layer{l}", m, demo_primes[l], pad_compressed=2, seqs=seqs))
    # Arbitrary int64 multipliers: products wrap, mixes go negative, the modulo must not.
    for N in (2, 3, 4):
        m = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=N, dtype=np.int64, endpoint=True)
        m[0] = np.iinfo(np.int64).min + 1 if N == 2 else m[0]
        primes = R.table_primes([1 << 40, (1 << 33) + 7, 1000003][: N - 1], N, 3, [0])[0]
        seqs = [rng.integers(0, 1 << 31, size=50), np.array([(1 << 31) - 1] * 6)]
        hashers.append(hasher_case(f"wrap_N{N}", m, primes, pad_compressed=int(rng.integers(0, 1 << 31)), seqs=seqs))
    # With a streaming history (the ids before the sequence, most recent last).
    m = R.layer_multipliers(3, 2, 1000, 4)
    primes = R.table_primes([500, 600, 700], 4, 2, [2])[2]
    hashers.append(hasher_case("history_N4", m, primes, pad_compressed=7,
                               seqs=[np.array([1, 2, 3, 4, 5]), np.array([9])], history=[11, 12, 13]))

    doc = {"generator": "tests/reference/make_hash_fixtures.py", "model_cases": cases, "hasher_cases": hashers}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, separators=(",", ":")))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(cases)} model cases, {len(hashers)} hasher cases")


if __name__ == "__main__":
    main()
