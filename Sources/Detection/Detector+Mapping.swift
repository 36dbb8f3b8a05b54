#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import UsageModel
import Catalog
import Ownership

extension Detector {
    /// What the account's mapping says: its end customer's declared country (restricted, or elsewhere:
    /// evidence against, which the network family may weigh down) and the best restricted link of its
    /// reseller chain (the account's own reseller and those above it calibrated apart).
    func mappingEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let time = c.time
        if let mapping = c.mapping {
            if let country = mapping.endCustomerCountry {
                if jurisdictions.isRestricted(country, at: time) {
                    draft.reach(country)
                    draft.evidence.append(
                        Evidence(
                            kind: .declaredCountry,
                            detail:
                                "end customer \(mapping.endCustomerID ?? "(unnamed)") declared in \(country)\(basisText(country))",
                            weight: config.declaredCountryWeight, sources: [mapping.origin]))
                } else {
                    draft.declaredElsewhere = (draft.evidence.count, country)
                    draft.evidence.append(
                        Evidence(
                            kind: .declaredCountry,
                            detail:
                                "end customer \(mapping.endCustomerID ?? "(unnamed)") declared in \(country), not restricted",
                            weight: config.declaredUnrestrictedWeight, sources: [mapping.origin]))
                }
            }
            if let resellerID = mapping.resellerID {
                draft.chain = resellers.chain(from: resellerID)
                let customerKnown = mapping.endCustomerCountry != nil
                var best: Evidence? = nil
                var bestDepth = 0
                var bestServes = false
                for (depth, reseller) in draft.chain.enumerated() {
                    let decay = pow(config.chainDecay, Double(depth))
                    let via = depth == 0 ? "" : " (via \(draft.chain[0..<depth].map(\.id).joined(separator: " -> ")))"
                    if let country = reseller.country, jurisdictions.isRestricted(country, at: time) {
                        draft.reach(country)
                        let e = Evidence(
                            kind: .resellerChain,
                            detail: "\(reseller.id) is in \(country)\(basisText(country))\(via)",
                            weight: config.resellerCountryWeight * decay, sources: [mapping.origin, reseller.origin])
                        if best == nil || e.weight > best!.weight { (best, bestDepth, bestServes) = (e, depth, false) }
                    }
                    let served = jurisdictions.restricted(in: reseller.servesCountries, at: time)
                    if !served.isEmpty && !customerKnown {
                        served.forEach { draft.reach($0) }
                        let e = Evidence(
                            kind: .resellerChain,
                            detail:
                                "\(reseller.id) serves \(served.map(\.description).joined(separator: ";"))\(via); end customer country unknown",
                            weight: config.resellerServesWeight * decay, sources: [mapping.origin, reseller.origin])
                        if best == nil || e.weight > best!.weight { (best, bestDepth, bestServes) = (e, depth, true) }
                    }
                }
                if let best {
                    // The account's own reseller and those further up are calibrated apart: a
                    // distributor's country says less about one customer than its reseller's.
                    // A distributor that declares it serves a restricted country, above a reseller
                    // that leaves its customer's country unknown, is calibrated apart from one that is
                    // only incorporated there (and serves elsewhere).
                    if bestDepth > 0 { (draft.upstream, draft.upstreamServes) = (draft.evidence.count, bestServes) }
                    if bestDepth == 0 && !bestServes { draft.ownReseller = draft.evidence.count }
                    draft.evidence.append(best)
                }
            }
        }
    }

    /// A reseller incorporated in a restricted country, whose customer the account's own calls place where
    /// the mapping declares it: at least `declaredSupportShare` of its located calls (at least
    /// `declaredSupportMinimumCalls`) from the declared country and under
    /// `resellerBorneOutRestrictedShare` from restricted ones, counted as the network share counts them
    /// (``AssessmentDraft/declaredCalls``: calls through anonymising networks elsewhere left out, and those
    /// exiting in the declared country bear nothing out). The link is where the reseller is
    /// incorporated, which the account's conduct does not bear out: it weighs `resellerBorneOutFactor` of
    /// its weight. Only the account's own reseller (a distributor further up says less already), and only
    /// beside a declaration (with none, its calls may place the customer: ``resellerPlacedEvidence(_:into:)``).
    /// (The PRC's holidays as a second witness for an undeclared customer were tried: alerts come in the
    /// first days of restricted use, weeks before a holiday can be heard.)
    func resellerSupportEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        // The network share's counts: a call through an anonymising network exiting in the declared country
        // bears nothing out, and one from a restricted country counts whatever network it came through.
        guard config.resellerBorneOutFactor < 1, let index = draft.ownReseller,
            let declared = draft.declaredElsewhere, draft.unsupportedDeclaration == nil,
            let own = draft.declaredCalls, let (restricted, n) = draft.networkShare,
            callsPlace(own, restricted: restricted, of: n)
        else { return }
        draft.evidence[index].weight *= config.resellerBorneOutFactor
        draft.evidence[index].detail +=
            "; the account's own calls bear its end customer's declaration out (\(own) of \(n) located calls from \(declared.country), \(restricted) from restricted countries): the link is where the reseller is incorporated, weighs \(JSONWriter.formatNumber(config.resellerBorneOutFactor, decimals: 2)) of its weight"
    }

    /// A reseller incorporated in a restricted country, of whose end customer's country nothing is declared,
    /// and whose account's own calls place the customer elsewhere: the unrestricted country most of its
    /// located calls came from (a tie: the smaller code; ``AssessmentDraft/placedCalls``), counted as the
    /// network share counts them (calls through anonymising networks elsewhere and an exit country's left
    /// out), with at least `declaredSupportShare` of them (and at least `declaredSupportMinimumCalls`), under
    /// `resellerBorneOutRestrictedShare` from restricted countries, and a country the reseller serves (any,
    /// when it says nothing of whom it serves: one that serves only restricted countries has no customer
    /// there). The calls say where the customer is as a declaration would, and are harder to write: the
    /// reseller's country weighs `resellerPlacedFactor` of its weight. Only the account's own reseller, as
    /// above, and only where the account's first call came once the mapping's row had begun (an account that
    /// changed hands made its earlier calls for another customer; the row is the one in force at the
    /// session's start, and its calls are all of the account's so far, so a row that ends later is not
    /// asked about). Only where the reseller's own country was the chain's best link: a reseller that also
    /// serves a restricted country keeps that link's weight when it was the larger (by default it is not,
    /// 5.0 against 6.0). An operator that never called from a restricted country but through one jump host
    /// abroad that no feed lists looks the same: this lowers its score, and its other evidence (clock,
    /// holidays, identity) still counts.
    func resellerPlacedEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        guard config.resellerPlacedFactor < 1, let index = draft.ownReseller, let placed = draft.placedCalls,
            let (restricted, n) = draft.networkShare, callsPlace(placed.calls, restricted: restricted, of: n),
            let serves = draft.chain.first?.servesCountries, serves.isEmpty || serves.contains(placed.country),
            // Calls made before the mapping's row began may be another customer's: they place no one.
            let first = c.activity?.firstSeen, first >= c.mapping?.validFrom ?? .min
        else { return }
        draft.evidence[index].weight *= config.resellerPlacedFactor
        draft.evidence[index].detail +=
            "; nothing is declared of its end customer's country, but the account's own calls place it in \(placed.country) (\(placed.calls) of \(n) located calls, \(restricted) from restricted countries): the link is where the reseller is incorporated, weighs \(JSONWriter.formatNumber(config.resellerPlacedFactor, decimals: 2)) of its weight"
    }

    /// Whether `own` of the network share's `located` calls (at least `declaredSupportMinimumCalls`) place the
    /// customer in a country: at least `declaredSupportShare` of them, and under `resellerBorneOutRestrictedShare`
    /// from restricted countries (`restricted`).
    func callsPlace(_ own: Int, restricted: Int, of located: Int) -> Bool {
        let n = Double(located)
        return located > 0 && n >= config.declaredSupportMinimumCalls && Double(own) / n >= config.declaredSupportShare
            && Double(restricted) / n < config.resellerBorneOutRestrictedShare
    }
}
