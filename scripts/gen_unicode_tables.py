#!/usr/bin/env python3
"""Generates Sources/Engram/Unicode/UnicodeTables.swift: the Unicode data the tokenizer needs.

Parity with Hugging Face `tokenizers` is the bar, and `tokenizers` does not use one Unicode
version throughout: its regexes (Oniguruma) know Unicode 16, its NFD/NFKD/NFC/NFKC and
StripAccents (crate unicode-normalization-alignments) an older version, its Lowercase Rust's
char::to_lowercase (recent). So every table is read from `tokenizers` itself, code point by
code point, and compared with Python's `unicodedata` (the differences are printed and written
into the generated file's header). Canonical combining classes and the composition pairs come
from `unicodedata`, restricted to what `tokenizers` decomposes.

Tables (each a list of integers encoded as text, decoded once at first use):
  props      two-level (256-code-point blocks) UInt8: bit 0 \\p{L}, 1 \\p{N}, 2 \\p{P}, 3 \\p{S},
             4 \\p{M} (Oniguruma), 5 \\s (Oniguruma = Rust White_Space), 6 a combining mark for
             StripAccents
  ccc        two-level UInt8 canonical combining class
  nfd, nfkd  code point -> full decomposition (Hangul syllables are done in code)
  compose    (first, second) -> composite, primary composites only
  lower      code point -> lowercase (char-wise, as the Lowercase normalizer does)

Usage: .venv/bin/python scripts/gen_unicode_tables.py  (needs tokenizers, see requirements)
"""
import sys
import unicodedata
from pathlib import Path

import tokenizers
from tokenizers import Regex, normalizers, pre_tokenizers

OUT = Path(__file__).resolve().parent.parent / "Sources/Engram/Unicode/UnicodeTables.swift"
CPS = [c for c in range(0x110000) if not (0xD800 <= c < 0xE000)]
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # 64 symbols


def is_hangul_syllable(c):
    return 0xAC00 <= c < 0xAC00 + 11172


def onig_class(pattern):
    """Code points the Oniguruma class `pattern` matches, as `tokenizers` runs it."""
    split = pre_tokenizers.Split(Regex(pattern), behavior="removed")
    matched = set()
    for k in range(0, len(CPS), 65536):
        chunk = CPS[k:k + 65536]
        kept = set()
        for piece, _ in split.pre_tokenize_str("".join(map(chr, chunk))):
            kept.update(map(ord, piece))
        matched.update(set(chunk) - kept)
    return matched


def per_char(norm):
    """norm applied to every code point alone (newline-separated batches; '\\n' maps to itself)."""
    cps = [c for c in CPS if c != 10]
    out = {}
    for k in range(0, len(cps), 50000):
        chunk = cps[k:k + 50000]
        res = norm.normalize_str("\n".join(map(chr, chunk))).split("\n")
        assert len(res) == len(chunk)
        out.update(zip(chunk, res))
    out[10] = "\n"
    return out


def encode_ints(values):
    """Each integer as base-32 digits, low first; a symbol >= 32 means more digits follow."""
    out = []
    for v in values:
        assert v >= 0
        while True:
            d = v & 31
            v >>= 5
            if v:
                out.append(ALPHA[d | 32])
            else:
                out.append(ALPHA[d])
                break
    return "".join(out)


def two_level(values):
    """values: dict cp -> small int (0 default). Returns [nblocks, index..., blocks...]."""
    blocks, index, seen = [], [], {}
    for b in range(0x110000 // 256):
        blk = tuple(values.get(b * 256 + i, 0) for i in range(256))
        if blk not in seen:
            seen[blk] = len(blocks)
            blocks.append(blk)
        index.append(seen[blk])
    flat = [len(blocks)] + index
    for blk in blocks:
        flat.extend(blk)
    return flat


def main():
    notes = [f"tokenizers {tokenizers.__version__}, Python unicodedata {unicodedata.unidata_version}"]
    props = {}
    for bit, (name, pat) in enumerate([("L", r"\p{L}"), ("N", r"\p{N}"), ("P", r"\p{P}"),
                                       ("S", r"\p{S}"), ("M", r"\p{M}"), ("s", r"\s")]):
        got = onig_class(pat)
        if name == "s":
            py = {c for c in CPS if chr(c).isspace() and c not in (0x1C, 0x1D, 0x1E, 0x1F)}
        else:
            py = {c for c in CPS if unicodedata.category(chr(c))[0] == name}
        notes.append(f"\\p{{{name}}}: Oniguruma {len(got)} code points, unicodedata {len(py)}"
                     f" (+{len(got - py)} / -{len(py - got)})")
        for c in got:
            props[c] = props.get(c, 0) | (1 << bit)
    strip = per_char(normalizers.StripAccents())
    marks = {c for c, r in strip.items() if r == ""}
    py_marks = {c for c in CPS if unicodedata.category(chr(c))[0] == "M"}
    notes.append(f"StripAccents removes {len(marks)} code points, unicodedata has {len(py_marks)} marks"
                 f" (+{len(marks - py_marks)} / -{len(py_marks - marks)})")
    for c in marks:
        props[c] = props.get(c, 0) | 64
    ccc = {c: unicodedata.combining(chr(c)) for c in CPS if unicodedata.combining(chr(c))}

    nfd = per_char(normalizers.NFD())
    nfkd = per_char(normalizers.NFKD())
    lower = per_char(normalizers.Lowercase())
    for name, table, py in [("NFD", nfd, lambda s: unicodedata.normalize("NFD", s)),
                            ("NFKD", nfkd, lambda s: unicodedata.normalize("NFKD", s)),
                            ("Lowercase", lower, lambda s: s.lower())]:
        diff = [c for c in CPS if table[c] != py(chr(c))]
        notes.append(f"{name}: {len(diff)} code points differ from unicodedata, e.g. "
                     + " ".join(f"U+{c:04X}" for c in diff[:8]))

    def mapping(table, skip_hangul):
        flat, n = [], 0
        for c in CPS:
            r = table[c]
            if r == chr(c) or (skip_hangul and is_hangul_syllable(c)):
                continue
            flat += [c, len(r)] + [ord(x) for x in r]
            n += 1
        return [n] + flat

    compose = []
    for c in CPS:
        d = unicodedata.decomposition(chr(c))
        if not d or d.startswith("<") or is_hangul_syllable(c):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) != 2 or nfd[c] == chr(c):
            continue  # singletons, and what tokenizers' (older) tables do not decompose
        if unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) != chr(c):
            continue  # composition exclusions and non-starter decompositions
        compose += [parts[0], parts[1], c]
    compose = [len(compose) // 3] + compose

    tables = {
        "props": two_level(props),
        "ccc": two_level(ccc),
        "nfd": mapping(nfd, True),
        "nfkd": mapping(nfkd, True),
        "compose": compose,
        "lower": mapping(lower, False),
    }
    lines = ["// GENERATED by scripts/gen_unicode_tables.py -- do not edit.",
             "// Unicode data as `tokenizers` applies it (see the script for the layout):"]
    lines += ["//   " + n for n in notes]
    lines += ["", "enum UnicodeTables {"]
    for name, values in tables.items():
        text = encode_ints(values)
        lines.append(f"    static let {name}: StaticString = \"{text}\"")
    lines += ["}", ""]
    OUT.write_text("\n".join(lines))
    for n in notes:
        print(n)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    sys.exit(main())
