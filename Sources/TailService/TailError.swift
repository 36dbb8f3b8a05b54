/// Why the tail daemon stopped with an error (exit status 2): the store failed, or the daemon could not
/// set up its wait. The message is ``description``; the loop has committed nothing further.
public struct TailError: Error, CustomStringConvertible {
    /// What went wrong; new codes break no caller.
    public struct Code: Equatable, Sendable, CustomStringConvertible {
        enum Kind: Equatable, Sendable {
            case store
            case cannotWait(errno: Int32)
        }
        let kind: Kind

        /// Reading or writing the store (ledger, checkpoint, outbox) failed.
        public static let store = Code(kind: .store)

        public var description: String {
            switch kind {
            case .store: "store"
            case .cannotWait(let number): "cannot wait (errno \(number))"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The underlying error's text, as printed after `chiptrail: error: `.
    public let description: String

    init(_ kind: Code.Kind, underlying: (any Error)? = nil) {
        code = Code(kind: kind)
        switch kind {
        case .store: description = underlying.map { "\($0)" } ?? "the store failed"
        case .cannotWait(let number):
            description =
                "cannot make the pipe that wakes the daemon's wait (errno \(number)); raise the limit of open files"
        }
    }
}
