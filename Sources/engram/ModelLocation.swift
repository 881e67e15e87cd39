import Engram
#if canImport(Glibc)
import Glibc
#endif

/// Where the `engram` command finds its model and tokenizer when none is named:
/// `--model PATH` (a .onnx file or a folder holding model.onnx), else $ENGRAM_MODEL, else the
/// bundled default model installed beside the command (`<prefix>/share/engram/model`), else
/// `examples/model` of a source checkout (the command's own, or the current directory's).
/// The tokenizer is `--tokenizer PATH`, else tokenizer.json in the model's folder.
struct ModelLocation {
    let model: String
    let tokenizer: String

    static func resolve(model: String?, tokenizer: String?) throws -> ModelLocation {
        var candidates: [String] = []
        if let model { candidates.append(model) }
        else {
            if let env = getenv("ENGRAM_MODEL") { candidates.append(String(cString: env)) }
            if let exe = executableDirectory() {
                candidates.append(exe + "/../share/engram/model")
                // .build/<config>/engram-cli and build/stage/bin/engram inside a checkout.
                candidates.append(exe + "/../../examples/model")
                candidates.append(exe + "/../../../examples/model")
            }
            candidates.append("examples/model")
        }
        for c in candidates {
            let file = isDirectory(c) ? c + "/model.onnx" : c
            if access(file, R_OK) == 0 {
                let folder = file.lastIndex(of: "/").map { String(file[..<$0]) } ?? "."
                let tok = tokenizer ?? folder + "/tokenizer.json"
                guard access(tok, R_OK) == 0 else {
                    throw EngramError.io("no tokenizer at \(tok): pass --tokenizer PATH")
                }
                return ModelLocation(model: file, tokenizer: tok)
            }
            if model != nil { throw EngramError.io("cannot read the model \(file)") }
        }
        throw EngramError.io("no model found (looked in \(candidates.joined(separator: ", "))): pass --model PATH or set ENGRAM_MODEL")
    }

    static func executableDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    static func isDirectory(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}

/// A tiny option parser shared by the commands: `--name value`, `--name=value`, `--flag`,
/// positionals, and `--` before positionals that start with "-".
struct Options {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    init(_ args: [String], valued: Set<String>, flags known: Set<String>, usage: String) throws {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" {  // everything after is positional (a text may start with "-")
                positional += args[(i + 1)...]
                break
            }
            if a == "-h" || a == "--help" { flags.insert("help"); i += 1; continue }
            if a.hasPrefix("--") {
                var name = String(a.dropFirst(2))
                var value: String?
                if let eq = name.firstIndex(of: "=") { value = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
                if valued.contains(name) {
                    if value == nil {
                        guard i + 1 < args.count else { throw EngramError.invalidArgument("--\(name) needs a value\n\(usage)") }
                        i += 1
                        value = args[i]
                    }
                    values[name] = value
                } else if known.contains(name), value == nil {
                    flags.insert(name)
                } else {
                    throw EngramError.invalidArgument("unknown option \(a)\n\(usage)")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    func int(_ name: String, _ def: Int) throws -> Int {
        guard let v = values[name] else { return def }
        guard let i = Int(v) else { throw EngramError.invalidArgument("--\(name) wants an integer, got \(v)") }
        return i
    }

    func float(_ name: String, _ def: Float) throws -> Float {
        guard let v = values[name] else { return def }
        guard let f = Float(v), f.isFinite else { throw EngramError.invalidArgument("--\(name) wants a number, got \(v)") }
        return f
    }
}

/// Writes raw bytes to stdout (token pieces may end inside a UTF-8 sequence).
func writeStdout(_ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
    fflush(stdout)
}

/// Seconds since an arbitrary start (monotonic).
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// A one-line progress display on stderr for work that takes more than a second; silent
/// when stderr is not a terminal.
final class Progress {
    let label: String
    let total: Int
    let started = now()
    var shown = false
    let enabled = isatty(2) != 0

    init(_ label: String, total: Int) {
        self.label = label
        self.total = total
    }

    func update(_ done: Int) {
        guard enabled, now() - started > 1 else { return }
        shown = true
        let pct = total > 0 ? 100 * done / total : 0
        printError("\r\(label): \(done)/\(total) (\(pct)%)", newline: false)
    }

    func finish() {
        if shown { printError("\r\u{1B}[K", newline: false) }
    }
}
