import Engram

/// `engram bench`: times each stage of the pipeline on a model, in this process. For ratios
/// against the peers (Hugging Face tokenizers, numpy + PyTorch, ONNX Runtime) run `make bench`.
enum BenchCommand {
    static let usage = """
    usage: engram bench [--model PATH] [--tokenizer PATH] [--tokens N] [--threads N] [--json]

    Times, on the model (default: $ENGRAM_MODEL, else the bundled model):
      tokenize    encode a text of about N tokens (MB/s)
      hash        compress + hash the N tokens for every Engram layer (tokens/s)
      retrieve    hash + gather the table rows for every Engram layer (tokens/s, rows/s)
      prefill     one forward pass over N tokens (tokens/s)
      decode      token-by-token forward after the prompt (ms/token)
    N defaults to 512. Each figure is the best of several rounds. `make bench` compares
    against the peers in one run.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let o = try Options(args, valued: ["model", "tokenizer", "tokens", "threads"], flags: ["json"], usage: usage)
        if o.flags.contains("help") { print(usage); return 0 }
        let n = try o.int("tokens", 512)
        let threads = try o.int("threads", 0)
        guard n >= 8 && n <= 1 << 16 else { throw EngramError.invalidArgument("--tokens must be in 8...65536") }
        let loc = try ModelLocation.resolve(model: o.values["model"], tokenizer: o.values["tokenizer"])
        let tok = try Tokenizer.load(path: loc.tokenizer)
        var t0 = now()
        let model = try EngramModel(weights: ONNXImporter.load(path: loc.model))
        let loadSeconds = now() - t0
        let c = model.config
        let progress = Progress("bench", total: 5)
        defer { progress.finish() }

        // A text of about n tokens: the tokenizer's own vocabulary, decoded, as words.
        let sentence = "The cat sat on the mat. A journey of a thousand miles begins with a single step. "
        var text = sentence
        while tok.encode(text).count < n { text += sentence }
        let textBytes = text.utf8.count
        var results: [(String, Double, String)] = [("load", loadSeconds * 1000, "ms")]

        func best(_ rounds: Int, _ body: () throws -> Void) rethrows -> Double {
            var b = Double.infinity
            for _ in 0..<rounds {
                let s = now()
                try body()
                b = min(b, now() - s)
            }
            return b
        }
        var ids: [Int32] = []
        let tTok = best(5) { ids = tok.encode(text) }
        ids = Array(ids.prefix(n))
        results.append(("tokenize", Double(textBytes) / tTok / 1e6, "MB/s"))
        progress.update(1)
        if !c.layerIds.isEmpty {
            let tHash = try best(5) { for l in c.layerIds { _ = try model.hash(ids, layer: l) } }
            results.append(("hash", Double(ids.count) / tHash, "tokens/s"))
            progress.update(2)
            let tRet = try best(5) { for l in c.layerIds { _ = try model.retrieve(ids, layer: l) } }
            results.append(("retrieve", Double(ids.count) / tRet, "tokens/s"))
            results.append(("retrieve rows", Double(ids.count * model.hashColumns * c.layerIds.count) / tRet, "rows/s"))
            progress.update(3)
        }
        if model.backbone != nil {
            let ctx = try Context(model: model, maxLength: min(c.maxPositionEmbeddings, ids.count + 64), threads: threads)
            let tPre = try best(3) {
                ctx.reset()
                try ids.withUnsafeBufferPointer { try ctx.prefill($0) }
            }
            results.append(("prefill", Double(ids.count) / tPre, "tokens/s"))
            progress.update(4)
            let steps = min(32, ctx.maxLength - ctx.position)
            t0 = now()
            for k in 0..<steps {
                var t = Int32(k % c.vocabSize)
                try withUnsafePointer(to: &t) { try ctx.prefill(UnsafeBufferPointer(start: $0, count: 1)) }
            }
            if steps > 0 { results.append(("decode", (now() - t0) / Double(steps) * 1000, "ms/token")) }
            progress.update(5)
        }
        progress.finish()
        if o.flags.contains("json") {
            print(JSON.object(results.map { ($0.0, JSON.object([("value", .number(String($0.1))), ("unit", .string($0.2))])) }).serialized)
        } else {
            print("model \(loc.model): \(ids.count) tokens, Engram layers \(c.layerIds)")
            for (name, v, unit) in results {
                let shown = v >= 100 ? String(Int(v.rounded())) : String((v * 100).rounded() / 100)
                print("  " + name.padding(to: 14) + " " + shown.leftPadding(to: 12) + " " + unit)
            }
        }
        return 0
    }
}
