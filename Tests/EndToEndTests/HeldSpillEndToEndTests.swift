import Foundation
import TestSupport
import Testing

/// The held-record budget through the binary (HeldSpillTests has the order itself, in process).
@Suite struct HeldSpillEndToEndTests {
    /// The whole binary: the same stdout with every held record and name spilled at each input, with the
    /// default budget, and with everything in memory (SampleLogs, and the fixture whose alert names the
    /// file where shared values were seen).
    @Test func ingestPrintsTheSameAlertsWhateverTheBudget() throws {
        let shared = Repository.fixtures(.endToEndTests) + "/shared-in"
        let runs: [[String]] = [
            EndToEndTests.sampleArguments(),
            [
                "ingest", "--no-store", "--mappings", shared + "/m.csv", shared + "/AWSLogs_a_20260301T0100Z.json",
                shared + "/AWSLogs_z_20260301T0105Z.json",
            ],
        ]
        for arguments in runs {
            var outputs: [String] = []
            for budget in ["all", "0", "1KiB", "32MiB"] {
                for jobs in ["1", "2"] {
                    let result = try BuiltBinary.run(
                        Array(arguments.prefix(2)) + ["--jobs", jobs, "--held-memory", budget] + arguments.dropFirst(2))
                    #expect(result.status == 0, "\(result.stderr)")
                    outputs.append(result.stdout)
                }
            }
            #expect(!outputs[0].isEmpty)
            #expect(Set(outputs).count == 1)
        }
    }
}
