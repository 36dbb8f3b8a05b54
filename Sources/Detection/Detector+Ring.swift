#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import UsageModel
import Ownership
import Sessions

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
}
