import CEngramSupport
import Engram

// The "Fuse, forward, context and generation" section of engram.h. Argument checks and
// error translation only; the math is in Engram (Fusion, Backbone, Model/Context).

@inline(__always)
func contextObject(_ p: OpaquePointer?) throws -> Context {
    try handleObject(p, .context, "ctx", as: Context.self)
}

/// Shared argument handling of engram_model_fuse / engram_context_fuse.
private func fuseCall(_ model: EngramModel, _ layer: Int32, _ hidden: UnsafePointer<Float>?, _ nHidden: Int,
                      _ ids: UnsafePointer<Int32>?, _ nIds: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                      _ needed: UnsafeMutablePointer<Int>?, _ gates: UnsafeMutablePointer<Float>?, _ gatesCapacity: Int,
                      _ run: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Int32>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) throws -> Void) throws {
    let c = model.config
    let ids = try tokenIds(ids, nIds)
    guard c.layerIds.contains(Int(layer)) else {
        throw EngramError.outOfRange("layer \(layer) is not an Engram layer (layer_ids \(c.layerIds))")
    }
    let nHidden = try checkedCount(nHidden, "n_hidden")
    let count = try elementCount(ids.count, c.hcMult * c.hiddenSize)
    guard nHidden == count else {
        throw EngramError.invalidArgument("n_hidden is \(nHidden); [n_ids=\(ids.count), hc=\(c.hcMult), D=\(c.hiddenSize)] needs \(count)")
    }
    let hidden = UnsafeBufferPointer(start: try required(hidden, "hidden"), count: nHidden)
    let needed = try required(needed, "needed")
    let gatesCapacity = try checkedCount(gatesCapacity, "gates_capacity")
    if gates == nil && gatesCapacity != 0 { throw EngramError.invalidArgument("gates is NULL but gates_capacity is \(gatesCapacity)") }
    if gates != nil && gatesCapacity < ids.count * c.hcMult {
        throw EngramError(.bufferTooSmall, "gates holds \(gatesCapacity) elements, \(ids.count * c.hcMult) needed")
    }
    guard try checkBuffer(out, capacity: checkedCount(capacity, "capacity"), needed: count, neededOut: needed, "out"),
          let out else { return }
    try run(hidden, ids, out, gates)
}

@c @implementation
public func engram_model_fuse(_ model: OpaquePointer?, _ layer: Int32, _ hidden: UnsafePointer<Float>?, _ nHidden: Int,
                              _ ids: UnsafePointer<Int32>?, _ nIds: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                              _ needed: UnsafeMutablePointer<Int>?, _ gates: UnsafeMutablePointer<Float>?,
                              _ gatesCapacity: Int) -> engram_status {
    cCall("engram_model_fuse") {
        let m = try modelObject(model)
        try fuseCall(m, layer, hidden, nHidden, ids, nIds, out, capacity, needed, gates, gatesCapacity) { h, i, o, g in
            try Context.fuse(model: m, layer: Int(layer), hidden: h, ids: i, y: o, gates: g)
        }
    }
}

@c @implementation
public func engram_context_default_params() -> engram_context_params {
    engram_context_params(max_length: 0, n_threads: 0)
}

@c @implementation
public func engram_context_new(_ model: OpaquePointer?, _ params: UnsafePointer<engram_context_params>?,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> engram_status {
    cCall("engram_context_new") {
        let m = try modelObject(model)
        let out = try required(out, "out")
        let p = params?.pointee ?? engram_context_default_params()
        let maxLength = try checkedCount(p.max_length, "params.max_length")
        guard p.n_threads >= 0, p.n_threads <= 1024 else {
            throw EngramError.invalidArgument("params.n_threads = \(p.n_threads) out of range 0...1024")
        }
        let ctx = try Context(model: m, maxLength: maxLength, threads: Int(p.n_threads))
        out.pointee = handOut(ctx, .context)
    }
}

@c @implementation
public func engram_context_free(_ ctx: OpaquePointer?) {
    release(ctx, .context, "engram_context_free")
}

@c @implementation
public func engram_context_reset(_ ctx: OpaquePointer?) -> engram_status {
    cCall("engram_context_reset") { try contextObject(ctx).reset() }
}

@c @implementation
public func engram_context_position(_ ctx: OpaquePointer?, _ position: UnsafeMutablePointer<Int>?,
                                    _ maxLength: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_context_position") {
        let c = try contextObject(ctx)
        position?.pointee = c.position
        maxLength?.pointee = c.maxLength
    }
}

@c @implementation
public func engram_forward(_ ctx: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                           _ logits: UnsafeMutablePointer<Float>?, _ capacity: Int,
                           _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_forward") {
        let c = try contextObject(ctx)
        let ids = try tokenIds(ids, n)
        let needed = try required(needed, "needed")
        let count = try elementCount(ids.count, c.vocabSize)
        guard try checkBuffer(logits, capacity: checkedCount(capacity, "capacity"), needed: count, neededOut: needed, "logits"),
              let logits else { return }
        try c.forward(ids, logits: logits)
    }
}

@c @implementation
public func engram_context_prefill(_ ctx: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                                   _ logits: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                   _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_context_prefill") {
        let c = try contextObject(ctx)
        let ids = try tokenIds(ids, n)
        let needed = try required(needed, "needed")
        guard try checkBuffer(logits, capacity: checkedCount(capacity, "capacity"), needed: c.vocabSize, neededOut: needed, "logits"),
              let logits else { return }
        try c.prefill(ids)
        c.lastLogits.withUnsafeBufferPointer { logits.update(from: $0.baseAddress!, count: c.vocabSize) }
    }
}

@c @implementation
public func engram_context_fuse(_ ctx: OpaquePointer?, _ layer: Int32, _ hidden: UnsafePointer<Float>?, _ nHidden: Int,
                                _ ids: UnsafePointer<Int32>?, _ nIds: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                _ needed: UnsafeMutablePointer<Int>?, _ gates: UnsafeMutablePointer<Float>?,
                                _ gatesCapacity: Int) -> engram_status {
    cCall("engram_context_fuse") {
        let c = try contextObject(ctx)
        try fuseCall(c.model, layer, hidden, nHidden, ids, nIds, out, capacity, needed, gates, gatesCapacity) { h, i, o, g in
            try c.fuse(layer: Int(layer), hidden: h, ids: i, y: o, gates: g)
        }
    }
}

@c @implementation
public func engram_generate_default_params() -> engram_generate_params {
    engram_generate_params(max_new_tokens: 64, temperature: 0, top_k: 0, top_p: 1, seed: 0,
                           stop_tokens: nil, n_stop_tokens: 0)
}

@c @implementation
public func engram_generate(_ ctx: OpaquePointer?, _ prompt: UnsafePointer<Int32>?, _ nPrompt: Int,
                            _ params: UnsafePointer<engram_generate_params>?,
                            _ callback: engram_token_callback?, _ userData: UnsafeMutableRawPointer?,
                            _ out: UnsafeMutablePointer<Int32>?, _ capacity: Int,
                            _ nGenerated: UnsafeMutablePointer<Int>?,
                            _ reason: UnsafeMutablePointer<engram_stop_reason>?) -> engram_status {
    cCall("engram_generate") {
        let c = try contextObject(ctx)
        let nGenerated = try required(nGenerated, "n_generated")
        let p = params?.pointee ?? engram_generate_default_params()
        let nPrompt = try checkedCount(nPrompt, "n_prompt")
        let promptBuf = nPrompt == 0 ? UnsafeBufferPointer<Int32>(start: nil, count: 0)
                                     : UnsafeBufferPointer(start: try required(prompt, "prompt"), count: nPrompt)
        let capacity = try checkedCount(capacity, "capacity")
        if out == nil && capacity != 0 { throw EngramError.invalidArgument("out is NULL but capacity is \(capacity)") }
        var limit = try checkedCount(p.max_new_tokens, "params.max_new_tokens")
        if out != nil { limit = min(limit, capacity) }
        let nStop = try checkedCount(p.n_stop_tokens, "params.n_stop_tokens")
        var stops = Set<Int32>()
        if nStop > 0 {
            let s = try required(p.stop_tokens, "params.stop_tokens")
            for i in 0..<nStop { stops.insert(s[i]) }
        }
        var sp = SamplingParams()
        sp.temperature = p.temperature
        sp.topK = Int(p.top_k)
        sp.topP = p.top_p
        sp.seed = p.seed
        var count = 0
        let why = try c.generate(prompt: promptBuf, maxNewTokens: limit, sampling: sp, stopTokens: stops) { tok in
            out?[count] = tok
            count += 1
            if let callback { return callback(tok, userData) != 0 }
            return false
        }
        nGenerated.pointee = count
        reason?.pointee = engram_stop_reason(rawValue: UInt32(why.rawValue))
    }
}
