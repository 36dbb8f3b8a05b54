import Foundation
import Inputs
import TestSupport
import Testing

@testable import TailService

/// What `tail` keeps per file of a backlog: the first wake's walk holds a day's paths at a time, not the
/// tree's, and the stamps of files seen are bounded by what lands, not by the files of the tree.
struct BoundedWakeTests {
    /// A month-like tree: `days` days of `perDay` files in each of two accounts' folders laid out by day,
    /// and two files outside any dated folder.
    static func tree(_ root: String, days: Int, perDay: Int) -> [String] {
        var paths: [String] = []
        for account in ["111122223333", "444455556666"] {
            for day in 1...days {
                let dd = String(format: "%02d", day)
                let folder = "\(root)/AWSLogs/\(account)/CloudTrail/us-east-1/2026/09/\(dd)"
                try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for i in 0..<perDay {
                    let hhmm = String(format: "%02d%02d", i % 24, (i * 7) % 60)
                    let path = "\(folder)/\(account)_CloudTrail_us-east-1_202609\(dd)T\(hhmm)Z_F\(i).json.gz"
                    FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
                    paths.append(path)
                }
            }
        }
        for name in ["billing/a/cur2-00001.csv.gz", "notes/b.json"] {
            let path = root + "/" + name
            try? FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
            paths.append(path)
        }
        return paths
    }

    /// The first wake's walk (without inotify, as `tail --once` walks) gives the files in a whole scan's
    /// order while holding at most one day's paths besides the files not laid out by day: 2 + 2 × 12, not
    /// the tree's 242.
    @Test(arguments: [false, true]) func theFirstWakeHoldsADaysPathsNotTheTrees(inotify: Bool) {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 10, perDay: 12)
        let watcher = DirectoryWatcher(paths: [root], inotify: inotify)
        var candidates = watcher.next(waitingUpTo: 1).candidates
        var handed: [String] = []
        var most = candidates.pathsHeld
        while let path = candidates.next() {
            handed.append(path)
            most = max(most, candidates.pathsHeld)
        }
        #expect(handed == InputEnumerator.scan([root]).inputs)
        #expect(Set(handed) == Set(all))
        #expect(most <= 2 + 2 * 12, "held \(most) paths at once")
    }

    /// A walk merged with paths named otherwise: delivery order, and a path both name comes once.
    @Test func aWalkMergedWithNamedPathsGivesEachPathOnceInDeliveryOrder() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 3, perDay: 5)
        var visited = Set<InputEnumerator.DirectoryIdentity>()
        let walk = LocalDeliveryWalk(directory: root, visited: &visited, beforeListing: nil)
        let named = [all[3], all[17], root + "/elsewhere_20260902T0300Z_N.json.gz"]
        let candidates = WakeCandidates(
            sources: [.walk(walk), .paths(InputEnumerator.sortedByDeliveryTime(named), next: 0)], merged: true)
        #expect(Array(candidates) == InputEnumerator.sortedByDeliveryTime(all + [named[2]]))
    }

    /// The stamps kept stay within two generations however many files are noted, the latest ones found;
    /// with `keepsAll` (every wake a walk of the whole tree) every one is kept.
    @Test func seenFilesKeepsTwoGenerationsUnlessEveryWakeWalks() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let stamp = try #require(FileStamp(path: dir.write("f", [1])))
        var seen = SeenFiles(generation: 16)
        for i in 0..<1000 { seen["f\(i)"] = stamp }
        #expect(seen.count <= 32)
        #expect(seen["f999"] == stamp && seen["f990"] == stamp)
        #expect(seen["f0"] == nil)
        var all = SeenFiles(generation: 16)
        all.keepsAll = true
        for i in 0..<1000 { all["f\(i)"] = stamp }
        #expect(all.count == 1000 && all["f0"] == stamp)
    }
}
