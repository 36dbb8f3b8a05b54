#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seconds since 1970-01-01T00:00:00Z; fractions are dropped.
public typealias EpochSeconds = Int64

/// Parsing and printing of RFC 3339 / ISO 8601 times without Foundation, on bytes.
public enum Timestamp {
    /// The wall clock, in whole seconds: the one reading of it (stamps of stored rows and alerts, the
    /// ages `prune` and `alerts --since` count back from). Durations use ``MonotonicClock``.
    public static func now() -> EpochSeconds {
        EpochSeconds(time(nil))
    }

    /// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fff…][Z|±HH:MM]` (no zone means UTC), or a bare `YYYY-MM-DD`.
    /// - Returns: nil when the bytes are not such a time.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> EpochSeconds? {
        let count = bytes.count
        guard count >= 10 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int? {
            let c = Int(bytes[i]) &- 48
            return (c >= 0 && c <= 9) ? c : nil
        }
        @inline(__always) func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for i in start..<(start + length) {
                guard let d = digit(i) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 0x2D, let month = number(5, 2), bytes[7] == 0x2D,
            let day = number(8, 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if count == 10 { return seconds }
        guard count >= 19, bytes[10] == 0x54 || bytes[10] == 0x20 || bytes[10] == 0x74,
            let hour = number(11, 2), bytes[13] == 0x3A, let minute = number(14, 2), bytes[16] == 0x3A,
            let second = number(17, 2), hour < 24, minute < 60, second <= 60
        else { return nil }
        seconds += Int64(hour * 3600 + minute * 60 + second)
        var i = 19
        if i < count && (bytes[i] == 0x2E || bytes[i] == 0x2C) {
            i += 1
            while i < count, digit(i) != nil { i += 1 }
        }
        if i == count { return seconds }
        let zone = bytes[i]
        if zone == 0x5A || zone == 0x7A {  // Z
            return i + 1 == count ? seconds : nil
        }
        if zone == 0x2B || zone == 0x2D {  // + or -
            guard i + 6 == count || i + 5 == count else { return nil }
            guard let offsetHours = number(i + 1, 2) else { return nil }
            let minuteStart = bytes[i + 3] == 0x3A ? i + 4 : i + 3
            guard minuteStart + 2 == count, let offsetMinutes = number(minuteStart, 2) else { return nil }
            let offset = Int64(offsetHours * 3600 + offsetMinutes * 60)
            return zone == 0x2B ? seconds - offset : seconds + offset
        }
        return nil
    }

    /// Parses a time held in a `String` (configuration and mapping files; not the hot path).
    public static func parse(_ text: String) -> EpochSeconds? {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Prints `2026-03-01T02:00:00Z`.
    public static func format(_ seconds: EpochSeconds) -> String {
        // Digits into the string's own storage: alerts, the store and the text output format several
        // per session.
        let text = String(unsafeUninitializedCapacity: 20) {
            write(seconds, into: UnsafeMutableRawBufferPointer($0)) ?? 0
        }
        if !text.isEmpty { return text }
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let rest = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = civilFromDays(days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let yearText = String(year)
        let paddedYear = String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
        return "\(paddedYear)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }

    /// Prints `2026-03-01T02:00:00Z` into the first 20 bytes of `buffer` (the store binds them as they
    /// are, without a `String` per time).
    /// - Returns: 20, or nil for a year outside 0 – 9999 (nothing written; ``format(_:)`` prints those).
    public static func write(_ seconds: EpochSeconds, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        precondition(buffer.count >= 20)
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let rest = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = civilFromDays(days)
        guard (0...9999).contains(year) else { return nil }
        func put(_ value: Int, at start: Int, width: Int) {
            var v = value
            for k in stride(from: start + width - 1, through: start, by: -1) {
                buffer[k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
            }
        }
        put(year, at: 0, width: 4)
        put(month, at: 5, width: 2)
        put(day, at: 8, width: 2)
        put(rest / 3600, at: 11, width: 2)
        put(rest / 60 % 60, at: 14, width: 2)
        put(rest % 60, at: 17, width: 2)
        // - - T : : Z
        (buffer[4], buffer[7], buffer[10], buffer[13], buffer[16], buffer[19]) = (0x2D, 0x2D, 0x54, 0x3A, 0x3A, 0x5A)
        return 20
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    @inlinable
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Parses a relative duration such as `7d`, `12h`, `30m`, `90s`, `2w` into seconds.
    public static func parseDuration(_ text: String) -> Int64? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value >= 0 else { return nil }
        let factor: Int64
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86_400
        case "w": factor = 7 * 86_400
        default: return nil
        }
        // Past a thousand years is no duration (and past Int64 must not trap): nil, a usage error
        // where it was given.
        let (seconds, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow || seconds > 1000 * 366 * 86_400 ? nil : seconds
    }
}
