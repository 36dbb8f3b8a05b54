import Foundation
@testable import Pipeline
import TestSupport
import Testing
@testable import UsageModel

/// The checkpoint's binary coding and the pacing of `tail`'s backlog commits.
@Suite struct CheckpointTests {
    struct Inner: Codable, Equatable {
        var name: String
        var position: InputPosition
        var note: String?
    }

    struct State: Codable, Equatable {
        var keys: [UInt64]
        var hours: [Int32]
        var times: [Int64]
        var counts: [Int]
        var weights: [Double]
        var flags: [Bool]
        var lists: [[UInt64]]
        var blob: Data
        var blobs: [Data]
        var wide: UInt128
        var signedWide: Int128
        var small: Int8
        var text: String
        var missing: String?
        var present: Int?
        var inner: [Inner]
        var byName: [String: Inner]
        var byNumber: [Int64: String]
        var byStruct: [CountryCode: Int]
        var event: UsageEvent
    }

    static func state(seed: UInt64, count: Int) -> State {
        var rng = SplitMix(seed: seed)
        let positions: [InputPosition] = [.file, .line(7), .offset(1 << 40), .lineColumn(3, 9)]
        let long = String(repeating: "k", count: 300)
        return State(
            keys: (0..<count).map { _ in rng.next() },
            hours: (0..<count).map { _ in Int32(truncatingIfNeeded: rng.next()) },
            times: (0..<count).map { _ in Int64(bitPattern: rng.next()) },
            counts: (0..<count).map { -$0 },
            weights: (0..<count).map { Double($0) / 3 },
            flags: (0..<count).map { _ in rng.next() % 2 == 0 },
            lists: (0..<count).map { i in (0..<(i % 4)).map { _ in rng.next() } },
            blob: Data((0..<count).map { UInt8(truncatingIfNeeded: $0) }),
            blobs: [Data(), Data([1, 2, 3])],
            wide: UInt128(rng.next()) << 64 | UInt128(rng.next()),
            signedWide: -Int128(rng.next()),
            small: -128,
            text: "Zürich ✓ \u{0}",
            missing: nil,
            present: count,
            inner: (0..<count % 5).map {
                Inner(name: "n\($0)", position: positions[$0 % 4], note: $0 % 2 == 0 ? nil : "")
            },
            byName: [
                "": Inner(name: "", position: .line(1), note: "empty key"),
                long: Inner(name: long, position: .file, note: nil),
            ],
            byNumber: [-1: "minus one", 1 << 40: "big"],
            byStruct: [CountryCode(raw: 0x434E): 3, CountryCode.unknown: 0],
            event: UsageEvent(
                provider: .aws, action: .launch, time: 1_772_000_000, accountID: "111122223333", resourceID: "i-0abc",
                instanceType: "p5.48xlarge", sourceIP: IPAddress.parse("2001:db8::1"), eventID: "e-1",
                eventName: "RunInstances",
                usageHours: 1.5, origin: EventOrigin(path: "a.json.gz", position: .line(12))))
    }

    @Test(arguments: [0, 1, 2, 7, 300])
    func theBinaryCodingRoundTrips(count: Int) throws {
        let value = Self.state(seed: UInt64(count) + 3, count: count)
        let data = try CheckpointCoder.encode(value)
        #expect(data.starts(with: CheckpointCoder.magic))
        #expect(try CheckpointCoder.decode(State.self, from: data) == value)
        // Deterministic: the same state gives the same bytes.
        #expect(try CheckpointCoder.encode(value) == data)
    }

    /// Checkpoints written by earlier versions are JSON: they still restore.
    @Test func jsonCheckpointsOfEarlierVersionsStillDecode() throws {
        let value = Self.state(seed: 5, count: 9)
        #expect(try CheckpointCoder.decode(State.self, from: JSONEncoder().encode(value)) == value)
    }

    struct Older: Codable, Equatable {
        var kept: Int
        var dropped: [UInt64]
        var inner: Inner
    }

    struct Newer: Codable, Equatable {
        var inner: Inner
        var kept: Int
        var added: String?
    }

    /// Members are found by key: a member a later version dropped is skipped, one it added is absent.
    @Test func membersAreFoundByKey() throws {
        let old = Older(kept: 42, dropped: [1, 2, 3], inner: Inner(name: "x", position: .offset(9), note: "y"))
        let new = try CheckpointCoder.decode(Newer.self, from: CheckpointCoder.encode(old))
        #expect(new == Newer(inner: old.inner, kept: 42, added: nil))
    }

    struct Flags: Codable, Equatable {
        var counts: [UInt32]
        var indexed: [Bool]
    }

    /// What versions before raw `[UInt32]` and `[Bool]` wrote: each element a framed scalar.
    struct ElementWise: Encodable {
        var counts: [UInt32]
        var indexed: [Bool]
        enum CodingKeys: String, CodingKey { case counts, indexed }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            var counts = c.nestedUnkeyedContainer(forKey: .counts)
            for v in self.counts { try counts.encode(v) }
            var indexed = c.nestedUnkeyedContainer(forKey: .indexed)
            for v in self.indexed { try indexed.encode(v) }
        }
    }

    /// Arrays of `UInt32` and `Bool` (the identity graph's rows) are raw bytes, under a third of the framed
    /// form; the framed form of earlier versions still decodes.
    @Test(arguments: [0, 1, 16, 300])
    func countsAndFlagsAreRawBytes(count: Int) throws {
        let value = Flags(
            counts: (0..<count).map { UInt32($0 * 2_654_435_761 % 4_294_967_291) },
            indexed: (0..<count).map { $0 % 3 == 0 })
        let data = try CheckpointCoder.encode(value)
        #expect(try CheckpointCoder.decode(Flags.self, from: data) == value)
        let earlier = try CheckpointCoder.encode(ElementWise(counts: value.counts, indexed: value.indexed))
        #expect(try CheckpointCoder.decode(Flags.self, from: earlier) == value)
        if count >= 16 { #expect(data.count * 3 < earlier.count) }
    }

    /// A checkpoint cut short or damaged is an error, never a crash or a silent half state.
    @Test func damagedCheckpointsAreErrors() throws {
        let data = try CheckpointCoder.encode(Self.state(seed: 8, count: 5))
        var failures = 0
        for length in CheckpointCoder.magic.count..<data.count {
            do {
                _ = try CheckpointCoder.decode(State.self, from: data.prefix(length))
            } catch {
                failures += 1
            }
        }
        #expect(failures == data.count - CheckpointCoder.magic.count)
        var flipped = data
        flipped[CheckpointCoder.magic.count] = 0x11  // the top-level object marked as a list
        #expect(throws: DecodingError.self) { _ = try CheckpointCoder.decode(State.self, from: flipped) }
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
