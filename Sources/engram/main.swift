import Engram
#if canImport(Glibc)
import Glibc
#endif

// The `engram` command: one entry per subcommand below; each lives in its own file
// (Sources/engram/<Name>Command.swift) as `run(_ args: [String]) throws -> Int32`.
struct Command {
    let name: String
    let summary: String
    let run: ([String]) throws -> Int32
}

let commands: [Command] = [
    Command(name: "version", summary: "print the library version") { _ in print("engram \(EngramVersion.string)"); return 0 },
    Command(name: "explain", summary: "walk a text through tokenize, compress, hash, retrieve, fuse and forward", run: ExplainCommand.run),
    Command(name: "generate", summary: "stream a continuation of a prompt", run: GenerateCommand.run),
    Command(name: "inspect", summary: "show a model's config, tensors and what it maps", run: InspectCommand.run),
    Command(name: "bench", summary: "time every stage of the pipeline on a model", run: BenchCommand.run),
]

func usage() -> String {
    var s = "engram \(EngramVersion.string) - inference engine for DeepSeek Engram models\n\n"
    s += "usage: engram <command> [options]\n\ncommands:\n"
    for c in commands {
        s += "  " + c.name.padding(to: 14) + " " + c.summary + "\n"
    }
    return s
}

extension String {
    func padding(to n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadding(to n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

/// Writes to stderr.
func printError(_ s: String, newline: Bool = true) {
    var line = newline ? s + "\n" : s
    line.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, stderr) }
}

let args = Array(CommandLine.arguments.dropFirst())
let name = args.first == "--version" ? "version" : args.first
if let name, let command = commands.first(where: { $0.name == name }) {
    do {
        exit(try command.run(Array(args.dropFirst())))
    } catch let e as EngramError {
        printError("engram \(name): \(e.message)")
        exit(e.kind == .invalidArgument ? 2 : 1)
    } catch {
        printError("engram \(name): \(error)")
        exit(1)
    }
} else {
    print(usage(), terminator: "")
    exit(name == nil || name == "help" || name == "--help" || name == "-h" ? 0 : 2)
}
