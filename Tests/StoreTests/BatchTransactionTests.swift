import Foundation
import GRDB
import Store
import TestSupport
import Testing
import UsageModel

/// `tail`'s batch transaction: rows written by the store's writer thread while the batch is read, all
/// of the batch committed at once or none of it.
@Suite struct BatchTransactionTests {
    static func file(_ path: String) -> Store.FileRecord {
        Store.FileRecord(path: path, size: 10, fingerprint: "fp:" + path, records: 1, rejected: 0)
    }

    static func event(_ id: String, file: String) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .launch, time: 1_772_000_000, accountID: "111122223333", resourceID: "i-0\(id)",
            instanceType: "p5.48xlarge", sourceIP: IPAddress.parse("203.0.113.7"), eventID: id,
            eventName: "RunInstances",
            origin: EventOrigin(path: file, position: .line(1)))
    }

    /// Another connection, which waits while a closing one checkpoints.
    static func reader(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    static func counts(_ path: String) throws -> [Int] {
        try reader(path).read { db in
            try ["files", "events", "live_meta"].map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? -1 }
        }
    }

    /// Rows are invisible until the commit, then all there; more inputs than the writer's capacity do not
    /// block (the writer drains them while they are added).
    @Test(arguments: [1, 3, 40])
    func rowsAreCommittedTogether(inputs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        let store = try Store(path: path)
        let transaction = store.beginBatch(capacity: 2)
        for i in 0..<inputs {
            let name = "f\(i).json"
            transaction.add(files: [Self.file(name)], events: [Self.event("e-\(i)", file: name)], calls: [])
        }
        // Another connection (WAL) sees the last commit: nothing of this batch yet.
        #expect(try Self.counts(path) == [0, 0, 0])
        var changes = LiveStateChanges()
        changes.meta = Data([1, 2, 3])
        transaction.addLiveState(changes)
        let alerts = try transaction.commit(offsets: [], outbox: true)
        #expect(alerts.isEmpty)
        #expect(try Self.counts(path) == [inputs, inputs, 1])
        // The store is free again for its other uses.
        #expect(try store.hasRead(path: "f0.json", fingerprint: "fp:f0.json"))
    }

    /// Once a batch has committed (or been abandoned) the store lives only as long as its callers hold it:
    /// the writer thread, which outlives the outcome it tells by a moment, has let it go — so its writer
    /// lock is free for the next run at once (a `tail --once` run and the next one in the same process:
    /// seen as "the store is being written by process …" now and then before).
    @Test(arguments: [false, true])
    func theStoreIsLetGoOnceABatchHasEnded(abandoned: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        for round in 0..<50 {
            weak var held: Store?
            do {
                let store = try Store(path: path)
                held = store
                let transaction = store.beginBatch()
                let name = "r\(round).json"
                transaction.add(files: [Self.file(name)], events: [], calls: [])
                if abandoned {
                    transaction.abandon()
                } else {
                    _ = try transaction.commit(offsets: [], outbox: false)
                }
            }
            #expect(held == nil, "round \(round)")
        }
        #expect(try Self.counts(path)[0] == (abandoned ? 0 : 50))
    }

    @Test func anAbandonedBatchLeavesNothing() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        let store = try Store(path: path)
        let transaction = store.beginBatch()
        transaction.add(files: [Self.file("a.json")], events: [Self.event("e-a", file: "a.json")], calls: [])
        transaction.abandon()
        #expect(try Self.counts(path) == [0, 0, 0])
        #expect(try !store.hasRead(path: "a.json", fingerprint: "fp:a.json"))
    }

    /// A row the database refuses: the commit throws naming the store, nothing of the batch is kept, and
    /// the inputs added after the failure (more than the capacity) do not wait on a stopped writer.
    @Test func aRefusedRowFailsTheWholeBatch() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        do { _ = try Store(path: path) }
        try DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event_id = 'e-bad'
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """)
        }
        let store = try Store(path: path)
        let transaction = store.beginBatch(capacity: 1)
        transaction.add(files: [Self.file("ok.json")], events: [Self.event("e-ok", file: "ok.json")], calls: [])
        transaction.add(files: [Self.file("bad.json")], events: [Self.event("e-bad", file: "bad.json")], calls: [])
        for i in 0..<5 {
            transaction.add(
                files: [Self.file("later\(i).json")], events: [Self.event("e-l\(i)", file: "later\(i).json")], calls: []
            )
        }
        #expect {
            _ = try transaction.commit(offsets: [], outbox: false)
        } throws: { error in
            let message = "\(error)"
            return message.contains(path) && message.contains("refused by the test")
        }
        #expect(try Self.counts(path) == [0, 0, 0])
    }

    /// Commits asked for without waiting (as ingest does between batches): each next batch begins while
    /// the one before commits, and they commit in the order they were begun — the first batch's row of
    /// an event id is the one kept, whichever writer thread reached the store first.
    @Test func batchesBegunWhileOthersCommitCommitInOrder() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        weak var released: Store?
        do {
            let store = try Store(path: path)
            released = store
            var batches: [BatchTransaction] = []
            for i in 0..<20 {
                let batch = store.beginBatch(capacity: 1)
                let name = "f\(i).json"
                batch.add(
                    files: [Self.file(name)],
                    events: [Self.event("e-same", file: name), Self.event("e-\(i)", file: name)], calls: [])
                batch.requestCommit(offsets: [], outbox: false)
                batches.append(batch)
            }
            for batch in batches { #expect(try batch.committed().isEmpty) }
            #expect(batches.allSatisfy { $0.hasEnded })
        }
        // No cycle between the store and its batches: it is released (and closed) once the writer
        // threads have ended.
        let deadline = MonotonicClock.seconds() + 30
        while released != nil && MonotonicClock.seconds() < deadline { usleep(1000) }
        #expect(released == nil)
        #expect(try Self.counts(path) == [20, 21, 0])
        let origin = try Self.reader(path).read { db in
            try String.fetchOne(db, sql: "SELECT origin FROM events WHERE event_id = 'e-same'")
        }
        #expect(origin == "f0.json:1")
    }

    /// Events and calls are bound value by value (not through GRDB's arguments): each column holds the
    /// text GRDB would have bound — times and addresses as printed, origins as described, text up to a
    /// NUL byte, NULL for nil and the empty text for "".
    @Test func rowsHoldWhatTheirValuesPrint() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        let store = try Store(path: path)
        let positions: [InputPosition] = [.file, .line(7), .lineColumn(1, 30_243), .offset(-1), .offset(1 << 40)]
        let addresses: [IPAddress?] = [
            IPAddress.parse("203.0.113.7"), IPAddress.parse("0.0.0.0"), IPAddress.parse("2001:db8::1"), nil,
        ]
        let times: [EpochSeconds] = [1_772_330_400, 0, -86_401, 253_402_300_800, -62_167_219_201]
        var events: [UsageEvent] = []
        for (i, position) in positions.enumerated() {
            var e = Self.event("e-\(i)", file: "dir/ü \(i).json.gz")
            e.origin.position = position
            e.sourceIP = addresses[i % addresses.count]
            e.time = times[i % times.count]
            e.instanceType = i == 1 ? nil : e.instanceType
            e.principal = i == 2 ? "" : "arn:aws:iam::111122223333:user/ops"
            e.userAgent = i == 3 ? "before\u{0}after" : nil
            e.region = i == 4 ? "" : "us-east-1"
            e.usageSeconds = Int64(i) * 3600
            e.usageHours = Double(i) / 3
            events.append(e)
        }
        let call = CallObservation(
            accountKey: 1, eventKey: 0xDEAD_BEEF, time: times[3], sourceIP: addresses[2], country: CountryCode("CN")!,
            isSignIn: false)
        let calls = [Store.CallRecord(call: call, accountID: "111122223333", restricted: true)]
        try store.write(files: [Self.file("a.json")], events: events, calls: calls, sessions: [])
        let queue = try DatabaseQueue(path: path)
        try queue.read { db in
            for e in events {
                let row = try #require(
                    try Row.fetchOne(db, sql: "SELECT * FROM events WHERE event_id = ?", arguments: [e.eventID]))
                #expect(row["time"] as String == Timestamp.format(e.time))
                #expect(row["origin"] as String == e.origin.description)
                #expect(row["source_ip"] as String? == e.sourceIP?.description)
                #expect(row["instance_type"] as String? == e.instanceType)
                #expect(row["principal"] as String? == e.principal)
                #expect(row["user_agent"] as String? == e.userAgent.map { String($0.prefix { $0 != "\u{0}" }) })
                #expect(row["region"] as String == e.region)
                #expect(row["instance_count"] as Int == e.instanceCount)
                #expect(row["usage_seconds"] as Int64 == e.usageSeconds)
                #expect(row["usage_hours"] as Double == e.usageHours)
                #expect(row["provider"] as String == "aws")
                #expect(row["action"] as String == "launch")
            }
            let stored = try #require(try Row.fetchOne(db, sql: "SELECT * FROM calls"))
            #expect(stored["event_key"] as String == StableHash.hex(0xDEAD_BEEF))
            #expect(stored["time"] as String == Timestamp.format(times[3]))
            #expect(stored["source_ip"] as String? == addresses[2]?.description)
            #expect(stored["country"] as String == "CN")
            #expect(stored["sign_in"] as Bool == false)
            #expect(stored["restricted"] as Bool == true)
        }
    }
}
