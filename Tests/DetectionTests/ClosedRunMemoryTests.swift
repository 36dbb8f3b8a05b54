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
        s.snapshot.closedRuns?.flatMap(\.runs) ?? []
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
}
