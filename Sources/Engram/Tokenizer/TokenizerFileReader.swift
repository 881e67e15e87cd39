/// A fast path for the two big members of tokenizer.json, `model.vocab` and `model.merges`
/// (hundreds of thousands of strings): they are read straight into byte pools instead of
/// JSON values. Everything else goes through the general `JSON` parser.
struct TokenizerFileReader {
    /// Token spellings (UTF-8) in one pool: entry k is pool[starts[k]..<starts[k+1]] with id ids[k].
    var vocabPool: [UInt8] = []
    var vocabStarts: [Int32] = [0]
    var vocabIds: [Int32] = []
    var sawVocab = false
    /// Merges: each is two spellings in `mergePool`, bounds in `mergeBounds` (a start, a end = b start - 1, b end).
    var mergePool: [UInt8] = []
    var mergeBounds: [(Int32, Int32, Int32, Int32)] = []
    var sawMerges = false
    /// The document with `vocab` and `merges` left out of `model`.
    var root: JSON = .null

    /// Token ids must be below this (4M; real vocabularies stay under 300k), which bounds
    /// what a hostile file can make the loader allocate.
    static let maxId = 1 << 22

    init(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        var p = JSONParser(bytes: bytes, maxDepth: 512)
        p.skipSpace()
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") else {
            throw EngramError.format("tokenizer.json: the top level is not an object")
        }
        var members: [(String, JSON)] = []
        try TokenizerFileReader.members(&p) { key, p in
            if key == "model" {
                members.append((key, try self.model(&p)))
            } else {
                members.append((key, try p.value(depth: 1)))
            }
        }
        p.skipSpace()
        guard p.i == bytes.count else { throw p.error("unexpected data after the JSON value") }
        root = .object(members)
    }

    /// Iterates the members of the object starting at p.i ("{").
    static func members(_ p: inout JSONParser, _ body: (String, inout JSONParser) throws -> Void) throws {
        p.i += 1
        p.skipSpace()
        if p.i < p.bytes.count && p.bytes[p.i] == UInt8(ascii: "}") { p.i += 1; return }
        while true {
            p.skipSpace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\"") else { throw p.error("expected a member name") }
            let key = try p.string()
            p.skipSpace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: ":") else { throw p.error("expected ':'") }
            p.i += 1
            p.skipSpace()
            try body(key, &p)
            p.skipSpace()
            guard p.i < p.bytes.count else { throw p.error("unterminated object") }
            if p.bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
            if p.bytes[p.i] == UInt8(ascii: "}") { p.i += 1; return }
            throw p.error("expected ',' or '}'")
        }
    }

    mutating func model(_ p: inout JSONParser) throws -> JSON {
        guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "{") else { return try p.value(depth: 1) }
        var members: [(String, JSON)] = []
        try TokenizerFileReader.members(&p) { key, p in
            if key == "vocab", p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "{") {
                try self.vocab(&p)
            } else if key == "merges", p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "[") {
                try self.merges(&p)
            } else {
                members.append((key, try p.value(depth: 2)))
            }
        }
        return .object(members)
    }

    /// Appends the string at p.i (opening quote) to `pool`, unescaped and validated.
    static func string(_ p: inout JSONParser, into pool: inout [UInt8]) throws {
        let start = p.i + 1
        var j = start
        let b = p.bytes
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: b[start..<j])
                if let bad = firstInvalidUTF8Offset(raw) { p.i = start + bad; throw p.error("invalid UTF-8 in string") }
                pool.append(contentsOf: raw)
                p.i = j + 1
                return
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            j += 1
        }
        // escapes: the general reader
        let s = try p.string()
        pool.append(contentsOf: s.utf8)
    }

    mutating func vocab(_ p: inout JSONParser) throws {
        sawVocab = true
        try TokenizerFileReader.membersRaw(&p) { p in
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\"") else { throw p.error("expected a member name") }
            try TokenizerFileReader.string(&p, into: &vocabPool)
            p.skipSpace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: ":") else { throw p.error("expected ':'") }
            p.i += 1
            p.skipSpace()
            var v = 0, digits = 0
            while p.i < p.bytes.count, p.bytes[p.i] >= 0x30, p.bytes[p.i] <= 0x39, digits < 9 {
                v = v * 10 + Int(p.bytes[p.i] - 0x30)
                p.i += 1
                digits += 1
            }
            guard digits > 0, v < TokenizerFileReader.maxId, p.i < p.bytes.count,
                  p.bytes[p.i] == UInt8(ascii: ",") || p.bytes[p.i] == UInt8(ascii: "}") || p.bytes[p.i] <= 0x20 else {
                throw p.error("a vocabulary id is not an integer in 0..<\(TokenizerFileReader.maxId)")
            }
            guard vocabPool.count < Int(Int32.max) else { throw p.error("vocabulary too large") }
            vocabStarts.append(Int32(vocabPool.count))
            vocabIds.append(Int32(v))
        }
    }

    /// Object members where the body reads the key itself (p.i at the key's quote).
    static func membersRaw(_ p: inout JSONParser, _ body: (inout JSONParser) throws -> Void) throws {
        p.i += 1
        p.skipSpace()
        if p.i < p.bytes.count && p.bytes[p.i] == UInt8(ascii: "}") { p.i += 1; return }
        while true {
            p.skipSpace()
            try body(&p)
            p.skipSpace()
            guard p.i < p.bytes.count else { throw p.error("unterminated object") }
            if p.bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
            if p.bytes[p.i] == UInt8(ascii: "}") { p.i += 1; return }
            throw p.error("expected ',' or '}'")
        }
    }

    mutating func merges(_ p: inout JSONParser) throws {
        sawMerges = true
        p.i += 1
        p.skipSpace()
        if p.i < p.bytes.count && p.bytes[p.i] == UInt8(ascii: "]") { p.i += 1; return }
        while true {
            p.skipSpace()
            guard p.i < p.bytes.count else { throw p.error("unterminated merges") }
            let a0 = Int32(mergePool.count)
            if p.bytes[p.i] == UInt8(ascii: "\"") {
                try TokenizerFileReader.string(&p, into: &mergePool)
                let end = mergePool.count
                var space = -1, spaces = 0
                for k in Int(a0)..<end where mergePool[k] == 0x20 { space = k; spaces += 1 }
                guard spaces == 1 else {
                    throw EngramError.format("tokenizer.json: merge \(mergeBounds.count) \(JSON.quote(String(decoding: mergePool[Int(a0)..<end], as: UTF8.self))) is not two tokens separated by a space")
                }
                mergeBounds.append((a0, Int32(space), Int32(space + 1), Int32(end)))
            } else if p.bytes[p.i] == UInt8(ascii: "[") {
                p.i += 1
                p.skipSpace()
                guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\"") else { throw p.error("a merge pair is not two strings") }
                try TokenizerFileReader.string(&p, into: &mergePool)
                let a1 = Int32(mergePool.count)
                p.skipSpace()
                guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: ",") else { throw p.error("a merge pair is not two strings") }
                p.i += 1
                p.skipSpace()
                guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\"") else { throw p.error("a merge pair is not two strings") }
                try TokenizerFileReader.string(&p, into: &mergePool)
                p.skipSpace()
                guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "]") else { throw p.error("a merge pair is not two strings") }
                p.i += 1
                mergeBounds.append((a0, a1, a1, Int32(mergePool.count)))
            } else {
                throw EngramError.format("tokenizer.json: merge \(mergeBounds.count) is neither \"a b\" nor [\"a\", \"b\"]")
            }
            guard mergePool.count < Int(Int32.max) else { throw p.error("merges too large") }
            p.skipSpace()
            guard p.i < p.bytes.count else { throw p.error("unterminated merges") }
            if p.bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
            if p.bytes[p.i] == UInt8(ascii: "]") { p.i += 1; return }
            throw p.error("expected ',' or ']'")
        }
    }
}
