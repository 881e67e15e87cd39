import CEngramSupport
import Engram

// Static C strings for the version and the status descriptions (never freed).
private let versionCString: UnsafePointer<CChar> = makeStaticCString(EngramVersion.string)

func makeStaticCString(_ s: String) -> UnsafePointer<CChar> {
    let utf8 = Array(s.utf8)
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
    for (i, b) in utf8.enumerated() { p[i] = CChar(bitPattern: b) }
    p[utf8.count] = 0
    return UnsafePointer(p)
}

@c @implementation
public func engram_version() -> UnsafePointer<CChar>! { versionCString }

@c @implementation
public func engram_version_number() -> Int32 { EngramVersion.number }

@c @implementation
public func engram_abi_version() -> Int32 { EngramVersion.abi }

@c @implementation
public func engram_status_string(_ status: engram_status) -> UnsafePointer<CChar>! {
    let s: StaticString
    switch status {
    case ENGRAM_OK: s = "ok"
    case ENGRAM_E_INVALID_ARGUMENT: s = "invalid argument"
    case ENGRAM_E_BUFFER_TOO_SMALL: s = "buffer too small"
    case ENGRAM_E_IO: s = "i/o error"
    case ENGRAM_E_FORMAT: s = "malformed file"
    case ENGRAM_E_UNSUPPORTED: s = "unsupported"
    case ENGRAM_E_OUT_OF_RANGE: s = "out of range"
    case ENGRAM_E_OUT_OF_MEMORY: s = "out of memory"
    case ENGRAM_E_INVALID_UTF8: s = "invalid UTF-8"
    case ENGRAM_E_STATE: s = "invalid state"
    case ENGRAM_E_CANCELLED: s = "cancelled"
    case ENGRAM_E_INTERNAL: s = "internal error"
    default: s = "unknown status"
    }
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func engram_last_error() -> UnsafePointer<CChar>! { engram_support_get_error() }
