import Engram
#if canImport(Glibc)
import Glibc
#endif

/// `engram generate MODEL --ids 1,2,3 [options]`: runs the prompt (token ids) and prints the
/// generated token ids as they are sampled, one per line, then why generation stopped and
/// the speed (on stderr).
enum GenerateCommand {
    static let usage = """
        usage: engram generate MODEL.onnx --ids ID,ID,... [--max-new N] [--temperature T]
                                [--top-k K] [--top-p P] [--seed S] [--stop ID,...] [--threads N]
        """

    static func run(_ args: [String]) throws -> Int32 {
        var path: String?
        var ids: [Int32] = []
        var maxNew = 32, threads = 0
        var sp = SamplingParams()
        var stops = Set<Int32>()
        var i = 0
        func value(_ name: String) throws -> String {
            i += 1
            guard i < args.count else { throw EngramError.invalidArgument("\(name) needs a value\n\(usage)") }
            return args[i]
        }
        func number<T: LosslessStringConvertible>(_ name: String, _: T.Type) throws -> T {
            let v = try value(name)
            guard let n = T(v) else { throw EngramError.invalidArgument("\(name) \(v) is not a number") }
            return n
        }
        func idList(_ name: String) throws -> [Int32] {
            try value(name).split(separator: ",").map {
                guard let n = Int32($0.trimmedSpaces()) else { throw EngramError.invalidArgument("\(name): \($0) is not a token id") }
                return n
            }
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "--ids": ids = try idList(a)
            case "--max-new": maxNew = try number(a, Int.self)
            case "--temperature": sp.temperature = try number(a, Float.self)
            case "--top-k": sp.topK = try number(a, Int.self)
            case "--top-p": sp.topP = try number(a, Float.self)
            case "--seed": sp.seed = try number(a, UInt64.self)
            case "--stop": stops = Set(try idList(a))
            case "--threads": threads = try number(a, Int.self)
            case "-h", "--help":
                print(usage)
                return 0
            default:
                guard path == nil, !a.hasPrefix("-") else { throw EngramError.invalidArgument("unexpected argument \(a)\n\(usage)") }
                path = a
            }
            i += 1
        }
        guard let path, !ids.isEmpty else { throw EngramError.invalidArgument(usage) }
        let model = try EngramModel(weights: ONNXImporter.load(path: path))
        let ctx = try Context(model: model, maxLength: 0, threads: threads)
        var start = timespec(), mid = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var n = 0
        let reason = try ids.withUnsafeBufferPointer { prompt in
            try ctx.generate(prompt: prompt, maxNewTokens: maxNew, sampling: sp, stopTokens: stops) { tok in
                if n == 0 { clock_gettime(CLOCK_MONOTONIC, &mid) }
                n += 1
                print(tok)
                fflush(stdout)
                return false
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &end)
        func secs(_ a: timespec, _ b: timespec) -> Double { Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) * 1e-9 }
        let prefill = n > 0 ? secs(start, mid) : secs(start, end)
        let decode = n > 1 ? secs(mid, end) / Double(n - 1) : 0
        printError("stopped: \(reason) after \(n) tokens; prefill \(ids.count) tokens in \(format3(prefill * 1e3)) ms, "
                   + "decode \(format3(decode * 1e3)) ms/token")
        return 0
    }

    static func format3(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        return "\(r)"
    }
}

extension Substring {
    func trimmedSpaces() -> String { String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}
