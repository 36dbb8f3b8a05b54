import Foundation
import TestSupport
import Testing

@testable import Ownership
import UsageModel

/// Issue 18: configuration that detection depends on is validated whole before use, and every file
/// problem is one named error with exit status 2 — never a run without the configuration.
@Suite(.serialized) struct ConfigurationValidationTests {
    static let header = "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
    static var input: String { Repository.fixtures(.endToEndTests) + "/ndjson-one-malformed-line.json" }

    enum BadFile: String, CaseIterable {
        case missingMappings, mappingsWithoutAccountColumn, mappingsWithNoValidRow, emptyMappings
        case missingResellers, resellersWithNoValidRow, missingGeoIP, geoipWithNoRange, missingConfig
    }

    @Test(arguments: BadFile.allCases)
    func aMissingOrUnusableConfigurationFileIsExitTwoNamingIt(kind: BadFile) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var arguments = ["ingest", "--no-store"]
        let expected: String
        switch kind {
        case .missingMappings:
            arguments += ["--mappings", dir.path + "/nope.csv"]
            expected = "nope.csv: error: [config] mapping file: cannot open"
        case .mappingsWithoutAccountColumn:
            let m = dir.write("m.csv", "provider,acount_id,reseller_id\naws,1,R\n")
            arguments += ["--mappings", m]
            expected = "m.csv:1: error: [mapping] header has no account_id column"
        case .mappingsWithNoValidRow:
            let m = dir.write("m.csv", Self.header + "aws,1,R,C,XX,2024-01-01T00:00:00Z,\n")
            arguments += ["--mappings", m]
            expected = "m.csv: error: [mapping] no usable mapping row in the file"
        case .emptyMappings:
            let m = dir.write("m.csv", "")
            arguments += ["--mappings", m]
            expected = "m.csv:1: error: [mapping] header has no account_id column"
        case .missingResellers:
            arguments += ["--resellers", dir.path + "/nope.csv"]
            expected = "nope.csv: error: [config] reseller file: cannot open"
        case .resellersWithNoValidRow:
            let r = dir.write("r.csv", "reseller_id,name,country,parent_id,serves_countries\n")
            arguments += ["--resellers", r]
            expected = "r.csv: error: [reseller] no usable reseller row in the file"
        case .missingGeoIP:
            arguments += ["--geoip", dir.path + "/nope.csv"]
            expected = "nope.csv: error: [config] GeoIP file: cannot open"
        case .geoipWithNoRange:
            let g = dir.write("g.csv", "# nothing here\n")
            arguments += ["--geoip", g]
            expected = "g.csv: error: [geoip] no usable range in the file"
        case .missingConfig:
            arguments += ["--config", dir.path + "/nope.conf"]
            expected = "nope.conf: error: [input] cannot open"
        }
        let result = try BuiltBinary.run(arguments + [Self.input])
        #expect(result.status == 2, "\(kind): \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(kind): \(result.stderr)")
        // One error, naming the file; nothing was read: no summary, no alert.
        // (A file with no usable row also has each bad row named, as any bad row is.)
        let errors = result.stderr.components(separatedBy: "error:").count - 1
        #expect(errors == (kind == .mappingsWithNoValidRow ? 2 : 1), "\(kind): \(result.stderr)")
        #expect(!result.stderr.contains("record(s)"), "\(kind): \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func tailRefusesAnUnusableConfigurationAtStart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        let result = try BuiltBinary.run(
            ["tail", "--store", dir.path + "/s.db", "--once", "--mappings", dir.path + "/nope.csv", dir.path + "/in"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("nope.csv: error: [config] mapping file: cannot open"))
    }

    @Test func aRowValidAtNoTimeIsAWarningNotARejection() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let m = dir.write(
            "m.csv",
            Self.header
                + "aws,123456789012,,C,CN,2025-01-01T00:00:00Z,\naws,2,,C,US,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z\n"
        )
        let check = try BuiltBinary.run(["mappings", "check", m])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stderr.contains("m.csv:3: warning: [mapping] valid_to equals valid_from"))
        let good = try BuiltBinary.run([
            "ingest", "--no-store", "--mappings", m, Repository.fixtures(.formatTests) + "/formats/events.ndjson",
        ])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stderr.contains("m.csv:3: warning:"))
    }

    @Test func mappingsCheckFlagsDuplicatesConflictsAndFieldCounts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let m = dir.write(
            "m.csv",
            Self.header
                + "aws,1,R1,C,CN,2025-01-01T00:00:00Z,\n"  // 2
                + "aws,1,R1,C,CN,2025-01-01T00:00:00Z,\n"  // 3: duplicate of 2
                + "aws,1,R2,C,CN,2025-01-01T00:00:00Z,\n"  // 4: another reseller from the same instant
                + "aws,2,,C,CN,2025-01-01T00:00:00Z,\n"  // 5
                + "aws,2,,C,US,2025-06-01T00:00:00Z,\n"  // 6: overlaps 5 with another country, later start
                + "aws,3,R1,C,CN,2025-01-01T00:00:00Z,,extra\n"  // 7: too many fields
                + "aws,4,R1,C,CN,2025-01-01T00:00:00Z\n"  // 8: too few
                + "aws,5,R1,C,CN,2025-01-01T00:00:00Z,2026-01-01T00:00:00Z\n"
                + "aws,5,R2,C,CN,2026-01-01T00:00:00Z,\n")  // 10: follows 9 without overlap: fine
        let result = try BuiltBinary.run(["mappings", "check", m])
        #expect(result.status == 1)
        let e = result.stderr
        #expect(e.contains("m.csv:3: warning: [mapping] duplicate of the row at \(m):2"), "\(e)")
        #expect(e.contains("m.csv:4: error: [mapping] account '1' is mapped twice from the same instant"), "\(e)")
        #expect(
            e.contains("m.csv:6: warning: [mapping] account '2' is mapped differently over an overlapping time"), "\(e)"
        )
        #expect(e.contains("m.csv:7: error: [mapping] row has 8 field(s), the header 7"), "\(e)")
        #expect(e.contains("m.csv:8: error: [mapping] row has 6 field(s), the header 7"), "\(e)")
        #expect(!e.contains("m.csv:10:"), "\(e)")
        #expect(!e.contains("m.csv:9:"), "\(e)")
    }

    @Test func aResellerWithOneBadServedCountryIsKept() {
        var graph = ResellerGraph()
        var problems: [Diagnostic] = []
        graph.add(
            text: """
                reseller_id,name,country,parent_id,serves_countries
                RS-1,One,HK,DIST-1,CN;XX;MO
                DIST-1,Dist,SG,,
                """, path: "r.csv", problems: &problems)
        problems += graph.validate()
        #expect(graph.resellers["RS-1"]?.servesCountries == [CountryCode("CN")!, CountryCode("MO")!])
        #expect(graph.chain(from: "RS-1").map(\.id) == ["RS-1", "DIST-1"])
        #expect(problems.count == 1)
        #expect(problems.first?.severity == .warning)
        #expect(problems.first?.position == .line(2))
        #expect(problems.first?.message.contains("'XX'") == true)
    }

    @Test func aChildOfARejectedResellerIsToldWhyItsParentIsMissing() {
        var graph = ResellerGraph()
        var problems: [Diagnostic] = []
        graph.add(
            text: """
                reseller_id,name,country,parent_id,serves_countries
                RS-1,One,HK,DIST-1,CN
                DIST-1,Dist,XX,,
                """, path: "r.csv", problems: &problems)
        problems += graph.validate()
        #expect(problems.contains { $0.position == .line(3) && $0.message.contains("unknown country 'XX'") })
        #expect(
            problems.contains {
                $0.position == .line(2) && $0.message.contains("'DIST-1' was left out for the error at r.csv:3")
            })
        #expect(!problems.contains { $0.message.contains("is not a known reseller") })
    }

    @Test func loadValidatedThrowsForAFileWithNoUsableRowButNotForABadRowBesideGoodOnes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bad = dir.write("bad.csv", Self.header + "aws,1,R,C,XX,,\n")
        let mixed = dir.write("mixed.csv", Self.header + "aws,1,R,C,XX,,\naws,2,R,C,CN,,\n")
        #expect(throws: ConfigurationError.self) { try MappingTable.loadValidated(paths: [bad]) }
        let (table, problems) = try MappingTable.loadValidated(paths: [mixed])
        #expect(table.count == 1)
        #expect(problems.count == 1)
    }
}
