import Testing
@testable import Engram

/// Full logits against the PyTorch reference model (tests/fixtures/make_forward_fixture.py),
/// and KV-cached decoding against one full forward.
@Suite struct ForwardTests {
    static let variants = ["hc4", "hc1"]

    func run(_ model: Transformer, _ ids: [Int32], chunks: [Int], maxLength: Int = 64, chunkSize: Int = 512) throws -> [Float] {
        let state = try ForwardState(model: model, maxLength: maxLength)
        state.chunkSize = chunkSize
        let V = model.config.vocabSize
        var out = [Float](repeating: .nan, count: ids.count * V)
        var t = 0
        for n in chunks {
            try ids.withUnsafeBufferPointer { ip in
                try out.withUnsafeMutableBufferPointer { op in
                    try model.forward(tokens: UnsafeBufferPointer(rebasing: ip[t..<(t + n)]), state: state, logits: op.baseAddress! + t * V)
                }
            }
            t += n
        }
        #expect(state.position == ids.count)
        return out
    }

    @Test(arguments: variants) func logitsMatchReference(_ variant: String) throws {
        let fx = try ForwardFixture(variant)
        let model = try Transformer(weights: fx.weights)
        let ids = fx.ints("test.ids").map { Int32($0) }
        let expected = fx.floats("test.logits")
        let full = try run(model, ids, chunks: [ids.count])
        #expect(maxAbsError(full, expected) <= 1e-4)
        // Prefill then token-by-token decode equals the full forward: 1e-5 * max(1, |logit|)
        // (sgemv vs sgemm and the decode attention loop sum in another order).
        let decoded = try run(model, ids, chunks: [5] + Array(repeating: 1, count: ids.count - 5))
        #expect(maxRelError(decoded, full) <= 1e-5)
        let chunked = try run(model, ids, chunks: [1, 4, 3, ids.count - 8])
        #expect(maxRelError(chunked, full) <= 1e-5)
        // Internal chunking of one long call (chunks of 4 positions).
        let inner = try run(model, ids, chunks: [ids.count], chunkSize: 4)
        #expect(maxRelError(inner, full) <= 1e-5)
    }

    @Test func lastOnlyLogitsEqualTheLastRow() throws {
        let fx = try ForwardFixture("hc4")
        let model = try Transformer(weights: fx.weights)
        let ids = fx.ints("test.ids").map { Int32($0) }
        let V = model.config.vocabSize
        let full = try run(model, ids, chunks: [ids.count])
        let state = try ForwardState(model: model, maxLength: 64)
        var last = [Float](repeating: .nan, count: V)
        try ids.withUnsafeBufferPointer { try model.forward(tokens: $0, state: state, logits: &last, lastOnly: true) }
        #expect(maxRelError(last, Array(full[((ids.count - 1) * V)...])) <= 1e-6)
    }

    @Test func badInputIsAnErrorAndChangesNothing() throws {
        let fx = try ForwardFixture("hc1")
        let model = try Transformer(weights: fx.weights)
        let state = try ForwardState(model: model, maxLength: 8)
        var logits = [Float](repeating: 0, count: 8 * model.config.vocabSize)
        let bad: [Int32] = [1, 2, Int32(model.config.vocabSize)]
        #expect(throws: EngramError.self) { try bad.withUnsafeBufferPointer { try model.forward(tokens: $0, state: state, logits: &logits) } }
        #expect(state.position == 0)
        let nine = [Int32](repeating: 1, count: 9)
        do {
            try nine.withUnsafeBufferPointer { try model.forward(tokens: $0, state: state, logits: &logits) }
            Issue.record("a forward past the context length succeeded")
        } catch let e as EngramError {
            #expect(e.kind == .state)
        }
        #expect(throws: EngramError.self) { try ForwardState(model: model, maxLength: 0) }
        #expect(throws: EngramError.self) { try ForwardState(model: model, maxLength: model.config.maxPositionEmbeddings + 1) }
    }
}
