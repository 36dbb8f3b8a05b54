import Ownership
import TestSupport
import Testing
import UsageModel

@Suite struct AnonymousNetworkTableTests {
    static let header =
        "network,is_anonymous,is_anonymous_vpn,is_hosting_provider,is_public_proxy,is_residential_proxy,is_tor_exit_node\n"

    @Test func readsMaxMindAnonymousIPRowsOfBothFamilies() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write(
            "anonymous.csv",
            Self.header
                + "192.0.2.0/25,1,1,0,0,0,0\n198.51.100.16/28,1,0,1,0,0,0\n203.0.113.7/32,1,0,0,0,0,1\n"
                + "2001:db8:100::/40,1,0,0,1,0,0\n")
        let (table, problems) = try AnonymousNetworkTable.loadValidated(paths: [feed])
        #expect(problems.isEmpty)
        #expect(table.count == 4)
        #expect(table.network(of: IPAddress.parse("192.0.2.0")!) == [.anonymous, .vpn])
        #expect(table.network(of: IPAddress.parse("192.0.2.127")!).kind == .vpn)
        #expect(!table.network(of: IPAddress.parse("192.0.2.128")!).isListed)
        #expect(table.network(of: IPAddress.parse("198.51.100.31")!).kind == .hosting)
        #expect(!table.network(of: IPAddress.parse("198.51.100.32")!).isListed)
        #expect(table.network(of: IPAddress.parse("203.0.113.7")!).kind == .tor)
        #expect(!table.network(of: IPAddress.parse("203.0.113.8")!).isListed)
        #expect(table.network(of: IPAddress.parse("2001:db8:1ff:ffff::1")!).kind == .proxy)
        #expect(!table.network(of: IPAddress.parse("2001:db8:200::1")!).isListed)
        #expect(!table.network(of: IPAddress.parse("9.9.9.9")!).isListed)
    }

    @Test func readsColumnsByNameInAnyOrderWithTrueAndEmptyFlags() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write(
            "reordered.csv",
            "is_hosting_provider,network,is_anonymous_vpn\r\ntrue,10.0.0.0/8,\r\n,172.16.0.0/12,1\r\n,192.168.0.0/16,0\r\n"
        )
        let (table, problems) = try AnonymousNetworkTable.loadValidated(paths: [feed])
        #expect(problems.isEmpty)
        #expect(table.network(of: IPAddress.parse("10.1.2.3")!) == .hosting)
        #expect(table.network(of: IPAddress.parse("172.20.0.1")!) == .vpn)
        #expect(!table.network(of: IPAddress.parse("192.168.1.1")!).isListed)  // listed with no flag: nothing
    }

    @Test func aBadNetworkOrFlagIsNamedByLineAndLeftOut() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write(
            "bad-rows.csv",
            Self.header + "192.0.2.0/25,1,1,0,0,0,0\n192.0.2.300/32,1,1,0,0,0,0\n198.51.100.0/33,1,0,1,0,0,0\n"
                + "203.0.113.0/24,1,yes,0,0,0,0\n192.0.2.64/26,1,0,1,0,0,0\n")
        let (table, problems) = try AnonymousNetworkTable.loadValidated(paths: [feed])
        #expect(table.count == 1)
        let lines = problems.map(\.description)
        try #require(problems.count == 4, "\(lines)")
        #expect(lines[0].hasPrefix("\(feed):3: error: [ipintel] bad network '192.0.2.300/32'"))
        #expect(lines[1].hasPrefix("\(feed):4: error: [ipintel] bad network '198.51.100.0/33'"))
        #expect(lines[2].hasPrefix("\(feed):5: error: [ipintel] bad value 'yes' in column is_anonymous_vpn"))
        #expect(lines[3].hasPrefix("\(feed):6: error: [ipintel] network '192.0.2.64/26' overlaps '192.0.2.0/25'"))
        #expect(table.network(of: IPAddress.parse("192.0.2.70")!) == [.anonymous, .vpn])
    }

    @Test(arguments: [
        ("geoip-layout.csv", "1.0.0.0,1.0.0.255,AU\n", "is not an IP-intelligence feed's"),
        ("no-flags.csv", "network,geoname_id\n192.0.2.0/24,1814991\n", "is not an IP-intelligence feed's"),
        ("header-only.csv", header, "no usable network"),
        ("no-good-row.csv", header + "not-a-network,1,1,0,0,0,0\n", "no usable network"),
    ])
    func aFileThatIsNoFeedIsAConfigurationError(name: String, text: String, message: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write(name, text)
        let error = try #require(throws: ConfigurationError.self) {
            try AnonymousNetworkTable.loadValidated(paths: [path])
        }
        #expect(error.diagnostics.contains { $0.path == path && $0.message.contains(message) })
        #expect(error.diagnostics.allSatisfy { $0.category == "ipintel" })
    }

    @Test func aMissingFileIsAConfigurationErrorNamingIt() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try AnonymousNetworkTable.loadValidated(paths: ["/nonexistent/anonymous.csv"])
        }
        #expect(error.diagnostics.first?.message.contains("IP-intelligence file") == true)
        #expect(error.diagnostics.first?.path == "/nonexistent/anonymous.csv")
    }
}
