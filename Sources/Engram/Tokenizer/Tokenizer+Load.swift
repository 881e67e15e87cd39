/// Reading tokenizer.json. Supported (everything else is an `.unsupported` error naming it):
///  - model: BPE (vocab; merges as "a b" strings or ["a", "b"] pairs; unk_token;
///    ignore_merges), without dropout, subword prefixes/suffixes or byte fallback
///  - added_tokens with special / lstrip / rstrip / single_word / normalized
///  - normalizer: null, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Sequence of these
///  - pre_tokenizer: Split (the regexes of `SplitPattern`, or a literal string; Isolated or
///    Removed, not inverted), ByteLevel (with or without prefix space and its GPT-2 regex),
///    Sequence of these, with ByteLevel last
///  - post_processor: null, ByteLevel, TemplateProcessing (single sequence), Sequence of these
///  - decoder: ByteLevel
extension Tokenizer {
    /// Loads a tokenizer.json file.
    public static func load(path: String) throws -> Tokenizer {
        let file = try MappedFile(path: path)
        let bytes = UnsafeBufferPointer(start: file.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: file.bytes.count)
        do {
            return try load(json: bytes)
        } catch let e as EngramError {
            throw EngramError(e.kind, "\(path): \(e.message)")
        }
    }

    /// Loads tokenizer.json content.
    public static func load(json bytes: UnsafeBufferPointer<UInt8>) throws -> Tokenizer {
        let file = try TokenizerFileReader(bytes)
        let root = file.root
        for key in ["truncation", "padding"] {
            if let v = root[key], !v.isNull {
                throw EngramError.unsupported("tokenizer.json: \(key) is set; libengram supports only null \(key)")
            }
        }
        guard let model = root["model"], model.object != nil else { throw EngramError.format("tokenizer.json: no model") }
        let type = model["type"]?.string ?? "BPE"
        guard type == "BPE" else { throw EngramError.unsupported("tokenizer.json: model type \(type) (only BPE is supported)") }
        if let d = model["dropout"], !d.isNull { throw EngramError.unsupported("tokenizer.json: BPE dropout") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key], !v.isNull, v.string != "" { throw EngramError.unsupported("tokenizer.json: BPE \(key)") }
        }
        if model["byte_fallback"]?.bool == true { throw EngramError.unsupported("tokenizer.json: BPE byte_fallback") }
        let ignoreMerges = model["ignore_merges"]?.bool ?? false

        // Vocabulary
        guard file.sawVocab else { throw EngramError.format("tokenizer.json: model.vocab is not an object") }
        let maxId = TokenizerFileReader.maxId
        let vocabCount = file.vocabIds.count
        var tokenIds = BytesMap(capacity: vocabCount + 1024)
        var size = 0
        file.vocabPool.withUnsafeBufferPointer { pool in
            for k in 0..<vocabCount {
                let tok = UnsafeBufferPointer(rebasing: pool[Int(file.vocabStarts[k])..<Int(file.vocabStarts[k + 1])])
                tokenIds.set(tok, file.vocabIds[k])
                size = max(size, Int(file.vocabIds[k]) + 1)
            }
        }

        // Added tokens. Like `tokenizers`, the ids written in the file are not used: a token
        // spelled like a model token gets that token's id, any other the next free id after
        // the model vocabulary (or after the largest added id above it).
        var added: [AddedToken] = []
        var addedPairs: [(String, Int32)] = []
        var addedIds = BytesMap(capacity: 64)
        var maxAdded: Int32 = -1
        let modelSize = Int32(tokenIds.count)
        if let list = root["added_tokens"], !list.isNull {
            guard let arr = list.array else { throw EngramError.format("tokenizer.json: added_tokens is not an array") }
            guard arr.count < maxId else { throw EngramError.format("tokenizer.json: too many added tokens") }
            for t in arr {
                guard let content = t["content"]?.string, t["id"]?.int != nil else {
                    throw EngramError.format("tokenizer.json: an added token lacks content or an id")
                }
                guard !content.isEmpty else { throw EngramError.format("tokenizer.json: an added token is empty") }
                let id: Int32
                if let e = addedIds.find(content) { id = e }
                else if let v = tokenIds.find(content) { id = v }
                else { id = maxAdded >= modelSize ? maxAdded + 1 : modelSize }
                addedIds.set(content, id)
                maxAdded = max(maxAdded, id)
                let special = t["special"]?.bool ?? false
                added.append(AddedToken(content: Array(content.utf8), id: id, special: special,
                                        lstrip: t["lstrip"]?.bool ?? false, rstrip: t["rstrip"]?.bool ?? false,
                                        singleWord: t["single_word"]?.bool ?? false,
                                        normalized: t["normalized"]?.bool ?? !special))
                addedPairs.append((content, id))
                size = max(size, Int(id) + 1)
            }
        }

        // Byte ids and merges refer to the model's vocabulary, before added tokens join it.
        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            var ch = ""
            ch.unicodeScalars.append(Unicode.Scalar(ByteLevel.byteToChar[b]) ?? "?")
            byteIds[b] = tokenIds.find(ch) ?? -1
        }

        var unkId: Int32? = nil
        if let u = model["unk_token"], !u.isNull {
            guard let s = u.string, let id = tokenIds.find(s) else { throw EngramError.format("tokenizer.json: unk_token is not in the vocabulary") }
            unkId = id
        }

        // Merges
        var merges = PairMap(capacity: file.mergeBounds.count + 1)
        var scratch: [UInt8] = []
        // Vocabulary entry of each model id, to check the usual case first: merged tokens
        // often have consecutive ids in merge order.
        var entryOfId = [Int32](repeating: -1, count: size)
        for k in 0..<vocabCount { entryOfId[Int(file.vocabIds[k])] = Int32(k) }
        var lastMerged: Int32 = -2
        try file.mergePool.withUnsafeBufferPointer { pool in
            try file.vocabPool.withUnsafeBufferPointer { vpool in
            for (rank, m) in file.mergeBounds.enumerated() {
                let a = UnsafeBufferPointer(rebasing: pool[Int(m.0)..<Int(m.1)])
                let b = UnsafeBufferPointer(rebasing: pool[Int(m.2)..<Int(m.3)])
                var merged: Int32? = nil
                let guess = Int(lastMerged) + 1
                if guess >= 0 && guess < size, entryOfId[guess] >= 0 {
                    let e = Int(entryOfId[guess])
                    let s = Int(file.vocabStarts[e]), t = Int(file.vocabStarts[e + 1])
                    if t - s == a.count + b.count
                        && vpool[s..<(s + a.count)].elementsEqual(a) && vpool[(s + a.count)..<t].elementsEqual(b) {
                        merged = Int32(guess)
                    }
                }
                if merged == nil {
                    scratch.removeAll(keepingCapacity: true)
                    scratch.append(contentsOf: a)
                    scratch.append(contentsOf: b)
                    merged = scratch.withUnsafeBufferPointer({ tokenIds.find($0) })
                }
                guard let merged, let ia = tokenIds.find(a), let ib = tokenIds.find(b) else {
                    throw EngramError.format("tokenizer.json: merge \(rank) (\(JSON.quote(String(decoding: a, as: UTF8.self))) \(JSON.quote(String(decoding: b, as: UTF8.self)))) uses or makes a token missing from the vocabulary")
                }
                merges.insertIfAbsent(ia, ib, rank: UInt32(rank), merged: merged)
                lastMerged = merged
            }
            }
        }

        var tokens = [String](repeating: "", count: size)
        file.vocabPool.withUnsafeBufferPointer { pool in
            for k in 0..<vocabCount {
                tokens[Int(file.vocabIds[k])] = String(decoding: pool[Int(file.vocabStarts[k])..<Int(file.vocabStarts[k + 1])], as: UTF8.self)
            }
        }
        for (t, id) in addedPairs { tokens[Int(id)] = t; tokenIds.set(t, id) }

        // Bytes the ByteLevel decoder makes of each token
        var starts = [Int32](repeating: 0, count: size + 1)
        var pool: [UInt8] = []
        pool.reserveCapacity(size * 6)
        for id in 0..<size {
            if let b = ByteLevel.bytes(ofToken: tokens[id]) { pool.append(contentsOf: b) } else { pool.append(contentsOf: tokens[id].utf8) }
            guard pool.count < Int(Int32.max) else { throw EngramError.format("tokenizer.json: vocabulary too large") }
            starts[id + 1] = Int32(pool.count)
        }

        let normalizer = try parseNormalizer(root["normalizer"])
        let pre = try parsePreTokenizer(root["pre_tokenizer"])
        let (prefix, suffix) = try parsePostProcessor(root["post_processor"], tokenIds: tokenIds)
        try checkDecoder(root["decoder"])

        // Normalized added tokens are matched against normalized text: normalize them too.
        if !normalizer.isEmpty {
            for k in added.indices where added[k].normalized {
                var s = UnicodeNormalizer.scalars(String(decoding: added[k].content, as: UTF8.self))
                for step in normalizer { s = apply(step, s) }
                added[k].content = UnicodeNormalizer.utf8(s)
            }
        }

        return Tokenizer(vocabSize: size, tokens: tokens, tokenIds: tokenIds, decodedStarts: starts, decodedPool: pool,
                         byteIds: byteIds, merges: merges, ignoreMerges: ignoreMerges, unkId: unkId,
                         added: AddedVocabulary(added), normalizer: normalizer, preTokenizer: pre,
                         prefixIds: prefix, suffixIds: suffix)
    }

    static func apply(_ step: NormalizerStep, _ s: [UInt32]) -> [UInt32] {
        switch step {
        case .nfc: return UnicodeNormalizer.nfc(s)
        case .nfd: return UnicodeNormalizer.nfd(s)
        case .nfkc: return UnicodeNormalizer.nfkc(s)
        case .nfkd: return UnicodeNormalizer.nfkd(s)
        case .lowercase: return UnicodeNormalizer.lowercase(s)
        case .stripAccents: return UnicodeNormalizer.stripAccents(s)
        }
    }

    static func parseNormalizer(_ j: JSON?) throws -> [NormalizerStep] {
        guard let j, !j.isNull else { return [] }
        guard let type = j["type"]?.string else { throw EngramError.format("tokenizer.json: normalizer without a type") }
        switch type {
        case "Sequence":
            guard let list = j["normalizers"]?.array else { throw EngramError.format("tokenizer.json: normalizer Sequence without normalizers") }
            return try list.flatMap { try parseNormalizer($0) }
        case "NFC": return [.nfc]
        case "NFD": return [.nfd]
        case "NFKC": return [.nfkc]
        case "NFKD": return [.nfkd]
        case "Lowercase": return [.lowercase]
        case "StripAccents": return [.stripAccents]
        default: throw EngramError.unsupported("tokenizer.json: unsupported normalizer \(type)")
        }
    }

    static func parsePreTokenizer(_ j: JSON?) throws -> [PreTokenizerStep] {
        var steps: [PreTokenizerStep] = []
        func add(_ j: JSON) throws {
            guard let type = j["type"]?.string else { throw EngramError.format("tokenizer.json: pre_tokenizer without a type") }
            switch type {
            case "Sequence":
                guard let list = j["pretokenizers"]?.array else { throw EngramError.format("tokenizer.json: pre_tokenizer Sequence without pretokenizers") }
                for p in list { try add(p) }
            case "Split":
                if j["invert"]?.bool == true { throw EngramError.unsupported("tokenizer.json: unsupported pre-tokenizer Split with invert") }
                let behavior = j["behavior"]?.string ?? ""
                guard behavior == "Isolated" || behavior == "Removed" else {
                    throw EngramError.unsupported("tokenizer.json: unsupported pre-tokenizer Split behavior \(JSON.quote(behavior))")
                }
                let pattern: SplitPattern
                if let r = j["pattern"]?["Regex"]?.string {
                    pattern = try SplitPattern(r)
                } else if let s = j["pattern"]?["String"]?.string, !s.isEmpty {
                    pattern = SplitPattern(literal: s)
                } else {
                    throw EngramError.format("tokenizer.json: pre-tokenizer Split without a pattern")
                }
                steps.append(.split(pattern, removeMatches: behavior == "Removed"))
            case "ByteLevel":
                let useRegex = j["use_regex"]?.bool ?? true
                steps.append(.byteLevel(useRegex ? try SplitPattern(SplitPattern.gpt2) : nil,
                                        addPrefixSpace: j["add_prefix_space"]?.bool ?? true))
            default:
                throw EngramError.unsupported("tokenizer.json: unsupported pre-tokenizer \(type)")
            }
        }
        if let j, !j.isNull { try add(j) }
        guard let last = steps.last, case .byteLevel = last else {
            throw EngramError.unsupported("tokenizer.json: the pre-tokenizer must end with ByteLevel (only byte-level BPE is supported)")
        }
        for s in steps.dropLast() {
            if case .byteLevel = s { throw EngramError.unsupported("tokenizer.json: unsupported pre-tokenizer: ByteLevel before other pre-tokenizers") }
        }
        return steps
    }

    static func parsePostProcessor(_ j: JSON?, tokenIds: BytesMap) throws -> ([Int32], [Int32]) {
        guard let j, !j.isNull else { return ([], []) }
        guard let type = j["type"]?.string else { throw EngramError.format("tokenizer.json: post_processor without a type") }
        switch type {
        case "ByteLevel": return ([], [])
        case "Sequence":
            var pre: [Int32] = [], suf: [Int32] = []
            for p in j["processors"]?.array ?? [] {
                let (a, b) = try parsePostProcessor(p, tokenIds: tokenIds)
                if !a.isEmpty || !b.isEmpty {
                    guard pre.isEmpty && suf.isEmpty else { throw EngramError.unsupported("tokenizer.json: two post-processors add tokens") }
                    pre = a; suf = b
                }
            }
            return (pre, suf)
        case "TemplateProcessing":
            guard let single = j["single"]?.array else { throw EngramError.format("tokenizer.json: TemplateProcessing without single") }
            var pre: [Int32] = [], suf: [Int32] = []
            var seenSequence = false
            for item in single {
                if let seq = item["Sequence"] {
                    guard seq["id"]?.string == "A", !seenSequence else { throw EngramError.unsupported("tokenizer.json: TemplateProcessing single template with a sequence other than one A") }
                    seenSequence = true
                } else if let sp = item["SpecialToken"], let name = sp["id"]?.string {
                    guard let entry = j["special_tokens"]?[name], let ids = entry["ids"]?.array else {
                        throw EngramError.format("tokenizer.json: TemplateProcessing special token \(JSON.quote(name)) is not defined")
                    }
                    for v in ids {
                        guard let id = v.int, id >= 0, id < Int(Int32.max) else { throw EngramError.format("tokenizer.json: bad special token id") }
                        if seenSequence { suf.append(Int32(id)) } else { pre.append(Int32(id)) }
                    }
                } else {
                    throw EngramError.format("tokenizer.json: unknown TemplateProcessing item")
                }
            }
            return (pre, suf)
        default:
            throw EngramError.unsupported("tokenizer.json: unsupported post-processor \(type)")
        }
    }

    static func checkDecoder(_ j: JSON?) throws {
        guard let j, !j.isNull else { throw EngramError.unsupported("tokenizer.json: no decoder (only ByteLevel is supported)") }
        let type = j["type"]?.string ?? ""
        guard type == "ByteLevel" else { throw EngramError.unsupported("tokenizer.json: unsupported decoder \(type)") }
    }
}

extension SplitPattern {
    /// A Split on a literal string.
    init(literal: String) {
        self.init(source: literal, alternatives: [.literal(Array(literal.utf8))])
    }
}
