import CEngramSupport
import Synchronization

/// Tuning of retrieval; defaults suit a table in host memory.
public struct MemoryOptions: Sendable, Equatable {
    /// Threads that gather rows (0 = one per online CPU, at most 8; the shared worker pool's
    /// threads help the caller). Small requests run on the calling thread only.
    public var threads: Int = 0
    /// Memory-level parallelism: how many rows ahead of the one being converted are
    /// prefetched (float16 tables, or widths not a multiple of 8: rows per load-ahead group,
    /// the next group loaded and the one after prefetched while one is converted). 0 turns
    /// look-ahead off.
    public var prefetchDistance: Int = 32
    /// Rows per hash+gather batch of one thread (row ids are computed for a whole batch
    /// before its rows are gathered; the next batch is hashed while the first rows of the
    /// current one are in flight).
    public var batchRows: Int = 2048
    /// Rows per thread below which no extra thread is used.
    public var minRowsPerThread: Int = 1024
    /// Write the float32 output with non-temporal stores when it is larger than
    /// `streamingMinBytes`: no read-for-ownership of output lines, no cache pollution; the
    /// output of a large call would leave the caches anyway. Small outputs stay cached for
    /// the fusion step (measured: 1 MiB outputs are faster with ordinary stores, 16 MiB
    /// outputs 1.6-2x faster with streaming stores).
    public var streamingStores: Bool = true
    public var streamingMinBytes: Int = 2 << 20
    /// Rows per work chunk that threads claim from a shared counter.
    public var chunkRows: Int = 8192
    /// madvise(MADV_HUGEPAGE) on the tables: transparent huge pages mean far fewer TLB misses.
    public var hugePages: Bool = true
    /// madvise(MADV_RANDOM) on the tables: no read-ahead when pages come from disk.
    public var randomAccess: Bool = false
    /// Map every page of the tables at load (MADV_POPULATE_READ): no page faults later, but
    /// load time grows with the table size.
    public var populate: Bool = false

    public init() {}

    /// The thread count actually used.
    public var resolvedThreads: Int { threads > 0 ? min(threads, 64) : min(onlineCPUCount, 8) }
}

/// Where retrieval threads drop the sum of their touch loads (the value is never read;
/// storing it keeps the optimizer from deleting the loads). A relaxed atomic: threads of
/// concurrent retrieve calls store here at the same time, which a plain store makes a data
/// race (ThreadSanitizer, tests/tsan.sh).
private let touchSink = Atomic<UInt32>(0)

/// One Engram layer's memory: its hasher and its table. Immutable, shareable across threads.
public final class EngramMemory: @unchecked Sendable {
    public let hasher: NgramHasher
    public let table: EngramTable
    public let options: MemoryOptions

    public var layerId: Int { hasher.layerId }
    /// Width of one position's retrieved vector: (N-1)*K heads of `table.width`.
    public var vectorWidth: Int { hasher.columns * table.width }

    public init(hasher: NgramHasher, table: EngramTable, options: MemoryOptions = MemoryOptions()) throws {
        guard table.rows == hasher.totalRows else {
            throw EngramError.format("layer \(hasher.layerId): table has \(table.rows) rows, the table sizes sum to \(hasher.totalRows)")
        }
        self.hasher = hasher
        self.table = table
        self.options = options
    }

    /// Reads layer `layer`'s hash constants and table from `weights`.
    public convenience init(weights: Weights, layer: Int, tokenMap: TokenMap, options: MemoryOptions = MemoryOptions()) throws {
        let hasher = try NgramHasher(weights: weights, layer: layer, tokenMap: tokenMap)
        let name = "layers.\(layer).engram.multi_head_embedding.embedding.weight"
        let table = try EngramTable(tensor: weights.tensor(name), rows: hasher.totalRows, width: weights.config.headWidth)
        try self.init(hasher: hasher, table: table, options: options)
    }

    /// Retrieves e_t for every position of `compressed` into `out` ([T, vectorWidth] floats):
    /// row ids are computed batch by batch, rows gathered with software prefetch, positions
    /// split across threads.
    public func retrieve(_ compressed: UnsafeBufferPointer<Int64>, history: NgramHistory? = nil,
                         into out: UnsafeMutablePointer<Float>) {
        let T = compressed.count
        if T == 0 { return }
        let H = hasher.columns
        let totalRows = T * H
        let parts = max(1, min(options.resolvedThreads, totalRows / max(1, options.minRowsPerThread), T))
        let streaming = options.streamingStores && T * vectorWidth * 4 >= options.streamingMinBytes
        if parts == 1 {
            retrieveRange(compressed, 0..<T, history: history, streaming: streaming, into: out)
            return
        }
        // Threads claim chunks of positions from a shared counter, so a thread the OS
        // deschedules (other processes, hosts' own threads) does not hold the others up.
        let chunk = max(1, min(options.chunkRows / H, (T + parts - 1) / parts))
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        let width = H * table.width
        WorkerPool.shared.run(parts, threads: parts) { _ in
            while true {
                let t0 = engram_fetch_add(counter, chunk)
                if t0 >= T { break }
                let t1 = min(T, t0 + chunk)
                retrieveRange(compressed, t0..<t1, history: history, streaming: streaming, into: out + t0 * width)
            }
        }
    }

    /// One thread's share: positions `range`, written from `out` on.
    private func retrieveRange(_ compressed: UnsafeBufferPointer<Int64>, _ range: Range<Int>,
                               history: NgramHistory?, streaming: Bool, into out: UnsafeMutablePointer<Float>) {
        if range.isEmpty { return }
        let H = hasher.columns
        let w = table.width
        let tokensPerBatch = max(1, options.batchRows / H)
        let distance = max(0, options.prefetchDistance)
        let cap = tokensPerBatch * H
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * cap) { buf in
            guard let b0 = buf.baseAddress else { return }
            var cur = b0, nxt = b0 + cap
            var start = range.lowerBound
            var curCount = min(tokensPerBatch, range.upperBound - start)
            hasher.hash(compressed, range: start..<(start + curCount), history: history, addOffsets: true, into: cur)
            var sink = table.touch(cur, count: min(max(distance, 1), curCount * H))
            var dst = out
            while curCount > 0 {
                let nextStart = start + curCount
                let nextCount = min(tokensPerBatch, range.upperBound - nextStart)
                if nextCount > 0 {
                    hasher.hash(compressed, range: nextStart..<(nextStart + nextCount), history: history,
                                addOffsets: true, into: nxt)
                }
                sink &+= table.gather(cur, count: curCount * H, next: nextCount > 0 ? UnsafePointer(nxt) : nil,
                                      nextCount: nextCount * H, group: distance, streaming: streaming, into: dst)
                dst += curCount * H * w
                swap(&cur, &nxt)
                start = nextStart
                curCount = nextCount
            }
            touchSink.store(sink, ordering: .relaxed)  // keeps the touch loads observable (value unused)
            if streaming { engram_store_fence() }
        }
    }
}
