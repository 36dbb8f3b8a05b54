@testable import Sessions
import Testing
import UsageModel

/// A resource's closed runs are remembered for billing lines delivered late or again
/// (`billing_redelivery`, 40 days); runs that overlap or touch are remembered as one, so a resource
/// stopped and started often holds a run per stretch, not one per session (its list is its live-state
/// row, written again at each change).
@Suite struct ClosedRunMemoryTests {
    static let start = Timestamp.parse("2026-03-01T00:00:00Z")!

    static func event(_ action: ComputeAction, at time: EpochSeconds, _ id: String) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: action, time: time, accountID: "123456789012", resourceID: "i-0stops",
            instanceType: "p5.48xlarge", eventID: id, eventName: action == .stop ? "StopInstances" : "StartInstances",
            origin: EventOrigin(path: "trail.json", position: .line(1)))
    }

    static func remembered(_ s: Sessionizer) -> [Sessionizer.ClosedRun] {
        s.snapshot.closedRunsByKey?.flatMap(\.runs) ?? []
    }

    /// Six sessions of an hour, each started again at its stop (touching): one remembered run of six
    /// hours; then a session a day later, apart: two.
    @Test func runsThatTouchAreRememberedAsOne() {
        var s = Sessionizer(allowedLateness: 600)
        for n in 0..<6 {
            let t = Self.start + Int64(n) * 3600
            s.observe(Self.event(n == 0 ? .launch : .start, at: t, "on-\(n)"))
            s.observe(Self.event(.stop, at: t + 3600, "off-\(n)"))
            _ = s.advance(to: t + 3600 + 600)
        }
        #expect(Self.remembered(s).count == 1)
        #expect(Self.remembered(s).first?.start == Self.start)
        #expect(Self.remembered(s).first?.end == Self.start + 6 * 3600)
        s.observe(Self.event(.start, at: Self.start + 86_400, "later-on"))
        s.observe(Self.event(.stop, at: Self.start + 86_400 + 3600, "later-off"))
        _ = s.advance(to: Self.start + 86_400 + 3600 + 600)
        #expect(Self.remembered(s).count == 2)
    }

    /// A billed hour of the resource within its runs: taken by them (`lateUsage`), not a session.
    static func billed(at time: EpochSeconds) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .usage, time: time, accountID: "123456789012", resourceID: "i-0stops",
            instanceType: "p5.48xlarge", eventID: "bill-\(time)", eventName: "BoxUsage:p5.48xlarge",
            usageSeconds: 3600, usageHours: 1, origin: EventOrigin(path: "cur.csv", position: .line(2)))
    }

    /// A sessionizer that remembers two closed runs of the resource (six hours, then one a day later).
    static func twoRuns(tracking: Bool = false) -> Sessionizer {
        var s = Sessionizer(allowedLateness: 600)
        s.tracking = tracking
        s.observe(Self.event(.launch, at: Self.start, "on"))
        s.observe(Self.event(.stop, at: Self.start + 6 * 3600, "off"))
        s.observe(Self.event(.start, at: Self.start + 86_400, "later-on"))
        s.observe(Self.event(.stop, at: Self.start + 86_400 + 3600, "later-off"))
        _ = s.advance(to: Self.start + 86_400 + 3600 + 600)
        return s
    }

    /// Closed runs are `tail`'s live-state rows of their own, by the hash of the resource's key: restored
    /// from them, a sessionizer holds the same runs and takes a billed hour within them as before.
    @Test func closedRunsRestoredFromTheirRowsTakeTheirHoursAgain() throws {
        var s = Self.twoRuns(tracking: true)
        let changes = s.takeChanges { _ in [] }
        #expect(changes.closedRuns.count == 1)
        let row = try #require(changes.closedRuns.first?.row)
        #expect(row.runs.count == 2)
        var restored = Sessionizer(allowedLateness: 600)
        restored.restore(resources: [], closedRuns: [row], emitted: [], lastPrune: s.snapshot.lastPrune)
        #expect(Self.remembered(restored).map(\.start) == Self.remembered(s).map(\.start))
        // Taken by the runs: the caller is told they added nothing (and assesses nothing anew).
        let inFirst = restored.observe(Self.billed(at: Self.start + 2 * 3600))
        let inSecond = restored.observe(Self.billed(at: Self.start + 86_400))
        #expect(!inFirst && !inSecond)
        #expect(restored.lateUsage == 2)
        // An hour outside them is new; the same hour again (held) adds nothing.
        let outside = restored.observe(Self.billed(at: Self.start + 3 * 86_400))
        let again = restored.observe(Self.billed(at: Self.start + 3 * 86_400))
        #expect(outside && !again)
        #expect(restored.lateUsage == 3)
        #expect(restored.finish(at: Self.start + 4 * 86_400).map(\.billedInstanceHours) == [1])
    }

    /// Rows and snapshots of earlier versions kept the runs by the resource's key, in its row: read, they
    /// are the runs kept by its hash.
    @Test func closedRunsOfEarlierVersionsAreReadByTheirHash() throws {
        let s = Self.twoRuns()
        let runs = Self.remembered(s)
        let key = Sessionizer.ResourceKey(provider: .aws, account: "123456789012", resource: "i-0stops")
        var fromRow = Sessionizer(allowedLateness: 600)
        fromRow.restore(
            resources: [Sessionizer.ResourceRow(key: key, closedRuns: runs)], emitted: [], lastPrune: .min)
        // Written again at the next checkpoint: the runs as a row of their own, the resource's row (which
        // holds nothing else) deleted; else the resource's next change wrote its row without them.
        var rewritten = fromRow
        let changes = rewritten.takeChanges { _ in [1] }
        #expect(changes.closedRuns.map(\.key) == [Sessionizer.closedKey(key)])
        #expect(changes.closedRuns.first?.row?.runs.count == runs.count)
        #expect(changes.resources.count == 1 && changes.resources.first?.row == nil)
        var old = s.snapshot
        old.closedRunsByKey = nil
        old.closedRuns = [Sessionizer.ClosedRunEntry(key: key, runs: runs)]
        var fromSnapshot = Sessionizer(allowedLateness: 600)
        fromSnapshot.restore(old)
        for restored in [fromRow, fromSnapshot] {
            #expect(restored.snapshot.closedRunsByKey?.map(\.key) == [Sessionizer.closedKey(key)])
            #expect(Self.remembered(restored).map(\.end) == runs.map(\.end))
            var r = restored
            r.observe(Self.billed(at: Self.start + 3600))
            #expect(r.lateUsage == 1)
        }
    }

    /// The key is the same for the same resource in every process (FNV-1a over its parts), and differs
    /// where a part differs, even by where one part ends and the next begins.
    @Test func theClosedRunsKeyIsStableAndSeparatesItsParts() {
        let key = Sessionizer.ResourceKey(provider: .aws, account: "123456789012", resource: "i-0stops")
        // FNV-1a 64 of "aws", a zero byte, the account, a zero byte, the resource.
        var fnv: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in Array("aws".utf8) + [0] + Array("123456789012".utf8) + [0] + Array("i-0stops".utf8) {
            fnv = (fnv ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        #expect(Sessionizer.closedKey(key) == fnv)
        let moved = Sessionizer.ResourceKey(provider: .aws, account: "123456789012i", resource: "-0stops")
        let other = Sessionizer.ResourceKey(provider: .gcp, account: "123456789012", resource: "i-0stops")
        #expect(Sessionizer.closedKey(moved) != Sessionizer.closedKey(key))
        #expect(Sessionizer.closedKey(other) != Sessionizer.closedKey(key))
    }
}
