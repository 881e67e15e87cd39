import Engram

/// `engram generate [PROMPT]`: streams a continuation of PROMPT from the model.
enum GenerateCommand {
    static let usage = """
    usage: engram generate [PROMPT] [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
                           [--seed S] [--threads N] [--model PATH] [--tokenizer PATH] [--json]

    Streams the model's continuation of PROMPT (default: "The cat sat on the mat.") to stdout.
      --max-tokens N     new tokens at most (default 64)
      --temperature T    0 picks the most likely token every step (greedy, the default);
                         above 0 samples, sharper below 1 and flatter above
      --top-k K          sample among the K most likely tokens only (0: all)
      --top-p P          sample among the most likely tokens whose probabilities add up to P
      --seed S           the sampler's seed: the same seed gives the same text (default 0)
      --threads N        matrix threads (default: the machine's cores)
      --json             print one object: prompt, ids, generated ids and text, timings
    Generation stops at the tokenizer's end-of-text token. Timings go to stderr.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let o = try Options(args, valued: ["model", "tokenizer", "max-tokens", "temperature", "top-k", "top-p", "seed", "threads"],
                            flags: ["json"], usage: usage)
        if o.flags.contains("help") { print(usage); return 0 }
        guard o.positional.count <= 1 else { throw EngramError.invalidArgument("give the prompt as one argument (quote it)\n\(usage)") }
        let prompt = o.positional.first ?? "The cat sat on the mat."
        var sampling = SamplingParams()
        sampling.temperature = try o.float("temperature", 0)
        sampling.topK = try o.int("top-k", 0)
        sampling.topP = try o.float("top-p", 1)
        sampling.seed = UInt64(truncatingIfNeeded: try o.int("seed", 0))
        try sampling.validate()
        let maxTokens = try o.int("max-tokens", 64)
        let threads = try o.int("threads", 0)
        guard maxTokens >= 0 && maxTokens <= 1 << 20 else { throw EngramError.invalidArgument("--max-tokens must be in 0...\(1 << 20)") }
        let json = o.flags.contains("json")

        let loc = try ModelLocation.resolve(model: o.values["model"], tokenizer: o.values["tokenizer"])
        let t0 = now()
        let tok = try Tokenizer.load(path: loc.tokenizer)
        let model = try EngramModel(weights: ONNXImporter.load(path: loc.model))
        let loaded = now()
        let ids = tok.encode(prompt)
        guard !ids.isEmpty else { throw EngramError.invalidArgument("the prompt has no tokens") }
        let maxLength = min(model.config.maxPositionEmbeddings, ids.count + maxTokens)
        let ctx = try Context(model: model, maxLength: maxLength, threads: threads)
        var stops = Set<Int32>()
        for name in ["<|endoftext|>", "<｜end▁of▁sentence｜>", "</s>", "<|eot_id|>", "<|im_end|>"] {
            if let id = tok.id(forToken: name) { stops.insert(Int32(id)) }
        }
        if !json { writeStdout(Array(prompt.utf8)) }
        var generated: [Int32] = []
        var firstToken = 0.0
        let started = now()
        let reason = try ids.withUnsafeBufferPointer { p in
            try ctx.generate(prompt: p, maxNewTokens: maxTokens, sampling: sampling, stopTokens: stops) { id in
                if generated.isEmpty { firstToken = now() }
                generated.append(id)
                if !json && !stops.contains(id) { writeStdout((try? tok.decodeBytes([id])) ?? []) }
                return false
            }
        }
        let done = now()
        let decodeTokens = max(0, generated.count - 1)
        let perToken = decodeTokens > 0 ? (done - firstToken) / Double(decodeTokens) : 0
        let text = (try? tok.decode(generated.filter { !stops.contains($0) })) ?? ""
        if json {
            let j = JSON.object([
                ("prompt", .string(prompt)), ("prompt_ids", .array(ids.map { .number(String($0)) })),
                ("generated_ids", .array(generated.map { .number(String($0)) })), ("text", .string(text)),
                ("stop", .string("\(reason)")),
                ("load_seconds", .number(String(loaded - t0))),
                ("prefill_seconds", .number(String(firstToken > 0 ? firstToken - started : done - started))),
                ("decode_seconds_per_token", .number(String(perToken))),
            ])
            print(j.serialized)
        } else {
            writeStdout([0x0A])
            printError("[\(ids.count) prompt tokens, \(generated.count) generated, stop: \(reason); load \(ms(loaded - t0)), prefill \(ms((firstToken > 0 ? firstToken : done) - started)), \(ms(perToken))/token]")
        }
        return 0
    }

    static func ms(_ s: Double) -> String {
        let m = s * 1000
        return m >= 10 ? "\(Int(m.rounded())) ms" : "\((m * 100).rounded() / 100) ms"
    }
}
