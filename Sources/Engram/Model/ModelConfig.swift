/// A model's configuration, stored as JSON in the ONNX file's `metadata_props` under the key
/// "engram.config". Field names are those of DeepSeek's demo (`engram_vocab_size`,
/// `max_ngram_size`, ...) plus the backbone's (Hugging Face style names). Every eps and
/// every choice that differs between Engram variants is a field, never a constant.
public struct ModelConfig: Sendable, Equatable {
    // Vocabulary and backbone shape.
    public var vocabSize: Int               // vocab_size: raw tokenizer vocabulary (V)
    public var hiddenSize: Int              // hidden_size (D)
    public var numLayers: Int               // num_layers
    public var hcMult: Int                  // hc_mult: residual streams (1 = plain residual)
    public var numAttentionHeads: Int       // num_attention_heads
    public var numKeyValueHeads: Int        // num_key_value_heads
    public var headDim: Int                 // head_dim
    public var intermediateSize: Int        // intermediate_size (SwiGLU)
    public var ropeTheta: Double            // rope_theta
    public var rmsNormEps: Double           // rms_norm_eps (backbone norms)
    public var tieWordEmbeddings: Bool      // tie_word_embeddings
    public var maxPositionEmbeddings: Int   // max_position_embeddings
    public var hcSinkhornIters: Int         // hc_sinkhorn_iters (mHC, hc_mult > 1)
    public var hcEps: Double                // hc_eps (mHC)

    // Engram.
    public var engramVocabSize: [Int]       // engram_vocab_size: start size per order 2..N
    public var maxNgramSize: Int            // max_ngram_size (N)
    public var nEmbedPerNgram: Int          // n_embed_per_ngram
    public var nHeadPerNgram: Int           // n_head_per_ngram (K)
    public var layerIds: [Int]              // layer_ids
    public var padId: Int                   // pad_id (raw id)
    public var seed: Int                    // seed
    public var kernelSize: Int              // kernel_size (short conv)
    public var engramNormEps: Double        // engram_norm_eps: norm1/norm2 (float32 epsilon by default)
    public var shortConvNormEps: Double     // short_conv_norm_eps
    public var shortConv: Bool              // short_conv (false in the V4.1 variant)

    /// The JSON object the config was read from (fields this version does not know stay here).
    public var json: JSON

    public var hasBackbone: Bool { numLayers > 0 && hiddenSize > 0 && numAttentionHeads > 0 }
    public var ngramOrders: ClosedRange<Int> { 2...max(2, maxNgramSize) }
    /// Row width of one head: n_embed_per_ngram / K.
    public var headWidth: Int { nEmbedPerNgram / max(1, nHeadPerNgram) }
    /// Width of the retrieved vector e_t: (N-1) * n_embed_per_ngram.
    public var engramWidth: Int { (maxNgramSize - 1) * nEmbedPerNgram }

    public init(json: JSON) throws {
        guard json.object != nil else { throw EngramError.format("model config is not a JSON object") }
        self.json = json
        func int(_ k: String, _ def: Int? = nil) throws -> Int {
            guard let v = json[k] else {
                if let def { return def }
                throw EngramError.format("model config lacks \(k)")
            }
            guard let i = v.int else { throw EngramError.format("model config \(k) is not an integer") }
            return i
        }
        func dbl(_ k: String, _ def: Double) throws -> Double {
            guard let v = json[k] else { return def }
            guard let d = v.double else { throw EngramError.format("model config \(k) is not a number") }
            return d
        }
        func bool(_ k: String, _ def: Bool) throws -> Bool {
            guard let v = json[k] else { return def }
            guard let b = v.bool else { throw EngramError.format("model config \(k) is not a boolean") }
            return b
        }
        func ints(_ k: String) throws -> [Int] {
            guard let a = json[k]?.array else { throw EngramError.format("model config lacks the list \(k)") }
            return try a.map { guard let i = $0.int else { throw EngramError.format("model config \(k) holds a non-integer") }; return i }
        }
        vocabSize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        numLayers = try int("num_layers", 0)
        hcMult = try int("hc_mult", 1)
        numAttentionHeads = try int("num_attention_heads", 0)
        numKeyValueHeads = try int("num_key_value_heads", numAttentionHeads)
        headDim = try int("head_dim", numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        intermediateSize = try int("intermediate_size", 0)
        ropeTheta = try dbl("rope_theta", 10000)
        rmsNormEps = try dbl("rms_norm_eps", 1e-6)
        tieWordEmbeddings = try bool("tie_word_embeddings", false)
        maxPositionEmbeddings = try int("max_position_embeddings", 4096)
        hcSinkhornIters = try int("hc_sinkhorn_iters", 20)
        hcEps = try dbl("hc_eps", 1e-6)

        engramVocabSize = try ints("engram_vocab_size")
        maxNgramSize = try int("max_ngram_size")
        nEmbedPerNgram = try int("n_embed_per_ngram")
        nHeadPerNgram = try int("n_head_per_ngram")
        layerIds = try ints("layer_ids")
        padId = try int("pad_id")
        seed = try int("seed", 0)
        kernelSize = try int("kernel_size", 4)
        engramNormEps = try dbl("engram_norm_eps", Double(Float.ulpOfOne))
        shortConvNormEps = try dbl("short_conv_norm_eps", 1e-5)
        shortConv = try bool("short_conv", true)
        try validate()
    }

    /// Checks ranges so later arithmetic cannot overflow or divide by zero.
    func validate() throws {
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw EngramError.format("model config: \(what)") } }
        let big = 1 << 31
        try check(vocabSize > 0 && vocabSize < big, "vocab_size \(vocabSize) out of range")
        try check(hiddenSize > 0 && hiddenSize < 1 << 20, "hidden_size \(hiddenSize) out of range")
        try check(hcMult >= 1 && hcMult <= 64, "hc_mult \(hcMult) out of range")
        try check(numLayers >= 0 && numLayers < 4096, "num_layers \(numLayers) out of range")
        try check(maxNgramSize >= 2 && maxNgramSize <= 16, "max_ngram_size \(maxNgramSize) must be in 2...16")
        try check(nHeadPerNgram >= 1 && nHeadPerNgram <= 256, "n_head_per_ngram \(nHeadPerNgram) out of range")
        try check(nEmbedPerNgram >= 1 && nEmbedPerNgram < 1 << 20 && nEmbedPerNgram % nHeadPerNgram == 0,
                  "n_embed_per_ngram \(nEmbedPerNgram) must be a positive multiple of n_head_per_ngram")
        try check(engramVocabSize.count == maxNgramSize - 1,
                  "engram_vocab_size has \(engramVocabSize.count) entries, max_ngram_size - 1 = \(maxNgramSize - 1) needed")
        try check(engramVocabSize.allSatisfy { $0 >= 2 && $0 < 1 << 40 }, "engram_vocab_size entries out of range")
        try check(padId >= 0 && padId < vocabSize, "pad_id \(padId) outside the vocabulary")
        try check(kernelSize >= 1 && kernelSize <= 64, "kernel_size \(kernelSize) out of range")
        try check(Set(layerIds).count == layerIds.count, "layer_ids has duplicates")
        try check(layerIds.allSatisfy { $0 >= 0 && (numLayers == 0 || $0 < numLayers) }, "layer_ids outside 0..<num_layers")
        if numAttentionHeads > 0 {
            try check(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0,
                      "num_attention_heads must be a multiple of num_key_value_heads")
            try check(headDim > 0 && headDim % 2 == 0 && headDim < 1 << 16, "head_dim \(headDim) must be even and positive")
        }
    }
}
