import Foundation
@testable import Sessions
import Testing
import UsageModel

/// A resource known from billing lines alone is held as packed runs, not events (issue 17: ~830 bytes a
/// held billed session, the export read before the first audit log); what the sessionizer gives is the
/// same as with every line held as an event.
@Suite struct BilledRunPackingTests {
    static let account = "123456789012"
    static let start = Timestamp.parse("2026-03-01T00:00:00Z")!

    static func line(
        _ resource: String, at time: EpochSeconds, id: String, type: String? = "p5.48xlarge", hours: Double = 1,
        count: Int = 1, region: String = "us-east-1", position: InputPosition = .line(2), path: String = "cur.csv"
    ) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .usage, time: time, accountID: account, resourceID: resource, instanceType: type,
            instanceCount: count, region: region, eventID: id, eventName: "BoxUsage", usageSeconds: 3600,
            usageHours: hours, origin: EventOrigin(path: path, position: position))
    }

    static func lifecycle(_ action: ComputeAction, _ resource: String, at time: EpochSeconds) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: action, time: time, accountID: account, resourceID: resource,
            instanceType: action == .launch ? "p5.48xlarge" : nil, eventID: "ct-\(resource)-\(time)",
            eventName: action.rawValue, origin: EventOrigin(path: "trail.json", position: .line(1)))
    }

    @Test func billingLinesAloneAreHeldPackedUntilALifecycleEventComes() {
        var s = Sessionizer(allowedLateness: 3600)
        for r in 0..<10 {
            for hour in 0..<3 {
                s.observe(
                    Self.line(
                        "i-\(r)", at: Self.start + Int64(hour) * 3600, id: BillingEventID.spell(UInt64(r * 8 + hour))))
            }
        }
        #expect(s.billedResources == 10 && s.liveResources == 10)
        // A line whose id no key spells, or of two instances, is held as an event: so is its resource.
        s.observe(Self.line("i-3", at: Self.start + 3 * 3600, id: "li-3"))
        s.observe(Self.line("i-4", at: Self.start + 3 * 3600, id: BillingEventID.spell(99), count: 2))
        #expect(s.billedResources == 8)
        s.observe(Self.lifecycle(.launch, "i-5", at: Self.start + 60))
        #expect(s.billedResources == 7 && s.liveResources == 10)
        let running = s.provisional(at: Self.start + 4 * 3600, accounts: [Self.account])
        #expect(running.count == 10)
        #expect(running.first { $0.resourceID == "i-0" }?.events.map(\.eventID) == [BillingEventID.spell(0)])
    }

    /// What a resource holds stays one reference, whichever way its events are held (the open sessions'
    /// figure: a resource is a table entry of its key and this).
    @Test func aResourceIsHeldInSixteenBytesAndARunInSixtyFour() {
        #expect(MemoryLayout<Sessionizer.Resource>.size == 16)
        #expect(MemoryLayout<HeldEvents>.size == 8)
        #expect(MemoryLayout<BilledRun>.stride == 64)
    }

    /// A seeded stream of billing lines (ids a key spells and others, positions at lines and offsets, one
    /// or two instances, types that are the same text in two spellings, a resource id canonically equal to
    /// another), lifecycle events among them, out of order: the sessions advanced, running and finished,
    /// and the checkpoints, are those of a sessionizer that holds every line as an event.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func packedRunsGiveWhatEventsGive(seed: UInt64) throws {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        // "i-K" and "i-\u{212A}" (a Kelvin sign) are one resource to `String`'s `==`, two spellings.
        let resources = ["i-0a", "i-0b", "i-0c", "i-K", "i-\u{212A}", "i-0d"]
        let types: [String?] = ["p5.48xlarge", "p4d.24xlarge", nil, "caf\u{E9}", "cafe\u{301}"]
        var packed = Sessionizer(allowedLateness: 3 * 3600)
        var plain = Sessionizer(allowedLateness: 3 * 3600)
        plain.packsBilledRuns = false
        // Compared as encoded: `==` takes canonically equivalent texts as one, and each must come back as read.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func same(_ a: [Session], _ b: [Session]) throws -> Bool { try encoder.encode(a) == encoder.encode(b) }
        var watermark = Self.start
        var packedOnce = false
        for n in 0..<600 {
            watermark += Int64(next(900))
            let time = watermark - Int64(next(4)) * 3600 + Int64(next(3)) * 600
            let resource = resources[next(resources.count)]
            let event: UsageEvent
            if next(12) == 0 {
                event = Self.lifecycle([.launch, .start, .stop, .terminate][next(4)], resource, at: time)
            } else {
                let id =
                    switch next(10) {
                    case 0: "li-\(n)"
                    case 1: "bill-" + String(repeating: "A", count: 16)
                    default: BillingEventID.spell(UInt64(next(1 << 30)) << 20 | UInt64(n))
                    }
                event = Self.line(
                    resource, at: time, id: id, type: types[next(types.count)], hours: Double(1 + next(3)) / 2,
                    count: next(20) == 0 ? 2 : 1, region: next(2) == 0 ? "us-east-1" : "eu-west-1",
                    position: next(15) == 0 ? .offset(Int64(n)) : .line(n + 2), path: "cur-\(next(3)).csv")
            }
            packed.observe(event)
            plain.observe(event)
            packedOnce = packedOnce || packed.billedResources > 0
            if n % 25 == 24 {
                #expect(try same(packed.advance(to: watermark), plain.advance(to: watermark)))
                #expect(
                    try same(
                        packed.provisional(at: watermark, accounts: [Self.account]),
                        plain.provisional(at: watermark, accounts: [Self.account])))
            }
        }
        #expect(packedOnce && plain.billedResources == 0)
        #expect(try encoder.encode(packed.snapshot) == encoder.encode(plain.snapshot))
        #expect(try same(packed.finish(at: watermark), plain.finish(at: watermark)))
    }
}
