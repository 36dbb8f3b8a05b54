public import Sessions
import UsageModel

extension Detector {
    /// The accounts likely run by the operator of account `key`, for the shared-identity and ring
    /// families: its strongest partners in the identity graph (at most twelve, each at least
    /// `ringPeerLogRatio`), and through each likely one (probability at least a half) eight of its own
    /// (two steps). `name` gives an account's id from its key; partners without one are left out.
    public func identityPartners(
        of key: UInt64, in identities: IdentityGraph, name: (UInt64) -> String?
    ) -> [IdentityPartner] {
        let population = identities.population
        let parameters = config.identity
        var out: [IdentityPartner] = []
        let candidates = identities.partners(
            of: key, population: population, parameters: parameters, minimumLogRatio: config.ringPeerLogRatio)
        for p in candidates.prefix(12) {
            guard let account = name(p.account) else { continue }
            out.append(
                IdentityPartner(
                    account: account, probability: p.probability, shared: Self.describe(p, population: population),
                    seenIn: Self.seenIn(p), logRatio: p.logRatio))
            guard p.probability >= 0.5 else { continue }
            for q in identities.partners(of: p.account, population: population, parameters: parameters).prefix(8)
            where q.account != key {
                guard let next = name(q.account) else { continue }
                out.append(
                    IdentityPartner(
                        account: next, probability: p.probability * q.probability,
                        shared: Self.describe(q, population: population), via: account, seenIn: Self.seenIn(q),
                        logRatio: q.logRatio))
            }
        }
        return out
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
