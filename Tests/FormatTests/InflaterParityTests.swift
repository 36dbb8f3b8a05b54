import CZlib
import Foundation
import Inputs
import TestSupport
import Testing

/// ISA-L and zlib read the same gzip the same way: the same bytes out, and the same fault (kind, offset,
/// message) on damaged input, for any size of the reader's raw buffer.
@Suite struct InflaterParityTests {
    /// What one reader made of one file: its bytes up to the end or the fault, and the fault.
    struct Outcome: Equatable, CustomStringConvertible {
        var bytes: [UInt8]
        /// The diagnostic as printed; for a truncation without the count of bytes read before it, since
        /// ISA-L may hold back the last few bytes of a symbol cut off by the end (see the test below).
        var fault: String?
        var code: InputError.Code?

        init(bytes: [UInt8], error: InputError?) {
            self.bytes = bytes
            code = error?.code
            fault = error?.description
            if let fault, error?.code == .truncated, let cut = fault.range(of: " (") {
                self.fault = String(fault[..<cut.lowerBound])
            }
        }

        var description: String { "\(bytes.count) bytes, \(fault ?? "no fault")" }
    }

    static func outcome(_ path: String, _ inflater: Inflater, rawBuffer: Int = 4096, chunk: Int = 65_536) -> Outcome {
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        do {
            let reader = try InputReader(path: path, limits: InputLimits(inflater: inflater), bufferSize: rawBuffer)
            while true {
                let n = try reader.read(into: buffer)
                if n == 0 { break }
                out += buffer[0..<n]
            }
            return Outcome(bytes: out, error: nil)
        } catch {
            return Outcome(bytes: out, error: error)
        }
    }

    /// Every gzip file of the repository's fixtures (every test target's) and sample logs, and every
    /// fixture gzip'd here (the fixtures folders hold plain files), read by both inflaters.
    static var gzipInputs: [(name: String, bytes: [UInt8])] {
        var inputs: [(String, [UInt8])] = []
        for folder in Repository.allFixtures + [Repository.root + "/SampleLogs"] {
            let files = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
            for file in files.sorted() {
                let path = folder + "/" + file
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    let data = FileManager.default.contents(atPath: path)
                else { continue }
                let bytes = [UInt8](data)
                if bytes.starts(with: [0x1F, 0x8B]) {
                    inputs.append((file, bytes))
                } else if Repository.allFixtures.contains(folder) {
                    inputs.append((file + ".gz", TestGzip.compress(bytes)))
                }
            }
        }
        return inputs
    }

    @Test(arguments: [16, 4096, 256 << 10])
    func everyFixtureInflatesToTheSameBytes(rawBuffer: Int) throws {
        let inputs = Self.gzipInputs
        #expect(inputs.count > 50)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for (index, input) in inputs.enumerated() {
            let path = dir.write("\(index).gz", input.bytes)
            let zlib = Self.outcome(path, .zlib, rawBuffer: rawBuffer, chunk: 4093)
            let isal = Self.outcome(path, .isal, rawBuffer: rawBuffer, chunk: 4093)
            #expect(zlib.fault == nil, "\(input.name)")
            #expect(isal == zlib, "\(input.name)")
        }
    }

    /// Seeded text that deflates to a few kilobytes with dynamic blocks (all bytes of a record differ).
    static let body: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var text = ""
        for i in 0..<1500 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += "{\"eventID\":\"\(String(state, radix: 16))\",\"n\":\(i)}\n"
        }
        return Array(text.utf8)
    }()

    /// A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC, deflated by zlib.
    static func memberWithHeaderFields(_ data: [UInt8], headerCRC: Bool = true) -> [UInt8] {
        let plain = TestGzip.compress(data)
        var header: [UInt8] = [0x1F, 0x8B, 8, 0x04 | 0x08 | 0x10 | (headerCRC ? 0x02 : 0), 0, 0, 0, 0, 0, 3]
        header += [5, 0] + Array("extra".utf8)
        header += Array("name-of-the-file.json".utf8) + [0]
        header += Array("a comment".utf8) + [0]
        if headerCRC {
            let crc = header.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            header += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF)]
        }
        return header + plain[10...]
    }

    enum Damage: String, CaseIterable {
        case truncatedInTheHeader, truncatedInTheData, truncatedInTheTrailer, badCRC, badLength, badMethod,
            reservedFlags, badHeaderCRC, trailingGarbage, concatenatedMembers, emptyMembers, emptyFile,
            zeroPadding, garbageAfterPadding, secondMemberTruncated, secondMemberBadHeader, headerFields
    }

    static func damaged(_ damage: Damage) -> [UInt8] {
        let member = TestGzip.compress(body)
        var bytes = member
        switch damage {
        case .truncatedInTheHeader: bytes = Array(member[0..<7])
        case .truncatedInTheData: bytes = Array(member[0..<(member.count / 2)])
        case .truncatedInTheTrailer: bytes.removeLast(3)
        case .badCRC: bytes[bytes.count - 7] ^= 0x10
        case .badLength: bytes[bytes.count - 2] ^= 0x01
        case .badMethod: bytes[2] = 7
        case .reservedFlags: bytes[3] = 0x20
        case .badHeaderCRC:
            bytes = memberWithHeaderFields(body)
            bytes[12] ^= 0x01  // a byte of the extra field
        case .trailingGarbage: bytes += Array("garbage".utf8)
        case .concatenatedMembers: bytes = member + TestGzip.compress(Array("second\n".utf8)) + member
        case .emptyMembers: bytes = TestGzip.compress([]) + member + TestGzip.compress([]) + TestGzip.compress([])
        case .emptyFile: bytes = TestGzip.compress([])
        case .zeroPadding: bytes = member + [UInt8](repeating: 0, count: 512)
        case .garbageAfterPadding: bytes = member + [0, 0, 0, 0x41]
        case .secondMemberTruncated: bytes = member + Array(member[0..<(member.count - 20)])
        case .secondMemberBadHeader:
            var second = member
            second[3] = 0x80
            bytes = member + second
        case .headerFields: bytes = memberWithHeaderFields(body) + memberWithHeaderFields([], headerCRC: false)
        }
        return bytes
    }

    @Test(arguments: Damage.allCases, [16, 4096])
    func damagedInputsGiveTheSameBytesAndTheSameFault(damage: Damage, rawBuffer: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("damaged.gz", Self.damaged(damage))
        let zlib = Self.outcome(path, .zlib, rawBuffer: rawBuffer)
        let isal = Self.outcome(path, .isal, rawBuffer: rawBuffer)
        if damage == .truncatedInTheData || damage == .secondMemberTruncated {
            #expect(isal.fault == zlib.fault)
            #expect(zlib.bytes.starts(with: isal.bytes))
        } else {
            #expect(isal == zlib)
        }
        let expected: InputError.Code? =
            switch damage {
            case .truncatedInTheHeader, .truncatedInTheData, .truncatedInTheTrailer, .secondMemberTruncated: .truncated
            case .badCRC, .badLength: .checksumMismatch
            case .badMethod, .reservedFlags, .badHeaderCRC, .trailingGarbage, .garbageAfterPadding,
                .secondMemberBadHeader:
                .notGzip
            case .concatenatedMembers, .emptyMembers, .emptyFile, .zeroPadding, .headerFields: nil
            }
        #expect(zlib.code == expected)
    }

    /// The file cut at every length: header, data and trailer boundaries all give the same fault.
    @Test func everyTruncationGivesTheSameFault() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let member = Self.memberWithHeaderFields(Array(Self.body[0..<8000]))
        var compared = 0
        for cut in 2..<member.count where cut < 80 || cut > member.count - 40 || cut % 13 == 0 {
            let path = dir.write("cut.gz", Array(member[0..<cut]))
            let zlib = Self.outcome(path, .zlib, rawBuffer: 64)
            let isal = Self.outcome(path, .isal, rawBuffer: 64)
            #expect(zlib.code == .truncated, "cut at \(cut)")
            // ISA-L may stop short of a symbol zlib already decoded: the bytes before a truncation are a
            // prefix of zlib's; the fault and its offset are the same.
            #expect(isal.fault == zlib.fault, "cut at \(cut)")
            #expect(zlib.bytes.starts(with: isal.bytes), "cut at \(cut)")
            compared += 1
        }
        #expect(compared > 100)
    }

    /// Damaged deflate data is a corrupt-deflate fault for both (each library notices it at its own offset).
    @Test func corruptDeflateDataIsTheSameKindOfFault() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var bytes = TestGzip.compress(Self.body)
        for i in 20..<40 { bytes[i] = 0xFF }
        let path = dir.write("corrupt.gz", bytes)
        let zlib = Self.outcome(path, .zlib)
        let isal = Self.outcome(path, .isal)
        #expect(zlib.code == .corruptDeflate)
        #expect(isal.code == .corruptDeflate)
        #expect(isal.fault?.contains("corrupt deflate data") == true)
    }
}
