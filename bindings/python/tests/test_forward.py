"""Fuse, forward, context and generation through the C ABI, against the PyTorch reference
model (engram.reference) and ONNX Runtime on the same exported file (hc_mult 1 and 4)."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import engram
from engram import export
from engram import reference as R

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from np_hashing import hash_ids  # noqa: E402


CONFIGS = {
    4: dict(engram_vocab_size=[211, 223], max_ngram_size=3, n_embed_per_ngram=16, n_head_per_ngram=2,
            layer_ids=[0, 2], hidden_size=32, hc_mult=4, vocab_size=64, num_layers=3,
            num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=48,
            pad_id=2, seed=7, max_position_embeddings=64),
    1: dict(engram_vocab_size=[101, 103, 107], max_ngram_size=4, n_embed_per_ngram=24, n_head_per_ngram=3,
            layer_ids=[1], hidden_size=48, hc_mult=1, vocab_size=80, num_layers=2,
            num_attention_heads=6, num_key_value_heads=3, head_dim=8, intermediate_size=64,
            tie_word_embeddings=True, pad_id=0, seed=3, kernel_size=3, max_position_embeddings=64),
}


class Setup:
    def __init__(self, hc, tmp):
        self.cfg = R.EngramConfig(**CONFIGS[hc])
        self.torch = R.randomize_(R.EngramLM(self.cfg), seed=11 + hc).eval()
        rng = np.random.default_rng(hc)
        V = self.cfg.vocab_size
        vp = V * 3 // 4
        self.token_map = np.concatenate([np.arange(vp), rng.integers(0, vp, V - vp)]).astype(np.int64)
        self.path = str(tmp / f"model_hc{hc}.onnx")
        export.export_model(self.torch, self.cfg.to_dict(), None, self.path, token_map=self.token_map)
        self.model = engram.Model(self.path)

    def hashes(self, ids):
        return hash_ids(self.cfg, self.torch.primes, self.token_map, np.asarray(ids))

    def torch_logits(self, ids):
        with torch.no_grad():
            return self.torch(torch.from_numpy(np.asarray(ids, dtype=np.int64))[None],
                              torch.from_numpy(self.hashes(ids))[None])[0].numpy()


@pytest.fixture(scope="module", params=[4, 1], ids=["hc4", "hc1"])
def setup(request, tmp_path_factory):
    s = Setup(request.param, tmp_path_factory.mktemp(f"fwd{request.param}"))
    yield s
    s.model.close()


def test_logits_match_onnxruntime_and_pytorch(setup):
    import onnxruntime as ort
    rng = np.random.default_rng(5)
    ids = rng.integers(0, setup.cfg.vocab_size, 40)
    sess = ort.InferenceSession(setup.path)
    ref = sess.run(None, {"input_ids": ids[None].astype(np.int64), "engram_hash_ids": setup.hashes(ids)[None]})[0][0]
    got = setup.model.forward(ids)
    assert got.shape == (40, setup.cfg.vocab_size)
    assert np.abs(got - ref).max() <= 1e-4
    assert np.abs(got - setup.torch_logits(ids)).max() <= 1e-4


def test_prefill_then_decode_equals_full_forward(setup):
    ids = np.random.default_rng(6).integers(0, setup.cfg.vocab_size, 30).astype(np.int32)
    full = setup.model.forward(ids)
    with engram.Context(setup.model, max_length=48) as ctx:
        last = ctx.prefill(ids[:10])
        rows = [last] + [ctx.forward(ids[t:t + 1])[0] for t in range(10, 30)]
        assert ctx.position == 30
    # 1e-5 relative to max(1, |logit|): decode (sgemv, a loop over the cache) sums in another
    # order than prefill (sgemm); the difference is float32 rounding.
    ref = full[9:]
    assert (np.abs(np.stack(rows) - ref) / np.maximum(1, np.abs(ref))).max() <= 1e-5


def test_fuse_matches_reference_module(setup):
    cfg = setup.cfg
    T = 17
    ids = np.random.default_rng(7).integers(0, cfg.vocab_size, T)
    hs = setup.hashes(ids)
    for i, layer in enumerate(cfg.layer_ids):
        hidden = torch.randn(1, T, cfg.hc_mult, cfg.hidden_size, generator=torch.Generator().manual_seed(layer))
        with torch.no_grad():
            y_ref, g_ref = setup.torch.layers[layer].engram.fuse(hidden, torch.from_numpy(hs[:, i])[None])
        y_ref, g_ref = y_ref[0].numpy(), g_ref[0].numpy()
        y, g = setup.model.fuse(hidden[0].numpy(), ids, layer)
        assert y.shape == (T, cfg.hc_mult, cfg.hidden_size) and g.shape == (T, cfg.hc_mult)
        assert (np.abs(y - y_ref) / np.maximum(1, np.abs(y_ref))).max() <= 1e-5
        assert (np.abs(g - g_ref) / np.maximum(1, np.abs(g_ref))).max() <= 1e-5
        # Token by token through a context's fuse stream.
        with engram.Context(setup.model, max_length=8) as ctx:
            parts = [ctx.fuse(hidden[0, t:t + 1].numpy(), ids[t:t + 1], layer) for t in range(T)]
        y2 = np.concatenate([p[0] for p in parts])
        assert (np.abs(y2 - y_ref) / np.maximum(1, np.abs(y_ref))).max() <= 1e-5


def test_fuse_bad_input(setup):
    cfg = setup.cfg
    layer = cfg.layer_ids[0]
    hidden = np.zeros((3, cfg.hc_mult, cfg.hidden_size), np.float32)
    with pytest.raises(engram.EngramError) as e:
        setup.model.fuse(hidden[:, :, :-1], [1, 2, 3], layer)
    assert e.value.status == engram.Status.INVALID_ARGUMENT
    bad = hidden.copy()
    bad[1, 0, 3] = np.nan
    with pytest.raises(engram.EngramError) as e:
        setup.model.fuse(bad, [1, 2, 3], layer)
    assert e.value.status == engram.Status.INVALID_ARGUMENT and "NaN" in e.value.message
    bad[1, 0, 3] = np.inf
    with pytest.raises(engram.EngramError):
        setup.model.fuse(bad, [1, 2, 3], layer)
    with pytest.raises(engram.EngramError) as e:
        setup.model.fuse(hidden, [1, 2, 3], 999)
    assert e.value.status == engram.Status.OUT_OF_RANGE


def test_context_errors(setup):
    with engram.Context(setup.model, max_length=4) as ctx:
        with pytest.raises(engram.EngramError) as e:
            ctx.forward([1, 2, 3, 4, 5])
        assert e.value.status == engram.Status.STATE
        assert ctx.position == 0
        ctx.forward([1, 2, 3, 4])
        with pytest.raises(engram.EngramError) as e:
            ctx.forward([1])
        assert e.value.status == engram.Status.STATE
        ctx.reset()
        with pytest.raises(engram.EngramError) as e:
            ctx.forward([setup.cfg.vocab_size])
        assert e.value.status in (engram.Status.INVALID_ARGUMENT, engram.Status.OUT_OF_RANGE)
    with pytest.raises(engram.EngramError) as e:
        engram.Context(setup.model, max_length=10_000)
    assert e.value.status == engram.Status.INVALID_ARGUMENT


def test_greedy_generation_is_the_reference_argmax(setup):
    prompt = [3, 1, 4, 1, 5]
    with engram.Context(setup.model, max_length=32) as ctx:
        toks = list(ctx.generate(prompt, max_new_tokens=6))
        assert ctx.last_stop_reason == "max_tokens"
    assert len(toks) == 6
    ref = setup.torch_logits(prompt + toks)
    for i, t in enumerate(toks):
        assert t == int(np.argmax(ref[len(prompt) - 1 + i]))


def test_sampling_seeded_streaming_and_stops(setup):
    kw = dict(max_new_tokens=10, temperature=1.0, top_k=20, top_p=0.9, seed=1234)
    with engram.Context(setup.model, max_length=32) as ctx:
        a, why = ctx.generate_all([1, 2, 3], **kw)
        assert why == "max_tokens" and len(a) == 10
        ctx.reset()
        b = list(ctx.generate([1, 2, 3], **kw))
        assert a == b
        ctx.reset()
        c, why = ctx.generate_all([1, 2, 3], **kw, stop_tokens=[a[4]])
        assert why == "stop_token" and c == a[:a.index(a[4]) + 1]
        ctx.reset()
        # Breaking out of the iteration stops generation.
        got = []
        for t in ctx.generate([1, 2, 3], **kw):
            got.append(t)
            if len(got) == 3:
                break
        assert got == a[:3]
        assert ctx.position <= 3 + 4
        ctx.reset()
        with pytest.raises(engram.EngramError):
            ctx.generate_all([1, 2, 3], top_p=0.0)
        with pytest.raises(engram.EngramError) as e:
            ctx.generate_all([], max_new_tokens=2)
        assert e.value.status == engram.Status.STATE


def test_engram_only_file_fuses_but_has_no_forward(tmp_path):
    cfg = R.EngramConfig(**CONFIGS[4])
    tm = R.randomize_(R.EngramLM(cfg), seed=3).eval()
    token_map = np.arange(cfg.vocab_size, dtype=np.int64)
    sd = {k: v for k, v in tm.state_dict().items() if ".engram." in k}
    path = str(tmp_path / "engram_only.onnx")
    export.export_engram(sd, cfg.to_dict(), None, path, token_map=token_map)
    T = 9
    ids = np.random.default_rng(1).integers(0, cfg.vocab_size, T)
    hs = hash_ids(cfg, tm.primes, token_map, ids)
    hidden = torch.randn(1, T, cfg.hc_mult, cfg.hidden_size, generator=torch.Generator().manual_seed(2))
    with engram.Model(path) as m:
        for i, layer in enumerate(cfg.layer_ids):
            with torch.no_grad():
                y_ref, g_ref = tm.layers[layer].engram.fuse(hidden, torch.from_numpy(hs[:, i])[None])
            y, g = m.fuse(hidden[0].numpy(), ids, layer)
            assert (np.abs(y - y_ref[0].numpy()) / np.maximum(1, np.abs(y_ref[0].numpy()))).max() <= 1e-5
            assert np.abs(g - g_ref[0].numpy()).max() <= 1e-5
        with pytest.raises(engram.EngramError) as e:
            engram.Context(m)
        assert e.value.status == engram.Status.UNSUPPORTED


def test_decode_equals_full_forward_on_the_bundled_model():
    # The trained default model (examples/model) on real text: prefill of p tokens then
    # token-by-token decode gives the logits of one full forward within 1e-5, absolute.
    d = ROOT / "examples" / "model"
    tok = engram.Tokenizer(d / "tokenizer.json")
    ids = np.asarray(tok.encode((ROOT / "README.md").read_text()[:3000]), dtype=np.int32)[:240]
    assert len(ids) == 240
    with engram.Model(d / "model.onnx") as m:
        with engram.Context(m, max_length=256) as ctx:
            full = ctx.forward(ids)
        for p in (1, 7, 64, 150):
            with engram.Context(m, max_length=256) as ctx:
                rows = [ctx.forward(ids[:p])] + [ctx.forward(ids[t:t + 1]) for t in range(p, len(ids))]
            diff = np.abs(np.concatenate(rows) - full).max()
            assert diff <= 1e-5, f"prefill {p}: max |decode - full| = {diff:.2e}"
