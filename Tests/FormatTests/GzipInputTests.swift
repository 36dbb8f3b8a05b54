import Foundation
import Inputs
import TestSupport
import Testing

@Suite struct GzipInputTests {
    func readAll(_ path: String, limits: InputLimits = InputLimits(), chunk: Int = 65_536) throws(InputError) -> [UInt8]
    {
        try GzipInputTests.read(path, limits: limits, chunk: chunk)
    }

    static func read(_ path: String, limits: InputLimits, chunk: Int = 65_536) throws(InputError) -> [UInt8] {
        let reader = try InputReader(path: path, limits: limits, bufferSize: 4096)
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    let text = String(repeating: "{\"eventName\":\"DescribeInstances\"}\n", count: 5000)

    @Test(arguments: [1, 7, 4096, 65_536], Inflater.allCases)
    func inflatesTheSameForAnyReadSize(chunk: Int, inflater: Inflater) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("a.json.gz", TestGzip.compress(text))
        #expect(try readAll(path, limits: InputLimits(inflater: inflater), chunk: chunk) == Array(text.utf8))
    }

    @Test(arguments: Inflater.allCases)
    func readsEveryMemberOfAMultiMemberFile(inflater: Inflater) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write(
            "multi.gz", TestGzip.compress("first\n") + TestGzip.compress("second\n") + TestGzip.compress(""))
        #expect(try readAll(path, limits: InputLimits(inflater: inflater)) == Array("first\nsecond\n".utf8))
    }

    @Test func plainFilesPassThroughWhateverTheirName() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("not-really.json.gz", text)
        #expect(try readAll(path) == Array(text.utf8))
    }

    enum Fault: String, CaseIterable {
        case badHeader, truncated, crcMismatch, lengthMismatch, corruptDeflate, trailingGarbage
    }

    @Test(arguments: Fault.allCases, Inflater.allCases)
    func eachGzipFaultIsItsOwnDiagnosticWithAnOffset(fault: Fault, inflater: Inflater) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var bytes = TestGzip.compress(text)
        let expected: InputError.Code
        switch fault {
        case .badHeader:
            bytes[2] = 7  // compression method other than deflate
            expected = .notGzip
        case .truncated:
            bytes.removeLast(bytes.count / 2)
            expected = .truncated
        case .crcMismatch:
            bytes[bytes.count - 8] ^= 0xFF
            expected = .checksumMismatch
        case .lengthMismatch:
            bytes[bytes.count - 4] ^= 0x01
            expected = .checksumMismatch
        case .corruptDeflate:
            for i in 20..<40 { bytes[i] = 0xFF }
            expected = .corruptDeflate
        case .trailingGarbage:
            bytes += Array("garbage".utf8)
            expected = .notGzip
        }
        let path = dir.write("bad.gz", bytes)
        do {
            _ = try readAll(path, limits: InputLimits(inflater: inflater))
            Issue.record("no error for \(fault)")
        } catch {
            #expect(error.code == expected)
            #expect(error.offset != nil)
            #expect(error.description.hasPrefix(path + ":offset "))
            #expect(error.description.contains(": error: [gzip] "))
        }
    }

    @Test(arguments: Inflater.allCases)
    func aDecompressionBombIsStoppedByTheRatioCap(inflater: Inflater) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let zeros = [UInt8](repeating: 0x20, count: 64 << 20)
        let path = dir.write("bomb.gz", TestGzip.compress(zeros, level: 9))
        let limits = InputLimits(
            maxDecompressedBytes: 1 << 40, maxRatio: 200, ratioCheckAfter: 8 << 20, inflater: inflater)
        #expect(throws: InputError.self) { try readAll(path, limits: limits) }
        do {
            _ = try readAll(path, limits: limits)
        } catch {
            #expect(error.code == .tooLarge)
            #expect(error.message.contains("decompression bomb"))
        }
    }

    @Test(arguments: Inflater.allCases)
    func theSizeCapStopsALargeFile(inflater: Inflater) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("big.gz", TestGzip.compress(text))
        #expect(throws: InputError.self) {
            try readAll(
                path,
                limits: InputLimits(
                    maxDecompressedBytes: 1000, maxRatio: 1000, ratioCheckAfter: 1 << 40, inflater: inflater))
        }
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: InputError.self) { try InputReader(path: "/nonexistent/file.json.gz") }
    }
}
