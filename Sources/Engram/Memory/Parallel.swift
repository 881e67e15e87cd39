#if canImport(Glibc)
import Glibc
#endif

/// Online CPUs (at least 1): the default thread count of retrieval.
public let onlineCPUCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

private final class ParallelJob {
    let body: (Int) -> Void
    let index: Int
    init(_ body: @escaping (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
}

/// Runs `body(0 ..< parts)`: part 0 on the calling thread, the others on new threads, and
/// returns when all are done. If a thread cannot be created its part runs on the caller.
/// Threads are created per call: callers use it for work of a millisecond or more.
func parallelFor(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        var threads = [pthread_t]()
        threads.reserveCapacity(parts - 1)
        var inline = [Int]()
        for i in 1..<parts {
            let job = Unmanaged.passRetained(ParallelJob(body, i)).toOpaque()
            var th = pthread_t()
            let rc = pthread_create(&th, nil, { arg in
                guard let arg else { return nil }
                let job = Unmanaged<ParallelJob>.fromOpaque(arg).takeRetainedValue()
                job.body(job.index)
                return nil
            }, job)
            if rc == 0 {
                threads.append(th)
            } else {
                Unmanaged<ParallelJob>.fromOpaque(job).release()
                inline.append(i)
            }
        }
        body(0)
        for i in inline { body(i) }
        for th in threads { pthread_join(th, nil) }
    }
}
