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
        let usage = session.events.filter { $0.action == .usage }
        if !usage.isEmpty {
            let billed = JSONWriter.formatNumber(session.billedInstanceHours, decimals: 2)
            let launch = session.events.first { $0.action == .launch || $0.action == .start }
            let records = usage.reduce(0) { $0 + $1.usageRecords }
            var detail = "billed \(billed) instance-hour(s) in \(records) billing record(s)"
            if let launch {
                let who = launch.principal.map { " by \($0)" } ?? ""
                let from = launch.sourceIP.map { " from \($0)" } ?? ""
                detail += "; launched\(who)\(from) (\(launch.eventName), audit log)"
            }
            var sources = usage.prefix(3).map { $0.origin.description }
            if let launch { sources.insert(launch.origin.description, at: 0) }
            draft.evidence.append(
                Evidence(kind: launch == nil ? .billing : .auditAndBilling, detail: detail, weight: 0, sources: sources)
            )
        }
    }
}
