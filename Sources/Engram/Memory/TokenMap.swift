/// The tokenizer compression table (SPEC.md section 2) as the model stores it: raw token id
/// -> compressed id, `engram.token_map` int64 [vocab_size]. Compressed ids are dense in
/// `0 ..< compressedVocabSize` (V').
public struct TokenMap: Sendable {
    /// map[i] = compressed id of raw id i.
    public let map: [Int64]
    /// V' = 1 + the largest compressed id.
    public let compressedVocabSize: Int

    public var vocabSize: Int { map.count }

    /// Checks every entry: ids must lie in `0 ..< map.count` (a compression never grows the
    /// vocabulary).
    public init(_ map: [Int64]) throws {
        guard !map.isEmpty else { throw EngramError.format("token map is empty") }
        var maxId: Int64 = 0
        for (i, c) in map.enumerated() {
            guard c >= 0, c < Int64(map.count) else {
                throw EngramError.format("token map entry \(i) = \(c) outside 0..<\(map.count)")
            }
            if c > maxId { maxId = c }
        }
        self.map = map
        self.compressedVocabSize = Int(maxId) + 1
    }

    /// Reads `engram.token_map` (int64 or int32, shape [vocab_size]).
    public init(weights: Weights) throws {
        let t = try weights.tensor("engram.token_map", shape: [weights.config.vocabSize])
        try self.init(t.int64s())
    }

    /// The compressed id of raw id `id`, or an out-of-range error naming `position`.
    @inline(__always)
    public func compress(_ id: Int, position: Int = 0) throws -> Int64 {
        guard id >= 0, id < map.count else {
            throw EngramError.outOfRange("token id \(id) at position \(position) is outside the vocabulary 0..<\(map.count)")
        }
        return map[id]
    }

    /// Compresses `ids` into `out` (same count). Throws on the first id outside the
    /// vocabulary; `out` may then be partly written.
    public func compress<I: BinaryInteger>(_ ids: UnsafeBufferPointer<I>, into out: UnsafeMutablePointer<Int64>) throws {
        try map.withUnsafeBufferPointer { m in
            let n = m.count
            for (t, raw) in ids.enumerated() {
                guard let id = Int(exactly: raw), id >= 0, id < n else {
                    throw EngramError.outOfRange("token id \(raw) at position \(t) is outside the vocabulary 0..<\(n)")
                }
                out[t] = m[id]
            }
        }
    }

    public func compress<I: BinaryInteger>(_ ids: [I]) throws -> [Int64] {
        var out = [Int64](repeating: 0, count: ids.count)
        if ids.isEmpty { return out }
        try ids.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                guard let base = dst.baseAddress else { return }
                try compress(src, into: base)
            }
        }
        return out
    }

    /// The compressed ids of `ids` as a new array (all ids validated first).
    public func compressChecked<I: BinaryInteger>(_ ids: UnsafeBufferPointer<I>) throws -> [Int64] {
        var out = [Int64](repeating: 0, count: ids.count)
        if ids.isEmpty { return out }
        try out.withUnsafeMutableBufferPointer { dst in
            guard let base = dst.baseAddress else { return }
            try compress(ids, into: base)
        }
        return out
    }
}
