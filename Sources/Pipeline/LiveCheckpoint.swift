public import Foundation
public import UsageModel
import Detection
import NormalizedRecords
import Sessions

/// `tail`'s checkpoints as rows that change.
///
/// The live state is kept in the store's `live_state` table, a row per account (activity, name,
/// identity summary, volume, sessions kept for look-back), per indexed identifier, per open resource,
/// per emitted session, per alerted run, per chunk of a de-duplication day and per held slice, with its few scalars in
/// `live_meta`. De-duplication days and held slices only grow until they are dropped: each checkpoint
/// adds a chunk of what they gained (a key of the day or slice and the chunk's number) and a dropped
/// one is deleted as a key range. Each structure remembers what it changed since the last checkpoint; a batch writes
/// those rows in its own transaction (``IngestPipeline/checkpointChanges()``), so a landing costs what
/// it touched, not the size of the state, and a restart reads the rows back
/// (``IngestPipeline/restore(meta:rows:)``).
enum LivePart: Int, CaseIterable {
    case activity = 1, name, eventAccount, identityRow, identityOwner, resource, emitted, volumeAccount,
        volumeGroup, resellerHours, alerted, dedupChunk, heldSlice, heldName, lookback, standing, closedRuns
}

/// The keys the pipeline itself marks changed (the structures it owns keep their own marks).
struct LiveChanges {
    var activity = Set<UInt64>()
    var names = Set<UInt64>()
    var eventAccounts = Set<UInt64>()
    var alerted = Set<String>()
    var volumeAccounts = Set<String>()
    var volumeGroups = Set<String>()
    var resellerHours = Set<String>()
    var lookback = Set<UInt64>()
    var standing = Set<UInt64>()
    /// The next de-duplication chunk's number (chunks of one day are numbered in the order written),
    /// and the next held chunk's.
    var dedupChunk: UInt64 = 0
    var heldChunk: UInt64 = 0
    var replacesAll = false

    static func pair(_ reseller: String, _ account: String) -> String { reseller + "\u{0}" + account }
}

/// The live state's scalars.
struct LiveMeta: Codable {
    var watermark: EpochSeconds
    var streamStart: EpochSeconds
    var lastPrune: EpochSeconds
    var dedupNewestDay: Int64
    var dedupChunk: UInt64
    var heldChunk: UInt64?
    var releasedThrough: EpochSeconds
    var late: Int
    var namesPrunedAt: EpochSeconds?
    var billedAccounts: [String]
}

struct HeldName: Codable {
    var name: String
    var until: EpochSeconds
}

struct DedupChunk: Codable {
    var keys: Data
}

/// A checkpoint row that cannot be read: the store was written by another version, or damaged.
public struct LiveStateError: Error, CustomStringConvertible {
    public var part: Int
    public var reason: String
    public var description: String {
        "tail's saved state (table live_state, part \(part)) cannot be read: \(reason); move the store aside to start afresh"
    }
}

extension IngestPipeline {
    /// Starts remembering what changes, for ``checkpointChanges()`` (call after any restore: a restore
    /// replaces structures, and with them their marks).
    public func startCheckpoints() {
        if changes == nil { changes = LiveChanges() }
        dedup.tracking = true
        order.stopSpilling()
        order.tracking = true
        sessionizer.tracking = true
        identities.tracking = true
    }

    /// The rows that changed since the last call (all of them after a restore from a whole-state blob),
    /// for the batch's transaction.
    public func checkpointChanges() throws -> LiveStateChanges {
        var whole = LiveStateChanges()
        try checkpointChanges(pieceBytes: .max) { piece in
            whole.replacesAll = whole.replacesAll || piece.replacesAll
            whole.droppedRanges += piece.droppedRanges
            whole.rows += piece.rows
            if !piece.meta.isEmpty { whole.meta = piece.meta }
        }
        return whole
    }

    /// The same changes in pieces of about `pieceBytes` of rows, each handed to `emit` as soon as it is
    /// encoded (so the store's writer writes one while the next is encoded): the first piece says whether
    /// everything is replaced and which key ranges are dropped, the last carries the scalars (`meta`).
    /// Applied in the order given, the pieces change the stored state as the whole does.
    public func checkpointChanges(pieceBytes: Int, emit: (LiveStateChanges) throws -> Void) throws {
        // Without marks since the start, what changed before is unknown: everything is written.
        if changes == nil { markAllChanged() }
        var c = changes!
        var out = LiveStateChanges()
        out.replacesAll = c.replacesAll
        var bytes = 0
        func flush() throws {
            guard !out.rows.isEmpty || !out.droppedRanges.isEmpty || out.replacesAll else { return }
            try emit(out)
            out = LiveStateChanges()
            bytes = 0
        }
        func append(_ row: LiveStateChanges.Row) throws {
            out.rows.append(row)
            bytes += row.key.count + (row.value?.count ?? 0)
            if bytes >= pieceBytes { try flush() }
        }
        func put(_ part: LivePart, _ key: Data, _ value: (some Encodable)?) throws {
            try append(.init(part: part.rawValue, key: key, value: try value.map { try CheckpointCoder.encode($0) }))
        }
        // What is deleted comes first (dropped de-duplication days and released held slices), so that
        // no row written below is deleted after it.
        let window = dedup.takeChanges()
        for day in window.dropped {
            out.droppedRanges.append((LivePart.dedupChunk.rawValue, Self.chunkKey(day, 0), Self.chunkKey(day + 1, 0)))
        }
        let held = order.takeChanges()
        for index in held.released {
            out.droppedRanges.append(
                (LivePart.heldSlice.rawValue, Self.chunkKey(index, 0), Self.chunkKey(index + 1, 0)))
        }
        try flush()
        for key in c.activity.sorted() { try put(.activity, Self.key(key), activity[key]) }
        for key in c.names.sorted() { try put(.name, Self.key(key), accountNames[key]) }
        for key in c.eventAccounts.sorted() {
            try put(.eventAccount, Self.key(key), eventAccounts.contains(key) ? true : nil)
        }
        // The graph is settled at every tick (the rows a tick changed are marked then).
        let graph = identities.takeChanges()
        for (account, row) in graph.rows { try put(.identityRow, Self.key(account), row) }
        for (id, row) in graph.owners { try put(.identityOwner, Self.key(id), row) }
        let sessions = try sessionizer.takeChanges { try [UInt8](CheckpointCoder.encode($0)) }
        for (key, row) in sessions.resources { try put(.resource, Data(key), row) }
        for (key, row) in sessions.closedRuns { try put(.closedRuns, Self.key(key), row) }
        for (id, end) in sessions.emitted { try put(.emitted, Data(id.utf8), end) }
        for id in c.volumeAccounts.sorted() { try put(.volumeAccount, Data(id.utf8), volume.account(id)) }
        for id in c.volumeGroups.sorted() { try put(.volumeGroup, Data(id.utf8), volume.group(id)) }
        for pair in c.resellerHours.sorted() {
            let parts = pair.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            try put(.resellerHours, Data(pair.utf8), resellerUse.hours(reseller: parts[0], account: parts[1]))
        }
        for resource in c.alerted.sorted() { try put(.alerted, Data(resource.utf8), alertedOpen[resource]) }
        // Sessions kept for look-back in their compact form (most of a checkpoint's bytes otherwise).
        for key in c.lookback.sorted() {
            try append(
                .init(
                    part: LivePart.lookback.rawValue, key: Self.key(key),
                    value: lookback[key].map(SessionListCoding.encode)))
        }
        for key in c.standing.sorted() { try put(.standing, Self.key(key), standing[key]) }
        for (day, keys) in window.added {
            let bytes = keys.withUnsafeBytes { Data($0) }
            try put(.dedupChunk, Self.chunkKey(day, c.dedupChunk), DedupChunk(keys: bytes))
            c.dedupChunk += 1
        }
        for (index, columns) in held.slices {
            try put(.heldSlice, Self.chunkKey(index, c.heldChunk), columns)
            c.heldChunk += 1
        }
        for (key, entry) in held.names {
            try put(.heldName, Self.key(key), entry.map { HeldName(name: $0.name, until: $0.until) })
        }
        out.meta = try CheckpointCoder.encode(
            LiveMeta(
                watermark: watermark, streamStart: volume.streamStart, lastPrune: sessions.lastPrune,
                dedupNewestDay: window.newestDay, dedupChunk: c.dedupChunk, heldChunk: c.heldChunk,
                releasedThrough: order.releasedThrough,
                late: order.late, namesPrunedAt: order.namesPrunedAt, billedAccounts: billedAccounts.sorted()))
        changes = LiveChanges(dedupChunk: c.dedupChunk, heldChunk: c.heldChunk)
        try emit(out)
    }

    /// Restores the state from the rows of the last checkpoint: `rows` calls its argument for every row
    /// and returns the scalars' row (nil: nothing was saved, and nothing is restored).
    /// - Returns: whether a state was restored.
    @discardableResult
    public func restore(rows: ((Int, Data, Data) throws -> Void) throws -> Data?) throws -> Bool {
        var graphRows: [(account: UInt64, row: IdentityGraph.Row)] = []
        var owners: [(id: UInt64, row: IdentityGraph.OwnerRow)] = []
        var resources: [Sessionizer.ResourceRow] = []
        var closedRuns: [Sessionizer.ClosedRunsRow] = []
        var emitted: [(id: String, end: EpochSeconds)] = []
        var chunks: [(day: Int64, keys: [UInt64])] = []
        var slices: [(index: Int64, columns: EventTimeOrder.Snapshot)] = []
        var names: [(key: UInt64, name: String, until: EpochSeconds)] = []
        activity = DenseKeyTable<AccountActivity>(capacity: 4096)
        accountNames = KeyTable<String>(capacity: 4096)
        eventAccounts = []
        volume = VolumeBook()
        resellerUse = ResellerAggregate()
        alertedOpen = [:]
        lookback = [:]
        standing = [:]
        let saved = try rows { partNumber, key, value in
            guard let part = LivePart(rawValue: partNumber) else {
                throw LiveStateError(part: partNumber, reason: "unknown part (written by a later version?)")
            }
            func decode<T: Decodable>(_ type: T.Type) throws -> T {
                do { return try CheckpointCoder.decode(type, from: value) } catch {
                    throw LiveStateError(part: partNumber, reason: "\(error)")
                }
            }
            func text() -> String { String(decoding: key, as: UTF8.self) }
            switch part {
            case .activity:
                let saved = try decode(AccountActivity.self)
                activity.update(try Self.number(key, part), default: { saved }) { $0 = saved }
            case .name: accountNames.insert(try Self.number(key, part), try decode(String.self))
            case .eventAccount: eventAccounts.insert(try Self.number(key, part))
            case .identityRow: graphRows.append((try Self.number(key, part), try decode(IdentityGraph.Row.self)))
            case .identityOwner: owners.append((try Self.number(key, part), try decode(IdentityGraph.OwnerRow.self)))
            case .resource: resources.append(try decode(Sessionizer.ResourceRow.self))
            case .closedRuns: closedRuns.append(try decode(Sessionizer.ClosedRunsRow.self))
            case .emitted: emitted.append((text(), try decode(EpochSeconds.self)))
            case .volumeAccount: volume.restore(account: text(), try decode(VolumeHistory.self))
            case .volumeGroup: volume.restore(group: text(), try decode(VolumeHistory.self))
            case .resellerHours:
                let parts = text().split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw LiveStateError(part: partNumber, reason: "a key without its reseller")
                }
                resellerUse.restore(
                    reseller: String(parts[0]), account: String(parts[1]), hours: try decode(Double.self))
            case .alerted: alertedOpen[text()] = try decode([AlertedRun].self)
            case .dedupChunk:
                guard key.count == 16 else {
                    throw LiveStateError(part: partNumber, reason: "a chunk key of \(key.count) bytes")
                }
                let data = try decode(DedupChunk.self).keys
                let keys = data.withUnsafeBytes { raw in
                    (0..<(data.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
                }
                chunks.append((Int64(bitPattern: try Self.number(key.prefix(8), part) ^ (1 << 63)), keys))
            case .heldSlice:
                guard key.count == 16 else {
                    throw LiveStateError(part: partNumber, reason: "a chunk key of \(key.count) bytes")
                }
                let index = Int64(bitPattern: try Self.number(key.prefix(8), part) ^ (1 << 63))
                slices.append((index, try decode(EventTimeOrder.Snapshot.self)))
            case .heldName:
                let entry = try decode(HeldName.self)
                names.append((try Self.number(key, part), entry.name, entry.until))
            case .standing: standing[try Self.number(key, part)] = try decode(AccountStanding.self)
            case .lookback:
                // Compact rows; Codable ones from stores of earlier versions.
                if SessionListCoding.isCompact(value) {
                    do {
                        lookback[try Self.number(key, part)] = try SessionListCoding.decode(value)
                    } catch let fault as NormalizedRecordError {
                        throw LiveStateError(
                            part: partNumber, reason: "\(fault.path), byte \(fault.offset): \(fault.message)")
                    }
                } else {
                    lookback[try Self.number(key, part)] = try decode([Session].self).map(RememberedSession.init)
                }
            }
        }
        guard let saved else { return false }
        let m: LiveMeta
        do { m = try CheckpointCoder.decode(LiveMeta.self, from: saved) } catch {
            throw LiveStateError(part: 0, reason: "its scalars (table live_meta): \(error)")
        }
        guard identities.restore(rows: graphRows, owners: owners) else {
            throw LiveStateError(part: LivePart.identityRow.rawValue, reason: "identity rows of another shape")
        }
        partnerMemo = nil
        sessionizer.restore(resources: resources, closedRuns: closedRuns, emitted: emitted, lastPrune: m.lastPrune)
        dedup.restore(chunks: chunks, newestDay: m.dedupNewestDay)
        order = EventTimeOrder(releasedThrough: m.releasedThrough, late: m.late, slices: slices, names: names)
        order.namesPrunedAt = m.namesPrunedAt ?? .min
        watermark = m.watermark
        mergedWatermark = m.watermark
        volume.streamStart = m.streamStart
        billedAccounts = Set(m.billedAccounts)
        recountSharedNorm()
        changes = nil
        startCheckpoints()
        changes!.dedupChunk = m.dedupChunk
        changes!.heldChunk = m.heldChunk ?? 0
        return true
    }

    /// After a restore from a whole-state blob (an earlier version's checkpoint): the next checkpoint
    /// writes every row and deletes the blob.
    public func markAllChanged() {
        startCheckpoints()
        changes!.replacesAll = true
        changes!.activity = Set(activity.elements.map(\.key))
        changes!.names = Set(accountNames.elements.map(\.key))
        changes!.eventAccounts = eventAccounts
        changes!.alerted = Set(alertedOpen.keys)
        changes!.lookback = Set(lookback.keys)
        changes!.standing = Set(standing.keys)
        changes!.volumeAccounts = Set(volume.accountIDs)
        changes!.volumeGroups = Set(volume.groupIDs)
        changes!.resellerHours = Set(resellerUse.pairs.map { LiveChanges.pair($0.reseller, $0.account) })
        identities.markAllChanged()
        sessionizer.markAllChanged()
        dedup.markAllChanged()
        order.markAllChanged()
    }

    /// A number as a key: big-endian, so keys sort as the numbers do (signed ones are offset by 2^63).
    static func key(_ n: UInt64) -> Data { withUnsafeBytes(of: n.bigEndian) { Data($0) } }
    static func key(_ n: Int64) -> Data { key(UInt64(bitPattern: n) ^ (1 << 63)) }
    static func chunkKey(_ day: Int64, _ n: UInt64) -> Data { key(day) + key(n) }

    static func number(_ key: Data, _ part: LivePart) throws -> UInt64 {
        guard key.count == 8 else { throw LiveStateError(part: part.rawValue, reason: "a key of \(key.count) bytes") }
        return key.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
