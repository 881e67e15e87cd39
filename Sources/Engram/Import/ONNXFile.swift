import CEngramONNX

/// A parsed ONNX model (through the libonnx shim in Sources/CEngramONNX). Owns the protobuf
/// message: tensors whose data lives inline in the model are views into it, so they keep
/// this object alive as their owner. Immutable after init.
public final class ONNXFile: @unchecked Sendable {
    public let path: String
    let handle: OpaquePointer

    /// Parses `path` (the external data is not read). Throws `.io` when the file cannot be
    /// opened and `.format` when it is not an ONNX model protobuf.
    public init(path: String) throws {
        self.path = path
        var h: OpaquePointer?
        let status = ONNXFile.call { err, cap in engram_onnx_load(path, &h, err, cap) }
        try ONNXFile.throwIfFailed(status.0, status.1, context: nil)
        guard let h else { throw EngramError(.internal, "ONNX shim returned no model for \(path)") }
        handle = h
    }

    deinit { engram_onnx_free(handle) }

    /// Runs ONNX's checker (`onnx::checker::check_model`), external data resolved against
    /// the model's folder. Throws `.format` with the checker's message.
    public func check() throws {
        let r = ONNXFile.call { err, cap in engram_onnx_check(handle, err, cap) }
        try ONNXFile.throwIfFailed(r.0, r.1, context: path)
    }

    public var irVersion: Int64 { engram_onnx_ir_version(handle) }
    /// The default-domain opset the model imports (-1 when none).
    public var opset: Int64 { engram_onnx_opset(handle) }
    public var producer: String { String(cString: engram_onnx_producer(handle)) }

    /// metadata_props in file order.
    public var metadata: [(key: String, value: String)] {
        var out: [(String, String)] = []
        for i in 0..<engram_onnx_metadata_count(handle) {
            var k: UnsafePointer<CChar>?, v: UnsafePointer<CChar>?
            var kn = 0, vn = 0
            guard engram_onnx_metadata(handle, i, &k, &kn, &v, &vn) == 0 else { continue }
            out.append((ONNXFile.string(k, kn), ONNXFile.string(v, vn)))
        }
        return out
    }

    /// One initializer as the shim describes it (pointers into this file's message).
    public struct Initializer {
        public var name: String
        public var dataType: Int32
        public var dims: [Int64]
        public var raw: UnsafeRawBufferPointer?          // raw_data, when present
        public var typedField: Int32                     // ENGRAM_ONNX_TYPED_*
        public var typed: UnsafeRawPointer?
        public var typedCount: Int
        public var isExternal: Bool
        public var location: String?
        public var offset: Int64
        public var length: Int64?                        // nil when absent
        public var hasSegment: Bool
    }

    public var initializerCount: Int { engram_onnx_initializer_count(handle) }

    public func initializer(_ i: Int) throws -> Initializer {
        var t = engram_onnx_tensor()
        let r = ONNXFile.call { err, cap in engram_onnx_initializer(handle, i, &t, err, cap) }
        try ONNXFile.throwIfFailed(r.0, r.1, context: path)
        let dims = t.rank > 0 && t.dims != nil
            ? Array(UnsafeBufferPointer(start: t.dims, count: Int(t.rank))) : []
        return Initializer(
            name: t.name.map { String(cString: $0) } ?? "",
            dataType: t.data_type,
            dims: dims,
            raw: t.has_raw_data != 0 ? UnsafeRawBufferPointer(start: t.raw_size > 0 ? t.raw_data : nil, count: t.raw_size) : nil,
            typedField: t.typed_field,
            typed: t.typed_data,
            typedCount: t.typed_count,
            isExternal: t.is_external != 0,
            location: t.location.map { String(cString: $0) },
            offset: t.offset,
            length: t.length >= 0 ? t.length : nil,
            hasSegment: t.has_segment != 0)
    }

    /// One graph node: op type, scope name (torch.onnx.export writes `/layers.1/engram/value_proj/MatMul`),
    /// inputs and outputs.
    public struct Node {
        public var opType: String
        public var name: String
        public var inputs: [String]
        public var outputs: [String]
        public var index: Int
    }

    public var nodes: [Node] {
        var out: [Node] = []
        for i in 0..<engram_onnx_node_count(handle) {
            var n = engram_onnx_node()
            guard engram_onnx_node_info(handle, i, &n) == 0 else { continue }
            let ins = (0..<n.input_count).map { k in engram_onnx_node_input(handle, i, k).map { String(cString: $0) } ?? "" }
            let outs = (0..<n.output_count).map { k in engram_onnx_node_output(handle, i, k).map { String(cString: $0) } ?? "" }
            out.append(Node(opType: String(cString: n.op_type), name: String(cString: n.name), inputs: ins, outputs: outs, index: i))
        }
        return out
    }

    /// The INTS attribute `name` of node `i` (e.g. Transpose's perm), or nil.
    public func intsAttribute(node i: Int, _ name: String) -> [Int64]? {
        var p: UnsafePointer<Int64>?
        var n = 0
        guard engram_onnx_node_ints(handle, i, name, &p, &n) == 1 else { return nil }
        return n == 0 ? [] : Array(UnsafeBufferPointer(start: p, count: n))
    }

    /// The INT attribute `name` of node `i` (e.g. Gemm's transB), or nil.
    public func intAttribute(node i: Int, _ name: String) -> Int64? {
        var v: Int64 = 0
        return engram_onnx_node_int(handle, i, name, &v) == 1 ? v : nil
    }

    public var graphInputs: [String] {
        (0..<engram_onnx_graph_input_count(handle)).map { engram_onnx_graph_input(handle, $0).map { String(cString: $0) } ?? "" }
    }

    public var graphOutputs: [String] {
        (0..<engram_onnx_graph_output_count(handle)).map { engram_onnx_graph_output(handle, $0).map { String(cString: $0) } ?? "" }
    }

    // MARK: Plumbing

    static let errorCapacity = 4096

    static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> (Int32, String) {
        var buf = [CChar](repeating: 0, count: errorCapacity)
        let status = buf.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        let msg = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (status, msg)
    }

    static func throwIfFailed(_ status: Int32, _ message: String, context: String?) throws {
        guard status != 0 else { return }
        let kind = EngramError.Kind(rawValue: status) ?? .internal
        let text = message.isEmpty ? "ONNX shim failed with status \(status)" : message
        throw EngramError(kind, context.map { "\($0): \(text)" } ?? text)
    }

    static func string(_ p: UnsafePointer<CChar>?, _ n: Int) -> String {
        guard let p, n > 0 else { return "" }
        return p.withMemoryRebound(to: UInt8.self, capacity: n) {
            String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
        }
    }
}
