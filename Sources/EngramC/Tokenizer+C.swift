import CEngramSupport
import Engram

// The Tokenizer section of engram.h: handles are retained `Tokenizer` objects.

@inline(__always)
private func tokenizer(_ p: OpaquePointer?) throws -> Tokenizer {
    try handleObject(p, .tokenizer, "tok", as: Tokenizer.self)
}

private func handOut(_ t: Tokenizer, _ out: UnsafeMutablePointer<OpaquePointer?>) {
    out.pointee = handOut(t, .tokenizer)
}

/// Copies bytes + NUL into a caller buffer under the buffer convention.
private func writeCString(_ bytes: [UInt8], _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                          _ needed: UnsafeMutablePointer<Int>, _ name: StaticString) throws {
    let need = bytes.count + 1
    if try checkBuffer(out, capacity: capacity, needed: need, neededOut: needed, name), let out {
        bytes.withUnsafeBufferPointer { b in
            if let base = b.baseAddress {
                UnsafeMutableRawPointer(out).copyMemory(from: base, byteCount: b.count)
            }
        }
        out[bytes.count] = 0
    }
}

@c @implementation
public func engram_tokenizer_load(_ path: UnsafePointer<CChar>!, _ out: UnsafeMutablePointer<OpaquePointer?>!) -> engram_status {
    cCall("engram_tokenizer_load") {
        let path = try required(path, "path")
        let out = try required(out, "out")
        let t = try Tokenizer.load(path: String(cString: path))
        handOut(t, out)
    }
}

@c @implementation
public func engram_tokenizer_load_from_memory(_ json: UnsafePointer<CChar>!, _ len: Int,
                                              _ out: UnsafeMutablePointer<OpaquePointer?>!) -> engram_status {
    cCall("engram_tokenizer_load_from_memory") {
        _ = try checkedCount(len, "len")
        let json = try required(json, "json")
        let out = try required(out, "out")
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(json).assumingMemoryBound(to: UInt8.self), count: len)
        let t = try Tokenizer.load(json: bytes)
        handOut(t, out)
    }
}

@c @implementation
public func engram_tokenizer_free(_ tok: OpaquePointer!) {
    release(tok, .tokenizer, "engram_tokenizer_free")
}

@c @implementation
public func engram_tokenizer_vocab_size(_ tok: OpaquePointer!, _ out: UnsafeMutablePointer<Int>!) -> engram_status {
    cCall("engram_tokenizer_vocab_size") {
        let t = try tokenizer(tok)
        let out = try required(out, "out")
        out.pointee = t.vocabSize
    }
}

@c @implementation
public func engram_tokenize(_ tok: OpaquePointer!, _ text: UnsafePointer<CChar>!, _ textLen: Int, _ addSpecial: Int32,
                            _ ids: UnsafeMutablePointer<Int32>!, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>!) -> engram_status {
    cCall("engram_tokenize") {
        let t = try tokenizer(tok)
        let needed = try required(needed, "needed")
        _ = try checkedCount(capacity, "capacity")
        let bytes = try borrowedUTF8(text, textLen, "text")
        let result = t.encode(bytes, addSpecialTokens: addSpecial != 0)
        if try checkBuffer(ids, capacity: capacity, needed: result.count, neededOut: needed, "ids"), let ids {
            result.withUnsafeBufferPointer { r in
                if let base = r.baseAddress { ids.update(from: base, count: r.count) }
            }
        }
    }
}

@c @implementation
public func engram_detokenize(_ tok: OpaquePointer!, _ ids: UnsafePointer<Int32>!, _ n: Int,
                              _ out: UnsafeMutablePointer<CChar>!, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>!) -> engram_status {
    cCall("engram_detokenize") {
        let t = try tokenizer(tok)
        let needed = try required(needed, "needed")
        _ = try checkedCount(capacity, "capacity")
        let n = try checkedCount(n, "n")
        let list: UnsafeBufferPointer<Int32> = n == 0 ? UnsafeBufferPointer(start: nil, count: 0)
            : UnsafeBufferPointer(start: try required(ids, "ids"), count: n)
        let text = try t.decode(list)
        try writeCString(Array(text.utf8), out, capacity, needed, "out")
    }
}

@c @implementation
public func engram_token_to_piece(_ tok: OpaquePointer!, _ id: Int32, _ out: UnsafeMutablePointer<CChar>!,
                                  _ capacity: Int, _ needed: UnsafeMutablePointer<Int>!) -> engram_status {
    cCall("engram_token_to_piece") {
        let t = try tokenizer(tok)
        let needed = try required(needed, "needed")
        _ = try checkedCount(capacity, "capacity")
        let piece = try t.token(forId: Int(id))
        try writeCString(Array(piece.utf8), out, capacity, needed, "out")
    }
}

@c @implementation
public func engram_token_to_id(_ tok: OpaquePointer!, _ piece: UnsafePointer<CChar>!, _ len: Int,
                               _ id: UnsafeMutablePointer<Int32>!) -> engram_status {
    cCall("engram_token_to_id") {
        let t = try tokenizer(tok)
        let idOut = try required(id, "id")
        let bytes = try borrowedUTF8(piece, len, "piece")
        guard let found = t.id(forToken: String(decoding: bytes, as: UTF8.self)) else {
            throw EngramError.outOfRange("no token is spelled \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        idOut.pointee = Int32(found)
    }
}

@c @implementation
public func engram_tokenizer_compression_table(_ tok: OpaquePointer!, _ out: UnsafeMutablePointer<Int64>!, _ capacity: Int,
                                               _ needed: UnsafeMutablePointer<Int>!, _ count: UnsafeMutablePointer<Int>!) -> engram_status {
    cCall("engram_tokenizer_compression_table") {
        let t = try tokenizer(tok)
        let needed = try required(needed, "needed")
        _ = try checkedCount(capacity, "capacity")
        if out == nil && capacity == 0 {
            needed.pointee = t.vocabSize
            return
        }
        let (table, n) = t.compressionTable()
        if try checkBuffer(out, capacity: capacity, needed: table.count, neededOut: needed, "out"), let out {
            table.withUnsafeBufferPointer { r in
                if let base = r.baseAddress { out.update(from: base, count: r.count) }
            }
            count?.pointee = n
        }
    }
}
