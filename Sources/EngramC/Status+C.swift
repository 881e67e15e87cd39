import CEngramSupport
import Engram

// The boundary between C hosts and the engine. Every exported function funnels through
// `cCall`, which catches every thrown error and turns it into a status + thread message.
// Swift traps cannot be caught: validate arguments with the helpers below before use.

extension EngramError.Kind {
    /// The header's status for this error kind (exhaustive: a new kind must get a status).
    var status: engram_status {
        switch self {
        case .invalidArgument: return ENGRAM_E_INVALID_ARGUMENT
        case .bufferTooSmall: return ENGRAM_E_BUFFER_TOO_SMALL
        case .io: return ENGRAM_E_IO
        case .format: return ENGRAM_E_FORMAT
        case .unsupported: return ENGRAM_E_UNSUPPORTED
        case .outOfRange: return ENGRAM_E_OUT_OF_RANGE
        case .outOfMemory: return ENGRAM_E_OUT_OF_MEMORY
        case .invalidUTF8: return ENGRAM_E_INVALID_UTF8
        case .state: return ENGRAM_E_STATE
        case .cancelled: return ENGRAM_E_CANCELLED
        case .internal: return ENGRAM_E_INTERNAL
        }
    }
}

func setLastError(_ message: String) {
    var m = message
    m.withUTF8 { buf in
        buf.withMemoryRebound(to: CChar.self) { engram_support_set_error($0.baseAddress, $0.count) }
    }
}

/// Runs `body`; on success clears the thread's error and returns ENGRAM_OK, on a thrown
/// error records its message and returns its status. `function` prefixes the message.
@inline(__always)
func cCall(_ function: StaticString, _ body: () throws -> Void) -> engram_status {
    do {
        try body()
        engram_support_set_error(nil, 0)
        return ENGRAM_OK
    } catch let e as EngramError {
        setLastError("\(function): \(e.message)")
        return e.kind.status
    } catch {
        setLastError("\(function): \(error)")
        return ENGRAM_E_INTERNAL
    }
}

// MARK: - Argument validation (throwing, so the message names the argument)

@inline(__always)
func required<T>(_ p: T?, _ name: StaticString) throws -> T {
    guard let p else { throw EngramError.invalidArgument("\(name) is NULL") }
    return p
}

/// Sizes from C arrive as size_t; anything above this is treated as absurd (negative
/// values cast to size_t land here too) so later arithmetic cannot overflow.
let maxElementCount = 1 << 48

@inline(__always)
func checkedCount(_ n: Int, _ name: StaticString) throws -> Int {
    guard n >= 0, n <= maxElementCount else {
        throw EngramError.invalidArgument("\(name) = \(UInt(bitPattern: n)) is out of range")
    }
    return n
}

/// The caller-owned buffer convention of engram.h: `needed` is always written; a NULL
/// buffer with capacity 0 is a size query; otherwise a short buffer is an error and the
/// buffer is left untouched. Returns true when the caller should fill `out`.
func checkBuffer<T>(_ out: UnsafeMutablePointer<T>?, capacity: Int, needed: Int,
                    neededOut: UnsafeMutablePointer<Int>, _ name: StaticString) throws -> Bool {
    neededOut.pointee = needed
    if out == nil && capacity == 0 { return false }
    guard out != nil else { throw EngramError.invalidArgument("\(name) is NULL but capacity is \(capacity)") }
    guard capacity >= needed else {
        throw EngramError(.bufferTooSmall, "\(name) holds \(capacity) elements, \(needed) needed")
    }
    return true
}

/// Borrows a UTF-8 string given as (pointer, byte length). Invalid UTF-8 is an error
/// naming the first bad byte offset.
func borrowedUTF8(_ p: UnsafePointer<CChar>?, _ len: Int, _ name: StaticString) throws -> UnsafeBufferPointer<UInt8> {
    _ = try checkedCount(len, name)
    if len == 0 { return UnsafeBufferPointer(start: nil, count: 0) }
    let base = try required(p, name)
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(base).assumingMemoryBound(to: UInt8.self), count: len)
    if let bad = firstInvalidUTF8Offset(bytes) {
        throw EngramError(.invalidUTF8, "\(name) is not valid UTF-8 at byte offset \(bad)")
    }
    return bytes
}
