/// Offset of the first byte that does not start or continue a valid UTF-8 sequence
/// (overlongs, surrogates and values above U+10FFFF are invalid), or nil if all is valid.
public func firstInvalidUTF8Offset(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
    var i = 0
    let n = b.count
    while i < n {
        let c = b[i]
        if c < 0x80 { i += 1; continue }
        var len = 0
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return i
        }
        if i + len > n { return i }
        let c1 = b[i + 1]
        if c1 < lo || c1 > hi { return i }
        var k = 2
        while k < len {
            if b[i + k] & 0xC0 != 0x80 { return i }
            k += 1
        }
        i += len
    }
    return nil
}
