import Catalog
import Detection
import Foundation
import Ownership
@testable import Pipeline
import TestSupport
import Testing
import UsageModel

/// The running-session check's work per input follows the accounts the input touches, not their live
/// sessions: an account's identity partners are searched once per input, however many sessions it runs.
/// (With billing exports read first every resource keeps its period's sessions live, and the search ran
/// twice per session at every input: 96 s instead of 3 s for a 200-account world.)
@Suite struct RunningCheckWorkTests {
    @Test func identityPartnersAreSearchedOncePerAccountAndInputNotPerSession() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let busy = "333300003333"  // unmapped: only a partner could link it, so every session asks for them
        let other = "444400004444"  // shares the address, user agent, key and principal of `busy`
        func time(_ hour: Int) -> String { String(format: "2026-03-01T%02d:00:00Z", hour) }
        func calls(_ hour: Int) -> [String] {
            (0..<5).flatMap { _ in
                [
                    cloudTrailRecord(account: busy, time: time(hour), ip: "198.51.100.9"),
                    cloudTrailRecord(account: other, time: time(hour), ip: "198.51.100.9"),
                ]
            }
        }
        let launched = 30
        let later = 10
        var files: [[String]] = [
            [runInstancesRecord(ids: (0..<launched).map { "i-0many\($0)" }, account: busy, time: time(0))] + calls(0)
        ]
        for k in 1...later {
            files.append([runInstancesRecord(ids: ["i-0late\(k)"], account: busy, time: time(k))] + calls(k))
        }
        var inputs: [String] = []
        for (i, records) in files.enumerated() {
            inputs.append(
                dir.write(String(format: "in/%02d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}"))
        }
        var problems: [Diagnostic] = []
        var mappings = MappingTable()
        mappings.add(
            text: "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n",
            path: "m.csv", problems: &problems)
        let detector = Detector(
            catalog: .builtIn, jurisdictions: .builtIn, mappings: mappings, resellers: ResellerGraph(),
            config: .unfitted)
        let (geo, _) = GeoIPTable.load(paths: [dir.write("g.csv", "198.51.100.0,198.51.100.255,US\n")])
        let pipeline = IngestPipeline(
            options: IngestOptions(jobs: 1), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { _ in })
        let summary = pipeline.run(inputs: inputs)
        #expect(summary.sessions == launched + later)
        #expect(summary.alerts == 0)
        // The search ran (the accounts are partners), at most once per input for each of the two accounts;
        // per session it would be about 30 + 31 + … + 40 = 385.
        #expect(pipeline.partnerSearches > 0)
        #expect(pipeline.partnerSearches <= 2 * files.count, "\(pipeline.partnerSearches) partner searches")
    }
}
