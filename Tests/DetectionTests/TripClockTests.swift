import Catalog
@testable import Detection
import Sessions
import TestSupport
import Testing
import UsageModel

/// The trip's clock (`trip_clock_posterior`, `trip_clock_hours`, `trip_clock_hidden_share`): calls from
/// China within a few days of an account seen elsewhere are no trip when the whole account keeps China's
/// working hours and its calls from elsewhere partly hid behind anonymising networks.
@Suite struct TripClockTests {
    static let monday: Int64 = 1_770_595_200  // 2026-02-09T00:00:00Z, a Monday

    /// Three weeks of weekdays before 2026-03-01 worked 09–17 local at `home`, one call an hour from
    /// elsewhere (135: the first `hiddenPerDay` hours of each day through a Singapore exit, listed by the
    /// feed or not, the rest from US offices), and on `chinaDays` days from day 7 (4: days 7–10) five calls
    /// a day from China at 10–14 local at `away`.
    static func activity(
        home: Int, away: Int, hiddenPerDay: Int, listed: Bool = true, chinaDays: Int = 4, restricted: String = "CN"
    ) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        for day in 0..<19 where day % 7 < 5 {
            for hour in 9..<18 {
                key += 1
                let hides = hour - 9 < hiddenPerDay
                let network: AnonymousNetwork = hides && listed ? [.anonymous, .vpn] : []
                let country = hides ? "SG" : "US"
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key, time: monday + Int64(day) * 86_400 + Int64(hour - home) * 3600,
                        sourceIP: nil, country: CountryCode(country)!, isSignIn: false, network: network))
            }
        }
        for day in 7..<(7 + chinaDays) {
            for hour in 10..<15 {
                key += 1
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key,
                        time: monday + Int64(day) * 86_400 + Int64(hour - away) * 3600 + 1800, sourceIP: nil,
                        country: CountryCode(restricted)!, isSignIn: false))
            }
        }
        return a
    }

    static func session() -> Session {
        var s = Sessionizer()
        s.observe(event(.launch, "2026-03-01T02:00:00Z", account: "999"))
        s.observe(event(.terminate, "2026-03-01T09:00:00Z", account: "999"))
        return s.finish(at: Timestamp.parse("2026-03-02")!)[0]
    }

    /// A covert operator on China's clock whose calls from elsewhere came partly through a listed exit: not
    /// a trip, and the network evidence says why; the same account under `trip_clock_posterior` above 1
    /// (never) is capped as a trip, as before.
    @Test func anOperatorOnChinasClockSeenElsewhereThroughExitsIsNoTrip() throws {
        var d = DetectorTests.detector()
        let a = Self.activity(home: 8, away: 8, hiddenPerDay: 4)
        let network = try #require(d.assess(Self.session(), activity: a).evidence.first { $0.kind == .network })
        #expect(network.detail.contains("but the account keeps UTC+8 hours (posterior "), "\(network.detail)")
        #expect(
            network.detail.contains(
                "within 2 hour(s) of it) and 60 of the 135 calls from elsewhere came through anonymising networks: not a trip"
            ), "\(network.detail)")
        #expect(network.weight > d.config.tripWeightCap, "\(network.weight)")
        d.config.tripClockPosterior = 2
        let never = try #require(d.assess(Self.session(), activity: a).evidence.first { $0.kind == .network })
        #expect(never.detail.contains("a trip explains them as well"), "\(never.detail)")
        #expect(never.weight <= d.config.tripWeightCap)
    }

    /// Still a trip: a traveller whose calls from home keep home's hours (UTC−5), though its days in China
    /// keep China's; an operator on China's clock that hid too few of its calls from elsewhere (15 of 135,
    /// under a fifth); and the same operator without a feed (its exit unlisted): no feed, no change.
    @Test(arguments: [(-5, 4, true), (8, 1, true), (8, 4, false)])
    func aTravellerOrTooLittleHiddenIsStillATrip(home: Int, hiddenPerDay: Int, listed: Bool) throws {
        let d = DetectorTests.detector()
        let a = Self.activity(home: home, away: 8, hiddenPerDay: hiddenPerDay, listed: listed)
        let network = try #require(d.assess(Self.session(), activity: a).evidence.first { $0.kind == .network })
        #expect(network.detail.contains("a trip explains them as well"), "\(network.detail)")
        #expect(network.weight <= d.config.tripWeightCap)
    }

    /// The clock is read for China's offset only (``Detector/clockCountries``): around Russia's UTC+3 lie
    /// continental Europe's hours, so a European office (UTC+2) on a trip to Russia, a fifth and more of its
    /// calls from elsewhere through a listed exit, is still a trip.
    @Test func aEuropeanOfficeOnATripToRussiaIsStillATrip() throws {
        let d = DetectorTests.detector()
        let a = Self.activity(home: 2, away: 3, hiddenPerDay: 4, restricted: "RU")
        let network = try #require(d.assess(Self.session(), activity: a).evidence.first { $0.kind == .network })
        #expect(network.detail.contains("a trip explains them as well"), "\(network.detail)")
        #expect(network.weight <= d.config.tripWeightCap)
    }

    /// The same witnesses lift the steadiness cap (`steady_clock`): calls from China on two days of an
    /// operator on China's clock whose calls from elsewhere partly hid weigh in full, and the evidence says
    /// why; with `steady_clock = 0`, or for a traveller on home's hours, two days weigh half the cap at most.
    @Test func anOperatorOnChinasClockIsSteadyFromItsFirstDays() throws {
        var d = DetectorTests.detector()
        let a = Self.activity(home: 8, away: 8, hiddenPerDay: 7, chinaDays: 2)
        let network = try #require(d.assess(Self.session(), activity: a).evidence.first { $0.kind == .network })
        #expect(
            network.detail.contains("; on 2 day(s) so far, on that clock and behind those networks: weighs in full"),
            "\(network.detail)")
        // 10 of the 40 located calls not through exits elsewhere (145 less 105).
        #expect(network.weight == d.networkWeight(restricted: 10, located: 40))
        #expect(network.weight > 0.5 * d.config.networkWeightCap, "\(network.weight)")
        d.config.steadyClock = 0
        let off = try #require(d.assess(Self.session(), activity: a).evidence.first { $0.kind == .network })
        #expect(off.detail.contains("; on 2 day(s) so far (full weight from 4)"), "\(off.detail)")
        #expect(off.weight <= 0.5 * d.config.networkWeightCap)
        let traveller = Self.activity(home: -5, away: 8, hiddenPerDay: 7, chinaDays: 2)
        let home = try #require(
            DetectorTests.detector().assess(Self.session(), activity: traveller).evidence.first { $0.kind == .network })
        #expect(home.detail.contains("a trip explains them as well"), "\(home.detail)")
    }

    /// The posterior near an offset: the office's own offset and its neighbours hold it all, an offset
    /// 13 hours away none; within 0 hours of the best offset it is the estimate's confidence; too few
    /// hours give none.
    @Test(arguments: [8, -5, 1])
    func thePosteriorNearAnOffsetIsTheMassAroundIt(offset: Int) throws {
        let a = Self.activity(home: offset, away: offset, hiddenPerDay: 0)
        let span = a.lastSeen - a.firstSeen
        let near = try #require(
            TimeZoneEstimate.posterior(near: [offset], within: 2, hourOfWeek: a.hourOfWeek, span: span))
        #expect(near > 0.99, "\(near)")
        let far = try #require(
            TimeZoneEstimate.posterior(
                near: [offset + 13 > 14 ? offset - 13 : offset + 13], within: 2,
                hourOfWeek: a.hourOfWeek, span: span))
        #expect(far < 0.01, "\(far)")
        let estimate = try #require(TimeZoneEstimate.estimate(hourOfWeek: a.hourOfWeek, span: span))
        let exact = try #require(
            TimeZoneEstimate.posterior(
                near: [estimate.offsetHours], within: 0, hourOfWeek: a.hourOfWeek, span: span))
        #expect(abs(exact - estimate.confidence) < 1e-12)
        #expect(TimeZoneEstimate.posterior(near: [], within: 2, hourOfWeek: a.hourOfWeek, span: span) == nil)
        #expect(TimeZoneEstimate.posterior(near: [offset], within: 2, hourOfWeek: a.hourOfWeek, span: 86_400) == nil)
    }
}
