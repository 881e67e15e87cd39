"""Tokenizer parity with Hugging Face `tokenizers` (same tokenizer.json files, same text).

Expected ids always come from `tokenizers` in the same run. Files and the > 1 MB mixed
corpus come from tokenizer_fixtures.py. Mismatches are counted per document and the first
differences printed.
"""
import json
import random

import numpy as np
import pytest
from tokenizers import Tokenizer as HFTokenizer

import engram
from engram import EngramError, Status

import tokenizer_fixtures as fx

FILES = fx.tokenizer_files()
NAMES = sorted(FILES)


@pytest.fixture(scope="module")
def docs():
    d = fx.corpus()
    assert sum(len(x.encode()) for x in d) >= 1_000_000
    return d


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    path = FILES[request.param]
    return request.param, engram.Tokenizer.from_file(path), HFTokenizer.from_file(str(path))


def _report(name, docs, ours_fn, ref_fn, label):
    bad, shown = 0, []
    for i, d in enumerate(docs):
        a, b = ours_fn(d), ref_fn(d)
        if a != b:
            bad += 1
            if len(shown) < 3:
                k = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                shown.append(f"doc {i} at {k}: ours {a[k:k + 6]} tokenizers {b[k:k + 6]}")
    print(f"{name} {label}: {bad} of {len(docs)} documents differ")
    for s in shown:
        print("  " + s)
    return bad


def test_encode_parity(pair, docs):
    name, ours, hf = pair
    bad = _report(name, docs, lambda d: ours.encode(d), lambda d: hf.encode(d, add_special_tokens=False).ids,
                  "encode")
    assert bad == 0


def test_encode_parity_with_special_tokens(pair, docs):
    name, ours, hf = pair
    sub = docs[::7]
    bad = _report(name, sub, lambda d: ours.encode(d, add_special_tokens=True),
                  lambda d: hf.encode(d, add_special_tokens=True).ids, "encode(add_special_tokens)")
    assert bad == 0


def test_decode_parity(pair, docs):
    name, ours, hf = pair
    bad = 0
    for d in docs[::3]:
        ids = hf.encode(d, add_special_tokens=False).ids
        bad += ours.decode(ids) != hf.decode(ids, skip_special_tokens=False)
    rng = random.Random(7)
    for _ in range(300):  # arbitrary id sequences: broken UTF-8 across tokens, special tokens
        ids = [rng.randrange(ours.vocab_size) for _ in range(rng.randint(1, 12))]
        bad += ours.decode(ids) != hf.decode(ids, skip_special_tokens=False)
    assert bad == 0


def test_single_token_decode_and_pieces(pair):
    name, ours, hf = pair
    assert ours.vocab_size == hf.get_vocab_size(with_added_tokens=True)
    bad = 0
    for i in range(ours.vocab_size):
        bad += ours.decode([i]) != hf.decode([i], skip_special_tokens=False)
    assert bad == 0
    for i in list(range(0, ours.vocab_size, 997)) + [ours.vocab_size - 1]:
        piece = hf.id_to_token(i)
        assert ours.id_to_token(i) == piece
        assert ours.token_to_id(piece) == hf.token_to_id(piece)
    assert ours.token_to_id("no such token \u2603\u2603") is None


def test_compression_table_parity(pair):
    name, ours, _ = pair
    ref, count = fx.compression_reference(FILES[name])
    table = ours.compression_table()
    assert table.dtype == np.int64 and table.shape == (ours.vocab_size,)
    diff = np.nonzero(table != np.asarray(ref))[0]
    print(f"{name}: {len(ref)} -> {count} ids, {len(diff)} entries differ {diff[:10]}")
    assert len(diff) == 0
    assert int(table.max()) + 1 == count
    if name == "deepseek-v3":
        assert (len(ref), count) == (128815, 98627)


def test_invalid_utf8_names_offset():
    tok = engram.Tokenizer.from_file(FILES["gpt-2"])
    with pytest.raises(EngramError) as e:
        tok.encode_bytes(b"hello \xff world")
    assert e.value.status == Status.INVALID_UTF8
    assert "offset 6" in e.value.message
    with pytest.raises(EngramError) as e:
        tok.decode([tok.vocab_size])
    assert e.value.status == Status.OUT_OF_RANGE


def _gpt2_json():
    return json.loads(FILES["gpt-2"].read_text(encoding="utf-8"))


@pytest.mark.parametrize("normalizer", [None, {"type": "NFC"}, {"type": "NFKC"},
                                        {"type": "Sequence", "normalizers": []},
                                        {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}])
def test_normalizers_and_added_token_flags(normalizer, docs):
    """GPT-2 with a normalizer and added tokens with lstrip/rstrip/normalized flags."""
    j = _gpt2_json()
    j["normalizer"] = normalizer
    n = len(j["model"]["vocab"]) + 1
    extra = [("<|lstrip|>", dict(lstrip=True)), ("<|rstrip|>", dict(rstrip=True)),
             ("ﬁne-tuned", dict(normalized=True, special=False)), ("MAGIC", dict(normalized=False, special=False)),
             ("word", dict(single_word=True))]
    for k, (content, flags) in enumerate(extra):
        t = dict(id=n + k, content=content, single_word=False, lstrip=False, rstrip=False, normalized=False,
                 special=True)
        t.update(flags)
        j["added_tokens"].append(t)
    text = json.dumps(j)
    ours, hf = engram.Tokenizer.from_str(text), HFTokenizer.from_str(text)
    samples = [d[:3000] for d in docs[::9]]
    samples += ["a  <|lstrip|>  b", "x\t<|rstrip|> \n y", "the ﬁne-tuned Fine-Tuned fine-tuned MAGIC magic",
                "ＡＢＣ ① Å Å ḳ́ ǅ", "e\u0301 a\u0308\u0301 \u1100\u1161\u11a8 한국어"]
    bad = _report(str(normalizer), samples, lambda d: ours.encode(d), lambda d: hf.encode(d).ids, "encode")
    assert bad == 0


@pytest.mark.parametrize("patch, word", [
    (lambda j: j.update(pre_tokenizer={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                                       "split": True}), "Metaspace"),
    (lambda j: j.update(pre_tokenizer={"type": "Split", "pattern": {"Regex": "[a-z]+\\d"}, "behavior": "Isolated",
                                       "invert": False}), "pattern"),
    (lambda j: j.update(normalizer={"type": "BertNormalizer"}), "BertNormalizer"),
    (lambda j: j["model"].update(type="WordPiece"), "WordPiece"),
    (lambda j: j.update(decoder={"type": "WordPiece"}), "decoder"),
    (lambda j: j.update(truncation={"max_length": 5}), "truncation"),
])
def test_unsupported_features_are_named(patch, word):
    j = _gpt2_json()
    patch(j)
    with pytest.raises(EngramError) as e:
        engram.Tokenizer.from_str(json.dumps(j))
    assert e.value.status == Status.UNSUPPORTED
    assert word in e.value.message


def test_malformed_files():
    for text in ["", "{", "[]", '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}']:
        with pytest.raises(EngramError) as e:
            engram.Tokenizer.from_str(text)
        assert e.value.status in (Status.FORMAT, Status.UNSUPPORTED)
    with pytest.raises(EngramError) as e:
        engram.Tokenizer.from_file("/nonexistent/tokenizer.json")
    assert e.value.status == Status.IO


QWEN2 = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
         "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def _split(pattern, behavior="Isolated"):
    return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": behavior, "invert": False}


@pytest.mark.parametrize("name, pre", [
    ("gpt2-prefix-space", "prefix"),
    ("qwen2-prefix-space", "qwen2-prefix"),
    ("qwen2", [_split(QWEN2)]),
    ("deepseek-splits", "deepseek"),
    ("gpt2-as-split", [_split(fx.GPT2_PATTERN)]),
    ("removed", [{"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": False}]),
])
def test_pre_tokenizer_variants(name, pre, docs):
    """GPT-2's vocabulary behind other pre-tokenizers (Qwen2's pattern, DeepSeek-V3's Split
    sequence, GPT-2's pattern as a Split, a Removed split), against tokenizers."""
    j = _gpt2_json()
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    if pre == "deepseek":
        ds = json.loads(FILES["deepseek-v3"].read_text(encoding="utf-8"))
        steps = ds["pre_tokenizer"]["pretokenizers"][:-1]
    elif pre == "prefix":
        steps = []
        byte_level = dict(byte_level, add_prefix_space=True, use_regex=True)
    elif pre == "qwen2-prefix":
        steps = [_split(QWEN2)]
        byte_level = dict(byte_level, add_prefix_space=True)
    else:
        steps = pre
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": steps + [byte_level]}
    text = json.dumps(j)
    ours, hf = engram.Tokenizer.from_str(text), HFTokenizer.from_str(text)
    sub = docs[::4]
    bad = _report(name, sub, lambda d: ours.encode(d), lambda d: hf.encode(d).ids, "encode")
    assert bad == 0


def test_trained_tokenizer_like_the_default_model(docs):
    """A byte-level BPE trained by tokenizers as scripts/default_model/train_tokenizer.py does
    (specials first, pair-form merges, ignore_merges false), small vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=["<|endoftext|>", "<|pad|>"], min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(docs[:60], trainer=trainer)
    text = tok.to_str()
    ours, hf = engram.Tokenizer.from_str(text), HFTokenizer.from_str(text)
    assert ours.vocab_size == hf.get_vocab_size()
    bad = _report("trained", docs[::5], lambda d: ours.encode(d), lambda d: hf.encode(d).ids, "encode")
    assert bad == 0
    ref, count = fx.compression_reference_from_str(text)
    assert (ours.compression_table() == np.asarray(ref)).all()


def test_shared_between_threads(docs):
    """One tokenizer used by several threads at once (ctypes releases the GIL during the
    call) gives the same ids as one thread: the shared word cache is safe."""
    import threading

    tok = engram.Tokenizer.from_file(FILES["deepseek-v3"])
    sub = docs[::6]
    hf = HFTokenizer.from_file(str(FILES["deepseek-v3"]))
    expected = [hf.encode(d, add_special_tokens=False).ids for d in sub]
    errors = []

    def work(offset):
        for k in range(len(sub)):
            i = (k + offset) % len(sub)
            if tok.encode(sub[i]) != expected[i]:
                errors.append(i)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_constructor_takes_a_path_and_refuses_anything_else(tmp_path):
    # Tokenizer(path) loads, as Model(path) does; a number (once the raw handle) is refused
    # in Python instead of reaching the library as a pointer.
    from pathlib import Path as P
    from engram import Tokenizer as T
    path = P(__file__).resolve().parents[3] / "examples" / "model" / "tokenizer.json"
    for p in (str(path), path, bytes(str(path), "utf-8")):
        with T(p) as tok:
            assert tok.encode("# a") == T.from_file(path).encode("# a")
            assert tok.decode(tok.encode("# a")) == "# a"
    for bad in (12345, None, 1.5):
        with pytest.raises(TypeError):
            T(bad)
    with pytest.raises(engram.EngramError):
        T(tmp_path / "missing.json")
