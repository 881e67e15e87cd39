/// Element types of stored tensors (ONNX TensorProto data types the engine reads).
public enum DType: String, Sendable, CaseIterable {
    case f32, f16, bf16, f64, i64, i32, i8, u8

    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8: return 1
        }
    }
}

/// A named, typed, row-major view of bytes. `owner` keeps the backing storage alive: a
/// `MappedFile` for mapped external data, a `TensorStorage` for data that had to be copied.
public struct Tensor: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let bytes: UnsafeRawBufferPointer
    public let owner: AnyObject?

    public init(name: String, dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws {
        var count = 1
        for d in shape {
            guard d >= 0 else { throw EngramError.format("tensor \(name) has a negative dimension in \(shape)") }
            let (m, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw EngramError.format("tensor \(name): element count of \(shape) overflows") }
            count = m
        }
        let (nbytes, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o, nbytes == bytes.count else {
            throw EngramError.format("tensor \(name): \(shape) of \(dtype) needs \(o ? "too many" : String(nbytes)) bytes, has \(bytes.count)")
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.owner = owner
    }

    /// Makes a tensor that owns a copy of `values`.
    public static func owning<T>(name: String, dtype: DType, shape: [Int], values: [T]) throws -> Tensor {
        let byteCount = values.count * MemoryLayout<T>.stride
        let storage = TensorStorage(byteCount: byteCount)
        values.withUnsafeBytes { storage.data.copyMemory(from: $0) }
        let view = UnsafeRawBufferPointer(rebasing: storage.data[0..<byteCount])
        return try Tensor(name: name, dtype: dtype, shape: shape, bytes: view, owner: storage)
    }

    public var count: Int { shape.reduce(1, *) }

    /// All elements converted to Float (f32/f16/bf16/f64 and integers).
    public func floats() -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { convertToFloat(from: 0, count: count, into: $0.baseAddress!) }
        return out
    }

    /// Elements `start ..< start+n` converted to Float into `out` (n floats). Caller checks bounds.
    @inline(__always)
    public func convertToFloat(from start: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        let base = bytes.baseAddress!
        switch dtype {
        case .f32:
            out.update(from: (base + start * 4).assumingMemoryBound(to: Float.self), count: n)
        case .bf16:
            let p = (base + start * 2).assumingMemoryBound(to: UInt16.self)
            for k in 0..<n { out[k] = Float(bitPattern: UInt32(p[k]) << 16) }
        case .f16:
            let p = (base + start * 2).assumingMemoryBound(to: Float16.self)
            for k in 0..<n { out[k] = Float(p[k]) }
        case .f64:
            let p = (base + start * 8).assumingMemoryBound(to: Double.self)
            for k in 0..<n { out[k] = Float(p[k]) }
        case .i64:
            let p = (base + start * 8).assumingMemoryBound(to: Int64.self)
            for k in 0..<n { out[k] = Float(p[k]) }
        case .i32:
            let p = (base + start * 4).assumingMemoryBound(to: Int32.self)
            for k in 0..<n { out[k] = Float(p[k]) }
        case .i8:
            let p = (base + start).assumingMemoryBound(to: Int8.self)
            for k in 0..<n { out[k] = Float(p[k]) }
        case .u8:
            let p = (base + start).assumingMemoryBound(to: UInt8.self)
            for k in 0..<n { out[k] = Float(p[k]) }
        }
    }

    /// All elements as Int64 (integer dtypes only).
    public func int64s() throws -> [Int64] {
        let base = bytes.baseAddress
        switch dtype {
        case .i64: return count == 0 ? [] : Array(UnsafeBufferPointer(start: base!.assumingMemoryBound(to: Int64.self), count: count))
        case .i32: return count == 0 ? [] : UnsafeBufferPointer(start: base!.assumingMemoryBound(to: Int32.self), count: count).map(Int64.init)
        default: throw EngramError.format("tensor \(name) is \(dtype), an integer tensor was expected")
        }
    }
}

/// Heap storage for tensors that cannot be views (typed ONNX data, converted weights).
public final class TensorStorage {
    public let data: UnsafeMutableRawBufferPointer
    public init(byteCount: Int) {
        data = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0)
    }
    deinit { data.deallocate() }
}
