import Foundation
public import UsageModel

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
    /// - Returns: the input paths, and a diagnostic for every path that does not exist.
    public static func expand(_ paths: [String]) -> (inputs: [String], problems: [Diagnostic]) {
        var inputs: [String] = []
        var problems: [Diagnostic] = []
        let fm = FileManager.default
        for path in paths {
            if path == "-" {
                inputs.append(path)
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "input",
                        message: "no such file or directory; check the path"))
                continue
            }
            if isDirectory.boolValue {
                var found: [String] = []
                walk(path, into: &found)
                inputs += sortedByDeliveryTime(found)
            } else {
                inputs.append(path)
            }
        }
        return (inputs, problems)
    }

    /// Stable sort by the time in each file name, then path.
    public static func sortedByDeliveryTime(_ paths: [String]) -> [String] {
        paths.map { (deliveryTime(inName: $0) ?? .min, $0) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }
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

    private static func walk(_ directory: String, into inputs: inout [String]) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !name.hasPrefix(".") {
            let full = base + "/" + name
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                walk(full, into: &inputs)
            } else {
                inputs.append(full)
            }
        }
    }
}
