import UsageModel

/// Restricted accelerator-hours per reseller, summed over its accounts whose end customer is unknown:
/// the structuring evidence (many small accounts under one reseller, each unremarkable, whose sum is
/// large). Its accounts with restricted use and a declared end customer are held apart (their customer
/// is known): with them, the share of a reseller's accounts with restricted use whose customer is unknown,
/// and the same share over the whole population, which a reseller's share is judged against. Beside
/// them, for each undeclared account, whether its own calls lean to a restricted country (held under
/// ``callingKey(_:)``, 1 or 0, as of its last closed restricted session or its last new call from one):
/// a reseller fronting for one operator's accounts in a restricted country has many that do.
public struct ResellerAggregate: Sendable, Codable {
    /// reseller → account → restricted accelerator-hours of its closed sessions. Accounts with a declared
    /// end customer are held under ``declaredKey(_:)`` of their reseller, whether undeclared accounts' calls
    /// lean to a restricted country under ``callingKey(_:)``: a checkpoint's rows are these pairs whatever
    /// they hold.
    private var hours: [String: [String: Double]] = [:]
    /// Accounts held over every reseller: with an unknown end customer, and with a declared one.
    private var undeclaredCount = 0
    private var declaredCount = 0
    /// Undeclared accounts over every reseller whose calls lean to a restricted country.
    private var callingCount = 0

    public init() {}

    // Only the pairs are saved (as before the counts were kept): the counts follow from them.
    private enum CodingKeys: String, CodingKey { case hours }
    public init(from decoder: any Decoder) throws {
        let saved = try decoder.container(keyedBy: CodingKeys.self).decode(
            [String: [String: Double]].self, forKey: .hours)
        for (reseller, accounts) in saved {
            for (account, h) in accounts { restore(reseller: reseller, account: account, hours: h) }
        }
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hours, forKey: .hours)
    }

    /// The key under which a reseller's accounts with a declared end customer are held: a character no
    /// reseller id starts with.
    public static func declaredKey(_ reseller: String) -> String { "\u{1}" + reseller }

    /// The key under which it is held whether a reseller's undeclared accounts' calls lean to a restricted
    /// country (1) or not (0).
    public static func callingKey(_ reseller: String) -> String { "\u{2}" + reseller }

    public mutating func add(reseller: String, account: String, acceleratorHours: Double) {
        count(reseller, account)
        hours[reseller, default: [:]][account, default: 0] += acceleratorHours
    }

    /// An account with restricted use whose end customer is declared: counted in its reseller's accounts
    /// with restricted use, not in its undeclared sum.
    public mutating func addDeclared(reseller: String, account: String, acceleratorHours: Double) {
        add(reseller: Self.declaredKey(reseller), account: account, acceleratorHours: acceleratorHours)
    }

    /// Notes whether an undeclared account's own calls lean to a restricted country (its network
    /// evidence's log-likelihood ratio above 0, before any cap), replacing what was noted before.
    public mutating func noteCalls(reseller: String, account: String, leanRestricted: Bool) {
        restore(reseller: Self.callingKey(reseller), account: account, hours: leanRestricted ? 1 : 0)
    }

    private mutating func count(_ reseller: String, _ account: String) {
        guard hours[reseller]?[account] == nil else { return }
        if reseller.hasPrefix("\u{1}") {
            declaredCount += 1
        } else if !reseller.hasPrefix("\u{2}") {
            undeclaredCount += 1
        }
    }

    /// One account's hours under one reseller (a checkpoint row), and every pair held.
    public func hours(reseller: String, account: String) -> Double? { hours[reseller]?[account] }
    public mutating func restore(reseller: String, account: String, hours h: Double) {
        if reseller.hasPrefix("\u{2}") {
            callingCount += (h > 0 ? 1 : 0) - ((hours[reseller]?[account] ?? 0) > 0 ? 1 : 0)
        }
        count(reseller, account)
        hours[reseller, default: [:]][account] = h
    }
    public var pairs: [(reseller: String, account: String)] {
        hours.flatMap { r in r.value.keys.map { (r.key, $0) } }
    }

    /// The reseller's undeclared accounts with restricted use, and their hours.
    public func peers(of reseller: String) -> (accounts: Int, hours: Double, byAccount: [String: Double]) {
        let all = hours[reseller] ?? [:]
        // Summed in account order: a dictionary's order changes from process to process, and the last
        // bits of a sum with it (at a threshold, the evidence) would too.
        let total = all.keys.sorted().reduce(0.0) { $0 + all[$1]! }
        return (all.count, total, all)
    }

    /// The reseller's accounts with restricted use and a declared end customer.
    public func declaredAccounts(of reseller: String) -> Int { hours[Self.declaredKey(reseller)]?.count ?? 0 }

    /// The reseller's undeclared accounts whose calls lean to a restricted country, as noted.
    public func callingAccounts(of reseller: String) -> Set<String> {
        Set((hours[Self.callingKey(reseller)] ?? [:]).filter { $0.value > 0 }.keys)
    }

    /// Undeclared accounts over every reseller whose calls lean to a restricted country (an account under
    /// two resellers counts under each).
    public var populationCalling: Int { callingCount }

    /// Accounts with restricted use under every reseller: how many have an unknown end customer, and how
    /// many in all (an account under two resellers, or declared under one and not under another, counts
    /// under each).
    public var population: (undeclared: Int, accounts: Int) {
        (undeclaredCount, undeclaredCount + declaredCount)
    }
}
