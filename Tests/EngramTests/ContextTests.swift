import Testing
@testable import Engram
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ContextTests {
    func model(_ v: String) throws -> (EngramModel, ForwardFixture) {
        let fx = try ForwardFixture(v)
        return (try EngramModel(weights: fx.weights), fx)
    }

    @Test(arguments: ["hc4", "hc1"]) func contextForwardMatchesReference(_ v: String) throws {
        let (m, fx) = try model(v)
        let ctx = try Context(model: m, maxLength: 32, threads: 1)
        let ids = fx.ints("test.ids").map { Int32($0) }
        let logits = try ctx.forward(ids)
        #expect(maxAbsError(logits, fx.floats("test.logits")) <= 1e-4)
        #expect(ctx.position == ids.count)
        ctx.reset()
        #expect(ctx.position == 0)
        let again = try ctx.forward(ids)
        #expect(maxAbsError(again, logits) <= 1e-6)
    }

    @Test func greedyGenerationFollowsTheArgmax() throws {
        let (m, fx) = try model("hc4")
        let ctx = try Context(model: m, maxLength: 40)
        let prompt = Array(fx.ints("test.ids").map { Int32($0) }.prefix(6))
        var out: [Int32] = []
        let reason = try prompt.withUnsafeBufferPointer {
            try ctx.generate(prompt: $0, maxNewTokens: 8, sampling: SamplingParams()) { out.append($0); return false }
        }
        #expect(reason == .maxTokens)
        #expect(out.count == 8)
        // One full forward over prompt + generated: each generated token is the argmax.
        let check = try Context(model: m, maxLength: 40)
        let all = prompt + out
        let logits = try check.forward(all)
        let V = m.config.vocabSize
        for i in 0..<out.count {
            let row = Array(logits[((prompt.count - 1 + i) * V)..<((prompt.count + i) * V)])
            let am = row.indices.max { row[$0] < row[$1] }!
            #expect(Int32(am) == out[i])
        }
    }

    @Test func seededSamplingIsReproducibleAndStops() throws {
        let (m, _) = try model("hc1")
        var p = SamplingParams()
        p.temperature = 1.5; p.topK = 20; p.topP = 0.9; p.seed = 42
        func gen(_ p: SamplingParams, stop: Set<Int32> = [], max: Int = 12) throws -> ([Int32], Context.StopReason) {
            let ctx = try Context(model: m, maxLength: 32)
            var out: [Int32] = []
            let r = try [Int32(1), 5, 7].withUnsafeBufferPointer { try ctx.generate(prompt: $0, maxNewTokens: max, sampling: p, stopTokens: stop) { out.append($0); return false } }
            return (out, r)
        }
        let (a, _) = try gen(p), (b, _) = try gen(p)
        #expect(a == b)
        var q = p; q.seed = 43
        let (c, _) = try gen(q)
        #expect(a != c)
        // Stop token: generation ends at its first occurrence.
        let (d, r) = try gen(p, stop: [a[3]])
        #expect(r == .stopToken)
        #expect(d == Array(a.prefix(through: a.firstIndex(of: a[3])!)))
        // Context full.
        let (e, r2) = try gen(p, max: 100)
        #expect(r2 == .contextFull)
        #expect(e.count == 32 - 3 + 1)
        // Callback stop.
        let ctx = try Context(model: m, maxLength: 32)
        var n = 0
        let r3 = try [Int32(1)].withUnsafeBufferPointer { try ctx.generate(prompt: $0, maxNewTokens: 10, sampling: p) { _ in n += 1; return n == 2 } }
        #expect(r3 == .callback && n == 2)
    }

    @Test func samplerFollowsTheDistribution() throws {
        let logits: [Float] = [2.0, 1.0, 0.5, -1.0, .nan, 0.0]
        var p = SamplingParams(); p.temperature = 1; p.seed = 7
        var s = Sampler(p)
        var counts = [Int](repeating: 0, count: logits.count)
        let N = 40000
        for _ in 0..<N { counts[Int(try logits.withUnsafeBufferPointer { try s.sample($0) })] += 1 }
        let finite = logits.map { $0.isNaN ? -Float.infinity : $0 }
        let z = finite.map { expf($0) }.reduce(0, +)
        for i in logits.indices {
            let want = Double(expf(finite[i]) / z)
            #expect(abs(Double(counts[i]) / Double(N) - want) < 0.01)
        }
        // top-k 2: only the two most likely tokens.
        p.topK = 2
        s = Sampler(p)
        for _ in 0..<1000 { #expect(try logits.withUnsafeBufferPointer { try s.sample($0) } < 2) }
        // top-p tiny: greedy.
        p.topK = 0; p.topP = 0.01
        s = Sampler(p)
        for _ in 0..<100 { #expect(try logits.withUnsafeBufferPointer { try s.sample($0) } == 0) }
        var bad = SamplingParams(); bad.topP = 0
        #expect(throws: EngramError.self) { try bad.validate() }
        let nan: [Float] = [.nan, .nan]
        #expect(throws: EngramError.self) { try nan.withUnsafeBufferPointer { try s.sample($0) } }
    }

    @Test(arguments: ["hc4", "hc1"]) func streamingFuseEqualsWholeSequenceFuse(_ v: String) throws {
        let (m, fx) = try model(v)
        let c = m.config
        for l in c.layerIds {
            let hidden = fx.floats("test.fuse.\(l).hidden")
            let ids = fx.ints("test.ids").map { Int32($0) }
            let T = ids.count, HD = c.hcMult * c.hiddenSize
            var y = [Float](repeating: 0, count: T * HD), g = [Float](repeating: 0, count: T * c.hcMult)
            try hidden.withUnsafeBufferPointer { h in try ids.withUnsafeBufferPointer { i in
                try Context.fuse(model: m, layer: l, hidden: h, ids: i, y: &y, gates: &g) } }
            #expect(maxRelError(y, fx.floats("test.fuse.\(l).y")) <= 1e-5)
            #expect(maxRelError(g, fx.floats("test.fuse.\(l).gates")) <= 1e-5)
            let ctx = try Context(model: m, maxLength: 32)
            var y2 = [Float](repeating: 0, count: T * HD)
            for t in 0..<T {
                try hidden.withUnsafeBufferPointer { h in try ids.withUnsafeBufferPointer { i in
                    try y2.withUnsafeMutableBufferPointer { yp in
                        try ctx.fuse(layer: l, hidden: UnsafeBufferPointer(rebasing: h[(t * HD)..<((t + 1) * HD)]),
                                     ids: UnsafeBufferPointer(rebasing: i[t..<(t + 1)]), y: yp.baseAddress! + t * HD, gates: nil)
                    } } }
            }
            #expect(maxRelError(y2, y) <= 1e-5)
            // Bad input.
            var bad = hidden; bad[3] = .nan
            #expect(throws: EngramError.self) { try bad.withUnsafeBufferPointer { h in try ids.withUnsafeBufferPointer { i in try Context.fuse(model: m, layer: l, hidden: h, ids: i, y: &y, gates: nil) } } }
            #expect(throws: EngramError.self) { try hidden.dropLast().withUnsafeBufferPointer { h in try ids.withUnsafeBufferPointer { i in try Context.fuse(model: m, layer: l, hidden: h, ids: i, y: &y, gates: nil) } } }
        }
        #expect(throws: EngramError.self) { try [Float](repeating: 0, count: c.hcMult * c.hiddenSize).withUnsafeBufferPointer { h in try [Int32(0)].withUnsafeBufferPointer { i in
            var y = [Float](repeating: 0, count: c.hcMult * c.hiddenSize)
            try Context.fuse(model: m, layer: 999, hidden: h, ids: i, y: &y, gates: nil) } } }
    }
}
