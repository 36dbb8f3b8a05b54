import UsageModel

extension Detector {
    /// Network: how many of the account's located calls came from restricted countries, as a
    /// Beta-Binomial log-likelihood ratio (``networkWeight(restricted:located:)``), capped when they all
    /// fall within a trip or on too few days; beside it, an end customer declared elsewhere that the
    /// account's own calls do not bear out weighs less (a declaration is what a diverter controls).
    func networkEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let time = c.time
        if let activity = c.activity, activity.locatedCalls > 0 {
            let (k, countries) = activity.restrictedCalls(jurisdictionView, at: time)
            let n = activity.locatedCalls
            var weight = networkWeight(restricted: k, located: n)
            var trip = ""
            if weight > 0, let window = activity.restrictedWindow(jurisdictionView, at: time) {
                let margin = Int64(config.tripMarginDays * 86_400)
                let length = window.last - window.first
                let steady = min(1, Double(window.days) / max(1, config.steadyDays))
                if Double(length) <= config.tripDays * 86_400
                    && (activity.firstSeen <= window.first - margin || activity.lastSeen >= window.last + margin)
                {
                    weight = min(weight, config.tripWeightCap)
                    trip =
                        "; all within \(JSONWriter.formatNumber(Double(length) / 86_400, decimals: 1)) day(s) (\(Timestamp.format(window.first)) to \(Timestamp.format(window.last))) of an account seen elsewhere before or after: a trip explains them as well"
                } else if steady < 1 {
                    weight = min(weight, steady * config.networkWeightCap)
                    trip = "; on \(window.days) day(s) so far (full weight from \(Int(config.steadyDays.rounded(.up))))"
                }
            }
            // Beside network evidence for a restricted country, or beside shared identity with an account
            // linked to one (the same people's other declaration): do the account's own calls bear the
            // declaration out?
            let sharedLink = draft.evidence.contains {
                $0.kind == .sharedIdentity && $0.weight >= config.declaredSupportIdentityWeight
            }
            if weight > 0 || sharedLink, let declared = draft.declaredElsewhere,
                Double(n) >= config.declaredSupportMinimumCalls
            {
                let own = activity.calls(from: declared.country)
                if Double(own) / Double(n) < config.declaredSupportShare {
                    draft.unsupportedDeclaration = (own, n)
                }
            }
            if k > 0 || weight > 0.5 {
                if weight > 0 { countries.prefix(3).forEach { draft.reach($0.0) } }
                let list = countries.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                draft.evidence.append(
                    Evidence(
                        kind: .network,
                        detail:
                            "\(k) of \(n) located calls from restricted countries (\(list.isEmpty ? "none" : list)); share \(JSONWriter.formatNumber(Double(k) / Double(n), decimals: 3))\(trip)",
                        weight: weight))
            }
        }
    }

    /// Declared support: an end customer declared in an unrestricted country from which under
    /// `declaredSupportShare` of the account's located calls came, beside network evidence for a
    /// restricted one (or shared identity with an account linked to one, at least
    /// `declaredSupportIdentityWeight`), weighs `declaredUnsupportedFactor` of its weight — unless the account's rhythm
    /// bears the declaration out: it works through the PRC's public holidays (the holiday fit's
    /// log-likelihood ratio for the PRC calendar at or below −`declaredSupportHolidayRatio`), as a
    /// business elsewhere does and an operator in China does not. Runs after the holiday family.
    func declaredSupportEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        guard let declared = draft.declaredElsewhere, let (own, n) = draft.unsupportedDeclaration else { return }
        let share = Double(own) / Double(n)
        let calls =
            "; \(own) of \(n) located calls from \(declared.country) (share \(JSONWriter.formatNumber(share, decimals: 3)), below \(JSONWriter.formatNumber(config.declaredSupportShare, decimals: 2)))"
        if let ratio = draft.holidayRatio, ratio <= -config.declaredSupportHolidayRatio {
            draft.evidence[declared.index].detail +=
                calls
                + ", but it works through the PRC's public holidays (log-likelihood ratio \(JSONWriter.formatNumber(ratio, decimals: 2)) for the PRC calendar): borne out by its rhythm, weighs in full"
        } else {
            draft.evidence[declared.index].weight *= config.declaredUnsupportedFactor
            draft.evidence[declared.index].detail +=
                calls
                + ": not borne out by the account's own calls, weighs \(JSONWriter.formatNumber(config.declaredUnsupportedFactor, decimals: 2)) of its weight"
        }
    }
}
