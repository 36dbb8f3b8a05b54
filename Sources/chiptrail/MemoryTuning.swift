#if canImport(Glibc)
    import Glibc
#endif

/// Process-level allocator settings for the long runs (`ingest`, `tail`).
enum MemoryTuning {
    /// Every input's batch (hundreds of KiB of calls) is freed once merged and the next one allocated:
    /// by default glibc hands such blocks back to the kernel and faults them in again, zeroed, for the
    /// next input (about 37,000 page faults, a tenth of a second, per GB of CloudTrail). Freed memory up
    /// to 64 MiB is kept for reuse instead; the peak resident size stays that of the live state.
    /// `mallopt` is looked up at run time (glibc's `malloc.h` is not in Swift's Glibc module); where it
    /// is missing nothing changes.
    static func keepFreedMemory() {
        #if canImport(Glibc)
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
            let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
            _ = mallopt(mmapThreshold, 64 << 20)
            _ = mallopt(trimThreshold, 64 << 20)
        #endif
    }
}
