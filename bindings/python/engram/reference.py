"""The PyTorch reference model of engram: the definition the engine is tested against.

Everything the Swift engine computes for a forward pass is defined here, in plain PyTorch, and
written down as equations in docs/EQUATIONS.md. The exporter (engram.export) writes this model's
state dict and config into an ONNX file; ONNX Runtime runs the same graph.

Parts:
  * `EngramConfig`   the config: the names of DeepSeek's engram_demo_v1.py plus the backbone's.
  * `Engram`         the Engram module (SPEC.md section 5): multi-head embedding lookup, the
                     context-aware gate per stream, the shared value projection, the short conv.
                     It takes precomputed hash indices (SPEC.md section 3, shape [B, T, (N-1)*K],
                     index(n, j) WITHOUT the table offsets: the module adds them, as the demo's
                     MultiHeadEmbedding does), so the graph needs no numpy hashing and can be
                     exported to ONNX.
  * `EngramLM`       the backbone: token embedding, `hc_mult` residual streams (plain residual
                     when 1, manifold-constrained hyper-connections when more), pre-norm RMSNorm,
                     attention with RoPE and grouped KV heads, SwiGLU FFN, Engram before
                     attention at `layer_ids`, final norm, LM head (tied or not).

Inputs of `EngramLM.forward`:
  input_ids       int64 [B, T]
  engram_hash_ids int64 [B, T, len(layer_ids), (N-1)*K]: per Engram layer (in `layer_ids`
                  order) the hash indices of SPEC.md section 3; ignored when layer_ids is empty.
Output: logits float32 [B, T, vocab_size].

Only torch is needed (no numpy, no sympy); RMSNorm is written out so torch.onnx.export can
export it.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "EngramConfig", "RMSNorm", "MultiHeadEmbedding", "ShortConv", "Engram", "Attention",
    "SwiGLU", "Block", "EngramLM", "ngram_primes", "is_prime",
    "rope_cos_sin", "sinkhorn_split", "randomize_",
]

F32_EPS = float(torch.finfo(torch.float32).eps)  # 1.1920929e-07, nn.RMSNorm(eps=None)


@dataclass
class EngramConfig:
    """Model config; field names are those of engram_demo_v1.py and ModelConfig.swift.

    Stored as JSON (`to_json`) in the ONNX file's metadata_props key "engram.config".
    """
    # Engram (demo names and defaults).
    engram_vocab_size: List[int] = field(default_factory=lambda: [129280 * 5, 129280 * 5])
    max_ngram_size: int = 3
    n_embed_per_ngram: int = 512
    n_head_per_ngram: int = 8
    layer_ids: List[int] = field(default_factory=lambda: [1, 15])
    pad_id: int = 2
    seed: int = 0
    kernel_size: int = 4
    # Backbone (demo names and defaults).
    hidden_size: int = 1024
    hc_mult: int = 4
    vocab_size: int = 129280
    num_layers: int = 30
    # Backbone (Hugging Face style names, ModelConfig.swift).
    num_attention_heads: int = 16
    num_key_value_heads: int = 4
    head_dim: int = 64
    intermediate_size: int = 2816
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = False
    max_position_embeddings: int = 4096
    hc_sinkhorn_iters: int = 20
    hc_eps: float = 1e-6
    engram_norm_eps: float = F32_EPS
    short_conv_norm_eps: float = 1e-5
    short_conv: bool = True

    @property
    def engram_hidden_size(self) -> int:
        """Width of the retrieved vector e_t: (N-1) * n_embed_per_ngram."""
        return (self.max_ngram_size - 1) * self.n_embed_per_ngram

    @property
    def heads_per_layer(self) -> int:
        """Hash heads per Engram layer: (N-1) * K."""
        return (self.max_ngram_size - 1) * self.n_head_per_ngram

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "EngramConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json(cls, s: str) -> "EngramConfig":
        return cls.from_dict(json.loads(s))


# ---------------------------------------------------------------------------------------------
# Table sizes (SPEC.md section 3): primes, independent of the tokenizer.
# ---------------------------------------------------------------------------------------------

def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for n < 3.3e24 (enough for any table size)."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    for p in small:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def ngram_primes(cfg: EngramConfig) -> Dict[int, List[List[int]]]:
    """Per Engram layer, the prime table size of every (order, head): {layer: [[p(2,0..K-1)], ...]}.

    One set of used primes across all layers (in layer_ids order), orders and heads; for each
    (layer, order) the search starts at engram_vocab_size[order-2] - 1 and each head takes the
    smallest unused prime greater than the current start, which becomes the next start.
    """
    seen = set()
    out: Dict[int, List[List[int]]] = {}
    for layer in cfg.layer_ids:
        per_order = []
        for n in range(2, cfg.max_ngram_size + 1):
            start = cfg.engram_vocab_size[n - 2] - 1
            heads = []
            for _ in range(cfg.n_head_per_ngram):
                c = start + 1
                while not (is_prime(c) and c not in seen):
                    c += 1
                seen.add(c)
                heads.append(c)
                start = c
            per_order.append(heads)
        out[layer] = per_order
    return out


# ---------------------------------------------------------------------------------------------
# Building blocks.
# ---------------------------------------------------------------------------------------------

class RMSNorm(nn.Module):
    """y = x * rsqrt(mean(x^2) + eps) * weight, over the last axis (exportable to ONNX)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MultiHeadEmbedding(nn.Module):
    """All hash heads of one layer in one table; head h reads rows offset[h] + index."""

    def __init__(self, table_sizes: List[int], dim: int):
        super().__init__()
        offsets = [0]
        for n in table_sizes[:-1]:
            offsets.append(offsets[-1] + n)
        # Not persistent: the state dict holds only `embedding.weight` (SPEC.md section 5).
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.long), persistent=False)
        self.embedding = nn.Embedding(sum(table_sizes), dim)

    def forward(self, hash_ids: torch.Tensor) -> torch.Tensor:
        # hash_ids [..., H] -> [..., H, d]
        return self.embedding(hash_ids + self.offsets)


class ShortConv(nn.Module):
    """Per-stream RMSNorm, depthwise causal conv (dilation N) over time, SiLU.

    x [B, T, hc, D] -> [B, T, hc, D]; channel c = m*D + d.
    """

    def __init__(self, hidden_size: int, kernel_size: int, dilation: int, hc_mult: int, norm_eps: float):
        super().__init__()
        self.hc_mult = hc_mult
        self.kernel_size = kernel_size
        self.dilation = dilation
        channels = hidden_size * hc_mult
        self.conv = nn.Conv1d(channels, channels, kernel_size, groups=channels, bias=False,
                              padding=(kernel_size - 1) * dilation, dilation=dilation)
        self.norms = nn.ModuleList([RMSNorm(hidden_size, norm_eps) for _ in range(hc_mult)])

    def forward(self, x: torch.Tensor, cache: Optional[dict] = None) -> torch.Tensor:
        """`cache` (decoding): a dict that keeps the last (kernel_size-1)*dilation normed
        inputs under "conv" between calls, so running a sequence in pieces equals one call."""
        B, T, G, D = x.shape
        normed = torch.cat([self.norms[m](x[:, :, m, :]) for m in range(G)], dim=-1)  # [B,T,G*D]
        if cache is None:
            y = self.conv(normed.transpose(1, 2))[..., :T]                              # causal
        else:
            P = (self.kernel_size - 1) * self.dilation
            prev = cache.get("conv")
            if prev is None:
                prev = normed.new_zeros(B, P, normed.shape[-1])   # the zero padding of one call
            full = torch.cat([prev, normed], dim=1)                                     # [B,P+T,C]
            cache["conv"] = full[:, full.shape[1] - P:]
            y = F.conv1d(full.transpose(1, 2), self.conv.weight, None, dilation=self.dilation,
                         groups=self.conv.groups)                                       # [B,C,T]
        y = F.silu(y)
        return y.transpose(1, 2).reshape(B, T, G, D)


class Engram(nn.Module):
    """The Engram module of one layer (SPEC.md section 5).

    forward(hidden [B,T,hc,D], hash_ids [B,T,(N-1)*K]) -> Y [B,T,hc,D], the output BEFORE the
    residual add (the block does h <- h + Y). `fuse` also returns the gates [B,T,hc].
    """

    def __init__(self, cfg: EngramConfig, table_sizes: List[int]):
        super().__init__()
        self.cfg = cfg
        D, hc = cfg.hidden_size, cfg.hc_mult
        assert len(table_sizes) == cfg.heads_per_layer
        self.multi_head_embedding = MultiHeadEmbedding(table_sizes, cfg.n_embed_per_ngram // cfg.n_head_per_ngram)
        self.short_conv = (ShortConv(D, cfg.kernel_size, cfg.max_ngram_size, hc, cfg.short_conv_norm_eps)
                           if cfg.short_conv else None)
        E = cfg.engram_hidden_size
        self.value_proj = nn.Linear(E, D)
        self.key_projs = nn.ModuleList([nn.Linear(E, D) for _ in range(hc)])
        self.norm1 = nn.ModuleList([RMSNorm(D, cfg.engram_norm_eps) for _ in range(hc)])
        self.norm2 = nn.ModuleList([RMSNorm(D, cfg.engram_norm_eps) for _ in range(hc)])

    def embed(self, hash_ids: torch.Tensor) -> torch.Tensor:
        """Retrieval: hash indices [B,T,H] -> e [B,T,(N-1)*n_embed_per_ngram]."""
        return self.multi_head_embedding(hash_ids).flatten(start_dim=-2)

    def fuse_embeddings(self, hidden: torch.Tensor, e: torch.Tensor, cache: Optional[dict] = None):
        """Gate, value, short conv from retrieved vectors e: returns (Y, gates). `cache`: the
        short conv's state when decoding (see ShortConv.forward)."""
        D = self.cfg.hidden_size
        gates = []
        for m in range(self.cfg.hc_mult):
            k = self.norm1[m](self.key_projs[m](e))
            q = self.norm2[m](hidden[:, :, m, :])
            g = (k * q).sum(dim=-1) / math.sqrt(D)
            g = g.abs().clamp_min(1e-6).sqrt() * g.sign()
            gates.append(torch.sigmoid(g))
        a = torch.stack(gates, dim=2)                              # [B,T,hc]
        v = a.unsqueeze(-1) * self.value_proj(e).unsqueeze(2)      # [B,T,hc,D]
        y = v + self.short_conv(v, cache) if self.short_conv is not None else v
        return y, a

    def fuse(self, hidden: torch.Tensor, hash_ids: torch.Tensor, cache: Optional[dict] = None):
        return self.fuse_embeddings(hidden, self.embed(hash_ids), cache)

    def forward(self, hidden: torch.Tensor, hash_ids: torch.Tensor, cache: Optional[dict] = None) -> torch.Tensor:
        return self.fuse(hidden, hash_ids, cache)[0]


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float):
    """cos, sin [T, head_dim] of rotate-half RoPE: angle(t, i) = t * theta^(-2i/head_dim)."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    ang = positions.to(torch.float32)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos(), ang.sin()


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    """Causal self-attention, RoPE (rotate-half), grouped KV heads, no biases."""

    def __init__(self, cfg: EngramConfig):
        super().__init__()
        self.cfg = cfg
        H, KV, hd, D = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size
        self.q_proj = nn.Linear(D, H * hd, bias=False)
        self.k_proj = nn.Linear(D, KV * hd, bias=False)
        self.v_proj = nn.Linear(D, KV * hd, bias=False)
        self.o_proj = nn.Linear(H * hd, D, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache=None) -> torch.Tensor:
        """x [B,T,D]; cos/sin [T,hd] for the positions of x. `cache`: optional dict with 'k','v'
        [B,KV,P,hd] of the previous positions (updated in place: decode support for benchmarks)."""
        cfg = self.cfg
        B, T, _ = x.shape
        H, KV, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        q = self.q_proj(x).view(B, T, H, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, KV, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        P = 0
        if cache is not None:
            if "k" in cache:
                P = cache["k"].shape[2]
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        rep = H // KV
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)            # [B,H,T,P+T]
        S = scores.shape[-1]
        mask = torch.ones(T, S, dtype=torch.bool).triu(1 + (S - T))
        scores = scores.masked_fill(mask, float("-inf"))
        o = torch.matmul(torch.softmax(scores, dim=-1), v)                        # [B,H,T,hd]
        return self.o_proj(o.transpose(1, 2).reshape(B, T, H * hd))


class SwiGLU(nn.Module):
    """down(silu(gate(x)) * up(x)), no biases."""

    def __init__(self, cfg: EngramConfig):
        super().__init__()
        D, I = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(D, I, bias=False)
        self.up_proj = nn.Linear(D, I, bias=False)
        self.down_proj = nn.Linear(I, D, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


def sinkhorn_split(mixes: torch.Tensor, scale: torch.Tensor, base: torch.Tensor, hc: int,
                   iters: int, eps: float):
    """mHC coefficients from mixes [..., (2+hc)*hc]: pre [...,hc], post [...,hc], comb [...,hc,hc].

    pre  = sigmoid(mixes[0:hc] * scale[0] + base[0:hc]) + eps
    post = 2 * sigmoid(mixes[hc:2hc] * scale[1] + base[hc:2hc])
    comb = softmax over the last axis of (mixes[2hc:] * scale[2] + base[2hc:]) as [hc, hc], + eps,
           then column-normalised once, then (iters - 1) times row- then column-normalised
           (each division by sum + eps). comb[i, j]: from stream i (source) to stream j.
    """
    pre = torch.sigmoid(mixes[..., :hc] * scale[0] + base[:hc]) + eps
    post = 2 * torch.sigmoid(mixes[..., hc:2 * hc] * scale[1] + base[hc:2 * hc])
    logits = mixes[..., 2 * hc:] * scale[2] + base[2 * hc:]
    comb = torch.softmax(logits.reshape(logits.shape[:-1] + (hc, hc)), dim=-1) + eps
    comb = comb / (comb.sum(dim=-2, keepdim=True) + eps)
    for _ in range(iters - 1):
        comb = comb / (comb.sum(dim=-1, keepdim=True) + eps)
        comb = comb / (comb.sum(dim=-2, keepdim=True) + eps)
    return pre, post, comb


def _hc_mixes(h: torch.Tensor, fn: torch.Tensor, eps: float) -> torch.Tensor:
    """RMS-normalised flattened streams times fn: h [B,T,hc,D] -> [B,T,rows(fn)]."""
    x = h.flatten(2)
    r = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return torch.matmul(x, fn.t()) * r


class Block(nn.Module):
    """One layer: [Engram] -> attention sublayer -> FFN sublayer, residual or mHC around each."""

    def __init__(self, cfg: EngramConfig, layer: int, table_sizes: Optional[List[int]]):
        super().__init__()
        self.cfg = cfg
        D, hc = cfg.hidden_size, cfg.hc_mult
        self.engram = Engram(cfg, table_sizes) if table_sizes is not None else None
        self.attn_norm = RMSNorm(D, cfg.rms_norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(D, cfg.rms_norm_eps)
        self.ffn = SwiGLU(cfg)
        if hc > 1:
            mix = (2 + hc) * hc
            self.hc_attn_fn = nn.Parameter(torch.zeros(mix, hc * D))
            self.hc_attn_base = nn.Parameter(torch.zeros(mix))
            self.hc_attn_scale = nn.Parameter(torch.ones(3))
            self.hc_ffn_fn = nn.Parameter(torch.zeros(mix, hc * D))
            self.hc_ffn_base = nn.Parameter(torch.zeros(mix))
            self.hc_ffn_scale = nn.Parameter(torch.ones(3))

    def _sublayer(self, h, fn_, norm, fn, scale, base):
        cfg = self.cfg
        hc = cfg.hc_mult
        if hc == 1:
            return h + fn_(norm(h[:, :, 0, :])).unsqueeze(2)
        pre, post, comb = sinkhorn_split(_hc_mixes(h, fn, cfg.rms_norm_eps), scale, base, hc,
                                         cfg.hc_sinkhorn_iters, cfg.hc_eps)
        x = (pre.unsqueeze(-1) * h).sum(dim=2)                      # [B,T,D]
        y = fn_(norm(x))                                            # [B,T,D]
        # new[j] = post[j] * y + sum_i comb[i, j] * h[i]
        mixed = torch.matmul(comb.transpose(-1, -2), h)             # [B,T,hc,D]
        return post.unsqueeze(-1) * y.unsqueeze(2) + mixed

    def forward(self, h, hash_ids, cos, sin, cache=None):
        """h [B,T,hc,D]; hash_ids [B,T,(N-1)*K] or None; cache: optional dict (attention KV,
        the short conv's state)."""
        if self.engram is not None:
            h = h + self.engram(h, hash_ids, cache)
        hc = self.cfg.hc_mult
        g = (lambda n: getattr(self, n)) if hc > 1 else (lambda n: None)
        h = self._sublayer(h, lambda x: self.attn(x, cos, sin, cache), self.attn_norm,
                           g("hc_attn_fn"), g("hc_attn_scale"), g("hc_attn_base"))
        h = self._sublayer(h, self.ffn, self.ffn_norm,
                           g("hc_ffn_fn"), g("hc_ffn_scale"), g("hc_ffn_base"))
        return h


class EngramLM(nn.Module):
    """The whole model. State-dict names:

      embed_tokens.weight [V, D]
      layers.<l>.engram.*                         (Engram layers only, SPEC.md section 5)
      layers.<l>.attn_norm.weight, layers.<l>.attn.{q,k,v,o}_proj.weight
      layers.<l>.ffn_norm.weight,  layers.<l>.ffn.{gate,up,down}_proj.weight
      layers.<l>.hc_{attn,ffn}_{fn,base,scale}    (hc_mult > 1)
      hc_head_fn [hc, hc*D], hc_head_base [hc], hc_head_scale [1]   (hc_mult > 1)
      norm.weight, lm_head.weight [V, D] (absent when tie_word_embeddings)
    """

    def __init__(self, cfg: EngramConfig, primes: Optional[Dict[int, List[List[int]]]] = None):
        super().__init__()
        self.cfg = cfg
        D, hc, V = cfg.hidden_size, cfg.hc_mult, cfg.vocab_size
        primes = primes if primes is not None else ngram_primes(cfg)
        self.primes = primes
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList([
            Block(cfg, l, [p for order in primes[l] for p in order] if l in cfg.layer_ids else None)
            for l in range(cfg.num_layers)
        ])
        self.norm = RMSNorm(D, cfg.rms_norm_eps)
        if hc > 1:
            self.hc_head_fn = nn.Parameter(torch.zeros(hc, hc * D))
            self.hc_head_base = nn.Parameter(torch.zeros(hc))
            self.hc_head_scale = nn.Parameter(torch.ones(1))
        self.lm_head = None if cfg.tie_word_embeddings else nn.Linear(D, V, bias=False)

    def head_input(self, h: torch.Tensor) -> torch.Tensor:
        """[B,T,hc,D] -> [B,T,D]: stream 0 when hc_mult = 1, else the mHC head mix."""
        cfg = self.cfg
        if cfg.hc_mult == 1:
            return h[:, :, 0, :]
        mixes = _hc_mixes(h, self.hc_head_fn, cfg.rms_norm_eps)
        pre = torch.sigmoid(mixes * self.hc_head_scale + self.hc_head_base) + cfg.hc_eps
        return (pre.unsqueeze(-1) * h).sum(dim=2)

    def forward(self, input_ids: torch.Tensor, engram_hash_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """input_ids [B,T], engram_hash_ids [B,T,len(layer_ids),(N-1)*K] -> logits [B,T,V]."""
        return self.run(input_ids, engram_hash_ids)

    def run(self, input_ids: torch.Tensor, engram_hash_ids: Optional[torch.Tensor] = None,
            start_pos: int = 0, caches: Optional[list] = None) -> torch.Tensor:
        """forward, plus a decode path: `start_pos` and `caches` (one dict per layer, filled in
        place with the attention keys/values and the Engram short conv's state), so running a
        sequence in pieces gives the logits of one call. `engram_hash_ids` are those of the new
        positions (hashed with the sequence's earlier tokens)."""
        cfg = self.cfg
        B, T = input_ids.shape
        h = self.embed_tokens(input_ids).unsqueeze(2).expand(B, T, cfg.hc_mult, cfg.hidden_size)
        pos = torch.arange(T) + start_pos if start_pos else torch.arange(T)
        cos, sin = rope_cos_sin(pos, cfg.head_dim, cfg.rope_theta)
        e_index = {l: i for i, l in enumerate(cfg.layer_ids)}
        for l, block in enumerate(self.layers):
            ids = engram_hash_ids[:, :, e_index[l], :] if block.engram is not None else None
            h = block(h, ids, cos, sin, caches[l] if caches is not None else None)
        x = self.norm(self.head_input(h))
        w = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return torch.matmul(x, w.t())


@torch.no_grad()
def randomize_(model: nn.Module, seed: int = 0, scale: float = 1.0) -> nn.Module:
    """Fills every parameter with seeded random values that exercise every path (norm weights
    around 1, mHC parameters non-trivial, linear weights ~ 1/sqrt(fan_in)). For tests."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "weight" and p.dim() == 1:          # RMSNorm
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
        elif name.endswith("_scale"):
            p.copy_(0.5 + 0.5 * torch.rand(p.shape, generator=g))
        elif name.endswith("_base") or leaf == "bias":
            p.copy_(0.1 * torch.randn(p.shape, generator=g))
        elif name.endswith("_fn"):
            p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
        elif "embed" in name:
            p.copy_(torch.randn(p.shape, generator=g) * scale)
        elif p.dim() >= 2:
            fan_in = p.shape[1] * (p.shape[2] if p.dim() == 3 else 1)
            p.copy_(torch.randn(p.shape, generator=g) * scale / math.sqrt(fan_in))
        else:
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model
