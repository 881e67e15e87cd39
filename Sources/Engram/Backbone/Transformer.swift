#if canImport(Glibc)
import Glibc
#endif

/// The backbone with its weights (docs/EQUATIONS.md): token embedding, `hc_mult` residual
/// streams (plain residual when 1, mHC when more), pre-norm RMSNorm, RoPE attention with
/// grouped KV heads, SwiGLU FFN, Engram before attention at `layer_ids`, final norm, LM head.
/// Immutable after load and shared by contexts; every per-sequence value lives in a
/// `ForwardState`.
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    let embed: Matrix               // [V, D]
    let layers: [Layer]
    let norm: Matrix                // [1, D]
    let head: Matrix                // [V, D]: lm_head, or embed when tied
    let hcHead: HCParams?
    let invFreq: [Float]            // [hd/2]
    /// raw id -> compressed id (Engram models); nil when the model has no Engram layer.
    let tokenMap: TokenMap?

    /// mHC parameters of one sublayer: fn [(2+hc)*hc, hc*D] (or [hc, hc*D] at the head),
    /// base, scale.
    struct HCParams {
        let fn: Matrix
        let base: [Float]
        let scale: [Float]
    }

    struct Layer {
        let attnNorm: Matrix, wq: Matrix, wk: Matrix, wv: Matrix, wo: Matrix
        let ffnNorm: Matrix, wg: Matrix, wu: Matrix, wd: Matrix
        let hcAttn: HCParams?, hcFfn: HCParams?
        let engram: EngramLayer?
    }

    /// Reads the backbone from `weights`. `memories`: the Engram layers' memories when the
    /// caller has them already (an `EngramModel`'s), otherwise they are read from `weights`.
    public init(weights: Weights, tokenMap: TokenMap? = nil, memories: [EngramMemory]? = nil) throws {
        let c = weights.config
        guard c.hasBackbone, c.intermediateSize > 0 else {
            throw EngramError.unsupported("the model has no backbone (num_layers, num_attention_heads, intermediate_size)")
        }
        config = c
        let D = c.hiddenSize, V = c.vocabSize, H = c.numAttentionHeads, KV = c.numKeyValueHeads
        let hd = c.headDim, I = c.intermediateSize, hc = c.hcMult
        func mat(_ n: String, _ r: Int, _ k: Int) throws -> Matrix {
            let t = try weights.tensor(n)
            guard t.count == r * k else { throw EngramError.format("tensor \(n) has shape \(t.shape), [\(r), \(k)] expected") }
            return try Matrix(t, rows: r, cols: k)
        }
        func hcParams(_ p: String, rows: Int, scales: Int) throws -> HCParams {
            HCParams(fn: try mat(p + "fn", rows, hc * D),
                     base: try weights.tensor(p + "base", shape: [rows]).floats(),
                     scale: try weights.tensor(p + "scale", shape: [scales]).floats())
        }
        embed = try mat("embed_tokens.weight", V, D)
        let map: TokenMap? = c.layerIds.isEmpty ? nil : try (tokenMap ?? TokenMap(weights: weights))
        self.tokenMap = map
        func engramLayer(_ l: Int) throws -> EngramLayer? {
            guard c.layerIds.contains(l), let map else { return nil }
            let memory = try memories?.first(where: { $0.layerId == l }) ?? EngramMemory(weights: weights, layer: l, tokenMap: map)
            return EngramLayer(memory: memory, fusion: try EngramFusion(weights: weights, layer: l))
        }
        let mix = (2 + hc) * hc
        var ls: [Layer] = []
        for l in 0..<c.numLayers {
            let p = "layers.\(l)."
            ls.append(Layer(
                attnNorm: try mat(p + "attn_norm.weight", 1, D),
                wq: try mat(p + "attn.q_proj.weight", H * hd, D),
                wk: try mat(p + "attn.k_proj.weight", KV * hd, D),
                wv: try mat(p + "attn.v_proj.weight", KV * hd, D),
                wo: try mat(p + "attn.o_proj.weight", D, H * hd),
                ffnNorm: try mat(p + "ffn_norm.weight", 1, D),
                wg: try mat(p + "ffn.gate_proj.weight", I, D),
                wu: try mat(p + "ffn.up_proj.weight", I, D),
                wd: try mat(p + "ffn.down_proj.weight", D, I),
                hcAttn: hc > 1 ? try hcParams(p + "hc_attn_", rows: mix, scales: 3) : nil,
                hcFfn: hc > 1 ? try hcParams(p + "hc_ffn_", rows: mix, scales: 3) : nil,
                engram: try engramLayer(l)))
        }
        layers = ls
        norm = try mat("norm.weight", 1, D)
        if c.tieWordEmbeddings || !weights.has("lm_head.weight") {
            guard c.tieWordEmbeddings else { throw EngramError.format("model has no lm_head.weight and tie_word_embeddings is false") }
            head = embed
        } else {
            head = try mat("lm_head.weight", V, D)
        }
        hcHead = hc > 1 ? try hcParams("hc_head_", rows: hc, scales: 1) : nil
        invFreq = (0..<(hd / 2)).map { i in
            let e = Float(2 * i) / Float(hd)
            return Float(1.0 / pow(Double(Float(c.ropeTheta)), Double(e)))
        }
    }

    /// The Engram layer at backbone layer `l`, if any.
    public func engramLayer(_ l: Int) -> EngramLayer? {
        l >= 0 && l < layers.count ? layers[l].engram : nil
    }

    /// Parameters of the backbone (embedding, layers, head; Engram tables excluded).
    public var backboneParameterCount: Int {
        var n = embed.count + norm.count + (head.base == embed.base ? 0 : head.count) + (hcHead.map { $0.fn.count + $0.base.count + 1 } ?? 0)
        for l in layers {
            n += [l.attnNorm, l.wq, l.wk, l.wv, l.wo, l.ffnNorm, l.wg, l.wu, l.wd].reduce(0) { $0 + $1.count }
            for h in [l.hcAttn, l.hcFfn].compactMap({ $0 }) { n += h.fn.count + h.base.count + h.scale.count }
        }
        return n
    }
}
