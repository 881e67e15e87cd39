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
            for (k, input) in node.inputs.enumerated() where !input.isEmpty && want[input] == nil {
                guard let t = tensors[input] else { continue }
                // Whether the op reads the initializer as W^T: a Linear on 3-D input is
                // MatMul(x, W^T); Gemm(x, W, transB=1) reads W as is. Square matrices make the
                // shape alone ambiguous, so the op decides.
                let isTransposed: Bool
                switch node.opType {
                case "MatMul":
                    guard k == 1 else { continue }
                    isTransposed = true
                case "Gemm":
                    guard k >= 1 else { continue }
                    isTransposed = k == 1 && file.intAttribute(node: node.index, "transB") != 1
                default:
                    isTransposed = false
                }
                for suffix in ["weight", "bias"] {
                    let candidate = scope + "." + suffix
                    guard missing.contains(candidate), let e = want[candidate], e.kind == .float else { continue }
                    if !isTransposed && t.shape == e.shape {
                        tensors[candidate] = try Tensor(name: candidate, dtype: t.dtype, shape: t.shape, bytes: t.bytes, owner: t.owner)
                    } else if isTransposed, t.shape.count == 2, e.shape.count == 2, t.shape == [e.shape[1], e.shape[0]] {
                        tensors[candidate] = try transposed(t, name: candidate)
                    } else {
                        continue
                    }
                    tensors[input] = nil
                    missing.remove(candidate)
                    renames.append(.init(from: input, to: candidate, transposed: isTransposed))
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

extension NameRecovery {
    /// Applies the exporter's rename record (metadata "engram.renames", written by
    /// engram/export.py `find_renames`): a JSON array of
    /// `{"to": name, "op": "transpose" | "concat", "from": [initializer, ...], "shape": [...]}`.
    /// Pieces used are removed from `tensors`; a rule whose pieces are absent is an error.
    static func apply(rules: JSON, tensors: inout [String: Tensor]) throws -> [ImportReport.Rename] {
        guard let list = rules.array else { throw EngramError.format("not a JSON array") }
        var used = Set<String>()
        var out: [ImportReport.Rename] = []
        var made: [String: Tensor] = [:]
        for rule in list {
            guard let to = rule["to"]?.string, let op = rule["op"]?.string,
                  let pieces = rule["from"]?.array?.compactMap(\.string), !pieces.isEmpty,
                  let shape = rule["shape"]?.array?.compactMap(\.int), shape.allSatisfy({ $0 >= 0 && $0 < 1 << 40 })
            else { throw EngramError.format("malformed rule \(rule.serialized)") }
            guard tensors[to] == nil else { continue } // the name exists: nothing to rebuild
            let parts = try pieces.map { p -> Tensor in
                guard let t = tensors[p] else { throw EngramError.format("\(to) is rebuilt from \(p), which the file lacks") }
                return t
            }
            var count = 1
            for d in shape {
                let (m, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw EngramError.format("\(to): shape \(shape) overflows") }
                count = m
            }
            let dtype = parts[0].dtype
            guard parts.allSatisfy({ $0.dtype == dtype }) else { throw EngramError.format("\(to): pieces of different dtypes") }
            switch op {
            case "transpose":
                guard parts.count == 1, shape.count == 2, parts[0].shape == [shape[1], shape[0]] else {
                    throw EngramError.format("\(to): transpose of \(pieces[0]) \(parts[0].shape) cannot give \(shape)")
                }
                made[to] = try transposed(parts[0], name: to)
            case "concat":
                let total = parts.reduce(0) { $0 + $1.count }
                guard total == count else {
                    throw EngramError.format("\(to): pieces hold \(total) elements, \(shape) needs \(count)")
                }
                let s = TensorStorage(byteCount: count * dtype.byteSize)
                var at = 0
                for p in parts where p.bytes.count > 0 {
                    (s.data.baseAddress! + at).copyMemory(from: p.bytes.baseAddress!, byteCount: p.bytes.count)
                    at += p.bytes.count
                }
                made[to] = try Tensor(name: to, dtype: dtype, shape: shape,
                                      bytes: UnsafeRawBufferPointer(rebasing: s.data[0..<count * dtype.byteSize]), owner: s)
            default:
                throw EngramError.format("\(to): unknown op \(op)")
            }
            used.formUnion(pieces)
            out.append(.init(from: pieces.joined(separator: ","), to: to, transposed: op == "transpose"))
        }
        for p in used { tensors[p] = nil }
        for (k, t) in made { tensors[k] = t }
        return out
    }
}
