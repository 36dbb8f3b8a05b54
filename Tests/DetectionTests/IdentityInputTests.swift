import TestSupport
import Testing
import UsageModel

@testable import Detection

/// The input a value became shared in is the same whether the pipeline names inputs by path
/// (``IdentityGraph/input``) or by its own number (``IdentityGraph/setInput(_:key:)``), with inputs
/// alternating among more than the eight the path search looks at, the two ways mixed, and settles
/// between.
@Suite struct IdentityInputTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func inputsSetByKeyAreTheInputsSetByPath(seed: UInt64) {
        var byPath = IdentityGraph()
        var byKey = IdentityGraph()
        byPath.newlySharedHolders = 8
        byKey.newlySharedHolders = 8
        var rng = SplitMix(seed: seed &+ 99)
        var namedCount = 0
        let paths = (0..<20).map { "logs/\(seed)/object-\($0).json.gz" }
        func named(_ graph: inout IdentityGraph) -> [String] {
            var out: [String] = []
            graph.nameNew { raw, kind, input in
                out.append("\(raw) \(kind) \(input ?? "-")")
                return nil
            }
            return out
        }
        for (n, call) in IdentityRowsTests.calls(seed: seed, accounts: 30, count: 4_000).enumerated() {
            let input = Int(rng.next() % UInt64(paths.count))
            byPath.input = paths[input]
            if rng.next() % 10 == 0 {
                byKey.input = paths[input]
            } else {
                byKey.setInput(paths[input], key: UInt32(input))
            }
            #expect(byKey.input == byPath.input, "call \(n)")
            byPath.observe(call)
            byKey.observe(call)
            if rng.next() % 50 == 0 {
                byPath.settle()
                byKey.settle()
                #expect(byKey.input == byPath.input, "call \(n), settled")
                let want = named(&byPath)
                namedCount += want.count
                #expect(named(&byKey) == want, "call \(n)")
            }
        }
        byPath.settle()
        byKey.settle()
        let last = named(&byPath)
        #expect(named(&byKey) == last)
        #expect(namedCount + last.count > 0)
    }
}
