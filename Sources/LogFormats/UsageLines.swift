public import UsageModel

/// The billing lines of one input, packed: 72 bytes a line, each text (account, resource, type, region,
/// usage type, path) held once per input and named by its number, the event id by the hash it spells;
/// in blocks of a fixed size, so that a large input's lines are not moved and doubled as they grow.
///
/// A billing export's file is one input, and the largest carry hundreds of thousands of accelerated
/// lines (a payer's month: 541,630 rows, 280,000 of them GPU hours): as ``UsageEvent``s (256 bytes
/// each, two texts of their own) they were the peak of memory of the run that read them — 273 MB for
/// that file alone, against a few MB for the 7,328 sessions they make (issue 17). The pipeline makes
/// each line's event only as it hands it to the sessionizer (``event(at:)``).
public struct UsageLines: Sendable {
    @usableFromInline
    struct Line: Sendable {
        var time: EpochSeconds
        var seconds: Int64
        var hours: Double
        /// The hash the event id spells (``BillingEventID``).
        var key: UInt64
        var line: Int
        var account: UInt32
        var resource: UInt32
        /// `UInt32.max`: none.
        var type: UInt32
        var region: UInt32
        var name: UInt32
        var path: UInt32
        var provider: CloudProvider
        /// Whether the resource is a fleet's (``UsageEvent/fleetResourcePrefix``): no instance named.
        var fleet: Bool
    }

    /// The lines in blocks of `blockSize`; all full but the last.
    private var blocks: [[Line]] = []
    public private(set) var count = 0
    @usableFromInline static let blockShift = 12
    @usableFromInline static let blockSize = 1 << blockShift
    /// Each distinct text once, by number; the last of each field (account, resource, type, region, name,
    /// path) remembered.
    private var texts = TextNumbers(fields: 6)

    public init() {}

    public var isEmpty: Bool { count == 0 }
    public var indices: Range<Int> { 0..<count }

    private subscript(index: Int) -> Line {
        get { blocks[index >> Self.blockShift][index & (Self.blockSize - 1)] }
        set { blocks[index >> Self.blockShift][index & (Self.blockSize - 1)] = newValue }
    }

    private mutating func number(_ text: String, field: Int) -> UInt32 { texts.number(text, field: field) }

    /// Appends one billing line: a `.usage` event of one instance over `[time, time + usageSeconds)`, read
    /// at `line` of `path`, whose event id is ``BillingEventID/spell(_:)`` of `key`.
    public mutating func append(
        provider: CloudProvider, time: EpochSeconds, accountID: String, resourceID: String, instanceType: String?,
        region: String, key: UInt64, eventName: String, usageSeconds: Int64, usageHours: Double, path: String,
        line: Int
    ) {
        let entry = Line(
            time: time, seconds: usageSeconds, hours: usageHours, key: key, line: line,
            account: number(accountID, field: 0), resource: number(resourceID, field: 1),
            type: instanceType.map { number($0, field: 2) } ?? .max, region: number(region, field: 3),
            name: number(eventName, field: 4), path: number(path, field: 5), provider: provider,
            fleet: resourceID.utf8.starts(with: UsageEvent.fleetResourcePrefix.utf8))
        if count & (Self.blockSize - 1) == 0 {
            blocks.append([])
            blocks[blocks.count - 1].reserveCapacity(Self.blockSize)
        }
        blocks[blocks.count - 1].append(entry)
        count += 1
    }

    /// The event of the line at `index`: equal, field for field, to the one the decoder once made of it.
    public func event(at index: Int) -> UsageEvent {
        let l = self[index]
        return UsageEvent(
            provider: l.provider, action: .usage, time: l.time, accountID: texts[l.account],
            resourceID: texts[l.resource], instanceType: l.type == .max ? nil : texts[l.type],
            instanceCount: 1, region: texts[l.region], eventID: BillingEventID.spell(l.key),
            eventName: texts[l.name], usageSeconds: l.seconds, usageHours: l.hours,
            origin: EventOrigin(path: texts[l.path], position: .line(l.line)))
    }

    /// The usage hours of the line at `index`.
    public func usageHours(at index: Int) -> Double { self[index].hours }

    /// Whether the line at `index` bills a fleet (``UsageEvent/isFleetUsage``), not one named instance.
    public func isFleetUsage(at index: Int) -> Bool { self[index].fleet }

    /// The event time of the line at `index`.
    public func time(at index: Int) -> EpochSeconds { self[index].time }

    /// `StableHash.hash(event(at: index).eventID, seed: seed)`, without making the id.
    public func eventIDHash(at index: Int, seed: UInt64) -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: BillingEventID.length) { b in
            BillingEventID.spell(self[index].key, into: b)
            return StableHash.hash(UnsafeRawBufferPointer(b), seed: seed)
        }
    }

    /// Keeps the lines `isKept` accepts (given their indices, in order), in order.
    public mutating func keep(where isKept: (Int) -> Bool) {
        var kept = 0
        for i in 0..<count where isKept(i) {
            if kept != i { self[kept] = self[i] }
            kept += 1
        }
        count = kept
        let full = (kept + Self.blockSize - 1) >> Self.blockShift
        blocks.removeLast(blocks.count - full)
        if kept & (Self.blockSize - 1) != 0 {
            blocks[full - 1].removeLast(blocks[full - 1].count - (kept & (Self.blockSize - 1)))
        }
    }
}
