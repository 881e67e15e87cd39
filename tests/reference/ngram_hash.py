"""Independent numpy reference for Engram's n-gram hashing and retrieval (SPEC.md sections 3-4).

Written from the SPEC and from the facts of DeepSeek's `engram_demo_v1.py`, not from the
Swift engine, so tests can compare the two. Everything is recomputed here: the compressed
ids, the per-layer multipliers (numpy's default_rng, as the demo draws them), the table
sizes (our own primality test, no sympy), the hashes, the row ids and the gathered rows.

Conventions (SPEC.md):
  c_t          = token_map[x_t]; positions before the start read token_map[pad_id]
  mix_n        = (c_t*m_0) ^ (c_{t-1}*m_1) ^ ... ^ (c_{t-n+1}*m_{n-1})   int64, wrapping
  index(n, j)  = mix_n mod p(n, j)                                       non-negative
  row(n, j)    = offset(n, j) + index(n, j),  offsets = running sum of the primes
  output order = order 2 heads 0..K-1, then order 3 heads 0..K-1, ...
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

INT64_MAX = np.iinfo(np.int64).max
LAYER_SEED_STRIDE = 10007  # the demo's PRIME_1


# --------------------------------------------------------------------------- primes

def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for every n < 3.3e24 (bases: the first 13 primes)."""
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


def table_primes(engram_vocab_size, max_ngram_size, n_head_per_ngram, layer_ids):
    """{layer: [[p(order 2, head 0..K-1)], [p(order 3, ...)], ...]}.

    One set of used primes is shared by all layers (in layer_ids order), orders and heads.
    Each (layer, order) restarts its search at engram_vocab_size[order-2] - 1; a head takes
    the smallest unused prime strictly greater than the current start, which then becomes
    the start for the next head.
    """
    used: set[int] = set()
    out = {}
    for layer in layer_ids:
        per_order = []
        for order in range(2, max_ngram_size + 1):
            start = int(engram_vocab_size[order - 2]) - 1
            heads = []
            for _ in range(n_head_per_ngram):
                cand = start + 1
                while cand in used or not is_prime(cand):
                    cand += 1
                used.add(cand)
                heads.append(cand)
                start = cand
            per_order.append(heads)
        out[layer] = per_order
    return out


# --------------------------------------------------------------------------- multipliers

def layer_multipliers(seed: int, layer_id: int, compressed_vocab_size: int, max_ngram_size: int) -> np.ndarray:
    """int64 [max_ngram_size]: odd multipliers 2*r + 1, r drawn uniformly from [0, half)
    by numpy.random.default_rng(seed + 10007 * layer_id), half = max(1, (INT64_MAX // V') // 2)."""
    half = max(1, (INT64_MAX // int(compressed_vocab_size)) // 2)
    rng = np.random.default_rng(int(seed) + LAYER_SEED_STRIDE * int(layer_id))
    r = rng.integers(0, half, size=(max_ngram_size,), dtype=np.int64)
    return r * 2 + 1


# --------------------------------------------------------------------------- token map

def random_token_map(vocab_size: int, compressed_size: int, rng: np.random.Generator) -> np.ndarray:
    """A surjective map [0, V) -> [0, V') whose new ids appear in increasing order of first
    use, as the compression table's are (for tests without a real tokenizer)."""
    assert 1 <= compressed_size <= vocab_size
    keys = rng.integers(0, compressed_size, size=vocab_size)
    keys[rng.permutation(vocab_size)[:compressed_size]] = np.arange(compressed_size)
    # Renumber in order of first appearance.
    new_id = {}
    out = np.empty(vocab_size, dtype=np.int64)
    for i, k in enumerate(keys.tolist()):
        out[i] = new_id.setdefault(k, len(new_id))
    assert len(new_id) == compressed_size
    return out


def compress(ids, token_map: np.ndarray) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= len(token_map)):
        raise ValueError("token id outside the vocabulary")
    return token_map[ids]


# --------------------------------------------------------------------------- hashing

def ngram_mix(compressed: np.ndarray, multipliers: np.ndarray, pad_compressed: int, order: int,
              history=None) -> np.ndarray:
    """mix_n for every position of a 1-D sequence of compressed ids.

    `history` (optional) is the list of compressed ids that precede the sequence (most recent
    last); positions before it read the pad.
    """
    c = np.asarray(compressed, dtype=np.int64)
    T = c.shape[0]
    prefix = np.full(order - 1, pad_compressed, dtype=np.int64)
    if history is not None and len(history):
        h = np.asarray(history, dtype=np.int64)[-(order - 1):]
        prefix[len(prefix) - len(h):] = h
    full = np.concatenate([prefix, c])
    mix = np.zeros(T, dtype=np.int64)
    with np.errstate(over="ignore"):
        for k in range(order):
            # token k steps back: full[order-1-k : order-1-k+T]
            shifted = full[order - 1 - k: order - 1 - k + T]
            mix = np.bitwise_xor(mix, shifted * np.int64(multipliers[k]))  # wraps mod 2^64
    return mix


def ngram_hashes(compressed, multipliers, primes, pad_compressed: int, history=None) -> np.ndarray:
    """int64 [T, (N-1)*K] per-head indices (before offsets), order 2 heads first.

    `primes` is the layer's [[K primes of order 2], [K primes of order 3], ...].
    """
    c = np.asarray(compressed, dtype=np.int64)
    cols = []
    for oi, heads in enumerate(primes):
        mix = ngram_mix(c, multipliers, pad_compressed, oi + 2, history)
        for p in heads:
            cols.append(np.mod(mix, np.int64(p)))  # numpy's % has the sign of the divisor
    if not cols:
        return np.zeros((c.shape[0], 0), dtype=np.int64)
    return np.stack(cols, axis=1).astype(np.int64)


def head_offsets(primes) -> np.ndarray:
    flat = [int(p) for heads in primes for p in heads]
    return np.concatenate([[0], np.cumsum(flat[:-1], dtype=np.int64)]).astype(np.int64)


def row_ids(hashes: np.ndarray, primes) -> np.ndarray:
    return hashes + head_offsets(primes)[None, :]


def retrieve(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """float32 [T, heads * width]: the rows of `table` (any float dtype, converted) concatenated."""
    T, H = rows.shape
    return np.asarray(table[rows.reshape(-1)], dtype=np.float32).reshape(T, H * table.shape[1])


# --------------------------------------------------------------------------- a whole config

@dataclass
class HashConfig:
    vocab_size: int
    engram_vocab_size: list
    max_ngram_size: int
    n_head_per_ngram: int
    n_embed_per_ngram: int
    layer_ids: list
    pad_id: int
    seed: int
    token_map: np.ndarray = field(repr=False)

    @property
    def compressed_vocab_size(self) -> int:
        return int(self.token_map.max()) + 1

    @property
    def pad_compressed(self) -> int:
        return int(self.token_map[self.pad_id])

    def primes(self):
        return table_primes(self.engram_vocab_size, self.max_ngram_size, self.n_head_per_ngram, self.layer_ids)

    def multipliers(self, layer):
        return layer_multipliers(self.seed, layer, self.compressed_vocab_size, self.max_ngram_size)

    def hash(self, ids, layer, primes=None, history=None):
        primes = primes or self.primes()
        return ngram_hashes(compress(ids, self.token_map), self.multipliers(layer), primes[layer],
                            self.pad_compressed, history)
