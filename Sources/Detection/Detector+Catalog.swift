import UsageModel
import Catalog
import Sessions

extension Detector {
    /// The catalogue's entry for the session's type: what it ran on and its export-control class (no
    /// weight: restricted consumption is the gate, not evidence).
    func catalogEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let (count, restricted) = (c.count, c.restricted)
        if let spec = c.spec {
            let tpp = spec.accelerator.tpp.map { JSONWriter.formatNumber($0, decimals: 1) } ?? "unpublished"
            let countText = JSONWriter.formatNumber(count, decimals: 2)
            draft.evidence.append(
                Evidence(
                    kind: .catalog,
                    detail:
                        "\(spec.instanceType): \(countText) x \(spec.accelerator.model), TPP \(tpp), \(spec.accelerator.control)\(restricted ? "" : " (not restricted)")",
                    weight: 0, sources: [spec.source]))
        }
    }

    /// What the sources say of the run: audit (who launched it, from where) and billing (how long).
    /// No weight.
    func sourcesEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let session = c.session
        // The billing records counted where they lie: a list of them copied each event (nine strings
        // retained and released) at every assessment of a billed session.
        let events = session.events
        var usageCount = 0
        var records = 0
        var sources: [String] = []
        for i in events.indices where events[i].action == .usage {
            usageCount += 1
            records += events[i].usageRecords
            if sources.count < 3 { sources.append(events[i].origin.description) }
        }
        if usageCount > 0 {
            let billed = JSONWriter.formatNumber(session.billedInstanceHours, decimals: 2)
            let launch = session.events.first { $0.action == .launch || $0.action == .start }
            var detail = "billed \(billed) instance-hour(s) in \(records) billing record(s)"
            if let launch {
                let who = launch.principal.map { " by \($0)" } ?? ""
                let from = launch.sourceIP.map { " from \($0)" } ?? ""
                detail += "; launched\(who)\(from) (\(launch.eventName), audit log)"
            }
            if let launch { sources.insert(launch.origin.description, at: 0) }
            draft.evidence.append(
                Evidence(kind: launch == nil ? .billing : .auditAndBilling, detail: detail, weight: 0, sources: sources)
            )
        }
    }
}
