import CEngramSupport
import EngramC
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz harness "forward": the bytes as a little program of calls into the C ABI on the tiny
/// model fuzz/model/model.onnx (fuzz/make_model.py): fuse (model and context), forward,
/// prefill, generate, compress/hash/row_ids/retrieve with a hash state, with arbitrary ids,
/// layers, shapes, buffer sizes and NULLs. Besides "no trap", it checks the ABI's promise
/// that a call returning an error leaves the caller's output buffers untouched (else abort).
///
/// Each step: op, layer, n, flags, then the step's ids (1 byte each, or 4 raw bytes each
/// with flag 0x20) and, for fuse, floats (1 byte each, or 4 raw bytes with flag 0x40).
func fuzzForward(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let model = fuzzModel.model, let ctx = fuzzModel.context else { return }
    _ = engram_context_reset(ctx)
    var r = ByteReader(bytes: bytes)
    var steps = 0
    while r.remaining >= 4, steps < 16 {
        steps += 1
        let op = r.byte() % 10
        let layer = Int32(Int8(bitPattern: r.byte())) % 4   // mostly -3...3, layers are 0 and 1
        let n = Int(r.byte()) % 48
        let flags = r.byte()
        var ids = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            ids[i] = flags & 0x20 != 0 ? r.int32() : Int32(r.byte() % 80) - 8
        }
        // Output capacity: exact, too small by one, zero, or huge (with a small real buffer
        // the call must never get to: only used with size queries).
        let nullIds = flags & 0x01 != 0 && n > 0
        let nullOut = flags & 0x02 != 0
        let shrink = Int(flags >> 2 & 0x03)   // 0 exact, 1 minus one, 2 zero, 3 plus 7
        let idsArg: [Int32]? = nullIds ? nil : ids
        switch op {
        case 0, 1:  // model / context fuse
            let width = fuzzModel.hc * fuzzModel.hidden
            var nHidden = n * width
            if flags & 0x80 != 0 { nHidden = nHidden + Int(r.byte()) - 128 }
            nHidden = max(0, nHidden)
            var hidden = [Float](repeating: 0, count: min(nHidden, 48 * width + 256))
            for i in 0..<hidden.count {
                hidden[i] = flags & 0x40 != 0 ? Float(bitPattern: UInt32(bitPattern: r.int32()))
                                              : Float(Int8(bitPattern: r.byte())) / 16
            }
            nHidden = min(nHidden, hidden.count)
            let need = n * width
            let cap = adjust(need, shrink)
            let gcap = adjust(n * fuzzModel.hc, shrink)
            var out = sentinel(Float.self, max(cap, 1))
            var gates = sentinel(Float.self, max(gcap, 1))
            let nullGates = flags & 0x10 != 0
            let status = hidden.withUnsafeBufferPointer { h in
                idsArg.withOptionalPointer { ip in
                    out.withUnsafeMutableBufferPointer { o in
                        gates.withUnsafeMutableBufferPointer { g in
                            op == 0
                            ? engram_model_fuse(model, layer, h.baseAddress, nHidden, ip, n,
                                                nullOut ? nil : o.baseAddress, nullOut ? 0 : cap, nil,
                                                nullGates ? nil : g.baseAddress, nullGates ? 0 : gcap)
                            : engram_context_fuse(ctx, layer, h.baseAddress, nHidden, ip, n,
                                                  nullOut ? nil : o.baseAddress, nullOut ? 0 : cap, nil,
                                                  nullGates ? nil : g.baseAddress, nullGates ? 0 : gcap)
                        }
                    }
                }
            }
            if status != ENGRAM_OK { expectUntouched(out); expectUntouched(gates) }
        case 2, 3:  // forward / prefill
            let need = (op == 2 ? n : 1) * fuzzModel.vocab
            let cap = adjust(need, shrink)
            var out = sentinel(Float.self, max(cap, 1))
            var needed = Int.max
            let status = idsArg.withOptionalPointer { ip in
                out.withUnsafeMutableBufferPointer { o in
                    op == 2
                    ? engram_forward(ctx, ip, n, nullOut ? nil : o.baseAddress, nullOut ? 0 : cap, &needed)
                    : engram_context_prefill(ctx, ip, n, nullOut ? nil : o.baseAddress, nullOut ? 0 : cap, &needed)
                }
            }
            if status != ENGRAM_OK { expectUntouched(out) }
        case 4:  // generate
            var p = engram_generate_default_params()
            p.max_new_tokens = Int(r.byte() % 8)
            p.temperature = Float(Int8(bitPattern: r.byte())) / 32
            p.top_k = Int32(Int8(bitPattern: r.byte()))
            p.top_p = Float(r.byte()) / 200
            p.seed = UInt64(r.byte())
            let cap = Int(flags >> 2 & 0x07)
            var out = sentinel(Int32.self, max(cap, 1))
            var generated = Int.max
            var reason = engram_stop_reason(rawValue: 77)
            let stops: [Int32] = Array(ids.prefix(2))
            let status = stops.withUnsafeBufferPointer { s -> engram_status in
                p.stop_tokens = s.baseAddress
                p.n_stop_tokens = flags & 0x80 != 0 ? s.count : 0
                return (flags & 0x40 != 0 ? Array(ids.dropFirst(2)) : []).withUnsafeBufferPointer { prompt in
                    out.withUnsafeMutableBufferPointer { o in
                        engram_generate(ctx, prompt.baseAddress, prompt.count, &p, nil, nil,
                                        nullOut ? nil : o.baseAddress, nullOut ? 0 : cap, &generated, &reason)
                    }
                }
            }
            if status != ENGRAM_OK {
                expectUntouched(out)
                if generated != Int.max || reason.rawValue != 77 { abort() }
            }
        case 5:  // hash state append, reset
            if let hs = fuzzModel.hashState {
                _ = idsArg.withOptionalPointer { engram_hash_state_append(hs, $0, n) }
                if flags & 0x80 != 0 { _ = engram_hash_state_reset(hs) }
            }
        default:  // compress (6), hash (7), row_ids (8), retrieve (9)
            let history = flags & 0x10 != 0 ? fuzzModel.hashState : nil
            let width = op == 6 ? 1 : (op == 9 ? fuzzModel.vectorWidth : fuzzModel.hashColumns)
            let cap = adjust(n * width, shrink)
            var needed = Int.max
            let status: engram_status
            if op == 9 {
                var out = sentinel(Float.self, max(cap, 1))
                status = idsArg.withOptionalPointer { ip in
                    out.withUnsafeMutableBufferPointer { o in
                        engram_model_retrieve(model, history, ip, n, layer, nullOut ? nil : o.baseAddress,
                                              nullOut ? 0 : cap, &needed)
                    }
                }
                if status != ENGRAM_OK { expectUntouched(out) }
            } else {
                var out = sentinel(Int64.self, max(cap, 1))
                status = idsArg.withOptionalPointer { ip in
                    out.withUnsafeMutableBufferPointer { o in
                        let ob = nullOut ? nil : o.baseAddress, oc = nullOut ? 0 : cap
                        switch op {
                        case 6: return engram_model_compress(model, ip, n, ob, oc, &needed)
                        case 7: return engram_model_hash(model, history, ip, n, layer, ob, oc, &needed)
                        default: return engram_model_row_ids(model, history, ip, n, layer, ob, oc, &needed)
                        }
                    }
                }
                if status != ENGRAM_OK { expectUntouched(out) }
            }
        }
    }
}

private func adjust(_ need: Int, _ shrink: Int) -> Int {
    switch shrink {
    case 0: return need
    case 1: return max(0, need - 1)
    case 2: return 0
    default: return need + 7
    }
}

/// A buffer filled with a byte pattern no call writes by chance (0xA5 bytes).
private func sentinel<T>(_: T.Type, _ count: Int) -> [T] {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<T>.stride, alignment: 16)
    defer { raw.deallocate() }
    memset(raw, 0xA5, count * MemoryLayout<T>.stride)
    let typed = raw.bindMemory(to: T.self, capacity: count)
    return Array(UnsafeBufferPointer(start: typed, count: count))
}

/// Aborts (a libFuzzer crash) when an output buffer was written by a call that failed.
private func expectUntouched<T>(_ buf: [T]) {
    buf.withUnsafeBytes { b in
        for x in b where x != 0xA5 {
            fputs("output buffer written by a call that returned an error\n", stderr)
            abort()
        }
    }
}

/// Reads the fuzz input; past its end every read returns zeros.
struct ByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0
    var remaining: Int { bytes.count - at }
    mutating func byte() -> UInt8 {
        guard at < bytes.count else { return 0 }
        defer { at += 1 }
        return bytes[at]
    }
    mutating func int32() -> Int32 {
        var v: UInt32 = 0
        for _ in 0..<4 { v = v << 8 | UInt32(byte()) }
        return Int32(bitPattern: v)
    }
}

extension Optional where Wrapped == [Int32] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
        switch self {
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}

/// The model, context and hash state of the "forward" harness, loaded once.
final class FuzzModel {
    var model: OpaquePointer?
    var context: OpaquePointer?
    var hashState: OpaquePointer?
    var vocab = 0, hc = 0, hidden = 0, hashColumns = 0, vectorWidth = 0

    init() {
        let root = getenv("ENGRAM_ROOT").map { String(cString: $0) } ?? "."
        let path = root + "/fuzz/model/model.onnx"
        guard engram_model_load(path, nil, &model) == ENGRAM_OK, let m = model else {
            fputs("forward harness: cannot load \(path): \(String(cString: engram_last_error()))\n", stderr)
            return
        }
        var cp = engram_context_default_params()
        cp.n_threads = 1
        _ = engram_context_new(m, &cp, &context)
        _ = engram_hash_state_create(m, &hashState)
        // The sizes the harness needs, from the file's config (fuzz/make_model.py).
        vocab = 64; hc = 2; hidden = 16; hashColumns = 4; vectorWidth = 16
    }
}

let fuzzModel = FuzzModel()
