#if canImport(Glibc)
import Glibc
#endif

/// Query rows per block of the causal attention of a long chunk.
let attentionBlock = 128

extension Transformer {
    /// Runs `tokens` (the next positions of the sequence in `state`) through the model and
    /// appends them to the state. Writes logits `[rows, V]` into `logits` when given: every
    /// position (`lastOnly` false, rows = tokens.count) or only the last one (rows = 1).
    /// Errors: token ids outside the vocabulary (invalidArgument), more positions than the
    /// state holds (state). Nothing is changed on error.
    public func forward(tokens: UnsafeBufferPointer<Int32>, state: ForwardState,
                        logits: UnsafeMutablePointer<Float>?, lastOnly: Bool = false) throws {
        let c = config
        let T = tokens.count
        guard !state.broken else { throw EngramError(.state, "the context failed earlier and must be reset") }
        guard T > 0, let base = tokens.baseAddress else { throw EngramError.invalidArgument("no tokens to run") }
        for (i, t) in tokens.enumerated() where t < 0 || Int(t) >= c.vocabSize {
            throw EngramError.invalidArgument("token id \(t) at index \(i) is outside 0..<\(c.vocabSize)")
        }
        guard state.position + T <= state.maxLength else {
            throw EngramError(.state, "context holds \(state.maxLength) positions; \(state.position) used, \(T) more requested")
        }
        // Long inputs run in chunks: scratch memory stays bounded (scores are [chunk, S]).
        var done = 0
        while done < T {
            let n = min(max(1, state.chunkSize), T - done)
            let isLast = done + n == T
            let out: UnsafeMutablePointer<Float>? = lastOnly ? (isLast ? logits : nil) : logits.map { $0 + done * c.vocabSize }
            try forwardChunk(tokens: UnsafeBufferPointer(start: base + done, count: n), state: state, logits: out, lastOnly: lastOnly)
            done += n
        }
    }

    private func forwardChunk(tokens: UnsafeBufferPointer<Int32>, state: ForwardState,
                              logits: UnsafeMutablePointer<Float>?, lastOnly: Bool) throws {
        let c = config
        let T = tokens.count
        let D = c.hiddenSize, hc = c.hcMult, HD = hc * D
        let start = state.position
        Kernels.prepare(rows: T)
        if let tokenMap {
            if state.compressedNew.count < T { state.compressedNew = [Int64](repeating: 0, count: T) }
            try state.compressedNew.withUnsafeMutableBufferPointer { try tokenMap.compress(tokens, into: $0.baseAddress!) }
        }
        state.broken = true   // until this call completes
        // Embedding, copied into every stream.
        let h = state.h.reserve(T * HD)
        for t in 0..<T {
            let row = embed.row(Int(tokens[t]))
            for m in 0..<hc { (h + t * HD + m * D).update(from: row, count: D) }
        }
        for (l, layer) in layers.enumerated() {
            if let el = layer.engram { try engramStep(el, h: h, count: T, start: start, state: state) }
            sublayer(h: h, count: T, hcp: layer.hcAttn, norm: layer.attnNorm, state: state) { xn, y in
                attention(layer, index: l, xn: xn, count: T, start: start, state: state, out: y)
            }
            sublayer(h: h, count: T, hcp: layer.hcFfn, norm: layer.ffnNorm, state: state) { xn, y in
                ffn(layer, xn: xn, count: T, state: state, out: y)
            }
        }
        if tokenMap != nil {
            state.compressedNew.withUnsafeBufferPointer { state.history.append(UnsafeBufferPointer(rebasing: $0[0..<T])) }
        }
        state.advance(T)
        state.broken = false
        guard let logits else { return }
        // Head.
        let first = lastOnly ? T - 1 : 0
        let rows = T - first
        let z = state.x.reserve(rows * D)
        let pool = WorkerPool.shared
        pool.forRanges(rows, grain: 16, threads: Kernels.threads) { range in for r in range {
            let ht = h + (first + r) * HD
            if let hp = hcHead {
                let f = ht
                let inv = 1 / (Kernels.sumSquares(f, HD) / Float(HD) + Float(c.rmsNormEps)).squareRoot()
                let zr = z + r * D
                zr.update(repeating: 0, count: D)
                for i in 0..<hc {
                    let mixv = Kernels.dot(hp.fn.row(i), f, HD) * inv
                    let pre = Kernels.sigmoid(mixv * hp.scale[0] + hp.base[i]) + Float(c.hcEps)
                    Kernels.axpy(zr, pre, ht + i * D, D)
                }
            } else {
                (z + r * D).update(from: ht, count: D)
            }
            Kernels.rmsnorm(z + r * D, norm.base, Float(c.rmsNormEps), D, z + r * D)
        } }
        Kernels.linear(z, rows: rows, head, logits)
    }

    /// Engram before attention: hash the new positions, retrieve, fuse, h += Y.
    private func engramStep(_ el: EngramLayer, h: UnsafeMutablePointer<Float>, count T: Int, start: Int, state: ForwardState) throws {
        let c = config
        let e = state.e.reserve(T * c.engramWidth)
        state.compressedNew.withUnsafeBufferPointer { cp in
            el.memory.retrieve(UnsafeBufferPointer(rebasing: cp[0..<T]), history: state.history, into: e)
        }
        guard let conv = state.conv[el.layer] else { throw EngramError(.internal, "no conv state for layer \(el.layer)") }
        let y = state.fused.reserve(T * c.hcMult * c.hiddenSize)
        let gates = state.engramObserver == nil ? nil : state.gates.reserve(T * c.hcMult)
        el.fusion.fuse(hidden: h, e: e, count: T, state: conv, scratch: state.fusionScratch, y: y, gates: gates)
        if let observe = state.engramObserver, let gates {
            observe(EngramObservation(layer: el.layer, start: start, count: T, hcMult: c.hcMult, hiddenSize: c.hiddenSize,
                                      hidden: h, update: y, gates: gates))
        }
        Kernels.add(h, y, T * c.hcMult * c.hiddenSize)
    }

    /// One residual sublayer: plain pre-norm residual (hc = 1) or mHC (hc > 1).
    @inline(__always)
    private func sublayer(h: UnsafeMutablePointer<Float>, count T: Int, hcp: HCParams?, norm: Matrix, state: ForwardState,
                          body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let c = config
        let D = c.hiddenSize, hc = c.hcMult, HD = hc * D
        let eps = Float(c.rmsNormEps)
        let xn = state.xn.reserve(T * D)
        let y = state.y.reserve(T * D)
        let pool = WorkerPool.shared
        guard let hp = hcp else {
            pool.forRanges(T, grain: 32, threads: Kernels.threads) { r in
                for t in r { Kernels.rmsnorm(h + t * D, norm.base, eps, D, xn + t * D) }
            }
            body(xn, y)
            Kernels.add(h, y, T * D)
            return
        }
        let mix = (2 + hc) * hc
        let mixes = state.mixes.reserve(T * mix)
        Kernels.linear(h, rows: T, hp.fn, mixes)
        // Per position: pre [hc], post [hc], comb [hc, hc].
        let coef = state.coef.reserve(T * mix)
        let hcEps = Float(c.hcEps)
        let iters = c.hcSinkhornIters
        pool.forRanges(T, grain: 16, threads: Kernels.threads) { range in for t in range {
            let f = h + t * HD
            let inv = 1 / (Kernels.sumSquares(f, HD) / Float(HD) + eps).squareRoot()
            let mx = mixes + t * mix, cf = coef + t * mix
            for i in 0..<hc {
                cf[i] = Kernels.sigmoid(mx[i] * inv * hp.scale[0] + hp.base[i]) + hcEps
                cf[hc + i] = 2 * Kernels.sigmoid(mx[hc + i] * inv * hp.scale[1] + hp.base[hc + i])
            }
            let cm = cf + 2 * hc
            for i in 0..<(hc * hc) { cm[i] = mx[2 * hc + i] * inv * hp.scale[2] + hp.base[2 * hc + i] }
            for i in 0..<hc { Kernels.softmax(cm + i * hc, hc) }
            for i in 0..<(hc * hc) { cm[i] += hcEps }
            sinkhornColumns(cm, hc, hcEps)
            if iters > 1 {
                for _ in 1..<iters {
                    for i in 0..<hc {
                        var s: Float = 0
                        for j in 0..<hc { s += cm[i * hc + j] }
                        let d = s + hcEps
                        for j in 0..<hc { cm[i * hc + j] /= d }
                    }
                    sinkhornColumns(cm, hc, hcEps)
                }
            }
            // x = sum_i pre_i h_i, then the norm.
            let xt = xn + t * D
            xt.update(repeating: 0, count: D)
            for i in 0..<hc { Kernels.axpy(xt, cf[i], f + i * D, D) }
            Kernels.rmsnorm(xt, norm.base, eps, D, xt)
        } }
        body(xn, y)
        // h_j <- post_j * y + sum_i comb[i, j] * h_i
        // Each range of positions writes its streams through its own HD-sized scratch row.
        let h2 = state.h2.reserve(HD * pool.partCount(T, grain: 16, threads: Kernels.threads))
        pool.forParts(T, grain: 16, threads: Kernels.threads) { part, range in
          let h2 = h2 + HD * part
          for t in range {
            let f = h + t * HD, cf = coef + t * mix
            let cm = cf + 2 * hc
            for j in 0..<hc {
                let out = h2 + j * D
                if hc == 4 {
                    Kernels.mix4(out, cf[hc + j], y + t * D, cm[j], f, cm[hc + j], f + D,
                                 cm[2 * hc + j], f + 2 * D, cm[3 * hc + j], f + 3 * D, D)
                } else {
                    Kernels.scale(out, cf[hc + j], y + t * D, D)
                    for i in 0..<hc { Kernels.axpy(out, cm[i * hc + j], f + i * D, D) }
                }
            }
            f.update(from: h2, count: HD)
          }
        }
    }

    @inline(__always)
    private func sinkhornColumns(_ cm: UnsafeMutablePointer<Float>, _ hc: Int, _ eps: Float) {
        for j in 0..<hc {
            var s: Float = 0
            for i in 0..<hc { s += cm[i * hc + j] }
            let d = s + eps
            for i in 0..<hc { cm[i * hc + j] /= d }
        }
    }

    /// Causal attention of the new rows xn [T, D] at positions start..<start+T; appends their
    /// keys and values to the cache.
    private func attention(_ L: Layer, index l: Int, xn: UnsafeMutablePointer<Float>, count T: Int, start: Int,
                           state: ForwardState, out y: UnsafeMutablePointer<Float>) {
        let c = config
        let H = c.numAttentionHeads, KV = c.numKeyValueHeads, hd = c.headDim
        let QW = H * hd, KW = KV * hd
        let q = state.q.reserve(T * QW)
        let kc = state.keys[l].p, vc = state.values[l].p
        Kernels.linear(xn, rows: T, L.wq, q)
        Kernels.linear(xn, rows: T, L.wk, kc + start * KW)
        Kernels.linear(xn, rows: T, L.wv, vc + start * KW)
        // RoPE on q and the new keys.
        let half = hd / 2
        let cs = state.rope.reserve(T * hd)
        @inline(__always) func rotate(_ u: UnsafeMutablePointer<Float>, _ t: Int) {
            let co = cs + t * hd, si = co + half
            for i in 0..<half {
                let x1 = u[i], x2 = u[i + half]
                u[i] = x1 * co[i] - x2 * si[i]
                u[i + half] = x2 * co[i] + x1 * si[i]
            }
        }
        let pool = WorkerPool.shared
        pool.forRanges(T, grain: 16, threads: Kernels.threads) { range in for t in range {
            let p = Float(start + t)
            for i in 0..<half {
                let a = p * invFreq[i]
                cs[t * hd + i] = cosf(a)
                cs[t * hd + half + i] = sinf(a)
            }
            for hh in 0..<H { rotate(q + t * QW + hh * hd, t) }
            for g in 0..<KV { rotate(kc + (start + t) * KW + g * hd, t) }
        } }
        let S = start + T
        let rep = H / KV
        let scale = 1 / Float(hd).squareRoot()
        let o = state.o.reserve(T * QW)
        if T == 1 {
            // Decode: one query row per head; each cached key/value row is read once per
            // group of heads sharing it.
            let sc = state.scores.reserve(H * S)
            for g in 0..<KV {
                for u in 0..<S {
                    let krow = kc + u * KW + g * hd
                    for r in 0..<rep {
                        let hh = g * rep + r
                        sc[hh * S + u] = Kernels.dot(q + hh * hd, krow, hd) * scale
                    }
                }
                for r in 0..<rep { Kernels.softmax(sc + (g * rep + r) * S, S) }
                for r in 0..<rep { (o + (g * rep + r) * hd).update(repeating: 0, count: hd) }
                for u in 0..<S {
                    let vrow = vc + u * KW + g * hd
                    for r in 0..<rep {
                        let hh = g * rep + r
                        Kernels.axpy(o + hh * hd, sc[hh * S + u], vrow, hd)
                    }
                }
            }
            Kernels.linear(o, rows: 1, L.wo, y)
            return
        }
        // Causal: query rows go in blocks, each against only the keys it can see (positions
        // < start + end of block), so the masked upper triangle is mostly never computed.
        let block = T > 2 * attentionBlock ? attentionBlock : T
        // Heads in parallel (each part its own scores scratch); the products inside run on
        // the part's thread.
        let parts = pool.partCount(H, grain: 1, threads: Kernels.threads)
        let scoresAll = state.scores.reserve(parts * block * S)
        pool.forParts(H, grain: 1, threads: Kernels.threads) { part, heads in
            let scores = scoresAll + part * block * S
            for hh in heads {
                let g = hh / rep
                var b0 = 0
                while b0 < T {
                    let b1 = min(T, b0 + block), M = b1 - b0
                    let Sb = start + b1
                    Kernels.gemmNT(M, Sb, hd, alpha: scale, q + b0 * QW + hh * hd, QW, kc + g * hd, KW, beta: 0, scores, Sb)
                    Kernels.softmaxCausal(scores, rows: M, ld: Sb, n0: start + b0 + 1, width: Sb)
                    Kernels.gemmNN(M, hd, Sb, alpha: 1, scores, Sb, vc + g * hd, KW, beta: 0, o + b0 * QW + hh * hd, QW)
                    b0 = b1
                }
            }
        }
        Kernels.linear(o, rows: T, L.wo, y)
    }

    private func ffn(_ L: Layer, xn: UnsafeMutablePointer<Float>, count T: Int, state: ForwardState, out y: UnsafeMutablePointer<Float>) {
        let I = config.intermediateSize
        let g = state.gate.reserve(T * I), u = state.up.reserve(T * I)
        Kernels.linear(xn, rows: T, L.wg, g)
        Kernels.linear(xn, rows: T, L.wu, u)
        WorkerPool.shared.forRanges(T, grain: 16, threads: Kernels.threads) { r in
            Kernels.swiglu(g + r.lowerBound * I, u + r.lowerBound * I, r.count * I)
        }
        Kernels.linear(g, rows: T, L.wd, y)
    }
}
