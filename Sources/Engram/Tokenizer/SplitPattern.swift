/// The pre-tokenizer regexes of byte-level BPE tokenizer.json files, matched by hand.
///
/// `tokenizers` runs these patterns with Oniguruma (leftmost-first alternation, greedy
/// quantifiers with backtracking). A pattern is split at its top-level `|` and every
/// alternative must be one this file knows (GPT-2, Llama-3, Qwen2, DeepSeek-V3 use only
/// these); the matcher of each alternative reproduces Oniguruma's backtracking result
/// exactly. Anything else is rejected with `unsupported pre-tokenizer pattern`.
struct SplitPattern: Sendable {
    enum Alternative: Sendable, Equatable {
        /// An exact byte string ('s, 't, ... in GPT-2's case-sensitive contractions).
        case literal([UInt8])
        /// (?i:'s|'t|'re|'ve|'m|'ll|'d)
        case contractionsIgnoringCase
        /// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`, ` ?[^\s\p{L}\p{N}]+[\r\n]*`,
        /// ` ?[\p{P}\p{S}]+[\r\n]*`: an optional space, a run of a class, optional newlines.
        case optionalSpaceRun(CharClass, trailingNewlines: Bool)
        /// `[^\r\n\p{L}\p{N}]?\p{L}+`, `[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+`
        case optionalPrefixRun(prefix: CharClass, run: CharClass)
        /// `\p{N}{1,3}` (max 3), `\p{N}` (max 1), `\p{N}+` (max 0 = unbounded)
        case numbers(max: Int)
        /// `[ranges]+` of literal code points (DeepSeek-V3's CJK/kana pattern)
        case rangesRun([ClosedRange<UInt32>])
        /// ``[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+``
        case asciiPunctThenAsciiLetters
        /// `\s*[\r\n]+`
        case spacesThenNewlines
        /// `\s+(?!\S)`
        case spacesNotBeforeNonSpace
        /// `\s+`
        case spaces
    }

    /// A set of code points given by property bits, with exclusions.
    struct CharClass: Sendable, Equatable {
        /// Matches when the code point has any of these property bits...
        var any: UInt8
        /// ...or, if `negated`, when it has none of them (and is not \r or \n when `notNewline`).
        var negated: Bool
        var notNewline: Bool

        @inline(__always)
        func contains(_ cp: UInt32, _ props: UInt8) -> Bool {
            if negated {
                if notNewline && (cp == 10 || cp == 13) { return false }
                return props & any == 0
            }
            return props & any != 0
        }
    }

    let source: String
    let alternatives: [Alternative]

    /// The alternatives compiled to plain values (no payload to retain while matching).
    enum Op: Sendable {
        case literal(Int)
        case contractionsIgnoringCase
        case optionalSpaceRun(CharClass, trailingNewlines: Bool)
        case optionalPrefixRun(prefix: CharClass, run: CharClass)
        case numbers(max: Int)
        case rangesRun(Int)
        case asciiPunctThenAsciiLetters
        case spacesThenNewlines
        case spacesNotBeforeNonSpace
        case spaces
    }
    let ops: [Op]
    let literals: [[UInt8]]
    let rangeSets: [[ClosedRange<UInt32>]]
    /// Property tables, held here so matching does not go through lazy globals.
    let ascii: [UInt8]
    let props: TwoLevelTable

    init(source: String, alternatives: [Alternative]) {
        self.source = source
        self.alternatives = alternatives
        var ops: [Op] = [], literals: [[UInt8]] = [], rangeSets: [[ClosedRange<UInt32>]] = []
        for a in alternatives {
            switch a {
            case let .literal(l): ops.append(.literal(literals.count)); literals.append(l)
            case .contractionsIgnoringCase: ops.append(.contractionsIgnoringCase)
            case let .optionalSpaceRun(c, t): ops.append(.optionalSpaceRun(c, trailingNewlines: t))
            case let .optionalPrefixRun(p, r): ops.append(.optionalPrefixRun(prefix: p, run: r))
            case let .numbers(m): ops.append(.numbers(max: m))
            case let .rangesRun(r): ops.append(.rangesRun(rangeSets.count)); rangeSets.append(r)
            case .asciiPunctThenAsciiLetters: ops.append(.asciiPunctThenAsciiLetters)
            case .spacesThenNewlines: ops.append(.spacesThenNewlines)
            case .spacesNotBeforeNonSpace: ops.append(.spacesNotBeforeNonSpace)
            case .spaces: ops.append(.spaces)
            }
        }
        self.ops = ops
        self.literals = literals
        self.rangeSets = rangeSets
        ascii = UnicodeData.asciiProps
        props = UnicodeData.props
    }

    static let L = UnicodeProp.letter, N = UnicodeProp.number, P = UnicodeProp.punctuation
    static let S = UnicodeProp.symbol, M = UnicodeProp.mark, WS = UnicodeProp.whitespace

    /// The alternatives this matcher knows, by their exact text.
    static let known: [String: Alternative] = {
        var k: [String: Alternative] = [:]
        for c in ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"] { k[c] = .literal(Array(c.utf8)) }
        k["(?i:'s|'t|'re|'ve|'m|'ll|'d)"] = .contractionsIgnoringCase
        let letters = CharClass(any: L, negated: false, notNewline: false)
        let numbers = CharClass(any: N, negated: false, notNewline: false)
        let other = CharClass(any: WS | L | N, negated: true, notNewline: false)
        k[" ?\\p{L}+"] = .optionalSpaceRun(letters, trailingNewlines: false)
        k[" ?\\p{N}+"] = .optionalSpaceRun(numbers, trailingNewlines: false)
        k[" ?[^\\s\\p{L}\\p{N}]+"] = .optionalSpaceRun(other, trailingNewlines: false)
        k[" ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"] = .optionalSpaceRun(other, trailingNewlines: true)
        k[" ?[\\p{P}\\p{S}]+[\\r\\n]*"] = .optionalSpaceRun(CharClass(any: P | S, negated: false, notNewline: false), trailingNewlines: true)
        k["[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"] = .optionalPrefixRun(prefix: CharClass(any: L | N, negated: true, notNewline: true), run: letters)
        k["[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"] = .optionalPrefixRun(
            prefix: CharClass(any: L | P | S, negated: true, notNewline: true), run: CharClass(any: L | M, negated: false, notNewline: false))
        k["\\p{N}{1,3}"] = .numbers(max: 3)
        k["\\p{N}"] = .numbers(max: 1)
        k["\\p{N}+"] = .numbers(max: 0)
        k["[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+"] = .rangesRun([0x4E00...0x9FA5, 0x3040...0x309F, 0x30A0...0x30FF])
        k["[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"] = .asciiPunctThenAsciiLetters
        k["\\s*[\\r\\n]+"] = .spacesThenNewlines
        k["\\s+(?!\\S)"] = .spacesNotBeforeNonSpace
        k["\\s+"] = .spaces
        return k
    }()

    /// GPT-2's pattern, used by the ByteLevel pre-tokenizer when `use_regex` is true.
    static let gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

    init(_ pattern: String) throws {
        var alts: [Alternative] = []
        for part in SplitPattern.topLevelAlternatives(pattern) {
            // A literal CR or LF in a pattern means what \r or \n mean.
            let spelled = part.replacingCR_LF()
            guard let a = SplitPattern.known[spelled] else {
                throw EngramError.unsupported("unsupported pre-tokenizer pattern \(JSON.quote(pattern)): alternative \(JSON.quote(part)) is not one libengram implements")
            }
            alts.append(a)
        }
        guard !alts.isEmpty else { throw EngramError.unsupported("unsupported pre-tokenizer pattern \"\" (empty)") }
        self.init(source: pattern, alternatives: alts)
    }

    /// Splits at `|` outside brackets, parentheses and escapes.
    static func topLevelAlternatives(_ p: String) -> [String] {
        var parts: [String] = []
        var cur = ""
        var depth = 0, inClass = false, escaped = false
        for ch in p {
            if escaped { cur.append(ch); escaped = false; continue }
            switch ch {
            case "\\": escaped = true; cur.append(ch)
            case "[" where !inClass: inClass = true; cur.append(ch)
            case "]" where inClass: inClass = false; cur.append(ch)
            case "(" where !inClass: depth += 1; cur.append(ch)
            case ")" where !inClass: depth -= 1; cur.append(ch)
            case "|" where !inClass && depth == 0: parts.append(cur); cur = ""
            default: cur.append(ch)
            }
        }
        parts.append(cur)
        return parts
    }

    // MARK: Matching

    /// Appends the pieces of `b[start..<end]` (matches and the gaps between them, as
    /// `Isolated` does) to `out`; with `removeMatches` only the gaps (`Removed`).
    func split(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, removeMatches: Bool, into out: inout [Range<Int>]) {
        var pos = start, gap = start
        while pos < end {
            if let e = matchAt(b, pos, end) {
                if gap < pos { out.append(gap..<pos) }
                if !removeMatches { out.append(pos..<e) }
                pos = e
                gap = e
            } else {
                pos += scalarLength(b[pos])
            }
        }
        if gap < end { out.append(gap..<end) }
    }

    @inline(__always)
    func matchAt(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        for op in ops {
            if let e = match(op, b, i, end) { return e }
        }
        return nil
    }

    /// (code point, properties, byte length) at i < end.
    @inline(__always)
    func at(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, UInt8, Int) {
        let c = b[i]
        if c < 0x80 { return (UInt32(c), ascii[Int(c)], 1) }
        let (cp, n) = decodeScalar(b, i)
        return (cp, props[cp], n)
    }

    /// End of the run of `cls` from i (i itself when none), at most `max` code points (0 = no limit).
    @inline(__always)
    func run(_ cls: CharClass, _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, max: Int = 0) -> Int {
        var j = i, count = 0
        while j < end {
            let (cp, pr, n) = at(b, j)
            if !cls.contains(cp, pr) { break }
            j += n
            count += 1
            if max > 0 && count == max { break }
        }
        return j
    }

    @inline(__always)
    func newlines(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var j = i
        while j < end && (b[j] == 10 || b[j] == 13) { j += 1 }
        return j
    }

    func match(_ a: Op, _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        switch a {
        case let .literal(index):
            let lit = literals[index]
            if i + lit.count > end { return nil }
            for k in 0..<lit.count where b[i + k] != lit[k] { return nil }
            return i + lit.count

        case .contractionsIgnoringCase:
            guard b[i] == 0x27, i + 1 < end else { return nil }
            let c1 = b[i + 1] | 0x20
            switch c1 {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
                if b[i + 1] < 0x80 { return i + 2 }
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if b[i + 1] < 0x80 && i + 2 < end && b[i + 2] | 0x20 == UInt8(ascii: "e") { return i + 3 }
            case UInt8(ascii: "l"):
                if b[i + 1] < 0x80 && i + 2 < end && b[i + 2] | 0x20 == UInt8(ascii: "l") { return i + 3 }
            default: break
            }
            // U+017F LATIN SMALL LETTER LONG S folds to 's'
            if b[i + 1] == 0xC5 && i + 2 < end && b[i + 2] == 0xBF { return i + 3 }
            return nil

        case let .optionalSpaceRun(cls, trailingNewlines):
            var k = i
            if b[i] == 0x20 && !cls.contains(0x20, ascii[0x20]) { k = i + 1 }
            let j = run(cls, b, k, end)
            if j == k { return nil }
            return trailingNewlines ? newlines(b, j, end) : j

        case let .optionalPrefixRun(prefix, runClass):
            let (cp, pr, n) = at(b, i)
            if prefix.contains(cp, pr) {
                let j = run(runClass, b, i + n, end)
                if j > i + n { return j }
            }
            let j = run(runClass, b, i, end)
            return j > i ? j : nil

        case let .numbers(max):
            let j = run(CharClass(any: UnicodeProp.number, negated: false, notNewline: false), b, i, end, max: max)
            return j > i ? j : nil

        case let .rangesRun(index):
            let ranges = rangeSets[index]
            var j = i
            while j < end {
                let (cp, _, n) = at(b, j)
                var hit = false
                for r in ranges where r.contains(cp) { hit = true; break }
                if !hit { break }
                j += n
            }
            return j > i ? j : nil

        case .asciiPunctThenAsciiLetters:
            let c = b[i]
            let punct = (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E)
            guard punct else { return nil }
            var j = i + 1
            while j < end, (b[j] | 0x20) >= 0x61 && (b[j] | 0x20) <= 0x7A { j += 1 }
            return j > i + 1 ? j : nil

        case .spacesThenNewlines:
            // greedy \s* backtracks to the last \r or \n of the whitespace run
            var j = i, lastNL = -1
            while j < end {
                let (cp, pr, n) = at(b, j)
                if pr & UnicodeProp.whitespace == 0 { break }
                if cp == 10 || cp == 13 { lastNL = j }
                j += n
            }
            return lastNL >= 0 ? lastNL + 1 : nil

        case .spacesNotBeforeNonSpace:
            var j = i, lastStart = i
            while j < end {
                let (_, pr, n) = at(b, j)
                if pr & UnicodeProp.whitespace == 0 { break }
                lastStart = j
                j += n
            }
            if j == i { return nil }
            if j == end { return j }
            // followed by a non-space: give back the last whitespace character
            return lastStart > i ? lastStart : nil

        case .spaces:
            var j = i
            while j < end {
                let (_, pr, n) = at(b, j)
                if pr & UnicodeProp.whitespace == 0 { break }
                j += n
            }
            return j > i ? j : nil
        }
    }
}

@inline(__always)
func scalarLength(_ lead: UInt8) -> Int {
    if lead < 0x80 { return 1 }
    if lead < 0xE0 { return 2 }
    if lead < 0xF0 { return 3 }
    return 4
}

extension String {
    /// The string with literal CR and LF characters written as the escapes \r and \n.
    fileprivate func replacingCR_LF() -> String {
        var out = ""
        for u in unicodeScalars {
            switch u {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
