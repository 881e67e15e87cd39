import Testing
@testable import Engram

/// Unit tests of the tokenizer's pieces. Expected values are Unicode facts (UCD
/// decompositions, case mappings) and the regex semantics of the patterns; whole-file
/// parity with Hugging Face tokenizers is tested in bindings/python/tests/test_tokenizer.py.
@Suite struct TokenizerTests {
    func sc(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    @Test func normalizationForms() {
        #expect(UnicodeNormalizer.nfd(sc("é")) == [0x65, 0x301])
        #expect(UnicodeNormalizer.nfc([0x65, 0x301]) == [0xE9])
        #expect(UnicodeNormalizer.nfkc(sc("ﬁ")) == sc("fi"))
        #expect(UnicodeNormalizer.nfkc(sc("①")) == sc("1"))
        #expect(UnicodeNormalizer.nfkd(sc("ǅ")) == [0x44, 0x7A, 0x30C])
        // canonical ordering: ccc 230 (acute) after ccc 220 (dot below)
        #expect(UnicodeNormalizer.nfd([0x61, 0x301, 0x323]) == [0x61, 0x323, 0x301])
        #expect(UnicodeNormalizer.nfc([0x61, 0x301, 0x323]) == [0x1EA1, 0x301])
        // Hangul syllables decompose and recompose algorithmically
        #expect(UnicodeNormalizer.nfd(sc("한")) == [0x1112, 0x1161, 0x11AB])
        #expect(UnicodeNormalizer.nfc([0x1112, 0x1161, 0x11AB]) == sc("한"))
        // composition exclusions stay decomposed
        #expect(UnicodeNormalizer.nfc(sc("\u{0958}")) == [0x915, 0x93C])
        #expect(UnicodeNormalizer.nfc(sc("Å")) == [0xC5]) // ANGSTROM SIGN -> A WITH RING
    }

    @Test func lowercaseAndStripAccents() {
        #expect(UnicodeNormalizer.lowercase(sc("ÀBΣΣ")) == sc("àbσσ")) // no final-sigma rule
        #expect(UnicodeNormalizer.lowercase(sc("İ")) == [0x69, 0x307])
        #expect(UnicodeNormalizer.stripAccents(UnicodeNormalizer.nfd(sc("café"))) == sc("cafe"))
    }

    @Test func compressionNormalizer() {
        func n(_ s: String) -> String { UnicodeNormalizer.string(Tokenizer.compressionNormalize(sc(s))) }
        #expect(n(" Hello") == "hello")
        #expect(n("  ") == " ")  // one space after collapsing stays
        #expect(n(" ") == " ")
        #expect(n("\t\n") == " ")
        #expect(n("Ｃafé\n\nX ") == "cafe x")
        #expect(n("\u{3000}") == " ") // NFKC makes it a space
        #expect(n("\u{A0}x ") == "x")
    }

    func pieces(_ pattern: String, _ text: String) throws -> [String] {
        let p = try SplitPattern(pattern)
        var t = text
        return t.withUTF8 { b in
            var out: [Range<Int>] = []
            p.split(b, 0, b.count, removeMatches: false, into: &out)
            return out.map { String(decoding: UnsafeBufferPointer(rebasing: b[$0]), as: UTF8.self) }
        }
    }

    @Test func gpt2Pattern() throws {
        #expect(try pieces(SplitPattern.gpt2, "Hello world's  test\n") == ["Hello", " world", "'s", " ", " test", "\n"])
        #expect(try pieces(SplitPattern.gpt2, "x   y") == ["x", "  ", " y"])
        #expect(try pieces(SplitPattern.gpt2, "a1234 !!") == ["a", "1234", " !!"])
    }

    @Test func llama3Pattern() throws {
        let p = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
        #expect(try pieces(p, "I'LL pay 1234567!\n\n  x") == ["I", "'LL", " pay", " ", "123", "456", "7", "!\n\n", " ", " x"])
        #expect(try pieces(p, "don'ſ") == ["don", "'ſ"])
        #expect(try pieces(p, "a \n b") == ["a", " \n", " b"])
    }

    @Test func unknownPatternsAreRefused() {
        #expect(throws: EngramError.self) { try SplitPattern("[a-z]+\\d") }
        do {
            _ = try SplitPattern("\\w+|\\s+")
        } catch let e as EngramError {
            #expect(e.kind == .unsupported)
            #expect(e.message.contains("unsupported pre-tokenizer pattern"))
        } catch {}
    }

    static let tiny = """
    {"added_tokens":[{"id":6,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
     "normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
     "post_processor":null,"decoder":{"type":"ByteLevel"},
     "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"\\u0120":3,"c":4,"\\u0120ab":5},"merges":["a b",["\\u0120","ab"]]}}
    """

    @Test func bpeMergesAndAddedTokens() throws {
        var json = TokenizerTests.tiny
        let tok = try json.withUTF8 { try Tokenizer.load(json: $0) }
        #expect(tok.vocabSize == 7)
        #expect(tok.encode("ab ab<s>c") == [2, 5, 6, 4])
        #expect(tok.encode("aab") == [0, 2])
        #expect(try tok.decode([2, 5, 6, 4]) == "ab ab<s>c")
        #expect(try tok.token(forId: 5) == "\u{120}ab")
        #expect(tok.id(forToken: "<s>") == 6)
    }

    @Test func heapAndScanMergesAgree() throws {
        var json = TokenizerTests.tiny
        let tok = try json.withUTF8 { try Tokenizer.load(json: $0) }
        var a: [Int32] = Array(repeating: [0, 1, 3], count: 20).flatMap { $0 }
        var b = a
        var ranks: [UInt64] = []
        tok.mergeSymbolsHeap(&a)
        let saved = b
        tok.mergeSymbols(&b, &ranks, heapAbove: Int.max)
        #expect(a == b)
        #expect(a.count < saved.count)
    }
}

@Suite struct TokenizerFixtureTests {
    @Test func everythingFixtureLoadsAndRoundTrips() throws {
        let tok = try Tokenizer.everythingFixture()
        let text = "the 12345 <s>x <l> y"
        let ids = tok.encode(text, addSpecialTokens: true)
        #expect(ids.first == Int32(tok.vocabSize - 5))
        let back = try tok.decode(ids.dropFirst())
        #expect(back == "the 12345 <s>x<l> y", "\(back.debugDescription) \(ids)")
    }
}
