#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole file. Tables of billions of parameters are
/// views into such mappings: opening costs page tables, not heap, and pages load on use.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        // O_NONBLOCK: a FIFO (or a device) in place of a model file must not block the host in
        // open(2); it is refused below as not a regular file. No effect on regular files.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw EngramError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngramError.io("cannot stat \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw EngramError.io("\(path) is not a regular file") }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw EngramError.io("cannot map \(path) (\(size) bytes): \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    /// Hints the kernel that rows will be read in random order (no read-ahead).
    public func adviseRandom() {
        if let base = bytes.baseAddress {
            _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_RANDOM)
        }
    }
}

/// Reads a whole file into memory (for small files such as tokenizer.json).
public func readWholeFile(_ path: String) throws -> [UInt8] {
    let m = try MappedFile(path: path)
    return Array(m.bytes)
}
