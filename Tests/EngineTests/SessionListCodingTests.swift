import Foundation
import GRDB
import NormalizedRecords
@testable import Pipeline
import Sessions
@testable import Store
import TestSupport
import Testing
import UsageModel

/// The sessions an account keeps for look-back are saved in a compact positional form: they come back
/// equal, rows of the earlier Codable form are still read, and a damaged row is named.
@Suite struct SessionListCodingTests {
    static func event(
        _ action: ComputeAction, _ time: EpochSeconds, account: String = "123456789012", resource: String = "i-0abc",
        path: String, position: InputPosition, ip: IPAddress? = nil, principal: String? = nil, hours: Double = 0
    ) -> UsageEvent {
        var e = UsageEvent(
            provider: .aws, action: action, time: time, accountID: account, resourceID: resource,
            instanceType: action == .usage ? nil : "p5.48xlarge", instanceCount: action == .usage ? 3 : 1,
            region: "us-east-1",
            sourceIP: ip, principal: principal,
            userAgent: principal == nil ? nil : "aws-cli/2.15.0 md/command#ec2.run-instances",
            eventID: "e-\(time)-\(action)", eventName: action == .usage ? "BoxUsage:p5.48xlarge" : "RunInstances",
            usageSeconds: action == .usage ? 3600 : 0, usageHours: hours,
            origin: EventOrigin(path: path, position: position))
        if action == .usage { e.usageRecords = 7 }
        return e
    }

    static let lists: [[Session]] = [
        [],
        [
            Session(
                id: "s-1", provider: .aws, accountID: "123456789012", resourceID: "i-0abc", instanceType: "p5.48xlarge",
                instanceCount: 1, start: 1_772_323_200, end: 1_772_330_400, open: false, regions: ["us-east-1"],
                events: [
                    event(
                        .launch, 1_772_323_200, path: "/logs/AWSLogs/1/CloudTrail/us-east-1/2026/03/01/a.json.gz",
                        position: .lineColumn(1, 48_213), ip: IPAddress(v4: 0xCB00_7109),
                        principal: "arn:aws:iam::1:user/ops"),
                    event(
                        .stop, 1_772_330_400, path: "/logs/AWSLogs/1/CloudTrail/us-east-1/2026/03/01/b.json.gz",
                        position: .lineColumn(1, 9), ip: IPAddress(value: UInt128(0x2001_0db8) << 96 | 1),
                        principal: "arn:aws:iam::1:user/ops"),
                ]),
            Session(
                id: "s-2", provider: .azure, accountID: "sub-é", resourceID: "/subscriptions/x/vm", instanceType: nil,
                instanceCount: 2, start: -5, end: 0, open: true, regions: [],
                events: [
                    event(
                        .usage, -5, account: "sub-é", resource: "/subscriptions/x/vm", path: "cur.csv",
                        position: .line(12), hours: 2.75),
                    event(
                        .usage, 0, account: "sub-é", resource: "/subscriptions/x/vm", path: "cur.csv",
                        position: .offset(1 << 40), hours: 0.1),
                    event(.failed, 0, account: "other", resource: "r", path: "", position: .file),
                    event(.terminate, 0, account: "other", resource: "r", path: "/logs/z", position: .file),
                ]),
        ],
    ]

    @Test(arguments: lists)
    func aListComesBackEqual(_ sessions: [Session]) throws {
        let bytes = SessionListCoding.encode(sessions)
        #expect(SessionListCoding.isCompact(bytes))
        #expect(try SessionListCoding.decode(bytes) == sessions)
        // Smaller than the Codable form it replaces.
        if !sessions.isEmpty { #expect(bytes.count * 2 < (try CheckpointCoder.encode(sessions)).count) }
    }

    @Test func aCutOrLengthenedListIsRefused() throws {
        let bytes = SessionListCoding.encode(Self.lists[1])
        for cut in [bytes.count - 1, bytes.count / 2, SessionListCoding.magic.count + 3] {
            #expect(throws: NormalizedRecordError.self) { try SessionListCoding.decode(bytes.prefix(cut)) }
        }
        #expect(throws: NormalizedRecordError.self) { try SessionListCoding.decode(bytes + [0]) }
    }

    /// A store written by the previous version holds look-back rows in the Codable form: they are read,
    /// and a damaged compact row is named with what to do.
    @Test func rowsOfTheEarlierFormAreReadAndDamagedOnesNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let p = LiveCheckpointTests.pipeline(dir) { _, _ in }
        p.startCheckpoints()
        _ = p.runIncrementally(
            inputs: LiveCheckpointTests.world(dir, accounts: 12, hours: 40).map { .init(path: $0) },
            deferIncomplete: false)
        #expect(!p.lookback.isEmpty, "the world leaves sessions for look-back")
        let store = try Store(path: dir.path + "/s.db", command: "tail")
        try store.write(files: [], events: [], sessions: [], checkpoint: try p.checkpointChanges())
        let part = LivePart.lookback.rawValue
        let rows = try store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM live_state WHERE part = ?", arguments: [part])
                .map { ($0["key"] as Data, $0["value"] as Data) }
        }
        #expect(rows.count == p.lookback.count && rows.allSatisfy { SessionListCoding.isCompact($0.1) })

        // The earlier form.
        try store.queue.write { db in
            for (key, value) in rows {
                let old = try CheckpointCoder.encode(try SessionListCoding.decode(value))
                try db.execute(
                    sql: "UPDATE live_state SET value = ? WHERE part = ? AND key = ?", arguments: [old, part, key])
            }
        }
        let q = LiveCheckpointTests.pipeline(dir) { _, _ in }
        #expect(try q.restore(rows: { try store.loadLiveState(row: $0) }))
        #expect(q.lookback == p.lookback)

        // A damaged compact row.
        try store.queue.write { db in
            try db.execute(
                sql: "UPDATE live_state SET value = ? WHERE part = ? AND key = ?",
                arguments: [SessionListCoding.encode(p.lookback.first!.value).dropLast(2), part, rows[0].0])
        }
        let r = LiveCheckpointTests.pipeline(dir) { _, _ in }
        #expect {
            try r.restore(rows: { try store.loadLiveState(row: $0) })
        } throws: { error in
            "\(error)".contains("live_state, part 15") && "\(error)".contains("move the store aside")
        }
    }
}
