/// Bounds on the quantities read from logs: a value past them is a damaged or hostile record (rejected
/// by line), never a number to compute with (1e308 hours times eight accelerators is infinity).
public enum UsageLimits {
    /// Most hours one usage record may carry: ten thousand instances for a year and more.
    public static let maxUsageHours = 100_000_000.0
    /// Most instances one event may name.
    public static let maxInstanceCount = 100_000
}
