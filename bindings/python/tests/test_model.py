"""engram.Model against the independent numpy reference (tests/reference/ngram_hash.py) on
models exported by engram.export: compression, hashes, row ids, retrieved vectors,
streaming, the derived constants (recomputed independently), errors."""
import os
import resource
import sys
from pathlib import Path

import numpy as np
import pytest

import engram

ROOT = Path(os.environ.get("ENGRAM_ROOT", Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(ROOT / "tests" / "reference"))
import model_fixture  # noqa: E402
import ngram_hash as R  # noqa: E402

CONFIGS = {
    "f32_n3_k4": dict(dtype="f32", N=3, K=4, width=3, layer_ids=(1, 15), pad_id=2, seed=0),
    "f32_n2_k1": dict(dtype="f32", N=2, K=1, width=8, layer_ids=(0,), pad_id=0, seed=7, vocab=50, compressed=50),
    "f32_n4_k8": dict(dtype="f32", N=4, K=8, width=1, layer_ids=(2, 5, 9), pad_id=299, seed=12345, compressed=150),
    "bf16_n3_k8": dict(dtype="bf16", N=3, K=8, width=2, layer_ids=(3,), pad_id=17, seed=3),
    "f16_n4_k1": dict(dtype="f16", N=4, K=1, width=4, layer_ids=(0, 1), pad_id=5, seed=11),
    # Tables above the exporter's 1 MiB threshold: mapped from the external data file.
    "f32_external": dict(dtype="f32", N=3, K=2, width=4, layer_ids=(1, 3), starts=[20011, 30011], seed=1),
    "bf16_external": dict(dtype="bf16", N=2, K=4, width=8, layer_ids=(4,), starts=[30011], seed=2),
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def built(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    path, ref, tables, primes = model_fixture.build(str(d), **CONFIGS[request.param])
    with engram.Model(path) as m:
        yield m, ref, tables, primes


def sequences(ref, rng):
    V = ref.vocab_size
    return [rng.integers(0, V, size=200), np.array([ref.pad_id]), rng.integers(0, V, size=max(1, ref.max_ngram_size - 1)),
            np.array([0, V - 1, 0, V - 1, ref.pad_id]), np.tile(rng.integers(0, V, size=3), 7)]


def test_pipeline_matches_reference(built):
    m, ref, tables, primes = built
    rng = np.random.default_rng(0)
    for ids in sequences(ref, rng):
        np.testing.assert_array_equal(m.compress(ids), R.compress(ids, ref.token_map))
        for l in ref.layer_ids:
            h = ref.hash(ids, l, primes)
            rows = R.row_ids(h, primes[l])
            got_h = m.hash(ids, l)
            assert got_h.dtype == np.int64 and got_h.shape == (len(ids), (ref.max_ngram_size - 1) * ref.n_head_per_ngram)
            np.testing.assert_array_equal(got_h, h)
            np.testing.assert_array_equal(m.row_ids(ids, l), rows)
            vec = m.retrieve(ids, l)
            assert vec.dtype == np.float32 and vec.shape == (len(ids), (ref.max_ngram_size - 1) * ref.n_embed_per_ngram)
            expected = R.retrieve(tables[l], rows)
            assert np.array_equal(vec.view(np.uint32), expected.view(np.uint32)), "vectors are not bit-identical"


def test_derived_constants_match_independent_recomputation(built):
    m, ref, tables, primes = built
    info = m.memory_info
    assert info["compressed_vocab_size"] == ref.compressed_vocab_size
    assert info["pad_compressed"] == ref.pad_compressed
    assert info["hash_columns"] == (ref.max_ngram_size - 1) * ref.n_head_per_ngram
    assert [L["layer"] for L in info["layers"]] == list(ref.layer_ids)
    for L in info["layers"]:
        l = L["layer"]
        assert L["multipliers"] == [int(x) for x in ref.multipliers(l)]
        assert L["primes"] == [p for heads in primes[l] for p in heads]
        assert L["offsets"] == R.head_offsets(primes[l]).tolist()
        assert L["rows"] == tables[l].shape[0] and L["width"] == tables[l].shape[1]
    assert m.config["layer_ids"] == list(ref.layer_ids)
    assert m.config["max_ngram_size"] == ref.max_ngram_size


@pytest.mark.parametrize("chunk", [1, 2, 7])
def test_streaming_equals_whole_sequence(built, chunk):
    m, ref, tables, primes = built
    ids = np.random.default_rng(chunk).integers(0, ref.vocab_size, size=40)
    for l in ref.layer_ids:
        whole_h, whole_v = m.hash(ids, l), m.retrieve(ids, l)
        with m.hash_state() as st:
            hs, vs = [], []
            for i in range(0, len(ids), chunk):
                piece = ids[i:i + chunk]
                hs.append(m.hash(piece, l, state=st))
                vs.append(m.retrieve(piece, l, state=st))
                np.testing.assert_array_equal(m.hash(piece, l, state=st), hs[-1])  # the state is not advanced by hashing
                st.append(piece)
            np.testing.assert_array_equal(np.concatenate(hs), whole_h)
            assert np.array_equal(np.concatenate(vs).view(np.uint32), whole_v.view(np.uint32))
            # Reference with an explicit history agrees too.
            st.reset()
            np.testing.assert_array_equal(m.hash(ids[:5], l, state=st), whole_h[:5])


def test_retrieve_into_out_and_int32_input_without_copies(built):
    m, ref, tables, primes = built
    ids = np.arange(min(ref.vocab_size, 64), dtype=np.int32)
    l = ref.layer_ids[0]
    out = np.full((len(ids), m.vector_width), np.nan, dtype=np.float32)
    got = m.retrieve(ids, l, out=out)
    assert got is out
    np.testing.assert_array_equal(out, m.retrieve(ids.astype(np.int64), l))
    with pytest.raises(ValueError):
        m.retrieve(ids, l, out=np.zeros((len(ids), m.vector_width), dtype=np.float64))
    with pytest.raises(ValueError):
        m.retrieve(ids, l, out=np.zeros((len(ids) + 1, m.vector_width), dtype=np.float32))


def test_bad_input_raises_with_status_and_message(built):
    m, ref, tables, primes = built
    l = ref.layer_ids[0]
    for bad in ([ref.vocab_size], [-1], [0, 1, 2**40]):
        with pytest.raises(engram.EngramError) as e:
            m.retrieve(bad, l)
        assert e.value.status == engram.Status.OUT_OF_RANGE
        assert "vocabulary" in e.value.message
    for bad_layer in (max(ref.layer_ids) + 100, -1, 2**32 + ref.layer_ids[0]):
        with pytest.raises(engram.EngramError) as e:
            m.hash([1, 2], bad_layer)
        assert e.value.status == engram.Status.OUT_OF_RANGE and "no Engram" in e.value.message
    for fn in (m.compress, lambda x: m.hash(x, l), lambda x: m.row_ids(x, l), lambda x: m.retrieve(x, l)):
        with pytest.raises(engram.EngramError) as e:
            fn([])
        assert e.value.status == engram.Status.INVALID_ARGUMENT and "empty" in e.value.message
    with pytest.raises(TypeError):
        m.hash([0.5], l)
    with pytest.raises(ValueError):
        m.hash([[1, 2]], l)
    with m.hash_state() as st:
        with pytest.raises(engram.EngramError):
            st.append([ref.vocab_size])


def test_load_errors(tmp_path):
    with pytest.raises(engram.EngramError) as e:
        engram.Model(tmp_path / "missing.onnx")
    assert e.value.status == engram.Status.IO
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(engram.EngramError) as e:
        engram.Model(bad)
    assert e.value.status == engram.Status.FORMAT


def test_closed_model_and_state_outliving_model(tmp_path):
    path, ref, tables, primes = model_fixture.build(str(tmp_path), **CONFIGS["f32_n3_k4"])
    m = engram.Model.load(path, n_threads=2, prefetch_distance=8, huge_pages=False, populate=True, streaming_stores=False)
    st = m.hash_state()
    ids = np.arange(10)
    expected = R.row_ids(ref.hash(ids, 1, primes), primes[1])
    m2 = engram.Model(path)
    np.testing.assert_array_equal(m2.row_ids(ids, 1), expected)
    m.close()
    m.close()  # idempotent
    with pytest.raises(engram.EngramError):
        m.hash(ids, 1)
    st.append(ids)  # the state keeps its model alive
    st.close()
    m2.close()


def test_opening_maps_tables_without_heap_growth(tmp_path):
    # ~48 MB of float32 table in the external data file: opening must not read it into the heap.
    path, ref, tables, primes = model_fixture.build(str(tmp_path), dtype="f32", N=3, K=2, width=64,
                                                      layer_ids=(1,), starts=[50021, 50023], seed=4)
    def rss_kb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table_bytes = sum(t.nbytes for t in tables.values())
    before = rss_kb()
    with engram.Model(path) as m:
        grown = (rss_kb() - before) * 1024
        assert grown < table_bytes / 8, f"anonymous memory grew by {grown} bytes for a {table_bytes}-byte table"
        ids = np.arange(100)
        np.testing.assert_array_equal(m.retrieve(ids, 1), R.retrieve(tables[1], R.row_ids(ref.hash(ids, 1, primes), primes[1])))


def test_large_outputs_use_streaming_stores_bit_exactly(built):
    # More than 2 MiB of output per call: the non-temporal store path (rows of 8+ floats).
    m, ref, tables, primes = built
    l = ref.layer_ids[-1]
    T = (3 << 20) // (4 * m.vector_width) + 7
    ids = np.random.default_rng(11).integers(0, ref.vocab_size, size=T)
    vec = m.retrieve(ids, l)
    expected = R.retrieve(tables[l], R.row_ids(ref.hash(ids, l, primes), primes[l]))
    assert np.array_equal(vec.view(np.uint32), expected.view(np.uint32))
