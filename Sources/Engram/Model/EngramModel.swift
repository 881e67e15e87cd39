/// A loaded Engram model: its weights and, for every Engram layer, the memory (hash
/// constants and table view). Immutable after init and shared by any number of threads.
///
/// Pipeline of SPEC.md sections 3-4, one function per arrow:
///   raw ids --compress--> compressed ids --hash/rowIds--> row indices --retrieve--> vectors
public final class EngramModel: @unchecked Sendable {
    public let weights: Weights
    public let tokenMap: TokenMap
    /// One memory per Engram layer, in `config.layerIds` order.
    public let memories: [EngramMemory]
    public let memoryOptions: MemoryOptions
    /// The backbone (attention, FFN, fuse, head) when the file has one (config and
    /// `embed_tokens.weight`); nil for Engram-only files.
    public let backbone: Transformer?

    public var config: ModelConfig { weights.config }

    /// Reads the token map and every Engram layer's constants and table from `weights`
    /// (views, no copies of tables) and applies the options' madvise hints to the tables.
    public init(weights: Weights, memoryOptions: MemoryOptions = MemoryOptions()) throws {
        self.weights = weights
        self.memoryOptions = memoryOptions
        let map = try TokenMap(weights: weights)
        tokenMap = map
        memories = try weights.config.layerIds.map { try EngramMemory(weights: weights, layer: $0, tokenMap: map, options: memoryOptions) }
        // Engram-only files (no embed_tokens.weight) load without a backbone, whatever the config says.
        backbone = weights.config.hasBackbone && weights.has("embed_tokens.weight")
            ? try Transformer(weights: weights, tokenMap: map, memories: memories) : nil
        for m in memories {
            m.table.advise(hugePages: memoryOptions.hugePages, random: memoryOptions.randomAccess, populate: memoryOptions.populate)
        }
    }

    /// The memory of Engram layer `layer` (a layer id of the backbone, e.g. 1 or 15).
    public func memory(layer: Int) throws -> EngramMemory {
        for m in memories where m.layerId == layer { return m }
        throw EngramError.outOfRange("layer \(layer) has no Engram memory (Engram layers: \(config.layerIds))")
    }

    /// Columns of `hash`/`rowIds`: (N-1)*K.
    public var hashColumns: Int { (config.maxNgramSize - 1) * config.nHeadPerNgram }
    /// Columns of `retrieve`: (N-1)*n_embed_per_ngram.
    public var vectorWidth: Int { config.engramWidth }

    /// A streaming hash state at the start of a sequence.
    public func makeHistory() -> NgramHistory {
        NgramHistory(length: config.maxNgramSize - 1, padCompressed: tokenMap.map[config.padId])
    }

    // MARK: Pointer API (the C layer's): ids are raw token ids; T = ids.count > 0.

    /// Compressed ids, [T]. `out` is untouched when an id is outside the vocabulary.
    public func compress(_ ids: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<Int64>) throws {
        try withCompressed(ids) { c in if let b = c.baseAddress { out.update(from: b, count: c.count) } }
    }

    /// Per-head indices (before offsets), [T, (N-1)*K], order 2 heads first.
    public func hash(_ ids: UnsafeBufferPointer<Int32>, layer: Int, history: NgramHistory? = nil,
                     into out: UnsafeMutablePointer<Int64>) throws {
        let m = try memory(layer: layer)
        try withCompressed(ids) { m.hasher.hash($0, history: history, addOffsets: false, into: out) }
    }

    /// Row ids into the layer's table (index + head offset), [T, (N-1)*K]: for hosts that
    /// keep the tables themselves.
    public func rowIds(_ ids: UnsafeBufferPointer<Int32>, layer: Int, history: NgramHistory? = nil,
                       into out: UnsafeMutablePointer<Int64>) throws {
        let m = try memory(layer: layer)
        try withCompressed(ids) { m.hasher.hash($0, history: history, addOffsets: true, into: out) }
    }

    /// The retrieved vectors e_t, [T, (N-1)*n_embed_per_ngram] float32.
    public func retrieve(_ ids: UnsafeBufferPointer<Int32>, layer: Int, history: NgramHistory? = nil,
                         into out: UnsafeMutablePointer<Float>) throws {
        let m = try memory(layer: layer)
        try withCompressed(ids) { m.retrieve($0, history: history, into: out) }
    }

    // MARK: Array API

    public func compress(_ ids: [Int32]) throws -> [Int64] {
        try withArrays(ids, width: 1, fill: Int64(0)) { try compress($0, into: $1) }
    }

    public func hash(_ ids: [Int32], layer: Int, history: NgramHistory? = nil) throws -> [Int64] {
        try withArrays(ids, width: hashColumns, fill: Int64(0)) { try hash($0, layer: layer, history: history, into: $1) }
    }

    public func rowIds(_ ids: [Int32], layer: Int, history: NgramHistory? = nil) throws -> [Int64] {
        try withArrays(ids, width: hashColumns, fill: Int64(0)) { try rowIds($0, layer: layer, history: history, into: $1) }
    }

    public func retrieve(_ ids: [Int32], layer: Int, history: NgramHistory? = nil) throws -> [Float] {
        try withArrays(ids, width: vectorWidth, fill: Float(0)) { try retrieve($0, layer: layer, history: history, into: $1) }
    }

    /// What the engine derived from the file (engram_model_memory_json): compressed vocabulary,
    /// pad, widths, and per layer the table's rows, width and dtype, multipliers, primes, offsets.
    public var memoryDescriptionJSON: String {
        func list(_ a: [Int64]) -> String { "[" + a.map(String.init).joined(separator: ",") + "]" }
        let layers = memories.map { m in
            "{\"layer\":\(m.layerId),\"rows\":\(m.table.rows),\"width\":\(m.table.width),\"dtype\":\"\(m.table.dtype.rawValue)\"," +
            "\"multipliers\":\(list(m.hasher.multipliers)),\"primes\":\(list(m.hasher.primes)),\"offsets\":\(list(m.hasher.offsets))}"
        }
        let pad = tokenMap.map[config.padId]
        return "{\"vocab_size\":\(config.vocabSize),\"compressed_vocab_size\":\(tokenMap.compressedVocabSize)," +
            "\"pad_id\":\(config.padId),\"pad_compressed\":\(pad),\"hash_columns\":\(hashColumns)," +
            "\"vector_width\":\(vectorWidth),\"layers\":[" + layers.joined(separator: ",") + "]}"
    }

    // MARK: Helpers

    static func checkNotEmpty(_ ids: UnsafeBufferPointer<Int32>) throws {
        guard !ids.isEmpty, ids.baseAddress != nil else { throw EngramError.invalidArgument("no token ids (empty input)") }
    }

    /// Validates and compresses `ids` into a temporary buffer and runs `body` on it.
    func withCompressed(_ ids: UnsafeBufferPointer<Int32>, _ body: (UnsafeBufferPointer<Int64>) throws -> Void) throws {
        try Self.checkNotEmpty(ids)
        try withUnsafeTemporaryAllocation(of: Int64.self, capacity: ids.count) { buf in
            guard let base = buf.baseAddress else { throw EngramError.invalidArgument("no token ids (empty input)") }
            try tokenMap.compress(ids, into: base)
            try body(UnsafeBufferPointer(buf))
        }
    }

    private func withArrays<T>(_ ids: [Int32], width: Int, fill: T,
                               _ body: (UnsafeBufferPointer<Int32>, UnsafeMutablePointer<T>) throws -> Void) throws -> [T] {
        guard !ids.isEmpty else { throw EngramError.invalidArgument("no token ids (empty input)") }
        var out = [T](repeating: fill, count: ids.count * width)
        try ids.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                guard let base = dst.baseAddress else { return }
                try body(src, base)
            }
        }
        return out
    }
}
