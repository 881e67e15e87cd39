"""Trains the bundled default model (examples/model/): a small Engram language model on the
fortune cookies of Debian's `fortunes` package, with its own byte-level BPE tokenizer.

    python scripts/default_model/train.py OUT_DIR [--steps 1200] [--baseline]

Writes OUT_DIR/tokenizer.json, OUT_DIR/model.onnx (+ external data) and OUT_DIR/train.json
(config, losses, timings). The same backbone is also trained without Engram (`--baseline`
does both; the report compares validation losses). Deterministic for a given seed and torch
version, up to floating-point reduction order.

The model is the project's PyTorch reference (`engram.reference.EngramLM`) and the file is
written by the project's exporter (`engram.export.export_engram`), so what the engine runs is
exactly what was trained. Engram hash indices for training are computed here with numpy from
the constants the exporter stores (token map, multipliers, primes), per SPEC section 3.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import corpus  # noqa: E402
from engram import export  # noqa: E402
from engram.reference import EngramConfig, EngramLM  # noqa: E402

SEQ = 128


def model_config(vocab: int, pad_id: int, with_engram: bool) -> EngramConfig:
    return EngramConfig(
        vocab_size=vocab, hidden_size=128, num_layers=4, hc_mult=1,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, intermediate_size=384,
        rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
        max_position_embeddings=1024,
        engram_vocab_size=[8009, 8009], max_ngram_size=3, n_embed_per_ngram=64,
        n_head_per_ngram=2, layer_ids=[1] if with_engram else [], pad_id=pad_id, seed=0,
        kernel_size=4,
    )


class Hasher:
    """Hash indices (SPEC section 3, without table offsets) for windows that start a sequence."""

    def __init__(self, cfg: EngramConfig, constants: dict):
        self.cfg = cfg
        self.token_map = constants["engram.token_map"]
        self.mult = {l: constants[f"layers.{l}.engram.multipliers"] for l in cfg.layer_ids}
        self.primes = {l: constants[f"layers.{l}.engram.primes"] for l in cfg.layer_ids}

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """ids int64 [B, T] -> int64 [B, T, len(layer_ids), (N-1)*K]."""
        cfg = self.cfg
        B, T = ids.shape
        N, K = cfg.max_ngram_size, cfg.n_head_per_ngram
        c = self.token_map[ids]
        pad = self.token_map[cfg.pad_id]
        shifted = [c]
        for k in range(1, N):
            s = np.full_like(c, pad)
            s[:, k:] = c[:, :-k]
            shifted.append(s)
        out = np.zeros((B, T, len(cfg.layer_ids), (N - 1) * K), dtype=np.int64)
        with np.errstate(over="ignore"):
            for li, l in enumerate(cfg.layer_ids):
                m = self.mult[l]
                mix = shifted[0] * m[0]
                for n in range(2, N + 1):
                    mix = np.bitwise_xor(mix, shifted[n - 1] * m[n - 1])
                    for j in range(K):
                        out[:, :, li, (n - 2) * K + j] = np.mod(mix, self.primes[l][n - 2][j])
        return out


def encode_docs(tok, docs: list[str], eot: int) -> np.ndarray:
    ids = []
    for enc in tok.encode_batch(docs):
        ids.extend(enc.ids)
        ids.append(eot)
    return np.asarray(ids, dtype=np.int64)


def windows(stream: np.ndarray) -> np.ndarray:
    n = (len(stream) - 1) // SEQ
    return stream[: n * SEQ + 1]


def evaluate(model, stream, hasher, batch=32) -> float:
    model.eval()
    total, count = 0.0, 0
    n = (len(stream) - 1) // SEQ
    with torch.no_grad():
        for s in range(0, n, batch):
            idx = np.arange(s, min(n, s + batch))
            x = np.stack([stream[i * SEQ:(i + 1) * SEQ] for i in idx])
            y = np.stack([stream[i * SEQ + 1:(i + 1) * SEQ + 1] for i in idx])
            h = torch.from_numpy(hasher(x)) if hasher else None
            logits = model(torch.from_numpy(x), h)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1), reduction="sum")
            total += float(loss)
            count += y.size
    model.train()
    return total / count


def train(cfg, train_stream, val_stream, hasher, steps, batch, lr, seed, label):
    torch.manual_seed(seed)
    model = EngramLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:  # norms keep 1, biases 0 (module defaults)
                p.normal_(0.0, 0.02)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    rng = np.random.default_rng(seed)
    n_win = len(train_stream) - SEQ - 1
    t0 = time.time()
    log = []
    for step in range(steps):
        warm = min(1.0, (step + 1) / 50)
        cos = 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr * warm * (0.1 + 0.9 * cos)
        starts = rng.integers(0, n_win, size=batch)
        x = np.stack([train_stream[s:s + SEQ] for s in starts])
        y = np.stack([train_stream[s + 1:s + SEQ + 1] for s in starts])
        h = torch.from_numpy(hasher(x)) if hasher else None
        logits = model(torch.from_numpy(x), h)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"[{label}] step {step:5d}/{steps}  loss {loss.item():.3f}  {time.time() - t0:6.0f}s", flush=True)
            log.append((step, loss.item()))
    val = evaluate(model, val_stream, hasher)
    print(f"[{label}] {params} parameters, validation loss {val:.4f} ({time.time() - t0:.0f}s)", flush=True)
    return model, val, params, log


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline", action="store_true", help="also train the backbone without Engram")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    tok_path = out / "tokenizer.json"
    subprocess.run([sys.executable, str(HERE / "train_tokenizer.py"), str(tok_path)], check=True)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    eot = tok.token_to_id("<|endoftext|>")
    pad = tok.token_to_id("<|pad|>")
    train_docs, val_docs = corpus.split()
    train_stream = encode_docs(tok, train_docs, eot)
    val_stream = windows(encode_docs(tok, val_docs, eot))
    print(f"corpus: {len(train_stream)} training tokens, {len(val_stream)} validation tokens")

    cfg = model_config(tok.get_vocab_size(), pad, with_engram=True)
    constants = export.engram_constants(cfg.to_dict(), str(tok_path))
    hasher = Hasher(cfg, constants)
    model, val, params, log = train(cfg, train_stream, val_stream, hasher, a.steps, a.batch, a.lr, a.seed, "engram")
    report = {"config": cfg.to_dict(), "steps": a.steps, "batch": a.batch, "seq": SEQ,
              "train_tokens": int(len(train_stream)), "val_tokens": int(len(val_stream)),
              "engram": {"val_loss": val, "params": params, "log": log}}
    # Engram tables are stored as bfloat16 (the engine converts rows when it reads them);
    # everything else as float32.
    state = {k: (v.to(torch.bfloat16) if "multi_head_embedding" in k else v) for k, v in model.state_dict().items()}
    export.export_engram(state, cfg.to_dict(), str(tok_path), str(out / "model.onnx"))
    (out / "train.json").write_text(json.dumps(report, indent=1))
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    print("wrote", sizes, "total", sum(sizes.values()), flush=True)

    if a.baseline:  # the same backbone, steps and data without Engram, for comparison
        base_cfg = model_config(tok.get_vocab_size(), pad, with_engram=False)
        _, bval, bparams, blog = train(base_cfg, train_stream, val_stream, None, a.steps, a.batch, a.lr, a.seed, "baseline")
        report["baseline"] = {"val_loss": bval, "params": bparams, "log": blog}
        (out / "train.json").write_text(json.dumps(report, indent=1))
        print(f"validation loss: Engram {val:.4f}, baseline {bval:.4f}", flush=True)


if __name__ == "__main__":
    main()
