import Foundation
@testable import Pipeline
import TestSupport
import Testing

/// Sorted runs merged a block at a time give what a stable sort of the runs one after another gives:
/// equal elements come from the earlier run first, whatever the buffer and block sizes.
@Suite struct RunMergeTests {
    @Test(arguments: [(1, 1), (3, 7), (64, 5), (1_000, 1_000)])
    func mergingSortedRunsIsAStableSortOfTheirConcatenation(buffer: Int, limit: Int) {
        var rng = SplitMix(seed: UInt64(buffer * 31 + limit))
        // (key, run, position): keys repeat within and across runs.
        let runs: [[(key: Int, run: Int, position: Int)]] = (0..<6).map { run in
            let n = Int(rng.next() % 200)
            return (0..<n).map { _ in Int(rng.next() % 40) }.sorted().enumerated().map {
                (key: $1, run: run, position: $0)
            }
        }
        var readers: [() -> [(key: Int, run: Int, position: Int)]] = runs.map { elements in
            var at = 0
            return {
                defer { at = min(elements.count, at + buffer) }
                return Array(elements[at..<min(elements.count, at + buffer)])
            }
        }
        readers.append { [] }
        let merge = RunMerge(runs: readers) { $0.pointee.key < $1.pointee.key }
        var merged: [(key: Int, run: Int, position: Int)] = []
        var block: [(key: Int, run: Int, position: Int)] = []
        while merge.next(into: &block, limit: limit) {
            #expect(block.count <= limit)
            merged += block
        }
        let want = runs.joined().enumerated().sorted { a, b in
            a.element.key != b.element.key ? a.element.key < b.element.key : a.offset < b.offset
        }.map(\.element)
        #expect(merged.count == want.count)
        #expect(merged.indices.first { merged[$0] != want[$0] } == nil)
    }

    /// Elements that hold references are each handed on once and freed once, whether the merge runs to
    /// its end or is dropped half-way (the merge holds its runs' buffers in memory of its own).
    @Test(arguments: [0, 1, 37, 10_000])
    func referencesAreNeitherLeakedNorFreedTwice(taken: Int) {
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var live = 0
        }
        final class Payload {
            let key: Int
            let counter: Counter
            init(_ key: Int, _ counter: Counter) {
                self.key = key
                self.counter = counter
                counter.lock.withLock { counter.live += 1 }
            }
            deinit { counter.lock.withLock { counter.live -= 1 } }
        }
        let counter = Counter()
        var rng = SplitMix(seed: UInt64(taken) &+ 17)
        var handed: [Int] = []
        do {
            let runs: [[Int]] = (0..<5).map { _ in
                (0..<Int(rng.next() % 300)).map { _ in Int(rng.next() % 50) }.sorted()
            }
            let readers: [() -> [Payload]] = runs.map { keys in
                var at = 0
                return {
                    defer { at = min(keys.count, at + 16) }
                    return keys[at..<min(keys.count, at + 16)].map { Payload($0, counter) }
                }
            }
            let merge = RunMerge(runs: readers) { $0.pointee.key < $1.pointee.key }
            var block: [Payload] = []
            while handed.count < taken, merge.next(into: &block, limit: 7) { handed += block.map(\.key) }
            block = []
            let all = runs.joined().sorted()
            #expect(handed == Array(all.prefix(handed.count)))
            if taken >= all.count { #expect(handed.count == all.count) }
        }
        #expect(counter.live == 0)
    }
}
