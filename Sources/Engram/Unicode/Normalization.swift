/// Unicode normalization forms and the character-wise transforms of `tokenizers`'
/// normalizers, on arrays of scalar values (no Foundation). Results equal `tokenizers`'
/// NFD/NFKD/NFC/NFKC, StripAccents and Lowercase (tables generated from it).
public enum UnicodeNormalizer {
    static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    static let nCount: UInt32 = 21 * 28, sCount: UInt32 = 19 * 21 * 28

    /// Canonical (NFD) or compatibility (NFKD) decomposition, canonically ordered.
    public static func decompose(_ s: [UInt32], compatibility: Bool) -> [UInt32] {
        let table = compatibility ? UnicodeData.nfkd : UnicodeData.nfd
        var out: [UInt32] = []
        out.reserveCapacity(s.count + 8)
        for c in s {
            if c >= sBase && c < sBase + sCount {
                let si = c - sBase
                out.append(lBase + si / nCount)
                out.append(vBase + (si % nCount) / tCount)
                let t = si % tCount
                if t != 0 { out.append(tBase + t) }
            } else if c < 0xC0 && !compatibility {
                out.append(c)
            } else if let r = table.map[c] {
                out.append(contentsOf: table.pool[r])
            } else {
                out.append(c)
            }
        }
        canonicalOrder(&out)
        return out
    }

    /// Stable-sorts every run of non-starters by combining class.
    static func canonicalOrder(_ s: inout [UInt32]) {
        var i = 0
        let n = s.count
        while i < n {
            if s[i] < 0x300 || UnicodeData.ccc[s[i]] == 0 { i += 1; continue }
            var j = i
            while j < n && s[j] >= 0x300 && UnicodeData.ccc[s[j]] != 0 { j += 1 }
            if j - i > 1 {
                // insertion sort: runs are short, and it is stable
                for a in (i + 1)..<j {
                    let x = s[a]
                    let cx = UnicodeData.ccc[x]
                    var b = a - 1
                    while b >= i && UnicodeData.ccc[s[b]] > cx { s[b + 1] = s[b]; b -= 1 }
                    s[b + 1] = x
                }
            }
            i = j
        }
    }

    /// Canonical composition of a decomposed, canonically ordered sequence.
    static func compose(_ s: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(s.count)
        var starter = -1     // index in `out` of the last starter
        var lastCC: UInt8 = 0 // combining class of out.last
        for c in s {
            let cc: UInt8 = c < 0x300 ? 0 : UnicodeData.ccc[c]
            if starter >= 0 {
                let st = out[starter]
                let adjacent = out.count - 1 == starter
                if adjacent && st >= lBase && st < lBase + lCount && c >= vBase && c < vBase + vCount {
                    out[starter] = sBase + ((st - lBase) * vCount + (c - vBase)) * tCount
                    continue
                }
                if adjacent && st >= sBase && st < sBase + sCount && (st - sBase) % tCount == 0
                    && c > tBase && c < tBase + tCount {
                    out[starter] = st + (c - tBase)
                    continue
                }
                if adjacent || (lastCC != 0 && lastCC < cc),
                   let comp = UnicodeData.compose[UInt64(st) << 32 | UInt64(c)] {
                    out[starter] = comp
                    continue
                }
            }
            if cc == 0 { starter = out.count }
            out.append(c)
            lastCC = cc
        }
        return out
    }

    public static func nfd(_ s: [UInt32]) -> [UInt32] { decompose(s, compatibility: false) }
    public static func nfkd(_ s: [UInt32]) -> [UInt32] { decompose(s, compatibility: true) }
    public static func nfc(_ s: [UInt32]) -> [UInt32] { compose(decompose(s, compatibility: false)) }
    public static func nfkc(_ s: [UInt32]) -> [UInt32] { compose(decompose(s, compatibility: true)) }

    /// Drops combining marks (the StripAccents normalizer).
    public static func stripAccents(_ s: [UInt32]) -> [UInt32] {
        s.filter { $0 < 0x300 || UnicodeData.props[$0] & UnicodeProp.stripMark == 0 }
    }

    /// Character-wise lowercase (Rust's char::to_lowercase, no final-sigma rule), as the
    /// Lowercase normalizer does.
    public static func lowercase(_ s: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(s.count)
        for c in s {
            if c < 0x80 {
                out.append(c >= 0x41 && c <= 0x5A ? c + 32 : c)
            } else if let r = UnicodeData.lower.map[c] {
                out.append(contentsOf: UnicodeData.lower.pool[r])
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// True for White_Space (Rust's char::is_whitespace; Oniguruma's \s).
    public static func isWhitespace(_ c: UInt32) -> Bool {
        UnicodeData.props[c] & UnicodeProp.whitespace != 0
    }
}

extension UnicodeNormalizer {
    /// Scalars of valid UTF-8 bytes.
    public static func scalars(_ b: UnsafeBufferPointer<UInt8>) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let (c, n) = decodeScalar(b, i)
            out.append(c)
            i += n
        }
        return out
    }

    public static func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    /// UTF-8 bytes of scalars (invalid values become U+FFFD).
    public static func utf8(_ s: [UInt32]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        for c in s { appendUTF8(c, to: &out) }
        return out
    }

    public static func string(_ s: [UInt32]) -> String {
        String(decoding: utf8(s), as: UTF8.self)
    }
}

/// Decodes the scalar at byte `i` of valid UTF-8 (invalid input yields U+FFFD, 1 byte).
@inline(__always)
func decodeScalar(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let c0 = UInt32(b[i])
    if c0 < 0x80 { return (c0, 1) }
    let n = b.count
    if c0 >= 0xC0 && c0 < 0xE0 && i + 1 < n {
        return ((c0 & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F), 2)
    }
    if c0 >= 0xE0 && c0 < 0xF0 && i + 2 < n {
        return ((c0 & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F), 3)
    }
    if c0 >= 0xF0 && i + 3 < n {
        return ((c0 & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6 | UInt32(b[i + 3] & 0x3F), 4)
    }
    return (0xFFFD, 1)
}

@inline(__always)
func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
    var c = c
    if c >= 0x110000 || (c >= 0xD800 && c < 0xE000) { c = 0xFFFD }
    if c < 0x80 {
        out.append(UInt8(c))
    } else if c < 0x800 {
        out.append(UInt8(0xC0 | c >> 6)); out.append(UInt8(0x80 | c & 0x3F))
    } else if c < 0x10000 {
        out.append(UInt8(0xE0 | c >> 12)); out.append(UInt8(0x80 | (c >> 6) & 0x3F)); out.append(UInt8(0x80 | c & 0x3F))
    } else {
        out.append(UInt8(0xF0 | c >> 18)); out.append(UInt8(0x80 | (c >> 12) & 0x3F))
        out.append(UInt8(0x80 | (c >> 6) & 0x3F)); out.append(UInt8(0x80 | c & 0x3F))
    }
}
