public import UsageModel

/// What the network evidence knows of one account: its calls and sign-ins by source country.
public struct AccountActivity: Sendable, Hashable {
    public var calls = 0
    public var signIns = 0
    /// Calls (sign-ins included) by the country of their source address; unknown addresses are not counted here.
    public var callsByCountry: [CountryCode: Int] = [:]
    /// Calls whose source address was located.
    public var locatedCalls = 0
    public var firstSeen: EpochSeconds = .max
    public var lastSeen: EpochSeconds = .min

    public init() {}

    /// Counts one call.
    public mutating func record(_ call: CallObservation) {
        calls += 1
        if call.isSignIn { signIns += 1 }
        if call.country.isKnown {
            locatedCalls += 1
            callsByCountry[call.country, default: 0] += 1
        }
        firstSeen = min(firstSeen, call.time)
        lastSeen = max(lastSeen, call.time)
    }

    /// Located calls from countries restricted at `time`, and those countries by count.
    public func restrictedCalls(_ jurisdictions: RestrictedJurisdictionsView, at time: EpochSeconds) -> (
        count: Int, countries: [(CountryCode, Int)]
    ) {
        var total = 0
        var list: [(CountryCode, Int)] = []
        for (country, n) in callsByCountry where jurisdictions.isRestricted(country, time) {
            total += n
            list.append((country, n))
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
