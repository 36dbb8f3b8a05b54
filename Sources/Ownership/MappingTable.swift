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
    /// Each reseller's accounts (every row that names it), in name order.
    private var byReseller: [String: [String]] = [:]
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
        problems += table.consistencyProblems()
        return (table, problems)
    }

    /// Loads mapping files for detection, validated whole: a file that cannot be read, has no
    /// `account_id` column or no usable row is a configuration error.
    /// - Returns: the table and the diagnostics of single rows (each row is left out; the run goes on).
    /// - Throws: ``ConfigurationError`` with every file-level problem (and the row problems beside them).
    public static func loadValidated(paths: [String]) throws(ConfigurationError) -> (MappingTable, [Diagnostic]) {
        var table = MappingTable()
        let loaded = ConfigurationError.loadEach(
            paths, what: "mapping file", category: "mapping",
            noRows:
                "no usable mapping row in the file; a mapping file must map at least one account (fix the rows named above, or leave out --mappings)"
        ) { text, path, problems in table.add(text: text, path: path, problems: &problems) }
        var problems = loaded.problems
        table.sort()
        problems += table.consistencyProblems()
        if loaded.fatal { throw ConfigurationError(diagnostics: problems) }
        return (table, problems)
    }

    /// The columns a mapping file names.
    public static let columns =
        "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to"

    /// Adds the rows of one mapping file's text.
    /// - Returns: the number of rows added, or nil when the header has no `account_id` column.
    @discardableResult
    public mutating func add(text: String, path: String, problems: inout [Diagnostic]) -> Int? {
        let csv = NamedCSV(text: text)
        func problem(_ line: Int, _ message: String, _ severity: DiagnosticSeverity = .error) {
            problems.append(
                Diagnostic(path: path, position: .line(line), severity: severity, category: "mapping", message: message)
            )
        }
        guard csv.has("account_id") else {
            problem(csv.headerLine, "header has no account_id column; expected \(Self.columns)")
            return nil
        }
        var added = 0
        for row in csv.rows {
            if let fieldProblem = csv.fieldCountProblem(row) {
                problem(row.line, fieldProblem + "; row skipped")
                continue
            }
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
                    problem(
                        row.line,
                        "unknown country '\(country)' in column end_customer_country; use an ISO 3166-1 alpha-2 code")
                    bad = true
                }
            }
            for (column, keyPath) in [("valid_from", \MappingRow.validFrom), ("valid_to", \MappingRow.validTo)] {
                let text = csv.value(row, column)
                if text.isEmpty { continue }
                if let time = Timestamp.parse(text) {
                    mapping[keyPath: keyPath] = time
                } else {
                    problem(
                        row.line, "bad date '\(text)' in column \(column); use RFC 3339 such as 2024-01-01T00:00:00Z")
                    bad = true
                }
            }
            if let from = mapping.validFrom, let to = mapping.validTo, to < from {
                problem(row.line, "valid_to is before valid_from; row skipped")
                bad = true
            }
            if bad { continue }
            if let from = mapping.validFrom, let to = mapping.validTo, to == from {
                // Valid for no instant: harmless, but most likely a typo.
                problem(
                    row.line,
                    "valid_to equals valid_from: the row is valid at no time and never joins; leave valid_to empty if it still holds",
                    .warning)
                continue
            }
            rows[account, default: []].append(mapping)
            if let r = mapping.resellerID { byReseller[r, default: []].append(account) }
            count += 1
            added += 1
        }
        return added
    }

    /// Rows that repeat another exactly (a warning), and accounts mapped to two different resellers or
    /// end-customer countries over an overlapping time (an error when both rows start at the same
    /// instant, since neither wins; else a warning: the later start wins from then on).
    public func consistencyProblems() -> [Diagnostic] {
        var problems: [Diagnostic] = []
        func report(_ row: MappingRow, _ severity: DiagnosticSeverity, _ message: String) {
            let (path, line) = Self.split(row.origin)
            problems.append(
                Diagnostic(path: path, position: .line(line), severity: severity, category: "mapping", message: message)
            )
        }
        for account in rows.keys.sorted() {
            let list = rows[account]!.sorted { Self.originPrecedes($0.origin, $1.origin) }
            for (i, b) in list.enumerated() {
                for a in list[..<i] where a.provider == b.provider || a.provider.isEmpty || b.provider.isEmpty {
                    let same =
                        a.provider == b.provider && a.resellerID == b.resellerID && a.endCustomerID == b.endCustomerID
                        && a.endCustomerCountry == b.endCustomerCountry && a.validFrom == b.validFrom
                        && a.validTo == b.validTo
                    if same {
                        report(b, .warning, "duplicate of the row at \(a.origin); one of them can go")
                        break
                    }
                    guard Self.overlap(a, b) else { continue }
                    var differences: [String] = []
                    if a.resellerID != b.resellerID {
                        differences.append("reseller '\(a.resellerID ?? "")' there, '\(b.resellerID ?? "")' here")
                    }
                    if a.endCustomerCountry != b.endCustomerCountry {
                        differences.append(
                            "end_customer_country '\(a.endCustomerCountry?.description ?? "")' there, '\(b.endCustomerCountry?.description ?? "")' here"
                        )
                    }
                    if differences.isEmpty { continue }
                    let detail = differences.joined(separator: ", ")
                    if a.validFrom == b.validFrom {
                        report(
                            b, .error,
                            "account '\(account)' is mapped twice from the same instant (\(b.validFrom.map(Timestamp.format) ?? "the beginning")) as at \(a.origin): \(detail); which one holds is undefined, close one with valid_to"
                        )
                    } else {
                        report(
                            b, .warning,
                            "account '\(account)' is mapped differently over an overlapping time as at \(a.origin): \(detail); the row that starts later wins from its start — set valid_to on the earlier one"
                        )
                    }
                    break
                }
            }
        }
        return problems
    }

    private static func overlap(_ a: MappingRow, _ b: MappingRow) -> Bool {
        let aFrom = a.validFrom ?? .min
        let bFrom = b.validFrom ?? .min
        let aTo = a.validTo ?? .max
        let bTo = b.validTo ?? .max
        return aFrom < bTo && bFrom < aTo
    }

    /// `m.csv:9` before `m.csv:10`: by path, then line number.
    static func originPrecedes(_ a: String, _ b: String) -> Bool {
        let (pa, la) = split(a)
        let (pb, lb) = split(b)
        return pa != pb ? pa < pb : la < lb
    }

    /// `mappings.csv:14` → (`mappings.csv`, 14).
    static func split(_ origin: String) -> (String, Int) {
        guard let colon = origin.lastIndex(of: ":"), let line = Int(origin[origin.index(after: colon)...]) else {
            return (origin, 0)
        }
        return (String(origin[..<colon]), line)
    }

    private mutating func sort() {
        for key in rows.keys {
            rows[key]!.sort { ($0.validFrom ?? .min) > ($1.validFrom ?? .min) }
        }
        byReseller = byReseller.mapValues { Array(Set($0)).sorted() }
    }

    /// The accounts any row maps to reseller `id` (at any time): in name order once the table is
    /// loaded (a table only added to may repeat them).
    public func accounts(underReseller id: String) -> [String] { byReseller[id] ?? [] }

    /// The mapping of `account` valid at `time`: the one that started last among those valid then.
    public func mapping(provider: String, account: String, at time: EpochSeconds) -> MappingRow? {
        guard let candidates = rows[account] else { return nil }
        for row in candidates where (row.provider.isEmpty || row.provider == provider) && row.isValid(at: time) {
            return row
        }
        return nil
    }

    /// The mapping of `account` valid at `time`, else the first to start after it: where an account
    /// stands from `time` on (a ring's later members, onboarded after an earlier member's session began).
    public func mapping(provider: String, account: String, atOrAfter time: EpochSeconds) -> MappingRow? {
        if let row = mapping(provider: provider, account: account, at: time) { return row }
        guard let candidates = rows[account] else { return nil }
        // Newest first: the last match is the earliest start after `time`.
        return candidates.last { (row: MappingRow) in
            (row.provider.isEmpty || row.provider == provider) && (row.validFrom ?? .min) > time
        }
    }

    /// Every mapping row, for `mappings check` and the store.
    public var allRows: [MappingRow] { rows.values.flatMap { $0 } }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
