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
