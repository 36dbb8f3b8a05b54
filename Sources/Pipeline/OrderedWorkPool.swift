import Foundation
import Ownership

/// Reader threads that pull inputs in order from a source and leave results in a ring of `2 × jobs`
/// slots; `take` waits for input i. An input is pulled only when its slot is free and the decoded results
/// waiting for the merge came from less than `jobs` × ``IngestOptions/readAheadBytes`` of input, so at
/// most `2 × jobs` inputs are pulled and not yet merged, whatever the source holds, and large inputs are
/// held fewer at a time than small ones.
///
/// Two slots a reader keep the readers busy when inputs take uneven times to decode (a ring of `jobs`
/// cost 5–10% at `--jobs 2`); the byte budget keeps a trail of large objects (the large customer's,
/// ~28 MB of JSON each, a few MiB of decoded calls and events each) from holding four of them waiting,
/// which, allocated in the readers' arenas and freed on the merge thread, raised peak RSS (issue 17).
final class OrderedWorkPool: @unchecked Sendable {
    private let next: () -> String?
    private let jobs: Int
    private let options: IngestOptions
    private let geo: GeoIPTable
    private let anonymous: AnonymousNetworkTable
    private let condition = NSCondition()
    /// Held by the one reader that pulls (the source may list S3 meanwhile): `take` never waits on it.
    private let pulling = NSLock()
    private var slots: [FileResult?]
    /// Input bytes (decoded: JSON, CSV) of the results waiting in `slots`, and their budget.
    private var waitingBytes: Int64 = 0
    private let waitingBudget: Int64
    /// Inputs pulled; once `exhausted`, the number of inputs.
    private var pulled = 0
    private var exhausted = false
    private var taken = 0
    private var threads: [Thread] = []
    private var running = 0
    /// Set by ``stop()``: no input is pulled any more, and `take` gives nil.
    private var stopped = false

    init(
        next: @escaping () -> String?, jobs: Int, options: IngestOptions, geo: GeoIPTable,
        anonymous: AnonymousNetworkTable
    ) {
        self.next = next
        self.jobs = jobs
        self.options = options
        self.geo = geo
        self.anonymous = anonymous
        slots = Array(repeating: nil, count: 2 * max(1, jobs))
        waitingBudget = Int64(max(1, jobs)) * max(1, options.readAheadBytes)
    }

    func start() {
        running = jobs
        for _ in 0..<jobs {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// The next input and its index, once its slot is free; nil when the source is done.
    private func claim() -> (index: Int, path: String)? {
        pulling.lock()
        defer { pulling.unlock() }
        condition.lock()
        // Past the budget only while something is ahead of the merge: the input it waits for is pulled.
        while !exhausted && !stopped
            && (pulled >= taken + slots.count || (pulled > taken && waitingBytes >= waitingBudget))
        {
            condition.wait()
        }
        let done = exhausted || stopped
        condition.unlock()
        guard !done else { return nil }
        let path = next()
        condition.lock()
        defer { condition.unlock() }
        guard let path else {
            exhausted = true
            condition.broadcast()
            return nil
        }
        pulled += 1
        return (pulled - 1, path)
    }

    private func work() {
        let processor = FileProcessor(options: options, geo: geo, anonymous: anonymous)
        while let claimed = claim() {
            let result = processor.process(claimed.path)
            condition.lock()
            slots[claimed.index % slots.count] = result
            waitingBytes += result.decodedBytes
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The result of input `index` (inputs are taken in order), or nil when there is no such input or
    /// the pool was stopped.
    func take(_ index: Int) -> FileResult? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return nil }
            if slots[index % slots.count] != nil { break }
            if exhausted && index >= pulled { return nil }
            condition.wait()
        }
        let result = slots[index % slots.count]!
        slots[index % slots.count] = nil
        waitingBytes -= result.decodedBytes
        taken = index + 1
        condition.broadcast()
        return result
    }

    /// Pulls no more inputs and makes `take` give nil; a reader finishes the input it holds, unwaited.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func join() {
        condition.lock()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
