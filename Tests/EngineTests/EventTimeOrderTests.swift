import Foundation
import TestSupport
import Testing
@testable import Pipeline
import UsageModel

/// The buffer that holds records for the event-time frontier: one order whatever the arrival, late
/// records named and kept, and a checkpoint that restores exactly what was held.
@Suite struct EventTimeOrderTests {
    static func call(_ n: UInt64, time: EpochSeconds, address: String? = "203.0.113.9") -> CallObservation {
        CallObservation(
            accountKey: 1 + n % 3, eventKey: n &* 0x9E37_79B9_7F4A_7C15, time: time,
            sourceIP: address.flatMap { IPAddress.parse($0) },
            country: n % 2 == 0 ? CountryCode("CN")! : .unknown, isSignIn: n % 5 == 0, agentKey: n % 4,
            accessKeyKey: n % 7,
            principalKey: n % 11, isMachine: n % 6 == 0, isCloudShell: n % 13 == 1)
    }

    static func event(_ n: Int, time: EpochSeconds) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: n % 2 == 0 ? .launch : .stop, time: time, accountID: "12345678901\(n % 10)",
            resourceID: "i-\(n)", instanceType: n % 2 == 0 ? "p5.48xlarge" : nil, eventID: "e-\(n)", eventName: "x",
            origin: EventOrigin(path: "f.json", position: .line(n)))
    }

    /// Everything released, slice by slice: the calls' event keys and times, and the events' ids.
    static func drain(_ order: inout EventTimeOrder) -> [String] {
        var out: [String] = []
        while let (end, slice) = order.next(through: nil) {
            out.append("tick \(end)")
            for n in 0..<slice.calls.count {
                let c = slice.call(n)
                out.append("call \(c.time) \(c.eventKey) \(order.path(of: c.input))")
            }
            out += slice.events.map { "event \($0.time) \($0.eventID)" }
            order.released(slice.calls)
        }
        return out
    }

    static let times: [EpochSeconds] = (0..<60).map { 1_772_323_200 + EpochSeconds(($0 * 7_919) % 1_800) }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func theReleasedOrderIsTheSameWhateverTheArrival(seed: UInt64) {
        var straight = EventTimeOrder()
        let a = straight.beginInput("a.json")
        for (n, t) in Self.times.enumerated() { straight.add(Self.call(UInt64(n), time: t), input: a) }
        straight.held(Self.times.count, of: a)
        for n in 0..<10 { straight.add(Self.event(n, time: Self.times[n])) }
        let want = Self.drain(&straight)

        // The same records in another order, split over two inputs of the same name.
        var rng = SplitMix(seed: seed)
        var indexes = Array(Self.times.indices)
        for i in indexes.indices.reversed() { indexes.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var shuffled = EventTimeOrder()
        for half in [indexes.prefix(30), indexes.suffix(30)] {
            let input = shuffled.beginInput("a.json")
            for n in half { shuffled.add(Self.call(UInt64(n), time: Self.times[n]), input: input) }
            shuffled.held(half.count, of: input)
        }
        for n in (0..<10).reversed() { shuffled.add(Self.event(n, time: Self.times[n])) }
        #expect(Self.drain(&shuffled) == want)
        #expect(want.filter { $0.hasPrefix("tick") }.count == 6)
    }

    /// The canonical order itself, not only its independence of the arrival: within a slice, calls by
    /// time, then event key, then account key, then the input's path — many calls in one second, and
    /// calls equal but for their account or their input.
    /// A slice's events sorted through their indexes give exactly what a stable sort of the events by
    /// time, event id and resource id gives: many in one second, ids and resources repeated, events
    /// equal in all three (their held order kept), already sorted and reversed.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func eventsSortThroughIndexesAsAStableSortDoes(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var events: [UsageEvent] = (0..<3_000).map { n in
            let r = random.next()
            var e = Self.event(n, time: 1_000 + Int64(r % 40))
            e.eventID = "e-\((r >> 8) % 300)"
            e.resourceID = "i-\((r >> 20) % 5)"
            e.region = "r\(n)"  // tells apart events equal in the three keys
            return e
        }
        switch seed {
        case 3: events.sort { $0.time < $1.time }
        case 4: events.reverse()
        default: break
        }
        let expected = events.sorted { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.eventID != b.eventID { return a.eventID.utf8Precedes(b.eventID) }
            return a.resourceID.utf8Precedes(b.resourceID)
        }
        var sorted = events
        EventTimeOrder.sortCanonically(&sorted)
        let got = sorted.map(\.region)
        let want = expected.map(\.region)
        #expect(got.count == want.count)
        let misplaced = got.indices.first { $0 >= want.count || got[$0] != want[$0] }
        #expect(misplaced == nil, "the first event out of place")
    }

    /// Events are first compared by their time and the first eight bytes of their ids: the order is still
    /// the one comparing whole ids — ids longer than eight bytes alike in their first eight, ids that
    /// are the beginning of others, a NUL, an empty id, UUIDs one character apart.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func eventsSortByTheirWholeIdsWhateverTheirFirstBytes(seed: UInt64) {
        let ids = [
            "evt-0000-aaaa", "evt-0000-aaab", "evt-0000", "evt-000", "evt-0000\u{0}", "evt-0000\u{0}\u{0}", "", "e",
            "zzzzzzzzz", "zzzzzzzz", "12345678-1234-1234-1234-123456789abc", "12345678-1234-1234-1234-123456789abd",
        ]
        let events = Self.events(ids: ids, seed: seed)
        let expected = events.enumerated().sorted { x, y in
            let (a, b) = (x.element, y.element)
            if a.time != b.time { return a.time < b.time }
            if a.eventID != b.eventID { return a.eventID.utf8Precedes(b.eventID) }
            if a.resourceID != b.resourceID { return a.resourceID.utf8Precedes(b.resourceID) }
            return x.offset < y.offset
        }
        var sorted = events
        EventTimeOrder.sortCanonically(&sorted)
        #expect(sorted.map(\.region) == expected.map(\.element.region))
    }

    /// With an id that is not ASCII — here ids equal as strings though not in bytes, which make the
    /// comparison inconsistent — the events are sorted exactly as before the first-bytes keys.
    @Test(arguments: [1, 2] as [UInt64])
    func eventsWithIdsNotASCIISortAsBefore(seed: UInt64) {
        let ids = ["caf\u{E9}", "cafe\u{301}", "cafe\u{301}-1", "caf\u{E9}-1", "caff", "ünï", "evt-1"]
        let events = Self.events(ids: ids, seed: seed)
        var before = Array(0..<Int32(events.count))
        events.withUnsafeBufferPointer { e in
            let base = e.baseAddress!
            before.sort { i, j in
                if EventTimeOrder.precedes(base + Int(i), base + Int(j)) { return true }
                if EventTimeOrder.precedes(base + Int(j), base + Int(i)) { return false }
                return i < j
            }
        }
        var sorted = events
        EventTimeOrder.sortCanonically(&sorted)
        #expect(sorted.map(\.region) == before.map { events[Int($0)].region })
    }

    /// 2,000 events in three seconds with ids drawn from `ids` and four resources.
    static func events(ids: [String], seed: UInt64) -> [UsageEvent] {
        var random = SplitMix(seed: seed)
        return (0..<2_000).map { n in
            let r = random.next()
            var e = Self.event(n, time: 1_000 + Int64(r % 3))
            e.eventID = ids[Int((r >> 8) % UInt64(ids.count))]
            e.resourceID = "i-\((r >> 20) % 4)"
            e.region = "r\(n)"
            return e
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func callsAreReleasedByTimeEventKeyAccountThenPath(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let base: EpochSeconds = 1_772_323_200
        var records: [(call: CallObservation, path: String)] = []
        for n in 0..<200 {
            let time = base + EpochSeconds(rng.next() % 3)  // three busy seconds
            let key = rng.next() % 16  // event keys that repeat across accounts
            let call = CallObservation(
                accountKey: 1 + rng.next() % 4, eventKey: key, time: time, sourceIP: nil, country: .unknown,
                isSignIn: false, agentKey: 0, accessKeyKey: 0, principalKey: 0, isMachine: false)
            records.append((call, n % 3 == 0 ? "b.json" : "a.json"))
        }
        // A call delivered in two inputs (one input's copy is not a duplicate of the other's here: both held).
        let twice = records[0].call
        records.append((twice, "a.json"))
        records.append((twice, "b.json"))
        var order = EventTimeOrder()
        for path in ["b.json", "a.json"] {
            let input = order.beginInput(path)
            let mine = records.filter { $0.path == path }
            for r in mine { order.add(r.call, input: input) }
            order.held(mine.count, of: input)
        }
        let next = order.next(through: nil)
        let (_, slice) = try #require(next)
        var released: [(time: EpochSeconds, key: UInt64, account: UInt64, path: String)] = []
        for n in 0..<slice.calls.count {
            let c = slice.call(n)
            released.append((c.time, c.eventKey, c.accountKey, order.path(of: c.input)))
        }
        #expect(released.count == records.count)
        for (a, b) in zip(released, released.dropFirst()) {
            let ordered =
                a.time != b.time
                ? a.time < b.time
                : a.key != b.key ? a.key < b.key : a.account != b.account ? a.account < b.account : a.path <= b.path
            #expect(ordered, "\(a) before \(b)")
        }
    }

    /// Calls held by position, an input at a time (grouped by slice), come back as when held one by one:
    /// over an hour and over more slices than are grouped, with seconds of one to forty calls (sorted by
    /// insertion up to ``EventTimeOrder/insertionSortLimit``, by `sort` past it), late ones counted alike.
    @Test(arguments: [(1, 3_600), (2, 3_600), (3, 400 * 3_600)] as [(UInt64, EpochSeconds)])
    func callsHeldByPositionAreHeldAsOneByOne(seed: UInt64, span: EpochSeconds) {
        var rng = SplitMix(seed: seed)
        let base: EpochSeconds = 1_772_323_200
        var calls: [CallObservation] = []
        for n in 0..<600 {
            // Every tenth call in a busy second, of as many calls as its seed and place make.
            let time = n % 10 == 0 ? base + EpochSeconds(n % 40) : base + EpochSeconds(rng.next() % UInt64(span))
            calls.append(
                CallObservation(
                    accountKey: 1 + rng.next() % 4, eventKey: rng.next() % 64, time: time, sourceIP: nil,
                    country: .unknown, isSignIn: false, agentKey: 0, accessKeyKey: 0, principalKey: 0, isMachine: false)
            )
        }
        var one = EventTimeOrder()
        var grouped = EventTimeOrder()
        for (k, chunk) in stride(from: 0, to: calls.count, by: 150).enumerated() {
            let path = k % 2 == 0 ? "a.json" : "b.json"
            // Some of each input's calls are left out (duplicates, in the pipeline).
            var positions: [Int32] = []
            for n in chunk..<(chunk + 150) where rng.next() % 5 != 0 { positions.append(Int32(n)) }
            let a = one.beginInput(path)
            for p in positions { one.add(calls[Int(p)], input: a) }
            one.held(positions.count, of: a)
            let b = grouped.beginInput(path)
            grouped.add(calls, at: positions, input: b)
            grouped.held(positions.count, of: b)
            if k == 1 {
                // A slice released between inputs: the later inputs' calls before it are late.
                _ = one.next(through: base + 1_200).map { one.released($0.slice.calls) }
                _ = grouped.next(through: base + 1_200).map { grouped.released($0.slice.calls) }
            }
        }
        #expect(grouped.late == one.late)
        #expect(Self.drain(&grouped) == Self.drain(&one))
    }

    @Test func aRecordBehindTheReleasedSlicesJoinsTheNextAndIsCounted() throws {
        var order = EventTimeOrder()
        let input = order.beginInput("a.json")
        order.add(Self.call(1, time: 1_000), input: input)
        order.add(Self.call(2, time: 2_000), input: input)
        order.held(2, of: input)
        let released = order.next(through: 1_500)
        let first = try #require(released)
        #expect(first.end == 1_200)
        order.released(first.slice.calls)
        let nothing = order.next(through: 1_500)
        #expect(nothing == nil)
        // Behind the released slices (900 s): it waits in the next slice, not in its own.
        let late = order.beginInput("late.json")
        order.add(Self.call(3, time: 900), input: late)
        order.held(1, of: late)
        #expect(order.late == 1)
        let drained = order.next(through: nil)
        let next = try #require(drained)
        #expect(next.end == 1_500)
        #expect(next.slice.call(0).time == 900)
        #expect(order.path(of: next.slice.call(0).input) == "late.json")
        // Times before 1970 have their own slices.
        #expect(EventTimeOrder.sliceIndex(of: -1) == -1)
        #expect(EventTimeOrder.sliceIndex(of: -300) == -1)
        #expect(EventTimeOrder.sliceIndex(of: -301) == -2)
    }

    @Test func aCheckpointRestoresEveryHeldRecordAndName() throws {
        var order = EventTimeOrder()
        let a = order.beginInput("a.json")
        for (n, t) in Self.times.enumerated() {
            order.add(
                Self.call(UInt64(n), time: t, address: n % 3 == 0 ? nil : (n % 3 == 1 ? "203.0.113.9" : "2001:db8::7")),
                input: a)
        }
        order.held(Self.times.count, of: a)
        for n in 0..<10 { order.add(Self.event(n, time: Self.times[n])) }
        var names = KeyTable<String>(capacity: 8)
        names.insert(42, "launcher/0.3")
        order.learnNames(names, until: Self.times.max()!)
        _ = order.next(through: Self.times.min()! + 300).map { order.released($0.slice.calls) }

        var restored = EventTimeOrder(
            restoring: try CheckpointCoder.decode(
                EventTimeOrder.Snapshot.self, from: try CheckpointCoder.encode(order.snapshot)))
        #expect(restored.releasedThrough == order.releasedThrough)
        #expect(restored.name(42) == "launcher/0.3")
        var rest: [[CallObservation]] = []
        var restoredRest: [[CallObservation]] = []
        while let (_, slice) = order.next(through: nil) {
            rest.append((0..<slice.calls.count).map { slice.call($0).call })
        }
        while let (_, slice) = restored.next(through: nil) {
            restoredRest.append((0..<slice.calls.count).map { slice.call($0).call })
        }
        #expect(restoredRest == rest)
        #expect(rest.joined().contains { $0.sourceIP == nil } && rest.joined().contains { $0.sourceIP?.isV4 == false })
    }
}

/// Byte order of strings (event ids, paths, object keys): `utf8Precedes` orders as the UTF-8 bytes do,
/// on ASCII, on non-ASCII, on prefixes and on small (inline) and large strings alike.
@Suite struct ByteOrderTests {
    @Test(arguments: [
        ("", "a", true), ("a", "", false), ("", "", false), ("abc", "abd", true), ("abd", "abc", false),
        ("abc", "abcd", true), ("Z", "a", true), ("é", "z", false), ("z", "é", true), ("e\u{301}", "é", true),
        ("a-very-long-event-id-0001-beyond-the-inline-size", "a-very-long-event-id-0002-beyond-the-inline-size", true),
    ])
    func stringsOrderAsTheirBytes(a: String, b: String, precedes: Bool) {
        #expect(a.utf8Precedes(b) == precedes)
        #expect(a.utf8Precedes(b) == a.utf8.lexicographicallyPrecedes(b.utf8))
    }

    @Test func agreesWithTheBytesOnGeneratedStrings() {
        var random = SplitMix(seed: 0x9E37_79B9_7F4A_7C15)
        func next(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let pieces = ["a", "b", "0", "-", "é", "中", "/", "aaaaaaaaaaaaaaaa", "\u{0}"]
        for _ in 0..<5_000 {
            let a = (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined()
            let b = (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined()
            #expect(a.utf8Precedes(b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) \(b)")
        }
    }
}

/// Keys made of a prefix and an id (the de-duplication key of a lifecycle event, "compute|" + its id) are
/// hashed from the prefix's hash: the same key as the concatenation's, which stores' saved windows hold.
@Suite struct StableHashChainTests {
    @Test(arguments: ["", "e-1", "3f2c9a1e-7b4d-4c0e-9a51-0d6b8f3e2a17", "é中"])
    func aTextHashedFromItsPrefixsHashIsTheWholeTextsHash(id: String) {
        #expect(StableHash.hash(id, seed: StableHash.hash("compute|")) == StableHash.hash("compute|" + id))
    }
}
