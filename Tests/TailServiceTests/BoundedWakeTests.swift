import Foundation
import Inputs
import TestSupport
import Testing
import UsageModel

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
            sources: [.walk(walk), .paths(InputEnumerator.sortedByDeliveryTime(named), next: 0)])
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

    /// A file whose name carries an earlier day, landing in a later day's folder while the first wake
    /// walks (after that folder was watched and listed): an event names it and the day's later listing
    /// finds it too. It comes once, at its delivery time (before, the walk handed it out again when its
    /// folder's day came: twice in one batch).
    @Test func aFileNamedByAnEventAndFoundByTheWalkComesOnce() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 3, perDay: 4)
        let folder = root + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/03"
        let late = folder + "/111122223333_CloudTrail_us-east-1_20260901T0500Z_late.json.gz"
        let watcher = DirectoryWatcher(paths: [root], inotify: true)
        // `notes` is listed after every folder of AWSLogs was watched and listed.
        watcher.testBeforeListing = { directory in
            if directory.hasSuffix("/notes") {
                _ = FileManager.default.createFile(atPath: late, contents: Data("x".utf8))
            }
        }
        let handed = Array(watcher.next(waitingUpTo: 1).candidates)
        #expect(handed.filter { $0 == late }.count == 1, "\(handed)")
        #expect(handed == InputEnumerator.sortedByDeliveryTime(all + [late]))
    }

    /// Day folders listed late in the first wake (as a backlog is read) leave out files that landed after
    /// the wake began: `later` lands in a day not listed yet after `earlier` landed in a day already
    /// listed; both come at the next wake, named by their events, in delivery order (before, `later` was
    /// read in the first wake and `earlier` after it).
    @Test func aDayListedLateLeavesOutWhatLandedAfterTheWakeBegan() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 3, perDay: 4)
        let watcher = DirectoryWatcher(paths: [root], inotify: true)
        var candidates = watcher.next(waitingUpTo: 1).candidates
        var first: [String] = []
        while let path = candidates.next() {
            first.append(path)
            if path.contains("/2026/09/02/") { break }
        }
        let account = root + "/AWSLogs/444455556666/CloudTrail/us-east-1/2026/09/"
        let earlier = account + "01/444455556666_CloudTrail_us-east-1_20260901T2350Z_earlier.json.gz"
        let later = account + "03/444455556666_CloudTrail_us-east-1_20260903T0001Z_later.json.gz"
        _ = FileManager.default.createFile(atPath: earlier, contents: Data("x".utf8))
        _ = FileManager.default.createFile(atPath: later, contents: Data("x".utf8))
        while let path = candidates.next() { first.append(path) }
        #expect(!first.contains(later) && !first.contains(earlier))
        #expect(Set(first) == Set(all))
        let second = Array(watcher.next(waitingUpTo: 1).candidates)
        #expect(second == [earlier, later])
    }

    /// A day's folder gone between the walk and its day's listing is named (as ingest names it), and the
    /// other days' files still come.
    @Test func aDaysFolderGoneBeforeItsListingIsNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 3, perDay: 2)
        var visited = Set<InputEnumerator.DirectoryIdentity>()
        let walk = LocalDeliveryWalk(directory: root, visited: &visited, beforeListing: nil)
        let gone = root + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02"
        try FileManager.default.removeItem(atPath: gone)
        var candidates = WakeCandidates(sources: [.walk(walk)])
        var handed: [String] = []
        while let path = candidates.next() { handed.append(path) }
        #expect(Set(handed) == Set(all.filter { !$0.hasPrefix(gone + "/") }))
        let problems = candidates.takeProblems()
        #expect(problems.map(\.path) == [gone])
        #expect(problems.first?.message.hasPrefix("cannot read directory again") == true)
        #expect(candidates.takeProblems().isEmpty)
    }

    /// What a wake left goes on merged with what the next wake names, in delivery order: a path named at
    /// every wake (a file looked at on each) is not kept twice however many wakes pass, and one handed
    /// out before and named again comes again.
    @Test func whatAWakeLeftGoesOnWithTheNextWakesPaths() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 3, perDay: 4)
        var visited = Set<InputEnumerator.DirectoryIdentity>()
        let walk = LocalDeliveryWalk(directory: root, visited: &visited, beforeListing: nil)
        var candidates = WakeCandidates(sources: [.walk(walk)])
        let order = InputEnumerator.sortedByDeliveryTime(all)
        var handed: [String] = []
        for _ in 0..<5 { handed.append(candidates.next()!) }
        let waiting = order[5]
        let named =
            root
            + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/111122223333_CloudTrail_us-east-1_20260902T0000Z_N.json.gz"
        let again = handed[4]
        for _ in 0..<50 {
            let later = InputEnumerator.sortedByDeliveryTime([again, waiting, named])
            candidates.resume(with: WakeCandidates(sources: [.paths(later, next: 0)]))
        }
        #expect(candidates.pathsHeld <= 2 + 2 * 4 + 3, "held \(candidates.pathsHeld)")
        // Handed out again (named again), then named once more at the next wake: it comes a third time.
        handed.append(candidates.next()!)
        candidates.resume(with: WakeCandidates(sources: [.paths([again], next: 0)]))
        while let path = candidates.next() { handed.append(path) }
        let rest = InputEnumerator.sortedByDeliveryTime(Array(order[5...]) + [named])
        #expect(handed == Array(order[0..<5]) + [again, again] + rest)
    }

    /// The names a wake goes on with are let go once the walk has passed their day for good: a path named
    /// at each of 100 wakes in a day already handed out is not kept 100 times over (before, every name of
    /// every wake was kept while an unfinished wake went on).
    @Test func namesTheWalkHasPassedAreLetGo() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        _ = Self.tree(root, days: 3, perDay: 4)
        var visited = Set<InputEnumerator.DirectoryIdentity>()
        let walk = LocalDeliveryWalk(directory: root, visited: &visited, beforeListing: nil)
        var candidates = WakeCandidates(sources: [.walk(walk)])
        while let path = candidates.next(), !path.contains("/2026/09/03/") {}
        let folder = root + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/"
        for i in 0..<100 {
            let name = folder + "111122223333_CloudTrail_us-east-1_20260901T0000Z_n\(i).json.gz"
            candidates.resume(with: WakeCandidates(sources: [.paths([name], next: 0)]))
            #expect(candidates.next() == name)
        }
        #expect(candidates.namedCount <= 1, "\(candidates.namedCount) names kept")
    }

    /// A day's listing that cannot read a file's status (its change time asked: `tail`'s walk) names the
    /// file, as the walk's other failures are named, instead of skipping it without a word. Not as root,
    /// who reads every folder.
    @Test(.enabled(if: geteuid() != 0, "root reads every folder"))
    func aFileWhoseStatusCannotBeReadIsNamed() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let all = Self.tree(root, days: 2, perDay: 2)
        var visited = Set<InputEnumerator.DirectoryIdentity>()
        var walk = LocalDeliveryWalk(directory: root, visited: &visited, beforeListing: nil)
        walk.changedUpTo = .max
        // Listable, not searchable: its names are read, their status is not.
        let folder = root + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02"
        chmod(folder, 0o644)
        defer { chmod(folder, 0o755) }
        var handed: [String] = []
        var problems: [Diagnostic] = []
        while let path = walk.next(report: { problems.append($0) }) { handed.append(path) }
        let unreadable = all.filter { $0.hasPrefix(folder + "/") }
        #expect(Set(handed) == Set(all).subtracting(unreadable))
        #expect(problems.map(\.path).sorted() == unreadable.sorted())
        #expect(problems.allSatisfy { $0.message.hasPrefix("cannot read the file's status again: permission denied") })
    }
}
