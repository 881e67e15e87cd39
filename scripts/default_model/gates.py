"""Do the default model's Engram gates open wider for frequent phrases than for rare ones?

    python scripts/default_model/gates.py [MODEL_DIR] [--engram PATH_TO_engram] [--count 40]

Takes the most frequent token trigrams of the training corpus ("frequent") and trigrams of
equally common tokens that never occur in the corpus ("rare"), runs each through the model
with `engram explain --json` (a real forward pass) and compares the gate at the trigram's last
token, where the Engram layer retrieves the trigram's own rows. Prints both distributions and
a JSON line with the figures.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402


def gate_at_end(engram: str, model_dir: Path, text: str) -> float:
    out = subprocess.run([engram, "explain", "--json", "--top", "0", "--model", str(model_dir), "--", text],
                         capture_output=True, text=True, check=True)
    d = json.loads(out.stdout)
    last = d["positions"][-1]
    gates = [g for per_layer in last["gates"].values() for g in per_layer]
    return float(np.mean(gates))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=str(ROOT / "examples" / "model"))
    ap.add_argument("--engram", default=str(ROOT / "build" / "stage" / "bin" / "engram"))
    ap.add_argument("--count", type=int, default=40)
    a = ap.parse_args()
    model_dir = Path(a.model)
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    train, _ = corpus.split()
    trigrams: Counter = Counter()
    unigrams: Counter = Counter()
    for enc in tok.encode_batch(train):
        ids = enc.ids
        unigrams.update(ids)
        trigrams.update(zip(ids, ids[1:], ids[2:]))

    def round_trips(tri) -> bool:
        text = tok.decode(list(tri))
        return tuple(tok.encode(text).ids) == tuple(tri) and text.strip() == text and "\n" not in text

    frequent = [t for t, _ in trigrams.most_common(2000) if round_trips(t)][: a.count]
    common_tokens = [t for t, _ in unigrams.most_common(300)]
    rng = np.random.default_rng(0)
    rare = []
    while len(rare) < a.count:
        tri = tuple(int(x) for x in rng.choice(common_tokens, 3))
        if trigrams[tri] == 0 and round_trips(tri):
            rare.append(tri)
    g_freq = [gate_at_end(a.engram, model_dir, tok.decode(list(t))) for t in frequent]
    g_rare = [gate_at_end(a.engram, model_dir, tok.decode(list(t))) for t in rare]
    for name, tris, gs in (("frequent", frequent, g_freq), ("rare", rare, g_rare)):
        print(f"{name:9s} trigrams: mean gate {np.mean(gs):.3f} (sd {np.std(gs):.3f}), e.g.",
              ", ".join(f"{tok.decode(list(t))!r}={g:.2f}" for t, g in list(zip(tris, gs))[:4]))
    print(json.dumps({"frequent_mean_gate": float(np.mean(g_freq)), "rare_mean_gate": float(np.mean(g_rare)),
                      "frequent_sd": float(np.std(g_freq)), "rare_sd": float(np.std(g_rare)), "count": a.count}))


if __name__ == "__main__":
    main()
