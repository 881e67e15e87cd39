import Testing
@testable import Engram

@Suite struct CoreTests {
    @Test func versionNumberMatchesParts() {
        #expect(EngramVersion.number == EngramVersion.major * 1_000_000 + EngramVersion.minor * 1000 + EngramVersion.patch)
        #expect(EngramVersion.string == "\(EngramVersion.major).\(EngramVersion.minor).\(EngramVersion.patch)")
    }

    private func offset(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalidUTF8Offset($0) }
    }

    @Test func utf8ValidatorAgreesWithStdlib() {
        // Every valid string encodes to valid bytes.
        for s in ["", "abc", "é", "日本語", "👩‍👩‍👧", "\u{10FFFF}", "a\u{0}b"] {
            #expect(offset(Array(s.utf8)) == nil)
        }
        // Known invalid sequences and where they start.
        #expect(offset([0x61, 0x80]) == 1)             // lone continuation
        #expect(offset([0xC0, 0xAF]) == 0)             // overlong
        #expect(offset([0xE0, 0x80, 0x80]) == 0)       // overlong 3-byte
        #expect(offset([0xED, 0xA0, 0x80]) == 0)       // surrogate
        #expect(offset([0xF4, 0x90, 0x80, 0x80]) == 0) // above U+10FFFF
        #expect(offset([0x61, 0x62, 0xE6, 0x97]) == 2) // truncated
        #expect(offset([0xFF]) == 0)
        // Exhaustive over 2-byte inputs: agree with the stdlib's decoder.
        for a in 0...255 { for b in 0...255 {
            let bytes: [UInt8] = [UInt8(a), UInt8(b)]
            let stdlibValid = String(validating: bytes, as: UTF8.self) != nil
            #expect((offset(bytes) == nil) == stdlibValid)
        } }
    }
}

@Suite struct JSONTests {
    @Test func parsesNestedValues() throws {
        let v = try JSON.parse(#"{"a": [1, -2.5e3, true, null], "b": {"c": "x\u00e9\ud83d\ude00\n"}, "big": 9223372036854775807}"#)
        #expect(v["a"]?.array?.count == 4)
        #expect(v["a"]?.array?[0].int == 1)
        #expect(v["a"]?.array?[1].double == -2500)
        #expect(v["a"]?.array?[2].bool == true)
        #expect(v["a"]?.array?[3].isNull == true)
        #expect(v["b"]?["c"]?.string == "xé😀\n")
        #expect(v["big"]?.int == Int.max)
        #expect(v["missing"] == nil)
    }

    @Test func roundTripsThroughSerialization() throws {
        let text = #"{"k":["a\"b\\c",{"x":[]},{},0,-1.5,false,"\u0001"]}"#
        let v = try JSON.parse(text)
        #expect(try JSON.parse(v.serialized) == v)
        #expect(v.serialized == text)
    }

    @Test func rejectsMalformedInput() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "tru", "[1] x", "\"\u{01}\"", "{\"a\":1,}", "-", "\"\\x\""] {
            #expect(throws: EngramError.self) { try JSON.parse(bad) }
        }
        // Depth limit instead of a stack overflow.
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: EngramError.self) { try JSON.parse(deep) }
    }
}
