#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import UsageModel
import Ownership
public import Sessions

extension Detector {
    /// Ring: accounts onboarded recently under a reseller chain that reaches a restricted jurisdiction,
    /// run alike (probable same operator), whatever end customers they declare. A peer's mapping is the
    /// one valid at this session's start or, if none was yet, its first after (a ring's members are
    /// onboarded one after another: an earlier member's session, looked at again, counts the later
    /// ones). The peers counted are kept in the draft when the ring weighs: their earlier sessions are
    /// looked at again when this one alerts.
    func ringEvidence(_ c: AssessmentContext, partners: [IdentityPartner], into draft: inout AssessmentDraft) {
        let (session, time, restricted) = (c.session, c.time, c.restricted)
        if restricted, let mapping = c.mapping, let resellerID = mapping.resellerID, let onboarded = mapping.validFrom,
            session.start >= onboarded, session.start - onboarded <= Int64(config.ringRecentDays * 86_400)
        {
            let reaches = chainReach(from: resellerID, at: time)
            if !reaches.countries.isEmpty {
                let chainIDs = Set(draft.chain.map(\.id))
                var peers: [String] = []
                // A peer: probably one operator in the whole population, or a shared set that would be
                // among the accounts of one chain's recent cohort (the likelihood ratio alone: the
                // population's prior of a pair is not the cohort's).
                for partner in partners
                where partner.via == nil
                    && (partner.probability >= config.ringPeerProbability
                        || partner.logRatio >= config.ringPeerLogRatio)
                {
                    guard
                        let m = mappings.mapping(
                            provider: session.provider.rawValue, account: partner.account, atOrAfter: time),
                        let r = m.resellerID, r == resellerID || chainIDs.contains(r),
                        let from = m.validFrom, abs(from - onboarded) <= Int64(config.ringRecentDays * 86_400)
                    else { continue }
                    if !peers.contains(partner.account) { peers.append(partner.account) }
                }
                if Double(peers.count) >= config.ringMinPeers {
                    let w = min(
                        config.ringCap, config.ringWeight * log2(1 + Double(peers.count) / max(1, config.ringMinPeers)))
                    if w * (config.familyFactors["ring"] ?? 1) > 0 { draft.ringPeers = peers }
                    reaches.countries.forEach { draft.reach($0) }
                    let shown = peers.prefix(5).joined(separator: ", ") + (peers.count > 5 ? ", ..." : "")
                    draft.evidence.append(
                        Evidence(
                            kind: .ring,
                            detail:
                                "one of \(peers.count + 1) accounts onboarded within \(Int(config.ringRecentDays)) days under \(resellerID), whose chain reaches \(reaches.countries.map(\.description).joined(separator: ";")) (\(reaches.via)), run alike: \(shown); this one onboarded \(Timestamp.format(onboarded))",
                            weight: w, sources: [mapping.origin]))
                }
            }
        }
    }

    /// A ring in the recent cohort of an account's reseller, for an account that has delivered no audit
    /// trail (only billing): nothing of its own says whether it is run alike with the cohort's ring or
    /// not, so it weighs what a ring member's reading would, times the share of the cohort's accounts with
    /// a trail that are in the ring (a reseller fronting for one ring: near 1; a large reseller with a
    /// ring among many honest customers: small).
    public struct CohortRing: Sendable, Equatable {
        /// The cohort's accounts with an audit trail and restricted use, run alike with at least
        /// `ringMinPeers` others of it, in name order.
        public var members: [String]
        /// How many of the cohort's accounts have an audit trail.
        public var withTrail: Int

        public init(members: [String], withTrail: Int) {
            self.members = members
            self.withTrail = withTrail
        }
    }

    /// The ring among the cohort of `session`'s account, which has delivered no audit trail: the accounts
    /// mapped to its reseller (`accounts`) and onboarded within `ringRecentDays` of it (as ring peers are),
    /// those with a trail (`hasTrail`), and of them the ones with restricted use (`restrictedUse`, under the reseller: a ring's
    /// own reading asks restricted use; run-alike staff of a managed-service provider without accelerators are
    /// no ring) run alike (`partners`, read as ring peers are) with at least `ringMinPeers` others of the
    /// cohort. Nil unless the session is restricted use under a
    /// chain that reaches a restricted jurisdiction, within `ringRecentDays` of the account's onboarding,
    /// and the ring has more than `ringMinPeers` members; nil too with `ringTrailless` 0.
    /// - Complexity: one partner look-up per account of the cohort with a trail.
    public func cohortRing(
        of session: Session, accounts: (String) -> [String], hasTrail: (String) -> Bool,
        restrictedUse: (_ account: String, _ reseller: String) -> Bool, partners: (String) -> [IdentityPartner]
    ) -> CohortRing? {
        let time = session.start
        let provider = session.provider.rawValue
        let window = Int64(config.ringRecentDays * 86_400)
        guard config.ringTrailless >= 0.5, consumesRestricted(session),
            let mapping = mappings.mapping(provider: provider, account: session.accountID, at: time),
            let resellerID = mapping.resellerID, let onboarded = mapping.validFrom, time >= onboarded,
            time - onboarded <= window, !chainReach(from: resellerID, at: time).countries.isEmpty
        else { return nil }
        var cohort: [String] = []
        for account in accounts(resellerID)
        where account != session.accountID && hasTrail(account)
            && isOfCohort(account, reseller: resellerID, onboarded: onboarded, provider: provider, at: time)
        {
            cohort.append(account)
        }
        guard Double(cohort.count) > config.ringMinPeers else { return nil }
        let inCohort = Set(cohort)
        let members = cohort.filter { account in
            guard restrictedUse(account, resellerID) else { return false }
            var peers = Set<String>()
            for p in partners(account)
            where p.via == nil && inCohort.contains(p.account)
                && (p.probability >= config.ringPeerProbability || p.logRatio >= config.ringPeerLogRatio)
            {
                peers.insert(p.account)
            }
            return Double(peers.count) >= config.ringMinPeers
        }
        guard Double(members.count) > config.ringMinPeers else { return nil }
        return CohortRing(members: members, withTrail: cohort.count)
    }

    /// Whether `account` is of the recent cohort of `reseller`: its mapping from `time` on (as ring peers'
    /// are read) names that reseller and began within `ringRecentDays` of `onboarded`.
    public func isOfCohort(
        _ account: String, reseller: String, onboarded: EpochSeconds, provider: String, at time: EpochSeconds
    ) -> Bool {
        guard let m = mappings.mapping(provider: provider, account: account, atOrAfter: time),
            m.resellerID == reseller, let from = m.validFrom
        else { return false }
        return abs(from - onboarded) <= Int64(config.ringRecentDays * 86_400)
    }

    /// The evidence of ``CohortRing`` for an account without a trail (and no ring evidence of its own).
    func cohortRingEvidence(_ c: AssessmentContext, _ cohort: CohortRing, into draft: inout AssessmentDraft) {
        guard c.restricted, c.activity == nil, !draft.evidence.contains(where: { $0.kind == .ring }),
            let mapping = c.mapping, let resellerID = mapping.resellerID,
            let onboarded = mapping.validFrom
        else { return }
        let reaches = chainReach(from: resellerID, at: c.time)
        guard !reaches.countries.isEmpty, cohort.withTrail > 0 else { return }
        let share = Double(cohort.members.count) / Double(cohort.withTrail)
        let w =
            min(
                config.ringCap, config.ringWeight * log2(1 + Double(cohort.members.count) / max(1, config.ringMinPeers))
            )
            * share
        guard w > 0 else { return }
        reaches.countries.forEach { draft.reach($0) }
        let shown = cohort.members.prefix(5).joined(separator: ", ") + (cohort.members.count > 5 ? ", ..." : "")
        draft.evidence.append(
            Evidence(
                kind: .ring,
                detail:
                    "no audit trail read from this account so far, only billing: of the \(cohort.withTrail) other accounts with a trail onboarded within \(Int(config.ringRecentDays)) days under \(resellerID), whose chain reaches \(reaches.countries.map(\.description).joined(separator: ";")) (\(reaches.via)), \(cohort.members.count) are run alike as a ring with restricted use (\(shown)); nothing of its own tells this one apart from them: the ring weight of an account run alike with all of them times that share (\(JSONWriter.formatNumber(share, decimals: 2))); this one onboarded \(Timestamp.format(onboarded))",
                weight: w, sources: [mapping.origin]))
    }
}
