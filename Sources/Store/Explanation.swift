import UsageModel

/// The provenance of one alert, from the store: the alert as emitted, each evidence contribution,
/// the events with where they were read, and the mapping rows and reseller chain as they were.
public struct Explanation: Sendable {
    public var alertJSON: String
    public var summary: QueryResult
    public var evidence: QueryResult
    public var events: QueryResult
    public var mappings: QueryResult
    /// The account's stored calls by source country (restricted ones first).
    public var callsByCountry: QueryResult
}

extension Store {
    /// - Throws: ``StoreError`` when no alert has this id.
    public func explain(alertID: String) throws(StoreError) -> Explanation {
        let summary = try query(
            """
            SELECT a.id, a.severity, a.score, a.provider, a.account_id, a.reseller_id, a.end_customer_id,
                   a.jurisdictions, a.start, a."end" AS end_when_raised,
                   json_extract(a.json, '$.session.open') AS open_when_raised, s."end" AS session_end,
                   s.open AS session_open, s.instance_type, s.accelerator, s.accelerator_count,
                   round(s.accelerator_hours, 2) AS accelerator_hours, s.resource_id, a.session_id, a.created_at
            FROM alerts a JOIN sessions s ON s.id = a.session_id WHERE a.id = ?
            """, arguments: [alertID])
        guard !summary.rows.isEmpty else {
            throw StoreError(
                path: path, message: "no alert '\(alertID)' in the store; list them with 'chiptrail alerts'")
        }
        let json = try query("SELECT json FROM alerts WHERE id = ?", arguments: [alertID]).rows.first?.first?.text ?? ""
        let evidence = try query(
            "SELECT kind, round(weight, 3) AS weight, detail, sources FROM evidence WHERE alert_id = ? ORDER BY position",
            arguments: [alertID])
        let events = try query(
            """
            SELECT e.time, e.event_name, e.action, e.resource_id, e.instance_type, e.instance_count, e.region,
                   e.source_ip, e.principal, e.user_agent, e.event_id, e.origin
            FROM alerts a JOIN sessions s ON s.id = a.session_id
            JOIN events e ON e.account_id = s.account_id AND e.resource_id = s.resource_id
                AND e.time >= s.start AND e.time <= s."end"
            WHERE a.id = ? ORDER BY e.time, e.event_id
            """, arguments: [alertID])
        let mappings = try query(
            """
            SELECT m.origin, m.provider, m.account_id, m.reseller_id, m.end_customer_id, m.end_customer_country,
                   m.valid_from, m.valid_to, m.reseller_chain
            FROM mapping_rows m JOIN alert_mappings am ON am.content_hash = m.content_hash WHERE am.alert_id = ?
            """, arguments: [alertID])
        let calls = try query(
            """
            SELECT coalesce(c.country, '??') AS country, c.restricted, count(*) AS calls, sum(c.sign_in) AS sign_ins,
                   min(c.time) AS first, max(c.time) AS last
            FROM calls c JOIN alerts a ON c.account_id = a.account_id WHERE a.id = ?
            GROUP BY 1, 2 ORDER BY c.restricted DESC, calls DESC LIMIT 20
            """, arguments: [alertID])
        return Explanation(
            alertJSON: json, summary: summary, evidence: evidence, events: events, mappings: mappings,
            callsByCountry: calls)
    }
}
