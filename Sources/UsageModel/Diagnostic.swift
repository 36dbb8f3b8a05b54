/// How bad a diagnostic is.
public enum DiagnosticSeverity: String, Sendable, Comparable {
    case note
    case warning
    case error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// Where in an input a diagnostic points.
public enum InputPosition: Sendable, Equatable, Codable {
    /// The whole file.
    case file
    /// A 1-based line of the (decompressed) text.
    case line(Int)
    /// A line and a 1-based byte column: records of one-line documents (S3 CloudTrail objects).
    case lineColumn(Int, Int64)
    /// A byte offset into the file as stored (compressed bytes for gzip faults).
    case offset(Int64)
}

/// One problem found in one input, printed in the compilers' format:
/// `logs/a.json.gz:offset 1048576: error: [gzip] stream ends before its trailer; the file is truncated`.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The input's path as given by the user (`-` for standard input).
    public var path: String
    public var position: InputPosition
    public var severity: DiagnosticSeverity
    /// A short category such as `gzip`, `json`, `cloudtrail`, `mapping`.
    public var category: String
    /// Lowercase, no final period; the remedy after a semicolon.
    public var message: String

    public init(path: String, position: InputPosition, severity: DiagnosticSeverity, category: String, message: String)
    {
        self.path = path
        self.position = position
        self.severity = severity
        self.category = category
        self.message = message
    }

    public var description: String {
        let path = TextEscaping.escapeForTerminal(self.path)
        let place: String
        switch position {
        case .file: place = path
        case .line(let line): place = "\(path):\(line)"
        case .lineColumn(let line, let column): place = "\(path):\(line):\(column)"
        case .offset(let offset): place = "\(path):offset \(offset)"
        }
        return "\(place): \(severity.rawValue): [\(category)] \(TextEscaping.escapeForTerminal(message))"
    }
}

/// Something that takes diagnostics; must be safe to call from several reader threads.
public protocol DiagnosticSink: Sendable {
    func report(_ diagnostic: Diagnostic)
}

/// Configuration that detection depends on (mappings, resellers, GeoIP, the config file) failed its
/// validation as a whole: exit status 2 at start, and a reload refused (the previous set kept).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// Every problem found, the file-level ones (which make it an error) among them, in file order.
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
