import UsageModel

/// What the sessionizer holds of one resource's events not yet finalised, in time order: the events; or,
/// while they are billing lines alone and each is one ``BilledRun`` spells back exactly, those runs.
///
/// A resource billed and not yet closed held one 256-byte event a run in an array of its own, and the
/// event's id (`bill-…`, 21 bytes) in another allocation: ~370 of the ~830 bytes a held billed session
/// cost (issue 17: the export is read before the first audit log, so every billed session of the month
/// is held until the trail's time closes it). A run is 64 bytes. Eight bytes either way: the two cases
/// are one reference each.
enum HeldEvents: Sendable {
    case events([UsageEvent])
    case billed([BilledRun])

    static let none = HeldEvents.events([])

    var isEmpty: Bool {
        switch self {
        case .events(let events): events.isEmpty
        case .billed(let runs): runs.isEmpty
        }
    }
}

/// One run of billing lines summed (``Sessionizer``'s billing periods that touch or overlap), packed: the
/// fields of its ``UsageEvent`` that are not its resource's, the texts by their number in
/// ``BilledTexts``, the id by the key it spells (``BillingEventID``).
struct BilledRun: Sendable {
    var time: EpochSeconds
    var seconds: Int64
    var hours: Double
    var records: Int
    /// The key the event id spells.
    var key: UInt64
    /// The line of `path` it was read at.
    var line: Int
    /// `UInt32.max`: none.
    var type: UInt32
    var region: UInt32
    var name: UInt32
    var path: UInt32
}

/// The texts of billed runs (types, regions, event names, paths), each once, by number, compared by their
/// bytes (a run's event must come back byte for byte). Texts no run holds any more are forgotten when the
/// table is made anew (``needsRebuild``: it has doubled since), as ``StringPool`` does.
struct BilledTexts: Sendable {
    private var texts = TextNumbers(fields: 4)
    private var limit = 1024

    subscript(number: UInt32) -> String { texts[number] }

    /// The number of `text` (added when new).
    mutating func number(_ text: String) -> UInt32 { texts.number(text) }

    /// The number of `text`, as field `field` (type, region, event name, path) last saw it or from the table.
    mutating func number(_ text: String, field: Int) -> UInt32 { texts.number(text, field: field) }

    /// Whether the table has doubled since it was last made.
    var needsRebuild: Bool { texts.count >= limit }

    /// A table of no text, to number again every text held (`old` gives them by their old numbers).
    mutating func startRebuild() -> BilledTexts {
        let old = self
        texts = TextNumbers(fields: 4)
        return old
    }

    /// Sets the next rebuild at twice the texts now held.
    mutating func endRebuild() {
        limit = max(1024, 2 * texts.count)
    }
}
