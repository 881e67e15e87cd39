#if canImport(Glibc)
import Glibc
#endif

/// Loads a model from an ONNX file into `Weights`: initializers become tensors by their
/// PyTorch state-dict names, the config comes from the metadata key "engram.config".
///
/// - The file is parsed and checked by the ONNX library itself (libonnx 1.12, via the C shim
///   in Sources/CEngramONNX); the checker accepts IR versions up to 8.
/// - External data is memory-mapped, each data file once; tensors are views into it. A
///   location that is absolute or leaves the model's folder is refused, and a data file
///   shorter than offset + length is an error here, never a SIGBUS later. A tensor whose
///   offset is not a multiple of its element size is copied (counted in the report).
/// - Weights renamed or transposed by `torch.onnx.export` (constant folding turns a Linear's
///   weight into a MatMul operand `W^T` with a name like `onnx::MatMul_123`) are found
///   through the graph's node scopes and mapped back (transposed back when needed).
/// - Every tensor the config implies is checked for presence, dtype and shape; the error
///   names everything missing or wrong.
public enum ONNXImporter {
    /// The metadata_props key holding the config JSON.
    public static let configKey = "engram.config"
    /// The metadata_props key of the exporter's rename record (see engram/export.py find_renames).
    public static let renamesKey = "engram.renames"

    /// Loads and validates the model at `path`.
    public static func load(path: String) throws -> Weights {
        try loadWithReport(path: path).weights
    }

    /// Loads the model and describes where each tensor came from (for `engram inspect`).
    public static func loadWithReport(path: String) throws -> (weights: Weights, report: ImportReport) {
        let file = try ONNXFile(path: path)
        // Our own refusal of unsafe external data locations comes first: its message is clearer
        // than the checker's "does not exist" for the same file.
        for i in 0..<file.initializerCount {
            let ini = try file.initializer(i)
            if ini.isExternal, let loc = ini.location {
                do { try DataLoader.checkLocation(loc, tensor: ini.name) } catch let e as EngramError {
                    throw EngramError(e.kind, "\(path): \(e.message)")
                }
            }
        }
        do {
            try file.check()
        } catch let e as EngramError where file.irVersion > 8 {
            throw EngramError(e.kind, e.message + " (IR version \(file.irVersion); this engine reads IR version <= 8: export with IR 8 / opset 17)")
        }
        let config = try readConfig(file)
        var report = ImportReport(path: path, irVersion: file.irVersion, opset: file.opset, producer: file.producer)
        report.graphInputs = file.graphInputs
        report.nodeCount = file.nodes.count

        var loader = DataLoader(file: file)
        var tensors: [String: Tensor] = [:]
        var order: [String] = []
        var storage: [String: ImportReport.Storage] = [:]
        var unreadable: [String: String] = [:]
        for i in 0..<file.initializerCount {
            let ini = try file.initializer(i)
            guard tensors[ini.name] == nil && unreadable[ini.name] == nil else {
                throw EngramError.format("\(path): two initializers are named \(ini.name)")
            }
            do {
                let (t, s) = try loader.tensor(ini)
                tensors[ini.name] = t
                storage[ini.name] = s
                order.append(ini.name)
            } catch let e as EngramError where e.kind == .unsupported {
                unreadable[ini.name] = e.message
                report.skipped.append(ini.name)
            } catch let e as EngramError {
                throw EngramError(e.kind, "\(path): \(e.message)")
            }
        }
        report.dataFiles = loader.files.map { (name: $0.key, size: $0.value.bytes.count) }.sorted { $0.name < $1.name }

        // Map names torch.onnx.export changed back to state-dict names: first the exporter's
        // record (metadata "engram.renames"), then the graph's node scopes.
        var renamed: [ImportReport.Rename] = []
        if let rules = file.metadata.first(where: { $0.key == renamesKey })?.value {
            do {
                renamed += try NameRecovery.apply(rules: JSON.parse(rules), tensors: &tensors)
            } catch let e as EngramError {
                throw EngramError(e.kind, "\(path): metadata \(renamesKey): \(e.message)")
            }
        }
        var expected = try expectedTensors(config, tensors)
        if config.hasBackbone { expected += TensorLayout.backbone(config) }
        renamed += try NameRecovery.recover(file: file, tensors: &tensors, expected: expected)
        // Engram-only files (no backbone tensor at all) are valid: retrieve and fuse work.
        let backboneNames = Set(TensorLayout.backbone(config).map(\.name))
        report.hasBackbone = config.hasBackbone && backboneNames.contains { tensors[$0] != nil }
        if !report.hasBackbone { expected.removeAll { backboneNames.contains($0.name) } }

        // The report lists the final tensors in file order; rebuilt ones where their first piece was.
        report.renamed = renamed
        var from: [String: ImportReport.Rename] = [:]
        for r in renamed {
            from[r.to] = r
            storage[r.to] = r.transposed || r.from.contains(",") ? .copied : storage[r.from]
            if let k = order.firstIndex(of: r.from.split(separator: ",").first.map(String.init) ?? r.from) {
                order.insert(r.to, at: k)
            } else {
                order.append(r.to)
            }
        }
        var seen = Set<String>()
        for name in order where !seen.contains(name) {
            seen.insert(name)
            guard let t = tensors[name] else { continue }
            report.entries.append(.init(name: name, dtype: t.dtype, shape: t.shape, byteCount: t.bytes.count,
                                        storage: storage[name] ?? .copied, renamedFrom: from[name]?.from))
        }

        try validate(config: config, tensors: tensors, expected: expected, unreadable: unreadable, path: path)
        return (Weights(config: config, tensors: tensors), report)
    }

    // MARK: Config

    static func readConfig(_ file: ONNXFile) throws -> ModelConfig {
        guard let entry = file.metadata.first(where: { $0.key == configKey }) else {
            throw EngramError.format("\(file.path): no metadata_props entry \"\(configKey)\" (export the model with engram.export)")
        }
        do {
            return try ModelConfig(json: JSON.parse(entry.value))
        } catch let e as EngramError {
            throw EngramError(e.kind, "\(file.path): metadata \(configKey): \(e.message)")
        }
    }

    // MARK: Validation

    /// Everything the config implies. Table rows come from the file's primes when they are
    /// readable (validate reports them otherwise).
    static func expectedTensors(_ c: ModelConfig, _ tensors: [String: Tensor]) throws -> [ExpectedTensor] {
        var out = TensorLayout.constants(c)
        for l in c.layerIds {
            var rows = -1
            if let p = tensors["layers.\(l).engram.primes"], p.shape == [c.maxNgramSize - 1, c.nHeadPerNgram],
               let values = try? p.int64s(), values.allSatisfy({ $0 > 1 && $0 < Int64(1) << 48 }) {
                rows = Int(values.reduce(0, +))
            }
            out += TensorLayout.engramLayer(c, layer: l, tableRows: rows)
        }
        return out
    }

    static func validate(config c: ModelConfig, tensors: [String: Tensor], expected: [ExpectedTensor],
                         unreadable: [String: String], path: String) throws {
        var missing: [String] = []
        var wrong: [String] = []
        for e in expected {
            guard let t = tensors[e.name] else {
                if let why = unreadable[e.name] { wrong.append(why) } else if !e.optional { missing.append(e.name) }
                continue
            }
            switch e.kind {
            case .float:
                if ![.f32, .f16, .bf16, .f64].contains(t.dtype) { wrong.append("\(e.name) is \(t.dtype), a float tensor is expected") }
            case .integer:
                if ![.i64, .i32].contains(t.dtype) { wrong.append("\(e.name) is \(t.dtype), int64 is expected") }
            }
            if e.shape.contains(-1) { continue } // depends on an unreadable tensor, reported there
            if t.shape != e.shape { wrong.append("\(e.name) has shape \(t.shape), the config implies \(e.shape)") }
        }
        if wrong.isEmpty {
            // Values of the constants (shapes and dtypes are right by now).
            if let tm = tensors["engram.token_map"], let ids = try? tm.int64s() {
                if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= Int64(c.vocabSize) }) {
                    wrong.append("engram.token_map[\(bad)] = \(ids[bad]) is outside 0..<\(c.vocabSize)")
                }
            }
            for l in c.layerIds {
                if let p = tensors["layers.\(l).engram.primes"], let v = try? p.int64s(),
                   let bad = v.first(where: { $0 <= 1 || $0 >= Int64(1) << 48 }) {
                    wrong.append("layers.\(l).engram.primes holds \(bad), not a table size")
                }
            }
        }
        guard missing.isEmpty && wrong.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty {
                parts.append("\(missing.count) tensor\(missing.count == 1 ? "" : "s") missing: " + list(missing))
            }
            if !wrong.isEmpty {
                parts.append("\(wrong.count) wrong: " + list(wrong))
            }
            throw EngramError.format("\(path): " + parts.joined(separator: "; "))
        }
    }

    static func list(_ items: [String], limit: Int = 12) -> String {
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? shown + ", ... (\(items.count - limit) more)" : shown
    }
}

extension Weights {
    /// Loads a model from an ONNX file (see `ONNXImporter`).
    public static func load(onnxPath: String) throws -> Weights {
        try ONNXImporter.load(path: onnxPath)
    }
}
