#if canImport(Glibc)
    import Glibc
#endif

/// `write(2)` of a whole buffer, retried on partial writes and EINTR: the one writer of the project's
/// descriptor output (alerts, diagnostics, query results, normalised records, object bodies into pipes).
public enum FileDescriptorWriter {
    /// - Returns: false when `write` failed (errno says why) or wrote nothing.
    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { writeAll(descriptor, UnsafeRawBufferPointer($0)) }
    }
}
