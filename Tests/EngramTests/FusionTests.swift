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
        let map = try TokenMap(weights: fx.weights)
        let comp = try map.compress(ids)
        let expected = fx.ints("test.hash_ids")      // [T, nL, H]
        let H = (c.maxNgramSize - 1) * c.nHeadPerNgram
        for (li, l) in c.layerIds.enumerated() {
            let layer = try EngramLayer(weights: fx.weights, layer: l, tokenMap: map)
            var out = [Int64](repeating: -1, count: ids.count * H)
            comp.withUnsafeBufferPointer { cp in out.withUnsafeMutableBufferPointer { layer.memory.hasher.hash(cp, addOffsets: false, into: $0.baseAddress!) } }
            var want = [Int64]()
            for t in 0..<ids.count { for h in 0..<H { want.append(expected[(t * c.layerIds.count + li) * H + h]) } }
            #expect(out == want)
        }
    }

    /// Whole sequence, then token by token with a streaming state: both within tolerance of
    /// the reference.
    @Test(arguments: variants) func fuseMatchesReference(_ variant: String) throws {
        let fx = try ForwardFixture(variant)
        let c = fx.weights.config
        for l in c.layerIds {
            let map = try TokenMap(weights: fx.weights)
            let layer = try EngramLayer(weights: fx.weights, layer: l, tokenMap: map)
            let comp = try map.compress(fx.ints("test.ids"))
            let hidden = fx.floats("test.fuse.\(l).hidden")
            let hash = fx.ints("test.fuse.\(l).hash_ids")
            let expY = fx.floats("test.fuse.\(l).y"), expG = fx.floats("test.fuse.\(l).gates")
            let T = hash.count / ((c.maxNgramSize - 1) * c.nHeadPerNgram)
            var e = [Float](repeating: 0, count: T * c.engramWidth)
            comp.withUnsafeBufferPointer { cp in e.withUnsafeMutableBufferPointer { layer.memory.retrieve(cp, into: $0.baseAddress!) } }
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
}
