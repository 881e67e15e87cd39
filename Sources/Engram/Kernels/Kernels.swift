import COpenBLAS
import CEngramSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The thread count of `Kernels` (0: not set yet, the machine's cores).
private let threadSetting = Atomic<Int>(0)

/// Numeric kernels: OpenBLAS sgemm/sgemv for matrix products, SIMD loops for the rest.
/// All pointers are trusted here: callers check shapes at the boundary.
public enum Kernels {
    /// The threads matrix products and element-wise loops use (process-wide, like OpenBLAS's
    /// own setting). `n <= 0` selects the machine's cores. Products of many rows are split
    /// into column blocks on libengram's worker pool, with OpenBLAS on one thread (see
    /// `prepare(rows:)`).
    public static func setThreads(_ n: Int) {
        let k = n > 0 ? min(n, 1024) : machineCores
        threadSetting.store(k, ordering: .relaxed)
    }

    public static var threads: Int {
        let k = threadSetting.load(ordering: .relaxed)
        return k > 0 ? k : machineCores
    }

    /// Sets OpenBLAS's threads for a forward step of `rows` rows: one row (decode) runs its
    /// matrix-vector products on OpenBLAS's threads; more rows run their products in column
    /// blocks on libengram's pool, with OpenBLAS on one thread so that the two sets of threads
    /// never compete for the cores. Process-wide, like OpenBLAS's setting itself.
    static func prepare(rows: Int) {
        setOpenBLASThreads(rows == 1 ? threads : 1)
    }

    @inline(__always)
    private static func setOpenBLASThreads(_ n: Int) {
        if openblas_get_num_threads() != Int32(n) { openblas_set_num_threads(Int32(n)) }
    }

    /// Online processors of the machine.
    public static var machineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Multiply-adds below which a product runs on the calling thread alone.
    static let parallelMinWork = 1 << 19

    /// out[T, w.rows] = x[T, w.cols] * w^T (+ bias). sgemv for one row, sgemm for more; large
    /// products are split into blocks of output columns (weight rows), one per thread.
    /// `ldx`/`ldo`: row strides of x and out (default: dense).
    @inline(__always)
    static func linear(_ x: UnsafePointer<Float>, rows T: Int, _ w: Matrix, bias: UnsafePointer<Float>? = nil,
                       _ out: UnsafeMutablePointer<Float>, ldx: Int = 0, ldo: Int = 0, accumulate: Bool = false) {
        let n = w.rows, k = w.cols
        let lx = ldx > 0 ? ldx : k, lo = ldo > 0 ? ldo : n
        if T == 0 || n == 0 { return }
        let beta: Float = accumulate ? 1 : 0
        /// Rows t0..<t1 of the output, columns n0..<n1.
        @inline(__always) func block(_ t0: Int, _ t1: Int, _ n0: Int, _ n1: Int) {
            let m = t1 - t0, nb = n1 - n0
            let xr = x + t0 * lx, outr = out + t0 * lo + n0
            if m == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(nb), Int32(k), 1, w.base + n0 * k, Int32(k), xr, 1, beta, outr, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(nb), Int32(k), 1,
                            xr, Int32(lx), w.base + n0 * k, Int32(k), beta, outr, Int32(lo))
            }
            if let bias {
                for t in 0..<m { add(outr + t * lo, bias + n0, nb) }
            }
        }
        let threads = Kernels.threads
        let work = T * n * k
        // One row (decode): sgemv is bound by reading the weights; OpenBLAS's own threads
        // split it (see `prepare(rows:)`), which measured faster than handing it to the pool.
        if T == 1 || threads <= 1 || work < parallelMinWork {
            block(0, T, 0, n)
            return
        }
        // Split on the pool: OpenBLAS must stay on each block's thread (a call outside a
        // forward pass, e.g. the fuse API after a decode, may find it threaded).
        setOpenBLASThreads(1)
        if n < 64 * threads {
            // Narrow (the hyper-connection mixes: 24 columns): blocks of rows instead.
            WorkerPool.shared.forRanges(T, grain: 16, threads: threads) { r in block(r.lowerBound, r.upperBound, 0, n) }
            return
        }
        // Column blocks: a multiple of 16 columns each (whole SIMD registers of the kernels).
        let parts = min(threads, n / 16)
        let chunk = ((n + parts - 1) / parts + 15) & ~15
        WorkerPool.shared.run((n + chunk - 1) / chunk, threads: threads) { i in
            block(0, T, i * chunk, min(n, (i + 1) * chunk))
        }
    }

    /// C[M,N] = alpha * A[M,K] * B[N,K]^T + beta * C, with leading dimensions.
    @inline(__always)
    static func gemmNT(_ M: Int, _ N: Int, _ K: Int, alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                       _ b: UnsafePointer<Float>, _ ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(M), Int32(N), Int32(K), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[M,N] = alpha * A[M,K] * B[K,N] + beta * C, with leading dimensions.
    @inline(__always)
    static func gemmNN(_ M: Int, _ N: Int, _ K: Int, alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                       _ b: UnsafePointer<Float>, _ ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(M), Int32(N), Int32(K), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    // MARK: SIMD loops

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 16 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var s = (s0 + s1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inline(__always)
    static func sumSquares(_ a: UnsafePointer<Float>, _ n: Int) -> Float { dot(a, a, n) }

    /// y += x
    @inline(__always)
    static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        while i + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += x[i]; i += 1 }
    }

    /// y += a * x
    @inline(__always)
    static func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        let av = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + av * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += a * x[i]; i += 1 }
    }

    /// y = a * x
    @inline(__always)
    static func scale(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = a * x[i] }
    }

    /// out = x * 1/sqrt(mean(x^2) + eps) * w   (out may alias x)
    @inline(__always)
    static func rmsnorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ eps: Float, _ n: Int,
                        _ out: UnsafeMutablePointer<Float>) {
        let ms = sumSquares(x, n) / Float(n)
        let r = 1 / (ms + eps).squareRoot()
        var i = 0
        let rx = UnsafeRawPointer(x), rw = UnsafeRawPointer(w), ro = UnsafeMutableRawPointer(out)
        let rv = SIMD8<Float>(repeating: r)
        while i + 8 <= n {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rv * rw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ro.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { out[i] = x[i] * r * w[i]; i += 1 }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// In place: x[i] = silu(x[i]) * y[i].
    @inline(__always)
    static func swiglu(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
        engram_k_swiglu(x, y, n)
    }

    /// y[i] += silu(s[i]).
    @inline(__always)
    static func addSilu(_ y: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) {
        engram_k_add_silu(y, s, n)
    }

    /// In place softmax over n values. -inf entries get 0; a row of -inf or a NaN gives NaN.
    @inline(__always)
    static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        engram_k_softmax(x, n)
    }

    /// Causal attention scores of `rows` query rows in place ([rows, ld]): row r is a softmax
    /// over its first n0 + r entries, the rest of the row up to `width` is set to 0.
    @inline(__always)
    static func softmaxCausal(_ x: UnsafeMutablePointer<Float>, rows: Int, ld: Int, n0: Int, width: Int) {
        engram_k_softmax_causal(x, rows, ld, n0, width)
    }

    /// out = a * y + sum_i c_i * x_i over four streams x_i (the hyper-connection write-back of
    /// one stream), in one pass.
    @inline(__always)
    static func mix4(_ out: UnsafeMutablePointer<Float>, _ a: Float, _ y: UnsafePointer<Float>,
                     _ c0: Float, _ x0: UnsafePointer<Float>, _ c1: Float, _ x1: UnsafePointer<Float>,
                     _ c2: Float, _ x2: UnsafePointer<Float>, _ c3: Float, _ x3: UnsafePointer<Float>, _ n: Int) {
        engram_k_mix4(out, a, y, c0, x0, c1, x1, c2, x2, c3, x3, n)
    }


    /// True when every value is finite.
    static func allFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool {
        var acc: Float = 0
        for i in 0..<n { acc += x[i] * 0 }   // NaN or Inf makes acc NaN
        return acc == 0
    }
}

extension Kernels {
    /// y += a * b (elementwise)
    @inline(__always)
    static func fmaProduct(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let ry = UnsafeMutableRawPointer(y), ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += a[i] * b[i]; i += 1 }
    }
}
