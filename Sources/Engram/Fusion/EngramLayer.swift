/// One Engram layer as the forward pass uses it: n-gram hashing from the stored constants
/// (SPEC.md section 3), retrieval of the table rows (section 4) and the fuse step (section 5).
///
/// Constants read from the model: `engram.token_map` int64 [vocab_size],
/// `layers.<l>.engram.multipliers` int64 [N], `layers.<l>.engram.primes` int64 [N-1, K],
/// the table `layers.<l>.engram.multi_head_embedding.embedding.weight` [sum(primes), d]
/// (f32, f16 or bf16; read in place).
public final class EngramLayer: @unchecked Sendable {
    public let layer: Int
    public let fusion: EngramFusion
    let table: Tensor
    let rowWidth: Int               // d = n_embed_per_ngram / K
    let primes: [Int64]             // (N-1)*K, order-major
    let offsets: [Int64]
    let multipliers: [Int64]        // N (empty when the model has none: hashing unavailable)
    let maxNgram: Int
    let heads: Int                  // (N-1)*K
    let headsPerOrder: Int          // K

    public init(weights: Weights, layer: Int) throws {
        let c = weights.config
        self.layer = layer
        fusion = try EngramFusion(weights: weights, layer: layer)
        maxNgram = c.maxNgramSize
        headsPerOrder = c.nHeadPerNgram
        heads = (c.maxNgramSize - 1) * c.nHeadPerNgram
        rowWidth = c.headWidth
        let p = "layers.\(layer).engram."
        primes = try weights.tensor(p + "primes", shape: [c.maxNgramSize - 1, c.nHeadPerNgram]).int64s()
        var offs: [Int64] = []
        var run: Int64 = 0
        for q in primes {
            guard q > 0, q < 1 << 40 else { throw EngramError.format("\(p)primes holds \(q), not a table size") }
            offs.append(run)
            run += q
        }
        offsets = offs
        table = try weights.tensor(p + "multi_head_embedding.embedding.weight", shape: [Int(run), rowWidth])
        guard [.f32, .f16, .bf16].contains(table.dtype) else {
            throw EngramError.unsupported("Engram table of layer \(layer) is \(table.dtype); f32, f16 or bf16 expected")
        }
        if weights.has(p + "multipliers") {
            multipliers = try weights.tensor(p + "multipliers", shape: [c.maxNgramSize]).int64s()
        } else {
            multipliers = []
        }
    }

    /// Hash indices [T, (N-1)*K] of the positions `start ..< compressed.count` of a sequence of
    /// compressed ids (positions before 0 read `pad`). SPEC.md section 3.
    public func hash(compressed: [Int64], start: Int, pad: Int64, into out: UnsafeMutablePointer<Int64>) throws {
        guard multipliers.count == maxNgram else {
            throw EngramError.unsupported("layer \(layer) has no stored hash multipliers")
        }
        var o = 0
        for t in start..<compressed.count {
            var mix: Int64 = 0
            for k in 0..<maxNgram {
                let c = t - k >= 0 ? compressed[t - k] : pad
                mix = k == 0 ? c &* multipliers[0] : mix ^ (c &* multipliers[k])
                if k >= 1 {
                    let n = k + 1
                    for j in 0..<headsPerOrder {
                        let q = primes[(n - 2) * headsPerOrder + j]
                        var r = mix % q
                        if r < 0 { r += q }
                        out[o] = r
                        o += 1
                    }
                }
            }
        }
    }

    /// Retrieval: e[t] = the rows offset(h) + index(t, h) concatenated, for hash indices
    /// [T, (N-1)*K]. Indices outside their head's table are an out-of-range error.
    public func retrieve(hashIds: UnsafePointer<Int64>, count T: Int, into e: UnsafeMutablePointer<Float>) throws {
        let d = rowWidth
        for t in 0..<T {
            for h in 0..<heads {
                let idx = hashIds[t * heads + h]
                guard idx >= 0, idx < primes[h] else {
                    throw EngramError.outOfRange("hash index \(idx) at position \(t), head \(h) of layer \(layer) is outside 0..<\(primes[h])")
                }
                let row = Int(offsets[h] + idx)
                table.convertToFloat(from: row * d, count: d, into: e + (t * heads + h) * d)
            }
        }
    }
}
