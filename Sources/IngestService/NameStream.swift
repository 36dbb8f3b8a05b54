#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import UsageModel

/// Input names read from a file or standard input as they come, each ended by a NUL byte
/// (`ingest --inputs-from`): a name is handed out once its NUL has arrived, so whoever writes them can
/// name each input when it is ready (Scripts/spark-ingest names each normalised file as it lands, and
/// the merge reads the first while the rest are still being made). The names are read as given, not
/// listed again; empty names are skipped; a last name without its NUL counts.
///
/// With an expected count (`--inputs-count`), a list that ends sooner was cut (its writer died): the
/// stream reports it and calls `onCut` — ingest then stops as if interrupted, deciding nothing at an end
/// of input it did not reach.
public final class NameStream: @unchecked Sendable {
    /// The file or stdin could not be opened.
    public struct OpenError: Error {
        public var diagnostic: Diagnostic
    }

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let path: String
    private let expected: Int?
    private let stopped: () -> Bool
    private let onCut: () -> Void
    private var pending: [UInt8] = []
    private var ended = false
    /// Names handed out.
    public private(set) var count = 0
    /// Whether the list ended before the expected count.
    public private(set) var wasCut = false

    /// Opens `path` (`-`: standard input).
    /// - Parameters:
    ///   - expected: how many names the list holds, when its writer says so; nil: the list ends where it ends.
    ///   - stopped: asked while waiting for a name (every 100 ms): true ends the list there (a stop request).
    ///   - onCut: called once when the list ends before `expected` names.
    /// - Throws: ``OpenError`` naming the file and what to do.
    public init(
        path: String, expected: Int? = nil, stopped: @escaping () -> Bool = { false }, onCut: @escaping () -> Void = {}
    ) throws(OpenError) {
        self.path = path
        self.expected = expected
        self.stopped = stopped
        self.onCut = onCut
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                throw OpenError(
                    diagnostic: Diagnostic(
                        path: path, position: .file, severity: .error, category: "inputs",
                        message: "cannot open the list of inputs (\(reason)); give a readable file, or - for stdin"))
            }
            descriptor = fd
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// The next name, waiting for its NUL; nil at the end of the list (or once `stopped` says so). A read
    /// error ends the list and goes to `report` (the inputs named after it are not read: exit status 1),
    /// as does a name `-` (stdin is named on the command line, not in the list: skipped).
    public func next(report: (Diagnostic) -> Void) -> String? {
        while let name = take(report: report) {
            if name == "-" {
                report(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "inputs",
                        message:
                            "the list names '-' (standard input); name files in the list, and read stdin with ingest -")
                )
                continue
            }
            count += 1
            return name
        }
        if let expected, count < expected, !wasCut, !stopped() {
            wasCut = true
            report(
                Diagnostic(
                    path: path, position: .file, severity: .error, category: "inputs",
                    message:
                        "the list of inputs ended after \(count) of the \(expected) names it was to hold (its writer stopped); nothing was decided at an end of input not reached: run again"
                ))
            onCut()
        }
        return nil
    }

    private func take(report: (Diagnostic) -> Void) -> String? {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let name = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(...end)
                if name.isEmpty { continue }
                return name
            }
            if ended {
                guard !pending.isEmpty else { return nil }
                let name = String(decoding: pending, as: UTF8.self)
                pending.removeAll()
                return name
            }
            // Waits for bytes a tenth of a second at a time, so that a stop request ends the wait.
            var watch = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&watch, 1, 100)
            if ready == 0 || (ready < 0 && errno == EINTR) {
                if stopped() {
                    ended = true
                    pending.removeAll()
                }
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = ready < 0 ? -1 : chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                pending.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                ended = true
            } else if errno != EINTR && errno != EAGAIN {
                let reason = String(cString: strerror(errno))
                report(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "inputs",
                        message:
                            "reading the list of inputs failed (\(reason)); the inputs named after it were not read"
                    ))
                ended = true
                pending.removeAll()
            }
        }
    }
}
