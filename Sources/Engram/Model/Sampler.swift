#if canImport(Glibc)
import Glibc
#endif

/// How the next token is chosen from logits: greedy when `temperature` <= 0, otherwise
/// softmax(logits / temperature) restricted to the `topK` most likely tokens (0 = all) and
/// then to the smallest set whose probability reaches `topP` (1 = all), drawn with a seeded
/// generator (same seed, same model, same prompt: same tokens).
public struct SamplingParams: Sendable, Equatable {
    public var temperature: Float = 0
    public var topK: Int = 0
    public var topP: Float = 1
    public var seed: UInt64 = 0
    public init() {}

    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else { throw EngramError.invalidArgument("temperature \(temperature) must be finite and >= 0") }
        guard topK >= 0 else { throw EngramError.invalidArgument("top_k \(topK) must be >= 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw EngramError.invalidArgument("top_p \(topP) must be in (0, 1]") }
    }
}

/// A seeded sampler (splitmix64 stream). Belongs to one context.
public struct Sampler {
    public let params: SamplingParams
    private var rng: UInt64
    private var probs: [Float] = []
    private var order: [Int32] = []

    public init(_ params: SamplingParams) {
        self.params = params
        rng = params.seed
    }

    /// A uniform Float in [0, 1).
    mutating func uniform() -> Float {
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) * (1.0 / Float(1 << 24))
    }

    /// The next token for `logits` (V values). NaN logits count as -inf; all of them NaN or
    /// -inf is an error (the model produced no usable distribution).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) throws -> Int32 {
        let V = logits.count
        var best = -1
        var bestV = -Float.infinity
        for i in 0..<V where logits[i] > bestV { bestV = logits[i]; best = i }
        guard best >= 0 else { throw EngramError(.internal, "the logits hold no finite value (NaN or -inf everywhere)") }
        if params.temperature <= 0 || params.topK == 1 { return Int32(best) }
        // Candidates: all, or the top k by logit.
        if order.count != V { order = (0..<Int32(V)).map { $0 } } else { for i in 0..<V { order[i] = Int32(i) } }
        var n = V
        let key: (Int32) -> Float = { let x = logits[Int($0)]; return x.isNaN ? -.infinity : x }
        if params.topK > 0 && params.topK < V {
            // Partial selection: nth-element style by sorting only when small; quickselect.
            select(&order, k: params.topK, key: key)
            n = params.topK
        }
        order[0..<n].sort { key($0) > key($1) }
        if probs.count < n { probs = [Float](repeating: 0, count: n) }
        let invT = 1 / params.temperature
        let m = key(order[0]) * invT
        var sum: Float = 0
        for i in 0..<n { let p = expf(key(order[i]) * invT - m); probs[i] = p; sum += p }
        // top-p: the smallest prefix whose mass reaches topP * sum.
        if params.topP < 1 {
            let limit = params.topP * sum
            var acc: Float = 0
            var cut = n
            for i in 0..<n {
                acc += probs[i]
                if acc >= limit { cut = i + 1; break }
            }
            n = cut
            sum = acc
        }
        let r = uniform() * sum
        var acc: Float = 0
        for i in 0..<n {
            acc += probs[i]
            if r < acc { return order[i] }
        }
        return order[n - 1]
    }

    /// Moves the k largest keys to order[0..<k] (unordered); quickselect.
    private func select(_ a: inout [Int32], k: Int, key: (Int32) -> Float) {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let pivot = key(a[(lo + hi) / 2])
            var i = lo, j = hi
            while i <= j {
                while key(a[i]) > pivot { i += 1 }
                while key(a[j]) < pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { return }
        }
    }
}
