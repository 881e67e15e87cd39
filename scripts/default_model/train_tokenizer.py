"""Trains the default model's byte-level BPE tokenizer (GPT-2 style: ByteLevel pre-tokenizer
with the GPT-2 pattern, ByteLevel decoder, no normalizer) on the fortune corpus.

    python scripts/default_model/train_tokenizer.py OUT/tokenizer.json [--vocab 4096]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|pad|>"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=4096)
    a = ap.parse_args()
    train, _ = corpus.split()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=a.vocab, special_tokens=SPECIALS, min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(train, trainer=trainer)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    tok.save(a.out)
    print(f"tokenizer: {tok.get_vocab_size()} tokens -> {a.out}")


if __name__ == "__main__":
    main()
