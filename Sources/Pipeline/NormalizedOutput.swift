import Foundation
import LogFormats
public import NormalizedRecords
import UsageModel

/// Where `chiptrail normalize` puts each input's records (``NormalizedRecordWriter``): a directory of
/// one file per input, numbered in input order so that `ingest --normalized DIR` lists them in that order,
/// or a stream (an executor's stdout) of length-prefixed files, in the same order.
public struct NormalizedOutput {
    /// Something that could not be written; `message` names the path and what to do.
    public struct Failure: Error {
        public var message: String
    }

    public enum Destination {
        /// Each input as `u64 little-endian length, then the file`, on the descriptor.
        case stream(Int32)
        /// Each input a file `NNNNNNNNN.normalized` of an empty or new directory.
        case directory(String)
    }

    public let destination: Destination
    public private(set) var inputs = 0
    public private(set) var decodedBytes: Int64 = 0
    public private(set) var writtenBytes: Int64 = 0
    public private(set) var records = 0

    /// Creates the directory if needed; refuses one that holds an earlier run's files (they would be
    /// merged with these).
    /// - Throws: ``Failure`` naming the directory.
    public init(_ destination: Destination) throws(Failure) {
        self.destination = destination
        guard case .directory(let output) = destination else { return }
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw Failure(
                message:
                    "\(output): error: [output] cannot create the output directory; check the path and its permissions")
        }
        let earlier = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).filter {
            $0.hasSuffix(".normalized")
        }
        if !earlier.isEmpty {
            throw Failure(
                message:
                    "\(output): error: [output] already holds \(earlier.count) normalised file(s) of an earlier run; give an empty or new directory"
            )
        }
    }

    /// The output file of the `index`th input: names sort in input order and carry no delivery time.
    public static func fileName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 9 - digits.count)) + digits + ".normalized"
    }

    /// Writes the next input's records.
    /// - Throws: ``Failure`` naming the file or stream that could not be written.
    public mutating func write(_ normalized: NormalizedInput) throws(Failure) {
        decodedBytes += normalized.decodedBytes
        records += normalized.batch.events.count + normalized.batch.usageLines.count + normalized.batch.calls.count
        let bytes = NormalizedRecordWriter.encode(normalized)
        writtenBytes += Int64(bytes.count)
        defer { inputs += 1 }
        switch destination {
        case .stream(let fd):
            var length = UInt64(bytes.count).littleEndian
            let header = withUnsafeBytes(of: &length) { Array($0) }
            try Self.write(header + bytes, to: fd, naming: "stdout")
        case .directory(let output):
            let path = (output as NSString).appendingPathComponent(Self.fileName(inputs))
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw Failure(
                    message:
                        "\(path): error: [output] cannot create: \(String(cString: strerror(errno)).lowercased()); check the directory and its permissions"
                )
            }
            defer { close(fd) }
            try Self.write(bytes, to: fd, naming: path)
        }
    }

    /// Writes `bytes` whole to `fd`.
    /// - Throws: ``Failure`` naming `name` when the write fails (a full disk, a closed pipe).
    public static func write(_ bytes: [UInt8], to fd: Int32, naming name: String) throws(Failure) {
        guard bytes.withUnsafeBytes({ FileDescriptorWriter.writeAll(fd, $0) }) else {
            throw Failure(
                message:
                    "\(name): error: [output] write failed: \(String(cString: strerror(errno)).lowercased()); check free space"
            )
        }
    }
}
