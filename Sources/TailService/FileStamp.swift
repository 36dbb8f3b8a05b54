#if canImport(Glibc)
    import Glibc
#endif

/// What `stat` says of a file: enough to skip unchanged files without reading them.
struct FileStamp: Equatable {
    var size: Int64
    var modified: Int64
    var inode: UInt64
    /// The status change time (nanoseconds since the epoch): what size, modification time and inode
    /// miss (a rewrite that keeps them, `touch -r`) changes it.
    var changed: Int64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        inode = UInt64(info.st_ino)
        changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    }
}

/// The stamps of the files last read or found already read, by path, so that a file named again unchanged
/// is not looked at (its head read, its fingerprint taken and looked up in the ledger).
///
/// Two generations of at most ``generation`` files each: when the newer is full it becomes the older and
/// the older is let go, so what is kept follows the files landing now, not the files of the tree (a
/// backlog of 931,029 files kept a stamp and a path for each: ~100 MB). A file no longer kept is
/// recognised by the ledger instead, which costs a read of its first and last 64 KiB. With
/// ``keepsAll`` (every wake walks the whole tree: `--poll`, the watch limit reached) nothing is let go:
/// each wake would otherwise fingerprint every file of the tree.
struct SeenFiles {
    /// Files a generation holds.
    let generation: Int
    /// Keep every stamp (set before each wake).
    var keepsAll = false
    private var newer: [String: FileStamp] = [:]
    private var older: [String: FileStamp] = [:]

    init(generation: Int = 16_384) {
        self.generation = generation
    }

    /// Stamps kept.
    var count: Int { newer.count + older.count }

    subscript(path: String) -> FileStamp? {
        get { newer[path] ?? older[path] }
        set {
            newer[path] = newValue
            if newValue == nil { older[path] = nil }
            if !keepsAll && newer.count >= generation {
                older = newer
                newer = [:]
            }
        }
    }
}
