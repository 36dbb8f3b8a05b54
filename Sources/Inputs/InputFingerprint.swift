import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// A file's identity for the ledger: its size and a hash of its size and its first and last 64 KiB as stored.
public enum InputFingerprint {
    public static func of(path: String) -> (size: Int64, fingerprint: String) {
        let taken = stamped(path: path)
        return (taken.size, taken.fingerprint)
    }

    /// The fingerprint, and the file's stamp as fingerprinted (nil for stdin and a file that cannot be
    /// opened): its modification time and status change time (nanoseconds since the epoch) and inode,
    /// from the same `fstat`. The ledger keeps them, so that `tail` knows the file unchanged by its
    /// `stat` alone.
    public static func stamped(path: String) -> (
        size: Int64, fingerprint: String, modified: Int64?, inode: Int64?, changed: Int64?
    ) {
        guard path != "-" else { return (0, "stdin", nil, nil, nil) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (0, "unreadable", nil, nil, nil) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return (0, "unreadable", nil, nil, nil) }
        let size = Int64(info.st_size)
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        let inode = Int64(bitPattern: UInt64(info.st_ino))
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
        return (size, StableHash.hex(hash), modified, inode, changed)
    }
}
