/// A small tokenizer that exercises every supported feature at once (all byte tokens, a few
/// merges, NFKC, every known split pattern, added tokens with lstrip/rstrip/single_word),
/// for fuzz harnesses and tests of robustness. Its ids mean nothing.
extension Tokenizer {
    public static func everythingFixture() throws -> Tokenizer {
        var vocab: [String] = []
        for b in 0..<256 {
            var s = ""
            s.unicodeScalars.append(Unicode.Scalar(ByteLevel.byteToChar[b]) ?? "?")
            vocab.append(s)
        }
        let merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "Ġ"), ("ĠĠ", "ĠĠ"), ("1", "2")]
        for (a, b) in merges { vocab.append(a + b) }
        let vocabJSON = vocab.enumerated().map { "\(JSON.quote($0.element)):\($0.offset)" }.joined(separator: ",")
        let mergesJSON = merges.enumerated().map { k, m in k % 2 == 0 ? JSON.quote(m.0 + " " + m.1) : "[\(JSON.quote(m.0)),\(JSON.quote(m.1))]" }
            .joined(separator: ",")
        func split(_ p: String, _ behavior: String = "Isolated") -> String {
            "{\"type\":\"Split\",\"pattern\":{\"Regex\":\(JSON.quote(p))},\"behavior\":\"\(behavior)\",\"invert\":false}"
        }
        let llama = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
        let deepseek = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
        let pre = [split("\\p{N}{1,3}"), split("[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+"), split(deepseek),
                   split(llama),
                   "{\"type\":\"Split\",\"pattern\":{\"String\":\"--\"},\"behavior\":\"Removed\",\"invert\":false}",
                   "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}"].joined(separator: ",")
        func added(_ c: String, _ id: Int, lstrip: Bool = false, rstrip: Bool = false, singleWord: Bool = false, normalized: Bool = false) -> String {
            "{\"id\":\(id),\"content\":\(JSON.quote(c)),\"single_word\":\(singleWord),\"lstrip\":\(lstrip),\"rstrip\":\(rstrip),\"normalized\":\(normalized),\"special\":true}"
        }
        let n = vocab.count
        let addedJSON = [added("<s>", n), added("<l>", n + 1, lstrip: true), added("<r>", n + 2, rstrip: true),
                         added("word", n + 3, singleWord: true), added("ﬁx", n + 4, normalized: true)].joined(separator: ",")
        var json = """
        {"added_tokens":[\(addedJSON)],"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"}]},
         "pre_tokenizer":{"type":"Sequence","pretokenizers":[\(pre)]},
         "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
           "special_tokens":{"<s>":{"id":"<s>","ids":[\(n)],"tokens":["<s>"]}}},
         "decoder":{"type":"ByteLevel"},
         "model":{"type":"BPE","vocab":{\(vocabJSON)},"merges":[\(mergesJSON)]}}
        """
        return try json.withUTF8 { try Tokenizer.load(json: $0) }
    }
}
