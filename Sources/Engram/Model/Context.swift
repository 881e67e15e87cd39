/// A sequence being run by a model: KV cache, Engram streaming states, the logits of the
/// last position, a sampler. Prefill then decode token by token gives the logits of one full
/// forward. Belongs to one thread at a time; the model it uses may be shared.
public final class Context {
    public let model: EngramModel
    public let backbone: Transformer
    let state: ForwardState
    /// Threads of the matrix kernels (OpenBLAS; process-wide setting applied on each call).
    public var threads: Int
    /// Logits of the last position run ([V]); empty before the first call.
    public private(set) var lastLogits: [Float] = []
    /// Separate streaming state for `fuse` calls (not the forward pass's).
    var fuseStates: [Int: ShortConvState] = [:]
    var fuseHistories: [Int: NgramHistory] = [:]
    let fuseScratch = EngramFusion.Scratch()

    /// Called after each Engram layer's fuse step during forward passes (see EngramObservation).
    public var engramObserver: ((EngramObservation) -> Void)? {
        get { state.engramObserver }
        set { state.engramObserver = newValue }
    }

    public var position: Int { state.position }
    public var maxLength: Int { state.maxLength }
    public var vocabSize: Int { backbone.config.vocabSize }

    /// `maxLength` 0 means max_position_embeddings; `threads` 0 means the machine's cores.
    public init(model: EngramModel, maxLength: Int = 0, threads: Int = 0) throws {
        guard let b = model.backbone else {
            throw EngramError.unsupported("the model has no backbone (an Engram-only file): forward and generation need one")
        }
        guard threads >= 0 else { throw EngramError.invalidArgument("thread count \(threads) is negative") }
        self.model = model
        backbone = b
        self.threads = threads
        state = try ForwardState(model: b, maxLength: maxLength == 0 ? b.config.maxPositionEmbeddings : maxLength)
    }

    /// Back to an empty sequence (also resets the fuse streaming state).
    public func reset() {
        state.reset()
        lastLogits = []
        for s in fuseStates.values { s.reset() }
        fuseHistories.removeAll()
    }

    /// Runs `ids` and writes the logits of every new position ([n, V]) into `out`.
    public func forward(_ ids: UnsafeBufferPointer<Int32>, logits out: UnsafeMutablePointer<Float>) throws {
        Kernels.setThreads(threads)
        try backbone.forward(tokens: ids, state: state, logits: out)
        let V = vocabSize
        lastLogits = Array(UnsafeBufferPointer(start: out + (ids.count - 1) * V, count: V))
    }

    /// Runs `ids` and keeps only the last position's logits (prefill before generation).
    public func prefill(_ ids: UnsafeBufferPointer<Int32>) throws {
        Kernels.setThreads(threads)
        if lastLogits.count != vocabSize { lastLogits = [Float](repeating: 0, count: vocabSize) }
        try lastLogits.withUnsafeMutableBufferPointer { try backbone.forward(tokens: ids, state: state, logits: $0.baseAddress!, lastOnly: true) }
    }

    public func forward(_ ids: [Int32]) throws -> [Float] {
        var out = [Float](repeating: 0, count: ids.count * vocabSize)
        try ids.withUnsafeBufferPointer { i in try out.withUnsafeMutableBufferPointer { try forward(i, logits: $0.baseAddress!) } }
        return out
    }

    /// Why generation stopped.
    public enum StopReason: Int32, Sendable {
        case maxTokens = 0, stopToken = 1, callback = 2, contextFull = 3
    }

    /// Generates after `prompt` (which may be empty when the context already ran tokens):
    /// samples a token, hands it to `onToken` (return true to stop), runs it, repeats until
    /// `maxNewTokens`, a stop token (reported, not run), the callback, or a full context (the
    /// token sampled then is reported, not run). Every run token leaves the context ready to
    /// continue with another call (empty prompt).
    public func generate(prompt: UnsafeBufferPointer<Int32>, maxNewTokens: Int, sampling: SamplingParams,
                         stopTokens: Set<Int32> = [], onToken: (Int32) -> Bool) throws -> StopReason {
        try sampling.validate()
        guard maxNewTokens >= 0 else { throw EngramError.invalidArgument("max_new_tokens \(maxNewTokens) is negative") }
        if prompt.isEmpty {
            guard state.position > 0, lastLogits.count == vocabSize else {
                throw EngramError(.state, "empty prompt and nothing run yet: give a prompt")
            }
        } else {
            try prefill(prompt)
        }
        var sampler = Sampler(sampling)
        var produced = 0
        while produced < maxNewTokens {
            let tok = try lastLogits.withUnsafeBufferPointer { try sampler.sample($0) }
            produced += 1
            let stop = onToken(tok)
            if stopTokens.contains(tok) { return .stopToken }
            if state.position >= state.maxLength { return .contextFull }
            try withUnsafePointer(to: tok) { try prefill(UnsafeBufferPointer(start: $0, count: 1)) }
            if stop { return .callback }
        }
        return .maxTokens
    }

    /// The fuse step of Engram layer `layer` for hidden states `[T, hc, D]` and raw token ids
    /// `[T]`, continuing this context's fuse stream of that layer (separate from the forward pass's;
    /// `reset` starts a new sequence):
    /// Y `[T, hc, D]` (before the residual add) and gates `[T, hc]`. NaN or Inf in `hidden`
    /// is an invalid-argument error.
    public func fuse(layer: Int, hidden: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<Int32>,
                     y: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>?) throws {
        guard let el = backbone.engramLayer(layer) else {
            throw EngramError.outOfRange("layer \(layer) is not an Engram layer (layer_ids \(backbone.config.layerIds))")
        }
        let st = fuseStates[layer] ?? ShortConvState(fusion: el.fusion)
        fuseStates[layer] = st
        var history = fuseHistories[layer] ?? model.makeHistory()
        try Context.fuse(el, model: model, hidden: hidden, ids: ids, state: st, history: history, scratch: fuseScratch, y: y, gates: gates)
        history.append(try model.compress(Array(ids)))
        fuseHistories[layer] = history
    }

    /// Stateless fuse of a whole sequence (from its start).
    public static func fuse(model: EngramModel, layer: Int, hidden: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<Int32>,
                            y: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>?) throws {
        guard let el = model.backbone?.engramLayer(layer) ?? (try? model.fusionLayer(layer)) else {
            throw EngramError.outOfRange("layer \(layer) is not an Engram layer (layer_ids \(model.config.layerIds))")
        }
        try fuse(el, model: model, hidden: hidden, ids: ids, state: ShortConvState(fusion: el.fusion),
                 history: model.makeHistory(), scratch: EngramFusion.Scratch(), y: y, gates: gates)
    }

    static func fuse(_ el: EngramLayer, model: EngramModel, hidden: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<Int32>,
                     state: ShortConvState, history: NgramHistory, scratch: EngramFusion.Scratch,
                     y: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>?) throws {
        let c = model.config
        let T = ids.count
        guard T > 0 else { throw EngramError.invalidArgument("no token ids (empty input)") }
        let HD = c.hcMult * c.hiddenSize
        guard hidden.count == T * HD else {
            throw EngramError.invalidArgument("hidden has \(hidden.count) values; [T=\(T), hc=\(c.hcMult), D=\(c.hiddenSize)] needs \(T * HD)")
        }
        guard let hp = hidden.baseAddress, Kernels.allFinite(hp, hidden.count) else {
            throw EngramError.invalidArgument("hidden holds NaN or Inf")
        }
        let comp = try model.compress(Array(ids))
        var e = [Float](repeating: 0, count: T * c.engramWidth)
        comp.withUnsafeBufferPointer { cp in e.withUnsafeMutableBufferPointer { el.memory.retrieve(cp, history: history, into: $0.baseAddress!) } }
        el.fusion.fuse(hidden: hp, e: e, count: T, state: state, scratch: scratch, y: y, gates: gates)
    }
}

extension EngramModel {
    /// The fuse layer of Engram layer `layer` for models without a backbone (built on demand).
    func fusionLayer(_ layer: Int) throws -> EngramLayer {
        let m = try memory(layer: layer)
        return EngramLayer(memory: m, fusion: try EngramFusion(weights: weights, layer: layer))
    }
}
