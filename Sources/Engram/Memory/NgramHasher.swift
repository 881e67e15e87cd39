/// The n-gram hash of one Engram layer (SPEC.md section 3): per-layer odd multipliers, one
/// prime table size per (order, head) and the row offsets of the heads in the layer's table.
///
/// For position t with compressed ids c (positions before the start read the history, then
/// the pad):  mix_n = (c_t*m_0) ^ (c_{t-1}*m_1) ^ ... ^ (c_{t-n+1}*m_{n-1})  (Int64, wrapping),
/// index(n, j) = mix_n mod p(n, j) (non-negative), row(n, j) = offset(n, j) + index(n, j).
/// Columns are ordered order 2 heads 0..K-1, then order 3, ... (the demo's layout).
public struct NgramHasher: Sendable {
    public let layerId: Int
    /// N: orders 2...N are hashed.
    public let maxNgramSize: Int
    /// K: heads per order.
    public let headsPerOrder: Int
    /// m_0 ..< m_N (only the first n are used by order n).
    public let multipliers: [Int64]
    /// p(n, j) flattened in output order: (N-1)*K values.
    public let primes: [Int64]
    /// Running sum of `primes` (first is 0): the head's first row in the layer's table.
    public let offsets: [Int64]
    /// Sum of all primes: the row count of the layer's table.
    public let totalRows: Int
    /// token_map[pad_id]: what positions before the start of the sequence read.
    public let padCompressed: Int64
    /// One division-free modulo per prime (same order).
    let moduli: [FastModulo]

    /// Columns of the hash output: (N-1)*K.
    public var columns: Int { primes.count }

    public init(layerId: Int, maxNgramSize: Int, headsPerOrder: Int, multipliers: [Int64],
                primes: [Int64], padCompressed: Int64) throws {
        guard maxNgramSize >= 2, maxNgramSize <= 64 else {
            throw EngramError.format("layer \(layerId): max_ngram_size \(maxNgramSize) out of range")
        }
        guard headsPerOrder >= 1 else { throw EngramError.format("layer \(layerId): no heads per order") }
        guard multipliers.count == maxNgramSize else {
            throw EngramError.format("layer \(layerId): \(multipliers.count) multipliers, max_ngram_size = \(maxNgramSize) needed")
        }
        let (cols, o) = (maxNgramSize - 1).multipliedReportingOverflow(by: headsPerOrder)
        guard !o, primes.count == cols else {
            throw EngramError.format("layer \(layerId): \(primes.count) table sizes, (max_ngram_size-1)*n_head_per_ngram = \(cols) needed")
        }
        var offsets = [Int64]()
        offsets.reserveCapacity(primes.count)
        var total: Int64 = 0
        for (i, p) in primes.enumerated() {
            // p >= 2 keeps the modulo defined; the sum must fit comfortably in an Int.
            guard p >= 2, p < 1 << 48 else { throw EngramError.format("layer \(layerId): table size \(p) of head \(i) out of range") }
            offsets.append(total)
            let (s, o2) = total.addingReportingOverflow(p)
            guard !o2, s < 1 << 52 else { throw EngramError.format("layer \(layerId): table sizes sum beyond range") }
            total = s
        }
        self.layerId = layerId
        self.maxNgramSize = maxNgramSize
        self.headsPerOrder = headsPerOrder
        self.multipliers = multipliers
        self.primes = primes
        self.offsets = offsets
        self.totalRows = Int(total)
        self.padCompressed = padCompressed
        self.moduli = primes.compactMap { FastModulo(divisor: UInt64($0)) }
    }

    /// Reads `layers.<l>.engram.multipliers` (int64 [N]) and `layers.<l>.engram.primes`
    /// (int64 [N-1, K]) of `layer`.
    public init(weights: Weights, layer: Int, tokenMap: TokenMap) throws {
        let c = weights.config
        let n = c.maxNgramSize, k = c.nHeadPerNgram
        let m = try weights.tensor("layers.\(layer).engram.multipliers", shape: [n]).int64s()
        let p = try weights.tensor("layers.\(layer).engram.primes", shape: [n - 1, k]).int64s()
        let pad = try tokenMap.compress(c.padId)
        try self.init(layerId: layer, maxNgramSize: n, headsPerOrder: k, multipliers: m, primes: p, padCompressed: pad)
    }

    /// Hashes `compressed` (T ids) into `out` (T * columns values, row-major [T, columns]).
    /// `history` gives the compressed ids before the sequence; `addOffsets` adds each head's
    /// table offset (row ids) instead of returning per-head indices.
    public func hash(_ compressed: UnsafeBufferPointer<Int64>, history: NgramHistory? = nil,
                     addOffsets: Bool, into out: UnsafeMutablePointer<Int64>) {
        hash(compressed, range: 0..<compressed.count, history: history, addOffsets: addOffsets, into: out)
    }

    /// Hashes positions `range` of `compressed` (earlier positions, the history and the pad
    /// serve as context); writes range.count rows starting at `out`.
    public func hash(_ compressed: UnsafeBufferPointer<Int64>, range: Range<Int>, history: NgramHistory?,
                     addOffsets: Bool, into out: UnsafeMutablePointer<Int64>) {
        let n = maxNgramSize, k = headsPerOrder
        let hist = history?.ids ?? []
        multipliers.withUnsafeBufferPointer { m in
        moduli.withUnsafeBufferPointer { mods in
        offsets.withUnsafeBufferPointer { off in
            // window[j] = c_{t-j}, j in 0..<n.
            withUnsafeTemporaryAllocation(of: Int64.self, capacity: n) { window in
                var o = out
                let cols = mods.count
                for t in range {
                    if t >= n - 1 {
                        for j in 0..<n { window[j] = compressed[t - j] }
                    } else {
                        for j in 0..<n {
                            let s = t - j
                            if s >= 0 {
                                window[j] = compressed[s]
                            } else {
                                let h = hist.count + s   // s = -1 reads the most recent history id
                                window[j] = h >= 0 ? hist[h] : padCompressed
                            }
                        }
                    }
                    var mix = window[0] &* m[0]
                    var col = 0
                    for order in 2...n {
                        mix ^= window[order - 1] &* m[order - 1]
                        if mix >= 0 {
                            let u = UInt64(bitPattern: mix)
                            for _ in 0..<k {
                                let r = Int64(bitPattern: mods[col].residue(u))
                                o[col] = addOffsets ? r &+ off[col] : r
                                col &+= 1
                            }
                        } else {
                            for _ in 0..<k {
                                let r = mods[col].residue(signed: mix)
                                o[col] = addOffsets ? r &+ off[col] : r
                                col &+= 1
                            }
                        }
                    }
                    o += cols
                }
            }
        }
        }
        }
    }
}

/// The streaming hash state: the last N-1 compressed ids of the sequence so far, most recent
/// last (the pad before the first token). Hashing a sequence chunk by chunk, appending each
/// chunk after hashing it, equals hashing the whole sequence at once.
public struct NgramHistory: Sendable, Equatable {
    public private(set) var ids: [Int64]
    public let padCompressed: Int64

    /// An empty history (start of a sequence) keeping `length` = N-1 ids.
    public init(length: Int, padCompressed: Int64) {
        ids = [Int64](repeating: padCompressed, count: max(0, length))
        self.padCompressed = padCompressed
    }

    public mutating func reset() {
        for i in ids.indices { ids[i] = padCompressed }
    }

    /// Records `compressed` as the next ids of the sequence.
    public mutating func append(_ compressed: UnsafeBufferPointer<Int64>) {
        let L = ids.count
        if L == 0 || compressed.isEmpty { return }
        if compressed.count >= L {
            for i in 0..<L { ids[i] = compressed[compressed.count - L + i] }
        } else {
            let shift = compressed.count
            for i in 0..<(L - shift) { ids[i] = ids[i + shift] }
            for i in 0..<shift { ids[L - shift + i] = compressed[i] }
        }
    }

    public mutating func append(_ compressed: [Int64]) {
        compressed.withUnsafeBufferPointer { append($0) }
    }
}
