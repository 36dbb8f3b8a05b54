#if canImport(Glibc)
    import Glibc
#endif

/// The one clock for durations (timeouts, pacing, progress, summaries): CLOCK_MONOTONIC in seconds,
/// never stepped by the wall clock.
public enum MonotonicClock {
    public static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
