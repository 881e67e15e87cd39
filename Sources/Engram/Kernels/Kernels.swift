import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Numeric kernels: OpenBLAS sgemm/sgemv for matrix products, SIMD loops for the rest.
/// All pointers are trusted here: callers check shapes at the boundary.
public enum Kernels {
    /// The number of threads OpenBLAS uses (process-wide). `n <= 0` selects the machine's cores.
    public static func setThreads(_ n: Int) {
        let k = n > 0 ? min(n, 1024) : machineCores
        openblas_set_num_threads(Int32(k))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Online processors of the machine.
    public static var machineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// out[T, w.rows] = x[T, w.cols] * w^T (+ bias). sgemv for one row, sgemm for more.
    /// `ldx`/`ldo`: row strides of x and out (default: dense).
    @inline(__always)
    static func linear(_ x: UnsafePointer<Float>, rows T: Int, _ w: Matrix, bias: UnsafePointer<Float>? = nil,
                       _ out: UnsafeMutablePointer<Float>, ldx: Int = 0, ldo: Int = 0, accumulate: Bool = false) {
        let n = w.rows, k = w.cols
        let lx = ldx > 0 ? ldx : k, lo = ldo > 0 ? ldo : n
        if T == 0 || n == 0 { return }
        let beta: Float = accumulate ? 1 : 0
        if T == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w.base, Int32(k), x, 1, beta, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(n), Int32(k), 1,
                        x, Int32(lx), w.base, Int32(k), beta, out, Int32(lo))
        }
        if let bias {
            for t in 0..<T { add(out + t * lo, bias, n) }
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
    @inline(__always) static func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

    /// In place: x[i] = silu(x[i]) * y[i]
    @inline(__always)
    static func swiglu(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { let g = x[i]; x[i] = g / (1 + expf(-g)) * y[i] }
    }

    /// In place softmax over n values; returns nothing. Handles -inf entries.
    @inline(__always)
    static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        var s: Float = 0
        for i in 0..<n { let e = expf(x[i] - m); x[i] = e; s += e }
        let inv = 1 / s
        for i in 0..<n { x[i] *= inv }
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
