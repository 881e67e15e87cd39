#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Persistent worker threads for the element-wise parts of a forward pass (the matrix products
/// have OpenBLAS's own threads). `run(parts) { i in ... }` calls the body for every i in
/// 0..<parts, on the caller and the workers, and returns when all calls are done. Workers
/// sleep on a condition variable between jobs. One job at a time: a caller that finds the
/// pool busy (another context's forward on another thread) runs its parts itself.
final class WorkerPool: @unchecked Sendable {
    /// One job: the body, how many parts, the next part to claim and how many are done.
    private final class Job: @unchecked Sendable {
        let body: (Int) -> Void
        let parts: Int
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        init(_ body: @escaping (Int) -> Void, _ parts: Int) { self.body = body; self.parts = parts }

        /// Claims and runs parts until none is left.
        func work() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= parts { return }
                body(i)
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    /// The shared pool: one worker per online CPU beyond the caller's, at most 15; created at
    /// first use.
    static let shared = WorkerPool(workers: min(15, onlineCPUCount - 1))

    let workers: Int
    private let ownerPID: pid_t     // the process whose threads these are
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var job: Job?          // guarded by mutex
    private var serial: UInt64 = 0 // guarded by mutex: bumped per job
    private let busy = Atomic<Bool>(false)
    private let active = Atomic<Int>(0)   // workers holding a reference to the current job
    private let published = Atomic<UInt64>(0)   // `serial`, readable without the mutex
    /// How long a worker spins for the next job before it sleeps.
    static let spinSeconds = 0.002

    private init(workers: Int) {
        self.workers = max(0, workers)
        ownerPID = getpid()
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        for _ in 0..<self.workers {
            var th = pthread_t()
            let me = Unmanaged.passUnretained(self).toOpaque()   // the shared pool is never freed
            if pthread_create(&th, nil, { arg in
                guard let arg else { return nil }
                Unmanaged<WorkerPool>.fromOpaque(arg).takeUnretainedValue().loop()
                return nil
            }, me) == 0 {
                pthread_detach(th)
            }
        }
    }

    private func loop() {
        var seen: UInt64 = 0
        while true {
            if takeAndWork(&seen) { active.wrappingSubtract(1, ordering: .releasing) }
        }
    }

    private func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Waits for a new job and works on it. Its reference to the job (and so to the caller's
    /// closure) is gone when this returns; `active` counts the workers still inside.
    @inline(never)
    private func takeAndWork(_ seen: inout UInt64) -> Bool {
        // Spin a little first: jobs come in quick succession during a forward pass, and
        // waking from the condition variable costs tens of microseconds.
        var spins = 0
        var deadline = 0.0
        while published.load(ordering: .relaxed) == seen {
            spins += 1
            if spins & 255 == 0 {
                let now = monotonicSeconds()
                if deadline == 0 { deadline = now + WorkerPool.spinSeconds } else if now > deadline { break }
            }
        }
        pthread_mutex_lock(&mutex)
        while serial == seen { pthread_cond_wait(&cond, &mutex) }
        seen = serial
        guard let j = job else { pthread_mutex_unlock(&mutex); return false }
        active.wrappingAdd(1, ordering: .relaxed)
        pthread_mutex_unlock(&mutex)
        j.work()
        return true
    }

    /// Calls `body(i)` for i in 0..<parts, spread over the caller and up to `threads - 1`
    /// workers (threads <= 0: all of them); returns when every call has returned.
    func run(_ parts: Int, threads: Int = 0, _ body: (Int) -> Void) {
        if parts <= 0 { return }
        let helpers = min(workers, parts - 1, threads > 0 ? threads - 1 : workers)
        // In a child process after fork() the workers do not exist (and the mutex may have
        // been held at the fork): run inline there.
        if helpers <= 0 || getpid() != ownerPID
            || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for i in 0..<parts { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let j = Job(body, parts)
            pthread_mutex_lock(&mutex)
            job = j
            serial &+= 1
            published.store(serial, ordering: .relaxed)
            if helpers >= workers { pthread_cond_broadcast(&cond) } else { for _ in 0..<helpers { pthread_cond_signal(&cond) } }
            pthread_mutex_unlock(&mutex)
            j.work()
            var spins = 0
            while j.done.load(ordering: .acquiring) < parts {
                spins += 1
                if spins > 64 { sched_yield() }
            }
            // No worker may keep the job (it holds `body`, which must not outlive this call).
            pthread_mutex_lock(&mutex)
            job = nil
            pthread_mutex_unlock(&mutex)
            while active.load(ordering: .acquiring) > 0 { sched_yield() }
        }
        busy.store(false, ordering: .releasing)
    }

    /// How many ranges `forRanges` splits n items into: one per thread, each at least `grain`.
    func partCount(_ n: Int, grain: Int, threads: Int = 0) -> Int {
        max(1, min(workers + 1, threads > 0 ? threads : workers + 1, n / max(1, grain)))
    }

    /// Splits 0..<n into `partCount(n, grain:, threads:)` contiguous ranges and runs
    /// `body(part, range)` for each.
    func forParts(_ n: Int, grain: Int, threads: Int = 0, _ body: (Int, Range<Int>) -> Void) {
        let k = partCount(n, grain: grain, threads: threads)
        if k == 1 { if n > 0 { body(0, 0..<n) }; return }
        run(k, threads: threads) { i in body(i, (n * i / k)..<(n * (i + 1) / k)) }
    }

    /// `forParts` for bodies that need only the range.
    func forRanges(_ n: Int, grain: Int, threads: Int = 0, _ body: (Range<Int>) -> Void) {
        forParts(n, grain: grain, threads: threads) { _, r in body(r) }
    }
}
