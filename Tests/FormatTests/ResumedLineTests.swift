import Foundation
import TestSupport
import Testing

@testable import Inputs
@testable import LogFormats
@testable import Ownership
@testable import Pipeline
import UsageModel

/// A followed JSON-lines file read from an offset names its records by the file's own lines.
@Suite struct ResumedLineTests {
    @Test(arguments: [1, 7, 64, 4096])
    func aResumedDecoderNumbersRecordsFromTheLineItStartsAt(chunk: Int) {
        let text =
            ndjsonEventLine("1", "launch", "r-1", hour: 1) + "\n" + ndjsonEventLine("1", "terminate", "r-1", hour: 2)
        var ndjson = JSONLogDecoder.ndjson(path: "f.ndjson")
        ndjson.resume(afterLines: 4, offset: 900)
        let batch = decode(Array(text.utf8), with: ndjson, chunkSize: chunk)
        #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
        #expect(batch.events.map(\.origin.description) == ["f.ndjson:5", "f.ndjson:7"])

        // CloudTrail, one event per line.
        let trail =
            runInstancesRecord(ids: ["i-1"], account: "123456789012", time: "2026-03-01T02:00:00Z") + "\n"
            + lifecycleRecord("TerminateInstances", ids: ["i-1"], account: "123456789012", time: "2026-03-01T03:00:00Z")
            + "\n"
        var cloudTrail = CloudTrailDecoder(path: "t.json")
        cloudTrail.resume(afterLines: 9, offset: 5000)
        let events = decode(Array(trail.utf8), with: cloudTrail, chunkSize: chunk).events
        #expect(events.map(\.origin.description) == ["t.json:10", "t.json:11"])
    }

    @Test(arguments: [1, 7, 4096])
    func onTheFirstLineAResumedDecoderCountsColumnsFromTheFileStart(chunk: Int) {
        // Records side by side on line 1, the read resumed after 100 bytes of it.
        let first = ndjsonEventLine("1", "launch", "r-1", hour: 1).dropLast()
        let text = String(first) + " " + ndjsonEventLine("1", "terminate", "r-1", hour: 2)
        var decoder = JSONLogDecoder.ndjson(path: "f.ndjson")
        decoder.resume(afterLines: 0, offset: 100)
        let batch = decode(Array(text.utf8), with: decoder, chunkSize: chunk)
        #expect(
            batch.events.map(\.origin.description) == ["f.ndjson:1:101", "f.ndjson:1:\(101 + first.utf8.count + 1)"])
    }

    @Test func countsTheLineEndsBeforeAnOffsetThroughAFixedBuffer() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Lines of varied lengths across several 64 KiB buffers.
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var rng = SplitMix(seed: 18)
        while bytes.count < 300_000 {
            bytes += [UInt8](repeating: 0x61, count: Int(rng.next() % 3000))
            bytes.append(0x0A)
            ends.append(bytes.count)
        }
        let path = dir.write("lines.txt", bytes)
        let reader = try InputReader(path: path)
        for offset in [0, 1, ends[0] - 1, ends[0], 65_535, 65_536, 65_537, 200_001, bytes.count] {
            #expect(reader.newlines(before: Int64(offset)) == ends.filter { $0 <= offset }.count, "offset \(offset)")
        }
        #expect(reader.newlines(before: Int64(bytes.count + 1)) == nil)
        // The read position is where it was: the file is still read from its start.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { buffer.deallocate() }
        #expect(try reader.read(into: buffer) == 4)
        #expect(Array(buffer) == Array(bytes[0..<4]))
    }

    @Test(arguments: [nil, 3] as [Int?])
    func aFollowedReadFromAnOffsetNamesTheFilesLinesAndSaysWhereItStopped(lines: Int?) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let head = (1...3).map { ndjsonEventLine("1", "launch", "r-\($0)", hour: $0) }.joined()
        let text =
            head + ndjsonEventLine("1", "terminate", "r-1", hour: 4) + ndjsonEventLine("1", "terminate", "r-2", hour: 5)
            + String(ndjsonEventLine("1", "terminate", "r-3", hour: 6).prefix(30))  // still being written
        let path = dir.write("events.ndjson", text)
        let processor = FileProcessor(options: IngestOptions(jobs: 1), geo: GeoIPTable())
        let result = processor.process(path, from: Int64(head.utf8.count), lines: lines, follow: true)
        #expect(result.batch.diagnostics.isEmpty, "\(result.batch.diagnostics)")
        #expect(result.batch.events.map(\.origin.description) == [path + ":4", path + ":5"])
        #expect(result.followedTo == IngestPipeline.FollowedPosition(offset: Int64(text.utf8.count - 30), lines: 5))
    }

    @Test func onlyALineEndAppendedToAFollowedFileIsNothingToReadYet() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // The record was read before its line end was written; then the line end arrives.
        let record = ndjsonEventLine("1", "launch", "r-1", hour: 1).dropLast()
        let path = dir.write("events.ndjson", String(record) + "\n \n")
        let processor = FileProcessor(options: IngestOptions(jobs: 1), geo: GeoIPTable())
        let result = processor.process(path, from: Int64(record.utf8.count), lines: 0, follow: true)
        #expect(result.batch.diagnostics.isEmpty, "\(result.batch.diagnostics)")
        #expect(!result.failed)
        #expect(result.followedTo == IngestPipeline.FollowedPosition(offset: Int64(record.utf8.count + 3), lines: 2))
    }
}
