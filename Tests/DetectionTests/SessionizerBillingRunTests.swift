import Sessions
import Testing
import UsageModel

/// Billing lines of one resource that touch are summed into one held event as they arrive; the
/// resource is then one live resource of its account, however many lines made it.
@Suite struct SessionizerBillingRunTests {
    static let account = "123456789012"
    static let start = Timestamp.parse("2026-03-01T00:00:00Z")!

    static func line(_ hour: Int) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .usage, time: start + Int64(hour) * 3600, accountID: account,
            resourceID: "i-0billed", instanceType: "p5.48xlarge", eventID: "u-\(hour)", eventName: "usage",
            usageSeconds: 3600, usageHours: 1, origin: EventOrigin(path: "cur-\(hour).csv", position: .line(2)))
    }

    /// Each summed line once listed the resource again for its account: a look at the account's running
    /// sessions found the same session once a line (a carried alert was raised once a copy), and the
    /// account stayed live after the resource was let go.
    @Test(arguments: [1, 2, 24, 200])
    func aRunOfBillingLinesIsOneLiveResource(lines: Int) {
        var s = Sessionizer(allowedLateness: 3600)
        for hour in 0..<lines { s.observe(Self.line(hour)) }
        let now = Self.start + Int64(lines) * 3600
        let running = s.provisional(at: now, accounts: [Self.account])
        #expect(running.count == 1)
        #expect(running.first?.events.count == 1 && running.first?.billedInstanceHours == Double(lines))
        let key = StableHash.hash(Self.account)
        #expect(s.withLiveResources(keys: [key]) == [key])
        // Past the lateness and the billing gap: the run closes and the resource is let go.
        let closed = s.advance(to: now + 86_400)
        #expect(closed.count == 1 && s.liveResources == 0)
        #expect(s.withLiveResources(keys: [key]).isEmpty)
        #expect(s.provisional(at: now + 86_400, accounts: [Self.account]).isEmpty)
    }
}
