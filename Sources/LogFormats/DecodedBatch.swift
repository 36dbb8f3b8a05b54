public import UsageModel

/// What a decoder made of (part of) one input: the compute events, the reduced calls, and the problems.
public struct DecodedBatch: Sendable {
    /// Compute lifecycle and usage events, in input order.
    public var events: [UsageEvent] = []
    /// Every other call of an account, reduced.
    public var calls: [CallObservation] = []
    /// The account id behind every `accountKey` seen in `calls`. Small at first: an audit-log object
    /// is mostly one account's, and a table is made and freed per input (the reader sizes the next
    /// one from the last).
    public var accountNames = KeyTable<String>(capacity: 8)
    public var diagnostics: [Diagnostic] = []
    /// Records read (good or bad), records rejected, documents skipped on purpose (digests).
    public var recordsRead = 0
    public var recordsRejected = 0
    public var documentsSkipped = 0
    /// Diagnostics beyond `diagnosticLimit` per input are counted, not kept.
    public var diagnosticsSuppressed = 0
    public var diagnosticLimit = 20

    public init() {}

    /// Records a rejected record with its diagnostic.
    public mutating func reject(_ diagnostic: Diagnostic) {
        recordsRejected += 1
        report(diagnostic)
    }

    public mutating func report(_ diagnostic: Diagnostic) {
        if diagnostics.count < diagnosticLimit {
            diagnostics.append(diagnostic)
        } else {
            diagnosticsSuppressed += 1
        }
    }

    /// Remembers an account id seen in a record; keyed by its ``StableHash``.
    @inlinable
    public mutating func noteAccount(_ key: UInt64, _ bytes: UnsafeRawBufferPointer) {
        if key == lastAccountKey { return }
        lastAccountKey = key
        if !accountNames.contains(key) {
            accountNames.insert(key, String(decoding: bytes, as: UTF8.self))
        }
    }

    @usableFromInline var lastAccountKey: UInt64 = 0
}

/// Bounds on the quantities read from logs: a value past them is a damaged or hostile record (rejected
/// by line), never a number to compute with (1e308 hours times eight accelerators is infinity).
public enum UsageLimits {
    /// Most hours one usage record may carry: ten thousand instances for a year and more.
    public static let maxUsageHours = 100_000_000.0
    /// Most instances one event may name.
    public static let maxInstanceCount = 100_000
}
