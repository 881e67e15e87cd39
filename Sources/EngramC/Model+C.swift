import CEngramSupport
import Engram
#if canImport(Glibc)
import Glibc
#endif

// The "Model" section of engram.h: load, config, compress, hash, row ids, retrieve, and the
// streaming hash state. Handles are retained Swift objects; no math here.

/// The object behind an engram_hash_state: the history and the model it belongs to.
final class HashStateBox {
    let model: EngramModel
    var history: NgramHistory
    init(model: EngramModel) {
        self.model = model
        self.history = model.makeHistory()
    }
}

@inline(__always)
func modelObject(_ p: OpaquePointer?) throws -> EngramModel {
    try handleObject(p, .model, "model", as: EngramModel.self)
}

@inline(__always)
func hashStateObject(_ p: OpaquePointer?, _ name: StaticString = "state") throws -> HashStateBox {
    try handleObject(p, .hashState, name, as: HashStateBox.self)
}

/// The history of an optional state, checked to belong to `model`.
func historyOf(_ state: OpaquePointer?, _ model: EngramModel) throws -> NgramHistory? {
    guard let state else { return nil }
    let box = try hashStateObject(state, "history")
    guard box.model === model else { throw EngramError.invalidArgument("history is a hash state of another model") }
    return box.history
}

/// (ids, n_ids) as a non-empty buffer.
func tokenIds(_ ids: UnsafePointer<Int32>?, _ n: Int) throws -> UnsafeBufferPointer<Int32> {
    let n = try checkedCount(n, "n_ids")
    guard n > 0 else { throw EngramError.invalidArgument("n_ids is 0 (empty input)") }
    return UnsafeBufferPointer(start: try required(ids, "ids"), count: n)
}

func elementCount(_ rows: Int, _ cols: Int) throws -> Int {
    let (m, o) = rows.multipliedReportingOverflow(by: cols)
    guard !o, m <= maxElementCount else { throw EngramError.invalidArgument("output of \(rows) x \(cols) elements is too large") }
    return m
}

@c @implementation
public func engram_model_default_params() -> engram_model_params {
    let d = MemoryOptions()
    return engram_model_params(n_threads: 0, prefetch_distance: Int32(d.prefetchDistance),
                               huge_pages: d.hugePages ? 1 : 0, random_access: d.randomAccess ? 1 : 0,
                               populate: d.populate ? 1 : 0, streaming_stores: d.streamingStores ? 1 : 0)
}

@c @implementation
public func engram_model_load(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<engram_model_params>?,
                              _ out: UnsafeMutablePointer<OpaquePointer?>?) -> engram_status {
    cCall("engram_model_load") {
        let path = try required(path, "path")
        let out = try required(out, "out")
        var options = MemoryOptions()
        if let p = params?.pointee {
            guard p.n_threads >= 0, p.n_threads <= 256 else { throw EngramError.invalidArgument("params.n_threads = \(p.n_threads) out of range 0...256") }
            guard p.prefetch_distance >= 0, p.prefetch_distance <= 4096 else {
                throw EngramError.invalidArgument("params.prefetch_distance = \(p.prefetch_distance) out of range 0...4096")
            }
            options.threads = Int(p.n_threads)
            if p.prefetch_distance > 0 { options.prefetchDistance = Int(p.prefetch_distance) }
            options.hugePages = p.huge_pages != 0
            options.randomAccess = p.random_access != 0
            options.populate = p.populate != 0
            options.streamingStores = p.streaming_stores != 0
        }
        let pathString = String(decoding: UnsafeRawBufferPointer(start: path, count: strlen(path)), as: UTF8.self)
        let weights = try ONNXImporter.load(path: pathString)
        let model = try EngramModel(weights: weights, memoryOptions: options)
        out.pointee = handOut(model, .model)
    }
}

@c @implementation
public func engram_model_free(_ model: OpaquePointer?) {
    release(model, .model, "engram_model_free")
}

/// Writes `text` NUL-terminated with the caller-buffer convention.
func writeCString(_ text: String, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                  _ needed: UnsafeMutablePointer<Int>?, _ name: StaticString) throws {
    let needed = try required(needed, "needed")
    let capacity = try checkedCount(capacity, "capacity")
    var t = text
    try t.withUTF8 { bytes in
        guard try checkBuffer(out, capacity: capacity, needed: bytes.count + 1, neededOut: needed, name), let out else { return }
        bytes.withMemoryRebound(to: CChar.self) { src in
            if let b = src.baseAddress { out.update(from: b, count: src.count) }
        }
        out[bytes.count] = 0
    }
}

@c @implementation
public func engram_model_config_json(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                     _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_model_config_json") {
        let m = try modelObject(model)
        try writeCString(m.config.json.serialized, out, capacity, needed, "out")
    }
}

@c @implementation
public func engram_model_memory_json(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                     _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_model_memory_json") {
        let m = try modelObject(model)
        try writeCString(m.memoryDescriptionJSON, out, capacity, needed, "out")
    }
}

@c @implementation
public func engram_hash_state_create(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> engram_status {
    cCall("engram_hash_state_create") {
        let m = try modelObject(model)
        let out = try required(out, "out")
        out.pointee = handOut(HashStateBox(model: m), .hashState)
    }
}

@c @implementation
public func engram_hash_state_free(_ state: OpaquePointer?) {
    release(state, .hashState, "engram_hash_state_free")
}

@c @implementation
public func engram_hash_state_reset(_ state: OpaquePointer?) -> engram_status {
    cCall("engram_hash_state_reset") { try hashStateObject(state).history.reset() }
}

@c @implementation
public func engram_hash_state_append(_ state: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int) -> engram_status {
    cCall("engram_hash_state_append") {
        let box = try hashStateObject(state)
        let n = try checkedCount(n, "n_ids")
        if n == 0 { return }
        let buf = UnsafeBufferPointer(start: try required(ids, "ids"), count: n)
        // Only the last N-1 ids matter, but every id is validated.
        let compressed = try box.model.tokenMap.compressChecked(buf)
        box.history.append(compressed)
    }
}

@c @implementation
public func engram_model_compress(_ model: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                                  _ out: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                                  _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_model_compress") {
        let m = try modelObject(model)
        let ids = try tokenIds(ids, n)
        let needed = try required(needed, "needed")
        guard try checkBuffer(out, capacity: checkedCount(capacity, "capacity"), needed: ids.count, neededOut: needed, "out"),
              let out else { return }
        try m.compress(ids, into: out)
    }
}

/// Shared body of hash / row_ids.
private func hashCall(_ model: OpaquePointer?, _ history: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                      _ layer: Int32, _ out: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                      _ needed: UnsafeMutablePointer<Int>?, offsets: Bool) throws {
    let m = try modelObject(model)
    let hist = try historyOf(history, m)
    let ids = try tokenIds(ids, n)
    _ = try m.memory(layer: Int(layer))
    let needed = try required(needed, "needed")
    let count = try elementCount(ids.count, m.hashColumns)
    guard try checkBuffer(out, capacity: checkedCount(capacity, "capacity"), needed: count, neededOut: needed, "out"),
          let out else { return }
    if offsets {
        try m.rowIds(ids, layer: Int(layer), history: hist, into: out)
    } else {
        try m.hash(ids, layer: Int(layer), history: hist, into: out)
    }
}

@c @implementation
public func engram_model_hash(_ model: OpaquePointer?, _ history: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                              _ layer: Int32, _ out: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                              _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_model_hash") { try hashCall(model, history, ids, n, layer, out, capacity, needed, offsets: false) }
}

@c @implementation
public func engram_model_row_ids(_ model: OpaquePointer?, _ history: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                                 _ layer: Int32, _ out: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                                 _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_model_row_ids") { try hashCall(model, history, ids, n, layer, out, capacity, needed, offsets: true) }
}

@c @implementation
public func engram_model_retrieve(_ model: OpaquePointer?, _ history: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                                  _ layer: Int32, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                  _ needed: UnsafeMutablePointer<Int>?) -> engram_status {
    cCall("engram_model_retrieve") {
        let m = try modelObject(model)
        let hist = try historyOf(history, m)
        let ids = try tokenIds(ids, n)
        _ = try m.memory(layer: Int(layer))
        let needed = try required(needed, "needed")
        let count = try elementCount(ids.count, m.vectorWidth)
        guard try checkBuffer(out, capacity: checkedCount(capacity, "capacity"), needed: count, neededOut: needed, "out"),
              let out else { return }
        try m.retrieve(ids, layer: Int(layer), history: hist, into: out)
    }
}
