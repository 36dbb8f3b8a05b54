import Foundation
import Inputs
import TestSupport
import Testing
import UsageModel

/// A local directory read a day at a time gives exactly the order a whole scan gives, holding one day's
/// paths (issue 17: a 20,000-account month held 931,029 paths before anything was read).
@Suite struct LocalDeliveryWalkTests {
    static func everything(_ directory: String) -> (paths: [String], mostHeld: Int) {
        var walk = LocalDeliveryWalk(directory: directory)
        var out: [String] = []
        var most = walk.pathsHeld
        while let path = walk.next() {
            out.append(path)
            most = max(most, walk.pathsHeld)
        }
        return (out, most)
    }

    static func name(_ account: String, _ region: String, _ stamp: String, _ tag: String) -> String {
        "\(account)_CloudTrail_\(region)_\(stamp)_\(tag).json.gz"
    }

    /// A provider's tree with every irregularity a walk a day at a time must keep in place.
    static func tree() -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        for account in ["111111111111", "222222222222"] {
            for region in ["us-east-1", "eu-west-1"] {
                for day in 1...4 {
                    let d = String(format: "%02d", day)
                    for (hh, tag) in [("0005", "A"), ("2355", "B"), ("1200", "C")] {
                        _ = dir.write(
                            "AWSLogs/\(account)/CloudTrail/\(region)/2026/03/\(d)/"
                                + name(account, region, "202603\(d)T\(hh)Z", tag), "x")
                    }
                }
            }
        }
        // A file whose delivery time is on the next day (its folder is read whole, in the others).
        _ = dir.write(
            "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02/"
                + name("111111111111", "us-east-1", "20260303T0001Z", "late"),
            "x")
        // Files without a time, files beside the dated layout, a folder under a day, a date that is none.
        _ = dir.write("README", "x")
        _ = dir.write("AWSLogs/digest-20260302T1000Z.json.gz", "x")
        _ = dir.write(
            "AWSLogs/222222222222/CloudTrail/us-east-1/2026/03/03/extra/" + name("2", "x", "20260303T0500Z", "sub"), "x"
        )
        _ = dir.write(
            "AWSLogs/222222222222/CloudTrail/us-east-1/2026/02/31/" + name("2", "x", "20260303T0600Z", "bad"), "x")
        _ = dir.write("AWSLogs/222222222222/CloudTrail/us-east-1/2026/03/04/.hidden", "x")
        _ = dir.write("AWSLogs/222222222222/CloudTrail/us-east-1/2026/03/04/no-time.json", "x")
        return dir
    }

    @Test func theOrderIsAWholeScansAndOneDayIsHeld() throws {
        let dir = Self.tree()
        defer { dir.remove() }
        let scan = InputEnumerator.scan([dir.path])
        let (paths, mostHeld) = Self.everything(dir.path)
        #expect(paths == scan.inputs)
        #expect(LocalDeliveryWalk(directory: dir.path).count == scan.inputs.count)
        // One day's 12 files (2 accounts x 2 regions x 3), beside the 15 not in a folder read by day: the
        // 2 at the top, the folder under a day's and the one with no date, and the three folders read whole
        // (a late file, a subfolder, a file without a time: 4 + 3 + 4).
        #expect(mostHeld == 12 + 15)
    }

    @Test(arguments: ["SampleLogs", "Tests/FormatTests/Fixtures", "Tests/EndToEndTests/Fixtures"])
    func theOrderIsAWholeScansOnTheRepository(_ relative: String) throws {
        let path = Repository.root + "/" + relative
        try #require(FileManager.default.fileExists(atPath: path))
        #expect(Self.everything(path).paths == InputEnumerator.scan([path]).inputs)
    }

    @Test func problemsAreThoseOfAScan() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = dir.write("a/2026/03/01/" + Self.name("1", "r", "20260301T0000Z", "x"), "x")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/a/loop", withDestinationPath: dir.path + "/a")
        try FileManager.default.createSymbolicLink(
            atPath: dir.path + "/dangling", withDestinationPath: dir.path + "/none")
        let walk = LocalDeliveryWalk(directory: dir.path)
        let scan = InputEnumerator.scan([dir.path])
        #expect(walk.problems.map(\.message) == scan.problems.map(\.message))
        #expect(walk.problems.count == 2)
        #expect(
            LocalDeliveryWalk(directory: dir.path + "/missing").problems.map(\.message)
                == InputEnumerator.scan([dir.path + "/missing"]).problems.map(\.message))
    }

    /// A day whose listing again finds nothing (its files removed since the walk, or its folder gone) is
    /// passed over: the days after it still come (before, the walk ended there without a word when no
    /// file outside the days was left — every later day's files lost to `ingest` and `tail`).
    @Test(arguments: ["emptied", "removed"])
    func aDayListedEmptyIsPassedOver(how: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var all: [String] = []
        for day in 1...4 {
            let d = String(format: "%02d", day)
            for hh in ["0005", "1200"] {
                all.append(
                    dir.write(
                        "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/\(d)/"
                            + Self.name("111111111111", "us-east-1", "202603\(d)T\(hh)Z", "a"), "x"))
            }
        }
        var walk = LocalDeliveryWalk(directory: dir.path)
        // Days 1 and 2 lose their files after the walk, before their listing.
        for d in ["01", "02"] {
            let folder = dir.path + "/AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/" + d
            if how == "removed" {
                try FileManager.default.removeItem(atPath: folder)
            } else {
                for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                    try FileManager.default.removeItem(atPath: folder + "/" + name)
                }
            }
        }
        var out: [String] = []
        var reported: [String] = []
        while let path = walk.next(report: { reported.append($0.path) }) { out.append(path) }
        #expect(out == Array(all[4...]))
        #expect(reported.count == (how == "removed" ? 2 : 0))
    }
}
