public import UsageModel

/// Alerts as OCSF Detection Findings (class_uid 2004, category_uid 2 Findings), one JSON object per
/// alert. Attribute names and enumerations as in the OCSF schema (events/findings/detection_finding.json,
/// finding.json, base_event.json; objects/finding_info.json, metadata.json, product.json,
/// related_event.json, evidences.json, resource_details.json).
public enum OCSFEncoding {
    public static let schemaVersion = "1.3.0"
    public static let classUID: Int64 = 2004
    public static let categoryUID: Int64 = 2

    /// OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
    static func severityID(_ severity: AlertSeverity) -> (Int64, String) {
        switch severity {
        case .high: (4, "High")
        case .medium: (3, "Medium")
        case .low: (2, "Low")
        }
    }

    /// - Parameters:
    ///   - createdAt: when the finding was made (milliseconds since the epoch, as OCSF times are).
    ///   - version: chiptrail's version, for `metadata.product.version`.
    public static func json(_ alert: Alert, createdAt: EpochSeconds, version: String) -> String {
        let (severityID, severityName) = severityID(alert.severity)
        let s = alert.session
        var w = JSONWriter()
        w.beginObject()
        w.integer("activity_id", 1)
        w.string("activity_name", "Create")
        w.integer("category_uid", categoryUID)
        w.string("category_name", "Findings")
        w.integer("class_uid", classUID)
        w.string("class_name", "Detection Finding")
        w.integer("type_uid", classUID * 100 + 1)
        w.string("type_name", "Detection Finding: Create")
        w.integer("severity_id", severityID)
        w.string("severity", severityName)
        w.integer("status_id", 1)
        w.string("status", "New")
        w.integer("time", createdAt * 1000)
        w.integer("start_time", s.start * 1000)
        w.integer("end_time", s.end * 1000)
        w.bool("is_alert", true)
        w.number("confidence_score", (alert.score * 100).rounded(), decimals: 0)
        w.string("message", AlertEncoding.text(alert))

        w.beginObject("metadata")
        w.string("version", schemaVersion)
        w.string("uid", alert.id)
        w.beginObject("product")
        w.string("name", "chiptrail")
        w.string("vendor_name", "chiptrail")
        w.string("version", version)
        w.endObject()
        w.endObject()

        w.beginObject("finding_info")
        w.string("uid", alert.id)
        w.string(
            "title",
            "Restricted accelerators used by an account linked to \(alert.jurisdictions.joined(separator: ", "))")
        w.string(
            "desc",
            "\(s.instanceTypes.joined(separator: ",")) (\(s.accelerator)), \(JSONWriter.formatNumber(s.acceleratorHours, decimals: 1)) accelerator-hours, account \(alert.accountID) of \(alert.provider.rawValue)"
        )
        w.beginArray("types")
        w.string(nil, "Export-controlled accelerator use")
        w.endArray()
        w.integer("created_time", createdAt * 1000)
        w.integer("first_seen_time", s.start * 1000)
        w.integer("last_seen_time", s.end * 1000)
        w.beginObject("analytic")
        w.string("name", "chiptrail restricted-accelerator scorer")
        w.integer("type_id", 1)
        w.string("type", "Rule")
        w.endObject()
        w.beginArray("related_events")
        for origin in alert.eventOrigins {
            w.beginObject()
            w.string("uid", origin)
            w.endObject()
        }
        w.endArray()
        w.integer("related_events_count", Int64(alert.eventOrigins.count))
        w.endObject()

        w.beginArray("evidences")
        for e in alert.evidence {
            w.beginObject()
            w.beginObject("data")
            w.string("kind", e.kind.rawValue)
            w.string("detail", e.detail)
            w.number("weight", e.weight, decimals: 3)
            w.beginArray("sources")
            for src in e.sources { w.string(nil, src) }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()

        w.beginArray("resources")
        for r in s.resourceIDs {
            w.beginObject()
            w.string("uid", r)
            w.string("type", "Compute instance")
            if let region = s.regions.first { w.string("region", region) }
            w.endObject()
        }
        w.endArray()

        w.beginObject("cloud")
        w.string("provider", alert.provider.rawValue)
        w.beginObject("account")
        w.string("uid", alert.accountID)
        w.endObject()
        if let region = s.regions.first { w.string("region", region) }
        w.endObject()

        // What OCSF has no attribute for: the SPEC's alert, whole.
        w.raw("unmapped", AlertEncoding.json(alert))
        w.endObject()
        return w.text
    }
}
