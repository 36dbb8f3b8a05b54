import UsageModel

/// Restricted accelerator-hours per reseller, summed over its accounts whose end customer is unknown:
/// the structuring evidence (many small accounts under one reseller, each unremarkable, whose sum is
/// large). Accounts with a declared end customer are left out: their customer is known.
public struct ResellerAggregate: Sendable, Codable {
    /// reseller → account → restricted accelerator-hours of its closed sessions.
    private var hours: [String: [String: Double]] = [:]

    public init() {}

    public mutating func add(reseller: String, account: String, acceleratorHours: Double) {
        hours[reseller, default: [:]][account, default: 0] += acceleratorHours
    }

    /// One account's hours under one reseller (a checkpoint row), and every pair held.
    public func hours(reseller: String, account: String) -> Double? { hours[reseller]?[account] }
    public mutating func restore(reseller: String, account: String, hours h: Double) {
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
}
