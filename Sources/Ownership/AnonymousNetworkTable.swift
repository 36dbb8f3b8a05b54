public import UsageModel
import Inputs

/// IP → anonymising network (VPN, hosting, proxy, Tor) from an IP-intelligence feed, by binary search
/// over sorted, disjoint inclusive ranges, IPv4 and IPv6 alike: the same kind of table as
/// ``GeoIPTable``, so a call's look-up costs what its country's does.
///
/// Reads MaxMind's GeoIP Anonymous IP CSV (`network,is_anonymous,is_anonymous_vpn,is_hosting_provider,
/// is_public_proxy,is_residential_proxy,is_tor_exit_node`, networks in CIDR), columns by header name
/// and in any order; a flag is `1`/`true` or `0`/`false`/empty.
public struct AnonymousNetworkTable: Sendable {
    private var ranges = RangeTable<AnonymousNetwork>()

    public init() {}

    /// How many networks the table lists.
    public var count: Int { ranges.count }

    public var isEmpty: Bool { ranges.count == 0 }

    /// The feed's flag columns and the bit each sets.
    static let columns: [(String, AnonymousNetwork)] = [
        ("is_anonymous", .anonymous), ("is_anonymous_vpn", .vpn), ("is_hosting_provider", .hosting),
        ("is_public_proxy", .publicProxy), ("is_residential_proxy", .residentialProxy),
        ("is_tor_exit_node", .torExit),
    ]

    static let expectedHeader =
        "network,is_anonymous,is_anonymous_vpn,is_hosting_provider,is_public_proxy,is_residential_proxy,is_tor_exit_node"

    /// Loads feed files for detection, validated whole: a file that cannot be read, whose header lacks
    /// `network` or every flag column, or that lists no usable network is a configuration error; a bad
    /// row (network, flag, a network overlapping one listed before) is named by file:line and left out.
    /// - Returns: the table and the problems of single rows.
    /// - Throws: ``ConfigurationError`` with every problem when a file-level one is among them.
    /// - Complexity: O(n log n) in the networks listed.
    public static func loadValidated(paths: [String]) throws(ConfigurationError) -> (
        AnonymousNetworkTable, [Diagnostic]
    ) {
        var ranges: [(start: UInt128, end: UInt128, network: AnonymousNetwork, path: String, line: Int, text: String)] =
            []
        let (problems, fatal) = ConfigurationError.loadEach(
            paths, what: "IP-intelligence file", category: "ipintel",
            noRows:
                "no usable network in the file; expected MaxMind GeoIP Anonymous IP rows such as '192.0.2.0/24,1,1,0,0,0,0'"
        ) { text, path, problems in
            func problem(_ line: Int, _ message: String) {
                problems.append(
                    Diagnostic(
                        path: path, position: .line(line), severity: .error, category: "ipintel", message: message))
            }
            let csv = NamedCSV(text: text)
            let flagColumns = Self.columns.filter { csv.has($0.0) }
            guard csv.has("network"), !flagColumns.isEmpty else {
                problem(
                    csv.headerLine,
                    "header '\(csv.header.joined(separator: ","))' is not an IP-intelligence feed's; expected MaxMind's GeoIP Anonymous IP CSV header \(Self.expectedHeader)"
                )
                return nil
            }
            var usable = 0
            rows: for row in csv.rows {
                let network = csv.value(row, "network")
                guard let (start, end) = GeoIPTable.parseCIDR(network) else {
                    problem(row.line, "bad network '\(network)'; expected CIDR such as 192.0.2.0/24 or 2001:db8::/32")
                    continue
                }
                var flags = AnonymousNetwork()
                for (column, bit) in flagColumns {
                    switch csv.value(row, column).lowercased() {
                    case "1", "true": flags.insert(bit)
                    case "0", "false", "": break
                    case let other:
                        problem(row.line, "bad value '\(other)' in column \(column); expected 1 or 0 (or empty)")
                        continue rows
                    }
                }
                usable += 1
                if flags.isListed { ranges.append((start, end, flags, path, row.line, network)) }
            }
            return usable
        }
        if fatal { throw ConfigurationError(diagnostics: problems) }
        var rowProblems = problems
        ranges.sort { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }
        var table = AnonymousNetworkTable()
        var lastKept: Int? = nil
        for i in ranges.indices {
            let r = ranges[i]
            if let k = lastKept, r.start <= ranges[k].end {
                let kept = ranges[k]
                rowProblems.append(
                    Diagnostic(
                        path: r.path, position: .line(r.line), severity: .error, category: "ipintel",
                        message:
                            "network '\(r.text)' overlaps '\(kept.text)' (\(kept.path):\(kept.line)); row skipped, list each address once"
                    ))
                continue
            }
            lastKept = i
            table.ranges.append(r.start, r.end, r.network)
        }
        return (table, rowProblems)
    }

    /// The anonymising network `address` belongs to; empty when the feed does not list it.
    /// - Complexity: O(log n).
    @inlinable
    public func network(of address: IPAddress) -> AnonymousNetwork { lookup(address.value) }

    @usableFromInline
    func lookup(_ value: UInt128) -> AnonymousNetwork { ranges.value(at: value) ?? [] }
}
