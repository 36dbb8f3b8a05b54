import Foundation
import TestSupport
import Testing
import UsageModel

@testable import Detection

/// The identity graph's accounts in blocks (``IdentityRows``) count exactly as the arrays they replace:
/// a reference with one array per field (the layout before 2026-12-05, session 23) counts the same
/// random calls, and every summary is compared at every settle.
@Suite struct IdentityRowsTests {
    /// The summaries as the graph kept them before: a row of `width` counters per account in parallel
    /// arrays, runs per account and kind, weighted Misra–Gries, a value indexed once it carries two calls
    /// and 1% of its kind's.
    struct Reference {
        var rowOf: [UInt64: Int] = [:]
        var accounts: [UInt64] = []
        var values: [UInt64] = []
        var counts: [UInt32] = []
        var indexed: [Bool] = []
        var totals: [UInt32] = []
        var runIDs: [UInt64] = []
        var runCounts: [UInt32] = []

        mutating func observe(_ call: CallObservation) {
            let row: Int
            if let r = rowOf[call.accountKey] {
                row = r
            } else {
                row = accounts.count
                rowOf[call.accountKey] = row
                accounts.append(call.accountKey)
                values += Array(repeating: 0, count: 40)
                counts += Array(repeating: 0, count: 40)
                indexed += Array(repeating: false, count: 40)
                totals += [0, 0, 0, 0]
                runIDs += [0, 0, 0, 0]
                runCounts += [0, 0, 0, 0]
            }
            let ids = IdentityGraph.keys(of: call)
            for (kind, id) in [ids.0, ids.1, ids.2, ids.3].enumerated() where id != 0 {
                let r = row * 4 + kind
                if runIDs[r] == id {
                    runCounts[r] += 1
                } else {
                    flush(row, kind)
                    runIDs[r] = id
                    runCounts[r] = 1
                }
            }
        }

        mutating func settle() {
            for row in accounts.indices {
                for kind in 0..<4 { flush(row, kind) }
            }
        }

        mutating func flush(_ row: Int, _ kind: Int) {
            let r = row * 4 + kind
            guard runCounts[r] > 0 else { return }
            note(row, kind, runIDs[r], runCounts[r])
            runCounts[r] = 0
        }

        mutating func note(_ row: Int, _ kind: Int, _ id: UInt64, _ n: UInt32) {
            totals[row * 4 + kind] += n
            let base = row * 40 + IdentityGraph.offsets[kind]
            let range = base..<(base + IdentityGraph.slots[kind])
            var slot = range.first { values[$0] == id }
            if slot == nil {
                var left = n
                var free = range.first { values[$0] == 0 }
                if free == nil {
                    let cut = min(range.map { counts[$0] }.min()!, left)
                    left -= cut
                    for i in range {
                        counts[i] -= cut
                        if counts[i] == 0 {
                            values[i] = 0
                            indexed[i] = false
                            if free == nil { free = i }
                        }
                    }
                }
                guard left > 0, let free else { return }
                values[free] = id
                counts[free] = left
                indexed[free] = false
                slot = free
            } else {
                counts[slot!] += n
            }
            let s = slot!
            if !indexed[s] && counts[s] >= 2 && counts[s] * 100 >= totals[row * 4 + kind] { indexed[s] = true }
        }
    }

    /// Calls of `accounts` accounts over few values of each kind (so counters are evicted), in runs.
    static func calls(seed: UInt64, accounts: UInt64, count: Int) -> [CallObservation] {
        var rng = SplitMix(seed: seed)
        var out: [CallObservation] = []
        while out.count < count {
            let account = 1 + rng.next() % accounts
            let ip: IPAddress? = rng.next() % 5 == 0 ? nil : IPAddress(v4: UInt32(0x0A00_0000 + rng.next() % 40))
            let agent = rng.next() % 7 == 0 ? 0 : 1 + rng.next() % 14
            let key = rng.next() % 3 == 0 ? 0 : 1 + rng.next() % 12
            let principal = 1 + rng.next() % (rng.next() % 2 == 0 ? 3 : 20)
            for _ in 0..<Int(1 + rng.next() % 4) {
                out.append(
                    CallObservation(
                        accountKey: account, eventKey: rng.next(), time: 0, sourceIP: ip, isSignIn: false,
                        agentKey: agent &* 0x9E37_79B9, accessKeyKey: key &* 0x85EB_CA77, principalKey: principal,
                        isMachine: rng.next() % 50 == 0))
            }
        }
        return out
    }

    static func expectSame(_ graph: IdentityGraph, _ reference: Reference, _ note: String) {
        let s = graph.snapshot
        #expect(s.accounts == reference.accounts, "\(note)")
        #expect(s.values == reference.values, "\(note)")
        #expect(s.counts == reference.counts, "\(note)")
        #expect(s.indexed == reference.indexed, "\(note)")
        #expect(s.totals == reference.totals, "\(note)")
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64], [3, 40, 300] as [UInt64])
    func blocksCountAsTheParallelArraysDid(seed: UInt64, accounts: UInt64) {
        var graph = IdentityGraph()
        var reference = Reference()
        var rng = SplitMix(seed: seed ^ 0xABCD)
        for (n, call) in Self.calls(seed: seed, accounts: accounts, count: 6_000).enumerated() {
            graph.observe(call)
            reference.observe(call)
            if rng.next() % 40 == 0 {
                graph.settle()
                reference.settle()
                Self.expectSame(graph, reference, "seed \(seed), call \(n)")
            }
        }
        graph.settle()
        reference.settle()
        Self.expectSame(graph, reference, "seed \(seed), end")
        #expect(reference.indexed.contains(true))
        #expect(graph.population == reference.accounts.count)
    }

    /// A copy of the graph is a value: counting in one changes nothing in the other, and each counts as
    /// a graph that was never copied.
    @Test func aCopiedGraphCountsOnItsOwn() {
        let calls = Self.calls(seed: 9, accounts: 50, count: 4_000)
        var graph = IdentityGraph()
        for call in calls[..<2_000] { graph.observe(call) }
        var copy = graph
        graph.settle()
        let settled = graph.snapshot
        for call in calls[2_000...] { copy.observe(call) }
        copy.settle()
        Self.expectSame(graph, Self.referenceOf(calls[..<2_000]), "original")
        #expect(graph.snapshot.values == settled.values)
        Self.expectSame(copy, Self.referenceOf(calls[...]), "copy")
        // A graph restored from a snapshot counts on as the one saved.
        var restored = IdentityGraph()
        restored.restore(graph.snapshot)
        let kept = restored
        for call in calls[2_000...] { restored.observe(call) }
        restored.settle()
        Self.expectSame(restored, Self.referenceOf(calls[...], settleAt: 2_000), "restored")
        Self.expectSame(kept, Self.referenceOf(calls[..<2_000]), "kept")
    }

    static func referenceOf(_ calls: ArraySlice<CallObservation>, settleAt cut: Int? = nil) -> Reference {
        var r = Reference()
        for (n, call) in calls.enumerated() {
            if n == cut { r.settle() }
            r.observe(call)
        }
        r.settle()
        return r
    }
}
