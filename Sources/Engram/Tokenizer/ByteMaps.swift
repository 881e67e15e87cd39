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

/// Open-addressing map from a pair of token ids to (merge rank, merged id).
struct PairMap: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var shift: UInt64
    private(set) var count = 0
    static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16, bits: UInt64 = 4
        while size < capacity * 2 { size <<= 1; bits += 1 }
        keys = [UInt64](repeating: PairMap.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        shift = 64 - bits
    }

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// Inserts unless present (the first merge of a pair wins, as in `tokenizers`).
    mutating func insertIfAbsent(_ a: Int32, _ b: Int32, rank: UInt32, merged: Int32) {
        let k = PairMap.key(a, b)
        let mask = keys.count - 1
        var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while keys[i] != PairMap.empty {
            if keys[i] == k { return }
            i = (i + 1) & mask
        }
        keys[i] = k
        values[i] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        count += 1
    }

    /// (rank << 32 | merged id), or UInt64.max when the pair does not merge.
    @inline(__always)
    func lookup(_ a: Int32, _ b: Int32) -> UInt64 {
        let k = PairMap.key(a, b)
        return keys.withUnsafeBufferPointer { kp in
            let mask = kp.count - 1
            var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let x = kp[i]
                if x == k { return values[i] }
                if x == PairMap.empty { return UInt64.max }
                i = (i + 1) & mask
            }
        }
    }
}

/// Open-addressing map from byte strings (kept in one pool) to token ids; lookups take a
/// borrowed buffer and allocate nothing.
struct BytesMap: Sendable {
    private var slots: [Int32]          // index into entries, -1 empty
    private var entries: [(start: Int32, length: Int32, id: Int32)] = []
    private var pool: [UInt8] = []
    private var mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        entries.reserveCapacity(capacity)
    }

    var count: Int { entries.count }

    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    func find(_ b: UnsafeBufferPointer<UInt8>) -> Int32? {
        var i = BytesMap.hash(b) & mask
        return pool.withUnsafeBufferPointer { pool in
            while true {
                let e = slots[i]
                if e < 0 { return nil }
                let ent = entries[Int(e)]
                if Int(ent.length) == b.count {
                    var same = true
                    var k = 0
                    let s = Int(ent.start)
                    while k < b.count { if pool[s + k] != b[k] { same = false; break }; k += 1 }
                    if same { return ent.id }
                }
                i = (i + 1) & mask
            }
        }
    }

    func find(_ s: String) -> Int32? {
        var s = s
        return s.withUTF8 { find($0) }
    }

    /// Inserts or replaces.
    mutating func set(_ b: UnsafeBufferPointer<UInt8>, _ id: Int32) {
        if entries.count * 2 >= slots.count { grow() }
        var i = BytesMap.hash(b) & mask
        while true {
            let e = slots[i]
            if e < 0 { break }
            let ent = entries[Int(e)]
            if Int(ent.length) == b.count && pool[Int(ent.start)..<Int(ent.start) + b.count].elementsEqual(b) {
                entries[Int(e)].id = id
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Int32(entries.count)
        entries.append((Int32(pool.count), Int32(b.count), id))
        pool.append(contentsOf: b)
    }

    mutating func set(_ s: String, _ id: Int32) {
        var s = s
        s.withUTF8 { set($0, id) }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        pool.withUnsafeBufferPointer { pool in
            for (n, ent) in entries.enumerated() {
                var i = BytesMap.hash(UnsafeBufferPointer(rebasing: pool[Int(ent.start)..<Int(ent.start + ent.length)])) & mask
                while slots[i] >= 0 { i = (i + 1) & mask }
                slots[i] = Int32(n)
            }
        }
    }
}
