import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Engram

// Expected values come from the independent numpy reference (tests/reference/ngram_hash.py)
// through tests/fixtures/ngram_hash_cases.json (regenerate: make_hash_fixtures.py).

private let repoRoot: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/EngramTests/MemoryTests.swift
    return parts.joined(separator: "/")
}()

private let fixtures: JSON? = {
    guard let bytes = try? readWholeFile(repoRoot + "/tests/fixtures/ngram_hash_cases.json") else { return nil }
    return try? bytes.withUnsafeBufferPointer { try JSON.parse($0) }
}()

private func ints(_ j: JSON?) -> [Int64] { (j?.array ?? []).map { Int64($0.int ?? Int.min) } }

/// A model built in memory from a fixture case: token map, per-layer constants, tables.
private func buildModel(_ c: JSON, options: MemoryOptions = MemoryOptions()) throws -> EngramModel {
    let config = try ModelConfig(json: try #require(c["config"]))
    var tensors = [String: Tensor]()
    let map = ints(c["token_map"])
    tensors["engram.token_map"] = try Tensor.owning(name: "engram.token_map", dtype: .i64, shape: [map.count], values: map)
    let dtype = DType(rawValue: try #require(c["dtype"]?.string))!
    for l in config.layerIds {
        let layer = try #require(c["layers"]?["\(l)"])
        let m = ints(layer["multipliers"])
        let p = (layer["primes"]?.array ?? []).flatMap { ints($0) }
        tensors["layers.\(l).engram.multipliers"] = try Tensor.owning(name: "m", dtype: .i64, shape: [m.count], values: m)
        tensors["layers.\(l).engram.primes"] = try Tensor.owning(name: "p", dtype: .i64,
            shape: [config.maxNgramSize - 1, config.nHeadPerNgram], values: p)
        let raw = ints(c["tables"]?["\(l)"])
        let rows = Int(p.reduce(0, +))
        let name = "layers.\(l).engram.multi_head_embedding.embedding.weight"
        let shape = [rows, config.headWidth]
        switch dtype {
        case .f32: tensors[name] = try Tensor.owning(name: name, dtype: .f32, shape: shape, values: raw.map { UInt32(truncatingIfNeeded: $0) })
        default: tensors[name] = try Tensor.owning(name: name, dtype: dtype, shape: shape, values: raw.map { UInt16(truncatingIfNeeded: $0) })
        }
    }
    return try EngramModel(weights: Weights(config: config, tensors: tensors), memoryOptions: options)
}

private func modelCases() -> [JSON] { fixtures?["model_cases"]?.array ?? [] }

@Suite struct MemoryTests {
    @Test func fixturesArePresent() {
        #expect(modelCases().count == 27)
        #expect(fixtures?["hasher_cases"]?.array?.count == 6)
    }

    @Test(arguments: 0..<27)
    func modelCaseMatchesReference(_ index: Int) throws {
        let cases = modelCases()
        try #require(index < cases.count)
        let c = cases[index]
        let model = try buildModel(c)
        #expect(model.tokenMap.compressedVocabSize == c["compressed_vocab_size"]?.int)
        #expect(model.makeHistory().ids.allSatisfy { $0 == Int64(c["pad_compressed"]?.int ?? -1) })
        for s in c["sequences"]?.array ?? [] {
            let ids = ints(s["ids"]).map { Int32($0) }
            #expect(try model.compress(ids) == ints(s["compressed"]), "\(c["name"]!.string!)")
            for l in model.config.layerIds {
                #expect(try model.hash(ids, layer: l) == ints(s["hashes"]?["\(l)"]), "\(c["name"]!.string!) layer \(l)")
                #expect(try model.rowIds(ids, layer: l) == ints(s["row_ids"]?["\(l)"]))
                // Both builds of the gather kernel (AVX2 and baseline) give the reference's bits.
                for baseline in [false, true] {
                    let got = try withKernelISA(baseline: baseline) { _ in try model.retrieve(ids, layer: l).map { Int64($0.bitPattern) } }
                    #expect(got == ints(s["vectors"]?["\(l)"]), "\(c["name"]!.string!) layer \(l) vectors (baseline \(baseline))")
                }
            }
        }
    }

    /// Hashing token by token (or in any chunks) with the streaming history equals hashing
    /// the whole sequence; so does retrieval.
    @Test(arguments: [0, 4, 8, 13, 17, 22, 26])
    func streamingEqualsWholeSequence(_ index: Int) throws {
        let c = modelCases()[index]
        let model = try buildModel(c)
        let s = try #require(c["sequences"]?.array?.first)
        let ids = ints(s["ids"]).map { Int32($0) }
        for l in model.config.layerIds {
            let whole = try model.rowIds(ids, layer: l)
            let wholeVec = try model.retrieve(ids, layer: l)
            for chunk in [1, 2, 3, 5, 36] {
                var history = model.makeHistory()
                var parts = [Int64](), vecs = [Float]()
                var i = 0
                while i < ids.count {
                    let piece = Array(ids[i..<min(ids.count, i + chunk)])
                    parts += try model.rowIds(piece, layer: l, history: history)
                    vecs += try model.retrieve(piece, layer: l, history: history)
                    history.append(try model.compress(piece))
                    i += chunk
                }
                #expect(parts == whole, "chunk \(chunk)")
                #expect(vecs.map(\.bitPattern) == wholeVec.map(\.bitPattern), "chunk \(chunk)")
            }
        }
    }

    @Test func hasherCasesMatchReference() throws {
        for c in fixtures?["hasher_cases"]?.array ?? [] {
            let primesByOrder = c["primes"]?.array ?? []
            let k = primesByOrder.first?.array?.count ?? 0
            let m = ints(c["multipliers"])
            let hasher = try NgramHasher(layerId: 0, maxNgramSize: m.count, headsPerOrder: k, multipliers: m,
                                         primes: primesByOrder.flatMap { ints($0) },
                                         padCompressed: Int64(try #require(c["pad_compressed"]?.int)))
            let histIds = ints(c["history"])
            var history: NgramHistory? = nil
            if !histIds.isEmpty {
                var h = NgramHistory(length: m.count - 1, padCompressed: hasher.padCompressed)
                h.append(histIds)
                history = h
            }
            for s in c["sequences"]?.array ?? [] {
                let comp = ints(s["compressed"])
                for (offsets, key) in [(false, "hashes"), (true, "row_ids")] {
                    var out = [Int64](repeating: -1, count: comp.count * hasher.columns)
                    comp.withUnsafeBufferPointer { src in
                        out.withUnsafeMutableBufferPointer { hasher.hash(src, history: history, addOffsets: offsets, into: $0.baseAddress!) }
                    }
                    #expect(out == ints(s[key]), "\(c["name"]!.string!) \(key)")
                }
            }
        }
    }

    /// Threads, batch sizes and prefetch distances change nothing in the output.
    @Test func retrievalIsIndependentOfTuning() throws {
        let c = modelCases()[26]
        let base = try buildModel(c)
        var ids = [Int32]()
        var x: UInt64 = 12345
        let v = UInt64(base.config.vocabSize)
        for _ in 0..<3000 { x = x &* 6364136223846793005 &+ 1442695040888963407; ids.append(Int32((x >> 33) % v)) }
        let l = base.config.layerIds[0]
        let expected = try base.retrieve(ids, layer: l).map(\.bitPattern)
        for (threads, batch, dist) in [(1, 1, 0), (2, 7, 3), (3, 64, 100), (2, 4096, 24), (5, 33, 1)] {
            var o = MemoryOptions()
            o.streamingStores = threads % 2 == 0
            o.streamingMinBytes = threads == 2 ? 0 : 1 << 20
            o.threads = threads; o.batchRows = batch; o.prefetchDistance = dist; o.minRowsPerThread = 16; o.chunkRows = batch * 3
            let m = try buildModel(c, options: o)
            #expect(try m.retrieve(ids, layer: l).map(\.bitPattern) == expected, "threads \(threads) batch \(batch) distance \(dist)")
            #expect(try m.rowIds(ids, layer: l) == base.rowIds(ids, layer: l))
        }
    }

    @Test func badInputIsAnErrorWithAMessage() throws {
        let c = modelCases()[4]
        let model = try buildModel(c)
        let V = model.config.vocabSize
        let l = model.config.layerIds[0]
        func kind(_ body: () throws -> Void) -> EngramError? {
            do { try body(); return nil } catch let e as EngramError { return e } catch { return nil }
        }
        let e1 = kind { _ = try model.hash([1, Int32(V)], layer: l) }
        #expect(e1?.kind == .outOfRange && e1!.message.contains("position 1"))
        #expect(kind { _ = try model.retrieve([-1], layer: l) }?.kind == .outOfRange)
        #expect(kind { _ = try model.compress([Int32.max]) }?.kind == .outOfRange)
        let e2 = kind { _ = try model.retrieve([1], layer: 999) }
        #expect(e2?.kind == .outOfRange && e2!.message.contains("999"))
        #expect(kind { _ = try model.rowIds([1], layer: -1) }?.kind == .outOfRange)
        #expect(kind { _ = try model.hash([], layer: l) }?.kind == .invalidArgument)
        #expect(kind { _ = try model.retrieve([], layer: l) }?.kind == .invalidArgument)
        #expect(kind { _ = try model.compress([]) }?.kind == .invalidArgument)
    }

    @Test func malformedModelsAreRejected() throws {
        let c = modelCases()[4]
        let good = try buildModel(c)
        let cfg = good.config
        let l = cfg.layerIds[0]
        let tableName = "layers.\(l).engram.multi_head_embedding.embedding.weight"
        func rebuilt(_ edit: (inout [String: Tensor]) throws -> Void) throws -> EngramModel {
            var t = good.weights.tensors
            try edit(&t)
            return try EngramModel(weights: Weights(config: cfg, tensors: t))
        }
        // Table with one row too few, wrong dtype, missing constants, bad token map, bad primes.
        let table = try #require(good.weights.tensors[tableName])
        #expect(throws: EngramError.self) { try rebuilt { t in
            t[tableName] = try Tensor(name: tableName, dtype: table.dtype, shape: [table.shape[0] - 1, table.shape[1]],
                                      bytes: UnsafeRawBufferPointer(rebasing: table.bytes[0..<(table.bytes.count - table.shape[1] * table.dtype.byteSize)]), owner: table.owner)
        } }
        #expect(throws: EngramError.self) { try rebuilt { t in
            t[tableName] = try Tensor.owning(name: tableName, dtype: .i32, shape: table.shape, values: [Int32](repeating: 0, count: table.count))
        } }
        #expect(throws: EngramError.self) { try rebuilt { t in t["layers.\(l).engram.multipliers"] = nil } }
        #expect(throws: EngramError.self) { try rebuilt { t in t["engram.token_map"] = nil } }
        #expect(throws: EngramError.self) { try rebuilt { t in
            var map = try t["engram.token_map"]!.int64s(); map[3] = Int64(map.count)
            t["engram.token_map"] = try Tensor.owning(name: "engram.token_map", dtype: .i64, shape: [map.count], values: map)
        } }
        #expect(throws: EngramError.self) { try rebuilt { t in
            var p = try t["layers.\(l).engram.primes"]!.int64s(); p[0] = 0
            t["layers.\(l).engram.primes"] = try Tensor.owning(name: "p", dtype: .i64, shape: [cfg.maxNgramSize - 1, cfg.nHeadPerNgram], values: p)
        } }
        #expect(throws: EngramError.self) { try NgramHasher(layerId: 0, maxNgramSize: 3, headsPerOrder: 2, multipliers: [1, 3], primes: [5, 7, 11, 13], padCompressed: 0) }
        #expect(throws: EngramError.self) { try NgramHasher(layerId: 0, maxNgramSize: 2, headsPerOrder: 1, multipliers: [1, 3], primes: [Int64.max], padCompressed: 0) }
    }

    /// The float16 converter is exact for all 65536 inputs (NaNs keep their payload).
    @Test func halfConversionIsExact() {
        for h in 0...0xFFFF {
            let expected = Float(Float16(bitPattern: UInt16(h)))
            let got = halfToFloat(UInt16(h))
            if expected.isNaN {
                #expect(got.isNaN && got.bitPattern == expected.bitPattern, "half \(h)")
            } else {
                #expect(got.bitPattern == expected.bitPattern, "half \(h)")
            }
        }
    }

    @Test func historyKeepsTheLastIds() {
        var h = NgramHistory(length: 3, padCompressed: 9)
        #expect(h.ids == [9, 9, 9])
        h.append([1])
        #expect(h.ids == [9, 9, 1])
        h.append([2, 3])
        #expect(h.ids == [1, 2, 3])
        h.append([4, 5, 6, 7])
        #expect(h.ids == [5, 6, 7])
        h.append([])
        #expect(h.ids == [5, 6, 7])
        h.reset()
        #expect(h.ids == [9, 9, 9])
    }

    /// A table mapped from a file is used in place: no copy, rows read through the mapping.
    @Test func mappedTableIsAView() throws {
        let c = modelCases()[1]
        let inMemory = try buildModel(c)
        let l = inMemory.config.layerIds[0]
        let name = "layers.\(l).engram.multi_head_embedding.embedding.weight"
        let table = try #require(inMemory.weights.tensors[name])
        var path = Array("/tmp/engram-memtest-XXXXXX".utf8CString)
        let fd = path.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        let pathString = String(cString: path.map { UInt8(bitPattern: $0) } + [])
        defer { unlink(pathString) }
        // 100 bytes of header before the table: an unaligned offset, as external data may have.
        let header = [UInt8](repeating: 7, count: 100)
        _ = header.withUnsafeBytes { write(fd, $0.baseAddress, 100) }
        _ = write(fd, table.bytes.baseAddress, table.bytes.count)
        close(fd)
        let file = try MappedFile(path: pathString)
        let view = try Tensor(name: name, dtype: table.dtype, shape: table.shape,
                              bytes: UnsafeRawBufferPointer(rebasing: file.bytes[100..<(100 + table.bytes.count)]), owner: file)
        var tensors = inMemory.weights.tensors
        tensors[name] = view
        let mapped = try EngramModel(weights: Weights(config: inMemory.config, tensors: tensors))
        let mem = try mapped.memory(layer: l)
        #expect(mem.table.base == file.bytes.baseAddress! + 100)
        let ids: [Int32] = (0..<50).map { Int32($0 * 7 % inMemory.config.vocabSize) }
        #expect(try mapped.retrieve(ids, layer: l).map(\.bitPattern) == inMemory.retrieve(ids, layer: l).map(\.bitPattern))
    }
}

@Suite struct ConversionTests {
    /// The 8-lane float16 converter equals the scalar one (exact, see halfConversionIsExact).
    @Test func simdHalfConversionMatchesScalar() {
        for base in stride(from: 0, to: 0x10000, by: 8) {
            let v = SIMD8<UInt16>((0..<8).map { UInt16(base + $0) })
            let got = halfToFloat8(v)
            for i in 0..<8 { #expect(got[i] == halfToFloat(v[i]).bitPattern, "half \(base + i)") }
        }
    }

    /// Row converters on odd widths and unaligned sources (SIMD body + scalar tail).
    @Test func rowConvertersHandleTailsAndAlignment() {
        var raw = [UInt8](repeating: 0, count: 2 * 40 + 1)
        var x: UInt32 = 7
        for i in raw.indices { x = x &* 1664525 &+ 1013904223; raw[i] = UInt8(truncatingIfNeeded: x >> 24) }
        raw.withUnsafeBytes { bytes in
            for n in [1, 7, 8, 9, 17, 40] {
                let src = bytes.baseAddress! + 1  // odd address
                var out = [Float](repeating: .nan, count: n)
                out.withUnsafeMutableBufferPointer { convertBF16(src, $0.baseAddress!, n) }
                for k in 0..<n {
                    let h = UInt16(raw[1 + 2 * k]) | UInt16(raw[2 + 2 * k]) << 8
                    #expect(out[k].bitPattern == UInt32(h) << 16)
                }
                var raw32 = [Float](repeating: .nan, count: n / 2)
                raw32.withUnsafeMutableBufferPointer { copyF32(src, $0.baseAddress!, n / 2) }
                for k in 0..<(n / 2) {
                    var bits: UInt32 = 0
                    for b in 0..<4 { bits |= UInt32(raw[1 + 4 * k + b]) << (8 * b) }
                    #expect(raw32[k].bitPattern == bits)
                }
                out.withUnsafeMutableBufferPointer { convertF16(src, $0.baseAddress!, n) }
                for k in 0..<n {
                    let h = UInt16(raw[1 + 2 * k]) | UInt16(raw[2 + 2 * k]) << 8
                    #expect(out[k].bitPattern == halfToFloat(h).bitPattern)
                }
            }
        }
    }
}

@Suite struct FastModuloTests {
    /// Exact against the hardware division for random and edge dividends, many divisors
    /// (every prime of the fixtures, the demo's, powers of two, huge ones).
    @Test func matchesDivision() throws {
        var divisors: [UInt64] = [2, 3, 4, 5, 7, 8, 641, 1 << 20, (1 << 20) + 1, 646403, 646879, 98627,
                                  (1 << 32) - 5, (1 << 32) + 15, (1 << 47) - 1, 1 << 47, UInt64(Int64.max), UInt64.max]
        for c in (fixtures?["hasher_cases"]?.array ?? []) + (fixtures?["model_cases"]?.array ?? []).prefix(9) {
            for p in c["primes"]?.array ?? c["layers"]?.object?.flatMap({ $0.1["primes"]?.array ?? [] }) ?? [] {
                divisors += (p.array ?? []).compactMap { $0.int.map(UInt64.init) }
            }
        }
        var x: UInt64 = 0x9E3779B97F4A7C15
        for d in divisors {
            let f = try #require(FastModulo(divisor: d))
            var xs: [UInt64] = [0, 1, d - 1, d, d &+ 1, UInt64.max, UInt64.max - 1, UInt64(Int64.max), 1 << 63, (1 << 63) + 1]
            xs += [d &* 12345, d &* 12345 &- 1, (UInt64.max / d) &* d, (UInt64.max / d) &* d &- 1]
            for _ in 0..<2000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; xs.append(x); xs.append(x >> (x & 63)) }
            var bad = 0
            for v in xs {
                if f.quotient(v) != v / d || f.residue(v) != v % d { bad += 1 }
                if d <= UInt64(Int64.max) {
                    let s = Int64(bitPattern: v), dd = Int64(d)
                    var r = s % dd
                    if r < 0 { r += dd }
                    if f.residue(signed: s) != r { bad += 1 }
                }
            }
            #expect(bad == 0, "divisor \(d)")
        }
        #expect(FastModulo(divisor: 0) == nil && FastModulo(divisor: 1) == nil)
    }
}
