import Foundation
@testable import Pipeline
import TestSupport
import Testing
import UsageModel

/// `ingest` keeps the records held for the event-time frontier within a memory budget: past it they wait
/// in a temporary file and come back a slice at a time, and the names of their identifiers wait there
/// as one block per input. The same records come back in the same order, so nothing decided changes.
@Suite struct HeldSpillTests {
    /// Four inputs of calls and lifecycle events over 40 minutes of event time, each input's records in
    /// its own order, some behind what is released after the second input (late).
    /// The same inputs fed to an order that keeps everything in memory and to one that spills after
    /// every input (budget 0, into `directory`).
    static func fedTwice(spillingIn directory: String) -> (inMemory: EventTimeOrder, spilled: EventTimeOrder) {
        var inMemory = EventTimeOrder()
        var spilled = EventTimeOrder()
        let startedSpilled = spilled.startSpilling(budget: 0, directory: directory)
        #expect(startedSpilled)
        _ = feed(&inMemory, spillAfterEach: false)
        _ = feed(&spilled, spillAfterEach: true)
        return (inMemory, spilled)
    }

    static func feed(_ order: inout EventTimeOrder, spillAfterEach: Bool) -> [String] {
        var out: [String] = []
        var rng = SplitMix(seed: 17)
        for i in 0..<4 {
            let path = "in/\(i).json"
            let input = order.beginInput(path)
            var count = 0
            for n in 0..<90 {
                let time =
                    1_772_323_200 + EpochSeconds(i * 600) + EpochSeconds(rng.next() % 1_200) - (i == 3 ? 2_400 : 0)
                order.add(
                    EventTimeOrderTests.call(
                        UInt64(i * 1000 + n), time: time, address: n % 4 == 0 ? "2001:db8::\(n)" : "203.0.113.\(n)"),
                    input: input)
                count += 1
            }
            order.held(count, of: input)
            for n in 0..<7 {
                var event = EventTimeOrderTests.event(i * 100 + n, time: 1_772_323_200 + EpochSeconds(i * 600 + n * 37))
                event.principal = n % 2 == 0 ? "arn:aws:iam::1:role/ops-\(n)" : nil
                event.userAgent = "launcher/\(n) (é\u{2028})"
                event.sourceIP = n % 3 == 0 ? nil : IPAddress.parse("198.51.100.\(n)")
                event.usageHours = Double(n) / 3
                order.add(event)
            }
            var names = KeyTable<String>(capacity: 16)
            for k in 0..<5 { _ = names.insert(UInt64(10 + i * 3 + k), "agent \(i * 3 + k) — ünïcode") }
            order.learnNames(names, until: 1_772_323_200 + EpochSeconds(i * 600 + 1_200), path: path)
            if spillAfterEach { order.spillIfOverBudget() }
            if i == 1 {
                while let (end, slice) = order.next(through: 1_772_323_200 + 900) {
                    out.append(Self.describe(end, slice, order))
                    order.released(slice.calls)
                }
            }
        }
        return out
    }

    static func describe(_ end: EpochSeconds, _ slice: EventTimeOrder.Slice, _ order: EventTimeOrder) -> String {
        var lines = ["tick \(end)"]
        for n in 0..<slice.calls.count {
            let c = slice.call(n)
            lines.append("call \(c.call) \(order.path(of: c.input))")
        }
        lines += slice.events.map { "event \($0)" }
        return lines.joined(separator: "\n")
    }

    static func drain(_ order: inout EventTimeOrder) -> [String] {
        var out: [String] = []
        while let (end, slice) = order.next(through: nil) {
            out.append(describe(end, slice, order))
            order.released(slice.calls)
        }
        return out
    }

    @Test(arguments: [0, 1, 4_000, 40_000])
    func spilledRecordsComeBackInTheOrderHeld(budget: Int) throws {
        var inMemory = EventTimeOrder()
        var want = Self.feed(&inMemory, spillAfterEach: false)
        want += Self.drain(&inMemory)

        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var spilled = EventTimeOrder()
        let startedSpilled = spilled.startSpilling(budget: budget, directory: dir.path)
        #expect(startedSpilled)
        var got = Self.feed(&spilled, spillAfterEach: true)
        if budget < 40_000 { #expect(spilled.hasSpilled) }
        got += Self.drain(&spilled)
        #expect(got == want)
        #expect(spilled.late == inMemory.late && spilled.late > 0)
        // Unlinked at once: nothing is left in the directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func spilledNamesAreFoundAndForgottenAsThoseInMemory() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var (inMemory, spilled) = Self.fedTwice(spillingIn: dir.path)
        let keys = Array(0..<40).map(UInt64.init)
        func names(_ order: EventTimeOrder, hint: String?) -> [String?] { keys.map { order.name($0, in: hint) } }
        #expect(names(spilled, hint: nil) == names(inMemory, hint: nil))
        #expect(names(spilled, hint: "in/2.json") == names(inMemory, hint: nil))
        #expect(names(spilled, hint: "in/9.json") == names(inMemory, hint: nil))
        #expect(spilled.name(16) == "agent 6 — ünïcode")
        // Released through the first inputs' times: their names go, on the same schedule in both.
        for step in [0, 1] {
            let frontier = 1_772_323_200 + EpochSeconds(1_800 + step * 1_800)
            while let (_, slice) = inMemory.next(through: frontier) { inMemory.released(slice.calls) }
            while let (_, slice) = spilled.next(through: frontier) { spilled.released(slice.calls) }
            inMemory.forgetNames()
            spilled.forgetNames()
            #expect(names(spilled, hint: nil) == names(inMemory, hint: nil))
        }
        #expect(names(inMemory, hint: nil).contains(nil) && names(inMemory, hint: nil).contains { $0 != nil })
    }

    /// `tail` starts checkpoints on a pipeline's order: what was spilled comes back into memory, and the
    /// checkpoint is the one an order that never spilled writes.
    @Test func stoppingBringsEverythingBackForACheckpoint() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var (inMemory, spilled) = Self.fedTwice(spillingIn: dir.path)
        #expect(spilled.hasSpilled)
        // A whole snapshot reads spilled records back without stopping.
        #expect(try CheckpointCoder.encode(spilled.snapshot) == CheckpointCoder.encode(inMemory.snapshot))
        spilled.stopSpilling()
        #expect(!spilled.hasSpilled)
        #expect(try CheckpointCoder.encode(spilled.snapshot) == CheckpointCoder.encode(inMemory.snapshot))
        spilled.tracking = true
        inMemory.tracking = true
        let restarted = spilled.startSpilling(budget: 0, directory: dir.path)
        #expect(!restarted)
        #expect(Self.drain(&spilled) == Self.drain(&inMemory))
    }

    /// A slice spilled in many chunks is released as a merge, a block at a time (`streaming`: what
    /// `ingest` applies), and the blocks put together are the order the same records held in memory give:
    /// calls and events each over several blocks and chunks, with ties in time and event between inputs.
    /// Merged on the caller's thread or ahead on a thread of its own (`prefetch`, the end of an input
    /// read with more than one reader): the same blocks in the same order.
    @Test(arguments: [false, true])
    func aSpilledSliceStreamsInBlocksInTheOrderHeldInMemory(mergedAhead: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        func feed(_ o: inout EventTimeOrder) {
            var draw = SplitMix(seed: 5)
            for i in 0..<6 {
                let input = o.beginInput("in/\(i).json")
                let n = 2_000
                for k in 0..<n {
                    // Every tenth call repeats another input's time and event: ties broken by the input's path.
                    let id = k % 10 == 0 ? UInt64(k) : UInt64(i * n + k)
                    let time = 1_772_323_200 + EpochSeconds(k % 10 == 0 ? k % 300 : Int(draw.next() % 300))
                    o.add(EventTimeOrderTests.call(id, time: time), input: input)
                }
                o.held(n, of: input)
                for k in 0..<400 {
                    o.add(EventTimeOrderTests.event(i * 400 + k, time: 1_772_323_200 + EpochSeconds(draw.next() % 300)))
                }
                o.spillIfOverBudget()
            }
        }
        var inMemory = EventTimeOrder()
        var spilled = EventTimeOrder()
        let started = spilled.startSpilling(budget: 0, directory: dir.path)
        #expect(started)
        feed(&inMemory)
        feed(&spilled)
        let released = inMemory.next(through: nil)
        let want = try #require(released).slice
        let streamed = spilled.next(through: nil, streaming: true)
        let merge = try #require(streamed?.slice.spilled)
        if mergedAhead { merge.prefetch() }
        var calls: [EventTimeOrder.HeldCall] = []
        var block: [EventTimeOrder.HeldCall] = []
        var blocks = 0
        while merge.nextCalls(into: &block) {
            calls += block
            blocks += 1
        }
        var events: [UsageEvent] = []
        var eventBlock: [UsageEvent] = []
        while merge.nextEvents(into: &eventBlock) { events += eventBlock }
        #expect(blocks == 3)
        #expect(calls.count == want.calls.count)
        let firstCall = calls.indices.first {
            "\(calls[$0].call) \(calls[$0].input)" != "\(want.call($0).call) \(want.call($0).input)"
        }
        #expect(firstCall == nil)
        #expect(events.count == want.events.count)
        #expect(events.indices.first { "\(events[$0])" != "\(want.events[$0])" } == nil)
    }

    /// A caller that takes a slice merged ahead without its calls (scoring off) still gets every event in
    /// order: the calls' merge, blocked on its full queue, holds nothing the events' merge waits for.
    @Test(arguments: [0, 2, 100])
    func aSliceMergedAheadGivesItsEventsToACallerThatTakesFewCalls(callBlocksTaken: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        func feed(_ o: inout EventTimeOrder) {
            var draw = SplitMix(seed: 9)
            for i in 0..<4 {
                let input = o.beginInput("in/\(i).json")
                for k in 0..<8_000 {
                    o.add(
                        EventTimeOrderTests.call(
                            UInt64(i * 8_000 + k), time: 1_772_323_200 + EpochSeconds(draw.next() % 300)),
                        input: input)
                }
                o.held(8_000, of: input)
                for k in 0..<1_500 {
                    o.add(
                        EventTimeOrderTests.event(i * 1_500 + k, time: 1_772_323_200 + EpochSeconds(draw.next() % 300)))
                }
                o.spillIfOverBudget()
            }
        }
        var inMemory = EventTimeOrder()
        var spilled = EventTimeOrder()
        let started = spilled.startSpilling(budget: 0, directory: dir.path)
        #expect(started)
        feed(&inMemory)
        feed(&spilled)
        let released = inMemory.next(through: nil)
        let want = try #require(released).slice
        let streamed = spilled.next(through: nil, streaming: true)
        let merge = try #require(streamed?.slice.spilled)
        merge.prefetch()
        var block: [EventTimeOrder.HeldCall] = []
        var taken = 0
        while taken < callBlocksTaken && merge.nextCalls(into: &block) { taken += 1 }
        var events: [UsageEvent] = []
        var eventBlock: [UsageEvent] = []
        while merge.nextEvents(into: &eventBlock) { events += eventBlock }
        #expect(events.count == want.events.count)
        #expect(events.indices.first { "\(events[$0])" != "\(want.events[$0])" } == nil)
    }

    /// An input's names as a block: keys ascending, each name's start and length, then the text, for
    /// tables of no name, one, names empty and of several bytes a character, and thousands.
    @Test(arguments: [0, 1, 3, 5_000])
    func aNameBlockListsItsKeysInOrderWithTheirText(count: Int) {
        var table = KeyTable<String>(capacity: 16)
        var want: [UInt64: String] = [:]
        var draw = SplitMix(seed: UInt64(count))
        for n in 0..<count {
            let key = draw.next() | 1
            let name = n % 7 == 0 ? "" : n % 3 == 0 ? "agent \(n) — ünïcode 😀" : "k\(n)"
            if table.insert(key, name) { want[key] = name }
        }
        let bytes = EventTimeOrder.nameBlock(table)
        let n = want.count
        var keys: [UInt64] = []
        var names: [String] = []
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                keys.append(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                let start = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: n * 8 + i * 8, as: UInt32.self)))
                let length = Int(
                    UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: n * 8 + i * 8 + 4, as: UInt32.self)))
                names.append(String(decoding: raw[(n * 16 + start)..<(n * 16 + start + length)], as: UTF8.self))
            }
        }
        #expect(keys == want.keys.sorted())
        #expect(names == keys.map { want[$0]! })
        #expect(bytes.count == n * 16 + want.values.reduce(0) { $0 + $1.utf8.count })
    }

    /// Names stay in memory while they take less than a quarter of the budget (writing every input's
    /// names cost ~2% of a run that never passed it); past that, each input's go to the file as a block,
    /// and a name is found either way.
    @Test(arguments: [(1 << 20, false), (4_000, true)])
    func namesGoToTheFileOnlyPastAQuarterOfTheBudget(budget: Int, spills: Bool) {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var order = EventTimeOrder()
        let started = order.startSpilling(budget: budget, directory: dir.path)
        #expect(started)
        for i in 0..<40 {
            var names = KeyTable<String>(capacity: 16)
            for k in 0..<3 { _ = names.insert(UInt64(i * 3 + k + 1), "aws-cli/2.\(i).\(k) Python/3.11 Linux") }
            order.learnNames(names, until: 1_772_323_200 + EpochSeconds(i * 60), path: "in/\(i).json")
        }
        #expect(order.hasSpilled == spills)
        #expect(order.name(1) == "aws-cli/2.0.0 Python/3.11 Linux")
        #expect(order.name(120, in: "in/39.json") == "aws-cli/2.39.2 Python/3.11 Linux")
    }

    @Test func aDirectoryThatCannotHoldTheFileKeepsEverythingInMemory() {
        var order = EventTimeOrder()
        let startedOrder = order.startSpilling(budget: 0, directory: "/nonexistent/chiptrail-test")
        #expect(!startedOrder)
        var want = EventTimeOrder()
        let got = Self.feed(&order, spillAfterEach: true) + Self.drain(&order)
        #expect(!order.hasSpilled)
        #expect(got == Self.feed(&want, spillAfterEach: false) + Self.drain(&want))
    }
}
