import UsageModel
import Ownership
import Sessions

extension Detector {
    /// Shared identity: an account probably run by the same people as a linked account inherits that
    /// link in proportion to the probability (one step, or two with the chain's decay). Its own
    /// declarations stay evidence beside it: a declaration is what a diverter controls.
    func sharedIdentityEvidence(_ c: AssessmentContext, partners: [IdentityPartner], into draft: inout AssessmentDraft)
    {
        let (session, time) = (c.session, c.time)
        var bestShared: (Evidence, [CountryCode])? = nil
        // Pooled partners come after the others (``identityPartners(of:in:name:)``): each is looked at.
        for partner in partners.prefix(24) + partners.dropFirst(24).filter(\.pooled)
        where partner.account != session.accountID {
            guard let link = mappingLink(provider: session.provider.rawValue, account: partner.account, at: time) else {
                continue
            }
            // A pooled partner's probability already weighs the account in between.
            let decay = partner.via == nil || partner.pooled ? 1.0 : config.chainDecay
            let w = min(
                config.sharedIdentityCap, config.sharedIdentityShare * partner.probability * decay * link.weight)
            guard w > 0.05 else { continue }
            if bestShared == nil || w > bestShared!.0.weight {
                let p = JSONWriter.formatNumber(partner.probability, decimals: 3)
                let q = JSONWriter.formatNumber(partner.viaProbability, decimals: 3)
                let detail =
                    partner.pooled
                    ? "probably operated by the same people as account \(partner.account) (\(link.detail)) and account \(partner.via ?? ""), which they probably run too (probability \(q)); together, probability \(p): \(partner.shared) with the two"
                    : partner.via.map {
                        "probably operated like account \($0), which is like account \(partner.account) (\(link.detail)); two steps, probability \(p): \(partner.shared)"
                    }
                        ?? "probably operated by the same people as account \(partner.account) (\(link.detail)), probability \(p): \(partner.shared)"
                let sources =
                    (mappings.mapping(provider: session.provider.rawValue, account: partner.account, at: time).map {
                        [$0.origin]
                    } ?? []) + partner.seenIn
                bestShared = (
                    Evidence(kind: .sharedIdentity, detail: detail, weight: w, sources: sources), link.countries
                )
            }
        }
        if let (e, countries) = bestShared {
            countries.forEach { draft.reach($0) }
            draft.evidence.append(e)
        }
    }
}
