import Foundation
@testable import Detection
@testable import Pipeline
import Testing
@testable import UsageModel

/// Checkpoint packing (arrays as one base64 string) and the pacing of `tail`'s backlog commits.
@Suite struct CheckpointTests {
    struct Keys: Codable, Equatable {
        @Packed var keys: [UInt64]
        @Packed var hours: [Int32]
        @Packed var times: [Int64]
        @Packed var flags: [Bool]
        @PackedLists var lists: [[UInt64]]

        static func == (a: Keys, b: Keys) -> Bool {
            a.keys == b.keys && a.hours == b.hours && a.times == b.times && a.flags == b.flags && a.lists == b.lists
        }
    }

    @Test(arguments: [0, 1, 2, 3, 167, 1000])
    func packedArraysRoundTrip(count: Int) throws {
        var rng = SplitMix(seed: UInt64(count) + 11)
        let extremes: [Int64] = [0, -1, 1, 63, -64, 64, .max, .min]
        let value = Keys(
            keys: (0..<count).map { _ in rng.next() },
            hours: (0..<count).map { _ in Int32(truncatingIfNeeded: rng.next() % 5 == 0 ? rng.next() : rng.next() % 4) },
            times: (0..<count).map { extremes[$0 % extremes.count] &+ Int64(truncatingIfNeeded: rng.next() % 3) },
            flags: (0..<count).map { _ in rng.next() % 2 == 0 },
            lists: (0..<count).map { i in (0..<(i % 4)).map { _ in rng.next() } })
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(Keys.self, from: data) == value)
        // One string per array, not one number per element.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.values.allSatisfy { $0 is String })
    }

    /// Checkpoints written before the packing hold plain arrays: they still restore.
    @Test func plainArraysOfEarlierCheckpointsStillDecode() throws {
        let plain = #"{"keys":[1,18446744073709551615],"hours":[0,3,-2],"times":[-5,1778630334],"flags":[false,true],"lists":[[],[7],[8,9]]}"#
        let value = try JSONDecoder().decode(Keys.self, from: Data(plain.utf8))
        #expect(value.keys == [1, .max] && value.hours == [0, 3, -2] && value.times == [-5, 1_778_630_334])
        #expect(value.flags == [false, true] && value.lists == [[], [7], [8, 9]])
        let graph = #"{"ids":[5,6],"owners":[[1],[2,3]],"crowded":[false,true],"accounts":[1],"identifiers":[[5,6]],"agents":[6]}"#
        let snapshot = try JSONDecoder().decode(IdentityGraph.Snapshot.self, from: Data(graph.utf8))
        let again = try JSONDecoder().decode(IdentityGraph.Snapshot.self, from: JSONEncoder().encode(snapshot))
        #expect(again.ids == [5, 6] && again.owners == [[1], [2, 3]] && again.crowded == [false, true])
        #expect(again.accounts == [1] && again.identifiers == [[5, 6]] && again.agents == [6])
    }

    @Test(arguments: [#""AAE""#, #""A=AA""#, #""AA*A""#, #""AAAAAAA=""#, #""/////w==""#])
    func damagedPackedArraysAreRejected(text: String) {
        // Not base64, a padding out of place, or bytes that are no whole list of keys / valid varints.
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(Packed<UInt64>.self, from: Data(text.utf8))
        }
    }

    @Test(arguments: Array(0..<40))
    func base64MatchesFoundation(length: Int) {
        var rng = SplitMix(seed: UInt64(length))
        let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let text = Base64.encode(bytes)
        #expect(text == Data(bytes).base64EncodedString())
        #expect(Base64.decode(text) == bytes)
    }

    /// Commits that cost much against reading grow the batch (at most fourfold a step, up to the maximum
    /// and to about `maximumSeconds` of reading); cheap ones bring it back to the minimum.
    @Test func thePacerAmortisesCheckpoints() {
        var pacer = CommitPacer(minimum: 128, maximum: 4096, overhead: 0.1, maximumSeconds: 2)
        #expect(pacer.files == 128)
        // 128 small files read in 0.1 s, committed in 0.4 s: 0.4 s must be ≤ 10% of the reading.
        pacer.observe(files: 128, reading: 0.1, committing: 0.4)
        #expect(pacer.files == 512)
        pacer.observe(files: 512, reading: 0.8, committing: 0.4)
        #expect(pacer.files == 1280)  // 2 s of reading at 1.56 ms a file caps the 2,560 the commit would want
        pacer.observe(files: 1280, reading: 1.0, committing: 0.4)
        #expect(pacer.files == 2560)  // the same cap, at 0.78 ms a file
        // Large files: reading dominates, back to the minimum.
        pacer.observe(files: 2560, reading: 60, committing: 0.5)
        #expect(pacer.files == 128)
        // A batch read in no measurable time: as large as allowed, still no more than fourfold.
        pacer.observe(files: 128, reading: 0, committing: 0.2)
        #expect(pacer.files == 512)
        pacer.observe(files: 0, reading: 1, committing: 1)
        #expect(pacer.files == 512)
    }
}
