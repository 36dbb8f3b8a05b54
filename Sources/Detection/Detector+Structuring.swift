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
    /// population's other resellers make usual (``structuringRatio(undeclared:accounts:population:)``) —
    /// or, the sharper reading (`structuringCalling`), more of them call from restricted countries than
    /// the other resellers' accounts do. A booster, but for that reading: it names the restricted countries
    /// the account's own calls come from.
    func structuringEvidence(_ c: AssessmentContext, aggregate: ResellerAggregate?, into draft: inout AssessmentDraft) {
        let (session, restricted, hours, time) = (c.session, c.restricted, c.hours, c.time)
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
            let (undeclaredRatio, base) = structuringRatio(
                undeclared: peers.accounts, accounts: peers.accounts + declared, population: others)
            // The sharper reading: the reseller's undeclared accounts whose own calls lean to a restricted
            // country (this one by its calls now, the others as noted), against the same share under the
            // population's other resellers — one operator's accounts in a restricted country behind one
            // reseller, each too small to tell by itself.
            var calling = aggregate.callingAccounts(of: resellerID)
            let callingHeld = calling.count
            if callsLeanRestricted(c.activity, at: time, sharedNorm: c.sharedNorm) {
                calling.insert(session.accountID)
            } else {
                calling.remove(session.accountID)
            }
            let callingOthers = (
                undeclared: max(0, aggregate.populationCalling - callingHeld), accounts: others.accounts
            )
            var (callingRatio, callingBase) = structuringRatio(
                undeclared: calling.count, accounts: peers.accounts + declared, population: callingOthers)
            if config.structuringCalling < 0.5 { callingRatio = -.infinity }
            let llr = max(undeclaredRatio, callingRatio)
            let w = min(config.structuringCap, llr)
            guard w > 0 else { return }
            // The calling reading names the restricted countries this account's own calls come from, when
            // it is the one that counts: the reseller's undeclared accounts calling from there stand out,
            // and this is one of them, however few of its own calls say so.
            var named = ""
            if callingRatio > 0 && callingRatio >= undeclaredRatio, let activity = c.activity {
                let own = activity.restrictedCalls(jurisdictionView, at: time)
                if own.count > 0 {
                    draft.structuringNames = true
                    draft.structuringPeers = calling.filter { $0 != session.accountID }.sorted()
                    own.countries.prefix(3).forEach { draft.reach($0.0) }
                    named =
                        "; this account's own calls come from \(own.countries.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")): it names them"
                }
            }
            let share = Double(peers.accounts) / Double(peers.accounts + declared)
            let callingShare = Double(calling.count) / Double(peers.accounts + declared)
            var ratios = "log-likelihood ratio \(JSONWriter.formatNumber(undeclaredRatio, decimals: 2))"
            if config.structuringCalling >= 0.5 {
                ratios +=
                    "; \(calling.count) of them with calls leaning to restricted countries (share \(JSONWriter.formatNumber(callingShare, decimals: 3))) against \(callingOthers.undeclared) of \(callingOthers.accounts) (share \(JSONWriter.formatNumber(callingBase, decimals: 3))): log-likelihood ratio \(JSONWriter.formatNumber(callingRatio, decimals: 2)); the stronger counts\(named)"
            }
            draft.evidence.append(
                Evidence(
                    kind: .structuring,
                    detail:
                        "one of \(peers.accounts) accounts with unknown end customers under \(resellerID), together \(JSONWriter.formatNumber(peers.hours, decimals: 1)) restricted accelerator-hours (this account \(JSONWriter.formatNumber(ownTotal, decimals: 1))); they are \(peers.accounts) of its \(peers.accounts + declared) accounts with restricted use (share \(JSONWriter.formatNumber(share, decimals: 3))) against \(others.undeclared) of \(others.accounts) under the population's other resellers (share \(JSONWriter.formatNumber(base, decimals: 3))): \(ratios)",
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
