import CJSONIndex
import Foundation
import LogFormats
import TestSupport
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

    /// A bare word that is not true, false, null or a number is damage: the record is rejected by its
    /// line, on both decoder paths, and the records around it are read.
    @Test(arguments: ["tru", "nul", "falsey", "truex", "-x1", "1a", "undefined", "NaN"])
    func aDamagedBareWordRejectsItsRecord(word: String) {
        let good = cloudTrailRecord(name: "DescribeInstances")
        let bad = good.replacingOccurrences(of: "\"eventName\":", with: "\"readOnly\":\(word),\"eventName\":")
        #expect(bad != good)
        let launch = runInstancesRecord(ids: ["i-after"])
        for text in [
            [good, bad, launch].joined(separator: "\n") + "\n",
            "{\"Records\":[" + [good, bad, launch].joined(separator: ",") + "]}",
        ] {
            let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
            #expect(batch.recordsRejected == 1, "\(word): \(batch.diagnostics)")
            #expect(batch.diagnostics.first?.description.contains("expected a value") == true, "\(batch.diagnostics)")
            #expect(batch.events.map(\.resourceID) == ["i-after"])
        }
        let valid = good.replacingOccurrences(
            of: "\"eventName\":", with: "\"readOnly\":-1.5e+3,\"flag\":false,\"none\":null,\"eventName\":")
        #expect(decodeCloudTrail(Array((valid + "\n").utf8), chunkSize: 4096).recordsRejected == 0)
    }

    /// The AVX2 index (where the processor has it) and the SSE2 one give the bits of a byte-by-byte
    /// reader and the same newline flag, on seeded random bytes dense in quotes, backslashes, brackets
    /// and newlines, and on bytes where they are sparse (blocks without a backslash, after one that ended
    /// in one or not: the wide index's shortcut), at every length near a block.
    @Test(arguments: [0, 1, 63, 64, 65, 127, 128, 129, 1000, 4099])
    func theWideAndBaselineIndexesMatchAByteByByteReader(length: Int) {
        var rng = SplitMix(seed: UInt64(length) &* 7919 &+ 2026)
        let dense = Array("\"\\{}[]\n ax:,".utf8)
        let sparse = Array((String(repeating: "a", count: 60) + "\"\\{}\n").utf8)
        for round in 0..<40 {
            let alphabet = round % 2 == 0 ? dense : sparse
            let text = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let words = (length + 63) / 64 + 1
            var (q1, s1, n1) = (
                [UInt64](repeating: 0, count: words), [UInt64](repeating: 0, count: words),
                [UInt64](repeating: 0, count: words)
            )
            var (q2, s2, n2) = (q1, s1, n1)
            let flags = text.withUnsafeBufferPointer { t in
                (
                    cjson_index(t.baseAddress, length, &q1, &s1, &n1),
                    cjson_index_baseline(t.baseAddress, length, &q2, &s2, &n2)
                )
            }
            let want = referenceIndex(text, words: words)
            #expect(
                q1 == want.quotes && s1 == want.structure && n1 == want.newlines, "length \(length), round \(round)")
            #expect(
                q2 == want.quotes && s2 == want.structure && n2 == want.newlines, "length \(length), round \(round)")
            #expect(flags.0 == flags.1)
            #expect((flags.0 != 0) == text.contains(0x0A))
        }
    }

    /// The index's bits, one byte at a time: a quote not escaped by an odd run of backslashes toggles
    /// "in a string"; brackets count outside strings only (escapes matter to quotes alone: outside a
    /// string a backslash is damage, and the bracket after it still counts).
    private func referenceIndex(_ text: [UInt8], words: Int) -> (
        quotes: [UInt64], structure: [UInt64], newlines: [UInt64]
    ) {
        var quotes = [UInt64](repeating: 0, count: words)
        var structure = quotes, newlines = quotes
        var inString = false, escaped = false
        for (i, byte) in text.enumerated() {
            let bit = UInt64(1) << UInt64(i % 64)
            switch byte {
            case 0x0A: newlines[i / 64] |= bit
            case UInt8(ascii: "\"") where !escaped:
                quotes[i / 64] |= bit
                inString.toggle()
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"):
                if !inString { structure[i / 64] |= bit }
            default: break
            }
            escaped = byte == UInt8(ascii: "\\") && !escaped
        }
        return (quotes, structure, newlines)
    }

    @Test func bracketsInsideStringsDoNotCount() {
        let record = cloudTrailRecord(
            name: "RunInstances", request: "{\"instanceType\":\"p5.48xlarge\",\"note\":\"}}]]{{[[\"}",
            response: "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-br\",\"tag\":\"]}\"}]}}")
        let batch = decodeCloudTrail(
            Array((record + "\n" + record.replacingOccurrences(of: "i-br", with: "i-br2")).utf8), chunkSize: 4096)
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.events.map(\.resourceID) == ["i-br", "i-br2"])
    }
}
