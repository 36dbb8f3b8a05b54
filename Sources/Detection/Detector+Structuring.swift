#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import UsageModel
import Ownership
import Sessions

extension Detector {
    /// Structuring: this account is one of many with unknown end customers under one reseller whose
    /// restricted use adds up. A booster: names no jurisdiction.
    func structuringEvidence(_ c: AssessmentContext, aggregate: ResellerAggregate?, into draft: inout AssessmentDraft) {
        let (session, restricted, hours) = (c.session, c.restricted, c.hours)
        if restricted, let aggregate, let mapping = c.mapping, mapping.endCustomerCountry == nil,
            let resellerID = mapping.resellerID
        {
            var peers = aggregate.peers(of: resellerID)
            if peers.byAccount[session.accountID] == nil { peers.accounts += 1 }
            peers.hours += hours
            let ownTotal = (peers.byAccount[session.accountID] ?? 0) + hours
            if peers.accounts >= config.structuringMinAccounts && peers.hours >= config.structuringMinHours
                && ownTotal <= peers.hours / 3
            {
                let w = min(
                    config.structuringCap,
                    config.structuringWeight * log2(1 + Double(peers.accounts) / Double(config.structuringMinAccounts)))
                draft.evidence.append(
                    Evidence(
                        kind: .structuring,
                        detail:
                            "one of \(peers.accounts) accounts with unknown end customers under \(resellerID), together \(JSONWriter.formatNumber(peers.hours, decimals: 1)) restricted accelerator-hours (this account \(JSONWriter.formatNumber(ownTotal, decimals: 1)))",
                        weight: w, sources: [mapping.origin]))
            }
        }
    }
}
