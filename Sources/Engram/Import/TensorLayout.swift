/// The tensors a model must hold, by PyTorch state-dict name, with the shapes its config
/// implies (SPEC section 5). The importer checks a file against this list and names what is
/// missing or wrong.
public struct ExpectedTensor: Sendable, Equatable {
    public enum Kind: Sendable { case float, integer }
    public var name: String
    public var shape: [Int]
    public var kind: Kind
    /// Optional tensors may be absent (e.g. the demo's `multi_head_embedding.offsets` buffer).
    public var optional: Bool = false
}

public enum TensorLayout {
    /// Engram constants that do not depend on the table sizes.
    public static func constants(_ c: ModelConfig) -> [ExpectedTensor] {
        var out = [ExpectedTensor(name: "engram.token_map", shape: [c.vocabSize], kind: .integer)]
        for l in c.layerIds {
            out.append(.init(name: "layers.\(l).engram.multipliers", shape: [c.maxNgramSize], kind: .integer))
            out.append(.init(name: "layers.\(l).engram.primes", shape: [c.maxNgramSize - 1, c.nHeadPerNgram], kind: .integer))
        }
        return out
    }

    /// Trainable Engram tensors of layer `l`; `tableRows` = sum of that layer's primes.
    public static func engramLayer(_ c: ModelConfig, layer l: Int, tableRows: Int) -> [ExpectedTensor] {
        let p = "layers.\(l).engram."
        let d = c.hiddenSize, e = c.engramWidth
        var out: [ExpectedTensor] = [
            .init(name: p + "multi_head_embedding.embedding.weight", shape: [tableRows, c.headWidth], kind: .float),
            .init(name: p + "value_proj.weight", shape: [d, e], kind: .float),
            .init(name: p + "value_proj.bias", shape: [d], kind: .float),
        ]
        for m in 0..<c.hcMult {
            out.append(.init(name: p + "key_projs.\(m).weight", shape: [d, e], kind: .float))
            out.append(.init(name: p + "key_projs.\(m).bias", shape: [d], kind: .float))
            out.append(.init(name: p + "norm1.\(m).weight", shape: [d], kind: .float))
            out.append(.init(name: p + "norm2.\(m).weight", shape: [d], kind: .float))
        }
        if c.shortConv {
            out.append(.init(name: p + "short_conv.conv.weight", shape: [c.hcMult * d, 1, c.kernelSize], kind: .float))
            for m in 0..<c.hcMult {
                out.append(.init(name: p + "short_conv.norms.\(m).weight", shape: [d], kind: .float))
            }
        }
        return out
    }
}

extension TensorLayout {
    /// The backbone of the reference model (`engram.reference.EngramLM`): token embedding,
    /// per layer pre-norms, attention (q/k/v/o, no biases), SwiGLU FFN, mHC parameters when
    /// hc_mult > 1, final norm and LM head (absent when tie_word_embeddings).
    public static func backbone(_ c: ModelConfig) -> [ExpectedTensor] {
        let d = c.hiddenSize, hc = c.hcMult, v = c.vocabSize
        // Wrapping products: absurd configs give absurd shapes (a mismatch error), never a trap.
        let q = c.numAttentionHeads &* c.headDim, kv = c.numKeyValueHeads &* c.headDim, i = c.intermediateSize
        var out: [ExpectedTensor] = [.init(name: "embed_tokens.weight", shape: [v, d], kind: .float)]
        for l in 0..<c.numLayers {
            let p = "layers.\(l)."
            out += [
                .init(name: p + "attn_norm.weight", shape: [d], kind: .float),
                .init(name: p + "attn.q_proj.weight", shape: [q, d], kind: .float),
                .init(name: p + "attn.k_proj.weight", shape: [kv, d], kind: .float),
                .init(name: p + "attn.v_proj.weight", shape: [kv, d], kind: .float),
                .init(name: p + "attn.o_proj.weight", shape: [d, q], kind: .float),
                .init(name: p + "ffn_norm.weight", shape: [d], kind: .float),
                .init(name: p + "ffn.gate_proj.weight", shape: [i, d], kind: .float),
                .init(name: p + "ffn.up_proj.weight", shape: [i, d], kind: .float),
                .init(name: p + "ffn.down_proj.weight", shape: [d, i], kind: .float),
            ]
            if hc > 1 {
                let mix = (2 + hc) * hc
                for s in ["attn", "ffn"] {
                    out += [
                        .init(name: p + "hc_\(s)_fn", shape: [mix, hc * d], kind: .float),
                        .init(name: p + "hc_\(s)_base", shape: [mix], kind: .float),
                        .init(name: p + "hc_\(s)_scale", shape: [3], kind: .float),
                    ]
                }
            }
        }
        if hc > 1 {
            out += [
                .init(name: "hc_head_fn", shape: [hc, hc * d], kind: .float),
                .init(name: "hc_head_base", shape: [hc], kind: .float),
                .init(name: "hc_head_scale", shape: [1], kind: .float),
            ]
        }
        out.append(.init(name: "norm.weight", shape: [d], kind: .float))
        if !c.tieWordEmbeddings {
            out.append(.init(name: "lm_head.weight", shape: [v, d], kind: .float))
        }
        return out
    }
}
