import Logging
import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Diagnostics on stderr in the compilers' format, through swift-log so a handler can be swapped in.
enum Diagnostics {
    /// Writes the message as it is, one line, to `STDERR_FILENO`: the format belongs to ``Diagnostic``.
    struct Handler: LogHandler {
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            Diagnostics.printRaw("\(event.message)")
        }
    }

    static let logger: Logger = {
        LoggingSystem.bootstrap { _ in Handler() }
        return Logger(label: "chiptrail")
    }()

    /// Whether a progress line is on the terminal now: a diagnostic clears it first.
    nonisolated(unsafe) static var progressShown = false

    /// Clears the progress or status line, if one is on the terminal: before a diagnostic, and before
    /// an alert line (stdout and stderr are often the same terminal).
    static func clearProgress() {
        if progressShown {
            writeControl("\r\u{1B}[K")
            progressShown = false
        }
    }

    static func report(_ diagnostic: Diagnostic) {
        clearProgress()
        switch diagnostic.severity {
        case .error: logger.error("\(diagnostic.description)")
        case .warning: logger.warning("\(diagnostic.description)")
        case .note: logger.notice("\(diagnostic.description)")
        }
    }

    /// Writes `text` to stderr, one line or several, with every control character and line separator
    /// inside a line escaped (`\x1b`, `\u2028`): a file name or log text cannot move the cursor, set a
    /// terminal title or forge a line.
    static func printRaw(_ text: String, newline: Bool = true) {
        let escaped = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { TextEscaping.escapeForTerminal(String($0)) }.joined(separator: "\n")
        writeControl(escaped, newline: newline)
    }

    /// Writes `text` as it is: for the progress and status lines' own terminal sequences only.
    static func writeControl(_ text: String, newline: Bool = false) {
        var line = text
        if newline && !line.hasSuffix("\n") { line += "\n" }
        FileDescriptorWriter.writeAll(STDERR_FILENO, line)
    }
}
