/// Maps initializers that `torch.onnx.export` renamed back to their state-dict names.
///
/// What the TorchScript exporter (dynamo=False, opset 17) does to parameters:
/// - without constant folding, parameters keep their state-dict names;
/// - with constant folding, a Linear applied to a 3-D input becomes `MatMul(x, W^T)` and the
///   folded `W^T` is a new initializer named like `onnx::MatMul_123`; other parameters may
///   be renamed the same way when an op on them was folded.
/// Every node carries its module scope in its name (`/layers.1/engram/value_proj/MatMul`), so
/// an initializer used by a node of module `layers.1.engram.value_proj` is that module's
/// `weight` or `bias`: whichever expected name is missing and matches its shape (as is, or
/// transposed for a 2-D weight, which is then transposed back into a copy).
enum NameRecovery {
    static func recover(file: ONNXFile, tensors: inout [String: Tensor], expected: [ExpectedTensor]) throws -> [ImportReport.Rename] {
        let want = Dictionary(expected.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var missing = Set(want.keys.filter { tensors[$0] == nil })
        guard !missing.isEmpty else { return [] }
        let nodes = file.nodes
        var renames: [ImportReport.Rename] = []
        for node in nodes {
            guard let scope = moduleScope(node.name) else { continue }
            for input in node.inputs where !input.isEmpty && want[input] == nil {
                guard let t = tensors[input] else { continue }
                for suffix in ["weight", "bias"] {
                    let candidate = scope + "." + suffix
                    guard missing.contains(candidate), let e = want[candidate], e.kind == .float else { continue }
                    if t.shape == e.shape {
                        tensors[candidate] = try Tensor(name: candidate, dtype: t.dtype, shape: t.shape, bytes: t.bytes, owner: t.owner)
                    } else if t.shape.count == 2, e.shape.count == 2, t.shape == [e.shape[1], e.shape[0]] {
                        tensors[candidate] = try transposed(t, name: candidate)
                    } else {
                        continue
                    }
                    tensors[input] = nil
                    missing.remove(candidate)
                    renames.append(.init(from: input, to: candidate, transposed: t.shape != e.shape))
                    break
                }
                if missing.isEmpty { return renames }
            }
        }
        return renames
    }

    /// `/layers.1/engram/value_proj/MatMul` -> `layers.1.engram.value_proj`; nil without a scope.
    static func moduleScope(_ nodeName: String) -> String? {
        guard nodeName.hasPrefix("/") else { return nil }
        var parts = nodeName.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        parts.removeLast()
        return parts.joined(separator: ".")
    }

    /// A row-major copy of the 2-D tensor `t` transposed.
    static func transposed(_ t: Tensor, name: String) throws -> Tensor {
        let rows = t.shape[0], cols = t.shape[1], w = t.dtype.byteSize
        let s = TensorStorage(byteCount: t.bytes.count)
        if let src = t.bytes.baseAddress, let dst = s.data.baseAddress {
            for r in 0..<rows {
                for c in 0..<cols {
                    (dst + (c * rows + r) * w).copyMemory(from: src + (r * cols + c) * w, byteCount: w)
                }
            }
        }
        let v = UnsafeRawBufferPointer(rebasing: s.data[0..<t.bytes.count])
        return try Tensor(name: name, dtype: t.dtype, shape: [cols, rows], bytes: v, owner: s)
    }
}
