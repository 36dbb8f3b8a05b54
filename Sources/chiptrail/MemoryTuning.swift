#if canImport(Glibc)
    import Glibc
#endif

/// Process-level allocator settings, in one place: every command starts with ``returnLargeBlocks()``;
/// the long runs (`ingest`, `tail`, `normalize`) then call ``keepFreedMemory()``, which replaces it.
/// `mallopt` is looked up at run time (glibc's `malloc.h` is not in Swift's Glibc module); where it is
/// missing nothing changes.
enum MemoryTuning {
    private static let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private static let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
    private static let arenaMax: Int32 = -8  // M_ARENA_MAX

    private static func mallopt(_ parameter: Int32, _ value: Int32) {
        #if canImport(Glibc)
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            _ = unsafeBitCast(symbol, to: Mallopt.self)(parameter, value)
        #endif
    }

    /// Large buffers and tables (256 KiB and up) come from mmap and go back to the kernel when freed,
    /// so peak memory follows what is live (glibc would otherwise raise the threshold as it goes and
    /// fragment the heap). The default of the short commands.
    static func returnLargeBlocks() {
        mallopt(mmapThreshold, 256 << 10)
    }

    /// Every input's batch (hundreds of KiB to a few MiB of calls) is freed once merged and the next one
    /// allocated: by default glibc hands such blocks back to the kernel and faults them in again, zeroed,
    /// for the next input (about 37,000 page faults, a tenth of a second, per GB of CloudTrail). Blocks
    /// under 4 MiB come from the arenas and are reused; larger ones (the de-duplication window's tables,
    /// the held slices of a dense trail) are mapped and unmapped whole, so they never pin a heap; each
    /// arena keeps at most 8 MiB of free memory at its top (a few batches' worth).
    ///
    /// Each reader thread of `--jobs 2` has an arena of its own, and each kept up to 64 MiB when both
    /// thresholds were 64 MiB: peak RSS of the large customer's 1 GB at `--jobs 2` 166–181 MB, against a
    /// heap peak of 90 MB; 16 MiB a top left 126–145 MB, 8 MiB 123–132 MB in five interleaved runs, the
    /// time the same (issue 17; the figures in the README's "Allocator thresholds" section).
    ///
    /// At most two arenas: glibc gives each thread that finds the arenas busy one of its own (up to eight
    /// per core), and at `--jobs 2` the readers' batches, allocated in their arenas and freed on the merge
    /// thread, left each arena's free memory apart. Two arenas (the merge thread's and one the readers
    /// share) took the large customer's 4 GB at `--jobs 2` from 148–159 MB to 138–141 MB and its 1 GB from
    /// 116–120 to 108–113, in the same time (three interleaved idle runs: 7.96–8.19 s against 7.97–8.27 s);
    /// one arena saved more but cost 5–8% (the readers and the merge then contend for one lock).
    static func keepFreedMemory() {
        mallopt(mmapThreshold, 4 << 20)
        mallopt(trimThreshold, 8 << 20)
        mallopt(arenaMax, 2)
    }

    /// Hands every whole free page of every arena back to the kernel (`malloc_trim(0)`), for the moments
    /// a large block of memory was just let go in the middle of an arena (`IngestPipeline.onLargeFree`):
    /// the top-of-heap threshold cannot return what later allocations sit above, and at `--jobs 2` the
    /// thread that would use it again allocates in the other arena.
    static func returnFreePages() {
        #if canImport(Glibc)
            typealias MallocTrim = @convention(c) (Int) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
