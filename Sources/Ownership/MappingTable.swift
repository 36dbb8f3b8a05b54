public import UsageModel
import Inputs

/// One row of an account→reseller mapping file.
public struct MappingRow: Sendable, Hashable {
    /// `aws`, `gcp`, `azure`, …; empty matches any provider.
    public var provider: String
    public var accountID: String
    public var resellerID: String?
    public var endCustomerID: String?
    public var endCustomerCountry: CountryCode?
    public var validFrom: EpochSeconds?
    /// Exclusive; nil means still valid.
    public var validTo: EpochSeconds?
    /// `mappings.csv:14`.
    public var origin: String

    public func isValid(at time: EpochSeconds) -> Bool {
        if let validFrom, time < validFrom { return false }
        if let validTo, time >= validTo { return false }
        return true
    }
}

/// Account → reseller → end customer, joined as of an event's time: an account may move between
/// resellers, and each row holds over `[valid_from, valid_to)`.
public struct MappingTable: Sendable {
    private var rows: [String: [MappingRow]] = [:]
    public private(set) var count = 0

    public init() {}

    /// Loads mapping files (CSV with a header; `#` comments; columns in any order; unknown columns ignored).
    /// - Returns: the table and a diagnostic for every bad row (the row is left out) or unreadable file.
    public static func load(paths: [String]) -> (MappingTable, [Diagnostic]) {
        var table = MappingTable()
        var problems: [Diagnostic] = []
        for path in paths {
            do {
                let text = try InputReader.readText(path: path)
                table.add(text: text, path: path, problems: &problems)
            } catch {
                problems.append(error.diagnostic)
            }
        }
        table.sort()
        return (table, problems)
    }

    /// Adds the rows of one mapping file's text.
    public mutating func add(text: String, path: String, problems: inout [Diagnostic]) {
        let csv = NamedCSV(text: text)
        func problem(_ line: Int, _ message: String, _ severity: DiagnosticSeverity = .error) {
            problems.append(
                Diagnostic(path: path, position: .line(line), severity: severity, category: "mapping", message: message))
        }
        guard csv.has("account_id") else {
            problem(csv.headerLine, "header has no account_id column; expected provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to")
            return
        }
        for row in csv.rows {
            let account = csv.value(row, "account_id")
            guard !account.isEmpty else {
                problem(row.line, "empty account_id; row skipped")
                continue
            }
            var mapping = MappingRow(
                provider: csv.value(row, "provider").lowercased(), accountID: account,
                resellerID: csv.value(row, "reseller_id").nilIfEmpty,
                endCustomerID: csv.value(row, "end_customer_id").nilIfEmpty, endCustomerCountry: nil,
                validFrom: nil, validTo: nil, origin: "\(path):\(row.line)")
            var bad = false
            let country = csv.value(row, "end_customer_country")
            if !country.isEmpty {
                if let code = CountryCode(country), code.isAssigned {
                    mapping.endCustomerCountry = code
                } else {
                    problem(row.line, "unknown country '\(country)' in column end_customer_country; use an ISO 3166-1 alpha-2 code")
                    bad = true
                }
            }
            for (column, keyPath) in [("valid_from", \MappingRow.validFrom), ("valid_to", \MappingRow.validTo)] {
                let text = csv.value(row, column)
                if text.isEmpty { continue }
                if let time = Timestamp.parse(text) {
                    mapping[keyPath: keyPath] = time
                } else {
                    problem(row.line, "bad date '\(text)' in column \(column); use RFC 3339 such as 2024-01-01T00:00:00Z")
                    bad = true
                }
            }
            if let from = mapping.validFrom, let to = mapping.validTo, to <= from {
                problem(row.line, "valid_to is not after valid_from; row skipped")
                bad = true
            }
            if bad { continue }
            rows[account, default: []].append(mapping)
            count += 1
        }
    }

    private mutating func sort() {
        for key in rows.keys {
            rows[key]!.sort { ($0.validFrom ?? .min) > ($1.validFrom ?? .min) }
        }
    }

    /// The mapping of `account` valid at `time`: the one that started last among those valid then.
    public func mapping(provider: String, account: String, at time: EpochSeconds) -> MappingRow? {
        guard let candidates = rows[account] else { return nil }
        for row in candidates where (row.provider.isEmpty || row.provider == provider) && row.isValid(at: time) {
            return row
        }
        return nil
    }

    /// Every mapping row, for `mappings check` and the store.
    public var allRows: [MappingRow] { rows.values.flatMap { $0 } }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
