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
public final class NameStream: @unchecked Sendable {
    /// The file or stdin could not be opened.
    public struct OpenError: Error {
        public var diagnostic: Diagnostic
    }

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let path: String
    private var pending: [UInt8] = []
    private var ended = false

    /// Opens `path` (`-`: standard input).
    /// - Throws: ``OpenError`` naming the file and what to do.
    public init(path: String) throws(OpenError) {
        self.path = path
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

    /// The next name, waiting for its NUL; nil at the end of the list. A read error ends the list and
    /// goes to `report` (the inputs named after it are not read: exit status 1).
    public func next(report: (Diagnostic) -> Void) -> String? {
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
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                pending.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                ended = true
            } else if errno != EINTR {
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
