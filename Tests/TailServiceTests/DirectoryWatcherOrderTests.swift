import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import TailService

/// A wake holds every file landed up to a moment: a walk of a new directory lists files landed after
/// others whose events are still queued, and those come in the same wake, not the next (tail reads the
/// files of a wake in delivery order, and a later wake's after: a file read before one landed earlier
/// moves the event-time frontier past the earlier one's records, and where they join then depends on
/// how long the walk took).
struct DirectoryWatcherOrderTests {
    /// A file named as CloudTrail names its objects, delivered at `hhmm` on 2026-09-20.
    static func land(_ root: String, _ folder: String, _ hhmm: String) -> String {
        let dir = root + "/" + folder
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/111122223333_CloudTrail_us-east-1_20260920T\(hhmm)Z_X\(hhmm).json.gz"
        // Written beside the tree, then renamed into it (as a sync tool lands a file).
        let staging = root + "/../.staging-\(hhmm)"
        FileManager.default.createFile(atPath: staging, contents: Data("x".utf8))
        rename(staging, path)
        return path
    }

    /// The next wake of `watcher`, with two files landed while it lists the directory ending in
    /// `listing` (the first in `earlier`, at 02:00, the second in `listing`, at 03:00): the wake's files and
    /// the two landed.
    static func wake(
        _ watcher: DirectoryWatcher, root: String, landingIn earlier: String, whileListing listing: String
    ) -> (candidates: [String], landed: [String]) {
        var landedWhileWalking: [String] = []
        watcher.testBeforeListing = { directory in
            guard directory.hasSuffix("/" + listing), landedWhileWalking.isEmpty else { return }
            landedWhileWalking.append(land(root, earlier, "0200"))
            landedWhileWalking.append(land(root, listing, "0300"))
        }
        let candidates = Array(watcher.next(waitingUpTo: 5).candidates)
        return (candidates, landedWhileWalking)
    }

    /// What landed in a directory already watched while a new directory was being walked (c), before a
    /// file that landed in the new one (f2), is in the wake that holds f2.
    @Test func aFileLandedBeforeOneAWalkListsIsInTheSameWake() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: root + "/old", withIntermediateDirectories: true)
        let watcher = DirectoryWatcher(paths: [root], inotify: true)
        #expect(Array(watcher.next(waitingUpTo: 1).candidates).isEmpty)
        let f1 = Self.land(root, "new", "0100")
        let (first, landedWhileWalking) = Self.wake(watcher, root: root, landingIn: "old", whileListing: "new")
        #expect(landedWhileWalking.count == 2)
        #expect(first == [f1] + landedWhileWalking, "\(first)")
        watcher.testBeforeListing = nil
        #expect(watcher.next(waitingUpTo: 0.3).candidates.allSatisfy { first.contains($0) })
    }

    /// The same on the first wake, a walk of the whole tree: a file landed in a directory already listed
    /// before one landed in a directory listed after it is in the first wake.
    @Test func aFileLandedDuringTheFirstWalkBeforeOneItListsIsInTheFirstWake() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/in"
        let a0 = Self.land(root, "a", "0000")
        let b0 = Self.land(root, "b", "0001")
        let watcher = DirectoryWatcher(paths: [root], inotify: true)
        let (first, landedWhileWalking) = Self.wake(watcher, root: root, landingIn: "a", whileListing: "b")
        #expect(landedWhileWalking.count == 2)
        #expect(first == [a0, b0] + landedWhileWalking, "\(first)")
    }
}
