public import UsageModel

/// Alerts as text: the SPEC's JSON object, and a human line.
public enum AlertEncoding {
    /// The alert as one compact JSON object (no newline), fields as the SPEC names them.
    public static func json(_ alert: Alert) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.string("type", "alert")
        w.string("id", alert.id)
        w.number("score", alert.score)
        w.string("severity", alert.severity.rawValue)
        w.string("provider", alert.provider.rawValue)
        w.string("account_id", alert.accountID)
        w.optionalString("reseller_id", alert.resellerID)
        w.optionalString("end_customer_id", alert.endCustomerID)
        w.beginArray("jurisdictions")
        for j in alert.jurisdictions { w.string(nil, j) }
        w.endArray()
        let s = alert.session
        w.beginObject("session")
        w.string("id", s.id)
        w.string("start", Timestamp.format(s.start))
        w.string("end", Timestamp.format(s.end))
        w.bool("open", s.open)
        w.beginArray("instance_types")
        for t in s.instanceTypes { w.string(nil, t) }
        w.endArray()
        w.string("accelerator", s.accelerator)
        w.number("accelerator_count", s.acceleratorCount, decimals: 4)
        w.number("accelerator_hours", s.acceleratorHours, decimals: 2)
        w.beginArray("regions")
        for r in s.regions { w.string(nil, r) }
        w.endArray()
        w.beginArray("resource_ids")
        for r in s.resourceIDs { w.string(nil, r) }
        w.endArray()
        w.endObject()
        w.beginArray("evidence")
        for e in alert.evidence {
            w.beginObject()
            w.string("kind", e.kind.rawValue)
            w.string("detail", e.detail)
            w.number("weight", e.weight, decimals: 3)
            if !e.sources.isEmpty {
                w.beginArray("sources")
                for src in e.sources { w.string(nil, src) }
                w.endArray()
            }
            w.endObject()
        }
        w.endArray()
        w.beginArray("events")
        for origin in alert.eventOrigins { w.string(nil, origin) }
        w.endArray()
        w.endObject()
        return w.text
    }

    /// One human line; log text escaped so it cannot forge lines.
    public static func text(_ alert: Alert) -> String {
        let s = alert.session
        let chain = [alert.resellerID.map { "reseller \($0)" }, alert.endCustomerID.map { "customer \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
        let why = alert.evidence.filter { $0.weight != 0 }.map {
            "\($0.kind.rawValue) \(JSONWriter.formatNumber($0.weight, decimals: 2)): \($0.detail)"
        }.joined(separator: "; ")
        let line =
            "\(alert.severity.rawValue.uppercased()) \(JSONWriter.formatNumber(alert.score, decimals: 2)) \(alert.id) \(alert.provider.rawValue) account \(alert.accountID)\(chain.isEmpty ? "" : " (\(chain))") -> \(alert.jurisdictions.joined(separator: ",")) | \(s.instanceTypes.joined(separator: ",")) \(JSONWriter.formatNumber(s.acceleratorHours, decimals: 1)) accelerator-hours \(Timestamp.format(s.start))..\(Timestamp.format(s.end))\(s.open ? " (open)" : "") | \(why)"
        return TextEscaping.escapeForTerminal(line)
    }
}
