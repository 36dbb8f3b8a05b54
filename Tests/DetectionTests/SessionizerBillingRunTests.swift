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
    /// A line `time`'s hours, `hours` of them (a first or last hour is a part of one), of another export file.
    static func line(
        at time: EpochSeconds, hours: Double = 1, id: String, type: String = "p5.48xlarge", usage: String = "usage",
        resource: String = "i-0billed"
    ) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .usage, time: time, accountID: account, resourceID: resource, instanceType: type,
            eventID: id, eventName: usage, usageSeconds: 3600, usageHours: hours,
            origin: EventOrigin(path: "cur-again.csv", position: .line(2)))
    }

    /// Two lines of one hour that are not one line twice still both count: of another usage type (spot
    /// beside on-demand), or of an export without resource ids, whose lines are a fleet's per type and
    /// zone (`billing:p5.48xlarge@us-east-1a`), several to an hour.
    @Test(arguments: [false, true])
    func twoLinesOfOneHourThatAreNotOneLineTwiceBothCount(fleet: Bool) {
        var s = Sessionizer(allowedLateness: 3600)
        let resource = fleet ? "billing:p5.48xlarge@us-east-1a" : "i-0billed"
        for hour in 0..<6 {
            let time = Self.start + Int64(hour) * 3600
            s.observe(Self.line(at: time, id: "box-\(hour)", usage: "BoxUsage:p5.48xlarge", resource: resource))
            s.observe(
                Self.line(
                    at: time, id: "other-\(hour)", usage: fleet ? "BoxUsage:p5.48xlarge" : "SpotUsage:p5.48xlarge",
                    resource: resource))
        }
        #expect(s.lateUsage == 0)
        #expect(s.provisional(at: Self.start + 6 * 3600, accounts: [Self.account]).first?.billedInstanceHours == 12)
    }

    /// CUR 2.0 rewrites a month's export in place and its lines are read again, those older than the
    /// de-duplication window with new effect: a line whose period a held run (packed, or spelled out beside
    /// a launch) already spans is the line again, not more hours; a line that extends the run, or of
    /// another type, still counts.
    @Test(arguments: [false, true])
    func aLineDeliveredAgainAddsNoHoursToARunningSession(launched: Bool) {
        var s = Sessionizer(allowedLateness: 3600)
        if launched {
            s.observe(
                UsageEvent(
                    provider: .aws, action: .launch, time: Self.start - 600, accountID: Self.account,
                    resourceID: "i-0billed", instanceType: "p5.48xlarge", eventID: "launch", eventName: "RunInstances",
                    origin: EventOrigin(path: "trail.json", position: .line(1))))
        }
        for hour in 0..<10 { s.observe(Self.line(hour)) }
        for hour in 0..<10 { s.observe(Self.line(at: Self.start + Int64(hour) * 3600, id: "again-\(hour)")) }
        #expect(s.lateUsage == 10)
        let now = Self.start + 10 * 3600
        #expect(s.provisional(at: now, accounts: [Self.account]).first?.billedInstanceHours == 10)
        // The next hour, and an hour of another type, are new.
        s.observe(Self.line(at: now, id: "next"))
        s.observe(Self.line(at: Self.start, id: "other-type", type: "p4d.24xlarge"))
        #expect(s.lateUsage == 10)
        #expect(s.provisional(at: now + 3600, accounts: [Self.account]).first?.billedInstanceHours == 12)
    }

    /// A run billed alone (no audit log) closes once no line follows within the gap; its lines delivered
    /// again after that join it, as a closed audit-log run's do, however long after (within
    /// `rememberClosedRuns`, 40 days by default: a billing period and the days its export is still
    /// rewritten). Before, such a run was not remembered (it was emitted while still marked running), and
    /// a closed run was remembered three days: either way the lines opened a second session of the same
    /// hours, under the same id, assessed and alerted again.
    @Test(arguments: [2, 20, 39])
    func linesOfAClosedRunDeliveredAgainDaysLaterJoinIt(days: Int) {
        var s = Sessionizer(allowedLateness: 3600)
        for hour in 0..<5 { s.observe(Self.line(hour)) }
        let closed = s.advance(to: Self.start + 86_400)
        #expect(closed.count == 1 && closed.first?.open == false)
        // The audit logs' time moves on; the export is read again whole.
        let later = Self.start + Int64(days) * 86_400
        #expect(s.advance(to: later).isEmpty)
        for hour in 0..<5 { s.observe(Self.line(at: Self.start + Int64(hour) * 3600, id: "again-\(hour)")) }
        #expect(s.lateUsage == 5)
        #expect(s.liveResources == 0)
        #expect(s.advance(to: later + 86_400).isEmpty)
        #expect(s.finish(at: later + 86_400).isEmpty)
    }
}
