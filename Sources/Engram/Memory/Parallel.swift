#if canImport(Glibc)
import Glibc
#endif

/// Online CPUs (at least 1): the default thread count of retrieval.
public let onlineCPUCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
