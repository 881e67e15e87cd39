// Fuzz harnesses for libengram. Built two ways:
//  - `make fuzz`: with -sanitize=fuzzer,address and -DENGRAM_FUZZING, a libFuzzer binary;
//    ENGRAM_FUZZ_TARGET names the harness.
//  - normally: a replayer, `engram-fuzz TARGET FILE...`, that runs saved inputs (the seed
//    corpora and every crash ever found, fuzz/corpus/<target>/) through the same harness.
//    The test suite runs it, so each crash found becomes a regression test.
import CEngramSupport
import Engram
import EngramC

/// The harnesses by name. Each takes arbitrary bytes and must return without trapping.
let harnesses: [String: (UnsafeBufferPointer<UInt8>) -> Void] = [
    "onnx": { bytes in fuzzONNX(bytes) },
    "json": { bytes in _ = try? JSON.parse(bytes) },
    "tokenizer_json": { bytes in _ = try? Tokenizer.load(json: bytes) },
    "forward": { bytes in fuzzForward(bytes) },
    "tokenize": { bytes in
        guard firstInvalidUTF8Offset(bytes) == nil, let tok = fuzzTokenizer else { return }
        let ids = tok.encode(bytes, addSpecialTokens: true)
        _ = try? tok.decode(ids)
        _ = Tokenizer.compressionNormalize(UnicodeNormalizer.scalars(bytes))
    },
]

#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry point for programs that keep their own main (libclang_rt.fuzzer_no_main).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The tokenizer of the "tokenize" harness, built once.
let fuzzTokenizer = try? Tokenizer.everythingFixture()

nonisolated(unsafe) var selected: ((UnsafeBufferPointer<UInt8>) -> Void)?

#if ENGRAM_FUZZING
// Fuzz build: SwiftPM links `main` to this module's entry symbol, so libFuzzer's own main is
// never pulled in; we start libFuzzer's driver with the harness ENGRAM_FUZZ_TARGET names.
@_cdecl("engram_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    let name = getenv("ENGRAM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let h = harnesses[name] else {
        print("ENGRAM_FUZZ_TARGET must be one of: \(harnesses.keys.sorted().joined(separator: ", "))")
        return 2
    }
    selected = h
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        selected?(UnsafeBufferPointer(start: data, count: size))
        return 0
    }
}
#else
@main
struct Replay {
    /// Runs saved inputs (seed corpora, past crashes) through a harness.
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let harness = harnesses[name] else {
            print("usage: engram-fuzz TARGET FILE...   (targets: \(harnesses.keys.sorted().joined(separator: ", ")))")
            throw EngramError.invalidArgument("no such fuzz target")
        }
        var n = 0
        for path in args.dropFirst() {
            let bytes = try readWholeFile(path)
            bytes.withUnsafeBufferPointer { harness($0) }
            n += 1
        }
        print("\(name): replayed \(n) inputs without a crash")
    }
}
#endif
