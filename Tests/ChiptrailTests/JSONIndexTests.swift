import Foundation
import LogFormats
import Testing
import UsageModel

/// The quote/bracket index must agree with a byte-by-byte reading wherever escapes fall relative to
/// its 64-byte blocks.
@Suite struct JSONIndexTests {
    @Test(arguments: Array(0..<140))
    func escapesAtEveryOffsetAcrossBlocks(padding: Int) {
        let agent = String(repeating: "x", count: padding) + "q\\\"{]\\\\\\\"}\\\\"
        let record = runInstancesRecord(ids: ["i-esc"]).replacingOccurrences(
            of: "\"userAgent\":\"aws-cli/2.15\"", with: "\"userAgent\":\"\(agent)\"")
        let text = "{\"Records\":[" + record + "," + record.replacingOccurrences(of: "i-esc", with: "i-esc2") + "]}"
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
        #expect(batch.events.map(\.resourceID) == ["i-esc", "i-esc2"])
        #expect(batch.events.first?.userAgent == String(repeating: "x", count: padding) + "q\"{]\\\"}\\")
    }

    @Test(arguments: [16, 4096])
    func aStrayQuoteCannotSwallowTheNextLine(chunkSize: Int) {
        let good = cloudTrailRecord(name: "DescribeInstances")
        let bad = "{\"eventName\":\"DescribeInstances, \"eventTime\":\"2026-03-01T00:00:00Z\"}"
        let launch = runInstancesRecord(ids: ["i-after"])
        let text = [good, bad, launch].joined(separator: "\n") + "\n"
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: chunkSize)
        #expect(batch.recordsRejected == 1)
        #expect(batch.diagnostics.first?.position == .line(2))
        #expect(batch.events.map(\.resourceID) == ["i-after"])
    }

    @Test func bracketsInsideStringsDoNotCount() {
        let record = cloudTrailRecord(
            name: "RunInstances", request: "{\"instanceType\":\"p5.48xlarge\",\"note\":\"}}]]{{[[\"}",
            response: "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-br\",\"tag\":\"]}\"}]}}")
        let batch = decodeCloudTrail(Array((record + "\n" + record.replacingOccurrences(of: "i-br", with: "i-br2")).utf8), chunkSize: 4096)
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.events.map(\.resourceID) == ["i-br", "i-br2"])
    }
}
