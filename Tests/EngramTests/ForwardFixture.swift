@testable import Engram

/// Loads a fixture directory written by tests/fixtures/make_forward_fixture.py
/// (manifest.json + tensors.bin): the model's Weights plus the "test.*" vectors.
struct ForwardFixture {
    let weights: Weights
    let tests: [String: Tensor]

    static let root: String = {
        // .../Tests/EngramTests/ForwardFixture.swift -> repo root
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    init(_ name: String) throws {
        let dir = ForwardFixture.root + "/tests/fixtures/forward/" + name
        let manifestBytes = try readWholeFile(dir + "/manifest.json")
        let manifest = try manifestBytes.withUnsafeBufferPointer { try JSON.parse($0) }
        let file = try MappedFile(path: dir + "/tensors.bin")
        var model: [String: Tensor] = [:], tests: [String: Tensor] = [:]
        for (name, m) in manifest["tensors"]?.object ?? [] {
            let off = m["offset"]!.int!, n = m["nbytes"]!.int!
            let shape = m["shape"]!.array!.map { $0.int! }
            let view = UnsafeRawBufferPointer(rebasing: file.bytes[off..<(off + n)])
            let t = try Tensor(name: name, dtype: m["dtype"]!.string! == "i64" ? .i64 : .f32, shape: shape, bytes: view, owner: file)
            if name.hasPrefix("test.") { tests[name] = t } else { model[name] = t }
        }
        weights = Weights(config: try ModelConfig(json: manifest["config"]!), tensors: model)
        self.tests = tests
    }

    func floats(_ name: String) -> [Float] { tests[name]!.floats() }
    func ints(_ name: String) -> [Int64] { try! tests[name]!.int64s() }
}

/// max |a - b| / max(1, |b|) over all elements.
func maxRelError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
    return a.allSatisfy { $0.isFinite } ? m : .infinity
}

func maxAbsError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return a.allSatisfy { $0.isFinite } ? m : .infinity
}
