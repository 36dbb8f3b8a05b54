import Foundation
import TestSupport
import Testing

@testable import LogFormats
import UsageModel

/// Billing lines travel packed from the decoder to the sessionizer (issue 17: a payer's monthly export
/// is one input of hundreds of thousands of GPU lines); each is made whole as the event the decoder
/// once made of it.
@Suite struct UsageLinesTests {
    /// The batch of `bytes` decoded whole by a billing decoder, its lines left packed.
    static func packed(_ bytes: [UInt8], path: String) -> DecodedBatch {
        var decoder = BillingDecoder(path: path)
        var batch = DecodedBatch()
        _ = bytes.withUnsafeBytes { decoder.decode($0, isFinal: true, into: &batch) }
        return batch
    }

    @Test func billingLinesArePackedAndMadeWholeAsTheDecoderMadeThem() throws {
        let batch = Self.packed(fixture("formats/cur-legacy-hourly.csv"), path: "cur.csv")
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.events.isEmpty)
        #expect(batch.usageLines.count == 6)
        let first = batch.usageLines.event(at: 0)
        let want = UsageEvent(
            provider: .aws, action: .usage, time: 1_772_323_200, accountID: "111122223333",
            resourceID: "i-0aaa1111bbbb2222c", instanceType: "p5.48xlarge", instanceCount: 1, region: "us-east-1",
            eventID: first.eventID, eventName: "BoxUsage:p5.48xlarge", usageSeconds: 3600, usageHours: 1,
            origin: EventOrigin(path: "cur.csv", position: .line(2)))
        #expect(first == want)
        #expect(first.eventID.hasPrefix("bill-") && first.eventID.utf8.count == 21)
        let hexDigits = first.eventID.dropFirst(5).filter { $0.isHexDigit }
        #expect(hexDigits.count == 16)
        // Every line its own id, and the merge's key of it the hash of that id.
        let ids = batch.usageLines.indices.map { batch.usageLines.event(at: $0).eventID }
        #expect(Set(ids).count == 6)
        for i in batch.usageLines.indices {
            #expect(
                batch.usageLines.eventIDHash(at: i, seed: 0x1234)
                    == StableHash.hash(batch.usageLines.event(at: i).eventID, seed: 0x1234))
            #expect(batch.usageLines.time(at: i) == batch.usageLines.event(at: i).time)
        }
        #expect(batch.allEvents.map(\.usageHours) == [1, 1, 1, 1, 1, 0.75])
    }

    @Test(arguments: [1, 4095, 4096, 4097, 10_000])
    func keepingLinesKeepsTheRestInOrderAcrossBlocks(count: Int) {
        var lines = UsageLines()
        for i in 0..<count {
            lines.append(
                provider: i % 2 == 0 ? .aws : .azure, time: Int64(i) * 3600, accountID: "acct-\(i % 7)",
                resourceID: "resource-number-\(i % 1000)", instanceType: i % 5 == 0 ? nil : "p5.48xlarge",
                region: i % 3 == 0 ? "us-east-1" : "", key: UInt64(i), eventName: "usage type \(i % 4)",
                usageSeconds: 3600, usageHours: Double(i) / 4, path: "export-\(i / 5000).csv", line: i + 2)
        }
        let whole = lines.indices.map { lines.event(at: $0) }
        lines.keep { $0 % 3 != 1 }
        let want = whole.indices.filter { $0 % 3 != 1 }.map { whole[$0] }
        #expect(lines.count == want.count)
        #expect(lines.indices.map { lines.event(at: $0) } == want)
        #expect(whole.last?.origin.description == "export-\((count - 1) / 5000).csv:\(count + 1)")
        #expect(whole.first?.instanceType == nil && whole.first?.eventID == "bill-0000000000000000")
        lines.keep { _ in false }
        #expect(lines.isEmpty)
    }

    /// Texts come back byte for byte: two spellings of one text (`é` composed, and `e` with a combining
    /// accent), which `String` takes as equal, stay two.
    @Test func canonicallyEquivalentTextsStayAsSpelled() {
        var lines = UsageLines()
        let spellings = ["caf\u{E9}-1", "cafe\u{301}-1", "caf\u{E9}-1", "cafe\u{301}-1"]
        for (i, resource) in spellings.enumerated() {
            lines.append(
                provider: .azure, time: Int64(i), accountID: "sub", resourceID: resource, instanceType: nil,
                region: resource, key: 1, eventName: "Azure VM usage", usageSeconds: 3600, usageHours: 1,
                path: "cost.csv", line: i + 2)
        }
        for i in lines.indices {
            #expect(Array(lines.event(at: i).resourceID.utf8) == Array(spellings[i].utf8))
            #expect(Array(lines.event(at: i).region.utf8) == Array(spellings[i].utf8))
        }
    }
}
