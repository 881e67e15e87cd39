/// GPT-2's byte <-> character table of byte-level BPE: printable bytes stand for
/// themselves, the other 68 bytes for U+0100... in byte order.
enum ByteLevel {
    static let byteToChar: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                t[b] = UInt32(b)
            } else {
                t[b] = 256 + n
                n += 1
            }
        }
        return t
    }()

    /// Character -> byte, for characters U+0000..U+0143; -1 where a character stands for no byte.
    static let charToByte: [Int16] = {
        var t = [Int16](repeating: -1, count: 0x144)
        for b in 0..<256 { t[Int(byteToChar[b])] = Int16(b) }
        return t
    }()

    /// The bytes a vocabulary token stands for, or nil if one of its characters is not a
    /// byte character (the ByteLevel decoder then keeps the token's own UTF-8).
    static func bytes(ofToken s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            let v = Int(u.value)
            guard v < charToByte.count, charToByte[v] >= 0 else { return nil }
            out.append(UInt8(charToByte[v]))
        }
        return out
    }

    /// The token spelling of raw bytes.
    static func token(ofBytes b: UnsafeBufferPointer<UInt8>) -> String {
        var s = ""
        s.unicodeScalars.reserveCapacity(b.count)
        for x in b { s.unicodeScalars.append(Unicode.Scalar(byteToChar[Int(x)]) ?? "?") }
        return s
    }
}

/// Open-addressing map from a pair of token ids to (merge rank, merged id); keys and values
/// interleaved so a probe touches one cache line.
struct PairMap: Sendable {
    private var table: [UInt64]   // [key, value] per slot
    private var shift: UInt64
    private(set) var count = 0
    static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16, bits: UInt64 = 4
        while size < capacity * 2 { size <<= 1; bits += 1 }
        table = [UInt64](repeating: PairMap.empty, count: size * 2)
        shift = 64 - bits
    }

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// Inserts unless present (the first merge of a pair wins, as in `tokenizers`).
    mutating func insertIfAbsent(_ a: Int32, _ b: Int32, rank: UInt32, merged: Int32) {
        let k = PairMap.key(a, b)
        let mask = table.count / 2 - 1
        var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while table[2 * i] != PairMap.empty {
            if table[2 * i] == k { return }
            i = (i + 1) & mask
        }
        table[2 * i] = k
        table[2 * i + 1] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        count += 1
    }

    /// (rank << 32 | merged id), or UInt64.max when the pair does not merge.
    @inline(__always)
    func lookup(_ a: Int32, _ b: Int32) -> UInt64 {
        let k = PairMap.key(a, b)
        return table.withUnsafeBufferPointer { t in
            let mask = t.count / 2 - 1
            var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let x = t[2 * i]
                if x == k { return t[2 * i + 1] }
                if x == PairMap.empty { return UInt64.max }
                i = (i + 1) & mask
            }
        }
    }
}

/// Open-addressing map from byte strings (kept in one pool) to token ids; lookups take a
/// borrowed buffer and allocate nothing. Slots carry a hash tag, so most probes of other
/// keys never touch the pool.
struct BytesMap: Sendable {
    struct Slot { var tag: UInt32; var id: Int32; var start: Int32; var length: Int32 }
    private var slots: [Slot]
    private var pool: [UInt8] = []
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(tag: 0, id: 0, start: 0, length: -1), count: size)
        mask = size - 1
    }

    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return (h ^ (h >> 32)) &* 0x9E37_79B9_7F4A_7C15
    }

    @inline(__always)
    func find(_ b: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = BytesMap.hash(b)
        let tag = UInt32(truncatingIfNeeded: h)
        var i = Int(truncatingIfNeeded: h >> 40) & mask
        return slots.withUnsafeBufferPointer { sl in
            pool.withUnsafeBufferPointer { pool in
                while true {
                    let e = sl[i]
                    if e.length < 0 { return nil }
                    if e.tag == tag && Int(e.length) == b.count {
                        let s = Int(e.start)
                        var k = 0
                        while k < b.count && pool[s + k] == b[k] { k += 1 }
                        if k == b.count { return e.id }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    func find(_ s: String) -> Int32? {
        var s = s
        return s.withUTF8 { find($0) }
    }

    /// Inserts or replaces.
    mutating func set(_ b: UnsafeBufferPointer<UInt8>, _ id: Int32) {
        if count * 2 >= slots.count { grow() }
        let h = BytesMap.hash(b)
        let tag = UInt32(truncatingIfNeeded: h)
        var i = Int(truncatingIfNeeded: h >> 40) & mask
        while true {
            let e = slots[i]
            if e.length < 0 { break }
            if e.tag == tag && Int(e.length) == b.count && pool[Int(e.start)..<Int(e.start) + b.count].elementsEqual(b) {
                slots[i].id = id
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(tag: tag, id: id, start: Int32(truncatingIfNeeded: pool.count), length: Int32(truncatingIfNeeded: b.count))
        pool.append(contentsOf: b)
        count += 1
    }

    mutating func set(_ s: String, _ id: Int32) {
        var s = s
        s.withUTF8 { set($0, id) }
    }

    private mutating func grow() {
        let old = slots
        let size = slots.count * 2
        slots = [Slot](repeating: Slot(tag: 0, id: 0, start: 0, length: -1), count: size)
        mask = size - 1
        pool.withUnsafeBufferPointer { pool in
            for e in old where e.length >= 0 {
                let h = BytesMap.hash(UnsafeBufferPointer(rebasing: pool[Int(e.start)..<Int(e.start + e.length)]))
                var i = Int(truncatingIfNeeded: h >> 40) & mask
                while slots[i].length >= 0 { i = (i + 1) & mask }
                slots[i] = e
            }
        }
    }
}
