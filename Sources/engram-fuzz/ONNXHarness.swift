import Engram
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz harness "onnx": the bytes as a model file (libonnx parse + checker, the shim, the
/// importer's checks). External data locations in the input resolve next to the temp file.
func fuzzONNX(_ bytes: UnsafeBufferPointer<UInt8>) {
    let path = "/tmp/engram-fuzz-onnx-\(getpid()).onnx"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n <= 0 { break }
        done += n
    }
    close(fd)
    _ = try? ONNXImporter.load(path: path)
    unlink(path)
}
