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

    private struct CallSource {
        var chunk: EventTimeOrder.SpilledChunk?
        /// Calls of the chunk read into `buffer` so far.
        var read = 0
        var buffer: [HeldCall]
        var at = 0
    }

    private struct EventSource {
        var groups: ArraySlice<(count: Int, bytes: Int)>
        /// Where the next group starts in the spill file.
        var offset: Int64
        var buffer: [UsageEvent]
        var at = 0
    }

    private let spill: HeldSpill
    private let paths: [UInt32: String]
    private var calls: [CallSource]
    private var events: [EventSource]
    /// Sources with records left, as binary min-heaps on their next record (nil: not built yet).
    private var callHeap: [Int]? = nil
    private var eventHeap: [Int]? = nil
    /// Events of one input share one copy of its path.
    private var sharedPaths: [String: String] = [:]

    /// The slice's `chunks`, then its `memoryCalls` and `memoryEvents`, each in canonical order; `paths`
    /// are the inputs' (calls equal in time, event and account are ordered by the path of their input).
    init(
        spill: HeldSpill, chunks: [EventTimeOrder.SpilledChunk], calls memoryCalls: [HeldCall],
        events memoryEvents: [UsageEvent], paths: [UInt32: String]
    ) {
        self.spill = spill
        self.paths = paths
        calls = chunks.map { CallSource(chunk: $0, buffer: []) } + [CallSource(chunk: nil, buffer: memoryCalls)]
        events =
            chunks.map { EventSource(groups: $0.eventGroups[...], offset: $0.eventsOffset, buffer: []) }
            + [EventSource(groups: [], offset: 0, buffer: memoryEvents)]
    }

    /// The next block of calls in canonical order into `block` (replacing what it held); false when
    /// there are none left.
    func nextCalls(into block: inout [HeldCall]) -> Bool {
        block.removeAll(keepingCapacity: true)
        if callHeap == nil {
            for i in calls.indices { refillCalls(i) }
            callHeap = Self.heap(of: calls.indices.filter { calls[$0].at < calls[$0].buffer.count }, by: callPrecedes)
        }
        while block.count < Self.callBlock, let top = callHeap!.first {
            block.append(calls[top].buffer[calls[top].at])
            calls[top].at += 1
            if calls[top].at == calls[top].buffer.count { refillCalls(top) }
            Self.advance(&callHeap!, exhausted: calls[top].at == calls[top].buffer.count, by: callPrecedes)
        }
        return !block.isEmpty
    }

    /// The next block of events in canonical order into `block`; false when there are none left.
    func nextEvents(into block: inout [UsageEvent]) -> Bool {
        block.removeAll(keepingCapacity: true)
        if eventHeap == nil {
            for i in events.indices { refillEvents(i) }
            eventHeap = Self.heap(
                of: events.indices.filter { events[$0].at < events[$0].buffer.count }, by: eventPrecedes)
        }
        while block.count < Self.eventBlock, let top = eventHeap!.first {
            block.append(events[top].buffer[events[top].at])
            events[top].at += 1
            if events[top].at == events[top].buffer.count { refillEvents(top) }
            Self.advance(&eventHeap!, exhausted: events[top].at == events[top].buffer.count, by: eventPrecedes)
        }
        return !block.isEmpty
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

    // MARK: Sources

    private func refillCalls(_ i: Int) {
        // The source in memory, or a chunk read to its end: nothing left (at == buffer.count).
        guard let chunk = calls[i].chunk, calls[i].read < chunk.calls else { return }
        let n = min(Self.callBlock, chunk.calls - calls[i].read)
        do {
            calls[i].buffer = try EventTimeOrder.calls(of: chunk, from: spill, first: calls[i].read, count: n)
        } catch {
            // The file is this process's own, unlinked: only a failing device gets here.
            fatalError("chiptrail: \(error)")
        }
        calls[i].read += n
        calls[i].at = 0
    }

    private func refillEvents(_ i: Int) {
        guard let group = events[i].groups.popFirst() else { return }
        do {
            events[i].buffer = try EventTimeOrder.events(
                group, at: events[i].offset, from: spill, sharing: &sharedPaths)
        } catch {
            fatalError("chiptrail: \(error)")
        }
        events[i].offset += Int64(group.bytes)
        events[i].at = 0
    }

    /// Whether source `i`'s next call comes before source `j`'s (the earlier source on a tie).
    private func callPrecedes(_ i: Int, _ j: Int) -> Bool {
        let a = calls[i].buffer[calls[i].at]
        let b = calls[j].buffer[calls[j].at]
        if EventTimeOrder.precedes(a, b, paths: paths) { return true }
        if EventTimeOrder.precedes(b, a, paths: paths) { return false }
        return i < j
    }

    private func eventPrecedes(_ i: Int, _ j: Int) -> Bool {
        events[i].buffer.withUnsafeBufferPointer { a in
            events[j].buffer.withUnsafeBufferPointer { b in
                let x = a.baseAddress! + events[i].at
                let y = b.baseAddress! + events[j].at
                if EventTimeOrder.precedes(x, y) { return true }
                if EventTimeOrder.precedes(y, x) { return false }
                return i < j
            }
        }
    }

    // MARK: Heap of sources

    private static func heap(of sources: [Int], by less: (Int, Int) -> Bool) -> [Int] {
        var heap = sources
        var i = heap.count / 2
        while i > 0 {
            i -= 1
            siftDown(&heap, from: i, by: less)
        }
        return heap
    }

    /// After the top source handed on a record: it moves down to its new place, or leaves when it has
    /// nothing left.
    private static func advance(_ heap: inout [Int], exhausted: Bool, by less: (Int, Int) -> Bool) {
        if exhausted {
            let last = heap.removeLast()
            guard !heap.isEmpty else { return }
            heap[0] = last
        }
        siftDown(&heap, from: 0, by: less)
    }

    private static func siftDown(_ heap: inout [Int], from start: Int, by less: (Int, Int) -> Bool) {
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
