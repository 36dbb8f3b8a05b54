import Foundation
import Testing
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// The one descriptor writer: a buffer larger than a pipe holds arrives whole (partial writes are
/// continued), and a write nobody can read is reported, not looped on.
@Suite struct FileDescriptorWriterTests {
    @Test(arguments: [0, 1, 65_536, 1_000_003])
    func aBufferArrivesWhole(size: Int) throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        /// What the other end read (only the reading thread touches it until `done`).
        final class Received: @unchecked Sendable { var bytes: [UInt8] = [] }
        let received = Received()
        let readEnd = fds[0]
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
                if n <= 0 { break }
                received.bytes += buffer[0..<n]
            }
            done.signal()
        }
        let ok = bytes.withUnsafeBytes { FileDescriptorWriter.writeAll(fds[1], $0) }
        close(fds[1])
        done.wait()
        close(fds[0])
        #expect(ok)
        #expect(received.bytes == bytes)
    }

    @Test func aWriteNobodyReadsIsReported() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        #expect(!FileDescriptorWriter.writeAll(fds[1], "an alert line\n"))
        #expect(errno == EPIPE)
        close(fds[1])
    }
}
