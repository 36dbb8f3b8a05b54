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

    /// With a count, a list that ends sooner was cut (its writer died): reported once, `onCut` called.
    @Test(arguments: [2, 3]) func aListShorterThanItsCountIsCut(expected: Int) throws {
        let file = NSTemporaryDirectory() + "names-\(UUID().uuidString)"
        try Data("a.normalized\0-\0b.normalized\0".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let cuts = Counter()
        let names = try NameStream(path: file, expected: expected, onCut: { cuts.add() })
        var reported: [String] = []
        var got: [String] = []
        while let name = names.next(report: { reported.append($0.message) }) { got.append(name) }
        #expect(got == ["a.normalized", "b.normalized"])
        #expect(reported.first?.hasPrefix("the list names '-' (standard input)") == true)
        #expect(names.wasCut == (expected == 3))
        #expect(cuts.value == (expected == 3 ? 1 : 0))
        #expect(
            reported.contains {
                $0.hasPrefix("the list of inputs ended after 2 of the 3 names it was to hold (its writer stopped)")
            } == (expected == 3))
    }

    /// Waiting for a name that does not come ends at a stop request (SIGINT, SIGTERM), not only when the
    /// writer closes; a stopped list is not a cut one.
    @Test func aStopRequestEndsTheWait() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let started = Date()
        let names = try NameStream(
            path: "/dev/fd/\(fds[0])", expected: 5, stopped: { Date().timeIntervalSince(started) > 0.3 })
        #expect(names.next(report: { Issue.record("unexpected \($0)") }) == nil)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(!names.wasCut)
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

final class Counter: @unchecked Sendable {
    private(set) var value = 0
    func add() { value += 1 }
}
