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
    /// restricted use adds up, and they are more of the reseller's accounts with restricted use than the
    /// population's other resellers make usual (``structuringRatio(undeclared:accounts:population:)``).
    /// A booster: names no jurisdiction.
    func structuringEvidence(_ c: AssessmentContext, aggregate: ResellerAggregate?, into draft: inout AssessmentDraft) {
        let (session, restricted, hours) = (c.session, c.restricted, c.hours)
        if restricted, let aggregate, let mapping = c.mapping, mapping.endCustomerCountry == nil,
            let resellerID = mapping.resellerID
        {
            var peers = aggregate.peers(of: resellerID)
            let held = peers.accounts
            if peers.byAccount[session.accountID] == nil { peers.accounts += 1 }
            peers.hours += hours
            let ownTotal = (peers.byAccount[session.accountID] ?? 0) + hours
            guard
                peers.accounts >= config.structuringMinAccounts && peers.hours >= config.structuringMinHours
                    && ownTotal <= peers.hours / 3
            else { return }
            // The population's other resellers: their accounts with restricted use, and how many of those
            // have an unknown end customer.
            let declared = aggregate.declaredAccounts(of: resellerID)
            let population = aggregate.population
            let others = (
                undeclared: max(0, population.undeclared - held),
                accounts: max(0, population.accounts - held - declared)
            )
            let (llr, base) = structuringRatio(
                undeclared: peers.accounts, accounts: peers.accounts + declared, population: others)
            let w = min(config.structuringCap, llr)
            guard w > 0 else { return }
            let share = Double(peers.accounts) / Double(peers.accounts + declared)
            draft.evidence.append(
                Evidence(
                    kind: .structuring,
                    detail:
                        "one of \(peers.accounts) accounts with unknown end customers under \(resellerID), together \(JSONWriter.formatNumber(peers.hours, decimals: 1)) restricted accelerator-hours (this account \(JSONWriter.formatNumber(ownTotal, decimals: 1))); they are \(peers.accounts) of its \(peers.accounts + declared) accounts with restricted use (share \(JSONWriter.formatNumber(share, decimals: 3))) against \(others.undeclared) of \(others.accounts) under the population's other resellers (share \(JSONWriter.formatNumber(base, decimals: 3))): log-likelihood ratio \(JSONWriter.formatNumber(llr, decimals: 2))",
                    weight: w, sources: [mapping.origin]))
        }
    }

    /// The log-likelihood ratio of a reseller's `undeclared` accounts with an unknown end customer among
    /// its `accounts` with restricted use: a reseller fronting for one customer's many small accounts
    /// (Beta(`structuringLinkedAlpha`, `structuringLinkedBeta`): most of them) against a reseller like
    /// the population's others (a Beta of mean their share, (u + 1) / (a + 2) of `population`, and
    /// concentration `structuringBenignConcentration`: resellers differ). A large reseller's many
    /// undeclared accounts are its size, not structuring: the ratio reads the share, not the count.
    /// Returns the ratio and the population's share.
    public func structuringRatio(
        undeclared k: Int, accounts n: Int, population: (undeclared: Int, accounts: Int)
    ) -> (Double, Double) {
        let base = (Double(population.undeclared) + 1) / (Double(population.accounts) + 2)
        let kappa = config.structuringBenignConcentration
        let llr = Self.betaBinomialRatio(
            k, of: n, linked: (config.structuringLinkedAlpha, config.structuringLinkedBeta),
            benign: (kappa * base, kappa * (1 - base)), otherBenign: (1, 1), weight: 0)
        return (llr, base)
    }
}
