import CEngramSupport
import Synchronization
import Testing
@testable import Engram
#if canImport(Glibc)
import Glibc
#endif

/// The element-wise kernels (Sources/CEngramSupport/kernels.c) against scalar references in
/// double precision, for both the AVX2 + FMA code and the baseline SSE2 code, at lengths that
/// exercise the vector bodies and the scalar tails; and the worker pool.
@Suite(.serialized) struct KernelsTests {
    /// Runs `body` with the baseline code forced (true) and with the CPU's best (false).
    func bothISAs(_ body: (String) throws -> Void) throws {
        try withKernelISA(baseline: true) { try body($0) }
        try withKernelISA(baseline: false) { try body($0) }
    }

    /// A deterministic spread of values in [lo, hi].
    func values(_ n: Int, _ lo: Double, _ hi: Double, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(lo + (hi - lo) * Double(s >> 11) / Double(1 << 53))
        }
    }

    @Test func expIsWithinAFewUlpOfTheTrueValue() throws {
        var xs = values(100_003, -87.3, 88.7, seed: 1) + values(5_001, -5, 5, seed: 2)
        xs += [0, -0.0, 1, -1, 88.72, -87.33, 1e-8, -1e-8, 0.5 * Float(M_LN2), -0.5 * Float(M_LN2)]
        try bothISAs { isa in
            var out = [Float](repeating: 0, count: xs.count)
            engram_k_exp(xs, &out, xs.count)
            var worst = 0.0
            for (x, y) in zip(xs, out) {
                let ref = libmExp(Double(x))
                let ulp = Double(Float(ref).ulp)
                worst = max(worst, abs(Double(y) - ref) / ulp)
            }
            #expect(worst <= 4, "\(isa): worst error \(worst) ulp")
        }
    }

    @Test func expEdgeCases() throws {
        let xs: [Float] = [-.infinity, -1000, -104, -87.5, 89, 100, .infinity, .nan, -.nan]
        try bothISAs { isa in
            for n in [xs.count, 8] {   // the vector body and (n = 9) the scalar tail
                var out = [Float](repeating: 1, count: n)
                engram_k_exp(xs, &out, n)
                for i in 0..<n {
                    let x = xs[i]
                    if x.isNaN { #expect(out[i].isNaN, "\(isa) exp(nan)") }
                    else if x < -87.34 { #expect(out[i] == 0, "\(isa) exp(\(x)) = \(out[i])") }
                    else { #expect(out[i] == .infinity, "\(isa) exp(\(x)) = \(out[i])") }
                }
            }
        }
    }

    @Test(arguments: [1, 3, 7, 8, 9, 16, 31, 64, 257, 1000])
    func softmaxMatchesDoublePrecision(_ n: Int) throws {
        let x = values(n, -30, 30, seed: UInt64(n))
        try bothISAs { isa in
            var y = x
            engram_k_softmax(&y, n)
            let m = x.map(Double.init).max()!
            let e = x.map { libmExp(Double($0) - m) }
            let s = e.reduce(0, +)
            for i in 0..<n { #expect(abs(Double(y[i]) - e[i] / s) <= 1e-6 * (e[i] / s) + 1e-12, "\(isa) n \(n) i \(i)") }
        }
    }

    @Test func softmaxHandlesMinusInfinity() throws {
        try bothISAs { isa in
            var y: [Float] = [0, -.infinity, 0, -.infinity, 0, 0, -.infinity, 0, 0, -.infinity]
            engram_k_softmax(&y, y.count)
            for (i, v) in y.enumerated() { #expect(v == (i == 1 || i == 3 || i == 6 || i == 9 ? 0 : Float(1.0 / 6)), "\(isa) \(i) \(v)") }
            var all = [Float](repeating: -.infinity, count: 12)
            engram_k_softmax(&all, all.count)
            #expect(all.allSatisfy { $0.isNaN }, "\(isa): a row of -inf gives NaN")
        }
    }

    @Test func causalSoftmaxMasksAndZeroes() throws {
        let rows = 5, width = 13, n0 = 7
        let x = values(rows * width, -4, 4, seed: 9)
        try bothISAs { isa in
            var y = x
            engram_k_softmax_causal(&y, rows, width, n0, width)
            for r in 0..<rows {
                let n = min(n0 + r, width)
                var expect = Array(x[(r * width)..<(r * width + n)])
                engram_k_softmax(&expect, n)
                for c in 0..<width {
                    let v = y[r * width + c]
                    // (Other suites may switch the instruction set between the two calls.)
                    #expect(c < n ? abs(v - expect[c]) <= 1e-6 * expect[c] : v == 0, "\(isa) row \(r) col \(c)")
                }
            }
        }
    }

    @Test(arguments: [1, 8, 13, 2048])
    func swigluAndMix4MatchDoublePrecision(_ n: Int) throws {
        let g = values(n, -20, 20, seed: 3), u = values(n, -3, 3, seed: 4)
        let xs = (0..<4).map { values(n, -2, 2, seed: 10 + UInt64($0)) }, yv = values(n, -2, 2, seed: 20)
        try bothISAs { isa in
            var out = g
            engram_k_swiglu(&out, u, n)
            for i in 0..<n {
                let a = Double(g[i]), ref = a / (1 + libmExp(-a)) * Double(u[i])
                #expect(abs(Double(out[i]) - ref) <= 1e-6 * max(1, abs(ref)), "\(isa) swiglu \(i)")
            }
            var m = [Float](repeating: 0, count: n)
            engram_k_mix4(&m, 0.7, yv, 0.1, xs[0], -0.2, xs[1], 0.3, xs[2], 0.4, xs[3], n)
            for i in 0..<n {
                let ref = 0.7 * Double(yv[i]) + 0.1 * Double(xs[0][i]) - 0.2 * Double(xs[1][i]) + 0.3 * Double(xs[2][i]) + 0.4 * Double(xs[3][i])
                #expect(abs(Double(m[i]) - ref) <= 2e-6, "\(isa) mix4 \(i)")
            }
        }
    }

    @Test func workerPoolRunsEveryPartOnce() {
        let pool = WorkerPool.shared
        for parts in [1, 2, 3, 17, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: parts)
            hits.initialize(repeating: 0, count: parts)
            defer { hits.deallocate() }
            for _ in 0..<50 { pool.run(parts) { i in hits[i] += 1 } }
            #expect((0..<parts).allSatisfy { hits[$0] == 50 }, "parts \(parts)")
        }
        // Ranges cover 0..<n exactly once, in order of parts.
        for n in [0, 1, 15, 16, 33, 1001] {
            var seen = [Int](repeating: 0, count: n)
            seen.withUnsafeMutableBufferPointer { b in
                pool.forRanges(n, grain: 16) { r in for i in r { b[i] += 1 } }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "n \(n)")
        }
    }

    @Test func workerPoolServesConcurrentCallers() {
        // Callers on several threads at once: one gets the pool, the others run inline.
        let threads = 4, rounds = 200
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        sums.initialize(repeating: 0, count: threads)
        defer { sums.deallocate() }
        nonisolated(unsafe) let cells = sums
        onThreads(threads) { t in
            let sums = cells
            for _ in 0..<rounds {
                let cells = UnsafeMutablePointer<Int>.allocate(capacity: 8)
                cells.initialize(repeating: 0, count: 8)
                WorkerPool.shared.run(8) { i in cells[i] = i + 1 }
                sums[t] += (0..<8).reduce(0) { $0 + cells[$1] }
                cells.deallocate()
            }
        }
        #expect((0..<threads).allSatisfy { sums[$0] == rounds * 36 })
    }

    @Test func splitProductsEqualOneProduct() throws {
        // Kernels.linear splits wide products into column blocks on the pool; every output
        // element is the same dot product either way.
        let T = 37, n = 1000, k = 96
        let x = values(T * k, -1, 1, seed: 5)
        let w = Matrix(values: values(n * k, -1, 1, seed: 6), rows: n, cols: k)
        var split = [Float](repeating: 0, count: T * n), one = split
        Kernels.setThreads(2)
        x.withUnsafeBufferPointer { xb in split.withUnsafeMutableBufferPointer { Kernels.linear(xb.baseAddress!, rows: T, w, $0.baseAddress!) } }
        Kernels.setThreads(1)
        x.withUnsafeBufferPointer { xb in one.withUnsafeMutableBufferPointer { Kernels.linear(xb.baseAddress!, rows: T, w, $0.baseAddress!) } }
        Kernels.setThreads(0)
        var worst: Float = 0
        for i in 0..<(T * n) { worst = max(worst, abs(split[i] - one[i])) }
        #expect(worst <= 1e-5, "max difference \(worst)")
        // And against a double-precision product.
        var ref = 0.0
        for t in 0..<T { for j in 0..<n {
            var s = 0.0
            for c in 0..<k { s += Double(x[t * k + c]) * Double(w.base[j * k + c]) }
            ref = max(ref, abs(s - Double(split[t * n + j])))
        } }
        #expect(ref <= 1e-4, "max difference from double precision \(ref)")
    }
}

/// Held while a test forces the kernels' instruction set (a process-wide switch), so suites
/// running in parallel do not flip it under each other.
let kernelISALock = Mutex(())

/// Runs body with the baseline kernels forced (or not); passes the name of the code that ran.
func withKernelISA<R>(baseline: Bool, _ body: (String) throws -> R) throws -> R {
    try kernelISALock.withLock { _ in
        let avx = engram_k_force_baseline(baseline ? 1 : 0)
        defer { _ = engram_k_force_baseline(0) }
        return try body(avx != 0 ? "avx2" : "baseline")
    }
}

/// Runs body(0..<n) on n new threads at once and waits for them.
func onThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Job { let body: @Sendable (Int) -> Void; let i: Int; init(_ b: @escaping @Sendable (Int) -> Void, _ i: Int) { body = b; self.i = i } }
    var threads = [pthread_t]()
    for i in 0..<n {
        var th = pthread_t()
        let job = Unmanaged.passRetained(Job(body, i)).toOpaque()
        let rc = pthread_create(&th, nil, { arg in
            let j = Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue()
            j.body(j.i)
            return nil
        }, job)
        precondition(rc == 0, "pthread_create failed")
        threads.append(th)
    }
    for th in threads { pthread_join(th, nil) }
}

/// exp in double precision from libm (the tests' reference).
@inline(__always) func libmExp(_ x: Double) -> Double { Glibc.exp(x) }
