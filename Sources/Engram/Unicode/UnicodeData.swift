/// Decoded Unicode tables (from the generated `UnicodeTables`), built once on first use.
/// Properties follow `tokenizers` exactly (see scripts/gen_unicode_tables.py).
enum UnicodeProp {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let punctuation: UInt8 = 4
    static let symbol: UInt8 = 8
    static let mark: UInt8 = 16
    static let whitespace: UInt8 = 32
    /// Removed by the StripAccents normalizer.
    static let stripMark: UInt8 = 64
}

/// Decodes the integer stream of a generated table (base-32 digits, low first, 6th bit = more).
func decodeTableInts(_ s: StaticString) -> [UInt32] {
    var out: [UInt32] = []
    out.reserveCapacity(s.utf8CodeUnitCount / 2)
    var v: UInt32 = 0, shift: UInt32 = 0
    let p = s.utf8Start
    for i in 0..<s.utf8CodeUnitCount {
        let c = p[i]
        let d: UInt32
        switch c {
        case 65...90: d = UInt32(c - 65)
        case 97...122: d = UInt32(c - 97 + 26)
        case 48...57: d = UInt32(c - 48 + 52)
        case 43: d = 62
        default: d = 63
        }
        v |= (d & 31) << shift
        if d & 32 != 0 { shift += 5 } else { out.append(v); v = 0; shift = 0 }
    }
    return out
}

/// A 0x110000-entry UInt8 table stored as 256-entry blocks behind an index.
struct TwoLevelTable: Sendable {
    let index: [UInt16]
    let blocks: [UInt8]

    init(_ ints: [UInt32]) {
        let n = Int(ints.first ?? 0)
        let nIndex = 0x110000 / 256
        var idx = [UInt16](repeating: 0, count: nIndex)
        var blk = [UInt8](repeating: 0, count: n * 256)
        if ints.count == 1 + nIndex + n * 256 {
            for i in 0..<nIndex { idx[i] = UInt16(truncatingIfNeeded: ints[1 + i]) }
            for i in 0..<(n * 256) { blk[i] = UInt8(truncatingIfNeeded: ints[1 + nIndex + i]) }
        }
        if n == 0 { blk = [UInt8](repeating: 0, count: 256) }
        index = idx
        blocks = blk
    }

    @inline(__always)
    subscript(cp: UInt32) -> UInt8 {
        if cp >= 0x110000 { return 0 }
        return blocks.withUnsafeBufferPointer { b in
            index.withUnsafeBufferPointer { ix in
                b[Int(ix[Int(cp >> 8)]) &* 256 &+ Int(cp & 255)]
            }
        }
    }
}

/// Code point -> replacement sequence, for decompositions and lowercase.
struct ScalarMapping: Sendable {
    let map: [UInt32: Range<Int>]
    let pool: [UInt32]

    init(_ ints: [UInt32]) {
        var m: [UInt32: Range<Int>] = [:]
        var pool: [UInt32] = []
        let n = Int(ints.first ?? 0)
        m.reserveCapacity(n)
        var i = 1
        for _ in 0..<n {
            guard i + 1 < ints.count else { break }
            let cp = ints[i], len = Int(ints[i + 1])
            guard i + 2 + len <= ints.count else { break }
            let start = pool.count
            pool.append(contentsOf: ints[(i + 2)..<(i + 2 + len)])
            m[cp] = start..<pool.count
            i += 2 + len
        }
        map = m
        self.pool = pool
    }
}

enum UnicodeData {
    static let props = TwoLevelTable(decodeTableInts(UnicodeTables.props))
    static let ccc = TwoLevelTable(decodeTableInts(UnicodeTables.ccc))
    static let nfd = ScalarMapping(decodeTableInts(UnicodeTables.nfd))
    static let nfkd = ScalarMapping(decodeTableInts(UnicodeTables.nfkd))
    static let lower = ScalarMapping(decodeTableInts(UnicodeTables.lower))
    static let compose: [UInt64: UInt32] = {
        let ints = decodeTableInts(UnicodeTables.compose)
        var m: [UInt64: UInt32] = [:]
        let n = Int(ints.first ?? 0)
        m.reserveCapacity(n)
        var i = 1
        while i + 2 < ints.count && m.count < n {
            m[UInt64(ints[i]) << 32 | UInt64(ints[i + 1])] = ints[i + 2]
            i += 3
        }
        return m
    }()

    /// Properties of an ASCII byte, without touching the big tables.
    static let asciiProps: [UInt8] = (0..<128).map { props[UInt32($0)] }
}
