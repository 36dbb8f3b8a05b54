#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import Sessions
import UsageModel

extension Detector {
    /// The accounts likely run by the operator of account `key`, for the shared-identity and ring
    /// families: its strongest partners in the identity graph (at most twelve, each at least
    /// `ringPeerLogRatio`), and through each likely one (probability at least a half) eight of its own
    /// (two steps). With `sharedIdentityPooled`, also the likely partners (a half or more) of each of
    /// those twelve, pooled (``pooledPartners(of:candidates:every:in:searched:name:)``). `name` gives an
    /// account's id from its key; partners without one are left out.
    public func identityPartners(
        of key: UInt64, in identities: IdentityGraph, name: (UInt64) -> String?
    ) -> [IdentityPartner] {
        var searched = PartnerSearches()
        return identityPartners(of: key, in: identities, searched: &searched, name: name)
    }

    /// The same, with the graph's partner searches kept in `searched` for later calls while the graph
    /// (and the configuration) stands still: the caller empties it when either changes.
    public func identityPartners(
        of key: UInt64, in identities: IdentityGraph, searched: inout PartnerSearches, name: (UInt64) -> String?
    ) -> [IdentityPartner] {
        let population = identities.population
        let parameters = config.identity
        var out: [IdentityPartner] = []
        let pooling = config.sharedIdentityPooled >= 0.5
        // Pooling reads every account the assessed one shares a value with; the candidates are the
        // same either way.
        let every = searched.partners(
            of: key, in: identities, population: population, parameters: parameters, minimum: pooling ? 0 : 0.05,
            minimumLogRatio: pooling ? 0 : config.ringPeerLogRatio)
        let candidates =
            pooling ? every.filter { $0.probability >= 0.05 || $0.logRatio >= config.ringPeerLogRatio } : every
        for p in candidates.prefix(12) {
            guard let account = name(p.account) else { continue }
            out.append(
                IdentityPartner(
                    account: account, probability: p.probability, shared: Self.describe(p, population: population),
                    seenIn: Self.seenIn(p), logRatio: p.logRatio))
            guard p.probability >= 0.5 else { continue }
            for q in searched.partners(of: p.account, in: identities, population: population, parameters: parameters)
                .prefix(8)
            where q.account != key {
                guard let next = name(q.account) else { continue }
                out.append(
                    IdentityPartner(
                        account: next, probability: p.probability * q.probability,
                        shared: Self.describe(q, population: population), via: account, seenIn: Self.seenIn(q),
                        logRatio: q.logRatio))
            }
        }
        if pooling {
            out += pooledPartners(
                of: key, candidates: candidates.prefix(12), every: every, in: identities, searched: &searched,
                name: name)
        }
        return out
    }

    /// An account's partners in the identity graph (``IdentityGraph/partners(of:population:parameters:minimum:minimumLogRatio:)``),
    /// each account's searched once while the graph stands still: one assessment asks for the same
    /// account's partners up to three times (its own candidates, their own partners, and again for
    /// pooling), and the accounts of one tick ask for each other's. Every partner is kept (none below a
    /// minimum left out) and a call's minimum is applied to the list kept, which gives that call's list:
    /// partners are in one order (probability, then account) whatever the minimum.
    ///
    /// The searches kept hold at most `limit` partners: at the end of the input every running session
    /// is assessed with the graph standing still, and every account's partners (every account it shares
    /// a value with, each with its shared values) were kept until the last: +75 MB at the end of a
    /// 20,000-account run, its peak (issue 17). Past the limit the searches kept are let go, and made
    /// again when asked: a cache, whose size changes no result. A single search larger than the limit is
    /// kept alone.
    public struct PartnerSearches: Sendable {
        private var every: [UInt64: [IdentityGraph.Partner]] = [:]
        /// Searches made (for tests that count work).
        public private(set) var searches = 0
        /// Partners kept in `every`, and at most how many.
        public private(set) var kept = 0
        public var limit: Int

        /// ~30 MB of partners: at the end of the 20,000-account run (637,166 partners kept unbounded) the
        /// searches made again cost 1.1 s of the run's 164 (65,536: 2.4 s).
        public static let defaultLimit = 262_144

        public init(limit: Int = PartnerSearches.defaultLimit) { self.limit = limit }

        public mutating func removeAll() {
            every.removeAll(keepingCapacity: true)
            kept = 0
        }

        mutating func partners(
            of account: UInt64, in identities: IdentityGraph, population: Int, parameters: IdentityGraph.Parameters,
            minimum: Double = 0.05, minimumLogRatio: Double = .infinity
        ) -> [IdentityGraph.Partner] {
            // With a prior that is not finite a probability may be NaN, which the order does not place:
            // searched as asked, not kept.
            guard IdentityGraph.pairPrior(population: population, parameters: parameters).isFinite else {
                return identities.partners(
                    of: account, population: population, parameters: parameters, minimum: minimum,
                    minimumLogRatio: minimumLogRatio)
            }
            let all: [IdentityGraph.Partner]
            if let known = every[account] {
                all = known
            } else {
                searches += 1
                all = identities.partners(
                    of: account, population: population, parameters: parameters, minimum: 0,
                    minimumLogRatio: -.infinity)
                if kept + all.count > limit { removeAll() }
                every[account] = all
                kept += all.count
            }
            return all.filter { $0.probability >= minimum || $0.logRatio >= minimumLogRatio }
        }
    }

    /// One operator's accounts pooled: for each candidate X of the assessed account A, and each account
    /// T that X is probably run with (probability q ≥ a half, eight at most), the values A shares with
    /// X or with T count together, each value once at its best, as one shared set with T's operator —
    /// the people who run two accounts bring their names to one and their hosts to the other. The
    /// probability that A is run by T's people is then q × P(pooled set) + (1 − q) × P(what A shares
    /// with T alone); a pooled partner is kept only where that is above what A shares with T alone.
    /// - Complexity: one partner search per candidate (at most twelve).
    func pooledPartners(
        of key: UInt64, candidates: ArraySlice<IdentityGraph.Partner>, every: [IdentityGraph.Partner],
        in identities: IdentityGraph, searched: inout PartnerSearches, name: (UInt64) -> String?
    ) -> [IdentityPartner] {
        let population = identities.population
        let parameters = config.identity
        let prior = IdentityGraph.pairPrior(population: population, parameters: parameters)
        var direct: [UInt64: IdentityGraph.Partner] = [:]
        for p in every where direct[p.account] == nil { direct[p.account] = p }
        var best: [UInt64: IdentityPartner] = [:]
        var order: [UInt64] = []
        for x in candidates {
            guard let via = name(x.account) else { continue }
            for t in searched.partners(
                of: x.account, in: identities, population: population, parameters: parameters, minimum: 0.5
            ).prefix(8) where t.account != key {
                let alone = direct[t.account]
                var values: [UInt64: IdentityGraph.SharedValue] = [:]
                for v in (alone?.shared ?? []) + x.shared {
                    let id = v.key ^ UInt64(v.kind.rawValue)
                    if let held = values[id], held.logRatio >= v.logRatio { continue }
                    values[id] = v
                }
                let shared = values.values.sorted {
                    $0.logRatio != $1.logRatio ? $0.logRatio > $1.logRatio : $0.key < $1.key
                }
                let ratio = IdentityGraph.logRatio(of: shared, secondPerson: parameters.secondPersonFactor)
                let together = 1 / (1 + exp(-(ratio + prior)))
                let aloneProbability = alone?.probability ?? 0
                let probability = t.probability * together + (1 - t.probability) * aloneProbability
                guard probability >= 0.05, probability > aloneProbability, let account = name(t.account) else {
                    continue
                }
                if let held = best[t.account], held.probability >= probability { continue }
                if best[t.account] == nil { order.append(t.account) }
                let pooled = IdentityGraph.Partner(
                    account: t.account, logRatio: ratio, probability: together, shared: shared)
                best[t.account] = IdentityPartner(
                    account: account, probability: probability, shared: Self.describe(pooled, population: population),
                    via: via, seenIn: Self.seenIn(pooled), logRatio: ratio, pooled: true, viaProbability: t.probability)
            }
        }
        return order.compactMap { best[$0] }
    }

    /// Whether an assessment of `session` could alert: restricted use, and some evidence that can name a
    /// jurisdiction — a mapping link, calls from restricted countries (`activity`), or a partner whose
    /// mapping links it (`partners` is asked only when the account `hasPartners`). Exactly the
    /// assessments that can alert pass; the others are skipped where nothing else needs them.
    public func mayAlert(
        _ session: Session, activity: AccountActivity?, hasPartners: Bool, partners: () -> [IdentityPartner]
    ) -> Bool {
        guard consumesRestricted(session) else { return false }
        let provider = session.provider.rawValue
        if hasMappingLink(provider: provider, account: session.accountID, at: session.start)
            || chainReaches(provider: provider, account: session.accountID, at: session.start)
        {
            return true
        }
        if let activity, activity.restrictedCount(jurisdictionView, at: session.start) > 0 { return true }
        guard hasPartners else { return false }
        return partners().contains { p in
            hasMappingLink(provider: provider, account: p.account, at: session.start)
        }
    }

    /// The inputs where the partner's strongest shared values became shared (at most three, in order).
    static func seenIn(_ p: IdentityGraph.Partner) -> [String] {
        var out: [String] = []
        for v in p.shared.prefix(5) {
            if let path = v.sharedIn, !out.contains(path) { out.append(path) }
            if out.count == 3 { break }
        }
        return out
    }

    /// What two accounts share, for evidence: each value (at most five), how many accounts show it, and
    /// for addresses the shares of both accounts' calls through it.
    static func describe(_ p: IdentityGraph.Partner, population: Int) -> String {
        let parts = p.shared.prefix(5).map { v -> String in
            var text =
                "\(v.kind.label) \(v.name.map { "'\($0)'" } ?? "(unnamed)") (\(v.accountsShowing) of \(population) accounts"
            if v.kind == .address {
                text +=
                    "; \(JSONWriter.formatNumber(100 * v.shares.0, decimals: 0))% and \(JSONWriter.formatNumber(100 * v.shares.1, decimals: 0))% of their calls"
            }
            return text + ")"
        }
        let more = p.shared.count > 5 ? " and \(p.shared.count - 5) more" : ""
        return "shares " + parts.joined(separator: ", ") + more
            + "; log-likelihood ratio \(JSONWriter.formatNumber(p.logRatio, decimals: 1))"
    }
}
