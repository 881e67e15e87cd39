#if canImport(Glibc)
import Glibc
#endif

/// Merge results of words seen before, shared by all threads using one tokenizer (a mutex
/// guards it; lookups allocate nothing). Bounded: it starts over when full.
final class WordCache: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var map: BytesMap
    private var ids: [Int32] = []
    private var spans: [(start: Int32, count: Int32)] = []
    let maxWords: Int
    let maxWordBytes: Int

    init(maxWords: Int = 1 << 17, maxWordBytes: Int = 64) {
        self.maxWords = maxWords
        self.maxWordBytes = maxWordBytes
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        map = BytesMap(capacity: 1 << 12)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Appends the cached ids of `word` to `out`; false when the word is not cached.
    @inline(__always)
    func lookup(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let k = map.find(word) else { return false }
        let s = spans[Int(k)]
        out.append(contentsOf: ids[Int(s.start)..<Int(s.start + s.count)])
        return true
    }

    func insert(_ word: UnsafeBufferPointer<UInt8>, _ result: [Int32]) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if spans.count >= maxWords || ids.count >= maxWords * 8 {
            map = BytesMap(capacity: 1 << 12)
            ids.removeAll(keepingCapacity: true)
            spans.removeAll(keepingCapacity: true)
        }
        if map.find(word) != nil { return }
        map.set(word, Int32(spans.count))
        spans.append((Int32(ids.count), Int32(result.count)))
        ids.append(contentsOf: result)
    }
}
