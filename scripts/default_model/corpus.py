"""The default model's corpus: the English fortune cookies of Debian's `fortunes` package
(BSD licence, /usr/share/games/fortunes), split into documents at the '%' lines.

Deterministic: documents are sorted by (file, position) and every 20th goes to validation.
"""
from __future__ import annotations

import os
from pathlib import Path

FORTUNE_DIR = Path(os.environ.get("FORTUNE_DIR", "/usr/share/games/fortunes"))
# Files of ASCII art and non-English text are left out: they teach a small model nothing.
SKIP = {"art", "ascii-art", "translate-me"}


def documents() -> list[str]:
    if not FORTUNE_DIR.is_dir():
        raise SystemExit(f"{FORTUNE_DIR} not found: apt-get install fortunes")
    docs = []
    for f in sorted(FORTUNE_DIR.iterdir()):
        if f.suffix or f.is_symlink() or f.name in SKIP or not f.is_file():
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        for d in text.split("\n%\n"):
            d = d.strip("%\n").rstrip()
            if d.strip():
                docs.append(d)
    return docs


def split() -> tuple[list[str], list[str]]:
    docs = documents()
    val = [d for i, d in enumerate(docs) if i % 20 == 0]
    train = [d for i, d in enumerate(docs) if i % 20 != 0]
    return train, val


if __name__ == "__main__":
    train, val = split()
    print(f"{len(train)} training documents ({sum(map(len, train))} chars), {len(val)} validation")
