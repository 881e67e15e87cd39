/// A model's tensors by PyTorch state-dict name (e.g. `layers.1.engram.value_proj.weight`)
/// plus its config. Immutable after load; tensors are views into mapped files where possible.
///
/// Engram constants are stored as tensors too:
///   `engram.token_map`              int64 [vocab_size]   raw id -> compressed id
///   `layers.<l>.engram.multipliers` int64 [max_ngram_size]
///   `layers.<l>.engram.primes`      int64 [max_ngram_size - 1, n_head_per_ngram]
public final class Weights: @unchecked Sendable {
    public let config: ModelConfig
    public let tensors: [String: Tensor]

    public init(config: ModelConfig, tensors: [String: Tensor]) {
        self.config = config
        self.tensors = tensors
    }

    /// The tensor named `name`, or a format error naming it.
    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw EngramError.format("model has no tensor \(name)") }
        return t
    }

    /// The tensor named `name`, checked to have exactly `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let t = try tensor(name)
        guard t.shape == shape else {
            throw EngramError.format("tensor \(name) has shape \(t.shape), the config implies \(shape)")
        }
        return t
    }

    public func has(_ name: String) -> Bool { tensors[name] != nil }
}
