public import UsageModel
import Inputs

/// IP → country by binary search over sorted inclusive ranges, IPv4 and IPv6 alike.
///
/// Reads the DB-IP "country lite" layout (`start_ip,end_ip,country`, also with a continent column),
/// IP2Location LITE DB1 (decimal numbers, quoted), and the MaxMind GeoLite2-Country pair
/// (blocks in CIDR + locations), told apart by content.
public struct GeoIPTable: Sendable {
    private var ranges = RangeTable<CountryCode>()

    public init() {}

    public var count: Int { ranges.count }

    /// Loads range files; GeoLite2 blocks files are joined with every GeoLite2 locations file given.
    public static func load(paths: [String]) -> (GeoIPTable, [Diagnostic]) {
        let loaded = loadDetailed(paths: paths)
        return (loaded.table, loaded.problems)
    }

    /// Loads range files for detection, validated whole: a file that cannot be read, a blocks file
    /// without its locations, or a file that yields no range (a locations file: no location) is a
    /// configuration error.
    /// - Throws: ``ConfigurationError`` with every problem when a file-level one is among them.
    public static func loadValidated(paths: [String]) throws(ConfigurationError) -> (GeoIPTable, [Diagnostic]) {
        var loaded = loadDetailed(paths: paths)
        var fatal = loaded.fatal
        for path in paths where !loaded.unreadable.contains(path) && !loaded.fileLevel.contains(path) {
            if loaded.usable[path, default: 0] == 0 {
                loaded.problems.append(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "geoip",
                        message:
                            "no usable range in the file; expected start_ip,end_ip,country rows (DB-IP, IP2Location) or the GeoLite2-Country blocks and locations pair"
                    ))
                fatal = true
            }
        }
        if fatal { throw ConfigurationError(diagnostics: loaded.problems) }
        return (loaded.table, loaded.problems)
    }

    struct Loaded {
        var table: GeoIPTable
        var problems: [Diagnostic]
        /// A file could not be read, or a blocks file came without its locations.
        var fatal: Bool
        var unreadable: Set<String>
        var fileLevel: Set<String>
        /// Usable rows per file (ranges; locations for a locations file).
        var usable: [String: Int]
    }

    static func loadDetailed(paths: [String]) -> Loaded {
        var problems: [Diagnostic] = []
        var texts: [(String, String)] = []
        var fatal = false
        var unreadable = Set<String>()
        var fileLevel = Set<String>()
        var usable: [String: Int] = [:]
        for path in paths {
            do {
                texts.append((path, try InputReader.readText(path: path, maxBytes: 2 << 30)))
            } catch {
                problems.append(ConfigurationError.unreadable(error, what: "GeoIP file"))
                unreadable.insert(path)
                fatal = true
            }
        }
        // GeoLite2 locations first: geoname_id → country.
        var locations: [String: CountryCode] = [:]
        var sawLocations = false
        for (path, text) in texts where Self.firstLine(text).contains("country_iso_code") {
            sawLocations = true
            let csv = NamedCSV(text: text)
            for row in csv.rows {
                if let code = CountryCode(csv.value(row, "country_iso_code")) {
                    locations[csv.value(row, "geoname_id")] = code
                    usable[path, default: 0] += 1
                }
            }
        }
        var ranges: [(UInt128, UInt128, CountryCode)] = []
        for (path, text) in texts {
            let first = Self.firstLine(text)
            if first.contains("country_iso_code") { continue }
            func problem(_ line: Int, _ message: String) {
                problems.append(
                    Diagnostic(path: path, position: .line(line), severity: .error, category: "geoip", message: message)
                )
            }
            if first.hasPrefix("network,") || first.contains(",geoname_id,") {
                if !sawLocations {
                    problem(
                        1,
                        "GeoLite2 blocks file needs its locations file; pass the Country-Locations CSV with another --geoip"
                    )
                    fatal = true
                    fileLevel.insert(path)
                    continue
                }
                let csv = NamedCSV(text: text)
                for row in csv.rows {
                    let network = csv.value(row, "network")
                    guard let (start, end) = Self.parseCIDR(network) else {
                        problem(row.line, "bad network '\(network)'; expected CIDR such as 192.0.2.0/24")
                        continue
                    }
                    let id = [
                        csv.value(row, "geoname_id"), csv.value(row, "registered_country_geoname_id"),
                        csv.value(row, "represented_country_geoname_id"),
                    ].first { !$0.isEmpty }
                    guard let id, let country = locations[id] else { continue }  // continent-only or unknown
                    ranges.append((start, end, country))
                    usable[path, default: 0] += 1
                }
                continue
            }
            let table = CSVTable(text: text, allowComments: true)
            for row in table.rows {
                guard row.fields.count >= 3 else {
                    problem(row.line, "expected start_ip,end_ip,country; found \(row.fields.count) field(s)")
                    continue
                }
                let a = row.fields[0].trimmingSpaces()
                let b = row.fields[1].trimmingSpaces()
                // IP2Location: decimal numbers, country code third; DB-IP: text addresses, country last.
                let countryText: String
                let start: UInt128
                let end: UInt128
                if let x = UInt128(a), let y = UInt128(b) {
                    start = x <= 0xFFFF_FFFF ? IPAddress(v4: UInt32(x)).value : x
                    end = y <= 0xFFFF_FFFF ? IPAddress(v4: UInt32(y)).value : y
                    countryText = row.fields[2].trimmingSpaces()
                } else if let x = IPAddress.parse(a), let y = IPAddress.parse(b) {
                    start = x.value
                    end = y.value
                    countryText = row.fields[row.fields.count - 1].trimmingSpaces()
                } else {
                    if row.line == 1 { continue }  // a header row
                    problem(row.line, "bad address range '\(a)' – '\(b)'; expected IPv4/IPv6 text or decimal numbers")
                    continue
                }
                guard start <= end else {
                    problem(row.line, "range start is after its end; row skipped")
                    continue
                }
                if countryText == "-" || countryText == "ZZ" || countryText.isEmpty {
                    usable[path, default: 0] += 1
                    continue
                }
                guard let country = CountryCode(countryText) else {
                    problem(row.line, "bad country '\(countryText)'; expected an ISO 3166-1 alpha-2 code")
                    continue
                }
                ranges.append((start, end, country))
                usable[path, default: 0] += 1
            }
        }
        ranges.sort { $0.0 < $1.0 }
        var table = GeoIPTable()
        for (start, end, country) in ranges { table.ranges.append(start, end, country) }
        return Loaded(
            table: table, problems: problems, fatal: fatal, unreadable: unreadable, fileLevel: fileLevel, usable: usable
        )
    }

    /// The country of `address`, or `.unknown`.
    /// - Complexity: O(log n).
    @inlinable
    public func country(of address: IPAddress) -> CountryCode { lookup(address.value) }

    @usableFromInline
    func lookup(_ value: UInt128) -> CountryCode { ranges.value(at: value) ?? .unknown }

    static func firstLine(_ text: String) -> String {
        var line = text.prefix { $0 != "\n" && $0 != "\r\n" }
        if line.first == "\u{FEFF}" { line = line.dropFirst() }
        return String(line).lowercased()
    }

    /// `192.0.2.0/24` or `2001:db8::/32` → inclusive range.
    static func parseCIDR(_ text: String) -> (UInt128, UInt128)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPAddress.parse(String(parts[0])), let bits = Int(parts[1]) else {
            return nil
        }
        let totalBits = address.isV4 ? 32 : 128
        guard bits >= 0 && bits <= totalBits else { return nil }
        let hostBits = totalBits - bits
        let mask: UInt128 = hostBits == 128 ? ~0 : (UInt128(1) << UInt128(hostBits)) - 1
        let start = address.value & ~mask
        return (start, start | mask)
    }
}
