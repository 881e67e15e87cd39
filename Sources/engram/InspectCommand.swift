import Engram

/// `engram inspect MODEL [--json]`: the config, every tensor group with dtype and size,
/// renamed weights, and how much the model maps from external data.
enum InspectCommand {
    static func run(_ args: [String]) throws -> Int32 {
        var json = false
        var path: String?
        for a in args {
            switch a {
            case "--json": json = true
            case "-h", "--help":
                print("usage: engram inspect MODEL.onnx [--json]")
                return 0
            default:
                guard path == nil, !a.hasPrefix("-") else { throw EngramError.invalidArgument("unexpected argument \(a) (usage: engram inspect MODEL.onnx [--json])") }
                path = a
            }
        }
        guard let path else { throw EngramError.invalidArgument("usage: engram inspect MODEL.onnx [--json]") }
        let (weights, report) = try ONNXImporter.loadWithReport(path: path)
        let groups = group(report.entries)
        if json {
            print(jsonReport(weights, report, groups).serialized)
        } else {
            print(textReport(weights, report, groups), terminator: "")
        }
        return 0
    }

    struct Group {
        var key: String
        var count = 0
        var dtypes: [DType] = []
        var elements = 0
        var bytes = 0
        var storages: [String] = []
        var shape: [Int] = []
    }

    /// Groups tensors by name with numeric components replaced by `*`
    /// (`layers.1.engram.key_projs.0.weight` -> `layers.*.engram.key_projs.*.weight`).
    static func group(_ entries: [ImportReport.Entry]) -> [Group] {
        var groups: [Group] = []
        var index: [String: Int] = [:]
        for e in entries {
            let key = e.name.split(separator: ".", omittingEmptySubsequences: false)
                .map { $0.allSatisfy(\.isNumber) && !$0.isEmpty ? "*" : String($0) }.joined(separator: ".")
            let k: Int
            if let i = index[key] { k = i } else { k = groups.count; index[key] = k; groups.append(Group(key: key, shape: e.shape)) }
            groups[k].count += 1
            if !groups[k].dtypes.contains(e.dtype) { groups[k].dtypes.append(e.dtype) }
            groups[k].elements += e.shape.reduce(1, *)
            groups[k].bytes += e.byteCount
            let s = storageName(e.storage)
            if !groups[k].storages.contains(s) { groups[k].storages.append(s) }
            if groups[k].shape != e.shape { groups[k].shape = [] }
        }
        return groups
    }

    static func storageName(_ s: ImportReport.Storage) -> String {
        switch s {
        case .mapped: return "mapped"
        case .inline: return "inline"
        case .copied: return "copied"
        }
    }

    static func size(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(n) B" }
        let r = (v * 10).rounded() / 10
        return "\(r) \(units[u])"
    }

    static func textReport(_ w: Weights, _ r: ImportReport, _ groups: [Group]) -> String {
        var s = "\(r.path): ONNX IR \(r.irVersion), opset \(r.opset)"
        if !r.producer.isEmpty { s += ", producer \(r.producer)" }
        s += "\n\nconfig (metadata \(ONNXImporter.configKey)):\n"
        for (k, v) in w.config.json.object ?? [] { s += "  \(k): \(v.serialized)\n" }
        s += "\nparts: engram layers \(w.config.layerIds)"
        s += w.config.hasBackbone ? ", backbone \(w.config.numLayers) layers\n" : ", no backbone (Engram-only: retrieve and fuse, no forward)\n"
        if r.nodeCount > 0 { s += "graph: \(r.nodeCount) nodes, inputs \(r.graphInputs)\n" }
        s += "\ntensors: \(r.entries.count) in \(groups.count) groups\n"
        let width = max(5, groups.map(\.key.count).max() ?? 0)
        s += "  " + "group".padding(to: width) + "  count  dtype     elements        bytes  storage  shape\n"
        for g in groups {
            s += "  " + g.key.padding(to: width)
            s += "  " + String(g.count).leftPadding(to: 5)
            s += "  " + g.dtypes.map(\.rawValue).joined(separator: ",").padding(to: 5)
            s += "  " + String(g.elements).leftPadding(to: 11)
            s += "  " + size(g.bytes).leftPadding(to: 11)
            s += "  " + g.storages.joined(separator: ",").padding(to: 7)
            s += "  " + (g.shape.isEmpty ? "(varies)" : "\(g.shape)") + "\n"
        }
        if !r.renamed.isEmpty {
            s += "\nrenamed by the exporter (mapped back):\n"
            for x in r.renamed { s += "  \(x.from) -> \(x.to)\(x.transposed ? " (transposed back)" : "")\n" }
        }
        if !r.skipped.isEmpty { s += "\nnot read (data type): \(r.skipped.joined(separator: ", "))\n" }
        s += "\nmaps \(r.dataFiles.count) external data file\(r.dataFiles.count == 1 ? "" : "s") (\(size(r.mappedFileBytes)))"
        for f in r.dataFiles { s += "\n  \(f.name): \(size(f.size))" }
        s += "\ntensor bytes: \(size(r.mappedBytes)) mapped, \(size(r.inlineBytes)) inline, \(size(r.copiedBytes)) copied\n"
        return s
    }

    static func jsonReport(_ w: Weights, _ r: ImportReport, _ groups: [Group]) -> JSON {
        func num(_ i: Int) -> JSON { .number(String(i)) }
        func ints(_ a: [Int]) -> JSON { .array(a.map(num)) }
        let tensors: [JSON] = r.entries.map { e in
            var o: [(String, JSON)] = [("name", .string(e.name)), ("dtype", .string(e.dtype.rawValue)), ("shape", ints(e.shape)),
                                       ("bytes", num(e.byteCount)), ("storage", .string(storageName(e.storage)))]
            if case let .mapped(file) = e.storage { o.append(("file", .string(file))) }
            if let f = e.renamedFrom { o.append(("renamed_from", .string(f))) }
            return .object(o)
        }
        let gs: [JSON] = groups.map { g in
            .object([("group", .string(g.key)), ("count", num(g.count)), ("dtypes", .array(g.dtypes.map { .string($0.rawValue) })),
                     ("elements", num(g.elements)), ("bytes", num(g.bytes)), ("storage", .array(g.storages.map { .string($0) }))])
        }
        return .object([
            ("path", .string(r.path)),
            ("ir_version", .number(String(r.irVersion))),
            ("opset", .number(String(r.opset))),
            ("producer", .string(r.producer)),
            ("config", w.config.json),
            ("has_backbone", .bool(w.config.hasBackbone)),
            ("groups", .array(gs)),
            ("tensors", .array(tensors)),
            ("renamed", .array(r.renamed.map { .object([("from", .string($0.from)), ("to", .string($0.to)), ("transposed", .bool($0.transposed))]) })),
            ("skipped", .array(r.skipped.map { .string($0) })),
            ("data_files", .array(r.dataFiles.map { .object([("name", .string($0.name)), ("bytes", num($0.size))]) })),
            ("mapped_file_bytes", num(r.mappedFileBytes)),
            ("mapped_bytes", num(r.mappedBytes)),
            ("inline_bytes", num(r.inlineBytes)),
            ("copied_bytes", num(r.copiedBytes)),
        ])
    }
}
