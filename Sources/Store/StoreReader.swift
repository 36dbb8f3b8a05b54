import Foundation
public import GRDB
public import UsageModel

/// A result set with column names; values are kept as SQLite gave them.
public struct QueryResult: Sendable {
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)

        public var text: String {
            switch self {
            case .null: ""
            case .integer(let v): String(v)
            case .real(let v): JSONWriter.formatNumber(v, decimals: 6)
            case .text(let v): v
            }
        }
    }

    public var columns: [String]
    public var rows: [[Value]]

    public init(columns: [String], rows: [[Value]]) {
        self.columns = columns
        self.rows = rows
    }
}

extension Store {
    /// Runs read-only SQL. A write is refused by SQLite itself (the connection is read-only).
    public func query(_ sql: String, arguments: [(any DatabaseValueConvertible)?] = []) throws(StoreError)
        -> QueryResult
    {
        do {
            return try queue.read { db in
                let statement = try db.makeStatement(sql: sql)
                let columns = statement.columnNames
                var rows: [[QueryResult.Value]] = []
                let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
                while let row = try cursor.next() {
                    var values: [QueryResult.Value] = []
                    for i in 0..<columns.count {
                        let value: DatabaseValue = row[i]
                        switch value.storage {
                        case .null: values.append(.null)
                        case .int64(let v): values.append(.integer(v))
                        case .double(let v): values.append(.real(v))
                        case .string(let v): values.append(.text(v))
                        case .blob(let d): values.append(.text(d.base64EncodedString()))
                        }
                    }
                    rows.append(values)
                }
                return QueryResult(columns: columns, rows: rows)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw StoreError(
                path: path, message: "the store is opened read-only for queries; '\(sql.prefix(60))' would write")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            throw StoreError(path: path, message: "SQL error: \(error.message ?? "")")
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Filters of `sessions` and `alerts`.
    public struct Filter: Sendable {
        public var account: String?
        public var reseller: String?
        public var since: EpochSeconds?
        public var until: EpochSeconds?
        public var restrictedOnly = false
        public var minScore: Double?

        public init() {}
    }

    /// Alerts whose mapping row's reseller chain (as stored with the alert: `RS-1 (HK, serves …) at
    /// r.csv:2 -> DIST-1 (…) at r.csv:3`) goes through the reseller bound to the `?`.
    private static let alertsThroughReseller = """
        SELECT am.alert_id FROM alert_mappings am JOIN mapping_rows m ON m.content_hash = am.content_hash
        WHERE instr(' -> ' || m.reseller_chain, ' -> ' || ? || ' (') > 0
        """

    private enum Table { case sessions, alerts }

    private func whereClause(_ f: Filter, table: Table) -> (String, [(any DatabaseValueConvertible)?]) {
        var parts: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if let a = f.account {
            parts.append("account_id = ?")
            args.append(a)
        }
        if let r = f.reseller {
            // The direct reseller, or any reseller up the chain (a distributor and the accounts behind
            // its resellers).
            switch table {
            case .alerts:
                parts.append("(reseller_id = ? OR id IN (\(Self.alertsThroughReseller)))")
                args += [r, r]
            case .sessions:
                // A store of schema 6 opened read-only has no reseller_chain column yet.
                let hasChain =
                    (try? queue.read { db in try db.columns(in: "sessions").contains { $0.name == "reseller_chain" } })
                    ?? false
                let chain = hasChain ? " OR instr(reseller_chain, '|' || ? || '|') > 0" : ""
                parts.append(
                    "(reseller_id = ?\(chain) OR id IN (SELECT session_id FROM alerts WHERE id IN (\(Self.alertsThroughReseller))))"
                )
                args += hasChain ? [r, r, r] : [r, r]
            }
        }
        if let s = f.since {
            parts.append("\"end\" >= ?")
            args.append(Timestamp.format(s))
        }
        if let u = f.until {
            parts.append("start < ?")
            args.append(Timestamp.format(u))
        }
        if f.restrictedOnly, table == .sessions { parts.append("restricted = 1") }
        if let m = f.minScore {
            parts.append("score >= ?")
            args.append(m)
        }
        return (parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND "), args)
    }

    public func sessions(_ f: Filter) throws(StoreError) -> QueryResult {
        let (clause, args) = whereClause(f, table: .sessions)
        return try query(
            """
            SELECT id, provider, account_id, reseller_id, end_customer_id, resource_id, instance_type, accelerator,
                   accelerator_count, round(accelerator_hours, 2) AS accelerator_hours, start, "end", open,
                   restricted, round(score, 4) AS score, jurisdictions
            FROM sessions\(clause) ORDER BY start, id
            """, arguments: args)
    }

    /// The alerts' lines as sent: `column` is `json` (the SPEC's JSON line) or `ocsf` (NULL for alerts
    /// stored before schema 8). Columns: id, the line.
    public func alertLines(_ f: Filter, column: String) throws(StoreError) -> QueryResult {
        let (clause, args) = whereClause(f, table: .alerts)
        let name = column == "ocsf" ? "ocsf" : "json"
        return try query("SELECT id, \(name) FROM alerts\(clause) ORDER BY start, id", arguments: args)
    }

    public func alerts(_ f: Filter) throws(StoreError) -> QueryResult {
        let (clause, args) = whereClause(f, table: .alerts)
        return try query(
            """
            SELECT id, severity, score, provider, account_id, reseller_id, end_customer_id, jurisdictions, start,
                   "end", session_id
            FROM alerts\(clause) ORDER BY start, id
            """, arguments: args)
    }
}
