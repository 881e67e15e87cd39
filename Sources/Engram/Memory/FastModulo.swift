/// Non-negative `x mod p` for a fixed divisor without a division instruction: the quotient
/// comes from a multiply-high by a precomputed "magic" reciprocal (Granlund & Montgomery,
/// "Division by invariant integers using multiplication", PLDI 1994; the branch-free 65-bit
/// variant), exact for every 64-bit dividend. A 64-bit `div` costs tens of cycles; hashing
/// does (N-1)*K of them per token, so this keeps hashing far below the cost of the gather.
public struct FastModulo: Sendable, Equatable {
    public let divisor: UInt64
    /// Low 64 bits of the 65-bit magic number ceil(2^(64+s+1) / d) (implicit top bit).
    let magic: UInt64
    let shift: UInt64
    /// 2^64 mod d: turns the unsigned residue of a negative Int64 into the signed one.
    let wrap: UInt64

    /// `divisor` must be at least 2.
    public init?(divisor d: UInt64) {
        guard d >= 2 else { return nil }
        divisor = d
        let l = UInt64(63 - d.leadingZeroBitCount)       // floor(log2 d)
        if d & (d &- 1) == 0 {
            // Power of two: q = ((x >> 1) + 0) >> (l - 1).
            magic = 0
            shift = l - 1
        } else {
            // m = floor(2^(64+l) / d), r = remainder; 2^l < d so the quotient fits.
            let (m, r) = d.dividingFullWidth((high: 1 << l, low: 0))
            // Double to 2^(65+l) / d, correcting with the doubled remainder, plus one.
            let twice = r &+ r
            let carry: UInt64 = (twice >= d || twice < r) ? 1 : 0
            magic = (m &+ m) &+ carry &+ 1
            shift = l
        }
        wrap = (UInt64.max % d &+ 1) % d
    }

    /// floor(x / d).
    @inline(__always)
    public func quotient(_ x: UInt64) -> UInt64 {
        let hi = magic.multipliedFullWidth(by: x).high
        return (((x &- hi) >> 1) &+ hi) >> shift
    }

    /// x mod d for x read as unsigned.
    @inline(__always)
    public func residue(_ x: UInt64) -> UInt64 { x &- quotient(x) &* divisor }

    /// The non-negative residue of a signed value (the floor modulo numpy's `%` computes).
    @inline(__always)
    public func residue(signed x: Int64) -> Int64 {
        let r = residue(UInt64(bitPattern: x))
        if x >= 0 { return Int64(bitPattern: r) }
        // x = u - 2^64, so x mod d = (u mod d - 2^64 mod d) mod d.
        return Int64(bitPattern: r >= wrap ? r &- wrap : r &+ divisor &- wrap)
    }
}
