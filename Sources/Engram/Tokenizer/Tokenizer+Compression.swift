/// The Engram compression table (SPEC section 2): a surjective map from token ids to the
/// ids of their normalized spellings.
extension Tokenizer {
    /// The normalizer of the demo's CompressedTokenizer: NFKC, NFD, strip accents,
    /// lowercase, runs of [ \t\r\n] -> one space, strip surrounding whitespace, except that
    /// a text that is exactly " " at that point stays " ".
    public static func compressionNormalize(_ text: [UInt32]) -> [UInt32] {
        var s = UnicodeNormalizer.nfkc(text)
        s = UnicodeNormalizer.nfd(s)
        s = UnicodeNormalizer.stripAccents(s)
        s = UnicodeNormalizer.lowercase(s)
        var collapsed: [UInt32] = []
        collapsed.reserveCapacity(s.count)
        var inRun = false
        for c in s {
            if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A {
                if !inRun { collapsed.append(0x20) }
                inRun = true
            } else {
                collapsed.append(c)
                inRun = false
            }
        }
        // Replace(^ $ -> U+E000), Strip, Replace(U+E000 -> " ")
        if collapsed == [0x20] { collapsed = [0xE000] }
        var lo = 0, hi = collapsed.count
        while lo < hi && UnicodeNormalizer.isWhitespace(collapsed[lo]) { lo += 1 }
        while hi > lo && UnicodeNormalizer.isWhitespace(collapsed[hi - 1]) { hi -= 1 }
        return collapsed[lo..<hi].map { $0 == 0xE000 ? 0x20 : $0 }
    }

    /// For every id in 0..<vocabSize, its compressed id (SPEC section 2), and the number of
    /// compressed ids.
    public func compressionTable() -> (table: [Int64], count: Int) {
        var keyIds: [[UInt8]: Int64] = [:]
        keyIds.reserveCapacity(vocabSize)
        var table = [Int64](repeating: 0, count: vocabSize)
        for id in 0..<vocabSize {
            let s = Int(decodedStarts[id]), e = Int(decodedStarts[id + 1])
            let text = String(decoding: decodedPool[s..<e], as: UTF8.self)
            var key: [UInt8]
            if text.unicodeScalars.contains("\u{FFFD}") {
                key = Array(tokens[id].utf8)
            } else {
                let norm = Tokenizer.compressionNormalize(UnicodeNormalizer.scalars(text))
                key = norm.isEmpty ? Array(text.utf8) : UnicodeNormalizer.utf8(norm)
            }
            if let k = keyIds[key] {
                table[id] = k
            } else {
                let k = Int64(keyIds.count)
                keyIds[key] = k
                table[id] = k
            }
        }
        return (table, keyIds.count)
    }
}
