public import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files under one local directory, one at a time, in the order ``InputEnumerator/scan(_:)`` gives
/// (by the delivery time in each name, then by path; files without a time first), with memory for one
/// day's files, not the tree's: ingest's local counterpart of the S3 walk a day at a time.
///
/// A first walk (the scan's: hidden entries skipped, each directory once, loops and special files named)
/// keeps, of each directory laid out by day (`…/YYYY/MM/DD`, files only, every file's delivery time on
/// that day, as CloudTrail writes them), only the folder above the date and the day; of every other
/// file, its path. Then each day, oldest first, its folders are listed again and their files handed out
/// in delivery order, merged with the other files at their places — so the order is exactly a whole
/// scan's. A provider's tree costs a few bytes a folder and day, not ~220 bytes a file held from the
/// start (931,029 paths of a 20,000-account month). Files that land or go between the two listings
/// are read or not as the second listing finds them (those that land after ``changedUpTo``, when it is
/// set, are not).
///
/// Not thread-safe: one caller at a time.
public struct LocalDeliveryWalk: Sendable {
    /// Files the first walk found.
    public private(set) var count = 0
    /// What the first walk could not read (each named, as a scan names it).
    public private(set) var problems: [Diagnostic] = []
    /// The folders above a date (`…/CloudTrail/us-east-1/`), each once.
    private var stems: [String] = []
    /// Each day laid out by day (its first second), oldest first, with its folders' stems in the order found.
    private var days: [(day: EpochSeconds, stems: [Int32])] = []
    private var nextDay = 0
    /// Files not read a day at a time, in order.
    private var others: [(time: EpochSeconds, path: String)] = []
    private var nextOther = 0
    /// The day being handed out, in order: its folders (`…/YYYY/MM/DD/`), its files' names end to end, and
    /// per file its delivery time, its folder and where its name lies. A path as a `String` of its own took
    /// ~220 bytes with its tuple (world 101 at 20,000 accounts: its busiest day held 25 MB of paths), the
    /// whole path's bytes ~200 (17 MB); a name and 24 bytes, about half that.
    private var currentFolders: [String] = []
    private var currentNames: [UInt8] = []
    private var current: [DayFile] = []
    private var nextCurrent = 0
    /// When set (nanoseconds since the epoch, on the clock of a file's status change time), a day's
    /// listing leaves out the files whose status changed after it: files that landed, or changed, after a
    /// moment are not handed out, whichever day's folder they are in and however late that day comes.
    /// `tail` sets it to the start of the wake that walks: what lands later is named by its events and
    /// read at a later wake, so no file is read before one that landed earlier and is still to be read.
    /// Each file of a listing then costs a `stat`. The files left out are kept in ``changedLater``.
    public var changedUpTo: Int64? = nil
    /// The files a day's listing left out because their status changed after ``changedUpTo`` (landed,
    /// or changed, during the wake: a short list), until taken by ``takeChangedLater()``. Not every
    /// change of status raises an event on the file's folder (a hard link made or removed, a write
    /// through a mapping, a clock set back), so the caller looks at them again whether or not an event
    /// names them.
    private var changedLater: [String] = []

    private struct DayFile {
        var time: EpochSeconds
        var start: Int
        var count: Int32
        var folder: Int32
    }

    /// Walks `directory` once (see the type's summary).
    public init(directory: String) {
        var visited: Set<InputEnumerator.DirectoryIdentity> = []
        self.init(directory: directory, visited: &visited, beforeListing: nil)
    }

    /// Walks `directory` once, as ``init(directory:)``, for a watcher: `beforeListing` is called with each
    /// directory, and its identity, just before the first walk lists it (the listings a day at a time
    /// that follow are not announced: their directories were announced then); a directory in `visited`
    /// (reached by another path) is not walked again, and each directory walked is added to it.
    public init(
        directory: String, visited: inout Set<InputEnumerator.DirectoryIdentity>,
        beforeListing: ((String, InputEnumerator.DirectoryIdentity) -> Void)?
    ) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            problems = InputEnumerator.scan([directory]).problems
            return
        }
        var scan = InputEnumerator.Scan()
        var ancestors: [InputEnumerator.DirectoryIdentity: String] = [:]
        var unused: [String] = []
        // Built in locals: the walk's callback cannot capture `self` while it is initialised.
        var count = 0
        var stems: [String] = []
        var days: [(day: EpochSeconds, stems: [Int32])] = []
        var others: [(time: EpochSeconds, path: String)] = []
        var stemIndex: [String: Int32] = [:]
        var dayIndex: [EpochSeconds: Int] = [:]
        InputEnumerator.walk(
            directory, info, into: &unused, result: &scan, visited: &visited, ancestors: &ancestors,
            beforeListing: beforeListing
        ) { folder, files, hasSubdirectories in
            count += files.count
            if !hasSubdirectories, !files.isEmpty, let (stem, day) = Self.datedFolder(folder),
                files.allSatisfy({ InputEnumerator.deliveryTime(inName: $0).map(Self.dayOf) == day })
            {
                let s: Int32
                if let known = stemIndex[stem] {
                    s = known
                } else {
                    s = Int32(stems.count)
                    stems.append(stem)
                    stemIndex[stem] = s
                }
                if let d = dayIndex[day] {
                    days[d].stems.append(s)
                } else {
                    dayIndex[day] = days.count
                    days.append((day, [s]))
                }
                return
            }
            for file in files { others.append((InputEnumerator.deliveryTime(inName: file) ?? .min, file)) }
        }
        self.count = count
        self.stems = stems
        self.days = days.sorted { $0.day < $1.day }
        self.others = others.sorted(by: Self.precedes)
        problems = scan.problems
    }

    /// Whether every file was handed out.
    public var isFinished: Bool { nextDay == days.count && nextOther == others.count && nextCurrent == current.count }

    /// Paths held now: the files not read a day at a time, the day being handed out, and the files its
    /// listings left out and not yet taken.
    public var pathsHeld: Int { others.count + current.count + changedLater.count }

    /// The files the listings so far left out (see ``changedUpTo``), each once; the list is emptied.
    public mutating func takeChangedLater() -> [String] {
        defer { changedLater = [] }
        return changedLater
    }

    /// Whether the walk is past `path` for good: it will not hand it out from now on. A file in a dated
    /// folder (`…/YYYY/MM/DD/name`) of a day before the one being handed out (that folder is not listed
    /// again), or after the last day; and, among the files not laid out by day, one that sorts before
    /// the next of them to come (they are handed out in that order). Conservative: any other path may
    /// still come.
    public func hasPassed(_ path: String) -> Bool {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return false }
        let folder = String(path[..<slash])
        // A file outside a dated folder is never in a day's listing: only the others decide.
        if let (_, day) = Self.datedFolder(folder) {
            let listedAll = nextDay == days.count && nextCurrent == current.count
            guard listedAll || (nextDay > 0 && day < days[nextDay - 1].day) else { return false }
        }
        guard nextOther < others.count else { return true }
        return Self.precedes((InputEnumerator.deliveryTime(inName: path) ?? .min, path), others[nextOther])
    }

    /// The next file, or nil after the last. A day's folder that cannot be listed again (removed or made
    /// unreadable since the walk) goes to `report`: its files are not read, and it is named, not skipped.
    public mutating func next(report: (Diagnostic) -> Void = { _ in }) -> String? {
        // Until a day's listing gives a file: a day listed again may give none (its files removed or its
        // folder gone since the walk, or all changed after ``changedUpTo``), and the days after it follow.
        while nextCurrent == current.count {
            current = []
            currentNames = []
            currentFolders = []
            nextCurrent = 0
            // A day's files all sort after every file of a time before the day.
            guard nextDay < days.count && (nextOther == others.count || others[nextOther].time >= days[nextDay].day)
            else { break }
            list(day: nextDay, report: report)
            nextDay += 1
        }
        let fromCurrent = nextCurrent < current.count
        let fromOthers = nextOther < others.count
        if fromCurrent && (!fromOthers || precedes(current[nextCurrent], others[nextOther])) {
            nextCurrent += 1
            return path(of: current[nextCurrent - 1])
        }
        if fromOthers {
            nextOther += 1
            return others[nextOther - 1].path
        }
        return nil
    }

    /// What a day's listing could not read again of what the first walk listed: `what` failed with `code`.
    private static func unreadAgain(_ path: String, _ what: String, _ code: Int32, _ consequence: String) -> Diagnostic
    {
        Diagnostic(
            path: path, position: .file, severity: .error, category: "input",
            message:
                "\(what): \(String(cString: strerror(code)).lowercased()); it was listed when the input was first walked, and \(consequence)"
        )
    }

    /// Lists a day's files again, folder by folder, into `current`, in delivery order.
    private mutating func list(day index: Int, report: (Diagnostic) -> Void) {
        let (day, dayStems) = days[index]
        let date = Self.folderName(day)
        var names: [UInt8] = []
        var files: [DayFile] = []
        var folders: [String] = []
        for s in dayStems {
            let folder = stems[Int(s)] + date
            guard let handle = opendir(folder) else {
                report(
                    Self.unreadAgain(
                        folder, "cannot read directory again", errno,
                        "its files are not read (was it moved or its permissions changed during the run?)"))
                continue
            }
            let f = Int32(folders.count)
            folders.append(folder + "/")
            let descriptor = dirfd(handle)
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                }
                if name.hasPrefix(".") { continue }
                let path = folder + "/" + name
                // A regular file by its directory entry needs no stat(2) unless its change time is asked;
                // links and unknown types are followed as the first walk followed them.
                if entry.pointee.d_type != UInt8(DT_REG) || changedUpTo != nil {
                    var info = stat()
                    guard fstatat(descriptor, name, &info, 0) == 0 else {
                        // Gone since the readdir: not read, as if listed a moment later. Any other
                        // failure (EACCES, EIO) is named, not skipped without a word; a symbolic link's
                        // (a loop, a dangling link) was named by the first walk already.
                        let code = errno
                        if code != ENOENT && entry.pointee.d_type != UInt8(DT_LNK) {
                            report(
                                Self.unreadAgain(
                                    path, "cannot read the file's status again", code,
                                    "it is not read (check its permissions and the disk)"))
                        }
                        continue
                    }
                    guard info.st_mode & S_IFMT == S_IFREG else { continue }
                    if let changedUpTo,
                        Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec) > changedUpTo
                    {
                        changedLater.append(path)
                        continue
                    }
                }
                let start = names.count
                names.append(contentsOf: name.utf8)
                files.append(
                    DayFile(
                        time: InputEnumerator.deliveryTime(inName: path) ?? .min, start: start,
                        count: Int32(names.count - start), folder: f))
            }
            closedir(handle)
        }
        currentNames = names
        currentFolders = folders
        files.sort { x, y in x.time != y.time ? x.time < y.time : pathPrecedes(x, y) }
        current = files
    }

    /// The file's path: its folder's and its name.
    private func path(of file: DayFile) -> String {
        currentNames.withUnsafeBufferPointer {
            currentFolders[Int(file.folder)]
                + String(
                    decoding: UnsafeBufferPointer(rebasing: $0[file.start..<(file.start + Int(file.count))]),
                    as: UTF8.self)
        }
    }

    /// Whether `a`'s path comes before `b`'s in byte order (as `String.utf8Precedes`): by name within
    /// one folder; by folder where the folders differ within the shorter one; else (one folder's path a
    /// prefix of the other's, which a layout by day does not make) by the whole paths.
    private func pathPrecedes(_ a: DayFile, _ b: DayFile) -> Bool {
        if a.folder == b.folder {
            return currentNames.withUnsafeBytes { n in Self.bytesPrecede(Self.slice(n, a), Self.slice(n, b)) }
        }
        var x = currentFolders[Int(a.folder)]
        var y = currentFolders[Int(b.folder)]
        let decided: Bool? = x.withUTF8 { p in
            y.withUTF8 { q in
                let common = min(p.count, q.count)
                let order = memcmp(p.baseAddress!, q.baseAddress!, common)
                return order != 0 ? order < 0 : nil
            }
        }
        if let decided { return decided }
        return path(of: a).utf8Precedes(path(of: b))
    }

    private static func slice(_ b: UnsafeRawBufferPointer, _ file: DayFile) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: b[file.start..<(file.start + Int(file.count))])
    }

    /// Byte order, a prefix first (as `String.utf8Precedes`).
    private static func bytesPrecede(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let common = min(a.count, b.count)
        if common > 0 {
            let order = memcmp(a.baseAddress!, b.baseAddress!, common)
            if order != 0 { return order < 0 }
        }
        return a.count < b.count
    }

    /// Whether a file of the day comes before a file of the others (by time, then path).
    private func precedes(_ file: DayFile, _ other: (time: EpochSeconds, path: String)) -> Bool {
        if file.time != other.time { return file.time < other.time }
        return path(of: file).utf8Precedes(other.path)
    }

    private static func precedes(_ a: (time: EpochSeconds, path: String), _ b: (time: EpochSeconds, path: String))
        -> Bool
    {
        a.time != b.time ? a.time < b.time : a.path.utf8Precedes(b.path)
    }

    private static func dayOf(_ time: EpochSeconds) -> EpochSeconds {
        time >= 0 ? time / 86_400 * 86_400 : (time - 86_399) / 86_400 * 86_400
    }

    /// `…/YYYY/MM/DD` (a plausible date): the part before the date, with its slash, and the day.
    static func datedFolder(_ path: String) -> (stem: String, day: EpochSeconds)? {
        let bytes = Array(path.utf8)
        guard bytes.count > 11 else { return nil }
        let tail = bytes[(bytes.count - 11)...]
        let slashes = [0, 5, 8].map { tail[tail.startIndex + $0] }
        guard slashes.allSatisfy({ $0 == 0x2F }) else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<(from + count) {
                let d = Int(tail[tail.startIndex + i]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = number(1, 4), let month = number(6, 2), let day = number(9, 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let start = Int64(Timestamp.daysFromCivil(year: year, month: month, day: day)) * 86_400
        // A date that is not one (2026/02/31) names no day to list again.
        guard Array(folderName(start).utf8) == Array(tail.dropFirst()) else { return nil }
        return (String(decoding: bytes[..<(bytes.count - 10)], as: UTF8.self), start)
    }

    /// `YYYY/MM/DD` of a day.
    static func folderName(_ day: EpochSeconds) -> String {
        let text = Timestamp.format(day)  // 2026-09-23T00:00:00Z
        let b = Array(text.utf8)
        return String(decoding: b[0..<4] + [0x2F] + b[5..<7] + [0x2F] + b[8..<10], as: UTF8.self)
    }
}
