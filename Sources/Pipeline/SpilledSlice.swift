import Foundation
import NormalizedRecords
import UsageModel

/// A released slice whose records were spilled, merged into their canonical order a block at a time:
/// its chunks in the spill file (each written in canonical order, ``EventTimeOrder/SpilledChunk``), then
/// what it still held in memory (sorted). Ties go to the earlier source, so the merge gives exactly the
/// order of sorting all the slice's records as they were held — and the records of five minutes of a
/// trail held until its end are never in memory at once (issue 17: the large customer's 4 GB released
/// slices of ~250,000 calls and ~45,000 events, 40 MB each).
///
/// Memory: a block of `callBlock` calls per chunk and one group of events (``EventTimeOrder/eventGroupBytes``
/// of records) per chunk, whatever the slice's size.
final class SpilledSlice {
    typealias HeldCall = EventTimeOrder.HeldCall

    /// Calls read from a chunk at a time, and handed on at a time.
    static let callBlock = 4096
    /// Events handed on at a time.
    static let eventBlock = 1024

    private let calls: RunMerge<HeldCall>
    private let events: RunMerge<UsageEvent>

    /// The slice's `chunks`, then its `memoryCalls` and `memoryEvents`, each in canonical order; `paths`
    /// are the inputs' (calls equal in time, event and account are ordered by the path of their input).
    init(
        spill: HeldSpill, chunks: [EventTimeOrder.SpilledChunk], calls memoryCalls: [HeldCall],
        events memoryEvents: [UsageEvent], paths: [UInt32: String]
    ) {
        // The file is this process's own, unlinked: only a failing device makes a read fail.
        var callRuns: [() -> [HeldCall]] = chunks.map { chunk in
            var read = 0
            return {
                let n = min(Self.callBlock, chunk.calls - read)
                guard n > 0 else { return [] }
                defer { read += n }
                do { return try EventTimeOrder.calls(of: chunk, from: spill, first: read, count: n) } catch {
                    fatalError("chiptrail: \(error)")
                }
            }
        }
        callRuns.append(Self.once(memoryCalls))
        calls = RunMerge(runs: callRuns) { a, b in EventTimeOrder.precedes(a.pointee, b.pointee, paths: paths) }
        // Events of one input share one copy of its path.
        var shared: [String: String] = [:]
        var eventRuns: [() -> [UsageEvent]] = chunks.map { chunk in
            var groups = chunk.eventGroups[...]
            var offset = chunk.eventsOffset
            return {
                guard let group = groups.popFirst() else { return [] }
                defer { offset += Int64(group.bytes) }
                do { return try EventTimeOrder.events(group, at: offset, from: spill, sharing: &shared) } catch {
                    fatalError("chiptrail: \(error)")
                }
            }
        }
        eventRuns.append(Self.once(memoryEvents))
        events = RunMerge(runs: eventRuns) { a, b in EventTimeOrder.precedes(a, b) }
    }

    private static func once<Element>(_ elements: [Element]) -> () -> [Element] {
        var left: [Element]? = elements
        return {
            defer { left = nil }
            return left ?? []
        }
    }

    /// Calls merged ahead on a thread of their own (``prefetch()``), nil while merged on the caller's.
    private var ahead: Prefetch? = nil

    deinit { ahead?.cancel() }

    /// Merges the rest of the slice's calls on a thread of their own from now on, up to
    /// ``Prefetch/callDepth`` blocks ahead of the caller, in the same order: ``nextCalls(into:)`` then only
    /// takes them. At the end of the input the readers' cores are idle and the merge thread alone applies
    /// what is still held (the large customer's whole trail, issue 17); merging its spilled slices there is
    /// a quarter of that thread's work. The events are merged by whichever thread takes them
    /// (``nextEvents(into:)``, one thread at a time), beside the calls.
    func prefetch() {
        guard ahead == nil else { return }
        let prefetch = Prefetch()
        ahead = prefetch
        let merge = UncheckedSendable(value: calls)
        let thread = Thread {
            var callBlock: [HeldCall] = []
            while merge.value.next(into: &callBlock, limit: Self.callBlock) {
                guard prefetch.put(callBlock) else { return }
                callBlock = []
            }
            prefetch.put(nil)
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The next block of calls in canonical order into `block` (replacing what it held); false when
    /// there are none left.
    func nextCalls(into block: inout [HeldCall]) -> Bool {
        guard let ahead else { return calls.next(into: &block, limit: Self.callBlock) }
        block = ahead.take() ?? []
        return !block.isEmpty
    }

    /// The next block of events in canonical order into `block`; false when there are none left.
    func nextEvents(into block: inout [UsageEvent]) -> Bool { events.next(into: &block, limit: Self.eventBlock) }

    /// Blocks of calls handed from the merging thread to the caller (a nil block ends them), bounded.
    final class Prefetch: @unchecked Sendable {
        /// Calls merged ahead at most (4,096 calls a block: ~1.2 MB).
        static let callDepth = 4

        private let condition = NSCondition()
        private var calls: [[HeldCall]?] = []
        private var cancelled = false

        /// Queues a block (nil: the last); false once the caller has gone.
        @discardableResult
        func put(_ block: [HeldCall]?) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while calls.count >= Self.callDepth && !cancelled { condition.wait() }
            calls.append(block)
            condition.broadcast()
            return !cancelled
        }

        /// The next block, nil after the last (and at every call after it).
        func take() -> [HeldCall]? {
            condition.lock()
            defer { condition.unlock() }
            while calls.isEmpty { condition.wait() }
            guard let block = calls[0] else { return nil }
            calls.removeFirst()
            condition.broadcast()
            return block
        }

        /// The caller has gone (a slice whose calls were not all taken: scoring off): the merging thread
        /// stops at its next block.
        func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Every record, merged, as an ordinary slice (tests, and a caller that does not stream).
    func materialized() -> EventTimeOrder.Slice {
        var slice = EventTimeOrder.Slice()
        var block: [HeldCall] = []
        while nextCalls(into: &block) { slice.calls += block }
        var eventBlock: [UsageEvent] = []
        while nextEvents(into: &eventBlock) { slice.events += eventBlock }
        return slice
    }
}

/// Runs, each in order, merged into one order a block at a time; an element equal to another (neither
/// precedes) comes from the earlier run first, so the merge is what a stable sort of the runs one after
/// another gives. A run is read a buffer at a time (`runs[i]()` gives its next buffer, empty at its end).
/// Elements are compared where they lie (`precedes` takes pointers): a copy of a held event retained
/// and released its nine strings at every comparison (~3% of the merge thread on the large customer's
/// trail at `--jobs 2`). Each run's buffer is copied into memory of the merge's own and its elements
/// moved out of it into the block: compared inside arrays of arrays, each comparison retained and
/// released the outer array and both runs' arrays around the call of `precedes` (issue 17: ~100 of the
/// large customer's 6,300 samples at `--jobs 1`).
final class RunMerge<Element> {
    private let runs: [() -> [Element]]
    /// Each run's current buffer, its elements before `at[i]` moved out already (deinitialised).
    private let buffers: UnsafeMutablePointer<UnsafeMutableBufferPointer<Element>>
    private let at: UnsafeMutablePointer<Int>
    private let precedes: (UnsafePointer<Element>, UnsafePointer<Element>) -> Bool
    /// Runs with elements left, a binary min-heap on their next element (nil: not built yet).
    private var heap: [Int]? = nil

    init(runs: [() -> [Element]], precedes: @escaping (UnsafePointer<Element>, UnsafePointer<Element>) -> Bool) {
        self.runs = runs
        self.precedes = precedes
        buffers = .allocate(capacity: max(1, runs.count))
        buffers.initialize(repeating: UnsafeMutableBufferPointer(start: nil, count: 0), count: max(1, runs.count))
        at = .allocate(capacity: max(1, runs.count))
        at.initialize(repeating: 0, count: max(1, runs.count))
    }

    deinit {
        for i in runs.indices { release(i) }
        buffers.deallocate()
        at.deallocate()
    }

    /// Deinitialises what run `i`'s buffer still holds and frees it.
    private func release(_ i: Int) {
        let buffer = buffers[i]
        guard let base = buffer.baseAddress else { return }
        (base + at[i]).deinitialize(count: buffer.count - at[i])
        base.deallocate()
        buffers[i] = UnsafeMutableBufferPointer(start: nil, count: 0)
        at[i] = 0
    }

    /// Replaces run `i`'s buffer (all moved out) with its next one; false at the run's end.
    private func refill(_ i: Int) -> Bool {
        release(i)
        let next = runs[i]()
        guard !next.isEmpty else { return false }
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: next.count)
        _ = buffer.initialize(from: next)
        buffers[i] = buffer
        return true
    }

    /// Up to `limit` next elements into `block` (replacing what it held); false when none are left.
    func next(into block: inout [Element], limit: Int) -> Bool {
        block.removeAll(keepingCapacity: true)
        if heap == nil {
            var built = runs.indices.filter { refill($0) }
            var i = built.count / 2
            while i > 0 {
                i -= 1
                siftDown(&built, from: i)
            }
            heap = built
        }
        while block.count < limit, let top = heap!.first {
            block.append((buffers[top].baseAddress! + at[top]).move())
            at[top] += 1
            if at[top] == buffers[top].count && !refill(top) {
                let last = heap!.removeLast()
                if heap!.isEmpty { break }
                heap![0] = last
            }
            siftDown(&heap!, from: 0)
        }
        return !block.isEmpty
    }

    /// Whether run `i`'s next element comes before run `j`'s (the earlier run on a tie).
    @inline(__always)
    private func less(_ i: Int, _ j: Int) -> Bool {
        let a = UnsafePointer(buffers[i].baseAddress! + at[i])
        let b = UnsafePointer(buffers[j].baseAddress! + at[j])
        if precedes(a, b) { return true }
        if precedes(b, a) { return false }
        return i < j
    }

    private func siftDown(_ heap: inout [Int], from start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1
            guard left < heap.count else { return }
            var child = left
            if left + 1 < heap.count && less(heap[left + 1], heap[left]) { child = left + 1 }
            guard less(heap[child], heap[i]) else { return }
            heap.swapAt(child, i)
            i = child
        }
    }
}
