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
                    draft.evidence.append(best)
                }
            }
        }
    }
}
