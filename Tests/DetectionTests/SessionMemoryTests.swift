import Sessions
import Testing
import UsageModel

/// What the sessionizer holds per open session was cut (issue 17): one table per resource for its events
/// and its remembered type, one copy of each principal and user agent, and the sessions still running
/// at the end handed over one at a time. None of it may change a session.
@Suite struct SessionMemoryTests {
    static let base = Timestamp.parse("2026-03-01T00:00:00Z")!

    static func event(
        _ action: ComputeAction, at time: EpochSeconds, resource: String, account: String, principal: String? = nil,
        agent: String? = nil
    ) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: action, time: time, accountID: account, resourceID: resource,
            instanceType: action == .launch ? "p5.48xlarge" : nil, region: "us-east-1", principal: principal,
            userAgent: agent, eventID: "\(action)-\(time)-\(resource)", eventName: action.rawValue,
            origin: EventOrigin(path: "t.json", position: .line(1)))
    }

    /// Resources with one to three runs each, in a seeded order; the last run of some still open.
    static func observed(seed: UInt64) -> Sessionizer {
        var s = Sessionizer()
        var state = seed
        func next(_ bound: Int64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(bound))
        }
        var events: [UsageEvent] = []
        for r in 0..<60 {
            let resource = "i-\(String(r, radix: 16))00000000000000"
            let account = "1234567890\(r % 7)"
            var t = base + next(40_000)
            for run in 0..<(1 + Int(next(3))) {
                events.append(event(run == 0 ? .launch : .start, at: t, resource: resource, account: account))
                t += 600 + next(20_000)
                if run < 2 && next(2) == 0 { continue }
                events.append(event(.stop, at: t, resource: resource, account: account))
                t += 600 + next(5_000)
            }
        }
        // A shuffled arrival order.
        for i in events.indices.reversed() where i > 0 { events.swapAt(i, Int(next(Int64(i + 1)))) }
        events.forEach { s.observe($0) }
        return s
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func finishHandsOverTheSessionsOfTheListInItsOrder(seed: UInt64) {
        let end = Self.base + 200_000
        let accounts = (0..<7).map { "1234567890\($0)" }
        var s = Self.observed(seed: seed)
        let expected = s.provisional(at: end, accounts: accounts)
        var handed: [Session] = []
        s.finish(at: end) { handed.append($0) }
        #expect(handed == expected)
        #expect(!handed.isEmpty && handed.contains(where: \.open) && handed.contains { !$0.open })
        #expect(zip(handed, handed.dropFirst()).allSatisfy { ($0.start, $0.id) < ($1.start, $1.id) })
        #expect(s.liveResources == 0)
        // Nothing is left to come out again.
        #expect(s.finish(at: end).isEmpty)
    }

    /// Start and Stop calls name no type: the launch's is remembered after its sessions are finished.
    @Test func theLaunchTypeOutlivesTheSessionsFinished() {
        var s = Sessionizer()
        s.observe(Self.event(.launch, at: Self.base, resource: "i-1", account: "123456789012"))
        s.observe(Self.event(.stop, at: Self.base + 3600, resource: "i-1", account: "123456789012"))
        #expect(s.finish(at: Self.base + 7200).map(\.instanceType) == ["p5.48xlarge"])
        let tracked = s.tracks(provider: .aws, account: "123456789012", resource: "i-1")
        #expect(tracked)
        s.observe(Self.event(.start, at: Self.base + 86_400, resource: "i-1", account: "123456789012"))
        let later = s.finish(at: Self.base + 90_000)
        #expect(later.map(\.instanceType) == ["p5.48xlarge"] && later.map(\.open) == [true])
    }

    /// More distinct principals and agents than the pool holds before it is rebuilt: every event keeps
    /// its own.
    @Test func principalsAndAgentsSurviveThePoolsRebuilds() {
        var s = Sessionizer()
        for n in 0..<3000 {
            s.observe(
                Self.event(
                    .launch, at: Self.base + Int64(n), resource: "i-\(n)", account: "123456789012",
                    principal: "arn:aws:iam::123456789012:user/ops-\(n % 1500)",
                    agent: "aws-cli/2.15.\(n % 2000) Python/3.11.6 Linux/6.1 exe/x86_64"))
        }
        let sessions = s.finish(at: Self.base + 10_000)
        #expect(sessions.count == 3000)
        for session in sessions {
            let n = Int(session.start - Self.base)
            #expect(session.events[0].principal == "arn:aws:iam::123456789012:user/ops-\(n % 1500)")
            #expect(session.events[0].userAgent == "aws-cli/2.15.\(n % 2000) Python/3.11.6 Linux/6.1 exe/x86_64")
        }
    }
}
