import CEngramSupport
import Engram
import Synchronization

// Live handles. Every handle the library hands out is recorded with its kind until it is
// freed, and every call checks its handle against the record first: a freed handle (use after
// free, double free), a handle of another kind, or a pointer the library never returned is an
// ENGRAM_E_INVALID_ARGUMENT with a message instead of a crash in the host. (A handle freed on
// one thread while another thread uses it is still the caller's race, as the header says.)

enum HandleKind: UInt8, CustomStringConvertible {
    case tokenizer, model, hashState, context
    var description: String {
        switch self {
        case .tokenizer: return "engram_tokenizer"
        case .model: return "engram_model"
        case .hashState: return "engram_hash_state"
        case .context: return "engram_context"
        }
    }
}

private let liveHandles = Mutex<[UInt: HandleKind]>([:])

/// Retains `object` and returns its handle, recorded as live.
func handOut<T: AnyObject>(_ object: T, _ kind: HandleKind) -> OpaquePointer {
    let p = Unmanaged.passRetained(object).toOpaque()
    liveHandles.withLock { $0[UInt(bitPattern: p)] = kind }
    return OpaquePointer(p)
}

/// The object behind a live handle of `kind`; throws for NULL, freed, foreign or other-kind
/// handles (the message names the argument).
@inline(__always)
func handleObject<T: AnyObject>(_ p: OpaquePointer?, _ kind: HandleKind, _ name: StaticString, as: T.Type) throws -> T {
    let p = try required(p, name)
    let raw = UnsafeRawPointer(p)
    let found = liveHandles.withLock { $0[UInt(bitPattern: raw)] }
    guard found == kind else {
        if let found {
            throw EngramError.invalidArgument("\(name) is an \(found) handle, not an \(kind)")
        }
        throw EngramError.invalidArgument("\(name) is not a live \(kind) handle (already freed, or not from this library)")
    }
    return Unmanaged<T>.fromOpaque(raw).takeUnretainedValue()
}

/// Releases a live handle of `kind`. A freed, foreign or other-kind handle is left alone
/// (the free functions return nothing; the thread's last error says what happened).
func release(_ p: OpaquePointer?, _ kind: HandleKind, _ function: StaticString) {
    guard let p else { return }
    let raw = UnsafeRawPointer(p)
    let removed: Bool = liveHandles.withLock { live in
        guard live[UInt(bitPattern: raw)] == kind else { return false }
        live[UInt(bitPattern: raw)] = nil
        return true
    }
    if removed {
        Unmanaged<AnyObject>.fromOpaque(raw).release()
    } else {
        setLastError("\(function): not a live \(kind) handle (already freed, or not from this library); nothing freed")
    }
}
