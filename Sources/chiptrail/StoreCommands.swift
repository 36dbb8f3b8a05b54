import ArgumentParser
import Foundation
import Store
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// `--output table|json|csv` and the store path, shared by the read commands.
struct ReadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The store (default ./chiptrail.db).", valueName: "path"))
    var store: String = Store.defaultPath

    @Option(
        help: ArgumentHelp(
            "table (fits the terminal), json (one object per line) or csv; for alerts also jsonl or ocsf (each alert exactly as it was sent).",
            valueName: "format"))
    var output: String = "table"

    /// jsonl and ocsf are alert lines: only `alerts` prints them.
    static let alertLineStyles = ["jsonl", "ocsf"]

    func validate() throws {
        guard (["table", "json", "csv"] + Self.alertLineStyles).contains(output) else {
            throw ValidationError("unknown --output '\(output)'; one of table, json, csv (and for alerts jsonl, ocsf)")
        }
    }

    /// For the commands whose rows are not alerts.
    func refuseAlertLineStyles() throws {
        if Self.alertLineStyles.contains(output) {
            throw ValidationError("--output \(output) is for 'chiptrail alerts'; use table, json or csv")
        }
    }

    func open() throws -> Store {
        do {
            return try Store(readOnlyPath: store)
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
    }

    func print(_ result: QueryResult) {
        FileDescriptorOutput.write(ResultFormatter.format(result, as: output))
    }

    /// Opens the store, runs `question` and prints its answer; a store error is exit status 2.
    func answer(_ question: (Store) throws(StoreError) -> QueryResult) throws {
        let store = try open()
        do {
            print(try question(store))
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
    }
}

enum FileDescriptorOutput {
    static func write(_ text: String) { FileDescriptorWriter.writeAll(STDOUT_FILENO, text) }
}

enum ResultFormatter {
    static func format(_ r: QueryResult, as style: String) -> String {
        switch style {
        case "json":
            var out = ""
            for row in r.rows {
                var w = JSONWriter()
                w.beginObject()
                for (name, value) in zip(r.columns, row) {
                    switch value {
                    case .null: w.null(name)
                    case .integer(let v): w.integer(name, v)
                    case .real(let v): w.number(name, v, decimals: 6)
                    case .text(let v): w.string(name, v)
                    }
                }
                w.endObject()
                out += w.text + "\n"
            }
            return out
        case "csv":
            var out = r.columns.map { csvCell($0, isText: true) }.joined(separator: ",") + "\n"
            for row in r.rows {
                out +=
                    row.map { value in
                        if case .text(let text) = value { return csvCell(text, isText: true) }
                        return csvCell(value.text, isText: false)
                    }.joined(separator: ",") + "\n"
            }
            return out
        default:
            return table(r)
        }
    }

    /// One CSV cell (RFC 4180) that is safe to open in a spreadsheet and to print: control characters
    /// and line separators escaped (`\n`, `\x1b`, `\u2028`: a cell is one line), and text that a
    /// spreadsheet would run as a formula — starting with `=`, `+`, `-`, `@`, tab or CR — neutralised
    /// with a leading `'` (OWASP's advice on CSV injection). Numbers, also negative ones, stay as they are.
    static func csvCell(_ raw: String, isText: Bool) -> String {
        var s = raw
        if isText, let first = raw.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first),
            !(Double(raw)?.isFinite ?? false)
        {
            s = "'" + raw
        }
        s = TextEscaping.escapeForTerminal(s)
        return s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A table that fits the terminal: columns keep their natural width until the line would pass the
    /// terminal's width. Then only text columns (cells with spaces: details, chains) are cut with '…';
    /// identifiers and times are never cut: if the line is still too wide, whole columns are left out
    /// from the right (never the first, an id to copy into `explain`) and named under the table.
    /// Log text is escaped.
    static func table(_ r: QueryResult) -> String {
        let terminalWidth = Self.terminalWidth()
        var cells = r.rows.map { $0.map { TextEscaping.escapeForTerminal($0.text) } }
        /// Characters on screen; ASCII (the common case) without grapheme breaking.
        func width(_ s: String) -> Int {
            var ascii = true
            for b in s.utf8 where b >= 0x80 {
                ascii = false
                break
            }
            return ascii ? s.utf8.count : s.count
        }
        var columns = r.columns.map(TextEscaping.escapeForTerminal)
        var widths = columns.map(width)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], width(c)) } }
        let text = columns.indices.map { i in cells.contains { $0[i].contains(" ") } }
        let separator = 2
        func total() -> Int { widths.reduce(0, +) + separator * max(0, widths.count - 1) }
        while total() > terminalWidth,
            let widest = widths.indices.dropFirst().filter({ text[$0] }).max(by: { widths[$0] < widths[$1] }),
            widths[widest] > 8
        {
            widths[widest] -= 1
        }
        var leftOut: [String] = []
        while total() > terminalWidth && widths.count > 1 {
            leftOut.insert(columns.removeLast(), at: 0)
            widths.removeLast()
            for i in cells.indices { cells[i].removeLast() }
        }
        func fit(_ s: String, _ w: Int) -> String {
            let n = width(s)
            if n > w { return String(s.prefix(max(0, w - 1))) + "…" }
            return s + String(repeating: " ", count: w - n)
        }
        var out = zip(columns, widths).map { fit($0, $1) }.joined(separator: "  ") + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in cells { out += zip(row, widths).map { fit($0, $1) }.joined(separator: "  ") + "\n" }
        out += "(\(r.rows.count) row\(r.rows.count == 1 ? "" : "s"))\n"
        if !leftOut.isEmpty {
            out +=
                "(left out to fit \(terminalWidth) columns: \(leftOut.joined(separator: ", ")); "
                + "a wider terminal or --output csv|json shows them)\n"
        }
        return out
    }

    /// The terminal's width; no limit when stdout is not a terminal (a file or a pipe gets whole cells).
    static func terminalWidth() -> Int {
        guard isatty(STDOUT_FILENO) == 1 else { return .max }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(columns), n > 20 { return n }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 120
    }
}

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read-only SQL over the store.",
        discussion: """
            The store is opened read-only: a statement that would write is refused. Times are RFC 3339 \
            text in UTC, so they compare as text.

            Examples:
              chiptrail query "SELECT account_id, count(*) FROM alerts GROUP BY 1"
              chiptrail query --output json "SELECT * FROM sessions WHERE restricted = 1"
              chiptrail query --schema
            """)

    @OptionGroup var read: ReadOptions

    @Flag(help: "Print the documented tables and columns.")
    var schema = false

    @Argument(help: ArgumentHelp("One SQL statement.", valueName: "sql"))
    var sql: String?

    func validate() throws {
        if !schema && sql == nil { throw ValidationError("give a SQL statement, or --schema") }
        try read.refuseAlertLineStyles()
    }

    func run() throws {
        if schema {
            FileDescriptorOutput.write(Store.schemaDescription + "\n")
            return
        }
        let statement = sql!
        try read.answer { (store) throws(StoreError) in try store.query(statement) }
    }
}

/// `--account`, `--reseller`, `--since`, `--until`, `--restricted-only`, `--min-score`.
struct StoreFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only this account.", valueName: "id")) var account: String?
    @Option(
        help: ArgumentHelp(
            "Only accounts behind this reseller, directly or further down its chain (a distributor: the accounts of its resellers).",
            valueName: "id")) var reseller: String?
    @Option(help: ArgumentHelp("Ended at or after: 7d (before now), 12h, or an RFC 3339 time.", valueName: "when"))
    var since: String?
    @Option(help: ArgumentHelp("Started before: a duration before now or an RFC 3339 time.", valueName: "when"))
    var until: String?
    @Flag(name: .customLong("restricted-only"), help: "Only sessions on restricted accelerators.")
    var restrictedOnly = false
    @Option(name: .customLong("min-score"), help: ArgumentHelp("Only at or above this score.", valueName: "x"))
    var minScore: Double?

    static func time(_ text: String) -> EpochSeconds? {
        if let d = Timestamp.parseDuration(text) {
            let (before, overflow) = Timestamp.now().subtractingReportingOverflow(d)
            return overflow ? nil : before
        }
        return Timestamp.parse(text)
    }

    func validate() throws {
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, Self.time(value) == nil {
                throw ValidationError("\(name) takes a duration such as 7d or 12h, or an RFC 3339 time")
            }
        }
    }

    var filter: Store.Filter {
        var f = Store.Filter()
        f.account = account
        f.reseller = reseller
        f.since = since.flatMap(Self.time)
        f.until = until.flatMap(Self.time)
        f.restrictedOnly = restrictedOnly
        f.minScore = minScore
        return f
    }
}

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "Sessions in the store (every assessed session, alert or not).",
        discussion: "Example: chiptrail sessions --account 222222222222 --restricted-only --output json")

    @OptionGroup var read: ReadOptions
    @OptionGroup var filter: StoreFilterOptions

    func validate() throws { try read.refuseAlertLineStyles() }

    func run() throws {
        let f = filter.filter
        try read.answer { (store) throws(StoreError) in try store.sessions(f) }
    }
}

struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "Alerts in the store.",
        discussion: "Example: chiptrail alerts --since 7d --min-score 0.9")

    @OptionGroup var read: ReadOptions
    @OptionGroup var filter: StoreFilterOptions

    func run() throws {
        let f = filter.filter
        if ReadOptions.alertLineStyles.contains(read.output) {
            // The lines as they went to stdout and the hooks, from the store's copy.
            let column = read.output == "ocsf" ? "ocsf" : "json"
            let store = try read.open()
            let result: QueryResult
            do {
                result = try store.alertLines(f, column: column)
            } catch {
                Diagnostics.printRaw(error.description)
                throw ExitStatus(code: 2)
            }
            var missing = 0
            for row in result.rows {
                guard case .text(let line) = row[1] else {
                    missing += 1
                    continue
                }
                FileDescriptorOutput.write(line + "\n")
            }
            if missing > 0 {
                Diagnostics.printRaw(
                    "\(read.store): warning: [store] \(missing) alert(s) were stored before the store kept their OCSF finding (schema 8); list them with --output json"
                )
            }
            return
        }
        try read.answer { (store) throws(StoreError) in try store.alerts(f) }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole evidence behind one alert: events, mapping rows, scores.",
        discussion: "Example: chiptrail explain a-e709f1e7d706c955   (or --output json)")

    @Option(help: ArgumentHelp("The store (default ./chiptrail.db).", valueName: "path"))
    var store: String = Store.defaultPath

    @Option(help: ArgumentHelp("text or json.", valueName: "format"))
    var output: String = "text"

    @Argument(help: ArgumentHelp("The alert's id.", valueName: "alert-id"))
    var alertID: String

    func run() throws {
        let explanation: Explanation
        do {
            explanation = try Store(readOnlyPath: store).explain(alertID: alertID)
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
        if output == "json" {
            var w = JSONWriter()
            w.beginObject()
            w.raw("alert", explanation.alertJSON)
            // The alert as raised (above) beside the session as the store has it now (it may have run on).
            w.raw(
                "summary",
                ResultFormatter.format(explanation.summary, as: "json").split(separator: "\n").first.map(String.init)
                    ?? "null")
            for (name, result) in [
                ("evidence", explanation.evidence), ("events", explanation.events),
                ("mapping_rows", explanation.mappings), ("calls_by_country", explanation.callsByCountry),
            ] {
                w.raw(
                    name,
                    "[" + ResultFormatter.format(result, as: "json").split(separator: "\n").joined(separator: ",") + "]"
                )
            }
            w.endObject()
            FileDescriptorOutput.write(w.text + "\n")
            return
        }
        var out = "ALERT\n" + ResultFormatter.table(transpose(explanation.summary))
        out += "\nEVIDENCE (score = logistic(prior + sum of weights))\n" + ResultFormatter.table(explanation.evidence)
        out += "\nEVENTS (where each was read)\n"
        let e = explanation.events
        func value(_ row: [QueryResult.Value], _ name: String) -> String {
            guard let i = e.columns.firstIndex(of: name) else { return "" }
            return TextEscaping.escapeForTerminal(row[i].text)
        }
        for row in e.rows {
            out += "  \(value(row, "time"))  \(value(row, "event_name"))  \(value(row, "resource_id"))"
            let type = value(row, "instance_type")
            if !type.isEmpty { out += "  \(type) x \(value(row, "instance_count"))" }
            out +=
                "  from \(value(row, "source_ip").isEmpty ? "?" : value(row, "source_ip"))  by \(value(row, "principal"))\n"
            out +=
                "      read at \(value(row, "origin"))  (event \(value(row, "event_id")), agent \(value(row, "user_agent")))\n"
        }
        if e.rows.isEmpty { out += "  (none stored: pruned, or ingested with --no-store)\n" }
        out += "\nMAPPING ROW AND RESELLER CHAIN AT THE SESSION'S START\n"
        let m = explanation.mappings
        for row in m.rows {
            for (name, v) in zip(m.columns, row) where !v.text.isEmpty {
                out += "  \(name): \(TextEscaping.escapeForTerminal(v.text))\n"
            }
        }
        if m.rows.isEmpty { out += "  (no mapping row: the account was unmapped at that time)\n" }
        out +=
            "\nSTORED CALLS OF THE ACCOUNT BY SOURCE COUNTRY (sign-ins and restricted-country calls; all with --store-all)\n"
        out += ResultFormatter.table(explanation.callsByCountry)
        FileDescriptorOutput.write(out)
    }

    /// One row as field/value lines.
    func transpose(_ r: QueryResult) -> QueryResult {
        guard let row = r.rows.first else { return r }
        return QueryResult(columns: ["field", "value"], rows: zip(r.columns, row).map { [.text($0), $1] })
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove stored events older than a duration; alerts, evidence and sessions stay.",
        discussion: "Example: chiptrail prune --older-than 90d")

    @Option(help: ArgumentHelp("The store (default ./chiptrail.db).", valueName: "path"))
    var store: String = Store.defaultPath

    @Option(name: .customLong("older-than"), help: ArgumentHelp("A duration such as 90d.", valueName: "age"))
    var olderThan: String

    func run() throws {
        guard let age = Timestamp.parseDuration(olderThan) else {
            throw ValidationError("--older-than takes a duration such as 90d")
        }
        do {
            let removed = try Store(path: store, command: "prune").prune(
                before: Timestamp.now() - age)
            FileDescriptorOutput.write("removed \(removed) event(s)\n")
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
    }
}
