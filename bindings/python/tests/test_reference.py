"""The PyTorch reference model: names, shapes, the equations of docs/EQUATIONS.md checked
against independent numpy code, causality, table primes."""
import math

import numpy as np
import pytest
import torch

from engram import reference as R


def small_cfg(hc=4, **kw):
    d = dict(engram_vocab_size=[101, 103], max_ngram_size=3, n_embed_per_ngram=16, n_head_per_ngram=2,
             layer_ids=[0, 2], hidden_size=32, hc_mult=hc, vocab_size=50, num_layers=3,
             num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=48)
    d.update(kw)
    return R.EngramConfig(**d)


def test_primes_follow_the_shared_search():
    cfg = small_cfg()
    p = R.ngram_primes(cfg)
    assert p == {0: [[101, 103], [107, 109]], 2: [[113, 127], [131, 137]]}
    assert all(R.is_prime(x) for x in [2, 3, 1_000_000_007, 2**61 - 1]) and not R.is_prime(2**61 + 1)


def test_state_dict_names():
    for hc in (1, 4):
        m = R.EngramLM(small_cfg(hc))
        names = set(m.state_dict())
        pre = "layers.0.engram."
        for n in ["multi_head_embedding.embedding.weight", "value_proj.weight", "value_proj.bias",
                  "short_conv.conv.weight"] + [f"{k}.{i}.weight" for k in ("key_projs", "norm1", "norm2", "short_conv.norms") for i in range(hc)]:
            assert pre + n in names
        assert ("hc_head_fn" in names) == (hc > 1)
        assert ("layers.1.hc_attn_fn" in names) == (hc > 1)
        assert "layers.1.engram.value_proj.weight" not in names
        assert m.state_dict()[pre + "short_conv.conv.weight"].shape == (hc * 32, 1, 4)


def np_rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def test_engram_fuse_matches_numpy_equations():
    cfg = small_cfg(hc=2)
    torch.manual_seed(0)
    m = R.randomize_(R.EngramLM(cfg), seed=3).eval()
    eng = m.layers[0].engram
    T = 9
    hidden = torch.randn(1, T, 2, 32)
    hash_ids = torch.stack([torch.randint(0, p, (1, T)) for order in m.primes[0] for p in order], dim=-1)
    with torch.no_grad():
        y, gates = eng.fuse(hidden, hash_ids)
    sd = {k: v.double().numpy() for k, v in eng.state_dict().items()}
    tab = sd["multi_head_embedding.embedding.weight"]
    offs = np.cumsum([0] + [p for o in m.primes[0] for p in o])[:-1]
    e = tab[hash_ids[0].numpy() + offs].reshape(T, -1)
    h = hidden[0].double().numpy()
    vproj = e @ sd["value_proj.weight"].T + sd["value_proj.bias"]
    V = np.zeros((T, 2, 32))
    a_all = np.zeros((T, 2))
    for mm in range(2):
        k = e @ sd[f"key_projs.{mm}.weight"].T + sd[f"key_projs.{mm}.bias"]
        g = (np_rms(k, sd[f"norm1.{mm}.weight"], cfg.engram_norm_eps) * np_rms(h[:, mm], sd[f"norm2.{mm}.weight"], cfg.engram_norm_eps)).sum(-1) / math.sqrt(32)
        g = np.sign(g) * np.sqrt(np.maximum(np.abs(g), 1e-6))
        a = 1 / (1 + np.exp(-g))
        a_all[:, mm] = a
        V[:, mm] = a[:, None] * vproj
    u = np.stack([np_rms(V[:, mm], sd[f"short_conv.norms.{mm}.weight"], 1e-5) for mm in range(2)], 1).reshape(T, 64)
    w = sd["short_conv.conv.weight"][:, 0, :]
    s = np.zeros((T, 64))
    for t in range(T):
        for i in range(4):
            tt = t - (3 - i) * 3
            if tt >= 0:
                s[t] += w[:, i] * u[tt]
    Y = V + (s / (1 + np.exp(-s))).reshape(T, 2, 32)
    assert np.abs(gates[0].numpy() - a_all).max() < 1e-5
    assert np.abs(y[0].numpy() - Y).max() < 1e-4


def test_hc1_is_plain_residual_and_model_is_causal():
    for hc in (1, 4):
        cfg = small_cfg(hc)
        m = R.randomize_(R.EngramLM(cfg), seed=1).eval()
        ids = torch.randint(0, 50, (1, 12))
        hs = torch.randint(0, 101, (1, 12, 2, 4))
        with torch.no_grad():
            a = m(ids, hs)
            ids2, hs2 = ids.clone(), hs.clone()
            ids2[0, 8:] = (ids2[0, 8:] + 1) % 50
            hs2[0, 8:] = (hs2[0, 8:] + 1) % 101
            b = m(ids2, hs2)
        assert a.shape == (1, 12, 50)
        assert torch.allclose(a[0, :8], b[0, :8], atol=1e-5)
        assert not torch.allclose(a[0, 8:], b[0, 8:])


def test_sinkhorn_comb_is_doubly_stochastic():
    torch.manual_seed(0)
    hc = 4
    mixes = torch.randn(5, (2 + hc) * hc)
    pre, post, comb = R.sinkhorn_split(mixes, torch.tensor([1.0, 1.0, 1.0]), torch.zeros((2 + hc) * hc), hc, 20, 1e-6)
    assert torch.allclose(comb.sum(-1), torch.ones(5, hc), atol=1e-3)
    assert torch.allclose(comb.sum(-2), torch.ones(5, hc), atol=1e-3)
    assert (post > 0).all() and (post < 2).all() and (pre > 0).all()


def test_decode_with_cache_matches_forward_without_engram():
    cfg = small_cfg(4, layer_ids=[])
    m = R.randomize_(R.EngramLM(cfg), seed=2).eval()
    ids = torch.randint(0, 50, (1, 10))
    with torch.no_grad():
        full = m(ids)
        caches = [dict() for _ in range(cfg.num_layers)]
        parts = [m.run(ids[:, :6], None, 0, caches)]
        for t in range(6, 10):
            parts.append(m.run(ids[:, t:t + 1], None, t, caches))
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)


@pytest.mark.parametrize("hc", [1, 4])
def test_decode_with_cache_matches_forward_with_engram(hc):
    # The short conv's state (cache["conv"]) makes pieces equal one call with Engram layers too.
    cfg = small_cfg(hc)
    m = R.randomize_(R.EngramLM(cfg), seed=5).eval()
    T = 12
    ids = torch.randint(0, 50, (1, T), generator=torch.Generator().manual_seed(1))
    hashes = torch.stack([torch.stack([torch.randint(0, p, (1, T)) for order in m.primes[l] for p in order], dim=-1)
                          for l in cfg.layer_ids], dim=2)                       # [1,T,layers,H]
    with torch.no_grad():
        full = m(ids, hashes)
        caches = [dict() for _ in range(cfg.num_layers)]
        parts = [m.run(ids[:, :5], hashes[:, :5], 0, caches)]
        for t in range(5, T):
            parts.append(m.run(ids[:, t:t + 1], hashes[:, t:t + 1], t, caches))
        assert "conv" in caches[cfg.layer_ids[0]]
        stateless = [m.run(ids[:, :5], hashes[:, :5], 0, [dict() for _ in range(cfg.num_layers)])]
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)
    assert torch.allclose(stateless[0], full[:, :5], atol=1e-5)


def test_config_json_roundtrip():
    cfg = small_cfg()
    assert R.EngramConfig.from_json(cfg.to_json()) == cfg
