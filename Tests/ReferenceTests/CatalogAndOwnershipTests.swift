import Catalog
import Foundation
import Ownership
import TestSupport
import Testing
import UsageModel

@Suite struct CatalogTests {
    @Test(arguments: [
        ("p5.48xlarge", "NVIDIA H100 SXM5 80GB", 8.0, true),
        ("p4d.24xlarge", "NVIDIA A100 SXM4 40GB", 8.0, true),
        ("ml.p4d.24xlarge", "NVIDIA A100 SXM4 40GB", 8.0, true),
        ("a3-highgpu-8g", "NVIDIA H100 SXM5 80GB", 8.0, true),
        ("Standard_ND96isr_H100_v5", "NVIDIA H100 SXM5 80GB", 8.0, true),
        ("standard_nd96isr_h100_v5", "NVIDIA H100 SXM5 80GB", 8.0, true),
        ("BM.GPU.H100.8", "NVIDIA H100 SXM5 80GB", 8.0, true),
        ("g4dn.12xlarge", "NVIDIA T4", 4.0, false),
        ("g5.xlarge", "NVIDIA A10G", 1.0, false),
    ])
    func knowsInstanceTypesOfFourClouds(type: String, model: String, count: Double, restricted: Bool) throws {
        let spec = try #require(InstanceCatalog.builtIn.lookup(type))
        #expect(spec.accelerator.model == model)
        #expect(spec.acceleratorCount == count)
        #expect(spec.accelerator.control.isRestricted(at: Timestamp.parse("2026-03-01")!) == restricted)
        #expect(!spec.source.isEmpty)
    }

    @Test func familyRowsMatchByPrefixAndUnknownTypesAreNil() {
        #expect(InstanceCatalog.builtIn.lookup("ecs.gn7e-c16g1.4xlarge")?.accelerator.model == "NVIDIA A100 SXM4 80GB")
        #expect(InstanceCatalog.builtIn.lookup("m5.xlarge") == nil)
    }

    /// The look-up's byte paths (misses of lowercase ASCII types, family prefixes as bytes) give what
    /// the plain rule gives: the exact type, else its lowercased form, else the first family prefix.
    @Test func lookUpFollowsTheExactLowercaseThenFamilyRule() {
        let catalog = InstanceCatalog.builtIn
        let specs = catalog.allInstanceTypes
        var exact: [String: String] = [:]
        for spec in specs where !spec.instanceType.hasSuffix("*") {
            exact[spec.instanceType] = spec.instanceType
            exact[spec.instanceType.lowercased()] = spec.instanceType
        }
        let families = specs.filter { $0.instanceType.hasSuffix("*") }.map {
            (String($0.instanceType.dropLast()), $0.instanceType)
        }
        func reference(_ type: String) -> String? {
            if let hit = exact[type] ?? exact[type.lowercased()] { return hit }
            return families.first { type.hasPrefix($0.0) }?.1
        }
        var probes: [String] = [
            "", "m5.xlarge", "M5.XLARGE", "p5.48XLARGE", "P5.48xlarge", "é", "p5.48xlargé",
            "ecs.gn7e-", "ECS.GN7E-c16", "ecs.gn7e", "ecs.gn7e-\u{301}x", "ecs.gn7é-x", "t3.medium", "ml.p4d.24xlarge",
        ]
        for spec in specs {
            let type = spec.instanceType.hasSuffix("*") ? String(spec.instanceType.dropLast()) : spec.instanceType
            probes += [
                type, type.uppercased(), type + "x", type + ".metal", String(type.dropLast()), "x" + type, type + "é",
            ]
        }
        for probe in probes {
            #expect(catalog.lookup(probe).map { $0.instanceType } == reference(probe), "\(probe)")
        }
    }

    @Test func chipSpecificControlsStartOnTheirDate() throws {
        let h20 = try #require(InstanceCatalog.builtIn.accelerators["NVIDIA H20 96GB"])
        #expect(!h20.control.isRestricted(at: Timestamp.parse("2025-04-01")!))
        #expect(h20.control.isRestricted(at: Timestamp.parse("2025-05-01")!))
    }

    @Test func theEmbeddedCopyMatchesTheDataFiles() throws {
        let data = Repository.root + "/Sources/Catalog/Data/"
        let generated = try String(
            contentsOfFile: Repository.root + "/Sources/Catalog/CatalogData.swift", encoding: .utf8)
        for name in ["accelerators.csv", "instance-types.csv", "jurisdictions.csv", "holidays-cn.csv"] {
            let text = try String(contentsOfFile: data + name, encoding: .utf8)
            #expect(generated.contains(text), "\(name) changed: run Scripts/build-catalog")
        }
    }

    @Test func overridesAddTypes() throws {
        var catalog = InstanceCatalog.builtIn
        try catalog.override(instanceType: "x9.gpu", acceleratorModel: "NVIDIA H100 SXM5 80GB", count: 4)
        #expect(catalog.lookup("x9.gpu")?.acceleratorCount == 4)
        #expect(throws: CatalogError.self) {
            try catalog.override(instanceType: "y", acceleratorModel: "Imaginary GPU", count: 1)
        }
    }
}

@Suite struct JurisdictionTests {
    @Test(arguments: ["CN", "HK", "MO", "RU", "IR", "KP", "SY", "CU", "VE", "BY"])
    func restrictedByDefault(code: String) {
        #expect(RestrictedJurisdictions.builtIn.isRestricted(CountryCode(code)!, at: Timestamp.parse("2026-03-01")!))
    }

    @Test(arguments: ["US", "SG", "TW", "JP", "DE", "IL", "AE"])
    func notRestrictedByDefault(code: String) {
        #expect(!RestrictedJurisdictions.builtIn.isRestricted(CountryCode(code)!, at: Timestamp.parse("2026-03-01")!))
    }

    @Test func cambodiaLeftD5On20260203() {
        let kh = CountryCode("KH")!
        #expect(RestrictedJurisdictions.builtIn.isRestricted(kh, at: Timestamp.parse("2026-01-01")!))
        #expect(!RestrictedJurisdictions.builtIn.isRestricted(kh, at: Timestamp.parse("2026-03-01")!))
    }
}

@Suite struct OwnershipTests {
    @Test func mappingsJoinAsOfTheEventTime() {
        var table = MappingTable()
        var problems: [Diagnostic] = []
        table.add(
            text: """
                # a comment
                account_id,provider,reseller_id,end_customer_country,valid_from,valid_to,notes
                777,aws,RS-HK,,2024-01-01T00:00:00Z,2026-02-01T00:00:00Z,moved
                777,aws,RS-US,US,2026-02-01T00:00:00Z,,
                """, path: "m.csv", problems: &problems)
        #expect(problems.isEmpty)
        #expect(
            table.mapping(provider: "aws", account: "777", at: Timestamp.parse("2025-06-01")!)?.resellerID == "RS-HK")
        #expect(
            table.mapping(provider: "aws", account: "777", at: Timestamp.parse("2026-03-01")!)?.resellerID == "RS-US")
        #expect(table.mapping(provider: "aws", account: "777", at: Timestamp.parse("2023-01-01")!) == nil)
        #expect(table.mapping(provider: "gcp", account: "777", at: Timestamp.parse("2026-03-01")!) == nil)
        #expect(table.mapping(provider: "aws", account: "777", at: Timestamp.parse("2026-03-01")!)?.origin == "m.csv:4")
    }

    @Test(arguments: [
        ("aws,1,R,C,XX,2024-01-01T00:00:00Z,", "unknown country 'XX'"),
        ("aws,1,R,C,CN,yesterday,", "bad date 'yesterday'"),
        ("aws,1,R,C,CN,2024-01-01T00:00:00Z,2023-01-01T00:00:00Z", "valid_to is before valid_from"),
        ("aws,,R,C,CN,,", "empty account_id"),
    ])
    func badMappingRowsAreNamedByLine(row: String, message: String) {
        var table = MappingTable()
        var problems: [Diagnostic] = []
        table.add(
            text: "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n" + row
                + "\n",
            path: "m.csv", problems: &problems)
        #expect(table.count == 0)
        #expect(problems.count == 1)
        #expect(problems.first?.position == .line(2))
        #expect(problems.first?.message.contains(message) == true)
    }

    @Test func resellerChainsAreFollowedAndCyclesReported() {
        var graph = ResellerGraph()
        var problems: [Diagnostic] = []
        graph.add(
            text: """
                reseller_id,name,country,parent_id,serves_countries
                A,Alpha,SG,B,SG;MY
                B,Beta,HK,C,CN;HK
                C,Gamma,US,A,
                D,Delta,US,,US
                """, path: "r.csv", problems: &problems)
        problems += graph.validate()
        #expect(graph.chain(from: "A").map(\.id) == ["A", "B", "C"])
        #expect(graph.chain(from: "D").map(\.id) == ["D"])
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("cycle") == true)
        #expect(graph.resellers["B"]?.servesCountries == [CountryCode("CN")!, CountryCode("HK")!])
    }

    @Test func geoipRangesOfEveryLayout() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let dbip = dir.write(
            "dbip.csv",
            "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,HK\n")
        let ip2l = dir.write(
            "ip2l.csv",
            "\"16777216\",\"16777471\",\"AU\",\"Australia\"\n\"16777472\",\"16778239\",\"CN\",\"China\"\n\"0\",\"16777215\",\"-\",\"-\"\n"
        )
        let blocks = dir.write(
            "blocks.csv",
            "network,geoname_id,registered_country_geoname_id,represented_country_geoname_id,is_anonymous_proxy,is_satellite_provider\n192.0.2.0/25,1814991,1814991,,0,0\n192.0.2.128/26,,1819730,,0,0\n"
        )
        let locations = dir.write(
            "loc.csv",
            "geoname_id,locale_code,continent_code,continent_name,country_iso_code,country_name,is_in_european_union\n1814991,en,AS,Asia,CN,China,0\n1819730,en,AS,Asia,HK,\"Hong Kong\",0\n"
        )
        let (a, p1) = GeoIPTable.load(paths: [dbip])
        #expect(p1.isEmpty)
        #expect(a.country(of: IPAddress.parse("1.0.2.9")!).description == "CN")
        #expect(a.country(of: IPAddress.parse("1.0.0.1")!).description == "AU")
        #expect(a.country(of: IPAddress.parse("2001:db8::42")!).description == "HK")
        #expect(!a.country(of: IPAddress.parse("9.9.9.9")!).isKnown)
        let (b, p2) = GeoIPTable.load(paths: [ip2l])
        #expect(p2.isEmpty)
        #expect(b.country(of: IPAddress.parse("1.0.1.5")!).description == "CN")
        #expect(!b.country(of: IPAddress.parse("0.0.0.5")!).isKnown)
        let (c, p3) = GeoIPTable.load(paths: [blocks, locations])
        #expect(p3.isEmpty)
        #expect(c.country(of: IPAddress.parse("192.0.2.5")!).description == "CN")
        #expect(c.country(of: IPAddress.parse("192.0.2.130")!).description == "HK")
        let (_, p4) = GeoIPTable.load(paths: [blocks])
        #expect(p4.first?.message.contains("locations file") == true)
    }

    @Test(.enabled(if: Repository.sharedSamples != nil, "../shared/samples is not beside the repository"))
    func theSharedGeoIPSamplesLoad() throws {
        let samples = try #require(Repository.sharedSamples)
        let dir = samples + "/geoip/"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix("synthetic") }
        for file in files {
            let (table, problems) = GeoIPTable.load(paths: [dir + file])
            #expect(problems.isEmpty, "\(file): \(problems)")
            #expect(table.count > 0)
        }
        let (pair, problems) = GeoIPTable.load(paths: [
            dir + "synthetic_geolite2-layout_Country-Blocks-IPv4.csv",
            dir + "synthetic_geolite2-layout_Country-Locations-en.csv",
        ])
        #expect(problems.isEmpty)
        #expect(pair.count > 0)
    }
}
