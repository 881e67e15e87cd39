#!/usr/bin/env python3
"""Forward benchmark: libengram vs ONNX Runtime (same exported file, same thread count) and
PyTorch eager (the reference model), on a ~100M-parameter backbone plus Engram tables.

Prints, measured in this run:
  * prefill tokens/s for a 512-token prompt (all logits, as the ONNX graph computes them; plus
    libengram's last-position-only prefill), ratios engram / peer;
  * per-token decode latency after the prompt (libengram and PyTorch with KV caches; the
    exported graph has no cache, so ONNX Runtime re-runs the prefix: shown for reference);
  * the memory-bandwidth bound of decode: bytes read per token / bandwidth measured here
    (numpy/BLAS streaming reads), and libengram's latency / that bound (goal <= 2).

Env: ENGRAM_BENCH_THREADS (default: the machine's cores), ENGRAM_BENCH_ROUNDS (interleaved
prefill rounds, default 7), ENGRAM_BENCH_SMALL=1 (tiny model, for a smoke run). The exported model is cached in build/bench/.
"""
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import engram  # noqa: E402
from engram import export  # noqa: E402
from engram import reference as R  # noqa: E402
from np_hashing import hash_ids  # noqa: E402

THREADS = int(os.environ.get("ENGRAM_BENCH_THREADS", "0")) or os.cpu_count() or 1
SMALL = os.environ.get("ENGRAM_BENCH_SMALL") == "1"
PROMPT = 64 if SMALL else 512
DECODE = 8 if SMALL else 32
ROUNDS = int(os.environ.get("ENGRAM_BENCH_ROUNDS", "3" if SMALL else "7"))

CONFIG = dict(
    engram_vocab_size=[50021, 50021], max_ngram_size=3, n_embed_per_ngram=256, n_head_per_ngram=4,
    layer_ids=[1, 6], pad_id=0, seed=0, kernel_size=4,
    hidden_size=768, hc_mult=4, vocab_size=32000, num_layers=12,
    num_attention_heads=12, num_key_value_heads=4, head_dim=64, intermediate_size=2048,
    tie_word_embeddings=True, max_position_embeddings=1024,
)
if SMALL:
    CONFIG.update(hidden_size=128, num_layers=2, layer_ids=[1], intermediate_size=256, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=32, vocab_size=2000, engram_vocab_size=[1009, 1013])


def build():
    cfg = R.EngramConfig(**CONFIG)
    torch.manual_seed(0)
    model = R.randomize_(R.EngramLM(cfg), seed=0, scale=0.5).eval()
    V = cfg.vocab_size
    token_map = (np.arange(V) * 3 // 4).astype(np.int64)     # a surjective map V -> 3V/4
    key = hashlib.sha1(json.dumps(CONFIG, sort_keys=True).encode()).hexdigest()[:10]
    out = ROOT / "build" / "bench" / f"forward_{key}.onnx"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        export.export_model(model, cfg.to_dict(), None, str(out), token_map=token_map)
        print(f"exported {out.name} in {time.perf_counter() - t:.1f} s")
    return cfg, model, token_map, str(out)


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bandwidth():
    """Streaming read bandwidth (bytes/s): best of numpy sum and BLAS dot over 512 MiB."""
    n = (64 if SMALL else 512) * (1 << 20) // 4
    a = np.ones(n, dtype=np.float32)
    b = np.ones(n, dtype=np.float32)
    a.sum(); np.dot(a, b)
    t_sum = best(lambda: a.sum(), 5)
    t_dot = best(lambda: np.dot(a, b), 5)
    return max(a.nbytes / t_sum, 2 * a.nbytes / t_dot)


def main():
    torch.set_num_threads(THREADS)
    cfg, tmodel, token_map, path = build()
    nparams = sum(p.numel() for n, p in tmodel.named_parameters() if "multi_head_embedding" not in n)
    table_params = sum(p.numel() for n, p in tmodel.named_parameters() if "multi_head_embedding" in n)
    print(f"model: {nparams / 1e6:.1f}M backbone parameters (incl. Engram projections), "
          f"{table_params / 1e6:.1f}M Engram table parameters, hc_mult {cfg.hc_mult}, "
          f"{cfg.num_layers} layers, D {cfg.hidden_size}, V {cfg.vocab_size}; threads {THREADS}")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, cfg.vocab_size, PROMPT + DECODE)
    hashes = hash_ids(cfg, tmodel.primes, token_map, ids)
    prompt = ids[:PROMPT].astype(np.int32)

    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {"input_ids": ids[None, :PROMPT].astype(np.int64), "engram_hash_ids": hashes[None, :PROMPT]}

    m = engram.Model(path)
    ctx = engram.Context(m, max_length=PROMPT + DECODE + 8, n_threads=THREADS)

    # Parity on the benchmark model itself.
    ours = ctx.forward(prompt)
    ref = sess.run(None, feed)[0][0]
    print(f"parity: max |engram - onnxruntime| over [{PROMPT}, V] logits = {np.abs(ours - ref).max():.2e} "
          f"(max |logit| {np.abs(ref).max():.1f}, relative {np.abs(ours - ref).max() / np.abs(ref).max():.1e})")

    def eng_full():
        ctx.reset()
        ctx.forward(prompt)

    def eng_last():
        ctx.reset()
        ctx.prefill(prompt)

    tid = torch.from_numpy(ids[None, :PROMPT].astype(np.int64))
    th = torch.from_numpy(hashes[None, :PROMPT])

    def ort_full():
        sess.run(None, feed)

    def pt_full():
        with torch.no_grad():
            tmodel(tid, th)

    # Interleaved rounds: the machine may be shared, so each round times all four one after the
    # other and the ratios are taken per round (medians reported), beside the best times. A
    # pause before each run lets the previous runtime's threads (ORT and OpenMP spin-wait
    # after their work) go idle, so no one pays for another's spinning.
    fns = {"engram": eng_full, "engram_last": eng_last, "onnxruntime": ort_full, "pytorch": pt_full}
    for f in fns.values():
        f()  # warm
    times = {k: [] for k in fns}
    for _ in range(ROUNDS):
        for k, f in fns.items():
            time.sleep(0.25)  # the previous runtime's worker threads stop spinning
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    med_ratio = lambda a, b: float(np.median(np.array(times[a]) / np.array(times[b])))  # noqa: E731
    tps = lambda k: PROMPT / min(times[k])  # noqa: E731
    print(f"prefill {PROMPT} tokens (all logits), best of {ROUNDS} interleaved rounds: engram {tps('engram'):.0f} tok/s, "
          f"onnxruntime {tps('onnxruntime'):.0f} tok/s, pytorch {tps('pytorch'):.0f} tok/s")
    print(f"  ratio engram/onnxruntime = {med_ratio('onnxruntime', 'engram'):.2f}x, "
          f"engram/pytorch = {med_ratio('pytorch', 'engram'):.2f}x (medians of per-round ratios)")
    print(f"  engram prefill, last-position logits only: {tps('engram_last'):.0f} tok/s "
          f"({med_ratio('onnxruntime', 'engram_last'):.2f}x onnxruntime)")

    # Decode after the prompt: per-token latencies (median and best; the machine may be shared).
    ctx.reset()
    ctx.prefill(prompt)
    lat = []
    for t in range(PROMPT, PROMPT + DECODE):
        t0 = time.perf_counter()
        ctx.prefill(ids[t:t + 1].astype(np.int32))
        lat.append(time.perf_counter() - t0)
    d_eng, d_eng_best = float(np.median(lat)), min(lat)
    with torch.no_grad():
        caches = [dict() for _ in range(cfg.num_layers)]
        tmodel.run(tid, th, 0, caches)
        lat = []
        for t in range(PROMPT, PROMPT + DECODE):
            t0 = time.perf_counter()
            tmodel.run(torch.from_numpy(ids[None, t:t + 1].astype(np.int64)), torch.from_numpy(hashes[None, t:t + 1]), t, caches)
            lat.append(time.perf_counter() - t0)
        d_pt = float(np.median(lat))
    n_ort = 3
    t0 = time.perf_counter()
    for t in range(PROMPT, PROMPT + n_ort):
        sess.run(None, {"input_ids": ids[None, :t + 1].astype(np.int64), "engram_hash_ids": hashes[None, :t + 1]})
    d_ort = (time.perf_counter() - t0) / n_ort
    print(f"decode per token at context {PROMPT} (median of {DECODE}): engram {d_eng * 1e3:.2f} ms "
          f"(best {d_eng_best * 1e3:.2f} ms), pytorch (KV cache) {d_pt * 1e3:.2f} ms, "
          f"onnxruntime (no cache in the graph: re-runs the prefix) {d_ort * 1e3:.1f} ms")
    print(f"  ratio engram/pytorch = {d_pt / d_eng:.2f}x, engram/onnxruntime = {d_ort / d_eng:.1f}x")

    # Memory-bandwidth bound of one decode step.
    c = cfg
    D, hc, V, L = c.hidden_size, c.hc_mult, c.vocab_size, c.num_layers
    kvw = c.num_key_value_heads * c.head_dim
    per_layer = (D * c.num_attention_heads * c.head_dim * 2 + D * kvw * 2 + 3 * D * c.intermediate_size + 2 * D)
    if hc > 1:
        per_layer += 2 * ((2 + hc) * hc * hc * D)
    E = c.engram_hidden_size
    engram_w = len(c.layer_ids) * (E * D * (1 + hc) + 3 * hc * D + hc * D * c.kernel_size)
    rows = len(c.layer_ids) * E                            # retrieved values per token
    kv = L * 2 * (PROMPT + DECODE // 2) * kvw
    head = V * D + (hc * hc * D if hc > 1 else 0)
    floats = L * per_layer + engram_w + rows + kv + head + D
    bytes_per_token = 4 * floats
    bw = bandwidth()
    bound = bytes_per_token / bw
    print(f"bandwidth bound: {bytes_per_token / 1e6:.0f} MB read per token / {bw / 1e9:.1f} GB/s measured = "
          f"{bound * 1e3:.2f} ms; engram decode = {d_eng / bound:.2f}x the bound (median; best token "
          f"{d_eng_best / bound:.2f}x; goal <= 2)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ctx.close()
    m.close()


if __name__ == "__main__":
    main()
