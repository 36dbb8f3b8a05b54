import CJSONIndex
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

    /// The AVX2 index (where the processor has it) and the SSE2 one give the same bits and newline flag,
    /// on random bytes dense in quotes, backslashes, brackets and newlines, at every length near a block.
    @Test(arguments: [0, 1, 63, 64, 65, 127, 128, 129, 1000, 4099])
    func theWideAndBaselineIndexesAgree(length: Int) {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("\"\\{}[]\n ax:,".utf8)
        for _ in 0..<20 {
            let text = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let words = (length + 63) / 64 + 1
            var (q1, s1, n1) = ([UInt64](repeating: 0, count: words), [UInt64](repeating: 0, count: words), [UInt64](repeating: 0, count: words))
            var (q2, s2, n2) = (q1, s1, n1)
            let flags = text.withUnsafeBufferPointer { t in
                (cjson_index(t.baseAddress, length, &q1, &s1, &n1), cjson_index_baseline(t.baseAddress, length, &q2, &s2, &n2))
            }
            #expect(q1 == q2 && s1 == s2 && n1 == n2)
            #expect(flags.0 == flags.1)
            #expect((flags.0 != 0) == text.contains(0x0A))
        }
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
