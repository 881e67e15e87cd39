#if canImport(Glibc)
import Glibc
#endif
import CEngramSupport

/// One layer's embedding table (all heads concatenated, SPEC.md section 4) as a view into
/// the model's storage: [rows, width] of float32, float16 or bfloat16, converted to float32
/// when rows are read. Nothing is copied at load: a memory-mapped table costs page cache,
/// not heap.
public struct EngramTable: @unchecked Sendable {
    public let tensor: Tensor
    public let rows: Int
    /// Elements per row (n_embed_per_ngram / K).
    public let width: Int
    public let dtype: DType
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let rowBytes: Int

    public init(tensor: Tensor, rows: Int, width: Int) throws {
        guard tensor.shape == [rows, width] else {
            throw EngramError.format("table \(tensor.name) has shape \(tensor.shape), the hash needs [\(rows), \(width)]")
        }
        switch tensor.dtype {
        case .f32, .f16, .bf16: break
        default: throw EngramError.unsupported("table \(tensor.name) is \(tensor.dtype); float32, float16 or bfloat16 expected")
        }
        guard rows > 0, width > 0, let b = tensor.bytes.baseAddress else {
            throw EngramError.format("table \(tensor.name) is empty")
        }
        self.tensor = tensor
        self.rows = rows
        self.width = width
        self.dtype = tensor.dtype
        self.base = b
        self.rowBytes = width * tensor.dtype.byteSize
    }

    /// Advice to the kernel on the table's pages: `hugePages` asks for transparent huge
    /// pages (fewer TLB misses on random rows), `random` turns read-ahead off, `populate`
    /// maps every page now (MADV_POPULATE_READ; costs time proportional to the size, so off
    /// by default). Failures are ignored: advice is advice.
    public func advise(hugePages: Bool, random: Bool, populate: Bool) {
        let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
        let start = UInt(bitPattern: base) & ~UInt(page - 1)
        let end = UInt(bitPattern: base) + UInt(tensor.bytes.count)
        guard let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        let len = Int(end - start)
        // MADV_HUGEPAGE = 14, MADV_RANDOM = 1, MADV_POPULATE_READ = 22 (Linux 5.14), MADV_WILLNEED = 3.
        if hugePages { _ = madvise(p, len, 14) }
        if random { _ = madvise(p, len, 1) }
        if populate, madvise(p, len, 22) != 0 { _ = madvise(p, len, 3) }
    }

    @inline(__always)
    func rowPointer(_ r: Int64) -> UnsafeRawPointer { base + Int(r) &* rowBytes }

    /// Copies rows `rowIds[0..<count]` (each < rows, trusted: they come from the hasher)
    /// converted to float32 into `out` (count * width floats). Memory-level parallelism:
    /// rows go in groups of `group`; while group g is converted, group g+1 is loaded
    /// (`engram_touch_row`, back to back so its misses overlap) and group g+2 prefetched.
    /// Rows past `count` come from `next` (the following batch) so the pipeline does not
    /// drain between batches. Returns a sink value (keeps the touch loads alive).
    @inline(__always)
    func gather(_ rowIds: UnsafePointer<Int64>, count: Int, next: UnsafePointer<Int64>?, nextCount: Int,
                group: Int, streaming: Bool, into out: UnsafeMutablePointer<Float>) -> UInt32 {
        if usesGatherKernel {
            // The C kernel (AVX2 where the CPU has it): prefetch `group` rows ahead, convert.
            engram_k_gather(base, rowBytes, dtype == .bf16 ? 1 : 0, width, rowIds, count, next, nextCount,
                            max(0, group), streaming ? 1 : 0, out)
            return 0
        }
        switch (dtype, streaming) {
        case (.bf16, false): return gatherLoop(rowIds, count, next, nextCount, group, out, convertBF16)
        case (.bf16, true): return gatherLoop(rowIds, count, next, nextCount, group, out, convertBF16Stream)
        case (.f16, _): return gatherLoop(rowIds, count, next, nextCount, group, out, convertF16)
        case (_, false): return gatherLoop(rowIds, count, next, nextCount, group, out, copyF32)
        case (_, true): return gatherLoop(rowIds, count, next, nextCount, group, out, copyF32Stream)
        }
    }

    /// bf16 and f32 rows of a width divisible by 8 go through the C gather kernel, which
    /// prefetches on its own; the rest through `gatherLoop`'s load-ahead groups.
    var usesGatherKernel: Bool { (dtype == .bf16 || dtype == .f32) && width % 8 == 0 }

    /// Loads the first `count` rows of a batch (the first group before the loop starts; not
    /// needed by the C kernel, which prefetches ahead itself).
    @inline(__always)
    func touch(_ rowIds: UnsafePointer<Int64>, count: Int) -> UInt32 {
        if usesGatherKernel { return 0 }
        var sink: UInt32 = 0
        for i in 0..<count { sink &+= engram_touch_row(rowPointer(rowIds[i]), rowBytes) }
        return sink
    }

    /// Row `i` of the concatenation (ids[0..<count], next[0..<nextCount]), if it exists.
    @inline(__always)
    private func row(_ i: Int, _ ids: UnsafePointer<Int64>, _ count: Int, _ next: UnsafePointer<Int64>?, _ nextCount: Int) -> UnsafeRawPointer? {
        if i < count { return rowPointer(ids[i]) }
        let j = i - count
        if let next, j < nextCount { return rowPointer(next[j]) }
        return nil
    }

    @inline(__always)
    private func gatherLoop(_ ids: UnsafePointer<Int64>, _ count: Int, _ next: UnsafePointer<Int64>?, _ nextCount: Int,
                            _ group: Int, _ out: UnsafeMutablePointer<Float>,
                            _ convert: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void) -> UInt32 {
        let w = width, rb = rowBytes
        let G = max(1, group)
        var sink: UInt32 = 0
        var dst = out
        var g = 0
        while g < count {
            let ge = min(g + G, count)
            if group > 0 {
                // Load group g+1 and prefetch group g+2 (either may reach into the next batch).
                for i in (g + G)..<(g + 2 * G) {
                    guard let p = row(i, ids, count, next, nextCount) else { break }
                    sink &+= engram_touch_row(p, rb)
                }
                for i in (g + 2 * G)..<(g + 3 * G) {
                    guard let p = row(i, ids, count, next, nextCount) else { break }
                    engram_prefetch_row(p, rb)
                }
            }
            for i in g..<ge {
                convert(rowPointer(ids[i]), dst, w)
                dst += w
            }
            g = ge
        }
        return sink
    }
}

// Row converters: `n` elements at `src` (any alignment) to float32 at `dst`.

@inline(__always)
func convertBF16Stream(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if engram_bf16_to_f32_stream(src, dst, n) == 0 { convertBF16(src, dst, n) }
}

@inline(__always)
func copyF32Stream(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if engram_f32_copy_stream(src, dst, n) == 0 { copyF32(src, dst, n) }
}

@inline(__always)
func copyF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    // Inline 32-byte moves (a memmove call per 256-byte row costs more than the copy).
    let d = UnsafeMutableRawPointer(dst)
    var k = 0
    while k &+ 8 <= n {
        d.storeBytes(of: src.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<UInt32>.self), toByteOffset: k &* 4, as: SIMD8<UInt32>.self)
        k &+= 8
    }
    while k < n {
        d.storeBytes(of: src.loadUnaligned(fromByteOffset: k &* 4, as: UInt32.self), toByteOffset: k &* 4, as: UInt32.self)
        k &+= 1
    }
}

@inline(__always)
func convertBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    // 8 lanes at a time (SSE2 on any x86-64): widen, shift into the high half.
    let d = UnsafeMutableRawPointer(dst)
    var k = 0
    while k &+ 8 <= n {
        let v = src.loadUnaligned(fromByteOffset: k &* 2, as: SIMD8<UInt16>.self)
        d.storeBytes(of: SIMD8<UInt32>(truncatingIfNeeded: v) &<< 16, toByteOffset: k &* 4, as: SIMD8<UInt32>.self)
        k &+= 8
    }
    while k < n {
        let h = src.loadUnaligned(fromByteOffset: k &* 2, as: UInt16.self)
        dst[k] = Float(bitPattern: UInt32(h) << 16)
        k &+= 1
    }
}

/// IEEE binary16 -> binary32 without F16C: exact for every input (normals, subnormals,
/// zeros, infinities), NaNs keep their payload and come out quiet as with the hardware
/// instruction (vcvtph2ps) and Swift's `Float(Float16)`; branch-free so the loop vectorizes.
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let em = UInt32(h & 0x7fff)
    // Exponent and mantissa shifted into place: as a float this is value * 2^-112 (also for
    // subnormals, which land on float subnormals); multiplying by 2^112 is exact.
    let scaled = Float(bitPattern: em << 13) * Float(bitPattern: 0x7780_0000)
    let quiet: UInt32 = em > 0x7c00 ? 0x0040_0000 : 0
    let special = Float(bitPattern: (em << 13) | 0x7f80_0000 | quiet)   // inf / NaN with payload
    let v = em >= 0x7c00 ? special : scaled
    return Float(bitPattern: v.bitPattern | sign)
}

/// `halfToFloat` on 8 lanes.
@inline(__always)
func halfToFloat8(_ h: SIMD8<UInt16>) -> SIMD8<UInt32> {
    let w = SIMD8<UInt32>(truncatingIfNeeded: h)
    let sign = (w & 0x8000) &<< 16
    let em = w & 0x7fff
    let shifted = em &<< 13
    let scaled = unsafeBitCast(unsafeBitCast(shifted, to: SIMD8<Float>.self) * Float(bitPattern: 0x7780_0000), to: SIMD8<UInt32>.self)
    let quiet = SIMD8<UInt32>(repeating: 0).replacing(with: 0x0040_0000, where: em .> 0x7c00)
    let special = shifted | 0x7f80_0000 | quiet
    return scaled.replacing(with: special, where: em .>= 0x7c00) | sign
}

@inline(__always)
func convertF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    let d = UnsafeMutableRawPointer(dst)
    var k = 0
    while k &+ 8 <= n {
        let v = src.loadUnaligned(fromByteOffset: k &* 2, as: SIMD8<UInt16>.self)
        d.storeBytes(of: halfToFloat8(v), toByteOffset: k &* 4, as: SIMD8<UInt32>.self)
        k &+= 8
    }
    while k < n {
        dst[k] = halfToFloat(src.loadUnaligned(fromByteOffset: k &* 2, as: UInt16.self))
        k &+= 1
    }
}
