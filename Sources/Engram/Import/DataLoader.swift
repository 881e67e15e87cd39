#if canImport(Glibc)
import Glibc
#endif
import CEngramONNX

/// Turns the shim's initializers into tensors: views where possible (mapped external data,
/// inline raw data), copies where not. Maps each external data file once.
struct DataLoader {
    let file: ONNXFile
    let folder: String
    var files: [String: MappedFile] = [:]
    var resolvedFolder: String?

    init(file: ONNXFile) {
        self.file = file
        if let slash = file.path.lastIndex(of: "/") {
            let f = String(file.path[..<slash])
            folder = f.isEmpty ? "/" : f
        } else {
            folder = "."
        }
    }

    /// ONNX TensorProto.DataType -> DType (BOOL is read as u8), nil when not readable.
    static func dtype(_ t: Int32) -> DType? {
        switch t {
        case 1: return .f32
        case 2, 9: return .u8
        case 3: return .i8
        case 6: return .i32
        case 7: return .i64
        case 10: return .f16
        case 11: return .f64
        case 16: return .bf16
        default: return nil
        }
    }

    static func typeName(_ t: Int32) -> String {
        let names = [0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
                     8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
                     15: "COMPLEX128", 16: "BFLOAT16"]
        return names[Int(t)] ?? "type \(t)"
    }

    mutating func tensor(_ ini: ONNXFile.Initializer) throws -> (Tensor, ImportReport.Storage) {
        let name = ini.name
        guard let dtype = DataLoader.dtype(ini.dataType) else {
            throw EngramError.unsupported("tensor \(name) has data type \(DataLoader.typeName(ini.dataType)), which the engine does not read")
        }
        var shape: [Int] = []
        var count = 1
        for d in ini.dims {
            guard d >= 0, d < Int64(Int.max) else { throw EngramError.format("tensor \(name) has dimension \(d)") }
            shape.append(Int(d))
            let (m, o) = count.multipliedReportingOverflow(by: Int(d))
            guard !o else { throw EngramError.format("tensor \(name): element count of \(ini.dims) overflows") }
            count = m
        }
        let (nbytes, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o else { throw EngramError.format("tensor \(name): byte size of \(ini.dims) overflows") }
        guard !ini.hasSegment else { throw EngramError.unsupported("tensor \(name) is segmented, which the engine does not read") }

        if ini.isExternal {
            return try external(ini, dtype: dtype, shape: shape, nbytes: nbytes)
        }
        if let raw = ini.raw {
            guard raw.count == nbytes else {
                throw EngramError.format("tensor \(name): raw_data has \(raw.count) bytes, \(shape) of \(dtype) needs \(nbytes)")
            }
            return try view(name, dtype, shape, raw, owner: file, storage: .inline)
        }
        if ini.typedField != Int32(ENGRAM_ONNX_TYPED_NONE) {
            return try typed(ini, dtype: dtype, shape: shape, count: count)
        }
        guard count == 0 else { throw EngramError.format("tensor \(name) (\(shape) of \(dtype)) has no data") }
        return (try Tensor(name: name, dtype: dtype, shape: shape, bytes: UnsafeRawBufferPointer(start: nil, count: 0), owner: nil), .inline)
    }

    /// A view when the bytes are aligned to the element size, else a copy.
    func view(_ name: String, _ dtype: DType, _ shape: [Int], _ bytes: UnsafeRawBufferPointer, owner: AnyObject,
              storage: ImportReport.Storage) throws -> (Tensor, ImportReport.Storage) {
        if let base = bytes.baseAddress, Int(bitPattern: base) % dtype.byteSize != 0 {
            let s = TensorStorage(byteCount: bytes.count)
            s.data.copyMemory(from: bytes)
            let v = UnsafeRawBufferPointer(rebasing: s.data[0..<bytes.count])
            return (try Tensor(name: name, dtype: dtype, shape: shape, bytes: v, owner: s), .copied)
        }
        return (try Tensor(name: name, dtype: dtype, shape: shape, bytes: bytes, owner: owner), storage)
    }

    mutating func external(_ ini: ONNXFile.Initializer, dtype: DType, shape: [Int], nbytes: Int) throws -> (Tensor, ImportReport.Storage) {
        let name = ini.name
        guard let location = ini.location, !location.isEmpty else {
            throw EngramError.format("tensor \(name) is external but has no location")
        }
        let mapped = try map(location, tensor: name)
        let size = Int64(mapped.bytes.count)
        let length = ini.length ?? Int64(nbytes)
        guard length == Int64(nbytes) else {
            throw EngramError.format("tensor \(name): external length \(length) bytes, \(shape) of \(dtype) needs \(nbytes)")
        }
        let (end, o) = ini.offset.addingReportingOverflow(length)
        guard !o, end <= size else {
            throw EngramError.format("tensor \(name): data file \(location) has \(size) bytes, offset \(ini.offset) + length \(length) = \(o ? "overflow" : String(end)) (the file is truncated)")
        }
        let start = Int(ini.offset)
        let bytes = nbytes == 0 ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(rebasing: mapped.bytes[start..<start + nbytes])
        return try view(name, dtype, shape, bytes, owner: mapped, storage: .mapped(location))
    }

    /// Maps the data file `location` (relative to the model's folder), once per file.
    mutating func map(_ location: String, tensor name: String) throws -> MappedFile {
        if let m = files[location] { return m }
        try DataLoader.checkLocation(location, tensor: name)
        let full = folder + "/" + location
        // Symbolic links must not lead out of the folder either.
        let root = try resolvedRoot()
        guard let real = realpath(full, nil) else {
            throw EngramError.io("tensor \(name): cannot open external data \(full): \(String(cString: strerror(errno)))")
        }
        let resolved = String(cString: real)
        free(real)
        guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw EngramError.format("tensor \(name): external data location \"\(location)\" resolves to \(resolved), outside the model's folder")
        }
        let m = try MappedFile(path: resolved)
        files[location] = m
        return m
    }

    /// Refuses locations that are absolute or climb out of the model's folder.
    static func checkLocation(_ location: String, tensor name: String) throws {
        guard !location.isEmpty else { throw EngramError.format("tensor \(name): empty external data location") }
        guard !location.hasPrefix("/") else {
            throw EngramError.format("tensor \(name): external data location \"\(location)\" is absolute; it must be inside the model's folder")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains("..") && !location.contains("\\") && !location.utf8.contains(0) else {
            throw EngramError.format("tensor \(name): external data location \"\(location)\" leaves the model's folder")
        }
    }

    mutating func resolvedRoot() throws -> String {
        if let r = resolvedFolder { return r }
        guard let real = realpath(folder, nil) else {
            throw EngramError.io("cannot resolve the model's folder \(folder): \(String(cString: strerror(errno)))")
        }
        let r = String(cString: real)
        free(real)
        resolvedFolder = r
        return r
    }

    /// Data in a typed repeated field: a view when the field's element type is the tensor's,
    /// else converted (float16/bfloat16/int8/uint8 stored as int32_data).
    func typed(_ ini: ONNXFile.Initializer, dtype: DType, shape: [Int], count: Int) throws -> (Tensor, ImportReport.Storage) {
        let name = ini.name
        guard ini.typedCount == count else {
            throw EngramError.format("tensor \(name): typed data has \(ini.typedCount) elements, \(shape) needs \(count)")
        }
        guard let src = ini.typed, count > 0 else {
            return (try Tensor(name: name, dtype: dtype, shape: shape, bytes: UnsafeRawBufferPointer(start: nil, count: 0), owner: nil), .inline)
        }
        let field = ini.typedField
        let direct: Bool
        switch (dtype, field) {
        case (.f32, Int32(ENGRAM_ONNX_TYPED_FLOAT)), (.i32, Int32(ENGRAM_ONNX_TYPED_INT32)),
             (.i64, Int32(ENGRAM_ONNX_TYPED_INT64)), (.f64, Int32(ENGRAM_ONNX_TYPED_DOUBLE)):
            direct = true
        case (.f16, Int32(ENGRAM_ONNX_TYPED_INT32)), (.bf16, Int32(ENGRAM_ONNX_TYPED_INT32)),
             (.i8, Int32(ENGRAM_ONNX_TYPED_INT32)), (.u8, Int32(ENGRAM_ONNX_TYPED_INT32)):
            direct = false
        default:
            throw EngramError.format("tensor \(name): \(DataLoader.typeName(ini.dataType)) data stored in the wrong typed field (\(field))")
        }
        let nbytes = count * dtype.byteSize
        if direct {
            return try view(name, dtype, shape, UnsafeRawBufferPointer(start: src, count: nbytes), owner: file, storage: .inline)
        }
        let s = TensorStorage(byteCount: nbytes)
        let ints = src.assumingMemoryBound(to: Int32.self)
        let out = s.data.baseAddress!
        if dtype.byteSize == 2 {
            let o16 = out.assumingMemoryBound(to: UInt16.self)
            for k in 0..<count { o16[k] = UInt16(truncatingIfNeeded: ints[k]) }
        } else {
            let o8 = out.assumingMemoryBound(to: UInt8.self)
            for k in 0..<count { o8[k] = UInt8(truncatingIfNeeded: ints[k]) }
        }
        let v = UnsafeRawBufferPointer(rebasing: s.data[0..<nbytes])
        return (try Tensor(name: name, dtype: dtype, shape: shape, bytes: v, owner: s), .copied)
    }
}
