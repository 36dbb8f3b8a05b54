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
}
