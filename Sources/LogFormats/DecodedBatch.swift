public import UsageModel

/// What a decoder made of (part of) one input: the compute events, the reduced calls, and the problems.
public struct DecodedBatch: Sendable {
    /// Compute lifecycle and usage events, in input order.
    public var events: [UsageEvent] = []
    /// The usage events of billing exports' lines, packed (``UsageLines``): after `events` in input order
    /// (a billing export's decoder makes no other events).
    public var usageLines = UsageLines()
    /// Every other call of an account, reduced.
    public var calls: [CallObservation] = []
    /// Events that came from the record of a call in `calls` (an audit log's lifecycle call is both),
    /// as (index in `events`, index in `calls`), in order: the event is a duplicate exactly when its
    /// call is, so the de-duplication window holds one key for the record, not two (issue 17). Events
    /// not listed (billing lines, decoders that do not pair) are de-duplicated by their own event id.
    public var eventCalls: [(event: Int32, call: Int32)] = []
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

    /// Appends `event`, made from the record of the last call appended.
    @inlinable
    public mutating func appendEventOfLastCall(_ event: UsageEvent) {
        eventCalls.append((Int32(events.count), Int32(calls.count - 1)))
        events.append(event)
    }

    /// Every event: `events`, then the billing lines' (made whole: for tests and for writers that copy
    /// the batch, not for the merge).
    public var allEvents: [UsageEvent] {
        events + usageLines.indices.map { usageLines.event(at: $0) }
    }

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

    /// The text behind identifier keys of `calls` (user-agent installation, access-key id, principal
    /// name), for evidence that names what two accounts share. Noted once per input and key.
    public var identifierNames = KeyTable<String>(capacity: 8)
    @usableFromInline var lastIdentifierKeys: (UInt64, UInt64, UInt64) = (0, 0, 0)

    /// The names table's key of an identifier of `kind` (0 agent, 1 access key, 2 principal).
    @inlinable
    public static func nameKey(_ key: UInt64, kind: UInt64) -> UInt64 { key ^ (kind &* 0x9E37_79B9_7F4A_7C15) }

    /// Brings the names table's slots for a call's identifiers closer (a hint, see ``KeyTable/prefetch(_:)``),
    /// some work before ``noteIdentifiers(agent:_:accessKey:_:principal:_:personal:)`` looks them up: a
    /// large trail's input names tens of thousands of identifiers, and the look-up of a new one missed the
    /// cache (issue 17: 3% of `ingest --jobs 1` on the large customer's corpus).
    @inlinable
    public mutating func prefetchIdentifiers(agent: UInt64, accessKey: UInt64, principal: UInt64) {
        if agent != 0 && agent != lastIdentifierKeys.0 { identifierNames.prefetch(Self.nameKey(agent, kind: 0)) }
        if accessKey != 0 && accessKey != lastIdentifierKeys.1 {
            identifierNames.prefetch(Self.nameKey(accessKey, kind: 1))
        }
        if principal != 0 && principal != lastIdentifierKeys.2 {
            identifierNames.prefetch(Self.nameKey(principal, kind: 2))
        }
    }

    /// Remembers the text of a call's identifiers (a run of calls of one installation notes it once).
    @inlinable
    public mutating func noteIdentifiers(
        agent: UInt64, _ agentBytes: UnsafeRawBufferPointer, accessKey: UInt64,
        _ accessKeyBytes: UnsafeRawBufferPointer,
        principal: UInt64, _ principalBytes: UnsafeRawBufferPointer, personal: Bool = false
    ) {
        if agent != 0 && agent != lastIdentifierKeys.0 {
            lastIdentifierKeys.0 = agent
            let k = Self.nameKey(agent, kind: 0)
            if !identifierNames.contains(k) { identifierNames.insert(k, UserAgent.installation(agentBytes)) }
        }
        if accessKey != 0 && accessKey != lastIdentifierKeys.1 {
            lastIdentifierKeys.1 = accessKey
            let k = Self.nameKey(accessKey, kind: 1)
            if !identifierNames.contains(k) {
                identifierNames.insert(k, String(decoding: accessKeyBytes.prefix(64), as: UTF8.self))
            }
        }
        if principal != 0 && principal != lastIdentifierKeys.2 {
            lastIdentifierKeys.2 = principal
            let k = Self.nameKey(principal, kind: 2)
            if !identifierNames.contains(k) {
                let name = CloudTrailNames.principalName(principalBytes)
                let person = personal ? CloudTrailNames.personName(name) : UnsafeRawBufferPointer(start: nil, count: 0)
                // A person's key is their name whatever credentials carried it, so its text is the name
                // alone: a text of the key, not of whichever form an input happened to show first.
                identifierNames.insert(
                    k,
                    person.isEmpty
                        ? String(decoding: name.prefix(160), as: UTF8.self)
                        : "*/" + String(decoding: person.prefix(158), as: UTF8.self))
            }
        }
    }
}
