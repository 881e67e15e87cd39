/// Everything one sequence needs besides the weights: the KV cache, the short-conv states of
/// the Engram layers, the compressed ids seen so far (for n-gram hashing), the position, and
/// scratch buffers. Belongs to one thread at a time (a context owns one).
public final class ForwardState {
    public let maxLength: Int
    public private(set) var position: Int = 0
    let kvWidth: Int                       // KV * hd
    let keys: [FloatBuffer]                // per layer [maxLength, KV*hd]
    let values: [FloatBuffer]
    let conv: [Int: ShortConvState]        // per Engram layer
    /// The last N-1 compressed ids (n-gram hashing across calls).
    var history: NgramHistory
    var compressedNew: [Int64] = []
    /// Positions run per chunk of a long input (bounds scratch memory: scores are [chunk, S]).
    public var chunkSize = 512
    /// Set when a forward call failed half-way: the state must be reset before reuse.
    public internal(set) var broken = false

    // Scratch.
    let h = FloatBuffer(), h2 = FloatBuffer(), x = FloatBuffer(), xn = FloatBuffer(), y = FloatBuffer()
    let q = FloatBuffer(), o = FloatBuffer(), scores = FloatBuffer(), gate = FloatBuffer(), up = FloatBuffer()
    let mixes = FloatBuffer(), coef = FloatBuffer(), e = FloatBuffer(), fused = FloatBuffer(), rope = FloatBuffer()
    let fusionScratch = EngramFusion.Scratch()
    let gates = FloatBuffer()
    /// Called after each Engram layer's fuse step with its gates and update (for `engram
    /// explain` and analysis); nil (the default) costs nothing.
    public var engramObserver: ((EngramObservation) -> Void)?

    /// A state for `model` holding at most `maxLength` positions
    /// (1 ... max_position_embeddings).
    public init(model: Transformer, maxLength: Int) throws {
        let c = model.config
        guard maxLength >= 1, maxLength <= c.maxPositionEmbeddings, maxLength <= 1 << 24 else {
            throw EngramError.invalidArgument("context length \(maxLength) outside 1...\(min(c.maxPositionEmbeddings, 1 << 24)) (max_position_embeddings, at most 2^24)")
        }
        let (bytes, o1) = maxLength.multipliedReportingOverflow(by: c.numKeyValueHeads * c.headDim * c.numLayers * 8)
        guard !o1, bytes <= 1 << 36 else { throw EngramError(.outOfMemory, "KV cache of \(maxLength) positions is too large") }
        self.maxLength = maxLength
        kvWidth = c.numKeyValueHeads * c.headDim
        keys = (0..<c.numLayers).map { _ in FloatBuffer(maxLength * c.numKeyValueHeads * c.headDim) }
        values = (0..<c.numLayers).map { _ in FloatBuffer(maxLength * c.numKeyValueHeads * c.headDim) }
        var cs: [Int: ShortConvState] = [:]
        for l in c.layerIds { if let el = model.engramLayer(l) { cs[l] = ShortConvState(fusion: el.fusion) } }
        conv = cs
        history = NgramHistory(length: c.maxNgramSize - 1, padCompressed: (try? model.tokenMap?.compress(c.padId)) ?? 0)
    }

    /// Back to an empty sequence (the cache memory is kept).
    public func reset() {
        position = 0
        history.reset()
        for s in conv.values { s.reset() }
        broken = false
    }

    func advance(_ n: Int) { position += n }
}
