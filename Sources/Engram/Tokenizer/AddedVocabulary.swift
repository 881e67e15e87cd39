/// A token of tokenizer.json's `added_tokens`, matched in the text before pre-tokenization.
struct AddedToken: Sendable {
    var content: [UInt8]
    var id: Int32
    var special: Bool
    var lstrip: Bool
    var rstrip: Bool
    var singleWord: Bool
    var normalized: Bool
}

/// Finds added tokens in text as `tokenizers` does: leftmost-longest matches (Aho-Corasick
/// semantics) over the raw text for tokens with `normalized: false`, then over the
/// normalized remainder for the others; `lstrip`/`rstrip` swallow neighbouring
/// whitespace, `single_word` refuses matches inside words.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let specialIds: Set<Int32>
    let hasNormalized: Bool
    private let raw: Trie
    private let normalizedTrie: Trie

    /// A byte trie: node 0 is the root; `first` indexes the root's children by byte.
    struct Trie: Sendable {
        var first = [Int32](repeating: -1, count: 256)
        var children: [[UInt8: Int32]] = [[:]]
        var terminal: [Int32] = [-1]   // index into tokens, -1 none
        var isEmpty: Bool { children.count == 1 }

        mutating func insert(_ bytes: [UInt8], _ token: Int32) {
            guard let b0 = bytes.first else { return }
            var node: Int32
            if first[Int(b0)] >= 0 { node = first[Int(b0)] } else {
                node = Int32(children.count)
                children.append([:]); terminal.append(-1)
                first[Int(b0)] = node
            }
            for b in bytes.dropFirst() {
                if let nx = children[Int(node)][b] { node = nx } else {
                    let nx = Int32(children.count)
                    children.append([:]); terminal.append(-1)
                    children[Int(node)][b] = nx
                    node = nx
                }
            }
            if terminal[Int(node)] < 0 { terminal[Int(node)] = token }
        }

        /// The longest token starting at i: (token index, end).
        @inline(__always)
        func longest(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> (Int32, Int)? {
            var node = first[Int(b[i])]
            if node < 0 { return nil }
            var best: (Int32, Int)? = nil
            var j = i + 1
            while true {
                let t = terminal[Int(node)]
                if t >= 0 { best = (t, j) }
                if j >= b.count { break }
                guard let nx = children[Int(node)][b[j]] else { break }
                node = nx
                j += 1
            }
            return best
        }
    }

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var raw = Trie(), norm = Trie()
        var special = Set<Int32>()
        for (k, t) in tokens.enumerated() {
            if t.normalized { norm.insert(t.content, Int32(k)) } else { raw.insert(t.content, Int32(k)) }
            if t.special { special.insert(t.id) }
        }
        self.raw = raw
        self.normalizedTrie = norm
        specialIds = special
        hasNormalized = !norm.isEmpty
    }

    /// Calls `body` for consecutive ranges of b: (range, token id) for an added token,
    /// (range, nil) for text between them.
    func split(_ b: UnsafeBufferPointer<UInt8>, normalizedPass: Bool, _ body: (Range<Int>, Int32?) -> Void) {
        let trie = normalizedPass ? normalizedTrie : raw
        let n = b.count
        if trie.isEmpty || n == 0 {
            if n > 0 { body(0..<n, nil) }
            return
        }
        var pos = 0, segStart = 0
        while pos < n {
            guard trie.first[Int(b[pos])] >= 0, let (t, end) = trie.longest(b, pos) else { pos += 1; continue }
            let tok = tokens[Int(t)]
            var s = pos, e = end
            if tok.singleWord && (isWordChar(before: s, b) || isWordChar(at: e, b)) { pos += 1; continue }
            if tok.lstrip {
                while s > segStart {
                    var p = s - 1
                    while p > segStart && b[p] & 0xC0 == 0x80 { p -= 1 }
                    let (cp, _) = decodeScalar(b, p)
                    if !UnicodeNormalizer.isWhitespace(cp) { break }
                    s = p
                }
            }
            if tok.rstrip {
                while e < n {
                    let (cp, len) = decodeScalar(b, e)
                    if !UnicodeNormalizer.isWhitespace(cp) { break }
                    e += len
                }
            }
            if segStart < s { body(segStart..<s, nil) }
            body(s..<e, tok.id)
            pos = e
            segStart = e
        }
        if segStart < n { body(segStart..<n, nil) }
    }

    private func isWordChar(_ cp: UInt32) -> Bool {
        cp == 0x5F || UnicodeData.props[cp] & (UnicodeProp.letter | UnicodeProp.number) != 0
    }

    private func isWordChar(before i: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if i == 0 { return false }
        var p = i - 1
        while p > 0 && b[p] & 0xC0 == 0x80 { p -= 1 }
        return isWordChar(decodeScalar(b, p).0)
    }

    private func isWordChar(at i: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if i >= b.count { return false }
        return isWordChar(decodeScalar(b, i).0)
    }
}
