/// A Hugging Face `tokenizer.json` with a byte-level BPE model, encoding and decoding
/// exactly as the `tokenizers` library does for the features it supports (see
/// `Tokenizer+Load.swift`); anything else in the file is refused with `.unsupported`.
///
/// Immutable after loading: one instance may be shared by any number of threads.
public final class Tokenizer: @unchecked Sendable {
    /// One more than the largest token id (model vocabulary and added tokens).
    public let vocabSize: Int

    /// Token spelling by id ("" where an id has no token).
    let tokens: [String]
    /// Token spelling (UTF-8 bytes) -> id, added tokens included (they win over the model's).
    let tokenIds: BytesMap
    /// What the ByteLevel decoder turns each id into, as ranges of `decodedPool`.
    let decodedStarts: [Int32]
    let decodedPool: [UInt8]
    /// The model's id of each byte's character, -1 if the vocabulary lacks it.
    let byteIds: [Int32]
    let merges: PairMap
    let ignoreMerges: Bool
    let unkId: Int32?

    let added: AddedVocabulary
    /// Merge results of recent words (shared, thread-safe).
    let cache = WordCache()
    let normalizer: [NormalizerStep]
    let preTokenizer: [PreTokenizerStep]
    /// Ids the post-processor puts before and after the text when special tokens are added.
    let prefixIds: [Int32]
    let suffixIds: [Int32]

    enum NormalizerStep: Sendable { case nfc, nfd, nfkc, nfkd, lowercase, stripAccents }
    enum PreTokenizerStep: Sendable {
        case split(SplitPattern, removeMatches: Bool)
        /// ByteLevel: with `add_prefix_space` every piece reaching it that does not start
        /// with a space gets one; with `use_regex` it splits with GPT-2's pattern.
        case byteLevel(SplitPattern?, addPrefixSpace: Bool)
    }

    init(vocabSize: Int, tokens: [String], tokenIds: BytesMap, decodedStarts: [Int32], decodedPool: [UInt8],
         byteIds: [Int32], merges: PairMap, ignoreMerges: Bool, unkId: Int32?, added: AddedVocabulary,
         normalizer: [NormalizerStep], preTokenizer: [PreTokenizerStep], prefixIds: [Int32], suffixIds: [Int32]) {
        self.vocabSize = vocabSize
        self.tokens = tokens
        self.tokenIds = tokenIds
        self.decodedStarts = decodedStarts
        self.decodedPool = decodedPool
        self.byteIds = byteIds
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.unkId = unkId
        self.added = added
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.prefixIds = prefixIds
        self.suffixIds = suffixIds
    }

    // MARK: Lookups

    /// The spelling of token `id` as stored in the file (byte-level characters for model
    /// tokens, the content for added tokens).
    public func token(forId id: Int) throws -> String {
        guard id >= 0 && id < vocabSize else { throw EngramError.outOfRange("token id \(id) is outside 0..<\(vocabSize)") }
        return tokens[id]
    }

    /// The id of a token spelled exactly `token`, if any.
    public func id(forToken token: String) -> Int? {
        tokenIds.find(token).map { Int($0) }
    }

    /// Whether `id` is a special added token.
    public func isSpecial(_ id: Int) -> Bool { added.specialIds.contains(Int32(truncatingIfNeeded: id)) }

    // MARK: Encode

    /// Token ids of valid UTF-8 `text`; with `addSpecialTokens` the post-processor's
    /// tokens (e.g. Llama 3's <|begin_of_text|>) are added.
    public func encode(_ text: UnsafeBufferPointer<UInt8>, addSpecialTokens: Bool = false) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.count / 3 + 4)
        if addSpecialTokens { out.append(contentsOf: prefixIds) }
        var state = EncodeState()
        added.split(text, normalizedPass: false) { range, tokenId in
            if let tokenId { out.append(tokenId); return }
            if normalizer.isEmpty {
                if added.hasNormalized {
                    added.split(UnsafeBufferPointer(rebasing: text[range]), normalizedPass: true) { r2, id2 in
                        if let id2 { out.append(id2); return }
                        let base = range.lowerBound
                        encodeSegment(text, (base + r2.lowerBound)..<(base + r2.upperBound), &out, &state)
                    }
                } else {
                    encodeSegment(text, range, &out, &state)
                }
            } else {
                let normalized = normalize(UnsafeBufferPointer(rebasing: text[range]))
                normalized.withUnsafeBufferPointer { nb in
                    added.split(nb, normalizedPass: true) { r2, id2 in
                        if let id2 { out.append(id2); return }
                        encodeSegment(nb, r2, &out, &state)
                    }
                }
            }
        }
        if addSpecialTokens { out.append(contentsOf: suffixIds) }
        return out
    }

    public func encode(_ text: String, addSpecialTokens: Bool = false) -> [Int32] {
        var t = text
        return t.withUTF8 { encode($0, addSpecialTokens: addSpecialTokens) }
    }

    /// Scratch space reused across the pieces of one encode call.
    struct EncodeState {
        var pieces: [Range<Int>] = []
        var next: [Range<Int>] = []
        var words: [Range<Int>] = []
        var symbols: [Int32] = []
        var ranks: [UInt64] = []
    }

    func normalize(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var s = UnicodeNormalizer.scalars(b)
        for step in normalizer {
            switch step {
            case .nfc: s = UnicodeNormalizer.nfc(s)
            case .nfd: s = UnicodeNormalizer.nfd(s)
            case .nfkc: s = UnicodeNormalizer.nfkc(s)
            case .nfkd: s = UnicodeNormalizer.nfkd(s)
            case .lowercase: s = UnicodeNormalizer.lowercase(s)
            case .stripAccents: s = UnicodeNormalizer.stripAccents(s)
            }
        }
        return UnicodeNormalizer.utf8(s)
    }

    /// Pre-tokenizes b[range] and runs BPE on every piece.
    func encodeSegment(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ out: inout [Int32], _ st: inout EncodeState) {
        if range.isEmpty { return }
        st.pieces.removeAll(keepingCapacity: true)
        st.pieces.append(range)
        var final: SplitPattern? = nil
        var prefixSpace = false
        for step in preTokenizer {
            switch step {
            case let .split(pattern, removeMatches):
                st.next.removeAll(keepingCapacity: true)
                for r in st.pieces { pattern.split(b, r.lowerBound, r.upperBound, removeMatches: removeMatches, into: &st.next) }
                swap(&st.pieces, &st.next)
            case let .byteLevel(pattern, addPrefixSpace):
                final = pattern
                prefixSpace = addPrefixSpace
            }
        }
        // The ByteLevel step (always last): optional prefix space, optional GPT-2 split, BPE.
        for r in st.pieces {
            if prefixSpace && b[r.lowerBound] != 0x20 {
                var spaced: [UInt8] = [0x20]
                spaced.append(contentsOf: UnsafeBufferPointer(rebasing: b[r]))
                spaced.withUnsafeBufferPointer { sb in byteLevelPiece(sb, 0..<sb.count, final, &out, &st) }
            } else {
                byteLevelPiece(b, r, final, &out, &st)
            }
        }
    }

    private func byteLevelPiece(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ pattern: SplitPattern?,
                                _ out: inout [Int32], _ st: inout EncodeState) {
        guard let pattern else { bpe(b, r, &out, &st); return }
        st.words.removeAll(keepingCapacity: true)
        pattern.split(b, r.lowerBound, r.upperBound, removeMatches: false, into: &st.words)
        let words = st.words
        for w in words { bpe(b, w, &out, &st) }
    }

    /// Byte-pair merges of one pre-tokenized word, lowest rank first, leftmost on ties.
    func bpe(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ out: inout [Int32], _ st: inout EncodeState) {
        let n = r.count
        if n == 0 { return }
        if n == 1 {
            let id = byteIds[Int(b[r.lowerBound])]
            if id >= 0 { out.append(id) } else if let unkId { out.append(unkId) }
            return
        }
        let word = UnsafeBufferPointer(rebasing: b[r])
        let cacheable = n <= cache.maxWordBytes
        if cacheable && cache.lookup(word, into: &out) { return }
        if ignoreMerges, let whole = wholeWordId(b, r) {
            out.append(whole)
            return
        }
        st.symbols.removeAll(keepingCapacity: true)
        var pendingUnk = false
        for k in r {
            let id = byteIds[Int(b[k])]
            if id >= 0 { st.symbols.append(id); pendingUnk = false }
            else if let unkId, !pendingUnk { st.symbols.append(unkId); pendingUnk = true }
        }
        mergeSymbols(&st.symbols, &st.ranks)
        if cacheable { cache.insert(word, st.symbols) }
        out.append(contentsOf: st.symbols)
    }

    func wholeWordId(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int32? {
        var s = ByteLevel.token(ofBytes: UnsafeBufferPointer(rebasing: b[r]))
        return s.withUTF8 { tokenIds.find($0) }
    }

    /// Applies the merges to a word: a scan for the lowest rank per merge on short words,
    /// `mergeSymbolsHeap` above `heapAbove` symbols.
    func mergeSymbols(_ symbols: inout [Int32], _ ranks: inout [UInt64], heapAbove: Int = 24) {
        if symbols.count > heapAbove { mergeSymbolsHeap(&symbols); return }
        var count = symbols.count
        if count < 2 { return }
        ranks.removeAll(keepingCapacity: true)
        for k in 0..<(count - 1) { ranks.append(merges.lookup(symbols[k], symbols[k + 1])) }
        symbols.withUnsafeMutableBufferPointer { sym in
            ranks.withUnsafeMutableBufferPointer { rk in
                while count > 1 {
                    var best = UInt64.max, at = -1
                    for k in 0..<(count - 1) where rk[k] < best { best = rk[k]; at = k }
                    if at < 0 { break }
                    sym[at] = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: best))
                    // remove symbol at+1 and the rank of the pair (at, at+1)
                    var k = at + 1
                    while k < count - 1 { sym[k] = sym[k + 1]; k += 1 }
                    k = at
                    while k < count - 2 { rk[k] = rk[k + 1]; k += 1 }
                    count -= 1
                    if at > 0 { rk[at - 1] = merges.lookup(sym[at - 1], sym[at]) }
                    if at < count - 1 { rk[at] = merges.lookup(sym[at], sym[at + 1]) }
                }
            }
        }
        symbols.removeLast(symbols.count - count)
    }

    /// The same merges in O(n log n) for long words: a linked list of symbols and a min-heap
    /// of (rank, left position) entries, stale entries skipped when popped.
    func mergeSymbolsHeap(_ symbols: inout [Int32]) {
        let n = symbols.count
        var next = [Int32](repeating: -1, count: n)
        var prev = [Int32](repeating: -1, count: n)
        var alive = [Bool](repeating: true, count: n)
        var heap: [UInt64] = []
        heap.reserveCapacity(n)
        func push(_ v: UInt64) {
            heap.append(v)
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) >> 1
                if heap[p] <= heap[i] { break }
                heap.swapAt(p, i)
                i = p
            }
        }
        func pop() -> UInt64 {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                let c = heap.count
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < c && heap[l] < heap[m] { m = l }
                    if r < c && heap[r] < heap[m] { m = r }
                    if m == i { break }
                    heap.swapAt(m, i)
                    i = m
                }
            }
            return top
        }
        for k in 0..<n {
            next[k] = k + 1 < n ? Int32(k + 1) : -1
            prev[k] = Int32(k - 1)
            if k + 1 < n {
                let m = merges.lookup(symbols[k], symbols[k + 1])
                if m != UInt64.max { push((m >> 32) << 32 | UInt64(k)) }
            }
        }
        while !heap.isEmpty {
            let e = pop()
            let rank = e >> 32
            let left = Int(e & 0xFFFF_FFFF)
            guard alive[left] else { continue }
            let right = Int(next[left])
            guard right >= 0 else { continue }
            let m = merges.lookup(symbols[left], symbols[right])
            guard m != UInt64.max, m >> 32 == rank else { continue }
            symbols[left] = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: m))
            alive[right] = false
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            let before = prev[left]
            if before >= 0 {
                let pm = merges.lookup(symbols[Int(before)], symbols[left])
                if pm != UInt64.max { push((pm >> 32) << 32 | UInt64(before)) }
            }
            if after >= 0 {
                let nm = merges.lookup(symbols[left], symbols[Int(after)])
                if nm != UInt64.max { push((nm >> 32) << 32 | UInt64(left)) }
            }
        }
        var out = 0
        var k = 0
        while k >= 0 && k < n {
            symbols[out] = symbols[k]
            out += 1
            k = Int(next[k])
        }
        symbols.removeLast(n - out)
    }

    // MARK: Decode

    /// The bytes of ids as the ByteLevel decoder produces them (before UTF-8 decoding).
    public func decodeBytes<S: Sequence>(_ ids: S) throws -> [UInt8] where S.Element: BinaryInteger {
        var out: [UInt8] = []
        for raw in ids {
            guard let id = Int(exactly: raw), id >= 0, id < vocabSize else {
                throw EngramError.outOfRange("token id \(raw) is outside 0..<\(vocabSize)")
            }
            let s = Int(decodedStarts[id]), e = Int(decodedStarts[id + 1])
            out.append(contentsOf: decodedPool[s..<e])
        }
        return out
    }

    /// Text of ids, special tokens kept; invalid UTF-8 becomes U+FFFD (maximal subparts).
    public func decode<S: Sequence>(_ ids: S) throws -> String where S.Element: BinaryInteger {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }
}
