import Foundation
import LogFormats
import TestSupport
import UsageModel

/// Decodes `bytes` as CloudTrail, fed in chunks of `chunkSize`, the way the pipeline does.
func decodeCloudTrail(_ bytes: [UInt8], chunkSize: Int, path: String = "test.json", maxRecordBytes: Int = 16 << 20)
    -> DecodedBatch
{
    decode(
        bytes, with: CloudTrailDecoder(path: path, maxRecordBytes: maxRecordBytes), chunkSize: chunkSize,
        maxRecordBytes: maxRecordBytes)
}

/// Decodes `bytes` with `decoder`, fed in chunks of `chunkSize`, the way the pipeline does (a record
/// still incomplete past `maxRecordBytes` is skipped).
func decode(_ bytes: [UInt8], with decoder: some LogDecoder, chunkSize: Int, maxRecordBytes: Int = 16 << 20)
    -> DecodedBatch
{
    var decoder = decoder
    var batch = DecodedBatch()
    var pending: [UInt8] = []
    var offset = 0
    while true {
        let end = min(bytes.count, offset + chunkSize)
        pending += bytes[offset..<end]
        offset = end
        let isFinal = offset == bytes.count
        let consumed = pending.withUnsafeBytes { decoder.decode($0, isFinal: isFinal, into: &batch) }
        pending.removeFirst(consumed)
        if pending.count > maxRecordBytes + chunkSize {
            decoder.skipOversizedRecord()
        }
        if isFinal || decoder.refused { break }
    }
    // Billing lines, packed by their decoder, as the events they stand for (the tests look at events).
    batch.events = batch.allEvents
    batch.usageLines = UsageLines()
    return batch
}

/// A fixture's bytes.
func fixture(_ name: String) -> [UInt8] {
    Array(FileManager.default.contents(atPath: Repository.fixtures(.formatTests) + "/" + name) ?? Data())
}
