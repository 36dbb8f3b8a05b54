public import Foundation

/// Keys laid out by day, as CloudTrail writes them (`AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/name`):
/// the folder before the date (the stem) and the day. `tail s3://…` re-lists only the stems' recent
/// days, and prunes its ledger by the keys' day.
public enum DatedKeys {
    /// The stem (up to and with the `/` before `YYYY`) and the day (`YYYY/MM/DD`) of a key whose last
    /// three folders are a date; nil for other keys.
    public static func split(_ key: String) -> (stem: String, day: String)? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return nil }
        let year = parts[parts.count - 4]
        let month = parts[parts.count - 3]
        let day = parts[parts.count - 2]
        func digits(_ s: Substring, _ n: Int) -> Bool {
            s.utf8.count == n && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
        }
        guard digits(year, 4), digits(month, 2), digits(day, 2), let m = Int(month), let d = Int(day),
            (1...12).contains(m),
            (1...31).contains(d)
        else { return nil }
        let stem = parts[..<(parts.count - 4)].joined(separator: "/")
        return (stem.isEmpty ? "" : stem + "/", "\(year)/\(month)/\(day)")
    }

    /// The day of an input name (`s3://bucket/key`) whose key is dated.
    public static func day(ofInputName name: String) -> String? {
        S3Location.object(fromInputName: name).flatMap { split($0.key)?.day }
    }

    /// `YYYY/MM/DD` of the UTC day `daysBefore` days before `date`.
    public static func day(_ date: Date, daysBefore: Int = 0) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down)) - time_t(daysBefore * 86_400)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d/%02d/%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }
}
