import Foundation
import IngestService
import Inputs
import TestSupport
import Testing
import UsageModel

/// ingest's inputs in the order the README's Inputs section gives: every path's files merged in one
/// order, by the delivery time in their names (`…_CloudTrail_us-east-1_20260301T0405Z_….json.gz`), then by
/// path, files without such a time first — a dated tree listed a day at a time in that order — whatever
/// order the paths were named in.
@Suite struct InputSequenceTests {
    /// A provider's tree (accounts and regions before the dates) and files beside it, in the documented order.
    static let treeInOrder = [
        "billing/cur.csv",
        "notes/readme.json",
        "AWSLogs/222222222222/CloudTrail/us-east-1/2026/02/28/222222222222_CloudTrail_us-east-1_20260228T2355Z_e.json.gz",
        "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/03/01/111111111111_CloudTrail_eu-west-1_20260301T0405Z_c.json.gz",
        "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/111111111111_CloudTrail_us-east-1_20260301T0405Z_a.json.gz",
        "flat/333333333333_CloudTrail_us-east-1_20260301T0407Z_f.json",
        "AWSLogs/222222222222/CloudTrail/us-east-1/2026/03/01/222222222222_CloudTrail_us-east-1_20260301T0410Z_b.json.gz",
        "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02/111111111111_CloudTrail_us-east-1_20260302T0000Z_d.json.gz",
    ]

    /// The tree written in an order of its own (seeded), whatever order the directories list it in, and
    /// two files named beside it in either order: one order, the whole input's sorted (`ingest a b` and
    /// `ingest b a` read alike; before, files came in the order named and a tree's after the files named
    /// before it, so a billing export named after the trail was read after the whole trail).
    @Test(arguments: [1, 2, 3] as [UInt64], [false, true])
    func pathsAreReadInOneDeliveryOrderWhateverTheOrderNamed(seed: UInt64, reversed: Bool) {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var rng = SplitMix(seed: seed)
        for name in Self.treeInOrder.map({ ($0, rng.next()) }).sorted(by: { $0.1 < $1.1 }).map(\.0) {
            _ = dir.write("tree/" + name, "{}\n")
        }
        let untimed = dir.write("z-untimed.json", "{}\n")
        let timed = dir.write("a_CloudTrail_us-east-1_20260301T0406Z_g.json", "{}\n")
        var segments: [InputSequence.Segment] = [
            .local([untimed]), .tree(LocalDeliveryWalk(directory: dir.path + "/tree")), .local([timed]),
        ]
        if reversed { segments.reverse() }
        let inputs = InputSequence(segments, source: nil, report: { Issue.record("unexpected diagnostic \($0)") })
        #expect(inputs.expected == Self.treeInOrder.count + 2)
        var order: [String] = []
        while let name = inputs.next() { order.append(name) }
        let tree = Self.treeInOrder.map { dir.path + "/tree/" + $0 }
        // The untimed files by path (the tree's two, then z-untimed), the timed by time: 04:06 after 04:05.
        #expect(order == Array(tree[0..<2]) + [untimed] + Array(tree[2..<5]) + [timed] + Array(tree[5...]))
        #expect(order == InputEnumerator.sortedByDeliveryTime(order))
        #expect(inputs.next() == nil)
        #expect(!inputs.listingFailed)
    }

    /// A day's folder removed after the walk (before its day is listed again) is named, and the run counts
    /// as having skipped input (exit status 1): not a silent gap.
    @Test func aDayFolderGoneBeforeItsTurnIsNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for name in Self.treeInOrder { _ = dir.write("tree/" + name, "{}\n") }
        var reported: [Diagnostic] = []
        let inputs = InputSequence(
            [.tree(LocalDeliveryWalk(directory: dir.path + "/tree"))], source: nil, report: { reported.append($0) })
        let gone = dir.path + "/tree/AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02"
        #expect(inputs.next() != nil)
        try FileManager.default.removeItem(atPath: gone)
        var order: [String] = []
        while let name = inputs.next() { order.append(name) }
        #expect(order.count == Self.treeInOrder.count - 2)
        #expect(inputs.listingFailed)
        #expect(reported.count == 1)
        #expect(reported.first?.path == gone)
        #expect(reported.first?.message.contains("cannot read directory again") == true)
    }

    /// Files named out of delivery order (`ingest b a`): read in delivery order, each once.
    @Test func filesNamedOutOfOrderAreReadInDeliveryOrder() {
        let names = [
            "/logs/b_CloudTrail_us-east-1_20260302T0000Z_x.json", "/logs/a_CloudTrail_us-east-1_20260301T0000Z_y.json",
        ]
        let inputs = InputSequence([.local([names[0]]), .local([]), .local([names[1]])], source: nil, report: { _ in })
        #expect(inputs.expected == 2)
        #expect([inputs.next(), inputs.next(), inputs.next()] == names.reversed() + [nil])
    }

    /// Names read as they come (`--inputs-from`: spark-ingest's driver hands them in its list's order) keep
    /// that order.
    @Test func namesReadAsTheyComeKeepTheirOrder() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let names = [
            "/logs/b_CloudTrail_us-east-1_20260302T0000Z_x.json", "/logs/a_CloudTrail_us-east-1_20260301T0000Z_y.json",
        ]
        let list = dir.write("names", names.joined(separator: "\0") + "\0")
        let stream = try NameStream(path: list)
        let inputs = InputSequence([.stream(stream)], source: nil, report: { _ in })
        #expect([inputs.next(), inputs.next(), inputs.next()] == names + [nil])
    }

    /// A path named twice, or inside another named (`ingest d d`, `ingest logs logs/billing`): each file once.
    @Test func aPathNamedTwiceIsReadOnce() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for name in Self.treeInOrder { _ = dir.write("tree/" + name, "{}\n") }
        let tree = dir.path + "/tree"
        let inputs = InputSequence(
            [
                .tree(LocalDeliveryWalk(directory: tree)), .tree(LocalDeliveryWalk(directory: tree + "/billing")),
                .tree(LocalDeliveryWalk(directory: tree)),
            ],
            source: nil, report: { Issue.record("unexpected diagnostic \($0)") })
        var order: [String] = []
        while let name = inputs.next() { order.append(name) }
        #expect(order == Self.treeInOrder.map { tree + "/" + $0 })
    }
}
