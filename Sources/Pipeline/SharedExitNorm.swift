import Detection

/// How the population's accounts call through addresses many accounts share (``AnonymousNetwork/shared``)
/// while `shared_exit_accounts` is on: the accounts with at least ``minimumCalls`` located calls (not an
/// instance's own, not CloudShell's) by the percentage of them marked so, and the median of those
/// percentages as a share (``share``, set by ``settle()`` once a slice's calls are applied). What the
/// typical account shows is no evidence of hiding: where a population calls through a few shared NATs or
/// proxies, the median account does so for most of its calls (the bench's standard corpus: 0.81–0.89 as
/// its calls are applied); where its accounts call from their own addresses, for few (the generated
/// worlds: 0 at 2,000 and 20,000 accounts). The median, not the share of all calls: a few busy accounts
/// behind one provider's NAT (managed service providers in the worlds, 0.75 of their calls) make the
/// calls' share 0.14–0.20 there. 101 counts, whatever the population.
struct SharedExitNorm: Sendable, Equatable {
    /// Accounts with fewer located calls are not counted: their percentages are mostly 0 or 100.
    static let minimumCalls = 20
    /// Accounts counted before the median is read.
    static let minimumAccounts = 10
    var accounts = [Int32](repeating: 0, count: 101)
    var share = 1.0

    /// The percentage the activity `a` is counted at (-1: not counted).
    @inline(__always)
    static func percent(_ a: AccountActivity) -> Int {
        a.locatedCalls < minimumCalls ? -1 : a.sharedCalls * 100 / a.locatedCalls
    }

    /// An account counted at `before` is now counted at `after` (-1: not counted).
    @inline(__always)
    mutating func move(from before: Int, to after: Int) {
        if before >= 0 { accounts[before] -= 1 }
        if after >= 0 { accounts[after] += 1 }
    }

    /// Sets ``share`` to the counted accounts' median percentage (the lower one of an even count); 1 (no
    /// call through a shared address counts as hiding) until ``minimumAccounts`` are counted: at a
    /// stream's start the typical account is not known yet, and a population behind a few shared NATs
    /// would read as hiding behind them until it is (`tail` on a new store, its first minutes).
    mutating func settle() {
        let total = accounts.reduce(0) { $0 + Int($1) }
        guard total >= Self.minimumAccounts else {
            share = 1
            return
        }
        var seen = 0
        for (p, n) in accounts.enumerated() {
            seen += Int(n)
            if 2 * seen >= total {
                share = Double(p) / 100
                return
            }
        }
    }

    /// For the memory log: the median and how many accounts it is of.
    var report: String {
        "shared exits' median \(Int((share * 100).rounded()))% of \(accounts.reduce(0) { $0 + Int($1) }) accounts"
    }
}
