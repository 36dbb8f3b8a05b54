public import UsageModel
import Catalog

/// What the network evidence knows of one account: its calls and sign-ins by source country.
public struct AccountActivity: Sendable, Codable {
    public var calls = 0
    public var signIns = 0
    /// Calls (sign-ins included) by the country of their source address; unknown addresses are not counted here.
    public var callsByCountry: [CountryCode: Int] {
        var out: [CountryCode: Int] = [:]
        forEachCountry { out[$0.code] = $0.calls }
        return out
    }

    /// Calls (sign-ins included) from one country's addresses.
    /// - Parameter direct: count only calls not through anonymising networks.
    public func calls(from country: CountryCode, direct: Bool = false) -> Int {
        var found: CountryStats? = nil
        forEachCountry { if $0.code == country { found = $0 } }
        guard let c = found else { return 0 }
        return direct ? c.calls - c.anonymous : c.calls
    }

    /// One country's calls: how many, the first and the last, and on how many distinct days (UTC).
    struct CountryStats: Sendable {
        var code: CountryCode
        var calls: Int
        var first: EpochSeconds
        var last: EpochSeconds
        var days: Int32
        /// Of `anonymous`, those only through an address many accounts share (no feed listed it:
        /// ``AnonymousNetwork/shared``). Here, in `days`' padding: the stride stays 56 bytes.
        var shared: Int32 = 0
        var lastDay: Int64
        /// Of `calls`, those through anonymising networks (their exit is here, the caller need not be).
        var anonymous: Int = 0

        mutating func note(_ time: EpochSeconds) {
            calls += 1
            first = min(first, time)
            last = max(last, time)
            let day = time / 86_400
            if day != lastDay {
                lastDay = day
                days += 1
            }
        }
    }

    /// The countries the calls came from, in the order first seen: the first in the activity itself (most
    /// accounts' calls come from one country, and a list's storage is a cache miss of its own at every
    /// call), the others as a short list (accounts see few countries, and a list beats hashing per call).
    private var firstCountry = CountryStats(code: .unknown, calls: 0, first: .max, last: .min, days: 0, lastDay: .min)
    private var otherCountries: [CountryStats] = []

    /// Every country's figures, in the order first seen (no list made).
    @inline(__always)
    private func forEachCountry(_ body: (CountryStats) -> Void) {
        guard firstCountry.code.isKnown else { return }
        body(firstCountry)
        for c in otherCountries { body(c) }
    }

    /// The countries as one list (coding only).
    private var countries: [CountryStats] {
        get { firstCountry.code.isKnown ? [firstCountry] + otherCountries : [] }
        set {
            firstCountry =
                newValue.first
                ?? CountryStats(code: .unknown, calls: 0, first: .max, last: .min, days: 0, lastDay: .min)
            otherCountries = Array(newValue.dropFirst())
        }
    }
    /// Calls whose source address was located.
    public var locatedCalls = 0
    /// Located calls through anonymising networks an IP-intelligence feed names, by
    /// ``AnonymousNetwork/Kind`` (VPN, hosting, proxy, Tor, other), and through addresses many accounts
    /// share (``AnonymousNetwork/shared``).
    public private(set) var anonymousCalls = [Int32](repeating: 0, count: AnonymousNetwork.Kind.allCases.count)
    /// Located calls through anonymising networks, of every kind.
    public var anonymousTotal: Int { anonymousCalls.reduce(0) { $0 + Int($1) } }
    /// Located calls only through addresses many accounts share (``AnonymousNetwork/shared``).
    public var sharedCalls: Int { Int(anonymousCalls[AnonymousNetwork.Kind.shared.rawValue]) }
    /// Active hours by hour of the week in UTC (0 = Monday 00:00–01:00), for the operator's time zone:
    /// each clock hour with calls counts once (bursts of calls are one observation, not hundreds).
    public var hourOfWeek: [Int32] {
        var counts = hourCounts.counts
        Self.forEachHour(in: pendingHours) { counts[$0] &+= 1 }
        return counts
    }
    /// ``hourOfWeek`` but for the hours in `pendingHours`.
    private var hourCounts = HourCounts()
    /// Bytes of the hours' counts (for tests).
    var hourCountsBytes: Int { hourCounts.byteCount }

    /// The hours of the week's counts, two bytes each while they fit (issue 17: 168 four-byte counts were
    /// a 720-byte block an account, 13.5 MB of the world of 20,000 accounts): an hour counts once a
    /// clock hour, so a count passes 65,535 only after 1,260 years of calls in order (or as many late
    /// calls out of order); the first that would makes them four bytes each, as before, for good.
    struct HourCounts: Sendable {
        private var narrow: [UInt16]
        private var wide: [Int32]? = nil

        init() { narrow = [UInt16](repeating: 0, count: 168) }

        init(_ counts: [Int32]) {
            if counts.count == 168, counts.allSatisfy({ $0 >= 0 && $0 <= Int32(UInt16.max) }) {
                narrow = counts.map { UInt16($0) }
            } else {
                narrow = []
                wide = counts
            }
        }

        /// The counts, four bytes each.
        var counts: [Int32] { wide ?? narrow.map { Int32($0) } }
        /// Bytes of the counts' storage (for tests).
        var byteCount: Int { wide.map { $0.capacity * 4 } ?? narrow.capacity * 2 }

        /// Adds one to the count of `hour` (0..<168), wrapping as an `Int32` does with `&+=`.
        mutating func increment(_ hour: Int) {
            if wide != nil {
                wide![hour] &+= 1
            } else if narrow[hour] == .max {
                var counts = narrow.map { Int32($0) }
                counts[hour] &+= 1
                wide = counts
                narrow = []
            } else {
                narrow[hour] += 1
            }
        }
    }
    /// Up to eight hours of the week not yet added to `hourCounts`, a byte each (the hour + 1; 0: none),
    /// the latest in the lowest byte. An account's first call in a new hour wrote to the histogram's
    /// storage, a cache miss of its own for an account whose calls are minutes apart (a busy trail's
    /// accounts take turns); kept here, in the activity's own bytes, the histogram is written once every
    /// eight such hours.
    private var pendingHours: UInt64 = 0
    private var lastSlot: Int64 = .min
    /// The countries whose clock the restricted clock reads (China, Hong Kong, Macau; ``Detector``'s
    /// `clockCountries` are these), whose calls the hours from elsewhere leave out.
    static let clockCountryCodes: [CountryCode] = ["CN", "HK", "MO"].map { CountryCode($0)! }
    /// What the calls of the hour in `lastSlot` were: bit 0 one located outside the clock countries, bit 1
    /// one located in a clock country (an unlocated or CloudShell call sets neither).
    private var slotFlags: UInt8 = 0
    /// Of ``hourOfWeek``, the hours without a call located outside the clock countries (the hour in
    /// `lastSlot` not yet added): empty until the account's first call from a clock country, as most
    /// accounts never make one (until then such hours are not told apart).
    private var notElsewhereCounts: [Int32] = []
    /// Distinct active local days on the PRC calendar by ``HolidayCalendar/DayClass`` (working,
    /// holiday, make-up, weekend), for the holiday evidence.
    public private(set) var activeDays: [Int32] = [0, 0, 0, 0]
    private var lastDay: Int64 = .min
    /// Active hours by hour of the week, as ``hourOfWeek``, with a call located outside the clock countries
    /// (China, Hong Kong, Macau; not an unlocated or CloudShell call, which says nothing of where its caller
    /// was): the hours the account keeps where it is seen from elsewhere, for the restricted clock's
    /// question whether they are China's too. Before the account's first call from a clock country its
    /// hours are not told apart and all count.
    public var hourOfWeekElsewhere: [Int32] {
        var counts = hourOfWeek
        guard !notElsewhereCounts.isEmpty else { return counts }
        for i in 0..<168 { counts[i] -= notElsewhereCounts[i] }
        if slotFlags & 1 == 0 { counts[Self.hourIndex(lastSlot)] -= 1 }
        return counts
    }

    /// The hour of the week (0 = Monday 00:00 UTC) of an hour since the epoch (1970-01-01 was a Thursday).
    private static func hourIndex(_ hours: Int64) -> Int { Int(((hours + 72) % 168 + 168) % 168) }

    /// Active local days counted so far (``activeDays``' sum).
    public var activeDayCount: Int32 { activeDays.reduce(0, &+) }
    /// ``activeDayCount`` when the working week was last asked of the account (the pipeline's look-back asks it
    /// again only on a new active day).
    public var weekAskedAt: Int32 = 0
    public var firstSeen: EpochSeconds = .max
    public var lastSeen: EpochSeconds = .min
    /// The pipeline's number of the input that last added calls (not saved: a restored pipeline starts anew).
    public var batch = 0
    /// Calls from restricted countries when the account's running sessions were last assessed (-1:
    /// never): new calls that add none cannot raise their score.
    public var restrictedAtAssessment = -1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case calls, signIns, countries, counts, locatedCalls, firstSeen, lastSeen, hourOfWeek, lastSlot
        case restrictedAtAssessment, activeDays, lastDay, countryFirst, countryLast, countryDays, countryLastDay
        case anonymousCalls, countryAnonymous, countryShared, hoursNotElsewhere, slotFlags, weekAskedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        calls = try c.decode(Int.self, forKey: .calls)
        signIns = try c.decode(Int.self, forKey: .signIns)
        let codes = try c.decode([CountryCode].self, forKey: .countries)
        let counts = try c.decode([Int].self, forKey: .counts)
        let firsts = try c.decodeIfPresent([EpochSeconds].self, forKey: .countryFirst) ?? []
        let lasts = try c.decodeIfPresent([EpochSeconds].self, forKey: .countryLast) ?? []
        let days = try c.decodeIfPresent([Int32].self, forKey: .countryDays) ?? []
        // The day of the last call counted (not always the last day: a late call counts its own day).
        let lastDays = try c.decodeIfPresent([Int64].self, forKey: .countryLastDay) ?? []
        countries = zip(codes, counts).enumerated().map { i, pair in
            i < firsts.count && i < lasts.count && i < days.count
                ? CountryStats(
                    code: pair.0, calls: pair.1, first: firsts[i], last: lasts[i], days: days[i],
                    lastDay: i < lastDays.count ? lastDays[i] : lasts[i] / 86_400)
                : CountryStats(code: pair.0, calls: pair.1, first: .min, last: .max, days: 1, lastDay: .min)
        }
        locatedCalls = try c.decode(Int.self, forKey: .locatedCalls)
        firstSeen = try c.decode(EpochSeconds.self, forKey: .firstSeen)
        lastSeen = try c.decode(EpochSeconds.self, forKey: .lastSeen)
        hourCounts = HourCounts(
            try c.decodeIfPresent([Int32].self, forKey: .hourOfWeek) ?? [Int32](repeating: 0, count: 168))
        lastSlot = try c.decodeIfPresent(Int64.self, forKey: .lastSlot) ?? .min
        restrictedAtAssessment = try c.decodeIfPresent(Int.self, forKey: .restrictedAtAssessment) ?? -1
        activeDays = try c.decodeIfPresent([Int32].self, forKey: .activeDays) ?? [0, 0, 0, 0]
        lastDay = try c.decodeIfPresent(Int64.self, forKey: .lastDay) ?? .min
        if let counts = try c.decodeIfPresent([Int].self, forKey: .countryAnonymous) {
            var list = countries
            for (i, n) in counts.enumerated() where i < list.count { list[i].anonymous = n }
            if let shared = try c.decodeIfPresent([Int32].self, forKey: .countryShared) {
                for (i, n) in shared.enumerated() where i < list.count { list[i].shared = n }
            }
            countries = list
        }
        if let counts = try c.decodeIfPresent([Int32].self, forKey: .anonymousCalls) {
            for (i, n) in counts.enumerated() where i < anonymousCalls.count { anonymousCalls[i] = n }
        }
        if let counts = try c.decodeIfPresent([Int32].self, forKey: .hoursNotElsewhere), counts.count == 168 {
            notElsewhereCounts = counts
        }
        slotFlags = try c.decodeIfPresent(UInt8.self, forKey: .slotFlags) ?? 0
        weekAskedAt = try c.decodeIfPresent(Int32.self, forKey: .weekAskedAt) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(calls, forKey: .calls)
        try c.encode(signIns, forKey: .signIns)
        let countries = self.countries
        try c.encode(countries.map(\.code), forKey: .countries)
        try c.encode(countries.map(\.calls), forKey: .counts)
        try c.encode(countries.map(\.first), forKey: .countryFirst)
        try c.encode(countries.map(\.last), forKey: .countryLast)
        try c.encode(countries.map(\.days), forKey: .countryDays)
        try c.encode(countries.map(\.lastDay), forKey: .countryLastDay)
        try c.encode(locatedCalls, forKey: .locatedCalls)
        try c.encode(firstSeen, forKey: .firstSeen)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(hourOfWeek, forKey: .hourOfWeek)
        try c.encode(lastSlot, forKey: .lastSlot)
        try c.encode(restrictedAtAssessment, forKey: .restrictedAtAssessment)
        try c.encode(activeDays, forKey: .activeDays)
        try c.encode(lastDay, forKey: .lastDay)
        if weekAskedAt != 0 { try c.encode(weekAskedAt, forKey: .weekAskedAt) }
        // Only with calls through anonymising networks (a feed's, or addresses many accounts share).
        if anonymousCalls.contains(where: { $0 != 0 }) {
            try c.encode(anonymousCalls, forKey: .anonymousCalls)
            try c.encode(countries.map(\.anonymous), forKey: .countryAnonymous)
            if countries.contains(where: { $0.shared != 0 }) {
                try c.encode(countries.map(\.shared), forKey: .countryShared)
            }
        }
        // Only for an account with calls from a clock country: the others' state is written as before.
        if !notElsewhereCounts.isEmpty {
            try c.encode(notElsewhereCounts, forKey: .hoursNotElsewhere)
            try c.encode(slotFlags, forKey: .slotFlags)
        }
    }

    /// Counts one call.
    public mutating func record(_ call: CallObservation) {
        calls += 1
        // An instance's own calls say where the region is and run around the clock: neither is the
        // operator's location or working day.
        if call.isMachine { return }
        if call.isSignIn { signIns += 1 }
        // A CloudShell call's address is the region's: its time is the person's, its place is not.
        let located = call.country.isKnown && !call.isCloudShell
        let fromClockCountry = located && Self.clockCountryCodes.contains(call.country)
        if located {
            locatedCalls += 1
            let kind = call.network.kind
            let shared: Int32 = kind == .shared ? 1 : 0
            if let kind { anonymousCalls[kind.rawValue] &+= 1 }
            if firstCountry.code == call.country {
                firstCountry.note(call.time)
                if kind != nil { firstCountry.anonymous += 1 }
                firstCountry.shared &+= shared
            } else if !firstCountry.code.isKnown {
                firstCountry = CountryStats(call.country, call.time)
                if kind != nil { firstCountry.anonymous += 1 }
                firstCountry.shared &+= shared
            } else {
                let i: Int
                if let found = otherCountries.firstIndex(where: { $0.code == call.country }) {
                    i = found
                    otherCountries[i].note(call.time)
                } else {
                    i = otherCountries.count
                    otherCountries.append(CountryStats(call.country, call.time))
                }
                if kind != nil { otherCountries[i].anonymous += 1 }
                otherCountries[i].shared &+= shared
            }
        }
        firstSeen = min(firstSeen, call.time)
        lastSeen = max(lastSeen, call.time)
        // 1970-01-01 was a Thursday: day 0 is weekday 3 with Monday = 0.
        let hours = call.time >= 0 ? call.time / 3600 : (call.time - 3599) / 3600
        let flag: UInt8 = fromClockCountry ? 2 : located ? 1 : 0
        if hours != lastSlot {
            // The hour that ends: without a call located elsewhere, or not.
            if slotFlags & 1 == 0 && !notElsewhereCounts.isEmpty && lastSlot != .min {
                notElsewhereCounts[Self.hourIndex(lastSlot)] &+= 1
            }
            slotFlags = flag
            lastSlot = hours
            let index = UInt64(Self.hourIndex(hours))
            if pendingHours >> 56 != 0 {
                Self.forEachHour(in: pendingHours) { hourCounts.increment($0) }
                pendingHours = 0
            }
            pendingHours = pendingHours << 8 | (index + 1)
            // A new local day (mostly in time order; a day revisited out of order counts again).
            let calendar = HolidayCalendar.prc
            let day = calendar.localDay(call.time)
            if day != lastDay {
                lastDay = day
                if let kind = calendar.dayClass(day) { activeDays[kind.rawValue] &+= 1 }
            }
        } else {
            slotFlags |= flag
        }
        // From the first call from a clock country on, hours without a call located elsewhere are told apart
        // (this one's among them when it ends so).
        if fromClockCountry && notElsewhereCounts.isEmpty {
            notElsewhereCounts = [Int32](repeating: 0, count: 168)
        }
    }

    /// Calls `body` with each hour of the week (0..<168) held in `pending` (a byte each, the hour + 1; 0: none).
    private static func forEachHour(in pending: UInt64, _ body: (Int) -> Void) {
        var rest = pending
        while rest != 0 {
            let hour = Int(rest & 0xFF)
            if hour != 0 { body(hour - 1) }
            rest >>= 8
        }
    }

    /// Whether some located call came from a code in `codes`, a bitmap of ``CountryCode/raw`` (1,024 words,
    /// as ``RestrictedJurisdictions/everRestricted``).
    public func hasCalls(fromAnyOf codes: [UInt64]) -> Bool {
        var found = false
        forEachCountry { c in
            let raw = Int(c.code.raw)
            if codes[raw >> 6] & (1 << UInt64(raw & 63)) != 0 { found = true }
        }
        return found
    }

    /// Located calls from countries restricted at `time`.
    public func restrictedCount(_ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds) -> Int {
        var total = 0
        forEachCountry { c in if jurisdictions.isRestricted(c.code, time) { total += c.calls } }
        return total
    }

    /// The first and the last call from `countries`; nil without any.
    public func window(from countries: [CountryCode]) -> (first: EpochSeconds, last: EpochSeconds)? {
        var window: (first: EpochSeconds, last: EpochSeconds)? = nil
        forEachCountry {
            if countries.contains($0.code) {
                window = (min(window?.first ?? .max, $0.first), max(window?.last ?? .min, $0.last))
            }
        }
        return window
    }

    /// The first and the last call from countries restricted at `time`; nil without any.
    /// - Returns: the window, and the distinct days (UTC) with such calls (summed over countries).
    public func restrictedWindow(_ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds) -> (
        first: EpochSeconds, last: EpochSeconds, days: Int
    )? {
        var window: (first: EpochSeconds, last: EpochSeconds, days: Int)? = nil
        forEachCountry { t in
            guard jurisdictions.isRestricted(t.code, time) else { return }
            window = (
                min(window?.first ?? .max, t.first), max(window?.last ?? .min, t.last),
                (window?.days ?? 0) + Int(t.days)
            )
        }
        return window
    }

    /// The same activity with the calls only through addresses many accounts share
    /// (``AnonymousNetwork/shared``) from the countries `direct` names counted as direct: in a restricted
    /// country such an address hides nothing of where the caller is (a carrier's NAT, a local proxy), and
    /// where the account's end customer is declared it is as likely its offices' proxy or carrier as an
    /// exit. And the typical account's share counts as direct: `norm`, the share of its located calls the
    /// population's median account makes through such addresses, of this account's located calls is what
    /// any account shows (where most of a population calls through a few shared NATs or proxies, no
    /// account hides behind them); the calls already counted as direct above count toward it, and of the
    /// others as many as it leaves over, each country's in proportion (rounded down). `norm` 0 (the
    /// default, a test's): every such call outside `direct`'s countries stays through an exit. Self when
    /// there are none.
    public func sharedAsDirect(where direct: (CountryCode) -> Bool, beyond norm: Double = 0) -> AccountActivity {
        let total = anonymousCalls[AnonymousNetwork.Kind.shared.rawValue]
        guard total > 0 else { return self }
        var copy = self
        var moved: Int32 = 0
        func adjust(_ c: inout CountryStats) {
            guard c.shared > 0, direct(c.code) else { return }
            c.anonymous -= Int(c.shared)
            moved += c.shared
            c.shared = 0
        }
        adjust(&copy.firstCountry)
        for i in copy.otherCountries.indices { adjust(&copy.otherCountries[i]) }
        let remaining = Int64(total - moved)
        let keep = min(remaining, Int64(Self.beyond(norm, shared: Int(total), located: locatedCalls)))
        if keep < remaining {
            func scale(_ c: inout CountryStats) {
                guard c.shared > 0 else { return }
                let kept = Int32(Int64(c.shared) * keep / remaining)
                c.anonymous -= Int(c.shared - kept)
                moved += c.shared - kept
                c.shared = kept
            }
            scale(&copy.firstCountry)
            for i in copy.otherCountries.indices { scale(&copy.otherCountries[i]) }
        }
        guard moved > 0 else { return self }
        copy.anonymousCalls[AnonymousNetwork.Kind.shared.rawValue] -= moved
        return copy
    }

    /// The countries with calls through addresses many accounts share (``AnonymousNetwork/shared``), in the
    /// order first seen.
    public var sharedCountries: [CountryCode] {
        guard sharedCalls > 0 else { return [] }
        var out: [CountryCode] = []
        forEachCountry { c in if c.shared > 0 { out.append(c.code) } }
        return out
    }

    /// Located calls through anonymising networks but those only through addresses many accounts share
    /// from a country restricted at `time`, or within the typical account's share `norm`
    /// (``sharedAsDirect(where:beyond:)``): what may weigh as hiding, whatever the declared country (at
    /// least what any reading of the calls keeps).
    public func hidingCalls(
        _ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds, beyond norm: Double = 0
    ) -> Int {
        let shared = sharedCalls
        guard shared > 0 else { return anonymousTotal }
        var restricted = 0
        forEachCountry { c in
            if c.shared > 0 && jurisdictions.isRestricted(c.code, time) { restricted += Int(c.shared) }
        }
        let kept = min(shared - restricted, Self.beyond(norm, shared: shared, located: locatedCalls))
        return anonymousTotal - shared + kept
    }

    /// Of `shared` calls through addresses many accounts share, those beyond `norm` (a median's percentage
    /// over 100) of `located`: counted in whole percent, so that 7% of 100 calls is 7, not 7.000000000000001.
    static func beyond(_ norm: Double, shared: Int, located: Int) -> Int {
        let percent = Int((max(0, min(1, norm)) * 100).rounded())
        return max(0, shared * 100 - percent * located) / 100
    }

    /// Located calls through anonymising networks whose exit is in a country not restricted at `time`.
    public func anonymousElsewhere(_ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds) -> Int {
        var total = 0
        forEachCountry { c in if !jurisdictions.isRestricted(c.code, time) { total += c.anonymous } }
        return total
    }

    /// The calls not through anonymising networks from the account's exit countries: unrestricted countries
    /// from which at least `share` of its located calls came through anonymising networks (at least one),
    /// and those countries, most calls first. Where an account's calls from a country mostly came through
    /// listed exits, its unlisted calls from there are more likely exits the feed missed than an office
    /// that happens to sit where its exits do. At `share` 1 no country has such calls. The country in
    /// `declared` (where the account's end customer is declared) is none, and is returned as `kept` with its
    /// unlisted calls when it would have been one: there an office is likely whatever the feed lists (a home office's range the
    /// feed lists wrongly, its own servers at a host), and its unlisted calls stay in the share.
    public func exitCountryCalls(
        _ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds, share: Double,
        declared: CountryCode? = nil
    ) -> (calls: Int, countries: [CountryCode], kept: (country: CountryCode, calls: Int)?) {
        var total = 0
        var list: [(CountryCode, Int)] = []
        var kept: (country: CountryCode, calls: Int)? = nil
        forEachCountry { c in
            guard c.anonymous > 0, c.anonymous < c.calls, Double(c.anonymous) >= share * Double(c.calls),
                !jurisdictions.isRestricted(c.code, time)
            else { return }
            if c.code == declared {
                kept = (c.code, c.calls - c.anonymous)
                return
            }
            total += c.calls - c.anonymous
            list.append((c.code, c.calls))
        }
        list.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return (total, list.map(\.0), kept)
    }

    /// The unrestricted countries its calls through anonymising networks exited in, each with at least
    /// `minimumCalls` of them, most first.
    public func anonymousExits(_ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds, minimumCalls: Int)
        -> [(CountryCode, Int)]
    {
        var list: [(CountryCode, Int)] = []
        forEachCountry { c in
            guard c.anonymous > 0, c.anonymous >= minimumCalls, !jurisdictions.isRestricted(c.code, time) else {
                return
            }
            list.append((c.code, c.anonymous))
        }
        list.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return list
    }

    /// The unrestricted country (not one of `excluding`) with the most calls, and how many (only those not
    /// through anonymising networks when `direct`); nil when there is none. A tie goes to the smaller code.
    func countryWithMostCalls(
        _ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds, direct: Bool,
        excluding: [CountryCode] = []
    ) -> (country: CountryCode, calls: Int)? {
        var best: (country: CountryCode, calls: Int)? = nil
        forEachCountry { c in
            let calls = direct ? c.calls - c.anonymous : c.calls
            guard calls > 0, !excluding.contains(c.code), !jurisdictions.isRestricted(c.code, time) else { return }
            if let b = best, b.calls > calls || (b.calls == calls && b.country < c.code) { return }
            best = (c.code, calls)
        }
        return best
    }

    /// Located calls from countries restricted at `time`, and those countries by count.
    public func restrictedCalls(_ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds) -> (
        count: Int, countries: [(CountryCode, Int)]
    ) {
        var total = 0
        var list: [(CountryCode, Int)] = []
        forEachCountry { c in
            guard jurisdictions.isRestricted(c.code, time) else { return }
            total += c.calls
            list.append((c.code, c.calls))
        }
        list.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return (total, list)
    }
}

/// The one question activity asks of the jurisdiction list (kept as a closure so this type needs no catalogue).
public struct RestrictedJurisdictionsView: Sendable {
    public let isRestricted: @Sendable (CountryCode, EpochSeconds) -> Bool

    public init(isRestricted: @escaping @Sendable (CountryCode, EpochSeconds) -> Bool) {
        self.isRestricted = isRestricted
    }
}

extension AccountActivity.CountryStats {
    /// A country's first call (in an extension, so the memberwise initializer stays).
    init(_ code: CountryCode, _ time: EpochSeconds) {
        self.init(code: code, calls: 1, first: time, last: time, days: 1, shared: 0, lastDay: time / 86_400)
    }
}
