#if canImport(Glibc)
    import Glibc
#endif

/// `write(2)` of a whole buffer, retried on partial writes and EINTR: the one writer of the project's
/// descriptor output (alerts, diagnostics, query results, normalised records, object bodies into pipes,
/// syslog messages with `send(2)`).
public enum FileDescriptorWriter {
    /// - Returns: false when `write` failed (errno says why) or wrote nothing.
    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        whole(bytes) { write(descriptor, $0, $1) }
    }

    /// Calls `transfer` (a write or send of a pointer and a count) until all of `bytes` went: partial
    /// transfers continue, EINTR is retried; false when one fails or moves nothing.
    @inline(__always)
    private static func whole(_ bytes: UnsafeRawBufferPointer, _ transfer: (UnsafeRawPointer, Int) -> Int) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = transfer(bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// `send(2)` of a whole buffer on a stream socket, with `flags` (`MSG_NOSIGNAL`: a closed peer is
    /// an error, not SIGPIPE), retried the same way.
    /// - Returns: false when `send` failed (errno says why) or sent nothing.
    @discardableResult
    public static func sendAll(_ socket: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32) -> Bool {
        whole(bytes) { send(socket, $0, $1, flags) }
    }

    /// `send(2)` of one datagram, retried on EINTR.
    /// - Returns: whether all of it was sent.
    @discardableResult
    public static func sendDatagram(_ socket: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32) -> Bool {
        while true {
            let n = send(socket, bytes.baseAddress!, bytes.count, flags)
            if n < 0 && errno == EINTR { continue }
            return n == bytes.count
        }
    }

    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { writeAll(descriptor, UnsafeRawBufferPointer($0)) }
    }
}
