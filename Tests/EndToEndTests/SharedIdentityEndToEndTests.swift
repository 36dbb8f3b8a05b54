import Foundation
import TestSupport
import Testing

/// Shared-identity evidence through the binary (EventTimeDeterminismTests has the identity graph, in process).
@Suite struct SharedIdentityEndToEndTests {
    /// Accounts 1111… and 2222… share a launcher, an access key and a jump host in one file; a third
    /// account's only call in the same five minutes is in another file. The shared-identity evidence
    /// names the file where the shared values were seen, not the last file read before the tick
    /// (Fixtures/shared-in, made by its generate.py).
    @Test func sharedIdentityEvidenceNamesTheFileWhereTheValuesWereSeen() throws {
        let dir = Repository.fixtures(.endToEndTests) + "/shared-in"
        let result = try BuiltBinary.run([
            "ingest", "--no-store", "--jobs", "1", "--mappings", dir + "/m.csv", dir + "/AWSLogs_a_20260301T0100Z.json",
            dir + "/AWSLogs_z_20260301T0105Z.json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        let evidence = try #require(
            alerts.first { $0["account_id"] as? String == "111111111111" }?["evidence"] as? [[String: Any]])
        let shared = try #require(evidence.first { $0["kind"] as? String == "shared-identity" })
        let sources = shared["sources"] as? [String] ?? []
        #expect(sources.contains { $0.hasSuffix("AWSLogs_a_20260301T0100Z.json") }, "\(sources)")
        #expect(!sources.contains { $0.hasSuffix("AWSLogs_z_20260301T0105Z.json") }, "\(sources)")
    }
}
