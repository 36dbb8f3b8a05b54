import Foundation
import IngestService
import Testing
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// `ingest --inputs-from`: names handed out as their NUL arrives, whatever pieces the writer sends them in.
@Suite struct NameStreamTests {
    /// The list written in pieces that cut names anywhere, with pauses: each name comes whole, empty names
    /// are skipped, and a last name without its NUL counts.
    @Test(arguments: [1, 3, 7, 64])
    func namesComeWholeWhateverThePieces(piece: Int) throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let bytes = Array("a/000000000.normalized\0\0b/ü 1.normalized\0c/last".utf8)
        let (reading, writing) = (fds[0], fds[1])
        let writer = Thread {
            var offset = 0
            while offset < bytes.count {
                let n = min(piece, bytes.count - offset)
                _ = bytes[offset..<offset + n].withUnsafeBytes { write(writing, $0.baseAddress, n) }
                offset += n
                usleep(2000)
            }
            close(writing)
        }
        writer.start()
        let names = try NameStream(path: "/dev/fd/\(reading)")
        var got: [String] = []
        while let name = names.next(report: { Issue.record("unexpected \($0)") }) { got.append(name) }
        close(reading)
        #expect(got == ["a/000000000.normalized", "b/ü 1.normalized", "c/last"])
        #expect(names.next(report: { _ in }) == nil)
    }

    @Test func aListThatCannotBeOpenedIsNamedWithWhatToDo() {
        #expect {
            _ = try NameStream(path: "/nonexistent/names")
        } throws: { error in
            guard let error = error as? NameStream.OpenError else { return false }
            return error.diagnostic.description
                == "/nonexistent/names: error: [inputs] cannot open the list of inputs (No such file or directory); give a readable file, or - for stdin"
        }
    }

    /// The sequence hands the stream's names out in order and knows no count beforehand.
    @Test func anInputSequenceOfAStream() throws {
        let dir = NSTemporaryDirectory() + "names-\(UUID().uuidString)"
        try Data("x.json\0y.json\0".utf8).write(to: URL(fileURLWithPath: dir))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inputs = InputSequence([.stream(try NameStream(path: dir))], source: nil, report: { _ in })
        #expect(inputs.expected == 0)
        #expect([inputs.next(), inputs.next(), inputs.next()] == ["x.json", "y.json", nil])
        #expect(!inputs.listingFailed)
    }
}
