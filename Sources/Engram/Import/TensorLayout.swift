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
