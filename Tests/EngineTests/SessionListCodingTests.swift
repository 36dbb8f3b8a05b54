import Catalog
import Detection
import Foundation
import GRDB
import NormalizedRecords
import Ownership
@testable import Pipeline
import Sessions
@testable import Store
import TestSupport
import Testing
import UsageModel

/// The sessions an account keeps for look-back are held packed (``RememberedSession``): an alert of one
/// is the alert of the whole session; rows of `tail`'s live state come back equal, rows of the earlier
/// forms (whole sessions, Codable) are still read, and a damaged row is named.
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
            // Audit and billing (fused): the launch's caller and address are the `sources` evidence.
            Session(
                id: "s-3", provider: .aws, accountID: "123456789012", resourceID: "i-0def", instanceType: "p5.48xlarge",
                instanceCount: 1, start: 1_772_323_200, end: 1_772_337_600, open: false, regions: ["us-east-1"],
                events: [
                    event(
                        .launch, 1_772_323_200, resource: "i-0def", path: "/logs/ct/a.json.gz",
                        position: .lineColumn(1, 7), ip: IPAddress(v4: 0xCB00_7109),
                        principal: "arn:aws:iam::1:user/ops"),
                    event(.usage, 1_772_323_200, resource: "i-0def", path: "/cur/1.csv", position: .line(3), hours: 3),
                    event(.usage, 1_772_334_000, resource: "i-0def", path: "/cur/2.csv", position: .line(9), hours: 1),
                    event(
                        .terminate, 1_772_337_600, resource: "i-0def", path: "/logs/ct/a.json.gz",
                        position: .lineColumn(1, 90), ip: IPAddress(v4: 0xC633_6401), principal: "arn:aws:iam::1:user/x"
                    ),
                ]),
        ],
    ]

    /// Its fields, and of its events what is kept: their ids, user agents, regions and the callers of
    /// all but the launch are not.
    @Test(arguments: lists[1] + bounds)
    func aRememberedSessionKeepsWhatAnAlertOfItReads(_ whole: Session) {
        let back = RememberedSession(whole).session
        #expect(back.id == whole.id && back.provider == whole.provider && back.accountID == whole.accountID)
        #expect(back.resourceID == whole.resourceID && back.instanceType == whole.instanceType)
        #expect(back.instanceCount == whole.instanceCount && back.start == whole.start && back.end == whole.end)
        #expect(back.open == whole.open && back.regions == whole.regions)
        #expect(back.events.map(\.origin) == whole.events.map(\.origin))
        #expect(back.events.map(\.action) == whole.events.map(\.action))
        #expect(back.events.map(\.time) == whole.events.map(\.time))
        #expect(back.events.map(\.usageHours) == whole.events.map(\.usageHours))
        #expect(back.events.map(\.usageRecords) == whole.events.map(\.usageRecords))
        #expect(back.events.map(\.usageSeconds) == whole.events.map(\.usageSeconds))
        #expect(back.billedInstanceHours == whole.billedInstanceHours && back.instanceHours == whole.instanceHours)
        let launch = { (s: Session) in s.events.first { $0.action == .launch || $0.action == .start } }
        #expect(launch(back)?.principal == launch(whole)?.principal)
        #expect(launch(back)?.sourceIP == launch(whole)?.sourceIP)
        #expect(launch(back)?.eventName == launch(whole)?.eventName)
        #expect(back.events.allSatisfy { $0.userAgent == nil && $0.eventID.isEmpty })
        #expect(RememberedSession(whole).isSession(whole.id) && !RememberedSession(whole).isSession(whole.id + "x"))
        #expect(whole.id.isEmpty || !RememberedSession(whole).isSession(String(whole.id.dropLast())))
    }

    /// Assessed again, a remembered session gives the alert its whole session gives: the same score,
    /// evidence (who launched it, from where, the billed hours) and event origins.
    @Test(arguments: lists[1] + bounds.prefix(1))
    func anAlertOfARememberedSessionIsTheWholeSessions(_ whole: Session) throws {
        var mappings = MappingTable()
        var problems: [Diagnostic] = []
        mappings.add(
            text: """
                provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
                aws,123456789012,,C-1,CN,2025-01-01T00:00:00Z,
                azure,sub-é,,C-2,CN,2025-01-01T00:00:00Z,
                """, path: "m.csv", problems: &problems)
        let detector = Detector(
            catalog: .builtIn, jurisdictions: .builtIn, mappings: mappings, resellers: ResellerGraph(),
            config: .unfitted)
        var typed = whole
        typed.instanceType = "p5.48xlarge"
        let alert = { (s: Session) in detector.alert(for: detector.assess(s, activity: nil)) }
        let expected = try #require(alert(typed), "a session of an account declared in CN alerts")
        #expect(alert(RememberedSession(typed).session) == expected)
    }

    /// Values at their bounds: a long id, many instances, a day of merged hourly billing lines from many
    /// files, a launch that is not the first event (a start after billing), negative billed seconds.
    static let bounds: [Session] = {
        var usage: [UsageEvent] = (0..<14).map { i in
            var e = event(
                .usage, 1_772_323_200 + Int64(i) * 86_400, resource: "tj", path: "/cur/\(i).csv",
                position: .line(i + 2),
                hours: 24)
            e.usageRecords = i == 0 ? 720 : 24
            e.usageSeconds = i == 1 ? -3600 : 86_400
            return e
        }
        usage.append(
            event(
                .start, 1_772_323_200 + 15 * 86_400, resource: "tj", path: "/ct/s.json.gz",
                position: .lineColumn(1, 1 << 20),
                ip: IPAddress(v4: 0x0A00_0001),
                principal: "arn:aws:sts::1:assumed-role/train/" + String(repeating: "x", count: 200)))
        usage.append(event(.stop, 1_772_323_200 + 16 * 86_400, resource: "tj", path: "/ct/s.json.gz", position: .file))
        return [
            Session(
                id: "s-" + String(repeating: "f", count: 200), provider: .aws, accountID: "123456789012",
                resourceID: "tj",
                instanceType: "p4d.24xlarge", instanceCount: 200, start: 1_772_323_200,
                end: 1_772_323_200 + 16 * 86_400,
                open: false, regions: ["us-east-1", "eu-west-1"], events: usage),
            // Billing alone, one line of a month's hourly records, and an empty id: values past the bytes
            // that follow them.
            Session(
                id: "", provider: .oci, accountID: "", resourceID: "", instanceType: nil, instanceCount: 200, start: 0,
                end: 0, open: false, regions: [], events: [usage[0]]),
        ]
    }()

    @Test(arguments: lists + [bounds])
    func aListComesBackEqual(_ sessions: [Session]) throws {
        let kept = sessions.map(RememberedSession.init)
        let bytes = SessionListCoding.encode(kept)
        #expect(SessionListCoding.isCompact(bytes))
        #expect(try SessionListCoding.decode(bytes) == kept)
        // Smaller than the Codable form and the whole sessions of the forms it replaces.
        if !sessions.isEmpty {
            #expect(bytes.count * 3 < (try CheckpointCoder.encode(sessions)).count)
            #expect(bytes.count < SessionListCoding.encodeWholeSessions(sessions).count)
        }
        // A row of whole sessions (version 1) is kept as look-back keeps them.
        #expect(try SessionListCoding.decode(SessionListCoding.encodeWholeSessions(sessions)) == kept)
    }

    @Test func aCutOrLengthenedListIsRefused() throws {
        let bytes = SessionListCoding.encode(Self.lists[1].map(RememberedSession.init))
        for cut in [bytes.count - 1, bytes.count / 2, SessionListCoding.magic.count + 3] {
            #expect(throws: NormalizedRecordError.self) { try SessionListCoding.decode(bytes.prefix(cut)) }
        }
        #expect(throws: NormalizedRecordError.self) { try SessionListCoding.decode(bytes + [0]) }
    }

    /// A damaged session is named by its place in the row and its byte offset there; a row of a later
    /// version by its version.
    @Test func aDamagedSessionOrALaterVersionIsNamed() throws {
        let kept = Self.lists[1].map(RememberedSession.init)
        // A row of two sessions whose second's length says one byte less than it packed: it unpacks short.
        let magic = SessionListCoding.magic.count
        let second = SessionListCoding.encode([kept[1]])
        let packed = second.withUnsafeBytes { raw in
            var reader = NormalizedRecordReader(raw, path: "t")
            for _ in 0...magic { _ = try? reader.byte() }
            let length = (try? reader.count()) ?? 0
            return Array(raw[reader.at..<(reader.at + length)])
        }
        var w = NormalizedRecordWriter()
        w.bytes = Array(SessionListCoding.encode([kept[0]]))
        w.bytes[magic] = 2
        w.count(packed.count - 1)
        let start = w.bytes.count
        w.bytes += packed
        #expect {
            try SessionListCoding.decode(Data(w.bytes))
        } throws: { error in
            guard let fault = error as? NormalizedRecordError else { return false }
            return fault.message.hasPrefix("session 2 of the row: ") && fault.offset > start
                && fault.offset < start + packed.count
        }
        var later = SessionListCoding.encode(kept)
        later[SessionListCoding.magic.count - 1] = 9
        #expect(SessionListCoding.isCompact(later))
        #expect {
            try SessionListCoding.decode(later)
        } throws: { error in
            "\(error)".contains("look-back row version 9 is not one this chiptrail reads")
        }
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

        // The earlier forms: Codable, then whole sessions.
        try store.queue.write { db in
            for (key, value) in rows {
                let old = try CheckpointCoder.encode(try SessionListCoding.decode(value).map(\.session))
                try db.execute(
                    sql: "UPDATE live_state SET value = ? WHERE part = ? AND key = ?", arguments: [old, part, key])
            }
        }
        let q = LiveCheckpointTests.pipeline(dir) { _, _ in }
        #expect(try q.restore(rows: { try store.loadLiveState(row: $0) }))
        #expect(q.lookback == p.lookback)
        try store.queue.write { db in
            for (key, value) in rows {
                let old = SessionListCoding.encodeWholeSessions(try SessionListCoding.decode(value).map(\.session))
                try db.execute(
                    sql: "UPDATE live_state SET value = ? WHERE part = ? AND key = ?", arguments: [old, part, key])
            }
        }
        let v = LiveCheckpointTests.pipeline(dir) { _, _ in }
        #expect(try v.restore(rows: { try store.loadLiveState(row: $0) }))
        #expect(v.lookback == p.lookback)

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
