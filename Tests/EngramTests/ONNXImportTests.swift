import Testing
@testable import Engram
#if canImport(Glibc)
import Glibc
#endif

/// Fixtures come from tests/fixtures/make_onnx_fixtures.py (bindings/python/engram/export.py
/// plus one deliberate defect each), run once per test process into a temporary folder.
/// Expected values (shapes, sums, primes, multipliers) are numpy's, from expect.json.
nonisolated(unsafe) private var fixtureFolderToRemove: String?

enum ONNXFixtures {
    static let root: String = {
        if let r = getenv("ENGRAM_ROOT") { return String(cString: r) }
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3) // Tests/EngramTests/ONNXImportTests.swift
        return parts.joined(separator: "/")
    }()

    /// The fixture folder, or nil when Python could not make it (the message says why).
    static let folder: Result<String, EngramError> = {
        var template = Array("/tmp/engram-onnx-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            return .failure(.io("mkdtemp failed"))
        }
        let python = root + "/.venv/bin/python"
        let cmd = "'\(python)' '\(root)/tests/fixtures/make_onnx_fixtures.py' '\(dir)' > '\(dir)/make.log' 2>&1"
        let rc = system(cmd)
        guard rc == 0 else {
            let log = (try? readWholeFile(dir + "/make.log")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return .failure(.io("fixture script failed (\(rc)): \(log)"))
        }
        fixtureFolderToRemove = dir
        atexit { if let d = fixtureFolderToRemove { _ = system("rm -rf '\(d)'") } }
        return .success(dir)
    }()

    static func path(_ name: String, _ file: String = "model.onnx") throws -> String {
        try folder.get() + "/" + name + "/" + file
    }

    static func expect() throws -> JSON {
        try readWholeFile(path("good", "expect.json")).withUnsafeBufferPointer { try JSON.parse($0) }
    }
}

@Suite(.serialized) struct ONNXImportTests {
    func sum(_ t: Tensor) -> Double {
        if t.dtype == .i64 || t.dtype == .i32 { return (try? t.int64s())?.reduce(0.0) { $0 + Double($1) } ?? .nan }
        return t.floats().reduce(0.0) { $0 + Double($1) }
    }

    @Test func goodModelMatchesNumpy() throws {
        let (w, report) = try ONNXImporter.loadWithReport(path: ONNXFixtures.path("good"))
        let expect = try ONNXFixtures.expect()
        let tensors = try #require(expect["tensors"]?.object)
        #expect(tensors.count == 33)
        for (name, e) in tensors {
            let t = try w.tensor(name)
            #expect(t.shape == e["shape"]?.array?.compactMap(\.int), "\(name)")
            let want = try #require(e["sum"]?.double)
            #expect(abs(sum(t) - want) <= 1e-4 * max(1, abs(want)), "\(name): \(sum(t)) vs \(want)")
            if t.dtype == .f32 {
                let f = t.floats()
                #expect(Double(f[0]) == e["first"]?.double, "\(name)")
                #expect(Double(f[f.count - 1]) == e["last"]?.double, "\(name)")
            }
        }
        for l in [1, 3] {
            let primes = try w.tensor("layers.\(l).engram.primes").int64s()
            #expect(primes.map(Int.init) == expect["primes"]?["\(l)"]?.array?.flatMap { $0.array ?? [] }.compactMap(\.int))
            let mult = try w.tensor("layers.\(l).engram.multipliers").int64s()
            #expect(mult.map(Int.init) == expect["multipliers"]?["\(l)"]?.array?.compactMap(\.int))
        }
        #expect(w.config.layerIds == [1, 3])
        #expect(w.config.hcMult == 2)
        #expect(!w.config.hasBackbone)
        // Tables are views into the one mapped data file; nothing copied.
        #expect(report.dataFiles.count == 1)
        #expect(report.copiedBytes == 0)
        let table = try w.tensor("layers.1.engram.multi_head_embedding.embedding.weight")
        #expect(table.owner is MappedFile)
        #expect(report.mappedBytes == 2 * 4 * 912640 / 2)
        #expect(report.renamed.isEmpty)
    }

    @Test func weightsLoadEntryPoint() throws {
        let w = try Weights.load(onnxPath: ONNXFixtures.path("good"))
        #expect(w.has("engram.token_map"))
        #expect(try w.tensor("engram.token_map", shape: [300]).dtype == .i64)
    }

    func assertSameValues(_ name: String, tolerance: Double = 0) throws {
        let good = try ONNXImporter.load(path: ONNXFixtures.path("good"))
        let other = try ONNXImporter.load(path: ONNXFixtures.path(name))
        #expect(Set(good.tensors.keys) == Set(other.tensors.keys))
        for (k, t) in good.tensors {
            let u = try other.tensor(k)
            #expect(u.shape == t.shape, "\(k)")
            if t.dtype == .i64 {
                #expect(try u.int64s() == t.int64s(), "\(k)")
            } else {
                let a = t.floats(), b = u.floats()
                let err = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
                #expect(err <= (u.dtype == t.dtype ? 0 : tolerance), "\(name): \(k) differs by \(err)")
            }
        }
    }

    @Test func inlineModelGivesTheSameTensors() throws {
        try assertSameValues("inline")
        let (_, r) = try ONNXImporter.loadWithReport(path: ONNXFixtures.path("inline"))
        #expect(r.dataFiles.isEmpty && r.mappedBytes == 0 && r.copiedBytes == 0)
    }

    @Test func typedFieldsAreRead() throws {
        // float_data / int64_data / float16 bits in int32_data instead of raw_data.
        try assertSameValues("typed", tolerance: 1e-3)
        let w = try ONNXImporter.load(path: ONNXFixtures.path("typed"))
        #expect(try w.tensor("layers.1.engram.value_proj.bias").dtype == .f16)
    }

    @Test func unalignedExternalDataIsCopied() throws {
        try assertSameValues("unaligned")
        let (_, r) = try ONNXImporter.loadWithReport(path: ONNXFixtures.path("unaligned"))
        #expect(r.mappedBytes == 0)
        #expect(r.copiedBytes == 2 * 4 * 912640 / 2)
    }

    static let badInputs: [(String, EngramError.Kind, String)] = [
        ("truncated_file", .format, "Unable to parse"),
        ("garbage", .format, "Unable to parse"),
        ("empty", .format, "empty"),
        ("short_data", .format, "truncated"),
        ("missing_data", .format, "doesn't exist"),
        ("escape_parent/sub", .format, "leaves the model's folder"),
        ("escape_absolute", .format, "is absolute"),
        ("escape_symlink", .format, "outside the model's folder"),
        ("ir9", .format, "IR version 9"),
        ("ir10", .format, "IR version 10"),
        ("wrong_dtype", .format, "engram.token_map is f32, int64 is expected"),
        ("string_dtype", .format, "layers.3.engram.value_proj.bias has data type UINT16"),
        ("missing_tensors", .format, "2 tensors missing: layers.1.engram.value_proj.bias, layers.3.engram.norm2.1.weight"),
        ("wrong_shape", .format, "layers.3.engram.key_projs.1.weight has shape [32, 127], the config implies [32, 128]"),
        ("raw_size", .format, "raw_data has 124 bytes"),
        ("no_config", .format, "engram.config"),
        ("bad_config", .format, "JSON"),
        ("bad_token_map", .format, "engram.token_map[17] = 100000"),
        ("does_not_exist", .io, "cannot open"),
    ]

    @Test(arguments: 0..<badInputs.count) func badInputIsAnErrorNamingTheProblem(_ i: Int) throws {
        let (name, kind, text) = Self.badInputs[i]
        let path = try ONNXFixtures.path(name)
        do {
            _ = try ONNXImporter.load(path: path)
            Issue.record("\(name) loaded")
        } catch let e as EngramError {
            #expect(e.kind == kind, "\(name): \(e.message)")
            #expect(e.message.contains(text), "\(name): \(e.message)")
            #expect(e.message.contains(name.split(separator: "/").first.map(String.init) ?? name), "\(name): message names the file: \(e.message)")
        }
    }

    /// torch.onnx.export of the reference model (constant folding on/off, and with only the
    /// node scopes to go by) gives exactly the tensors of a plain state-dict export.
    @Test(arguments: [("full_hc4_fold", "full_hc4_plain", true), ("full_hc4_nofold", "full_hc4_plain", false),
                      ("full_hc1_fold", "full_hc1_plain", true), ("full_hc1_scopes", "full_hc1_plain", true)])
    func torchExportMapsBackToStateDictNames(_ name: String, _ plainName: String, _ folded: Bool) throws {
        let plain = try ONNXImporter.load(path: ONNXFixtures.path(plainName))
        let (w, report) = try ONNXImporter.loadWithReport(path: ONNXFixtures.path(name))
        #expect(report.hasBackbone)
        #expect(report.graphInputs.contains("input_ids") && report.graphInputs.contains("engram_hash_ids"))
        #expect(folded == !report.renamed.isEmpty, "\(report.renamed.count) renames")
        #expect(!folded || report.renamed.contains { $0.transposed })
        for (k, t) in plain.tensors {
            guard let u = w.tensors[k] else { Issue.record("\(name) lacks \(k)"); continue }
            #expect(u.shape == t.shape && u.dtype == t.dtype, "\(name): \(k)")
            #expect(u.bytes.elementsEqual(t.bytes), "\(name): \(k) differs from the state dict")
        }
        #expect(w.config == plain.config)
    }

    @Test func directoryIsNotAModel() throws {
        #expect(throws: EngramError.self) { try ONNXImporter.load(path: ONNXFixtures.folder.get()) }
    }

    @Test func moduleScopes() {
        #expect(NameRecovery.moduleScope("/layers.1/engram/value_proj/MatMul") == "layers.1.engram.value_proj")
        #expect(NameRecovery.moduleScope("MatMul_3") == nil)
        #expect(NameRecovery.moduleScope("/MatMul") == nil)
    }
}
