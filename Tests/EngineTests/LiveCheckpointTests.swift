import Catalog
import Detection
import Foundation
import GRDB
import Ownership
@testable import Pipeline
@testable import Store
import TestSupport
import Testing
import UsageModel

/// `tail`'s checkpoints are rows that change (a row per account, open resource, de-duplication chunk,
/// held slice…), written in each batch's transaction: a pipeline restored from them after every input
/// raises exactly the alerts of one that never stopped, the rows hold the whole state, and a landing
/// writes rows for what it touched, not for every account.
@Suite struct LiveCheckpointTests {
    /// A small world: `accounts` accounts calling every 20 minutes for `hours` hours (a third of them
    /// partly from a restricted country), each launching a p5 in its first hour and stopping it later;
    /// the first two are mapped to an end customer in CN. One file per hour.
    /// Accounts share addresses in pairs (identity evidence), or `sharing` at a time; after the third hour
    /// only the first `active` accounts go on calling.
    static func world(
        _ dir: TemporaryDirectory, accounts: Int, hours: Int, active: Int = .max, prefix: String = "in",
        sharing: Int = 2
    ) -> [String] {
        func time(_ minutes: Int) -> String {
            let t = 1_772_323_200 + minutes * 60  // 2026-03-01T00:00:00Z
            return Timestamp.format(Int64(t))
        }
        var files: [String] = []
        for hour in 0..<hours {
            var records: [String] = []
            for a in 0..<accounts {
                let account = String(format: "1000000%05d", a)
                if hour == a % 3 {
                    records.append(runInstancesRecord(ids: ["i-0\(a)"], account: account, time: time(hour * 60 + 5)))
                }
                if hour == a % 3 + (a < active ? 4 + a % 5 : 1) {
                    records.append(
                        lifecycleRecord("StopInstances", ids: ["i-0\(a)"], account: account, time: time(hour * 60 + 7)))
                }
                for m in stride(from: 0, to: 60, by: 20) where hour < 3 || a < active {
                    let ip =
                        a % 3 == 0 && m == 20 ? "203.0.113.\(a / sharing % 200)" : "198.51.100.\(a / sharing % 200)"
                    records.append(cloudTrailRecord(account: account, time: time(hour * 60 + m + a % 17), ip: ip))
                }
            }
            files.append(
                dir.write(
                    String(format: "\(prefix)/%03d.json", hour),
                    "{\"Records\":[" + records.joined(separator: ",") + "]}"))
        }
        return files
    }

    static func pipeline(_ dir: TemporaryDirectory, alerts: @escaping (String, Double) -> Void) -> IngestPipeline {
        var problems: [Diagnostic] = []
        var mappings = MappingTable()
        // Every fourth account's end customer is in CN; its pair partner (same addresses) is not mapped.
        var rows = "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
        for a in stride(from: 0, to: 200, by: 4) {
            rows += String(format: "aws,1000000%05d,,C-\(a),CN,2025-01-01T00:00:00Z,\n", a)
        }
        mappings.add(text: rows, path: "m.csv", problems: &problems)
        let detector = Detector(
            catalog: .builtIn, jurisdictions: .builtIn, mappings: mappings, resellers: ResellerGraph(),
            config: .unfitted)
        let (geo, _) = GeoIPTable.load(paths: [
            dir.write("g.csv", "198.51.100.0,198.51.100.255,US\n203.0.113.0,203.0.113.255,CN\n")
        ])
        return IngestPipeline(
            options: IngestOptions(jobs: 1), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { outcome in
                for case let (a, alert?) in outcome.decisions.map({ ($0.assessment, $0.alert) }) {
                    alerts(alert.id, a.score)
                }
            })
    }

    static func rows(_ store: Store) throws -> [(part: Int, key: Data, value: Data)] {
        var out: [(part: Int, key: Data, value: Data)] = []
        _ = try store.loadLiveState { out.append(($0, $1, $2)) }
        return out
    }

    /// The (part, key) pairs the rows hold, with the chunks of de-duplication days and held slices as
    /// the keys they hold per day or slice (chunks are numbered in the order written).
    static func shape(_ rows: [(part: Int, key: Data, value: Data)]) throws -> (
        keys: [Data: Data], dedup: [Data: Set<UInt64>], held: [Data: [UInt64]]
    ) {
        var keys: [Data: Data] = [:]
        var dedup: [Data: Set<UInt64>] = [:]
        var held: [Data: [UInt64]] = [:]
        for (part, key, value) in rows {
            if part == LivePart.heldSlice.rawValue {
                let chunk = try CheckpointCoder.decode(EventTimeOrder.Snapshot.self, from: value)
                held[key.prefix(8), default: []] += chunk.eventKeys + chunk.events.map { StableHash.hash($0.eventID) }
                held[key.prefix(8)]!.sort()
            } else if part == LivePart.dedupChunk.rawValue {
                let chunk = try CheckpointCoder.decode(DedupChunk.self, from: value).keys
                chunk.withUnsafeBytes { raw in
                    for i in 0..<(chunk.count / 8) {
                        dedup[key.prefix(8), default: []].insert(
                            raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                    }
                }
            } else {
                keys[Data([UInt8(part)]) + key] = value
            }
        }
        return (keys, dedup, held)
    }

    /// Over four days (de-duplication days dropped, emitted sessions and closed runs forgotten), with a
    /// billing export and a file delivered later than the allowed lateness among the inputs. With eight
    /// accounts to an address, every address is one many accounts share (`shared_exit_accounts`, 5): the
    /// median account's share of calls through them, which the checkpoint does not hold, is counted again
    /// from the accounts restored.
    @Test(arguments: [2, 8])
    func restoredAfterEveryInputTheAlertsAreThoseOfAPipelineThatNeverStopped(sharing: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var inputs = Self.world(dir, accounts: 16, hours: 100, sharing: sharing)
        var cur =
            "lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount\n"
        for h in 10..<16 {
            cur += "100000000008,2026-03-01T\(h):00:00Z,2026-03-01T\(h + 1):00:00Z,BoxUsage:p5.48xlarge,i-0billed,1\n"
        }
        inputs.insert(dir.write("cur.csv", cur), at: 30)
        let late = (0..<4).map { a in
            cloudTrailRecord(
                account: String(format: "1000000%05d", a), time: "2026-03-02T10:30:00Z", ip: "203.0.113.77")
        }
        inputs.insert(dir.write("late.json", "{\"Records\":[" + late.joined(separator: ",") + "]}"), at: 60)
        var reference: [String] = []
        let whole = Self.pipeline(dir) { reference.append("\($0) \($1)") }
        whole.startCheckpoints()
        for input in inputs { _ = whole.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false) }
        #expect(reference.count >= 4, "the world raises alerts: \(reference)")

        let store = try Store(path: dir.path + "/s.db", command: "tail")
        var restored: [String] = []
        var partsSeen: [Set<Int>] = []
        for input in inputs {
            let p = Self.pipeline(dir) { restored.append("\($0) \($1)") }
            _ = try p.restore(rows: { try store.loadLiveState(row: $0) })
            p.startCheckpoints()
            _ = p.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false)
            try store.write(files: [], events: [], sessions: [], checkpoint: try p.checkpointChanges())
            partsSeen.append(Set(try Self.rows(store).map(\.part)))
        }
        #expect(restored == reference)
        // Sessions open, closed and remembered, then forgotten two days later: rows written and deleted.
        for part in [LivePart.resource, .emitted, .alerted] {
            #expect(partsSeen.contains { $0.contains(part.rawValue) }, "\(part) rows")
        }
        #expect(
            !partsSeen.last!.contains(LivePart.alerted.rawValue), "runs alerted while open forgotten at their close")
        #expect(!partsSeen.last!.contains(LivePart.emitted.rawValue), "emitted sessions forgotten")
        #expect(Set(partsSeen.map { $0.contains(LivePart.dedupChunk.rawValue) }) == [true])

        // The rows written batch by batch hold what a write of the whole state holds.
        whole.markAllChanged()
        let full = try Store(path: dir.path + "/full.db", command: "tail")
        try full.write(files: [], events: [], sessions: [], checkpoint: try whole.checkpointChanges())
        let incremental = try Self.shape(Self.rows(store))
        let all = try Self.shape(Self.rows(full))
        func hex(_ key: Data) -> String { key.map { String(format: "%02x", $0) }.joined() }
        for key in Set(all.keys.keys).symmetricDifference(incremental.keys.keys) {
            Issue.record(
                "row \(hex(key)) is in \(all.keys[key] == nil ? "the rows written batch by batch" : "the whole state") only"
            )
        }
        for (key, value) in all.keys where incremental.keys[key].map({ $0 != value }) ?? false {
            Issue.record("row \(hex(key)) differs from the whole state's")
        }
        #expect(incremental.dedup == all.dedup)
        #expect(incremental.held == all.held)
        #expect(!all.held.isEmpty, "records are held at the end")
        for part in [LivePart.identityRow, .activity, .volumeAccount] {
            #expect(all.keys.keys.contains { $0.first == UInt8(part.rawValue) }, "\(part) rows")
        }
    }

    /// A checkpoint handed to the store's writer in pieces as it is encoded (`tail`'s batches) leaves the
    /// rows and scalars a checkpoint written whole leaves, after every input of four days (de-duplication
    /// days dropped and held slices released: their range deletes come before any row of the piece's).
    @Test(arguments: [1, 700, Int.max])
    func aCheckpointWrittenInPiecesEqualsOneWrittenWhole(pieceBytes: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let inputs = Self.world(dir, accounts: 12, hours: 100)
        let whole = Self.pipeline(dir) { _, _ in }
        let pieces = Self.pipeline(dir) { _, _ in }
        let wholeStore = try Store(path: dir.path + "/whole.db", command: "tail")
        let piecesStore = try Store(path: dir.path + "/pieces.db", command: "tail")
        func meta(_ path: String) throws -> Data? {
            try DatabaseQueue(path: path).read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM live_meta WHERE id = 1")
            }
        }
        var piecesSeen = 0
        for (n, input) in inputs.enumerated() {
            _ = whole.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false)
            _ = pieces.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false)
            try wholeStore.write(files: [], events: [], sessions: [], checkpoint: try whole.checkpointChanges())
            let transaction = piecesStore.beginBatch(capacity: 2)
            try pieces.checkpointChanges(pieceBytes: pieceBytes) {
                piecesSeen += 1
                transaction.addLiveState($0)
            }
            _ = try transaction.commit(offsets: [], outbox: true)
            let a = try Self.rows(wholeStore)
            let b = try Self.rows(piecesStore)
            #expect(
                a.map(\.part) == b.map(\.part) && a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value),
                "after input \(n)")
            #expect(try meta(dir.path + "/whole.db") == meta(dir.path + "/pieces.db"), "scalars after input \(n)")
        }
        if pieceBytes == 1 { #expect(piecesSeen > 10 * inputs.count, "many pieces: \(piecesSeen)") }
    }

    /// A landing writes the rows of what it touched: with 20 or 200 accounts' state, one more file of
    /// one account writes the same number of rows.
    @Test func aLandingWritesRowsForWhatItTouchedNotForEveryAccount() throws {
        var written: [Int] = []
        var stateRows: [Int] = []
        for accounts in [20, 200] {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            let inputs = Self.world(dir, accounts: accounts, hours: 12, active: 10)
            let p = Self.pipeline(dir) { _, _ in }
            p.startCheckpoints()
            let store = try Store(path: dir.path + "/s.db", command: "tail")
            for input in inputs {
                _ = p.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false)
                try store.write(files: [], events: [], sessions: [], checkpoint: try p.checkpointChanges())
            }
            // One call of one account, ten minutes after the last hour.
            let late = dir.write(
                "late.json",
                "{\"Records\":["
                    + cloudTrailRecord(account: "100000000005", time: Timestamp.format(1_772_323_200 + 12 * 3600 + 600))
                    + "]}")
            _ = p.runIncrementally(inputs: [.init(path: late)], deferIncomplete: false)
            let changes = try p.checkpointChanges()
            written.append(changes.rows.count)
            stateRows.append(try Self.rows(store).count)
        }
        #expect(stateRows[1] > 5 * stateRows[0], "the state grows with the accounts: \(stateRows)")
        #expect(written[0] == written[1], "rows written by one landing: \(written)")
        #expect(written[0] > 10, "the landing released slices of the active accounts: \(written)")
        #expect(written[1] <= 40, "rows written by one landing: \(written)")
    }

    /// A store of an earlier version holds the whole state as one blob: tail reads it, and its first
    /// checkpoint writes every row and deletes the blob; the alerts go on as if nothing had changed.
    @Test func aWholeStateBlobOfAnEarlierVersionBecomesRows() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let inputs = Self.world(dir, accounts: 12, hours: 24)
        var reference: [String] = []
        let whole = Self.pipeline(dir) { reference.append("\($0) \($1)") }
        for input in inputs { _ = whole.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false) }

        var first: [String] = []
        let before = Self.pipeline(dir) { first.append("\($0) \($1)") }
        for input in inputs.prefix(12) {
            _ = before.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false)
        }
        let store = try Store(path: dir.path + "/s.db", command: "tail")
        let blob = try before.snapshot()
        try store.queue.write { db in
            try db.execute(sql: "INSERT INTO checkpoint (id, state, saved_at) VALUES (1, ?, 'then')", arguments: [blob])
        }

        var rest: [String] = []
        let after = Self.pipeline(dir) { rest.append("\($0) \($1)") }
        #expect(try after.restore(rows: { try store.loadLiveState(row: $0) }) == false)
        let saved = try #require(try store.loadCheckpoint())
        try after.restore(saved)
        after.markAllChanged()
        _ = after.runIncrementally(inputs: [.init(path: inputs[12])], deferIncomplete: false)
        try store.write(files: [], events: [], sessions: [], checkpoint: try after.checkpointChanges())
        #expect(try store.loadCheckpoint() == nil, "the blob is gone")
        for input in inputs.dropFirst(13) {
            let p = Self.pipeline(dir) { rest.append("\($0) \($1)") }
            #expect(try p.restore(rows: { try store.loadLiveState(row: $0) }))
            _ = p.runIncrementally(inputs: [.init(path: input)], deferIncomplete: false)
            try store.write(files: [], events: [], sessions: [], checkpoint: try p.checkpointChanges())
        }
        #expect(first + rest == reference)
    }

    /// An account whose calls carry no identifier (no address, agent, key or principal) still has a row,
    /// which counts in the population: it is saved too (a restored graph had one account fewer, and
    /// every "k of N accounts" of the shared-identity evidence moved).
    @Test func anAccountWithoutIdentifiersIsSavedToo() {
        var graph = IdentityGraph()
        graph.tracking = true
        graph.observe(
            CallObservation(
                accountKey: 42, eventKey: 1, time: 0, sourceIP: nil, country: .unknown, isSignIn: false, agentKey: 0,
                accessKeyKey: 0, principalKey: 0, isMachine: false))
        graph.settle()
        let changes = graph.takeChanges()
        #expect(changes.rows.map(\.account) == [42])
        var restored = IdentityGraph()
        let ok = restored.restore(rows: changes.rows, owners: [])
        #expect(ok)
        #expect(restored.population == 1)
    }

    /// A row that cannot be read is named, with what to do; nothing is restored silently in part.
    @Test func anUnreadableRowIsNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let inputs = Self.world(dir, accounts: 4, hours: 3)
        let p = Self.pipeline(dir) { _, _ in }
        p.startCheckpoints()
        _ = p.runIncrementally(inputs: inputs.map { .init(path: $0) }, deferIncomplete: false)
        let store = try Store(path: dir.path + "/s.db", command: "tail")
        try store.write(files: [], events: [], sessions: [], checkpoint: try p.checkpointChanges())
        try store.queue.write { db in
            try db.execute(
                sql: "UPDATE live_state SET value = x'00ff' WHERE part = ?", arguments: [LivePart.heldSlice.rawValue])
        }
        let q = Self.pipeline(dir) { _, _ in }
        #expect {
            try q.restore(rows: { try store.loadLiveState(row: $0) })
        } throws: { error in
            "\(error)".contains("live_state, part 13") && "\(error)".contains("move the store aside")
        }
    }
}
