#if canImport(Glibc)
import Glibc
#endif

/// The fuse step of one Engram layer (SPEC.md section 5, docs/EQUATIONS.md "Engram"):
/// the context-aware gate per stream, the shared value projection, the short conv with its
/// per-stream RMSNorm, SiLU. Immutable after load; all per-sequence state lives in a
/// `ShortConvState` the caller owns, so whole sequences and token-by-token calls give the
/// same results.
public final class EngramFusion: @unchecked Sendable {
    public let layer: Int
    public let hiddenSize: Int      // D
    public let hcMult: Int          // hc
    public let engramWidth: Int     // E = (N-1) * n_embed_per_ngram
    public let kernelSize: Int      // k
    public let dilation: Int        // N
    let normEps: Float
    let convNormEps: Float
    let valueW: Matrix              // [D, E]
    let valueB: Matrix              // [1, D]
    let keyW: [Matrix]              // hc x [D, E]
    let keyB: [Matrix]              // hc x [1, D]
    let norm1: [Matrix]             // hc x [1, D] (key norm)
    let norm2: [Matrix]             // hc x [1, D] (query norm)
    let convWT: Matrix?             // [k, hc*D]: conv weight transposed (tap-major)
    let convNorms: [Matrix]         // hc x [1, D]

    /// Rows of history the short conv needs: (k-1) * N.
    public var historyRows: Int { convWT == nil ? 0 : (kernelSize - 1) * dilation }
    public var channels: Int { hcMult * hiddenSize }

    /// Reads `layers.<layer>.engram.*` from `weights`.
    public init(weights: Weights, layer: Int) throws {
        let c = weights.config
        let D = c.hiddenSize, hc = c.hcMult, E = c.engramWidth, k = c.kernelSize
        self.layer = layer
        hiddenSize = D; hcMult = hc; engramWidth = E; kernelSize = k; dilation = c.maxNgramSize
        normEps = Float(c.engramNormEps)
        convNormEps = Float(c.shortConvNormEps)
        let p = "layers.\(layer).engram."
        func mat(_ n: String, _ r: Int, _ cols: Int) throws -> Matrix {
            try Matrix(weights.tensor(p + n), rows: r, cols: cols)
        }
        valueW = try mat("value_proj.weight", D, E)
        valueB = try mat("value_proj.bias", 1, D)
        keyW = try (0..<hc).map { try mat("key_projs.\($0).weight", D, E) }
        keyB = try (0..<hc).map { try mat("key_projs.\($0).bias", 1, D) }
        norm1 = try (0..<hc).map { try mat("norm1.\($0).weight", 1, D) }
        norm2 = try (0..<hc).map { try mat("norm2.\($0).weight", 1, D) }
        if c.shortConv {
            let w = try weights.tensor(p + "short_conv.conv.weight", shape: [hc * D, 1, k]).floats()
            var t = [Float](repeating: 0, count: k * hc * D)
            for ch in 0..<(hc * D) { for i in 0..<k { t[i * hc * D + ch] = w[ch * k + i] } }
            convWT = Matrix(values: t, rows: k, cols: hc * D)
            convNorms = try (0..<hc).map { try mat("short_conv.norms.\($0).weight", 1, D) }
        } else {
            convWT = nil
            convNorms = []
        }
    }

    /// Scratch buffers of one fuse call (kept by the caller to avoid allocations).
    public final class Scratch {
        let value = FloatBuffer(), key = FloatBuffer(), q = FloatBuffer(), u = FloatBuffer(), s = FloatBuffer()
        public init() {}
    }

    /// Y[T, hc, D] (the module's output before the residual add) and gates[T, hc] for
    /// `hidden[T, hc, D]` and retrieved vectors `e[T, E]`. `state` holds the last (k-1)*N
    /// normalised conv inputs and is advanced by T positions. Pointers are trusted: the
    /// caller checks sizes.
    public func fuse(hidden: UnsafePointer<Float>, e: UnsafePointer<Float>, count T: Int,
                     state: ShortConvState, scratch: Scratch,
                     y: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>?) {
        if T == 0 { return }
        let D = hiddenSize, hc = hcMult, C = channels
        let value = scratch.value.reserve(T * D)
        let key = scratch.key.reserve(T * D)
        let pool = WorkerPool.shared
        let parts = pool.partCount(T, grain: 16, threads: Kernels.threads)
        let qnAll = scratch.q.reserve(parts * D)
        Kernels.linear(e, rows: T, valueW, bias: valueB.base, value)
        let invSqrtD = 1 / Float(D).squareRoot()
        for m in 0..<hc {
            Kernels.linear(e, rows: T, keyW[m], bias: keyB[m].base, key)
            pool.forParts(T, grain: 16, threads: Kernels.threads) { part, range in
                let qn = qnAll + part * D
                for t in range {
                    let kt = key + t * D
                    Kernels.rmsnorm(kt, norm1[m].base, normEps, D, kt)
                    Kernels.rmsnorm(hidden + (t * hc + m) * D, norm2[m].base, normEps, D, qn)
                    var g = Kernels.dot(kt, qn, D) * invSqrtD
                    let mag = max(abs(g), 1e-6).squareRoot()
                    g = g > 0 ? mag : (g < 0 ? -mag : 0)
                    let a = Kernels.sigmoid(g)
                    gates?[t * hc + m] = a
                    Kernels.scale(y + (t * hc + m) * D, a, value + t * D, D)   // V_t,m
                }
            }
        }
        guard let wT = convWT else { return }
        // u: [L + T, C]: the history rows, then this call's normalised values.
        let L = historyRows, k = kernelSize, N = dilation
        let u = scratch.u.reserve((L + T) * C)
        state.history.withUnsafeBufferPointer { u.update(from: $0.baseAddress!, count: L * C) }
        pool.forRanges(T, grain: 16, threads: Kernels.threads) { range in
            for t in range {
                for m in 0..<hc {
                    Kernels.rmsnorm(y + (t * hc + m) * D, convNorms[m].base, convNormEps, D, u + (L + t) * C + m * D)
                }
            }
        }
        let sAll = scratch.s.reserve(parts * C)
        pool.forParts(T, grain: 16, threads: Kernels.threads) { part, range in
            let s = sAll + part * C
            for t in range {
                s.update(repeating: 0, count: C)
                for i in 0..<k {
                    let row = L + t - (k - 1 - i) * N          // >= 0: history rows are zeros at the start
                    Kernels.fmaProduct(s, wT.row(i), u + row * C, C)
                }
                Kernels.addSilu(y + t * C, s, C)
            }
        }
        state.history.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: u + T * C, count: L * C) }
        state.position &+= T
    }
}

/// The streaming state of one layer's short conv: the last (k-1)*N normalised inputs per
/// channel (zeros before the start of the sequence). Owned by a context.
public final class ShortConvState {
    var history: [Float]
    public private(set) var rows: Int
    public internal(set) var position: Int = 0

    public init(fusion: EngramFusion) {
        rows = fusion.historyRows
        history = [Float](repeating: 0, count: max(1, rows * fusion.channels))
    }

    /// Back to the start of a sequence.
    public func reset() {
        for i in history.indices { history[i] = 0 }
        position = 0
    }
}
