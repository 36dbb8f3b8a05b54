public import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Expands the user's paths into the inputs to read: files as given, directories recursively (hidden
/// entries skipped), `-` for standard input.
///
/// A directory's files are sorted by the delivery time their names carry (`…_20260301T0405Z_…`, as
/// CloudTrail, and most log shippers, name objects), then by path; files without such a time come
/// first, in path order. Provider layouts put the account and region before the date
/// (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`), so path order would replay each account's
/// whole history before the next: time order keeps the event-time watermark, the de-duplication
/// window and session finalisation working as the logs arrived.
public enum InputEnumerator {
    /// - Returns: the input paths, and a diagnostic for every path that cannot be read (see ``scan(_:)``).
    public static func expand(_ paths: [String]) -> (inputs: [String], problems: [Diagnostic]) {
        let result = scan(paths)
        return (result.inputs, result.problems)
    }

    /// What a scan of the user's paths found.
    public struct Scan: Sendable {
        /// The inputs to read, each directory's in delivery-time order.
        public var inputs: [String] = []
        /// Every directory walked (for a watcher).
        public var directories: [String] = []
        /// Paths that cannot be read, loops, special files skipped: each named, errors counted in the
        /// exit status.
        public var problems: [Diagnostic] = []
    }

    /// Scans the user's paths: files as given (also special files named on the command line, such as
    /// `<(zcat …)`), directories recursively by `stat`, each directory once (by device and inode, so
    /// symbolic links to an ancestor end), special files inside directories skipped with a diagnostic.
    /// - Complexity: O(entries below the paths).
    public static func scan(_ paths: [String]) -> Scan {
        scan(paths, known: [], beforeListing: nil)
    }

    /// ``scan(_:)`` for a watcher: `beforeListing` is called with each directory, and its identity, just
    /// before its entries are listed, so a watch added there misses nothing (what lands before the watch
    /// is listed, what lands after it is signalled). A directory in `known` (already followed by another
    /// path) is noted and not walked again.
    /// - Complexity: O(entries below the paths).
    public static func scan(
        _ paths: [String], known: Set<DirectoryIdentity>, beforeListing: ((String, DirectoryIdentity) -> Void)?
    ) -> Scan {
        var result = Scan()
        var visited = known
        for path in paths {
            if path == "-" {
                result.inputs.append(path)
                continue
            }
            var info = stat()
            guard stat(path, &info) == 0 else {
                result.problems.append(statProblem(path, errno: errno, topLevel: true))
                continue
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                var found: [String] = []
                var ancestors: [DirectoryIdentity: String] = [:]
                walk(
                    path, info, into: &found, result: &result, visited: &visited, ancestors: &ancestors,
                    beforeListing: beforeListing)
                result.inputs += sortedByDeliveryTime(found)
            } else {
                result.inputs.append(path)
            }
        }
        return result
    }

    /// A directory as the kernel knows it (device and inode), whatever path reached it.
    public struct DirectoryIdentity: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64

        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    /// What one entry of a followed directory is, by `stat`: for a watcher told that a name changed.
    public enum Entry: Sendable {
        case file
        case directory
        /// Gone before it could be looked at (nothing to say).
        case vanished
        /// Not readable, or not a regular file or directory: skipped, with the diagnostic a scan gives.
        case problem(Diagnostic)
    }

    /// Looks at one entry found inside a followed directory, as a scan would.
    public static func entry(_ path: String) -> Entry {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            return code == ENOENT && !isDanglingLink(path)
                ? .vanished : .problem(statProblem(path, errno: code, topLevel: false))
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .problem(specialFileProblem(path, mode: info.st_mode))
        }
    }

    private static func isDanglingLink(_ path: String) -> Bool {
        var link = stat()
        return lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
    }

    private static func statProblem(_ path: String, errno code: Int32, topLevel: Bool) -> Diagnostic {
        var link = stat()
        let isLink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
        let message: String
        switch code {
        case ELOOP: message = "symbolic link loop; not read (point the link at a file or directory)"
        case ENOENT where isLink: message = "symbolic link to nothing (dangling); not read"
        case ENOENT where topLevel: message = "no such file or directory; check the path"
        case ENOENT: message = "vanished while its directory was read; not read"
        case EACCES: message = "permission denied; not read (grant read permission, and execute on directories)"
        default: message = "cannot read: \(String(cString: strerror(code)).lowercased()); not read"
        }
        return Diagnostic(path: path, position: .file, severity: .error, category: "input", message: message)
    }

    /// Walks `directory` recursively: its regular files go to `inputs` or, with `onDirectory`, to it with
    /// the directory and whether the directory has subdirectories (each directory's files in name order).
    static func walk(
        _ directory: String, _ info: stat, into inputs: inout [String], result: inout Scan,
        visited: inout Set<DirectoryIdentity>, ancestors: inout [DirectoryIdentity: String],
        beforeListing: ((String, DirectoryIdentity) -> Void)?,
        onDirectory: ((_ directory: String, _ files: [String], _ hasSubdirectories: Bool) -> Void)? = nil
    ) {
        let identity = DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if let ancestor = ancestors[identity] {
            result.problems.append(
                Diagnostic(
                    path: directory, position: .file, severity: .error, category: "input",
                    message:
                        "directory loop: this is \(TextEscaping.escapeForTerminal(ancestor)) again (a symbolic link to an ancestor); not read twice"
                ))
            return
        }
        guard visited.insert(identity).inserted else {
            // The same directory reached twice by links, not a loop: read once.
            result.problems.append(
                Diagnostic(
                    path: directory, position: .file, severity: .note, category: "input",
                    message: "directory already read by another path (a symbolic link); not read twice"))
            return
        }
        beforeListing?(directory, identity)
        guard let handle = opendir(directory) else {
            let code = errno
            result.problems.append(
                Diagnostic(
                    path: directory, position: .file, severity: .error, category: "input",
                    message: code == EACCES
                        ? "cannot read directory: permission denied; its files are not read (grant read and execute permission)"
                        : "cannot read directory: \(String(cString: strerror(code)).lowercased()); its files are not read"
                ))
            return
        }
        // With each name, whether the directory entry says it is a regular file (d_type): such an
        // entry needs no stat(2) (on a tree of a month of small objects, one system call a file less).
        var names: [(name: String, regular: Bool)] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name.hasPrefix(".") { continue }
            names.append((name, entry.pointee.d_type == UInt8(DT_REG)))
        }
        closedir(handle)
        result.directories.append(directory)
        ancestors[identity] = directory
        defer { ancestors[identity] = nil }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var files: [String] = []
        var hasSubdirectories = false
        defer {
            if let onDirectory { onDirectory(directory, files, hasSubdirectories) } else { inputs += files }
        }
        for (name, regular) in names.sorted(by: { $0.name.utf8Precedes($1.name) }) {
            let full = base + "/" + name
            if regular {
                files.append(full)
                continue
            }
            var entryInfo = stat()
            guard stat(full, &entryInfo) == 0 else {
                result.problems.append(statProblem(full, errno: errno, topLevel: false))
                continue
            }
            switch entryInfo.st_mode & S_IFMT {
            case S_IFDIR:
                hasSubdirectories = true
                walk(
                    full, entryInfo, into: &inputs, result: &result, visited: &visited, ancestors: &ancestors,
                    beforeListing: beforeListing, onDirectory: onDirectory)
            case S_IFREG:
                files.append(full)
            default:
                result.problems.append(specialFileProblem(full, mode: entryInfo.st_mode))
            }
        }
    }

    private static func specialFileProblem(_ path: String, mode: mode_t) -> Diagnostic {
        let kind: String
        switch mode & S_IFMT {
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFSOCK: kind = "a socket"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        default: kind = "not a regular file"
        }
        return Diagnostic(
            path: path, position: .file, severity: .error, category: "input",
            message: "\(kind), not a regular file; skipped (name it on the command line to read it)")
    }

    /// Stable sort by the time in each file name, then path.
    public static func sortedByDeliveryTime(_ paths: [String]) -> [String] {
        paths.map { (deliveryTime(inName: $0) ?? .min, $0) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.utf8Precedes($1.1) }
            .map(\.1)
    }

    /// The `YYYYMMDDTHHMM[SS]Z` time in the last path component, as epoch seconds.
    public static func deliveryTime(inName path: String) -> EpochSeconds? {
        // The last non-empty path component, by bytes (splitting the String by Character walked
        // grapheme clusters: 60,000 instructions a name, for every input).
        var bytes = Array(path.utf8)
        while bytes.last == 0x2F { bytes.removeLast() }
        let name = Array(bytes[((bytes.lastIndex(of: 0x2F) ?? -1) + 1)...])
        guard name.count >= 14 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from >= 0, from + count <= name.count else { return nil }
            var value = 0
            for i in from..<(from + count) {
                let d = Int(name[i]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        for t in 8..<name.count where name[t] == 0x54 {  // 'T'
            guard let date = digits(t - 8, 8), let hhmm = digits(t + 1, 4) else { continue }
            var after = t + 5
            var seconds = 0
            if let ss = digits(after, 2), after + 2 < name.count, name[after + 2] == 0x5A {
                seconds = ss
                after += 2
            }
            guard after < name.count, name[after] == 0x5A else { continue }  // 'Z'
            let year = date / 10_000
            let month = date / 100 % 100
            let day = date % 100
            guard (1...12).contains(month), (1...31).contains(day), hhmm / 100 < 24, hhmm % 100 < 60 else { continue }
            return Int64(Timestamp.daysFromCivil(year: year, month: month, day: day)) * 86_400
                + Int64(hhmm / 100 * 3600 + hhmm % 100 * 60 + seconds)
        }
        return nil
    }
}
