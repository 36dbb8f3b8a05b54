import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// The first line of a plain JSON-lines file, hashed: a followed file replaced by another is read from
/// its start. nil for anything else (gzip, CSV, a one-line document longer than 4 KiB, unreadable).
struct PlainHead {
    var hash: String

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        // JSON lines: an object first, and a line end within 4 KiB.
        guard let first = head[0..<n].firstIndex(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            head[first] == 0x7B, let newline = head[0..<n].firstIndex(of: 0x0A)
        else { return nil }
        // Only the first line: it stays the same while lines are appended.
        let end = newline + 1
        hash = head.withUnsafeBytes { StableHash.hex(StableHash.hash(UnsafeRawBufferPointer(rebasing: $0[0..<end]))) }
    }
}
