/// A small RFC 4180 reader for the project's own tables (catalogue, mappings, resellers, GeoIP ranges):
/// quotes, embedded commas and newlines, CRLF, a UTF-8 BOM, `#` comment lines and blank lines.
/// Not the hot path: billing CSVs have their own byte-level decoder.
public struct CSVTable: Sendable {
    /// One row with the 1-based line on which it starts.
    public struct Row: Sendable {
        public var line: Int
        public var fields: [String]
    }

    public var rows: [Row]

    /// Parses `text`; comment lines (first character `#`) and blank lines are skipped.
    public init(text: String, allowComments: Bool = true) {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowLine = 1
        var atRowStart = true
        var skippingComment = false
        var fieldStarted = false
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func finishRow() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty && !fieldStarted) {
                rows.append(Row(line: rowLine, fields: fields))
            }
            fields = []
            fieldStarted = false
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if skippingComment {
                if c == "\n" {
                    skippingComment = false
                    line += 1
                    atRowStart = true
                }
                continue
            }
            if atRowStart {
                rowLine = line
                if allowComments && c == "#" {
                    skippingComment = true
                    continue
                }
                atRowStart = false
            }
            if inQuotes {
                if c == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                inQuotes = true
                fieldStarted = true
            case ",":
                fields.append(field)
                field = ""
                fieldStarted = true
            case "\r":
                break
            case "\n":
                finishRow()
                line += 1
                atRowStart = true
            default:
                field.unicodeScalars.append(c)
                fieldStarted = true
            }
        }
        if !atRowStart || !field.isEmpty || !fields.isEmpty {
            finishRow()
        }
        self.rows = rows
    }
}

/// A table whose first row names the columns, read by column name (case-insensitive, any order).
public struct NamedCSV: Sendable {
    public var header: [String]
    public var rows: [CSVTable.Row]
    public var headerLine: Int
    private var index: [String: Int]

    public init(text: String) {
        let table = CSVTable(text: text)
        header = table.rows.first?.fields.map { $0.trimmingSpaces().lowercased() } ?? []
        headerLine = table.rows.first?.line ?? 1
        rows = Array(table.rows.dropFirst())
        var index: [String: Int] = [:]
        for (i, name) in header.enumerated() where index[name] == nil { index[name] = i }
        self.index = index
    }

    public func has(_ column: String) -> Bool { index[column] != nil }

    /// "row has 9 fields, the header 7" when `row` has more or fewer fields than the header names.
    public func fieldCountProblem(_ row: CSVTable.Row) -> String? {
        guard row.fields.count != header.count else { return nil }
        return "row has \(row.fields.count) field(s), the header \(header.count); quote a value that holds a comma"
    }

    /// The trimmed cell of `column` in `row`; "" when absent.
    public func value(_ row: CSVTable.Row, _ column: String) -> String {
        guard let i = index[column], i < row.fields.count else { return "" }
        return row.fields[i].trimmingSpaces()
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
