@testable import Sessions
import Testing
import UsageModel

/// The sessionizer's table of held resources follows what is live (issue 17): a `Dictionary` keeps its
/// largest size, and the billing exports, read before the audit logs, fill it with every billed resource
/// of their days, most of which the trail's time then closes. What the sessionizer gives is the same.
@Suite struct HeldTableShrinkTests {
    static let account = "123456789012"
    static let start = Timestamp.parse("2026-03-01T00:00:00Z")!

    static func event(_ action: ComputeAction, _ resource: Int, at time: EpochSeconds) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: action, time: time, accountID: account, resourceID: "i-\(resource)",
            instanceType: action == .launch ? "p5.48xlarge" : nil, region: "us-east-1",
            eventID: "\(action)-\(resource)-\(time)", eventName: action.rawValue,
            origin: EventOrigin(path: "trail.json", position: .line(resource + 1)))
    }

    /// 20,000 resources launched, all but `kept` of them terminated an hour later: once the watermark
    /// passes the terminations the table is sized to the resources left, whose sessions finish as they
    /// would have.
    @Test(arguments: [0, 300, 3_000])
    func theTableShrinksToTheResourcesLeft(kept: Int) {
        let resources = 20_000
        var s = Sessionizer(allowedLateness: 600)
        for r in 0..<resources { s.observe(Self.event(.launch, r, at: Self.start + Int64(r % 60))) }
        let full = s.heldCapacity
        #expect(full >= resources)
        for r in kept..<resources { s.observe(Self.event(.terminate, r, at: Self.start + 3600 + Int64(r % 60))) }
        let closed = s.advance(to: Self.start + 7200)
        #expect(closed.count == resources - kept)
        #expect(s.liveResources == kept)
        // At most four slots a resource left (the table is built again at twice its count once a quarter
        // of it is used), and never under the smallest table.
        #expect(s.heldCapacity <= max(4 * kept, 2 * Sessionizer.smallestHeldCapacity))
        #expect(s.heldCapacity <= full / 4)
        let open = s.finish(at: Self.start + 10_800)
        #expect(open.count == kept)
        #expect(open.allSatisfy { $0.open && $0.instanceType == "p5.48xlarge" && $0.start < Self.start + 60 })
        #expect(Set(open.map(\.resourceID)) == Set((0..<kept).map { "i-\($0)" }))
    }

    /// A table already as small as a rebuild would make it is left alone: with a few resources left in
    /// the smallest table, later ticks build nothing (they built it again at every tick).
    @Test func aSmallTableIsNotBuiltAgainAtEveryTick() {
        var s = Sessionizer(allowedLateness: 600)
        for r in 0..<4_000 { s.observe(Self.event(.launch, r, at: Self.start + Int64(r % 60))) }
        for r in 10..<4_000 { s.observe(Self.event(.terminate, r, at: Self.start + 3600)) }
        _ = s.advance(to: Self.start + 7200)
        #expect(s.heldRebuilds == 1)
        let small = s.heldCapacity
        for tick in 1...50 { _ = s.advance(to: Self.start + 7200 + Int64(tick) * 300) }
        #expect(s.heldRebuilds == 1)
        #expect(s.heldCapacity == small)
        #expect(s.liveResources == 10)
    }

    /// Resources closed a few at a time: the table shrinks by halves and grows again as resources come,
    /// keeping every resource's launch type (Start and Stop calls name none).
    @Test func theTableShrinksAndGrowsAgainKeepingTheTypes() {
        var s = Sessionizer(allowedLateness: 600)
        var t = Self.start
        for r in 0..<8_000 { s.observe(Self.event(.launch, r, at: t + Int64(r % 60))) }
        var capacities = [s.heldCapacity]
        // Terminated in rounds of 1,000, the watermark passing each.
        for round in 0..<7 {
            t += 3600
            for r in (round * 1_000)..<((round + 1) * 1_000) { s.observe(Self.event(.terminate, r, at: t)) }
            _ = s.advance(to: t + 1200)
            capacities.append(s.heldCapacity)
        }
        #expect(capacities.last! <= capacities.first! / 4)
        #expect(zip(capacities, capacities.dropFirst()).allSatisfy { $0 >= $1 })
        // The 1,000 left stop and start again: their type is the launch's.
        t += 3600
        for r in 7_000..<8_000 { s.observe(Self.event(.stop, r, at: t)) }
        _ = s.advance(to: t + 1200)
        t += 3600
        for r in 7_000..<8_000 { s.observe(Self.event(.start, r, at: t)) }
        // New resources make it grow again.
        for r in 8_000..<12_000 { s.observe(Self.event(.launch, r, at: t)) }
        #expect(s.heldCapacity >= 5_000)
        let open = s.finish(at: t + 3600)
        #expect(open.count == 5_000)
        #expect(open.allSatisfy { $0.instanceType == "p5.48xlarge" && $0.open })
    }
}
