/// A row-major float32 matrix `[rows, cols]` the kernels read: a view into an f32 tensor
/// (mapped, no copy) or an owned float32 copy of an f16/bf16/f64 tensor. `owner` keeps the
/// storage alive. Vectors are matrices with one row.
public struct Matrix: @unchecked Sendable {
    public let base: UnsafePointer<Float>
    public let rows: Int
    public let cols: Int
    let owner: AnyObject?

    public var count: Int { rows * cols }

    /// The tensor as a `[rows, cols]` matrix (its element count must be rows * cols).
    public init(_ t: Tensor, rows: Int, cols: Int) throws {
        guard t.count == rows * cols else {
            throw EngramError.format("tensor \(t.name) has \(t.count) elements, \(rows) x \(cols) expected")
        }
        self.rows = rows
        self.cols = cols
        if t.dtype == .f32, let b = t.bytes.baseAddress, Int(bitPattern: b) % MemoryLayout<Float>.alignment == 0 {
            base = b.assumingMemoryBound(to: Float.self)
            owner = t.owner
        } else if t.count == 0 {
            let s = TensorStorage(byteCount: 4)
            base = UnsafePointer(s.data.baseAddress!.assumingMemoryBound(to: Float.self))
            owner = s
        } else {
            let s = TensorStorage(byteCount: t.count * 4)
            let p = s.data.baseAddress!.assumingMemoryBound(to: Float.self)
            t.convertToFloat(from: 0, count: t.count, into: p)
            base = UnsafePointer(p)
            owner = s
        }
    }

    /// An owned matrix holding `values`.
    public init(values: [Float], rows: Int, cols: Int) {
        let s = TensorStorage(byteCount: max(1, values.count) * 4)
        let p = s.data.baseAddress!.assumingMemoryBound(to: Float.self)
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { p.update(from: b, count: values.count) } }
        base = UnsafePointer(p)
        self.rows = rows
        self.cols = cols
        owner = s
    }

    /// Row `r` (caller checks bounds).
    @inline(__always) public func row(_ r: Int) -> UnsafePointer<Float> { base + r * cols }
}

/// A growable float buffer for activations (reused across calls, 64-byte aligned).
final class FloatBuffer {
    private(set) var p: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(_ n: Int = 0) {
        capacity = max(n, 16)
        p = UnsafeMutablePointer<Float>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)))
        p.initialize(repeating: 0, count: capacity)
    }

    /// The storage with room for at least `n` floats (contents are lost when it grows).
    @discardableResult
    func reserve(_ n: Int) -> UnsafeMutablePointer<Float> {
        if n > capacity {
            UnsafeMutableRawPointer(p).deallocate()
            capacity = n
            p = UnsafeMutablePointer<Float>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)))
            p.initialize(repeating: 0, count: n)
        }
        return p
    }

    deinit { UnsafeMutableRawPointer(p).deallocate() }
}
