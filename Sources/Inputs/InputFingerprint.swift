import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// A file's identity for the ledger: its size and a hash of its size and its first and last 64 KiB as stored.
public enum InputFingerprint {
    public static func of(path: String) -> (size: Int64, fingerprint: String) {
        guard path != "-" else { return (0, "stdin") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (0, "unreadable") }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let size = Int64(info.st_size)
        var head = [UInt8](repeating: 0, count: 64 << 10)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        var hash = StableHash.hash(String(size))
        head.withUnsafeBytes { hash = StableHash.hash(UnsafeRawBufferPointer(rebasing: $0[0..<max(0, n)]), seed: hash) }
        // And the last 64 KiB: a file rewritten in place, or appended to, is a new content.
        if size > Int64(head.count) {
            let m = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(size - Int64($0.count))) }
            head.withUnsafeBytes {
                hash = StableHash.hash(UnsafeRawBufferPointer(rebasing: $0[0..<max(0, m)]), seed: hash ^ 0x5A)
            }
        }
        return (size, StableHash.hex(hash))
    }
}
