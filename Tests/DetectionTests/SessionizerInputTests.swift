import LogFormats
import Sessions
import TestSupport
import Testing
import UsageModel

// The sessionizer over the events each kind of record makes: billing lines, audit-log launches (one
// that failed, one without a type), audit and billing of one instance fused, clocks that disagree.
// (The decoders' own output is checked in FormatTests.)

/// Decodes `text` in one buffer (chunking is the decoders' concern, tested in FormatTests).
func decodeWhole(_ text: String, with decoder: some LogDecoder) -> DecodedBatch {
    var decoder = decoder
    var batch = DecodedBatch()
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { decoder.decode(UnsafeRawBufferPointer($0), isFinal: true, into: &batch) }
    return batch
}

/// Sessions from billing lines, and audit and billing records of one resource fused into one session.
@Suite struct BillingSessionTests {
    func usage(_ hour: Int64, resource: String = "i-1", hours: Double = 1) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .usage, time: 1_772_323_200 + hour * 3600, accountID: "111122223333",
            resourceID: resource,
            instanceType: "p5.48xlarge", eventID: "u\(hour)\(resource)", eventName: "BoxUsage", usageSeconds: 3600,
            usageHours: hours,
            origin: EventOrigin(path: "cur.csv", position: .line(Int(hour) + 2)))
    }

    @Test(arguments: [(Int64(2 * 3600), [3.0, 1.0]), (Int64(6 * 3600), [9.0])])
    func consecutivePeriodsMergeUpToTheGapBound(gap: Int64, hours: [Double]) {
        var sessionizer = Sessionizer(allowedLateness: 3600, usageGap: gap)
        for h: Int64 in [0, 1, 2, 8] { sessionizer.observe(usage(h)) }
        let sessions = sessionizer.finish(at: 1_772_323_200 + 9 * 3600)
        #expect(sessions.map(\.hours) == hours)
        #expect(sessions.map(\.billedInstanceHours) == (gap > 3 * 3600 ? [4] : [3, 1]))
    }

    @Test func billingAloneClosesOnceTheWatermarkPassesGapAndLateness() {
        var sessionizer = Sessionizer(allowedLateness: 3600, usageGap: 2 * 3600)
        for h: Int64 in [0, 1, 2] { sessionizer.observe(usage(h)) }
        #expect(sessionizer.advance(to: 1_772_323_200 + 5 * 3600).isEmpty)  // 3 h + 2 h gap + 1 h lateness not yet
        let closed = sessionizer.advance(to: 1_772_323_200 + 6 * 3600)
        #expect(closed.count == 1)
        #expect(closed.first?.open == false && closed.first?.hours == 3)
        #expect(sessionizer.liveResources == 0)
    }

    /// Generated pairs: for each instance a CloudTrail launch and termination, and the CUR lines of the
    /// hours it ran, decoded by the real decoders; every pair is one session with both sources.
    @Test(arguments: [1, 2, 3])
    func auditAndBillingOfOneInstanceAreOneSession(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var trail: [String] = []
        var cur =
            "lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,product/instanceType,pricing/unit\n"
        var expected: [String: (hours: Int, start: Int64)] = [:]
        let base: Int64 = 1_772_323_200
        for i in 0..<20 {
            let id = "i-\(seed)f\(String(i, radix: 16))"
            let startHour = Int64(rng.next() % 48)
            let hours = Int(1 + rng.next() % 12)
            let offset = Int64(rng.next() % 3000)  // launched within the first hour
            let launch = base + startHour * 3600 + offset
            let terminate = base + (startHour + Int64(hours)) * 3600 + offset
            trail.append(
                runInstancesRecord(
                    type: "p5.48xlarge", ids: [id], account: "111122223333", time: Timestamp.format(launch)))
            trail.append(
                lifecycleRecord(
                    "TerminateInstances", ids: [id], account: "111122223333", time: Timestamp.format(terminate)))
            for h in 0...hours {
                let s = base + (startHour + Int64(h)) * 3600
                // The first and last hours are partial.
                let amount = h == 0 ? Double(3600 - offset) / 3600 : h == hours ? Double(offset) / 3600 : 1
                cur +=
                    "111122223333,Usage,\(Timestamp.format(s)),\(Timestamp.format(s + 3600)),BoxUsage:p5.48xlarge,\(id),\(amount),p5.48xlarge,Hrs\n"
            }
            expected[id] = (hours, launch)
        }
        let audit = decodeWhole(
            "{\"Records\":[" + trail.joined(separator: ",") + "]}", with: CloudTrailDecoder(path: "trail.json"))
        let billing = decodeWhole(cur, with: BillingDecoder(path: "cur.csv"))
        #expect(billing.diagnostics.isEmpty && audit.diagnostics.isEmpty)
        var sessionizer = Sessionizer()
        // Billing arrives after the trail, in another file; order must not matter.
        (billing.allEvents + audit.events).forEach { sessionizer.observe($0) }
        let sessions = sessionizer.finish(at: base + 100 * 3600)
        #expect(sessions.count == 20)
        for s in sessions {
            guard let want = expected[s.resourceID] else {
                Issue.record("unexpected session \(s.resourceID)")
                continue
            }
            #expect(s.isFused, "\(s.resourceID)")
            #expect(s.start == want.start && !s.open)
            #expect(abs(s.billedInstanceHours - Double(want.hours)) < 1e-9)
            #expect(abs(s.instanceHours - Double(want.hours)) < 1e-9)
            let launch = s.events.first { $0.action == .launch }
            #expect(launch?.principal != nil && launch?.sourceIP != nil)
        }
    }
}

/// Launches as the audit-log decoders make them (FormatTests' gcp-audit.jsonl and an Azure VM write
/// without its size, built here event by event).
@Suite struct AuditSessionTests {
    static let project = "projects/proj-alpha-123/zones/us-central1-a/instances/"

    func gcp(
        _ action: ComputeAction, _ time: String, _ instance: String, type: String? = nil, count: Int = 1
    ) -> UsageEvent {
        UsageEvent(
            provider: .gcp, action: action, time: Timestamp.parse(time)!, accountID: "proj-alpha-123",
            resourceID: Self.project + instance, instanceType: type, instanceCount: count, eventID: "\(action)-\(time)",
            eventName: action.rawValue, origin: EventOrigin(path: "gcp.jsonl", position: .line(1)))
    }

    /// An insert whose operation ends in error (its `failed` event) leaves no session; a stop and a start
    /// between launch and delete make two runs of the launch's type and count.
    @Test func aFailedInsertLeavesNoSession() {
        var sessionizer = Sessionizer()
        [
            gcp(.launch, "2026-03-01T01:00:00Z", "n1-gpu", type: "nvidia-tesla-a100", count: 4),
            gcp(.stop, "2026-03-01T05:00:00Z", "n1-gpu"), gcp(.start, "2026-03-01T06:00:00Z", "n1-gpu"),
            gcp(.terminate, "2026-03-01T09:00:00Z", "n1-gpu"),
            gcp(.launch, "2026-03-01T02:00:00Z", "denied-1", type: "a2-highgpu-8g"),
            gcp(.failed, "2026-03-01T02:00:01Z", "denied-1"),
        ].forEach { sessionizer.observe($0) }
        let sessions = sessionizer.finish(at: 1_772_400_000)
        #expect(!sessions.contains { $0.resourceID.hasSuffix("denied-1") })
        let n1 = sessions.filter { $0.resourceID.hasSuffix("n1-gpu") }.sorted { $0.start < $1.start }
        #expect(n1.map(\.hours) == [4, 3])
        #expect(n1.allSatisfy { $0.instanceType == "nvidia-tesla-a100" && $0.instanceCount == 4 })
    }

    @Test func aVMWhoseSizeIsUnknownIsStillASession() {
        var sessionizer = Sessionizer()
        sessionizer.observe(
            UsageEvent(
                provider: .azure, action: .launch, time: 1_772_323_200, accountID: "s1",
                resourceID: "/subscriptions/s1/resourcegroups/r/providers/microsoft.compute/virtualmachines/v",
                instanceType: nil, eventID: "w-1", eventName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
                origin: EventOrigin(path: "a.json", position: .line(1))))
        #expect(sessionizer.finish(at: 1_772_330_000).count == 1)
    }
}

@Suite struct ClockSkewTests {
    func event(_ action: ComputeAction, _ time: EpochSeconds) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: action, time: time, accountID: "111122223333", resourceID: "i-skew",
            instanceType: action == .launch ? "p5.48xlarge" : nil, eventID: "\(action.rawValue)-\(time)",
            eventName: action.rawValue,
            origin: EventOrigin(path: "t.json", position: .line(1)))
    }

    @Test func aTerminationStampedJustBeforeItsLaunchEndsTheSession() {
        var sessionizer = Sessionizer(allowedLateness: 3600)
        sessionizer.observe(event(.launch, 1_772_330_400))
        sessionizer.observe(event(.terminate, 1_772_330_370))  // 30 s "before" the launch
        let closed = sessionizer.advance(to: 1_772_330_400 + 3600)
        #expect(closed.count == 1)
        #expect(closed.first?.open == false && closed.first?.hours == 0)
        #expect(sessionizer.liveResources == 0)
    }

    @Test func aStopBeforeTheInputFollowedByAStartIsANewRun() {
        var sessionizer = Sessionizer(allowedLateness: 3600)
        sessionizer.observe(event(.stop, 1_772_330_370))
        sessionizer.observe(event(.start, 1_772_330_400))
        #expect(sessionizer.advance(to: 1_772_330_400 + 7200).isEmpty)
        let open = sessionizer.finish(at: 1_772_330_400 + 7200)
        #expect(open.count == 1 && open.first?.open == true && open.first?.hours == 2)
    }
}

/// The accounts with live resources, asked by account key (the pipeline's tick asks for every account it
/// saw calls of): counted as resources come and go, and rebuilt from a snapshot.
@Suite struct LiveAccountsByKeyTests {
    func event(_ action: ComputeAction, _ time: EpochSeconds, account: String, resource: String) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: action, time: time, accountID: account, resourceID: resource,
            instanceType: action == .launch ? "p5.48xlarge" : nil, eventID: "\(action.rawValue)-\(resource)-\(time)",
            eventName: action.rawValue, origin: EventOrigin(path: "t.json", position: .line(1)))
    }

    @Test func anAccountIsLiveWhileOneOfItsResourcesIs() {
        let a = "111122223333"
        let b = "444455556666"
        let keys = [StableHash.hash(a), StableHash.hash(b), StableHash.hash("777788889999")]
        var sessionizer = Sessionizer(allowedLateness: 3600)
        let t = Int64(1_772_330_400)
        #expect(sessionizer.withLiveResources(keys: keys).isEmpty)
        sessionizer.observe(event(.launch, t, account: a, resource: "i-1"))
        sessionizer.observe(event(.launch, t, account: a, resource: "i-2"))
        sessionizer.observe(event(.launch, t, account: b, resource: "i-3"))
        #expect(sessionizer.withLiveResources(keys: keys) == [keys[0], keys[1]])
        // One of a's two ends: a is still live; b's ends: b is not.
        sessionizer.observe(event(.terminate, t + 600, account: a, resource: "i-1"))
        sessionizer.observe(event(.terminate, t + 600, account: b, resource: "i-3"))
        #expect(sessionizer.advance(to: t + 600 + 3600).count == 2)
        #expect(sessionizer.withLiveResources(keys: keys) == [keys[0]])
        var restored = Sessionizer(allowedLateness: 3600)
        restored.restore(sessionizer.snapshot)
        #expect(restored.withLiveResources(keys: keys) == [keys[0]])
        sessionizer.observe(event(.terminate, t + 900, account: a, resource: "i-2"))
        #expect(sessionizer.advance(to: t + 900 + 3600).count == 1)
        #expect(sessionizer.withLiveResources(keys: keys).isEmpty)
    }
}
