public import UsageModel

/// The jurisdictions whose links make restricted-accelerator use an alert, with the time bounds of rules
/// that moved a country in or out (Cambodia left D:5 on 2026-02-03).
public struct RestrictedJurisdictions: Sendable {
    public struct Entry: Sendable, Hashable {
        public var code: CountryCode
        public var name: String
        public var basis: String
        public var since: EpochSeconds?
        public var until: EpochSeconds?
    }

    public private(set) var entries: [CountryCode: Entry] = [:]

    /// China including Hong Kong and Macau, Country Groups D:5, E:1 and E:2 (see `Sources/Catalog/Data`).
    public static let builtIn: RestrictedJurisdictions = {
        var result = RestrictedJurisdictions()
        let table = NamedCSV(text: CatalogData.jurisdictions)
        for row in table.rows {
            guard let code = CountryCode(table.value(row, "code")) else { continue }
            result.entries[code] = Entry(
                code: code, name: table.value(row, "name"), basis: table.value(row, "basis"),
                since: Timestamp.parse(table.value(row, "since")), until: Timestamp.parse(table.value(row, "until")))
        }
        return result
    }()

    public init() {}

    /// A set of plain codes without time bounds (configuration override).
    public init(codes: [CountryCode]) {
        for code in codes {
            entries[code] = Entry(code: code, name: code.description, basis: "configuration", since: nil, until: nil)
        }
    }

    /// Adds plain codes (no time bounds).
    public mutating func add(_ codes: [CountryCode]) {
        for code in codes where entries[code] == nil {
            entries[code] = Entry(code: code, name: code.description, basis: "configuration", since: nil, until: nil)
        }
    }

    /// Removes codes.
    public mutating func remove(_ codes: [CountryCode]) {
        for code in codes { entries[code] = nil }
    }

    /// The codes restricted at some time, as a bitmap of ``CountryCode/raw`` (1,024 words): a call from any
    /// other never changes a count of calls from restricted countries.
    public var everRestricted: [UInt64] {
        var bits = [UInt64](repeating: 0, count: 1024)
        for code in entries.keys { bits[Int(code.raw >> 6)] |= 1 << UInt64(code.raw & 63) }
        return bits
    }

    /// Whether `code` is restricted at `time`.
    public func isRestricted(_ code: CountryCode, at time: EpochSeconds) -> Bool {
        guard let entry = entries[code] else { return false }
        if let since = entry.since, time < since { return false }
        if let until = entry.until, time >= until { return false }
        return true
    }

    /// Why `code` is restricted (`D:5;E:1`), or nil.
    public func basis(_ code: CountryCode) -> String? { entries[code]?.basis }

    /// Whether a list like `CN;HK;MO` names a restricted code at `time`; returns those that are.
    public func restricted(in codes: [CountryCode], at time: EpochSeconds) -> [CountryCode] {
        codes.filter { isRestricted($0, at: time) }
    }
}
