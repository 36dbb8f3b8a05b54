import Foundation
import TestSupport
import Testing
import UsageModel

@testable import Detection

/// An account's hour-of-week histogram (``AccountActivity/hourOfWeek``), whose new hours wait in the
/// activity's own bytes before they are added, reads as one counted at every call: each clock hour with
/// calls once, at any point of a stream, and after a round trip through its coding.
@Suite struct AccountActivityHoursTests {
    /// The histogram as the activity counted it before the hours waited: a clock hour counts when it
    /// differs from the last call's.
    struct Reference {
        var hours = [Int32](repeating: 0, count: 168)
        var lastSlot: Int64 = .min

        mutating func record(_ time: EpochSeconds) {
            let slot = time >= 0 ? time / 3600 : (time - 3599) / 3600
            guard slot != lastSlot else { return }
            lastSlot = slot
            hours[Int(((slot + 72) % 168 + 168) % 168)] += 1
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func readsAsAHistogramCountedAtEveryCall(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        var activity = AccountActivity()
        var reference = Reference()
        var time: EpochSeconds = 1_772_323_200 + Int64(rng.next() % 86_400)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for n in 0..<20_000 {
            // Mostly minutes apart, sometimes hours or days on, sometimes back in time (a late call).
            switch rng.next() % 16 {
            case 0: time += Int64(rng.next() % (3 * 86_400))
            case 1: time -= Int64(rng.next() % 7_200)
            case 2: time = -Int64(rng.next() % 100_000)  // before 1970: the floor of negative hours
            default: time += Int64(rng.next() % 1_200)
            }
            let machine = rng.next() % 10 == 0
            activity.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(n), time: time, sourceIP: nil, country: CountryCode("US")!,
                    isSignIn: false, isMachine: machine))
            if !machine { reference.record(time) }
            if rng.next() % 64 == 0 { #expect(activity.hourOfWeek == reference.hours, "call \(n)") }
            if rng.next() % 512 == 0 {
                // Restored from its coding, it counts on as the one that never stopped.
                let data = try encoder.encode(activity)
                let restored = try JSONDecoder().decode(AccountActivity.self, from: data)
                #expect(restored.hourOfWeek == activity.hourOfWeek)
                #expect(try encoder.encode(restored) == data)
                activity = restored
            }
        }
        #expect(activity.hourOfWeek == reference.hours)
    }

    /// A CloudShell call locates the region, not the person: it is no located call and adds no country,
    /// but it is a call of the person's working day (the clock counts it). An instance's call is neither.
    @Test func cloudShellCallsCountOnTheClockButLocateNothing() {
        var activity = AccountActivity()
        let start: EpochSeconds = 1_772_323_200
        func call(_ n: Int, _ country: String, hour: Int64, cloudShell: Bool = false, machine: Bool = false)
            -> CallObservation
        {
            CallObservation(
                accountKey: 1, eventKey: UInt64(n), time: start + hour * 3600, sourceIP: IPAddress(v4: 0x0A00_0001),
                country: CountryCode(country)!, isSignIn: false, isMachine: machine, isCloudShell: cloudShell)
        }
        activity.record(call(0, "DE", hour: 0))
        activity.record(call(1, "HK", hour: 2, cloudShell: true))
        activity.record(call(2, "HK", hour: 3, cloudShell: true))
        activity.record(call(3, "HK", hour: 5, machine: true))
        #expect(activity.calls == 4)
        #expect(activity.locatedCalls == 1)
        #expect(activity.calls(from: CountryCode("HK")!, direct: false) == 0)
        #expect(activity.calls(from: CountryCode("DE")!, direct: false) == 1)
        // The clock: the DE hour and both CloudShell hours, not the instance's.
        #expect(activity.hourOfWeek.reduce(0, +) == 3)
        #expect(activity.lastSeen == start + 3 * 3600)
        // Nor is its address an identifier (IdentityGraph): AWS's, reassigned between customers.
        #expect(IdentityGraph.keys(of: call(1, "HK", hour: 2, cloudShell: true)).0 == 0)
        #expect(IdentityGraph.keys(of: call(0, "DE", hour: 0)).0 != 0)
    }
    /// The hours with a call located outside China, Hong Kong and Macau (``AccountActivity/hourOfWeekElsewhere``),
    /// against a reference that keeps each clock hour's calls: an hour counts when one of its calls was located
    /// elsewhere (an unlocated or CloudShell call is from nowhere), once the account has called from a clock
    /// country (before it every hour counts); the same at any point of a stream and after a round trip
    /// through the activity's coding.
    @Test(arguments: [5, 6, 7] as [UInt64])
    func hoursElsewhereCountTheHoursWithACallLocatedElsewhere(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        var activity = AccountActivity()
        var all = [Int32](repeating: 0, count: 168)
        var notElsewhere = [Int32](repeating: 0, count: 168)
        var slot: Int64 = .min
        var slotElsewhere = false
        var telling = false
        func index(_ slot: Int64) -> Int { Int(((slot + 72) % 168 + 168) % 168) }
        var time: EpochSeconds = 1_772_323_200
        for n in 0..<5_000 {
            time += Int64(rng.next() % 2_400)
            let kind = rng.next() % 8
            let country = kind < 2 ? "CN" : kind == 2 ? "HK" : kind < 6 ? "US" : "ZZ"
            let cloudShell = kind == 5
            let elsewhere = (country == "US") && !cloudShell
            let s = time / 3600
            if s != slot {
                if slot != .min && telling && !slotElsewhere { notElsewhere[index(slot)] += 1 }
                slot = s
                slotElsewhere = false
                all[index(s)] += 1
            }
            if country == "CN" || country == "HK" { telling = true }
            slotElsewhere = slotElsewhere || elsewhere
            activity.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(n + 1), time: time, sourceIP: nil,
                    country: country == "ZZ" ? .unknown : CountryCode(country)!, isSignIn: false,
                    isCloudShell: cloudShell))
            if n % 997 == 0 || n == 4_999 {
                var expected = all
                for i in 0..<168 { expected[i] -= notElsewhere[i] }
                if telling && !slotElsewhere { expected[index(slot)] -= 1 }
                #expect(activity.hourOfWeekElsewhere == expected, "call \(n)")
                let decoded = try JSONDecoder().decode(
                    AccountActivity.self, from: JSONEncoder().encode(activity))
                #expect(decoded.hourOfWeekElsewhere == expected, "call \(n), decoded")
                if n == 4_999 { #expect(expected.reduce(0, +) < all.reduce(0, +)) }
            }
        }
    }

    /// The counts are two bytes each (336 bytes, not 672: issue 17), and a count that would pass 65,535
    /// (here 70,000 calls each in another hour than the one before: late calls out of order) makes them
    /// four bytes each without changing any, as counted in `Int32` before; a restored activity whose
    /// counts do not fit in two bytes keeps them.
    @Test func countsInTwoBytesUntilOneWouldNotFit() throws {
        var activity = AccountActivity()
        var reference = Reference()
        let monday: EpochSeconds = 1_772_409_600  // 2026-03-02T00:00:00Z, a Monday
        func call(_ time: EpochSeconds) {
            activity.record(
                CallObservation(
                    accountKey: 1, eventKey: 0, time: time, sourceIP: nil, country: CountryCode("US")!,
                    isSignIn: false, isMachine: false))
            reference.record(time)
        }
        for hour in 0..<500 { call(monday + Int64(hour) * 3600 + 60) }
        #expect(activity.hourOfWeek == reference.hours)
        #expect(activity.hourCountsBytes <= 168 * 2 + 16)
        for n in 0..<140_000 { call(monday + (n % 2 == 0 ? 0 : 3600)) }
        #expect(activity.hourOfWeek == reference.hours)
        #expect(reference.hours[0] > 70_000 && reference.hours[1] > 70_000)
        #expect(activity.hourCountsBytes >= 168 * 4)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(activity)
        let restored = try JSONDecoder().decode(AccountActivity.self, from: data)
        #expect(restored.hourOfWeek == reference.hours)
        #expect(restored.hourCountsBytes >= 168 * 4)
        #expect(try encoder.encode(restored) == data)
    }
}
