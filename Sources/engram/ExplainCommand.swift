import Engram
#if canImport(Glibc)
import Glibc
#endif

/// `engram explain [TEXT]`: walks a text through the whole Engram path and shows, per
/// position, the token, its compressed id and normalised form, the suffix n-grams and their
/// table rows per head, the gate per stream and how much the fused update changes the hidden
/// state; then the most likely next tokens.
enum ExplainCommand {
    static let usage = """
    usage: engram explain [TEXT] [--model PATH] [--tokenizer PATH] [--top N] [--json]

    Shows what Engram does at every position of TEXT (default: "The cat sat on the mat."):
      token       the token's text, its id, its compressed id (the surjective vocabulary map)
                  and the normalised form that map is built from
      n-grams     the suffix n-grams of orders 2..N ending here (<pad> before the start) and,
                  per Engram layer, the table row each hash head reads
      gate        per residual stream, how much of the retrieved memory is let in (0..1)
      |Y|/|h|     size of the fused update relative to the hidden state it is added to
    then the TOP (default 5) most likely next tokens. --json prints the same as one object.
    With no --model: $ENGRAM_MODEL, else the bundled default model.
    """

    struct Layer { var rows: [Int64]; var gates: [Float]; var ratios: [Float] }

    static func run(_ args: [String]) throws -> Int32 {
        let o = try Options(args, valued: ["model", "tokenizer", "top"], flags: ["json"], usage: usage)
        if o.flags.contains("help") { print(usage); return 0 }
        guard o.positional.count <= 1 else { throw EngramError.invalidArgument("give the text as one argument (quote it)\n\(usage)") }
        let text = o.positional.first ?? "The cat sat on the mat."
        let top = try o.int("top", 5)
        guard top >= 0 && top <= 1000 else { throw EngramError.invalidArgument("--top must be in 0...1000") }
        let loc = try ModelLocation.resolve(model: o.values["model"], tokenizer: o.values["tokenizer"])
        let tok = try Tokenizer.load(path: loc.tokenizer)
        let model = try EngramModel(weights: ONNXImporter.load(path: loc.model))
        let c = model.config
        guard tok.vocabSize <= c.vocabSize else {
            throw EngramError.format("the tokenizer has \(tok.vocabSize) tokens, the model \(c.vocabSize)")
        }
        let ids = tok.encode(text)
        guard !ids.isEmpty else { throw EngramError.invalidArgument("the text has no tokens") }
        let T = ids.count
        let compressed = try model.compress(ids)

        // Rows per Engram layer, then gates and update sizes from a real forward pass.
        var layers: [Int: Layer] = [:]
        for l in c.layerIds {
            layers[l] = Layer(rows: try model.rowIds(ids, layer: l), gates: [], ratios: [])
        }
        var probs: [Float] = []
        if model.backbone != nil {
            let ctx = try Context(model: model, maxLength: max(T, 1))
            ctx.engramObserver = { ob in
                var g: [Float] = [], r: [Float] = []
                for t in 0..<ob.count {
                    for m in 0..<ob.hcMult {
                        g.append(ob.gates[t * ob.hcMult + m])
                        r.append(ob.relativeUpdate(t, stream: m))
                    }
                }
                layers[ob.layer]?.gates += g
                layers[ob.layer]?.ratios += r
            }
            let logits = try ctx.forward(ids)
            probs = softmax(Array(logits[(T - 1) * c.vocabSize ..< T * c.vocabSize]))
        }
        let next = topK(probs, top)
        /// Layer `l`'s results (every Engram layer has an entry; gates are empty without a backbone).
        func layer(_ l: Int) -> Layer { layers[l] ?? Layer(rows: [], gates: [], ratios: []) }

        let N = c.maxNgramSize, K = c.nHeadPerNgram, hc = c.hcMult
        func piece(_ id: Int32) -> String { (try? tok.decode([id])) ?? "?" }
        func normalized(_ id: Int32) -> String {
            let s = piece(id)
            return String(decoding: UnicodeNormalizer.utf8(Tokenizer.compressionNormalize(UnicodeNormalizer.scalars(s))), as: UTF8.self)
        }
        func ngram(_ t: Int, _ n: Int) -> [String] {
            (0..<n).map { k in let p = t - (n - 1) + k; return p < 0 ? "<pad>" : piece(ids[p]) }
        }

        if o.flags.contains("json") {
            var positions: [JSON] = []
            for t in 0..<T {
                var grams: [JSON] = []
                for n in 2...N {
                    var rows: [(String, JSON)] = []
                    for l in c.layerIds {
                        let r = layer(l).rows
                        rows.append((String(l), .array((0..<K).map { .number(String(r[t * (N - 1) * K + (n - 2) * K + $0])) })))
                    }
                    grams.append(.object([("order", .number(String(n))), ("tokens", .array(ngram(t, n).map { .string($0) })),
                                          ("rows", .object(rows))]))
                }
                var gates: [(String, JSON)] = [], ratios: [(String, JSON)] = []
                for l in c.layerIds where !layer(l).gates.isEmpty {
                    gates.append((String(l), .array((0..<hc).map { .number(String(layer(l).gates[t * hc + $0])) })))
                    ratios.append((String(l), .array((0..<hc).map { .number(String(layer(l).ratios[t * hc + $0])) })))
                }
                positions.append(.object([
                    ("position", .number(String(t))), ("token", .string(piece(ids[t]))), ("id", .number(String(ids[t]))),
                    ("compressed", .number(String(compressed[t]))), ("normalized", .string(normalized(ids[t]))),
                    ("ngrams", .array(grams)), ("gates", .object(gates)), ("update_ratio", .object(ratios)),
                ]))
            }
            let nextJSON: [JSON] = next.map { .object([("id", .number(String($0.0))), ("token", .string(piece(Int32($0.0)))),
                                                       ("probability", .number(String($0.1)))]) }
            print(JSON.object([("model", .string(loc.model)), ("text", .string(text)), ("positions", .array(positions)),
                               ("next", .array(nextJSON))]).serialized)
            return 0
        }

        print("model \(loc.model): \(c.numLayers) layers, hidden \(c.hiddenSize), hc_mult \(hc), vocabulary \(c.vocabSize)")
        print("Engram layers \(c.layerIds), n-grams 2..\(N), \(K) heads per order, rows of \(c.headWidth) values")
        print("text: \(quoted(text)) -> \(T) tokens\n")
        for t in 0..<T {
            let head = "[\(t)] \(quoted(piece(ids[t]))) id \(ids[t]) -> compressed \(compressed[t]) (normalised \(quoted(normalized(ids[t]))))"
            print(head)
            for n in 2...N {
                var line = "     \(n)-gram " + ngram(t, n).map(quoted).joined(separator: " ")
                for l in c.layerIds {
                    let r = layer(l).rows
                    let heads = (0..<K).map { String(r[t * (N - 1) * K + (n - 2) * K + $0]) }.joined(separator: " ")
                    line += "  rows L\(l): \(heads)"
                }
                print(line)
            }
            for l in c.layerIds where !layer(l).gates.isEmpty {
                let g = (0..<hc).map { fmt(layer(l).gates[t * hc + $0]) }.joined(separator: " ")
                let r = (0..<hc).map { fmt(layer(l).ratios[t * hc + $0]) }.joined(separator: " ")
                print("     layer \(l): gate \(g)   |Y|/|h| \(r)")
            }
        }
        if model.backbone == nil {
            print("\n(the model has no backbone: no gates or next tokens)")
        } else {
            print("\nmost likely next tokens:")
            for (id, p) in next { print("  \(fmt(p * 100))%  \(quoted(piece(Int32(id)))) (id \(id))") }
        }
        return 0
    }

    static func softmax(_ x: [Float]) -> [Float] {
        guard let m = x.max() else { return [] }
        let e = x.map { ($0 - m).exp() }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func topK(_ p: [Float], _ k: Int) -> [(Int, Float)] {
        Array(p.enumerated().sorted { $0.element > $1.element }.prefix(k)).map { ($0.offset, $0.element) }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func fmt(_ x: Float) -> String {
        guard x.isFinite else { return "\(x)" }
        let r = (x * 1000).rounded() / 1000
        return String(r)
    }
}

extension Float {
    func exp() -> Float { Float(Glibc.exp(Double(self))) }
}
