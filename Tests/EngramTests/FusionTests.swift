import Testing
@testable import Engram

/// The fuse step against the PyTorch reference module (tests/fixtures/make_forward_fixture.py),
/// SPEC.md section 6: max abs error <= 1e-5 * max(1, |ref|).
@Suite struct FusionTests {
    static let variants = ["hc4", "hc1"]

    @Test(arguments: variants) func hashingMatchesNumpyReference(_ variant: String) throws {
        let fx = try ForwardFixture(variant)
        let c = fx.weights.config
        let ids = fx.ints("test.ids")
        let map = try fx.weights.tensor("engram.token_map").int64s()
        let comp = ids.map { map[Int($0)] }
        let expected = fx.ints("test.hash_ids")      // [T, nL, H]
        let H = (c.maxNgramSize - 1) * c.nHeadPerNgram
        for (li, l) in c.layerIds.enumerated() {
            let layer = try EngramLayer(weights: fx.weights, layer: l)
            var out = [Int64](repeating: -1, count: ids.count * H)
            try out.withUnsafeMutableBufferPointer { try layer.hash(compressed: comp, start: 0, pad: map[c.padId], into: $0.baseAddress!) }
            var want = [Int64]()
            for t in 0..<ids.count { for h in 0..<H { want.append(expected[(t * c.layerIds.count + li) * H + h]) } }
            #expect(out == want)
            // Incremental: the last 4 positions alone give the same indices.
            var tail = [Int64](repeating: -1, count: 4 * H)
            try tail.withUnsafeMutableBufferPointer { try layer.hash(compressed: comp, start: ids.count - 4, pad: map[c.padId], into: $0.baseAddress!) }
            let from = (ids.count - 4) * H
            let last: [Int64] = Array(out[from...])
            #expect(last == tail)
        }
    }

    /// Whole sequence, then token by token with a streaming state: both within tolerance of
    /// the reference.
    @Test(arguments: variants) func fuseMatchesReference(_ variant: String) throws {
        let fx = try ForwardFixture(variant)
        let c = fx.weights.config
        for l in c.layerIds {
            let layer = try EngramLayer(weights: fx.weights, layer: l)
            let hidden = fx.floats("test.fuse.\(l).hidden")
            let hash = fx.ints("test.fuse.\(l).hash_ids")
            let expY = fx.floats("test.fuse.\(l).y"), expG = fx.floats("test.fuse.\(l).gates")
            let T = hash.count / ((c.maxNgramSize - 1) * c.nHeadPerNgram)
            var e = [Float](repeating: 0, count: T * c.engramWidth)
            try hash.withUnsafeBufferPointer { h in try e.withUnsafeMutableBufferPointer { try layer.retrieve(hashIds: h.baseAddress!, count: T, into: $0.baseAddress!) } }
            let HD = c.hcMult * c.hiddenSize
            // Whole sequence.
            var y = [Float](repeating: .nan, count: T * HD), g = [Float](repeating: .nan, count: T * c.hcMult)
            let state = ShortConvState(fusion: layer.fusion)
            let scratch = EngramFusion.Scratch()
            layer.fusion.fuse(hidden: hidden, e: e, count: T, state: state, scratch: scratch, y: &y, gates: &g)
            #expect(maxRelError(y, expY) <= 1e-5)
            #expect(maxRelError(g, expG) <= 1e-5)
            // Token by token (then a chunk of 3 and the rest).
            let s2 = ShortConvState(fusion: layer.fusion)
            var y2 = [Float](repeating: .nan, count: T * HD), g2 = [Float](repeating: .nan, count: T * c.hcMult)
            var t = 0
            for n in [1, 1, 3] + Array(repeating: 1, count: T - 5) {
                hidden.withUnsafeBufferPointer { hp in e.withUnsafeBufferPointer { ep in
                    y2.withUnsafeMutableBufferPointer { yp in g2.withUnsafeMutableBufferPointer { gp in
                        layer.fusion.fuse(hidden: hp.baseAddress! + t * HD, e: ep.baseAddress! + t * c.engramWidth, count: n,
                                          state: s2, scratch: scratch, y: yp.baseAddress! + t * HD, gates: gp.baseAddress! + t * c.hcMult)
                    } }
                } }
                t += n
            }
            #expect(t == T)
            #expect(maxRelError(y2, expY) <= 1e-5)
            #expect(maxRelError(g2, expG) <= 1e-5)
            #expect(maxRelError(y2, y) <= 1e-5)   // sgemv (one row) vs sgemm: rounding only
        }
    }

    @Test func retrieveRejectsOutOfRangeIndex() throws {
        let fx = try ForwardFixture("hc4")
        let layer = try EngramLayer(weights: fx.weights, layer: 0)
        let H = 4
        var e = [Float](repeating: 0, count: 32)
        let bad: [Int64] = [0, 1, 1_000_000, 2]
        #expect(throws: EngramError.self) {
            try bad.withUnsafeBufferPointer { try layer.retrieve(hashIds: $0.baseAddress!, count: 1, into: &e) }
        }
        _ = H
    }
}
