#if canImport(Glibc)
import Glibc
#endif

/// Merge results of words seen before, shared by all threads using one tokenizer (a mutex
/// guards it; lookups allocate nothing). Bounded: it starts over when full. The state
/// lives behind a pointer so accesses need no dynamic exclusivity checks.
final class WordCache: @unchecked Sendable {
    private struct State {
        var map = BytesMap(capacity: 1 << 12)
        var ids: [Int32] = []
        var spans: [(start: Int32, count: Int32)] = []
    }
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let state: UnsafeMutablePointer<State>
    let maxWords: Int
    let maxWordBytes: Int

    init(maxWords: Int = 1 << 17, maxWordBytes: Int = 64) {
        self.maxWords = maxWords
        self.maxWordBytes = maxWordBytes
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Appends the cached ids of `word` to `out`; false when the word is not cached.
    @inline(__always)
    func lookup(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let k = state.pointee.map.find(word) else { return false }
        let s = state.pointee.spans[Int(k)]
        state.pointee.ids.withUnsafeBufferPointer { ids in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: ids[Int(s.start)..<Int(s.start + s.count)]))
        }
        return true
    }

    func insert(_ word: UnsafeBufferPointer<UInt8>, _ result: [Int32]) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if state.pointee.spans.count >= maxWords || state.pointee.ids.count >= maxWords * 8 {
            state.pointee = State()
        }
        if state.pointee.map.find(word) != nil { return }
        state.pointee.map.set(word, Int32(state.pointee.spans.count))
        state.pointee.spans.append((Int32(state.pointee.ids.count), Int32(result.count)))
        state.pointee.ids.append(contentsOf: result)
    }
}
